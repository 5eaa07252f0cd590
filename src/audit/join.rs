//! The join: sessions indexed by interface address, CloudTrail records attributed as they
//! stream past, decisions matched to sessions at the end.
//!
//! A record is judged by its calling role first (`userIdentity.sessionContext.sessionIssuer.arn`,
//! the role ARN with its path; docs/aws-facts.md, "CloudTrail"): a role
//! of [`Principals::admin_roles`] makes it administrative access (listed apart, never a
//! finding); a role under `/sandboxc/<env>/users/<user hash>/` of the audited environment, in
//! the record's own account, makes it that user's notebook event (session kind
//! [`SessionKind::Notebook`]) — but only a role of that user's exact name when the users' role
//! names are known ([`Principals::notebook_roles`]): anyone allowed `iam:CreateRole` can create a
//! role on that path, and such a role's events are unattributed ([`Reason::NotNotebookRole`]).
//! Every other record is attributed by address and time to an AppStream session (kind
//! [`SessionKind::AppStream`]), unless the sandbox's S3 gateway endpoints are known
//! ([`Principals::vpc_endpoints`]) and the record came through another VPC endpoint
//! (`vpcEndpointId`): another network, whose private range may overlap the sandbox's, so its
//! address names no one ([`Reason::OtherVpcEndpoint`]). A record without `vpcEndpointId` (S3's
//! public endpoint) is attributed by address as before. A role path cannot be forged into
//! another account's trail: IAM paths are chosen by whoever creates the role, so only a role of
//! the record's `recipientAccountId` counts.
//!
//! Memory: sessions are few (one row per streaming session) and are all kept, indexed by
//! `eni_private_ip_address` with each address's sessions sorted by start. A CloudTrail
//! record is reduced to an [`Event`] (96 bytes: time, interned event name, bucket, address,
//! error code, principal, role, account and VPC endpoint, the event ID as 16 bytes when it is a UUID, and
//! where its key and DeleteObjects' further keys are stored) only when it is kept for the
//! output; everything else is counted. Object keys are not allocated one by one: they are
//! written back to back into 1 MiB chunks that never grow ([`Strings::key`]), so a kept event
//! costs its 96 bytes plus its keys' bytes (12 more per further key). A day of 1 GB of
//! CloudTrail logs (about 500,000 records of 2 KB) thus needs about 69 MB of events when every
//! record is an S3 data event of the audited buckets, plus one decompression buffer per reading
//! thread and, with several jobs, the packed records in flight (at most `jobs + 1` files of
//! `PARTS_IN_FLIGHT + 2` parts, about 3 MB a file here), and far less when most are filtered out; grouping sorts those events in place.
//! Measured (release build, `scripts/audit-bench.sh`, idle 2-core machine, medians of 3): 511,700
//! such records (1,074 MB of JSON in 100 gzip files), `--format csv`: 91 MB peak resident memory
//! for the whole process with one job (7.0 s), 94 MB (at most 97 MB) with two (5.6 s); with a
//! filter that keeps no event, 14 MB and 3.9 s with one job, 22 MB and 2.3 s with two
//! (`gzip -dc` of the same files: 3.8 s on one core). Problems are listed up to [`MAX_LISTED_PROBLEMS`] and
//! counted beyond; the distinct bucket and event names seen are kept for filter warnings.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use sandboxc_contract::users::user_hash_of_role_arn;

use super::decisions::Decision;
use super::sessions::Session;
use super::time::Instant;
use super::trail::Record;
use super::{Filters, Principals, Problem};

/// Most problems (malformed lines, records, files) listed by location; the rest are counted.
pub const MAX_LISTED_PROBLEMS: usize = 200;

/// The CloudTrail `eventSource` of S3.
pub const S3_EVENT_SOURCE: &str = "s3.amazonaws.com";

/// What an S3 action did to an object, for the per-user summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Object content left S3: GetObject, SelectObjectContent, GetObjectTorrent.
    Read,
    /// An object was created or replaced: PutObject, PostObject, CopyObject (the copy),
    /// CompleteMultipartUpload.
    Write,
    /// DeleteObject, DeleteObjects.
    Delete,
    /// Any other S3 data event (HeadObject, ListObjects, GetObjectAcl, UploadPart...).
    Other,
    /// The request failed (`errorCode` set, e.g. AccessDenied), whatever the action.
    Denied,
}

impl Class {
    /// The class of `event_name` with `error_code`.
    #[must_use]
    pub fn of(event_name: &str, error_code: Option<&str>) -> Self {
        if error_code.is_some_and(|c| !c.is_empty()) {
            return Self::Denied;
        }
        match event_name {
            "GetObject" | "SelectObjectContent" | "GetObjectTorrent" => Self::Read,
            "PutObject" | "PostObject" | "CopyObject" | "CompleteMultipartUpload" => Self::Write,
            "DeleteObject" | "DeleteObjects" => Self::Delete,
            _ => Self::Other,
        }
    }

    /// The lowercase name used in every output format.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Delete => "delete",
            Self::Other => "other",
            Self::Denied => "denied",
        }
    }
}

/// Where an attributed S3 data event was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// In an AppStream streaming session (attributed by address and time).
    #[default]
    #[serde(rename = "appstream")]
    AppStream,
    /// By the user's notebook (attributed by its execution role).
    Notebook,
}

impl SessionKind {
    /// `appstream` or `notebook`, as in every output format.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AppStream => "appstream",
            Self::Notebook => "notebook",
        }
    }
}

/// Why an event is unattributed (the `reason` of the unattributed list in every output format;
/// [`Reason::NoSession`] for every other event).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// No AppStream session of its account held its source address at its time.
    #[default]
    NoSession,
    /// It came through a VPC endpoint that is not the sandbox's (`vpcEndpointId` is none of
    /// [`Principals::vpc_endpoints`]): another network, whose private addresses may be the
    /// sandbox's too, so its address names no one.
    OtherVpcEndpoint,
    /// Its role is on a user's notebook-role path (`/sandboxc/<env>/users/<hash>/`) but is not
    /// that user's notebook role ([`Principals::notebook_roles`]): anyone allowed
    /// `iam:CreateRole` can create a role on that path.
    NotNotebookRole,
}

impl Reason {
    /// `no_session`, `other_vpc_endpoint` or `not_notebook_role`, as in every output format.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoSession => "no_session",
            Self::OtherVpcEndpoint => "other_vpc_endpoint",
            Self::NotNotebookRole => "not_notebook_role",
        }
    }

    /// Every reason.
    pub const ALL: [Self; 3] = [Self::NoSession, Self::OtherVpcEndpoint, Self::NotNotebookRole];

    /// The reason of an `as_str` value.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// What it means, in words (the table's legend).
    #[must_use]
    pub fn explain(self) -> &'static str {
        match self {
            Self::NoSession => "no session held the source address at that time",
            Self::OtherVpcEndpoint => {
                "the request came through another VPC endpoint than the sandbox's (vpcEndpointId): another network, whose private addresses may be the sandbox's, so its address names no one"
            }
            Self::NotNotebookRole => {
                "role on a user's path but not among the users' known notebook roles (--notebook-role, or the deployed stack's): anyone allowed iam:CreateRole can create a role on that path; a user whose role was not given has none known"
            }
        }
    }
}

/// Interned strings: event names, buckets, addresses, error codes and principals repeat; and
/// the object keys of the kept events, stored without a heap allocation each.
#[derive(Debug, Default)]
pub struct Strings {
    list: Vec<Rc<str>>,
    index: HashMap<Rc<str>, u32>,
    /// Object keys, back to back in chunks that never grow.
    keys: Vec<String>,
    /// Further keys of events (DeleteObjects), each event's a run of this list.
    more: Vec<Key>,
}

impl Strings {
    /// The ID of `s` (0 is the empty string).
    pub fn id(&mut self, s: &str) -> u32 {
        if self.list.is_empty() {
            self.list.push(Rc::from(""));
            self.index.insert(Rc::from(""), 0);
        }
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let rc: Rc<str> = Rc::from(s);
        let i = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        self.list.push(rc.clone());
        self.index.insert(rc, i);
        i
    }

    /// The string of an ID ("" when unknown).
    #[must_use]
    pub fn get(&self, id: u32) -> &str {
        self.list.get(id as usize).map_or("", |s| s)
    }

    /// Stores an object key (not interned: keys rarely repeat) in the key chunks and returns
    /// where it is. A chunk is allocated once at [`KEY_CHUNK`] bytes (or the key's length when
    /// longer) and never grows, so a key costs its bytes and 12 bytes in its event: no heap
    /// allocation of its own.
    pub fn key(&mut self, s: &str) -> Key {
        if s.is_empty() {
            return Key::default();
        }
        let fits = self.keys.last().is_some_and(|c| c.capacity() - c.len() >= s.len());
        if !fits {
            self.keys.push(String::with_capacity(KEY_CHUNK.max(s.len())));
        }
        let chunk = self.keys.len().saturating_sub(1);
        let Some(last) = self.keys.last_mut() else { return Key::default() };
        let start = last.len();
        last.push_str(s);
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Key { chunk: n(chunk), start: n(start), len: n(s.len()) }
    }

    /// The text of a stored key ("" when unknown).
    #[must_use]
    pub fn key_text(&self, k: Key) -> &str {
        let (start, len) = (k.start as usize, k.len as usize);
        self.keys.get(k.chunk as usize).and_then(|c| c.get(start..start.saturating_add(len))).unwrap_or("")
    }

    /// Stores the further keys of an event (DeleteObjects) in the key chunks, each listed in
    /// one flat list of [`Key`]s: 12 bytes and its text per key, no heap allocation per event.
    pub fn more_keys(&mut self, keys: &[&str]) -> MoreKeys {
        let start = u32::try_from(self.more.len()).unwrap_or(u32::MAX);
        for k in keys {
            let key = self.key(k);
            self.more.push(key);
        }
        MoreKeys { start, len: u32::try_from(keys.len()).unwrap_or(u32::MAX) }
    }

    /// The further keys stored as `more` (none for the default).
    #[must_use]
    pub fn more_keys_of(&self, more: MoreKeys) -> Vec<&str> {
        let (start, len) = (more.start as usize, more.len as usize);
        self.more.get(start..start.saturating_add(len)).unwrap_or_default().iter().map(|k| self.key_text(*k)).collect()
    }
}

/// Where the further keys of an event are listed ([`Strings::more_keys`]); the default is none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MoreKeys {
    start: u32,
    len: u32,
}

impl MoreKeys {
    /// How many further keys.
    #[must_use]
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.len == 0
    }
}

/// Bytes of one chunk of object keys ([`Strings::key`]).
pub const KEY_CHUNK: usize = 1 << 20;

/// Where an object key is stored ([`Strings::key`]); the default is the empty key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Key {
    chunk: u32,
    start: u32,
    len: u32,
}

/// A CloudTrail `eventID`. CloudTrail writes canonical lowercase UUIDs: those are kept in 16
/// bytes instead of a 36-byte string on the heap (half a million kept events save about 30 MB);
/// anything else is kept as text. Ordered as their text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventId {
    /// A canonical UUID (`8-4-4-4-12` lowercase hex digits), as a number: its high and low 64
    /// bits (two `u64`, not a `u128`, so that an event is aligned to 8 bytes, not 16).
    Uuid([u64; 2]),
    /// Any other text.
    Text(Box<str>),
}

impl EventId {
    /// Parses an `eventID`.
    #[must_use]
    pub fn new(text: &str) -> Self {
        let b = text.as_bytes();
        let canonical = b.len() == 36
            && b.iter().enumerate().all(|(i, c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    *c == b'-'
                } else {
                    c.is_ascii_digit() || (b'a'..=b'f').contains(c)
                }
            });
        if canonical {
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            if let Ok(n) = u128::from_str_radix(&hex, 16) {
                let word = |w: u128| u64::try_from(w & u128::from(u64::MAX)).unwrap_or_default();
                return Self::Uuid([word(n >> 64), word(n)]);
            }
        }
        Self::Text(text.into())
    }
}

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Uuid([hi, lo]) => {
                let h = format!("{hi:016x}{lo:016x}");
                write!(f, "{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
            }
            Self::Text(t) => f.write_str(t),
        }
    }
}

impl Ord for EventId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            // Same length, hex digits in ASCII order: numeric order is text order.
            (Self::Uuid(a), Self::Uuid(b)) => a.cmp(b),
            _ => self.to_string().cmp(&other.to_string()),
        }
    }
}

impl PartialOrd for EventId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// One S3 data event kept for the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `eventTime`.
    pub time: Instant,
    /// `eventName` (interned).
    pub name: u32,
    /// `requestParameters.bucketName` (interned).
    pub bucket: u32,
    /// `sourceIPAddress` (interned).
    pub source_ip: u32,
    /// `errorCode` (interned; 0 when none).
    pub error_code: u32,
    /// `userIdentity.arn` (interned; 0 when none).
    pub principal: u32,
    /// `userIdentity.sessionContext.sessionIssuer.arn` (interned; 0 when none).
    pub issuer: u32,
    /// `requestParameters.key` ("" when none, e.g. DeleteObjects), stored in the strings
    /// ([`Strings::key_text`]).
    pub key: Key,
    /// `eventID`.
    pub event_id: EventId,
    /// For attributed events: the session (index into the session list) when `kind` is
    /// [`SessionKind::AppStream`], the notebook user (index into [`Auditor::notebook_users`])
    /// when it is [`SessionKind::Notebook`].
    pub session: u32,
    /// How an attributed event was attributed ([`SessionKind::AppStream`] for all others).
    pub kind: SessionKind,
    /// `recipientAccountId` (interned; 0 when none).
    pub account: u32,
    /// Further objects of the same bucket the request named in `resources[]` (DeleteObjects),
    /// stored in the strings ([`Strings::more_keys_of`]).
    pub more_keys: MoreKeys,
    /// The summary class.
    pub class: Class,
    /// `vpcEndpointId` (interned; 0 when none: the public endpoint).
    pub vpc_endpoint: u32,
    /// Why the event is unattributed (in the unattributed list; [`Reason::NoSession`] elsewhere).
    pub reason: Reason,
}

/// Counts of what was read and set aside; all appear in the report.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    /// Usage-report files read.
    pub usage_report_files: usize,
    /// CloudTrail log files read.
    pub cloudtrail_files: usize,
    /// Decision files read.
    pub decision_files: usize,
    /// Sessions read (after de-duplication by `user_session_id`).
    pub sessions: usize,
    /// CloudTrail records read.
    pub cloudtrail_records: usize,
    /// Records that are not S3 data events (other services, management events).
    pub not_s3_data_events: usize,
    /// S3 data events in buckets other than the audited ones.
    pub other_buckets: usize,
    /// S3 data events whose name `--event` does not list.
    pub other_event_names: usize,
    /// Events and decisions outside `--since`/`--until`.
    pub outside_window: usize,
    /// Events attributed to users `--user` does not list.
    pub other_users: usize,
    /// Records, rows and lines that could not be read (each listed in `problems`, up to
    /// a limit).
    pub malformed: usize,
    /// Files that are not in the expected format, or not readable.
    pub unreadable_files: usize,
    /// CloudWatch Logs events that are not decisions (runtime START/END/REPORT lines).
    pub other_log_lines: usize,
    /// Files skipped by name: CloudTrail digest files, AppStream applications reports.
    pub skipped_by_name: usize,
    /// S3 data events whose `recipientAccountId` is not the account of the sessions that
    /// would claim them (listed in `other_account`, not attributed).
    pub other_account: usize,
    /// Kept S3 data events whose `eventID` an earlier kept event already had (the same record
    /// in two trail files, e.g. a trail that delivered a file twice): counted once, listed
    /// once ([`Auditor::remove_duplicates`]).
    pub duplicate_records: usize,
    /// Owners and log groups of the decisions table that are not the sandbox's validator log
    /// group of the audited account, each counted once (records written there by someone else,
    /// never read as decisions; each listed in `problems` with its count of log events).
    pub foreign_decision_log_groups: usize,
    /// Validator log events whose copies in the decisions table differ in time or message
    /// (none of the copies read as a decision; each listed in `problems` with its objects).
    pub conflicting_decision_events: usize,
}

impl Counts {
    /// Every entry recorded for `problems` (listed up to [`MAX_LISTED_PROBLEMS`]): malformed
    /// lines and records, foreign decision log groups and conflicting decision events.
    #[must_use]
    pub fn problems(&self) -> usize {
        self.malformed + self.foreign_decision_log_groups + self.conflicting_decision_events
    }
}

/// The state of one audit run: feed usage reports first ([`Auditor::add_session`]), then
/// [`Auditor::index`], then CloudTrail records and decisions in any order.
#[derive(Debug, Default)]
pub struct Auditor {
    /// What to keep.
    pub filters: Filters,
    /// Every session, de-duplicated.
    pub sessions: Vec<Session>,
    /// Each session ID's versions: one, or several when reports contradict each other.
    by_id: HashMap<String, Vec<u32>>,
    /// Session IDs whose reports contradict each other (user, address or start): every event
    /// they would claim is ambiguous.
    pub conflicted: HashMap<String, BTreeSet<String>>,
    /// Events of other accounts (`recipientAccountId` differs from the sessions').
    pub other_account: Vec<Event>,
    /// Buckets, event names seen in S3 data events (for filter warnings).
    pub seen_buckets: BTreeSet<String>,
    /// Event names seen in S3 data events.
    pub seen_events: BTreeSet<String>,
    /// The sessions' `aws_account_id`s.
    accounts: BTreeSet<String>,
    by_ip: HashMap<u32, IpSessions>,
    /// Interned strings of the events.
    pub strings: Strings,
    /// Attributed events.
    pub attributed: Vec<Event>,
    /// Events no session claims.
    pub unattributed: Vec<Event>,
    /// Events two or more sessions claim, with the candidate sessions.
    pub ambiguous: Vec<(Event, Vec<u32>)>,
    /// Events of the admin roles: administrative access, never findings.
    pub administrative: Vec<Event>,
    /// Who the sandbox's principals are.
    pub principals: Principals,
    /// The user hashes of the notebook roles seen, in order of first sight.
    pub notebook_users: Vec<String>,
    notebook_index: HashMap<String, u32>,
    /// The hashes of `--user`'s user IDs.
    filter_hashes: Vec<String>,
    /// Events of notebook roles the audit cannot attribute, by why (another environment, no
    /// environment given, another account), for the notes.
    pub unclaimed_notebook_roles: BTreeMap<String, usize>,
    /// Decisions read.
    pub decisions: Vec<Decision>,
    /// Problems listed by location (at most [`MAX_LISTED_PROBLEMS`]).
    pub problems: Vec<Problem>,
    /// Files that are not in the expected format (all listed).
    pub bad_files: Vec<Problem>,
    /// Counts.
    pub counts: Counts,
    /// Notes for the reader (conflicting duplicate sessions...).
    pub notes: BTreeSet<String>,
}

/// The sessions of one address, sorted by start, with the running maximum of their ends.
#[derive(Debug, Default)]
struct IpSessions {
    sessions: Vec<u32>,
    /// `max_end[i]`: the latest end among `sessions[..=i]` (`i64::MAX` when one is open).
    max_end: Vec<i64>,
}

impl Auditor {
    /// A new run with `filters`.
    #[must_use]
    pub fn new(filters: Filters) -> Self {
        let filter_hashes = filters.users.iter().map(|u| user_hash(u)).collect();
        Self { filters, filter_hashes, ..Self::default() }
    }

    /// The same run, knowing the sandbox's `principals` (set before the first record).
    #[must_use]
    pub fn with_principals(mut self, principals: Principals) -> Self {
        self.principals = principals;
        self
    }

    /// How a record's calling role classifies it: an admin role, a notebook user of the audited
    /// environment (their hash; when [`Principals::notebook_roles`] are known, only that user's
    /// role names), a role on a user's path that is not that user's notebook role, a notebook
    /// role the audit cannot attribute (why), or neither (then the address decides).
    fn classify(&self, issuer: Option<&str>, account: Option<&str>) -> Caller {
        let Some(issuer) = issuer else { return Caller::Other };
        if self.principals.admin_roles.iter().any(|a| a == issuer) {
            return Caller::Admin;
        }
        let Some((env, hash, name)) = notebook_role(issuer) else { return Caller::Other };
        let role_account = issuer.split(':').nth(4).unwrap_or_default();
        Caller::Unclaimed(match self.principals.environment.as_deref() {
            _ if account.is_some_and(|a| a != role_account) => {
                format!("a role of account {role_account} under /sandboxc/{env}/users/, not of the trail's account")
            }
            Some(ours) if ours == env => {
                let known = self.principals.notebook_roles.as_ref();
                return if known.is_none_or(|k| k.get(hash).is_some_and(|names| names.contains(name))) {
                    Caller::Notebook(hash.to_string())
                } else {
                    Caller::NotNotebookRole
                };
            }
            Some(ours) => format!(
                "notebook roles of sandboxc environment {env} (/sandboxc/{env}/users/), not of the audited environment {ours}"
            ),
            None => format!(
                "notebook roles of sandboxc environment {env} (/sandboxc/{env}/users/): give the blueprint or --stack {env} to attribute them to their users"
            ),
        })
    }

    /// The index of a notebook user's hash in [`Auditor::notebook_users`].
    pub fn notebook_user(&mut self, hash: String) -> u32 {
        if let Some(&i) = self.notebook_index.get(&hash) {
            return i;
        }
        let i = u32::try_from(self.notebook_users.len()).unwrap_or(u32::MAX);
        self.notebook_users.push(hash.clone());
        self.notebook_index.insert(hash, i);
        i
    }

    /// Records a problem (listed up to the limit, always counted).
    pub fn problem(&mut self, p: Problem) {
        self.counts.malformed += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// Records an owner and log group of the decisions table that is not the sandbox's validator
    /// log group of the audited account (listed up to the limit, counted in
    /// [`Counts::foreign_decision_log_groups`], not as malformed).
    pub fn foreign_decision_log_group(&mut self, p: Problem) {
        self.counts.foreign_decision_log_groups += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// Records a validator log event whose copies differ (listed up to the limit, counted in
    /// [`Counts::conflicting_decision_events`], not as malformed).
    pub fn conflicting_decision_event(&mut self, p: Problem) {
        self.counts.conflicting_decision_events += 1;
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// Records a file that is not in the expected format.
    pub fn bad_file(&mut self, p: Problem) {
        self.counts.unreadable_files += 1;
        self.bad_files.push(p);
    }

    /// Adds a session; a session seen before (the same `user_session_id` in two daily
    /// reports, e.g. across midnight) with the same user, address and start is merged: a known
    /// end wins over an open one, the later of two ends wins. A version that contradicts the
    /// others (different user, address or start) is kept as well and the session ID marked
    /// conflicted: every event any version would claim becomes ambiguous, with a note naming
    /// the rows (file:line).
    pub fn add_session(&mut self, s: Session) {
        let versions = self.by_id.get(&s.session_id).cloned().unwrap_or_default();
        for &i in &versions {
            let Some(old) = self.sessions.get_mut(i as usize) else { continue };
            if old.user_id == s.user_id && old.eni_ip == s.eni_ip && old.start == s.start {
                match (old.end, s.end) {
                    (None, Some(_)) => {
                        old.end = s.end;
                        old.open_until = None;
                    }
                    (Some(a), Some(b)) if b > a => old.end = s.end,
                    _ => {}
                }
                if old.account.is_none() {
                    old.account = s.account;
                }
                return;
            }
        }
        let i = u32::try_from(self.sessions.len()).unwrap_or(u32::MAX);
        if !versions.is_empty() {
            let origins = self.conflicted.entry(s.session_id.clone()).or_default();
            for &v in &versions {
                if let Some(old) = self.sessions.get(v as usize) {
                    origins.insert(old.origin.clone());
                }
            }
            origins.insert(s.origin.clone());
        }
        self.by_id.entry(s.session_id.clone()).or_default().push(i);
        self.sessions.push(s);
    }

    /// Whether session `i`'s reports contradict each other.
    #[must_use]
    pub fn is_conflicted(&self, i: u32) -> bool {
        self.sessions.get(i as usize).is_some_and(|s| self.conflicted.contains_key(&s.session_id))
    }

    /// Builds the address index; call after the last session.
    pub fn index(&mut self) {
        self.counts.sessions = self.sessions.len();
        self.accounts = self.sessions.iter().filter_map(|s| s.account.clone()).collect();
        for (id, origins) in &self.conflicted {
            self.notes.insert(format!(
                "session {id} appears with a different user, address or start in {}: the reports contradict each other, so every event it would claim is ambiguous",
                origins.iter().cloned().collect::<Vec<_>>().join(" and ")
            ));
        }
        self.by_ip.clear();
        for (i, s) in self.sessions.iter().enumerate() {
            if let Some(ip) = &s.eni_ip {
                let id = self.strings.id(ip);
                self.by_ip.entry(id).or_default().sessions.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        let sessions = &self.sessions;
        for list in self.by_ip.values_mut() {
            list.sessions.sort_by_key(|&i| sessions.get(i as usize).map(|s| (s.start, s.session_id.clone())));
            let mut max = i64::MIN;
            list.max_end = list
                .sessions
                .iter()
                .map(|&i| {
                    let end = sessions.get(i as usize).map_or(i64::MIN, |s| s.last().0);
                    max = max.max(end);
                    max
                })
                .collect();
        }
    }

    /// The sessions holding `ip` at `t`.
    #[must_use]
    pub fn claimants(&self, ip: u32, t: Instant) -> Vec<u32> {
        let Some(list) = self.by_ip.get(&ip) else { return Vec::new() };
        let upto = list.sessions.partition_point(|&i| self.sessions.get(i as usize).is_some_and(|s| s.start <= t));
        let mut out = Vec::new();
        for j in (0..upto).rev() {
            if list.max_end.get(j).is_none_or(|&m| m < t.0) {
                break;
            }
            if let Some(&i) = list.sessions.get(j) {
                if self.sessions.get(i as usize).is_some_and(|s| s.contains(t)) {
                    out.push(i);
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn user_wanted(&self, session: u32) -> bool {
        self.filters.users.is_empty()
            || self.sessions.get(session as usize).is_some_and(|s| self.filters.users.contains(&s.user_id))
    }

    /// Takes one CloudTrail record (`location`: file and record number, for problems).
    pub fn add_record(&mut self, location: &str, index: usize, mut r: Record) {
        self.counts.cloudtrail_records += 1;
        if r.bucket.is_none() {
            r.bucket = r.resource_bucket.take().or_else(|| r.objects.first().map(|(b, _)| b.clone()));
        }
        let is_s3 = r.event_source.as_deref() == Some(S3_EVENT_SOURCE);
        let is_data = r.event_category.as_deref().is_none_or(|c| c == "Data");
        if !is_s3 || !is_data {
            if r.event_source.is_none() && r.event_time.is_none() && r.event_name.is_none() {
                self.problem(Problem::record(
                    location,
                    index,
                    "not a CloudTrail record (no eventSource, eventTime or eventName)".into(),
                ));
            } else {
                self.counts.not_s3_data_events += 1;
            }
            return;
        }
        let (Some(name), Some(bucket)) = (r.event_name.as_deref(), r.bucket.as_deref()) else {
            if r.event_name.is_some() && r.event_category.is_none() {
                // A bucket-level management event of an older record without eventCategory.
                self.counts.not_s3_data_events += 1;
            } else {
                self.problem(Problem::record(
                    location,
                    index,
                    "an S3 data event without eventName or requestParameters.bucketName".into(),
                ));
            }
            return;
        };
        let time = match r.event_time.as_deref().map(Instant::parse) {
            Some(Ok(t)) => t,
            Some(Err(e)) => return self.problem(Problem::record(location, index, format!("eventTime {e}"))),
            None => return self.problem(Problem::record(location, index, "no eventTime".into())),
        };
        let account = r.account.as_deref().filter(|a| !a.is_empty());
        let caller = self.classify(r.issuer.as_deref(), account);
        // An AppStream session is found by address; a notebook or admin role needs none.
        let ip = match (r.source_ip.as_deref(), &caller) {
            (Some(ip), _) => ip,
            (None, Caller::Admin | Caller::Notebook(_) | Caller::NotNotebookRole) => "",
            (None, _) => {
                return self.problem(Problem::record(location, index, "no sourceIPAddress".into()));
            }
        };
        if !self.seen_buckets.contains(bucket) {
            self.seen_buckets.insert(bucket.to_string());
        }
        if !self.seen_events.contains(name) {
            self.seen_events.insert(name.to_string());
        }
        if !self.filters.buckets.is_empty() && !self.filters.buckets.iter().any(|b| b == bucket) {
            self.counts.other_buckets += 1;
            return;
        }
        if !self.filters.events.is_empty() && !self.filters.events.iter().any(|e| e.eq_ignore_ascii_case(name)) {
            self.counts.other_event_names += 1;
            return;
        }
        if !self.filters.in_window(time) {
            self.counts.outside_window += 1;
            return;
        }
        let ip_id = self.strings.id(ip);
        match caller {
            Caller::Admin => {
                let event = self.event(&r, time, name, bucket, ip_id, u32::MAX, SessionKind::AppStream);
                self.administrative.push(event);
                return;
            }
            Caller::Notebook(hash) => {
                if self.filters.users.is_empty() || self.filter_hashes.contains(&hash) {
                    let user = self.notebook_user(hash);
                    let event = self.event(&r, time, name, bucket, ip_id, user, SessionKind::Notebook);
                    self.attributed.push(event);
                } else {
                    self.counts.other_users += 1;
                }
                return;
            }
            Caller::NotNotebookRole => {
                let mut event = self.event(&r, time, name, bucket, ip_id, u32::MAX, SessionKind::AppStream);
                event.reason = Reason::NotNotebookRole;
                self.unattributed.push(event);
                return;
            }
            Caller::Unclaimed(why) => *self.unclaimed_notebook_roles.entry(why).or_default() += 1,
            Caller::Other => {}
        }
        // A request through another VPC endpoint came from another network: its address (which
        // may be one of the sandbox's, private ranges overlap) names no one.
        let endpoints = &self.principals.vpc_endpoints;
        let other_endpoint = !endpoints.is_empty()
            && r.vpc_endpoint.as_deref().is_some_and(|v| !v.is_empty() && !endpoints.iter().any(|e| e == v));
        let by_address = if other_endpoint { Vec::new() } else { self.claimants(ip_id, time) };
        // The account: a record of another account (org trail, multi-account trail bucket)
        // is never attributed to a session of this one.
        let same_account = |s: &Session| account.is_none_or(|a| s.account.as_deref().is_none_or(|sa| sa == a));
        let claimants: Vec<u32> =
            by_address.iter().copied().filter(|&i| self.sessions.get(i as usize).is_some_and(same_account)).collect();
        let foreign = account.is_some_and(|a| {
            (!by_address.is_empty() && claimants.is_empty())
                || (by_address.is_empty() && !self.accounts.is_empty() && !self.accounts.contains(a))
        });
        match claimants.as_slice() {
            [one] if !self.user_wanted(*one) => {
                self.counts.other_users += 1;
                return;
            }
            [_, _, ..] if !claimants.iter().any(|&c| self.user_wanted(c)) => {
                self.counts.other_users += 1;
                return;
            }
            _ => {}
        }
        let session = claimants.first().copied().unwrap_or(u32::MAX);
        let mut event = self.event(&r, time, name, bucket, ip_id, session, SessionKind::AppStream);
        if other_endpoint {
            event.reason = Reason::OtherVpcEndpoint;
        }
        if foreign {
            self.counts.other_account += 1;
            self.other_account.push(event);
            return;
        }
        match claimants.len() {
            0 => self.unattributed.push(event),
            1 if !claimants.iter().any(|&c| self.is_conflicted(c)) => self.attributed.push(event),
            _ => self.ambiguous.push((event, claimants)),
        }
    }

    /// The kept form of a record.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        r: &Record,
        time: Instant,
        name: &str,
        bucket: &str,
        ip_id: u32,
        session: u32,
        kind: SessionKind,
    ) -> Event {
        let account = r.account.as_deref().filter(|a| !a.is_empty());
        Event {
            time,
            class: Class::of(name, r.error_code.as_deref()),
            name: self.strings.id(name),
            bucket: self.strings.id(bucket),
            source_ip: ip_id,
            error_code: r.error_code.as_deref().map_or(0, |c| self.strings.id(c)),
            principal: r.principal.as_deref().map_or(0, |p| self.strings.id(p)),
            issuer: r.issuer.as_deref().map_or(0, |p| self.strings.id(p)),
            more_keys: {
                let primary = r
                    .key
                    .as_deref()
                    .or_else(|| r.objects.iter().find(|(b, _)| b == bucket).map(|(_, k)| k.as_str()))
                    .unwrap_or_default();
                let mut more: Vec<&str> =
                    r.objects.iter().filter(|(b, k)| b == bucket && k != primary).map(|(_, k)| k.as_str()).collect();
                more.sort_unstable();
                more.dedup();
                self.strings.more_keys(&more)
            },
            key: {
                let key = r
                    .key
                    .as_deref()
                    .or_else(|| r.objects.iter().find(|(b, _)| b == bucket).map(|(_, k)| k.as_str()))
                    .unwrap_or_default();
                self.strings.key(key)
            },
            event_id: EventId::new(r.event_id.as_deref().unwrap_or_default()),
            session,
            kind,
            account: account.map_or(0, |a| self.strings.id(a)),
            vpc_endpoint: r.vpc_endpoint.as_deref().filter(|v| !v.is_empty()).map_or(0, |v| self.strings.id(v)),
            reason: Reason::NoSession,
        }
    }

    /// Removes the kept events whose `eventID` an earlier kept event of the same list already
    /// had (CloudTrail gives every event a unique `eventID`, CloudTrail record contents in the
    /// CloudTrail user guide; docs/aws-facts.md, "CloudTrail"), keeping the first in read order,
    /// and counts them in [`Counts::duplicate_records`]. A record and its copy are judged alike
    /// (the sessions are fixed before the first record), so both land in the same list. Memory:
    /// a 4-byte index per kept event while sorting, nothing per record: the kept events are
    /// held anyway. Records without an `eventID` are never merged. Call after the last record.
    pub fn remove_duplicates(&mut self) {
        let mut removed = dedup_by_event_id(&mut self.attributed, |e| e);
        removed += dedup_by_event_id(&mut self.unattributed, |e| e);
        removed += dedup_by_event_id(&mut self.ambiguous, |(e, _)| e);
        removed += dedup_by_event_id(&mut self.administrative, |e| e);
        removed += dedup_by_event_id(&mut self.other_account, |e| e);
        self.counts.duplicate_records += removed;
    }

    /// Takes one decision (time filtering and matching happen in the report).
    pub fn add_decision(&mut self, d: Decision) {
        if d.time.is_some_and(|t| !self.filters.in_window(t)) {
            self.counts.outside_window += 1;
            return;
        }
        self.decisions.push(d);
    }

    /// The users of the versions of session `id` (one unless the reports contradict each other).
    #[must_use]
    pub fn users_of_session(&self, id: &str) -> Vec<&str> {
        self.by_id
            .get(id)
            .map(|v| v.iter().filter_map(|&i| self.sessions.get(i as usize)).map(|s| s.user_id.as_str()).collect())
            .unwrap_or_default()
    }

    /// The session a decision belongs to: the one with its `session_id` whose user's sha256
    /// is its `user_hash`.
    #[must_use]
    pub fn session_of(&self, d: &Decision) -> Option<u32> {
        let versions = self.by_id.get(d.session_id.as_deref()?)?;
        versions.iter().copied().find(|&i| {
            self.sessions
                .get(i as usize)
                .is_some_and(|s| Some(user_hash(&s.user_id).as_str()) == d.user_hash.as_deref())
        })
    }
}

/// Drops the items of `list` whose event's ID an earlier item had; returns how many.
fn dedup_by_event_id<T>(list: &mut Vec<T>, event: impl Fn(&T) -> &Event) -> usize {
    let empty = |e: &Event| matches!(&e.event_id, EventId::Text(t) if t.is_empty());
    let mut order: Vec<u32> = (0..u32::try_from(list.len()).unwrap_or(u32::MAX)).collect();
    let id = |i: &u32| list.get(*i as usize).map(|t| &event(t).event_id);
    // Stable: equal IDs stay in read order, so the first one read is kept.
    order.sort_by(|a, b| id(a).cmp(&id(b)));
    let mut drop = vec![false; list.len()];
    let mut removed = 0;
    for pair in order.windows(2) {
        let &[a, b] = pair else { continue };
        let (Some(ea), Some(eb)) = (list.get(a as usize).map(&event), list.get(b as usize).map(&event)) else {
            continue;
        };
        if ea.event_id == eb.event_id && !empty(ea) {
            if let Some(d) = drop.get_mut(b as usize) {
                *d = true;
                removed += 1;
            }
        }
    }
    if removed > 0 {
        let mut i = 0;
        list.retain(|_| {
            let keep = !drop.get(i).copied().unwrap_or(false);
            i += 1;
            keep
        });
    }
    removed
}

/// Who made a record, by its calling role.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    /// One of [`Principals::admin_roles`].
    Admin,
    /// The notebook role of the user with this hash, in the audited environment.
    Notebook(String),
    /// A sandboxc notebook role the audit cannot attribute, and why: attributed by address.
    Unclaimed(String),
    /// A role on a user's notebook-role path of the audited environment whose name is not that
    /// user's notebook role: unattributed ([`Reason::NotNotebookRole`]), never by address.
    NotNotebookRole,
    /// Anything else: attributed by address.
    Other,
}

/// The environment, user hash and role name of a sandboxc notebook role ARN of any environment
/// (`arn:<partition>:iam::<account>:role/sandboxc/<env>/users/<hash>/<name>`).
fn notebook_role(arn: &str) -> Option<(&str, &str, &str)> {
    let (_, path) = arn.split_once(":role/sandboxc/")?;
    let (env, _) = path.split_once("/users/")?;
    if env.is_empty() || env.contains('/') {
        return None;
    }
    let name = arn.rsplit('/').next().unwrap_or_default();
    user_hash_of_role_arn(env, arn).map(|hash| (env, hash, name))
}

/// sha256 of a user ID, lowercase hex: the home-folder hash (docs/aws-facts.md, "AppStream 2.0: home folders").
#[must_use]
pub fn user_hash(user_id: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(user_id.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod event_id_tests {
    use super::EventId;

    #[test]
    fn uuids_round_trip_and_order_as_text() {
        for text in [
            "00000000-0000-4000-8000-000000000001",
            "f4e0c3c9-7b1a-4d7e-9a55-0c2b5f7e9d10",
            "e1",
            "F4E0C3C9-7B1A-4D7E-9A55-0C2B5F7E9D10",
            "",
        ] {
            assert_eq!(EventId::new(text).to_string(), text);
        }
        assert!(matches!(EventId::new("f4e0c3c9-7b1a-4d7e-9a55-0c2b5f7e9d10"), EventId::Uuid(_)));
        let mut ids = vec!["e1", "f4e0c3c9-7b1a-4d7e-9a55-0c2b5f7e9d10", "00000000-0000-4000-8000-000000000001", "a"];
        let mut parsed: Vec<EventId> = ids.iter().map(|t| EventId::new(t)).collect();
        ids.sort_unstable();
        parsed.sort();
        assert_eq!(parsed.iter().map(ToString::to_string).collect::<Vec<_>>(), ids);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::NotebookRoles;

    fn session(id: &str, user: &str, ip: &str, start: &str, end: Option<&str>) -> Session {
        let t = |s: &str| Instant::parse(s).unwrap_or(Instant(0));
        Session {
            session_id: id.into(),
            user_id: user.into(),
            authentication_type: "CUSTOM".into(),
            fleet: "f".into(),
            start: t(start),
            end: end.map(t),
            open_until: None,
            account: Some("123456789012".into()),
            eni_ip: Some(ip.into()),
            origin: "r.csv:1".into(),
        }
    }

    fn at(s: &str) -> Instant {
        Instant::parse(s).unwrap_or(Instant(0))
    }

    #[test]
    fn claimants_split_by_time_and_flag_overlap() {
        let mut a = Auditor::default();
        a.add_session(session("s1", "alice", "10.0.0.1", "2026-11-28T08:00:00Z", Some("2026-11-28T10:00:00Z")));
        a.add_session(session("s2", "bob", "10.0.0.1", "2026-11-28T11:00:00Z", Some("2026-11-28T12:00:00Z")));
        a.add_session(session("s3", "carol", "10.0.0.1", "2026-11-28T11:30:00Z", None));
        a.add_session(session("s0", "dave", "10.0.0.1", "2026-11-27T08:00:00Z", Some("2026-11-27T09:00:00Z")));
        a.index();
        let ip = a.strings.id("10.0.0.1");
        assert_eq!(a.claimants(ip, at("2026-11-28T09:00:00Z")), vec![0]);
        assert_eq!(a.claimants(ip, at("2026-11-28T10:00:00Z")), vec![0]);
        assert!(a.claimants(ip, at("2026-11-28T10:30:00Z")).is_empty());
        assert_eq!(a.claimants(ip, at("2026-11-28T11:10:00Z")), vec![1]);
        assert_eq!(a.claimants(ip, at("2026-11-28T11:45:00Z")), vec![1, 2]);
        assert_eq!(a.claimants(ip, at("2026-12-01T00:00:00Z")), vec![2]);
        assert!(a.claimants(ip, at("2026-11-01T00:00:00Z")).is_empty());
        let other = a.strings.id("10.0.0.2");
        assert!(a.claimants(other, at("2026-11-28T09:00:00Z")).is_empty());
    }

    #[test]
    fn duplicate_sessions_merge_to_the_known_end() {
        let mut a = Auditor::default();
        a.add_session(session("s1", "alice", "10.0.0.1", "2026-11-28T23:00:00Z", None));
        a.add_session(session("s1", "alice", "10.0.0.1", "2026-11-28T23:00:00Z", Some("2026-11-29T01:00:00Z")));
        assert_eq!(a.sessions.len(), 1);
        assert_eq!(a.sessions[0].end, Some(at("2026-11-29T01:00:00Z")));
        assert!(a.conflicted.is_empty() && a.notes.is_empty(), "open then closed: the closed version wins");
    }

    fn record(ip: &str, time: &str, account: Option<&str>) -> Record {
        Record {
            event_time: Some(time.into()),
            event_source: Some(S3_EVENT_SOURCE.into()),
            event_name: Some("GetObject".into()),
            event_category: Some("Data".into()),
            source_ip: Some(ip.into()),
            bucket: Some("b".into()),
            key: Some("k".into()),
            account: account.map(String::from),
            ..Record::default()
        }
    }

    /// Review finding 3: a session ID whose reports disagree on user, address or start makes
    /// every event it would claim ambiguous (no "first file wins").
    #[test]
    fn contradicting_reports_make_events_ambiguous() {
        for other in [
            session("s1", "mallory", "10.0.0.1", "2026-11-28T23:00:00Z", Some("2026-11-29T01:00:00Z")),
            session("s1", "alice", "10.0.0.2", "2026-11-28T23:00:00Z", Some("2026-11-29T01:00:00Z")),
            session("s1", "alice", "10.0.0.1", "2026-11-28T22:00:00Z", Some("2026-11-29T01:00:00Z")),
        ] {
            let mut a = Auditor::default();
            let mut first = session("s1", "alice", "10.0.0.1", "2026-11-28T23:00:00Z", Some("2026-11-29T01:00:00Z"));
            first.origin = "day28.csv:2".into();
            a.add_session(first);
            let mut other = other;
            other.origin = "day29.csv:3".into();
            let ip = other.eni_ip.clone().unwrap_or_default();
            a.add_session(other);
            a.index();
            a.add_record("t.json", 1, record("10.0.0.1", "2026-11-28T23:30:00Z", None));
            a.add_record("t.json", 2, record(&ip, "2026-11-28T23:31:00Z", None));
            assert!(a.attributed.is_empty(), "{:?}", a.attributed);
            assert_eq!(a.ambiguous.len(), 2);
            assert!(a.notes.iter().any(|n| n.contains("day28.csv:2") && n.contains("day29.csv:3")), "{:?}", a.notes);
        }
    }

    /// Review finding 4: the record's recipientAccountId must be the session's account.
    #[test]
    fn other_accounts_are_not_attributed() {
        let mut a = Auditor::default();
        a.add_session(session("s1", "alice", "10.0.0.1", "2026-11-28T08:00:00Z", Some("2026-11-28T10:00:00Z")));
        a.index();
        a.add_record("t.json", 1, record("10.0.0.1", "2026-11-28T09:00:00Z", Some("999999999999")));
        a.add_record("t.json", 2, record("10.0.0.9", "2026-11-28T09:00:00Z", Some("999999999999")));
        a.add_record("t.json", 3, record("10.0.0.1", "2026-11-28T09:00:00Z", Some("123456789012")));
        a.add_record("t.json", 4, record("10.0.0.1", "2026-11-28T09:00:00Z", None));
        assert_eq!(a.counts.other_account, 2);
        assert_eq!(a.other_account.len(), 2);
        assert_eq!(a.attributed.len(), 2);
        assert!(a.unattributed.is_empty());
    }

    /// Notebook roles name their user, admin roles are listed apart, and neither needs an
    /// address; roles of another environment or account are not attributed by role.
    #[test]
    fn calling_roles_decide_before_addresses() {
        let alice = user_hash("alice");
        let role = |account: &str, env: &str| format!("arn:aws:iam::{account}:role/sandboxc/{env}/users/{alice}/nb");
        let admin = "arn:aws:iam::123456789012:role/BreakGlass";
        let principals = Principals {
            environment: Some("team".into()),
            admin_roles: vec![admin.into()],
            users: Vec::new(),
            ..Principals::default()
        };
        let mut a = Auditor::new(Filters::default()).with_principals(principals.clone());
        a.index();
        let with = |issuer: &str, ip: Option<&str>| Record {
            issuer: Some(issuer.into()),
            source_ip: ip.map(String::from),
            ..record("10.9.9.9", "2026-11-28T09:00:00Z", Some("123456789012"))
        };
        a.add_record("t.json", 1, with(&role("123456789012", "team"), None));
        a.add_record("t.json", 2, with(admin, Some("198.51.100.1")));
        a.add_record("t.json", 3, with(&role("999999999999", "team"), Some("10.9.9.9")));
        a.add_record("t.json", 4, with(&role("123456789012", "other"), Some("10.9.9.9")));
        a.add_record("t.json", 5, with(&role("123456789012", "team"), Some("10.9.9.9")));
        assert_eq!(a.counts.malformed, 0, "{:?}", a.problems);
        assert_eq!(a.attributed.iter().map(|e| e.kind).collect::<Vec<_>>(), [SessionKind::Notebook; 2]);
        assert_eq!(a.notebook_users, std::slice::from_ref(&alice));
        assert_eq!(a.administrative.len(), 1);
        assert_eq!(a.unattributed.len(), 2);
        assert_eq!(a.unclaimed_notebook_roles.len(), 2, "{:?}", a.unclaimed_notebook_roles);
        // --user keeps only that user's notebook events.
        let mut b =
            Auditor::new(Filters { users: vec!["bob".into()], ..Filters::default() }).with_principals(principals);
        b.index();
        b.add_record("t.json", 1, with(&role("123456789012", "team"), None));
        assert!(b.attributed.is_empty());
        assert_eq!(b.counts.other_users, 1);
        // Without an environment a notebook role is no notebook event, and needs an address.
        let mut c = Auditor::new(Filters::default());
        c.index();
        c.add_record("t.json", 1, with(&role("123456789012", "team"), None));
        assert_eq!(c.counts.malformed, 1);
        c.add_record("t.json", 2, with(&role("123456789012", "team"), Some("10.9.9.9")));
        assert_eq!(c.unattributed.len(), 1);
        assert!(c.unclaimed_notebook_roles.keys().any(|k| k.contains("give the blueprint or --stack team")));
    }

    /// Review: a record through another VPC endpoint is never attributed by address (another
    /// network's private range may overlap the sandbox's), and a role on a user's path that is
    /// not that user's notebook role names no one; both only when the sandbox's endpoint and
    /// the users' role names are known.
    #[test]
    fn other_endpoints_and_false_notebook_roles_are_unattributed() {
        let alice = user_hash("alice");
        let role = |name: &str| format!("arn:aws:iam::123456789012:role/sandboxc/team/users/{alice}/{name}");
        let rec = |ip: Option<&str>, vpce: Option<&str>, issuer: Option<String>, account: &str| Record {
            source_ip: ip.map(String::from),
            vpc_endpoint: vpce.map(String::from),
            issuer,
            ..record("10.0.0.1", "2026-11-28T09:00:00Z", Some(account))
        };
        let known = Principals {
            environment: Some("team".into()),
            vpc_endpoints: vec!["vpce-11111111".into()],
            notebook_roles: Some(
                std::iter::once((alice.clone(), std::iter::once("nb".to_string()).collect())).collect(),
            ),
            ..Principals::default()
        };
        let feed = |principals: Principals| {
            let mut a = Auditor::new(Filters::default()).with_principals(principals);
            a.add_session(session("s1", "alice", "10.0.0.1", "2026-11-28T08:00:00Z", Some("2026-11-28T10:00:00Z")));
            a.index();
            let acct = "123456789012";
            a.add_record("t.json", 1, rec(Some("10.0.0.1"), Some("vpce-22222222"), None, acct));
            a.add_record("t.json", 2, rec(Some("10.0.0.1"), Some("vpce-11111111"), None, acct));
            a.add_record("t.json", 3, rec(Some("10.0.0.1"), None, None, acct));
            a.add_record("t.json", 4, rec(None, Some("vpce-11111111"), Some(role("nb")), acct));
            a.add_record("t.json", 5, rec(None, Some("vpce-11111111"), Some(role("evil")), acct));
            a.add_record("t.json", 6, rec(Some("10.0.0.1"), Some("vpce-22222222"), None, "999999999999"));
            a.add_record("t.json", 7, rec(Some("10.0.0.1"), Some(""), None, acct));
            a
        };
        let a = feed(known.clone());
        assert_eq!(a.counts.malformed, 0, "{:?}", a.problems);
        let reasons: Vec<Reason> = a.unattributed.iter().map(|e| e.reason).collect();
        assert_eq!(reasons, [Reason::OtherVpcEndpoint, Reason::NotNotebookRole]);
        assert_eq!(a.strings.get(a.unattributed[0].vpc_endpoint), "vpce-22222222");
        let kinds: Vec<SessionKind> = a.attributed.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [SessionKind::AppStream, SessionKind::AppStream, SessionKind::Notebook, SessionKind::AppStream]
        );
        assert_eq!(a.attributed[1].vpc_endpoint, 0, "the public endpoint: no vpcEndpointId");
        assert_eq!(a.attributed[3].vpc_endpoint, 0, "an empty vpcEndpointId is none");
        assert_eq!(a.other_account.len(), 1, "another account stays another account's");
        // Nothing known: today's attribution, by address and by the role's path.
        let b = feed(Principals { environment: Some("team".into()), ..Principals::default() });
        assert!(b.unattributed.is_empty(), "{:?}", b.unattributed);
        assert_eq!(b.attributed.len(), 6);
        // Role names known for nobody: every role on the users path is refused.
        let c = feed(Principals { notebook_roles: Some(NotebookRoles::new()), ..known });
        assert_eq!(c.unattributed.iter().filter(|e| e.reason == Reason::NotNotebookRole).count(), 2);
    }

    #[test]
    fn an_event_stays_small() {
        assert_eq!(std::mem::size_of::<Event>(), 96, "the module docs count 96 bytes an event");
    }

    #[test]
    fn classes() {
        assert_eq!(Class::of("GetObject", None), Class::Read);
        assert_eq!(Class::of("GetObject", Some("AccessDenied")), Class::Denied);
        assert_eq!(Class::of("CompleteMultipartUpload", None), Class::Write);
        assert_eq!(Class::of("DeleteObjects", None), Class::Delete);
        assert_eq!(Class::of("HeadObject", None), Class::Other);
    }

    proptest::proptest! {
        /// The index (sorted starts, running maximum of ends) finds exactly the sessions a
        /// brute-force scan finds, for random sessions (some open) on a few addresses.
        #[test]
        fn claimants_match_a_brute_force_scan(
            sessions in proptest::collection::vec((0u8..3, 0i64..100, proptest::option::of(0i64..50)), 0..25),
            probes in proptest::collection::vec((0u8..4, -5i64..160), 1..40),
        ) {
            let mut a = Auditor::default();
            for (i, (ip, start, len)) in sessions.iter().enumerate() {
                a.add_session(Session {
                    session_id: format!("s{i}"),
                    user_id: format!("u{i}"),
                    authentication_type: "CUSTOM".into(),
                    fleet: "f".into(),
                    start: Instant(*start),
                    end: len.map(|l| Instant(start + l)),
                    open_until: None,
                    account: None,
                    eni_ip: Some(format!("10.0.0.{ip}")),
                    origin: String::new(),
                });
            }
            a.index();
            for (ip, t) in probes {
                let addr = format!("10.0.0.{ip}");
                let id = a.strings.id(&addr);
                let expected: Vec<u32> = (0..a.sessions.len() as u32)
                    .filter(|&i| a.sessions[i as usize].eni_ip.as_deref() == Some(addr.as_str()) && a.sessions[i as usize].contains(Instant(t)))
                    .collect();
                proptest::prop_assert_eq!(a.claimants(id, Instant(t)), expected);
            }
        }
    }

    #[test]
    fn user_hash_is_lowercase_sha256() {
        // printf alice | sha256sum
        assert_eq!(user_hash("alice"), "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90");
    }
}
