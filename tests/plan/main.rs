//! `sandboxc plan`: offline diffs (golden plans in three formats) and the deployed mode
//! against scripted CloudFormation answers.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod access;
#[path = "../common/mod.rs"]
mod common;
mod cost;
mod deployed;
mod diff;
mod migration;
mod shards;
