//! Identity: the SAML federation role, only when the blueprint names an identity provider.
//! Users federated through it may stream from this AppStream stack only, as themselves.

use sandboxc_contract::stack::outputs;

use crate::cfn::policy::{PolicyDocument, Statement};
use crate::cfn::resources::Role;
use crate::cfn::{Expr, ToExpr};

use super::context::PartBuilder;
use super::{CompileError, Ctx, Part};

/// The audience AWS sign-in expects in SAML assertions (IAM user guide, SAML 2.0 federation).
pub const SAML_AUDIENCE: &str = "https://signin.aws.amazon.com/saml";

pub(super) fn build(ctx: &mut Ctx<'_>) -> Result<Option<PartBuilder>, CompileError> {
    let Some(saml) = ctx.blueprint.identity.saml.clone() else { return Ok(None) };
    let env = ctx.names.env.clone();
    let mut p = PartBuilder::new(Part::Identity, &format!("sandboxc data sandbox {env}: SAML federation role"));
    let stack = p.import(ctx, Part::AppStream, "AppStreamStackName")?;
    let provider =
        Expr::sub(format!("arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:saml-provider/{}", saml.idp_name));
    let trust =
        PolicyDocument::new(vec![Statement::allow("TrustIdentityProvider", &["sts:AssumeRoleWithSAML"], vec![])
            .principal(Expr::map([("Federated", provider)]))
            .when("StringEquals", "SAML:aud", Expr::from(SAML_AUDIENCE))]);
    let stream = PolicyDocument::new(vec![Statement::allow(
        "StreamFromThisStackAsYourself",
        &["appstream:Stream"],
        vec![Expr::sub_with(
            "arn:${AWS::Partition}:appstream:${AWS::Region}:${AWS::AccountId}:stack/${Stack}",
            [("Stack", stack.clone())],
        )],
    )
    // `${saml:sub}` is an IAM policy variable, not a CloudFormation one: written literally.
    .when("StringEquals", "appstream:userId", Expr::from("${saml:sub}"))]);
    // A fixed role name: the identity provider's Role attribute names this role's ARN, which
    // must survive a `sandboxc destroy` and a new deployment. It cannot be replaced (RoleName
    // and Path are its only create-only properties, and neither changes) and is deleted with
    // the stack, so the name blocks neither a replacement nor a new deployment.
    let role = p.add(
        "SamlRole",
        &Role {
            role_name: Some(Expr::from(&ctx.names.saml_role)),
            description: Some(Expr::from(format!(
                "SAML users of identity provider {} stream from sandbox {env}",
                saml.idp_name
            ))),
            assume_role_policy_document: Some(trust),
            policies: Some(vec![Expr::map([
                ("PolicyName", Expr::from("stream")),
                ("PolicyDocument", stream.to_expr()),
            ])]),
            tags: Some(ctx.tags()),
            ..Role::default()
        },
    )?;
    p.user_output(
        outputs::SAML_ROLE_ARN,
        "Role to map SAML users to (with the identity provider's ARN)",
        Expr::get_att(&role, "Arn"),
    );
    p.user_output(
        outputs::SAML_RELAY_STATE_URL,
        "Relay state URL for the identity provider's AppStream application",
        Expr::sub_with(
            "https://appstream2.${AWS::Region}.aws.amazon.com/saml?stack=${Stack}&accountId=${AWS::AccountId}",
            [("Stack", stack)],
        ),
    );
    Ok(Some(p))
}
