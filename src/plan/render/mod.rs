//! Renderers of a [`Plan`](super::Plan): [`text`] (terminal, optional ANSI colour),
//! [`markdown`] (pull-request comment) and [`json`] (machines; docs/plan-json.md).

pub mod json;
pub mod markdown;
pub mod text;

use serde_json::Value;

use super::disruption::DisruptionKind;
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

/// Whether `c` must not reach a terminal or a review page as itself: control characters
/// other than newline and tab (escape sequences could move the cursor, clear or hide lines)
/// and the Unicode bidirectional overrides and isolates, which reorder what a reviewer sees.
#[must_use]
pub fn is_hidden_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every [`is_hidden_control`] character written as `\u{..}`, so that values from
/// a template (which a pull request may have written) print as what they are.
#[must_use]
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_hidden_control) {
        return text.to_string();
    }
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        if is_hidden_control(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
        out
    })
}

/// The summary line: `2 to add, 1 to replace, ...; 3 security-relevant (1 relaxation); 1 data-loss risk`.
#[must_use]
pub fn summary_line(plan: &Plan) -> String {
    if !plan.changes {
        return "no changes".into();
    }
    let s: &Summary = &plan.summary;
    if let Some(n) = &plan.new_stack {
        return format!(
            "new stack: {} resource{} to create in {} template{}; {} risky grant{} flagged; {} data-loss risk{}",
            n.resources,
            plural(n.resources),
            n.stacks.len(),
            plural(n.stacks.len()),
            s.security,
            plural(s.security),
            s.data_loss,
            plural(s.data_loss)
        );
    }
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
    if !plan.disruption.is_empty() {
        let mut kinds: Vec<&str> = plan.disruption.iter().map(|d| disruption_headline(d.kind)).collect();
        kinds.dedup();
        line.push_str(&format!("; disruption: {}", kinds.join(", ")));
    }
    line
}

/// A few words for the summary line about a kind of disruption.
#[must_use]
pub fn disruption_headline(kind: DisruptionKind) -> &'static str {
    match kind {
        DisruptionKind::NetworkReplaced => "the VPC is replaced",
        DisruptionKind::FleetReplaced => "the fleet is replaced (sessions end)",
        DisruptionKind::FleetStops => "the fleet stops (sessions end)",
        DisruptionKind::AppStreamStackReplaced => "the AppStream stack is renamed",
        DisruptionKind::NotebookReplaced => "the notebook is replaced",
        DisruptionKind::NotebookRemoved => "a notebook leaves the stack",
        DisruptionKind::NotebookStops => "the notebook restarts",
        DisruptionKind::ValidatorInterrupted => "the validator pauses",
    }
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
    let multi_line = |v: &Option<Value>| v.as_ref().and_then(Value::as_str).is_some_and(|t| t.contains('\n'));
    let mut s = match (&c.old, &c.new, &c.possibly_because) {
        _ if !lines.is_empty() && (multi_line(&c.old) || multi_line(&c.new)) => {
            format!("{}: text changes, line by line below", path(&c.path))
        }
        _ if !lines.is_empty() => format!("{}: long text changes, the changed parts below", path(&c.path)),
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

/// Most lines shown for the diff of a multi-line or long string (a script in an SSM parameter,
/// a long policy string); the JSON plan holds both texts whole.
pub const MAX_TEXT_LINES: usize = 60;

/// Unchanged lines shown around each change of a multi-line string.
pub const CONTEXT_LINES: usize = 3;

/// Unchanged characters shown around each change of a long single-line string.
pub const CONTEXT_CHARS: usize = 40;

/// How long the diff of one value may take before it settles for a coarser result.
const DIFF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(1);

/// For a change between two multi-line strings, or two strings longer than [`MAX_VALUE`]: a
/// unified diff (the `similar` crate) as `(sign, text)` lines: `('@', "@@ -3,7 +3,8 @@")` hunk
/// headers, `(' ', context)`, `('-', removed)`, `('+', added)`. Multi-line strings are
/// compared by line with [`CONTEXT_LINES`] of context; long single-line strings by character,
/// each changed region shown with [`CONTEXT_CHARS`] of context as a `-` and a `+` line. Empty
/// for other values and for values that only possibly change.
#[must_use]
pub fn text_lines(c: &PropertyChange) -> Vec<(char, String)> {
    let (Some(Value::String(a)), Some(Value::String(b))) = (&c.old, &c.new) else { return Vec::new() };
    if c.possibly_because.is_some() || a == b {
        return Vec::new();
    }
    let mut out = if a.contains('\n') || b.contains('\n') {
        line_hunks(a, b)
    } else if a.chars().count() > MAX_VALUE || b.chars().count() > MAX_VALUE {
        char_hunks(a, b)
    } else {
        return Vec::new();
    };
    if out.len() > MAX_TEXT_LINES {
        let more = out.iter().skip(MAX_TEXT_LINES).filter(|(sign, _)| matches!(sign, '-' | '+')).count();
        out.truncate(MAX_TEXT_LINES);
        out.push((' ', format!("… {more} more changed lines (the JSON plan holds both texts)")));
    }
    out
}

fn line_hunks(a: &str, b: &str) -> Vec<(char, String)> {
    let diff = similar::TextDiff::configure().timeout(DIFF_TIMEOUT).diff_lines(a, b);
    let mut out = Vec::new();
    for group in diff.grouped_ops(CONTEXT_LINES) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let (old, new) = (first.old_range().start..last.old_range().end, first.new_range().start..last.new_range().end);
        out.push(('@', format!("@@ -{} +{} @@", hunk_range(&old), hunk_range(&new))));
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Equal => ' ',
                    similar::ChangeTag::Delete => '-',
                    similar::ChangeTag::Insert => '+',
                };
                out.push((sign, change.value().trim_end_matches(['\n', '\r']).to_string()));
            }
        }
    }
    out
}

/// `start,count` of a unified-diff hunk header (1-based; `start` is the line before for an
/// empty range).
fn hunk_range(r: &std::ops::Range<usize>) -> String {
    let len = r.end - r.start;
    let start = if len == 0 { r.start } else { r.start + 1 };
    format!("{start},{len}")
}

fn char_hunks(a: &str, b: &str) -> Vec<(char, String)> {
    let diff = similar::TextDiff::configure().timeout(DIFF_TIMEOUT).diff_chars(a, b);
    let mut out = Vec::new();
    for group in diff.grouped_ops(CONTEXT_CHARS) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let (old, new) = (first.old_range().start..last.old_range().end, first.new_range().start..last.new_range().end);
        let (mut before, mut after) = (String::new(), String::new());
        for op in &group {
            for change in diff.iter_changes(op) {
                match change.tag() {
                    similar::ChangeTag::Equal => {
                        before.push_str(change.value());
                        after.push_str(change.value());
                    }
                    similar::ChangeTag::Delete => before.push_str(change.value()),
                    similar::ChangeTag::Insert => after.push_str(change.value()),
                }
            }
        }
        let cut = |text: String, r: &std::ops::Range<usize>, total: usize| {
            let head = if r.start > 0 { "…" } else { "" };
            let tail = if r.end < total { "…" } else { "" };
            format!("{head}{text}{tail}")
        };
        out.push(('@', format!("@@ characters -{} +{} @@", hunk_range(&old), hunk_range(&new))));
        out.push(('-', cut(before, &old, a.chars().count())));
        out.push(('+', cut(after, &new, b.chars().count())));
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
        let expected: Vec<(char, String)> =
            [('@', "@@ -1,4 +1,5 @@"), (' ', "a"), ('-', "b"), ('+', "B"), (' ', "c"), (' ', "d"), ('+', "e")]
                .into_iter()
                .map(|(s, l)| (s, l.to_string()))
                .collect();
        assert_eq!(lines, expected);
        assert!(change_text(&c).starts_with("Value: text changes"));
    }

    #[test]
    fn far_apart_changes_of_a_long_script_get_hunks_with_context() {
        let old: String = (1..=400).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 10\n", "line ten\n").replace("line 390\n", "line 390\nline 390b\n");
        let c = PropertyChange {
            path: "Properties.Value".into(),
            old: Some(json!(old)),
            new: Some(json!(new)),
            replacement: Replacement::None,
            template_only: false,
            possibly_because: None,
            note: None,
        };
        let lines = text_lines(&c);
        let headers: Vec<&str> = lines.iter().filter(|(s, _)| *s == '@').map(|(_, l)| l.as_str()).collect();
        assert_eq!(headers, ["@@ -7,7 +7,7 @@", "@@ -388,6 +388,7 @@"]);
        assert_eq!(lines.iter().filter(|(s, _)| *s == ' ').count(), 12);
        assert!(lines.contains(&('+', "line 390b".to_string())));
    }

    #[test]
    fn a_long_single_line_value_shows_only_its_changed_part() {
        let old = format!("{}/team/*{}", "a".repeat(150), "z".repeat(150));
        let new = format!("{}/*{}", "a".repeat(150), "z".repeat(150));
        let c = PropertyChange {
            path: "Properties.PolicyText".into(),
            old: Some(json!(old)),
            new: Some(json!(new)),
            replacement: Replacement::None,
            template_only: false,
            possibly_because: None,
            note: None,
        };
        let lines = text_lines(&c);
        assert_eq!(lines.len(), 3, "{lines:?}");
        // The change is `team/` removed after the `/`: 40 characters of context either side.
        assert_eq!(lines[1], ('-', format!("…{}/team/*{}…", "a".repeat(39), "z".repeat(39))));
        assert_eq!(lines[2], ('+', format!("…{}/*{}…", "a".repeat(39), "z".repeat(39))));
        assert!(change_text(&c).contains("long text changes"));
    }
}
