//! Two sandboxes with different names in one account and Region, deployed side by side against
//! the moto server (`SANDBOXC_MOTO_ENDPOINT`) through the real binary: each has its own
//! EventBridge rule (read back with EventBridge `DescribeRule` and `ListTargetsByRule`), its own
//! validator function (Lambda `GetFunctionConfiguration` and `GetPolicy`) and its own session
//! file names, none of them overlapping the other's; destroying one leaves the other's stack,
//! rule, validator and permission in place.
//!
//! What moto cannot represent, and where it is tested instead (measured against moto 5.2.5):
//! - moto runs no Lambda function without Docker: whether or not AppStream's home-folder bucket
//!   exists on the emulator (other emulator tests create it; without it `apply` leaves the
//!   `HomeFolderNotification` custom resource out), the provider never runs here. The provider,
//!   which turns the bucket's EventBridge delivery on and never off (so destroying one sandbox
//!   cannot cut the other off), is tested with scripted S3 in `lambda/tests/lambda/provider_handlers.rs`
//!   (`a_later_delete_leaves_eventbridge_on_for_the_sandboxes_still_using_it`) and against moto's
//!   S3 in `lambda/tests/moto_s3.rs`;
//! - moto matches no S3 event to an EventBridge rule and has no AppStream API, so a session file
//!   is never delivered here: that each rule matches only its own sandbox's session files is
//!   asserted on the deployed event patterns below (EventBridge's `wildcard` semantics, `*`
//!   spanning `/`, evaluated by [`wildcard`]), and the validator's skipping of another sandbox's
//!   file in `lambda/tests/lambda/validator_flow.rs`;
//! - moto has no AppStream resources, and drops the validator's environment variables that
//!   `Ref` them (`SANDBOX_STACK_NAME`, `SANDBOX_FLEET_NAME`): the validators are told apart here by
//!   their allow-list prefixes (`/sandboxc/<name>/users/`); the compiled variables are in the
//!   golden templates (tests/compile/snapshots).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::apply::{lambda_zips, Moto};
use crate::common::{moto, sandboxc_aws as sandboxc};

use sandboxc_contract::users::{allow_list_prefix, user_hash};
use sandboxc_contract::validator::{session_file_path, session_key_pattern, url_file_path, ENV_ALLOW_LIST_PREFIX};

/// EventBridge's `wildcard` match (EventBridge user guide, "Content filtering in Amazon
/// EventBridge event patterns"): `*` matches any run of characters, `/` included; everything
/// else literally.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().unwrap();
    let Some(mut at) = text.strip_prefix(first) else { return false };
    let Some((last, middle)) = rest.split_last() else { return at.is_empty() };
    for part in middle {
        match at.find(part) {
            Some(i) => at = &at[i + part.len()..],
            None => return false,
        }
    }
    at.len() >= last.len() && at.ends_with(last)
}

/// What one deployed sandbox holds, read back from the emulator's APIs.
#[derive(Debug)]
struct Deployed {
    rule_name: String,
    rule_arn: String,
    pattern: serde_json::Value,
    function: String,
    function_arn: String,
    /// `SANDBOX_ALLOW_LIST_PREFIX` of the validator (moto has no AppStream: the stack and fleet
    /// variables, `Ref`s to AppStream resources, are dropped by the emulator).
    allow_list: String,
}

struct Clients {
    events: aws_sdk_eventbridge::Client,
    lambda: aws_sdk_lambda::Client,
}

impl Clients {
    fn new(endpoint: &str) -> Self {
        let events = aws_sdk_eventbridge::Client::from_conf(
            aws_sdk_eventbridge::Config::builder()
                .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
                .region(aws_sdk_eventbridge::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_eventbridge::config::Credentials::new(
                    "testing", "testing", None, None, "test",
                ))
                .endpoint_url(endpoint)
                .build(),
        );
        let lambda = aws_sdk_lambda::Client::from_conf(
            aws_sdk_lambda::Config::builder()
                .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
                .region(aws_sdk_lambda::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_lambda::config::Credentials::new(
                    "testing", "testing", None, None, "test",
                ))
                .endpoint_url(endpoint)
                .build(),
        );
        Self { events, lambda }
    }
}

/// The physical ID of `logical` in the (single-layout) stack (`ListStackResources`: moto answers
/// `DescribeStackResource` with HTTP 500).
fn physical(moto: &Moto, stack: &str, logical: &str) -> String {
    let out = moto.runtime.block_on(moto.cfn.list_stack_resources().stack_name(stack).send()).unwrap();
    out.stack_resource_summaries()
        .iter()
        .find(|r| r.logical_resource_id() == Some(logical))
        .and_then(|r| r.physical_resource_id())
        .unwrap_or_else(|| panic!("{stack} has no {logical}"))
        .to_string()
}

fn deployed(moto: &Moto, clients: &Clients, stack: &str) -> Deployed {
    let rule_name = physical(moto, stack, "ValidatorRule");
    let rule = moto.runtime.block_on(clients.events.describe_rule().name(&rule_name).send()).unwrap();
    let pattern: serde_json::Value = serde_json::from_str(rule.event_pattern().unwrap()).unwrap();
    let function = physical(moto, stack, "Validator");
    let config =
        moto.runtime.block_on(clients.lambda.get_function_configuration().function_name(&function).send()).unwrap();
    let allow_list = config
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get(ENV_ALLOW_LIST_PREFIX))
        .cloned()
        .unwrap_or_default();
    Deployed {
        rule_arn: rule.arn().unwrap().to_string(),
        rule_name,
        pattern,
        function_arn: config.function_arn().unwrap().to_string(),
        function,
        allow_list,
    }
}

/// The ARNs of the targets of a rule.
fn targets(moto: &Moto, clients: &Clients, rule: &str) -> Vec<String> {
    let out = moto.runtime.block_on(clients.events.list_targets_by_rule().rule(rule).send()).unwrap();
    out.targets().iter().map(|t| t.arn().to_string()).collect()
}

/// The `aws:SourceArn` of every statement of a function's resource policy.
fn invokers(moto: &Moto, clients: &Clients, function: &str) -> Vec<String> {
    let out = moto.runtime.block_on(clients.lambda.get_policy().function_name(function).send()).unwrap();
    let policy: serde_json::Value = serde_json::from_str(out.policy().unwrap()).unwrap();
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Condition"]["ArnLike"]["AWS:SourceArn"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn two_sandboxes_deploy_side_by_side_and_destroying_one_leaves_the_other_against_moto() {
    let Some(endpoint) = moto() else { return };
    let moto = Moto::new(&endpoint);
    let clients = Clients::new(&endpoint);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // `b<pid>-stack` is a suffix of `ab<pid>-stack`: the one pair of names where a careless
    // pattern (a key "ending with" the other's file) would overlap.
    // The process ID alone repeats between runs in a container; the clock tells runs apart.
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tag = format!("{}x{}", std::process::id(), nanos % 1_000_000);
    let (a, b) = (format!("b{tag}"), format!("ab{tag}"));
    let assets = format!("{a}-multi-assets");
    moto.runtime.block_on(moto.s3.create_bucket().bucket(&assets).send()).unwrap();
    lambda_zips(dir);
    let default = sandboxc::blueprint::Source::embedded().text;
    for name in [&a, &b] {
        let blueprint = default
            .replace("name: datasandbox ", &format!("name: {name} "))
            .replace("layout: nested", "layout: single");
        assert!(blueprint.contains(&format!("name: {name} ")) && blueprint.contains("layout: single"));
        std::fs::write(dir.join(format!("{name}.yaml")), blueprint).unwrap();
    }
    let apply = |name: &str| {
        sandboxc(
            &["apply", &format!("{name}.yaml"), "--yes", "--lambda-dir", "lz", "--assets-bucket", &assets],
            dir,
            &endpoint,
        )
    };

    // Both deploy, the second beside the first.
    for name in [&a, &b] {
        let (code, out, err) = apply(name);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(out.contains(&format!("stack {name}: CREATE_COMPLETE")), "{out}");
    }
    let (da, db) = (deployed(&moto, &clients, &a), deployed(&moto, &clients, &b));

    // Rules, validators and permissions: each sandbox's own, none shared.
    assert_ne!(da.rule_name, db.rule_name);
    assert_ne!(da.function, db.function);
    assert_eq!(targets(&moto, &clients, &da.rule_name), std::slice::from_ref(&da.function_arn));
    assert_eq!(targets(&moto, &clients, &db.rule_name), std::slice::from_ref(&db.function_arn));
    assert_eq!(
        invokers(&moto, &clients, &da.function),
        std::slice::from_ref(&da.rule_arn),
        "only A's rule may invoke A's validator"
    );
    assert_eq!(
        invokers(&moto, &clients, &db.function),
        std::slice::from_ref(&db.rule_arn),
        "only B's rule may invoke B's validator"
    );
    let (stack_a, stack_b) = (format!("{a}-stack"), format!("{b}-stack"));
    assert_eq!(
        (da.allow_list.as_str(), db.allow_list.as_str()),
        (allow_list_prefix(&a).as_str(), allow_list_prefix(&b).as_str())
    );

    // Session files: each rule matches its own sandbox's files in any home folder, and never the
    // other's, nor the other's answer file, nor the file of earlier versions.
    let key_of = |d: &Deployed| d.pattern["detail"]["object"]["key"][0]["wildcard"].as_str().unwrap().to_string();
    let (pa, pb) = (key_of(&da), key_of(&db));
    assert_eq!(
        (pa.as_str(), pb.as_str()),
        (session_key_pattern(&stack_a).as_str(), session_key_pattern(&stack_b).as_str())
    );
    for d in [&da, &db] {
        assert_eq!(d.pattern["source"], serde_json::json!(["aws.s3"]));
        assert_eq!(d.pattern["detail-type"], serde_json::json!(["Object Created"]));
    }
    let hash = user_hash("bob@example.org");
    for folder in [format!("user/custom/{hash}"), format!("user/federated/{hash}")] {
        let (file_a, file_b) =
            (format!("{folder}/{}", session_file_path(&stack_a)), format!("{folder}/{}", session_file_path(&stack_b)));
        assert!(wildcard(&pa, &file_a) && wildcard(&pb, &file_b), "{pa} {file_a} / {pb} {file_b}");
        assert!(!wildcard(&pa, &file_b) && !wildcard(&pb, &file_a), "the patterns overlap: {pa} / {pb}");
        for other in [
            format!("{folder}/{}", url_file_path(&stack_a)),
            format!("{folder}/{}", url_file_path(&stack_b)),
            format!("{folder}/session.json"),
        ] {
            assert!(!wildcard(&pa, &other) && !wildcard(&pb, &other), "{other}");
        }
    }

    // Destroying A leaves B's stack, rule (still targeting B's validator), validator and
    // permission exactly as they were.
    let (code, out, err) = sandboxc(&["destroy", &format!("{a}.yaml"), "--yes"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(moto.status(&a), None, "A is gone");
    let a_rule = moto.runtime.block_on(clients.events.describe_rule().name(&da.rule_name).send());
    assert!(a_rule.is_err(), "A's rule is deleted with A: {a_rule:?}");
    assert_eq!(moto.status(&b).as_deref(), Some("CREATE_COMPLETE"));
    let after = deployed(&moto, &clients, &b);
    assert_eq!(
        (&after.rule_arn, &after.pattern, &after.function_arn, &after.allow_list),
        (&db.rule_arn, &db.pattern, &db.function_arn, &db.allow_list)
    );
    assert_eq!(targets(&moto, &clients, &after.rule_name), std::slice::from_ref(&db.function_arn));
    assert_eq!(invokers(&moto, &clients, &after.function), std::slice::from_ref(&db.rule_arn));
    let (code, out, err) = sandboxc(&["status", &format!("{b}.yaml")], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = sandboxc(&["destroy", &format!("{b}.yaml"), "--yes"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn wildcard_is_eventbridges() {
    assert!(wildcard("user/*/x.json", "user/custom/h/.sandboxc/s/x.json"));
    assert!(!wildcard("user/*/x.json", "user/x.json"));
    assert!(wildcard("a*", "a") && wildcard("*", "") && !wildcard("a", "ab"));
    assert!(!wildcard("user/*/.sandboxc/b1-stack/session.json", "user/c/h/.sandboxc/ab1-stack/session.json"));
}
