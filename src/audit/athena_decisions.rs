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
//! which has no log events), `owner` (the account of the log data), `loggroup`, `logstream` and
//! `logevents`, an array of
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
//!   events with a `message` and a `timestamp` in the window, `since <= timestamp < until` in
//!   milliseconds, where `until` is the instant after `--until` (`--until` is inclusive:
//!   [`Filters::until`] is 1 ms after a time given, or the next midnight after a date given;
//!   `FilterLogEvents` is called with `startTime` since and `endTime` until - 1 ms, both
//!   inclusive: the same set).
//! - The sandbox's records only: a record is the validator's when its `owner` (the account of
//!   the log data, CloudWatch Logs user guide, "Subscription filters") is the audited account
//!   and its `loggroup` is `/sandboxc/<environment>/<id>/lambda/validator` (`<id>` one path
//!   segment: the log group `sandboxc` names for the validator of the stack `<environment>`,
//!   whichever stack ID it had). Anyone able to write to the decisions bucket or the Firehose
//!   stream could add records of another log group or account; those are never read as
//!   decisions: the query returns, per owner and log group, how many log events of the window
//!   they hold, each copy counted (a `foreign` row), and [`read_rows`] lists each as a problem of the report.
//! - Firehose delivers at least once (Firehose developer guide, "Data delivery failure handling"),
//!   so a record may be in two objects: an event is kept once per log group and event `id` (the
//!   copy of the first object by `"$path"`; all copies are then equal); an event without an `id`
//!   is never merged. Copies of one event that differ in time or message are not a redelivery:
//!   one of them was written by someone else, and which one cannot be told from the table. None
//!   of them is read; the query returns one `conflict` row naming the event and its objects, a
//!   problem of the report (the evidence is then incomplete, exit 2).
//! - Output ([`DECISION_COLUMNS`], all `varchar`): `kind` (`event`, `conflict`, `foreign`),
//!   `timestamp_ms` (the event's time; a conflict's or foreign group's earliest), `message`
//!   (events only), `log_group`, `event_id` (events and conflicts), `owner` (foreign rows),
//!   `detail` (a conflict's objects, space-separated and sorted; a foreign group's count
//!   of log event copies), ordered by kind, log group, time, event ID, owner (event IDs of one group are digit
//!   strings of one length, so the order is deterministic).
//!
//! # The rows ([`read_rows`])
//!
//! Each log group's events are read as `--from-aws` reads that group's `FilterLogEvents` pages
//! ([`super::Auditor::read_log_events`]): decisions, runtime lines (`START`, `END`, `REPORT`:
//! other log lines) and malformed events alike, the group counted as one decision file. A
//! decision's origin and a problem's location is `athena:<query ID>:<log group>:<event ID>`.
//! Then each conflict is a problem at `athena:<query ID>:<log group>:<event ID>`, and each
//! foreign owner and log group a problem at `athena:<query ID>:<log group>` (both counted as
//! records that could not be read: the evidence is incomplete).

use std::fmt::Write as _;

use super::athena_sql::{check_partition_days, identifier, SqlError, MAX_WINDOW_DAYS};
use super::decisions::LogEvent;
use super::time::{ymd, Instant};
use super::{AuditError, Auditor, Filters, Problem};

/// The output columns of the decisions query, in order (all `varchar`; module docs).
pub const DECISION_COLUMNS: [&str; 7] = ["kind", "timestamp_ms", "message", "log_group", "event_id", "owner", "detail"];

/// The suffix of the validator's log group name (`/sandboxc/<environment>/<stack ID>/lambda/validator`,
/// the name the validator part compiles).
pub const VALIDATOR_GROUP_SUFFIX: &str = "/lambda/validator";

/// Whether `name` is a CloudFormation stack name (`[A-Za-z][-A-Za-z0-9]*`, at most 128
/// characters; CloudFormation API reference, CreateStack `StackName`): the environment whose
/// validator log group the query keeps, written into a regular expression unescaped.
fn is_stack_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The regular expression (for `regexp_like`) of the validator's log groups of `environment`:
/// `^/sandboxc/<environment>/[^/]+/lambda/validator$`.
///
/// # Errors
/// [`SqlError::Invalid`] when `environment` is not a CloudFormation stack name.
pub fn validator_group_pattern(environment: &str) -> Result<String, SqlError> {
    if !is_stack_name(environment) {
        return Err(SqlError::Invalid {
            what: "environment (--stack or the blueprint's name)",
            value: environment.to_string(),
            allowed: "a CloudFormation stack name: a letter, then letters, digits and '-', at most 128 characters",
        });
    }
    Ok(format!("^/sandboxc/{environment}/[^/]+{VALIDATOR_GROUP_SUFFIX}$"))
}

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
    check_partition_days(first - 1, last + 1, "the decisions' day before --since", "the decisions' day after --until")?;
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

/// The decisions query over `database.table` for the window of `filters`, keeping the records
/// of `account`'s validator log groups of `environment` (module docs).
///
/// # Errors
/// [`SqlError`] for a database or table name that is not `[a-z0-9_]`, an account that is not
/// 12 digits, an environment that is not a CloudFormation stack name, or a window that is
/// missing, empty, longer than [`MAX_WINDOW_DAYS`] or with partition days outside years 0001 to
/// 9999.
pub fn decisions_query(
    database: &str,
    table: &str,
    filters: &Filters,
    account: &str,
    environment: &str,
) -> Result<String, SqlError> {
    let (since, until, _, _) = window(filters)?;
    let table = format!("{}.{}", identifier("database", database)?, identifier("decisions table", table)?);
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SqlError::Invalid {
            what: "account",
            value: account.to_string(),
            allowed: "a 12-digit AWS account ID",
        });
    }
    let pattern = validator_group_pattern(environment)?;
    let in_window = format!("t_ms >= {} AND t_ms < {}", since.0, until.0);
    let mut q = String::new();
    let _ = write!(
        q,
        "WITH log_events AS (
  SELECT \"$path\" AS origin, owner, loggroup, logstream, e.id AS event_id, e.\"timestamp\" AS t_ms, e.message AS message
  FROM {table}
  CROSS JOIN UNNEST(logevents) AS e (id, \"timestamp\", message)
  WHERE {partitions}
    AND messagetype = 'DATA_MESSAGE'
),
marked AS (
  SELECT origin, owner, loggroup, logstream, event_id, t_ms, message,
    coalesce(owner = '{account}' AND regexp_like(loggroup, '{pattern}'), false) AS ours
  FROM log_events
  WHERE message IS NOT NULL AND t_ms IS NOT NULL
),
versions AS (
  SELECT loggroup, event_id,
    min(t_ms) <> max(t_ms) OR min(message) <> max(message) AS differ,
    max(CASE WHEN {in_window} THEN 1 ELSE 0 END) = 1 AS in_window,
    min(t_ms) AS first_ms,
    array_join(array_sort(array_distinct(array_agg(origin))), ' ') AS objects
  FROM marked
  WHERE ours AND event_id IS NOT NULL
  GROUP BY loggroup, event_id
),
kept AS (
  SELECT t_ms, message, loggroup, event_id,
    CASE WHEN event_id IS NULL THEN 1
      ELSE row_number() OVER (PARTITION BY loggroup, event_id ORDER BY origin, logstream) END AS copy
  FROM marked
  WHERE ours AND {in_window}
),
result AS (
  SELECT 'event' AS kind, k.t_ms AS t, k.message, k.loggroup AS log_group, k.event_id,
    CAST(NULL AS varchar) AS owner, CAST(NULL AS varchar) AS detail
  FROM kept k
  LEFT JOIN versions v ON v.loggroup = k.loggroup AND v.event_id = k.event_id
  WHERE k.copy = 1 AND NOT coalesce(v.differ, false)
  UNION ALL
  SELECT 'conflict', first_ms, CAST(NULL AS varchar), loggroup, event_id, CAST(NULL AS varchar), objects
  FROM versions
  WHERE differ AND in_window
  UNION ALL
  SELECT 'foreign', min(t_ms), CAST(NULL AS varchar), loggroup, CAST(NULL AS varchar), owner,
    CAST(count(*) AS varchar)
  FROM marked
  WHERE NOT ours AND {in_window}
  GROUP BY owner, loggroup
)
SELECT kind, CAST(t AS varchar) AS timestamp_ms, message, log_group, event_id, owner, detail
FROM result
ORDER BY kind, log_group, t, event_id, owner
",
        partitions = decisions_partition_predicate(since, until),
    );
    Ok(q)
}

/// Most characters of a conflict's object list kept in its problem (S3 keys are up to 1,024
/// bytes, and anyone planting an object chooses its key).
pub const MAX_OBJECTS_CHARS: usize = 2_000;

/// `text` cut to `max` characters (then `... (N more characters)`).
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}... ({} more characters)", &text[..at], text[at..].chars().count()),
        None => text.to_string(),
    }
}

/// Reads the decisions query's rows (header row removed) into `auditor`: each log group's
/// events as `FilterLogEvents` would give them ([`super::Auditor::read_log_events`]), located
/// `athena:<query_id>:<log group>[:<event ID>]`; then each `conflict` row as a problem at
/// `athena:<query_id>:<log group>:<event ID>` and each `foreign` row as a problem at
/// `athena:<query_id>:<log group>` (module docs). Returns the validator's log groups read, in
/// order.
///
/// # Errors
/// [`AuditError::Aws`] for a row that is not of the query's shape (column count, an unknown
/// kind, a time that is not an integer, an event without message), naming the query ID and the
/// row.
pub fn read_rows(
    auditor: &mut Auditor,
    query_id: &str,
    rows: &[super::athena_rows::Row],
) -> Result<Vec<String>, AuditError> {
    let shape =
        |at: usize, why: String| AuditError::Aws(format!("Athena decisions query {query_id}: result row {at}: {why}"));
    // Each group's events in the rows' order (the query sorts them by time).
    let mut groups: Vec<(String, Vec<LogEvent<'_>>)> = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let at = i + 1;
        if row.len() != DECISION_COLUMNS.len() {
            return Err(shape(at, format!("{} columns, the query has {}", row.len(), DECISION_COLUMNS.len())));
        }
        let cell = |n: usize| row.get(n).and_then(Option::as_deref);
        let timestamp = cell(1)
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| shape(at, format!("timestamp_ms is {:?}, not an integer", cell(1))))?;
        let group = cell(3).unwrap_or_default();
        let event_id = cell(4).unwrap_or_default();
        let detail = cell(6).unwrap_or_default();
        match cell(0) {
            Some("event") => {
                let message = cell(2).ok_or_else(|| shape(at, "message is NULL".into()))?;
                let origin = format!("athena:{query_id}:{group}:{event_id}");
                let event = LogEvent { origin, timestamp, message };
                match groups.iter_mut().find(|(g, _)| g == group) {
                    Some((_, events)) => events.push(event),
                    None => groups.push((group.to_string(), vec![event])),
                }
            }
            // Not `Problem::new`: its cut would drop the objects' names, the point of the
            // problem; the list is cut at [`MAX_OBJECTS_CHARS`] instead.
            Some("conflict") => problems.push(Problem {
                location: format!("athena:{query_id}:{group}:{event_id}"),
                reason: format!(
                    "copies of this log event differ in time or message: none is read as a decision (which copy is the validator's cannot be told); objects: {}",
                    cut(detail, MAX_OBJECTS_CHARS)
                ),
            }),
            Some("foreign") => problems.push(Problem::new(
                format!("athena:{query_id}:{group}"),
                format!(
                    "records from log group {group:?} of account {:?}, not the sandbox's validator log group of the audited account: ignored ({detail} log {} in the window, a redelivered one counted per copy)",
                    cell(5).unwrap_or_default(),
                    if detail == "1" { "event" } else { "events" }
                ),
            )),
            other => return Err(shape(at, format!("kind is {other:?}, not event, conflict or foreign"))),
        }
    }
    let mut read = Vec::new();
    for (group, events) in groups {
        auditor.read_log_events(&format!("athena:{query_id}:{group}"), events);
        read.push(group);
    }
    for p in problems {
        auditor.problem(p);
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

    const ACCOUNT: &str = "123456789012";

    fn query(database: &str, table: &str, f: &Filters) -> Result<String, SqlError> {
        decisions_query(database, table, f, ACCOUNT, "datasandbox")
    }

    #[test]
    fn reads_the_window_days_the_day_before_and_the_next() {
        let f = window("2026-11-28T09:00:00Z", "2026-11-29");
        let sql = query("sandboxc_audit", "validator_decisions", &f).unwrap_or_default();
        assert!(sql.contains("\"day\" BETWEEN '2026/11/27' AND '2026/11/30'"), "{sql}");
        assert!(sql.contains("FROM \"sandboxc_audit\".\"validator_decisions\""), "{sql}");
        assert!(sql.contains("messagetype = 'DATA_MESSAGE'"), "{sql}");
        let (since, until) = (f.since.map(|i| i.0).unwrap_or(0), f.until.map(|i| i.0).unwrap_or(0));
        assert!(sql.contains(&format!("t_ms >= {since} AND t_ms < {until}")), "{sql}");
        // A window ending at midnight: its last day is the day before.
        let sql = query("d", "t", &window("2026-12-31T23:00:00Z", "2026-12-31T23:59:59Z")).unwrap_or_default();
        assert!(sql.contains("\"day\" BETWEEN '2026/12/30' AND '2027/01/01'"), "{sql}");
    }

    /// Only the audited account's records of the environment's validator log groups are read.
    #[test]
    fn keeps_the_sandboxs_validator_groups_of_the_account() {
        let sql = query("d", "t", &window("2026-11-28", "2026-11-28")).unwrap_or_default();
        assert!(
            sql.contains(
                "coalesce(owner = '123456789012' AND regexp_like(loggroup, '^/sandboxc/datasandbox/[^/]+/lambda/validator$'), false) AS ours"
            ),
            "{sql}"
        );
        assert!(sql.contains("SELECT 'foreign'") && sql.contains("WHERE NOT ours AND"), "{sql}");
        assert!(sql.contains("SELECT 'conflict'") && sql.contains("WHERE differ AND in_window"), "{sql}");
        let f = window("2026-11-28", "2026-11-28");
        for (account, environment) in [
            ("12345678901", "e"),
            ("12345678901x", "e"),
            (ACCOUNT, ""),
            (ACCOUNT, "a_b"),
            (ACCOUNT, "a/b"),
            (ACCOUNT, "1a"),
            (ACCOUNT, "a'b"),
        ] {
            assert!(
                matches!(decisions_query("d", "t", &f, account, environment), Err(SqlError::Invalid { .. })),
                "{account} {environment}"
            );
        }
    }

    #[test]
    fn refuses_bad_names_and_windows() {
        let f = window("2026-11-28", "2026-11-28");
        assert!(matches!(query("db\"; x", "t", &f), Err(SqlError::Invalid { .. })));
        assert!(matches!(query("db", "T", &f), Err(SqlError::Invalid { .. })));
        assert!(matches!(query("db", "t", &Filters::default()), Err(SqlError::Window(_))));
        assert!(matches!(query("db", "t", &window("2020-01-01", "2026-01-01")), Err(SqlError::Window(_))));
        // The day after the last is in year 10000; the day before the first in year 0.
        let e = query("db", "t", &window("9999-12-31", "9999-12-31")).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("10000-01-01 (the decisions' day after --until), after 9999-12-31"), "{e}");
        let e = query("db", "t", &window("0001-01-01", "0001-01-02")).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("(the decisions' day before --since), before 0001-01-01"), "{e}");
        assert!(query("db", "t", &window("9999-12-30", "9999-12-30")).is_ok());
    }

    fn row(t: &str, message: &str, group: &str, id: &str) -> super::super::athena_rows::Row {
        vec![
            Some("event".into()),
            Some(t.into()),
            Some(message.into()),
            Some(group.into()),
            Some(id.into()),
            None,
            None,
        ]
    }

    /// Decisions, runtime lines and malformed events, located by query, group and event ID; a
    /// group whose events are all malformed is not a decision log; conflicts and foreign groups
    /// are problems after the groups' events; rows of another shape are errors naming the query.
    #[test]
    fn rows_are_read_as_log_events() {
        let mut aud = Auditor::new(window("2026-11-28", "2026-11-28"));
        let decision = r#"{"outcome":"issued","reason":"session_active","user_hash":"AB","session_id":"s1"}"#;
        let text = |s: &str| Some(s.to_string());
        let rows = vec![
            vec![
                text("conflict"),
                text("1795852860004"),
                None,
                text("/g"),
                text("5"),
                None,
                text("s3://b/k1 s3://b/k2"),
            ],
            row("1795852860000", decision, "/g", "1"),
            row("1795852860001", "START RequestId: r Version: $LATEST\n", "/g", "2"),
            row("1795852860002", r#"{"outcome":"maybe"}"#, "/g", "3"),
            row("1795852860003", r#"{"outcome":"maybe"}"#, "/h", "4"),
            vec![
                text("foreign"),
                text("1795852860005"),
                None,
                text("/attacker/forged"),
                None,
                text("999999999999"),
                text("2"),
            ],
        ];
        let groups = read_rows(&mut aud, "q-2", &rows).unwrap_or_default();
        assert_eq!(groups, vec!["/g", "/h"]);
        assert_eq!(aud.decisions.len(), 1);
        assert_eq!(aud.decisions[0].origin, "athena:q-2:/g:1");
        assert_eq!(aud.decisions[0].user_hash.as_deref(), Some("ab"));
        assert_eq!(aud.decisions[0].time.map(|t| t.0), Some(1_795_852_860_000));
        assert_eq!((aud.counts.decision_files, aud.counts.other_log_lines, aud.counts.malformed), (1, 1, 3));
        assert_eq!(aud.problems[0].location, "athena:q-2:/g:3");
        assert_eq!(aud.problems[1].location, "athena:q-2:/g:5");
        assert_eq!(
            aud.problems[1].reason,
            "copies of this log event differ in time or message: none is read as a decision (which copy is the validator's cannot be told); objects: s3://b/k1 s3://b/k2"
        );
        assert_eq!(aud.problems[2].location, "athena:q-2:/attacker/forged");
        assert_eq!(
            aud.problems[2].reason,
            "records from log group \"/attacker/forged\" of account \"999999999999\", not the sandbox's validator log group of the audited account: ignored (2 log events in the window, a redelivered one counted per copy)"
        );
        assert_eq!(aud.bad_files.len(), 1);
        assert_eq!(aud.bad_files[0].location, "athena:q-2:/h");
        assert!(aud.bad_files[0].reason.starts_with("not a validator decision log: "), "{:?}", aud.bad_files);
        let mut nulls = row("1", "m", "/g", "1");
        nulls[2] = None;
        let mut kind = row("1", "m", "/g", "1");
        kind[0] = text("other");
        let bad = [vec![Some("x".to_string())], row("soon", "m", "/g", "1"), nulls, kind];
        for b in bad {
            let e = read_rows(&mut aud, "q-9", &[b]).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.starts_with("Athena decisions query q-9: result row 1: "), "{e}");
        }
        // A long object list is cut, saying how much.
        assert_eq!(cut("abcdef", 4), "abcd... (2 more characters)");
        assert_eq!(cut("abc", 4), "abc");
    }
}
