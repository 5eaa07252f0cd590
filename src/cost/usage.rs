//! What a set of templates would consume in a month: read from the resources themselves
//! (instance types, capacities, subnets, trail selectors), scaled by the stated
//! [`Assumptions`]. No price here: each [`Usage`] names the [`Meter`] that prices it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Assumptions;
use crate::cfn::{Expr, ExprMap, Template};

/// What is metered, and so which offer and product prices it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "meter", rename_all = "kebab-case")]
pub enum Meter {
    /// AppStream 2.0 running instance hours of a `stream.*` type.
    AppStreamRunning {
        /// The instance type.
        instance_type: String,
    },
    /// AppStream 2.0 stopped instance hours (on-demand fleets; the same fee for every type).
    AppStreamStopped,
    /// SageMaker notebook instance hours of an `ml.*` type.
    NotebookHours {
        /// The instance type.
        instance_type: String,
    },
    /// SageMaker notebook ML storage, GB-months.
    NotebookStorage,
    /// Interface VPC endpoint hours, per endpoint and Availability Zone.
    InterfaceEndpointHours,
    /// KMS keys (customer managed), key-months.
    KmsKeys,
    /// CloudTrail data events recorded by trails.
    TrailDataEvents,
    /// S3 Standard storage, GB-months.
    S3Standard,
    /// Athena SQL queries' data scanned, in the offer's unit `Terabytes` (see
    /// [`super::query::BYTES_PER_TB`]). Not a monthly line: no template uses it; it prices
    /// the query of `sandboxc audit --engine athena`.
    AthenaDataScanned,
}

impl Meter {
    /// The AWS service, for people.
    #[must_use]
    pub fn service(&self) -> &'static str {
        match self {
            Self::AppStreamRunning { .. } | Self::AppStreamStopped => "AppStream 2.0",
            Self::NotebookHours { .. } | Self::NotebookStorage => "SageMaker notebooks",
            Self::InterfaceEndpointHours => "PrivateLink",
            Self::KmsKeys => "KMS",
            Self::TrailDataEvents => "CloudTrail",
            Self::S3Standard => "S3",
            Self::AthenaDataScanned => "Athena",
        }
    }

    /// What the line counts, for people.
    #[must_use]
    pub fn item(&self) -> String {
        match self {
            Self::AppStreamRunning { instance_type } => format!("{instance_type} running instance hours"),
            Self::AppStreamStopped => "stopped instance hours (on-demand fleet)".into(),
            Self::NotebookHours { instance_type } => format!("{instance_type} notebook instance hours"),
            Self::NotebookStorage => "notebook ML storage".into(),
            Self::InterfaceEndpointHours => "interface endpoint hours (per endpoint and AZ)".into(),
            Self::KmsKeys => "customer managed keys".into(),
            Self::TrailDataEvents => "data events recorded".into(),
            Self::S3Standard => "S3 Standard storage".into(),
            Self::AthenaDataScanned => "SQL query data scanned".into(),
        }
    }

    /// The unit of the quantity.
    #[must_use]
    pub fn unit(&self) -> &'static str {
        match self {
            Self::AppStreamRunning { .. }
            | Self::AppStreamStopped
            | Self::NotebookHours { .. }
            | Self::InterfaceEndpointHours => "hours",
            Self::NotebookStorage | Self::S3Standard => "GB-months",
            Self::KmsKeys => "key-months",
            Self::TrailDataEvents => "events",
            Self::AthenaDataScanned => "TB",
        }
    }
}

/// One month's use of one meter, summed over the resources that use it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    /// What is metered.
    #[serde(flatten)]
    pub meter: Meter,
    /// How much in a month, in [`Meter::unit`].
    pub quantity: f64,
    /// How the quantity was reached, e.g. `2 instances x 176 h`.
    pub basis: Vec<String>,
    /// The resources behind it, `<template label>/<logical ID>`.
    pub resources: Vec<String>,
    /// Why the quantity could not be read for some resources (a value that is not a literal
    /// in the template); those resources are left out of the quantity.
    pub unreadable: Vec<String>,
}

fn literal_str(e: Option<&Expr>) -> Option<&str> {
    match e {
        Some(Expr::Str(s)) => Some(s),
        _ => None,
    }
}

#[allow(clippy::cast_precision_loss)]
fn literal_num(e: Option<&Expr>) -> Option<f64> {
    match e {
        Some(Expr::Int(i)) => Some(*i as f64),
        Some(Expr::Num(n)) => n.as_f64(),
        Some(Expr::Str(s)) => s.parse().ok(),
        _ => None,
    }
}

fn field<'a>(e: Option<&'a Expr>, key: &str) -> Option<&'a Expr> {
    match e {
        Some(Expr::Map(m)) => m.get(key),
        _ => None,
    }
}

/// Hours of use in one working day, for the idle stops of [`notebook_hours_with_idle_stop`].
pub const ACTIVE_HOURS_PER_DAY: f64 = 8.0;

/// The idle time (seconds) of a notebook with idle stop: its Metadata
/// `sandboxc-idle-stop-seconds`, as the compiler writes it.
fn idle_stop_seconds(r: &crate::cfn::Resource) -> Option<f64> {
    literal_num(r.metadata.get("sandboxc-idle-stop-seconds")).filter(|s| *s > 0.0)
}

/// A month's running hours of a notebook that stops itself after `idle_seconds` without
/// activity: [`Assumptions::notebook_active_hours`] of use, plus one idle time before each stop,
/// one stop per [`ACTIVE_HOURS_PER_DAY`] of use, at most [`Assumptions::hours_per_month`].
#[must_use]
pub fn notebook_hours_with_idle_stop(a: &Assumptions, idle_seconds: f64) -> f64 {
    let stops = a.notebook_active_hours / ACTIVE_HOURS_PER_DAY;
    (a.notebook_active_hours + stops * idle_seconds / 3600.0).min(a.hours_per_month)
}

/// Trims a number for people: `730`, `0.5`, `1234.57`.
#[must_use]
pub fn number(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[derive(Default)]
struct Acc {
    usages: BTreeMap<Meter, Usage>,
}

impl Acc {
    fn add(&mut self, meter: Meter, quantity: f64, basis: String, resource: &str) {
        let u = self.usages.entry(meter.clone()).or_insert_with(|| Usage {
            meter,
            quantity: 0.0,
            basis: Vec::new(),
            resources: Vec::new(),
            unreadable: Vec::new(),
        });
        u.quantity += quantity;
        if !u.basis.contains(&basis) {
            u.basis.push(basis);
        }
        u.resources.push(resource.to_string());
    }

    fn unreadable(&mut self, meter: Meter, why: String) {
        let u = self.usages.entry(meter.clone()).or_insert_with(|| Usage {
            meter,
            quantity: 0.0,
            basis: Vec::new(),
            resources: Vec::new(),
            unreadable: Vec::new(),
        });
        u.unreadable.push(why);
    }
}

/// The month's usage of `templates` (each with a label naming it: a stack or file), one
/// [`Usage`] per meter, in [`Meter`] order.
///
/// - `AWS::AppStream::Fleet`: ALWAYS_ON runs `ComputeCapacity.DesiredInstances` all month;
///   ON_DEMAND runs them [`Assumptions::appstream_hours`] and keeps them stopped the rest of
///   the month; ELASTIC runs `MaxConcurrentSessions` sessions [`Assumptions::appstream_hours`]
///   each (AppStream 2.0 Administration Guide, "Fleet types").
/// - `AWS::SageMaker::NotebookInstance`: [`Assumptions::notebook_hours`] hours each of its
///   `InstanceType`; with idle stop (the notebook's Metadata `sandboxc-idle-stop-seconds`, written
///   by the compiler) [`notebook_hours_with_idle_stop`] instead; and `VolumeSizeInGB` of ML
///   storage for the whole month (stopped notebooks keep their volume).
/// - `AWS::EC2::VPCEndpoint` of type `Interface`: one endpoint-hour per subnet (one subnet per
///   Availability Zone) and hour of the month (AWS PrivateLink pricing: billed per VPC endpoint
///   per Availability Zone); gateway endpoints are free.
/// - `AWS::KMS::Key`: one key-month each.
/// - `AWS::CloudTrail::Trail` with data-event selectors: [`Assumptions::trail_data_events`].
/// - `AWS::S3::Bucket`: [`Assumptions::s3_gb`] in total, on one line, whatever the number
///   of buckets.
#[must_use]
pub fn usage<'a>(templates: impl IntoIterator<Item = (&'a str, &'a Template)>, a: &Assumptions) -> Vec<Usage> {
    let mut acc = Acc::default();
    let mut buckets = Vec::new();
    for (label, template) in templates {
        for (id, r) in &template.resources {
            let name = format!("{label}/{id}");
            let p = &r.properties;
            match r.kind.as_str() {
                "AWS::AppStream::Fleet" => fleet(&mut acc, &name, p, a),
                "AWS::SageMaker::NotebookInstance" => {
                    let (hours, basis) = match idle_stop_seconds(r) {
                        Some(idle) => {
                            let hours = notebook_hours_with_idle_stop(a, idle);
                            let stops = a.notebook_active_hours / ACTIVE_HOURS_PER_DAY;
                            (
                                hours,
                                format!(
                                    "{} h per notebook: {} h of use (--notebook-active-hours) + {} idle stops of {} h (one per {} h of use), at most --hours-per-month",
                                    number(hours),
                                    number(a.notebook_active_hours),
                                    number(stops),
                                    number(idle / 3600.0),
                                    number(ACTIVE_HOURS_PER_DAY)
                                ),
                            )
                        }
                        None => (
                            a.notebook_hours,
                            format!("{} h per notebook (--notebook-hours)", number(a.notebook_hours)),
                        ),
                    };
                    match literal_str(p.get("InstanceType")) {
                        Some(t) => acc.add(Meter::NotebookHours { instance_type: t.to_string() }, hours, basis, &name),
                        None => acc.unreadable(
                            Meter::NotebookHours { instance_type: "?".into() },
                            format!("{name}: InstanceType is not a literal in the template"),
                        ),
                    }
                    // SageMaker's default volume is 5 GB (CreateNotebookInstance, VolumeSizeInGB).
                    let gb = literal_num(p.get("VolumeSizeInGB")).unwrap_or(5.0);
                    acc.add(Meter::NotebookStorage, gb, "VolumeSizeInGB of each notebook".into(), &name);
                }
                "AWS::EC2::VPCEndpoint" => {
                    if literal_str(p.get("VpcEndpointType")) != Some("Interface") {
                        continue;
                    }
                    match p.get("SubnetIds") {
                        Some(Expr::List(subnets)) => {
                            #[allow(clippy::cast_precision_loss)]
                            let azs = subnets.len() as f64;
                            acc.add(
                                Meter::InterfaceEndpointHours,
                                azs * a.hours_per_month,
                                format!("AZs (subnets) x {} h (--hours-per-month)", number(a.hours_per_month)),
                                &name,
                            );
                        }
                        _ => acc.unreadable(
                            Meter::InterfaceEndpointHours,
                            format!("{name}: SubnetIds is not a list in the template"),
                        ),
                    }
                }
                "AWS::KMS::Key" => acc.add(Meter::KmsKeys, 1.0, "1 key-month per key".into(), &name),
                "AWS::CloudTrail::Trail" => {
                    let data_selectors = match p.get("EventSelectors") {
                        Some(Expr::List(sels)) => sels.iter().any(|s| match field(Some(s), "DataResources") {
                            Some(Expr::List(d)) => !d.is_empty(),
                            _ => false,
                        }),
                        _ => false,
                    } || matches!(p.get("AdvancedEventSelectors"), Some(Expr::List(l)) if !l.is_empty());
                    if data_selectors {
                        acc.add(
                            Meter::TrailDataEvents,
                            a.trail_data_events,
                            format!("{} events per trail (--trail-data-events)", number(a.trail_data_events)),
                            &name,
                        );
                    }
                }
                "AWS::S3::Bucket" => buckets.push(name),
                _ => {}
            }
        }
    }
    if !buckets.is_empty() {
        let basis = format!("{} GB across the sandbox's buckets (--s3-gb)", number(a.s3_gb));
        for (i, b) in buckets.iter().enumerate() {
            acc.add(Meter::S3Standard, if i == 0 { a.s3_gb } else { 0.0 }, basis.clone(), b);
        }
    }
    acc.usages.into_values().collect()
}

fn fleet(acc: &mut Acc, name: &str, p: &ExprMap, a: &Assumptions) {
    let Some(t) = literal_str(p.get("InstanceType")) else {
        acc.unreadable(
            Meter::AppStreamRunning { instance_type: "?".into() },
            format!("{name}: InstanceType is not a literal in the template"),
        );
        return;
    };
    let running = Meter::AppStreamRunning { instance_type: t.to_string() };
    let kind = literal_str(p.get("FleetType")).unwrap_or("ON_DEMAND");
    if kind == "ELASTIC" {
        match literal_num(p.get("MaxConcurrentSessions")) {
            Some(n) => acc.add(
                running,
                n * a.appstream_hours,
                format!(
                    "{} sessions x {} h (ELASTIC: MaxConcurrentSessions, --appstream-hours)",
                    number(n),
                    number(a.appstream_hours)
                ),
                name,
            ),
            None => acc.unreadable(running, format!("{name}: MaxConcurrentSessions is not a literal")),
        }
        return;
    }
    let Some(n) = literal_num(field(p.get("ComputeCapacity"), "DesiredInstances")) else {
        acc.unreadable(running, format!("{name}: ComputeCapacity.DesiredInstances is not a literal"));
        return;
    };
    if kind == "ALWAYS_ON" {
        acc.add(
            running,
            n * a.hours_per_month,
            format!("{} instances x {} h (ALWAYS_ON: all month)", number(n), number(a.hours_per_month)),
            name,
        );
    } else {
        let streaming = a.appstream_hours.min(a.hours_per_month);
        acc.add(
            running,
            n * streaming,
            format!("{} instances x {} h (ON_DEMAND: --appstream-hours)", number(n), number(streaming)),
            name,
        );
        acc.add(
            Meter::AppStreamStopped,
            n * (a.hours_per_month - streaming),
            format!(
                "{} instances x {} h (ON_DEMAND: the rest of the month)",
                number(n),
                number(a.hours_per_month - streaming)
            ),
            name,
        );
    }
}
