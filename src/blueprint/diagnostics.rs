//! Errors in a blueprint, with the place they occur and what is allowed instead.

use std::fmt;

use super::yaml::Pos;

/// One problem in a blueprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Blueprint path such as `network.cidr` or `network.availability_zones[1]`; empty for the document.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// What is allowed instead, when that can be said.
    pub allowed: Option<String>,
    /// Where in the file; None when the value is a default that the file does not contain.
    pub at: Option<Pos>,
    /// Whether the problem is the key itself (unknown, repeated, reserved), so the position
    /// is the key's rather than the value's.
    pub on_key: bool,
}

impl Diagnostic {
    /// A diagnostic at `path` with no position yet (the loader adds it).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into(), allowed: None, at: None, on_key: false }
    }

    /// Marks the key, not the value, as the place of the problem.
    #[must_use]
    pub fn on_key(mut self) -> Self {
        self.on_key = true;
        self
    }

    /// Writes `FILE:LINE:COLUMN: SEVERITY: PATH: MESSAGE (LABEL: ALLOWED)` without a newline
    /// (`FILE: SEVERITY: ...` without a position, no `PATH: ` for the document, no parenthesis
    /// when nothing is allowed).
    ///
    /// # Errors
    /// The formatter's.
    pub fn write_line(&self, f: &mut fmt::Formatter<'_>, file: &str, severity: &str, label: &str) -> fmt::Result {
        match self.at {
            Some(p) => write!(f, "{file}:{}:{}: {severity}: ", p.line, p.column)?,
            None => write!(f, "{file}: {severity}: ")?,
        }
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(a) = &self.allowed {
            write!(f, " ({label}: {a})")?;
        }
        Ok(())
    }

    /// Adds what is allowed instead.
    #[must_use]
    pub fn allowed(mut self, allowed: impl Into<String>) -> Self {
        self.allowed = Some(allowed.into());
        self
    }
}

/// Every problem found in one blueprint file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics {
    /// The file as the user named it (or the embedded default's name).
    pub file: String,
    /// The problems, sorted by position (unpositioned last), then path.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Sorts `items` by position, then path, and wraps them.
    #[must_use]
    pub fn new(file: impl Into<String>, mut items: Vec<Diagnostic>) -> Self {
        items.sort_by(|a, b| {
            let ka = (a.at.is_none(), a.at, &a.path, &a.message);
            let kb = (b.at.is_none(), b.at, &b.path, &b.message);
            ka.cmp(&kb)
        });
        items.dedup();
        Self { file: file.into(), items }
    }
}

impl fmt::Display for Diagnostics {
    /// One line per problem: `FILE:LINE:COLUMN: error: PATH: MESSAGE (allowed: ...)`, then a count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            d.write_line(f, &self.file, "error", "allowed")?;
            writeln!(f)?;
        }
        let n = self.items.len();
        write!(f, "{} has {n} error{}; nothing was written", self.file, if n == 1 { "" } else { "s" })
    }
}

impl std::error::Error for Diagnostics {}
