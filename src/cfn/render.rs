//! Template text: the exact bytes synth writes and apply uploads.
//!
//! Keys come in CloudFormation's conventional order so that a reviewer reads a template top
//! down (CloudFormation user guide, "Template anatomy" and "Resource attribute reference"):
//! the sections as [`super::template::SECTIONS`] lists them (`AWSTemplateFormatVersion`,
//! `Description`, `Metadata`, `Parameters`, ..., `Conditions`, `Resources`, `Outputs`), and in a
//! resource `Type`, `Condition`, `DependsOn`, `Properties`, then the policies and `Metadata`
//! ([`RESOURCE_KEY_ORDER`]). Every other mapping has its keys sorted, so the bytes depend only
//! on the template's content.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::template::SECTIONS;
use super::{json_out, Template};

/// The order of a resource's keys: what it is, when and after what it exists, its
/// properties, then how CloudFormation treats it (policies) and the metadata for tools.
pub const RESOURCE_KEY_ORDER: [&str; 9] = [
    "Type",
    "Condition",
    "DependsOn",
    "Properties",
    "CreationPolicy",
    "DeletionPolicy",
    "UpdatePolicy",
    "UpdateReplacePolicy",
    "Metadata",
];

/// Output format of templates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// JSON, two-space indented, keys in template order ([`ordered`]), trailing newline.
    #[default]
    Json,
    /// YAML with long-form intrinsic functions (`Fn::Sub:`), keys in template order.
    Yaml,
}

impl Format {
    /// File extension without the dot.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Yaml => "yaml",
        }
    }

    /// Renders a template value with its keys in template order ([`ordered`]; also when a
    /// dependency turns on serde_json's `preserve_order`, as aws-smithy-mocks does in test
    /// builds, since the order is decided here and not by the map type).
    ///
    /// # Errors
    /// A message when the value cannot be rendered (not expected for templates).
    pub fn render(self, value: &Value) -> Result<String, String> {
        match self {
            Self::Json => {
                let mut s = String::new();
                json(value, Level::Template, 0, &mut s);
                s.push('\n');
                Ok(s)
            }
            Self::Yaml => Ok(super::yaml_out::to_yaml(value)),
        }
    }

    /// Renders a template: the bytes of [`Format::render`] of [`Template::to_value`], JSON
    /// written straight from the model (no intermediate value).
    ///
    /// # Errors
    /// A message when the template cannot be rendered (not expected).
    pub fn render_template(self, template: &Template) -> Result<String, String> {
        match self {
            Self::Json if json_out::writes_in_order(template) => json_out::template(template),
            _ => self.render(&template.to_value()),
        }
    }
}

/// Where a mapping sits in a template, which decides the order of its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The template itself: sections in [`SECTIONS`] order.
    Template,
    /// The `Resources` section: logical IDs sorted.
    Resources,
    /// One resource: [`RESOURCE_KEY_ORDER`].
    Resource,
    /// Anything else: keys sorted.
    Other,
}

impl Level {
    /// The level of the mapping found under `key` of a mapping at this level.
    #[must_use]
    pub fn child(self, key: &str) -> Self {
        match (self, key) {
            (Self::Template, "Resources") => Self::Resources,
            (Self::Resources, _) => Self::Resource,
            _ => Self::Other,
        }
    }
}

/// The entries of mapping `m` in the order of its [`Level`]: the named keys first, in the
/// order named, then any others sorted.
#[must_use]
pub fn ordered(m: &Map<String, Value>, level: Level) -> Vec<(&String, &Value)> {
    let named: &[&str] = match level {
        Level::Template => &SECTIONS,
        Level::Resource => &RESOURCE_KEY_ORDER,
        Level::Resources | Level::Other => &[],
    };
    let rank = |k: &str| named.iter().position(|n| *n == k).unwrap_or(named.len());
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_by(|a, b| (rank(a.0), a.0).cmp(&(rank(b.0), b.0)));
    entries
}

/// `value` with every mapping's keys in sorted order, whatever serde_json's map type is
/// (a `BTreeMap`, or an insertion-ordered map under its `preserve_order` feature).
#[must_use]
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Pretty JSON exactly as `serde_json::to_string_pretty` writes it (two-space indentation,
/// `"key": value`), with mapping keys in the order of their [`Level`].
fn json(value: &Value, level: Level, indent: usize, out: &mut String) {
    let pad = |n: usize| " ".repeat(n);
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push_str("{\n");
            for (i, (k, v)) in ordered(m, level).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&pad(indent + 2));
                out.push_str(&string(k));
                out.push_str(": ");
                json(v, level.child(k), indent + 2, out);
            }
            out.push('\n');
            out.push_str(&pad(indent));
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push_str("[\n");
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&pad(indent + 2));
                json(v, Level::Other, indent + 2, out);
            }
            out.push('\n');
            out.push_str(&pad(indent));
            out.push(']');
        }
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::String(s) => out.push_str(&string(s)),
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON string literal (serde_json's escaping).
fn string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

/// Lowercase hex SHA-256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_read_top_down_and_the_rest_is_sorted() {
        let v = json!({
            "Resources": {"B": {"Metadata": {"z": 1, "a": 2}, "Properties": {"Z": 1, "A": [{"y": 1, "b": 2}]}, "UpdateReplacePolicy": "Retain", "DeletionPolicy": "Retain", "DependsOn": ["A"], "Condition": "C", "Type": "AWS::X::Y"}, "A": {"Type": "AWS::X::Y"}},
            "Outputs": {"O": {"Value": "v", "Description": "d"}},
            "Conditions": {"C": {"Fn::Equals": ["a", "b"]}},
            "Parameters": {"P": {"Type": "String"}},
            "Description": "d",
            "AWSTemplateFormatVersion": "2010-09-09"
        });
        let text = Format::Json.render(&v).unwrap_or_default();
        let keys: Vec<&str> = text
            .lines()
            .filter_map(|l| l.trim_start().strip_prefix('"').and_then(|l| l.split_once("\":")).map(|(k, _)| k))
            .collect();
        assert_eq!(
            keys,
            [
                "AWSTemplateFormatVersion",
                "Description",
                "Parameters",
                "P",
                "Type",
                "Conditions",
                "C",
                "Fn::Equals",
                "Resources",
                "A",
                "Type",
                "B",
                "Type",
                "Condition",
                "DependsOn",
                "Properties",
                "A",
                "b",
                "y",
                "Z",
                "DeletionPolicy",
                "UpdateReplacePolicy",
                "Metadata",
                "a",
                "z",
                "Outputs",
                "O",
                "Description",
                "Value"
            ]
        );
        let back: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, v);
        // Without the template levels, the bytes are serde_json's own.
        let plain = json!({"b": [1, {"d": {}, "c": []}], "a": "x\"y"});
        let mut s = String::new();
        json(&plain, Level::Other, 0, &mut s);
        assert_eq!(s, serde_json::to_string_pretty(&sorted(&plain)).unwrap_or_default());
    }
}
