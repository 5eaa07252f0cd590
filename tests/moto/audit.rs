//! `sandboxc audit --from-aws` end to end against the moto server on loopback
//! (`SANDBOXC_MOTO_ENDPOINT`, set by scripts/test.sh): the findings fixtures are uploaded into
//! two fresh buckets (keys as the directories lay them out), and the binary must attribute
//! exactly as it does from the directories. A second run finds the buckets through a root
//! stack's outputs (UsageReportBucket, TrailBucketName, DataBucketName) instead of flags.
//! Without the endpoint the tests print a note and pass, except under `CI`, where they fail.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::path::{Path, PathBuf};

use serde_json::Value;

const DATA_BUCKET: &str = "datasandbox-data-1a2b3c4d";

use common::moto;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit/findings")
}

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

async fn config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "test"))
        .load()
        .await
}

fn files(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, root, out);
        } else {
            out.push((p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/"), p));
        }
    }
}

/// Creates a bucket and uploads every file under `dir` with its relative path as the key.
async fn upload(s3: &aws_sdk_s3::Client, bucket: &str, dir: &Path) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let mut all = Vec::new();
    files(dir, dir, &mut all);
    for (key, path) in all {
        let body = std::fs::read(&path).unwrap();
        s3.put_object().bucket(bucket).key(&key).body(body.into()).send().await.unwrap();
    }
}

fn sandboxc(args: &[&str], endpoint: &str) -> (i32, String, String) {
    common::sandboxc_aws(args, &fixtures(), endpoint)
}

/// The sections that must not depend on where the files came from, with `s3://bucket/`
/// prefixes removed from locations.
fn comparable(json: &str, buckets: &[&str]) -> Value {
    let mut text = json.to_string();
    for b in buckets {
        text = text.replace(&format!("s3://{b}/"), "");
    }
    let v: Value = serde_json::from_str(&text).unwrap();
    serde_json::json!({
        "users": v["users"],
        "unattributed": v["unattributed"],
        "ambiguous": v["ambiguous"],
        "unmatched_decisions": v["unmatched_decisions"],
        "administrative": v["totals"]["administrative"],
        "problems": v["skipped"]["problems"],
        "files": v["skipped"]["files"],
        "exit_code": v["exit_code"],
    })
}

const WINDOW: [&str; 4] = ["--since", "2026-11-28", "--until", "2026-11-29"];

const ADMIN: &str = "arn:aws:iam::123456789012:role/BreakGlassAdmin";

/// The directories' report, for the environment `env` (the notebook roles' environment: the
/// remote run's blueprint name or `--stack`) and the admin principal.
fn local_run(env: &str) -> Value {
    let mut args = vec![
        "audit",
        "--stack",
        env,
        "--admin-principal",
        ADMIN,
        "--usage-reports",
        "usage-reports",
        "--cloudtrail",
        "cloudtrail",
        "--decisions",
        "decisions",
        "--bucket",
        DATA_BUCKET,
        "--format",
        "json",
    ];
    args.extend_from_slice(&WINDOW);
    let (code, out, err) = sandboxc(&args, "http://127.0.0.1:9");
    assert_eq!(code, 2, "{err}");
    comparable(&out, &[])
}

#[test]
fn from_aws_with_bucket_flags_attributes_as_the_directories_do() {
    let Some(endpoint) = moto() else { return };
    let (usage, trail) = (unique("sbx-audit-usage"), unique("sbx-audit-trail"));
    runtime().block_on(async {
        let conf = config(&endpoint).await;
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
        upload(&s3, &usage, &fixtures().join("usage-reports")).await;
        upload(&s3, &trail, &fixtures().join("cloudtrail")).await;
    });
    let mut args = vec![
        "audit",
        "--from-aws",
        "--usage-bucket",
        &usage,
        "--trail-bucket",
        &trail,
        "--bucket",
        DATA_BUCKET,
        "--decisions",
        "decisions",
        "--admin-principal",
        ADMIN,
        "--format",
        "json",
    ];
    args.extend_from_slice(&WINDOW);
    let (code, out, err) = sandboxc(&args, &endpoint);
    assert_eq!(code, 2, "{out}{err}");
    let remote = comparable(&out, &[&usage, &trail]);
    // The embedded blueprint's name is the environment: the notebooks' reads are attributed.
    let local = local_run("datasandbox");
    assert_eq!(remote, local);
    assert!(local["users"].to_string().contains("\"session_kind\":\"notebook\""), "{local}");
    assert_eq!(local["administrative"], serde_json::json!(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sources"][0], format!("usage reports: s3://{usage}"));
    // The listing stays inside the window's prefixes: the digest file and the applications
    // report are never fetched.
    assert_eq!(v["skipped"]["counts"]["skipped_by_name"], 0);
    assert_eq!(v["skipped"]["counts"]["cloudtrail_files"], 5);
    // A window without those days lists nothing: no CloudTrail file read is incomplete
    // evidence, exit 2 (review finding 5), never "every event attributed".
    let (code, out, err) = sandboxc(
        &[
            "audit",
            "--from-aws",
            "--usage-bucket",
            &usage,
            "--trail-bucket",
            &trail,
            "--bucket",
            DATA_BUCKET,
            "--since",
            "2026-10-01",
            "--until",
            "2026-10-02",
            "--format",
            "json",
        ],
        &endpoint,
    );
    assert_eq!(code, 2, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["skipped"]["counts"]["cloudtrail_records"], 0);
    assert_eq!(v["incomplete_evidence"], serde_json::json!(["no CloudTrail file was read"]));
}

/// Uploads a fixture set's usage reports and trail into two new buckets on moto and creates a
/// stack whose outputs name them (and the data bucket, and `S3EndpointId` when given):
/// `(usage bucket, trail bucket, stack name)`, each unique under `prefix`.
fn evidence_stack(endpoint: &str, dir: &Path, prefix: &str, s3_endpoint: Option<&str>) -> (String, String, String) {
    let (usage, trail, stack) =
        (unique(&format!("{prefix}-usage")), unique(&format!("{prefix}-trail")), unique(&format!("{prefix}-stack")));
    runtime().block_on(async {
        let conf = config(endpoint).await;
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
        upload(&s3, &usage, &dir.join("usage-reports")).await;
        upload(&s3, &trail, &dir.join("cloudtrail")).await;
        let mut template = serde_json::json!({
            "Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {
                "UsageReportBucket": {"Value": usage},
                "TrailBucketName": {"Value": trail},
                "DataBucketName": {"Value": DATA_BUCKET},
            }
        });
        if let Some(id) = s3_endpoint {
            template["Outputs"]["S3EndpointId"] = serde_json::json!({"Value": id});
        }
        let cfn = aws_sdk_cloudformation::Client::new(&conf);
        cfn.create_stack().stack_name(&stack).template_body(template.to_string()).send().await.unwrap();
    });
    (usage, trail, stack)
}

#[test]
fn from_aws_finds_the_buckets_in_the_stack_outputs() {
    let Some(endpoint) = moto() else { return };
    let (usage, trail, stack) = evidence_stack(&endpoint, &fixtures(), "sbx-audit", None);
    let mut args = vec![
        "audit",
        "--from-aws",
        "--stack",
        &stack,
        "--admin-principal",
        ADMIN,
        "--decisions",
        "decisions",
        "--format",
        "json",
    ];
    args.extend_from_slice(&WINDOW);
    let (code, out, err) = sandboxc(&args, &endpoint);
    assert_eq!(code, 2, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["filters"]["buckets"], serde_json::json!([DATA_BUCKET]), "the data bucket is the default --bucket");
    assert_eq!(comparable(&out, &[&usage, &trail]), local_run(&stack));
}

/// The sandbox's S3 gateway endpoint comes from the stack output `S3EndpointId`: over the
/// endpoints fixtures, the records of other VPC endpoints from sessions' addresses are
/// unattributed (`other_vpc_endpoint`), and no note says the endpoint is unchecked.
#[test]
fn from_aws_reads_the_sandbox_endpoint_from_the_stack_output() {
    let Some(endpoint) = moto() else { return };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit/endpoints");
    let (_, _, stack) = evidence_stack(&endpoint, &dir, "sbx-vpce", Some("vpce-0a1b2c3d4e5f60718"));
    let mut args = vec!["audit", "--from-aws", "--stack", &stack, "--format", "json"];
    args.extend_from_slice(&WINDOW);
    let (code, out, err) = sandboxc(&args, &endpoint);
    assert_eq!(code, 2, "{out}{err}");
    assert!(!err.contains("--vpc-endpoint"), "the endpoint is known: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let other: Vec<&str> = v["unattributed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "other_vpc_endpoint")
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    assert_eq!(other, ["00000000-0000-4000-8000-000000000202", "00000000-0000-4000-8000-000000000206"], "{out}");
}

#[test]
fn from_aws_without_a_stack_or_buckets_is_an_error_naming_the_fix() {
    let Some(endpoint) = moto() else { return };
    let stack = unique("sbx-audit-missing");
    let (code, out, err) = sandboxc(&["audit", "--from-aws", "--stack", &stack], &endpoint);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("DescribeStacks") && err.contains("--usage-bucket and --trail-bucket"), "{err}");
    let (code, _, err) = sandboxc(
        &[
            "audit",
            "--from-aws",
            "--usage-bucket",
            &unique("sbx-no-such"),
            "--trail-bucket",
            &unique("sbx-no-such"),
            "--stack",
            &stack,
        ],
        &endpoint,
    );
    assert_eq!(code, 1);
    assert!(err.contains("NoSuchBucket"), "{err}");
}

/// Decisions from the validator's CloudWatch Logs group (issue 14): the group is found by its
/// name under `/sandboxc/<stack>/`, read with FilterLogEvents over every page (moto answers
/// 10,000 events a page: 10,509 events make two), bounded by the window (an event an hour
/// before `--since` is not read), and the decisions are the ones the same events give from a
/// file of `aws logs filter-log-events` lines.
#[test]
fn from_aws_reads_the_decisions_from_the_log_group_over_every_page() {
    let Some(endpoint) = moto() else { return };
    let (usage, trail, env) = (unique("sbx-audit-usage"), unique("sbx-audit-trail"), unique("aud14"));
    let group = format!("/sandboxc/{env}/stackid/lambda/validator");
    let now =
        i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()).unwrap();
    let start = now - 3_600_000;
    let decisions: Vec<&str> =
        include_str!("../../contract/fixtures/decision-lines.jsonl").lines().filter(|l| !l.trim().is_empty()).collect();
    // In the window: 10,500 runtime lines with the 9 decisions among them; before it: one decision.
    let mut events: Vec<(i64, String)> = Vec::new();
    let mut d = decisions.iter();
    for i in 0..10_500i64 {
        events.push((start + 60_000 + i * 100, format!("START RequestId: r{i} Version: $LATEST\n")));
        if i % 1_000 == 0 {
            if let Some(line) = d.next() {
                events.push((start + 60_000 + i * 100, format!("{line}\n")));
            }
        }
    }
    let outside = (start - 3_600_000, format!("{}\n", decisions[0]));
    runtime().block_on(async {
        let conf = config(&endpoint).await;
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build());
        s3.create_bucket().bucket(&usage).send().await.unwrap();
        s3.create_bucket().bucket(&trail).send().await.unwrap();
        let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
        logs.create_log_group().log_group_name(&group).send().await.unwrap();
        logs.create_log_stream().log_group_name(&group).log_stream_name("s").send().await.unwrap();
        let all: Vec<&(i64, String)> = std::iter::once(&outside).chain(events.iter()).collect();
        for chunk in all.chunks(5_000) {
            let batch = chunk
                .iter()
                .map(|(t, m)| {
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(*t).message(m).build().unwrap()
                })
                .collect::<Vec<_>>();
            logs.put_log_events()
                .log_group_name(&group)
                .log_stream_name("s")
                .set_log_events(Some(batch))
                .send()
                .await
                .unwrap();
        }
    });
    let iso = |ms: i64| sandboxc::audit::time::Instant::from_millis(ms).to_string();
    let (since, until) = (iso(start), iso(now + 60_000));
    let window = ["--since", since.as_str(), "--until", until.as_str()];
    let mut args = vec![
        "audit",
        "--from-aws",
        "--usage-bucket",
        &usage,
        "--trail-bucket",
        &trail,
        "--stack",
        &env,
        "--format",
        "json",
    ];
    args.extend_from_slice(&window);
    let (_, out, err) = sandboxc(&args, &endpoint);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}"));
    assert!(
        v["sources"].as_array().unwrap().iter().any(|s| s == &format!("validator decisions: CloudWatch Logs {group}")),
        "{v}"
    );
    let counts = &v["skipped"]["counts"];
    assert_eq!(counts["decision_files"], 1, "{counts}");
    assert_eq!(counts["other_log_lines"], 10_500, "every page is read: {counts}");
    assert_eq!(counts["outside_window"], 0, "the event before --since is not fetched: {counts}");
    // The same events from a file give the same decisions.
    let dir = tempfile::tempdir().unwrap();
    let lines: String =
        events.iter().map(|(t, m)| format!("{}\n", serde_json::json!({"timestamp": t, "message": m}))).collect();
    std::fs::write(dir.path().join("d.jsonl"), lines).unwrap();
    let file = dir.path().join("d.jsonl");
    let mut args = vec!["audit", "--decisions", file.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(&window);
    let (_, local, err) = sandboxc(&args, "http://127.0.0.1:9");
    let local: Value = serde_json::from_str(&local).unwrap_or_else(|e| panic!("{e}: {err}"));
    let remote: Value = serde_json::from_str(&out.replace(&format!("cloudwatch-logs:{group}"), "d.jsonl")).unwrap();
    assert_eq!(remote["unmatched_decisions"], local["unmatched_decisions"]);
    assert_eq!(remote["users"], local["users"]);
    assert_eq!(remote["unmatched_decisions"].as_array().unwrap().len(), 9, "no sessions: every decision is unmatched");
}
