//! The diff engine: one template set against another. Nested stacks are matched by logical ID
//! and diffed inside; values compare with intrinsic-aware equality; a replaced resource marks
//! every value that resolves to it as possibly changed, across stacks through parameters and
//! outputs, repeated until nothing more changes. Works on the parsed templates; values in
//! the plan are rendered back to JSON.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{
    Action, Impact, PropertyChange, Replacement, ResourceChange, ResourceNote, TemplateDiff, TemplateStatus,
    ValueChange,
};
use super::render::compact_expr;
use super::replacement;
use super::resolve::{dependencies, same, ResourceKey, Tree};
use super::source::TemplateSet;
use super::unchanged::Unchanged;
use crate::cfn::{Expr, ExprMap, Resource, SubPart, Target, Template, RESOURCE_ATTRIBUTES};

/// Resource attributes beside `Type` and `Properties` that the plan compares. All but
/// `Condition` change only the template, not the resource.
const ATTRIBUTES: [&str; 7] = RESOURCE_ATTRIBUTES;

/// Array elements are matched by the first of these fields that every element has, uniquely
/// (statements by `Sid`, inline policies by `PolicyName`, tags by `Key`, user settings by `Action`).
const ARRAY_KEYS: [&str; 4] = ["Sid", "PolicyName", "Key", "Action"];

/// One compared template: the diff and both sides, for the security and data-loss passes.
#[derive(Debug)]
pub struct Compared<'a> {
    /// The diff.
    pub diff: TemplateDiff,
    /// The base template, if the stack existed.
    pub old: Option<&'a Template>,
    /// The new template, if the stack still exists.
    pub new: Option<&'a Template>,
}

impl Compared<'_> {
    /// A resource of the base template.
    #[must_use]
    pub fn old_resource(&self, id: &str) -> Option<&Resource> {
        self.old.and_then(|t| t.resource(id))
    }

    /// A resource of the new template.
    #[must_use]
    pub fn new_resource(&self, id: &str) -> Option<&Resource> {
        self.new.and_then(|t| t.resource(id))
    }
}

struct Work {
    path: String,
    old_node: Option<usize>,
    new_node: Option<usize>,
    diff: TemplateDiff,
    /// Resources in both templates: logical ID -> property changes so far.
    both: BTreeMap<String, Vec<PropertyChange>>,
    /// Resources only in one template: logical ID -> action.
    single: BTreeMap<String, Action>,
}

/// A value whose text is equal on both sides but holds references.
struct Leaf {
    work: usize,
    /// `Some(logical ID)` for a resource property, `None` for an output.
    resource: Option<String>,
    /// Output name or property path.
    path: String,
    /// Resource type (resource properties only).
    rtype: String,
    /// The value as the base template has it (its references typed in the base's scope).
    old_raw: Expr,
    /// The value as the new template has it.
    new_raw: Expr,
    deps: BTreeSet<ResourceKey>,
    marked: bool,
}

fn pair_stacks(old: &TemplateSet, new: &TemplateSet, old_tree: &Tree<'_>, new_tree: &Tree<'_>) -> Vec<Work> {
    let rank = |set: &TemplateSet, file: &str| set.order.iter().position(|f| f == file).unwrap_or(usize::MAX);
    let mut paths: Vec<(bool, usize, String)> = Vec::new();
    for n in &new_tree.nodes {
        paths.push((!n.path.is_empty(), rank(new, &n.file), n.path.clone()));
    }
    for n in &old_tree.nodes {
        if !new_tree.by_path.contains_key(&n.path) {
            paths.push((!n.path.is_empty(), rank(old, &n.file), n.path.clone()));
        }
    }
    paths.sort();
    paths
        .into_iter()
        .map(|(_, _, path)| {
            let old_node = old_tree.by_path.get(&path).copied();
            let new_node = new_tree.by_path.get(&path).copied();
            let label = new_node
                .map(|i| &new_tree.nodes[i])
                .or_else(|| old_node.map(|i| &old_tree.nodes[i]))
                .map_or_else(|| path.clone(), |n| n.label.clone());
            let status = match (old_node, new_node) {
                (Some(_), None) => TemplateStatus::Removed,
                (None, Some(_)) => TemplateStatus::Added,
                _ => TemplateStatus::Unchanged,
            };
            Work {
                diff: TemplateDiff {
                    stack: label.clone(),
                    logical_id_path: path.clone(),
                    old_file: old_node.map(|i| old_tree.nodes[i].file.clone()),
                    new_file: new_node.map(|i| new_tree.nodes[i].file.clone()),
                    status,
                    description: None,
                    parameters: Vec::new(),
                    conditions: Vec::new(),
                    outputs: Vec::new(),
                    resources: Vec::new(),
                },
                path,
                old_node,
                new_node,
                both: BTreeMap::new(),
                single: BTreeMap::new(),
            }
        })
        .collect()
}

fn value_changes(old: &ExprMap, new: &ExprMap) -> Vec<ValueChange> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (o, n) = (old.get(k), new.get(k));
            match (o, n) {
                (Some(a), Some(b)) if same(a, b) => None,
                _ => Some(ValueChange {
                    name: k.clone(),
                    old: o.map(Expr::to_value),
                    new: n.map(Expr::to_value),
                    possibly_because: None,
                }),
            }
        })
        .collect()
}

/// Parameters, conditions and outputs of a template (none for a stack that does not exist),
/// each declaration as the template writes it.
fn declarations(t: Option<&Template>) -> [ExprMap; 3] {
    let Some(t) = t else { return Default::default() };
    [
        t.parameters.iter().map(|(k, p)| (k.clone(), p.to_expr())).collect(),
        t.conditions.clone(),
        t.outputs.iter().map(|(k, o)| (k.clone(), o.to_expr())).collect(),
    ]
}

fn raw_diff(w: &mut Work, old_tree: &Tree<'_>, new_tree: &Tree<'_>, wi: usize, leaves: &mut Vec<Leaf>) {
    let old_t = w.old_node.map(|i| old_tree.nodes[i].template);
    let new_t = w.new_node.map(|i| new_tree.nodes[i].template);
    let description = |t: Option<&Template>| t.filter(|t| !t.description.is_empty()).map(|t| t.description.clone());
    let (od, nd) = (description(old_t), description(new_t));
    if w.old_node.is_some() && w.new_node.is_some() && od != nd {
        w.diff.description = Some(ValueChange {
            name: "Description".into(),
            old: od.map(Value::String),
            new: nd.map(Value::String),
            possibly_because: None,
        });
    }
    let [old_p, old_c, old_o] = declarations(old_t);
    let [new_p, new_c, new_o] = declarations(new_t);
    w.diff.parameters = value_changes(&old_p, &new_p);
    w.diff.conditions = value_changes(&old_c, &new_c);
    w.diff.outputs = value_changes(&old_o, &new_o);
    let none = BTreeMap::new();
    let old_r = old_t.map_or(&none, |t| &t.resources);
    let new_r = new_t.map_or(&none, |t| &t.resources);
    let ids: BTreeSet<&crate::cfn::LogicalId> = old_r.keys().chain(new_r.keys()).collect();
    for id in ids {
        match (old_r.get(id), new_r.get(id)) {
            (Some(_), None) => {
                w.single.insert(id.to_string(), Action::Remove);
            }
            (None, Some(_)) => {
                w.single.insert(id.to_string(), Action::Add);
            }
            (Some(o), Some(n)) => {
                let changes = resource_diff(id.as_str(), o, n, w, old_tree, new_tree);
                w.both.insert(id.to_string(), changes);
            }
            (None, None) => {}
        }
    }
    // Values whose text is unchanged but that hold references: resolved later.
    if let (Some(old_t), Some(new_t)) = (old_t, new_t) {
        for (id, n) in &new_t.resources {
            let Some(o) = old_t.resources.get(id) else { continue };
            if o.kind != n.kind {
                continue;
            }
            let nested = is_nested_pair(id.as_str(), &w.path, old_tree, new_tree);
            for (k, nv) in &n.properties {
                if nested && k == "TemplateURL" {
                    continue;
                }
                if let Some(ov) = o.properties.get(k) {
                    collect_leaves(ov, nv, &mut format!("Properties.{k}"), &mut |path, old_raw, new_raw| {
                        leaves.push(Leaf {
                            work: wi,
                            resource: Some(id.to_string()),
                            path,
                            rtype: n.kind.clone(),
                            old_raw: old_raw.clone(),
                            new_raw: new_raw.clone(),
                            deps: BTreeSet::new(),
                            marked: false,
                        });
                    });
                }
            }
        }
        for (name, no) in &new_t.outputs {
            if let Some(oo) = old_t.outputs.get(name) {
                if same(&oo.to_expr(), &no.to_expr()) && no.value.has_function() {
                    leaves.push(Leaf {
                        work: wi,
                        resource: None,
                        path: name.clone(),
                        rtype: String::new(),
                        old_raw: oo.value.clone(),
                        new_raw: no.value.clone(),
                        deps: BTreeSet::new(),
                        marked: false,
                    });
                }
            }
        }
    }
}

fn is_nested_pair(id: &str, path: &str, old_tree: &Tree<'_>, new_tree: &Tree<'_>) -> bool {
    let child = if path.is_empty() { id.to_string() } else { format!("{path}/{id}") };
    old_tree.by_path.contains_key(&child) && new_tree.by_path.contains_key(&child)
}

/// The values below `path` whose text is equal on both sides but that hold references, as
/// `(path, old, new)`. `path` is extended in place while descending (and restored).
fn collect_leaves(old: &Expr, new: &Expr, path: &mut String, out: &mut dyn FnMut(String, &Expr, &Expr)) {
    // Every leaf holds a function of the new side: a subtree without one has none.
    if !new.has_function() {
        return;
    }
    let equal = same(old, new);
    match (old, new) {
        (Expr::Map(a), Expr::Map(b)) => {
            for (k, nv) in b {
                if let Some(ov) = a.get(k) {
                    descend(path, format_args!(".{k}"), |path| collect_leaves(ov, nv, path, out));
                }
            }
        }
        (_, Expr::Map(b)) if equal => {
            for (k, nv) in b {
                if let Some(ov) = old.get(k) {
                    descend(path, format_args!(".{k}"), |path| collect_leaves(ov, nv, path, out));
                }
            }
        }
        (_, Expr::List(b)) if equal || matches!(old, Expr::List(_)) => {
            let a = old.as_list().unwrap_or_default();
            if let Some(key) = array_key(a, b) {
                for nv in b {
                    let k = element_key_str(nv, key);
                    if let Some(ov) = a.iter().find(|x| element_key_str(x, key) == k) {
                        descend(path, format_args!("[{k}]"), |path| collect_leaves(ov, nv, path, out));
                    }
                }
            } else if equal || a.len() == b.len() {
                for (i, (ov, nv)) in a.iter().zip(b).enumerate() {
                    descend(path, format_args!("[{i}]"), |path| collect_leaves(ov, nv, path, out));
                }
            }
        }
        (_, v) if equal && v.has_function() => out(path.clone(), old, v),
        _ => {}
    }
}

/// Runs `f` with `segment` appended to `path`, then restores `path`.
fn descend(path: &mut String, segment: std::fmt::Arguments<'_>, f: impl FnOnce(&mut String)) {
    use std::fmt::Write;
    let len = path.len();
    let _ = path.write_fmt(segment);
    f(path);
    path.truncate(len);
}

fn array_key(a: &[Expr], b: &[Expr]) -> Option<&'static str> {
    if a.is_empty() && b.is_empty() {
        return None;
    }
    ARRAY_KEYS.into_iter().find(|key| {
        let sets: Vec<BTreeSet<&str>> = [a, b]
            .iter()
            .filter_map(|side| {
                let keys: Vec<&str> = side.iter().filter_map(|e| e.get(key).and_then(Expr::as_str)).collect();
                let unique: BTreeSet<&str> = keys.iter().copied().collect();
                (keys.len() == side.len() && unique.len() == keys.len()).then_some(unique)
            })
            .collect();
        // Both sides keyed, and (when both have elements) sharing a key: otherwise elements
        // renamed as a whole (a policy named after the environment) pair up by position.
        sets.len() == 2 && (a.is_empty() || b.is_empty() || !sets[0].is_disjoint(&sets[1]))
    })
}

fn element_key(v: &Expr, key: &str) -> String {
    element_key_str(v, key).to_string()
}

fn element_key_str<'e>(v: &'e Expr, key: &str) -> &'e str {
    v.get(key).and_then(Expr::as_str).unwrap_or_default()
}

/// Every differing path between two values: `(path, old, new)`, the values as JSON.
fn value_diff(
    path: &str,
    old: Option<&Expr>,
    new: Option<&Expr>,
    out: &mut Vec<(String, Option<Value>, Option<Value>)>,
) {
    match (old, new) {
        (None, None) => {}
        (Some(a), Some(b)) if same(a, b) => {}
        (Some(Expr::Map(a)), Some(Expr::Map(b))) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                value_diff(&format!("{path}.{k}"), a.get(k), b.get(k), out);
            }
        }
        (Some(Expr::List(a)), Some(Expr::List(b))) => {
            if let Some(key) = array_key(a, b) {
                let mut keys: Vec<String> = a.iter().map(|e| element_key(e, key)).collect();
                for e in b {
                    let k = element_key(e, key);
                    if !keys.contains(&k) {
                        keys.push(k);
                    }
                }
                for k in keys {
                    let o = a.iter().find(|e| element_key(e, key) == k);
                    let n = b.iter().find(|e| element_key(e, key) == k);
                    value_diff(&format!("{path}[{k}]"), o, n, out);
                }
            } else if a.len() == b.len() {
                for (i, (o, n)) in a.iter().zip(b).enumerate() {
                    value_diff(&format!("{path}[{i}]"), Some(o), Some(n), out);
                }
            } else {
                out.push((path.to_string(), old.map(Expr::to_value), new.map(Expr::to_value)));
            }
        }
        _ => out.push((path.to_string(), old.map(Expr::to_value), new.map(Expr::to_value))),
    }
}

/// [`value_diff`] of two resources' `Properties` (an empty mapping is how the model holds
/// absent `Properties`), without copying them into values.
fn properties_diff(old: &ExprMap, new: &ExprMap, out: &mut Vec<(String, Option<Value>, Option<Value>)>) {
    let value = |m: &ExprMap| {
        (!m.is_empty()).then(|| Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_value())).collect()))
    };
    if old.is_empty() != new.is_empty() {
        out.push(("Properties".into(), value(old), value(new)));
    } else if old != new {
        let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for k in keys {
            value_diff(&format!("Properties.{k}"), old.get(k), new.get(k), out);
        }
    }
}

/// The top-level property of a path such as `Properties.VpcConfig.SubnetIds` (`VpcConfig`).
pub fn top_property(path: &str) -> &str {
    let rest = path.strip_prefix("Properties.").unwrap_or(path);
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    &rest[..end]
}

fn resource_diff(
    id: &str,
    old: &Resource,
    new: &Resource,
    w: &Work,
    old_tree: &Tree<'_>,
    new_tree: &Tree<'_>,
) -> Vec<PropertyChange> {
    let mut changes = Vec::new();
    let rtype = new.kind.as_str();
    if old.kind != new.kind {
        changes.push(PropertyChange {
            path: "Type".into(),
            old: Some(Value::String(old.kind.clone())),
            new: Some(Value::String(new.kind.clone())),
            replacement: Replacement::Certain,
            template_only: false,
            possibly_because: None,
            note: Some("a different resource type: the old resource is deleted and a new one created".into()),
        });
        return changes;
    }
    for attr in ATTRIBUTES {
        let (o, n) = (old.attribute(attr), new.attribute(attr));
        if !matches!((&o, &n), (Some(a), Some(b)) if same(a, b)) && (o.is_some() || n.is_some()) {
            let note = match attr {
                "DeletionPolicy" | "UpdateReplacePolicy" => Some(
                    "decides whether the resource is kept when removed or replaced; no update of the resource itself"
                        .into(),
                ),
                _ => None,
            };
            changes.push(PropertyChange {
                path: attr.into(),
                old: o.as_ref().map(Expr::to_value),
                new: n.as_ref().map(Expr::to_value),
                replacement: Replacement::None,
                template_only: attr != "Condition",
                possibly_because: None,
                note,
            });
        }
    }
    let nested = is_nested_pair(id, &w.path, old_tree, new_tree);
    let mut raw = Vec::new();
    properties_diff(&old.properties, &new.properties, &mut raw);
    for (path, o, n) in raw {
        let prop = top_property(&path);
        if nested && prop == "TemplateURL" {
            continue;
        }
        let mut tier = replacement::tier(rtype, prop, true);
        let mut note = replacement::note(rtype, prop, tier);
        if let Some(shrink) = replacement::shrinks(rtype, prop, o.as_ref(), n.as_ref()) {
            (tier, note) = (Replacement::Impossible, Some(shrink));
        }
        changes.push(PropertyChange {
            path,
            old: o,
            new: n,
            replacement: tier,
            template_only: false,
            possibly_because: None,
            note,
        });
    }
    changes
}

fn describe_key(tree: &Tree<'_>, here: &str, key: &ResourceKey) -> String {
    if key.0 == here {
        key.1.clone()
    } else {
        let label = tree.by_path.get(&key.0).map_or_else(|| key.0.clone(), |i| tree.nodes[*i].label.clone());
        format!("{label}/{}", key.1)
    }
}

fn replaced_set(works: &[Work]) -> BTreeSet<ResourceKey> {
    let mut out = BTreeSet::new();
    for w in works {
        for (id, changes) in &w.both {
            if changes.iter().any(|c| matches!(c.replacement, Replacement::Certain | Replacement::Possible)) {
                out.insert((w.path.clone(), id.clone()));
            }
        }
    }
    out
}

/// Whether a `Ref` target names something that can change between the templates (not a
/// pseudo parameter).
fn is_reference(t: &Target) -> bool {
    !matches!(t, Target::Pseudo(_)) && !t.name().starts_with("AWS::")
}

/// References in a value, each as a small expression: `Ref X`, `GetAtt A.B` (also those
/// inside `Fn::Sub` strings, but not the function's own variables).
fn references(v: &Expr, out: &mut Vec<Expr>) {
    match v {
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Num(_) | Expr::Str(_) => {}
        Expr::List(a) => a.iter().for_each(|x| references(x, out)),
        Expr::Map(m) => m.values().for_each(|x| references(x, out)),
        Expr::Ref(t) => {
            if is_reference(t) {
                out.push(v.clone());
            }
        }
        Expr::GetAtt(..) => out.push(v.clone()),
        Expr::Sub(sub) => {
            for p in sub.parts() {
                match p {
                    SubPart::Ref(t) if is_reference(t) => out.push(Expr::Ref(t.clone())),
                    SubPart::GetAtt(id, attr) => out.push(Expr::GetAtt(id.clone(), attr.clone())),
                    _ => {}
                }
            }
            sub.vars().values().for_each(|x| references(x, out));
        }
        Expr::Join(_, items) => items.iter().for_each(|x| references(x, out)),
        Expr::Select(_, x) | Expr::GetAZs(x) | Expr::ImportValue(x) | Expr::Split(_, x) | Expr::Intrinsic(_, x) => {
            references(x, out);
        }
        Expr::If(_, a, b) | Expr::Equals(a, b) => {
            references(a, out);
            references(b, out);
        }
    }
}

/// The same reference as the template of node `node` reads its name.
fn in_scope_of(tree: &Tree<'_>, node: usize, r: &Expr) -> Expr {
    match (r, tree.nodes.get(node)) {
        (Expr::Ref(t), Some(n)) => Expr::Ref(n.template.scope().target(t.name())),
        _ => r.clone(),
    }
}

fn describe_reference(tree: &Tree<'_>, node: usize, r: &Expr) -> String {
    match r {
        Expr::Ref(Target::Parameter(name)) => format!("parameter {name}"),
        Expr::Ref(t) => t.name().to_string(),
        Expr::GetAtt(id, attr) => {
            if let (Some(child), Some(out)) =
                (tree.nodes.get(node).and_then(|n| n.children.get(id.as_str())), attr.strip_prefix("Outputs."))
            {
                return format!("output {out} of {}", tree.nodes[*child].label);
            }
            format!("{id}.{attr}")
        }
        _ => "a referenced value".into(),
    }
}

fn propagate(works: &mut [Work], leaves: &mut [Leaf], new_tree: &Tree<'_>) {
    let mut replaced = replaced_set(works);
    loop {
        let mut grew = false;
        for leaf in leaves.iter_mut().filter(|l| !l.marked) {
            let hits: Vec<&ResourceKey> = leaf.deps.iter().filter(|d| replaced.contains(*d)).collect();
            if hits.is_empty() {
                continue;
            }
            let w = &mut works[leaf.work];
            let names: Vec<String> = hits.iter().take(3).map(|k| describe_key(new_tree, &w.path, k)).collect();
            let because = format!("depends on replaced {}", names.join(", "));
            mark(w, leaf, because);
            leaf.marked = true;
            grew = true;
        }
        let next = replaced_set(works);
        if !grew || next == replaced {
            break;
        }
        replaced = next;
    }
}

fn mark(w: &mut Work, leaf: &Leaf, because: String) {
    match &leaf.resource {
        Some(id) => {
            let Some(changes) = w.both.get_mut(id) else { return };
            if changes.iter().any(|c| c.path == leaf.path) {
                return;
            }
            let tier = replacement::tier(&leaf.rtype, top_property(&leaf.path), false);
            let raw = leaf.new_raw.to_value();
            changes.push(PropertyChange {
                path: leaf.path.clone(),
                old: Some(raw.clone()),
                new: Some(raw),
                replacement: tier,
                template_only: false,
                possibly_because: Some(because),
                note: replacement::note(&leaf.rtype, top_property(&leaf.path), tier),
            });
        }
        None => {
            if w.diff.outputs.iter().any(|o| o.name == leaf.path) {
                return;
            }
            let raw = leaf.new_raw.to_value();
            w.diff.outputs.push(ValueChange {
                name: leaf.path.clone(),
                old: Some(raw.clone()),
                new: Some(raw),
                possibly_because: Some(because),
            });
        }
    }
}

/// Resolves every leaf on both sides: differing values are marked at once (with the
/// references that resolve differently as the reason); the others keep their dependencies.
fn resolve_leaves(works: &mut [Work], leaves: &mut [Leaf], old_tree: &Tree<'_>, new_tree: &Tree<'_>) {
    for leaf in leaves.iter_mut() {
        let (Some(on), Some(nn)) = (works[leaf.work].old_node, works[leaf.work].new_node) else { continue };
        let old_res = old_tree.resolve(on, &leaf.old_raw);
        let new_res = new_tree.resolve(nn, &leaf.new_raw);
        dependencies(&new_res, &mut leaf.deps);
        if old_res != new_res {
            let mut refs = Vec::new();
            references(&leaf.new_raw, &mut refs);
            let mut causes: Vec<String> = refs
                .iter()
                .filter(|r| old_tree.resolve(on, &in_scope_of(old_tree, on, r)) != new_tree.resolve(nn, r))
                .map(|r| describe_reference(new_tree, nn, r))
                .collect();
            causes.dedup();
            let because = if causes.is_empty() {
                "a value it references changes".to_string()
            } else {
                format!("value of {} changes", causes.join(", "))
            };
            mark(&mut works[leaf.work], leaf, because);
            leaf.marked = true;
        }
    }
}

fn finish<'a>(works: Vec<Work>, old_tree: &Tree<'a>, new_tree: &Tree<'a>) -> Vec<Compared<'a>> {
    let mut out: Vec<Compared<'a>> = Vec::new();
    for w in works {
        let old_t = w.old_node.map(|i| old_tree.nodes[i].template);
        let new_t = w.new_node.map(|i| new_tree.nodes[i].template);
        let mut diff = w.diff;
        for (id, action) in &w.single {
            let r = match action {
                Action::Remove => old_t.and_then(|t| t.resource(id)),
                _ => new_t.and_then(|t| t.resource(id)),
            };
            let rtype = r.map(|r| r.kind.clone()).unwrap_or_default();
            let impact = if *action == Action::Remove { Impact::Removal } else { Impact::Create };
            diff.resources.push(ResourceChange {
                logical_id: id.clone(),
                resource_type: rtype,
                action: *action,
                impact,
                replacement: Replacement::None,
                changes: Vec::new(),
                notes: Vec::new(),
                nested_stack: None,
            });
        }
        for (id, mut changes) in w.both {
            let r = new_t.and_then(|t| t.resource(&id));
            let rtype = r.map(|r| r.kind.clone()).unwrap_or_default();
            if changes.is_empty() {
                // A nested stack whose TemplateURL alone changed: kept until its child's diff is known.
                if is_nested_pair(&id, &w.path, old_tree, new_tree) {
                    diff.resources.push(ResourceChange {
                        logical_id: id,
                        resource_type: rtype,
                        action: Action::Modify,
                        impact: Impact::None,
                        replacement: Replacement::None,
                        changes,
                        notes: Vec::new(),
                        nested_stack: None,
                    });
                }
                continue;
            }
            changes.sort_by(|a, b| a.path.cmp(&b.path));
            let replacement = changes.iter().map(|c| c.replacement).max().unwrap_or_default();
            let any_update = changes.iter().any(|c| !c.template_only);
            let impact = match replacement {
                Replacement::Certain => Impact::CertainReplacement,
                Replacement::Possible => Impact::PossibleReplacement,
                _ if any_update => Impact::Update,
                _ => Impact::None,
            };
            let action = if impact >= Impact::PossibleReplacement { Action::Replace } else { Action::Modify };
            let mut notes = Vec::new();
            if impact >= Impact::PossibleReplacement {
                if let Some(name_prop) = replacement::rules(&rtype).and_then(|r| r.name_property) {
                    let renamed =
                        changes.iter().any(|c| top_property(&c.path) == name_prop && c.possibly_because.is_none());
                    if let Some(name) = r.and_then(|r| r.properties.get(name_prop)).filter(|_| !renamed) {
                        notes.push(ResourceNote::FixedName {
                            property: name_prop.to_string(),
                            name: compact_expr(name, 80),
                        });
                    }
                }
            }
            diff.resources.push(ResourceChange {
                logical_id: id,
                resource_type: rtype,
                action,
                impact,
                replacement,
                changes,
                notes,
                nested_stack: None,
            });
        }
        diff.resources.sort_by(|a, b| a.logical_id.cmp(&b.logical_id));
        diff.outputs.sort_by(|a, b| a.name.cmp(&b.name));
        out.push(Compared { diff, old: old_t, new: new_t });
    }
    // Nested stacks: point the parent's resource at the child's diff; drop a parent entry that
    // only differs in TemplateURL when the child template is unchanged.
    let summaries: BTreeMap<String, (String, bool, String)> = out
        .iter()
        .filter(|c| !c.diff.logical_id_path.is_empty())
        .map(|c| (c.diff.logical_id_path.clone(), (c.diff.stack.clone(), c.diff.has_changes(), inner_summary(&c.diff))))
        .collect();
    for c in &mut out {
        let here = c.diff.logical_id_path.clone();
        for r in &mut c.diff.resources {
            let child = if here.is_empty() { r.logical_id.clone() } else { format!("{here}/{}", r.logical_id) };
            if let Some((label, changed, summary)) = summaries.get(&child) {
                r.nested_stack = Some(label.clone());
                if *changed {
                    r.notes.push(ResourceNote::NestedTemplate { summary: summary.clone(), stack: label.clone() });
                    if r.impact < Impact::Update && r.action == Action::Modify {
                        r.impact = Impact::Update;
                    }
                }
            }
        }
        let mut keep = Vec::new();
        for r in std::mem::take(&mut c.diff.resources) {
            let child = if here.is_empty() { r.logical_id.clone() } else { format!("{here}/{}", r.logical_id) };
            let unchanged_child = summaries.get(&child).is_some_and(|(_, changed, _)| !changed);
            if r.action == Action::Modify && r.changes.is_empty() && unchanged_child {
                continue;
            }
            keep.push(r);
        }
        c.diff.resources = keep;
    }
    for c in &mut out {
        if c.diff.status == TemplateStatus::Unchanged && c.diff.has_changes() {
            c.diff.status = TemplateStatus::Modified;
        }
    }
    out
}

/// "2 to replace, 3 to update" for a template's resources.
pub fn inner_summary(d: &TemplateDiff) -> String {
    let count = |f: &dyn Fn(&ResourceChange) -> bool| d.resources.iter().filter(|r| f(r)).count();
    let mut parts = Vec::new();
    for (n, what) in [
        (count(&|r| r.action == Action::Add), "to add"),
        (count(&|r| r.impact == Impact::Update), "to update"),
        (count(&|r| r.impact == Impact::CertainReplacement), "to replace"),
        (count(&|r| r.impact == Impact::PossibleReplacement), "possibly replaced"),
        (count(&|r| r.action == Action::Remove), "to remove"),
        (count(&|r| r.impact == Impact::None), "template only"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let others = d.parameters.len() + d.outputs.len() + d.conditions.len() + usize::from(d.description.is_some());
    if others > 0 {
        parts.push(format!("{others} parameter/output/description changes"));
    }
    if parts.is_empty() {
        "no changes".into()
    } else {
        parts.join(", ")
    }
}

/// Compares two template sets, resolving references across nested stacks.
///
/// Nested stacks found [`Unchanged`] are left out of the comparison (their diff is empty);
/// should a resource they depend on turn out replaced, everything is compared again.
#[must_use]
pub fn compare<'a>(old: &'a TemplateSet, new: &'a TemplateSet) -> Vec<Compared<'a>> {
    let old_tree = Tree::new(old);
    let new_tree = Tree::new(new);
    let unchanged = Unchanged::find(&old_tree, &new_tree);
    let works = compare_works(old, new, &old_tree, &new_tree, &unchanged);
    let works = if unchanged.holds(&replaced_set(&works)) {
        works
    } else {
        compare_works(old, new, &old_tree, &new_tree, &Unchanged::default())
    };
    finish(works, &old_tree, &new_tree)
}

/// Diffs every pair of stacks but the unchanged ones, then resolves and propagates.
fn compare_works(
    old: &TemplateSet,
    new: &TemplateSet,
    old_tree: &Tree<'_>,
    new_tree: &Tree<'_>,
    unchanged: &Unchanged,
) -> Vec<Work> {
    let mut works = pair_stacks(old, new, old_tree, new_tree);
    let mut leaves = Vec::new();
    for (wi, w) in works.iter_mut().enumerate() {
        if !unchanged.contains(&w.path) {
            raw_diff(w, old_tree, new_tree, wi, &mut leaves);
        }
    }
    resolve_leaves(&mut works, &mut leaves, old_tree, new_tree);
    propagate(&mut works, &mut leaves, new_tree);
    works
}
