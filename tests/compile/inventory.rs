//! Parity with the CDK app this replaces (docs/reference-app.md): the default output has every
//! resource type the reference deploys, except those replaced by native features, plus the
//! parts the reference lacks (trail, flow logs, endpoint policies...).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

/// The 23 resource types of the reference (INVENTORY.md, "Distinct resource types").
const REFERENCE_TYPES: [&str; 23] = [
    "AWS::AppStream::Fleet",
    "AWS::AppStream::Stack",
    "AWS::AppStream::StackFleetAssociation",
    "AWS::CloudFormation::Stack",
    "AWS::EC2::RouteTable",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::Subnet",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::VPC",
    "AWS::EC2::VPCEndpoint",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::KMS::Alias",
    "AWS::KMS::Key",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::S3::Bucket",
    "AWS::SSM::Parameter",
    "AWS::SageMaker::NotebookInstance",
    "Custom::AWS",
    "Custom::CDKBucketDeployment",
    "Custom::LogRetention",
];

/// Reference types replaced by native features or typed custom resources, with what replaces them.
const REPLACED: [(&str, &[&str]); 4] = [
    // UpdateFleet -> Fleet.IamRoleArn; StartFleet -> CreationPolicy; the other Custom::AWS calls
    // -> typed custom resources that merge instead of overwrite and never delete shared state.
    (
        "Custom::AWS",
        &["Custom::AppStreamServiceRoles", "Custom::HomeFolderNotification", "Custom::UsageReportSubscription"],
    ),
    ("Custom::LogRetention", &["AWS::Logs::LogGroup"]),
    ("Custom::CDKBucketDeployment", &["AWS::SSM::Parameter"]),
    // The notebook roles' policies are inline: the key policies name the roles by IAM path, so
    // no key depends on a role and no separate policy resource is needed to break a cycle.
    ("AWS::IAM::Policy", &["AWS::IAM::Role"]),
];

fn counts() -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, _, r) in common::resources(&sandboxc::blueprint::Source::embedded()) {
        *out.entry(r["Type"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    out
}

#[test]
fn every_reference_type_is_deployed_or_replaced() {
    let have = counts();
    for t in REFERENCE_TYPES {
        match REPLACED.iter().find(|(old, _)| *old == t) {
            Some((_, new)) => {
                assert!(!have.contains_key(t), "{t} should be replaced");
                for n in *new {
                    assert!(have.contains_key(*n), "{t} is replaced by {n}, which is missing");
                }
            }
            None => assert!(have.contains_key(t), "reference type {t} is missing"),
        }
    }
}

#[test]
fn design_additions_are_present() {
    let have = counts();
    for t in [
        "AWS::CloudTrail::Trail",
        "AWS::S3::BucketPolicy",
        "AWS::EC2::FlowLog",
        "AWS::SQS::Queue",
        "AWS::Logs::LogGroup",
    ] {
        assert!(have.contains_key(t), "{t} is missing");
    }
    assert_eq!(have["AWS::S3::Bucket"], 3, "data bucket, trail bucket and the trail bucket's access-log bucket");
    let services: BTreeSet<String> = common::resources(&sandboxc::blueprint::Source::embedded())
        .into_iter()
        .filter(|(_, _, r)| r["Type"] == "AWS::EC2::VPCEndpoint")
        .map(|(_, _, r)| r["Properties"]["ServiceName"]["Fn::Sub"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = [
        "com.amazonaws.${AWS::Region}.s3",
        "com.amazonaws.${AWS::Region}.ssm",
        "com.amazonaws.${AWS::Region}.sagemaker.api",
        "aws.sagemaker.${AWS::Region}.notebook",
        "com.amazonaws.${AWS::Region}.appstream.api",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(services, expected);
    let with_policy = common::resources(&sandboxc::blueprint::Source::embedded())
        .into_iter()
        .filter(|(_, _, r)| r["Type"] == "AWS::EC2::VPCEndpoint" && r["Properties"]["PolicyDocument"].is_object())
        .count();
    assert_eq!(with_policy, 4, "S3, SSM, SageMaker API and notebook endpoints carry policies");
}

#[test]
fn turned_off_parts_vanish_with_every_reference_to_them() {
    // identity.saml is null by default: no SAML role.
    assert!(sandboxc::blueprint::DEFAULT_BLUEPRINT.contains("saml: null "));
    let text = sandboxc::blueprint::DEFAULT_BLUEPRINT
        .replace("cloudtrail: true", "cloudtrail: false")
        .replace("usage_reports: true", "usage_reports: false")
        .replace("flow_logs: true", "flow_logs: false");
    let source = sandboxc::blueprint::Source { name: "off.yaml".into(), text };
    let all: String =
        common::files(&source).into_iter().filter(|(f, _)| f.ends_with(".json")).map(|(_, t)| t).collect();
    for gone in [
        "SamlRole",
        "Trail",
        "UsageReport",
        "FlowLog",
        "IdentityNestedStack",
        "saml-provider",
        "cloudtrail.amazonaws.com",
    ] {
        assert!(!all.contains(gone), "{gone} is still referenced");
    }
    // The checker found no dangling reference either (compile would have failed).
}

#[test]
fn names_derive_from_the_environment_name() {
    let text = sandboxc::blueprint::DEFAULT_BLUEPRINT.replace("name: datasandbox", "name: team-a");
    let source = sandboxc::blueprint::Source { name: "team.yaml".into(), text };
    let all: String = common::files(&source).into_iter().map(|(_, t)| t).collect();
    assert!(!all.contains("datasandbox-"), "a name still uses the default environment");
    for name in [
        "team-a-on-demand",
        "team-a-stack",
        "trail/team-a-${Id}",
        "/sandboxc/team-a/${Id}/",
        "/sandboxc/team-a/",
        "team-a-alice-example-or-",
    ] {
        assert!(all.contains(name), "{name} is missing");
    }
    // The functions and the queue have names generated by CloudFormation; the notebook
    // instances' names carry the network generation, so that a new network (which replaces
    // them) gives them new names.
    let generation = sandboxc::blueprint::load(&source).unwrap().network.generation;
    for (_, id, r) in common::resources(&source) {
        if r["Type"] == "AWS::SageMaker::NotebookInstance" {
            let name = r["Properties"]["NotebookInstanceName"].as_str().unwrap_or_default();
            assert!(name.starts_with("team-a-") && name.ends_with(&format!("-{generation}")), "{id}: {name}");
            continue;
        }
        let name = match r["Type"].as_str().unwrap() {
            "AWS::Lambda::Function" => "FunctionName",
            "AWS::SQS::Queue" => "QueueName",
            _ => continue,
        };
        assert!(r["Properties"].get(name).is_none(), "{id} has a fixed {name}");
    }
    assert!(!all.contains("Data-Sandbox-Notebook"));
    assert!(!all.contains("arn:aws:"), "an ARN hard-codes the partition");
}
