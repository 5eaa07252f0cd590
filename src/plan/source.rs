//! The two sides of a plan: a set of parsed templates with the manifest facts that tie a root
//! stack's nested stacks to their template files. Read from a synth output directory, from an
//! in-memory compile, from the deployed stack's template bodies, or (tests) from bare templates.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::PlanError;
use crate::cfn::render::Format;
use crate::cfn::{Expr, Resource, Template};
use crate::compile::Compiled;

/// The templates of one synth output.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TemplateSet {
    /// CloudFormation stack name (the environment name).
    pub stack_name: String,
    /// File name of the root (or single) template.
    pub root_file: String,
    /// Every template by file name.
    pub templates: BTreeMap<String, Template>,
    /// File names in manifest order (nested stacks in part order, root last).
    pub order: Vec<String>,
    /// Manifest `stack` label of each file (`network`, `root`, `single`).
    pub labels: BTreeMap<String, String>,
    /// Assets-bucket key of each nested template -> its file.
    pub s3_keys: BTreeMap<String, String>,
    /// Other files (scripts) -> SHA-256.
    pub scripts: BTreeMap<String, String>,
    /// The manifest's `users_shards` (a synth output; `None` for the deployed side or an
    /// output written before users shards).
    pub users_shards: Option<crate::output::ShardsEntry>,
}

impl TemplateSet {
    /// One bare template as the root, with no manifest (property tests, library users).
    #[must_use]
    pub fn single(stack_name: &str, template: Template) -> Self {
        let file = format!("{stack_name}.template.json");
        Self {
            stack_name: stack_name.into(),
            root_file: file.clone(),
            templates: BTreeMap::from([(file.clone(), template)]),
            order: vec![file.clone()],
            labels: BTreeMap::from([(file, "root".into())]),
            s3_keys: BTreeMap::new(),
            scripts: BTreeMap::new(),
            users_shards: None,
        }
    }

    /// The output of an in-memory compile, exactly as synth would write it (the compiled
    /// templates are what parsing synth's files gives back).
    ///
    /// # Errors
    /// [`PlanError::Synth`] when rendering fails (a CloudFormation quota is exceeded).
    pub fn from_compiled(compiled: &Compiled) -> Result<Self, PlanError> {
        let manifest = crate::output::manifest(compiled).map_err(|e| PlanError::Synth(e.to_string()))?;
        Self::from_manifest(manifest, compiled.templates.iter().map(|t| (t.file.clone(), t.template.clone())).collect())
    }

    /// [`TemplateSet::from_compiled`], moving the templates out of the compile instead of
    /// copying them.
    ///
    /// # Errors
    /// As [`TemplateSet::from_compiled`].
    pub fn from_compiled_owned(compiled: Compiled) -> Result<Self, PlanError> {
        let manifest = crate::output::manifest(&compiled).map_err(|e| PlanError::Synth(e.to_string()))?;
        Self::from_manifest(manifest, compiled.templates.into_iter().map(|t| (t.file, t.template)).collect())
    }

    /// The set of the templates by file that `manifest` lists.
    fn from_manifest(
        manifest: crate::output::Manifest,
        mut templates: BTreeMap<String, Template>,
    ) -> Result<Self, PlanError> {
        let mut set = Self {
            stack_name: manifest.stack_name.clone(),
            root_file: manifest.root_template.clone(),
            ..Self::default()
        };
        for t in &manifest.templates {
            let template = templates.remove(&t.file).ok_or_else(|| {
                PlanError::Synth(format!("the manifest lists {}, which the compiler did not produce", t.file))
            })?;
            set.templates.insert(t.file.clone(), template);
            set.order.push(t.file.clone());
            set.labels.insert(t.file.clone(), t.stack.clone());
            if let Some(k) = &t.s3_key {
                set.s3_keys.insert(k.clone(), t.file.clone());
            }
        }
        for s in &manifest.scripts {
            set.scripts.insert(s.file.clone(), s.sha256.clone());
        }
        set.users_shards = Some(manifest.users_shards);
        Ok(set)
    }

    /// The deployed side (deployed mode): the root stack's template and each nested stack's
    /// (`GetTemplate`, `TemplateStage` Original) by its logical ID in the root (from
    /// `ListStackResources`). Bodies may be JSON or YAML. Nested stacks are labelled by their
    /// logical ID (`NetworkNestedStack` -> `network`), which is how they are paired with
    /// the new output. `None` for a stack that does not exist: an empty set, everything new.
    ///
    /// # Errors
    /// [`PlanError::Read`] when a body is not a template.
    pub fn from_deployed(stack_name: &str, root: Option<&str>, nested: &[(String, String)]) -> Result<Self, PlanError> {
        let mut set =
            Self { stack_name: stack_name.into(), root_file: format!("deployed:{stack_name}"), ..Self::default() };
        let Some(root) = root else { return Ok(set) };
        for (logical_id, body) in nested {
            let file = format!("deployed:{stack_name}/{logical_id}");
            set.templates.insert(
                file.clone(),
                parse_template(&format!("nested stack {logical_id} of {stack_name} (GetTemplate)"), body)?,
            );
            set.order.push(file.clone());
            let label = sandboxc_contract::stack::nested_stack_slug(logical_id).unwrap_or_else(|| logical_id.clone());
            set.labels.insert(file, label);
        }
        let root_value = parse_template(&format!("stack {stack_name} (GetTemplate)"), root)?;
        let single = !has_nested_stacks(&root_value);
        set.templates.insert(set.root_file.clone(), root_value);
        set.order.push(set.root_file.clone());
        set.labels.insert(set.root_file.clone(), if single { "single".into() } else { "root".into() });
        Ok(set)
    }

    /// A previous synth output directory: `manifest.json` and the templates it lists.
    ///
    /// # Errors
    /// [`PlanError::NotSynthOutput`] when `dir` has no readable manifest, [`PlanError::Read`]
    /// when a listed template is missing or not JSON/YAML.
    pub fn from_dir(dir: &Path) -> Result<Self, PlanError> {
        SynthDir::read(dir)?.parse(None)
    }
}

/// A synth output directory read but not parsed yet: the manifest's facts and the text of
/// each template it lists, in manifest order ([`TemplateSet::from_dir`] in two steps).
#[derive(Debug)]
pub struct SynthDir {
    /// The set, without its templates.
    set: TemplateSet,
    /// Each template file: its name, the path people read, and its text.
    texts: Vec<(String, String, String)>,
}

impl SynthDir {
    /// Reads `manifest.json` and the templates it lists, as [`TemplateSet::from_dir`] does.
    ///
    /// # Errors
    /// As [`TemplateSet::from_dir`] (a template that does not parse is reported by
    /// [`SynthDir::parse`], unless a later file cannot be read, as [`TemplateSet::from_dir`]
    /// reports the first problem in manifest order).
    pub fn read(dir: &Path) -> Result<Self, PlanError> {
        let manifest_path = dir.join("manifest.json");
        if !dir.is_dir() {
            return Err(PlanError::NotSynthOutput {
                dir: dir.display().to_string(),
                why: "it is not a directory".into(),
            });
        }
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| PlanError::NotSynthOutput {
            dir: dir.display().to_string(),
            why: format!("manifest.json cannot be read ({e})"),
        })?;
        let manifest: Value = serde_json::from_str(&text).map_err(|e| PlanError::NotSynthOutput {
            dir: dir.display().to_string(),
            why: format!("manifest.json is not JSON ({e})"),
        })?;
        let str_of = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_string);
        let (Some(stack_name), Some(root_file), Some(entries)) = (
            str_of(&manifest, "stack_name"),
            str_of(&manifest, "root_template"),
            manifest.get("templates").and_then(Value::as_array),
        ) else {
            return Err(PlanError::NotSynthOutput {
                dir: dir.display().to_string(),
                why: "manifest.json lacks stack_name, root_template or templates (not written by sandboxc synth)"
                    .into(),
            });
        };
        if let Some(v) = manifest.get("manifest_version").and_then(Value::as_u64) {
            if v > u64::from(crate::output::MANIFEST_VERSION) {
                return Err(PlanError::NotSynthOutput {
                    dir: dir.display().to_string(),
                    why: format!("manifest.json has version {v}, newer than this sandboxc reads ({}); plan with a newer sandboxc", crate::output::MANIFEST_VERSION),
                });
            }
        }
        let mut read = Self { set: TemplateSet { stack_name, root_file, ..TemplateSet::default() }, texts: Vec::new() };
        for e in entries {
            let Some(file) = str_of(e, "file") else { continue };
            if file.contains("..") || file.starts_with('/') || file.contains('\\') {
                return Err(read.parse_error().unwrap_or(PlanError::NotSynthOutput {
                    dir: dir.display().to_string(),
                    why: format!("manifest.json names an unsafe path {file:?}"),
                }));
            }
            let path = dir.join(&file);
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => {
                    let unreadable = PlanError::Read { path: path.display().to_string(), why: e.to_string() };
                    return Err(read.parse_error().unwrap_or(unreadable));
                }
            };
            read.texts.push((file.clone(), path.display().to_string(), text));
            let set = &mut read.set;
            set.order.push(file.clone());
            set.labels.insert(file.clone(), str_of(e, "stack").unwrap_or_else(|| "root".into()));
            if let Some(k) = str_of(e, "s3_key") {
                set.s3_keys.insert(k, file.clone());
            }
        }
        if !read.texts.iter().any(|(file, _, _)| *file == read.set.root_file) {
            return Err(read.parse_error().unwrap_or(PlanError::NotSynthOutput {
                dir: dir.display().to_string(),
                why: format!("manifest.json does not list its root template {}", read.set.root_file),
            }));
        }
        let set = &mut read.set;
        set.users_shards = manifest.get("users_shards").and_then(|v| serde_json::from_value(v.clone()).ok());
        for s in manifest.get("scripts").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(f), Some(h)) = (str_of(s, "file"), str_of(s, "sha256")) {
                set.scripts.insert(f, h);
            }
        }
        Ok(read)
    }

    /// The first template read so far that does not parse.
    fn parse_error(&self) -> Option<PlanError> {
        self.texts.iter().find_map(|(_, path, text)| parse_template(path, text).err())
    }

    /// The set, each template parsed; a template whose bytes are those of a nested template of
    /// `beside` (the same assets-bucket key: SHA-256 and format) is that template, copied
    /// instead of parsed (parsing rendered bytes gives the template back).
    ///
    /// # Errors
    /// [`PlanError::Read`] for the first template (in manifest order) that does not parse.
    pub fn parse(self, beside: Option<&TemplateSet>) -> Result<TemplateSet, PlanError> {
        let mut set = self.set;
        for (file, path, text) in self.texts {
            let same = beside.and_then(|b| {
                let format = if is_yaml_name(&file) { Format::Yaml } else { Format::Json };
                let key = crate::compile::template_key(text.as_bytes(), format);
                b.s3_keys.get(&key).and_then(|f| b.templates.get(f))
            });
            let template = match same {
                Some(t) => t.clone(),
                None => parse_template(&path, &text)?,
            };
            set.templates.insert(file, template);
        }
        Ok(set)
    }
}

impl TemplateSet {
    /// The manifest label of a file (`network`), if known.
    #[must_use]
    pub fn label(&self, file: &str) -> Option<&str> {
        self.labels.get(file).map(String::as_str)
    }

    /// The template file a nested stack resource points at: through the assets-bucket key in
    /// its `TemplateURL`, else through the manifest label matching its logical ID
    /// (`NetworkNestedStack` -> `network`).
    #[must_use]
    pub fn nested_file(&self, logical_id: &str, resource: &Resource) -> Option<String> {
        let mut texts = Vec::new();
        if let Some(url) = resource.properties.get("TemplateURL") {
            strings_in(url, &mut texts);
        }
        for t in &texts {
            for (key, file) in &self.s3_keys {
                if t.ends_with(key.as_str()) || t.contains(&format!("/{key}")) {
                    return Some(file.clone());
                }
            }
            for file in self.templates.keys() {
                if t.ends_with(&format!("/{file}")) || t == file {
                    return Some(file.clone());
                }
            }
        }
        let part = sandboxc_contract::stack::nested_stack_slug(logical_id)?;
        self.labels.iter().find(|(f, l)| **l == part && **f != self.root_file).map(|(f, _)| f.clone())
    }
}

/// The literal text of a value: strings, and the template strings of `Fn::Sub`.
fn strings_in(v: &Expr, out: &mut Vec<String>) {
    match v {
        Expr::Str(s) => out.push(s.clone()),
        Expr::List(a) => a.iter().for_each(|x| strings_in(x, out)),
        Expr::Map(m) => m.values().for_each(|x| strings_in(x, out)),
        Expr::Sub(sub) => {
            out.push(sub.text());
            sub.vars().values().for_each(|x| strings_in(x, out));
        }
        Expr::Join(sep, items) => {
            out.push(sep.clone());
            items.iter().for_each(|x| strings_in(x, out));
        }
        Expr::Select(_, x) | Expr::GetAZs(x) | Expr::ImportValue(x) | Expr::Intrinsic(_, x) => strings_in(x, out),
        Expr::If(_, a, b) | Expr::Equals(a, b) => {
            strings_in(a, out);
            strings_in(b, out);
        }
        Expr::Split(sep, x) => {
            out.push(sep.clone());
            strings_in(x, out);
        }
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Num(_) | Expr::Ref(_) | Expr::GetAtt(..) => {}
    }
}

fn has_nested_stacks(template: &Template) -> bool {
    template.resources.values().any(|r| r.kind == "AWS::CloudFormation::Stack")
}

/// Whether a template file's name says YAML.
fn is_yaml_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Reads a template file or body: YAML by the name's extension (or, for a `GetTemplate`
/// body, when it does not start with `{`), else JSON.
fn parse_template(name: &str, text: &str) -> Result<Template, PlanError> {
    let is_yaml = is_yaml_name(name) || (name.ends_with("(GetTemplate)") && !text.trim_start().starts_with('{'));
    let format = if is_yaml { Format::Yaml } else { Format::Json };
    Template::from_text(text, format).map_err(|e| PlanError::Read { path: name.into(), why: e.to_string() })
}
