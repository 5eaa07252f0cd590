//! "Who can reach what": the people of a sandbox and the data perimeter, read from both
//! template sets (never from a blueprint, so that it also works against a synth directory and a
//! deployed stack), and what changes between them.
//!
//! - Users: the allow-list entries (`AWS::SSM::Parameter`s whose value is an
//!   [`AllowListEntry`]). A user is added or removed with their entry.
//! - Grants: the S3 object statements of the notebook roles (roles under `users_role_path`, or
//!   the shared role in shared notebook mode), each object resource a prefix read or written.
//!   A user's grants are their own role's, or the shared role's when the validator's
//!   `SANDBOX_NOTEBOOK_MODE` is `shared`; personal prefixes (`home/...`) come and go with the user.
//! - Admin principals: the `aws:PrincipalArn` values the data bucket policy's Deny statements
//!   exempt (other buckets' exemptions, such as the decisions bucket's writer, reach no data).
//! - Perimeter conditions: the condition keys of bucket policies' Deny statements, of key
//!   policies' statements, and of the roles of users on both sides, compared per statement that
//!   exists on both sides (a new or removed statement is the security section's business). The
//!   direction follows the statement's effect: a condition added to an Allow narrows it
//!   (tightened), one added to a Deny exempts requests from it (relaxed). The admin exemption
//!   (`aws:PrincipalArn` under an `ArnNot*` operator) is reported as admin principals instead.
//! - Shared mode: the validator's `SANDBOX_NOTEBOOK_MODE`.
//!
//! Values are resolved across nested stacks ([`Tree::resolve`]), so a resource reads the same
//! whichever template names it.

use std::collections::{BTreeMap, BTreeSet};

use sandboxc_contract::users::{user_hash, AllowListEntry, PERSONAL_ROOT, USER_TAG};
use sandboxc_contract::validator::{NotebookMode, ENV_NOTEBOOK_MODE};

use super::model::{AccessChange, AccessKind, Direction};
use super::resolve::{Resolved, Tree};
use super::source::TemplateSet;
use super::unchanged::Unchanged;
use crate::cfn::policy::{Effect, PolicyDocument};
use crate::cfn::Expr;
use crate::compile::DATA_BUCKET_POLICY;

/// How far a grant reaches on one prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Read,
    ReadWrite,
}

impl Level {
    fn word(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::ReadWrite => "read-write",
        }
    }
}

/// One side's people and perimeter (or one stack's part of them).
#[derive(Debug, Clone, Default)]
struct Side {
    /// User ID -> allow-list entry.
    users: BTreeMap<String, AllowListEntry>,
    /// User hash -> the user's own role's grants (prefix text -> level).
    roles: BTreeMap<String, BTreeMap<String, Level>>,
    /// The shared role's grants, when there is one.
    shared_role: Option<BTreeMap<String, Level>>,
    /// Whether the validator runs in shared notebook mode.
    shared_mode: bool,
    /// Whether the validator declares a notebook mode at all (templates before per-user notebooks do not).
    has_mode: bool,
    /// Admin principals exempted from the bucket policies' Deny statements.
    admins: BTreeSet<String>,
    /// Perimeter conditions per statement: (where, statement) -> (effect, operator and key).
    perimeter: BTreeMap<(String, String), (Effect, Conditions)>,
    /// Condition keys of each user's role: hash -> statement -> (operator, key).
    role_conditions: BTreeMap<String, BTreeMap<String, Conditions>>,
}

impl Side {
    /// Adds what the next stack read holds (a later stack's entry replaces an earlier one's).
    fn merge(&mut self, next: Side) {
        self.users.extend(next.users);
        self.roles.extend(next.roles);
        if next.shared_role.is_some() {
            self.shared_role = next.shared_role;
        }
        if next.has_mode {
            self.has_mode = true;
            self.shared_mode = next.shared_mode;
        }
        self.admins.extend(next.admins);
        self.perimeter.extend(next.perimeter);
        self.role_conditions.extend(next.role_conditions);
    }

    /// The grants of a user: their role's (per-user mode) or the shared role's, without the
    /// personal prefix.
    fn grants(&self, user_id: &str) -> BTreeMap<String, Level> {
        let all = if self.shared_mode {
            self.shared_role.clone().unwrap_or_default()
        } else {
            self.roles.get(&user_hash(user_id)).cloned().unwrap_or_default()
        };
        all.into_iter().filter(|(p, _)| !is_personal(p)).collect()
    }
}

/// Whether a grant's text is a personal prefix: `home/<64 hex>/ in ...`.
fn is_personal(text: &str) -> bool {
    text.strip_prefix(PERSONAL_ROOT)
        .and_then(|r| r.strip_prefix('/'))
        .and_then(|r| r.split_once('/'))
        .is_some_and(|(hash, _)| hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Every access change between the two sets: relaxations first, then by subject.
#[must_use]
pub fn analyze(old: &TemplateSet, new: &TemplateSet) -> Vec<AccessChange> {
    let (old_tree, new_tree) = (Tree::new(old), Tree::new(new));
    // An unchanged stack holds the same on both sides: read once.
    let unchanged = Unchanged::find(&old_tree, &new_tree);
    let mut once = BTreeMap::new();
    let n = read(&new_tree, &unchanged, &mut once);
    let o = read(&old_tree, &unchanged, &mut once);
    let mut out = Vec::new();
    let push = |out: &mut Vec<AccessChange>, kind: AccessKind, subject: &str, summary: String| {
        out.push(AccessChange { kind, direction: kind.direction(), subject: subject.to_string(), summary });
    };
    if o.shared_mode != n.shared_mode && (o.has_mode || n.shared_mode) {
        if n.shared_mode {
            push(&mut out, AccessKind::SharedModeOn, "notebook mode", "shared notebook mode turned on: every listed user gets the same notebook and role, which reaches every user's datasets (the weaker posture)".into());
        } else {
            push(&mut out, AccessKind::SharedModeOff, "notebook mode", "shared notebook mode turned off: each user gets a notebook and a role of their own, reaching only their grants".into());
        }
    }
    for (id, entry) in &n.users {
        if !o.users.contains_key(id) {
            let reach = describe(&n.grants(id));
            push(
                &mut out,
                AccessKind::UserAdded,
                id,
                format!(
                    "user {id} added ({} authentication, notebook {}): may start sessions and reach {reach}",
                    auth(entry),
                    entry.notebook
                ),
            );
        }
    }
    for (id, entry) in &o.users {
        if !n.users.contains_key(id) {
            push(&mut out, AccessKind::UserRemoved, id, format!("user {id} removed: the allow-list entry and the user's role go in this apply (no notebook URL, no data access); the notebook instance {} follows its DeletionPolicy (see data-loss risks)", entry.notebook));
        }
    }
    for id in n.users.keys().filter(|id| o.users.contains_key(*id)) {
        let (before, after) = (o.grants(id), n.grants(id));
        for (prefix, level) in &after {
            match before.get(prefix) {
                None => push(&mut out, AccessKind::GrantAdded, id, format!("{id} may now {} {prefix}", verb(*level))),
                Some(old) if old < level => push(
                    &mut out,
                    AccessKind::GrantWidened,
                    id,
                    format!("{id}: {prefix} widened from {} to {}", old.word(), level.word()),
                ),
                Some(old) if old > level => push(
                    &mut out,
                    AccessKind::GrantNarrowed,
                    id,
                    format!("{id}: {prefix} narrowed from {} to {}", old.word(), level.word()),
                ),
                Some(_) => {}
            }
        }
        for prefix in before.keys().filter(|p| !after.contains_key(*p)) {
            push(&mut out, AccessKind::GrantRemoved, id, format!("{id} may no longer reach {prefix}"));
        }
        let hash = user_hash(id);
        if let (Some(a), Some(b)) = (o.role_conditions.get(&hash), n.role_conditions.get(&hash)) {
            for (sid, before) in a {
                let Some(after) = b.get(sid) else { continue };
                for (kind, what, (op, key)) in condition_changes(Effect::Allow, before, after) {
                    push(&mut out, kind, id, format!("the role of {id}: condition {op} {key} {what} statement {sid}"));
                }
            }
        }
    }
    for a in n.admins.difference(&o.admins) {
        push(&mut out, AccessKind::AdminPrincipalAdded, a, format!("admin principal {a} added: may reach the data from outside the sandbox (not through its S3 endpoint) and use the data key"));
    }
    for a in o.admins.difference(&n.admins) {
        push(
            &mut out,
            AccessKind::AdminPrincipalRemoved,
            a,
            format!("admin principal {a} removed: no more access from outside the sandbox"),
        );
    }
    for ((at, sid), (effect, before)) in &o.perimeter {
        let Some((new_effect, after)) = n.perimeter.get(&(at.clone(), sid.clone())) else {
            if *effect == Effect::Deny && n.perimeter.keys().any(|(a, _)| a == at) {
                let summary = format!(
                    "{at}: Deny statement {sid} removed, with its conditions: nothing it denied is denied any more"
                );
                push(&mut out, AccessKind::PerimeterConditionRemoved, at, summary);
            }
            continue;
        };
        if new_effect != effect {
            continue;
        }
        let statement = if *effect == Effect::Deny { "Deny statement" } else { "statement" };
        for (kind, what, (op, key)) in condition_changes(*effect, before, after) {
            push(&mut out, kind, at, format!("{at}: condition {op} {key} {what} {statement} {sid}"));
        }
    }
    out.sort_by(|a, b| {
        (a.direction, a.kind, &a.subject, &a.summary).cmp(&(b.direction, b.kind, &b.subject, &b.summary))
    });
    out
}

/// The conditions added to and removed from one statement, each with its kind and wording. A
/// condition narrows the statement it is on: added to an Allow it tightens, added to a Deny it
/// exempts requests from the Deny, a relaxation.
fn condition_changes<'a>(
    effect: Effect,
    before: &'a Conditions,
    after: &'a Conditions,
) -> Vec<(AccessKind, &'static str, &'a (String, String))> {
    let (added, removed) = match effect {
        Effect::Allow => (AccessKind::PerimeterConditionAdded, AccessKind::PerimeterConditionRemoved),
        Effect::Deny => (AccessKind::DenyConditionAdded, AccessKind::DenyConditionRemoved),
    };
    let gone = before.difference(after).map(|c| (removed, "removed from", c));
    gone.chain(after.difference(before).map(|c| (added, "added to", c))).collect()
}

fn auth(entry: &AllowListEntry) -> &'static str {
    match entry.authentication {
        sandboxc_contract::users::Authentication::Api => "api",
        sandboxc_contract::users::Authentication::Saml => "saml",
    }
}

fn verb(level: Level) -> &'static str {
    match level {
        Level::Read => "read",
        Level::ReadWrite => "read and write",
    }
}

/// `datasets/genomics/ in DataBucket (read), ...`, or `no dataset`.
fn describe(grants: &BTreeMap<String, Level>) -> String {
    if grants.is_empty() {
        return "no dataset (only a personal prefix)".into();
    }
    grants.iter().map(|(p, l)| format!("{p} ({})", l.word())).collect::<Vec<_>>().join(", ")
}

/// Reads one side, stack by stack; an [`Unchanged`] stack is read once for both sides
/// (`once`: its part by logical-ID path).
fn read(tree: &Tree<'_>, unchanged: &Unchanged, once: &mut BTreeMap<String, Side>) -> Side {
    let mut side = Side::default();
    for (i, node) in tree.nodes.iter().enumerate() {
        if !unchanged.contains(&node.path) {
            side.merge(read_stack(tree, i));
            continue;
        }
        let part = once.entry(node.path.clone()).or_insert_with(|| read_stack(tree, i));
        side.merge(part.clone());
    }
    side
}

/// Reads the stack of node `i`.
fn read_stack(tree: &Tree<'_>, i: usize) -> Side {
    let mut side = Side::default();
    let node = &tree.nodes[i];
    for (id, r) in &node.template.resources {
        let resolved = |e: &Expr| tree.resolve(i, e);
        let prop = |name: &str| r.properties.get(name);
        match r.kind.as_str() {
            "AWS::SSM::Parameter" => {
                let Some(Resolved::Scalar(value)) = prop("Value").map(resolved) else { continue };
                if let Ok(entry) = serde_json::from_str::<AllowListEntry>(&value) {
                    side.users.insert(entry.user_id.clone(), entry);
                }
            }
            "AWS::IAM::Role" => {
                let Some(Resolved::Scalar(path)) = prop("Path").map(resolved) else { continue };
                let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
                let (grants, conditions) = role_grants(tree, i, r.properties.get("Policies"));
                match segments.as_slice() {
                    ["sandboxc", _, "users", hash] => {
                        let hash = tag(r.properties.get("Tags"), USER_TAG)
                            .map_or_else(|| (*hash).to_string(), |u| user_hash(&u));
                        side.roles.insert(hash.clone(), grants);
                        side.role_conditions.insert(hash, conditions);
                    }
                    ["sandboxc", _, "shared"] => side.shared_role = Some(grants),
                    _ => {}
                }
            }
            "AWS::Lambda::Function" => {
                let mode = prop("Environment").and_then(|e| e.get("Variables")).and_then(|v| v.get(ENV_NOTEBOOK_MODE));
                if let Some(Resolved::Scalar(mode)) = mode.map(resolved) {
                    side.has_mode = true;
                    side.shared_mode = mode == NotebookMode::Shared.as_str();
                }
            }
            "AWS::S3::BucketPolicy" => {
                let Some(doc) = prop("PolicyDocument").and_then(|d| PolicyDocument::from_expr(d).ok()) else {
                    continue;
                };
                let at = format!("bucket policy {id}");
                for (n, s) in doc.statement.iter().enumerate().filter(|(_, s)| s.effect == Effect::Deny) {
                    let sid = s.sid.clone().unwrap_or_else(|| format!("#{n}"));
                    let mut conditions = Conditions::new();
                    for (op, keys) in &s.condition {
                        for (key, value) in keys {
                            if key == "aws:PrincipalArn"
                                && op.starts_with("ArnNot")
                                && id.as_str() == DATA_BUCKET_POLICY
                            {
                                for v in value.as_list().unwrap_or(std::slice::from_ref(value)) {
                                    side.admins.insert(text(&resolved(v)));
                                }
                            } else {
                                conditions.insert((op.clone(), key.clone()));
                            }
                        }
                    }
                    side.perimeter.insert((at.clone(), sid), (Effect::Deny, conditions));
                }
            }
            "AWS::KMS::Key" => {
                let Some(doc) = prop("KeyPolicy").and_then(|d| PolicyDocument::from_expr(d).ok()) else { continue };
                let at = format!("key policy {id}");
                for (n, s) in doc.statement.iter().enumerate() {
                    let sid = s.sid.clone().unwrap_or_else(|| format!("#{n}"));
                    let conditions =
                        s.condition.iter().flat_map(|(op, keys)| keys.keys().map(|k| (op.clone(), k.clone())));
                    side.perimeter.insert((at.clone(), sid), (s.effect, conditions.collect()));
                }
            }
            _ => {}
        }
    }
    side
}

/// The value of tag `key` in a `[{Key, Value}]` list, when it is a literal.
fn tag(tags: Option<&Expr>, key: &str) -> Option<String> {
    tags?
        .as_list()?
        .iter()
        .find(|t| t.get("Key").and_then(Expr::as_str) == Some(key))?
        .get("Value")?
        .as_str()
        .map(str::to_string)
}

/// The condition keys of one statement: (operator, key).
type Conditions = BTreeSet<(String, String)>;

/// A role's S3 object grants (prefix text -> level) and the condition keys of its Allow
/// statements (statement -> conditions).
fn role_grants(
    tree: &Tree<'_>,
    node: usize,
    policies: Option<&Expr>,
) -> (BTreeMap<String, Level>, BTreeMap<String, Conditions>) {
    let mut grants = BTreeMap::new();
    let mut conditions: BTreeMap<String, Conditions> = BTreeMap::new();
    for p in policies.and_then(Expr::as_list).unwrap_or_default() {
        let Some(doc) = p.get("PolicyDocument").and_then(|d| PolicyDocument::from_expr(d).ok()) else { continue };
        for (n, s) in doc.statement.iter().enumerate().filter(|(_, s)| s.effect == Effect::Allow) {
            let sid = s.sid.clone().unwrap_or_else(|| format!("#{n}"));
            let entry = conditions.entry(sid).or_default();
            for (op, keys) in &s.condition {
                entry.extend(keys.keys().map(|key| (op.clone(), key.clone())));
            }
            let actions: Vec<&str> = s.action.iter().filter_map(Expr::as_str).collect();
            let level = if actions
                .iter()
                .any(|a| matches!(*a, "s3:PutObject" | "s3:DeleteObject" | "s3:*" | "s3:PutObject*"))
            {
                Level::ReadWrite
            } else if actions.iter().any(|a| matches!(*a, "s3:GetObject" | "s3:GetObject*")) {
                Level::Read
            } else {
                continue;
            };
            for r in &s.resource {
                let t = text(&tree.resolve(node, r));
                if let Some(prefix) = object_prefix(&t) {
                    let e = grants.entry(prefix).or_insert(level);
                    *e = (*e).max(level);
                }
            }
        }
    }
    (grants, conditions)
}

/// `arn:...:s3:::BUCKET/PREFIX*` as `PREFIX in BUCKET` (a bucket of the stack by its logical
/// ID, another one as `s3://name`); `None` for what is not an object prefix.
fn object_prefix(arn: &str) -> Option<String> {
    let rest = arn.split_once(":s3:::").map_or(arn, |(_, r)| r);
    let (bucket, key) = rest.split_once('/')?;
    let prefix = key.strip_suffix('*').unwrap_or(key);
    let bucket =
        if bucket.starts_with('<') { bucket.trim_matches(['<', '>']).to_string() } else { format!("s3://{bucket}") };
    Some(if prefix.is_empty() { format!("every object in {bucket}") } else { format!("{prefix} in {bucket}") })
}

/// A resolved value as text: resources as `<LogicalId>`, pseudo parameters as `${AWS::...}`.
fn text(v: &Resolved) -> String {
    match v {
        Resolved::Null => String::new(),
        Resolved::Scalar(s) => s.clone(),
        Resolved::Resource((_, id), None) => format!("<{id}>"),
        Resolved::Resource((_, id), Some(attr)) if attr == "Arn" => format!("arn:aws:s3:::<{id}>"),
        Resolved::Resource((_, id), Some(attr)) => format!("<{id}.{attr}>"),
        Resolved::Parameter((_, name)) => format!("${{{name}}}"),
        Resolved::List(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
        Resolved::Map(_) => "{...}".into(),
        Resolved::Call(name, args) => match (name.as_str(), args.as_slice()) {
            ("Ref", [Resolved::Scalar(n)]) => format!("${{{n}}}"),
            ("Fn::Sub", parts) => parts.iter().map(text).collect(),
            _ => format!("{name}(...)"),
        },
    }
}

/// The label of a resource of a tree for people: `stack/LogicalId`.
fn label(tree: &Tree<'_>, key: &super::resolve::ResourceKey) -> String {
    let stack = tree.by_path.get(&key.0).map_or_else(|| key.0.clone(), |i| tree.nodes[*i].label.clone());
    format!("{stack}/{}", key.1)
}

/// The resources the value of `property` of a resource depends on, resolved in its tree.
fn depends_on(
    tree: &Tree<'_>,
    stack_path: &str,
    resource: &crate::cfn::Resource,
    property: &str,
) -> BTreeSet<super::resolve::ResourceKey> {
    let mut out = BTreeSet::new();
    if let (Some(node), Some(v)) = (tree.by_path.get(stack_path), resource.properties.get(property)) {
        super::resolve::dependencies(&tree.resolve(*node, v), &mut out);
    }
    out
}

/// What a retained bucket that is replaced or removed loses, as security-relevant changes: the
/// bucket policies that name it and are deleted rather than retained, and the trail selectors
/// that stop recording it (they name the new bucket, or nothing).
#[must_use]
pub fn retained_bucket_losses(
    compared: &[super::diff::Compared<'_>],
    old: &TemplateSet,
) -> Vec<super::model::SecurityChange> {
    use super::model::{Action, SecurityCategory, SecurityChange};
    let tree = Tree::new(old);
    let fate = |path: &str, id: &str| -> Option<(Action, Option<&crate::cfn::Resource>)> {
        let c = compared.iter().find(|c| c.diff.logical_id_path == path)?;
        let r = c.diff.resources.iter().find(|r| r.logical_id == id)?;
        Some((r.action, c.old_resource(id)))
    };
    let mut out = Vec::new();
    for c in compared {
        for r in c.diff.resources.iter().filter(|r| r.resource_type == "AWS::S3::Bucket") {
            let Some(bucket) = c.old_resource(&r.logical_id) else { continue };
            let (how, policy) = match r.action {
                Action::Remove => ("removed", bucket.deletion_policy),
                Action::Replace => ("replaced", bucket.update_replace_policy),
                _ => continue,
            };
            if !policy.is_some_and(crate::cfn::Policy::retains) {
                continue;
            }
            let key = (c.diff.logical_id_path.clone(), r.logical_id.clone());
            let mut push = |category, summary: String| {
                out.push(SecurityChange {
                    stack: c.diff.stack.clone(),
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    category,
                    direction: Direction::Relaxed,
                    summary,
                });
            };
            for (i, node) in tree.nodes.iter().enumerate() {
                for (pid, p) in &node.template.resources {
                    let names_it = || depends_on(&tree, &node.path, p, "Bucket").contains(&key);
                    if p.kind == "AWS::S3::BucketPolicy" && names_it() {
                        let (action, kept) = match fate(&node.path, pid.as_str()) {
                            Some((Action::Remove, Some(o))) => {
                                (Action::Remove, o.deletion_policy.is_some_and(crate::cfn::Policy::retains))
                            }
                            Some((Action::Replace, Some(o))) => {
                                (Action::Replace, o.update_replace_policy.is_some_and(crate::cfn::Policy::retains))
                            }
                            // Unchanged or updated in place: it stays with the bucket it names.
                            _ => continue,
                        };
                        if kept {
                            continue;
                        }
                        let sids = p
                            .properties
                            .get("PolicyDocument")
                            .and_then(|d| PolicyDocument::from_expr(d).ok())
                            .map(|d| d.statement.iter().filter_map(|s| s.sid.clone()).collect::<Vec<_>>().join(", "))
                            .unwrap_or_default();
                        let verb = if action == Action::Remove { "removed" } else { "replaced" };
                        push(
                            SecurityCategory::BucketPolicy,
                            format!(
                                "the old bucket {} ({how}, retained with its data) loses its bucket policy {} (statements: {sids}): the policy resource is {verb} without being retained, so none of its statements guard the data the old bucket keeps",
                                r.logical_id,
                                label(&tree, &(node.path.clone(), pid.to_string()))
                            ),
                        );
                    }
                    if p.kind == "AWS::CloudTrail::Trail" {
                        for sel in p.properties.get("EventSelectors").and_then(Expr::as_list).unwrap_or_default() {
                            for dr in sel.get("DataResources").and_then(Expr::as_list).unwrap_or_default() {
                                for v in dr.get("Values").and_then(Expr::as_list).unwrap_or_default() {
                                    let mut deps = BTreeSet::new();
                                    super::resolve::dependencies(&tree.resolve(i, v), &mut deps);
                                    if deps.contains(&key) {
                                        push(
                                            SecurityCategory::Logging,
                                            format!(
                                                "the old bucket {} ({how}, retained with its data) is no longer recorded by the trail {}: its S3 data-event selector names the new bucket (or nothing), so reads of the data the old bucket keeps leave no data events",
                                                r.logical_id,
                                                label(&tree, &(node.path.clone(), pid.to_string()))
                                            ),
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Warnings for bucket policies that move between templates: removed (not retained) from one
/// and added in another for the same bucket.
#[must_use]
pub fn moved_bucket_policies(
    compared: &[super::diff::Compared<'_>],
    old: &TemplateSet,
    new: &TemplateSet,
) -> Vec<super::model::Warning> {
    use super::model::{Action, Warning};
    let (old_tree, new_tree) = (Tree::new(old), Tree::new(new));
    let policies = |action: Action| -> Vec<(String, BTreeSet<super::resolve::ResourceKey>)> {
        let mut out = Vec::new();
        for c in compared {
            for r in
                c.diff.resources.iter().filter(|r| r.resource_type == "AWS::S3::BucketPolicy" && r.action == action)
            {
                let (tree, resource) = match action {
                    Action::Remove => (&old_tree, c.old_resource(&r.logical_id)),
                    _ => (&new_tree, c.new_resource(&r.logical_id)),
                };
                let Some(resource) = resource else { continue };
                if action == Action::Remove && resource.deletion_policy.is_some_and(crate::cfn::Policy::retains) {
                    continue;
                }
                let key = (c.diff.logical_id_path.clone(), r.logical_id.clone());
                out.push((label(tree, &key), depends_on(tree, &c.diff.logical_id_path, resource, "Bucket")));
            }
        }
        out
    };
    let (removed, added) = (policies(Action::Remove), policies(Action::Add));
    let mut out = Vec::new();
    for (from, a) in &removed {
        for (to, b) in &added {
            if let Some(bucket) = a.intersection(b).next() {
                out.push(Warning::BucketPolicyMoved {
                    bucket: label(&new_tree, bucket),
                    from: from.clone(),
                    to: to.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_read_for_people() {
        assert_eq!(
            object_prefix("arn:${AWS::Partition}:s3:::<DataBucket>/datasets/x/*").as_deref(),
            Some("datasets/x/ in DataBucket")
        );
        assert_eq!(object_prefix("arn:${AWS::Partition}:s3:::corp/2026/*").as_deref(), Some("2026/ in s3://corp"));
        assert_eq!(object_prefix("arn:aws:s3:::corp"), None);
        assert!(is_personal(&format!("home/{}/ in DataBucket", "a".repeat(64))));
        assert!(!is_personal("home/alice/ in DataBucket"));
    }
}
