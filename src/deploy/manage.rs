//! `sandboxc destroy` and `sandboxc status`.
//!
//! destroy: lists what will be deleted and what is retained (`DeletionPolicy: Retain` in the
//! deployed templates), by logical ID, type and physical name; asks (or `--yes`); lifts
//! termination protection; `DeleteStack`; follows the events until the stack is gone. The
//! retained resources, which now live outside any stack, are in the outcome.
//!
//! status: stack status and reason, termination protection, the latest events, the outputs;
//! `--drift` runs drift detection on the root and every nested stack
//! (`DetectStackDrift`, `DescribeStackDriftDetectionStatus`, `DescribeStackResourceDrifts`).

use std::time::Instant;

use serde_json::Value;

use super::assets::AssetStore;
use super::cloudformation::{
    nested_stacks, part_of, CfnError, CloudFormation, ResourceDrift, StackInfo, NESTED_STACK_TYPE,
};
use super::console::{event_line, Console};
use super::deployment::{delete_and_wait, made_by_sandboxc, output_lines, Deployer};
use super::events::latest_events;
use super::outcome::{DeployError, NoChanges, Outcome, Refusal, TreeResource};
use super::release::Release;
use super::status::{DetectionStatus, ResourceDriftStatus};

/// Events shown by `status`.
pub const STATUS_EVENTS: usize = 15;

/// Properties that give a resource a fixed physical name.
const NAME_PROPERTIES: [&str; 7] =
    ["BucketName", "LogGroupName", "TrailName", "FunctionName", "QueueName", "NotebookInstanceName", "RoleName"];

/// Whether a name blocks the next stack: a name made unique per stack creation (it refers to
/// the stack's ID, `AWS::StackId`, as the compiler's retained log groups and trail do) does not.
fn is_fixed(name: &Value) -> bool {
    !name.to_string().contains("AWS::StackId")
}

/// Every resource of the stack and its nested stacks, with the retention of each.
///
/// # Errors
/// [`CfnError`].
pub async fn tree<C: CloudFormation>(cfn: &C, stack_id: &str) -> Result<Vec<TreeResource>, CfnError> {
    let mut out = Vec::new();
    let mut queue = vec![(stack_id.to_string(), String::new())];
    while let Some((id, prefix)) = queue.pop() {
        let template: Value =
            cfn.get_template(&id).await.ok().and_then(|b| serde_json::from_str(&b).ok()).unwrap_or(Value::Null);
        for r in cfn.list_resources(&id).await? {
            if r.logical_id.is_empty() {
                continue;
            }
            let definition = &template["Resources"][&r.logical_id];
            let retained = definition["DeletionPolicy"].as_str() == Some("Retain");
            let fixed_name = NAME_PROPERTIES.iter().any(|p| definition["Properties"].get(p).is_some_and(is_fixed));
            let path = format!("{prefix}{}", r.logical_id);
            if r.resource_type == NESTED_STACK_TYPE && r.physical_id.starts_with("arn:") && queue.len() < 50 {
                queue.push((r.physical_id.clone(), format!("{prefix}{}/", part_of(&r.logical_id))));
                continue;
            }
            out.push(TreeResource {
                path,
                resource_type: r.resource_type,
                physical_id: r.physical_id,
                retained,
                fixed_name,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// `title (N):`, then one line per resource: `  path (Type)  physical ID`.
#[must_use]
pub fn tree_lines(title: &str, items: &[&TreeResource]) -> Vec<String> {
    let mut lines = vec![format!("{title} ({}):", items.len())];
    for r in items {
        let physical = if r.physical_id.is_empty() { String::new() } else { format!("  {}", r.physical_id) };
        lines.push(format!("  {} ({}){physical}", r.path, r.resource_type));
    }
    lines
}

/// `sandboxc destroy`: see the module documentation. `yes`: no question.
///
/// # Errors
/// [`DeployError`] for AWS failures.
pub async fn destroy<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    release: &Release,
    yes: bool,
    console: &mut dyn Console,
) -> Result<Outcome, DeployError> {
    let stack = release.stack_name();
    let info = match d.cfn.describe_stack(stack).await {
        Ok(info) => info,
        Err(CfnError::NotFound { .. }) => {
            return Ok(Outcome::NoChanges(NoChanges::NoStack {
                stack: stack.to_string(),
                account: d.account.clone(),
                region: d.region.clone(),
            }))
        }
        Err(e) => return Err(DeployError::cfn(stack, e)),
    };
    if !info.status.is_settled() {
        return Ok(Outcome::Refused(Refusal::Running { stack: stack.to_string(), status: info.status }));
    }
    let root: Value =
        serde_json::from_str(&d.cfn.get_template(&info.stack_id).await.map_err(|e| DeployError::cfn(stack, e))?)
            .unwrap_or(Value::Null);
    if !made_by_sandboxc(&root) {
        return Ok(Outcome::Refused(Refusal::NotMadeBySandboxc { stack: stack.to_string(), deleting: true }));
    }
    let resources = tree(&d.cfn, &info.stack_id).await.map_err(|e| DeployError::cfn(stack, e))?;
    let deleted: Vec<&TreeResource> = resources.iter().filter(|r| !r.retained).collect();
    let retained: Vec<&TreeResource> = resources.iter().filter(|r| r.retained).collect();
    console.line(&format!("account {}, region {}, stack {stack} ({})", d.account, d.region, info.status));
    for line in tree_lines("will be deleted", &deleted) {
        console.line(&line);
    }
    for line in
        tree_lines("will be retained (DeletionPolicy Retain: they stay, with their data, outside any stack)", &retained)
    {
        console.line(&line);
    }
    if !yes && !console.confirm(&format!("Delete stack {stack} and the {} resources above?", deleted.len())) {
        return Ok(Outcome::Declined { command: "destroy", cleanup: "" });
    }
    if let Some(stop) = delete_and_wait(d, &info, console).await? {
        return Ok(stop);
    }
    Ok(Outcome::Deleted { stack: stack.to_string(), retained: retained.into_iter().cloned().collect() })
}

/// `sandboxc status`: shows the stack through `console`; with `drift`, detects drift.
///
/// # Errors
/// [`DeployError`] for AWS failures.
pub async fn status<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    release: &Release,
    drift: bool,
    console: &mut dyn Console,
) -> Result<Outcome, DeployError> {
    let stack = release.stack_name();
    let info = match d.cfn.describe_stack(stack).await {
        Ok(info) => info,
        Err(CfnError::NotFound { .. }) => {
            return Ok(Outcome::Refused(Refusal::NoStack {
                stack: stack.to_string(),
                account: d.account.clone(),
                region: d.region.clone(),
            }))
        }
        Err(e) => return Err(DeployError::cfn(stack, e)),
    };
    show(&info, console);
    let events = latest_events(&d.cfn, &info.stack_id).await.map_err(|e| DeployError::cfn(stack, e))?;
    console.line(&format!("latest events ({} shown):", events.len().min(STATUS_EVENTS)));
    for e in events.iter().take(STATUS_EVENTS).rev() {
        console.line(&format!("  {}", event_line("", e)));
    }
    for line in output_lines(&info.outputs) {
        console.line(&line);
    }
    if !drift {
        return Ok(Outcome::Shown { drifted: 0 });
    }
    let drifts = detect_drift(d, &info).await?;
    if drifts.is_empty() {
        console.line("drift: none (every resource matches its template)");
        return Ok(Outcome::Shown { drifted: 0 });
    }
    console.line(&format!("drift: {} resources differ from their templates", drifts.len()));
    for (path, r) in &drifts {
        console.line(&format!(
            "  {} {path}/{} ({}) {}",
            if r.status == ResourceDriftStatus::Deleted { "-" } else { "~" },
            r.logical_id,
            r.resource_type,
            r.physical_id
        ));
        for p in &r.differences {
            console.line(&format!("      {} ({}): template {} -> actual {}", p.path, p.kind, p.expected, p.actual));
        }
    }
    Ok(Outcome::Shown { drifted: drifts.len() })
}

/// What `sandboxc status --format json` reports: the stack, its latest events and outputs, and
/// the drift when asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// The stack name.
    pub stack: String,
    /// Account of the credentials.
    pub account: String,
    /// Region.
    pub region: String,
    /// The root stack (`DescribeStacks`).
    pub info: StackInfo,
    /// The latest events of the root stack, newest first (at most [`STATUS_EVENTS`]).
    pub events: Vec<super::cloudformation::StackEvent>,
    /// With `--drift`: each drifted resource with the path of its stack (`root`, or the part).
    pub drift: Option<Vec<(String, ResourceDrift)>>,
}

/// `sandboxc status` as data (nothing shown): the report, or the outcome when there is no
/// stack.
///
/// # Errors
/// [`DeployError`] for AWS failures.
pub async fn status_report<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    release: &Release,
    drift: bool,
) -> Result<Result<StatusReport, Outcome>, DeployError> {
    let stack = release.stack_name();
    let info = match d.cfn.describe_stack(stack).await {
        Ok(info) => info,
        Err(CfnError::NotFound { .. }) => {
            return Ok(Err(Outcome::Refused(Refusal::NoStack {
                stack: stack.to_string(),
                account: d.account.clone(),
                region: d.region.clone(),
            })))
        }
        Err(e) => return Err(DeployError::cfn(stack, e)),
    };
    let mut events = latest_events(&d.cfn, &info.stack_id).await.map_err(|e| DeployError::cfn(stack, e))?;
    events.truncate(STATUS_EVENTS);
    let drift = if drift { Some(detect_drift(d, &info).await?) } else { None };
    Ok(Ok(StatusReport {
        stack: stack.to_string(),
        account: d.account.clone(),
        region: d.region.clone(),
        info,
        events,
        drift,
    }))
}

fn show(info: &StackInfo, console: &mut dyn Console) {
    let reason = if info.reason.is_empty() { String::new() } else { format!(" ({})", info.reason) };
    console.line(&format!("stack {}: {}{reason}", info.stack_id, info.status));
    console.line(&format!("termination protection: {}", if info.termination_protection { "on" } else { "off" }));
}

/// Drift detection on the root and every nested stack, bounded by the change-set polling
/// timeout. Returns (stack path, drifted resource).
async fn detect_drift<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    info: &StackInfo,
) -> Result<Vec<(String, ResourceDrift)>, DeployError> {
    let stack = info.stack_id.as_str();
    let aws = |e: CfnError| DeployError::cfn(stack, e);
    let mut stacks = vec![(info.stack_id.clone(), String::from("root"))];
    stacks.extend(nested_stacks(&d.cfn, stack).await.map_err(aws)?.into_iter().map(|n| {
        let path = part_of(&n.logical_id).to_string();
        (n.stack_id, path)
    }));
    let mut out = Vec::new();
    for (id, path) in stacks {
        let detection = d.cfn.detect_drift(&id).await.map_err(aws)?;
        let start = Instant::now();
        let mut delay = d.polling.initial;
        loop {
            let state = d.cfn.drift_detection(&detection).await.map_err(aws)?;
            match state.status {
                DetectionStatus::Complete => break,
                DetectionStatus::Failed => {
                    return Err(DeployError::Drift(format!("drift detection failed on {path}: {}", state.reason)))
                }
                _ if start.elapsed() >= d.polling.timeout => {
                    return Err(DeployError::Drift(format!(
                        "drift detection on {path} did not finish in {} seconds",
                        d.polling.timeout.as_secs()
                    )))
                }
                _ => {
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(d.polling.max);
                }
            }
        }
        out.extend(d.cfn.resource_drifts(&id).await.map_err(aws)?.into_iter().map(|r| (path.clone(), r)));
    }
    Ok(out)
}
