//! `sandboxc cost` as users run it: the shipped snapshot and `--prices DIR` (the offer-file
//! fixtures, TEST VALUES), the three formats, the assumption flags and their printed defaults,
//! and the errors for missing or malformed offer files; `sandboxc plan`'s cost section.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sandboxc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandboxc")).current_dir(dir).args(args).output().expect("sandboxc runs")
}

fn fixtures() -> PathBuf {
    common::root().join("tests/fixtures/offers")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn cost_of_the_default_blueprint_from_the_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sandboxc(tmp.path(), &["cost", "--region", "us-east-1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!("cost_default_snapshot.txt", out.clone()));
    // Every assumption with its value; the snapshot's date and every unknown price said.
    for flag in [
        "--hours-per-month 730",
        "--appstream-hours 176",
        "--notebook-hours 730",
        "--trail-data-events 1000000",
        "--s3-gb 100",
    ] {
        assert!(out.contains(flag), "{flag} missing:\n{out}");
    }
    assert!(out.contains("snapshot of 2026-12-05"), "{out}");
    assert!(out.contains("price unknown: not in the price snapshot"), "{out}");
    assert!(out.contains("snapshot:awskms:us-east-1:key-month"), "{out}");
    assert!(out.contains("left out (unknown, not zero)"), "{out}");
}

#[test]
fn cost_without_a_region_prices_nothing_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .current_dir(tmp.path())
        .arg("cost")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .output()
        .expect("sandboxc runs");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no Region: set `region` in the blueprint or pass --region"), "{}", stdout(&o));
}

#[test]
fn cost_reads_the_region_from_the_environment_and_refuses_unknown_region_names() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |args: &[&str], region: &str| {
        Command::new(env!("CARGO_BIN_EXE_sandboxc"))
            .current_dir(tmp.path())
            .args(args)
            .env_remove("AWS_DEFAULT_REGION")
            .env("AWS_REGION", region)
            .output()
            .expect("sandboxc runs")
    };
    let o = run(&["cost", "--format", "json"], "eu-west-1");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["region"], "eu-west-1");
    let o = run(&["cost"], "mars-1");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).starts_with("error: AWS_REGION: \"mars-1\" is not a known AWS Region"), "{}", stderr(&o));
    for flag in ["US-EAST-1", "us-east-7"] {
        let o = run(&["cost", "--region", flag], "eu-west-1");
        assert_eq!(o.status.code(), Some(1), "{flag}");
        let err = stderr(&o);
        assert!(err.starts_with(&format!("error: --region: \"{flag}\" is not a known AWS Region")), "{err}");
        assert!(err.contains("did you mean us-east-1"), "{err}");
    }
    let o = run(&["status", "--region", "mars-1"], "eu-west-1");
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--region: \"mars-1\" is not a known AWS Region"), "{}", stderr(&o));
}

#[test]
fn cost_formats_and_flags_with_offer_files() {
    let tmp = tempfile::tempdir().unwrap();
    let prices = fixtures().display().to_string();
    let example = common::root().join("examples/always-on-4az.yaml").display().to_string();
    let o = sandboxc(tmp.path(), &["cost", &example, "--prices", &prices, "--format", "json", "--s3-gb", "2000"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["region"], "us-east-1");
    assert_eq!(doc["assumptions"]["s3_gb"], 2000.0);
    assert_eq!(doc["unknown_lines"], 0);
    let lines = doc["lines"].as_array().unwrap();
    let s3 = lines.iter().find(|l| l["meter"] == "s3-standard").unwrap();
    assert_eq!(s3["quantity"], 2000.0);
    assert_eq!(s3["price"]["sku"], "FIXTURES3STD");
    for l in lines {
        assert!(l["price"]["sku"].as_str().is_some_and(|s| s.starts_with("FIXTURE")), "{l}");
        assert!(l["quantity"].as_f64().is_some() && l["monthly_usd"].as_f64().is_some(), "{l}");
    }
    let md = sandboxc(tmp.path(), &["cost", &example, "--prices", &prices, "--format", "markdown"]);
    assert_eq!(md.status.code(), Some(0), "{}", stderr(&md));
    assert!(stdout(&md).contains("| Service | Item | Quantity | Unit price | SKU | Monthly |"), "{}", stdout(&md));
    // The blueprint pins us-east-1: another --region is refused.
    let o = sandboxc(tmp.path(), &["cost", &example, "--region", "eu-west-1"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--region eu-west-1 contradicts the blueprint's `region: us-east-1`"),
        "{}",
        stderr(&o)
    );
    // Assumptions are checked.
    let o = sandboxc(tmp.path(), &["cost", &example, "--notebook-hours", "800"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--notebook-hours 800: more than the month's 730 hours"), "{}", stderr(&o));
    let o = sandboxc(tmp.path(), &["cost", &example, "--s3-gb", "-1"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

#[test]
fn cost_help_prints_every_default() {
    let o = sandboxc(Path::new("."), &["cost", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for d in ["[default: 730]", "[default: 176]", "[default: 1000000]", "[default: 100]", "--prices <DIR>"] {
        assert!(help.contains(d), "{d} missing:\n{help}");
    }
}

#[test]
fn missing_or_malformed_offer_files_fail_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("offers");
    std::fs::create_dir(&dir).unwrap();
    for f in ["AmazonAppStream", "AmazonSageMaker", "AmazonVPC", "AWSCloudTrail", "AmazonS3"] {
        std::fs::copy(fixtures().join(format!("{f}.json")), dir.join(format!("{f}.json"))).unwrap();
    }
    let o = sandboxc(tmp.path(), &["cost", "--region", "us-east-1", "--prices", "offers"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(e.starts_with("error: cannot read the prices: no awskms offer file: looked for offers/awskms.json"), "{e}");
    std::fs::write(
        dir.join("awskms.json"),
        "{\"formatVersion\": \"v1.0\",\n  \"offerCode\": \"awskms\", \"products\": {\"X\": 3}}",
    )
    .unwrap();
    let o = sandboxc(tmp.path(), &["cost", "--region", "us-east-1", "--prices", "offers"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("offers/awskms.json is not an AWS Price List offer file") && e.contains("line 2"), "{e}");
    // The plan's cost section reads the same files, and fails the same way.
    std::fs::write(tmp.path().join("bp.yaml"), sandboxc::blueprint::Source::embedded().text).unwrap();
    let synth = sandboxc(tmp.path(), &["synth", "bp.yaml", "-o", "base"]);
    assert_eq!(synth.status.code(), Some(0), "{}", stderr(&synth));
    let o =
        sandboxc(tmp.path(), &["plan", "bp.yaml", "--against", "base", "--region", "us-east-1", "--prices", "offers"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("offers/awskms.json is not an AWS Price List offer file"), "{}", stderr(&o));
    let o = sandboxc(tmp.path(), &["cost", "--prices", "nowhere"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--prices nowhere: not a directory"), "{}", stderr(&o));
}

#[test]
fn plan_carries_the_cost_section_in_all_three_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let text = sandboxc::blueprint::Source::embedded().text;
    std::fs::write(tmp.path().join("bp.yaml"), &text).unwrap();
    assert_eq!(sandboxc(tmp.path(), &["synth", "bp.yaml", "-o", "base"]).status.code(), Some(0));
    let changed = text.replacen("instance_type: ml.t3.medium", "instance_type: ml.m5.xlarge", 1);
    std::fs::write(tmp.path().join("bp.yaml"), changed).unwrap();
    let prices = fixtures().display().to_string();
    let base = ["plan", "bp.yaml", "--against", "base", "--region", "us-east-1", "--prices", prices.as_str()];
    let o = sandboxc(tmp.path(), &base);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // alice's notebook, with the default idle stop: 198 h (176 h of use and 22 idle hours before
    // its stops) from 0.05 to 0.25 USD = +39.60 a month.
    assert!(stdout(&o).contains("Monthly cost") && stdout(&o).contains("+$39.60"), "{}", stdout(&o));
    let md = sandboxc(tmp.path(), &[&base[..], &["--format", "markdown"]].concat());
    assert!(stdout(&md).contains("#### Monthly cost") && stdout(&md).contains("+$39.60"), "{}", stdout(&md));
    let js = sandboxc(tmp.path(), &[&base[..], &["--format", "json"]].concat());
    let doc: serde_json::Value = serde_json::from_str(&stdout(&js)).unwrap();
    assert!((doc["cost"]["delta_usd"].as_f64().unwrap() - 39.6).abs() < 1e-9, "{}", doc["cost"]);
    assert_eq!(doc["cost"]["new"]["region"], "us-east-1");
}

#[test]
fn cost_assumptions_are_checked_with_messages_that_name_the_flag_given() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (&["--appstream-hours", "-5"][..], "error: --appstream-hours -5: give a number of 0 or more"),
        (
            &["--hours-per-month", "0"][..],
            "error: --hours-per-month 0: a month has 672 (28 days) to 744 hours (31 days)",
        ),
        (&["--appstream-hours", "1e308"][..], "error: --appstream-hours 1e308: more than the month's 730 hours"),
        (&["--s3-gb", "NaN"][..], "error: --s3-gb NaN: give a number of 0 or more"),
    ] {
        let o = sandboxc(tmp.path(), &[&["cost"][..], args].concat());
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert!(stderr(&o).starts_with(expected), "{args:?}: {}", stderr(&o));
    }
    // A shorter month: the notebooks' default hours (the whole month) follow it.
    let o = sandboxc(tmp.path(), &["cost", "--hours-per-month", "700", "--region", "us-east-1", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["assumptions"]["notebook_hours"], 700.0);
}
