//! Template values: literals and intrinsic functions, built by the compiler and parsed back
//! from JSON ([`Expr::parse`]); [`Expr::to_value`] is the JSON CloudFormation reads.

use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::{ExprMap, LogicalId, Pseudo, Scope, Sub, Target};

/// A value in a template: a literal or an intrinsic function (CloudFormation user guide,
/// "Intrinsic function reference").
///
/// Parsing is total: every JSON value is an `Expr`. A single-key mapping whose key is `Ref`,
/// `Condition` or starts with `Fn::` is a function; the functions sandboxc writes get typed
/// variants, and any other function, or one whose arguments have another shape, is kept as
/// [`Expr::Intrinsic`]. Equivalent spellings are read into one variant: `Fn::GetAtt` of
/// `"Id.Attribute"`, `Fn::Sub` with an empty variable map, `Fn::Select` with a numeric string
/// index.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number that is not an `i64` (a fraction, or an integer beyond `i64`), as written.
    Num(Number),
    /// A string.
    Str(String),
    /// A list.
    List(Vec<Expr>),
    /// A mapping with sorted keys (never a function call: see the type's description).
    Map(ExprMap),
    /// `Ref` to a resource, parameter or pseudo parameter.
    Ref(Target),
    /// `Fn::GetAtt` of a resource attribute (`Outputs.X` of a nested stack keeps its dot).
    GetAtt(LogicalId, String),
    /// `Fn::Sub`, its template string parsed into parts.
    Sub(Sub),
    /// `Fn::Join` of a list with a separator.
    Join(String, Vec<Expr>),
    /// `Fn::Select` of an index from a list.
    Select(u32, Box<Expr>),
    /// `Fn::GetAZs` of a Region (`""`: the stack's Region).
    GetAZs(Box<Expr>),
    /// `Fn::If` on a condition name: the value when true, the value when false.
    If(String, Box<Expr>, Box<Expr>),
    /// `Fn::Equals`.
    Equals(Box<Expr>, Box<Expr>),
    /// `Fn::ImportValue` of an export name.
    ImportValue(Box<Expr>),
    /// `Fn::Split` of a string by a separator.
    Split(String, Box<Expr>),
    /// Any other function (`Fn::FindInMap`, `Fn::Base64`, `Fn::And`, `Condition`...), or one of
    /// the functions above whose arguments have another shape: the key and its argument, as
    /// written. [`crate::cfn::check`] reports the latter.
    Intrinsic(String, Box<Expr>),
}

/// Values the typed property structs hold, as template values.
pub trait ToExpr {
    /// The value as an [`Expr`].
    fn to_expr(&self) -> Expr;
}

impl ToExpr for Expr {
    fn to_expr(&self) -> Expr {
        self.clone()
    }
}

impl ToExpr for bool {
    fn to_expr(&self) -> Expr {
        Expr::Bool(*self)
    }
}

impl ToExpr for i64 {
    fn to_expr(&self) -> Expr {
        Expr::Int(*self)
    }
}

impl ToExpr for String {
    fn to_expr(&self) -> Expr {
        Expr::Str(self.clone())
    }
}

impl<T: ToExpr> ToExpr for Vec<T> {
    fn to_expr(&self) -> Expr {
        Expr::List(self.iter().map(ToExpr::to_expr).collect())
    }
}

/// The names of the functions with typed variants.
pub const MODELLED_FUNCTIONS: [&str; 10] = [
    "Ref",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::GetAZs",
    "Fn::If",
    "Fn::Equals",
    "Fn::ImportValue",
    "Fn::Split",
];

impl Expr {
    /// `{"Ref": id}`: a resource of the same template.
    #[must_use]
    pub fn resource(id: &LogicalId) -> Self {
        Self::Ref(Target::Resource(id.clone()))
    }

    /// `{"Ref": name}`: a parameter of the same template.
    pub fn parameter(name: impl Into<String>) -> Self {
        Self::Ref(Target::Parameter(name.into()))
    }

    /// `{"Ref": "AWS::..."}`: a pseudo parameter.
    #[must_use]
    pub fn pseudo(p: Pseudo) -> Self {
        Self::Ref(Target::Pseudo(p))
    }

    /// `{"Fn::GetAtt": [id, attribute]}`.
    #[must_use]
    pub fn get_att(id: &LogicalId, attribute: &str) -> Self {
        Self::GetAtt(id.clone(), attribute.into())
    }

    /// `{"Fn::Sub": template}` with no variables: `${...}` may name pseudo parameters and
    /// attributes (`${Id.Attribute}`). To name a parameter or resource, use [`Expr::sub_in`].
    pub fn sub(template: impl Into<String>) -> Self {
        Self::sub_in(template, &Scope::empty())
    }

    /// `{"Fn::Sub": template}` with no variables, `${Name}` classified by `scope` (the
    /// parameters and resources the template declares).
    pub fn sub_in(template: impl Into<String>, scope: &Scope) -> Self {
        Self::sub_parsed(template.into(), ExprMap::new(), scope)
    }

    /// `{"Fn::Sub": [template, vars]}`.
    pub fn sub_with(template: impl Into<String>, vars: impl IntoIterator<Item = (&'static str, Expr)>) -> Self {
        let vars = vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Self::sub_parsed(template.into(), vars, &Scope::empty())
    }

    /// A malformed string (a compiler bug) stays as written, and `check` reports it.
    fn sub_parsed(template: String, vars: ExprMap, scope: &Scope) -> Self {
        match Sub::parse(&template, vars.clone(), scope) {
            Ok(sub) => Self::Sub(sub),
            Err(_) if vars.is_empty() => Self::Intrinsic("Fn::Sub".into(), Box::new(Self::Str(template))),
            Err(_) => {
                Self::Intrinsic("Fn::Sub".into(), Box::new(Self::List(vec![Self::Str(template), Self::Map(vars)])))
            }
        }
    }

    /// `{"Fn::Join": [sep, items]}`.
    #[must_use]
    pub fn join(sep: &str, items: Vec<Expr>) -> Self {
        Self::Join(sep.into(), items)
    }

    /// `value` followed by literal text, as `{"Fn::Sub": ["${V}<suffix>", {"V": value}]}`
    /// (cfn-lint prefers Sub over a Join with an empty delimiter).
    #[must_use]
    pub fn suffixed(value: &Expr, suffix: &str) -> Self {
        Self::sub_with(format!("${{V}}{suffix}"), [("V", value.clone())])
    }

    /// `{"Fn::Select": [index, list]}`.
    #[must_use]
    pub fn select(index: u32, list: Expr) -> Self {
        Self::Select(index, Box::new(list))
    }

    /// A mapping from `(key, value)` pairs.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Expr)>) -> Self {
        Self::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A list of strings.
    pub fn strs<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Self {
        Self::List(items.into_iter().map(|s| Self::Str(s.as_ref().to_string())).collect())
    }

    /// The string, if this is one.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The mapping, if this is one.
    #[must_use]
    pub fn as_map(&self) -> Option<&ExprMap> {
        match self {
            Self::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The list, if this is one.
    #[must_use]
    pub fn as_list(&self) -> Option<&[Expr]> {
        match self {
            Self::List(l) => Some(l),
            _ => None,
        }
    }

    /// A key of a mapping (`None` for anything else).
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Expr> {
        self.as_map().and_then(|m| m.get(key))
    }

    /// Whether this is a function call (anything but a literal, list or mapping).
    #[must_use]
    pub fn is_function(&self) -> bool {
        !matches!(
            self,
            Self::Null | Self::Bool(_) | Self::Int(_) | Self::Num(_) | Self::Str(_) | Self::List(_) | Self::Map(_)
        )
    }

    /// Whether a function call occurs anywhere in the value.
    #[must_use]
    pub fn has_function(&self) -> bool {
        match self {
            Self::List(l) => l.iter().any(Self::has_function),
            Self::Map(m) => m.values().any(Self::has_function),
            other => other.is_function(),
        }
    }

    /// The key of a function call as written (`Ref`, `Fn::Sub`...), `None` for other values.
    #[must_use]
    pub fn function_name(&self) -> Option<&str> {
        Some(match self {
            Self::Ref(_) => "Ref",
            Self::GetAtt(..) => "Fn::GetAtt",
            Self::Sub(_) => "Fn::Sub",
            Self::Join(..) => "Fn::Join",
            Self::Select(..) => "Fn::Select",
            Self::GetAZs(_) => "Fn::GetAZs",
            Self::If(..) => "Fn::If",
            Self::Equals(..) => "Fn::Equals",
            Self::ImportValue(_) => "Fn::ImportValue",
            Self::Split(..) => "Fn::Split",
            Self::Intrinsic(name, _) => name,
            _ => return None,
        })
    }

    /// A function call as its key and its argument, as written (`("Fn::Join", [",", [...]])`);
    /// `None` for literals, lists and mappings.
    #[must_use]
    pub fn call(&self) -> Option<(&str, Expr)> {
        let name = self.function_name()?;
        let arg = match self {
            Self::Ref(t) => Self::from(t.name()),
            Self::GetAtt(id, attr) => Self::strs([id.as_str(), attr.as_str()]),
            Self::Sub(sub) if sub.vars().is_empty() => Self::Str(sub.text()),
            Self::Sub(sub) => Self::List(vec![Self::Str(sub.text()), Self::Map(sub.vars().clone())]),
            Self::Join(sep, items) => Self::List(vec![Self::from(sep.as_str()), Self::List(items.clone())]),
            Self::Select(i, list) => Self::List(vec![Self::from(*i), list.as_ref().clone()]),
            Self::GetAZs(x) | Self::ImportValue(x) | Self::Intrinsic(_, x) => x.as_ref().clone(),
            Self::If(c, a, b) => Self::List(vec![Self::from(c.as_str()), a.as_ref().clone(), b.as_ref().clone()]),
            Self::Equals(a, b) => Self::List(vec![a.as_ref().clone(), b.as_ref().clone()]),
            Self::Split(sep, x) => Self::List(vec![Self::from(sep.as_str()), x.as_ref().clone()]),
            _ => return None,
        };
        Some((name, arg))
    }

    /// The JSON CloudFormation reads, mappings in sorted key order.
    #[must_use]
    pub fn to_value(&self) -> Value {
        let call = |key: &str, arg: Value| {
            let mut m = Map::new();
            m.insert(key.to_string(), arg);
            Value::Object(m)
        };
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Int(n) => Value::from(*n),
            Self::Num(n) => Value::Number(n.clone()),
            Self::Str(s) => Value::String(s.clone()),
            Self::List(l) => Value::Array(l.iter().map(Self::to_value).collect()),
            Self::Map(m) => map_value(m),
            function => match function.call() {
                Some((name, arg)) => call(name, arg.to_value()),
                None => Value::Null,
            },
        }
    }

    /// Reads a JSON value written in a template whose declared names are `scope`. Never
    /// fails (see the type's description).
    #[must_use]
    pub fn parse(value: &Value, scope: &Scope) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => n.as_i64().map_or_else(|| Self::Num(n.clone()), Self::Int),
            Value::String(s) => Self::Str(s.clone()),
            Value::Array(a) => Self::List(a.iter().map(|v| Self::parse(v, scope)).collect()),
            Value::Object(m) => {
                if m.len() == 1 {
                    if let Some((key, arg)) = m.iter().next() {
                        if is_function_key(key) {
                            return function(key, arg, scope);
                        }
                    }
                }
                Self::Map(m.iter().map(|(k, v)| (k.clone(), Self::parse(v, scope))).collect())
            }
        }
    }
}

/// Whether a single key makes a mapping a function call: `Ref`, `Condition`, `Fn::...`.
#[must_use]
pub fn is_function_key(key: &str) -> bool {
    key == "Ref" || key == "Condition" || key.starts_with("Fn::")
}

fn map_value(m: &ExprMap) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_value())).collect())
}

fn boxed(v: &Value, scope: &Scope) -> Box<Expr> {
    Box::new(Expr::parse(v, scope))
}

/// A function call `{key: arg}`, typed when its arguments have the shape the function takes.
fn function(key: &str, arg: &Value, scope: &Scope) -> Expr {
    let args = arg.as_array().map(Vec::as_slice);
    let typed = match (key, arg, args) {
        ("Ref", Value::String(name), _) => Some(Expr::Ref(scope.target(name))),
        ("Fn::GetAtt", _, Some([Value::String(id), Value::String(attr)])) => {
            LogicalId::parse(id).map(|id| Expr::GetAtt(id, attr.clone()))
        }
        ("Fn::GetAtt", Value::String(dotted), _) => dotted
            .split_once('.')
            .filter(|(_, attr)| !attr.is_empty())
            .and_then(|(id, attr)| LogicalId::parse(id).map(|id| Expr::GetAtt(id, attr.to_string()))),
        ("Fn::Sub", Value::String(text), _) => Sub::parse(text, ExprMap::new(), scope).ok().map(Expr::Sub),
        ("Fn::Sub", _, Some([Value::String(text), Value::Object(vars)])) => {
            let vars = vars.iter().map(|(k, v)| (k.clone(), Expr::parse(v, scope))).collect();
            Sub::parse(text, vars, scope).ok().map(Expr::Sub)
        }
        ("Fn::Join", _, Some([Value::String(sep), Value::Array(items)])) => {
            Some(Expr::Join(sep.clone(), items.iter().map(|v| Expr::parse(v, scope)).collect()))
        }
        ("Fn::Select", _, Some([index, list])) => {
            let index = match index {
                Value::Number(n) => n.as_u64().and_then(|i| u32::try_from(i).ok()),
                Value::String(s) => s.parse::<u32>().ok(),
                _ => None,
            };
            index.map(|i| Expr::Select(i, boxed(list, scope)))
        }
        ("Fn::GetAZs", _, _) => Some(Expr::GetAZs(boxed(arg, scope))),
        ("Fn::If", _, Some([Value::String(cond), a, b])) => {
            Some(Expr::If(cond.clone(), boxed(a, scope), boxed(b, scope)))
        }
        ("Fn::Equals", _, Some([a, b])) => Some(Expr::Equals(boxed(a, scope), boxed(b, scope))),
        ("Fn::ImportValue", _, _) => Some(Expr::ImportValue(boxed(arg, scope))),
        ("Fn::Split", _, Some([Value::String(sep), v])) => Some(Expr::Split(sep.clone(), boxed(v, scope))),
        _ => None,
    };
    typed.unwrap_or_else(|| Expr::Intrinsic(key.to_string(), boxed(arg, scope)))
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl From<&str> for Expr {
    fn from(s: &str) -> Self {
        Self::Str(s.into())
    }
}

impl From<String> for Expr {
    fn from(s: String) -> Self {
        Self::Str(s)
    }
}

impl From<&String> for Expr {
    fn from(s: &String) -> Self {
        Self::Str(s.clone())
    }
}

impl From<bool> for Expr {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<i64> for Expr {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<u32> for Expr {
    fn from(n: u32) -> Self {
        Self::Int(i64::from(n))
    }
}

impl From<u64> for Expr {
    fn from(n: u64) -> Self {
        Self::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<Vec<Expr>> for Expr {
    fn from(v: Vec<Expr>) -> Self {
        Self::List(v)
    }
}

impl From<&LogicalId> for Expr {
    /// A `Ref` to the resource.
    fn from(id: &LogicalId) -> Self {
        Self::resource(id)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::cfn::SubPart;
    use serde_json::json;

    fn scope() -> Scope {
        Scope::new(["Bucket", "Stack"], ["Env"])
    }

    #[test]
    fn refs_are_classified_with_the_template_scope() {
        let s = scope();
        assert_eq!(Expr::parse(&json!({"Ref": "Bucket"}), &s), Expr::resource(&LogicalId::new("Bucket")));
        assert_eq!(Expr::parse(&json!({"Ref": "Env"}), &s), Expr::parameter("Env"));
        assert_eq!(Expr::parse(&json!({"Ref": "AWS::AccountId"}), &s), Expr::pseudo(Pseudo::AccountId));
        assert_eq!(Expr::parse(&json!({"Ref": "Gone"}), &s), Expr::Ref(Target::Unresolved("Gone".into())));
    }

    #[test]
    fn equivalent_spellings_read_alike() {
        let s = scope();
        let att = Expr::get_att(&LogicalId::new("Stack"), "Outputs.X");
        assert_eq!(Expr::parse(&json!({"Fn::GetAtt": "Stack.Outputs.X"}), &s), att);
        assert_eq!(Expr::parse(&json!({"Fn::GetAtt": ["Stack", "Outputs.X"]}), &s), att);
        assert_eq!(
            Expr::parse(&json!({"Fn::Sub": ["a${Env}", {}]}), &s),
            Expr::parse(&json!({"Fn::Sub": "a${Env}"}), &s)
        );
        assert_eq!(
            Expr::parse(&json!({"Fn::Select": ["1", [1, 2]]}), &s),
            Expr::parse(&json!({"Fn::Select": [1, [1, 2]]}), &s)
        );
    }

    #[test]
    fn sub_strings_are_parsed_once() {
        let e = Expr::parse(&json!({"Fn::Sub": ["${Bucket}/${V}/${AWS::Region}", {"V": {"Ref": "Env"}}]}), &scope());
        let Expr::Sub(sub) = &e else { panic!("{e:?}") };
        assert_eq!(sub.parts()[0], SubPart::Ref(Target::Resource(LogicalId::new("Bucket"))));
        assert_eq!(sub.parts()[2], SubPart::Var("V".into()));
        assert_eq!(sub.parts()[4], SubPart::Ref(Target::Pseudo(Pseudo::Region)));
        assert_eq!(sub.vars()["V"], Expr::parameter("Env"));
    }

    #[test]
    fn other_shapes_and_functions_are_kept_as_written() {
        for v in [
            json!({"Ref": ["x"]}),
            json!({"Fn::GetAtt": ["not-an-id", "Arn"]}),
            json!({"Fn::GetAtt": ["A", {"Ref": "Env"}]}),
            json!({"Fn::Sub": "${open"}),
            json!({"Fn::Join": [",", {"Ref": "Env"}]}),
            json!({"Fn::Select": [-1, []]}),
            json!({"Fn::FindInMap": ["M", "K", "V"]}),
            json!({"Condition": "IsProd"}),
            json!({"Fn::If": ["C", 1]}),
        ] {
            let e = Expr::parse(&v, &scope());
            assert!(matches!(e, Expr::Intrinsic(..)), "{v}: {e:?}");
            assert_eq!(e.to_value(), v);
        }
        let n = json!({"a": 1.5, "b": 18446744073709551615u64, "c": null, "Ref": "x"});
        assert_eq!(Expr::parse(&n, &scope()).to_value(), n);
    }

    pub(in crate::cfn) mod generated {
        use super::super::*;
        use crate::cfn::SubPart;
        use proptest::prelude::*;
        use std::collections::BTreeMap;

        fn scope() -> Scope {
            Scope::new(["A", "B"], ["P"])
        }

        fn target() -> impl Strategy<Value = Target> {
            prop_oneof![
                prop::sample::select(vec!["A", "B"]).prop_map(|id| Target::Resource(LogicalId::new(id))),
                Just(Target::Parameter("P".into())),
                prop::sample::select(Pseudo::ALL.to_vec()).prop_map(Target::Pseudo),
                prop::sample::select(vec!["Gone", "AWS::Nope"]).prop_map(|n| Target::Unresolved(n.into())),
            ]
        }

        fn get_att() -> impl Strategy<Value = (LogicalId, String)> {
            (prop::sample::select(vec!["A", "B", "Elsewhere"]), prop::sample::select(vec!["Arn", "Outputs.X"]))
                .prop_map(|(id, attr)| (LogicalId::new(id), attr.to_string()))
        }

        /// Text without `$`, `{` or `}`, plus literal `${x}` (written `${!x}`).
        fn text() -> impl Strategy<Value = String> {
            prop_oneof!["[a-z:/ .*-]{0,8}", Just("${Literal}".to_string())]
        }

        fn sub(inner: impl Strategy<Value = Expr> + Clone) -> impl Strategy<Value = Sub> {
            let vars = prop::collection::btree_map(prop::sample::select(vec!["V", "W"]), inner, 0..3);
            vars.prop_flat_map(|vars: BTreeMap<&str, Expr>| {
                let names: Vec<String> = vars.keys().map(|k| k.to_string()).collect();
                let part = prop_oneof![
                    text().prop_map(SubPart::Text),
                    target().prop_map(SubPart::Ref),
                    get_att().prop_map(|(id, attr)| SubPart::GetAtt(id, attr)),
                    prop::sample::select(if names.is_empty() { vec!["".to_string()] } else { names.clone() })
                        .prop_map(SubPart::Var),
                ];
                let vars: ExprMap = vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                prop::collection::vec(part, 0..6).prop_map(move |parts| {
                    // A variable part needs its variable.
                    let parts =
                        parts.into_iter().filter(|p| !matches!(p, SubPart::Var(v) if !vars.contains_key(v))).collect();
                    Sub::new(parts, vars.clone())
                })
            })
        }

        /// Any expression: literals, lists, mappings and every function, nested.
        pub(in crate::cfn) fn expr() -> impl Strategy<Value = Expr> {
            let leaf = prop_oneof![
                Just(Expr::Null),
                any::<bool>().prop_map(Expr::Bool),
                any::<i64>().prop_map(Expr::Int),
                (-1.0e6f64..1.0e6).prop_filter_map("a fraction", |f| {
                    (f.fract() != 0.0).then(|| serde_json::Number::from_f64(f)).flatten().map(Expr::Num)
                }),
                ".{0,12}".prop_map(Expr::Str),
                target().prop_map(Expr::Ref),
                get_att().prop_map(|(id, attr)| Expr::GetAtt(id, attr)),
            ];
            leaf.prop_recursive(4, 48, 4, |inner| {
                let keys = || prop::sample::select(vec!["a", "b", "Key", "Value", "Statement"]);
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Expr::List),
                    prop::collection::btree_map(keys(), inner.clone(), 0..4)
                        .prop_map(|m| Expr::Map(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
                    sub(inner.clone()).prop_map(Expr::Sub),
                    ("[,|-]{0,2}", prop::collection::vec(inner.clone(), 0..3)).prop_map(|(s, l)| Expr::Join(s, l)),
                    (0u32..5, inner.clone()).prop_map(|(i, l)| Expr::Select(i, Box::new(l))),
                    inner.clone().prop_map(|r| Expr::GetAZs(Box::new(r))),
                    ("[A-Z][a-z]{0,5}", inner.clone(), inner.clone()).prop_map(|(c, a, b)| Expr::If(
                        c,
                        Box::new(a),
                        Box::new(b)
                    )),
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Equals(Box::new(a), Box::new(b))),
                    inner.clone().prop_map(|v| Expr::ImportValue(Box::new(v))),
                    ("[,|]", inner.clone()).prop_map(|(s, v)| Expr::Split(s, Box::new(v))),
                    (
                        prop::sample::select(vec!["Fn::FindInMap", "Fn::Base64", "Fn::And", "Condition", "Fn::Cidr"]),
                        inner
                    )
                        .prop_map(|(n, a)| Expr::Intrinsic(n.to_string(), Box::new(a))),
                ]
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Emit -> parse gives the same expression back, refs typed the same way.
            #[test]
            fn every_expression_reads_back_as_itself(e in expr()) {
                let json = e.to_value();
                prop_assert_eq!(Expr::parse(&json, &scope()), e.clone(), "{}", json);
                // And through text.
                let text = serde_json::to_string(&e).map_err(|x| TestCaseError::fail(x.to_string()))?;
                let back: serde_json::Value = serde_json::from_str(&text).map_err(|x| TestCaseError::fail(x.to_string()))?;
                prop_assert_eq!(Expr::parse(&back, &scope()), e);
            }

            /// Any JSON value parses (never fails, never panics) and renders back unchanged
            /// unless it used an equivalent spelling, in which case it is stable from then on.
            #[test]
            fn any_json_parses_and_is_stable(e in expr(), noise in prop::collection::vec(".{0,6}", 0..3)) {
                let mut json = e.to_value();
                if let serde_json::Value::Object(m) = &mut json {
                    for n in noise {
                        m.insert(n, serde_json::Value::from("x"));
                    }
                }
                let once = Expr::parse(&json, &scope());
                prop_assert_eq!(Expr::parse(&once.to_value(), &scope()), once);
            }
        }
    }

    #[test]
    fn a_malformed_compiler_sub_is_kept_for_check() {
        assert_eq!(Expr::sub("${x").to_value(), json!({"Fn::Sub": "${x"}));
        assert_eq!(
            Expr::sub_in("${Env}", &Scope::parameters(["Env"])),
            Expr::parse(&json!({"Fn::Sub": "${Env}"}), &scope())
        );
    }
}
