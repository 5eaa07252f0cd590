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
//!   whichever stack ID it had; [`validator_group_pattern`] in the SQL, [`is_validator_group`]
//!   the same rule for [`read_rows`]). Anyone able to write to the decisions bucket or the Firehose
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
//!   `timestamp_ms` (the event's time; a conflict's or foreign group's earliest in the window:
//!   every row's time is in the window), `message` (events only), `log_group`, `event_id`
//!   (events and conflicts), `owner` (events: the audited account; foreign rows),
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
//! Then each conflict is a problem at `athena:<query ID>:<log group>:<event ID>` (counted in
//! [`super::join::Counts::conflicting_decision_events`]), and each foreign owner and log group a
//! problem at `athena:<query ID>:<log group>`, or `athena:<query ID>:<owner>:<log group>` when
//! the owner is not the audited account (counted in
//! [`super::join::Counts::foreign_decision_log_groups`]); either makes the evidence incomplete.
//! Group names are written as they are: the renderers escape control characters as in every
//! untrusted text ([`super::render::escape`]).
//!
//! Every row is first checked against the above (owner, log group, window, one event per log
//! group and event ID, none also in a conflict): a result with a row the query never returns was
//! altered after it ran, and is refused whole.

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
/// `\A/sandboxc/<environment>/[^/]+/lambda/validator\z` (`\A` and `\z` anchor at the ends of
/// the text whatever its lines, in Trino's Joni and RE2J as in DuckDB's RE2; `^` and `$` may
/// anchor at a line). [`is_validator_group`] is the same rule in Rust: keep the two together.
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
    Ok(format!("\\A/sandboxc/{environment}/[^/]+{VALIDATOR_GROUP_SUFFIX}\\z"))
}

/// Whether `group` is a validator log group of `environment`, as [`validator_group_pattern`]
/// matches it: `/sandboxc/<environment>/<one or more characters, none '/'>/lambda/validator`.
#[must_use]
pub fn is_validator_group(group: &str, environment: &str) -> bool {
    group
        .strip_prefix("/sandboxc/")
        .and_then(|rest| rest.strip_prefix(environment))
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.strip_suffix(VALIDATOR_GROUP_SUFFIX))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
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
    min(CASE WHEN {in_window} THEN t_ms END) AS first_ms,
    array_join(array_sort(array_distinct(array_agg(origin))), ' ') AS objects
  FROM marked
  WHERE ours AND event_id IS NOT NULL
  GROUP BY loggroup, event_id
),
kept AS (
  SELECT t_ms, message, owner, loggroup, event_id,
    CASE WHEN event_id IS NULL THEN 1
      ELSE row_number() OVER (PARTITION BY loggroup, event_id ORDER BY origin, logstream) END AS copy
  FROM marked
  WHERE ours AND {in_window}
),
result AS (
  SELECT 'event' AS kind, k.t_ms AS t, k.message, k.loggroup AS log_group, k.event_id,
    k.owner, CAST(NULL AS varchar) AS detail
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

/// A cell for an error: `NULL`, or its text in `'...'`, cut to 200 characters, control
/// characters escaped as the report escapes untrusted text ([`super::render::escape`]).
fn quoted(cell: Option<&str>) -> String {
    match cell {
        Some(text) => format!("'{}'", super::render::escape(&cut(text, 200))),
        None => "NULL".to_string(),
    }
}

/// One result row in words for an error (cells escaped as the report escapes untrusted text,
/// the message left out).
fn row_words(row: &super::athena_rows::Row) -> String {
    let cell = |n: usize| quoted(row.get(n).and_then(Option::as_deref));
    format!(
        "kind {}, timestamp_ms {}, log_group {}, event_id {}, owner {}",
        cell(0),
        cell(1),
        cell(3),
        cell(4),
        cell(5)
    )
}

/// The location of a foreign owner's and log group's problem: `athena:<query ID>:<log group>`
/// for the audited account, `athena:<query ID>:<account>:<log group>` for another.
fn foreign_location(query_id: &str, owner: &str, account: &str, group: &str) -> String {
    if owner == account {
        format!("athena:{query_id}:{group}")
    } else {
        format!("athena:{query_id}:{owner}:{group}")
    }
}

/// Reads the decisions query's rows (header row removed) into `auditor`: each log group's
/// events as `FilterLogEvents` would give them ([`super::Auditor::read_log_events`]), located
/// `athena:<query_id>:<log group>[:<event ID>]`; then each `conflict` row as a problem at
/// `athena:<query_id>:<log group>:<event ID>` and each `foreign` row as a problem at
/// `athena:<query_id>:[<owner>:]<log group>` (the owner when not `account`; module docs).
/// `account` and `environment` are those [`decisions_query`] was given, the window that of
/// `auditor`'s filters. Returns the validator's log groups read, in order.
///
/// Every row is checked against what the query returns (module docs): an `event` row of
/// `account` and a log group [`is_validator_group`] of `environment`, in the window, no two with
/// the same log group and event ID, none also named by a `conflict` row; a `conflict` row of
/// such a group in the window; a `foreign` row in the window and not of such a group and
/// account. A result with any other row is not the query's (results can be altered by whoever
/// may write the workgroup's results bucket) and none of it is read.
///
/// # Errors
/// [`AuditError::Aws`] for a row that is not of the query's shape (column count, an unknown
/// kind, a time that is not an integer, an event without message) or breaks the query's
/// contract (above), naming the query ID and the row; `auditor` is then unchanged.
pub fn read_rows(
    auditor: &mut Auditor,
    query_id: &str,
    rows: &[super::athena_rows::Row],
    account: &str,
    environment: &str,
) -> Result<Vec<String>, AuditError> {
    let shape =
        |at: usize, why: String| AuditError::Aws(format!("Athena decisions query {query_id}: result row {at}: {why}"));
    let forged = |at: usize, row: &super::athena_rows::Row, why: &str| {
        AuditError::Aws(format!(
            "Athena decisions query {query_id}: result row {at} ({}): {why}; the query never returns such a row, so its result was altered (whoever may write the workgroup's query results bucket can) and none of it is read",
            row_words(row)
        ))
    };
    let (since, until) = (auditor.filters.since, auditor.filters.until);
    let in_window = |t: i64| since.is_none_or(|s| s.0 <= t) && until.is_none_or(|u| t < u.0);
    // Each group's events in the rows' order (the query sorts them by time).
    let mut groups: Vec<(String, Vec<LogEvent<'_>>)> = Vec::new();
    // (log group, event ID) of each event with an ID, and of each conflict: the row they are in.
    let mut seen: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    let mut conflicts: std::collections::HashMap<(&str, &str), usize> = std::collections::HashMap::new();
    let mut foreign = Vec::new();
    let mut conflicting = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let at = i + 1;
        if row.len() != DECISION_COLUMNS.len() {
            return Err(shape(at, format!("{} columns, the query has {}", row.len(), DECISION_COLUMNS.len())));
        }
        let cell = |n: usize| row.get(n).and_then(Option::as_deref);
        let timestamp = cell(1)
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| shape(at, format!("timestamp_ms is {}, not an integer", quoted(cell(1)))))?;
        let group = cell(3).unwrap_or_default();
        let event_id = cell(4);
        let owner = cell(5).unwrap_or_default();
        let detail = cell(6).unwrap_or_default();
        let kind = cell(0);
        if matches!(kind, Some("event" | "conflict" | "foreign")) && !in_window(timestamp) {
            return Err(forged(at, row, "a time outside the window"));
        }
        let ours = is_validator_group(group, environment);
        match kind {
            Some("event") => {
                let message = cell(2).ok_or_else(|| shape(at, "message is NULL".into()))?;
                if owner != account || !ours {
                    return Err(forged(
                        at,
                        row,
                        "an event of another account or log group than the sandbox's validator's of the audited account",
                    ));
                }
                if let Some(id) = event_id {
                    if let Some(first) = seen.insert((group, id), at) {
                        return Err(forged(at, row, &format!("the same log group and event ID as row {first}")));
                    }
                }
                let origin = format!("athena:{query_id}:{group}:{}", event_id.unwrap_or_default());
                let event = LogEvent { origin, timestamp, message };
                match groups.iter_mut().find(|(g, _)| g == group) {
                    Some((_, events)) => events.push(event),
                    None => groups.push((group.to_string(), vec![event])),
                }
            }
            // Not `Problem::new`: its cut would drop the objects' names, the point of the
            // problem; the list is cut at [`MAX_OBJECTS_CHARS`] instead.
            Some("conflict") => {
                let id = event_id.unwrap_or_default();
                if !ours || event_id.is_none() || conflicts.insert((group, id), at).is_some() {
                    return Err(forged(at, row, "a conflict of no validator log event of the sandbox, or named twice"));
                }
                conflicting.push(Problem {
                    location: format!("athena:{query_id}:{group}:{id}"),
                    reason: format!(
                        "copies of this log event differ in time or message: none is read as a decision (which copy is the validator's cannot be told); objects: {}",
                        cut(detail, MAX_OBJECTS_CHARS)
                    ),
                });
            }
            Some("foreign") => {
                if owner == account && ours {
                    return Err(forged(
                        at,
                        row,
                        "the sandbox's validator log group of the audited account listed as foreign",
                    ));
                }
                // `count(*)` of a group: a positive integer; one row per owner and group.
                if !detail.parse::<u64>().is_ok_and(|n| n > 0) {
                    return Err(forged(at, row, "a foreign group's count that is not a positive integer"));
                }
                let location = foreign_location(query_id, owner, account, group);
                if foreign.iter().any(|p: &Problem| p.location == location) {
                    return Err(forged(at, row, "a foreign owner and log group listed twice"));
                }
                foreign.push(Problem::new(
                    location,
                    format!(
                        "records from log group '{group}' of account '{owner}', not the sandbox's validator log group of the audited account: ignored ({detail} log {} in the window, a redelivered one counted per copy)",
                        if detail == "1" { "event" } else { "events" }
                    ),
                ));
            }
            other => return Err(shape(at, format!("kind is {}, not event, conflict or foreign", quoted(other)))),
        }
    }
    if let Some((key, at)) =
        seen.iter().filter(|(key, _)| conflicts.contains_key(*key)).map(|(k, a)| (k, *a)).min_by_key(|(_, a)| *a)
    {
        let conflict = conflicts.get(key).copied().unwrap_or_default();
        let row = rows.get(at - 1).cloned().unwrap_or_default();
        return Err(forged(at, &row, &format!("an event also named by the conflict of row {conflict}")));
    }
    let mut read = Vec::new();
    for (group, events) in groups {
        auditor.read_log_events(&format!("athena:{query_id}:{group}"), events);
        read.push(group);
    }
    for p in conflicting {
        auditor.conflicting_decision_event(p);
    }
    for p in foreign {
        auditor.foreign_decision_log_group(p);
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
                "coalesce(owner = '123456789012' AND regexp_like(loggroup, '\\A/sandboxc/datasandbox/[^/]+/lambda/validator\\z'), false) AS ours"
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
            Some(ACCOUNT.into()),
            None,
        ]
    }

    const G: &str = "/sandboxc/datasandbox/0a1b2c3d/lambda/validator";
    const H: &str = "/sandboxc/datasandbox/99999999/lambda/validator";

    fn read(aud: &mut Auditor, rows: &[super::super::athena_rows::Row]) -> Result<Vec<String>, AuditError> {
        read_rows(aud, "q-2", rows, ACCOUNT, "datasandbox")
    }

    /// Decisions, runtime lines and malformed events, located by query, group and event ID; a
    /// group whose events are all malformed is not a decision log; conflicts and foreign groups
    /// are problems after the groups' events, counted on their own (not as malformed); rows of
    /// another shape are errors naming the query.
    #[test]
    fn rows_are_read_as_log_events() {
        let mut aud = Auditor::new(window("2026-11-28", "2026-11-28"));
        let decision = r#"{"outcome":"issued","reason":"session_active","user_hash":"AB","session_id":"s1"}"#;
        let text = |s: &str| Some(s.to_string());
        let rows = vec![
            vec![text("conflict"), text("1795852860004"), None, text(G), text("5"), None, text("s3://b/k1 s3://b/k2")],
            row("1795852860000", decision, G, "1"),
            row("1795852860001", "START RequestId: r Version: $LATEST\n", G, "2"),
            row("1795852860002", r#"{"outcome":"maybe"}"#, G, "3"),
            row("1795852860003", r#"{"outcome":"maybe"}"#, H, "4"),
            vec![
                text("foreign"),
                text("1795852860005"),
                None,
                text("/attacker/forged"),
                None,
                text("999999999999"),
                text("2"),
            ],
            vec![
                text("foreign"),
                text("1795852860006"),
                None,
                text("/attacker/forged\u{1b}[2J"),
                None,
                text(ACCOUNT),
                text("1"),
            ],
        ];
        let groups = read(&mut aud, &rows).unwrap_or_default();
        assert_eq!(groups, vec![G, H]);
        assert_eq!(aud.decisions.len(), 1);
        assert_eq!(aud.decisions[0].origin, format!("athena:q-2:{G}:1"));
        assert_eq!(aud.decisions[0].user_hash.as_deref(), Some("ab"));
        assert_eq!(aud.decisions[0].time.map(|t| t.0), Some(1_795_852_860_000));
        assert_eq!((aud.counts.decision_files, aud.counts.other_log_lines, aud.counts.malformed), (1, 1, 1));
        assert_eq!((aud.counts.conflicting_decision_events, aud.counts.foreign_decision_log_groups), (1, 2));
        assert_eq!(aud.counts.problems(), 4);
        assert_eq!(aud.problems[0].location, format!("athena:q-2:{G}:3"));
        assert_eq!(aud.problems[1].location, format!("athena:q-2:{G}:5"));
        assert_eq!(
            aud.problems[1].reason,
            "copies of this log event differ in time or message: none is read as a decision (which copy is the validator's cannot be told); objects: s3://b/k1 s3://b/k2"
        );
        // Another account's group is located with its account; the audited account's without.
        assert_eq!(aud.problems[2].location, "athena:q-2:999999999999:/attacker/forged");
        assert_eq!(
            aud.problems[2].reason,
            "records from log group '/attacker/forged' of account '999999999999', not the sandbox's validator log group of the audited account: ignored (2 log events in the window, a redelivered one counted per copy)"
        );
        assert_eq!(aud.problems[3].location, "athena:q-2:/attacker/forged\u{1b}[2J");
        // The reason holds the name as it is; the report escapes it as every untrusted text.
        assert!(aud.problems[3]
            .reason
            .starts_with("records from log group '/attacker/forged\u{1b}[2J' of account '123456789012', "));
        assert_eq!(
            super::super::render::escape(&aud.problems[3].reason).split(',').next(),
            Some("records from log group '/attacker/forged\\x1b[2J' of account '123456789012'")
        );
        assert!(!aud.problems[3].reason.contains("\\u{1b}"), "no Rust debug escape");
        assert_eq!(aud.bad_files.len(), 1);
        assert_eq!(aud.bad_files[0].location, format!("athena:q-2:{H}"));
        assert!(aud.bad_files[0].reason.starts_with("not a validator decision log: "), "{:?}", aud.bad_files);
        let mut nulls = row("1795852860000", "m", G, "1");
        nulls[2] = None;
        let mut kind = row("1795852860000", "m", G, "1");
        kind[0] = text("other");
        let bad = [vec![Some("x".to_string())], row("soon", "m", G, "1"), nulls, kind];
        for b in bad {
            let e = read_rows(&mut aud, "q-9", &[b], ACCOUNT, "datasandbox")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.starts_with("Athena decisions query q-9: result row 1: "), "{e}");
        }
        // A long object list is cut, saying how much.
        assert_eq!(cut("abcdef", 4), "abcd... (2 more characters)");
        assert_eq!(cut("abc", 4), "abc");
    }

    /// The log groups the SQL's regular expression keeps are those [`is_validator_group`]
    /// accepts (the cases of the DuckDB equivalence test, `tests/cli/audit_athena.rs`, and
    /// more); the DuckDB test runs the expression itself on them.
    #[test]
    fn the_validator_group_rule_in_rust() {
        for (group, ours) in [
            ("/sandboxc/datasandbox/0a1b2c3d/lambda/validator", true),
            ("/sandboxc/datasandbox/99999999/lambda/validator", true),
            ("/sandboxc/datasandbox/x\ny/lambda/validator", true),
            ("/attacker/forged", false),
            ("/sandboxc/datasandbox/a/b/lambda/validator", false),
            ("/sandboxc/other/0a1b2c3d/lambda/validator", false),
            ("/sandboxc/datasandbox//lambda/validator", false),
            ("/sandboxc/datasandboxx/0a/lambda/validator", false),
            ("/sandboxc/datasandbox/0a/lambda/validator\n", false),
            ("x\n/sandboxc/datasandbox/0a/lambda/validator", false),
            ("/sandboxc/datasandbox/0a/lambda/validator/x", false),
            ("", false),
        ] {
            assert_eq!(is_validator_group(group, "datasandbox"), ours, "{group:?}");
        }
    }

    /// A row the query never returns refuses the whole result, naming the query and the row,
    /// and reads nothing: an event of another account or log group, one event twice, an event
    /// also in conflict, any row outside the window, a foreign row of the sandbox's group.
    #[test]
    fn rows_the_query_never_returns_refuse_the_result() {
        let text = |s: &str| Some(s.to_string());
        let ok = row("1795852860000", "m", G, "1");
        let mut other_account = ok.clone();
        other_account[5] = text("999999999999");
        let mut no_owner = ok.clone();
        no_owner[5] = None;
        let conflict = vec![text("conflict"), text("1795852860004"), None, text(G), text("1"), None, text("s3://b/k")];
        let foreign = |group: &str, owner: &str, t: &str| {
            vec![text("foreign"), text(t), None, text(group), None, text(owner), text("1")]
        };
        let cases: Vec<(Vec<super::super::athena_rows::Row>, &str)> = vec![
            (vec![row("1795852860000", "m", "/attacker/forged\u{1b}[2J", "1")], "result row 1 (kind 'event', timestamp_ms '1795852860000', log_group '/attacker/forged\\x1b[2J', event_id '1', owner '123456789012'): an event of another account or log group"),
            (vec![row("1795852860000", "m", "/sandboxc/datasandbox/a/b/lambda/validator", "1")], "an event of another account"),
            (vec![other_account], "owner '999999999999'): an event of another account"),
            (vec![no_owner], "owner NULL): an event of another account"),
            (vec![ok.clone(), row("1795852860001", "n", G, "1")], "result row 2 (kind 'event', timestamp_ms '1795852860001', log_group '/sandboxc/datasandbox/0a1b2c3d/lambda/validator', event_id '1', owner '123456789012'): the same log group and event ID as row 1"),
            (vec![conflict.clone(), ok.clone()], "result row 2 (kind 'event', timestamp_ms '1795852860000'"),
            (vec![conflict.clone(), conflict.clone()], "result row 2 (kind 'conflict'"),
            (vec![row("1795823999999", "m", G, "7")], "a time outside the window"),
            (vec![row("1795910400000", "m", G, "7")], "a time outside the window"),
            (vec![foreign("/x", "999999999999", "1795910400000")], "a time outside the window"),
            (vec![{ let mut c = conflict.clone(); c[1] = text("1795823999999"); c }], "a time outside the window"),
            (vec![foreign(G, ACCOUNT, "1795852860000")], "listed as foreign"),
            (vec![foreign("/x", ACCOUNT, "1795852860000"), foreign("/x", ACCOUNT, "1795852860001")], "listed twice"),
            (vec![{ let mut f = foreign("/x", ACCOUNT, "1795852860000"); f[6] = text("0"); f }], "not a positive integer"),
            (vec![{ let mut f = foreign("/x", ACCOUNT, "1795852860000"); f[6] = text("lots"); f }], "not a positive integer"),
        ];
        for (rows, want) in cases {
            let mut aud = Auditor::new(window("2026-11-28", "2026-11-28"));
            let e = read(&mut aud, &rows).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.starts_with("Athena decisions query q-2: result row "), "{want}: {e}");
            assert!(e.contains(want), "{want}\n{e}");
            assert!(e.ends_with("so its result was altered (whoever may write the workgroup's query results bucket can) and none of it is read"), "{e}");
            assert!(aud.decisions.is_empty() && aud.problems.is_empty() && aud.counts.problems() == 0, "{e}");
        }
        // The same event ID in two groups, and events without an ID, are what the query gives.
        let mut aud = Auditor::new(window("2026-11-28", "2026-11-28"));
        let rows = [
            ok.clone(),
            row("1795852860000", "m", H, "1"),
            row("1795852860001", "m", G, ""),
            {
                let mut r = row("1795852860002", "m", G, "");
                r[4] = None;
                r
            },
            {
                let mut r = row("1795852860003", "m", G, "");
                r[4] = None;
                r
            },
        ];
        assert_eq!(read(&mut aud, &rows).map(|g| g.len()).ok(), Some(2));
    }
    /// Foreign log groups and conflicting events are counted on their own in the report (not as
    /// malformed lines), in the table's `SKIPPED:` line, the JSON's `skipped.counts` and the
    /// incomplete evidence (exit 2); the table escapes a group name's control characters.
    #[test]
    fn foreign_groups_and_conflicts_have_counts_of_their_own() {
        let mut aud = Auditor::new(window("2026-11-28", "2026-11-28"));
        let text = |s: &str| Some(s.to_string());
        let rows = vec![
            vec![text("conflict"), text("1795852860004"), None, text(G), text("5"), None, text("s3://b/k1 s3://b/k2")],
            vec![
                text("foreign"),
                text("1795852860005"),
                None,
                text("/x\u{1b}[2J"),
                None,
                text("999999999999"),
                text("1"),
            ],
            vec![text("foreign"), text("1795852860006"), None, text("/y"), None, text(ACCOUNT), text("3")],
        ];
        assert_eq!(read(&mut aud, &rows).map(|g| g.len()).ok(), Some(0));
        let report = super::super::report::Report::build(aud, vec!["athena".into()]);
        assert_eq!(report.exit_code(), 2);
        let incomplete = report.incomplete_evidence();
        assert!(
            incomplete.contains(&"2 log groups of the decisions table are not the sandbox's validator log group of the audited account (records someone else wrote there, not read)".to_string()),
            "{incomplete:?}"
        );
        assert!(
            incomplete
                .contains(&"1 log event of the validator has copies that differ (none read as a decision)".to_string()),
            "{incomplete:?}"
        );
        assert!(!incomplete.iter().any(|i| i.contains("could not be read")), "{incomplete:?}");
        let mut table = Vec::new();
        assert!(super::super::render::table(&report, &mut table).is_ok());
        let table = String::from_utf8_lossy(&table);
        assert!(
            table.contains("SKIPPED: 2 decisions-table log groups not the sandbox's validator's (ignored), 1 validator log event with differing copies (none read)"),
            "{table}"
        );
        assert!(!table.contains("malformed"), "{table}");
        assert!(
            table.contains(
                "  athena:q-2:999999999999:/x\\x1b[2J: records from log group '/x\\x1b[2J' of account '999999999999', "
            ),
            "{table}"
        );
        assert!(table.contains("  athena:q-2:/y: records from log group '/y' of account '123456789012', "), "{table}");
        let mut json = Vec::new();
        assert!(super::super::render::json(&report, &mut json).is_ok());
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
        let counts = &json["skipped"]["counts"];
        assert_eq!(
            (&counts["malformed"], &counts["foreign_decision_log_groups"], &counts["conflicting_decision_events"]),
            (&serde_json::json!(0), &serde_json::json!(2), &serde_json::json!(1))
        );
        assert_eq!(json["skipped"]["problems"].as_array().map(Vec::len), Some(3));
        assert_eq!(json["skipped"]["problems_not_listed"], 0);
        assert_eq!(json["skipped"]["problems"][1]["location"], "athena:q-2:999999999999:/x\u{1b}[2J");
        // Beyond the listed problems, the rest is counted as not listed, whatever their kind.
        let mut aud = Auditor::new(window("2026-11-28", "2026-11-28"));
        let n = super::super::join::MAX_LISTED_PROBLEMS;
        for i in 0..n {
            aud.problem(Problem::new(format!("f:{i}"), "bad".into()));
        }
        aud.foreign_decision_log_group(Problem::new("g".into(), "foreign".into()));
        aud.conflicting_decision_event(Problem::new("h".into(), "conflict".into()));
        let report = super::super::report::Report::build(aud, Vec::new());
        let mut json = Vec::new();
        assert!(super::super::render::json(&report, &mut json).is_ok());
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap_or_default();
        assert_eq!(json["skipped"]["problems_not_listed"], 2);
        let mut table = Vec::new();
        assert!(super::super::render::table(&report, &mut table).is_ok());
        let table = String::from_utf8_lossy(&table);
        assert!(table.contains(&format!("  ... and 2 more (the first {n} are listed)")), "{table}");
    }
}
