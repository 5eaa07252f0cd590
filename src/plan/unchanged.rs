//! Nested stacks that a plan need not look inside: the same template on both sides, without
//! nested stacks of its own, whose parameters resolve alike on both sides. Every value in
//! such a template then resolves alike too (a value reaches outside its template only
//! through its parameters), so the diff finds nothing there, unless a resource its
//! parameters depend on is replaced: [`Unchanged::holds`] tells, once the rest is compared.

use std::collections::{BTreeMap, BTreeSet};

use super::resolve::{dependencies, ResourceKey, Tree, STEP_BUDGET};
use crate::cfn::{Expr, Target, Template};

/// The stacks found unchanged, by logical-ID path, each with the resources its parameters
/// resolve to.
#[derive(Debug, Default)]
pub struct Unchanged {
    stacks: BTreeMap<String, BTreeSet<ResourceKey>>,
}

impl Unchanged {
    /// The nested stacks of the two trees that are unchanged (see the module's description).
    #[must_use]
    pub fn find(old: &Tree<'_>, new: &Tree<'_>) -> Self {
        let mut stacks = BTreeMap::new();
        for (path, &nn) in &new.by_path {
            let Some(&on) = old.by_path.get(path) else { continue };
            let (o, n) = (&old.nodes[on], &new.nodes[nn]);
            if path.is_empty() || !o.children.is_empty() || !n.children.is_empty() || o.template != n.template {
                continue;
            }
            if let Some(deps) = parameters_alike(old, on, new, nn) {
                stacks.insert(path.clone(), deps);
            }
        }
        Self { stacks }
    }

    /// Whether the stack at `path` was found unchanged.
    #[must_use]
    pub fn contains(&self, path: &str) -> bool {
        self.stacks.contains_key(path)
    }

    /// Whether no resource the unchanged stacks' parameters depend on is in `replaced`: then
    /// nothing in them is marked as possibly changed either.
    #[must_use]
    pub fn holds(&self, replaced: &BTreeSet<ResourceKey>) -> bool {
        self.stacks.values().all(|deps| deps.is_disjoint(replaced))
    }
}

/// The resources the parameters of node `nn` depend on, when each parameter it declares or
/// its parent passes resolves alike (in as many steps) in node `on` of the old tree.
fn parameters_alike(old: &Tree<'_>, on: usize, new: &Tree<'_>, nn: usize) -> Option<BTreeSet<ResourceKey>> {
    let mut names: BTreeSet<&str> = new.nodes[nn].template.parameters.keys().map(String::as_str).collect();
    for (tree, node) in [(old, on), (new, nn)] {
        names.extend(passed(tree, node).into_iter().flat_map(|m| m.keys().map(String::as_str)));
    }
    let mut deps = BTreeSet::new();
    let mut most_steps = 0;
    for name in names {
        let reference = Expr::Ref(Target::Parameter(name.to_string()));
        let (before, after) = (old.resolve_counted(on, &reference), new.resolve_counted(nn, &reference));
        if before != after {
            return None;
        }
        most_steps = most_steps.max(after.1);
        dependencies(&after.0, &mut deps);
    }
    // A value resolves in at most a step per node and a parameter's steps per reference: within
    // the budget, no resolution in the template gives up (where both sides could differ).
    let largest = largest_value(new.nodes[nn].template);
    (largest.saturating_mul(most_steps + 1) < STEP_BUDGET).then_some(deps)
}

/// The size of the template's largest property or output value ([`size`]).
fn largest_value(t: &Template) -> usize {
    let properties = t.resources.values().flat_map(|r| r.properties.values());
    properties.chain(t.outputs.values().map(|o| &o.value)).map(size).max().unwrap_or_default()
}

/// The nodes of a value, counting each part of a `Fn::Sub` string as one.
fn size(e: &Expr) -> usize {
    1 + match e {
        Expr::List(items) | Expr::Join(_, items) => items.iter().map(size).sum(),
        Expr::Map(m) => m.values().map(size).sum(),
        Expr::Sub(sub) => sub.parts().len() + sub.vars().values().map(size).sum::<usize>(),
        Expr::Select(_, x) | Expr::GetAZs(x) | Expr::ImportValue(x) | Expr::Split(_, x) | Expr::Intrinsic(_, x) => {
            size(x)
        }
        Expr::If(_, a, b) | Expr::Equals(a, b) => size(a) + size(b),
        Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Num(_) | Expr::Str(_) | Expr::Ref(_) | Expr::GetAtt(..) => 0,
    }
}

/// The `Parameters` the parent stack passes to node `node`.
fn passed<'t>(tree: &'t Tree<'_>, node: usize) -> Option<&'t crate::cfn::ExprMap> {
    let (parent, id) = tree.nodes[node].parent.as_ref()?;
    tree.nodes[*parent].template.resource(id)?.properties.get("Parameters")?.as_map()
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::cfn::Template;
    use crate::plan::diff::compare;
    use crate::plan::TemplateSet;

    fn parse(v: &Value) -> Template {
        Template::parse(v).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A root with stacks `A` (a bucket named `bucket`, its ARN an output) and `B` (a policy on
    /// the ARN that `A` passes it as a parameter, or on a literal ARN).
    fn set(bucket: &str, b_parameter: Value) -> TemplateSet {
        let nested = |key: &str, parameters: Value| {
            json!({"Type": "AWS::CloudFormation::Stack", "Properties": {
                "TemplateURL": format!("https://b.s3.amazonaws.com/templates/{key}.json"), "Parameters": parameters}})
        };
        let root = parse(&json!({"Resources": {
            "ANestedStack": nested("a", json!({})),
            "BNestedStack": nested("b", json!({"Arn": b_parameter}))}}));
        let a =
            parse(&json!({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": bucket}}},
            "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Bucket", "Arn"]}}}}));
        let b = parse(&json!({"Parameters": {"Arn": {"Type": "String"}}, "Resources": {
            "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": {"Fn::Sub": "${Arn}/*"}}]}}}}}));
        let mut set = TemplateSet::single("x", root);
        for (file, key, t) in [("a.json", "a", a), ("b.json", "b", b)] {
            set.templates.insert(file.into(), t);
            set.s3_keys.insert(format!("templates/{key}.json"), file.into());
        }
        set
    }

    fn from_a() -> Value {
        json!({"Fn::GetAtt": ["ANestedStack", "Outputs.Arn"]})
    }

    #[test]
    fn a_same_template_with_parameters_resolved_alike_is_unchanged() {
        let (old, new) = (set("one", from_a()), set("one", from_a()));
        let unchanged = Unchanged::find(&Tree::new(&old), &Tree::new(&new));
        assert!(unchanged.contains("ANestedStack") && unchanged.contains("BNestedStack"));
        assert!(!unchanged.contains(""), "the root has nested stacks");
        let other = set("one", json!("arn:aws:s3:::elsewhere"));
        assert!(!Unchanged::find(&Tree::new(&old), &Tree::new(&other)).contains("BNestedStack"));
    }

    /// Replacing the bucket marks the policy of the unchanged stack `B` as possibly changed,
    /// exactly as comparing everything does.
    #[test]
    fn a_replaced_dependency_compares_the_unchanged_stack_too() {
        let (old, new) = (set("one", from_a()), set("two", from_a()));
        let unchanged = Unchanged::find(&Tree::new(&old), &Tree::new(&new));
        assert!(unchanged.contains("BNestedStack"));
        let compared = compare(&old, &new);
        let b = compared.iter().find(|c| c.diff.logical_id_path == "BNestedStack").map(|c| &c.diff);
        let policy = b.and_then(|d| d.resources.iter().find(|r| r.logical_id == "Policy"));
        let because = policy.and_then(|p| p.changes.first()).and_then(|c| c.possibly_because.clone());
        assert_eq!(because.as_deref(), Some("depends on replaced ANestedStack/Bucket"), "{compared:#?}");
    }
}
