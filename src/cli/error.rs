//! The one error printer: every error starts with `error: ` on standard error, its causes
//! follow one per line, indented; an invalid blueprint is printed as its diagnostics
//! (`FILE:LINE:COLUMN: error: ...`, one per problem). Never a debug representation.

use std::io::Write;

use super::build::BuildError;
use crate::audit::AuditError;
use crate::aws::AwsError;
use crate::blueprint::diagnostics::Diagnostics;
use crate::deploy::preview::PreviewError;
use crate::deploy::DeployError;
use crate::plan::PlanError;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// An invalid blueprint: its diagnostics, each line already `FILE:LINE:COLUMN: error: ...`.
    Blueprint(Diagnostics),
    /// Anything else: what went wrong, then its causes (or what to do), one per line.
    Failed {
        /// The first line (may hold more lines).
        message: String,
        /// Further lines.
        causes: Vec<String>,
    },
}

impl CliError {
    /// An error with a message and no causes.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self::Failed { message: message.into(), causes: Vec::new() }
    }

    /// The error with one more cause line.
    #[must_use]
    pub fn with_cause(self, cause: impl Into<String>) -> Self {
        match self {
            Self::Failed { message, mut causes } => {
                causes.push(cause.into());
                Self::Failed { message, causes }
            }
            Self::Blueprint(d) => Self::Failed { message: d.to_string(), causes: vec![cause.into()] },
        }
    }

    /// The lines printed on standard error: `error: MESSAGE`, then each further line of the
    /// message and each cause indented by two spaces; diagnostics as they are.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::Blueprint(d) => d.to_string().lines().map(str::to_string).collect(),
            Self::Failed { message, causes } => {
                let mut lines = Vec::new();
                for (i, line) in message.lines().enumerate() {
                    lines.push(if i == 0 { format!("error: {line}") } else { format!("  {line}") });
                }
                if lines.is_empty() {
                    lines.push("error: (no message)".into());
                }
                for cause in causes {
                    lines.extend(cause.lines().map(|l| format!("  {l}")));
                }
                lines
            }
        }
    }

    /// Prints [`CliError::lines`] on standard error.
    pub fn print(&self) {
        let mut err = std::io::stderr().lock();
        for line in self.lines() {
            let _ = writeln!(err, "{line}");
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Blueprint(d) => write!(f, "{d}"),
            Self::Failed { message, causes } => {
                f.write_str(message)?;
                for c in causes {
                    write!(f, "\n{c}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for CliError {}

impl From<Diagnostics> for CliError {
    fn from(d: Diagnostics) -> Self {
        Self::Blueprint(d)
    }
}

impl From<BuildError> for CliError {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Blueprint(d) => Self::Blueprint(d),
            other => Self::new(other.to_string()),
        }
    }
}

/// Errors whose text says everything.
macro_rules! from_display {
    ($($t:ty),+) => {$(
        impl From<$t> for CliError {
            fn from(e: $t) -> Self {
                Self::new(e.to_string())
            }
        }
    )+};
}

from_display!(
    AuditError,
    AwsError,
    DeployError,
    crate::deploy::connect::Refusal,
    crate::deploy::connect::ConnectError,
    PlanError,
    PreviewError,
    crate::package::PackageError,
    crate::output::OutputError
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_starts_with_error_and_causes_are_indented() {
        let e = CliError::new("first\nsecond").with_cause("why");
        assert_eq!(e.lines(), ["error: first", "  second", "  why"]);
        assert_eq!(e.to_string(), "first\nsecond\nwhy");
    }
}
