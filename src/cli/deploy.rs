//! `sandboxc bootstrap`, `apply`, `status` and `destroy`: each builds what it deploys (before
//! any AWS call), resolves the AWS options against the blueprint, catches Ctrl-C, connects
//! (credentials, `sts:GetCallerIdentity`, the pinned account), runs the stack lifecycle
//! (`crate::deploy`) with a terminal console, and reports its [`Outcome`]: success on
//! standard output, everything else through the error printer.

use std::path::PathBuf;

use super::args::{check_account, ApplyArgs, BootstrapArgs, CheckArgs, DestroyArgs, StatusArgs, StatusFormat};
use super::build::{assets_release, release, source};
use super::error::CliError;
use super::{Context, ExitStatus};
use crate::aws::cloudformation::Cfn;
use crate::aws::probe::Probes;
use crate::aws::s3::S3;
use crate::aws::Settings;
use crate::blueprint::model::AvailabilityZones;
use crate::blueprint::Blueprint;
use crate::deploy::apply::{ApplyOptions, LambdaZips};
use crate::deploy::cloudformation::{CloudFormation, StackOutput};
use crate::deploy::console::{install_ctrl_c, Console, Terminal};
use crate::deploy::deployment::{output_lines, Choices, Deployer};
use crate::deploy::manage::{tree_lines, StatusReport};
use crate::deploy::outcome::{describe_root_cause, reason_suffix, reattach_hint, Failed, Interrupted, NoChanges};
use crate::deploy::preflight::{Expectations, Finding};
use crate::deploy::status::StackStatus;
use crate::deploy::Outcome;
use crate::output::AssetEntry;

/// `sandboxc bootstrap`.
///
/// # Errors
/// [`CliError`].
pub fn bootstrap(args: &BootstrapArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let assets = assets_release()?;
    if args.print_template {
        ctx.say(assets.body.trim_end());
        return Ok(ExitStatus::Success);
    }
    let settings = ctx.aws(&args.aws, None)?;
    let choices = Choices { yes: args.yes, allow_data_loss: false, recreate: args.recreate };
    let interrupted = install_ctrl_c();
    let outcome = ctx.runtime()?.block_on(async {
        let d = deployer(&settings, None).await?;
        let mut console = Terminal::new(ctx.quiet, interrupted);
        Ok::<_, CliError>(crate::deploy::apply::bootstrap(&d, &assets, choices, &mut console).await?)
    })?;
    Ok(report(ctx, &outcome))
}

/// `sandboxc apply`.
///
/// # Errors
/// [`CliError`].
pub fn apply(args: &ApplyArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let (blueprint, release) = release(&source(args.blueprint.as_deref())?)?;
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    let options = ApplyOptions {
        choices: Choices { yes: args.yes, allow_data_loss: args.allow_data_loss, recreate: args.recreate },
        assets_bucket: args.assets_bucket.clone(),
        expectations: expectations(&blueprint),
    };
    let mut zips = ZipDir { dir: args.lambda_dir.clone(), built: false };
    if let Some(file) = &args.outputs_file {
        // Checked before anything is deployed: a deployment must not end in an unwritable file.
        let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if !dir.is_dir() {
            return Err(CliError::new(format!(
                "--outputs-file {}: the directory {} does not exist; nothing was deployed",
                file.display(),
                dir.display()
            )));
        }
    }
    let interrupted = install_ctrl_c();
    let (outcome, outputs) = ctx.runtime()?.block_on(async {
        let (d, probes, ec2) = connected(&settings, blueprint.account.as_deref()).await?;
        let mut console = Terminal::new(ctx.quiet, interrupted);
        let outcome =
            crate::deploy::apply::apply(&d, &release, &options, &mut zips, &probes, &ec2, &mut console).await?;
        // The outputs of the stack as it is now: after a deployment its own, after "no changes"
        // read again (DescribeStacks).
        let outputs = match (&args.outputs_file, &outcome) {
            (Some(_), Outcome::Deployed { info, .. }) => Some(info.outputs.clone()),
            (Some(_), Outcome::NoChanges(_)) => Some(
                d.cfn
                    .describe_stack(release.stack_name())
                    .await
                    .map_err(|e| crate::deploy::DeployError::cfn(release.stack_name(), e))?
                    .outputs,
            ),
            _ => None,
        };
        let place: Option<(Vec<StackOutput>, String, String)> =
            outputs.map(|o| (o, d.account.clone(), d.region.clone()));
        Ok::<_, CliError>((outcome, place))
    })?;
    if let (Some(file), Some((outputs, account, region))) = (&args.outputs_file, outputs) {
        write_json_atomically(file, &outputs_json(release.stack_name(), &account, &region, &outputs))?;
        if !ctx.quiet {
            ctx.say(&format!("outputs written to {}", file.display()));
        }
    }
    Ok(report(ctx, &outcome))
}

/// `sandboxc check`: the preflight of `apply` on its own, read-only. Exit 0 when nothing
/// stops `apply` (adoptions and unchecked items are listed), 1 when something does.
///
/// # Errors
/// [`CliError`].
pub fn check(args: &CheckArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let (blueprint, release) = release(&source(args.blueprint.as_deref())?)?;
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    let expectations = expectations(&blueprint);
    let (report, account, region) = ctx.runtime()?.block_on(async {
        let (d, probes, _) = connected(&settings, blueprint.account.as_deref()).await?;
        let report = crate::deploy::apply::check(&d, &release, &expectations, &probes).await?;
        Ok::<_, CliError>((report, d.account, d.region))
    })?;
    if !ctx.quiet {
        ctx.say(&format!("preflight of stack {} in account {account} ({region}):", release.stack_name()));
        for c in &report.checked {
            ctx.say(&format!("  ok    {c}"));
        }
    }
    for f in &report.findings {
        let lines = f.lines();
        let tag = match f {
            Finding::Adopt { .. } => "adopt",
            Finding::Unchecked { .. } => "warn",
            _ => "FAIL",
        };
        let text =
            lines
                .iter()
                .enumerate()
                .map(|(i, l)| if i == 0 { format!("  {tag:<5} {l}") } else { format!("        {l}") });
        for line in text {
            if f.blocks() || matches!(f, Finding::Unchecked { .. }) {
                ctx.warn(&line);
            } else if !ctx.quiet {
                ctx.say(&line);
            }
        }
    }
    if report.blocks() {
        let n = report.findings.iter().filter(|f| f.blocks()).count();
        return Err(CliError::new(format!(
            "preflight: {n} problem{} would make `sandboxc apply` fail (listed above)",
            if n == 1 { "" } else { "s" }
        )));
    }
    let unchecked = report.findings.iter().filter(|f| matches!(f, Finding::Unchecked { .. })).count();
    if unchecked > 0 {
        ctx.warn(&format!(
            "preflight: nothing found stops `sandboxc apply`, but {unchecked} check{} could not run (warned above)",
            if unchecked == 1 { "" } else { "s" }
        ));
    } else if !ctx.quiet {
        ctx.say("preflight: nothing stops `sandboxc apply`");
    }
    Ok(ExitStatus::Success)
}

/// What the preflight checks from the blueprint besides the templates.
#[must_use]
pub fn expectations(blueprint: &Blueprint) -> Expectations {
    Expectations {
        saml_provider: blueprint.identity.saml.as_ref().map(|s| s.idp_name.clone()),
        zones: match &blueprint.network.availability_zones {
            AvailabilityZones::Names(names) => names.clone(),
            AvailabilityZones::Count(_) => Vec::new(),
        },
        region: blueprint.region.clone(),
    }
}

/// `sandboxc status`.
///
/// # Errors
/// [`CliError`].
pub fn status(args: &StatusArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let (blueprint, release) = release(&source(args.blueprint.as_deref())?)?;
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    let interrupted = install_ctrl_c();
    if args.format == StatusFormat::Json {
        let answer = ctx.runtime()?.block_on(async {
            let d = deployer(&settings, blueprint.account.as_deref()).await?;
            Ok::<_, CliError>(crate::deploy::manage::status_report(&d, &release, args.drift).await?)
        })?;
        return Ok(match answer {
            Ok(r) => {
                // Printed even with -q: it is what was asked for.
                ctx.say(&status_json(&r).to_string());
                if r.drift.as_ref().is_some_and(|d| !d.is_empty()) {
                    ExitStatus::Drift
                } else {
                    ExitStatus::Success
                }
            }
            Err(outcome) => report(ctx, &outcome),
        });
    }
    let outcome = ctx.runtime()?.block_on(async {
        let d = deployer(&settings, blueprint.account.as_deref()).await?;
        let mut console = Terminal::new(ctx.quiet, interrupted);
        Ok::<_, CliError>(crate::deploy::manage::status(&d, &release, args.drift, &mut console).await?)
    })?;
    Ok(report(ctx, &outcome))
}

/// Version of the JSON of `status --format json` and of `apply --outputs-file`.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// `status --format json`: the versioned shape of docs/status-json.md. Times are RFC 3339
/// UTC; events oldest first; outputs sorted by key.
#[must_use]
pub fn status_json(r: &StatusReport) -> serde_json::Value {
    use serde_json::json;
    let time = |ms: i64| crate::audit::time::Instant::from_millis(ms).to_string();
    let mut outputs = r.info.outputs.clone();
    outputs.sort();
    json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "stack": r.stack,
        "stack_id": r.info.stack_id,
        "account": r.account,
        "region": r.region,
        "status": r.info.status.as_str(),
        "reason": r.info.reason,
        "termination_protection": r.info.termination_protection,
        "outputs": outputs.iter().map(|o| json!({"key": o.key, "value": o.value, "description": o.description})).collect::<Vec<_>>(),
        "events": r.events.iter().rev().map(|e| json!({
            "time": time(e.timestamp_ms),
            "stack": e.stack_name,
            "logical_id": e.logical_id,
            "physical_id": e.physical_id,
            "type": e.resource_type,
            "status": e.status.as_str(),
            "reason": e.reason,
        })).collect::<Vec<_>>(),
        "drift": r.drift.as_ref().map(|drifts| json!({
            "drifted": drifts.len(),
            "resources": drifts.iter().map(|(path, d)| json!({
                "stack": path,
                "logical_id": d.logical_id,
                "physical_id": d.physical_id,
                "type": d.resource_type,
                "status": d.status.as_str(),
                "differences": d.differences.iter().map(|p| json!({
                    "path": p.path, "kind": p.kind, "expected": p.expected, "actual": p.actual,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })),
    })
}

/// `apply --outputs-file`: the stack outputs as `{"schema_version", "stack", "account",
/// "region", "outputs": {KEY: VALUE}}`.
#[must_use]
pub fn outputs_json(stack: &str, account: &str, region: &str, outputs: &[StackOutput]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> =
        outputs.iter().map(|o| (o.key.clone(), serde_json::Value::String(o.value.clone()))).collect();
    serde_json::json!({
        "schema_version": JSON_SCHEMA_VERSION,
        "stack": stack,
        "account": account,
        "region": region,
        "outputs": map,
    })
}

/// Writes `value` (pretty JSON and a newline) to `path` atomically: a temporary file in the
/// same directory, then renamed over it.
///
/// # Errors
/// [`CliError`] naming the file.
pub fn write_json_atomically(path: &std::path::Path, value: &serde_json::Value) -> Result<(), CliError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let fail = |e: &dyn std::fmt::Display| CliError::new(format!("cannot write {}: {e}", path.display()));
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| fail(&e))?;
    let text = serde_json::to_string_pretty(value).map_err(|e| fail(&e))?;
    std::io::Write::write_all(&mut tmp, format!("{text}\n").as_bytes()).map_err(|e| fail(&e))?;
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// `sandboxc destroy`.
///
/// # Errors
/// [`CliError`].
pub fn destroy(args: &DestroyArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let (blueprint, release) = release(&source(args.blueprint.as_deref())?)?;
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    let interrupted = install_ctrl_c();
    let outcome = ctx.runtime()?.block_on(async {
        let d = deployer(&settings, blueprint.account.as_deref()).await?;
        let mut console = Terminal::new(ctx.quiet, interrupted);
        Ok::<_, CliError>(crate::deploy::manage::destroy(&d, &release, args.yes, &mut console).await?)
    })?;
    Ok(report(ctx, &outcome))
}

/// Connects (credentials, `sts:GetCallerIdentity`), refuses another account than the pinned
/// one, and builds the deployer over the AWS adapters.
async fn deployer(settings: &Settings, pinned_account: Option<&str>) -> Result<Deployer<Cfn, S3>, CliError> {
    Ok(connected(settings, pinned_account).await?.0)
}

/// [`deployer`], the preflight's clients, and EC2 (the S3 prefix list).
async fn connected(
    settings: &Settings,
    pinned_account: Option<&str>,
) -> Result<(Deployer<Cfn, S3>, Probes, crate::aws::ec2::Ec2), CliError> {
    let session = crate::aws::connect(settings).await?;
    check_account(pinned_account, &session.account)?;
    let probes = session.probes();
    let ec2 = session.ec2();
    let d = Deployer::new(session.cloudformation(), session.s3(), session.account.clone(), session.region.clone());
    Ok((d, probes, ec2))
}

/// Prints an outcome (success on standard output unless `-q`; anything else through the error
/// printer) and returns its exit status.
fn report(ctx: &Context, outcome: &Outcome) -> ExitStatus {
    let rendered = render(outcome);
    if !ctx.quiet {
        for line in &rendered.lines {
            ctx.say(line);
        }
    }
    for note in &rendered.notes {
        ctx.warn(note);
    }
    if let Some(e) = &rendered.error {
        e.print();
    }
    rendered.status
}

/// An outcome in words.
#[derive(Debug)]
pub struct Rendered {
    /// Lines for standard output.
    pub lines: Vec<String>,
    /// Notes for standard error (shown with `-q` too).
    pub notes: Vec<String>,
    /// The error, when the outcome is not a success.
    pub error: Option<CliError>,
    /// The exit status.
    pub status: ExitStatus,
}

/// The words and exit status of an outcome.
#[must_use]
pub fn render(outcome: &Outcome) -> Rendered {
    let ok = |lines: Vec<String>| Rendered { lines, notes: Vec::new(), error: None, status: ExitStatus::Success };
    let failed = |error: CliError| Rendered {
        lines: Vec::new(),
        notes: Vec::new(),
        error: Some(error),
        status: ExitStatus::Failure,
    };
    let with_root_cause = |e: CliError, root: Option<&crate::deploy::outcome::Failure>| match root {
        Some(f) => e.with_cause(describe_root_cause(f)),
        None => e.with_cause("root cause: CloudFormation reported no failed resource event"),
    };
    match outcome {
        Outcome::NoChanges(NoChanges::UpToDate { stack, reason, deleted }) => ok(vec![format!(
            "no changes: stack {stack} is up to date ({reason}){}",
            if *deleted { "; the empty change set was deleted" } else { "" }
        )]),
        Outcome::NoChanges(NoChanges::NoStack { stack, account, region }) => {
            ok(vec![format!("stack {stack} does not exist in account {account} ({region}): nothing to destroy")])
        }
        Outcome::Deployed { stack, info } => {
            let mut lines = vec![format!("stack {stack}: {}", info.status)];
            lines.extend(output_lines(&info.outputs));
            ok(lines)
        }
        Outcome::Deleted { stack, retained } => {
            let mut r = ok(vec![format!("stack {stack} deleted")]);
            if !retained.is_empty() {
                let all: Vec<_> = retained.iter().collect();
                r.lines.extend(tree_lines("retained, delete them by hand when no longer needed", &all));
                let blocking: Vec<&str> =
                    retained.iter().filter(|t| t.fixed_name).map(|t| t.physical_id.as_str()).collect();
                if !blocking.is_empty() {
                    r.notes.push(format!(
                        "note: {} retained resources keep fixed names ({}): `sandboxc apply` of this blueprint cannot create the stack again until they are deleted (or the blueprint's `name` changes)",
                        blocking.len(),
                        blocking.join(", ")
                    ));
                }
            }
            r
        }
        Outcome::Shown { drifted } => Rendered {
            lines: Vec::new(),
            notes: Vec::new(),
            error: None,
            status: if *drifted > 0 { ExitStatus::Drift } else { ExitStatus::Success },
        },
        Outcome::Refused(r) => failed(CliError::new(r.to_string())),
        Outcome::Declined { command, cleanup } => failed(CliError::new(if cleanup.is_empty() {
            format!("{command} cancelled: nothing was changed")
        } else {
            format!("{command} cancelled: nothing was changed ({cleanup})")
        })),
        Outcome::Failed(Failed::ChangeSet { stack, reason }) => failed(CliError::new(format!(
            "CloudFormation could not create the change set for stack {stack}: {reason} (change set deleted; nothing changed)"
        ))),
        Outcome::Failed(Failed::Deployment { stack, info, root_cause }) => {
            let e = CliError::new(format!(
                "the deployment of stack {stack} failed: {}{}",
                info.status,
                reason_suffix(&info.reason)
            ));
            let mut e = with_root_cause(e, root_cause.as_ref());
            if info.status == StackStatus::RollbackComplete {
                e = e.with_cause("the stack was rolled back after its first creation failed: fix the cause, then run the command again with --recreate");
            }
            failed(e)
        }
        Outcome::Failed(Failed::Vanished { stack, root_cause }) => {
            let e = CliError::new(format!("stack {stack} was deleted while sandboxc followed it (a failed creation with rollback disabled deletion, or someone deleted it)"));
            failed(match root_cause {
                Some(f) => e.with_cause(describe_root_cause(f)),
                None => e,
            })
        }
        Outcome::Failed(Failed::Unprotected { stack, status, problems }) => {
            let what = match status {
                Some(s) => format!("stack {stack} was deployed ({s})"),
                None => format!("stack {stack} is up to date"),
            };
            let mut e = CliError::new(format!(
                "{what}, but the stack policy that denies replacing and deleting its stateful resources (buckets, keys, log groups, the notebook) could not be set on every stack, so the next update is not guarded against data loss:"
            ));
            for p in problems {
                e = e.with_cause(format!("- {p}"));
            }
            failed(e.with_cause(
                "fix the cause (the credentials need cloudformation:SetStackPolicy and cloudformation:ListStackResources on the root and nested stacks), then run `sandboxc apply` again: it sets the stack policies even when nothing else changes",
            ))
        }
        Outcome::Failed(Failed::Deletion { stack, status, reason, root_cause }) => {
            let e = CliError::new(format!("deleting stack {stack} ended {status}{}", reason_suffix(reason)));
            failed(match root_cause {
                Some(f) => e.with_cause(describe_root_cause(f)),
                None => e,
            })
        }
        Outcome::Interrupted(Interrupted::Deployment { stack, unprotected }) => {
            let e = CliError::new(reattach_hint(stack));
            failed(if *unprotected {
                e.with_cause("the stack policy that protects stateful resources is set (again) when an apply of this stack finishes")
            } else {
                e
            })
        }
        Outcome::Interrupted(Interrupted::Deletion { stack }) => failed(CliError::new(format!(
            "stopped following the deletion of {stack}; it continues in CloudFormation: run the command again once `sandboxc status` shows it gone"
        ))),
    }
}

/// The Lambda zips from the directory `sandboxc package -o DIR` writes
/// (`DIR/<identity>/<function>.zip`): `--lambda-dir`, else `dist/lambda` and the directories
/// beside the installed binary ([`crate::package::dist::installed_lambda_dirs`]); built with
/// `sandboxc package` first when none has it and this is a sandboxc checkout.
struct ZipDir {
    dir: Option<PathBuf>,
    built: bool,
}

/// The default directory of the zips (and where a missing one is built).
const DEFAULT_LAMBDA_DIR: &str = "dist/lambda";

impl ZipDir {
    /// Where a zip is looked for, in order.
    fn candidates(&self) -> Vec<PathBuf> {
        if let Some(d) = &self.dir {
            return vec![d.clone()];
        }
        let mut dirs = vec![PathBuf::from(DEFAULT_LAMBDA_DIR)];
        if let Some(exe_dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(std::path::Path::to_path_buf)) {
            dirs.extend(crate::package::dist::installed_lambda_dirs(&exe_dir));
        }
        dirs
    }
}

impl LambdaZips for ZipDir {
    fn zip(&mut self, a: &AssetEntry, bucket: &str, console: &mut dyn Console) -> Result<Vec<u8>, String> {
        use crate::package;
        let file = |dir: &PathBuf| dir.join(&a.identity).join(format!("{}.zip", a.function));
        let dirs = self.candidates();
        if let Some(path) = dirs.iter().map(file).find(|p| p.is_file()) {
            return std::fs::read(&path).map_err(|e| format!("cannot read the Lambda zip {}: {e}", path.display()));
        }
        let out = self.dir.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_LAMBDA_DIR));
        if !self.built {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let Some(root) = package::find_workspace_root(&cwd) else {
                let looked: Vec<String> = dirs.iter().map(|d| file(d).display().to_string()).collect();
                return Err(format!(
                    "the Lambda zip {} is neither in s3://{bucket}/{} nor at {}: build the zips with `sandboxc package -o {}` in a sandboxc checkout of this version, unpack the release archive of this version (its bin/sandboxc finds share/sandboxc/lambda), or point --lambda-dir at the directory holding <identity>/{}.zip",
                    a.function,
                    a.s3_key,
                    looked.join(", "),
                    out.display(),
                    a.function
                ));
            };
            console.line(&format!(
                "building the Lambda zips (sandboxc package -o {}); the first build takes several minutes",
                out.display()
            ));
            let report = package::package(&root, &out).map_err(|e| format!("sandboxc package failed: {e}"))?;
            if report.identity != a.identity {
                return Err(format!(
                    "the checkout's Lambda sources ({}) are not the ones this sandboxc binary's templates name ({}): rebuild sandboxc from this checkout",
                    report.identity, a.identity
                ));
            }
            self.built = true;
        }
        let path = file(&out);
        std::fs::read(&path).map_err(|e| format!("cannot read the Lambda zip {}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deploy::cloudformation::{StackEvent, StackInfo, StackOutput};
    use crate::deploy::outcome::{Failure, TreeResource};
    use crate::deploy::status::ResourceStatus;

    fn info(status: StackStatus, outputs: Vec<StackOutput>) -> StackInfo {
        StackInfo {
            stack_id: "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny/1".into(),
            status,
            reason: String::new(),
            parameters: Vec::new(),
            outputs,
            termination_protection: true,
        }
    }

    #[test]
    fn a_deployment_prints_its_status_then_the_outputs_sorted() {
        let outputs = vec![
            StackOutput {
                key: "NotebookUrl".into(),
                value: "https://tiny.notebook.us-east-1.sagemaker.aws".into(),
                description: "The notebook".into(),
            },
            StackOutput { key: "DataBucketName".into(), value: "tiny-data-123".into(), description: String::new() },
        ];
        let r = render(&Outcome::Deployed { stack: "tiny".into(), info: info(StackStatus::CreateComplete, outputs) });
        assert_eq!(r.status, ExitStatus::Success);
        assert_eq!(r.lines[0], "stack tiny: CREATE_COMPLETE");
        assert_eq!(r.lines[1], "outputs:");
        assert!(r.lines[2].contains("DataBucketName") && r.lines[2].ends_with("tiny-data-123"), "{:?}", r.lines);
        assert!(r.lines[3].contains("NotebookUrl") && r.lines[3].contains("https://tiny.notebook"), "{:?}", r.lines);
        assert!(r.lines[4].contains("(The notebook)"), "{:?}", r.lines);
    }

    #[test]
    fn a_failed_deployment_leads_with_the_root_cause() {
        let cause = Failure {
            stack_path: "Storage".into(),
            event: StackEvent {
                id: "e".into(),
                stack_id: "arn:n".into(),
                stack_name: "tiny-StorageNestedStack-X1".into(),
                logical_id: "DataKey".into(),
                physical_id: String::new(),
                resource_type: "AWS::KMS::Key".into(),
                timestamp_ms: 0,
                status: ResourceStatus::CreateFailed,
                reason: "kms:CreateKey denied".into(),
            },
        };
        let outcome = Outcome::Failed(Failed::Deployment {
            stack: "tiny".into(),
            info: info(StackStatus::RollbackComplete, Vec::new()),
            root_cause: Some(cause),
        });
        let r = render(&outcome);
        assert_eq!(r.status, ExitStatus::Failure);
        let lines = r.error.map(|e| e.lines()).unwrap_or_default();
        assert!(lines[0].starts_with("error: the deployment of stack tiny failed: ROLLBACK_COMPLETE"), "{lines:?}");
        assert!(
            lines[1].starts_with(
                "  root cause: DataKey (AWS::KMS::Key) in the nested stack Storage (tiny-StorageNestedStack-X1)"
            ),
            "{lines:?}"
        );
        assert!(lines[2].contains("--recreate"), "{lines:?}");
    }

    #[test]
    fn destroy_lists_what_stays_and_what_blocks_a_new_stack() {
        let retained = vec![TreeResource {
            path: "DataBucket".into(),
            resource_type: "AWS::S3::Bucket".into(),
            physical_id: "tiny-data-123".into(),
            retained: true,
            fixed_name: true,
        }];
        let r = render(&Outcome::Deleted { stack: "tiny".into(), retained });
        assert_eq!(
            r.lines,
            [
                "stack tiny deleted",
                "retained, delete them by hand when no longer needed (1):",
                "  DataBucket (AWS::S3::Bucket)  tiny-data-123"
            ]
        );
        assert!(
            r.notes[0].starts_with("note: 1 retained resources keep fixed names (tiny-data-123)")
                && r.notes[0].contains("cannot create the stack again"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn declined_and_interrupted_are_errors_that_say_what_happened() {
        let r = render(&Outcome::Declined { command: "apply", cleanup: "change set deleted" });
        assert_eq!(
            r.error.map(|e| e.lines()),
            Some(vec!["error: apply cancelled: nothing was changed (change set deleted)".to_string()])
        );
        let r = render(&Outcome::Declined { command: "destroy", cleanup: "" });
        assert_eq!(r.error.map(|e| e.lines()), Some(vec!["error: destroy cancelled: nothing was changed".to_string()]));
        let r = render(&Outcome::Interrupted(Interrupted::Deployment { stack: "tiny".into(), unprotected: false }));
        let text = r.error.map(|e| e.to_string()).unwrap_or_default();
        assert!(text.contains("continues in CloudFormation") && text.contains("sandboxc apply"), "{text}");
        assert_eq!(render(&Outcome::Shown { drifted: 1 }).status, ExitStatus::Drift);
    }
}
