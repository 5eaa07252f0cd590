//! The validator Lambda's decision log lines (`lambda/src/decision.rs`, `DecisionLog`).
//!
//! One JSON object per line, in either of two shapes:
//! - the bare decision: `{"outcome":"issued|rejected|error","reason":"<snake_case>",
//!   "user_hash":"<64 hex>|null","session_id":"<id>|null","request_id":...,"bucket":...,"key":...}`
//!   (no time: the Lambda does not log one);
//! - a CloudWatch Logs event as `aws logs filter-log-events` returns it per event
//!   (`{"timestamp": <ms since epoch>, "message": "<the decision line>", ...}`), whose
//!   `timestamp` becomes the decision's time. Events whose message is not a decision (the
//!   runtime's `START`, `END`, `REPORT` lines) are counted, not reported.
//!
//! Blank lines are ignored; any other line is a problem with its line number.

use std::io::{BufRead, BufReader, Read};

use super::time::Instant;
use super::Problem;

/// One validator decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Decision {
    /// The CloudWatch Logs event time, when the line came from an export.
    pub time: Option<Instant>,
    /// `issued`, `rejected` or `error`.
    pub outcome: String,
    /// The reason code, e.g. `session_active`, `session_not_active`.
    pub reason: String,
    /// `user_hash`: sha256 of the AppStream user name, 64 lowercase hex.
    pub user_hash: Option<String>,
    /// `session_id`: the AppStream session ID.
    pub session_id: Option<String>,
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

fn text(v: &serde_json::Value, name: &str) -> Option<String> {
    v.get(name).and_then(serde_json::Value::as_str).map(str::to_string)
}

fn decision(v: &serde_json::Value, time: Option<Instant>, origin: String) -> Result<Decision, String> {
    let outcome = text(v, "outcome").ok_or("no \"outcome\" string")?;
    if !matches!(outcome.as_str(), "issued" | "rejected" | "error") {
        return Err(format!("outcome {outcome:?} is not issued, rejected or error"));
    }
    let user_hash = text(v, "user_hash").map(|h| h.to_ascii_lowercase());
    Ok(Decision { time, outcome, reason: text(v, "reason").unwrap_or_default(), user_hash, session_id: text(v, "session_id"), request_id: text(v, "request_id"), origin })
}

/// Reads one decisions file line by line.
///
/// # Errors
/// A message when the file cannot be read at all (an I/O error, or a first line that is not
/// text or not JSON); later bad lines are `problems`.
pub fn read(location: &str, input: impl Read, problems: &mut Vec<Problem>, on_decision: &mut dyn FnMut(Decision)) -> Result<DecisionCounts, String> {
    let mut counts = DecisionCounts::default();
    let mut reader = BufReader::new(input);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    let mut good_lines = 0usize;
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
            if good_lines == 0 && line_no == 1 {
                return Err("not a text file of JSON lines".into());
            }
            problems.push(Problem::line(location, line_no, "not UTF-8 text".into()));
            continue;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let origin = format!("{location}:{line_no}");
        let seen_text = std::mem::replace(&mut seen_any, true);
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) if !seen_text => return Err(format!("line {line_no}, its first line, is not JSON: {e}")),
            Err(e) => {
                problems.push(Problem::line(location, line_no, format!("not a JSON line: {e}")));
                continue;
            }
        };
        if !value.is_object() {
            problems.push(Problem::line(location, line_no, "not a JSON object".into()));
            continue;
        }
        good_lines += 1;
        if let Some(message) = value.get("message") {
            let Some(message) = message.as_str() else {
                problems.push(Problem::line(location, line_no, "a CloudWatch Logs event whose \"message\" is not a string".into()));
                continue;
            };
            let Some(ms) = value.get("timestamp").and_then(serde_json::Value::as_i64) else {
                problems.push(Problem::line(location, line_no, "a CloudWatch Logs event without a numeric \"timestamp\" (milliseconds since the epoch)".into()));
                continue;
            };
            let inner = serde_json::from_str::<serde_json::Value>(message.trim()).ok().filter(|v| v.get("outcome").is_some());
            let Some(inner) = inner else {
                counts.other_log_lines += 1;
                continue;
            };
            match decision(&inner, Some(Instant::from_millis(ms)), origin) {
                Ok(d) => {
                    counts.decisions += 1;
                    on_decision(d);
                }
                Err(why) => problems.push(Problem::line(location, line_no, format!("a CloudWatch Logs event whose message is not a validator decision: {why}"))),
            }
            continue;
        }
        match decision(&value, None, origin) {
            Ok(d) => {
                counts.decisions += 1;
                on_decision(d);
            }
            Err(why) => problems.push(Problem::line(location, line_no, format!("not a validator decision: {why}"))),
        }
    }
    Ok(counts)
}

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
        assert_eq!(problems.iter().map(|p| p.location.as_str()).collect::<Vec<_>>(), vec!["d.jsonl:5", "d.jsonl:6", "d.jsonl:7"]);
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let mut problems = Vec::new();
            let _ = read("x", bytes.as_slice(), &mut problems, &mut |_| {});
        }
    }
}
