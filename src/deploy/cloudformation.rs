//! The CloudFormation API as the stack lifecycle sees it: the [`CloudFormation`] trait (one
//! method per API call sandboxc makes), the answers as sandboxc types (statuses typed, see
//! [`super::status`]), and [`CfnError`]. `src/aws` implements the trait over the AWS SDK; the
//! tests implement it in memory.
//!
//! Free functions here build on the calls: [`nested_stacks`], [`wait_change_set`].

use std::future::Future;
use std::time::Duration;

use super::status::{ChangeSetStatus, DetectionStatus, ResourceDriftStatus, ResourceStatus, StackStatus};
use crate::plan::refine::ResourceFact;

/// The resource type of a nested stack.
pub const NESTED_STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// What went wrong in one CloudFormation call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfnError {
    /// `DescribeStacks` answered ValidationError "Stack with id X does not exist".
    #[error("the CloudFormation stack {stack} does not exist")]
    NotFound {
        /// The stack name or ID asked for.
        stack: String,
    },
    /// `CreateChangeSet` answered ValidationError "No updates are to be performed.".
    #[error("no updates are to be performed")]
    NoUpdates,
    /// AWS refused the call for lack of permission or valid credentials (AccessDenied,
    /// UnauthorizedOperation, ExpiredToken...).
    #[error("AWS denied {api}: {code}: {message}; the credentials need the IAM permission cloudformation:{api}")]
    AccessDenied {
        /// The API call.
        api: &'static str,
        /// Error code.
        code: String,
        /// Error message.
        message: String,
    },
    /// Another operation runs on the stack: a ValidationError naming an `_IN_PROGRESS` state,
    /// or the code `OperationInProgressException` / `InvalidChangeSetStatus`.
    #[error("CloudFormation {api} failed: {code}: {message}")]
    Conflict {
        /// The API call.
        api: &'static str,
        /// Error code.
        code: String,
        /// Error message.
        message: String,
    },
    /// Any other error of one call, after the SDK's retries.
    #[error("CloudFormation {api} failed: {message}")]
    Call {
        /// The API call.
        api: &'static str,
        /// The error with its context: code and message, or the connection problem and the
        /// endpoint.
        message: String,
    },
    /// Waiting for a change set took longer than [`Polling::timeout`].
    #[error("the change set {change_set} was still being created after {seconds} seconds (DescribeChangeSet)")]
    Timeout {
        /// The change set ARN.
        change_set: String,
        /// The time waited, in seconds.
        seconds: u64,
    },
}

/// A deployed stack (`DescribeStacks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    /// `StackId` (the stack ARN).
    pub stack_id: String,
    /// `StackStatus`.
    pub status: StackStatus,
    /// `StackStatusReason`, empty when absent.
    pub reason: String,
    /// `Parameters`: key and value (`ParameterKey`, `ParameterValue`).
    pub parameters: Vec<(String, String)>,
    /// `Outputs`, in the order returned.
    pub outputs: Vec<StackOutput>,
    /// `EnableTerminationProtection`.
    pub termination_protection: bool,
}

/// One stack output (`Stack.Outputs[]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StackOutput {
    /// `OutputKey`.
    pub key: String,
    /// `OutputValue`, empty when absent.
    pub value: String,
    /// `Description`, empty when absent.
    pub description: String,
}

/// One stack event (`DescribeStackEvents`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackEvent {
    /// `EventId`: unique per event.
    pub id: String,
    /// `StackId` of the stack the event belongs to.
    pub stack_id: String,
    /// `StackName`.
    pub stack_name: String,
    /// `LogicalResourceId` (the stack's own name for stack-level events).
    pub logical_id: String,
    /// `PhysicalResourceId`, empty when not yet known.
    pub physical_id: String,
    /// `ResourceType`, such as `AWS::S3::Bucket`.
    pub resource_type: String,
    /// `Timestamp`, milliseconds since the Unix epoch (UTC).
    pub timestamp_ms: i64,
    /// `ResourceStatus`.
    pub status: ResourceStatus,
    /// `ResourceStatusReason`, empty when absent.
    pub reason: String,
}

/// One page of `DescribeStackEvents`: events newest first, and the token of the next page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventsPage {
    /// `StackEvents`, newest first (up to 100).
    pub events: Vec<StackEvent>,
    /// `NextToken`: older events follow.
    pub next_token: Option<String>,
}

/// One resource of a stack (`ListStackResources`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `PhysicalResourceId`, empty when not created.
    pub physical_id: String,
    /// `ResourceType`.
    pub resource_type: String,
    /// `ResourceStatus`.
    pub status: ResourceStatus,
}

/// A nested stack of a deployed stack (`ListStackResources`, type `AWS::CloudFormation::Stack`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestedStack {
    /// `LogicalResourceId` in the parent.
    pub logical_id: String,
    /// `PhysicalResourceId`: the nested stack's ARN.
    pub stack_id: String,
}

/// The state of a change set (`DescribeChangeSet`, all pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetState {
    /// `Status`.
    pub status: ChangeSetStatus,
    /// `StatusReason`, empty when absent.
    pub reason: String,
    /// `CreationTime`, milliseconds since the Unix epoch by CloudFormation's clock (0 when
    /// absent): events of an execution are never older.
    pub created_ms: i64,
    /// `Changes[].ResourceChange`, with `stack_path` left empty (the caller knows it), and
    /// the nested change set of each nested-stack change (`ResourceChange.ChangeSetId`).
    pub changes: Vec<(ResourceFact, Option<String>)>,
}

impl ChangeSetState {
    /// Whether the change set failed because there is nothing to change, in either AWS
    /// wording (`StatusReason` "The submitted information didn't contain changes..." or
    /// "No updates are to be performed.").
    #[must_use]
    pub fn is_empty_failure(&self) -> bool {
        self.status == ChangeSetStatus::Failed
            && (self.reason.contains("didn't contain changes")
                || self.reason.contains("No updates are to be performed"))
    }
}

/// What `CreateChangeSet` needs. sandboxc always sends the capabilities `CAPABILITY_IAM`,
/// `CAPABILITY_NAMED_IAM` and `CAPABILITY_AUTO_EXPAND`, and `IncludeNestedStacks` with CREATE
/// and UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetRequest {
    /// `StackName`.
    pub stack_name: String,
    /// `ChangeSetName` (`[a-zA-Z][-a-zA-Z0-9]*`).
    pub change_set_name: String,
    /// The template: inline or by URL.
    pub template: TemplateSource,
    /// `Tags`: key and value, given to the stack and every resource that takes tags.
    pub tags: Vec<(String, String)>,
    /// `Description` of the change set.
    pub description: String,
    /// `Parameters`: key and value; `None` means `UsePreviousValue`.
    pub parameters: Vec<(String, Option<String>)>,
    /// `ChangeSetType`, and for IMPORT the `ResourcesToImport`.
    pub kind: ChangeSetKind,
}

/// `ChangeSetType` of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetKind {
    /// `CREATE`: the stack does not exist yet.
    Create,
    /// `UPDATE` of an existing stack.
    Update,
    /// `IMPORT`: existing resources adopted into the stack (created by the change set when it
    /// does not exist), each one named in `ResourcesToImport`; the template holds exactly
    /// the resources to import (and those already in the stack), each with a `DeletionPolicy`
    /// (CloudFormation user guide, "Import AWS resources into a CloudFormation stack").
    Import(Vec<ResourceToImport>),
}

/// One entry of `ResourcesToImport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceToImport {
    /// `ResourceType`, such as `AWS::Logs::LogGroup`.
    pub resource_type: String,
    /// `LogicalResourceId` in the template.
    pub logical_id: String,
    /// `ResourceIdentifier`: the type's primary identifier property and its value
    /// (`LogGroupName`, `BucketName`, `KeyId`, `StackId`).
    pub identifier: (String, String),
}

/// Where `CreateChangeSet` reads the template from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    /// `TemplateBody`: at most [`super::MAX_TEMPLATE_BODY`] bytes (the caller checks).
    Body(String),
    /// `TemplateURL`: an `https://` URL of the template in S3 (at most 1 MB).
    Url(String),
}

/// The state of a drift detection (`DescribeStackDriftDetectionStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftDetection {
    /// `DetectionStatus`.
    pub status: DetectionStatus,
    /// `DetectionStatusReason`, empty when absent.
    pub reason: String,
}

/// A drifted resource (`DescribeStackResourceDrifts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDrift {
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `PhysicalResourceId`.
    pub physical_id: String,
    /// `ResourceType`.
    pub resource_type: String,
    /// `StackResourceDriftStatus`: `MODIFIED` or `DELETED` (the only ones asked for).
    pub status: ResourceDriftStatus,
    /// `PropertyDifferences`.
    pub differences: Vec<PropertyDifference>,
}

/// One `PropertyDifference` of a drifted resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyDifference {
    /// `PropertyPath`, such as `/VersioningConfiguration/Status`.
    pub path: String,
    /// `ExpectedValue` (the template's).
    pub expected: String,
    /// `ActualValue`.
    pub actual: String,
    /// `DifferenceType`: `ADD`, `REMOVE`, `NOT_EQUAL`.
    pub kind: String,
}

/// How `DescribeChangeSet` (and drift detection) is polled: the delay starts at `initial` and
/// doubles up to `max`; after `timeout` in total the wait gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// First delay.
    pub initial: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Give up after this long.
    pub timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self { initial: Duration::from_millis(500), max: Duration::from_secs(5), timeout: Duration::from_secs(600) }
    }
}

/// The CloudFormation calls sandboxc makes, one method per API call; every method answers
/// after the implementation's retries, with sandboxc's types, or a [`CfnError`] naming the
/// call. Implemented over the AWS SDK by `src/aws` (with timeouts on every call).
pub trait CloudFormation {
    /// `DescribeStacks` of one stack (name or ARN).
    ///
    /// # Errors
    /// [`CfnError::NotFound`] when no such stack exists (by name; by ARN a deleted stack
    /// answers `DELETE_COMPLETE`), else [`CfnError`].
    fn describe_stack(&self, stack: &str) -> impl Future<Output = Result<StackInfo, CfnError>> + Send;

    /// `GetTemplate` with `TemplateStage` Original: the template body as deployed (JSON or YAML).
    ///
    /// # Errors
    /// [`CfnError`].
    fn get_template(&self, stack: &str) -> impl Future<Output = Result<String, CfnError>> + Send;

    /// `ListStackResources`, all pages.
    ///
    /// # Errors
    /// [`CfnError`].
    fn list_resources(&self, stack: &str) -> impl Future<Output = Result<Vec<StackResource>, CfnError>> + Send;

    /// One page of `DescribeStackEvents` (newest first); `next_token` from the previous page.
    ///
    /// # Errors
    /// [`CfnError`].
    fn events_page(
        &self,
        stack: &str,
        next_token: Option<String>,
    ) -> impl Future<Output = Result<EventsPage, CfnError>> + Send;

    /// `CreateChangeSet` with `IncludeNestedStacks` and the capabilities `CAPABILITY_IAM`,
    /// `CAPABILITY_NAMED_IAM` and `CAPABILITY_AUTO_EXPAND`. Returns the change set's ARN (`Id`).
    ///
    /// # Errors
    /// [`CfnError::NoUpdates`] for the ValidationError "No updates are to be performed.",
    /// [`CfnError::Conflict`] when another operation runs on the stack, else [`CfnError`].
    fn create_change_set(&self, request: &ChangeSetRequest) -> impl Future<Output = Result<String, CfnError>> + Send;

    /// `DescribeChangeSet` once, every page (`NextToken`).
    ///
    /// # Errors
    /// [`CfnError`].
    fn describe_change_set(&self, id: &str) -> impl Future<Output = Result<ChangeSetState, CfnError>> + Send;

    /// `ExecuteChangeSet`.
    ///
    /// # Errors
    /// [`CfnError::Conflict`] when another operation runs on the stack, else [`CfnError`].
    fn execute_change_set(&self, id: &str) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// `DeleteChangeSet`.
    ///
    /// # Errors
    /// [`CfnError`].
    fn delete_change_set(&self, id: &str) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// `DeleteStack`.
    ///
    /// # Errors
    /// [`CfnError`].
    fn delete_stack(&self, stack: &str) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// `UpdateTerminationProtection` (root stacks only; nested stacks inherit it).
    ///
    /// # Errors
    /// [`CfnError`].
    fn set_termination_protection(&self, stack: &str, on: bool) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// `SetStackPolicy` with a policy body (JSON).
    ///
    /// # Errors
    /// [`CfnError`].
    fn set_stack_policy(&self, stack: &str, body: &str) -> impl Future<Output = Result<(), CfnError>> + Send;

    /// `DetectStackDrift`: starts drift detection, returns its `StackDriftDetectionId`.
    ///
    /// # Errors
    /// [`CfnError`].
    fn detect_drift(&self, stack: &str) -> impl Future<Output = Result<String, CfnError>> + Send;

    /// `DescribeStackDriftDetectionStatus`.
    ///
    /// # Errors
    /// [`CfnError`].
    fn drift_detection(&self, id: &str) -> impl Future<Output = Result<DriftDetection, CfnError>> + Send;

    /// `DescribeStackResourceDrifts` for `MODIFIED` and `DELETED` resources, all pages.
    ///
    /// # Errors
    /// [`CfnError`].
    fn resource_drifts(&self, stack: &str) -> impl Future<Output = Result<Vec<ResourceDrift>, CfnError>> + Send;
}

/// The nested stacks of a stack: its resources of type `AWS::CloudFormation::Stack` that have
/// a physical ID (`ListStackResources`).
///
/// # Errors
/// [`CfnError`].
pub async fn nested_stacks<C: CloudFormation>(cfn: &C, stack: &str) -> Result<Vec<NestedStack>, CfnError> {
    Ok(cfn
        .list_resources(stack)
        .await?
        .into_iter()
        .filter(|r| r.resource_type == NESTED_STACK_TYPE && !r.physical_id.is_empty() && !r.logical_id.is_empty())
        .map(|r| NestedStack { logical_id: r.logical_id, stack_id: r.physical_id })
        .collect())
}

/// The part a nested stack holds, from its logical ID: `NetworkNestedStack` -> `Network`.
#[must_use]
pub fn part_of(logical_id: &str) -> &str {
    sandboxc_contract::stack::nested_stack_title(logical_id).unwrap_or(logical_id)
}

/// Polls `DescribeChangeSet` (bounded, with growing delays) until the change set is no longer
/// pending (`CREATE_COMPLETE`, `FAILED`, or another status).
///
/// # Errors
/// [`CfnError::Timeout`] after [`Polling::timeout`], or the error of a call.
pub async fn wait_change_set<C: CloudFormation>(
    cfn: &C,
    id: &str,
    polling: Polling,
) -> Result<ChangeSetState, CfnError> {
    let start = std::time::Instant::now();
    let mut delay = polling.initial;
    loop {
        let state = cfn.describe_change_set(id).await?;
        if !state.status.is_pending() {
            return Ok(state);
        }
        if start.elapsed() >= polling.timeout {
            return Err(CfnError::Timeout { change_set: id.to_string(), seconds: polling.timeout.as_secs() });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(polling.max);
    }
}
