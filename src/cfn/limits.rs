//! CloudFormation quotas checked before any AWS call (CloudFormation user guide, "Quotas").

use super::{Expr, Pseudo, SubPart, Target, Template};

/// Largest template body passed inline in an API call, in bytes; larger ones go by S3 URL.
pub const MAX_INLINE_BODY_BYTES: usize = 51_200;
/// Largest template read from S3, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
/// Most resources in one template.
pub const MAX_RESOURCES: usize = 500;
/// Most parameters in one template.
pub const MAX_PARAMETERS: usize = 200;
/// Most outputs in one template.
pub const MAX_OUTPUTS: usize = 200;

/// Every quota `template` (rendered as `text`) exceeds, as messages naming the quota.
#[must_use]
pub fn violations(file: &str, template: &Template, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let checks = [
        ("bytes", text.len(), MAX_TEMPLATE_BYTES),
        ("resources", template.resources.len(), MAX_RESOURCES),
        ("parameters", template.parameters.len(), MAX_PARAMETERS),
        ("outputs", template.outputs.len(), MAX_OUTPUTS),
    ];
    for (what, n, max) in checks {
        if n > max {
            out.push(format!("{file} has {n} {what}; CloudFormation allows at most {max}"));
        }
    }
    out
}

/// Most characters of all inline policies of one IAM role together, whitespace not counted
/// (IAM user guide, "IAM and AWS STS quotas": role policy size).
pub const MAX_ROLE_INLINE_POLICY_CHARS: usize = 10_240;

/// The roles of `template` whose inline policies are certain to exceed
/// [`MAX_ROLE_INLINE_POLICY_CHARS`] once deployed, as messages naming the file, role and size.
/// The size is a lower bound of the deployed text ([`least_chars`]): a role reported here would
/// certainly be refused by IAM; one that is not may still be, by a few characters per ARN.
#[must_use]
pub fn role_policy_violations(file: &str, template: &Template) -> Vec<String> {
    let mut out = Vec::new();
    for (id, r) in template.resources.iter().filter(|(_, r)| r.kind == "AWS::IAM::Role") {
        let docs = r.properties.get("Policies").and_then(Expr::as_list).unwrap_or_default();
        let chars: usize = docs.iter().filter_map(|p| p.get("PolicyDocument")).map(least_chars).sum();
        if chars > MAX_ROLE_INLINE_POLICY_CHARS {
            let user = tag(r, sandboxc_contract::users::USER_TAG).map(|u| format!(" (user {u:?})")).unwrap_or_default();
            out.push(format!(
                "{file}: the inline policies of role {id}{user} come to at least {chars} characters once deployed; IAM allows at most {MAX_ROLE_INLINE_POLICY_CHARS} per role (fewer datasets per user, or datasets under one shared prefix, make it smaller)"
            ));
        }
    }
    out
}

/// The fewest non-whitespace characters the JSON of `e` can have once CloudFormation has
/// resolved it: literal text as written; a pseudo parameter at its shortest (`aws`, a 9-character
/// Region such as `us-east-1`, a 12-digit account, `amazonaws.com`); a `Ref` or `GetAtt` of an
/// ARN at 16 (`arn:aws:s3:::abc`, the shortest S3 bucket ARN); a VPC endpoint ID at 22 (`vpce-`
/// and 17 characters); anything else at 1; `Fn::If` at its shorter branch.
#[must_use]
pub fn least_chars(e: &Expr) -> usize {
    let quoted = |n: usize| n + 2;
    match e {
        Expr::Null | Expr::Bool(true) => 4,
        Expr::Bool(false) => 5,
        Expr::Int(n) => n.to_string().len(),
        Expr::Num(n) => n.to_string().len(),
        Expr::Str(s) => quoted(visible(s)),
        Expr::List(items) => 2 + items.iter().map(least_chars).sum::<usize>() + items.len().saturating_sub(1),
        Expr::Map(m) => {
            2 + m.iter().map(|(k, v)| quoted(visible(k)) + 1 + least_chars(v)).sum::<usize>()
                + m.len().saturating_sub(1)
        }
        Expr::Ref(t) => quoted(target_chars(t)),
        Expr::GetAtt(_, attribute) => quoted(attribute_chars(attribute)),
        Expr::Sub(sub) => quoted(
            sub.parts()
                .iter()
                .map(|p| match p {
                    SubPart::Text(t) => visible(t),
                    SubPart::Ref(t) => target_chars(t),
                    SubPart::GetAtt(_, attribute) => attribute_chars(attribute),
                    SubPart::Var(v) => sub.vars().get(v).map_or(1, |x| least_chars(x).saturating_sub(2)),
                })
                .sum(),
        ),
        Expr::If(_, a, b) => least_chars(a).min(least_chars(b)),
        _ => quoted(1),
    }
}

/// The literal value of the tag `key` of a resource's `Tags` list, if it has one.
fn tag<'r>(r: &'r super::Resource, key: &str) -> Option<&'r str> {
    r.properties
        .get("Tags")
        .and_then(Expr::as_list)
        .unwrap_or_default()
        .iter()
        .find(|t| t.get("Key").and_then(Expr::as_str) == Some(key))
        .and_then(|t| t.get("Value"))
        .and_then(Expr::as_str)
}

fn visible(s: &str) -> usize {
    s.chars().filter(|c| !c.is_whitespace()).count()
}

fn target_chars(t: &Target) -> usize {
    match t {
        Target::Pseudo(Pseudo::Partition) => 3,
        Target::Pseudo(Pseudo::Region) => 9,
        Target::Pseudo(Pseudo::AccountId) => 12,
        Target::Pseudo(Pseudo::UrlSuffix) => 13,
        Target::Resource(id) => named_chars(id.as_str()),
        Target::Parameter(name) | Target::Unresolved(name) => named_chars(name),
        Target::Pseudo(_) => 1,
    }
}

fn named_chars(name: &str) -> usize {
    if name.ends_with("Arn") {
        16
    } else if name.ends_with("EndpointId") {
        22
    } else {
        1
    }
}

fn attribute_chars(attribute: &str) -> usize {
    if attribute == "Arn" || attribute.ends_with(".Arn") || attribute.ends_with("Arn") {
        16
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::resources::Queue;
    use crate::cfn::{LogicalId, Resource};

    #[test]
    fn names_every_exceeded_quota() {
        let mut t = Template::new("big");
        for i in 0..=MAX_RESOURCES {
            t.resources.insert(LogicalId::new(format!("Q{i}")), Resource::new(&Queue::default()));
        }
        let text = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert_eq!(
            violations("big.json", &t, &text),
            vec![
                "big.json has 1000001 bytes; CloudFormation allows at most 1000000".to_string(),
                "big.json has 501 resources; CloudFormation allows at most 500".to_string(),
            ]
        );
        assert!(violations("ok.json", &Template::new("ok"), "{}").is_empty());
    }

    #[test]
    fn least_chars_counts_what_cloudformation_can_resolve_to_at_least() {
        let scope = crate::cfn::Scope::new(["NotebookKey"], ["DataBucketArn", "S3EndpointId"]);
        let least = |v: serde_json::Value| least_chars(&Expr::parse(&v, &scope));
        // "arn:aws:s3:::x" with its quotes.
        assert_eq!(least(serde_json::json!({"Fn::Sub": "arn:${AWS::Partition}:s3:::x"})), 16);
        // "<an ARN of 16 or more>/d/*".
        assert_eq!(least(serde_json::json!({"Fn::Sub": ["${V}/d/*", {"V": {"Ref": "DataBucketArn"}}]})), 16 + 4 + 2);
        assert_eq!(least(serde_json::json!({"Ref": "S3EndpointId"})), 22 + 2);
        assert_eq!(least(serde_json::json!({"Fn::GetAtt": ["NotebookKey", "Arn"]})), 16 + 2);
        // {"a":["b c",1]}: the space does not count.
        assert_eq!(least(serde_json::json!({"a": ["b c", 1]})), 14);
    }

    #[test]
    fn a_role_whose_inline_policies_cannot_fit_is_named() {
        let statement = |i: usize| serde_json::json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket/{}/*", "p".repeat(i))});
        let role = |n: usize| {
            let statements: Vec<_> = (0..n).map(|_| statement(40)).collect();
            serde_json::json!({"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}})
        };
        let template = |n: usize| {
            let value = serde_json::json!({"Resources": {"UserRole": role(n)}});
            Template::parse(&value).unwrap_or_else(|e| panic!("{e}"))
        };
        assert!(role_policy_violations("small.json", &template(10)).is_empty());
        let found = role_policy_violations("big.json", &template(200));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("big.json: the inline policies of role UserRole come to at least "),
            "{}",
            found[0]
        );
        assert!(found[0].contains("IAM allows at most 10240 per role"), "{}", found[0]);
    }
}
