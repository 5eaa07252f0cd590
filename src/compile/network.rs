//! Network: a VPC with one isolated subnet per Availability Zone (no internet gateway, no NAT,
//! no public IPs), the S3 gateway endpoint and interface endpoints with policies, the endpoint
//! security group (443 from the VPC only), VPC flow logs, and the data bucket's policy (the data
//! perimeter: TLS only, and only through this S3 gateway endpoint except for the admin
//! principals and AWS services).

use sandboxc_contract::stack::outputs;
use sandboxc_contract::users::shared_notebook_name;
use sandboxc_contract::validator::NotebookMode;

use crate::blueprint::{Access, AvailabilityZones};
use crate::cfn::policy::{aws, deny_insecure_transport, PolicyDocument, Statement};
use crate::cfn::resources::{
    BucketPolicy, FlowLog, LogGroup, Role, RouteTable, SecurityGroup, Subnet, SubnetRouteTableAssociation, Vpc,
    VpcEndpoint,
};
use crate::cfn::{Expr, LogicalId, Parameter, Pseudo, Resource, ToExpr};

use super::common::{arn, home_folder_bucket_arn, ingress_cidr, no_egress, partitioned, unique_name};
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

/// The S3 actions the sandbox performs through the gateway endpoint: data access, and the
/// home-folder synchronisation of AppStream (admin guide, "Using Amazon S3 VPC endpoints for home folders").
pub const S3_ENDPOINT_ACTIONS: [&str; 11] = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetBucketLocation",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
];

/// The S3 actions on objects and listings that the data bucket accepts only through the
/// sandbox's S3 gateway endpoint. Configuration actions (policy, encryption, tags...) stay open
/// to IAM, so that CloudFormation keeps managing the bucket from outside the VPC.
pub const DATA_ACTIONS: [&str; 8] = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject*",
    "s3:GetObject*",
    "s3:ListBucket*",
    "s3:ListMultipartUploadParts",
    "s3:PutObject*",
    "s3:ReplicateObject",
    "s3:RestoreObject",
];

/// The read actions a dataset in an existing bucket needs through the endpoint.
const EXISTING_READ: [&str; 2] = ["s3:GetObject", "s3:ListBucket"];
/// The write actions a read-write dataset in an existing bucket adds.
const EXISTING_WRITE: [&str; 4] =
    ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject"];

/// Parameter of the network template holding the blueprint's zone names.
pub const AZ_PARAMETER: &str = "AvailabilityZones";

/// The logical ID of the data bucket's policy (the data perimeter), in the network part or
/// the single template: `sandboxc plan` reads the admin principals from it.
pub const DATA_BUCKET_POLICY: &str = "DataBucketPolicy";

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let b = ctx.blueprint;
    let env = ctx.names.env.clone();
    let mut p = PartBuilder::new(
        Part::Network,
        &format!("sandboxc data sandbox {env}: isolated VPC, VPC endpoints, flow logs"),
    );
    let vpc = p.add(
        "Vpc",
        &Vpc {
            cidr_block: Some(Expr::from(b.network.cidr.to_string())),
            enable_dns_hostnames: Some(true),
            enable_dns_support: Some(true),
            tags: Some(ctx.tags_named("vpc")),
        },
    )?;
    let vpc_ref = Expr::from(&vpc);
    if let AvailabilityZones::Names(names) = &b.network.availability_zones {
        // Named zones travel as a typed parameter with the blueprint's names as its default:
        // CloudFormation checks that they exist in the Region before creating anything.
        p.template.parameters.insert(
            AZ_PARAMETER.into(),
            Parameter {
                kind: "List<AWS::EC2::AvailabilityZone::Name>".into(),
                description: "Availability Zones of the isolated subnets, in order (from the blueprint)".into(),
                allowed_pattern: None,
                default: Some(Expr::from(names.join(","))),
                ..Parameter::default()
            },
        );
    }
    let mut subnets = Vec::new();
    let mut route_tables = Vec::new();
    // The subnets validation carved, one per zone.
    for (i, cidr) in b.network.subnets.iter().enumerate() {
        let n = i + 1;
        let index = u32::try_from(i).unwrap_or_default();
        let az = match &b.network.availability_zones {
            AvailabilityZones::Names(_) => Expr::select(index, Expr::parameter(AZ_PARAMETER)),
            AvailabilityZones::Count(_) => Expr::select(index, Expr::GetAZs(Box::new(Expr::from("")))),
        };
        let subnet = p.add(
            &format!("Subnet{n}"),
            &Subnet {
                vpc_id: Some(vpc_ref.clone()),
                cidr_block: Some(Expr::from(cidr.to_string())),
                availability_zone: Some(az),
                map_public_ip_on_launch: Some(false),
                tags: Some(ctx.tags_named(&format!("isolated-{n}"))),
            },
        )?;
        let rt = p.add(
            &format!("RouteTable{n}"),
            &RouteTable { vpc_id: Some(vpc_ref.clone()), tags: Some(ctx.tags_named(&format!("isolated-{n}"))) },
        )?;
        p.add(
            &format!("Subnet{n}RouteTableAssociation"),
            &SubnetRouteTableAssociation {
                subnet_id: Some(Expr::from(&subnet)),
                route_table_id: Some(Expr::from(&rt)),
            },
        )?;
        subnets.push(Expr::from(&subnet));
        route_tables.push(Expr::from(&rt));
    }
    let subnet_list = Expr::List(subnets);

    // S3 gateway endpoint: only the sandbox's own buckets, and only buckets of this account.
    let data_bucket = p.import(ctx, Part::Storage, "DataBucketArn")?;
    let mut s3_statements = vec![Statement::allow(
        "SandboxBucketsOnly",
        &S3_ENDPOINT_ACTIONS,
        vec![
            data_bucket.clone(),
            Expr::suffixed(&data_bucket, "/*"),
            home_folder_bucket_arn(""),
            home_folder_bucket_arn("/*"),
        ],
    )
    .principal(aws(Expr::from("*")))
    .when("StringEquals", "aws:ResourceAccount", Expr::pseudo(Pseudo::AccountId))];
    s3_statements.extend(existing_datasets_statement(ctx));
    let s3_policy = PolicyDocument::new(s3_statements);
    let s3_endpoint = p.add(
        "S3Endpoint",
        &VpcEndpoint {
            service_name: Some(Expr::sub("com.amazonaws.${AWS::Region}.s3")),
            vpc_endpoint_type: Some(Expr::from("Gateway")),
            vpc_id: Some(vpc_ref.clone()),
            route_table_ids: Some(Expr::List(route_tables)),
            policy_document: Some(s3_policy),
            ..VpcEndpoint::default()
        },
    )?;

    let endpoint_sg = p.add(
        "EndpointSecurityGroup",
        &SecurityGroup {
            group_description: Some(Expr::from(format!(
                "sandboxc {env}: interface endpoints, HTTPS from the VPC only"
            ))),
            vpc_id: Some(vpc_ref.clone()),
            security_group_ingress: Some(vec![ingress_cidr(
                Expr::get_att(&vpc, "CidrBlock"),
                443,
                443,
                "HTTPS from inside the VPC",
            )]),
            security_group_egress: Some(vec![no_egress()]),
            tags: Some(ctx.tags_named("endpoints")),
        },
    )?;
    let account = Expr::pseudo(Pseudo::AccountId);
    let in_account = |sid: &str, actions: &[&str], resources: Vec<Expr>| {
        PolicyDocument::new(vec![Statement::allow(sid, actions, resources).principal(aws(Expr::from("*"))).when(
            "StringEquals",
            "aws:PrincipalAccount",
            account.clone(),
        )])
    };
    // The bucket's policy: after the endpoint it names, retained so that a bucket that is
    // replaced or removed keeps it.
    let data_bucket_name = p.import(ctx, Part::Storage, "DataBucketName")?;
    p.add_resource(
        DATA_BUCKET_POLICY,
        Resource::new(&BucketPolicy {
            bucket: Some(data_bucket_name),
            policy_document: Some(PolicyDocument::new(vec![
                deny_insecure_transport(data_bucket.clone()),
                Statement::deny(
                    "DenyDataOutsideTheSandboxEndpoint",
                    &DATA_ACTIONS,
                    vec![data_bucket.clone(), Expr::suffixed(&data_bucket, "/*")],
                )
                .principal(aws(Expr::from("*")))
                .when("StringNotEquals", "aws:SourceVpce", Expr::from(&s3_endpoint))
                .when("Bool", "aws:PrincipalIsAWSService", Expr::Bool(false))
                .when_some(admins(ctx).map(|a| ("ArnNotLike", "aws:PrincipalArn", a))),
            ])),
        })
        .retain(),
    )?;

    let ssm_policy = in_account(
        "SandboxParametersOnly",
        &["ssm:GetParameter", "ssm:GetParameters"],
        vec![arn("ssm", &format!("parameter{}/*", ctx.names.log_prefix))],
    );
    let notebooks = notebook_arns(ctx);
    let notebook_policy = |sid: &str, actions: &[&str]| {
        if notebooks.is_empty() {
            // A policy needs a statement; with no notebook there is nothing to allow.
            PolicyDocument::new(vec![Statement::deny(
                "NoNotebookInThisSandbox",
                &["sagemaker:*"],
                vec![Expr::from("*")],
            )
            .principal(aws(Expr::from("*")))])
        } else {
            in_account(sid, actions, notebooks.clone())
        }
    };
    // The validator starts a stopped notebook; with idle stop each notebook stops itself.
    let mut api_actions = vec![
        "sagemaker:CreatePresignedNotebookInstanceUrl",
        "sagemaker:DescribeNotebookInstance",
        "sagemaker:StartNotebookInstance",
    ];
    if b.notebook.idle_stop.as_secs() > 0 {
        api_actions.push("sagemaker:StopNotebookInstance");
    }
    let sagemaker_policy = notebook_policy("SandboxNotebooksOnly", &api_actions);
    // Every request through a pre-signed URL is authorized as CreatePresignedNotebookInstanceUrl
    // (SageMaker developer guide, "Create a VPC Endpoint Policy for SageMaker Notebook Instances").
    let notebook_endpoint_policy =
        notebook_policy("SandboxNotebooksOnly", &["sagemaker:CreatePresignedNotebookInstanceUrl"]);
    let interface = |service: Expr, policy: Option<PolicyDocument>| VpcEndpoint {
        service_name: Some(service),
        vpc_endpoint_type: Some(Expr::from("Interface")),
        vpc_id: Some(vpc_ref.clone()),
        subnet_ids: Some(subnet_list.clone()),
        security_group_ids: Some(Expr::List(vec![Expr::get_att(&endpoint_sg, "GroupId")])),
        private_dns_enabled: Some(true),
        policy_document: policy,
        ..VpcEndpoint::default()
    };
    p.add("SsmEndpoint", &interface(Expr::sub("com.amazonaws.${AWS::Region}.ssm"), Some(ssm_policy)))?;
    let sagemaker_api = p.add(
        "SageMakerApiEndpoint",
        &interface(Expr::sub("com.amazonaws.${AWS::Region}.sagemaker.api"), Some(sagemaker_policy)),
    )?;
    // The notebook endpoint's private DNS name needs the API endpoint first (docs/aws-facts.md, "SageMaker notebook instances").
    let notebook_ep = p.add_resource(
        "NotebookEndpoint",
        Resource::new(&interface(Expr::sub("aws.sagemaker.${AWS::Region}.notebook"), Some(notebook_endpoint_policy)))
            .depends_on(&sagemaker_api),
    )?;
    p.add_resource(
        "AppStreamApiEndpoint",
        Resource::new(&interface(Expr::sub("com.amazonaws.${AWS::Region}.appstream.api"), None))
            .note("endpoint-policy", NO_APPSTREAM_ENDPOINT_POLICY),
    )?;

    if let Some(ps) = &b.network.private_streaming {
        let mut rules = Vec::new();
        for cidr in ps.client_cidrs.iter().map(ToString::to_string) {
            rules.push(ingress_cidr(Expr::from(&cidr), 443, 443, "Streaming (HTTPS) from the user network"));
            rules.push(ingress_cidr(Expr::from(&cidr), 1400, 1499, "Streaming (TCP 1400-1499) from the user network"));
        }
        let sg = p.add(
            "StreamingEndpointSecurityGroup",
            &SecurityGroup {
                group_description: Some(Expr::from(format!(
                    "sandboxc {env}: AppStream streaming endpoint, from the user networks only"
                ))),
                vpc_id: Some(vpc_ref.clone()),
                security_group_ingress: Some(rules),
                security_group_egress: Some(vec![no_egress()]),
                tags: Some(ctx.tags_named("streaming-endpoint")),
            },
        )?;
        let streaming = p.add_resource(
            "AppStreamStreamingEndpoint",
            Resource::new(&VpcEndpoint {
                security_group_ids: Some(Expr::List(vec![Expr::get_att(&sg, "GroupId")])),
                ..interface(Expr::sub("com.amazonaws.${AWS::Region}.appstream.streaming"), None)
            })
            .note("endpoint-policy", NO_APPSTREAM_ENDPOINT_POLICY),
        )?;
        p.export(
            ctx,
            "StreamingEndpointId",
            Expr::from(&streaming),
            false,
            "ID of the AppStream streaming interface endpoint",
        )?;
    }

    if b.network.flow_logs {
        flow_logs(&mut p, ctx, &vpc)?;
    }

    p.export(ctx, "VpcId", vpc_ref, false, "ID of the isolated VPC")?;
    p.export(ctx, "S3EndpointId", Expr::from(&s3_endpoint), false, "ID of the S3 gateway endpoint")?;
    // Also a root output (sandboxc audit reads it: CloudTrail's vpcEndpointId of the sandbox's S3
    // requests), described as the export, so that the nested template's output stays as it is.
    p.user_output(outputs::S3_ENDPOINT_ID, "ID of the S3 gateway endpoint", Expr::from(&s3_endpoint));
    p.export(ctx, "SubnetIds", subnet_list, true, "IDs of the isolated subnets, one per Availability Zone")?;
    p.export(
        ctx,
        "SageMakerApiEndpointId",
        Expr::from(&sagemaker_api),
        false,
        "ID of the SageMaker API interface endpoint",
    )?;
    p.export(
        ctx,
        "NotebookEndpointId",
        Expr::from(&notebook_ep),
        false,
        "ID of the SageMaker notebook interface endpoint",
    )?;
    Ok(p)
}

/// Why the AppStream endpoints have no endpoint policy, written into their Metadata.
pub const NO_APPSTREAM_ENDPOINT_POLICY: &str = "AppStream 2.0 (appstream.api, appstream.streaming) does not support VPC endpoint policies (AWS PrivateLink guide, AWS services that integrate with AWS PrivateLink); access is limited by the endpoint security group and the callers' IAM policies";

/// `ArnNotLike aws:PrincipalArn` of the admin principals, when there are any.
fn admins(ctx: &Ctx<'_>) -> Option<Expr> {
    let admins = &ctx.blueprint.storage.admin_principals;
    (!admins.is_empty()).then(|| Expr::List(admins.iter().map(Expr::from).collect()))
}

/// The ARNs of the sandbox's notebook instances: in `per_user` mode one pattern for every
/// user's (`notebook-instance/<env>-*`: every per-user notebook name starts with the
/// environment name, `sandboxc_contract::users::notebook_name`), so that no policy grows with
/// the users, nor changes when one is added or removed; the shared one in `shared` mode.
/// Which user may reach which notebook is the validator's allow-list check. Empty in
/// `per_user` mode without users.
pub(super) fn notebook_arns(ctx: &Ctx<'_>) -> Vec<Expr> {
    let name = match ctx.blueprint.notebook.mode {
        // No user, no notebook: nothing to allow (the policies deny instead).
        NotebookMode::PerUser if ctx.blueprint.users.is_empty() => return Vec::new(),
        NotebookMode::PerUser => format!("{}-*", ctx.names.env),
        NotebookMode::Shared => shared_notebook_name(&ctx.names.env, &ctx.blueprint.network.generation),
    };
    vec![arn("sagemaker", &format!("notebook-instance/{name}"))]
}

/// The S3 gateway endpoint's statement for the datasets in existing buckets: their buckets and
/// prefixes only (no `aws:ResourceAccount`: the buckets may belong to other accounts), read, and
/// write where a user has read-write, by principals of this account only.
fn existing_datasets_statement(ctx: &Ctx<'_>) -> Option<Statement> {
    let mut buckets = std::collections::BTreeSet::new();
    let mut objects = std::collections::BTreeSet::new();
    let mut write = false;
    for d in &ctx.blueprint.datasets {
        if let Some(e) = d.existing() {
            buckets.insert((e.arn.clone(), String::new()));
            objects.insert((e.arn.clone(), format!("/{}*", d.prefix)));
            write |= ctx
                .blueprint
                .users
                .iter()
                .flat_map(|u| &u.grants)
                .any(|g| g.dataset.name == d.name && g.access == Access::ReadWrite);
        }
    }
    if buckets.is_empty() {
        return None;
    }
    let mut actions: Vec<&str> = EXISTING_READ.to_vec();
    if write {
        actions.extend(EXISTING_WRITE);
    }
    actions.sort_unstable();
    Some(
        Statement::allow(
            "DatasetsInExistingBuckets",
            &actions,
            buckets.into_iter().chain(objects).map(|(arn, suffix)| partitioned(&arn, &suffix)).collect(),
        )
        .principal(aws(Expr::from("*")))
        .when("StringEquals", "aws:PrincipalAccount", Expr::pseudo(Pseudo::AccountId)),
    )
}

fn flow_logs(p: &mut PartBuilder, ctx: &Ctx<'_>, vpc: &LogicalId) -> Result<(), CompileError> {
    let key = p.import(ctx, Part::Audit, "AuditKeyArn")?;
    // Retained: its name carries the stack's ID (`unique_name`), so that the next deployment
    // after `sandboxc destroy` does not fail on it.
    let name = format!("{}/${{Id}}/flow-logs", ctx.names.log_prefix);
    let group = p.add_resource(
        "FlowLogGroup",
        Resource::new(&LogGroup {
            log_group_name: Some(unique_name(&name)),
            retention_in_days: Some(i64::from(ctx.blueprint.audit.log_retention_days)),
            kms_key_id: Some(key),
            tags: Some(ctx.tags()),
        })
        .retain(),
    )?;
    let role = p.add(
        "FlowLogRole",
        &Role {
            description: Some(Expr::from(format!(
                "Lets VPC Flow Logs write to the flow-log group of sandbox {}",
                ctx.names.env
            ))),
            assume_role_policy_document: Some(PolicyDocument::new(vec![Statement::allow(
                "TrustFlowLogs",
                &["sts:AssumeRole"],
                vec![],
            )
            .principal(crate::cfn::policy::service("vpc-flow-logs.amazonaws.com"))
            .when("StringEquals", "aws:SourceAccount", Expr::pseudo(Pseudo::AccountId))])),
            policies: Some(vec![Expr::map([
                ("PolicyName", Expr::from("write-flow-logs")),
                (
                    "PolicyDocument",
                    PolicyDocument::new(vec![Statement::allow(
                        "WriteFlowLogGroup",
                        &["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        vec![Expr::get_att(&group, "Arn")],
                    )])
                    .to_expr(),
                ),
            ])]),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;
    p.add(
        "FlowLog",
        &FlowLog {
            resource_id: Some(Expr::from(vpc)),
            resource_type: Some(Expr::from("VPC")),
            traffic_type: Some(Expr::from("ALL")),
            log_destination_type: Some(Expr::from("cloud-watch-logs")),
            log_group_name: Some(Expr::from(&group)),
            deliver_logs_permission_arn: Some(Expr::get_att(&role, "Arn")),
            max_aggregation_interval: Some(60),
            tags: Some(ctx.tags()),
        },
    )?;
    Ok(())
}
