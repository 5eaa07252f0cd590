//! Renderers of an [`Estimate`] (`sandboxc cost`: table, markdown, JSON) and of a
//! [`CostChange`] (the cost section of `sandboxc plan`).

use std::fmt::Write as _;

use serde::Serialize;

use super::usage::number;
use super::{CostChange, Estimate, Line};

/// Version of the `sandboxc cost --format json` document.
pub const COST_SCHEMA_VERSION: u32 = 1;

/// USD with two decimals and thousands separators: `$36,135.00`.
#[must_use]
pub fn usd(x: f64) -> String {
    let cents = (x.abs() * 100.0).round();
    let s = format!("{cents:.0}");
    let (int, frac) = if s.len() > 2 { s.split_at(s.len() - 2) } else { ("0", s.as_str()) };
    let frac = format!("{frac:0>2}");
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if x < 0.0 && cents > 0.0 { "-" } else { "" };
    format!("{sign}${grouped}.{frac}")
}

/// A signed USD amount: `+$12.00`, `-$3.50`, `$0.00`.
#[must_use]
pub fn delta(x: f64) -> String {
    if (x * 100.0).round() == 0.0 {
        "$0.00".into()
    } else if x > 0.0 {
        format!("+{}", usd(x))
    } else {
        usd(x)
    }
}

fn quantity(l: &Line) -> String {
    format!("{} {}", number(l.usage.quantity), l.unit)
}

fn unit_price(l: &Line) -> String {
    l.price.as_ref().map_or_else(|| "unknown".to_string(), |p| format!("{} USD/{}", p.usd, p.unit))
}

fn sku(l: &Line) -> String {
    l.price.as_ref().map_or_else(|| "-".to_string(), |p| p.sku.clone())
}

fn monthly(l: &Line) -> String {
    l.monthly_usd.map_or_else(|| "unknown".to_string(), usd)
}

fn header(s: &mut String, stack: &str, e: &Estimate) {
    let region = e.region.as_deref().unwrap_or("no Region (set `region` in the blueprint or pass --region)");
    let _ = writeln!(s, "sandboxc cost: stack {stack} in {region}, per month");
    let _ = writeln!(s, "prices: {}", e.prices);
    for o in &e.offers {
        let _ = writeln!(s, "  {} version {} published {} ({})", o.offer_code, o.version, o.publication_date, o.source);
    }
    let _ = writeln!(s, "assumptions (change them with the flags):");
    for (flag, value, meaning) in e.assumptions.lines() {
        let _ = writeln!(s, "  {flag} {value}  ({meaning})");
    }
}

fn total_line(e: &Estimate) -> String {
    if e.unknown_lines == 0 {
        format!("total: {} a month", usd(e.known_monthly_usd))
    } else {
        format!(
            "total of the known prices: {} a month; {} line(s) without a price are left out (unknown, not zero)",
            usd(e.known_monthly_usd),
            e.unknown_lines
        )
    }
}

/// The `sandboxc cost` table for a terminal: header, assumptions, one row per meter (service,
/// item, quantity, unit price, SKU, monthly), how each quantity was reached, the total.
#[must_use]
pub fn table(stack: &str, e: &Estimate) -> String {
    let mut s = String::new();
    header(&mut s, stack, e);
    let head = ["SERVICE", "ITEM", "QUANTITY", "UNIT PRICE", "SKU", "MONTHLY"];
    let rows: Vec<[String; 6]> = e
        .lines
        .iter()
        .map(|l| [l.service.clone(), l.item.clone(), quantity(l), unit_price(l), sku(l), monthly(l)])
        .collect();
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let pad = |cells: &[String]| {
        let mut out = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                let _ = write!(out, "{c:>w$}", w = width[i]);
            } else {
                let _ = write!(out, "{c:<w$}  ", w = width[i]);
            }
        }
        out.trim_end().to_string()
    };
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", pad(&head.map(String::from)));
    for (l, r) in e.lines.iter().zip(&rows) {
        let _ = writeln!(s, "{}", pad(r));
        let _ = writeln!(s, "    {}; {} resource(s)", l.usage.basis.join("; "), l.usage.resources.len());
        for u in &l.usage.unreadable {
            let _ = writeln!(s, "    not counted: {u}");
        }
        if let Some(why) = &l.price_unknown {
            let _ = writeln!(s, "    price unknown: {why}");
        }
    }
    let _ = writeln!(s, "\n{}", total_line(e));
    s
}

/// The `sandboxc cost` estimate as markdown (a pull-request comment or a report).
#[must_use]
pub fn markdown(stack: &str, e: &Estimate) -> String {
    let mut s = String::new();
    let region = e.region.as_deref().unwrap_or("no Region");
    let _ = writeln!(s, "### sandboxc cost: `{stack}` in {region}, per month\n");
    let _ = writeln!(s, "| Service | Item | Quantity | Unit price | SKU | Monthly |");
    let _ = writeln!(s, "|---|---|---:|---:|---|---:|");
    for l in &e.lines {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | `{}` | {} |",
            l.service,
            l.item,
            quantity(l),
            unit_price(l),
            sku(l),
            monthly(l)
        );
    }
    let _ = writeln!(s, "\n**{}**\n", total_line(e));
    let unknown: Vec<&Line> = e.lines.iter().filter(|l| l.price_unknown.is_some()).collect();
    if !unknown.is_empty() {
        let _ = writeln!(s, "Prices unknown:\n");
        for l in unknown {
            let _ = writeln!(s, "- {} {}: {}", l.service, l.item, l.price_unknown.as_deref().unwrap_or_default());
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "<details><summary>How the quantities were reached</summary>\n");
    for l in &e.lines {
        let _ = writeln!(
            s,
            "- {} {}: {} ({} resource(s))",
            l.service,
            l.item,
            l.usage.basis.join("; "),
            l.usage.resources.len()
        );
        for u in &l.usage.unreadable {
            let _ = writeln!(s, "  - not counted: {u}");
        }
    }
    let _ = writeln!(s, "\n</details>\n");
    let _ = writeln!(s, "Prices: {}.", e.prices);
    for o in &e.offers {
        let _ =
            writeln!(s, "- `{}` version {} published {} ({})", o.offer_code, o.version, o.publication_date, o.source);
    }
    let _ = writeln!(s, "\nAssumptions (flags of `sandboxc cost` and `sandboxc plan`):\n");
    for (flag, value, meaning) in e.assumptions.lines() {
        let _ = writeln!(s, "- `{flag} {value}`: {meaning}");
    }
    s
}

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    stack: &'a str,
    #[serde(flatten)]
    estimate: &'a Estimate,
}

/// The `sandboxc cost --format json` document: `schema_version` ([`COST_SCHEMA_VERSION`]),
/// `stack` and the [`Estimate`] fields.
#[must_use]
pub fn json(stack: &str, e: &Estimate) -> String {
    let doc = Document { schema_version: COST_SCHEMA_VERSION, stack, estimate: e };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}

fn total_pair(c: &CostChange) -> String {
    let unknown = c.new.unknown_lines.max(c.old.unknown_lines);
    let mut s = format!(
        "{} -> {} a month ({})",
        usd(c.old.known_monthly_usd),
        usd(c.new.known_monthly_usd),
        delta(c.delta_usd)
    );
    if unknown > 0 {
        let _ = write!(s, "; known prices only, {unknown} line(s) without a price left out");
    }
    s
}

/// The lines of the plan's text cost section (no heading): the monthly totals before and
/// after, then each meter that changes.
#[must_use]
pub fn change_text(c: &CostChange) -> Vec<String> {
    let mut out = vec![format!("monthly estimate: {}", total_pair(c))];
    for l in &c.changes {
        let money = match (l.old_monthly_usd, l.new_monthly_usd, l.delta_usd) {
            (_, _, Some(d)) => delta(d),
            _ => "price unknown".to_string(),
        };
        let price =
            l.price.as_ref().map_or_else(String::new, |p| format!(" at {} USD/{} (SKU {})", p.usd, p.unit, p.sku));
        out.push(format!(
            "{money:>13}  {} {}: {} -> {} {}{price}",
            l.service,
            l.item,
            number(l.old_quantity),
            number(l.new_quantity),
            l.unit
        ));
        if let Some(why) = &l.price_unknown {
            out.push(format!("{:15}price unknown: {why}", ""));
        }
    }
    let region = c.new.region.as_deref().unwrap_or("no Region");
    out.push(format!("prices: {} in {region}; `sandboxc cost` lists every line", c.new.prices));
    let assumptions: Vec<String> = c.new.assumptions.lines().iter().map(|(f, v, _)| format!("{f} {v}")).collect();
    out.push(format!("assumptions: {}", assumptions.join(", ")));
    out
}

/// The plan's markdown cost section (with its heading).
#[must_use]
pub fn change_markdown(c: &CostChange) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "### Monthly cost\n");
    let _ = writeln!(s, "{}\n", total_pair(c));
    if !c.changes.is_empty() {
        let _ = writeln!(s, "| Service | Item | Quantity | Unit price | SKU | Change |");
        let _ = writeln!(s, "|---|---|---:|---:|---|---:|");
        for l in &c.changes {
            let money = l.delta_usd.map_or_else(|| "price unknown".to_string(), delta);
            let (price, sku) = l.price.as_ref().map_or_else(
                || ("unknown".to_string(), "-".to_string()),
                |p| (format!("{} USD/{}", p.usd, p.unit), p.sku.clone()),
            );
            let _ = writeln!(
                s,
                "| {} | {} | {} -> {} {} | {price} | `{sku}` | {money} |",
                l.service,
                l.item,
                number(l.old_quantity),
                number(l.new_quantity),
                l.unit
            );
        }
        let _ = writeln!(s);
    }
    let region = c.new.region.as_deref().unwrap_or("no Region");
    let assumptions: Vec<String> = c.new.assumptions.lines().iter().map(|(f, v, _)| format!("`{f} {v}`")).collect();
    let _ = writeln!(s, "Prices: {} in {region}. Assumptions: {}.", c.new.prices, assumptions.join(", "));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_and_signed() {
        assert_eq!(usd(36135.0), "$36,135.00");
        assert_eq!(usd(0.004), "$0.00");
        assert_eq!(usd(1234567.891), "$1,234,567.89");
        assert_eq!(usd(-3.5), "-$3.50");
        assert_eq!(delta(12.0), "+$12.00");
        assert_eq!(delta(-0.001), "$0.00");
        assert_eq!(number(730.0), "730");
        assert_eq!(number(0.5), "0.5");
    }
}
