//! sandboxc compiles one YAML blueprint of an isolated AWS data sandbox into CloudFormation,
//! plans, deploys and audits it.
//!
//! Stages run one way; a module never imports from a later stage: [`blueprint`] (YAML ->
//! validated model) -> [`cfn`] (the CloudFormation model) -> [`assets`] -> [`compile`] (model
//! -> templates) -> [`output`] (deterministic files) -> [`cost`] (monthly estimate) -> the engines [`plan`], [`audit`],
//! [`package`] and [`deploy`] -> [`aws`] (the only module that calls AWS) -> [`cli`] (the commands).

pub mod assets;
pub mod audit;
pub mod aws;
pub mod blueprint;
pub mod cfn;
pub mod cli;
pub mod compile;
pub mod cost;
pub mod deploy;
pub mod output;
pub mod package;
pub mod plan;
