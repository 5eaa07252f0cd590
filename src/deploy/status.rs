//! CloudFormation stack statuses, typed: whether a status is settled (nothing runs) or in
//! progress, whether it is good or bad, and what `apply` may do from it.
//!
//! Source: CloudFormation API reference, `Stack.StackStatus`, and the user guide's "Stack
//! status codes". AWS-FACTS.md: `ROLLBACK_COMPLETE` can only be deleted,
//! `UPDATE_ROLLBACK_COMPLETE` is updatable, `UPDATE_ROLLBACK_FAILED` needs
//! `ContinueUpdateRollback`, every `*_IN_PROGRESS` must be waited for.

use std::fmt;

/// A stack status (`StackStatus`), or [`StackStatus::Other`] for one this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum StackStatus {
    CreateInProgress,
    CreateFailed,
    CreateComplete,
    RollbackInProgress,
    RollbackFailed,
    RollbackComplete,
    DeleteInProgress,
    DeleteFailed,
    DeleteComplete,
    UpdateInProgress,
    UpdateCompleteCleanupInProgress,
    UpdateComplete,
    UpdateFailed,
    UpdateRollbackInProgress,
    UpdateRollbackFailed,
    UpdateRollbackCompleteCleanupInProgress,
    UpdateRollbackComplete,
    ReviewInProgress,
    ImportInProgress,
    ImportComplete,
    ImportRollbackInProgress,
    ImportRollbackFailed,
    ImportRollbackComplete,
    /// A status string this version does not know (treated as in progress, so never acted on).
    Other(String),
}

/// Every known status with its API spelling.
pub const ALL: [(&str, StackStatus); 23] = [
    ("CREATE_IN_PROGRESS", StackStatus::CreateInProgress),
    ("CREATE_FAILED", StackStatus::CreateFailed),
    ("CREATE_COMPLETE", StackStatus::CreateComplete),
    ("ROLLBACK_IN_PROGRESS", StackStatus::RollbackInProgress),
    ("ROLLBACK_FAILED", StackStatus::RollbackFailed),
    ("ROLLBACK_COMPLETE", StackStatus::RollbackComplete),
    ("DELETE_IN_PROGRESS", StackStatus::DeleteInProgress),
    ("DELETE_FAILED", StackStatus::DeleteFailed),
    ("DELETE_COMPLETE", StackStatus::DeleteComplete),
    ("UPDATE_IN_PROGRESS", StackStatus::UpdateInProgress),
    ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", StackStatus::UpdateCompleteCleanupInProgress),
    ("UPDATE_COMPLETE", StackStatus::UpdateComplete),
    ("UPDATE_FAILED", StackStatus::UpdateFailed),
    ("UPDATE_ROLLBACK_IN_PROGRESS", StackStatus::UpdateRollbackInProgress),
    ("UPDATE_ROLLBACK_FAILED", StackStatus::UpdateRollbackFailed),
    ("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", StackStatus::UpdateRollbackCompleteCleanupInProgress),
    ("UPDATE_ROLLBACK_COMPLETE", StackStatus::UpdateRollbackComplete),
    ("REVIEW_IN_PROGRESS", StackStatus::ReviewInProgress),
    ("IMPORT_IN_PROGRESS", StackStatus::ImportInProgress),
    ("IMPORT_COMPLETE", StackStatus::ImportComplete),
    ("IMPORT_ROLLBACK_IN_PROGRESS", StackStatus::ImportRollbackInProgress),
    ("IMPORT_ROLLBACK_FAILED", StackStatus::ImportRollbackFailed),
    ("IMPORT_ROLLBACK_COMPLETE", StackStatus::ImportRollbackComplete),
];

/// What `apply` may do with a stack in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Update it with an UPDATE change set.
    Update,
    /// Wait until it settles (then decide again).
    Wait,
    /// It cannot be updated; delete it and create it again, only with `--recreate`.
    Recreate,
    /// Create it (it does not exist, or only its deleted record does).
    Create,
    /// A person must act first (the message says what).
    Stuck,
}

impl StackStatus {
    /// Parses the API spelling; unknown spellings become [`StackStatus::Other`].
    #[must_use]
    pub fn parse(s: &str) -> Self {
        ALL.iter().find(|(name, _)| *name == s).map_or_else(|| Self::Other(s.to_string()), |(_, st)| st.clone())
    }

    /// The API spelling.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(s) => s,
            known => ALL.iter().find(|(_, st)| st == known).map_or("UNKNOWN", |(name, _)| name),
        }
    }

    /// Whether nothing runs on the stack: every status that is not `*_IN_PROGRESS`
    /// (`REVIEW_IN_PROGRESS` counts as settled: it only waits for a change set to be executed).
    #[must_use]
    pub fn is_settled(&self) -> bool {
        match self {
            Self::ReviewInProgress => true,
            Self::Other(_) => false,
            s => !s.as_str().ends_with("_IN_PROGRESS"),
        }
    }

    /// Whether the status is a success of the operation that led to it:
    /// `CREATE_COMPLETE`, `UPDATE_COMPLETE`, `IMPORT_COMPLETE`, `DELETE_COMPLETE`.
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Self::CreateComplete | Self::UpdateComplete | Self::ImportComplete | Self::DeleteComplete)
    }

    /// Whether the status says the last operation failed: `*_FAILED`, and the rollbacks.
    #[must_use]
    pub fn is_failure(&self) -> bool {
        let s = self.as_str();
        s.ends_with("_FAILED") || s.contains("ROLLBACK")
    }

    /// What `apply` may do from this status.
    #[must_use]
    pub fn next(&self) -> Next {
        match self {
            Self::CreateComplete
            | Self::UpdateComplete
            | Self::UpdateRollbackComplete
            | Self::ImportComplete
            | Self::ImportRollbackComplete => Next::Update,
            Self::RollbackComplete | Self::RollbackFailed | Self::CreateFailed | Self::ReviewInProgress => {
                Next::Recreate
            }
            Self::DeleteComplete => Next::Create,
            Self::UpdateRollbackFailed | Self::DeleteFailed | Self::UpdateFailed | Self::ImportRollbackFailed => {
                Next::Stuck
            }
            s if !s.is_settled() => Next::Wait,
            _ => Next::Stuck,
        }
    }
}

impl fmt::Display for StackStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A resource status of a stack event (`ResourceStatus`) says the step failed:
/// `CREATE_FAILED`, `UPDATE_FAILED`, `DELETE_FAILED`, `IMPORT_FAILED`,
/// `UPDATE_ROLLBACK_FAILED`, `ROLLBACK_FAILED`.
#[must_use]
pub fn resource_failed(resource_status: &str) -> bool {
    resource_status.ends_with("_FAILED")
}

/// Whether a failure reason only reports that CloudFormation cancelled the step because
/// another one failed ("Resource creation cancelled", "Resource update cancelled"): a
/// consequence, never the root cause.
#[must_use]
pub fn is_cancellation(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("cancelled") || r.contains("canceled")
}

/// Whether a failure reason only points at other failures ("The following resource(s) failed
/// to create: [A, B]", "Embedded stack ... was not successfully created"): not the root cause.
#[must_use]
pub fn is_summary(reason: &str) -> bool {
    reason.starts_with("The following resource(s) failed")
        || reason.contains("Embedded stack")
        || reason.contains("was not successfully")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_and_is_classified() {
        for (name, status) in &ALL {
            assert_eq!(StackStatus::parse(name), *status);
            assert_eq!(status.as_str(), *name);
            let settled = !name.ends_with("_IN_PROGRESS") || *name == "REVIEW_IN_PROGRESS";
            assert_eq!(status.is_settled(), settled, "{name}");
            assert_eq!(status.next() == Next::Wait, !settled, "{name}");
            assert!(!(status.is_success() && status.is_failure()), "{name}");
        }
        assert_eq!(StackStatus::parse("SOMETHING_NEW"), StackStatus::Other("SOMETHING_NEW".into()));
        assert!(!StackStatus::parse("SOMETHING_NEW").is_settled());
    }

    #[test]
    fn the_rules_of_aws_facts() {
        assert_eq!(StackStatus::RollbackComplete.next(), Next::Recreate);
        assert_eq!(StackStatus::UpdateRollbackComplete.next(), Next::Update);
        assert_eq!(StackStatus::UpdateRollbackFailed.next(), Next::Stuck);
        assert_eq!(StackStatus::UpdateCompleteCleanupInProgress.next(), Next::Wait);
        assert_eq!(StackStatus::DeleteComplete.next(), Next::Create);
        assert!(StackStatus::UpdateRollbackComplete.is_failure());
        assert!(StackStatus::UpdateComplete.is_success());
    }

    #[test]
    fn cancellations_and_summaries_are_not_root_causes() {
        assert!(is_cancellation("Resource creation cancelled"));
        assert!(is_summary("The following resource(s) failed to create: [Bucket]. "));
        assert!(is_summary("Embedded stack arn:aws:cloudformation:... was not successfully created: ..."));
        assert!(!is_cancellation("Resource handler returned message: \"Access Denied\""));
    }
}
