//! `sandboxc audit`: who did what in the sandbox.
//!
//! AWS leaves the correlation to the reader: AppStream usage reports ([`sessions`]) hold the
//! user, the streaming instance's interface address (`eni_private_ip_address`) and the
//! session's start and end; CloudTrail data events ([`trail`]) hold S3 actions with
//! `sourceIPAddress` and `eventTime`; the validator Lambda's log ([`decisions`]) holds each
//! issued or rejected notebook URL. [`join`] attributes each S3 data event to the one
//! session of its account that held its source address at its time (start and end inclusive,
//! UTC, an open session from its start to a cap, provisionally), lists events two sessions (or
//! a session whose reports contradict each other) claim as ambiguous, events no session claims
//! as unattributed and events of other accounts apart, and matches decisions to sessions by
//! session ID and user hash. [`report`] groups the result per user and [`render`] writes a table, CSV or JSON.
//!
//! Sources are local directories laid out as the buckets are ([`local`]) or the buckets
//! themselves (`--from-aws`, `crate::deploy::audit_source`: this module never talks to AWS).
//! Files are read one at a time and CloudTrail files are streamed (see [`join`] for the
//! memory bound). A malformed line, record or file is listed with its location and never
//! ends the run, but makes the evidence incomplete. Exit codes: 0; 2 when unattributed or
//! ambiguous events exist or the evidence is incomplete; 1 on error.

pub mod decisions;
pub mod join;
pub mod local;
pub mod render;
pub mod report;
pub mod sessions;
pub mod time;
pub mod trail;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

pub use join::Auditor;
pub use report::{Report, AUDIT_SCHEMA_VERSION};
use time::{Instant, DAY_MS};

/// Exit code when every S3 data event is attributed and every input was read.
pub const EXIT_CLEAN: u8 = 0;
/// Exit code on any error.
pub const EXIT_ERROR: u8 = 1;
/// Exit code when unattributed or ambiguous S3 data events exist, or an input could not be
/// read or no CloudTrail file was read (for scheduled jobs).
pub const EXIT_FINDINGS: u8 = 2;

/// Days audited by `--from-aws` without `--since`.
pub const DEFAULT_AWS_DAYS: i64 = 7;

/// Output format of `sandboxc audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuditFormat {
    /// For a terminal: summary per user, each user's timeline, then the findings.
    #[default]
    Table,
    /// One row per S3 data event and validator decision (header row first).
    Csv,
    /// The whole report, versioned by `schema_version`.
    Json,
}

/// Arguments of `sandboxc audit`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(after_long_help = AFTER_LONG_HELP)]
pub struct AuditArgs {
    /// With --from-aws: the blueprint whose deployed CloudFormation stack names the buckets
    /// (its `name`; its `region` unless --region); default: the embedded data-sandbox.yaml.
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
    /// below for the two accepted line shapes). Also with --from-aws.
    #[arg(long, value_name = "FILE_OR_DIR")]
    pub decisions: Vec<PathBuf>,
    /// Read the usage-report and trail buckets in S3 instead of directories, listing only
    /// the days of --since..--until (default: the last 7 days).
    #[arg(long)]
    pub from_aws: bool,
    /// With --from-aws: the root CloudFormation stack whose outputs UsageReportBucket,
    /// TrailBucketName and DataBucketName name the buckets; default: the blueprint's name.
    #[arg(long, value_name = "NAME")]
    pub stack: Option<String>,
    /// With --from-aws: the usage-report bucket (instead of the stack output).
    #[arg(long, value_name = "BUCKET")]
    pub usage_bucket: Option<String>,
    /// With --from-aws: the CloudTrail bucket (instead of the stack output).
    #[arg(long, value_name = "BUCKET")]
    pub trail_bucket: Option<String>,
    /// Only events at or after this time: RFC 3339 (2026-11-28T08:00:00Z) or a UTC date.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events at or before this time: RFC 3339, or a UTC date (the whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Only this user's sessions, events and decisions (the usage report's user_id;
    /// repeatable). Unattributed events are listed still: they may be anyone's.
    #[arg(long, value_name = "USER_ID")]
    pub user: Vec<String>,
    /// Only S3 data events in this bucket (repeatable). Default: with --from-aws the stack's
    /// DataBucketName; with directories every bucket the trail logs.
    #[arg(long, value_name = "BUCKET")]
    pub bucket: Vec<String>,
    /// Only these CloudTrail event names, e.g. GetObject,PutObject (repeatable or
    /// comma-separated; case-insensitive).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub event: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// With --from-aws: AWS profile of the shared config and credentials files.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// With --from-aws: AWS Region (else the blueprint's `region`, else the configuration's).
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
}

const AFTER_LONG_HELP: &str = "\
Attribution: an S3 data event belongs to the session whose eni_private_ip_address equals the
event's sourceIPAddress, whose aws_account_id is the event's recipientAccountId, and whose
start..end (inclusive, UTC) holds its eventTime. An open session (empty session_end_time) ends
at most at start + max_session_duration, else + session_duration_in_seconds (when not 0), else
+ 5 days (AppStream's largest maximum); its events are provisional (marked in every format; audit
again when the next daily report is out; the exit code is not changed by them). Two such
sessions: ambiguous (all candidates listed, none chosen). None: unattributed, an audit finding.
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
user_hash; else the user with that hash; else it is listed as matching no session.

--from-aws lists sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/ from the day before --since
to the day after --until (a day's report arrives within 24 hours), and
AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/ for every account and Region in the trail
bucket; each object is read whole into memory, one at a time. Needs s3:ListBucket and
s3:GetObject on both buckets (and kms:Decrypt for the trail's key) and
cloudformation:DescribeStacks unless both buckets and --bucket are given.

Malformed lines, records and files are listed with their location (path relative to the
directory given, line or record number) and skipped; they never end the run, but the evidence
is then incomplete. Symbolic links to directories are listed, not followed. A --bucket, --event
or --user value found nowhere in the inputs gets a warning; --bucket takes a bare bucket name.
The table escapes control characters (\\n, \\x1b); CSV cells starting with = + - @ get a '.

Exit codes: 0 every S3 data event is attributed (provisional ones included) and every input was
read; 2 unattributed or ambiguous events exist, or the evidence is incomplete (a file, line or
record could not be read, or no CloudTrail file was read at all); 1 error.";

/// Why an audit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Arguments that do not fit together or cannot be parsed.
    #[error("{0}")]
    Usage(String),
    /// A source directory or file cannot be read at all.
    #[error("{0}")]
    Source(String),
    /// `--from-aws`: AWS answered with an error.
    #[error("{0}")]
    Aws(String),
    /// The output could not be written.
    #[error("cannot write the audit: {0}")]
    Output(String),
}

/// Something read but not understood, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// `path:line` (CSV, JSON lines), `path:record N` (CloudTrail) or `path` (whole files);
    /// paths are relative to the directory given, or `s3://bucket/key`.
    pub location: String,
    /// What is wrong.
    pub reason: String,
}

impl Problem {
    /// A problem at a line of a file.
    #[must_use]
    pub fn line(file: &str, line: u64, reason: String) -> Self {
        Self { location: format!("{file}:{line}"), reason }
    }

    /// A problem with a CloudTrail record (1-based in `Records`).
    #[must_use]
    pub fn record(file: &str, index: usize, reason: String) -> Self {
        Self { location: format!("{file}:record {index}"), reason }
    }

    /// A problem with a whole file.
    #[must_use]
    pub fn file(file: &str, reason: String) -> Self {
        Self { location: file.to_string(), reason }
    }
}

/// What an audit keeps: a time window and lists of users, buckets and event names (an empty
/// list keeps everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Filters {
    /// Inclusive start.
    pub since: Option<Instant>,
    /// Exclusive end (`--until` plus one millisecond, or the next midnight for a date).
    pub until: Option<Instant>,
    /// `--user`.
    pub users: Vec<String>,
    /// `--bucket`, or the stack's data bucket.
    pub buckets: Vec<String>,
    /// `--event`.
    pub events: Vec<String>,
}

impl Filters {
    /// Whether `t` is inside the window.
    #[must_use]
    pub fn in_window(&self, t: Instant) -> bool {
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }

    /// Filters from the arguments (`now` is used for the `--from-aws` default window).
    ///
    /// # Errors
    /// [`AuditError::Usage`] for a time that does not parse or an empty window.
    pub fn from_args(args: &AuditArgs, now: Instant) -> Result<Self, AuditError> {
        let parse =
            |flag: &str, text: &str| Instant::parse(text).map_err(|e| AuditError::Usage(format!("{flag}: {e}")));
        let mut since = args.since.as_deref().map(|t| parse("--since", t)).transpose()?;
        let mut until = match args.until.as_deref() {
            Some(t) if Instant::is_date_only(t) => Some(Instant(parse("--until", t)?.0 + DAY_MS)),
            Some(t) => Some(Instant(parse("--until", t)?.0 + 1)),
            None => None,
        };
        if args.from_aws {
            let end = until.unwrap_or(Instant(now.0 + 1));
            until = Some(end);
            since = Some(since.unwrap_or(Instant(end.0 - DEFAULT_AWS_DAYS * DAY_MS)));
        }
        if let (Some(s), Some(u)) = (since, until) {
            if u <= s {
                return Err(AuditError::Usage(format!(
                    "--until ({}) is before --since ({s}): nothing to audit",
                    Instant(u.0 - 1)
                )));
            }
        }
        for b in &args.bucket {
            if b.contains("://") || b.contains('/') || b.trim().is_empty() {
                return Err(AuditError::Usage(format!(
                    "--bucket {b:?}: give a bare bucket name (e.g. my-bucket), not an s3:// URL or a path"
                )));
            }
        }
        Ok(Self {
            since,
            until,
            users: args.user.clone(),
            buckets: args.bucket.clone(),
            events: args.event.iter().filter(|e| !e.trim().is_empty()).map(|e| e.trim().to_string()).collect(),
        })
    }
}

/// An input that may be gzip-compressed (detected by the gzip magic bytes, not the name).
///
/// # Errors
/// The I/O error of peeking at the first bytes.
pub fn maybe_gzip<'a>(input: impl Read + 'a) -> std::io::Result<Box<dyn Read + 'a>> {
    let mut buffered = BufReader::with_capacity(64 * 1024, input);
    let head = buffered.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(buffered)))
    } else {
        Ok(Box::new(buffered))
    }
}

impl Auditor {
    /// Reads one usage-report file (`location` names it in the report).
    pub fn read_usage_report(&mut self, location: &str, input: impl Read) {
        let input = match maybe_gzip(input) {
            Ok(i) => i,
            Err(e) => return self.bad_file(Problem::file(location, format!("cannot read: {e}"))),
        };
        let mut problems = Vec::new();
        let mut found = Vec::new();
        let result = sessions::read(location, input, &mut problems, &mut |s| found.push(s));
        match result {
            Ok(()) => self.counts.usage_report_files += 1,
            Err(sessions::NotAReport(why)) => {
                self.bad_file(Problem::file(location, format!("not an AppStream sessions report: {why}")))
            }
        }
        for p in problems {
            self.problem(p);
        }
        for s in found {
            self.add_session(s);
        }
    }

    /// Streams one CloudTrail file (gzip or plain); call after [`Auditor::index`].
    pub fn read_cloudtrail(&mut self, location: &str, input: impl Read) {
        let input = match maybe_gzip(input) {
            Ok(i) => i,
            Err(e) => return self.bad_file(Problem::file(location, format!("cannot read: {e}"))),
        };
        let result = trail::read(input, &mut |i, r| self.add_record(location, i, r));
        match result {
            Ok(_) => self.counts.cloudtrail_files += 1,
            Err(trail::TrailFileError::NotCloudTrail(why)) => {
                self.bad_file(Problem::file(location, format!("not a CloudTrail log file: {why}")))
            }
            Err(trail::TrailFileError::Unreadable(why)) => {
                self.bad_file(Problem::file(location, format!("cannot read ({why}): a cut-off or corrupt gzip file?")))
            }
            Err(trail::TrailFileError::Broken { records, why }) => {
                self.counts.cloudtrail_files += 1;
                self.problem(Problem::record(
                    location,
                    records + 1,
                    format!(
                        "the file breaks off here ({why}); {} before it {} read, the rest of the file is skipped",
                        if records == 1 { "the record".to_string() } else { format!("the {records} records") },
                        if records == 1 { "was" } else { "were" }
                    ),
                ));
            }
        }
    }

    /// Reads one decisions file of JSON lines.
    pub fn read_decisions(&mut self, location: &str, input: impl Read) {
        let input = match maybe_gzip(input) {
            Ok(i) => i,
            Err(e) => return self.bad_file(Problem::file(location, format!("cannot read: {e}"))),
        };
        let mut problems = Vec::new();
        let mut found = Vec::new();
        let result = decisions::read(location, input, &mut problems, &mut |d| found.push(d));
        for p in problems {
            self.problem(p);
        }
        for d in found {
            self.add_decision(d);
        }
        match result {
            Ok(c) => {
                self.counts.decision_files += 1;
                self.counts.other_log_lines += c.other_log_lines;
            }
            Err(why) => self.bad_file(Problem::file(location, format!("not a validator decision log: {why}"))),
        }
    }
}

/// `sandboxc audit`: reads the sources, joins, and writes the report in the chosen format to
/// `out`. Returns [`EXIT_CLEAN`] or [`EXIT_FINDINGS`].
///
/// # Errors
/// [`AuditError`]: arguments, an unreadable source directory, AWS, or writing `out`.
pub fn run(args: &AuditArgs, out: &mut dyn Write) -> Result<u8, AuditError> {
    if !args.from_aws {
        let aws_only = [
            (args.blueprint.is_some(), "BLUEPRINT"),
            (args.stack.is_some(), "--stack"),
            (args.usage_bucket.is_some(), "--usage-bucket"),
            (args.trail_bucket.is_some(), "--trail-bucket"),
            (args.profile.is_some(), "--profile"),
            (args.region.is_some(), "--region"),
        ];
        if let Some((_, name)) = aws_only.iter().find(|(given, _)| *given) {
            return Err(AuditError::Usage(format!("{name} belongs to --from-aws (reading the buckets in S3); with directories give --usage-reports and --cloudtrail")));
        }
    }
    let filters = Filters::from_args(args, Instant::now())?;
    let report = if args.from_aws {
        crate::deploy::audit_source::collect(args, filters)?
    } else {
        collect_local(args, filters)?
    };
    write_report(&report, args.format, out)?;
    Ok(report.exit_code())
}

/// Writes `report` in `format`.
///
/// # Errors
/// [`AuditError::Output`].
pub fn write_report(report: &Report, format: AuditFormat, out: &mut dyn Write) -> Result<(), AuditError> {
    let result = match format {
        AuditFormat::Table => render::table(report, out),
        AuditFormat::Csv => render::csv(report, out),
        AuditFormat::Json => render::json(report, out),
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(AuditError::Output(e.to_string())),
        _ => Ok(()),
    }
}

/// The local half: reads `--usage-reports`, then `--cloudtrail`, then `--decisions`.
///
/// # Errors
/// [`AuditError::Usage`] without any source, [`AuditError::Source`] for a path that cannot be
/// read.
pub fn collect_local(args: &AuditArgs, filters: Filters) -> Result<Report, AuditError> {
    if args.usage_reports.is_none() && args.cloudtrail.is_none() && args.decisions.is_empty() {
        return Err(AuditError::Usage(
            "nothing to audit: give --usage-reports DIR and --cloudtrail DIR (directories laid out as the buckets), and --decisions FILE, or read the buckets with --from-aws".into(),
        ));
    }
    let mut sources = Vec::new();
    let mut aud = Auditor::new(filters);
    if let Some(dir) = &args.usage_reports {
        sources.push(format!("usage reports: {}", dir.display()));
        local::each_file(dir, "--usage-reports", &mut |rel, file| match file {
            _ if local::is_applications_report(rel) => aud.counts.skipped_by_name += 1,
            Ok(f) => aud.read_usage_report(rel, f),
            Err(e) => aud.bad_file(Problem::file(rel, format!("cannot open: {e}"))),
        })?;
    }
    aud.index();
    if let Some(dir) = &args.cloudtrail {
        sources.push(format!("CloudTrail: {}", dir.display()));
        local::each_file(dir, "--cloudtrail", &mut |rel, file| match file {
            _ if local::is_digest(rel) => aud.counts.skipped_by_name += 1,
            Ok(f) => aud.read_cloudtrail(rel, f),
            Err(e) => aud.bad_file(Problem::file(rel, format!("cannot open: {e}"))),
        })?;
    }
    for path in &args.decisions {
        sources.push(format!("validator decisions: {}", path.display()));
        local::each_file(path, "--decisions", &mut |rel, file| match file {
            Ok(f) => aud.read_decisions(rel, f),
            Err(e) => aud.bad_file(Problem::file(rel, format!("cannot open: {e}"))),
        })?;
    }
    if args.usage_reports.is_none() {
        aud.notes.insert("no --usage-reports: without sessions every S3 data event is unattributed".into());
    }
    Ok(Report::build(aud, sources))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<Instant> {
        Instant::parse(s).ok()
    }

    #[test]
    fn window_from_arguments() {
        let now = t("2026-11-30T12:00:00Z").unwrap_or(Instant(0));
        let args =
            AuditArgs { since: Some("2026-11-28".into()), until: Some("2026-11-28".into()), ..AuditArgs::default() };
        let f = Filters::from_args(&args, now).ok();
        assert_eq!(f.as_ref().and_then(|f| f.since), t("2026-11-28T00:00:00Z"));
        assert_eq!(f.as_ref().and_then(|f| f.until), t("2026-11-29T00:00:00Z"), "a date --until is the whole day");
        let args = AuditArgs { until: Some("2026-11-28T10:00:00Z".into()), ..AuditArgs::default() };
        let f = Filters::from_args(&args, now).ok().unwrap_or_default();
        assert!(f.in_window(Instant(t("2026-11-28T10:00:00Z").map_or(0, |i| i.0))), "--until is inclusive");
        assert!(!f.in_window(Instant(t("2026-11-28T10:00:00Z").map_or(0, |i| i.0) + 1)));
        assert_eq!(f.since, None, "directories: no default window");
        let args = AuditArgs { from_aws: true, ..AuditArgs::default() };
        let f = Filters::from_args(&args, now).ok().unwrap_or_default();
        assert_eq!(f.since, t("2026-11-23T12:00:00.001Z"), "--from-aws: the last 7 days");
        let args =
            AuditArgs { since: Some("2026-11-29".into()), until: Some("2026-11-28".into()), ..AuditArgs::default() };
        assert!(matches!(Filters::from_args(&args, now), Err(AuditError::Usage(_))));
        let args = AuditArgs { event: vec!["GetObject".into(), " ".into()], ..AuditArgs::default() };
        assert_eq!(Filters::from_args(&args, now).ok().map(|f| f.events), Some(vec!["GetObject".to_string()]));
    }
}
