//! The people of a sandbox: how a user ID becomes a folder hash, a personal prefix, a notebook
//! instance name, an IAM role path, and an allow-list entry.
//!
//! Produced by the compiler (one notebook instance, one execution role and one allow-list
//! entry per user of the blueprint's `users`); consumed by the validator Lambda (it reads the
//! proven user's allow-list entry from SSM Parameter Store and issues a URL for that entry's
//! notebook only), by `sandboxc audit` (a notebook role's path names its user), and by
//! `sandboxc connect`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Lowercase hex SHA-256 of a user ID, exactly as AppStream hashes it for the home folder
/// (`user/custom/<hash>/`, `user/federated/<hash>/`; AppStream 2.0 administration guide,
/// "Home folder formats"): 64 characters.
#[must_use]
pub fn user_hash(user_id: &str) -> String {
    Sha256::digest(user_id.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The user's personal prefix in the data bucket, read-write for that user only:
/// `home/<user_hash>/`.
#[must_use]
pub fn personal_prefix(user_id: &str) -> String {
    format!("{PERSONAL_ROOT}/{}/", user_hash(user_id))
}

/// The first segment of every personal prefix; no dataset prefix may start with it.
pub const PERSONAL_ROOT: &str = "home";

/// Up to 20 characters of the user ID for people reading names: lowercase ASCII letters and
/// digits, other characters as single hyphens, no hyphen at either end (`alice@example.org`
/// -> `alice-example-org`); `u` when nothing is left.
#[must_use]
pub fn readable(user_id: &str) -> String {
    let mut out = String::new();
    for c in user_id.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 20 {
            break;
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "u".to_string()
    } else {
        trimmed.to_string()
    }
}

/// The user's SageMaker notebook instance name: `<env>-<readable>-<first 8 hex of the hash>`,
/// at most 61 characters for an environment name of at most 31, matching
/// `[a-zA-Z0-9](-*[a-zA-Z0-9])*` (SageMaker `CreateNotebookInstance`, at most 63). It depends
/// only on the environment and the user ID: adding or removing other users never changes it.
#[must_use]
pub fn notebook_name(env: &str, user_id: &str) -> String {
    format!("{env}-{}-{}", readable(user_id), &user_hash(user_id)[..8])
}

/// The IAM path of the user's notebook execution role: `/sandboxc/<env>/users/<user_hash>/`.
/// The role's ARN carries it (`arn:aws:iam::<account>:role/sandboxc/<env>/users/<hash>/<name>`),
/// and so does CloudTrail's `userIdentity.sessionContext.sessionIssuer.arn` for every request
/// the notebook makes: that is how `sandboxc audit` names the person behind a notebook's read.
#[must_use]
pub fn role_path(env: &str, user_id: &str) -> String {
    format!("{}{}/", users_role_path(env), user_hash(user_id))
}

/// The IAM path under which every user role of the sandbox lives: `/sandboxc/<env>/users/`.
/// Key and bucket policies name the users' roles with `aws:PrincipalArn` like
/// `arn:<partition>:iam::<account>:role/sandboxc/<env>/users/*`.
#[must_use]
pub fn users_role_path(env: &str) -> String {
    format!("/sandboxc/{env}/users/")
}

/// The IAM path of the one notebook execution role of a sandbox in shared notebook mode
/// (`notebook.mode: shared`): `/sandboxc/<env>/shared/`. Key policies name it with
/// `aws:PrincipalArn`; it is never under [`users_role_path`], so `sandboxc audit` never
/// attributes its reads to one person.
#[must_use]
pub fn shared_role_path(env: &str) -> String {
    format!("/sandboxc/{env}/shared/")
}

/// The tag key naming the user of a per-user resource (notebook instance, execution role,
/// allow-list parameter); its value is the user ID exactly as in the blueprint. `sandboxc
/// plan` reads it to name the person whose access changes.
pub const USER_TAG: &str = "sandboxc:user";

/// The user hash in a role ARN under [`users_role_path`], if the ARN is one:
/// `arn:aws:iam::123456789012:role/sandboxc/team/users/<hash>/Name` -> `<hash>`.
#[must_use]
pub fn user_hash_of_role_arn<'a>(env: &str, role_arn: &'a str) -> Option<&'a str> {
    let (_, path) = role_arn.split_once(":role")?;
    let rest = path.strip_prefix(&users_role_path(env))?;
    let (hash, name) = rest.split_once('/')?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) && !name.is_empty() && !name.contains('/'))
        .then_some(hash)
}

/// The SSM parameter path under which the allow-list entries live: `/sandboxc/<env>/users/`.
#[must_use]
pub fn allow_list_prefix(env: &str) -> String {
    format!("/sandboxc/{env}/users/")
}

/// The SSM parameter holding one user's allow-list entry: `/sandboxc/<env>/users/<user_hash>`.
/// The stack owns it: it exists exactly while the user is in the deployed blueprint, and
/// CloudFormation deletes it with the user. The validator never infers a user's access from
/// anything else (notebooks may be retained after their user is removed).
#[must_use]
pub fn allow_list_parameter(env: &str, user_id: &str) -> String {
    format!("{}{}", allow_list_prefix(env), user_hash(user_id))
}

/// How a user starts sessions, which decides the home folder and the
/// `AuthenticationType` the validator asks AppStream `DescribeSessions` for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Authentication {
    /// A streaming URL (`CreateStreamingURL`): home folder `user/custom/<hash>/`, AppStream
    /// authentication type `API`.
    #[default]
    Api,
    /// SAML 2.0 federation: home folder `user/federated/<hash>/`, authentication type `SAML`.
    Saml,
}

impl Authentication {
    /// The home-folder access segment: `custom` or `federated`.
    #[must_use]
    pub fn folder(self) -> &'static str {
        match self {
            Self::Api => "custom",
            Self::Saml => "federated",
        }
    }

    /// AppStream's `AuthenticationType`: `API` or `SAML`.
    #[must_use]
    pub fn appstream(self) -> &'static str {
        match self {
            Self::Api => "API",
            Self::Saml => "SAML",
        }
    }
}

/// The value of an allow-list parameter: one JSON object.
///
/// ```json
/// {"user_id":"alice@example.org","authentication":"saml","notebook":"team-alice-example-org-2bd806c9"}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowListEntry {
    /// The user ID exactly as in the blueprint (and as AppStream reports it).
    pub user_id: String,
    /// How the user starts sessions.
    pub authentication: Authentication,
    /// The notebook instance the validator may issue this user a URL for.
    pub notebook: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_derive_from_the_environment_and_the_user_only() {
        let hash = user_hash("alice@example.org");
        assert_eq!(hash.len(), 64);
        assert_eq!(readable("alice@example.org"), "alice-example-org");
        assert_eq!(readable("__"), "u");
        assert_eq!(readable("A.Very.Long.User.Name@Example.Org"), "a-very-long-user-nam");
        let nb = notebook_name("team", "alice@example.org");
        assert_eq!(nb, format!("team-alice-example-org-{}", &hash[..8]));
        let longest = notebook_name(&"e".repeat(31), &"x".repeat(128));
        assert!(longest.len() <= 63, "{longest}");
        assert_eq!(personal_prefix("alice@example.org"), format!("home/{hash}/"));
        assert_eq!(allow_list_parameter("team", "alice@example.org"), format!("/sandboxc/team/users/{hash}"));
    }

    #[test]
    fn a_role_arn_names_its_user() {
        let hash = user_hash("bob");
        let arn = format!("arn:aws:iam::123456789012:role{}Generated-Name", role_path("team", "bob"));
        assert_eq!(user_hash_of_role_arn("team", &arn), Some(hash.as_str()));
        assert_eq!(user_hash_of_role_arn("other", &arn), None);
        assert_eq!(user_hash_of_role_arn("team", "arn:aws:iam::123456789012:role/team-validator"), None);
    }

    #[test]
    fn allow_list_entries_are_strict_json() {
        let e = AllowListEntry { user_id: "a".into(), authentication: Authentication::Saml, notebook: "n".into() };
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(text, r#"{"user_id":"a","authentication":"saml","notebook":"n"}"#);
        assert_eq!(serde_json::from_str::<AllowListEntry>(&text).unwrap(), e);
        assert!(serde_json::from_str::<AllowListEntry>(
            r#"{"user_id":"a","authentication":"api","notebook":"n","x":1}"#
        )
        .is_err());
    }
}
