//! The CloudFormation calls of `apply`, `destroy` and `status` beyond those of `plan`:
//! executing change sets, stack events, deletion, termination protection, stack policies,
//! resources and drift. Each answer becomes a sandboxc type; each error a [`CfnError`].

use aws_sdk_cloudformation::types::StackResourceDriftStatus;

use super::cfn::{classify, Cfn, CfnError};

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
    /// `ResourceStatus`, such as `CREATE_FAILED`.
    pub status: String,
    /// `ResourceStatusReason`, empty when absent.
    pub reason: String,
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
    pub status: String,
}

/// A drifted resource (`DescribeStackResourceDrifts`, status MODIFIED or DELETED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDrift {
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `PhysicalResourceId`.
    pub physical_id: String,
    /// `ResourceType`.
    pub resource_type: String,
    /// `StackResourceDriftStatus`: `MODIFIED` or `DELETED`.
    pub status: String,
    /// `PropertyDifferences`: property path, expected value, actual value, difference type
    /// (`ADD`, `REMOVE`, `NOT_EQUAL`).
    pub differences: Vec<(String, String, String, String)>,
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
        status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        reason: e.resource_status_reason().unwrap_or_default().to_string(),
    }
}

/// Pages read per call at most (CloudFormation pages hold 100 events or resources).
const MAX_PAGES: usize = 100;

impl Cfn {
    /// `ExecuteChangeSet`.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn execute_change_set(&self, id: &str) -> Result<(), CfnError> {
        self.client
            .execute_change_set()
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| classify("ExecuteChangeSet", &e))?;
        Ok(())
    }

    /// `DescribeStackEvents`, newest first, page after page until an event whose ID is in
    /// `seen` (or older than `since_ms`, milliseconds since the epoch) is reached: the events
    /// not seen yet, newest first.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn new_events(
        &self,
        stack: &str,
        seen: &std::collections::HashSet<String>,
        since_ms: i64,
    ) -> Result<Vec<StackEvent>, CfnError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .describe_stack_events()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| classify("DescribeStackEvents", &e))?;
            for e in page.stack_events() {
                let event = event_of(e);
                if seen.contains(&event.id) || event.timestamp_ms < since_ms {
                    return Ok(out);
                }
                out.push(event);
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// The newest events of a stack, newest first: one page of `DescribeStackEvents` (up to
    /// 100 events).
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn latest_events(&self, stack: &str) -> Result<Vec<StackEvent>, CfnError> {
        let page = self
            .client
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| classify("DescribeStackEvents", &e))?;
        Ok(page.stack_events().iter().map(event_of).collect())
    }

    /// The newest event of a stack, if any (see [`Cfn::latest_events`]).
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn newest_event(&self, stack: &str) -> Result<Option<StackEvent>, CfnError> {
        Ok(self.latest_events(stack).await?.into_iter().next())
    }

    /// `DeleteStack`.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn delete_stack(&self, stack: &str) -> Result<(), CfnError> {
        self.client.delete_stack().stack_name(stack).send().await.map_err(|e| classify("DeleteStack", &e))?;
        Ok(())
    }

    /// `UpdateTerminationProtection` (root stacks only; nested stacks inherit it).
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), CfnError> {
        self.client
            .update_termination_protection()
            .stack_name(stack)
            .enable_termination_protection(on)
            .send()
            .await
            .map_err(|e| classify("UpdateTerminationProtection", &e))?;
        Ok(())
    }

    /// `SetStackPolicy` with a policy body (JSON).
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn set_stack_policy(&self, stack: &str, body: &str) -> Result<(), CfnError> {
        self.client
            .set_stack_policy()
            .stack_name(stack)
            .stack_policy_body(body)
            .send()
            .await
            .map_err(|e| classify("SetStackPolicy", &e))?;
        Ok(())
    }

    /// `ListStackResources`, all pages.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn resources(&self, stack: &str) -> Result<Vec<StackResource>, CfnError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| classify("ListStackResources", &e))?;
            for r in page.stack_resource_summaries() {
                out.push(StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
                    resource_type: r.resource_type().unwrap_or_default().to_string(),
                    status: r.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                });
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// `DetectStackDrift`: starts drift detection, returns its `StackDriftDetectionId`.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn detect_drift(&self, stack: &str) -> Result<String, CfnError> {
        let out = self
            .client
            .detect_stack_drift()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| classify("DetectStackDrift", &e))?;
        out.stack_drift_detection_id().map(str::to_string).ok_or_else(|| CfnError::Call {
            api: "DetectStackDrift",
            message: "the answer holds no StackDriftDetectionId".into(),
        })
    }

    /// `DescribeStackDriftDetectionStatus`: (`DetectionStatus`, `StackDriftStatus`,
    /// `DetectionStatusReason`), such as (`DETECTION_COMPLETE`, `DRIFTED`, "").
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn drift_detection(&self, id: &str) -> Result<(String, String, String), CfnError> {
        let out = self
            .client
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(id)
            .send()
            .await
            .map_err(|e| classify("DescribeStackDriftDetectionStatus", &e))?;
        Ok((
            out.detection_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            out.stack_drift_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            out.detection_status_reason().unwrap_or_default().to_string(),
        ))
    }

    /// `DescribeStackResourceDrifts` for MODIFIED and DELETED resources, all pages.
    ///
    /// # Errors
    /// [`CfnError`].
    pub async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>, CfnError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .describe_stack_resource_drifts()
                .stack_name(stack)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Modified)
                .stack_resource_drift_status_filters(StackResourceDriftStatus::Deleted)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| classify("DescribeStackResourceDrifts", &e))?;
            for d in page.stack_resource_drifts() {
                out.push(ResourceDrift {
                    logical_id: d.logical_resource_id().unwrap_or_default().to_string(),
                    physical_id: d.physical_resource_id().unwrap_or_default().to_string(),
                    resource_type: d.resource_type().unwrap_or_default().to_string(),
                    status: d.stack_resource_drift_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                    differences: d
                        .property_differences()
                        .iter()
                        .map(|p| {
                            (
                                p.property_path().unwrap_or_default().to_string(),
                                p.expected_value().unwrap_or_default().to_string(),
                                p.actual_value().unwrap_or_default().to_string(),
                                p.difference_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                            )
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
