//! The CloudFormation model, both ways: templates, resources, parameters, outputs, intrinsic
//! functions with typed `Ref` targets and parsed `Fn::Sub` strings, logical IDs, IAM policy
//! documents, security-group rules, and typed property structs per resource type. The
//! compiler builds templates; [`Template::parse`] reads them back (synth output, deployed
//! templates) for `plan`; [`check`] verifies references; [`render`] writes the bytes.
//! Imports nothing from later stages.

pub mod check;
mod error;
mod expr;
mod json_out;
pub mod limits;
mod logical_id;
mod map;
pub mod policy;
mod reference;
pub mod render;
pub mod resources;
pub mod security_group;
mod sub;
mod template;
pub mod yaml_out;

pub use error::{CfnError, Problem};
pub use expr::{is_function_key, Expr, ToExpr, MODELLED_FUNCTIONS};
pub use logical_id::LogicalId;
pub use map::ExprMap;
pub use reference::{Pseudo, Scope, Target};
pub use sub::{Sub, SubPart};
pub use template::{
    Output, Parameter, Policy, Resource, ResourceProperties, Template, FORMAT_VERSION, OTHER_PARAMETER_KEYS,
    RESOURCE_ATTRIBUTES, SECTIONS,
};
