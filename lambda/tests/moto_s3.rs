//! The S3 and SSM wire paths against the moto server (a local AWS emulator, PyPI
//! `moto[server]`): the validator's ranged read, its allow-list read (`GetParameter`) and SSE
//! write, and the provider's notification merge, with the real SDK over loopback. AppStream
//! and `CreatePresignedNotebookInstanceUrl` do not exist in moto, so AppStream and SageMaker
//! stay scripted.
//!
//! `SANDBOXC_MOTO_ENDPOINT` (e.g. `http://127.0.0.1:5000`) names a running
//! `moto_server -H 127.0.0.1 -p 5000`. Unset, the tests are skipped with a note; unset
//! while `CI` is set, they fail. Only loopback endpoints are accepted. Each test resets
//! moto (`POST /moto-api/reset`) under one lock, so they never see each other's state.

#![allow(clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use aws_sdk_appstream::operation::describe_sessions::DescribeSessionsOutput;
use aws_sdk_sagemaker::operation::create_presigned_notebook_instance_url::CreatePresignedNotebookInstanceUrlOutput;
use aws_sdk_sagemaker::operation::describe_notebook_instance::DescribeNotebookInstanceOutput;
use aws_smithy_mocks::mock;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use sandboxc_lambda::config::{Notebooks, ValidatorConfig};
use sandboxc_lambda::decision::{KeyEncoding, INVALID_SESSION_MESSAGE};
use sandboxc_lambda::notification::{LambdaConfig, NotificationConfiguration};
use sandboxc_lambda::provider::home_folder::{from_sdk, to_sdk};
use sandboxc_lambda::provider::{dispatch, ProviderClients};
use sandboxc_lambda::validate::{handle_records, EventRecord, ValidatorClients};
use serde_json::json;

const HOME: &str = "appstream2-36fb080bb8-us-east-1-123456789012";
const ALICE: &str = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90";
const SESSION: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const URL: &str = "https://st-alice-2bd806c9-0a1b.notebook.us-east-1.sagemaker.aws?authToken=T";
/// `sandboxc_contract::users::notebook_name("st", "alice", "0a1b")`.
const NOTEBOOK: &str = "st-alice-2bd806c9-0a1b";
const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/datasandbox-validator/5b2d1e20-0a1b-11ef-8a2b-0e1f2a3b4c5d";

static MOTO: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The moto endpoint, or `None` (skip) when neither it nor `CI` is set.
fn endpoint() -> Option<String> {
    match std::env::var("SANDBOXC_MOTO_ENDPOINT") {
        Ok(url) if !url.is_empty() => {
            let loopback = ["http://127.0.0.1:", "http://localhost:", "http://[::1]:"];
            assert!(
                loopback.iter().any(|p| url.starts_with(p)),
                "SANDBOXC_MOTO_ENDPOINT must be a loopback http URL, not {url}"
            );
            Some(url.trim_end_matches('/').to_owned())
        }
        _ if std::env::var_os("CI").is_some() => panic!(
            "CI is set but SANDBOXC_MOTO_ENDPOINT is not: start `.venv/bin/moto_server -H 127.0.0.1 -p 5000` \
             and export SANDBOXC_MOTO_ENDPOINT=http://127.0.0.1:5000"
        ),
        _ => {
            eprintln!("note: SANDBOXC_MOTO_ENDPOINT is not set; skipping the moto S3 tests");
            None
        }
    }
}

/// `POST /moto-api/reset`: every bucket and object is gone.
async fn reset(endpoint: &str) {
    let client =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let request = hyper::Request::post(format!("{endpoint}/moto-api/reset")).body(Empty::new()).expect("a request");
    let response = client.request(request).await.expect("moto answers");
    assert!(response.status().is_success(), "reset: {}", response.status());
    let _ = response.into_body().collect().await;
}

fn s3(endpoint: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "moto"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn ssm(endpoint: &str) -> aws_sdk_ssm::Client {
    let config = aws_sdk_ssm::Config::builder()
        .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
        .region(aws_sdk_ssm::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ssm::config::Credentials::new("testing", "testing", None, None, "moto"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_ssm::Client::from_conf(config)
}

/// Writes alice's allow-list entry as the compiler's `AWS::SSM::Parameter` holds it.
async fn list_alice(ssm: &aws_sdk_ssm::Client) {
    let entry = sandboxc_contract::users::AllowListEntry {
        user_id: "alice".into(),
        authentication: sandboxc_contract::users::Authentication::Api,
        notebook: NOTEBOOK.into(),
    };
    ssm.put_parameter()
        .name(sandboxc_contract::users::allow_list_parameter("st", "alice"))
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .value(serde_json::to_string(&entry).expect("json"))
        .overwrite(true)
        .send()
        .await
        .expect("put parameter");
}

async fn put(s3: &aws_sdk_s3::Client, key: &str, body: Vec<u8>) {
    s3.put_object().bucket(HOME).key(key).body(body.into()).send().await.expect("put");
}

async fn get(s3: &aws_sdk_s3::Client, key: &str) -> Option<(String, Option<String>)> {
    let output = s3.get_object().bucket(HOME).key(key).send().await.ok()?;
    let sse = output.server_side_encryption().map(|s| s.as_str().to_owned());
    let bytes = output.body.collect().await.expect("body").into_bytes();
    Some((String::from_utf8_lossy(&bytes).into_owned(), sse))
}

fn validator(s3: aws_sdk_s3::Client, ssm: aws_sdk_ssm::Client) -> ValidatorClients {
    let sessions = mock!(aws_sdk_appstream::Client::describe_sessions).then_output(|| {
        let session = aws_sdk_appstream::types::Session::builder()
            .id(SESSION)
            .user_id("alice")
            .stack_name("st")
            .fleet_name("fl")
            .state(aws_sdk_appstream::types::SessionState::Active)
            .authentication_type(aws_sdk_appstream::types::AuthenticationType::Api)
            .build();
        DescribeSessionsOutput::builder().sessions(session).build()
    });
    let describe = mock!(aws_sdk_sagemaker::Client::describe_notebook_instance)
        .match_requests(|req| req.notebook_instance_name() == Some(NOTEBOOK))
        .then_output(|| {
            DescribeNotebookInstanceOutput::builder()
                .notebook_instance_name(NOTEBOOK)
                .notebook_instance_status(aws_sdk_sagemaker::types::NotebookInstanceStatus::InService)
                .build()
        });
    let presign = mock!(aws_sdk_sagemaker::Client::create_presigned_notebook_instance_url)
        .match_requests(|req| req.notebook_instance_name() == Some(NOTEBOOK))
        .then_output(|| CreatePresignedNotebookInstanceUrlOutput::builder().authorized_url(URL).build());
    ValidatorClients {
        s3,
        appstream: scripted_client!(aws_sdk_appstream, [&sessions]),
        ssm,
        sagemaker: scripted_client!(aws_sdk_sagemaker, [&describe, &presign]),
    }
}

fn config() -> ValidatorConfig {
    ValidatorConfig {
        stack_name: "st".into(),
        fleet_name: "fl".into(),
        notebooks: Notebooks::PerUser,
        environment: "st".into(),
        session_expiration_seconds: 1800,
        home_folder_bucket: HOME.into(),
        waiting: sandboxc_lambda::config::NotebookWaiting::default(),
    }
}

fn session_json() -> Vec<u8> {
    json!({"user": "alice", "sessionId": SESSION, "stackName": "st", "fleetName": "fl"}).to_string().into_bytes()
}

#[tokio::test]
async fn the_validator_reads_ranged_and_writes_encrypted_into_the_folder() {
    let Some(endpoint) = endpoint() else { return };
    let _lock = MOTO.lock().await;
    reset(&endpoint).await;
    let s3 = s3(&endpoint);
    let ssm = ssm(&endpoint);
    s3.create_bucket().bucket(HOME).send().await.expect("bucket");
    list_alice(&ssm).await;
    let folder = format!("user/custom/{ALICE}/");
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (session_json(), URL, "session_active"),
        // A 1 MB file: the ranged read gets 16 KiB + 1 byte, enough to reject it.
        (
            {
                let mut b = session_json();
                b.resize(1024 * 1024, b' ');
                b
            },
            INVALID_SESSION_MESSAGE,
            "too_large",
        ),
        // An empty file: S3 answers a ranged read with 416 InvalidRange.
        (Vec::new(), INVALID_SESSION_MESSAGE, "not_json"),
    ];
    for (body, written, reason) in cases {
        put(&s3, &format!("{folder}session.json"), body).await;
        let clients = validator(s3.clone(), ssm.clone());
        let records =
            [EventRecord { bucket: HOME.into(), key: format!("{folder}session.json"), encoding: KeyEncoding::FormUrl }];
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        handle_records(&clients, &config(), &records, None, |log| l.lock().expect("lock").push(log.reason.to_string()))
            .await
            .expect("served");
        assert_eq!(*lines.lock().expect("lock"), [reason]);
        let (text, sse) = get(&s3, &format!("{folder}session_url.txt")).await.expect("written");
        assert_eq!(text, written, "{reason}");
        assert_eq!(sse.as_deref(), Some("AES256"), "{reason}");
    }
    // A key that is not a session file: nothing is read or written anywhere.
    s3.delete_object().bucket(HOME).key(format!("{folder}session_url.txt")).send().await.expect("delete");
    let records =
        [EventRecord { bucket: HOME.into(), key: format!("{folder}notes.json"), encoding: KeyEncoding::FormUrl }];
    handle_records(&validator(s3.clone(), ssm.clone()), &config(), &records, None, |_| {}).await.expect("served");
    let listed = s3.list_objects_v2().bucket(HOME).send().await.expect("list");
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, [format!("{folder}session.json")]);
}

/// The allow list over the wire: alice's entry in SSM gives her notebook's URL; once the
/// entry is deleted (the user removed from the blueprint, the stack applied), the same real
/// session gets the not-authorised message and no URL.
#[tokio::test]
async fn the_validator_reads_the_allow_list_from_ssm() {
    let Some(endpoint) = endpoint() else { return };
    let _lock = MOTO.lock().await;
    reset(&endpoint).await;
    let s3 = s3(&endpoint);
    let ssm = ssm(&endpoint);
    s3.create_bucket().bucket(HOME).send().await.expect("bucket");
    list_alice(&ssm).await;
    let folder = format!("user/custom/{ALICE}/");
    let records =
        [EventRecord { bucket: HOME.into(), key: format!("{folder}session.json"), encoding: KeyEncoding::FormUrl }];
    let run = || async {
        put(&s3, &format!("{folder}session.json"), session_json()).await;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = lines.clone();
        handle_records(&validator(s3.clone(), ssm.clone()), &config(), &records, None, |log| {
            l.lock().expect("lock").push((log.reason.to_string(), log.notebook.clone()))
        })
        .await
        .expect("served");
        let written = get(&s3, &format!("{folder}session_url.txt")).await.expect("written").0;
        let lines = lines.lock().expect("lock").clone();
        (lines, written)
    };
    let (lines, written) = run().await;
    assert_eq!(lines, [("session_active".to_owned(), Some(NOTEBOOK.to_owned()))]);
    assert_eq!(written, URL);

    ssm.delete_parameter()
        .name(sandboxc_contract::users::allow_list_parameter("st", "alice"))
        .send()
        .await
        .expect("delete parameter");
    let (lines, written) = run().await;
    assert_eq!(lines, [("not_listed".to_owned(), None)]);
    assert!(written.starts_with("NOT AUTHORISED: you are not authorised for this sandbox"), "{written}");
    assert!(!written.contains("https://"), "{written}");
}

fn others() -> NotificationConfiguration {
    serde_json::from_value(json!({
        "TopicConfigurations": [{"Id": "audit-topic", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Events": ["s3:ObjectRemoved:*"]}],
        "QueueConfigurations": [{"Id": "scanner", "QueueArn": "arn:aws:sqs:us-east-1:123456789012:q",
            "Events": ["s3:ObjectCreated:Put"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "user/"}, {"Name": "suffix", "Value": ".csv"}]}}}],
        "LambdaFunctionConfigurations": [{"Id": "thumbnailer", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:t",
            "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "images/"}]}}}]
    }))
    .expect("a configuration")
}

fn provider_request(kind: &str, function: &str) -> sandboxc_lambda::custom_resource::Request {
    let mut event = json!({
        "RequestType": kind, "ServiceToken": "x", "ResponseURL": "https://example.invalid/r",
        "StackId": STACK_ID, "RequestId": "r", "ResourceType": "Custom::HomeFolderNotification",
        "LogicalResourceId": "HomeFolderNotification",
        "ResourceProperties": {"ServiceToken": "x", "BucketName": HOME, "FunctionArn": function}
    });
    if kind != "Create" {
        event["PhysicalResourceId"] =
            json!(sandboxc_lambda::custom_resource::derived_physical_id(STACK_ID, "HomeFolderNotification"));
        event["OldResourceProperties"] = event["ResourceProperties"].clone();
    }
    serde_json::from_value(event).expect("a request")
}

async fn read_config(s3: &aws_sdk_s3::Client) -> NotificationConfiguration {
    let output = s3.get_bucket_notification_configuration().bucket(HOME).send().await.expect("get");
    from_sdk(&output)
}

/// Filter rule names as S3 spells them on read vary (`Prefix` / `prefix`): compare
/// lowercased.
fn normalized(mut config: NotificationConfiguration) -> NotificationConfiguration {
    let fix = |f: &mut Option<sandboxc_lambda::notification::Filter>| {
        if let Some(key) = f.as_mut().and_then(|f| f.key.as_mut()) {
            for rule in &mut key.filter_rules {
                rule.name = rule.name.to_ascii_lowercase();
            }
        }
    };
    config.topic_configurations.iter_mut().for_each(|e| fix(&mut e.filter));
    config.queue_configurations.iter_mut().for_each(|e| fix(&mut e.filter));
    config.lambda_function_configurations.iter_mut().for_each(|e| fix(&mut e.filter));
    config
}

#[tokio::test]
async fn the_notification_merge_keeps_every_other_entry_in_moto() {
    let Some(endpoint) = endpoint() else { return };
    let _lock = MOTO.lock().await;
    reset(&endpoint).await;
    let s3 = s3(&endpoint);
    let clients = ProviderClients {
        s3: s3.clone(),
        iam: scripted_client!(aws_sdk_iam, Vec::<&aws_smithy_mocks::Rule>::new()),
        appstream: scripted_client!(aws_sdk_appstream, Vec::<&aws_smithy_mocks::Rule>::new()),
    };
    let validator_arn = "arn:aws:lambda:us-east-1:123456789012:function:validator";

    // Before AppStream created the bucket: FAILED, saying what to do.
    let reason = dispatch(&clients, &provider_request("Create", validator_arn)).await.expect_err("no bucket");
    assert!(reason.contains("start one session"), "{reason}");

    s3.create_bucket().bucket(HOME).send().await.expect("bucket");
    s3.put_bucket_notification_configuration()
        .bucket(HOME)
        .notification_configuration(to_sdk(&others()).expect("sdk"))
        .skip_destination_validation(true)
        .send()
        .await
        .expect("seed the other entries");
    let id = sandboxc_lambda::custom_resource::derived_physical_id(STACK_ID, "HomeFolderNotification");

    // The provider turns EventBridge delivery on and adds no S3 -> Lambda entry of its own: every
    // other entry stays as it was. (moto accepts EventBridgeConfiguration but does not return it
    // from GetBucketNotificationConfiguration; the scripted provider tests check that it is sent.)
    dispatch(&clients, &provider_request("Create", validator_arn)).await.expect("create");
    assert_eq!(normalized(read_config(&s3).await), normalized(others()));

    // A sandbox deployed by an earlier version has its own S3 -> Lambda entry: the update removes
    // it in the same write and keeps every other entry.
    let mut earlier = others();
    earlier.lambda_function_configurations.push(LambdaConfig::ours(&id, validator_arn));
    s3.put_bucket_notification_configuration()
        .bucket(HOME)
        .notification_configuration(to_sdk(&earlier).expect("sdk"))
        .skip_destination_validation(true)
        .send()
        .await
        .expect("seed the earlier entry");
    let v2 = format!("{validator_arn}-v2");
    dispatch(&clients, &provider_request("Update", &v2)).await.expect("update");
    assert_eq!(normalized(read_config(&s3).await), normalized(others()));

    dispatch(&clients, &provider_request("Delete", &v2)).await.expect("delete");
    assert_eq!(normalized(read_config(&s3).await), normalized(others()));
}
