//! Validator: the Lambda that checks each `session.json` against AppStream before it writes a
//! pre-signed notebook URL into the same home folder. It runs in the isolated subnets, may
//! write only `session_url.txt` files, and may create URLs only through the VPC endpoints.
//! Also its dead-letter queues, the EventBridge rule that sends it this sandbox's session files,
//! the rule's invoke permission, and the home-folder bucket's EventBridge delivery; with
//! `audit.athena.export_decisions`, the export of its log events to the decisions bucket.

use sandboxc_contract::custom_resource::HOME_FOLDER_NOTIFICATION;
use sandboxc_contract::stack::{outputs, parameters};
use sandboxc_contract::users::allow_list_prefix;
use sandboxc_contract::validator::{
    session_file_path, session_key_pattern, url_file_path, NotebookMode, ENV_ALLOW_LIST_PREFIX, ENV_FLEET_NAME,
    ENV_HOME_FOLDER_BUCKET, ENV_NOTEBOOK_MODE, ENV_NOTEBOOK_NAME, ENV_SESSION_EXPIRATION_SECONDS, ENV_STACK_NAME,
    HOME_ROOT, SESSION_FILE_NAME, URL_FILE_NAME,
};

use crate::cfn::policy::{service, PolicyDocument, Statement};
use crate::cfn::resources::{
    DeliveryStream, EventsRule, HomeFolderNotification, LogGroup, LogStream, Permission, Queue, QueuePolicy, Role,
    SubscriptionFilter,
};
use crate::cfn::{Expr, LogicalId, Pseudo, Resource, ToExpr};

use super::common::{
    arn, home_folder_bucket, home_folder_bucket_arn, https_out_group, lambda_function, lambda_log_group, unique_name,
    FunctionSpec,
};

/// The validator function's logical ID (its log group is [`lambda_log_group`] of it).
const VALIDATOR_ID: &str = "Validator";
use super::context::{home_folder_bucket_parameter, PartBuilder};
use super::network::notebook_arns;

/// Seconds Firehose buffers the validator's decisions before it writes an object
/// (`BufferingHints.IntervalInSeconds`, 0 to 900): the validator writes a few lines per session
/// start, so the interval, not the size, closes nearly every object; 300 s (Firehose's default)
/// keeps a decision at most about five minutes from its bucket and a day at most 288 objects.
pub const DECISIONS_BUFFER_SECONDS: i64 = 300;
/// Megabytes Firehose buffers before it writes an object (`BufferingHints.SizeInMBs`, 1 to
/// 128): 5, Firehose's default, reached only by a burst of thousands of session starts.
pub const DECISIONS_BUFFER_MB: i64 = 5;
/// The extension of the decisions' objects (`FileExtension`): Athena reads a text file as GZIP
/// by its `.gz` extension.
pub const DECISIONS_FILE_EXTENSION: &str = ".json.gz";

/// The log stream of the decisions stream's delivery errors in its log group.
pub const DECISIONS_DELIVERY_LOG_STREAM: &str = "DestinationDelivery";

/// The condition under which the home-folder bucket's EventBridge delivery is turned on.
pub const HAS_HOME_FOLDER_BUCKET: &str = "HasHomeFolderBucket";
use super::{CompileError, Ctx, Part};

/// Seconds the dead-letter queue keeps failed events: 14 days, SQS's maximum.
pub const DLQ_RETENTION_SECONDS: i64 = 1_209_600;

/// Seconds EventBridge keeps trying to deliver one session file's event to the validator
/// (`RetryPolicy.MaximumEventAgeInSeconds`, 60 to 86,400): 10 minutes, longer than the notebook
/// script waits for its answer (a later answer is read by nobody).
pub const RULE_MAX_EVENT_AGE_SECONDS: i64 = 600;
/// Delivery attempts EventBridge retries (`RetryPolicy.MaximumRetryAttempts`, 0 to 185).
pub const RULE_MAX_RETRY_ATTEMPTS: i64 = 3;

/// The event pattern of the validator's rule: S3 `Object Created` events of the home-folder
/// bucket whose key is a session file of this sandbox in any home folder
/// (`sandboxc_contract::validator::session_key_pattern`, an EventBridge `wildcard`). Sources:
/// S3 user guide, "Using EventBridge" and "EventBridge event message structure"; EventBridge
/// user guide, "Content filtering in Amazon EventBridge event patterns".
#[must_use]
pub fn session_file_pattern(appstream_stack: &str) -> Expr {
    Expr::map([
        ("source", Expr::strs(["aws.s3"])),
        ("detail-type", Expr::strs(["Object Created"])),
        (
            "detail",
            Expr::map([
                ("bucket", Expr::map([("name", Expr::List(vec![home_folder_bucket()]))])),
                (
                    "object",
                    Expr::map([(
                        "key",
                        Expr::List(vec![Expr::map([("wildcard", Expr::from(session_key_pattern(appstream_stack)))])]),
                    )]),
                ),
            ]),
        ),
    ])
}

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let b = ctx.blueprint;
    let env = ctx.names.env.clone();
    let mut p = PartBuilder::new(Part::Validator, &format!("sandboxc data sandbox {env}: session validator Lambda"));
    let vpc = p.import(ctx, Part::Network, "VpcId")?;
    let subnets = p.import(ctx, Part::Network, "SubnetIds")?;
    let fleet = p.import(ctx, Part::AppStream, "FleetName")?;
    let stack = p.import(ctx, Part::AppStream, "AppStreamStackName")?;
    let mode = b.notebook.mode;
    // Shared mode: the one notebook, from the notebook part (which orders the two).
    let shared_notebook = match mode {
        NotebookMode::Shared => Some(p.import(ctx, Part::Notebook, "NotebookName")?),
        NotebookMode::PerUser => None,
    };
    let log_key = p.import(ctx, Part::Audit, "AuditKeyArn")?;

    let dlq = p.add_resource(
        "ValidatorDeadLetterQueue",
        // No QueueName: CloudFormation generates one; the function and the output name the
        // queue by `Fn::GetAtt` and `Ref`.
        Resource::new(&Queue {
            message_retention_period: Some(DLQ_RETENTION_SECONDS),
            kms_master_key_id: Some(log_key.clone()),
            tags: Some(ctx.tags()),
            ..Queue::default()
        })
        // Events older than the retention period are gone anyway; the queue holds no data of record.
        .delete(),
    )?;
    let sg = https_out_group(&mut p, ctx, vpc, "validator Lambda", "validator");
    let sg = p.add("ValidatorSecurityGroup", &sg)?;

    let mut environment = crate::cfn::ExprMap::new();
    environment.insert(ENV_STACK_NAME.to_string(), stack.clone());
    environment.insert(ENV_FLEET_NAME.to_string(), fleet.clone());
    environment.insert(ENV_NOTEBOOK_MODE.to_string(), Expr::from(mode.as_str()));
    environment.insert(ENV_ALLOW_LIST_PREFIX.to_string(), Expr::from(allow_list_prefix(&env)));
    if let Some(notebook) = &shared_notebook {
        environment.insert(ENV_NOTEBOOK_NAME.to_string(), notebook.clone());
    }
    environment.insert(
        ENV_SESSION_EXPIRATION_SECONDS.to_string(),
        Expr::from(b.notebook.session_expiration.as_secs().to_string()),
    );
    environment.insert(ENV_HOME_FOLDER_BUCKET.to_string(), home_folder_bucket());

    let appstream_stack = ctx.names.appstream_stack.as_str();
    let mut statements = vec![
        // Lambda sends failed events to the KMS-encrypted queue with the function's role.
        Statement::allow("EncryptDeadLetters", &["kms:GenerateDataKey", "kms:Decrypt"], vec![log_key.clone()]),
        // This sandbox's files, and the files of earlier versions directly in the home folder
        // (answered while the sandbox moves to EventBridge). IAM's `*` spans `/`, so the second
        // resource also covers other sandboxes' files: the validator itself skips those without
        // a read or a write.
        Statement::allow(
            "ReadSessionFiles",
            &["s3:GetObject"],
            vec![
                home_folder_bucket_arn(&format!("/{HOME_ROOT}/*/{}", session_file_path(appstream_stack))),
                home_folder_bucket_arn(&format!("/{HOME_ROOT}/*/{SESSION_FILE_NAME}")),
            ],
        ),
        Statement::allow(
            "WriteSessionUrlFiles",
            &["s3:PutObject"],
            vec![
                home_folder_bucket_arn(&format!("/{HOME_ROOT}/*/{}", url_file_path(appstream_stack))),
                home_folder_bucket_arn(&format!("/{HOME_ROOT}/*/{URL_FILE_NAME}")),
            ],
        ),
        Statement::allow(
            "DescribeSandboxSessions",
            &["appstream:DescribeSessions"],
            vec![
                Expr::sub_with(
                    "arn:${AWS::Partition}:appstream:${AWS::Region}:${AWS::AccountId}:fleet/${Fleet}",
                    [("Fleet", fleet)],
                ),
                Expr::sub_with(
                    "arn:${AWS::Partition}:appstream:${AWS::Region}:${AWS::AccountId}:stack/${Stack}",
                    [("Stack", stack)],
                ),
            ],
        ),
        // The allow list: one entry per user, read for the proven user only.
        Statement::allow(
            "ReadAllowList",
            &["ssm:GetParameter"],
            vec![arn("ssm", &format!("parameter{}*", allow_list_prefix(&env)))],
        ),
    ];
    // The URL's every request is evaluated against this statement: only the sandbox's
    // notebooks, each named, and only through the sandbox's SageMaker endpoints
    // (aws:SourceVpce; IP conditions do not work through endpoints).
    let notebooks = match &shared_notebook {
        Some(notebook) => vec![Expr::sub_with(
            "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:notebook-instance/${Notebook}",
            [("Notebook", notebook.clone())],
        )],
        None => notebook_arns(ctx),
    };
    if !notebooks.is_empty() {
        let sagemaker_endpoint = p.import(ctx, Part::Network, "SageMakerApiEndpointId")?;
        let notebook_endpoint = p.import(ctx, Part::Network, "NotebookEndpointId")?;
        statements.push(
            Statement::allow(
                "PresignNotebookUrlThroughEndpoints",
                &["sagemaker:CreatePresignedNotebookInstanceUrl", "sagemaker:DescribeNotebookInstance"],
                notebooks.clone(),
            )
            .when(
                "StringEquals",
                "aws:SourceVpce",
                Expr::List(vec![sagemaker_endpoint.clone(), notebook_endpoint]),
            ),
        );
        // A notebook that stopped itself while idle is started when its user asks for it; only
        // the sandbox's notebooks, only through the SageMaker API endpoint.
        statements.push(
            Statement::allow("StartSandboxNotebooks", &["sagemaker:StartNotebookInstance"], notebooks).when(
                "StringEquals",
                "aws:SourceVpce",
                Expr::List(vec![sagemaker_endpoint]),
            ),
        );
    }
    let function = lambda_function(
        &mut p,
        ctx,
        FunctionSpec {
            id: VALIDATOR_ID,
            purpose: "validator".into(),
            description: format!("sandboxc {env}: checks session.json against AppStream, then writes a pre-signed notebook URL"),
            zip: "validator",
            statements,
            environment,
            vpc: Some((subnets, Expr::List(vec![Expr::get_att(&sg, "GroupId")]))),
            dead_letter_queue: Some(Expr::get_att(&dlq, "Arn")),
            // Long enough to start a stopped notebook and wait for it
            // (sandboxc_contract::validator::VALIDATOR_TIMEOUT_SECONDS).
            timeout_seconds: i64::from(sandboxc_contract::validator::VALIDATOR_TIMEOUT_SECONDS),
            log_key_arn: log_key.clone(),
            checkov_skips: vec![
                ("CKV_AWS_115", "EventBridge invokes it once per session start; reserved concurrency would take capacity from the account for nothing"),
                ("CKV_AWS_173", "the environment holds no secrets, only resource names"),
            ],
        },
    )?;
    if super::audit::exports_decisions(&b.audit) {
        decisions_export(&mut p, ctx, &log_key, &lambda_log_group(VALIDATOR_ID))?;
    }
    // Dispatch through EventBridge: the home-folder bucket is one per account and Region and
    // S3 refuses two notification entries whose key filters overlap, so each sandbox has its own
    // rule on the default bus, matching only its own session files (their path names its
    // AppStream stack). EventBridge invokes the function asynchronously, so the function's own
    // dead-letter queue still takes what it fails on; the rule's queue takes what EventBridge
    // cannot deliver at all.
    let rule_dlq = p.add_resource(
        "ValidatorRuleDeadLetterQueue",
        // SSE-SQS: EventBridge can send to it without a grant on a customer managed key.
        Resource::new(&Queue {
            message_retention_period: Some(DLQ_RETENTION_SECONDS),
            sqs_managed_sse_enabled: Some(true),
            tags: Some(ctx.tags()),
            ..Queue::default()
        })
        .delete()
        .skip_checkov(
            "CKV_AWS_27",
            "encrypted at rest with SSE-SQS (SqsManagedSseEnabled), which checkov does not read; a customer managed key would need a grant to EventBridge in its key policy, and the queue holds only event envelopes (bucket and object key names)",
        ),
    )?;
    let rule = p.add(
        "ValidatorRule",
        &EventsRule {
            description: Some(Expr::from(format!(
                "sandboxc {env}: this sandbox's session files in the AppStream home folders, to its validator"
            ))),
            event_pattern: Some(session_file_pattern(&ctx.names.appstream_stack)),
            state: Some(Expr::from("ENABLED")),
            targets: Some(Expr::List(vec![Expr::map([
                ("Id", Expr::from("Validator")),
                ("Arn", Expr::get_att(&function, "Arn")),
                ("DeadLetterConfig", Expr::map([("Arn", Expr::get_att(&rule_dlq, "Arn"))])),
                (
                    "RetryPolicy",
                    Expr::map([
                        ("MaximumEventAgeInSeconds", Expr::Int(RULE_MAX_EVENT_AGE_SECONDS)),
                        ("MaximumRetryAttempts", Expr::Int(RULE_MAX_RETRY_ATTEMPTS)),
                    ]),
                ),
            ])])),
        },
    )?;
    p.add(
        "ValidatorRuleDeadLetterQueuePolicy",
        &QueuePolicy {
            queues: Some(vec![Expr::from(&rule_dlq)]),
            policy_document: Some(PolicyDocument::new(vec![Statement::allow(
                "EventBridgeSendsUndeliveredEvents",
                &["sqs:SendMessage"],
                vec![Expr::get_att(&rule_dlq, "Arn")],
            )
            .principal(service("events.amazonaws.com"))
            .when("ArnEquals", "aws:SourceArn", Expr::get_att(&rule, "Arn"))])),
        },
    )?;
    // Only this rule may invoke the validator.
    let permission = p.add(
        "ValidatorRulePermission",
        &Permission {
            action: Some(Expr::from("lambda:InvokeFunction")),
            function_name: Some(Expr::get_att(&function, "Arn")),
            principal: Some(Expr::from("events.amazonaws.com")),
            source_account: None,
            source_arn: Some(Expr::get_att(&rule, "Arn")),
        },
    )?;

    let statements = vec![Statement::allow(
        "MergeHomeFolderNotifications",
        &["s3:GetBucketNotification", "s3:PutBucketNotification"],
        vec![home_folder_bucket_arn("")],
    )];
    let spec = FunctionSpec::provider(
        ctx,
        "NotificationProvider",
        "home-folder-notification",
        HOME_FOLDER_NOTIFICATION,
        statements,
        log_key,
    );
    let provider = lambda_function(&mut p, ctx, spec)?;
    // AppStream creates the home-folder bucket at the first session; until then EventBridge
    // delivery cannot be turned on, and would fail the whole deployment.
    let exists = p.root_parameter(parameters::HOME_FOLDER_BUCKET_EXISTS, home_folder_bucket_parameter());
    p.template
        .conditions
        .insert(HAS_HOME_FOLDER_BUCKET.into(), Expr::Equals(Box::new(exists), Box::new(Expr::from("true"))));
    // Turned on once the rule and its permission exist, in the same update that removes the
    // S3 -> Lambda entry of earlier versions: until then that entry delivers every session file
    // (its filter, `user/` ... `session.json`, matches both layouts), so none is lost.
    p.add_resource(
        "HomeFolderNotification",
        Resource::new(&HomeFolderNotification {
            service_token: Some(Expr::get_att(&provider, "Arn")),
            service_timeout: None,
            bucket_name: home_folder_bucket(),
            function_arn: None,
        })
        .depends_on(&rule)
        .depends_on(&permission)
        .when(HAS_HOME_FOLDER_BUCKET),
    )?;
    p.user_output(outputs::VALIDATOR_FUNCTION_NAME, "Session validator Lambda", Expr::from(&function));
    p.user_output(
        outputs::VALIDATOR_DEAD_LETTER_QUEUE_URL,
        "Events the validator failed on after retries",
        Expr::from(&dlq),
    );
    Ok(p)
}

/// `audit.athena.export_decisions`: every event of the validator's log group, through a
/// CloudWatch Logs subscription filter, to a Firehose stream that writes them to the audit
/// part's decisions bucket, where the decisions table of `sandboxc audit --engine athena`
/// reads them (CloudWatch Logs user guide, "Subscription filters with Amazon Data Firehose").
///
/// - The stream (Direct PUT) is encrypted at rest with the audit key (`CUSTOMER_MANAGED_CMK`:
///   Firehose creates a grant on the key with the caller's credentials, so whoever deploys
///   needs `kms:CreateGrant` on it, which the key policy delegates to IAM). It decompresses
///   each record (CloudWatch Logs sends them gzip-compressed), keeps it whole (no
///   `CloudWatchLogProcessing` message extraction: each log event keeps its `timestamp`), ends it
///   with a newline (`AppendDelimiterToRecord`) and writes GZIP objects under
///   `crate::compile::audit::DECISIONS_FIREHOSE_PREFIX` (UTC day of arrival), SSE-KMS with the
///   audit key; records it cannot decompress go under `DECISIONS_ERROR_PREFIX`, outside the
///   table.
/// - Firehose's role may write that bucket only, and use the audit key only through S3 for
///   that bucket (`kms:ViaService`, `kms:EncryptionContext:aws:s3:arn`: with a bucket key the
///   context is the bucket's ARN, else the object's).
/// - Firehose logs its delivery errors to a log group of their own (encrypted with the audit
///   key, retained, `audit.log_retention_days`) and its stream [`DECISIONS_DELIVERY_LOG_STREAM`],
///   both created here: Firehose creates them only for streams made in its console (Firehose
///   developer guide, "Monitoring with Amazon CloudWatch Logs").
/// - CloudWatch Logs' role may only put records into that stream; CloudWatch Logs assumes it
///   for log groups of this account and Region only (`aws:SourceArn`).
fn decisions_export(
    p: &mut PartBuilder,
    ctx: &mut Ctx<'_>,
    key_arn: &Expr,
    log_group: &LogicalId,
) -> Result<(), CompileError> {
    use super::audit::{DECISIONS_ERROR_PREFIX, DECISIONS_FIREHOSE_PREFIX};
    let env = ctx.names.env.clone();
    let stream_name = ctx.names.decisions_stream.clone();
    let bucket_arn = p.import(ctx, Part::Audit, "DecisionsBucketArn")?;
    let bucket_and_objects = vec![bucket_arn.clone(), Expr::suffixed(&bucket_arn, "/*")];
    // Retained like every log group of the sandbox, so its name carries the stack's ID.
    let errors_name = format!("{}/${{Id}}/firehose/decisions", ctx.names.log_prefix);
    let errors_group = p.add_resource(
        "DecisionsDeliveryLogGroup",
        Resource::new(&LogGroup {
            log_group_name: Some(unique_name(&errors_name)),
            retention_in_days: Some(i64::from(ctx.blueprint.audit.log_retention_days)),
            kms_key_id: Some(key_arn.clone()),
            tags: Some(ctx.tags()),
        })
        .retain(),
    )?;
    let errors_stream = p.add_resource(
        "DecisionsDeliveryLogStream",
        Resource::new(&LogStream {
            log_group_name: Some(Expr::from(&errors_group)),
            log_stream_name: Some(Expr::from(DECISIONS_DELIVERY_LOG_STREAM)),
        })
        .retain(),
    )?;
    let inline = |name: &str, statements: Vec<Statement>| {
        vec![Expr::map([
            ("PolicyName", Expr::from(name)),
            ("PolicyDocument", PolicyDocument::new(statements).to_expr()),
        ])]
    };
    let firehose_role = p.add(
        "DecisionsDeliveryRole",
        &Role {
            description: Some(Expr::from(format!(
                "Lets Firehose write the validator's decisions of sandbox {env} to their bucket"
            ))),
            // The decisions bucket lets only roles on this path write.
            path: Some(Expr::from(super::audit::decisions_role_path(&env))),
            // Firehose passes the account's ID as the external ID (CloudWatch Logs user guide,
            // "Subscription filters with Amazon Data Firehose", the Firehose role's trust policy).
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement::allow(
                "TrustFirehose",
                &["sts:AssumeRole"],
                vec![],
            )
            .principal(service("firehose.amazonaws.com"))
            .when("StringEquals", "sts:ExternalId", Expr::pseudo(Pseudo::AccountId))])),
            policies: Some(inline(
                "deliver-decisions",
                vec![
                    // The actions of the Firehose developer guide's S3 destination policy
                    // ("Grant Firehose access to an Amazon S3 destination"), on this bucket only.
                    Statement::allow(
                        "WriteDecisionsBucket",
                        &[
                            "s3:AbortMultipartUpload",
                            "s3:GetBucketLocation",
                            "s3:GetObject",
                            "s3:ListBucket",
                            "s3:ListBucketMultipartUploads",
                            "s3:PutObject",
                        ],
                        bucket_and_objects.clone(),
                    ),
                    Statement::allow(
                        "EncryptDecisions",
                        &["kms:GenerateDataKey", "kms:Decrypt"],
                        vec![key_arn.clone()],
                    )
                    .when("StringEquals", "kms:ViaService", Expr::sub("s3.${AWS::Region}.amazonaws.com"))
                    .when(
                        "StringLike",
                        "kms:EncryptionContext:aws:s3:arn",
                        Expr::List(bucket_and_objects),
                    ),
                    Statement::allow(
                        "LogDeliveryErrors",
                        &["logs:PutLogEvents"],
                        vec![unique_name(&format!(
                            "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{errors_name}:log-stream:{DECISIONS_DELIVERY_LOG_STREAM}"
                        ))],
                    ),
                ],
            )),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;
    let processors = Expr::List(vec![
        Expr::map([
            ("Type", Expr::from("Decompression")),
            (
                "Parameters",
                Expr::List(vec![Expr::map([
                    ("ParameterName", Expr::from("CompressionFormat")),
                    ("ParameterValue", Expr::from("GZIP")),
                ])]),
            ),
        ]),
        Expr::map([("Type", Expr::from("AppendDelimiterToRecord"))]),
    ]);
    let stream = p.add(
        "DecisionsDeliveryStream",
        &DeliveryStream {
            delivery_stream_name: Some(Expr::from(stream_name.as_str())),
            delivery_stream_type: Some(Expr::from("DirectPut")),
            delivery_stream_encryption_configuration_input: Some(Expr::map([
                ("KeyARN", key_arn.clone()),
                ("KeyType", Expr::from("CUSTOMER_MANAGED_CMK")),
            ])),
            extended_s3_destination_configuration: Some(Expr::map([
                ("BucketARN", bucket_arn),
                ("RoleARN", Expr::get_att(&firehose_role, "Arn")),
                ("Prefix", Expr::from(DECISIONS_FIREHOSE_PREFIX)),
                ("ErrorOutputPrefix", Expr::from(DECISIONS_ERROR_PREFIX)),
                ("CompressionFormat", Expr::from("GZIP")),
                ("FileExtension", Expr::from(DECISIONS_FILE_EXTENSION)),
                (
                    "BufferingHints",
                    Expr::map([
                        ("IntervalInSeconds", Expr::Int(DECISIONS_BUFFER_SECONDS)),
                        ("SizeInMBs", Expr::Int(DECISIONS_BUFFER_MB)),
                    ]),
                ),
                (
                    "EncryptionConfiguration",
                    Expr::map([("KMSEncryptionConfig", Expr::map([("AWSKMSKeyARN", key_arn.clone())]))]),
                ),
                ("ProcessingConfiguration", Expr::map([("Enabled", Expr::Bool(true)), ("Processors", processors)])),
                (
                    "CloudWatchLoggingOptions",
                    Expr::map([
                        ("Enabled", Expr::Bool(true)),
                        ("LogGroupName", Expr::from(&errors_group)),
                        ("LogStreamName", Expr::from(&errors_stream)),
                    ]),
                ),
            ])),
            tags: Some(ctx.tags()),
        },
    )?;
    let logs_role = p.add(
        "DecisionsSubscriptionRole",
        &Role {
            description: Some(Expr::from(format!(
                "Lets CloudWatch Logs send the validator's log events of sandbox {env} to their Firehose stream"
            ))),
            // The current user guide's principal and an earlier version's Regional one, both
            // only for log groups of this account and Region.
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement::allow(
                "TrustCloudWatchLogs",
                &["sts:AssumeRole"],
                vec![],
            )
            .principal(Expr::map([(
                "Service",
                Expr::List(vec![Expr::from("logs.amazonaws.com"), Expr::sub("logs.${AWS::Region}.amazonaws.com")]),
            )]))
            .when("StringLike", "aws:SourceArn", super::common::arn("logs", "*"))])),
            policies: Some(inline(
                "send-decisions",
                // By name, not `Fn::GetAtt`: the role then does not wait for the stream, and IAM
                // has made it known by the time the subscription filter passes it to CloudWatch
                // Logs (which checks at once that it can assume it and deliver).
                vec![Statement::allow(
                    "PutDecisionRecords",
                    &["firehose:PutRecord", "firehose:PutRecordBatch"],
                    vec![arn("firehose", &format!("deliverystream/{stream_name}"))],
                )],
            )),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;
    p.add(
        "DecisionsSubscriptionFilter",
        &SubscriptionFilter {
            log_group_name: Some(Expr::from(log_group)),
            // The empty pattern subscribes every event, as the CloudWatch Logs user guide's
            // subscription examples do (`--filter-pattern ""`, "Subscription filters"):
            // decisions and the runtime's START/END/REPORT lines alike.
            filter_pattern: Some(Expr::from("")),
            destination_arn: Some(Expr::get_att(&stream, "Arn")),
            role_arn: Some(Expr::get_att(&logs_role, "Arn")),
            ..SubscriptionFilter::default()
        },
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use sandboxc_contract::{custom_resource, validator};

    use crate::assets::LambdaAsset;
    use crate::blueprint::{load, Source};
    use crate::cfn::render::Format;

    /// Every resource of the default blueprint in the `single` layout: `(logical ID, resource)`.
    fn resources() -> Vec<(String, serde_json::Value)> {
        let text = crate::blueprint::DEFAULT_BLUEPRINT.replace("layout: nested", "layout: single");
        let b = load(&Source { name: "single.yaml".into(), text }).unwrap_or_else(|d| panic!("{d}"));
        let c = super::super::compile(&b, &LambdaAsset { identity: "0".repeat(64) }, Format::Json)
            .unwrap_or_else(|e| panic!("{e}"));
        let t = c.templates.first().map(|t| t.template.to_value()).unwrap_or_default();
        t["Resources"].as_object().cloned().unwrap_or_default().into_iter().collect()
    }

    #[test]
    fn the_validator_gets_exactly_the_environment_the_lambda_reads() {
        let all = resources();
        let validator = all.iter().find(|(id, _)| id == "Validator").map(|(_, r)| r).cloned().unwrap_or_default();
        let variables = validator["Properties"]["Environment"]["Variables"].as_object().cloned().unwrap_or_default();
        let mut names: Vec<&str> = variables.keys().map(String::as_str).collect();
        let mut expected = validator::ENVIRONMENT.to_vec();
        names.sort_unstable();
        expected.sort_unstable();
        assert_eq!(names, expected);
    }

    #[test]
    fn every_custom_resource_is_one_the_provider_serves() {
        let custom: Vec<String> = resources()
            .into_iter()
            .filter_map(|(_, r)| r["Type"].as_str().map(str::to_string))
            .filter(|t| t.starts_with("Custom::"))
            .collect();
        assert_eq!(custom.len(), 3, "{custom:?}");
        assert!(custom.iter().all(|t| custom_resource::TYPES.contains(&t.as_str())), "{custom:?}");
    }
}
