//! The sandbox's root stack: its parameters, its outputs, and the logical IDs of its nested
//! stacks.
//!
//! Produced by the compiler (`sandboxc synth`: the root template); consumed by `sandboxc
//! apply` (parameter values), `status`, `destroy` and `plan` (nested stacks by logical ID)
//! and `audit --from-aws` (outputs naming the evidence buckets), through CloudFormation's
//! `DescribeStacks`, `ListStackResources` and `DescribeStackEvents`.

/// Root stack parameters, set by `sandboxc apply` (`CreateChangeSet` `Parameters`).
pub mod parameters {
    /// The S3 bucket holding the nested templates and the Lambda zips (`String`).
    ///
    /// Produced by the compiler (root template, and every nested template that reads
    /// assets); its value is set by `sandboxc apply` from `--assets-bucket` or from the assets
    /// stack ([`crate::assets`]), and read back by `sandboxc plan` from a deployed stack.
    pub const ASSETS_BUCKET: &str = "AssetsBucket";

    /// Whether AppStream's home-folder bucket exists yet: `true` or `false` (`String`).
    ///
    /// AppStream creates that bucket at the first session with home folders, and the
    /// validator's bucket notification can only be written once it exists. Produced by the
    /// compiler (validator part); set by `sandboxc apply` after S3 `HeadBucket`.
    pub const HOME_FOLDER_BUCKET_EXISTS: &str = "HomeFolderBucketExists";

    /// The ID of the AWS-managed prefix list of S3 in the Region (`pl-...`, the list named
    /// `com.amazonaws.<region>.s3`): security groups allow HTTPS to it (the S3 gateway
    /// endpoint's destinations) instead of to 0.0.0.0/0. CloudFormation cannot look it up, so
    /// `sandboxc apply` sets it (EC2 `DescribePrefixLists`) when the root template declares it.
    pub const S3_PREFIX_LIST_ID: &str = "S3PrefixListId";
}

/// Root stack outputs for people, re-exposed from the nested stacks (`layout: nested`) or
/// written directly (`layout: single`). Produced by the compiler; shown by `sandboxc apply`
/// and `status` (`DescribeStacks` `Outputs`); the bucket outputs are read by `sandboxc audit
/// --from-aws` to find its evidence.
pub mod outputs {
    /// Name of the data bucket (storage part). Read by `audit --from-aws`: the bucket whose
    /// S3 data events are audited.
    pub const DATA_BUCKET_NAME: &str = "DataBucketName";
    /// Name of the SSM parameter holding the notebook script (storage part).
    pub const NOTEBOOK_SCRIPT_PARAMETER: &str = "NotebookScriptParameter";
    /// Name of the bucket receiving the CloudTrail trail's logs (audit part, only with
    /// `audit.cloudtrail`). Read by `audit --from-aws`.
    pub const TRAIL_BUCKET_NAME: &str = "TrailBucketName";
    /// Name of the retained bucket of the validator's exported decisions (audit part, only
    /// with `audit.athena.export_decisions`): what the Athena engine's caller must be allowed to
    /// read.
    pub const DECISIONS_BUCKET_NAME: &str = "DecisionsBucketName";
    /// Name of the bucket AppStream writes usage reports to (AppStream part, only with
    /// `audit.usage_reports`): the attribute
    /// [`USAGE_REPORT_BUCKET_ATTRIBUTE`](crate::custom_resource::USAGE_REPORT_BUCKET_ATTRIBUTE)
    /// of the usage-report subscription. Read by `audit --from-aws`.
    pub const USAGE_REPORT_BUCKET: &str = "UsageReportBucket";
    /// ID of the sandbox's S3 gateway endpoint, `vpce-...` (network part). Read by `audit
    /// --from-aws` and `--engine athena`: an S3 data event whose CloudTrail `vpcEndpointId` is
    /// another endpoint came from another network and is never attributed by address.
    pub const S3_ENDPOINT_ID: &str = "S3EndpointId";
    /// Name of the AppStream fleet (AppStream part).
    pub const FLEET_NAME: &str = "FleetName";
    /// Name of the AppStream stack (AppStream part).
    pub const APPSTREAM_STACK_NAME: &str = "AppStreamStackName";
    /// The `aws appstream create-streaming-url` command line for a user (AppStream part).
    pub const STREAMING_URL_COMMAND: &str = "StreamingUrlCommand";
    /// Name of the SageMaker notebook instance (notebook part).
    pub const NOTEBOOK_NAME: &str = "NotebookName";
    /// ARN of the SAML federation role (identity part, only with `identity.saml`).
    pub const SAML_ROLE_ARN: &str = "SamlRoleArn";
    /// Relay state URL for the identity provider's AppStream application (identity part).
    pub const SAML_RELAY_STATE_URL: &str = "SamlRelayStateUrl";
    /// Name of the validator Lambda function (validator part).
    pub const VALIDATOR_FUNCTION_NAME: &str = "ValidatorFunctionName";
    /// URL of the validator's dead-letter queue (validator part).
    pub const VALIDATOR_DEAD_LETTER_QUEUE_URL: &str = "ValidatorDeadLetterQueueUrl";
}

/// The suffix of a nested stack's logical ID in the root template: the part `Network` is the
/// resource `NetworkNestedStack`.
///
/// Produced by the compiler (root template); consumed by `plan` (pairing deployed nested
/// stacks with the new templates), `status` and `destroy` (resource paths such as
/// `Network/Vpc`) and `apply` (event paths). Use [`nested_stack_id`],
/// [`nested_stack_title`] and [`nested_stack_slug`] rather than the suffix itself.
pub const NESTED_STACK_SUFFIX: &str = "NestedStack";

/// The logical ID of a part's nested stack: `Network` -> `NetworkNestedStack`.
///
/// `title` is the part's title as the compiler spells it (`Storage`, `AppStream`...).
#[must_use]
pub fn nested_stack_id(title: &str) -> String {
    format!("{title}{NESTED_STACK_SUFFIX}")
}

/// The part title of a nested stack's logical ID: `NetworkNestedStack` -> `Network`.
///
/// `None` when `logical_id` does not end in [`NESTED_STACK_SUFFIX`] (not a sandbox part).
#[must_use]
pub fn nested_stack_title(logical_id: &str) -> Option<&str> {
    logical_id.strip_suffix(NESTED_STACK_SUFFIX)
}

/// The part slug of a nested stack's logical ID, as in the template file names and the
/// manifest labels: `NetworkNestedStack` -> `network`, `AppStreamNestedStack` -> `appstream`.
///
/// `None` when `logical_id` does not end in [`NESTED_STACK_SUFFIX`].
#[must_use]
pub fn nested_stack_slug(logical_id: &str) -> Option<String> {
    nested_stack_title(logical_id).map(str::to_ascii_lowercase)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_title_becomes_a_logical_id_and_back() {
        for title in ["Storage", "Audit", "Network", "AppStream", "Notebook", "Identity", "Validator"] {
            let id = nested_stack_id(title);
            assert_eq!(nested_stack_title(&id), Some(title));
            assert_eq!(nested_stack_slug(&id), Some(title.to_ascii_lowercase()));
        }
        assert_eq!(nested_stack_id("Network"), "NetworkNestedStack");
        assert_eq!(nested_stack_slug("AppStreamNestedStack").as_deref(), Some("appstream"));
    }

    #[test]
    fn other_logical_ids_are_not_parts() {
        assert_eq!(nested_stack_title("DataBucket"), None);
        assert_eq!(nested_stack_slug("NestedStackNetwork"), None);
        assert_eq!(nested_stack_slug("NestedStack").as_deref(), Some(""));
    }
}
