//! The stack tree of a template set (root and nested stacks, matched by logical ID) and
//! symbolic resolution of values across it: a `Ref` to a parameter becomes the value the
//! parent stack passes, a `Fn::GetAtt Nested.Outputs.X` becomes that output's value, and a
//! reference to a resource becomes a [`Resolved::Resource`] naming the resource by its
//! logical-ID path. Two values that resolve alike are equal whatever their text; the
//! resources they resolve to are their dependencies. Works on the parsed model: each `Ref`
//! already knows whether it names a resource, a parameter or a pseudo parameter.

use std::collections::{BTreeMap, BTreeSet};

use super::source::TemplateSet;
use crate::cfn::{Expr, Resource, Sub, SubPart, Target, Template};

/// Deepest nesting followed (CloudFormation allows more; sandboxc emits one level).
const MAX_DEPTH: usize = 5;
/// Resolution steps before giving up on a (cyclic or huge) value.
const MAX_STEPS: usize = 64;
/// Steps one resolution may take before it gives up.
pub const STEP_BUDGET: usize = MAX_STEPS * 64;

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
    pub template: &'a Template,
    /// Parent node and this stack's logical ID in it.
    pub parent: Option<(usize, String)>,
    /// Nested stacks: logical ID -> node.
    pub children: BTreeMap<String, usize>,
}

/// The tree of one template set.
#[derive(Debug)]
pub struct Tree<'a> {
    /// Nodes, root first.
    pub nodes: Vec<Node<'a>>,
    /// Node index by path.
    pub by_path: BTreeMap<String, usize>,
}

/// A value resolved across the stack tree, in canonical form: literals as CloudFormation
/// passes them (numbers and booleans as strings), references to resources and unpassed
/// parameters as markers, and what cannot be evaluated as a symbolic call.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// `null`.
    Null,
    /// A literal, as text.
    Scalar(String),
    /// A list.
    List(Vec<Resolved>),
    /// A mapping.
    Map(BTreeMap<String, Resolved>),
    /// A resource of the tree (or one of its attributes): the value is whatever it is deployed as.
    Resource(ResourceKey, Option<String>),
    /// A parameter no parent passes and without a default.
    Parameter(ResourceKey),
    /// A function that cannot be evaluated here, with its arguments resolved.
    Call(String, Vec<Resolved>),
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
                    .template
                    .resources
                    .iter()
                    .filter(|(_, r)| r.kind == "AWS::CloudFormation::Stack")
                    .filter_map(|(id, r)| set.nested_file(id.as_str(), r).map(|f| (id.to_string(), f)))
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
    #[must_use]
    pub fn resolve(&self, node: usize, v: &Expr) -> Resolved {
        self.resolve_counted(node, v).0
    }

    /// [`Tree::resolve`], with the number of steps it took (resolution gives up after a
    /// fixed number of steps, so two resolutions that take the same steps give up alike).
    #[must_use]
    pub fn resolve_counted(&self, node: usize, v: &Expr) -> (Resolved, usize) {
        let mut steps = 0;
        let resolved = self.res(node, v, &mut steps);
        (resolved, steps)
    }

    fn res(&self, node: usize, v: &Expr, steps: &mut usize) -> Resolved {
        *steps += 1;
        if *steps > STEP_BUDGET {
            return Resolved::Call("too deep".into(), Vec::new());
        }
        let call = |name: &str, args: Vec<Resolved>| Resolved::Call(name.to_string(), args);
        match v {
            Expr::Null => Resolved::Null,
            Expr::Bool(b) => Resolved::Scalar(b.to_string()),
            Expr::Int(n) => Resolved::Scalar(n.to_string()),
            Expr::Num(n) => Resolved::Scalar(n.to_string()),
            Expr::Str(s) => Resolved::Scalar(s.clone()),
            Expr::List(items) => Resolved::List(items.iter().map(|x| self.res(node, x, steps)).collect()),
            Expr::Map(m) => Resolved::Map(m.iter().map(|(k, x)| (k.clone(), self.res(node, x, steps))).collect()),
            Expr::Ref(target) => self.res_ref(node, target, steps),
            Expr::GetAtt(id, attr) => self.res_get_att(node, id.as_str(), attr, steps),
            Expr::Sub(sub) => self.res_sub(node, sub, steps),
            Expr::Join(sep, items) => {
                let items: Vec<Resolved> = items.iter().map(|x| self.res(node, x, steps)).collect();
                let texts: Option<Vec<&str>> = items
                    .iter()
                    .map(|i| match i {
                        Resolved::Scalar(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                match texts {
                    Some(texts) => Resolved::Scalar(texts.join(sep)),
                    None => call("Fn::Join", vec![Resolved::Scalar(sep.clone()), Resolved::List(items)]),
                }
            }
            Expr::Select(index, list) => {
                let list = self.res(node, list, steps);
                let i = usize::try_from(*index).unwrap_or(usize::MAX);
                let unresolved = |list: Resolved| call("Fn::Select", vec![Resolved::Scalar(index.to_string()), list]);
                match list {
                    Resolved::List(items) if i < items.len() => items[i].clone(),
                    Resolved::Scalar(s) => s
                        .split(',')
                        .nth(i)
                        .map_or_else(|| unresolved(Resolved::Scalar(s.clone())), |x| Resolved::Scalar(x.to_string())),
                    Resolved::Call(name, args) => match args.as_slice() {
                        [Resolved::Scalar(sep), Resolved::List(items)]
                            if name == "Fn::Join" && sep == "," && i < items.len() =>
                        {
                            items[i].clone()
                        }
                        _ => unresolved(Resolved::Call(name, args)),
                    },
                    other => unresolved(other),
                }
            }
            Expr::GetAZs(region) => call("Fn::GetAZs", vec![self.res(node, region, steps)]),
            Expr::If(cond, a, b) => {
                call("Fn::If", vec![Resolved::Scalar(cond.clone()), self.res(node, a, steps), self.res(node, b, steps)])
            }
            Expr::Equals(a, b) => call("Fn::Equals", vec![self.res(node, a, steps), self.res(node, b, steps)]),
            Expr::ImportValue(v) => call("Fn::ImportValue", vec![self.res(node, v, steps)]),
            Expr::Split(sep, v) => call("Fn::Split", vec![Resolved::Scalar(sep.clone()), self.res(node, v, steps)]),
            Expr::Intrinsic(name, arg) => call(name, vec![self.res(node, arg, steps)]),
        }
    }

    fn res_ref(&self, node: usize, target: &Target, steps: &mut usize) -> Resolved {
        let symbolic = || Resolved::Call("Ref".into(), vec![Resolved::Scalar(target.name().to_string())]);
        let Some(n) = self.nodes.get(node) else { return symbolic() };
        match target {
            Target::Resource(id) => Resolved::Resource((n.path.clone(), id.to_string()), None),
            Target::Parameter(name) => {
                if let Some((parent, id)) = &n.parent {
                    let given = self
                        .nodes
                        .get(*parent)
                        .and_then(|pn| pn.template.resource(id))
                        .and_then(|r: &Resource| r.properties.get("Parameters"))
                        .and_then(|ps| ps.get(name));
                    if let Some(given) = given {
                        return self.res(*parent, given, steps);
                    }
                }
                match n.template.parameters.get(name).and_then(|p| p.default.as_ref()) {
                    Some(d) => self.res(node, d, steps),
                    None => Resolved::Parameter((n.path.clone(), name.clone())),
                }
            }
            Target::Pseudo(_) | Target::Unresolved(_) => symbolic(),
        }
    }

    fn res_get_att(&self, node: usize, id: &str, attr: &str, steps: &mut usize) -> Resolved {
        let symbolic = || {
            Resolved::Call(
                "Fn::GetAtt".into(),
                vec![Resolved::Scalar(id.to_string()), Resolved::Scalar(attr.to_string())],
            )
        };
        let Some(n) = self.nodes.get(node) else { return symbolic() };
        if let (Some(child), Some(output)) = (n.children.get(id), attr.strip_prefix("Outputs.")) {
            if let Some(value) = self.nodes.get(*child).and_then(|c| c.template.outputs.get(output)).map(|o| &o.value) {
                return self.res(*child, value, steps);
            }
        }
        if n.template.resource(id).is_some() {
            return Resolved::Resource((n.path.clone(), id.to_string()), Some(attr.to_string()));
        }
        symbolic()
    }

    fn res_sub(&self, node: usize, sub: &Sub, steps: &mut usize) -> Resolved {
        let mut out: Vec<Resolved> = Vec::new();
        let mut push = |v: Resolved| match (out.last_mut(), v) {
            (Some(Resolved::Scalar(prev)), Resolved::Scalar(s)) => prev.push_str(&s),
            (_, v) => out.push(v),
        };
        for p in sub.parts() {
            match p {
                SubPart::Text(t) => push(Resolved::Scalar(t.clone())),
                SubPart::Var(name) => match sub.vars().get(name) {
                    Some(v) => push(self.res(node, v, steps)),
                    None => push(Resolved::Call("Ref".into(), vec![Resolved::Scalar(name.clone())])),
                },
                SubPart::Ref(target) => push(self.res_ref(node, target, steps)),
                SubPart::GetAtt(id, attr) => push(self.res_get_att(node, id.as_str(), attr, steps)),
            }
        }
        match out.len() {
            0 => Resolved::Scalar(String::new()),
            1 => out.swap_remove(0),
            _ => Resolved::Call("Fn::Sub".into(), out),
        }
    }
}

/// The resources a resolved value depends on.
pub fn dependencies(v: &Resolved, out: &mut BTreeSet<ResourceKey>) {
    match v {
        Resolved::Resource(key, _) => {
            out.insert(key.clone());
        }
        Resolved::List(items) | Resolved::Call(_, items) => items.iter().for_each(|x| dependencies(x, out)),
        Resolved::Map(m) => m.values().for_each(|x| dependencies(x, out)),
        Resolved::Null | Resolved::Scalar(_) | Resolved::Parameter(_) => {}
    }
}

/// The canonical form for equality of template text: numbers and booleans compare as
/// CloudFormation passes them (strings); `Fn::Sub` of one `${X}` equals `Ref X` (and of one
/// `${A.B}` equals `Fn::GetAtt`); a `Ref` compares by name, whatever the name is in its own
/// template (a resource on one side, a parameter on the other). Equivalent spellings
/// (`Fn::GetAtt "A.B"`, `Fn::Sub` with no variables) are already one form in the model.
#[must_use]
pub fn canonical(v: &Expr) -> Expr {
    let name_only = |t: &Target| Target::Unresolved(t.name().to_string());
    let boxed = |e: &Expr| Box::new(canonical(e));
    match v {
        Expr::Bool(b) => Expr::Str(b.to_string()),
        Expr::Int(n) => Expr::Str(n.to_string()),
        Expr::Num(n) => Expr::Str(n.to_string()),
        Expr::Null | Expr::Str(_) | Expr::GetAtt(..) => v.clone(),
        Expr::List(items) => Expr::List(items.iter().map(canonical).collect()),
        Expr::Map(m) => Expr::Map(m.iter().map(|(k, x)| (k.clone(), canonical(x))).collect()),
        Expr::Ref(t) => Expr::Ref(name_only(t)),
        Expr::Sub(sub) => match (sub.parts(), sub.vars().is_empty()) {
            ([SubPart::Ref(t)], true) => Expr::Ref(name_only(t)),
            ([SubPart::GetAtt(id, attr)], true) => Expr::GetAtt(id.clone(), attr.clone()),
            (parts, _) => {
                let parts = parts
                    .iter()
                    .map(|p| match p {
                        SubPart::Ref(t) => SubPart::Ref(name_only(t)),
                        other => other.clone(),
                    })
                    .collect();
                Expr::Sub(Sub::new(parts, sub.vars().iter().map(|(k, x)| (k.clone(), canonical(x))).collect()))
            }
        },
        Expr::Join(sep, items) => Expr::Join(sep.clone(), items.iter().map(canonical).collect()),
        Expr::Select(i, list) => Expr::Select(*i, boxed(list)),
        Expr::GetAZs(r) => Expr::GetAZs(boxed(r)),
        Expr::If(c, a, b) => Expr::If(c.clone(), boxed(a), boxed(b)),
        Expr::Equals(a, b) => Expr::Equals(boxed(a), boxed(b)),
        Expr::ImportValue(x) => Expr::ImportValue(boxed(x)),
        Expr::Split(sep, x) => Expr::Split(sep.clone(), boxed(x)),
        Expr::Intrinsic(name, arg) => Expr::Intrinsic(name.clone(), boxed(arg)),
    }
}

/// Intrinsic-aware equality (see [`canonical`]).
#[must_use]
pub fn same(a: &Expr, b: &Expr) -> bool {
    a == b || canonical(a) == canonical(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::Scope;
    use serde_json::json;

    fn expr(v: serde_json::Value) -> Expr {
        Expr::parse(&v, &Scope::new(["X", "A"], ["Y"]))
    }

    #[test]
    fn canonical_equality() {
        assert!(same(&expr(json!({"a": 1, "b": true})), &expr(json!({"b": "true", "a": "1"}))));
        assert!(same(&expr(json!({"Fn::GetAtt": "A.Arn"})), &expr(json!({"Fn::GetAtt": ["A", "Arn"]}))));
        assert!(same(&expr(json!({"Fn::Sub": "${X}"})), &expr(json!({"Ref": "X"}))));
        assert!(same(&expr(json!({"Fn::Sub": ["a${X}", {}]})), &expr(json!({"Fn::Sub": "a${X}"}))));
        assert!(!same(&expr(json!({"Ref": "X"})), &expr(json!({"Ref": "Y"}))));
        // The same name is a resource in one template and a parameter in the other: same text.
        let as_param = Expr::parse(&json!({"Ref": "X"}), &Scope::new(Vec::<String>::new(), ["X"]));
        assert!(same(&expr(json!({"Ref": "X"})), &as_param));
    }

    fn parse(v: serde_json::Value) -> Template {
        Template::parse(&v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn resolves_across_nested_stacks() {
        let root = parse(json!({"Resources": {
            "NetNestedStack": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://b.s3.amazonaws.com/templates/net.json"}},
            "AppNestedStack": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://b.s3.amazonaws.com/templates/app.json",
                "Parameters": {"Subnets": {"Fn::GetAtt": ["NetNestedStack", "Outputs.Subnets"]}}}}}}));
        let net = parse(json!({"Resources": {"S1": {"Type": "AWS::EC2::Subnet"}, "S2": {"Type": "AWS::EC2::Subnet"}},
            "Outputs": {"Subnets": {"Value": {"Fn::Join": [",", [{"Ref": "S1"}, {"Ref": "S2"}]]}}}}));
        let app = parse(json!({"Parameters": {"Subnets": {"Type": "CommaDelimitedList"}}, "Resources": {}}));
        let mut set = TemplateSet::single("x", root);
        for (f, k, t) in [("net.json", "templates/net.json", net), ("app.json", "templates/app.json", app.clone())] {
            set.templates.insert(f.into(), t);
            set.s3_keys.insert(k.into(), f.into());
        }
        let tree = Tree::new(&set);
        assert_eq!(tree.nodes.len(), 3);
        let app_node = tree.by_path.get("AppNestedStack").copied().unwrap_or_default();
        let v = tree.resolve(app_node, &Expr::parse(&json!({"Fn::Select": [1, {"Ref": "Subnets"}]}), &app.scope()));
        assert_eq!(v, Resolved::Resource(("NetNestedStack".into(), "S2".into()), None));
        let mut deps = BTreeSet::new();
        dependencies(&v, &mut deps);
        assert_eq!(deps, BTreeSet::from([("NetNestedStack".to_string(), "S2".to_string())]));
    }

    #[test]
    fn literals_and_defaults_resolve_to_text() {
        let t =
            parse(json!({"Parameters": {"P": {"Type": "String", "Default": 5}}, "Resources": {"B": {"Type": "X"}}}));
        let set = TemplateSet::single("x", t.clone());
        let tree = Tree::new(&set);
        let e = |v: serde_json::Value| Expr::parse(&v, &t.scope());
        assert_eq!(tree.resolve(0, &e(json!({"Fn::Sub": "a-${P}"}))), Resolved::Scalar("a-5".into()));
        assert_eq!(
            tree.resolve(0, &e(json!({"Fn::Join": ["-", ["a", 1, true]]}))),
            Resolved::Scalar("a-1-true".into())
        );
        assert_eq!(tree.resolve(0, &e(json!({"Fn::Select": [1, "a,b"]}))), Resolved::Scalar("b".into()));
        assert_eq!(tree.resolve(0, &e(json!({"Fn::Sub": "${B}"}))), tree.resolve(0, &e(json!({"Ref": "B"}))));
        assert_eq!(
            tree.resolve(0, &e(json!({"Ref": "AWS::Region"}))),
            Resolved::Call("Ref".into(), vec![Resolved::Scalar("AWS::Region".into())])
        );
    }
}
