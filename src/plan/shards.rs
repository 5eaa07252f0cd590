//! Users that move between users shards: when the shard count changes (`notebook.shards`, or
//! synth's choice for a new user count), a user's resources leave one users stack
//! (`Users03NestedStack`) and arrive in another under the same logical IDs. CloudFormation
//! sees a removal and a creation; [`moves`] pairs them up by user so that the plan can say who
//! moves where, and what that costs them.

use std::collections::BTreeMap;

use sandboxc_contract::users::USER_TAG;

use super::diff::Compared;
use super::model::Action;
use crate::cfn::{Expr, Resource, Template};

/// One user whose resources move from one users shard to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMove {
    /// The user ID (from the `sandboxc:user` tag or the allow-list entry), else the logical ID
    /// prefix of the user's resources (`UserAliceExampleOr7a64adf2`).
    pub user: String,
    /// The stack label of the shard the user leaves (`users03`).
    pub from: String,
    /// The stack label of the shard the user joins (`users17`).
    pub to: String,
    /// Whether the user has a notebook instance of their own that moves (`per_user` mode):
    /// it is replaced.
    pub notebook: bool,
}

/// Whether a stack label is a users shard's (`users01`..`users99`).
#[must_use]
pub fn is_shard_label(label: &str) -> bool {
    label.strip_prefix("users").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The users whose resources are removed from one users shard and added to another, sorted by
/// user. A logical ID removed and added within one shard (or outside the shards) is no move.
#[must_use]
pub fn moves(compared: &[Compared<'_>]) -> Vec<UserMove> {
    // Logical ID -> (stack label, the resource) on each side.
    let mut removed: BTreeMap<&str, (&str, Option<&Resource>)> = BTreeMap::new();
    let mut added: BTreeMap<&str, (&str, Option<&Resource>)> = BTreeMap::new();
    for c in compared.iter().filter(|c| is_shard_label(&c.diff.stack)) {
        for r in &c.diff.resources {
            match r.action {
                Action::Remove => {
                    removed.insert(&r.logical_id, (&c.diff.stack, c.old_resource(&r.logical_id)));
                }
                Action::Add => {
                    added.insert(&r.logical_id, (&c.diff.stack, c.new_resource(&r.logical_id)));
                }
                _ => {}
            }
        }
    }
    // User prefix -> the move (one per user, whichever of their resources is seen first).
    let mut by_user: BTreeMap<String, UserMove> = BTreeMap::new();
    for (id, (to, resource)) in &added {
        let Some((from, old)) = removed.get(id) else { continue };
        if from == to {
            continue;
        }
        let prefix = user_prefix(id);
        let m = by_user.entry(prefix.to_string()).or_insert_with(|| UserMove {
            user: prefix.to_string(),
            from: (*from).to_string(),
            to: (*to).to_string(),
            notebook: false,
        });
        if let Some(user) = resource.and_then(user_of).or_else(|| old.and_then(user_of)) {
            m.user = user;
        }
        m.notebook |= resource.is_some_and(|r| r.kind == "AWS::SageMaker::NotebookInstance");
    }
    let mut out: Vec<UserMove> = by_user.into_values().collect();
    out.sort_by(|a, b| a.user.cmp(&b.user));
    out
}

/// The shard count a template set was placed by: the users templates' descriptions say
/// `users shard N of COUNT`. `None` without users templates.
#[must_use]
pub fn shard_count<'a>(templates: impl IntoIterator<Item = &'a Template>) -> Option<u32> {
    templates.into_iter().find_map(|t| {
        let rest = t.description.split("users shard ").nth(1)?;
        let count = rest.split(" of ").nth(1)?;
        count.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    })
}

/// The logical ID prefix every resource of one user shares: the ID without its last word
/// (`UserAliceExampleOr7a64adf2Notebook` -> `UserAliceExampleOr7a64adf2`).
fn user_prefix(id: &str) -> &str {
    ["Notebook", "Role", "AllowList"].iter().find_map(|s| id.strip_suffix(s)).unwrap_or(id)
}

/// The user ID a resource carries: its `sandboxc:user` tag, or the `user_id` of an allow-list
/// entry's JSON value.
fn user_of(r: &Resource) -> Option<String> {
    if let Some(Expr::List(tags)) = r.properties.get("Tags") {
        for t in tags {
            if let Expr::Map(m) = t {
                if matches!(m.get("Key"), Some(Expr::Str(k)) if k == USER_TAG) {
                    if let Some(Expr::Str(v)) = m.get("Value") {
                        return Some(v.clone());
                    }
                }
            }
        }
    }
    if r.kind == "AWS::SSM::Parameter" {
        if let Some(Expr::Str(v)) = r.properties.get("Value") {
            let value: serde_json::Value = serde_json::from_str(v).ok()?;
            return value.get("user_id").and_then(serde_json::Value::as_str).map(str::to_string);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_labels_and_prefixes() {
        assert!(is_shard_label("users01") && is_shard_label("users99"));
        assert!(!is_shard_label("users") && !is_shard_label("notebook") && !is_shard_label("usersx1"));
        assert_eq!(user_prefix("UserBob686b5e4cAllowList"), "UserBob686b5e4c");
        assert_eq!(user_prefix("Other"), "Other");
        let mut t = Template::new("sandboxc data sandbox x: users shard 3 of 16: a SageMaker notebook instance");
        assert_eq!(shard_count([&t]), Some(16));
        t.description = "no shard".into();
        assert_eq!(shard_count([&t]), None);
    }
}
