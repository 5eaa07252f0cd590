//! The validator Lambda's decision log lines, read as the contract's
//! [`DecisionLine`] (the type the Lambda writes them with).
//!
//! One JSON object per line, in either of two shapes:
//! - the bare decision: `{"outcome":"issued|rejected|error","reason":"<snake_case>",
//!   "user_hash":"<64 hex>|null","session_id":"<id>|null","notebook":"<instance>|null",
//!   "request_id":...,"bucket":...,"key":...}` (no time: the Lambda does not log one; any field
//!   but `outcome` may be missing, `notebook` in every line written before it existed);
//! - a CloudWatch Logs event as `aws logs filter-log-events` returns it per event
//!   (`{"timestamp": <ms since epoch>, "message": "<the decision line>", ...}`), whose
//!   `timestamp` becomes the decision's time. Events whose message is not a decision (the
//!   runtime's `START`, `END`, `REPORT` lines) are counted, not reported.
//!
//! Blank lines are ignored; any other line is a problem with its line number.

use std::io::{BufRead, BufReader, Read};

use sandboxc_contract::decision::DecisionLine;
pub use sandboxc_contract::decision::Outcome;
use serde::Deserialize;

use super::time::Instant;
use super::Problem;

/// One validator decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// The CloudWatch Logs event time, when the line came from an export.
    pub time: Option<Instant>,
    /// `issued`, `rejected` or `error`.
    pub outcome: Outcome,
    /// The reason code, e.g. `session_active`, `session_not_active`.
    pub reason: String,
    /// `user_hash`: sha256 of the AppStream user name, 64 lowercase hex.
    pub user_hash: Option<String>,
    /// `session_id`: the AppStream session ID.
    pub session_id: Option<String>,
    /// `notebook`: the SageMaker notebook instance the allow list granted (the one an issued
    /// URL is for).
    pub notebook: Option<String>,
    /// `request_id`: the Lambda request ID.
    pub request_id: Option<String>,
    /// `file:line` the decision was read from.
    pub origin: String,
}

/// Counts of one decisions file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecisionCounts {
    /// Decisions read.
    pub decisions: usize,
    /// CloudWatch Logs events that are not decisions (runtime lines).
    pub other_log_lines: usize,
}

/// One decision from a JSON value holding a [`DecisionLine`] (the event record's `bucket` and
/// `key` are not kept).
fn decision(v: &serde_json::Value, time: Option<Instant>, origin: String) -> Result<Decision, String> {
    let line = DecisionLine::deserialize(v).map_err(|e| e.to_string())?;
    Ok(Decision {
        time,
        outcome: line.outcome,
        reason: line.reason.into_owned(),
        user_hash: line.user_hash.map(|h| h.to_ascii_lowercase()),
        session_id: line.session_id,
        notebook: line.notebook,
        request_id: line.request_id,
        origin,
    })
}

/// Reads one decisions file line by line, judging each line on its own: a bad line is a
/// problem with its line number, and the file is "not a decision log" only when no line is a
/// decision (nor a CloudWatch Logs event). A file holding the whole JSON document of
/// `aws logs filter-log-events` (`{"events": [...], ...}`, pretty-printed or not) is read
/// as its `events[]` (locations `file:event N`); such a file is read whole into memory.
///
/// # Errors
/// A message when the file cannot be read at all or no line is a decision (its line problems
/// are then dropped: the file is named instead).
pub fn read(
    location: &str,
    input: impl Read,
    problems: &mut Vec<Problem>,
    on_decision: &mut dyn FnMut(Decision),
) -> Result<DecisionCounts, String> {
    let mut counts = DecisionCounts::default();
    let mut reader = BufReader::new(input);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut mine: Vec<Problem> = Vec::new();
    let mut seen_any = false;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("cannot read: {e}")),
        }
        line_no += 1;
        let Ok(line) = std::str::from_utf8(&buf) else {
            mine.push(Problem::line(location, line_no, "not UTF-8 text".into()));
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let first_text = !std::mem::replace(&mut seen_any, true);
        let parsed = serde_json::from_str::<serde_json::Value>(line);
        if first_text
            && line.starts_with('{')
            && parsed.as_ref().map_or(true, |v| v.get("events").is_some_and(serde_json::Value::is_array))
        {
            // The raw `aws logs filter-log-events` document: read it whole.
            let mut text = buf.clone();
            if let Err(e) = reader.read_to_end(&mut text) {
                return Err(format!("cannot read: {e}"));
            }
            let doc: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
                format!("starts like a JSON document but is not one ({e}); give one JSON object per line")
            })?;
            let Some(events) = doc.get("events").and_then(serde_json::Value::as_array) else {
                return Err("a JSON document without an \"events\" array (give one decision per line, or the output of aws logs filter-log-events)".into());
            };
            for (i, event) in events.iter().enumerate() {
                let here = format!("{location}:event {}", i + 1);
                if let Err(why) = one(event, &here, &mut counts, on_decision) {
                    mine.push(Problem::new(here, why));
                }
            }
            break;
        }
        let value = match parsed {
            Ok(v) => v,
            Err(e) => {
                mine.push(Problem::line(location, line_no, format!("not a JSON line: {e}")));
                continue;
            }
        };
        if let Err(why) = one(&value, &format!("{location}:{line_no}"), &mut counts, on_decision) {
            mine.push(Problem::line(location, line_no, why));
        }
    }
    if seen_any && counts.decisions == 0 && counts.other_log_lines == 0 {
        let first = mine.first().map(|p| format!(" (first: {}: {})", p.location, p.reason)).unwrap_or_default();
        return Err(format!("no line is a validator decision or a CloudWatch Logs event{first}"));
    }
    problems.append(&mut mine);
    Ok(counts)
}

/// One JSON value: a bare decision or a CloudWatch Logs event holding one.
fn one(
    value: &serde_json::Value,
    origin: &str,
    counts: &mut DecisionCounts,
    on_decision: &mut dyn FnMut(Decision),
) -> Result<(), String> {
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    if let Some(message) = value.get("message") {
        let message = message.as_str().ok_or("a CloudWatch Logs event whose \"message\" is not a string")?;
        let ms = value
            .get("timestamp")
            .and_then(serde_json::Value::as_i64)
            .ok_or("a CloudWatch Logs event without a numeric \"timestamp\" (milliseconds since the epoch)")?;
        return log_event(ms, message, origin, counts, on_decision);
    }
    let d = decision(value, None, origin.to_string()).map_err(|why| format!("not a validator decision: {why}"))?;
    counts.decisions += 1;
    on_decision(d);
    Ok(())
}

/// One CloudWatch Logs event (`timestamp` in milliseconds since the epoch, `message`): a
/// decision (counted and passed on, its time the event's), a runtime line (any message that is
/// not a JSON object with `outcome`: counted in [`DecisionCounts::other_log_lines`]) or a
/// problem (the reason).
fn log_event(
    ms: i64,
    message: &str,
    origin: &str,
    counts: &mut DecisionCounts,
    on_decision: &mut dyn FnMut(Decision),
) -> Result<(), String> {
    if !(MIN_TIMESTAMP_MS..MAX_TIMESTAMP_MS).contains(&ms) {
        return Err(format!(
            "a CloudWatch Logs event whose \"timestamp\" {ms} is not milliseconds between 2000 and 2100"
        ));
    }
    let inner = serde_json::from_str::<serde_json::Value>(message.trim()).ok().filter(|v| v.get("outcome").is_some());
    let Some(inner) = inner else {
        counts.other_log_lines += 1;
        return Ok(());
    };
    let d = decision(&inner, Some(Instant::from_millis(ms)), origin.to_string())
        .map_err(|why| format!("a CloudWatch Logs event whose message is not a validator decision: {why}"))?;
    counts.decisions += 1;
    on_decision(d);
    Ok(())
}

/// One CloudWatch Logs event given by its fields (a row of the Athena decisions query,
/// `super::athena_decisions`), with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent<'a> {
    /// The event's location: the decision's origin and the problem's location.
    pub origin: String,
    /// `timestamp`: milliseconds since the epoch.
    pub timestamp: i64,
    /// `message`: the line the validator wrote.
    pub message: &'a str,
}

/// Reads the CloudWatch Logs events of one log group given one by one, exactly as [`read`]
/// reads the same events as `filter-log-events` lines ([`log_event_line`]): each event is a
/// decision, a runtime line or a problem at its origin, and the group is "not a validator
/// decision log" when it has events and none is a decision or a runtime line.
///
/// # Errors
/// As [`read`]: a message when no event is a decision or a runtime line (the events' problems
/// are then dropped: the group is named instead).
pub fn read_events<'a>(
    events: impl IntoIterator<Item = LogEvent<'a>>,
    problems: &mut Vec<Problem>,
    on_decision: &mut dyn FnMut(Decision),
) -> Result<DecisionCounts, String> {
    let mut counts = DecisionCounts::default();
    let mut mine: Vec<Problem> = Vec::new();
    let mut seen_any = false;
    for e in events {
        seen_any = true;
        if let Err(why) = log_event(e.timestamp, e.message, &e.origin, &mut counts, on_decision) {
            mine.push(Problem::new(e.origin, why));
        }
    }
    if seen_any && counts.decisions == 0 && counts.other_log_lines == 0 {
        let first = mine.first().map(|p| format!(" (first: {}: {})", p.location, p.reason)).unwrap_or_default();
        return Err(format!("no line is a validator decision or a CloudWatch Logs event{first}"));
    }
    problems.append(&mut mine);
    Ok(counts)
}

/// One CloudWatch Logs event as the line `--from-aws` reads from `FilterLogEvents` (and
/// `aws logs filter-log-events | jq -c '.events[]'` writes): `{"timestamp":<ms>,"message":"<text>"}`
/// and a newline, appended to `out`.
///
/// # Errors
/// The serializer's error (none for these two fields).
pub fn log_event_line(timestamp: i64, message: &str, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, &serde_json::json!({"timestamp": timestamp, "message": message}))?;
    out.push(b'\n');
    Ok(())
}

/// 2000-01-01T00:00:00Z in milliseconds: earlier timestamps are not CloudWatch Logs times.
const MIN_TIMESTAMP_MS: i64 = 946_684_800_000;
/// 2100-01-01T00:00:00Z in milliseconds.
const MAX_TIMESTAMP_MS: i64 = 4_102_444_800_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_and_bad_lines() {
        let text = concat!(
            r#"{"outcome":"issued","reason":"session_active","user_hash":"AB","session_id":"s1","request_id":"r1","bucket":"b","key":"k"}"#,
            "\n\n",
            r#"{"timestamp":1795908660000,"message":"{\"outcome\":\"rejected\",\"reason\":\"session_not_active\",\"user_hash\":null,\"session_id\":null,\"request_id\":\"r2\",\"bucket\":\"b\",\"key\":\"k\"}\n","logStreamName":"x","eventId":"1"}"#,
            "\n",
            r#"{"timestamp":1795908660001,"message":"START RequestId: r2 Version: $LATEST\n"}"#,
            "\n{not json\n[1]\n",
            r#"{"outcome":"maybe"}"#,
            "\n"
        );
        let mut problems = Vec::new();
        let mut out = Vec::new();
        let counts = read("d.jsonl", text.as_bytes(), &mut problems, &mut |d| out.push(d));
        assert_eq!(counts, Ok(DecisionCounts { decisions: 2, other_log_lines: 1 }));
        assert_eq!(out[0].user_hash.as_deref(), Some("ab"));
        assert_eq!(out[0].time, None);
        assert_eq!(out[1].time.map(|t| t.to_string()).as_deref(), Some("2026-11-28T23:31:00Z"));
        assert_eq!(out[1].origin, "d.jsonl:3");
        assert_eq!(
            problems.iter().map(|p| p.location.as_str()).collect::<Vec<_>>(),
            vec!["d.jsonl:5", "d.jsonl:6", "d.jsonl:7"]
        );
    }

    /// A hostile value quoted by the parser's message is cut: the report holds at most
    /// `MAX_REASON_CHARS` characters of it and the count of the rest.
    #[test]
    fn a_huge_bad_value_is_not_copied_into_the_report() {
        let text = format!("{{\"outcome\":\"issued\"}}\n{{\"outcome\":\"{}\"}}\n", "x".repeat(1_000_000));
        let mut problems = Vec::new();
        let counts = read("d.jsonl", text.as_bytes(), &mut problems, &mut |_| {});
        assert_eq!(counts.map(|c| c.decisions), Ok(1));
        let reason = &problems[0].reason;
        assert!(reason.len() < 400 && reason.ends_with(" more characters)"), "{}", &reason[..reason.len().min(400)]);
        assert!(reason.starts_with("not a validator decision: unknown variant `xxx"), "{}", &reason[..60]);
    }

    /// Review finding 8: a bad first line no longer drops the file; the raw
    /// filter-log-events document is read as its events.
    #[test]
    fn a_bad_first_line_is_skipped_and_the_raw_document_is_read() {
        let text = concat!(
            "time,outcome\n",
            r#"{"outcome":"issued","reason":"session_active","user_hash":"ab","session_id":"s1"}"#,
            "\n"
        );
        let mut problems = Vec::new();
        let mut out = Vec::new();
        let counts = read("d.jsonl", text.as_bytes(), &mut problems, &mut |d| out.push(d));
        assert_eq!(counts.map(|c| c.decisions), Ok(1));
        assert_eq!(problems.iter().map(|p| p.location.as_str()).collect::<Vec<_>>(), vec!["d.jsonl:1"]);
        let doc = "{\n  \"events\": [\n    {\"timestamp\": 1795908660000, \"message\": \"{\\\"outcome\\\":\\\"rejected\\\",\\\"reason\\\":\\\"x\\\"}\"},\n    {\"timestamp\": 5, \"message\": \"{}\"}\n  ],\n  \"searchedLogStreams\": []\n}\n";
        let mut problems = Vec::new();
        let mut out = Vec::new();
        let counts = read("raw.json", doc.as_bytes(), &mut problems, &mut |d| out.push(d));
        assert_eq!(counts.map(|c| c.decisions), Ok(1), "{problems:?}");
        assert_eq!(out[0].origin, "raw.json:event 1");
        assert_eq!(
            problems.iter().map(|p| p.location.as_str()).collect::<Vec<_>>(),
            vec!["raw.json:event 2"],
            "a timestamp outside 2000..2100 is malformed"
        );
        assert!(read("x", "time,outcome\n".as_bytes(), &mut Vec::new(), &mut |_| {}).is_err());
    }

    /// The lines the validator Lambda writes, pinned byte for byte by its own test of the same
    /// file (`lambda/src/decision.rs`): read back here with the values it wrote.
    #[test]
    fn the_lines_the_lambda_writes_read_back_with_the_same_values() {
        let text = include_str!("../../contract/fixtures/decision-lines.jsonl");
        let mut problems = Vec::new();
        let mut out = Vec::new();
        let counts = read("lambda.jsonl", text.as_bytes(), &mut problems, &mut |d| out.push(d));
        assert_eq!(counts, Ok(DecisionCounts { decisions: 9, other_log_lines: 0 }));
        assert!(problems.is_empty(), "{problems:?}");
        // sha256("alice"), the home-folder hash of the Lambda's test user, and her notebook.
        let alice = Some("2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90");
        let nb = Some("team-alice-2bd806c9-0a1b");
        let got: Vec<_> = out
            .iter()
            .map(|d| {
                (
                    d.outcome,
                    d.reason.as_str(),
                    d.user_hash.as_deref(),
                    d.session_id.as_deref(),
                    d.notebook.as_deref(),
                    d.request_id.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Outcome::Issued, "session_active", alice, Some("s1"), nb, Some("req-1")),
                (Outcome::Rejected, "session_not_active", alice, Some("s1"), None, Some("req-1")),
                (Outcome::Rejected, "not_listed", alice, Some("s1"), None, Some("req-1")),
                (Outcome::Error, "notebook_not_in_service", alice, Some("s1"), nb, Some("req-1")),
                (Outcome::Error, "notebook_missing", alice, Some("s1"), nb, Some("req-1")),
                (Outcome::Error, "presign_failed", alice, Some("s1"), nb, Some("req-1")),
                (Outcome::Rejected, "user_mismatch", alice, None, None, Some("req-1")),
                (Outcome::Rejected, "wrong_bucket", None, None, None, None),
                (Outcome::Rejected, "bad_event", None, None, None, Some("req-2")),
            ]
        );
        assert_eq!(alice.map(String::from), Some(super::super::join::user_hash("alice")));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut problems = Vec::new();
            let _ = read("x", bytes.as_slice(), &mut problems, &mut |_| {});
        }
    }
}
