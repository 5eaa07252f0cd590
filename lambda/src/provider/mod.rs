//! The provider's AWS side: one CloudFormation custom-resource event in, exactly one
//! response PUT to its `ResponseURL`.
//!
//! One binary serves the three resource types, by `ResourceType`:
//!
//! | type | module | `Data` |
//! |---|---|---|
//! | `Custom::HomeFolderNotification` | [`home_folder`] | none |
//! | `Custom::AppStreamServiceRoles` | [`service_roles`] | none |
//! | `Custom::UsageReportSubscription` | [`usage_reports`] | `S3BucketName` |
//!
//! [`answer`] always answers: `SUCCESS`, `FAILED` with the handler's reason, `FAILED` when
//! the handler panics, and `FAILED` when it has not finished [`SAFETY_MARGIN`] before the
//! function's deadline (CloudFormation would otherwise wait up to an hour). An event that
//! is not a valid request is answered `FAILED` from whatever fields it has
//! ([`fallback_failure`]).

pub mod home_folder;
pub mod respond;
pub mod service_roles;
pub mod usage_reports;

use std::future::Future;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::custom_resource::{fallback_failure, Request, Response};
pub use respond::{Responder, SendError};

/// How long before the function's deadline the provider gives up and answers `FAILED`.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(5);

/// The `ResourceType`s served, as the compiler writes them.
pub use sandboxc_contract::custom_resource::{
    APPSTREAM_SERVICE_ROLES, HOME_FOLDER_NOTIFICATION, USAGE_REPORT_SUBSCRIPTION,
};

/// What a handler returns: `Data` for `Fn::GetAtt` on success, the `Reason` on failure.
pub type Outcome = Result<Option<Map<String, Value>>, String>;

/// The SDK clients the provider calls. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProviderClients {
    /// S3: the home-folder bucket's notification configuration.
    pub s3: aws_sdk_s3::Client,
    /// IAM: the AppStream service roles.
    pub iam: aws_sdk_iam::Client,
    /// AppStream: the usage-report subscription.
    pub appstream: aws_sdk_appstream::Client,
}

/// Runs the handler for the request's `ResourceType`.
pub async fn dispatch(clients: &ProviderClients, request: &Request) -> Outcome {
    match request.common().resource_type.as_str() {
        HOME_FOLDER_NOTIFICATION => home_folder::handle(&clients.s3, request).await,
        APPSTREAM_SERVICE_ROLES => service_roles::handle(&clients.iam, request).await,
        USAGE_REPORT_SUBSCRIPTION => usage_reports::handle(&clients.appstream, request).await,
        other => Err(format!(
            "unknown ResourceType {:?}; this provider serves {HOME_FOLDER_NOTIFICATION}, \
             {APPSTREAM_SERVICE_ROLES} and {USAGE_REPORT_SUBSCRIPTION}",
            other.chars().take(100).collect::<String>()
        )),
    }
}

/// What happened to one event, for the log and the invocation result.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    /// The `ResponseURL` the response went (or was meant to go) to.
    pub url: String,
    /// The response.
    pub response: Response,
    /// Whether the PUT succeeded.
    pub delivered: Result<(), SendError>,
}

/// Parses `payload`, runs `work` on the request within `budget`, and PUTs the response.
/// `None` when the payload has no `ResponseURL`, `StackId`, `RequestId` or
/// `LogicalResourceId` (nobody to answer).
pub async fn answer<F, Fut>(payload: Value, budget: Duration, responder: &Responder, work: F) -> Option<Answered>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let request: Request = match serde_json::from_value(payload.clone()) {
        Ok(request) => request,
        Err(e) => {
            let (url, response) = fallback_failure(&payload, &format!("invalid custom-resource request: {e}"))?;
            let delivered = responder.send(&url, response.to_body()).await;
            return Some(Answered { url, response, delivered });
        }
    };
    // The handler runs in its own task: a panic there becomes a FAILED answer.
    let task = tokio::spawn(work(request.clone()));
    let abort = task.abort_handle();
    let outcome = match tokio::time::timeout(budget, task).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(join)) => Err(format!("the provider failed unexpectedly: {join}")),
        Err(_) => {
            abort.abort();
            Err(format!(
                "the provider did not finish within its time limit ({} s left before the \
                 function's timeout); see its log group, then retry",
                SAFETY_MARGIN.as_secs()
            ))
        }
    };
    let response = match outcome {
        Ok(data) => Response::success(&request, data),
        Err(reason) => Response::failed(&request, &reason),
    };
    let url = request.common().response_url.clone();
    let delivered = responder.send(&url, response.to_body()).await;
    Some(Answered { url, response, delivered })
}

/// The time left until `deadline_ms` (milliseconds since the Unix epoch, as in the Lambda
/// context) minus [`SAFETY_MARGIN`]; zero when that is already past.
pub fn budget_until(deadline_ms: u64, now: std::time::SystemTime) -> Duration {
    let deadline = std::time::UNIX_EPOCH + Duration::from_millis(deadline_ms);
    deadline.duration_since(now).unwrap_or_default().saturating_sub(SAFETY_MARGIN)
}

/// The partition (`aws`, `aws-cn`, `aws-us-gov`, ...) of an ARN such as the request's
/// `StackId`; `aws` when the ARN has none.
pub fn partition_of(arn: &str) -> &str {
    let mut parts = arn.split(':');
    match (parts.next(), parts.next()) {
        (Some("arn"), Some(partition)) if !partition.is_empty() => partition,
        _ => "aws",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_and_partitions() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(budget_until(1_060_000, now), Duration::from_secs(55));
        assert_eq!(budget_until(1_003_000, now), Duration::ZERO);
        assert_eq!(budget_until(0, now), Duration::ZERO);
        assert_eq!(partition_of("arn:aws-cn:cloudformation:x"), "aws-cn");
        assert_eq!(partition_of("nonsense"), "aws");
    }
}
