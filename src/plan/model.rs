//! The typed plan: per template, per resource, per property; security findings and data-loss
//! risks. Everything here serializes into the JSON plan (docs/plan-json.md).

use serde::Serialize;
use serde_json::Value;

/// Version of the JSON plan's schema (docs/plan-json.md). Bumped on any incompatible change.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// What a change does to a resource, ordered from harmless to worst; a resource's impact is
/// the worst impact of its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Only the template changes (metadata, policies, dependencies): the resource is not touched.
    None,
    /// The resource is created.
    Create,
    /// The resource is updated in place.
    Update,
    /// A create-only property may change (it references something that changes): replacement is possible.
    PossibleReplacement,
    /// A create-only property changes: the resource is replaced (a new physical resource).
    CertainReplacement,
    /// The resource leaves the template (deleted, or orphaned when its `DeletionPolicy` retains it).
    Removal,
}

impl Impact {
    /// Words for people.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::None => "template only",
            Self::Create => "create",
            Self::Update => "update",
            Self::PossibleReplacement => "possible replacement",
            Self::CertainReplacement => "replacement",
            Self::Removal => "removal",
        }
    }
}

/// Replacement tier of one property change, ordered; the worst one counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Replacement {
    /// Updated in place.
    #[default]
    None,
    /// A create-only property whose value may change: replaced if it does.
    Possible,
    /// A create-only property changes: replaced.
    Certain,
    /// The property cannot change on an existing resource: CloudFormation fails the update.
    Impossible,
}

/// What happens to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `+` new in the template.
    Add,
    /// `~` changed in place (or template-only).
    Modify,
    /// `±` replaced (certainly or possibly).
    Replace,
    /// `-` gone from the template.
    Remove,
}

impl Action {
    /// The one-character sign: `+`, `~`, `±`, `-`.
    #[must_use]
    pub fn sign(self) -> &'static str {
        match self {
            Self::Add => "+",
            Self::Modify => "~",
            Self::Replace => "±",
            Self::Remove => "-",
        }
    }
}

/// One changed property (or template attribute such as `DeletionPolicy`) of a resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PropertyChange {
    /// Path such as `Properties.CidrBlock`, `Properties.Tags[Owner].Value` or `DeletionPolicy`.
    pub path: String,
    /// Value before (`null` in JSON when the property is added).
    pub old: Option<Value>,
    /// Value after (`null` in JSON when the property is removed).
    pub new: Option<Value>,
    /// Replacement tier this change causes.
    pub replacement: Replacement,
    /// Whether only the template changes (`DeletionPolicy`, `Metadata`, `DependsOn`...).
    pub template_only: bool,
    /// Set when the text is unchanged but the value may change, e.g.
    /// `depends on replaced network/Vpc`.
    pub possibly_because: Option<String>,
    /// A condition or consequence, e.g. "the AppStream fleet must be stopped for this change".
    pub note: Option<String>,
}

/// One resource that changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceChange {
    /// Logical ID.
    pub logical_id: String,
    /// Resource type (the new one; the old one when removed).
    pub resource_type: String,
    /// `add`, `modify`, `replace`, `remove`.
    pub action: Action,
    /// Worst impact of the changes.
    pub impact: Impact,
    /// Worst replacement tier of the changes.
    pub replacement: Replacement,
    /// Property changes, sorted by path (empty for additions and removals).
    pub changes: Vec<PropertyChange>,
    /// Notes about the resource as a whole (fixed names, fleet state...).
    pub notes: Vec<String>,
    /// For a nested stack: the stack label of its template diff (see [`TemplateDiff::stack`]).
    pub nested_stack: Option<String>,
}

impl ResourceChange {
    /// Whether every change is under `Properties.Tags`.
    #[must_use]
    pub fn tags_only(&self) -> bool {
        self.action == Action::Modify
            && !self.changes.is_empty()
            && self.changes.iter().all(|c| {
                c.path == "Properties.Tags"
                    || c.path.starts_with("Properties.Tags[")
                    || c.path.starts_with("Properties.Tags.")
            })
    }
}

/// A changed parameter, output, condition or description.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueChange {
    /// Name of the parameter, output or condition (`Description` for the description).
    pub name: String,
    /// Before.
    pub old: Option<Value>,
    /// After.
    pub new: Option<Value>,
    /// Set when the text is unchanged but the value may change.
    pub possibly_because: Option<String>,
}

/// Whether a template is new, gone or changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    /// Only in the new output (a nested stack is added).
    Added,
    /// Only in the base (a nested stack is removed).
    Removed,
    /// In both, with changes.
    Modified,
    /// In both, equal.
    Unchanged,
}

/// The diff of one template: the root (or single) template, or one nested stack's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TemplateDiff {
    /// Stack label: `root`, or the part name of a nested stack such as `network`.
    pub stack: String,
    /// Logical ID path of the nested stack from the root (`NetworkNestedStack`); empty for the root.
    pub logical_id_path: String,
    /// Template file in the base.
    pub old_file: Option<String>,
    /// Template file in the new output.
    pub new_file: Option<String>,
    /// Added, removed, modified or unchanged.
    pub status: TemplateStatus,
    /// Description, parameters, conditions and outputs that change.
    pub description: Option<ValueChange>,
    /// Parameter declarations.
    pub parameters: Vec<ValueChange>,
    /// Conditions.
    pub conditions: Vec<ValueChange>,
    /// Outputs.
    pub outputs: Vec<ValueChange>,
    /// Resources that change, sorted by logical ID.
    pub resources: Vec<ResourceChange>,
}

impl TemplateDiff {
    /// Whether anything changes in this template.
    #[must_use]
    pub fn has_changes(&self) -> bool {
        self.description.is_some()
            || !self.parameters.is_empty()
            || !self.conditions.is_empty()
            || !self.outputs.is_empty()
            || !self.resources.is_empty()
    }
}

/// Direction of a security-relevant change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Grants more, opens more, records less: review first.
    Relaxed,
    /// Neither clearly wider nor narrower: review.
    Changed,
    /// Grants less, opens less, records more.
    Tightened,
}

/// One security-relevant change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SecurityChange {
    /// Stack label.
    pub stack: String,
    /// Logical ID of the resource.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// Category: `iam`, `key-policy`, `bucket-policy`, `endpoint-policy`, `queue-policy`,
    /// `lambda-permission`, `trust`, `security-group`, `user-settings`, `fleet`, `notebook`,
    /// `endpoint`, `logging`, `encryption`.
    pub category: String,
    /// Relaxed, changed or tightened.
    pub direction: Direction,
    /// One line for people.
    pub summary: String,
}

/// One data-loss risk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataLossRisk {
    /// Stack label.
    pub stack: String,
    /// Logical ID.
    pub logical_id: String,
    /// Type.
    pub resource_type: String,
    /// Impact on the resource (possible/certain replacement, removal, or `none` for a weakened policy).
    pub impact: Impact,
    /// The policy that decides: `DeletionPolicy` for removals, `UpdateReplacePolicy` for replacements.
    pub policy: String,
    /// Its value (`Delete` when absent).
    pub policy_value: String,
    /// Whether the old resource is kept (retained, orphaned) rather than deleted.
    pub retained: bool,
    /// One line for people.
    pub summary: String,
}

/// Counts for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Resources added.
    pub add: usize,
    /// Resources updated in place.
    pub update: usize,
    /// Resources certainly replaced.
    pub replace: usize,
    /// Resources possibly replaced.
    pub possible_replace: usize,
    /// Resources removed.
    pub remove: usize,
    /// Resources whose template entry changes without a resource update.
    pub template_only: usize,
    /// Security-relevant changes.
    pub security: usize,
    /// Of which relaxations.
    pub relaxations: usize,
    /// Data-loss risks.
    pub data_loss: usize,
}

/// A file of the output beside the templates that changes (scripts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    /// Relative path.
    pub file: String,
    /// `added`, `removed` or `modified`.
    pub status: String,
    /// What to do about it.
    pub note: String,
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Whether anything changes (exit code 2), or not (exit code 0).
    pub changes: bool,
    /// What the plan compares against, e.g. `directory out-main` or `git origin/main`.
    pub base: String,
    /// Stack name of the base.
    pub old_stack_name: String,
    /// Stack name of the new output.
    pub new_stack_name: String,
    /// Counts.
    pub summary: Summary,
    /// Security-relevant changes, relaxations first.
    pub security: Vec<SecurityChange>,
    /// Data-loss risks.
    pub data_loss: Vec<DataLossRisk>,
    /// Things that will fail or need action outside CloudFormation.
    pub warnings: Vec<String>,
    /// Other output files that change.
    pub files: Vec<FileChange>,
    /// One diff per template, root first, nested stacks in output order.
    pub templates: Vec<TemplateDiff>,
    /// Deployed mode with `--keep-change-set`: the ARN of the kept change set
    /// (`CreateChangeSet` `Id`). Absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_set: Option<String>,
}
