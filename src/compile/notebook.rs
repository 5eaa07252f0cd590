//! Notebook: what the sandbox's notebooks share, and the per-user resources' builders. This
//! part holds the notebook volumes' KMS key and the notebooks' security group (443 from the
//! AppStream fleet's group only), and in `shared` mode one role with the union of the grants
//! and one notebook for everyone. Per user ([`super::users`], in the users shards): an
//! execution role (under `users::role_path`, reaching exactly the user's grants and personal
//! prefix), a SageMaker notebook instance (no internet, no root, IMDSv2, KMS volume) in
//! `per_user` mode, and an allow-list entry (the SSM parameter the validator reads before it
//! issues a URL). With `notebook.idle_stop` (not 0), one OnStart lifecycle configuration in this
//! part (its name exported to the users shards) attached to every notebook installs an idle
//! check that stops the notebook (`crate::assets::scripts::idle_stop`), and each notebook's role
//! may stop (and describe) its own notebook and no other.
//!
//! Logical IDs of a user's resources derive from the user ID only
//! (`User<Readable><first 8 hex of the hash><Role|Notebook|AllowList>`), so adding or removing a
//! user never renames another user's resources.

use std::collections::{BTreeMap, BTreeSet};

use sandboxc_contract::stack::outputs;
use sandboxc_contract::users::shared_notebook_name;
use sandboxc_contract::users::{allow_list_parameter, readable, shared_role_path, users_role_path, AllowListEntry};
use sandboxc_contract::validator::NotebookMode;

use crate::blueprint::{Access, DatasetBucket, Grant, User};
use crate::cfn::policy::{account_root, service, PolicyDocument, Statement};
use crate::cfn::resources::{
    NotebookInstance, NotebookInstanceLifecycleConfig, Role, SecurityGroupIngress, SsmParameter,
};
use crate::cfn::{Expr, LogicalId, Policy, Pseudo, Resource, ToExpr};

use super::common::{arn, https_out_group, kms_key, partitioned};
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

/// The S3 actions of a `read` grant on objects.
pub const READ_OBJECT_ACTIONS: [&str; 1] = ["s3:GetObject"];
/// The S3 actions a `read-write` grant (and the personal prefix) adds on objects.
pub const WRITE_OBJECT_ACTIONS: [&str; 4] =
    ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:ListMultipartUploadParts", "s3:PutObject"];
/// What the notebook roles may do with a bucket's KMS key, through S3 only.
pub const DATA_KEY_ACTIONS: [&str; 2] = ["kms:Decrypt", "kms:GenerateDataKey"];
/// What the notebook roles may do with the notebook volumes' key.
pub const NOTEBOOK_KEY_ACTIONS: [&str; 5] =
    ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"];
/// The log group SageMaker writes notebook instance logs to (SageMaker developer guide, "Log
/// Amazon SageMaker AI events with Amazon CloudWatch"); streams start with the instance name.
pub const NOTEBOOK_LOG_GROUP: &str = "/aws/sagemaker/NotebookInstances";

/// What a notebook's role may do with its own notebook instance when idle stop is on: the idle
/// check describes and stops it (SageMaker `DescribeNotebookInstance`, `StopNotebookInstance`).
pub const IDLE_STOP_ACTIONS: [&str; 2] = ["sagemaker:DescribeNotebookInstance", "sagemaker:StopNotebookInstance"];
/// The Metadata key of a notebook with idle stop: its idle time in seconds, an integer
/// (`sandboxc cost` reads it). Not under `sandboxc`, which holds written reasons only.
pub const IDLE_STOP_METADATA: &str = "sandboxc-idle-stop-seconds";

/// The weaker posture of shared mode, in the templates' descriptions.
pub const SHARED_POSTURE: &str =
    "shared notebook mode: every listed user gets the same notebook and role, the weaker posture";

/// The logical ID prefix of a user's resources: `User<Readable><hash8>`, such as
/// `UserAliceExampleOrg2bd806c9`.
#[must_use]
pub fn user_id_prefix(user_id: &str) -> String {
    let camel: String = readable(user_id)
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    format!("User{camel}{}", &sandboxc_contract::users::user_hash(user_id)[..8])
}

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let b = ctx.blueprint;
    let env = ctx.names.env.clone();
    let shared = b.notebook.mode == NotebookMode::Shared;
    let description = if shared {
        format!("sandboxc data sandbox {env}: SageMaker notebook instance ({SHARED_POSTURE})")
    } else {
        format!(
            "sandboxc data sandbox {env}: the notebook instances' volume key and security group (each user's notebook, role and allow-list entry are in a users shard)"
        )
    };
    let mut p = PartBuilder::new(Part::Notebook, &description);
    let vpc = p.import(ctx, Part::Network, "VpcId")?;
    let fleet_sg = p.import(ctx, Part::AppStream, "FleetSecurityGroupId")?;

    // The roles are named by path, not by ARN: the key policy never depends on a role.
    let roles_path = if shared { shared_role_path(&env) } else { users_role_path(&env) };
    let key = kms_key(
        &mut p,
        ctx,
        "NotebookKey",
        "notebook",
        "encrypts the notebook instances' volumes",
        vec![Statement::allow("NotebookRolesUseKey", &NOTEBOOK_KEY_ACTIONS, vec![Expr::from("*")])
            .principal(account_root())
            .when(
                "ArnLike",
                "aws:PrincipalArn",
                Expr::sub(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{roles_path}*")),
            )],
    )?;
    let key_arn = Expr::get_att(&key, "Arn");
    let sg =
        https_out_group(&mut p, ctx, vpc, "notebook instances (HTTPS in from the AppStream fleet only)", "notebook");
    let sg = p.add("NotebookSecurityGroup", &sg)?;
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
    if !shared && b.users.is_empty() {
        // No notebook yet: the key and the group wait for the first user.
        return Ok(p);
    }
    let idle = b.notebook.idle_stop;
    let lifecycle = if idle.as_secs() > 0 {
        let script = crate::assets::scripts::idle_stop(&env, idle).map_err(CompileError::Internal)?;
        let content = Expr::Intrinsic("Fn::Base64".into(), Box::new(Expr::from(script)));
        let config = p.add(
            "NotebookIdleStop",
            &NotebookInstanceLifecycleConfig { on_start: Some(Expr::List(vec![Expr::map([("Content", content)])])) },
        )?;
        Some(Expr::get_att(&config, "NotebookInstanceLifecycleConfigName"))
    } else {
        None
    };
    p.export(ctx, "NotebookKeyArn", key_arn.clone(), false, "ARN of the KMS key of the notebook volumes")?;
    p.export(
        ctx,
        "NotebookSecurityGroupId",
        Expr::get_att(&sg, "GroupId"),
        false,
        "ID of the notebook instances' security group",
    )?;
    if !shared {
        if let Some(config) = lifecycle {
            p.export(
                ctx,
                "NotebookIdleStopConfigName",
                config,
                false,
                "Name of the notebook instances' idle-stop lifecycle configuration",
            )?;
        }
        // The users' notebooks, roles and allow-list entries live in the users shards.
        return Ok(p);
    }
    let env_ = Env {
        idle_stop: lifecycle.map(|l| (l, idle.as_secs())),
        data_bucket: p.import(ctx, Part::Storage, "DataBucketArn")?,
        data_key: p.import(ctx, Part::Storage, "DataKeyArn")?,
        s3_endpoint: p.import(ctx, Part::Network, "S3EndpointId")?,
        notebook_key: key_arn,
        subnets: p.import(ctx, Part::Network, "SubnetIds")?,
        sg: Expr::get_att(&sg, "GroupId"),
    };
    let grants = union(&b.users);
    let name = shared_notebook_name(&ctx.names.env, &ctx.blueprint.network.generation);
    let role = role(&mut p, ctx, &env_, "NotebookRole", &shared_role_path(&env), &grants, None, &name, None)?;
    let notebook = notebook(
        &mut p,
        &env_,
        "Notebook",
        &name,
        &b.notebook.instance_type,
        b.notebook.volume_size_gb,
        &role,
        ctx.tags(),
    )?;
    p.export(
        ctx,
        "NotebookName",
        Expr::get_att(&notebook, "NotebookInstanceName"),
        false,
        "Name of the shared notebook instance",
    )?;
    p.user_output(
        outputs::NOTEBOOK_NAME,
        "SageMaker notebook instance shared by every user (no internet, no root access)",
        Expr::get_att(&notebook, "NotebookInstanceName"),
    );
    Ok(p)
}

/// What every notebook and role of the part refers to.
pub(super) struct Env {
    /// The name of the idle-stop lifecycle configuration and the idle time in seconds, when
    /// idle stop is on.
    pub idle_stop: Option<(Expr, u64)>,
    pub data_bucket: Expr,
    pub data_key: Expr,
    pub s3_endpoint: Expr,
    pub notebook_key: Expr,
    pub subnets: Expr,
    pub sg: Expr,
}

/// The union of every user's grants: per dataset, the widest access (shared mode's one role).
fn union(users: &[User]) -> Vec<Grant> {
    let mut by_name: BTreeMap<String, Grant> = BTreeMap::new();
    for g in users.iter().flat_map(|u| &u.grants) {
        by_name
            .entry(g.dataset.name.clone())
            .and_modify(|e| e.access = e.access.max(g.access))
            .or_insert_with(|| g.clone());
    }
    by_name.into_values().collect()
}

/// A notebook execution role: trusted by SageMaker for this account only, at `path`, with the
/// S3 and KMS statements of `grants` (and the personal prefix), the notebook key, and the logs of
/// its own notebook.
#[allow(clippy::too_many_arguments)]
pub(super) fn role(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    env: &Env,
    id: &str,
    path: &str,
    grants: &[Grant],
    personal: Option<&str>,
    notebook_name: &str,
    user: Option<&str>,
) -> Result<LogicalId, CompileError> {
    let trust = PolicyDocument::new(vec![Statement::allow("TrustSageMaker", &["sts:AssumeRole"], vec![])
        .principal(service("sagemaker.amazonaws.com"))
        .when("StringEquals", "aws:SourceAccount", Expr::pseudo(Pseudo::AccountId))]);
    let mut statements = data_statements(env, grants, personal);
    statements.push(Statement::allow("UseNotebookKey", &NOTEBOOK_KEY_ACTIONS, vec![env.notebook_key.clone()]));
    statements.push(Statement::allow(
        "WriteOwnNotebookLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![arn("logs", &format!("log-group:{NOTEBOOK_LOG_GROUP}:log-stream:{notebook_name}/*"))],
    ));
    statements.push(Statement::allow(
        "FindNotebookLogGroup",
        &["logs:CreateLogGroup", "logs:DescribeLogStreams"],
        vec![arn("logs", &format!("log-group:{NOTEBOOK_LOG_GROUP}:*"))],
    ));
    if env.idle_stop.is_some() {
        // The idle check stops its own notebook, and no other (SageMaker notebook instance ARNs
        // end with the instance's name in lower case; sandboxc's names are lower case).
        statements.push(Statement::allow(
            "StopOwnNotebookWhenIdle",
            &IDLE_STOP_ACTIONS,
            vec![arn("sagemaker", &format!("notebook-instance/{notebook_name}"))],
        ));
    }
    let description = match user {
        Some(u) => format!(
            "Notebook role of {u} in sandbox {}: exactly the user's datasets and personal prefix",
            ctx.names.env
        ),
        None => {
            format!("Role of the notebook instance {notebook_name} shared by every user of sandbox {}", ctx.names.env)
        }
    };
    p.add_owned(
        id,
        Role {
            description: Some(Expr::from(description)),
            path: Some(Expr::from(path)),
            assume_role_policy_document: Some(trust),
            policies: Some(vec![Expr::map([
                ("PolicyName", Expr::from("sandbox-data")),
                ("PolicyDocument", PolicyDocument::new(statements).to_expr()),
            ])]),
            tags: Some(user.map_or_else(|| ctx.tags(), |u| ctx.user_tags(u))),
            ..Role::default()
        },
    )
}

/// One bucket's grants while building a role's statements.
#[derive(Default)]
struct BucketGrants {
    /// The bucket ARN.
    arn: Option<Expr>,
    /// Prefixes readable (read or read-write).
    read: BTreeSet<String>,
    /// Prefixes writable.
    write: BTreeSet<String>,
    /// The bucket's KMS key, if any.
    key: Option<Expr>,
}

/// The S3 and KMS statements of `grants` plus the personal prefix (read-write in the data
/// bucket): per bucket one `ListBucket` with an `s3:prefix` condition naming exactly the
/// prefixes, one statement reading and one writing exactly the prefixes' objects, every one
/// only through the sandbox's S3 gateway endpoint; each bucket key only through S3.
fn data_statements(env: &Env, grants: &[Grant], personal: Option<&str>) -> Vec<Statement> {
    // Key: "" for the data bucket (first), else the existing bucket's name.
    let mut buckets: BTreeMap<String, BucketGrants> = BTreeMap::new();
    let data = buckets.entry(String::new()).or_default();
    data.arn = Some(env.data_bucket.clone());
    data.key = Some(env.data_key.clone());
    if let Some(prefix) = personal {
        data.read.insert(prefix.to_string());
        data.write.insert(prefix.to_string());
    }
    for g in grants {
        let entry = match &g.dataset.bucket {
            DatasetBucket::Data => buckets.entry(String::new()).or_default(),
            DatasetBucket::Existing(e) => {
                let entry = buckets.entry(e.name.clone()).or_default();
                entry.arn = Some(partitioned(&e.arn, ""));
                entry.key = e.kms_key_arn.as_deref().map(|k| partitioned(k, ""));
                entry
            }
        };
        entry.read.insert(g.dataset.prefix.clone());
        if g.access == Access::ReadWrite {
            entry.write.insert(g.dataset.prefix.clone());
        }
    }
    let vpce = Expr::List(vec![env.s3_endpoint.clone()]);
    let object = |bucket: &Expr, prefix: &str| Expr::suffixed(bucket, &format!("/{prefix}*"));
    let mut list = Vec::new();
    let mut read = Vec::new();
    let mut write = Vec::new();
    let mut keys: Vec<Statement> = Vec::new();
    let mut sids = BTreeSet::new();
    for (name, g) in &buckets {
        let Some(bucket) = &g.arn else { continue };
        if g.read.is_empty() {
            continue;
        }
        let title = if name.is_empty() { "DataBucket".to_string() } else { unique(&mut sids, &camel(name)) };
        let prefixes: Vec<Expr> = g.read.iter().map(|p| Expr::from(format!("{p}*"))).collect();
        list.push(
            Statement::allow(&format!("List{title}"), &["s3:ListBucket"], vec![bucket.clone()])
                .when("StringLike", "s3:prefix", Expr::List(prefixes))
                .when("StringEquals", "aws:SourceVpce", vpce.clone()),
        );
        read.extend(g.read.iter().map(|p| object(bucket, p)));
        write.extend(g.write.iter().map(|p| object(bucket, p)));
        if let Some(key) = &g.key {
            let actions: &[&str] = if g.write.is_empty() { &DATA_KEY_ACTIONS[..1] } else { &DATA_KEY_ACTIONS };
            keys.push(Statement::allow(&format!("Use{title}Key"), actions, vec![key.clone()]).when(
                "StringEquals",
                "kms:ViaService",
                Expr::sub("s3.${AWS::Region}.amazonaws.com"),
            ));
        }
    }
    let mut out = list;
    if !read.is_empty() {
        out.push(Statement::allow("ReadObjects", &READ_OBJECT_ACTIONS, read).when(
            "StringEquals",
            "aws:SourceVpce",
            vpce.clone(),
        ));
    }
    if !write.is_empty() {
        out.push(Statement::allow("WriteObjects", &WRITE_OBJECT_ACTIONS, write).when(
            "StringEquals",
            "aws:SourceVpce",
            vpce,
        ));
    }
    out.extend(keys);
    out
}

/// `corp-claims` -> `CorpClaims`.
fn camel(name: &str) -> String {
    name.split(['-', '.'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// `title`, or `title<n>` when taken.
fn unique(taken: &mut BTreeSet<String>, title: &str) -> String {
    let mut t = format!("Bucket{title}");
    let mut n = 2;
    while !taken.insert(t.clone()) {
        t = format!("Bucket{title}{n}");
        n += 1;
    }
    t
}

/// A notebook instance with today's hardening.
#[allow(clippy::too_many_arguments)]
pub(super) fn notebook(
    p: &mut PartBuilder,
    env: &Env,
    id: &str,
    name: &str,
    instance_type: &str,
    volume_size_gb: u32,
    role: &LogicalId,
    tags: Expr,
) -> Result<LogicalId, CompileError> {
    let mut resource = Resource::from_properties(NotebookInstance {
        notebook_instance_name: Some(Expr::from(name)),
        instance_type: Some(Expr::from(instance_type)),
        volume_size_in_gb: Some(i64::from(volume_size_gb)),
        kms_key_id: Some(env.notebook_key.clone()),
        role_arn: Some(Expr::get_att(role, "Arn")),
        subnet_id: Some(Expr::select(0, env.subnets.clone())),
        security_group_ids: Some(Expr::List(vec![env.sg.clone()])),
        direct_internet_access: Some(Expr::from("Disabled")),
        root_access: Some(Expr::from("Disabled")),
        instance_metadata_service_configuration: Some(Expr::map([(
            "MinimumInstanceMetadataServiceVersion",
            Expr::from("2"),
        )])),
        lifecycle_config_name: env.idle_stop.as_ref().map(|(config, _)| config.clone()),
        tags: Some(tags),
    })
    .with_policies(Policy::Retain, Policy::Delete);
    if let Some((_, seconds)) = &env.idle_stop {
        resource.metadata.insert(IDLE_STOP_METADATA.into(), Expr::Int(i64::try_from(*seconds).unwrap_or(i64::MAX)));
    }
    p.add_resource(id, resource)
}

/// A user's allow-list entry: the SSM parameter the validator reads for the proven user; it
/// exists exactly while the user is in the deployed blueprint.
pub(super) fn allow_list(
    p: &mut PartBuilder,
    ctx: &Ctx<'_>,
    user: &User,
    notebook: &str,
) -> Result<LogicalId, CompileError> {
    let entry = AllowListEntry {
        user_id: user.id.clone(),
        authentication: user.authentication,
        notebook: notebook.to_string(),
    };
    let value = serde_json::to_string(&entry).map_err(|e| CompileError::Internal(e.to_string()))?;
    p.add_owned(
        &format!("{}AllowList", user_id_prefix(&user.id)),
        SsmParameter {
            name: Some(Expr::from(allow_list_parameter(&ctx.names.env, &user.id))),
            description: Some(Expr::from(format!(
                "Allow-list entry of a user of sandbox {}: the validator issues notebook URLs only while it exists",
                ctx.names.env
            ))),
            r#type: Some(Expr::from("String")),
            tier: Some(Expr::from("Standard")),
            value: Some(Expr::from(value)),
            tags: Some(ctx.user_tag_map(&user.id)),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_derive_from_the_user_only() {
        let hash = sandboxc_contract::users::user_hash("alice@example.org");
        assert_eq!(user_id_prefix("alice@example.org"), format!("UserAliceExampleOr{}", &hash[..8]));
        assert!(user_id_prefix("__").starts_with("UserU"));
        assert!(user_id_prefix("Jörg Müller").chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(camel("corp-claims.v2"), "CorpClaimsV2");
    }
}
