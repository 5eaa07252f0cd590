//! The validator's decisions read on Athena (`sandboxc audit --engine athena` when the blueprint
//! exports them, `audit.athena.export_decisions`): a second SQL query over the Glue table of the
//! exported decisions, whose rows are the CloudWatch Logs events of the window, read by the same
//! code that reads them from `FilterLogEvents` ([`super::decisions`]).
//!
//! # The table
//!
//! One row per CloudWatch Logs subscription record as Kinesis Data Firehose delivers it after its
//! `Decompression` processor (newline-delimited JSON, CloudWatch Logs user guide, "Subscription
//! filters"): `messagetype` (`DATA_MESSAGE`, or `CONTROL_MESSAGE` for the reachability check,
//! which has no log events), `loggroup`, `logstream` and `logevents`, an array of
//! `struct<id, timestamp, message>` (the event's ID, its time in milliseconds since the epoch,
//! the line the validator wrote); the partition `day` (`yyyy/MM/dd`) is the UTC day of Firehose's
//! `!{timestamp}` prefix, which is "the approximate arrival timestamp of the oldest record that's
//! contained in the Amazon S3 object being written" (Firehose developer guide, "Custom prefixes
//! for Amazon S3 objects"). A record arrives at or after its events' time (later by the
//! subscription's delivery), and the oldest record of its object arrived at most one buffer
//! interval (at most 900 s) before it: an event's folder is that of its own day, the day before
//! (an event just after midnight in an object opened before it) or the day after (delivery
//! across midnight).
//!
//! # The query ([`decisions_query`])
//!
//! - Partitions: `day` from the day before the window's first UTC day to the day after its last
//!   (module docs above), compared as strings (`yyyy/MM/dd` sorts as the dates do).
//! - `messagetype = 'DATA_MESSAGE'`, each record's `logevents` unnested: one row per log event;
//!   events with a `message` and `since <= timestamp < until` (milliseconds; `FilterLogEvents`
//!   is called with `startTime` since and `endTime` until - 1 ms, both inclusive: the same set).
//! - Firehose delivers at least once (Firehose developer guide, "Data delivery failure handling"),
//!   so a record may be in two objects: an event is kept once per log group and event `id` (the
//!   copy of the first object by `"$path"`); an event without an `id` is never merged.
//! - Output ([`DECISION_COLUMNS`], all `varchar`): `timestamp_ms`, `message`, `log_group`,
//!   `event_id`, ordered by log group, time, event ID (event IDs of one group are digit strings
//!   of one length, so the order is deterministic).
//!
//! # The rows ([`read_rows`])
//!
//! Each log group's events are read as `--from-aws` reads that group's `FilterLogEvents` pages
//! ([`super::Auditor::read_log_events`]): decisions, runtime lines (`START`, `END`, `REPORT`:
//! other log lines) and malformed events alike, the group counted as one decision file. A
//! decision's origin and a problem's location is `athena:<query ID>:<log group>:<event ID>`.

use std::fmt::Write as _;

use super::athena_sql::{identifier, SqlError, MAX_WINDOW_DAYS};
use super::decisions::LogEvent;
use super::time::{ymd, Instant};
use super::{AuditError, Auditor, Filters};

/// The output columns of the decisions query, in order (all `varchar`).
pub const DECISION_COLUMNS: [&str; 4] = ["timestamp_ms", "message", "log_group", "event_id"];

/// `yyyy/MM/dd` of a day count.
fn slash_day(day: i64) -> String {
    let (y, m, d) = ymd(day);
    format!("{y:04}/{m:02}/{d:02}")
}

/// The window's `[since, until)` in milliseconds and its first and last UTC day.
fn window(filters: &Filters) -> Result<(Instant, Instant, i64, i64), SqlError> {
    let (Some(since), Some(until)) = (filters.since, filters.until) else {
        return Err(SqlError::Window("the Athena decisions query needs a window (--since and --until)".into()));
    };
    if until <= since {
        return Err(SqlError::Window("the window is empty".into()));
    }
    let (first, last) = (since.day(), Instant(until.0 - 1).day());
    if last - first + 1 > MAX_WINDOW_DAYS {
        return Err(SqlError::Window(format!(
            "a window of {} days is longer than the {MAX_WINDOW_DAYS} days one query reads; audit it in parts",
            last - first + 1
        )));
    }
    Ok((since, until, first, last))
}

/// The predicate on the decisions table's partition column only: `day` from the day before the
/// window's first UTC day to the day after its last, as `yyyy/MM/dd` strings (module docs: a
/// folder is the day its object's oldest record arrived).
#[must_use]
pub fn decisions_partition_predicate(since: Instant, until: Instant) -> String {
    let (first, last) = (since.day(), Instant(until.0 - 1).day());
    format!("\"day\" BETWEEN '{}' AND '{}'", slash_day(first - 1), slash_day(last + 1))
}

/// The decisions query over `database.table` for the window of `filters` (module docs).
///
/// # Errors
/// [`SqlError`] for a database or table name that is not `[a-z0-9_]`, or a window that is
/// missing, empty or longer than [`MAX_WINDOW_DAYS`].
pub fn decisions_query(database: &str, table: &str, filters: &Filters) -> Result<String, SqlError> {
    let (since, until, _, _) = window(filters)?;
    let table = format!("{}.{}", identifier("database", database)?, identifier("decisions table", table)?);
    let mut q = String::new();
    let _ = write!(
        q,
        "WITH log_events AS (
  SELECT \"$path\" AS origin, loggroup, logstream, e.id AS event_id, e.\"timestamp\" AS t_ms, e.message AS message
  FROM {table}
  CROSS JOIN UNNEST(logevents) AS e (id, \"timestamp\", message)
  WHERE {partitions}
    AND messagetype = 'DATA_MESSAGE'
),
kept AS (
  SELECT t_ms, message, loggroup, event_id,
    CASE WHEN event_id IS NULL THEN 1
      ELSE row_number() OVER (PARTITION BY loggroup, event_id ORDER BY origin, logstream) END AS copy
  FROM log_events
  WHERE t_ms >= {since_ms} AND t_ms < {until_ms} AND message IS NOT NULL
)
SELECT CAST(t_ms AS varchar) AS timestamp_ms, message, loggroup AS log_group, event_id
FROM kept
WHERE copy = 1
ORDER BY loggroup, t_ms, event_id
",
        partitions = decisions_partition_predicate(since, until),
        since_ms = since.0,
        until_ms = until.0,
    );
    Ok(q)
}

/// Reads the decisions query's rows (header row removed) into `auditor`, each log group's
/// events as `FilterLogEvents` would give them ([`super::Auditor::read_log_events`]), located
/// `athena:<query_id>:<log group>[:<event ID>]`. Returns the log groups read, in order.
///
/// # Errors
/// [`AuditError::Aws`] for a row that is not of the query's shape (column count, a time that is
/// not an integer, a NULL message), naming the query ID and the row.
pub fn read_rows(
    auditor: &mut Auditor,
    query_id: &str,
    rows: &[super::athena_rows::Row],
) -> Result<Vec<String>, AuditError> {
    let shape =
        |at: usize, why: String| AuditError::Aws(format!("Athena decisions query {query_id}: result row {at}: {why}"));
    // Each group's events in the rows' order (the query sorts them by time).
    let mut groups: Vec<(String, Vec<LogEvent<'_>>)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let at = i + 1;
        if row.len() != DECISION_COLUMNS.len() {
            return Err(shape(at, format!("{} columns, the query has {}", row.len(), DECISION_COLUMNS.len())));
        }
        let cell = |n: usize| row.get(n).and_then(Option::as_deref);
        let timestamp = cell(0)
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| shape(at, format!("timestamp_ms is {:?}, not an integer", cell(0))))?;
        let message = cell(1).ok_or_else(|| shape(at, "message is NULL".into()))?;
        let group = cell(2).unwrap_or_default();
        let event_id = cell(3).unwrap_or_default();
        let origin = format!("athena:{query_id}:{group}:{event_id}");
        let event = LogEvent { origin, timestamp, message };
        match groups.iter_mut().find(|(g, _)| g == group) {
            Some((_, events)) => events.push(event),
            None => groups.push((group.to_string(), vec![event])),
        }
    }
    let mut read = Vec::new();
    for (group, events) in groups {
        auditor.read_log_events(&format!("athena:{query_id}:{group}"), events);
        read.push(group);
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window as the command line gives it (`--until` a date: the whole day).
    fn window(since: &str, until: &str) -> Filters {
        let text = super::super::FilterText {
            since: Some(since.into()),
            until: Some(until.into()),
            ..super::super::FilterText::default()
        };
        Filters::from_text(&text, None).unwrap_or_default()
    }

    #[test]
    fn reads_the_window_days_the_day_before_and_the_next() {
        let f = window("2026-11-28T09:00:00Z", "2026-11-29");
        let sql = decisions_query("sandboxc_audit", "validator_decisions", &f).unwrap_or_default();
        assert!(sql.contains("\"day\" BETWEEN '2026/11/27' AND '2026/11/30'"), "{sql}");
        assert!(sql.contains("FROM \"sandboxc_audit\".\"validator_decisions\""), "{sql}");
        assert!(sql.contains("messagetype = 'DATA_MESSAGE'"), "{sql}");
        let (since, until) = (f.since.map(|i| i.0).unwrap_or(0), f.until.map(|i| i.0).unwrap_or(0));
        assert!(sql.contains(&format!("t_ms >= {since} AND t_ms < {until}")), "{sql}");
        // A window ending at midnight: its last day is the day before.
        let sql =
            decisions_query("d", "t", &window("2026-12-31T23:00:00Z", "2026-12-31T23:59:59Z")).unwrap_or_default();
        assert!(sql.contains("\"day\" BETWEEN '2026/12/30' AND '2027/01/01'"), "{sql}");
    }

    #[test]
    fn refuses_bad_names_and_windows() {
        let f = window("2026-11-28", "2026-11-28");
        assert!(matches!(decisions_query("db\"; x", "t", &f), Err(SqlError::Invalid { .. })));
        assert!(matches!(decisions_query("db", "T", &f), Err(SqlError::Invalid { .. })));
        assert!(matches!(decisions_query("db", "t", &Filters::default()), Err(SqlError::Window(_))));
        assert!(matches!(decisions_query("db", "t", &window("2020-01-01", "2026-01-01")), Err(SqlError::Window(_))));
    }

    fn row(t: &str, message: &str, group: &str, id: &str) -> super::super::athena_rows::Row {
        vec![Some(t.into()), Some(message.into()), Some(group.into()), Some(id.into())]
    }

    /// Decisions, runtime lines and malformed events, located by query, group and event ID; a
    /// group whose events are all malformed is not a decision log; rows of another shape are
    /// errors naming the query.
    #[test]
    fn rows_are_read_as_log_events() {
        let mut aud = Auditor::new(window("2026-11-28", "2026-11-28"));
        let decision = r#"{"outcome":"issued","reason":"session_active","user_hash":"AB","session_id":"s1"}"#;
        let rows = vec![
            row("1795852860000", decision, "/g", "1"),
            row("1795852860001", "START RequestId: r Version: $LATEST\n", "/g", "2"),
            row("1795852860002", r#"{"outcome":"maybe"}"#, "/g", "3"),
            row("1795852860003", r#"{"outcome":"maybe"}"#, "/h", "4"),
        ];
        let groups = read_rows(&mut aud, "q-2", &rows).unwrap_or_default();
        assert_eq!(groups, vec!["/g", "/h"]);
        assert_eq!(aud.decisions.len(), 1);
        assert_eq!(aud.decisions[0].origin, "athena:q-2:/g:1");
        assert_eq!(aud.decisions[0].user_hash.as_deref(), Some("ab"));
        assert_eq!(aud.decisions[0].time.map(|t| t.0), Some(1_795_852_860_000));
        assert_eq!((aud.counts.decision_files, aud.counts.other_log_lines, aud.counts.malformed), (1, 1, 1));
        assert_eq!(aud.problems[0].location, "athena:q-2:/g:3");
        assert_eq!(aud.bad_files.len(), 1);
        assert_eq!(aud.bad_files[0].location, "athena:q-2:/h");
        assert!(aud.bad_files[0].reason.starts_with("not a validator decision log: "), "{:?}", aud.bad_files);
        let bad = [vec![Some("x".to_string())], row("soon", "m", "/g", "1"), vec![Some("1".into()), None, None, None]];
        for b in bad {
            let e = read_rows(&mut aud, "q-9", &[b]).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.starts_with("Athena decisions query q-9: result row 1: "), "{e}");
        }
    }
}
