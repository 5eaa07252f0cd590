//! Audit: the audit key (log groups, trail, dead letters) and the CloudTrail trail with S3 data
//! events on the data and home-folder buckets, with its retained log bucket. (The usage-report
//! subscription is in the AppStream part: it needs AppStream's service roles first.)

use sandboxc_contract::stack::outputs;

use crate::cfn::policy::{deny_insecure_transport, service, PolicyDocument, Statement};
use crate::cfn::resources::{BucketPolicy, Trail};
use crate::cfn::{Expr, Resource};

use super::common::{arn, bucket_arn, home_folder_bucket_arn, kms_key, private_bucket, unique_name};
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let env = ctx.names.env.clone();
    let audit = ctx.blueprint.audit.clone();
    let mut holds = vec!["audit key"];
    if audit.cloudtrail {
        holds.push("CloudTrail trail with S3 data events");
    }
    let mut p = PartBuilder::new(Part::Audit, &format!("sandboxc data sandbox {env}: {}", holds.join(", ")));
    // The trail is retained and its name is its only create-only property: its name carries
    // the stack's ID (`unique_name`), so a deployment after `sandboxc destroy` creates a trail
    // of its own instead of failing on the retained one. The key and bucket policies name it
    // before it exists, by the same expression.
    let trail_name = format!("{}-${{Id}}", ctx.names.trail_prefix);
    let trail_arn = unique_name(&format!(
        "arn:${{AWS::Partition}}:cloudtrail:${{AWS::Region}}:${{AWS::AccountId}}:trail/{trail_name}"
    ));
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
                    Statement::allow(
                        "CloudTrailWrite",
                        &["s3:PutObject"],
                        vec![bucket_arn(&bucket_ref, "/AWSLogs/${AWS::AccountId}/*")],
                    )
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
            trail_name: Some(unique_name(&trail_name)),
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
            Resource::new(&trail).retain().depends_on(&policy).skip_checkov(
                "CKV_AWS_67",
                "records the sandbox's Region, where all of its data lives; an organisation trail covers other Regions",
            ),
        )?;
        p.user_output(outputs::TRAIL_BUCKET_NAME, "Bucket receiving the trail's logs (retained)", bucket_ref);
    }

    Ok(p)
}

/// `{"Service": "<name>.${AWS::Region}.amazonaws.com"}`: Regional service principals such as CloudWatch Logs.
fn service_region(name: &str) -> Expr {
    Expr::map([("Service", Expr::sub(format!("{name}.${{AWS::Region}}.amazonaws.com")))])
}
