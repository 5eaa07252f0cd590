//! Deployed mode: the facts of a CloudFormation change set refine the offline prediction.
//!
//! Pure: `src/aws` converts the SDK's `DescribeChangeSet` answers into the small types
//! here ([`ChangeSetFacts`]), and [`refine`] merges them into the compared templates before
//! the security and data-loss passes run. Rules:
//!
//! - `ResourceChange.Replacement` (`DescribeChangeSet`): `True` -> certain replacement,
//!   `Conditional` -> possible replacement, `False` -> updated in place. It overrides the
//!   offline tier, except `impossible` (a property that cannot change: CloudFormation still
//!   fails the update), which stays.
//! - `ResourceChange.Details[].Target.RequiresRecreation` per property (`Always` -> certain,
//!   `Conditionally` -> possible, `Never` -> none) sets the tier of the matching property
//!   change, and `Details[].CausingEntity` / `ChangeSource` go into its note.
//! - A resource the change set adds, removes or modifies that the offline diff did not
//!   predict is added (with a note); predicted additions and removals are confirmed.
//! - When the change set says nothing about a resource (for example the moto emulator returns
//!   no `Replacement` and no `Details`), the offline prediction stays.

use std::collections::BTreeSet;

use super::diff::{top_property, Compared};
use super::model::{Action, Impact, PropertyChange, Replacement, ResourceChange, ResourceNote, TemplateStatus};
use super::render::compact_expr;
use super::replacement;
use crate::cfn::Resource;

/// `ResourceChange.Replacement` of `DescribeChangeSet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeReplacement {
    /// `True`: the resource is replaced.
    True,
    /// `Conditional`: replaced depending on a value CloudFormation knows only during the update.
    Conditional,
    /// `False`: updated in place.
    False,
}

impl ChangeReplacement {
    /// The value as `DescribeChangeSet` spells it: `True`, `Conditional`, `False`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::Conditional => "Conditional",
            Self::False => "False",
        }
    }

    /// What it means, for people.
    #[must_use]
    pub fn meaning(self) -> &'static str {
        match self {
            Self::True => "CloudFormation replaces this resource",
            Self::Conditional => "CloudFormation replaces it if a value it resolves during the update changes",
            Self::False => "updated in place, not replaced",
        }
    }
}

/// `ResourceTargetDefinition.RequiresRecreation` of `DescribeChangeSet` (`Details[].Target`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiresRecreation {
    /// `Never`.
    Never,
    /// `Conditionally`.
    Conditionally,
    /// `Always`.
    Always,
}

/// `ResourceChange.Action` of `DescribeChangeSet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeAction {
    /// `Add`.
    Add,
    /// `Modify`.
    Modify,
    /// `Remove`.
    Remove,
    /// `Import`, `Dynamic` or another action: shown as a note.
    Other(String),
}

/// One `ResourceChangeDetail` of `DescribeChangeSet` (`ResourceChange.Details[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DetailFact {
    /// `Target.Attribute`: `Properties`, `Metadata`, `Tags`, `DeletionPolicy`...
    pub attribute: String,
    /// `Target.Name`: the property name for `Properties`.
    pub name: Option<String>,
    /// `Target.RequiresRecreation`.
    pub requires_recreation: Option<RequiresRecreation>,
    /// `Evaluation`: `Static` or `Dynamic`.
    pub evaluation: Option<String>,
    /// `ChangeSource`: `ResourceReference`, `ParameterReference`, `ResourceAttribute`,
    /// `DirectModification`, `Automatic`.
    pub change_source: Option<String>,
    /// `CausingEntity`: the logical ID, parameter or attribute that causes the change.
    pub causing_entity: Option<String>,
}

/// One `ResourceChange` of `DescribeChangeSet` (`Changes[].ResourceChange`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceFact {
    /// Logical ID path of the stack the change set belongs to: `""` for the root,
    /// `NetworkNestedStack` for a nested stack's change set (followed through the parent's
    /// `ResourceChange.ChangeSetId`).
    pub stack_path: String,
    /// `LogicalResourceId`.
    pub logical_id: String,
    /// `ResourceType`.
    pub resource_type: String,
    /// `Action`.
    pub action: ChangeAction,
    /// `Replacement` (absent for additions and removals, and from the moto emulator).
    pub replacement: Option<ChangeReplacement>,
    /// `Scope`: `Properties`, `Metadata`, `Tags`, `DeletionPolicy`...
    pub scope: Vec<String>,
    /// `Details`.
    pub details: Vec<DetailFact>,
}

/// Everything one change set (and its nested change sets) says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeSetFacts {
    /// Stack paths whose change set was described (`""` for the root): the change set's
    /// silence about a resource of such a stack means CloudFormation does not touch it.
    pub described: BTreeSet<String>,
    /// Every resource change, in the order CloudFormation listed them.
    pub resources: Vec<ResourceFact>,
}

fn tier_of(r: ChangeReplacement) -> Replacement {
    match r {
        ChangeReplacement::True => Replacement::Certain,
        ChangeReplacement::Conditional => Replacement::Possible,
        ChangeReplacement::False => Replacement::None,
    }
}

fn recreation_tier(r: RequiresRecreation) -> Replacement {
    match r {
        RequiresRecreation::Always => Replacement::Certain,
        RequiresRecreation::Conditionally => Replacement::Possible,
        RequiresRecreation::Never => Replacement::None,
    }
}

/// A detail for people: `Properties.CidrBlock (RequiresRecreation Always; DirectModification)`.
#[must_use]
pub fn describe_detail(d: &DetailFact) -> String {
    let target = match &d.name {
        Some(n) if !n.is_empty() => format!("{}.{n}", d.attribute),
        _ => d.attribute.clone(),
    };
    let mut facts = Vec::new();
    if let Some(r) = d.requires_recreation {
        facts.push(format!("RequiresRecreation {r:?}"));
    }
    match (&d.change_source, &d.causing_entity) {
        (Some(s), Some(e)) if !e.is_empty() => facts.push(format!("{s} {e}")),
        (Some(s), _) => facts.push(s.clone()),
        (None, Some(e)) => facts.push(format!("caused by {e}")),
        (None, None) => {}
    }
    if d.evaluation.as_deref() == Some("Dynamic") {
        facts.push("evaluated during the update".into());
    }
    if facts.is_empty() {
        target
    } else {
        format!("{target} ({})", facts.join("; "))
    }
}

fn append_note(note: &mut Option<String>, text: String) {
    *note = Some(match note.take() {
        Some(n) if !n.is_empty() => format!("{n}; {text}"),
        _ => text,
    });
}

fn reassess(r: &mut ResourceChange) {
    if matches!(r.action, Action::Add | Action::Remove) {
        return;
    }
    let any_update = r.changes.iter().any(|c| !c.template_only) || r.changes.is_empty();
    r.impact = match r.replacement {
        Replacement::Certain => Impact::CertainReplacement,
        Replacement::Possible => Impact::PossibleReplacement,
        _ if any_update => Impact::Update,
        _ => Impact::None,
    };
    r.action = if r.impact >= Impact::PossibleReplacement { Action::Replace } else { Action::Modify };
}

fn refine_modify(r: &mut ResourceChange, fact: &ResourceFact) {
    // Per property: the change set's RequiresRecreation decides (impossible stays).
    for d in &fact.details {
        let matching: Vec<&mut PropertyChange> = r
            .changes
            .iter_mut()
            .filter(|c| match (&d.name, d.attribute.as_str()) {
                (Some(n), "Properties") => top_property(&c.path) == n,
                (_, attr) => {
                    c.path == attr || c.path.starts_with(&format!("{attr}.")) || c.path.starts_with(&format!("{attr}["))
                }
            })
            .collect();
        if matching.is_empty() {
            let note = ResourceNote::ChangeSetDetail(describe_detail(d));
            if !r.notes.contains(&note) {
                r.notes.push(note);
            }
            continue;
        }
        for c in matching {
            if let (Some(req), true) = (d.requires_recreation, c.replacement != Replacement::Impossible) {
                let tier = recreation_tier(req);
                if tier != c.replacement {
                    // The offline note was about the offline tier (e.g. "must be stopped for this update").
                    c.note = replacement::note(&r.resource_type, top_property(&c.path), tier);
                    c.replacement = tier;
                }
            }
            append_note(&mut c.note, format!("change set: {}", describe_detail(d)));
        }
    }
    if fact.replacement == Some(ChangeReplacement::False) {
        for c in &mut r.changes {
            if matches!(c.replacement, Replacement::Certain | Replacement::Possible) {
                c.replacement = Replacement::None;
                c.note = replacement::note(&r.resource_type, top_property(&c.path), Replacement::None);
                append_note(&mut c.note, "change set: updated in place (Replacement False)".into());
            }
        }
    }
    let worst_property = r.changes.iter().map(|c| c.replacement).max().unwrap_or_default();
    r.replacement = match fact.replacement {
        _ if worst_property == Replacement::Impossible => Replacement::Impossible,
        Some(rep) => tier_of(rep),
        None => worst_property.max(r.replacement),
    };
    if let Some(rep) = fact.replacement {
        r.notes.push(ResourceNote::ChangeSetReplacement(rep));
    }
    reassess(r);
}

/// Merges a change set's facts into the compared templates (before the security and
/// data-loss passes). Stacks are matched by logical ID path, resources by logical ID.
pub fn refine(compared: &mut [Compared<'_>], facts: &ChangeSetFacts) {
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    for fact in &facts.resources {
        seen.insert((fact.stack_path.clone(), fact.logical_id.clone()));
        let Some(c) = compared.iter_mut().find(|c| c.diff.logical_id_path == fact.stack_path) else { continue };
        let fixed_name = fixed_name_note(c.new_resource(&fact.logical_id), &fact.resource_type);
        let existing = c.diff.resources.iter_mut().find(|r| r.logical_id == fact.logical_id);
        match (existing, &fact.action) {
            (Some(r), ChangeAction::Modify) if !matches!(r.action, Action::Add | Action::Remove) => {
                refine_modify(r, fact);
                add_fixed_name_note(r, fixed_name);
            }
            (Some(r), ChangeAction::Add) if r.action == Action::Add => {}
            (Some(r), ChangeAction::Remove) if r.action == Action::Remove => {}
            (Some(r), action) => {
                r.notes.push(ResourceNote::ChangeSetAction {
                    action: action_word(action).to_string(),
                    predicted: r.action,
                });
            }
            (None, action) => {
                // The nested change set speaks for a nested stack's content.
                if fact.resource_type == "AWS::CloudFormation::Stack" && *action == ChangeAction::Modify {
                    continue;
                }
                let (act, impact) = match action {
                    ChangeAction::Add => (Action::Add, Impact::Create),
                    ChangeAction::Remove => (Action::Remove, Impact::Removal),
                    _ => (Action::Modify, Impact::Update),
                };
                let mut r = ResourceChange {
                    logical_id: fact.logical_id.clone(),
                    resource_type: fact.resource_type.clone(),
                    action: act,
                    impact,
                    replacement: Replacement::None,
                    changes: Vec::new(),
                    notes: vec![ResourceNote::OnlyInChangeSet { action: action_word(action).to_string() }],
                    nested_stack: None,
                };
                if *action == ChangeAction::Modify {
                    refine_modify(&mut r, fact);
                    add_fixed_name_note(&mut r, fixed_name);
                } else if let ChangeAction::Other(_) = action {
                    r.notes.push(ResourceNote::ChangeSetOtherAction { action: action_word(action).to_string() });
                }
                c.diff.resources.push(r);
                c.diff.resources.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
                if c.diff.status == TemplateStatus::Unchanged {
                    c.diff.status = TemplateStatus::Modified;
                }
            }
        }
    }
    // Predicted updates of described stacks that the change set does not list.
    for c in compared.iter_mut() {
        if !facts.described.contains(&c.diff.logical_id_path) {
            continue;
        }
        for r in &mut c.diff.resources {
            if matches!(r.action, Action::Modify | Action::Replace)
                && r.impact >= Impact::Update
                && r.nested_stack.is_none()
                && !seen.contains(&(c.diff.logical_id_path.clone(), r.logical_id.clone()))
            {
                r.notes.push(ResourceNote::NotInChangeSet);
            }
        }
    }
}

/// The note the diff engine gives a replaced resource with a fixed physical name (which
/// `plan` turns into a warning), for a resource of `resource_type` as in the new template.
fn fixed_name_note(resource: Option<&Resource>, resource_type: &str) -> Option<ResourceNote> {
    let name_prop = replacement::rules(resource_type).and_then(|r| r.name_property)?;
    let name = resource?.properties.get(name_prop)?;
    Some(ResourceNote::FixedName { property: name_prop.to_string(), name: compact_expr(name, 80) })
}

fn add_fixed_name_note(r: &mut ResourceChange, fixed: Option<ResourceNote>) {
    let Some(note) = fixed else { return };
    let ResourceNote::FixedName { property, .. } = &note else { return };
    let renamed = r.changes.iter().any(|c| top_property(&c.path) == property && c.possibly_because.is_none());
    if r.impact >= Impact::PossibleReplacement
        && !renamed
        && !r.notes.iter().any(|n| matches!(n, ResourceNote::FixedName { .. }))
    {
        r.notes.push(note);
    }
}

fn action_word(a: &ChangeAction) -> &str {
    match a {
        ChangeAction::Add => "Add",
        ChangeAction::Modify => "Modify",
        ChangeAction::Remove => "Remove",
        ChangeAction::Other(s) => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Template;
    use crate::plan::source::TemplateSet;
    use serde_json::json;

    fn parse(v: &serde_json::Value) -> Template {
        Template::parse(v).unwrap_or_else(|e| panic!("{e}"))
    }

    fn sets() -> (TemplateSet, TemplateSet) {
        let old = json!({"Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Nb": {"Type": "AWS::SageMaker::NotebookInstance", "Properties": {"InstanceType": "ml.t3.medium", "SubnetId": {"Ref": "Sub"}}},
            "Gone": {"Type": "AWS::SQS::Queue"}
        }});
        let new = json!({"Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
            "Nb": {"Type": "AWS::SageMaker::NotebookInstance", "Properties": {"InstanceType": "ml.t3.large", "SubnetId": {"Ref": "Sub"}}},
            "Fresh": {"Type": "AWS::SQS::Queue"}
        }});
        (TemplateSet::single("s", parse(&old)), TemplateSet::single("s", parse(&new)))
    }

    fn fact(
        id: &str,
        rtype: &str,
        action: ChangeAction,
        rep: Option<ChangeReplacement>,
        details: Vec<DetailFact>,
    ) -> ResourceFact {
        ResourceFact {
            stack_path: String::new(),
            logical_id: id.into(),
            resource_type: rtype.into(),
            action,
            replacement: rep,
            scope: vec!["Properties".into()],
            details,
        }
    }

    fn find<'a>(c: &'a [Compared<'_>], id: &str) -> &'a ResourceChange {
        c[0].diff.resources.iter().find(|r| r.logical_id == id).unwrap_or_else(|| panic!("{id} missing"))
    }

    #[test]
    fn change_set_tiers_override_the_prediction() {
        let (old, new) = sets();
        let mut c = crate::plan::diff::compare(&old, &new);
        assert_eq!(find(&c, "Vpc").impact, Impact::CertainReplacement);
        let facts = ChangeSetFacts {
            described: BTreeSet::from([String::new()]),
            resources: vec![
                fact(
                    "Vpc",
                    "AWS::EC2::VPC",
                    ChangeAction::Modify,
                    Some(ChangeReplacement::Conditional),
                    vec![DetailFact {
                        attribute: "Properties".into(),
                        name: Some("CidrBlock".into()),
                        requires_recreation: Some(RequiresRecreation::Conditionally),
                        change_source: Some("DirectModification".into()),
                        ..DetailFact::default()
                    }],
                ),
                fact(
                    "Nb",
                    "AWS::SageMaker::NotebookInstance",
                    ChangeAction::Modify,
                    Some(ChangeReplacement::True),
                    vec![],
                ),
                fact("Sub", "AWS::EC2::Subnet", ChangeAction::Modify, Some(ChangeReplacement::False), vec![]),
                fact("Fresh", "AWS::SQS::Queue", ChangeAction::Add, None, vec![]),
                fact("Gone", "AWS::SQS::Queue", ChangeAction::Remove, None, vec![]),
            ],
        };
        refine(&mut c, &facts);
        let vpc = find(&c, "Vpc");
        assert_eq!((vpc.impact, vpc.replacement), (Impact::PossibleReplacement, Replacement::Possible));
        assert!(vpc.changes[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("RequiresRecreation Conditionally; DirectModification")));
        let nb = find(&c, "Nb");
        assert_eq!((nb.impact, nb.action), (Impact::CertainReplacement, Action::Replace));
        let sub = find(&c, "Sub");
        assert_eq!((sub.impact, sub.action), (Impact::Update, Action::Modify));
        assert!(sub.notes.iter().any(|n| n.to_string().contains("only the change set")));
        assert!(sub.notes.iter().any(|n| matches!(n, ResourceNote::OnlyInChangeSet { .. })));
        assert_eq!(find(&c, "Gone").action, Action::Remove);
        assert!(find(&c, "Gone").notes.is_empty());
    }

    #[test]
    fn silence_keeps_the_prediction() {
        let (old, new) = sets();
        let mut c = crate::plan::diff::compare(&old, &new);
        let before: Vec<_> = c[0].diff.resources.clone();
        refine(
            &mut c,
            &ChangeSetFacts {
                described: BTreeSet::new(),
                resources: vec![fact("Vpc", "AWS::EC2::VPC", ChangeAction::Modify, None, vec![])],
            },
        );
        assert_eq!(c[0].diff.resources, before);
    }
}
