//! How a deploy command ended, typed: [`Outcome`]. The command line turns it into words and
//! an exit status; nothing here prints or exits.
//!
//! Errors that stop a command before or around CloudFormation's work (a call that failed after
//! the retries, an asset that could not be published) are a [`DeployError`] instead.

use super::assets::{AssetError, StoreError};
use super::cloudformation::{CfnError, StackEvent, StackInfo};
use super::preflight::Finding;
use super::status::StackStatus;

/// How `apply`, `bootstrap`, `destroy` or `status` ended.
// One outcome per command run: its size does not matter, its shape does.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to do: the stack is up to date (apply, bootstrap), or there is no stack to
    /// delete (destroy).
    NoChanges(NoChanges),
    /// The stack was created or updated.
    Deployed {
        /// The stack name.
        stack: String,
        /// The root stack at the end (status, outputs).
        info: StackInfo,
    },
    /// `destroy` deleted the stack.
    Deleted {
        /// The stack name.
        stack: String,
        /// Resources left behind by `DeletionPolicy: Retain`, with their data.
        retained: Vec<TreeResource>,
    },
    /// `status` showed the stack; `drifted` resources differ from their templates (always 0
    /// without `--drift`).
    Shown {
        /// Resources that drifted.
        drifted: usize,
    },
    /// sandboxc refused to go on; nothing was changed.
    Refused(Refusal),
    /// The person answered no (or there was no terminal to ask on); nothing was changed.
    Declined {
        /// The command: `apply`, `bootstrap` or `destroy`.
        command: &'static str,
        /// What was left as it was ("change set deleted"...).
        cleanup: &'static str,
    },
    /// CloudFormation could not do it.
    Failed(Failed),
    /// Following stopped (Ctrl-C, or the follow timeout); CloudFormation goes on.
    Interrupted(Interrupted),
}

impl Outcome {
    /// Whether the command did what it was asked (`NoChanges`, `Deployed`, `Deleted`, `Shown`).
    #[must_use]
    pub fn is_success(&self) -> bool {
        matches!(self, Self::NoChanges(_) | Self::Deployed { .. } | Self::Deleted { .. } | Self::Shown { .. })
    }
}

/// Why there was nothing to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoChanges {
    /// The change set holds no change (`reason`: CloudFormation's words); `deleted`: the empty
    /// change set was deleted (false when `CreateChangeSet` refused to make one).
    UpToDate {
        /// The stack name.
        stack: String,
        /// CloudFormation's reason.
        reason: String,
        /// Whether an empty change set was made and deleted.
        deleted: bool,
    },
    /// `destroy`: the stack does not exist.
    NoStack {
        /// The stack name.
        stack: String,
        /// The account asked.
        account: String,
        /// The Region asked.
        region: String,
    },
}

/// Why sandboxc refused to go on (nothing was changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The stack can only be deleted and created again (`ROLLBACK_COMPLETE`, `ROLLBACK_FAILED`,
    /// `CREATE_FAILED`, or `REVIEW_IN_PROGRESS` without resources), and `--recreate` was not given.
    NeedsRecreate {
        /// The stack name.
        stack: String,
        /// Its status.
        status: StackStatus,
        /// `StackStatusReason`, empty when absent.
        reason: String,
        /// `REVIEW_IN_PROGRESS`: a change set was created and never executed.
        never_deployed: bool,
    },
    /// `REVIEW_IN_PROGRESS` but with resources: not sandboxc's to delete.
    ReviewWithResources {
        /// The stack name.
        stack: String,
    },
    /// A state a person must resolve first (`UPDATE_ROLLBACK_FAILED`, `DELETE_FAILED`...).
    Stuck {
        /// The stack name.
        stack: String,
        /// Its status.
        status: StackStatus,
        /// `StackStatusReason`, empty when absent.
        reason: String,
    },
    /// The stack kept changing state while sandboxc waited for it to settle.
    KeptChanging {
        /// The stack name.
        stack: String,
    },
    /// A deployment runs on the stack (destroy does not wait).
    Running {
        /// The stack name.
        stack: String,
        /// Its status.
        status: StackStatus,
    },
    /// Another deployment changes the stack right now (CloudFormation refused the change set
    /// or its execution).
    Concurrent {
        /// The stack name.
        stack: String,
        /// CloudFormation's refusal.
        detail: String,
    },
    /// The deployed template was not written by sandboxc (its `Description` does not start
    /// with `sandboxc`): never updated, never deleted.
    NotMadeBySandboxc {
        /// The stack name.
        stack: String,
        /// `destroy` (true) or `apply` (false).
        deleting: bool,
    },
    /// The change replaces or removes resources that hold data, without `--allow-data-loss`.
    DataLoss {
        /// `stack/LogicalId (Type)` of each.
        resources: Vec<String>,
    },
    /// `status`: the stack does not exist.
    NoStack {
        /// The stack name.
        stack: String,
        /// The account asked.
        account: String,
        /// The Region asked.
        region: String,
    },
    /// The preflight found what would make the deployment fail (nothing was uploaded or
    /// changed).
    Preflight {
        /// The stack name.
        stack: String,
        /// The blocking findings, each saying what to do.
        findings: Vec<Finding>,
    },
    /// `apply` without `--assets-bucket`: the assets stack does not exist, or has no bucket yet.
    NoAssetsBucket {
        /// The assets stack's name.
        stack: String,
        /// Its status, when it exists.
        status: Option<StackStatus>,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NeedsRecreate { stack, status, reason, never_deployed } => {
                let why = recreate_why(*never_deployed, reason);
                let extra = if *never_deployed {
                    ""
                } else {
                    " (resources with DeletionPolicy Retain that were created stay, and a fixed-name one may block the new creation: delete them first); `sandboxc status` shows the failed events"
                };
                write!(f, "stack {stack} is {status}: {why}. Run the command again with --recreate to delete it and create it again{extra}")
            }
            Self::ReviewWithResources { stack } => write!(
                f,
                "stack {stack} is REVIEW_IN_PROGRESS but has resources: inspect it in the CloudFormation console; sandboxc does not delete it"
            ),
            Self::Stuck { stack, status, reason } => f.write_str(&stuck_message(stack, status, reason)),
            Self::KeptChanging { stack } => write!(
                f,
                "stack {stack} kept changing state while sandboxc waited: run `sandboxc status`, then apply again"
            ),
            Self::Running { stack, status } => write!(
                f,
                "stack {stack} is {status}: a deployment is running; wait for it to end (`sandboxc status`), then destroy"
            ),
            Self::Concurrent { stack, detail } => write!(
                f,
                "stack {stack} is being changed by another deployment right now, so this apply was refused and changed nothing ({detail}). Wait for it (`sandboxc status`), then apply again"
            ),
            Self::NotMadeBySandboxc { stack, deleting } => write!(
                f,
                "stack {stack} was not made by sandboxc (its template's Description does not start with \"sandboxc\"): {}",
                if *deleting {
                    "sandboxc does not delete it; nothing was deleted"
                } else {
                    "sandboxc does not update it; choose another `name` in the blueprint (change set deleted; nothing changed)"
                }
            ),
            Self::DataLoss { resources } => write!(
                f,
                "refused: this change replaces or removes resources that hold data: {}. Nothing was changed (change set deleted). If that is intended, run again with --allow-data-loss",
                resources.join(", ")
            ),
            Self::NoStack { stack, account, region } => {
                write!(f, "stack {stack} does not exist in account {account} ({region}): `sandboxc apply` creates it")
            }
            Self::Preflight { stack, findings } => {
                write!(
                    f,
                    "preflight: {} problem{} would make the deployment of stack {stack} fail; nothing was uploaded or changed",
                    findings.len(),
                    if findings.len() == 1 { "" } else { "s" }
                )?;
                for finding in findings {
                    let mut lines = finding.lines().into_iter();
                    if let Some(first) = lines.next() {
                        write!(f, "\n- {first}")?;
                    }
                    for l in lines {
                        write!(f, "\n  {l}")?;
                    }
                }
                Ok(())
            }
            Self::NoAssetsBucket { stack, status: None } => write!(
                f,
                "no assets bucket: the {stack} stack does not exist in this account and Region. Run `sandboxc bootstrap` once, or name a bucket with --assets-bucket"
            ),
            Self::NoAssetsBucket { stack, status: Some(s) } => write!(
                f,
                "the {stack} stack ({s}) has no assets bucket yet: run `sandboxc bootstrap`, or pass --assets-bucket"
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// Why a stack can only be deleted and created again: never deployed (`REVIEW_IN_PROGRESS`),
/// or a failed first creation (with CloudFormation's `reason`).
#[must_use]
pub fn recreate_why(never_deployed: bool, reason: &str) -> String {
    if never_deployed {
        "it was never deployed (a change set was created and not executed)".to_string()
    } else {
        format!(
            "its creation failed and was rolled back, so it cannot be updated, only deleted{}",
            reason_suffix(reason)
        )
    }
}

/// ` (reason)`, or nothing for an empty reason.
#[must_use]
pub fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    }
}

/// What to do about a stack that needs a person.
#[must_use]
pub fn stuck_message(stack: &str, status: &StackStatus, reason: &str) -> String {
    let r = reason_suffix(reason);
    match status {
        StackStatus::UpdateRollbackFailed => format!(
            "stack {stack} is UPDATE_ROLLBACK_FAILED{r}: CloudFormation could not roll back an update. Fix the cause (often a resource changed or deleted outside CloudFormation), then run `aws cloudformation continue-update-rollback --stack-name {stack}` (add `--resources-to-skip LOGICAL_ID` for resources that cannot be rolled back), wait for UPDATE_ROLLBACK_COMPLETE, and apply again"
        ),
        StackStatus::DeleteFailed => format!(
            "stack {stack} is DELETE_FAILED{r}: a resource could not be deleted (often a non-empty bucket or a resource in use). Fix it and run `sandboxc destroy` again; `sandboxc status` shows the failed events"
        ),
        other => format!("stack {stack} is {other}{r}: sandboxc cannot update it from this state; see `sandboxc status` and the CloudFormation console"),
    }
}

/// What CloudFormation could not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    /// CloudFormation could not create the change set (a `FAILED` change set other than "no
    /// changes"); it was deleted, nothing changed.
    ChangeSet {
        /// The stack name.
        stack: String,
        /// Status and `StatusReason`.
        reason: String,
    },
    /// The deployment ran and the root stack settled in a status that is not a success.
    Deployment {
        /// The stack name.
        stack: String,
        /// The root stack at the end.
        info: StackInfo,
        /// The first failure's root cause, if CloudFormation reported a failed step.
        root_cause: Option<Failure>,
    },
    /// The stack disappeared while followed (a failed creation with rollback disabled
    /// deletion, or someone deleted it).
    Vanished {
        /// The stack name.
        stack: String,
        /// The root cause among the failed steps seen, if any.
        root_cause: Option<Failure>,
    },
    /// The deployment succeeded (or there was nothing to change), but the stack policy that
    /// denies replacing and deleting stateful resources could not be set on every stack (root
    /// and nested): those resources are not protected against the next update.
    Unprotected {
        /// The stack name.
        stack: String,
        /// The root stack's status after a deployment; `None` after "no changes".
        status: Option<StackStatus>,
        /// One line per stack left unprotected: its ARN and CloudFormation's answer.
        problems: Vec<String>,
    },
    /// Deleting the stack (destroy, or `--recreate`) ended in another status.
    Deletion {
        /// The stack ARN.
        stack: String,
        /// The status at the end.
        status: StackStatus,
        /// `StackStatusReason`.
        reason: String,
        /// The root cause, if CloudFormation reported a failed step.
        root_cause: Option<Failure>,
    },
}

/// Where following stopped while CloudFormation goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interrupted {
    /// Following a deployment (this one, or another that was running first).
    Deployment {
        /// The stack name.
        stack: String,
        /// Whether the stack policy that protects stateful resources is still lifted or
        /// not set yet (it is set when an apply of this stack finishes).
        unprotected: bool,
    },
    /// Following a deletion.
    Deletion {
        /// The stack ARN.
        stack: String,
    },
}

/// A failed step of the deployment, with the path of its stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `""` for the root stack, else the nested stacks' parts from the root, `/`-separated.
    pub stack_path: String,
    /// The event.
    pub event: StackEvent,
}

/// The root cause as a line for people: where (stack path, logical ID, type, physical ID),
/// what status, and CloudFormation's reason.
#[must_use]
pub fn describe_root_cause(f: &Failure) -> String {
    let stack = if f.stack_path.is_empty() {
        format!("root stack {}", f.event.stack_name)
    } else {
        format!("nested stack {} ({})", f.stack_path, f.event.stack_name)
    };
    let physical =
        if f.event.physical_id.is_empty() { String::new() } else { format!(", physical ID {}", f.event.physical_id) };
    format!(
        "root cause: {} ({}{physical}) in the {stack}: {}: {}",
        f.event.logical_id,
        f.event.resource_type,
        f.event.status,
        if f.event.reason.is_empty() { "no reason given" } else { &f.event.reason }
    )
}

/// One resource of the stack tree (destroy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeResource {
    /// `Network/Vpc` style path (nested stacks by their part).
    pub path: String,
    /// Resource type.
    pub resource_type: String,
    /// Physical ID.
    pub physical_id: String,
    /// Whether the deployed template says `DeletionPolicy: Retain`.
    pub retained: bool,
    /// Whether the template gives it a fixed physical name (`BucketName`, `LogGroupName`...):
    /// retained, it keeps that name taken, so a new stack of the same blueprint cannot create
    /// it until it is deleted.
    pub fixed_name: bool,
}

/// A deploy command failed before or around CloudFormation's work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    /// A CloudFormation call failed (after the retries).
    #[error("stack {stack}: {source}")]
    CloudFormation {
        /// The stack concerned.
        stack: String,
        /// The call's error.
        source: CfnError,
    },
    /// Following the deployment failed: it goes on in CloudFormation.
    #[error("lost track of the deployment: stack {stack}: {source}. {}", reattach_hint(.stack))]
    LostTrack {
        /// The stack name.
        stack: String,
        /// The call's error.
        source: CfnError,
    },
    /// An asset could not be published: no change set was created.
    #[error("{0}")]
    Asset(Box<AssetError>),
    /// AppStream's home-folder bucket could not be checked.
    #[error("cannot check AppStream's home-folder bucket {bucket} (s3:HeadBucket / s3:ListBucket): {source}")]
    HomeFolderBucket {
        /// The bucket name.
        bucket: String,
        /// S3's answer.
        source: StoreError,
    },
    /// The Region's S3 prefix list could not be found (the root template's `S3PrefixListId`).
    #[error("cannot find the S3 prefix list {name} (ec2:DescribePrefixLists): {problem}; no change set was created")]
    S3PrefixList {
        /// The list's name, `com.amazonaws.<region>.s3`.
        name: String,
        /// EC2's answer, or that the Region has no such list.
        problem: String,
    },
    /// A Lambda zip is neither in the bucket nor available locally: no change set was created.
    #[error("{0}; no change set was created")]
    LambdaZip(String),
    /// Drift detection failed or did not finish in time.
    #[error("{0}")]
    Drift(String),
    /// A deployed template could not be read.
    #[error("{0}")]
    Template(String),
    /// A bug in sandboxc.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<AssetError> for DeployError {
    fn from(e: AssetError) -> Self {
        Self::Asset(Box::new(e))
    }
}

impl DeployError {
    /// A CloudFormation error about `stack`.
    #[must_use]
    pub fn cfn(stack: &str, source: CfnError) -> Self {
        Self::CloudFormation { stack: stack.to_string(), source }
    }
}

/// Hint after Ctrl-C or a follow timeout.
#[must_use]
pub fn reattach_hint(stack: &str) -> String {
    format!(
        "stopped following: the deployment of stack {stack} continues in CloudFormation. Run `sandboxc apply` again to re-attach (it follows the running deployment to its end, then plans again: nothing is applied twice), or `sandboxc status` to see where it is"
    )
}
