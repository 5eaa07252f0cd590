//! Notebook: the SageMaker notebook instance without internet or root access, its KMS key
//! (rotation, root administration, usage by the notebook role), its role and its security
//! group (443 from the AppStream fleet's group only).

use sandboxc_contract::stack::outputs;

use crate::cfn::policy::{aws, trust, PolicyDocument, Statement};
use crate::cfn::resources::{IamPolicy, NotebookInstance, Role, SecurityGroupIngress};
use crate::cfn::{Expr, Policy, Resource};

use super::common::{https_out_group, kms_key};
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let b = ctx.blueprint;
    let env = ctx.names.env.clone();
    let mut p = PartBuilder::new(Part::Notebook, &format!("sandboxc data sandbox {env}: SageMaker notebook instance"));
    let vpc = p.import(ctx, Part::Network, "VpcId")?;
    let subnets = p.import(ctx, Part::Network, "SubnetIds")?;
    let fleet_sg = p.import(ctx, Part::AppStream, "FleetSecurityGroupId")?;
    let data_bucket = p.import(ctx, Part::Storage, "DataBucketArn")?;
    let data_key = p.import(ctx, Part::Storage, "DataKeyArn")?;

    let role = p.add(
        "NotebookRole",
        &Role {
            description: Some(Expr::from(format!("Role of the notebook instance of sandbox {env}"))),
            assume_role_policy_document: Some(trust("sagemaker.amazonaws.com")),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;
    let key = kms_key(
        &mut p,
        ctx,
        "NotebookKey",
        "notebook",
        "encrypts the notebook instance's volume",
        vec![Statement::allow(
            "NotebookRoleUsesKey",
            &["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            vec![Expr::from("*")],
        )
        .principal(aws(Expr::get_att(&role, "Arn")))],
    )?;
    // A policy of its own: the key's policy names the role, so the role cannot name the key.
    let policy = p.add(
        "NotebookRolePolicy",
        &IamPolicy {
            policy_name: Some(Expr::from("sandbox-data")),
            policy_document: Some(PolicyDocument::new(vec![
                Statement::allow("ListDataBucket", &["s3:ListBucket"], vec![data_bucket.clone()]),
                Statement::allow(
                    "ReadWriteData",
                    &["s3:GetObject", "s3:PutObject"],
                    vec![Expr::suffixed(&data_bucket, "/*")],
                ),
                Statement::allow("UseDataKey", &["kms:Decrypt", "kms:GenerateDataKey"], vec![data_key]),
                Statement::allow(
                    "UseNotebookKey",
                    &["kms:Decrypt", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                    vec![Expr::get_att(&key, "Arn")],
                ),
            ])),
            roles: Some(vec![Expr::from(&role)]),
        },
    )?;
    let sg = p.add(
        "NotebookSecurityGroup",
        &https_out_group(ctx, vpc, "notebook instance (HTTPS in from the AppStream fleet only)", "notebook"),
    )?;
    // A rule of its own, naming the fleet's group from another part.
    p.add(
        "NotebookIngressFromFleet",
        &SecurityGroupIngress {
            group_id: Some(Expr::get_att(&sg, "GroupId")),
            description: Some(Expr::from("HTTPS from the AppStream streaming instances")),
            ip_protocol: Some(Expr::from("tcp")),
            from_port: Some(443),
            to_port: Some(443),
            source_security_group_id: Some(fleet_sg),
        },
    )?;
    // No fixed name: a new subnet or security group (a new VPC) replaces the instance, and
    // CloudFormation can only replace it under a new name. The name is generated and passed on
    // by `Fn::GetAtt` (the validator's environment, the outputs).
    let mut notebook = Resource::new(&NotebookInstance {
        notebook_instance_name: None,
        instance_type: Some(Expr::from(&b.notebook.instance_type)),
        volume_size_in_gb: Some(i64::from(b.notebook.volume_size_gb)),
        kms_key_id: Some(Expr::get_att(&key, "Arn")),
        role_arn: Some(Expr::get_att(&role, "Arn")),
        subnet_id: Some(Expr::select(0, subnets)),
        security_group_ids: Some(Expr::List(vec![Expr::get_att(&sg, "GroupId")])),
        direct_internet_access: Some(Expr::from("Disabled")),
        root_access: Some(Expr::from("Disabled")),
        instance_metadata_service_configuration: Some(Expr::map([(
            "MinimumInstanceMetadataServiceVersion",
            Expr::from("2"),
        )])),
        tags: Some(ctx.tags()),
    })
    // The instance must not start before its role may use the keys.
    .depends_on(&policy);
    // Retained when the stack is deleted: its volume holds the users' work. Deleted when it is
    // replaced (`--allow-data-loss`, after the plan's advice to copy the volume): a retained
    // old instance would keep its network interface in the old subnet and its old security
    // group, so CloudFormation could not remove a replaced network.
    notebook.deletion_policy = Some(Policy::Retain);
    notebook.update_replace_policy = Some(Policy::Delete);
    let notebook = p.add_resource("Notebook", notebook)?;
    p.export(
        ctx,
        "NotebookName",
        Expr::get_att(&notebook, "NotebookInstanceName"),
        false,
        "Name of the notebook instance",
    )?;
    p.user_output(
        outputs::NOTEBOOK_NAME,
        "SageMaker notebook instance (no internet, no root access)",
        Expr::get_att(&notebook, "NotebookInstanceName"),
    );
    Ok(p)
}
