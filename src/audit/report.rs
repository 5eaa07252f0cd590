//! The audit grouped for output: one entry per user (sessions, summary, timeline of S3
//! data events and validator decisions), then the findings (unattributed and ambiguous
//! events, decisions matching no session) and what was skipped. Everything is sorted, so the
//! same inputs give the same report byte for byte.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use super::decisions::Decision;
use super::join::{user_hash, Auditor, Class, Counts, Event};
use super::sessions::Session;
use super::time::Instant;
use super::{Filters, Problem, EXIT_CLEAN, EXIT_FINDINGS};

/// Objects (bucket ID, key) of one user and class.
type DistinctObjects = BTreeSet<(u32, Box<str>)>;

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
    /// The usage report's `user_id`.
    pub user_id: String,
    /// sha256 of `user_id` (the home-folder hash the validator logs).
    pub user_hash: String,
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
    /// Decisions matching no session and no known user, by time.
    pub unmatched_decisions: Vec<Decision>,
    /// Malformed lines and records (listed up to a limit; see `counts.malformed`).
    pub problems: Vec<Problem>,
    /// Files in neither format, or unreadable.
    pub bad_files: Vec<Problem>,
    /// Counts of what was read and set aside.
    pub counts: Counts,
    /// Remarks for the reader.
    pub notes: Vec<String>,
    strings: super::join::Strings,
}

fn event_order(e: &Event, strings: &super::join::Strings) -> (Instant, String, String) {
    (e.time, strings.get(e.source_ip).to_string(), e.event_id.to_string())
}

impl Report {
    /// Groups an [`Auditor`]'s result per user and sorts everything.
    #[must_use]
    pub fn build(mut aud: Auditor, sources: Vec<String>) -> Self {
        let filters = aud.filters.clone();
        let user_wanted = |u: &str| filters.users.is_empty() || filters.users.iter().any(|w| w == u);
        let mut users: BTreeMap<String, UserReport> = BTreeMap::new();
        let entry = |users: &mut BTreeMap<String, UserReport>, u: &str| {
            users.entry(u.to_string()).or_insert_with(|| UserReport {
                user_id: u.to_string(),
                user_hash: user_hash(u),
                summary: Summary::default(),
                sessions: Vec::new(),
                events: 0..0,
                decisions: Vec::new(),
            });
        };
        for (i, s) in aud.sessions.iter().enumerate() {
            if user_wanted(&s.user_id) && s.overlaps(filters.since, filters.until) {
                entry(&mut users, &s.user_id);
                if let Some(u) = users.get_mut(&s.user_id) {
                    u.sessions.push(u32::try_from(i).unwrap_or(u32::MAX));
                }
            }
        }
        // Decisions: by session, else by user hash, else unmatched.
        let hashes: HashMap<String, String> = aud.sessions.iter().map(|s| (user_hash(&s.user_id), s.user_id.clone())).collect();
        let mut unmatched = Vec::new();
        for d in std::mem::take(&mut aud.decisions) {
            let session = aud.session_of(&d);
            let user = match session {
                Some(i) => aud.sessions.get(i as usize).map(|s| s.user_id.clone()),
                None => d.user_hash.as_ref().and_then(|h| hashes.get(h)).cloned(),
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
                Some(u) if !user_wanted(&u) => aud.counts.other_users += 1,
                Some(u) => {
                    entry(&mut users, &u);
                    if let Some(r) = users.get_mut(&u) {
                        match d.outcome.as_str() {
                            "issued" => r.summary.validations_issued += 1,
                            "rejected" => r.summary.validations_rejected += 1,
                            _ => r.summary.validation_errors += 1,
                        }
                        r.decisions.push((d, session));
                    }
                }
                None => unmatched.push(d),
            }
        }
        // Events: attributed ones grouped by user, in time order.
        let user_of = |e: &Event| aud.sessions.get(e.session as usize).map_or_else(String::new, |s| s.user_id.clone());
        let mut keyed: Vec<(String, Event)> = std::mem::take(&mut aud.attributed).into_iter().map(|e| (user_of(&e), e)).collect();
        keyed.sort_by_cached_key(|(u, e)| (u.clone(), event_order(e, &aud.strings)));
        let mut attributed = Vec::with_capacity(keyed.len());
        let mut start = 0;
        let mut distinct: HashMap<(String, Class), DistinctObjects> = HashMap::new();
        for (i, (u, e)) in keyed.into_iter().enumerate() {
            entry(&mut users, &u);
            if let Some(r) = users.get_mut(&u) {
                if r.events.is_empty() {
                    start = i;
                }
                r.events = start..i + 1;
                r.summary.s3_events += 1;
                match e.class {
                    Class::Other => r.summary.other_events += 1,
                    Class::Denied => r.summary.denied_events += 1,
                    c => {
                        distinct.entry((u.clone(), c)).or_default().insert((e.bucket, e.key.clone()));
                    }
                }
            }
            attributed.push(e);
        }
        for ((u, c), set) in distinct {
            if let Some(r) = users.get_mut(&u) {
                match c {
                    Class::Read => r.summary.objects_read = set.len(),
                    Class::Write => r.summary.objects_written = set.len(),
                    Class::Delete => r.summary.objects_deleted = set.len(),
                    Class::Other | Class::Denied => {}
                }
            }
        }
        let sessions = &aud.sessions;
        let decision_key = |d: &Decision, s: Option<u32>| (d.time.or_else(|| s.and_then(|i| sessions.get(i as usize)).map(|s| s.start)), d.origin.clone());
        for r in users.values_mut() {
            r.summary.sessions = r.sessions.len();
            r.sessions.sort_by_key(|&i| sessions.get(i as usize).map(|s| (s.start, s.session_id.clone())));
            r.decisions.sort_by_cached_key(|(d, s)| decision_key(d, *s));
        }
        unmatched.sort_by_cached_key(|d| (d.time, d.origin.clone()));
        let mut unattributed = std::mem::take(&mut aud.unattributed);
        unattributed.sort_by_cached_key(|e| event_order(e, &aud.strings));
        let mut ambiguous = std::mem::take(&mut aud.ambiguous);
        ambiguous.sort_by_cached_key(|(e, _)| event_order(e, &aud.strings));
        let mut notes: Vec<String> = aud.notes.iter().cloned().collect();
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
            unmatched_decisions: unmatched,
            problems: std::mem::take(&mut aud.problems),
            bad_files: std::mem::take(&mut aud.bad_files),
            counts: aud.counts.clone(),
            notes,
            sessions: std::mem::take(&mut aud.sessions),
            strings: std::mem::take(&mut aud.strings),
        }
    }

    /// [`EXIT_FINDINGS`] when unattributed or ambiguous events exist, else [`EXIT_CLEAN`].
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        if self.unattributed.is_empty() && self.ambiguous.is_empty() {
            EXIT_CLEAN
        } else {
            EXIT_FINDINGS
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
            key: &e.key,
            source_ip: self.text(e.source_ip),
            error_code: opt(e.error_code),
            principal: opt(e.principal),
            event_id: &e.event_id,
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
                        out.push(Entry::S3 { session_id: self.session(e.session).map_or("", |s| s.session_id.as_str()), event: self.view(e) });
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
    /// `eventID`.
    pub event_id: &'a str,
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
        let mut st = s.serialize_struct("Decision", 8)?;
        st.serialize_field("time", &d.time)?;
        st.serialize_field("outcome", &d.outcome)?;
        st.serialize_field("reason", &d.reason)?;
        st.serialize_field("user_hash", &d.user_hash)?;
        st.serialize_field("session_id", &d.session_id)?;
        st.serialize_field("session_matched", &self.session_matched)?;
        st.serialize_field("request_id", &d.request_id)?;
        st.serialize_field("origin", &d.origin)?;
        st.end()
    }
}

/// One line of a user's timeline.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Entry<'a> {
    /// An S3 data event of one of the user's sessions.
    S3 {
        /// The session.
        session_id: &'a str,
        /// The event.
        #[serde(flatten)]
        event: EventView<'a>,
    },
    /// A validator decision.
    Validation(DecisionView<'a>),
}
