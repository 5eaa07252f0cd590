//! Templates, resources, parameters and outputs: built by the compiler, rendered by
//! [`Template::to_value`], and read back by [`Template::parse`] (its inverse for everything
//! sandboxc writes).

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::render::Format;
use super::{CfnError, Expr, ExprMap, LogicalId, Scope};

/// The type name and properties of one resource type; implemented by every typed property
/// struct in [`super::resources`].
pub trait ResourceProperties {
    /// The CloudFormation resource type, such as `AWS::S3::Bucket`.
    const TYPE: &'static str;

    /// The `Properties` mapping: every property that is set, by its CloudFormation name.
    fn properties(&self) -> ExprMap;

    /// [`ResourceProperties::properties`], the values moved out instead of copied.
    fn into_properties(self) -> ExprMap
    where
        Self: Sized,
    {
        self.properties()
    }
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values (CloudFormation user guide, "DeletionPolicy
/// attribute").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Policy {
    /// Keep the physical resource when CloudFormation deletes or replaces it.
    Retain,
    /// Keep it, except when the stack operation that created it rolls back.
    RetainExceptOnCreate,
    /// Keep a snapshot (types that support snapshots), then delete it.
    Snapshot,
    /// Delete it.
    Delete,
}

impl Policy {
    /// Every value, as CloudFormation spells them.
    pub const ALL: [Policy; 4] = [Self::Retain, Self::RetainExceptOnCreate, Self::Snapshot, Self::Delete];

    /// The value as written: `Retain`...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Retain => "Retain",
            Self::RetainExceptOnCreate => "RetainExceptOnCreate",
            Self::Snapshot => "Snapshot",
            Self::Delete => "Delete",
        }
    }

    /// Whether the physical resource outlives its removal from the stack (`Retain*`).
    #[must_use]
    pub fn retains(self) -> bool {
        matches!(self, Self::Retain | Self::RetainExceptOnCreate)
    }
}

/// The resource attributes beside `Type` and `Properties` (CloudFormation user guide,
/// "Resource attribute reference").
pub const RESOURCE_ATTRIBUTES: [&str; 7] =
    ["Condition", "CreationPolicy", "DeletionPolicy", "DependsOn", "Metadata", "UpdatePolicy", "UpdateReplacePolicy"];

/// One resource of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Resource type such as `AWS::S3::Bucket`.
    pub kind: String,
    /// `Properties` by name.
    pub properties: ExprMap,
    /// Explicit dependencies (only where no `Ref`/`GetAtt` already orders the resources);
    /// rendered sorted, without duplicates.
    pub depends_on: Vec<LogicalId>,
    /// Condition name that must hold for the resource to exist.
    pub condition: Option<String>,
    /// `Metadata`, such as cfn-lint and checkov suppressions with their reasons.
    pub metadata: ExprMap,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<Policy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<Policy>,
    /// `CreationPolicy`, such as `{"StartFleet": true}`.
    pub creation_policy: Option<Expr>,
    /// `UpdatePolicy`.
    pub update_policy: Option<Expr>,
}

impl Resource {
    /// A resource from a typed property struct.
    pub fn new<P: ResourceProperties>(props: &P) -> Self {
        Self::of_type(P::TYPE, props.properties())
    }

    /// [`Resource::new`], taking the property struct's values instead of copying them.
    pub fn from_properties<P: ResourceProperties>(props: P) -> Self {
        Self::of_type(P::TYPE, props.into_properties())
    }

    /// A resource of `kind` with `properties` and no attributes.
    pub fn of_type(kind: impl Into<String>, properties: ExprMap) -> Self {
        Self {
            kind: kind.into(),
            properties,
            depends_on: Vec::new(),
            condition: None,
            metadata: ExprMap::new(),
            deletion_policy: None,
            update_replace_policy: None,
            creation_policy: None,
            update_policy: None,
        }
    }

    /// Sets `DeletionPolicy` and `UpdateReplacePolicy` to `Retain`: the resource outlives the stack.
    #[must_use]
    pub fn retain(mut self) -> Self {
        self.deletion_policy = Some(Policy::Retain);
        self.update_replace_policy = Some(Policy::Retain);
        self
    }

    /// Sets both policies to `Delete`, stated explicitly.
    #[must_use]
    pub fn delete(mut self) -> Self {
        self.deletion_policy = Some(Policy::Delete);
        self.update_replace_policy = Some(Policy::Delete);
        self
    }

    /// Sets `DeletionPolicy` to `on_delete` and `UpdateReplacePolicy` to `on_replace`.
    #[must_use]
    pub fn with_policies(mut self, on_delete: Policy, on_replace: Policy) -> Self {
        self.deletion_policy = Some(on_delete);
        self.update_replace_policy = Some(on_replace);
        self
    }

    /// Creates the resource only when the template condition `name` holds (`Condition`).
    #[must_use]
    pub fn when(mut self, name: &str) -> Self {
        self.condition = Some(name.to_string());
        self
    }

    /// Adds an explicit dependency.
    #[must_use]
    pub fn depends_on(mut self, id: &LogicalId) -> Self {
        self.depends_on.push(id.clone());
        self
    }

    /// Suppresses a checkov check on this resource with a one-line reason.
    #[must_use]
    pub fn skip_checkov(mut self, id: &str, reason: &str) -> Self {
        let entry = self.metadata.get_or_insert_with("checkov", || Expr::map([("skip", Expr::List(Vec::new()))]));
        if let Some(Expr::List(list)) = map_entry(entry, "skip") {
            list.push(Expr::map([("comment", Expr::from(reason)), ("id", Expr::from(id))]));
        }
        self
    }

    /// Suppresses a cfn-lint rule on this resource; `reason` is kept beside it in `Metadata`.
    #[must_use]
    pub fn ignore_cfn_lint(mut self, rule: &str, reason: &str) -> Self {
        let entry = self.metadata.get_or_insert_with("cfn-lint", || {
            Expr::map([("config", Expr::map([("ignore_checks", Expr::List(Vec::new()))]))])
        });
        if let Some(Expr::List(list)) = map_entry(entry, "config").and_then(|c| map_entry(c, "ignore_checks")) {
            list.push(Expr::from(rule));
        }
        let reasons = self
            .metadata
            .get_or_insert_with("sandboxc", || Expr::map([("cfn-lint-reasons", Expr::Map(ExprMap::new()))]));
        if let Some(Expr::Map(map)) = map_entry(reasons, "cfn-lint-reasons") {
            map.insert(rule.into(), Expr::from(reason));
        }
        self
    }

    /// Writes a note for reviewers into `Metadata.sandboxc.<key>`: why a control that a rule set
    /// expects is absent (an endpoint policy a service does not support...).
    #[must_use]
    pub fn note(mut self, key: &str, reason: &str) -> Self {
        let entry = self.metadata.get_or_insert_with("sandboxc", || Expr::Map(ExprMap::new()));
        if let Expr::Map(map) = entry {
            map.insert(key.into(), Expr::from(reason));
        }
        self
    }

    /// A resource attribute (one of [`RESOURCE_ATTRIBUTES`]) as the template writes it, if set.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<Expr> {
        match name {
            "Condition" => self.condition.as_deref().map(Expr::from),
            "CreationPolicy" => self.creation_policy.clone(),
            "DeletionPolicy" => self.deletion_policy.map(|p| Expr::from(p.name())),
            "DependsOn" if !self.depends_on.is_empty() => {
                let mut deps: Vec<&str> = self.depends_on.iter().map(LogicalId::as_str).collect();
                deps.sort_unstable();
                deps.dedup();
                Some(Expr::strs(deps))
            }
            "Metadata" if !self.metadata.is_empty() => Some(Expr::Map(self.metadata.clone())),
            "UpdatePolicy" => self.update_policy.clone(),
            "UpdateReplacePolicy" => self.update_replace_policy.map(|p| Expr::from(p.name())),
            _ => None,
        }
    }

    /// The resource as the template writes it.
    #[must_use]
    pub fn to_expr(&self) -> Expr {
        let mut m = ExprMap::new();
        m.insert("Type".to_string(), Expr::from(self.kind.as_str()));
        if !self.properties.is_empty() {
            m.insert("Properties".to_string(), Expr::Map(self.properties.clone()));
        }
        for name in RESOURCE_ATTRIBUTES {
            if let Some(v) = self.attribute(name) {
                m.insert(name.to_string(), v);
            }
        }
        Expr::Map(m)
    }

    fn parse(at: &str, value: &Value, scope: &Scope) -> Result<Self, CfnError> {
        let m = object(at, value, "a mapping with Type and Properties")?;
        allow_keys(at, m, &["Type", "Properties"], &RESOURCE_ATTRIBUTES)?;
        let kind = match m.get("Type") {
            Some(Value::String(t)) => t.clone(),
            _ => {
                return Err(malformed(format!("{at}.Type"), "a resource needs Type, a string such as AWS::S3::Bucket"))
            }
        };
        let properties = match m.get("Properties") {
            None | Some(Value::Null) => ExprMap::new(),
            Some(p) => parse_map(&format!("{at}.Properties"), p, scope)?,
        };
        let depends_on = match m.get("DependsOn") {
            None => Vec::new(),
            Some(Value::String(id)) => vec![logical_id(&format!("{at}.DependsOn"), id)?],
            Some(Value::Array(ids)) => ids
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::String(id) => logical_id(&format!("{at}.DependsOn[{i}]"), id),
                    _ => Err(malformed(format!("{at}.DependsOn[{i}]"), "DependsOn lists logical IDs (strings)")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => {
                return Err(malformed(format!("{at}.DependsOn"), "DependsOn is a logical ID or a list of logical IDs"))
            }
        };
        let policy = |name: &str| -> Result<Option<Policy>, CfnError> {
            match m.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Policy::ALL.into_iter().find(|p| p.name() == s).map(Some).ok_or_else(|| {
                    malformed(
                        format!("{at}.{name}"),
                        format!("{s:?} is not one of Delete, Retain, RetainExceptOnCreate, Snapshot"),
                    )
                }),
                Some(_) => Err(malformed(
                    format!("{at}.{name}"),
                    "expected one of Delete, Retain, RetainExceptOnCreate, Snapshot",
                )),
            }
        };
        Ok(Self {
            kind,
            properties,
            depends_on,
            condition: optional_string(at, m, "Condition")?,
            metadata: match m.get("Metadata") {
                None => ExprMap::new(),
                Some(v) => parse_map(&format!("{at}.Metadata"), v, scope)?,
            },
            deletion_policy: policy("DeletionPolicy")?,
            update_replace_policy: policy("UpdateReplacePolicy")?,
            creation_policy: m.get("CreationPolicy").map(|v| Expr::parse(v, scope)),
            update_policy: m.get("UpdatePolicy").map(|v| Expr::parse(v, scope)),
        })
    }
}

fn map_entry<'e>(e: &'e mut Expr, key: &str) -> Option<&'e mut Expr> {
    match e {
        Expr::Map(m) => m.get_mut(key),
        _ => None,
    }
}

/// A template parameter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parameter {
    /// Parameter type: `String`, `CommaDelimitedList`, `List<AWS::EC2::Subnet::Id>`...
    pub kind: String,
    /// What the parameter carries (left out when empty).
    pub description: String,
    /// Allowed pattern, if any.
    pub allowed_pattern: Option<String>,
    /// Default value, if any.
    pub default: Option<Expr>,
    /// The other declaration keys as written: `AllowedValues`, `ConstraintDescription`,
    /// `MaxLength`, `MaxValue`, `MinLength`, `MinValue`, `NoEcho`.
    pub other: ExprMap,
}

/// The declaration keys of [`Parameter::other`] (CloudFormation user guide, "Parameters").
pub const OTHER_PARAMETER_KEYS: [&str; 7] =
    ["AllowedValues", "ConstraintDescription", "MaxLength", "MaxValue", "MinLength", "MinValue", "NoEcho"];

impl Parameter {
    /// The declaration as the template writes it.
    #[must_use]
    pub fn to_expr(&self) -> Expr {
        let mut m = self.other.clone();
        m.insert("Type".into(), Expr::from(self.kind.as_str()));
        if !self.description.is_empty() {
            m.insert("Description".into(), Expr::from(self.description.as_str()));
        }
        if let Some(p) = &self.allowed_pattern {
            m.insert("AllowedPattern".into(), Expr::from(p.as_str()));
        }
        if let Some(d) = &self.default {
            m.insert("Default".into(), d.clone());
        }
        Expr::Map(m)
    }

    fn parse(at: &str, value: &Value, scope: &Scope) -> Result<Self, CfnError> {
        let m = object(at, value, "a mapping with Type")?;
        allow_keys(at, m, &["Type", "Description", "AllowedPattern", "Default"], &OTHER_PARAMETER_KEYS)?;
        let kind = optional_string(at, m, "Type")?
            .ok_or_else(|| malformed(format!("{at}.Type"), "a parameter needs Type, such as String"))?;
        Ok(Self {
            kind,
            description: optional_string(at, m, "Description")?.unwrap_or_default(),
            allowed_pattern: optional_string(at, m, "AllowedPattern")?,
            default: m.get("Default").map(|v| Expr::parse(v, scope)),
            other: OTHER_PARAMETER_KEYS
                .iter()
                .filter_map(|k| m.get(*k).map(|v| ((*k).to_string(), Expr::parse(v, scope))))
                .collect(),
        })
    }
}

/// A template output.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// What the output tells (left out when empty).
    pub description: String,
    /// The value.
    pub value: Expr,
    /// Condition under which the output exists.
    pub condition: Option<String>,
    /// `Export`: `{"Name": ...}` for a cross-stack export.
    pub export: Option<Expr>,
}

impl Output {
    /// An output with a description and a value, no condition, no export.
    pub fn new(description: impl Into<String>, value: Expr) -> Self {
        Self { description: description.into(), value, condition: None, export: None }
    }

    /// The output as the template writes it.
    #[must_use]
    pub fn to_expr(&self) -> Expr {
        let mut m = ExprMap::new();
        if !self.description.is_empty() {
            m.insert("Description".to_string(), Expr::from(self.description.as_str()));
        }
        m.insert("Value".to_string(), self.value.clone());
        if let Some(c) = &self.condition {
            m.insert("Condition".to_string(), Expr::from(c.as_str()));
        }
        if let Some(e) = &self.export {
            m.insert("Export".to_string(), e.clone());
        }
        Expr::Map(m)
    }

    fn parse(at: &str, value: &Value, scope: &Scope) -> Result<Self, CfnError> {
        let m = object(at, value, "a mapping with Value")?;
        allow_keys(at, m, &["Description", "Value", "Condition", "Export"], &[])?;
        let value = m.get("Value").ok_or_else(|| malformed(format!("{at}.Value"), "an output needs a Value"))?;
        Ok(Self {
            description: optional_string(at, m, "Description")?.unwrap_or_default(),
            value: Expr::parse(value, scope),
            condition: optional_string(at, m, "Condition")?,
            export: m.get("Export").map(|v| Expr::parse(v, scope)),
        })
    }
}

/// A whole CloudFormation template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    /// `Description` (left out when empty).
    pub description: String,
    /// `Metadata` of the template.
    pub metadata: Option<Expr>,
    /// `Transform`: macros such as `AWS::Serverless-2016-10-31`.
    pub transform: Option<Expr>,
    /// `Mappings`.
    pub mappings: Option<Expr>,
    /// `Rules`.
    pub rules: Option<Expr>,
    /// `Parameters` by name.
    pub parameters: BTreeMap<String, Parameter>,
    /// `Conditions` by name.
    pub conditions: ExprMap,
    /// `Resources` by logical ID.
    pub resources: BTreeMap<LogicalId, Resource>,
    /// `Outputs` by name.
    pub outputs: BTreeMap<String, Output>,
    /// Sections a declared `Transform` reads, as written: `Hooks` (CodeDeploy blue/green),
    /// `Globals` (AWS SAM)... Only a template with a `Transform` may have them.
    pub transform_sections: ExprMap,
}

/// The template format version every template declares.
pub const FORMAT_VERSION: &str = "2010-09-09";

/// The top-level sections of a template (CloudFormation user guide, "Template anatomy").
pub const SECTIONS: [&str; 10] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

impl Template {
    /// An empty template with a description.
    pub fn new(description: impl Into<String>) -> Self {
        Self { description: description.into(), ..Self::default() }
    }

    /// Adds a resource.
    ///
    /// # Errors
    /// [`CfnError::DuplicateLogicalId`] when the logical ID is already taken.
    pub fn add(&mut self, id: &LogicalId, resource: Resource) -> Result<(), CfnError> {
        if self.resources.contains_key(id) {
            return Err(CfnError::DuplicateLogicalId(id.clone()));
        }
        self.resources.insert(id.clone(), resource);
        Ok(())
    }

    /// The names this template declares: what its `Ref`s can name.
    #[must_use]
    pub fn scope(&self) -> Scope {
        Scope::new(self.resources.keys().map(LogicalId::as_str), self.parameters.keys().map(String::as_str))
    }

    /// A resource by logical ID (given as text).
    #[must_use]
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        LogicalId::parse(id).and_then(|id| self.resources.get(&id))
    }

    /// The template as the file writes it.
    #[must_use]
    pub fn to_expr(&self) -> Expr {
        let mut m = ExprMap::new();
        m.insert("AWSTemplateFormatVersion".to_string(), Expr::from(FORMAT_VERSION));
        if !self.description.is_empty() {
            m.insert("Description".to_string(), Expr::from(self.description.as_str()));
        }
        for (key, section) in [
            ("Metadata", &self.metadata),
            ("Transform", &self.transform),
            ("Mappings", &self.mappings),
            ("Rules", &self.rules),
        ] {
            if let Some(v) = section {
                m.insert(key.to_string(), v.clone());
            }
        }
        if !self.parameters.is_empty() {
            let p = self.parameters.iter().map(|(k, p)| (k.clone(), p.to_expr())).collect();
            m.insert("Parameters".to_string(), Expr::Map(p));
        }
        if !self.conditions.is_empty() {
            m.insert("Conditions".to_string(), Expr::Map(self.conditions.clone()));
        }
        let r = self.resources.iter().map(|(k, r)| (k.to_string(), r.to_expr())).collect();
        m.insert("Resources".to_string(), Expr::Map(r));
        if !self.outputs.is_empty() {
            let o = self.outputs.iter().map(|(k, o)| (k.clone(), o.to_expr())).collect();
            m.insert("Outputs".to_string(), Expr::Map(o));
        }
        for (k, v) in &self.transform_sections {
            m.insert(k.clone(), v.clone());
        }
        Expr::Map(m)
    }

    /// The template as a JSON value (the renderer decides the key order: [`super::render::Format::render`]).
    #[must_use]
    pub fn to_value(&self) -> Value {
        self.to_expr().to_value()
    }

    /// Reads a template: the inverse of [`Template::to_value`] for every template sandboxc
    /// writes. `Ref`s and `${...}` are classified with the template's own resources and
    /// parameters; a name that is neither stays [`super::Target::Unresolved`] for
    /// [`super::check::check`] to report.
    ///
    /// # Errors
    /// [`CfnError::NotATemplate`] for anything but a mapping; [`CfnError::Malformed`] for a
    /// section, resource, parameter or output that does not have the shape CloudFormation
    /// requires (unknown sections without a `Transform`, unknown resource attributes, a
    /// resource without `Type`, a malformed logical ID...).
    pub fn parse(value: &Value) -> Result<Self, CfnError> {
        let m = value.as_object().ok_or(CfnError::NotATemplate)?;
        if !m.contains_key("Transform") {
            allow_keys("", m, &SECTIONS, &[])?;
        }
        match m.get("AWSTemplateFormatVersion") {
            None => {}
            Some(Value::String(v)) if v == FORMAT_VERSION => {}
            Some(_) => {
                return Err(malformed(
                    "AWSTemplateFormatVersion",
                    format!("the only format version is {FORMAT_VERSION}"),
                ))
            }
        }
        let section = |key: &str| -> Result<Option<&Map<String, Value>>, CfnError> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => object(key, v, "a mapping").map(Some),
            }
        };
        let resources = section("Resources")?;
        let parameters = section("Parameters")?;
        let mut ids = Vec::new();
        for id in resources.into_iter().flat_map(Map::keys) {
            ids.push(logical_id("Resources", id)?);
        }
        let scope = Scope::new(ids.iter().map(LogicalId::as_str), parameters.into_iter().flat_map(Map::keys));
        let mut t = Self {
            description: optional_string("", m, "Description")?.unwrap_or_default(),
            metadata: m.get("Metadata").map(|v| Expr::parse(v, &scope)),
            transform: m.get("Transform").map(|v| Expr::parse(v, &scope)),
            mappings: m.get("Mappings").map(|v| Expr::parse(v, &scope)),
            rules: m.get("Rules").map(|v| Expr::parse(v, &scope)),
            transform_sections: m
                .iter()
                .filter(|(k, _)| !SECTIONS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), Expr::parse(v, &scope)))
                .collect(),
            ..Self::default()
        };
        for (name, p) in parameters.into_iter().flatten() {
            t.parameters.insert(name.clone(), Parameter::parse(&format!("Parameters.{name}"), p, &scope)?);
        }
        for (name, c) in section("Conditions")?.into_iter().flatten() {
            t.conditions.insert(name.clone(), Expr::parse(c, &scope));
        }
        for (id, (_, r)) in ids.into_iter().zip(resources.into_iter().flatten()) {
            let resource = Resource::parse(&format!("Resources.{id}"), r, &scope)?;
            t.resources.insert(id, resource);
        }
        for (name, o) in section("Outputs")?.into_iter().flatten() {
            t.outputs.insert(name.clone(), Output::parse(&format!("Outputs.{name}"), o, &scope)?);
        }
        Ok(t)
    }

    /// Reads a template from its text: JSON, or YAML (long-form `Fn::` keys or short-form
    /// `!Ref` tags).
    ///
    /// # Errors
    /// [`CfnError::Syntax`] when the text is not JSON (YAML), else as [`Template::parse`].
    pub fn from_text(text: &str, format: Format) -> Result<Self, CfnError> {
        let value = match format {
            Format::Json => serde_json::from_str::<Value>(text)
                .map_err(|e| CfnError::Syntax { format: "JSON", message: e.to_string() })?,
            Format::Yaml => crate::blueprint::yaml::parse_tagged(text)
                .map(short_forms_to_long)
                .map_err(|message| CfnError::Syntax { format: "YAML", message })?,
        };
        Self::parse(&value)
    }
}

impl Serialize for Template {
    /// The template's JSON ([`Template::to_value`]).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

/// Short-form tags, read as `{"!Ref": X}` (`!Ref X`), `{"!Sub": ...}`, `{"!GetAtt": "A.B"}`, as
/// the long-form mappings they stand for: `Ref`, `Condition`, else `Fn::<Name>` (CloudFormation
/// user guide, "Intrinsic function reference").
fn short_forms_to_long(v: Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.into_iter().map(short_forms_to_long).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| {
                    let key = match k.strip_prefix('!') {
                        Some(name @ ("Ref" | "Condition")) => name.to_string(),
                        Some(name) => format!("Fn::{name}"),
                        None => k,
                    };
                    (key, short_forms_to_long(v))
                })
                .collect(),
        ),
        other => other,
    }
}

fn malformed(at: impl Into<String>, problem: impl Into<String>) -> CfnError {
    CfnError::Malformed { at: at.into(), problem: problem.into() }
}

fn object<'v>(at: &str, v: &'v Value, what: &str) -> Result<&'v Map<String, Value>, CfnError> {
    v.as_object().ok_or_else(|| malformed(at, format!("expected {what}")))
}

fn allow_keys(at: &str, m: &Map<String, Value>, keys: &[&str], more: &[&str]) -> Result<(), CfnError> {
    for k in m.keys() {
        if !keys.contains(&k.as_str()) && !more.contains(&k.as_str()) {
            let at = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
            let allowed: Vec<&str> = keys.iter().chain(more).copied().collect();
            return Err(malformed(at, format!("unknown key {k:?} (allowed: {})", allowed.join(", "))));
        }
    }
    Ok(())
}

fn optional_string(at: &str, m: &Map<String, Value>, key: &str) -> Result<Option<String>, CfnError> {
    match m.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => {
            Err(malformed(if at.is_empty() { key.to_string() } else { format!("{at}.{key}") }, "expected a string"))
        }
    }
}

fn logical_id(at: &str, id: &str) -> Result<LogicalId, CfnError> {
    LogicalId::parse(id)
        .ok_or_else(|| malformed(at, format!("logical ID {id:?} is not 1..255 ASCII letters and digits")))
}

fn parse_map(at: &str, v: &Value, scope: &Scope) -> Result<ExprMap, CfnError> {
    Ok(object(at, v, "a mapping")?.iter().map(|(k, v)| (k.clone(), Expr::parse(v, scope))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Target;
    use serde_json::json;

    fn template() -> Value {
        json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "d",
            "Parameters": {"Env": {"Type": "String", "Default": 5, "NoEcho": true}},
            "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
            "Mappings": {"M": {"K": {"V": "x"}}},
            "Resources": {
                "Bucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "RetainExceptOnCreate", "Condition": "IsProd",
                    "Properties": {"BucketName": {"Fn::Sub": "${Env}-${AWS::Region}"}},
                    "Metadata": {"k": [1, 2.5]}},
                "Policy": {"Type": "AWS::S3::BucketPolicy", "DependsOn": ["Bucket"], "UpdatePolicy": {"x": 1},
                    "Properties": {"Bucket": {"Ref": "Bucket"}, "X": {"Fn::GetAtt": ["Bucket", "Arn"]}, "Y": {"Ref": "Nope"}}}
            },
            "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}, "Export": {"Name": "n"}, "Condition": "IsProd"}}
        })
    }

    #[test]
    fn parse_is_the_inverse_of_to_value() {
        let v = template();
        let t = Template::parse(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_value(), v);
        let props = &t.resources[&LogicalId::new("Policy")].properties;
        assert_eq!(props["Bucket"], Expr::resource(&LogicalId::new("Bucket")));
        assert_eq!(props["Y"], Expr::Ref(Target::Unresolved("Nope".into())));
        assert_eq!(Template::parse(&t.to_value()), Ok(t));
    }

    #[test]
    fn transforms_may_add_sections() {
        let v = json!({"AWSTemplateFormatVersion": "2010-09-09", "Transform": "AWS::Serverless-2016-10-31",
            "Globals": {"Function": {"Timeout": 3}}, "Resources": {}});
        let t = Template::parse(&v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.to_value(), v);
        let mut plain = v;
        plain.as_object_mut().map(|m| m.remove("Transform"));
        assert!(Template::parse(&plain).is_err_and(|e| e.to_string().contains("Globals")));
    }

    #[test]
    fn yaml_short_forms_read_as_long_forms() {
        let yaml = "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      A: !Ref B\n      C: !GetAtt B.Arn\n      D: !Sub '${B}-x'\n      E: !Select [0, !GetAZs '']\n";
        let t = Template::from_text(yaml, Format::Yaml).unwrap_or_else(|e| panic!("{e}"));
        let json = json!({"Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {
            "A": {"Ref": "B"}, "C": {"Fn::GetAtt": ["B", "Arn"]}, "D": {"Fn::Sub": "${B}-x"}, "E": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}}}}});
        assert_eq!(Ok(t), Template::parse(&json));
    }

    #[test]
    fn shapes_cloudformation_rejects_are_errors() {
        let bad = [
            (json!([]), "not a template"),
            (json!({"Resourcez": {}}), "unknown key \"Resourcez\""),
            (json!({"Resources": {"bad-id": {"Type": "X"}}}), "bad-id"),
            (json!({"Resources": {"A": {"Properties": {}}}}), "Resources.A.Type"),
            (json!({"Resources": {"A": {"Type": "X", "DeletionPolicy": "Keep"}}}), "Resources.A.DeletionPolicy"),
            (json!({"Resources": {"A": {"Type": "X", "DependsOn": 3}}}), "Resources.A.DependsOn"),
            (json!({"Resources": {"A": {"Type": "X", "Version": "1"}}}), "Resources.A.Version"),
            (json!({"Parameters": {"P": {"Default": "x"}}}), "Parameters.P.Type"),
            (json!({"Outputs": {"O": {"Description": "x"}}}), "Outputs.O.Value"),
            (json!({"AWSTemplateFormatVersion": "2020-01-01"}), "AWSTemplateFormatVersion"),
        ];
        for (v, needle) in bad {
            let e = Template::parse(&v).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(needle), "{v}: {e}");
        }
        assert!(matches!(Template::from_text("{", Format::Json), Err(CfnError::Syntax { format: "JSON", .. })));
    }

    #[test]
    fn duplicate_logical_ids_are_refused() {
        let mut t = Template::new("t");
        let id = LogicalId::new("A");
        assert!(t.add(&id, Resource::of_type("X", ExprMap::new())).is_ok());
        assert_eq!(t.add(&id, Resource::of_type("Y", ExprMap::new())), Err(CfnError::DuplicateLogicalId(id)));
    }
}
