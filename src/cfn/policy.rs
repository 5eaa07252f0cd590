//! IAM policy documents: identity policies, trust policies, key, bucket, endpoint and queue
//! policies. Built by the compiler ([`PolicyDocument::new`], [`Statement::allow`]) and read
//! back from any template ([`PolicyDocument::from_expr`]) for the plan's security summary
//! (IAM user guide, "IAM JSON policy elements reference").

use std::collections::BTreeMap;

use super::{CfnError, Expr, ExprMap, ToExpr};

/// The policy language version sandboxc writes.
pub const POLICY_VERSION: &str = "2012-10-17";

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    /// `Version`: `2012-10-17` for every document sandboxc writes; absent means `2008-10-17`.
    pub version: Option<String>,
    /// `Id`, if any.
    pub id: Option<String>,
    /// The statements, in the order written.
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A `2012-10-17` document holding `statements`.
    #[must_use]
    pub fn new(statements: Vec<Statement>) -> Self {
        Self { version: Some(POLICY_VERSION.into()), id: None, statement: statements }
    }

    /// Reads a document as a template holds it. `Statement` may be one statement or a list;
    /// `Action`, `Resource` and their `Not` forms a string or a list.
    ///
    /// # Errors
    /// [`CfnError::Malformed`] when the document is not a mapping (for instance a whole
    /// document chosen by `Fn::If`), or a statement lacks a valid `Effect` or has another shape.
    pub fn from_expr(doc: &Expr) -> Result<Self, CfnError> {
        let m = doc.as_map().ok_or_else(|| malformed("PolicyDocument", "expected a mapping with Statement"))?;
        for k in m.keys() {
            if !["Version", "Id", "Statement"].contains(&k.as_str()) {
                return Err(malformed(format!("PolicyDocument.{k}"), "allowed keys: Version, Id, Statement"));
            }
        }
        let text = |key: &str| -> Result<Option<String>, CfnError> {
            match m.get(key) {
                None => Ok(None),
                Some(Expr::Str(s)) => Ok(Some(s.clone())),
                Some(_) => Err(malformed(format!("PolicyDocument.{key}"), "expected a string")),
            }
        };
        let statement = match m.get("Statement") {
            None => Vec::new(),
            Some(Expr::List(list)) => list
                .iter()
                .enumerate()
                .map(|(i, s)| Statement::from_expr(&format!("Statement[{i}]"), s))
                .collect::<Result<_, _>>()?,
            Some(one) => vec![Statement::from_expr("Statement", one)?],
        };
        Ok(Self { version: text("Version")?, id: text("Id")?, statement })
    }
}

impl ToExpr for PolicyDocument {
    fn to_expr(&self) -> Expr {
        let mut m = ExprMap::new();
        if let Some(v) = &self.version {
            m.insert("Version".to_string(), Expr::from(v.as_str()));
        }
        if let Some(id) = &self.id {
            m.insert("Id".to_string(), Expr::from(id.as_str()));
        }
        m.insert("Statement".to_string(), self.statement.to_expr());
        Expr::Map(m)
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Denies, overriding any grant.
    Deny,
}

impl Effect {
    /// `Allow` or `Deny`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Allow => "Allow",
            Self::Deny => "Deny",
        }
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Statement ID: what the statement is for (sandboxc always writes one).
    pub sid: Option<String>,
    /// Allow or Deny.
    pub effect: Effect,
    /// `Principal` (resource-based and trust policies only): `"*"`, or a mapping such as
    /// `{"Service": "lambda.amazonaws.com"}` or `{"AWS": [...]}`.
    pub principal: Option<Expr>,
    /// `NotPrincipal`.
    pub not_principal: Option<Expr>,
    /// `Action`: actions such as `s3:GetObject` (sandboxc never writes `*`).
    pub action: Vec<Expr>,
    /// `NotAction`.
    pub not_action: Vec<Expr>,
    /// `Resource` (absent in trust policies).
    pub resource: Vec<Expr>,
    /// `NotResource`.
    pub not_resource: Vec<Expr>,
    /// `Condition`: operator -> key -> value.
    pub condition: BTreeMap<String, ExprMap>,
}

const STATEMENT_KEYS: [&str; 9] =
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

impl Statement {
    /// An `Allow` statement of `actions` on `resources`.
    pub fn allow<S: AsRef<str>>(sid: &str, actions: &[S], resources: Vec<Expr>) -> Self {
        Self {
            sid: Some(sid.into()),
            effect: Effect::Allow,
            principal: None,
            not_principal: None,
            action: actions.iter().map(|a| Expr::from(a.as_ref())).collect(),
            not_action: Vec::new(),
            resource: resources,
            not_resource: Vec::new(),
            condition: BTreeMap::new(),
        }
    }

    /// A `Deny` statement of `actions` on `resources`.
    pub fn deny<S: AsRef<str>>(sid: &str, actions: &[S], resources: Vec<Expr>) -> Self {
        Self { effect: Effect::Deny, ..Self::allow(sid, actions, resources) }
    }

    /// Sets the principal, such as `{"Service": "lambda.amazonaws.com"}`.
    #[must_use]
    pub fn principal(mut self, principal: Expr) -> Self {
        self.principal = Some(principal);
        self
    }

    /// Adds a condition `operator: {key: value}`.
    #[must_use]
    pub fn when(mut self, operator: &str, key: &str, value: Expr) -> Self {
        self.condition.entry(operator.into()).or_default().insert(key.into(), value);
        self
    }

    /// Adds the condition `(operator, key, value)` when there is one.
    #[must_use]
    pub fn when_some(self, condition: Option<(&str, &str, Expr)>) -> Self {
        match condition {
            Some((operator, key, value)) => self.when(operator, key, value),
            None => self,
        }
    }

    /// The principals as `(kind, value)` pairs: `("Service", "lambda.amazonaws.com")`,
    /// `("AWS", ...)`, one pair per listed value; `("*", "*")` for `Principal: "*"`; and
    /// `("", value)` for a principal of another shape (a function call).
    #[must_use]
    pub fn principals(&self) -> Vec<(String, Expr)> {
        let mut out = Vec::new();
        match &self.principal {
            Some(Expr::Map(m)) => {
                for (kind, v) in m {
                    match v {
                        Expr::List(items) => out.extend(items.iter().map(|i| (kind.clone(), i.clone()))),
                        one => out.push((kind.clone(), one.clone())),
                    }
                }
            }
            Some(Expr::Str(s)) if s == "*" => out.push(("*".into(), Expr::from("*"))),
            Some(other) => out.push((String::new(), other.clone())),
            None => {}
        }
        out
    }

    fn from_expr(at: &str, s: &Expr) -> Result<Self, CfnError> {
        let m = s.as_map().ok_or_else(|| malformed(at, "a statement is a mapping with Effect"))?;
        for k in m.keys() {
            if !STATEMENT_KEYS.contains(&k.as_str()) {
                return Err(malformed(format!("{at}.{k}"), format!("allowed keys: {}", STATEMENT_KEYS.join(", "))));
            }
        }
        let effect = match m.get("Effect").and_then(Expr::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => return Err(malformed(format!("{at}.Effect"), "Effect is Allow or Deny")),
        };
        let list = |key: &str| -> Vec<Expr> {
            match m.get(key) {
                None => Vec::new(),
                Some(Expr::List(items)) => items.clone(),
                Some(one) => vec![one.clone()],
            }
        };
        let mut condition = BTreeMap::new();
        match m.get("Condition") {
            None => {}
            Some(Expr::Map(ops)) => {
                for (op, keys) in ops {
                    let keys = keys.as_map().ok_or_else(|| {
                        malformed(format!("{at}.Condition.{op}"), "a condition operator maps keys to values")
                    })?;
                    condition.insert(op.clone(), keys.clone());
                }
            }
            Some(_) => {
                return Err(malformed(format!("{at}.Condition"), "Condition maps operators to key-value mappings"))
            }
        }
        Ok(Self {
            sid: match m.get("Sid") {
                None => None,
                Some(Expr::Str(s)) => Some(s.clone()),
                Some(_) => return Err(malformed(format!("{at}.Sid"), "Sid is a string")),
            },
            effect,
            principal: m.get("Principal").cloned(),
            not_principal: m.get("NotPrincipal").cloned(),
            action: list("Action"),
            not_action: list("NotAction"),
            resource: list("Resource"),
            not_resource: list("NotResource"),
            condition,
        })
    }
}

impl ToExpr for Statement {
    /// `Action` always as a list, `Resource` left out when empty (trust policies).
    fn to_expr(&self) -> Expr {
        let mut m = ExprMap::new();
        if let Some(sid) = &self.sid {
            m.insert("Sid".to_string(), Expr::from(sid.as_str()));
        }
        m.insert("Effect".to_string(), Expr::from(self.effect.name()));
        if let Some(p) = &self.principal {
            m.insert("Principal".to_string(), p.clone());
        }
        if let Some(p) = &self.not_principal {
            m.insert("NotPrincipal".to_string(), p.clone());
        }
        if !self.action.is_empty() || self.not_action.is_empty() {
            m.insert("Action".to_string(), Expr::List(self.action.clone()));
        }
        for (key, list) in
            [("NotAction", &self.not_action), ("Resource", &self.resource), ("NotResource", &self.not_resource)]
        {
            if !list.is_empty() {
                m.insert(key.to_string(), Expr::List(list.clone()));
            }
        }
        if !self.condition.is_empty() {
            let c = self.condition.iter().map(|(op, kv)| (op.clone(), Expr::Map(kv.clone()))).collect();
            m.insert("Condition".to_string(), Expr::Map(c));
        }
        Expr::Map(m)
    }
}

fn malformed(at: impl Into<String>, problem: impl Into<String>) -> CfnError {
    CfnError::Malformed { at: at.into(), problem: problem.into() }
}

/// `{"Service": service}`.
#[must_use]
pub fn service(service: &str) -> Expr {
    Expr::map([("Service", Expr::from(service))])
}

/// `{"AWS": arn}`.
#[must_use]
pub fn aws(arn: Expr) -> Expr {
    Expr::map([("AWS", arn)])
}

/// The account's root principal: `arn:${AWS::Partition}:iam::${AWS::AccountId}:root`.
#[must_use]
pub fn account_root() -> Expr {
    aws(Expr::sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root"))
}

/// A trust policy letting `service` assume a role.
#[must_use]
pub fn trust(service_name: &str) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::allow("TrustService", &["sts:AssumeRole"], vec![]).principal(service(service_name))
    ])
}

/// A statement denying every request to a bucket that does not use TLS (`aws:SecureTransport`
/// the boolean `false`, as the IAM `Bool` operator takes it).
#[must_use]
pub fn deny_insecure_transport(bucket_arn: Expr) -> Statement {
    Statement::deny("DenyInsecureTransport", &["s3:*"], vec![bucket_arn.clone(), Expr::suffixed(&bucket_arn, "/*")])
        .principal(aws(Expr::from("*")))
        .when("Bool", "aws:SecureTransport", Expr::Bool(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{LogicalId, Scope};
    use serde_json::json;

    #[test]
    fn documents_round_trip() {
        let doc = PolicyDocument::new(vec![
            Statement::allow(
                "Read",
                &["s3:GetObject", "s3:ListBucket"],
                vec![Expr::get_att(&LogicalId::new("B"), "Arn")],
            )
            .principal(account_root())
            .when("StringEquals", "aws:PrincipalAccount", Expr::sub("${AWS::AccountId}")),
            trust("lambda.amazonaws.com").statement[0].clone(),
            deny_insecure_transport(Expr::from("arn:aws:s3:::b")),
        ]);
        assert_eq!(PolicyDocument::from_expr(&doc.to_expr()), Ok(doc.clone()));
        let text = doc.to_expr().to_value();
        assert_eq!(Expr::parse(&text, &Scope::new(["B"], Vec::<String>::new())), doc.to_expr());
        assert_eq!(
            text["Statement"][1],
            json!({"Sid": "TrustService", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ["sts:AssumeRole"]})
        );
    }

    #[test]
    fn other_writers_documents_are_read() {
        let e = Expr::parse(
            &json!({"Statement": {"Effect": "Deny", "NotAction": "iam:*", "Principal": "*", "NotResource": "arn:x"}}),
            &Scope::empty(),
        );
        let doc = PolicyDocument::from_expr(&e).unwrap_or_else(|e| panic!("{e}"));
        let s = &doc.statement[0];
        assert_eq!((s.effect, s.sid.clone(), doc.version.clone()), (Effect::Deny, None, None));
        assert_eq!(s.not_action, vec![Expr::from("iam:*")]);
        assert_eq!(s.principals(), vec![("*".to_string(), Expr::from("*"))]);
        assert_eq!(s.not_resource, vec![Expr::from("arn:x")]);
        assert!(s.action.is_empty());
        assert_eq!(PolicyDocument::from_expr(&doc.to_expr()), Ok(doc));
    }

    #[test]
    fn malformed_documents_are_errors() {
        for v in [
            json!({"Fn::If": ["C", {}, {}]}),
            json!({"Statement": [{"Action": "s3:*"}]}),
            json!({"Statement": [{"Effect": "Allow", "Condition": {"Bool": "x"}}]}),
            json!({"Statement": [{"Effect": "Allow", "Actions": []}]}),
        ] {
            assert!(PolicyDocument::from_expr(&Expr::parse(&v, &Scope::empty())).is_err(), "{v}");
        }
    }
}
