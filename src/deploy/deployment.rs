//! The change-set path shared by `apply` and `bootstrap`: stack state rules, change set,
//! plan and approval, execution, following, root cause, protection, outputs.
//!
//! 1. [`prepare`]: `DescribeStacks` decides CREATE or UPDATE ([`StackStatus::next`]). A stack
//!    in progress is followed until it settles (another deployment, or one this tool left on
//!    Ctrl-C), then the decision is taken again. `ROLLBACK_COMPLETE` (and a
//!    `REVIEW_IN_PROGRESS` stack without resources) is explained, and only with `--recreate`
//!    deleted (termination protection lifted first) and created again.
//!    `UPDATE_ROLLBACK_FAILED` and `DELETE_FAILED` are explained with what to run.
//! 2. The caller publishes assets.
//! 3. [`change_and_execute`]: `CreateChangeSet` (CREATE or UPDATE, `IncludeNestedStacks`,
//!    capabilities, tags), waited for; "no changes" in either wording deletes it: exit 0. The
//!    plan is shown (text view of `sandboxc plan`); data-loss risks stop here without
//!    `--allow-data-loss` (change set deleted); approval by prompt or `--yes`. With
//!    `--allow-data-loss` the stack policies are lifted for this update. `ExecuteChangeSet`,
//!    termination protection on a new stack, events followed until settled; on failure the
//!    root cause first; on success the stack policy on the root and every nested stack, and
//!    the outputs.

use std::time::Duration;

use super::cfn::{Cfn, CfnError, ChangeSetRequest, Polling, StackInfo};
use super::console::Console;
use super::events::{baseline, describe_root_cause, follow, root_cause, FollowEnd, FollowPolling};
use super::plan::{deployed_templates, describe_all, Described};
use super::status::{Next, StackStatus};
use crate::plan::TemplateSet;

/// Exit code of success (also "no changes").
pub const EXIT_OK: u8 = 0;
/// Exit code of every failure, refusal, cancellation or interruption.
pub const EXIT_FAILED: u8 = 1;

/// A deploy command failed before or around CloudFormation's work: the message says where,
/// what, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DeployError(pub String);

impl DeployError {
    pub(super) fn aws(stack: &str, e: &CfnError) -> Self {
        Self(format!("stack {stack}: {e}"))
    }
}

/// The AWS side of one run: clients, where, and how often to poll.
#[derive(Debug, Clone)]
pub struct Deployer {
    /// CloudFormation.
    pub cfn: Cfn,
    /// S3 (assets).
    pub s3: aws_sdk_s3::Client,
    /// Account ID the credentials belong to (`sts:GetCallerIdentity`).
    pub account: String,
    /// Region.
    pub region: String,
    /// Change-set polling.
    pub polling: Polling,
    /// Event polling.
    pub follow: FollowPolling,
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
    /// `TemplateBody`, or a `https://` `TemplateURL`.
    pub template: String,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// Go on.
    Ready(Mode),
    /// Stop with this exit code (the console said why).
    Stop(u8),
}

/// Most times the state is decided again after waiting for another deployment.
const MAX_ROUNDS: usize = 4;

/// Step 1: the stack state. See the module documentation.
///
/// # Errors
/// [`DeployError`] for AWS failures and states that need a person.
pub async fn prepare(
    d: &Deployer,
    stack: &str,
    choices: Choices,
    console: &mut dyn Console,
) -> Result<Prepared, DeployError> {
    for _ in 0..MAX_ROUNDS {
        let info = match d.cfn.describe_stack(stack).await {
            Ok(info) => info,
            Err(CfnError::NotFound(_)) => return Ok(Prepared::Ready(Mode::Create)),
            Err(e) => return Err(DeployError::aws(stack, &e)),
        };
        let status = StackStatus::parse(&info.status);
        match status.next() {
            Next::Update => return Ok(Prepared::Ready(Mode::Update(info))),
            Next::Create => return Ok(Prepared::Ready(Mode::Create)),
            Next::Wait => {
                console.line(&format!(
                    "stack {stack} is {status}: another deployment is running; following it until it ends (Ctrl-C stops following, not the deployment)"
                ));
                // The running deployment's events from its start: back to the last event
                // that settled the stack before it (at most a few pages).
                match follow(&d.cfn, &info.stack_id, running_since(d, &info.stack_id).await, None, d.follow, console)
                    .await
                    .map_err(|e| DeployError::aws(stack, &e))?
                {
                    FollowEnd::Interrupted | FollowEnd::TimedOut => {
                        console.problem(&reattach_hint(stack));
                        return Ok(Prepared::Stop(EXIT_FAILED));
                    }
                    FollowEnd::Gone { .. } => return Ok(Prepared::Ready(Mode::Create)),
                    FollowEnd::Settled { stack: end, .. } => {
                        console.line(&format!("the running deployment ended: {}; deciding again", end.status))
                    }
                }
            }
            Next::Recreate => {
                let empty_review = status == StackStatus::ReviewInProgress;
                if empty_review
                    && !d.cfn.resources(&info.stack_id).await.map_err(|e| DeployError::aws(stack, &e))?.is_empty()
                {
                    return Err(DeployError(format!("stack {stack} is REVIEW_IN_PROGRESS but has resources: inspect it in the CloudFormation console; sandboxc does not delete it")));
                }
                let why = if empty_review {
                    "it was never deployed (a change set was created and not executed)".to_string()
                } else {
                    format!(
                        "its creation failed and was rolled back, so it cannot be updated, only deleted{}",
                        reason_suffix(&info.reason)
                    )
                };
                if !choices.recreate {
                    return Err(DeployError(format!(
                        "stack {stack} is {status}: {why}. Run the command again with --recreate to delete it and create it again{}",
                        if empty_review {
                            ""
                        } else {
                            " (resources with DeletionPolicy Retain that were created stay, and a fixed-name one may block the new creation: delete them first); `sandboxc status` shows the failed events"
                        }
                    )));
                }
                console.line(&format!("stack {stack} is {status}: {why}; --recreate: deleting it"));
                delete_and_wait(d, &info, console).await?;
                return Ok(Prepared::Ready(Mode::Create));
            }
            Next::Stuck => return Err(DeployError(stuck_message(stack, &status, &info.reason))),
        }
    }
    Err(DeployError(format!(
        "stack {stack} kept changing state while sandboxc waited: run `sandboxc status`, then apply again"
    )))
}

fn reason_suffix(reason: &str) -> String {
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

/// Refuses credentials of another account than the blueprint's pinned `account`.
///
/// # Errors
/// [`DeployError`] naming both accounts.
pub fn check_account(d: &Deployer, release: &crate::Release) -> Result<(), DeployError> {
    match &release.blueprint.account {
        Some(pinned) if *pinned != d.account => Err(DeployError(format!(
            "the blueprint pins account {pinned} (`account`), but the credentials in use belong to account {}: choose the right profile (--profile) or change `account`",
            d.account
        ))),
        _ => Ok(()),
    }
}

/// Whether a deployed template was written by sandboxc: its `Description` starts with
/// `sandboxc` (every template sandboxc compiles does). A stack of the same name made by
/// anything else is never updated or deleted.
#[must_use]
pub fn made_by_sandboxc(template: &serde_json::Value) -> bool {
    template["Description"].as_str().is_some_and(|d| d.starts_with("sandboxc"))
}

/// Hint after Ctrl-C or a follow timeout.
#[must_use]
pub fn reattach_hint(stack: &str) -> String {
    format!(
        "stopped following: the deployment of stack {stack} continues in CloudFormation. Run `sandboxc apply` again to re-attach (it follows the running deployment to its end, then plans again: nothing is applied twice), or `sandboxc status` to see where it is"
    )
}

/// Lifts termination protection, deletes the stack, follows until it is gone.
///
/// # Errors
/// [`DeployError`] when the deletion fails or cannot be followed.
pub async fn delete_and_wait(d: &Deployer, info: &StackInfo, console: &mut dyn Console) -> Result<(), DeployError> {
    let name = info.stack_id.as_str();
    if info.termination_protection {
        d.cfn.set_termination_protection(name, false).await.map_err(|e| DeployError::aws(name, &e))?;
    }
    let (since, skip) = baseline(&d.cfn, name).await.map_err(|e| DeployError::aws(name, &e))?;
    d.cfn.delete_stack(name).await.map_err(|e| DeployError::aws(name, &e))?;
    match follow(&d.cfn, name, since, skip.as_deref(), d.follow, console).await.map_err(|e| DeployError::aws(name, &e))? {
        FollowEnd::Gone { .. } => Ok(()),
        FollowEnd::Settled { stack, failures } if stack.status == "DELETE_COMPLETE" && failures.is_empty() => Ok(()),
        FollowEnd::Settled { stack, failures } => {
            let cause = root_cause(&failures).map(describe_root_cause).unwrap_or_default();
            Err(DeployError(format!("deleting stack {name} ended {}{}. {cause}", stack.status, reason_suffix(&stack.reason))))
        }
        FollowEnd::Interrupted | FollowEnd::TimedOut => Err(DeployError(format!("stopped following the deletion of {name}; it continues in CloudFormation: run the command again once `sandboxc status` shows it gone"))),
    }
}

/// The start of the deployment running on a stack: the time of the newest event that ended
/// in a settled stack status (by CloudFormation's clock), from the first page of events;
/// 0 (everything on that page) when none is found there.
async fn running_since(d: &Deployer, stack_id: &str) -> i64 {
    let Ok(events) = d.cfn.latest_events(stack_id).await else { return 0 };
    events
        .iter()
        .find(|e| {
            e.resource_type == "AWS::CloudFormation::Stack"
                && e.physical_id == stack_id
                && StackStatus::parse(&e.status).is_settled()
        })
        .map_or(0, |e| e.timestamp_ms + 1)
}

/// Milliseconds since the Unix epoch, by this machine's clock.
#[must_use]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

/// `ChangeSetName` (`[a-zA-Z][-a-zA-Z0-9]*`), unique per run.
fn change_set_name(kind: &str) -> String {
    format!("sandboxc-{kind}-{}-{}", now_ms(), std::process::id())
}

/// Steps 3 onwards. Returns the exit code; the console told the story.
///
/// # Errors
/// [`DeployError`] for AWS failures before execution.
pub async fn change_and_execute(
    d: &Deployer,
    dep: &Deployment<'_>,
    mode: &Mode,
    choices: Choices,
    console: &mut dyn Console,
) -> Result<u8, DeployError> {
    let stack = dep.stack_name.as_str();
    let aws = |e: CfnError| DeployError::aws(stack, &e);
    let request = ChangeSetRequest {
        stack_name: stack.to_string(),
        change_set_name: change_set_name("apply"),
        template_body: dep.template.clone(),
        parameters: dep.parameters.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect(),
        create: *mode == Mode::Create,
        tags: dep.tags.clone(),
        description: "sandboxc apply".into(),
    };
    let id = match d.cfn.create_change_set(&request).await {
        Ok(id) => id,
        Err(CfnError::NoUpdates) => {
            console.line(&format!(
                "no changes: stack {stack} is up to date (CreateChangeSet: No updates are to be performed.)"
            ));
            protect_again(d, dep, mode, console).await;
            return Ok(EXIT_OK);
        }
        Err(e) => return Err(refused_or(stack, e)),
    };
    let first = d.cfn.wait_change_set(&id, d.polling).await.map_err(aws)?;
    let described = describe_all(&d.cfn, &id, d.polling).await.map_err(aws)?;
    let facts = match described {
        Described::NoChanges(reason) => {
            d.cfn.delete_change_set(&id).await.map_err(aws)?;
            console
                .line(&format!("no changes: stack {stack} is up to date ({reason}); the empty change set was deleted"));
            protect_again(d, dep, mode, console).await;
            return Ok(EXIT_OK);
        }
        Described::Failed(reason) => {
            let _ = d.cfn.delete_change_set(&id).await;
            discard_empty_stack(d, stack, mode).await;
            return Err(DeployError(format!("CloudFormation could not create the change set for stack {stack}: {reason} (change set deleted; nothing changed)")));
        }
        Described::Facts(f) => f,
    };

    // The plan, as `sandboxc plan` shows it.
    let old = match mode {
        Mode::Create => {
            let mut old = TemplateSet::from_deployed(stack, None, &[]).map_err(|e| DeployError(e.to_string()))?;
            old.scripts.clone_from(&dep.new.scripts);
            old
        }
        Mode::Update(info) => {
            deployed_templates(&d.cfn, &info.stack_id, stack, dep.new).await.map_err(|e| DeployError(e.to_string()))?
        }
    };
    if let Some(root) = old.templates.get(&old.root_file) {
        if matches!(mode, Mode::Update(_)) && !made_by_sandboxc(&root.to_value()) {
            let _ = d.cfn.delete_change_set(&id).await;
            return Err(DeployError(format!(
                "stack {stack} was not made by sandboxc (its template's Description does not start with \"sandboxc\"): sandboxc does not update it; choose another `name` in the blueprint (change set deleted; nothing changed)"
            )));
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
        let names: Vec<String> =
            risks.iter().map(|r| format!("{}/{} ({})", r.stack, r.logical_id, r.resource_type)).collect();
        console.problem(&format!(
            "refused: this change replaces or removes resources that hold data: {}. Nothing was changed (change set deleted). If that is intended, run again with --allow-data-loss",
            names.join(", ")
        ));
        return Ok(EXIT_FAILED);
    }
    let approved = !console.interrupted()
        && (choices.yes
            || console
                .confirm(&format!("Apply these changes to stack {stack} in account {} ({})?", d.account, d.region)));
    if !approved {
        d.cfn.delete_change_set(&id).await.map_err(aws)?;
        discard_empty_stack(d, stack, mode).await;
        console.problem(&format!("{} cancelled: nothing was changed (change set deleted)", dep.command));
        return Ok(EXIT_FAILED);
    }

    let lifted = matches!(mode, Mode::Update(_)) && !risks.is_empty();
    if lifted {
        for s in stack_and_nested(d, stack, console).await {
            d.cfn.set_stack_policy(&s, &dep.lifted_policy).await.map_err(aws)?;
        }
        console.line("--allow-data-loss: the stack policy is lifted for this update");
    }
    if let Err(e) = d.cfn.execute_change_set(&id).await {
        // Nothing ran: put everything back as it was.
        if lifted {
            protect_again(d, dep, mode, console).await;
        }
        let _ = d.cfn.delete_change_set(&id).await;
        discard_empty_stack(d, stack, mode).await;
        return Err(refused_or(stack, e));
    }
    console.line(&format!("executing change set {id}"));
    let stack_id = match d.cfn.describe_stack(stack).await {
        Ok(info) => info.stack_id,
        Err(e) => return Err(aws(e)),
    };
    if *mode == Mode::Create {
        // The deployment runs already: a failure here must not stop following it.
        match d.cfn.set_termination_protection(&stack_id, true).await {
            Ok(()) => console.line(&format!("termination protection is on for stack {stack}")),
            Err(e) => console.line(&format!(
                "warning: could not turn on termination protection ({e}); turn it on with `aws cloudformation update-termination-protection --enable-termination-protection --stack-name {stack}`"
            )),
        }
    }
    let (since, skip) =
        if first.created_ms > 0 { (first.created_ms, None) } else { baseline(&d.cfn, &stack_id).await.map_err(aws)? };
    let end = follow(&d.cfn, &stack_id, since, skip.as_deref(), d.follow, console)
        .await
        .map_err(|e| DeployError(format!("{}: {e}. {}", "lost track of the deployment", reattach_hint(stack))))?;
    finish(d, dep, &stack_id, end, lifted || *mode == Mode::Create, console).await
}

/// A second apply racing with another one: CloudFormation refuses with a ValidationError
/// naming an `_IN_PROGRESS` state or an `OperationInProgress`/`InvalidChangeSetStatus` code.
fn refused_or(stack: &str, e: CfnError) -> DeployError {
    let text = e.to_string();
    if text.contains("IN_PROGRESS state")
        || text.contains("InProgress")
        || text.contains("InvalidChangeSetStatus")
        || text.contains("is in ") && text.contains("_IN_PROGRESS")
    {
        return DeployError(format!(
            "stack {stack} is being changed by another deployment right now, so this apply was refused and changed nothing ({text}). Wait for it (`sandboxc status`), then apply again"
        ));
    }
    DeployError::aws(stack, &e)
}

/// Sets the protecting stack policy again on an existing stack and its nested stacks (after
/// "no changes", or an execution that never started): an earlier `--allow-data-loss` run that
/// was interrupted may have left it lifted. Failures are warnings.
async fn protect_again(d: &Deployer, dep: &Deployment<'_>, mode: &Mode, console: &mut dyn Console) {
    let Mode::Update(info) = mode else { return };
    for s in stack_and_nested(d, &info.stack_id, console).await {
        if let Err(e) = d.cfn.set_stack_policy(&s, &dep.stack_policy).await {
            console.line(&format!("warning: could not set the stack policy on {s}: {e}"));
        }
    }
}

/// A CREATE change set that is not executed leaves an empty stack in REVIEW_IN_PROGRESS
/// behind; delete it so that the next apply starts clean (best effort).
async fn discard_empty_stack(d: &Deployer, stack: &str, mode: &Mode) {
    if *mode == Mode::Create {
        let _ = d.cfn.delete_stack(stack).await;
    }
}

/// The root stack and its nested stacks (ARNs). When the nested stacks cannot be listed, a
/// warning says so and only the root is returned.
async fn stack_and_nested(d: &Deployer, stack: &str, console: &mut dyn Console) -> Vec<String> {
    let mut out = vec![stack.to_string()];
    match d.cfn.nested_stacks(stack).await {
        Ok(nested) => out.extend(nested.into_iter().map(|n| n.stack_id)),
        Err(e) => console.problem(&format!(
            "warning: cannot list the nested stacks of {stack} ({e}): their stack policies are not changed"
        )),
    }
    out
}

/// `unprotected`: the stack policy is lifted (`--allow-data-loss`) or not set yet (a new stack).
async fn finish(
    d: &Deployer,
    dep: &Deployment<'_>,
    stack_id: &str,
    end: FollowEnd,
    unprotected: bool,
    console: &mut dyn Console,
) -> Result<u8, DeployError> {
    let stack = dep.stack_name.as_str();
    match end {
        FollowEnd::Interrupted | FollowEnd::TimedOut => {
            console.problem(&reattach_hint(stack));
            if unprotected {
                console.problem("the stack policy that protects stateful resources is set (again) when an apply of this stack finishes");
            }
            Ok(EXIT_FAILED)
        }
        FollowEnd::Gone { failures } => {
            if let Some(f) = root_cause(&failures) {
                console.problem(&describe_root_cause(f));
            }
            console.problem(&format!("stack {stack} was deleted while sandboxc followed it (a failed creation with rollback disabled deletion, or someone deleted it)"));
            Ok(EXIT_FAILED)
        }
        FollowEnd::Settled { stack: info, failures } => {
            let status = StackStatus::parse(&info.status);
            // Protection again, whatever happened: a rolled-back update keeps its resources.
            let protect = status.is_success() || status == StackStatus::UpdateRollbackComplete;
            if protect {
                for s in stack_and_nested(d, stack_id, console).await {
                    if let Err(e) = d.cfn.set_stack_policy(&s, &dep.stack_policy).await {
                        console.line(&format!("warning: could not set the stack policy on {s}: {e}"));
                    }
                }
            }
            if status.is_success() {
                console.line(&format!("stack {stack}: {status}"));
                print_outputs(&info, console);
                return Ok(EXIT_OK);
            }
            match root_cause(&failures) {
                Some(f) => console.problem(&describe_root_cause(f)),
                None => console.problem("root cause: CloudFormation reported no failed resource event"),
            }
            console.problem(&format!("stack {stack}: {status}{}", reason_suffix(&info.reason)));
            if status == StackStatus::RollbackComplete {
                console.problem("the stack was rolled back after its first creation failed: fix the cause, then run the command again with --recreate");
            }
            Ok(EXIT_FAILED)
        }
    }
}

/// Prints the stack outputs: name, value, description.
pub fn print_outputs(info: &StackInfo, console: &mut dyn Console) {
    if info.outputs.is_empty() {
        return;
    }
    console.line("outputs:");
    let mut outputs = info.outputs.clone();
    outputs.sort();
    let width = outputs.iter().map(|(k, _, _)| k.len()).max().unwrap_or(0);
    for (key, value, description) in outputs {
        console.line(&format!("  {key:<width$}  {value}"));
        if !description.is_empty() {
            console.line(&format!("  {:<width$}  ({description})", ""));
        }
    }
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
