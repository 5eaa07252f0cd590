//! The Lambda functions against scripted AWS answers: the validator's decisions (hostile
//! inputs, the whole flow), the provider's handlers and its answers to CloudFormation, and the
//! JSON fixtures of the events they receive. (moto_s3.rs, against the emulator, is apart.)
#![allow(clippy::expect_used, clippy::unwrap_used)]

#[path = "../support/mod.rs"]
#[macro_use]
mod support;

mod fixtures_json;
mod hostile_inputs;
mod provider_answers;
mod provider_handlers;
mod validator_flow;
