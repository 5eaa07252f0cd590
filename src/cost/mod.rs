//! The cost engine: what a set of templates would cost in a month, and what a change adds or
//! saves. Pure: it is given the templates, the stated [`Assumptions`] and a [`PriceBook`]
//! (the shipped snapshot or offer files the command line reads); it never calls AWS.
//!
//! [`usage`] reads what the resources consume (fleet type and size, notebook instance types,
//! interface endpoints per Availability Zone, keys, trail data events, S3 storage),
//! [`prices`] finds each meter's product in the AWS Price List offer files ([`offers`]), and
//! [`render`] writes the `sandboxc cost` table, markdown and JSON. A price that is not in the
//! offers is never guessed: its line says why and the total leaves it out, counted. [`query`]
//! prices one Athena query's data scanned (not a monthly line).

pub mod offers;
pub mod prices;
pub mod query;
pub mod render;
pub mod usage;

use serde::Serialize;

pub use prices::{OfferInfo, Price, PriceBook};
pub use usage::{Meter, Usage};

use crate::cfn::Template;

/// Hours in a month on average (8,760 hours a year / 12), the convention of AWS's pricing
/// pages and calculator.
pub const HOURS_PER_MONTH: f64 = 730.0;

/// `usd` rounded to a millionth of a dollar: sums and products of binary floats carry noise
/// (`239.26000000000002`) that a reader of the JSON must not see; no offer file prices finer
/// than that per month of a line.
#[must_use]
pub fn round_usd(usd: f64) -> f64 {
    (usd * 1e6).round() / 1e6
}

/// Why prices could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CostError {
    /// `--prices DIR` lacks the offer file of a service the templates use.
    #[error("no {offer} offer file: looked for {}; download it from https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/{offer}/current/index.json (AWS Price List Bulk API) into one of those paths", tried.join(", "))]
    MissingOffer {
        /// The offer code.
        offer: String,
        /// The paths looked at.
        tried: Vec<String>,
    },
    /// An offer file that is not one.
    #[error("{file} is not an AWS Price List offer file: {why}")]
    Malformed {
        /// The file.
        file: String,
        /// What is wrong, with line and column where known.
        why: String,
    },
    /// An offer file of another service.
    #[error("{file} holds the offer {found}, not {expected}: save each service's offer file under its own offer code")]
    WrongOffer {
        /// The file.
        file: String,
        /// The offer code looked for.
        expected: String,
        /// The offer code found.
        found: String,
    },
}

/// The stated assumptions of an estimate: each is a command-line flag whose default is printed
/// with the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assumptions {
    /// Hours in a month (`--hours-per-month`), default [`HOURS_PER_MONTH`].
    pub hours_per_month: f64,
    /// Streaming hours per on-demand instance, or per elastic session, in a month
    /// (`--appstream-hours`), default 176 (8 hours on 22 working days).
    pub appstream_hours: f64,
    /// Running hours per notebook instance in a month (`--notebook-hours`), default
    /// [`HOURS_PER_MONTH`]: the notebooks the templates describe run until someone stops them.
    /// Used for notebooks without idle stop.
    pub notebook_hours: f64,
    /// Hours each user works in their notebook in a month (`--notebook-active-hours`), default
    /// 176 (8 hours on 22 working days). Used for notebooks with idle stop
    /// (`notebook.idle_stop`): each runs these hours, plus one idle time before it stops itself
    /// per 8 active hours (one working day), and at most the month.
    pub notebook_active_hours: f64,
    /// CloudTrail data events per trail with data-event selectors in a month
    /// (`--trail-data-events`), default 1,000,000.
    pub trail_data_events: f64,
    /// GB stored in S3 Standard across the sandbox's buckets (`--s3-gb`), default 100.
    pub s3_gb: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Self {
            hours_per_month: HOURS_PER_MONTH,
            appstream_hours: 176.0,
            notebook_hours: HOURS_PER_MONTH,
            notebook_active_hours: 176.0,
            trail_data_events: 1_000_000.0,
            s3_gb: 100.0,
        }
    }
}

impl Assumptions {
    /// Each assumption as `(flag, value, meaning)`, for the renderers.
    #[must_use]
    pub fn lines(&self) -> Vec<(&'static str, String, &'static str)> {
        vec![
            ("--hours-per-month", usage::number(self.hours_per_month), "hours in a month"),
            (
                "--appstream-hours",
                usage::number(self.appstream_hours),
                "streaming hours per ON_DEMAND instance or ELASTIC session",
            ),
            (
                "--notebook-hours",
                usage::number(self.notebook_hours),
                "running hours per notebook instance without idle stop",
            ),
            (
                "--notebook-active-hours",
                usage::number(self.notebook_active_hours),
                "hours of use per notebook with idle stop, which also runs one idle time per 8 of them",
            ),
            ("--trail-data-events", usage::number(self.trail_data_events), "data events per trail"),
            ("--s3-gb", usage::number(self.s3_gb), "GB in S3 Standard across the sandbox's buckets"),
        ]
    }
}

/// One line of an estimate: a meter's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    /// The AWS service.
    pub service: String,
    /// What is counted.
    pub item: String,
    /// The usage behind the line.
    #[serde(flatten)]
    pub usage: Usage,
    /// The unit of the quantity.
    pub unit: String,
    /// The price of one unit, `None` when unknown.
    pub price: Option<Price>,
    /// Why the price is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_unknown: Option<String>,
    /// quantity x unit price, in USD ([`round_usd`]); `None` when the price is unknown.
    pub monthly_usd: Option<f64>,
}

/// A month's estimate of one template set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// The Region priced, `None` when unknown.
    pub region: Option<String>,
    /// Where the prices come from.
    pub prices: String,
    /// The offers read.
    pub offers: Vec<OfferInfo>,
    /// The assumptions.
    pub assumptions: Assumptions,
    /// One line per meter.
    pub lines: Vec<Line>,
    /// The sum of the lines whose price is known, in USD ([`round_usd`]).
    pub known_monthly_usd: f64,
    /// How many lines have no price (left out of the sum).
    pub unknown_lines: usize,
}

/// The meters `templates` use, for [`PriceBook::load`].
#[must_use]
pub fn meters<'a>(templates: impl IntoIterator<Item = (&'a str, &'a Template)>, a: &Assumptions) -> Vec<Meter> {
    usage::usage(templates, a).into_iter().map(|u| u.meter).collect()
}

/// The month's estimate of `templates` (each with a label naming it).
#[must_use]
pub fn estimate<'a>(
    templates: impl IntoIterator<Item = (&'a str, &'a Template)>,
    a: &Assumptions,
    book: &PriceBook,
) -> Estimate {
    let mut lines = Vec::new();
    for u in usage::usage(templates, a) {
        let (price, price_unknown) = match book.price(&u.meter) {
            Ok(p) => (Some(p), None),
            Err(why) => (None, Some(why)),
        };
        let monthly_usd = price.as_ref().map(|p| round_usd(p.usd_value * u.quantity));
        lines.push(Line {
            service: u.meter.service().to_string(),
            item: u.meter.item(),
            unit: u.meter.unit().to_string(),
            usage: u,
            price,
            price_unknown,
            monthly_usd,
        });
    }
    let known_monthly_usd = round_usd(lines.iter().filter_map(|l| l.monthly_usd).sum());
    let unknown_lines = lines.iter().filter(|l| l.monthly_usd.is_none()).count();
    Estimate {
        region: book.region.clone(),
        prices: book.label.clone(),
        offers: book.offers(),
        assumptions: *a,
        lines,
        known_monthly_usd,
        unknown_lines,
    }
}

/// One meter's change between two estimates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineChange {
    /// The AWS service.
    pub service: String,
    /// What is counted.
    pub item: String,
    /// The unit.
    pub unit: String,
    /// Quantity before (0 when the meter is new).
    pub old_quantity: f64,
    /// Quantity after (0 when the meter goes).
    pub new_quantity: f64,
    /// Monthly USD before; `None` when its price is unknown.
    pub old_monthly_usd: Option<f64>,
    /// Monthly USD after; `None` when its price is unknown.
    pub new_monthly_usd: Option<f64>,
    /// After minus before, when both are known (a side without the meter counts 0).
    pub delta_usd: Option<f64>,
    /// The unit price after (else before) and its SKU.
    pub price: Option<Price>,
    /// Why a price is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_unknown: Option<String>,
}

/// What a change does to the monthly bill: both estimates and the lines that differ.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostChange {
    /// The estimate of the base.
    pub old: Estimate,
    /// The estimate of the new output.
    pub new: Estimate,
    /// Every meter whose quantity or price differs, in meter order.
    pub changes: Vec<LineChange>,
    /// New known total minus old known total, in USD ([`round_usd`]).
    pub delta_usd: f64,
}

/// Compares two estimates meter by meter.
#[must_use]
pub fn compare(old: Estimate, new: Estimate) -> CostChange {
    let mut keys: Vec<&Meter> = old.lines.iter().chain(&new.lines).map(|l| &l.usage.meter).collect();
    keys.sort();
    keys.dedup();
    let find = |e: &'_ Estimate, m: &Meter| e.lines.iter().find(|l| &l.usage.meter == m).cloned();
    let mut changes = Vec::new();
    for m in keys {
        let (a, b) = (find(&old, m), find(&new, m));
        let q = |l: &Option<Line>| l.as_ref().map_or(0.0, |l| l.usage.quantity);
        let money = |l: &Option<Line>| match l {
            None => Some(0.0),
            Some(l) => l.monthly_usd,
        };
        let (old_m, new_m) = (money(&a), money(&b));
        if (q(&a) - q(&b)).abs() < 1e-9 && old_m == new_m {
            continue;
        }
        let delta_usd = match (old_m, new_m) {
            (Some(x), Some(y)) => Some(round_usd(y - x)),
            _ => None,
        };
        let either = b.as_ref().or(a.as_ref());
        changes.push(LineChange {
            service: m.service().to_string(),
            item: m.item(),
            unit: m.unit().to_string(),
            old_quantity: q(&a),
            new_quantity: q(&b),
            old_monthly_usd: a.as_ref().and_then(|l| l.monthly_usd),
            new_monthly_usd: b.as_ref().and_then(|l| l.monthly_usd),
            delta_usd,
            price: either.and_then(|l| l.price.clone()),
            price_unknown: either.and_then(|l| l.price_unknown.clone()),
        });
    }
    let delta_usd = round_usd(new.known_monthly_usd - old.known_monthly_usd);
    CostChange { old, new, changes, delta_usd }
}
