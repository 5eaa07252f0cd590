//! Athena for `sandboxc audit --engine athena`: the audit's [`QueryService`] over the AWS SDK
//! (`StartQueryExecution`, `GetQueryExecution`, `GetQueryResults` with up to 1,000 rows a page,
//! `GetWorkGroup` for the per-query limit). Every call has the session's connect and call
//! timeouts (the client is built from the session's configuration).

use std::time::Duration;

use aws_sdk_athena::types::QueryExecutionState;
use aws_sdk_athena::Client;

use super::error::examine;
use crate::audit::athena::{CallError, QueryService, QueryState, QueryStatus};
use crate::audit::athena_rows::Row;

/// Rows per `GetQueryResults` page: the API's maximum (`MaxResults` 1..1000, Athena API
/// reference).
pub const PAGE_ROWS: i32 = 1000;

/// Athena over the AWS SDK.
#[derive(Debug, Clone)]
pub struct Athena {
    client: Client,
    endpoint: String,
}

impl Athena {
    /// Wraps a client whose calls go to `endpoint` (named in errors).
    #[must_use]
    pub fn with_endpoint(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

    /// The workgroup's per-query bytes-scanned limit (`GetWorkGroup`,
    /// `Configuration.BytesScannedCutoffPerQuery`), `None` when it has none.
    ///
    /// # Errors
    /// [`CallError`] naming the call and the workgroup.
    pub async fn bytes_scanned_limit(&self, workgroup: &str) -> Result<Option<u64>, CallError> {
        let out = self.client.get_work_group().work_group(workgroup).send().await.map_err(|e| {
            CallError(format!(
                "Athena GetWorkGroup ({workgroup}): {}",
                examine("Athena", "GetWorkGroup", &self.endpoint, &e).describe()
            ))
        })?;
        Ok(out
            .work_group()
            .and_then(|w| w.configuration())
            .and_then(aws_sdk_athena::types::WorkGroupConfiguration::bytes_scanned_cutoff_per_query)
            .and_then(|n| u64::try_from(n).ok()))
    }
}

impl QueryService for Athena {
    async fn start(&self, sql: &str, workgroup: &str) -> Result<String, CallError> {
        let out =
            self.client.start_query_execution().query_string(sql).work_group(workgroup).send().await.map_err(|e| {
                let failure = examine("Athena", "StartQueryExecution", &self.endpoint, &e);
                let hint = match failure.code.as_deref() {
                    Some("AccessDeniedException") => {
                        "; the caller needs athena:StartQueryExecution on the workgroup (README, \"Audit on Athena\")"
                    }
                    Some("InvalidRequestException") => "; is the workgroup deployed (sandboxc apply) and enabled?",
                    _ => "",
                };
                CallError(format!("{}{hint}", failure.describe()))
            })?;
        out.query_execution_id()
            .filter(|id| !id.is_empty())
            .map(String::from)
            .ok_or_else(|| CallError("StartQueryExecution answered without a QueryExecutionId".into()))
    }

    async fn status(&self, query_id: &str) -> Result<QueryStatus, CallError> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(query_id)
            .send()
            .await
            .map_err(|e| CallError(examine("Athena", "GetQueryExecution", &self.endpoint, &e).describe()))?;
        let execution = out.query_execution();
        let status = execution.and_then(|q| q.status());
        let bytes_scanned = execution
            .and_then(|q| q.statistics())
            .and_then(aws_sdk_athena::types::QueryExecutionStatistics::data_scanned_in_bytes)
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        let reason = || {
            let mut r = status.and_then(|s| s.state_change_reason()).unwrap_or("no reason given").to_string();
            if let Some(e) = status.and_then(|s| s.athena_error()) {
                if let Some(t) = e.error_type() {
                    r.push_str(&format!(" (AthenaError type {t}, category {})", e.error_category().unwrap_or(0)));
                }
            }
            r
        };
        let state = match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Queued) => QueryState::Queued,
            Some(QueryExecutionState::Running) => QueryState::Running,
            Some(QueryExecutionState::Succeeded) => QueryState::Succeeded,
            Some(QueryExecutionState::Failed) => QueryState::Failed(reason()),
            Some(QueryExecutionState::Cancelled) => QueryState::Cancelled(reason()),
            Some(other) => {
                return Err(CallError(format!("GetQueryExecution answered an unknown state {}", other.as_str())))
            }
            None => return Err(CallError("GetQueryExecution answered without a state".into())),
        };
        Ok(QueryStatus { state, bytes_scanned })
    }

    async fn page(&self, query_id: &str, token: Option<String>) -> Result<(Vec<Row>, Option<String>), CallError> {
        let out = self
            .client
            .get_query_results()
            .query_execution_id(query_id)
            .max_results(PAGE_ROWS)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| CallError(examine("Athena", "GetQueryResults", &self.endpoint, &e).describe()))?;
        let rows = out
            .result_set()
            .map(|rs| {
                rs.rows()
                    .iter()
                    .map(|r| r.data().iter().map(|d| d.var_char_value().map(String::from)).collect())
                    .collect()
            })
            .unwrap_or_default();
        Ok((rows, out.next_token().filter(|t| !t.is_empty()).map(String::from)))
    }

    async fn wait(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

#[cfg(test)]
impl Athena {
    /// An Athena client answering with `rules` in order (scripted SDK responses; no request
    /// leaves the process), for tests.
    pub(crate) fn scripted(rules: &[&aws_smithy_mocks::Rule]) -> Self {
        let mut interceptor =
            aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(aws_smithy_mocks::RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = aws_sdk_athena::Config::builder()
            .behavior_version(aws_sdk_athena::config::BehaviorVersion::latest())
            .region(aws_sdk_athena::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_athena::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .build();
        Self::with_endpoint(aws_sdk_athena::Client::from_conf(config), "https://athena.example".into())
    }

    /// A scripted `GetQueryExecution` answer for query `id`: its `state`, state-change
    /// `reason` and `bytes` scanned, for tests.
    pub(crate) fn state_rule(
        id: &'static str,
        state: aws_sdk_athena::types::QueryExecutionState,
        reason: Option<&'static str>,
        bytes: i64,
    ) -> aws_smithy_mocks::Rule {
        use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
        use aws_sdk_athena::types::{QueryExecution, QueryExecutionStatistics, QueryExecutionStatus};
        aws_smithy_mocks::mock!(aws_sdk_athena::Client::get_query_execution)
            .match_requests(move |r| r.query_execution_id() == Some(id))
            .then_output(move || {
                let status = QueryExecutionStatus::builder()
                    .state(state.clone())
                    .set_state_change_reason(reason.map(String::from));
                GetQueryExecutionOutput::builder()
                    .query_execution(
                        QueryExecution::builder()
                            .query_execution_id(id)
                            .status(status.build())
                            .statistics(QueryExecutionStatistics::builder().data_scanned_in_bytes(bytes).build())
                            .build(),
                    )
                    .build()
            })
    }
}
