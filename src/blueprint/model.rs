//! The validated blueprint: what [`super::load`] returns and the compiler reads.
//!
//! A [`Blueprint`] holds parsed values only: the VPC and the subnets carved from it as
//! [`Ipv4Net`]s, the client networks of private streaming, durations, the names derived
//! from `name:` ([`Names`]), the datasets with their buckets, and the users with their hashes,
//! notebook names and grants resolved to datasets. It exists only after every check passed, so the compiler never
//! parses or re-checks a value (the YAML as written is [`super::document`]). The sections
//! without such values (`storage`, `appstream`, `notebook`, `identity`, `audit`) are the
//! same types in both, with the serde and schema attributes the document needs.

use std::collections::BTreeMap;

use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sandboxc_contract::users::Authentication;
use sandboxc_contract::validator::NotebookMode;

use super::duration::Duration;
use super::names::Names;

/// A validated blueprint: one isolated data sandbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Blueprint {
    /// Blueprint format version (1).
    pub version: u32,
    /// Environment name, `[a-z][a-z0-9-]{1,30}`: the root stack's name.
    pub name: String,
    /// Every physical name derived from [`Blueprint::name`].
    pub names: Names,
    /// AWS account ID (12 digits) that `apply` must deploy into; `None` accepts any account.
    pub account: Option<String>,
    /// AWS Region, such as `eu-west-1`; `None` uses the AWS configuration's Region.
    pub region: Option<String>,
    /// Tags added to every resource that takes tags (at most 48, none reserved).
    pub tags: BTreeMap<String, String>,
    /// Root stack with nested stacks, or one template.
    pub layout: Layout,
    /// The VPC and its subnets.
    pub network: Network,
    /// The data bucket.
    pub storage: Storage,
    /// The AppStream 2.0 fleet and stack.
    pub appstream: AppStream,
    /// The SageMaker notebook instance.
    pub notebook: Notebook,
    /// SAML federation.
    pub identity: Identity,
    /// CloudTrail, usage reports and log retention.
    pub audit: Audit,
    /// The datasets, by name (sorted).
    pub datasets: Vec<Dataset>,
    /// The users, in blueprint order.
    pub users: Vec<User>,
}

/// One dataset of the validated `datasets:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// Its name, `[a-z][a-z0-9-]{0,62}`.
    pub name: String,
    /// The bucket it lives in.
    pub bucket: DatasetBucket,
    /// Its prefix: ends with `/`, never starts with `/`, no `..`, no empty segment; in the data
    /// bucket never under `home/` (the personal prefixes).
    pub prefix: String,
}

/// Where a dataset lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatasetBucket {
    /// The sandbox's data bucket (storage part).
    Data,
    /// A bucket the sandbox does not own, in the sandbox's Region (reached through its S3
    /// gateway endpoint).
    Existing(ExistingBucket),
}

/// A bucket the sandbox does not own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingBucket {
    /// Its ARN as written, `arn:<partition>:s3:::<name>`.
    pub arn: String,
    /// The partition of the ARN (`aws`, `aws-cn`...).
    pub partition: String,
    /// The bucket name.
    pub name: String,
    /// The KMS key of its default encryption (SSE-KMS), if the blueprint names one: the users
    /// granted the dataset may use it through S3.
    pub kms_key_arn: Option<String>,
}

impl Dataset {
    /// Whether the dataset lives in an existing bucket.
    #[must_use]
    pub fn existing(&self) -> Option<&ExistingBucket> {
        match &self.bucket {
            DatasetBucket::Data => None,
            DatasetBucket::Existing(b) => Some(b),
        }
    }
}

/// What a grant allows on a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema)]
pub enum Access {
    /// List and read objects.
    #[serde(rename = "read")]
    Read,
    /// List, read, write and delete objects.
    #[serde(rename = "read-write")]
    ReadWrite,
}

impl Access {
    /// `read` or `read-write`, as written in the blueprint.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read-write",
        }
    }
}

/// One dataset a user may reach, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The dataset (resolved from its name).
    pub dataset: Dataset,
    /// Read or read-write.
    pub access: Access,
}

/// One validated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user ID exactly as written (AppStream user ID or SAML NameID).
    pub id: String,
    /// How the user starts sessions.
    pub authentication: Authentication,
    /// Lowercase hex SHA-256 of the ID (`sandboxc_contract::users::user_hash`).
    pub hash: String,
    /// The user's notebook instance name (`sandboxc_contract::users::notebook_name`).
    pub notebook_name: String,
    /// The grants, by dataset name (sorted).
    pub grants: Vec<Grant>,
    /// The notebook instance type (the user's override, else `notebook.instance_type`).
    pub instance_type: String,
    /// The notebook volume in GiB (the user's override, else `notebook.volume_size_gb`).
    pub volume_size_gb: u32,
}

/// The validated `network:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// The VPC's CIDR: RFC 1918, a /16 to /24 prefix, no host bits, clear of AppStream's
    /// management range.
    pub cidr: Ipv4Net,
    /// One isolated subnet per Availability Zone, in zone order: the `i`-th
    /// /(prefix + [`super::validate::SUBNET_EXTRA_BITS`]) block of [`Network::cidr`], at least
    /// a /28 (carved by [`super::validate::subnet_cidrs`]).
    pub subnets: Vec<Ipv4Net>,
    /// The network generation (`sandboxc_contract::users::network_generation` of the CIDR and
    /// the first zone): the notebook instances' names carry it, so that a new network, which
    /// replaces them, gives them new names.
    pub generation: String,
    /// The zones: a count (`Fn::GetAZs`) or distinct names of one Region; as many as
    /// [`Network::subnets`].
    pub availability_zones: AvailabilityZones,
    /// VPC flow logs to CloudWatch Logs.
    pub flow_logs: bool,
    /// Streaming only through an `appstream.streaming` interface endpoint; `None`: public
    /// streaming.
    pub private_streaming: Option<PrivateStreaming>,
}

/// The validated `network.private_streaming`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateStreaming {
    /// The networks users stream from (1 to 50, /8 or narrower, no host bits); they reach the
    /// endpoint on TCP 443 and 1400-1499.
    pub client_cidrs: Vec<Ipv4Net>,
}

/// How the templates are laid out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// A root stack with one nested stack per part.
    #[default]
    Nested,
    /// Every resource in one template.
    Single,
}

/// Availability Zones: a count, resolved with `Fn::GetAZs`, or explicit names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum AvailabilityZones {
    /// The first N zones of the Region (`Fn::GetAZs`), 2..6.
    Count(#[schemars(range(min = 2, max = 6))] u32),
    /// Explicit zone names such as `eu-west-1a`, 2..6 of them, distinct.
    Names(#[schemars(length(min = 2, max = 6))] Vec<String>),
}

impl AvailabilityZones {
    /// How many zones (and so isolated subnets) the sandbox uses.
    #[must_use]
    pub fn count(&self) -> usize {
        match self {
            Self::Count(n) => *n as usize,
            Self::Names(names) => names.len(),
        }
    }
}

/// `storage:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// Explicit data bucket name (S3 bucket naming rules); null lets CloudFormation generate one.
    pub bucket_name: Option<String>,
    /// IAM role ARNs (`arn:<partition>:iam::<account>:role/...`) that may reach the data bucket
    /// from outside the sandbox (not through its S3 gateway endpoint) and use the data key.
    pub admin_principals: Vec<String>,
}

/// AppStream fleet type (`AWS::AppStream::Fleet.FleetType`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FleetType {
    /// Instances run only while users stream.
    #[default]
    OnDemand,
    /// Instances run all the time.
    AlwaysOn,
    /// AppStream-managed capacity; needs `max_concurrent_sessions`.
    Elastic,
}

impl FleetType {
    /// The value CloudFormation expects.
    #[must_use]
    pub fn as_cfn(self) -> &'static str {
        match self {
            Self::OnDemand => "ON_DEMAND",
            Self::AlwaysOn => "ALWAYS_ON",
            Self::Elastic => "ELASTIC",
        }
    }
}

/// AppStream stream view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum StreamView {
    /// Only the application windows.
    #[default]
    App,
    /// The whole desktop.
    Desktop,
}

impl StreamView {
    /// The value CloudFormation expects.
    #[must_use]
    pub fn as_cfn(self) -> &'static str {
        match self {
            Self::App => "APP",
            Self::Desktop => "DESKTOP",
        }
    }
}

/// `appstream:` section. Required: it names the image (`image_name`), which no default can
/// guess; every other key has a default.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppStream {
    /// Name of the AppStream image holding the launcher from `sandboxc synth`
    /// (docs/appstream-image.md); required, and `sandboxc apply` checks that it exists.
    #[schemars(regex(pattern = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,99}$"))]
    pub image_name: String,
    /// Streaming instance type, one of the `stream.*` types AppStream offers.
    #[serde(default = "default_instance_type")]
    pub instance_type: String,
    /// ON_DEMAND, ALWAYS_ON or ELASTIC.
    #[serde(default)]
    pub fleet_type: FleetType,
    /// Instances kept (ON_DEMAND, ALWAYS_ON), 1 or more; default 2; not allowed for ELASTIC.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub desired_instances: Option<u32>,
    /// Concurrent sessions of an ELASTIC fleet, 1 or more (required there, not allowed otherwise).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_concurrent_sessions: Option<u32>,
    /// Longest session, 10m..100h.
    #[serde(default = "default_max_session_duration")]
    pub max_session_duration: Duration,
    /// Time a disconnected session is kept, 1m..10h.
    #[serde(default = "default_disconnect_timeout")]
    pub disconnect_timeout: Duration,
    /// Idle time before a user is disconnected, 0 (off) or 1m..1h.
    #[serde(default = "default_idle_disconnect_timeout")]
    pub idle_disconnect_timeout: Duration,
    /// APP or DESKTOP.
    #[serde(default)]
    pub stream_view: StreamView,
    /// What users may move between the session and their own device.
    #[serde(default)]
    pub user_settings: UserSettings,
}

impl AppStream {
    /// The section with `image_name` and every other key at its default.
    #[must_use]
    pub fn with_image(image_name: impl Into<String>) -> Self {
        Self {
            image_name: image_name.into(),
            instance_type: default_instance_type(),
            fleet_type: FleetType::OnDemand,
            desired_instances: None,
            max_concurrent_sessions: None,
            max_session_duration: default_max_session_duration(),
            disconnect_timeout: default_disconnect_timeout(),
            idle_disconnect_timeout: default_idle_disconnect_timeout(),
            stream_view: StreamView::App,
            user_settings: UserSettings::default(),
        }
    }
}

fn default_instance_type() -> String {
    "stream.standard.small".into()
}

fn default_max_session_duration() -> Duration {
    Duration::from_secs(96 * 3600)
}

fn default_disconnect_timeout() -> Duration {
    Duration::from_secs(15 * 60)
}

fn default_idle_disconnect_timeout() -> Duration {
    Duration::from_secs(15 * 60)
}

/// Default of `appstream.desired_instances` for ON_DEMAND and ALWAYS_ON fleets.
pub const DEFAULT_DESIRED_INSTANCES: u32 = 2;

/// One AppStream user-settings action: `enabled` or `disabled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// The action is allowed.
    Enabled,
    /// The action is denied.
    Disabled,
}

impl Permission {
    /// The value CloudFormation expects (`ENABLED` | `DISABLED`).
    #[must_use]
    pub fn as_cfn(self) -> &'static str {
        match self {
            Self::Enabled => "ENABLED",
            Self::Disabled => "DISABLED",
        }
    }
}

/// `appstream.user_settings`: each one is written explicitly into the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct UserSettings {
    /// Paste from the user's device into the session.
    pub clipboard_copy_from_local_device: Permission,
    /// Copy from the session to the user's device.
    pub clipboard_copy_to_local_device: Permission,
    /// Upload files into the session.
    pub file_upload: Permission,
    /// Download files from the session.
    pub file_download: Permission,
    /// Print to the user's local printer.
    pub printing_to_local_device: Permission,
}

impl Default for UserSettings {
    fn default() -> Self {
        Self {
            clipboard_copy_from_local_device: Permission::Enabled,
            clipboard_copy_to_local_device: Permission::Disabled,
            file_upload: Permission::Disabled,
            file_download: Permission::Disabled,
            printing_to_local_device: Permission::Disabled,
        }
    }
}

impl UserSettings {
    /// `(AppStream action name, permission)` in the order the template lists them.
    #[must_use]
    pub fn actions(&self) -> [(&'static str, Permission); 5] {
        [
            ("CLIPBOARD_COPY_FROM_LOCAL_DEVICE", self.clipboard_copy_from_local_device),
            ("CLIPBOARD_COPY_TO_LOCAL_DEVICE", self.clipboard_copy_to_local_device),
            ("FILE_UPLOAD", self.file_upload),
            ("FILE_DOWNLOAD", self.file_download),
            ("PRINTING_TO_LOCAL_DEVICE", self.printing_to_local_device),
        ]
    }
}

/// `notebook:` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Notebook {
    /// `per_user`: a notebook instance and an execution role per user, each reaching exactly
    /// that user's grants; `shared`: one notebook and one role for every listed user (the
    /// reference app's weaker posture).
    #[schemars(with = "NotebookModeSchema")]
    pub mode: NotebookMode,
    /// How many nested "users" stacks (shards) hold the per-user resources (`layout: nested`),
    /// 1..=99. A user's shard is a stable function of the hash of the user ID and this count
    /// only, so adding or removing a user never moves another one. Unset: synth chooses it
    /// for the user count (a power of two, about 50 users a shard) and says so; write it down
    /// before the first deployment. Changing it moves users between shards (their notebooks
    /// are replaced); `sandboxc plan` lists every move.
    #[schemars(range(min = 1, max = 99))]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    /// Notebook instance type, `ml.*` (each user's default).
    pub instance_type: String,
    /// EBS volume size in GiB, 5..16384 (each user's default).
    #[schemars(range(min = 5, max = 16384))]
    pub volume_size_gb: u32,
    /// Session length of the pre-signed notebook URL, 30m..12h.
    pub session_expiration: Duration,
    /// Stop a notebook instance after this long without kernel activity and without an open
    /// terminal, 10m..7d, or 0 (never); default 1h. The validator starts a stopped notebook
    /// when its user asks for it.
    pub idle_stop: Duration,
}

// The schema of `NotebookMode` (the contract crate does not depend on schemars); its values
// are the contract's, which a test checks.
/// How notebooks are given out: `per_user` or `shared`.
#[derive(JsonSchema)]
#[schemars(rename = "NotebookMode")]
#[allow(dead_code)]
pub(crate) enum NotebookModeSchema {
    /// A notebook instance and an execution role per user (the default).
    #[schemars(rename = "per_user")]
    PerUser,
    /// One notebook and one role for every listed user (the reference app's weaker posture).
    #[schemars(rename = "shared")]
    Shared,
}

// The schema of `Authentication` (the contract crate does not depend on schemars); its values
// are the contract's, which a test checks.
/// How a user starts sessions: `api` or `saml`.
#[derive(JsonSchema)]
#[schemars(rename = "Authentication")]
#[allow(dead_code)]
pub(crate) enum AuthenticationSchema {
    /// Streaming URLs (`CreateStreamingURL`): AppStream user IDs of 2 to 32 characters (the default).
    #[schemars(rename = "api")]
    Api,
    /// SAML 2.0 federation: the NameID, 2 to 128 characters.
    #[schemars(rename = "saml")]
    Saml,
}

impl Default for Notebook {
    fn default() -> Self {
        Self {
            mode: NotebookMode::PerUser,
            shards: None,
            instance_type: "ml.t3.medium".into(),
            volume_size_gb: 20,
            session_expiration: Duration::from_secs(30 * 60),
            idle_stop: Duration::from_secs(3600),
        }
    }
}

/// `identity:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Identity {
    /// SAML federation through an IAM identity provider that exists in the account (`sandboxc
    /// apply` checks it); null (the default): streaming-URL access only, no SAML role.
    pub saml: Option<Saml>,
}

/// `identity.saml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Saml {
    /// Name of the IAM SAML identity provider (`saml-provider/<idp_name>`), 1..128 of `[A-Za-z0-9._-]`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,128}$"))]
    pub idp_name: String,
}

/// `audit:` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Audit {
    /// A CloudTrail trail with S3 data events on the data bucket, the home-folder bucket and
    /// the datasets' prefixes in existing buckets, and management events.
    pub cloudtrail: bool,
    /// The Region's AppStream usage-report subscription.
    pub usage_reports: bool,
    /// Days CloudWatch Logs keeps the sandbox's log groups, the trail's included (one of
    /// CloudWatch's allowed values).
    #[schemars(schema_with = "log_retention_days_schema")]
    pub log_retention_days: u32,
    /// Days S3 Object Lock (governance mode) keeps every object of the trail bucket from being
    /// overwritten or deleted, 1..36500.
    #[schemars(range(min = 1, max = 36500))]
    pub trail_retention_days: u32,
    /// `sandboxc audit --engine athena`: a Glue database with tables over the trail's and the
    /// usage reports' key layouts (partition projection) and an Athena workgroup whose query
    /// results go to an encrypted bucket of the sandbox. Needs `cloudtrail` and
    /// `usage_reports`. Null (the default): none of it.
    pub athena: Option<AthenaAudit>,
}

/// `audit.log_retention_days` in the schema: an integer among
/// [`LOG_RETENTION_DAYS`](super::validate::LOG_RETENTION_DAYS), the values CloudWatch Logs
/// accepts (`PutRetentionPolicy`).
fn log_retention_days_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "integer", "enum": super::validate::LOG_RETENTION_DAYS})
}

impl Default for Audit {
    fn default() -> Self {
        Self { cloudtrail: true, usage_reports: true, log_retention_days: 90, trail_retention_days: 365, athena: None }
    }
}

/// Least `audit.athena.bytes_scanned_limit`: Athena's minimum per-query cutoff, 10,000,000
/// bytes (CloudFormation resource type schema of `AWS::Athena::WorkGroup`,
/// `BytesScannedCutoffPerQuery` minimum).
pub const MIN_BYTES_SCANNED_LIMIT: u64 = 10_000_000;

/// `audit.athena`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AthenaAudit {
    /// Most bytes one query of the workgroup may scan (`BytesScannedCutoffPerQuery`): Athena
    /// cancels a query that goes beyond. At least 10,000,000 (Athena's minimum). Default
    /// 10,000,000,000 (10 GB).
    #[schemars(range(min = 10_000_000))]
    pub bytes_scanned_limit: u64,
    /// Days the workgroup's query results are kept in their bucket (an S3 lifecycle rule),
    /// 1..3650. Default 7.
    #[schemars(range(min = 1, max = 3650))]
    pub results_retention_days: u32,
    /// Export the validator's decisions from its CloudWatch Logs group to a retained bucket of
    /// the sandbox (a subscription filter to a Kinesis Data Firehose stream) with a Glue table
    /// over them, so that they outlive `audit.log_retention_days` and `sandboxc audit --engine
    /// athena` reads them with a query instead of from the log group. Default true.
    pub export_decisions: bool,
}

impl Default for AthenaAudit {
    fn default() -> Self {
        Self { bytes_scanned_limit: 10_000_000_000, results_retention_days: 7, export_decisions: true }
    }
}

#[cfg(test)]
mod tests {
    use sandboxc_contract::users::Authentication;
    use sandboxc_contract::validator::NotebookMode;

    /// The values of a schema-only mirror enum (`oneOf` of `const`s).
    fn values<T: schemars::JsonSchema>() -> Vec<String> {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default();
        schema["oneOf"].as_array().into_iter().flatten().filter_map(|b| b["const"].as_str().map(String::from)).collect()
    }

    #[test]
    fn the_schema_mirrors_hold_the_contract_values() {
        let modes = [NotebookMode::PerUser, NotebookMode::Shared].map(|m| m.as_str().to_string());
        assert_eq!(values::<super::NotebookModeSchema>(), modes);
        let auth = [Authentication::Api, Authentication::Saml]
            .map(|a| serde_json::to_value(a).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default());
        assert_eq!(values::<super::AuthenticationSchema>(), auth);
    }
}
