//! Templates as YAML that every YAML reader takes the same way.
//!
//! serde_yaml writes plain scalars that YAML 1.2 reads back as strings but YAML 1.1 readers
//! (PyYAML, so cfn-lint and many CI tools) read as booleans, dates or numbers: `yes`, `on`,
//! `2010-09-09`, `1_000`. Here every string is quoted (JSON escaping, which YAML's double-quoted
//! style shares) or written as a literal block, so the YAML means what the JSON means.

use serde_json::Value;

use super::render::{ordered, Level};

/// Renders template `value` as YAML, keys in template order ([`super::render::ordered`]: the
/// same order as the JSON), two-space indentation.
#[must_use]
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if !m.is_empty() => mapping(m, Level::Template, 0, &mut out),
        Value::Array(a) if !a.is_empty() => sequence(a, 0, &mut out),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(indent: usize) -> String {
    " ".repeat(indent)
}

fn mapping(m: &serde_json::Map<String, Value>, level: Level, indent: usize, out: &mut String) {
    for (k, v) in ordered(m, level) {
        out.push_str(&pad(indent));
        out.push_str(&key(k));
        out.push(':');
        child(v, level.child(k), indent, out);
    }
}

fn sequence(a: &[Value], indent: usize, out: &mut String) {
    for v in a {
        out.push_str(&pad(indent));
        out.push('-');
        match v {
            // A mapping item starts on the dash's line: `- Key: value`.
            Value::Object(m) if !m.is_empty() => {
                let mut inner = String::new();
                mapping(m, Level::Other, indent + 2, &mut inner);
                out.push(' ');
                out.push_str(inner.trim_start());
            }
            _ => child(v, Level::Other, indent, out),
        }
    }
}

/// The value after `key:` or `-`: inline for scalars and empty collections, else on the next lines.
fn child(v: &Value, level: Level, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            mapping(m, level, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            sequence(a, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other, indent + 2));
            out.push('\n');
        }
    }
}

fn key(k: &str) -> String {
    let plain = k.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || ":_-.".contains(c))
        && !k.ends_with(':');
    if plain {
        k.to_string()
    } else {
        quoted(k)
    }
}

fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            if block_safe(s) {
                let chomp = if s.ends_with("\n\n") {
                    "+"
                } else if s.ends_with('\n') {
                    ""
                } else {
                    "-"
                };
                let body: Vec<String> = s
                    .trim_end_matches('\n')
                    .split('\n')
                    .map(|l| if l.is_empty() { String::new() } else { format!("{}{l}", pad(indent)) })
                    .collect();
                format!("|{chomp}\n{}", body.join("\n"))
            } else {
                quoted(s)
            }
        }
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Multi-line text that a literal block holds unchanged.
fn block_safe(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && !s.contains(['\r', '\t'])
        && s.chars().all(|c| !c.is_control() || c == '\n')
        && s.lines().all(|l| l == l.trim_end())
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_back_as_the_same_value() {
        let v = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Resources": {"A": {"Properties": {"Tags": [{"Key": "flag", "Value": "yes"}, {"Key": "n", "Value": "1_000"}], "Script": "line one\n  indented\n\nlast\n", "Empty": [], "E": {}, "N": 3, "B": false, "Z": null}}},
            "odd key: x": "tab\there",
            "List": [["a"], {"Fn::Sub": "${X}"}, "- dash", "#hash", "on"]
        });
        let text = to_yaml(&v);
        let back: Value = crate::blueprint::yaml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, v, "{text}");
        assert!(text.contains("Value: \"yes\""));
        assert!(text.contains("AWSTemplateFormatVersion: \"2010-09-09\""));
        assert!(text.contains("Script: |\n"));
    }
}
