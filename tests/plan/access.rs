//! "Who can reach what": golden plans (text, markdown, JSON) for each access change of the
//! default blueprint (a user added or removed, a grant widened, an admin principal added, a
//! perimeter condition removed, shared mode turned on), what a replaced retained bucket loses,
//! and the warning when a bucket policy moves between templates. Review snapshot changes with
//! `cargo insta review`.

use crate::common;

use sandboxc::blueprint::Source;
use sandboxc::cfn::policy::PolicyDocument;
use sandboxc::cfn::{Expr, ToExpr};
use sandboxc::plan::model::{AccessKind, Direction};
use sandboxc::plan::render::{json, markdown, text};
use sandboxc::plan::{Plan, SecurityCategory, TemplateSet, Warning};

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
    TemplateSet::from_compiled(&common::compile(&Source { name: "test.yaml".into(), text: text.into() })).unwrap()
}

/// Snapshots the plan of `old` -> `new` in all three formats and returns it.
fn golden(name: &str, old: &TemplateSet, new: &TemplateSet) -> Plan {
    let plan = sandboxc::plan::plan(old, new, "the default blueprint");
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}.txt"), text::render(&plan, false));
        let md = markdown::render(&plan);
        assert!(md.chars().count() < markdown::GITHUB_COMMENT_LIMIT);
        insta::assert_snapshot!(format!("{name}.md"), md);
        insta::assert_snapshot!(format!("{name}.json"), json::render(&plan));
    });
    // The section comes first in every format.
    let txt = text::render(&plan, false);
    let first_section = txt.lines().skip(2).find(|l| !l.is_empty());
    assert_eq!(first_section, Some("Who can reach what"), "{txt}");
    let md = markdown::render(&plan);
    assert_eq!(md.lines().find(|l| l.starts_with("####")), Some("#### Who can reach what"), "{md}");
    let json: serde_json::Value = serde_json::from_str(&json::render(&plan)).unwrap();
    assert_eq!(json["access"].as_array().map(Vec::len), Some(plan.access.len()));
    plan
}

/// A resource of the network part, to edit.
fn network_resource<'s>(set: &'s mut TemplateSet, id: &str) -> &'s mut sandboxc::cfn::Resource {
    let network = set.templates.keys().find(|f| f.ends_with("-network.template.json")).unwrap().clone();
    set.templates.get_mut(&network).unwrap().resources.iter_mut().find(|(i, _)| i.as_str() == id).unwrap().1
}

/// The second user of the default blueprint, as written there.
const BOB: &str = "  - id: bob@example.org\n    authentication: api\n    datasets: {genomics: read-write}\n    notebook: {instance_type: ml.t3.large, volume_size_gb: 50}\n";

fn without_bob() -> String {
    edited(&[(BOB, "")])
}

fn access(plan: &Plan, kind: AccessKind, needle: &str) -> bool {
    plan.access.iter().any(|a| a.kind == kind && a.summary.contains(needle))
}

#[test]
fn user_added() {
    let plan = golden("user-added", &set(&without_bob()), &set(&default_text()));
    assert!(access(&plan, AccessKind::UserAdded, "bob@example.org"), "{:#?}", plan.access);
    assert!(
        access(&plan, AccessKind::UserAdded, "datasets/genomics/ in DataBucket (read-write)"),
        "{:#?}",
        plan.access
    );
    assert_eq!(plan.access.len(), 1, "{:#?}", plan.access);
    assert!(plan.access.iter().all(|a| a.direction == Direction::Relaxed));
}

#[test]
fn user_removed() {
    let plan = golden("user-removed", &set(&default_text()), &set(&without_bob()));
    assert!(access(&plan, AccessKind::UserRemoved, "bob@example.org"), "{:#?}", plan.access);
    assert_eq!(plan.access.len(), 1, "{:#?}", plan.access);
    // The notebook is retained (its DeletionPolicy), listed as a data-loss risk.
    assert!(plan.data_loss.iter().any(|d| d.resource_type == "AWS::SageMaker::NotebookInstance" && d.retained));
}

#[test]
fn grant_widened() {
    let plan = golden(
        "grant-widened",
        &set(&default_text()),
        &set(&edited(&[(
            "datasets: {genomics: read, claims: read}",
            "datasets: {genomics: read-write, claims: read}",
        )])),
    );
    assert!(
        access(
            &plan,
            AccessKind::GrantWidened,
            "alice@example.org: datasets/genomics/ in DataBucket widened from read to read-write"
        ),
        "{:#?}",
        plan.access
    );
    assert_eq!(plan.access.len(), 1, "{:#?}", plan.access);
}

#[test]
fn grants_added_removed_and_narrowed() {
    let plan = sandboxc::plan::plan(
        &set(&default_text()),
        &set(&edited(&[
            ("datasets: {genomics: read, claims: read}", "datasets: {claims: read}"),
            ("datasets: {genomics: read-write}", "datasets: {genomics: read, claims: read}"),
        ])),
        "edited",
    );
    assert!(
        access(&plan, AccessKind::GrantRemoved, "alice@example.org may no longer reach datasets/genomics/"),
        "{:#?}",
        plan.access
    );
    assert!(
        access(&plan, AccessKind::GrantNarrowed, "bob@example.org: datasets/genomics/ in DataBucket narrowed"),
        "{:#?}",
        plan.access
    );
    assert!(
        access(&plan, AccessKind::GrantAdded, "bob@example.org may now read datasets/claims/"),
        "{:#?}",
        plan.access
    );
    // Relaxations first.
    assert_eq!(plan.access[0].direction, Direction::Relaxed);
}

#[test]
fn admin_principal_added() {
    let admin = "arn:aws:iam::123456789012:role/data-admin";
    let plan = golden(
        "admin-principal-added",
        &set(&default_text()),
        &set(&edited(&[("admin_principals: []", &format!("admin_principals: [\"{admin}\"]"))])),
    );
    assert!(access(&plan, AccessKind::AdminPrincipalAdded, admin), "{:#?}", plan.access);
    // The exemption is the admin principal itself, a relaxation: never also a "condition
    // added" (a tightening) on the bucket policy's Deny statement.
    assert_eq!(plan.access.len(), 1, "{:#?}", plan.access);
    assert_eq!(plan.summary.access_relaxations, 1);
    // And back: the admin principal removed is the one tightening.
    let back = sandboxc::plan::plan(
        &set(&edited(&[("admin_principals: []", &format!("admin_principals: [\"{admin}\"]"))])),
        &set(&default_text()),
        "edited",
    );
    assert_eq!(back.access.len(), 1, "{:#?}", back.access);
    assert_eq!(
        (back.access[0].kind, back.access[0].direction),
        (AccessKind::AdminPrincipalRemoved, Direction::Tightened)
    );
    assert_eq!(back.summary.access_relaxations, 0);
}

/// A condition on a Deny statement decides whom the Deny spares: one added relaxes, one
/// removed tightens. A Deny statement removed is a relaxation.
#[test]
fn conditions_of_deny_statements_relax_when_added_and_tighten_when_removed() {
    let old = set(&default_text());
    let edit = |f: &dyn Fn(&mut sandboxc::cfn::policy::Statement)| {
        let mut new = old.clone();
        let policy = network_resource(&mut new, "DataBucketPolicy");
        let mut doc = PolicyDocument::from_expr(&policy.properties["PolicyDocument"]).unwrap();
        let deny =
            doc.statement.iter_mut().find(|s| s.sid.as_deref() == Some("DenyDataOutsideTheSandboxEndpoint")).unwrap();
        f(deny);
        policy.properties.insert("PolicyDocument".into(), doc.to_expr());
        sandboxc::plan::plan(&old, &new, "edited")
    };
    let removed = edit(&|deny| {
        deny.condition.remove("StringNotEquals");
    });
    assert!(
        access(
            &removed,
            AccessKind::DenyConditionRemoved,
            "condition StringNotEquals aws:SourceVpce removed from Deny statement DenyDataOutsideTheSandboxEndpoint"
        ),
        "{:#?}",
        removed.access
    );
    assert_eq!(removed.summary.access_relaxations, 0, "{:#?}", removed.access);
    let added = edit(&|deny| {
        let mut keys = sandboxc::cfn::ExprMap::new();
        keys.insert("aws:SourceIp".to_string(), Expr::from("10.0.0.0/8"));
        deny.condition.insert("NotIpAddress".into(), keys);
    });
    assert!(
        access(&added, AccessKind::DenyConditionAdded, "condition NotIpAddress aws:SourceIp added to Deny statement"),
        "{:#?}",
        added.access
    );
    assert_eq!(added.access[0].direction, Direction::Relaxed);

    let mut new = old.clone();
    let policy = network_resource(&mut new, "DataBucketPolicy");
    let mut doc = PolicyDocument::from_expr(&policy.properties["PolicyDocument"]).unwrap();
    doc.statement.retain(|s| s.sid.as_deref() != Some("DenyDataOutsideTheSandboxEndpoint"));
    policy.properties.insert("PolicyDocument".into(), doc.to_expr());
    let gone = sandboxc::plan::plan(&old, &new, "edited");
    assert!(
        access(
            &gone,
            AccessKind::PerimeterConditionRemoved,
            "Deny statement DenyDataOutsideTheSandboxEndpoint removed"
        ),
        "{:#?}",
        gone.access
    );
    assert_eq!(gone.summary.access_relaxations, 1);
}

/// Alice's role without the endpoint condition on her reads: a template edited by hand (no
/// blueprint writes it). A condition gone from an Allow statement is a relaxation.
#[test]
fn perimeter_condition_removed() {
    let old = set(&default_text());
    let mut new = old.clone();
    let notebook = new.templates.keys().find(|f| f.ends_with("-users01.template.json")).unwrap().clone();
    let role = new
        .templates
        .get_mut(&notebook)
        .unwrap()
        .resources
        .iter_mut()
        .find(|(id, _)| id.as_str().starts_with("UserAlice") && id.as_str().ends_with("Role"))
        .unwrap()
        .1;
    let Some(Expr::List(policies)) = role.properties.get_mut("Policies") else { panic!("no Policies") };
    let Some(Expr::Map(policy)) = policies.first_mut() else { panic!("no policy") };
    let mut doc = PolicyDocument::from_expr(&policy["PolicyDocument"]).unwrap();
    let read = doc.statement.iter_mut().find(|s| s.sid.as_deref() == Some("ReadObjects")).unwrap();
    read.condition.remove("StringEquals");
    policy.insert("PolicyDocument".into(), doc.to_expr());
    let plan = golden("perimeter-condition-removed", &old, &new);
    assert!(
        access(
            &plan,
            AccessKind::PerimeterConditionRemoved,
            "the role of alice@example.org: condition StringEquals aws:SourceVpce removed from statement ReadObjects"
        ),
        "{:#?}",
        plan.access
    );
    assert_eq!(plan.access[0].direction, Direction::Relaxed);
    assert_eq!(plan.summary.access_relaxations, 1, "{:#?}", plan.access);
}

#[test]
fn shared_mode_on() {
    let plan = golden(
        "shared-mode-on",
        &set(&default_text()),
        &set(&edited(&[
            ("mode: per_user ", "mode: shared "),
            ("notebook: {instance_type: ml.t3.large, volume_size_gb: 50}", "notebook: null"),
        ])),
    );
    assert!(access(&plan, AccessKind::SharedModeOn, "the weaker posture"), "{:#?}", plan.access);
    // Every user now reaches the union of the grants: alice's read of genomics widens (bob
    // writes it), bob gains claims.
    assert!(access(&plan, AccessKind::GrantWidened, "alice@example.org: datasets/genomics/"), "{:#?}", plan.access);
    assert!(
        access(&plan, AccessKind::GrantAdded, "bob@example.org may now read datasets/claims/"),
        "{:#?}",
        plan.access
    );
    let notebook = plan.templates.iter().find(|t| t.stack == "notebook").unwrap();
    let description = notebook.description.as_ref().unwrap().new.as_ref().unwrap().as_str().unwrap();
    assert!(description.contains("the weaker posture"), "{description}");
}

/// Replacing the data bucket: the old bucket is retained with its data but leaves the trail's
/// data events; its policy (retained itself) stays with it.
#[test]
fn a_replaced_bucket_lists_what_the_retained_old_bucket_loses() {
    let plan = sandboxc::plan::plan(
        &set(&default_text()),
        &set(&edited(&[("bucket_name: null", "bucket_name: sandbox-data-example-1")])),
        "edited",
    );
    let losses: Vec<&str> = plan
        .security
        .iter()
        .filter(|s| s.logical_id == "DataBucket" && s.direction == Direction::Relaxed)
        .map(|s| s.summary.as_str())
        .collect();
    assert!(
        plan.security.iter().any(|s| s.category == SecurityCategory::Logging
            && s.summary.contains("the old bucket DataBucket (replaced, retained with its data) is no longer recorded by the trail audit/Trail")),
        "{losses:#?}"
    );
    // The policy is retained: the old bucket keeps it, nothing says it is lost.
    assert!(!losses.iter().any(|s| s.contains("loses its bucket policy")), "{losses:#?}");

    // With a policy that is not retained, the old bucket loses it.
    let mut unretained = set(&default_text());
    let mut new = set(&edited(&[("bucket_name: null", "bucket_name: sandbox-data-example-1")]));
    for s in [&mut unretained, &mut new] {
        let policy = network_resource(s, "DataBucketPolicy");
        policy.deletion_policy = None;
        policy.update_replace_policy = None;
    }
    let plan = sandboxc::plan::plan(&unretained, &new, "edited");
    assert!(
        plan.security.iter().any(|s| s.category == SecurityCategory::BucketPolicy
            && s.summary.contains("loses its bucket policy network/DataBucketPolicy (statements: DenyInsecureTransport, DenyDataOutsideTheSandboxEndpoint)")),
        "{:#?}",
        plan.security
    );
}

/// A sandbox deployed before the perimeter had the data bucket's policy in the storage part;
/// now it is in the network part: the plan warns that deleting the old resource deletes the
/// bucket's policy.
#[test]
fn a_bucket_policy_moving_between_templates_is_a_warning() {
    let new = set(&default_text());
    let mut old = new.clone();
    let network = old.templates.keys().find(|f| f.ends_with("-network.template.json")).unwrap().clone();
    let storage = old.templates.keys().find(|f| f.ends_with("-storage.template.json")).unwrap().clone();
    let (id, mut policy) = {
        let t = old.templates.get_mut(&network).unwrap();
        let id = t.resources.keys().find(|id| id.as_str() == "DataBucketPolicy").unwrap().clone();
        (id.clone(), t.resources.remove(&id).unwrap())
    };
    policy.properties.insert("Bucket".into(), Expr::resource(&sandboxc::cfn::LogicalId::new("DataBucket")));
    policy.deletion_policy = None;
    policy.update_replace_policy = None;
    old.templates.get_mut(&storage).unwrap().resources.insert(id, policy);
    let plan = sandboxc::plan::plan(&old, &new, "moved");
    let moved: Vec<&Warning> =
        plan.warnings.iter().filter(|w| matches!(w, Warning::BucketPolicyMoved { .. })).collect();
    assert_eq!(moved.len(), 1, "{:#?}", plan.warnings);
    let text = moved[0].to_string();
    assert!(
        text.contains(
            "the policy of bucket storage/DataBucket moves from storage/DataBucketPolicy to network/DataBucketPolicy"
        ) && text.contains("DeleteBucketPolicy")
            && text.contains("put-bucket-policy"),
        "{text}"
    );
}

/// Values from a template (a pull request may have written the base) print as what they are:
/// control characters and bidirectional overrides as `\u{..}` in text and markdown, markdown
/// punctuation and web addresses literally.
#[test]
fn hostile_values_print_as_escapes() {
    let old = set(&default_text());
    let mut new = old.clone();
    let vpc = network_resource(&mut new, "Vpc");
    vpc.properties.insert("Comment".into(), Expr::from("a\u{1b}[2Jb\u{202e}c __init__ [x](http://evil.example/ok)"));
    let plan = sandboxc::plan::plan(&old, &new, "edited");
    for (name, out) in [("text", text::render(&plan, false)), ("colour", text::render(&plan, true))] {
        // Values are shown as JSON strings (which escape control characters themselves); what
        // JSON leaves as is, such as a bidirectional override, is escaped by the renderer.
        assert!(out.contains("a\\u001b[2Jb\\u{202e}c"), "{name}: {out}");
        assert!(!out.contains("\u{1b}[2J") && !out.contains('\u{202e}'), "{name}: {out}");
    }
    assert!(text::render(&plan, true).contains("\u{1b}[1m"), "sandboxc's own colours stay");
    let md = markdown::render(&plan);
    assert!(!md.contains('\u{1b}') && !md.contains('\u{202e}'), "{md}");
    // The value sits in a fenced block, where markdown is not interpreted.
    assert!(md.contains("```diff\n") && md.contains("__init__ [x](http://evil.example/ok)"), "{md}");
}
