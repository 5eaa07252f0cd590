//! JSON fixtures: CloudFormation custom-resource events (shaped as in the CloudFormation
//! user guide's "Custom resource request objects") and an S3 notification configuration
//! (shaped as `aws s3api get-bucket-notification-configuration` prints it, with the
//! reference app's legacy entry `Id: "string"`).

use sandboxc_lambda::custom_resource::{derived_physical_id, Request, Response, Status, MAX_RESPONSE_BYTES};
use sandboxc_lambda::notification::{
    conflicts, home_folder_properties, remove, upsert, ConflictReason, EntryKind, LambdaConfig,
    NotificationConfiguration,
};
use serde_json::Value;

const CREATE: &str = include_str!("../fixtures/custom_resource/create.json");
const UPDATE: &str = include_str!("../fixtures/custom_resource/update.json");
const DELETE: &str = include_str!("../fixtures/custom_resource/delete.json");
const EXISTING: &str = include_str!("../fixtures/notification/existing.json");

const STACK_ID: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:stack/datasandbox-validator/5b2d1e20-0a1b-11ef-8a2b-0e1f2a3b4c5d";
const VALIDATOR: &str = "arn:aws:lambda:us-east-1:123456789012:function:datasandbox-validator";

fn json(text: &str) -> Value {
    match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => panic!("fixture is not JSON: {e}"),
    }
}

fn request(text: &str) -> Request {
    match serde_json::from_str(text) {
        Ok(r) => r,
        Err(e) => panic!("fixture is not a request: {e}"),
    }
}

#[test]
fn custom_resource_events_round_trip() {
    for text in [CREATE, UPDATE, DELETE] {
        let parsed = request(text);
        let back = match serde_json::to_value(&parsed) {
            Ok(v) => v,
            Err(e) => panic!("does not serialize: {e}"),
        };
        assert_eq!(back, json(text));
    }
}

#[test]
fn custom_resource_events_parse_to_their_variants() {
    let Request::Create(create) = request(CREATE) else {
        panic!("create.json is not a Create");
    };
    assert_eq!(create.common.stack_id, STACK_ID);
    assert_eq!(create.common.resource_type, "Custom::HomeFolderNotification");
    assert!(create.common.response_url.starts_with("https://"));

    let Request::Update(update) = request(UPDATE) else {
        panic!("update.json is not an Update");
    };
    assert_eq!(update.physical_resource_id, "HomeFolderNotification-8f14e45fceea167a");
    assert_eq!(update.old_resource_properties["FunctionArn"], VALIDATOR);
    assert_eq!(update.common.resource_properties["ServiceTimeout"], "300");

    let Request::Delete(delete) = request(DELETE) else {
        panic!("delete.json is not a Delete");
    };
    assert_eq!(delete.physical_resource_id, "HomeFolderNotification-8f14e45fceea167a");
}

#[test]
fn physical_ids_follow_the_rule() {
    let derived = derived_physical_id(STACK_ID, "HomeFolderNotification");
    assert_eq!(request(CREATE).physical_resource_id(), derived);
    assert_eq!(request(UPDATE).physical_resource_id(), "HomeFolderNotification-8f14e45fceea167a");
    assert_eq!(request(DELETE).physical_resource_id(), "HomeFolderNotification-8f14e45fceea167a");
}

#[test]
fn responses_copy_the_request_ids_and_fit() {
    for text in [CREATE, UPDATE, DELETE] {
        let req = request(text);
        let response = Response::failed(&req, &"no such bucket ".repeat(1000));
        assert_eq!(response.status, Status::Failed);
        assert_eq!(response.stack_id, req.common().stack_id);
        assert_eq!(response.request_id, req.common().request_id);
        assert_eq!(response.logical_resource_id, req.common().logical_resource_id);
        assert_eq!(response.physical_resource_id, req.physical_resource_id());
        assert!(response.to_body().len() <= MAX_RESPONSE_BYTES);
    }
}

#[test]
fn properties_of_every_fixture_parse() {
    let Request::Update(update) = request(UPDATE) else {
        panic!("update.json is not an Update");
    };
    // `ServiceTimeout` is a CloudFormation-reserved property and must be tolerated; the fixtures
    // are requests of earlier versions, whose `FunctionArn` still parses.
    let new = home_folder_properties(&update.common.resource_properties);
    let old = home_folder_properties(&update.old_resource_properties);
    assert_eq!(new.map(|p| p.function_arn), Ok(Some(format!("{VALIDATOR}-v2"))));
    assert_eq!(old.map(|p| p.function_arn), Ok(Some(VALIDATOR.to_owned())));
}

fn existing() -> NotificationConfiguration {
    match serde_json::from_str(EXISTING) {
        Ok(c) => c,
        Err(e) => panic!("existing.json is not a configuration: {e}"),
    }
}

#[test]
fn notification_fixture_round_trips() {
    let back = match serde_json::to_value(existing()) {
        Ok(v) => v,
        Err(e) => panic!("does not serialize: {e}"),
    };
    assert_eq!(back, json(EXISTING));
}

#[test]
fn migrating_the_legacy_entry_keeps_everything_else() {
    let before = existing();
    let ours = LambdaConfig::ours(&derived_physical_id(STACK_ID, "HomeFolderNotification"), VALIDATOR);

    // Adding ours next to the legacy `.json` entry would be refused by S3.
    let naive = upsert(before.clone(), ours.clone(), None);
    let found = conflicts(&naive, &ours);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind, EntryKind::Lambda);
    assert_eq!(found[0].id.as_deref(), Some("string"));
    assert_eq!(found[0].reason, ConflictReason::Overlap);

    // Replacing the legacy entry by its Id: ours takes its place, the rest is untouched.
    let after = upsert(before.clone(), ours.clone(), Some("string"));
    assert_eq!(conflicts(&after, &ours), vec![]);
    assert_eq!(after.lambda_function_configurations[0], ours);
    assert_eq!(after.lambda_function_configurations[1], before.lambda_function_configurations[1]);
    assert_eq!(after.lambda_function_configurations.len(), 2);
    assert_eq!(after.topic_configurations, before.topic_configurations);
    assert_eq!(after.queue_configurations, before.queue_configurations);
    assert_eq!(after.event_bridge_configuration, before.event_bridge_configuration);

    // Deleting removes ours only.
    let id = ours.id.clone().unwrap_or_default();
    let deleted = remove(after, &id);
    assert_eq!(deleted.lambda_function_configurations, before.lambda_function_configurations[1..]);
    assert_eq!(deleted.topic_configurations, before.topic_configurations);
    assert_eq!(deleted.queue_configurations, before.queue_configurations);
    assert_eq!(deleted.event_bridge_configuration, before.event_bridge_configuration);
}
