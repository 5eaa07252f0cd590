//! Typed property structs of every resource type sandboxc emits.
//!
//! Property names follow the CloudFormation resource reference; each struct gives the
//! `Properties` mapping of its type ([`ResourceProperties::properties`]): a field's name in
//! PascalCase, or the name written after `as` where CloudFormation spells it otherwise
//! (`DisableIMDSV1`). Nested shapes that are plain data use [`Expr`] mappings; IAM documents
//! use [`PolicyDocument`], security-group rules [`SecurityGroupRule`].

use sandboxc_contract::custom_resource::{APPSTREAM_SERVICE_ROLES, USAGE_REPORT_SUBSCRIPTION};

use super::policy::PolicyDocument;
use super::security_group::SecurityGroupRule;
use super::template::ResourceProperties;
use super::{Expr, ExprMap, ToExpr};

macro_rules! resource {
    ($(#[$m:meta])* $name:ident = $ty:tt {
        $( $(#[$fm:meta])* $field:ident $(as $cfn:literal)? : $fty:ty ),* $(,)?
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fm])* pub $field: Option<$fty>, )*
        }
        impl ResourceProperties for $name {
            const TYPE: &'static str = $ty;
            fn properties(&self) -> ExprMap {
                let mut m = ExprMap::new();
                $(
                    if let Some(v) = &self.$field {
                        m.insert(resource!(@name $field $($cfn)?), v.to_expr());
                    }
                )*
                m
            }
            fn into_properties(self) -> ExprMap {
                let mut m = ExprMap::new();
                $(
                    if let Some(v) = self.$field {
                        m.insert(resource!(@name $field $($cfn)?), v.into_expr());
                    }
                )*
                m
            }
        }
    };
    (@name $field:ident $cfn:literal) => { String::from($cfn) };
    (@name $field:ident) => { pascal_case(stringify!($field)) };
}

/// A property value given up to the template: moved where it already is an [`Expr`].
trait IntoExpr {
    fn into_expr(self) -> Expr;
}

impl IntoExpr for Expr {
    fn into_expr(self) -> Expr {
        self
    }
}

impl IntoExpr for bool {
    fn into_expr(self) -> Expr {
        Expr::Bool(self)
    }
}

impl IntoExpr for i64 {
    fn into_expr(self) -> Expr {
        Expr::Int(self)
    }
}

impl IntoExpr for PolicyDocument {
    fn into_expr(self) -> Expr {
        self.to_expr()
    }
}

impl IntoExpr for SecurityGroupRule {
    fn into_expr(self) -> Expr {
        self.to_expr()
    }
}

impl<T: IntoExpr> IntoExpr for Vec<T> {
    fn into_expr(self) -> Expr {
        Expr::List(self.into_iter().map(IntoExpr::into_expr).collect())
    }
}

/// A Rust field name in PascalCase, as serde's `rename_all = "PascalCase"` spells it
/// (`vpc_id` -> `VpcId`, `r#type` -> `Type`).
fn pascal_case(field: &str) -> String {
    let field = field.strip_prefix("r#").unwrap_or(field);
    let mut out = String::with_capacity(field.len());
    let mut capitalize = true;
    for c in field.chars() {
        if c == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(c.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(c);
        }
    }
    out
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
    group_description: Expr, vpc_id: Expr, security_group_ingress: Vec<SecurityGroupRule>,
    security_group_egress: Vec<SecurityGroupRule>, tags: Expr,
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
    ownership_controls: Expr, lifecycle_configuration: Expr, object_lock_enabled: bool,
    object_lock_configuration: Expr, logging_configuration: Expr, tags: Expr,
});

resource!(/// `AWS::S3::BucketPolicy`.
BucketPolicy = "AWS::S3::BucketPolicy" { bucket: Expr, policy_document: PolicyDocument });

resource!(/// `AWS::KMS::Key`.
KmsKey = "AWS::KMS::Key" { description: Expr, enable_key_rotation: bool, key_policy: PolicyDocument, tags: Expr });

resource!(/// `AWS::KMS::Alias`.
KmsAlias = "AWS::KMS::Alias" { alias_name: Expr, target_key_id: Expr });

resource!(/// `AWS::IAM::Role` with inline policies.
Role = "AWS::IAM::Role" {
    role_name: Expr, description: Expr, path: Expr, assume_role_policy_document: PolicyDocument, policies: Vec<Expr>,
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

resource!(/// `AWS::Logs::LogStream`.
LogStream = "AWS::Logs::LogStream" { log_group_name: Expr, log_stream_name: Expr });

resource!(/// `AWS::Logs::SubscriptionFilter`: sends a log group's events to a destination (here a Firehose
/// stream) through a role CloudWatch Logs assumes.
SubscriptionFilter = "AWS::Logs::SubscriptionFilter" {
    filter_name: Expr, log_group_name: Expr, filter_pattern: Expr, destination_arn: Expr, role_arn: Expr,
    distribution: Expr,
});

resource!(/// `AWS::KinesisFirehose::DeliveryStream` (a Firehose stream).
DeliveryStream = "AWS::KinesisFirehose::DeliveryStream" {
    delivery_stream_name: Expr, delivery_stream_type: Expr,
    delivery_stream_encryption_configuration_input: Expr, extended_s3_destination_configuration: Expr, tags: Expr,
});

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

resource!(/// `AWS::Events::Rule` (on the default event bus when `EventBusName` is not set).
EventsRule = "AWS::Events::Rule" { description: Expr, event_pattern: Expr, state: Expr, targets: Expr });

resource!(/// `AWS::SQS::QueuePolicy`.
QueuePolicy = "AWS::SQS::QueuePolicy" { queues: Vec<Expr>, policy_document: PolicyDocument });

resource!(/// `AWS::AppStream::Fleet`.
Fleet = "AWS::AppStream::Fleet" {
    name: Expr, description: Expr, image_name: Expr, instance_type: Expr, fleet_type: Expr, compute_capacity: Expr,
    max_concurrent_sessions: i64, platform: Expr, max_user_duration_in_seconds: i64, disconnect_timeout_in_seconds: i64,
    idle_disconnect_timeout_in_seconds: i64, stream_view: Expr, vpc_config: Expr, iam_role_arn: Expr,
    enable_default_internet_access: bool, disable_imdsv1 as "DisableIMDSV1": bool, tags: Expr,
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
    notebook_instance_name: Expr, instance_type: Expr, volume_size_in_gb as "VolumeSizeInGB": i64,
    kms_key_id: Expr, role_arn: Expr, subnet_id: Expr, security_group_ids: Expr, direct_internet_access: Expr,
    root_access: Expr, instance_metadata_service_configuration: Expr, lifecycle_config_name: Expr, tags: Expr,
});

resource!(/// `AWS::SageMaker::NotebookInstanceLifecycleConfig` (`OnStart`: a list of `{Content}`, each a
/// base64-encoded script of at most 16384 characters).
NotebookInstanceLifecycleConfig = "AWS::SageMaker::NotebookInstanceLifecycleConfig" { on_start: Expr });

resource!(/// `AWS::CloudTrail::Trail`.
Trail = "AWS::CloudTrail::Trail" {
    trail_name: Expr, is_logging: bool, s3_bucket_name: Expr, kms_key_id as "KMSKeyId": Expr,
    enable_log_file_validation: bool, include_global_service_events: bool, is_multi_region_trail: bool,
    event_selectors: Expr, cloud_watch_logs_log_group_arn: Expr, cloud_watch_logs_role_arn: Expr, tags: Expr,
});

resource!(/// `AWS::Glue::Database`.
GlueDatabase = "AWS::Glue::Database" { catalog_id: Expr, database_input: Expr });

resource!(/// `AWS::Glue::Table`.
GlueTable = "AWS::Glue::Table" { catalog_id: Expr, database_name: Expr, table_input: Expr });

resource!(/// `AWS::Athena::WorkGroup`.
AthenaWorkGroup = "AWS::Athena::WorkGroup" {
    name: Expr, description: Expr, state: Expr, recursive_delete_option: bool, work_group_configuration: Expr,
    tags: Expr,
});

resource!(/// `AWS::CloudFormation::Stack` (a nested stack).
NestedStack = "AWS::CloudFormation::Stack" {
    template_url as "TemplateURL": Expr, parameters: Expr, tags: Expr,
});

resource!(/// `Custom::AppStreamServiceRoles`: makes sure AppStream's service roles exist (provider Lambda).
AppStreamServiceRoles = APPSTREAM_SERVICE_ROLES { service_token: Expr });

/// `Custom::HomeFolderNotification`: EventBridge delivery of the home-folder bucket turned on,
/// and the S3 notification entry of earlier versions removed (properties shared with the
/// provider Lambda).
pub type HomeFolderNotification = sandboxc_contract::custom_resource::HomeFolderNotificationProperties<Expr>;
impl ResourceProperties for HomeFolderNotification {
    const TYPE: &'static str = sandboxc_contract::custom_resource::HOME_FOLDER_NOTIFICATION;

    /// The property names come from the contract type's own serde form (so that they are
    /// spelled once, where the provider reads them): each set field is serialized with its
    /// field name as a marker, and the marker is swapped for the expression.
    fn properties(&self) -> ExprMap {
        let fields = [
            ("service_token", self.service_token.as_ref()),
            ("service_timeout", self.service_timeout.as_ref()),
            ("bucket_name", Some(&self.bucket_name)),
            ("function_arn", self.function_arn.as_ref()),
        ];
        let marked = sandboxc_contract::custom_resource::HomeFolderNotificationProperties::<&str> {
            service_token: self.service_token.as_ref().map(|_| "service_token"),
            service_timeout: self.service_timeout.as_ref().map(|_| "service_timeout"),
            bucket_name: "bucket_name",
            function_arn: self.function_arn.as_ref().map(|_| "function_arn"),
        };
        let names = serde_json::to_value(marked).ok().and_then(|v| v.as_object().cloned()).unwrap_or_default();
        names
            .into_iter()
            .filter_map(|(cfn_name, marker)| {
                let value = fields.iter().find(|(field, _)| Some(*field) == marker.as_str())?.1?;
                Some((cfn_name, value.clone()))
            })
            .collect()
    }
}

resource!(/// `Custom::UsageReportSubscription`: the Region's AppStream usage-report subscription.
UsageReportSubscription = USAGE_REPORT_SUBSCRIPTION { service_token: Expr });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_pascal_case_unless_spelled_out() {
        assert_eq!(pascal_case("vpc_id"), "VpcId");
        assert_eq!(pascal_case("r#type"), "Type");
        assert_eq!(pascal_case("s3_bucket_name"), "S3BucketName");
        let fleet = Fleet { disable_imdsv1: Some(true), max_concurrent_sessions: Some(2), ..Fleet::default() };
        assert_eq!(fleet.properties().keys().collect::<Vec<_>>(), ["DisableIMDSV1", "MaxConcurrentSessions"]);
        let nested = NestedStack { template_url: Some(Expr::from("u")), ..NestedStack::default() };
        assert_eq!(nested.properties().keys().collect::<Vec<_>>(), ["TemplateURL"]);
        let p = SsmParameter { r#type: Some(Expr::from("String")), ..SsmParameter::default() };
        assert_eq!(p.properties()["Type"], Expr::from("String"));
    }

    #[test]
    fn moved_properties_are_the_copied_ones() {
        use super::super::policy::Statement;
        use super::super::security_group::{Peer, RuleDirection};
        let doc = PolicyDocument::new(vec![Statement::allow("S", &["s3:GetObject"], vec![Expr::from("arn")])]);
        let role = Role {
            path: Some(Expr::from("/x/")),
            assume_role_policy_document: Some(doc.clone()),
            policies: Some(vec![Expr::map([("PolicyDocument", doc.to_expr())])]),
            max_session_duration: Some(3600),
            ..Role::default()
        };
        assert_eq!(role.clone().into_properties(), role.properties());
        let rule = SecurityGroupRule::new(RuleDirection::Egress, "tcp", 443, 443, Peer::Cidr(Expr::from("10.0.0.0/8")));
        let sg = SecurityGroup { security_group_egress: Some(vec![rule]), ..SecurityGroup::default() };
        assert_eq!(sg.clone().into_properties(), sg.properties());
        let endpoint =
            VpcEndpoint { private_dns_enabled: Some(true), policy_document: Some(doc), ..VpcEndpoint::default() };
        assert_eq!(endpoint.clone().into_properties(), endpoint.properties());
    }
}
