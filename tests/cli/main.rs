//! The binary as users run it: exit codes, stdout and stderr of every command, audit
//! reports from fixture directories, and the Lambda packaging.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod audit;
mod audit_athena;
mod commands;
#[path = "../common/mod.rs"]
mod common;
mod connect;
mod cost;
mod package;
