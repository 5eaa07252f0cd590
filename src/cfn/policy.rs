//! IAM policy documents: identity policies, trust policies, key, bucket and endpoint policies.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Expr;

/// An IAM policy document (`Version: 2012-10-17`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// Always `2012-10-17`.
    pub version: &'static str,
    /// The statements, in the order written.
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A document holding `statements`.
    #[must_use]
    pub fn new(statements: Vec<Statement>) -> Self {
        Self { version: "2012-10-17", statement: statements }
    }
}

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Denies, overriding any grant.
    Deny,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Statement ID: what the statement is for.
    pub sid: String,
    /// Allow or Deny.
    pub effect: Effect,
    /// Principal (resource-based and trust policies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Expr>,
    /// Actions such as `s3:GetObject`; never `*`.
    pub action: Vec<String>,
    /// Resources (absent in trust policies).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    /// Conditions: operator -> key -> value.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, Expr>>,
}

impl Statement {
    /// An `Allow` statement of `actions` on `resources`.
    pub fn allow<S: AsRef<str>>(sid: &str, actions: &[S], resources: Vec<Expr>) -> Self {
        Self {
            sid: sid.into(),
            effect: Effect::Allow,
            principal: None,
            action: actions.iter().map(|a| a.as_ref().to_string()).collect(),
            resource: resources,
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

/// A statement denying every request to a bucket that does not use TLS.
#[must_use]
pub fn deny_insecure_transport(bucket_arn: Expr) -> Statement {
    Statement::deny("DenyInsecureTransport", &["s3:*"], vec![bucket_arn.clone(), Expr::suffixed(&bucket_arn, "/*")])
        .principal(aws(Expr::from("*")))
        .when("Bool", "aws:SecureTransport", Expr::from("false"))
}
