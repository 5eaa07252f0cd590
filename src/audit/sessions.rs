//! AppStream 2.0 sessions reports (usage reports), CSV.
//!
//! AppStream writes one report a day (UTC), within 24 hours, to
//! `sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/daily-session-report-YYYY-MM-DD.csv`
//! in the usage-report bucket (docs/aws-facts.md, "Service roles and usage reports"; AWS AppStream 2.0 developer
//! guide, "Sessions Report Fields"). Columns in the documented order are
//! [`DOCUMENTED_COLUMNS`]; times are ISO 8601 UTC. A file may start with a header row
//! (detected by a field named `user_session_id`): columns are then found by name
//! and unknown columns are ignored; without one, the documented order applies. An empty
//! `session_end_time` means the session is still open. Rows are read one at a time.

use std::io::{BufRead, Read};

use super::time::Instant;
use super::Problem;

/// The sessions report's columns, in the documented order: the list the compiler gives the
/// Athena engine's Glue table, so that both engines read the same report the same way.
pub const DOCUMENTED_COLUMNS: [&str; 29] = crate::compile::audit::SESSIONS_REPORT_COLUMNS;

/// The columns sandboxc reads; a header row must name all of them.
const NEEDED: [&str; 7] = [
    "user_session_id",
    "session_start_time",
    "session_end_time",
    "user_id",
    "authentication_type",
    "fleet_name",
    "eni_private_ip_address",
];

/// Columns read when present (after [`NEEDED`] in the column index list).
const OPTIONAL: [&str; 3] = ["aws_account_id", "session_duration_in_seconds", "max_session_duration"];

/// A headerless row needs at least the columns up to `eni_private_ip_address`.
const MIN_HEADERLESS_COLUMNS: usize = 14;

/// The cap of an open session without a duration column: AppStream's largest maximum session
/// duration, 5 days (`MaxUserDurationInSeconds` 600–432000, CreateFleet API reference;
/// docs/aws-facts.md, "Service roles and usage reports").
pub const MAX_SESSION_SECONDS: i64 = 432_000;

/// One streaming session of the sessions report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Session {
    /// `user_session_id`.
    pub session_id: String,
    /// `user_id`: the user within the authentication type (streaming URL user ID, SAML NameID).
    pub user_id: String,
    /// `authentication_type`: CUSTOM, SAML or USERPOOL.
    pub authentication_type: String,
    /// `fleet_name`.
    pub fleet: String,
    /// `session_start_time`.
    pub start: Instant,
    /// `session_end_time`; `None` while the session is open.
    pub end: Option<Instant>,
    /// For an open session: the latest time it can still hold its address, start plus
    /// `max_session_duration`, else plus a non-zero `session_duration_in_seconds`, else plus
    /// [`MAX_SESSION_SECONDS`]. Events attributed to an open session are provisional.
    pub open_until: Option<Instant>,
    /// `aws_account_id`; `None` when empty or not in the file.
    pub account: Option<String>,
    /// `eni_private_ip_address`: the instance's network interface, the `sourceIPAddress` of
    /// its S3 requests through the VPC's gateway endpoint; `None` when empty.
    pub eni_ip: Option<String>,
    /// Where the row came from (`file:line`), for the report.
    pub origin: String,
}

impl Session {
    /// Whether the session held its address at `t` (start and end inclusive; an open session
    /// holds it from its start on).
    #[must_use]
    pub fn contains(&self, t: Instant) -> bool {
        self.start <= t && t <= self.last()
    }

    /// The session's end, or for an open session the cap [`Session::open_until`].
    #[must_use]
    pub fn last(&self) -> Instant {
        self.end.or(self.open_until).unwrap_or(Instant(i64::MAX))
    }

    /// Whether the session overlaps `[since, until)`.
    #[must_use]
    pub fn overlaps(&self, since: Option<Instant>, until: Option<Instant>) -> bool {
        until.is_none_or(|u| self.start < u) && since.is_none_or(|s| self.last() >= s)
    }
}

/// A file is not a sessions report at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAReport(pub String);

fn field(row: &csv::ByteRecord, idx: Option<usize>) -> &str {
    idx.and_then(|i| row.get(i)).and_then(|b| std::str::from_utf8(b).ok()).map_or("", str::trim)
}

/// Reads one sessions report, calling `on_session` for each good row and recording each bad
/// row in `problems` as `location:line`.
///
/// # Errors
/// [`NotAReport`] when the file is neither a headed report naming the needed columns nor a
/// headerless one with the documented columns: only when no row at all is a session row.
pub fn read(
    location: &str,
    input: impl Read,
    problems: &mut Vec<Problem>,
    on_session: &mut dyn FnMut(Session),
) -> Result<(), NotAReport> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(CrLf { inner: std::io::BufReader::new(input) });
    let mut row = csv::ByteRecord::new();
    let mut columns: Option<Vec<Option<usize>>> = None;
    let mut first = true;
    // Each row is judged on its own: a bad row (first, last or any) is a problem with its line,
    // and the file is "not a report" only when no row at all is a session row. Until the first
    // session row, problems are held back (up to a limit) so that a file in another format is
    // named once instead of line by line.
    let mut known = false;
    let mut headed = false;
    let mut pending: Vec<Problem> = Vec::new();
    let mut first_error: Option<String> = None;
    let note = |p: Problem, known: bool, problems: &mut Vec<Problem>, pending: &mut Vec<Problem>| {
        if known {
            problems.push(p);
        } else if pending.len() < super::join::MAX_LISTED_PROBLEMS {
            pending.push(p);
        }
    };
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                first = false;
                first_error.get_or_insert_with(|| format!("not CSV: {e}"));
                note(Problem::line(location, line, format!("not a CSV row: {e}")), known, problems, &mut pending);
                continue;
            }
        }
        let line = row.position().map_or(line, csv::Position::line);
        if row.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        if first {
            first = false;
            let names: Vec<String> = row
                .iter()
                .map(|b| String::from_utf8_lossy(b).trim_start_matches('\u{feff}').trim().to_string())
                .collect();
            if names.iter().any(|n| n == "user_session_id") {
                let missing: Vec<&str> = NEEDED.iter().copied().filter(|n| !names.iter().any(|h| h == n)).collect();
                if !missing.is_empty() {
                    return Err(NotAReport(format!(
                        "the header row lacks the sessions report columns {}",
                        missing.join(", ")
                    )));
                }
                columns =
                    Some(NEEDED.iter().chain(OPTIONAL.iter()).map(|n| names.iter().position(|h| h == n)).collect());
                known = true;
                headed = true;
                continue;
            }
            columns = Some(
                NEEDED.iter().chain(OPTIONAL.iter()).map(|n| DOCUMENTED_COLUMNS.iter().position(|c| c == n)).collect(),
            );
        }
        let Some(cols) = &columns else { continue };
        if !headed && row.len() < MIN_HEADERLESS_COLUMNS {
            let why = format!("{} columns, not the documented column order (at least {MIN_HEADERLESS_COLUMNS} columns, session_start_time 4th)", row.len());
            first_error.get_or_insert_with(|| why.clone());
            note(Problem::line(location, line, why), known, problems, &mut pending);
            continue;
        }
        match session(&row, cols, &format!("{location}:{line}")) {
            Ok(s) => {
                if !known {
                    problems.append(&mut pending);
                    known = true;
                }
                on_session(s);
            }
            Err(why) => {
                first_error.get_or_insert_with(|| why.clone());
                note(Problem::line(location, line, why), known, problems, &mut pending);
            }
        }
    }
    if first {
        return Err(NotAReport("empty file".into()));
    }
    if !known {
        return Err(NotAReport(format!(
            "no row is a session row (neither a header row starting with user_session_id nor a row in the documented column order: at least {MIN_HEADERLESS_COLUMNS} columns, session_start_time 4th); first problem: {}",
            first_error.unwrap_or_default()
        )));
    }
    Ok(())
}

fn session(row: &csv::ByteRecord, cols: &[Option<usize>], origin: &str) -> Result<Session, String> {
    let get = |i: usize| field(row, cols.get(i).copied().flatten());
    if cols.iter().flatten().any(|&i| row.get(i).is_some_and(|b| std::str::from_utf8(b).is_err())) {
        return Err("a field is not UTF-8".into());
    }
    let session_id = get(0);
    if session_id.is_empty() {
        return Err("empty user_session_id".into());
    }
    let user_id = get(3);
    if user_id.is_empty() {
        return Err(format!("session {session_id}: empty user_id"));
    }
    let start = Instant::parse(get(1)).map_err(|e| format!("session {session_id}: session_start_time {e}"))?;
    let end = match get(2) {
        "" => None,
        t => Some(Instant::parse(t).map_err(|e| format!("session {session_id}: session_end_time {e}"))?),
    };
    if end.is_some_and(|e| e < start) {
        return Err(format!("session {session_id}: session_end_time is before session_start_time"));
    }
    let ip = get(6);
    let seconds = |i: usize| get(i).parse::<i64>().ok().filter(|&n| n > 0);
    let open_until = end.is_none().then(|| {
        Instant(
            start
                .0
                .saturating_add(seconds(9).or_else(|| seconds(8)).unwrap_or(MAX_SESSION_SECONDS).saturating_mul(1000)),
        )
    });
    let account = get(7);
    Ok(Session {
        session_id: session_id.to_string(),
        user_id: user_id.to_string(),
        authentication_type: get(4).to_string(),
        fleet: get(5).to_string(),
        start,
        end,
        open_until,
        account: (!account.is_empty()).then(|| account.to_string()),
        eni_ip: (!ip.is_empty()).then(|| ip.to_string()),
        origin: origin.to_string(),
    })
}

/// Turns CRLF into LF: the csv crate counts the first CRLF of a file as no line at all, which
/// would shift every reported line number by one.
struct CrLf<R> {
    inner: R,
}

impl<R: BufRead> Read for CrLf<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let (mut written, mut used, mut lone_cr) = (0, 0, false);
        {
            let avail = self.inner.fill_buf()?;
            while let (Some(&c), Some(slot)) = (avail.get(used), buf.get_mut(written)) {
                if c == b'\r' {
                    match avail.get(used + 1) {
                        Some(b'\n') => {
                            used += 1;
                            continue;
                        }
                        None if written == 0 => {
                            lone_cr = true;
                            break;
                        }
                        // Decide after the next fill, with what follows in view.
                        None => break,
                        Some(_) => {}
                    }
                }
                *slot = c;
                written += 1;
                used += 1;
            }
        }
        self.inner.consume(used);
        if lone_cr {
            // A CR at the end of the buffer: look at the next byte.
            self.inner.consume(1);
            let next = self.inner.fill_buf()?.first().copied();
            let Some(slot) = buf.first_mut() else { return Ok(0) };
            if next == Some(b'\n') {
                self.inner.consume(1);
                *slot = b'\n';
            } else {
                *slot = b'\r';
            }
            return Ok(1);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> (Result<(), NotAReport>, Vec<Session>, Vec<Problem>) {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        let r = read("r.csv", text.as_bytes(), &mut problems, &mut |s| out.push(s));
        (r, out, problems)
    }

    const ROW: &str = "s1,123456789012,us-east-1,2026-11-28T23:30:00Z,2026-11-29T01:00:00Z,5400,alice,arn:aws:appstream:us-east-1:123456789012:user/custom/alice,CUSTOM,alice_CUSTOM,fleet,stack,stream.standard.small,10.10.1.25,true,203.0.113.9,false,false,s3,ENABLED,DISABLED,DISABLED,DISABLED,DISABLED,false,false,345600,ALWAYS_ON,APP";

    #[test]
    fn headerless_row_in_documented_order() {
        let (r, s, p) = run(&format!("{ROW}\n"));
        assert!(r.is_ok() && p.is_empty());
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].eni_ip.as_deref(), Some("10.10.1.25"));
        assert_eq!(s[0].user_id, "alice");
        assert_eq!(s[0].origin, "r.csv:1");
    }

    #[test]
    fn header_by_name_with_extra_columns_in_any_order() {
        let text = "\u{feff}user_id,new_column,eni_private_ip_address,user_session_id,session_start_time,session_end_time,authentication_type,fleet_name\nbob,x,10.0.0.1,s2,2026-11-28T10:00:00Z,,SAML,f\n";
        let (r, s, p) = run(text);
        assert!(r.is_ok() && p.is_empty(), "{p:?}");
        assert_eq!(s[0].session_id, "s2");
        assert_eq!(s[0].end, None);
        assert_eq!(s[0].origin, "r.csv:2");
    }

    #[test]
    fn bad_rows_are_counted_with_their_line() {
        let text = format!("{ROW}\r\nbroken,row\r\n{}\r\n{ROW}\r\n", ROW.replace("2026-11-28T23:30:00Z", "soon"));
        let (r, s, p) = run(&text);
        assert!(r.is_ok());
        assert_eq!(s.iter().map(|s| s.origin.as_str()).collect::<Vec<_>>(), vec!["r.csv:1", "r.csv:4"]);
        assert_eq!(p.iter().map(|p| p.location.clone()).collect::<Vec<_>>(), vec!["r.csv:2", "r.csv:3"]);
    }

    /// Review finding 1: a bad first row of a headerless report used to reject the whole file.
    #[test]
    fn a_bad_first_headerless_row_is_skipped_alone() {
        let bob = ROW.replace("s1,", "s2,").replace("alice", "bob");
        let text = format!("{}\n{ROW}\n{bob}\n", ROW.replace("2026-11-28T23:30:00Z", "soon"));
        let (r, s, p) = run(&text);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(s.iter().map(|s| s.user_id.as_str()).collect::<Vec<_>>(), vec!["alice", "bob"]);
        assert_eq!(p.iter().map(|p| p.location.as_str()).collect::<Vec<_>>(), vec!["r.csv:1"]);
        // A bad last row too.
        let (r, s, p) = run(&format!("{ROW}\nshort,row\n"));
        assert!(r.is_ok() && s.len() == 1 && p.len() == 1);
    }

    /// Review finding 2: an open session is capped by max_session_duration, else a non-zero
    /// session_duration_in_seconds, else 5 days.
    #[test]
    fn open_sessions_are_capped() {
        let open = ROW.replace("2026-11-29T01:00:00Z", "");
        let (_, s, _) = run(&format!("{open}\n"));
        let start = s[0].start.0;
        assert_eq!(s[0].open_until, Some(Instant(start + 345_600_000)), "max_session_duration");
        assert_eq!(s[0].account.as_deref(), Some("123456789012"));
        let (_, s, _) = run(&format!("{}\n", open.replace(",345600,", ",,")));
        assert_eq!(s[0].open_until, Some(Instant(start + 5_400_000)), "session_duration_in_seconds");
        let (_, s, _) = run(&format!("{}\n", open.replace(",345600,", ",,").replace(",5400,", ",0,")));
        assert_eq!(s[0].open_until, Some(Instant(start + MAX_SESSION_SECONDS * 1000)), "5 days");
        assert!(s[0].contains(Instant(start + 4 * 86_400_000)));
        assert!(!s[0].contains(Instant(start + 8 * 86_400_000)), "8 days later: not the session's");
        let (_, s, _) = run(&format!("{ROW}\n"));
        assert_eq!(s[0].open_until, None);
    }

    #[test]
    fn other_files_are_named_not_a_report() {
        assert!(run("").0.is_err());
        assert!(run("hello world\n").0.is_err());
        assert!(run("user_session_id,application_name,schedule\ns1,notepad,DAILY\n").0.is_err());
    }

    /// Yields one byte per read, to cross every buffer boundary.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((c, rest)), Some(slot)) => {
                    *slot = *c;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn crlf_becomes_lf_across_reads(s in "[a\\r\\n]{0,40}", trickle in proptest::bool::ANY) {
            let mut out = Vec::new();
            let r: Box<dyn Read> = if trickle { Box::new(Trickle(s.as_bytes())) } else { Box::new(s.as_bytes()) };
            let _ = CrLf { inner: std::io::BufReader::with_capacity(3, r) }.read_to_end(&mut out);
            proptest::prop_assert_eq!(String::from_utf8_lossy(&out).into_owned(), s.replace("\r\n", "\n"));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut problems = Vec::new();
            let _ = read("x", bytes.as_slice(), &mut problems, &mut |_| {});
        }
    }
}
