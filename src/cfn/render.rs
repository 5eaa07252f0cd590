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

    /// Renders a template value. Keys come out sorted because serde_json's map is ordered.
    ///
    /// # Errors
    /// A message when the value cannot be rendered (not expected for templates).
    pub fn render(self, value: &Value) -> Result<String, String> {
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

/// Lowercase hex SHA-256 of `bytes`.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
