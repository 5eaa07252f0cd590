//! Renderers of a [`Plan`](super::Plan): [`text`] (terminal, optional ANSI colour),
//! [`markdown`] (pull-request comment) and [`json`] (machines; docs/plan-json.md).

pub mod json;
pub mod markdown;
pub mod text;

use serde_json::Value;

use super::model::{Plan, PropertyChange, Replacement, ResourceChange, Summary, ValueChange};
use super::resolve::same;
use crate::cfn::{Expr, Scope};

/// A JSON value of the plan on one line (see [`compact_expr`]).
#[must_use]
pub fn compact(v: &Value, max: usize) -> String {
    compact_expr(&Expr::parse(v, &Scope::empty()), max)
}

/// A value on one line, intrinsic functions in their short YAML-like form (`!Ref Vpc`,
/// `!GetAtt Vpc.CidrBlock`, `!Sub '...'`), cut to about `max` characters.
#[must_use]
pub fn compact_expr(v: &Expr, max: usize) -> String {
    let mut s = String::new();
    short(v, &mut s);
    if s.chars().count() > max {
        let total = s.chars().count();
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}… ({total} characters)")
    } else {
        s
    }
}

fn short(v: &Expr, out: &mut String) {
    match v {
        Expr::Ref(t) => {
            out.push_str("!Ref ");
            out.push_str(t.name());
        }
        Expr::GetAtt(id, attr) => out.push_str(&format!("!GetAtt {id}.{attr}")),
        Expr::Sub(sub) if sub.vars().is_empty() => out.push_str(&format!("!Sub {}", Value::String(sub.text()))),
        Expr::Map(m) => plain_object(m.iter(), out),
        Expr::List(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                short(x, out);
            }
            out.push(']');
        }
        call => match call.call() {
            Some((name, arg)) => match name.strip_prefix("Fn::") {
                Some(short_name) => {
                    out.push('!');
                    out.push_str(short_name);
                    out.push(' ');
                    short(&arg, out);
                }
                None => plain_object(std::iter::once((&name.to_string(), &arg)), out),
            },
            None => out.push_str(&call.to_value().to_string()),
        },
    }
}

fn plain_object<'e>(m: impl Iterator<Item = (&'e String, &'e Expr)>, out: &mut String) {
    out.push('{');
    for (i, (k, x)) in m.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push_str(": ");
        short(x, out);
    }
    out.push('}');
}

/// Longest value shown in text and markdown (the JSON plan holds every value whole).
pub const MAX_VALUE: usize = 200;

/// The summary line: `2 to add, 1 to replace, ...; 3 security-relevant (1 relaxation); 1 data-loss risk`.
#[must_use]
pub fn summary_line(plan: &Plan) -> String {
    if !plan.changes {
        return "no changes".into();
    }
    let s: &Summary = &plan.summary;
    let mut parts = Vec::new();
    for (n, what) in [
        (s.add, "to add"),
        (s.update, "to update"),
        (s.replace, "to replace"),
        (s.possible_replace, "possibly replaced"),
        (s.remove, "to remove"),
        (s.template_only, "template-only"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if parts.is_empty() {
        parts.push("no resource changes".into());
    }
    let mut line = parts.join(", ");
    line.push_str(&format!(
        "; {} security-relevant change{} ({} relaxation{}); {} data-loss risk{}",
        s.security,
        plural(s.security),
        s.relaxations,
        plural(s.relaxations),
        s.data_loss,
        plural(s.data_loss)
    ));
    if !plan.files.is_empty() {
        line.push_str(&format!("; {} other file{} changed", plan.files.len(), plural(plan.files.len())));
    }
    if s.access > 0 {
        let relaxed = plan.access.iter().filter(|a| a.direction == super::model::Direction::Relaxed).count();
        line =
            format!("{} access change{} ({relaxed} relaxation{}); {line}", s.access, plural(s.access), plural(relaxed));
    }
    line
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A property path for people: without the `Properties.` prefix.
#[must_use]
pub fn path(p: &str) -> &str {
    p.strip_prefix("Properties.").unwrap_or(p)
}

/// The sign of a property change: `+` added, `-` removed, `?` possibly changed, `~` changed.
#[must_use]
pub fn change_sign(c: &PropertyChange) -> &'static str {
    match (&c.old, &c.new) {
        _ if c.possibly_because.is_some() => "?",
        (None, Some(_)) => "+",
        (Some(_), None) => "-",
        _ => "~",
    }
}

/// One property change, without colour: `CidrBlock: "10.10.0.0/16" -> "10.20.0.0/16"  [create-only: replacement]`.
#[must_use]
pub fn change_text(c: &PropertyChange) -> String {
    let show = |v: &Option<Value>| v.as_ref().map_or_else(|| "(absent)".to_string(), |v| compact(v, MAX_VALUE));
    let lines = text_lines(c);
    let mut s = match (&c.old, &c.new, &c.possibly_because) {
        _ if !lines.is_empty() => format!("{}: text changes, line by line below", path(&c.path)),
        (_, Some(n), Some(why)) => format!("{}: {} possibly changed ({why})", path(&c.path), compact(n, MAX_VALUE)),
        (None, Some(n), None) => format!("{}: {}", path(&c.path), compact(n, MAX_VALUE)),
        (Some(o), None, None) => format!("{}: {} (removed)", path(&c.path), compact(o, MAX_VALUE)),
        (o, n, _) => format!("{}: {} -> {}", path(&c.path), show(o), show(n)),
    };
    match c.replacement {
        Replacement::Certain => s.push_str("  [create-only: requires replacement]"),
        Replacement::Possible => s.push_str("  [create-only: replacement if the value changes]"),
        Replacement::Impossible if c.possibly_because.is_some() => {
            s.push_str("  [cannot change: the update fails if the value changes]")
        }
        Replacement::Impossible => s.push_str("  [cannot change: the update fails]"),
        Replacement::None if c.template_only => s.push_str("  [template only]"),
        Replacement::None => {}
    }
    if let Some(n) = &c.note {
        s.push_str(&format!("  — {n}"));
    }
    s
}

/// Most changed lines shown for a multi-line string (a script in an SSM parameter).
pub const MAX_TEXT_LINES: usize = 60;

/// For a change between two multi-line strings: the changed lines, `('-', line)` and
/// `('+', line)`, with `(' ', "…")` between hunks; empty for other values.
#[must_use]
pub fn text_lines(c: &PropertyChange) -> Vec<(char, String)> {
    let (Some(Value::String(a)), Some(Value::String(b))) = (&c.old, &c.new) else { return Vec::new() };
    if !(a.contains('\n') || b.contains('\n')) || c.possibly_because.is_some() {
        return Vec::new();
    }
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let (n, m) = (a.len(), b.len());
    if n.saturating_mul(m) > 4_000_000 {
        return vec![(' ', format!("({n} -> {m} lines; too long to compare line by line)"))];
    }
    // Longest common subsequence, then a walk that emits removals before additions.
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] =
                if a[i] == b[j] { lcs[at(i + 1, j + 1)] + 1 } else { lcs[at(i + 1, j)].max(lcs[at(i, j + 1)]) };
        }
    }
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    let mut last_changed = true;
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            i += 1;
            j += 1;
            last_changed = false;
            continue;
        }
        if !last_changed && !out.is_empty() {
            out.push((' ', "…".to_string()));
        }
        last_changed = true;
        if j >= m || (i < n && lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            out.push(('-', a[i].to_string()));
            i += 1;
        } else {
            out.push(('+', b[j].to_string()));
            j += 1;
        }
    }
    if out.len() > MAX_TEXT_LINES {
        let more = out.len() - MAX_TEXT_LINES;
        out.truncate(MAX_TEXT_LINES);
        out.push((' ', format!("… {more} more changed lines (the JSON plan holds both texts)")));
    }
    out
}

/// One changed parameter, condition, output or description, with its sign (`+`, `-`, `~`,
/// `?`): `~ output SubnetIds.Value: a -> b`. Of a declaration changed in place only the fields
/// that differ are shown.
#[must_use]
pub fn value_change_text(kind: &str, v: &ValueChange) -> String {
    let name = if kind == "description" { String::new() } else { format!(" {}", v.name) };
    match (&v.old, &v.new, &v.possibly_because) {
        (_, Some(n), Some(why)) => format!("? {kind}{name}: {} possibly changed ({why})", compact(n, MAX_VALUE)),
        (None, Some(n), None) => format!("+ {kind}{name}: {}", compact(n, MAX_VALUE)),
        (Some(o), None, None) => format!("- {kind}{name}: {}", compact(o, MAX_VALUE)),
        (Some(Value::Object(o)), Some(Value::Object(n)), None) => {
            let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            let show = |x: Option<&Value>| x.map_or_else(|| "(absent)".to_string(), |x| compact(x, MAX_VALUE));
            let parts: Vec<String> = keys
                .into_iter()
                .filter(|k| {
                    let expr = |v: &Value| Expr::parse(v, &Scope::empty());
                    !matches!((o.get(*k), n.get(*k)), (Some(a), Some(b)) if same(&expr(a), &expr(b)))
                })
                .map(|k| format!("{k}: {} -> {}", show(o.get(k)), show(n.get(k))))
                .collect();
            format!("~ {kind}{name}: {}", parts.join("; "))
        }
        (o, n, _) => {
            let show = |x: &Option<Value>| x.as_ref().map_or_else(|| "(absent)".to_string(), |x| compact(x, MAX_VALUE));
            format!("~ {kind}{name}: {} -> {}", show(o), show(n))
        }
    }
}

/// The header of a resource: `± Vpc (AWS::EC2::VPC): replacement`.
#[must_use]
pub fn resource_header(r: &ResourceChange) -> String {
    format!("{} {} ({}): {}", r.action.sign(), r.logical_id, r.resource_type, r.impact.describe())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_forms() {
        assert_eq!(compact(&json!({"Ref": "Vpc"}), 100), "!Ref Vpc");
        assert_eq!(compact(&json!({"Fn::GetAtt": ["Vpc", "CidrBlock"]}), 100), "!GetAtt Vpc.CidrBlock");
        assert_eq!(compact(&json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}), 100), "!Select [0, !GetAZs \"\"]");
        assert!(compact(&json!("x".repeat(300)), 50).contains("(302 characters)"));
    }

    #[test]
    fn multi_line_strings_diff_by_line() {
        let c = PropertyChange {
            path: "Properties.Value".into(),
            old: Some(json!("a\nb\nc\nd\n")),
            new: Some(json!("a\nB\nc\nd\ne\n")),
            replacement: Replacement::None,
            template_only: false,
            possibly_because: None,
            note: None,
        };
        let lines = text_lines(&c);
        assert_eq!(lines, vec![('-', "b".into()), ('+', "B".into()), (' ', "…".into()), ('+', "e".into())]);
        assert!(change_text(&c).starts_with("Value: text changes"));
    }
}
