//! The provider always answers CloudFormation: success, the handler's failure, a panic,
//! the deadline, an unparseable event. The response goes to a local HTTP listener on
//! 127.0.0.1 standing in for the pre-signed `ResponseURL`.

#![allow(clippy::expect_used)]

use crate::support;

use std::time::{Duration, Instant};

use sandboxc_lambda::custom_resource::derived_physical_id;
use sandboxc_lambda::provider::{answer, Outcome, Responder, SendError};
use serde_json::{json, Value};
use support::Listener;

const CREATE: &str = include_str!("../fixtures/custom_resource/create.json");
const DELETE: &str = include_str!("../fixtures/custom_resource/delete.json");

fn event(text: &str, url: &str) -> Value {
    let mut value: Value = serde_json::from_str(text).expect("fixture JSON");
    value["ResponseURL"] = json!(url);
    value
}

fn body(received: &support::Received) -> Value {
    serde_json::from_slice(&received.body).expect("a JSON response body")
}

#[tokio::test]
async fn success_is_put_with_data_and_the_derived_physical_id() {
    let mut listener = Listener::start(200).await;
    let url = format!("{}/response?X-Amz-Signature=abc", listener.base);
    let responder = Responder::new().expect("root certificates");
    let payload = event(CREATE, &url);
    let answered = answer(payload.clone(), Duration::from_secs(10), &responder, |_request| async {
        let mut data = serde_json::Map::new();
        data.insert("S3BucketName".into(), json!("appstream-logs-us-east-1-123456789012-abc"));
        Ok(Some(data))
    })
    .await
    .expect("answerable");
    assert_eq!(answered.delivered, Ok(()));
    let received = listener.next().await.expect("a PUT");
    assert_eq!(received.method, "PUT");
    assert_eq!(received.target, "/response?X-Amz-Signature=abc");
    assert_eq!(received.header("content-type"), Some(""));
    let sent = body(&received);
    let stack = payload["StackId"].as_str().unwrap_or_default();
    let logical = payload["LogicalResourceId"].as_str().unwrap_or_default();
    assert_eq!(sent["Status"], "SUCCESS");
    assert_eq!(sent["PhysicalResourceId"], derived_physical_id(stack, logical));
    assert_eq!(sent["RequestId"], payload["RequestId"]);
    assert_eq!(sent["Data"]["S3BucketName"], "appstream-logs-us-east-1-123456789012-abc");
}

#[tokio::test]
async fn a_handler_error_is_put_as_failed_with_its_reason() {
    let mut listener = Listener::start(200).await;
    let responder = Responder::new().expect("root certificates");
    let payload = event(DELETE, &format!("{}/r", listener.base));
    let answered = answer(payload.clone(), Duration::from_secs(10), &responder, |_| async {
        Err("GetRole AmazonAppStreamServiceAccess failed: AccessDenied".to_owned())
    })
    .await
    .expect("answerable");
    assert_eq!(answered.delivered, Ok(()));
    let sent = body(&listener.next().await.expect("a PUT"));
    assert_eq!(sent["Status"], "FAILED");
    assert_eq!(sent["Reason"], "GetRole AmazonAppStreamServiceAccess failed: AccessDenied");
    assert_eq!(sent["PhysicalResourceId"], payload["PhysicalResourceId"], "Delete echoes the physical ID");
}

#[tokio::test]
async fn a_panicking_handler_is_still_answered() {
    let mut listener = Listener::start(200).await;
    let responder = Responder::new().expect("root certificates");
    let payload = event(CREATE, &format!("{}/r", listener.base));
    answer(payload, Duration::from_secs(10), &responder, |_| async {
        if Instant::now().elapsed() < Duration::from_secs(3600) {
            panic!("a bug in the handler");
        }
        Ok(None)
    })
    .await
    .expect("answerable");
    let sent = body(&listener.next().await.expect("a PUT"));
    assert_eq!(sent["Status"], "FAILED");
    assert!(sent["Reason"].as_str().unwrap_or_default().contains("failed unexpectedly"), "{sent}");
}

#[tokio::test]
async fn a_handler_still_running_near_the_deadline_is_answered_failed() {
    let mut listener = Listener::start(200).await;
    let responder = Responder::new().expect("root certificates");
    let payload = event(CREATE, &format!("{}/r", listener.base));
    let started = Instant::now();
    answer(payload, Duration::from_millis(200), &responder, |_| std::future::pending::<Outcome>())
        .await
        .expect("answerable");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let sent = body(&listener.next().await.expect("a PUT"));
    assert_eq!(sent["Status"], "FAILED");
    assert!(sent["Reason"].as_str().unwrap_or_default().contains("time limit"), "{sent}");
}

#[tokio::test]
async fn an_unparseable_request_is_answered_from_its_fields() {
    let mut listener = Listener::start(200).await;
    let responder = Responder::new().expect("root certificates");
    let mut payload = event(CREATE, &format!("{}/r", listener.base));
    payload["RequestType"] = json!("Frobnicate");
    let answered =
        answer(payload, Duration::from_secs(10), &responder, |_| async { Ok(None) }).await.expect("answerable");
    assert_eq!(answered.delivered, Ok(()));
    let sent = body(&listener.next().await.expect("a PUT"));
    assert_eq!(sent["Status"], "FAILED");
    assert!(sent["Reason"].as_str().unwrap_or_default().contains("invalid custom-resource request"));
    // Without a ResponseURL nobody can be answered.
    let none = answer(json!({"StackId": "s"}), Duration::from_secs(1), &responder, |_| async { Ok(None) }).await;
    assert_eq!(none, None);
}

#[tokio::test]
async fn a_refused_put_is_retried_then_reported() {
    let mut listener = Listener::start(500).await;
    let responder = Responder::new().expect("root certificates");
    let payload = event(CREATE, &format!("{}/r", listener.base));
    let answered =
        answer(payload, Duration::from_secs(10), &responder, |_| async { Ok(None) }).await.expect("answerable");
    assert!(matches!(answered.delivered, Err(SendError::Failed { attempts: 3, .. })), "{:?}", answered.delivered);
    assert_eq!(listener.drain().len(), 3);
}

#[tokio::test]
async fn plain_http_is_refused_except_to_loopback() {
    let responder = Responder::new().expect("root certificates");
    let sent = responder.send("http://198.51.100.7/r?sig", b"{}".to_vec()).await;
    assert_eq!(sent, Err(SendError::BadUrl("http://198.51.100.7/r".into())));
}
