//! The plan engine: what would change between two template sets, and what it risks. Pure:
//! it is given both sides ([`TemplateSet`]) and, for the deployed stack, the facts of a
//! change set ([`refine::ChangeSetFacts`]); the command line reads or compiles them.
//!
//! [`diff`] matches nested stacks by logical ID and diffs inside with intrinsic-aware
//! equality, [`replacement`] gives each change its replacement tier, [`refine`] merges a
//! change set's facts into the prediction, [`disruption`], [`security`] and [`dataloss`] pick
//! out what people and reviewers must see first, [`creation`] sums up a stack deployed for
//! the first time, and [`render`] writes text, markdown or JSON.

pub mod access;
pub mod creation;
pub mod dataloss;
pub mod diff;
pub mod disruption;
pub mod model;
pub mod refine;
pub mod render;
pub mod replacement;
pub mod resolve;
pub mod security;
pub mod shards;
pub mod source;
pub mod unchanged;

pub use model::{Plan, ResourceNote, SecurityCategory, Warning, PLAN_SCHEMA_VERSION};
pub use source::TemplateSet;

use model::{Action, Direction, FileChange, Impact, Replacement, Summary, TemplateStatus};

/// Why a template set could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `--against DIR` is not a synth output.
    #[error("--against {dir} is not a sandboxc synth output directory: {why}")]
    NotSynthOutput {
        /// The directory.
        dir: String,
        /// Why not.
        why: String,
    },
    /// A template file could not be read or parsed.
    #[error("cannot read template {path}: {why}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        why: String,
    },
    /// Rendering the new output failed.
    #[error("{0}")]
    Synth(String),
}

/// Compares two template sets into a plan. `base` says what `old` is, for people.
#[must_use]
pub fn plan(old: &TemplateSet, new: &TemplateSet, base: &str) -> Plan {
    plan_refined(old, new, base, None)
}

/// [`plan`], with the facts of a change set (deployed mode) merged into the prediction by
/// [`refine::refine`] before the security and data-loss passes.
#[must_use]
pub fn plan_refined(old: &TemplateSet, new: &TemplateSet, base: &str, facts: Option<&refine::ChangeSetFacts>) -> Plan {
    let mut compared = diff::compare(old, new);
    if let Some(facts) = facts {
        refine::refine(&mut compared, facts);
    }
    let access = access::analyze(old, new);
    // A base without templates: the stack is deployed for the first time.
    let first = old.templates.is_empty() && !new.templates.is_empty();
    let mut security = if first { security::risky_grants(&compared) } else { security::analyze(&compared) };
    security.extend(access::retained_bucket_losses(&compared, old));
    security.sort_by(|a, b| (a.direction, &a.stack, &a.logical_id).cmp(&(b.direction, &b.stack, &b.logical_id)));
    let new_stack = first.then(|| creation::summarize(&compared));
    let disruption = disruption::analyze(&compared);
    let data_loss = dataloss::analyze(&compared);
    let mut warnings = Vec::new();
    if old.stack_name != new.stack_name {
        warnings.push(Warning::StackRenamed { old: old.stack_name.clone(), new: new.stack_name.clone() });
    }
    let layout = |s: &TemplateSet| {
        if s.label(&s.root_file) == Some("single") {
            "single".to_string()
        } else {
            "nested".to_string()
        }
    };
    if layout(old) != layout(new) && old.templates.len() + new.templates.len() > 2 {
        warnings.push(Warning::LayoutChanged { old: layout(old), new: layout(new) });
    }
    warnings.extend(access::moved_bucket_policies(&compared, old, new));
    warnings.extend(names_still_taken(&compared));
    let moves = shards::moves(&compared);
    if !moves.is_empty() {
        warnings.push(Warning::UsersMoved {
            old: old.users_shards.map(|s| s.count).or_else(|| shards::shard_count(old.templates.values())),
            new: new.users_shards.map(|s| s.count).or_else(|| shards::shard_count(new.templates.values())),
            chosen: new.users_shards.is_some_and(|s| s.chosen),
            moves,
        });
    }
    for c in &compared {
        for r in &c.diff.resources {
            for n in &r.notes {
                if let ResourceNote::FixedName { property, name } = n {
                    warnings.push(Warning::FixedName {
                        stack: c.diff.stack.clone(),
                        logical_id: r.logical_id.clone(),
                        property: property.clone(),
                        name: name.clone(),
                    });
                }
            }
            for ch in &r.changes {
                if ch.replacement == Replacement::Impossible {
                    warnings.push(Warning::CannotChange {
                        stack: c.diff.stack.clone(),
                        logical_id: r.logical_id.clone(),
                        path: crate::plan::render::path(&ch.path).to_string(),
                        possibly_because: ch.possibly_because.clone(),
                        note: ch.note.clone(),
                    });
                }
            }
        }
    }
    let mut files = Vec::new();
    let names: std::collections::BTreeSet<&String> = old.scripts.keys().chain(new.scripts.keys()).collect();
    for f in names {
        let status = match (old.scripts.get(f), new.scripts.get(f)) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => "modified",
            (None, _) => "added",
            (_, None) => "removed",
        };
        let note = if f.ends_with("launcher.ps1") {
            "baked into the AppStream image: build a new image and point the blueprint's image_name at it"
        } else if f.ends_with("notebook.ps1") {
            "stored in the notebook-script SSM parameter: its change shows in the storage stack"
        } else {
            "not part of any template"
        };
        files.push(FileChange { file: f.clone(), status: status.into(), note: note.into() });
    }
    let templates: Vec<model::TemplateDiff> = compared.into_iter().map(|c| c.diff).collect();
    let mut summary = Summary::default();
    for t in &templates {
        for r in &t.resources {
            match (r.action, r.impact) {
                (Action::Add, _) => summary.add += 1,
                (Action::Remove, _) => summary.remove += 1,
                (_, Impact::CertainReplacement) => summary.replace += 1,
                (_, Impact::PossibleReplacement) => summary.possible_replace += 1,
                (_, Impact::None) => summary.template_only += 1,
                _ => summary.update += 1,
            }
        }
    }
    summary.security = security.len();
    summary.relaxations = security.iter().filter(|s| s.direction == Direction::Relaxed).count();
    summary.data_loss = data_loss.len();
    summary.access = access.len();
    summary.access_relaxations = access.iter().filter(|a| a.direction == Direction::Relaxed).count();
    summary.disruptions = disruption.len();
    let changes = templates.iter().any(|t| t.status != TemplateStatus::Unchanged) || !files.is_empty();
    Plan {
        schema_version: PLAN_SCHEMA_VERSION,
        changes,
        base: base.to_string(),
        old_stack_name: old.stack_name.clone(),
        new_stack_name: new.stack_name.clone(),
        summary,
        access,
        disruption,
        new_stack,
        security,
        data_loss,
        warnings,
        files,
        templates,
        change_set: None,
        cost: None,
    }
}

/// Resources added under a fixed physical name (the type's name property, written the same in
/// both templates) that a resource removed in another place of the same apply still holds:
/// the moves of the layout switch (`single` <-> `nested`), or a resource moved by hand. A
/// resource removed and added under the same logical ID in the same template is an update,
/// not a move, and is not compared here.
fn names_still_taken(compared: &[diff::Compared<'_>]) -> Vec<Warning> {
    let named = |c: &diff::Compared<'_>, r: &model::ResourceChange, old: bool| {
        let property = replacement::rules(&r.resource_type).and_then(|rules| rules.name_property)?;
        let resource = if old { c.old_resource(&r.logical_id)? } else { c.new_resource(&r.logical_id)? };
        let name = render::compact_expr(resource.properties.get(property)?, 200);
        // A name made of its own stack's ID or name differs between stacks: not the same name.
        if name.contains("AWS::StackId") || name.contains("AWS::StackName") {
            return None;
        }
        Some((r.resource_type.clone(), property, name, resource.deletion_policy))
    };
    let mut removed = std::collections::BTreeMap::new();
    for c in compared {
        for r in c.diff.resources.iter().filter(|r| r.action == Action::Remove) {
            if let Some((kind, property, name, policy)) = named(c, r, true) {
                let retained = policy.is_some_and(crate::cfn::Policy::retains);
                removed.insert((kind, name), (format!("{}/{}", c.diff.stack, r.logical_id), property, retained));
            }
        }
    }
    // A move between two users shards is one of the users moves the plan lists (UsersMoved).
    let shard = |label: &str| {
        label.strip_prefix("users").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut out = Vec::new();
    for c in compared {
        for r in c.diff.resources.iter().filter(|r| r.action == Action::Add) {
            let Some((kind, _, name, _)) = named(c, r, false) else { continue };
            if let Some((holder, property, retained)) = removed.get(&(kind, name.clone())) {
                if shard(&c.diff.stack) && holder.split('/').next().is_some_and(shard) {
                    continue;
                }
                out.push(Warning::NameStillTaken {
                    added: format!("{}/{}", c.diff.stack, r.logical_id),
                    removed: holder.clone(),
                    property: (*property).to_string(),
                    name,
                    retained: *retained,
                });
            }
        }
    }
    out
}
