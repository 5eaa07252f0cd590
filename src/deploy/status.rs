//! CloudFormation statuses, typed. `src/aws` parses every status the API answers into one of
//! these enums at the SDK boundary; nothing else in sandboxc reads status text.
//!
//! - [`StackStatus`] (`Stack.StackStatus`): whether a status is settled (nothing runs) or in
//!   progress, whether it is good or bad, and what `apply` may do from it.
//! - [`ResourceStatus`] (`StackEvent.ResourceStatus`, `StackResourceSummary.ResourceStatus`):
//!   whether a step failed; an event of a stack itself carries a stack status here.
//! - [`ChangeSetStatus`] (`DescribeChangeSet.Status`): whether a change set is still being made.
//! - [`DetectionStatus`] (`DescribeStackDriftDetectionStatus.DetectionStatus`) and
//!   [`ResourceDriftStatus`] (`StackResourceDrift.StackResourceDriftStatus`).
//!
//! Sources: CloudFormation API reference (the data types above) and the user guide's "Stack
//! status codes": `ROLLBACK_COMPLETE` can only be deleted, `UPDATE_ROLLBACK_COMPLETE` is
//! updatable, `UPDATE_ROLLBACK_FAILED` needs `ContinueUpdateRollback`, every `*_IN_PROGRESS`
//! must be waited for. Each enum keeps a spelling this version does not know as `Other`, so
//! that a new status never fails a command.

use std::fmt;

/// Declares a status enum with its API spellings: `parse`, `as_str`, `ALL`, `Display`.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A spelling this version does not know, kept as the API wrote it.
            Other(String),
        }

        impl $name {
            /// Every known value with its API spelling.
            pub const ALL: &'static [(&'static str, $name)] = &[$(($text, $name::$variant)),+];

            /// Parses the API spelling; an unknown spelling becomes `Other`.
            #[must_use]
            pub fn parse(s: &str) -> Self {
                match s {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_string()),
                }
            }

            /// The API spelling.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(s) => s,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}

api_enum! {
    /// A stack status (`Stack.StackStatus`).
    StackStatus {
        /// `CREATE_IN_PROGRESS`.
        CreateInProgress = "CREATE_IN_PROGRESS",
        /// `CREATE_FAILED`.
        CreateFailed = "CREATE_FAILED",
        /// `CREATE_COMPLETE`.
        CreateComplete = "CREATE_COMPLETE",
        /// `ROLLBACK_IN_PROGRESS`.
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        /// `ROLLBACK_FAILED`.
        RollbackFailed = "ROLLBACK_FAILED",
        /// `ROLLBACK_COMPLETE`: a failed first creation, rolled back; can only be deleted.
        RollbackComplete = "ROLLBACK_COMPLETE",
        /// `DELETE_IN_PROGRESS`.
        DeleteInProgress = "DELETE_IN_PROGRESS",
        /// `DELETE_FAILED`.
        DeleteFailed = "DELETE_FAILED",
        /// `DELETE_COMPLETE` (a deleted stack, read by its ARN).
        DeleteComplete = "DELETE_COMPLETE",
        /// `UPDATE_IN_PROGRESS`.
        UpdateInProgress = "UPDATE_IN_PROGRESS",
        /// `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`.
        UpdateCompleteCleanupInProgress = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        /// `UPDATE_COMPLETE`.
        UpdateComplete = "UPDATE_COMPLETE",
        /// `UPDATE_FAILED`.
        UpdateFailed = "UPDATE_FAILED",
        /// `UPDATE_ROLLBACK_IN_PROGRESS`.
        UpdateRollbackInProgress = "UPDATE_ROLLBACK_IN_PROGRESS",
        /// `UPDATE_ROLLBACK_FAILED`: needs `ContinueUpdateRollback`.
        UpdateRollbackFailed = "UPDATE_ROLLBACK_FAILED",
        /// `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`.
        UpdateRollbackCompleteCleanupInProgress = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        /// `UPDATE_ROLLBACK_COMPLETE`: a failed update, rolled back; updatable.
        UpdateRollbackComplete = "UPDATE_ROLLBACK_COMPLETE",
        /// `REVIEW_IN_PROGRESS`: created by a CREATE change set that was never executed.
        ReviewInProgress = "REVIEW_IN_PROGRESS",
        /// `IMPORT_IN_PROGRESS`.
        ImportInProgress = "IMPORT_IN_PROGRESS",
        /// `IMPORT_COMPLETE`.
        ImportComplete = "IMPORT_COMPLETE",
        /// `IMPORT_ROLLBACK_IN_PROGRESS`.
        ImportRollbackInProgress = "IMPORT_ROLLBACK_IN_PROGRESS",
        /// `IMPORT_ROLLBACK_FAILED`.
        ImportRollbackFailed = "IMPORT_ROLLBACK_FAILED",
        /// `IMPORT_ROLLBACK_COMPLETE`.
        ImportRollbackComplete = "IMPORT_ROLLBACK_COMPLETE",
    }
}

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
    /// Whether nothing runs on the stack: every status that is not `*_IN_PROGRESS`
    /// (`REVIEW_IN_PROGRESS` counts as settled: it only waits for a change set to be executed).
    /// An unknown status is treated as in progress, so that it is never acted on.
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

api_enum! {
    /// The status of one step (`StackEvent.ResourceStatus`, `StackResourceSummary.ResourceStatus`).
    /// The events of a stack itself (type `AWS::CloudFormation::Stack`, the stack's own ARN as
    /// physical ID) carry the stack's status here: see [`ResourceStatus::stack_status`].
    ResourceStatus {
        /// `CREATE_IN_PROGRESS`.
        CreateInProgress = "CREATE_IN_PROGRESS",
        /// `CREATE_FAILED`.
        CreateFailed = "CREATE_FAILED",
        /// `CREATE_COMPLETE`.
        CreateComplete = "CREATE_COMPLETE",
        /// `DELETE_IN_PROGRESS`.
        DeleteInProgress = "DELETE_IN_PROGRESS",
        /// `DELETE_FAILED`.
        DeleteFailed = "DELETE_FAILED",
        /// `DELETE_COMPLETE`.
        DeleteComplete = "DELETE_COMPLETE",
        /// `DELETE_SKIPPED`: a resource with `DeletionPolicy: Retain`.
        DeleteSkipped = "DELETE_SKIPPED",
        /// `UPDATE_IN_PROGRESS`.
        UpdateInProgress = "UPDATE_IN_PROGRESS",
        /// `UPDATE_FAILED`.
        UpdateFailed = "UPDATE_FAILED",
        /// `UPDATE_COMPLETE`.
        UpdateComplete = "UPDATE_COMPLETE",
        /// `IMPORT_FAILED`.
        ImportFailed = "IMPORT_FAILED",
        /// `IMPORT_COMPLETE`.
        ImportComplete = "IMPORT_COMPLETE",
        /// `IMPORT_IN_PROGRESS`.
        ImportInProgress = "IMPORT_IN_PROGRESS",
        /// `IMPORT_ROLLBACK_IN_PROGRESS`.
        ImportRollbackInProgress = "IMPORT_ROLLBACK_IN_PROGRESS",
        /// `IMPORT_ROLLBACK_FAILED`.
        ImportRollbackFailed = "IMPORT_ROLLBACK_FAILED",
        /// `IMPORT_ROLLBACK_COMPLETE`.
        ImportRollbackComplete = "IMPORT_ROLLBACK_COMPLETE",
        /// `UPDATE_ROLLBACK_IN_PROGRESS`.
        UpdateRollbackInProgress = "UPDATE_ROLLBACK_IN_PROGRESS",
        /// `UPDATE_ROLLBACK_COMPLETE`.
        UpdateRollbackComplete = "UPDATE_ROLLBACK_COMPLETE",
        /// `UPDATE_ROLLBACK_FAILED`.
        UpdateRollbackFailed = "UPDATE_ROLLBACK_FAILED",
        /// `ROLLBACK_IN_PROGRESS`.
        RollbackInProgress = "ROLLBACK_IN_PROGRESS",
        /// `ROLLBACK_COMPLETE`.
        RollbackComplete = "ROLLBACK_COMPLETE",
        /// `ROLLBACK_FAILED`.
        RollbackFailed = "ROLLBACK_FAILED",
        /// `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS` (stack events only).
        UpdateCompleteCleanupInProgress = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        /// `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS` (stack events only).
        UpdateRollbackCompleteCleanupInProgress = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        /// `REVIEW_IN_PROGRESS` (stack events only).
        ReviewInProgress = "REVIEW_IN_PROGRESS",
    }
}

impl ResourceStatus {
    /// Whether the step failed: `CREATE_FAILED`, `UPDATE_FAILED`, `DELETE_FAILED`,
    /// `IMPORT_FAILED`, `UPDATE_ROLLBACK_FAILED`, `ROLLBACK_FAILED`...
    #[must_use]
    pub fn is_failed(&self) -> bool {
        self.as_str().ends_with("_FAILED")
    }

    /// The stack status an event of a stack itself reports (the same spelling).
    #[must_use]
    pub fn stack_status(&self) -> StackStatus {
        StackStatus::parse(self.as_str())
    }
}

api_enum! {
    /// The status of a change set (`DescribeChangeSet.Status`).
    ChangeSetStatus {
        /// `CREATE_PENDING`.
        CreatePending = "CREATE_PENDING",
        /// `CREATE_IN_PROGRESS`.
        CreateInProgress = "CREATE_IN_PROGRESS",
        /// `CREATE_COMPLETE`: ready to be executed.
        CreateComplete = "CREATE_COMPLETE",
        /// `DELETE_PENDING`.
        DeletePending = "DELETE_PENDING",
        /// `DELETE_IN_PROGRESS`.
        DeleteInProgress = "DELETE_IN_PROGRESS",
        /// `DELETE_COMPLETE`.
        DeleteComplete = "DELETE_COMPLETE",
        /// `DELETE_FAILED`.
        DeleteFailed = "DELETE_FAILED",
        /// `FAILED`: CloudFormation could not make it (`StatusReason` says why; also "no changes").
        Failed = "FAILED",
    }
}

impl ChangeSetStatus {
    /// Whether CloudFormation is still making the change set (`CREATE_PENDING`,
    /// `CREATE_IN_PROGRESS`, or no status yet): poll again.
    #[must_use]
    pub fn is_pending(&self) -> bool {
        match self {
            Self::CreatePending | Self::CreateInProgress => true,
            Self::Other(s) => s.is_empty(),
            _ => false,
        }
    }
}

api_enum! {
    /// The state of a drift detection (`DescribeStackDriftDetectionStatus.DetectionStatus`).
    DetectionStatus {
        /// `DETECTION_IN_PROGRESS`.
        InProgress = "DETECTION_IN_PROGRESS",
        /// `DETECTION_COMPLETE`.
        Complete = "DETECTION_COMPLETE",
        /// `DETECTION_FAILED`.
        Failed = "DETECTION_FAILED",
    }
}

api_enum! {
    /// How a resource differs from its template (`StackResourceDrift.StackResourceDriftStatus`).
    ResourceDriftStatus {
        /// `IN_SYNC`.
        InSync = "IN_SYNC",
        /// `MODIFIED`: a property differs.
        Modified = "MODIFIED",
        /// `DELETED`: the resource was deleted outside CloudFormation.
        Deleted = "DELETED",
        /// `NOT_CHECKED`.
        NotChecked = "NOT_CHECKED",
        /// `UNKNOWN`.
        Unknown = "UNKNOWN",
    }
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
        assert_eq!(StackStatus::ALL.len(), 23);
        for (name, status) in StackStatus::ALL {
            assert_eq!(StackStatus::parse(name), *status);
            assert_eq!(status.as_str(), *name);
            let settled = !name.ends_with("_IN_PROGRESS") || *name == "REVIEW_IN_PROGRESS";
            assert_eq!(status.is_settled(), settled, "{name}");
            assert_eq!(status.next() == Next::Wait, !settled, "{name}");
            assert!(!(status.is_success() && status.is_failure()), "{name}");
        }
        assert_eq!(StackStatus::parse("SOMETHING_NEW"), StackStatus::Other("SOMETHING_NEW".into()));
        assert!(!StackStatus::parse("SOMETHING_NEW").is_settled());
        for (name, status) in ResourceStatus::ALL {
            assert_eq!(ResourceStatus::parse(name), *status);
            assert_eq!(status.is_failed(), name.ends_with("_FAILED"), "{name}");
        }
        for (name, status) in ChangeSetStatus::ALL {
            assert_eq!(ChangeSetStatus::parse(name).as_str(), *name);
            assert_eq!(status.is_pending(), name.starts_with("CREATE_") && *name != "CREATE_COMPLETE");
        }
        assert_eq!(DetectionStatus::parse("DETECTION_COMPLETE"), DetectionStatus::Complete);
        // Event lines align statuses in a column.
        assert_eq!(format!("{:<20}|", ResourceStatus::CreateComplete), "CREATE_COMPLETE     |");
        assert_eq!(ResourceDriftStatus::parse("DELETED"), ResourceDriftStatus::Deleted);
    }

    #[test]
    fn the_rules_of_stack_statuses() {
        assert_eq!(StackStatus::RollbackComplete.next(), Next::Recreate);
        assert_eq!(StackStatus::UpdateRollbackComplete.next(), Next::Update);
        assert_eq!(StackStatus::UpdateRollbackFailed.next(), Next::Stuck);
        assert_eq!(StackStatus::UpdateCompleteCleanupInProgress.next(), Next::Wait);
        assert_eq!(StackStatus::DeleteComplete.next(), Next::Create);
        assert!(StackStatus::UpdateRollbackComplete.is_failure());
        assert!(StackStatus::UpdateComplete.is_success());
        assert_eq!(
            ResourceStatus::UpdateCompleteCleanupInProgress.stack_status(),
            StackStatus::UpdateCompleteCleanupInProgress
        );
    }

    #[test]
    fn cancellations_and_summaries_are_not_root_causes() {
        assert!(is_cancellation("Resource creation cancelled"));
        assert!(is_summary("The following resource(s) failed to create: [Bucket]. "));
        assert!(is_summary("Embedded stack arn:aws:cloudformation:... was not successfully created: ..."));
        assert!(!is_cancellation("Resource handler returned message: \"Access Denied\""));
    }
}
