//! The stack tree of a template set (root and nested stacks, matched by logical ID) and
//! symbolic resolution of values across it: a `Ref` to a parameter becomes the value the
//! parent stack passes, a `Fn::GetAtt Nested.Outputs.X` becomes that output's value, and a
//! reference to a resource becomes a marker naming the resource by its logical-ID path. Two
//! values that resolve alike are equal whatever their text; the markers are the dependencies.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::source::TemplateSet;
use crate::cfn::check::{parse_sub, SubPart};

/// Deepest nesting followed (CloudFormation allows more; sandboxc emits one level).
const MAX_DEPTH: usize = 5;
/// Resolution steps before giving up on a (cyclic or huge) value.
const MAX_STEPS: usize = 64;

/// A resource named by its stack's logical-ID path (`""` for the root) and its logical ID.
pub type ResourceKey = (String, String);

/// One template in the tree.
#[derive(Debug)]
pub struct Node<'a> {
    /// Logical-ID path from the root: `""`, `NetworkNestedStack`, `A/B`.
    pub path: String,
    /// Label for people: `root`, `network`...
    pub label: String,
    /// Template file.
    pub file: String,
    /// The template.
    pub template: &'a Value,
    /// Parent node and this stack's logical ID in it.
    pub parent: Option<(usize, String)>,
    /// Nested stacks: logical ID -> node.
    pub children: BTreeMap<String, usize>,
}

impl Node<'_> {
    /// The `Resources` map (empty when missing or malformed).
    pub fn resources(&self) -> &Map<String, Value> {
        section(self.template, "Resources")
    }
}

/// An empty map for malformed templates.
fn empty() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

/// A top-level section of a template as a map (empty when missing or not a map).
pub fn section<'v>(template: &'v Value, key: &str) -> &'v Map<String, Value> {
    template.get(key).and_then(Value::as_object).unwrap_or_else(|| empty())
}

/// The tree of one template set.
#[derive(Debug)]
pub struct Tree<'a> {
    /// Nodes, root first.
    pub nodes: Vec<Node<'a>>,
    /// Node index by path.
    pub by_path: BTreeMap<String, usize>,
}

impl<'a> Tree<'a> {
    /// Builds the tree from the root template down through `AWS::CloudFormation::Stack` resources.
    pub fn new(set: &'a TemplateSet) -> Self {
        let mut tree = Tree { nodes: Vec::new(), by_path: BTreeMap::new() };
        let Some(root) = set.templates.get(&set.root_file) else { return tree };
        let label = set.label(&set.root_file).unwrap_or("root").to_string();
        tree.nodes.push(Node {
            path: String::new(),
            label,
            file: set.root_file.clone(),
            template: root,
            parent: None,
            children: BTreeMap::new(),
        });
        tree.by_path.insert(String::new(), 0);
        let mut i = 0;
        while i < tree.nodes.len() {
            let depth = tree.nodes[i].path.split('/').filter(|s| !s.is_empty()).count();
            if depth < MAX_DEPTH {
                let mut ancestors = BTreeSet::new();
                let mut at = Some(i);
                while let Some(n) = at {
                    ancestors.insert(tree.nodes[n].file.clone());
                    at = tree.nodes[n].parent.as_ref().map(|(p, _)| *p);
                }
                let kids: Vec<(String, String)> = tree.nodes[i]
                    .resources()
                    .iter()
                    .filter(|(_, r)| r.get("Type").and_then(Value::as_str) == Some("AWS::CloudFormation::Stack"))
                    .filter_map(|(id, r)| set.nested_file(id, r).map(|f| (id.clone(), f)))
                    .filter(|(_, f)| !ancestors.contains(f))
                    .collect();
                for (id, file) in kids {
                    let Some(template) = set.templates.get(&file) else { continue };
                    let parent_path = &tree.nodes[i].path;
                    let path = if parent_path.is_empty() { id.clone() } else { format!("{parent_path}/{id}") };
                    let label = set.label(&file).map_or_else(|| id.clone(), str::to_string);
                    let n = tree.nodes.len();
                    tree.nodes.push(Node {
                        path: path.clone(),
                        label,
                        file,
                        template,
                        parent: Some((i, id.clone())),
                        children: BTreeMap::new(),
                    });
                    tree.nodes[i].children.insert(id, n);
                    tree.by_path.insert(path, n);
                }
            }
            i += 1;
        }
        tree
    }

    /// Resolves `v` as written in node `node`.
    pub fn resolve(&self, node: usize, v: &Value) -> Value {
        let mut steps = 0;
        self.res(node, v, &mut steps)
    }

    fn res(&self, node: usize, v: &Value, steps: &mut usize) -> Value {
        *steps += 1;
        if *steps > MAX_STEPS * 64 {
            return json!({"$unresolved": "too deep"});
        }
        match v {
            Value::Array(a) => Value::Array(a.iter().map(|x| self.res(node, x, steps)).collect()),
            Value::Object(m) if m.len() == 1 => {
                let (k, arg) = m.iter().next().map_or(("", &Value::Null), |(k, v)| (k.as_str(), v));
                match k {
                    "Ref" => match arg.as_str() {
                        Some(name) => self.res_ref(node, name, steps),
                        None => generic(self, node, m, steps),
                    },
                    "Fn::GetAtt" => match get_att_args(arg) {
                        Some((id, attr)) => self.res_get_att(node, &id, &attr, steps),
                        None => generic(self, node, m, steps),
                    },
                    "Fn::Sub" => self.res_sub(node, arg, steps),
                    "Fn::Join" => {
                        let (Some(sep), Some(list)) = (arg.get(0).and_then(Value::as_str), arg.get(1)) else {
                            return generic(self, node, m, steps);
                        };
                        let list = self.res(node, list, steps);
                        match &list {
                            Value::Array(items) if items.iter().all(Value::is_string) => {
                                Value::String(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(sep))
                            }
                            _ => json!({"Fn::Join": [sep, list]}),
                        }
                    }
                    "Fn::Select" => {
                        let index =
                            arg.get(0).and_then(|i| i.as_u64().or_else(|| i.as_str().and_then(|s| s.parse().ok())));
                        let (Some(index), Some(list)) = (index, arg.get(1)) else {
                            return generic(self, node, m, steps);
                        };
                        let list = self.res(node, list, steps);
                        let i = usize::try_from(index).unwrap_or(usize::MAX);
                        match &list {
                            Value::Array(items) if i < items.len() => items[i].clone(),
                            Value::String(s) => s
                                .split(',')
                                .nth(i)
                                .map_or_else(|| json!({"Fn::Select": [index, list]}), |x| Value::String(x.to_string())),
                            Value::Object(j) if j.len() == 1 => {
                                match j.get("Fn::Join").and_then(|a| Some((a.get(0)?.as_str()?, a.get(1)?.as_array()?)))
                                {
                                    Some((",", items)) if i < items.len() => items[i].clone(),
                                    _ => json!({"Fn::Select": [index, list]}),
                                }
                            }
                            _ => json!({"Fn::Select": [index, list]}),
                        }
                    }
                    _ => generic(self, node, m, steps),
                }
            }
            Value::Object(m) => generic(self, node, m, steps),
            other => other.clone(),
        }
    }

    fn res_ref(&self, node: usize, name: &str, steps: &mut usize) -> Value {
        let Some(n) = self.nodes.get(node) else { return json!({"Ref": name}) };
        if name.starts_with("AWS::") {
            return json!({"Ref": name});
        }
        if n.resources().contains_key(name) {
            return json!({"$res": [n.path, name]});
        }
        if let Some(p) = section(n.template, "Parameters").get(name) {
            if let Some((parent, id)) = &n.parent {
                if let Some(given) = self
                    .nodes
                    .get(*parent)
                    .and_then(|pn| pn.resources().get(id))
                    .and_then(|r| r.pointer("/Properties/Parameters"))
                    .and_then(|ps| ps.get(name))
                {
                    return self.res(*parent, given, steps);
                }
            }
            if let Some(d) = p.get("Default") {
                return d.clone();
            }
            return json!({"$param": [n.path, name]});
        }
        json!({"Ref": name})
    }

    fn res_get_att(&self, node: usize, id: &str, attr: &str, steps: &mut usize) -> Value {
        let Some(n) = self.nodes.get(node) else { return json!({"Fn::GetAtt": [id, attr]}) };
        if let (Some(child), Some(output)) = (n.children.get(id), attr.strip_prefix("Outputs.")) {
            if let Some(value) = self
                .nodes
                .get(*child)
                .and_then(|c| section(c.template, "Outputs").get(output))
                .and_then(|o| o.get("Value"))
            {
                return self.res(*child, value, steps);
            }
        }
        if n.resources().contains_key(id) {
            return json!({"$res": [n.path, id], "$att": attr});
        }
        json!({"Fn::GetAtt": [id, attr]})
    }

    fn res_sub(&self, node: usize, arg: &Value, steps: &mut usize) -> Value {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), None),
            Value::Array(a) => {
                (a.first().and_then(Value::as_str).unwrap_or_default(), a.get(1).and_then(Value::as_object))
            }
            _ => return json!({"Fn::Sub": self.res(node, arg, steps)}),
        };
        let Ok(parts) = parse_sub(text) else { return json!({"Fn::Sub": arg.clone()}) };
        let mut out: Vec<Value> = Vec::new();
        let mut push = |v: Value| match (out.last_mut(), &v) {
            (Some(Value::String(prev)), Value::String(s)) => prev.push_str(s),
            _ => out.push(v),
        };
        for p in parts {
            match p {
                SubPart::Text(t) => push(Value::String(t)),
                SubPart::Ref(name) => match vars.and_then(|m| m.get(&name)) {
                    Some(v) => push(self.res(node, v, steps)),
                    None => push(self.res_ref(node, &name, steps)),
                },
                SubPart::GetAtt(id, attr) => match vars.and_then(|m| m.get(&format!("{id}.{attr}"))) {
                    Some(v) => push(self.res(node, v, steps)),
                    None => push(self.res_get_att(node, &id, &attr, steps)),
                },
            }
        }
        match out.as_slice() {
            [] => Value::String(String::new()),
            [Value::String(s)] => Value::String(s.clone()),
            [single] if !single.is_string() => single.clone(),
            _ => json!({"Fn::Sub": out}),
        }
    }
}

fn generic(tree: &Tree<'_>, node: usize, m: &Map<String, Value>, steps: &mut usize) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), tree.res(node, v, steps))).collect())
}

/// `["Id", "Attr"]` or `"Id.Attr"` (attributes such as `Outputs.X` keep their dots).
pub fn get_att_args(arg: &Value) -> Option<(String, String)> {
    match arg {
        Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_string(), b.to_string())),
        Value::Array(a) => Some((a.first()?.as_str()?.to_string(), a.get(1)?.as_str()?.to_string())),
        _ => None,
    }
}

/// The resources a resolved value depends on.
pub fn dependencies(v: &Value, out: &mut BTreeSet<ResourceKey>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| dependencies(x, out)),
        Value::Object(m) => {
            if let Some(Value::Array(r)) = m.get("$res") {
                if let (Some(p), Some(id)) = (r.first().and_then(Value::as_str), r.get(1).and_then(Value::as_str)) {
                    out.insert((p.to_string(), id.to_string()));
                }
                return;
            }
            m.values().for_each(|x| dependencies(x, out));
        }
        _ => {}
    }
}

/// Whether a value holds an intrinsic function or reference anywhere.
pub fn has_intrinsic(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(has_intrinsic),
        Value::Object(m) => is_intrinsic(m) || m.values().any(has_intrinsic),
        _ => false,
    }
}

/// Whether a mapping is an intrinsic function call (`{"Ref": ...}`, `{"Fn::...": ...}`, `{"Condition": ...}`).
pub fn is_intrinsic(m: &Map<String, Value>) -> bool {
    m.len() == 1 && m.keys().next().is_some_and(|k| k == "Ref" || k.starts_with("Fn::") || k == "Condition")
}

/// The canonical form for equality: key order never matters (maps compare as maps), numbers
/// and booleans compare as CloudFormation passes them (strings), `Fn::GetAtt "A.B"` equals
/// `["A","B"]`, `Fn::Sub` with no variables equals the plain string form, and `Fn::Sub "${X}"`
/// equals `Ref X`.
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        Value::Object(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next().map_or(("", &Value::Null), |(k, v)| (k.as_str(), v));
            match (k, arg) {
                ("Fn::GetAtt", a) => match get_att_args(a) {
                    Some((id, attr)) => json!({"Fn::GetAtt": [id, attr]}),
                    None => json!({"Fn::GetAtt": canonical(a)}),
                },
                ("Fn::Sub", Value::Array(a)) if a.len() == 2 && a[1].as_object().is_some_and(Map::is_empty) => {
                    canonical(&json!({"Fn::Sub": a[0].clone()}))
                }
                ("Fn::Sub", Value::String(s)) => match parse_sub(s).ok().as_deref() {
                    Some([SubPart::Ref(name)]) => json!({"Ref": name}),
                    Some([SubPart::GetAtt(id, attr)]) => json!({"Fn::GetAtt": [id, attr]}),
                    _ => json!({"Fn::Sub": s}),
                },
                _ => Value::Object(m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect()),
            }
        }
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), canonical(v))).collect()),
        other => other.clone(),
    }
}

/// Intrinsic-aware equality (see [`canonical`]).
pub fn same(a: &Value, b: &Value) -> bool {
    a == b || canonical(a) == canonical(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_equality() {
        assert!(same(&json!({"a": 1, "b": true}), &json!({"b": "true", "a": "1"})));
        assert!(same(&json!({"Fn::GetAtt": "A.Arn"}), &json!({"Fn::GetAtt": ["A", "Arn"]})));
        assert!(same(&json!({"Fn::Sub": "${X}"}), &json!({"Ref": "X"})));
        assert!(same(&json!({"Fn::Sub": ["a${X}", {}]}), &json!({"Fn::Sub": "a${X}"})));
        assert!(!same(&json!({"Ref": "X"}), &json!({"Ref": "Y"})));
    }

    #[test]
    fn resolves_across_nested_stacks() {
        let root = json!({"Resources": {
            "NetNestedStack": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://b.s3.amazonaws.com/templates/net.json"}},
            "AppNestedStack": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://b.s3.amazonaws.com/templates/app.json",
                "Parameters": {"Subnets": {"Fn::GetAtt": ["NetNestedStack", "Outputs.Subnets"]}}}}}});
        let net = json!({"Resources": {"S1": {"Type": "AWS::EC2::Subnet"}, "S2": {"Type": "AWS::EC2::Subnet"}},
            "Outputs": {"Subnets": {"Value": {"Fn::Join": [",", [{"Ref": "S1"}, {"Ref": "S2"}]]}}}});
        let app = json!({"Parameters": {"Subnets": {"Type": "CommaDelimitedList"}}, "Resources": {}});
        let mut set = TemplateSet::single("x", root);
        for (f, k, t) in [("net.json", "templates/net.json", net), ("app.json", "templates/app.json", app)] {
            set.templates.insert(f.into(), t);
            set.s3_keys.insert(k.into(), f.into());
        }
        let tree = Tree::new(&set);
        assert_eq!(tree.nodes.len(), 3);
        let app_node = tree.by_path.get("AppNestedStack").copied().unwrap_or_default();
        let v = tree.resolve(app_node, &json!({"Fn::Select": [1, {"Ref": "Subnets"}]}));
        assert_eq!(v, json!({"$res": ["NetNestedStack", "S2"]}));
    }
}
