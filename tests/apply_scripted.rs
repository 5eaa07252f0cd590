//! The deploy state machine (`apply`, `prepare`, `destroy`, `status`) against scripted AWS
//! answers (aws-smithy-mocks): every stack status, creation, a nested-stack rollback and its
//! root cause, throttling, "no changes" in both wordings, `--recreate`, the data-loss refusal,
//! a failed asset upload, an interrupted follow and the re-attach, a concurrent apply, a
//! declined prompt, destroy, drift, and a missing bootstrap stack. No network: the clients
//! never leave the process.
//!
//! Facts the scripted answers follow (AWS-FACTS.md, CloudFormation and S3 API references): a
//! missing stack is the ValidationError "Stack with id X does not exist" (by name; by ARN a
//! deleted stack still answers `DELETE_COMPLETE`); `DescribeStackEvents` answers newest first;
//! a nested stack shows in its parent's events as a resource of type
//! `AWS::CloudFormation::Stack` whose physical ID is the nested stack's ARN, and its failure
//! there reads "Embedded stack ARN was not successfully created: ..."; the resources
//! CloudFormation gives up on say "Resource creation cancelled"; "no changes" is the
//! ValidationError "No updates are to be performed." from CreateChangeSet or a FAILED change set
//! whose StatusReason says "The submitted information didn't contain changes. Submit
//! different information to create a change set."; a second update racing another one is the
//! ValidationError "Stack:ARN is in UPDATE_IN_PROGRESS state and can not be updated.";
//! throttling is the error code `Throttling` (retried by the SDK); `HeadObject` of a missing key
//! is a 404 NotFound; drift detection runs asynchronously (`DETECTION_IN_PROGRESS`, then
//! `DETECTION_COMPLETE`).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudformation::error::ErrorMetadata;
use aws_sdk_cloudformation::operation::create_change_set::{
    CreateChangeSetError, CreateChangeSetInput, CreateChangeSetOutput,
};
use aws_sdk_cloudformation::operation::delete_change_set::DeleteChangeSetOutput;
use aws_sdk_cloudformation::operation::delete_stack::DeleteStackOutput;
use aws_sdk_cloudformation::operation::describe_change_set::DescribeChangeSetOutput;
use aws_sdk_cloudformation::operation::describe_stack_drift_detection_status::DescribeStackDriftDetectionStatusOutput;
use aws_sdk_cloudformation::operation::describe_stack_events::{DescribeStackEventsError, DescribeStackEventsOutput};
use aws_sdk_cloudformation::operation::describe_stack_resource_drifts::DescribeStackResourceDriftsOutput;
use aws_sdk_cloudformation::operation::describe_stacks::{DescribeStacksError, DescribeStacksOutput};
use aws_sdk_cloudformation::operation::detect_stack_drift::DetectStackDriftOutput;
use aws_sdk_cloudformation::operation::execute_change_set::{ExecuteChangeSetError, ExecuteChangeSetOutput};
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_sdk_cloudformation::operation::list_stack_resources::ListStackResourcesOutput;
use aws_sdk_cloudformation::operation::set_stack_policy::SetStackPolicyOutput;
use aws_sdk_cloudformation::operation::update_termination_protection::UpdateTerminationProtectionOutput;
use aws_sdk_cloudformation::primitives::DateTime;
use aws_sdk_cloudformation::types::{
    Change, ChangeAction, ChangeSetStatus, ChangeSetType, ChangeSource, ChangeType, DifferenceType, EvaluationType,
    Output, Parameter, PropertyDifference, Replacement, RequiresRecreation, ResourceAttribute, ResourceChange,
    ResourceChangeDetail, ResourceStatus, ResourceTargetDefinition, Stack, StackDriftDetectionStatus, StackDriftStatus,
    StackEvent, StackResourceDrift, StackResourceDriftStatus, StackResourceSummary, StackStatus,
};
use aws_sdk_cloudformation::Client;
use aws_sdk_s3::operation::head_object::{HeadObjectError, HeadObjectOutput};
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::types::error::NotFound;
use aws_sdk_s3::Client as S3Client;
use aws_smithy_mocks::{mock, Rule, RuleMode};
use sandboxc::blueprint::Source;
use sandboxc::cfn::render::Format;
use sandboxc::deploy::apply::{apply, ApplyArgs};
use sandboxc::deploy::cfn::Cfn;
use sandboxc::deploy::console::Recorder;
use sandboxc::deploy::deployment::{
    fast_polling, prepare, Choices, DeployError, Deployer, Mode, Prepared, EXIT_FAILED, EXIT_OK,
};
use sandboxc::deploy::manage::{destroy, status, EXIT_DRIFTED};
use sandboxc::plan::TemplateSet;
use sandboxc::Release;

const STACK: &str = "tiny";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny/1";
/// The stack created again after `--recreate`.
const NEW_STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny/2";
const NESTED_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny-StorageNestedStack-X1/3";
const CHANGE_SET: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/sandboxc-apply/1";
/// The change set's `CreationTime` (ms): the execution's events come after it.
const T0: i64 = 1_764_400_000_000;

// ---- blueprints and releases ----------------------------------------------------------------

fn blueprint(layout: &str, instance_type: &str) -> String {
    format!("name: tiny\nlayout: {layout}\nidentity:\n  saml: null\nnotebook:\n  instance_type: {instance_type}\ntags:\n  owner: alice\n")
}

fn release_of(text: &str) -> Release {
    sandboxc::release(&Source { name: "bp.yaml".into(), text: text.into() }).unwrap_or_else(|e| panic!("{e}"))
}

fn single() -> Release {
    release_of(&blueprint("single", "ml.t3.medium"))
}

/// The root template `sandboxc synth` writes for a single-layout blueprint (what GetTemplate
/// answers for a stack deployed from it).
fn deployed_root(text: &str) -> String {
    let compiled = sandboxc::build(&Source { name: "old.yaml".into(), text: text.into() }, Format::Json).unwrap();
    let set = TemplateSet::from_compiled(&compiled).unwrap();
    serde_json::to_string(&set.templates[&set.root_file]).unwrap()
}

fn args() -> ApplyArgs {
    ApplyArgs {
        yes: true,
        assets_bucket: Some("assets".into()),
        lambda_dir: PathBuf::from("/nonexistent/lambda"),
        ..ApplyArgs::default()
    }
}

// ---- scripted answers -------------------------------------------------------------------------

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, entry: String) -> bool {
    log.lock().unwrap().push(entry);
    true
}

fn validation(message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code("ValidationError").message(message).build()
}

fn throttled() -> ErrorMetadata {
    ErrorMetadata::builder().code("Throttling").message("Rate exceeded").build()
}

fn stack_builder(id: &str, status: &str) -> aws_sdk_cloudformation::types::builders::StackBuilder {
    Stack::builder()
        .stack_name(STACK)
        .stack_id(id)
        .stack_status(StackStatus::from(status))
        .parameters(Parameter::builder().parameter_key("AssetsBucket").parameter_value("assets").build())
        .creation_time(DateTime::from_secs(0))
}

fn stack(id: &str, status: &str) -> Stack {
    stack_builder(id, status).build()
}

/// A stack with termination protection on.
fn protected(id: &str, status: &str) -> Stack {
    stack_builder(id, status).enable_termination_protection(true).build()
}

fn with_reason(id: &str, status: &str, reason: &str) -> Stack {
    stack_builder(id, status).stack_status_reason(reason).build()
}

/// One `DescribeStacks` answer: the stack, or "does not exist".
#[derive(Clone)]
enum Found {
    Yes(Box<Stack>),
    No,
}

fn at(id: &str, status: &str) -> Found {
    yes(stack(id, status))
}

fn yes(s: Stack) -> Found {
    Found::Yes(Box::new(s))
}

/// `DescribeStacks` of `name` (a name or an ARN; `None`: any), answering `answers` in order,
/// the last one repeatedly.
fn describe_stacks(name: Option<&'static str>, answers: Vec<Found>) -> Rule {
    let mut seq = mock!(Client::describe_stacks)
        .match_requests(move |r| name.is_none_or(|n| r.stack_name() == Some(n)))
        .sequence();
    let last = answers.len() - 1;
    for (i, a) in answers.into_iter().enumerate() {
        seq = match a {
            Found::Yes(s) => seq.output(move || DescribeStacksOutput::builder().stacks(*s.clone()).build()),
            Found::No => seq.error(|| DescribeStacksError::generic(validation("Stack with id tiny does not exist"))),
        };
        if i == last {
            return seq.repeatedly().build();
        }
    }
    unreachable!("at least one answer")
}

/// A stack event; `stack_id` is the stack it belongs to, `at` milliseconds after [`T0`].
fn event(
    stack_id: &str,
    logical: &str,
    physical: &str,
    rtype: &str,
    status: &str,
    reason: &str,
    at: i64,
) -> StackEvent {
    let name = stack_id.split('/').nth(1).unwrap_or(STACK);
    StackEvent::builder()
        .event_id(format!("{name}-{logical}-{status}-{at}"))
        .stack_id(stack_id)
        .stack_name(name)
        .logical_resource_id(logical)
        .physical_resource_id(physical)
        .resource_type(rtype)
        .timestamp(DateTime::from_millis(T0 + at))
        .resource_status(ResourceStatus::from(status))
        .resource_status_reason(reason)
        .build()
}

/// An event of the stack itself.
fn stack_event(stack_id: &str, status: &str, reason: &str, at: i64) -> StackEvent {
    let name = stack_id.split('/').nth(1).unwrap_or(STACK);
    event(stack_id, name, stack_id, "AWS::CloudFormation::Stack", status, reason, at)
}

/// `DescribeStackEvents` of `stack_id`: each answer is the whole history, oldest first (sent
/// newest first); the last one repeatedly.
fn stack_events(stack_id: &'static str, answers: Vec<Vec<StackEvent>>) -> Rule {
    let mut seq =
        mock!(Client::describe_stack_events).match_requests(move |r| r.stack_name() == Some(stack_id)).sequence();
    let last = answers.len() - 1;
    for (i, mut history) in answers.into_iter().enumerate() {
        history.reverse();
        seq = seq.output(move || DescribeStackEventsOutput::builder().set_stack_events(Some(history.clone())).build());
        if i == last {
            return seq.repeatedly().build();
        }
    }
    unreachable!("at least one answer")
}

fn resource_change(
    id: &str,
    rtype: &str,
    action: ChangeAction,
    replacement: Replacement,
    details: Vec<ResourceChangeDetail>,
) -> Change {
    let rc = ResourceChange::builder()
        .action(action)
        .logical_resource_id(id)
        .resource_type(rtype)
        .scope(ResourceAttribute::Properties)
        .replacement(replacement)
        .set_details(Some(details));
    Change::builder().r#type(ChangeType::Resource).resource_change(rc.build()).build()
}

fn recreation(name: &str, r: RequiresRecreation) -> ResourceChangeDetail {
    ResourceChangeDetail::builder()
        .target(
            ResourceTargetDefinition::builder()
                .attribute(ResourceAttribute::Properties)
                .name(name)
                .requires_recreation(r)
                .build(),
        )
        .evaluation(EvaluationType::Static)
        .change_source(ChangeSource::DirectModification)
        .build()
}

/// The notebook's instance type changes: `replacement` says whether CloudFormation replaces it.
fn notebook_change(replacement: Replacement) -> Vec<Change> {
    let r = if replacement == Replacement::True { RequiresRecreation::Always } else { RequiresRecreation::Never };
    vec![resource_change(
        "Notebook",
        "AWS::SageMaker::NotebookInstance",
        ChangeAction::Modify,
        replacement,
        vec![recreation("InstanceType", r)],
    )]
}

/// `DescribeChangeSet` of [`CHANGE_SET`]: CREATE_IN_PROGRESS once, then `status`.
fn change_set(status: ChangeSetStatus, reason: &'static str, changes: Vec<Change>) -> Rule {
    let answer = move |s: ChangeSetStatus, changes: Vec<Change>| {
        DescribeChangeSetOutput::builder()
            .change_set_id(CHANGE_SET)
            .stack_id(STACK_ID)
            .status(s)
            .status_reason(reason)
            .creation_time(DateTime::from_millis(T0))
            .set_changes(Some(changes))
            .build()
    };
    mock!(Client::describe_change_set)
        .match_requests(|r| r.change_set_name() == Some(CHANGE_SET))
        .sequence()
        .output(move || answer(ChangeSetStatus::CreateInProgress, Vec::new()))
        .output(move || answer(status.clone(), changes.clone()))
        .repeatedly()
        .build()
}

/// `GetTemplate` of [`STACK_ID`]: the root template of `text` (single layout).
fn get_template(text: &str) -> Rule {
    let body = deployed_root(text);
    mock!(Client::get_template)
        .match_requests(|r| r.stack_name() == Some(STACK_ID))
        .then_output(move || GetTemplateOutput::builder().template_body(body.clone()).build())
}

/// The rules every test shares, after the test's own (the first matching rule answers), each
/// writing what it was asked into the log.
struct Aws {
    log: Log,
    created: Arc<Mutex<Vec<CreateChangeSetInput>>>,
    create: Rule,
    execute: Rule,
    delete_change_set: Rule,
    protection: Rule,
    policy: Rule,
    delete_stack: Rule,
    put: Rule,
}

impl Aws {
    fn new() -> Self {
        let log: Log = Arc::default();
        let created: Arc<Mutex<Vec<CreateChangeSetInput>>> = Arc::default();
        let (l, c) = (log.clone(), created.clone());
        let create = mock!(Client::create_change_set)
            .match_requests(move |r| {
                c.lock().unwrap().push(r.clone());
                push(&l, format!("CreateChangeSet {}", r.change_set_type().map_or("-", ChangeSetType::as_str)))
            })
            .then_output(|| CreateChangeSetOutput::builder().id(CHANGE_SET).stack_id(STACK_ID).build());
        let l = log.clone();
        let execute = mock!(Client::execute_change_set)
            .match_requests(move |r| push(&l, format!("ExecuteChangeSet {}", r.change_set_name().unwrap_or_default())))
            .then_output(|| ExecuteChangeSetOutput::builder().build());
        let l = log.clone();
        let delete_change_set = mock!(Client::delete_change_set)
            .match_requests(move |r| push(&l, format!("DeleteChangeSet {}", r.change_set_name().unwrap_or_default())))
            .then_output(|| DeleteChangeSetOutput::builder().build());
        let l = log.clone();
        let protection = mock!(Client::update_termination_protection)
            .match_requests(move |r| {
                push(
                    &l,
                    format!(
                        "UpdateTerminationProtection {} {}",
                        r.stack_name().unwrap_or_default(),
                        r.enable_termination_protection().unwrap_or_default()
                    ),
                )
            })
            .then_output(|| UpdateTerminationProtectionOutput::builder().build());
        let l = log.clone();
        let policy = mock!(Client::set_stack_policy)
            .match_requests(move |r| {
                let body = r.stack_policy_body().unwrap_or_default();
                let kind = if body.contains("Deny") { "protecting" } else { "lifted" };
                push(&l, format!("SetStackPolicy {} {kind}", r.stack_name().unwrap_or_default()))
            })
            .then_output(|| SetStackPolicyOutput::builder().build());
        let l = log.clone();
        let delete_stack = mock!(Client::delete_stack)
            .match_requests(move |r| push(&l, format!("DeleteStack {}", r.stack_name().unwrap_or_default())))
            .then_output(|| DeleteStackOutput::builder().build());
        let l = log.clone();
        let put = mock!(S3Client::put_object)
            .match_requests(move |r| push(&l, format!("PutObject {}", r.key().unwrap_or_default())))
            .then_output(|| PutObjectOutput::builder().build());
        Self { log, created, create, execute, delete_change_set, protection, policy, delete_stack, put }
    }

    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Position of the first log entry starting with `prefix`.
    fn pos(&self, prefix: &str) -> usize {
        let log = self.log();
        log.iter().position(|e| e.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in {log:#?}"))
    }

    fn count(&self, prefix: &str) -> usize {
        self.log().iter().filter(|e| e.starts_with(prefix)).count()
    }

    /// A deployer whose clients answer `cfn` then the shared rules, and `s3` then: Lambda zips
    /// present, every other key missing, PutObject accepted, AppStream's bucket present.
    fn deployer(&self, cfn: &[Rule], s3: &[Rule]) -> Deployer {
        let list = mock!(Client::list_stack_resources).then_output(|| ListStackResourcesOutput::builder().build());
        let shared = [
            self.create.clone(),
            self.execute.clone(),
            self.delete_change_set.clone(),
            self.protection.clone(),
            self.policy.clone(),
            self.delete_stack.clone(),
            list,
        ];
        let cfn_client = common::mock_cloudformation(&cfn.iter().chain(&shared).collect::<Vec<_>>());

        let lambda_present = mock!(S3Client::head_object)
            .match_requests(|r| r.key().is_some_and(|k| k.starts_with("lambda/")))
            .then_output(|| HeadObjectOutput::builder().content_length(1).build());
        let missing =
            mock!(S3Client::head_object).then_error(|| HeadObjectError::NotFound(NotFound::builder().build()));
        // AppStream's home-folder bucket (HeadBucket), when the root template asks: present.
        let home_folders = mock!(S3Client::head_bucket)
            .then_output(|| aws_sdk_s3::operation::head_bucket::HeadBucketOutput::builder().build());
        let shared_s3 = [lambda_present, missing, self.put.clone(), home_folders];
        let mut interceptor = aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
        for rule in s3.iter().chain(&shared_s3) {
            interceptor = interceptor.with_rule(rule);
        }
        let s3_config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(
                aws_sdk_s3::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build();
        let (polling, follow) = fast_polling();
        Deployer {
            cfn: Cfn::new(cfn_client),
            s3: S3Client::from_conf(s3_config),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            polling,
            follow,
        }
    }
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn run_apply(
    aws: &Aws,
    cfn: &[Rule],
    release: &Release,
    args: &ApplyArgs,
    console: &mut Recorder,
) -> Result<u8, DeployError> {
    let d = aws.deployer(cfn, &[]);
    run(apply(&d, release, args, console))
}

/// Index of the first console line containing `needle`.
fn line_of(console: &Recorder, needle: &str) -> usize {
    console
        .lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{}", console.text()))
}

// ---- 1. every stack status --------------------------------------------------------------------

/// The settled status an in-progress one ends in.
fn settles_to(status: &str) -> &'static str {
    match status {
        "CREATE_IN_PROGRESS" => "CREATE_COMPLETE",
        "ROLLBACK_IN_PROGRESS" => "ROLLBACK_COMPLETE",
        "DELETE_IN_PROGRESS" => "DELETE_COMPLETE",
        "UPDATE_IN_PROGRESS" | "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" => "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_IN_PROGRESS" | "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" => "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_IN_PROGRESS" => "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_IN_PROGRESS" => "IMPORT_ROLLBACK_COMPLETE",
        other => panic!("{other} is not in progress"),
    }
}

#[derive(Debug)]
enum Decided {
    Update(String),
    Create,
    Error(&'static [&'static str]),
}

/// What `prepare` must decide for a settled status (independent of `StackStatus::next`).
fn expected(status: &str) -> Decided {
    match status {
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => Decided::Update(status.to_string()),
        "DELETE_COMPLETE" => Decided::Create,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => {
            Decided::Error(&["cannot be updated, only deleted", "--recreate"])
        }
        "REVIEW_IN_PROGRESS" => Decided::Error(&["never deployed", "--recreate"]),
        "UPDATE_ROLLBACK_FAILED" => {
            Decided::Error(&["continue-update-rollback --stack-name tiny", "--resources-to-skip"])
        }
        "DELETE_FAILED" => Decided::Error(&["could not be deleted", "sandboxc destroy"]),
        "UPDATE_FAILED" | "IMPORT_ROLLBACK_FAILED" => {
            Decided::Error(&["cannot update it from this state", "sandboxc status"])
        }
        other => panic!("no expectation for {other}"),
    }
}

/// `prepare` on a stack in `status`; returns the decision, the console and the shared rules.
fn prepare_at(status: &str) -> (Result<Prepared, DeployError>, Recorder, Aws) {
    let aws = Aws::new();
    let in_progress = status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS";
    let rules = if in_progress {
        let end = settles_to(status);
        // By name a deleted stack does not exist; by ARN it answers DELETE_COMPLETE.
        let by_name = if end == "DELETE_COMPLETE" { Found::No } else { at(STACK_ID, end) };
        vec![
            describe_stacks(Some(STACK), vec![at(STACK_ID, status), by_name]),
            describe_stacks(Some(STACK_ID), vec![at(STACK_ID, status), at(STACK_ID, end)]),
            stack_events(
                STACK_ID,
                vec![
                    vec![
                        stack_event(STACK_ID, "UPDATE_COMPLETE", "", -60_000),
                        stack_event(STACK_ID, status, "User Initiated", 1000),
                    ],
                    vec![
                        stack_event(STACK_ID, "UPDATE_COMPLETE", "", -60_000),
                        stack_event(STACK_ID, status, "User Initiated", 1000),
                        stack_event(STACK_ID, end, "", 2000),
                    ],
                ],
            ),
        ]
    } else {
        vec![describe_stacks(None, vec![yes(with_reason(STACK_ID, status, "reason from CloudFormation"))])]
    };
    let d = aws.deployer(&rules, &[]);
    let mut console = Recorder::default();
    let result = run(prepare(&d, STACK, Choices::default(), &mut console));
    (result, console, aws)
}

#[test]
fn every_stack_status_is_decided() {
    let mut wrong = Vec::new();
    for (name, _) in &sandboxc::deploy::status::ALL {
        let (result, console, aws) = prepare_at(name);
        let in_progress = name.ends_with("_IN_PROGRESS") && *name != "REVIEW_IN_PROGRESS";
        let want = expected(if in_progress { settles_to(name) } else { name });
        let ok = match (&want, &result) {
            (Decided::Update(s), Ok(Prepared::Ready(Mode::Update(info)))) => {
                info.status == *s && info.stack_id == STACK_ID
            }
            (Decided::Create, Ok(Prepared::Ready(Mode::Create))) => true,
            (Decided::Error(needles), Err(e)) => {
                needles.iter().all(|n| e.0.contains(n)) && e.0.contains(&format!("stack {STACK} is "))
            }
            _ => false,
        };
        if !ok {
            wrong.push(format!("{name}: expected {want:?}, got {result:?}\n{}", console.text()));
        }
        if in_progress {
            let following = console
                .lines
                .iter()
                .any(|l| l.contains(&format!("stack tiny is {name}: another deployment is running; following it")));
            let ended = console
                .lines
                .iter()
                .any(|l| l.contains(&format!("the running deployment ended: {}; deciding again", settles_to(name))));
            let shown = console
                .lines
                .iter()
                .any(|l| l.contains(settles_to(name)) && l.contains("(AWS::CloudFormation::Stack)"));
            if !(following && ended && shown) {
                wrong.push(format!(
                    "{name}: not followed (following {following}, ended {ended}, end event shown {shown}):\n{}",
                    console.text()
                ));
            }
        }
        // prepare never makes or deletes anything without --recreate.
        if aws.create.num_calls() + aws.delete_stack.num_calls() + aws.protection.num_calls() != 0 {
            wrong.push(format!("{name}: AWS calls {:?}", aws.log()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn a_failed_first_creation_explains_the_reason_and_recreate() {
    let (result, _, _) = prepare_at("ROLLBACK_COMPLETE");
    let e = result.expect_err("ROLLBACK_COMPLETE needs --recreate");
    assert!(
        e.0.contains("stack tiny is ROLLBACK_COMPLETE")
            && e.0.contains("(reason from CloudFormation)")
            && e.0.contains("Run the command again with --recreate"),
        "{e}"
    );
}

#[test]
fn review_in_progress_with_resources_is_left_alone() {
    let aws = Aws::new();
    let resources =
        mock!(Client::list_stack_resources).match_requests(|r| r.stack_name() == Some(STACK_ID)).then_output(|| {
            ListStackResourcesOutput::builder()
                .stack_resource_summaries(
                    StackResourceSummary::builder()
                        .logical_resource_id("DataBucket")
                        .physical_resource_id("tiny-data")
                        .resource_type("AWS::S3::Bucket")
                        .resource_status(ResourceStatus::CreateComplete)
                        .last_updated_timestamp(DateTime::from_secs(0))
                        .build(),
                )
                .build()
        });
    let d = aws.deployer(&[describe_stacks(None, vec![at(STACK_ID, "REVIEW_IN_PROGRESS")]), resources], &[]);
    let e = run(prepare(&d, STACK, Choices { recreate: true, ..Choices::default() }, &mut Recorder::default()))
        .expect_err("has resources");
    assert!(e.0.contains("REVIEW_IN_PROGRESS but has resources") && e.0.contains("does not delete it"), "{e}");
    assert_eq!(aws.delete_stack.num_calls(), 0);
}

#[test]
fn apply_on_a_stuck_stack_makes_no_change_set() {
    for status in ["UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "ROLLBACK_COMPLETE"] {
        let aws = Aws::new();
        let mut console = Recorder::default();
        let e = run_apply(&aws, &[describe_stacks(None, vec![at(STACK_ID, status)])], &single(), &args(), &mut console)
            .expect_err(status);
        assert!(e.0.contains(&format!("stack tiny is {status}")), "{e}");
        assert_eq!(
            (aws.create.num_calls(), aws.delete_stack.num_calls(), aws.put.num_calls()),
            (0, 0, 0),
            "{status}: {:?}",
            aws.log()
        );
    }
}

// ---- 2. create from scratch -------------------------------------------------------------------

/// The events of a successful creation of the root stack.
fn creation_events() -> Vec<StackEvent> {
    vec![
        stack_event(STACK_ID, "CREATE_IN_PROGRESS", "User Initiated", 1000),
        event(STACK_ID, "DataBucket", "", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", "", 2000),
        event(STACK_ID, "DataBucket", "tiny-data-123", "AWS::S3::Bucket", "CREATE_COMPLETE", "", 3000),
        stack_event(STACK_ID, "CREATE_COMPLETE", "", 4000),
    ]
}

/// A protected stack with outputs.
fn with_outputs(id: &str, status: &str) -> Stack {
    stack_builder(id, status)
        .enable_termination_protection(true)
        .outputs(
            Output::builder()
                .output_key("NotebookUrl")
                .output_value("https://tiny.notebook.us-east-1.sagemaker.aws")
                .description("The notebook")
                .build(),
        )
        .outputs(Output::builder().output_key("DataBucketName").output_value("tiny-data-123").build())
        .build()
}

#[test]
fn create_from_scratch() {
    let aws = Aws::new();
    let release = single();
    let cfn = [
        describe_stacks(Some(STACK), vec![Found::No, at(STACK_ID, "CREATE_IN_PROGRESS")]),
        describe_stacks(
            Some(STACK_ID),
            vec![at(STACK_ID, "CREATE_IN_PROGRESS"), yes(with_outputs(STACK_ID, "CREATE_COMPLETE"))],
        ),
        change_set(
            ChangeSetStatus::CreateComplete,
            "",
            vec![resource_change("DataBucket", "AWS::S3::Bucket", ChangeAction::Add, Replacement::False, vec![])],
        ),
        stack_events(STACK_ID, vec![creation_events()[..2].to_vec(), creation_events()]),
    ];
    let mut console = Recorder::default();
    let code =
        run_apply(&aws, &cfn, &release, &args(), &mut console).unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_OK, "{}", console.text());

    let created = aws.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1);
    let req = &created[0];
    assert_eq!(req.stack_name(), Some(STACK));
    assert_eq!(req.change_set_type(), Some(&ChangeSetType::Create));
    assert_eq!(req.include_nested_stacks(), Some(true));
    let caps: Vec<&str> = req.capabilities().iter().map(|c| c.as_str()).collect();
    assert_eq!(caps, ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]);
    let params: Vec<(Option<&str>, Option<&str>)> =
        req.parameters().iter().map(|p| (p.parameter_key(), p.parameter_value())).collect();
    assert_eq!(params[0], (Some("AssetsBucket"), Some("assets")), "{params:?}");
    assert!(req.tags().iter().any(|t| t.key() == Some("owner") && t.value() == Some("alice")), "{:?}", req.tags());
    // The root template goes inline when it fits, else by URL from the assets bucket.
    let root_len = release.files.iter().find(|(f, _)| *f == release.manifest.root_template).unwrap().1.len();
    if root_len > 51_200 {
        assert!(req.template_url().is_some_and(|u| u.starts_with("https://assets.s3.amazonaws.com/")), "{req:?}");
        assert_eq!(aws.put.num_calls(), 1, "{:?}", aws.log());
    } else {
        assert!(req.template_body().is_some() && req.template_url().is_none());
    }

    // Execute, then protection on, then the stack policy once it is created.
    let (execute, protect, policy) =
        (aws.pos("ExecuteChangeSet"), aws.pos("UpdateTerminationProtection"), aws.pos("SetStackPolicy"));
    assert!(execute < protect && protect < policy, "{:?}", aws.log());
    assert_eq!(aws.log()[protect], format!("UpdateTerminationProtection {STACK_ID} true"));
    assert_eq!(aws.log()[policy], format!("SetStackPolicy {STACK_ID} protecting"));
    assert_eq!(
        (
            aws.execute.num_calls(),
            aws.protection.num_calls(),
            aws.policy.num_calls(),
            aws.delete_change_set.num_calls()
        ),
        (1, 1, 1, 0)
    );

    // Every event once, in order, then the status and the outputs.
    let text = console.text();
    for e in [
        "CREATE_IN_PROGRESS           tiny (AWS::CloudFormation::Stack): User Initiated",
        "CREATE_COMPLETE              DataBucket (AWS::S3::Bucket)",
        "CREATE_COMPLETE              tiny (AWS::CloudFormation::Stack)",
    ] {
        assert_eq!(text.matches(e).count(), 1, "{e}:\n{text}");
    }
    assert_eq!(console.events, 4, "{text}");
    let status = line_of(&console, "stack tiny: CREATE_COMPLETE");
    assert!(line_of(&console, "termination protection is on for stack tiny") < status);
    assert_eq!(console.lines[status + 1], "outputs:");
    assert!(
        console.lines[status + 2].contains("DataBucketName") && console.lines[status + 2].ends_with("tiny-data-123"),
        "{text}"
    );
    assert!(
        console.lines[status + 3].contains("NotebookUrl")
            && console.lines[status + 3].contains("https://tiny.notebook"),
        "{text}"
    );
    assert!(console.lines[status + 4].contains("(The notebook)"), "{text}");
    assert!(console.questions.is_empty(), "--yes asks nothing");
}

// ---- 3. a nested stack's failure is the root cause ----------------------------------------------

fn nested_rollback(update: bool) {
    let aws = Aws::new();
    let (verb, cancelled, done) = if update {
        ("UPDATE", "Resource update cancelled", "UPDATE_ROLLBACK_COMPLETE")
    } else {
        ("CREATE", "Resource creation cancelled", "ROLLBACK_COMPLETE")
    };
    let (done_verb, to) = if update { ("updated", "update") } else { ("created", "create") };
    let embedded = format!("Embedded stack {NESTED_ID} was not successfully {done_verb}: The following resource(s) failed to {to}: [DataKey].");
    let failed = format!("{verb}_FAILED");
    let root_events = vec![
        stack_event(STACK_ID, &format!("{verb}_IN_PROGRESS"), "User Initiated", 1000),
        event(
            STACK_ID,
            "StorageNestedStack",
            NESTED_ID,
            "AWS::CloudFormation::Stack",
            &format!("{verb}_IN_PROGRESS"),
            "",
            2000,
        ),
        event(STACK_ID, "NotebookNestedStack", "", "AWS::CloudFormation::Stack", &failed, cancelled, 6000),
        event(STACK_ID, "StorageNestedStack", NESTED_ID, "AWS::CloudFormation::Stack", &failed, &embedded, 7000),
        stack_event(
            STACK_ID,
            if update { "UPDATE_ROLLBACK_IN_PROGRESS" } else { "ROLLBACK_IN_PROGRESS" },
            "The following resource(s) failed to create: [StorageNestedStack].",
            8000,
        ),
        stack_event(STACK_ID, done, "", 9000),
    ];
    let nested_events = vec![
        stack_event(NESTED_ID, &format!("{verb}_IN_PROGRESS"), "", 2500),
        event(NESTED_ID, "DataKey", "", "AWS::KMS::Key", &failed, "Resource handler returned message: \"User is not authorized to perform: kms:CreateKey\" (HandlerErrorCode: AccessDenied)", 4000),
        event(NESTED_ID, "DataBucket", "", "AWS::S3::Bucket", &failed, cancelled, 4500),
        stack_event(NESTED_ID, &failed, "The following resource(s) failed to create: [DataKey, DataBucket].", 5000),
    ];
    let first_seen = if update { at(STACK_ID, "UPDATE_COMPLETE") } else { Found::No };
    let mut cfn = vec![
        describe_stacks(Some(STACK), vec![first_seen, at(STACK_ID, &format!("{verb}_IN_PROGRESS"))]),
        describe_stacks(Some(STACK_ID), vec![at(STACK_ID, &format!("{verb}_IN_PROGRESS")), at(STACK_ID, done)]),
        change_set(ChangeSetStatus::CreateComplete, "", vec![]),
        stack_events(STACK_ID, vec![root_events[..2].to_vec(), root_events]),
        stack_events(NESTED_ID, vec![nested_events]),
    ];
    let release = release_of(&blueprint("nested", "ml.t3.medium"));
    if update {
        // The deployed stack: GetTemplate of the root; ListStackResources (shared) has no nested stacks.
        let body = serde_json::to_string(&release.templates.templates[&release.templates.root_file]).unwrap();
        cfn.push(
            mock!(Client::get_template)
                .then_output(move || GetTemplateOutput::builder().template_body(body.clone()).build()),
        );
    }
    let mut console = Recorder::default();
    let code =
        run_apply(&aws, &cfn, &release, &args(), &mut console).unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_FAILED, "{}", console.text());
    let cause = line_of(&console, "root cause:");
    let end = line_of(&console, &format!("stack tiny: {done}"));
    assert!(cause < end, "the root cause comes before the final status:\n{}", console.text());
    let line = &console.lines[cause];
    assert!(
        line.starts_with(
            "root cause: DataKey (AWS::KMS::Key) in the nested stack Storage (tiny-StorageNestedStack-X1)"
        ),
        "{line}"
    );
    assert!(
        line.contains(&format!("{failed}: Resource handler returned message")) && line.contains("kms:CreateKey"),
        "{line}"
    );
    // The nested stack's events were shown under its path.
    assert!(console.lines.iter().any(|l| l.contains("Storage/DataKey (AWS::KMS::Key)")), "{}", console.text());
    if update {
        // A rolled-back update keeps its resources: protected again.
        assert_eq!(aws.count("SetStackPolicy"), 1, "{:?}", aws.log());
    } else {
        assert!(console.lines[end + 1].contains("--recreate"), "{}", console.text());
        assert_eq!(aws.count("SetStackPolicy"), 0, "{:?}", aws.log());
    }
}

#[test]
fn nested_stack_failure_on_creation_is_the_root_cause() {
    nested_rollback(false);
}

#[test]
fn nested_stack_failure_on_update_is_the_root_cause() {
    nested_rollback(true);
}

// ---- 4. throttling ----------------------------------------------------------------------------

#[test]
fn throttling_is_retried() {
    let aws = Aws::new();
    let stacks = mock!(Client::describe_stacks)
        .match_requests(|r| r.stack_name() == Some(STACK))
        .sequence()
        .error(|| DescribeStacksError::generic(throttled()))
        .error(|| DescribeStacksError::generic(validation("Stack with id tiny does not exist")))
        .output(|| DescribeStacksOutput::builder().stacks(stack(STACK_ID, "CREATE_IN_PROGRESS")).build())
        .repeatedly()
        .build();
    let events = mock!(Client::describe_stack_events)
        .sequence()
        .error(|| DescribeStackEventsError::generic(throttled()))
        .output(|| {
            DescribeStackEventsOutput::builder()
                .set_stack_events(Some(creation_events().into_iter().rev().collect()))
                .build()
        })
        .repeatedly()
        .build();
    let cfn = [
        stacks.clone(),
        describe_stacks(Some(STACK_ID), vec![at(STACK_ID, "CREATE_COMPLETE")]),
        change_set(ChangeSetStatus::CreateComplete, "", vec![]),
        events.clone(),
    ];
    let mut console = Recorder::default();
    let code =
        run_apply(&aws, &cfn, &single(), &args(), &mut console).unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_OK, "{}", console.text());
    // DescribeStacks: throttled + retried "does not exist" (prepare), then the stack ID after execution.
    assert_eq!(stacks.num_calls(), 3);
    // DescribeStackEvents: throttled + retried (first round), then the last round.
    assert_eq!(events.num_calls(), 3);
    assert_eq!(console.events, 4, "{}", console.text());
    assert_eq!(aws.created.lock().unwrap()[0].change_set_type(), Some(&ChangeSetType::Create));
}

// ---- 5. no changes ----------------------------------------------------------------------------

#[test]
fn no_changes_as_a_validation_error() {
    let aws = Aws::new();
    let create = mock!(Client::create_change_set)
        .then_error(|| CreateChangeSetError::generic(validation("No updates are to be performed.")));
    let mut console = Recorder::default();
    let code = run_apply(
        &aws,
        &[describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]), create.clone()],
        &single(),
        &args(),
        &mut console,
    )
    .unwrap();
    assert_eq!(code, EXIT_OK);
    assert_eq!((create.num_calls(), aws.execute.num_calls(), aws.delete_change_set.num_calls()), (1, 0, 0));
    assert!(
        console
            .lines
            .iter()
            .any(|l| l == "no changes: stack tiny is up to date (CreateChangeSet: No updates are to be performed.)"),
        "{}",
        console.text()
    );
    assert_eq!(
        aws.log().last(),
        Some(&format!("SetStackPolicy {STACK_ID} protecting")),
        "the stack policy is set again"
    );
}

#[test]
fn no_changes_as_an_empty_change_set() {
    let aws = Aws::new();
    let reason =
        "The submitted information didn't contain changes. Submit different information to create a change set.";
    let cfn = [
        describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]),
        change_set(ChangeSetStatus::Failed, reason, vec![]),
    ];
    let mut console = Recorder::default();
    let code = run_apply(&aws, &cfn, &single(), &args(), &mut console).unwrap();
    assert_eq!(code, EXIT_OK, "{}", console.text());
    assert_eq!((aws.create.num_calls(), aws.execute.num_calls(), aws.delete_change_set.num_calls()), (1, 0, 1));
    // The empty change set is deleted; then the protecting policy is set again (an earlier
    // interrupted --allow-data-loss run may have left it lifted).
    let log = aws.log();
    assert_eq!(
        &log[log.len() - 2..],
        [format!("DeleteChangeSet {CHANGE_SET}"), format!("SetStackPolicy {STACK_ID} protecting")]
    );
    assert!(
        console.lines.iter().any(|l| l
            .starts_with("no changes: stack tiny is up to date (The submitted information didn't contain changes.")),
        "{}",
        console.text()
    );
    assert_eq!(aws.created.lock().unwrap()[0].change_set_type(), Some(&ChangeSetType::Update));
}

// ---- 6. ROLLBACK_COMPLETE and --recreate ------------------------------------------------------

#[test]
fn recreate_deletes_then_creates() {
    let aws = Aws::new();
    let old = vec![stack_event(STACK_ID, "ROLLBACK_COMPLETE", "", -60_000)];
    let mut deleting = old.clone();
    deleting.extend([
        stack_event(STACK_ID, "DELETE_IN_PROGRESS", "User Initiated", 1000),
        stack_event(STACK_ID, "DELETE_COMPLETE", "", 2000),
    ]);
    let rolled_back = yes(stack_builder(STACK_ID, "ROLLBACK_COMPLETE")
        .enable_termination_protection(true)
        .stack_status_reason("The following resource(s) failed to create: [DataKey].")
        .build());
    let cfn = [
        describe_stacks(Some(STACK), vec![rolled_back, at(NEW_STACK_ID, "CREATE_IN_PROGRESS")]),
        describe_stacks(Some(STACK_ID), vec![at(STACK_ID, "DELETE_IN_PROGRESS"), at(STACK_ID, "DELETE_COMPLETE")]),
        describe_stacks(Some(NEW_STACK_ID), vec![at(NEW_STACK_ID, "CREATE_COMPLETE")]),
        stack_events(STACK_ID, vec![old, deleting]),
        stack_events(
            NEW_STACK_ID,
            vec![vec![
                stack_event(NEW_STACK_ID, "CREATE_IN_PROGRESS", "User Initiated", 5000),
                stack_event(NEW_STACK_ID, "CREATE_COMPLETE", "", 6000),
            ]],
        ),
        change_set(ChangeSetStatus::CreateComplete, "", vec![]),
    ];
    let mut console = Recorder::default();
    let code = run_apply(&aws, &cfn, &single(), &ApplyArgs { recreate: true, ..args() }, &mut console)
        .unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_OK, "{}", console.text());
    let log = aws.log();
    let expected_order = [
        format!("UpdateTerminationProtection {STACK_ID} false"),
        format!("DeleteStack {STACK_ID}"),
        "CreateChangeSet CREATE".to_string(),
        format!("ExecuteChangeSet {CHANGE_SET}"),
        format!("UpdateTerminationProtection {NEW_STACK_ID} true"),
        format!("SetStackPolicy {NEW_STACK_ID} protecting"),
    ];
    let cfn_log: Vec<&String> = log.iter().filter(|e| !e.starts_with("PutObject")).collect();
    assert_eq!(cfn_log, expected_order.iter().collect::<Vec<_>>());
    let said = line_of(&console, "stack tiny is ROLLBACK_COMPLETE: its creation failed");
    assert!(console.lines[said].contains("--recreate: deleting it"), "{}", console.text());
    // The deletion was followed (its events shown, the old one not), before the creation.
    let deleted = line_of(&console, "DELETE_COMPLETE              tiny");
    assert!(said < deleted && deleted < line_of(&console, "stack tiny: CREATE_COMPLETE"), "{}", console.text());
    assert!(!console.text().contains("ROLLBACK_COMPLETE            tiny"), "{}", console.text());
}

#[test]
fn rollback_complete_without_recreate_deletes_nothing() {
    let aws = Aws::new();
    let mut console = Recorder::default();
    let e = run_apply(
        &aws,
        &[describe_stacks(None, vec![yes(protected(STACK_ID, "ROLLBACK_COMPLETE"))])],
        &single(),
        &args(),
        &mut console,
    )
    .expect_err("needs --recreate");
    assert!(e.0.contains("--recreate"), "{e}");
    assert_eq!(
        (aws.delete_stack.num_calls(), aws.protection.num_calls(), aws.create.num_calls()),
        (0, 0, 0),
        "{:?}",
        aws.log()
    );
}

// ---- 7. data loss -------------------------------------------------------------------------------

/// An update that replaces the notebook (the instance type changes and the change set says
/// Replacement True).
fn replacing_update(aws: &Aws, args: &ApplyArgs) -> (Result<u8, DeployError>, Recorder) {
    let old = blueprint("single", "ml.t3.medium");
    let cfn = [
        describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]),
        get_template(&old),
        change_set(ChangeSetStatus::CreateComplete, "", notebook_change(Replacement::True)),
        stack_events(
            STACK_ID,
            vec![vec![
                stack_event(STACK_ID, "UPDATE_IN_PROGRESS", "User Initiated", 1000),
                stack_event(STACK_ID, "UPDATE_COMPLETE", "", 2000),
            ]],
        ),
    ];
    let mut console = Recorder::default();
    let result = run_apply(aws, &cfn, &release_of(&blueprint("single", "ml.t3.large")), args, &mut console);
    (result, console)
}

#[test]
fn data_loss_is_refused_without_allow_data_loss() {
    let aws = Aws::new();
    let (result, console) = replacing_update(&aws, &args());
    assert_eq!(result.unwrap_or_else(|e| panic!("{e}")), EXIT_FAILED, "{}", console.text());
    let refused = line_of(&console, "refused: this change replaces or removes resources that hold data");
    assert!(
        console.lines[refused].contains("Notebook (AWS::SageMaker::NotebookInstance)")
            && console.lines[refused].contains("--allow-data-loss"),
        "{}",
        console.lines[refused]
    );
    // The plan was shown first.
    assert!(console.lines[..refused].iter().any(|l| l.contains("Notebook")), "{}", console.text());
    assert_eq!(
        (aws.delete_change_set.num_calls(), aws.execute.num_calls(), aws.policy.num_calls()),
        (1, 0, 0),
        "{:?}",
        aws.log()
    );
}

#[test]
fn allow_data_loss_lifts_the_policy_for_the_update() {
    let aws = Aws::new();
    let (result, console) = replacing_update(&aws, &ApplyArgs { allow_data_loss: true, ..args() });
    assert_eq!(result.unwrap_or_else(|e| panic!("{e}")), EXIT_OK, "{}", console.text());
    let log = aws.log();
    let lifted = aws.pos("SetStackPolicy tiny lifted");
    let execute = aws.pos("ExecuteChangeSet");
    let protecting = aws.pos(&format!("SetStackPolicy {STACK_ID} protecting"));
    assert!(lifted < execute && execute < protecting, "{log:?}");
    assert_eq!(
        (aws.delete_change_set.num_calls(), aws.execute.num_calls(), aws.policy.num_calls()),
        (0, 1, 2),
        "{log:?}"
    );
    assert!(
        line_of(&console, "--allow-data-loss: the stack policy is lifted") < line_of(&console, "executing change set")
    );
    line_of(&console, "stack tiny: UPDATE_COMPLETE");
}

// ---- 8. a failed upload -----------------------------------------------------------------------

#[test]
fn a_failed_upload_stops_before_the_change_set() {
    let aws = Aws::new();
    let release = release_of(&blueprint("nested", "ml.t3.medium"));
    let first_key =
        release.manifest.templates.iter().find_map(|t| t.s3_key.clone()).expect("nested templates are uploaded");
    let denied = mock!(S3Client::put_object).then_error(|| {
        PutObjectError::generic(
            aws_sdk_s3::error::ErrorMetadata::builder().code("AccessDenied").message("Access Denied").build(),
        )
    });
    let d = aws.deployer(&[describe_stacks(None, vec![Found::No])], std::slice::from_ref(&denied));
    let mut console = Recorder::default();
    let e = run(apply(&d, &release, &args(), &mut console)).expect_err("AccessDenied");
    assert!(
        e.0.contains(&format!("s3://assets/{first_key}"))
            && e.0.contains("(PutObject)")
            && e.0.contains("AccessDenied"),
        "{e}"
    );
    assert!(e.0.ends_with("; no change set was created"), "{e}");
    assert_eq!((denied.num_calls(), aws.create.num_calls()), (1, 0));
}

// ---- 9. interrupted, then re-attached -------------------------------------------------------------

#[test]
fn an_interrupted_follow_is_re_attached_by_the_next_apply() {
    let history = vec![stack_event(STACK_ID, "UPDATE_COMPLETE", "", -60_000)];
    let mut running = history.clone();
    running.extend([
        stack_event(STACK_ID, "UPDATE_IN_PROGRESS", "User Initiated", 1000),
        event(
            STACK_ID,
            "Notebook",
            "tiny-notebook",
            "AWS::SageMaker::NotebookInstance",
            "UPDATE_IN_PROGRESS",
            "",
            2000,
        ),
    ]);
    let mut finished = running.clone();
    finished.extend([
        event(STACK_ID, "Notebook", "tiny-notebook", "AWS::SageMaker::NotebookInstance", "UPDATE_COMPLETE", "", 3000),
        stack_event(STACK_ID, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "", 4000),
        stack_event(STACK_ID, "UPDATE_COMPLETE", "", 5000),
    ]);

    // First apply: Ctrl-C after the first event.
    let aws = Aws::new();
    let old = blueprint("single", "ml.t3.medium");
    let new = release_of(&blueprint("single", "ml.t3.large"));
    let cfn = [
        describe_stacks(Some(STACK), vec![at(STACK_ID, "UPDATE_COMPLETE")]),
        describe_stacks(Some(STACK_ID), vec![at(STACK_ID, "UPDATE_IN_PROGRESS")]),
        get_template(&old),
        change_set(ChangeSetStatus::CreateComplete, "", notebook_change(Replacement::False)),
        stack_events(STACK_ID, vec![running.clone()]),
    ];
    let mut console = Recorder { interrupt_after_events: Some(1), ..Recorder::default() };
    let code = run_apply(&aws, &cfn, &new, &args(), &mut console).unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_FAILED, "{}", console.text());
    let hint = &console.lines[console.lines.len() - 1];
    assert!(hint.contains("continues in CloudFormation") && hint.contains("sandboxc apply"), "{}", console.text());
    assert_eq!(aws.execute.num_calls(), 1);
    assert_eq!(aws.policy.num_calls(), 0, "not finished: no policy yet");

    // Second apply: follows the running update to its end, then plans again (no changes).
    let aws = Aws::new();
    let cfn = [
        describe_stacks(Some(STACK), vec![at(STACK_ID, "UPDATE_IN_PROGRESS"), at(STACK_ID, "UPDATE_COMPLETE")]),
        describe_stacks(Some(STACK_ID), vec![at(STACK_ID, "UPDATE_IN_PROGRESS"), at(STACK_ID, "UPDATE_COMPLETE")]),
        mock!(Client::describe_stack_events)
            .sequence()
            .output(move || {
                DescribeStackEventsOutput::builder()
                    .set_stack_events(Some(running.iter().rev().cloned().collect()))
                    .build()
            })
            .times(2)
            .output(move || {
                DescribeStackEventsOutput::builder()
                    .set_stack_events(Some(finished.iter().rev().cloned().collect()))
                    .build()
            })
            .repeatedly()
            .build(),
        mock!(Client::create_change_set)
            .then_error(|| CreateChangeSetError::generic(validation("No updates are to be performed."))),
    ];
    let mut console = Recorder::default();
    let code = run_apply(&aws, &cfn, &new, &args(), &mut console).unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_OK, "{}", console.text());
    let following = line_of(
        &console,
        "stack tiny is UPDATE_IN_PROGRESS: another deployment is running; following it until it ends",
    );
    let ended = line_of(&console, "the running deployment ended: UPDATE_COMPLETE; deciding again");
    let no_changes = line_of(&console, "no changes: stack tiny is up to date");
    assert!(following < ended && ended < no_changes, "{}", console.text());
    // The running deployment's events from its start (after the last settled one), each once.
    assert_eq!(console.events, 5, "{}", console.text());
    assert!(!console.text().contains("-60"), "{}", console.text());
    assert_eq!(aws.execute.num_calls(), 0);
}

// ---- 10. concurrent apply -------------------------------------------------------------------------

/// An update of the notebook whose ExecuteChangeSet is refused because another deployment
/// runs: the error and the ExecuteChangeSet rule.
fn refused_update(aws: &Aws, replacement: Replacement, args: &ApplyArgs) -> (DeployError, Rule) {
    let execute = mock!(Client::execute_change_set).then_error(|| {
        ExecuteChangeSetError::generic(validation(&format!(
            "Stack:{STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated."
        )))
    });
    let cfn = [
        describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]),
        get_template(&blueprint("single", "ml.t3.medium")),
        change_set(ChangeSetStatus::CreateComplete, "", notebook_change(replacement)),
        execute.clone(),
    ];
    let e = run_apply(aws, &cfn, &release_of(&blueprint("single", "ml.t3.large")), args, &mut Recorder::default())
        .expect_err("refused");
    (e, execute)
}

#[test]
fn a_concurrent_apply_is_refused() {
    let aws = Aws::new();
    let (e, execute) = refused_update(&aws, Replacement::False, &args());
    assert!(
        e.0.contains("is being changed by another deployment right now")
            && e.0.contains("changed nothing")
            && e.0.contains("UPDATE_IN_PROGRESS state"),
        "{e}"
    );
    assert_eq!(execute.num_calls(), 1);
    assert_eq!((aws.protection.num_calls(), aws.policy.num_calls()), (0, 0), "{:?}", aws.log());
    assert_eq!(aws.delete_change_set.num_calls(), 1, "the unexecuted change set is cleaned up: {:?}", aws.log());
}

#[test]
fn a_refused_execution_puts_the_lifted_stack_policy_back() {
    let aws = Aws::new();
    let (e, execute) = refused_update(&aws, Replacement::True, &ApplyArgs { allow_data_loss: true, ..args() });
    assert!(e.0.contains("changed nothing"), "{e}");
    let log = aws.log();
    let (lifted, protecting, deleted) = (
        aws.pos("SetStackPolicy tiny lifted"),
        aws.pos(&format!("SetStackPolicy {STACK_ID} protecting")),
        aws.pos("DeleteChangeSet"),
    );
    assert!(lifted < protecting && protecting < deleted, "{log:?}");
    assert_eq!((execute.num_calls(), aws.delete_change_set.num_calls()), (1, 1), "{log:?}");
}

#[test]
fn declining_a_new_stack_leaves_no_empty_stack_behind() {
    let aws = Aws::new();
    let cfn = [
        describe_stacks(Some(STACK), vec![Found::No]),
        change_set(
            ChangeSetStatus::CreateComplete,
            "",
            vec![resource_change("DataBucket", "AWS::S3::Bucket", ChangeAction::Add, Replacement::False, vec![])],
        ),
    ];
    let mut console = Recorder { answers: vec![false], ..Recorder::default() };
    let code = run_apply(&aws, &cfn, &single(), &ApplyArgs { yes: false, ..args() }, &mut console).unwrap();
    assert_eq!(code, EXIT_FAILED);
    let log = aws.log();
    // CREATE change sets leave an empty REVIEW_IN_PROGRESS stack: it goes with the change set,
    // so that the next apply needs no --recreate.
    assert!(aws.pos("DeleteChangeSet") < aws.pos("DeleteStack tiny"), "{log:?}");
    assert_eq!((aws.execute.num_calls(), aws.count("DeleteStack")), (0, 1), "{log:?}");
    assert!(
        console
            .text()
            .contains("sandboxc plan: stack tiny against nothing (stack tiny does not exist yet in us-east-1)"),
        "{}",
        console.text()
    );
}

#[test]
fn a_concurrent_apply_is_refused_at_the_change_set() {
    let aws = Aws::new();
    let create = mock!(Client::create_change_set).then_error(|| {
        CreateChangeSetError::generic(validation(&format!(
            "Stack:{STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated."
        )))
    });
    let cfn = [describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]), create.clone()];
    let e = run_apply(&aws, &cfn, &single(), &args(), &mut Recorder::default()).expect_err("refused");
    assert!(e.0.contains("is being changed by another deployment right now") && e.0.contains("changed nothing"), "{e}");
    assert_eq!((create.num_calls(), aws.execute.num_calls(), aws.delete_change_set.num_calls()), (1, 0, 0));
}

// ---- 11. declined ---------------------------------------------------------------------------------

#[test]
fn a_declined_prompt_deletes_the_change_set() {
    let aws = Aws::new();
    let cfn = [
        describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]),
        get_template(&blueprint("single", "ml.t3.medium")),
        change_set(ChangeSetStatus::CreateComplete, "", notebook_change(Replacement::False)),
    ];
    let mut console = Recorder { answers: vec![false], ..Recorder::default() };
    let code = run_apply(
        &aws,
        &cfn,
        &release_of(&blueprint("single", "ml.t3.large")),
        &ApplyArgs { yes: false, ..args() },
        &mut console,
    )
    .unwrap();
    assert_eq!(code, EXIT_FAILED);
    assert_eq!(console.questions, ["Apply these changes to stack tiny in account 123456789012 (us-east-1)?"]);
    assert_eq!((aws.delete_change_set.num_calls(), aws.execute.num_calls()), (1, 0));
    assert_eq!(
        console.lines.last().map(String::as_str),
        Some("apply cancelled: nothing was changed (change set deleted)")
    );
}

// ---- 12. destroy and status --drift -------------------------------------------------------------

fn summary(id: &str, physical: &str, rtype: &str) -> StackResourceSummary {
    StackResourceSummary::builder()
        .logical_resource_id(id)
        .physical_resource_id(physical)
        .resource_type(rtype)
        .resource_status(ResourceStatus::CreateComplete)
        .last_updated_timestamp(DateTime::from_secs(0))
        .build()
}

#[test]
fn destroy_lists_deletes_and_follows() {
    let aws = Aws::new();
    let template = r#"{"Description":"sandboxc data sandbox tiny","Resources":{"DataBucket":{"Type":"AWS::S3::Bucket","DeletionPolicy":"Retain","Properties":{"BucketName":"tiny-data-123"}},"Role":{"Type":"AWS::IAM::Role"}}}"#;
    let old = vec![stack_event(STACK_ID, "UPDATE_COMPLETE", "", -60_000)];
    let mut deleting = old.clone();
    deleting.extend([
        stack_event(STACK_ID, "DELETE_IN_PROGRESS", "User Initiated", 1000),
        event(STACK_ID, "Role", "tiny-role", "AWS::IAM::Role", "DELETE_COMPLETE", "", 2000),
        event(STACK_ID, "DataBucket", "tiny-data-123", "AWS::S3::Bucket", "DELETE_SKIPPED", "", 2500),
        stack_event(STACK_ID, "DELETE_COMPLETE", "", 3000),
    ]);
    let cfn = [
        describe_stacks(Some(STACK), vec![yes(protected(STACK_ID, "UPDATE_COMPLETE"))]),
        describe_stacks(Some(STACK_ID), vec![at(STACK_ID, "DELETE_IN_PROGRESS"), at(STACK_ID, "DELETE_COMPLETE")]),
        mock!(Client::get_template).then_output(move || GetTemplateOutput::builder().template_body(template).build()),
        mock!(Client::list_stack_resources).then_output(|| {
            ListStackResourcesOutput::builder()
                .stack_resource_summaries(summary("DataBucket", "tiny-data-123", "AWS::S3::Bucket"))
                .stack_resource_summaries(summary("Role", "tiny-role", "AWS::IAM::Role"))
                .build()
        }),
        stack_events(STACK_ID, vec![old, deleting]),
    ];
    let d = aws.deployer(&cfn, &[]);
    let mut console = Recorder { answers: vec![true], ..Recorder::default() };
    let code = run(destroy(&d, &single(), false, &mut console)).unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_OK, "{}", console.text());
    let l = &console.lines;
    let deleted = line_of(&console, "will be deleted (1):");
    assert_eq!(l[deleted + 1], "  Role (AWS::IAM::Role)  tiny-role");
    assert!(l[deleted + 2].starts_with("will be retained") && l[deleted + 2].ends_with("(1):"), "{}", console.text());
    assert_eq!(l[deleted + 3], "  DataBucket (AWS::S3::Bucket)  tiny-data-123");
    assert_eq!(console.questions, ["Delete stack tiny and the 1 resources above?"]);
    assert_eq!(aws.log(), [format!("UpdateTerminationProtection {STACK_ID} false"), format!("DeleteStack {STACK_ID}")]);
    assert_eq!(console.events, 4, "only the deletion's events:\n{}", console.text());
    let gone = line_of(&console, "stack tiny deleted");
    assert!(line_of(&console, "DELETE_COMPLETE              tiny (AWS::CloudFormation::Stack)") < gone);
    assert!(
        l[gone + 1].starts_with("retained, delete them by hand")
            && l[gone + 2] == "  DataBucket (AWS::S3::Bucket)  tiny-data-123",
        "{}",
        console.text()
    );
    assert!(
        l[gone + 3].starts_with("note: 1 retained resources keep fixed names (tiny-data-123)")
            && l[gone + 3].contains("cannot create the stack again"),
        "{}",
        console.text()
    );
}

#[test]
fn destroy_declined_deletes_nothing() {
    let aws = Aws::new();
    let d = aws.deployer(
        &[
            describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]),
            mock!(Client::get_template).then_output(|| {
                GetTemplateOutput::builder().template_body(r#"{"Description":"sandboxc data sandbox tiny"}"#).build()
            }),
        ],
        &[],
    );
    let mut console = Recorder::default();
    assert_eq!(run(destroy(&d, &single(), false, &mut console)).unwrap(), EXIT_FAILED);
    assert_eq!(console.lines.last().map(String::as_str), Some("destroy cancelled: nothing was changed"));
    assert!(aws.log().is_empty(), "{:?}", aws.log());
}

#[test]
fn status_with_drift_shows_the_difference() {
    let aws = Aws::new();
    let detect = mock!(Client::detect_stack_drift)
        .match_requests(|r| r.stack_name() == Some(STACK_ID))
        .then_output(|| DetectStackDriftOutput::builder().stack_drift_detection_id("drift-1").build());
    let detection = |s: StackDriftDetectionStatus| {
        DescribeStackDriftDetectionStatusOutput::builder()
            .stack_id(STACK_ID)
            .stack_drift_detection_id("drift-1")
            .detection_status(s)
            .stack_drift_status(StackDriftStatus::Drifted)
            .timestamp(DateTime::from_millis(T0))
            .build()
    };
    let polled = mock!(Client::describe_stack_drift_detection_status)
        .match_requests(|r| r.stack_drift_detection_id() == Some("drift-1"))
        .sequence()
        .output(move || detection(StackDriftDetectionStatus::DetectionInProgress))
        .output(move || detection(StackDriftDetectionStatus::DetectionComplete))
        .repeatedly()
        .build();
    let drifts = mock!(Client::describe_stack_resource_drifts)
        .match_requests(|r| r.stack_name() == Some(STACK_ID))
        .then_output(|| {
            let diff = PropertyDifference::builder()
                .property_path("/VersioningConfiguration/Status")
                .expected_value("Enabled")
                .actual_value("Suspended")
                .difference_type(DifferenceType::NotEqual)
                .build();
            let drift = StackResourceDrift::builder()
                .stack_id(STACK_ID)
                .logical_resource_id("DataBucket")
                .physical_resource_id("tiny-data-123")
                .resource_type("AWS::S3::Bucket")
                .stack_resource_drift_status(StackResourceDriftStatus::Modified)
                .property_differences(diff)
                .timestamp(DateTime::from_millis(T0))
                .build();
            DescribeStackResourceDriftsOutput::builder().stack_resource_drifts(drift).build()
        });
    let cfn = [
        describe_stacks(None, vec![yes(with_outputs(STACK_ID, "UPDATE_COMPLETE"))]),
        stack_events(STACK_ID, vec![creation_events()]),
        detect.clone(),
        polled.clone(),
        drifts.clone(),
    ];
    let d = aws.deployer(&cfn, &[]);
    let mut console = Recorder::default();
    let code = run(status(&d, &single(), true, &mut console)).unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    assert_eq!(code, EXIT_DRIFTED, "{}", console.text());
    assert_eq!((detect.num_calls(), polled.num_calls(), drifts.num_calls()), (1, 2, 1));
    assert_eq!(console.lines[0], format!("stack {STACK_ID}: UPDATE_COMPLETE"));
    assert_eq!(console.lines[1], "termination protection: on");
    line_of(&console, "latest events (4 shown):");
    line_of(&console, "outputs:");
    let drift = line_of(&console, "drift: 1 resources differ from their templates");
    assert_eq!(console.lines[drift + 1], "  ~ root/DataBucket (AWS::S3::Bucket) tiny-data-123");
    assert_eq!(
        console.lines[drift + 2],
        "      /VersioningConfiguration/Status (NOT_EQUAL): template Enabled -> actual Suspended"
    );
    assert!(aws.log().is_empty(), "status changes nothing: {:?}", aws.log());
}

// ---- 13. no bootstrap stack -----------------------------------------------------------------------

#[test]
fn a_missing_bootstrap_stack_is_explained() {
    let aws = Aws::new();
    let assets = describe_stacks(Some("sandboxc-assets"), vec![Found::No]);
    let mut console = Recorder::default();
    let e = run_apply(
        &aws,
        std::slice::from_ref(&assets),
        &single(),
        &ApplyArgs { assets_bucket: None, ..args() },
        &mut console,
    )
    .expect_err("no bucket");
    assert!(
        e.0.contains("the sandboxc-assets stack does not exist")
            && e.0.contains("`sandboxc bootstrap`")
            && e.0.contains("--assets-bucket"),
        "{e}"
    );
    assert_eq!((assets.num_calls(), aws.create.num_calls()), (1, 0));
    assert!(aws.log().is_empty(), "{:?}", aws.log());
}

#[test]
fn destroy_leaves_a_stack_sandboxc_did_not_make_alone() {
    let aws = Aws::new();
    let cfn = [
        describe_stacks(Some(STACK), vec![at(STACK_ID, "UPDATE_COMPLETE")]),
        mock!(Client::get_template).then_output(|| {
            GetTemplateOutput::builder()
                .template_body(r#"{"Description":"someone else's queue","Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}"#)
                .build()
        }),
    ];
    let d = aws.deployer(&cfn, &[]);
    let mut console = Recorder { answers: vec![true], ..Recorder::default() };
    let e = run(destroy(&d, &single(), true, &mut console)).expect_err("not sandboxc's");
    assert!(e.0.contains("was not made by sandboxc") && e.0.contains("nothing was deleted"), "{e}");
    assert_eq!((aws.count("DeleteStack"), aws.count("UpdateTerminationProtection")), (0, 0), "{:?}", aws.log());
}

#[test]
fn apply_does_not_update_a_stack_sandboxc_did_not_make() {
    let aws = Aws::new();
    let cfn = [
        describe_stacks(None, vec![at(STACK_ID, "UPDATE_COMPLETE")]),
        mock!(Client::get_template).then_output(|| {
            GetTemplateOutput::builder()
                .template_body(r#"{"Description":"someone else's queue","Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}"#)
                .build()
        }),
        change_set(
            ChangeSetStatus::CreateComplete,
            "",
            vec![resource_change("Q", "AWS::SQS::Queue", ChangeAction::Remove, Replacement::False, vec![])],
        ),
    ];
    let e = run_apply(&aws, &cfn, &single(), &args(), &mut Recorder::default()).expect_err("not sandboxc's");
    assert!(e.0.contains("was not made by sandboxc") && e.0.contains("choose another `name`"), "{e}");
    assert_eq!((aws.execute.num_calls(), aws.delete_change_set.num_calls()), (0, 1), "{:?}", aws.log());
}
