//! Data-loss risks: replacement or removal of resources that hold data (buckets, KMS keys,
//! notebook instances, log groups, trails, queues), with the policy that decides their fate:
//! `DeletionPolicy` for a removal, `UpdateReplacePolicy` for a replacement. `Retain` means the
//! old resource is kept, orphaned from the stack, not deleted.

use super::diff::Compared;
use super::model::{Action, DataLossRisk, Impact};
use crate::cfn::{Policy, Resource};

/// What a resource of a type holds, and what losing it means, for people.
fn holds(rtype: &str) -> Option<(&'static str, &'static str)> {
    Some(match rtype {
        "AWS::S3::Bucket" => ("bucket", "its objects"),
        "AWS::KMS::Key" => ("KMS key", "everything encrypted under it becomes unreadable once the key is deleted (after a 7-30 day waiting period)"),
        "AWS::SageMaker::NotebookInstance" => ("notebook instance", "its ML storage volume (notebooks and data under /home/ec2-user/SageMaker)"),
        "AWS::Logs::LogGroup" => ("log group", "its log events"),
        "AWS::CloudTrail::Trail" => ("trail", "recording stops while it is gone; delivered logs stay in the trail bucket"),
        "AWS::SQS::Queue" => ("queue", "the messages in it"),
        _ => return None,
    })
}

/// `DeletionPolicy` or `UpdateReplacePolicy` of a resource (`Delete` when absent).
fn policy(r: Option<&Resource>, name: &str) -> Policy {
    let p = match name {
        "DeletionPolicy" => r.and_then(|r| r.deletion_policy),
        _ => r.and_then(|r| r.update_replace_policy),
    };
    p.unwrap_or(Policy::Delete)
}

/// Every data-loss risk of the compared templates.
#[must_use]
pub fn analyze(compared: &[Compared<'_>]) -> Vec<DataLossRisk> {
    let mut out = Vec::new();
    for c in compared {
        for r in &c.diff.resources {
            let Some((what, contents)) = holds(&r.resource_type) else { continue };
            let old = c.old_resource(&r.logical_id);
            let new = c.new_resource(&r.logical_id);
            let (policy_name, value) = match r.action {
                Action::Remove => ("DeletionPolicy", policy(old, "DeletionPolicy")),
                Action::Replace => ("UpdateReplacePolicy", policy(new, "UpdateReplacePolicy")),
                _ => {
                    // A weakened policy is a risk for later.
                    for name in ["DeletionPolicy", "UpdateReplacePolicy"] {
                        let (o, n) = (policy(old, name), policy(new, name));
                        if o.retains() && !n.retains() && old.is_some() && new.is_some() {
                            out.push(DataLossRisk {
                                stack: c.diff.stack.clone(),
                                logical_id: r.logical_id.clone(),
                                resource_type: r.resource_type.clone(),
                                impact: Impact::None,
                                policy: name.into(),
                                policy_value: n.name().to_string(),
                                retained: false,
                                summary: format!("{name} of {what} {} weakened: {} -> {}: a later removal or replacement deletes {contents}", r.logical_id, o.name(), n.name()),
                            });
                        }
                    }
                    continue;
                }
            };
            let retained = value.retains() || value == Policy::Snapshot;
            let how = match r.impact {
                Impact::PossibleReplacement => "may be replaced",
                Impact::CertainReplacement => "is replaced",
                _ => "is removed",
            };
            let name = value.name();
            let fate = match value {
                Policy::Snapshot => format!("{policy_name} {name}: a snapshot is kept"),
                _ if retained => format!("{policy_name} {name}: the old {what} is retained, orphaned (no longer managed by any stack; delete or re-import it yourself), not deleted"),
                _ => format!("{policy_name} {name}: the old {what} is DELETED with {contents}"),
            };
            let fresh = if r.action == Action::Replace {
                match r.resource_type.as_str() {
                    "AWS::S3::Bucket" => "; the new bucket starts empty",
                    "AWS::KMS::Key" => "; the new key cannot decrypt what the old one encrypted",
                    "AWS::SageMaker::NotebookInstance" => "; the new instance starts with an empty volume",
                    "AWS::Logs::LogGroup" => "; the new log group starts empty",
                    _ => "",
                }
            } else {
                ""
            };
            out.push(DataLossRisk {
                stack: c.diff.stack.clone(),
                logical_id: r.logical_id.clone(),
                resource_type: r.resource_type.clone(),
                impact: r.impact,
                policy: policy_name.into(),
                policy_value: name.to_string(),
                retained,
                summary: format!("{what} {} {how}: {fate}{fresh}", r.logical_id),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.retained, std::cmp::Reverse(a.impact), &a.stack, &a.logical_id).cmp(&(
            b.retained,
            std::cmp::Reverse(b.impact),
            &b.stack,
            &b.logical_id,
        ))
    });
    out
}
