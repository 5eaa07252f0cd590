//! A small typed wrapper over the CloudFormation API calls of `sandboxc plan`: every answer is
//! converted into sandboxc's own types here (nothing of the SDK leaks out), and every error
//! into a [`CfnError`] that names the API call.

use std::time::Duration;

use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, ChangeSetStatus, ChangeSetType, Parameter, TemplateStage};
use aws_sdk_cloudformation::Client;

use crate::plan::refine::{ChangeAction, ChangeReplacement, DetailFact, RequiresRecreation, ResourceFact};

/// What went wrong in one CloudFormation call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CfnError {
    /// `DescribeStacks` answered ValidationError "Stack with id X does not exist".
    #[error("the CloudFormation stack {0} does not exist")]
    NotFound(String),
    /// `CreateChangeSet` answered ValidationError "No updates are to be performed.".
    #[error("no updates are to be performed")]
    NoUpdates,
    /// AWS refused the call for lack of permission (AccessDenied, UnauthorizedOperation...).
    #[error("AWS denied {api}: {code}: {message}; the credentials need the IAM permission cloudformation:{api}")]
    AccessDenied {
        /// The API call.
        api: &'static str,
        /// Error code.
        code: String,
        /// Error message.
        message: String,
    },
    /// Any other error of one call.
    #[error("CloudFormation {api} failed: {message}")]
    Call {
        /// The API call.
        api: &'static str,
        /// The error with its context (code, message, or the connection problem).
        message: String,
    },
    /// Waiting for a change set took too long.
    #[error("the change set {0} was still being created after {1} seconds (DescribeChangeSet)")]
    Timeout(String, u64),
}

pub(super) fn classify<E>(api: &'static str, e: &aws_sdk_cloudformation::error::SdkError<E>) -> CfnError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let code = e.code().unwrap_or_default().to_string();
    let message = e.message().unwrap_or_default().to_string();
    if code == "ValidationError" && message.contains("does not exist") && api == "DescribeStacks" {
        return CfnError::NotFound(message);
    }
    if code == "ValidationError" && message.contains("No updates are to be performed") {
        return CfnError::NoUpdates;
    }
    if matches!(
        code.as_str(),
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "InvalidClientTokenId"
            | "ExpiredToken"
            | "SignatureDoesNotMatch"
    ) {
        return CfnError::AccessDenied { api, code, message };
    }
    let text = chain(e);
    if code.is_empty() && text.contains("error parsing XML") {
        // Not an answer of CloudFormation's API: an emulator or proxy without this call.
        return CfnError::Call { api, message: format!("the endpoint did not answer {api} like CloudFormation does (does it implement {api}? AWS_ENDPOINT_URL points elsewhere than AWS): {text}") };
    }
    CfnError::Call { api, message: if code.is_empty() { text } else { format!("{code}: {message}") } }
}

/// An error and its sources, one after another (no debug representation).
#[must_use]
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut at = e.source();
    while let Some(s) = at {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        at = s.source();
    }
    parts.join(": ")
}

/// A deployed stack (`DescribeStacks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackInfo {
    /// `StackId` (the stack ARN).
    pub stack_id: String,
    /// `StackStatus`, such as `UPDATE_COMPLETE`.
    pub status: String,
    /// `Parameters`: key and value (`ParameterKey`, `ParameterValue`).
    pub parameters: Vec<(String, String)>,
    /// `StackStatusReason`, empty when absent.
    pub reason: String,
    /// `Outputs`: key, value and description, in the order returned.
    pub outputs: Vec<(String, String, String)>,
    /// `EnableTerminationProtection`.
    pub termination_protection: bool,
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
    /// `Status`: `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED`...
    pub status: String,
    /// `StatusReason`.
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
        self.status == ChangeSetStatus::Failed.as_str()
            && (self.reason.contains("didn't contain changes")
                || self.reason.contains("No updates are to be performed"))
    }
}

/// How `DescribeChangeSet` is polled: the delay starts at `initial` and doubles up to `max`;
/// after `timeout` in total the wait gives up.
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

/// What `CreateChangeSet` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSetRequest {
    /// `StackName`.
    pub stack_name: String,
    /// `ChangeSetName`.
    pub change_set_name: String,
    /// `TemplateBody` (at most 51,200 bytes: the caller checks), or, when it starts with
    /// `https://`, the `TemplateURL` of the template in S3 (at most 1 MB).
    pub template_body: String,
    /// `Tags`: key and value, given to the stack and every resource that takes tags.
    pub tags: Vec<(String, String)>,
    /// `Description` of the change set.
    pub description: String,
    /// `Parameters`: key and value; `None` means `UsePreviousValue`.
    pub parameters: Vec<(String, Option<String>)>,
    /// `ChangeSetType` CREATE (true) or UPDATE (false).
    pub create: bool,
}

/// The CloudFormation calls of `sandboxc plan`.
#[derive(Debug, Clone)]
pub struct Cfn {
    pub(super) client: Client,
}

impl Cfn {
    /// Wraps a client.
    #[must_use]
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// `DescribeStacks`: the stack, or [`CfnError::NotFound`].
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn describe_stack(&self, name: &str) -> Result<StackInfo, CfnError> {
        let out =
            self.client.describe_stacks().stack_name(name).send().await.map_err(|e| classify("DescribeStacks", &e))?;
        let Some(stack) = out.stacks().first() else {
            return Err(CfnError::NotFound(format!("Stack with id {name} does not exist")));
        };
        Ok(StackInfo {
            stack_id: stack.stack_id().unwrap_or(name).to_string(),
            status: stack.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            parameters: stack
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((p.parameter_key()?.to_string(), p.parameter_value().unwrap_or_default().to_string()))
                })
                .collect(),
            reason: stack.stack_status_reason().unwrap_or_default().to_string(),
            outputs: stack
                .outputs()
                .iter()
                .filter_map(|o| {
                    Some((
                        o.output_key()?.to_string(),
                        o.output_value().unwrap_or_default().to_string(),
                        o.description().unwrap_or_default().to_string(),
                    ))
                })
                .collect(),
            termination_protection: stack.enable_termination_protection().unwrap_or(false),
        })
    }

    /// `GetTemplate` with `TemplateStage` Original: the template body as deployed.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn get_template(&self, stack: &str) -> Result<String, CfnError> {
        let out = self
            .client
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| classify("GetTemplate", &e))?;
        out.template_body()
            .map(str::to_string)
            .ok_or_else(|| CfnError::Call { api: "GetTemplate", message: format!("no TemplateBody for {stack}") })
    }

    /// `ListStackResources` (all pages): the resources of type `AWS::CloudFormation::Stack`.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn nested_stacks(&self, stack: &str) -> Result<Vec<NestedStack>, CfnError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..100 {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| classify("ListStackResources", &e))?;
            for r in page.stack_resource_summaries() {
                if r.resource_type() == Some("AWS::CloudFormation::Stack") {
                    if let (Some(id), Some(physical)) = (r.logical_resource_id(), r.physical_resource_id()) {
                        if !physical.is_empty() {
                            out.push(NestedStack { logical_id: id.to_string(), stack_id: physical.to_string() });
                        }
                    }
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// `CreateChangeSet` with `IncludeNestedStacks` and the capabilities CAPABILITY_IAM,
    /// CAPABILITY_NAMED_IAM and CAPABILITY_AUTO_EXPAND. Returns the change set's ARN (`Id`).
    ///
    /// # Errors
    /// [`CfnError::NoUpdates`] for the ValidationError "No updates are to be performed.",
    /// else [`CfnError`].
    pub async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, CfnError> {
        let params = req
            .parameters
            .iter()
            .map(|(k, v)| match v {
                Some(v) => Parameter::builder().parameter_key(k).parameter_value(v).build(),
                None => Parameter::builder().parameter_key(k).use_previous_value(true).build(),
            })
            .collect::<Vec<_>>();
        let out = self
            .client
            .create_change_set()
            .stack_name(&req.stack_name)
            .change_set_name(&req.change_set_name)
            .change_set_type(if req.create { ChangeSetType::Create } else { ChangeSetType::Update })
            .set_template_body((!req.template_body.starts_with("https://")).then(|| req.template_body.clone()))
            .set_template_url(req.template_body.starts_with("https://").then(|| req.template_body.clone()))
            .set_tags((!req.tags.is_empty()).then(|| {
                req.tags
                    .iter()
                    .map(|(k, v)| aws_sdk_cloudformation::types::Tag::builder().key(k).value(v).build())
                    .collect()
            }))
            .include_nested_stacks(true)
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .capabilities(Capability::CapabilityAutoExpand)
            .set_parameters(Some(params))
            .description(&req.description)
            .send()
            .await
            .map_err(|e| classify("CreateChangeSet", &e))?;
        out.id().map(str::to_string).ok_or_else(|| CfnError::Call {
            api: "CreateChangeSet",
            message: "the answer holds no change set Id".into(),
        })
    }

    /// `DescribeChangeSet` once, every page (`NextToken`).
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn describe_change_set(&self, id: &str) -> Result<ChangeSetState, CfnError> {
        let mut state =
            ChangeSetState { status: String::new(), reason: String::new(), created_ms: 0, changes: Vec::new() };
        let mut token: Option<String> = None;
        for _ in 0..100 {
            let page = self
                .client
                .describe_change_set()
                .change_set_name(id)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| classify("DescribeChangeSet", &e))?;
            state.status = page.status().map(|s| s.as_str().to_string()).unwrap_or_default();
            state.reason = page.status_reason().unwrap_or_default().to_string();
            state.created_ms = page.creation_time().and_then(|t| t.to_millis().ok()).unwrap_or_default();
            for c in page.changes() {
                let Some(rc) = c.resource_change() else { continue };
                let fact = ResourceFact {
                    stack_path: String::new(),
                    logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: rc.resource_type().unwrap_or_default().to_string(),
                    action: match rc.action().map(|a| a.as_str()) {
                        Some("Add") => ChangeAction::Add,
                        Some("Modify") => ChangeAction::Modify,
                        Some("Remove") => ChangeAction::Remove,
                        other => ChangeAction::Other(other.unwrap_or("unknown").to_string()),
                    },
                    replacement: match rc.replacement().map(|r| r.as_str()) {
                        Some("True") => Some(ChangeReplacement::True),
                        Some("Conditional") => Some(ChangeReplacement::Conditional),
                        Some("False") => Some(ChangeReplacement::False),
                        _ => None,
                    },
                    scope: rc.scope().iter().map(|s| s.as_str().to_string()).collect(),
                    details: rc
                        .details()
                        .iter()
                        .map(|d| DetailFact {
                            attribute: d
                                .target()
                                .and_then(|t| t.attribute())
                                .map(|a| a.as_str().to_string())
                                .unwrap_or_default(),
                            name: d.target().and_then(|t| t.name()).map(str::to_string),
                            requires_recreation: match d
                                .target()
                                .and_then(|t| t.requires_recreation())
                                .map(|r| r.as_str())
                            {
                                Some("Always") => Some(RequiresRecreation::Always),
                                Some("Conditionally") => Some(RequiresRecreation::Conditionally),
                                Some("Never") => Some(RequiresRecreation::Never),
                                _ => None,
                            },
                            evaluation: d.evaluation().map(|e| e.as_str().to_string()),
                            change_source: d.change_source().map(|s| s.as_str().to_string()),
                            causing_entity: d.causing_entity().map(str::to_string),
                        })
                        .collect(),
                };
                state.changes.push((fact, rc.change_set_id().map(str::to_string)));
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(state)
    }

    /// Polls `DescribeChangeSet` (bounded, with growing delays) until the change set is
    /// `CREATE_COMPLETE` or `FAILED` (or another terminal status).
    ///
    /// # Errors
    /// [`CfnError::Timeout`], or the error of a call.
    pub async fn wait_change_set(&self, id: &str, polling: Polling) -> Result<ChangeSetState, CfnError> {
        let start = std::time::Instant::now();
        let mut delay = polling.initial;
        loop {
            let state = self.describe_change_set(id).await?;
            if !matches!(state.status.as_str(), "CREATE_PENDING" | "CREATE_IN_PROGRESS" | "") {
                return Ok(state);
            }
            if start.elapsed() >= polling.timeout {
                return Err(CfnError::Timeout(id.to_string(), polling.timeout.as_secs()));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(polling.max);
        }
    }

    /// `DeleteChangeSet`.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn delete_change_set(&self, id: &str) -> Result<(), CfnError> {
        self.client
            .delete_change_set()
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| classify("DeleteChangeSet", &e))?;
        Ok(())
    }
}
