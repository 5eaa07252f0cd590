//! `audit.athena`: the Glue tables' partition projection matches the key layouts the trail and
//! the usage reports write, the very layouts of the audit fixtures the local engine reads
//! (tests/fixtures/audit): every CloudTrail log file and sessions report of the fixtures is at
//! `storage.location.template` expanded with projected values, the digest files and the
//! applications reports are not; and the partition values the generated query names are
//! the ones of the fixtures' folders.

use std::path::Path;

use serde_json::Value;

use crate::common;

/// The example blueprint with `audit.athena`.
fn example() -> sandboxc::blueprint::Source {
    let path = common::root().join("examples/always-on-4az.yaml");
    sandboxc::blueprint::Source {
        name: "examples/always-on-4az.yaml".into(),
        text: std::fs::read_to_string(path).expect("example"),
    }
}

fn table(id: &str) -> Value {
    common::resources(&example())
        .into_iter()
        .find(|(_, i, _)| i == id)
        .map(|(_, _, r)| r)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

/// The key part of `storage.location.template` (`Fn::Sub` of `s3://${Bucket}/...` with the
/// projected names written `${!name}`), and the table's parameters.
fn template_of(table: &Value) -> (String, serde_json::Map<String, Value>) {
    let params = table["Properties"]["TableInput"]["Parameters"].as_object().expect("Parameters").clone();
    let sub = &params["storage.location.template"]["Fn::Sub"];
    let text = sub[0].as_str().expect("Fn::Sub text");
    let key = text.strip_prefix("s3://${Bucket}/").expect("s3://${Bucket}/...").replace("${!", "${");
    assert_eq!(params["projection.enabled"], "true");
    (key, params)
}

/// How many characters a projected value takes at the start of `rest`, or `None`.
fn projected(name: &str, params: &serde_json::Map<String, Value>, rest: &str, next: &str) -> Option<usize> {
    let kind = params.get(&format!("projection.{name}.type"))?.as_str()?;
    match kind {
        "date" => {
            assert_eq!(params[&format!("projection.{name}.format")], "yyyy/MM/dd");
            let v = rest.get(..10)?;
            let b = v.as_bytes();
            let ok = b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'/' } else { c.is_ascii_digit() });
            ok.then_some(10)
        }
        "integer" => {
            let n = match params.get(&format!("projection.{name}.digits")).and_then(Value::as_str) {
                Some(d) => d.parse().ok()?,
                None => rest.bytes().take_while(u8::is_ascii_digit).count(),
            };
            (n > 0 && rest.get(..n)?.bytes().all(|c| c.is_ascii_digit())).then_some(n)
        }
        // One value per deployment (the account, the Region): anything up to the next literal.
        "enum" => rest.find(next).filter(|&n| n > 0),
        other => panic!("projection type {other}"),
    }
}

/// Whether `key` is a file directly under the template's folder.
fn matches(template: &str, params: &serde_json::Map<String, Value>, key: &str) -> bool {
    let mut rest = key;
    let mut t = template;
    while !t.is_empty() {
        if let Some(after) = t.strip_prefix("${") {
            let Some((name, tail)) = after.split_once('}') else { return false };
            let next = tail.split("${").next().unwrap_or("");
            let Some(n) = projected(name, params, rest, next) else { return false };
            rest = &rest[n..];
            t = tail;
        } else {
            let lit = t.split("${").next().unwrap_or("");
            let Some(r) = rest.strip_prefix(lit) else { return false };
            rest = r;
            t = &t[lit.len()..];
        }
    }
    !rest.is_empty() && !rest.contains('/')
}

fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn partition_projection_matches_the_trail_and_usage_report_layouts() {
    let (trail, trail_params) = template_of(&table("AuditTrailTable"));
    assert_eq!(trail, "AWSLogs/${account}/CloudTrail/${region}/${day}/");
    let (reports, report_params) = template_of(&table("AuditSessionsTable"));
    assert_eq!(reports, "sessions/schedule=DAILY/year=${year}/month=${month}/day=${day}/");
    let fixtures = common::root().join("tests/fixtures/audit");
    let mut seen = (0, 0);
    for set in ["findings", "clean"] {
        for key in files(&fixtures.join(set).join("cloudtrail")) {
            let log_file = key.contains("_CloudTrail_") && (key.ends_with(".json.gz") || key.ends_with(".json"));
            if log_file {
                seen.0 += 1;
            }
            if log_file || key.contains("CloudTrail-Digest") {
                assert_eq!(matches(&trail, &trail_params, &key), log_file, "{set}: {key}");
            }
        }
        for key in files(&fixtures.join(set).join("usage-reports")) {
            let report = key.contains("daily-session-report-");
            if report {
                seen.1 += 1;
            }
            assert_eq!(matches(&reports, &report_params, &key), report, "{set}: {key}");
        }
    }
    assert!(seen.0 >= 6 && seen.1 >= 3, "{seen:?}");
    // The query's partition values are the folders' (a day of the fixtures and the next).
    let since = sandboxc::audit::time::Instant::parse("2026-11-28").unwrap();
    let until = sandboxc::audit::time::Instant::parse("2026-11-29").unwrap();
    let days = sandboxc::audit::athena_sql::trail_partition_days(since, until);
    assert_eq!(days, vec!["2026/11/28", "2026/11/29"]);
    for d in &days {
        let key = format!("AWSLogs/123456789012/CloudTrail/us-east-1/{d}/x.json.gz");
        assert!(matches(&trail, &trail_params, &key), "{key}");
        assert!(fixtures
            .join("findings/cloudtrail")
            .join(format!("AWSLogs/123456789012/CloudTrail/us-east-1/{d}"))
            .is_dir());
    }
    // The table's columns are the sessions report's documented columns, in order (the query
    // and the DuckDB harness read them by position).
    let columns: Vec<String> = table("AuditSessionsTable")["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(columns, sandboxc::audit::sessions::DOCUMENTED_COLUMNS.to_vec());
}

#[test]
fn the_workgroup_enforces_its_configuration_and_limit() {
    let wg = table("AuditWorkGroup");
    let c = &wg["Properties"]["WorkGroupConfiguration"];
    assert_eq!(wg["Properties"]["Name"], "sandboxc-genomics-audit");
    assert_eq!(c["EnforceWorkGroupConfiguration"], true);
    assert_eq!(c["BytesScannedCutoffPerQuery"], 20_000_000_000_i64);
    assert_eq!(c["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"], "SSE_KMS");
    let db = table("AuditDatabase");
    assert_eq!(db["Properties"]["DatabaseInput"]["Name"], "sandboxc_genomics");
    // No crawler, no repair: partition projection only.
    assert!(common::resources(&example()).iter().all(|(_, _, r)| r["Type"] != "AWS::Glue::Crawler"));
}
