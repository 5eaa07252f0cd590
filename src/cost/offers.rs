//! AWS Price List bulk offer files: their public JSON format, read with a Region filter.
//!
//! An offer file (AWS Price List Bulk API, "Reading the offer files": `https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offerCode>/current/index.json`)
//! is one JSON object: `formatVersion` (`v1.0`), `offerCode` (`AmazonSageMaker`...),
//! `version`, `publicationDate`, `products` keyed by SKU (`{sku, productFamily, attributes}`)
//! and `terms` (`OnDemand` and `Reserved`), where
//! `terms.OnDemand[sku][offerTermCode].priceDimensions[rateCode]` holds `unit`,
//! `pricePerUnit.USD`, `description`, `beginRange` and `endRange`.
//!
//! The files run to hundreds of megabytes (every Region of a service), so [`read`] streams
//! them: products of other Regions (attribute `regionCode`) are skipped while parsing and
//! only the on-demand terms of the kept SKUs are built; `Reserved` terms are skipped whole.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// One product of an offer file (kept only when it is in the Region asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The SKU (the key in `products`).
    pub sku: String,
    /// `productFamily`, if any.
    pub family: Option<String>,
    /// `attributes` (string values only; others are left out).
    pub attributes: BTreeMap<String, String>,
}

/// One price dimension of an on-demand term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimension {
    /// The rate code (the key in `priceDimensions`).
    pub rate_code: String,
    /// `unit`, such as `Hrs`, `Keys`, `GB-Mo`, `Events`.
    pub unit: String,
    /// `pricePerUnit.USD` exactly as written (a decimal string); `None` without a USD price.
    pub usd: Option<String>,
    /// `description`.
    pub description: String,
    /// `beginRange` (tiers), `None` when absent.
    pub begin_range: Option<String>,
}

/// An offer file, filtered to one Region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offer {
    /// Where it was read from (a path, or `snapshot:<file>` for the shipped snapshot).
    pub source: String,
    /// `formatVersion`.
    pub format_version: String,
    /// `offerCode`.
    pub offer_code: String,
    /// `version`.
    pub version: String,
    /// `publicationDate`.
    pub publication_date: String,
    /// The products of the Region, by SKU.
    pub products: BTreeMap<String, Product>,
    /// On-demand price dimensions of each kept SKU (every offer term's dimensions together).
    pub on_demand: BTreeMap<String, Vec<Dimension>>,
}

/// Reads an offer file from `reader`, keeping the products whose `regionCode` attribute is
/// `region` (every product when `region` is `None`).
///
/// # Errors
/// A description (with serde's line and column) when the text is not an offer file: not
/// JSON, a field of the wrong type, or `formatVersion`, `offerCode` or `products` missing.
pub fn read<R: Read>(reader: R, region: Option<&str>, source: &str) -> Result<Offer, String> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(reader));
    let mut offer = OfferSeed { region }.deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    if offer.format_version.is_empty() {
        return Err("`formatVersion` is missing (an AWS Price List offer file has \"formatVersion\": \"v1.0\")".into());
    }
    if offer.offer_code.is_empty() {
        return Err("`offerCode` is missing".into());
    }
    offer.source = source.to_string();
    Ok(offer)
}

struct OfferSeed<'a> {
    region: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for OfferSeed<'_> {
    type Value = Offer;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Offer, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OfferSeed<'_> {
    type Value = Offer;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an AWS Price List offer file (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Offer, A::Error> {
        let mut offer = Offer::default();
        let mut products_seen = false;
        // Terms read before products (not AWS's order) are kept whole and filtered after.
        let mut early_terms: Option<BTreeMap<String, Vec<Dimension>>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "formatVersion" => offer.format_version = map.next_value()?,
                "offerCode" => offer.offer_code = map.next_value()?,
                "version" => offer.version = map.next_value()?,
                "publicationDate" => offer.publication_date = map.next_value()?,
                "products" => {
                    offer.products = map.next_value_seed(ProductsSeed { region: self.region })?;
                    products_seen = true;
                }
                "terms" => {
                    let keep = products_seen.then(|| offer.products.keys().cloned().collect::<BTreeSet<_>>());
                    let terms = map.next_value_seed(TermsSeed { keep: keep.as_ref() })?;
                    if products_seen {
                        offer.on_demand = terms;
                    } else {
                        early_terms = Some(terms);
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !products_seen {
            return Err(serde::de::Error::missing_field("products"));
        }
        if let Some(mut terms) = early_terms {
            terms.retain(|sku, _| offer.products.contains_key(sku));
            offer.on_demand = terms;
        }
        Ok(offer)
    }
}

#[derive(Deserialize)]
struct RawProduct {
    #[serde(rename = "productFamily", default)]
    family: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
}

struct ProductsSeed<'a> {
    region: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for ProductsSeed<'_> {
    type Value = BTreeMap<String, Product>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProductsSeed<'_> {
    type Value = BTreeMap<String, Product>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`products`: an object of products keyed by SKU")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(sku) = map.next_key::<String>()? {
            let raw: RawProduct = map.next_value()?;
            let attributes: BTreeMap<String, String> =
                raw.attributes.into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect();
            let in_region = match self.region {
                None => true,
                Some(r) => attributes.get("regionCode").is_some_and(|c| c == r),
            };
            if in_region {
                out.insert(sku.clone(), Product { sku, family: raw.family, attributes });
            }
        }
        Ok(out)
    }
}

struct TermsSeed<'a> {
    keep: Option<&'a BTreeSet<String>>,
}

impl<'de> DeserializeSeed<'de> for TermsSeed<'_> {
    type Value = BTreeMap<String, Vec<Dimension>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TermsSeed<'_> {
    type Value = BTreeMap<String, Vec<Dimension>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`terms`: an object of term types (OnDemand, Reserved)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(kind) = map.next_key::<String>()? {
            if kind == "OnDemand" {
                out = map.next_value_seed(OnDemandSeed { keep: self.keep })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

#[derive(Deserialize)]
struct RawTerm {
    #[serde(rename = "priceDimensions", default)]
    price_dimensions: BTreeMap<String, RawDimension>,
}

#[derive(Deserialize)]
struct RawDimension {
    #[serde(default)]
    unit: String,
    #[serde(rename = "pricePerUnit", default)]
    price_per_unit: BTreeMap<String, String>,
    #[serde(default)]
    description: String,
    #[serde(rename = "beginRange", default)]
    begin_range: Option<String>,
}

struct OnDemandSeed<'a> {
    keep: Option<&'a BTreeSet<String>>,
}

impl<'de> DeserializeSeed<'de> for OnDemandSeed<'_> {
    type Value = BTreeMap<String, Vec<Dimension>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OnDemandSeed<'_> {
    type Value = BTreeMap<String, Vec<Dimension>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("`terms.OnDemand`: an object of offer terms keyed by SKU")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(sku) = map.next_key::<String>()? {
            if self.keep.is_some_and(|k| !k.contains(&sku)) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let terms: BTreeMap<String, RawTerm> = map.next_value()?;
            let mut dims = Vec::new();
            for term in terms.into_values() {
                for (rate_code, d) in term.price_dimensions {
                    dims.push(Dimension {
                        rate_code,
                        unit: d.unit,
                        usd: d.price_per_unit.get("USD").cloned(),
                        description: d.description,
                        begin_range: d.begin_range,
                    });
                }
            }
            out.insert(sku, dims);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = r#"{
      "formatVersion": "v1.0", "offerCode": "awskms", "version": "v1", "publicationDate": "2026-12-05T00:00:00Z",
      "products": {
        "A": {"sku": "A", "productFamily": "Encryption Key", "attributes": {"regionCode": "us-east-1", "usagetype": "us-east-1-KMS-Keys", "n": 3}},
        "B": {"sku": "B", "attributes": {"regionCode": "eu-west-1", "usagetype": "eu-west-1-KMS-Keys"}}
      },
      "terms": {
        "OnDemand": {
          "A": {"A.T": {"priceDimensions": {"A.T.R": {"unit": "Keys", "pricePerUnit": {"USD": "1.0000000000"}, "description": "d", "beginRange": "0"}}}},
          "B": {"B.T": {"priceDimensions": {"B.T.R": {"unit": "Keys", "pricePerUnit": {"USD": "1.0000000000"}, "description": "d"}}}}
        },
        "Reserved": {"A": {"whatever": [1, 2, 3]}}
      }
    }"#;

    #[test]
    fn only_the_region_is_kept() {
        let offer = read(OFFER.as_bytes(), Some("us-east-1"), "t").unwrap_or_default();
        assert_eq!(offer.offer_code, "awskms");
        assert_eq!(offer.products.keys().collect::<Vec<_>>(), ["A"]);
        assert_eq!(offer.on_demand.keys().collect::<Vec<_>>(), ["A"]);
        let dims = offer.on_demand.get("A").cloned().unwrap_or_default();
        assert_eq!(dims.len(), 1);
        assert_eq!(dims[0].usd.as_deref(), Some("1.0000000000"));
        assert_eq!(dims[0].begin_range.as_deref(), Some("0"));
        // Non-string attributes are left out.
        assert!(!offer.products["A"].attributes.contains_key("n"));
        let all = read(OFFER.as_bytes(), None, "t").unwrap_or_default();
        assert_eq!(all.products.len(), 2);
    }

    #[test]
    fn malformed_files_say_where() {
        let e = read("{\"formatVersion\": \"v1.0\", \"offerCode\": 3".as_bytes(), None, "t").err().unwrap_or_default();
        assert!(e.contains("line 1"), "{e}");
        let e = read("{\"formatVersion\": \"v1.0\", \"products\": {}}".as_bytes(), None, "t").err().unwrap_or_default();
        assert!(e.contains("offerCode"), "{e}");
        let e =
            read("{\"formatVersion\": \"v1.0\", \"offerCode\": \"x\"}".as_bytes(), None, "t").err().unwrap_or_default();
        assert!(e.contains("products"), "{e}");
        let e = read("[]".as_bytes(), None, "t").err().unwrap_or_default();
        assert!(e.contains("offer file"), "{e}");
    }
}
