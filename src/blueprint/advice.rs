//! Warnings: blueprints that are valid, and compile, but most likely do not do what their
//! author meant. A warning never stops a command; every command that compiles a blueprint
//! prints them on standard error, with the place in the file, like a problem.
//!
//! The warnings:
//! - a user with `authentication: saml` while `identity.saml` is not set: sandboxc creates no
//!   SAML role, and the validator refuses a `saml` user's sessions started with a streaming URL,
//!   so this user gets a notebook only through a SAML role managed outside the sandbox;
//! - a dataset granted to no user: no notebook role may read it, so listing it gives nobody
//!   access (and it is easy to believe the opposite).

use std::fmt;

use sandboxc_contract::users::Authentication;

use super::{yaml, Blueprint, Diagnostic, Source};

/// The warnings of one blueprint file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Warnings {
    /// The file as the user named it (or the embedded default's name).
    pub file: String,
    /// The warnings, each with its blueprint path and position; `allowed` holds what to do.
    pub items: Vec<Diagnostic>,
}

impl Warnings {
    /// Whether there is nothing to say.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The warnings of a validated `blueprint` loaded from `source`, with positions in its text.
/// Costs nothing more than a scan of the users when there is nothing to say.
#[must_use]
pub fn warnings(source: &Source, blueprint: &Blueprint) -> Warnings {
    let mut items = Vec::new();
    if blueprint.identity.saml.is_none() {
        for (i, user) in blueprint.users.iter().enumerate() {
            if user.authentication == Authentication::Saml {
                items.push(
                    Diagnostic::new(
                        format!("users[{i}].authentication"),
                        format!(
                            "user {:?} signs in with SAML, but identity.saml is not set: sandboxc creates no SAML role, and the validator refuses a saml user's sessions started with a streaming URL",
                            user.id
                        ),
                    )
                    .allowed("set identity.saml.idp_name, or `authentication: api` for streaming URLs (`sandboxc connect`)"),
                );
            }
        }
    }
    for dataset in &blueprint.datasets {
        let granted = blueprint.users.iter().any(|u| u.grants.iter().any(|g| g.dataset.name == dataset.name));
        if !granted {
            items.push(
                Diagnostic::new(
                    format!("datasets.{}", dataset.name),
                    "is granted to no user: no notebook role may read it",
                )
                .allowed("grant it under a user's `datasets:`, or remove it")
                .on_key(),
            );
        }
    }
    if !items.is_empty() {
        let text = source.text.strip_prefix('\u{feff}').unwrap_or(&source.text);
        let positions = yaml::Positions::index(text);
        for d in &mut items {
            d.at = if d.on_key { positions.key(&d.path) } else { positions.value(&d.path) };
        }
        items.sort_by(|a, b| (a.at.is_none(), a.at, &a.path).cmp(&(b.at.is_none(), b.at, &b.path)));
    }
    Warnings { file: source.name.clone(), items }
}

impl fmt::Display for Warnings {
    /// One line per warning: `FILE:LINE:COLUMN: warning: PATH: MESSAGE (to do: ...)`, with no
    /// trailing newline; nothing when there is no warning.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, d) in self.items.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            d.write_line(f, &self.file, "warning", "to do")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warn(text: &str) -> String {
        let source = Source { name: "b.yaml".into(), text: text.into() };
        let blueprint = crate::blueprint::load(&source).unwrap_or_else(|d| panic!("{d}"));
        warnings(&source, &blueprint).to_string()
    }

    #[test]
    fn a_saml_user_without_identity_saml_is_named_with_its_line() {
        let text = "name: demo\nappstream: {image_name: img}\ndatasets:\n  a:\n    prefix: a/\nusers:\n  - id: alice\n    datasets: {a: read}\n  - id: bob@example.org\n    authentication: saml\n";
        assert_eq!(
            warn(text),
            "b.yaml:10:21: warning: users[1].authentication: user \"bob@example.org\" signs in with SAML, but identity.saml is not set: sandboxc creates no SAML role, and the validator refuses a saml user's sessions started with a streaming URL (to do: set identity.saml.idp_name, or `authentication: api` for streaming URLs (`sandboxc connect`))"
        );
        let with_idp = format!("{text}identity:\n  saml:\n    idp_name: corp\n");
        assert_eq!(warn(&with_idp), "");
    }

    #[test]
    fn a_dataset_granted_to_nobody_is_named_at_its_key() {
        let text = "name: demo\nappstream: {image_name: img}\ndatasets:\n  a:\n    prefix: a/\n  b:\n    prefix: b/\nusers:\n  - id: alice\n    datasets: {a: read}\n";
        assert_eq!(
            warn(text),
            "b.yaml:6:3: warning: datasets.b: is granted to no user: no notebook role may read it (to do: grant it under a user's `datasets:`, or remove it)"
        );
    }

    #[test]
    fn the_default_blueprint_has_no_warning() {
        let source = Source::embedded();
        let blueprint = crate::blueprint::load(&source).unwrap_or_else(|d| panic!("{d}"));
        assert!(warnings(&source, &blueprint).is_empty());
    }
}
