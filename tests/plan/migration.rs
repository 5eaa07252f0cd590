//! Planning the current templates against a sandbox deployed by the earlier version, whose
//! validator took session files through its own S3 -> Lambda entry on the home-folder bucket
//! (the `Custom::HomeFolderNotification` with `FunctionArn`, and no EventBridge rule): the plan
//! says the sandbox moves to EventBridge dispatch in this apply.
//!
//! The deployed side is honest, not hand-made: `tests/fixtures/plan/before-eventbridge/` holds
//! the root and the changed nested templates of the default blueprint exactly as sandboxc
//! synthesized them before EventBridge dispatch (the golden templates of commit 850d383, the
//! main line just before per-sandbox session files and EventBridge dispatch were merged, with
//! insta's header removed). The test proves it byte for byte: each fixture's SHA-256 is the
//! content key its `TemplateURL` in that root template names. The nested templates that did not
//! change since are taken from today's synth output, and the test checks that their keys are the
//! ones the old root names too (a template that changes later must be added to the fixtures).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use sandboxc::blueprint::Source;
use sandboxc::cfn::render::Format;
use sandboxc::plan::render::{json, text};
use sandboxc::plan::TemplateSet;

const FIXTURES: &str = "tests/fixtures/plan/before-eventbridge";

/// The note plan gives for the move (`sandboxc::plan::replacement::note`).
const MOVE: &str = "the session validator moves from its S3 notification entry on the AppStream home-folder bucket to EventBridge dispatch in this update";

/// The deployed stack of the earlier version: `(root body, [(nested logical ID, body)])`.
fn deployed_before_eventbridge() -> (String, Vec<(String, String)>) {
    let dir = common::root().join(FIXTURES);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let root = read("datasandbox.template.json");
    let root_value: serde_json::Value = serde_json::from_str(&root).unwrap();
    let today = common::files(&Source::embedded());
    let mut nested = Vec::new();
    for (logical_id, resource) in root_value["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::CloudFormation::Stack" {
            continue;
        }
        let url = resource["Properties"]["TemplateURL"]["Fn::Sub"].as_str().unwrap();
        let key = format!("templates/{}", url.split("/templates/").nth(1).unwrap());
        let slug = sandboxc_contract::stack::nested_stack_slug(logical_id).unwrap();
        let file = format!("datasandbox-{slug}.template.json");
        let body = if dir.join(&file).is_file() {
            let body = read(&file);
            assert_eq!(
                sandboxc::compile::template_key(body.as_bytes(), Format::Json),
                key,
                "{file} is not the template the earlier root deployed"
            );
            body
        } else {
            let (_, body) = today.iter().find(|(f, _)| *f == file).unwrap_or_else(|| panic!("{file} not synthesized"));
            assert_eq!(
                sandboxc::compile::template_key(body.as_bytes(), Format::Json),
                key,
                "{file} changed since the earlier version: add its earlier template to {FIXTURES}"
            );
            body.clone()
        };
        nested.push((logical_id.clone(), body));
    }
    assert_eq!(nested.len(), 6, "six nested stacks");
    (root, nested)
}

#[test]
fn a_sandbox_with_the_s3_notification_is_told_it_moves_to_eventbridge_in_this_apply() {
    let (root, nested) = deployed_before_eventbridge();
    let earlier: serde_json::Value =
        serde_json::from_str(&nested.iter().find(|(l, _)| l == "ValidatorNestedStack").unwrap().1).unwrap();
    let notification = &earlier["Resources"]["HomeFolderNotification"];
    assert!(
        notification["Properties"]["FunctionArn"].is_object(),
        "the earlier layout's S3 -> Lambda entry: {notification}"
    );
    assert!(
        !earlier["Resources"].as_object().unwrap().values().any(|r| r["Type"] == "AWS::Events::Rule"),
        "the earlier layout has no EventBridge rule"
    );

    let old = TemplateSet::from_deployed("datasandbox", Some(&root), &nested).unwrap();
    let new = TemplateSet::from_compiled(&common::compile(&Source::embedded())).unwrap();
    let plan = sandboxc::plan::plan(&old, &new, "the deployed stack datasandbox");
    assert!(plan.changes);

    // The custom resource is updated in place (its FunctionArn removed), with the note.
    let validator = plan.templates.iter().find(|t| t.stack == "validator").expect("the validator changes");
    let change = validator.resources.iter().find(|r| r.logical_id == "HomeFolderNotification").expect("updated");
    let property =
        change.changes.iter().find(|c| c.path == "Properties.FunctionArn").unwrap_or_else(|| panic!("{change:#?}"));
    assert!(property.old.is_some() && property.new.is_none(), "{property:#?}");
    assert!(property.note.as_deref().is_some_and(|n| n.starts_with(MOVE)), "{property:#?}");
    // The rule, its permission and its queue are added in the same apply; the S3 permission goes.
    for added in ["ValidatorRule", "ValidatorRulePermission", "ValidatorRuleDeadLetterQueue"] {
        assert!(validator.resources.iter().any(|r| r.logical_id == added), "{added} is not added");
    }
    assert!(
        validator.resources.iter().any(|r| r.logical_id == "ValidatorInvokePermission"),
        "the S3 permission is not removed"
    );

    // The text and JSON plans say it, in full.
    let rendered = text::render(&plan, false);
    let lines: Vec<&str> = rendered.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "  ~ HomeFolderNotification (Custom::HomeFolderNotification): update")
        .unwrap_or_else(|| panic!("{rendered}"));
    assert_eq!(
        lines[at + 1],
        "      ~ DependsOn: [\"ValidatorInvokePermission\"] -> [\"ValidatorRule\", \"ValidatorRulePermission\"]  [template only]"
    );
    assert_eq!(lines[at + 2], format!("      - FunctionArn: !GetAtt Validator.Arn (removed)  \u{2014} {MOVE}: the bucket's EventBridge delivery is turned on (and stays on: other sandboxes of the account and Region may use it) and the entry is removed only once the validator's rule and its permission exist, so session files written meanwhile are answered"));
    assert!(
        rendered.contains("  tightened validator/ValidatorInvokePermission: permission removed: \"s3.amazonaws.com\" may call \"lambda:InvokeFunction\""),
        "{rendered}"
    );
    assert!(
        rendered.contains("  RELAXED   validator/ValidatorRulePermission: permission added: \"events.amazonaws.com\" may call \"lambda:InvokeFunction\" on !GetAtt Validator.Arn (source account -, source !GetAtt ValidatorRule.Arn)"),
        "{rendered}"
    );
    let json_plan: serde_json::Value = serde_json::from_str(&json::render(&plan)).unwrap();
    let resource = json_plan["templates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["stack"] == "validator")
        .flat_map(|t| t["resources"].as_array().unwrap())
        .find(|r| r["logical_id"] == "HomeFolderNotification")
        .unwrap_or_else(|| panic!("{json_plan:#}"));
    let property =
        resource["changes"].as_array().unwrap().iter().find(|c| c["path"] == "Properties.FunctionArn").unwrap();
    assert_eq!(property["old"], serde_json::json!({"Fn::GetAtt": ["Validator", "Arn"]}));
    assert_eq!((&property["new"], &property["replacement"]), (&serde_json::Value::Null, &serde_json::json!("none")));
    assert!(property["note"].as_str().unwrap().starts_with(MOVE), "{property:#}");

    // A sandbox already on EventBridge is told nothing of the kind.
    let plan = sandboxc::plan::plan(&new, &new, "the deployed stack datasandbox");
    assert!(!text::render(&plan, false).contains("moves from its S3 notification entry"));
}
