//! Disruption: what stops or is replaced while the change deploys, for how long, and what to do
//! about it. This is what the people using the sandbox notice (sessions that end, a notebook
//! that restarts, a sandbox unreachable while its network is rebuilt), so the plan shows it
//! first among the details.
//!
//! Read from the resource changes after the change set's facts are merged: an AppStream fleet
//! or notebook instance updated in a way that stops it ([`replacement::stops_for_update`]),
//! replaced or removed; the VPC replaced; the validator function moved to new subnets; the
//! AppStream stack replaced.

use serde::Serialize;

use super::diff::{top_property, Compared};
use super::model::{Action, Impact, ResourceChange};
use super::replacement;
use crate::cfn::Policy;

/// What kind of disruption an entry describes; serialized in snake_case (docs/plan-json.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisruptionKind {
    /// The VPC is replaced: every resource in it moves to a new network.
    NetworkReplaced,
    /// The AppStream fleet is replaced (a new fleet, the old one deleted) or removed.
    FleetReplaced,
    /// The AppStream fleet is stopped for an update and started again.
    FleetStops,
    /// The AppStream stack is replaced: its name, which users and the identity provider use,
    /// changes.
    AppStreamStackReplaced,
    /// The notebook instance is replaced (a new instance, a new volume).
    NotebookReplaced,
    /// The notebook instance leaves the stack (its user is removed, or notebooks are no longer
    /// per user): deleted, or kept outside the stack by its DeletionPolicy.
    NotebookRemoved,
    /// The notebook instance is stopped for an update and started again.
    NotebookStops,
    /// The session validator moves (new network interfaces, or a new function): no notebook
    /// URL is issued meanwhile.
    ValidatorInterrupted,
}

/// One disruption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disruption {
    /// Stack label of the resource.
    pub stack: String,
    /// Logical ID of the resource.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// What kind of disruption.
    pub kind: DisruptionKind,
    /// What stops or is replaced, and what users notice.
    pub what: String,
    /// For how long.
    pub duration: String,
    /// What to do about it: options that work.
    pub advice: String,
}

/// What happens to a notebook instance that leaves the stack, and what to do, by the old
/// resource's DeletionPolicy (AWS CloudFormation user guide, "DeletionPolicy attribute": Retain
/// keeps the resource, outside any stack; Snapshot is not supported by notebook instances and
/// acts as Delete).
fn removed_notebook(deletion_policy: Option<Policy>) -> (&'static str, &'static str) {
    if deletion_policy.is_some_and(Policy::retains) {
        (
            "the notebook instance leaves the stack but is kept (DeletionPolicy Retain) with its volume, outside the stack and still billed while it runs; its role goes in this apply, so open notebooks lose access to the data and sandboxc no longer hands out its URL",
            "copy what is needed from its volume to the data bucket before applying (its role goes with this apply); apply needs --allow-data-loss; afterwards stop or delete the instance yourself",
        )
    } else {
        (
            "the notebook instance is deleted with its volume (notebooks and data under /home/ec2-user/SageMaker): open notebooks end",
            "copy what is needed from its volume to the data bucket first; apply needs --allow-data-loss",
        )
    }
}

/// Every disruption of the compared templates, the worst kind first.
#[must_use]
pub fn analyze(compared: &[Compared<'_>]) -> Vec<Disruption> {
    let mut out = Vec::new();
    for c in compared {
        for r in &c.diff.resources {
            let push = |out: &mut Vec<Disruption>, kind, what: String, duration: &str, advice: String| {
                out.push(Disruption {
                    stack: c.diff.stack.clone(),
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    kind,
                    what,
                    duration: duration.to_string(),
                    advice,
                });
            };
            let may = if r.impact == Impact::PossibleReplacement { "may be" } else { "is" };
            match r.resource_type.as_str() {
                "AWS::EC2::VPC" if replaced(r) => push(
                    &mut out,
                    DisruptionKind::NetworkReplaced,
                    format!(
                        "the VPC {may} replaced: CloudFormation builds a new VPC with new subnets, route tables, VPC endpoints and security groups, moves the fleet, the notebook and the validator into it, and deletes the old network afterwards"
                    ),
                    "the sandbox is unusable from the moment the fleet stops until the fleet runs again in the new network (the new interface endpoints and the fleet's instances are provisioned meanwhile, typically 20 to 40 minutes); deleting the old subnets can take longer while Lambda releases its network interfaces, which the deployment waits for",
                    "apply with --allow-data-loss in a maintenance window, after users have saved their work in their home folders and copied what they need from the notebook's volume to the data bucket (the notebook instance is replaced with an empty volume); or deploy a second sandbox under another name with the new CIDR, move the users, then destroy this one; or keep network.cidr as it is".into(),
                ),
                "AWS::AppStream::Fleet" => match r.action {
                    Action::Remove => push(
                        &mut out,
                        DisruptionKind::FleetReplaced,
                        "the AppStream fleet is deleted: every streaming session on it ends".into(),
                        "for good (no fleet serves the sandbox afterwards)",
                        "tell users beforehand; their home folders stay".into(),
                    ),
                    _ if replaced(r) => push(
                        &mut out,
                        DisruptionKind::FleetReplaced,
                        format!(
                            "the AppStream fleet {may} replaced: a new fleet is created and started, the AppStream stack is moved to it, and the old fleet is deleted; sessions on the old fleet end"
                        ),
                        "new sessions wait until the new fleet has started (AppStream provisions its instances, typically 10 to 20 minutes); running sessions end when the old fleet is deleted",
                        "apply outside working hours and ask users to save their work in their home folders (they are kept)".into(),
                    ),
                    _ if stops(r) => push(
                        &mut out,
                        DisruptionKind::FleetStops,
                        format!(
                            "the AppStream fleet stops for this update ({}): every streaming session ends",
                            stopping_properties(r).join(", ")
                        ),
                        "from the stop until CloudFormation has updated the fleet and started it again (AppStream provisions its instances, typically 10 to 20 minutes); nobody can stream meanwhile",
                        "apply outside working hours and ask users to save their work in their home folders (they are kept)".into(),
                    ),
                    _ => {}
                },
                "AWS::AppStream::Stack" if replaced(r) || r.action == Action::Remove => push(
                    &mut out,
                    DisruptionKind::AppStreamStackReplaced,
                    format!("the AppStream stack {may} replaced or removed: its name is in users' streaming URLs and in the SAML relay state configured in the identity provider"),
                    "until the identity provider and the users have the new name",
                    "after apply, set the identity provider's relay state to the SamlRelayStateUrl output and hand out new streaming URLs (StreamingUrlCommand output)".into(),
                ),
                "AWS::SageMaker::NotebookInstance" => {
                    let fate = match c.new_resource(&r.logical_id).and_then(|n| n.update_replace_policy) {
                        Some(p) if p.retains() || p == Policy::Snapshot => {
                            "the old instance is kept (UpdateReplacePolicy Retain) with its volume, outside the stack"
                        }
                        _ => "the old instance is deleted with its volume (notebooks and data under /home/ec2-user/SageMaker)",
                    };
                    match r.action {
                        Action::Remove => {
                            let kept = c.old_resource(&r.logical_id).and_then(|o| o.deletion_policy);
                            let (what, advice) = removed_notebook(kept);
                            push(&mut out, DisruptionKind::NotebookRemoved, what.into(), "for good", advice.into());
                        }
                        _ if replaced(r) => push(
                            &mut out,
                            DisruptionKind::NotebookReplaced,
                            format!("the notebook instance {may} replaced: a new instance starts with an empty volume and {fate}; open notebooks end"),
                            "until the new instance is InService (typically 5 to 10 minutes); the files on the old volume do not come back",
                            "before applying, have users copy /home/ec2-user/SageMaker to the data bucket (the new instance can read it there); apply needs --allow-data-loss".into(),
                        ),
                        _ if stops(r) => push(
                            &mut out,
                            DisruptionKind::NotebookStops,
                            format!(
                                "the notebook instance stops for this update ({}) and starts again: open notebooks and kernels end; files on its volume stay",
                                stopping_properties(r).join(", ")
                            ),
                            "from the stop until it is InService again (typically 5 to 10 minutes)",
                            "apply when nobody has a notebook open, or warn users to save".into(),
                        ),
                        _ => {}
                    }
                }
                "AWS::Lambda::Function" if r.logical_id == "Validator" => {
                    let moved = r.changes.iter().any(|ch| top_property(&ch.path) == "VpcConfig");
                    if replaced(r) || moved {
                        push(
                            &mut out,
                            DisruptionKind::ValidatorInterrupted,
                            "the session validator gets new network interfaces (or is replaced): sessions started meanwhile get no notebook URL".into(),
                            "a few minutes, while Lambda sets up its network interfaces in the new subnets",
                            "users whose notebook did not open start it again afterwards".into(),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    out.sort_by(|a, b| (a.kind, &a.stack, &a.logical_id).cmp(&(b.kind, &b.stack, &b.logical_id)));
    out
}

fn replaced(r: &ResourceChange) -> bool {
    matches!(r.impact, Impact::CertainReplacement | Impact::PossibleReplacement)
}

/// Whether an in-place change of `r` stops it for the update.
fn stops(r: &ResourceChange) -> bool {
    r.action == Action::Modify && !stopping_properties(r).is_empty()
}

/// The top-level properties whose change stops `r` for the update, sorted, without repeats.
fn stopping_properties(r: &ResourceChange) -> Vec<&str> {
    let mut props: Vec<&str> = r
        .changes
        .iter()
        .filter(|c| !c.template_only)
        .map(|c| top_property(&c.path))
        .filter(|p| replacement::stops_for_update(&r.resource_type, p))
        .collect();
    props.sort_unstable();
    props.dedup();
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_notebook_is_told_by_its_deletion_policy() {
        for kept in [Some(Policy::Retain), Some(Policy::RetainExceptOnCreate)] {
            let (what, advice) = removed_notebook(kept);
            assert!(what.contains("is kept (DeletionPolicy Retain)") && what.contains("still billed"), "{what}");
            assert!(advice.contains("stop or delete the instance yourself"), "{advice}");
        }
        for gone in [None, Some(Policy::Delete), Some(Policy::Snapshot)] {
            let (what, advice) = removed_notebook(gone);
            assert!(what.starts_with("the notebook instance is deleted with its volume"), "{what}");
            assert!(advice.contains("--allow-data-loss"), "{advice}");
        }
    }
}
