//! Logical IDs: the names of resources inside a template.

use std::fmt;

use serde::{Serialize, Serializer};

/// A CloudFormation logical ID: 1..255 ASCII letters and digits (CloudFormation user guide,
/// "Resources" section). Logical IDs are stable across synths: they never contain hashes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogicalId(String);

impl LogicalId {
    /// Wraps `id`.
    ///
    /// # Panics
    /// Never on user input: logical IDs are written in the compiler's source. A malformed one is a
    /// programming error caught by the compiler's tests, so this constructor asserts in debug
    /// builds and [`crate::cfn::check`] reports it in every build.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        let id = id.into();
        debug_assert!(Self::is_valid(&id), "malformed logical ID {id:?}");
        Self(id)
    }

    /// `id` when it is well formed (1..255 ASCII letters and digits), for IDs read from a
    /// template: never asserts.
    #[must_use]
    pub fn parse(id: &str) -> Option<Self> {
        Self::is_valid(id).then(|| Self(id.to_string()))
    }

    /// Whether `id` is 1..255 ASCII alphanumerics.
    #[must_use]
    pub fn is_valid(id: &str) -> bool {
        (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
    }

    /// The ID as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LogicalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for LogicalId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl From<&str> for LogicalId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}
