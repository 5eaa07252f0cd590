//! The three custom-resource handlers on scripted SDK responses: which AWS writes happen
//! (and which never do), and what CloudFormation is told.

#![allow(clippy::expect_used)]

use crate::support;

use std::sync::{Arc, Mutex};

use aws_sdk_appstream::operation::create_usage_report_subscription::{
    CreateUsageReportSubscriptionError, CreateUsageReportSubscriptionOutput,
};
use aws_sdk_appstream::operation::describe_usage_report_subscriptions::DescribeUsageReportSubscriptionsOutput;
use aws_sdk_appstream::types::error::InvalidAccountStatusException;
use aws_sdk_appstream::types::UsageReportSubscription;
use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
use aws_sdk_iam::types::error::NoSuchEntityException;
use aws_sdk_iam::types::Role;
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::operation::put_bucket_notification_configuration::PutBucketNotificationConfigurationOutput;
use aws_smithy_mocks::{mock, MockResponse};
use sandboxc_lambda::custom_resource::Request;
use sandboxc_lambda::notification::NotificationConfiguration;
use sandboxc_lambda::provider::home_folder::{from_sdk, to_sdk};
use sandboxc_lambda::provider::{dispatch, ProviderClients};
use serde_json::{json, Value};
use support::{http, xml_error};

const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/datasandbox-validator/5b2d1e20-0a1b-11ef-8a2b-0e1f2a3b4c5d";
const HOME: &str = "appstream2-36fb080bb8-us-east-1-123456789012";
const VALIDATOR: &str = "arn:aws:lambda:us-east-1:123456789012:function:datasandbox-validator";

fn request(kind: &str, resource_type: &str, props: Value, old: Option<Value>) -> Request {
    let mut event = json!({
        "RequestType": kind,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
        "ResponseURL": "https://example.invalid/r",
        "StackId": STACK_ID,
        "RequestId": "r-1",
        "ResourceType": resource_type,
        "LogicalResourceId": "HomeFolderNotification",
        "ResourceProperties": props,
    });
    if kind != "Create" {
        event["PhysicalResourceId"] = json!("HomeFolderNotification-8f14e45fceea167a");
    }
    if let Some(old) = old {
        event["OldResourceProperties"] = old;
    }
    serde_json::from_value(event).expect("a request")
}

/// A request of this version (`BucketName` only); `old`: the old properties of an update, with
/// `FunctionArn` when they are an earlier version's.
fn notification(kind: &str, bucket: &str, old: Option<(&str, Option<&str>)>) -> Request {
    let props = |b: &str, f: Option<&str>| match f {
        Some(f) => json!({"ServiceToken": "x", "BucketName": b, "FunctionArn": f}),
        None => json!({"ServiceToken": "x", "BucketName": b}),
    };
    request(kind, "Custom::HomeFolderNotification", props(bucket, None), old.map(|(b, f)| props(b, f)))
}

/// Entries of every kind that are not ours, and EventBridge delivery on.
fn others() -> NotificationConfiguration {
    serde_json::from_value(json!({
        "TopicConfigurations": [{"Id": "audit-topic", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Events": ["s3:ObjectRemoved:*"]}],
        "QueueConfigurations": [{"Id": "scanner", "QueueArn": "arn:aws:sqs:us-east-1:123456789012:q",
            "Events": ["s3:ObjectCreated:Put"],
            "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "user/"}, {"Name": "Suffix", "Value": ".csv"}]}}}],
        "LambdaFunctionConfigurations": [{"Id": "thumbnailer", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:t",
            "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "images/"}]}}}],
        "EventBridgeConfiguration": {}
    }))
    .expect("a configuration")
}

/// [`others`] with EventBridge delivery off.
fn others_without_eventbridge() -> NotificationConfiguration {
    NotificationConfiguration { event_bridge_configuration: None, ..others() }
}

fn with_ours(mut config: NotificationConfiguration, id: &str, function: &str) -> NotificationConfiguration {
    config.lambda_function_configurations.push(sandboxc_lambda::notification::LambdaConfig::ours(id, function));
    config
}

fn get_output(config: &NotificationConfiguration) -> GetBucketNotificationConfigurationOutput {
    let sdk = to_sdk(config).expect("convertible");
    GetBucketNotificationConfigurationOutput::builder()
        .set_topic_configurations(sdk.topic_configurations)
        .set_queue_configurations(sdk.queue_configurations)
        .set_lambda_function_configurations(sdk.lambda_function_configurations)
        .set_event_bridge_configuration(sdk.event_bridge_configuration)
        .build()
}

type Buckets = Arc<Mutex<Vec<(String, Option<NotificationConfiguration>)>>>;
type Writes = Arc<Mutex<Vec<(String, Option<String>, NotificationConfiguration)>>>;

/// An S3 client whose buckets hold the given configurations (`None`: no such bucket);
/// every write is recorded (bucket, expected owner, configuration) and applied.
fn s3(buckets: Vec<(&str, Option<NotificationConfiguration>)>) -> (aws_sdk_s3::Client, Writes) {
    let state: Buckets = Arc::new(Mutex::new(buckets.into_iter().map(|(b, c)| (b.to_owned(), c)).collect()));
    let writes: Writes = Arc::new(Mutex::new(Vec::new()));
    let s = state.clone();
    let get = mock!(aws_sdk_s3::Client::get_bucket_notification_configuration).then_compute_response(move |req| {
        let state = s.lock().expect("lock");
        let found = state.iter().find(|(b, _)| Some(b.as_str()) == req.bucket());
        match found {
            Some((_, Some(config))) => MockResponse::Output(get_output(config)),
            _ => MockResponse::Http(http(404, xml_error("NoSuchBucket", "The specified bucket does not exist"))),
        }
    });
    let (s, w) = (state.clone(), writes.clone());
    let put = mock!(aws_sdk_s3::Client::put_bucket_notification_configuration).then_compute_response(move |req| {
        let bucket = req.bucket().unwrap_or_default().to_owned();
        let sdk = req.notification_configuration().cloned().expect("a configuration");
        let output = GetBucketNotificationConfigurationOutput::builder()
            .set_topic_configurations(sdk.topic_configurations)
            .set_queue_configurations(sdk.queue_configurations)
            .set_lambda_function_configurations(sdk.lambda_function_configurations)
            .set_event_bridge_configuration(sdk.event_bridge_configuration)
            .build();
        let written = from_sdk(&output);
        w.lock().expect("lock").push((bucket.clone(), req.expected_bucket_owner().map(str::to_owned), written.clone()));
        for (b, c) in s.lock().expect("lock").iter_mut() {
            if *b == bucket {
                *c = Some(written.clone());
            }
        }
        MockResponse::Output(PutBucketNotificationConfigurationOutput::builder().build())
    });
    (scripted_client!(aws_sdk_s3, [&get, &put]), writes)
}

fn clients(s3: aws_sdk_s3::Client) -> ProviderClients {
    ProviderClients {
        s3,
        iam: scripted_client!(aws_sdk_iam, Vec::<&aws_smithy_mocks::Rule>::new()),
        appstream: scripted_client!(aws_sdk_appstream, Vec::<&aws_smithy_mocks::Rule>::new()),
    }
}

const ID: &str = "HomeFolderNotification-8f14e45fceea167a";

#[tokio::test]
async fn create_turns_eventbridge_on_and_keeps_every_other_kind() {
    let (s3, writes) = s3(vec![(HOME, Some(others_without_eventbridge()))]);
    let create = notification("Create", HOME, None);
    assert_eq!(dispatch(&clients(s3), &create).await, Ok(None));
    let writes = writes.lock().expect("lock");
    assert_eq!(writes.len(), 1);
    let (bucket, owner, written) = &writes[0];
    assert_eq!((bucket.as_str(), owner.as_deref()), (HOME, Some("123456789012")));
    // The Lambda, queue and topic entries of others are written back as read; only the switch
    // changes.
    assert_eq!(*written, others());
    assert_eq!(written.event_bridge_configuration, Some(serde_json::Map::new()));
}

#[tokio::test]
async fn create_when_eventbridge_is_already_on_writes_nothing() {
    // Another sandbox (or anyone) turned it on before: nothing to change.
    let (s3, writes) = s3(vec![(HOME, Some(others()))]);
    let create = notification("Create", HOME, None);
    let clients = clients(s3);
    assert_eq!(dispatch(&clients, &create).await, Ok(None));
    assert_eq!(dispatch(&clients, &create).await, Ok(None));
    assert!(writes.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn update_from_the_s3_entry_of_earlier_versions_moves_to_eventbridge_in_one_write() {
    let mut before = with_ours(others_without_eventbridge(), ID, VALIDATOR);
    // Ours sits between two other Lambda entries.
    let mut last = before.lambda_function_configurations[0].clone();
    last.id = Some("zz-last".into());
    last.filter = Some(sandboxc_lambda::notification::Filter::prefix_suffix("exports/", ".zip"));
    before.lambda_function_configurations.push(last.clone());
    let (s3, writes) = s3(vec![(HOME, Some(before))]);
    let update = notification("Update", HOME, Some((HOME, Some(VALIDATOR))));
    assert_eq!(dispatch(&clients(s3), &update).await, Ok(None));
    let writes = writes.lock().expect("lock");
    let mut expected = others();
    expected.lambda_function_configurations.push(last);
    assert_eq!(writes.len(), 1, "EventBridge on and our entry gone in the same write");
    assert_eq!(writes[0].2, expected);
}

#[tokio::test]
async fn update_to_another_bucket_removes_ours_there_and_keeps_both_buckets_others() {
    let old_bucket = "appstream2-36fb080bb8-us-east-1-000000000000";
    let (s3, writes) = s3(vec![
        (old_bucket, Some(with_ours(others_without_eventbridge(), ID, VALIDATOR))),
        (HOME, Some(others_without_eventbridge())),
    ]);
    let update = notification("Update", HOME, Some((old_bucket, Some(VALIDATOR))));
    assert_eq!(dispatch(&clients(s3), &update).await, Ok(None));
    let writes = writes.lock().expect("lock");
    let summary: Vec<(&str, &NotificationConfiguration)> = writes.iter().map(|w| (w.0.as_str(), &w.2)).collect();
    assert_eq!(summary, [(old_bucket, &others_without_eventbridge()), (HOME, &others())]);
}

#[tokio::test]
async fn delete_removes_only_ours_and_leaves_eventbridge_on() {
    let (s3, writes) = s3(vec![(HOME, Some(with_ours(others(), ID, VALIDATOR)))]);
    let delete = notification("Delete", HOME, None);
    assert_eq!(dispatch(&clients(s3), &delete).await, Ok(None));
    let writes = writes.lock().expect("lock");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].2, others());
}

#[tokio::test]
async fn a_later_delete_leaves_eventbridge_on_for_the_sandboxes_still_using_it() {
    // Two sandboxes deployed side by side: the second's create found EventBridge on and wrote
    // nothing; deleting either never turns it off (nothing in the bucket says who relies on it),
    // so the other's rule keeps receiving its session files.
    let (s3, writes) = s3(vec![(HOME, Some(others_without_eventbridge()))]);
    let clients = clients(s3);
    let first = notification("Create", HOME, None);
    assert_eq!(dispatch(&clients, &first).await, Ok(None));
    let second =
        request("Create", "Custom::HomeFolderNotification", json!({"ServiceToken": "x", "BucketName": HOME}), None);
    assert_eq!(dispatch(&clients, &second).await, Ok(None));
    assert_eq!(dispatch(&clients, &notification("Delete", HOME, None)).await, Ok(None));
    let writes = writes.lock().expect("lock");
    assert_eq!(writes.len(), 1, "only the first create wrote: {writes:?}");
    assert_eq!(writes[0].2, others());
}

#[tokio::test]
async fn delete_of_a_missing_bucket_or_entry_writes_nothing() {
    let (s3, writes) = s3(vec![(HOME, Some(others()))]);
    let clients = clients(s3);
    assert_eq!(dispatch(&clients, &notification("Delete", HOME, None)).await, Ok(None));
    let gone = notification("Delete", "appstream2-36fb080bb8-us-east-1-999999999999", None);
    assert_eq!(dispatch(&clients, &gone).await, Ok(None));
    assert!(writes.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_missing_bucket_fails_with_what_the_operator_must_do() {
    let (s3, writes) = s3(vec![]);
    let reason = dispatch(&clients(s3), &notification("Create", HOME, None)).await.expect_err("no bucket");
    assert!(reason.contains(HOME), "{reason}");
    assert!(reason.contains("start one session"), "{reason}");
    assert!(reason.contains("sandboxc apply"), "{reason}");
    assert!(writes.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn an_entry_that_would_have_overlapped_is_kept_and_no_longer_in_the_way() {
    // With S3 -> Lambda dispatch this entry (any .json under the bucket) overlapped ours and S3
    // refused the write; EventBridge delivery overlaps nothing.
    let legacy: NotificationConfiguration = serde_json::from_value(json!({
        "LambdaFunctionConfigurations": [{"Id": "string", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:old",
            "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".json"}]}}}]
    }))
    .expect("a configuration");
    let (s3, writes) = s3(vec![(HOME, Some(legacy.clone()))]);
    assert_eq!(dispatch(&clients(s3), &notification("Create", HOME, None)).await, Ok(None));
    let writes = writes.lock().expect("lock");
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].2.lambda_function_configurations, legacy.lambda_function_configurations);
    assert!(writes[0].2.event_bridge_configuration.is_some());
}

#[tokio::test]
async fn bad_properties_fail_with_the_problem() {
    let (s3, _) = s3(vec![(HOME, Some(others()))]);
    let bad = request("Create", "Custom::HomeFolderNotification", json!({"FunctionArn": VALIDATOR}), None);
    let reason = dispatch(&clients(s3), &bad).await.expect_err("missing BucketName");
    assert!(reason.contains("BucketName"), "{reason}");
}

#[tokio::test]
async fn unknown_resource_types_fail() {
    let (s3, _) = s3(vec![]);
    let other = request("Create", "Custom::Other", json!({}), None);
    let reason = dispatch(&clients(s3), &other).await.expect_err("unknown");
    assert!(reason.contains("Custom::Other"), "{reason}");
}

// --- service roles ---------------------------------------------------------------

type IamCalls = Arc<Mutex<Vec<String>>>;

/// IAM where the roles named in `existing` exist; records every call as text.
fn iam(existing: &'static [&'static str]) -> (aws_sdk_iam::Client, IamCalls) {
    let calls: IamCalls = Arc::new(Mutex::new(Vec::new()));
    let c = calls.clone();
    let get = mock!(aws_sdk_iam::Client::get_role).then_compute_response(move |req| {
        let name = req.role_name().unwrap_or_default().to_owned();
        c.lock().expect("lock").push(format!("GetRole {name}"));
        if existing.contains(&name.as_str()) {
            let role = Role::builder()
                .path("/service-role/")
                .role_name(&name)
                .role_id("AROAEXAMPLE")
                .arn(format!("arn:aws:iam::123456789012:role/service-role/{name}"))
                .create_date(aws_sdk_iam::primitives::DateTime::from_secs(0))
                .build()
                .expect("a role");
            MockResponse::Output(GetRoleOutput::builder().role(role).build())
        } else {
            MockResponse::Error(GetRoleError::NoSuchEntityException(NoSuchEntityException::builder().build()))
        }
    });
    let c = calls.clone();
    let create = mock!(aws_sdk_iam::Client::create_role).then_compute_response(move |req| {
        let trust: Value =
            serde_json::from_str(req.assume_role_policy_document().unwrap_or_default()).expect("JSON trust");
        c.lock().expect("lock").push(format!(
            "CreateRole {} {} {}",
            req.role_name().unwrap_or_default(),
            req.path().unwrap_or_default(),
            trust["Statement"][0]["Principal"]["Service"].as_str().unwrap_or_default()
        ));
        MockResponse::Output(aws_sdk_iam::operation::create_role::CreateRoleOutput::builder().build())
    });
    let c = calls.clone();
    let attach = mock!(aws_sdk_iam::Client::attach_role_policy).then_compute_response(move |req| {
        c.lock().expect("lock").push(format!(
            "AttachRolePolicy {} {}",
            req.role_name().unwrap_or_default(),
            req.policy_arn().unwrap_or_default()
        ));
        MockResponse::Output(aws_sdk_iam::operation::attach_role_policy::AttachRolePolicyOutput::builder().build())
    });
    (scripted_client!(aws_sdk_iam, [&get, &create, &attach]), calls)
}

fn roles_request(kind: &str) -> Request {
    request(kind, "Custom::AppStreamServiceRoles", json!({"ServiceToken": "x"}), None)
}

fn with_iam(iam: aws_sdk_iam::Client) -> ProviderClients {
    let (s3, _) = s3(vec![]);
    ProviderClients { iam, ..clients(s3) }
}

#[tokio::test]
async fn roles_that_exist_are_left_alone() {
    let (iam, calls) = iam(&["AmazonAppStreamServiceAccess", "ApplicationAutoScalingForAmazonAppStreamAccess"]);
    let clients = with_iam(iam);
    assert_eq!(dispatch(&clients, &roles_request("Create")).await, Ok(None));
    assert_eq!(dispatch(&clients, &roles_request("Update")).await, Ok(None));
    let calls = calls.lock().expect("lock");
    assert!(calls.iter().all(|c| c.starts_with("GetRole ")), "{calls:?}");
    assert_eq!(calls.len(), 4);
}

#[tokio::test]
async fn only_missing_roles_are_created_with_their_trust_and_policy() {
    let (iam, calls) = iam(&["AmazonAppStreamServiceAccess"]);
    assert_eq!(dispatch(&with_iam(iam), &roles_request("Create")).await, Ok(None));
    assert_eq!(
        *calls.lock().expect("lock"),
        [
            "GetRole AmazonAppStreamServiceAccess",
            "GetRole ApplicationAutoScalingForAmazonAppStreamAccess",
            "CreateRole ApplicationAutoScalingForAmazonAppStreamAccess /service-role/ application-autoscaling.amazonaws.com",
            "AttachRolePolicy ApplicationAutoScalingForAmazonAppStreamAccess arn:aws:iam::aws:policy/service-role/ApplicationAutoScalingForAmazonAppStreamAccess",
        ]
    );
}

#[tokio::test]
async fn both_roles_missing_are_both_created_and_delete_touches_nothing() {
    let (iam, calls) = iam(&[]);
    let clients = with_iam(iam);
    assert_eq!(dispatch(&clients, &roles_request("Create")).await, Ok(None));
    let created: Vec<String> =
        calls.lock().expect("lock").iter().filter(|c| c.starts_with("CreateRole")).cloned().collect();
    assert_eq!(
        created,
        [
            "CreateRole AmazonAppStreamServiceAccess /service-role/ appstream.amazonaws.com",
            "CreateRole ApplicationAutoScalingForAmazonAppStreamAccess /service-role/ application-autoscaling.amazonaws.com",
        ]
    );
    calls.lock().expect("lock").clear();
    assert_eq!(dispatch(&clients, &roles_request("Delete")).await, Ok(None));
    assert!(calls.lock().expect("lock").is_empty(), "never deleted, never even read");
}

// --- usage reports ---------------------------------------------------------------

fn usage(create_fails: bool, existing: Option<&'static str>) -> (aws_sdk_appstream::Client, Arc<Mutex<usize>>) {
    let creates = Arc::new(Mutex::new(0usize));
    let c = creates.clone();
    let create = mock!(aws_sdk_appstream::Client::create_usage_report_subscription).then_compute_response(move |_| {
        *c.lock().expect("lock") += 1;
        if create_fails {
            MockResponse::Error(CreateUsageReportSubscriptionError::InvalidAccountStatusException(
                InvalidAccountStatusException::builder().message("already subscribed").build(),
            ))
        } else {
            MockResponse::Output(
                CreateUsageReportSubscriptionOutput::builder()
                    .s3_bucket_name("appstream-logs-us-east-1-123456789012-abcd")
                    .build(),
            )
        }
    });
    let describe =
        mock!(aws_sdk_appstream::Client::describe_usage_report_subscriptions).then_compute_response(move |_| {
            let subscriptions: Vec<UsageReportSubscription> =
                existing.map(|b| UsageReportSubscription::builder().s3_bucket_name(b).build()).into_iter().collect();
            MockResponse::Output(
                DescribeUsageReportSubscriptionsOutput::builder()
                    .set_usage_report_subscriptions(Some(subscriptions))
                    .build(),
            )
        });
    (scripted_client!(aws_sdk_appstream, [&create, &describe]), creates)
}

fn usage_request(kind: &str) -> Request {
    request(kind, "Custom::UsageReportSubscription", json!({"ServiceToken": "x"}), None)
}

fn with_appstream(appstream: aws_sdk_appstream::Client) -> ProviderClients {
    let (s3, _) = s3(vec![]);
    ProviderClients { appstream, ..clients(s3) }
}

#[tokio::test]
async fn usage_reports_return_their_bucket() {
    let (appstream, _) = usage(false, None);
    let data = dispatch(&with_appstream(appstream), &usage_request("Create")).await.expect("created");
    assert_eq!(data.map(Value::Object), Some(json!({"S3BucketName": "appstream-logs-us-east-1-123456789012-abcd"})));
}

#[tokio::test]
async fn an_existing_subscription_is_used_when_create_fails() {
    let (appstream, _) = usage(true, Some("appstream-logs-us-east-1-123456789012-old"));
    let data = dispatch(&with_appstream(appstream), &usage_request("Update")).await.expect("existing");
    assert_eq!(data.map(Value::Object), Some(json!({"S3BucketName": "appstream-logs-us-east-1-123456789012-old"})));
    let (appstream, _) = usage(true, None);
    let reason = dispatch(&with_appstream(appstream), &usage_request("Create")).await.expect_err("nothing");
    assert!(reason.contains("CreateUsageReportSubscription failed"), "{reason}");
}

#[tokio::test]
async fn usage_reports_are_kept_on_delete() {
    let (appstream, creates) = usage(false, None);
    assert_eq!(dispatch(&with_appstream(appstream), &usage_request("Delete")).await, Ok(None));
    assert_eq!(*creates.lock().expect("lock"), 0);
}
