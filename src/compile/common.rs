//! Building blocks several parts use: ARNs, security-group rules, KMS keys, and Lambda
//! functions with their role and log group.

use sandboxc_contract::stack::parameters;
use sandboxc_contract::validator::HOME_FOLDER_BUCKET_PREFIX;

use crate::cfn::policy::{account_root, trust, PolicyDocument, Statement};
use crate::cfn::resources::{Bucket, Function, KmsAlias, KmsKey, LogGroup, Role, SecurityGroup};
use crate::cfn::security_group::{Peer, RuleDirection, SecurityGroupRule, NO_TRAFFIC_CIDR};
use crate::cfn::{Expr, ExprMap, LogicalId, Pseudo, Resource, ToExpr};

use super::context::{s3_prefix_list_parameter, PartBuilder};
use super::{CompileError, Ctx};

/// The Lambda runtime for Rust functions built as `bootstrap` (Lambda runtimes, OS-only).
pub const LAMBDA_RUNTIME: &str = "provided.al2023";

/// `arn:${AWS::Partition}:<service>:${AWS::Region}:${AWS::AccountId}:<resource>`.
pub fn arn(service: &str, resource: &str) -> Expr {
    Expr::sub(format!("arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"))
}

/// Eight hex digits that differ for every creation of the stack holding the template: the first
/// group of the UUID at the end of `AWS::StackId`
/// (`arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>`), as
/// `Fn::Select [0, Fn::Split ["-", Fn::Select [2, Fn::Split ["/", !Ref AWS::StackId]]]]`.
///
/// Names of resources that outlive their stack (`DeletionPolicy: Retain`) and whose only
/// create-only property is their name (log groups, the trail) carry it: a stack created
/// again after `sandboxc destroy` names them anew instead of failing on the retained ones,
/// while the name stays the same for the life of the stack (so it never causes a
/// replacement) and keeps its readable prefix (which key policies match).
#[must_use]
pub fn stack_unique_id() -> Expr {
    let uuid = Expr::select(2, Expr::Split("/".into(), Box::new(Expr::pseudo(Pseudo::StackId))));
    Expr::select(0, Expr::Split("-".into(), Box::new(uuid)))
}

/// `template` with `${Id}` standing for [`stack_unique_id`], as a `Fn::Sub`.
#[must_use]
pub fn unique_name(template: &str) -> Expr {
    Expr::sub_with(template, [("Id", stack_unique_id())])
}

/// The AppStream home-folder bucket of this account and Region (created by AppStream; docs/aws-facts.md, "Home folders").
pub fn home_folder_bucket() -> Expr {
    Expr::sub(format!("{HOME_FOLDER_BUCKET_PREFIX}${{AWS::Region}}-${{AWS::AccountId}}"))
}

/// ARN of the home-folder bucket followed by `suffix` (`""` for the bucket, `/user/*` for objects).
pub fn home_folder_bucket_arn(suffix: &str) -> Expr {
    Expr::sub(format!(
        "arn:${{AWS::Partition}}:s3:::{HOME_FOLDER_BUCKET_PREFIX}${{AWS::Region}}-${{AWS::AccountId}}{suffix}"
    ))
}

/// An ARN written in the blueprint (an existing bucket, its key) with its partition replaced
/// by `${AWS::Partition}` (followed by `suffix`): such resources are in the sandbox's Region,
/// whose partition is the deployment's. The text holds no `${` (validation allows no `$`).
pub fn partitioned(arn: &str, suffix: &str) -> Expr {
    let rest = arn.strip_prefix("arn:").and_then(|r| r.split_once(':')).map_or(arn, |(_, rest)| rest);
    Expr::sub(format!("arn:${{AWS::Partition}}:{rest}{suffix}"))
}

/// ARN of a bucket given as an expression (a `Ref` or parameter), followed by `suffix`.
pub fn bucket_arn(bucket: &Expr, suffix: &str) -> Expr {
    Expr::sub_with(format!("arn:${{AWS::Partition}}:s3:::${{Bucket}}{suffix}"), [("Bucket", bucket.clone())])
}

/// Security-group rules: TCP 443 out to the VPC's own range (the interface endpoints, and
/// the notebook instances' network interfaces) and to the Region's S3 prefix list (the S3
/// gateway endpoint's destinations, `S3PrefixListId`), never to 0.0.0.0/0.
pub fn egress_https(p: &mut PartBuilder, ctx: &Ctx<'_>) -> Vec<SecurityGroupRule> {
    let prefix_list = p.root_parameter(parameters::S3_PREFIX_LIST_ID, s3_prefix_list_parameter());
    vec![
        SecurityGroupRule::new(
            RuleDirection::Egress,
            "tcp",
            443,
            443,
            Peer::Cidr(Expr::from(ctx.blueprint.network.cidr.to_string())),
        )
        .described("HTTPS to the interface endpoints and notebooks inside the VPC"),
        SecurityGroupRule::new(RuleDirection::Egress, "tcp", 443, 443, Peer::PrefixList(prefix_list))
            .described("HTTPS to S3 through the gateway endpoint (the Region's S3 prefix list)"),
    ]
}

/// A security group whose only rules let HTTPS out to the VPC endpoints and S3 (nothing comes
/// in unless a separate ingress rule says so).
pub fn https_out_group(p: &mut PartBuilder, ctx: &Ctx<'_>, vpc: Expr, what: &str, name_tag: &str) -> SecurityGroup {
    SecurityGroup {
        group_description: Some(Expr::from(format!(
            "sandboxc {}: {what}, HTTPS out to the VPC endpoints only",
            ctx.names.env
        ))),
        vpc_id: Some(vpc),
        security_group_egress: Some(egress_https(p, ctx)),
        tags: Some(ctx.tags_named(name_tag)),
        ..SecurityGroup::default()
    }
}

/// A bucket encrypted with a customer-managed KMS key (bucket keys on), versioned, with every
/// public-access block on and ACLs disabled (`BucketOwnerEnforced`).
pub fn private_bucket(ctx: &Ctx<'_>, key_arn: &Expr, name: Option<Expr>) -> Bucket {
    Bucket { bucket_name: name, tags: Some(ctx.tags()), ..locked_bucket(key_arn) }
}

/// A bucket without name or tags: SSE-KMS with `key_arn` (bucket keys on), versioned, every
/// public access blocked, object ownership enforced (no ACLs).
pub fn locked_bucket(key_arn: &Expr) -> Bucket {
    Bucket {
        bucket_encryption: Some(Expr::map([(
            "ServerSideEncryptionConfiguration",
            Expr::List(vec![Expr::map([
                ("BucketKeyEnabled", Expr::Bool(true)),
                (
                    "ServerSideEncryptionByDefault",
                    Expr::map([("KMSMasterKeyID", key_arn.clone()), ("SSEAlgorithm", Expr::from("aws:kms"))]),
                ),
            ])]),
        )])),
        versioning_configuration: Some(Expr::map([("Status", Expr::from("Enabled"))])),
        public_access_block_configuration: Some(Expr::map([
            ("BlockPublicAcls", Expr::Bool(true)),
            ("BlockPublicPolicy", Expr::Bool(true)),
            ("IgnorePublicAcls", Expr::Bool(true)),
            ("RestrictPublicBuckets", Expr::Bool(true)),
        ])),
        ownership_controls: Some(Expr::map([(
            "Rules",
            Expr::List(vec![Expr::map([("ObjectOwnership", Expr::from("BucketOwnerEnforced"))])]),
        )])),
        ..Bucket::default()
    }
}

/// Security-group rule that matches nothing, replacing the default allow-all egress.
pub fn no_egress() -> SecurityGroupRule {
    SecurityGroupRule::new(RuleDirection::Egress, "icmp", 252, 86, Peer::Cidr(Expr::from(NO_TRAFFIC_CIDR)))
        .described("Disallow all outbound traffic (this group only answers)")
}

/// Security-group rule: TCP `from..=to` in from `cidr`.
pub fn ingress_cidr(cidr: Expr, from: i64, to: i64, description: &str) -> SecurityGroupRule {
    SecurityGroupRule::new(RuleDirection::Ingress, "tcp", from, to, Peer::Cidr(cidr)).described(description)
}

/// A customer-managed KMS key with rotation, administered by the account root, plus `extra`
/// statements; retained with the data it protects. Also adds `alias/sandboxc/<env>/<alias>`.
///
/// # Errors
/// [`CompileError::Internal`] on duplicate logical IDs.
pub fn kms_key(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    id: &str,
    alias: &str,
    description: &str,
    extra: Vec<Statement>,
) -> Result<LogicalId, CompileError> {
    // KMS requires a key policy that lets the account administer the key (policy lock-out check).
    let root = Statement::allow("AccountAdministersKey", &["kms:*"], vec![Expr::from("*")]).principal(account_root());
    key_with_policy(p, ctx, id, alias, description, root, extra)
}

/// The key-administration actions of KMS's default key policy for key administrators (KMS
/// developer guide, "Default key policy": "Allows key administrators to administer the KMS
/// key"), without any use of the key for cryptography.
pub const KEY_ADMINISTRATION: [&str; 15] = [
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
];

/// [`kms_key`] whose account root may administer the key ([`KEY_ADMINISTRATION`]) but not use
/// it: only `extra` grants use. The root keeps `kms:PutKeyPolicy`, so the key passes KMS's
/// lock-out check and can always be repaired.
///
/// # Errors
/// [`CompileError::Internal`] on duplicate logical IDs.
pub fn administered_kms_key(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    id: &str,
    alias: &str,
    description: &str,
    extra: Vec<Statement>,
) -> Result<LogicalId, CompileError> {
    let root =
        Statement::allow("AccountAdministersKey", &KEY_ADMINISTRATION, vec![Expr::from("*")]).principal(account_root());
    key_with_policy(p, ctx, id, alias, description, root, extra)
}

fn key_with_policy(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    id: &str,
    alias: &str,
    description: &str,
    root: Statement,
    extra: Vec<Statement>,
) -> Result<LogicalId, CompileError> {
    let mut statements = vec![root];
    statements.extend(extra);
    let key = p.add_resource(
        id,
        Resource::new(&KmsKey {
            description: Some(Expr::from(format!("sandboxc {}: {description}", ctx.names.env))),
            enable_key_rotation: Some(true),
            key_policy: Some(PolicyDocument::new(statements)),
            tags: Some(ctx.tags()),
        })
        .retain(),
    )?;
    p.add(
        &format!("{id}Alias"),
        &KmsAlias {
            alias_name: Some(Expr::from(format!("{}/{alias}", ctx.names.alias_prefix))),
            target_key_id: Some(Expr::from(&key)),
        },
    )?;
    Ok(key)
}

/// checkov checks that do not apply to the custom-resource provider functions, with the reason.
pub const PROVIDER_SKIPS: [(&str, &str); 4] = [
    ("CKV_AWS_117", "must reach IAM, AppStream and the CloudFormation response URL, none of which the isolated VPC can reach"),
    ("CKV_AWS_116", "CloudFormation custom-resource requests are answered or time out in CloudFormation; a dead-letter queue cannot answer them"),
    ("CKV_AWS_115", "runs only during deployments; reserved concurrency would take capacity from the account for nothing"),
    ("CKV_AWS_173", "the environment holds no secrets, only resource names"),
];

/// What a Lambda function needs beyond the shared defaults.
pub struct FunctionSpec {
    /// Logical ID prefix: the function is `<id>`, its role `<id>Role`, its log group `<id>LogGroup`.
    pub id: &'static str,
    /// What it is for, in a few words of `[a-z-]` (`validator`, `service-roles`): the end of
    /// its log group's name and of its role's policy name. The function's own name is
    /// generated by CloudFormation (nothing needs it fixed: the outputs and the permission
    /// name it by `Ref` and `Fn::GetAtt`), so no name blocks its replacement.
    pub purpose: String,
    /// What the function does.
    pub description: String,
    /// Which zip: `validator` or `provider`.
    pub zip: &'static str,
    /// Permissions beyond writing its own logs.
    pub statements: Vec<Statement>,
    /// Environment variables.
    pub environment: ExprMap,
    /// `VpcConfig` (subnets, security groups), None to run outside the VPC.
    pub vpc: Option<(Expr, Expr)>,
    /// Dead-letter queue ARN for asynchronous invocations.
    pub dead_letter_queue: Option<Expr>,
    /// Timeout in seconds.
    pub timeout_seconds: i64,
    /// ARN of the KMS key encrypting the log group.
    pub log_key_arn: Expr,
    /// checkov checks that cannot apply to this function, with the reason.
    pub checkov_skips: Vec<(&'static str, &'static str)>,
}

impl FunctionSpec {
    /// A custom-resource provider: the `provider` zip outside the VPC, five minutes, no
    /// dead-letter queue (CloudFormation waits for its answer).
    pub fn provider(
        ctx: &Ctx<'_>,
        id: &'static str,
        purpose: &str,
        resource_type: &str,
        statements: Vec<Statement>,
        log_key_arn: Expr,
    ) -> Self {
        Self {
            id,
            purpose: purpose.to_string(),
            description: format!("sandboxc {}: answers {resource_type}", ctx.names.env),
            zip: "provider",
            statements,
            environment: ExprMap::new(),
            vpc: None,
            dead_letter_queue: None,
            timeout_seconds: 300,
            log_key_arn,
            checkov_skips: PROVIDER_SKIPS.to_vec(),
        }
    }
}

/// Adds a function, its role (least privilege) and its log group (retention, KMS); returns the
/// function's ID. The log group is named `/sandboxc/<env>/<stack id>/lambda/<purpose>`
/// ([`unique_name`]: retained, it must not block the stack's next creation) and handed to the
/// function through `LoggingConfig`; the role may write to that log group only.
///
/// # Errors
/// [`CompileError::Internal`] on duplicate logical IDs.
/// The logical ID of the log group [`lambda_function`] gives the function `<id>`: `<id>LogGroup`.
#[must_use]
pub fn lambda_log_group(id: &str) -> LogicalId {
    LogicalId::new(format!("{id}LogGroup"))
}

pub fn lambda_function(p: &mut PartBuilder, ctx: &Ctx<'_>, spec: FunctionSpec) -> Result<LogicalId, CompileError> {
    let log_group = p.add_resource(
        lambda_log_group(spec.id).as_str(),
        Resource::new(&LogGroup {
            log_group_name: Some(unique_name(&format!("{}/${{Id}}/lambda/{}", ctx.names.log_prefix, spec.purpose))),
            retention_in_days: Some(i64::from(ctx.blueprint.audit.log_retention_days)),
            kms_key_id: Some(spec.log_key_arn.clone()),
            tags: Some(ctx.tags()),
        })
        .retain(),
    )?;
    // The log group's `Arn` attribute ends in `:*`: its streams.
    let mut statements = vec![Statement::allow(
        "WriteOwnLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![Expr::get_att(&log_group, "Arn")],
    )];
    statements.extend(spec.statements);
    if let Some(dlq) = &spec.dead_letter_queue {
        statements.push(Statement::allow("SendToDeadLetterQueue", &["sqs:SendMessage"], vec![dlq.clone()]));
    }
    if spec.vpc.is_some() {
        statements.extend(vpc_access_statements());
    }
    let role = p.add(
        &format!("{}Role", spec.id),
        &Role {
            description: Some(Expr::from(format!(
                "Execution role of the {} function of sandbox {}",
                spec.purpose, ctx.names.env
            ))),
            assume_role_policy_document: Some(trust("lambda.amazonaws.com")),
            policies: Some(vec![Expr::map([
                ("PolicyName", Expr::from(spec.purpose.clone())),
                ("PolicyDocument", PolicyDocument::new(statements).to_expr()),
            ])]),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;
    let mut env = spec.environment;
    let function = Function {
        function_name: None,
        description: Some(Expr::from(spec.description)),
        runtime: Some(Expr::from(LAMBDA_RUNTIME)),
        handler: Some(Expr::from("bootstrap")),
        architectures: Some(Expr::strs(["x86_64"])),
        code: Some(Expr::map([("S3Bucket", p.assets_bucket()), ("S3Key", Expr::from(ctx.lambda.key(spec.zip)))])),
        role: Some(Expr::get_att(&role, "Arn")),
        memory_size: Some(256),
        timeout: Some(spec.timeout_seconds),
        environment: if env.is_empty() {
            None
        } else {
            Some(Expr::map([("Variables", Expr::Map(std::mem::take(&mut env)))]))
        },
        vpc_config: spec.vpc.map(|(subnets, sgs)| Expr::map([("SecurityGroupIds", sgs), ("SubnetIds", subnets)])),
        dead_letter_config: spec.dead_letter_queue.map(|arn| Expr::map([("TargetArn", arn)])),
        logging_config: Some(Expr::map([("LogFormat", Expr::from("Text")), ("LogGroup", Expr::from(&log_group))])),
        tags: Some(ctx.tags()),
        ..Function::default()
    };
    let mut resource = Resource::new(&function);
    for (check, reason) in spec.checkov_skips {
        resource = resource.skip_checkov(check, reason);
    }
    p.add_resource(spec.id, resource)
}

/// What a function in a VPC needs to manage its network interfaces (Lambda developer guide,
/// "Giving Lambda functions access to resources in an Amazon VPC"). The `Describe*` actions
/// support only `Resource: *` (Service Authorization Reference, Amazon EC2).
fn vpc_access_statements() -> Vec<Statement> {
    vec![
        Statement::allow(
            "DescribeNetworkInterfaces",
            &["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            vec![Expr::from("*")],
        ),
        Statement::allow(
            "ManageOwnNetworkInterfaces",
            &[
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            vec![arn("ec2", "network-interface/*"), arn("ec2", "subnet/*"), arn("ec2", "security-group/*")],
        ),
    ]
}
