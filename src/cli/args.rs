//! The arguments of each command, and the AWS options they share ([`AwsArgs`]).

use std::path::PathBuf;
use std::time::Duration;

use super::error::CliError;
use crate::aws::{Settings, Timeouts};

/// The AWS options of every command that calls AWS, resolved once ([`AwsArgs::resolve`])
/// against the blueprint's pinned `region` (and, after `sts:GetCallerIdentity`, `account`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "AWS options")]
pub struct AwsArgs {
    /// AWS profile of the shared config and credentials files (else the standard chain:
    /// environment, AWS_PROFILE, SSO, instance and container roles).
    #[arg(long, value_name = "NAME", value_parser = |v: &str| named(v, "a profile name of the AWS config files"))]
    pub profile: Option<String>,
    /// AWS Region (else the blueprint's `region`, else the AWS configuration's). Refused when
    /// it contradicts the blueprint's `region`.
    #[arg(long, value_name = "NAME", value_parser = |v: &str| named(v, "an AWS Region code such as eu-west-1"))]
    pub region: Option<String>,
    /// Seconds to wait for a connection to an AWS endpoint (TCP and TLS).
    #[arg(long, value_name = "SECONDS", default_value_t = Timeouts::DEFAULT_CONNECT_SECONDS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,
    /// Seconds one AWS call may take, retries included (each attempt gets half): an endpoint
    /// that accepts the connection and never answers fails the command after this long, with
    /// a message naming the endpoint and the call.
    #[arg(long, value_name = "SECONDS", default_value_t = Timeouts::DEFAULT_CALL_SECONDS,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub call_timeout: u64,
}

impl Default for AwsArgs {
    fn default() -> Self {
        Self {
            profile: None,
            region: None,
            connect_timeout: Timeouts::DEFAULT_CONNECT_SECONDS,
            call_timeout: Timeouts::DEFAULT_CALL_SECONDS,
        }
    }
}

impl AwsArgs {
    /// Where and as whom to call AWS: `--profile`, `--region` or the blueprint's pinned
    /// `region`, the timeouts. No AWS call is made.
    ///
    /// # Errors
    /// [`CliError`] when `--region` contradicts the pinned `region`.
    pub fn resolve(&self, pinned_region: Option<&str>) -> Result<Settings, CliError> {
        if let Some(flag) = &self.region {
            known_region("--region", flag)?;
        }
        if let (Some(flag), Some(pinned)) = (&self.region, pinned_region) {
            if flag != pinned {
                return Err(CliError::new(format!(
                    "--region {flag} contradicts the blueprint's `region: {pinned}`: the sandbox belongs in {pinned}; drop --region, or change `region` in the blueprint"
                )));
            }
        }
        Ok(Settings {
            profile: self.profile.clone(),
            region: self.region.clone().or_else(|| pinned_region.map(str::to_string)),
            timeouts: Timeouts {
                connect: Duration::from_secs(self.connect_timeout),
                call: Duration::from_secs(self.call_timeout),
            },
            verbose: false,
        })
    }

    /// Whether `--profile` or `--region` was given.
    #[must_use]
    pub fn given(&self) -> Option<&'static str> {
        if self.profile.is_some() {
            Some("--profile")
        } else if self.region.is_some() {
            Some("--region")
        } else {
            None
        }
    }
}

/// Refuses a Region name that is not in sandboxc's list of AWS Regions, as the blueprint's
/// `region` is refused, with a "did you mean"; `from` names where it came from (`--region`,
/// `AWS_REGION`).
///
/// # Errors
/// [`CliError`] naming the value, where it came from and what is allowed.
pub fn known_region(from: &str, region: &str) -> Result<(), CliError> {
    match crate::blueprint::known::REGIONS.check(region, "eu-west-1") {
        None => Ok(()),
        Some(u) => Err(CliError::new(format!("{from}: {} (allowed: {})", u.message, u.allowed))),
    }
}

/// Refuses credentials of another account than the blueprint's pinned `account`.
///
/// # Errors
/// [`CliError`] naming both accounts.
pub fn check_account(pinned: Option<&str>, actual: &str) -> Result<(), CliError> {
    match pinned {
        Some(pinned) if pinned != actual => Err(CliError::new(format!(
            "the blueprint pins account {pinned} (`account`), but the credentials in use belong to account {actual}: choose the right profile (--profile) or change `account`"
        ))),
        _ => Ok(()),
    }
}

/// Template format of `synth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// JSON, keys sorted.
    Json,
    /// YAML with long-form intrinsic functions.
    Yaml,
}

/// Output format of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ValidateFormat {
    /// `FILE:LINE:COLUMN: error: PATH: MESSAGE (allowed: ...)` lines (errors and warnings on
    /// stderr), and `valid blueprint ...` on stdout.
    #[default]
    Text,
    /// One JSON object on stdout, for editors and CI annotations: `{"file", "valid",
    /// "environment", "errors": [...], "warnings": [...]}`, each item `{"path", "line",
    /// "column", "message", "allowed"}` (line and column from 1, null when the value is a
    /// default the file does not hold). The exit code is the same as in text mode.
    Json,
}

/// Output format of `plan`.
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
    /// Blueprint file (YAML); default: ./sandbox.yaml if present, else the embedded
    /// data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Compare with a previous synth output directory (manifest.json and templates); offline.
    #[arg(long, value_name = "DIR")]
    pub against: Option<PathBuf>,
    /// Compare with the blueprint file as it was at git revision REF (git show REF:path),
    /// compiled in memory; offline. Without BLUEPRINT and ./sandbox.yaml:
    /// blueprints/data-sandbox.yaml of the current directory's repository (a clone of
    /// sandboxc) against the embedded default.
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
    /// Deployed mode: the assets bucket holding the nested templates (the AssetsBucket
    /// parameter); default: the deployed stack's AssetsBucket parameter.
    #[arg(long, value_name = "BUCKET")]
    pub assets_bucket: Option<String>,
    /// Deployed mode: keep the change set (for apply) and print its ARN instead of deleting it.
    #[arg(long)]
    pub keep_change_set: bool,
    /// Deployed mode (without --against*): where and as whom to read the stack.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// The monthly cost section: assumptions and prices (the Region: the blueprint's
    /// `region`, else --region).
    #[command(flatten)]
    pub cost: CostOptions,
}

/// The stated assumptions and the prices of a cost estimate (`sandboxc cost`, and the cost
/// section of `sandboxc plan`). Each default is printed with the estimate.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Cost options")]
pub struct CostOptions {
    /// Directory of AWS Price List offer files (as downloaded from
    /// https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offerCode>/current/index.json):
    /// DIR/<offerCode>.json, DIR/<offerCode>/index.json or DIR/<offerCode>/<region>/index.json,
    /// for AmazonAppStream, AmazonSageMaker, AmazonVPC, awskms, AWSCloudTrail and AmazonS3.
    /// Default: the dated snapshot shipped with sandboxc (prices/snapshot), which leaves out
    /// every price that could not be read from AWS's pricing pages.
    #[arg(long, value_name = "DIR")]
    pub prices: Option<PathBuf>,
    /// Hours in a month.
    #[arg(long, value_name = "HOURS", default_value_t = crate::cost::HOURS_PER_MONTH, allow_negative_numbers = true)]
    pub hours_per_month: f64,
    /// Streaming hours per ON_DEMAND fleet instance (the rest of the month it is stopped), or
    /// per ELASTIC session, in a month.
    #[arg(long, value_name = "HOURS", default_value_t = 176.0, allow_negative_numbers = true)]
    pub appstream_hours: f64,
    /// Running hours per notebook instance in a month, for notebooks without idle stop
    /// (`notebook.idle_stop: 0`; default: the whole month, --hours-per-month; notebooks run
    /// until stopped).
    #[arg(long, value_name = "HOURS", default_value_t = crate::cost::HOURS_PER_MONTH, allow_negative_numbers = true)]
    pub notebook_hours: f64,
    /// Hours each user works in their notebook in a month, for notebooks with idle stop: each
    /// runs these hours plus one idle time (`notebook.idle_stop`) per 8 of them, at most the
    /// month.
    #[arg(long, value_name = "HOURS", default_value_t = 176.0, allow_negative_numbers = true)]
    pub notebook_active_hours: f64,
    /// CloudTrail data events per trail that records them, in a month.
    #[arg(long, value_name = "EVENTS", default_value_t = 1_000_000.0, allow_negative_numbers = true)]
    pub trail_data_events: f64,
    /// GB stored in S3 Standard across the sandbox's buckets.
    #[arg(long, value_name = "GB", default_value_t = 100.0, allow_negative_numbers = true)]
    pub s3_gb: f64,
}

impl Default for CostOptions {
    fn default() -> Self {
        let a = crate::cost::Assumptions::default();
        Self {
            prices: None,
            hours_per_month: a.hours_per_month,
            appstream_hours: a.appstream_hours,
            notebook_hours: a.notebook_hours,
            notebook_active_hours: a.notebook_active_hours,
            trail_data_events: a.trail_data_events,
            s3_gb: a.s3_gb,
        }
    }
}

impl CostOptions {
    /// The assumptions, checked.
    ///
    /// # Errors
    /// [`CliError`] for a negative or non-finite value, or more hours than a month has.
    pub fn assumptions(&self) -> Result<crate::cost::Assumptions, CliError> {
        // The default notebook hours are the whole month, whatever --hours-per-month says.
        let whole_month = self.notebook_hours.to_bits() == crate::cost::HOURS_PER_MONTH.to_bits();
        let a = crate::cost::Assumptions {
            hours_per_month: self.hours_per_month,
            appstream_hours: self.appstream_hours,
            notebook_hours: if whole_month { self.hours_per_month } else { self.notebook_hours },
            notebook_active_hours: self.notebook_active_hours,
            trail_data_events: self.trail_data_events,
            s3_gb: self.s3_gb,
        };
        for (flag, v) in [
            ("--hours-per-month", a.hours_per_month),
            ("--appstream-hours", a.appstream_hours),
            ("--notebook-hours", a.notebook_hours),
            ("--notebook-active-hours", a.notebook_active_hours),
            ("--trail-data-events", a.trail_data_events),
            ("--s3-gb", a.s3_gb),
        ] {
            if !v.is_finite() || v < 0.0 {
                return Err(CliError::new(format!("{flag} {}: give a number of 0 or more", number(v))));
            }
        }
        if !(MIN_HOURS_PER_MONTH..=MAX_HOURS_PER_MONTH).contains(&a.hours_per_month) {
            return Err(CliError::new(format!(
                "--hours-per-month {}: a month has {MIN_HOURS_PER_MONTH} (28 days) to {MAX_HOURS_PER_MONTH} hours (31 days)",
                number(a.hours_per_month)
            )));
        }
        for (flag, v) in [
            ("--appstream-hours", a.appstream_hours),
            ("--notebook-hours", a.notebook_hours),
            ("--notebook-active-hours", a.notebook_active_hours),
        ] {
            if v > a.hours_per_month {
                return Err(CliError::new(format!(
                    "{flag} {}: more than the month's {} hours (--hours-per-month)",
                    number(v),
                    number(a.hours_per_month)
                )));
            }
        }
        Ok(a)
    }
}

/// Fewest hours `--hours-per-month` accepts: 28 days.
pub const MIN_HOURS_PER_MONTH: f64 = 672.0;
/// Most hours `--hours-per-month` accepts: 31 days.
pub const MAX_HOURS_PER_MONTH: f64 = 744.0;

/// A number of a flag as people read it: as given up to a billion, else in scientific notation
/// (`1e308`, not 309 digits).
/// An S3 bucket named on the command line: the name, its ARN (`arn:<partition>:s3:::NAME`, as
/// the blueprint's `bucket_arn` and CloudTrail's `resources[]` write it) or `s3://NAME`, as the
/// bucket name.
///
/// # Errors
/// A message saying what is wrong with the name (S3's bucket naming rules, "General purpose
/// bucket naming rules") or that an object key or ARN of another service was given.
/// What `--stack` allows.
const STACK_ALLOWED: &str = "the root CloudFormation stack's name, the blueprint's name";
/// What `--admin-principal` allows.
const ADMIN_ALLOWED: &str = "an IAM role ARN, arn:aws:iam::<account>:role/<path/><name>";
/// What `--notebook-role` allows.
const NOTEBOOK_ROLE_ALLOWED: &str =
    "a user's notebook role ARN, arn:aws:iam::<account>:role/sandboxc/<env>/users/<user hash>/<name>";
/// What `--user` allows.
const USER_ALLOWED: &str = "a usage report's user_id, e.g. alice@example.org";
/// What `--event` allows.
const EVENT_ALLOWED: &str = "CloudTrail event names such as GetObject, repeated or comma-separated without empty items";
/// What `--log-group` allows.
const LOG_GROUP_ALLOWED: &str = "a CloudWatch Logs group name, e.g. /sandboxc/<name>/<id>/lambda/validator";

/// A value of an audit flag that names something (a stack, a role, a user, an event name, a
/// log group): as given, unless it is empty or only white space (it would name nothing, and a
/// filter on it would match nothing).
///
/// # Errors
/// A message saying the value is empty and what `allowed` names.
fn named(value: &str, allowed: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Err(format!("{value:?} is {} (allowed: {allowed})", empty_or_blank(value)))
    } else {
        Ok(value.to_string())
    }
}

/// What `--since` and `--until` take.
const TIME_ALLOWED: &str = "RFC 3339 such as 2026-11-28T08:00:00Z, or a UTC date such as 2026-11-28";

/// `empty` for "", `blank` for a value of white space only.
fn empty_or_blank(value: &str) -> &'static str {
    if value.is_empty() {
        "empty"
    } else {
        "blank"
    }
}

/// `--vpc-endpoint`: a VPC endpoint ID, `vpce-` and 8 or 17 lowercase hex digits.
fn vpc_endpoint_id(value: &str) -> Result<String, String> {
    if crate::audit::is_vpc_endpoint_id(value) {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not a VPC endpoint ID (allowed: vpce- and 8 or 17 lowercase hex digits, e.g. vpce-0a1b2c3d4e5f60718, the stack output S3EndpointId)"
        ))
    }
}

fn bucket_name(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(format!(
            "{value:?} is {} (allowed: a bucket name, arn:aws:s3:::NAME or s3://NAME)",
            empty_or_blank(value)
        ));
    }
    let arn = value.strip_prefix("arn:").and_then(|rest| {
        let (partition, rest) = rest.split_once(':')?;
        (!partition.is_empty()).then_some(())?;
        rest.strip_prefix("s3:::")
    });
    if value.starts_with("arn:") && arn.is_none() {
        return Err(format!(
            "{value:?} is not an S3 bucket ARN (allowed: a bucket name, arn:aws:s3:::NAME or s3://NAME)"
        ));
    }
    let lower = value.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Err(format!(
            "{value:?} is a URL, not a bucket (allowed: a bucket name, arn:aws:s3:::NAME or s3://NAME)"
        ));
    }
    let url = lower.starts_with("s3://").then(|| &value["s3://".len()..]);
    let name = arn.or_else(|| url.map(|n| n.strip_suffix('/').unwrap_or(n))).unwrap_or(value);
    if name.contains('/') {
        return Err(format!("{value:?} names an object or prefix, not a bucket (allowed: a bucket name, arn:aws:s3:::NAME or s3://NAME)"));
    }
    // Any bucket a trail may log: S3's general naming rules ("General purpose bucket naming
    // rules"), dotted and directory buckets included (the blueprint's stricter rules are for the
    // buckets sandboxc creates).
    let problem = if !(3..=63).contains(&name.len()) {
        Some("is not 3 to 63 characters long")
    } else if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
        Some("may only contain lowercase letters, digits, '.' and '-'")
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric())
        || !name.ends_with(|c: char| c.is_ascii_alphanumeric())
    {
        Some("must start and end with a letter or digit")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(format!(
            "{value:?} is not an S3 bucket: the name {name:?} {problem} (allowed: a bucket name, arn:aws:s3:::NAME or s3://NAME)"
        )),
        None => Ok(name.to_string()),
    }
}

fn number(v: f64) -> String {
    if v.abs() < 1e9 {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Output format of `sandboxc cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CostFormat {
    /// For a terminal: one row per meter with quantity, unit price, SKU and monthly cost.
    #[default]
    Table,
    /// For a pull-request comment or a report.
    Markdown,
    /// For machines: `schema_version` 1 (docs/cost-json.md).
    Json,
}

/// Arguments of `sandboxc cost`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CostArgs {
    /// Blueprint file (YAML); default: ./sandbox.yaml if present, else the embedded
    /// data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// The Region whose prices apply (else the blueprint's `region`, else AWS_REGION or
    /// AWS_DEFAULT_REGION); refused when it contradicts the blueprint's `region`. Without any,
    /// no line has a price.
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CostFormat::Table)]
    pub format: CostFormat,
    /// Assumptions and prices.
    #[command(flatten)]
    pub cost: CostOptions,
}

/// Arguments of `sandboxc apply`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ApplyArgs {
    /// Blueprint file (YAML); default: ./sandbox.yaml if present, else the embedded
    /// data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Apply without asking (for CI); data-loss changes still need --allow-data-loss.
    #[arg(long)]
    pub yes: bool,
    /// Allow changes that replace or remove resources holding data (buckets, KMS keys, the
    /// notebook, log groups, the trail); the stack policy is lifted for this one update.
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Delete and create again a stack that cannot be updated (ROLLBACK_COMPLETE after a
    /// failed first creation, or REVIEW_IN_PROGRESS without resources).
    #[arg(long)]
    pub recreate: bool,
    /// After a successful apply (also "no changes"), write the stack outputs to FILE as JSON
    /// (`{"schema_version": 1, "stack", "region", "account", "outputs": {KEY: VALUE}}`),
    /// atomically.
    #[arg(long, value_name = "FILE")]
    pub outputs_file: Option<PathBuf>,
    /// Assets bucket for nested templates and Lambda zips; default: the bucket of the
    /// sandboxc-assets stack (`sandboxc bootstrap`).
    #[arg(long, value_name = "BUCKET")]
    pub assets_bucket: Option<String>,
    /// Directory of the Lambda zips (`sandboxc package -o DIR`): DIR/<identity>/<function>.zip.
    /// Default: dist/lambda, then beside the installed binary (<exe dir>/../share/sandboxc/lambda,
    /// <exe dir>/lambda). Zips already in the assets bucket are not needed; missing ones are
    /// built with `sandboxc package` when run inside a sandboxc checkout.
    #[arg(long, value_name = "DIR")]
    pub lambda_dir: Option<PathBuf>,
    /// Where and as whom to deploy.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Arguments of `sandboxc check`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckArgs {
    /// Blueprint file (YAML); default: ./sandbox.yaml if present, else the embedded
    /// data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Where and as whom to check.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Arguments of `sandboxc bootstrap`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BootstrapArgs {
    /// Deploy without asking.
    #[arg(long)]
    pub yes: bool,
    /// Delete and create again an assets stack whose first creation failed (ROLLBACK_COMPLETE).
    #[arg(long)]
    pub recreate: bool,
    /// Print the assets stack's template (JSON) and exit; no AWS call.
    #[arg(long)]
    pub print_template: bool,
    /// Where and as whom to deploy.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Arguments of `sandboxc status`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StatusArgs {
    /// Blueprint file (YAML) naming the stack; default: ./sandbox.yaml if present, else the
    /// embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Also detect drift (changes made outside CloudFormation) on the root and nested stacks;
    /// exit code 2 when a resource drifted.
    #[arg(long)]
    pub drift: bool,
    /// Output format: text, or json (the versioned shape of docs/status-json.md).
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    pub format: StatusFormat,
    /// Where and as whom to read the stack.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Output format of `sandboxc status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum StatusFormat {
    /// For people: status, events, outputs, drift.
    #[default]
    Text,
    /// For machines: one JSON document, `schema_version` 1 (docs/status-json.md).
    Json,
}

/// Arguments of `sandboxc destroy`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DestroyArgs {
    /// Blueprint file (YAML) naming the stack; default: ./sandbox.yaml if present, else the
    /// embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Delete without asking.
    #[arg(long)]
    pub yes: bool,
    /// Where and as whom to delete the stack.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Arguments of `sandboxc connect`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(after_help = CONNECT_AFTER_HELP)]
pub struct ConnectArgs {
    /// Blueprint file (YAML) of the deployed sandbox; default: the embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// The AppStream user ID the session is for: 2 to 32 characters of letters, digits and
    /// _ + = , . @ - (the API's rule). With `notebook.mode: per_user`, a user of the blueprint's
    /// `users` with `authentication: api`.
    #[arg(long, value_name = "ID")]
    pub user: String,
    /// How long the URL can start a session: 1s to 7d, written like the blueprint's durations
    /// (90s, 10m, 4h, 2d).
    #[arg(long, value_name = "DURATION", default_value = crate::deploy::connect::DEFAULT_VALIDITY)]
    pub validity: String,
    /// The application to launch: its Name in the image's application catalog (Image
    /// Assistant), or Desktop for a fleet with the desktop stream view. Default: the catalog.
    #[arg(long, value_name = "ID")]
    pub application: Option<String>,
    /// Open the URL in the default browser instead of printing it.
    #[arg(long)]
    pub open: bool,
    /// Where and as whom to call AppStream.
    #[command(flatten)]
    pub aws: AwsArgs,
}

const CONNECT_AFTER_HELP: &str = "\
Examples:
  sandboxc connect team.yaml --user alice@example.org
                              print a URL valid for 10 minutes (standard output only)
  sandboxc connect team.yaml --user alice@example.org --validity 1h --open
                              open a session in the browser
  sandboxc connect team.yaml --user bob --application Desktop
                              start on the desktop of a DESKTOP stream-view fleet
  url=$(sandboxc -q connect team.yaml --user alice@example.org)

The stack and fleet are the ones the blueprint names (<name>-stack, <name>-<fleet type>);
the credentials need appstream:CreateStreamingURL on both. Whoever holds the URL can start a
session as the user until it expires: it is printed on standard output only (never with -v,
never in an error), everything else goes to standard error. The user's home folder is
user/custom/<sha256 of the ID>/ (streaming-URL users); the notebook script in the session asks
the validator for their notebook as usual.

Exit codes: 0 URL printed (or opened), 1 refused (user, validity) or AWS refused it.";

/// Output format of `sandboxc audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuditFormatArg {
    /// For a terminal: summary per user, each user's timeline, then the findings.
    #[default]
    Table,
    /// One row per S3 data event and validator decision (header row first).
    Csv,
    /// The whole report, versioned by `schema_version`.
    Json,
}

/// Where `sandboxc audit` joins the evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuditEngine {
    /// On this machine, from directories or (--from-aws) the buckets.
    #[default]
    Local,
    /// In Athena: one generated SQL query over the sandbox's Glue tables (blueprint
    /// `audit.athena`, deployed), in its workgroup; decisions from a second query over the
    /// exported decisions (`audit.athena.export_decisions`, the default), else from the
    /// validator's log group.
    Athena,
}

/// Arguments of `sandboxc audit`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(after_long_help = AUDIT_AFTER_LONG_HELP)]
pub struct AuditArgs {
    /// The blueprint of the audited sandbox: its `name` is the environment whose users'
    /// notebook roles (/sandboxc/<name>/users/<user hash>/) name the person behind a notebook's
    /// reads. With --from-aws its deployed CloudFormation stack also names the buckets (its
    /// `region` and `account` are checked); default there: ./sandbox.yaml if present, else the
    /// embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Usage-report directory, laid out as the usage-report bucket
    /// (sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/*.csv); read recursively.
    #[arg(long, value_name = "DIR", conflicts_with = "from_aws")]
    pub usage_reports: Option<PathBuf>,
    /// CloudTrail directory, laid out as the trail bucket
    /// (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz; gzip or plain JSON);
    /// read recursively, digest files skipped.
    #[arg(long, value_name = "DIR", conflicts_with = "from_aws")]
    pub cloudtrail: Option<PathBuf>,
    /// Validator decision log: a file or a directory of files of JSON lines (repeatable; see
    /// below for the two accepted line shapes). Also with --from-aws and --engine athena
    /// (then neither the log group nor the exported decisions are read).
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub decisions: Vec<PathBuf>,
    /// Read the usage-report and trail buckets in S3 instead of directories, listing only
    /// the days of --since..--until (default: the last 7 days).
    #[arg(long)]
    pub from_aws: bool,
    /// The environment (the root CloudFormation stack's name, the blueprint's `name`) whose
    /// users' notebook roles are attributed; with --from-aws also the stack whose outputs
    /// UsageReportBucket, TrailBucketName and DataBucketName name the buckets. Default: the
    /// blueprint's name.
    #[arg(long, value_name = "NAME", value_parser = |v: &str| named(v, STACK_ALLOWED))]
    pub stack: Option<String>,
    /// An IAM role ARN (arn:aws:iam::<account>:role/<path/><name>) whose S3 data events are
    /// administrative access: listed apart, never findings (repeatable), besides the
    /// blueprint's storage.admin_principals (read whenever a blueprint is given).
    #[arg(long, value_name = "ROLE_ARN", value_parser = |v: &str| named(v, ADMIN_ALLOWED))]
    pub admin_principal: Vec<String>,
    /// The sandbox's S3 gateway endpoint ID (vpce- and 8 or 17 lowercase hex digits; the stack
    /// output S3EndpointId; repeatable). An S3 data event whose vpcEndpointId is another
    /// endpoint is never attributed by address (reason other_vpc_endpoint). Default: with
    /// --from-aws or --engine athena the stack output; else none (addresses are then not
    /// checked against the endpoint, as a note of the report says).
    #[arg(long, value_name = "VPCE_ID", value_parser = vpc_endpoint_id)]
    pub vpc_endpoint: Vec<String>,
    /// A user's notebook role ARN (arn:aws:iam::<account>:role/sandboxc/<env>/users/<user
    /// hash>/<name>; repeatable): only these role names are the users' notebooks; a role on a
    /// user's path with another name is unattributed (reason not_notebook_role). Default: with
    /// --from-aws or --engine athena the users' roles of the deployed stack; else none (the
    /// path alone names the user, as a note of the report says).
    #[arg(long, value_name = "ROLE_ARN", value_parser = |v: &str| named(v, NOTEBOOK_ROLE_ALLOWED))]
    pub notebook_role: Vec<String>,
    /// With --from-aws: the usage-report bucket (instead of the stack output); a bucket name, its ARN or s3://NAME.
    #[arg(long, value_name = "BUCKET", value_parser = bucket_name)]
    pub usage_bucket: Option<String>,
    /// With --from-aws: the CloudTrail bucket (instead of the stack output); a bucket name, its ARN or s3://NAME.
    #[arg(long, value_name = "BUCKET", value_parser = bucket_name)]
    pub trail_bucket: Option<String>,
    /// Only events at or after this time: RFC 3339 (2026-11-28T08:00:00Z; a time without an
    /// offset is UTC) or a UTC date.
    #[arg(long, value_name = "TIME", value_parser = |v: &str| named(v, TIME_ALLOWED))]
    pub since: Option<String>,
    /// Only events at or before this time: RFC 3339, or a UTC date (the whole day). With
    /// --from-aws or --engine athena a run reads at most 366 days (--since..--until), and with
    /// --engine athena the window must lie within 2020-01-01..2099-12-31 (the years the tables'
    /// partition projection holds).
    #[arg(long, value_name = "TIME", value_parser = |v: &str| named(v, TIME_ALLOWED))]
    pub until: Option<String>,
    /// Only this user's sessions, events and decisions (the usage report's user_id;
    /// repeatable). Unattributed events are listed still: they may be anyone's.
    #[arg(long, value_name = "USER_ID", value_parser = |v: &str| named(v, USER_ALLOWED))]
    pub user: Vec<String>,
    /// Only S3 data events in this bucket (repeatable). Default: with --from-aws the stack's
    /// DataBucketName; with directories every bucket the trail logs. A bucket name, its ARN
    /// (arn:aws:s3:::NAME) or s3://NAME.
    #[arg(long, value_name = "BUCKET", value_parser = bucket_name)]
    pub bucket: Vec<String>,
    /// Only these CloudTrail event names, e.g. GetObject,PutObject (repeatable or
    /// comma-separated; case-insensitive). Every flag naming something (--stack,
    /// --admin-principal, --notebook-role, --vpc-endpoint, --bucket, --user, --event,
    /// --log-group) refuses an empty value.
    #[arg(long, value_name = "NAME", value_delimiter = ',', value_parser = |v: &str| named(v, EVENT_ALLOWED))]
    pub event: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormatArg::Table)]
    pub format: AuditFormatArg,
    /// With --from-aws or --engine athena, without --decisions: the validator's CloudWatch Logs
    /// group (repeatable); default: with --from-aws, and with --engine athena when the blueprint
    /// does not export the decisions, every group /sandboxc/<stack>/.../lambda/validator. Its
    /// events are read with FilterLogEvents over the window; with --engine athena it replaces the
    /// exported decisions' query (e.g. for decisions logged before the export was deployed).
    #[arg(long, value_name = "NAME", value_parser = |v: &str| named(v, LOG_GROUP_ALLOWED))]
    pub log_group: Vec<String>,
    /// Threads decompressing and parsing CloudTrail files (default: every core); the report
    /// is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Where the join runs: `local` (this machine) or `athena` (one SQL query in the sandbox's
    /// Athena workgroup over its Glue tables, and a second over the exported decisions when the
    /// blueprint exports them; needs `audit.athena` deployed; reads AWS like --from-aws, default
    /// window the last 7 days).
    #[arg(long, value_enum, default_value_t = AuditEngine::Local)]
    pub engine: AuditEngine,
    /// With --engine athena: print the generated SQL on standard output instead of running it
    /// (both queries, each after a `--` comment naming it, when the decisions come from the
    /// exported table).
    #[arg(long)]
    pub print_sql: bool,
    /// With --engine athena: directory of AWS Price List offer files (as downloaded from
    /// https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offerCode>/current/index.json)
    /// holding AmazonAthena's: DIR/AmazonAthena.json, DIR/AmazonAthena/index.json or
    /// DIR/AmazonAthena/<region>/index.json; read before the query starts, in the Region the
    /// query runs in. The query's cost is its bytes scanned / 2^40 (a TB of the offer's unit
    /// Terabytes taken as 2^40 bytes) x the price per TB; no per-query minimum is applied.
    /// Default: the dated snapshot shipped with sandboxc (prices/snapshot), which has no Athena
    /// price: the cost is then printed as unknown.
    #[arg(long, value_name = "DIR")]
    pub prices: Option<PathBuf>,
    /// With --from-aws or --engine athena: where and as whom to read AWS.
    #[command(flatten)]
    pub aws: AwsArgs,
}

const AUDIT_AFTER_LONG_HELP: &str = "\
Attribution: an S3 data event whose calling role (userIdentity.sessionContext.sessionIssuer.arn)
is a user's notebook role, /sandboxc/<environment>/users/<sha256 of the user ID>/ in the
trail's own account, belongs to that user (session kind notebook; the environment is the
blueprint's name or --stack; the user ID comes from the blueprint, the usage reports or --user,
else the hash is shown). An event of an --admin-principal role is administrative access, listed
apart and never a finding. When the users' notebook role names are known (--notebook-role; with
--from-aws or --engine athena the deployed stack's roles), a role on a user's path with another
name is unattributed with the reason not_notebook_role (anyone allowed iam:CreateRole can create a
role on that path); else the path alone names the user, and a note of the report says so.
When the sandbox's S3 gateway endpoint is known (--vpc-endpoint; with --from-aws or --engine
athena the stack output S3EndpointId), an event whose vpcEndpointId is another endpoint (another
network, whose private addresses may overlap the sandbox's) is never attributed by address: it is
unattributed with the reason other_vpc_endpoint; an event without vpcEndpointId (S3's public
endpoint) is attributed by address as before (a note counts them). Without a known endpoint a
note of the report says that addresses are not checked against it.
Any other S3 data event belongs to the session whose
eni_private_ip_address equals the event's sourceIPAddress, whose aws_account_id is the event's recipientAccountId, and whose
start..end (inclusive, UTC) holds its eventTime. An open session (empty session_end_time) ends
at most at start + max_session_duration, else + session_duration_in_seconds (when not 0), else
+ 5 days (AppStream's largest maximum); its events are provisional (marked in every format; audit
again when the next daily report is out; the exit code is not changed by them). Two such
sessions: ambiguous (all candidates listed, none chosen). None: unattributed (reason no_session),
an audit finding. Every format gives an unattributed event's reason (no_session,
other_vpc_endpoint, not_notebook_role: the table's REASON column, the CSV's reason column, the
JSON's reason field) and every event's vpcEndpointId (CSV and JSON vpc_endpoint).
Events of other accounts are listed as \"other account\", not attributed. A session in two daily
reports counts once when user, address and start agree (a closed version wins over an open
one); when they contradict each other, every event it would claim is ambiguous.

Summary classes: read = GetObject, SelectObjectContent, GetObjectTorrent; written = PutObject,
PostObject, CopyObject, CompleteMultipartUpload; deleted = DeleteObject(s); counted as distinct
objects (bucket and key). Other S3 data events (HeadObject, ListObjects, UploadPart...) count as
other; any event with an errorCode (AccessDenied...) counts as denied instead.

Validator decisions, one JSON object per line, either the Lambda's own line
  {\"outcome\":\"rejected\",\"reason\":\"session_not_active\",\"user_hash\":\"<sha256 hex>\",\"session_id\":\"...\",...}
or a CloudWatch Logs event as `aws logs filter-log-events` returns it per event (its time is
used): {\"timestamp\":1796340660000,\"message\":\"<the line above>\",...}, e.g.
  aws logs filter-log-events --log-group-name /aws/lambda/<validator> --output json \\
    | jq -c '.events[]' > decisions.jsonl
Each line is judged on its own. A file holding the whole `aws logs filter-log-events` JSON
document is read as its events[].
A decision joins the session with its session_id whose user_id hashes (sha256) to its
user_hash; else the user with that hash; else it is listed as matching no session. An issued
decision names the notebook its URL was for.

--from-aws lists sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/ from the day before --since
to the day after --until (a day's report arrives within 24 hours), and
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ for every account and Region in the trail
bucket; each object is read whole into memory, one at a time. Needs s3:ListBucket and
s3:GetObject on both buckets (and kms:Decrypt for the trail's key) and
cloudformation:DescribeStacks unless both buckets, --bucket and --vpc-endpoint are given, and
cloudformation:ListStackResources on the stack and its users nested stacks (the users' notebook
role names, with the blueprint) unless --notebook-role is given.

Malformed lines, records and files are listed with their location (path relative to the
directory given, line or record number) and skipped; they never end the run, but the evidence
is then incomplete. Symbolic links to directories are listed, not followed. A --bucket, --event
or --user value found nowhere in the inputs gets a warning; --bucket takes a bucket name, its ARN or s3://NAME.
The table escapes control characters (\\n, \\x1b); CSV cells starting with = + - @ get a '.

--engine athena runs the same join as one SQL query (two when the decisions are exported, below)
in the sandbox's Athena workgroup
(blueprint audit.athena: a Glue database sandboxc_<name> with the tables cloudtrail and sessions
over the trail and usage-report buckets, partition projection only, and the workgroup
sandboxc-<name>-audit with a per-query bytes-scanned limit). The query reads only the partitions
of the window (trail days --since..the day after --until, usage reports from 5 days before), and
the report is the one the local engine prints, in every format; the query ID, bytes scanned and
cost are printed on standard error (the cost from --prices DIR with the AmazonAthena offer file;
the shipped snapshot has no Athena price).
Decisions: when the blueprint exports them (audit.athena.export_decisions, the default: a
subscription filter on the validator's log group sends its events through Kinesis Data Firehose
to a retained bucket, the Glue table validator_decisions), a second query in the same workgroup
reads the log events of the window, --since <= time <= --until (the table's day folders from the
day before --since to the day after --until: a folder is the UTC day its object's oldest record
reached Firehose), each event once even when Firehose delivered it twice, and they are read
exactly as FilterLogEvents' events are; each query's ID, bytes scanned and cost are printed, then
the total of the two. Only records whose owner is the audited account and whose log group is
/sandboxc/<stack>/<id>/lambda/validator are read: records of any other log group or account in
the table are listed as problems (\"not the sandbox's validator: ignored\"), never read as
decisions. Copies of one event (log group and event ID) that differ in time or message are a
problem naming the event and its objects, and none of them is read (which is genuine cannot be
told). Firehose's own writes to the decisions bucket are not audit findings: the audit reads the
data bucket's S3 data events (the stack output DataBucketName, or --bucket). --log-group NAME reads the group with FilterLogEvents instead, and --decisions
FILE reads files; with export_decisions: false the group is read as with --from-aws. Decisions
logged before the export was deployed are only in the log group (while its retention,
audit.log_retention_days, keeps them): pass --log-group to audit them. Examples:
  sandboxc audit --engine athena --since 2026-11-28 --until 2026-11-28
  sandboxc audit --engine athena --since 2026-11-01 --user alice@example.org --format csv
  sandboxc audit --engine athena --since 2026-11-28 --print-sql > audit.sql
  sandboxc audit --engine athena --since 2026-11-28 --log-group /sandboxc/<name>/<id>/lambda/validator
  sandboxc audit --engine athena --since 2026-11-28 --prices ./offers   # ./offers/AmazonAthena.json
The caller needs athena:StartQueryExecution, GetQueryExecution, GetQueryResults and
GetWorkGroup on the workgroup, glue:GetDatabase, GetTable and GetPartitions on the database and
its tables, s3:GetObject and s3:ListBucket on both buckets (and on the decisions bucket when
the decisions are exported; else logs:DescribeLogGroups and FilterLogEvents on the validator's
group), s3:PutObject, GetObject and GetBucketLocation on the results bucket, kms:Decrypt and
GenerateDataKey on the audit key (README, \"Audit on Athena\").

Exit codes: 0 every S3 data event is attributed to a session or a user's notebook (provisional
ones included; administrative access does not count against it) and every input was read; 2 unattributed or ambiguous events exist, or the evidence is incomplete (a file, line or
record could not be read, or no CloudTrail file was read at all: with --engine athena, the query
returned no S3 data event of the trail in the window, or records of the decisions table were
ignored); 1 error.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_is_resolved_once_against_the_blueprint() {
        let args = AwsArgs { region: Some("eu-west-1".into()), ..AwsArgs::default() };
        let e = args.resolve(Some("us-east-1")).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("--region eu-west-1 contradicts the blueprint's `region: us-east-1`"), "{e}");
        assert_eq!(args.resolve(Some("eu-west-1")).ok().and_then(|s| s.region).as_deref(), Some("eu-west-1"));
        let pinned = AwsArgs::default().resolve(Some("us-east-1")).ok();
        assert_eq!(pinned.as_ref().and_then(|s| s.region.as_deref()), Some("us-east-1"));
        assert_eq!(pinned.map(|s| s.timeouts), Some(Timeouts::default()));
        assert!(check_account(Some("111111111111"), "222222222222").is_err());
        assert!(check_account(None, "222222222222").is_ok());
    }

    #[test]
    fn a_bucket_is_taken_by_name_arn_or_s3_url() {
        for given in [
            "data-bucket",
            "arn:aws:s3:::data-bucket",
            "arn:aws-cn:s3:::data-bucket",
            "s3://data-bucket/",
            "S3://data-bucket",
        ] {
            assert_eq!(bucket_name(given).as_deref(), Ok("data-bucket"), "{given}");
        }
        let e = bucket_name("arn:aws:s3:::data-bucket/home/x").err().unwrap_or_default();
        assert!(e.contains("names an object or prefix, not a bucket"), "{e}");
        assert_eq!(bucket_name("my.data.bucket").as_deref(), Ok("my.data.bucket"));
        let e = bucket_name("https://data-bucket.s3.amazonaws.com/").err().unwrap_or_default();
        assert!(e.contains("is a URL, not a bucket"), "{e}");
        let e = bucket_name("Data_Bucket").err().unwrap_or_default();
        assert!(e.starts_with("\"Data_Bucket\" is not an S3 bucket: the name \"Data_Bucket\" may only contain"), "{e}");
        let e = bucket_name("arn:aws:iam::111111111111:role/x").err().unwrap_or_default();
        assert!(e.contains("is not an S3 bucket ARN"), "{e}");
    }
}
