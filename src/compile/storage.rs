//! Storage: the data bucket (KMS, versioned, private, owner-enforced, retained), its key (usable
//! only through S3 in this account, by the sandbox's notebook roles and the admin principals),
//! and the SSM parameters the AppStream instances read (bucket name, notebook script). The
//! bucket's policy (TLS only, the S3 gateway endpoint only) is in the network part, beside the
//! endpoint it names.

use sandboxc_contract::stack::outputs;
use sandboxc_contract::users::{shared_role_path, users_role_path};
use sandboxc_contract::validator::NotebookMode;

use crate::cfn::policy::{account_root, Statement};
use crate::cfn::resources::SsmParameter;
use crate::cfn::{Expr, Resource};

use super::common::{administered_kms_key, bucket_arn, private_bucket};
use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

/// SSM Standard parameters hold at most 4 KB; larger values need the Advanced tier (SSM user guide).
pub const STANDARD_PARAMETER_LIMIT: usize = 4096;

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<PartBuilder, CompileError> {
    let mut p = PartBuilder::new(
        Part::Storage,
        &format!("sandboxc data sandbox {}: data bucket, its key and SSM parameters", ctx.names.env),
    );
    let key =
        administered_kms_key(&mut p, ctx, "DataKey", "data", "encrypts the data bucket", vec![data_key_use(ctx)])?;
    let key_arn = Expr::get_att(&key, "Arn");
    let bucket = p.add_resource(
        "DataBucket",
        Resource::new(&private_bucket(ctx, &key_arn, ctx.blueprint.storage.bucket_name.as_ref().map(Expr::from)))
            .retain()
            .skip_checkov(
                "CKV_AWS_18",
                if ctx.blueprint.audit.cloudtrail {
                    "object-level access is recorded by the sandbox trail's S3 data events (audit part)"
                } else {
                    "the blueprint turns auditing off (audit.cloudtrail: false): no access is recorded"
                },
            ),
    )?;
    let bucket_ref = Expr::from(&bucket);
    let env = &ctx.names.env;
    // The parameters keep fixed names: the launcher baked into the AppStream image reads the
    // notebook script by name, and people in a session read the data bucket's name. A
    // parameter's only create-only property is its name, and it is deleted with the stack, so
    // the names block neither a replacement nor a new deployment after `sandboxc destroy`.
    p.add(
        "DataBucketParameter",
        &SsmParameter {
            name: Some(Expr::from(&ctx.names.data_bucket_parameter)),
            description: Some(Expr::from(format!("Name of the data bucket of sandbox {env}"))),
            r#type: Some(Expr::from("String")),
            value: Some(bucket_ref.clone()),
            tags: Some(ctx.tag_map()),
            ..SsmParameter::default()
        },
    )?;
    let script = ctx.notebook_script.clone();
    let tier = if script.len() > STANDARD_PARAMETER_LIMIT { "Advanced" } else { "Standard" };
    p.add(
        "NotebookScriptParameter",
        &SsmParameter {
            name: Some(Expr::from(&ctx.names.notebook_script_parameter)),
            description: Some(Expr::from(format!("Notebook script run by the AppStream launcher of sandbox {env}"))),
            r#type: Some(Expr::from("String")),
            tier: Some(Expr::from(tier)),
            value: Some(Expr::from(script)),
            tags: Some(ctx.tag_map()),
        },
    )?;
    p.export(ctx, "DataBucketArn", bucket_arn(&bucket_ref, ""), false, "ARN of the data bucket")?;
    p.export(ctx, "DataBucketName", bucket_ref.clone(), false, "Name of the data bucket")?;
    p.export(ctx, "DataKeyArn", key_arn, false, "ARN of the data bucket's KMS key")?;
    p.user_output(
        outputs::DATA_BUCKET_NAME,
        "The data bucket (KMS-encrypted, versioned, TLS-only, retained)",
        bucket_ref,
    );
    p.user_output(
        outputs::NOTEBOOK_SCRIPT_PARAMETER,
        "SSM parameter holding the notebook script the launcher runs",
        Expr::from(&ctx.names.notebook_script_parameter),
    );
    Ok(p)
}

/// The ARN patterns (`aws:PrincipalArn`, `ArnLike`) of the principals that may use the data:
/// the notebook roles of the sandbox's mode (under `users_role_path` or `shared_role_path`),
/// then the admin principals.
pub(super) fn data_principals(ctx: &Ctx<'_>) -> Vec<Expr> {
    let path = match ctx.blueprint.notebook.mode {
        NotebookMode::PerUser => users_role_path(&ctx.names.env),
        NotebookMode::Shared => shared_role_path(&ctx.names.env),
    };
    let mut out = vec![Expr::sub(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role{path}*"))];
    out.extend(ctx.blueprint.storage.admin_principals.iter().map(Expr::from));
    out
}

/// The data key's one use grant: the notebook roles and the admin principals, only through S3
/// in this Region (`kms:ViaService`) and this account (`kms:CallerAccount`). The principal is
/// the account, narrowed by `aws:PrincipalArn`: the roles' own policies must allow the key
/// too, and a role that does not exist yet is no error (KMS refuses key policies naming
/// principals that do not exist).
fn data_key_use(ctx: &Ctx<'_>) -> Statement {
    Statement::allow(
        "SandboxRolesUseKeyThroughS3",
        &["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
        vec![Expr::from("*")],
    )
    .principal(account_root())
    .when("ArnLike", "aws:PrincipalArn", Expr::List(data_principals(ctx)))
    .when("StringEquals", "kms:CallerAccount", Expr::pseudo(crate::cfn::Pseudo::AccountId))
    .when("StringEquals", "kms:ViaService", Expr::sub("s3.${AWS::Region}.amazonaws.com"))
}

#[cfg(test)]
mod tests {
    use crate::assets::LambdaAsset;
    use crate::blueprint::{load, Source};
    use crate::cfn::render::Format;

    #[test]
    fn the_notebook_script_fits_the_standard_tier() {
        let b = load(&Source::embedded()).unwrap_or_else(|d| panic!("{d}"));
        let c = super::super::compile(&b, &LambdaAsset { identity: "0".repeat(64) }, Format::Json)
            .unwrap_or_else(|e| panic!("{e}"));
        let storage = c
            .templates
            .iter()
            .find(|t| t.file.ends_with("-storage.template.json"))
            .map(|t| t.template.to_value())
            .unwrap_or_default();
        let param = &storage["Resources"]["NotebookScriptParameter"]["Properties"];
        assert!(param["Value"].as_str().unwrap_or_default().len() <= super::STANDARD_PARAMETER_LIMIT);
        assert_eq!(param["Tier"], "Standard");
    }
}
