//! The change-set path shared by `apply` and `bootstrap`: stack state rules, change set,
//! plan and approval, execution, following, root cause, protection, outputs.
//!
//! 1. [`prepare`]: `DescribeStacks` decides CREATE or UPDATE ([`StackStatus::next`]). A stack
//!    in progress is followed until it settles (another deployment, or one this tool left on
//!    Ctrl-C), then the decision is taken again. `ROLLBACK_COMPLETE` (and a
//!    `REVIEW_IN_PROGRESS` stack without resources) is refused, and only with `--recreate`
//!    deleted (termination protection lifted first) and created again.
//!    `UPDATE_ROLLBACK_FAILED` and `DELETE_FAILED` are refused with what to run.
//! 2. The caller publishes assets.
//! 3. [`change_and_execute`]: `CreateChangeSet` (CREATE or UPDATE, `IncludeNestedStacks`,
//!    capabilities, tags), waited for; "no changes" in either wording deletes it. The plan is
//!    shown (text view of `sandboxc plan`); data-loss risks stop here without
//!    `--allow-data-loss` (change set deleted); approval by prompt or `--yes`. With
//!    `--allow-data-loss` the stack policies are lifted for this update. `ExecuteChangeSet`,
//!    termination protection on a new stack, events followed until settled; on success the
//!    stack policy on the root and every nested stack.
//!
//! Every path ends in an [`Outcome`]; errors of AWS calls are [`DeployError`]s.

use std::time::Duration;

use super::assets::AssetStore;
use super::cloudformation::{
    nested_stacks, wait_change_set, CfnError, ChangeSetKind, ChangeSetRequest, CloudFormation, Polling, StackInfo,
    StackOutput, TemplateSource, NESTED_STACK_TYPE,
};
use super::console::Console;
use super::events::{baseline, follow, latest_events, root_cause, FollowEnd, FollowPolling};
use super::outcome::{recreate_why, DeployError, Failed, Interrupted, NoChanges, Outcome, Refusal};
use super::preview::{change_set_name, deployed_templates, describe_all, Described};
use super::status::{Next, StackStatus};
use crate::plan::TemplateSet;

/// The AWS side of one run: CloudFormation and the assets store, where, and how often to poll.
#[derive(Debug, Clone)]
pub struct Deployer<C, S> {
    /// CloudFormation.
    pub cfn: C,
    /// S3 (assets, AppStream's home-folder bucket).
    pub store: S,
    /// Account ID the credentials belong to (`sts:GetCallerIdentity`).
    pub account: String,
    /// Region.
    pub region: String,
    /// Change-set and drift-detection polling.
    pub polling: Polling,
    /// Event polling.
    pub follow: FollowPolling,
}

impl<C: CloudFormation, S: AssetStore> Deployer<C, S> {
    /// A deployer with the default polling schedules.
    #[must_use]
    pub fn new(cfn: C, store: S, account: String, region: String) -> Self {
        Self { cfn, store, account, region, polling: Polling::default(), follow: FollowPolling::default() }
    }
}

/// The person's choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Choices {
    /// `--yes`: no prompt.
    pub yes: bool,
    /// `--allow-data-loss`: replacement or removal of stateful resources is allowed.
    pub allow_data_loss: bool,
    /// `--recreate`: a stack that can only be deleted (ROLLBACK_COMPLETE...) is deleted and created again.
    pub recreate: bool,
}

/// What one deployment deploys.
#[derive(Debug, Clone)]
pub struct Deployment<'a> {
    /// CloudFormation stack name.
    pub stack_name: String,
    /// The root template, inline or by URL.
    pub template: TemplateSource,
    /// Root parameters: key and value.
    pub parameters: Vec<(String, String)>,
    /// Stack tags.
    pub tags: Vec<(String, String)>,
    /// The new templates, for the plan.
    pub new: &'a TemplateSet,
    /// The stack policy set after every successful deployment (root and nested stacks).
    pub stack_policy: String,
    /// The stack policy during an update approved with `--allow-data-loss`.
    pub lifted_policy: String,
    /// The command, for messages: `apply` or `bootstrap`.
    pub command: &'static str,
}

/// Whether the stack is created or updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// CREATE change set.
    Create,
    /// UPDATE change set of this stack.
    Update(StackInfo),
}

/// How [`prepare`] ended.
// Once per run: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// Go on.
    Ready(Mode),
    /// Stop here: refused, or interrupted while following another deployment.
    Stop(Outcome),
}

/// Most times the state is decided again after waiting for another deployment.
const MAX_ROUNDS: usize = 4;

/// Step 1: the stack state. See the module documentation.
///
/// # Errors
/// [`DeployError`] for AWS failures.
pub async fn prepare<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    stack: &str,
    choices: Choices,
    console: &mut dyn Console,
) -> Result<Prepared, DeployError> {
    for _ in 0..MAX_ROUNDS {
        let info = match d.cfn.describe_stack(stack).await {
            Ok(info) => info,
            Err(CfnError::NotFound { .. }) => return Ok(Prepared::Ready(Mode::Create)),
            Err(e) => return Err(DeployError::cfn(stack, e)),
        };
        let status = info.status.clone();
        match status.next() {
            Next::Update => return Ok(Prepared::Ready(Mode::Update(info))),
            Next::Create => return Ok(Prepared::Ready(Mode::Create)),
            Next::Wait => {
                console.line(&format!(
                    "stack {stack} is {status}: another deployment is running; following it until it ends (Ctrl-C stops following, not the deployment)"
                ));
                // The running deployment's events from its start: back to the last event
                // that settled the stack before it (at most a few pages).
                let since = running_since(d, &info.stack_id).await;
                match follow(&d.cfn, &info.stack_id, since, None, d.follow, console)
                    .await
                    .map_err(|e| DeployError::cfn(stack, e))?
                {
                    FollowEnd::Interrupted | FollowEnd::TimedOut => {
                        return Ok(Prepared::Stop(Outcome::Interrupted(Interrupted::Deployment {
                            stack: stack.to_string(),
                            unprotected: false,
                        })));
                    }
                    FollowEnd::Gone { .. } => return Ok(Prepared::Ready(Mode::Create)),
                    FollowEnd::Settled { stack: end, .. } => {
                        console.line(&format!("the running deployment ended: {}; deciding again", end.status));
                    }
                }
            }
            Next::Recreate => {
                let never_deployed = status == StackStatus::ReviewInProgress;
                if never_deployed
                    && !d.cfn.list_resources(&info.stack_id).await.map_err(|e| DeployError::cfn(stack, e))?.is_empty()
                {
                    return Ok(refused(Refusal::ReviewWithResources { stack: stack.to_string() }));
                }
                if !choices.recreate {
                    return Ok(refused(Refusal::NeedsRecreate {
                        stack: stack.to_string(),
                        status,
                        reason: info.reason.clone(),
                        never_deployed,
                    }));
                }
                console.line(&format!(
                    "stack {stack} is {status}: {}; --recreate: deleting it",
                    recreate_why(never_deployed, &info.reason)
                ));
                if let Some(stop) = delete_and_wait(d, &info, console).await? {
                    return Ok(Prepared::Stop(stop));
                }
                return Ok(Prepared::Ready(Mode::Create));
            }
            Next::Stuck => {
                return Ok(refused(Refusal::Stuck { stack: stack.to_string(), status, reason: info.reason.clone() }))
            }
        }
    }
    Ok(refused(Refusal::KeptChanging { stack: stack.to_string() }))
}

fn refused(r: Refusal) -> Prepared {
    Prepared::Stop(Outcome::Refused(r))
}

/// Whether a deployed template was written by sandboxc: its `Description` starts with
/// `sandboxc` (every template sandboxc compiles does). A stack of the same name made by
/// anything else is never updated or deleted.
#[must_use]
pub fn made_by_sandboxc(template: &serde_json::Value) -> bool {
    template["Description"].as_str().is_some_and(|d| d.starts_with("sandboxc"))
}

/// Lifts termination protection, deletes the stack, follows until it is gone. `None` when it
/// is gone; else how it ended ([`Failed::Deletion`], [`Interrupted::Deletion`]).
///
/// # Errors
/// [`DeployError`] when a call fails.
pub async fn delete_and_wait<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    info: &StackInfo,
    console: &mut dyn Console,
) -> Result<Option<Outcome>, DeployError> {
    let name = info.stack_id.as_str();
    let aws = |e: CfnError| DeployError::cfn(name, e);
    if info.termination_protection {
        d.cfn.set_termination_protection(name, false).await.map_err(aws)?;
    }
    let (since, skip) = baseline(&d.cfn, name).await.map_err(aws)?;
    d.cfn.delete_stack(name).await.map_err(aws)?;
    match follow(&d.cfn, name, since, skip.as_deref(), d.follow, console).await.map_err(aws)? {
        FollowEnd::Gone { .. } => Ok(None),
        FollowEnd::Settled { stack, failures }
            if stack.status == StackStatus::DeleteComplete && failures.is_empty() =>
        {
            Ok(None)
        }
        FollowEnd::Settled { stack, failures } => Ok(Some(Outcome::Failed(Failed::Deletion {
            stack: name.to_string(),
            status: stack.status,
            reason: stack.reason,
            root_cause: root_cause(&failures).cloned(),
        }))),
        FollowEnd::Interrupted | FollowEnd::TimedOut => {
            Ok(Some(Outcome::Interrupted(Interrupted::Deletion { stack: name.to_string() })))
        }
    }
}

/// The start of the deployment running on a stack: the time of the newest event that ended
/// in a settled stack status (by CloudFormation's clock), from the first page of events;
/// 0 (everything on that page) when none is found there.
async fn running_since<C: CloudFormation, S: AssetStore>(d: &Deployer<C, S>, stack_id: &str) -> i64 {
    let Ok(events) = latest_events(&d.cfn, stack_id).await else { return 0 };
    events
        .iter()
        .find(|e| {
            e.resource_type == NESTED_STACK_TYPE && e.physical_id == stack_id && e.status.stack_status().is_settled()
        })
        .map_or(0, |e| e.timestamp_ms + 1)
}

/// Steps 3 onwards.
///
/// # Errors
/// [`DeployError`] for AWS failures before execution, or when following fails.
pub async fn change_and_execute<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    dep: &Deployment<'_>,
    mode: &Mode,
    choices: Choices,
    console: &mut dyn Console,
) -> Result<Outcome, DeployError> {
    let stack = dep.stack_name.as_str();
    let aws = |e: CfnError| DeployError::cfn(stack, e);
    let request = ChangeSetRequest {
        stack_name: stack.to_string(),
        change_set_name: change_set_name("apply"),
        template: dep.template.clone(),
        parameters: dep.parameters.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect(),
        kind: if *mode == Mode::Create { ChangeSetKind::Create } else { ChangeSetKind::Update },
        tags: dep.tags.clone(),
        description: "sandboxc apply".into(),
    };
    let id = match d.cfn.create_change_set(&request).await {
        Ok(id) => id,
        Err(CfnError::NoUpdates) => {
            let problems = protect_again(d, dep, mode, console).await;
            return Ok(up_to_date(stack, "CreateChangeSet: No updates are to be performed.".into(), false, problems));
        }
        Err(e) => return refused_or(stack, e),
    };
    let first = wait_change_set(&d.cfn, &id, d.polling).await.map_err(aws)?;
    let facts = match describe_all(&d.cfn, &id, d.polling).await.map_err(aws)? {
        Described::NoChanges(reason) => {
            d.cfn.delete_change_set(&id).await.map_err(aws)?;
            let problems = protect_again(d, dep, mode, console).await;
            return Ok(up_to_date(stack, reason, true, problems));
        }
        Described::Failed(reason) => {
            let _ = d.cfn.delete_change_set(&id).await;
            discard_empty_stack(d, stack, mode).await;
            return Ok(Outcome::Failed(Failed::ChangeSet { stack: stack.to_string(), reason }));
        }
        Described::Facts(f) => f,
    };

    // The plan, as `sandboxc plan` shows it.
    let old = match mode {
        Mode::Create => {
            let mut old =
                TemplateSet::from_deployed(stack, None, &[]).map_err(|e| DeployError::Internal(e.to_string()))?;
            old.scripts.clone_from(&dep.new.scripts);
            old
        }
        Mode::Update(info) => deployed_templates(&d.cfn, &info.stack_id, stack, dep.new)
            .await
            .map_err(|e| DeployError::Template(e.to_string()))?,
    };
    if let Some(root) = old.templates.get(&old.root_file) {
        if matches!(mode, Mode::Update(_)) && !made_by_sandboxc(&root.to_value()) {
            let _ = d.cfn.delete_change_set(&id).await;
            return Ok(Outcome::Refused(Refusal::NotMadeBySandboxc { stack: stack.to_string(), deleting: false }));
        }
    }
    let base = match mode {
        Mode::Create => format!("nothing (stack {stack} does not exist yet in {})", d.region),
        Mode::Update(_) => format!("deployed stack {stack} in {}", d.region),
    };
    let plan = crate::plan::plan_refined(&old, dep.new, &base, Some(&facts));
    console.line(crate::plan::render::text::render(&plan, false).trim_end());
    let risks: Vec<_> = plan.data_loss.iter().filter(|r| r.impact != crate::plan::model::Impact::None).collect();
    if !risks.is_empty() && !choices.allow_data_loss {
        d.cfn.delete_change_set(&id).await.map_err(aws)?;
        discard_empty_stack(d, stack, mode).await;
        let resources = risks.iter().map(|r| format!("{}/{} ({})", r.stack, r.logical_id, r.resource_type)).collect();
        return Ok(Outcome::Refused(Refusal::DataLoss { resources }));
    }
    let approved = !console.interrupted()
        && (choices.yes
            || console
                .confirm(&format!("Apply these changes to stack {stack} in account {} ({})?", d.account, d.region)));
    if !approved {
        d.cfn.delete_change_set(&id).await.map_err(aws)?;
        discard_empty_stack(d, stack, mode).await;
        return Ok(Outcome::Declined { command: dep.command, cleanup: "change set deleted" });
    }

    // The physical names of the resources this update leaves behind (retained while replaced
    // or removed): they are no longer part of the stack afterwards, so say which they are.
    let left_behind = match mode {
        Mode::Update(info) if risks.iter().any(|r| r.retained) => {
            let tree = super::manage::tree(&d.cfn, &info.stack_id).await.unwrap_or_default();
            risks
                .iter()
                .filter(|r| r.retained)
                .filter_map(|r| {
                    let path_end = format!("/{}", r.logical_id);
                    tree.iter()
                        .find(|t| {
                            t.resource_type == r.resource_type
                                && (t.path == r.logical_id || t.path.ends_with(&path_end))
                                && !t.physical_id.is_empty()
                        })
                        .map(|t| format!("{} {} ({}/{})", r.resource_type, t.physical_id, r.stack, r.logical_id))
                })
                .collect::<Vec<_>>()
        }
        _ => Vec::new(),
    };
    let lifted = matches!(mode, Mode::Update(_)) && !risks.is_empty();
    if lifted {
        for s in stack_and_nested(d, stack, console).await.0 {
            d.cfn.set_stack_policy(&s, &dep.lifted_policy).await.map_err(aws)?;
        }
        console.line("--allow-data-loss: the stack policy is lifted for this update");
    }
    if let Err(e) = d.cfn.execute_change_set(&id).await {
        // Nothing ran: put everything back as it was.
        if lifted {
            // Warned about; the refusal or error below is what ends the command.
            let _ = protect_again(d, dep, mode, console).await;
        }
        let _ = d.cfn.delete_change_set(&id).await;
        discard_empty_stack(d, stack, mode).await;
        return refused_or(stack, e);
    }
    console.line(&format!("executing change set {id}"));
    let stack_id = d.cfn.describe_stack(stack).await.map_err(aws)?.stack_id;
    if *mode == Mode::Create {
        // The deployment runs already: a failure here must not stop following it.
        match d.cfn.set_termination_protection(&stack_id, true).await {
            Ok(()) => console.line(&format!("termination protection is on for stack {stack}")),
            Err(e) => console.problem(&format!(
                "warning: could not turn on termination protection ({e}); turn it on with `aws cloudformation update-termination-protection --enable-termination-protection --stack-name {stack}`"
            )),
        }
    }
    let (since, skip) =
        if first.created_ms > 0 { (first.created_ms, None) } else { baseline(&d.cfn, &stack_id).await.map_err(aws)? };
    let end = follow(&d.cfn, &stack_id, since, skip.as_deref(), d.follow, console)
        .await
        .map_err(|source| DeployError::LostTrack { stack: stack.to_string(), source })?;
    let outcome = finish(d, dep, &stack_id, end, lifted || *mode == Mode::Create, console).await;
    if matches!(outcome, Outcome::Deployed { .. }) {
        for r in &left_behind {
            console.line(&format!(
                "retained, no longer part of stack {stack}: {r}; its data stays until you delete it by hand"
            ));
        }
    }
    Ok(outcome)
}

/// A change set or its execution refused because another deployment runs
/// ([`CfnError::Conflict`]) is a refusal; any other error is an error.
fn refused_or(stack: &str, e: CfnError) -> Result<Outcome, DeployError> {
    match e {
        CfnError::Conflict { .. } => {
            Ok(Outcome::Refused(Refusal::Concurrent { stack: stack.to_string(), detail: e.to_string() }))
        }
        e => Err(DeployError::cfn(stack, e)),
    }
}

/// Sets the protecting stack policy again on an existing stack and its nested stacks (after
/// "no changes", or an execution that never started): an earlier `--allow-data-loss` run that
/// was interrupted may have left it lifted. Returns what could not be protected (empty when
/// every stack has its policy, or the stack is new).
async fn protect_again<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    dep: &Deployment<'_>,
    mode: &Mode,
    console: &mut dyn Console,
) -> Vec<String> {
    let Mode::Update(info) = mode else { return Vec::new() };
    protect(d, &info.stack_id, &dep.stack_policy, console).await
}

/// Sets `policy` on the root stack and every nested stack. Returns one line per stack that
/// could not be protected (`SetStackPolicy` failed, or the nested stacks could not be listed),
/// each also shown as a warning.
async fn protect<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    stack: &str,
    policy: &str,
    console: &mut dyn Console,
) -> Vec<String> {
    let (stacks, mut problems) = stack_and_nested(d, stack, console).await;
    for s in stacks {
        if let Err(e) = d.cfn.set_stack_policy(&s, policy).await {
            console.problem(&format!("warning: could not set the stack policy on {s}: {e}"));
            problems.push(format!("{s}: {e}"));
        }
    }
    problems
}

/// "No changes", unless the stack policies could not be set again.
fn up_to_date(stack: &str, reason: String, deleted: bool, problems: Vec<String>) -> Outcome {
    if problems.is_empty() {
        Outcome::NoChanges(NoChanges::UpToDate { stack: stack.to_string(), reason, deleted })
    } else {
        Outcome::Failed(Failed::Unprotected { stack: stack.to_string(), status: None, problems })
    }
}

/// A CREATE change set that is not executed leaves an empty stack in REVIEW_IN_PROGRESS
/// behind; delete it so that the next apply starts clean (best effort).
async fn discard_empty_stack<C: CloudFormation, S: AssetStore>(d: &Deployer<C, S>, stack: &str, mode: &Mode) {
    if *mode == Mode::Create {
        let _ = d.cfn.delete_stack(stack).await;
    }
}

/// The root stack and its nested stacks (ARNs). When the nested stacks cannot be listed, a
/// warning says so, only the root is returned, and the problem is the second value.
async fn stack_and_nested<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    stack: &str,
    console: &mut dyn Console,
) -> (Vec<String>, Vec<String>) {
    let mut out = vec![stack.to_string()];
    let mut problems = Vec::new();
    match nested_stacks(&d.cfn, stack).await {
        Ok(nested) => out.extend(nested.into_iter().map(|n| n.stack_id)),
        Err(e) => {
            console.problem(&format!(
                "warning: cannot list the nested stacks of {stack} ({e}): their stack policies are not changed"
            ));
            problems.push(format!("the nested stacks of {stack} (ListStackResources): {e}"));
        }
    }
    (out, problems)
}

/// How following the execution ended, as an outcome; on success (and after a rolled-back
/// update, which keeps its resources) the protecting stack policy is set.
/// `unprotected`: the stack policy is lifted (`--allow-data-loss`) or not set yet (a new stack).
async fn finish<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    dep: &Deployment<'_>,
    stack_id: &str,
    end: FollowEnd,
    unprotected: bool,
    console: &mut dyn Console,
) -> Outcome {
    let stack = dep.stack_name.clone();
    match end {
        FollowEnd::Interrupted | FollowEnd::TimedOut => {
            Outcome::Interrupted(Interrupted::Deployment { stack, unprotected })
        }
        FollowEnd::Gone { failures } => {
            Outcome::Failed(Failed::Vanished { stack, root_cause: root_cause(&failures).cloned() })
        }
        FollowEnd::Settled { stack: info, failures } => {
            // Protection again, whatever happened: a rolled-back update keeps its resources.
            let mut problems = Vec::new();
            if info.status.is_success() || info.status == StackStatus::UpdateRollbackComplete {
                problems = protect(d, stack_id, &dep.stack_policy, console).await;
            }
            if info.status.is_success() {
                if !problems.is_empty() {
                    // Deployed, but without its data-loss guard: not a plain success.
                    return Outcome::Failed(Failed::Unprotected { stack, status: Some(info.status), problems });
                }
                return Outcome::Deployed { stack, info };
            }
            Outcome::Failed(Failed::Deployment { stack, info, root_cause: root_cause(&failures).cloned() })
        }
    }
}

/// The stack outputs as lines: `outputs:`, then name and value (sorted by name), and the
/// description under its value; nothing when there are none.
#[must_use]
pub fn output_lines(outputs: &[StackOutput]) -> Vec<String> {
    if outputs.is_empty() {
        return Vec::new();
    }
    let mut lines = vec!["outputs:".to_string()];
    let mut outputs = outputs.to_vec();
    outputs.sort();
    let width = outputs.iter().map(|o| o.key.len()).max().unwrap_or(0);
    for o in outputs {
        lines.push(format!("  {:<width$}  {}", o.key, o.value));
        if !o.description.is_empty() {
            lines.push(format!("  {:<width$}  ({})", "", o.description));
        }
    }
    lines
}

/// Polling for tests and scripts: short pauses, same bounds logic.
#[must_use]
pub fn fast_polling() -> (Polling, FollowPolling) {
    (
        Polling { initial: Duration::from_millis(1), max: Duration::from_millis(5), timeout: Duration::from_secs(30) },
        FollowPolling {
            interval: Duration::from_millis(1),
            max_interval: Duration::from_millis(5),
            timeout: Duration::from_secs(30),
        },
    )
}
