//! `sandboxc audit` over the fixture directories, run as a new user would (README): golden
//! table, CSV and JSON outputs, the attribution of every fixture event, filters, exit codes
//! 0, 2 and 1, and malformed inputs reported with their location.
//!
//! Fixtures (tests/fixtures/audit, written by make_fixtures.py) follow docs/aws-facts.md: AppStream
//! sessions reports with the 29 documented columns under
//! `sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/`, CloudTrail files `{"Records":[...]}`
//! under `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`, and the validator's DecisionLog
//! lines, bare or as CloudWatch Logs events. `findings/` covers: a session crossing midnight
//! (alice, in the reports of both days, open in the first); one address used by two users at
//! different times (bob, then carol, on 10.10.1.40); overlapping sessions on one address (erin
//! and frank on 10.10.1.90: ambiguous); an event before the first session (08:30 on 10.10.1.40)
//! and one from an address no session had (10.10.1.200): unattributed; a session with no events
//! (dave); a session still open (grace); gzip and plain files; a report with a header row and an
//! unknown extra column, and one without a header row; a row with a bad start time; a record
//! with a bad eventTime and one that is not an object; a file cut off mid-record; a file in
//! neither format; a digest file and an applications report (skipped by name); management and
//! KMS events; an event in the home-folder bucket (another bucket); decision lines that match
//! by session, by user hash only, or nothing, a runtime START line and a broken line; reads by
//! users' notebooks (roles under /sandboxc/datasandbox/users/<hash>/: bob's and alice's, and
//! zoe's, who has no session in the reports and is shown by her hash), decisions naming the
//! notebook their URL was for (and lines written before that field existed), a `not_listed`
//! rejection (grace), and an admin principal's read from outside the sandbox.
//! `clean/` has two users whose every event is attributed, to a session or to their notebook.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

const DATA_BUCKET: &str = "datasandbox-data-1a2b3c4d";
const HOME_BUCKET: &str = "appstream2-36fb080bb8-us-east-1-123456789012";
/// The environment of the fixtures' notebook roles (the default blueprint's name).
const ENV: &str = "datasandbox";
const ADMIN: &str = "arn:aws:iam::123456789012:role/BreakGlassAdmin";
/// `printf zoe | sha256sum`: a notebook user with no session in the usage reports.
const ZOE: &str = "9d017e2681b7f31725e1c0fbe2612e89079c22806b02cf7a894b500dd5a219c1";

fn fixtures(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit").join(set)
}

/// Runs the built binary in `dir` (so paths in the output are the relative ones given).
fn sandboxc(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("runs sandboxc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The README command over the findings fixtures (the environment, the admin principal, the
/// sandbox's S3 gateway endpoint and the notebook users' roles given, so that attribution is
/// checked and nothing goes to stderr), plus `extra`.
fn findings(extra: &[&str]) -> (i32, String, String) {
    let roles: Vec<String> = ["alice", "bob", "zoe"].iter().map(|u| notebook_role_arn(u)).collect();
    let mut args = vec![
        "audit",
        "--usage-reports",
        "usage-reports",
        "--cloudtrail",
        "cloudtrail",
        "--decisions",
        "decisions",
        "--bucket",
        DATA_BUCKET,
        "--stack",
        ENV,
        "--admin-principal",
        ADMIN,
        "--vpc-endpoint",
        SANDBOX_VPCE,
    ];
    for r in &roles {
        args.extend_from_slice(&["--notebook-role", r]);
    }
    args.extend_from_slice(extra);
    sandboxc(&fixtures("findings"), &args)
}

fn findings_json(extra: &[&str]) -> (i32, Value) {
    let mut args = extra.to_vec();
    args.extend_from_slice(&["--format", "json"]);
    let (code, out, err) = findings(&args);
    assert!(err.is_empty(), "{err}");
    (code, serde_json::from_str(&out).expect("JSON output"))
}

fn user<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["users"].as_array().unwrap().iter().find(|u| u["user_id"] == id).unwrap_or_else(|| panic!("no user {id}"))
}

/// `(time, action, session_kind)` of a user's notebook events.
fn notebook_events(report: &Value, id: &str) -> Vec<(String, String, String)> {
    user(report, id)["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "s3" && e["session_kind"] == "notebook")
        .map(|e| {
            assert_eq!(e["session_id"], "", "a notebook event has no AppStream session");
            (
                e["time"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// `(time, action, session_id)` of a user's S3 events made in their AppStream sessions.
fn s3_events(report: &Value, id: &str) -> Vec<(String, String, String)> {
    user(report, id)["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "s3" && e["session_kind"] == "appstream")
        .map(|e| {
            (
                e["time"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["session_id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn event_ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|e| e["event_id"].as_str().unwrap().to_string()).collect()
}

fn id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

const ALICE: &str = "5f1b8a2e-0001-4a9b-9c1d-alice0000001";
const BOB: &str = "5f1b8a2e-0002-4a9b-9c1d-bob000000001";
const CAROL: &str = "5f1b8a2e-0003-4a9b-9c1d-carol0000001";
const ERIN: &str = "5f1b8a2e-0005-4a9b-9c1d-erin00000001";
const FRANK: &str = "5f1b8a2e-0006-4a9b-9c1d-frank0000001";
const GRACE: &str = "5f1b8a2e-0007-4a9b-9c1d-grace0000001";

// ---- golden outputs ----------------------------------------------------------------------

#[test]
fn table_golden_and_exit_2_with_findings() {
    let (code, out, err) = findings(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.is_empty(), "{err}");
    insta::assert_snapshot!("findings_table", out);
}

#[test]
fn csv_golden() {
    let (code, out, _) = findings(&["--format", "csv"]);
    assert_eq!(code, 2);
    insta::assert_snapshot!("findings_csv", out);
}

#[test]
fn json_golden() {
    let (code, out, _) = findings(&["--format", "json"]);
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["exit_code"], 2);
    insta::assert_snapshot!("findings_json", out);
}

#[test]
fn clean_fixtures_exit_0_with_every_event_attributed() {
    let (code, out, err) = sandboxc(
        &fixtures("clean"),
        &[
            "audit",
            "--usage-reports",
            "usage-reports",
            "--cloudtrail",
            "cloudtrail",
            "--decisions",
            "decisions.jsonl",
            "--stack",
            ENV,
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("every S3 data event in the window is attributed to one session or one user's notebook"),
        "{out}"
    );
    insta::assert_snapshot!("clean_table", out);
    let (code, json, _) = sandboxc(
        &fixtures("clean"),
        &[
            "audit",
            "--usage-reports",
            "usage-reports",
            "--cloudtrail",
            "cloudtrail",
            "--format",
            "json",
            "--stack",
            ENV,
        ],
    );
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["totals"]["attributed"], 6);
    assert_eq!(v["totals"]["unattributed"], 0);
    assert_eq!(v["totals"]["ambiguous"], 0);
    assert_eq!(notebook_events(&v, "alice").len(), 2);
    assert_eq!(notebook_events(&v, "bob").len(), 1);
    // The blueprint names the environment just as well (its `name` is datasandbox).
    let blueprint = Path::new(env!("CARGO_MANIFEST_DIR")).join("blueprints/data-sandbox.yaml");
    let (code, out, err) = sandboxc(
        &fixtures("clean"),
        &["audit", blueprint.to_str().unwrap(), "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail"],
    );
    assert_eq!(code, 0, "{out}{err}");
    // Without the environment the notebooks' reads are explained by nothing: exit 2, and a
    // note says what to give.
    let (code, out, _) =
        sandboxc(&fixtures("clean"), &["audit", "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("3 S3 data event(s) come from notebook roles of sandboxc environment datasandbox (/sandboxc/datasandbox/users/): give the blueprint or --stack datasandbox to attribute them to their users"), "{out}");
}

// ---- notebooks and administrative access ---------------------------------------------------

#[test]
fn notebook_reads_are_attributed_to_the_user_their_role_names() {
    let (_, v) = findings_json(&[]);
    let role = |hash: &str| {
        format!("arn:aws:iam::123456789012:role/sandboxc/datasandbox/users/{hash}/datasandbox-UserRole-{}", &hash[..8])
    };
    let bob = "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9";
    let alice = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90";
    assert_eq!(
        notebook_events(&v, "bob"),
        vec![
            ("2026-11-28T09:28:00Z".into(), "GetObject".into(), role(bob)),
            ("2026-11-28T09:29:00Z".into(), "PutObject".into(), role(bob)),
        ]
    );
    assert_eq!(notebook_events(&v, "alice"), vec![("2026-11-29T00:50:00Z".into(), "GetObject".into(), role(alice))]);
    assert_eq!(user(&v, "bob")["summary"]["notebook_events"], 2);
    assert_eq!(user(&v, "bob")["summary"]["s3_events"], 4, "2 in his session, 2 by his notebook");
    // zoe has no session in the reports: her notebook's read is hers, shown by her hash.
    let zoe = user(&v, ZOE);
    assert_eq!((zoe["identified"].as_bool(), zoe["user_hash"].as_str()), (Some(false), Some(ZOE)));
    assert_eq!(zoe["summary"]["notebook_events"], 1);
    assert_eq!(user(&v, "bob")["identified"], true);
    // Named when --user gives her ID.
    let (_, named) = findings_json(&["--user", "zoe"]);
    let users: Vec<&str> = named["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap()).collect();
    assert_eq!(users, vec!["zoe"]);
    assert_eq!(notebook_events(&named, "zoe").len(), 1);
    assert!(!named["notes"].to_string().contains("--user zoe"), "{}", named["notes"]);
    // The table names the session kind and the unidentified user.
    let (_, table, _) = findings(&[]);
    assert!(table.contains(&format!("unidentified user (user hash {ZOE})")), "{table}");
    assert!(table.lines().any(|l| l.contains("2026-11-28T09:28:00Z  notebook")), "{table}");
}

#[test]
fn administrative_access_is_listed_apart_and_is_no_finding() {
    let (_, v) = findings_json(&[]);
    assert_eq!(event_ids(&v["administrative"]), vec![id(26)]);
    assert_eq!(v["administrative"][0]["role"], ADMIN);
    assert_eq!(v["totals"]["administrative"], 1);
    assert!(!event_ids(&v["unattributed"]).contains(&id(26)));
    let (_, table, _) = findings(&[]);
    assert!(
        table.contains("ADMINISTRATIVE ACCESS: 1 S3 data event by admin principals (listed apart, not findings)"),
        "{table}"
    );
    // Without --admin-principal the same read is explained by nothing.
    let mut args =
        vec!["audit", "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail", "--bucket", DATA_BUCKET];
    args.extend_from_slice(&["--stack", ENV, "--format", "json"]);
    let (_, out, _) = sandboxc(&fixtures("findings"), &args);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(event_ids(&v["unattributed"]).contains(&id(26)), "{}", v["unattributed"]);
}

#[test]
fn decisions_name_the_notebook_their_url_was_for() {
    let (_, v) = findings_json(&[]);
    let validation = |u: &str| -> Vec<(String, Value)> {
        user(&v, u)["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "validation")
            .map(|e| (e["reason"].as_str().unwrap().to_string(), e["notebook"].clone()))
            .collect()
    };
    assert_eq!(validation("bob"), vec![("session_active".to_string(), Value::from("datasandbox-bob-81b637d8"))]);
    // A line written before the notebook was logged.
    assert_eq!(validation("alice"), vec![("session_active".to_string(), Value::Null)]);
    assert_eq!(validation("grace"), vec![("not_listed".to_string(), Value::Null)]);
    let (_, csv, _) = findings(&["--format", "csv"]);
    assert!(csv.lines().next().unwrap().ends_with(",provisional,session_kind,notebook,role,vpc_endpoint"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("attributed,bob,") && l.contains(",datasandbox-bob-81b637d8,")), "{csv}");
    let (_, table, _) = findings(&[]);
    assert!(table.contains("session_active (notebook datasandbox-bob-81b637d8)"), "{table}");
}

#[test]
fn notebook_roles_of_another_account_or_environment_are_not_attributed() {
    let hash = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90";
    let with_role = |n: u32, role: &str| {
        let mut e = event(n, "2026-11-28T08:30:00Z", "10.10.3.41", "k", ACCOUNT);
        e["userIdentity"]["sessionContext"] = serde_json::json!({"sessionIssuer": {"type": "Role", "arn": role}});
        e
    };
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        &[
            with_role(1, &format!("arn:aws:iam::123456789012:role/sandboxc/datasandbox/users/{hash}/r")),
            // The same path in another account: anyone may create a role with any path.
            with_role(2, &format!("arn:aws:iam::999999999999:role/sandboxc/datasandbox/users/{hash}/r")),
            with_role(3, &format!("arn:aws:iam::123456789012:role/sandboxc/staging/users/{hash}/r")),
        ],
    );
    let (code, v) = audit_json(dir.path(), &["--stack", ENV]);
    assert_eq!(code, 2);
    assert_eq!(notebook_events(&v, "alice").len(), 1);
    assert_eq!(event_ids(&v["unattributed"]), vec![id(2), id(3)]);
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("a role of account 999999999999 under /sandboxc/datasandbox/users/, not of the trail's account"),
        "{notes}"
    );
    assert!(notes.contains("notebook roles of sandboxc environment staging (/sandboxc/staging/users/), not of the audited environment datasandbox"), "{notes}");
    let (code, _, err) = sandboxc(
        dir.path(),
        &[
            "audit",
            "--usage-reports",
            "u",
            "--cloudtrail",
            "t",
            "--admin-principal",
            "arn:aws:iam::123456789012:user/jane",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("--admin-principal \"arn:aws:iam::123456789012:user/jane\" is not an IAM role ARN"), "{err}");
    // A wildcard would match no trail record: refused, not silently ignored.
    let wildcard =
        ["audit", "--usage-reports", "u", "--cloudtrail", "t", "--admin-principal", "arn:aws:iam::123456789012:role/*"];
    let (code, _, err) = sandboxc(dir.path(), &wildcard);
    assert_eq!(code, 1);
    assert!(err.contains("without wildcards"), "{err}");
}

// ---- attribution ---------------------------------------------------------------------------

#[test]
fn session_crossing_midnight_keeps_its_events_together() {
    let (_, v) = findings_json(&[]);
    // alice's session is open in the report of the 28th and closed in the (headerless) report of
    // the 29th: one session, closed, holding both the 23:45 and the 00:40 events.
    let alice = user(&v, "alice");
    assert_eq!(alice["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(alice["sessions"][0]["end"], "2026-11-29T01:15:00Z");
    assert_eq!(
        s3_events(&v, "alice"),
        vec![
            ("2026-11-28T23:45:00Z".into(), "GetObject".into(), ALICE.into()),
            ("2026-11-29T00:40:00Z".into(), "PutObject".into(), ALICE.into())
        ]
    );
    assert_eq!(alice["summary"]["objects_read"], 1);
    assert_eq!(alice["summary"]["objects_written"], 1);
}

#[test]
fn one_address_two_users_split_by_time() {
    let (_, v) = findings_json(&[]);
    let bob: Vec<_> = s3_events(&v, "bob").into_iter().map(|e| (e.0, e.2)).collect();
    assert_eq!(bob, vec![("2026-11-28T09:15:00Z".into(), BOB.into()), ("2026-11-28T09:20:00Z".into(), BOB.into())]);
    let carol = s3_events(&v, "carol");
    assert_eq!(carol.len(), 4);
    assert!(carol.iter().all(|e| e.2 == CAROL && e.0.starts_with("2026-11-28T13:")), "{carol:?}");
    let s = &user(&v, "carol")["summary"];
    assert_eq!(
        (
            s["objects_read"].as_u64(),
            s["objects_deleted"].as_u64(),
            s["other_events"].as_u64(),
            s["denied_events"].as_u64()
        ),
        (Some(1), Some(1), Some(1), Some(1))
    );
}

#[test]
fn overlapping_sessions_make_an_ambiguous_event_never_assigned() {
    let (code, v) = findings_json(&[]);
    assert_eq!(code, 2);
    let amb = v["ambiguous"].as_array().unwrap();
    assert_eq!(amb.len(), 1);
    assert_eq!(amb[0]["event_id"], id(16));
    let cands: Vec<(&str, &str)> = amb[0]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["user_id"].as_str().unwrap(), c["session_id"].as_str().unwrap()))
        .collect();
    assert_eq!(cands, vec![("erin", ERIN), ("frank", FRANK)]);
    // Outside the overlap, the same address is attributed normally.
    let erin: Vec<_> = s3_events(&v, "erin").into_iter().map(|e| e.0).collect();
    assert_eq!(erin, vec!["2026-11-29T08:30:00Z", "2026-11-29T09:05:00Z"]);
    assert_eq!(s3_events(&v, "frank").into_iter().map(|e| e.0).collect::<Vec<_>>(), vec!["2026-11-29T10:30:00Z"]);
    for u in ["erin", "frank"] {
        assert!(!s3_events(&v, u).iter().any(|e| e.0 == "2026-11-29T09:45:00Z"));
    }
}

#[test]
fn events_no_session_explains_are_unattributed() {
    let (_, v) = findings_json(&[]);
    // 08:30 on 10.10.1.40 is before bob's session; 10.10.1.200 never had a session.
    assert_eq!(event_ids(&v["unattributed"]), vec![id(1), id(19)]);
    assert_eq!(v["unattributed"][0]["source_ip"], "10.10.1.40");
    assert_eq!(v["totals"]["unattributed"], 2);
}

#[test]
fn session_without_events_and_open_session() {
    let (_, v) = findings_json(&[]);
    let dave = user(&v, "dave");
    assert_eq!(dave["summary"]["sessions"], 1);
    assert_eq!(dave["summary"]["s3_events"], 0);
    assert!(dave["timeline"].as_array().unwrap().is_empty());
    let grace = user(&v, "grace");
    assert_eq!(grace["sessions"][0]["end"], Value::Null);
    assert_eq!(s3_events(&v, "grace"), vec![("2026-11-29T12:30:00Z".into(), "GetObject".into(), GRACE.into())]);
}

#[test]
fn other_buckets_are_filtered_and_counted() {
    let (_, v) = findings_json(&[]);
    assert_eq!(v["skipped"]["counts"]["other_buckets"], 1);
    assert!(!serde_json::to_string(&v["users"]).unwrap().contains(&format!("\"bucket\":\"{HOME_BUCKET}\"")));
    assert!(!serde_json::to_string(&v["unattributed"]).unwrap().contains(HOME_BUCKET));
    // Without --bucket (directories: no default filter) bob's read of his session_url.txt in
    // the home-folder bucket is in his timeline.
    let (code, out, _) = sandboxc(
        &fixtures("findings"),
        &["audit", "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail", "--format", "json"],
    );
    assert_eq!(code, 2);
    let all: Value = serde_json::from_str(&out).unwrap();
    let bob = s3_events(&all, "bob");
    assert_eq!(bob.len(), 3, "{bob:?}");
    assert_eq!(all["skipped"]["counts"]["other_buckets"], 0);
}

#[test]
fn management_and_other_service_records_are_skipped_not_reported() {
    let (_, v) = findings_json(&[]);
    assert_eq!(v["skipped"]["counts"]["not_s3_data_events"], 2);
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("ListBuckets") && !text.contains("Decrypt"));
}

#[test]
fn decisions_join_by_session_and_user_hash() {
    let (_, v) = findings_json(&[]);
    let validations = |u: &str| -> Vec<(String, String, bool)> {
        user(&v, u)["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "validation")
            .map(|e| {
                (
                    e["outcome"].as_str().unwrap().to_string(),
                    e["reason"].as_str().unwrap().to_string(),
                    e["session_matched"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(validations("bob"), vec![("issued".into(), "session_active".into(), true)]);
    assert_eq!(
        validations("carol"),
        vec![("rejected".into(), "session_not_active".into(), true), ("issued".into(), "session_active".into(), true)]
    );
    // The bare line (no time) joins alice's session.
    assert_eq!(validations("alice"), vec![("issued".into(), "session_active".into(), true)]);
    // No session ID: joined to frank by his user hash alone.
    assert_eq!(validations("frank"), vec![("rejected".into(), "session_file_invalid".into(), false)]);
    assert_eq!(user(&v, "carol")["summary"]["validations_rejected"], 1);
    assert_eq!(user(&v, "frank")["summary"]["validations_rejected"], 1);
    // mallory has no session: reported, not lost.
    let unmatched = v["unmatched_decisions"].as_array().unwrap();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0]["reason"], "user_hash_mismatch");
    assert_eq!(unmatched[0]["origin"], "validator.jsonl:7");
    assert_eq!(v["skipped"]["counts"]["other_log_lines"], 1);
}

// ---- malformed input -----------------------------------------------------------------------

#[test]
fn malformed_lines_records_and_files_are_listed_with_location_and_never_abort() {
    let (code, v) = findings_json(&[]);
    assert_eq!(code, 2);
    let problems: Vec<String> = v["skipped"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["location"].as_str().unwrap().to_string())
        .collect();
    let day28 = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/123456789012_CloudTrail_us-east-1_20261128T1405Z_B1b2C3d4E5f6G7h8.json";
    let cut = "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/29/123456789012_CloudTrail_us-east-1_20261129T0910Z_E1b2C3d4E5f6G7h8.json.gz";
    assert_eq!(
        problems,
        vec![
            "sessions/schedule=DAILY/year=2026/month=11/day=29/daily-session-report-2026-11-29.csv:5".to_string(),
            format!("{day28}:record 5"),
            format!("{day28}:record 6"),
            format!("{cut}:record 2"),
            "validator.jsonl:6".to_string(),
        ]
    );
    assert_eq!(v["skipped"]["counts"]["malformed"], 5);
    let files: Vec<(String, String)> = v["skipped"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["location"].as_str().unwrap().into(), p["reason"].as_str().unwrap().into()))
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/29/notes.txt");
    assert!(files[0].1.starts_with("not a CloudTrail log file"), "{files:?}");
    // The record before the cut is still read (erin's CopyObject).
    assert!(s3_events(&v, "erin").iter().any(|e| e.1 == "CopyObject"));
    // Digest file and applications report: skipped by name.
    assert_eq!(v["skipped"]["counts"]["skipped_by_name"], 2);
    assert_eq!(v["skipped"]["counts"]["cloudtrail_files"], 5);
    assert_eq!(v["skipped"]["counts"]["usage_report_files"], 2);
}

#[test]
fn a_file_of_neither_format_is_named_in_each_source() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("u")).unwrap();
    std::fs::create_dir_all(dir.path().join("t")).unwrap();
    std::fs::write(dir.path().join("u/report.csv"), "hello,world\n").unwrap();
    std::fs::write(dir.path().join("t/log.json"), "{\"digestStartTime\":\"x\"}").unwrap();
    std::fs::write(dir.path().join("d.jsonl"), "time,outcome\n").unwrap();
    let (code, out, err) =
        sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t", "--decisions", "d.jsonl"]);
    // Review finding 5: evidence that could not be read is a finding (exit 2), never "clean".
    assert_eq!(code, 2, "{err}");
    assert!(
        out.contains(
            "evidence incomplete: 3 files could not be read or are in neither format; no CloudTrail file was read"
        ),
        "{out}"
    );
    assert!(!out.contains("every S3 data event in the window is attributed"), "{out}");
    assert!(out.contains("report.csv: not an AppStream sessions report"), "{out}");
    assert!(out.contains("log.json: not a CloudTrail log file: a JSON document without a \"Records\" array"), "{out}");
    assert!(out.contains("d.jsonl: not a validator decision log"), "{out}");
}

// ---- filters -------------------------------------------------------------------------------

#[test]
fn user_filter_keeps_that_user_and_every_unattributed_event() {
    let (code, v) = findings_json(&["--user", "carol"]);
    assert_eq!(code, 2);
    let users: Vec<&str> = v["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap()).collect();
    assert_eq!(users, vec!["carol"]);
    assert_eq!(event_ids(&v["unattributed"]), vec![id(1), id(19)]);
    // Neither candidate of the ambiguous event is carol.
    assert!(v["ambiguous"].as_array().unwrap().is_empty());
    let (_, erin) = findings_json(&["--user", "erin"]);
    assert_eq!(erin["ambiguous"].as_array().unwrap().len(), 1);
}

#[test]
fn event_filter_and_time_window() {
    let (_, v) = findings_json(&["--event", "PutObject,CopyObject"]);
    let actions: Vec<String> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|u| {
            u["timeline"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["kind"] == "s3")
                .map(|e| e["action"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(!actions.is_empty() && actions.iter().all(|a| a == "PutObject" || a == "CopyObject"), "{actions:?}");
    // From 09:00 through the whole 28th every event in the data bucket is attributed, but the
    // fixtures hold unreadable records and a file in neither format: exit 2, evidence incomplete.
    let (code, out, err) = findings(&["--since", "2026-11-28T09:00:00Z", "--until", "2026-11-28"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.contains("findings: 0 unattributed, 0 ambiguous, evidence incomplete (exit code 2)"), "{out}");
    assert!(out.contains("window: 2026-11-28T09:00:00Z .. 2026-11-28T23:59:59.999Z"), "{out}");
    assert!(!out.contains("erin") && !out.contains("grace"), "sessions outside the window are not listed:\n{out}");
}

// ---- errors --------------------------------------------------------------------------------

#[test]
fn errors_exit_1_with_a_message() {
    let dir = fixtures("findings");
    let cases: &[(&[&str], &str)] = &[
        (&["audit"], "nothing to audit"),
        (&["audit", "--cloudtrail", "no-such-dir"], "--cloudtrail no-such-dir"),
        (
            &["audit", "--cloudtrail", "cloudtrail", "--since", "last week"],
            "--since: \"last week\" is not an ISO 8601 UTC time",
        ),
        (
            &["audit", "--cloudtrail", "cloudtrail", "--since", "2026-11-29", "--until", "2026-11-28"],
            "is before --since",
        ),
        (&["audit", "--cloudtrail", "cloudtrail", "--usage-bucket", "bucket-b"], "--from-aws"),
        (&["audit", "--cloudtrail", "cloudtrail", "--bucket", "Bucket_B"], "is not an S3 bucket: the name"),
        (&["audit", "blueprint.yaml", "--cloudtrail", "cloudtrail"], "blueprint.yaml"),
        (&["audit", "--cloudtrail", "cloudtrail", "--profile", "x"], "--profile belongs to --from-aws"),
        (&["audit", "--from-aws", "--cloudtrail", "cloudtrail"], "cannot be used with"),
        (&["audit", "--cloudtrail", "cloudtrail", "--format", "xml"], "invalid value 'xml'"),
    ];
    for (args, message) in cases {
        let (code, out, err) = sandboxc(&dir, args);
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn quiet_prints_no_report_only_the_verdict_on_stderr_and_keeps_the_exit_code() {
    let (code, out, err) = sandboxc(
        &fixtures("findings"),
        &["-q", "audit", "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail"],
    );
    assert_eq!((code, out.as_str()), (2, ""));
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("audit: ") && !l.starts_with("audit: note: ")), "{err}");
    assert!(err.contains("audit: evidence incomplete: "), "{err}");
    assert!(lines.last().is_some_and(|l| l.starts_with("audit: findings: ") && l.ends_with("(exit code 2)")), "{err}");
    // CSV rows carry only events: the notes and the verdict go to stderr.
    let (code, out, err) = sandboxc(
        &fixtures("findings"),
        &["audit", "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail", "--format", "csv"],
    );
    assert_eq!(code, 2);
    assert!(!out.contains("evidence incomplete") && !out.contains("findings:"), "{out}");
    assert!(err.contains("audit: note: ") && err.contains("audit: evidence incomplete: "), "{err}");
    // The table says it all on stdout, the note of what attribution did not check included:
    // nothing on stderr.
    let table = ["audit", "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail"];
    let (code, out, err) = sandboxc(&fixtures("findings"), &[&table[..], &["--vpc-endpoint", SANDBOX_VPCE]].concat());
    assert_eq!((code, err.as_str()), (2, ""));
    assert!(!out.contains("unchecked:"), "{out}");
    let (code, out, err) = sandboxc(&fixtures("findings"), &table);
    assert_eq!((code, err.as_str()), (2, ""));
    assert!(
        out.contains("unchecked: attribution by address is not checked") && out.contains("--vpc-endpoint"),
        "{out}"
    );
}

#[test]
fn help_teaches_formats_and_exit_codes() {
    let (code, out, _) = sandboxc(&fixtures("findings"), &["audit", "--help"]);
    assert_eq!(code, 0);
    for needle in [
        "--usage-reports",
        "--from-aws",
        "filter-log-events",
        "\"timestamp\"",
        "Exit codes: 0",
        "eni_private_ip_address",
        "--bucket",
    ] {
        assert!(out.contains(needle), "{needle} missing from --help:\n{out}");
    }
}

// ---- review findings -----------------------------------------------------------------------

const ACCOUNT: &str = "123456789012";

/// A headerless sessions-report row in the documented column order (29 columns).
fn row(session: &str, user: &str, ip: &str, start: &str, end: &str, max_duration: &str) -> String {
    format!(
        "{session},{ACCOUNT},us-east-1,{start},{end},,{user},arn:aws:appstream:us-east-1:{ACCOUNT}:user/custom/{user},CUSTOM,{user}_CUSTOM,fleet,stack,stream.standard.small,{ip},true,203.0.113.9,false,false,s3,ENABLED,DISABLED,DISABLED,DISABLED,DISABLED,false,false,{max_duration},ALWAYS_ON,APP\n"
    )
}

/// A CloudTrail S3 data event.
fn event(n: u32, time: &str, ip: &str, key: &str, account: &str) -> Value {
    serde_json::json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "eventCategory": "Data", "sourceIPAddress": ip, "recipientAccountId": account, "eventID": id(n),
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/datasandbox-fleet-role/appstream_machine_role")},
        "requestParameters": {"bucketName": DATA_BUCKET, "key": key},
    })
}

/// A temporary pair of source directories: `u/report.csv` and `t/trail.json`.
fn sources(report: &str, records: &[Value]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("u")).unwrap();
    std::fs::create_dir_all(dir.path().join("t")).unwrap();
    std::fs::write(dir.path().join("u/report.csv"), report).unwrap();
    std::fs::write(dir.path().join("t/trail.json"), serde_json::json!({ "Records": records }).to_string()).unwrap();
    dir
}

fn audit_json(dir: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["audit", "--usage-reports", "u", "--cloudtrail", "t", "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = sandboxc(dir, &args);
    (code, serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}{err}")))
}

/// Finding 1: a headerless report whose first row has a bad time keeps its other rows.
#[test]
fn review_1_bad_first_headerless_row_does_not_drop_the_file() {
    let report = [
        row("s-alice", "alice", "10.0.0.5", "noon", "2026-11-28T11:00:00Z", ""),
        row("s-alice2", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        row("s-bob", "bob", "10.0.0.5", "2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z", ""),
    ]
    .concat();
    let dir = sources(&report, &[event(1, "2026-11-28T10:30:00Z", "10.0.0.5", "k", ACCOUNT)]);
    let (code, v) = audit_json(dir.path(), &[]);
    assert_eq!(s3_events(&v, "bob").len(), 1, "{v}");
    assert_eq!(v["skipped"]["problems"][0]["location"], "report.csv:1");
    assert_eq!(code, 2, "a bad row is evidence not read");
}

/// Finding 2: an open session ends at most 5 days (or its max_session_duration) after its
/// start; its events are provisional.
#[test]
fn review_2_open_sessions_are_capped_and_provisional() {
    let report = [
        row("s-open", "olga", "10.0.0.6", "2026-11-20T08:00:00Z", "", ""),
        row("s-cap", "carl", "10.0.0.7", "2026-11-20T08:00:00Z", "", "3600"),
    ]
    .concat();
    let records = [
        event(1, "2026-11-20T09:00:00Z", "10.0.0.6", "a", ACCOUNT),
        event(2, "2026-11-28T09:00:00Z", "10.0.0.6", "b", ACCOUNT),
        event(3, "2026-11-20T08:30:00Z", "10.0.0.7", "c", ACCOUNT),
        event(4, "2026-11-20T09:30:00Z", "10.0.0.7", "d", ACCOUNT),
    ];
    let dir = sources(&report, &records);
    let (code, v) = audit_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(
        event_ids(&v["unattributed"]),
        vec![id(4), id(2)],
        "8 days later, and past max_session_duration: unattributed"
    );
    let olga = &user(&v, "olga")["timeline"][0];
    assert_eq!((olga["event_id"].as_str(), olga["provisional"].as_bool()), (Some(id(1).as_str()), Some(true)));
    assert_eq!(v["totals"]["provisional"], 2);
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n
        .as_str()
        .unwrap()
        .contains("the session's end is not in the reports yet; audit again when the next daily report is out")));
    let (_, table, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t"]);
    assert!(table.contains("s-open (open: provisional)"), "{table}");
    let (_, csv, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t", "--format", "csv"]);
    // The provisional column (columns are only ever added after it).
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|c| *c == "provisional").unwrap();
    assert_eq!(column, 17, "{csv}");
    assert!(csv.lines().any(|l| l.contains(&id(1)) && l.split(',').nth(column) == Some("true")), "{csv}");
}

/// Finding 3: contradicting reports make the session's events ambiguous; open then closed
/// with the same identity is one closed session.
#[test]
fn review_3_contradicting_reports_are_ambiguous() {
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "", ""),
        &[event(1, "2026-11-28T08:30:00Z", "10.0.0.5", "k", ACCOUNT)],
    );
    std::fs::write(
        dir.path().join("u/report2.csv"),
        row("s1", "mallory", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
    )
    .unwrap();
    let (code, v) = audit_json(dir.path(), &[]);
    assert_eq!(code, 2);
    assert_eq!(event_ids(&v["ambiguous"]), vec![id(1)]);
    assert!(
        v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("report.csv:1 and report2.csv:1")),
        "{}",
        v["notes"]
    );
    // The same session open in one report and closed in the next: the closed version wins.
    std::fs::write(
        dir.path().join("u/report2.csv"),
        row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T08:40:00Z", ""),
    )
    .unwrap();
    let (code, v) = audit_json(dir.path(), &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(user(&v, "alice")["sessions"][0]["end"], "2026-11-28T08:40:00Z");
    assert_eq!(s3_events(&v, "alice").len(), 1);
}

/// Finding 4: events of other accounts are not attributed; the table shows the principal.
#[test]
fn review_4_other_accounts_are_listed_apart() {
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        &[
            event(1, "2026-11-28T08:30:00Z", "10.0.0.5", "mine", ACCOUNT),
            event(2, "2026-11-28T08:31:00Z", "10.0.0.5", "theirs", "999999999999"),
        ],
    );
    let (code, v) = audit_json(dir.path(), &[]);
    assert_eq!(code, 0);
    assert_eq!(s3_events(&v, "alice").len(), 1);
    assert_eq!(event_ids(&v["other_account"]), vec![id(2)]);
    assert_eq!(v["skipped"]["counts"]["other_account"], 1);
    let (_, table, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t"]);
    assert!(table.contains("OTHER ACCOUNT: 1 S3 data event"), "{table}");
    assert!(
        table.contains("  PRINCIPAL  ")
            && table.contains("assumed-role/datasandbox-fleet-role/appstream_machine_role  "),
        "{table}"
    );
}

/// Finding 5: truncated gzip, no CloudTrail file, a symlinked directory: exit 2, said so.
#[test]
fn review_5_unread_evidence_is_a_finding() {
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        &[event(1, "2026-11-28T08:30:00Z", "10.0.0.5", "k", ACCOUNT)],
    );
    let (code, _, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t"]);
    assert_eq!(code, 0);
    // A truncated gzip file next to the good one.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, serde_json::json!({"Records": [event(2, "2026-11-28T08:31:00Z", "10.0.0.5", "k2", ACCOUNT), event(3, "2026-11-28T08:32:00Z", "10.0.0.5", "k3", ACCOUNT)]}).to_string().as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    std::fs::write(dir.path().join("t/cut.json.gz"), &bytes[..bytes.len() / 2]).unwrap();
    let (code, out, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("evidence incomplete") && !out.contains("every S3 data event in the window is attributed"),
        "{out}"
    );
    assert!(out.contains("cut.json.gz:record"), "{out}");
    // Cut off before the first record: the file is named as unreadable.
    std::fs::write(dir.path().join("t/cut.json.gz"), &bytes[..16]).unwrap();
    let (code, out, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("cut.json.gz: cannot read ("), "{out}");
    // No CloudTrail file at all.
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let (code, out, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "empty"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no CloudTrail file was read"), "{out}");
    // A symbolic link to a directory is listed, not skipped silently.
    #[cfg(unix)]
    {
        std::fs::create_dir_all(dir.path().join("t2")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("t"), dir.path().join("t2/linked")).unwrap();
        let (code, out, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t2"]);
        assert_eq!(code, 2, "{out}");
        assert!(out.contains("linked: cannot open: a symbolic link to a directory, not followed"), "{out}");
    }
}

/// Finding 6: a bucket is named by name, ARN or s3:// URL alike, a path is rejected; filters
/// matching nothing warn.
#[test]
fn review_6_filters_that_match_nothing_warn() {
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        &[event(1, "2026-11-28T08:30:00Z", "10.0.0.5", "k", ACCOUNT)],
    );
    for bad in
        ["datasandbox-data-1a2b3c4d/", "s3://datasandbox-data-1a2b3c4d/k", "arn:aws:s3:::datasandbox-data-1a2b3c4d/k"]
    {
        let (code, _, err) =
            sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t", "--bucket", bad]);
        assert_eq!(code, 1);
        assert!(err.contains("names an object or prefix, not a bucket"), "{err}");
    }
    let run = |bucket: &str| {
        sandboxc(
            dir.path(),
            &["audit", "--usage-reports", "u", "--cloudtrail", "t", "--format", "csv", "--bucket", bucket],
        )
    };
    let bare = run("datasandbox-data-1a2b3c4d");
    assert_eq!(bare.0, 0, "{}", bare.2);
    assert!(bare.1.lines().count() > 1, "{}", bare.1);
    assert_eq!(run("s3://datasandbox-data-1a2b3c4d"), bare);
    assert_eq!(run("arn:aws:s3:::datasandbox-data-1a2b3c4d"), bare);
    let (_, out, _) = sandboxc(
        dir.path(),
        &[
            "audit",
            "--usage-reports",
            "u",
            "--cloudtrail",
            "t",
            "--bucket",
            "nope",
            "--event",
            "PutObjekt",
            "--user",
            "alcie",
        ],
    );
    assert!(out.contains("warning: --bucket nope occurs in no S3 data event of the inputs"), "{out}");
    assert!(out.contains("warning: --event PutObjekt occurs in no S3 data event of the inputs"), "{out}");
    assert!(out.contains("warning: --user alcie is no user_id of the usage reports; users: alice"), "{out}");
    // -q keeps warnings (a typo'd filter audits nothing): said as warnings, not as notes.
    let (code, out, err) =
        sandboxc(dir.path(), &["-q", "audit", "--usage-reports", "u", "--cloudtrail", "t", "--bucket", "nope"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(err, "audit: warning: --bucket nope occurs in no S3 data event of the inputs\n");
    let (_, out, _) = sandboxc(
        dir.path(),
        &["audit", "--usage-reports", "u", "--cloudtrail", "t", "--bucket", DATA_BUCKET, "--user", "alice"],
    );
    assert!(!out.contains("warning"), "{out}");
}

/// Finding 7: control characters are escaped in the table, formulas neutralised in CSV.
#[test]
fn review_7_no_injection_into_reports() {
    let key = "a.csv\n2026-11-28T08:31:00Z  s1  DeleteObject  delete  forged\u{1b}[2J";
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        &[
            event(1, "2026-11-28T08:30:00Z", "10.0.0.5", key, ACCOUNT),
            event(2, "2026-11-28T08:31:00Z", "10.0.0.5", "=HYPERLINK(\"http://evil\",\"x\")", ACCOUNT),
        ],
    );
    let (_, table, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t"]);
    assert!(!table.contains('\u{1b}'), "{table}");
    assert!(table.contains("a.csv\\n2026-11-28T08:31:00Z  s1  DeleteObject  delete  forged\\x1b[2J"), "{table}");
    assert!(!table.lines().any(|l| l.starts_with("2026-11-28T08:31:00Z")), "{table}");
    let (_, csv, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t", "--format", "csv"]);
    assert!(csv.contains(",\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\","), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"), "{csv}");
}

/// Finding 8: a decision log with a bad first line keeps its decisions.
#[test]
fn review_8_decision_log_bad_first_line() {
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        &[event(1, "2026-11-28T08:30:00Z", "10.0.0.5", "k", ACCOUNT)],
    );
    let hash = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90";
    std::fs::write(dir.path().join("d.jsonl"), format!("garbage\n{{\"outcome\":\"issued\",\"reason\":\"session_active\",\"user_hash\":\"{hash}\",\"session_id\":\"s1\"}}\n")).unwrap();
    let (_, v) = audit_json(dir.path(), &["--decisions", "d.jsonl"]);
    assert_eq!(user(&v, "alice")["summary"]["validations_issued"], 1, "{v}");
    assert_eq!(v["skipped"]["problems"][0]["location"], "d.jsonl:1");
}

/// Finding 9: DeleteObjects counted per object from `resources[]`, the bucket taken from
/// `resources[]` when `requestParameters.bucketName` is missing, and a decision whose user
/// hash is not its session's user flagged.
#[test]
fn review_9_resources_and_mismatched_decisions() {
    let mut delete = event(1, "2026-11-28T08:30:00Z", "10.0.0.5", "", ACCOUNT);
    delete["eventName"] = "DeleteObjects".into();
    delete["requestParameters"] = serde_json::json!({"bucketName": DATA_BUCKET, "delete": ""});
    delete["resources"] = serde_json::json!([
        {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}/a.csv")},
        {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}/b.csv")},
        {"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}")},
    ]);
    let mut no_bucket = event(2, "2026-11-28T08:31:00Z", "10.0.0.5", "c.csv", ACCOUNT);
    no_bucket["requestParameters"] = serde_json::json!({"key": "c.csv"});
    no_bucket["resources"] =
        serde_json::json!([{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}/c.csv")}]);
    let dir = sources(
        &row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
        &[delete, no_bucket],
    );
    // bob's hash (printf bob | sha256sum) with alice's session.
    let bob = "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9";
    std::fs::write(
        dir.path().join("d.jsonl"),
        format!(
            "{{\"outcome\":\"issued\",\"reason\":\"session_active\",\"user_hash\":\"{bob}\",\"session_id\":\"s1\"}}\n"
        ),
    )
    .unwrap();
    let (code, v) = audit_json(dir.path(), &["--decisions", "d.jsonl", "--bucket", DATA_BUCKET]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(user(&v, "alice")["summary"]["objects_deleted"], 2, "{v}");
    assert_eq!(user(&v, "alice")["summary"]["s3_events"], 2);
    assert_eq!(v["skipped"]["counts"]["malformed"], 0);
    assert!(
        v["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("its session s1 is alice's in the usage reports, but its user_hash is an unknown user's")),
        "{}",
        v["notes"]
    );
}

// ---- issue 14: duplicates, parallel reading -------------------------------------------------

/// A record present in two trail files (CloudTrail delivered it twice) is counted once, and
/// listed once, whichever list it lands in; the copy is counted apart.
#[test]
fn a_record_in_two_files_is_counted_once() {
    let report = row("s-alice", "alice", "10.0.0.5", "2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z", "");
    let records = [
        event(1, "2026-11-28T10:30:00Z", "10.0.0.5", "k", ACCOUNT),
        event(2, "2026-11-28T12:30:00Z", "10.9.9.9", "u", ACCOUNT),
    ];
    let dir = sources(&report, &records);
    // The same two records again in a second file, and one new record.
    let mut again = records.to_vec();
    again.push(event(3, "2026-11-28T10:40:00Z", "10.0.0.5", "k2", ACCOUNT));
    std::fs::write(dir.path().join("t/trail2.json"), serde_json::json!({ "Records": again }).to_string()).unwrap();
    for jobs in ["1", "3"] {
        let (_, v) = audit_json(dir.path(), &["--jobs", jobs]);
        assert_eq!(s3_events(&v, "alice").len(), 2, "jobs {jobs}: {v}");
        assert_eq!(event_ids(&v["unattributed"]), vec![id(2)], "jobs {jobs}");
        assert_eq!(v["skipped"]["counts"]["duplicate_records"], 2, "jobs {jobs}");
        assert_eq!(v["skipped"]["counts"]["cloudtrail_records"], 5, "every record read is counted as read");
    }
    let (_, table, _) = sandboxc(dir.path(), &["audit", "--usage-reports", "u", "--cloudtrail", "t"]);
    assert!(table.contains("2 copies of records already read (same eventID)"), "{table}");
}

/// Reading CloudTrail files on several threads gives the one-thread report byte for byte, for
/// every fixture set, format and filter.
#[test]
fn parallel_read_is_byte_identical_to_one_core() {
    let filters: [&[&str]; 4] = [
        &[],
        &["--user", "alice"],
        &["--since", "2026-11-28T09:00:00Z", "--until", "2026-11-28T12:00:00Z"],
        &["--event", "GetObject,PutObject"],
    ];
    for set in ["findings", "clean"] {
        for format in ["table", "csv", "json"] {
            for extra in filters {
                let run = |jobs: &str| {
                    let mut args = vec![
                        "audit",
                        "--usage-reports",
                        "usage-reports",
                        "--cloudtrail",
                        "cloudtrail",
                        "--format",
                        format,
                    ];
                    if set == "findings" {
                        args.extend_from_slice(&[
                            "--decisions",
                            "decisions",
                            "--stack",
                            ENV,
                            "--admin-principal",
                            ADMIN,
                        ]);
                    }
                    args.extend_from_slice(extra);
                    args.extend_from_slice(&["--jobs", jobs]);
                    sandboxc(&fixtures(set), &args)
                };
                let one = run("1");
                // Only CSV has anything on stderr: the notes and the verdict its rows leave out
                // (besides the notes of what attribution does not check, the same for every job count).
                let unchecked = |l: &str| {
                    l.starts_with("audit: note: attribution by address is not checked")
                        || l.starts_with("audit: note: notebook events are attributed by the role's path alone")
                };
                let rest: Vec<&str> = one.2.lines().filter(|l| !unchecked(l)).collect();
                assert!(
                    rest.is_empty() || (format == "csv" && rest.iter().all(|l| l.starts_with("audit: "))),
                    "{}",
                    one.2
                );
                for jobs in ["2", "7"] {
                    assert_eq!(run(jobs), one, "{set} {format} {extra:?} --jobs {jobs}");
                }
            }
        }
    }
}

// ---- attribution that address or role path alone would get wrong ------------------------------

/// The sandbox's S3 gateway endpoint in the fixtures (make_fixtures.py SANDBOX_VPCE).
const SANDBOX_VPCE: &str = "vpce-0a1b2c3d4e5f60718";

/// A fixture user's notebook role ARN (make_fixtures.py notebook_identity).
fn notebook_role_arn(user: &str) -> String {
    use sha2::Digest;
    let hash: String = sha2::Sha256::digest(user.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("arn:aws:iam::{ACCOUNT}:role/sandboxc/{ENV}/users/{hash}/{ENV}-UserRole-{}", &hash[..8])
}

/// The endpoints fixtures with `extra`.
fn endpoints(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["audit", "--usage-reports", "usage-reports", "--cloudtrail", "cloudtrail", "--stack", ENV];
    args.extend_from_slice(extra);
    sandboxc(&fixtures("endpoints"), &args)
}

/// The reviewer's two ways to name the wrong person: another VPC with an overlapping private
/// range reaching S3 through its own endpoint from a session's address, and a role created on a
/// user's notebook-role path under another name. With the sandbox's endpoint and the users'
/// role names known both are unattributed with their reason (exit 2), in every format; the
/// public endpoint's record is attributed by address as before, with a note.
#[test]
fn other_endpoints_and_false_notebook_roles_are_unattributed_with_their_reason() {
    let (alice, bob) = (notebook_role_arn("alice"), notebook_role_arn("bob"));
    let known = ["--vpc-endpoint", SANDBOX_VPCE, "--notebook-role", &alice, "--notebook-role", &bob];
    let (code, out, err) = endpoints(&[&known[..], &["--format", "json"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.is_empty(), "everything checked: no note on stderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let unattributed: Vec<(String, String, String)> = v["unattributed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event_id"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
                e["vpc_endpoint"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let row = |n: u32, reason: &str, vpce: &str| (id(n), reason.to_string(), vpce.to_string());
    assert_eq!(
        unattributed,
        vec![
            row(202, "other_vpc_endpoint", "vpce-0ffeeddccbbaa9988"),
            row(205, "not_notebook_role", SANDBOX_VPCE),
            row(206, "other_vpc_endpoint", "vpce-1a2b3c4d"),
        ]
    );
    let alice_events: Vec<String> = user(&v, "alice")["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "s3")
        .map(|e| e["event_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(alice_events, vec![id(201), id(203), id(204)], "the public endpoint's record stays alice's");
    assert_eq!(notebook_events(&v, "bob").len(), 1);
    assert!(s3_events(&v, "bob").is_empty(), "the other VPC's PutObject is not bob's");
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("1 event(s) attributed by address came to S3's public endpoint (no vpcEndpointId)"),
        "{notes}"
    );
    // CSV: the reason column, and vpc_endpoint added at the end.
    let (code, csv, _) = endpoints(&[&known[..], &["--format", "csv"]].concat());
    assert_eq!(code, 2);
    assert!(csv.lines().next().unwrap().ends_with(",session_kind,notebook,role,vpc_endpoint"), "{csv}");
    let status_reason = |n: u32| {
        csv.lines()
            .find(|l| l.contains(&id(n)))
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                (cells[0].to_string(), cells[13].to_string(), cells[21].to_string())
            })
            .unwrap()
    };
    assert_eq!(
        status_reason(202),
        ("unattributed".into(), "other_vpc_endpoint".into(), "vpce-0ffeeddccbbaa9988".into())
    );
    assert_eq!(status_reason(205), ("unattributed".into(), "not_notebook_role".into(), SANDBOX_VPCE.into()));
    assert_eq!(status_reason(201), ("attributed".into(), String::new(), SANDBOX_VPCE.into()));
    assert_eq!(status_reason(203), ("attributed".into(), String::new(), String::new()));
    // The table: a REASON column with the endpoint or role, and each reason explained.
    let (code, table, _) = endpoints(&known);
    assert_eq!(code, 2);
    assert!(table.contains("UNATTRIBUTED: 3 S3 data events attributed to no one"), "{table}");
    assert!(table.contains("other_vpc_endpoint (vpce-0ffeeddccbbaa9988)"), "{table}");
    assert!(table.contains("not_notebook_role (datasandbox-impostor)"), "{table}");
    assert!(table.contains("role on a user's path but not among the users' known notebook roles"), "{table}");
    assert!(!table.contains("  no_session: "), "no reason explained that no event has:\n{table}");
}

/// Without the endpoint or the role names, attribution is today's (address, role path), and
/// the report says what is not checked, naming the flag, in every format (JSON `notes`, the
/// table, CSV's stderr lines), so that a machine tells an unchecked result from a clean one;
/// -q keeps to the verdict.
#[test]
fn unchecked_attribution_is_said_in_the_report() {
    let unchecked = |v: &Value| -> Vec<String> {
        v["notes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n.as_str().filter(|n| n.starts_with("unchecked: ")).map(String::from))
            .collect()
    };
    let (code, out, err) = endpoints(&["--format", "json"]);
    assert_eq!((code, err.as_str()), (0, ""), "nothing is unattributed when nothing is checked");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert!(v["unattributed"].as_array().unwrap().is_empty());
    assert!(s3_events(&v, "bob").iter().any(|(_, action, _)| action == "PutObject"), "today's behaviour");
    assert_eq!(notebook_events(&v, "alice").len(), 2, "the path alone names alice");
    let notes = unchecked(&v);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("not checked against the sandbox's VPC endpoint") && notes[0].contains("--vpc-endpoint"));
    assert!(notes[1].contains("by the role's path alone (/sandboxc/datasandbox/users/<user hash>/)"));
    assert!(notes[1].contains("--notebook-role ROLE_ARN"));
    // The endpoint known, the roles not: only the role note.
    let (code, out, _) = endpoints(&["--format", "json", "--vpc-endpoint", SANDBOX_VPCE]);
    assert_eq!(code, 2, "the other endpoints' records are findings");
    let notes = unchecked(&serde_json::from_str(&out).unwrap());
    assert!(notes.len() == 1 && notes[0].contains("--notebook-role"), "{notes:?}");
    // No environment: no notebook attribution at all, so no role note.
    let (_, out, _) = sandboxc(
        &fixtures("endpoints"),
        &[
            "audit",
            "--usage-reports",
            "usage-reports",
            "--cloudtrail",
            "cloudtrail",
            "--vpc-endpoint",
            SANDBOX_VPCE,
            "--format",
            "json",
        ],
    );
    assert!(unchecked(&serde_json::from_str(&out).unwrap()).is_empty(), "{out}");
    // The table shows them; CSV's readers get them on stderr.
    let (_, table, err) = endpoints(&[]);
    assert!(err.is_empty() && table.matches("unchecked: ").count() == 2, "{table}{err}");
    let (_, _, err) = endpoints(&["--format", "csv"]);
    assert_eq!(err.matches("audit: note: unchecked: ").count(), 2, "{err}");
    // -q: the verdict only.
    let (code, out, err) = endpoints(&["-q"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, _, err) = endpoints(&["-q", "--vpc-endpoint", SANDBOX_VPCE]);
    assert_eq!(code, 2);
    assert!(!err.contains("note:") && err.contains("audit: findings: 2 unattributed"), "{err}");
}

/// A sandbox endpoint through which no event came, while events came through others, is most
/// likely a typo: a warning says so (also with -q), as for filters that match nothing.
#[test]
fn an_endpoint_no_event_came_through_is_a_warning() {
    let typo = "vpce-0a1b2c3d4e5f60719";
    let (code, out, _) = endpoints(&["--vpc-endpoint", typo, "--format", "json"]);
    assert_eq!(code, 2);
    let v: Value = serde_json::from_str(&out).unwrap();
    let warning = format!("warning: the sandbox's VPC endpoint {typo} (--vpc-endpoint, or the stack output S3EndpointId) occurs in no S3 data event of the inputs");
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().is_some_and(|n| n.starts_with(&warning))), "{v}");
    let (_, _, err) = endpoints(&["-q", "--vpc-endpoint", typo]);
    assert!(err.contains(&format!("audit: {warning}")), "{err}");
    let (_, out, _) = endpoints(&["--vpc-endpoint", SANDBOX_VPCE, "--format", "json"]);
    assert!(!out.contains("warning: the sandbox's VPC endpoint"), "{out}");
}

/// `--vpc-endpoint` takes vpce- and 8 or 17 lowercase hex digits, `--notebook-role` a role on
/// the audited environment's users path; anything else exits 1 with what is allowed.
#[test]
fn vpc_endpoint_and_notebook_role_flags_are_validated() {
    for good in ["vpce-1a2b3c4d", SANDBOX_VPCE] {
        let (code, _, err) = endpoints(&["--vpc-endpoint", good, "-q"]);
        assert_ne!(code, 1, "{good}: {err}");
    }
    for bad in [
        "vpce-1A2B3C4D",
        "vpce-1a2b3c4",
        "vpce-0a1b2c3d4e5f6071",
        "vpc-0a1b2c3d4e5f60718",
        "vpce-",
        "vpce-0a1b2c3d' OR '1",
    ] {
        let (code, out, err) = endpoints(&["--vpc-endpoint", bad]);
        assert_eq!(code, 1, "{bad}: {out}{err}");
        assert!(
            err.contains("is not a VPC endpoint ID") && err.contains("8 or 17 lowercase hex digits"),
            "{bad}: {err}"
        );
    }
    let other_env = notebook_role_arn("alice").replace("/datasandbox/", "/staging/");
    let bad_roles = [
        other_env.as_str(),
        "arn:aws:iam::123456789012:role/BreakGlassAdmin",
        "arn:aws:iam::123456789012:role/sandboxc/datasandbox/users/ABC/x",
    ];
    for bad in bad_roles {
        let (code, _, err) = endpoints(&["--notebook-role", bad]);
        assert_eq!(code, 1, "{bad}: {err}");
        assert!(err.contains("is not a notebook role of environment datasandbox"), "{bad}: {err}");
    }
    let (code, _, err) = sandboxc(
        &fixtures("endpoints"),
        &["audit", "--cloudtrail", "cloudtrail", "--notebook-role", &notebook_role_arn("alice")],
    );
    assert_eq!(code, 1);
    assert!(err.contains("the environment is unknown"), "{err}");
    let (_, help, _) = sandboxc(&fixtures("endpoints"), &["audit", "--help"]);
    for needle in [
        "--vpc-endpoint <VPCE_ID>",
        "--notebook-role <ROLE_ARN>",
        "other_vpc_endpoint",
        "not_notebook_role",
        "no_session",
    ] {
        assert!(help.contains(needle), "{needle} missing from --help:\n{help}");
    }
}
