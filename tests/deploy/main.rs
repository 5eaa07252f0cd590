//! The stack lifecycle of `apply`, `bootstrap`, `status` and `destroy`, and the preflight,
//! against an in-memory CloudFormation (and probe) that records every call.
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../common/mod.rs"]
mod common;
mod fake;
mod preflight;
mod scripted;
