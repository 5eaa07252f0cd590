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

/// Escapes text for a table cell: markdown's emphasis, code and link punctuation is written
/// literally and web addresses are not turned into links (a user ID such as
/// `__x__ http://example.com` shows as typed), HTML is not interpreted, and control
/// characters are `\u{..}` escapes.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::escape_controls(s).chars() {
        match c {
            '\n' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '|' | '*' | '_' | '`' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out.replace("://", ":\\/\\/").replace("www.", "www\\.")
}

/// Keeps fenced blocks intact whatever the values hold; control characters are `\u{..}`
/// escapes.
fn fenced(s: &str) -> String {
    super::escape_controls(s).replace("```", "`\u{200b}``")
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

/// The marker of a change's direction in a table.
fn tag(direction: Direction) -> &'static str {
    match direction {
        Direction::Relaxed => ":red_circle: **relaxed**",
        Direction::Changed => ":yellow_circle: changed",
        Direction::Tightened => ":green_circle: tightened",
    }
}

/// One section of the markdown plan: a heading (with a table header), its rows, and how many of
/// them are shown.
struct Section {
    /// Lower keeps its rows first when the comment must be cut.
    priority: u8,
    head: String,
    rows: Vec<String>,
    shown: usize,
}

impl Section {
    fn new(priority: u8, head: &str, rows: Vec<String>) -> Self {
        let shown = rows.len();
        Self { priority, head: head.to_string(), rows, shown }
    }

    fn render(&self, out: &mut String) {
        out.push_str(&self.head);
        for row in &self.rows[..self.shown] {
            out.push_str(row);
        }
        let lost = self.rows.len() - self.shown;
        if lost > 0 {
            let _ = writeln!(
                out,
                "\n*… {lost} more row{} cut (comment limit): see the JSON plan.*",
                if lost == 1 { "" } else { "s" }
            );
        }
        out.push('\n');
    }
}

/// Room a cut section's note takes.
const CUT_NOTE: usize = 80;

/// Shows as many rows as `room` characters allow, by section priority, every heading always;
/// true when anything was cut.
fn fit(sections: &mut [Section], room: usize) -> bool {
    let total: usize = sections
        .iter()
        .map(|s| s.head.chars().count() + 1 + s.rows.iter().map(|r| r.chars().count()).sum::<usize>())
        .sum();
    if total <= room {
        return false;
    }
    let mut left = room.saturating_sub(sections.iter().map(|s| s.head.chars().count() + 1 + CUT_NOTE).sum());
    let mut order: Vec<usize> = (0..sections.len()).collect();
    order.sort_by_key(|&i| sections[i].priority);
    for i in order {
        let section = &mut sections[i];
        section.shown = 0;
        for row in &section.rows {
            let n = row.chars().count();
            if n > left {
                break;
            }
            left -= n;
            section.shown += 1;
        }
    }
    true
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
        for w in plan.warnings.iter().filter(|w| w.is_headline()) {
            let _ = writeln!(head, "\n> [!WARNING]\n> {}", cell(&w.to_string()));
        }
        if let Some(c) = &plan.cost {
            let _ = writeln!(head, "\n{}", crate::cost::render::change_markdown(c).replace("### ", "#### "));
        }
        return head;
    }
    let s = &plan.summary;
    let _ = writeln!(head, "**{}**\n", cell(&summary_line(plan)));
    for w in plan.warnings.iter().filter(|w| w.is_headline()) {
        let _ = writeln!(head, "> [!WARNING]\n> {}\n", cell(&w.to_string()));
    }
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
    // Sections in display order; when they do not fit, rows are kept by priority (who can reach
    // what, data loss, disruption, warnings, security, new stack, files) and each cut section
    // says how many rows it lost.
    let mut sections: Vec<Section> = Vec::new();
    if !plan.access.is_empty() {
        let rows = plan
            .access
            .iter()
            .map(|a| {
                let kind =
                    serde_json::to_value(a.kind).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
                format!("| {} | {} | {} |\n", tag(a.direction), cell(&kind.replace('_', " ")), cell(&a.summary))
            })
            .collect();
        sections.push(Section::new(0, "#### Who can reach what\n\n| | change | what |\n|---|---|---|\n", rows));
    }
    if !plan.disruption.is_empty() {
        let rows = plan
            .disruption
            .iter()
            .map(|d| {
                format!(
                    "| {} | `{}` | {} | {} | {} |\n",
                    cell(&d.stack),
                    cell(&d.logical_id),
                    cell(&d.what),
                    cell(&d.duration),
                    cell(&d.advice)
                )
            })
            .collect();
        let head = "#### :stop_sign: Disruption\n\n| stack | resource | what stops or is replaced | for how long | what to do |\n|---|---|---|---|---|\n";
        sections.push(Section::new(2, head, rows));
    }
    if let Some(n) = &plan.new_stack {
        let rows = n
            .stacks
            .iter()
            .map(|t| format!("| {} | {} | {} |\n", cell(&t.stack), t.resources, cell(&counts_text(&t.types))))
            .collect();
        sections.push(Section::new(
            5,
            "#### New stack: what it creates\n\n| stack | resources | types |\n|---|---:|---|\n",
            rows,
        ));
    }
    if plan.warnings.iter().any(|w| !w.is_headline()) {
        let rows = plan
            .warnings
            .iter()
            .filter(|w| !w.is_headline())
            .map(|w| format!("- {}\n", cell(&w.to_string())))
            .collect();
        sections.push(Section::new(3, "#### :warning: Warnings\n\n", rows));
    }
    if !plan.security.is_empty() {
        let title =
            if plan.new_stack.is_some() { "Risky grants of the new stack" } else { "Security-relevant changes" };
        let rows = plan
            .security
            .iter()
            .map(|c| {
                format!(
                    "| {} | {} | `{}` | {} |\n",
                    tag(c.direction),
                    cell(&c.stack),
                    cell(&c.logical_id),
                    cell(&c.summary)
                )
            })
            .collect();
        sections.push(Section::new(
            4,
            &format!("#### {title}\n\n| | stack | resource | change |\n|---|---|---|---|\n"),
            rows,
        ));
    }
    if !plan.data_loss.is_empty() {
        let rows = plan
            .data_loss
            .iter()
            .map(|d| {
                let tag = if d.retained { ":yellow_circle: retained" } else { ":red_circle: **deleted**" };
                format!("| {tag} | {} | `{}` | {} |\n", cell(&d.stack), cell(&d.logical_id), cell(&d.summary))
            })
            .collect();
        sections.push(Section::new(
            1,
            "#### Data-loss risks\n\n| | stack | resource | what happens |\n|---|---|---|---|\n",
            rows,
        ));
    }
    if !plan.files.is_empty() {
        let rows =
            plan.files.iter().map(|f| format!("- `{}` {}: {}\n", cell(&f.file), f.status, cell(&f.note))).collect();
        sections.push(Section::new(6, "#### Other files\n\n", rows));
    }
    let cost = plan
        .cost
        .as_ref()
        .map(|c| format!("{}\n", crate::cost::render::change_markdown(c).replace("### ", "#### ")))
        .unwrap_or_default();
    let budget = limit.saturating_sub(NOTE_ROOM);
    let cut = fit(&mut sections, budget.saturating_sub(head.chars().count() + cost.chars().count()));
    for section in &sections {
        section.render(&mut head);
    }
    head.push_str(&cost);
    // A new stack: every resource is new, the counts above say what; the JSON plan lists each.
    let blocks: Vec<String> = if plan.new_stack.is_some() {
        Vec::new()
    } else {
        let _ = writeln!(head, "#### Changes per stack\n");
        plan.templates.iter().filter(|t| t.status != TemplateStatus::Unchanged).map(stack_block).collect()
    };
    let mut out = head;
    if cut {
        let _ = writeln!(out, "*… cut here to stay under GitHub's {limit}-character comment limit: the sections above lost the rows they say, and every stack's details are omitted. Run `sandboxc plan --format text` or read the JSON plan (`--out plan.json`) for the whole plan.*");
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

#[cfg(test)]
mod tests {
    #[test]
    fn cells_show_text_as_typed() {
        assert_eq!(
            super::cell("__init__ [x](http://evil.example) www.x <b>|\u{1b}\n*"),
            "\\_\\_init\\_\\_ \\[x\\](http:\\/\\/evil.example) www\\.x &lt;b&gt;\\|\\\\u{1b} \\*"
        );
    }
}
