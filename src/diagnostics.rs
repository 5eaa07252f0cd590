//! The blueprint's diagnostics, under their former path: they live in
//! [`crate::blueprint::diagnostics`]. Kept only while `lib.rs` declares this module; new code
//! imports from the blueprint stage.

pub use crate::blueprint::diagnostics::{Diagnostic, Diagnostics};
