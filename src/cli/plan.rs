//! `sandboxc plan`: the new output (the blueprint compiled in memory) against a base, either
//! a previous synth output directory (`--against DIR`), the same blueprint file as it was at a
//! git revision, compiled in memory (`--against-git REF`), or the deployed CloudFormation stack
//! (its templates and a change set, through `crate::deploy::preview`). The plan engine
//! (`crate::plan`) compares; this renders, saves the JSON plan when asked, and picks the exit
//! status: changes (2) or none (0).

use std::io::Write;
use std::path::{Path, PathBuf};

use sandboxc_contract::stack::parameters::S3_PREFIX_LIST_ID;

use super::args::{check_account, CostOptions, PlanArgs, PlanFormat};
use super::build::{build, compile, source};
use super::error::CliError;
use super::{Context, ExitStatus};
use crate::blueprint::{Blueprint, Source, Warnings};
use crate::cfn::render::Format;
use crate::deploy::cloudformation::{CloudFormation, Polling};
use crate::deploy::preview::{preview, Preview, PreviewError, PreviewRequest};
use crate::plan::source::SynthDir;
use crate::plan::{render, Plan, TemplateSet, Warning};

/// Where the embedded default blueprint lives in sandboxc's own repository.
pub const DEFAULT_BLUEPRINT_PATH: &str = "blueprints/data-sandbox.yaml";

/// What to do instead when AWS cannot be reached.
const OFFLINE_HINT: &str = "plan offline instead: --against DIR (a previous `sandboxc synth` output) or --against-git REF (the blueprint as it was at a git revision)";

/// A plan, rendered.
#[derive(Debug, Clone)]
pub struct PlanOutput {
    /// The plan.
    pub plan: Plan,
    /// The plan in the requested format.
    pub rendered: String,
    /// [`ExitStatus::Changes`] or [`ExitStatus::Success`].
    pub status: ExitStatus,
}

/// The deployed mode's options.
#[derive(Debug, Clone, Default)]
pub struct DeployedOptions {
    /// `--assets-bucket`.
    pub assets_bucket: Option<String>,
    /// `--keep-change-set`.
    pub keep_change_set: bool,
    /// How the change set is polled.
    pub polling: Polling,
    /// Root parameter values as `apply` sets them (the Region's `S3PrefixListId`).
    pub values: Vec<(String, String)>,
    /// The cost section's assumptions and prices; `None` leaves the section out.
    pub cost: Option<CostOptions>,
}

/// `sandboxc plan`.
///
/// # Errors
/// [`CliError`]: arguments, blueprints, git, AWS, or the JSON plan that cannot be saved.
pub fn run(args: &PlanArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    use std::io::IsTerminal;
    let color = color_wanted(args.no_color, std::io::stdout().is_terminal());
    if let Some(out) = &args.out {
        check_out(out, super::build::blueprint_path(args.blueprint.as_deref()).as_deref(), args.against.as_deref())?;
    }
    let plan = match (&args.against, &args.against_git) {
        (Some(_), Some(_)) => {
            return Err(CliError::new("--against and --against-git cannot be used together: choose one base"))
        }
        (None, None) => deployed(args, ctx)?,
        _ if args.keep_change_set || args.assets_bucket.is_some() => {
            return Err(CliError::new("--keep-change-set and --assets-bucket belong to the plan against the deployed stack: leave out --against and --against-git"))
        }
        (Some(dir), None) => {
            // The base is read first and parsed once the new side is known: its nested
            // templates whose bytes the new side has are taken from there (as parsed).
            let read = SynthDir::read(dir)?;
            let (blueprint, warnings, new) = match new_side(args.blueprint.as_deref()) {
                Ok(new) => new,
                Err(e) => {
                    read.parse(None)?;
                    return Err(e);
                }
            };
            let old = read.parse(Some(&new))?;
            let mut plan = crate::plan::plan(&old, &new, &format!("directory {}", dir.display()));
            plan.warnings.extend(blueprint_warnings(&warnings));
            plan.cost = Some(offline_cost(&blueprint, &old, &new, args)?);
            keep_until_exit([old, new]);
            plan
        }
        (None, Some(rev)) => {
            let (repo_path, text) = match super::build::blueprint_path(args.blueprint.as_deref()) {
                Some(path) => git_show(&path, rev)?,
                None => git_show_default(rev)?,
            };
            let (blueprint, warnings, new) = new_side(args.blueprint.as_deref())?;
            let (old, base) = match text {
                Some(text) => {
                    let source = Source { name: format!("{repo_path} at {rev}"), text };
                    let compiled = build(&source, Format::Json).map_err(|e| {
                        CliError::new(format!("the blueprint at {rev} does not compile:")).with_cause(e.to_string())
                    })?;
                    (TemplateSet::from_compiled_owned(compiled)?, format!("{repo_path} at git {rev}"))
                }
                None => {
                    // The pull request that adds the blueprint: everything is new.
                    let mut old = TemplateSet::from_deployed(&new.stack_name, None, &[])?;
                    old.scripts.clone_from(&new.scripts);
                    (old, format!("{repo_path} at git {rev} (not there yet: everything is new)"))
                }
            };
            let mut plan = crate::plan::plan(&old, &new, &base);
            plan.warnings.extend(blueprint_warnings(&warnings));
            plan.cost = Some(offline_cost(&blueprint, &old, &new, args)?);
            keep_until_exit([old, new]);
            plan
        }
    };
    let output = finish(plan, args.format, color, args.out.as_deref())?;
    if !ctx.quiet {
        ctx.say(output.rendered.trim_end());
    }
    Ok(output.status)
}

/// Leaves both sides of an offline plan allocated until the process exits, which follows
/// once the plan is printed: freeing a 1,000-user sandbox's templates value by value takes
/// longer than comparing them (tens of milliseconds, of a command that should take few hundred).
fn keep_until_exit(sets: [TemplateSet; 2]) {
    std::mem::forget(sets);
}

/// Refuses a `--out` file that is the blueprint itself or lies inside the `--against`
/// directory: saving the plan there would destroy what the plan compares.
fn check_out(out: &Path, blueprint: Option<&Path>, against: Option<&Path>) -> Result<(), CliError> {
    // The file may not exist yet: resolve its directory, then add the name.
    let resolve = |p: &Path| -> Option<PathBuf> {
        if let Ok(p) = std::fs::canonicalize(p) {
            return Some(p);
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(std::fs::canonicalize(dir).ok()?.join(p.file_name()?))
    };
    let Some(target) = resolve(out) else { return Ok(()) };
    if blueprint.and_then(|b| std::fs::canonicalize(b).ok()).is_some_and(|b| b == target) {
        return Err(CliError::new(format!(
            "--out {}: that is the blueprint being planned; save the JSON plan to another file (such as plan.json)",
            out.display()
        )));
    }
    if against.and_then(|d| std::fs::canonicalize(d).ok()).is_some_and(|d| target.starts_with(d)) {
        return Err(CliError::new(format!(
            "--out {}: that is inside the --against directory, the base of the plan; save the JSON plan outside it",
            out.display()
        )));
    }
    Ok(())
}

/// The cost section of an offline plan, priced in the Region of
/// [`super::cost::pricing_region`], else without prices.
fn offline_cost(
    blueprint: &Blueprint,
    old: &TemplateSet,
    new: &TemplateSet,
    args: &PlanArgs,
) -> Result<crate::cost::CostChange, CliError> {
    let region = super::cost::pricing_region(args.aws.region.as_deref(), blueprint.region.as_deref())?;
    super::cost::change(old, new, region.as_deref(), &args.cost)
}

/// The new side of a plan: the blueprint (or the embedded default) compiled in memory, and
/// the validated blueprint (its pinned `region` and `account`).
///
/// # Errors
/// [`CliError`] for an invalid blueprint.
pub fn new_output(path: Option<&Path>) -> Result<(Blueprint, TemplateSet), CliError> {
    let (blueprint, warnings, set) = new_side(path)?;
    if !warnings.is_empty() {
        eprintln!("{warnings}");
    }
    Ok((blueprint, set))
}

/// [`new_output`] with the blueprint's warnings returned instead of printed: a plan carries
/// them in its warnings, so that a pull request's reviewer sees them.
///
/// # Errors
/// [`CliError`] for an invalid blueprint.
fn new_side(path: Option<&Path>) -> Result<(Blueprint, Warnings, TemplateSet), CliError> {
    let source = source(path)?;
    let blueprint = crate::blueprint::load(&source)?;
    let warnings = crate::blueprint::advice::warnings(&source, &blueprint);
    let compiled = compile(&blueprint, Format::Json)?;
    Ok((blueprint, warnings, TemplateSet::from_compiled_owned(compiled)?))
}

/// The blueprint's warnings as plan warnings (`FILE:LINE:COLUMN: PATH: MESSAGE (to do: ...)`).
fn blueprint_warnings(warnings: &Warnings) -> impl Iterator<Item = Warning> + '_ {
    warnings.items.iter().map(|d| Warning::Blueprint {
        text: Warnings { file: warnings.file.clone(), items: vec![d.clone()] }.to_string().replacen(
            ": warning: ",
            ": ",
            1,
        ),
    })
}

/// The plan against the deployed stack: the AWS options resolved against the blueprint (no
/// AWS call before that), credentials and account checked, then [`against_deployed`].
fn deployed(args: &PlanArgs, ctx: &Context) -> Result<Plan, CliError> {
    let (blueprint, warnings, new) = new_side(args.blueprint.as_deref())?;
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    let options = DeployedOptions {
        assets_bucket: args.assets_bucket.clone(),
        keep_change_set: args.keep_change_set,
        polling: Polling::default(),
        values: Vec::new(),
        cost: Some(args.cost.clone()),
    };
    ctx.runtime()?.block_on(async {
        let session = crate::aws::connect(&settings).await.map_err(|e| {
            CliError::new(format!("planning against the deployed stack needs AWS access: {e}")).with_cause(OFFLINE_HINT)
        })?;
        check_account(blueprint.account.as_deref(), &session.account)?;
        // The parameter apply sets from EC2, so that the change set sees the same values.
        let mut options = options;
        let declares = new.templates.get(&new.root_file).is_some_and(|t| t.parameters.contains_key(S3_PREFIX_LIST_ID));
        if declares {
            let id = crate::deploy::network::s3_prefix_list(&session.ec2(), &session.region).await?;
            options.values.push((S3_PREFIX_LIST_ID.to_string(), id));
        }
        let mut plan = against_deployed(&session.cloudformation(), &new, &session.region, &options).await?;
        plan.warnings.extend(blueprint_warnings(&warnings));
        Ok(plan)
    })
}

/// The plan of `new` against its deployed stack in `region` (named in the plan's base).
///
/// # Errors
/// [`CliError`] for AWS failures and stacks that cannot be planned against.
pub async fn against_deployed<C: CloudFormation>(
    cfn: &C,
    new: &TemplateSet,
    region: &str,
    options: &DeployedOptions,
) -> Result<Plan, CliError> {
    let stack = new.stack_name.clone();
    let base = format!("deployed stack {stack} in {region}");
    let request = PreviewRequest {
        new,
        assets_bucket: options.assets_bucket.clone(),
        values: options.values.clone(),
        keep_change_set: options.keep_change_set,
        polling: options.polling,
    };
    let preview = preview(cfn, &request).await.map_err(|e| match e {
        PreviewError::Unreachable { .. } => CliError::new(e.to_string()).with_cause(OFFLINE_HINT),
        e => CliError::from(e),
    })?;
    let (mut plan, old) = match preview {
        Preview::NoStack { old } => {
            let mut plan = crate::plan::plan(&old, new, &format!("{base} (does not exist)"));
            plan.warnings.push(Warning::StackDoesNotExist { stack: stack.clone(), region: Some(region.to_string()) });
            (plan, old)
        }
        Preview::NeverDeployed { old } => {
            let mut plan = crate::plan::plan(&old, new, &format!("{base} (REVIEW_IN_PROGRESS: never deployed)"));
            plan.warnings.push(Warning::NeverDeployed { stack: stack.clone() });
            (plan, old)
        }
        Preview::NoChanges { old, reason, change_set } => {
            let mut plan = crate::plan::plan(&old, new, &base);
            if plan.changes {
                plan.warnings.push(Warning::ChangeSetFoundNoChanges { reason });
            }
            plan.changes = false;
            plan.change_set = change_set;
            (plan, old)
        }
        Preview::ChangeSetFailed { old, reason, change_set } => {
            // Still a useful plan: the deployed templates against the new ones, with the
            // offline prediction of replacements, and the reason CloudFormation gave.
            let mut plan = crate::plan::plan(&old, new, &base);
            plan.warnings.push(Warning::ChangeSetFailed { reason, kept: change_set.clone() });
            plan.change_set = change_set;
            (plan, old)
        }
        Preview::Changes { old, facts, change_set } => {
            let mut plan = crate::plan::plan_refined(&old, new, &base, Some(&facts));
            if !plan.changes && !facts.resources.is_empty() {
                plan.changes = true;
            }
            plan.change_set = change_set;
            (plan, old)
        }
    };
    if let Some(options) = &options.cost {
        plan.cost = Some(super::cost::change(&old, new, Some(region), options)?);
    }
    Ok(plan)
}

/// Saves the JSON plan to `out` when given, renders the plan in `format` (a kept change set's
/// ARN and how to delete it added to text and markdown), and picks the exit status.
///
/// # Errors
/// [`CliError`] when the JSON plan cannot be saved.
pub fn finish(plan: Plan, format: PlanFormat, color: bool, out: Option<&Path>) -> Result<PlanOutput, CliError> {
    if let Some(path) = out {
        write_atomically(path, &render::json::render(&plan))
            .map_err(|e| CliError::new(format!("cannot write the JSON plan to {}: {e}", path.display())))?;
    }
    let mut rendered = match format {
        PlanFormat::Text => render::text::render(&plan, color),
        PlanFormat::Markdown => render::markdown::render(&plan),
        PlanFormat::Json => render::json::render(&plan),
    };
    if let (Some(arn), false) = (&plan.change_set, format == PlanFormat::Json) {
        rendered = format!("{}\n\nchange set kept (inspect it in the CloudFormation console; delete it with `aws cloudformation delete-change-set --change-set-name {arn}`): {arn}\n", rendered.trim_end());
    }
    let status = if plan.changes { ExitStatus::Changes } else { ExitStatus::Success };
    Ok(PlanOutput { plan, rendered, status })
}

/// Whether text output gets ANSI colour: only on a terminal, never with `--no-color` or a
/// non-empty `NO_COLOR` (no-color.org).
#[must_use]
pub fn color_wanted(no_color_flag: bool, stdout_is_terminal: bool) -> bool {
    let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stdout_is_terminal && !no_color_flag && !env_off
}

fn git(dir: &Path, args: &[&str]) -> Result<String, CliError> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| CliError::new(format!("cannot run git (needed by --against-git): {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(CliError::new(String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

fn repo_root(dir: &Path, what: &str) -> Result<PathBuf, CliError> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])
        .map_err(|e| CliError::new(format!("{what} is not in a git repository: {e}")))?;
    std::fs::canonicalize(top.trim()).map_err(|e| CliError::new(format!("git repository root {}: {e}", top.trim())))
}

/// The file at `rev`, or `None` when the revision exists but the file does not (yet).
fn show_at(top: &Path, rel: &str, rev: &str) -> Result<Option<String>, CliError> {
    if rev.starts_with('-') {
        return Err(CliError::new(format!("--against-git {rev:?}: a revision cannot start with '-'")));
    }
    git(top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map_err(|_| CliError::new(format!("--against-git {rev}: no such revision in {}", top.display())))?;
    let object = format!("{rev}:{rel}");
    if git(top, &["cat-file", "-e", &object]).is_err() {
        return Ok(None);
    }
    git(top, &["show", &object]).map(Some)
}

/// The blueprint file as it was at `rev`: `git show REV:<path from the repository root>`.
/// Returns that path and the text, `None` when the file did not exist at `rev` (the change
/// that adds it: the plan is against nothing).
///
/// # Errors
/// [`CliError`] when git is missing, the file is outside a repository, or the revision does
/// not exist.
pub fn git_show(path: &Path, rev: &str) -> Result<(String, Option<String>), CliError> {
    let abs = std::fs::canonicalize(path)
        .map_err(|e| CliError::new(format!("cannot find the blueprint {}: {e}", path.display())))?;
    let dir = abs.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let top = repo_root(&dir, &path.display().to_string())?;
    let rel = abs
        .strip_prefix(&top)
        .map_err(|_| CliError::new(format!("{} is outside the git repository {}", path.display(), top.display())))?;
    let rel = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
    let text = show_at(&top, &rel, rev)?;
    Ok((rel, text))
}

/// Without a blueprint argument: the embedded default's source file,
/// [`DEFAULT_BLUEPRINT_PATH`], at `rev` in the repository of the current directory (a clone
/// of sandboxc itself).
///
/// # Errors
/// [`CliError`], with a hint to name the blueprint file.
pub fn git_show_default(rev: &str) -> Result<(String, Option<String>), CliError> {
    let hint = "; without a BLUEPRINT argument --against-git compares the embedded default with its source file in a clone of sandboxc: give your blueprint file (sandboxc plan BLUEPRINT --against-git REF)";
    let cwd = std::env::current_dir().map_err(|e| CliError::new(format!("current directory: {e}")))?;
    let top = repo_root(&cwd, "the current directory").map_err(|e| CliError::new(format!("{e}{hint}")))?;
    match show_at(&top, DEFAULT_BLUEPRINT_PATH, rev)? {
        Some(text) => Ok((DEFAULT_BLUEPRINT_PATH.to_string(), Some(text))),
        None => Err(CliError::new(format!("{DEFAULT_BLUEPRINT_PATH} does not exist at {rev}{hint}"))),
    }
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename.
///
/// # Errors
/// The I/O error.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".sandboxc-plan-").tempfile_in(&dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_needs_a_terminal_and_no_opt_out() {
        assert!(!color_wanted(false, false));
        assert!(!color_wanted(true, true));
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("plan.json");
        for text in ["one", "two"] {
            assert!(write_atomically(&path, text).is_ok());
            assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), text);
        }
        assert_eq!(std::fs::read_dir(dir.path()).map(Iterator::count).unwrap_or_default(), 1);
    }
}
