//! The typed plan: per template, per resource, per property; security findings and data-loss
//! risks. Everything here serializes into the JSON plan (docs/plan-json.md).

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::refine::ChangeReplacement;

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
    /// Notes about the resource as a whole (fixed names, nested templates, change-set facts).
    pub notes: Vec<ResourceNote>,
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
    /// What kind of control changes.
    pub category: SecurityCategory,
    /// Relaxed, changed or tightened.
    pub direction: Direction,
    /// One line for people.
    pub summary: String,
}

/// What kind of access change an [`AccessChange`] is; serialized as the snake_case names of
/// docs/plan-json.md. Ordered as the plan lists them within one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessKind {
    /// Shared notebook mode turned on (relaxed).
    SharedModeOn,
    /// Shared notebook mode turned off (tightened).
    SharedModeOff,
    /// A user is on the allow-list now (relaxed).
    UserAdded,
    /// A user left the allow-list (tightened).
    UserRemoved,
    /// A user may reach a prefix they could not (relaxed).
    GrantAdded,
    /// A user may no longer reach a prefix (tightened).
    GrantRemoved,
    /// Read became read-write (relaxed).
    GrantWidened,
    /// Read-write became read (tightened).
    GrantNarrowed,
    /// A principal may reach the data from outside the sandbox (relaxed).
    AdminPrincipalAdded,
    /// An admin principal lost that (tightened).
    AdminPrincipalRemoved,
    /// A condition of the data perimeter is gone (relaxed).
    PerimeterConditionRemoved,
    /// A condition of the data perimeter is new (tightened).
    PerimeterConditionAdded,
    /// A Deny statement of the perimeter has a new condition, so it applies to fewer requests
    /// (relaxed).
    DenyConditionAdded,
    /// A Deny statement of the perimeter lost a condition, so it applies to more requests
    /// (tightened).
    DenyConditionRemoved,
}

impl AccessKind {
    /// The direction every change of this kind has.
    #[must_use]
    pub fn direction(self) -> Direction {
        match self {
            Self::SharedModeOn
            | Self::UserAdded
            | Self::GrantAdded
            | Self::GrantWidened
            | Self::AdminPrincipalAdded
            | Self::PerimeterConditionRemoved
            | Self::DenyConditionAdded => Direction::Relaxed,
            Self::SharedModeOff
            | Self::UserRemoved
            | Self::GrantRemoved
            | Self::GrantNarrowed
            | Self::AdminPrincipalRemoved
            | Self::PerimeterConditionAdded
            | Self::DenyConditionRemoved => Direction::Tightened,
        }
    }
}

/// One change of who can reach what: a user, a grant, an admin principal, a condition of the
/// data perimeter, or the notebook mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessChange {
    /// What changes.
    pub kind: AccessKind,
    /// Relaxed or tightened.
    pub direction: Direction,
    /// Whom or what it concerns: a user ID, a role ARN, `bucket policy DataBucketPolicy`...
    pub subject: String,
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
    /// Access changes ("who can reach what").
    pub access: usize,
    /// Of which relaxations (users or grants added, admin principals, exemptions...).
    pub access_relaxations: usize,
    /// Disruptions (entries of [`Plan::disruption`]).
    pub disruptions: usize,
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
    /// Who can reach what: users, grants, admin principals, perimeter conditions and the
    /// notebook mode that change, relaxations first.
    pub access: Vec<AccessChange>,
    /// What stops or is replaced while the change deploys, for how long, and what to do; the
    /// worst first.
    pub disruption: Vec<super::disruption::Disruption>,
    /// For a stack deployed for the first time (the base has no template): what it creates.
    /// `None` otherwise.
    pub new_stack: Option<super::creation::NewStack>,
    /// Security-relevant changes, relaxations first. For a new stack, only its risky grants
    /// ([`super::security::risky_grants`]).
    pub security: Vec<SecurityChange>,
    /// Data-loss risks.
    pub data_loss: Vec<DataLossRisk>,
    /// Things that will fail or need action outside CloudFormation.
    pub warnings: Vec<Warning>,
    /// Other output files that change.
    pub files: Vec<FileChange>,
    /// One diff per template, root first, nested stacks in output order.
    pub templates: Vec<TemplateDiff>,
    /// Deployed mode with `--keep-change-set`: the ARN of the kept change set
    /// (`CreateChangeSet` `Id`). Absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_set: Option<String>,
    /// The monthly cost of both sides and what changes (`crate::cost::CostChange`), when the
    /// command line priced them (`sandboxc plan` always does). Absent from the JSON otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::CostChange>,
}

/// What kind of control a [`SecurityChange`] touches; serialized as the kebab-case names of
/// docs/plan-json.md (`iam`, `key-policy`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityCategory {
    /// Identity policies: inline and managed policies of roles, `AWS::IAM::Policy`.
    Iam,
    /// A KMS key policy.
    KeyPolicy,
    /// An S3 bucket policy.
    BucketPolicy,
    /// A VPC endpoint policy.
    EndpointPolicy,
    /// An SQS queue policy.
    QueuePolicy,
    /// A Lambda resource-based permission.
    LambdaPermission,
    /// A role's trust policy.
    Trust,
    /// A role's trust policy naming a SAML identity provider.
    SamlTrust,
    /// Security-group rules.
    SecurityGroup,
    /// AppStream stack user settings and streaming endpoints.
    UserSettings,
    /// AppStream fleet flags and role.
    Fleet,
    /// SageMaker notebook network, root and IMDS settings.
    Notebook,
    /// VPC endpoints: paths out of the VPC.
    Endpoint,
    /// Auditing: trail, flow logs, usage reports, log retention.
    Logging,
    /// Encryption at rest.
    Encryption,
    /// Bucket public-access blocks and versioning.
    Bucket,
}

impl SecurityCategory {
    /// The name in the JSON plan: `key-policy`...
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Iam => "iam",
            Self::KeyPolicy => "key-policy",
            Self::BucketPolicy => "bucket-policy",
            Self::EndpointPolicy => "endpoint-policy",
            Self::QueuePolicy => "queue-policy",
            Self::LambdaPermission => "lambda-permission",
            Self::Trust => "trust",
            Self::SamlTrust => "saml-trust",
            Self::SecurityGroup => "security-group",
            Self::UserSettings => "user-settings",
            Self::Fleet => "fleet",
            Self::Notebook => "notebook",
            Self::Endpoint => "endpoint",
            Self::Logging => "logging",
            Self::Encryption => "encryption",
            Self::Bucket => "bucket",
        }
    }
}

impl fmt::Display for SecurityCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A note about one resource change, rendered (and serialized) as a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceNote {
    /// The resource would be replaced but its physical name (`property`, shown as `name`)
    /// stays: CloudFormation cannot replace a custom-named resource, so the update fails.
    FixedName {
        /// The name property, such as `BucketName`.
        property: String,
        /// Its value, shown compactly.
        name: String,
    },
    /// A nested stack whose template changes.
    NestedTemplate {
        /// Counts of the nested template's changes (`2 to update`).
        summary: String,
        /// The nested stack's label.
        stack: String,
    },
    /// A `Details[]` entry of the change set that matches no predicted property change.
    ChangeSetDetail(String),
    /// The change set's `Replacement` for the resource.
    ChangeSetReplacement(ChangeReplacement),
    /// The change set's action differs from the prediction.
    ChangeSetAction {
        /// `Add`, `Modify`, `Remove`, `Import`...
        action: String,
        /// What the template comparison predicted.
        predicted: Action,
    },
    /// A resource only the change set lists (its template text is unchanged).
    OnlyInChangeSet {
        /// The change set's action.
        action: String,
    },
    /// The change set's action is one the plan does not model (`Import`, `Dynamic`).
    ChangeSetOtherAction {
        /// That action.
        action: String,
    },
    /// A predicted update of a described stack that the change set does not list.
    NotInChangeSet,
}

impl fmt::Display for ResourceNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FixedName { property, name } => write!(
                f,
                "{property} is fixed ({name}) and does not change: CloudFormation cannot replace a custom-named resource, so this update fails unless the name changes too"
            ),
            Self::NestedTemplate { summary, stack } => write!(f, "nested template: {summary} (see stack {stack})"),
            Self::ChangeSetDetail(detail) => write!(f, "change set: {detail}"),
            Self::ChangeSetReplacement(rep) => {
                write!(f, "change set: Replacement {} ({})", rep.name(), rep.meaning())
            }
            Self::ChangeSetAction { action, predicted } => {
                write!(f, "change set: action {action} (the template comparison predicted {predicted:?})")
            }
            Self::OnlyInChangeSet { action } => write!(
                f,
                "only the change set shows this {action} (the templates' text does not differ: a value resolved during the update changes)"
            ),
            Self::ChangeSetOtherAction { action } => write!(f, "change set action {action}"),
            Self::NotInChangeSet => f.write_str(
                "not in the change set: CloudFormation does not list this resource as changing; the prediction above comes from the templates alone",
            ),
        }
    }
}

impl Serialize for ResourceNote {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Something that will fail or needs action outside CloudFormation, rendered (and
/// serialized) as a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The stack name changes: apply would create another stack.
    StackRenamed {
        /// The base's stack name.
        old: String,
        /// The new output's stack name.
        new: String,
    },
    /// `single` <-> `nested`: every resource moves to another template.
    LayoutChanged {
        /// The base's layout.
        old: String,
        /// The new layout.
        new: String,
    },
    /// A replacement that fails because the resource has a fixed physical name.
    FixedName {
        /// Stack label.
        stack: String,
        /// Logical ID.
        logical_id: String,
        /// The name property, such as `BucketName`.
        property: String,
        /// Its value, shown compactly.
        name: String,
    },
    /// A property that cannot change on an existing resource changes (or may change).
    CannotChange {
        /// Stack label.
        stack: String,
        /// Logical ID.
        logical_id: String,
        /// The property path, without `Properties.`.
        path: String,
        /// Why the value may change, when its text does not.
        possibly_because: Option<String>,
        /// What happens, if known.
        note: Option<String>,
    },
    /// A bucket policy leaves one template and another policy of the same bucket arrives in
    /// another: deleting the old resource deletes the bucket's (one) policy.
    BucketPolicyMoved {
        /// The bucket, `stack/LogicalId`.
        bucket: String,
        /// The policy resource removed, `stack/LogicalId`.
        from: String,
        /// The policy resource added, `stack/LogicalId`.
        to: String,
    },
    /// A resource added under a fixed physical name that a resource removed elsewhere in the
    /// same apply still holds: CloudFormation creates before it deletes, so the creation fails
    /// ("already exists"), and a retained resource keeps the name for good.
    NameStillTaken {
        /// The added resource, `stack/LogicalId`.
        added: String,
        /// The removed resource that holds the name, `stack/LogicalId`.
        removed: String,
        /// The name property, such as `NotebookInstanceName`.
        property: String,
        /// The name, as written in both templates.
        name: String,
        /// Whether the removed resource is retained (its DeletionPolicy).
        retained: bool,
    },
    /// The users shard count changes and users move between shards
    /// ([`crate::plan::shards::moves`]).
    UsersMoved {
        /// The base's shard count, if known.
        old: Option<u32>,
        /// The new shard count, if known.
        new: Option<u32>,
        /// Whether synth chose the new count (`notebook.shards` unset).
        chosen: bool,
        /// Who moves where, sorted by user.
        moves: Vec<crate::plan::shards::UserMove>,
    },
    /// A warning about the new side's blueprint (valid, but most likely not what was meant),
    /// with its place: `FILE:LINE:COLUMN: PATH: MESSAGE (to do: ...)`.
    Blueprint {
        /// The warning as one line.
        text: String,
    },
    /// Deployed mode: the stack does not exist (`DescribeStacks`), so everything is new.
    StackDoesNotExist {
        /// The stack name.
        stack: String,
        /// The Region planned against, if known.
        region: Option<String>,
    },
    /// Deployed mode: the stack is `REVIEW_IN_PROGRESS` (created by a change set never executed).
    NeverDeployed {
        /// The stack name.
        stack: String,
    },
    /// Deployed mode: CloudFormation could not create the change set.
    ChangeSetFailed {
        /// The status reason.
        reason: String,
        /// The change set's ID when `--keep-change-set` kept it (else it was deleted).
        kept: Option<String>,
    },
    /// Deployed mode: the change set has no changes although the templates differ.
    ChangeSetFoundNoChanges {
        /// CloudFormation's status reason.
        reason: String,
    },
}

impl Warning {
    /// Whether the warning changes how the whole plan reads (a new stack instead of an update,
    /// every resource moving to another template) or holds whatever changes (a blueprint
    /// warning): renderers show it under the summary line, before any section, also in a plan
    /// without changes.
    #[must_use]
    pub fn is_headline(&self) -> bool {
        matches!(self, Self::StackRenamed { .. } | Self::LayoutChanged { .. } | Self::Blueprint { .. })
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StackRenamed { old, new } => write!(
                f,
                "the stack name changes from {old} to {new}: apply would create a NEW CloudFormation stack {new} and leave the stack {old} (and everything in it) as it is; the changes below compare the templates as if one stack were updated"
            ),
            Self::LayoutChanged { old, new } => write!(
                f,
                "the layout changes ({old} -> {new}): every resource moves to another template, which CloudFormation treats as removal and creation"
            ),
            Self::FixedName { stack, logical_id, property, name } => {
                let note = ResourceNote::FixedName { property: property.clone(), name: name.clone() };
                write!(f, "{stack}/{logical_id}: {note}")
            }
            Self::CannotChange { stack, logical_id, path, possibly_because, note } => {
                let why = possibly_because.as_ref().map_or_else(String::new, |w| format!(" (possibly changed: {w})"));
                let note = note.as_deref().unwrap_or("this property cannot change: the update fails");
                write!(f, "{stack}/{logical_id} {path}{why}: {note}")
            }
            Self::BucketPolicyMoved { bucket, from, to } => write!(
                f,
                "the policy of bucket {bucket} moves from {from} to {to}: CloudFormation creates {to} (S3 keeps one policy per bucket: PutBucketPolicy replaces it) and deletes {from} in the cleanup phase at the end of the update, which deletes the bucket's policy (DeleteBucketPolicy). After apply the bucket has no policy (no TLS-only rule, no endpoint guard) until it is put back: put {to}'s document back with `aws s3api put-bucket-policy` right after apply (`sandboxc status --drift` shows the policy as deleted until then)"
            ),
            Self::NameStillTaken { added, removed, property, name, retained } => {
                let after = if *retained {
                    format!("and {removed} is retained (DeletionPolicy Retain), so it keeps the name after the apply too")
                } else {
                    format!("and {removed} is deleted only in the cleanup phase at the end of the update")
                };
                write!(
                    f,
                    "{added} cannot be created: its {property} {name} is still held by {removed}, which this apply removes; CloudFormation creates new resources first {after}. Keep the resource in its template, or remove it in one apply and add it in the next (deleting a retained one yourself in between)"
                )
            }
            Self::UsersMoved { old, new, chosen, moves } => users_moved(f, *old, *new, *chosen, moves),
            Self::Blueprint { text } => write!(f, "blueprint {text}"),
            Self::StackDoesNotExist { stack, region } => {
                let where_ = region.as_ref().map_or_else(String::new, |r| format!(" in {r}"));
                write!(
                    f,
                    "the CloudFormation stack {stack} does not exist{where_}: every resource is new; no change set was created (apply creates the stack)"
                )
            }
            Self::NeverDeployed { stack } => write!(
                f,
                "the CloudFormation stack {stack} was never deployed (REVIEW_IN_PROGRESS): every resource is new; no change set was created"
            ),
            Self::ChangeSetFailed { reason, kept } => {
                let fate = kept.as_ref().map_or_else(|| "deleted".to_string(), |id| format!("kept: {id}"));
                write!(
                    f,
                    "CloudFormation could not create the change set ({reason}; change set {fate}): replacements below are predicted from create-only properties, not confirmed; if the reason names a TemplateURL, the nested templates are not in the assets bucket yet (`sandboxc apply` uploads them)"
                )
            }
            Self::ChangeSetFoundNoChanges { reason } => write!(
                f,
                "CloudFormation's change set found no changes ({reason}): the template differences below change no resource"
            ),
        }
    }
}

/// [`Warning::UsersMoved`] as a sentence: the count change, every move, and what it costs.
fn users_moved(
    f: &mut fmt::Formatter<'_>,
    old: Option<u32>,
    new: Option<u32>,
    chosen: bool,
    moves: &[crate::plan::shards::UserMove],
) -> fmt::Result {
    let count = |c: Option<u32>| c.map_or_else(|| "?".to_string(), |c| c.to_string());
    write!(f, "the users shard count changes ({} -> {})", count(old), count(new))?;
    if chosen {
        write!(f, ", chosen by synth because notebook.shards is not set")?;
        if let Some(old) = old {
            write!(f, " (write `shards: {old}` under `notebook:` to keep every user where they are)")?;
        }
    }
    let notebooks = moves.iter().filter(|m| m.notebook).count();
    write!(f, ": {} user{} move between shards: ", moves.len(), if moves.len() == 1 { "" } else { "s" })?;
    let list: Vec<String> = moves.iter().map(|m| format!("{} ({} -> {})", m.user, m.from, m.to)).collect();
    write!(f, "{}", list.join(", "))?;
    write!(
        f,
        ". CloudFormation removes each moved user's resources from the old shard's stack and creates them in the new one"
    )?;
    if notebooks > 0 {
        write!(
            f,
            ": {notebooks} notebook instance{} replaced (the files on the old instance's volume are not carried over; the user's home prefix in S3 stays), and the old instance is retained (DeletionPolicy Retain)",
            if notebooks == 1 { " is" } else { "s are" }
        )?;
    }
    write!(
        f,
        ". CloudFormation creates the new resources before it deletes the old ones (cleanup phase at the end of the update), and a moved user's notebook instance name and allow-list parameter name stay the same, so this update fails on the first moved user and rolls back: on a deployed sandbox keep the shard count it was deployed with"
    )
}

impl Serialize for Warning {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}
