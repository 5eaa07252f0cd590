//! `sandboxc cost`: the blueprint compiled in memory, priced by the cost engine
//! (`crate::cost`) from the shipped price snapshot or `--prices DIR`; and the cost section
//! `sandboxc plan` attaches to a plan (both template sets priced alike).

use std::path::Path;

use super::args::{CostArgs, CostFormat, CostOptions};
use super::error::CliError;
use super::plan::new_output;
use super::{Context, ExitStatus};
use crate::cfn::Template;
use crate::cost::{self, CostChange, PriceBook};
use crate::plan::TemplateSet;

/// The templates of a set in manifest order, each labelled by its manifest `stack` label
/// (`network`, `root`...), else its file name.
#[must_use]
pub fn templates(set: &TemplateSet) -> Vec<(&str, &Template)> {
    set.order.iter().filter_map(|f| set.templates.get(f).map(|t| (set.label(f).unwrap_or(f.as_str()), t))).collect()
}

/// The price book of `options` for `region`, with every offer `sets` need read.
///
/// # Errors
/// [`CliError`] for offer files that are missing or malformed (naming the file).
pub fn book(options: &CostOptions, region: Option<&str>, sets: &[&TemplateSet]) -> Result<PriceBook, CliError> {
    let assumptions = options.assumptions()?;
    let meters: Vec<cost::Meter> = sets.iter().flat_map(|s| cost::meters(templates(s), &assumptions)).collect();
    priced(options.prices.as_deref(), region, &meters)
}

/// Refuses a `--prices` that is not a directory (before any other work).
///
/// # Errors
/// [`CliError`] naming the path.
pub fn check_prices_dir(prices: Option<&Path>) -> Result<(), CliError> {
    match prices {
        Some(dir) if !dir.is_dir() => Err(CliError::new(format!(
            "--prices {}: not a directory (it holds the AWS Price List offer files, one per service)",
            dir.display()
        ))),
        _ => Ok(()),
    }
}

/// The price book of `--prices DIR` (else the shipped snapshot) for `region`, with the offers
/// `meters` need read.
///
/// # Errors
/// [`CliError`] for a `--prices` that is not a directory, and for offer files that are missing
/// or malformed (naming the file).
pub fn priced(prices: Option<&Path>, region: Option<&str>, meters: &[cost::Meter]) -> Result<PriceBook, CliError> {
    check_prices_dir(prices)?;
    let mut book = match prices {
        Some(dir) => PriceBook::dir(dir, region),
        None => PriceBook::snapshot(region).map_err(|e| CliError::new(e.to_string()))?,
    };
    book.load(meters).map_err(|e| CliError::new(format!("cannot read the prices: {e}")))?;
    Ok(book)
}

/// What the change from `old` to `new` does to the monthly bill, both priced in `region`.
///
/// # Errors
/// [`CliError`] for invalid assumptions and unreadable offer files.
pub fn change(
    old: &TemplateSet,
    new: &TemplateSet,
    region: Option<&str>,
    options: &CostOptions,
) -> Result<CostChange, CliError> {
    let assumptions = options.assumptions()?;
    let book = book(options, region, &[old, new])?;
    Ok(cost::compare(
        cost::estimate(templates(old), &assumptions, &book),
        cost::estimate(templates(new), &assumptions, &book),
    ))
}

/// The Region whose prices an offline estimate uses: `--region` (refused when unknown or when
/// it contradicts the blueprint), else the blueprint's `region`, else the environment's
/// `AWS_REGION` or `AWS_DEFAULT_REGION` (as the AWS CLI and SDKs read them; no profile file
/// and no network call); `None` when none is set.
///
/// # Errors
/// [`CliError`] for an unknown Region name (with its source) or a contradiction.
pub fn pricing_region(flag: Option<&str>, pinned: Option<&str>) -> Result<Option<String>, CliError> {
    if let Some(flag) = flag {
        super::args::known_region("--region", flag)?;
        if let Some(pinned) = pinned.filter(|p| *p != flag) {
            return Err(CliError::new(format!(
                "--region {flag} contradicts the blueprint's `region: {pinned}`: drop --region, or change `region` in the blueprint"
            )));
        }
        return Ok(Some(flag.to_string()));
    }
    if let Some(pinned) = pinned {
        return Ok(Some(pinned.to_string()));
    }
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Some(v) = std::env::var(var).ok().filter(|v| !v.is_empty()) {
            super::args::known_region(var, &v)?;
            return Ok(Some(v));
        }
    }
    Ok(None)
}

/// `sandboxc cost`.
///
/// # Errors
/// [`CliError`]: an invalid blueprint, a `--region` contradicting it, bad assumptions or
/// unreadable offer files.
pub fn run(args: &CostArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let (blueprint, set) = new_output(args.blueprint.as_deref())?;
    let region = pricing_region(args.region.as_deref(), blueprint.region.as_deref())?;
    let assumptions = args.cost.assumptions()?;
    let book = book(&args.cost, region.as_deref(), &[&set])?;
    let estimate = cost::estimate(templates(&set), &assumptions, &book);
    let rendered = match args.format {
        CostFormat::Table => cost::render::table(&set.stack_name, &estimate),
        CostFormat::Markdown => cost::render::markdown(&set.stack_name, &estimate),
        CostFormat::Json => cost::render::json(&set.stack_name, &estimate),
    };
    if !ctx.quiet {
        ctx.say(rendered.trim_end());
    }
    Ok(ExitStatus::Success)
}
