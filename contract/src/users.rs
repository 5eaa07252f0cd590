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

/// Up to 16 characters of the user ID for people reading names: lowercase ASCII letters and
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
        if out.len() >= 16 {
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

/// The network generation: 4 lowercase hex characters of the SHA-256 of the VPC's CIDR and the
/// first subnet's zone (`cidr|zone`, the zone as the blueprint gives it: a name, or `#0` for the
/// first zone of `Fn::GetAZs`). A notebook instance lives in the first subnet; a change of
/// either replaces the subnet and with it every notebook instance (`SubnetId` and
/// `SecurityGroupIds` are create-only), and CloudFormation can replace a named resource only
/// under a new name. The generation gives the new instances new names; nothing else changes it.
#[must_use]
pub fn network_generation(cidr: &str, first_zone: &str) -> String {
    Sha256::digest(format!("{cidr}|{first_zone}").as_bytes()).iter().take(2).map(|b| format!("{b:02x}")).collect()
}

/// What every notebook instance name of a user starts with: `<env>-<readable>-<first 8 hex of
/// the user hash>-`. The validator accepts an allow-list entry only for a notebook of the proven
/// user ([`is_notebook_of`]).
#[must_use]
pub fn notebook_name_prefix(env: &str, user_id: &str) -> String {
    format!("{env}-{}-{}-", readable(user_id), &user_hash(user_id)[..8])
}

/// The user's SageMaker notebook instance name: [`notebook_name_prefix`] and the
/// [`network_generation`], at most 62 characters for an environment name of at most 31,
/// matching `[a-zA-Z0-9](-*[a-zA-Z0-9])*` (SageMaker `CreateNotebookInstance`, at most 63). It
/// depends only on the environment, the user ID and the network: adding or removing other users
/// never changes it.
#[must_use]
pub fn notebook_name(env: &str, user_id: &str, generation: &str) -> String {
    format!("{}{generation}", notebook_name_prefix(env, user_id))
}

/// Whether `name` is one of the user's notebook instance names: [`notebook_name_prefix`]
/// followed by a 4-hex-character network generation.
#[must_use]
pub fn is_notebook_of(env: &str, user_id: &str, name: &str) -> bool {
    name.strip_prefix(&notebook_name_prefix(env, user_id))
        .is_some_and(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// The shared notebook instance's name (`notebook.mode: shared`): `<env>-shared-<generation>`.
#[must_use]
pub fn shared_notebook_name(env: &str, generation: &str) -> String {
    format!("{env}-shared-{generation}")
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
/// {"user_id":"alice@example.org","authentication":"saml","notebook":"team-alice-example-or-2bd806c9-0a1b"}
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
        assert_eq!(readable("alice@example.org"), "alice-example-or");
        assert_eq!(readable("__"), "u");
        assert_eq!(readable("A.Very.Long.User.Name@Example.Org"), "a-very-long-user");
        let generation = network_generation("10.10.0.0/16", "#0");
        assert_eq!(generation.len(), 4);
        assert_ne!(generation, network_generation("10.20.0.0/16", "#0"));
        assert_ne!(generation, network_generation("10.10.0.0/16", "eu-west-1a"));
        let nb = notebook_name("team", "alice@example.org", &generation);
        assert_eq!(nb, format!("team-alice-example-or-{}-{generation}", &hash[..8]));
        assert!(is_notebook_of("team", "alice@example.org", &nb));
        assert!(!is_notebook_of("team", "bob@example.org", &nb));
        assert!(!is_notebook_of("team", "alice@example.org", &format!("{nb}0")));
        let longest = notebook_name(&"e".repeat(31), &"x".repeat(128), &generation);
        assert!(longest.len() <= 63, "{longest}");
        assert_eq!(shared_notebook_name("team", "ab12"), "team-shared-ab12");
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
