//! The audit grouped for output: one entry per user (sessions, summary, timeline of S3
//! data events and validator decisions), then the findings (unattributed and ambiguous
//! events, decisions matching no session) and what was skipped. Everything is sorted, so the
//! same inputs give the same report byte for byte.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use super::decisions::{Decision, Outcome};
use super::join::{user_hash, Auditor, Class, Counts, Event, SessionKind};
use super::sessions::Session;
use super::time::Instant;
use super::{Filters, Principals, Problem};

/// Version of the JSON output's shape; raised on any incompatible change.
pub const AUDIT_SCHEMA_VERSION: u32 = 1;

/// Per-user counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Sessions overlapping the window.
    pub sessions: usize,
    /// Distinct objects (bucket and key) read.
    pub objects_read: usize,
    /// Distinct objects written.
    pub objects_written: usize,
    /// Distinct objects deleted.
    pub objects_deleted: usize,
    /// Other S3 data events.
    pub other_events: usize,
    /// S3 data events that failed (errorCode).
    pub denied_events: usize,
    /// All S3 data events.
    pub s3_events: usize,
    /// S3 data events made by the user's notebook (its execution role); the others were made
    /// in the user's AppStream sessions.
    pub notebook_events: usize,
    /// Validator decisions `issued`.
    pub validations_issued: usize,
    /// Validator decisions `rejected`.
    pub validations_rejected: usize,
    /// Validator decisions `error`.
    pub validation_errors: usize,
}

/// One user's part of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserReport {
    /// The user ID (the usage report's `user_id`, or a user of the blueprint); when the user
    /// is known only by the hash in their notebook role's path, that hash
    /// (`identified` is then `false`).
    pub user_id: String,
    /// sha256 of the user ID (the home-folder hash the validator logs, the hash in the
    /// notebook role's path).
    pub user_hash: String,
    /// Whether the user ID is known (from the usage reports, the blueprint or `--user`); else
    /// only the hash is.
    pub identified: bool,
    /// Counts.
    pub summary: Summary,
    /// The user's sessions overlapping the window (indices into [`Report::sessions`]), by start.
    pub sessions: Vec<u32>,
    /// The user's events: a range of [`Report::attributed`], by time.
    pub events: std::ops::Range<usize>,
    /// The user's decisions with their session (when matched by session ID), by time.
    pub decisions: Vec<(Decision, Option<u32>)>,
}

/// A finished audit.
#[derive(Debug)]
pub struct Report {
    /// The filters applied.
    pub filters: Filters,
    /// What was read, in words (directories or buckets).
    pub sources: Vec<String>,
    /// Every session read.
    pub sessions: Vec<Session>,
    /// Users, sorted by user ID.
    pub users: Vec<UserReport>,
    /// Attributed events, grouped by user (see [`UserReport::events`]).
    pub attributed: Vec<Event>,
    /// Unattributed events, by time.
    pub unattributed: Vec<Event>,
    /// Ambiguous events with their candidate sessions, by time.
    pub ambiguous: Vec<(Event, Vec<u32>)>,
    /// S3 data events of the admin roles (administrative access, not findings), by time.
    pub administrative: Vec<Event>,
    /// S3 data events of other accounts (`recipientAccountId`), by time; not attributed.
    pub other_account: Vec<Event>,
    /// Decisions matching no session and no known user, by time.
    pub unmatched_decisions: Vec<Decision>,
    /// Malformed lines and records, foreign decision log groups and conflicting decision events
    /// (listed up to a limit; see [`super::join::Counts::problems`]).
    pub problems: Vec<Problem>,
    /// Files in neither format, or unreadable.
    pub bad_files: Vec<Problem>,
    /// Counts of what was read and set aside.
    pub counts: Counts,
    /// Remarks for the reader.
    pub notes: Vec<String>,
    /// Why the evidence is incomplete when no trail evidence was read (`counts.cloudtrail_files`
    /// is 0): [`NO_TRAIL_FILE`] (the local engine reads files), or [`NO_TRAIL_ROWS`] (the
    /// Athena engine, which reads no file itself: set by `super::athena_rows`).
    pub no_trail: &'static str,
    strings: super::join::Strings,
}

/// The incomplete evidence of a local audit that read no CloudTrail file.
pub const NO_TRAIL_FILE: &str = "no CloudTrail file was read";

/// The incomplete evidence of an Athena audit whose query returned no S3 data event of the
/// trail: a window without any and a trail that delivered nothing look alike to it (the query
/// returns the kept events only, not the files it read).
pub const NO_TRAIL_ROWS: &str = "the Athena query returned no S3 data event of the trail in the window (a quiet window and a trail that delivered nothing look alike to it)";

/// Output order of events: time, then source address, event ID, bucket, key and name, so that
/// the order never depends on the order files were read in.
fn compare_events(a: &Event, b: &Event, strings: &super::join::Strings) -> std::cmp::Ordering {
    a.time
        .cmp(&b.time)
        .then_with(|| strings.get(a.source_ip).cmp(strings.get(b.source_ip)))
        .then_with(|| a.event_id.cmp(&b.event_id))
        .then_with(|| strings.get(a.bucket).cmp(strings.get(b.bucket)))
        .then_with(|| strings.key_text(a.key).cmp(strings.key_text(b.key)))
        .then_with(|| strings.get(a.name).cmp(strings.get(b.name)))
}

impl Report {
    /// Groups an [`Auditor`]'s result per user and sorts everything.
    #[must_use]
    pub fn build(mut aud: Auditor, sources: Vec<String>) -> Self {
        let filters = aud.filters.clone();
        let user_wanted = |u: &str| filters.users.is_empty() || filters.users.iter().any(|w| w == u);
        let mut users: BTreeMap<String, UserReport> = BTreeMap::new();
        let entry = |users: &mut BTreeMap<String, UserReport>, u: &str, hash: &str, identified: bool| {
            if users.contains_key(u) {
                return;
            }
            users.insert(
                u.to_string(),
                UserReport {
                    user_id: u.to_string(),
                    user_hash: hash.to_string(),
                    identified,
                    summary: Summary::default(),
                    sessions: Vec::new(),
                    events: 0..0,
                    decisions: Vec::new(),
                },
            );
        };
        let by_id = |users: &mut BTreeMap<String, UserReport>, u: &str| entry(users, u, &user_hash(u), true);
        for (i, s) in aud.sessions.iter().enumerate() {
            if user_wanted(&s.user_id) && s.overlaps(filters.since, filters.until) {
                by_id(&mut users, &s.user_id);
                if let Some(u) = users.get_mut(&s.user_id) {
                    u.sessions.push(u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
        }
        // Who a hash is: the usage reports' user IDs, the blueprint's users, and (for notebook
        // users only) `--user`'s; a notebook user known by none is shown by the hash.
        let mut hashes: HashMap<String, String> =
            aud.principals.users.iter().map(|u| (user_hash(u), u.clone())).collect();
        hashes.extend(aud.sessions.iter().map(|s| (user_hash(&s.user_id), s.user_id.clone())));
        let mut notebook_users: Vec<(String, bool)> = Vec::with_capacity(aud.notebook_users.len());
        for hash in &aud.notebook_users {
            let named =
                hashes.get(hash).cloned().or_else(|| filters.users.iter().find(|u| user_hash(u) == *hash).cloned());
            notebook_users.push(named.map_or_else(|| (hash.clone(), false), |u| (u, true)));
        }
        // Every notebook user has attributed events (the join registers them with the first).
        for ((key, identified), hash) in notebook_users.iter().zip(&aud.notebook_users) {
            hashes.entry(hash.clone()).or_insert_with(|| key.clone());
            entry(&mut users, key, hash, *identified);
        }
        // Decisions: by session, else by user hash, else unmatched.
        let mut unmatched = Vec::new();
        let mut mismatched = Vec::new();
        for d in std::mem::take(&mut aud.decisions) {
            let session = aud.session_of(&d);
            if session.is_none() {
                if let Some(id) = d.session_id.as_deref() {
                    let owners = aud.users_of_session(id);
                    if !owners.is_empty() {
                        let hashed =
                            d.user_hash.as_ref().and_then(|h| hashes.get(h)).map_or("an unknown user", String::as_str);
                        mismatched.push(format!(
                            "validator decision {}: its session {id} is {}'s in the usage reports, but its user_hash is {hashed}'s",
                            d.origin,
                            owners.join("/")
                        ));
                    }
                }
            }
            let user = match session {
                Some(i) => aud.sessions.get(i as usize).map(|s| (s.user_id.clone(), user_hash(&s.user_id), true)),
                None => d.user_hash.as_ref().and_then(|h| hashes.get(h).map(|u| (u.clone(), h.clone(), u != h))),
            };
            if d.time.is_none() {
                if let Some(s) = session.and_then(|i| aud.sessions.get(i as usize)) {
                    if !s.overlaps(filters.since, filters.until) {
                        aud.counts.outside_window += 1;
                        continue;
                    }
                }
            }
            match user {
                Some((u, _, _)) if !user_wanted(&u) => aud.counts.other_users += 1,
                Some((u, hash, identified)) => {
                    entry(&mut users, &u, &hash, identified);
                    if let Some(r) = users.get_mut(&u) {
                        match d.outcome {
                            Outcome::Issued => r.summary.validations_issued += 1,
                            Outcome::Rejected => r.summary.validations_rejected += 1,
                            Outcome::Error => r.summary.validation_errors += 1,
                            // Another sandbox's session file: not a validation of this one.
                            Outcome::Skipped => {}
                        }
                        r.decisions.push((d, session));
                    }
                }
                None => unmatched.push(d),
            }
        }
        // Events: attributed ones grouped by user, in time order, sorted in place (no per-event
        // keys are allocated: the attributed events are most of the memory an audit holds).
        for e in &aud.attributed {
            if e.kind == SessionKind::AppStream {
                if let Some(s) = aud.sessions.get(e.session as usize) {
                    by_id(&mut users, &s.user_id);
                }
            }
        }
        let rank: HashMap<&str, u32> =
            users.keys().enumerate().map(|(i, u)| (u.as_str(), u32::try_from(i).unwrap_or(u32::MAX))).collect();
        let session_rank: Vec<u32> =
            aud.sessions.iter().map(|s| rank.get(s.user_id.as_str()).copied().unwrap_or(u32::MAX)).collect();
        let notebook_rank: Vec<u32> =
            notebook_users.iter().map(|(key, _)| rank.get(key.as_str()).copied().unwrap_or(u32::MAX)).collect();
        let rank_of = |e: &Event| {
            let ranks = if e.kind == SessionKind::Notebook { &notebook_rank } else { &session_rank };
            ranks.get(e.session as usize).copied().unwrap_or(u32::MAX)
        };
        let mut attributed = std::mem::take(&mut aud.attributed);
        attributed
            .sort_unstable_by(|a, b| rank_of(a).cmp(&rank_of(b)).then_with(|| compare_events(a, b, &aud.strings)));
        let mut at = 0;
        for (r, report) in users.values_mut().enumerate() {
            let r = u32::try_from(r).unwrap_or(u32::MAX);
            let start = at;
            while attributed.get(at).is_some_and(|e| rank_of(e) == r) {
                at += 1;
            }
            report.events = start..at;
            let mut objects: HashSet<(Class, u32, &str)> = HashSet::new();
            for e in attributed.get(start..at).unwrap_or_default() {
                report.summary.s3_events += 1;
                if e.kind == SessionKind::Notebook {
                    report.summary.notebook_events += 1;
                }
                match e.class {
                    Class::Other => report.summary.other_events += 1,
                    Class::Denied => report.summary.denied_events += 1,
                    c => {
                        for key in
                            std::iter::once(aud.strings.key_text(e.key)).chain(aud.strings.more_keys_of(e.more_keys))
                        {
                            if objects.insert((c, e.bucket, key)) {
                                match c {
                                    Class::Read => report.summary.objects_read += 1,
                                    Class::Write => report.summary.objects_written += 1,
                                    _ => report.summary.objects_deleted += 1,
                                }
                            }
                        }
                    }
                }
            }
        }
        let sessions = &aud.sessions;
        let decision_key = |d: &Decision, s: Option<u32>| {
            (d.time.or_else(|| s.and_then(|i| sessions.get(i as usize)).map(|s| s.start)), d.origin.clone())
        };
        for r in users.values_mut() {
            r.summary.sessions = r.sessions.len();
            r.sessions.sort_by_key(|&i| sessions.get(i as usize).map(|s| (s.start, s.session_id.clone())));
            r.decisions.sort_by_cached_key(|(d, s)| decision_key(d, *s));
        }
        unmatched.sort_by_cached_key(|d| (d.time, d.origin.clone()));
        let mut unattributed = std::mem::take(&mut aud.unattributed);
        unattributed.sort_unstable_by(|a, b| compare_events(a, b, &aud.strings));
        let mut ambiguous = std::mem::take(&mut aud.ambiguous);
        ambiguous.sort_unstable_by(|(a, _), (b, _)| compare_events(a, b, &aud.strings));
        let mut other_account = std::mem::take(&mut aud.other_account);
        other_account.sort_unstable_by(|a, b| compare_events(a, b, &aud.strings));
        let mut administrative = std::mem::take(&mut aud.administrative);
        administrative.sort_unstable_by(|a, b| compare_events(a, b, &aud.strings));
        let mut notes: Vec<String> = aud.notes.iter().cloned().collect();
        mismatched.sort();
        notes.extend(mismatched);
        for (why, n) in &aud.unclaimed_notebook_roles {
            notes.push(format!("{n} S3 data event(s) come from {why}; they are attributed by address, if at all"));
        }
        notes.extend(unchecked(&aud.principals));
        // A sandbox endpoint that no event came through, while others did: likely a typo, which
        // would make every event through an endpoint other_vpc_endpoint.
        if !aud.principals.vpc_endpoints.is_empty() {
            let mut through = attributed
                .iter()
                .chain(&unattributed)
                .chain(ambiguous.iter().map(|(e, _)| e))
                .chain(&other_account)
                .chain(&administrative)
                .filter(|e| e.vpc_endpoint != 0)
                .map(|e| aud.strings.get(e.vpc_endpoint))
                .peekable();
            let any = through.peek().is_some();
            let seen: std::collections::BTreeSet<&str> = through.collect();
            if any && !aud.principals.vpc_endpoints.iter().any(|e| seen.contains(e.as_str())) {
                notes.push(format!(
                    "warning: the sandbox's VPC endpoint {} (--vpc-endpoint, or the stack output S3EndpointId) occurs in no S3 data event of the inputs, while {} other endpoint(s) do: every event through them is unattributed (other_vpc_endpoint)",
                    aud.principals.vpc_endpoints.join(", "),
                    seen.len()
                ));
            }
        }
        if !aud.principals.vpc_endpoints.is_empty() {
            let public = attributed.iter().filter(|e| e.kind == SessionKind::AppStream && e.vpc_endpoint == 0).count();
            if public > 0 {
                notes.push(format!("{public} event(s) attributed by address came to S3's public endpoint (no vpcEndpointId), not through the sandbox's VPC endpoint {}: the data bucket's policy denies such requests; their source address alone names the session", aud.principals.vpc_endpoints.join(", ")));
            }
        }
        let provisional = attributed
            .iter()
            .filter(|e| e.kind == SessionKind::AppStream)
            .filter(|e| aud.sessions.get(e.session as usize).is_some_and(|s| s.end.is_none()))
            .count();
        if provisional > 0 {
            notes.push(format!("{provisional} event(s) are attributed provisionally to sessions still open in the usage reports: the session's end is not in the reports yet; audit again when the next daily report is out"));
        }
        for b in &filters.buckets {
            if !aud.seen_buckets.contains(b) {
                notes.push(format!("warning: --bucket {b} occurs in no S3 data event of the inputs"));
            }
        }
        for e in &filters.events {
            if !aud.seen_events.iter().any(|s| s.eq_ignore_ascii_case(e)) {
                notes.push(format!("warning: --event {e} occurs in no S3 data event of the inputs"));
            }
        }
        let known_users: std::collections::BTreeSet<&str> = aud
            .sessions
            .iter()
            .map(|s| s.user_id.as_str())
            .chain(aud.principals.users.iter().map(String::as_str))
            .chain(notebook_users.iter().filter(|(_, identified)| *identified).map(|(u, _)| u.as_str()))
            .collect();
        for u in &filters.users {
            if !known_users.contains(u.as_str()) {
                let some: Vec<&str> = known_users.iter().copied().take(10).collect();
                let more = if known_users.len() > 10 {
                    format!(" (and {} more)", known_users.len() - 10)
                } else {
                    String::new()
                };
                notes.push(format!(
                    "warning: --user {u} is no user_id of the usage reports; users: {}{more}",
                    if some.is_empty() { "none".to_string() } else { some.join(", ") }
                ));
            }
        }
        let latest = aud.sessions.iter().map(|s| s.end.unwrap_or(s.start)).max();
        let late = unattributed.iter().filter(|e| latest.is_none_or(|l| e.time > l)).count();
        if late > 0 && !aud.sessions.is_empty() {
            notes.push(format!(
                "{late} unattributed event(s) are later than the latest session start or end in the usage reports ({}); if that day's sessions report is not written yet (AppStream writes it within 24 hours), audit again later",
                latest.map(|l| l.to_string()).unwrap_or_default()
            ));
        }
        Self {
            filters,
            sources,
            users: users.into_values().collect(),
            attributed,
            unattributed,
            ambiguous,
            other_account,
            administrative,
            unmatched_decisions: unmatched,
            problems: std::mem::take(&mut aud.problems),
            bad_files: std::mem::take(&mut aud.bad_files),
            counts: aud.counts.clone(),
            notes,
            no_trail: NO_TRAIL_FILE,
            sessions: std::mem::take(&mut aud.sessions),
            strings: std::mem::take(&mut aud.strings),
        }
    }

    /// Why the evidence is incomplete: files or records that could not be read, or no
    /// CloudTrail file read at all (empty when everything was read).
    #[must_use]
    pub fn incomplete_evidence(&self) -> Vec<String> {
        let c = &self.counts;
        let mut out = Vec::new();
        if c.unreadable_files > 0 {
            out.push(format!(
                "{} could not be read or {} in neither format",
                if c.unreadable_files == 1 { "1 file".to_string() } else { format!("{} files", c.unreadable_files) },
                if c.unreadable_files == 1 { "is" } else { "are" }
            ));
        }
        if c.malformed > 0 {
            out.push(format!(
                "{} could not be read",
                if c.malformed == 1 {
                    "1 line or record".to_string()
                } else {
                    format!("{} lines or records", c.malformed)
                }
            ));
        }
        if c.foreign_decision_log_groups > 0 {
            out.push(format!(
                "{} of the decisions table {} not the sandbox's validator log group of the audited account (records someone else wrote there, not read)",
                if c.foreign_decision_log_groups == 1 {
                    "1 log group".to_string()
                } else {
                    format!("{} log groups", c.foreign_decision_log_groups)
                },
                if c.foreign_decision_log_groups == 1 { "is" } else { "are" }
            ));
        }
        if c.conflicting_decision_events > 0 {
            out.push(format!(
                "{} of the validator {} copies that differ (none read as a decision)",
                if c.conflicting_decision_events == 1 {
                    "1 log event".to_string()
                } else {
                    format!("{} log events", c.conflicting_decision_events)
                },
                if c.conflicting_decision_events == 1 { "has" } else { "have" }
            ));
        }
        if c.cloudtrail_files == 0 {
            out.push(self.no_trail.into());
        }
        out
    }

    /// Events attributed to a session still open in the reports.
    #[must_use]
    pub fn provisional(&self) -> usize {
        self.attributed.iter().filter(|e| self.is_provisional(e)).count()
    }

    /// Whether an attributed event's session is still open in the reports (never for a
    /// notebook event: its role names the user, whatever the sessions).
    #[must_use]
    pub fn is_provisional(&self, e: &Event) -> bool {
        e.kind == SessionKind::AppStream && self.session(e.session).is_some_and(|s| s.end.is_none())
    }

    /// The AppStream session of an attributed event ([`SessionKind::AppStream`] only).
    #[must_use]
    pub fn session_of(&self, e: &Event) -> Option<&Session> {
        (e.kind == SessionKind::AppStream).then(|| self.session(e.session)).flatten()
    }

    /// Whether the audit has findings: unattributed or ambiguous events exist, or the evidence
    /// could not all be read ([`Report::incomplete_evidence`]). Provisional attributions (open
    /// sessions) and other accounts' events are not findings.
    #[must_use]
    pub fn has_findings(&self) -> bool {
        !(self.unattributed.is_empty() && self.ambiguous.is_empty() && self.incomplete_evidence().is_empty())
    }

    /// The JSON document's `exit_code`: the exit code of `sandboxc audit` for this report, 2
    /// with findings ([`Report::has_findings`]), else 0.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        if self.has_findings() {
            2
        } else {
            0
        }
    }

    /// An interned string of an event.
    #[must_use]
    pub fn text(&self, id: u32) -> &str {
        self.strings.get(id)
    }

    /// A session by index.
    #[must_use]
    pub fn session(&self, i: u32) -> Option<&Session> {
        self.sessions.get(i as usize)
    }

    /// The borrowed view of an event.
    #[must_use]
    pub fn view<'a>(&'a self, e: &'a Event) -> EventView<'a> {
        let opt = |id: u32| (id != 0).then(|| self.text(id));
        EventView {
            time: e.time,
            action: self.text(e.name),
            class: e.class.as_str(),
            bucket: self.text(e.bucket),
            key: self.strings.key_text(e.key),
            source_ip: self.text(e.source_ip),
            error_code: opt(e.error_code),
            principal: opt(e.principal),
            role: opt(e.issuer),
            account: opt(e.account),
            more_keys: self.strings.more_keys_of(e.more_keys),
            event_id: e.event_id.to_string(),
            vpc_endpoint: opt(e.vpc_endpoint),
        }
    }

    /// One user's timeline: events and decisions merged by time (a decision without a time
    /// at its session's start).
    pub fn timeline<'a>(&'a self, user: &'a UserReport) -> Vec<Entry<'a>> {
        let mut out: Vec<Entry<'a>> = Vec::with_capacity(user.events.len() + user.decisions.len());
        let mut events = self.attributed.get(user.events.clone()).unwrap_or_default().iter().peekable();
        let mut decisions = user.decisions.iter().peekable();
        loop {
            let dt = decisions.peek().map(|(d, s)| d.time.or_else(|| s.and_then(|i| self.session(i)).map(|s| s.start)));
            match (events.peek(), dt) {
                (Some(e), Some(t)) if t.is_none_or(|t| t <= e.time) => {
                    if let Some((d, s)) = decisions.next() {
                        out.push(Entry::Validation(self.decision_view(d, *s)));
                    }
                }
                (Some(_), _) => {
                    if let Some(e) = events.next() {
                        out.push(Entry::S3 {
                            session_id: self.session_of(e).map_or("", |s| s.session_id.as_str()),
                            session_kind: e.kind,
                            provisional: self.is_provisional(e),
                            event: self.view(e),
                        });
                    }
                }
                (None, Some(_)) => {
                    if let Some((d, s)) = decisions.next() {
                        out.push(Entry::Validation(self.decision_view(d, *s)));
                    }
                }
                (None, None) => break,
            }
        }
        out
    }

    /// The borrowed view of a decision.
    #[must_use]
    pub fn decision_view<'a>(&'a self, d: &'a Decision, session: Option<u32>) -> DecisionView<'a> {
        DecisionView { decision: d, session_matched: session.is_some() }
    }
}

/// An S3 data event, borrowed from the report.
#[derive(Debug, Clone, Serialize)]
pub struct EventView<'a> {
    /// `eventTime`.
    pub time: Instant,
    /// `eventName`.
    pub action: &'a str,
    /// read, write, delete, other or denied.
    pub class: &'static str,
    /// `requestParameters.bucketName`.
    pub bucket: &'a str,
    /// `requestParameters.key`.
    pub key: &'a str,
    /// `sourceIPAddress`.
    pub source_ip: &'a str,
    /// `errorCode`.
    pub error_code: Option<&'a str>,
    /// `userIdentity.arn`.
    pub principal: Option<&'a str>,
    /// `userIdentity.sessionContext.sessionIssuer.arn`: the calling role's ARN (with its path),
    /// when the principal is an assumed role.
    pub role: Option<&'a str>,
    /// `recipientAccountId`.
    pub account: Option<&'a str>,
    /// Further objects of the request (DeleteObjects' `resources[]`), when any.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub more_keys: Vec<&'a str>,
    /// `eventID`.
    pub event_id: String,
    /// `vpcEndpointId`: the VPC endpoint the request came through; `None` for S3's public
    /// endpoint.
    pub vpc_endpoint: Option<&'a str>,
}

/// A decision, borrowed from the report.
#[derive(Debug, Clone)]
pub struct DecisionView<'a> {
    /// The decision.
    pub decision: &'a Decision,
    /// Whether it matched a session by ID and user hash (else only the user by hash).
    pub session_matched: bool,
}

impl Serialize for DecisionView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.decision;
        let mut st = s.serialize_struct("Decision", 9)?;
        st.serialize_field("time", &d.time)?;
        st.serialize_field("outcome", &d.outcome)?;
        st.serialize_field("reason", &d.reason)?;
        st.serialize_field("user_hash", &d.user_hash)?;
        st.serialize_field("session_id", &d.session_id)?;
        st.serialize_field("session_matched", &self.session_matched)?;
        st.serialize_field("notebook", &d.notebook)?;
        st.serialize_field("request_id", &d.request_id)?;
        st.serialize_field("origin", &d.origin)?;
        st.end()
    }
}

/// One line of a user's timeline.
// Entries are transient (one user's timeline at a time), so the size of an S3 entry does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry<'a> {
    /// An S3 data event of one of the user's sessions, or of the user's notebook.
    S3 {
        /// The AppStream session (empty for a notebook event: no session made it).
        session_id: &'a str,
        /// `appstream` (made in the session) or `notebook` (made by the user's notebook role).
        session_kind: SessionKind,
        /// The session is still open in the usage reports: its end is not known yet.
        provisional: bool,
        /// The event.
        #[serde(flatten)]
        event: EventView<'a>,
    },
    /// A validator decision.
    Validation(DecisionView<'a>),
}

/// The notes of what attribution could not check (in every format, so that a report read by a
/// machine tells an unchecked result from a clean one): addresses against the sandbox's VPC
/// endpoint when none is known, and notebook role names when only their path is known.
#[must_use]
pub fn unchecked(principals: &Principals) -> Vec<String> {
    let mut notes = Vec::new();
    if principals.vpc_endpoints.is_empty() {
        notes.push("unchecked: attribution by address is not checked against the sandbox's VPC endpoint (CloudTrail vpcEndpointId): a network with overlapping private addresses reaching S3 through its own endpoint would be taken for a session; give --vpc-endpoint vpce-... (the stack output S3EndpointId; read from the stack with --from-aws or --engine athena)".to_string());
    }
    if let (Some(env), None) = (principals.environment.as_deref(), principals.notebook_roles.as_ref()) {
        notes.push(format!(
            "unchecked: notebook events are attributed by the role's path alone (/sandboxc/{env}/users/<user hash>/), not checked against the users' role names: anyone allowed iam:CreateRole can create a role on that path; give --notebook-role ROLE_ARN (read from the deployed stack with --from-aws or --engine athena and the blueprint)"
        ));
    }
    notes
}
