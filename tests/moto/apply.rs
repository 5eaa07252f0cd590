//! `sandboxc bootstrap`, `apply`, `status` and `destroy` end to end against the moto server on
//! loopback (`SANDBOXC_MOTO_ENDPOINT`, started by scripts/test.sh from tests/moto/server.py),
//! through the real binary and the real AWS SDK.
//!
//! What moto cannot show (measured against moto 5.2.5: change sets without Replacement, no
//! nested events, no Outputs after a change set, no rollbacks, no termination protection
//! call) is covered by tests/apply_scripted.rs.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use common::{moto, sandboxc_aws as sandboxc};

use std::path::Path;

use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};

pub(crate) struct Moto {
    pub(crate) endpoint: String,
    pub(crate) cfn: aws_sdk_cloudformation::Client,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) runtime: tokio::runtime::Runtime,
}

impl Moto {
    pub(crate) fn new(endpoint: &str) -> Self {
        let cfn = aws_sdk_cloudformation::Client::from_conf(
            aws_sdk_cloudformation::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
                .endpoint_url(endpoint)
                .build(),
        );
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(aws_sdk_s3::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
                .endpoint_url(endpoint)
                .force_path_style(true)
                .build(),
        );
        Self {
            endpoint: endpoint.to_string(),
            cfn,
            s3,
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        }
    }

    pub(crate) fn template(&self, stack: &str) -> String {
        self.runtime
            .block_on(self.cfn.get_template().stack_name(stack).send())
            .unwrap()
            .template_body()
            .unwrap()
            .to_string()
    }

    pub(crate) fn status(&self, stack: &str) -> Option<String> {
        let out = self.runtime.block_on(self.cfn.describe_stacks().stack_name(stack).send()).ok()?;
        out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string())
    }

    pub(crate) fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        let out = self
            .runtime
            .block_on(self.s3.get_object().bucket(bucket).key(key).send())
            .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e}"));
        self.runtime.block_on(out.body.collect()).unwrap().into_bytes().to_vec()
    }

    pub(crate) fn create_saml_provider(&self, name: &str) {
        let iam = aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::Config::builder()
                .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
                .region(aws_sdk_iam::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "test"))
                .endpoint_url(&self.endpoint)
                .build(),
        );
        let metadata = format!(
            "<EntityDescriptor xmlns=\"urn:oasis:names:tc:SAML:2.0:metadata\">{}</EntityDescriptor>",
            " ".repeat(1000)
        );
        let _ = self.runtime.block_on(iam.create_saml_provider().name(name).saml_metadata_document(metadata).send());
    }

    pub(crate) fn assets_bucket(&self) -> String {
        let out = self.runtime.block_on(self.cfn.list_stack_resources().stack_name("sandboxc-assets").send()).unwrap();
        out.stack_resource_summaries()
            .iter()
            .find(|r| r.logical_resource_id() == Some("AssetsBucket"))
            .unwrap()
            .physical_resource_id()
            .unwrap()
            .to_string()
    }
}

/// The `identity.saml.idp_name` of a blueprint's text (`saml: {idp_name: NAME}`), if any.
fn saml_provider(blueprint: &str) -> Option<String> {
    let rest = blueprint.split("idp_name:").nth(1)?.trim_start();
    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c)).collect();
    (!name.is_empty()).then_some(name)
}

/// The synth output of `blueprint` in `dir/out-<tag>`: (manifest, root template file name).
fn synth(dir: &Path, blueprint: &str, tag: &str, endpoint: &str) -> serde_json::Value {
    let out = format!("out-{tag}");
    let (code, stdout, stderr) = sandboxc(&["synth", blueprint, "-o", &out], dir, endpoint);
    assert_eq!(code, 0, "{stdout}{stderr}");
    serde_json::from_str(&std::fs::read_to_string(dir.join(&out).join("manifest.json")).unwrap()).unwrap()
}

pub(crate) fn lambda_zips(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let identity = sandboxc::assets::LambdaAsset::built_in().identity;
    let zips = dir.join("lz").join(&identity);
    std::fs::create_dir_all(&zips).unwrap();
    ["validator", "provider"]
        .iter()
        .map(|f| {
            // moto never runs the functions: any bytes do, as long as they arrive unchanged.
            let bytes = format!("PK\x05\x06 sandboxc test zip {f}").into_bytes();
            std::fs::write(zips.join(format!("{f}.zip")), &bytes).unwrap();
            (format!("lambda/{identity}/{f}.zip"), bytes)
        })
        .collect()
}

#[test]
fn bootstrap_apply_update_status_destroy_against_moto() {
    let Some(endpoint) = moto() else { return };
    let moto = Moto::new(&endpoint);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stack = format!("e2e{}", std::process::id());
    let default = sandboxc::blueprint::Source::embedded().text;
    // A named data bucket: the one retained resource with a fixed name that a re-apply after
    // destroy finds in its way (log groups and the trail carry the stack's ID in their names;
    // moto ignores the notebooks' names).
    let blueprint = default
        .replace("name: datasandbox ", &format!("name: {stack}"))
        .replace("layout: nested", "layout: single")
        .replace("bucket_name: null", &format!("bucket_name: {stack}-data"));
    assert!(blueprint.contains(&format!("name: {stack}")) && blueprint.contains("layout: single"));
    assert!(blueprint.contains(&format!("bucket_name: {stack}-data")));
    if let Some(idp) = saml_provider(&blueprint) {
        // The preflight checks that a named SAML provider exists.
        moto.create_saml_provider(&idp);
    }
    std::fs::write(dir.join("bp.yaml"), &blueprint).unwrap();
    let zips = lambda_zips(dir);

    // bootstrap: the assets stack (twice: the second is "no changes").
    let (code, out, err) = sandboxc(&["bootstrap", "--yes"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(moto.status("sandboxc-assets").as_deref(), Some("CREATE_COMPLETE"), "{out}");
    let (code, out, err) = sandboxc(&["bootstrap", "--yes"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no changes"), "{out}");
    let bucket = moto.assets_bucket();

    // apply: created; the stored template is the synth output byte for byte (by URL: it is
    // over 51,200 bytes), the Lambda zips are in the assets bucket unchanged.
    let manifest = synth(dir, "bp.yaml", "1", &endpoint);
    let root_file = manifest["root_template"].as_str().unwrap();
    let root = std::fs::read_to_string(dir.join("out-1").join(root_file)).unwrap();
    assert!(root.len() > 51_200, "the single template is expected over the TemplateBody limit");
    let (code, out, err) = sandboxc(&["apply", "bp.yaml", "--yes", "--lambda-dir", "lz"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("account 123456789012, region us-east-1, stack {stack}")), "{out}");
    assert!(out.contains(&format!("stack {stack}: CREATE_COMPLETE")), "{out}");
    assert_eq!(moto.template(&stack), root, "the deployed template is not the synth output");
    for (key, bytes) in &zips {
        assert_eq!(&moto.object(&bucket, key), bytes, "{key}");
    }
    let root_key = format!("templates/{}.json", sandboxc::cfn::render::sha256_hex(root.as_bytes()));
    assert_eq!(moto.object(&bucket, &root_key), root.as_bytes());

    // apply again: no changes, exit 0, nothing uploaded; the outputs file is written.
    let (code, out, err) = sandboxc(
        &["apply", "bp.yaml", "--yes", "--lambda-dir", "lz", "--outputs-file", "outputs.json"],
        dir,
        &endpoint,
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no changes") && out.contains("0 uploaded"), "{out}");
    let outputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("outputs.json")).unwrap()).unwrap();
    assert_eq!((outputs["schema_version"].as_i64(), outputs["stack"].as_str()), (Some(1), Some(stack.as_str())));
    assert!(outputs["outputs"].is_object(), "{outputs}");

    // apply an edited blueprint: an update of the notebook.
    std::fs::write(dir.join("bp.yaml"), blueprint.replace("instance_type: ml.t3.medium", "instance_type: ml.t3.large"))
        .unwrap();
    assert_ne!(
        std::fs::read_to_string(dir.join("bp.yaml")).unwrap(),
        blueprint,
        "the default blueprint's notebook type moved"
    );
    let manifest = synth(dir, "bp.yaml", "2", &endpoint);
    let root2 = std::fs::read_to_string(dir.join("out-2").join(manifest["root_template"].as_str().unwrap())).unwrap();
    let (code, out, err) = sandboxc(&["apply", "bp.yaml", "--yes", "--lambda-dir", "lz"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    // The default blueprint's first user has no notebook type of its own: their notebook changes.
    let alice = sandboxc::compile::user_id_prefix("alice@example.org");
    assert!(
        out.contains(&format!("~ {alice}Notebook (AWS::SageMaker::NotebookInstance)"))
            && out.contains(&format!("stack {stack}: UPDATE_COMPLETE")),
        "{out}"
    );
    assert_eq!(moto.template(&stack), root2);

    // status as JSON (docs/status-json.md).
    let (code, out, err) = sandboxc(&["status", "bp.yaml", "--format", "json"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    let status: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!((status["schema_version"].as_i64(), status["status"].as_str()), (Some(1), Some("UPDATE_COMPLETE")));
    assert_eq!(status["stack"], stack.as_str());
    assert!(status["events"].as_array().is_some_and(|e| !e.is_empty()), "{status}");

    // status.
    let (code, out, err) = sandboxc(&["status", "bp.yaml"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(": UPDATE_COMPLETE") && out.contains("latest events") && out.contains("UPDATE_COMPLETE"),
        "{out}"
    );

    // destroy: gone; the retained resources are listed by name.
    let (code, out, err) = sandboxc(&["destroy", "bp.yaml", "--yes"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("stack {stack} deleted")), "{out}");
    let retained = out.split("retained, delete them by hand").nth(1).unwrap_or_else(|| panic!("{out}"));
    for id in ["DataBucket (AWS::S3::Bucket)", "DataKey (AWS::KMS::Key)", "TrailBucket (AWS::S3::Bucket)"] {
        assert!(retained.contains(id), "{id} not listed as retained:\n{out}");
    }
    assert_eq!(moto.status(&stack), None, "the stack still exists");
    let (code, out, _) = sandboxc(&["destroy", "bp.yaml", "--yes"], dir, &endpoint);
    assert_eq!(code, 0);
    assert!(out.contains("nothing to destroy"), "{out}");

    // apply again: the retained named data bucket is found by `check` and adopted (with its
    // key) by an IMPORT change set before any other change set; the stack is created again.
    let (code, out, err) = sandboxc(&["check", "bp.yaml"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("adopt AWS::S3::Bucket {stack}-data")), "{out}{err}");
    let (code, out, err) = sandboxc(&["apply", "bp.yaml", "--yes", "--lambda-dir", "lz"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
    let adopting = out.find("adopting ").unwrap_or_else(|| panic!("{out}"));
    let import = out.find("executing IMPORT change set").unwrap_or_else(|| panic!("{out}"));
    let update = out.find("executing change set").unwrap_or_else(|| panic!("{out}"));
    assert!(adopting < import && import < update, "the import comes before any other change set:\n{out}");
    assert!(out.contains(&format!("DataBucket (AWS::S3::Bucket)  {stack}-data")), "{out}");
    assert!(out.contains(&format!("stack {stack}: UPDATE_COMPLETE")), "{out}");
    assert_eq!(moto.status(&stack).as_deref(), Some("UPDATE_COMPLETE"));
    assert_eq!(moto.template(&stack), root2, "the deployed template is the synth output again");
}

/// Removing a user revokes access in the same apply: their allow-list entry (the SSM parameter
/// the validator reads) and their role are gone, and the other user's are untouched (the same
/// parameter value, the same role, by its unique ID). The notebook is retained (moto ignores
/// notebook names, so only the parameters and roles are looked at, with the SSM and IAM APIs).
#[test]
fn removing_a_user_removes_their_allow_list_entry_and_role_against_moto() {
    use sandboxc_contract::users::{allow_list_parameter, role_path, users_role_path};
    let Some(endpoint) = moto() else { return };
    let moto = Moto::new(&endpoint);
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ssm::config::Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(&endpoint)
            .build(),
    );
    let iam = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::Config::builder()
            .behavior_version(aws_sdk_iam::config::BehaviorVersion::latest())
            .region(aws_sdk_iam::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_iam::config::Credentials::new("testing", "testing", None, None, "test"))
            .endpoint_url(&endpoint)
            .build(),
    );
    let parameter = |name: &str| -> Option<String> {
        moto.runtime.block_on(ssm.get_parameter().name(name).send()).ok().and_then(|o| o.parameter?.value)
    };
    // Roles under a path: (path, role ID).
    let roles = |prefix: &str| -> Vec<(String, String)> {
        let out = moto.runtime.block_on(iam.list_roles().path_prefix(prefix).send()).unwrap();
        let mut roles: Vec<(String, String)> =
            out.roles().iter().map(|r| (r.path().to_string(), r.role_id().to_string())).collect();
        roles.sort();
        roles
    };

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stack = format!("e2eu{}", std::process::id());
    let two = sandboxc::blueprint::Source::embedded()
        .text
        .replace("name: datasandbox ", &format!("name: {stack} "))
        .replace("layout: nested", "layout: single");
    std::fs::write(dir.join("bp.yaml"), &two).unwrap();
    lambda_zips(dir);
    let assets = format!("{stack}-assets");
    moto.runtime.block_on(moto.s3.create_bucket().bucket(&assets).send()).unwrap();
    let apply = || {
        sandboxc(
            &["apply", "bp.yaml", "--yes", "--allow-data-loss", "--lambda-dir", "lz", "--assets-bucket", &assets],
            dir,
            &endpoint,
        )
    };

    let (code, out, err) = apply();
    assert_eq!(code, 0, "{out}{err}");
    let (alice, bob) = ("alice@example.org", "bob@example.org");
    let alice_entry = parameter(&allow_list_parameter(&stack, alice)).expect("alice's allow-list entry");
    assert!(alice_entry.contains(&format!("\"notebook\":\"{stack}-alice-example-or-")), "{alice_entry}");
    assert!(parameter(&allow_list_parameter(&stack, bob)).is_some(), "bob's allow-list entry");
    let before = roles(&users_role_path(&stack));
    let paths: Vec<&str> = before.iter().map(|(p, _)| p.as_str()).collect();
    let mut expected = vec![role_path(&stack, alice), role_path(&stack, bob)];
    expected.sort();
    assert_eq!(paths, expected, "one role per user, under the user's path");

    // Bob leaves the blueprint.
    let bob_entry = "  - id: bob@example.org\n    authentication: api\n    datasets: {genomics: read-write}\n    notebook: {instance_type: ml.t3.large, volume_size_gb: 50}\n";
    assert!(two.contains(bob_entry), "the default blueprint's second user moved");
    std::fs::write(dir.join("bp.yaml"), two.replace(bob_entry, "")).unwrap();
    let (code, out, err) = apply();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Who can reach what") && out.contains(bob), "the plan names the removed user:\n{out}");
    assert_eq!(parameter(&allow_list_parameter(&stack, bob)), None, "bob's allow-list entry is still there");
    assert_eq!(parameter(&allow_list_parameter(&stack, alice)), Some(alice_entry), "alice's entry changed");
    let after = roles(&users_role_path(&stack));
    assert_eq!(after, before.into_iter().filter(|(p, _)| *p == role_path(&stack, alice)).collect::<Vec<_>>());
}

/// The users of the nested-layout test: spread over several users shards.
const USERS: [&str; 5] =
    ["ann@example.org", "ben@example.org", "cat@example.org", "dan@example.org", "eve@example.org"];

/// The nested layout as far as moto goes: nested templates uploaded byte for byte under their
/// content keys, the root template sent inline and stored unchanged, the stack created; the
/// nested stacks' policies cannot be set on moto, which fails the apply (exit 1).
#[test]
fn nested_layout_publishes_every_template_against_moto() {
    let Some(endpoint) = moto() else { return };
    let moto = Moto::new(&endpoint);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stack = format!("e2en{}", std::process::id());
    std::fs::write(
        dir.join("bp.yaml"),
        format!(
            "name: {stack}\nlayout: nested\nappstream:\n  image_name: img\nidentity:\n  saml: {{idp_name: corp}}\nnotebook:\n  shards: 3\nusers:\n{}",
            USERS.iter().map(|u| format!("  - id: {u}\n")).collect::<String>()
        ),
    )
    .unwrap();
    moto.create_saml_provider("corp");
    lambda_zips(dir);
    let (code, out, err) = sandboxc(
        &["apply", "bp.yaml", "--yes", "--lambda-dir", "lz", "--assets-bucket", &format!("{stack}-assets")],
        dir,
        &endpoint,
    );
    assert_eq!(code, 1, "the assets bucket does not exist yet:\n{out}{err}");
    assert!(err.contains("the bucket does not exist") && err.contains("no change set was created"), "{err}");
    assert_eq!(moto.status(&stack), None, "a failed upload must stop before any change set");

    moto.runtime.block_on(moto.s3.create_bucket().bucket(format!("{stack}-assets")).send()).unwrap();
    let manifest = synth(dir, "bp.yaml", "n", &endpoint);
    // Installed as the release archive lays it out (bin/sandboxc, share/sandboxc/lambda/): no
    // --lambda-dir, the zips are found beside the binary.
    let installed = dir.join("install");
    std::fs::create_dir_all(installed.join("bin")).unwrap();
    let exe = installed.join("bin/sandboxc");
    std::fs::hard_link(env!("CARGO_BIN_EXE_sandboxc"), &exe)
        .or_else(|_| std::fs::copy(env!("CARGO_BIN_EXE_sandboxc"), &exe).map(|_| ()))
        .unwrap();
    let identity = sandboxc::assets::LambdaAsset::built_in().identity;
    std::fs::create_dir_all(installed.join("share/sandboxc/lambda")).unwrap();
    std::fs::rename(dir.join("lz").join(&identity), installed.join("share/sandboxc/lambda").join(&identity)).unwrap();
    let (code, out, err) = common::sandboxc_exe(
        &exe,
        &["apply", "bp.yaml", "--yes", "--assets-bucket", &format!("{stack}-assets")],
        dir,
        &endpoint,
    );
    // moto cannot list the nested stacks (ListStackResources answers 500 on the root), so their
    // stack policies cannot be set: the stack is created, but apply does not report a plain
    // success for a deployment without its data-loss guard.
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!("stack {stack}: CREATE_COMPLETE")) || err.contains("was deployed (CREATE_COMPLETE)"),
        "{out}{err}"
    );
    assert!(err.contains("could not be set on every stack") && err.contains("run `sandboxc apply` again"), "{err}");
    assert_eq!(moto.status(&stack).as_deref(), Some("CREATE_COMPLETE"));
    let templates = manifest["templates"].as_array().unwrap();
    // The users shards that have users: each a nested template, published like the others.
    let shards: std::collections::BTreeSet<String> =
        USERS.iter().map(|u| format!("users{:02}", sandboxc::compile::users::shard_of(u, 3))).collect();
    assert!(shards.len() >= 2, "the users spread over several shards: {shards:?}");
    let labels: std::collections::BTreeSet<String> = templates
        .iter()
        .filter_map(|t| t["stack"].as_str())
        .filter(|l| l.starts_with("users"))
        .map(str::to_string)
        .collect();
    assert_eq!(labels, shards);
    assert_eq!(templates.len(), 8 + shards.len(), "root, seven nested templates and the users shards");
    for t in templates {
        let text = std::fs::read(dir.join("out-n").join(t["file"].as_str().unwrap())).unwrap();
        match t["s3_key"].as_str() {
            Some(key) => assert_eq!(moto.object(&format!("{stack}-assets"), key), text, "{key}"),
            None => assert_eq!(moto.template(&stack).as_bytes(), text.as_slice(), "root template"),
        }
    }
    // No destroy here: moto cannot list the resources of a root stack whose templates read
    // nested-stack outputs (ListStackResources answers 500 on `GetAtt Nested.Outputs.X`), and
    // destroy lists them first; tests/apply_scripted.rs covers destroy of nested stacks.
}

/// Preflight: a blueprint pinned to another account is refused after sts:GetCallerIdentity,
/// before anything is uploaded or any change set is made.
#[test]
fn a_blueprint_pinned_to_another_account_is_refused() {
    let Some(endpoint) = moto() else { return };
    let moto = Moto::new(&endpoint);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stack = format!("e2ea{}", std::process::id());
    std::fs::write(
        dir.join("bp.yaml"),
        format!("name: {stack}\naccount: \"999999999999\"\nlayout: single\nappstream:\n  image_name: img\n"),
    )
    .unwrap();
    let (code, out, err) = sandboxc(&["apply", "bp.yaml", "--yes", "--assets-bucket", "nowhere"], dir, &endpoint);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("pins account 999999999999") && err.contains("account 123456789012") && err.contains("--profile"),
        "{err}"
    );
    assert_eq!(moto.status(&stack), None);
}

/// A CIDR change deploys: the VPC and everything a new VPC forces out (subnets, route tables,
/// endpoints, security groups, the notebook) is replaced, and no fixed physical name stands in
/// the way. Without `--allow-data-loss` apply refuses (the notebook is replaced with its
/// volume); with it, the update completes.
#[test]
fn a_cidr_change_deploys_against_moto() {
    let Some(endpoint) = moto() else { return };
    let moto = Moto::new(&endpoint);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stack = format!("e2ec{}", std::process::id());
    let assets = format!("{stack}-assets");
    moto.runtime.block_on(moto.s3.create_bucket().bucket(&assets).send()).unwrap();
    let blueprint = sandboxc::blueprint::Source::embedded()
        .text
        .replace("name: datasandbox ", &format!("name: {stack} "))
        .replace("layout: nested", "layout: single");
    assert!(blueprint.contains("cidr: 10.10.0.0/16"), "the default blueprint's CIDR moved");
    std::fs::write(dir.join("bp.yaml"), &blueprint).unwrap();
    lambda_zips(dir);
    let apply = |extra: &[&str]| {
        let mut args = vec!["apply", "bp.yaml", "--yes", "--lambda-dir", "lz", "--assets-bucket", &assets];
        args.extend_from_slice(extra);
        sandboxc(&args, dir, &endpoint)
    };
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("stack {stack}: CREATE_COMPLETE")), "{out}");

    std::fs::write(dir.join("bp.yaml"), blueprint.replace("cidr: 10.10.0.0/16", "cidr: 10.20.0.0/16")).unwrap();
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 1, "the notebook is replaced with its volume: {out}{err}");
    assert!(format!("{out}{err}").contains("--allow-data-loss"), "{out}{err}");
    assert!(out.contains("Disruption") && out.contains("the VPC is replaced"), "{out}");
    assert!(moto.template(&stack).contains("10.10.0.0/16"), "nothing changed");

    let (code, out, err) = apply(&["--allow-data-loss"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("stack {stack}: UPDATE_COMPLETE")), "{out}");
    let deployed = moto.template(&stack);
    assert!(deployed.contains("10.20.0.0/16") && !deployed.contains("10.10.0.0/16"), "the new CIDR is deployed");
    let (code, out, err) = sandboxc(&["destroy", "bp.yaml", "--yes"], dir, &endpoint);
    assert_eq!(code, 0, "{out}{err}");
}
