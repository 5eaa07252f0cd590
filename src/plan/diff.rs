//! The diff engine: one template set against another. Nested stacks are matched by logical ID
//! and diffed inside; values compare with intrinsic-aware equality; a replaced resource marks
//! every value that resolves to it as possibly changed, across stacks through parameters and
//! outputs, repeated until nothing more changes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{
    Action, Impact, PropertyChange, Replacement, ResourceChange, TemplateDiff, TemplateStatus, ValueChange,
};
use super::replacement;
use super::resolve::{
    canonical, dependencies, get_att_args, has_intrinsic, is_intrinsic, same, section, ResourceKey, Tree,
};
use super::source::TemplateSet;
use crate::cfn::check::{parse_sub, SubPart};

/// Resource attributes beside `Type` and `Properties` that the plan compares. All but
/// `Condition` change only the template, not the resource.
const ATTRIBUTES: [&str; 7] =
    ["Condition", "CreationPolicy", "DeletionPolicy", "DependsOn", "Metadata", "UpdatePolicy", "UpdateReplacePolicy"];

/// Array elements are matched by the first of these fields that every element has, uniquely
/// (statements by `Sid`, inline policies by `PolicyName`, tags by `Key`, user settings by `Action`).
const ARRAY_KEYS: [&str; 4] = ["Sid", "PolicyName", "Key", "Action"];

/// One compared template: the diff and both sides, for the security and data-loss passes.
#[derive(Debug)]
pub struct Compared<'a> {
    /// The diff.
    pub diff: TemplateDiff,
    /// The base template, if the stack existed.
    pub old: Option<&'a Value>,
    /// The new template, if the stack still exists.
    pub new: Option<&'a Value>,
}

impl Compared<'_> {
    /// A resource of the base template.
    #[must_use]
    pub fn old_resource(&self, id: &str) -> Option<&Value> {
        self.old.and_then(|t| section(t, "Resources").get(id))
    }

    /// A resource of the new template.
    #[must_use]
    pub fn new_resource(&self, id: &str) -> Option<&Value> {
        self.new.and_then(|t| section(t, "Resources").get(id))
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
    raw: Value,
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

fn value_changes(old: &serde_json::Map<String, Value>, new: &serde_json::Map<String, Value>) -> Vec<ValueChange> {
    let keys: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (o, n) = (old.get(k), new.get(k));
            match (o, n) {
                (Some(a), Some(b)) if same(a, b) => None,
                _ => Some(ValueChange { name: k.clone(), old: o.cloned(), new: n.cloned(), possibly_because: None }),
            }
        })
        .collect()
}

fn raw_diff(w: &mut Work, old_tree: &Tree<'_>, new_tree: &Tree<'_>, wi: usize, leaves: &mut Vec<Leaf>) {
    let null = Value::Null;
    let old_t = w.old_node.map_or(&null, |i| old_tree.nodes[i].template);
    let new_t = w.new_node.map_or(&null, |i| new_tree.nodes[i].template);
    let (od, nd) = (old_t.get("Description"), new_t.get("Description"));
    if w.old_node.is_some()
        && w.new_node.is_some()
        && !matches!((od, nd), (Some(a), Some(b)) if same(a, b))
        && (od.is_some() || nd.is_some())
    {
        w.diff.description = Some(ValueChange {
            name: "Description".into(),
            old: od.cloned(),
            new: nd.cloned(),
            possibly_because: None,
        });
    }
    w.diff.parameters = value_changes(section(old_t, "Parameters"), section(new_t, "Parameters"));
    w.diff.conditions = value_changes(section(old_t, "Conditions"), section(new_t, "Conditions"));
    w.diff.outputs = value_changes(section(old_t, "Outputs"), section(new_t, "Outputs"));
    let (old_r, new_r) = (section(old_t, "Resources"), section(new_t, "Resources"));
    let ids: BTreeSet<&String> = old_r.keys().chain(new_r.keys()).collect();
    for id in ids {
        match (old_r.get(id), new_r.get(id)) {
            (Some(_), None) => {
                w.single.insert(id.clone(), Action::Remove);
            }
            (None, Some(_)) => {
                w.single.insert(id.clone(), Action::Add);
            }
            (Some(o), Some(n)) => {
                let changes = resource_diff(id, o, n, w, old_tree, new_tree);
                w.both.insert(id.clone(), changes);
            }
            (None, None) => {}
        }
    }
    // Values whose text is unchanged but that hold references: resolved later.
    if w.old_node.is_some() && w.new_node.is_some() {
        for (id, n) in new_r {
            let Some(o) = old_r.get(id) else { continue };
            if o.get("Type") != n.get("Type") {
                continue;
            }
            let nested = is_nested_pair(id, &w.path, old_tree, new_tree);
            let rtype = n.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            for (k, nv) in n.get("Properties").and_then(Value::as_object).into_iter().flatten() {
                if nested && k == "TemplateURL" {
                    continue;
                }
                if let Some(ov) = o.pointer(&format!("/Properties/{}", k.replace('~', "~0").replace('/', "~1"))) {
                    collect_leaves(ov, nv, &format!("Properties.{k}"), &mut |path, raw| {
                        leaves.push(Leaf {
                            work: wi,
                            resource: Some(id.clone()),
                            path,
                            rtype: rtype.clone(),
                            raw: raw.clone(),
                            deps: BTreeSet::new(),
                            marked: false,
                        });
                    });
                }
            }
        }
        let (oo, no) = (section(old_t, "Outputs"), section(new_t, "Outputs"));
        for (name, nv) in no {
            if let (Some(ov), Some(val)) = (oo.get(name), nv.get("Value")) {
                if same(ov, nv) && has_intrinsic(val) {
                    leaves.push(Leaf {
                        work: wi,
                        resource: None,
                        path: name.clone(),
                        rtype: String::new(),
                        raw: val.clone(),
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

fn collect_leaves(old: &Value, new: &Value, path: &str, out: &mut dyn FnMut(String, &Value)) {
    if !same(old, new) {
        match (old, new) {
            (Value::Object(a), Value::Object(b)) if !is_intrinsic(a) && !is_intrinsic(b) => {
                for (k, nv) in b {
                    if let Some(ov) = a.get(k) {
                        collect_leaves(ov, nv, &format!("{path}.{k}"), out);
                    }
                }
            }
            (Value::Array(a), Value::Array(b)) => {
                if let Some(key) = array_key(a, b) {
                    for nv in b {
                        let k = element_key(nv, key);
                        if let Some(ov) = a.iter().find(|x| element_key(x, key) == k) {
                            collect_leaves(ov, nv, &format!("{path}[{k}]"), out);
                        }
                    }
                } else if a.len() == b.len() {
                    for (i, (ov, nv)) in a.iter().zip(b).enumerate() {
                        collect_leaves(ov, nv, &format!("{path}[{i}]"), out);
                    }
                }
            }
            _ => {}
        }
        return;
    }
    match new {
        Value::Object(m) if !is_intrinsic(m) => {
            for (k, v) in m {
                if let Some(ov) = old.get(k) {
                    collect_leaves(ov, v, &format!("{path}.{k}"), out);
                }
            }
        }
        Value::Array(b) => {
            let a = old.as_array().map_or(&[][..], Vec::as_slice);
            if let Some(key) = array_key(a, b) {
                for nv in b {
                    let k = element_key(nv, key);
                    if let Some(ov) = a.iter().find(|x| element_key(x, key) == k) {
                        collect_leaves(ov, nv, &format!("{path}[{k}]"), out);
                    }
                }
            } else {
                for (i, (ov, nv)) in a.iter().zip(b).enumerate() {
                    collect_leaves(ov, nv, &format!("{path}[{i}]"), out);
                }
            }
        }
        v if has_intrinsic(v) => out(path.to_string(), v),
        _ => {}
    }
}

fn array_key(a: &[Value], b: &[Value]) -> Option<&'static str> {
    if a.is_empty() && b.is_empty() {
        return None;
    }
    ARRAY_KEYS.into_iter().find(|key| {
        let sets: Vec<BTreeSet<&str>> = [a, b]
            .iter()
            .filter_map(|side| {
                let keys: Vec<&str> = side.iter().filter_map(|e| e.get(*key).and_then(Value::as_str)).collect();
                let unique: BTreeSet<&str> = keys.iter().copied().collect();
                (keys.len() == side.len() && unique.len() == keys.len()).then_some(unique)
            })
            .collect();
        // Both sides keyed, and (when both have elements) sharing a key: otherwise elements
        // renamed as a whole (a policy named after the environment) pair up by position.
        sets.len() == 2 && (a.is_empty() || b.is_empty() || !sets[0].is_disjoint(&sets[1]))
    })
}

fn element_key(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// Every differing path between two values: `(path, old, new)`.
fn value_diff(
    path: &str,
    old: Option<&Value>,
    new: Option<&Value>,
    out: &mut Vec<(String, Option<Value>, Option<Value>)>,
) {
    match (old, new) {
        (None, None) => {}
        (Some(a), Some(b)) if same(a, b) => {}
        (Some(Value::Object(a)), Some(Value::Object(b))) if !is_intrinsic(a) && !is_intrinsic(b) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                value_diff(&format!("{path}.{k}"), a.get(k), b.get(k), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
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
                out.push((path.to_string(), old.cloned(), new.cloned()));
            }
        }
        _ => out.push((path.to_string(), old.cloned(), new.cloned())),
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
    old: &Value,
    new: &Value,
    w: &Work,
    old_tree: &Tree<'_>,
    new_tree: &Tree<'_>,
) -> Vec<PropertyChange> {
    let mut changes = Vec::new();
    let rtype = new.get("Type").and_then(Value::as_str).unwrap_or_default();
    if !same(old.get("Type").unwrap_or(&Value::Null), new.get("Type").unwrap_or(&Value::Null)) {
        changes.push(PropertyChange {
            path: "Type".into(),
            old: old.get("Type").cloned(),
            new: new.get("Type").cloned(),
            replacement: Replacement::Certain,
            template_only: false,
            possibly_because: None,
            note: Some("a different resource type: the old resource is deleted and a new one created".into()),
        });
        return changes;
    }
    for attr in ATTRIBUTES {
        let (o, n) = (old.get(attr), new.get(attr));
        if !matches!((o, n), (Some(a), Some(b)) if same(a, b)) && (o.is_some() || n.is_some()) {
            let note = match attr {
                "DeletionPolicy" | "UpdateReplacePolicy" => Some(
                    "decides whether the resource is kept when removed or replaced; no update of the resource itself"
                        .into(),
                ),
                _ => None,
            };
            changes.push(PropertyChange {
                path: attr.into(),
                old: o.cloned(),
                new: n.cloned(),
                replacement: Replacement::None,
                template_only: attr != "Condition",
                possibly_because: None,
                note,
            });
        }
    }
    let nested = is_nested_pair(id, &w.path, old_tree, new_tree);
    let mut raw = Vec::new();
    value_diff("Properties", old.get("Properties"), new.get("Properties"), &mut raw);
    for (path, o, n) in raw {
        let prop = top_property(&path);
        if nested && prop == "TemplateURL" {
            continue;
        }
        let tier = replacement::tier(rtype, prop, true);
        let note = replacement::note(rtype, prop, tier);
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

/// References in a raw value, each as a small intrinsic value: `Ref X`, `GetAtt A.B`.
fn references(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        Value::Object(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next().map_or(("", &Value::Null), |(k, v)| (k.as_str(), v));
            match k {
                "Ref" if arg.as_str().is_some_and(|s| !s.starts_with("AWS::")) => out.push(v.clone()),
                "Fn::GetAtt" => out.push(v.clone()),
                "Fn::Sub" => {
                    let (text, vars) = match arg {
                        Value::String(s) => (s.as_str(), None),
                        Value::Array(a) => (a.first().and_then(Value::as_str).unwrap_or_default(), a.get(1)),
                        _ => ("", None),
                    };
                    let local: BTreeSet<String> =
                        vars.and_then(Value::as_object).map(|o| o.keys().cloned().collect()).unwrap_or_default();
                    for p in parse_sub(text).unwrap_or_default() {
                        match p {
                            SubPart::Ref(n) if !local.contains(&n) && !n.starts_with("AWS::") => {
                                out.push(serde_json::json!({"Ref": n}))
                            }
                            SubPart::GetAtt(id, attr) if !local.contains(&format!("{id}.{attr}")) => {
                                out.push(serde_json::json!({"Fn::GetAtt": [id, attr]}))
                            }
                            _ => {}
                        }
                    }
                    if let Some(vars) = vars {
                        references(vars, out);
                    }
                }
                _ => references(arg, out),
            }
        }
        Value::Object(m) => m.values().for_each(|x| references(x, out)),
        _ => {}
    }
}

fn describe_reference(tree: &Tree<'_>, node: usize, r: &Value) -> String {
    if let Some(name) = r.get("Ref").and_then(Value::as_str) {
        let is_param = tree.nodes.get(node).is_some_and(|n| section(n.template, "Parameters").contains_key(name));
        return if is_param { format!("parameter {name}") } else { name.to_string() };
    }
    if let Some((id, attr)) = r.get("Fn::GetAtt").and_then(get_att_args) {
        if let (Some(child), Some(out)) =
            (tree.nodes.get(node).and_then(|n| n.children.get(&id)), attr.strip_prefix("Outputs."))
        {
            return format!("output {out} of {}", tree.nodes[*child].label);
        }
        return format!("{id}.{attr}");
    }
    "a referenced value".into()
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
            changes.push(PropertyChange {
                path: leaf.path.clone(),
                old: Some(leaf.raw.clone()),
                new: Some(leaf.raw.clone()),
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
            w.diff.outputs.push(ValueChange {
                name: leaf.path.clone(),
                old: Some(leaf.raw.clone()),
                new: Some(leaf.raw.clone()),
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
        let old_res = old_tree.resolve(on, &leaf.raw);
        let new_res = new_tree.resolve(nn, &leaf.raw);
        dependencies(&new_res, &mut leaf.deps);
        if canonical(&old_res) != canonical(&new_res) {
            let mut refs = Vec::new();
            references(&leaf.raw, &mut refs);
            let mut causes: Vec<String> = refs
                .iter()
                .filter(|r| canonical(&old_tree.resolve(on, r)) != canonical(&new_tree.resolve(nn, r)))
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
                Action::Remove => old_t.and_then(|t| section(t, "Resources").get(id)),
                _ => new_t.and_then(|t| section(t, "Resources").get(id)),
            };
            let rtype = r.and_then(|r| r.get("Type")).and_then(Value::as_str).unwrap_or_default().to_string();
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
            let r = new_t.and_then(|t| section(t, "Resources").get(&id));
            let rtype = r.and_then(|r| r.get("Type")).and_then(Value::as_str).unwrap_or_default().to_string();
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
                    if let Some(name) =
                        r.and_then(|r| r.pointer(&format!("/Properties/{name_prop}"))).filter(|_| !renamed)
                    {
                        notes.push(format!(
                            "{name_prop} is fixed ({}) and does not change: CloudFormation cannot replace a custom-named resource, so this update fails unless the name changes too",
                            super::render::compact(name, 80)
                        ));
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
                    r.notes.push(format!("nested template: {summary} (see stack {label})"));
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
#[must_use]
pub fn compare<'a>(old: &'a TemplateSet, new: &'a TemplateSet) -> Vec<Compared<'a>> {
    let old_tree = Tree::new(old);
    let new_tree = Tree::new(new);
    let mut works = pair_stacks(old, new, &old_tree, &new_tree);
    let mut leaves = Vec::new();
    for (wi, w) in works.iter_mut().enumerate() {
        raw_diff(w, &old_tree, &new_tree, wi, &mut leaves);
    }
    resolve_leaves(&mut works, &mut leaves, &old_tree, &new_tree);
    propagate(&mut works, &mut leaves, &new_tree);
    finish(works, &old_tree, &new_tree)
}
