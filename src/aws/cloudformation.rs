//! The stack lifecycle's [`CloudFormation`] trait over the AWS SDK: every answer becomes a
//! sandboxc type here (statuses parsed into the enums of `crate::deploy::status`), every
//! error a [`CfnError`] that names the call.

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{Capability, ChangeSetType, Parameter, StackResourceDriftStatus, TemplateStage};
use aws_sdk_cloudformation::Client;

use super::error::{examine, FailureKind};
use crate::deploy::cloudformation::{
    CfnError, ChangeSetKind, ChangeSetRequest, ChangeSetState, CloudFormation, DriftDetection, EventsPage,
    PropertyDifference, ResourceDrift, StackEvent, StackInfo, StackOutput, StackResource, TemplateSource,
};
use crate::deploy::status::{ChangeSetStatus, DetectionStatus, ResourceDriftStatus, ResourceStatus, StackStatus};
use crate::plan::refine::{ChangeAction, ChangeReplacement, DetailFact, RequiresRecreation, ResourceFact};

/// Pages read per listing at most (CloudFormation pages hold 100 items).
const MAX_PAGES: usize = 100;

/// CloudFormation over the AWS SDK.
#[derive(Debug, Clone)]
pub struct Cfn {
    client: Client,
    endpoint: String,
}

impl Cfn {
    /// Wraps a client; errors name the public endpoint of the client's Region.
    #[must_use]
    pub fn new(client: Client) -> Self {
        let region = client.config().region().map_or_else(|| "us-east-1".to_string(), ToString::to_string);
        let endpoint = super::default_endpoint("cloudformation", &region);
        Self { client, endpoint }
    }

    /// Wraps a client whose calls go to `endpoint` (named in errors).
    #[must_use]
    pub fn with_endpoint(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

    /// The SDK error of `api` as a [`CfnError`].
    fn classify<E>(&self, api: &'static str, e: &SdkError<E>) -> CfnError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        classify(api, &self.endpoint, e)
    }
}

/// Classifies an SDK error of the CloudFormation call `api` (sent to `endpoint`).
pub fn classify<E>(api: &'static str, endpoint: &str, e: &SdkError<E>) -> CfnError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = examine("CloudFormation", api, endpoint, e);
    let code = failure.code.clone().unwrap_or_default();
    let message = failure.message.clone();
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
    if code.contains("InProgress")
        || code == "InvalidChangeSetStatus"
        || message.contains("_IN_PROGRESS state")
        || (message.contains("is in ") && message.contains("_IN_PROGRESS"))
    {
        return CfnError::Conflict { api, code, message };
    }
    if failure.kind == FailureKind::Unreadable {
        // Not an answer of CloudFormation's API: an emulator or proxy without this call.
        return CfnError::Call {
            api,
            message: format!(
                "the endpoint did not answer {api} like CloudFormation does (does it implement {api}? AWS_ENDPOINT_URL points elsewhere than AWS): {message}"
            ),
        };
    }
    CfnError::Call { api, message: failure.describe() }
}

fn event_of(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEvent {
    StackEvent {
        id: e.event_id().unwrap_or_default().to_string(),
        stack_id: e.stack_id().unwrap_or_default().to_string(),
        stack_name: e.stack_name().unwrap_or_default().to_string(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
        physical_id: e.physical_resource_id().unwrap_or_default().to_string(),
        resource_type: e.resource_type().unwrap_or_default().to_string(),
        timestamp_ms: e.timestamp().and_then(|t| t.to_millis().ok()).unwrap_or_default(),
        status: ResourceStatus::parse(e.resource_status().map(|s| s.as_str()).unwrap_or_default()),
        reason: e.resource_status_reason().unwrap_or_default().to_string(),
    }
}

fn fact_of(rc: &aws_sdk_cloudformation::types::ResourceChange) -> ResourceFact {
    ResourceFact {
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
                attribute: d.target().and_then(|t| t.attribute()).map(|a| a.as_str().to_string()).unwrap_or_default(),
                name: d.target().and_then(|t| t.name()).map(str::to_string),
                requires_recreation: match d.target().and_then(|t| t.requires_recreation()).map(|r| r.as_str()) {
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
    }
}

impl CloudFormation for Cfn {
    async fn describe_stack(&self, stack: &str) -> Result<StackInfo, CfnError> {
        let out = match self.client.describe_stacks().stack_name(stack).send().await {
            Ok(out) => out,
            Err(e) => {
                // A missing stack is the ValidationError "Stack with id X does not exist".
                let f = examine("CloudFormation", "DescribeStacks", &self.endpoint, &e);
                if f.code.as_deref() == Some("ValidationError") && f.message.contains("does not exist") {
                    return Err(CfnError::NotFound { stack: stack.to_string() });
                }
                return Err(self.classify("DescribeStacks", &e));
            }
        };
        let Some(s) = out.stacks().first() else { return Err(CfnError::NotFound { stack: stack.to_string() }) };
        Ok(StackInfo {
            stack_id: s.stack_id().unwrap_or(stack).to_string(),
            status: StackStatus::parse(s.stack_status().map(|s| s.as_str()).unwrap_or_default()),
            reason: s.stack_status_reason().unwrap_or_default().to_string(),
            parameters: s
                .parameters()
                .iter()
                .filter_map(|p| {
                    Some((p.parameter_key()?.to_string(), p.parameter_value().unwrap_or_default().to_string()))
                })
                .collect(),
            outputs: s
                .outputs()
                .iter()
                .filter_map(|o| {
                    Some(StackOutput {
                        key: o.output_key()?.to_string(),
                        value: o.output_value().unwrap_or_default().to_string(),
                        description: o.description().unwrap_or_default().to_string(),
                    })
                })
                .collect(),
            termination_protection: s.enable_termination_protection().unwrap_or(false),
        })
    }

    async fn get_template(&self, stack: &str) -> Result<String, CfnError> {
        let out = self
            .client
            .get_template()
            .stack_name(stack)
            .template_stage(TemplateStage::Original)
            .send()
            .await
            .map_err(|e| self.classify("GetTemplate", &e))?;
        out.template_body()
            .map(str::to_string)
            .ok_or_else(|| CfnError::Call { api: "GetTemplate", message: format!("no TemplateBody for {stack}") })
    }

    async fn list_resources(&self, stack: &str) -> Result<Vec<StackResource>, CfnError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify("ListStackResources", &e))?;
            out.extend(page.stack_resource_summaries().iter().map(|r| StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
                resource_type: r.resource_type().unwrap_or_default().to_string(),
                status: ResourceStatus::parse(r.resource_status().map(|s| s.as_str()).unwrap_or_default()),
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn events_page(&self, stack: &str, next_token: Option<String>) -> Result<EventsPage, CfnError> {
        let page = self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .set_next_token(next_token)
            .send()
            .await
            .map_err(|e| self.classify("DescribeStackEvents", &e))?;
        Ok(EventsPage {
            events: page.stack_events().iter().map(event_of).collect(),
            next_token: page.next_token().map(str::to_string),
        })
    }

    async fn create_change_set(&self, req: &ChangeSetRequest) -> Result<String, CfnError> {
        let params = req
            .parameters
            .iter()
            .map(|(k, v)| match v {
                Some(v) => Parameter::builder().parameter_key(k).parameter_value(v).build(),
                None => Parameter::builder().parameter_key(k).use_previous_value(true).build(),
            })
            .collect::<Vec<_>>();
        let (body, url) = match &req.template {
            TemplateSource::Body(b) => (Some(b.clone()), None),
            TemplateSource::Url(u) => (None, Some(u.clone())),
        };
        let out = self
            .client
            .create_change_set()
            .stack_name(&req.stack_name)
            .change_set_name(&req.change_set_name)
            .change_set_type(match &req.kind {
                ChangeSetKind::Create => ChangeSetType::Create,
                ChangeSetKind::Update => ChangeSetType::Update,
                ChangeSetKind::Import(_) => ChangeSetType::Import,
            })
            .set_resources_to_import(match &req.kind {
                ChangeSetKind::Import(items) => Some(
                    items
                        .iter()
                        .map(|r| {
                            aws_sdk_cloudformation::types::ResourceToImport::builder()
                                .resource_type(&r.resource_type)
                                .logical_resource_id(&r.logical_id)
                                .resource_identifier(&r.identifier.0, &r.identifier.1)
                                .build()
                        })
                        .collect(),
                ),
                _ => None,
            })
            .set_template_body(body)
            .set_template_url(url)
            .set_tags((!req.tags.is_empty()).then(|| {
                req.tags
                    .iter()
                    .map(|(k, v)| aws_sdk_cloudformation::types::Tag::builder().key(k).value(v).build())
                    .collect()
            }))
            .include_nested_stacks(!matches!(req.kind, ChangeSetKind::Import(_)))
            .capabilities(Capability::CapabilityIam)
            .capabilities(Capability::CapabilityNamedIam)
            .capabilities(Capability::CapabilityAutoExpand)
            .set_parameters(Some(params))
            .description(&req.description)
            .send()
            .await
            .map_err(|e| self.classify("CreateChangeSet", &e))?;
        out.id().map(str::to_string).ok_or_else(|| CfnError::Call {
            api: "CreateChangeSet",
            message: "the answer holds no change set Id".into(),
        })
    }

    async fn describe_change_set(&self, id: &str) -> Result<ChangeSetState, CfnError> {
        let mut state = ChangeSetState {
            status: ChangeSetStatus::parse(""),
            reason: String::new(),
            created_ms: 0,
            changes: Vec::new(),
        };
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .describe_change_set()
                .change_set_name(id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify("DescribeChangeSet", &e))?;
            state.status = ChangeSetStatus::parse(page.status().map(|s| s.as_str()).unwrap_or_default());
            state.reason = page.status_reason().unwrap_or_default().to_string();
            state.created_ms = page.creation_time().and_then(|t| t.to_millis().ok()).unwrap_or_default();
            for c in page.changes() {
                let Some(rc) = c.resource_change() else { continue };
                state.changes.push((fact_of(rc), rc.change_set_id().map(str::to_string)));
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(state)
    }

    async fn execute_change_set(&self, id: &str) -> Result<(), CfnError> {
        self.client
            .execute_change_set()
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| self.classify("ExecuteChangeSet", &e))?;
        Ok(())
    }

    async fn delete_change_set(&self, id: &str) -> Result<(), CfnError> {
        self.client
            .delete_change_set()
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| self.classify("DeleteChangeSet", &e))?;
        Ok(())
    }

    async fn delete_stack(&self, stack: &str) -> Result<(), CfnError> {
        self.client.delete_stack().stack_name(stack).send().await.map_err(|e| self.classify("DeleteStack", &e))?;
        Ok(())
    }

    async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), CfnError> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map_err(|e| self.classify("UpdateTerminationProtection", &e))?;
        Ok(())
    }

    async fn set_stack_policy(&self, stack: &str, body: &str) -> Result<(), CfnError> {
        self.client
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(body)
            .send()
            .await
            .map_err(|e| self.classify("SetStackPolicy", &e))?;
        Ok(())
    }

    async fn detect_drift(&self, stack: &str) -> Result<String, CfnError> {
        let out = self
            .client
            .detect_stack_drift()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| self.classify("DetectStackDrift", &e))?;
        out.stack_drift_detection_id().map(str::to_string).ok_or_else(|| CfnError::Call {
            api: "DetectStackDrift",
            message: "the answer holds no StackDriftDetectionId".into(),
        })
    }

    async fn drift_detection(&self, id: &str) -> Result<DriftDetection, CfnError> {
        let out = self
            .client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(id)
            .send()
            .await
            .map_err(|e| self.classify("DescribeStackDriftDetectionStatus", &e))?;
        Ok(DriftDetection {
            status: DetectionStatus::parse(out.detection_status().map(|s| s.as_str()).unwrap_or_default()),
            reason: out.detection_status_reason().unwrap_or_default().to_string(),
        })
    }

    async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>, CfnError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.classify("DescribeStackResourceDrifts", &e))?;
            for d in page.stack_resource_drifts() {
                out.push(ResourceDrift {
                    logical_id: d.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: d.physical_resource_id().unwrap_or_default().to_string(),
                    resource_type: d.resource_type().unwrap_or_default().to_string(),
                    status: ResourceDriftStatus::parse(
                        d.stack_resource_drift_status().map(|s| s.as_str()).unwrap_or_default(),
                    ),
                    differences: d
                        .property_differences()
                        .iter()
                        .map(|p| PropertyDifference {
                            path: p.property_path().unwrap_or_default().to_string(),
                            expected: p.expected_value().unwrap_or_default().to_string(),
                            actual: p.actual_value().unwrap_or_default().to_string(),
                            kind: p.difference_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                        })
                        .collect(),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }
}
