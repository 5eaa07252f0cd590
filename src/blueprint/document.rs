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

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{AppStream, Audit, AvailabilityZones, Identity, Layout, Notebook, Storage};

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
