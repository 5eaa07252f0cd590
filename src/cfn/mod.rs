//! The CloudFormation value model: templates, resources, parameters, outputs, intrinsic
//! functions, logical IDs, IAM policy documents, and typed property structs per resource type.

pub mod check;
mod expr;
mod logical_id;
pub mod limits;
pub mod policy;
pub mod render;
pub mod yaml_out;
pub mod resources;
mod template;

pub use expr::Expr;
pub use logical_id::LogicalId;
pub use template::{Output, Parameter, Policy, Resource, ResourceProperties, Template, FORMAT_VERSION};
