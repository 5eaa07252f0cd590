//! The audit's join as one Trino/Athena SQL query (`sandboxc audit --engine athena`): a pure
//! function from the tables, the filters and the sandbox's principals to SQL text.
//!
//! # The local engine's semantics, which the query reproduces
//!
//! **Sessions** (AppStream sessions reports, [`super::sessions`]). A row is a session when its
//! `user_session_id` and `user_id` are not empty and `session_start_time` parses as ISO 8601
//! (UTC when no offset is given); an empty `session_end_time` means the session is still open,
//! another end must parse and must not be before the start (else the row is skipped as
//! malformed). An open session holds its address until its start plus `max_session_duration`,
//! else plus a positive `session_duration_in_seconds`, else plus 5 days (432,000 s, AppStream's
//! largest `MaxUserDurationInSeconds`, CreateFleet API reference): the session's *last* instant
//! is its end, or that cap. An empty `eni_private_ip_address` claims nothing; an empty
//! `aws_account_id` is "no account". Rows with the same `user_session_id`, user, address and
//! start are one session, whatever report they come from (a session crossing midnight is in the
//! reports of both days, open in the first): a known end wins over an open one and the later of
//! two ends wins, the account is any non-empty one. Rows of one `user_session_id` that differ
//! in user, address or start are kept apart and the session ID is *conflicted*.
//!
//! **Records** (CloudTrail data events, [`super::trail`]). A record counts when `eventSource` is
//! `s3.amazonaws.com`, `eventCategory` is `Data` or absent, `eventName` is present, its bucket is
//! known (`requestParameters.bucketName`, else the last `resources[]` entry of type
//! `AWS::S3::Bucket`, else the bucket of the first entry of type `AWS::S3::Object`; an entry's
//! bucket and key are read from its ARN after `:s3:::`) and `eventTime` parses. Its key is
//! `requestParameters.key`, else the first object entry of its bucket; the other object entries
//! of its bucket are its further keys (DeleteObjects).
//!
//! **Caller** (`userIdentity.sessionContext.sessionIssuer.arn`, the *issuer*). An issuer equal
//! to one of the admin role ARNs makes the record *administrative* (listed apart, never a
//! finding). An issuer `arn:...:<account>:role/sandboxc/<env>/users/<64 hex>/<name>` is a
//! notebook role: when `recipientAccountId` is present and differs from the role's account, or
//! `<env>` is not the audited environment (or none is given), the role is *unclaimed* and the
//! record is judged by address like any other; else the record is *that user's notebook event*
//! (attributed by the hash) — unless the users' notebook role names are known
//! ([`Principals::notebook_roles`]) and `<name>` is not one of that user's: then the record is
//! *unattributed* with the reason `not_notebook_role`, never judged by address. A record without
//! `sourceIPAddress` is only kept when it is administrative, a notebook event or such a role's.
//!
//! **Filters** (applied in this order, before attribution): `--bucket` (exact bucket names),
//! `--event` (event names, ASCII case-insensitive), the window `[--since, --until)` on
//! `eventTime` (`--until` is inclusive: a date means the whole day, a time is extended by one
//! millisecond, see [`super::Filters::from_text`]). `--user`: a notebook event is kept only when
//! its hash is the sha256 of a listed user; an event claimed by address is dropped only when it
//! has claimants and none is a listed user's session; unattributed and other accounts' events
//! are always kept; administrative events are always kept.
//!
//! **Attribution by address and time** (every record that is neither administrative nor a
//! notebook event nor a false notebook role's). When the sandbox's VPC endpoints are known
//! ([`Principals::vpc_endpoints`]) and the record's `vpcEndpointId` is set (not empty) and none
//! of them, it has no claimants (reason `other_vpc_endpoint` when unattributed): another
//! network's address names no one. Else the *claimants* are the sessions whose address is the record's
//! `sourceIPAddress` and that held it at `eventTime` (start and last instant inclusive), and
//! whose account is the record's `recipientAccountId` (a missing account on either side
//! matches). The record belongs to *another account* (listed apart, not attributed) when it has
//! an account and either sessions hold its address but none of its account, or no session holds
//! its address and the sessions' accounts (when any session has one) do not include it. Else:
//! no claimant, *unattributed* (reason `no_session`); one claimant whose session ID is not conflicted, *attributed*;
//! two or more claimants, or one conflicted, *ambiguous* (with the candidate sessions).
//!
//! **Duplicates.** Within each of those lists, records with the same non-empty `eventID` are one
//! record: the one of the first file (by path) is kept and the others counted (the query numbers
//! the copies in `copy`; the caller keeps copy 1). Identical records of one file are one row with
//! their number in `records`: kept that many times without an `eventID` (never merged), else
//! once with the others counted as duplicates.
//!
//! **Validator decisions** are not part of the query: they are few (one per URL request), are
//! read from the validator's CloudWatch log group as the local engine reads them, and are
//! matched to the sessions the query returns by the same code ([`super::report::Report::build`]).
//!
//! # Partitions read
//!
//! The CloudTrail table is read for the query's account and Regions and for the days from the
//! window's first day to the day after its last (CloudTrail delivers a file minutes after its
//! events, so an event of 23:59 may be in the next day's folder); the usage-report table for the
//! days from [`SESSION_DAYS_BEFORE`] days before the window to the day after it (an open session
//! can hold its address for 5 days; a day's report is written within 24 hours). Those are
//! equality or range predicates on the partition columns only, which partition projection turns
//! into S3 prefixes (Athena user guide, "Partition projection with Amazon Athena").
//!
//! # Output
//!
//! One row per session row read (`kind = 'session'`) and one per kept event (`kind` one of
//! [`Category`]'s names), all columns `varchar` ([`COLUMNS`]); the caller rebuilds the report
//! from them with the local engine's grouping code.
//!
//! # Literals
//!
//! Every value that comes from the command line or the blueprint is checked for its kind
//! ([`SqlError`]) and written as a SQL string literal with `'` doubled; identifiers (database,
//! tables) are checked against `[a-z0-9_]` and quoted.

use std::fmt::Write as _;

use super::join::user_hash;
use super::time::{ymd, Instant};
use super::{Filters, Principals};

/// Days of usage reports read before the window's first day: an open session holds its address
/// for at most 5 days (AppStream's largest `MaxUserDurationInSeconds`, CreateFleet API reference).
pub const SESSION_DAYS_BEFORE: i64 = 5;

/// Longest window the query accepts, in days (the partition predicates list every day).
pub const MAX_WINDOW_DAYS: i64 = 400;

/// Checks that the window, days `first_day..=last_day` since 1970-01-01, lies within the years
/// the tables' partition projection holds
/// ([`PROJECTED_FIRST_YEAR`](crate::compile::audit::PROJECTED_FIRST_YEAR) to
/// [`PROJECTED_LAST_YEAR`](crate::compile::audit::PROJECTED_LAST_YEAR)): outside, the query
/// would read nothing and a quiet window could not be told from one the tables do not cover.
///
/// # Errors
/// [`SqlError::Window`] saying which end is outside and what is allowed.
pub fn check_projected(first_day: i64, last_day: i64) -> Result<(), SqlError> {
    use crate::compile::audit::{PROJECTED_FIRST_YEAR, PROJECTED_LAST_YEAR};
    let (first, last) = (
        super::time::days_from_civil(i64::from(PROJECTED_FIRST_YEAR), 1, 1),
        super::time::days_from_civil(i64::from(PROJECTED_LAST_YEAR), 12, 31),
    );
    if first_day < first {
        return Err(SqlError::Window(format!(
            "--since is before {PROJECTED_FIRST_YEAR}-01-01, the first day the Athena tables' partition projection holds (their days run from {PROJECTED_FIRST_YEAR}-01-01): give --since {PROJECTED_FIRST_YEAR}-01-01 or later, or audit earlier logs with the local engine"
        )));
    }
    if last_day > last {
        return Err(SqlError::Window(format!(
            "--until is after {PROJECTED_LAST_YEAR}-12-31, the last day the usage reports' partition projection holds (years {PROJECTED_FIRST_YEAR} to {PROJECTED_LAST_YEAR}): give an earlier --until"
        )));
    }
    Ok(())
}

/// Checks that every partition day the queries name, `first_day..=last_day` (day counts since
/// 1970-01-01), is a date of years 0001 to 9999: the `yyyy/MM/dd` partition values of the Glue
/// tables (and the `year` of the usage reports) have four-digit years, so a later day would be
/// `10000/01/01` (sorting before `9999/12/31` as a string, and no date of the projection).
///
/// # Errors
/// [`SqlError::Window`] naming the day out of range, what the query needs it for and what is
/// allowed.
pub fn check_partition_days(first_day: i64, last_day: i64, first_for: &str, last_for: &str) -> Result<(), SqlError> {
    let (lowest, highest) = (super::time::days_from_civil(1, 1, 1), super::time::days_from_civil(9999, 12, 31));
    let text = |day: i64| {
        let (y, m, d) = ymd(day);
        format!("{y:04}-{m:02}-{d:02}")
    };
    if last_day > highest {
        return Err(SqlError::Window(format!(
            "the window's partitions run to {} ({last_for}), after 9999-12-31, the last date the tables' yyyy/MM/dd partitions hold: give an --until before 9999-12-31",
            text(last_day)
        )));
    }
    if first_day < lowest {
        return Err(SqlError::Window(format!(
            "the window's partitions start at {} ({first_for}), before 0001-01-01, the first date the tables' yyyy/MM/dd partitions hold: give a later --since",
            text(first_day)
        )));
    }
    Ok(())
}

/// The output columns, in order (all `varchar`).
pub const COLUMNS: [&str; 24] = [
    "kind",
    "session_id",
    "user_id",
    "authentication_type",
    "fleet",
    "start_ms",
    "end_ms",
    "open_until_ms",
    "account",
    "address",
    "origin",
    "event_name",
    "bucket",
    "error_code",
    "principal",
    "issuer",
    "event_key",
    "event_id",
    "object_paths",
    "claims",
    "copy",
    "records",
    "vpc_endpoint",
    "reason",
];

/// Separates the parts of one session version's key in `claims` (ASCII unit separator).
pub const PART_SEPARATOR: char = '\u{1f}';
/// Separates the items of `claims` and `object_paths` (ASCII record separator).
pub const ITEM_SEPARATOR: char = '\u{1e}';

/// Where an event ended up; the `kind` column of an event row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Attributed to one AppStream session.
    Attributed,
    /// A user's notebook event (the hash is in `user_id`).
    Notebook,
    /// Claimed by two sessions, or by a conflicted one.
    Ambiguous,
    /// Claimed by no session.
    Unattributed,
    /// An admin role's event.
    Administrative,
    /// Another account's event.
    OtherAccount,
}

impl Category {
    /// Every category.
    pub const ALL: [Self; 6] = [
        Self::Attributed,
        Self::Notebook,
        Self::Ambiguous,
        Self::Unattributed,
        Self::Administrative,
        Self::OtherAccount,
    ];

    /// The name in the `kind` column.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attributed => "attributed",
            Self::Notebook => "notebook",
            Self::Ambiguous => "ambiguous",
            Self::Unattributed => "unattributed",
            Self::Administrative => "administrative",
            Self::OtherAccount => "other_account",
        }
    }

    /// The category of a `kind` value.
    #[must_use]
    pub fn parse(kind: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == kind)
    }
}

/// The Glue tables the query reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    /// The Glue database.
    pub database: String,
    /// The CloudTrail table (partitions `account`, `region`, `day` as `yyyy/MM/dd`).
    pub trail: String,
    /// The usage-reports table (partitions `year`, `month`, `day`, two-digit month and day).
    pub sessions: String,
}

/// What one query audits.
#[derive(Debug, Clone)]
pub struct QuerySpec<'a> {
    /// The tables.
    pub tables: &'a Tables,
    /// The trail's account (12 digits): the `account` partition.
    pub account: &'a str,
    /// The Regions whose trail folders are read (`region` partition).
    pub regions: &'a [String],
    /// The filters; `since` and `until` are required.
    pub filters: &'a Filters,
    /// The sandbox's principals.
    pub principals: &'a Principals,
}

/// A value the query cannot be written with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SqlError {
    /// A value is not of its kind (with the flag or field, the value and what is allowed).
    #[error("{what} {value:?}: {allowed}")]
    Invalid {
        /// The flag or field.
        what: &'static str,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: &'static str,
    },
    /// No window, or a window too long.
    #[error("{0}")]
    Window(String),
}

fn invalid(what: &'static str, value: &str, allowed: &'static str) -> SqlError {
    SqlError::Invalid { what, value: value.chars().take(80).collect(), allowed }
}

/// A SQL string literal of `value`: `'` doubled; control characters (which no user ID, bucket,
/// event name or ARN has) refused.
///
/// # Errors
/// [`SqlError::Invalid`] for a control character.
pub fn literal(what: &'static str, value: &str) -> Result<String, SqlError> {
    if value.chars().any(char::is_control) {
        return Err(invalid(what, value, "control characters are not allowed"));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

/// A quoted identifier: `[a-z0-9_]`, 1 to 255 characters (Glue database and table names as
/// Athena accepts them, Athena user guide "Name databases, tables, and columns").
///
/// # Errors
/// [`SqlError::Invalid`].
pub fn identifier(what: &'static str, value: &str) -> Result<String, SqlError> {
    let ok = !value.is_empty()
        && value.len() <= 255
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(format!("\"{value}\""))
    } else {
        Err(invalid(what, value, "lowercase letters, digits and _ only"))
    }
}

/// Checks a bucket name: 3 to 63 of lowercase letters, digits, `.` and `-` (S3 user guide,
/// "Bucket naming rules").
fn bucket(value: &str) -> Result<String, SqlError> {
    let ok = (3..=63).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if ok {
        literal("--bucket", value)
    } else {
        Err(invalid("--bucket", value, "an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and '-'"))
    }
}

/// Checks an event name (CloudTrail `eventName`s are API action names: letters and digits).
fn event(value: &str) -> Result<String, SqlError> {
    if !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        literal("--event", &value.to_ascii_lowercase())
    } else {
        Err(invalid("--event", value, "an S3 API action name (letters and digits, e.g. GetObject)"))
    }
}

/// `a IN (x, y)` or `FALSE` for an empty list.
fn in_list(expr: &str, items: &[String]) -> String {
    if items.is_empty() {
        "FALSE".to_string()
    } else {
        format!("{expr} IN ({})", items.join(", "))
    }
}

/// `yyyy/MM/dd` of a day count.
fn slash_day(day: i64) -> String {
    let (y, m, d) = ymd(day);
    format!("{y:04}/{m:02}/{d:02}")
}

/// Epoch milliseconds of an ISO 8601 text, NULL when it does not parse.
fn millis(text: &str) -> String {
    format!("CAST(round(to_unixtime(try(from_iso8601_timestamp({text}))) * 1000) AS bigint)")
}

/// The part of an S3 ARN after `:s3:::`.
fn arn_path(arn: &str) -> String {
    format!("substr({arn}, strpos({arn}, ':s3:::') + 6)")
}

/// The one query of `sandboxc audit --engine athena` (module docs for its semantics).
///
/// # Errors
/// [`SqlError`] for a value that is not of its kind, or a window that is missing, empty or
/// longer than [`MAX_WINDOW_DAYS`].
pub fn query(spec: &QuerySpec<'_>) -> Result<String, SqlError> {
    let f = spec.filters;
    let (Some(since), Some(until)) = (f.since, f.until) else {
        return Err(SqlError::Window("the Athena query needs a window (--since and --until)".into()));
    };
    if until <= since {
        return Err(SqlError::Window("the window is empty".into()));
    }
    let first_day = since.day();
    let last_day = Instant(until.0 - 1).day();
    if last_day - first_day + 1 > MAX_WINDOW_DAYS {
        return Err(SqlError::Window(format!(
            "a window of {} days is longer than the {MAX_WINDOW_DAYS} days one query reads; audit it in parts",
            last_day - first_day + 1
        )));
    }
    check_projected(first_day, last_day)?;
    check_partition_days(
        first_day - SESSION_DAYS_BEFORE,
        last_day + 1,
        "the usage reports from 5 days before --since",
        "the trail's day after --until",
    )?;
    let db = identifier("database", &spec.tables.database)?;
    let trail = format!("{db}.{}", identifier("CloudTrail table", &spec.tables.trail)?);
    let reports = format!("{db}.{}", identifier("usage-reports table", &spec.tables.sessions)?);
    if spec.account.len() != 12 || !spec.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("account", spec.account, "a 12-digit AWS account ID"));
    }
    let account = literal("account", spec.account)?;
    let mut regions = Vec::new();
    for r in spec.regions {
        if r.is_empty() || !r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(invalid("region", r, "an AWS Region code such as us-east-1"));
        }
        regions.push(literal("region", r)?);
    }
    if regions.is_empty() {
        return Err(invalid("region", "", "at least one Region"));
    }
    let buckets = f.buckets.iter().map(|b| bucket(b)).collect::<Result<Vec<_>, _>>()?;
    let events = f.events.iter().map(|e| event(e)).collect::<Result<Vec<_>, _>>()?;
    let users = f.users.iter().map(|u| literal("--user", u)).collect::<Result<Vec<_>, _>>()?;
    let user_hashes = f.users.iter().map(|u| literal("--user", &user_hash(u))).collect::<Result<Vec<_>, _>>()?;
    let mut admins = Vec::new();
    for a in &spec.principals.admin_roles {
        if !super::is_role_arn(a) {
            return Err(invalid("--admin-principal", a, "an IAM role ARN"));
        }
        admins.push(literal("--admin-principal", a)?);
    }
    let mut endpoints = Vec::new();
    for e in &spec.principals.vpc_endpoints {
        if !super::is_vpc_endpoint_id(e) {
            return Err(invalid("--vpc-endpoint", e, "vpce- and 8 or 17 lowercase hex digits"));
        }
        endpoints.push(literal("--vpc-endpoint", e)?);
    }
    let mut role_names = Vec::new();
    for (hash, names) in spec.principals.notebook_roles.iter().flatten() {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(invalid("--notebook-role", hash, "a user hash: 64 lowercase hex digits"));
        }
        for name in names {
            // IAM role names: letters, digits and +=,.@_- (IAM user guide, "IAM identifiers").
            let ok = !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
            if !ok {
                return Err(invalid("--notebook-role", name, "an IAM role name: letters, digits and +=,.@_-"));
            }
            role_names.push(literal("--notebook-role", &format!("{hash}/{name}"))?);
        }
    }
    let environment = match spec.principals.environment.as_deref() {
        Some(env) if !env.is_empty() && env.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') => {
            literal("environment", env)?
        }
        Some(env) => return Err(invalid("environment", env, "a stack name: letters, digits and '-'")),
        None => "CAST(NULL AS varchar)".to_string(),
    };

    let (trail_where, reports_where) = partition_predicates(&account, &regions, since, until);
    let since_ms = since.0;
    let until_ms = until.0;
    let sep = u32::from(PART_SEPARATOR);
    let item = u32::from(ITEM_SEPARATOR);

    let mut q = String::new();
    // Session rows, as sessions::read keeps them.
    let start = millis("trim(session_start_time)");
    let end = millis("trim(session_end_time)");
    let seconds =
        |c: &str| format!("CASE WHEN try_cast(trim({c}) AS bigint) > 0 THEN try_cast(trim({c}) AS bigint) END");
    let _ = write!(
        q,
        "WITH report_rows AS (
  SELECT \"$path\" AS origin,
    trim(user_session_id) AS session_id,
    trim(user_id) AS user_id,
    trim(authentication_type) AS authentication_type,
    trim(fleet_name) AS fleet,
    NULLIF(trim(aws_account_id), '') AS account,
    NULLIF(trim(eni_private_ip_address), '') AS address,
    {start} AS start_ms,
    CASE WHEN COALESCE(trim(session_end_time), '') = '' THEN NULL ELSE {end} END AS end_ms,
    COALESCE(trim(session_end_time), '') = '' AS open_row,
    COALESCE({max}, {dur}, 432000) AS cap_seconds
  FROM {reports}
  WHERE {reports_where}
),
session_rows AS (
  SELECT origin, session_id, user_id, authentication_type, fleet, account, address, start_ms, end_ms,
    CASE WHEN open_row THEN start_ms + cap_seconds * 1000 END AS open_until_ms
  FROM report_rows
  WHERE session_id IS NOT NULL AND session_id <> '' AND user_id IS NOT NULL AND user_id <> ''
    AND start_ms IS NOT NULL AND (open_row OR end_ms IS NOT NULL) AND (end_ms IS NULL OR end_ms >= start_ms)
),
versions AS (
  SELECT session_id, user_id, address, start_ms, max(end_ms) AS end_ms,
    min_by(open_until_ms, origin) AS open_until_ms, max(account) AS account
  FROM session_rows
  GROUP BY session_id, user_id, address, start_ms
),
sessions AS (
  SELECT session_id, user_id, address, start_ms, account,
    COALESCE(end_ms, open_until_ms) AS last_ms,
    count(*) OVER (PARTITION BY session_id) > 1 AS conflicted,
    session_id || chr({sep}) || user_id || chr({sep}) || COALESCE(address, '') || chr({sep}) || CAST(start_ms AS varchar) AS version_key
  FROM versions
),
session_accounts AS (
  SELECT DISTINCT account FROM sessions WHERE account IS NOT NULL
),
",
        max = seconds("max_session_duration"),
        dur = seconds("session_duration_in_seconds"),
    );
    // Records.
    let bucket_res = format!(
        "filter(resources, r -> r.type = 'AWS::S3::Bucket' AND strpos(r.arn, ':s3:::') > 0 AND {p} <> '' AND strpos({p}, '/') = 0)",
        p = arn_path("r.arn")
    );
    let object_res = format!(
        "filter(resources, r -> r.type = 'AWS::S3::Object' AND strpos(r.arn, ':s3:::') > 0 AND strpos({p}, '/') > 0)",
        p = arn_path("r.arn")
    );
    let notebook = "'^[^/]*?:role/sandboxc/([^/]+)/users/([0-9a-fA-F]{64})/([^/]+)$'";
    let _ = write!(
        q,
        "trail_rows AS (
  SELECT \"$path\" AS origin, eventid, eventtime, eventsource, eventname, eventcategory, sourceipaddress, errorcode,
    useridentity.arn AS principal,
    useridentity.sessioncontext.sessionissuer.arn AS issuer,
    NULLIF(recipientaccountid, '') AS account,
    NULLIF(vpcendpointid, '') AS vpc_endpoint,
    json_extract_scalar(requestparameters, '$.bucketName') AS request_bucket,
    json_extract_scalar(requestparameters, '$.key') AS request_key,
    {bucket_res} AS bucket_res,
    {object_res} AS object_res
  FROM {trail}
  WHERE {trail_where}
),
records AS (
  SELECT origin, eventid, eventname, sourceipaddress, errorcode, principal, issuer, account, request_key,
    vpc_endpoint,
    {t} AS t_ms,
    COALESCE(request_bucket,
      CASE WHEN cardinality(bucket_res) > 0 THEN {last_bucket} END,
      CASE WHEN cardinality(object_res) > 0 THEN split_part({first_object}, '/', 1) END) AS bucket,
    transform(object_res, r -> {p}) AS object_paths,
    CASE WHEN regexp_like(issuer, {notebook}) THEN regexp_extract(issuer, {notebook}, 1) END AS role_env,
    CASE WHEN regexp_like(issuer, {notebook}) THEN regexp_extract(issuer, {notebook}, 2) END AS role_hash,
    CASE WHEN regexp_like(issuer, {notebook}) THEN regexp_extract(issuer, {notebook}, 3) END AS role_name,
    COALESCE(split_part(issuer, ':', 5), '') AS role_account
  FROM trail_rows
  WHERE eventsource = 's3.amazonaws.com' AND (eventcategory IS NULL OR eventcategory = 'Data')
),
judged AS (
  SELECT *,
    CASE
      WHEN {admin} THEN 'admin'
      WHEN role_hash IS NULL THEN 'other'
      WHEN account IS NOT NULL AND account <> role_account THEN 'unclaimed'
      WHEN role_env = {environment} THEN {notebook_caller}
      ELSE 'unclaimed'
    END AS caller,
    {other_endpoint} AS other_endpoint
  FROM records
  WHERE eventname IS NOT NULL AND bucket IS NOT NULL AND t_ms IS NOT NULL
),
kept AS (
  SELECT origin, eventid, eventname, sourceipaddress, errorcode, principal, issuer, account, request_key, t_ms,
    bucket, object_paths, caller, role_hash, vpc_endpoint, other_endpoint, count(*) AS records
  FROM judged
  WHERE (sourceipaddress IS NOT NULL OR caller IN ('admin', 'notebook', 'impostor'))
    AND {bucket_filter} AND {event_filter}
    AND t_ms >= {since_ms} AND t_ms < {until_ms}
  GROUP BY origin, eventid, eventname, sourceipaddress, errorcode, principal, issuer, account, request_key, t_ms,
    bucket, object_paths, caller, role_hash, vpc_endpoint, other_endpoint
),
",
        t = millis("eventtime"),
        last_bucket = arn_path("bucket_res[CAST(cardinality(bucket_res) AS bigint)].arn"),
        first_object = arn_path("object_res[1].arn"),
        p = arn_path("r.arn"),
        admin = if admins.is_empty() { "FALSE".to_string() } else { in_list("issuer", &admins) },
        notebook_caller = if spec.principals.notebook_roles.is_some() {
            format!(
                "CASE WHEN {} THEN 'notebook' ELSE 'impostor' END",
                in_list("role_hash || '/' || role_name", &role_names)
            )
        } else {
            "'notebook'".to_string()
        },
        other_endpoint = if endpoints.is_empty() {
            "FALSE".to_string()
        } else {
            format!("(vpc_endpoint IS NOT NULL AND NOT ({}))", in_list("vpc_endpoint", &endpoints))
        },
        bucket_filter = if buckets.is_empty() { "TRUE".to_string() } else { in_list("bucket", &buckets) },
        event_filter = if events.is_empty() { "TRUE".to_string() } else { in_list("lower(eventname)", &events) },
    );
    // Claims by address and time, then the category.
    let user_wanted = if users.is_empty() { "TRUE".to_string() } else { in_list("s.user_id", &users) };
    let _ = write!(
        q,
        "claimed AS (
  SELECT k.origin, k.eventid, k.eventname, k.sourceipaddress, k.errorcode, k.principal, k.issuer, k.account,
    k.request_key, k.t_ms, k.bucket, k.object_paths, k.caller, k.role_hash, k.vpc_endpoint, k.other_endpoint, k.records,
    count(s.session_id) AS by_address,
    count(s.session_id) FILTER (WHERE k.account IS NULL OR s.account IS NULL OR s.account = k.account) AS claimants,
    count(s.session_id) FILTER (WHERE (k.account IS NULL OR s.account IS NULL OR s.account = k.account) AND {user_wanted}) AS wanted,
    count(s.session_id) FILTER (WHERE (k.account IS NULL OR s.account IS NULL OR s.account = k.account) AND s.conflicted) AS conflicted,
    array_agg(s.version_key) FILTER (WHERE k.account IS NULL OR s.account IS NULL OR s.account = k.account) AS claims
  FROM kept k
  LEFT JOIN sessions s
    ON k.caller IN ('other', 'unclaimed') AND NOT k.other_endpoint AND s.address = k.sourceipaddress AND s.start_ms <= k.t_ms AND k.t_ms <= s.last_ms
  GROUP BY k.origin, k.eventid, k.eventname, k.sourceipaddress, k.errorcode, k.principal, k.issuer, k.account,
    k.request_key, k.t_ms, k.bucket, k.object_paths, k.caller, k.role_hash, k.vpc_endpoint, k.other_endpoint, k.records
),
categorized AS (
  SELECT c.*,
    CASE
      WHEN c.caller = 'admin' THEN 'administrative'
      WHEN c.caller = 'notebook' THEN CASE WHEN {hash_wanted} THEN 'notebook' END
      WHEN c.caller = 'impostor' THEN 'unattributed'
      WHEN c.claimants > 0 AND c.wanted = 0 THEN NULL
      WHEN c.account IS NOT NULL AND ((c.by_address > 0 AND c.claimants = 0)
        OR (c.by_address = 0 AND (SELECT count(*) FROM session_accounts) > 0 AND a.account IS NULL)) THEN 'other_account'
      WHEN c.claimants = 0 THEN 'unattributed'
      WHEN c.claimants = 1 AND c.conflicted = 0 THEN 'attributed'
      ELSE 'ambiguous'
    END AS category,
    CASE WHEN c.caller = 'impostor' THEN 'not_notebook_role' WHEN c.other_endpoint THEN 'other_vpc_endpoint'
      ELSE 'no_session' END AS reason
  FROM claimed c
  LEFT JOIN session_accounts a ON a.account = c.account
),
events AS (
  SELECT *, row_number() OVER (PARTITION BY category, eventid ORDER BY origin) AS copy
  FROM categorized
  WHERE category IS NOT NULL
)
",
        hash_wanted = if user_hashes.is_empty() { "TRUE".to_string() } else { in_list("c.role_hash", &user_hashes) },
    );
    let null = "CAST(NULL AS varchar)";
    let _ = write!(
        q,
        "SELECT 'session' AS kind, session_id, user_id, authentication_type, fleet, CAST(start_ms AS varchar) AS start_ms,
  CAST(end_ms AS varchar) AS end_ms, CAST(open_until_ms AS varchar) AS open_until_ms,
  account, address, origin, {null} AS event_name, {null} AS bucket, {null} AS error_code, {null} AS principal,
  {null} AS issuer, {null} AS event_key, {null} AS event_id, {null} AS object_paths, {null} AS claims, {null} AS copy,
  {null} AS records, {null} AS vpc_endpoint, {null} AS reason
FROM session_rows
UNION ALL
SELECT category, {null}, CASE WHEN category = 'notebook' THEN role_hash END, {null}, {null}, CAST(t_ms AS varchar), {null}, {null},
  account, sourceipaddress, origin, eventname, bucket, errorcode, principal, issuer, request_key, eventid,
  array_join(object_paths, chr({item})), array_join(claims, chr({item})),
  CASE WHEN eventid IS NULL OR eventid = '' THEN '1' ELSE CAST(copy AS varchar) END, CAST(records AS varchar),
  vpc_endpoint, reason
FROM events
"
    );
    Ok(q)
}

/// The predicates on the partition columns only, `(CloudTrail table, usage-reports table)`:
/// `account` and `region` equal to the given (already quoted) literals and `day` from the
/// window's first day to the day after its last; the usage reports' `year`/`month`/`day` of every
/// day from [`SESSION_DAYS_BEFORE`] days before the window to the day after it. Athena reads only
/// the partitions they allow (partition projection); the query uses exactly these.
#[must_use]
pub fn partition_predicates(account: &str, regions: &[String], since: Instant, until: Instant) -> (String, String) {
    let (first_day, last_day) = (since.day(), Instant(until.0 - 1).day());
    let trail = format!(
        "\"account\" = {account} AND \"region\" IN ({}) AND \"day\" BETWEEN '{}' AND '{}'",
        regions.join(", "),
        slash_day(first_day),
        slash_day(last_day + 1)
    );
    let mut report_days = Vec::new();
    for day in first_day - SESSION_DAYS_BEFORE..=last_day + 1 {
        let (y, m, d) = ymd(day);
        report_days.push(format!("(\"year\" = '{y:04}' AND \"month\" = '{m:02}' AND \"day\" = '{d:02}')"));
    }
    (trail, report_days.join("\n    OR "))
}

/// The window's days as the CloudTrail partition values `yyyy/MM/dd` the query reads: the first
/// day of the window to the day after its last.
#[must_use]
pub fn trail_partition_days(since: Instant, until: Instant) -> Vec<String> {
    let last = Instant(until.0 - 1).day();
    (since.day()..=last + 1).map(slash_day).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn spec_sql(filters: &Filters, principals: &Principals) -> Result<String, SqlError> {
        let tables =
            Tables { database: "sandboxc_audit".into(), trail: "cloudtrail".into(), sessions: "sessions".into() };
        let regions = vec!["us-east-1".to_string()];
        query(&QuerySpec { tables: &tables, account: "123456789012", regions: &regions, filters, principals })
    }

    fn window() -> Filters {
        Filters {
            since: Instant::parse("2026-11-28").ok(),
            until: Instant::parse("2026-11-30").ok(),
            ..Filters::default()
        }
    }

    #[test]
    fn reads_only_the_window_partitions() {
        let sql = spec_sql(&window(), &Principals::default()).unwrap_or_default();
        assert!(sql.contains("\"day\" BETWEEN '2026/11/28' AND '2026/11/30'"), "{sql}");
        assert!(sql.contains("(\"year\" = '2026' AND \"month\" = '11' AND \"day\" = '23')"));
        assert!(sql.contains("(\"year\" = '2026' AND \"month\" = '11' AND \"day\" = '30')"));
        assert!(!sql.contains("\"day\" = '22'"));
        assert!(!sql.contains("month\" = '12'"));
        assert!(sql.contains("\"account\" = '123456789012' AND \"region\" IN ('us-east-1')"));
    }

    #[test]
    fn literals_are_escaped_or_refused() {
        let mut f = window();
        f.users = vec!["o'brien'); DROP TABLE x; --".into()];
        let sql = spec_sql(&f, &Principals::default()).unwrap_or_default();
        assert!(sql.contains("'o''brien''); DROP TABLE x; --'"), "{sql}");
        assert!(!sql.contains("'o'brien"));
        for (users, buckets, events) in [
            (vec!["a\nb".to_string()], vec![], vec![]),
            (vec![], vec!["b' OR '1'='1".to_string()], vec![]),
            (vec![], vec!["UPPER".to_string()], vec![]),
            (vec![], vec![], vec!["GetObject' OR 'x".to_string()]),
            (vec![], vec![], vec!["Get Object".to_string()]),
        ] {
            let mut f = window();
            f.users = users;
            f.buckets = buckets;
            f.events = events;
            assert!(matches!(spec_sql(&f, &Principals::default()), Err(SqlError::Invalid { .. })), "{f:?}");
        }
        let bad = Principals { environment: Some("x' OR '1".into()), ..Principals::default() };
        assert!(spec_sql(&window(), &bad).is_err());
        let bad = Principals { admin_roles: vec!["arn:aws:iam::123456789012:role/x'".into()], ..Principals::default() };
        assert!(spec_sql(&window(), &bad).is_err());
        // The sandbox's endpoints and the users' role names: checked, then quoted.
        for bad in [
            Principals { vpc_endpoints: vec!["vpce-1a2b3c4d' OR '1'='1".into()], ..Principals::default() },
            Principals { vpc_endpoints: vec!["vpce-1A2B3C4D".into()], ..Principals::default() },
            Principals {
                notebook_roles: Some([("x' OR '1".to_string(), BTreeSet::from(["nb".to_string()]))].into()),
                ..Principals::default()
            },
            Principals {
                notebook_roles: Some([(user_hash("a"), BTreeSet::from(["nb') OR ('1".to_string()]))].into()),
                ..Principals::default()
            },
            Principals {
                notebook_roles: Some([(user_hash("a"), BTreeSet::from(["n\nb".to_string()]))].into()),
                ..Principals::default()
            },
        ] {
            assert!(matches!(spec_sql(&window(), &bad), Err(SqlError::Invalid { .. })), "{bad:?}");
        }
        let good = Principals {
            environment: Some("team".into()),
            vpc_endpoints: vec!["vpce-0a1b2c3d4e5f60718".into()],
            notebook_roles: Some([(user_hash("a"), BTreeSet::from(["team-UserA-x".to_string()]))].into()),
            ..Principals::default()
        };
        let sql = spec_sql(&window(), &good).unwrap_or_default();
        assert!(sql.contains("NOT (vpc_endpoint IN ('vpce-0a1b2c3d4e5f60718'))"), "{sql}");
        assert!(
            sql.contains(&format!("role_hash || '/' || role_name IN ('{}/team-UserA-x')", user_hash("a"))),
            "{sql}"
        );
        assert!(identifier("database", "db\"; DROP").is_err());
        assert_eq!(literal("x", "it's").ok().as_deref(), Some("'it''s'"));
    }

    #[test]
    fn needs_a_bounded_window() {
        assert!(matches!(spec_sql(&Filters::default(), &Principals::default()), Err(SqlError::Window(_))));
        let long = Filters {
            since: Instant::parse("2020-01-01").ok(),
            until: Instant::parse("2026-01-01").ok(),
            ..Filters::default()
        };
        assert!(matches!(spec_sql(&long, &Principals::default()), Err(SqlError::Window(_))));
        let days = trail_partition_days(
            Instant::parse("2026-11-28T09:00:00Z").unwrap_or(Instant(0)),
            Instant::parse("2026-11-29").unwrap_or(Instant(0)),
        );
        assert_eq!(days, vec!["2026/11/28", "2026/11/29"]);
    }

    /// A window whose partition days leave years 0001..9999 is refused, naming the day and why
    /// it is read (`--until 9999-12-31` would read the trail's `10000/01/01`).
    #[test]
    fn partition_days_stay_within_four_digit_years() {
        let window = |since: &str, until: &str| Filters {
            since: Instant::parse(since).ok(),
            // `--until` a date: the whole day.
            until: Instant::parse(until).ok().map(|u| Instant(u.0 + 86_400_000)),
            ..Filters::default()
        };
        // A window beyond the projected years stops at that check, before the partitions'.
        let e = spec_sql(&window("9999-12-31", "9999-12-31"), &Principals::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.starts_with("--until is after 2099-12-31"), "{e}");
        assert!(spec_sql(&window("2099-12-30", "2099-12-31"), &Principals::default()).is_ok());
        // The partition days themselves: four-digit years only.
        let day = |y, m, d| super::super::time::days_from_civil(y, m, d);
        let e = check_partition_days(day(9999, 12, 31), day(10000, 1, 1), "a", "the trail's day after --until")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(
            e,
            "the window's partitions run to 10000-01-01 (the trail's day after --until), after 9999-12-31, the last date the tables' yyyy/MM/dd partitions hold: give an --until before 9999-12-31"
        );
        let e = check_partition_days(day(0, 12, 31), day(1, 1, 4), "the usage reports from 5 days before --since", "b")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("(the usage reports from 5 days before --since), before 0001-01-01"), "{e}");
        assert!(check_partition_days(0, 0, "a", "b").is_ok());
        // The projected years, 2020 to 2099, and no day outside.
        assert!(check_projected(day(2020, 1, 1), day(2099, 12, 31)).is_ok());
        assert!(matches!(check_projected(day(2019, 12, 31), day(2020, 1, 1)), Err(SqlError::Window(_))));
        assert!(matches!(check_projected(day(2099, 12, 31), day(2100, 1, 1)), Err(SqlError::Window(_))));
    }
}
