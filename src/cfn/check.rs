//! Reference checks on the model: every `Ref`, `Fn::GetAtt`, `${...}` in `Fn::Sub`,
//! `DependsOn` and condition name must name something that exists in the same template, and
//! every logical ID must be well formed. The compiler runs this on every template it builds.

use std::collections::BTreeSet;

use super::{Expr, LogicalId, Problem, Sub, SubPart, Target, Template, MODELLED_FUNCTIONS};

/// Every inconsistency of `template`, each naming the reference and where it occurs; empty
/// when the template is consistent.
#[must_use]
pub fn check(template: &Template) -> Vec<Problem> {
    let ctx = Ctx {
        resources: template.resources.keys().map(LogicalId::as_str).collect(),
        parameters: template.parameters.keys().map(String::as_str).collect(),
        conditions: template.conditions.keys().map(String::as_str).collect(),
    };
    let mut out = Vec::new();
    for id in template.resources.keys() {
        if !LogicalId::is_valid(id.as_str()) {
            out.push(problem("", format!("logical ID {:?} is not 1..255 ASCII letters and digits", id.as_str())));
        }
    }
    for (id, r) in &template.resources {
        let at = format!("Resources.{id}");
        for d in &r.depends_on {
            if !ctx.resources.contains(d.as_str()) {
                out.push(problem(
                    &format!("{at}.DependsOn"),
                    format!("names {:?}, which is not a resource of this template", d.as_str()),
                ));
            }
        }
        if let Some(c) = &r.condition {
            ctx.condition(&format!("{at}.Condition"), c, &mut out);
        }
        for (k, v) in &r.properties {
            ctx.walk(v, &format!("{at}.Properties.{k}"), &mut out);
        }
    }
    for (name, o) in &template.outputs {
        let at = format!("Outputs.{name}");
        ctx.walk(&o.value, &format!("{at}.Value"), &mut out);
        if let Some(c) = &o.condition {
            ctx.condition(&format!("{at}.Condition"), c, &mut out);
        }
        if let Some(e) = &o.export {
            ctx.walk(e, &format!("{at}.Export"), &mut out);
        }
    }
    for (name, c) in &template.conditions {
        ctx.walk(c, &format!("Conditions.{name}"), &mut out);
    }
    out
}

fn problem(at: &str, message: impl Into<String>) -> Problem {
    Problem { at: at.to_string(), message: message.into() }
}

struct Ctx<'a> {
    resources: BTreeSet<&'a str>,
    parameters: BTreeSet<&'a str>,
    conditions: BTreeSet<&'a str>,
}

impl Ctx<'_> {
    fn declared(&self, t: &Target) -> bool {
        match t {
            Target::Resource(id) => self.resources.contains(id.as_str()),
            Target::Parameter(p) => self.parameters.contains(p.as_str()),
            Target::Pseudo(_) => true,
            Target::Unresolved(_) => false,
        }
    }

    fn condition(&self, at: &str, name: &str, out: &mut Vec<Problem>) {
        if !self.conditions.contains(name) {
            out.push(problem(at, format!("names condition {name:?}, which is not a condition of this template")));
        }
    }

    fn walk(&self, e: &Expr, at: &str, out: &mut Vec<Problem>) {
        match e {
            Expr::Null | Expr::Bool(_) | Expr::Int(_) | Expr::Num(_) | Expr::Str(_) => {}
            Expr::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &format!("{at}[{i}]"), out);
                }
            }
            Expr::Map(m) => {
                for (k, v) in m {
                    self.walk(v, &format!("{at}.{k}"), out);
                }
            }
            Expr::Ref(t) => {
                if !self.declared(t) {
                    out.push(problem(
                        at,
                        format!("Ref {:?} names no resource, parameter or pseudo parameter", t.name()),
                    ));
                }
            }
            Expr::GetAtt(id, _) => {
                if !self.resources.contains(id.as_str()) {
                    out.push(problem(
                        at,
                        format!("Fn::GetAtt names {:?}, which is not a resource of this template", id.as_str()),
                    ));
                }
            }
            Expr::Sub(sub) => self.sub(sub, at, out),
            Expr::Join(_, items) => self.walk(&Expr::List(items.clone()), &format!("{at}.Fn::Join"), out),
            Expr::Select(_, v) | Expr::GetAZs(v) | Expr::ImportValue(v) | Expr::Split(_, v) => {
                self.walk(v, &format!("{at}.{}", e.function_name().unwrap_or_default()), out);
            }
            Expr::If(c, a, b) => {
                self.condition(&format!("{at}.Fn::If"), c, out);
                self.walk(a, &format!("{at}.Fn::If[1]"), out);
                self.walk(b, &format!("{at}.Fn::If[2]"), out);
            }
            Expr::Equals(a, b) => {
                self.walk(a, &format!("{at}.Fn::Equals[0]"), out);
                self.walk(b, &format!("{at}.Fn::Equals[1]"), out);
            }
            Expr::Intrinsic(name, arg) => {
                if name == "Condition" {
                    if let Expr::Str(c) = arg.as_ref() {
                        self.condition(at, c, out);
                    }
                } else if MODELLED_FUNCTIONS.contains(&name.as_str()) {
                    out.push(problem(at, malformed(name, arg)));
                }
                self.walk(arg, &format!("{at}.{name}"), out);
            }
        }
    }

    fn sub(&self, sub: &Sub, at: &str, out: &mut Vec<Problem>) {
        for p in sub.parts() {
            match p {
                SubPart::Ref(t) if !self.declared(t) => out.push(problem(
                    at,
                    format!("Fn::Sub ${{{}}} names no resource, parameter, pseudo parameter or variable", t.name()),
                )),
                SubPart::GetAtt(id, attr) if !self.resources.contains(id.as_str()) => out.push(problem(
                    at,
                    format!(
                        "Fn::Sub ${{{id}.{attr}}} names {:?}, which is not a resource of this template",
                        id.as_str()
                    ),
                )),
                _ => {}
            }
        }
        for (k, v) in sub.vars() {
            self.walk(v, &format!("{at}.Fn::Sub.{k}"), out);
        }
    }
}

/// Why a modelled function was kept as [`Expr::Intrinsic`]: its arguments have another shape.
fn malformed(name: &str, arg: &Expr) -> String {
    let sub_error = |text: &str| {
        Sub::parse(text, super::ExprMap::new(), &super::Scope::empty()).err().map(|e| match e {
            super::CfnError::Malformed { problem, .. } => format!("Fn::Sub: {problem}"),
            other => other.to_string(),
        })
    };
    let text = match (name, arg) {
        ("Fn::Sub", Expr::Str(s)) => sub_error(s),
        ("Fn::Sub", Expr::List(l)) => l.first().and_then(Expr::as_str).and_then(sub_error),
        _ => None,
    };
    text.unwrap_or_else(|| {
        let shape = match name {
            "Ref" => "a name (string)",
            "Fn::GetAtt" => "[logical ID, attribute] or \"LogicalId.Attribute\"",
            "Fn::Sub" => "a string, or [string, {variables}]",
            "Fn::Join" => "[separator, [values]]",
            "Fn::Select" => "[index, list]",
            "Fn::If" => "[condition name, value if true, value if false]",
            "Fn::Equals" => "[value, value]",
            "Fn::Split" => "[separator, string]",
            _ => "another shape",
        };
        format!("malformed {name}: expected {shape}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_every_dangling_reference() {
        let t = Template::parse(&json!({
            "Parameters": {"P": {"Type": "String"}},
            "Conditions": {"C": {"Fn::Equals": [{"Ref": "P"}, "x"]}},
            "Resources": {
                "A": {"Type": "X", "Condition": "C", "Properties": {"X": {"Ref": "P"}, "Y": {"Ref": "AWS::Region"}, "Z": {"Fn::Sub": "${A.Arn}${P}"}}},
                "B": {"Type": "X", "DependsOn": ["Gone"], "Condition": "Nope", "Properties": {
                    "X": {"Ref": "Nope"}, "Y": {"Fn::GetAtt": ["Missing", "Arn"]}, "Z": {"Fn::Sub": "${Lost}"},
                    "W": {"Fn::If": ["NoCond", 1, 2]}, "V": {"Fn::Sub": "${open"}}}
            },
            "Outputs": {"O": {"Value": {"Fn::Sub": ["${Gone.Arn}", {"V": {"Ref": "AlsoGone"}}]}}}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let errors: Vec<String> = check(&t).iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 9, "{errors:#?}");
        for needle in [
            "Resources.B.DependsOn: names \"Gone\"",
            "Resources.B.Condition: names condition \"Nope\"",
            "Resources.B.Properties.X: Ref \"Nope\"",
            "Resources.B.Properties.Y: Fn::GetAtt names \"Missing\"",
            "Resources.B.Properties.Z: Fn::Sub ${Lost}",
            "Resources.B.Properties.W.Fn::If: names condition \"NoCond\"",
            "Resources.B.Properties.V: Fn::Sub: unclosed",
            "Outputs.O.Value: Fn::Sub ${Gone.Arn}",
            "Outputs.O.Value.Fn::Sub.V: Ref \"AlsoGone\"",
        ] {
            assert!(errors.iter().any(|e| e.starts_with(needle)), "{needle}: {errors:#?}");
        }
    }

    #[test]
    fn compiler_built_refs_are_checked_against_the_template() {
        let mut t = Template::new("t");
        let a = LogicalId::new("A");
        let props = crate::cfn::ExprMap::from([
            ("X".to_string(), Expr::resource(&LogicalId::new("Elsewhere"))),
            ("Y".to_string(), Expr::parameter("Undeclared")),
            ("Z".to_string(), Expr::sub("${NotAParameter}")),
            ("W".to_string(), Expr::resource(&a)),
        ]);
        assert!(t.add(&a, crate::cfn::Resource::of_type("X", props)).is_ok());
        let errors: Vec<String> = check(&t).iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{errors:#?}");
    }
}
