//! Templates written as JSON text straight from the model, without building a
//! `serde_json::Value` first: the same bytes as [`super::render::Format::render`] of
//! [`Template::to_value`] (two-space indentation, keys in template order: the sections as
//! [`SECTIONS`] lists them, logical IDs sorted, a resource's keys in
//! [`RESOURCE_KEY_ORDER`], every other mapping sorted), trailing newline.

use serde::Serialize;

use super::render::RESOURCE_KEY_ORDER;
use super::template::{FORMAT_VERSION, SECTIONS};
use super::{Expr, ExprMap, Resource, Template};

/// The JSON text of `template`, byte for byte what rendering [`Template::to_value`] gives.
///
/// # Errors
/// A message when the text is not UTF-8 (not expected: every piece written is).
pub fn template(template: &Template) -> Result<String, String> {
    let mut w = Writer { out: Vec::with_capacity(4096) };
    w.template(template);
    w.out.push(b'\n');
    String::from_utf8(w.out).map_err(|e| format!("template text is not UTF-8: {e}"))
}

/// Whether [`template`] writes `template` in its template order: not when a section a
/// transform reads is named like a standard one (then `to_value` lets it replace that one).
#[must_use]
pub fn writes_in_order(template: &Template) -> bool {
    !template.transform_sections.keys().any(|k| SECTIONS.contains(&k.as_str()))
}

/// Where the next entry of an open mapping or list goes, and whether it has one yet.
struct Open {
    indent: usize,
    empty: bool,
}

struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, n: usize) {
        self.out.resize(self.out.len() + n, b' ');
    }

    fn open(&mut self, bracket: u8, indent: usize) -> Open {
        self.out.push(bracket);
        Open { indent, empty: true }
    }

    /// Starts the next entry: a separator, a new line and the indentation.
    fn next(&mut self, at: &mut Open) {
        self.out.extend_from_slice(if at.empty { b"\n" } else { b",\n" });
        at.empty = false;
        self.pad(at.indent + 2);
    }

    fn key(&mut self, at: &mut Open, key: &str) {
        self.next(at);
        self.string(key);
        self.out.extend_from_slice(b": ");
    }

    fn close(&mut self, at: Open, bracket: u8) {
        if !at.empty {
            self.out.push(b'\n');
            self.pad(at.indent);
        }
        self.out.push(bracket);
    }

    /// A scalar as serde_json writes it (strings escaped, numbers by `itoa`/`ryu`).
    fn scalar<T: Serialize + ?Sized>(&mut self, v: &T) {
        if serde_json::to_writer(&mut self.out, v).is_err() {
            self.out.extend_from_slice(b"null");
        }
    }

    fn string(&mut self, s: &str) {
        self.scalar(s);
    }

    fn template(&mut self, t: &Template) {
        let mut at = self.open(b'{', 0);
        self.key(&mut at, "AWSTemplateFormatVersion");
        self.string(FORMAT_VERSION);
        if !t.description.is_empty() {
            self.key(&mut at, "Description");
            self.string(&t.description);
        }
        self.section(&mut at, "Metadata", t.metadata.as_ref());
        if !t.parameters.is_empty() {
            self.key(&mut at, "Parameters");
            self.entries(t.parameters.iter().map(|(k, p)| (k.as_str(), p.to_expr())), 2);
        }
        self.section(&mut at, "Rules", t.rules.as_ref());
        self.section(&mut at, "Mappings", t.mappings.as_ref());
        if !t.conditions.is_empty() {
            self.key(&mut at, "Conditions");
            self.map(&t.conditions, 2);
        }
        self.section(&mut at, "Transform", t.transform.as_ref());
        self.key(&mut at, "Resources");
        let mut resources = self.open(b'{', 2);
        for (id, r) in &t.resources {
            self.key(&mut resources, id.as_str());
            self.resource(r, 4);
        }
        self.close(resources, b'}');
        if !t.outputs.is_empty() {
            self.key(&mut at, "Outputs");
            self.entries(t.outputs.iter().map(|(k, o)| (k.as_str(), o.to_expr())), 2);
        }
        for (k, v) in &t.transform_sections {
            self.key(&mut at, k);
            self.expr(v, 2);
        }
        self.close(at, b'}');
    }

    fn section(&mut self, at: &mut Open, key: &str, value: Option<&Expr>) {
        if let Some(v) = value {
            self.key(at, key);
            self.expr(v, at.indent + 2);
        }
    }

    /// A mapping of owned values given in key order (parameters, outputs: few and small).
    fn entries<'k>(&mut self, entries: impl Iterator<Item = (&'k str, Expr)>, indent: usize) {
        let mut at = self.open(b'{', indent);
        for (k, v) in entries {
            self.key(&mut at, k);
            self.expr(&v, indent + 2);
        }
        self.close(at, b'}');
    }

    /// One resource, its keys in [`RESOURCE_KEY_ORDER`].
    fn resource(&mut self, r: &Resource, indent: usize) {
        let mut at = self.open(b'{', indent);
        for key in RESOURCE_KEY_ORDER {
            match key {
                "Type" => {
                    self.key(&mut at, key);
                    self.string(&r.kind);
                }
                "Properties" if !r.properties.is_empty() => {
                    self.key(&mut at, key);
                    self.map(&r.properties, indent + 2);
                }
                "Metadata" if !r.metadata.is_empty() => {
                    self.key(&mut at, key);
                    self.map(&r.metadata, indent + 2);
                }
                "CreationPolicy" | "UpdatePolicy" => {
                    let v = if key == "CreationPolicy" { &r.creation_policy } else { &r.update_policy };
                    self.section(&mut at, key, v.as_ref());
                }
                "Properties" | "Metadata" => {}
                attribute => {
                    if let Some(v) = r.attribute(attribute) {
                        self.key(&mut at, attribute);
                        self.expr(&v, indent + 2);
                    }
                }
            }
        }
        self.close(at, b'}');
    }

    fn map(&mut self, m: &ExprMap, indent: usize) {
        let mut at = self.open(b'{', indent);
        for (k, v) in m {
            self.key(&mut at, k);
            self.expr(v, indent + 2);
        }
        self.close(at, b'}');
    }

    fn list<'e>(&mut self, items: impl IntoIterator<Item = Item<'e>>, indent: usize) {
        let mut at = self.open(b'[', indent);
        for item in items {
            self.next(&mut at);
            match item {
                Item::Str(s) => self.string(s),
                Item::Int(n) => self.scalar(&n),
                Item::Expr(e) => self.expr(e, indent + 2),
                Item::List(l) => self.list(l.iter().map(Item::Expr), indent + 2),
            }
        }
        self.close(at, b']');
    }

    /// A value; a function call as `{"Name": argument}` (see [`Expr::call`]).
    fn expr(&mut self, e: &Expr, indent: usize) {
        match e {
            Expr::Null => self.out.extend_from_slice(b"null"),
            Expr::Bool(b) => self.scalar(b),
            Expr::Int(n) => self.scalar(n),
            Expr::Num(n) => self.scalar(n),
            Expr::Str(s) => self.string(s),
            Expr::List(l) => self.list(l.iter().map(Item::Expr), indent),
            Expr::Map(m) => self.map(m, indent),
            call => {
                let mut at = self.open(b'{', indent);
                self.key(&mut at, call.function_name().unwrap_or_default());
                self.argument(call, indent + 2);
                self.close(at, b'}');
            }
        }
    }

    /// The argument of a function call, as [`Expr::call`] gives it.
    fn argument(&mut self, call: &Expr, indent: usize) {
        match call {
            Expr::Ref(t) => self.string(t.name()),
            Expr::GetAtt(id, attr) => self.list([Item::Str(id.as_str()), Item::Str(attr)], indent),
            Expr::Sub(sub) if sub.vars().is_empty() => self.string(&sub.text()),
            Expr::Sub(sub) => {
                let text = sub.text();
                let mut at = self.open(b'[', indent);
                self.next(&mut at);
                self.string(&text);
                self.next(&mut at);
                self.map(sub.vars(), indent + 2);
                self.close(at, b']');
            }
            Expr::Join(sep, items) => self.list([Item::Str(sep), Item::List(items)], indent),
            Expr::Select(i, list) => self.list([Item::Int(i64::from(*i)), Item::Expr(list)], indent),
            Expr::GetAZs(x) | Expr::ImportValue(x) | Expr::Intrinsic(_, x) => self.expr(x, indent),
            Expr::If(c, a, b) => self.list([Item::Str(c), Item::Expr(a), Item::Expr(b)], indent),
            Expr::Equals(a, b) => self.list([Item::Expr(a), Item::Expr(b)], indent),
            Expr::Split(sep, x) => self.list([Item::Str(sep), Item::Expr(x)], indent),
            literal => self.expr(literal, indent),
        }
    }
}

/// An item of a list written by [`Writer::list`].
enum Item<'e> {
    Str(&'e str),
    Int(i64),
    Expr(&'e Expr),
    List(&'e [Expr]),
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::expr::tests::generated::expr;
    use super::super::render::Format;
    use super::super::{LogicalId, Output, Parameter, Policy};
    use super::*;

    fn map() -> impl Strategy<Value = ExprMap> {
        let key = prop::sample::select(vec!["Key", "Value", "a", "Ref", "Fn::Sub", "Tags", "é", "Outputs"]);
        prop::collection::vec((key, expr()), 0..4)
            .prop_map(|pairs| pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn resource() -> impl Strategy<Value = Resource> {
        let ids = prop::collection::vec(prop::sample::select(vec!["A", "B", "Zed"]), 0..3);
        let policy = prop::option::of(prop::sample::select(Policy::ALL.to_vec()));
        (map(), map(), ids, prop::option::of("[A-Z][a-z]{0,4}"), policy.clone(), policy, prop::option::of(expr()))
            .prop_map(|(properties, metadata, ids, condition, on_delete, on_replace, creation)| {
                let mut r = Resource::of_type("AWS::X::Y", properties);
                r.metadata = metadata;
                r.depends_on = ids.into_iter().map(LogicalId::new).collect();
                r.condition = condition;
                r.deletion_policy = on_delete;
                r.update_replace_policy = on_replace;
                r.update_policy = creation.clone();
                r.creation_policy = creation;
                r
            })
    }

    fn templates() -> impl Strategy<Value = Template> {
        let resources =
            prop::collection::btree_map(prop::sample::select(vec!["Bucket", "A1", "a", "Role"]), resource(), 0..4);
        let sections = (prop::option::of(expr()), prop::option::of(expr()), map());
        let declarations = (prop::option::of(expr()), map(), prop::option::of(expr()), map());
        (".{0,8}", resources, sections, declarations).prop_map(
            |(
                description,
                resources,
                (metadata, transform, transform_sections),
                (default, conditions, value, other),
            )| {
                let mut t = Template::new(description);
                t.metadata = metadata;
                t.transform = transform;
                t.transform_sections = transform_sections;
                t.conditions = conditions;
                t.resources = resources.into_iter().map(|(id, r)| (LogicalId::new(id), r)).collect();
                let parameter = Parameter { kind: "String".into(), default, other, ..Parameter::default() };
                t.parameters.insert("Env".into(), parameter);
                if let Some(v) = value {
                    t.outputs.insert("Out".into(), Output::new("o", v));
                }
                t
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The text written from the model is the text of its JSON value, byte for byte.
        #[test]
        fn writes_the_bytes_of_the_rendered_value(t in templates()) {
            let via_value = Format::Json.render(&t.to_value()).map_err(TestCaseError::fail)?;
            prop_assert_eq!(Format::Json.render_template(&t).map_err(TestCaseError::fail)?, via_value.clone());
            if writes_in_order(&t) {
                prop_assert_eq!(template(&t).map_err(TestCaseError::fail)?, via_value);
            }
        }
    }

    #[test]
    fn an_empty_template_has_empty_resources() {
        let t = Template::new("");
        assert_eq!(
            template(&t),
            Ok("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {}\n}\n".into())
        );
    }
}
