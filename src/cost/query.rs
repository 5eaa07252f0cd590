//! What one Athena SQL query costs: the bytes it scanned (Athena API `GetQueryExecution`,
//! `Statistics.DataScannedInBytes`) times the price per terabyte of data scanned of the
//! `AmazonAthena` offer ([`Meter::AthenaDataScanned`]). Not a monthly line: `sandboxc audit
//! --engine athena` prices its own query with it.
//!
//! The offer prices data scanned in the unit `Terabytes`. No AWS document found for sandboxc
//! says whether that terabyte is 10^12 or 2^40 bytes (docs/aws-facts.md, "Athena over
//! CloudTrail"), so [`BYTES_PER_TB`] is 2^40, stated in `sandboxc audit --help` and the README;
//! with 10^12 a cost would be 1.0995 times as much. Athena's pricing page may also bill a minimum amount of data per query;
//! no AWS source for it was read, so no minimum is applied: the cost is of the bytes scanned.

use super::prices::{OfferInfo, Price, PriceBook};
use super::round_usd;
use super::usage::Meter;

/// Bytes in one `Terabytes` unit of the `AmazonAthena` offer: 2^40 = 1,099,511,627,776 (no AWS
/// source for 2^40 against 10^12 was found; see the module documentation).
pub const BYTES_PER_TB: u64 = 1 << 40;

/// The units of a price dimension that are a terabyte of data scanned.
const TB_UNITS: [&str; 2] = ["Terabytes", "TB"];

/// The price per terabyte of data scanned in one Region, with the offer it comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanPrice {
    /// The product's price (SKU, `pricePerUnit.USD` as written, unit `Terabytes`).
    pub price: Price,
    /// The `AmazonAthena` offer read (version, publication date, file).
    pub offer: OfferInfo,
}

/// One query's cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryCost {
    /// Bytes scanned.
    pub bytes: u64,
    /// The same in terabytes ([`terabytes`]).
    pub terabytes: f64,
    /// `terabytes` x the price, in USD, rounded to a millionth of a dollar ([`round_usd`]).
    pub usd: f64,
}

/// `bytes` in terabytes of [`BYTES_PER_TB`] bytes.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn terabytes(bytes: u64) -> f64 {
    bytes as f64 / BYTES_PER_TB as f64
}

impl ScanPrice {
    /// The price per terabyte scanned in `book`'s Region ([`Meter::AthenaDataScanned`]; the
    /// book must have loaded it with [`PriceBook::load`]).
    ///
    /// # Errors
    /// Why there is no price, for people: not in the offers read (the snapshot has none), several
    /// prices, or a dimension whose unit is not `Terabytes` (never converted by guess).
    pub fn find(book: &PriceBook) -> Result<Self, String> {
        let meter = Meter::AthenaDataScanned;
        let price = book.price(&meter)?;
        if !TB_UNITS.contains(&price.unit.as_str()) {
            return Err(format!(
                "SKU {} of {} is priced per {:?}, not per Terabytes: not converted",
                price.sku,
                super::prices::offer_code(&meter),
                price.unit
            ));
        }
        let Some(offer) = book.offer(super::prices::offer_code(&meter)) else {
            return Err("no AmazonAthena offer read".into());
        };
        Ok(Self { price, offer })
    }

    /// The cost of a query that scanned `bytes`.
    #[must_use]
    pub fn cost(&self, bytes: u64) -> QueryCost {
        let tb = terabytes(bytes);
        QueryCost { bytes, terabytes: tb, usd: round_usd(tb * self.price.usd_value) }
    }
}

/// A number of terabytes for people: up to 12 decimals, trailing zeros trimmed
/// (`0.000047683716`, `1`).
#[must_use]
pub fn tb_text(tb: f64) -> String {
    let s = format!("{tb:.12}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conversion: 2^40 bytes are one terabyte; 10^12 bytes are not.
    #[test]
    fn a_terabyte_is_2_to_the_40_bytes() {
        assert_eq!(BYTES_PER_TB, 1_099_511_627_776);
        assert_eq!(terabytes(1_099_511_627_776).to_bits(), 1.0_f64.to_bits());
        assert_eq!(terabytes(1_000_000_000_000).to_bits(), 0.909_494_701_772_928_2_f64.to_bits());
        assert_eq!(terabytes(52_428_800).to_bits(), (50.0_f64 / 1_048_576.0).to_bits());
        assert_eq!(tb_text(terabytes(52_428_800)), "0.000047683716");
        assert_eq!(tb_text(terabytes(1 << 40)), "1");
        assert_eq!(tb_text(0.0), "0");
    }
}
