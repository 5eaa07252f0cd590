//! The plan as a pull-request comment: summary counts, disruption (what stops, for how long),
//! warnings, security-relevant changes and data-loss risks first, then each stack's changes in
//! a collapsed `<details>` block (for a new stack, what it creates); kept under GitHub's
//! 65,536-character comment limit with a note when cut.

use std::fmt::Write;

use super::{change_sign, change_text, resource_header, summary_line, text_lines, value_change_text};
use crate::plan::creation::counts_text;
use crate::plan::diff::inner_summary;
use crate::plan::model::{Action, Direction, Plan, TemplateDiff, TemplateStatus};

/// GitHub's limit on a comment body.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// Room kept for the note about what was cut.
const NOTE_ROOM: usize = 1_000;

/// Escapes text for a table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|").replace('\n', " ").replace('<', "&lt;").replace('>', "&gt;")
}

/// Keeps fenced blocks intact whatever the values hold.
fn fenced(s: &str) -> String {
    s.replace("```", "`\u{200b}``")
}

/// `~` and `?` lines become `!` lines, which GitHub's diff highlighting marks as changed.
fn md_sign(line: &str) -> String {
    match line.split_at_checked(1) {
        Some(("~" | "?", rest)) => format!("!{rest}"),
        _ => line.to_string(),
    }
}

fn stack_block(t: &TemplateDiff) -> String {
    let mut body = String::new();
    if let Some(d) = &t.description {
        let _ = writeln!(body, "{}", md_sign(&value_change_text("description", d)));
    }
    for (kind, list) in [("parameter", &t.parameters), ("condition", &t.conditions), ("output", &t.outputs)] {
        for v in list {
            let _ = writeln!(body, "{}", md_sign(&value_change_text(kind, v)));
        }
    }
    let tags_only: Vec<&str> = t.resources.iter().filter(|r| r.tags_only()).map(|r| r.logical_id.as_str()).collect();
    for r in t.resources.iter().filter(|r| !r.tags_only()) {
        // diff syntax colours + and - lines; ! marks changes and replacements.
        // Lines starting with + and - show green and red; ! marks changes (orange).
        let header = resource_header(r);
        let line = match r.action {
            Action::Add | Action::Remove => header,
            _ => format!("! {header}"),
        };
        let _ = writeln!(body, "{line}");
        for n in &r.notes {
            let _ = writeln!(body, "      note: {n}");
        }
        for c in &r.changes {
            let _ = writeln!(body, "      {} {}", change_sign(c), change_text(c));
            // The sign in the first column lets GitHub colour the line.
            for (sign, line) in text_lines(c) {
                if sign == '@' {
                    let _ = writeln!(body, "{line}");
                } else {
                    let _ = writeln!(body, "{sign}         {line}");
                }
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
            body,
            "! tags only on {} resource{}: {}",
            tags_only.len(),
            if tags_only.len() == 1 { "" } else { "s" },
            tags_only.join(", ")
        );
        for line in tags {
            let _ = writeln!(body, "      {line}");
        }
    }
    let file = t.new_file.as_deref().or(t.old_file.as_deref()).unwrap_or_default();
    let status = match t.status {
        TemplateStatus::Added if t.logical_id_path.is_empty() => " — new stack",
        TemplateStatus::Added => " — new nested stack",
        TemplateStatus::Removed => " — nested stack removed",
        _ => "",
    };
    let id = if t.logical_id_path.is_empty() {
        String::new()
    } else {
        format!(" (<code>{}</code>)", cell(&t.logical_id_path))
    };
    format!(
        "<details><summary><b>{}</b>{id}{status}: {}</summary>\n\n<code>{}</code>\n\n```diff\n{}```\n\n</details>\n\n",
        cell(&t.stack),
        cell(&inner_summary(t)),
        cell(file),
        fenced(&body)
    )
}

/// Renders the plan as GitHub-flavoured markdown, under [`GITHUB_COMMENT_LIMIT`] characters.
#[must_use]
pub fn render(plan: &Plan) -> String {
    render_with_limit(plan, GITHUB_COMMENT_LIMIT)
}

/// [`render`] with another limit (in characters), for tests.
#[must_use]
pub fn render_with_limit(plan: &Plan, limit: usize) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "### sandboxc plan: `{}`\n", cell(&plan.new_stack_name));
    let _ = writeln!(head, "Compared with {}.\n", cell(&plan.base));
    if !plan.changes {
        let _ = writeln!(head, "**No changes.**");
        if let Some(c) = &plan.cost {
            let _ = writeln!(head, "\n{}", crate::cost::render::change_markdown(c).replace("### ", "#### "));
        }
        return head;
    }
    let s = &plan.summary;
    let _ = writeln!(head, "**{}**\n", cell(&summary_line(plan)));
    let _ = writeln!(head, "| add | update | replace | possibly replaced | remove | template only | security (relaxed) | data-loss risks |");
    let _ = writeln!(head, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        head,
        "| {} | {} | {} | {} | {} | {} | {} ({}) | {} |\n",
        s.add,
        s.update,
        s.replace,
        s.possible_replace,
        s.remove,
        s.template_only,
        s.security,
        s.relaxations,
        s.data_loss
    );
    if !plan.access.is_empty() {
        let _ = writeln!(head, "#### Who can reach what\n");
        let _ = writeln!(head, "| | change | what |");
        let _ = writeln!(head, "|---|---|---|");
        for a in &plan.access {
            let tag = match a.direction {
                Direction::Relaxed => ":red_circle: **relaxed**",
                Direction::Changed => ":yellow_circle: changed",
                Direction::Tightened => ":green_circle: tightened",
            };
            let kind =
                serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let _ = writeln!(head, "| {tag} | {} | {} |", cell(&kind.replace('_', " ")), cell(&a.summary));
        }
        head.push('\n');
    }
    if !plan.disruption.is_empty() {
        let _ = writeln!(head, "#### :stop_sign: Disruption\n");
        let _ = writeln!(head, "| stack | resource | what stops or is replaced | for how long | what to do |");
        let _ = writeln!(head, "|---|---|---|---|---|");
        for d in &plan.disruption {
            let _ = writeln!(
                head,
                "| {} | `{}` | {} | {} | {} |",
                cell(&d.stack),
                cell(&d.logical_id),
                cell(&d.what),
                cell(&d.duration),
                cell(&d.advice)
            );
        }
        head.push('\n');
    }
    if let Some(n) = &plan.new_stack {
        let _ = writeln!(head, "#### New stack: what it creates\n");
        let _ = writeln!(head, "| stack | resources | types |");
        let _ = writeln!(head, "|---|---:|---|");
        for t in &n.stacks {
            let _ = writeln!(head, "| {} | {} | {} |", cell(&t.stack), t.resources, cell(&counts_text(&t.types)));
        }
        head.push('\n');
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(head, "#### :warning: Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(head, "- {}", cell(&w.to_string()));
        }
        head.push('\n');
    }
    if !plan.security.is_empty() {
        let title =
            if plan.new_stack.is_some() { "Risky grants of the new stack" } else { "Security-relevant changes" };
        let _ = writeln!(head, "#### {title}\n");
        let _ = writeln!(head, "| | stack | resource | change |");
        let _ = writeln!(head, "|---|---|---|---|");
        for c in &plan.security {
            let tag = match c.direction {
                Direction::Relaxed => ":red_circle: **relaxed**",
                Direction::Changed => ":yellow_circle: changed",
                Direction::Tightened => ":green_circle: tightened",
            };
            let _ = writeln!(head, "| {tag} | {} | `{}` | {} |", cell(&c.stack), cell(&c.logical_id), cell(&c.summary));
        }
        head.push('\n');
    }
    if !plan.data_loss.is_empty() {
        let _ = writeln!(head, "#### Data-loss risks\n");
        let _ = writeln!(head, "| | stack | resource | what happens |");
        let _ = writeln!(head, "|---|---|---|---|");
        for d in &plan.data_loss {
            let tag = if d.retained { ":yellow_circle: retained" } else { ":red_circle: **deleted**" };
            let _ = writeln!(head, "| {tag} | {} | `{}` | {} |", cell(&d.stack), cell(&d.logical_id), cell(&d.summary));
        }
        head.push('\n');
    }
    if !plan.files.is_empty() {
        let _ = writeln!(head, "#### Other files\n");
        for f in &plan.files {
            let _ = writeln!(head, "- `{}` {}: {}", cell(&f.file), f.status, cell(&f.note));
        }
        head.push('\n');
    }
    if let Some(c) = &plan.cost {
        let _ = writeln!(head, "{}", crate::cost::render::change_markdown(c).replace("### ", "#### "));
    }
    // A new stack: every resource is new, the counts above say what; the JSON plan lists each.
    let blocks: Vec<String> = if plan.new_stack.is_some() {
        Vec::new()
    } else {
        let _ = writeln!(head, "#### Changes per stack\n");
        plan.templates.iter().filter(|t| t.status != TemplateStatus::Unchanged).map(stack_block).collect()
    };
    let budget = limit.saturating_sub(NOTE_ROOM);
    let mut out = head;
    if out.chars().count() > budget {
        out = out.chars().take(budget).collect();
        let _ = write!(out, "\n\n*… cut here to stay under GitHub's {limit}-character comment limit; every stack's details are omitted. Run `sandboxc plan --format text` or read the JSON plan (`--out plan.json`) for the whole plan.*\n");
        return out;
    }
    let mut used = out.chars().count();
    let mut omitted = Vec::new();
    for (b, t) in blocks.iter().zip(plan.templates.iter().filter(|t| t.status != TemplateStatus::Unchanged)) {
        let n = b.chars().count();
        if omitted.is_empty() && used + n <= budget {
            out.push_str(b);
            used += n;
        } else {
            omitted.push(t.stack.clone());
        }
    }
    if !omitted.is_empty() {
        let _ = writeln!(
            out,
            "*… cut to stay under GitHub's {limit}-character comment limit: the details of {} stack{} ({}) are omitted. Run `sandboxc plan --format text` or read the JSON plan (`--out plan.json`) for the whole plan.*",
            omitted.len(),
            if omitted.len() == 1 { "" } else { "s" },
            omitted.join(", ")
        );
    }
    out
}
