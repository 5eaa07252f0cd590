//! Template values: literals and intrinsic functions.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::LogicalId;

/// A value in a template: a literal or an intrinsic function.
///
/// Serializes to the JSON form CloudFormation reads (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A list.
    List(Vec<Expr>),
    /// A mapping with sorted keys.
    Map(BTreeMap<String, Expr>),
    /// `Ref` to a logical ID, parameter, or pseudo parameter (`AWS::Region`).
    Ref(String),
    /// `Fn::GetAtt` of a resource attribute.
    GetAtt(LogicalId, String),
    /// `Fn::Sub` of a template string, with optional variables.
    Sub(String, BTreeMap<String, Expr>),
    /// `Fn::Join` with a separator.
    Join(String, Vec<Expr>),
    /// `Fn::Select` of an index from a list.
    Select(u32, Box<Expr>),
    /// `Fn::GetAZs` of a Region (`""`: the stack's Region).
    GetAZs(Box<Expr>),
    /// `Fn::If` on a condition name.
    If(String, Box<Expr>, Box<Expr>),
    /// `Fn::Equals`.
    Equals(Box<Expr>, Box<Expr>),
    /// `Fn::ImportValue` of an export name.
    ImportValue(Box<Expr>),
    /// `Fn::Split` of a string by a separator.
    Split(String, Box<Expr>),
}

impl Expr {
    /// `{"Ref": name}`.
    pub fn r#ref(name: impl Into<String>) -> Self {
        Self::Ref(name.into())
    }

    /// `{"Fn::GetAtt": [id, attribute]}`.
    pub fn get_att(id: &LogicalId, attribute: &str) -> Self {
        Self::GetAtt(id.clone(), attribute.into())
    }

    /// `{"Fn::Sub": template}` with no variables.
    pub fn sub(template: impl Into<String>) -> Self {
        Self::Sub(template.into(), BTreeMap::new())
    }

    /// `{"Fn::Sub": [template, vars]}`.
    pub fn sub_with(template: impl Into<String>, vars: impl IntoIterator<Item = (&'static str, Expr)>) -> Self {
        Self::Sub(template.into(), vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    /// `{"Fn::Join": [sep, items]}`.
    pub fn join(sep: &str, items: Vec<Expr>) -> Self {
        Self::Join(sep.into(), items)
    }

    /// `value` followed by literal text, as `{"Fn::Sub": ["${V}<suffix>", {"V": value}]}`
    /// (cfn-lint prefers Sub over a Join with an empty delimiter).
    pub fn suffixed(value: &Expr, suffix: &str) -> Self {
        Self::sub_with(format!("${{V}}{suffix}"), [("V", value.clone())])
    }

    /// `{"Fn::Select": [index, list]}`.
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
        Self::Ref(id.as_str().into())
    }
}

fn one<S: Serializer, V: Serialize + ?Sized>(s: S, key: &str, value: &V) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(1))?;
    m.serialize_entry(key, value)?;
    m.end()
}

/// A JSON array of differently typed elements (the argument lists of intrinsic functions).
fn tuple(items: &[&dyn erased_serde_value::ToValue]) -> serde_json::Value {
    serde_json::Value::Array(items.iter().map(|i| i.to_value()).collect())
}

mod erased_serde_value {
    /// Anything serializable, as a JSON value (serializing these types cannot fail: every map key is a string).
    pub trait ToValue {
        fn to_value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> ToValue for T {
        fn to_value(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Str(v) => s.serialize_str(v),
            Self::Int(v) => s.serialize_i64(*v),
            Self::Bool(v) => s.serialize_bool(*v),
            Self::List(v) => v.serialize(s),
            Self::Map(v) => v.serialize(s),
            Self::Ref(name) => one(s, "Ref", name),
            Self::GetAtt(id, attr) => one(s, "Fn::GetAtt", &[id.as_str(), attr.as_str()]),
            Self::Sub(template, vars) if vars.is_empty() => one(s, "Fn::Sub", template),
            Self::Sub(template, vars) => one(s, "Fn::Sub", &tuple(&[template, vars])),
            Self::Join(sep, items) => one(s, "Fn::Join", &tuple(&[sep, items])),
            Self::Select(i, list) => one(s, "Fn::Select", &tuple(&[i, list.as_ref()])),
            Self::GetAZs(region) => one(s, "Fn::GetAZs", region.as_ref()),
            Self::If(cond, a, b) => one(s, "Fn::If", &tuple(&[cond, a.as_ref(), b.as_ref()])),
            Self::Equals(a, b) => one(s, "Fn::Equals", &tuple(&[a.as_ref(), b.as_ref()])),
            Self::ImportValue(v) => one(s, "Fn::ImportValue", v.as_ref()),
            Self::Split(sep, v) => one(s, "Fn::Split", &tuple(&[sep, v.as_ref()])),
        }
    }
}
