//! Errors of the CloudFormation model: building, reading and checking templates.

use std::fmt;

use super::LogicalId;

/// One inconsistency [`crate::cfn::check::check`] finds: where, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Path in the template, such as `Resources.Bucket.Properties.Tags[0]`.
    pub at: String,
    /// What is wrong, naming what would be allowed.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.at, self.message)
        }
    }
}

/// Anything that stops building, reading or checking a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfnError {
    /// A resource was added under a logical ID the template already uses.
    #[error("logical ID {0} is defined twice")]
    DuplicateLogicalId(LogicalId),
    /// The text is not JSON (or YAML) at all.
    #[error("not {format}: {message}")]
    Syntax {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The document is not a mapping, so not a template.
    #[error("not a template (expected a mapping)")]
    NotATemplate,
    /// Part of the template does not have the shape CloudFormation requires.
    #[error("{at}: {problem}")]
    Malformed {
        /// Path in the template, such as `Resources.Bucket.DependsOn`.
        at: String,
        /// What is wrong and what is allowed.
        problem: String,
    },
    /// Dangling references or malformed names found by [`crate::cfn::check::check`].
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Inconsistent(Vec<Problem>),
}
