//! Which property changes replace a resource, per resource type synth emits.
//!
//! Source: the `createOnlyProperties` of cfn-lint's bundled CloudFormation registry schemas
//! (cfn-lint 1.58, `cfnlint/data/schemas/providers/us-east-1.json` and `resources/`), the
//! CloudFormation resource type schemas; KMS key properties that cannot change at all come from the
//! `AWS::KMS::Key` reference ("the update request fails"). A test checks that every type in
//! `src/cfn/resources.rs` has an entry.

use super::model::Replacement;
use sandboxc_contract::custom_resource::{HOME_FOLDER_NOTIFICATION, LEGACY_FUNCTION_ARN_PROPERTY};

/// How a resource type treats changes of its properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRules {
    /// Resource type.
    pub resource_type: &'static str,
    /// Create-only properties: a change replaces the resource.
    pub create_only: &'static [&'static str],
    /// Properties that cannot change on an existing resource: the update fails.
    pub immutable: &'static [&'static str],
    /// The property holding a fixed physical name, if the type has one.
    pub name_property: Option<&'static str>,
}

/// Every resource type sandboxc emits (src/cfn/resources.rs), with its rules.
pub const RULES: &[TypeRules] = &[
    TypeRules {
        resource_type: "AWS::EC2::VPC",
        create_only: &["CidrBlock", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "VpcEncryptionControl"],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::EC2::Subnet",
        create_only: &[
            "VpcId",
            "AvailabilityZone",
            "AvailabilityZoneId",
            "CidrBlock",
            "OutpostArn",
            "Ipv6Native",
            "Ipv4IpamPoolId",
            "Ipv4NetmaskLength",
            "Ipv6IpamPoolId",
            "Ipv6NetmaskLength",
        ],
        immutable: &[],
        name_property: None,
    },
    TypeRules { resource_type: "AWS::EC2::RouteTable", create_only: &["VpcId"], immutable: &[], name_property: None },
    TypeRules {
        resource_type: "AWS::EC2::SubnetRouteTableAssociation",
        create_only: &["SubnetId", "RouteTableId"],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::EC2::VPCEndpoint",
        create_only: &[
            "ServiceName",
            "VpcEndpointType",
            "VpcId",
            "ServiceNetworkArn",
            "ResourceConfigurationArn",
            "ServiceRegion",
        ],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::EC2::SecurityGroup",
        create_only: &["GroupDescription", "GroupName", "VpcId"],
        immutable: &[],
        name_property: Some("GroupName"),
    },
    TypeRules {
        resource_type: "AWS::EC2::SecurityGroupIngress",
        create_only: &[
            "GroupName",
            "IpProtocol",
            "SourceSecurityGroupId",
            "SourcePrefixListId",
            "ToPort",
            "CidrIp",
            "SourceSecurityGroupName",
            "SourceSecurityGroupOwnerId",
            "FromPort",
            "GroupId",
            "CidrIpv6",
        ],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::EC2::SecurityGroupEgress",
        create_only: &[
            "CidrIp",
            "CidrIpv6",
            "DestinationPrefixListId",
            "DestinationSecurityGroupId",
            "FromPort",
            "GroupId",
            "IpProtocol",
            "ToPort",
        ],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::EC2::FlowLog",
        create_only: &[
            "DeliverCrossAccountRole",
            "DeliverLogsPermissionArn",
            "LogGroupName",
            "LogDestination",
            "ResourceId",
            "TrafficType",
            "LogDestinationType",
            "ResourceType",
            "LogFormat",
            "MaxAggregationInterval",
            "DestinationOptions",
            "TagFieldSpecifications",
        ],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::S3::Bucket",
        create_only: &["BucketName", "BucketNamePrefix", "BucketNamespace"],
        immutable: &[],
        name_property: Some("BucketName"),
    },
    TypeRules { resource_type: "AWS::S3::BucketPolicy", create_only: &["Bucket"], immutable: &[], name_property: None },
    TypeRules {
        resource_type: "AWS::KMS::Key",
        create_only: &[],
        immutable: &["KeySpec", "KeyUsage", "Origin", "MultiRegion"],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::KMS::Alias",
        create_only: &["AliasName"],
        immutable: &[],
        name_property: Some("AliasName"),
    },
    TypeRules {
        resource_type: "AWS::IAM::Role",
        create_only: &["Path", "RoleName"],
        immutable: &[],
        name_property: Some("RoleName"),
    },
    TypeRules { resource_type: "AWS::IAM::Policy", create_only: &[], immutable: &[], name_property: None },
    TypeRules {
        resource_type: "AWS::SSM::Parameter",
        create_only: &["Name"],
        immutable: &[],
        name_property: Some("Name"),
    },
    TypeRules {
        resource_type: "AWS::Logs::LogGroup",
        create_only: &["LogGroupName"],
        immutable: &[],
        name_property: Some("LogGroupName"),
    },
    TypeRules {
        resource_type: "AWS::Logs::LogStream",
        create_only: &["LogGroupName", "LogStreamName"],
        immutable: &[],
        name_property: Some("LogStreamName"),
    },
    TypeRules {
        resource_type: "AWS::Logs::SubscriptionFilter",
        create_only: &["FilterName", "LogGroupName"],
        immutable: &[],
        name_property: Some("FilterName"),
    },
    // Also create-only in the schema, under properties synth does not emit: the VPC settings of
    // the OpenSearch, Elasticsearch and Snowflake destinations and the Iceberg catalog.
    TypeRules {
        resource_type: "AWS::KinesisFirehose::DeliveryStream",
        create_only: &[
            "DeliveryStreamName",
            "DeliveryStreamType",
            "DatabaseSourceConfiguration",
            "DirectPutSourceConfiguration",
            "KinesisStreamSourceConfiguration",
            "MSKSourceConfiguration",
        ],
        immutable: &[],
        name_property: Some("DeliveryStreamName"),
    },
    TypeRules {
        resource_type: "AWS::Lambda::Function",
        create_only: &["FunctionName", "PackageType", "TenancyConfig"],
        immutable: &[],
        name_property: Some("FunctionName"),
    },
    TypeRules {
        resource_type: "AWS::Lambda::Permission",
        create_only: &[
            "FunctionName",
            "FunctionUrlAuthType",
            "InvokedViaFunctionUrl",
            "SourceAccount",
            "SourceArn",
            "Principal",
            "PrincipalOrgID",
            "Action",
            "EventSourceToken",
        ],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::SQS::Queue",
        create_only: &["FifoQueue", "QueueName"],
        immutable: &[],
        name_property: Some("QueueName"),
    },
    TypeRules { resource_type: "AWS::SQS::QueuePolicy", create_only: &[], immutable: &[], name_property: None },
    TypeRules {
        resource_type: "AWS::Events::Rule",
        create_only: &["Name"],
        immutable: &[],
        name_property: Some("Name"),
    },
    TypeRules {
        resource_type: "AWS::AppStream::Fleet",
        create_only: &["Name", "FleetType"],
        immutable: &[],
        name_property: Some("Name"),
    },
    TypeRules {
        resource_type: "AWS::AppStream::Stack",
        create_only: &["Name"],
        immutable: &[],
        name_property: Some("Name"),
    },
    TypeRules {
        resource_type: "AWS::AppStream::StackFleetAssociation",
        create_only: &["FleetName", "StackName"],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::SageMaker::NotebookInstanceLifecycleConfig",
        create_only: &["NotebookInstanceLifecycleConfigName"],
        immutable: &[],
        name_property: Some("NotebookInstanceLifecycleConfigName"),
    },
    TypeRules {
        resource_type: "AWS::SageMaker::NotebookInstance",
        create_only: &[
            "DirectInternetAccess",
            "KmsKeyId",
            "NotebookInstanceName",
            "PlatformIdentifier",
            "SecurityGroupIds",
            "SubnetId",
        ],
        immutable: &[],
        name_property: Some("NotebookInstanceName"),
    },
    TypeRules {
        resource_type: "AWS::CloudTrail::Trail",
        create_only: &["TrailName"],
        immutable: &[],
        name_property: Some("TrailName"),
    },
    TypeRules {
        resource_type: "AWS::Glue::Database",
        create_only: &["DatabaseName"],
        immutable: &[],
        name_property: None,
    },
    // `TableInput/Name` is create-only too; the compiler's table names are constants.
    TypeRules {
        resource_type: "AWS::Glue::Table",
        create_only: &["DatabaseName", "CatalogId", "Name"],
        immutable: &[],
        name_property: None,
    },
    TypeRules {
        resource_type: "AWS::Athena::WorkGroup",
        create_only: &["Name"],
        immutable: &[],
        name_property: Some("Name"),
    },
    TypeRules { resource_type: "AWS::CloudFormation::Stack", create_only: &[], immutable: &[], name_property: None },
];

/// Custom resources (`Custom::*`): CloudFormation rejects a changed `ServiceToken`
/// ("Modifying service token is not allowed"); other changes go to the provider as an Update.
const CUSTOM_IMMUTABLE: &[&str] = &["ServiceToken"];

/// The rules of a type, if it is one synth emits.
#[must_use]
pub fn rules(resource_type: &str) -> Option<&'static TypeRules> {
    RULES.iter().find(|r| r.resource_type == resource_type)
}

/// The tier of a change of top-level property `property` of a resource of `resource_type`.
/// `certain` is true when the property's text changes, false when only its value may change.
#[must_use]
pub fn tier(resource_type: &str, property: &str, certain: bool) -> Replacement {
    let immutable = if resource_type.starts_with("Custom::") {
        CUSTOM_IMMUTABLE
    } else {
        rules(resource_type).map_or(&[][..], |r| r.immutable)
    };
    if immutable.contains(&property) {
        // A possible change of such a property is as bad: if the value changes, the update fails.
        return Replacement::Impossible;
    }
    match rules(resource_type) {
        Some(r) if r.create_only.contains(&property) => {
            if certain {
                Replacement::Certain
            } else {
                Replacement::Possible
            }
        }
        _ => Replacement::None,
    }
}

/// AppStream `UpdateFleet` on a running ALWAYS_ON or ON_DEMAND fleet accepts only these
/// (API reference, UpdateFleet); anything else needs the fleet stopped.
const FLEET_RUNNING_UPDATABLE: &[&str] = &[
    "DisplayName",
    "Description",
    "ComputeCapacity",
    "ImageArn",
    "ImageName",
    "IdleDisconnectTimeoutInSeconds",
    "DisconnectTimeoutInSeconds",
    "Tags",
    "MaxConcurrentSessions",
];

/// SageMaker notebook instance properties CloudFormation updates by stopping the instance and
/// starting it again (CloudFormation resource reference AWS::SageMaker::NotebookInstance, "Some
/// interruptions").
const NOTEBOOK_STOPPING: &[&str] = &[
    "InstanceType",
    "VolumeSizeInGB",
    "RoleArn",
    "RootAccess",
    "InstanceMetadataServiceConfiguration",
    "LifecycleConfigName",
    "AcceleratorTypes",
    "DefaultCodeRepository",
    "AdditionalCodeRepositories",
];

/// Whether an in-place change of top-level `property` stops a running resource of
/// `resource_type` for the update: an AppStream fleet (running sessions end) or a notebook
/// instance (open notebooks end).
#[must_use]
pub fn stops_for_update(resource_type: &str, property: &str) -> bool {
    match resource_type {
        "AWS::AppStream::Fleet" => !FLEET_RUNNING_UPDATABLE.contains(&property),
        "AWS::SageMaker::NotebookInstance" => NOTEBOOK_STOPPING.contains(&property),
        _ => false,
    }
}

/// Why an in-place change fails because it makes something smaller that AWS only lets grow:
/// a notebook instance's `VolumeSizeInGB` ("you can increase the volume size when you update
/// a notebook instance, but you can't decrease the volume size": SageMaker API reference,
/// UpdateNotebookInstance). `None` for every other change.
#[must_use]
pub fn shrinks(
    resource_type: &str,
    property: &str,
    old: Option<&serde_json::Value>,
    new: Option<&serde_json::Value>,
) -> Option<String> {
    if (resource_type, property) != ("AWS::SageMaker::NotebookInstance", "VolumeSizeInGB") {
        return None;
    }
    let gb = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    let (old, new) = (gb(old)?, gb(new)?);
    (new < old).then(|| {
        format!("SageMaker cannot shrink a notebook instance's volume ({old} -> {new} GB; UpdateNotebookInstance only grows it): the update fails: keep {old} GB or more")
    })
}

/// A condition or consequence of an in-place change, for people.
#[must_use]
pub fn note(resource_type: &str, property: &str, replacement: Replacement) -> Option<String> {
    match (resource_type, replacement) {
        (HOME_FOLDER_NOTIFICATION, Replacement::None) if property == LEGACY_FUNCTION_ARN_PROPERTY => Some(
            "the session validator moves from its S3 notification entry on the AppStream home-folder bucket to \
             EventBridge dispatch in this update: the bucket's EventBridge delivery is turned on (and stays on: \
             other sandboxes of the account and Region may use it) and the entry is removed only once the \
             validator's rule and its permission exist, so session files written meanwhile are answered"
                .into(),
        ),
        (_, Replacement::Impossible) if resource_type.starts_with("Custom::") => {
            Some("CloudFormation rejects a changed ServiceToken of a custom resource (\"Modifying service token is not allowed\"): the update fails".into())
        }
        ("AWS::KMS::Key", Replacement::Impossible) => {
            Some(format!("{property} cannot change on an existing KMS key: the update fails (create a new key instead)"))
        }
        ("AWS::AppStream::Fleet", Replacement::None) if stops_for_update(resource_type, property) => {
            Some("the AppStream fleet must be stopped for this change (running sessions end)".into())
        }
        ("AWS::SageMaker::NotebookInstance", Replacement::None) if stops_for_update(resource_type, property) => {
            Some("the notebook instance must be stopped for this update (CloudFormation stops and restarts it; open notebook sessions end)".into())
        }
        ("AWS::Lambda::Function", Replacement::None) if property == "VpcConfig" => {
            Some("the function's network interfaces are recreated in the new subnets or security groups".into())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emitted_type_has_rules() {
        let source = include_str!("../cfn/resources.rs");
        let mut missing = Vec::new();
        for line in source.lines() {
            if let Some(rest) = line.split(" = \"").nth(1) {
                if let Some(t) = rest.split('"').next() {
                    if t.starts_with("AWS::") && rules(t).is_none() {
                        missing.push(t.to_string());
                    }
                }
            }
        }
        assert!(missing.is_empty(), "types without replacement rules: {missing:?}");
    }

    #[test]
    fn tiers() {
        assert_eq!(tier("AWS::EC2::VPC", "CidrBlock", true), Replacement::Certain);
        assert_eq!(tier("AWS::EC2::Subnet", "VpcId", false), Replacement::Possible);
        assert_eq!(tier("AWS::SageMaker::NotebookInstance", "InstanceType", true), Replacement::None);
        assert_eq!(tier("AWS::KMS::Key", "KeySpec", true), Replacement::Impossible);
        assert_eq!(tier("Custom::HomeFolderNotification", "ServiceToken", true), Replacement::Impossible);
        assert!(note("AWS::AppStream::Fleet", "VpcConfig", Replacement::None).is_some_and(|n| n.contains("stopped")));
        assert!(note("AWS::AppStream::Fleet", "ComputeCapacity", Replacement::None).is_none());
        assert!(note(HOME_FOLDER_NOTIFICATION, LEGACY_FUNCTION_ARN_PROPERTY, Replacement::None)
            .is_some_and(|n| n.contains("moves from its S3 notification entry") && n.contains("EventBridge")));
        assert!(note(HOME_FOLDER_NOTIFICATION, "BucketName", Replacement::None).is_none());
        // The decisions export (audit.athena.export_decisions).
        assert_eq!(tier("AWS::KinesisFirehose::DeliveryStream", "DeliveryStreamType", true), Replacement::Certain);
        assert_eq!(
            tier("AWS::KinesisFirehose::DeliveryStream", "ExtendedS3DestinationConfiguration", true),
            Replacement::None
        );
        assert_eq!(tier("AWS::Logs::SubscriptionFilter", "LogGroupName", false), Replacement::Possible);
        assert_eq!(tier("AWS::Logs::SubscriptionFilter", "FilterPattern", true), Replacement::None);
        assert_eq!(tier("AWS::Logs::LogStream", "LogStreamName", true), Replacement::Certain);
    }
}
