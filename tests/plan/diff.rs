//! `sandboxc plan`: golden plans in all three formats for edits of the default blueprint,
//! CLI exit codes for `--against DIR` and `--against-git REF`, and property tests of the
//! diff engine. Review snapshot changes with `cargo insta review`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use sandboxc::blueprint::Source;
use sandboxc::cfn::Template;
use sandboxc::plan::disruption::DisruptionKind;
use sandboxc::plan::model::{Action, Direction, Impact};
use sandboxc::plan::render::{json, markdown, text};
use sandboxc::plan::{Plan, ResourceNote, SecurityCategory, TemplateSet, Warning};
use serde_json::Value;

fn default_text() -> String {
    Source::embedded().text
}

/// The default blueprint with each `(from, to)` replaced exactly once.
fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = default_text();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once in the default blueprint");
        text = text.replacen(from, to, 1);
    }
    text
}

fn set(text: &str) -> TemplateSet {
    let compiled = common::compile(&Source { name: "test.yaml".into(), text: text.into() });
    TemplateSet::from_compiled(&compiled).expect("template set")
}

fn plan_of(old: &str, new: &str) -> Plan {
    sandboxc::plan::plan(&set(old), &set(new), "the default blueprint")
}

/// Snapshots the plan of `old` -> `new` in all three formats and returns it.
fn golden(name: &str, old: &str, new: &str) -> Plan {
    let plan = plan_of(old, new);
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}.txt"), text::render(&plan, false));
        let md = markdown::render(&plan);
        assert!(md.chars().count() < markdown::GITHUB_COMMENT_LIMIT);
        insta::assert_snapshot!(format!("{name}.md"), md);
        insta::assert_snapshot!(format!("{name}.json"), json::render(&plan));
    });
    plan
}

fn relaxed(plan: &Plan, needle: &str) -> bool {
    plan.security.iter().any(|s| s.direction == Direction::Relaxed && s.summary.contains(needle))
}

fn resource<'p>(plan: &'p Plan, stack: &str, id: &str) -> &'p sandboxc::plan::model::ResourceChange {
    plan.templates
        .iter()
        .filter(|t| t.stack == stack)
        .flat_map(|t| &t.resources)
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("{stack}/{id} does not change"))
}

/// The logical ID of the notebook instance of the default blueprint's first user (who has no
/// notebook settings of their own).
fn notebook() -> String {
    format!("{}Notebook", sandboxc::compile::user_id_prefix("alice@example.org"))
}

fn unchanged(plan: &Plan, stack: &str, id: &str) -> bool {
    plan.templates.iter().filter(|t| t.stack == stack).flat_map(|t| &t.resources).all(|r| r.logical_id != id)
}

#[test]
fn no_change_at_all() {
    let plan = golden("no-change", &default_text(), &default_text());
    assert!(!plan.changes);
    assert!(json::render(&plan).contains("\"changes\": false"));
}

#[test]
fn vpc_cidr_change() {
    let plan = golden("vpc-cidr", &default_text(), &edited(&[("cidr: 10.10.0.0/16", "cidr: 10.20.0.0/16")]));
    assert_eq!(resource(&plan, "network", "Vpc").impact, Impact::CertainReplacement);
    assert_eq!(resource(&plan, "network", "Subnet1").impact, Impact::CertainReplacement);
    assert!(resource(&plan, "network", "S3Endpoint").impact >= Impact::PossibleReplacement);
    assert!(resource(&plan, "network", "SsmEndpoint").impact >= Impact::PossibleReplacement);
    // A new network replaces the notebook (new subnet and security group) under a new name (its
    // network generation); the replaced one is deleted (UpdateReplacePolicy Delete): kept, it
    // would hold on to the old subnet and security group. No fixed name blocks the replacement.
    assert!(resource(&plan, "users01", &notebook()).impact >= Impact::PossibleReplacement);
    assert!(plan.data_loss.iter().any(|d| d.logical_id == notebook() && !d.retained));
    assert!(!plan.warnings.iter().any(|w| matches!(w, Warning::FixedName { .. })), "{:#?}", plan.warnings);
}

#[test]
fn file_download_enabled() {
    let plan =
        golden("file-download", &default_text(), &edited(&[("file_download: disabled", "file_download: enabled")]));
    assert!(relaxed(&plan, "FILE_DOWNLOAD"));
    assert_eq!(resource(&plan, "appstream", "AppStreamStack").impact, Impact::Update);
    assert!(plan.data_loss.is_empty());
}

#[test]
fn trail_off() {
    let plan = golden("trail-off", &default_text(), &edited(&[("cloudtrail: true", "cloudtrail: false")]));
    assert!(relaxed(&plan, "CloudTrail trail"));
    assert!(plan.data_loss.iter().any(|d| d.logical_id == "Trail" && d.retained));
    assert_eq!(resource(&plan, "audit", "Trail").action, Action::Remove);
}

#[test]
fn environment_renamed() {
    let plan = golden("rename", &default_text(), &edited(&[("name: datasandbox ", "name: research ")]));
    assert!(plan.warnings.iter().any(|w| w.to_string().contains("NEW CloudFormation stack research")));
    assert_eq!(resource(&plan, "appstream", "Fleet").impact, Impact::CertainReplacement);
    // A replaced security group replaces the notebook with it.
    assert!(resource(&plan, "users01", &notebook()).impact >= Impact::PossibleReplacement);
}

#[test]
fn availability_zone_added() {
    let plan = golden("add-az", &default_text(), &edited(&[("availability_zones: 2", "availability_zones: 3")]));
    assert_eq!(resource(&plan, "network", "Subnet3").action, Action::Add);
    assert!(unchanged(&plan, "network", "Subnet1"));
    // The notebook's subnet is the first one: resolved across the stacks, it does not change.
    assert!(unchanged(&plan, "users01", &notebook()));
    assert_eq!(resource(&plan, "appstream", "Fleet").impact, Impact::Update);
}

#[test]
fn notebook_instance_type() {
    let plan = golden(
        "notebook-instance-type",
        &default_text(),
        &edited(&[("instance_type: ml.t3.medium", "instance_type: ml.t3.large")]),
    );
    let nb = resource(&plan, "users01", &notebook());
    assert_eq!(nb.impact, Impact::Update);
    assert!(plan.data_loss.is_empty());
    assert_eq!(plan.summary.update, 2, "the notebook and its nested stack");
}

#[test]
fn notebook_volume_size() {
    let plan = golden("notebook-volume", &default_text(), &edited(&[("volume_size_gb: 20", "volume_size_gb: 50")]));
    assert_eq!(resource(&plan, "users01", &notebook()).impact, Impact::Update);
}

#[test]
fn tag_only() {
    let plan = golden("tag-only", &default_text(), &edited(&[("tags: {}", "tags: {owner: data-platform}")]));
    assert!(plan.security.is_empty());
    assert!(plan.data_loss.is_empty());
    assert_eq!(plan.summary.replace + plan.summary.possible_replace, 0);
}

#[test]
fn saml_off_and_on() {
    // The default has no SAML role (identity.saml defaults to null): turn one on, then off.
    let saml_on = edited(&[("saml: null ", "saml: {idp_name: corporate-idp} ")]);
    let saml_off = default_text();
    let off = golden("saml-off", &saml_on, &saml_off);
    assert_eq!(resource(&off, "root", "IdentityNestedStack").action, Action::Remove);
    assert!(off
        .security
        .iter()
        .any(|s| s.category == SecurityCategory::SamlTrust && s.direction == Direction::Tightened));
    let on = golden("saml-on", &saml_off, &saml_on);
    assert_eq!(resource(&on, "root", "IdentityNestedStack").action, Action::Add);
    assert!(on.security.iter().any(|s| s.category == SecurityCategory::SamlTrust && s.direction == Direction::Relaxed));
}

#[test]
fn private_streaming_on() {
    let plan = golden(
        "private-streaming",
        &default_text(),
        &edited(&[("private_streaming: null", "private_streaming: {client_cidrs: [192.0.2.0/24]}")]),
    );
    assert!(plan
        .security
        .iter()
        .any(|s| s.category == SecurityCategory::UserSettings && s.direction == Direction::Tightened));
    assert!(relaxed(&plan, "192.0.2.0/24"));
    assert_eq!(resource(&plan, "network", "AppStreamStreamingEndpoint").action, Action::Add);
}

#[test]
fn change_inside_one_nested_stack_only() {
    let plan = golden(
        "one-nested-stack",
        &default_text(),
        &edited(&[("max_session_duration: 96h", "max_session_duration: 48h")]),
    );
    let changed: Vec<&str> = plan
        .templates
        .iter()
        .filter(|t| t.status != sandboxc::plan::model::TemplateStatus::Unchanged)
        .map(|t| t.stack.as_str())
        .collect();
    assert_eq!(changed, ["root", "appstream"]);
    let root = resource(&plan, "root", "AppStreamNestedStack");
    assert!(root.changes.is_empty(), "no TemplateURL noise: {:#?}", root.changes);
    assert!(root.notes.iter().any(|n| matches!(n, ResourceNote::NestedTemplate { stack, .. } if stack == "appstream")));
}

#[test]
fn flow_logs_off() {
    let plan = golden("flow-logs-off", &default_text(), &edited(&[("flow_logs: true", "flow_logs: false")]));
    assert!(relaxed(&plan, "flow log removed"));
    assert!(plan.data_loss.iter().any(|d| d.logical_id == "FlowLogGroup" && d.retained));
}

#[test]
fn usage_reports_off() {
    let plan =
        golden("usage-reports-off", &default_text(), &edited(&[("usage_reports: true", "usage_reports: false")]));
    assert!(relaxed(&plan, "usage-report subscription removed"));
}

/// `audit.athena` on: the Glue database and tables, the workgroup and its results bucket are
/// added to the AppStream part (where the usage-report bucket is known), the trail bucket's
/// name is passed to it, and nothing else changes.
#[test]
fn audit_athena_on() {
    let plan = golden(
        "audit-athena-on",
        &default_text(),
        &edited(&[(
            "  trail_retention_days: 365 ",
            "  athena: {bytes_scanned_limit: 10000000000, results_retention_days: 7}\n  trail_retention_days: 365 ",
        )]),
    );
    for id in ["AuditDatabase", "AuditTrailTable", "AuditSessionsTable", "AuditWorkGroup", "AuditQueryResultsBucket"] {
        assert_eq!(resource(&plan, "appstream", id).action, Action::Add, "{id}");
    }
    // The decisions bucket spares its writer's role path from a Deny (`ArnNotLike
    // aws:PrincipalArn`): that is no admin principal of the data, so nobody's access changes.
    assert!(plan.access.is_empty(), "{:#?}", plan.access);
    assert_eq!(resource(&plan, "audit", "DecisionsBucketPolicy").action, Action::Add);
    // Turning the decisions export off stops copying the validator's log events: a relaxation.
    let on = edited(&[(
        "  trail_retention_days: 365 ",
        "  athena: {bytes_scanned_limit: 10000000000, results_retention_days: 7}\n  trail_retention_days: 365 ",
    )]);
    let off = on.replace("results_retention_days: 7}", "results_retention_days: 7, export_decisions: false}");
    let back = plan_of(&on, &off);
    assert!(
        relaxed(&back, "log subscription removed: no longer copies the events of log group !Ref ValidatorLogGroup"),
        "{:#?}",
        back.security
    );
}

#[test]
fn fleet_type_always_on() {
    let plan =
        golden("fleet-always-on", &default_text(), &edited(&[("fleet_type: ON_DEMAND", "fleet_type: ALWAYS_ON")]));
    assert_eq!(resource(&plan, "appstream", "Fleet").impact, Impact::CertainReplacement);
    // The fleet's name carries its type: the new fleet is created under a new name, so the
    // replacement is not blocked by a fixed name.
    assert!(!plan.warnings.iter().any(|w| w.to_string().contains("appstream/Fleet")), "{:#?}", plan.warnings);
}

#[test]
fn log_retention_shortened() {
    let plan =
        golden("log-retention", &default_text(), &edited(&[("log_retention_days: 90", "log_retention_days: 30")]));
    assert!(relaxed(&plan, "log retention shortened: 90 -> 30"));
}

#[test]
fn explicit_bucket_name() {
    let plan = golden(
        "bucket-name",
        &default_text(),
        &edited(&[("bucket_name: null", "bucket_name: sandbox-data-example-1")]),
    );
    assert_eq!(resource(&plan, "storage", "DataBucket").impact, Impact::CertainReplacement);
    assert!(plan.data_loss.iter().any(|d| d.logical_id == "DataBucket" && d.retained));
}

#[test]
fn clipboard_out_enabled() {
    let plan = golden(
        "clipboard-out",
        &default_text(),
        &edited(&[("clipboard_copy_to_local_device: disabled", "clipboard_copy_to_local_device: enabled")]),
    );
    assert!(relaxed(&plan, "CLIPBOARD_COPY_TO_LOCAL_DEVICE"));
}

/// The golden of a plan between two template sets already built.
fn golden_sets(name: &str, old: &TemplateSet, new: &TemplateSet, base: &str) -> Plan {
    let plan = sandboxc::plan::plan(old, new, base);
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}.txt"), text::render(&plan, false));
        let md = markdown::render(&plan);
        assert!(md.chars().count() < markdown::GITHUB_COMMENT_LIMIT);
        insta::assert_snapshot!(format!("{name}.md"), md);
        insta::assert_snapshot!(format!("{name}.json"), json::render(&plan));
    });
    plan
}

#[test]
fn disruption_comes_first_when_the_fleet_must_stop() {
    let plan = golden(
        "fleet-stops",
        &default_text(),
        &edited(&[("instance_type: stream.standard.small", "instance_type: stream.standard.medium")]),
    );
    assert_eq!(resource(&plan, "appstream", "Fleet").impact, Impact::Update);
    let kinds: Vec<DisruptionKind> = plan.disruption.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, [DisruptionKind::FleetStops]);
    assert!(plan.disruption[0].what.contains("every streaming session ends"), "{:#?}", plan.disruption);
    assert!(plan.disruption[0].what.contains("(InstanceType)"));
    let text = text::render(&plan, false);
    let first_section = text.lines().skip(2).find(|l| !l.is_empty()).unwrap_or_default();
    assert_eq!(first_section, "Disruption", "{text}");
    assert!(
        text.lines().nth(1).unwrap_or_default().ends_with("; disruption: the fleet stops (sessions end)"),
        "{text}"
    );
    assert!(json::render(&plan).contains("\"kind\": \"fleet_stops\""));
    assert!(markdown::render(&plan).contains("#### :stop_sign: Disruption"));
}

#[test]
fn a_cidr_change_names_what_is_rebuilt_and_for_how_long() {
    let plan = plan_of(&default_text(), &edited(&[("cidr: 10.10.0.0/16", "cidr: 10.20.0.0/16")]));
    let kinds: Vec<DisruptionKind> = plan.disruption.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [
            DisruptionKind::NetworkReplaced,
            DisruptionKind::FleetStops,
            DisruptionKind::NotebookReplaced,
            DisruptionKind::NotebookReplaced,
            DisruptionKind::ValidatorInterrupted
        ]
    );
    let network = &plan.disruption[0];
    assert!(
        network.advice.contains("--allow-data-loss") && network.advice.contains("keep network.cidr"),
        "{network:#?}"
    );
    assert!(plan.disruption[2].what.contains("deleted with its volume"), "{:#?}", plan.disruption[2]);
}

#[test]
fn a_first_deployment_is_summarised_and_flags_only_risky_grants() {
    let new = set(&default_text());
    let old = TemplateSet { stack_name: new.stack_name.clone(), ..TemplateSet::default() };
    let plan = golden_sets("first-deployment", &old, &new, "deployed stack datasandbox in eu-west-1 (does not exist)");
    let created = plan.new_stack.as_ref().expect("a new stack");
    let all: usize = plan.templates.iter().map(|t| t.resources.len()).sum();
    assert_eq!(created.resources, all);
    assert_eq!(created.types["AWS::EC2::Subnet"], 2);
    assert_eq!(created.stacks.iter().find(|s| s.stack == "network").map(|s| s.types["AWS::EC2::VPC"]), Some(1));
    // No group of the default opens to any address (egress goes to the VPC and the S3 prefix
    // list), and no trust or key policy is listed as a relaxation.
    assert!(!plan.security.iter().any(|s| s.summary.contains("0.0.0.0/0")), "{:#?}", plan.security);
    assert!(plan.security.iter().all(|s| s.direction == Direction::Relaxed));
    assert!(
        !plan.security.iter().any(|s| matches!(s.category, SecurityCategory::Trust | SecurityCategory::KeyPolicy)),
        "{:#?}",
        plan.security
    );
    assert!(plan.security.len() < 10, "{:#?}", plan.security);
    assert!(plan.disruption.is_empty() && plan.data_loss.is_empty());
    let text = text::render(&plan, false);
    assert!(text.contains("New stack: what it creates") && !text.contains("Stack network"), "{text}");
}

#[test]
fn a_first_deployment_flags_a_group_open_to_any_address() {
    let mut new = set(&default_text());
    let file = new.templates.keys().find(|f| f.ends_with("-appstream.template.json")).cloned().unwrap();
    let mut value = new.templates[&file].to_value();
    value["Resources"]["FleetSecurityGroup"]["Properties"]["SecurityGroupEgress"][0]["CidrIp"] =
        Value::from("0.0.0.0/0");
    new.templates.insert(file, Template::parse(&value).unwrap());
    let old = TemplateSet { stack_name: new.stack_name.clone(), ..TemplateSet::default() };
    let plan = sandboxc::plan::plan(&old, &new, "nothing");
    let open: Vec<&str> =
        plan.security.iter().filter(|s| s.summary.contains("0.0.0.0/0")).map(|s| s.logical_id.as_str()).collect();
    assert_eq!(open, ["FleetSecurityGroup"], "{:#?}", plan.security);
    assert!(plan.security.iter().all(|s| s.direction == Direction::Relaxed));
}

#[test]
fn a_resource_widened_inside_fn_sub_is_a_relaxation() {
    let new = set(&default_text());
    // The base reads only the `team/` part of a user's dataset; the new template all of it.
    let mut old = new.clone();
    let file = old.templates.keys().find(|f| f.ends_with("-users01.template.json")).cloned().unwrap();
    let mut value = old.templates[&file].to_value();
    let role = value["Resources"]
        .as_object()
        .unwrap()
        .keys()
        .find(|id| id.starts_with("UserAlice") && id.ends_with("Role"))
        .cloned()
        .unwrap();
    let statements =
        value["Resources"][&role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_array_mut().unwrap();
    let read = statements.iter_mut().find(|s| s["Sid"] == "ReadObjects").unwrap();
    let resource = read["Resource"][0]["Fn::Sub"][0].as_str().unwrap().to_string();
    assert!(resource.starts_with("${V}/") && resource.ends_with("/*"), "{resource}");
    read["Resource"][0]["Fn::Sub"][0] = Value::from(resource.replace("/*", "/team/*"));
    old.templates.insert(file, Template::parse(&value).unwrap());
    let plan = golden_sets("fn-sub-widening", &old, &new, "a user's read narrowed to team/");
    let widened: Vec<&str> =
        plan.security.iter().filter(|s| s.direction == Direction::Relaxed).map(|s| s.summary.as_str()).collect();
    assert_eq!(widened.len(), 1, "{:#?}", plan.security);
    assert!(widened[0].contains("statement ReadObjects widened: resources + "), "{}", widened[0]);
    assert_eq!(plan.summary.relaxations, 1);
}

#[test]
fn a_changed_notebook_script_is_diffed_in_hunks() {
    let plan = plan_of(&default_text(), &edited(&[("name: datasandbox ", "name: research ")]));
    let script = plan
        .templates
        .iter()
        .flat_map(|t| &t.resources)
        .find(|r| r.logical_id == "NotebookScriptParameter")
        .and_then(|r| r.changes.iter().find(|c| c.path == "Properties.Value"))
        .expect("the script changes");
    let lines = sandboxc::plan::render::text_lines(script);
    assert!(lines.first().is_some_and(|(sign, l)| *sign == '@' && l.starts_with("@@ -1,")), "{lines:?}");
    assert!(lines.iter().any(|(sign, _)| *sign == ' '), "context lines: {lines:?}");
    assert!(lines.iter().any(|(sign, l)| *sign == '+' && l.contains("research")), "{lines:?}");
}

#[test]
fn markdown_is_cut_under_the_limit() {
    let plan = plan_of(&default_text(), &edited(&[("name: datasandbox ", "name: research ")]));
    let md = markdown::render_with_limit(&plan, 12_000);
    assert!(md.chars().count() <= 12_000, "{}", md.chars().count());
    assert!(md.contains("cut"), "{md}");
    assert!(md.contains("Security-relevant changes"));
}

/// A cut comment keeps every section's heading and the rows that matter most (who can reach
/// what, data loss, disruption) before security details, and says what it cut.
#[test]
fn markdown_cut_keeps_every_section_and_says_what_it_lost() {
    let plan = plan_of(&default_text(), &edited(&[("cidr: 10.10.0.0/16", "cidr: 10.20.0.0/16")]));
    assert!(!plan.data_loss.is_empty() && !plan.disruption.is_empty() && !plan.security.is_empty());
    let full = markdown::render(&plan);
    let md = markdown::render_with_limit(&plan, 6_000);
    assert!(md.chars().count() <= 6_000, "{}", md.chars().count());
    for heading in ["#### :stop_sign: Disruption", "#### Security-relevant changes", "#### Data-loss risks"] {
        assert!(full.contains(heading) && md.contains(heading), "{heading}: {md}");
    }
    assert!(md.contains("more rows cut (comment limit)") || md.contains("more row cut (comment limit)"), "{md}");
    assert!(md.contains("the sections above lost the rows they say"), "{md}");
    // Every table row is whole.
    assert!(md.lines().filter(|l| l.starts_with('|')).all(|l| l.ends_with('|')), "{md}");
}

/// SageMaker only grows a notebook's volume: a smaller size is a change that fails, warned.
#[test]
fn a_smaller_notebook_volume_is_a_change_that_fails() {
    let plan = plan_of(&default_text(), &edited(&[("volume_size_gb: 50}", "volume_size_gb: 40}")]));
    let warning = plan.warnings.iter().map(ToString::to_string).find(|w| w.contains("VolumeSizeInGB"));
    assert!(
        warning
            .as_deref()
            .is_some_and(|w| w.contains("SageMaker cannot shrink a notebook instance's volume (50 -> 40 GB")),
        "{:#?}",
        plan.warnings
    );
    let grown = plan_of(&default_text(), &edited(&[("volume_size_gb: 50}", "volume_size_gb: 60}")]));
    assert!(!grown.warnings.iter().any(|w| w.to_string().contains("VolumeSizeInGB")), "{:#?}", grown.warnings);
}

#[test]
fn object_lock_retention_shortened_is_a_relaxation() {
    let plan = plan_of(&default_text(), &edited(&[("trail_retention_days: 365", "trail_retention_days: 30 ")]));
    assert!(relaxed(&plan, "S3 Object Lock default retention shortened: 365 -> 30 days"), "{:#?}", plan.security);
    let back = plan_of(&edited(&[("trail_retention_days: 365", "trail_retention_days: 30 ")]), &default_text());
    assert!(
        back.security
            .iter()
            .any(|s| s.direction == Direction::Tightened && s.summary.contains("lengthened: 30 -> 365")),
        "{:#?}",
        back.security
    );
}

#[test]
fn colour_only_when_asked() {
    let plan = plan_of(&default_text(), &edited(&[("file_download: disabled", "file_download: enabled")]));
    assert!(!text::render(&plan, false).contains('\x1b'));
    assert!(text::render(&plan, true).contains("\x1b[1;31mRELAXED"));
}

// ---- CLI -------------------------------------------------------------------------------

fn sandboxc(args: &[&str], cwd: &Path) -> (i32, String, String) {
    // Hermetic: a plan without --against* reaches for AWS; give it fake credentials and a
    // loopback endpoint nothing listens on, so no request ever leaves the machine.
    let out = Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .args(args)
        .current_dir(cwd)
        .env_remove("NO_COLOR")
        .env_remove("AWS_PROFILE")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", cwd.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cwd.join("no-credentials"))
        .output()
        .expect("runs sandboxc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_against_dir_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("bp.yaml"), default_text()).unwrap();
    let (code, _, err) = sandboxc(&["synth", "bp.yaml", "-o", "base"], dir);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = sandboxc(&["plan", "bp.yaml", "--against", "base", "--out", "plan.json"], dir);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no changes"), "{out}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("plan.json")).unwrap()).unwrap();
    assert_eq!(saved["changes"], Value::Bool(false));
    assert_eq!(saved["schema_version"], 1);

    std::fs::write(dir.join("bp.yaml"), edited(&[("file_download: disabled", "file_download: enabled")])).unwrap();
    for format in ["text", "markdown", "json"] {
        let (code, out, err) =
            sandboxc(&["plan", "bp.yaml", "--against", "base", "--format", format, "--no-color"], dir);
        assert_eq!(code, 2, "{format}: {out}{err}");
        assert!(out.contains("FILE_DOWNLOAD"), "{out}");
        assert!(!out.contains('\x1b'));
    }

    // Errors: exit 1 with a message.
    std::fs::create_dir(dir.join("empty")).unwrap();
    let (code, _, err) = sandboxc(&["plan", "bp.yaml", "--against", "empty"], dir);
    assert_eq!(code, 1);
    assert!(err.contains("is not a sandboxc synth output directory"), "{err}");
    let (code, _, err) = sandboxc(&["plan", "bp.yaml", "--against", "missing"], dir);
    assert_eq!(code, 1);
    assert!(err.contains("not a sandboxc synth output directory"), "{err}");
    let (code, _, err) = sandboxc(&["plan", "bp.yaml"], dir);
    assert_eq!(code, 1);
    assert!(err.contains("needs AWS access"), "{err}");
    let (code, _, err) = sandboxc(&["plan", "bp.yaml", "--against", "base", "--against-git", "HEAD"], dir);
    assert_eq!(code, 1);
    assert!(err.contains("cannot be used together"), "{err}");
    // --out never overwrites what the plan compares: the blueprint or the base directory.
    let before = std::fs::read(dir.join("bp.yaml")).unwrap();
    let (code, _, err) = sandboxc(&["plan", "bp.yaml", "--against", "base", "--out", "bp.yaml"], dir);
    assert_eq!(code, 1);
    assert!(err.contains("--out bp.yaml: that is the blueprint being planned"), "{err}");
    assert_eq!(std::fs::read(dir.join("bp.yaml")).unwrap(), before);
    let manifest = std::fs::read(dir.join("base/manifest.json")).unwrap();
    let (code, _, err) = sandboxc(&["plan", "bp.yaml", "--against", "base", "--out", "base/manifest.json"], dir);
    assert_eq!(code, 1);
    assert!(err.contains("inside the --against directory"), "{err}");
    assert_eq!(std::fs::read(dir.join("base/manifest.json")).unwrap(), manifest);
    std::fs::write(dir.join("bad.yaml"), "name: X\n").unwrap();
    let (code, _, err) = sandboxc(&["plan", "bad.yaml", "--against", "base"], dir);
    assert_eq!(code, 1);
    assert!(err.contains("bad.yaml:1"), "{err}");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=sandboxc test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn cli_against_git_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    git(repo, &["init", "-q"]);
    std::fs::create_dir(repo.join("infra")).unwrap();
    std::fs::write(repo.join("infra/bp.yaml"), default_text()).unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "base"]);

    let (code, out, err) = sandboxc(&["plan", "infra/bp.yaml", "--against-git", "HEAD"], repo);
    assert_eq!(code, 0, "{out}{err}");
    // From a subdirectory too: the path is taken relative to the repository root.
    let (code, out, err) = sandboxc(&["plan", "bp.yaml", "--against-git", "HEAD"], &repo.join("infra"));
    assert_eq!(code, 0, "{out}{err}");

    std::fs::write(repo.join("infra/bp.yaml"), edited(&[("cloudtrail: true", "cloudtrail: false")])).unwrap();
    let (code, out, err) = sandboxc(&["plan", "infra/bp.yaml", "--against-git", "HEAD", "--format", "markdown"], repo);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("CloudTrail trail"), "{out}");
    git(repo, &["commit", "-q", "-am", "trail off"]);
    let (code, out, err) = sandboxc(&["plan", "infra/bp.yaml", "--against-git", "HEAD~1", "--format", "json"], repo);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("\"changes\": true"));

    let (code, _, err) = sandboxc(&["plan", "infra/bp.yaml", "--against-git", "no-such-ref"], repo);
    assert_eq!(code, 1);
    assert!(err.contains("no such revision"), "{err}");
    std::fs::write(repo.join("infra/new.yaml"), default_text()).unwrap();
    // The change that adds a blueprint: planned against nothing, everything new.
    let (code, out, err) = sandboxc(&["plan", "infra/new.yaml", "--against-git", "HEAD", "--no-color"], repo);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("infra/new.yaml at git HEAD (not there yet: everything is new)"), "{out}");
    assert!(out.contains("new stack: "), "{out}");
    // Without BLUEPRINT: the embedded default against its source file at REF (a clone of sandboxc).
    let (code, _, err) = sandboxc(&["plan", "--against-git", "HEAD"], repo);
    assert_eq!(code, 1);
    assert!(
        err.contains("blueprints/data-sandbox.yaml does not exist at HEAD") && err.contains("give your blueprint file"),
        "{err}"
    );
    std::fs::create_dir(repo.join("blueprints")).unwrap();
    std::fs::write(
        repo.join("blueprints/data-sandbox.yaml"),
        edited(&[("file_download: disabled", "file_download: enabled")]),
    )
    .unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-q", "-m", "default"]);
    let (code, out, err) = sandboxc(&["plan", "--against-git", "HEAD", "--format", "markdown"], &repo.join("infra"));
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("FILE_DOWNLOAD") && out.contains("tightened"), "{out}");
}

// ---- property tests ----------------------------------------------------------------------

fn arb_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "Resources",
        "Outputs",
        "Parameters",
        "Conditions",
        "Type",
        "Properties",
        "Value",
        "Default",
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Select",
        "Fn::Join",
        "Fn::If",
        "TemplateURL",
        "DeletionPolicy",
        "Statement",
        "Sid",
        "Key",
        "Action",
        "A",
        "B",
        "AWS::CloudFormation::Stack",
        "PolicyDocument",
        "UserSettings",
        "Principal",
        "Effect",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![
            "A",
            "B",
            "A.Arn",
            "${A}",
            "${B.Outputs.X}",
            "${",
            "AWS::Region",
            "AWS::S3::Bucket",
            "AWS::CloudFormation::Stack",
            "Allow",
            "Deny",
            "*",
            "0",
            "1"
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// Template-shaped values: resources of real types with arbitrary property values and
/// attributes, outputs with arbitrary values, parameters with arbitrary defaults.
fn arb_template() -> impl Strategy<Value = Value> {
    let types = prop::sample::select(vec![
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::IAM::Role",
        "AWS::KMS::Key",
        "AWS::S3::Bucket",
        "AWS::EC2::SecurityGroup",
        "AWS::AppStream::Stack",
        "AWS::SageMaker::NotebookInstance",
        "AWS::CloudTrail::Trail",
        "AWS::CloudFormation::Stack",
        "Custom::X",
        "AWS::Lambda::Permission",
        "AWS::EC2::VPCEndpoint",
    ]);
    let names =
        || prop::sample::select(vec!["A", "B", "Key", "Value", "TemplateURL", "PolicyDocument", "UserSettings"]);
    let properties = prop::collection::btree_map(names(), arb_json(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
    let outputs = prop::collection::btree_map(names(), arb_json(), 0..3).prop_map(|m| {
        Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), serde_json::json!({"Value": v}))).collect())
    });
    let parameters = prop::collection::btree_map(names(), arb_json(), 0..3).prop_map(|m| {
        Value::Object(
            m.into_iter().map(|(k, v)| (k.to_string(), serde_json::json!({"Type": "String", "Default": v}))).collect(),
        )
    });
    let resource = (types, properties, prop::option::of(prop::sample::select(vec!["Retain", "Delete", "Snapshot"])))
        .prop_map(|(t, props, policy)| {
            let mut r = serde_json::json!({"Type": t, "Properties": props});
            if let Some(p) = policy {
                r["DeletionPolicy"] = Value::from(p);
                r["UpdateReplacePolicy"] = Value::from(p);
            }
            r
        });
    (prop::collection::btree_map(prop::sample::select(vec!["A", "B", "C", "XNestedStack"]), resource, 0..4), outputs, parameters).prop_map(|(res, outputs, params)| {
        serde_json::json!({"Resources": res.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<serde_json::Map<String, Value>>(), "Outputs": outputs, "Parameters": params})
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn diffing_arbitrary_shaped_templates_never_panics(a in arb_template(), b in arb_template()) {
        let parse = |v: &Value| Template::parse(v).map_err(|e| TestCaseError::fail(format!("{e}: {v}")));
        let (ta, tb) = (parse(&a)?, parse(&b)?);
        // Emit -> parse -> emit is stable (equivalent spellings are read into one form).
        let again = Template::parse(&ta.to_value());
        prop_assert_eq!(again.as_ref(), Ok(&ta));
        let plan = sandboxc::plan::plan(&TemplateSet::single("x", ta.clone()), &TemplateSet::single("x", tb), "arbitrary");
        let _ = text::render(&plan, false);
        let _ = markdown::render(&plan);
        let same = sandboxc::plan::plan(&TemplateSet::single("x", ta.clone()), &TemplateSet::single("x", ta), "itself");
        prop_assert!(!same.changes, "{}", text::render(&same, false));
    }

    /// Any JSON either is refused as a template (an error, never a panic) or plans.
    #[test]
    fn diffing_arbitrary_templates_never_panics(a in arb_json(), b in arb_json()) {
        if let (Ok(a), Ok(b)) = (Template::parse(&a), Template::parse(&b)) {
            let plan = sandboxc::plan::plan(&TemplateSet::single("x", a), &TemplateSet::single("x", b), "arbitrary");
            let _ = text::render(&plan, true);
            let _ = markdown::render(&plan);
            let _ = json::render(&plan);
        }
    }

    #[test]
    fn a_template_against_itself_has_no_changes(a in arb_json()) {
        if let Ok(a) = Template::parse(&a) {
            let set = TemplateSet::single("x", a);
            let plan = sandboxc::plan::plan(&set, &set, "itself");
            prop_assert!(!plan.changes, "{}", text::render(&plan, false));
        }
    }
}

#[test]
fn key_order_is_never_a_change() {
    let a: Value = serde_json::json!({"Resources": {"A": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "k", "Value": "v"}], "BucketName": "b"}}}});
    let b: Value = serde_json::from_str(r#"{"Resources": {"A": {"Properties": {"BucketName": "b", "Tags": [{"Value": "v", "Key": "k"}]}, "Type": "AWS::S3::Bucket"}}}"#).unwrap();
    let parse = |v: &Value| Template::parse(v).unwrap();
    let plan =
        sandboxc::plan::plan(&TemplateSet::single("x", parse(&a)), &TemplateSet::single("x", parse(&b)), "reordered");
    assert!(!plan.changes);
}

/// `plan --against` takes a base template whose bytes the new side has from the new side
/// instead of parsing it: parsing the rendered bytes gives the compiled template back.
#[test]
fn every_compiled_template_reads_back_from_its_bytes() {
    for (name, source) in common::all_blueprints() {
        for t in common::compile(&source).templates {
            let back = Template::from_text(&t.text, sandboxc::cfn::render::Format::Json);
            assert!(back.as_ref() == Ok(&t.template), "{name}: {} does not read back as compiled", t.file);
        }
    }
}

#[test]
fn every_default_template_against_itself() {
    for (name, source) in common::all_blueprints() {
        let s = TemplateSet::from_compiled(&common::compile(&source)).unwrap();
        let plan = sandboxc::plan::plan(&s, &s, "itself");
        assert!(!plan.changes, "{name}");
    }
}

// ---- hand-written templates: security and replacement rules ------------------------------

fn one(resources: Value) -> TemplateSet {
    TemplateSet::single("x", Template::parse(&serde_json::json!({"Resources": resources})).unwrap())
}

fn plan_between(old: Value, new: Value) -> Plan {
    sandboxc::plan::plan(&one(old), &one(new), "hand-written")
}

#[test]
fn iam_statements_widened_narrowed_and_deny_removed() {
    let role = |actions: Value, deny: bool| {
        let mut statements = vec![
            serde_json::json!({"Sid": "Read", "Effect": "Allow", "Action": actions, "Resource": "arn:aws:s3:::b/*"}),
        ];
        if deny {
            statements.push(
                serde_json::json!({"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}),
            );
        }
        serde_json::json!({"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}}})
    };
    let wider = plan_between(
        role(serde_json::json!(["s3:GetObject"]), true),
        role(serde_json::json!(["s3:GetObject", "s3:PutObject"]), false),
    );
    assert!(relaxed(&wider, "statement Read widened: actions + s3:PutObject"), "{:#?}", wider.security);
    assert!(relaxed(&wider, "statement NoDelete removed: Deny s3:DeleteObject"), "{:#?}", wider.security);
    let narrower = plan_between(role(serde_json::json!("s3:*"), false), role(serde_json::json!("s3:GetObject"), false));
    assert!(
        narrower.security.iter().any(|s| s.direction == Direction::Tightened && s.summary.contains("narrowed")),
        "{:#?}",
        narrower.security
    );
}

#[test]
fn security_group_open_to_the_world_and_notebook_flags() {
    let sg = |cidr: &str| {
        serde_json::json!({"G": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "g", "VpcId": "vpc-1",
        "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": cidr}]}}})
    };
    let plan = plan_between(sg("10.0.0.0/16"), sg("0.0.0.0/0"));
    assert!(relaxed(&plan, "from 0.0.0.0/0 (open to any address)"), "{:#?}", plan.security);
    assert!(plan.security.iter().any(|s| s.direction == Direction::Tightened && s.summary.contains("10.0.0.0/16")));

    let nb = |internet: &str, root: Option<&str>| {
        let mut p = serde_json::json!({"NotebookInstanceName": "n", "InstanceType": "ml.t3.medium", "RoleArn": "arn", "DirectInternetAccess": internet, "SubnetId": "s"});
        if let Some(r) = root {
            p["RootAccess"] = Value::from(r);
        }
        serde_json::json!({"N": {"Type": "AWS::SageMaker::NotebookInstance", "DeletionPolicy": "Delete", "Properties": p}})
    };
    let plan = plan_between(nb("Disabled", Some("Disabled")), nb("Enabled", None));
    assert!(relaxed(&plan, "DirectInternetAccess"), "{:#?}", plan.security);
    assert!(relaxed(&plan, "RootAccess (root access on the notebook): Disabled -> Enabled"), "{:#?}", plan.security);
    assert_eq!(plan.templates[0].resources[0].impact, Impact::CertainReplacement);
    let loss = &plan.data_loss[0];
    assert!(!loss.retained && loss.summary.contains("DELETED"), "{loss:#?}");
}

#[test]
fn kms_key_spec_cannot_change_and_service_token_neither() {
    let key = |spec: &str| {
        serde_json::json!({"K": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": {"KeySpec": spec, "KeyPolicy": {"Statement": []}}},
        "C": {"Type": "Custom::Thing", "Properties": {"ServiceToken": spec}}})
    };
    let plan = plan_between(key("SYMMETRIC_DEFAULT"), key("RSA_2048"));
    let k = plan.templates[0].resources.iter().find(|r| r.logical_id == "K").unwrap();
    assert_eq!(k.replacement, sandboxc::plan::model::Replacement::Impossible);
    assert_eq!(k.impact, Impact::Update);
    assert!(plan.warnings.iter().any(|w| w.to_string().contains("KeySpec cannot change")), "{:#?}", plan.warnings);
    assert!(plan.warnings.iter().any(|w| w.to_string().contains("ServiceToken")), "{:#?}", plan.warnings);
}

#[test]
fn retention_policy_weakened_is_a_risk() {
    let bucket = |policy: &str| serde_json::json!({"B": {"Type": "AWS::S3::Bucket", "DeletionPolicy": policy, "UpdateReplacePolicy": policy}});
    let plan = plan_between(bucket("Retain"), bucket("Delete"));
    assert_eq!(plan.data_loss.len(), 2, "{:#?}", plan.data_loss);
    assert_eq!(plan.templates[0].resources[0].impact, Impact::None);
    assert!(plan.changes);
}

#[test]
fn yaml_and_single_layout_outputs_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("bp.yaml"), default_text()).unwrap();
    let (code, _, err) = sandboxc(&["synth", "bp.yaml", "-o", "yaml", "--format", "yaml"], dir);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sandboxc(&["plan", "bp.yaml", "--against", "yaml"], dir);
    assert_eq!(code, 0, "YAML templates read back equal: {out}{err}");

    std::fs::write(dir.join("single.yaml"), edited(&[("layout: nested", "layout: single")])).unwrap();
    let (code, _, err) = sandboxc(&["synth", "single.yaml", "-o", "single"], dir);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sandboxc(&["plan", "bp.yaml", "--against", "single", "--no-color"], dir);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("the layout changes (single -> nested)"), "{out}");
}

#[test]
fn a_name_that_changes_kind_is_resolved_in_each_template() {
    // `Ref Source` names a resource in the base and a parameter in the new template: the text
    // is the same, the value is not.
    let old = serde_json::json!({"Resources": {
        "Source": {"Type": "AWS::SQS::Queue"},
        "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Source"}], "PolicyDocument": {"Statement": []}}}}});
    let new = serde_json::json!({"Parameters": {"Source": {"Type": "String"}}, "Resources": {
        "Policy": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Source"}], "PolicyDocument": {"Statement": []}}}}});
    let parse = |v: &Value| TemplateSet::single("x", Template::parse(v).unwrap());
    let plan = sandboxc::plan::plan(&parse(&old), &parse(&new), "hand-written");
    let policy = resource(&plan, "root", "Policy");
    let queues = policy.changes.iter().find(|c| c.path == "Properties.Queues[0]").expect("Queues[0] possibly changes");
    assert_eq!(queues.possibly_because.as_deref(), Some("value of parameter Source changes"), "{policy:#?}");
    assert_eq!(queues.old, queues.new);
}

#[test]
fn longer_sessions_are_relaxations_and_shorter_ones_tightenings() {
    let longer = edited(&[
        ("session_expiration: 30m", "session_expiration: 12h"),
        ("max_session_duration: 96h", "max_session_duration: 100h"),
        ("idle_disconnect_timeout: 15m", "idle_disconnect_timeout: 0  "),
    ]);
    let plan = plan_of(&default_text(), &longer);
    for needle in [
        "notebook session length (the pre-signed notebook URL's SessionExpirationDurationInSeconds) longer: 1800 -> 43200 seconds",
        "MaxUserDurationInSeconds (longest streaming session) longer: 345600 -> 360000 seconds",
        "IdleDisconnectTimeoutInSeconds (an idle session is disconnected after) longer: 900 -> 0 (off) seconds",
    ] {
        assert!(relaxed(&plan, needle), "{needle}: {:#?}", plan.security);
    }
    let back = plan_of(&longer, &default_text());
    let tightened =
        |needle: &str| back.security.iter().any(|s| s.direction == Direction::Tightened && s.summary.contains(needle));
    assert!(tightened("SessionExpirationDurationInSeconds) shorter: 43200 -> 1800 seconds"), "{:#?}", back.security);
    assert!(tightened("disconnected after) shorter: 0 (off) -> 900 seconds"), "{:#?}", back.security);
    assert!(!plan_of(&default_text(), &default_text()).security.iter().any(|s| s.summary.contains("seconds")));
}

#[test]
fn a_resource_moved_under_its_fixed_name_is_a_creation_that_fails() {
    let plan = plan_of(&default_text(), &edited(&[("layout: nested", "layout: single")]));
    let warnings: Vec<String> = plan.warnings.iter().map(ToString::to_string).collect();
    let notebook = warnings.iter().find(|w| {
        w.starts_with("single/UserBobExampleOrg686b5e4cNotebook cannot be created: its NotebookInstanceName ")
    });
    assert!(
        notebook.is_some_and(|w| w.contains("is still held by users01/UserBobExampleOrg686b5e4cNotebook")
            && w.contains("is retained (DeletionPolicy Retain), so it keeps the name after the apply too")),
        "{warnings:#?}"
    );
    // Names made of each stack's own ID differ between stacks: no warning for them.
    assert!(!warnings.iter().any(|w| w.contains("AWS::StackId")), "{warnings:#?}");
    // An ordinary change moves nothing.
    let same = plan_of(&default_text(), &edited(&[("volume_size_gb: 50}", "volume_size_gb: 60}")]));
    assert!(!same.warnings.iter().any(|w| w.to_string().contains("cannot be created")), "{:#?}", same.warnings);
}
