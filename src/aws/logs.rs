//! CloudWatch Logs for `audit --from-aws`: the validator's decisions read from its log group
//! (`DescribeLogGroups` to find the group, `FilterLogEvents` over every page, bounded by the
//! audit window). Every call has the session's connect and call timeouts.
//!
//! `FilterLogEvents` (CloudWatch Logs API reference): `startTime` and `endTime` are
//! milliseconds since the epoch, events older than `startTime` or newer than `endTime` are not
//! returned; a page may hold no event and still carry a `nextToken`, and the listing is done
//! only when no `nextToken` comes back (docs/aws-facts.md, "CloudWatch Logs").

use aws_sdk_cloudwatchlogs::Client;

use super::error::examine;

/// Most `FilterLogEvents` pages read from one log group in one audit (a guard against a
/// service that keeps answering with a token; at up to 10,000 events or 1 MB a page this is
/// far beyond any validator's log).
pub const MAX_PAGES: usize = 100_000;

/// The suffix of the validator's log group name (`/sandboxc/<env>/<stack ID>/lambda/validator`,
/// the name the validator part compiles); the Athena decisions query keeps the same groups.
pub use crate::audit::athena_decisions::VALIDATOR_GROUP_SUFFIX;

/// One log event: its timestamp (milliseconds since the epoch) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// `timestamp`.
    pub timestamp: i64,
    /// `message`.
    pub message: String,
}

/// CloudWatch Logs over the AWS SDK.
#[derive(Debug, Clone)]
pub struct Logs {
    client: Client,
    endpoint: String,
}

impl Logs {
    /// Wraps a client whose calls go to `endpoint` (named in errors).
    #[must_use]
    pub fn with_endpoint(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

    /// The log groups whose names start with `prefix` and end with `suffix`, sorted
    /// (`DescribeLogGroups`, every page).
    ///
    /// # Errors
    /// A message naming the call, the prefix and what AWS answered.
    pub async fn groups(&self, prefix: &str, suffix: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .client
                .describe_log_groups()
                .log_group_name_prefix(prefix)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "CloudWatch Logs DescribeLogGroups (prefix {prefix}): {}",
                        examine("CloudWatch Logs", "DescribeLogGroups", &self.endpoint, &e).describe()
                    )
                })?;
            out.extend(
                page.log_groups()
                    .iter()
                    .filter_map(|g| g.log_group_name())
                    .filter(|n| n.ends_with(suffix))
                    .map(String::from),
            );
            token = page.next_token().filter(|t| !t.is_empty()).map(String::from);
            if token.is_none() {
                break;
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// One page of `FilterLogEvents` of `group` between `start_ms` and `end_ms` (both
    /// inclusive), after `token`: its events and the next token (`None`: the last page).
    ///
    /// # Errors
    /// A message naming the call and the group, with what to do about AccessDenied and a
    /// missing group.
    pub async fn page(
        &self,
        group: &str,
        start_ms: i64,
        end_ms: i64,
        token: Option<String>,
    ) -> Result<(Vec<LogEvent>, Option<String>), String> {
        let page = self
            .client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .end_time(end_ms)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| {
                let failure = examine("CloudWatch Logs", "FilterLogEvents", &self.endpoint, &e);
                let hint = match failure.code.as_deref() {
                    Some("ResourceNotFoundException") => {
                        "; the group does not exist (was the validator deployed?): pass --decisions FILE instead"
                    }
                    Some("AccessDeniedException") => "; the caller needs logs:FilterLogEvents on the group",
                    _ => "",
                };
                format!("CloudWatch Logs FilterLogEvents ({group}): {}{hint}", failure.describe())
            })?;
        let events = page
            .events()
            .iter()
            .filter_map(|e| Some(LogEvent { timestamp: e.timestamp()?, message: e.message()?.to_string() }))
            .collect();
        Ok((events, page.next_token().filter(|t| !t.is_empty()).map(String::from)))
    }
}

/// The events of a log group as `aws logs filter-log-events` returns each (one JSON object
/// `{"timestamp": <ms>, "message": "<text>"}` per line), fetched one page at a time as the
/// audit reads: at most one page is held in memory.
pub struct PagedEvents<'r> {
    logs: &'r Logs,
    runtime: &'r tokio::runtime::Runtime,
    group: String,
    window: (i64, i64),
    token: Option<String>,
    pages: usize,
    done: bool,
    buffer: Vec<u8>,
    at: usize,
}

impl<'r> PagedEvents<'r> {
    /// The events of `group` from `start_ms` to `end_ms` (inclusive), read on `runtime`.
    #[must_use]
    pub fn new(logs: &'r Logs, runtime: &'r tokio::runtime::Runtime, group: &str, start_ms: i64, end_ms: i64) -> Self {
        Self {
            logs,
            runtime,
            group: group.to_string(),
            window: (start_ms, end_ms),
            token: None,
            pages: 0,
            done: false,
            buffer: Vec::new(),
            at: 0,
        }
    }

    /// Pages read so far.
    #[must_use]
    pub fn pages(&self) -> usize {
        self.pages
    }
}

impl std::io::Read for PagedEvents<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.buffer.len() {
            if self.done {
                return Ok(0);
            }
            if self.pages >= MAX_PAGES {
                return Err(std::io::Error::other(format!(
                    "CloudWatch Logs FilterLogEvents ({}): more than {MAX_PAGES} pages; narrow --since/--until",
                    self.group
                )));
            }
            let (events, next) = self
                .runtime
                .block_on(self.logs.page(&self.group, self.window.0, self.window.1, self.token.take()))
                .map_err(std::io::Error::other)?;
            self.pages += 1;
            self.buffer.clear();
            self.at = 0;
            for e in events {
                crate::audit::decisions::log_event_line(e.timestamp, &e.message, &mut self.buffer)
                    .map_err(std::io::Error::other)?;
            }
            self.done = next.is_none();
            self.token = next;
        }
        let rest = self.buffer.get(self.at..).unwrap_or_default();
        let n = rest.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.at += n;
        Ok(n)
    }
}
