//! The contract between sandboxc and the Lambda functions it deploys: every name and shape
//! that two sides must agree on, defined once.
//!
//! Each item says who produces it and who consumes it. The producer and the consumer may be
//! in different crates (the compiler writes a template, the Lambda crate reads what
//! CloudFormation passes on), or in different stages of sandboxc (the compiler writes a stack
//! output, `apply` and `audit` read it back from CloudFormation). A name defined here is
//! never written as a literal anywhere else.
//!
//! | module | agreement |
//! |---|---|
//! | [`stack`] | the root stack's parameters and outputs; nested-stack logical IDs |
//! | [`assets`] | the assets stack of `sandboxc bootstrap` |
//! | [`validator`] | the validator Lambda's environment and the home-folder layout it serves |
//! | [`decision`] | the validator's decision-log line (written by the Lambda, read by `sandboxc audit`) |
//! | [`custom_resource`] | the custom-resource types, their properties and attributes |
//! | [`users`] | user hashes, personal prefixes, notebook and role names, allow-list entries |
//!
//! This crate depends on serde and sha2 only: the Lambda functions are built from it, and it is part
//! of their asset identity.

pub mod assets;
pub mod custom_resource;
pub mod decision;
pub mod stack;
pub mod users;
pub mod validator;
