//! The command line: the clap tree ([`Cli`]), one function per command, the AWS options
//! resolved once per command ([`args::AwsArgs`]), the one tokio runtime
//! ([`Context::runtime`]), the [`ExitStatus`] every command ends in, and the one error
//! printer ([`error::CliError`]). `src/main.rs` only parses, calls [`run`] and exits with
//! [`ExitStatus::code`].

pub mod args;
pub mod audit;
pub mod audit_athena;
pub mod build;
pub mod connect;
pub mod cost;
pub mod deploy;
pub mod error;
pub mod init;
pub mod plan;
pub mod validate_json;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use args::{
    ApplyArgs, AuditArgs, BootstrapArgs, CheckArgs, ConnectArgs, CostArgs, DestroyArgs, FormatArg, PlanArgs,
    StatusArgs, ValidateFormat,
};
use error::CliError;

use crate::blueprint::schema;
use crate::cfn::render::Format;

/// Compile one YAML blueprint of an isolated AWS data sandbox (VPC without internet, encrypted
/// S3 bucket, AppStream 2.0 fleet and stack, a SageMaker notebook per user, session validator Lambda,
/// CloudTrail and flow logs) into CloudFormation templates; plan, deploy and audit it.
///
/// Without BLUEPRINT every command that takes one reads ./sandbox.yaml (what `init` writes) when
/// the current directory has one, else the embedded default (blueprints/data-sandbox.yaml);
/// `audit` only with --from-aws (else give the blueprint or --stack to attribute notebook reads).
#[derive(Debug, Parser)]
#[command(
    name = "sandboxc",
    version = crate::assets::VERSION,
    propagate_version = true,
    max_term_width = 100,
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Print only errors, refusals and warnings.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Show every AWS request (service, operation, HTTP status) and its duration on standard
    /// error, one line per attempt.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

const AFTER_HELP: &str = "\
Examples:
  sandboxc synth                              compile the embedded default into ./out
  sandboxc validate team.yaml                 check a blueprint; writes nothing
  sandboxc synth team.yaml -o build/cfn       compile a blueprint into build/cfn
  sandboxc plan team.yaml --against-git main  what the change to team.yaml does, and risks
  sandboxc cost team.yaml                     what the sandbox costs a month, line by line
  sandboxc schema > blueprint.schema.json     schema for editor completion
  sandboxc bootstrap                          once per account and Region: the assets bucket
  sandboxc apply team.yaml                    plan, ask, deploy, follow; prints the outputs
  sandboxc status team.yaml --drift           where the stack is, and what drifted
  sandboxc destroy team.yaml                  delete the stack; lists what is retained
  sandboxc connect team.yaml --user alice     a streaming URL for alice (stdout only)
  sandboxc audit --usage-reports reports --cloudtrail trail --bucket my-data
                                              who read and wrote what, per user; exit 2 on findings

Commands that call AWS (plan without --against*, check, bootstrap, apply, status, destroy,
connect, audit --from-aws) take --profile and --region (refused when it contradicts the
blueprint's `region`; credentials of another account than the blueprint's `account` are refused
too), and
--connect-timeout (default 10 s) and --call-timeout (default 60 s): an endpoint that does not
answer fails the command, naming the endpoint and the call.

Exit codes: 0 success (plan: no changes); 1 error (invalid blueprint or arguments, output not
written; a failed, refused, cancelled or interrupted deployment); 2 plan found changes, status
--drift found drift, or audit found unattributed or ambiguous S3 data events or unreadable
evidence.";

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compile a blueprint into CloudFormation templates, scripts and manifest.json.
    ///
    /// Writes into DIR (default ./out): the root template and one template per nested stack
    /// (layout nested) or one template (layout single), scripts/launcher.ps1 for the AppStream
    /// image, scripts/notebook.ps1, and manifest.json with every file's SHA-256. The output is
    /// byte-identical for the same blueprint on any machine. DIR is replaced as a whole, and only
    /// when everything succeeded; a non-empty DIR without manifest.json is never touched.
    Synth {
        /// Blueprint file (YAML; `-` reads standard input); default: ./sandbox.yaml if
        /// present, else the embedded data-sandbox.yaml.
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
        /// Blueprint file (YAML; `-` reads standard input); default: ./sandbox.yaml if
        /// present, else the embedded data-sandbox.yaml.
        blueprint: Option<PathBuf>,
        /// Output format: text lines, or one JSON object on stdout (errors included).
        #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
        format: ValidateFormat,
    },
    /// Print the blueprint's JSON Schema (for editors: yaml-language-server, VS Code).
    Schema,
    /// Write a commented starter blueprint, DIR/sandbox.yaml (DIR default: the current
    /// directory, created when missing), that validates as written; never overwrites a file.
    Init {
        /// Directory of the new sandbox.yaml.
        dir: Option<PathBuf>,
        /// Environment name written as `name:` ([a-z][a-z0-9-]{1,30}); default: the directory's
        /// name, lowercased with other characters as '-', when that is one; else "sandbox".
        #[arg(long)]
        name: Option<String>,
    },
    /// Print a shell completion script: `sandboxc completions bash > /etc/bash_completion.d/sandboxc`,
    /// `sandboxc completions zsh > "${fpath[1]}/_sandboxc"`,
    /// `sandboxc completions fish > ~/.config/fish/completions/sandboxc.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Build the Lambda zips (validator, provider) from this checkout's lambda/ crate.
    ///
    /// Builds release binaries for Amazon Linux 2023 with cargo-zigbuild (glibc 2.17 symbols;
    /// install into the checkout's .venv, or the venv $SANDBOXC_VENV names: python3 -m venv .venv
    /// && .venv/bin/pip install cargo-zigbuild ziglang), checks that no binary needs a
    /// glibc newer than 2.34, and writes DIR/<identity>/validator.zip and provider.zip, each
    /// holding one executable `bootstrap`, byte-identical for the same sources. <identity> is
    /// the SHA-256 of lambda/ sources and Cargo.lock that synth writes into the templates.
    /// Run it inside a sandboxc checkout.
    Package {
        /// Output directory of the zips.
        #[arg(short, long, value_name = "DIR", default_value = "dist/lambda")]
        out: PathBuf,
        /// Also write the release archive DIR/sandboxc-<version>-<target>.zip: this binary as
        /// bin/sandboxc and the zips as share/sandboxc/lambda/<identity>/, where an unpacked
        /// bin/sandboxc apply finds them. Refused when this binary is stale (its Lambda identity
        /// is not the checkout's): build it first, `cargo build --release`.
        #[arg(long, value_name = "DIR")]
        dist: Option<PathBuf>,
    },
    /// Show what would change against a base, and what it risks (security, data loss).
    ///
    /// Offline: --against DIR (a previous synth output) or --against-git REF (the blueprint
    /// file as it was at a git revision). Without either: the deployed CloudFormation stack
    /// (GetTemplate and a change set with IncludeNestedStacks, deleted afterwards unless
    /// --keep-change-set; the AWS options below).
    /// Exit codes: 0 no changes, 2 changes, 1 error.
    Plan(PlanArgs),
    /// What the sandbox would cost a month: one line per meter with its quantity, unit price
    /// and the offer's SKU; offline.
    ///
    /// Reads the compiled templates: AppStream instance hours by fleet type and size (ON_DEMAND
    /// and ELASTIC: --appstream-hours of streaming), notebook instance hours (--notebook-hours)
    /// and ML storage, interface endpoint hours per Availability Zone, KMS keys, CloudTrail data
    /// events (--trail-data-events) and S3 Standard storage (--s3-gb). Prices come from the AWS
    /// Price List offer files: the dated snapshot shipped with sandboxc, or --prices DIR. A price
    /// that is not there is never guessed: the line says "unknown" and why, and the total
    /// counts the known lines only. Taxes, free tiers, data transfer, requests and Savings
    /// Plans are not included.
    Cost(CostArgs),
    /// Deploy the assets stack (sandboxc-assets): the bucket apply uploads nested templates
    /// and Lambda zips to (KMS-encrypted, versioned, TLS-only, public access blocked, old
    /// versions expire after 30 days). Once per account and Region; through a change set.
    Bootstrap(BootstrapArgs),
    /// What would make `apply` fail, checked read-only against AWS: the preflight on its own.
    ///
    /// The AppStream image the fleet names exists and is AVAILABLE (DescribeImages); the SAML
    /// provider the blueprint names exists (GetSAMLProvider); explicit Availability Zones and a
    /// pinned `region` match the credentials' Region; no resource is left outside any stack
    /// under a fixed name the templates give (log groups: DescribeLogGroups; a named bucket:
    /// HeadBucket; notebook instances: DescribeNotebookInstance). Each finding says what to do:
    /// retained log groups and a retained named bucket (with its KMS key) are adopted by
    /// `apply` through an IMPORT change set when it creates the stack; anything else gets the
    /// exact cleanup commands. A check the credentials may not make is a warning.
    /// Exit codes: 0 nothing stops apply, 1 something does (or an error).
    Check(CheckArgs),
    /// Deploy the blueprint through a CloudFormation change set, showing the plan first.
    ///
    /// Preflight (limits, credentials, account and Region, the blueprint's pinned `account`
    /// and `region`, stack state, then the checks of `sandboxc check`: a problem stops apply
    /// before anything is uploaded; retained resources are adopted by an IMPORT change set
    /// before any other change set), assets uploaded to the assets bucket under content-hash
    /// keys (a failed upload stops before any change set), change set (CREATE or UPDATE,
    /// nested stacks included), plan, approval (prompt, or --yes; replacing or removing
    /// resources that hold data also needs --allow-data-loss), execution with live stack
    /// events, then the root cause of a failure (deepest nested resource first) or the stack
    /// outputs. "No changes" is success. A running deployment is followed, not fought; Ctrl-C
    /// stops following, never the deployment: run apply again to re-attach. New stacks get
    /// termination protection; a stack policy denies replacing or deleting stateful
    /// resources except during an update approved with --allow-data-loss.
    /// Exit codes: 0 deployed or no changes, 1 failed, refused, cancelled or interrupted.
    Apply(ApplyArgs),
    /// Show the deployed stack: status, termination protection, latest events, outputs;
    /// --drift also detects changes made outside CloudFormation (exit code 2 when any).
    Status(StatusArgs),
    /// Delete the deployed stack: lists what is deleted and what is retained (buckets and
    /// keys with their data stay), asks (or --yes), lifts termination protection, deletes,
    /// follows the events, and lists the retained resources at the end.
    Destroy(DestroyArgs),
    /// A streaming URL for one user of the deployed sandbox, without SAML (AppStream
    /// CreateStreamingURL for the blueprint's AppStream stack and fleet); printed on standard
    /// output only, or opened in the browser (--open).
    ///
    /// Checked before any AWS call: the user ID against the API's rule (2 to 32 characters of
    /// letters, digits and _ + = , . @ -), the validity (1s to 7d), and, with `notebook.mode:
    /// per_user`, that the blueprint lists the user with `authentication: api` (anyone else would
    /// get a session without a notebook). AppStream's refusals (no such stack or fleet, a fleet
    /// that is not running, access denied) name the stack and the fleet and what to do.
    Connect(ConnectArgs),
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
    Audit(Box<AuditArgs>),
}

/// The shells `sandboxc completions` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompletionShell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
}

/// How a command ended; `main` exits with [`ExitStatus::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done (plan: no changes; apply: deployed or no changes).
    Success,
    /// 1: an error, an invalid blueprint or arguments, a refused, cancelled, failed or
    /// interrupted deployment.
    Failure,
    /// 2: `plan` found changes.
    Changes,
    /// 2: `status --drift` found drift.
    Drift,
    /// 2: `audit` found unattributed or ambiguous S3 data events, or unreadable evidence.
    Findings,
}

impl ExitStatus {
    /// The process exit code.
    #[must_use]
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::Failure => 1,
            Self::Changes | Self::Drift | Self::Findings => 2,
        }
    }
}

/// What every command shares: `-q`, `-v`, and where output goes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// `-q`: only errors, refusals and warnings.
    pub quiet: bool,
    /// `-v`: every AWS request and its duration on standard error.
    pub verbose: bool,
}

impl Context {
    /// A line on standard output (a closed pipe, as in `sandboxc schema | head`, is not an
    /// error).
    pub fn say(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// A warning or note on standard error, shown with `-q` too.
    pub fn warn(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// Where and as whom to call AWS ([`args::AwsArgs::resolve`]), with `-v`.
    ///
    /// # Errors
    /// [`CliError`] when `--region` contradicts the pinned `region`.
    pub fn aws(&self, args: &args::AwsArgs, pinned_region: Option<&str>) -> Result<crate::aws::Settings, CliError> {
        Ok(crate::aws::Settings { verbose: self.verbose, ..args.resolve(pinned_region)? })
    }

    /// The process's one tokio runtime (current-thread), built when a command calls AWS.
    ///
    /// # Errors
    /// [`CliError`] when the runtime cannot start.
    pub fn runtime(&self) -> Result<tokio::runtime::Runtime, CliError> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CliError::new(format!("cannot start the async runtime: {e}")))
    }
}

/// The exit status of a command line clap could not parse: `--help` and `--version` succeed
/// (after printing), every usage error is an error (1), never 2, which means "plan has
/// changes". Prints clap's message.
#[must_use]
pub fn usage(e: &clap::Error) -> ExitStatus {
    let _ = e.print();
    if e.use_stderr() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// Runs one command; its error, if any, is printed through the error printer.
#[must_use]
pub fn run(cli: &Cli) -> ExitStatus {
    let ctx = Context { quiet: cli.quiet, verbose: cli.verbose };
    let result = match &cli.command {
        Command::Synth { blueprint, out, format } => synth(blueprint.as_ref(), out, *format, &ctx),
        Command::Validate { blueprint, format } => validate(blueprint.as_ref(), *format, &ctx),
        Command::Schema => Ok(schema(&ctx)),
        Command::Init { dir, name } => init::run(dir.as_deref(), name.as_deref(), &ctx),
        Command::Completions { shell } => Ok(completions(*shell)),
        Command::Package { out, dist } => package(out, dist.as_deref(), &ctx),
        Command::Plan(args) => fresh_checkout().and_then(|()| plan::run(args, &ctx)),
        Command::Cost(args) => cost::run(args, &ctx),
        Command::Bootstrap(args) => deploy::bootstrap(args, &ctx),
        Command::Check(args) => deploy::check(args, &ctx),
        Command::Apply(args) => fresh_checkout().and_then(|()| deploy::apply(args, &ctx)),
        Command::Status(args) => deploy::status(args, &ctx),
        Command::Destroy(args) => deploy::destroy(args, &ctx),
        Command::Connect(args) => connect::run(args, &ctx),
        Command::Audit(args) => audit::run(args, &ctx),
    };
    result.unwrap_or_else(|e| {
        e.print();
        ExitStatus::Failure
    })
}

/// `sandboxc synth`.
fn synth(
    blueprint: Option<&PathBuf>,
    out: &std::path::Path,
    format: FormatArg,
    ctx: &Context,
) -> Result<ExitStatus, CliError> {
    let format = match format {
        FormatArg::Json => Format::Json,
        FormatArg::Yaml => Format::Yaml,
    };
    fresh_checkout()?;
    let src = build::source(blueprint.map(PathBuf::as_path))?;
    let manifest = build::synth(&src, out, format)?;
    if !ctx.quiet {
        ctx.say(&format!(
            "synthesized stack {} (layout {}) into {}: {} template{}, {} scripts, manifest.json",
            manifest.stack_name,
            manifest.layout,
            out.display(),
            manifest.templates.len(),
            if manifest.templates.len() == 1 { "" } else { "s" },
            manifest.scripts.len()
        ));
    }
    // The shard count synth chose: said on stderr, so that it is written down before the first
    // deployment (a new count later moves users between shards).
    if manifest.users_shards.chosen && manifest.users_shards.users > 0 && manifest.layout == "nested" && !ctx.quiet {
        let n = manifest.users_shards.count;
        eprintln!(
            "notebook.shards is not set: synth placed the {} users in {n} users shard{} (its choice for this user count, written in manifest.json); write `shards: {n}` under `notebook:` before the first deployment, so that the count changes only when you change it (a new count moves users between shards, replacing their notebooks; sandboxc plan lists the moves)",
            manifest.users_shards.users,
            if n == 1 { "" } else { "s" }
        );
    }
    // The owners of existing buckets must act: said even with -q (on stderr, by name only).
    for o in &manifest.owner_policies {
        let (what, policy) = if o.kind == "key-policy" { ("the KMS key", "key") } else { ("the bucket", "bucket") };
        let file = out.join(&o.file);
        if ctx.quiet {
            eprintln!(
                "the owner of {what} {} must add the statements of {} to its {policy} policy",
                o.resource,
                file.display()
            );
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        ctx.say(&format!(
            "the owner of {what} {} must add these statements to its {policy} policy ({}):\n{}",
            o.resource,
            file.display(),
            text.trim_end()
        ));
    }
    Ok(ExitStatus::Success)
}

/// `sandboxc completions`: printed even with `-q` (it is the command's whole point).
fn completions(shell: CompletionShell) -> ExitStatus {
    use clap::CommandFactory;
    let shell = match shell {
        CompletionShell::Bash => clap_complete::Shell::Bash,
        CompletionShell::Zsh => clap_complete::Shell::Zsh,
        CompletionShell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "sandboxc", &mut out);
    let _ = std::io::stdout().lock().write_all(&out);
    ExitStatus::Success
}

/// `sandboxc validate`.
fn validate(blueprint: Option<&PathBuf>, format: ValidateFormat, ctx: &Context) -> Result<ExitStatus, CliError> {
    let src = build::source(blueprint.map(PathBuf::as_path));
    if format == ValidateFormat::Json {
        let report = match &src {
            Ok(src) => validate_json::report(src, build::validate(src)),
            Err(d) => validate_json::unreadable(d),
        };
        ctx.say(&report.to_json());
        return Ok(if report.valid { ExitStatus::Success } else { ExitStatus::Failure });
    }
    let src = src?;
    let (b, warnings) = build::validate(&src)?;
    if !warnings.is_empty() {
        eprintln!("{warnings}");
    }
    if !ctx.quiet {
        ctx.say(&format!("{}: valid blueprint for environment {}", src.name, b.name));
    }
    Ok(ExitStatus::Success)
}

/// `sandboxc schema`: printed even with `-q` (it is the command's whole point).
fn schema(ctx: &Context) -> ExitStatus {
    ctx.say(schema::schema_json().trim_end());
    ExitStatus::Success
}

/// `sandboxc package`; with `--dist`, also the release archive (this binary and the zips).
fn package(out: &std::path::Path, dist: Option<&std::path::Path>, ctx: &Context) -> Result<ExitStatus, CliError> {
    use crate::package;
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let Some(root) = package::find_workspace_root(&cwd) else {
        return Err(CliError::new(
            "sandboxc package builds the Lambda zips from a sandboxc checkout (Cargo.lock and lambda/): run it inside one",
        ));
    };
    if dist.is_some() {
        // The archive ships this binary: it must name the zips built here.
        fresh_checkout()?;
    }
    let report = package::package(&root, out)?;
    let built_in = crate::assets::LambdaAsset::built_in().identity;
    if report.identity != built_in {
        ctx.warn(&format!(
            "warning: these zips ({}) are not the ones this sandboxc binary's templates name ({built_in}): rebuild sandboxc from this checkout",
            report.identity
        ));
    }
    if !ctx.quiet {
        for f in &report.functions {
            ctx.say(&format!("{} ({} bytes, sha256 {})", f.zip_path.display(), f.zip_bytes, f.zip_sha256));
        }
    }
    if let Some(dist) = dist {
        let exe =
            std::env::current_exe().map_err(|e| CliError::new(format!("cannot find this sandboxc binary: {e}")))?;
        let binary = std::fs::read(&exe).map_err(|e| CliError::new(format!("cannot read {}: {e}", exe.display())))?;
        let mut zips = Vec::new();
        for f in &report.functions {
            let bytes = std::fs::read(&f.zip_path)
                .map_err(|e| CliError::new(format!("cannot read {}: {e}", f.zip_path.display())))?;
            zips.push((f.function.clone(), bytes));
        }
        let docs = ["README.md", "LICENSE"]
            .iter()
            .filter_map(|d| std::fs::read(root.join(d)).ok().map(|b| ((*d).to_string(), b)))
            .collect();
        let entries = package::dist::entries(binary, &report.identity, zips, docs);
        let path = package::dist::write(dist, env!("CARGO_PKG_VERSION"), crate::assets::TARGET, &entries)?;
        if !ctx.quiet {
            ctx.say(&format!(
                "{}: bin/sandboxc and share/sandboxc/lambda/{}/ (unpack anywhere; bin/sandboxc apply finds the zips)",
                path.display(),
                report.identity
            ));
        }
    }
    Ok(ExitStatus::Success)
}

/// Refuses to compile in a sandboxc checkout whose Lambda sources (`lambda/`, `contract/`,
/// `Cargo.lock`) are not the ones this binary was built from: its templates would name (and
/// `apply` deploy) the Lambda code of its build, not the code of the checkout. The checkout is
/// found from the current directory as `package` finds it; outside a checkout nothing is
/// checked.
///
/// # Errors
/// [`CliError`] saying to rebuild.
pub fn fresh_checkout() -> Result<(), CliError> {
    let Ok(cwd) = std::env::current_dir() else { return Ok(()) };
    let Some(root) = crate::package::find_workspace_root(&cwd) else { return Ok(()) };
    let Ok(checkout) = crate::package::checkout_identity(&root) else { return Ok(()) };
    let built_in = crate::assets::LambdaAsset::built_in().identity;
    if checkout == built_in {
        return Ok(());
    }
    Err(CliError::new(format!(
        "this sandboxc binary is stale: the Lambda sources of the checkout {} (lambda/, contract/, Cargo.lock) have the asset identity {checkout}, but the binary was built with {built_in}, so its templates would deploy other Lambda code than the checkout's",
        root.display()
    ))
    .with_cause("rebuild it from this checkout (`cargo build --release`, or `cargo install --path .`), or run it outside the checkout"))
}
