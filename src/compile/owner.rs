//! What the owners of existing buckets must add for the datasets the sandbox reads there:
//! ready-to-apply bucket-policy statements (and key-policy statements for a bucket's SSE-KMS
//! key), each naming exactly the notebook roles granted the dataset. `synth` writes them as
//! files of the output and prints them; the sandbox's own roles carry the rest of the guard
//! (their statements allow those buckets only through the sandbox's S3 gateway endpoint).

use std::collections::{BTreeMap, BTreeSet};

use sandboxc_contract::users::{role_path, shared_role_path};
use sandboxc_contract::validator::NotebookMode;
use serde_json::{json, Value};

use crate::blueprint::{Access, Blueprint, Dataset};

use super::notebook::{DATA_KEY_ACTIONS, READ_OBJECT_ACTIONS, WRITE_OBJECT_ACTIONS};

/// What one owner must add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerPolicyKind {
    /// Statements for a bucket policy.
    Bucket,
    /// Statements for a KMS key policy.
    Key,
}

/// One policy document for the owner of a resource the sandbox does not own.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnerPolicy {
    /// A bucket policy or a key policy.
    pub kind: OwnerPolicyKind,
    /// The bucket or key ARN.
    pub resource: String,
    /// File name under the output directory: `bucket-policies/<bucket>.json` or
    /// `key-policies/<key id>.json`.
    pub file: String,
    /// The policy document holding the statements to add (`Version`, `Statement`).
    pub document: Value,
}

/// The owner policies of every existing bucket (and its key) that a user is granted, sorted by
/// file. Empty without such datasets.
#[must_use]
pub fn owner_policies(b: &Blueprint) -> Vec<OwnerPolicy> {
    let Some(account) = b.account.as_deref() else { return Vec::new() };
    let env = &b.names.env;
    // Per dataset in an existing bucket: the role-path patterns that may read, and write.
    let mut per_dataset: BTreeMap<&str, (&Dataset, BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for u in &b.users {
        for g in &u.grants {
            let Some(e) = g.dataset.existing() else { continue };
            let path = match b.notebook.mode {
                NotebookMode::PerUser => role_path(env, &u.id),
                NotebookMode::Shared => shared_role_path(env),
            };
            let pattern = format!("arn:{}:iam::{account}:role{path}*", e.partition);
            let entry =
                per_dataset.entry(&g.dataset.name).or_insert_with(|| (&g.dataset, BTreeSet::new(), BTreeSet::new()));
            entry.1.insert(pattern.clone());
            if g.access == Access::ReadWrite {
                entry.2.insert(pattern);
            }
        }
    }
    let sid_env = camel(env);
    let mut buckets: BTreeMap<&str, (&str, Vec<Value>)> = BTreeMap::new();
    let mut keys: BTreeMap<&str, (String, Vec<Value>)> = BTreeMap::new();
    for (name, (d, read, write)) in &per_dataset {
        let Some(e) = d.existing() else { continue };
        let root = json!({"AWS": format!("arn:{}:iam::{account}:root", e.partition)});
        let principals =
            |set: &BTreeSet<String>| json!({"ArnLike": {"aws:PrincipalArn": set.iter().collect::<Vec<_>>()}});
        let title = camel(name);
        let statements = &mut buckets.entry(&e.name).or_insert_with(|| (&e.arn, Vec::new())).1;
        let objects = format!("{}/{}*", e.arn, d.prefix);
        let mut list_condition = principals(read);
        list_condition["StringLike"] = json!({"s3:prefix": [format!("{}*", d.prefix)]});
        statements.push(json!({
            "Sid": format!("Sandbox{sid_env}List{title}"),
            "Effect": "Allow",
            "Principal": root,
            "Action": ["s3:ListBucket"],
            "Resource": [e.arn],
            "Condition": list_condition,
        }));
        statements.push(json!({
            "Sid": format!("Sandbox{sid_env}Read{title}"),
            "Effect": "Allow",
            "Principal": root,
            "Action": READ_OBJECT_ACTIONS,
            "Resource": [objects],
            "Condition": principals(read),
        }));
        if !write.is_empty() {
            statements.push(json!({
                "Sid": format!("Sandbox{sid_env}Write{title}"),
                "Effect": "Allow",
                "Principal": root,
                "Action": WRITE_OBJECT_ACTIONS,
                "Resource": [objects],
                "Condition": principals(write),
            }));
        }
        if let Some(key) = &e.kms_key_arn {
            let region = key.split(':').nth(3).unwrap_or_default();
            let via = json!({"kms:ViaService": format!("s3.{region}.amazonaws.com")});
            let statements = &mut keys.entry(key).or_insert_with(|| (e.name.clone(), Vec::new())).1;
            let mut condition = principals(read);
            condition["StringEquals"] = via.clone();
            statements.push(json!({
                "Sid": format!("Sandbox{sid_env}Decrypt{title}"),
                "Effect": "Allow",
                "Principal": root,
                "Action": [DATA_KEY_ACTIONS[0]],
                "Resource": "*",
                "Condition": condition,
            }));
            if !write.is_empty() {
                let mut condition = principals(write);
                condition["StringEquals"] = via;
                statements.push(json!({
                    "Sid": format!("Sandbox{sid_env}Encrypt{title}"),
                    "Effect": "Allow",
                    "Principal": root,
                    "Action": [DATA_KEY_ACTIONS[1]],
                    "Resource": "*",
                    "Condition": condition,
                }));
            }
        }
    }
    let mut out: Vec<OwnerPolicy> = buckets
        .into_iter()
        .map(|(bucket, (arn, statements))| OwnerPolicy {
            kind: OwnerPolicyKind::Bucket,
            resource: arn.to_string(),
            file: format!("bucket-policies/{bucket}.json"),
            document: json!({"Version": "2012-10-17", "Statement": statements}),
        })
        .collect();
    out.extend(keys.into_iter().map(|(key, (_, statements))| OwnerPolicy {
        kind: OwnerPolicyKind::Key,
        resource: key.to_string(),
        file: format!("key-policies/{}.json", key.rsplit('/').next().unwrap_or(key)),
        document: json!({"Version": "2012-10-17", "Statement": statements}),
    }));
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// `genomics-eu` -> `GenomicsEu`.
fn camel(name: &str) -> String {
    name.split(['-', '.'])
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}
