//! The AWS Regions, in every partition (aws, aws-cn, aws-us-gov, aws-eusc and the isolated
//! ones).
//!
//! Source: the partition metadata the AWS SDKs resolve endpoints with (`partitions.json`,
//! version 1.1, as embedded in the AWS SDK for Rust, `aws-sdk-sts` 1.124.0,
//! `endpoint_lib`), the same list as the AWS General Reference, "Service endpoints"; the
//! `*-global` pseudo-Regions of that file are left out. Recorded on [`AS_OF`]. When AWS opens
//! a Region, add it here (sorted) and to docs/aws-facts.md; validation refuses any Region
//! not listed.

/// When the list was last compared with its sources.
pub const AS_OF: &str = "2026-12-05";

/// This file, named in messages: where to add a Region AWS opened after [`AS_OF`].
pub const FILE: &str = "src/blueprint/known/regions.rs";

/// Every known Region code, sorted.
pub const REGIONS: [&str; 46] = [
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-isoe-west-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-iso-west-1",
    "us-isob-east-1",
    "us-isob-west-1",
    "us-isof-east-1",
    "us-isof-south-1",
    "us-west-1",
    "us-west-2",
];
