//! Following a deployment: root and nested stack events, shown in time order as they arrive,
//! until the root stack settles; then the root cause of a failure.
//!
//! Nested stacks are discovered from the events themselves (a resource of type
//! `AWS::CloudFormation::Stack` whose physical ID is a stack ARN) and followed from then on;
//! their events before discovery are still read, because events are fetched back to the start
//! of the deployment (`since_ms`).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use super::cloudformation::{part_of, CfnError, CloudFormation, StackEvent, StackInfo, NESTED_STACK_TYPE};
use super::console::Console;
pub use super::outcome::{describe_root_cause, Failure};
use super::status::{is_cancellation, is_summary, StackStatus};

/// How the follower polls: `DescribeStackEvents` of every followed stack and `DescribeStacks`
/// of the root, every `interval` (growing by half up to `max_interval`, back to `interval`
/// when something happened), for at most `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowPolling {
    /// Shortest pause between polls.
    pub interval: Duration,
    /// Longest pause between polls.
    pub max_interval: Duration,
    /// Give up following (the deployment goes on) after this long.
    pub timeout: Duration,
}

impl Default for FollowPolling {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(2),
            max_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(4 * 3600),
        }
    }
}

/// How following ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FollowEnd {
    /// The root stack reached a settled status.
    Settled {
        /// The root stack at the end.
        stack: StackInfo,
        /// Failed steps, in the order they happened.
        failures: Vec<Failure>,
    },
    /// Ctrl-C: the deployment continues in CloudFormation.
    Interrupted,
    /// [`FollowPolling::timeout`] passed: the deployment continues in CloudFormation.
    TimedOut,
    /// The stack disappeared (a finished deletion: `DescribeStacks` by ARN answers
    /// `DELETE_COMPLETE`, by name "does not exist").
    Gone {
        /// Failed steps seen.
        failures: Vec<Failure>,
    },
}

/// Follows the stack `stack_id` (an ARN, so that a deleted stack can still be read) from
/// `since_ms` (milliseconds since the epoch by CloudFormation's clock; events before it, and
/// the event `skip`, are not shown) until it settles, showing every event through `console`.
///
/// # Errors
/// [`CfnError`] of `DescribeStackEvents` or `DescribeStacks` (after the SDK's retries).
pub async fn follow<C: CloudFormation>(
    cfn: &C,
    stack_id: &str,
    since_ms: i64,
    skip: Option<&str>,
    polling: FollowPolling,
    console: &mut dyn Console,
) -> Result<FollowEnd, CfnError> {
    let start = Instant::now();
    let mut stacks: BTreeMap<String, String> = BTreeMap::from([(stack_id.to_string(), String::new())]);
    let mut seen: HashSet<String> = skip.map(str::to_string).into_iter().collect();
    let mut failures = Vec::new();
    let mut pause = polling.interval;
    let mut last_round = false;
    loop {
        let mut fresh = Vec::new();
        // Newly discovered nested stacks are read in the same round.
        let mut done: HashSet<String> = HashSet::new();
        while let Some((id, path)) =
            stacks.iter().find(|(id, _)| !done.contains(*id)).map(|(a, b)| (a.clone(), b.clone()))
        {
            done.insert(id.clone());
            let mut events = new_events(cfn, &id, &seen, since_ms).await?;
            events.reverse();
            for e in events {
                if e.resource_type == NESTED_STACK_TYPE
                    && e.physical_id.starts_with("arn:")
                    && e.physical_id != id
                    && !stacks.contains_key(&e.physical_id)
                {
                    let child = part_of(&e.logical_id).to_string();
                    stacks
                        .insert(e.physical_id.clone(), if path.is_empty() { child } else { format!("{path}/{child}") });
                }
                fresh.push((path.clone(), e));
            }
        }
        fresh.sort_by_key(|(_, e)| e.timestamp_ms);
        let active = !fresh.is_empty();
        for (path, e) in fresh {
            seen.insert(e.id.clone());
            if e.status.is_failed() {
                failures.push(Failure { stack_path: path.clone(), event: e.clone() });
            }
            console.event(&path, &e);
        }
        if last_round {
            let info = match cfn.describe_stack(stack_id).await {
                Ok(info) => info,
                Err(CfnError::NotFound { .. }) => return Ok(FollowEnd::Gone { failures }),
                Err(e) => return Err(e),
            };
            return Ok(FollowEnd::Settled { stack: info, failures });
        }
        let info = match cfn.describe_stack(stack_id).await {
            Ok(info) => Some(info),
            Err(CfnError::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let settled = info.as_ref().is_none_or(|i| i.status.is_settled() && i.status != StackStatus::ReviewInProgress);
        if settled {
            // One more round: events written just before the status changed.
            last_round = true;
            if info.as_ref().is_none() {
                return Ok(FollowEnd::Gone { failures });
            }
            continue;
        }
        if console.interrupted() {
            return Ok(FollowEnd::Interrupted);
        }
        if start.elapsed() >= polling.timeout {
            return Ok(FollowEnd::TimedOut);
        }
        pause = if active { polling.interval } else { (pause + pause / 2).min(polling.max_interval) };
        if sleep_unless_interrupted(pause, console).await {
            return Ok(FollowEnd::Interrupted);
        }
    }
}

/// Where following starts for an operation about to begin on an existing stack: after the
/// stack's newest event (`DescribeStackEvents`, first page), by CloudFormation's clock, so
/// that neither history nor this machine's clock skew matter. `(0, None)` when there is none.
///
/// # Errors
/// [`CfnError`].
pub async fn baseline<C: CloudFormation>(cfn: &C, stack_id: &str) -> Result<(i64, Option<String>), CfnError> {
    let newest = latest_events(cfn, stack_id).await?.into_iter().next();
    Ok(newest.map_or((0, None), |e| (e.timestamp_ms, Some(e.id))))
}

/// Pages of events read per call at most (CloudFormation pages hold 100 events).
const MAX_PAGES: usize = 100;

/// `DescribeStackEvents`, newest first, page after page until an event whose ID is in `seen`
/// (or older than `since_ms`, milliseconds since the epoch) is reached: the events not seen
/// yet, newest first.
///
/// # Errors
/// [`CfnError`].
pub async fn new_events<C: CloudFormation>(
    cfn: &C,
    stack: &str,
    seen: &HashSet<String>,
    since_ms: i64,
) -> Result<Vec<StackEvent>, CfnError> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let page = cfn.events_page(stack, token.take()).await?;
        for event in page.events {
            if seen.contains(&event.id) || event.timestamp_ms < since_ms {
                return Ok(out);
            }
            out.push(event);
        }
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// The newest events of a stack, newest first: one page of `DescribeStackEvents` (up to 100
/// events).
///
/// # Errors
/// [`CfnError`].
pub async fn latest_events<C: CloudFormation>(cfn: &C, stack: &str) -> Result<Vec<StackEvent>, CfnError> {
    Ok(cfn.events_page(stack, None).await?.events)
}

/// Sleeps `pause` in short slices; `true` when Ctrl-C came meanwhile.
async fn sleep_unless_interrupted(pause: Duration, console: &mut dyn Console) -> bool {
    let slice = Duration::from_millis(200);
    let mut left = pause;
    while !left.is_zero() {
        let step = left.min(slice);
        tokio::time::sleep(step).await;
        left -= step;
        if console.interrupted() {
            return true;
        }
    }
    false
}

/// The root cause of a failed deployment: among the failed steps, those that are neither
/// cancellations ("Resource creation cancelled") nor summaries ("The following resource(s)
/// failed...", "Embedded stack ... was not successfully created"), the deepest nested stack
/// first, then the earliest. When every failure is a consequence, the earliest failure.
#[must_use]
pub fn root_cause(failures: &[Failure]) -> Option<&Failure> {
    let depth = |f: &Failure| if f.stack_path.is_empty() { 0 } else { f.stack_path.matches('/').count() + 1 };
    failures
        .iter()
        .filter(|f| {
            !is_cancellation(&f.event.reason)
                && !is_summary(&f.event.reason)
                && f.event.resource_type != NESTED_STACK_TYPE
        })
        .min_by(|a, b| depth(b).cmp(&depth(a)).then(a.event.timestamp_ms.cmp(&b.event.timestamp_ms)))
        .or_else(|| failures.first())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(path: &str, id: &str, ts: i64, reason: &str) -> Failure {
        Failure {
            stack_path: path.into(),
            event: StackEvent {
                id: format!("{path}{id}{ts}"),
                stack_id: String::new(),
                stack_name: "s".into(),
                logical_id: id.into(),
                physical_id: String::new(),
                resource_type: if sandboxc_contract::stack::nested_stack_title(id).is_some() {
                    NESTED_STACK_TYPE.into()
                } else {
                    "AWS::S3::Bucket".into()
                },
                timestamp_ms: ts,
                status: crate::deploy::status::ResourceStatus::CreateFailed,
                reason: reason.into(),
            },
        }
    }

    #[test]
    fn the_deepest_earliest_real_failure_is_the_root_cause() {
        let failures = vec![
            failure("", "Other", 1, "Resource creation cancelled"),
            failure("Storage", "DataBucket", 5, "Bucket name taken"),
            failure("Storage", "DataKey", 3, "Access denied for kms:CreateKey"),
            failure("", "StorageNestedStack", 6, "Embedded stack arn:... was not successfully created: The following resource(s) failed to create: [DataKey]."),
        ];
        assert_eq!(root_cause(&failures).map(|f| f.event.logical_id.as_str()), Some("DataKey"));
        let text = describe_root_cause(root_cause(&failures).unwrap_or(&failures[0]));
        assert!(
            text.contains("DataKey (AWS::S3::Bucket) in the nested stack Storage") && text.contains("kms:CreateKey"),
            "{text}"
        );
    }

    #[test]
    fn only_consequences_fall_back_to_the_earliest() {
        let failures =
            vec![failure("", "A", 2, "Resource creation cancelled"), failure("", "B", 1, "Resource update cancelled")];
        assert_eq!(root_cause(&failures).map(|f| f.event.logical_id.as_str()), Some("A"));
        assert!(root_cause(&[]).is_none());
    }
}
