//! The three output formats of `sandboxc audit`, written straight to the output (nothing is
//! rendered into one big string first).
//!
//! - table: for a terminal. A summary per user, each user's sessions and timeline (an event
//!   made by the user's notebook shows `notebook` as its session), then the findings
//!   (unattributed, ambiguous), other accounts' events, administrative access, decisions
//!   matching no session, what was skipped (counts, then each problem with its location) and
//!   notes.
//! - csv: one row per S3 data event and validator decision; `status` is `attributed`,
//!   `unattributed` (`reason`: `no_session`, `other_vpc_endpoint` or `not_notebook_role`,
//!   [`Reason`]), `ambiguous` (`candidates` lists `user/session` pairs separated by `;`),
//!   `other_account` (`recipientAccountId` in `account`), `administrative` (an admin
//!   principal's event, `role` names it) or `unmatched` (a decision matching no session);
//!   `provisional` is `true` for an event of a session still open; `session_kind` is
//!   `appstream` or `notebook` for an attributed event; `notebook` is the notebook a decision
//!   granted; `role` the calling role's ARN; `vpc_endpoint` the record's `vpcEndpointId` (empty:
//!   S3's public endpoint). Cells a spreadsheet would run as a formula start
//!   with `'`. Skips, notes and warnings are not in the CSV: they go to the JSON and table
//!   outputs. Columns are only ever added at the end.
//!
//! The table escapes control characters in every cell ([`escape`]) and shows the principal.
//! - json: the whole report, `schema_version` first (docs in the field comments of
//!   [`super::report`]).

use std::io::{self, Write};

use serde::ser::Serializer;
use serde::Serialize;

use super::join::{Reason, SessionKind};
use super::report::{Entry, EventView, Report, UserReport};
use super::time::Instant;
use super::AUDIT_SCHEMA_VERSION;

fn or_all(list: &[String]) -> String {
    if list.is_empty() {
        "all".into()
    } else {
        list.join(", ")
    }
}

fn window(r: &Report) -> String {
    let since = r.filters.since.map_or_else(|| "the beginning".to_string(), |t| t.to_string());
    let until = r.filters.until.map_or_else(|| "the end".to_string(), |t| Instant(t.0 - 1).to_string());
    format!("{since} .. {until}")
}

/// Control characters (newline, ESC, C1 controls) and bidirectional overrides escaped, so that
/// a key, user ID or session ID can neither forge a line nor drive the terminal.
#[must_use]
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if bad(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A CSV cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
/// prefixed with `'` (OWASP "CSV Injection").
#[must_use]
pub fn csv_cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// A principal ARN shortened for the table: the resource part of an ARN
/// (`assumed-role/<role>/<session>`), and of a longer one its last 64 characters.
fn short_principal(p: Option<&str>) -> String {
    let Some(p) = p else { return "-".into() };
    let p = if p.starts_with("arn:") { p.splitn(6, ':').nth(5).unwrap_or(p) } else { p };
    if p.chars().count() <= 64 {
        return p.into();
    }
    let tail: Vec<char> = p.chars().rev().take(63).collect();
    format!("…{}", tail.into_iter().rev().collect::<String>())
}

/// Aligned columns, two spaces apart, the last one not padded; cells escaped ([`escape`]).
fn table_rows(out: &mut dyn Write, indent: &str, rows: &[Vec<String>]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| escape(c).into_owned()).collect()).collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    for row in &rows {
        let mut line = String::from(indent);
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths.get(i).copied().unwrap_or(0) - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn object(e: &EventView<'_>) -> String {
    let more = if e.more_keys.is_empty() { String::new() } else { format!(" (+{} more objects)", e.more_keys.len()) };
    if e.key.is_empty() {
        e.bucket.to_string()
    } else {
        format!("{}/{}{more}", e.bucket, e.key)
    }
}

fn result(e: &EventView<'_>) -> String {
    match e.error_code {
        Some(code) => format!("denied ({code})"),
        None => e.class.to_string(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The table for a terminal.
///
/// # Errors
/// Writing fails.
pub fn table(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let c = &r.counts;
    writeln!(
        out,
        "sandboxc audit: {}",
        if r.sources.is_empty() { "no sources".to_string() } else { r.sources.join("; ") }
    )?;
    writeln!(
        out,
        "window: {}; buckets: {}; events: {}; users: {}",
        window(r),
        or_all(&r.filters.buckets),
        or_all(&r.filters.events),
        or_all(&r.filters.users)
    )?;
    writeln!(
        out,
        "read: {} ({}), {} ({}), {}",
        plural(c.usage_report_files, "usage-report file", "usage-report files"),
        plural(c.sessions, "session", "sessions"),
        plural(c.cloudtrail_files, "CloudTrail file", "CloudTrail files"),
        plural(c.cloudtrail_records, "record", "records"),
        plural(c.decision_files, "decision file", "decision files"),
    )?;
    writeln!(out)?;
    if r.users.is_empty() {
        writeln!(out, "no user had a session or an attributed event in the window")?;
    } else {
        let mut rows = vec![[
            "USER",
            "SESSIONS",
            "READ",
            "WRITTEN",
            "DELETED",
            "OTHER",
            "DENIED",
            "BY NOTEBOOK",
            "VALIDATIONS",
            "REJECTED",
        ]
        .map(String::from)
        .to_vec()];
        for u in &r.users {
            let s = &u.summary;
            rows.push(vec![
                user_name(u),
                s.sessions.to_string(),
                s.objects_read.to_string(),
                s.objects_written.to_string(),
                s.objects_deleted.to_string(),
                s.other_events.to_string(),
                s.denied_events.to_string(),
                s.notebook_events.to_string(),
                (s.validations_issued + s.validations_rejected + s.validation_errors).to_string(),
                s.validations_rejected.to_string(),
            ]);
        }
        table_rows(out, "", &rows)?;
        writeln!(out, "(READ, WRITTEN, DELETED: distinct objects; OTHER, DENIED: S3 data events; BY NOTEBOOK: S3 data events made by the user's notebook; VALIDATIONS: validator decisions)")?;
    }
    for u in &r.users {
        user_table(r, u, out)?;
    }
    if !r.unattributed.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "UNATTRIBUTED: {} attributed to no one",
            plural(r.unattributed.len(), "S3 data event", "S3 data events")
        )?;
        for reason in Reason::ALL {
            if r.unattributed.iter().any(|e| e.reason == reason) {
                writeln!(out, "  {}: {}", reason.as_str(), reason.explain())?;
            }
        }
        let mut rows = vec![["TIME", "SOURCE IP", "ACTION", "RESULT", "OBJECT", "PRINCIPAL", "REASON", "EVENT ID"]
            .map(String::from)
            .to_vec()];
        for e in &r.unattributed {
            let v = r.view(e);
            // The endpoint, or the role's name, that the reason is about.
            let about = match e.reason {
                Reason::OtherVpcEndpoint => v.vpc_endpoint,
                Reason::NotNotebookRole => v.role.map(|role| role.rsplit('/').next().unwrap_or(role)),
                Reason::NoSession => None,
            };
            let reason = match about {
                Some(what) => format!("{} ({what})", e.reason.as_str()),
                None => e.reason.as_str().to_string(),
            };
            rows.push(vec![
                v.time.to_string(),
                v.source_ip.into(),
                v.action.into(),
                result(&v),
                object(&v),
                v.principal.unwrap_or("-").into(),
                reason,
                v.event_id,
            ]);
        }
        table_rows(out, "  ", &rows)?;
    }
    if !r.ambiguous.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "AMBIGUOUS: {} more than one session claims (not attributed to anyone)",
            plural(r.ambiguous.len(), "S3 data event", "S3 data events")
        )?;
        let mut rows =
            vec![["TIME", "SOURCE IP", "ACTION", "RESULT", "OBJECT", "CANDIDATES (USER/SESSION)", "EVENT ID"]
                .map(String::from)
                .to_vec()];
        for (e, cands) in &r.ambiguous {
            let v = r.view(e);
            rows.push(vec![
                v.time.to_string(),
                v.source_ip.into(),
                v.action.into(),
                result(&v),
                object(&v),
                candidates(r, cands),
                v.event_id,
            ]);
        }
        table_rows(out, "  ", &rows)?;
    }
    if !r.other_account.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "OTHER ACCOUNT: {} of accounts no session belongs to (recipientAccountId; not attributed)",
            plural(r.other_account.len(), "S3 data event", "S3 data events")
        )?;
        let mut rows = vec![["TIME", "ACCOUNT", "SOURCE IP", "ACTION", "RESULT", "OBJECT", "PRINCIPAL", "EVENT ID"]
            .map(String::from)
            .to_vec()];
        for e in &r.other_account {
            let v = r.view(e);
            rows.push(vec![
                v.time.to_string(),
                v.account.unwrap_or("-").into(),
                v.source_ip.into(),
                v.action.into(),
                result(&v),
                object(&v),
                short_principal(v.principal),
                v.event_id,
            ]);
        }
        table_rows(out, "  ", &rows)?;
    }
    if !r.administrative.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "ADMINISTRATIVE ACCESS: {} by admin principals (listed apart, not findings)",
            plural(r.administrative.len(), "S3 data event", "S3 data events")
        )?;
        let mut rows =
            vec![["TIME", "ROLE", "SOURCE IP", "ACTION", "RESULT", "OBJECT", "EVENT ID"].map(String::from).to_vec()];
        for e in &r.administrative {
            let v = r.view(e);
            rows.push(vec![
                v.time.to_string(),
                short_principal(v.role),
                if v.source_ip.is_empty() { "-".into() } else { v.source_ip.into() },
                v.action.into(),
                result(&v),
                object(&v),
                v.event_id,
            ]);
        }
        table_rows(out, "  ", &rows)?;
    }
    if !r.unmatched_decisions.is_empty() {
        writeln!(out)?;
        writeln!(out, "VALIDATOR DECISIONS MATCHING NO SESSION OR USER: {}", r.unmatched_decisions.len())?;
        let mut rows = vec![["TIME", "OUTCOME", "REASON", "USER HASH", "SESSION", "FROM"].map(String::from).to_vec()];
        for d in &r.unmatched_decisions {
            rows.push(vec![
                d.time.map_or_else(|| "-".into(), |t| t.to_string()),
                d.outcome.to_string(),
                d.reason.clone(),
                d.user_hash.clone().unwrap_or_else(|| "-".into()),
                d.session_id.clone().unwrap_or_else(|| "-".into()),
                d.origin.clone(),
            ]);
        }
        table_rows(out, "  ", &rows)?;
    }
    skipped(r, out)?;
    if !r.notes.is_empty() {
        writeln!(out)?;
        writeln!(out, "NOTES")?;
        for n in &r.notes {
            writeln!(out, "  {}", escape(n))?;
        }
    }
    writeln!(out)?;
    let incomplete = r.incomplete_evidence();
    let provisional = r.provisional();
    let provisional_text = if provisional > 0 {
        format!(" ({provisional} provisionally: their sessions are still open)")
    } else {
        String::new()
    };
    let notebooks = r.attributed.iter().any(|e| e.kind == SessionKind::Notebook);
    let or_notebook = if notebooks { " or one user's notebook" } else { "" };
    let administrative = match r.administrative.len() {
        0 => String::new(),
        n => format!("; {} by admin principals listed apart", plural(n, "event", "events")),
    };
    if r.unattributed.is_empty() && r.ambiguous.is_empty() && incomplete.is_empty() {
        writeln!(
            out,
            "every S3 data event in the window is attributed to one session{or_notebook}{provisional_text}{administrative}"
        )?;
    } else {
        if !incomplete.is_empty() {
            writeln!(
                out,
                "evidence incomplete: {}; the audit cannot say that every S3 data event is attributed",
                incomplete.join("; ")
            )?;
        }
        writeln!(
            out,
            "findings: {} unattributed, {} ambiguous{} (exit code 2)",
            r.unattributed.len(),
            r.ambiguous.len(),
            if incomplete.is_empty() { "" } else { ", evidence incomplete" }
        )?;
    }
    Ok(())
}

fn candidates(r: &Report, cands: &[u32]) -> String {
    cands
        .iter()
        .filter_map(|&i| r.session(i))
        .map(|s| format!("{}/{}", s.user_id, s.session_id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A user as the summary table names them: the user ID, or for a user known only by the hash
/// in their notebook role's path, `unidentified` and the hash's first 12 digits.
fn user_name(u: &UserReport) -> String {
    if u.identified {
        u.user_id.clone()
    } else {
        format!("unidentified {}…", u.user_hash.get(..12).unwrap_or(&u.user_hash))
    }
}

fn user_table(r: &Report, u: &UserReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    if u.identified {
        writeln!(out, "{} (user hash {})", escape(&u.user_id), u.user_hash)?;
    } else {
        writeln!(
            out,
            "unidentified user (user hash {}): a notebook role names this hash; its user ID is in neither the usage reports nor the blueprint",
            u.user_hash
        )?;
    }
    let mut rows = Vec::new();
    for s in u.sessions.iter().filter_map(|&i| r.session(i)) {
        rows.push(vec![
            "session".to_string(),
            s.session_id.clone(),
            format!("{} .. {}", s.start, s.end.map_or_else(|| "open".to_string(), |e| e.to_string())),
            s.eni_ip.clone().unwrap_or_else(|| "no address".into()),
            s.authentication_type.clone(),
            s.fleet.clone(),
        ]);
    }
    table_rows(out, "  ", &rows)?;
    let timeline = r.timeline(u);
    if timeline.is_empty() {
        writeln!(out, "  no S3 data events or validator decisions in the window")?;
        return Ok(());
    }
    let mut rows =
        vec![["TIME", "SESSION", "ACTION", "RESULT", "PRINCIPAL", "OBJECT / REASON"].map(String::from).to_vec()];
    for e in &timeline {
        rows.push(match e {
            Entry::S3 { session_id, session_kind, event, provisional } => vec![
                event.time.to_string(),
                match session_kind {
                    SessionKind::Notebook => "notebook".into(),
                    SessionKind::AppStream if *provisional => format!("{session_id} (open: provisional)"),
                    SessionKind::AppStream => (*session_id).into(),
                },
                event.action.into(),
                result(event),
                short_principal(event.principal),
                object(event),
            ],
            Entry::Validation(v) => {
                let d = v.decision;
                let session = d.session_id.clone().unwrap_or_else(|| "-".into());
                vec![
                    d.time.map_or_else(|| "(no time)".into(), |t| t.to_string()),
                    if v.session_matched { session } else { format!("{session} (not in the usage reports)") },
                    "validation".into(),
                    d.outcome.to_string(),
                    "-".into(),
                    match &d.notebook {
                        Some(notebook) => format!("{} (notebook {notebook})", d.reason),
                        None => d.reason.clone(),
                    },
                ]
            }
        });
    }
    table_rows(out, "  ", &rows)
}

fn skipped(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let c = &r.counts;
    let parts: Vec<String> = [
        (c.malformed, "malformed line or record", "malformed lines or records"),
        (c.unreadable_files, "file in neither format", "files in neither format"),
        (c.not_s3_data_events, "record that is not an S3 data event", "records that are not S3 data events"),
        (c.other_buckets, "event in other buckets", "events in other buckets"),
        (c.other_event_names, "event of other names", "events of other names"),
        (c.outside_window, "event or decision outside the window", "events or decisions outside the window"),
        (c.other_users, "event or decision of other users", "events or decisions of other users"),
        (c.other_log_lines, "log line that is not a decision", "log lines that are not decisions"),
        (c.skipped_by_name, "digest or applications-report file", "digest or applications-report files"),
        (
            c.duplicate_records,
            "copy of a record already read (same eventID)",
            "copies of records already read (same eventID)",
        ),
        (
            c.foreign_decision_log_groups,
            "decisions-table log group not the sandbox's validator's (ignored)",
            "decisions-table log groups not the sandbox's validator's (ignored)",
        ),
        (
            c.conflicting_decision_events,
            "validator log event with differing copies (none read)",
            "validator log events with differing copies (none read)",
        ),
    ]
    .iter()
    .filter(|(n, ..)| *n > 0)
    .map(|(n, one, many)| plural(*n, one, many))
    .collect();
    if parts.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "SKIPPED: {}", parts.join(", "))?;
    for p in r.bad_files.iter().chain(&r.problems) {
        writeln!(out, "  {}: {}", escape(&p.location), escape(&p.reason))?;
    }
    if r.problems.len() < c.problems() {
        writeln!(
            out,
            "  ... and {} more (the first {} are listed)",
            c.problems() - r.problems.len(),
            r.problems.len()
        )?;
    }
    Ok(())
}

const CSV_HEADER: [&str; 22] = [
    "status",
    "user_id",
    "session_id",
    "time",
    "source",
    "action",
    "result",
    "bucket",
    "key",
    "source_ip",
    "error_code",
    "principal",
    "event_id",
    "reason",
    "request_id",
    "candidates",
    "account",
    "provisional",
    "session_kind",
    "notebook",
    "role",
    "vpc_endpoint",
];

/// The lines a run without the table still owes its reader on standard error (`-q`, or CSV,
/// whose rows carry only events): every note (a filter that matched nothing, a skipped file...),
/// the reason the evidence is incomplete, and the findings count. Empty when the report has
/// no note, no finding and complete evidence.
#[must_use]
pub fn verdict_lines(r: &Report) -> Vec<String> {
    // A note that is a warning (a filter that matches nothing) is said as one, also with -q.
    let mut lines: Vec<String> = r
        .notes
        .iter()
        .map(|n| if n.starts_with("warning: ") { escape(n).into_owned() } else { format!("note: {}", escape(n)) })
        .collect();
    let incomplete = r.incomplete_evidence();
    if !incomplete.is_empty() {
        lines.push(format!(
            "evidence incomplete: {}; the audit cannot say that every S3 data event is attributed",
            escape(&incomplete.join("; "))
        ));
    }
    if !r.unattributed.is_empty() || !r.ambiguous.is_empty() || !incomplete.is_empty() {
        lines.push(format!(
            "findings: {} unattributed, {} ambiguous{} (exit code 2)",
            r.unattributed.len(),
            r.ambiguous.len(),
            if incomplete.is_empty() { "" } else { ", evidence incomplete" }
        ));
    }
    lines
}

/// One row per S3 data event and validator decision.
///
/// # Errors
/// Writing fails.
pub fn csv(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let io = |e: csv::Error| io::Error::other(e.to_string());
    w.write_record(CSV_HEADER).map_err(io)?;
    let mut write = |row: [String; 22]| w.write_record(row.iter().map(|c| csv_cell(c).into_owned())).map_err(io);
    let s3 = |status: &str,
              user: &str,
              session: &str,
              v: &EventView<'_>,
              cands: &str,
              provisional: bool,
              kind: Option<SessionKind>,
              reason: Option<Reason>|
     -> [String; 22] {
        [
            status.into(),
            user.into(),
            session.into(),
            v.time.to_string(),
            "cloudtrail".into(),
            v.action.into(),
            v.class.into(),
            v.bucket.into(),
            v.key.into(),
            v.source_ip.into(),
            v.error_code.unwrap_or("").into(),
            v.principal.unwrap_or("").into(),
            v.event_id.clone(),
            reason.map_or("", Reason::as_str).into(),
            String::new(),
            cands.into(),
            v.account.unwrap_or("").into(),
            if provisional { "true".into() } else { String::new() },
            kind.map_or("", SessionKind::as_str).into(),
            String::new(),
            v.role.unwrap_or("").into(),
            v.vpc_endpoint.unwrap_or("").into(),
        ]
    };
    let decision = |status: &str, user: &str, d: &super::decisions::Decision| -> [String; 22] {
        [
            status.into(),
            user.into(),
            d.session_id.clone().unwrap_or_default(),
            d.time.map(|t| t.to_string()).unwrap_or_default(),
            "validator".into(),
            "validation".into(),
            d.outcome.to_string(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            d.reason.clone(),
            d.request_id.clone().unwrap_or_default(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            d.notebook.clone().unwrap_or_default(),
            String::new(),
            String::new(),
        ]
    };
    for u in &r.users {
        for e in r.timeline(u) {
            let row = match &e {
                Entry::S3 { session_id, session_kind, event, provisional } => {
                    s3("attributed", &u.user_id, session_id, event, "", *provisional, Some(*session_kind), None)
                }
                Entry::Validation(v) => decision("attributed", &u.user_id, v.decision),
            };
            write(row)?;
        }
    }
    for e in &r.unattributed {
        write(s3("unattributed", "", "", &r.view(e), "", false, None, Some(e.reason)))?;
    }
    for e in &r.other_account {
        write(s3("other_account", "", "", &r.view(e), "", false, None, None))?;
    }
    for e in &r.administrative {
        write(s3("administrative", "", "", &r.view(e), "", false, None, None))?;
    }
    for (e, cands) in &r.ambiguous {
        let list = cands
            .iter()
            .filter_map(|&i| r.session(i))
            .map(|s| format!("{}/{}", s.user_id, s.session_id))
            .collect::<Vec<_>>()
            .join(";");
        write(s3("ambiguous", "", "", &r.view(e), &list, false, None, None))?;
    }
    for d in &r.unmatched_decisions {
        write(decision("unmatched", "", d))?;
    }
    w.flush()
}

/// Serializes the sequence an iterator factory yields, without collecting it.
struct Lazy<F>(F);

impl<F, I> Serialize for Lazy<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq((self.0)())
    }
}

#[derive(Serialize)]
struct Window {
    since: Option<Instant>,
    /// Exclusive.
    until_exclusive: Option<Instant>,
}

#[derive(Serialize)]
struct Totals {
    users: usize,
    sessions: usize,
    attributed: usize,
    unattributed: usize,
    ambiguous: usize,
    other_account: usize,
    administrative: usize,
    provisional: usize,
    unmatched_decisions: usize,
}

/// The whole report as JSON (pretty, newline at the end).
///
/// # Errors
/// Writing fails.
pub fn json(r: &Report, out: &mut dyn Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct Candidate<'a> {
        user_id: &'a str,
        session_id: &'a str,
    }
    #[derive(Serialize)]
    struct Ambiguous<'a> {
        #[serde(flatten)]
        event: EventView<'a>,
        candidates: Vec<Candidate<'a>>,
    }
    #[derive(Serialize)]
    struct Unattributed<'a> {
        #[serde(flatten)]
        event: EventView<'a>,
        reason: Reason,
    }
    #[derive(Serialize)]
    struct User<'a> {
        user_id: &'a str,
        user_hash: &'a str,
        identified: bool,
        summary: &'a super::report::Summary,
        sessions: Vec<&'a super::sessions::Session>,
        timeline: Vec<Entry<'a>>,
    }
    #[derive(Serialize)]
    struct Skipped<'a> {
        counts: &'a super::join::Counts,
        files: &'a [super::Problem],
        problems: &'a [super::Problem],
        problems_not_listed: usize,
    }
    #[derive(Serialize)]
    struct Doc<'a, U, A, B, O, M, D> {
        schema_version: u32,
        exit_code: u8,
        window: Window,
        filters: Filters<'a>,
        sources: &'a [String],
        totals: Totals,
        users: U,
        unattributed: A,
        ambiguous: B,
        other_account: O,
        administrative: M,
        unmatched_decisions: D,
        incomplete_evidence: Vec<String>,
        skipped: Skipped<'a>,
        notes: &'a [String],
    }
    #[derive(Serialize)]
    struct Filters<'a> {
        users: &'a [String],
        buckets: &'a [String],
        events: &'a [String],
    }
    let doc = Doc {
        schema_version: AUDIT_SCHEMA_VERSION,
        exit_code: r.exit_code(),
        window: Window { since: r.filters.since, until_exclusive: r.filters.until },
        filters: Filters { users: &r.filters.users, buckets: &r.filters.buckets, events: &r.filters.events },
        sources: &r.sources,
        totals: Totals {
            users: r.users.len(),
            sessions: r.users.iter().map(|u| u.sessions.len()).sum(),
            attributed: r.attributed.len(),
            unattributed: r.unattributed.len(),
            ambiguous: r.ambiguous.len(),
            other_account: r.other_account.len(),
            administrative: r.administrative.len(),
            provisional: r.provisional(),
            unmatched_decisions: r.unmatched_decisions.len(),
        },
        users: Lazy(|| {
            r.users.iter().map(|u| User {
                user_id: &u.user_id,
                user_hash: &u.user_hash,
                identified: u.identified,
                summary: &u.summary,
                sessions: u.sessions.iter().filter_map(|&i| r.session(i)).collect(),
                timeline: r.timeline(u),
            })
        }),
        unattributed: Lazy(|| r.unattributed.iter().map(|e| Unattributed { event: r.view(e), reason: e.reason })),
        ambiguous: Lazy(|| {
            r.ambiguous.iter().map(|(e, cands)| Ambiguous {
                event: r.view(e),
                candidates: cands
                    .iter()
                    .filter_map(|&i| r.session(i))
                    .map(|s| Candidate { user_id: &s.user_id, session_id: &s.session_id })
                    .collect(),
            })
        }),
        other_account: Lazy(|| r.other_account.iter().map(|e| r.view(e))),
        administrative: Lazy(|| r.administrative.iter().map(|e| r.view(e))),
        unmatched_decisions: Lazy(|| r.unmatched_decisions.iter().map(|d| r.decision_view(d, None))),
        incomplete_evidence: r.incomplete_evidence(),
        skipped: Skipped {
            counts: &r.counts,
            files: &r.bad_files,
            problems: &r.problems,
            problems_not_listed: r.counts.problems().saturating_sub(r.problems.len()),
        },
        notes: &r.notes,
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
    writeln!(out)
}
