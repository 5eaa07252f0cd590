//! `sandboxc validate --format json`: the result of validation as one JSON object, for editors
//! and CI annotations. Shape (keys in this order, stable):
//!
//! ```json
//! {"file": "b.yaml", "valid": false, "environment": null,
//!  "errors": [{"path": "users[0].id", "line": 12, "column": 9, "message": "...", "allowed": "..."}],
//!  "warnings": []}
//! ```
//!
//! `path` is the blueprint path (empty for the whole document), `line` and `column` count from
//! 1 and are null for a default the file does not hold, `allowed` is null when nothing can be
//! said. A compiler or CloudFormation-limit error is one error with an empty path and no
//! position. `environment` is the blueprint's `name` when it is valid.

use serde::Serialize;

use super::build::BuildError;
use crate::blueprint::{Blueprint, Diagnostic, Diagnostics, Source, Warnings};

/// One error or warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Blueprint path, such as `network.cidr`; empty for the document.
    pub path: String,
    /// Line, from 1; null when unknown.
    pub line: Option<usize>,
    /// Column in characters, from 1; null when unknown.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What is allowed (errors) or what to do (warnings), when it can be said.
    pub allowed: Option<String>,
}

/// The whole answer of `validate --format json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The file as named (or the embedded default's name).
    pub file: String,
    /// Whether the blueprint is valid and compiles within CloudFormation's limits.
    pub valid: bool,
    /// The environment name of a valid blueprint.
    pub environment: Option<String>,
    /// Every problem (none when valid).
    pub errors: Vec<Item>,
    /// The warnings of a valid blueprint ([`crate::blueprint::advice`]).
    pub warnings: Vec<Item>,
}

impl Report {
    /// The report as one line of JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"cannot render the report: {e}\"}}"))
    }
}

fn item(d: &Diagnostic) -> Item {
    Item {
        path: d.path.clone(),
        line: d.at.map(|p| p.line),
        column: d.at.map(|p| p.column),
        message: d.message.clone(),
        allowed: d.allowed.clone(),
    }
}

fn failed(file: &str, errors: Vec<Item>) -> Report {
    Report { file: file.to_string(), valid: false, environment: None, errors, warnings: Vec::new() }
}

/// The report of a blueprint file that could not be read.
#[must_use]
pub fn unreadable(d: &Diagnostics) -> Report {
    failed(&d.file, d.items.iter().map(item).collect())
}

/// The report of [`super::build::validate`]'s result for `source`.
#[must_use]
pub fn report(source: &Source, result: Result<(Blueprint, Warnings), BuildError>) -> Report {
    match result {
        Ok((blueprint, warnings)) => Report {
            file: source.name.clone(),
            valid: true,
            environment: Some(blueprint.name),
            errors: Vec::new(),
            warnings: warnings.items.iter().map(item).collect(),
        },
        Err(BuildError::Blueprint(d)) => unreadable(&d),
        Err(e) => failed(
            &source.name,
            vec![Item { path: String::new(), line: None, column: None, message: e.to_string(), allowed: None }],
        ),
    }
}
