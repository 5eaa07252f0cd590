//! Validator: the Lambda that checks each `session.json` against AppStream before it writes a
//! pre-signed notebook URL into the same home folder. It runs in the isolated subnets, may
//! write only `session_url.txt` files, and may create URLs only through the VPC endpoints.
//! Also its dead-letter queue, S3 invoke permission, and the home-folder notification.

use std::collections::BTreeMap;

use sandboxc_contract::custom_resource::HOME_FOLDER_NOTIFICATION;
use sandboxc_contract::stack::{outputs, parameters};
use sandboxc_contract::users::allow_list_prefix;
use sandboxc_contract::validator::{
    NotebookMode, ENV_ALLOW_LIST_PREFIX, ENV_FLEET_NAME, ENV_HOME_FOLDER_BUCKET, ENV_NOTEBOOK_MODE, ENV_NOTEBOOK_NAME,
    ENV_SESSION_EXPIRATION_SECONDS, ENV_STACK_NAME, HOME_ROOT, SESSION_FILE_NAME, URL_FILE_NAME,
};

use crate::cfn::policy::Statement;
use crate::cfn::resources::{HomeFolderNotification, Permission, Queue};
use crate::cfn::{Expr, Pseudo, Resource};

use super::common::{arn, home_folder_bucket, home_folder_bucket_arn, https_out_group, lambda_function, FunctionSpec};
use super::context::{home_folder_bucket_parameter, PartBuilder};
use super::network::notebook_arns;

/// The condition under which the home-folder notification is created.
pub const HAS_HOME_FOLDER_BUCKET: &str = "HasHomeFolderBucket";
use super::{CompileError, Ctx, Part};

/// Seconds the dead-letter queue keeps failed events: 14 days, SQS's maximum.
pub const DLQ_RETENTION_SECONDS: i64 = 1_209_600;

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

    let mut environment = BTreeMap::new();
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

    let mut statements = vec![
        // Lambda sends failed events to the KMS-encrypted queue with the function's role.
        Statement::allow("EncryptDeadLetters", &["kms:GenerateDataKey", "kms:Decrypt"], vec![log_key.clone()]),
        Statement::allow(
            "ReadSessionFiles",
            &["s3:GetObject"],
            vec![home_folder_bucket_arn(&format!("/{HOME_ROOT}/*/{SESSION_FILE_NAME}"))],
        ),
        Statement::allow(
            "WriteSessionUrlFiles",
            &["s3:PutObject"],
            vec![home_folder_bucket_arn(&format!("/{HOME_ROOT}/*/{URL_FILE_NAME}"))],
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
                notebooks,
            )
            .when(
                "StringEquals",
                "aws:SourceVpce",
                Expr::List(vec![sagemaker_endpoint, notebook_endpoint]),
            ),
        );
    }
    let function = lambda_function(
        &mut p,
        ctx,
        FunctionSpec {
            id: "Validator",
            purpose: "validator".into(),
            description: format!("sandboxc {env}: checks session.json against AppStream, then writes a pre-signed notebook URL"),
            zip: "validator",
            statements,
            environment,
            vpc: Some((subnets, Expr::List(vec![Expr::get_att(&sg, "GroupId")]))),
            dead_letter_queue: Some(Expr::get_att(&dlq, "Arn")),
            timeout_seconds: 60,
            log_key_arn: log_key.clone(),
            checkov_skips: vec![
                ("CKV_AWS_115", "S3 invokes it once per session start; reserved concurrency would take capacity from the account for nothing"),
                ("CKV_AWS_173", "the environment holds no secrets, only resource names"),
            ],
        },
    )?;
    // S3 checks this permission when the notification is written, so it must exist first.
    let permission = p.add(
        "ValidatorInvokePermission",
        &Permission {
            action: Some(Expr::from("lambda:InvokeFunction")),
            function_name: Some(Expr::get_att(&function, "Arn")),
            principal: Some(Expr::from("s3.amazonaws.com")),
            source_account: Some(Expr::pseudo(Pseudo::AccountId)),
            source_arn: Some(home_folder_bucket_arn("")),
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
    // AppStream creates the home-folder bucket at the first session; until then the
    // notification cannot be written, and would fail the whole deployment.
    let exists = p.root_parameter(parameters::HOME_FOLDER_BUCKET_EXISTS, home_folder_bucket_parameter());
    p.template
        .conditions
        .insert(HAS_HOME_FOLDER_BUCKET.into(), Expr::Equals(Box::new(exists), Box::new(Expr::from("true"))));
    p.add_resource(
        "HomeFolderNotification",
        Resource::new(&HomeFolderNotification {
            service_token: Some(Expr::get_att(&provider, "Arn")),
            service_timeout: None,
            bucket_name: home_folder_bucket(),
            function_arn: Expr::get_att(&function, "Arn"),
        })
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
