//! The root crate's `src/assets/{identity,package}.rs`, compiled into the packaging test
//! under the same module path (`crate::assets::...`) they use in the root crate.

#![allow(dead_code)]

#[path = "../../../src/assets/identity.rs"]
pub mod identity;
#[path = "../../../src/assets/package.rs"]
pub mod package;
