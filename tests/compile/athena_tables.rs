//! `audit.athena`: the Glue tables' partition projection matches the key layouts the trail and
//! the usage reports write, the very layouts of the audit fixtures the local engine reads
//! (tests/fixtures/audit): every CloudTrail log file and sessions report of the fixtures is at
//! `storage.location.template` expanded with projected values, the digest files and the
//! applications reports are not; and the partition values the generated query names are
//! the ones of the fixtures' folders. The decisions table (`audit.athena.export_decisions`)
//! reads the keys the validator's Firehose stream writes and never its failed records; with the
//! export off, the output is the one of the Athena tables alone.

use serde_json::json;
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

/// The example with `audit.athena.export_decisions: false`.
fn example_without_decisions() -> sandboxc::blueprint::Source {
    let mut source = example();
    let athena = "athena: {bytes_scanned_limit: 20000000000, results_retention_days: 7}";
    assert!(source.text.contains(athena), "the example's audit.athena changed: update this test");
    source.text = source.text.replace(
        athena,
        "athena: {bytes_scanned_limit: 20000000000, results_retention_days: 7, export_decisions: false}",
    );
    source
}

/// `key` with Firehose's `!{timestamp:yyyy/MM/dd}` and `!{firehose:error-output-type}`
/// evaluated for `day` (Firehose developer guide, "Custom prefixes for Amazon S3 objects").
fn firehose_key(prefix: &str, day: &str, error_type: &str) -> String {
    prefix.replace("!{timestamp:yyyy/MM/dd}", day).replace("!{firehose:error-output-type}", error_type)
}

#[test]
fn the_decisions_table_reads_what_firehose_writes_and_never_its_failures() {
    use sandboxc::compile::audit::{DECISIONS_ERROR_PREFIX, DECISIONS_FIREHOSE_PREFIX, DECISIONS_LOCATION_TEMPLATE};
    let (template, params) = template_of(&table("AuditDecisionsTable"));
    assert_eq!(template, DECISIONS_LOCATION_TEMPLATE);
    assert_eq!(params["projection.day.type"], "date");
    assert_eq!(params["projection.day.format"], "yyyy/MM/dd");
    assert_eq!(params["projection.day.range"], "2020/01/01,NOW");
    let t = table("AuditDecisionsTable");
    assert_eq!(t["Properties"]["TableInput"]["Name"], sandboxc::blueprint::names::AUDIT_DECISIONS_TABLE);
    assert_eq!(t["Properties"]["TableInput"]["PartitionKeys"], serde_json::json!([{"Name": "day", "Type": "string"}]));
    let columns: Vec<(String, String)> = t["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["Name"].as_str().unwrap().to_string(), c["Type"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> =
        sandboxc::compile::audit::DECISIONS_COLUMNS.iter().map(|(n, t)| ((*n).to_string(), (*t).to_string())).collect();
    assert_eq!(columns, expected);
    let location = t["Properties"]["TableInput"]["StorageDescriptor"]["Location"]["Fn::Sub"][0].as_str().unwrap();
    let root = location.strip_prefix("s3://${Bucket}/").unwrap();
    assert_eq!(root, "decisions/");

    let stream = table("DecisionsDeliveryStream");
    let s3 = &stream["Properties"]["ExtendedS3DestinationConfiguration"];
    assert_eq!(s3["Prefix"], DECISIONS_FIREHOSE_PREFIX);
    assert_eq!(s3["ErrorOutputPrefix"], DECISIONS_ERROR_PREFIX);
    assert_eq!(s3["CompressionFormat"], "GZIP");
    let extension = s3["FileExtension"].as_str().unwrap();
    assert!(extension.ends_with(".gz"), "{extension}");
    let processors: Vec<&str> = s3["ProcessingConfiguration"]["Processors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Type"].as_str().unwrap())
        .collect();
    assert_eq!(
        processors,
        ["Decompression", "AppendDelimiterToRecord"],
        "no message extraction: events keep their time"
    );

    for day in ["2026/12/05", "2020/01/01", "2031/02/28"] {
        // The same key: Firehose's prefix for a day is the table's location of that day.
        let written = firehose_key(DECISIONS_FIREHOSE_PREFIX, day, "-");
        assert_eq!(written, template.replace("${day}", day));
        let object = format!("{written}genomics-decisions-1-2026-12-05-10-15-00-0f1e2d3c{extension}");
        assert!(matches(&template, &params, &object), "{object}");
        // Records Firehose could not decompress or process lie outside the table.
        for error_type in ["decompression-failed", "processing-failed", "format-conversion-failed"] {
            let failed = firehose_key(DECISIONS_ERROR_PREFIX, day, error_type);
            assert!(!failed.starts_with(root), "{failed} is inside the table's location {root}");
            assert!(!matches(&template, &params, &format!("{failed}x{extension}")), "{failed}");
        }
    }
}

#[test]
fn without_the_decisions_export_the_output_has_none_of_it() {
    let off = common::files(&example_without_decisions());
    for (file, text) in &off {
        for needle in [
            "Decisions",
            "validator_decisions",
            "AWS::KinesisFirehose",
            "AWS::Logs::SubscriptionFilter",
            "decisions-bucket/",
        ] {
            assert!(!text.contains(needle), "{file} holds {needle} with export_decisions: false");
        }
    }
    // The files no part of the export touches are the same bytes with the export on.
    let on: std::collections::BTreeMap<String, String> = common::files(&example()).into_iter().collect();
    let touched =
        ["genomics.template.json", "genomics-audit", "genomics-appstream", "genomics-validator", "manifest.json"];
    let mut same = 0;
    for (file, text) in &off {
        if !touched.iter().any(|t| file.starts_with(t)) {
            assert_eq!(on.get(file), Some(text), "{file} differs with the export on");
            same += 1;
        }
    }
    assert!(same >= 6, "{same}");
    // The whole output, by the manifest's SHA-256 of every file: the one of the example before
    // the export existed (examples/snapshots/always-on-4az__manifest.json.snap at c725e65).
    let manifest = off.iter().find(|(f, _)| f == "manifest.json").map(|(_, t)| t.clone()).unwrap();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("always-on-4az-export-off__manifest.json", manifest));
}

#[test]
fn the_decisions_export_grants_each_service_only_its_one_task() {
    // Firehose's role: the decisions bucket, and the audit key only through S3 for that bucket.
    let role = table("DecisionsDeliveryRole");
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "firehose.amazonaws.com");
    assert_eq!(trust["Condition"]["StringEquals"]["sts:ExternalId"]["Ref"], "AWS::AccountId");
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap().clone();
    assert_eq!(statements.len(), 3, "{statements:?}");
    for s in &statements {
        let text = s.to_string();
        match s["Sid"].as_str().unwrap() {
            "WriteDecisionsBucket" => {
                assert!(s["Resource"].as_array().unwrap().iter().all(|r| r.to_string().contains("DecisionsBucketArn")));
                assert!(!text.contains("s3:Delete"), "{text}");
            }
            "EncryptDecisions" => {
                assert_eq!(s["Resource"][0]["Ref"], "AuditKeyArn");
                assert_eq!(
                    s["Condition"]["StringEquals"]["kms:ViaService"]["Fn::Sub"],
                    "s3.${AWS::Region}.amazonaws.com"
                );
                let context = s["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"].to_string();
                assert!(context.contains("DecisionsBucketArn"), "{context}");
            }
            "LogDeliveryErrors" => {
                assert_eq!(s["Action"], serde_json::json!(["logs:PutLogEvents"]));
                assert!(text.contains("/firehose/decisions:log-stream:DestinationDelivery"), "{text}");
            }
            other => panic!("unexpected statement {other}"),
        }
    }
    // CloudWatch Logs' role: put records into this stream, for this account's log groups only.
    let role = table("DecisionsSubscriptionRole");
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert!(trust["Condition"]["StringLike"]["aws:SourceArn"]["Fn::Sub"]
        .as_str()
        .unwrap()
        .ends_with(":logs:${AWS::Region}:${AWS::AccountId}:*"));
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap().clone();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Action"], serde_json::json!(["firehose:PutRecord", "firehose:PutRecordBatch"]));
    assert_eq!(
        statements[0]["Resource"],
        serde_json::json!([{"Fn::Sub": "arn:${AWS::Partition}:firehose:${AWS::Region}:${AWS::AccountId}:deliverystream/sandboxc-genomics-decisions"}])
    );
    assert_eq!(table("DecisionsDeliveryStream")["Properties"]["DeliveryStreamName"], "sandboxc-genomics-decisions");
    // Every event of the validator's log group.
    let filter = table("DecisionsSubscriptionFilter");
    assert_eq!(filter["Properties"]["LogGroupName"]["Ref"], "ValidatorLogGroup");
    assert_eq!(filter["Properties"]["FilterPattern"], "");
    // The stream is encrypted with the audit key; so are the objects it writes.
    let stream = table("DecisionsDeliveryStream");
    let sse = &stream["Properties"]["DeliveryStreamEncryptionConfigurationInput"];
    assert_eq!(sse["KeyType"], "CUSTOMER_MANAGED_CMK");
    assert_eq!(sse["KeyARN"]["Ref"], "AuditKeyArn");
    let s3 = &stream["Properties"]["ExtendedS3DestinationConfiguration"];
    assert_eq!(s3["EncryptionConfiguration"]["KMSEncryptionConfig"]["AWSKMSKeyARN"]["Ref"], "AuditKeyArn");
    // The bucket: retained, no deletions, no Object Lock (with the reason), its reads recorded.
    let bucket = table("DecisionsBucket");
    assert_eq!(bucket["DeletionPolicy"], "Retain");
    assert!(bucket["Properties"].get("ObjectLockEnabled").is_none());
    assert!(bucket["Metadata"]["sandboxc"]["object-lock"].as_str().unwrap().contains("Firehose"));
    assert_eq!(bucket["Properties"]["LoggingConfiguration"]["LogFilePrefix"], "decisions-bucket/");
    let policy = table("DecisionsBucketPolicy");
    let text = policy.to_string();
    assert!(text.contains("NobodyDeletesDecisions") && text.contains("s3:DeleteObjectVersion"), "{text}");
    // Only the delivery role, on its own path, may write an object.
    let only = policy["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == "OnlyFirehoseWritesDecisions")
        .unwrap();
    assert_eq!((&only["Effect"], &only["Action"]), (&json!("Deny"), &json!(["s3:PutObject"])));
    assert_eq!(
        only["Condition"]["ArnNotLike"]["aws:PrincipalArn"]["Fn::Sub"],
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/sandboxc/genomics/decisions/*"
    );
    assert_eq!(table("DecisionsDeliveryRole")["Properties"]["Path"], "/sandboxc/genomics/decisions/");
    // Firehose's writes are not data events of the trail (the audit would list them).
    let trail = table("Trail").to_string();
    assert!(!trail.contains("\"DecisionsBucket\""), "the trail records the decisions bucket");
    let access_logs = table("TrailAccessLogBucketPolicy").to_string();
    assert!(access_logs.contains("/decisions-bucket/*"), "{access_logs}");
}
