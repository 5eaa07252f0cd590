//! The blueprint as written: the serde types YAML is read into and the JSON Schema is
//! generated from (`sandboxc schema`, `blueprints/blueprint.schema.json`).
//!
//! Every key is optional except `name` and `appstream.image_name`; defaults are the ones
//! written in `blueprints/data-sandbox.yaml`. Unknown keys are rejected (`deny_unknown_fields`), both here
//! and in the generated JSON Schema (`additionalProperties: false`). Values that need more
//! than a schema to check (CIDRs) are kept as written here; validation
//! ([`super::validate`]) turns a [`Document`] into a [`super::Blueprint`] of parsed values.
//! The sections without such values are shared with the validated model ([`super::model`]).

use std::collections::BTreeMap;

use sandboxc_contract::users::Authentication;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{
    Access, AppStream, Audit, AuthenticationSchema, AvailabilityZones, Identity, Layout, Notebook, Storage,
};

/// A whole blueprint: one isolated data sandbox, as written (the JSON Schema's root).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "Blueprint", deny_unknown_fields)]
#[schemars(
    title = "sandboxc blueprint v1",
    description = "One isolated AWS data sandbox, compiled by sandboxc into CloudFormation."
)]
pub struct Document {
    /// Blueprint format version; only 1 exists.
    #[serde(default = "default_version")]
    #[schemars(range(min = 1, max = 1))]
    pub version: u32,
    /// Environment name; drives every resource name. Pattern `[a-z][a-z0-9-]{1,30}`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{1,30}$"))]
    pub name: String,
    /// AWS account ID (12 digits) that `apply` must deploy into; null accepts any account.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[0-9]{12}$"))]
    pub account: Option<String>,
    /// AWS Region, e.g. `eu-west-1` (a Region AWS operates); null uses the AWS configuration's Region.
    #[serde(default)]
    #[schemars(regex(pattern = r"^[a-z]{2,4}(-[a-z]+)+-[0-9]+$"))]
    pub region: Option<String>,
    /// Tags added to every resource that takes tags (keys up to 128 characters, values up to 256).
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `nested`: a root stack with one nested stack per part; `single`: one template.
    #[serde(default)]
    pub layout: Layout,
    /// The VPC: isolated subnets, VPC endpoints, flow logs.
    #[serde(default)]
    pub network: NetworkDocument,
    /// The data bucket.
    #[serde(default)]
    pub storage: Storage,
    /// The AppStream 2.0 fleet and stack; required for its `image_name`.
    pub appstream: AppStream,
    /// The SageMaker notebook instance.
    #[serde(default)]
    pub notebook: Notebook,
    /// SAML federation.
    #[serde(default)]
    pub identity: Identity,
    /// CloudTrail, usage reports and log retention.
    #[serde(default)]
    pub audit: Audit,
    /// The data users may reach, by name (`[a-z][a-z0-9-]{0,62}`): a prefix in the data bucket,
    /// or a prefix in an existing bucket of the same Region.
    #[serde(default)]
    pub datasets: BTreeMap<String, DatasetDocument>,
    /// Who may use the sandbox and which datasets each may reach; at most 5,000 (one IAM role
    /// each; an account's role quota is at most 5,000).
    #[serde(default)]
    #[schemars(length(max = 5000))]
    pub users: Vec<UserDocument>,
}

/// `datasets.<name>`: where the data of one dataset lives.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "Dataset", deny_unknown_fields)]
pub struct DatasetDocument {
    /// The key prefix, ending with `/` (such as `datasets/genomics/`); in the data bucket never
    /// under `home/`, and never one dataset's prefix inside another's in the same bucket.
    pub prefix: String,
    /// An existing bucket of the sandbox's Region, `arn:<partition>:s3:::<bucket>`; null: the
    /// sandbox's data bucket. Its owner adds the statements synth writes to
    /// `bucket-policies/<bucket>.json`.
    #[serde(default)]
    pub bucket_arn: Option<String>,
    /// The KMS key of the existing bucket's default encryption (SSE-KMS), if any
    /// (`arn:<partition>:kms:<region>:<account>:key/<id>`); only with `bucket_arn`.
    #[serde(default)]
    pub kms_key_arn: Option<String>,
}

/// One entry of `users:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "User", deny_unknown_fields)]
pub struct UserDocument {
    /// The AppStream user ID (`api`: 2-32 characters of letters, digits and `_+=.@-`) or SAML
    /// NameID (`saml`: 2-128 characters), exactly as AppStream reports it.
    pub id: String,
    /// `api` (streaming URLs) or `saml` (SAML federation).
    #[serde(default)]
    #[schemars(with = "AuthenticationSchema")]
    pub authentication: Authentication,
    /// Dataset name -> `read` or `read-write`.
    #[serde(default)]
    pub datasets: BTreeMap<String, Access>,
    /// This user's notebook instance, where it differs from `notebook:` (per_user mode only).
    #[serde(default)]
    pub notebook: Option<UserNotebookDocument>,
}

/// `users[].notebook`: one user's notebook instance settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "UserNotebook", deny_unknown_fields)]
pub struct UserNotebookDocument {
    /// Notebook instance type, `ml.*`; null: `notebook.instance_type`.
    #[serde(default)]
    pub instance_type: Option<String>,
    /// EBS volume size in GiB, 5..16384; null: `notebook.volume_size_gb`.
    #[serde(default)]
    #[schemars(range(min = 5, max = 16384))]
    pub volume_size_gb: Option<u32>,
}

fn default_version() -> u32 {
    1
}

/// `network:` section.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "Network", deny_unknown_fields, default)]
pub struct NetworkDocument {
    /// VPC CIDR: RFC 1918, a /16 to /24 prefix, not overlapping 198.19.0.0/16.
    pub cidr: String,
    /// A count of Availability Zones (2..6; the Region must have that many) or a list of distinct AZ names.
    pub availability_zones: AvailabilityZones,
    /// VPC flow logs to CloudWatch Logs.
    pub flow_logs: bool,
    /// Stream only through an `appstream.streaming` interface endpoint; null: public streaming.
    pub private_streaming: Option<PrivateStreamingDocument>,
}

impl NetworkDocument {
    /// The network generation of `sandboxc_contract::users::network_generation`: of the CIDR
    /// as ipnet writes it (the text as written when it does not parse; validation reports that)
    /// and the first subnet's zone (its name, or `#0` for the first zone of `Fn::GetAZs`).
    /// The notebook instances' names carry it, so that a new network replaces them under new
    /// names.
    #[must_use]
    pub fn generation(&self) -> String {
        let cidr = self.cidr.parse::<ipnet::Ipv4Net>().map_or_else(|_| self.cidr.clone(), |n| n.to_string());
        let zone = match &self.availability_zones {
            AvailabilityZones::Names(names) => names.first().cloned().unwrap_or_default(),
            AvailabilityZones::Count(_) => "#0".to_string(),
        };
        sandboxc_contract::users::network_generation(&cidr, &zone)
    }
}

impl Default for NetworkDocument {
    fn default() -> Self {
        Self {
            cidr: "10.10.0.0/16".into(),
            availability_zones: AvailabilityZones::Count(2),
            flow_logs: true,
            private_streaming: None,
        }
    }
}

/// `network.private_streaming`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename = "PrivateStreaming", deny_unknown_fields)]
pub struct PrivateStreamingDocument {
    /// Networks the users stream from (CIDRs); they reach the endpoint on TCP 443 and 1400-1499.
    #[schemars(length(min = 1, max = 50))]
    pub client_cidrs: Vec<String>,
}
