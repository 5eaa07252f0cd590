//! Audit: the audit key (log groups, trail, dead letters) and the CloudTrail trail with S3 data
//! events on the data bucket, the home-folder bucket and the datasets in existing buckets; its
//! retained log bucket (S3 Object Lock in governance mode, server access logs to a small
//! access-log bucket), and its delivery to an encrypted CloudWatch Logs group; with
//! `audit.athena.export_decisions`, the retained bucket of the validator's exported decisions
//! (the validator part streams them there). (The usage-report subscription is in the AppStream
//! part: it needs AppStream's service roles first.)
//! With `audit.athena`, [`athena`] adds the Glue database, the partition-projected tables over
//! the trail and usage-report buckets and the Athena workgroup of `sandboxc audit --engine
//! athena`; it runs in the AppStream part, where the usage-report bucket's name is known.

use sandboxc_contract::stack::outputs;

use crate::blueprint::names::{AUDIT_DECISIONS_TABLE, AUDIT_SESSIONS_TABLE, AUDIT_TRAIL_TABLE};
use crate::cfn::policy::{deny_insecure_transport, service, PolicyDocument, Statement};
use crate::cfn::resources::{AthenaWorkGroup, Bucket, BucketPolicy, GlueDatabase, GlueTable, LogGroup, Role, Trail};
use crate::cfn::{Expr, Pseudo, Resource, ToExpr};

use super::common::{
    arn, bucket_arn, home_folder_bucket_arn, kms_key, locked_bucket, partitioned, private_bucket, unique_name,
};

/// The key prefix of the trail bucket's server access logs in the access-log bucket.
pub const ACCESS_LOG_PREFIX: &str = "trail-bucket/";
/// The key prefix of the decisions bucket's server access logs in the access-log bucket.
pub const DECISIONS_ACCESS_LOG_PREFIX: &str = "decisions-bucket/";
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

/// Whether the sandbox exports the validator's decisions (`audit.athena.export_decisions`).
/// `audit.athena` requires the trail (blueprint validation); the decisions bucket sits beside
/// the trail bucket and shares its access-log bucket, so without a trail nothing is exported.
pub(super) fn exports_decisions(audit: &crate::blueprint::model::Audit) -> bool {
    audit.cloudtrail && audit.athena.as_ref().is_some_and(|a| a.export_decisions)
}

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let env = ctx.names.env.clone();
    let audit = ctx.blueprint.audit.clone();
    let mut holds = vec!["audit key"];
    if audit.cloudtrail {
        holds.push("CloudTrail trail with S3 data events");
    }
    let export_decisions = exports_decisions(&audit);
    if export_decisions {
        holds.push("bucket of the validator's decisions");
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
        let access_logs = access_log_bucket(&mut p, ctx, export_decisions)?;
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
        if export_decisions {
            let decisions = decisions_bucket(&mut p, ctx, &key_arn, &access_logs)?;
            let decisions_arn = Expr::get_att(&decisions, "Arn");
            // The trail does not record the decisions bucket's data events: its writer is
            // Firehose (one write every few minutes, which the audit would list as unattributed
            // reads), and every change of its policy is a management event the trail records.
            p.export(
                ctx,
                "DecisionsBucketName",
                Expr::from(&decisions),
                false,
                "Name of the bucket of the validator's exported decisions (the Athena table reads it)",
            )?;
            p.export(
                ctx,
                "DecisionsBucketArn",
                decisions_arn,
                false,
                "ARN of the bucket of the validator's exported decisions (its Firehose stream writes it)",
            )?;
            p.user_output(
                outputs::DECISIONS_BUCKET_NAME,
                "Bucket of the validator's exported decisions (retained)",
                Expr::from(&decisions),
            );
        }
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
        if ctx.blueprint.audit.athena.is_some() {
            p.export(
                ctx,
                "TrailBucketName",
                bucket_ref.clone(),
                false,
                "Name of the trail bucket (the Athena tables read it)",
            )?;
        }
        p.user_output(outputs::TRAIL_BUCKET_NAME, "Bucket receiving the trail's logs (retained)", bucket_ref);
    }

    Ok(p)
}

/// The bucket receiving the trail bucket's server access logs, and its policy: SSE-S3 (the
/// only default encryption access-log delivery supports), versioned, private, retained;
/// written only by S3's logging service for this account, under [`ACCESS_LOG_PREFIX`] (and
/// [`DECISIONS_ACCESS_LOG_PREFIX`] when `decisions`: the decisions bucket logs there too).
fn access_log_bucket(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    decisions: bool,
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
    let mut prefixes = vec![Expr::suffixed(&arn, &format!("/{ACCESS_LOG_PREFIX}*"))];
    if decisions {
        prefixes.push(Expr::suffixed(&arn, &format!("/{DECISIONS_ACCESS_LOG_PREFIX}*")));
    }
    let policy = p.add(
        "TrailAccessLogBucketPolicy",
        &BucketPolicy {
            bucket: Some(Expr::from(&bucket)),
            policy_document: Some(PolicyDocument::new(vec![
                deny_insecure_transport(arn.clone()),
                Statement::allow("S3ServerAccessLogsDelivery", &["s3:PutObject"], prefixes)
                    .principal(service("logging.s3.amazonaws.com"))
                    .when("StringEquals", "aws:SourceAccount", Expr::pseudo(Pseudo::AccountId)),
            ])),
        },
    )?;
    Ok((bucket, policy))
}

/// The IAM path of the role Firehose writes the decisions bucket with,
/// `/sandboxc/<env>/decisions/`: the bucket policy denies `s3:PutObject` to every other
/// principal (`aws:PrincipalArn`, which names a role session by its role's ARN, path included;
/// IAM user guide, "AWS global condition context keys").
#[must_use]
pub fn decisions_role_path(env: &str) -> String {
    format!("/sandboxc/{env}/decisions/")
}

/// The retained bucket of the validator's exported decisions (`audit.athena.export_decisions`),
/// and its policy: SSE-KMS with the audit key (bucket key on), versioned, private, TLS only,
/// server access logs to the access-log bucket under [`DECISIONS_ACCESS_LOG_PREFIX`], and no
/// one may delete an object or a version or change its lifecycle (as the trail bucket), nor
/// write an object but the delivery role ([`decisions_role_path`]). The
/// validator part's Firehose stream writes it; the decisions table of [`athena`] reads it.
fn decisions_bucket(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    key_arn: &Expr,
    access_logs: &(crate::cfn::LogicalId, crate::cfn::LogicalId),
) -> Result<crate::cfn::LogicalId, CompileError> {
    let bucket = p.add_resource(
        "DecisionsBucket",
        Resource::new(&Bucket {
            logging_configuration: Some(Expr::map([
                ("DestinationBucketName", Expr::from(&access_logs.0)),
                ("LogFilePrefix", Expr::from(DECISIONS_ACCESS_LOG_PREFIX)),
            ])),
            ..private_bucket(ctx, key_arn, None)
        })
        .retain()
        // S3 delivers the access logs only once the log bucket's policy lets it.
        .depends_on(&access_logs.1)
        .note(
            "object-lock",
            "no Object Lock, unlike the trail bucket: writing to a bucket with Object Lock is not documented as supported for Amazon Data Firehose, and S3 requires a Content-MD5 or checksum header on every upload of an object with an Object Lock retention period, which a default retention gives every object (S3 API reference, PutObject); the bucket policy denies every deletion instead",
        ),
    )?;
    let arn = Expr::get_att(&bucket, "Arn");
    p.add(
        "DecisionsBucketPolicy",
        &BucketPolicy {
            bucket: Some(Expr::from(&bucket)),
            policy_document: Some(PolicyDocument::new(vec![
                deny_insecure_transport(arn.clone()),
                Statement::deny(
                    "NobodyDeletesDecisions",
                    &["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutLifecycleConfiguration"],
                    vec![arn.clone(), Expr::suffixed(&arn, "/*")],
                )
                .principal(crate::cfn::policy::aws(Expr::from("*"))),
                // Only the delivery role writes: an object planted by anyone else could pass
                // for Firehose's (the audit reads every object under `decisions/`).
                Statement::deny("OnlyFirehoseWritesDecisions", &["s3:PutObject"], vec![Expr::suffixed(&arn, "/*")])
                    .principal(crate::cfn::policy::aws(Expr::from("*")))
                    .when(
                        "ArnNotLike",
                        "aws:PrincipalArn",
                        Expr::sub(format!(
                            "arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{}*",
                            decisions_role_path(&ctx.names.env)
                        )),
                    ),
            ])),
        },
    )?;
    Ok(bucket)
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

/// The CloudTrail table's columns the Athena user guide's table has ("Create the table for
/// CloudTrail logs in Athena using partition projection"), as Hive types.
pub const TRAIL_COLUMNS: [(&str, &str); 24] = [
    ("eventversion", "string"),
    (
        "useridentity",
        "struct<type:string,principalid:string,arn:string,accountid:string,invokedby:string,accesskeyid:string,username:string,sessioncontext:struct<attributes:struct<mfaauthenticated:string,creationdate:string>,sessionissuer:struct<type:string,principalid:string,arn:string,accountid:string,username:string>>>",
    ),
    ("eventtime", "string"),
    ("eventsource", "string"),
    ("eventname", "string"),
    ("awsregion", "string"),
    ("sourceipaddress", "string"),
    ("useragent", "string"),
    ("errorcode", "string"),
    ("errormessage", "string"),
    ("requestparameters", "string"),
    ("responseelements", "string"),
    ("additionaleventdata", "string"),
    ("requestid", "string"),
    ("eventid", "string"),
    ("readonly", "string"),
    ("resources", "array<struct<arn:string,accountid:string,type:string>>"),
    ("eventtype", "string"),
    ("apiversion", "string"),
    ("recipientaccountid", "string"),
    ("serviceeventdetails", "string"),
    ("sharedeventid", "string"),
    ("vpcendpointid", "string"),
    ("eventcategory", "string"),
];

/// The CloudTrail table's partition projection: `account` and `region` (one value each: the
/// trail is the sandbox's own, one Region), `day` as `yyyy/MM/dd` from 2020/01/01 to now.
/// The key layout is `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<MM>/<dd>/` (the trail has
/// no key prefix; CloudTrail user guide, "Finding your CloudTrail log files").
pub const TRAIL_LOCATION_TEMPLATE: &str = "AWSLogs/${account}/CloudTrail/${region}/${day}/";

/// The usage-reports table's key layout, `sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/`
/// (AppStream admin guide, "AppStream 2.0 usage reports").
pub const SESSIONS_LOCATION_TEMPLATE: &str = "sessions/schedule=DAILY/year=${year}/month=${month}/day=${day}/";

/// The key prefix of the validator's exported decisions in their bucket: Kinesis Data Firehose
/// writes under `decisions/<yyyy>/<MM>/<dd>/` by the UTC time it received the oldest record of
/// each object (S3 prefix `decisions/!{timestamp:yyyy/MM/dd}/`; Firehose developer guide,
/// "Custom prefixes for Amazon S3 objects"), GZIP objects of one JSON record per line.
pub const DECISIONS_FIREHOSE_PREFIX: &str = "decisions/!{timestamp:yyyy/MM/dd}/";

/// Where Firehose puts records it could not decompress or process: outside the table's
/// location, so the table never reads them.
pub const DECISIONS_ERROR_PREFIX: &str = "decisions-failed/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/";

/// The decisions table's key layout under its bucket: `day` projected as `yyyy/MM/dd`, the
/// UTC day Firehose received the oldest record of the object: a decision's own day, a later
/// one (CloudWatch Logs delivers after the event), or the day before when the object's buffer
/// (`DECISIONS_BUFFER_SECONDS` of the validator part) spanned midnight.
pub const DECISIONS_LOCATION_TEMPLATE: &str = "decisions/${day}/";

/// The decisions table's columns: one row per CloudWatch Logs subscription record as
/// Firehose's `Decompression` processor delivers it, newline-delimited
/// (`AppendDelimiterToRecord`), without message extraction so that every log event keeps its
/// time (CloudWatch Logs user guide, "Subscription filters": `messageType` is `DATA_MESSAGE`,
/// or `CONTROL_MESSAGE` for the reachability check, which has no log events). Each
/// `logevents[].message` is one line the validator wrote: a decision (the contract's
/// `DecisionLine`) or a runtime line (`START`, `END`, `REPORT`).
pub const DECISIONS_COLUMNS: [(&str, &str); 6] = [
    ("messagetype", "string"),
    ("owner", "string"),
    ("loggroup", "string"),
    ("logstream", "string"),
    ("subscriptionfilters", "array<string>"),
    ("logevents", "array<struct<id:string,timestamp:bigint,message:string>>"),
];

/// The sessions report's columns in the documented order (AppStream admin guide, "Usage
/// reports fields"); the audit's local reader reads the same list.
pub const SESSIONS_REPORT_COLUMNS: [&str; 29] = [
    "user_session_id",
    "aws_account_id",
    "region",
    "session_start_time",
    "session_end_time",
    "session_duration_in_seconds",
    "user_id",
    "user_arn",
    "authentication_type",
    "authentication_type_user_id",
    "fleet_name",
    "stack_name",
    "instance_type",
    "eni_private_ip_address",
    "connected_at_least_once",
    "client_ip_addresses",
    "google_drive_enabled",
    "one_drive_enabled",
    "home_folders_storage_location",
    "user_settings_clipboard_copy_from_local_device",
    "user_settings_clipboard_copy_to_local_device",
    "user_settings_file_upload",
    "user_settings_file_download",
    "user_settings_printing_to_local_device",
    "application_settings_enabled",
    "domain_joined",
    "max_session_duration",
    "session_type",
    "stream_view",
];

/// `Fn::Sub` of `s3://${Bucket}/<template>` with the template's `${x}` kept literal.
fn location(bucket: &Expr, template: &str) -> Expr {
    Expr::sub_with(format!("s3://${{Bucket}}/{}", template.replace("${", "${!")), [("Bucket", bucket.clone())])
}

/// `audit.athena` (`sandboxc audit --engine athena`): the Glue database and its two tables
/// over the trail bucket and the usage-report bucket, partition projection only (no crawler,
/// no `MSCK REPAIR`), and the workgroup with its encrypted results bucket. Built in the
/// AppStream part, where the usage-report bucket's name is known (the subscription returns
/// it); the trail bucket and the audit key come from the audit part.
pub(super) fn athena(p: &mut PartBuilder, ctx: &mut Ctx<'_>, usage_bucket: &Expr) -> Result<(), CompileError> {
    let Some(athena) = ctx.blueprint.audit.athena.clone() else { return Ok(()) };
    let trail_bucket = p.import(ctx, Part::Audit, "TrailBucketName")?;
    let key_arn = p.import(ctx, Part::Audit, "AuditKeyArn")?;
    let names = ctx.names.clone();
    let account = Expr::pseudo(Pseudo::AccountId);
    let database = p.add(
        "AuditDatabase",
        &GlueDatabase {
            catalog_id: Some(account.clone()),
            database_input: Some(Expr::map([
                ("Name", Expr::from(names.audit_database.as_str())),
                (
                    "Description",
                    Expr::from(format!("sandboxc {}: CloudTrail data events and AppStream sessions reports, for sandboxc audit --engine athena", names.env)),
                ),
            ])),
        },
    )?;
    let columns = |list: &[(&str, &str)]| {
        Expr::List(list.iter().map(|(n, t)| Expr::map([("Name", Expr::from(*n)), ("Type", Expr::from(*t))])).collect())
    };
    let params = |pairs: Vec<(&str, Expr)>| Expr::map(pairs);
    p.add(
        "AuditTrailTable",
        &GlueTable {
            catalog_id: Some(account.clone()),
            database_name: Some(Expr::from(&database)),
            table_input: Some(Expr::map([
                ("Name", Expr::from(AUDIT_TRAIL_TABLE)),
                ("TableType", Expr::from("EXTERNAL_TABLE")),
                (
                    "Parameters",
                    params(vec![
                        ("classification", Expr::from("cloudtrail")),
                        ("EXTERNAL", Expr::from("TRUE")),
                        ("projection.enabled", Expr::from("true")),
                        ("projection.account.type", Expr::from("enum")),
                        ("projection.account.values", account.clone()),
                        ("projection.region.type", Expr::from("enum")),
                        ("projection.region.values", Expr::pseudo(Pseudo::Region)),
                        ("projection.day.type", Expr::from("date")),
                        ("projection.day.format", Expr::from("yyyy/MM/dd")),
                        ("projection.day.range", Expr::from(format!("{PROJECTED_FIRST_YEAR}/01/01,NOW"))),
                        ("projection.day.interval", Expr::from("1")),
                        ("projection.day.interval.unit", Expr::from("DAYS")),
                        ("storage.location.template", location(&trail_bucket, TRAIL_LOCATION_TEMPLATE)),
                    ]),
                ),
                ("PartitionKeys", columns(&[("account", "string"), ("region", "string"), ("day", "string")])),
                (
                    "StorageDescriptor",
                    storage(
                        columns(&TRAIL_COLUMNS),
                        location(&trail_bucket, "AWSLogs/"),
                        "com.amazon.emr.cloudtrail.CloudTrailInputFormat",
                        json_serde(),
                    ),
                ),
            ])),
        },
    )?;
    let report_columns: Vec<(&str, &str)> = SESSIONS_REPORT_COLUMNS.iter().map(|c| (*c, "string")).collect();
    p.add(
        "AuditSessionsTable",
        &GlueTable {
            catalog_id: Some(account.clone()),
            database_name: Some(Expr::from(&database)),
            table_input: Some(Expr::map([
                ("Name", Expr::from(AUDIT_SESSIONS_TABLE)),
                ("TableType", Expr::from("EXTERNAL_TABLE")),
                (
                    "Parameters",
                    params(vec![
                        ("classification", Expr::from("csv")),
                        ("EXTERNAL", Expr::from("TRUE")),
                        ("projection.enabled", Expr::from("true")),
                        ("projection.year.type", Expr::from("integer")),
                        ("projection.year.range", Expr::from(format!("{PROJECTED_FIRST_YEAR},{PROJECTED_LAST_YEAR}"))),
                        ("projection.month.type", Expr::from("integer")),
                        ("projection.month.range", Expr::from("1,12")),
                        ("projection.month.digits", Expr::from("2")),
                        ("projection.day.type", Expr::from("integer")),
                        ("projection.day.range", Expr::from("1,31")),
                        ("projection.day.digits", Expr::from("2")),
                        ("storage.location.template", location(usage_bucket, SESSIONS_LOCATION_TEMPLATE)),
                    ]),
                ),
                ("PartitionKeys", columns(&[("year", "string"), ("month", "string"), ("day", "string")])),
                (
                    "StorageDescriptor",
                    storage(
                        columns(&report_columns),
                        location(usage_bucket, "sessions/"),
                        TEXT_INPUT_FORMAT,
                        Expr::map([
                            ("SerializationLibrary", Expr::from("org.apache.hadoop.hive.serde2.OpenCSVSerde")),
                            (
                                "Parameters",
                                Expr::map([("separatorChar", Expr::from(",")), ("quoteChar", Expr::from("\""))]),
                            ),
                        ]),
                    ),
                ),
            ])),
        },
    )?;
    if exports_decisions(&ctx.blueprint.audit) {
        let decisions_bucket = p.import(ctx, Part::Audit, "DecisionsBucketName")?;
        decisions_table(p, &account, &database, &decisions_bucket)?;
    }
    // Query results: a bucket of their own (the trail bucket is under Object Lock and denies
    // deletes, the data bucket answers only through the sandbox's endpoint), encrypted with the
    // audit key, results expiring after `results_retention_days`.
    let days = i64::from(athena.results_retention_days);
    let results = p.add_resource(
        "AuditQueryResultsBucket",
        Resource::new(&Bucket {
            lifecycle_configuration: Some(Expr::map([(
                "Rules",
                Expr::List(vec![Expr::map([
                    ("Id", Expr::from("expire-query-results")),
                    ("Status", Expr::from("Enabled")),
                    ("ExpirationInDays", Expr::Int(days)),
                    ("NoncurrentVersionExpiration", Expr::map([("NoncurrentDays", Expr::Int(1))])),
                    ("AbortIncompleteMultipartUpload", Expr::map([("DaysAfterInitiation", Expr::Int(1))])),
                ])]),
            )])),
            ..private_bucket(ctx, &key_arn, None)
        })
        .skip_checkov(
            "CKV_AWS_18",
            "holds only Athena query results, which expire; every query is in Athena's own history and the trail records the reads of the logs",
        ),
    )?;
    let results_arn = Expr::get_att(&results, "Arn");
    p.add(
        "AuditQueryResultsBucketPolicy",
        &BucketPolicy {
            bucket: Some(Expr::from(&results)),
            policy_document: Some(PolicyDocument::new(vec![deny_insecure_transport(results_arn)])),
        },
    )?;
    p.add(
        "AuditWorkGroup",
        &AthenaWorkGroup {
            name: Some(Expr::from(names.audit_workgroup.as_str())),
            description: Some(Expr::from(format!("sandboxc {}: sandboxc audit --engine athena", names.env))),
            state: Some(Expr::from("ENABLED")),
            recursive_delete_option: Some(true),
            work_group_configuration: Some(Expr::map([
                ("EnforceWorkGroupConfiguration", Expr::Bool(true)),
                ("PublishCloudWatchMetricsEnabled", Expr::Bool(true)),
                (
                    "BytesScannedCutoffPerQuery",
                    Expr::Int(i64::try_from(athena.bytes_scanned_limit).unwrap_or(i64::MAX)),
                ),
                (
                    "ResultConfiguration",
                    Expr::map([
                        (
                            "OutputLocation",
                            Expr::sub_with("s3://${Bucket}/results/", [("Bucket", Expr::from(&results))]),
                        ),
                        (
                            "EncryptionConfiguration",
                            Expr::map([("EncryptionOption", Expr::from("SSE_KMS")), ("KmsKey", key_arn.clone())]),
                        ),
                    ]),
                ),
            ])),
            tags: Some(ctx.tags()),
        },
    )?;
    p.user_output(
        AUDIT_WORKGROUP_OUTPUT,
        "Athena workgroup of sandboxc audit --engine athena",
        Expr::from(names.audit_workgroup.as_str()),
    );
    Ok(())
}

/// The table of the validator's exported decisions ([`AUDIT_DECISIONS_TABLE`]): one row per
/// line Firehose wrote under [`DECISIONS_FIREHOSE_PREFIX`] (one decompressed CloudWatch Logs
/// subscription record each), columns [`DECISIONS_COLUMNS`], partition `day` projected as
/// `yyyy/MM/dd` from 2020/01/01 to now over [`DECISIONS_LOCATION_TEMPLATE`]. The Hive JSON
/// SerDe reads the records' camelCase keys (`logEvents`, `messageType`) into the lowercase
/// columns, nested struct fields included, as it does for the CloudTrail table (Athena user
/// guide, "Hive JSON SerDe"); the OpenX JSON SerDe is not used because its results "can be
/// non-deterministic" (Athena user guide, "OpenX JSON SerDe", considerations and limitations).
/// GZIP objects are read as such by their `.gz` extension (Athena user guide, "Use compression
/// in Athena").
fn decisions_table(
    p: &mut PartBuilder,
    account: &Expr,
    database: &crate::cfn::LogicalId,
    bucket: &Expr,
) -> Result<(), CompileError> {
    let columns = Expr::List(
        DECISIONS_COLUMNS
            .iter()
            .map(|(n, t)| Expr::map([("Name", Expr::from(*n)), ("Type", Expr::from(*t))]))
            .collect(),
    );
    let table_root = DECISIONS_LOCATION_TEMPLATE.split("${").next().unwrap_or(DECISIONS_LOCATION_TEMPLATE);
    p.add(
        "AuditDecisionsTable",
        &GlueTable {
            catalog_id: Some(account.clone()),
            database_name: Some(Expr::from(database)),
            table_input: Some(Expr::map([
                ("Name", Expr::from(AUDIT_DECISIONS_TABLE)),
                ("TableType", Expr::from("EXTERNAL_TABLE")),
                (
                    "Parameters",
                    Expr::map([
                        ("classification", Expr::from("json")),
                        ("EXTERNAL", Expr::from("TRUE")),
                        ("projection.enabled", Expr::from("true")),
                        ("projection.day.type", Expr::from("date")),
                        ("projection.day.format", Expr::from("yyyy/MM/dd")),
                        ("projection.day.range", Expr::from(format!("{PROJECTED_FIRST_YEAR}/01/01,NOW"))),
                        ("projection.day.interval", Expr::from("1")),
                        ("projection.day.interval.unit", Expr::from("DAYS")),
                        ("storage.location.template", location(bucket, DECISIONS_LOCATION_TEMPLATE)),
                    ]),
                ),
                (
                    "PartitionKeys",
                    Expr::List(vec![Expr::map([("Name", Expr::from("day")), ("Type", Expr::from("string"))])]),
                ),
                ("StorageDescriptor", storage(columns, location(bucket, table_root), TEXT_INPUT_FORMAT, json_serde())),
            ])),
        },
    )?;
    Ok(())
}

/// Hadoop's line-by-line text input format (the sessions reports, the decisions).
const TEXT_INPUT_FORMAT: &str = "org.apache.hadoop.mapred.TextInputFormat";

/// A Glue table's `StorageDescriptor`: its columns, location, input format and SerDe, with
/// Hive's text output format (the tables are only read).
fn storage(columns: Expr, location: Expr, input_format: &str, serde: Expr) -> Expr {
    Expr::map([
        ("Columns", columns),
        ("Location", location),
        ("InputFormat", Expr::from(input_format)),
        ("OutputFormat", Expr::from("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat")),
        ("SerdeInfo", serde),
    ])
}

/// The Hive JSON SerDe (`SerdeInfo`), which maps camelCase keys onto lowercase columns, nested
/// struct fields included (Athena user guide, "Hive JSON SerDe").
fn json_serde() -> Expr {
    Expr::map([("SerializationLibrary", Expr::from("org.apache.hive.hcatalog.data.JsonSerDe"))])
}

/// The first year the Athena tables' partition projection holds: the trail's and the decisions'
/// days run from January 1st of it to now, the usage reports' years from it to
/// [`PROJECTED_LAST_YEAR`]. A query of days outside reads nothing (Athena user guide,
/// "Partition projection": values outside `range` are no partitions).
pub const PROJECTED_FIRST_YEAR: i32 = 2020;
/// The last year of the usage reports' projected `year` partitions.
pub const PROJECTED_LAST_YEAR: i32 = 2099;

/// The root stack output naming the audit's Athena workgroup.
pub const AUDIT_WORKGROUP_OUTPUT: &str = "AuditWorkGroup";
