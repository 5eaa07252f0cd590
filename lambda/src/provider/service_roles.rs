//! `Custom::AppStreamServiceRoles`: the two IAM service roles AppStream needs, created only
//! when missing and never deleted.
//!
//! AppStream creates `AmazonAppStreamServiceAccess` (trusted by `appstream.amazonaws.com`)
//! and `ApplicationAutoScalingForAmazonAppStreamAccess` (trusted by
//! `application-autoscaling.amazonaws.com`) under the path `/service-role/` the first time
//! it is used in an account, each with the AWS managed policy of the same name under
//! `arn:<partition>:iam::aws:policy/service-role/`; a fixed-name `AWS::IAM::Role` would fail
//! when they already exist. Source: AppStream 2.0 administration guide, "AppStream 2.0
//! service roles" (docs/aws-facts.md, "Service roles and usage reports").
//!
//! `Create` and `Update`: `GetRole` each; a role that exists is left exactly as it is; a
//! missing one is created (`CreateRole`, then `AttachRolePolicy`). `Delete`: nothing (other
//! stacks and AppStream itself rely on the roles).

use aws_sdk_iam::error::ProvideErrorMetadata;

use super::{partition_of, Outcome};
use crate::custom_resource::Request;

/// `(role name, trusted service principal)`, in creation order.
pub const SERVICE_ROLES: [(&str, &str); 2] = [
    ("AmazonAppStreamServiceAccess", "appstream.amazonaws.com"),
    ("ApplicationAutoScalingForAmazonAppStreamAccess", "application-autoscaling.amazonaws.com"),
];

/// The roles' IAM path.
pub const SERVICE_ROLE_PATH: &str = "/service-role/";

/// The trust policy of a service role: `sts:AssumeRole` for `service`.
pub fn trust_policy(service: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": service},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// `arn:<partition>:iam::aws:policy/service-role/<name>`.
pub fn managed_policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/service-role/{name}")
}

/// Handles one request; see the module docs.
pub async fn handle(iam: &aws_sdk_iam::Client, request: &Request) -> Outcome {
    if matches!(request, Request::Delete(_)) {
        return Ok(None);
    }
    let partition = partition_of(&request.common().stack_id);
    for (name, service) in SERVICE_ROLES {
        ensure_role(iam, partition, name, service).await?;
    }
    Ok(None)
}

async fn ensure_role(iam: &aws_sdk_iam::Client, partition: &str, name: &str, service: &str) -> Result<(), String> {
    match iam.get_role().role_name(name).send().await {
        Ok(_) => return Ok(()),
        Err(e)
            if e.code() == Some("NoSuchEntity")
                || e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => {}
        Err(e) => return Err(format!("GetRole {name} failed: {}", crate::validate::sdk_detail(&e))),
    }
    let created = iam
        .create_role()
        .role_name(name)
        .path(SERVICE_ROLE_PATH)
        .assume_role_policy_document(trust_policy(service))
        .description(format!("AppStream 2.0 service role, created by sandboxc (trusted by {service})"))
        .send()
        .await;
    match created {
        Ok(_) => {}
        // Created meanwhile (by AppStream or a parallel stack): leave it as it is.
        Err(e)
            if e.code() == Some("EntityAlreadyExists")
                || e.as_service_error().is_some_and(|s| s.is_entity_already_exists_exception()) =>
        {
            return Ok(())
        }
        Err(e) => return Err(format!("CreateRole {name} failed: {}", crate::validate::sdk_detail(&e))),
    }
    iam.attach_role_policy()
        .role_name(name)
        .policy_arn(managed_policy_arn(partition, name))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "AttachRolePolicy {} to {name} failed: {}",
                managed_policy_arn(partition, name),
                crate::validate::sdk_detail(&e)
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_and_trust() {
        assert_eq!(
            managed_policy_arn("aws-cn", "AmazonAppStreamServiceAccess"),
            "arn:aws-cn:iam::aws:policy/service-role/AmazonAppStreamServiceAccess"
        );
        let trust: serde_json::Value =
            serde_json::from_str(&trust_policy("appstream.amazonaws.com")).unwrap_or_default();
        assert_eq!(trust["Statement"][0]["Principal"]["Service"], "appstream.amazonaws.com");
    }
}
