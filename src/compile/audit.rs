//! Audit: the audit key (log groups, trail), the CloudTrail trail with S3 data events on the
//! data and home-folder buckets and its retained log bucket, and the Region's AppStream
//! usage-report subscription (custom resource; no CloudFormation type exists).

use std::collections::BTreeMap;

use crate::cfn::policy::{deny_insecure_transport, service, PolicyDocument, Statement};
use crate::cfn::resources::{BucketPolicy, Trail, UsageReportSubscription};
use crate::cfn::{Expr, Resource};

use super::common::{arn, bucket_arn, home_folder_bucket_arn, kms_key, lambda_function, private_bucket, FunctionSpec};
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

/// checkov checks that do not apply to the custom-resource provider functions, with the reason.
pub(super) const PROVIDER_SKIPS: [(&str, &str); 4] = [
    ("CKV_AWS_117", "must reach IAM, AppStream and the CloudFormation response URL, none of which the isolated VPC can reach"),
    ("CKV_AWS_116", "CloudFormation custom-resource requests are answered or time out in CloudFormation; a dead-letter queue cannot answer them"),
    ("CKV_AWS_115", "runs only during deployments; reserved concurrency would take capacity from the account for nothing"),
    ("CKV_AWS_173", "the environment holds no secrets, only resource names"),
];

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let env = ctx.names.env.clone();
    let audit = ctx.blueprint.audit.clone();
    let mut holds = vec!["audit key"];
    if audit.cloudtrail {
        holds.push("CloudTrail trail with S3 data events");
    }
    if audit.usage_reports {
        holds.push("AppStream usage reports");
    }
    let mut p = PartBuilder::new(Part::Audit, &format!("sandboxc data sandbox {env}: {}", holds.join(", ")));
    let trail_arn = arn("cloudtrail", &format!("trail/{}", ctx.names.trail));
    let log_groups = arn("logs", &format!("log-group:{}/*", ctx.names.log_prefix));
    let mut key_statements = vec![Statement::allow(
        "CloudWatchLogsEncryptSandboxLogGroups",
        &["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        vec![Expr::from("*")],
    )
    .principal(service_region("logs"))
    .when("ArnLike", "kms:EncryptionContext:aws:logs:arn", log_groups)];
    if audit.cloudtrail {
        key_statements.push(
            Statement::allow("CloudTrailEncryptLogs", &["kms:GenerateDataKey*"], vec![Expr::from("*")])
                .principal(service("cloudtrail.amazonaws.com"))
                .when("StringEquals", "aws:SourceArn", trail_arn.clone())
                .when("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn", arn("cloudtrail", "trail/*")),
        );
        key_statements.push(
            Statement::allow("CloudTrailDescribeKey", &["kms:DescribeKey"], vec![Expr::from("*")])
                .principal(service("cloudtrail.amazonaws.com"))
                .when("StringEquals", "aws:SourceArn", trail_arn.clone()),
        );
    }
    let key = kms_key(&mut p, ctx, "AuditKey", "audit", "encrypts the sandbox's log groups and trail", key_statements)?;
    let key_arn = Expr::get_att(&key, "Arn");
    p.export(ctx, "AuditKeyArn", key_arn.clone(), false, "ARN of the KMS key encrypting logs")?;

    if audit.cloudtrail {
        let bucket = p.add_resource(
            "TrailBucket",
            Resource::new(&private_bucket(ctx, &key_arn, None))
            .retain()
            .skip_checkov("CKV_AWS_18", "this bucket is the audit log destination; logging its own access would need a further bucket outside the sandbox's trust boundary"),
        )?;
        let bucket_ref = Expr::from(&bucket);
        let bucket_arn_expr = Expr::get_att(&bucket, "Arn");
        let policy = p.add(
            "TrailBucketPolicy",
            &BucketPolicy {
                bucket: Some(bucket_ref.clone()),
                policy_document: Some(PolicyDocument::new(vec![
                    deny_insecure_transport(bucket_arn_expr.clone()),
                    Statement::allow("CloudTrailAclCheck", &["s3:GetBucketAcl"], vec![bucket_arn_expr.clone()])
                        .principal(service("cloudtrail.amazonaws.com"))
                        .when("StringEquals", "aws:SourceArn", trail_arn.clone()),
                    Statement::allow("CloudTrailWrite", &["s3:PutObject"], vec![bucket_arn(&bucket_ref, "/AWSLogs/${AWS::AccountId}/*")])
                        .principal(service("cloudtrail.amazonaws.com"))
                        .when("StringEquals", "aws:SourceArn", trail_arn.clone())
                        .when("StringEquals", "s3:x-amz-acl", Expr::from("bucket-owner-full-control")),
                    Statement::deny(
                        "NobodyDeletesAuditLogs",
                        &["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration"],
                        vec![bucket_arn_expr.clone(), Expr::suffixed(&bucket_arn_expr, "/*")],
                    )
                    .principal(crate::cfn::policy::aws(Expr::from("*"))),
                ])),
            },
        )?;
        let data_bucket = p.import(ctx, Part::Storage, "DataBucketArn")?;
        let trail = Trail {
            trail_name: Some(Expr::from(&ctx.names.trail)),
            is_logging: Some(true),
            s3_bucket_name: Some(bucket_ref.clone()),
            kms_key_id: Some(key_arn.clone()),
            enable_log_file_validation: Some(true),
            include_global_service_events: Some(true),
            is_multi_region_trail: Some(false),
            event_selectors: Some(Expr::List(vec![Expr::map([
                (
                    "DataResources",
                    Expr::List(vec![Expr::map([
                        ("Type", Expr::from("AWS::S3::Object")),
                        ("Values", Expr::List(vec![Expr::suffixed(&data_bucket, "/"), home_folder_bucket_arn("/")])),
                    ])]),
                ),
                ("IncludeManagementEvents", Expr::Bool(true)),
                ("ReadWriteType", Expr::from("All")),
            ])])),
            tags: Some(ctx.tags()),
        };
        p.add_resource(
            "Trail",
            Resource::new(&trail)
                .retain()
                .depends_on(&policy)
                .skip_checkov("CKV_AWS_67", "records the sandbox's Region, where all of its data lives; an organisation trail covers other Regions"),
        )?;
        p.user_output("TrailBucketName", "Bucket receiving the trail's logs (retained)", bucket_ref);
    }

    if audit.usage_reports {
        let function = lambda_function(
            &mut p,
            ctx,
            FunctionSpec {
                id: "UsageReportsProvider",
                name: ctx.names.provider_function("usage-reports"),
                description: format!("sandboxc {env}: answers Custom::UsageReportSubscription"),
                zip: "provider",
                // CreateUsageReportSubscription and DescribeUsageReportSubscriptions support only
                // Resource "*" (Service Authorization Reference, Amazon AppStream 2.0).
                statements: vec![Statement::allow(
                    "ManageUsageReportSubscription",
                    &["appstream:CreateUsageReportSubscription", "appstream:DescribeUsageReportSubscriptions"],
                    vec![Expr::from("*")],
                )],
                environment: BTreeMap::new(),
                vpc: None,
                dead_letter_queue: None,
                timeout_seconds: 300,
                log_key_arn: key_arn,
                checkov_skips: PROVIDER_SKIPS.to_vec(),
            },
        )?;
        let reports = p.add_resource(
            "UsageReports",
            Resource::new(&UsageReportSubscription { service_token: Some(Expr::get_att(&function, "Arn")) }).retain(),
        )?;
        p.user_output("UsageReportBucket", "Bucket AppStream writes usage reports to", Expr::get_att(&reports, "S3BucketName"));
    }
    Ok(p)
}

/// `{"Service": "<name>.${AWS::Region}.amazonaws.com"}`: Regional service principals such as CloudWatch Logs.
fn service_region(name: &str) -> Expr {
    Expr::map([("Service", Expr::sub(format!("{name}.${{AWS::Region}}.amazonaws.com")))])
}
