//! AppStream: the fleet (native `IamRoleArn`, `CreationPolicy: StartFleet`), the AppStream stack
//! (home folders, every user-settings action explicit), their association, the fleet role
//! (least privilege), the fleet security group, the service-role custom resource ordered
//! before the fleet and the stack, and the Region's usage-report subscription (a custom
//! resource: no CloudFormation type exists), also after the service roles.

use sandboxc_contract::custom_resource::{
    APPSTREAM_SERVICE_ROLES, USAGE_REPORT_BUCKET_ATTRIBUTE, USAGE_REPORT_SUBSCRIPTION,
};
use sandboxc_contract::stack::outputs;

use crate::blueprint::{FleetType, DEFAULT_DESIRED_INSTANCES};
use crate::cfn::policy::{trust, PolicyDocument, Statement};
use crate::cfn::resources::{
    AppStreamServiceRoles, AppStreamStack, Fleet, Role, StackFleetAssociation, UsageReportSubscription,
};
use crate::cfn::{Expr, Resource, ToExpr};

use super::common::{arn, https_out_group, lambda_function, FunctionSpec};
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

/// AppStream's service roles, created by the provider when missing (docs/aws-facts.md, "Service roles and usage reports").
pub const SERVICE_ROLES: [&str; 2] = ["AmazonAppStreamServiceAccess", "ApplicationAutoScalingForAmazonAppStreamAccess"];

/// Platform of ELASTIC fleets: Windows, since the launcher and notebook script are PowerShell;
/// 2019 because Elastic fleets support only WINDOWS_SERVER_2019 and AMAZON_LINUX2 (AppStream
/// API reference, CreateFleet `Platform`; docs/aws-facts.md, "Fleet").
pub const ELASTIC_PLATFORM: &str = "WINDOWS_SERVER_2019";

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let b = ctx.blueprint;
    let a = &b.appstream;
    let env = ctx.names.env.clone();
    let mut p = PartBuilder::new(Part::AppStream, &format!("sandboxc data sandbox {env}: AppStream fleet and stack"));
    let vpc = p.import(ctx, Part::Network, "VpcId")?;
    let subnets = p.import(ctx, Part::Network, "SubnetIds")?;
    let log_key = p.import(ctx, Part::Audit, "AuditKeyArn")?;

    // Service roles: a provider Lambda creates them only if missing, never deletes them.
    let role_arns: Vec<Expr> = SERVICE_ROLES
        .iter()
        .map(|r| Expr::sub(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/service-role/{r}")))
        .collect();
    let policy_arns: Vec<Expr> = SERVICE_ROLES
        .iter()
        .map(|r| Expr::sub(format!("arn:${{AWS::Partition}}:iam::aws:policy/service-role/{r}")))
        .collect();
    let statements = vec![
        Statement::allow("InspectServiceRoles", &["iam:GetRole", "iam:ListAttachedRolePolicies"], role_arns.clone()),
        Statement::allow("CreateServiceRoles", &["iam:CreateRole"], role_arns.clone()),
        Statement::allow("AttachServiceRolePolicies", &["iam:AttachRolePolicy"], role_arns).when(
            "ArnEquals",
            "iam:PolicyARN",
            Expr::List(policy_arns),
        ),
    ];
    let spec = FunctionSpec::provider(
        ctx,
        "ServiceRolesProvider",
        "service-roles",
        APPSTREAM_SERVICE_ROLES,
        statements,
        log_key.clone(),
    );
    let provider = lambda_function(&mut p, ctx, spec)?;
    let service_roles = p.add_resource(
        "ServiceRoles",
        Resource::new(&AppStreamServiceRoles { service_token: Some(Expr::get_att(&provider, "Arn")) }).retain(),
    )?;

    if b.audit.usage_reports {
        // CreateUsageReportSubscription and DescribeUsageReportSubscriptions support only
        // Resource "*" (Service Authorization Reference, Amazon AppStream 2.0).
        let statements = vec![Statement::allow(
            "ManageUsageReportSubscription",
            &["appstream:CreateUsageReportSubscription", "appstream:DescribeUsageReportSubscriptions"],
            vec![Expr::from("*")],
        )];
        let spec = FunctionSpec::provider(
            ctx,
            "UsageReportsProvider",
            "usage-reports",
            USAGE_REPORT_SUBSCRIPTION,
            statements,
            log_key.clone(),
        );
        let function = lambda_function(&mut p, ctx, spec)?;
        let reports = p.add_resource(
            "UsageReports",
            Resource::new(&UsageReportSubscription { service_token: Some(Expr::get_att(&function, "Arn")) })
                .retain()
                .depends_on(&service_roles),
        )?;
        p.user_output(
            outputs::USAGE_REPORT_BUCKET,
            "Bucket AppStream writes usage reports to",
            Expr::get_att(&reports, USAGE_REPORT_BUCKET_ATTRIBUTE),
        );
        super::audit::athena(&mut p, ctx, &Expr::get_att(&reports, USAGE_REPORT_BUCKET_ATTRIBUTE))?;
    }

    let sg = https_out_group(&mut p, ctx, vpc, "AppStream streaming instances", "fleet");
    let sg = p.add("FleetSecurityGroup", &sg)?;

    // The fleet role is visible to every user on the instance (profile appstream_machine_role):
    // it may read the sandbox's two parameters and nothing else. The data is reached from each
    // user's notebook with that user's role.
    let params = [&ctx.names.data_bucket_parameter, &ctx.names.notebook_script_parameter];
    let statements = vec![Statement::allow(
        "ReadSandboxParameters",
        &["ssm:GetParameter"],
        params.iter().map(|n| arn("ssm", &format!("parameter{n}"))).collect(),
    )];
    let fleet_name = ctx.names.fleet(a.fleet_type);
    let role = p.add(
        "FleetRole",
        &Role {
            description: Some(Expr::from(format!(
                "Role of the AppStream fleet {fleet_name} (profile appstream_machine_role)"
            ))),
            assume_role_policy_document: Some(trust("appstream.amazonaws.com")),
            policies: Some(vec![Expr::map([
                ("PolicyName", Expr::from("sandbox-read")),
                ("PolicyDocument", PolicyDocument::new(statements).to_expr()),
            ])]),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;

    let elastic = a.fleet_type == FleetType::Elastic;
    // AppStream requires a fleet name; it carries the fleet type, the other create-only
    // property, so that a change of type creates the new fleet beside the old one
    // (`Names::fleet`). Everything that needs the name gets it by `Ref`.
    let fleet = Fleet {
        name: Some(Expr::from(fleet_name)),
        description: Some(Expr::from(format!("sandboxc {env}: isolated data sandbox fleet"))),
        image_name: Some(Expr::from(&a.image_name)),
        instance_type: Some(Expr::from(&a.instance_type)),
        fleet_type: Some(Expr::from(a.fleet_type.as_cfn())),
        compute_capacity: if elastic {
            None
        } else {
            Some(Expr::map([(
                "DesiredInstances",
                Expr::from(a.desired_instances.unwrap_or(DEFAULT_DESIRED_INSTANCES)),
            )]))
        },
        max_concurrent_sessions: if elastic { a.max_concurrent_sessions.map(i64::from) } else { None },
        platform: if elastic { Some(Expr::from(ELASTIC_PLATFORM)) } else { None },
        max_user_duration_in_seconds: Some(secs(a.max_session_duration.as_secs())),
        disconnect_timeout_in_seconds: Some(secs(a.disconnect_timeout.as_secs())),
        idle_disconnect_timeout_in_seconds: Some(secs(a.idle_disconnect_timeout.as_secs())),
        stream_view: Some(Expr::from(a.stream_view.as_cfn())),
        vpc_config: Some(Expr::map([
            ("SecurityGroupIds", Expr::List(vec![Expr::get_att(&sg, "GroupId")])),
            ("SubnetIds", subnets),
        ])),
        iam_role_arn: Some(Expr::get_att(&role, "Arn")),
        enable_default_internet_access: Some(false),
        disable_imdsv1: Some(true),
        tags: Some(ctx.tags()),
    };
    let mut fleet_resource = Resource::new(&fleet).depends_on(&service_roles);
    if a.fleet_type != FleetType::Elastic {
        fleet_resource.creation_policy = Some(Expr::map([("StartFleet", Expr::Bool(true))]));
    }
    let fleet_id = p.add_resource("Fleet", fleet_resource)?;

    let user_settings: Vec<Expr> = a
        .user_settings
        .actions()
        .iter()
        .map(|(action, perm)| Expr::map([("Action", Expr::from(*action)), ("Permission", Expr::from(perm.as_cfn()))]))
        .collect();
    let access_endpoints = if b.network.private_streaming.is_some() {
        let endpoint = p.import(ctx, Part::Network, "StreamingEndpointId")?;
        Some(Expr::List(vec![Expr::map([("EndpointType", Expr::from("STREAMING")), ("VpceId", endpoint)])]))
    } else {
        None
    };
    // Home folders need AppStream's service role: AppStream creates the home-folder bucket with it.
    // The AppStream stack keeps a fixed name: users' streaming URLs and the SAML relay state
    // configured in the identity provider name it. It cannot be replaced (its name is its only
    // create-only property) and is deleted with the stack, so the name blocks neither a
    // replacement nor a new deployment after `sandboxc destroy`.
    let stack = p.add_resource(
        "AppStreamStack",
        Resource::new(&AppStreamStack {
            name: Some(Expr::from(&ctx.names.appstream_stack)),
            description: Some(Expr::from(format!(
                "sandboxc {env}: home folders; clipboard, file transfer and printing as the blueprint says"
            ))),
            storage_connectors: Some(Expr::List(vec![Expr::map([("ConnectorType", Expr::from("HOMEFOLDERS"))])])),
            user_settings: Some(Expr::List(user_settings)),
            access_endpoints,
            application_settings: Some(Expr::map([("Enabled", Expr::Bool(false))])),
            tags: Some(ctx.tags()),
        })
        .depends_on(&service_roles),
    )?;
    // The Refs to both make CloudFormation create the association after the fleet and the
    // stack, and delete it before them (deleting a stack with an associated fleet fails).
    p.add(
        "StackFleetAssociation",
        &StackFleetAssociation { fleet_name: Some(Expr::from(&fleet_id)), stack_name: Some(Expr::from(&stack)) },
    )?;

    p.export(ctx, "FleetName", Expr::from(&fleet_id), false, "Name of the AppStream fleet")?;
    p.export(ctx, "AppStreamStackName", Expr::from(&stack), false, "Name of the AppStream stack")?;
    p.export(
        ctx,
        "FleetSecurityGroupId",
        Expr::get_att(&sg, "GroupId"),
        false,
        "Security group of the streaming instances",
    )?;
    p.user_output(outputs::FLEET_NAME, "AppStream fleet", Expr::from(&fleet_id));
    p.user_output(outputs::APPSTREAM_STACK_NAME, "AppStream stack", Expr::from(&stack));
    p.user_output(
        outputs::STREAMING_URL_COMMAND,
        "Creates a streaming URL for a user (streaming-URL access)",
        Expr::sub_with(
            "aws appstream create-streaming-url --stack-name ${Stack} --fleet-name ${Fleet} --user-id USER --region ${AWS::Region}",
            [("Stack", Expr::from(&stack)), ("Fleet", Expr::from(&fleet_id))],
        ),
    );
    Ok(p)
}

fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}
