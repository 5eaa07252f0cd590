//! The stack lifecycle: `apply`, `bootstrap`, `status` and `destroy`, the deployed side of
//! `plan` ([`preview`]), and a streaming URL into the deployed sandbox ([`connect`], over its own
//! `StreamingUrls` trait).
//!
//! Everything here runs against two traits, [`cloudformation::CloudFormation`] and
//! [`assets::AssetStore`], implemented over the AWS SDK by `src/aws` and in memory by the
//! tests, and ends in a typed [`Outcome`] (or a [`DeployError`]); the command line turns those
//! into words and an exit status. Deploy never builds templates: it receives them compiled
//! ([`Release`], [`AssetsRelease`]). Progress goes through a [`console::Console`].

pub mod adopt;
pub mod apply;
pub mod assets;
pub mod cloudformation;
pub mod connect;
pub mod console;
pub mod deployment;
pub mod events;
pub mod manage;
pub mod network;
pub mod outcome;
pub mod preflight;
pub mod preview;
pub mod release;
pub mod status;

pub use outcome::{DeployError, Outcome};
pub use release::{AssetsRelease, Release};

/// Largest template body CloudFormation accepts inline (`TemplateBody`), in bytes.
pub use crate::cfn::limits::MAX_INLINE_BODY_BYTES as MAX_TEMPLATE_BODY;
/// The logical ID of the bucket in the assets stack (`sandboxc bootstrap`).
pub use sandboxc_contract::assets::ASSETS_BUCKET_RESOURCE;
/// The parameter of the root template that names the assets bucket.
pub use sandboxc_contract::stack::parameters::ASSETS_BUCKET as ASSETS_BUCKET_PARAMETER;
