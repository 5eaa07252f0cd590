//! Template text: the exact bytes synth writes and apply uploads.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Output format of templates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// JSON, two-space indented, keys sorted, trailing newline.
    #[default]
    Json,
    /// YAML with long-form intrinsic functions (`Fn::Sub:`), keys sorted.
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

    /// Renders a template value, keys sorted ([`sorted`]: also when a dependency turns on
    /// serde_json's `preserve_order`, as aws-smithy-mocks does in test builds).
    ///
    /// # Errors
    /// A message when the value cannot be rendered (not expected for templates).
    pub fn render(self, value: &Value) -> Result<String, String> {
        let value = &sorted(value);
        match self {
            Self::Json => {
                let mut s = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
                s.push('\n');
                Ok(s)
            }
            Self::Yaml => Ok(super::yaml_out::to_yaml(value)),
        }
    }
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

/// Lowercase hex SHA-256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
