//! The stack lifecycle (`apply`, `prepare`, `destroy`, `status`) against an in-memory
//! CloudFormation and assets bucket (tests/fake): every stack status, creation, a nested-stack
//! rollback and its root cause, "no changes" in both wordings, `--recreate`, the data-loss
//! refusal, a failed asset upload, an interrupted follow and the re-attach, a concurrent
//! apply, a declined prompt, destroy, drift, and a missing bootstrap stack. Each test asserts
//! the typed outcome and the calls made; how an outcome reads is the command line's
//! (`sandboxc::cli::deploy::render`), checked where the words matter. The AWS SDK side
//! (status parsing, paging, error classification, throttling, timeouts) is tested in
//! src/aws/tests.rs.
//!
//! Facts the scripted answers follow (CloudFormation and S3 API references): a missing stack
//! is the ValidationError "Stack with id X does not exist" (by name; by ARN a deleted stack
//! still answers `DELETE_COMPLETE`); `DescribeStackEvents` answers newest first; a nested
//! stack shows in its parent's events as a resource of type `AWS::CloudFormation::Stack` whose
//! physical ID is the nested stack's ARN, and its failure there reads "Embedded stack ARN was
//! not successfully created: ..."; the resources CloudFormation gives up on say "Resource
//! creation cancelled"; "no changes" is the ValidationError "No updates are to be performed."
//! from CreateChangeSet or a FAILED change set whose StatusReason says "The submitted
//! information didn't contain changes. Submit different information to create a change set.";
//! a second update racing another one is the ValidationError "Stack:ARN is in
//! UPDATE_IN_PROGRESS state and can not be updated." (the adapter's `CfnError::Conflict`);
//! `HeadObject` of a missing key is a 404 NotFound; drift detection runs asynchronously
//! (`DETECTION_IN_PROGRESS`, then `DETECTION_COMPLETE`).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::fake;

use fake::{Call, FakeCfn, FakePrefixLists, FakeProbe, FakeStore, ANY, S3_PREFIX_LIST};
use sandboxc::blueprint::Source;
use sandboxc::cfn::render::Format;
use sandboxc::cli::deploy::render;
use sandboxc::cli::ExitStatus;
use sandboxc::deploy::apply::{apply, ApplyOptions, LambdaZips};
use sandboxc::deploy::assets::StoreError;
use sandboxc::deploy::cloudformation::{
    CfnError, ChangeSetKind, ChangeSetState, DriftDetection, PropertyDifference, ResourceDrift, StackEvent, StackInfo,
    StackOutput, StackResource, TemplateSource,
};
use sandboxc::deploy::console::{Console, Recorder};
use sandboxc::deploy::deployment::{fast_polling, prepare, Choices, Deployer, Mode, Prepared};
use sandboxc::deploy::manage::{destroy, status};
use sandboxc::deploy::outcome::{describe_root_cause, DeployError, Failed, Interrupted, NoChanges, Outcome, Refusal};
use sandboxc::deploy::status::{ChangeSetStatus, DetectionStatus, ResourceDriftStatus, ResourceStatus, StackStatus};
use sandboxc::deploy::Release;
use sandboxc::output::AssetEntry;
use sandboxc::plan::refine::{ChangeAction, ChangeReplacement, DetailFact, RequiresRecreation, ResourceFact};
use sandboxc::plan::TemplateSet;

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
    format!("name: tiny\nlayout: {layout}\nappstream:\n  image_name: img\nidentity:\n  saml: null\nnotebook:\n  instance_type: {instance_type}\ntags:\n  owner: alice\n")
}

fn release_of(text: &str) -> Release {
    sandboxc::cli::build::release(&Source { name: "bp.yaml".into(), text: text.into() })
        .unwrap_or_else(|e| panic!("{e}"))
        .1
}

fn single() -> Release {
    release_of(&blueprint("single", "ml.t3.medium"))
}

/// The root template `sandboxc synth` writes for a single-layout blueprint (what GetTemplate
/// answers for a stack deployed from it).
fn deployed_root(text: &str) -> String {
    let compiled =
        sandboxc::cli::build::build(&Source { name: "old.yaml".into(), text: text.into() }, Format::Json).unwrap();
    let set = TemplateSet::from_compiled(&compiled).unwrap();
    serde_json::to_string(&set.templates[&set.root_file]).unwrap()
}

/// `--yes`, `--assets-bucket assets`.
fn options() -> ApplyOptions {
    ApplyOptions {
        choices: Choices { yes: true, ..Choices::default() },
        assets_bucket: Some("assets".into()),
        ..ApplyOptions::default()
    }
}

/// The image every test blueprint's fleet names.
pub const IMAGE: &str = "img";

/// A preflight probe that finds the image and nothing in the way.
fn clear() -> FakeProbe {
    FakeProbe::with_image(IMAGE)
}

/// The Lambda zips are all in the bucket already (the fake says so for `lambda/` keys):
/// asking for one is a failure of the test.
struct NoZips;

impl LambdaZips for NoZips {
    fn zip(&mut self, a: &AssetEntry, _: &str, _: &mut dyn Console) -> Result<Vec<u8>, String> {
        Err(format!("the test has no zip {}", a.function))
    }
}

// ---- scripted answers -------------------------------------------------------------------------

fn stack(id: &str, status: &str) -> StackInfo {
    StackInfo {
        stack_id: id.into(),
        status: StackStatus::parse(status),
        reason: String::new(),
        parameters: vec![("AssetsBucket".into(), "assets".into())],
        outputs: Vec::new(),
        termination_protection: false,
    }
}

fn at(id: &str, status: &str) -> Option<StackInfo> {
    Some(stack(id, status))
}

/// A stack with termination protection on.
fn protected(id: &str, status: &str) -> StackInfo {
    StackInfo { termination_protection: true, ..stack(id, status) }
}

fn with_reason(id: &str, status: &str, reason: &str) -> StackInfo {
    StackInfo { reason: reason.into(), ..stack(id, status) }
}

/// A protected stack with outputs.
fn with_outputs(id: &str, status: &str) -> StackInfo {
    StackInfo {
        outputs: vec![
            StackOutput {
                key: "NotebookUrl".into(),
                value: "https://tiny.notebook.us-east-1.sagemaker.aws".into(),
                description: "The notebook".into(),
            },
            StackOutput { key: "DataBucketName".into(), value: "tiny-data-123".into(), description: String::new() },
        ],
        ..protected(id, status)
    }
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
    StackEvent {
        id: format!("{name}-{logical}-{status}-{at}"),
        stack_id: stack_id.into(),
        stack_name: name.into(),
        logical_id: logical.into(),
        physical_id: physical.into(),
        resource_type: rtype.into(),
        timestamp_ms: T0 + at,
        status: ResourceStatus::parse(status),
        reason: reason.into(),
    }
}

/// An event of the stack itself.
fn stack_event(stack_id: &str, status: &str, reason: &str, at: i64) -> StackEvent {
    let name = stack_id.split('/').nth(1).unwrap_or(STACK);
    event(stack_id, name, stack_id, "AWS::CloudFormation::Stack", status, reason, at)
}

fn resource_change(
    id: &str,
    rtype: &str,
    action: ChangeAction,
    replacement: ChangeReplacement,
    details: Vec<DetailFact>,
) -> (ResourceFact, Option<String>) {
    let fact = ResourceFact {
        stack_path: String::new(),
        logical_id: id.into(),
        resource_type: rtype.into(),
        action,
        replacement: Some(replacement),
        scope: vec!["Properties".into()],
        details,
    };
    (fact, None)
}

fn recreation(name: &str, r: RequiresRecreation) -> DetailFact {
    DetailFact {
        attribute: "Properties".into(),
        name: Some(name.into()),
        requires_recreation: Some(r),
        evaluation: Some("Static".into()),
        change_source: Some("DirectModification".into()),
        causing_entity: None,
    }
}

/// The notebook's instance type changes: `replacement` says whether CloudFormation replaces it.
fn notebook_change(replacement: ChangeReplacement) -> Vec<(ResourceFact, Option<String>)> {
    let r = if replacement == ChangeReplacement::True { RequiresRecreation::Always } else { RequiresRecreation::Never };
    vec![resource_change(
        "Notebook",
        "AWS::SageMaker::NotebookInstance",
        ChangeAction::Modify,
        replacement,
        vec![recreation("InstanceType", r)],
    )]
}

/// `DescribeChangeSet` of [`CHANGE_SET`]: CREATE_IN_PROGRESS once, then `status`.
fn change_set(fake: &FakeCfn, status: ChangeSetStatus, reason: &str, changes: Vec<(ResourceFact, Option<String>)>) {
    let state = |status: ChangeSetStatus, changes| ChangeSetState {
        status,
        reason: reason.to_string(),
        created_ms: T0,
        changes,
    };
    fake.change_set(CHANGE_SET, vec![state(ChangeSetStatus::CreateInProgress, Vec::new()), state(status, changes)]);
}

/// A fresh CloudFormation whose `CreateChangeSet` answers [`CHANGE_SET`].
fn cfn() -> FakeCfn {
    let fake = FakeCfn::default();
    fake.create(vec![Ok(CHANGE_SET.into())]);
    fake
}

fn deployer(fake: &FakeCfn, store: &FakeStore) -> Deployer<FakeCfn, FakeStore> {
    let (polling, follow) = fast_polling();
    Deployer {
        cfn: fake.clone(),
        store: store.clone(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        polling,
        follow,
    }
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn run_apply(
    fake: &FakeCfn,
    release: &Release,
    options: &ApplyOptions,
    console: &mut Recorder,
) -> Result<Outcome, DeployError> {
    let d = deployer(fake, &FakeStore::default());
    run(apply(&d, release, options, &mut NoZips, &clear(), &FakePrefixLists::default(), console))
}

/// The outcome, or the test fails showing the console.
fn outcome(result: Result<Outcome, DeployError>, console: &Recorder) -> Outcome {
    result.unwrap_or_else(|e| panic!("{e}\n{}", console.text()))
}

/// The refusal of an outcome, as text.
fn refusal(o: &Outcome) -> String {
    match o {
        Outcome::Refused(r) => r.to_string(),
        other => panic!("not refused: {other:?}"),
    }
}

/// The rendered error of an outcome (what `sandboxc` prints on standard error).
fn error_text(o: &Outcome) -> String {
    let r = render(o);
    assert_eq!(r.status, ExitStatus::Failure, "{o:?}");
    r.error.map(|e| e.lines().join("\n")).unwrap_or_default()
}

fn shown(console: &Recorder, needle: &str) -> bool {
    console.lines.iter().any(|l| l.contains(needle))
}

fn is_create(c: &Call) -> bool {
    matches!(c, Call::CreateChangeSet(_))
}
fn is_execute(c: &Call) -> bool {
    matches!(c, Call::ExecuteChangeSet(_))
}
fn is_delete_change_set(c: &Call) -> bool {
    matches!(c, Call::DeleteChangeSet(_))
}
fn is_delete_stack(c: &Call) -> bool {
    matches!(c, Call::DeleteStack(_))
}
fn is_protection(c: &Call) -> bool {
    matches!(c, Call::TerminationProtection(..))
}
fn is_policy(c: &Call) -> bool {
    matches!(c, Call::StackPolicy(..))
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
    Refused(&'static [&'static str]),
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
            Decided::Refused(&["cannot be updated, only deleted", "--recreate"])
        }
        "REVIEW_IN_PROGRESS" => Decided::Refused(&["never deployed", "--recreate"]),
        "UPDATE_ROLLBACK_FAILED" => {
            Decided::Refused(&["continue-update-rollback --stack-name tiny", "--resources-to-skip"])
        }
        "DELETE_FAILED" => Decided::Refused(&["could not be deleted", "sandboxc destroy"]),
        "UPDATE_FAILED" | "IMPORT_ROLLBACK_FAILED" => {
            Decided::Refused(&["cannot update it from this state", "sandboxc status"])
        }
        other => panic!("no expectation for {other}"),
    }
}

/// `prepare` on a stack in `status`; returns the decision, the console and the CloudFormation.
fn prepare_at(status: &str, choices: Choices) -> (Result<Prepared, DeployError>, Recorder, FakeCfn) {
    let fake = cfn();
    let in_progress = status.ends_with("_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS";
    if in_progress {
        let end = settles_to(status);
        // By name a deleted stack does not exist; by ARN it answers DELETE_COMPLETE.
        let by_name = if end == "DELETE_COMPLETE" { None } else { at(STACK_ID, end) };
        fake.stack(STACK, vec![at(STACK_ID, status), by_name])
            .stack(STACK_ID, vec![at(STACK_ID, status), at(STACK_ID, end)])
            .events(
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
            );
    } else {
        fake.stack(ANY, vec![Some(with_reason(STACK_ID, status, "reason from CloudFormation"))]);
    }
    let d = deployer(&fake, &FakeStore::default());
    let mut console = Recorder::default();
    let result = run(prepare(&d, STACK, choices, &mut console));
    (result, console, fake)
}

#[test]
fn every_stack_status_is_decided() {
    let mut wrong = Vec::new();
    for (name, _) in StackStatus::ALL {
        let (result, console, fake) = prepare_at(name, Choices::default());
        let in_progress = name.ends_with("_IN_PROGRESS") && *name != "REVIEW_IN_PROGRESS";
        let want = expected(if in_progress { settles_to(name) } else { name });
        let ok = match (&want, &result) {
            (Decided::Update(s), Ok(Prepared::Ready(Mode::Update(info)))) => {
                info.status.as_str() == s && info.stack_id == STACK_ID
            }
            (Decided::Create, Ok(Prepared::Ready(Mode::Create))) => true,
            (Decided::Refused(needles), Ok(Prepared::Stop(o @ Outcome::Refused(_)))) => {
                let text = refusal(o);
                needles.iter().all(|n| text.contains(n)) && text.contains(&format!("stack {STACK} is "))
            }
            _ => false,
        };
        if !ok {
            wrong.push(format!("{name}: expected {want:?}, got {result:?}\n{}", console.text()));
        }
        if in_progress {
            let following =
                shown(&console, &format!("stack tiny is {name}: another deployment is running; following it"));
            let ended = shown(&console, &format!("the running deployment ended: {}; deciding again", settles_to(name)));
            let end_event = console
                .lines
                .iter()
                .any(|l| l.contains(settles_to(name)) && l.contains("(AWS::CloudFormation::Stack)"));
            if !(following && ended && end_event) {
                wrong.push(format!(
                    "{name}: not followed (following {following}, ended {ended}, end event shown {end_event}):\n{}",
                    console.text()
                ));
            }
        }
        // prepare never makes or deletes anything without --recreate.
        if fake.count(|c| is_create(c) || is_delete_stack(c) || is_protection(c)) != 0 {
            wrong.push(format!("{name}: AWS calls {:?}", fake.log()));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn a_failed_first_creation_explains_the_reason_and_recreate() {
    let (result, _, _) = prepare_at("ROLLBACK_COMPLETE", Choices::default());
    let Ok(Prepared::Stop(o)) = result else { panic!("ROLLBACK_COMPLETE needs --recreate: {result:?}") };
    assert!(
        matches!(
            &o,
            Outcome::Refused(Refusal::NeedsRecreate {
                status: StackStatus::RollbackComplete,
                never_deployed: false,
                ..
            })
        ),
        "{o:?}"
    );
    let text = refusal(&o);
    assert!(
        text.contains("stack tiny is ROLLBACK_COMPLETE")
            && text.contains("(reason from CloudFormation)")
            && text.contains("Run the command again with --recreate"),
        "{text}"
    );
}

#[test]
fn review_in_progress_with_resources_is_left_alone() {
    let fake = cfn();
    fake.stack(ANY, vec![at(STACK_ID, "REVIEW_IN_PROGRESS")]).resources(
        STACK_ID,
        vec![StackResource {
            logical_id: "DataBucket".into(),
            physical_id: "tiny-data".into(),
            resource_type: "AWS::S3::Bucket".into(),
            status: ResourceStatus::CreateComplete,
        }],
    );
    let d = deployer(&fake, &FakeStore::default());
    let result =
        run(prepare(&d, STACK, Choices { recreate: true, ..Choices::default() }, &mut Recorder::default())).unwrap();
    let Prepared::Stop(o) = result else { panic!("has resources: {result:?}") };
    assert!(matches!(o, Outcome::Refused(Refusal::ReviewWithResources { .. })), "{o:?}");
    let text = refusal(&o);
    assert!(text.contains("REVIEW_IN_PROGRESS but has resources") && text.contains("does not delete it"), "{text}");
    assert_eq!(fake.count(is_delete_stack), 0);
}

#[test]
fn apply_on_a_stuck_stack_makes_no_change_set() {
    for status in ["UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "ROLLBACK_COMPLETE"] {
        let fake = cfn();
        fake.stack(ANY, vec![at(STACK_ID, status)]);
        let store = FakeStore::default();
        let mut console = Recorder::default();
        let o = outcome(
            run(apply(
                &deployer(&fake, &store),
                &single(),
                &options(),
                &mut NoZips,
                &clear(),
                &FakePrefixLists::default(),
                &mut console,
            )),
            &console,
        );
        assert!(refusal(&o).contains(&format!("stack tiny is {status}")), "{o:?}");
        assert_eq!(
            (fake.count(is_create), fake.count(is_delete_stack), store.puts().len()),
            (0, 0, 0),
            "{status}: {:?}",
            fake.log()
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

#[test]
fn create_from_scratch() {
    let fake = cfn();
    let store = FakeStore::default();
    let release = single();
    fake.stack(STACK, vec![None, at(STACK_ID, "CREATE_IN_PROGRESS")])
        .stack(STACK_ID, vec![at(STACK_ID, "CREATE_IN_PROGRESS"), Some(with_outputs(STACK_ID, "CREATE_COMPLETE"))])
        .events(STACK_ID, vec![creation_events()[..2].to_vec(), creation_events()]);
    change_set(
        &fake,
        ChangeSetStatus::CreateComplete,
        "",
        vec![resource_change("DataBucket", "AWS::S3::Bucket", ChangeAction::Add, ChangeReplacement::False, vec![])],
    );
    let mut console = Recorder::default();
    let lists = FakePrefixLists::default();
    let o = outcome(
        run(apply(&deployer(&fake, &store), &release, &options(), &mut NoZips, &clear(), &lists, &mut console)),
        &console,
    );
    let Outcome::Deployed { stack, info } = &o else { panic!("{o:?}\n{}", console.text()) };
    assert_eq!((stack.as_str(), &info.status), (STACK, &StackStatus::CreateComplete));
    let outputs: Vec<(&str, &str)> = info.outputs.iter().map(|o| (o.key.as_str(), o.value.as_str())).collect();
    assert!(outputs.contains(&("DataBucketName", "tiny-data-123")), "{outputs:?}");
    assert!(outputs.contains(&("NotebookUrl", "https://tiny.notebook.us-east-1.sagemaker.aws")), "{outputs:?}");
    assert_eq!(render(&o).lines[0], "stack tiny: CREATE_COMPLETE");

    let created = fake.created();
    assert_eq!(created.len(), 1);
    let req = &created[0];
    assert_eq!(req.stack_name, STACK);
    assert_eq!(req.kind, ChangeSetKind::Create, "a CREATE change set");
    assert_eq!(req.parameters[0], ("AssetsBucket".to_string(), Some("assets".to_string())), "{:?}", req.parameters);
    // The root template declares S3PrefixListId: apply looked the Region's S3 list up and set it.
    assert_eq!(lists.asked(), ["com.amazonaws.us-east-1.s3"]);
    assert!(
        req.parameters.contains(&("S3PrefixListId".to_string(), Some(S3_PREFIX_LIST.to_string()))),
        "{:?}",
        req.parameters
    );
    assert!(req.tags.contains(&("owner".to_string(), "alice".to_string())), "{:?}", req.tags);
    // The root template goes inline when it fits, else by URL from the assets bucket.
    let root_len = release.files.iter().find(|(f, _)| *f == release.manifest.root_template).unwrap().1.len();
    if root_len > 51_200 {
        assert!(
            matches!(&req.template, TemplateSource::Url(u) if u.starts_with("https://assets.s3.amazonaws.com/")),
            "{req:?}"
        );
        assert_eq!(store.puts().len(), 1, "{:?}", store.puts());
    } else {
        assert!(matches!(req.template, TemplateSource::Body(_)), "{req:?}");
    }

    // Execute, then protection on, then the stack policy once it is created.
    let (execute, protect, policy) =
        (fake.pos("ExecuteChangeSet"), fake.pos("UpdateTerminationProtection"), fake.pos("SetStackPolicy"));
    assert!(execute < protect && protect < policy, "{:?}", fake.log());
    assert_eq!(fake.log()[protect], format!("UpdateTerminationProtection {STACK_ID} true"));
    assert_eq!(fake.log()[policy], format!("SetStackPolicy {STACK_ID} protecting"));
    assert_eq!(
        (fake.count(is_execute), fake.count(is_protection), fake.count(is_policy), fake.count(is_delete_change_set)),
        (1, 1, 1, 0)
    );

    // Every event once, then the protection said.
    let text = console.text();
    for e in [
        "CREATE_IN_PROGRESS           tiny (AWS::CloudFormation::Stack): User Initiated",
        "CREATE_COMPLETE              DataBucket (AWS::S3::Bucket)",
        "CREATE_COMPLETE              tiny (AWS::CloudFormation::Stack)",
    ] {
        assert_eq!(text.matches(e).count(), 1, "{e}:\n{text}");
    }
    assert_eq!(console.events, 4, "{text}");
    assert!(shown(&console, "termination protection is on for stack tiny"), "{text}");
    assert!(console.questions.is_empty(), "--yes asks nothing");
}

/// A deployment whose stack policy cannot be set on a nested stack is not a plain success: the
/// stateful resources there would have no data-loss guard (exit 1, with what to do).
#[test]
fn a_stack_policy_that_cannot_be_set_on_a_nested_stack_fails_the_apply() {
    let fake = cfn();
    let store = FakeStore::default();
    fake.stack(STACK, vec![None, at(STACK_ID, "CREATE_IN_PROGRESS")])
        .stack(STACK_ID, vec![at(STACK_ID, "CREATE_IN_PROGRESS"), Some(with_outputs(STACK_ID, "CREATE_COMPLETE"))])
        .events(STACK_ID, vec![creation_events()[..2].to_vec(), creation_events()])
        .resources(STACK_ID, vec![summary("StorageNestedStack", NESTED_ID, "AWS::CloudFormation::Stack")])
        .refuse_policy(
            NESTED_ID,
            CfnError::Call { api: "SetStackPolicy", message: "InternalFailure: not implemented".into() },
        );
    change_set(&fake, ChangeSetStatus::CreateComplete, "", vec![]);
    let mut console = Recorder::default();
    let o = outcome(
        run(apply(
            &deployer(&fake, &store),
            &single(),
            &options(),
            &mut NoZips,
            &clear(),
            &FakePrefixLists::default(),
            &mut console,
        )),
        &console,
    );
    let Outcome::Failed(Failed::Unprotected { status: Some(status), problems, .. }) = &o else {
        panic!("{o:?}\n{}", console.text())
    };
    assert_eq!(status, &StackStatus::CreateComplete);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with(NESTED_ID) && problems[0].contains("not implemented"), "{problems:?}");
    // The root stack was protected; the nested one was tried.
    assert_eq!(fake.changes("SetStackPolicy"), 2, "{:?}", fake.log());
    let text = error_text(&o);
    assert!(text.starts_with("error: stack tiny was deployed (CREATE_COMPLETE), but the stack policy"), "{text}");
    assert!(text.contains(NESTED_ID) && text.contains("run `sandboxc apply` again"), "{text}");

    // "No changes" sets the policies again, and fails the same way while it cannot.
    let fake = cfn();
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .create(vec![Err(CfnError::NoUpdates)])
        .resources(STACK_ID, vec![summary("StorageNestedStack", NESTED_ID, "AWS::CloudFormation::Stack")])
        .refuse_policy(NESTED_ID, CfnError::Call { api: "SetStackPolicy", message: "denied".into() });
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &single(), &options(), &mut console), &console);
    assert!(matches!(&o, Outcome::Failed(Failed::Unprotected { status: None, .. })), "{o:?}");
    assert!(error_text(&o).starts_with("error: stack tiny is up to date, but the stack policy"), "{o:?}");
}

// ---- 3. a nested stack's failure is the root cause ----------------------------------------------

fn nested_rollback(update: bool) {
    let fake = cfn();
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
    let first_seen = if update { at(STACK_ID, "UPDATE_COMPLETE") } else { None };
    fake.stack(STACK, vec![first_seen, at(STACK_ID, &format!("{verb}_IN_PROGRESS"))])
        .stack(STACK_ID, vec![at(STACK_ID, &format!("{verb}_IN_PROGRESS")), at(STACK_ID, done)])
        .events(STACK_ID, vec![root_events[..2].to_vec(), root_events])
        .events(NESTED_ID, vec![nested_events]);
    change_set(&fake, ChangeSetStatus::CreateComplete, "", vec![]);
    let release = release_of(&blueprint("nested", "ml.t3.medium"));
    if update {
        // The deployed stack: GetTemplate of the root; ListStackResources has no nested stacks.
        fake.template(ANY, &serde_json::to_string(&release.templates.templates[&release.templates.root_file]).unwrap());
    }
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &release, &options(), &mut console), &console);
    let Outcome::Failed(Failed::Deployment { info, root_cause: Some(cause), .. }) = &o else {
        panic!("{o:?}\n{}", console.text())
    };
    assert_eq!(info.status.as_str(), done);
    let line = describe_root_cause(cause);
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
    // The person reads the root cause first, right under the failed status.
    let error = error_text(&o);
    let lines: Vec<&str> = error.lines().collect();
    assert!(lines[0].starts_with("error: the deployment of stack tiny failed: ") && lines[0].contains(done), "{error}");
    assert_eq!(lines[1], format!("  {line}"), "{error}");
    // The nested stack's events were shown under its path.
    assert!(shown(&console, "Storage/DataKey (AWS::KMS::Key)"), "{}", console.text());
    if update {
        // A rolled-back update keeps its resources: protected again.
        assert_eq!(fake.changes("SetStackPolicy"), 1, "{:?}", fake.log());
    } else {
        assert!(lines[2].contains("--recreate"), "{error}");
        assert_eq!(fake.changes("SetStackPolicy"), 0, "{:?}", fake.log());
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

// ---- 5. no changes ----------------------------------------------------------------------------

#[test]
fn no_changes_as_a_validation_error() {
    let fake = cfn();
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")]).create(vec![Err(CfnError::NoUpdates)]);
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &single(), &options(), &mut console), &console);
    assert_eq!(
        o,
        Outcome::NoChanges(NoChanges::UpToDate {
            stack: STACK.into(),
            reason: "CreateChangeSet: No updates are to be performed.".into(),
            deleted: false
        })
    );
    assert_eq!((fake.count(is_create), fake.count(is_execute), fake.count(is_delete_change_set)), (1, 0, 0));
    assert_eq!(
        render(&o).lines,
        ["no changes: stack tiny is up to date (CreateChangeSet: No updates are to be performed.)"]
    );
    assert_eq!(
        fake.log().last(),
        Some(&format!("SetStackPolicy {STACK_ID} protecting")),
        "the stack policy is set again"
    );
}

#[test]
fn no_changes_as_an_empty_change_set() {
    let fake = cfn();
    let reason =
        "The submitted information didn't contain changes. Submit different information to create a change set.";
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")]);
    change_set(&fake, ChangeSetStatus::Failed, reason, vec![]);
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &single(), &options(), &mut console), &console);
    assert_eq!(
        o,
        Outcome::NoChanges(NoChanges::UpToDate { stack: STACK.into(), reason: reason.into(), deleted: true })
    );
    assert_eq!((fake.count(is_create), fake.count(is_execute), fake.count(is_delete_change_set)), (1, 0, 1));
    // The empty change set is deleted; then the protecting policy is set again (an earlier
    // interrupted --allow-data-loss run may have left it lifted).
    let log = fake.log();
    assert_eq!(
        &log[log.len() - 2..],
        [format!("DeleteChangeSet {CHANGE_SET}"), format!("SetStackPolicy {STACK_ID} protecting")]
    );
    assert!(
        render(&o).lines[0]
            .starts_with("no changes: stack tiny is up to date (The submitted information didn't contain changes."),
        "{:?}",
        render(&o).lines
    );
    assert_eq!(fake.created()[0].kind, ChangeSetKind::Update, "an UPDATE change set");
}

// ---- 6. ROLLBACK_COMPLETE and --recreate ------------------------------------------------------

#[test]
fn recreate_deletes_then_creates() {
    let fake = cfn();
    let old = vec![stack_event(STACK_ID, "ROLLBACK_COMPLETE", "", -60_000)];
    let mut deleting = old.clone();
    deleting.extend([
        stack_event(STACK_ID, "DELETE_IN_PROGRESS", "User Initiated", 1000),
        stack_event(STACK_ID, "DELETE_COMPLETE", "", 2000),
    ]);
    let rolled_back = StackInfo {
        reason: "The following resource(s) failed to create: [DataKey].".into(),
        ..protected(STACK_ID, "ROLLBACK_COMPLETE")
    };
    fake.stack(STACK, vec![Some(rolled_back), at(NEW_STACK_ID, "CREATE_IN_PROGRESS")])
        .stack(STACK_ID, vec![at(STACK_ID, "DELETE_IN_PROGRESS"), at(STACK_ID, "DELETE_COMPLETE")])
        .stack(NEW_STACK_ID, vec![at(NEW_STACK_ID, "CREATE_COMPLETE")])
        .events(STACK_ID, vec![old, deleting])
        .events(
            NEW_STACK_ID,
            vec![vec![
                stack_event(NEW_STACK_ID, "CREATE_IN_PROGRESS", "User Initiated", 5000),
                stack_event(NEW_STACK_ID, "CREATE_COMPLETE", "", 6000),
            ]],
        );
    change_set(&fake, ChangeSetStatus::CreateComplete, "", vec![]);
    let mut console = Recorder::default();
    let recreate = ApplyOptions { choices: Choices { recreate: true, ..options().choices }, ..options() };
    let o = outcome(run_apply(&fake, &single(), &recreate, &mut console), &console);
    assert!(matches!(&o, Outcome::Deployed { info, .. } if info.status == StackStatus::CreateComplete), "{o:?}");
    assert_eq!(
        fake.log(),
        [
            format!("UpdateTerminationProtection {STACK_ID} false"),
            format!("DeleteStack {STACK_ID}"),
            "CreateChangeSet CREATE".to_string(),
            format!("ExecuteChangeSet {CHANGE_SET}"),
            format!("UpdateTerminationProtection {NEW_STACK_ID} true"),
            format!("SetStackPolicy {NEW_STACK_ID} protecting"),
        ]
    );
    assert!(
        shown(&console, "stack tiny is ROLLBACK_COMPLETE: its creation failed")
            && shown(&console, "--recreate: deleting it"),
        "{}",
        console.text()
    );
    // The deletion was followed (its events shown, the old one not).
    assert!(shown(&console, "DELETE_COMPLETE              tiny"), "{}", console.text());
    assert!(!console.text().contains("ROLLBACK_COMPLETE            tiny"), "{}", console.text());
}

#[test]
fn rollback_complete_without_recreate_deletes_nothing() {
    let fake = cfn();
    fake.stack(ANY, vec![Some(protected(STACK_ID, "ROLLBACK_COMPLETE"))]);
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &single(), &options(), &mut console), &console);
    assert!(refusal(&o).contains("--recreate"), "{o:?}");
    assert_eq!(
        (fake.count(is_delete_stack), fake.count(is_protection), fake.count(is_create)),
        (0, 0, 0),
        "{:?}",
        fake.log()
    );
}

// ---- 7. data loss -------------------------------------------------------------------------------

/// An update that replaces the notebook (the instance type changes and the change set says
/// Replacement True).
fn replacing_update(fake: &FakeCfn, options: &ApplyOptions) -> (Result<Outcome, DeployError>, Recorder) {
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .template(STACK_ID, &deployed_root(&blueprint("single", "ml.t3.medium")))
        .events(
            STACK_ID,
            vec![vec![
                stack_event(STACK_ID, "UPDATE_IN_PROGRESS", "User Initiated", 1000),
                stack_event(STACK_ID, "UPDATE_COMPLETE", "", 2000),
            ]],
        );
    change_set(fake, ChangeSetStatus::CreateComplete, "", notebook_change(ChangeReplacement::True));
    let mut console = Recorder::default();
    let result = run_apply(fake, &release_of(&blueprint("single", "ml.t3.large")), options, &mut console);
    (result, console)
}

#[test]
fn data_loss_is_refused_without_allow_data_loss() {
    let fake = cfn();
    let (result, console) = replacing_update(&fake, &options());
    let o = outcome(result, &console);
    let Outcome::Refused(Refusal::DataLoss { resources }) = &o else { panic!("{o:?}\n{}", console.text()) };
    assert!(resources.iter().any(|r| r.contains("Notebook (AWS::SageMaker::NotebookInstance)")), "{resources:?}");
    assert!(
        refusal(&o).starts_with("refused: this change replaces or removes resources that hold data")
            && refusal(&o).contains("--allow-data-loss"),
        "{o:?}"
    );
    // The plan was shown first.
    assert!(shown(&console, "Notebook"), "{}", console.text());
    assert_eq!(
        (fake.count(is_delete_change_set), fake.count(is_execute), fake.count(is_policy)),
        (1, 0, 0),
        "{:?}",
        fake.log()
    );
}

#[test]
fn allow_data_loss_lifts_the_policy_for_the_update() {
    let fake = cfn();
    let allow = ApplyOptions { choices: Choices { allow_data_loss: true, ..options().choices }, ..options() };
    let (result, console) = replacing_update(&fake, &allow);
    let o = outcome(result, &console);
    assert!(matches!(&o, Outcome::Deployed { info, .. } if info.status == StackStatus::UpdateComplete), "{o:?}");
    let log = fake.log();
    let lifted = fake.pos("SetStackPolicy tiny lifted");
    let execute = fake.pos("ExecuteChangeSet");
    let protecting = fake.pos(&format!("SetStackPolicy {STACK_ID} protecting"));
    assert!(lifted < execute && execute < protecting, "{log:?}");
    assert_eq!((fake.count(is_delete_change_set), fake.count(is_execute), fake.count(is_policy)), (0, 1, 2), "{log:?}");
    assert!(shown(&console, "--allow-data-loss: the stack policy is lifted"), "{}", console.text());
}

/// Replacing a named data bucket with `--allow-data-loss`: the old bucket is retained and no
/// longer part of the stack, and apply names it after the update.
#[test]
fn a_retained_bucket_left_behind_is_named_after_the_update() {
    let fake = cfn();
    let old = format!("{}storage:\n  bucket_name: tiny-old-data\n", blueprint("single", "ml.t3.medium"));
    let new = format!("{}storage:\n  bucket_name: tiny-new-data\n", blueprint("single", "ml.t3.medium"));
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .template(STACK_ID, &deployed_root(&old))
        .resources(
            STACK_ID,
            vec![StackResource {
                logical_id: "DataBucket".into(),
                physical_id: "tiny-old-data".into(),
                resource_type: "AWS::S3::Bucket".into(),
                status: ResourceStatus::UpdateComplete,
            }],
        )
        .events(
            STACK_ID,
            vec![vec![
                stack_event(STACK_ID, "UPDATE_IN_PROGRESS", "User Initiated", 1000),
                stack_event(STACK_ID, "UPDATE_COMPLETE", "", 2000),
            ]],
        );
    change_set(
        &fake,
        ChangeSetStatus::CreateComplete,
        "",
        vec![resource_change(
            "DataBucket",
            "AWS::S3::Bucket",
            ChangeAction::Modify,
            ChangeReplacement::True,
            vec![recreation("BucketName", RequiresRecreation::Always)],
        )],
    );
    let allow = ApplyOptions { choices: Choices { allow_data_loss: true, ..options().choices }, ..options() };
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &release_of(&new), &allow, &mut console), &console);
    assert!(matches!(&o, Outcome::Deployed { .. }), "{o:?}\n{}", console.text());
    assert!(
        shown(&console, "retained, no longer part of stack tiny: AWS::S3::Bucket tiny-old-data"),
        "{}",
        console.text()
    );
}

// ---- 8. a failed upload -----------------------------------------------------------------------

#[test]
fn a_failed_upload_stops_before_the_change_set() {
    let fake = cfn();
    let store = FakeStore::default();
    store.refuse_puts(StoreError { code: Some("AccessDenied".into()), message: "Access Denied".into() });
    let release = release_of(&blueprint("nested", "ml.t3.medium"));
    let first_key =
        release.manifest.templates.iter().find_map(|t| t.s3_key.clone()).expect("nested templates are uploaded");
    fake.stack(ANY, vec![None]);
    let mut console = Recorder::default();
    let e = run(apply(
        &deployer(&fake, &store),
        &release,
        &options(),
        &mut NoZips,
        &clear(),
        &FakePrefixLists::default(),
        &mut console,
    ))
    .expect_err("AccessDenied");
    assert!(matches!(e, DeployError::Asset(_)), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains(&format!("s3://assets/{first_key}"))
            && text.contains("(PutObject)")
            && text.contains("AccessDenied"),
        "{text}"
    );
    assert!(text.ends_with("; no change set was created"), "{text}");
    assert_eq!((store.puts().len(), fake.count(is_create)), (1, 0));
}

/// The Region's S3 prefix list is looked up only when the root template declares
/// `S3PrefixListId`; without it (or when EC2 refuses) no change set is made.
#[test]
fn a_missing_s3_prefix_list_stops_before_the_change_set() {
    for (answer, expected) in [
        (Ok(None), "the Region us-east-1 has no prefix list of that name"),
        (
            Err(sandboxc::deploy::network::Ec2Error {
                code: Some("UnauthorizedOperation".into()),
                message: "not authorized".into(),
            }),
            "UnauthorizedOperation: not authorized",
        ),
    ] {
        let fake = cfn();
        fake.stack(ANY, vec![None]);
        let lists = FakePrefixLists::default();
        lists.answer(answer);
        let mut console = Recorder::default();
        let e = run(apply(
            &deployer(&fake, &FakeStore::default()),
            &single(),
            &options(),
            &mut NoZips,
            &clear(),
            &lists,
            &mut console,
        ))
        .expect_err("no prefix list");
        let text = e.to_string();
        assert!(matches!(e, DeployError::S3PrefixList { .. }), "{e:?}");
        assert!(
            text.contains("com.amazonaws.us-east-1.s3")
                && text.contains(expected)
                && text.ends_with("no change set was created"),
            "{text}"
        );
        assert_eq!(fake.count(is_create), 0);
    }

    // The sandbox's root template declares the parameter; the assets stack's does not.
    let root = single();
    assert!(root.templates.templates[&root.templates.root_file].parameters.contains_key("S3PrefixListId"));
    let bootstrap = sandboxc::compile::bootstrap::template().unwrap();
    assert!(!bootstrap.parameters.contains_key("S3PrefixListId"));
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
    let fake = cfn();
    let new = release_of(&blueprint("single", "ml.t3.large"));
    fake.stack(STACK, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .stack(STACK_ID, vec![at(STACK_ID, "UPDATE_IN_PROGRESS")])
        .template(STACK_ID, &deployed_root(&blueprint("single", "ml.t3.medium")))
        .events(STACK_ID, vec![running.clone()]);
    change_set(&fake, ChangeSetStatus::CreateComplete, "", notebook_change(ChangeReplacement::False));
    let mut console = Recorder { interrupt_after_events: Some(1), ..Recorder::default() };
    let o = outcome(run_apply(&fake, &new, &options(), &mut console), &console);
    assert_eq!(o, Outcome::Interrupted(Interrupted::Deployment { stack: STACK.into(), unprotected: false }));
    let hint = error_text(&o);
    assert!(hint.contains("continues in CloudFormation") && hint.contains("sandboxc apply"), "{hint}");
    assert_eq!(fake.count(is_execute), 1);
    assert_eq!(fake.count(is_policy), 0, "not finished: no policy yet");

    // Second apply: follows the running update to its end, then plans again (no changes).
    let fake = cfn();
    fake.stack(STACK, vec![at(STACK_ID, "UPDATE_IN_PROGRESS"), at(STACK_ID, "UPDATE_COMPLETE")])
        .stack(STACK_ID, vec![at(STACK_ID, "UPDATE_IN_PROGRESS"), at(STACK_ID, "UPDATE_COMPLETE")])
        .events(STACK_ID, vec![running.clone(), running, finished])
        .create(vec![Err(CfnError::NoUpdates)]);
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &new, &options(), &mut console), &console);
    assert!(matches!(o, Outcome::NoChanges(NoChanges::UpToDate { deleted: false, .. })), "{o:?}");
    let following = console
        .lines
        .iter()
        .position(|l| {
            l.contains("stack tiny is UPDATE_IN_PROGRESS: another deployment is running; following it until it ends")
        })
        .unwrap_or_else(|| panic!("{}", console.text()));
    let ended = console
        .lines
        .iter()
        .position(|l| l.contains("the running deployment ended: UPDATE_COMPLETE; deciding again"))
        .unwrap_or_else(|| panic!("{}", console.text()));
    assert!(following < ended, "{}", console.text());
    // The running deployment's events from its start (after the last settled one), each once.
    assert_eq!(console.events, 5, "{}", console.text());
    assert!(!console.text().contains("-60"), "{}", console.text());
    assert_eq!(fake.count(is_execute), 0);
}

// ---- 10. concurrent apply -------------------------------------------------------------------------

fn conflict(api: &'static str) -> CfnError {
    CfnError::Conflict {
        api,
        code: "ValidationError".into(),
        message: format!("Stack:{STACK_ID} is in UPDATE_IN_PROGRESS state and can not be updated."),
    }
}

/// An update of the notebook whose ExecuteChangeSet is refused because another deployment
/// runs: the outcome.
fn refused_update(fake: &FakeCfn, replacement: ChangeReplacement, options: &ApplyOptions) -> Outcome {
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .template(STACK_ID, &deployed_root(&blueprint("single", "ml.t3.medium")))
        .execute(Err(conflict("ExecuteChangeSet")));
    change_set(fake, ChangeSetStatus::CreateComplete, "", notebook_change(replacement));
    let mut console = Recorder::default();
    outcome(run_apply(fake, &release_of(&blueprint("single", "ml.t3.large")), options, &mut console), &console)
}

#[test]
fn a_concurrent_apply_is_refused() {
    let fake = cfn();
    let o = refused_update(&fake, ChangeReplacement::False, &options());
    assert!(matches!(o, Outcome::Refused(Refusal::Concurrent { .. })), "{o:?}");
    let text = refusal(&o);
    assert!(
        text.contains("is being changed by another deployment right now")
            && text.contains("changed nothing")
            && text.contains("UPDATE_IN_PROGRESS state"),
        "{text}"
    );
    assert_eq!(fake.count(is_execute), 1);
    assert_eq!((fake.count(is_protection), fake.count(is_policy)), (0, 0), "{:?}", fake.log());
    assert_eq!(fake.count(is_delete_change_set), 1, "the unexecuted change set is cleaned up: {:?}", fake.log());
}

#[test]
fn a_refused_execution_puts_the_lifted_stack_policy_back() {
    let fake = cfn();
    let allow = ApplyOptions { choices: Choices { allow_data_loss: true, ..options().choices }, ..options() };
    let o = refused_update(&fake, ChangeReplacement::True, &allow);
    assert!(refusal(&o).contains("changed nothing"), "{o:?}");
    let log = fake.log();
    let (lifted, protecting, deleted) = (
        fake.pos("SetStackPolicy tiny lifted"),
        fake.pos(&format!("SetStackPolicy {STACK_ID} protecting")),
        fake.pos("DeleteChangeSet"),
    );
    assert!(lifted < protecting && protecting < deleted, "{log:?}");
    assert_eq!((fake.count(is_execute), fake.count(is_delete_change_set)), (1, 1), "{log:?}");
}

#[test]
fn declining_a_new_stack_leaves_no_empty_stack_behind() {
    let fake = cfn();
    fake.stack(STACK, vec![None]);
    change_set(
        &fake,
        ChangeSetStatus::CreateComplete,
        "",
        vec![resource_change("DataBucket", "AWS::S3::Bucket", ChangeAction::Add, ChangeReplacement::False, vec![])],
    );
    let mut console = Recorder { answers: vec![false], ..Recorder::default() };
    let ask = ApplyOptions { choices: Choices { yes: false, ..options().choices }, ..options() };
    let o = outcome(run_apply(&fake, &single(), &ask, &mut console), &console);
    assert_eq!(o, Outcome::Declined { command: "apply", cleanup: "change set deleted" });
    let log = fake.log();
    // CREATE change sets leave an empty REVIEW_IN_PROGRESS stack: it goes with the change set,
    // so that the next apply needs no --recreate.
    assert!(fake.pos("DeleteChangeSet") < fake.pos("DeleteStack tiny"), "{log:?}");
    assert_eq!((fake.count(is_execute), fake.count(is_delete_stack)), (0, 1), "{log:?}");
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
    let fake = cfn();
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")]).create(vec![Err(conflict("CreateChangeSet"))]);
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &single(), &options(), &mut console), &console);
    let text = refusal(&o);
    assert!(
        text.contains("is being changed by another deployment right now") && text.contains("changed nothing"),
        "{text}"
    );
    assert_eq!((fake.count(is_create), fake.count(is_execute), fake.count(is_delete_change_set)), (1, 0, 0));
}

// ---- 11. declined ---------------------------------------------------------------------------------

#[test]
fn a_declined_prompt_deletes_the_change_set() {
    let fake = cfn();
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .template(STACK_ID, &deployed_root(&blueprint("single", "ml.t3.medium")));
    change_set(&fake, ChangeSetStatus::CreateComplete, "", notebook_change(ChangeReplacement::False));
    let mut console = Recorder { answers: vec![false], ..Recorder::default() };
    let ask = ApplyOptions { choices: Choices { yes: false, ..options().choices }, ..options() };
    let o = outcome(run_apply(&fake, &release_of(&blueprint("single", "ml.t3.large")), &ask, &mut console), &console);
    assert_eq!(console.questions, ["Apply these changes to stack tiny in account 123456789012 (us-east-1)?"]);
    assert_eq!((fake.count(is_delete_change_set), fake.count(is_execute)), (1, 0));
    assert_eq!(error_text(&o), "error: apply cancelled: nothing was changed (change set deleted)");
}

// ---- 12. destroy and status --drift -------------------------------------------------------------

fn summary(id: &str, physical: &str, rtype: &str) -> StackResource {
    StackResource {
        logical_id: id.into(),
        physical_id: physical.into(),
        resource_type: rtype.into(),
        status: ResourceStatus::CreateComplete,
    }
}

#[test]
fn destroy_lists_deletes_and_follows() {
    let fake = cfn();
    let template = r#"{"Description":"sandboxc data sandbox tiny","Resources":{"DataBucket":{"Type":"AWS::S3::Bucket","DeletionPolicy":"Retain","Properties":{"BucketName":"tiny-data-123"}},"Role":{"Type":"AWS::IAM::Role"}}}"#;
    let old = vec![stack_event(STACK_ID, "UPDATE_COMPLETE", "", -60_000)];
    let mut deleting = old.clone();
    deleting.extend([
        stack_event(STACK_ID, "DELETE_IN_PROGRESS", "User Initiated", 1000),
        event(STACK_ID, "Role", "tiny-role", "AWS::IAM::Role", "DELETE_COMPLETE", "", 2000),
        event(STACK_ID, "DataBucket", "tiny-data-123", "AWS::S3::Bucket", "DELETE_SKIPPED", "", 2500),
        stack_event(STACK_ID, "DELETE_COMPLETE", "", 3000),
    ]);
    fake.stack(STACK, vec![Some(protected(STACK_ID, "UPDATE_COMPLETE"))])
        .stack(STACK_ID, vec![at(STACK_ID, "DELETE_IN_PROGRESS"), at(STACK_ID, "DELETE_COMPLETE")])
        .template(ANY, template)
        .resources(
            ANY,
            vec![
                summary("DataBucket", "tiny-data-123", "AWS::S3::Bucket"),
                summary("Role", "tiny-role", "AWS::IAM::Role"),
            ],
        )
        .events(STACK_ID, vec![old, deleting]);
    let d = deployer(&fake, &FakeStore::default());
    let mut console = Recorder { answers: vec![true], ..Recorder::default() };
    let o = outcome(run(destroy(&d, &single(), false, &mut console)), &console);
    let Outcome::Deleted { stack, retained } = &o else { panic!("{o:?}\n{}", console.text()) };
    assert_eq!(stack, STACK);
    assert_eq!(
        retained.iter().map(|r| (r.path.as_str(), r.physical_id.as_str(), r.fixed_name)).collect::<Vec<_>>(),
        [("DataBucket", "tiny-data-123", true)]
    );
    // What is deleted and what is retained, listed before the question.
    let listing =
        console.lines.iter().position(|l| l == "will be deleted (1):").unwrap_or_else(|| panic!("{}", console.text()));
    let l = &console.lines;
    assert_eq!(l[listing + 1], "  Role (AWS::IAM::Role)  tiny-role");
    assert!(l[listing + 2].starts_with("will be retained") && l[listing + 2].ends_with("(1):"), "{}", console.text());
    assert_eq!(l[listing + 3], "  DataBucket (AWS::S3::Bucket)  tiny-data-123");
    assert_eq!(console.questions, ["Delete stack tiny and the 1 resources above?"]);
    assert_eq!(
        fake.log(),
        [format!("UpdateTerminationProtection {STACK_ID} false"), format!("DeleteStack {STACK_ID}")]
    );
    assert_eq!(console.events, 4, "only the deletion's events:\n{}", console.text());
    assert!(shown(&console, "DELETE_COMPLETE              tiny (AWS::CloudFormation::Stack)"), "{}", console.text());
    // After the deletion: what stays, and that fixed names block a new stack.
    let r = render(&o);
    assert_eq!(r.lines[0], "stack tiny deleted");
    assert!(r.lines[1].starts_with("retained, delete them by hand"), "{:?}", r.lines);
    assert_eq!(r.lines[2], "  DataBucket (AWS::S3::Bucket)  tiny-data-123");
    assert!(
        r.notes[0].starts_with("note: 1 retained resources keep fixed names (tiny-data-123)")
            && r.notes[0].contains("cannot create the stack again"),
        "{:?}",
        r.notes
    );
}

#[test]
fn destroy_declined_deletes_nothing() {
    let fake = cfn();
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .template(ANY, r#"{"Description":"sandboxc data sandbox tiny"}"#);
    let d = deployer(&fake, &FakeStore::default());
    let mut console = Recorder::default();
    let o = outcome(run(destroy(&d, &single(), false, &mut console)), &console);
    assert_eq!(o, Outcome::Declined { command: "destroy", cleanup: "" });
    assert_eq!(error_text(&o), "error: destroy cancelled: nothing was changed");
    assert!(fake.log().is_empty(), "{:?}", fake.log());
}

#[test]
fn status_with_drift_shows_the_difference() {
    let fake = cfn();
    let detection = |status| DriftDetection { status, reason: String::new() };
    fake.stack(ANY, vec![Some(with_outputs(STACK_ID, "UPDATE_COMPLETE"))])
        .events(STACK_ID, vec![creation_events()])
        .drift(
            "drift-1",
            vec![detection(DetectionStatus::InProgress), detection(DetectionStatus::Complete)],
            vec![(
                STACK_ID,
                vec![ResourceDrift {
                    logical_id: "DataBucket".into(),
                    physical_id: "tiny-data-123".into(),
                    resource_type: "AWS::S3::Bucket".into(),
                    status: ResourceDriftStatus::Modified,
                    differences: vec![PropertyDifference {
                        path: "/VersioningConfiguration/Status".into(),
                        expected: "Enabled".into(),
                        actual: "Suspended".into(),
                        kind: "NOT_EQUAL".into(),
                    }],
                }],
            )],
        );
    let d = deployer(&fake, &FakeStore::default());
    let mut console = Recorder::default();
    let o = outcome(run(status(&d, &single(), true, &mut console)), &console);
    assert_eq!(o, Outcome::Shown { drifted: 1 });
    assert_eq!(render(&o).status, ExitStatus::Drift);
    assert_eq!(
        (
            fake.count(|c| *c == Call::DetectDrift(STACK_ID.into())),
            fake.count(|c| *c == Call::DriftDetection("drift-1".into())),
            fake.count(|c| *c == Call::ResourceDrifts(STACK_ID.into()))
        ),
        (1, 2, 1)
    );
    assert_eq!(console.lines[0], format!("stack {STACK_ID}: UPDATE_COMPLETE"));
    assert_eq!(console.lines[1], "termination protection: on");
    assert!(shown(&console, "latest events (4 shown):") && shown(&console, "outputs:"), "{}", console.text());
    let drift = console
        .lines
        .iter()
        .position(|l| l == "drift: 1 resources differ from their templates")
        .unwrap_or_else(|| panic!("{}", console.text()));
    assert_eq!(console.lines[drift + 1], "  ~ root/DataBucket (AWS::S3::Bucket) tiny-data-123");
    assert_eq!(
        console.lines[drift + 2],
        "      /VersioningConfiguration/Status (NOT_EQUAL): template Enabled -> actual Suspended"
    );
    assert!(fake.log().is_empty(), "status changes nothing: {:?}", fake.log());
}

// ---- 13. no bootstrap stack -----------------------------------------------------------------------

#[test]
fn a_missing_bootstrap_stack_is_explained() {
    let fake = cfn();
    fake.stack("sandboxc-assets", vec![None]);
    let mut console = Recorder::default();
    let o = outcome(
        run_apply(&fake, &single(), &ApplyOptions { assets_bucket: None, ..options() }, &mut console),
        &console,
    );
    assert!(matches!(o, Outcome::Refused(Refusal::NoAssetsBucket { status: None, .. })), "{o:?}");
    let text = refusal(&o);
    assert!(
        text.contains("the sandboxc-assets stack does not exist")
            && text.contains("`sandboxc bootstrap`")
            && text.contains("--assets-bucket"),
        "{text}"
    );
    assert_eq!((fake.count(|c| *c == Call::DescribeStacks("sandboxc-assets".into())), fake.count(is_create)), (1, 0));
    assert!(fake.log().is_empty(), "{:?}", fake.log());
}

#[test]
fn destroy_leaves_a_stack_sandboxc_did_not_make_alone() {
    let fake = cfn();
    fake.stack(STACK, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .template(ANY, r#"{"Description":"someone else's queue","Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}"#);
    let d = deployer(&fake, &FakeStore::default());
    let mut console = Recorder { answers: vec![true], ..Recorder::default() };
    let o = outcome(run(destroy(&d, &single(), true, &mut console)), &console);
    assert!(matches!(o, Outcome::Refused(Refusal::NotMadeBySandboxc { deleting: true, .. })), "{o:?}");
    let text = refusal(&o);
    assert!(text.contains("was not made by sandboxc") && text.contains("nothing was deleted"), "{text}");
    assert_eq!((fake.changes("DeleteStack"), fake.changes("UpdateTerminationProtection")), (0, 0), "{:?}", fake.log());
}

#[test]
fn apply_does_not_update_a_stack_sandboxc_did_not_make() {
    let fake = cfn();
    fake.stack(ANY, vec![at(STACK_ID, "UPDATE_COMPLETE")])
        .template(ANY, r#"{"Description":"someone else's queue","Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}"#);
    change_set(
        &fake,
        ChangeSetStatus::CreateComplete,
        "",
        vec![resource_change("Q", "AWS::SQS::Queue", ChangeAction::Remove, ChangeReplacement::False, vec![])],
    );
    let mut console = Recorder::default();
    let o = outcome(run_apply(&fake, &single(), &options(), &mut console), &console);
    assert!(matches!(o, Outcome::Refused(Refusal::NotMadeBySandboxc { deleting: false, .. })), "{o:?}");
    let text = refusal(&o);
    assert!(text.contains("was not made by sandboxc") && text.contains("choose another `name`"), "{text}");
    assert_eq!((fake.count(is_execute), fake.count(is_delete_change_set)), (0, 1), "{:?}", fake.log());
}

// ---- 14. bootstrap ----------------------------------------------------------------------------------

#[test]
fn bootstrap_creates_the_assets_stack_through_a_change_set() {
    let fake = cfn();
    let assets_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/sandboxc-assets/1";
    fake.stack("sandboxc-assets", vec![None, at(assets_id, "CREATE_IN_PROGRESS")])
        .stack(assets_id, vec![at(assets_id, "CREATE_COMPLETE")])
        .events(assets_id, vec![vec![stack_event(assets_id, "CREATE_COMPLETE", "", 1000)]]);
    change_set(&fake, ChangeSetStatus::CreateComplete, "", vec![]);
    let assets = sandboxc::cli::build::assets_release().unwrap();
    let d = deployer(&fake, &FakeStore::default());
    let mut console = Recorder::default();
    let choices = Choices { yes: true, allow_data_loss: true, recreate: false };
    let o = outcome(run(sandboxc::deploy::apply::bootstrap(&d, &assets, choices, &mut console)), &console);
    assert!(matches!(&o, Outcome::Deployed { stack, .. } if stack == "sandboxc-assets"), "{o:?}");
    let req = &fake.created()[0];
    assert!(
        req.kind == ChangeSetKind::Create && matches!(&req.template, TemplateSource::Body(b) if *b == assets.body),
        "{req:?}"
    );
    assert_eq!(req.tags, [("sandboxc:stack".to_string(), "sandboxc-assets".to_string())]);
    assert_eq!(
        fake.log(),
        [
            "CreateChangeSet CREATE".to_string(),
            format!("ExecuteChangeSet {CHANGE_SET}"),
            format!("UpdateTerminationProtection {assets_id} true"),
            format!("SetStackPolicy {assets_id} protecting"),
        ]
    );
}

/// `sandboxc audit --from-aws` with a blueprint reads the users' notebook role names from the
/// deployed stack: the physical ID of each user's role (by its logical ID) in the root
/// (`layout: single`) and in the users nested stacks, keyed by user hash; other roles, other
/// users' and other nested stacks' resources are not read as notebook roles.
#[test]
fn audit_reads_the_users_notebook_role_names_from_the_stack() {
    use sandboxc::compile::users::user_role_logical_id;
    let resource = |logical: &str, physical: &str, kind: &str| StackResource {
        logical_id: logical.into(),
        physical_id: physical.into(),
        resource_type: kind.into(),
        status: ResourceStatus::CreateComplete,
    };
    let fake = FakeCfn::default();
    let users01 = "arn:aws:cloudformation:us-east-1:123456789012:stack/datasandbox-Users01NestedStack-1/x";
    let network = "arn:aws:cloudformation:us-east-1:123456789012:stack/datasandbox-NetworkNestedStack-1/y";
    fake.resources(
        "datasandbox",
        vec![
            resource("Users01NestedStack", users01, "AWS::CloudFormation::Stack"),
            resource("NetworkNestedStack", network, "AWS::CloudFormation::Stack"),
            // layout: single would hold the roles in the root.
            resource(&user_role_logical_id("carol"), "datasandbox-UserCarolRole-C", "AWS::IAM::Role"),
        ],
    );
    fake.resources(
        users01,
        vec![
            resource(&user_role_logical_id("alice"), "datasandbox-Users01-UserAliceRole-A", "AWS::IAM::Role"),
            resource(&user_role_logical_id("mallory"), "datasandbox-Users01-UserMalloryRole-M", "AWS::IAM::Role"),
            resource("SomethingElse", "other-role", "AWS::IAM::Role"),
            resource(&user_role_logical_id("bob"), "", "AWS::IAM::Role"),
        ],
    );
    fake.resources(network, vec![resource(&user_role_logical_id("alice"), "not-read", "AWS::IAM::Role")]);
    let users = ["alice".to_string(), "bob".to_string(), "carol".to_string()];
    let roles =
        run(sandboxc::aws::evidence::deployed_notebook_roles(&fake, "datasandbox", &users)).expect("roles listed");
    let hash = sandboxc::audit::join::user_hash;
    let names = |u: &str| roles.get(&hash(u)).map(|n| n.iter().cloned().collect::<Vec<_>>());
    assert_eq!(names("alice"), Some(vec!["datasandbox-Users01-UserAliceRole-A".to_string()]));
    assert_eq!(names("carol"), Some(vec!["datasandbox-UserCarolRole-C".to_string()]));
    assert_eq!(names("bob"), None, "a role not created yet has no name");
    assert_eq!(roles.len(), 2, "{roles:?}");
}
