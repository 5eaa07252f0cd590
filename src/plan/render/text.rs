//! The plan for a terminal: summary, then disruption (what stops, for how long), warnings,
//! security and data loss, then every stack's changes (for a new stack, what it creates).
//! ANSI colour only when asked (the CLI asks on a terminal without NO_COLOR).

use std::fmt::Write;

use super::{change_sign, change_text, resource_header, summary_line, text_lines, value_change_text};
use crate::plan::creation::counts_text;
use crate::plan::diff::inner_summary;
use crate::plan::model::{Action, Direction, Impact, Plan, TemplateStatus};

struct Painter(bool);

impl Painter {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// The colour codes [`Painter`] writes: the only escape sequences the output may hold.
const CODES: &[&str] = &["0", "1", "1;31", "1;35", "1;4", "31", "32", "33", "35", "36"];

/// Renders the plan as text. Control characters and bidirectional overrides of the plan's
/// values are written as `\u{..}` escapes; with `color`, only the colour sequences sandboxc
/// writes itself stay.
#[must_use]
pub fn render(plan: &Plan, color: bool) -> String {
    let raw = render_raw(plan, color);
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw.as_str();
    while let Some(i) = rest.find(|c: char| super::is_hidden_control(c)) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let own = CODES.iter().filter(|_| color).find_map(|code| {
            let seq = format!("\x1b[{code}m");
            tail.starts_with(&seq).then_some(seq.len())
        });
        match own {
            Some(n) => {
                out.push_str(&tail[..n]);
                rest = &tail[n..];
            }
            _ => {
                let c = tail.chars().next().unwrap_or(' ');
                out.push_str(&super::escape_controls(&c.to_string()));
                rest = &tail[c.len_utf8()..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn render_raw(plan: &Plan, color: bool) -> String {
    let p = Painter(color);
    let mut s = String::new();
    let _ =
        writeln!(s, "{}", p.paint("1", &format!("sandboxc plan: stack {} against {}", plan.new_stack_name, plan.base)));
    let _ = writeln!(s, "{}", summary_line(plan));
    for w in plan.warnings.iter().filter(|w| w.is_headline()) {
        let _ = writeln!(s, "{}", p.paint("1;31", &format!("! {w}")));
    }
    if !plan.changes {
        cost_section(&mut s, plan, &p);
        return s;
    }
    if !plan.access.is_empty() {
        let _ = writeln!(s, "\n{}", p.paint("1", "Who can reach what"));
        for a in &plan.access {
            let tag = match a.direction {
                Direction::Relaxed => p.paint("1;31", "RELAXED  "),
                Direction::Changed => p.paint("33", "changed  "),
                Direction::Tightened => p.paint("32", "tightened"),
            };
            let _ = writeln!(s, "  {tag} {}", a.summary);
        }
    }
    if !plan.disruption.is_empty() {
        let _ = writeln!(s, "\n{}", p.paint("1;35", "Disruption"));
        for d in &plan.disruption {
            let _ = writeln!(s, "  {} {}/{}: {}", p.paint("35", "!"), d.stack, d.logical_id, d.what);
            let _ = writeln!(s, "      for how long: {}", d.duration);
            let _ = writeln!(s, "      what to do: {}", d.advice);
        }
    }
    if let Some(n) = &plan.new_stack {
        let _ = writeln!(s, "\n{}", p.paint("1", "New stack: what it creates"));
        for t in &n.stacks {
            let _ = writeln!(s, "  {} ({}): {}", t.stack, t.resources, counts_text(&t.types));
        }
    }
    if plan.warnings.iter().any(|w| !w.is_headline()) {
        let _ = writeln!(s, "\n{}", p.paint("1;31", "Warnings"));
        for w in plan.warnings.iter().filter(|w| !w.is_headline()) {
            let _ = writeln!(s, "  ! {w}");
        }
    }
    if !plan.security.is_empty() {
        let title =
            if plan.new_stack.is_some() { "Risky grants of the new stack" } else { "Security-relevant changes" };
        let _ = writeln!(s, "\n{}", p.paint("1", title));
        for c in &plan.security {
            let tag = match c.direction {
                Direction::Relaxed => p.paint("1;31", "RELAXED  "),
                Direction::Changed => p.paint("33", "changed  "),
                Direction::Tightened => p.paint("32", "tightened"),
            };
            let _ = writeln!(s, "  {tag} {}/{}: {}", c.stack, c.logical_id, c.summary);
        }
    }
    if !plan.data_loss.is_empty() {
        let _ = writeln!(s, "\n{}", p.paint("1", "Data-loss risks"));
        for d in &plan.data_loss {
            let tag = if d.retained { p.paint("33", "retained") } else { p.paint("1;31", "DELETED ") };
            let _ = writeln!(s, "  {tag} {}/{}: {}", d.stack, d.logical_id, d.summary);
        }
    }
    if !plan.files.is_empty() {
        let _ = writeln!(s, "\n{}", p.paint("1", "Other files"));
        for f in &plan.files {
            let _ = writeln!(s, "  {} {}: {}", f.status, f.file, f.note);
        }
    }
    cost_section(&mut s, plan, &p);
    if plan.new_stack.is_some() {
        // Every resource is new: the counts above say what; the JSON plan lists each one.
        return s;
    }
    for t in plan.templates.iter().filter(|t| t.status != TemplateStatus::Unchanged) {
        let file = t.new_file.as_deref().or(t.old_file.as_deref()).unwrap_or_default();
        let id = if t.logical_id_path.is_empty() { String::new() } else { format!(" ({})", t.logical_id_path) };
        let status = match t.status {
            TemplateStatus::Added if t.logical_id_path.is_empty() => " [new stack]",
            TemplateStatus::Added => " [new nested stack]",
            TemplateStatus::Removed => " [nested stack removed]",
            _ => "",
        };
        let _ = writeln!(
            s,
            "\n{} {}{id}{status}: {}",
            p.paint("1;4", &format!("Stack {}", t.stack)),
            file,
            inner_summary(t)
        );
        if let Some(d) = &t.description {
            let _ = writeln!(s, "  {}", value_change_text("description", d));
        }
        for (kind, list) in [("parameter", &t.parameters), ("condition", &t.conditions), ("output", &t.outputs)] {
            for v in list {
                let _ = writeln!(s, "  {}", value_change_text(kind, v));
            }
        }
        let tags_only: Vec<&str> =
            t.resources.iter().filter(|r| r.tags_only()).map(|r| r.logical_id.as_str()).collect();
        for r in t.resources.iter().filter(|r| !r.tags_only()) {
            let color = match (r.action, r.impact) {
                (Action::Add, _) => "32",
                (Action::Remove, _) => "31",
                (_, Impact::CertainReplacement | Impact::PossibleReplacement) => "35",
                _ => "33",
            };
            let _ = writeln!(s, "  {}", p.paint(color, &resource_header(r)));
            for n in &r.notes {
                let _ = writeln!(s, "      note: {n}");
            }
            for c in &r.changes {
                let _ = writeln!(s, "      {} {}", change_sign(c), change_text(c));
                for (sign, text) in text_lines(c) {
                    let line =
                        if sign == '@' { format!("          {text}") } else { format!("          {sign} {text}") };
                    let _ = writeln!(
                        s,
                        "{}",
                        match sign {
                            '-' => p.paint("31", &line),
                            '+' => p.paint("32", &line),
                            '@' => p.paint("36", &line),
                            _ => line,
                        }
                    );
                }
            }
        }
        if !tags_only.is_empty() {
            let tags: std::collections::BTreeSet<String> = t
                .resources
                .iter()
                .filter(|r| r.tags_only())
                .flat_map(|r| r.changes.iter().map(|c| format!("{} {}", change_sign(c), change_text(c))))
                .collect();
            let _ = writeln!(
                s,
                "  {}",
                p.paint(
                    "33",
                    &format!(
                        "~ tags only on {} resource{}: {}",
                        tags_only.len(),
                        if tags_only.len() == 1 { "" } else { "s" },
                        tags_only.join(", ")
                    )
                )
            );
            for line in tags {
                let _ = writeln!(s, "      {line}");
            }
        }
    }
    s
}

/// The monthly cost section (when the command line priced both sides).
fn cost_section(s: &mut String, plan: &Plan, p: &Painter) {
    if let Some(c) = &plan.cost {
        let _ = writeln!(s, "\n{}", p.paint("1", "Monthly cost"));
        for line in crate::cost::render::change_text(c) {
            let _ = writeln!(s, "  {line}");
        }
    }
}
