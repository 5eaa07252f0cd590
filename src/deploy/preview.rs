//! What the deployed stack would become: the deployed mode of `sandboxc plan`, and the plan
//! `apply` shows before asking. Given the new templates (compiled by the command line), this
//! reads the deployed side and asks CloudFormation for a change set; the plan engine
//! (`crate::plan::plan_refined`) turns both into a plan.
//!
//! 1. `DescribeStacks`: the stack and its parameters. A stack that does not exist
//!    (ValidationError "Stack with id X does not exist") previews as all-new, without a change
//!    set (a CREATE change set would only list every resource as `Add`, and would leave an
//!    empty stack in `REVIEW_IN_PROGRESS` behind); so does a stack in `REVIEW_IN_PROGRESS`.
//! 2. `GetTemplate` (`TemplateStage` Original) of the root stack and, through
//!    `ListStackResources` (type `AWS::CloudFormation::Stack`), of each nested stack.
//! 3. `CreateChangeSet` (`ChangeSetType` UPDATE, `IncludeNestedStacks`, the three
//!    capabilities) with the new root template inline (compact JSON, at most 51,200 bytes; a
//!    larger one needs the assets bucket, which `apply` uploads to), the `AssetsBucket`
//!    parameter from `--assets-bucket` or the deployed stack, every other deployed parameter
//!    with `UsePreviousValue`. `DescribeChangeSet` is polled until it is no longer pending, and
//!    each nested change set (`ResourceChange.ChangeSetId`) is described too.
//! 4. "No changes" in either wording (a FAILED change set whose `StatusReason` says "didn't
//!    contain changes" or "No updates are to be performed", or the ValidationError "No updates
//!    are to be performed.") is [`Preview::NoChanges`].
//! 5. `DeleteChangeSet`, unless the change set is to be kept.

use std::collections::BTreeSet;

use super::cloudformation::{
    nested_stacks, wait_change_set, CfnError, ChangeSetKind, ChangeSetRequest, CloudFormation, Polling, TemplateSource,
    NESTED_STACK_TYPE,
};
use super::status::{ChangeSetStatus, StackStatus};
use super::{ASSETS_BUCKET_PARAMETER, MAX_TEMPLATE_BODY};
use crate::plan::refine::ChangeSetFacts;
use crate::plan::{PlanError, TemplateSet};

/// Deepest nesting of change sets followed.
const MAX_NESTING: usize = 5;

/// What [`preview`] is asked.
#[derive(Debug, Clone)]
pub struct PreviewRequest<'a> {
    /// The new templates (the blueprint compiled in memory).
    pub new: &'a TemplateSet,
    /// The `AssetsBucket` parameter's value; default: the deployed stack's.
    pub assets_bucket: Option<String>,
    /// Values of root parameters the caller knows as `apply` would set them (the Region's
    /// `S3PrefixListId`); a declared parameter that is neither here nor in the deployed stack is
    /// left out (its default applies).
    pub values: Vec<(String, String)>,
    /// Keep the change set instead of deleting it (its ARN is then in the preview).
    pub keep_change_set: bool,
    /// How `DescribeChangeSet` is polled.
    pub polling: Polling,
}

/// What the deployed stack would become.
#[derive(Debug, Clone, PartialEq)]
pub enum Preview {
    /// The stack does not exist: an empty deployed side (with the new scripts), no change set.
    NoStack {
        /// The deployed side: no templates.
        old: TemplateSet,
    },
    /// The stack is `REVIEW_IN_PROGRESS` (never deployed): as [`Preview::NoStack`].
    NeverDeployed {
        /// The deployed side: no templates.
        old: TemplateSet,
    },
    /// CloudFormation found nothing to change.
    NoChanges {
        /// The deployed templates.
        old: TemplateSet,
        /// CloudFormation's reason, such as `CreateChangeSet: No updates are to be performed.`.
        reason: String,
        /// The kept change set's ARN, when one was made and kept.
        change_set: Option<String>,
    },
    /// CloudFormation could not create the change set: only the template diff is known.
    ChangeSetFailed {
        /// The deployed templates.
        old: TemplateSet,
        /// Status and `StatusReason`.
        reason: String,
        /// The kept change set's ARN (`None`: it was deleted).
        change_set: Option<String>,
    },
    /// The change set's facts (root and nested change sets).
    Changes {
        /// The deployed templates.
        old: TemplateSet,
        /// What the change sets say.
        facts: ChangeSetFacts,
        /// The kept change set's ARN (`None`: it was deleted).
        change_set: Option<String>,
    },
}

/// Why the deployed stack cannot be previewed.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    /// A deployment runs on the stack.
    #[error("the CloudFormation stack {stack} is {status}: wait until it finishes, then plan again")]
    InProgress {
        /// The stack name.
        stack: String,
        /// Its status.
        status: StackStatus,
    },
    /// `ROLLBACK_COMPLETE` or `ROLLBACK_FAILED`: only deletion is possible.
    #[error("the CloudFormation stack {stack} is {status}: it cannot be updated, only deleted and created again (apply --recreate)")]
    CannotUpdate {
        /// The stack name.
        stack: String,
        /// Its status.
        status: StackStatus,
    },
    /// The new root template is too large to send inline.
    #[error("the root template is {bytes} bytes (compact JSON), more than the {MAX_TEMPLATE_BODY} bytes CloudFormation accepts inline (TemplateBody): it must be uploaded to the assets bucket first, which `sandboxc apply` does; plan offline meanwhile (--against DIR or --against-git REF)")]
    TooLarge {
        /// Its size.
        bytes: usize,
    },
    /// The deployed stack has no `AssetsBucket` parameter and none was given.
    #[error("the deployed stack {stack} has no {ASSETS_BUCKET_PARAMETER} parameter: name the assets bucket with --assets-bucket BUCKET")]
    NoAssetsBucket {
        /// The stack name.
        stack: String,
    },
    /// A CloudFormation call was denied.
    #[error("planning against the deployed stack {stack} needs AWS access: {source} (the plan uses cloudformation:DescribeStacks, GetTemplate, ListStackResources, CreateChangeSet, DescribeChangeSet and DeleteChangeSet; check --profile and the credentials in use)")]
    Denied {
        /// The stack name.
        stack: String,
        /// The call's error ([`CfnError::AccessDenied`]).
        source: CfnError,
    },
    /// A CloudFormation call failed (after the retries): no connection, a timeout, an error
    /// answer.
    #[error("planning against the deployed stack {stack} needs AWS access: {source}")]
    Unreachable {
        /// The stack name.
        stack: String,
        /// The call's error ([`CfnError::Call`]).
        source: CfnError,
    },
    /// Any other CloudFormation error.
    #[error("planning against the deployed stack {stack}: {source}")]
    Cfn {
        /// The stack name.
        stack: String,
        /// The call's error.
        source: CfnError,
    },
    /// The deployed templates cannot be read.
    #[error("{0}")]
    Templates(#[from] TemplatesError),
    /// The new templates lack their root (a bug).
    #[error("internal error: {0}")]
    Internal(String),
}

impl PreviewError {
    fn cfn(stack: &str, source: CfnError) -> Self {
        match source {
            CfnError::AccessDenied { .. } => Self::Denied { stack: stack.to_string(), source },
            CfnError::Call { .. } => Self::Unreachable { stack: stack.to_string(), source },
            source => Self::Cfn { stack: stack.to_string(), source },
        }
    }
}

/// Why the deployed templates cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    /// `GetTemplate` or `ListStackResources` failed.
    #[error("reading the deployed templates of stack {stack}: {source}")]
    Cfn {
        /// The stack name.
        stack: String,
        /// The call's error.
        source: CfnError,
    },
    /// A deployed template is not JSON or YAML.
    #[error("{0}")]
    Parse(#[from] PlanError),
}

/// Reads the deployed side of `request.new`'s stack and asks CloudFormation what would change.
///
/// # Errors
/// [`PreviewError`].
pub async fn preview<C: CloudFormation>(cfn: &C, request: &PreviewRequest<'_>) -> Result<Preview, PreviewError> {
    let new = request.new;
    let stack = new.stack_name.clone();
    let empty = || -> Result<TemplateSet, PreviewError> {
        let mut old = TemplateSet::from_deployed(&stack, None, &[]).map_err(TemplatesError::Parse)?;
        old.scripts.clone_from(&new.scripts);
        Ok(old)
    };
    let info = match cfn.describe_stack(&stack).await {
        Ok(info) => info,
        Err(CfnError::NotFound { .. }) => return Ok(Preview::NoStack { old: empty()? }),
        Err(e) => return Err(PreviewError::cfn(&stack, e)),
    };
    match info.status {
        StackStatus::ReviewInProgress => return Ok(Preview::NeverDeployed { old: empty()? }),
        StackStatus::RollbackComplete | StackStatus::RollbackFailed => {
            return Err(PreviewError::CannotUpdate { stack, status: info.status })
        }
        ref s if !s.is_settled() => return Err(PreviewError::InProgress { stack, status: info.status }),
        _ => {}
    }

    let old = deployed_templates(cfn, &info.stack_id, &stack, new).await?;

    // The change set.
    let root = new
        .templates
        .get(&new.root_file)
        .ok_or_else(|| PreviewError::Internal(format!("the new output has no root template {}", new.root_file)))?;
    let body = serde_json::to_string(root).map_err(|e| PreviewError::Internal(e.to_string()))?;
    if body.len() > MAX_TEMPLATE_BODY {
        return Err(PreviewError::TooLarge { bytes: body.len() });
    }
    let mut parameters = Vec::new();
    let declared: Vec<String> = root.parameters.keys().cloned().collect();
    for key in declared {
        let deployed = info.parameters.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        if let Some((_, v)) = request.values.iter().find(|(k, _)| *k == key) {
            parameters.push((key, Some(v.clone())));
        } else if key == ASSETS_BUCKET_PARAMETER {
            match (&request.assets_bucket, deployed) {
                (Some(b), _) => parameters.push((key, Some(b.clone()))),
                (None, Some(_)) => parameters.push((key, None)),
                (None, None) => return Err(PreviewError::NoAssetsBucket { stack }),
            }
        } else if deployed.is_some() {
            parameters.push((key, None));
        }
    }
    let change_set = ChangeSetRequest {
        stack_name: stack.clone(),
        change_set_name: change_set_name("plan"),
        template: TemplateSource::Body(body),
        parameters,
        kind: ChangeSetKind::Update,
        tags: Vec::new(),
        description: "sandboxc plan".into(),
    };
    let id = match cfn.create_change_set(&change_set).await {
        Ok(id) => id,
        Err(CfnError::NoUpdates) => {
            return Ok(Preview::NoChanges {
                old,
                reason: "CreateChangeSet: No updates are to be performed.".into(),
                change_set: None,
            })
        }
        Err(e) => return Err(PreviewError::cfn(&stack, e)),
    };
    let result = describe_all(cfn, &id, request.polling).await;
    let kept = request.keep_change_set.then(|| id.clone());
    let cleanup = if request.keep_change_set { Ok(()) } else { cfn.delete_change_set(&id).await };
    let described = result.map_err(|e| PreviewError::cfn(&stack, e))?;
    cleanup.map_err(|e| PreviewError::cfn(&stack, e))?;
    Ok(match described {
        Described::Facts(facts) => Preview::Changes { old, facts, change_set: kept },
        Described::NoChanges(reason) => Preview::NoChanges { old, reason, change_set: kept },
        Described::Failed(reason) => Preview::ChangeSetFailed { old, reason, change_set: kept },
    })
}

/// The deployed templates of a stack (`GetTemplate` of the root and of every nested stack
/// found by `ListStackResources`), with the new output's scripts (scripts are not part of the
/// deployed stack: the launcher is baked into the AppStream image, the notebook script's
/// text is in a template; nothing to compare them with).
///
/// # Errors
/// [`TemplatesError`].
pub async fn deployed_templates<C: CloudFormation>(
    cfn: &C,
    stack_id: &str,
    stack: &str,
    new: &TemplateSet,
) -> Result<TemplateSet, TemplatesError> {
    let fail = |source: CfnError| TemplatesError::Cfn { stack: stack.to_string(), source };
    let root_body = cfn.get_template(stack_id).await.map_err(fail)?;
    let mut nested = Vec::new();
    for n in nested_stacks(cfn, stack_id).await.map_err(fail)? {
        let body = cfn.get_template(&n.stack_id).await.map_err(fail)?;
        nested.push((n.logical_id, body));
    }
    let mut old = TemplateSet::from_deployed(stack, Some(&root_body), &nested)?;
    old.scripts.clone_from(&new.scripts);
    Ok(old)
}

/// Milliseconds since the Unix epoch, by this machine's clock.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// `ChangeSetName` (`[a-zA-Z][-a-zA-Z0-9]*`), unique per run: `sandboxc-<kind>-<ms>-<pid>`.
#[must_use]
pub fn change_set_name(kind: &str) -> String {
    format!("sandboxc-{kind}-{}-{}", now_ms(), std::process::id())
}

/// What a change set turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Described {
    /// Changes, with the facts of the root and every nested change set.
    Facts(ChangeSetFacts),
    /// Nothing to change (either AWS wording); the reason.
    NoChanges(String),
    /// CloudFormation could not create it; status and reason.
    Failed(String),
}

/// Waits for the root change set, then describes it and every nested change set.
///
/// # Errors
/// [`CfnError`] of `DescribeChangeSet`, or [`CfnError::Timeout`].
pub async fn describe_all<C: CloudFormation>(cfn: &C, id: &str, polling: Polling) -> Result<Described, CfnError> {
    let root = wait_change_set(cfn, id, polling).await?;
    if root.is_empty_failure() {
        return Ok(Described::NoChanges(root.reason));
    }
    if root.status != ChangeSetStatus::CreateComplete {
        return Ok(Described::Failed(format!("{} {}", root.status, root.reason).trim().to_string()));
    }
    let mut facts = ChangeSetFacts { described: BTreeSet::from([String::new()]), resources: Vec::new() };
    let mut queue = vec![(String::new(), root, 0usize)];
    while let Some((path, state, depth)) = queue.pop() {
        for (mut fact, nested_id) in state.changes {
            fact.stack_path.clone_from(&path);
            if let (Some(nested_id), true) = (nested_id, fact.resource_type == NESTED_STACK_TYPE && depth < MAX_NESTING)
            {
                let child_path =
                    if path.is_empty() { fact.logical_id.clone() } else { format!("{path}/{}", fact.logical_id) };
                let child = wait_change_set(cfn, &nested_id, polling).await?;
                facts.described.insert(child_path.clone());
                queue.push((child_path, child, depth + 1));
            }
            facts.resources.push(fact);
        }
    }
    Ok(Described::Facts(facts))
}
