//! The stack lifecycle of `apply`, `bootstrap`, `status` and `destroy` against an in-memory
//! CloudFormation that records every call.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
mod fake;
mod scripted;
