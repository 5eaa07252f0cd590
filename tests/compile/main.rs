//! What `synth` produces: golden templates, cfn-lint and checkov, security assertions,
//! the inventory, property tests, bad blueprints, and the one-way rule of the source tree.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod architecture;
mod athena_tables;
mod bad_blueprints;
#[path = "../common/mod.rs"]
mod common;
mod golden;
mod inventory;
mod lint;
mod properties;
mod security;
mod shards;
