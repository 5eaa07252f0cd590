//! Compile-time reference checks: every `Ref`, `Fn::GetAtt`, `${...}` in `Fn::Sub`, `DependsOn`
//! and condition name must name something that exists in the same template.

use std::collections::BTreeSet;

use serde_json::Value;

use super::LogicalId;

/// CloudFormation's pseudo parameters (user guide, "Pseudo parameters reference").
pub const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// One part of a `Fn::Sub` template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubPart {
    /// Literal text (with `${!x}` already turned into `${x}`).
    Text(String),
    /// `${Name}`: a parameter, logical ID, pseudo parameter or variable.
    Ref(String),
    /// `${Name.Attribute}`: a resource attribute.
    GetAtt(String, String),
}

/// Splits a `Fn::Sub` template into typed parts.
///
/// # Errors
/// A message when a `${` is never closed or encloses nothing.
pub fn parse_sub(template: &str) -> Result<Vec<SubPart>, String> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(|| format!("unclosed ${{ in Fn::Sub string {template:?}"))?;
        let inner = &after[..end];
        if let Some(literal) = inner.strip_prefix('!') {
            text.push_str("${");
            text.push_str(literal);
            text.push('}');
        } else {
            if inner.trim().is_empty() {
                return Err(format!("empty ${{}} in Fn::Sub string {template:?}"));
            }
            if !text.is_empty() {
                parts.push(SubPart::Text(std::mem::take(&mut text)));
            }
            match inner.split_once('.') {
                Some((id, attr)) if !inner.starts_with("AWS::") => parts.push(SubPart::GetAtt(id.into(), attr.into())),
                _ => parts.push(SubPart::Ref(inner.into())),
            }
        }
        rest = &after[end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(SubPart::Text(text));
    }
    Ok(parts)
}

/// Checks every reference in a serialized template.
///
/// Returns one message per dangling reference, naming the reference and where it occurs;
/// empty when the template is consistent.
#[must_use]
pub fn check(template: &Value) -> Vec<String> {
    let names = |key: &str| -> BTreeSet<String> {
        template.get(key).and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default()
    };
    let resources = names("Resources");
    let parameters = names("Parameters");
    let conditions = names("Conditions");
    let mut errors = Vec::new();
    for id in &resources {
        if !LogicalId::is_valid(id) {
            errors.push(format!("logical ID {id:?} is not 1..255 ASCII letters and digits"));
        }
    }
    let ctx = Ctx { resources: &resources, parameters: &parameters, conditions: &conditions };
    if let Some(res) = template.get("Resources").and_then(Value::as_object) {
        for (id, r) in res {
            let at = format!("Resources.{id}");
            if let Some(deps) = r.get("DependsOn") {
                let list: Vec<&Value> = deps.as_array().map(|a| a.iter().collect()).unwrap_or_else(|| vec![deps]);
                for d in list {
                    let d = d.as_str().unwrap_or_default();
                    if !resources.contains(d) {
                        errors.push(format!("{at}.DependsOn names {d:?}, which is not a resource of this template"));
                    }
                }
            }
            if let Some(c) = r.get("Condition").and_then(Value::as_str) {
                if !conditions.contains(c) {
                    errors.push(format!("{at}.Condition names {c:?}, which is not a condition of this template"));
                }
            }
            walk(r.get("Properties").unwrap_or(&Value::Null), &format!("{at}.Properties"), &ctx, &mut errors);
        }
    }
    for key in ["Outputs", "Conditions"] {
        walk(template.get(key).unwrap_or(&Value::Null), key, &ctx, &mut errors);
    }
    errors
}

struct Ctx<'a> {
    resources: &'a BTreeSet<String>,
    parameters: &'a BTreeSet<String>,
    conditions: &'a BTreeSet<String>,
}

impl Ctx<'_> {
    fn is_ref_target(&self, name: &str) -> bool {
        self.resources.contains(name) || self.parameters.contains(name) || PSEUDO_PARAMETERS.contains(&name)
    }
}

fn walk(v: &Value, at: &str, ctx: &Ctx<'_>, errors: &mut Vec<String>) {
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}[{i}]"), ctx, errors);
            }
        }
        Value::Object(m) => {
            if m.len() == 1 {
                if let Some(Value::String(name)) = m.get("Ref") {
                    if !ctx.is_ref_target(name) {
                        errors.push(format!("{at}: Ref {name:?} names no resource, parameter or pseudo parameter"));
                    }
                    return;
                }
                if let Some(args) = m.get("Fn::GetAtt") {
                    let id = args.get(0).and_then(Value::as_str).unwrap_or_default();
                    if !ctx.resources.contains(id) {
                        errors.push(format!("{at}: Fn::GetAtt names {id:?}, which is not a resource of this template"));
                    }
                    return;
                }
                if let Some(args) = m.get("Fn::Sub") {
                    let (text, vars) = match args {
                        Value::String(s) => (s.as_str(), None),
                        Value::Array(a) => (a.first().and_then(Value::as_str).unwrap_or_default(), a.get(1)),
                        _ => ("", None),
                    };
                    let local: BTreeSet<String> =
                        vars.and_then(Value::as_object).map(|o| o.keys().cloned().collect()).unwrap_or_default();
                    match parse_sub(text) {
                        Err(e) => errors.push(format!("{at}: {e}")),
                        Ok(parts) => {
                            for p in parts {
                                match p {
                                    SubPart::Ref(n) if !local.contains(&n) && !ctx.is_ref_target(&n) => {
                                        errors.push(format!("{at}: Fn::Sub ${{{n}}} names no resource, parameter, pseudo parameter or variable"));
                                    }
                                    SubPart::GetAtt(id, attr)
                                        if !ctx.resources.contains(&id) && !local.contains(&format!("{id}.{attr}")) =>
                                    {
                                        errors.push(format!("{at}: Fn::Sub ${{{id}.{attr}}} names {id:?}, which is not a resource of this template"));
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                    if let Some(vars) = vars {
                        walk(vars, &format!("{at}.Fn::Sub"), ctx, errors);
                    }
                    return;
                }
                if let Some(args) = m.get("Fn::If") {
                    let c = args.get(0).and_then(Value::as_str).unwrap_or_default();
                    if !ctx.conditions.contains(c) {
                        errors.push(format!("{at}: Fn::If names condition {c:?}, which does not exist"));
                    }
                }
            }
            for (k, child) in m {
                walk(child, &format!("{at}.{k}"), ctx, errors);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sub_parts() {
        assert_eq!(
            parse_sub("arn:${AWS::Partition}:s3:::${Bucket}/${Fn.Arn}${!Literal}").unwrap_or_default(),
            vec![
                SubPart::Text("arn:".into()),
                SubPart::Ref("AWS::Partition".into()),
                SubPart::Text(":s3:::".into()),
                SubPart::Ref("Bucket".into()),
                SubPart::Text("/".into()),
                SubPart::GetAtt("Fn".into(), "Arn".into()),
                SubPart::Text("${Literal}".into()),
            ]
        );
        assert!(parse_sub("${open").is_err());
    }

    #[test]
    fn finds_every_dangling_reference() {
        let t = json!({
            "Parameters": {"P": {"Type": "String"}},
            "Resources": {
                "A": {"Type": "X", "Properties": {"X": {"Ref": "P"}, "Y": {"Ref": "AWS::Region"}, "Z": {"Fn::Sub": "${A.Arn}${P}"}}},
                "B": {"Type": "X", "DependsOn": ["Gone"], "Properties": {"X": {"Ref": "Nope"}, "Y": {"Fn::GetAtt": ["Missing", "Arn"]}, "Z": {"Fn::Sub": "${Lost}"}}}
            }
        });
        let errors = check(&t);
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors.iter().any(|e| e.contains("\"Gone\"")));
        assert!(errors.iter().any(|e| e.contains("\"Nope\"")));
        assert!(errors.iter().any(|e| e.contains("\"Missing\"")));
        assert!(errors.iter().any(|e| e.contains("${Lost}")));
    }
}
