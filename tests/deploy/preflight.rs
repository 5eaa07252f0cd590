//! The preflight (`sandboxc check`, and `apply` before any change set) against an in-memory
//! probe (tests/deploy/fake.rs): every finding and what it says to do, a blocking finding that
//! stops apply before anything is uploaded, and the adoption of retained resources through
//! IMPORT change sets (single layout: one import; nested layout: the nested stack imported
//! first, then adopted by the root), all before the first other change set.
//!
//! Facts the scripted answers follow (AWS API references): AppStream `DescribeImages` of a
//! missing name is ResourceNotFoundException (the probe's `None`); IAM `GetSAMLProvider` of a
//! missing ARN is NoSuchEntity; `HeadBucket` answers 403 for a bucket of another account;
//! SageMaker `DescribeNotebookInstance` of a missing name is the ValidationException
//! "RecordNotFound"; an IMPORT change set on a missing stack creates it.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeSet;

use crate::fake::{Call, FakeCfn, FakePrefixLists, FakeProbe, FakeStore};

use sandboxc::blueprint::Source;
use sandboxc::cli::deploy::render;
use sandboxc::cli::ExitStatus;
use sandboxc::deploy::apply::{apply, ApplyOptions, LambdaZips};
use sandboxc::deploy::cloudformation::{
    CfnError, ChangeSetKind, ChangeSetState, ResourceToImport, StackInfo, TemplateSource,
};
use sandboxc::deploy::console::{Console, Recorder};
use sandboxc::deploy::deployment::{fast_polling, Choices, Deployer};
use sandboxc::deploy::outcome::{NoChanges, Outcome, Refusal};
use sandboxc::deploy::preflight::{run, Adoption, BucketState, Expectations, Finding, Inputs, Place, Report};
use sandboxc::deploy::status::{ChangeSetStatus, StackStatus};
use sandboxc::deploy::Release;
use sandboxc::output::AssetEntry;

const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny/1";
const IMPORT: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/sandboxc-import/1";
const IMPORT_ROOT: &str = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/sandboxc-import/2";
const IMAGE: &str = "datasandbox-image";
const PART_ID_STORAGE: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/tiny-StorageNestedStack/2";
/// The one retained resource with a fixed name besides the notebooks: a named data bucket
/// (log groups and the trail carry the stack's ID in their names).
const BUCKET: &str = "tiny-data";
const NAMED_BUCKET: &str = "storage:\n  bucket_name: tiny-data\n";

/// Alice's notebook instance in the default network.
fn notebook() -> String {
    let generation = sandboxc_contract::users::network_generation("10.10.0.0/16", "#0");
    sandboxc_contract::users::notebook_name("tiny", "alice", &generation)
}

fn release(layout: &str, extra: &str) -> Release {
    let text = format!(
        "name: tiny\nlayout: {layout}\nappstream:\n  image_name: {IMAGE}\nidentity:\n  saml: null\nusers:\n  - id: alice\n{extra}"
    );
    sandboxc::cli::build::release(&Source { name: "bp.yaml".into(), text }).unwrap_or_else(|e| panic!("{e}")).1
}

fn check(release: &Release, probe: &FakeProbe, expectations: &Expectations, stack_exists: bool) -> Report {
    check_owned(release, probe, expectations, stack_exists, BTreeSet::new())
}

fn check_owned(
    release: &Release,
    probe: &FakeProbe,
    expectations: &Expectations,
    stack_exists: bool,
    owned: BTreeSet<String>,
) -> Report {
    let inputs = Inputs {
        templates: &release.templates,
        expectations,
        place: Place::new("123456789012", "us-east-1"),
        stack_exists,
        owned,
    };
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(run(probe, &inputs))
}

fn text(f: &Finding) -> String {
    f.lines().join("\n")
}

#[test]
fn nothing_in_the_way_is_nothing_found() {
    let probe = FakeProbe::with_image(IMAGE);
    let report = check(&release("single", ""), &probe, &Expectations::default(), false);
    assert_eq!(report.findings, []);
    assert!(!report.blocks());
    assert!(report.checked.contains(&format!("AppStream image {IMAGE}: AVAILABLE")), "{:?}", report.checked);
    assert!(report.checked.contains(&format!("notebook instance {}: free", notebook())), "{:?}", report.checked);
    // Every fixed name of every template was asked about, once; log groups carry the stack's
    // ID in their names, so none can be in the way.
    let calls = probe.calls();
    assert!(calls.contains(&format!("sagemaker:DescribeNotebookInstance {}", notebook())), "{calls:?}");
    assert!(!calls.iter().any(|c| c.starts_with("logs:")), "{calls:?}");
    assert_eq!(calls.iter().filter(|c| c.starts_with("s3:")).count(), 0, "no named bucket: {calls:?}");
}

#[test]
fn the_image_must_exist_and_be_available() {
    let probe = FakeProbe::default();
    let report = check(&release("single", ""), &probe, &Expectations::default(), false);
    assert_eq!(report.findings, [Finding::ImageMissing { name: IMAGE.into() }]);
    assert!(report.blocks());
    let t = text(&report.findings[0]);
    assert!(t.contains("does not exist") && t.contains("Image Assistant") && t.contains("appstream.image_name"), "{t}");

    probe.image(IMAGE, "PENDING");
    let report = check(&release("single", ""), &probe, &Expectations::default(), false);
    assert_eq!(report.findings, [Finding::ImageNotAvailable { name: IMAGE.into(), state: "PENDING".into() }]);
    assert!(text(&report.findings[0]).contains("wait until it is AVAILABLE"));
}

#[test]
fn a_named_saml_provider_must_exist() {
    let probe = FakeProbe::with_image(IMAGE);
    let ex = Expectations { saml_provider: Some("corp".into()), ..Expectations::default() };
    let arn = "arn:aws:iam::123456789012:saml-provider/corp";
    let report = check(&release("single", ""), &probe, &ex, false);
    assert_eq!(report.findings, [Finding::SamlProviderMissing { name: "corp".into(), arn: arn.into() }]);
    let t = text(&report.findings[0]);
    assert!(t.contains("aws iam create-saml-provider --name corp") && t.contains("identity.saml: null"), "{t}");
    probe.saml(arn);
    assert_eq!(check(&release("single", ""), &probe, &ex, false).findings, []);
}

#[test]
fn zones_and_a_pinned_region_must_be_the_credentials_region() {
    let probe = FakeProbe::with_image(IMAGE);
    let ex = Expectations {
        zones: vec!["eu-west-1a".into(), "eu-west-1b".into()],
        region: Some("eu-west-1".into()),
        ..Expectations::default()
    };
    let report = check(&release("single", ""), &probe, &ex, false);
    assert_eq!(
        report.findings,
        [
            Finding::RegionContradicts { pinned: "eu-west-1".into(), actual: "us-east-1".into() },
            Finding::ZonesOutsideRegion {
                zones: vec!["eu-west-1a".into(), "eu-west-1b".into()],
                region: "us-east-1".into()
            },
        ]
    );
    assert!(text(&report.findings[0]).contains("--region eu-west-1"));
    assert!(text(&report.findings[1]).contains("name zones of us-east-1"));
}

#[test]
fn a_retained_named_bucket_is_adopted_by_a_new_stack_and_cleaned_up_otherwise() {
    let probe = FakeProbe::with_image(IMAGE);
    probe.bucket(BUCKET, BucketState::Owned, None);
    let r = release("single", NAMED_BUCKET);
    let report = check(&r, &probe, &Expectations::default(), false);
    let [Finding::Adopt { resource, imports }] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    assert_eq!((resource.logical_id.as_str(), resource.name.as_str()), ("DataBucket", BUCKET));
    assert_eq!(
        imports,
        &[Adoption {
            nested: None,
            logical_id: "DataBucket".into(),
            resource_type: "AWS::S3::Bucket".into(),
            identifier: ("BucketName".into(), BUCKET.into())
        }]
    );
    assert!(!report.blocks(), "an adoption does not stop apply");
    assert!(text(&report.findings[0]).contains("IMPORT change set before any other change set"));

    // The stack exists already (and does not hold it): the exact cleanup command.
    let report = check(&r, &probe, &Expectations::default(), true);
    let [f @ Finding::Leftover { cleanup, .. }] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    assert!(cleanup.iter().any(|c| c.contains(BUCKET)), "{cleanup:?}");
    assert!(report.blocks());
    assert!(text(f).contains("would fail with \"already exists\""), "{}", text(f));

    // The stack holds it: not a leftover.
    let report = check_owned(&r, &probe, &Expectations::default(), true, BTreeSet::from([BUCKET.to_string()]));
    assert_eq!(report.findings, []);
}

#[test]
fn a_retained_named_bucket_is_adopted_with_its_key() {
    let probe = FakeProbe::with_image(IMAGE);
    let key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    probe.bucket("tiny-data", BucketState::Owned, Some(key));
    let r = release("nested", "storage:\n  bucket_name: tiny-data\n");
    let report = check(&r, &probe, &Expectations::default(), false);
    let [Finding::Adopt { imports, .. }] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    let got: Vec<(Option<&str>, &str, &str, &str)> = imports
        .iter()
        .map(|a| (a.nested.as_deref(), a.logical_id.as_str(), a.resource_type.as_str(), a.identifier.1.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Some("StorageNestedStack"), "DataBucket", "AWS::S3::Bucket", "tiny-data"),
            (Some("StorageNestedStack"), "DataKey", "AWS::KMS::Key", "1234abcd-12ab-34cd-56ef-1234567890ab"),
        ]
    );
    assert!(text(&report.findings[0]).contains("with AWS::KMS::Key 1234abcd"), "{}", text(&report.findings[0]));
}

#[test]
fn a_bucket_name_of_another_account_blocks() {
    let probe = FakeProbe::with_image(IMAGE);
    probe.bucket("tiny-data", BucketState::Forbidden, None);
    let report =
        check(&release("single", "storage:\n  bucket_name: tiny-data\n"), &probe, &Expectations::default(), false);
    assert!(matches!(report.findings.as_slice(), [Finding::BucketTaken { .. }]), "{:?}", report.findings);
    assert!(report.blocks());
    assert!(text(&report.findings[0]).contains("choose another `storage.bucket_name`"));
}

#[test]
fn a_retained_notebook_gets_the_commands_that_remove_it() {
    let probe = FakeProbe::with_image(IMAGE);
    probe.notebook(&notebook(), "InService");
    let report = check(&release("single", ""), &probe, &Expectations::default(), false);
    let [f @ Finding::Leftover { cleanup, .. }] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    assert_eq!(
        cleanup[..2],
        [
            format!("aws sagemaker stop-notebook-instance --notebook-instance-name {} --region us-east-1", notebook()),
            format!(
                "aws sagemaker wait notebook-instance-stopped --notebook-instance-name {} --region us-east-1",
                notebook()
            ),
        ]
    );
    assert!(cleanup[2]
        .starts_with(&format!("aws sagemaker delete-notebook-instance --notebook-instance-name {}", notebook())));
    assert!(report.blocks());
    assert!(text(f).contains("it is InService; a notebook instance is not adopted"), "{}", text(f));
    // A stopped one needs no stop.
    probe.notebook(&notebook(), "Stopped");
    let report = check(&release("single", ""), &probe, &Expectations::default(), false);
    let [Finding::Leftover { cleanup, .. }] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    assert_eq!(cleanup.len(), 1);
}

#[test]
fn a_check_the_credentials_may_not_make_is_a_warning() {
    let probe = FakeProbe::with_image(IMAGE);
    probe.fail("appstream:DescribeImages", "AccessDeniedException: not allowed");
    let report = check(&release("single", ""), &probe, &Expectations::default(), false);
    let [f @ Finding::Unchecked { .. }] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    assert!(!report.blocks());
    assert!(text(f).contains("the credentials need appstream:DescribeImages"), "{}", text(f));
    // A server error is not a missing permission: the check is unknown, not "needs a permission".
    let probe = FakeProbe::with_image(IMAGE);
    probe.fail("appstream:DescribeImages", "HTTP 500: InternalFailure");
    let report = check(&release("single", ""), &probe, &Expectations::default(), false);
    let [f @ Finding::Unchecked { .. }] = report.findings.as_slice() else { panic!("{:?}", report.findings) };
    assert!(!report.blocks());
    assert!(!text(f).contains("the credentials need"), "{}", text(f));
    assert!(
        text(f).contains("the check did not run (appstream:DescribeImages failed), so it is unknown"),
        "{}",
        text(f)
    );
}

// ---- apply ------------------------------------------------------------------------------------

struct NoZips;

impl LambdaZips for NoZips {
    fn zip(&mut self, a: &AssetEntry, _: &str, _: &mut dyn Console) -> Result<Vec<u8>, String> {
        Err(format!("the test has no zip {}", a.function))
    }
}

fn options() -> ApplyOptions {
    ApplyOptions {
        choices: Choices { yes: true, ..Choices::default() },
        assets_bucket: Some("assets".into()),
        ..ApplyOptions::default()
    }
}

fn at(id: &str, status: &str) -> Option<StackInfo> {
    Some(StackInfo {
        stack_id: id.into(),
        status: StackStatus::parse(status),
        reason: String::new(),
        parameters: Vec::new(),
        outputs: Vec::new(),
        termination_protection: false,
    })
}

fn complete(fake: &FakeCfn, id: &str) {
    let state = ChangeSetState {
        status: ChangeSetStatus::CreateComplete,
        reason: String::new(),
        created_ms: 1,
        changes: Vec::new(),
    };
    fake.change_set(id, vec![state]);
}

fn apply_with(fake: &FakeCfn, store: &FakeStore, release: &Release, probe: &FakeProbe) -> (Outcome, Recorder) {
    let (polling, follow) = fast_polling();
    let d = Deployer {
        cfn: fake.clone(),
        store: store.clone(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        polling,
        follow,
    };
    let mut console = Recorder::default();
    let o = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(apply(&d, release, &options(), &mut NoZips, probe, &FakePrefixLists::default(), &mut console))
        .unwrap_or_else(|e| panic!("{e}\n{}", console.text()));
    (o, console)
}

#[test]
fn a_blocking_finding_stops_apply_before_anything_is_uploaded_or_changed() {
    let fake = FakeCfn::default();
    let store = FakeStore::default();
    let probe = FakeProbe::default();
    probe.notebook(&notebook(), "Stopped");
    let (o, console) = apply_with(&fake, &store, &release("single", ""), &probe);
    let Outcome::Refused(Refusal::Preflight { findings, .. }) = &o else { panic!("{o:?}\n{}", console.text()) };
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert_eq!(fake.log(), Vec::<String>::new(), "no change set, nothing changed");
    assert_eq!(store.puts(), Vec::<String>::new(), "nothing uploaded");
    let r = render(&o);
    assert_eq!(r.status, ExitStatus::Failure);
    let e = r.error.map(|e| e.lines().join("\n")).unwrap_or_default();
    assert!(e.starts_with("error: preflight: 2 problems would make the deployment of stack tiny fail"), "{e}");
    assert!(e.contains(&format!("- AppStream image {IMAGE} does not exist")), "{e}");
    assert!(e.contains("aws sagemaker delete-notebook-instance"), "{e}");
}

#[test]
fn retained_resources_are_imported_before_any_other_change_set() {
    let fake = FakeCfn::default();
    let store = FakeStore::default();
    let probe = FakeProbe::with_image(IMAGE);
    probe.bucket(BUCKET, BucketState::Owned, None);
    fake.create(vec![Ok(IMPORT.into()), Err(CfnError::NoUpdates)])
        .stack("tiny", vec![None, at(STACK_ID, "IMPORT_IN_PROGRESS")])
        .stack(STACK_ID, vec![at(STACK_ID, "IMPORT_COMPLETE")]);
    complete(&fake, IMPORT);
    let (o, console) = apply_with(&fake, &store, &release("single", NAMED_BUCKET), &probe);
    assert!(matches!(o, Outcome::NoChanges(NoChanges::UpToDate { .. })), "{o:?}\n{}", console.text());
    let log = fake.log();
    assert_eq!(
        log,
        [
            "CreateChangeSet IMPORT tiny (1 resources)".to_string(),
            format!("ExecuteChangeSet {IMPORT}"),
            format!("UpdateTerminationProtection {STACK_ID} true"),
            "CreateChangeSet UPDATE".to_string(),
            format!("SetStackPolicy {STACK_ID} protecting"),
        ]
    );
    let import = &fake.created()[0];
    assert_eq!(
        import.kind,
        ChangeSetKind::Import(vec![ResourceToImport {
            resource_type: "AWS::S3::Bucket".into(),
            logical_id: "DataBucket".into(),
            identifier: ("BucketName".into(), BUCKET.into()),
        }])
    );
    let TemplateSource::Body(body) = &import.template else { panic!("{import:?}") };
    let t: serde_json::Value = serde_json::from_str(body).unwrap();
    assert!(t["Description"].as_str().unwrap().starts_with("sandboxc tiny"), "{t}");
    assert_eq!(
        t["Resources"],
        serde_json::json!({"DataBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain", "Properties": {"BucketName": BUCKET}}})
    );
    assert!(console.text().contains("adopting 1 retained resources into the new stack tiny"), "{}", console.text());
}

#[test]
fn a_nested_stack_s_resources_are_imported_into_a_stack_the_root_then_adopts() {
    let fake = FakeCfn::default();
    let store = FakeStore::default();
    let probe = FakeProbe::with_image(IMAGE);
    probe.bucket(BUCKET, BucketState::Owned, None);
    fake.create(vec![Ok(IMPORT.into()), Ok(IMPORT_ROOT.into()), Err(CfnError::NoUpdates)])
        .stack("tiny-StorageNestedStack", vec![at(PART_ID_STORAGE, "IMPORT_COMPLETE")])
        .stack(PART_ID_STORAGE, vec![at(PART_ID_STORAGE, "IMPORT_COMPLETE")])
        .stack("tiny", vec![None, at(STACK_ID, "IMPORT_COMPLETE")])
        .stack(STACK_ID, vec![at(STACK_ID, "IMPORT_COMPLETE")]);
    complete(&fake, IMPORT);
    complete(&fake, IMPORT_ROOT);
    let (o, console) = apply_with(&fake, &store, &release("nested", NAMED_BUCKET), &probe);
    assert!(matches!(o, Outcome::NoChanges(_)), "{o:?}\n{}", console.text());
    let creates: Vec<String> = fake.log().into_iter().filter(|l| l.starts_with("CreateChangeSet")).collect();
    assert_eq!(
        creates,
        [
            "CreateChangeSet IMPORT tiny-StorageNestedStack (1 resources)",
            "CreateChangeSet IMPORT tiny (1 resources)",
            "CreateChangeSet UPDATE"
        ]
    );
    let created = fake.created();
    let TemplateSource::Body(part_body) = &created[0].template else { panic!() };
    assert_eq!(
        created[1].kind,
        ChangeSetKind::Import(vec![ResourceToImport {
            resource_type: "AWS::CloudFormation::Stack".into(),
            logical_id: "StorageNestedStack".into(),
            identifier: ("StackId".into(), PART_ID_STORAGE.into()),
        }])
    );
    // The root's nested stack reads exactly the imported stack's template from the bucket.
    let key = format!("templates/{}.json", sandboxc::cfn::render::sha256_hex(part_body.as_bytes()));
    assert!(store.puts().contains(&key), "{:?}", store.puts());
    let TemplateSource::Body(root_body) = &created[1].template else { panic!() };
    let root: serde_json::Value = serde_json::from_str(root_body).unwrap();
    let nested = &root["Resources"]["StorageNestedStack"];
    assert_eq!(nested["Properties"]["TemplateURL"], format!("https://assets.s3.amazonaws.com/{key}"));
    assert_eq!(nested["DeletionPolicy"], "Retain");
    assert_eq!(nested["Properties"]["Tags"][0]["Key"], "sandboxc:environment", "{nested}");
    // The imported stack carries the nested stack's tags, as the import validation compares.
    assert!(
        created[0].tags.contains(&("sandboxc:environment".to_string(), "tiny".to_string())),
        "{:?}",
        created[0].tags
    );
    // Both imports ran before the update's change set.
    let pos = |needle: &str| fake.calls().iter().position(|c| matches!(c, Call::ExecuteChangeSet(id) if id == needle));
    assert!(pos(IMPORT) < pos(IMPORT_ROOT));
}

#[test]
fn a_declined_adoption_changes_nothing() {
    let fake = FakeCfn::default();
    let probe = FakeProbe::with_image(IMAGE);
    probe.bucket(BUCKET, BucketState::Owned, None);
    fake.stack("tiny", vec![None]);
    let (polling, follow) = fast_polling();
    let d = Deployer {
        cfn: fake.clone(),
        store: FakeStore::default(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        polling,
        follow,
    };
    let mut console = Recorder::default();
    let ask = ApplyOptions { choices: Choices::default(), ..options() };
    let o = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(apply(
            &d,
            &release("single", NAMED_BUCKET),
            &ask,
            &mut NoZips,
            &probe,
            &FakePrefixLists::default(),
            &mut console,
        ))
        .unwrap();
    assert_eq!(o, Outcome::Declined { command: "apply", cleanup: "nothing was imported" });
    assert_eq!(console.questions.len(), 1, "{:?}", console.questions);
    assert!(console.questions[0].starts_with("Import these 1 resources into stack tiny"));
    assert_eq!(fake.log(), Vec::<String>::new());
}
