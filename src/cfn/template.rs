//! Templates, resources, parameters and outputs.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Expr, LogicalId};

/// The type name and properties of one resource type; implemented by every typed property
/// struct in [`super::resources`].
pub trait ResourceProperties: Serialize {
    /// The CloudFormation resource type, such as `AWS::S3::Bucket`.
    const TYPE: &'static str;
}

/// `DeletionPolicy` / `UpdateReplacePolicy` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Policy {
    /// Keep the physical resource when CloudFormation deletes or replaces it.
    Retain,
    /// Delete it.
    Delete,
}

/// One resource of a template.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Resource type such as `AWS::S3::Bucket`.
    pub kind: String,
    /// Properties, as serialized from the typed property struct.
    pub properties: Value,
    /// Explicit dependencies (only where no `Ref`/`GetAtt` already orders the resources).
    pub depends_on: Vec<LogicalId>,
    /// Condition name that must hold for the resource to exist.
    pub condition: Option<String>,
    /// `Metadata`, such as cfn-lint and checkov suppressions with their reasons.
    pub metadata: BTreeMap<String, Value>,
    /// `DeletionPolicy`.
    pub deletion_policy: Option<Policy>,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Option<Policy>,
    /// `CreationPolicy`, such as `{"StartFleet": true}`.
    pub creation_policy: Option<Value>,
}

impl Resource {
    /// A resource from a typed property struct.
    pub fn new<P: ResourceProperties>(props: &P) -> Self {
        Self {
            kind: P::TYPE.to_string(),
            properties: serde_json::to_value(props).unwrap_or(Value::Null),
            depends_on: Vec::new(),
            condition: None,
            metadata: BTreeMap::new(),
            deletion_policy: None,
            update_replace_policy: None,
            creation_policy: None,
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
        let entry = self.metadata.entry("checkov".into()).or_insert_with(|| serde_json::json!({"skip": []}));
        if let Some(list) = entry.get_mut("skip").and_then(Value::as_array_mut) {
            list.push(serde_json::json!({"id": id, "comment": reason}));
        }
        self
    }

    /// Suppresses a cfn-lint rule on this resource; `reason` is kept beside it in `Metadata`.
    #[must_use]
    pub fn ignore_cfn_lint(mut self, rule: &str, reason: &str) -> Self {
        let entry = self
            .metadata
            .entry("cfn-lint".into())
            .or_insert_with(|| serde_json::json!({"config": {"ignore_checks": []}}));
        if let Some(list) = entry.pointer_mut("/config/ignore_checks").and_then(Value::as_array_mut) {
            list.push(Value::from(rule));
        }
        let reasons =
            self.metadata.entry("sandboxc".into()).or_insert_with(|| serde_json::json!({"cfn-lint-reasons": {}}));
        if let Some(map) = reasons.get_mut("cfn-lint-reasons").and_then(Value::as_object_mut) {
            map.insert(rule.into(), Value::from(reason));
        }
        self
    }

    fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("Type".into(), Value::from(self.kind.clone()));
        if !self.properties.as_object().is_some_and(Map::is_empty) && !self.properties.is_null() {
            m.insert("Properties".into(), self.properties.clone());
        }
        if !self.depends_on.is_empty() {
            let mut deps: Vec<&str> = self.depends_on.iter().map(LogicalId::as_str).collect();
            deps.sort_unstable();
            deps.dedup();
            m.insert("DependsOn".into(), Value::from(deps));
        }
        if let Some(c) = &self.condition {
            m.insert("Condition".into(), Value::from(c.clone()));
        }
        if !self.metadata.is_empty() {
            m.insert("Metadata".into(), serde_json::to_value(&self.metadata).unwrap_or(Value::Null));
        }
        if let Some(p) = self.deletion_policy {
            m.insert("DeletionPolicy".into(), serde_json::to_value(p).unwrap_or(Value::Null));
        }
        if let Some(p) = self.update_replace_policy {
            m.insert("UpdateReplacePolicy".into(), serde_json::to_value(p).unwrap_or(Value::Null));
        }
        if let Some(p) = &self.creation_policy {
            m.insert("CreationPolicy".into(), p.clone());
        }
        Value::Object(m)
    }
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    /// Parameter type: `String`, `CommaDelimitedList`, `List<AWS::EC2::Subnet::Id>`...
    #[serde(rename = "Type")]
    pub kind: String,
    /// What the parameter carries.
    pub description: String,
    /// Allowed pattern, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_pattern: Option<String>,
    /// Default value, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
}

/// A template output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    /// What the output tells.
    pub description: String,
    /// The value.
    pub value: Expr,
    /// Condition under which the output exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// A whole CloudFormation template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    /// `Description`.
    pub description: String,
    /// `Parameters` by name.
    pub parameters: BTreeMap<String, Parameter>,
    /// `Conditions` by name.
    pub conditions: BTreeMap<String, Expr>,
    /// `Resources` by logical ID.
    pub resources: BTreeMap<LogicalId, Resource>,
    /// `Outputs` by name.
    pub outputs: BTreeMap<String, Output>,
}

/// The template format version every template declares.
pub const FORMAT_VERSION: &str = "2010-09-09";

impl Template {
    /// An empty template with a description.
    pub fn new(description: impl Into<String>) -> Self {
        Self { description: description.into(), ..Self::default() }
    }

    /// Adds a resource.
    ///
    /// # Errors
    /// The logical ID when it is already taken (a compiler bug, reported as an internal error).
    pub fn add(&mut self, id: &LogicalId, resource: Resource) -> Result<(), crate::compile::CompileError> {
        if self.resources.insert(id.clone(), resource).is_some() {
            return Err(crate::compile::CompileError::Internal(format!("logical ID {id} is defined twice")));
        }
        Ok(())
    }

    /// The template as JSON with sorted keys.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let mut m = Map::new();
        m.insert("AWSTemplateFormatVersion".into(), Value::from(FORMAT_VERSION));
        m.insert("Description".into(), Value::from(self.description.clone()));
        if !self.parameters.is_empty() {
            m.insert("Parameters".into(), serde_json::to_value(&self.parameters).unwrap_or(Value::Null));
        }
        if !self.conditions.is_empty() {
            m.insert("Conditions".into(), serde_json::to_value(&self.conditions).unwrap_or(Value::Null));
        }
        let resources: Map<String, Value> = self.resources.iter().map(|(k, r)| (k.to_string(), r.to_value())).collect();
        m.insert("Resources".into(), Value::Object(resources));
        if !self.outputs.is_empty() {
            m.insert("Outputs".into(), serde_json::to_value(&self.outputs).unwrap_or(Value::Null));
        }
        Value::Object(m)
    }
}
