//! Typed property structs of every resource type sandboxc emits.
//!
//! Property names follow the CloudFormation resource reference; each struct serializes to the
//! `Properties` object of its type. Nested shapes that are plain data use [`Expr`] mappings;
//! IAM documents use [`PolicyDocument`].

use sandboxc_contract::custom_resource::{APPSTREAM_SERVICE_ROLES, USAGE_REPORT_SUBSCRIPTION};
use serde::Serialize;

use super::policy::PolicyDocument;
use super::template::ResourceProperties;
use super::Expr;

macro_rules! resource {
    ($(#[$m:meta])* $name:ident = $ty:tt { $( $(#[$fm:meta])* $field:ident : $fty:ty ),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $( $(#[$fm])* #[serde(skip_serializing_if = "Option::is_none")] pub $field: Option<$fty>, )*
        }
        impl ResourceProperties for $name {
            const TYPE: &'static str = $ty;
        }
    };
}

resource!(/// `AWS::EC2::VPC`.
Vpc = "AWS::EC2::VPC" { cidr_block: Expr, enable_dns_hostnames: bool, enable_dns_support: bool, tags: Expr });

resource!(/// `AWS::EC2::Subnet`.
Subnet = "AWS::EC2::Subnet" {
    vpc_id: Expr, cidr_block: Expr, availability_zone: Expr, map_public_ip_on_launch: bool, tags: Expr,
});

resource!(/// `AWS::EC2::RouteTable`.
RouteTable = "AWS::EC2::RouteTable" { vpc_id: Expr, tags: Expr });

resource!(/// `AWS::EC2::SubnetRouteTableAssociation`.
SubnetRouteTableAssociation = "AWS::EC2::SubnetRouteTableAssociation" { subnet_id: Expr, route_table_id: Expr });

resource!(/// `AWS::EC2::VPCEndpoint` (gateway or interface).
VpcEndpoint = "AWS::EC2::VPCEndpoint" {
    service_name: Expr, vpc_endpoint_type: Expr, vpc_id: Expr, route_table_ids: Expr, subnet_ids: Expr,
    security_group_ids: Expr, private_dns_enabled: bool, policy_document: PolicyDocument, tags: Expr,
});

resource!(/// `AWS::EC2::SecurityGroup`, with its rules inline.
SecurityGroup = "AWS::EC2::SecurityGroup" {
    group_description: Expr, vpc_id: Expr, security_group_ingress: Vec<Expr>, security_group_egress: Vec<Expr>, tags: Expr,
});

resource!(/// `AWS::EC2::SecurityGroupIngress` (a rule that would make two groups depend on each other inline).
SecurityGroupIngress = "AWS::EC2::SecurityGroupIngress" {
    group_id: Expr, description: Expr, ip_protocol: Expr, from_port: i64, to_port: i64, source_security_group_id: Expr,
});

resource!(/// `AWS::EC2::FlowLog`.
FlowLog = "AWS::EC2::FlowLog" {
    resource_id: Expr, resource_type: Expr, traffic_type: Expr, log_destination_type: Expr, log_group_name: Expr,
    deliver_logs_permission_arn: Expr, max_aggregation_interval: i64, tags: Expr,
});

resource!(/// `AWS::S3::Bucket`.
Bucket = "AWS::S3::Bucket" {
    bucket_name: Expr, bucket_encryption: Expr, versioning_configuration: Expr, public_access_block_configuration: Expr,
    ownership_controls: Expr, lifecycle_configuration: Expr, object_lock_enabled: bool, tags: Expr,
});

resource!(/// `AWS::S3::BucketPolicy`.
BucketPolicy = "AWS::S3::BucketPolicy" { bucket: Expr, policy_document: PolicyDocument });

resource!(/// `AWS::KMS::Key`.
KmsKey = "AWS::KMS::Key" { description: Expr, enable_key_rotation: bool, key_policy: PolicyDocument, tags: Expr });

resource!(/// `AWS::KMS::Alias`.
KmsAlias = "AWS::KMS::Alias" { alias_name: Expr, target_key_id: Expr });

resource!(/// `AWS::IAM::Role` with inline policies.
Role = "AWS::IAM::Role" {
    role_name: Expr, description: Expr, assume_role_policy_document: PolicyDocument, policies: Vec<Expr>,
    max_session_duration: i64, tags: Expr,
});

resource!(/// `AWS::IAM::Policy`: a policy attached to roles as its own resource, for grants that
/// name a resource which itself names the role (a key whose policy names the role).
IamPolicy = "AWS::IAM::Policy" { policy_name: Expr, policy_document: PolicyDocument, roles: Vec<Expr> });

resource!(/// `AWS::SSM::Parameter`.
SsmParameter = "AWS::SSM::Parameter" {
    name: Expr, description: Expr, r#type: Expr, tier: Expr, value: Expr, tags: Expr,
});

resource!(/// `AWS::Logs::LogGroup`.
LogGroup = "AWS::Logs::LogGroup" { log_group_name: Expr, retention_in_days: i64, kms_key_id: Expr, tags: Expr });

resource!(/// `AWS::Lambda::Function`.
Function = "AWS::Lambda::Function" {
    function_name: Expr, description: Expr, runtime: Expr, handler: Expr, architectures: Expr, code: Expr, role: Expr,
    memory_size: i64, timeout: i64, environment: Expr, vpc_config: Expr, dead_letter_config: Expr, logging_config: Expr,
    reserved_concurrent_executions: i64, kms_key_arn: Expr, tracing_config: Expr, tags: Expr,
});

resource!(/// `AWS::Lambda::Permission`.
Permission = "AWS::Lambda::Permission" {
    action: Expr, function_name: Expr, principal: Expr, source_account: Expr, source_arn: Expr,
});

resource!(/// `AWS::SQS::Queue`.
Queue = "AWS::SQS::Queue" {
    queue_name: Expr, message_retention_period: i64, kms_master_key_id: Expr, sqs_managed_sse_enabled: bool, tags: Expr,
});

resource!(/// `AWS::SQS::QueuePolicy`.
QueuePolicy = "AWS::SQS::QueuePolicy" { queues: Vec<Expr>, policy_document: PolicyDocument });

resource!(/// `AWS::AppStream::Fleet`.
Fleet = "AWS::AppStream::Fleet" {
    name: Expr, description: Expr, image_name: Expr, instance_type: Expr, fleet_type: Expr, compute_capacity: Expr,
    max_concurrent_sessions: i64, platform: Expr, max_user_duration_in_seconds: i64, disconnect_timeout_in_seconds: i64,
    idle_disconnect_timeout_in_seconds: i64, stream_view: Expr, vpc_config: Expr, iam_role_arn: Expr,
    enable_default_internet_access: bool, #[serde(rename = "DisableIMDSV1")] disable_imdsv1: bool, tags: Expr,
});

resource!(/// `AWS::AppStream::Stack`.
AppStreamStack = "AWS::AppStream::Stack" {
    name: Expr, description: Expr, storage_connectors: Expr, user_settings: Expr, access_endpoints: Expr,
    application_settings: Expr, tags: Expr,
});

resource!(/// `AWS::AppStream::StackFleetAssociation`.
StackFleetAssociation = "AWS::AppStream::StackFleetAssociation" { fleet_name: Expr, stack_name: Expr });

resource!(/// `AWS::SageMaker::NotebookInstance`.
NotebookInstance = "AWS::SageMaker::NotebookInstance" {
    notebook_instance_name: Expr, instance_type: Expr, #[serde(rename = "VolumeSizeInGB")] volume_size_in_gb: i64,
    kms_key_id: Expr, role_arn: Expr, subnet_id: Expr, security_group_ids: Expr, direct_internet_access: Expr,
    root_access: Expr, instance_metadata_service_configuration: Expr, tags: Expr,
});

resource!(/// `AWS::CloudTrail::Trail`.
Trail = "AWS::CloudTrail::Trail" {
    trail_name: Expr, is_logging: bool, s3_bucket_name: Expr, #[serde(rename = "KMSKeyId")] kms_key_id: Expr,
    enable_log_file_validation: bool, include_global_service_events: bool, is_multi_region_trail: bool,
    event_selectors: Expr, tags: Expr,
});

resource!(/// `AWS::CloudFormation::Stack` (a nested stack).
NestedStack = "AWS::CloudFormation::Stack" {
    #[serde(rename = "TemplateURL")] template_url: Expr, parameters: Expr, tags: Expr,
});

resource!(/// `Custom::AppStreamServiceRoles`: makes sure AppStream's service roles exist (provider Lambda).
AppStreamServiceRoles = APPSTREAM_SERVICE_ROLES { service_token: Expr });

/// `Custom::HomeFolderNotification`: this sandbox's entry in the home-folder bucket's notifications
/// (properties shared with the provider Lambda).
pub type HomeFolderNotification = sandboxc_contract::custom_resource::HomeFolderNotificationProperties<Expr>;
impl ResourceProperties for HomeFolderNotification {
    const TYPE: &'static str = sandboxc_contract::custom_resource::HOME_FOLDER_NOTIFICATION;
}

resource!(/// `Custom::UsageReportSubscription`: the Region's AppStream usage-report subscription.
UsageReportSubscription = USAGE_REPORT_SUBSCRIPTION { service_token: Expr });
