//! The CloudFormation custom resources of a sandbox: their types, properties and attributes.
//!
//! Produced by the compiler (the resources in the AppStream and validator templates, each
//! with the provider function's ARN as `ServiceToken`); CloudFormation passes `ResourceType`
//! and `ResourceProperties` to the provider Lambda, which dispatches on the type, reads the
//! properties, and answers the attributes (`Data`) that the templates read with
//! `Fn::GetAtt`. Source: CloudFormation user guide, "Custom resources" request and response
//! objects.

use serde::{Deserialize, Serialize};

/// `ResourceType` of the home-folder bucket's event dispatch: the provider turns the bucket's
/// EventBridge delivery on (keeping every other notification entry) and removes the validator's
/// own S3 -> Lambda entry of earlier versions (its `Id` is the resource's physical ID).
/// Properties: [`HomeFolderNotificationProperties`]; no attributes.
pub const HOME_FOLDER_NOTIFICATION: &str = "Custom::HomeFolderNotification";

/// The [`HOME_FOLDER_NOTIFICATION`] property that only earlier versions wrote (the validator,
/// target of their S3 -> Lambda entry): a plan that sees it removed tells that the sandbox moves
/// to EventBridge dispatch in that update.
pub const LEGACY_FUNCTION_ARN_PROPERTY: &str = "FunctionArn";

/// `ResourceType` of AppStream's two IAM service roles, created only when missing. Properties:
/// only `ServiceToken`; no attributes.
pub const APPSTREAM_SERVICE_ROLES: &str = "Custom::AppStreamServiceRoles";

/// `ResourceType` of the Region's AppStream usage-report subscription. Properties: only
/// `ServiceToken`; attribute [`USAGE_REPORT_BUCKET_ATTRIBUTE`].
pub const USAGE_REPORT_SUBSCRIPTION: &str = "Custom::UsageReportSubscription";

/// Every custom-resource type the provider serves.
pub const TYPES: [&str; 3] = [HOME_FOLDER_NOTIFICATION, APPSTREAM_SERVICE_ROLES, USAGE_REPORT_SUBSCRIPTION];

/// The [`USAGE_REPORT_SUBSCRIPTION`] attribute (`Fn::GetAtt`) holding the reports bucket's
/// name (`appstream-logs-<region>-<account>-<random>`, from AppStream
/// `CreateUsageReportSubscription`).
pub const USAGE_REPORT_BUCKET_ATTRIBUTE: &str = "S3BucketName";

/// `ResourceProperties` of [`HOME_FOLDER_NOTIFICATION`].
///
/// ```json
/// {"ServiceToken": "arn:aws:lambda:...", "BucketName": "appstream2-36fb080bb8-us-east-1-123456789012"}
/// ```
///
/// Earlier versions also wrote `FunctionArn` (the validator, target of their S3 -> Lambda
/// entry); the provider still reads it in the old properties of an update, and the compiler
/// no longer writes it.
///
/// `V` is the type of a value: the compiler writes CloudFormation expressions (`Ref`,
/// `Fn::GetAtt`...), the provider reads the strings CloudFormation resolved them to (the
/// default). No other property is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct HomeFolderNotificationProperties<V = String> {
    /// The provider function's ARN, which CloudFormation also passes to the provider; not
    /// used by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_token: Option<V>,
    /// CloudFormation's reserved custom-resource timeout property (seconds, as a string);
    /// never written by the compiler, tolerated and not used by the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_timeout: Option<V>,
    /// The AppStream home-folder bucket.
    pub bucket_name: V,
    /// Earlier versions only: the validator Lambda function's ARN, the target of their S3 ->
    /// Lambda entry. Tolerated, never used for anything but recognising those properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<V>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn home_folder_properties_use_cloudformation_names() {
        let props = HomeFolderNotificationProperties {
            service_token: Some("arn:token".to_string()),
            service_timeout: None,
            bucket_name: "b".into(),
            function_arn: None,
        };
        let value = serde_json::to_value(&props).unwrap();
        assert_eq!(value, serde_json::json!({"ServiceToken": "arn:token", "BucketName": "b"}));
        assert_eq!(serde_json::from_value::<HomeFolderNotificationProperties>(value).unwrap(), props);
        // The properties of earlier versions, as an update's OldResourceProperties carries them.
        let old = serde_json::json!({"ServiceToken": "arn:token", "BucketName": "b", "FunctionArn": "arn:fn"});
        let old = serde_json::from_value::<HomeFolderNotificationProperties>(old).unwrap();
        assert_eq!(old.function_arn.as_deref(), Some("arn:fn"));
        let with_arn = HomeFolderNotificationProperties { function_arn: Some("f".to_string()), ..props };
        assert!(serde_json::to_value(&with_arn).unwrap().get(LEGACY_FUNCTION_ARN_PROPERTY).is_some());
        let unknown = serde_json::json!({"BucketName": "b", "FunctionArn": "f", "Other": "x"});
        assert!(serde_json::from_value::<HomeFolderNotificationProperties>(unknown).is_err());
    }
}
