//! AppStream `CreateStreamingURL` over the AWS SDK: the [`StreamingUrls`] trait of
//! `crate::deploy::connect`. The client is built from the session's configuration, so the call
//! has the connect and call timeouts of every other call.
//!
//! The answer of a successful call holds the URL: it is never quoted in a message, not even
//! when the SDK cannot read it (an error message quotes the body of an unreadable answer only
//! for HTTP statuses that are not a success).

use aws_sdk_appstream::error::{ProvideErrorMetadata, SdkError};

use super::error::examine;
use crate::deploy::connect::{Request, StreamingUrl, StreamingUrls, UrlCallError, UrlFailureKind};

/// The AppStream adapter.
#[derive(Debug, Clone)]
pub struct AppStream {
    client: aws_sdk_appstream::Client,
    endpoint: String,
}

impl AppStream {
    /// The adapter over `client`, whose calls go to `endpoint` (named in transport errors).
    #[must_use]
    pub fn with_endpoint(client: aws_sdk_appstream::Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }
}

/// Examines a failed `CreateStreamingURL` without ever quoting the body of a successful HTTP
/// status.
fn failure<E>(endpoint: &str, e: &SdkError<E>) -> UrlCallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    if let Some(status) = e.raw_response().map(|r| r.status()).filter(|s| s.is_success()) {
        return UrlCallError {
            kind: UrlFailureKind::NoUrl,
            message: format!(
                "{endpoint} answered HTTP {} with a body that is not a CreateStreamingURL answer (not shown: it may hold a URL)",
                status.as_u16()
            ),
        };
    }
    let f = examine("AppStream", "CreateStreamingURL", endpoint, e);
    let kind = match f.code.as_deref() {
        Some("ResourceNotFoundException") => UrlFailureKind::NotFound,
        Some("ResourceNotAvailableException") => UrlFailureKind::NotAvailable,
        Some("OperationNotPermittedException") => UrlFailureKind::NotPermitted,
        Some("InvalidParameterCombinationException" | "ValidationException") => UrlFailureKind::InvalidRequest,
        Some(code) if code.starts_with("AccessDenied") => UrlFailureKind::AccessDenied,
        _ => UrlFailureKind::Other,
    };
    UrlCallError { kind, message: f.describe() }
}

impl StreamingUrls for AppStream {
    async fn create_streaming_url(&self, request: &Request) -> Result<StreamingUrl, UrlCallError> {
        let validity = i64::try_from(request.validity_seconds).unwrap_or(i64::MAX);
        let out = self
            .client
            .create_streaming_url()
            .stack_name(&request.stack_name)
            .fleet_name(&request.fleet_name)
            .user_id(&request.user_id)
            .validity(validity)
            .set_application_id(request.application_id.clone())
            .send()
            .await
            .map_err(|e| failure(&self.endpoint, &e))?;
        Ok(StreamingUrl::new(out.streaming_url().unwrap_or_default().to_string(), out.expires().map(|t| t.secs())))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    //! `CreateStreamingURL` against scripted SDK answers (aws-smithy-mocks): the request as
    //! sent, and every refusal turned into a message naming the stack and the fleet.
    use std::time::Duration;

    use aws_sdk_appstream::error::ErrorMetadata;
    use aws_sdk_appstream::operation::create_streaming_url::{CreateStreamingURLError, CreateStreamingUrlOutput};
    use aws_sdk_appstream::primitives::DateTime;
    use aws_smithy_mocks::{mock, Rule, RuleMode};

    use super::AppStream;
    use crate::deploy::connect::{connect, ConnectError, Request, UrlFailureKind};
    use crate::deploy::preflight::Place;

    const URL: &str = "https://appstream2.us-east-1.aws.amazon.com/authenticate?parameters=SECRETTOKEN";

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    /// AppStream answering from `rules`, one attempt per call.
    fn mocked(rules: &[&Rule]) -> AppStream {
        let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = aws_sdk_appstream::Config::builder()
            .behavior_version(aws_sdk_appstream::config::BehaviorVersion::latest())
            .region(aws_sdk_appstream::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_appstream::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(
                aws_sdk_appstream::config::retry::RetryConfig::standard()
                    .with_max_attempts(1)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        AppStream::with_endpoint(aws_sdk_appstream::Client::from_conf(config), "https://appstream2.test".into())
    }

    fn request(application: Option<&str>) -> Request {
        Request {
            stack_name: "team-stack".into(),
            fleet_name: "team-on-demand".into(),
            user_id: "alice@example.org".into(),
            validity_seconds: 600,
            application_id: application.map(str::to_string),
            notes: Vec::new(),
        }
    }

    fn place() -> Place {
        Place::new("123456789012", "us-east-1")
    }

    fn refused(code: &'static str, message: &'static str) -> (ConnectError, String) {
        let rule = mock!(aws_sdk_appstream::Client::create_streaming_url).then_error(move || {
            CreateStreamingURLError::generic(ErrorMetadata::builder().code(code).message(message).build())
        });
        let e = run(connect(&mocked(&[&rule]), &request(None), &place())).expect_err("refused");
        let text = e.to_string();
        (e, text)
    }

    #[test]
    fn the_request_names_the_stack_the_fleet_the_user_the_validity_and_the_application() {
        let rule = mock!(aws_sdk_appstream::Client::create_streaming_url)
            .match_requests(|r| {
                r.stack_name() == Some("team-stack")
                    && r.fleet_name() == Some("team-on-demand")
                    && r.user_id() == Some("alice@example.org")
                    && r.validity() == Some(600)
                    && r.application_id() == Some("Desktop")
                    && r.session_context().is_none()
            })
            .then_output(|| {
                CreateStreamingUrlOutput::builder()
                    .streaming_url(URL)
                    .expires(DateTime::from_secs(1_796_000_000))
                    .build()
            });
        let url = run(connect(&mocked(&[&rule]), &request(Some("Desktop")), &place())).expect("a URL");
        assert_eq!((url.expose(), url.expires_epoch_seconds), (URL, Some(1_796_000_000)));
        assert_eq!(rule.num_calls(), 1);

        // Without --application, no ApplicationId at all.
        let rule = mock!(aws_sdk_appstream::Client::create_streaming_url)
            .match_requests(|r| r.application_id().is_none() && r.validity() == Some(600))
            .then_output(|| CreateStreamingUrlOutput::builder().streaming_url(URL).build());
        let url = run(connect(&mocked(&[&rule]), &request(None), &place())).expect("a URL");
        assert_eq!((url.expose(), url.expires_epoch_seconds), (URL, None));
    }

    #[test]
    fn every_refusal_names_the_stack_and_the_fleet_and_what_to_do() {
        let (e, text) = refused("ResourceNotFoundException", "The stack team-stack was not found.");
        assert_eq!(e.kind, UrlFailureKind::NotFound);
        assert!(
            text.contains("no stack team-stack or no fleet team-on-demand in account 123456789012, us-east-1")
                && text.contains("ResourceNotFoundException: The stack team-stack was not found.")
                && text.contains("sandboxc apply")
                && text.contains("fleet_type"),
            "{text}"
        );
        let (e, text) = refused("ResourceNotAvailableException", "The fleet team-on-demand is not running.");
        assert_eq!(e.kind, UrlFailureKind::NotAvailable);
        assert!(
            text.contains("fleet team-on-demand exists but is not available")
                && text.contains("aws appstream start-fleet --name team-on-demand --region us-east-1"),
            "{text}"
        );
        let (e, text) = refused("OperationNotPermittedException", "not associated");
        assert_eq!(e.kind, UrlFailureKind::NotPermitted);
        assert!(text.contains("list-associated-fleets --stack-name team-stack"), "{text}");
        let (e, text) = refused("InvalidParameterCombinationException", "bad user");
        assert_eq!(e.kind, UrlFailureKind::InvalidRequest);
        assert!(text.contains("InvalidParameterCombinationException: bad user") && text.contains("--user"), "{text}");
        let (e, text) = refused("ValidationException", "1 validation error detected: Value at 'userId'");
        assert_eq!(e.kind, UrlFailureKind::InvalidRequest);
        assert!(text.contains("Value at 'userId'"), "{text}");
        let (e, text) = refused("AccessDeniedException", "User: arn:aws:iam::123456789012:user/x is not authorized");
        assert_eq!(e.kind, UrlFailureKind::AccessDenied);
        assert!(
            text.contains("appstream:CreateStreamingURL on arn:aws:appstream:us-east-1:123456789012:stack/team-stack and arn:aws:appstream:us-east-1:123456789012:fleet/team-on-demand")
                && text.contains("is not authorized"),
            "{text}"
        );
        let (e, text) = refused("ThrottlingException", "slow down");
        assert_eq!(e.kind, UrlFailureKind::Other);
        assert!(
            text.contains("stack team-stack and fleet team-on-demand failed: ThrottlingException: slow down"),
            "{text}"
        );
    }

    #[test]
    fn an_answer_without_a_usable_url_is_refused_without_showing_it() {
        let rule = mock!(aws_sdk_appstream::Client::create_streaming_url)
            .then_output(|| CreateStreamingUrlOutput::builder().build());
        let e = run(connect(&mocked(&[&rule]), &request(None), &place())).expect_err("no URL");
        assert_eq!(e.kind, UrlFailureKind::NoUrl);
        assert!(e.to_string().contains("has no StreamingURL"), "{e}");
        let rule = mock!(aws_sdk_appstream::Client::create_streaming_url)
            .then_output(|| CreateStreamingUrlOutput::builder().streaming_url("http://plain/SECRETTOKEN").build());
        let e = run(connect(&mocked(&[&rule]), &request(None), &place())).expect_err("not https");
        assert!(e.to_string().contains("not an https:// URL") && !e.to_string().contains("SECRETTOKEN"), "{e}");
        // A successful status whose body the SDK cannot read: never quoted (it may be the URL).
        let rule = mock!(aws_sdk_appstream::Client::create_streaming_url).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(200).unwrap(),
                aws_smithy_types::body::SdkBody::from(format!("{{\"StreamingURL\": \"{URL}\"")),
            )
        });
        let e = run(connect(&mocked(&[&rule]), &request(None), &place())).expect_err("unreadable");
        let text = format!("{e} {e:?}");
        assert!(!text.contains("SECRETTOKEN") && text.contains("not shown: it may hold a URL"), "{text}");
    }
}
