//! Running the audit query on Athena: start it in the sandbox's workgroup, poll its state with a
//! bounded number of waits (progress on a callback), then read every page of its results. The
//! calls go through the [`QueryService`] trait (implemented over the AWS SDK in `src/aws`;
//! scripted in tests), so this flow never talks to AWS itself.
//!
//! Athena API reference: `StartQueryExecution` returns the `QueryExecutionId`;
//! `GetQueryExecution` gives `Status.State` (`QUEUED`, `RUNNING`, `SUCCEEDED`, `FAILED`,
//! `CANCELLED`), `Status.StateChangeReason` and `Statistics.DataScannedInBytes`;
//! `GetQueryResults` pages the rows with `NextToken`, the first row of the first page being the
//! column names. A query that exceeds the workgroup's per-query data usage limit is cancelled
//! (Athena user guide, "Configure per-query and per-workgroup data usage controls").

use std::future::Future;
use std::time::Duration;

use super::athena_rows::Row;

/// The state of a query (`Status.State`), with what came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryState {
    /// Waiting for capacity.
    Queued,
    /// Running.
    Running,
    /// Done.
    Succeeded,
    /// Failed, with `StateChangeReason` and the `AthenaError.ErrorType` code when given.
    Failed(String),
    /// Cancelled, with `StateChangeReason`.
    Cancelled(String),
}

/// One `GetQueryExecution` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryStatus {
    /// The state.
    pub state: QueryState,
    /// `Statistics.DataScannedInBytes` so far (0 when not given).
    pub bytes_scanned: u64,
}

/// An Athena call that failed (the message names the call and what AWS answered).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CallError(pub String);

/// The Athena calls the audit makes.
pub trait QueryService {
    /// `StartQueryExecution` of `sql` in `workgroup`; the query ID.
    ///
    /// # Errors
    /// [`CallError`].
    fn start(&self, sql: &str, workgroup: &str) -> impl Future<Output = Result<String, CallError>> + Send;
    /// `GetQueryExecution`.
    ///
    /// # Errors
    /// [`CallError`].
    fn status(&self, query_id: &str) -> impl Future<Output = Result<QueryStatus, CallError>> + Send;
    /// One `GetQueryResults` page after `token`: its rows (every cell as text, `None` for
    /// NULL) and the next token (`None` on the last page).
    ///
    /// # Errors
    /// [`CallError`].
    fn page(
        &self,
        query_id: &str,
        token: Option<String>,
    ) -> impl Future<Output = Result<(Vec<Row>, Option<String>), CallError>> + Send;
    /// Waits `d` between two polls (a test answers at once).
    fn wait(&self, d: Duration) -> impl Future<Output = ()> + Send;
}

/// How long to wait for a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    /// Between two `GetQueryExecution` calls.
    pub interval: Duration,
    /// Most polls before giving up ([`QueryError::Timeout`]).
    pub max_polls: u32,
    /// Most `GetQueryResults` pages read.
    pub max_pages: u32,
}

impl Default for Polling {
    /// Every 2 seconds for up to 30 minutes (Athena's default DML query timeout, Service
    /// Quotas for Athena); up to 1,000,000 pages of up to 1,000 rows.
    fn default() -> Self {
        Self { interval: Duration::from_secs(2), max_polls: 900, max_pages: 1_000_000 }
    }
}

/// What a finished query gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryOutcome {
    /// The query ID.
    pub query_id: String,
    /// The rows (header row removed).
    pub rows: Vec<Row>,
    /// `DataScannedInBytes`.
    pub bytes_scanned: u64,
}

/// Why a query gave no rows, always with its query ID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `StartQueryExecution` failed.
    #[error("Athena StartQueryExecution in workgroup {workgroup}: {why}")]
    Start {
        /// The workgroup.
        workgroup: String,
        /// What AWS answered.
        why: String,
    },
    /// A call after the start failed.
    #[error("Athena query {query_id}: {why}")]
    Call {
        /// The query ID.
        query_id: String,
        /// What AWS answered.
        why: String,
    },
    /// The query failed.
    #[error("Athena query {query_id} FAILED: {reason}")]
    Failed {
        /// The query ID.
        query_id: String,
        /// `StateChangeReason`.
        reason: String,
    },
    /// The query was cancelled by someone (StopQueryExecution).
    #[error("Athena query {query_id} was CANCELLED: {reason}")]
    Cancelled {
        /// The query ID.
        query_id: String,
        /// `StateChangeReason`.
        reason: String,
    },
    /// The workgroup's per-query bytes-scanned limit cancelled the query.
    #[error("Athena query {query_id} was cancelled by the workgroup's per-query limit of scanned data after {bytes_scanned} bytes ({reason}): narrow the window (--since/--until) or raise audit.athena.bytes_scanned_limit in the blueprint and apply")]
    LimitExceeded {
        /// The query ID.
        query_id: String,
        /// Bytes scanned when it stopped.
        bytes_scanned: u64,
        /// `StateChangeReason`.
        reason: String,
    },
    /// The query did not finish within the polling bound.
    #[error("Athena query {query_id} did not finish within {seconds} seconds (still {state}); it keeps running in Athena: see it in the console or with `aws athena get-query-execution --query-execution-id {query_id}`")]
    Timeout {
        /// The query ID.
        query_id: String,
        /// Seconds waited.
        seconds: u64,
        /// The last state seen.
        state: &'static str,
    },
    /// The results are not of the query's shape.
    #[error("Athena query {query_id}: {why}")]
    Shape {
        /// The query ID.
        query_id: String,
        /// What is wrong.
        why: String,
    },
}

/// Progress of a query, for the caller to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress<'a> {
    /// Started, with the query ID.
    Started(&'a str),
    /// A poll: the state's name, seconds waited, bytes scanned so far.
    Polled(&'static str, u64, u64),
    /// A page of results read: pages so far, rows so far.
    Page(u32, usize),
}

/// Whether a cancellation's reason or scanned bytes say the per-query limit stopped it.
fn limit_hit(reason: &str, bytes: u64, limit: Option<u64>) -> bool {
    let r = reason.to_ascii_lowercase();
    (r.contains("bytes scanned") || r.contains("data scanned") || r.contains("limit"))
        || limit.is_some_and(|l| l > 0 && bytes >= l)
}

/// Runs `sql` in `workgroup`: start, poll until a final state (at most `polling.max_polls`
/// waits), then read every results page, whose header row must name `columns` (the audit
/// query's `super::athena_sql::COLUMNS`, the decisions query's
/// `super::athena_decisions::DECISION_COLUMNS`). `limit`: the workgroup's per-query
/// bytes-scanned limit, when known, to explain a cancellation.
///
/// # Errors
/// [`QueryError`], always naming the query ID once there is one.
pub async fn run<S: QueryService>(
    service: &S,
    sql: &str,
    columns: &[&str],
    workgroup: &str,
    polling: Polling,
    limit: Option<u64>,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<QueryOutcome, QueryError> {
    let query_id = service
        .start(sql, workgroup)
        .await
        .map_err(|e| QueryError::Start { workgroup: workgroup.to_string(), why: e.0 })?;
    progress(Progress::Started(&query_id));
    let call = |e: CallError| QueryError::Call { query_id: query_id.clone(), why: e.0 };
    let mut waited = Duration::ZERO;
    let mut bytes_scanned = 0;
    let mut polls = 0;
    loop {
        let status = service.status(&query_id).await.map_err(call)?;
        bytes_scanned = bytes_scanned.max(status.bytes_scanned);
        let state = match status.state {
            QueryState::Queued => "QUEUED",
            QueryState::Running => "RUNNING",
            QueryState::Succeeded => break,
            QueryState::Failed(reason) => return Err(QueryError::Failed { query_id: query_id.clone(), reason }),
            QueryState::Cancelled(reason) if limit_hit(&reason, bytes_scanned, limit) => {
                return Err(QueryError::LimitExceeded { query_id: query_id.clone(), bytes_scanned, reason })
            }
            QueryState::Cancelled(reason) => return Err(QueryError::Cancelled { query_id: query_id.clone(), reason }),
        };
        progress(Progress::Polled(state, waited.as_secs(), bytes_scanned));
        if polls >= polling.max_polls {
            return Err(QueryError::Timeout { query_id: query_id.clone(), seconds: waited.as_secs(), state });
        }
        polls += 1;
        service.wait(polling.interval).await;
        waited += polling.interval;
    }
    let mut rows = Vec::new();
    let mut token = None;
    let mut header = true;
    for page in 1..=polling.max_pages {
        let (mut got, next) = service.page(&query_id, token).await.map_err(call)?;
        if header {
            header = false;
            let names: Vec<&str> =
                got.first().map(|r| r.iter().map(|c| c.as_deref().unwrap_or("")).collect()).unwrap_or_default();
            if names != columns {
                return Err(QueryError::Shape {
                    query_id,
                    why: format!("the result columns are {names:?}, not the query's {columns:?}"),
                });
            }
            got.remove(0);
        }
        rows.append(&mut got);
        progress(Progress::Page(page, rows.len()));
        token = next;
        if token.is_none() {
            return Ok(QueryOutcome { query_id, rows, bytes_scanned });
        }
    }
    Err(QueryError::Shape { query_id, why: format!("more than {} result pages", polling.max_pages) })
}

/// `n` with its digits in groups of three: `12,345,678`.
#[must_use]
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// `n` bytes in words: `12,345,678 bytes (11.8 MiB)`.
#[must_use]
pub fn bytes_in_words(n: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let mib = n as f64 / 1_048_576.0;
    format!("{} bytes ({mib:.1} MiB)", grouped(n))
}
