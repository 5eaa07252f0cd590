//! `sandboxc plan`: what would change between two synth outputs, and what it risks.
//!
//! The offline half of DESIGN.md §4 "plan": the new output (the blueprint compiled in memory)
//! is compared with a base, either a previous synth output directory (`--against DIR`) or the
//! same blueprint file as it was at a git revision, compiled in memory (`--against-git REF`).
//! [`diff`] matches nested stacks by logical ID and diffs inside with intrinsic-aware
//! equality, [`replacement`] gives each change its replacement tier, [`security`] and
//! [`dataloss`] pick out what a reviewer must see first, and [`render`] writes text,
//! markdown or JSON. Without `--against*` the base is the deployed CloudFormation stack
//! (`crate::deploy::plan`): its templates from `GetTemplate`, and a change set whose facts
//! [`refine`] merges into the prediction. Exit codes: 0 no changes, 2 changes, 1 error.

pub mod dataloss;
pub mod diff;
pub mod model;
pub mod refine;
pub mod render;
pub mod replacement;
pub mod resolve;
pub mod security;
pub mod source;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use model::{Plan, ResourceNote, SecurityCategory, Warning, PLAN_SCHEMA_VERSION};
pub use source::TemplateSet;

use crate::blueprint::Source;
use crate::cfn::render::Format;
use model::{Action, Direction, FileChange, Impact, Replacement, Summary, TemplateStatus};

/// Exit code when the plan has no changes.
pub const EXIT_NO_CHANGES: u8 = 0;
/// Exit code on any error.
pub const EXIT_ERROR: u8 = 1;
/// Exit code when the plan has changes.
pub const EXIT_CHANGES: u8 = 2;

/// Why a plan could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The (new or old) blueprint is invalid or does not compile.
    #[error("{context}{source}")]
    Build {
        /// Which side: empty for the new blueprint.
        context: String,
        /// The error.
        source: Box<crate::Error>,
    },
    /// `--against DIR` is not a synth output.
    #[error("--against {dir} is not a sandboxc synth output directory: {why}")]
    NotSynthOutput {
        /// The directory.
        dir: String,
        /// Why not.
        why: String,
    },
    /// A template file could not be read or parsed.
    #[error("cannot read template {path}: {why}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// Rendering the new output failed.
    #[error("{0}")]
    Synth(String),
    /// `git` failed.
    #[error("{0}")]
    Git(String),
    /// Arguments that do not fit together.
    #[error("{0}")]
    Usage(String),
    /// The JSON plan could not be saved.
    #[error("cannot write the JSON plan to {path}: {why}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// Formerly returned without `--against*`; the deployed mode (`crate::deploy::plan`) now
    /// answers instead. Kept for compatibility.
    #[error(
        "planning against the deployed stack needs AWS access (GetTemplate and a change set with IncludeNestedStacks) and is not available yet;\n\
         plan offline instead: --against DIR (a previous `sandboxc synth` output) or --against-git REF (the blueprint as it was at a git revision)"
    )]
    DeployedNotAvailable,
    /// Deployed mode: AWS answered with an error, or the stack cannot be planned against.
    #[error("{0}")]
    Deployed(String),
}

/// Output format of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PlanFormat {
    /// For a terminal: colour when stdout is one (NO_COLOR and --no-color respected).
    #[default]
    Text,
    /// For a pull-request comment: security and data loss first, details per stack collapsed.
    Markdown,
    /// For machines: the versioned schema in docs/plan-json.md.
    Json,
}

/// Arguments of `sandboxc plan`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PlanArgs {
    /// Blueprint file (YAML); default: the embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Compare with a previous synth output directory (manifest.json and templates); offline.
    #[arg(long, value_name = "DIR")]
    pub against: Option<PathBuf>,
    /// Compare with the blueprint file as it was at git revision REF (git show REF:path),
    /// compiled in memory; offline. Without BLUEPRINT: blueprints/data-sandbox.yaml of the
    /// current directory's repository (a clone of sandboxc) against the embedded default.
    #[arg(long, value_name = "REF")]
    pub against_git: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Also save the JSON plan to FILE (written atomically).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No ANSI colour in text output (also: the NO_COLOR environment variable).
    #[arg(long)]
    pub no_color: bool,
    /// Deployed mode: AWS profile of the shared config and credentials files (else the
    /// standard chain: environment, AWS_PROFILE, SSO, instance roles).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Deployed mode: AWS Region (else the blueprint's `region`, else the AWS configuration's).
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
    /// Deployed mode: the assets bucket holding the nested templates (the AssetsBucket
    /// parameter); default: the deployed stack's AssetsBucket parameter.
    #[arg(long, value_name = "BUCKET")]
    pub assets_bucket: Option<String>,
    /// Deployed mode: keep the change set (for apply) and print its ARN instead of deleting it.
    #[arg(long)]
    pub keep_change_set: bool,
}

/// A finished plan, rendered.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The plan.
    pub plan: Plan,
    /// The plan in the requested format.
    pub rendered: String,
    /// [`EXIT_CHANGES`] or [`EXIT_NO_CHANGES`].
    pub exit_code: u8,
}

/// Whether text output gets ANSI colour: only on a terminal, never with `--no-color` or a
/// non-empty `NO_COLOR` (no-color.org).
#[must_use]
pub fn color_wanted(no_color_flag: bool, stdout_is_terminal: bool) -> bool {
    let env_off = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stdout_is_terminal && !no_color_flag && !env_off
}

/// `sandboxc plan`: builds the new output, reads or builds the base, compares, renders, and
/// saves the JSON plan when asked. `color` applies to text output.
///
/// # Errors
/// Any [`PlanError`]; [`PlanError::DeployedNotAvailable`] without `--against*`.
pub fn run(args: &PlanArgs, color: bool) -> Result<Outcome, PlanError> {
    let (old, base) = match (&args.against, &args.against_git) {
        (Some(_), Some(_)) => return Err(PlanError::Usage("--against and --against-git cannot be used together: choose one base".into())),
        (None, None) => return crate::deploy::plan::run(args, color),
        _ if args.keep_change_set || args.assets_bucket.is_some() => {
            return Err(PlanError::Usage("--keep-change-set and --assets-bucket belong to the plan against the deployed stack: leave out --against and --against-git".into()))
        }
        (Some(dir), None) => (TemplateSet::from_dir(dir)?, format!("directory {}", dir.display())),
        (None, Some(rev)) => {
            let (repo_path, text) = match &args.blueprint {
                Some(path) => git_show(path, rev)?,
                None => git_show_default(rev)?,
            };
            let source = Source { name: format!("{repo_path} at {rev}"), text };
            let compiled = crate::build(&source, Format::Json).map_err(|e| PlanError::Build { context: format!("the blueprint at {rev}: "), source: Box::new(e) })?;
            (TemplateSet::from_compiled(&compiled)?, format!("{repo_path} at git {rev}"))
        }
    };
    let (new, _) = new_output(args)?;
    let plan = plan(&old, &new, &base);
    finish(args, color, plan)
}

/// The new side of a plan: the blueprint (or the embedded default) compiled in memory, and
/// the blueprint's `region`, if any.
///
/// # Errors
/// [`PlanError::Build`] or [`PlanError::Synth`].
pub fn new_output(args: &PlanArgs) -> Result<(TemplateSet, Option<String>), PlanError> {
    let source = match &args.blueprint {
        Some(p) => Source::read(p)
            .map_err(|d| PlanError::Build { context: String::new(), source: Box::new(crate::Error::Blueprint(d)) })?,
        None => Source::embedded(),
    };
    let blueprint = crate::blueprint::load(&source)
        .map_err(|d| PlanError::Build { context: String::new(), source: Box::new(crate::Error::Blueprint(d)) })?;
    let region = blueprint.region.clone();
    let compiled = crate::build(&source, Format::Json)
        .map_err(|e| PlanError::Build { context: String::new(), source: Box::new(e) })?;
    Ok((TemplateSet::from_compiled(&compiled)?, region))
}

/// Saves the JSON plan when `--out` asks for it, renders the plan and picks the exit code.
///
/// # Errors
/// [`PlanError::Write`].
pub fn finish(args: &PlanArgs, color: bool, plan: Plan) -> Result<Outcome, PlanError> {
    if let Some(path) = &args.out {
        write_atomically(path, &render::json::render(&plan))?;
    }
    let rendered = match args.format {
        PlanFormat::Text => render::text::render(&plan, color),
        PlanFormat::Markdown => render::markdown::render(&plan),
        PlanFormat::Json => render::json::render(&plan),
    };
    let exit_code = if plan.changes { EXIT_CHANGES } else { EXIT_NO_CHANGES };
    Ok(Outcome { plan, rendered, exit_code })
}

/// Where the embedded default blueprint lives in sandboxc's own repository.
pub const DEFAULT_BLUEPRINT_PATH: &str = "blueprints/data-sandbox.yaml";

fn git(dir: &Path, args: &[&str]) -> Result<String, PlanError> {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| PlanError::Git(format!("cannot run git (needed by --against-git): {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(PlanError::Git(String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

fn repo_root(dir: &Path, what: &str) -> Result<PathBuf, PlanError> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])
        .map_err(|e| PlanError::Git(format!("{what} is not in a git repository: {e}")))?;
    std::fs::canonicalize(top.trim()).map_err(|e| PlanError::Git(format!("git repository root {}: {e}", top.trim())))
}

fn show_at(top: &Path, rel: &str, rev: &str, hint: &str) -> Result<String, PlanError> {
    if rev.starts_with('-') {
        return Err(PlanError::Git(format!("--against-git {rev:?}: a revision cannot start with '-'")));
    }
    git(top, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
        .map_err(|_| PlanError::Git(format!("--against-git {rev}: no such revision in {}", top.display())))?;
    git(top, &["show", &format!("{rev}:{rel}")])
        .map_err(|e| PlanError::Git(format!("{rel} does not exist at {rev} ({e}){hint}")))
}

/// The blueprint file as it was at `rev`: `git show REV:<path from the repository root>`.
/// Returns that path and the text.
///
/// # Errors
/// [`PlanError::Git`] when git is missing, the file is outside a repository, or the revision
/// or the file at that revision does not exist.
pub fn git_show(path: &Path, rev: &str) -> Result<(String, String), PlanError> {
    let abs = std::fs::canonicalize(path)
        .map_err(|e| PlanError::Git(format!("cannot find the blueprint {}: {e}", path.display())))?;
    let dir = abs.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let top = repo_root(&dir, &path.display().to_string())?;
    let rel = abs
        .strip_prefix(&top)
        .map_err(|_| PlanError::Git(format!("{} is outside the git repository {}", path.display(), top.display())))?;
    let rel = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
    let text = show_at(&top, &rel, rev, "")?;
    Ok((rel, text))
}

/// Without a blueprint argument: the embedded default's source file,
/// [`DEFAULT_BLUEPRINT_PATH`], at `rev` in the repository of the current directory (a clone
/// of sandboxc itself).
///
/// # Errors
/// [`PlanError::Git`], with a hint to name the blueprint file.
pub fn git_show_default(rev: &str) -> Result<(String, String), PlanError> {
    let hint = "; without a BLUEPRINT argument --against-git compares the embedded default with its source file in a clone of sandboxc: give your blueprint file (sandboxc plan BLUEPRINT --against-git REF)";
    let cwd = std::env::current_dir().map_err(|e| PlanError::Git(format!("current directory: {e}")))?;
    let top = repo_root(&cwd, "the current directory").map_err(|e| PlanError::Git(format!("{e}{hint}")))?;
    let text = show_at(&top, DEFAULT_BLUEPRINT_PATH, rev, hint)?;
    Ok((DEFAULT_BLUEPRINT_PATH.to_string(), text))
}

/// Writes `text` to `path` through a temporary file in the same directory and a rename.
///
/// # Errors
/// [`PlanError::Write`].
pub fn write_atomically(path: &Path, text: &str) -> Result<(), PlanError> {
    let err = |e: std::io::Error| PlanError::Write { path: path.display().to_string(), why: e.to_string() };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".sandboxc-plan-").tempfile_in(&dir).map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Compares two template sets into a plan. `base` says what `old` is, for people.
#[must_use]
pub fn plan(old: &TemplateSet, new: &TemplateSet, base: &str) -> Plan {
    plan_refined(old, new, base, None)
}

/// [`plan`], with the facts of a change set (deployed mode) merged into the prediction by
/// [`refine::refine`] before the security and data-loss passes.
#[must_use]
pub fn plan_refined(old: &TemplateSet, new: &TemplateSet, base: &str, facts: Option<&refine::ChangeSetFacts>) -> Plan {
    let mut compared = diff::compare(old, new);
    if let Some(facts) = facts {
        refine::refine(&mut compared, facts);
    }
    let security = security::analyze(&compared);
    let data_loss = dataloss::analyze(&compared);
    let mut warnings = Vec::new();
    if old.stack_name != new.stack_name {
        warnings.push(Warning::StackRenamed { old: old.stack_name.clone(), new: new.stack_name.clone() });
    }
    let layout = |s: &TemplateSet| {
        if s.label(&s.root_file) == Some("single") {
            "single".to_string()
        } else {
            "nested".to_string()
        }
    };
    if layout(old) != layout(new) && old.templates.len() + new.templates.len() > 2 {
        warnings.push(Warning::LayoutChanged { old: layout(old), new: layout(new) });
    }
    for c in &compared {
        for r in &c.diff.resources {
            for n in &r.notes {
                if let ResourceNote::FixedName { property, name } = n {
                    warnings.push(Warning::FixedName {
                        stack: c.diff.stack.clone(),
                        logical_id: r.logical_id.clone(),
                        property: property.clone(),
                        name: name.clone(),
                    });
                }
            }
            for ch in &r.changes {
                if ch.replacement == Replacement::Impossible {
                    warnings.push(Warning::CannotChange {
                        stack: c.diff.stack.clone(),
                        logical_id: r.logical_id.clone(),
                        path: crate::plan::render::path(&ch.path).to_string(),
                        possibly_because: ch.possibly_because.clone(),
                        note: ch.note.clone(),
                    });
                }
            }
        }
    }
    let mut files = Vec::new();
    let names: std::collections::BTreeSet<&String> = old.scripts.keys().chain(new.scripts.keys()).collect();
    for f in names {
        let status = match (old.scripts.get(f), new.scripts.get(f)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => "modified",
            (None, _) => "added",
            (_, None) => "removed",
        };
        let note = if f.ends_with("launcher.ps1") {
            "baked into the AppStream image: build a new image and point the blueprint's image_name at it"
        } else if f.ends_with("notebook.ps1") {
            "stored in the notebook-script SSM parameter: its change shows in the storage stack"
        } else {
            "not part of any template"
        };
        files.push(FileChange { file: f.clone(), status: status.into(), note: note.into() });
    }
    let templates: Vec<model::TemplateDiff> = compared.into_iter().map(|c| c.diff).collect();
    let mut summary = Summary::default();
    for t in &templates {
        for r in &t.resources {
            match (r.action, r.impact) {
                (Action::Add, _) => summary.add += 1,
                (Action::Remove, _) => summary.remove += 1,
                (_, Impact::CertainReplacement) => summary.replace += 1,
                (_, Impact::PossibleReplacement) => summary.possible_replace += 1,
                (_, Impact::None) => summary.template_only += 1,
                _ => summary.update += 1,
            }
        }
    }
    summary.security = security.len();
    summary.relaxations = security.iter().filter(|s| s.direction == Direction::Relaxed).count();
    summary.data_loss = data_loss.len();
    let changes = templates.iter().any(|t| t.status != TemplateStatus::Unchanged) || !files.is_empty();
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        changes,
        base: base.to_string(),
        old_stack_name: old.stack_name.clone(),
        new_stack_name: new.stack_name.clone(),
        summary,
        security,
        data_loss,
        warnings,
        files,
        templates,
        change_set: None,
    }
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
