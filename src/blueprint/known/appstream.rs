//! The AppStream 2.0 instance types a fleet may use (`AWS::AppStream::Fleet.InstanceType`,
//! AppStream API `CreateFleet` `InstanceType`): the `stream.*` types.
//!
//! Source: the AppStream 2.0 administration guide, "AppStream 2.0 instance families" and
//! "AppStream 2.0 service quotas", cross-checked with the AWS Price List's AppStream offers per
//! Region (as bundled by cfn-lint 1.58 for `AWS::AppStream::Fleet.InstanceType`, price data of
//! 2026-10-20): the union over every Region.
//! Recorded on [`AS_OF`]. When AWS adds a type, add it here (sorted) and to
//! docs/aws-facts.md; validation refuses any type not listed.

/// When the list was last compared with its sources.
pub const AS_OF: &str = "2026-12-05";

/// This file, named in messages: where to add a type AWS introduced after [`AS_OF`].
pub const FILE: &str = "src/blueprint/known/appstream.rs";

/// Every known `stream.*` instance type, sorted.
pub const INSTANCE_TYPES: [&str; 61] = [
    "stream.compute.2xlarge",
    "stream.compute.4xlarge",
    "stream.compute.8xlarge",
    "stream.compute.large",
    "stream.compute.xlarge",
    "stream.graphics-design.2xlarge",
    "stream.graphics-design.4xlarge",
    "stream.graphics-design.large",
    "stream.graphics-design.xlarge",
    "stream.graphics-pro.16xlarge",
    "stream.graphics-pro.4xlarge",
    "stream.graphics-pro.8xlarge",
    "stream.graphics.g4dn.12xlarge",
    "stream.graphics.g4dn.16xlarge",
    "stream.graphics.g4dn.2xlarge",
    "stream.graphics.g4dn.4xlarge",
    "stream.graphics.g4dn.8xlarge",
    "stream.graphics.g4dn.xlarge",
    "stream.graphics.g5.12xlarge",
    "stream.graphics.g5.16xlarge",
    "stream.graphics.g5.24xlarge",
    "stream.graphics.g5.2xlarge",
    "stream.graphics.g5.4xlarge",
    "stream.graphics.g5.8xlarge",
    "stream.graphics.g5.xlarge",
    "stream.graphics.g6.12xlarge",
    "stream.graphics.g6.16xlarge",
    "stream.graphics.g6.24xlarge",
    "stream.graphics.g6.2xlarge",
    "stream.graphics.g6.4xlarge",
    "stream.graphics.g6.8xlarge",
    "stream.graphics.g6.xlarge",
    "stream.graphics.g6f.2xlarge",
    "stream.graphics.g6f.4xlarge",
    "stream.graphics.g6f.large",
    "stream.graphics.g6f.xlarge",
    "stream.graphics.g7.12xlarge",
    "stream.graphics.g7.24xlarge",
    "stream.graphics.g7.2xlarge",
    "stream.graphics.g7.48xlarge",
    "stream.graphics.g7.4xlarge",
    "stream.graphics.g7.8xlarge",
    "stream.graphics.gr6.4xlarge",
    "stream.graphics.gr6.8xlarge",
    "stream.graphics.gr6f.4xlarge",
    "stream.memory.2xlarge",
    "stream.memory.4xlarge",
    "stream.memory.8xlarge",
    "stream.memory.large",
    "stream.memory.xlarge",
    "stream.memory.z1d.12xlarge",
    "stream.memory.z1d.2xlarge",
    "stream.memory.z1d.3xlarge",
    "stream.memory.z1d.6xlarge",
    "stream.memory.z1d.large",
    "stream.memory.z1d.xlarge",
    "stream.standard.2xlarge",
    "stream.standard.large",
    "stream.standard.medium",
    "stream.standard.small",
    "stream.standard.xlarge",
];
