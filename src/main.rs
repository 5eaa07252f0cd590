//! The `sandboxc` command line: parses arguments, calls the library, maps outcomes to exit
//! codes (0 success or no changes, 1 error, 2 plan has changes). Everything else lives in the
//! library.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use sandboxc::blueprint::{schema, Source};
use sandboxc::cfn::render::Format;

/// Compile one YAML blueprint of an isolated AWS data sandbox (VPC without internet, encrypted
/// S3 bucket, AppStream 2.0 fleet and stack, SageMaker notebook, session validator Lambda,
/// CloudTrail and flow logs) into CloudFormation templates.
///
/// Without BLUEPRINT every command uses the embedded default (blueprints/data-sandbox.yaml).
#[derive(Debug, Parser)]
#[command(name = "sandboxc", version, propagate_version = true, max_term_width = 100, after_help = AFTER_HELP)]
struct Cli {
    /// Print only errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

const AFTER_HELP: &str = "\
Examples:
  sandboxc synth                              compile the embedded default into ./out
  sandboxc validate team.yaml                 check a blueprint; writes nothing
  sandboxc synth team.yaml -o build/cfn       compile a blueprint into build/cfn
  sandboxc plan team.yaml --against-git main  what the change to team.yaml does, and risks
  sandboxc schema > blueprint.schema.json     schema for editor completion
  sandboxc bootstrap                          once per account and Region: the assets bucket
  sandboxc apply team.yaml                    plan, ask, deploy, follow; prints the outputs
  sandboxc status team.yaml --drift           where the stack is, and what drifted
  sandboxc destroy team.yaml                  delete the stack; lists what is retained
  sandboxc audit --usage-reports reports --cloudtrail trail --bucket my-data
                                              who read and wrote what, per user; exit 2 on findings

Exit codes: 0 success (plan: no changes); 1 error (invalid blueprint or arguments, output not
written; a failed, refused or interrupted deployment); 2 plan found changes, status --drift
found drift, or audit found unattributed or ambiguous S3 data events or unreadable evidence.";

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile a blueprint into CloudFormation templates, scripts and manifest.json.
    ///
    /// Writes into DIR (default ./out): the root template and one template per nested stack
    /// (layout nested) or one template (layout single), scripts/launcher.ps1 for the AppStream
    /// image, scripts/notebook.ps1, and manifest.json with every file's SHA-256. The output is
    /// byte-identical for the same blueprint on any machine. DIR is replaced as a whole, and only
    /// when everything succeeded; a non-empty DIR without manifest.json is never touched.
    Synth {
        /// Blueprint file (YAML); default: the embedded data-sandbox.yaml.
        blueprint: Option<PathBuf>,
        /// Output directory.
        #[arg(short, long, value_name = "DIR", default_value = "out")]
        out: PathBuf,
        /// Template format.
        #[arg(long, value_enum, default_value_t = FormatArg::Json)]
        format: FormatArg,
    },
    /// Check a blueprint and report every problem with file:line:column; writes nothing.
    Validate {
        /// Blueprint file (YAML); default: the embedded data-sandbox.yaml.
        blueprint: Option<PathBuf>,
    },
    /// Print the blueprint's JSON Schema (for editors: yaml-language-server, VS Code).
    Schema,
    /// Build the Lambda zips (validator, provider) from this checkout's lambda/ crate.
    ///
    /// Builds release binaries for Amazon Linux 2023 with cargo-zigbuild (glibc 2.17 symbols;
    /// install: .venv/bin/pip install cargo-zigbuild ziglang), checks that no binary needs a
    /// glibc newer than 2.34, and writes DIR/<identity>/validator.zip and provider.zip, each
    /// holding one executable `bootstrap`, byte-identical for the same sources. <identity> is
    /// the SHA-256 of lambda/ sources and Cargo.lock that synth writes into the templates.
    /// Run it inside a sandboxc checkout.
    Package {
        /// Output directory of the zips.
        #[arg(short, long, value_name = "DIR", default_value = "dist/lambda")]
        out: PathBuf,
    },
    /// Show what would change against a base, and what it risks (security, data loss).
    ///
    /// Offline: --against DIR (a previous synth output) or --against-git REF (the blueprint
    /// file as it was at a git revision). Without either: the deployed CloudFormation stack
    /// (GetTemplate and a change set with IncludeNestedStacks; --profile, --region).
    /// Exit codes: 0 no changes, 2 changes, 1 error.
    Plan(sandboxc::plan::PlanArgs),
    /// Deploy the assets stack (sandboxc-assets): the bucket apply uploads nested templates
    /// and Lambda zips to (KMS-encrypted, versioned, TLS-only, public access blocked, old
    /// versions expire after 30 days). Once per account and Region; through a change set.
    Bootstrap(sandboxc::deploy::apply::BootstrapArgs),
    /// Deploy the blueprint through a CloudFormation change set, showing the plan first.
    ///
    /// Preflight (limits, credentials, account and Region, the blueprint's pinned `account`,
    /// stack state), assets uploaded to the assets bucket under content-hash keys (a failed
    /// upload stops before any change set), change set (CREATE or UPDATE, nested stacks
    /// included), plan, approval (prompt, or --yes; replacing or removing resources that
    /// hold data also needs --allow-data-loss), execution with live stack events, then the
    /// root cause of a failure (deepest nested resource first) or the stack outputs.
    /// "No changes" is success. A running deployment is followed, not fought; Ctrl-C stops
    /// following, never the deployment: run apply again to re-attach. New stacks get
    /// termination protection; a stack policy denies replacing or deleting stateful
    /// resources except during an update approved with --allow-data-loss.
    /// Exit codes: 0 deployed or no changes, 1 failed, refused, cancelled or interrupted.
    Apply(sandboxc::deploy::apply::ApplyArgs),
    /// Show the deployed stack: status, termination protection, latest events, outputs;
    /// --drift also detects changes made outside CloudFormation (exit code 2 when any).
    Status(sandboxc::deploy::manage::StatusArgs),
    /// Delete the deployed stack: lists what is deleted and what is retained (buckets and
    /// keys with their data stay), asks (or --yes), lifts termination protection, deletes,
    /// follows the events, and lists the retained resources at the end.
    Destroy(sandboxc::deploy::manage::DestroyArgs),
    /// Who did what in the sandbox: S3 data events attributed to AppStream users.
    ///
    /// Joins AppStream usage reports (user, interface address, session start and end) with
    /// CloudTrail S3 data events (sourceIPAddress, eventTime) and the validator Lambda's
    /// decisions: each event goes to the one session that held its source address at its time.
    /// Events no session explains are listed as unattributed, events two sessions claim as
    /// ambiguous. Sources: directories laid out as the buckets (--usage-reports, --cloudtrail,
    /// --decisions), or the buckets themselves (--from-aws). Output: a summary and a timeline
    /// per user (table), or --format csv|json. Exit codes: 0 everything attributed, 2
    /// unattributed or ambiguous events exist, 1 error.
    Audit(sandboxc::audit::AuditArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FormatArg {
    /// JSON, keys sorted.
    Json,
    /// YAML with long-form intrinsic functions.
    Yaml,
}

fn source(path: Option<&PathBuf>) -> Result<Source, sandboxc::Error> {
    match path {
        Some(p) => Ok(Source::read(p)?),
        None => Ok(Source::embedded()),
    }
}

/// Runs one command; `Ok` holds the exit code (0, or 2 when a plan has changes).
fn run(cli: &Cli) -> Result<u8, sandboxc::Error> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (sandboxc schema | head) is not an error.
    let mut say = |text: &str| {
        let _ = writeln!(stdout, "{text}");
    };
    match &cli.command {
        Command::Synth { blueprint, out, format } => {
            let format = match format {
                FormatArg::Json => Format::Json,
                FormatArg::Yaml => Format::Yaml,
            };
            let src = source(blueprint.as_ref())?;
            let manifest = sandboxc::synth(&src, out, format)?;
            if !cli.quiet {
                say(&format!(
                    "synthesized stack {} (layout {}) into {}: {} template{}, {} scripts, manifest.json",
                    manifest.stack_name,
                    manifest.layout,
                    out.display(),
                    manifest.templates.len(),
                    if manifest.templates.len() == 1 { "" } else { "s" },
                    manifest.scripts.len()
                ));
            }
        }
        Command::Validate { blueprint } => {
            let src = source(blueprint.as_ref())?;
            let b = sandboxc::blueprint::load(&src)?;
            if !cli.quiet {
                say(&format!("{}: valid blueprint for environment {}", src.name, b.name));
            }
        }
        Command::Schema => say(schema::schema_json().trim_end()),
        Command::Package { out } => {
            use sandboxc::assets::package;
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let Some(root) = package::find_workspace_root(&cwd) else {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "sandboxc package builds the Lambda zips from a sandboxc checkout (Cargo.lock and lambda/): run it inside one"
                );
                return Ok(1);
            };
            let report = package::package(&root, out)?;
            let built_in = sandboxc::assets::LambdaAsset::built_in().identity;
            if report.identity != built_in {
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "warning: these zips ({}) are not the ones this sandboxc binary's templates name ({built_in}): rebuild sandboxc from this checkout",
                    report.identity
                );
            }
            if !cli.quiet {
                for f in &report.functions {
                    say(&format!("{} ({} bytes, sha256 {})", f.zip_path.display(), f.zip_bytes, f.zip_sha256));
                }
            }
        }
        Command::Bootstrap(args) => {
            let assets = sandboxc::assets_release()?;
            if args.print_template {
                say(assets.body.trim_end());
                return Ok(0);
            }
            return Ok(deployed(sandboxc::deploy::commands::run_bootstrap(args, &assets, cli.quiet)));
        }
        Command::Apply(args) => {
            let release = sandboxc::release(&source(args.blueprint.as_ref())?)?;
            return Ok(deployed(sandboxc::deploy::commands::run_apply(args, &release, cli.quiet)));
        }
        Command::Status(args) => {
            let release = sandboxc::release(&source(args.blueprint.as_ref())?)?;
            return Ok(deployed(sandboxc::deploy::commands::run_status(args, &release, cli.quiet)));
        }
        Command::Destroy(args) => {
            let release = sandboxc::release(&source(args.blueprint.as_ref())?)?;
            return Ok(deployed(sandboxc::deploy::commands::run_destroy(args, &release, cli.quiet)));
        }
        Command::Plan(args) => {
            use std::io::IsTerminal;
            let color = sandboxc::plan::color_wanted(args.no_color, std::io::stdout().is_terminal());
            return Ok(match sandboxc::plan::run(args, color) {
                Ok(outcome) => {
                    if !cli.quiet {
                        say(outcome.rendered.trim_end());
                    }
                    outcome.exit_code
                }
                Err(e) => {
                    let _ = writeln!(std::io::stderr().lock(), "{e}");
                    sandboxc::plan::EXIT_ERROR
                }
            });
        }
        Command::Audit(args) => {
            // --quiet: only the exit code (and errors), for scheduled jobs.
            let out: &mut dyn Write = if cli.quiet { &mut std::io::sink() } else { &mut stdout };
            return Ok(match sandboxc::audit::run(args, out) {
                Ok(code) => code,
                Err(e) => {
                    let _ = writeln!(std::io::stderr().lock(), "sandboxc audit: {e}");
                    sandboxc::audit::EXIT_ERROR
                }
            });
        }
    }
    Ok(0)
}

/// The exit code of a deploy command; its error goes to stderr.
fn deployed(result: Result<u8, sandboxc::deploy::deployment::DeployError>) -> u8 {
    result.unwrap_or_else(|e| {
        let _ = writeln!(std::io::stderr().lock(), "error: {e}");
        1
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version succeed; a usage error is an error (1), never 2, which
            // means "plan has changes".
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let _ = writeln!(std::io::stderr().lock(), "{e}");
            ExitCode::from(1)
        }
    }
}
