//! The CloudFormation value model: templates, resources, parameters, outputs, intrinsic
//! functions, logical IDs, IAM policy documents, and typed property structs per resource type.

pub mod check;
mod expr;
pub mod limits;
mod logical_id;
pub mod policy;
pub mod render;
pub mod resources;
mod template;
pub mod yaml_out;

pub use expr::Expr;
pub use logical_id::LogicalId;
pub use template::{Output, Parameter, Policy, Resource, ResourceProperties, Template, FORMAT_VERSION};
