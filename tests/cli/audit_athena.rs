//! The Athena engine's query gives the local engine's attribution: for every audit fixture set
//! (tests/fixtures/audit) and every filter combination the audit CLI tests use, the generated SQL
//! runs on DuckDB (tests/audit_duckdb.py, in the test venv: `$SANDBOXC_VENV` or `.venv`) over the
//! same files, its rows are rebuilt into a report by the code `--engine athena` uses, and the CSV
//! of that report (one row per S3 data event and validator decision: category, user, session,
//! time, event, object, candidates...) must equal the local engine's CSV line for line.

use std::path::{Path, PathBuf};

use sandboxc::audit::athena_rows::{AthenaAuditor, Row};
use sandboxc::audit::athena_sql::{query, QuerySpec, Tables};
use sandboxc::audit::local::{decision_files, LocalEvidence};
use sandboxc::audit::{collect_with, write_report, AuditFormat, FilterText, Filters, Principals, Problem};

const DATA_BUCKET: &str = "datasandbox-data-1a2b3c4d";
const ENV: &str = "datasandbox";
const ADMIN: &str = "arn:aws:iam::123456789012:role/BreakGlassAdmin";

fn fixtures(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit").join(set)
}

/// The filters as the CLI tests give them; without a window, one holding every fixture (the
/// Athena engine always has a window).
fn filters(args: &[&str]) -> Filters {
    let mut text = FilterText::default();
    let mut it = args.iter();
    while let (Some(flag), Some(value)) = (it.next(), it.next()) {
        let list: Vec<String> = value.split(',').map(str::to_string).collect();
        match *flag {
            "--since" => text.since = Some((*value).to_string()),
            "--until" => text.until = Some((*value).to_string()),
            "--user" => text.users.extend(list),
            "--bucket" => text.buckets.extend(list),
            "--event" => text.events.extend(list),
            other => panic!("unknown flag {other}"),
        }
    }
    if text.since.is_none() {
        text.since = Some("2026-11-01".into());
    }
    if text.until.is_none() {
        text.until = Some("2026-12-31".into());
    }
    Filters::from_text(&text, None).expect("filters")
}

fn csv(report: &sandboxc::audit::Report) -> String {
    let mut out = Vec::new();
    write_report(report, AuditFormat::Csv, &mut out).expect("renders");
    String::from_utf8(out).expect("utf-8")
}

fn python() -> PathBuf {
    let dir = std::env::var_os("SANDBOXC_VENV")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv"), PathBuf::from);
    let python = dir.join("bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/test.sh (it installs duckdb 2.0.0 into $SANDBOXC_VENV)",
        python.display()
    );
    python
}

/// Runs the query on DuckDB over the fixture set's files.
fn duckdb_rows(set: &Path, sql: &str) -> Vec<Row> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sql_file = dir.path().join("query.sql");
    let (reports, trail) = (set.join("usage-reports"), set.join("cloudtrail"));
    run_harness(&[reports.as_os_str(), trail.as_os_str()], &sql_file, sql)
}

/// Runs tests/audit_duckdb.py with `args` and the query `sql` written to `sql_file`: the rows
/// it prints (JSON).
fn run_harness(args: &[&std::ffi::OsStr], sql_file: &Path, sql: &str) -> Vec<Row> {
    std::fs::write(sql_file, sql).expect("writes the query");
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit_duckdb.py");
    let out = std::process::Command::new(python()).arg(harness).args(args).arg(sql_file).output().expect("runs python");
    assert!(
        out.status.success(),
        "the DuckDB harness failed:\n{}\n--- query ---\n{sql}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("rows as JSON")
}

fn compare(set: &str, decisions: &str, principals: &Principals, args: &[&str]) {
    compare_in(&fixtures(set), set, decisions, principals, args);
}

fn compare_in(dir: &Path, set: &str, decisions: &str, principals: &Principals, args: &[&str]) {
    let dir = dir.to_path_buf();
    let decisions = vec![dir.join(decisions)];
    let f = filters(args);
    let mut local =
        LocalEvidence::new(Some(dir.join("usage-reports")), Some(dir.join("cloudtrail")), decisions.clone())
            .expect("sources");
    let local = collect_with(&mut local, f.clone(), principals.clone(), 1).expect("local audit");
    let tables = Tables { database: "sandboxc_audit".into(), trail: "cloudtrail".into(), sessions: "sessions".into() };
    let regions = vec!["us-east-1".to_string()];
    let sql =
        query(&QuerySpec { tables: &tables, account: "123456789012", regions: &regions, filters: &f, principals })
            .expect("query");
    let mut athena = AthenaAuditor::new(f.clone(), principals.clone());
    athena.rows(duckdb_rows(&dir, &sql)).expect("rows");
    decision_files(&decisions, &mut |location, file| match file {
        Ok(f) => athena.auditor.read_decisions(location, f),
        Err(e) => athena.auditor.bad_file(Problem::file(location, e)),
    })
    .expect("decisions");
    let athena = athena.report(Vec::new()).expect("report");
    let (want, got) = (csv(&local), csv(&athena));
    if want != got {
        let diff: Vec<String> = want
            .lines()
            .map(|l| (l, got.lines().any(|g| g == l)))
            .filter(|(_, found)| !found)
            .map(|(l, _)| format!("- {l}"))
            .chain(got.lines().filter(|g| !want.lines().any(|l| l == *g)).map(|g| format!("+ {g}")))
            .collect();
        panic!("{set} {args:?}: the Athena query's attribution differs from the local engine's (- local, + DuckDB):\n{}\n--- local ---\n{want}\n--- DuckDB ---\n{got}", diff.join("\n"));
    }
    assert!(want.lines().count() > 1 || args.iter().any(|a| a.starts_with("--")), "{set} {args:?}: nothing compared");
}

#[test]
fn athena_query_on_duckdb_attributes_exactly_as_the_local_engine() {
    let combos: [&[&str]; 12] = [
        &[],
        &["--bucket", DATA_BUCKET],
        &["--user", "alice"],
        &["--user", "carol"],
        &["--user", "erin"],
        &["--user", "zoe"],
        &["--bucket", DATA_BUCKET, "--user", "alice"],
        &["--event", "PutObject,CopyObject"],
        &["--event", "GetObject,PutObject"],
        &["--since", "2026-11-28T09:00:00Z", "--until", "2026-11-28"],
        &["--since", "2026-11-28T09:00:00Z", "--until", "2026-11-28T12:00:00Z"],
        &["--since", "2026-11-29", "--until", "2026-11-29"],
    ];
    let full = Principals {
        environment: Some(ENV.into()),
        admin_roles: vec![ADMIN.into()],
        users: Vec::new(),
        ..Principals::default()
    };
    let env_only = Principals { environment: Some(ENV.into()), ..Principals::default() };
    let other_env = Principals { environment: Some("otherenv".into()), ..Principals::default() };
    for args in combos {
        compare("findings", "decisions", &full, args);
        compare("findings", "decisions", &Principals::default(), args);
        compare("clean", "decisions.jsonl", &env_only, args);
        compare("clean", "decisions.jsonl", &Principals::default(), args);
    }
    compare("findings", "decisions", &other_env, &[]);
    compare("clean", "decisions.jsonl", &other_env, &[]);
    // The sandbox's endpoint and the users' role names known: every record of these sets came
    // through it and from the right roles, so nothing changes.
    let checked =
        Principals { vpc_endpoints: vec![SANDBOX_VPCE.into()], notebook_roles: Some(fixture_roles()), ..full.clone() };
    for args in combos {
        compare("findings", "decisions", &checked, args);
        compare("clean", "decisions.jsonl", &checked, args);
    }
}

/// The sandbox's S3 gateway endpoint in the fixtures (tests/fixtures/audit/make_fixtures.py).
const SANDBOX_VPCE: &str = "vpce-0a1b2c3d4e5f60718";

/// The fixture users' notebook role names (make_fixtures.py's notebook_identity).
fn fixture_roles() -> sandboxc::audit::NotebookRoles {
    ["alice", "bob", "carol", "dave", "erin", "zoe"]
        .iter()
        .map(|u| {
            let hash = sandboxc::audit::join::user_hash(u);
            let name = format!("{ENV}-UserRole-{}", &hash[..8]);
            (hash, std::iter::once(name).collect())
        })
        .collect()
}

/// The endpoints set (another VPC's endpoint from a session's address, S3's public endpoint, a
/// role on a user's path under another name), with and without the endpoint and the role names
/// known, under every filter: both engines judge alike.
#[test]
fn athena_query_on_duckdb_checks_endpoints_and_role_names_as_the_local_engine() {
    let combos: [&[&str]; 6] = [
        &[],
        &["--user", "alice"],
        &["--user", "bob"],
        &["--event", "GetObject"],
        &["--bucket", DATA_BUCKET],
        &["--since", "2026-11-28T08:15:00Z", "--until", "2026-11-28T09:10:00Z"],
    ];
    let env_only = Principals { environment: Some(ENV.into()), ..Principals::default() };
    let endpoint = Principals { vpc_endpoints: vec![SANDBOX_VPCE.into()], ..env_only.clone() };
    let two_endpoints =
        Principals { vpc_endpoints: vec!["vpce-1a2b3c4d".into(), SANDBOX_VPCE.into()], ..env_only.clone() };
    let roles = Principals { notebook_roles: Some(fixture_roles()), ..env_only.clone() };
    let no_roles = Principals { notebook_roles: Some(sandboxc::audit::NotebookRoles::new()), ..env_only.clone() };
    let both = Principals { vpc_endpoints: vec![SANDBOX_VPCE.into()], ..roles.clone() };
    for principals in [&Principals::default(), &env_only, &endpoint, &two_endpoints, &roles, &no_roles, &both] {
        for args in combos {
            compare("endpoints", "decisions.jsonl", principals, args);
        }
    }
}

const ACCOUNT: &str = "123456789012";

/// A headerless sessions-report row in the documented column order (as the CLI tests write).
fn row(session: &str, user: &str, ip: &str, start: &str, end: &str, max_duration: &str) -> String {
    format!(
        "{session},{ACCOUNT},us-east-1,{start},{end},,{user},arn:aws:appstream:us-east-1:{ACCOUNT}:user/custom/{user},CUSTOM,{user}_CUSTOM,fleet,stack,stream.standard.small,{ip},true,203.0.113.9,false,false,s3,ENABLED,DISABLED,DISABLED,DISABLED,DISABLED,false,false,{max_duration},ALWAYS_ON,APP\n"
    )
}

/// A CloudTrail S3 data event (GetObject of `key` in the data bucket).
fn event(id: &str, time: &str, ip: &str, key: &str, account: &str) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.09", "eventTime": time, "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "eventCategory": "Data", "sourceIPAddress": ip, "recipientAccountId": account, "eventID": id,
        "userIdentity": {"type": "AssumedRole", "arn": format!("arn:aws:sts::{account}:assumed-role/datasandbox-fleet-role/appstream_machine_role")},
        "requestParameters": {"bucketName": DATA_BUCKET, "key": key},
    })
}

/// The edge cases of the CLI review tests, laid out as the buckets: open sessions capped by 5
/// days or by max_session_duration, contradicting reports (ambiguous), a session open in one
/// day's report and closed in the next with events at its end and just after, other accounts
/// (claimed address and unclaimed address), DeleteObjects with resources[] and a record
/// without bucketName, a record in two files (counted once) and two records without eventID
/// (never merged).
fn edges() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let day = |d: u32| dir.path().join(format!("usage-reports/sessions/schedule=DAILY/year=2026/month=11/day={d:02}"));
    let trail = |d: u32| dir.path().join(format!("cloudtrail/AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/{d:02}"));
    for d in [20, 28, 29] {
        std::fs::create_dir_all(day(d)).unwrap();
        std::fs::create_dir_all(trail(d)).unwrap();
    }
    let write = |path: PathBuf, text: String| std::fs::write(path, text).unwrap();
    write(
        day(20).join("daily-session-report-2026-11-20.csv"),
        [
            row("s-open", "olga", "10.0.0.6", "2026-11-20T08:00:00Z", "", ""),
            row("s-cap", "carl", "10.0.0.7", "2026-11-20T08:00:00Z", "", "3600"),
        ]
        .concat(),
    );
    write(
        day(28).join("daily-session-report-2026-11-28.csv"),
        [
            row("s1", "alice", "10.0.0.5", "2026-11-28T08:00:00Z", "", ""),
            row("s2", "dave", "10.0.0.8", "2026-11-28T09:00:00Z", "", ""),
        ]
        .concat(),
    );
    write(
        day(29).join("daily-session-report-2026-11-29.csv"),
        [
            row("s1", "mallory", "10.0.0.5", "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z", ""),
            row("s2", "dave", "10.0.0.8", "2026-11-28T09:00:00Z", "2026-11-28T10:00:00Z", ""),
        ]
        .concat(),
    );
    let mut delete = event("e-del", "2026-11-28T09:40:00Z", "10.0.0.8", "", ACCOUNT);
    delete["eventName"] = "DeleteObjects".into();
    delete["requestParameters"] = serde_json::json!({"bucketName": DATA_BUCKET, "delete": ""});
    delete["resources"] = serde_json::json!([
        {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}/a.csv")},
        {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}/b.csv")},
        {"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}")},
    ]);
    let mut no_bucket = event("e-nob", "2026-11-28T09:41:00Z", "10.0.0.8", "c.csv", ACCOUNT);
    no_bucket["requestParameters"] = serde_json::json!({"key": "c.csv"});
    no_bucket["resources"] =
        serde_json::json!([{"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{DATA_BUCKET}/c.csv")}]);
    let twice = event("e-twice", "2026-11-28T09:45:00Z", "10.0.0.8", "t.csv", ACCOUNT);
    let first = vec![
        event("e-olga-1", "2026-11-20T09:00:00Z", "10.0.0.6", "a", ACCOUNT),
        event("e-carl-1", "2026-11-20T08:30:00Z", "10.0.0.7", "c", ACCOUNT),
        event("e-carl-2", "2026-11-20T09:30:00Z", "10.0.0.7", "d", ACCOUNT),
    ];
    write(
        trail(20).join(format!("{ACCOUNT}_CloudTrail_us-east-1_20261120T0935Z_a.json")),
        serde_json::json!({"Records": first}).to_string(),
    );
    let second = vec![
        event("e-olga-2", "2026-11-28T09:00:00Z", "10.0.0.6", "b", ACCOUNT),
        event("e-amb", "2026-11-28T08:30:00Z", "10.0.0.5", "k", ACCOUNT),
        event("e-end", "2026-11-28T10:00:00Z", "10.0.0.8", "end.csv", ACCOUNT),
        event("e-after", "2026-11-28T10:00:01Z", "10.0.0.8", "after.csv", ACCOUNT),
        event("e-other", "2026-11-28T09:30:00Z", "10.0.0.8", "theirs", "999999999999"),
        event("e-other2", "2026-11-28T09:31:00Z", "10.9.9.9", "theirs2", "999999999999"),
        event("", "2026-11-28T09:50:00Z", "10.0.0.8", "no-id", ACCOUNT),
        event("", "2026-11-28T09:50:00Z", "10.0.0.8", "no-id", ACCOUNT),
        delete,
        no_bucket,
        twice.clone(),
    ];
    write(
        trail(28).join(format!("{ACCOUNT}_CloudTrail_us-east-1_20261128T1005Z_b.json")),
        serde_json::json!({"Records": second}).to_string(),
    );
    let third = vec![twice, event("e-late", "2026-11-29T00:01:00Z", "10.0.0.8", "late.csv", ACCOUNT)];
    write(
        trail(29).join(format!("{ACCOUNT}_CloudTrail_us-east-1_20261129T0005Z_c.json")),
        serde_json::json!({"Records": third}).to_string(),
    );
    write(dir.path().join("decisions.jsonl"), String::new());
    dir
}

/// The CLI review tests' edge cases, with the filters they use, on both engines.
#[test]
fn athena_query_on_duckdb_matches_the_local_engine_on_the_edge_cases() {
    let dir = edges();
    let combos: [&[&str]; 8] = [
        &[],
        &["--user", "olga"],
        &["--user", "dave"],
        &["--user", "mallory"],
        &["--event", "DeleteObjects"],
        &["--bucket", DATA_BUCKET],
        &["--since", "2026-11-28T09:00:00Z", "--until", "2026-11-28T10:00:00Z"],
        &["--since", "2026-11-28", "--until", "2026-11-28"],
    ];
    for args in combos {
        compare_in(dir.path(), "edges", "decisions.jsonl", &Principals::default(), args);
    }
}

/// Partition pruning: over a generated week of trail files and sessions reports, the query for
/// one day reads only the files of that day and the next (trail) and of the 5 days before to the
/// day after (usage reports): the bytes it would scan are computed from the query's own
/// partition predicates, evaluated on DuckDB over one row per file.
#[test]
fn a_one_day_query_reads_only_its_partitions() {
    use sandboxc::audit::athena_sql::{literal, partition_predicates};
    use sandboxc::audit::time::Instant;
    use std::io::Write;
    let dir = tempfile::tempdir().expect("temp dir");
    let (trail, reports) = (dir.path().join("cloudtrail"), dir.path().join("usage-reports"));
    let mut sizes: Vec<(String, u64)> = Vec::new();
    for d in 22..=28u32 {
        let day = trail.join(format!("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/{d:02}"));
        std::fs::create_dir_all(&day).unwrap();
        for f in 0..(2 + d % 3) {
            let name = format!("123456789012_CloudTrail_us-east-1_202611{d:02}T{f:02}00Z_x.json.gz");
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            let records: Vec<String> = (0..(100 * (f + 1) + d))
                .map(|i| format!("{{\"eventID\":\"{d}-{f}-{i}\",\"eventTime\":\"2026-11-{d:02}T{:02}:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"requestParameters\":{{\"bucketName\":\"b\",\"key\":\"k{i}\"}}}}", i % 24))
                .collect();
            gz.write_all(format!("{{\"Records\":[{}]}}", records.join(",")).as_bytes()).unwrap();
            let bytes = gz.finish().unwrap();
            std::fs::write(day.join(&name), &bytes).unwrap();
            sizes
                .push((format!("AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/{d:02}/{name}"), bytes.len() as u64));
        }
        let rep = reports.join(format!("sessions/schedule=DAILY/year=2026/month=11/day={d:02}"));
        std::fs::create_dir_all(&rep).unwrap();
        std::fs::write(rep.join(format!("daily-session-report-2026-11-{d:02}.csv")), "s,1\n").unwrap();
    }
    // A digest file is never under the table's template.
    let digest = trail.join("AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/11/25");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(digest.join("d.json.gz"), "x").unwrap();
    let since = Instant::parse("2026-11-25").unwrap();
    let until = Instant(Instant::parse("2026-11-26").unwrap().0);
    let account = literal("account", "123456789012").unwrap();
    let (trail_pred, reports_pred) =
        partition_predicates(&account, &[literal("region", "us-east-1").unwrap()], since, until);
    let harness = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/audit_duckdb.py");
    let out = std::process::Command::new(python())
        .args([harness.as_os_str(), "--scan".as_ref(), reports.as_os_str(), trail.as_os_str()])
        .args([&trail_pred, &reports_pred])
        .output()
        .expect("runs python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let picked: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let read: Vec<&str> = picked["trail"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    let expected: Vec<&str> = sizes
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| p.contains("/2026/11/25/") || p.contains("/2026/11/26/"))
        .collect();
    assert_eq!(read, expected, "the trail files of the day and the next");
    let reports_read: Vec<&str> = picked["reports"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(reports_read.len(), 5, "days 22..26 exist of 20..26: {reports_read:?}");
    assert!(reports_read.iter().all(|p| !p.contains("day=27") && !p.contains("day=28")));
    let total: u64 = sizes.iter().map(|(_, s)| s).sum();
    let scanned: u64 = sizes.iter().filter(|(p, _)| read.contains(&p.as_str())).map(|(_, s)| s).sum();
    println!(
        "one-day query over a 7-day trail: {scanned} of {total} compressed trail bytes ({:.1}%), {} of {} files",
        scanned as f64 * 100.0 / total as f64,
        read.len(),
        sizes.len()
    );
    assert!(scanned * 7 < total * 3, "pruning reads about 2 days of 7");
}

/// Runs sandboxc with `args` and no AWS endpoint to reach: its exit code and standard error.
fn offline(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .args(args)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .expect("runs sandboxc");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// `--engine athena` refuses what belongs to the local engine, needs the blueprint's
/// `audit.athena`, and `--print-sql` belongs to it; none of this calls AWS.
#[test]
fn engine_athena_arguments() {
    let run = offline;
    let (code, err) = run(&["audit", "--engine", "athena", "--cloudtrail", "t"]);
    assert_eq!(code, 1);
    assert!(err.contains("--cloudtrail belongs to --engine local"), "{err}");
    let (code, err) = run(&["audit", "--engine", "athena", "--from-aws"]);
    assert_eq!(code, 1);
    assert!(err.contains("--from-aws belongs to --engine local"), "{err}");
    // Its Glue tables name the buckets: the bucket flags of --from-aws are refused, not ignored.
    for flag in ["--usage-bucket", "--trail-bucket"] {
        let (code, err) = run(&["audit", "--engine", "athena", flag, "some-bucket"]);
        assert_eq!(code, 1);
        assert!(err.contains(&format!("{flag} belongs to --engine local")), "{err}");
    }
    let (code, err) = run(&["audit", "--print-sql", "--cloudtrail", "t"]);
    assert_eq!(code, 1);
    assert!(err.contains("--print-sql belongs to --engine athena"), "{err}");
    // The embedded default blueprint has no audit.athena.
    let (code, err) = run(&["audit", "--engine", "athena", "--since", "2026-11-28"]);
    assert_eq!(code, 1);
    assert!(err.contains("needs the blueprint's audit.athena") && err.contains("sandboxc apply"), "{err}");
    let (code, err) = run(&["audit", "--engine", "athena", "--since", "2026-11-28", "--user", "x"]);
    assert_eq!(code, 1, "{err}");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_sandboxc")).args(["audit", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--engine <ENGINE>") && help.contains("sandboxc audit --engine athena --since 2026-11-28"),
        "{help}"
    );
}

/// `--prices DIR` is read before the query: a missing or malformed AmazonAthena offer file is an
/// error naming the file (exit 1) right after GetCallerIdentity (the Region of the Athena
/// client is known then), and no StartQueryExecution request is made; with a readable file the
/// command goes on to read the stack. `--prices` belongs to `--engine athena`.
#[test]
fn engine_athena_reads_its_price_before_the_query() {
    use crate::commands::{endpoint, sandboxc_at, CALLER_IDENTITY};
    let tmp = tempfile::tempdir().unwrap();
    let bp = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/always-on-4az.yaml").display().to_string();
    let prices = tmp.path().join("offers");
    std::fs::create_dir(&prices).unwrap();
    let file = prices.join("AmazonAthena.json");
    let args = |dir: &Path| {
        vec![
            "audit".to_string(),
            bp.clone(),
            "--engine".into(),
            "athena".into(),
            "--since".into(),
            "2026-11-28".into(),
            "--prices".into(),
            dir.display().to_string(),
        ]
    };
    let run = |dir: &Path| {
        let (url, requests) = endpoint(Some(CALLER_IDENTITY));
        let args = args(dir);
        let o = sandboxc_at(tmp.path(), &args.iter().map(String::as_str).collect::<Vec<_>>(), &url);
        let seen = requests.lock().unwrap().clone();
        (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned(), seen)
    };
    let no_query = |seen: &[String]| {
        assert!(
            seen.iter().all(|r| !r.contains("StartQueryExecution") && !r.contains("AmazonAthena.")),
            "no Athena request: {seen:?}"
        );
    };
    // Missing.
    let (code, err, seen) = run(&prices);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("cannot read the prices: no AmazonAthena offer file: looked for")
            && err.contains(&file.display().to_string()),
        "{err}"
    );
    assert_eq!(seen.len(), 1, "GetCallerIdentity only: {seen:?}");
    assert!(seen[0].contains("GetCallerIdentity"), "{seen:?}");
    no_query(&seen);
    // Malformed.
    std::fs::write(&file, "{\"formatVersion\": \"v1.0\", \"offerCode\": \"AmazonAthena\", \"products\": [").unwrap();
    let (code, err, seen) = run(&prices);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains(&format!("{} is not an AWS Price List offer file", file.display())), "{err}");
    assert_eq!(seen.len(), 1, "GetCallerIdentity only: {seen:?}");
    no_query(&seen);
    // Not a directory: refused before any request.
    let (code, err, seen) = run(&file);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not a directory"), "{err}");
    assert!(seen.is_empty(), "{seen:?}");
    // Readable (the fixtures): past the price, the stack is read next (this endpoint answers
    // it with nonsense, so the command stops there), still before any query.
    let (code, err, seen) = run(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offers"));
    assert_eq!(code, Some(1), "{err}");
    assert!(!err.contains("prices"), "{err}");
    assert!(seen.len() > 1 && seen[1].contains("DescribeStacks"), "{seen:?}");
    no_query(&seen);
    // --prices belongs to --engine athena.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .args(["audit", "--prices", "offers", "--cloudtrail", "t"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--prices belongs to --engine athena"));
    // The help states the unit conversion and that no minimum is applied.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_sandboxc")).args(["audit", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("--prices <DIR>")
            && help.contains("bytes scanned / 2^40")
            && help.contains("no per-query minimum is applied"),
        "{help}"
    );
}

/// One CloudWatch Logs event of the validator's log group, for the decisions tests.
#[derive(Debug, Clone)]
struct LogEv {
    /// The record's `owner`: the account of the log data.
    owner: String,
    group: String,
    stream: String,
    id: String,
    ts: i64,
    message: String,
}

const VALIDATOR_GROUP: &str = "/sandboxc/datasandbox/0a1b2c3d/lambda/validator";

/// The events of a decisions fixture file: each line that is a CloudWatch Logs event (as
/// `filter-log-events` gives it) is that event (its `eventId` and `logStreamName` kept); any
/// other non-blank line (a bare decision, a broken line) is the message of an event one minute
/// after the previous synthetic one, from 2026-11-28T12:00:00Z.
fn fixture_events(path: &Path) -> Vec<LogEv> {
    let text = std::fs::read_to_string(path).expect("reads the fixture");
    let mut out: Vec<LogEv> = Vec::new();
    let mut next_ts = sandboxc::audit::time::Instant::parse("2026-11-28T12:00:00Z").unwrap().0;
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let v: Option<serde_json::Value> = serde_json::from_str(line).ok();
        let event = v.as_ref().and_then(|v| Some((v["message"].as_str()?, v["timestamp"].as_i64()?, v)));
        let synthetic_id = format!("{:056}", 37_990_000 + i);
        let ev = match event {
            Some((message, ts, v)) => LogEv {
                owner: ACCOUNT.into(),
                group: VALIDATOR_GROUP.into(),
                stream: v["logStreamName"].as_str().unwrap_or("2026/11/28/[$LATEST]0123456789abcdef").into(),
                id: v["eventId"].as_str().map_or(synthetic_id.clone(), str::to_string),
                ts,
                message: message.into(),
            },
            None => {
                next_ts += 61_000;
                LogEv {
                    owner: ACCOUNT.into(),
                    group: VALIDATOR_GROUP.into(),
                    stream: "2026/11/28/[$LATEST]fedcba9876543210".into(),
                    id: synthetic_id.clone(),
                    ts: next_ts,
                    message: line.into(),
                }
            }
        };
        assert!(out.iter().all(|e| e.id != ev.id), "{}: event IDs are unique in a log group", path.display());
        out.push(ev);
    }
    out
}

/// `yyyy/MM/dd` of a time in milliseconds.
fn utc_day(ms: i64) -> String {
    let t = sandboxc::audit::time::Instant(ms).to_string();
    format!("{}/{}/{}", &t[0..4], &t[5..7], &t[8..10])
}

/// One subscription record as Firehose's Decompression processor delivers it (one line).
fn record(kind: &str, owner: &str, group: &str, stream: &str, events: &[&LogEv]) -> String {
    let events: Vec<serde_json::Value> =
        events.iter().map(|e| serde_json::json!({"id": e.id, "timestamp": e.ts, "message": e.message})).collect();
    serde_json::json!({
        "messageType": kind, "owner": owner, "logGroup": group, "logStream": stream,
        "subscriptionFilters": ["sandboxc-validator-decisions"], "logEvents": events,
    })
    .to_string()
}

/// How Firehose delivers a test's events: events per subscription record, and each record's
/// arrival after its last event (milliseconds, by the record's number).
struct Delivery {
    per_record: usize,
    lag: fn(i64) -> i64,
}

/// The fixtures' delivery: up to 3 events a record, arriving 0 to 16 minutes after the last
/// (the buffer interval and the subscription's delivery).
const SPREAD: Delivery = Delivery { per_record: 3, lag: |k| (k * 370_000) % 960_000 };

/// Lays out `events` as the Firehose stream delivers them to the decisions bucket under `dir`:
/// records of the events of one stream, in arrival order, buffered into objects of up to 4
/// records arriving within 900 s of the object's first (the largest buffer interval), each
/// object in the folder of the UTC day its *oldest* record arrived (`decisions/yyyy/MM/dd/`,
/// gzip); plus a CONTROL_MESSAGE record (with the health-check event AWS sends), the first
/// record delivered again in an object of the next day (Firehose is at least once) and the
/// third again in an object of its own day; plus each of `planted` (an object key and an
/// event) as a record alone in that object, as someone writing to the bucket would add it.
/// Returns each object's key and lines.
fn firehose_layout(
    dir: &Path,
    events: &[LogEv],
    delivery: &Delivery,
    planted: &[(&str, LogEv)],
) -> std::collections::BTreeMap<String, Vec<String>> {
    use std::collections::BTreeMap;
    use std::io::Write;
    let mut streams: BTreeMap<(&str, &str, &str), Vec<&LogEv>> = BTreeMap::new();
    for e in events {
        streams.entry((&e.owner, &e.group, &e.stream)).or_default().push(e);
    }
    // (arrival, record line)
    let mut records: Vec<(i64, String)> = Vec::new();
    let mut k = 0i64;
    for ((owner, group, stream), evs) in &streams {
        for chunk in evs.chunks(delivery.per_record) {
            let arrival = chunk.iter().map(|e| e.ts).max().unwrap() + (delivery.lag)(k);
            records.push((arrival, record("DATA_MESSAGE", owner, group, stream, chunk)));
            k += 1;
        }
    }
    let again: Vec<(usize, i64, String)> =
        records.iter().enumerate().filter(|(i, _)| *i == 0 || *i == 2).map(|(i, (a, l))| (i, *a, l.clone())).collect();
    records.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut objects: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<(i64, String)> = None;
    for (n, (arrival, line)) in records.iter().enumerate() {
        let full = current
            .as_ref()
            .is_some_and(|(first, key)| *arrival >= first + 900_000 || objects.get(key).is_some_and(|o| o.len() >= 4));
        if current.is_none() || full {
            let day = utc_day(*arrival);
            current =
                Some((*arrival, format!("decisions/{day}/sandboxc-decisions-1-{}-{n:04}.gz", day.replace('/', "-"))));
        }
        if let Some((_, key)) = &current {
            objects.entry(key.clone()).or_default().push(line.clone());
        }
    }
    for (i, arrival, line) in again {
        let day = if i == 0 { utc_day(arrival + 86_400_000) } else { utc_day(arrival) };
        objects.entry(format!("decisions/{day}/sandboxc-decisions-1-again-{i:04}.gz")).or_default().push(line);
    }
    if let Some((at, _)) = records.first() {
        let health = LogEv {
            owner: String::new(),
            group: String::new(),
            stream: String::new(),
            id: String::new(),
            ts: *at,
            message: "CWL CONTROL MESSAGE: Checking health of destination Firehose.".into(),
        };
        objects
            .entry(format!("decisions/{}/sandboxc-decisions-1-control.gz", utc_day(*at)))
            .or_default()
            .insert(0, record("CONTROL_MESSAGE", "CloudwatchLogs", "", "", &[&health]));
    }
    for (key, e) in planted {
        objects.entry((*key).to_string()).or_default().push(record(
            "DATA_MESSAGE",
            &e.owner,
            &e.group,
            &e.stream,
            &[e],
        ));
    }
    for (key, lines) in &objects {
        let path = dir.join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        for l in lines {
            gz.write_all(l.as_bytes()).unwrap();
            gz.write_all(b"\n").unwrap();
        }
        std::fs::write(path, gz.finish().unwrap()).unwrap();
    }
    objects
}

/// Runs the decisions query on DuckDB over a decisions bucket laid out under `dir`.
fn duckdb_decision_rows(dir: &Path, sql: &str) -> Vec<Row> {
    run_harness(&["--decisions".as_ref(), dir.as_os_str()], &dir.join("decisions.sql"), sql)
}

/// What an audit holds after reading decisions, with every location written as `<group>#<event
/// ID>` (or `<group>` for the group), so the two paths compare.
fn decisions_read(aud: &sandboxc::audit::Auditor, locations: &[(String, String)]) -> String {
    let norm = |text: &str| {
        let mut text = text.to_string();
        for (from, to) in locations {
            text = text.replace(from, to);
        }
        text
    };
    let mut out = String::new();
    for d in &aud.decisions {
        let mut d = d.clone();
        d.origin = norm(&d.origin);
        out.push_str(&format!("decision {}\n", serde_json::to_string(&d).unwrap()));
    }
    for p in &aud.problems {
        out.push_str(&format!("problem {}: {}\n", norm(&p.location), norm(&p.reason)));
    }
    for p in &aud.bad_files {
        // The reason quotes the first event's problem after its location, cut to a number of
        // characters: the two paths' locations differ in length, so the cut does too. The
        // reason is compared up to the quoted problem's location (the problems themselves are
        // compared above whenever the group is read).
        let reason = norm(&p.reason);
        let reason = match reason.find("(first: ") {
            Some(at) => reason[..at].to_string() + reason[at..].split(": ").next().unwrap_or_default(),
            None => reason,
        };
        out.push_str(&format!("bad file {}: {reason}\n", norm(&p.location)));
    }
    out.push_str(&format!("counts {:?}\n", aud.counts));
    out
}

/// One copy of a log event as laid out: its object key, time and message.
type LaidCopy = (String, i64, String);

/// Whether an event is the audited sandbox's: of the account [`ACCOUNT`] and a log group
/// `/sandboxc/datasandbox/<one segment>/lambda/validator`, by the Rust rule that `read_rows`
/// checks rows with (the equivalence test then shows the SQL's regular expression keeps the
/// same groups on DuckDB).
fn is_ours(e: &LogEv) -> bool {
    ours(&e.owner, &e.group)
}

/// Whether records of `owner` and `group` are the sandbox's validator's (the query's rule).
fn ours(owner: &str, group: &str) -> bool {
    owner == ACCOUNT && sandboxc::audit::athena_decisions::is_validator_group(group, ENV)
}

/// The decisions query on DuckDB, over each decisions fixture laid out as Firehose delivers it
/// (with the `planted` records), gives the decisions, runtime lines and problems that the
/// sandbox's events give read as `FilterLogEvents` returns them (one `{"timestamp","message"}`
/// line per event of the window, in time order, each log group one source), except the events
/// whose copies differ (`planted` ones of the same log group and event ID with another time or
/// message): those are not read, and each is a problem naming its objects; then, per owner and
/// log group, the events of the window of any other account or log group are a problem.
/// Returns what each window's audit held (as compared).
fn compare_decisions(
    name: &str,
    events: &[LogEv],
    delivery: &Delivery,
    windows: &[(i64, i64)],
    planted: &[(&str, LogEv)],
) -> Vec<String> {
    use sandboxc::audit::athena_decisions::{decisions_query, read_rows};
    use sandboxc::audit::decisions::log_event_line;
    use sandboxc::audit::time::Instant;
    let dir = tempfile::tempdir().expect("temp dir");
    let objects = firehose_layout(dir.path(), events, delivery, planted);
    // Every copy of each event as laid out: (owner, group, id) -> [(object, ts, message)].
    let mut copies: std::collections::BTreeMap<(String, String, String), Vec<LaidCopy>> =
        std::collections::BTreeMap::new();
    for (key, lines) in &objects {
        for line in lines {
            let r: serde_json::Value = serde_json::from_str(line).unwrap();
            if r["messageType"] != "DATA_MESSAGE" {
                continue;
            }
            for e in r["logEvents"].as_array().unwrap() {
                copies
                    .entry((
                        r["owner"].as_str().unwrap().into(),
                        r["logGroup"].as_str().unwrap().into(),
                        e["id"].as_str().unwrap().into(),
                    ))
                    .or_default()
                    .push((key.clone(), e["timestamp"].as_i64().unwrap(), e["message"].as_str().unwrap().into()));
            }
        }
    }
    let mut all: Vec<LogEv> = events.to_vec();
    all.extend(planted.iter().map(|(_, e)| e.clone()));
    let mut held = Vec::new();
    for &(since, until) in windows {
        let f = Filters { since: Some(Instant(since)), until: Some(Instant(until)), ..Filters::default() };
        let in_window = |ts: i64| since <= ts && ts < until;
        // The partition days the query reads: from the day before the first to the day after
        // the last.
        let (first, last) = (utc_day(since - 86_400_000), utc_day(until - 1 + 86_400_000));
        let read = |key: &str| {
            let day = &key["decisions/".len()..key.len().min("decisions/yyyy/MM/dd".len())];
            first.as_str() <= day && day <= last.as_str()
        };
        // The sandbox's events whose copies (in the partitions read) differ.
        let mut conflicts: Vec<(String, i64, String, Vec<String>)> = Vec::new();
        for ((owner, group, id), cs) in &copies {
            let cs: Vec<&(String, i64, String)> = cs.iter().filter(|(k, _, _)| read(k)).collect();
            let differ = cs.iter().any(|c| (c.1, &c.2) != (cs[0].1, &cs[0].2));
            if ours(owner, group) && differ && cs.iter().any(|c| in_window(c.1)) {
                let mut objs: Vec<String> = cs.iter().map(|c| format!("s3://decisions/{}", c.0)).collect();
                objs.sort();
                objs.dedup();
                // The earliest copy's time in the window (the query's time of a conflict).
                let first = cs.iter().map(|c| c.1).filter(|t| in_window(*t)).min().unwrap();
                conflicts.push((group.clone(), first, id.clone(), objs));
            }
        }
        conflicts.sort();
        let conflicted = |e: &LogEv| conflicts.iter().any(|(g, _, id, _)| *g == e.group && *id == e.id);
        // FilterLogEvents: startTime since, endTime until - 1 (both inclusive), every group of
        // the sandbox (sorted by name), events in time order.
        let mut expected = sandboxc::audit::Auditor::new(f.clone());
        let mut groups: Vec<&str> = events.iter().filter(|e| is_ours(e)).map(|e| e.group.as_str()).collect();
        groups.sort_unstable();
        groups.dedup();
        let mut locations = Vec::new();
        for g in &groups {
            let mut evs: Vec<&LogEv> =
                events.iter().filter(|e| is_ours(e) && e.group == *g && in_window(e.ts) && !conflicted(e)).collect();
            evs.sort_by(|a, b| (a.ts, &a.id).cmp(&(b.ts, &b.id)));
            if evs.is_empty() {
                continue;
            }
            let mut lines = Vec::new();
            for (n, e) in evs.iter().enumerate() {
                log_event_line(e.ts, &e.message, &mut lines).unwrap();
                locations.push((format!("cloudwatch-logs:{g}:{}", n + 1), format!("{g}#{}", e.id)));
                locations.push((format!("athena:q-dec:{g}:{}", e.id), format!("{g}#{}", e.id)));
            }
            locations.push((format!("cloudwatch-logs:{g}"), (*g).to_string()));
            expected.read_decisions(&format!("cloudwatch-logs:{g}"), lines.as_slice());
        }
        for (g, _, id, objs) in &conflicts {
            expected.conflicting_decision_event(Problem {
                location: format!("athena:q-dec:{g}:{id}"),
                reason: format!("copies of this log event differ in time or message: none is read as a decision (which copy is the validator's cannot be told); objects: {}", objs.join(" ")),
            });
        }
        // Any other account's or log group's events of the window, per owner and group.
        // Every copy counts (as the query counts rows).
        let mut foreign: std::collections::BTreeMap<(String, String), (i64, usize)> = std::collections::BTreeMap::new();
        for ((owner, group, _), cs) in &copies {
            for (_, ts, _) in cs.iter().filter(|(k, ts, _)| !ours(owner, group) && read(k) && in_window(*ts)) {
                let entry = foreign.entry((owner.clone(), group.clone())).or_insert((*ts, 0));
                entry.0 = entry.0.min(*ts);
                entry.1 += 1;
            }
        }
        let mut foreign: Vec<(String, i64, String, usize)> =
            foreign.into_iter().map(|((owner, group), (t, n))| (group, t, owner, n)).collect();
        foreign.sort();
        for (group, _, owner, n) in &foreign {
            let location = if owner == ACCOUNT {
                format!("athena:q-dec:{group}")
            } else {
                format!("athena:q-dec:{owner}:{group}")
            };
            expected.foreign_decision_log_group(Problem {
                location,
                reason: format!("records from log group '{group}' of account '{owner}', not the sandbox's validator log group of the audited account: ignored ({n} log {} in the window, a redelivered one counted per copy)", if *n == 1 { "event" } else { "events" }),
            });
        }
        for g in &groups {
            locations.push((format!("athena:q-dec:{g}"), g.to_string()));
        }
        for (g, _, owner, _) in &foreign {
            let from = if owner == ACCOUNT { format!("athena:q-dec:{g}") } else { format!("athena:q-dec:{owner}:{g}") };
            locations.push((from, if owner == ACCOUNT { g.clone() } else { format!("{owner}:{g}") }));
        }
        // Longest first: `...:1` must not rewrite the start of `...:10`.
        locations.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
        let sql = decisions_query("sandboxc_audit", "validator_decisions", &f, ACCOUNT, ENV).expect("query");
        let rows = duckdb_decision_rows(dir.path(), &sql);
        let mut got = sandboxc::audit::Auditor::new(f.clone());
        read_rows(&mut got, "q-dec", &rows, ACCOUNT, ENV).expect("rows");
        let (want, got) = (decisions_read(&expected, &locations), decisions_read(&got, &locations));
        assert_eq!(
            want,
            got,
            "{name} [{}, {}): the decisions query on DuckDB reads other decisions than FilterLogEvents (left) would\n--- query ---\n{sql}",
            Instant(since),
            Instant(until)
        );
        assert!(
            want.lines().count() > 1 || all.iter().all(|e| e.ts < since || e.ts >= until),
            "{name}: nothing compared"
        );
        held.push(want);
    }
    held
}

/// The windows of a set of events: the whole days they span, with a boundary event just
/// outside each end; and three hours from the middle event.
fn decision_windows(events: &mut Vec<LogEv>) -> Vec<(i64, i64)> {
    const DAY: i64 = 86_400_000;
    let (Some(min), Some(max)) = (events.iter().map(|e| e.ts).min(), events.iter().map(|e| e.ts).max()) else {
        return Vec::new();
    };
    let (since, until) = (min - min.rem_euclid(DAY), max - max.rem_euclid(DAY) + DAY);
    let mut sorted: Vec<i64> = events.iter().map(|e| e.ts).collect();
    sorted.sort_unstable();
    let middle = sorted[sorted.len() / 2];
    let decision = |n: u32| {
        format!(
            "{{\"outcome\":\"issued\",\"reason\":\"session_active\",\"user_hash\":\"{}\",\"session_id\":\"outside-{n}\"}}\n",
            sandboxc::audit::join::user_hash("alice")
        )
    };
    for (n, ts) in [(1, since - 1), (2, until), (3, until + 600_000)] {
        events.push(LogEv {
            owner: ACCOUNT.into(),
            group: VALIDATOR_GROUP.into(),
            stream: "2026/11/28/[$LATEST]0000000000000000".into(),
            id: format!("{:056}", 99_000 + n),
            ts,
            message: decision(n),
        });
    }
    vec![(since, until), (middle, middle + 3 * 3_600_000)]
}

/// Every decisions fixture of the audit tests (the three fixture sets, the lines the Lambda
/// writes) and a set of edge cases (runtime lines, malformed decisions, an event exactly at
/// each end of the window, two events of one millisecond, another log group whose events are
/// all malformed), each laid out as Firehose delivers it: the decisions query on DuckDB reads
/// exactly what FilterLogEvents would.
#[test]
fn athena_decisions_query_on_duckdb_reads_what_filter_log_events_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = [
        root.join("tests/fixtures/audit/findings/decisions/validator.jsonl"),
        root.join("tests/fixtures/audit/clean/decisions.jsonl"),
        root.join("tests/fixtures/audit/endpoints/decisions.jsonl"),
        root.join("contract/fixtures/decision-lines.jsonl"),
    ];
    for path in fixtures {
        let mut events = fixture_events(&path);
        let windows = if events.is_empty() {
            // An empty log: the query over an empty bucket gives no row, as FilterLogEvents.
            vec![(1_795_824_000_000, 1_795_910_400_000)]
        } else {
            decision_windows(&mut events)
        };
        compare_decisions(&path.display().to_string(), &events, &SPREAD, &windows, &[]);
    }
    // The edge cases.
    let at = |s: &str| sandboxc::audit::time::Instant::parse(s).unwrap().0;
    let (since, until) = (at("2026-11-28T23:00:00Z"), at("2026-11-29T01:00:00Z"));
    let alice = sandboxc::audit::join::user_hash("alice");
    let ok = |sid: &str| {
        format!("{{\"outcome\":\"issued\",\"reason\":\"session_active\",\"user_hash\":\"{alice}\",\"session_id\":\"{sid}\",\"request_id\":\"r-{sid}\"}}\n")
    };
    let ev = |group: &str, id: u32, ts: i64, message: String| LogEv {
        owner: ACCOUNT.into(),
        group: group.into(),
        stream: format!("2026/11/28/[$LATEST]{:016x}", id % 2),
        id: format!("{id:056}"),
        ts,
        message,
    };
    let old = "/sandboxc/datasandbox/99999999/lambda/validator";
    let events = vec![
        ev(VALIDATOR_GROUP, 1, since - 1, ok("before")),
        ev(VALIDATOR_GROUP, 2, since, ok("at-since")),
        ev(VALIDATOR_GROUP, 3, since + 1, "START RequestId: r-3 Version: $LATEST\n".into()),
        ev(VALIDATOR_GROUP, 4, since + 2, "REPORT RequestId: r-3\tDuration: 2.01 ms\n".into()),
        ev(VALIDATOR_GROUP, 5, since + 3, "{\"outcome\":\"maybe\"}".into()),
        ev(VALIDATOR_GROUP, 6, since + 4, "{\"outcome\": \"issued\", \"reason\": ".into()),
        ev(VALIDATOR_GROUP, 7, at("2026-11-28T23:59:59.999Z"), ok("midnight-a")),
        ev(VALIDATOR_GROUP, 8, at("2026-11-28T23:59:59.999Z"), ok("midnight-b")),
        ev(VALIDATOR_GROUP, 9, at("2026-11-29T00:30:00Z"), "caf\u{e9} \"quoted\" \\ line".into()),
        ev(VALIDATOR_GROUP, 10, until - 1, ok("last")),
        ev(VALIDATOR_GROUP, 11, until, ok("at-until")),
        ev(VALIDATOR_GROUP, 12, until + 3_600_000, ok("after")),
        ev(VALIDATOR_GROUP, 13, since + 5, String::new()),
        ev(old, 14, since + 10, "{\"outcome\":\"perhaps\"}".into()),
        ev(old, 15, since + 11, "{\"outcome\":\"issued\",\"reason\":7}".into()),
        // Arrives 30 s after the midnight events, in the object they opened: in the folder of
        // 2026/11/28, though its own time is on the 29th.
        ev(VALIDATOR_GROUP, 16, at("2026-11-29T00:00:30Z"), ok("after-midnight")),
    ];
    // Records that are not the sandbox's validator's, each with a rejected decision of alice's:
    // another log group of the account, the validator's group name under another account, a
    // group with two segments where the stack ID goes, another environment's validator.
    let rejected = |sid: &str| {
        format!("{{\"outcome\":\"rejected\",\"reason\":\"session_not_active\",\"user_hash\":\"{alice}\",\"session_id\":\"{sid}\"}}\n")
    };
    let mut events = events;
    let foreign_owner =
        LogEv { owner: "999999999999".into(), ..ev(VALIDATOR_GROUP, 18, since + 20, rejected("forged-2")) };
    events.extend([
        ev("/attacker/forged", 17, since + 20, rejected("forged-1")),
        foreign_owner,
        ev("/attacker/forged", 21, since + 21, rejected("forged-5")),
        ev("/sandboxc/datasandbox/a/b/lambda/validator", 19, since + 22, rejected("forged-3")),
        ev("/sandboxc/other/0a1b2c3d/lambda/validator", 20, since + 23, rejected("forged-4")),
        ev(&format!("{VALIDATOR_GROUP}\n"), 22, since + 24, rejected("forged-6")),
        ev(&format!("x\n{VALIDATOR_GROUP}"), 23, since + 25, rejected("forged-7")),
        ev("/sandboxc/datasandbox//lambda/validator", 24, since + 26, rejected("forged-8")),
    ]);
    // Copies planted in objects that sort before Firehose's: event 10 with another message (a
    // rejection instead of the issued URL), event 2 at another time, event 9 unchanged (a copy
    // like a redelivery: read once, no problem).
    let planted = [
        ("decisions/2026/11/29/0-planted-a.gz", LogEv { message: rejected("last"), ..events[9].clone() }),
        ("decisions/2026/11/28/0-planted-b.gz", LogEv { ts: since + 100, ..events[1].clone() }),
        ("decisions/2026/11/29/0-planted-c.gz", events[8].clone()),
        // A copy of event 16 before the window: the conflict's time is its copy's in the
        // window (any row outside the window is refused by `read_rows`).
        ("decisions/2026/11/28/0-planted-d.gz", LogEv { ts: since - 5_000, ..events[15].clone() }),
    ];
    assert!(events[9].message.contains("\"last\"") && events[1].ts == since && events[8].id == format!("{:056}", 9));
    assert_eq!(events[15].id, format!("{:056}", 16));
    // One event a record, each arriving at its event's time: objects open at 23:00 and at
    // 23:59:59.999.
    let exact = Delivery { per_record: 1, lag: |_| 0 };
    let windows =
        [(since, until), (at("2026-11-28"), at("2026-11-30")), (at("2026-11-29"), at("2026-11-29T02:00:00Z"))];
    let held = compare_decisions("edge cases", &events, &exact, &windows, &planted);
    // The first window holds both conflicts (naming the planted objects and Firehose's) and the
    // foreign groups; no forged rejection is read as a decision.
    let first = &held[0];
    for text in [
        "copies of this log event differ in time or message: none is read as a decision",
        "s3://decisions/decisions/2026/11/29/0-planted-a.gz s3://decisions/decisions/2026/11/29/sandboxc-decisions-1-",
        "s3://decisions/decisions/2026/11/28/0-planted-b.gz s3://decisions/decisions/2026/11/28/sandboxc-decisions-1-",
        "problem /attacker/forged: records from log group '/attacker/forged' of account '123456789012', not the sandbox's validator log group of the audited account: ignored (3 log events in the window, a redelivered one counted per copy)", // 17 twice (Firehose redelivered it), 21
        "problem 999999999999:/sandboxc/datasandbox/0a1b2c3d/lambda/validator: records from log group '/sandboxc/datasandbox/0a1b2c3d/lambda/validator' of account '999999999999', not the sandbox's validator",
        "records from log group '/sandboxc/datasandbox/a/b/lambda/validator'",
        "records from log group '/sandboxc/other/0a1b2c3d/lambda/validator'",
        // Names the SQL's `\\A`/`\\z` anchors and the Rust rule both refuse: a line break before
        // or after the validator's name (`^`/`$` could match at a line), an empty stack ID.
        "records from log group '/sandboxc/datasandbox/0a1b2c3d/lambda/validator\n'",
        "records from log group 'x\n/sandboxc/datasandbox/0a1b2c3d/lambda/validator'",
        "records from log group '/sandboxc/datasandbox//lambda/validator'",
        "s3://decisions/decisions/2026/11/28/0-planted-d.gz",
    ] {
        assert!(first.contains(text), "{text}\n{first}");
    }
    assert!(!first.contains("forged-") && !first.contains("\"rejected\""), "{first}");
    assert!(!first.contains("0-planted-c"), "an equal copy is no problem: {first}");
    let dir = tempfile::tempdir().unwrap();
    firehose_layout(dir.path(), &events, &exact, &[]);
    let folder = dir.path().join("decisions/2026/11/28");
    let in_28: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|f| {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(std::fs::File::open(f.unwrap().path()).unwrap()),
                &mut text,
            )
            .unwrap();
            text
        })
        .collect();
    assert!(
        in_28.iter().any(|t| t.contains("after-midnight")),
        "the layout puts an event of the 29th in the 28th's folder"
    );
}

/// A loopback AWS endpoint for `--engine athena --print-sql`: STS GetCallerIdentity,
/// CloudFormation DescribeStacks (the stack's bucket and endpoint outputs) and
/// ListStackResources (none), CloudWatch Logs DescribeLogGroups (one validator group); anything
/// else is refused. Returns its URL and the requests it read (head and body).
fn print_sql_endpoint() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (data, _) = crate::common::read_http_request(&mut conn);
            let request = String::from_utf8_lossy(&data).to_string();
            let xml = |body: String| ("200 OK", "text/xml", body);
            let (status, content_type, body) = if request.contains("Action=GetCallerIdentity") {
                xml(crate::commands::CALLER_IDENTITY.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
            } else if request.contains("Action=DescribeStacks") {
                let outputs: String = [
                    ("UsageReportBucket", "genomics-usage-1a2b3c4d"),
                    ("TrailBucketName", "genomics-trail-1a2b3c4d"),
                    ("DataBucketName", DATA_BUCKET),
                    ("S3EndpointId", SANDBOX_VPCE),
                ]
                .iter()
                .map(|(k, v)| format!("<member><OutputKey>{k}</OutputKey><OutputValue>{v}</OutputValue></member>"))
                .collect();
                xml(format!("<DescribeStacksResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><DescribeStacksResult><Stacks><member><StackName>genomics</StackName><StackId>arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/genomics/0a1b2c3d-0000-0000-0000-000000000000</StackId><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-01T00:00:00Z</CreationTime><Outputs>{outputs}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeStacksResponse>"))
            } else if request.contains("Action=ListStackResources") {
                xml("<ListStackResourcesResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\"><ListStackResourcesResult><StackResourceSummaries/></ListStackResourcesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListStackResourcesResponse>".into())
            } else if request.to_ascii_lowercase().contains("x-amz-target: logs_20140328.describeloggroups") {
                (
                    "200 OK",
                    "application/x-amz-json-1.1",
                    "{\"logGroups\":[{\"logGroupName\":\"/sandboxc/genomics/0a1b2c3d/lambda/validator\"}]}".into(),
                )
            } else {
                ("400 Bad Request", "application/json", "{\"__type\":\"UnknownOperationException\"}".into())
            };
            seen.lock().unwrap().push(request);
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    (url, requests)
}

/// `--print-sql` prints both queries, each after a comment naming it, when the blueprint exports
/// the decisions (the default); only the audit query, as before, with `--log-group`,
/// `--decisions` or `export_decisions: false`. No query runs; the log group is looked for only
/// when it is read (`export_decisions: false` without `--log-group`).
#[test]
fn print_sql_prints_the_decisions_query_when_the_decisions_are_exported() {
    use crate::commands::sandboxc_at;
    let tmp = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/always-on-4az.yaml");
    let text = std::fs::read_to_string(&example).unwrap();
    let athena = "athena: {bytes_scanned_limit: 20000000000, results_retention_days: 7}";
    assert!(text.contains(athena), "the example's audit.athena");
    std::fs::write(tmp.path().join("exported.yaml"), &text).unwrap();
    std::fs::write(
        tmp.path().join("not-exported.yaml"),
        text.replace(
            athena,
            "athena: {bytes_scanned_limit: 20000000000, results_retention_days: 7, export_decisions: false}",
        ),
    )
    .unwrap();
    std::fs::write(tmp.path().join("d.jsonl"), "").unwrap();
    let run = |args: &[&str]| {
        let (url, requests) = print_sql_endpoint();
        let mut all =
            vec!["audit", "--engine", "athena", "--since", "2026-11-28", "--until", "2026-11-28", "--print-sql"];
        all.extend_from_slice(args);
        let o = sandboxc_at(tmp.path(), &all, &url);
        let seen = requests.lock().unwrap().clone();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            seen,
        )
    };
    let called =
        |seen: &[String], what: &str| seen.iter().any(|r| r.to_ascii_lowercase().contains(&what.to_ascii_lowercase()));
    // Exported (the default): both queries.
    let (code, out, err, seen) = run(&["exported.yaml"]);
    assert_eq!(code, Some(0), "{err}\n{seen:?}");
    let first = out.find("-- sandboxc audit --engine athena: query 1 of 2, the audit's join").expect(&out);
    let second = out
        .find("-- sandboxc audit --engine athena: query 2 of 2, the validator's decisions from sandboxc_genomics.validator_decisions")
        .expect(&out);
    assert!(first == 0 && first < second, "{out}");
    let (audit_sql, decisions_sql) = out.split_at(second);
    assert!(audit_sql.contains("\"sandboxc_genomics\".\"cloudtrail\"") && !audit_sql.contains("validator_decisions"));
    assert!(
        decisions_sql.contains("FROM \"sandboxc_genomics\".\"validator_decisions\"")
            && decisions_sql.contains("\"day\" BETWEEN '2026/11/27' AND '2026/11/29'")
            && decisions_sql.contains("messagetype = 'DATA_MESSAGE'"),
        "{decisions_sql}"
    );
    assert!(!called(&seen, "DescribeLogGroups"), "the log group is not looked for: {seen:?}");
    assert!(!called(&seen, "AmazonAthena."), "no query runs: {seen:?}");
    // --log-group, --decisions, export_decisions: false: the audit query only, as before.
    for (args, looks_for_group) in [
        (&["exported.yaml", "--log-group", "/sandboxc/genomics/0a1b2c3d/lambda/validator"][..], false),
        (&["exported.yaml", "--decisions", "d.jsonl"][..], false),
        (&["not-exported.yaml"][..], true),
    ] {
        let (code, out, err, seen) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {err}\n{seen:?}");
        assert!(
            out.starts_with("WITH ") && !out.contains("validator_decisions") && !out.contains("-- sandboxc"),
            "{args:?}: {out}"
        );
        assert_eq!(out, audit_sql[audit_sql.find('\n').unwrap() + 1..], "{args:?}: the same audit query");
        assert_eq!(called(&seen, "DescribeLogGroups"), looks_for_group, "{args:?}: {seen:?}");
        assert!(!called(&seen, "AmazonAthena."), "{args:?}: no query runs: {seen:?}");
    }
}

/// Flags that name something (and the AWS and window flags) refuse an empty (or blank) value as
/// a usage error, saying what is allowed; `--event a,` has an empty item. Exit 1, as every usage error of the command line
/// (`sandboxc::cli::usage`: 2 means findings for `audit`).
#[test]
fn empty_names_are_usage_errors() {
    let run = offline;
    for (flag, value, allowed) in [
        ("--user", "", "\"\" is empty (allowed: a usage report's user_id"),
        ("--user", "  ", "\"  \" is blank (allowed: a usage report's user_id"),
        ("--bucket", " ", "\" \" is blank (allowed: a bucket name"),
        ("--log-group", "", "allowed: a CloudWatch Logs group name"),
        ("--bucket", "", "allowed: a bucket name, arn:aws:s3:::NAME or s3://NAME"),
        ("--event", "", "allowed: CloudTrail event names"),
        ("--event", "GetObject,", "allowed: CloudTrail event names"),
        ("--notebook-role", "", "allowed: a user's notebook role ARN"),
        ("--vpc-endpoint", "", "is not a VPC endpoint ID (allowed: vpce-"),
        ("--stack", "", "allowed: the root CloudFormation stack's name"),
        ("--admin-principal", "", "allowed: an IAM role ARN"),
        ("--profile", " ", "\" \" is blank (allowed: a profile name of the AWS config files"),
        ("--region", "", "\"\" is empty (allowed: an AWS Region code"),
        ("--since", " ", "\" \" is blank (allowed: RFC 3339"),
        ("--until", "", "\"\" is empty (allowed: RFC 3339"),
    ] {
        for engine in ["local", "athena"] {
            let (code, err) = run(&["audit", "--engine", engine, flag, value]);
            assert_eq!(code, 1, "{flag} {value:?}: {err}");
            assert!(
                err.starts_with(&format!(
                    "error: invalid value '{}' for '{flag} <",
                    value.trim_end_matches("GetObject,")
                )) && err.contains(allowed),
                "{flag} {value:?}: {err}"
            );
        }
    }
}

/// `--engine athena` refuses, before any query: a window over 366 days, naming the engine (not
/// `--from-aws`); a window outside the years the tables' partition projection holds
/// (2020..2099), which would read nothing, exit 1. The help states both.
#[test]
fn engine_athena_refuses_windows_it_cannot_read() {
    use crate::commands::sandboxc_at;
    let tmp = tempfile::tempdir().unwrap();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/always-on-4az.yaml");
    std::fs::copy(&example, tmp.path().join("b.yaml")).unwrap();
    let run = |since: &str, until: &str| {
        let (url, requests) = print_sql_endpoint();
        let o = sandboxc_at(
            tmp.path(),
            &["audit", "b.yaml", "--engine", "athena", "--since", since, "--until", until, "--print-sql"],
            &url,
        );
        let seen = requests.lock().unwrap().clone();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            seen,
        )
    };
    let (code, out, err, seen) = run("2025-01-01", "2026-11-28");
    assert_eq!(code, Some(1), "{err}\n{seen:?}");
    assert!(err.contains("--engine athena reads at most 366 days per run, the window has 697"), "{err}");
    assert!(!err.contains("--from-aws") && out.is_empty(), "{err}");
    // Outside the years the tables project: refused, saying which end and what is allowed.
    let (code, out, err, _) = run("9999-12-31", "9999-12-31");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--until is after 2099-12-31, the last day the usage reports' partition projection holds"),
        "{err}"
    );
    assert!(out.is_empty(), "{out}");
    let (code, _, err, _) = run("2019-12-31", "2020-01-02");
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--since is before 2020-01-01, the first day the Athena tables' partition projection holds"),
        "{err}"
    );
    // The last and first windows it reads.
    let (code, out, err, _) = run("2099-12-31", "2099-12-31");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("'2099/12/31'"), "{out}");
    let (code, out, err, _) = run("2020-01-01", "2020-01-01");
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("'2020/01/01'"), "{out}");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_sandboxc")).args(["audit", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains("With --from-aws or --engine athena a run reads at most 366 days")
            && help.contains("the window must lie within 2020-01-01..2099-12-31"),
        "{help}"
    );
}
