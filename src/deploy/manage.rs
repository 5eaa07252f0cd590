//! `sandboxc destroy` and `sandboxc status`.
//!
//! destroy: lists what will be deleted and what is retained (`DeletionPolicy: Retain` in the
//! deployed templates), by logical ID, type and physical name; asks (or `--yes`); lifts
//! termination protection; `DeleteStack`; follows the events until the stack is gone; lists
//! the retained resources again, since they now live outside any stack.
//!
//! status: stack status and reason, termination protection, the latest events, the outputs;
//! `--drift` runs drift detection on the root and every nested stack
//! (`DetectStackDrift`, `DescribeStackDriftDetectionStatus`, `DescribeStackResourceDrifts`).

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;

use super::cfn::{CfnError, StackInfo};
use super::console::{event_line, Console};
use super::deployment::{
    check_account, delete_and_wait, made_by_sandboxc, print_outputs, DeployError, Deployer, EXIT_FAILED, EXIT_OK,
};
use super::stack::ResourceDrift;
use super::status::StackStatus;
use crate::Release;

/// Exit code of `status --drift` when a resource drifted.
pub const EXIT_DRIFTED: u8 = 2;

/// Events shown by `status`.
pub const STATUS_EVENTS: usize = 15;

/// Arguments of `sandboxc destroy`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DestroyArgs {
    /// Blueprint file (YAML) naming the stack; default: the embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Delete without asking.
    #[arg(long)]
    pub yes: bool,
    /// AWS profile.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS Region (else the blueprint's `region`, else the AWS configuration's).
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
}

/// Arguments of `sandboxc status`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StatusArgs {
    /// Blueprint file (YAML) naming the stack; default: the embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Also detect drift (changes made outside CloudFormation) on the root and nested stacks;
    /// exit code 2 when a resource drifted.
    #[arg(long)]
    pub drift: bool,
    /// AWS profile.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS Region (else the blueprint's `region`, else the AWS configuration's).
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
}

/// One resource of the stack tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeResource {
    /// `Network/Vpc` style path (nested stack names without `NestedStack`).
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

/// Properties that give a resource a fixed physical name.
const NAME_PROPERTIES: [&str; 7] =
    ["BucketName", "LogGroupName", "TrailName", "FunctionName", "QueueName", "NotebookInstanceName", "RoleName"];

/// Every resource of the stack and its nested stacks, with the retention of each.
///
/// # Errors
/// [`CfnError`].
pub async fn tree(d: &Deployer, stack_id: &str) -> Result<Vec<TreeResource>, CfnError> {
    let mut out = Vec::new();
    let mut queue = vec![(stack_id.to_string(), String::new())];
    while let Some((id, prefix)) = queue.pop() {
        let template: Value =
            d.cfn.get_template(&id).await.ok().and_then(|b| serde_json::from_str(&b).ok()).unwrap_or(Value::Null);
        for r in d.cfn.resources(&id).await? {
            if r.logical_id.is_empty() {
                continue;
            }
            let definition = &template["Resources"][&r.logical_id];
            let retained = definition["DeletionPolicy"].as_str() == Some("Retain");
            let fixed_name = NAME_PROPERTIES.iter().any(|p| definition["Properties"].get(p).is_some());
            let path = format!("{prefix}{}", r.logical_id);
            if r.resource_type == "AWS::CloudFormation::Stack" && r.physical_id.starts_with("arn:") && queue.len() < 50
            {
                let name = r.logical_id.strip_suffix("NestedStack").unwrap_or(&r.logical_id);
                queue.push((r.physical_id.clone(), format!("{prefix}{name}/")));
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

fn list(console: &mut dyn Console, title: &str, items: &[&TreeResource]) {
    console.line(&format!("{title} ({}):", items.len()));
    for r in items {
        let physical = if r.physical_id.is_empty() { String::new() } else { format!("  {}", r.physical_id) };
        console.line(&format!("  {} ({}){physical}", r.path, r.resource_type));
    }
}

/// `sandboxc destroy` with a deployer. Returns the exit code.
///
/// # Errors
/// [`DeployError`].
pub async fn destroy(d: &Deployer, release: &Release, yes: bool, console: &mut dyn Console) -> Result<u8, DeployError> {
    check_account(d, release)?;
    let stack = release.manifest.stack_name.as_str();
    let info = match d.cfn.describe_stack(stack).await {
        Ok(info) => info,
        Err(CfnError::NotFound(_)) => {
            console.line(&format!(
                "stack {stack} does not exist in account {} ({}): nothing to destroy",
                d.account, d.region
            ));
            return Ok(EXIT_OK);
        }
        Err(e) => return Err(DeployError::aws(stack, &e)),
    };
    let status = StackStatus::parse(&info.status);
    if !status.is_settled() {
        return Err(DeployError(format!(
            "stack {stack} is {status}: a deployment is running; wait for it to end (`sandboxc status`), then destroy"
        )));
    }
    let root: Value =
        serde_json::from_str(&d.cfn.get_template(&info.stack_id).await.map_err(|e| DeployError::aws(stack, &e))?)
            .unwrap_or(Value::Null);
    if !made_by_sandboxc(&root) {
        return Err(DeployError(format!(
            "stack {stack} was not made by sandboxc (its template's Description does not start with \"sandboxc\"): sandboxc does not delete it; nothing was deleted"
        )));
    }
    let resources = tree(d, &info.stack_id).await.map_err(|e| DeployError::aws(stack, &e))?;
    let deleted: Vec<&TreeResource> = resources.iter().filter(|r| !r.retained).collect();
    let retained: Vec<&TreeResource> = resources.iter().filter(|r| r.retained).collect();
    console.line(&format!("account {}, region {}, stack {stack} ({status})", d.account, d.region));
    list(console, "will be deleted", &deleted);
    list(console, "will be retained (DeletionPolicy Retain: they stay, with their data, outside any stack)", &retained);
    if !yes && !console.confirm(&format!("Delete stack {stack} and the {} resources above?", deleted.len())) {
        console.problem("destroy cancelled: nothing was changed");
        return Ok(EXIT_FAILED);
    }
    delete_and_wait(d, &info, console).await?;
    console.line(&format!("stack {stack} deleted"));
    if !retained.is_empty() {
        list(console, "retained, delete them by hand when no longer needed", &retained);
        let blocking: Vec<&TreeResource> = retained.iter().copied().filter(|r| r.fixed_name).collect();
        if !blocking.is_empty() {
            console.problem(&format!(
                "note: {} retained resources keep fixed names ({}): `sandboxc apply` of this blueprint cannot create the stack again until they are deleted (or the blueprint's `name` changes)",
                blocking.len(),
                blocking.iter().map(|r| r.physical_id.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(EXIT_OK)
}

/// `sandboxc status` with a deployer. Returns the exit code (0, or [`EXIT_DRIFTED`]).
///
/// # Errors
/// [`DeployError`].
pub async fn status(
    d: &Deployer,
    release: &Release,
    drift: bool,
    console: &mut dyn Console,
) -> Result<u8, DeployError> {
    check_account(d, release)?;
    let stack = release.manifest.stack_name.as_str();
    let info = match d.cfn.describe_stack(stack).await {
        Ok(info) => info,
        Err(CfnError::NotFound(_)) => {
            return Err(DeployError(format!(
                "stack {stack} does not exist in account {} ({}): `sandboxc apply` creates it",
                d.account, d.region
            )))
        }
        Err(e) => return Err(DeployError::aws(stack, &e)),
    };
    show(&info, console);
    let events = d.cfn.latest_events(&info.stack_id).await.map_err(|e| DeployError::aws(stack, &e))?;
    console.line(&format!("latest events ({} shown):", events.len().min(STATUS_EVENTS)));
    for e in events.iter().take(STATUS_EVENTS).rev() {
        console.line(&format!("  {}", event_line("", e)));
    }
    print_outputs(&info, console);
    if !drift {
        return Ok(EXIT_OK);
    }
    let drifts = detect_drift(d, &info).await?;
    if drifts.is_empty() {
        console.line("drift: none (every resource matches its template)");
        return Ok(EXIT_OK);
    }
    console.line(&format!("drift: {} resources differ from their templates", drifts.len()));
    for (path, r) in &drifts {
        console.line(&format!(
            "  {} {path}/{} ({}) {}",
            if r.status == "DELETED" { "-" } else { "~" },
            r.logical_id,
            r.resource_type,
            r.physical_id
        ));
        for (property, expected, actual, kind) in &r.differences {
            console.line(&format!("      {property} ({kind}): template {expected} -> actual {actual}"));
        }
    }
    Ok(EXIT_DRIFTED)
}

fn show(info: &StackInfo, console: &mut dyn Console) {
    let reason = if info.reason.is_empty() { String::new() } else { format!(" ({})", info.reason) };
    console.line(&format!("stack {}: {}{reason}", info.stack_id, info.status));
    console.line(&format!("termination protection: {}", if info.termination_protection { "on" } else { "off" }));
}

/// Drift detection on the root and every nested stack, bounded by the change-set polling
/// timeout. Returns (stack path, drifted resource).
async fn detect_drift(d: &Deployer, info: &StackInfo) -> Result<Vec<(String, ResourceDrift)>, DeployError> {
    let stack = info.stack_id.as_str();
    let aws = |e: CfnError| DeployError::aws(stack, &e);
    let mut stacks = vec![(info.stack_id.clone(), String::from("root"))];
    stacks.extend(
        d.cfn
            .nested_stacks(stack)
            .await
            .map_err(aws)?
            .into_iter()
            .map(|n| (n.stack_id, n.logical_id.trim_end_matches("NestedStack").to_string())),
    );
    let mut out = Vec::new();
    for (id, path) in stacks {
        let detection = d.cfn.detect_drift(&id).await.map_err(aws)?;
        let start = Instant::now();
        let mut delay = d.polling.initial;
        loop {
            let (state, _, reason) = d.cfn.drift_detection(&detection).await.map_err(aws)?;
            match state.as_str() {
                "DETECTION_COMPLETE" => break,
                "DETECTION_FAILED" => return Err(DeployError(format!("drift detection failed on {path}: {reason}"))),
                _ if start.elapsed() >= d.polling.timeout => {
                    return Err(DeployError(format!(
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
