//! Semantic validation of the people of a sandbox: `datasets`, `users` and
//! `storage.admin_principals`. Every problem is reported at once, each at its blueprint path;
//! what passes becomes the validated [`Dataset`]s and [`User`]s (grants resolved to datasets,
//! user hashes and notebook names derived).

use std::collections::{BTreeMap, BTreeSet};

use sandboxc_contract::users::{notebook_name, user_hash, Authentication, PERSONAL_ROOT};
use sandboxc_contract::validator::NotebookMode;
use unicode_security::{skeleton, MixedScript};

use super::diagnostics::Diagnostic;
use super::document::Document;
use super::known;
use super::model::{Dataset, DatasetBucket, ExistingBucket, Grant, User};
use super::validate::bucket_name_problem;

/// Most users a blueprint lists: each user has an IAM role, and an account holds at most
/// 5,000 roles once the quota is raised from its default of 1,000 (IAM user guide, "IAM and
/// AWS STS quotas"). The templates are no limit: per-user resources live in nested "users"
/// stacks (`notebook.shards`), and no policy lists every user.
pub const MAX_USERS: usize = 5000;

/// Longest dataset prefix: S3 object keys are at most 1,024 bytes (S3 user guide, "Naming
/// Amazon S3 objects").
pub const MAX_PREFIX_BYTES: usize = 1024;

/// The characters a dataset prefix may hold besides `/`: S3's "safe characters" without `*`
/// (a wildcard in IAM resource ARNs), plus `=` and `+` (partition-style prefixes such as
/// `year=2026/`).
const PREFIX_PUNCTUATION: &str = "-_.!'()=+";

/// What a user ID may hold, in words, per authentication.
const API_ID_RULE: &str = "2 to 32 characters: letters, digits and _ + = . @ - (AppStream CreateStreamingURL user IDs; ',' is left out because the ID is the value of the tag sandboxc:user)";
const SAML_ID_RULE: &str = "2 to 128 characters: letters, digits, spaces and _ . : / = + - @ (AppStream DescribeSessions user IDs that are also tag values: the ID is the value of the tag sandboxc:user)";

/// The validated datasets, users and admin principals; `None` for datasets or users when a
/// problem was pushed.
pub(super) fn validate(b: &Document, out: &mut Vec<Diagnostic>) -> Option<(Vec<Dataset>, Vec<User>)> {
    let before = out.len();
    let datasets = datasets(b, out);
    let users = users(b, &datasets, out);
    admin_principals(b, out);
    (out.len() == before).then_some((datasets, users))
}

fn datasets(b: &Document, out: &mut Vec<Diagnostic>) -> Vec<Dataset> {
    let mut valid = Vec::new();
    for (name, d) in &b.datasets {
        let at = format!("datasets.{name}");
        let before = out.len();
        if !is_dataset_name(name) {
            out.push(
                Diagnostic::new(at.clone(), format!("dataset name {name:?} is not allowed"))
                    .allowed("1 to 63 characters: a lowercase letter, then lowercase letters, digits or '-'")
                    .on_key(),
            );
        }
        let bucket = match &d.bucket_arn {
            None => {
                if d.kms_key_arn.is_some() {
                    out.push(
                        Diagnostic::new(
                            format!("{at}.kms_key_arn"),
                            "is only used with bucket_arn (the data bucket's key is the sandbox's own)",
                        )
                        .allowed("leave it out, or name the existing bucket with bucket_arn"),
                    );
                }
                DatasetBucket::Data
            }
            Some(arn) => match existing_bucket(b, &at, arn, d.kms_key_arn.as_deref(), out) {
                Some(e) => DatasetBucket::Existing(e),
                None => DatasetBucket::Data,
            },
        };
        let in_data_bucket = d.bucket_arn.is_none();
        if let Some(problem) = prefix_problem(&d.prefix, in_data_bucket) {
            out.push(Diagnostic::new(format!("{at}.prefix"), format!("{:?} {problem}", d.prefix)).allowed(format!(
                "a prefix of segments of letters, digits and {PREFIX_PUNCTUATION}, each followed by '/', such as datasets/{name}/{}",
                if in_data_bucket { format!("; never under {PERSONAL_ROOT}/ (the users' personal prefixes)") } else { String::new() }
            )));
        }
        if out.len() == before {
            valid.push(Dataset { name: name.clone(), bucket, prefix: d.prefix.clone() });
        }
    }
    // Within one bucket, no prefix may contain another: a grant of one would reach the other.
    for (i, a) in valid.iter().enumerate() {
        for b in &valid[i + 1..] {
            if bucket_key(a) != bucket_key(b) {
                continue;
            }
            // One existing bucket has one default encryption key.
            if let (Some(ea), Some(eb)) = (a.existing(), b.existing()) {
                if ea.kms_key_arn != eb.kms_key_arn {
                    out.push(
                        Diagnostic::new(
                            format!("datasets.{}.kms_key_arn", b.name),
                            format!("differs from dataset {}'s kms_key_arn, in the same bucket {}", a.name, ea.name),
                        )
                        .allowed("the same kms_key_arn (or none) for every dataset of one bucket"),
                    );
                }
            }
            let (outer, inner) = if b.prefix.starts_with(&a.prefix) {
                (a, b)
            } else if a.prefix.starts_with(&b.prefix) {
                (b, a)
            } else {
                continue;
            };
            let what = if outer.prefix == inner.prefix { "is the same as" } else { "lies inside" };
            out.push(
                Diagnostic::new(
                    format!("datasets.{}.prefix", inner.name),
                    format!(
                        "{:?} {what} dataset {}'s prefix {:?} in the same bucket: a grant of {} would reach {}",
                        inner.prefix, outer.name, outer.prefix, outer.name, inner.name
                    ),
                )
                .allowed("prefixes of one bucket that do not contain each other"),
            );
        }
    }
    valid
}

/// The bucket a dataset lives in, for the overlap rule: `None` for the data bucket.
fn bucket_key(d: &Dataset) -> Option<&str> {
    d.existing().map(|e| e.name.as_str())
}

fn existing_bucket(
    b: &Document,
    at: &str,
    arn: &str,
    kms_key_arn: Option<&str>,
    out: &mut Vec<Diagnostic>,
) -> Option<ExistingBucket> {
    let path = format!("{at}.bucket_arn");
    let parsed = arn.strip_prefix("arn:").and_then(|rest| {
        let (partition, name) = rest.split_once(":s3:::")?;
        is_partition(partition).then(|| (partition.to_string(), name.to_string()))
    });
    let Some((partition, name)) = parsed else {
        out.push(
            Diagnostic::new(path, format!("{arn:?} is not an S3 bucket ARN"))
                .allowed("arn:<partition>:s3:::<bucket>, such as arn:aws:s3:::corp-claims"),
        );
        return None;
    };
    if let Some(problem) = bucket_name_problem(&name) {
        out.push(
            Diagnostic::new(path, format!("{arn:?} names the bucket {name:?}, which {problem}"))
                .allowed("arn:<partition>:s3:::<bucket> with a valid bucket name, such as arn:aws:s3:::corp-claims"),
        );
        return None;
    }
    if b.storage.bucket_name.as_deref() == Some(name.as_str()) {
        out.push(
            Diagnostic::new(path, format!("{arn:?} is the sandbox's own data bucket (storage.bucket_name)"))
                .allowed("leave bucket_arn out for a dataset in the data bucket"),
        );
        return None;
    }
    if b.account.is_none() {
        out.push(
            Diagnostic::new(
                path,
                "needs the blueprint's `account:`: the statements synth writes for the bucket's owner name the sandbox's account",
            )
            .allowed("set account: \"123456789012\" (the sandbox's account), or keep the dataset in the data bucket"),
        );
        return None;
    }
    let kms_key_arn = match kms_key_arn {
        None => None,
        Some(key) if is_kms_key_arn(key, &partition) => {
            // The roles may use the key only through S3 of the sandbox's Region
            // (`kms:ViaService` s3.<region>.amazonaws.com): a key of another Region never works.
            let key_region = key.split(':').nth(3).unwrap_or_default();
            if let Some(region) = b.region.as_deref().filter(|r| *r != key_region) {
                out.push(
                    Diagnostic::new(
                        format!("{at}.kms_key_arn"),
                        format!("{key:?} is a key of {key_region}, but the sandbox deploys to {region} (region:)"),
                    )
                    .allowed(format!(
                        "a KMS key of {region}: the roles use the key only through S3 in the sandbox's Region (kms:ViaService), and S3 encrypts with a key of the bucket's Region"
                    )),
                );
                return None;
            }
            Some(key.to_string())
        }
        Some(key) => {
            out.push(
                Diagnostic::new(
                    format!("{at}.kms_key_arn"),
                    format!("{key:?} is not a KMS key ARN of partition {partition}"),
                )
                .allowed(
                    "arn:<partition>:kms:<region>:<account>:key/<key-id> (an alias does not work in IAM policies)",
                ),
            );
            return None;
        }
    };
    Some(ExistingBucket { arn: arn.to_string(), partition, name, kms_key_arn })
}

fn users(b: &Document, datasets: &[Dataset], out: &mut Vec<Diagnostic>) -> Vec<User> {
    let by_name: BTreeMap<&str, &Dataset> = datasets.iter().map(|d| (d.name.as_str(), d)).collect();
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    let mut notebooks: BTreeMap<String, usize> = BTreeMap::new();
    let mut skeletons: BTreeMap<String, (usize, &str)> = BTreeMap::new();
    let generation = b.network.generation();
    let mut valid = Vec::new();
    for (i, u) in b.users.iter().enumerate() {
        let at = format!("users[{i}]");
        let before = out.len();
        if let Some(rule) = id_problem(&u.id, u.authentication) {
            out.push(
                Diagnostic::new(
                    format!("{at}.id"),
                    format!(
                        "{:?} is not a user ID sandboxc accepts for authentication {}",
                        u.id,
                        auth_name(u.authentication)
                    ),
                )
                .allowed(rule),
            );
        }
        if let Some(problem) = look_alike(&u.id, i, &mut skeletons) {
            out.push(problem.at(&at));
        }
        let repeated = match first.get(u.id.as_str()) {
            Some(j) => {
                out.push(
                    Diagnostic::new(format!("{at}.id"), format!("{:?} is listed twice (first as users[{j}])", u.id))
                        .allowed("each user once; give one entry all of the user's datasets"),
                );
                true
            }
            None => {
                first.insert(&u.id, i);
                false
            }
        };
        let mut grants = Vec::new();
        for (name, access) in &u.datasets {
            match by_name.get(name.as_str()) {
                Some(d) => grants.push(Grant { dataset: (*d).clone(), access: *access }),
                // A dataset with its own problem is reported there; only unknown names here.
                None if b.datasets.contains_key(name) => {}
                None => {
                    let defined: Vec<&str> = b.datasets.keys().map(String::as_str).collect();
                    out.push(
                        Diagnostic::new(format!("{at}.datasets.{name}"), format!("dataset {name:?} is not defined"))
                            .allowed(if defined.is_empty() {
                                "a dataset defined under datasets: (none is)".to_string()
                            } else {
                                format!("one of the datasets defined under datasets: {}", defined.join(", "))
                            })
                            .on_key(),
                    );
                }
            }
        }
        let mut instance_type = b.notebook.instance_type.clone();
        let mut volume_size_gb = b.notebook.volume_size_gb;
        if let Some(nb) = &u.notebook {
            if b.notebook.mode == NotebookMode::Shared {
                out.push(
                    Diagnostic::new(
                        format!("{at}.notebook"),
                        "sets a notebook of the user's own, but notebook.mode is shared (one notebook for every user)",
                    )
                    .allowed("leave it out, or set notebook.mode: per_user"),
                );
            }
            if let Some(t) = &nb.instance_type {
                match known::NOTEBOOK_INSTANCE_TYPES.check(t, "ml.t3.large") {
                    None => instance_type = t.clone(),
                    Some(u) => {
                        out.push(Diagnostic::new(format!("{at}.notebook.instance_type"), u.message).allowed(u.allowed))
                    }
                }
            }
            if let Some(v) = nb.volume_size_gb {
                volume_size_gb = v;
            }
        }
        let name = notebook_name(&b.name, &u.id, &generation);
        if repeated {
            // Reported above; the same ID gives the same name.
        } else if let Some(j) = notebooks.get(&name) {
            out.push(
                Diagnostic::new(
                    format!("{at}.id"),
                    format!("gives the notebook instance name {name}, which users[{j}] already has"),
                )
                .allowed("user IDs whose readable part or hash differ"),
            );
        } else {
            notebooks.insert(name.clone(), i);
        }
        if out.len() == before {
            valid.push(User {
                id: u.id.clone(),
                authentication: u.authentication,
                hash: user_hash(&u.id),
                notebook_name: name,
                grants,
                instance_type,
                volume_size_gb,
            });
        }
    }
    valid
}

fn admin_principals(b: &Document, out: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    for (i, arn) in b.storage.admin_principals.iter().enumerate() {
        let path = format!("storage.admin_principals[{i}]");
        if !is_role_arn(arn) {
            out.push(
                Diagnostic::new(path.clone(), format!("{arn:?} is not an IAM role ARN"))
                    .allowed("arn:<partition>:iam::<12-digit account>:role/[path/]<name>, such as arn:aws:iam::123456789012:role/data-admin (no wildcards)"),
            );
        }
        let role_account = arn.split(':').nth(4).unwrap_or_default();
        if let Some(account) = b.account.as_deref().filter(|a| is_role_arn(arn) && *a != role_account) {
            out.push(
                Diagnostic::new(path.clone(), format!("{arn:?} is a role of account {role_account}, not of the sandbox's account {account}"))
                    .allowed(format!("a role of account {account}: the data key admits only callers of the sandbox's account (kms:CallerAccount), so another account's role could not read the data")),
            );
        }
        if !seen.insert(arn) {
            out.push(Diagnostic::new(path, format!("{arn:?} is listed twice")).allowed("each role once"));
        }
    }
}

/// `api` or `saml`, as written in the blueprint.
fn auth_name(a: Authentication) -> &'static str {
    match a {
        Authentication::Api => "api",
        Authentication::Saml => "saml",
    }
}

/// `[a-z][a-z0-9-]{0,62}`.
fn is_dataset_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Why a prefix is not allowed, if it is not.
fn prefix_problem(prefix: &str, in_data_bucket: bool) -> Option<String> {
    if prefix.is_empty() {
        return Some("is empty: a grant would reach the whole bucket".into());
    }
    if prefix.len() > MAX_PREFIX_BYTES {
        return Some(format!("is longer than {MAX_PREFIX_BYTES} bytes (S3's longest key)"));
    }
    if prefix.starts_with('/') {
        return Some("starts with '/'".into());
    }
    if !prefix.ends_with('/') {
        return Some("does not end with '/'".into());
    }
    if let Some(c) =
        prefix.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '/' || PREFIX_PUNCTUATION.contains(*c)))
    {
        return Some(format!("contains {c:?}"));
    }
    let segments: Vec<&str> = prefix.trim_end_matches('/').split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Some("has an empty segment ('//')".into());
    }
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Some("has a '.' or '..' segment".into());
    }
    if in_data_bucket && segments.first() == Some(&PERSONAL_ROOT) {
        return Some(format!("is under {PERSONAL_ROOT}/, where the users' personal prefixes live"));
    }
    None
}

/// A user ID's rule in words when `id` breaks it.
fn id_problem(id: &str, authentication: Authentication) -> Option<&'static str> {
    let n = id.chars().count();
    match authentication {
        Authentication::Api => {
            let ok = (2..=32).contains(&n) && id.chars().all(|c| c.is_ascii_alphanumeric() || "_+=.@-".contains(c));
            (!ok).then_some(API_ID_RULE)
        }
        Authentication::Saml => {
            let ok = (2..=128).contains(&n)
                && id.chars().all(|c| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c))
                && !id.starts_with(' ')
                && !id.ends_with(' ');
            (!ok).then_some(SAML_ID_RULE)
        }
    }
}

/// A look-alike user ID: one that mixes scripts (a Cyrillic `а` among Latin letters), or one
/// that reads like an earlier user's ID without being it (fullwidth `ａlice` after `alice`, or
/// `aIice` with a capital I). Two such users would be two notebooks, roles and grants that a
/// reviewer cannot tell apart in a plan. Detection follows Unicode Technical Standard #39
/// (single script with augmented script sets; confusable skeletons). `skeletons` maps each
/// earlier user's skeleton to its index and ID; `id`'s is added when it is new.
fn look_alike<'a>(id: &'a str, index: usize, skeletons: &mut BTreeMap<String, (usize, &'a str)>) -> Option<LookAlike> {
    if !id.is_single_script() {
        return Some(LookAlike {
            message: format!("{id:?} mixes letters of several scripts, so it can look like another ID"),
            allowed:
                "letters of one script (digits and punctuation may be added), as the identity provider spells the user",
        });
    }
    let key: String = skeleton(id).collect();
    match skeletons.get(&key) {
        Some((j, other)) if *other != id => Some(LookAlike {
            message: format!("{id:?} looks like users[{j}] {other:?} (the same characters to a reader)"),
            allowed: "user IDs that a reader can tell apart",
        }),
        Some(_) => None,
        None => {
            skeletons.insert(key, (index, id));
            None
        }
    }
}

/// A look-alike user ID's problem, placed at its user by [`LookAlike::at`].
struct LookAlike {
    message: String,
    allowed: &'static str,
}

impl LookAlike {
    fn at(self, user: &str) -> Diagnostic {
        Diagnostic::new(format!("{user}.id"), self.message).allowed(self.allowed)
    }
}

/// `aws`, `aws-cn`, `aws-us-gov`, `aws-iso-b`...
fn is_partition(p: &str) -> bool {
    p.strip_prefix("aws").is_some_and(|rest| {
        rest.is_empty()
            || rest
                .strip_prefix('-')
                .is_some_and(|r| r.split('-').all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase())))
    })
}

/// `arn:<partition>:iam::<12 digits>:role/[path/]<name>` (IAM user guide, "IAM identifiers":
/// role names and path segments of letters, digits and `_+=,.@-`).
fn is_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else { return false };
    let Some((partition, rest)) = rest.split_once(":iam::") else { return false };
    let Some((account, resource)) = rest.split_once(":role/") else { return false };
    let segments: Vec<&str> = resource.split('/').collect();
    is_partition(partition)
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && segments.last().is_some_and(|name| (1..=64).contains(&name.len()))
        && segments
            .iter()
            .all(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)))
}

/// `arn:<partition>:kms:<region>:<12 digits>:key/<id>`.
fn is_kms_key_arn(arn: &str, partition: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_word, p, service, region, account, resource] = parts.as_slice() else { return false };
    *arn_word == "arn"
        && *p == partition
        && *service == "kms"
        && !region.is_empty()
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && account.len() == 12
        && account.chars().all(|c| c.is_ascii_digit())
        && resource
            .strip_prefix("key/")
            .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_allows_at_most_max_users() {
        let schema: serde_json::Value =
            serde_json::from_str(&crate::blueprint::schema::schema_json()).unwrap_or_default();
        assert_eq!(schema["properties"]["users"]["maxItems"], MAX_USERS);
    }

    #[test]
    fn prefixes() {
        assert_eq!(prefix_problem("datasets/genomics/", true), None);
        assert_eq!(prefix_problem("year=2026/", false), None);
        for bad in ["", "/a/", "a", "a//b/", "a/../b/", "a*/", "home/x/"] {
            assert!(prefix_problem(bad, true).is_some(), "{bad}");
        }
        assert_eq!(prefix_problem("home/x/", false), None, "home/ is only reserved in the data bucket");
    }

    #[test]
    fn user_ids() {
        assert_eq!(id_problem("alice@example.org", Authentication::Api), None);
        assert!(id_problem("a", Authentication::Api).is_some());
        assert!(id_problem(&"a".repeat(33), Authentication::Api).is_some());
        assert!(id_problem("a,b", Authentication::Api).is_some());
        assert_eq!(id_problem(&"a".repeat(128), Authentication::Saml), None);
        assert_eq!(id_problem("Jörg Müller", Authentication::Saml), None);
        assert!(id_problem("DOMAIN\\user", Authentication::Saml).is_some());
    }

    #[test]
    fn look_alike_user_ids() {
        let mut seen = BTreeMap::new();
        for (i, id) in ["alice@example.org", "bob@example.org", "Jörg Müller", "山田太郎"].into_iter().enumerate()
        {
            assert!(look_alike(id, i, &mut seen).is_none(), "{id}");
        }
        assert!(look_alike("alice@example.org", 9, &mut seen).is_none(), "a repeat is reported as listed twice");
        let mixed = look_alike("\u{430}lice@example.org", 4, &mut seen).map(|p| p.message);
        assert!(mixed.is_some_and(|m| m.contains("several scripts")));
        for (id, like) in [("\u{ff41}lice@example.org", "alice@example.org"), ("Bob@example.org", "")] {
            let found = look_alike(id, 5, &mut seen).map(|p| p.message);
            if like.is_empty() {
                assert!(found.is_none(), "{id}: a capital B is not a b");
            } else {
                assert!(found.is_some_and(|m| m.contains("users[0]") && m.contains(like)), "{id}");
            }
        }
        assert!(look_alike("aIice@example.org", 6, &mut seen).is_some_and(|p| p.message.contains("users[0]")));
    }

    #[test]
    fn arns() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/admin"));
        assert!(is_role_arn("arn:aws-us-gov:iam::123456789012:role/team/data-admin"));
        for bad in [
            "arn:aws:iam::123456789012:user/admin",
            "arn:aws:iam::12345678901:role/admin",
            "arn:aws:iam::123456789012:role/*",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:sts::123456789012:assumed-role/admin/x",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
        assert!(is_kms_key_arn("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "aws"));
        assert!(!is_kms_key_arn("arn:aws:kms:eu-west-1:123456789012:alias/x", "aws"));
        assert!(is_partition("aws-iso-b") && !is_partition("awsx") && !is_partition("aws-"));
    }
}
