//! End to end against the moto AWS emulator on loopback, with the real AWS SDK (started by
//! scripts/test.sh; skipped with a note when SANDBOXC_MOTO_ENDPOINT is not set).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod apply;
mod audit;
#[path = "../common/mod.rs"]
mod common;
mod multi;
