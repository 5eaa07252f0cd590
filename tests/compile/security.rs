//! Security properties of the default output, one test each (README, "What it is"; docs/aws-facts.md).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use serde_json::Value;

fn default_resources() -> Vec<(String, String, Value)> {
    common::resources(&sandboxc::blueprint::Source::embedded())
}

fn of_type(kind: &str) -> Vec<(String, Value)> {
    default_resources().into_iter().filter(|(_, _, r)| r["Type"] == kind).map(|(_, id, r)| (id, r)).collect()
}

/// Every statement of every IAM document in the output: `(where, statement)`.
fn statements() -> Vec<(String, Value)> {
    fn collect(v: &Value, at: &str, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::Array(stmts)) = m.get("Statement") {
                    for s in stmts {
                        out.push((at.to_string(), s.clone()));
                    }
                }
                for (k, child) in m {
                    collect(child, &format!("{at}.{k}"), out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| collect(i, at, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (_, id, r) in default_resources() {
        collect(&r["Properties"], &id, &mut out);
    }
    out
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => vec![],
        other => vec![other.clone()],
    }
}

#[test]
fn nothing_routes_to_the_internet() {
    for forbidden in [
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::EIP",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::EC2::EgressOnlyInternetGateway",
    ] {
        assert!(of_type(forbidden).is_empty(), "{forbidden} in the output");
    }
    assert!(
        of_type("AWS::EC2::Route").is_empty(),
        "a route exists besides the local one and the S3 gateway endpoint's"
    );
    for (id, r) in of_type("AWS::EC2::Subnet") {
        assert_eq!(r["Properties"]["MapPublicIpOnLaunch"], false, "{id} maps public IPs");
    }
    let text: String = common::files(&sandboxc::blueprint::Source::embedded()).into_iter().map(|(_, t)| t).collect();
    assert!(!text.contains("\"DestinationCidrBlock\""), "a route to a CIDR exists");
}

#[test]
fn no_statement_allows_every_action_and_wildcard_resources_only_where_aws_requires_them() {
    // Actions that AWS authorizes only on Resource "*" (Service Authorization Reference):
    // EC2 Describe* for Lambda's VPC access, and AppStream's account-level usage-report calls.
    const ONLY_ON_STAR: [&str; 4] = [
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "appstream:CreateUsageReportSubscription",
        "appstream:DescribeUsageReportSubscriptions",
    ];
    let mut checked = 0;
    for (at, s) in statements() {
        let actions: Vec<String> = list(&s["Action"]).iter().map(|a| a.as_str().unwrap().to_string()).collect();
        assert!(!actions.iter().any(|a| a == "*"), "{at}: statement {} allows Action *", s["Sid"]);
        let star = list(&s["Resource"]).iter().any(|r| r == "*");
        // In key policies, "*" means "this key" (KMS developer guide, key policies).
        let key_policy = at.contains(".KeyPolicy");
        if star && !key_policy && s["Effect"] == "Allow" {
            for a in &actions {
                assert!(ONLY_ON_STAR.contains(&a.as_str()), "{at}: {} grants {a} on Resource *", s["Sid"]);
            }
        }
        checked += 1;
    }
    assert!(checked > 30, "only {checked} statements found");
}

#[test]
fn every_bucket_is_kms_encrypted_versioned_private_and_tls_only() {
    let buckets = of_type("AWS::S3::Bucket");
    assert_eq!(buckets.len(), 2, "data bucket and trail bucket");
    let policies = of_type("AWS::S3::BucketPolicy");
    for (id, b) in &buckets {
        let p = &b["Properties"];
        let sse = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"];
        assert_eq!(sse["SSEAlgorithm"], "aws:kms", "{id}");
        assert!(sse["KMSMasterKeyID"].is_object(), "{id} has no customer-managed key");
        assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled", "{id}");
        for flag in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
            assert_eq!(p["PublicAccessBlockConfiguration"][flag], true, "{id} {flag}");
        }
        assert_eq!(p["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced", "{id}");
        let policy = policies
            .iter()
            .find(|(_, pol)| pol["Properties"]["Bucket"]["Ref"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} has no bucket policy"));
        let tls = policy.1["Properties"]["PolicyDocument"]["Statement"].as_array().unwrap().iter().any(|s| {
            s["Effect"] == "Deny"
                && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                && s["Action"][0] == "s3:*"
        });
        assert!(tls, "{id} allows requests without TLS");
    }
}

#[test]
fn appstream_user_settings_are_written_explicitly_as_the_blueprint_says() {
    let stacks = of_type("AWS::AppStream::Stack");
    let settings = stacks[0].1["Properties"]["UserSettings"].as_array().unwrap().clone();
    let expected = [
        ("CLIPBOARD_COPY_FROM_LOCAL_DEVICE", "ENABLED"),
        ("CLIPBOARD_COPY_TO_LOCAL_DEVICE", "DISABLED"),
        ("FILE_UPLOAD", "DISABLED"),
        ("FILE_DOWNLOAD", "DISABLED"),
        ("PRINTING_TO_LOCAL_DEVICE", "DISABLED"),
    ];
    assert_eq!(settings.len(), expected.len());
    for (action, permission) in expected {
        let s = settings.iter().find(|s| s["Action"] == action).unwrap_or_else(|| panic!("{action} is not written"));
        assert_eq!(s["Permission"], permission, "{action}");
    }
    assert_eq!(stacks[0].1["Properties"]["StorageConnectors"][0]["ConnectorType"], "HOMEFOLDERS");
}

#[test]
fn an_edited_user_setting_reaches_the_template() {
    let text = sandboxc::blueprint::DEFAULT_BLUEPRINT.replace("file_download: disabled", "file_download: enabled");
    let source = sandboxc::blueprint::Source { name: "edited.yaml".into(), text };
    let stack =
        common::resources(&source).into_iter().find(|(_, _, r)| r["Type"] == "AWS::AppStream::Stack").unwrap().2;
    let download = stack["Properties"]["UserSettings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == "FILE_DOWNLOAD")
        .unwrap()
        .clone();
    assert_eq!(download["Permission"], "ENABLED");
}

#[test]
fn notebook_has_no_internet_and_no_root() {
    let nb = of_type("AWS::SageMaker::NotebookInstance");
    assert_eq!(nb.len(), 1);
    let p = &nb[0].1["Properties"];
    assert_eq!(p["DirectInternetAccess"], "Disabled");
    assert_eq!(p["RootAccess"], "Disabled");
    assert_eq!(p["InstanceMetadataServiceConfiguration"]["MinimumInstanceMetadataServiceVersion"], "2");
    assert!(p["KmsKeyId"].is_object());
}

#[test]
fn fleet_has_no_default_internet_access_and_no_imdsv1() {
    let fleet = &of_type("AWS::AppStream::Fleet")[0].1;
    assert_eq!(fleet["Properties"]["EnableDefaultInternetAccess"], false);
    assert_eq!(fleet["Properties"]["DisableIMDSV1"], true);
    assert!(fleet["Properties"]["IamRoleArn"].is_object());
    assert_eq!(fleet["CreationPolicy"]["StartFleet"], true);
    assert_eq!(fleet["DependsOn"], serde_json::json!(["ServiceRoles"]));
}

#[test]
fn stateful_resources_are_retained() {
    for kind in [
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::SageMaker::NotebookInstance",
        "AWS::CloudTrail::Trail",
        "AWS::Logs::LogGroup",
    ] {
        let found = of_type(kind);
        assert!(!found.is_empty(), "no {kind}");
        for (id, r) in found {
            assert_eq!(r["DeletionPolicy"], "Retain", "{kind} {id}");
            // A replaced notebook is deleted (behind --allow-data-loss): kept, it would hold its
            // network interface in a replaced subnet and block the network's replacement.
            let on_replace = if kind == "AWS::SageMaker::NotebookInstance" { "Delete" } else { "Retain" };
            assert_eq!(r["UpdateReplacePolicy"], on_replace, "{kind} {id}");
        }
    }
}

#[test]
fn security_groups_allow_only_https_in_and_out() {
    for (id, sg) in of_type("AWS::EC2::SecurityGroup") {
        for rule in list(&sg["Properties"]["SecurityGroupIngress"]) {
            assert_eq!(
                (rule["FromPort"].as_i64(), rule["ToPort"].as_i64()),
                (Some(443), Some(443)),
                "{id} ingress {rule}"
            );
            assert_ne!(rule["CidrIp"], "0.0.0.0/0", "{id} ingress from anywhere");
        }
        let egress = list(&sg["Properties"]["SecurityGroupEgress"]);
        assert!(!egress.is_empty(), "{id} keeps the default allow-all egress");
        for rule in egress {
            let https = rule["IpProtocol"] == "tcp" && rule["FromPort"] == 443 && rule["ToPort"] == 443;
            let nothing = rule["CidrIp"] == "255.255.255.255/32";
            assert!(https || nothing, "{id} egress {rule}");
        }
    }
}

#[test]
fn s3_endpoint_policy_limits_to_the_sandbox_buckets_of_this_account() {
    let eps = of_type("AWS::EC2::VPCEndpoint");
    let s3 = eps.iter().find(|(_, e)| e["Properties"]["VpcEndpointType"] == "Gateway").expect("S3 gateway endpoint");
    let stmt = &s3.1["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(stmt["Condition"]["StringEquals"]["aws:ResourceAccount"]["Ref"], "AWS::AccountId");
    assert!(list(&stmt["Resource"]).iter().all(|r| r != "*"));
    assert_eq!(eps.len(), 5, "S3, ssm, sagemaker.api, notebook, appstream.api");
}

#[test]
fn presigned_urls_only_through_the_sandbox_endpoints() {
    let s =
        statements().into_iter().find(|(_, s)| s["Sid"] == "PresignNotebookUrlThroughEndpoints").expect("statement").1;
    let vpces = list(&s["Condition"]["StringEquals"]["aws:SourceVpce"]);
    assert_eq!(vpces.len(), 2);
}

#[test]
fn validator_runs_in_the_vpc_with_a_dead_letter_queue() {
    let validator = of_type("AWS::Lambda::Function").into_iter().find(|(id, _)| id == "Validator").unwrap().1;
    assert!(validator["Properties"]["VpcConfig"]["SubnetIds"].is_object());
    assert!(validator["Properties"]["DeadLetterConfig"]["TargetArn"].is_object());
    assert_eq!(validator["Properties"]["Runtime"], "provided.al2023");
    let notification = of_type("Custom::HomeFolderNotification");
    assert_eq!(notification[0].1["DependsOn"], serde_json::json!(["ValidatorInvokePermission"]));
}
