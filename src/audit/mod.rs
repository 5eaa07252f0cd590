//! `sandboxc audit`: who did what in the sandbox.
//!
//! AWS leaves the correlation to the reader: AppStream usage reports ([`sessions`]) hold the
//! user, the streaming instance's interface address (`eni_private_ip_address`) and the
//! session's start and end; CloudTrail data events ([`trail`]) hold S3 actions with
//! `sourceIPAddress`, `eventTime` and the calling role (`userIdentity.sessionContext.sessionIssuer`);
//! the validator Lambda's log ([`decisions`]) holds each issued or rejected notebook URL and
//! the notebook it was for. [`join`] attributes an S3 data event made by a user's notebook
//! role (a role under `/sandboxc/<env>/users/<user hash>/`, [`Principals::environment`]) to
//! that user (session kind `notebook`), lists events of the [`Principals::admin_roles`] apart
//! as administrative access, and attributes every other event to the one AppStream session of
//! its account that held its source address at its time (start and end inclusive, UTC, an
//! open session from its start to a cap, provisionally); it lists events two sessions (or a
//! session whose reports contradict each other) claim as ambiguous, events nothing explains as
//! unattributed and events of other accounts apart, and matches decisions to sessions by
//! session ID and user hash. [`report`] groups the result per user (a notebook user's ID comes
//! from [`Principals::users`], the usage reports or `--user`; else the hash is shown) and
//! [`render`] writes a table, CSV or JSON.
//!
//! The evidence comes from an [`Evidence`] source: local directories laid out as the buckets
//! are ([`local::LocalEvidence`]), or the buckets themselves (implemented in `src/aws`: this
//! module never talks to AWS). Usage reports and decisions are read one file at a time;
//! CloudTrail files are streamed (one job) or parsed on several threads a few files ahead, their
//! records passed packed through bounded channels and joined in the source's order
//! ([`collect_with`]; measured figures in [`join`]), and kept events with the same `eventID` are
//! counted once (see [`join`] for the memory bound). A malformed line, record or file is listed with its
//! location and never ends the run, but makes the evidence incomplete
//! ([`Report::has_findings`]).

pub mod athena;
pub mod athena_decisions;
pub mod athena_rows;
pub mod athena_sql;
pub mod decisions;
pub mod join;
pub mod local;
pub mod render;
pub mod report;
pub mod sessions;
pub mod time;
pub mod trail;

use std::io::{BufRead, BufReader, Read, Write};

pub use join::Auditor;
pub use report::{Report, AUDIT_SCHEMA_VERSION};
use time::{Instant, DAY_MS};

/// Days audited by `--from-aws` without `--since`.
pub const DEFAULT_AWS_DAYS: i64 = 7;

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditFormat {
    /// For a terminal: summary per user, each user's timeline, then the findings.
    #[default]
    Table,
    /// One row per S3 data event and validator decision (header row first).
    Csv,
    /// The whole report, versioned by `schema_version`.
    Json,
}

/// The filters as given (`--since`, `--until`, `--user`, `--bucket`, `--event`), before
/// [`Filters::from_text`] checks and parses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterText {
    /// Start: RFC 3339 or a UTC date.
    pub since: Option<String>,
    /// End: RFC 3339, or a UTC date (the whole day).
    pub until: Option<String>,
    /// Users (the usage report's `user_id`).
    pub users: Vec<String>,
    /// Bare bucket names.
    pub buckets: Vec<String>,
    /// CloudTrail event names.
    pub events: Vec<String>,
}

/// What an [`Evidence`] source calls once per file: its location, and a reader of its bytes or
/// why they could not be read.
pub type Visitor<'v> = &'v mut dyn FnMut(&str, Result<&mut dyn Read, String>);

/// Where the evidence comes from. Each method calls `visit` once per file, in a stable order,
/// with the file's location (a path relative to the directory given, or `s3://bucket/key`) and
/// its bytes, or why they could not be read (the report lists that file as not read).
pub trait Evidence {
    /// The sources, for the report: `usage reports: DIR`, `CloudTrail: s3://bucket`...
    fn sources(&self) -> Vec<String>;
    /// Notes for the report (what the source could not find out, such as the data bucket).
    fn notes(&self) -> Vec<String>;
    /// Every AppStream usage-report file.
    ///
    /// # Errors
    /// [`AuditError`] when the source as a whole cannot be read (a directory that does not
    /// exist, a bucket that cannot be listed).
    fn usage_reports(&mut self, visit: Visitor<'_>) -> Result<(), AuditError>;
    /// Every CloudTrail log file.
    ///
    /// # Errors
    /// As [`Evidence::usage_reports`].
    fn cloudtrail(&mut self, visit: Visitor<'_>) -> Result<(), AuditError>;
    /// Every validator decision-log file.
    ///
    /// # Errors
    /// As [`Evidence::usage_reports`].
    fn decisions(&mut self, visit: Visitor<'_>) -> Result<(), AuditError>;
}

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

/// Who the sandbox's principals are, for attribution beyond the AppStream sessions: from the
/// blueprint (`name`, `storage.admin_principals`, `users`) or the command line
/// (`--stack`, `--admin-principal`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principals {
    /// The environment (the blueprint's `name`, the root stack's name): its users' notebook
    /// roles live under `/sandboxc/<env>/users/<user hash>/`
    /// (`sandboxc_contract::users::users_role_path`). `None`: no event is attributed to a
    /// notebook (a note names the environments whose notebook roles were seen).
    pub environment: Option<String>,
    /// IAM role ARNs whose S3 data events are administrative access, listed apart and never
    /// findings (`storage.admin_principals`; compared with the record's
    /// `sessionContext.sessionIssuer.arn`, the role ARN `aws:PrincipalArn` matches).
    pub admin_roles: Vec<String>,
    /// User IDs known from the blueprint: a notebook user whose hash is one of theirs is shown
    /// by ID even without sessions in the usage reports.
    pub users: Vec<String>,
    /// The sandbox's S3 gateway endpoint IDs (`vpce-...`: `--vpc-endpoint`, or the root stack's
    /// output `S3EndpointId`). When any is known, a record whose `vpcEndpointId` is set and is
    /// none of them came from another network (a VPC whose private addresses may overlap the
    /// sandbox's) and is never attributed by address: it is unattributed
    /// ([`join::Reason::OtherVpcEndpoint`]). Empty: addresses are not checked against the
    /// endpoint (CloudTrail user guide, "CloudTrail record contents", `vpcEndpointId`).
    pub vpc_endpoints: Vec<String>,
    /// The exact notebook role names of the users, by user hash (`--notebook-role`, or the
    /// deployed stack's `AWS::IAM::Role` resources of the users). When known, a role under
    /// `/sandboxc/<env>/users/<hash>/` whose name is not that user's is unattributed
    /// ([`join::Reason::NotNotebookRole`]): anyone allowed `iam:CreateRole` can create a role on
    /// that path. `None`: the path alone names the user.
    pub notebook_roles: Option<NotebookRoles>,
}

/// The users' notebook role names: user hash (lowercase sha256 hex) to the role names (without
/// path) of that user's notebook role(s).
pub type NotebookRoles = std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

/// Whether `id` is a VPC endpoint ID: `vpce-` and 8 or 17 lowercase hex digits (EC2 API
/// reference, `VpcEndpoint.VpcEndpointId`; resource IDs have 8 or 17 hex characters, EC2 user
/// guide "Resource IDs").
#[must_use]
pub fn is_vpc_endpoint_id(id: &str) -> bool {
    id.strip_prefix("vpce-").is_some_and(|hex| {
        (hex.len() == 8 || hex.len() == 17) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

impl Principals {
    /// Checks the admin roles: each must be an IAM role ARN,
    /// `arn:<partition>:iam::<12 digits>:role/<path/><name>`.
    ///
    /// # Errors
    /// [`AuditError::Usage`] naming the first ARN that is not one.
    pub fn check(&self) -> Result<(), AuditError> {
        for arn in &self.admin_roles {
            if !is_role_arn(arn) {
                return Err(AuditError::Usage(format!(
                    "--admin-principal {arn:?} is not an IAM role ARN; give arn:<partition>:iam::<12-digit account>:role/<name> without wildcards (for an assumed role, the role's ARN with its path, as aws:PrincipalArn sees it)"
                )));
            }
        }
        for id in &self.vpc_endpoints {
            if !is_vpc_endpoint_id(id) {
                return Err(AuditError::Usage(format!(
                    "--vpc-endpoint {id:?} is not a VPC endpoint ID; give vpce- and 8 or 17 lowercase hex digits (e.g. vpce-0a1b2c3d4e5f60718, the stack output S3EndpointId)"
                )));
            }
        }
        Ok(())
    }

    /// Adds a user's notebook role from its ARN (`--notebook-role`): a role ARN under
    /// `/sandboxc/<env>/users/<user hash>/` of the audited environment; its name becomes the
    /// only name (with others added the same way) that user's notebook events may come from.
    ///
    /// # Errors
    /// [`AuditError::Usage`] when no environment is known or the ARN is not such a role.
    pub fn add_notebook_role(&mut self, arn: &str) -> Result<(), AuditError> {
        let Some(env) = self.environment.as_deref() else {
            return Err(AuditError::Usage(format!(
                "--notebook-role {arn:?}: the environment is unknown; give the blueprint or --stack"
            )));
        };
        let hash = sandboxc_contract::users::user_hash_of_role_arn(env, arn)
            .filter(|h| h.bytes().all(|b| !b.is_ascii_uppercase()) && is_role_arn(arn));
        let (Some(hash), Some((_, name))) = (hash, arn.rsplit_once('/')) else {
            return Err(AuditError::Usage(format!(
                "--notebook-role {arn:?} is not a notebook role of environment {env}; give arn:<partition>:iam::<12-digit account>:role/sandboxc/{env}/users/<sha256 of the user ID>/<role name>"
            )));
        };
        self.notebook_roles
            .get_or_insert_with(NotebookRoles::new)
            .entry(hash.to_string())
            .or_default()
            .insert(name.to_string());
        Ok(())
    }
}

/// `arn:<partition>:iam::<12 digits>:role/<path/><name>` (IAM user guide, "IAM identifiers").
#[must_use]
pub fn is_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    *arn_ == "arn"
        && partition.starts_with("aws")
        && *service == "iam"
        && region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource.strip_prefix("role/").is_some_and(|r| {
            // IAM role names and paths: letters, digits and +=,.@_- (IAM user guide, "IAM
            // identifiers"); a wildcard would match nothing in a trail record.
            !r.is_empty()
                && !r.ends_with('/')
                && !r.contains("//")
                && r.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
        })
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

/// Most characters of a problem's reason kept: a parser's message may quote a whole hostile
/// value (a 50 MB line); the rest is counted, not copied into the report.
pub const MAX_REASON_CHARS: usize = 300;

impl Problem {
    /// A problem at `location`, its reason cut to [`MAX_REASON_CHARS`] characters (then
    /// `... (N more characters)`).
    #[must_use]
    pub fn new(location: String, reason: String) -> Self {
        let reason = match reason.char_indices().nth(MAX_REASON_CHARS) {
            Some((cut, _)) => {
                let more = reason[cut..].chars().count();
                format!("{}... ({more} more characters)", &reason[..cut])
            }
            None => reason,
        };
        Self { location, reason }
    }

    /// A problem at a line of a file.
    #[must_use]
    pub fn line(file: &str, line: u64, reason: String) -> Self {
        Self::new(format!("{file}:{line}"), reason)
    }

    /// A problem with a CloudTrail record (1-based in `Records`).
    #[must_use]
    pub fn record(file: &str, index: usize, reason: String) -> Self {
        Self::new(format!("{file}:record {index}"), reason)
    }

    /// A problem with a whole file.
    #[must_use]
    pub fn file(file: &str, reason: String) -> Self {
        Self::new(file.to_string(), reason)
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

    /// Filters from their text. `default_window`: `Some(now)` when the window defaults to
    /// the [`DEFAULT_AWS_DAYS`] days before `now` (`--from-aws`), `None` for no window.
    ///
    /// # Errors
    /// [`AuditError::Usage`] for a time that does not parse, an empty window, or a `--bucket`
    /// that is not a bare bucket name.
    pub fn from_text(args: &FilterText, default_window: Option<Instant>) -> Result<Self, AuditError> {
        let parse =
            |flag: &str, text: &str| Instant::parse(text).map_err(|e| AuditError::Usage(format!("{flag}: {e}")));
        let mut since = args.since.as_deref().map(|t| parse("--since", t)).transpose()?;
        let mut until = match args.until.as_deref() {
            Some(t) if Instant::is_date_only(t) => Some(Instant(parse("--until", t)?.0 + DAY_MS)),
            Some(t) => Some(Instant(parse("--until", t)?.0 + 1)),
            None => None,
        };
        if let Some(now) = default_window {
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
        for b in &args.buckets {
            if b.contains("://") || b.contains('/') || b.trim().is_empty() {
                return Err(AuditError::Usage(format!(
                    "--bucket {b:?}: give a bare bucket name (e.g. my-bucket), not an s3:// URL or a path"
                )));
            }
        }
        Ok(Self {
            since,
            until,
            users: args.users.clone(),
            buckets: args.buckets.clone(),
            events: args.events.iter().filter(|e| !e.trim().is_empty()).map(|e| e.trim().to_string()).collect(),
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
        self.end_cloudtrail(location, result);
    }

    /// Takes a CloudTrail file streamed by [`stream_cloudtrail`] from another thread: the
    /// same calls, in the same order, as [`Auditor::read_cloudtrail`] makes while streaming.
    /// A reading thread that stopped without saying how the file ended (it does not: reading
    /// returns errors) leaves the file listed as not read.
    pub fn take_cloudtrail(&mut self, location: &str, parts: &std::sync::mpsc::Receiver<TrailPart>) {
        let mut index = 0;
        loop {
            match parts.recv() {
                Ok(TrailPart::Records(records)) => {
                    for r in records.records() {
                        index += 1;
                        self.add_record(location, index, r);
                    }
                }
                Ok(TrailPart::End(result)) => return self.end_cloudtrail(location, result),
                Ok(TrailPart::NotGzip(why)) => {
                    return self.bad_file(Problem::file(location, format!("cannot read: {why}")));
                }
                Err(_) => {
                    return self.bad_file(Problem::file(location, "cannot read: the reading thread failed".into()));
                }
            }
        }
    }

    /// How a CloudTrail file ended: counted, or listed as not read or broken off.
    fn end_cloudtrail(&mut self, location: &str, result: Result<usize, trail::TrailFileError>) {
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
        self.take_decisions(location, problems, found, result);
    }

    /// Reads the CloudWatch Logs events of one log group given one by one (the Athena decisions
    /// query's rows, [`athena_decisions`]) as [`Auditor::read_decisions`] reads the same
    /// events from `FilterLogEvents`: the same decisions, runtime lines and problems (at each
    /// event's origin), the group counted as one decision file, or listed at `location` as not
    /// a validator decision log.
    pub fn read_log_events<'a>(&mut self, location: &str, events: impl IntoIterator<Item = decisions::LogEvent<'a>>) {
        let mut problems = Vec::new();
        let mut found = Vec::new();
        let result = decisions::read_events(events, &mut problems, &mut |d| found.push(d));
        self.take_decisions(location, problems, found, result);
    }

    /// Keeps what one decision source gave: its problems, its decisions, and the source counted
    /// as one decision file, or listed at `location` as not a validator decision log.
    fn take_decisions(
        &mut self,
        location: &str,
        problems: Vec<Problem>,
        found: Vec<decisions::Decision>,
        result: Result<decisions::DecisionCounts, String>,
    ) {
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

/// A part of one CloudTrail file decompressed and parsed off the joining thread: its records
/// in file order, a few at a time, then how the file ended ([`trail::read`]'s result).
#[derive(Debug)]
pub enum TrailPart {
    /// The first bytes could not be read (the file's only part).
    NotGzip(String),
    /// The next records, in `Records` order (at most [`RECORDS_PER_PART`], packed: a part is
    /// three allocations whatever its number of records, so the joining thread frees little
    /// that another thread allocated).
    Records(trail::Packed),
    /// How the file ended (the file's last part).
    End(Result<usize, trail::TrailFileError>),
}

/// Most records sent to the joining thread in one [`TrailPart::Records`].
pub const RECORDS_PER_PART: usize = 256;

/// A part is sent once its records' text reaches this many bytes, even with fewer than
/// [`RECORDS_PER_PART`] records: a part holds at most this plus one record's text and 8 bytes
/// per field.
pub const PART_TEXT_BYTES: usize = 192 * 1024;

/// Parts of one file in flight between a reading thread and the joining thread: a reading
/// thread waits when the joining thread is this far behind, so each file being read holds at
/// most `PARTS_IN_FLIGHT + 2` parts, whatever its size. With records of about 600 bytes packed
/// (the generated day of `scripts/audit-bench.sh`), 16 parts of 256 records are about 2.5 MB:
/// half a 10 MB file, enough for a reading thread to work ahead while the joining thread is
/// on an earlier file.
pub const PARTS_IN_FLIGHT: usize = 16;

/// Decompresses (when gzip) and parses one CloudTrail file held in memory, sending its records
/// to `parts` as they are read; stops early when the receiver is gone.
pub fn stream_cloudtrail(bytes: &[u8], parts: &std::sync::mpsc::SyncSender<TrailPart>) {
    match maybe_gzip(bytes) {
        Err(e) => {
            let _ = parts.send(TrailPart::NotGzip(e.to_string()));
        }
        Ok(input) => {
            let mut records = trail::Packed::with_capacity(RECORDS_PER_PART);
            let mut gone = false;
            let result = trail::read(input, &mut |_, r| {
                if gone {
                    return;
                }
                records.push(&r);
                if records.len() >= RECORDS_PER_PART || records.text_bytes() >= PART_TEXT_BYTES {
                    let full = std::mem::replace(&mut records, trail::Packed::with_capacity(RECORDS_PER_PART));
                    gone = parts.send(TrailPart::Records(full)).is_err();
                }
            });
            if gone {
                return;
            }
            if !records.is_empty() {
                let _ = parts.send(TrailPart::Records(records));
            }
            let _ = parts.send(TrailPart::End(result));
        }
    }
}

/// How many threads read CloudTrail files: all the machine's cores.
#[must_use]
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Most compressed bytes of CloudTrail files read ahead of the joining thread (besides the
/// file being joined); fewer files are read ahead when they are larger.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// A CloudTrail file read ahead, in the order the source gave it, waiting to be joined.
enum Queued {
    /// Skipped by name (a digest file).
    Skipped,
    /// Not readable: the reason.
    Failed(String, String),
    /// Given to a reading thread: its location, its compressed size and its parts.
    Reading(String, usize, std::sync::mpsc::Receiver<TrailPart>),
}

/// Joins the first file read ahead (waiting for its reading thread), if any.
fn join_front(aud: &mut Auditor, queue: &mut std::collections::VecDeque<Queued>, held: &mut usize) {
    match queue.pop_front() {
        None => {}
        Some(Queued::Skipped) => aud.counts.skipped_by_name += 1,
        Some(Queued::Failed(location, why)) => aud.bad_file(Problem::file(&location, why)),
        Some(Queued::Reading(location, size, rx)) => {
            *held -= size;
            aud.take_cloudtrail(&location, &rx);
        }
    }
}

/// Reads the CloudTrail files of `evidence` on `jobs` threads while this thread joins them in
/// the source's order, so that the report is the same as a one-thread read, byte for byte.
///
/// This thread reads each file's (compressed) bytes and hands them to the next free reading
/// thread, keeping at most `jobs` files (and [`MAX_BATCH_BYTES`] compressed bytes) ahead of the
/// file it joins; there is no pause between groups of files. Each file's records reach this
/// thread packed ([`trail::Packed`]) through a bounded channel of their own
/// ([`PARTS_IN_FLIGHT`]): a thread reading a later file waits while this one joins an earlier
/// file, so memory does not grow with the size of the files: at most `jobs + 1` files of
/// `PARTS_IN_FLIGHT + 2` parts. No deadlock: reading threads take files in order, so the
/// earliest file not yet joined is always being read (or about to be) by a thread that only
/// waits for this one.
fn read_cloudtrail_parallel(aud: &mut Auditor, evidence: &mut dyn Evidence, jobs: usize) -> Result<(), AuditError> {
    use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};
    use std::sync::Mutex;
    /// A file for a reading thread: its bytes and where its parts go.
    type Job = (Vec<u8>, SyncSender<TrailPart>);
    let (job_tx, job_rx) = channel::<Job>();
    let job_rx: Mutex<Receiver<Job>> = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..jobs)
            .map(|_| {
                scope.spawn(|| loop {
                    // The lock is held only while waiting for a job: files are taken in order.
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((bytes, tx)) = job else { break };
                    stream_cloudtrail(&bytes, &tx);
                })
            })
            .collect();
        let mut queue = std::collections::VecDeque::new();
        let mut held = 0usize;
        let result = evidence.cloudtrail(&mut |location, file| {
            let item = match file {
                _ if local::is_digest(location) => Queued::Skipped,
                Ok(f) => {
                    let mut bytes = Vec::new();
                    match f.read_to_end(&mut bytes) {
                        Ok(_) => {
                            let (tx, rx) = sync_channel(PARTS_IN_FLIGHT);
                            let size = bytes.len();
                            held += size;
                            // A reading thread that is gone (it does not go: reading returns
                            // errors) leaves the file listed as not read when it is joined.
                            let _ = job_tx.send((bytes, tx));
                            Queued::Reading(location.to_string(), size, rx)
                        }
                        Err(e) => Queued::Failed(location.to_string(), format!("cannot read: {e}")),
                    }
                }
                Err(e) => Queued::Failed(location.to_string(), e),
            };
            queue.push_back(item);
            while queue.len() > jobs || (held > MAX_BATCH_BYTES && queue.len() > 1) {
                join_front(aud, &mut queue, &mut held);
            }
        });
        if result.is_ok() {
            while !queue.is_empty() {
                join_front(aud, &mut queue, &mut held);
            }
        }
        // Receivers first (a reading thread waiting to send stops), then the jobs (the
        // threads end); the scope then joins them.
        drop(queue);
        drop(job_tx);
        // A thread that panicked (it does not: parsing returns errors) has had its file listed
        // as not read; joining here keeps the panic from propagating.
        for t in threads {
            let _ = t.join();
        }
        result
    })
}

/// Reads the evidence (usage reports, then CloudTrail, then the validator's decisions),
/// joins with the sandbox's `principals`, and builds the report, reading CloudTrail files on
/// all cores ([`collect_with`] with [`default_jobs`]).
///
/// # Errors
/// [`AuditError`] of the source: a directory or bucket that cannot be read at all.
pub fn collect(evidence: &mut dyn Evidence, filters: Filters, principals: Principals) -> Result<Report, AuditError> {
    collect_with(evidence, filters, principals, default_jobs())
}

/// [`collect`] with `jobs` threads decompressing and parsing CloudTrail files. With one job
/// each file is streamed record by record on this thread; with more, files are read whole
/// (compressed) a few ahead, parsed in parallel, their records streamed packed to this thread
/// through bounded channels and joined in the source's order
/// (`read_cloudtrail_parallel`): the report is byte for byte the one-job report. CloudTrail
/// digest files and AppStream applications reports are skipped by name; kept events with the
/// same `eventID` are counted once ([`Auditor::remove_duplicates`]).
///
/// # Errors
/// [`AuditError`] of the source: a directory or bucket that cannot be read at all.
pub fn collect_with(
    evidence: &mut dyn Evidence,
    filters: Filters,
    principals: Principals,
    jobs: usize,
) -> Result<Report, AuditError> {
    let mut aud = Auditor::new(filters).with_principals(principals);
    for n in evidence.notes() {
        aud.notes.insert(n);
    }
    evidence.usage_reports(&mut |location, file| match file {
        _ if local::is_applications_report(location) => aud.counts.skipped_by_name += 1,
        Ok(f) => aud.read_usage_report(location, f),
        Err(e) => aud.bad_file(Problem::file(location, e)),
    })?;
    aud.index();
    if jobs <= 1 {
        evidence.cloudtrail(&mut |location, file| match file {
            _ if local::is_digest(location) => aud.counts.skipped_by_name += 1,
            Ok(f) => aud.read_cloudtrail(location, f),
            Err(e) => aud.bad_file(Problem::file(location, e)),
        })?;
    } else {
        read_cloudtrail_parallel(&mut aud, evidence, jobs)?;
    }
    aud.remove_duplicates();
    evidence.decisions(&mut |location, file| match file {
        Ok(f) => aud.read_decisions(location, f),
        Err(e) => aud.bad_file(Problem::file(location, e)),
    })?;
    Ok(Report::build(aud, evidence.sources()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Option<Instant> {
        Instant::parse(s).ok()
    }

    /// Files in memory: CloudTrail files by name, `None` for one that cannot be read.
    struct Files(Vec<(String, Option<Vec<u8>>)>);

    impl Evidence for Files {
        fn sources(&self) -> Vec<String> {
            vec!["memory".into()]
        }
        fn notes(&self) -> Vec<String> {
            Vec::new()
        }
        fn usage_reports(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
            let report = "user_id,eni_private_ip_address,user_session_id,session_start_time,session_end_time,authentication_type,fleet_name\nalice,10.0.0.1,s1,2026-11-28T00:00:00Z,2026-11-28T23:00:00Z,SAML,f\n";
            visit("r.csv", Ok(&mut report.as_bytes()));
            Ok(())
        }
        fn cloudtrail(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
            for (name, bytes) in &self.0 {
                match bytes {
                    Some(b) => visit(name, Ok(&mut b.as_slice())),
                    None => visit(name, Err("cannot read: gone".into())),
                }
            }
            Ok(())
        }
        fn decisions(&mut self, _: Visitor<'_>) -> Result<(), AuditError> {
            Ok(())
        }
    }

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let _ = e.write_all(text.as_bytes());
        e.finish().unwrap_or_default()
    }

    #[test]
    fn a_parallel_read_is_the_one_job_read() {
        let record = |i: usize, ip: &str| {
            format!(
                r#"{{"eventTime":"2026-11-28T10:{:02}:{:02}Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventCategory":"Data","sourceIPAddress":"{ip}","eventID":"e{i}","recipientAccountId":"123456789012","requestParameters":{{"bucketName":"data","key":"k/{i}"}}}}"#,
                (i / 60) % 60,
                i % 60
            )
        };
        let mut files = Vec::new();
        let mut n = 0;
        for f in 0..12 {
            // Sizes around and above a part, some records duplicated across files.
            let count = [1, 300, 700, 3, 256, 0, 513, 2, 900, 1, 257, 40][f];
            let records: Vec<String> =
                (0..count).map(|i| record(n + i - i % 7 * usize::from(f % 3 == 0), "10.0.0.1")).collect();
            n += count;
            let text = format!(r#"{{"Records":[{}]}}"#, records.join(","));
            files.push((format!("t/{f:02}.json.gz"), Some(if f % 2 == 0 { gz(&text) } else { text.into_bytes() })));
            if f == 4 {
                files.push(("t/digest/CloudTrail-Digest/x.json.gz".into(), Some(gz("{}"))));
                files.push(("t/gone.json.gz".into(), None));
                files.push(("t/notgzip.json.gz".into(), Some(vec![0x1f, 0x8b, 0, 1, 2])));
                files.push((
                    "t/broken.json".into(),
                    Some(format!(r#"{{"Records":[{},{{"#, record(9999, "10.0.0.2")).into_bytes()),
                ));
                files.push(("t/digest.json".into(), Some(b"{\"digest\": 1}".to_vec())));
            }
        }
        let render = |jobs: usize| {
            let mut evidence = Files(files.clone());
            let report = collect_with(&mut evidence, Filters::default(), Principals::default(), jobs);
            let mut out = Vec::new();
            if let Ok(r) = report {
                let _ = write_report(&r, AuditFormat::Json, &mut out);
            }
            String::from_utf8(out).unwrap_or_default()
        };
        let one = render(1);
        assert!(one.contains("e1\"") && one.contains("broken.json:record 2"), "{one}");
        for jobs in [2, 3, 8, 40] {
            assert_eq!(render(jobs), one, "--jobs {jobs}");
        }
    }

    #[test]
    fn admin_principals_are_role_arns() {
        for (arn, ok) in [
            ("arn:aws:iam::123456789012:role/BreakGlass", true),
            ("arn:aws-us-gov:iam::123456789012:role/ops/BreakGlass", true),
            ("arn:aws:iam::123456789012:user/alice", false),
            ("arn:aws:sts::123456789012:assumed-role/BreakGlass/s", false),
            ("arn:aws:iam::12345678901:role/x", false),
            ("arn:aws:iam::123456789012:role/", false),
            ("arn:aws:iam::123456789012:role/ops/", false),
            ("BreakGlass", false),
        ] {
            assert_eq!(is_role_arn(arn), ok, "{arn}");
        }
        let bad =
            Principals { admin_roles: vec!["arn:aws:iam::123456789012:user/alice".into()], ..Principals::default() };
        assert!(bad.check().is_err());
    }

    #[test]
    fn window_from_arguments() {
        let now = t("2026-11-30T12:00:00Z").unwrap_or(Instant(0));
        let args =
            FilterText { since: Some("2026-11-28".into()), until: Some("2026-11-28".into()), ..FilterText::default() };
        let f = Filters::from_text(&args, None).ok();
        assert_eq!(f.as_ref().and_then(|f| f.since), t("2026-11-28T00:00:00Z"));
        assert_eq!(f.as_ref().and_then(|f| f.until), t("2026-11-29T00:00:00Z"), "a date --until is the whole day");
        let args = FilterText { until: Some("2026-11-28T10:00:00Z".into()), ..FilterText::default() };
        let f = Filters::from_text(&args, None).ok().unwrap_or_default();
        assert!(f.in_window(Instant(t("2026-11-28T10:00:00Z").map_or(0, |i| i.0))), "--until is inclusive");
        assert!(!f.in_window(Instant(t("2026-11-28T10:00:00Z").map_or(0, |i| i.0) + 1)));
        assert_eq!(f.since, None, "directories: no default window");
        let f = Filters::from_text(&FilterText::default(), Some(now)).ok().unwrap_or_default();
        assert_eq!(f.since, t("2026-11-23T12:00:00.001Z"), "--from-aws: the last 7 days");
        let args =
            FilterText { since: Some("2026-11-29".into()), until: Some("2026-11-28".into()), ..FilterText::default() };
        assert!(matches!(Filters::from_text(&args, None), Err(AuditError::Usage(_))));
        let args = FilterText { events: vec!["GetObject".into(), " ".into()], ..FilterText::default() };
        assert_eq!(Filters::from_text(&args, None).ok().map(|f| f.events), Some(vec!["GetObject".to_string()]));
    }
}
