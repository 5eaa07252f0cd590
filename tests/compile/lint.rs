//! cfn-lint (with informational checks) on every template of every blueprint, and checkov on
//! the default output: zero findings. Every suppression written into templates is listed
//! here with its reason, so adding one is a reviewed change.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeSet;
use std::process::Command;

/// Every checkov check suppressed in the default output's Metadata: (logical ID, check).
/// The reasons live beside each suppression in the template and are asserted non-empty.
const CHECKOV_SUPPRESSIONS: [(&str, &str); 15] = [
    ("DataBucket", "CKV_AWS_18"),            // access recorded by the trail's S3 data events
    ("NotificationProvider", "CKV_AWS_115"), // deploy-time only: no reserved concurrency
    ("NotificationProvider", "CKV_AWS_116"), // custom resources are answered in CloudFormation, not via a DLQ
    ("NotificationProvider", "CKV_AWS_117"), // must reach S3 and the response URL outside the isolated VPC
    ("NotificationProvider", "CKV_AWS_173"), // environment holds no secrets
    ("ServiceRolesProvider", "CKV_AWS_115"),
    ("ServiceRolesProvider", "CKV_AWS_116"),
    ("ServiceRolesProvider", "CKV_AWS_117"), // IAM has no endpoint in the isolated VPC
    ("ServiceRolesProvider", "CKV_AWS_173"),
    ("Trail", "CKV_AWS_67"),                // single-Region trail for a single-Region sandbox
    ("TrailAccessLogBucket", "CKV_AWS_18"), // the trail bucket's access logs; logging them in turn would never end
    ("UsageReportsProvider", "CKV_AWS_115"),
    ("UsageReportsProvider", "CKV_AWS_116"),
    ("UsageReportsProvider", "CKV_AWS_117"), // AppStream API for the subscription is outside the VPC
    ("UsageReportsProvider", "CKV_AWS_173"),
];

/// Validator suppressions (it runs in the VPC with a DLQ; only two checks cannot apply).
const VALIDATOR_SUPPRESSIONS: [(&str, &str); 3] =
    [("Validator", "CKV_AWS_115"), ("Validator", "CKV_AWS_173"), ("ValidatorRuleDeadLetterQueue", "CKV_AWS_27")];

#[test]
fn cfn_lint_reports_nothing_on_any_template_of_any_blueprint() {
    let cfn_lint = common::venv_tool("cfn-lint");
    for (name, source) in common::all_blueprints() {
        let dir = tempfile::tempdir().unwrap();
        let files = common::files(&source);
        common::write_files(dir.path(), &files);
        let templates: Vec<String> =
            files.iter().map(|(f, _)| f.clone()).filter(|f| f.ends_with(".template.json")).collect();
        let out = Command::new(&cfn_lint)
            .current_dir(dir.path())
            .args(["--include-checks", "I", "--regions", "us-east-1", "--format", "parseable", "--"])
            .args(&templates)
            .output()
            .expect("cfn-lint runs");
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "cfn-lint found problems in {name} (exit {:?}):\n{}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn no_template_ignores_a_cfn_lint_rule() {
    for (name, source) in common::all_blueprints() {
        for (file, id, r) in common::resources(&source) {
            assert!(
                r["Metadata"].get("cfn-lint").is_none(),
                "{name}: {file} {id} ignores cfn-lint rules: {}",
                r["Metadata"]
            );
        }
    }
}

/// checkov's JSON report on the templates `source` compiles to.
fn checkov(source: &sandboxc::blueprint::Source) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    common::write_files(dir.path(), &common::files(source));
    let out = Command::new(common::venv_tool("checkov"))
        .args(["--directory"])
        .arg(dir.path())
        .args(["--framework", "cloudformation", "--quiet", "--compact", "--skip-download", "--output", "json"])
        // Never reach out for Prisma Cloud's guideline mappings: the tests talk to loopback only.
        .env("BC_SKIP_MAPPING", "TRUE")
        .output()
        .expect("checkov runs");
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("checkov output is not JSON ({e}):\n{text}\n{}", String::from_utf8_lossy(&out.stderr))
    })
}

#[test]
fn checkov_fails_no_check_on_the_default_output() {
    let report = checkov(&sandboxc::blueprint::Source::embedded());
    let summary = &report["summary"];
    assert_eq!(
        summary["failed"],
        0,
        "checkov failed checks:\n{}",
        serde_json::to_string_pretty(&report["results"]["failed_checks"]).unwrap()
    );
    assert!(summary["passed"].as_u64().unwrap() > 100, "checkov passed too few checks: {summary}");
    assert_eq!(
        summary["skipped"].as_u64().unwrap() as usize,
        CHECKOV_SUPPRESSIONS.len() + VALIDATOR_SUPPRESSIONS.len()
    );
}

/// The example with `audit.athena` (Glue tables, workgroup, the validator's decisions export):
/// checkov fails no check there either, and every check it skips has a written reason.
#[test]
fn checkov_fails_no_check_on_the_athena_example() {
    let (name, source) =
        common::all_blueprints().into_iter().find(|(n, _)| n == "always-on-4az").expect("the always-on-4az example");
    let report = checkov(&source);
    assert_eq!(
        report["summary"]["failed"],
        0,
        "{name}: checkov failed checks:\n{}",
        serde_json::to_string_pretty(&report["results"]["failed_checks"]).unwrap()
    );
    for (_, id, r) in common::resources(&source) {
        for skip in r["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
            assert!(skip["comment"].as_str().unwrap_or_default().len() > 20, "{name}: {id} skips {}", skip["id"]);
        }
    }
}

#[test]
fn every_checkov_suppression_is_listed_and_has_a_reason() {
    let mut found = BTreeSet::new();
    for (_, id, r) in common::resources(&sandboxc::blueprint::Source::embedded()) {
        for skip in r["Metadata"]["checkov"]["skip"].as_array().into_iter().flatten() {
            let reason = skip["comment"].as_str().unwrap_or_default();
            assert!(reason.len() > 20, "{id} suppresses {} without a real reason: {reason:?}", skip["id"]);
            found.insert((id.clone(), skip["id"].as_str().unwrap().to_string()));
        }
    }
    let expected: BTreeSet<(String, String)> = CHECKOV_SUPPRESSIONS
        .iter()
        .chain(VALIDATOR_SUPPRESSIONS.iter())
        .map(|(a, b)| ((*a).to_string(), (*b).to_string()))
        .collect();
    assert_eq!(found, expected);
}

/// The assets stack of `sandboxc bootstrap`: cfn-lint and checkov find nothing; its one
/// checkov suppression is the access-logging check, with a reason.
#[test]
fn the_assets_stack_passes_cfn_lint_and_checkov() {
    let dir = tempfile::tempdir().unwrap();
    let template = sandboxc::compile::bootstrap::template().unwrap().to_value();
    let text = sandboxc::cfn::render::Format::Json.render(&template).unwrap();
    std::fs::write(dir.path().join("assets.template.json"), text).unwrap();
    let out = Command::new(common::venv_tool("cfn-lint"))
        .current_dir(dir.path())
        .args([
            "--include-checks",
            "I",
            "--regions",
            "us-east-1",
            "--format",
            "parseable",
            "--",
            "assets.template.json",
        ])
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "cfn-lint: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(common::venv_tool("checkov"))
        .current_dir(dir.path())
        .args([
            "--framework",
            "cloudformation",
            "--quiet",
            "--compact",
            "--skip-download",
            "--output",
            "json",
            "-f",
            "assets.template.json",
        ])
        .output()
        .expect("checkov runs");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("checkov output is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    let summary = &report["summary"];
    assert_eq!(
        summary["failed"],
        0,
        "checkov: {}",
        serde_json::to_string_pretty(&report["results"]["failed_checks"]).unwrap()
    );
    assert_eq!(summary["skipped"], 1, "{summary}");
    assert!(
        template["Resources"]["AssetsBucket"]["Metadata"]["checkov"]["skip"][0]["comment"].as_str().unwrap().len() > 20
    );
}

/// Every written reason for a control a rule set expects but the template leaves out
/// (`Metadata.sandboxc.<what>`), in the default output and the examples: (logical ID, what).
const NOTES: [(&str, &str); 4] = [
    ("AppStreamApiEndpoint", "endpoint-policy"), // AppStream supports no endpoint policy
    ("AppStreamStreamingEndpoint", "endpoint-policy"), // likewise (private streaming)
    ("DecisionsBucket", "object-lock"),          // Firehose and Object Lock: see the note
    ("TrailAccessLogBucket", "encryption"),      // access-log delivery supports SSE-S3 only
];

#[test]
fn every_written_reason_is_listed() {
    let mut found = BTreeSet::new();
    for (name, source) in common::all_blueprints() {
        for (_, id, r) in common::resources(&source) {
            for (what, reason) in r["Metadata"]["sandboxc"].as_object().into_iter().flatten() {
                if what == "cfn-lint-reasons" {
                    continue;
                }
                assert!(reason.as_str().unwrap_or_default().len() > 40, "{name}: {id} {what}: {reason}");
                found.insert((id.clone(), what.clone()));
            }
        }
    }
    let expected: BTreeSet<(String, String)> =
        NOTES.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect();
    assert_eq!(found, expected);
}
