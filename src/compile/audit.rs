//! Audit: the audit key (log groups, trail, dead letters) and the CloudTrail trail with S3 data
//! events on the data bucket, the home-folder bucket and the datasets in existing buckets; its
//! retained log bucket (S3 Object Lock in governance mode, server access logs to a small
//! access-log bucket), and its delivery to an encrypted CloudWatch Logs group. (The
//! usage-report subscription is in the AppStream part: it needs AppStream's service roles first.)

use sandboxc_contract::stack::outputs;

use crate::cfn::policy::{deny_insecure_transport, service, PolicyDocument, Statement};
use crate::cfn::resources::{Bucket, BucketPolicy, LogGroup, Role, Trail};
use crate::cfn::{Expr, Pseudo, Resource, ToExpr};

use super::common::{
    arn, bucket_arn, home_folder_bucket_arn, kms_key, locked_bucket, partitioned, private_bucket, unique_name,
};

/// The key prefix of the trail bucket's server access logs in the access-log bucket.
pub const ACCESS_LOG_PREFIX: &str = "trail-bucket/";
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
        let access_logs = access_log_bucket(&mut p, ctx)?;
        let bucket = p.add_resource(
            "TrailBucket",
            Resource::new(&Bucket {
                object_lock_enabled: Some(true),
                object_lock_configuration: Some(Expr::map([
                    ("ObjectLockEnabled", Expr::from("Enabled")),
                    (
                        "Rule",
                        Expr::map([(
                            "DefaultRetention",
                            Expr::map([
                                ("Days", Expr::Int(i64::from(audit.trail_retention_days))),
                                ("Mode", Expr::from("GOVERNANCE")),
                            ]),
                        )]),
                    ),
                ])),
                logging_configuration: Some(Expr::map([
                    ("DestinationBucketName", Expr::from(&access_logs.0)),
                    ("LogFilePrefix", Expr::from(ACCESS_LOG_PREFIX)),
                ])),
                ..private_bucket(ctx, &key_arn, None)
            })
            .retain()
            // S3 delivers the access logs only once the log bucket's policy lets it.
            .depends_on(&access_logs.1),
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
        let mut recorded = vec![Expr::suffixed(&data_bucket, "/"), home_folder_bucket_arn("/")];
        recorded.extend(
            ctx.blueprint
                .datasets
                .iter()
                .filter_map(|d| d.existing().map(|e| partitioned(&e.arn, &format!("/{}", d.prefix)))),
        );
        let (log_group, logs_role) = trail_logs(&mut p, ctx, &key_arn, &trail_arn)?;
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
                        ("Values", Expr::List(recorded)),
                    ])]),
                ),
                ("IncludeManagementEvents", Expr::Bool(true)),
                ("ReadWriteType", Expr::from("All")),
            ])])),
            cloud_watch_logs_log_group_arn: Some(Expr::get_att(&log_group, "Arn")),
            cloud_watch_logs_role_arn: Some(Expr::get_att(&logs_role, "Arn")),
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

/// The bucket receiving the trail bucket's server access logs, and its policy: SSE-S3 (the
/// only default encryption access-log delivery supports), versioned, private, retained;
/// written only by S3's logging service for this account, under [`ACCESS_LOG_PREFIX`].
fn access_log_bucket(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
) -> Result<(crate::cfn::LogicalId, crate::cfn::LogicalId), CompileError> {
    let sse_s3 = Expr::map([(
        "ServerSideEncryptionConfiguration",
        Expr::List(vec![Expr::map([(
            "ServerSideEncryptionByDefault",
            Expr::map([("SSEAlgorithm", Expr::from("AES256"))]),
        )])]),
    )]);
    let bucket = p.add_resource(
        "TrailAccessLogBucket",
        Resource::new(&Bucket {
            bucket_encryption: Some(sse_s3),
            tags: Some(ctx.tags()),
            ..locked_bucket(&Expr::Null)
        })
        .retain()
        .skip_checkov(
            "CKV_AWS_18",
            "this bucket receives the trail bucket's access logs; logging it in turn would need yet another bucket, without end",
        )
        .note(
            "encryption",
            "SSE-S3, not SSE-KMS: S3 server access log delivery supports only SSE-S3 default encryption on the destination bucket (S3 user guide, Enabling Amazon S3 server access logging)",
        ),
    )?;
    let arn = Expr::get_att(&bucket, "Arn");
    let policy = p.add(
        "TrailAccessLogBucketPolicy",
        &BucketPolicy {
            bucket: Some(Expr::from(&bucket)),
            policy_document: Some(PolicyDocument::new(vec![
                deny_insecure_transport(arn.clone()),
                Statement::allow(
                    "S3ServerAccessLogsDelivery",
                    &["s3:PutObject"],
                    vec![Expr::suffixed(&arn, &format!("/{ACCESS_LOG_PREFIX}*"))],
                )
                .principal(service("logging.s3.amazonaws.com"))
                .when("StringEquals", "aws:SourceAccount", Expr::pseudo(Pseudo::AccountId)),
            ])),
        },
    )?;
    Ok((bucket, policy))
}

/// The trail's CloudWatch Logs delivery: a log group encrypted with the audit key (retention
/// `audit.log_retention_days`), and the role CloudTrail assumes to write it (CloudTrail user
/// guide, "Sending events to CloudWatch Logs").
fn trail_logs(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    key_arn: &Expr,
    trail_arn: &Expr,
) -> Result<(crate::cfn::LogicalId, crate::cfn::LogicalId), CompileError> {
    // Retained, so its name carries the stack's ID (`unique_name`): a later stack creates its own.
    let name = format!("{}/${{Id}}/trail", ctx.names.log_prefix);
    let group = p.add_resource(
        "TrailLogGroup",
        Resource::new(&LogGroup {
            log_group_name: Some(unique_name(&name)),
            retention_in_days: Some(i64::from(ctx.blueprint.audit.log_retention_days)),
            kms_key_id: Some(key_arn.clone()),
            tags: Some(ctx.tags()),
        })
        .retain(),
    )?;
    let role = p.add(
        "TrailLogsRole",
        &Role {
            description: Some(Expr::from(format!(
                "Lets the trail of sandbox {} write to its CloudWatch Logs group",
                ctx.names.env
            ))),
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement::allow(
                "TrustCloudTrail",
                &["sts:AssumeRole"],
                vec![],
            )
            .principal(service("cloudtrail.amazonaws.com"))
            .when("StringEquals", "aws:SourceArn", trail_arn.clone())])),
            policies: Some(vec![Expr::map([
                ("PolicyName", Expr::from("write-trail-logs")),
                (
                    "PolicyDocument",
                    PolicyDocument::new(vec![Statement::allow(
                        "WriteTrailLogGroup",
                        &["logs:CreateLogStream", "logs:PutLogEvents"],
                        vec![unique_name(&format!(
                            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}:log-stream:*"
                        ))],
                    )])
                    .to_expr(),
                ),
            ])]),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;
    Ok((group, role))
}

/// `{"Service": "<name>.${AWS::Region}.amazonaws.com"}`: Regional service principals such as CloudWatch Logs.
fn service_region(name: &str) -> Expr {
    Expr::map([("Service", Expr::sub(format!("{name}.${{AWS::Region}}.amazonaws.com")))])
}
