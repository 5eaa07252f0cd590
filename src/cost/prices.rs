//! Where prices come from: the snapshot shipped in the repository (`prices/snapshot/`, in the
//! offer files' own format, embedded in the binary) or the full offer files a user downloaded
//! (`--prices DIR`); and which product of an offer prices each [`Meter`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::offers::{self, Offer};
use super::usage::Meter;
use super::CostError;

/// The date the snapshot's prices were read from AWS's pricing pages (`prices/snapshot/README.md`).
pub const SNAPSHOT_DATE: &str = "2026-12-05";

/// The snapshot's offer files of the monthly estimate: (offer code, file name, text). They are
/// read at once by [`PriceBook::snapshot`], and an estimate lists each among its sources.
const SNAPSHOT: [(&str, &str, &str); 6] = [
    ("AmazonAppStream", "AmazonAppStream.json", include_str!("../../prices/snapshot/AmazonAppStream.json")),
    ("AmazonSageMaker", "AmazonSageMaker.json", include_str!("../../prices/snapshot/AmazonSageMaker.json")),
    ("AmazonVPC", "AmazonVPC.json", include_str!("../../prices/snapshot/AmazonVPC.json")),
    ("awskms", "awskms.json", include_str!("../../prices/snapshot/awskms.json")),
    ("AWSCloudTrail", "AWSCloudTrail.json", include_str!("../../prices/snapshot/AWSCloudTrail.json")),
    ("AmazonS3", "AmazonS3.json", include_str!("../../prices/snapshot/AmazonS3.json")),
];

/// The snapshot's offer files that price no monthly line: read by [`PriceBook::load`] only when
/// a meter needs them (the Athena query of `sandboxc audit --engine athena`), so that a monthly
/// estimate's sources stay the offers it prices.
const SNAPSHOT_ON_DEMAND: [(&str, &str, &str); 1] =
    [("AmazonAthena", "AmazonAthena.json", include_str!("../../prices/snapshot/AmazonAthena.json"))];

/// The offer code (`offerCode`) of the service that prices `meter`.
#[must_use]
pub fn offer_code(meter: &Meter) -> &'static str {
    match meter {
        Meter::AppStreamRunning { .. } | Meter::AppStreamStopped => "AmazonAppStream",
        Meter::NotebookHours { .. } | Meter::NotebookStorage => "AmazonSageMaker",
        Meter::InterfaceEndpointHours => "AmazonVPC",
        Meter::KmsKeys => "awskms",
        Meter::TrailDataEvents => "AWSCloudTrail",
        Meter::S3Standard => "AmazonS3",
        Meter::AthenaDataScanned => "AmazonAthena",
    }
}

/// One condition on a product attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    Eq(String),
    EndsWith(String),
    Contains(String),
    Lacks(String),
}

/// The attribute conditions a product must meet to price `meter` (besides `regionCode`).
/// These are sandboxc's reading of the offer files' attributes; `usagetype` carries a Region
/// prefix (`USE1-`...), hence the suffix matches.
fn rule(meter: &Meter) -> Vec<(&'static str, Cond)> {
    use Cond::{Contains, EndsWith, Eq, Lacks};
    match meter {
        Meter::AppStreamRunning { instance_type } => vec![
            ("instanceType", Eq(instance_type.clone())),
            ("operatingSystem", Eq("Windows".into())),
            ("usagetype", Lacks("Stopped".into())),
        ],
        Meter::AppStreamStopped => vec![("usagetype", Contains("Stopped".into()))],
        Meter::NotebookHours { instance_type } => vec![("usagetype", EndsWith(format!("Notebk:{instance_type}")))],
        Meter::NotebookStorage => vec![("usagetype", Contains("Notebk:VolumeUsage".into()))],
        Meter::InterfaceEndpointHours => vec![("usagetype", EndsWith("VpcEndpoint-Hours".into()))],
        Meter::KmsKeys => vec![("usagetype", EndsWith("KMS-Keys".into()))],
        Meter::TrailDataEvents => vec![("usagetype", EndsWith("DataEventsRecorded".into()))],
        Meter::S3Standard => vec![("usagetype", EndsWith("TimedStorage-ByteHrs".into()))],
        // `USE1-DataScannedInTB` (SQL queries, unit `Terabytes`).
        Meter::AthenaDataScanned => vec![("usagetype", EndsWith("DataScannedInTB".into()))],
    }
}

fn describe(rule: &[(&str, Cond)]) -> String {
    rule.iter()
        .map(|(k, c)| match c {
            Cond::Eq(v) => format!("{k} = {v}"),
            Cond::EndsWith(v) => format!("{k} ends with {v}"),
            Cond::Contains(v) => format!("{k} contains {v}"),
            Cond::Lacks(v) => format!("{k} lacks {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A price found for a meter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    /// The product's SKU (in the snapshot: the snapshot's own key, `snapshot:...`, never an
    /// AWS SKU).
    pub sku: String,
    /// The rate code of the price dimension.
    pub rate_code: String,
    /// `pricePerUnit.USD` as written in the offer file.
    pub usd: String,
    /// The same, as a number.
    #[serde(skip)]
    pub usd_value: f64,
    /// The dimension's `unit`.
    pub unit: String,
    /// The dimension's `description`.
    pub description: String,
}

/// Where the prices of an estimate come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfferInfo {
    /// `offerCode`.
    pub offer_code: String,
    /// `version`.
    pub version: String,
    /// `publicationDate`.
    pub publication_date: String,
    /// The file read.
    pub source: String,
}

fn info(o: &Offer) -> OfferInfo {
    OfferInfo {
        offer_code: o.offer_code.clone(),
        version: o.version.clone(),
        publication_date: o.publication_date.clone(),
        source: o.source.clone(),
    }
}

/// The offers prices are looked up in, for one Region.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PriceBook {
    /// What it is, for people: `snapshot 2026-12-05 (prices/snapshot)` or `offer files in DIR`.
    pub label: String,
    /// The Region the offers were filtered to (`None`: no Region known, nothing is priced).
    pub region: Option<String>,
    offers: BTreeMap<String, Offer>,
    /// `--prices DIR`, when the offers come from a directory (read on demand).
    dir: Option<PathBuf>,
}

impl PriceBook {
    /// The snapshot shipped in the repository, filtered to `region`.
    ///
    /// # Errors
    /// [`CostError::Malformed`] if a snapshot file does not parse (a build of a broken tree).
    pub fn snapshot(region: Option<&str>) -> Result<Self, CostError> {
        let mut offers = BTreeMap::new();
        if let Some(r) = region {
            for (code, file, text) in SNAPSHOT {
                let source = format!("prices/snapshot/{file}");
                let offer = offers::read(text.as_bytes(), Some(r), &source)
                    .map_err(|why| CostError::Malformed { file: source.clone(), why })?;
                offers.insert(code.to_string(), offer);
            }
        }
        Ok(Self {
            label: format!("snapshot of {SNAPSHOT_DATE} (prices/snapshot in the sandboxc repository)"),
            region: region.map(str::to_string),
            offers,
            dir: None,
        })
    }

    /// The offer files of `dir` (as downloaded from the AWS Price List Bulk API), read when a
    /// meter needs them: `<dir>/<offerCode>.json`, `<dir>/<offerCode>/index.json` or
    /// `<dir>/<offerCode>/<region>/index.json`.
    #[must_use]
    pub fn dir(dir: &Path, region: Option<&str>) -> Self {
        Self {
            label: format!("offer files in {}", dir.display()),
            region: region.map(str::to_string),
            offers: BTreeMap::new(),
            dir: Some(dir.to_path_buf()),
        }
    }

    /// Reads the offers `meters` need: from the directory, or, for the snapshot, those of its
    /// files [`PriceBook::snapshot`] does not read at once (`AmazonAthena`).
    ///
    /// # Errors
    /// [`CostError::MissingOffer`] naming the files looked for, [`CostError::Malformed`]
    /// naming the file and what is wrong, [`CostError::WrongOffer`] when a file holds another
    /// offer.
    pub fn load<'a>(&mut self, meters: impl IntoIterator<Item = &'a Meter>) -> Result<(), CostError> {
        let Some(region) = self.region.clone() else { return Ok(()) };
        let Some(dir) = self.dir.clone() else {
            for m in meters {
                let code = offer_code(m);
                if self.offers.contains_key(code) {
                    continue;
                }
                if let Some((_, file, text)) = SNAPSHOT_ON_DEMAND.iter().find(|(c, _, _)| *c == code) {
                    let source = format!("prices/snapshot/{file}");
                    let offer = offers::read(text.as_bytes(), Some(&region), &source)
                        .map_err(|why| CostError::Malformed { file: source.clone(), why })?;
                    self.offers.insert(code.to_string(), offer);
                }
            }
            return Ok(());
        };
        for m in meters {
            let code = offer_code(m);
            if self.offers.contains_key(code) {
                continue;
            }
            let tried = [
                dir.join(format!("{code}.json")),
                dir.join(code).join("index.json"),
                dir.join(code).join(&region).join("index.json"),
            ];
            let Some(path) = tried.iter().find(|p| p.is_file()) else {
                return Err(CostError::MissingOffer {
                    offer: code.to_string(),
                    tried: tried.iter().map(|p| p.display().to_string()).collect(),
                });
            };
            let file = path.display().to_string();
            let reader = std::fs::File::open(path)
                .map_err(|e| CostError::Malformed { file: file.clone(), why: e.to_string() })?;
            let offer = offers::read(reader, Some(&region), &file)
                .map_err(|why| CostError::Malformed { file: file.clone(), why })?;
            if offer.offer_code != code {
                return Err(CostError::WrongOffer { file, expected: code.to_string(), found: offer.offer_code });
            }
            self.offers.insert(code.to_string(), offer);
        }
        Ok(())
    }

    /// The offers read, for the estimate's sources.
    #[must_use]
    pub fn offers(&self) -> Vec<OfferInfo> {
        self.offers.values().map(info).collect()
    }

    /// The offer `code`, when it was read.
    #[must_use]
    pub fn offer(&self, code: &str) -> Option<OfferInfo> {
        self.offers.get(code).map(info)
    }

    /// The price of one unit of `meter`, or why there is none. A product matches when its
    /// `regionCode` is the Region and it meets [`rule`]; its first-tier (`beginRange` 0)
    /// on-demand dimension is the price. Several products with different prices: no price
    /// (the line says which SKUs), never a guess.
    ///
    /// # Errors
    /// The reason, for the line.
    pub fn price(&self, meter: &Meter) -> Result<Price, String> {
        let Some(region) = &self.region else {
            return Err("no Region: set `region` in the blueprint or pass --region".into());
        };
        let code = offer_code(meter);
        let rule = rule(meter);
        let Some(offer) = self.offers.get(code) else {
            return Err(format!("no {code} offer read"));
        };
        let matches = |attrs: &BTreeMap<String, String>| {
            rule.iter().all(|(k, c)| {
                let v = attrs.get(*k).map(String::as_str);
                match c {
                    Cond::Eq(x) => v == Some(x.as_str()),
                    Cond::EndsWith(x) => v.is_some_and(|v| v.ends_with(x.as_str())),
                    Cond::Contains(x) => v.is_some_and(|v| v.contains(x.as_str())),
                    Cond::Lacks(x) => !v.is_some_and(|v| v.contains(x.as_str())),
                }
            })
        };
        let mut found: Vec<Price> = Vec::new();
        for p in offer.products.values().filter(|p| matches(&p.attributes)) {
            let dims = offer.on_demand.get(&p.sku).map(Vec::as_slice).unwrap_or_default();
            let first = dims
                .iter()
                .filter(|d| d.usd.is_some())
                .find(|d| d.begin_range.as_deref().is_none_or(|b| b == "0" || b == "0.0"));
            if let Some(d) = first {
                let usd = d.usd.clone().unwrap_or_default();
                let Ok(value) = usd.parse::<f64>() else {
                    return Err(format!(
                        "{}: SKU {} has a USD price that is not a number: {usd:?}",
                        offer.source, p.sku
                    ));
                };
                found.push(Price {
                    sku: p.sku.clone(),
                    rate_code: d.rate_code.clone(),
                    usd,
                    usd_value: value,
                    unit: d.unit.clone(),
                    description: d.description.clone(),
                });
            }
        }
        match found.len() {
            0 => Err(format!(
                "not in the {} ({code}: no on-demand product in {region} with {})",
                self.short_label(),
                describe(&rule)
            )),
            1 => Ok(found.remove(0)),
            _ if found.iter().all(|p| (p.usd_value - found[0].usd_value).abs() < 1e-12) => Ok(found.remove(0)),
            _ => Err(format!(
                "{} products of {code} match with different prices (SKUs {}): not chosen",
                found.len(),
                found.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    fn short_label(&self) -> &'static str {
        if self.dir.is_some() {
            "offer files"
        } else {
            "price snapshot"
        }
    }
}
