//! `Fn::Sub`: the template string parsed once into typed parts (CloudFormation user guide,
//! "Fn::Sub"). `${Name}` is a variable of the function, a parameter, a resource or a pseudo
//! parameter; `${Id.Attribute}` is a resource attribute; `${!Literal}` is the text `${Literal}`.

use super::{CfnError, ExprMap, LogicalId, Scope, Target};

/// One part of a `Fn::Sub` template string.
#[derive(Debug, Clone, PartialEq)]
pub enum SubPart {
    /// Literal text (`${!x}` already turned into `${x}`).
    Text(String),
    /// `${Name}`: a resource, parameter or pseudo parameter.
    Ref(Target),
    /// `${Id.Attribute}`: a resource attribute.
    GetAtt(LogicalId, String),
    /// `${Name}` where `Name` is one of the function's own variables.
    Var(String),
}

/// A parsed `Fn::Sub`: the parts of its template string and its variables.
///
/// Invariant: no two text parts are adjacent and no text part is empty, so the parts render
/// back to exactly the string they were parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sub {
    parts: Vec<SubPart>,
    vars: ExprMap,
}

impl Sub {
    /// A `Fn::Sub` from typed parts (adjacent text parts merged, empty ones dropped) and variables.
    #[must_use]
    pub fn new(parts: Vec<SubPart>, vars: ExprMap) -> Self {
        let mut merged: Vec<SubPart> = Vec::with_capacity(parts.len());
        for p in parts {
            match (merged.last_mut(), p) {
                (_, SubPart::Text(t)) if t.is_empty() => {}
                (Some(SubPart::Text(prev)), SubPart::Text(t)) => prev.push_str(&t),
                (_, p) => merged.push(p),
            }
        }
        Self { parts: merged, vars }
    }

    /// Parses the template string `template` of a `Fn::Sub` with variables `vars`; names that
    /// are not variables are classified by `scope`.
    ///
    /// # Errors
    /// [`CfnError::Malformed`] when a `${` is never closed or encloses nothing.
    pub fn parse(template: &str, vars: ExprMap, scope: &Scope) -> Result<Self, CfnError> {
        let malformed = |problem: String| CfnError::Malformed { at: "Fn::Sub".into(), problem };
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            text.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or_else(|| {
                malformed(format!("unclosed ${{ in the string {template:?}: every ${{ needs a closing }} (write ${{!x}} for a literal ${{x}})"))
            })?;
            let inner = &after[..end];
            if let Some(literal) = inner.strip_prefix('!') {
                text.push_str("${");
                text.push_str(literal);
                text.push('}');
            } else {
                if inner.trim().is_empty() {
                    return Err(malformed(format!(
                        "empty ${{}} in the string {template:?}: name a parameter, resource, attribute or variable"
                    )));
                }
                parts.push(SubPart::Text(std::mem::take(&mut text)));
                parts.push(classify(inner, &vars, scope));
            }
            rest = &after[end + 1..];
        }
        text.push_str(rest);
        parts.push(SubPart::Text(text));
        Ok(Self::new(parts, vars))
    }

    /// The parts, in order.
    #[must_use]
    pub fn parts(&self) -> &[SubPart] {
        &self.parts
    }

    /// The variables (empty for the one-string form).
    #[must_use]
    pub fn vars(&self) -> &ExprMap {
        &self.vars
    }

    /// The variables, to change them.
    pub fn vars_mut(&mut self) -> &mut ExprMap {
        &mut self.vars
    }

    /// The template string, as written in the template.
    #[must_use]
    pub fn text(&self) -> String {
        let mut s = String::new();
        for p in &self.parts {
            match p {
                SubPart::Text(t) => s.push_str(&t.replace("${", "${!")),
                SubPart::Ref(t) => {
                    s.push_str("${");
                    s.push_str(t.name());
                    s.push('}');
                }
                SubPart::GetAtt(id, attr) => {
                    s.push_str("${");
                    s.push_str(id.as_str());
                    s.push('.');
                    s.push_str(attr);
                    s.push('}');
                }
                SubPart::Var(v) => {
                    s.push_str("${");
                    s.push_str(v);
                    s.push('}');
                }
            }
        }
        s
    }
}

/// What `${inner}` names: a variable first, then `Id.Attribute` (unless a pseudo parameter),
/// then a resource, parameter or pseudo parameter.
fn classify(inner: &str, vars: &ExprMap, scope: &Scope) -> SubPart {
    if vars.contains_key(inner) {
        return SubPart::Var(inner.to_string());
    }
    if !inner.starts_with("AWS::") {
        if let Some((id, attr)) = inner.split_once('.') {
            return match LogicalId::parse(id) {
                Some(id) => SubPart::GetAtt(id, attr.to_string()),
                None => SubPart::Ref(Target::Unresolved(inner.to_string())),
            };
        }
    }
    SubPart::Ref(scope.target(inner))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Expr, Pseudo};

    fn parse(text: &str) -> Result<Sub, CfnError> {
        Sub::parse(text, ExprMap::from([("V".to_string(), Expr::from("v"))]), &Scope::new(["Bucket"], ["Env"]))
    }

    #[test]
    fn parts_are_typed() {
        let sub = parse("arn:${AWS::Partition}:s3:::${Bucket}/${Env}/${Fn.Arn}${!Literal}${V}${Gone}")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sub.parts(),
            [
                SubPart::Text("arn:".into()),
                SubPart::Ref(Target::Pseudo(Pseudo::Partition)),
                SubPart::Text(":s3:::".into()),
                SubPart::Ref(Target::Resource(LogicalId::new("Bucket"))),
                SubPart::Text("/".into()),
                SubPart::Ref(Target::Parameter("Env".into())),
                SubPart::Text("/".into()),
                SubPart::GetAtt(LogicalId::new("Fn"), "Arn".into()),
                SubPart::Text("${Literal}".into()),
                SubPart::Var("V".into()),
                SubPart::Ref(Target::Unresolved("Gone".into())),
            ]
        );
        assert_eq!(sub.text(), "arn:${AWS::Partition}:s3:::${Bucket}/${Env}/${Fn.Arn}${!Literal}${V}${Gone}");
    }

    #[test]
    fn attributes_keep_their_dots_and_pseudo_parameters_are_not_attributes() {
        let sub = parse("${Stack.Outputs.X}${AWS::URLSuffix}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sub.parts(),
            [
                SubPart::GetAtt(LogicalId::new("Stack"), "Outputs.X".into()),
                SubPart::Ref(Target::Pseudo(Pseudo::UrlSuffix))
            ]
        );
        assert_eq!(sub.text(), "${Stack.Outputs.X}${AWS::URLSuffix}");
    }

    #[test]
    fn malformed_strings_are_errors() {
        for bad in ["${open", "a${}b", "${ }"] {
            assert!(matches!(parse(bad), Err(CfnError::Malformed { .. })), "{bad}");
        }
        assert!(parse("${open").is_err_and(|e| e.to_string().contains("unclosed")));
    }

    #[test]
    fn literal_escapes_render_back() {
        for text in ["${!A}", "${!!A}", "plain", "", "a$b}c", "$${A}", "x${!y}z${V}"] {
            let sub = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(sub.text(), text);
        }
    }
}
