//! Semantic validation: the rules a JSON Schema cannot say (CIDR arithmetic, AWS ranges,
//! fleet-type rules, derived names). Runs on a structurally valid [`Document`], reports every
//! violation at once, and otherwise returns the [`Blueprint`] of parsed values the compiler
//! reads (parse, don't validate: nothing parsed here is thrown away).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use sandboxc_contract::assets::ASSETS_STACK_NAME;
use sandboxc_contract::validator::{MAX_SESSION_EXPIRATION_SECONDS, MIN_SESSION_EXPIRATION_SECONDS};

use super::diagnostics::Diagnostic;
use super::document::Document;
use super::duration::Duration;
use super::known;
use super::model::{AvailabilityZones, Blueprint, FleetType, Network, PrivateStreaming};
use super::names::Names;

/// CloudWatch Logs' allowed retention values in days (PutRetentionPolicy, `retentionInDays`).
pub const LOG_RETENTION_DAYS: [u32; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// AppStream instances use this range for management; the VPC must not overlap it (AppStream admin guide).
pub const APPSTREAM_MANAGEMENT_RANGE: &str = "198.19.0.0/16";

/// Each AZ gets one subnet of the VPC split in 8 (3 more prefix bits), so adding a zone never moves
/// the existing subnets: a /16../24 VPC gives /19../27 subnets.
pub const SUBNET_EXTRA_BITS: u8 = 3;

/// The smallest subnet AWS allows is a /28 (VPC user guide, "Subnet sizing").
pub const SMALLEST_SUBNET_PREFIX: u8 = 28;

/// The subnets of a VPC: the `i`-th /(prefix+3) block of `vpc` for zone `i`, `count` of them.
///
/// # Errors
/// A message when `vpc` cannot be split into `count` subnets of at least a /28 (validation
/// reports it for the blueprint).
pub fn subnet_cidrs(vpc: Ipv4Net, count: usize) -> Result<Vec<Ipv4Net>, String> {
    let prefix = vpc.prefix_len() + SUBNET_EXTRA_BITS;
    if prefix > SMALLEST_SUBNET_PREFIX {
        return Err(format!("{vpc} split for {count} zones gives /{prefix} subnets, smaller than AWS's smallest (/{SMALLEST_SUBNET_PREFIX})"));
    }
    let subnets = vpc.subnets(prefix).map_err(|e| format!("{vpc}: {e}"))?;
    let list: Vec<Ipv4Net> = subnets.take(count).collect();
    if list.len() == count {
        Ok(list)
    } else {
        Err(format!("{vpc} has room for {} subnets, not {count}", list.len()))
    }
}

/// Checks every semantic rule of `document`.
///
/// # Errors
/// Every problem found, as diagnostics with blueprint paths (not yet positioned).
pub fn validate(document: Document) -> Result<Blueprint, Vec<Diagnostic>> {
    let b = &document;
    let mut out = Vec::new();
    if let Some(region) = &b.region {
        if let Some(u) = known::REGIONS.check(region, "eu-west-1") {
            out.push(Diagnostic::new("region", u.message).allowed(u.allowed));
        }
    }
    let network = network(b, &mut out);
    let people = super::people::validate(b, &mut out);
    storage(b, &mut out);
    appstream(b, &mut out);
    notebook(b, &mut out);
    audit(b, &mut out);
    tags(b, &mut out);
    if b.name == ASSETS_STACK_NAME {
        out.push(
            Diagnostic::new(
                "name",
                format!("{:?} is the name of sandboxc's assets stack (sandboxc bootstrap)", b.name),
            )
            .allowed("any other environment name, such as data-sandbox"),
        );
    }
    let names = Names::new(&b.name);
    for (what, name, problem) in names.violations(b.audit.cloudtrail) {
        out.push(
            Diagnostic::new("name", format!("gives the {what} name {name:?}, which {problem}"))
                .allowed("an environment name without trailing or doubled '-', such as data-sandbox"),
        );
    }
    // `network` and `people` are None only after a problem was reported.
    match (network, people) {
        (Some(network), Some((datasets, users))) if out.is_empty() => Ok(Blueprint {
            version: document.version,
            name: document.name,
            names,
            account: document.account,
            region: document.region,
            tags: document.tags,
            layout: document.layout,
            network,
            storage: document.storage,
            appstream: document.appstream,
            notebook: document.notebook,
            identity: document.identity,
            audit: document.audit,
            datasets,
            users,
        }),
        _ => Err(out),
    }
}

/// Checks `network:` and parses it: `None` exactly when a problem was pushed.
fn network(b: &Document, out: &mut Vec<Diagnostic>) -> Option<Network> {
    let before = out.len();
    let cidr = &b.network.cidr;
    let vpc = match cidr.parse::<Ipv4Net>() {
        Err(_) => {
            out.push(
                Diagnostic::new("network.cidr", format!("{cidr:?} is not an IPv4 CIDR"))
                    .allowed("an RFC 1918 prefix from /16 to /24, such as 10.10.0.0/16"),
            );
            None
        }
        Ok(net) => {
            let checked = out.len();
            let prefix_ok = (16..=24).contains(&net.prefix_len());
            if !prefix_ok {
                // The suggestion keeps the address and takes the nearest allowed prefix, so that
                // it is itself allowed (when the address is private).
                let near = net.prefix_len().clamp(16, 24);
                let suggestion = Ipv4Net::new(net.addr(), near).map(|n| n.trunc()).ok().filter(|n| is_rfc1918(*n));
                let allowed = suggestion.map_or_else(
                    || "a prefix from /16 to /24".to_string(),
                    |n| format!("a prefix from /16 to /24, such as {n}"),
                );
                out.push(
                    Diagnostic::new("network.cidr", format!("{cidr} is a /{} prefix", net.prefix_len()))
                        .allowed(allowed),
                );
            }
            // With a wrong prefix, the host bits are judged against the suggested prefix above.
            if prefix_ok && net.network() != net.addr() {
                out.push(
                    Diagnostic::new("network.cidr", format!("{cidr} has host bits set"))
                        .allowed(format!("the network address {}", net.trunc())),
                );
            }
            let mgmt = APPSTREAM_MANAGEMENT_RANGE.parse::<Ipv4Net>().ok();
            if mgmt.is_some_and(|m| net.contains(&m.network()) || m.contains(&net.network())) {
                out.push(
                    Diagnostic::new("network.cidr", format!("{cidr} overlaps {APPSTREAM_MANAGEMENT_RANGE}, the range AppStream uses to manage its instances"))
                        .allowed("a prefix inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
                );
            } else if !is_rfc1918(net) {
                out.push(
                    Diagnostic::new("network.cidr", format!("{cidr} is not a private (RFC 1918) range"))
                        .allowed("a prefix inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"),
                );
            }
            // Each zone gets one /(prefix+3) subnet (the compiler's own split), at least a /28.
            let subnets = if (16..=24).contains(&net.prefix_len()) {
                match subnet_cidrs(net, b.network.availability_zones.count()) {
                    Ok(subnets) => Some(subnets),
                    Err(problem) => {
                        out.push(
                            Diagnostic::new("network.cidr", format!("cannot hold the subnets: {problem}"))
                                .allowed("a prefix from /16 to /24"),
                        );
                        None
                    }
                }
            } else {
                None
            };
            subnets.filter(|_| out.len() == checked).map(|subnets| (net, subnets))
        }
    };
    if let AvailabilityZones::Names(names) = &b.network.availability_zones {
        let mut seen = BTreeSet::new();
        for (i, az) in names.iter().enumerate() {
            let path = format!("network.availability_zones[{i}]");
            if !is_az_name(az) {
                out.push(
                    Diagnostic::new(path.clone(), format!("{az:?} is not an Availability Zone name"))
                        .allowed("names such as eu-west-1a"),
                );
            } else if !known::REGIONS.contains(&az[..az.len() - 1]) {
                let (region, letter) = az.split_at(az.len() - 1);
                let zones: Vec<String> =
                    known::suggestions(region, known::REGIONS.values).iter().map(|r| format!("{r}{letter}")).collect();
                let first = if zones.is_empty() {
                    "zones of a known AWS Region, such as eu-west-1a.".to_string()
                } else {
                    format!("did you mean {}?", zones.join(" or "))
                };
                out.push(
                    Diagnostic::new(path.clone(), format!("{az} is not a zone of a known AWS Region ({region})"))
                        .allowed(format!("{first} {}", known::REGIONS.if_added(region))),
                );
            } else if let Some(region) = &b.region {
                if az.len() != region.len() + 1 || !az.starts_with(region.as_str()) {
                    out.push(
                        Diagnostic::new(path.clone(), format!("{az} is not in region {region}"))
                            .allowed(format!("zones of {region}, such as {region}a")),
                    );
                }
            }
            if !seen.insert(az) {
                out.push(Diagnostic::new(path, format!("{az} is listed twice")).allowed("distinct zone names"));
            }
        }
        // Zones of unknown Regions are named above, each with a suggestion.
        let regions: BTreeSet<&str> = names
            .iter()
            .filter(|a| is_az_name(a))
            .map(|a| &a[..a.len() - 1])
            .filter(|r| known::REGIONS.contains(r))
            .collect();
        // With a pinned region, each foreign zone is already named above.
        if regions.len() > 1 && b.region.is_none() {
            out.push(
                Diagnostic::new(
                    "network.availability_zones",
                    format!("names zones of several regions ({})", regions.into_iter().collect::<Vec<_>>().join(", ")),
                )
                .allowed("zones of one region"),
            );
        }
    }
    let private_streaming = match &b.network.private_streaming {
        None => None,
        Some(ps) => {
            let mut client_cidrs = Vec::new();
            for (i, c) in ps.client_cidrs.iter().enumerate() {
                let path = format!("network.private_streaming.client_cidrs[{i}]");
                match c.parse::<Ipv4Net>() {
                    Err(_) => out.push(
                        Diagnostic::new(path, format!("{c:?} is not an IPv4 CIDR"))
                            .allowed("networks such as 203.0.113.0/24"),
                    ),
                    Ok(net) => {
                        if net.network() != net.addr() {
                            out.push(
                                Diagnostic::new(path.clone(), format!("{c} has host bits set"))
                                    .allowed(format!("the network address {}", net.trunc())),
                            );
                        }
                        if net.prefix_len() < 8 {
                            out.push(
                                Diagnostic::new(
                                    path,
                                    format!("{c} opens the streaming endpoint to a large part of the internet"),
                                )
                                .allowed("the networks your users stream from, /8 or narrower, such as 203.0.113.0/24"),
                            );
                        }
                        client_cidrs.push(net);
                    }
                }
            }
            Some(PrivateStreaming { client_cidrs })
        }
    };
    if out.len() > before {
        return None;
    }
    let (cidr, subnets) = vpc?;
    Some(Network {
        cidr,
        subnets,
        generation: b.network.generation(),
        availability_zones: b.network.availability_zones.clone(),
        flow_logs: b.network.flow_logs,
        private_streaming,
    })
}

fn is_rfc1918(net: Ipv4Net) -> bool {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]
        .iter()
        .filter_map(|r| r.parse::<Ipv4Net>().ok())
        .any(|r| r.contains(&net))
}

/// `eu-west-1a`: region, then one letter.
fn is_az_name(az: &str) -> bool {
    let Some(last) = az.chars().last() else { return false };
    let region = &az[..az.len() - last.len_utf8()];
    last.is_ascii_lowercase() && is_region(region)
}

/// `eu-west-1`, `us-gov-west-1`, `ap-southeast-3`, `eusc-de-east-1`: the form of a Region name
/// (whether AWS operates it is [`known::REGIONS`]).
fn is_region(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && (2..=4).contains(&parts[0].len())
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].len() == 1
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
}

fn storage(b: &Document, out: &mut Vec<Diagnostic>) {
    if let Some(name) = &b.storage.bucket_name {
        if let Some(problem) = bucket_name_problem(name) {
            out.push(
                Diagnostic::new("storage.bucket_name", format!("{name:?} {problem}"))
                    .allowed("3-63 lowercase letters, digits and hyphens, starting and ending with a letter or digit"),
            );
        }
    }
}

/// Why `name` breaks the S3 bucket naming rules (S3 user guide, "Bucket naming rules"), if it does.
#[must_use]
pub fn bucket_name_problem(name: &str) -> Option<&'static str> {
    if !(3..=63).contains(&name.len()) {
        return Some("is not 3 to 63 characters long");
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.') {
        return Some("may only contain lowercase letters, digits and '-'");
    }
    let first_last_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !first_last_ok(name.chars().next()) || !first_last_ok(name.chars().last()) {
        return Some("must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return Some("has adjacent periods or a period next to a hyphen");
    }
    if name.parse::<Ipv4Addr>().is_ok() {
        return Some("is formatted as an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return Some("starts with a prefix S3 reserves (xn--, sthree-, amzn-s3-demo-)");
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return Some("ends with a suffix S3 reserves (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)");
        }
    }
    if name.contains('.') {
        return Some("contains '.', which breaks TLS for virtual-hosted-style requests");
    }
    None
}

fn appstream(b: &Document, out: &mut Vec<Diagnostic>) {
    let a = &b.appstream;
    if let Some(u) = known::APPSTREAM_INSTANCE_TYPES.check(&a.instance_type, "stream.standard.small") {
        out.push(Diagnostic::new("appstream.instance_type", u.message).allowed(u.allowed));
    }
    match a.fleet_type {
        FleetType::Elastic => {
            if a.desired_instances.is_some() {
                out.push(
                    Diagnostic::new("appstream.desired_instances", "is not used by ELASTIC fleets")
                        .allowed("leave it out and set max_concurrent_sessions"),
                );
            }
            if a.max_concurrent_sessions.is_none() {
                out.push(
                    Diagnostic::new("appstream.fleet_type", "ELASTIC fleets need max_concurrent_sessions")
                        .allowed("appstream.max_concurrent_sessions: 1 or more"),
                );
            }
        }
        FleetType::OnDemand | FleetType::AlwaysOn => {
            if a.max_concurrent_sessions.is_some() {
                out.push(
                    Diagnostic::new(
                        "appstream.max_concurrent_sessions",
                        format!("is only used by ELASTIC fleets, not {}", a.fleet_type.as_cfn()),
                    )
                    .allowed("desired_instances for ON_DEMAND and ALWAYS_ON fleets"),
                );
            }
        }
    }
    // Ranges: the intersection of the AppStream API (CreateFleet) and CloudFormation's
    // AWS::AppStream::Fleet schema (cfn-lint's bundled registry schema), which is stricter for
    // the session length (360000 s) and the idle timeout (3600 s).
    range(
        out,
        "appstream.max_session_duration",
        a.max_session_duration.as_secs(),
        600,
        360_000,
        "10m to 100h (600 to 360000 seconds)",
    );
    range(
        out,
        "appstream.disconnect_timeout",
        a.disconnect_timeout.as_secs(),
        60,
        36_000,
        "1m to 10h (60 to 36000 seconds)",
    );
    let idle = a.idle_disconnect_timeout.as_secs();
    if idle != 0 {
        range(out, "appstream.idle_disconnect_timeout", idle, 60, 3600, "0 (off) or 1m to 1h (60 to 3600 seconds)");
    }
}

fn notebook(b: &Document, out: &mut Vec<Diagnostic>) {
    let n = &b.notebook;
    if let Some(u) = known::NOTEBOOK_INSTANCE_TYPES.check(&n.instance_type, "ml.t3.medium") {
        out.push(Diagnostic::new("notebook.instance_type", u.message).allowed(u.allowed));
    }
    // CreatePresignedNotebookInstanceUrl: SessionExpirationDurationInSeconds, the bounds the
    // validator Lambda checks its environment against (30m to 12h).
    let (min, max) = (u64::from(MIN_SESSION_EXPIRATION_SECONDS), u64::from(MAX_SESSION_EXPIRATION_SECONDS));
    let allowed = format!("{} to {} ({min} to {max} seconds)", Duration::from_secs(min), Duration::from_secs(max));
    range(out, "notebook.session_expiration", n.session_expiration.as_secs(), min, max, &allowed);
    let idle = n.idle_stop.as_secs();
    if idle != 0 {
        range(out, "notebook.idle_stop", idle, MIN_IDLE_STOP_SECONDS, MAX_IDLE_STOP_SECONDS, IDLE_STOP_RULE);
    }
}

/// Shortest `notebook.idle_stop` other than 0: the idle check runs every 5 minutes, so a
/// shorter time would stop a notebook between two cells of one piece of work.
pub const MIN_IDLE_STOP_SECONDS: u64 = 600;
/// Longest `notebook.idle_stop`: 7 days.
pub const MAX_IDLE_STOP_SECONDS: u64 = 7 * 86_400;
const IDLE_STOP_RULE: &str = "0 (never) or 10m to 7d (600 to 604800 seconds)";

fn audit(b: &Document, out: &mut Vec<Diagnostic>) {
    let days = b.audit.log_retention_days;
    if !LOG_RETENTION_DAYS.contains(&days) {
        let allowed = LOG_RETENTION_DAYS.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        out.push(
            Diagnostic::new("audit.log_retention_days", format!("{days} is not a CloudWatch Logs retention value"))
                .allowed(allowed),
        );
    }
    if let Some(athena) = &b.audit.athena {
        let min = super::model::MIN_BYTES_SCANNED_LIMIT;
        if athena.bytes_scanned_limit < min {
            out.push(
                Diagnostic::new(
                    "audit.athena.bytes_scanned_limit",
                    format!("{} bytes is below Athena's minimum per-query limit", athena.bytes_scanned_limit),
                )
                .allowed(format!("at least {min} (10 MB), e.g. 10000000000 (10 GB)")),
            );
        }
        if !(1..=3650).contains(&athena.results_retention_days) {
            out.push(
                Diagnostic::new(
                    "audit.athena.results_retention_days",
                    format!("{} days is out of range", athena.results_retention_days),
                )
                .allowed("1 to 3650 days"),
            );
        }
        for (on, what) in [(b.audit.cloudtrail, "audit.cloudtrail"), (b.audit.usage_reports, "audit.usage_reports")] {
            if !on {
                out.push(
                    Diagnostic::new("audit.athena", format!("needs {what}: the Athena tables read its bucket"))
                        .allowed(format!("{what}: true, or no audit.athena")),
                );
            }
        }
    }
}

fn tags(b: &Document, out: &mut Vec<Diagnostic>) {
    // Tag rules: keys 1..128, values 0..256, no `aws:` prefix, at most 50 per resource
    // (sandboxc adds sandboxc:environment, and sandboxc:user on a user's resources).
    if b.tags.len() > 48 {
        out.push(
            Diagnostic::new("tags", format!("has {} tags", b.tags.len()))
                .allowed("at most 48 (sandboxc adds sandboxc:environment, and sandboxc:user on each user's notebook, role and allow-list entry)"),
        );
    }
    for (k, v) in &b.tags {
        let path = format!("tags.{k}");
        if k.is_empty() || k.chars().count() > 128 {
            out.push(
                Diagnostic::new(path.clone(), "tag key length is out of range").allowed("1 to 128 characters").on_key(),
            );
        }
        if k.to_ascii_lowercase().starts_with("aws:") || k.starts_with("sandboxc:") {
            out.push(
                Diagnostic::new(path.clone(), format!("tag key {k:?} uses a reserved prefix"))
                    .allowed("keys not starting with aws: or sandboxc:")
                    .on_key(),
            );
        }
        if v.chars().count() > 256 {
            out.push(
                Diagnostic::new(path.clone(), "tag value is longer than 256 characters").allowed("0 to 256 characters"),
            );
        }
        // Tag keys and values: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$ (Resource Groups Tagging API, Tag).
        let tag_char = |c: char| c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c);
        if let Some(c) = k.chars().find(|c| !tag_char(*c)) {
            out.push(Diagnostic::new(path.clone(), format!("tag key contains {c:?}")).allowed(TAG_CHARACTERS).on_key());
        }
        if let Some(c) = v.chars().find(|c| !tag_char(*c)) {
            out.push(Diagnostic::new(path, format!("tag value contains {c:?}")).allowed(TAG_CHARACTERS));
        }
    }
}

/// The characters AWS allows in tags, in words.
const TAG_CHARACTERS: &str = "letters, digits, spaces and _ . : / = + - @";

fn range(out: &mut Vec<Diagnostic>, path: &str, secs: u64, min: u64, max: u64, allowed: &str) {
    if secs < min || secs > max {
        out.push(Diagnostic::new(path, format!("{} is out of range", Duration::from_secs(secs))).allowed(allowed));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::{load, Source};

    fn net(text: &str) -> Ipv4Net {
        text.parse().unwrap_or_else(|_| Ipv4Net::default())
    }

    fn loaded(text: &str) -> Result<Blueprint, String> {
        let text = format!("{text}appstream:\n  image_name: img\n");
        load(&Source { name: "t.yaml".into(), text }).map_err(|d| d.to_string())
    }

    #[test]
    fn the_validated_blueprint_carries_the_carved_subnets_and_parsed_networks() {
        let b = loaded(
            "name: team-a\nnetwork:\n  cidr: 10.20.0.0/16\n  availability_zones: 3\n  private_streaming:\n    client_cidrs: [203.0.113.0/24, 198.51.100.0/22]\n",
        );
        let b = b.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.network.cidr, net("10.20.0.0/16"));
        assert_eq!(b.network.subnets, vec![net("10.20.0.0/19"), net("10.20.32.0/19"), net("10.20.64.0/19")]);
        assert_eq!(
            b.network.private_streaming.map(|p| p.client_cidrs),
            Some(vec![net("203.0.113.0/24"), net("198.51.100.0/22")])
        );
        assert_eq!(b.names, Names::new("team-a"));
        assert_eq!(b.notebook.session_expiration.as_secs(), 1800);
    }

    #[test]
    fn named_zones_get_one_subnet_each_in_order() {
        let b =
            loaded("name: team-a\nnetwork:\n  cidr: 192.168.4.0/24\n  availability_zones: [eu-west-1b, eu-west-1a]\n");
        let b = b.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(b.network.subnets, vec![net("192.168.4.0/27"), net("192.168.4.32/27")]);
        assert_eq!(b.network.availability_zones.count(), b.network.subnets.len());
    }

    #[test]
    fn subnets_are_carved_from_the_network_address() {
        assert_eq!(subnet_cidrs(net("10.0.0.0/16"), 2), Ok(vec![net("10.0.0.0/19"), net("10.0.32.0/19")]));
        assert_eq!(subnet_cidrs(net("10.0.0.0/24"), 8).map(|s| s.len()), Ok(8));
        assert!(subnet_cidrs(net("10.0.0.0/24"), 9).is_err_and(|e| e.contains("has room for 8 subnets, not 9")));
        assert!(subnet_cidrs(net("10.0.0.0/26"), 2).is_err_and(|e| e.contains("smaller than AWS's smallest (/28)")));
    }

    #[test]
    fn a_bad_network_gives_no_blueprint_and_every_problem() {
        let problems = validate(Document {
            network: super::super::NetworkDocument {
                cidr: "10.0.0.1/25".into(),
                private_streaming: Some(super::super::PrivateStreamingDocument {
                    client_cidrs: vec!["nope".into(), "0.0.0.0/0".into()],
                }),
                ..Default::default()
            },
            ..serde_json::from_value(serde_json::json!({"name": "team-a", "appstream": {"image_name": "img"}}))
                .unwrap_or_else(|e| panic!("{e}"))
        });
        let problems = problems.err().unwrap_or_default();
        let paths: Vec<&str> = problems.iter().map(|d| d.path.as_str()).collect();
        // The /25 is refused once, with an allowed suggestion (its host bits are judged against
        // that suggestion, not reported against the refused prefix).
        assert_eq!(
            paths,
            ["network.cidr", "network.private_streaming.client_cidrs[0]", "network.private_streaming.client_cidrs[1]"]
        );
        assert_eq!(problems[0].allowed.as_deref(), Some("a prefix from /16 to /24, such as 10.0.0.0/24"));
    }

    #[test]
    fn a_refused_prefix_suggests_an_allowed_network() {
        let problem = |cidr: &str| {
            let text = format!("name: team-a\nnetwork:\n  cidr: {cidr}\n");
            loaded(&text).err().unwrap_or_default()
        };
        let slash12 = problem("10.60.0.0/12");
        assert!(
            slash12.contains("10.60.0.0/12 is a /12 prefix (allowed: a prefix from /16 to /24, such as 10.60.0.0/16)"),
            "{slash12}"
        );
        assert!(!slash12.contains("10.48.0.0"), "{slash12}");
        assert!(problem("10.10.1.0/16").contains("(allowed: the network address 10.10.0.0/16)"));
        assert!(problem("192.168.7.77/26").contains("such as 192.168.7.0/24"));
    }

    #[test]
    fn typos_of_known_values_are_refused_with_a_suggestion() {
        let text = "name: team-a\nregion: us-east-9\nnotebook:\n  instance_type: ml.t3.larg\nappstream:\n  instance_type: stream.standard.mediun\n  image_name: img\n";
        let problems =
            load(&Source { name: "t.yaml".into(), text: text.into() }).err().map(|d| d.to_string()).unwrap_or_default();
        for expected in [
            "t.yaml:2:9: error: region: \"us-east-9\" is not a known AWS Region (allowed: did you mean us-east-1 or us-east-2?",
            "t.yaml:4:18: error: notebook.instance_type: \"ml.t3.larg\" is not a known SageMaker notebook instance type (allowed: did you mean ml.t3.large?",
            "t.yaml:6:18: error: appstream.instance_type: \"stream.standard.mediun\" is not a known AppStream instance type (allowed: did you mean stream.standard.medium?",
            "add it to src/blueprint/known/appstream.rs and rebuild sandboxc)",
        ] {
            assert!(problems.contains(expected), "{expected}\n{problems}");
        }
    }
}
