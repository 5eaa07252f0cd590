//! The AWS adapters against scripted SDK answers (aws-smithy-mocks) and against local
//! endpoints on loopback: statuses parsed at the edge, paging, error classification (also
//! when the SDK cannot parse an answer), throttling retried, and timeouts that name the
//! endpoint and the call. The stack lifecycle itself is tested against an in-memory
//! CloudFormation (tests/apply_scripted.rs).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::create_change_set::{CreateChangeSetError, CreateChangeSetOutput};
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::{DescribeStackEventsError, DescribeStackEventsOutput};
use aws_sdk_cloudformation::operation::describe_stacks::{DescribeStacksError, DescribeStacksOutput};
use aws_sdk_cloudformation::operation::execute_change_set::ExecuteChangeSetError;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction as SdkChangeAction, ChangeSetStatus as SdkChangeSetStatus, ChangeType, Replacement,
    ResourceChange, ResourceStatus as SdkResourceStatus, Stack, StackEvent, StackResourceSummary,
    StackStatus as SdkStackStatus,
};
use aws_smithy_mocks::{mock, Rule, RuleMode};

use super::cloudformation::Cfn;
use super::s3::S3;
use super::Timeouts;
use crate::deploy::assets::AssetStore;
use crate::deploy::cloudformation::{CfnError, ChangeSetKind, ChangeSetRequest, CloudFormation, TemplateSource};
use crate::deploy::status::{ChangeSetStatus, ResourceStatus, StackStatus};
use crate::plan::refine::{ChangeAction, ChangeReplacement};

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny/1";

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// CloudFormation answering from `rules` (any matching rule), retrying 3 times with 1 ms backoff.
fn mocked(rules: &[&Rule]) -> Cfn {
    let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .retry_config(
            aws_sdk_cloudformation::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    Cfn::new(aws_sdk_cloudformation::Client::from_conf(config))
}

/// CloudFormation at `endpoint` (loopback), with `timeouts` and one attempt per call.
fn cfn_at(endpoint: &str, timeouts: Timeouts) -> Cfn {
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
        .endpoint_url(endpoint)
        .timeout_config(timeouts.config())
        .retry_config(aws_sdk_cloudformation::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    Cfn::with_endpoint(aws_sdk_cloudformation::Client::from_conf(config), endpoint.to_string())
}

fn stack(status: &str) -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(
            Stack::builder()
                .stack_name("tiny")
                .stack_id(STACK_ID)
                .stack_status(SdkStackStatus::from(status))
                .creation_time(DateTime::from_secs(0))
                .build(),
        )
        .build()
}

fn error(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

fn request() -> ChangeSetRequest {
    ChangeSetRequest {
        stack_name: "tiny".into(),
        change_set_name: "sandboxc-apply-1".into(),
        template: TemplateSource::Body("{}".into()),
        tags: vec![("owner".into(), "alice".into())],
        description: "sandboxc apply".into(),
        parameters: vec![("AssetsBucket".into(), Some("assets".into())), ("Other".into(), None)],
        kind: ChangeSetKind::Create,
    }
}

// ---- statuses parsed at the edge ------------------------------------------------------------

#[test]
fn statuses_are_parsed_at_the_edge() {
    let stacks = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .sequence()
        .output(|| stack("UPDATE_ROLLBACK_COMPLETE"))
        .output(|| stack("SOMETHING_NEW"))
        .build();
    let events = mock!(aws_sdk_cloudformation::Client::describe_stack_events).then_output(|| {
        DescribeStackEventsOutput::builder()
            .stack_events(
                StackEvent::builder()
                    .event_id("e1")
                    .stack_id(STACK_ID)
                    .stack_name("tiny")
                    .logical_resource_id("tiny")
                    .resource_type("AWS::CloudFormation::Stack")
                    .resource_status(SdkResourceStatus::from("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
                    .timestamp(DateTime::from_millis(1_764_400_000_000))
                    .build(),
            )
            .next_token("older")
            .build()
    });
    let cfn = mocked(&[&stacks, &events]);
    let info = run(cfn.describe_stack("tiny")).unwrap();
    assert_eq!((info.status, info.stack_id.as_str()), (StackStatus::UpdateRollbackComplete, STACK_ID));
    assert_eq!(run(cfn.describe_stack("tiny")).unwrap().status, StackStatus::Other("SOMETHING_NEW".into()));
    let page = run(cfn.events_page(STACK_ID, None)).unwrap();
    assert_eq!(page.next_token.as_deref(), Some("older"));
    assert_eq!(page.events[0].status, ResourceStatus::UpdateCompleteCleanupInProgress);
    assert_eq!(page.events[0].status.stack_status(), StackStatus::UpdateCompleteCleanupInProgress);
    assert_eq!(page.events[0].timestamp_ms, 1_764_400_000_000);
}

// ---- paging ------------------------------------------------------------------------------------

#[test]
fn listings_read_every_page() {
    let summary = |id: &str| {
        StackResourceSummary::builder()
            .logical_resource_id(id)
            .physical_resource_id(format!("{id}-physical"))
            .resource_type("AWS::CloudFormation::Stack")
            .resource_status(SdkResourceStatus::CreateComplete)
            .last_updated_timestamp(DateTime::from_secs(0))
            .build()
    };
    let resources = mock!(aws_sdk_cloudformation::Client::list_stack_resources)
        .sequence()
        .output(move || {
            ListStackResourcesOutput::builder()
                .stack_resource_summaries(summary("NetworkNestedStack"))
                .next_token("2")
                .build()
        })
        .output(move || {
            ListStackResourcesOutput::builder().stack_resource_summaries(summary("StorageNestedStack")).build()
        })
        .build();
    let change = |id: &str| {
        Change::builder()
            .r#type(ChangeType::Resource)
            .resource_change(
                ResourceChange::builder()
                    .action(SdkChangeAction::Modify)
                    .logical_resource_id(id)
                    .resource_type("AWS::S3::Bucket")
                    .replacement(Replacement::Conditional)
                    .build(),
            )
            .build()
    };
    let described = mock!(aws_sdk_cloudformation::Client::describe_change_set)
        .sequence()
        .output(move || {
            DescribeChangeSetOutput::builder()
                .status(SdkChangeSetStatus::CreateComplete)
                .changes(change("A"))
                .next_token("2")
                .build()
        })
        .output(move || {
            DescribeChangeSetOutput::builder()
                .status(SdkChangeSetStatus::CreateComplete)
                .creation_time(DateTime::from_millis(5))
                .changes(change("B"))
                .build()
        })
        .build();
    let cfn = mocked(&[&resources, &described]);
    let listed = run(crate::deploy::cloudformation::nested_stacks(&cfn, STACK_ID)).unwrap();
    assert_eq!(
        listed.iter().map(|n| n.logical_id.as_str()).collect::<Vec<_>>(),
        ["NetworkNestedStack", "StorageNestedStack"]
    );
    assert_eq!(resources.num_calls(), 2);
    let state = run(cfn.describe_change_set("cs")).unwrap();
    assert_eq!((state.status, state.created_ms), (ChangeSetStatus::CreateComplete, 5));
    let facts: Vec<_> =
        state.changes.iter().map(|(f, _)| (f.logical_id.as_str(), f.action.clone(), f.replacement)).collect();
    assert_eq!(
        facts,
        [
            ("A", ChangeAction::Modify, Some(ChangeReplacement::Conditional)),
            ("B", ChangeAction::Modify, Some(ChangeReplacement::Conditional))
        ]
    );
}

// ---- what CreateChangeSet sends ------------------------------------------------------------

#[test]
fn change_sets_include_nested_stacks_and_the_capabilities() {
    let create = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .match_requests(|r| {
            let caps: Vec<&str> = r.capabilities().iter().map(|c| c.as_str()).collect();
            let params: Vec<(Option<&str>, Option<&str>, Option<bool>)> = r
                .parameters()
                .iter()
                .map(|p| (p.parameter_key(), p.parameter_value(), p.use_previous_value()))
                .collect();
            r.include_nested_stacks() == Some(true)
                && caps == ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
                && r.change_set_type() == Some(&aws_sdk_cloudformation::types::ChangeSetType::Create)
                && r.template_body() == Some("{}")
                && r.template_url().is_none()
                && params == [(Some("AssetsBucket"), Some("assets"), None), (Some("Other"), None, Some(true))]
                && r.tags().iter().any(|t| t.key() == Some("owner") && t.value() == Some("alice"))
        })
        .then_output(|| CreateChangeSetOutput::builder().id("arn:cs").build());
    let cfn = mocked(&[&create]);
    assert_eq!(run(cfn.create_change_set(&request())).unwrap(), "arn:cs");
    let by_url = ChangeSetRequest { template: TemplateSource::Url("https://b.s3.amazonaws.com/k".into()), ..request() };
    let url = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .match_requests(|r| r.template_url() == Some("https://b.s3.amazonaws.com/k") && r.template_body().is_none())
        .then_output(|| CreateChangeSetOutput::builder().id("arn:cs2").build());
    assert_eq!(run(mocked(&[&url]).create_change_set(&by_url)).unwrap(), "arn:cs2");
}

// ---- errors ------------------------------------------------------------------------------------

#[test]
fn errors_are_classified() {
    let missing = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .then_error(|| DescribeStacksError::generic(error("ValidationError", "Stack with id tiny does not exist")));
    assert_eq!(run(mocked(&[&missing]).describe_stack("tiny")), Err(CfnError::NotFound { stack: "tiny".into() }));

    let no_updates = mock!(aws_sdk_cloudformation::Client::create_change_set)
        .then_error(|| CreateChangeSetError::generic(error("ValidationError", "No updates are to be performed.")));
    assert_eq!(run(mocked(&[&no_updates]).create_change_set(&request())), Err(CfnError::NoUpdates));

    let denied = mock!(aws_sdk_cloudformation::Client::describe_stacks).then_error(|| {
        DescribeStacksError::generic(error(
            "AccessDenied",
            "User: x is not authorized to perform: cloudformation:DescribeStacks",
        ))
    });
    let e = run(mocked(&[&denied]).describe_stack("tiny")).unwrap_err();
    assert!(matches!(e, CfnError::AccessDenied { api: "DescribeStacks", .. }), "{e:?}");
    assert!(
        e.to_string().contains("AWS denied DescribeStacks") && e.to_string().contains("cloudformation:DescribeStacks")
    );

    let racing = mock!(aws_sdk_cloudformation::Client::execute_change_set).then_error(|| {
        ExecuteChangeSetError::generic(error(
            "ValidationError",
            &format!("Stack:{STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated."),
        ))
    });
    let e = run(mocked(&[&racing]).execute_change_set("cs")).unwrap_err();
    assert!(matches!(e, CfnError::Conflict { api: "ExecuteChangeSet", .. }), "{e:?}");
    assert!(e.to_string().contains("UPDATE_IN_PROGRESS state"), "{e}");

    let other = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .then_error(|| DescribeStacksError::generic(error("ValidationError", "Template format error")));
    let e = run(mocked(&[&other]).describe_stack("tiny")).unwrap_err();
    assert_eq!(e, CfnError::Call { api: "DescribeStacks", message: "ValidationError: Template format error".into() });
}

#[test]
fn throttling_is_retried() {
    let stacks = mock!(aws_sdk_cloudformation::Client::describe_stacks)
        .sequence()
        .error(|| DescribeStacksError::generic(error("Throttling", "Rate exceeded")))
        .output(|| stack("CREATE_COMPLETE"))
        .build();
    let events = mock!(aws_sdk_cloudformation::Client::describe_stack_events)
        .sequence()
        .error(|| DescribeStackEventsError::generic(error("Throttling", "Rate exceeded")))
        .output(|| DescribeStackEventsOutput::builder().build())
        .build();
    let cfn = mocked(&[&stacks, &events]);
    assert_eq!(run(cfn.describe_stack("tiny")).unwrap().status, StackStatus::CreateComplete);
    assert_eq!(stacks.num_calls(), 2, "one throttled attempt, one retry");
    assert!(run(cfn.events_page(STACK_ID, None)).unwrap().events.is_empty());
    assert_eq!(events.num_calls(), 2);
}

/// A loopback endpoint answering every request with `status` and `body` (and `headers`).
fn answering(status: u16, headers: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            read_request(&mut conn);
            let answer = format!(
                "HTTP/1.1 {status} Answer\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Reads one HTTP request: the head, then `Content-Length` bytes.
fn read_request(conn: &mut TcpStream) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = conn.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        data.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&data).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return;
            }
        }
    }
}

#[test]
fn an_error_answer_the_sdk_cannot_parse_shows_its_code_and_message() {
    // An emulator answering CloudFormation's query protocol in JSON: the SDK's XML parser fails
    // ("error parsing XML: no root element"); the raw body still says what happened.
    let endpoint = answering(
        400,
        "Content-Type: application/json\r\n",
        r#"{"__type":"com.amazonaws.cloudformation#ResourceAlreadyExistsException","message":"Stack [tiny] already exists"}"#,
    );
    let e = run(cfn_at(&endpoint, Timeouts::default()).create_change_set(&request())).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("ResourceAlreadyExistsException: Stack [tiny] already exists"), "{text}");
    assert!(!text.contains("error parsing XML"), "{text}");

    // No code anywhere: what came back, and that it is not CloudFormation's answer.
    let endpoint = answering(502, "Content-Type: text/html\r\n", "<html>Bad Gateway</html>");
    let e = run(cfn_at(&endpoint, Timeouts::default()).describe_stack("tiny")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("did not answer DescribeStacks like CloudFormation does")
            && text.contains("HTTP 502")
            && text.contains("Bad Gateway")
            && text.contains(&endpoint),
        "{text}"
    );

    // The code in a header only (x-amzn-query-error: Code;Sender).
    let endpoint = answering(400, "x-amzn-query-error: AlreadyExistsException;Sender\r\n", "");
    let e = run(cfn_at(&endpoint, Timeouts::default()).create_change_set(&request())).unwrap_err();
    assert!(e.to_string().contains("AlreadyExistsException"), "{e}");
}

// ---- timeouts ----------------------------------------------------------------------------------

/// A loopback endpoint that accepts every connection and never answers.
fn silent() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_silent_endpoint_fails_the_call_naming_the_endpoint_and_the_call() {
    let endpoint = silent();
    let short = Timeouts { connect: Duration::from_secs(1), call: Duration::from_secs(2) };
    let e = run(cfn_at(&endpoint, short).describe_stack("tiny")).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, CfnError::Call { api: "DescribeStacks", .. }), "{e:?}");
    assert!(
        text.contains(&format!("no answer from {endpoint} to CloudFormation DescribeStacks in time"))
            && text.contains("--call-timeout"),
        "{text}"
    );

    let s3 = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
        .endpoint_url(&endpoint)
        .force_path_style(true)
        .timeout_config(short.config())
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    let s3 = S3::with_endpoint(aws_sdk_s3::Client::from_conf(s3), endpoint.clone());
    let e = run(s3.object_size("assets", "templates/x.json")).unwrap_err();
    assert!(
        e.code.is_none() && e.message.contains(&format!("no answer from {endpoint} to S3 HeadObject in time")),
        "{e}"
    );
}

#[test]
fn timeouts_reach_the_sdk_configuration() {
    let t = Timeouts::default().config();
    assert_eq!(t.connect_timeout(), Some(Duration::from_secs(Timeouts::DEFAULT_CONNECT_SECONDS)));
    assert_eq!(t.operation_timeout(), Some(Duration::from_secs(60)));
    assert_eq!(t.operation_attempt_timeout(), Some(Duration::from_secs(30)));
}

// ---- S3 ----------------------------------------------------------------------------------------

#[test]
fn s3_not_found_is_an_answer_not_an_error() {
    let endpoint = answering(404, "", "");
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
        .endpoint_url(&endpoint)
        .force_path_style(true)
        .build();
    let s3 = S3::with_endpoint(aws_sdk_s3::Client::from_conf(config), endpoint);
    assert_eq!(run(s3.object_size("assets", "k")), Ok(None));
    assert_eq!(run(s3.bucket_exists("appstream2-36fb080bb8-us-east-1-123456789012")), Ok(false));
    let denied = answering(
        403,
        "Content-Type: application/xml\r\n",
        "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
    );
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
        .endpoint_url(&denied)
        .force_path_style(true)
        .build();
    let s3 = S3::with_endpoint(aws_sdk_s3::Client::from_conf(config), denied);
    let e = run(s3.put_object("assets", "k", b"x".to_vec(), "application/json")).unwrap_err();
    assert_eq!((e.code.as_deref(), e.message.as_str()), (Some("AccessDenied"), "Access Denied"));
}

// ---- EC2 ---------------------------------------------------------------------------------------

/// EC2 answering from `rules` (any matching rule), one attempt per call.
fn mocked_ec2(rules: &[&Rule]) -> super::ec2::Ec2 {
    let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
        .region(aws_sdk_ec2::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new("AKIDTEST", "secret", None, None, "t"))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .retry_config(aws_sdk_ec2::config::retry::RetryConfig::standard().with_max_attempts(1))
        .build();
    super::ec2::Ec2::new(aws_sdk_ec2::Client::from_conf(config))
}

#[test]
fn the_s3_prefix_list_is_found_by_its_name() {
    use crate::deploy::network::PrefixLists;
    use aws_sdk_ec2::operation::describe_prefix_lists::{DescribePrefixListsError, DescribePrefixListsOutput};
    use aws_sdk_ec2::types::PrefixList;

    // Only a request filtered on exactly that name gets the list.
    let found = mock!(aws_sdk_ec2::Client::describe_prefix_lists)
        .match_requests(|r| {
            r.filters().iter().any(|f| {
                f.name() == Some("prefix-list-name") && f.values() == ["com.amazonaws.us-east-1.s3".to_string()]
            })
        })
        .then_output(|| {
            DescribePrefixListsOutput::builder()
                .prefix_lists(
                    PrefixList::builder()
                        .prefix_list_id("pl-63a5400a")
                        .prefix_list_name("com.amazonaws.us-east-1.s3")
                        .cidrs("54.231.0.0/17")
                        .build(),
                )
                .build()
        });
    let ec2 = mocked_ec2(&[&found]);
    assert_eq!(run(ec2.prefix_list_id("com.amazonaws.us-east-1.s3")), Ok(Some("pl-63a5400a".into())));

    let none =
        mock!(aws_sdk_ec2::Client::describe_prefix_lists).then_output(|| DescribePrefixListsOutput::builder().build());
    assert_eq!(run(mocked_ec2(&[&none]).prefix_list_id("com.amazonaws.us-east-1.s3")), Ok(None));

    let denied = mock!(aws_sdk_ec2::Client::describe_prefix_lists).then_error(|| {
        DescribePrefixListsError::generic(
            aws_sdk_ec2::error::ErrorMetadata::builder()
                .code("UnauthorizedOperation")
                .message("You are not authorized to perform this operation.")
                .build(),
        )
    });
    let e = run(mocked_ec2(&[&denied]).prefix_list_id("com.amazonaws.us-east-1.s3")).unwrap_err();
    assert_eq!(e.code.as_deref(), Some("UnauthorizedOperation"));
    assert!(e.to_string().contains("not authorized"), "{e}");
}

mod logs_pages {
    use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
    use aws_sdk_cloudwatchlogs::operation::filter_log_events::{FilterLogEventsError, FilterLogEventsOutput};
    use aws_sdk_cloudwatchlogs::types::{FilteredLogEvent, LogGroup};
    use aws_smithy_mocks::{mock, Rule, RuleMode};

    use super::super::logs::{Logs, PagedEvents};

    fn mocked(rules: &[&Rule]) -> Logs {
        let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::Sequential);
        for rule in rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudwatchlogs::config::Credentials::new(
                "AKIDTEST", "secret", None, None, "t",
            ))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .build();
        Logs::with_endpoint(aws_sdk_cloudwatchlogs::Client::from_conf(config), "https://logs.example".into())
    }

    fn event(ts: i64, message: &str) -> FilteredLogEvent {
        FilteredLogEvent::builder().timestamp(ts).message(message).build()
    }

    fn page(events: Vec<FilteredLogEvent>, next: Option<&str>) -> FilterLogEventsOutput {
        FilterLogEventsOutput::builder().set_events(Some(events)).set_next_token(next.map(String::from)).build()
    }

    /// Three pages (the middle one empty but with a token): every event is read, in order,
    /// each request bounded by the window and carrying the previous page's token.
    #[test]
    fn every_page_is_read_within_the_window() {
        let first = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
            .match_requests(|r| {
                r.log_group_name() == Some("/sandboxc/e/1/lambda/validator")
                    && r.start_time() == Some(1_000)
                    && r.end_time() == Some(2_000)
                    && r.next_token().is_none()
            })
            .then_output(|| {
                page(vec![event(1_100, "{\"outcome\":\"issued\"}\n"), event(1_200, "START x")], Some("t1"))
            });
        let second = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
            .match_requests(|r| r.next_token() == Some("t1"))
            .then_output(|| page(vec![], Some("t2")));
        let third = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
            .match_requests(|r| r.next_token() == Some("t2") && r.start_time() == Some(1_000))
            .then_output(|| page(vec![event(1_900, "{\"outcome\":\"rejected\",\"reason\":\"x\"}")], None));
        let logs = mocked(&[&first, &second, &third]);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut reader = PagedEvents::new(&logs, &runtime, "/sandboxc/e/1/lambda/validator", 1_000, 2_000);
        let mut text = String::new();
        std::io::Read::read_to_string(&mut reader, &mut text).unwrap();
        assert_eq!(reader.pages(), 3);
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["timestamp"], 1_100);
        assert_eq!(lines[0]["message"], "{\"outcome\":\"issued\"}\n");
        assert_eq!(lines[2]["timestamp"], 1_900);
        assert_eq!(first.num_calls() + second.num_calls() + third.num_calls(), 3);
    }

    /// A failed page is an I/O error naming the call, the group and what to do.
    #[test]
    fn a_missing_group_is_explained() {
        let missing = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_error(|| {
            FilterLogEventsError::ResourceNotFoundException(
                aws_sdk_cloudwatchlogs::types::error::ResourceNotFoundException::builder()
                    .message("The specified log group does not exist.")
                    .meta(
                        aws_sdk_cloudwatchlogs::error::ErrorMetadata::builder()
                            .code("ResourceNotFoundException")
                            .message("The specified log group does not exist.")
                            .build(),
                    )
                    .build(),
            )
        });
        let logs = mocked(&[&missing]);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut reader = PagedEvents::new(&logs, &runtime, "/g", 0, 1);
        let err = std::io::Read::read_to_end(&mut reader, &mut Vec::new()).unwrap_err().to_string();
        assert!(err.contains("FilterLogEvents (/g)") && err.contains("pass --decisions"), "{err}");
    }

    /// The validator's groups are found by prefix and suffix over every page, sorted.
    #[test]
    fn validator_groups_are_found_by_name() {
        let group = |n: &str| LogGroup::builder().log_group_name(n).build();
        let one = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
            .match_requests(|r| r.log_group_name_prefix() == Some("/sandboxc/e/") && r.next_token().is_none())
            .then_output(move || {
                DescribeLogGroupsOutput::builder()
                    .log_groups(group("/sandboxc/e/2/lambda/validator"))
                    .log_groups(group("/sandboxc/e/2/trail"))
                    .next_token("n")
                    .build()
            });
        let two = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
            .match_requests(|r| r.next_token() == Some("n"))
            .then_output(move || {
                DescribeLogGroupsOutput::builder().log_groups(group("/sandboxc/e/1/lambda/validator")).build()
            });
        let logs = mocked(&[&one, &two]);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let found = runtime.block_on(logs.groups("/sandboxc/e/", "/lambda/validator")).unwrap();
        assert_eq!(found, vec!["/sandboxc/e/1/lambda/validator", "/sandboxc/e/2/lambda/validator"]);
    }
}

/// `audit --engine athena`: the query's flow against scripted Athena answers.
mod athena_flow {
    use std::time::Duration;

    use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
    use aws_sdk_athena::operation::start_query_execution::{StartQueryExecutionError, StartQueryExecutionOutput};
    use aws_sdk_athena::types::{Datum, QueryExecutionState, ResultSet, Row};
    use aws_smithy_mocks::{mock, Rule};

    use super::super::athena::Athena;
    use crate::audit::athena::{run, Polling, Progress, QueryError, QueryOutcome};
    use crate::audit::athena_sql::COLUMNS;

    fn mocked(rules: &[&Rule]) -> Athena {
        Athena::scripted(rules)
    }

    fn started() -> Rule {
        mock!(aws_sdk_athena::Client::start_query_execution)
            .match_requests(|r| r.work_group() == Some("sandboxc-e-audit") && r.query_string() == Some("SELECT 1"))
            .then_output(|| StartQueryExecutionOutput::builder().query_execution_id("q-1").build())
    }

    fn state(s: QueryExecutionState, reason: Option<&'static str>, bytes: i64) -> Rule {
        Athena::state_rule("q-1", s, reason, bytes)
    }

    fn row(cells: &[Option<&str>]) -> Row {
        Row::builder()
            .set_data(Some(
                cells.iter().map(|c| Datum::builder().set_var_char_value(c.map(String::from)).build()).collect(),
            ))
            .build()
    }

    fn event_row(id: &str) -> Row {
        let mut cells: Vec<Option<&str>> = vec![None; COLUMNS.len()];
        cells[0] = Some("unattributed");
        cells[5] = Some("1795908600000");
        cells[17] = Some(id);
        row(&cells)
    }

    fn page(token_in: Option<&'static str>, rows: Vec<Row>, next: Option<&'static str>) -> Rule {
        mock!(aws_sdk_athena::Client::get_query_results)
            .match_requests(move |r| {
                r.query_execution_id() == Some("q-1") && r.next_token() == token_in && r.max_results() == Some(1000)
            })
            .then_output(move || {
                GetQueryResultsOutput::builder()
                    .result_set(ResultSet::builder().set_rows(Some(rows.clone())).build())
                    .set_next_token(next.map(String::from))
                    .build()
            })
    }

    fn go(athena: &Athena, polling: Polling, limit: Option<u64>) -> (Result<QueryOutcome, QueryError>, Vec<String>) {
        let mut seen = Vec::new();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result =
            runtime.block_on(run(athena, "SELECT 1", &COLUMNS, "sandboxc-e-audit", polling, limit, &mut |p| {
                seen.push(match p {
                    Progress::Started(id) => format!("started {id}"),
                    Progress::Polled(s, secs, bytes) => format!("{s} {secs}s {bytes}"),
                    Progress::Page(n, rows) => format!("page {n} {rows}"),
                });
            }));
        (result, seen)
    }

    fn fast() -> Polling {
        Polling { interval: Duration::from_millis(1), max_polls: 10, max_pages: 100 }
    }

    /// Start, QUEUED, RUNNING, SUCCEEDED, then three pages (the header row on the first one
    /// only): every row in order, with the bytes scanned.
    #[test]
    fn start_poll_and_every_page() {
        let header = row(&COLUMNS.iter().map(|c| Some(*c)).collect::<Vec<_>>());
        let rules = [
            started(),
            state(QueryExecutionState::Queued, None, 0),
            state(QueryExecutionState::Running, None, 1_000),
            state(QueryExecutionState::Succeeded, None, 52_428_800),
            page(None, vec![header, event_row("e1"), event_row("e2")], Some("p2")),
            page(Some("p2"), vec![event_row("e3")], Some("p3")),
            page(Some("p3"), vec![event_row("e4")], None),
        ];
        let athena = mocked(&rules.iter().collect::<Vec<_>>());
        let (result, seen) = go(&athena, fast(), None);
        let outcome = result.unwrap();
        assert_eq!(outcome.query_id, "q-1");
        assert_eq!(outcome.bytes_scanned, 52_428_800);
        let ids: Vec<_> = outcome.rows.iter().map(|r| r[17].clone().unwrap_or_default()).collect();
        assert_eq!(ids, vec!["e1", "e2", "e3", "e4"]);
        assert!(outcome.rows.iter().all(|r| r.len() == COLUMNS.len() && r[1].is_none()), "NULL cells are None");
        assert_eq!(seen, vec!["started q-1", "QUEUED 0s 0", "RUNNING 0s 1000", "page 1 2", "page 2 3", "page 3 4"]);
        assert!(rules.iter().all(|r| r.num_calls() == 1));
    }

    /// FAILED: the reason and the query ID.
    #[test]
    fn a_failed_query_is_explained_with_its_id() {
        let rules = [
            started(),
            state(QueryExecutionState::Failed, Some("SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved"), 0),
        ];
        let athena = mocked(&rules.iter().collect::<Vec<_>>());
        let err = go(&athena, fast(), None).0.unwrap_err();
        assert!(matches!(err, QueryError::Failed { .. }));
        let text = err.to_string();
        assert!(text.contains("q-1") && text.contains("FAILED") && text.contains("cannot be resolved"), "{text}");
    }

    /// CANCELLED by someone: said so, with the query ID.
    #[test]
    fn a_cancelled_query_is_explained() {
        let rules = [
            started(),
            state(QueryExecutionState::Running, None, 0),
            state(QueryExecutionState::Cancelled, Some("Query cancelled by user"), 100),
        ];
        let athena = mocked(&rules.iter().collect::<Vec<_>>());
        let err = go(&athena, fast(), Some(10_485_760)).0.unwrap_err();
        assert!(matches!(err, QueryError::Cancelled { .. }), "{err:?}");
        assert!(err.to_string().contains("q-1") && err.to_string().contains("CANCELLED"));
    }

    /// The workgroup's per-query limit cancels the query: the error names the limit, the bytes
    /// and what to do.
    #[test]
    fn the_bytes_scanned_limit_is_explained() {
        let rules = [
            started(),
            state(QueryExecutionState::Running, None, 5_000_000),
            state(QueryExecutionState::Cancelled, Some("Bytes scanned limit was exceeded"), 10_485_760),
        ];
        let athena = mocked(&rules.iter().collect::<Vec<_>>());
        let err = go(&athena, fast(), Some(10_485_760)).0.unwrap_err();
        assert!(matches!(err, QueryError::LimitExceeded { bytes_scanned: 10_485_760, .. }), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("q-1") && text.contains("bytes_scanned_limit") && text.contains("--since"), "{text}");
        // A cancellation at or beyond the known limit, whatever its reason text.
        let rules = [started(), state(QueryExecutionState::Cancelled, Some("cancelled"), 20_000_000)];
        let athena = mocked(&rules.iter().collect::<Vec<_>>());
        assert!(matches!(go(&athena, fast(), Some(10_485_760)).0, Err(QueryError::LimitExceeded { .. })));
    }

    /// Polling is bounded: a query still running after the last poll is a timeout naming the
    /// query ID and its state.
    #[test]
    fn polling_is_bounded() {
        let rules = [
            started(),
            state(QueryExecutionState::Running, None, 0),
            state(QueryExecutionState::Running, None, 0),
            state(QueryExecutionState::Running, None, 0),
        ];
        let athena = mocked(&rules.iter().collect::<Vec<_>>());
        let polling = Polling { interval: Duration::from_millis(1), max_polls: 2, max_pages: 1 };
        let err = go(&athena, polling, None).0.unwrap_err();
        assert!(matches!(err, QueryError::Timeout { state: "RUNNING", .. }), "{err:?}");
        assert!(err.to_string().contains("q-1"));
    }

    /// A refused start names the workgroup and what to do.
    #[test]
    fn a_refused_start_names_the_workgroup() {
        let denied = mock!(aws_sdk_athena::Client::start_query_execution).then_error(|| {
            StartQueryExecutionError::InvalidRequestException(
                aws_sdk_athena::types::error::InvalidRequestException::builder()
                    .message("WorkGroup is not found.")
                    .meta(
                        aws_sdk_athena::error::ErrorMetadata::builder()
                            .code("InvalidRequestException")
                            .message("WorkGroup is not found.")
                            .build(),
                    )
                    .build(),
            )
        });
        let athena = mocked(&[&denied]);
        let err = go(&athena, fast(), None).0.unwrap_err().to_string();
        assert!(
            err.contains("sandboxc-e-audit") && err.contains("not found") && err.contains("sandboxc apply"),
            "{err}"
        );
    }
}
