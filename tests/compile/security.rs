//! Security properties of the default output, one test each (README, "What it is"; docs/aws-facts.md).
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::collections::BTreeSet;

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
    assert_eq!(buckets.len(), 3, "data bucket, trail bucket and its access-log bucket");
    let policies = of_type("AWS::S3::BucketPolicy");
    for (id, b) in &buckets {
        let p = &b["Properties"];
        let sse = &p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"];
        if id == "TrailAccessLogBucket" {
            // Access-log delivery supports SSE-S3 only: said in the bucket's Metadata.
            assert_eq!(sse["SSEAlgorithm"], "AES256", "{id}");
            assert!(b["Metadata"]["sandboxc"]["encryption"].as_str().unwrap().contains("SSE-S3"), "{id}");
        } else {
            assert_eq!(sse["SSEAlgorithm"], "aws:kms", "{id}");
            assert!(sse["KMSMasterKeyID"].is_object(), "{id} has no customer-managed key");
        }
        assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled", "{id}");
        for flag in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
            assert_eq!(p["PublicAccessBlockConfiguration"][flag], true, "{id} {flag}");
        }
        assert_eq!(p["OwnershipControls"]["Rules"][0]["ObjectOwnership"], "BucketOwnerEnforced", "{id}");
        // The data bucket's policy is in the network part, which names it by the storage
        // part's output.
        let name = if id == "DataBucket" { "DataBucketName" } else { id.as_str() };
        let policy = policies
            .iter()
            .find(|(_, pol)| pol["Properties"]["Bucket"]["Ref"] == name)
            .unwrap_or_else(|| panic!("{id} has no bucket policy"));
        let tls = policy.1["Properties"]["PolicyDocument"]["Statement"].as_array().unwrap().iter().any(|s| {
            s["Effect"] == "Deny" && s["Condition"]["Bool"]["aws:SecureTransport"] == false && s["Action"][0] == "s3:*"
        });
        assert!(tls, "{id} allows requests without TLS (the boolean false)");
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
    assert_eq!(nb.len(), 2, "one per user of the default blueprint");
    for (id, n) in nb {
        let p = &n["Properties"];
        assert_eq!(p["DirectInternetAccess"], "Disabled", "{id}");
        assert_eq!(p["RootAccess"], "Disabled", "{id}");
        assert_eq!(p["InstanceMetadataServiceConfiguration"]["MinimumInstanceMetadataServiceVersion"], "2", "{id}");
        assert!(p["KmsKeyId"].is_object(), "{id}");
    }
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
    // EventBridge delivery is turned on only once the rule and its invoke permission exist.
    let notification = of_type("Custom::HomeFolderNotification");
    assert_eq!(notification[0].1["DependsOn"], serde_json::json!(["ValidatorRule", "ValidatorRulePermission"]));
    assert!(notification[0].1["Properties"].get("FunctionArn").is_none(), "no S3 -> Lambda entry any more");
}

#[test]
fn only_this_sandboxs_rule_sends_only_its_own_session_files_to_the_validator() {
    let rule = of_type("AWS::Events::Rule").into_iter().find(|(id, _)| id == "ValidatorRule").unwrap().1;
    let pattern = &rule["Properties"]["EventPattern"];
    assert_eq!(pattern["source"], serde_json::json!(["aws.s3"]));
    assert_eq!(pattern["detail-type"], serde_json::json!(["Object Created"]));
    assert_eq!(
        pattern["detail"]["object"]["key"],
        serde_json::json!([{"wildcard": "user/*/.sandboxc/datasandbox-stack/session.json"}])
    );
    assert!(pattern["detail"]["bucket"]["name"][0].is_object(), "the Region's home-folder bucket");
    let targets = rule["Properties"]["Targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0]["Arn"], serde_json::json!({"Fn::GetAtt": ["Validator", "Arn"]}));
    assert_eq!(
        targets[0]["DeadLetterConfig"]["Arn"],
        serde_json::json!({"Fn::GetAtt": ["ValidatorRuleDeadLetterQueue", "Arn"]})
    );
    // The invoke permission names this rule only; no S3 permission is left.
    let permissions = of_type("AWS::Lambda::Permission");
    let validator: Vec<_> = permissions
        .iter()
        .filter(|(_, p)| p["Properties"]["FunctionName"] == serde_json::json!({"Fn::GetAtt": ["Validator", "Arn"]}))
        .collect();
    assert_eq!(validator.len(), 1, "{validator:?}");
    assert_eq!(validator[0].1["Properties"]["Principal"], "events.amazonaws.com");
    assert_eq!(validator[0].1["Properties"]["SourceArn"], serde_json::json!({"Fn::GetAtt": ["ValidatorRule", "Arn"]}));
    // Only EventBridge, and only for this rule, may send to the rule's dead-letter queue.
    let policy = of_type("AWS::SQS::QueuePolicy")
        .into_iter()
        .find(|(id, _)| id == "ValidatorRuleDeadLetterQueuePolicy")
        .unwrap()
        .1;
    let stmt = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(stmt["Principal"]["Service"], "events.amazonaws.com");
    assert_eq!(
        stmt["Condition"]["ArnEquals"]["aws:SourceArn"],
        serde_json::json!({"Fn::GetAtt": ["ValidatorRule", "Arn"]})
    );
}

// ---- people and the data perimeter (issue 11) ----------------------------------------------

/// An ARN-like value of a template as text: `Fn::Sub` with its variables substituted,
/// `Ref X` as `${X}`, `Fn::GetAtt [A, B]` as `${A.B}`.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => {
            if let Some(r) = m.get("Ref").and_then(Value::as_str) {
                return format!("${{{r}}}");
            }
            if let Some(Value::Array(a)) = m.get("Fn::GetAtt") {
                return format!("${{{}.{}}}", a[0].as_str().unwrap(), a[1].as_str().unwrap());
            }
            match m.get("Fn::Sub") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => {
                    let mut s = a[0].as_str().unwrap().to_string();
                    for (k, var) in a[1].as_object().unwrap() {
                        s = s.replace(&format!("${{{k}}}"), &text(var));
                    }
                    s
                }
                _ => panic!("not an ARN: {v}"),
            }
        }
        other => panic!("not an ARN: {other}"),
    }
}

/// The S3 and KMS resources a role's Allow statements name, and the `s3:prefix` values its
/// listings are limited to.
fn reach(role: &Value) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let (mut s3, mut kms, mut prefixes) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for policy in list(&role["Properties"]["Policies"]) {
        for s in list(&policy["PolicyDocument"]["Statement"]) {
            assert_eq!(s["Effect"], "Allow");
            let actions: Vec<String> = list(&s["Action"]).iter().map(|a| a.as_str().unwrap().to_string()).collect();
            let set = if actions.iter().all(|a| a.starts_with("s3:")) {
                &mut s3
            } else if actions.iter().all(|a| a.starts_with("kms:")) {
                &mut kms
            } else {
                continue;
            };
            for r in list(&s["Resource"]) {
                set.insert(text(&r));
            }
            for p in list(&s["Condition"]["StringLike"]["s3:prefix"]) {
                prefixes.insert(p.as_str().unwrap().to_string());
            }
        }
    }
    (s3, kms, prefixes)
}

/// The blueprints whose people the tests check: the default (two users, data-bucket datasets),
/// the example with a dataset in an existing bucket, and the shared-mode example.
fn people_blueprints() -> Vec<(String, sandboxc::blueprint::Source)> {
    common::all_blueprints()
        .into_iter()
        .filter(|(n, _)| ["default", "always-on-4az", "saml-off"].contains(&n.as_str()))
        .collect()
}

#[test]
fn no_security_group_allows_egress_to_anywhere() {
    for (name, source) in common::all_blueprints() {
        for (_, id, r) in common::resources(&source) {
            let rules = match r["Type"].as_str() {
                Some("AWS::EC2::SecurityGroup") => {
                    let egress = list(&r["Properties"]["SecurityGroupEgress"]);
                    assert!(!egress.is_empty(), "{name}: {id} keeps the default allow-all egress");
                    egress
                }
                Some("AWS::EC2::SecurityGroupEgress") => vec![r["Properties"].clone()],
                _ => continue,
            };
            for rule in rules {
                assert_ne!(rule["CidrIp"], "0.0.0.0/0", "{name}: {id} egress {rule}");
                assert_ne!(rule["CidrIpv6"], "::/0", "{name}: {id} egress {rule}");
                assert_ne!(rule["IpProtocol"], "-1", "{name}: {id} egress {rule}");
            }
        }
    }
}

#[test]
fn the_trail_bucket_has_object_lock_access_logs_and_the_trail_reaches_cloudwatch_logs() {
    let bucket = of_type("AWS::S3::Bucket").into_iter().find(|(id, _)| id == "TrailBucket").unwrap().1;
    let p = &bucket["Properties"];
    assert_eq!(p["ObjectLockEnabled"], true);
    assert_eq!(p["ObjectLockConfiguration"]["ObjectLockEnabled"], "Enabled");
    let retention = &p["ObjectLockConfiguration"]["Rule"]["DefaultRetention"];
    assert_eq!((retention["Mode"].as_str(), retention["Days"].as_i64()), (Some("GOVERNANCE"), Some(365)));
    assert_eq!(p["LoggingConfiguration"]["DestinationBucketName"]["Ref"], "TrailAccessLogBucket");
    let trail = &of_type("AWS::CloudTrail::Trail")[0].1["Properties"];
    assert_eq!(trail["CloudWatchLogsLogGroupArn"]["Fn::GetAtt"][0], "TrailLogGroup");
    assert_eq!(trail["CloudWatchLogsRoleArn"]["Fn::GetAtt"][0], "TrailLogsRole");
    let group = of_type("AWS::Logs::LogGroup").into_iter().find(|(id, _)| id == "TrailLogGroup").unwrap().1;
    assert!(group["Properties"]["KmsKeyId"].is_object(), "the trail's log group is not KMS-encrypted");
}

#[test]
fn each_role_reaches_exactly_its_grants_and_its_home_prefix() {
    for (name, source) in people_blueprints() {
        let b = sandboxc::blueprint::load(&source).unwrap();
        let env = &b.names.env;
        let resources = common::resources(&source);
        let roles: Vec<(&String, &Value)> = resources
            .iter()
            .filter(|(_, _, r)| {
                r["Type"] == "AWS::IAM::Role"
                    && r["Properties"]["Path"].as_str().is_some_and(|p| {
                        p.starts_with(&format!("/sandboxc/{env}/"))
                            && p != sandboxc::compile::audit::decisions_role_path(env)
                    })
            })
            .map(|(file, _, r)| (file, r))
            .collect();
        let shared = b.notebook.mode == sandboxc_contract::validator::NotebookMode::Shared;
        assert_eq!(roles.len(), if shared { 1 } else { b.users.len() }, "{name}");
        for (file, role) in roles {
            let path = role["Properties"]["Path"].as_str().unwrap();
            // The users whose grants this role carries: its own user, or everyone (shared).
            let users: Vec<&sandboxc::blueprint::User> = if shared {
                assert_eq!(path, sandboxc_contract::users::shared_role_path(env), "{name}");
                b.users.iter().collect()
            } else {
                let u = b.users.iter().find(|u| sandboxc_contract::users::role_path(env, &u.id) == path).unwrap();
                let tags = list(&role["Properties"]["Tags"]);
                assert!(
                    tags.iter().any(|t| t["Key"] == "sandboxc:user" && t["Value"] == u.id.as_str()),
                    "{name}: {path}"
                );
                vec![u]
            };
            let (mut s3, mut kms, mut prefixes) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
            // The notebook key: the key itself beside the shared role, the users shard's parameter
            // (imported from the notebook stack) beside a user's role.
            let in_shard = file.contains("-users");
            assert_eq!(in_shard, !shared, "{name}: {path} in {file}");
            kms.insert(if in_shard { "${NotebookKeyArn}" } else { "${NotebookKey.Arn}" }.to_string());
            let mut data_bucket_used = false;
            for u in &users {
                let home = (!shared).then(|| sandboxc_contract::users::personal_prefix(&u.id));
                let grants = u.grants.iter().map(|g| (g.dataset.existing(), g.dataset.prefix.clone()));
                for (existing, prefix) in grants.chain(home.map(|h| (None, h))) {
                    let bucket = match existing {
                        None => {
                            data_bucket_used = true;
                            "${DataBucketArn}".to_string()
                        }
                        Some(e) => {
                            if let Some(k) = &e.kms_key_arn {
                                kms.insert(k.replacen("arn:aws:", "arn:${AWS::Partition}:", 1));
                            }
                            e.arn.replacen("arn:aws:", "arn:${AWS::Partition}:", 1)
                        }
                    };
                    s3.insert(format!("{bucket}/{prefix}*"));
                    s3.insert(bucket);
                    prefixes.insert(format!("{prefix}*"));
                }
            }
            if data_bucket_used {
                kms.insert("${DataKeyArn}".to_string());
            }
            assert_eq!(reach(role), (s3, kms, prefixes), "{name}: role at {path}");
        }
    }
}

#[test]
fn no_role_reaches_another_users_home_prefix() {
    for (name, source) in common::all_blueprints() {
        let b = sandboxc::blueprint::load(&source).unwrap();
        for (_, id, r) in common::resources(&source) {
            if r["Type"] != "AWS::IAM::Role" {
                continue;
            }
            let own = b
                .users
                .iter()
                .find(|u| r["Properties"]["Path"] == sandboxc_contract::users::role_path(&b.names.env, &u.id).as_str())
                .map(|u| u.hash.clone());
            let doc = r["Properties"]["Policies"].to_string();
            for u in &b.users {
                if Some(&u.hash) != own.as_ref() {
                    assert!(!doc.contains(&u.hash), "{name}: {id} reaches the home prefix of {}", u.id);
                }
            }
            if own.is_none() {
                assert!(!doc.contains("home/"), "{name}: {id} names a home prefix");
            }
        }
    }
}

#[test]
fn the_data_bucket_denies_data_access_outside_the_sandbox_endpoint_except_the_named_principals() {
    for (name, source) in people_blueprints() {
        let b = sandboxc::blueprint::load(&source).unwrap();
        let policy = common::resources(&source).into_iter().find(|(_, id, _)| id == "DataBucketPolicy").unwrap();
        assert!(policy.0.ends_with("-network.template.json"), "{name}: the policy sits beside the endpoint it names");
        assert_eq!(policy.2["DeletionPolicy"], "Retain", "{name}: a replaced bucket must keep its policy");
        let statements = list(&policy.2["Properties"]["PolicyDocument"]["Statement"]);
        let deny = statements.iter().find(|s| s["Sid"] == "DenyDataOutsideTheSandboxEndpoint").unwrap();
        assert_eq!(deny["Effect"], "Deny");
        assert_eq!(deny["Principal"]["AWS"], "*");
        let actions: Vec<String> = list(&deny["Action"]).iter().map(|a| a.as_str().unwrap().to_string()).collect();
        for a in ["s3:GetObject*", "s3:PutObject*", "s3:ListBucket*", "s3:DeleteObject*"] {
            assert!(actions.iter().any(|x| x == a), "{name}: {a} is not denied outside the endpoint");
        }
        assert!(
            !actions.iter().any(|x| x == "s3:*"),
            "{name}: denying s3:* would lock CloudFormation out of the bucket"
        );
        let c = &deny["Condition"];
        assert_eq!(c["StringNotEquals"]["aws:SourceVpce"]["Ref"], "S3Endpoint", "{name}");
        assert_eq!(c["Bool"]["aws:PrincipalIsAWSService"], false, "{name}");
        let exempt: Vec<String> =
            list(&c["ArnNotLike"]["aws:PrincipalArn"]).iter().map(|a| a.as_str().unwrap().to_string()).collect();
        assert_eq!(exempt, b.storage.admin_principals, "{name}: only the named admin principals are exempt");
    }
}

#[test]
fn the_data_key_keeps_root_administration_and_is_used_only_through_s3_in_this_account() {
    for (name, source) in people_blueprints() {
        let b = sandboxc::blueprint::load(&source).unwrap();
        let key = common::resources(&source).into_iter().find(|(_, id, _)| id == "DataKey").unwrap().2;
        let statements = list(&key["Properties"]["KeyPolicy"]["Statement"]);
        let admin = statements.iter().find(|s| s["Sid"] == "AccountAdministersKey").unwrap();
        assert_eq!(admin["Principal"]["AWS"]["Fn::Sub"], "arn:${AWS::Partition}:iam::${AWS::AccountId}:root");
        let admin_actions: Vec<String> =
            list(&admin["Action"]).iter().map(|a| a.as_str().unwrap().to_string()).collect();
        assert!(
            admin_actions.iter().any(|a| a == "kms:Put*"),
            "{name}: the root could not repair the key policy (lock-out)"
        );
        for a in &admin_actions {
            assert!(
                !["kms:*", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
                    .contains(&a.as_str()),
                "{name}: the root's administration statement also uses the key ({a})"
            );
        }
        let uses: Vec<&Value> = statements.iter().filter(|s| s["Sid"] != "AccountAdministersKey").collect();
        assert!(!uses.is_empty());
        for s in uses {
            let c = &s["Condition"];
            assert_eq!(c["StringEquals"]["kms:ViaService"]["Fn::Sub"], "s3.${AWS::Region}.amazonaws.com", "{name}");
            assert_eq!(c["StringEquals"]["kms:CallerAccount"]["Ref"], "AWS::AccountId", "{name}");
            let who: Vec<String> = list(&c["ArnLike"]["aws:PrincipalArn"])
                .iter()
                .map(|p| {
                    p.get("Fn::Sub")
                        .map_or_else(|| p.as_str().unwrap().to_string(), |s| s.as_str().unwrap().to_string())
                })
                .collect();
            let roles = match b.notebook.mode {
                sandboxc_contract::validator::NotebookMode::PerUser => {
                    sandboxc_contract::users::users_role_path(&b.names.env)
                }
                sandboxc_contract::validator::NotebookMode::Shared => {
                    sandboxc_contract::users::shared_role_path(&b.names.env)
                }
            };
            let mut expected = vec![format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{roles}*")];
            expected.extend(b.storage.admin_principals.iter().cloned());
            assert_eq!(who, expected, "{name}: the key is used by other principals");
        }
    }
}

#[test]
fn every_interface_endpoint_has_a_policy_or_a_written_reason() {
    for (name, source) in common::all_blueprints() {
        for (_, id, r) in common::resources(&source) {
            if r["Type"] != "AWS::EC2::VPCEndpoint" {
                continue;
            }
            let reason = r["Metadata"]["sandboxc"]["endpoint-policy"].as_str().unwrap_or_default();
            assert!(
                r["Properties"]["PolicyDocument"].is_object() || reason.len() > 40,
                "{name}: {id} has neither an endpoint policy nor a reason why not"
            );
        }
    }
}

#[test]
fn allow_list_entries_name_each_users_own_notebook() {
    for (name, source) in people_blueprints() {
        let b = sandboxc::blueprint::load(&source).unwrap();
        let entries: Vec<(String, sandboxc_contract::users::AllowListEntry)> = common::resources(&source)
            .into_iter()
            .filter(|(_, _, r)| {
                r["Type"] == "AWS::SSM::Parameter"
                    && r["Properties"]["Name"].as_str().unwrap_or_default().contains("/users/")
            })
            .map(|(_, _, r)| {
                let p = &r["Properties"];
                (p["Name"].as_str().unwrap().to_string(), serde_json::from_str(p["Value"].as_str().unwrap()).unwrap())
            })
            .collect();
        assert_eq!(entries.len(), b.users.len(), "{name}");
        for u in &b.users {
            let (_, entry) = entries
                .iter()
                .find(|(n, _)| *n == sandboxc_contract::users::allow_list_parameter(&b.names.env, &u.id))
                .unwrap_or_else(|| panic!("{name}: {} has no allow-list entry", u.id));
            assert_eq!((&entry.user_id, entry.authentication), (&u.id, u.authentication), "{name}");
            let notebook = match b.notebook.mode {
                sandboxc_contract::validator::NotebookMode::PerUser => u.notebook_name.clone(),
                sandboxc_contract::validator::NotebookMode::Shared => {
                    sandboxc_contract::users::shared_notebook_name(&b.name, &b.network.generation)
                }
            };
            assert_eq!(entry.notebook, notebook, "{name}");
        }
    }
}

// ---- idle stop and start on demand (issue 15) ------------------------------------------------

/// The ARN of a notebook instance of the sandbox, as the templates write it.
fn notebook_arn(name: &str) -> String {
    format!("arn:${{AWS::Partition}}:sagemaker:${{AWS::Region}}:${{AWS::AccountId}}:notebook-instance/{name}")
}

/// Every statement naming a SageMaker start or stop, by where it is: `(resource ID, statement)`.
fn start_stop_statements(resources: &[(String, String, Value)]) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (_, id, r) in resources {
        let mut found = Vec::new();
        fn collect(v: &Value, out: &mut Vec<Value>) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::Array(stmts)) = m.get("Statement") {
                        out.extend(stmts.iter().cloned());
                    }
                    m.values().for_each(|c| collect(c, out));
                }
                Value::Array(a) => a.iter().for_each(|c| collect(c, out)),
                _ => {}
            }
        }
        collect(&r["Properties"], &mut found);
        for s in found {
            let actions = list(&s["Action"]);
            if actions.iter().any(|a| {
                let a = a.as_str().unwrap_or_default();
                a.ends_with("StartNotebookInstance") || a.ends_with("StopNotebookInstance") || a == "sagemaker:*"
            }) {
                out.push((id.clone(), s));
            }
        }
    }
    out
}

#[test]
fn each_notebook_may_stop_only_itself_and_the_validator_may_start_only_the_sandboxs_notebooks() {
    for (blueprint, source) in people_blueprints() {
        let resources = common::resources(&source);
        let by_id = |id: &str| resources.iter().find(|(_, i, _)| i == id).map(|(_, _, r)| r.clone()).unwrap();
        let configs: Vec<&String> = resources
            .iter()
            .filter(|(_, _, r)| r["Type"] == "AWS::SageMaker::NotebookInstanceLifecycleConfig")
            .map(|(_, id, _)| id)
            .collect();
        assert_eq!(configs, ["NotebookIdleStop"], "{blueprint}: one idle-stop configuration");
        let config = by_id("NotebookIdleStop");
        let script = config["Properties"]["OnStart"][0]["Content"]["Fn::Base64"].as_str().unwrap();
        assert!(script.contains("/opt/sandboxc/idle_stop.py 3600 "), "{blueprint}: the default 1h");
        let notebooks: Vec<(String, String, Value)> =
            resources.iter().filter(|(_, _, r)| r["Type"] == "AWS::SageMaker::NotebookInstance").cloned().collect();
        assert!(!notebooks.is_empty(), "{blueprint}");
        let mut arns = BTreeSet::new();
        let own = serde_json::json!({"Fn::GetAtt": ["NotebookIdleStop", "NotebookInstanceLifecycleConfigName"]});
        let templates = common::templates(&source);
        for (file, id, nb) in &notebooks {
            if file.contains("-users") {
                // In a users shard: the parameter the root passes from the notebook stack's
                // output, which is the configuration's name.
                assert_eq!(
                    nb["Properties"]["LifecycleConfigName"],
                    serde_json::json!({"Ref": "NotebookIdleStopConfigName"}),
                    "{blueprint}/{file}/{id}"
                );
                let (_, notebook_stack) =
                    templates.iter().find(|(f, _)| f.ends_with("-notebook.template.json")).unwrap();
                assert_eq!(notebook_stack["Outputs"]["NotebookIdleStopConfigName"]["Value"], own, "{blueprint}");
                let (_, root) =
                    templates.iter().find(|(_, t)| t["Resources"]["NotebookNestedStack"].is_object()).unwrap();
                let passed: Vec<&Value> = root["Resources"]
                    .as_object()
                    .unwrap()
                    .values()
                    .filter_map(|r| r["Properties"]["Parameters"].get("NotebookIdleStopConfigName"))
                    .collect();
                assert!(!passed.is_empty(), "{blueprint}: the root passes the configuration's name to the shards");
                for v in passed {
                    assert_eq!(
                        *v,
                        serde_json::json!({"Fn::GetAtt": ["NotebookNestedStack", "Outputs.NotebookIdleStopConfigName"]}),
                        "{blueprint}"
                    );
                }
            } else {
                assert_eq!(nb["Properties"]["LifecycleConfigName"], own, "{blueprint}/{file}/{id}");
            }
            assert_eq!(nb["Metadata"]["sandboxc-idle-stop-seconds"], 3600, "{blueprint}/{id}");
            let name = nb["Properties"]["NotebookInstanceName"].as_str().unwrap();
            arns.insert(notebook_arn(name));
            // Its role stops and describes this notebook, and nothing else of SageMaker.
            let role = by_id(nb["Properties"]["RoleArn"]["Fn::GetAtt"][0].as_str().unwrap());
            let sagemaker: Vec<Value> = list(&role["Properties"]["Policies"])
                .iter()
                .flat_map(|p| list(&p["PolicyDocument"]["Statement"]))
                .filter(|s| list(&s["Action"]).iter().any(|a| a.as_str().unwrap_or_default().starts_with("sagemaker:")))
                .collect();
            assert_eq!(sagemaker.len(), 1, "{blueprint}/{id}: {sagemaker:?}");
            assert_eq!(sagemaker[0]["Sid"], "StopOwnNotebookWhenIdle");
            assert_eq!(
                sagemaker[0]["Action"],
                serde_json::json!(["sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance"])
            );
            let resources: Vec<String> = list(&sagemaker[0]["Resource"]).iter().map(text).collect();
            assert_eq!(resources, [notebook_arn(name)], "{blueprint}/{id}: its own notebook only");
        }
        // Only the validator starts notebooks: this sandbox's, through the SageMaker API endpoint.
        let validator = by_id("ValidatorRole");
        let start: Vec<Value> = list(&validator["Properties"]["Policies"])
            .iter()
            .flat_map(|p| list(&p["PolicyDocument"]["Statement"]))
            .filter(|s| s["Sid"] == "StartSandboxNotebooks")
            .collect();
        assert_eq!(start.len(), 1, "{blueprint}");
        assert_eq!(start[0]["Action"], serde_json::json!(["sagemaker:StartNotebookInstance"]));
        let started: BTreeSet<String> = list(&start[0]["Resource"]).iter().map(text).collect();
        let presign: BTreeSet<String> = list(&validator["Properties"]["Policies"])
            .iter()
            .flat_map(|p| list(&p["PolicyDocument"]["Statement"]))
            .filter(|s| s["Sid"] == "PresignNotebookUrlThroughEndpoints")
            .flat_map(|s| list(&s["Resource"]).iter().map(text).collect::<Vec<_>>())
            .collect();
        assert_eq!(started, presign, "{blueprint}: the notebooks it may give URLs for, no other");
        // Per user: one pattern, `notebook-instance/<env>-*`, that names every notebook of the
        // sandbox (and does not grow with the users).
        let env = templates
            .iter()
            .find_map(|(f, _)| f.strip_suffix("-notebook.template.json"))
            .map_or_else(|| blueprint.clone(), str::to_string);
        let pattern: BTreeSet<String> = [notebook_arn(&format!("{env}-*"))].into();
        let sandboxs = |on: &BTreeSet<String>| {
            if on == &pattern {
                arns.iter().all(|a| a.starts_with(&notebook_arn(&format!("{env}-"))))
            } else {
                on == &arns
            }
        };
        if started.iter().all(|a| !a.contains("${NotebookName}")) {
            assert!(sandboxs(&started), "{blueprint}: exactly the sandbox's notebooks: {started:?} {arns:?}");
        } else {
            // Shared mode: the one shared notebook, whose name the validator's stack imports.
            assert_eq!((started.len(), arns.len()), (1, 1), "{blueprint}");
        }
        assert_eq!(list(&start[0]["Condition"]["StringEquals"]["aws:SourceVpce"]).len(), 1, "{blueprint}");
        for (id, s) in start_stop_statements(&resources) {
            let actions: Vec<String> = list(&s["Action"]).iter().map(|a| a.as_str().unwrap().to_string()).collect();
            match id.as_str() {
                "ValidatorRole" => assert_eq!(actions, ["sagemaker:StartNotebookInstance"], "{blueprint}"),
                // The endpoint policy admits them for the sandbox's notebooks; IAM decides who.
                "SageMakerApiEndpoint" => {
                    let on: BTreeSet<String> = list(&s["Resource"]).iter().map(text).collect();
                    assert!(sandboxs(&on), "{blueprint}: the endpoint admits the sandbox's notebooks only: {on:?}");
                }
                role if role.ends_with("Role") && s["Sid"] == "StopOwnNotebookWhenIdle" => {}
                other => panic!("{blueprint}: {other} may start or stop notebooks: {s}"),
            }
        }
    }
}

#[test]
fn idle_stop_0_attaches_nothing_and_grants_no_stop() {
    let text = sandboxc::blueprint::Source::embedded().text.replacen("idle_stop: 1h", "idle_stop: 0", 1);
    assert!(text.contains("idle_stop: 0 "));
    let resources = common::resources(&sandboxc::blueprint::Source { name: "t.yaml".into(), text });
    assert!(!resources.iter().any(|(_, _, r)| r["Type"] == "AWS::SageMaker::NotebookInstanceLifecycleConfig"));
    for (_, id, r) in &resources {
        if r["Type"] == "AWS::SageMaker::NotebookInstance" {
            assert!(r["Properties"].get("LifecycleConfigName").is_none(), "{id}");
        }
    }
    let stops: Vec<_> = start_stop_statements(&resources)
        .into_iter()
        .filter(|(_, s)| list(&s["Action"]).iter().any(|a| a == "sagemaker:StopNotebookInstance"))
        .collect();
    assert!(stops.is_empty(), "{stops:?}");
}
