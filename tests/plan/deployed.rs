//! `sandboxc plan` against the deployed stack (no `--against*`): scripted CloudFormation
//! answers (aws-smithy-mocks) for the change-set facts, "no changes" wordings, a missing
//! stack, throttling and AccessDenied; and one end-to-end run against the moto server on
//! loopback (`SANDBOXC_MOTO_ENDPOINT`, set by scripts/test.sh).
//!
//! Facts the scripted answers follow (CloudFormation API reference): a missing
//! stack is the ValidationError "Stack with id X does not exist"; "no changes" is a FAILED
//! change set whose StatusReason says "The submitted information didn't contain changes..."
//! or "No updates are to be performed.", or that ValidationError from CreateChangeSet;
//! a nested stack's change carries the nested change set's ARN in `ResourceChange.ChangeSetId`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use common::{moto, sandboxc_aws as sandboxc};

use std::time::Duration;

use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::create_change_set::{CreateChangeSetError, CreateChangeSetOutput};
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{DescribeStacksError, DescribeStacksOutput};
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeSource, Parameter, Replacement, RequiresRecreation, ResourceAttribute,
    ResourceChange, ResourceChangeDetail, ResourceTargetDefinition, Stack, StackResourceSummary, StackStatus,
};
use aws_sdk_cloudformation::Client;
use aws_smithy_mocks::{mock, Rule};
use sandboxc::aws::cloudformation::Cfn;
use sandboxc::blueprint::Source;
use sandboxc::cfn::render::Format;
use sandboxc::cli::args::PlanFormat;
use sandboxc::cli::error::CliError;
use sandboxc::cli::plan::{against_deployed, finish, new_output, DeployedOptions, PlanOutput as Outcome};
use sandboxc::cli::ExitStatus;
use sandboxc::deploy::cloudformation::Polling;
use sandboxc::plan::model::{Action, Impact, ResourceChange as PlannedChange};
use sandboxc::plan::refine::ChangeReplacement;
use sandboxc::plan::{ResourceNote, TemplateSet, Warning};

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny/1";
const CHANGE_SET: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/sandboxc-plan-1/1";
const NESTED_CHANGE_SET: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/nested/2";
const NESTED_STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny-NotebookNestedStack-X/2";

/// A small single-layout blueprint (its compact root template fits CreateChangeSet's
/// 51,200-byte TemplateBody), in shared notebook mode: one notebook, `Notebook`, without users,
/// and without idle stop (its lifecycle script alone is about 6 KB of the template).
fn tiny(instance_type: &str, layout: &str) -> String {
    format!("name: tiny\nlayout: {layout}\nappstream:\n  image_name: img\nidentity:\n  saml: null\nnotebook:\n  mode: shared\n  instance_type: {instance_type}\n  idle_stop: 0\n")
}

/// The templates `sandboxc synth` would write for `text`: (root, [(nested logical ID, body)]).
fn deployed(text: &str) -> (String, Vec<(String, String)>) {
    let compiled =
        sandboxc::cli::build::build(&Source { name: "old.yaml".into(), text: text.into() }, Format::Json).unwrap();
    let set = TemplateSet::from_compiled(&compiled).unwrap();
    let root = set.templates[&set.root_file].clone();
    let mut nested = Vec::new();
    for (id, r) in &root.resources {
        if r.kind == "AWS::CloudFormation::Stack" {
            let file = set.nested_file(id.as_str(), r).unwrap();
            nested.push((id.to_string(), serde_json::to_string(&set.templates[&file]).unwrap()));
        }
    }
    (serde_json::to_string(&root).unwrap(), nested)
}

fn stack_rule() -> Rule {
    mock!(Client::describe_stacks).then_output(stack_output)
}

fn stack_output() -> DescribeStacksOutput {
    DescribeStacksOutput::builder()
        .stacks(
            Stack::builder()
                .stack_name("tiny")
                .stack_id(STACK_ID)
                .stack_status(StackStatus::UpdateComplete)
                .parameters(Parameter::builder().parameter_key("AssetsBucket").parameter_value("tiny-assets").build())
                .creation_time(aws_sdk_cloudformation::primitives::DateTime::from_secs(0))
                .build(),
        )
        .build()
}

fn template_rules(old: &str) -> Vec<Rule> {
    let (root, nested) = deployed(old);
    let mut rules = vec![mock!(Client::get_template)
        .match_requests(|r| r.stack_name() == Some(STACK_ID))
        .then_output(move || GetTemplateOutput::builder().template_body(root.clone()).build())];
    let mut list = ListStackResourcesOutput::builder();
    for (id, body) in nested {
        let physical =
            if id == "NotebookNestedStack" { NESTED_STACK_ID.to_string() } else { format!("{STACK_ID}-{id}") };
        list = list.stack_resource_summaries(
            StackResourceSummary::builder()
                .logical_resource_id(&id)
                .physical_resource_id(&physical)
                .resource_type("AWS::CloudFormation::Stack")
                .resource_status(aws_sdk_cloudformation::types::ResourceStatus::UpdateComplete)
                .last_updated_timestamp(aws_sdk_cloudformation::primitives::DateTime::from_secs(0))
                .build(),
        );
        rules.push(
            mock!(Client::get_template)
                .match_requests(move |r| r.stack_name() == Some(physical.as_str()))
                .then_output(move || GetTemplateOutput::builder().template_body(body.clone()).build()),
        );
    }
    let list = list.build();
    rules.push(mock!(Client::list_stack_resources).then_output(move || list.clone()));
    rules
}

fn create_rule() -> Rule {
    mock!(Client::create_change_set)
        .match_requests(|r| {
            r.include_nested_stacks() == Some(true)
                && r.capabilities().len() == 3
                && r.template_body().is_some_and(|b| b.len() <= 51_200)
                && r.change_set_type() == Some(&aws_sdk_cloudformation::types::ChangeSetType::Update)
        })
        .then_output(|| CreateChangeSetOutput::builder().id(CHANGE_SET).stack_id(STACK_ID).build())
}

fn delete_rule() -> Rule {
    mock!(Client::delete_change_set).then_output(|| DeleteChangeSetOutput::builder().build())
}

fn change(
    id: &str,
    rtype: &str,
    action: ChangeAction,
    replacement: Option<Replacement>,
    details: Vec<ResourceChangeDetail>,
) -> Change {
    let mut rc = ResourceChange::builder()
        .action(action)
        .logical_resource_id(id)
        .resource_type(rtype)
        .scope(ResourceAttribute::Properties);
    if let Some(r) = replacement {
        rc = rc.replacement(r);
    }
    for d in details {
        rc = rc.details(d);
    }
    Change::builder().r#type(aws_sdk_cloudformation::types::ChangeType::Resource).resource_change(rc.build()).build()
}

fn detail(name: &str, recreation: RequiresRecreation) -> ResourceChangeDetail {
    ResourceChangeDetail::builder()
        .target(
            ResourceTargetDefinition::builder()
                .attribute(ResourceAttribute::Properties)
                .name(name)
                .requires_recreation(recreation)
                .build(),
        )
        .evaluation(aws_sdk_cloudformation::types::EvaluationType::Static)
        .change_source(ChangeSource::DirectModification)
        .build()
}

fn described(id: &'static str, status: ChangeSetStatus, reason: &'static str, changes: Vec<Change>) -> Rule {
    mock!(Client::describe_change_set).match_requests(move |r| r.change_set_name() == Some(id)).then_output(move || {
        DescribeChangeSetOutput::builder()
            .change_set_id(id)
            .stack_id(STACK_ID)
            .status(status.clone())
            .status_reason(reason)
            .set_changes(Some(changes.clone()))
            .build()
    })
}

fn client(rules: &[Rule]) -> Client {
    common::mock_cloudformation(&rules.iter().collect::<Vec<_>>())
}

const FAST: Polling =
    Polling { initial: Duration::from_millis(1), max: Duration::from_millis(5), timeout: Duration::from_secs(10) };

/// Plans `new` (a blueprint text) against the scripted answers, in us-east-1, rendered as
/// text without colour.
fn plan(new: &str, options: DeployedOptions, rules: &[Rule]) -> Result<Outcome, CliError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bp.yaml");
    std::fs::write(&path, new).unwrap();
    let (_, new) = new_output(Some(&path))?;
    let options = DeployedOptions { polling: FAST, ..options };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let plan = runtime.block_on(against_deployed(&Cfn::new(client(rules)), &new, "us-east-1", &options))?;
    finish(plan, PlanFormat::Text, false, None)
}

fn resource<'p>(o: &'p Outcome, id: &str) -> &'p PlannedChange {
    o.plan
        .templates
        .iter()
        .flat_map(|t| &t.resources)
        .find(|r| r.logical_id == id)
        .unwrap_or_else(|| panic!("{id} does not change:\n{}", o.rendered))
}

/// The notebook's instance type changes (offline: an in-place update); the change set says
/// `replacement` about it.
fn notebook_case(replacement: Replacement, details: Vec<ResourceChangeDetail>) -> (Outcome, [Rule; 2]) {
    let old = tiny("ml.t3.medium", "single");
    let new = tiny("ml.t3.large", "single");
    let create = create_rule();
    let delete = delete_rule();
    let mut rules = vec![stack_rule(), create.clone(), delete.clone()];
    rules.extend(template_rules(&old));
    rules.push(described(
        CHANGE_SET,
        ChangeSetStatus::CreateComplete,
        "",
        vec![change("Notebook", "AWS::SageMaker::NotebookInstance", ChangeAction::Modify, Some(replacement), details)],
    ));
    let outcome = plan(&new, DeployedOptions::default(), &rules).unwrap_or_else(|e| panic!("{e}"));
    (outcome, [create, delete])
}

#[test]
fn replacement_true_is_certain() {
    let (o, [create, delete]) =
        notebook_case(Replacement::True, vec![detail("InstanceType", RequiresRecreation::Always)]);
    let nb = resource(&o, "Notebook");
    assert_eq!((nb.impact, nb.action), (Impact::CertainReplacement, Action::Replace), "{}", o.rendered);
    assert!(
        nb.changes.iter().any(|c| c.note.as_deref().is_some_and(|n| n.contains("RequiresRecreation Always"))),
        "{:#?}",
        nb.changes
    );
    assert!(o.plan.data_loss.iter().any(|d| d.logical_id == "Notebook" && d.impact == Impact::CertainReplacement));
    assert_eq!(o.status.code(), 2);
    assert_eq!((create.num_calls(), delete.num_calls()), (1, 1));
    assert!(o.plan.base.contains("deployed stack tiny in us-east-1"), "{}", o.plan.base);
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("replacement-true.txt", o.rendered));
}

#[test]
fn replacement_conditional_is_possible() {
    let (o, _) =
        notebook_case(Replacement::Conditional, vec![detail("InstanceType", RequiresRecreation::Conditionally)]);
    let nb = resource(&o, "Notebook");
    assert_eq!((nb.impact, nb.action), (Impact::PossibleReplacement, Action::Replace), "{}", o.rendered);
    assert_eq!(o.status.code(), 2);
}

#[test]
fn replacement_false_is_an_update() {
    let (o, _) = notebook_case(Replacement::False, vec![detail("InstanceType", RequiresRecreation::Never)]);
    let nb = resource(&o, "Notebook");
    assert_eq!((nb.impact, nb.action), (Impact::Update, Action::Modify), "{}", o.rendered);
    assert!(nb.notes.contains(&ResourceNote::ChangeSetReplacement(ChangeReplacement::False)), "{:#?}", nb.notes);
    assert!(nb.notes.iter().any(|n| n.to_string().contains("Replacement False")), "{:#?}", nb.notes);
    assert_eq!(o.status.code(), 2);
    assert_eq!(o.plan.summary.update, 1, "{:#?}", o.plan.summary);
}

#[test]
fn nested_change_sets_are_followed() {
    let old = tiny("ml.t3.medium", "nested");
    let new = tiny("ml.t3.large", "nested");
    let nested_described = described(
        NESTED_CHANGE_SET,
        ChangeSetStatus::CreateComplete,
        "",
        vec![change(
            "Notebook",
            "AWS::SageMaker::NotebookInstance",
            ChangeAction::Modify,
            Some(Replacement::True),
            vec![detail("InstanceType", RequiresRecreation::Always)],
        )],
    );
    let root_change = {
        let rc = ResourceChange::builder()
            .action(ChangeAction::Modify)
            .logical_resource_id("NotebookNestedStack")
            .resource_type("AWS::CloudFormation::Stack")
            .replacement(Replacement::False)
            .change_set_id(NESTED_CHANGE_SET)
            .build();
        Change::builder().r#type(aws_sdk_cloudformation::types::ChangeType::Resource).resource_change(rc).build()
    };
    let mut rules = vec![
        stack_rule(),
        create_rule(),
        delete_rule(),
        nested_described.clone(),
        described(CHANGE_SET, ChangeSetStatus::CreateComplete, "", vec![root_change]),
    ];
    rules.extend(template_rules(&old));
    let o = plan(&new, DeployedOptions::default(), &rules).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(nested_described.num_calls(), 1);
    let t = o.plan.templates.iter().find(|t| t.stack == "notebook").expect("notebook stack");
    let nb = t.resources.iter().find(|r| r.logical_id == "Notebook").expect("Notebook changes");
    assert_eq!(nb.impact, Impact::CertainReplacement, "{}", o.rendered);
    // The other nested stacks are unchanged: their deployed templates were matched by logical ID.
    assert!(
        o.plan.templates.iter().filter(|t| t.stack != "notebook" && t.stack != "root").all(|t| t.resources.is_empty()),
        "{}",
        o.rendered
    );
    assert_eq!(o.status.code(), 2);
}

#[test]
fn missing_stack_plans_all_new() {
    let create = create_rule();
    let rules = [
        mock!(Client::describe_stacks).then_error(|| {
            DescribeStacksError::generic(
                ErrorMetadata::builder().code("ValidationError").message("Stack with id tiny does not exist").build(),
            )
        }),
        create.clone(),
    ];
    let o = plan(&tiny("ml.t3.medium", "single"), DeployedOptions::default(), &rules).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), 2);
    assert_eq!(create.num_calls(), 0, "no change set for a missing stack");
    assert!(o.plan.templates.iter().flat_map(|t| &t.resources).all(|r| r.action == Action::Add));
    assert!(o.plan.summary.add > 40, "{:#?}", o.plan.summary);
    assert!(
        o.plan
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::StackDoesNotExist { .. }) && w.to_string().contains("does not exist")),
        "{:#?}",
        o.plan.warnings
    );
}

fn no_changes_case(reason: &'static str) {
    let old = tiny("ml.t3.medium", "single");
    let delete = delete_rule();
    let mut rules = vec![
        stack_rule(),
        create_rule(),
        delete.clone(),
        described(CHANGE_SET, ChangeSetStatus::Failed, reason, vec![]),
    ];
    rules.extend(template_rules(&old));
    let o = plan(&old, DeployedOptions::default(), &rules).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), 0, "{}", o.rendered);
    assert!(!o.plan.changes);
    assert_eq!(delete.num_calls(), 1, "the empty change set is deleted");
}

#[test]
fn a_failed_change_set_falls_back_to_the_template_diff() {
    let old = tiny("ml.t3.medium", "single");
    let delete = delete_rule();
    let reason = "Template error: TemplateURL must be a supported URL.";
    let mut rules = vec![
        stack_rule(),
        create_rule(),
        delete.clone(),
        described(CHANGE_SET, ChangeSetStatus::Failed, reason, vec![]),
    ];
    rules.extend(template_rules(&old));
    let o = plan(&tiny("ml.m5.xlarge", "single"), DeployedOptions::default(), &rules).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), 2, "{}", o.rendered);
    assert_eq!(resource(&o, "Notebook").action, Action::Modify);
    assert!(
        o.plan.warnings.iter().any(|w| matches!(w, Warning::ChangeSetFailed { reason: r, .. } if r.contains(reason))
            && w.to_string().contains("could not create the change set")),
        "{:?}",
        o.plan.warnings
    );
    assert_eq!(delete.num_calls(), 1, "the failed change set is deleted");
}

#[test]
fn no_changes_wording_didnt_contain_changes() {
    no_changes_case(
        "The submitted information didn't contain changes. Submit different information to create a change set.",
    );
}

#[test]
fn no_changes_wording_no_updates() {
    no_changes_case("No updates are to be performed.");
}

#[test]
fn no_changes_as_a_validation_error() {
    let old = tiny("ml.t3.medium", "single");
    let delete = delete_rule();
    let mut rules = vec![
        stack_rule(),
        delete.clone(),
        mock!(Client::create_change_set).then_error(|| {
            CreateChangeSetError::generic(
                ErrorMetadata::builder().code("ValidationError").message("No updates are to be performed.").build(),
            )
        }),
    ];
    rules.extend(template_rules(&old));
    let o = plan(&old, DeployedOptions::default(), &rules).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), 0);
    assert_eq!(delete.num_calls(), 0, "no change set was created");
}

#[test]
fn keep_change_set_prints_its_arn() {
    let old = tiny("ml.t3.medium", "single");
    let delete = delete_rule();
    let mut rules = vec![
        stack_rule(),
        create_rule(),
        delete.clone(),
        described(
            CHANGE_SET,
            ChangeSetStatus::CreateComplete,
            "",
            vec![change(
                "Notebook",
                "AWS::SageMaker::NotebookInstance",
                ChangeAction::Modify,
                Some(Replacement::False),
                vec![],
            )],
        ),
    ];
    rules.extend(template_rules(&old));
    let o = plan(
        &tiny("ml.t3.large", "single"),
        DeployedOptions { keep_change_set: true, ..DeployedOptions::default() },
        &rules,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(delete.num_calls(), 0);
    assert!(o.rendered.contains(CHANGE_SET), "{}", o.rendered);
    assert_eq!(o.plan.change_set.as_deref(), Some(CHANGE_SET));
    assert_eq!(o.status.code(), 2);
}

#[test]
fn throttling_is_retried() {
    let old = tiny("ml.t3.medium", "single");
    let throttled = mock!(Client::describe_stacks)
        .sequence()
        .error(|| {
            DescribeStacksError::generic(ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build())
        })
        .output(stack_output)
        .build();
    let mut rules = vec![
        throttled.clone(),
        create_rule(),
        delete_rule(),
        described(CHANGE_SET, ChangeSetStatus::Failed, "No updates are to be performed.", vec![]),
    ];
    rules.extend(template_rules(&old));
    let o = plan(&old, DeployedOptions::default(), &rules).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(throttled.num_calls(), 2, "one throttled attempt, one retry");
    assert_eq!(o.status.code(), 0);
}

#[test]
fn access_denied_is_a_clear_error() {
    let rules = [mock!(Client::describe_stacks)
        .then_error(|| DescribeStacksError::generic(ErrorMetadata::builder().code("AccessDenied").message("User: arn:aws:iam::123456789012:user/x is not authorized to perform: cloudformation:DescribeStacks").build()))];
    let err = plan(&tiny("ml.t3.medium", "single"), DeployedOptions::default(), &rules)
        .expect_err("AccessDenied is an error");
    let text = err.to_string();
    assert!(text.contains("AWS denied DescribeStacks") && text.contains("cloudformation:DescribeStacks"), "{text}");
    assert_eq!(ExitStatus::Failure.code(), 1);
}

// ---- end to end against moto --------------------------------------------------------------

/// A PUT without a body signature to moto's S3 on loopback (path style): creates a bucket
/// (`/bucket`) or an object (`/bucket/key`). Loopback only.
fn http_put(port: &str, path: &str, body: &[u8]) {
    use std::io::{Read, Write};
    let mut conn =
        std::net::TcpStream::connect(("127.0.0.1", port.parse::<u16>().expect("port"))).expect("moto answers");
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    conn.write_all(body).unwrap();
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "PUT {path}: {answer}");
}

/// The synth output as moto 5.2 can create it (measured against moto 5.2.5): moto reads KMS key tags as `TagKey`/`TagValue` and SSM parameter tags as a list
/// (both fail on CloudFormation's forms), and never answers custom resources (it needs
/// Docker), so those tags, the custom resources and what refers to them are dropped; the
/// Lambda code objects are put into the assets bucket (`put(key)`).
fn moto_compatible(root: &str, put: impl Fn(&str)) -> String {
    let mut t: serde_json::Value = serde_json::from_str(root).unwrap();
    let resources = t["Resources"].as_object_mut().unwrap();
    let custom: Vec<String> = resources
        .iter()
        .filter(|(_, r)| r["Type"].as_str().unwrap().starts_with("Custom::"))
        .map(|(k, _)| k.clone())
        .collect();
    for k in &custom {
        resources.remove(k);
    }
    let mut keys = std::collections::BTreeSet::new();
    for r in resources.values_mut() {
        let rtype = r["Type"].as_str().unwrap().to_string();
        if rtype == "AWS::KMS::Key" || rtype == "AWS::SSM::Parameter" {
            r["Properties"].as_object_mut().unwrap().remove("Tags");
        }
        if rtype == "AWS::Lambda::Function" {
            keys.insert(r["Properties"]["Code"]["S3Key"].as_str().unwrap().to_string());
        }
        if let Some(list) = r.get_mut("DependsOn").and_then(serde_json::Value::as_array_mut) {
            list.retain(|d| !custom.iter().any(|c| d == c.as_str()));
        }
        if r.get("DependsOn").and_then(serde_json::Value::as_str).is_some_and(|d| custom.iter().any(|c| c == d)) {
            r.as_object_mut().unwrap().remove("DependsOn");
        }
    }
    for key in keys {
        put(&key);
    }
    if let Some(outputs) = t.get_mut("Outputs").and_then(serde_json::Value::as_object_mut) {
        outputs.retain(|_, v| !custom.iter().any(|c| v.to_string().contains(c.as_str())));
    }
    serde_json::to_string(&t).unwrap()
}

#[test]
fn end_to_end_against_moto() {
    let Some(endpoint) = moto() else { return };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let stack = format!("e2e{}", std::process::id());
    let old = format!(
        "name: {stack}\nlayout: single\nappstream:\n  image_name: img\nidentity:\n  saml: null\nnetwork:\n  flow_logs: false\nnotebook:\n  mode: shared\n  instance_type: ml.t3.medium\n  idle_stop: 0\n"
    );
    // Without flow logs and idle stop: the compact root template must fit TemplateBody (51,200
    // bytes), also with a long stack name.
    let (root, _) = deployed(&old);
    let port = endpoint.trim_start_matches("http://127.0.0.1:").trim_end_matches('/');
    let bucket = format!("{stack}-assets");
    http_put(port, &format!("/{bucket}"), b"");
    let root = moto_compatible(&root, |key| {
        http_put(port, &format!("/{bucket}/{key}"), b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0")
    });
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .endpoint_url(&endpoint)
        .build();
    let client = Client::from_conf(config);
    runtime
        .block_on(
            client
                .create_stack()
                .stack_name(&stack)
                .template_body(root)
                .parameters(Parameter::builder().parameter_key("AssetsBucket").parameter_value(&bucket).build())
                // What `sandboxc apply` looks up (EC2 DescribePrefixLists); any list ID does here.
                .parameters(
                    Parameter::builder()
                        .parameter_key("S3PrefixListId")
                        .parameter_value("pl-0123456789abcdef0")
                        .build(),
                )
                .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityNamedIam)
                .send(),
        )
        .unwrap_or_else(|e| panic!("CreateStack on moto: {}", aws_sdk_cloudformation::error::DisplayErrorContext(&e)));

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("bp.yaml"), old.replace("ml.t3.medium", "ml.t3.large")).unwrap();
    let (code, out, err) = sandboxc(&["plan", "bp.yaml", "--no-color", "--format", "json"], dir, &endpoint);
    assert_eq!(code, 2, "{out}{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let notebook = plan["templates"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["logical_id"] == "Notebook")
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(notebook["changes"][0]["path"], "Properties.InstanceType", "{out}");
    assert_eq!(notebook["changes"][0]["new"], "ml.t3.large", "{out}");
    assert!(plan["base"].as_str().unwrap().contains("deployed stack"), "{out}");

    // The change set was deleted: nothing is left on the stack.
    // (moto 5.2 lists every stack's change sets, executed ones included: keep this stack's.)
    let sets = runtime.block_on(client.list_change_sets().stack_name(&stack).send()).unwrap();
    let left: Vec<_> = sets.summaries().iter().filter(|s| s.stack_name() == Some(stack.as_str())).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_root_template_over_51200_bytes_needs_the_assets_bucket() {
    // Six zones, private streaming and long tags: the single template is over 51,200 bytes
    // even as compact JSON (CloudFormation's TemplateBody limit).
    let big = "name: tiny\nlayout: single\nappstream:\n  image_name: img\nnetwork:\n  availability_zones: 6\n  private_streaming:\n    client_cidrs: [10.0.0.0/16, 10.1.0.0/16]\ntags:\n  owner: a-very-long-owner-name-for-testing-the-template-size\n  cost-center: research-and-development-department-number-42\n";
    let create = create_rule();
    let mut rules = vec![stack_rule(), create.clone(), delete_rule()];
    rules.extend(template_rules(&tiny("ml.t3.medium", "single")));
    let err = plan(big, DeployedOptions::default(), &rules).expect_err("too big for TemplateBody");
    let text = err.to_string();
    assert!(
        text.contains("51200 bytes") && text.contains("assets bucket") && text.contains("sandboxc apply"),
        "{text}"
    );
    assert_eq!(create.num_calls(), 0);
}

/// A root parameter the deployed stack lacks but apply would set (the Region's S3 prefix list,
/// new in the templates) goes to the plan's change set with the value apply would give it;
/// the other parameters keep their deployed values.
#[test]
fn the_s3_prefix_list_reaches_the_change_set() {
    let old = tiny("ml.t3.medium", "single");
    let create = mock!(Client::create_change_set)
        .match_requests(|r| {
            let given = |key: &str| r.parameters().iter().find(|p| p.parameter_key() == Some(key)).cloned();
            given("S3PrefixListId").is_some_and(|p| p.parameter_value() == Some("pl-0123456789abcdef0"))
                && given("AssetsBucket").is_some_and(|p| p.use_previous_value() == Some(true))
        })
        .then_output(|| CreateChangeSetOutput::builder().id(CHANGE_SET).stack_id(STACK_ID).build());
    let mut rules = vec![
        stack_rule(),
        create.clone(),
        delete_rule(),
        described(CHANGE_SET, ChangeSetStatus::Failed, "No updates are to be performed.", vec![]),
    ];
    rules.extend(template_rules(&old));
    let values = vec![("S3PrefixListId".to_string(), "pl-0123456789abcdef0".to_string())];
    let o =
        plan(&old, DeployedOptions { values, ..DeployedOptions::default() }, &rules).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(create.num_calls(), 1, "the change set got the prefix list and the deployed bucket");
    assert_eq!(o.status.code(), 0);
}
