//! Golden tests of bad blueprints (README, "The blueprint": every problem with file:line:column, what is allowed).
//!
//! Every `tests/bad_blueprints/NN-short-name.yaml` (or `NNN-`, from 100 on) is a blueprint that sandboxc must reject.
//! Next to it, `NN-short-name.stderr` holds the exact standard error of
//! `sandboxc synth NN-short-name.yaml -o DIR`, run with `tests/bad_blueprints/` as the current
//! directory so that the file name in the messages is stable. For each case the runner checks
//! that `sandboxc synth`:
//!
//! * exits with code 1 and prints nothing on standard output,
//! * prints exactly the `.stderr` file on standard error,
//! * leaves a previous output in DIR byte-for-byte unchanged (same files, same contents), and
//! * leaves no `.sandboxc-*` staging directory (nor anything else) beside DIR;
//!
//! and that `sandboxc validate NN-short-name.yaml` exits with 1, prints nothing on standard
//! output and the same standard error. Every mismatch of every case is collected and reported
//! at once, with a line diff for standard error.
//!
//! # Blessing
//!
//! `SANDBOXC_BLESS=1 cargo test --test compile bad_blueprints` rewrites the `.stderr` files from the
//! current binary instead of comparing them (every other check still runs). Do not bless
//! blindly: read each changed `.stderr` (`git diff tests/bad_blueprints`) and check that every
//! message points at the offending key or value (`line:column`), names the blueprint path, says
//! what is wrong and what is allowed.
//!
//! # Known bugs
//!
//! [`KNOWN_BUGS`] lists cases that sandboxc currently gets wrong in a way no `.stderr` can
//! capture (for example, it accepts the blueprint). Their `.stderr` files are written by hand
//! with the expected behaviour and are never blessed; the runner reports them without failing,
//! and fails once one of them passes, so that it is taken off the list.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The suite must keep at least this many cases.
const MIN_CASES: usize = 36;

/// Cases sandboxc gets wrong today: `(case name, what is wrong)`.
const KNOWN_BUGS: &[(&str, &str)] = &[];

/// The environment variable that switches the runner to rewriting `.stderr` files.
const BLESS_VAR: &str = "SANDBOXC_BLESS";

/// Content of the previous synth output that every case must leave untouched.
const PREVIOUS_OUTPUT: &[(&str, &str)] = &[
    ("manifest.json", "{\n  \"manifest_version\": 1,\n  \"stack_name\": \"previous\"\n}\n"),
    ("previous.template.json", "{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Resources\": {}\n}\n"),
    ("scripts/launcher.ps1", "Write-Output 'previous output'\r\n"),
];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("bad_blueprints")
}

fn blessing() -> bool {
    std::env::var(BLESS_VAR).is_ok_and(|v| v == "1")
}

/// Adds what was being done to an error.
fn ctx<T, E: Display>(result: Result<T, E>, what: impl Display) -> Result<T, String> {
    result.map_err(|e| format!("{what}: {e}"))
}

/// One bad blueprint and its expected standard error.
struct Case {
    /// `NN-short-name`.
    name: String,
    /// `NN-short-name.yaml`, relative to [`cases_dir`].
    yaml: String,
    /// Absolute path of `NN-short-name.stderr`.
    stderr: PathBuf,
}

/// The cases in name order, plus every problem with the directory's layout (orphans, bad names).
fn cases() -> Result<(Vec<Case>, Vec<String>), String> {
    let dir = cases_dir();
    let mut yamls = BTreeSet::new();
    let mut stderrs = BTreeSet::new();
    let mut layout = Vec::new();
    for entry in ctx(fs::read_dir(&dir), format!("cannot list {}", dir.display()))? {
        let entry = ctx(entry, format!("cannot list {}", dir.display()))?;
        let file = entry.file_name().to_string_lossy().into_owned();
        if let Some(stem) = file.strip_suffix(".yaml") {
            yamls.insert(stem.to_string());
        } else if let Some(stem) = file.strip_suffix(".stderr") {
            stderrs.insert(stem.to_string());
        } else {
            layout.push(format!("tests/bad_blueprints/{file}: neither a .yaml case nor a .stderr file"));
        }
    }
    for orphan in stderrs.difference(&yamls) {
        layout.push(format!("tests/bad_blueprints/{orphan}.stderr: no {orphan}.yaml next to it"));
    }
    let mut numbers = BTreeMap::new();
    for name in &yamls {
        let digits = name.bytes().take_while(u8::is_ascii_digit).count();
        let well_formed = (2..=3).contains(&digits)
            && name.as_bytes().get(digits) == Some(&b'-')
            && name.len() > digits + 1
            && name[digits + 1..].bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !well_formed {
            layout.push(format!("tests/bad_blueprints/{name}.yaml: the name is not NN-short-name or NNN-short-name (two or three digits, '-', lowercase letters, digits, '-')"));
        } else if let Some(other) = numbers.insert(name[..digits].parse::<u32>().unwrap_or(0), name.clone()) {
            layout.push(format!(
                "tests/bad_blueprints/{name}.yaml: number {} is also used by {other}.yaml",
                &name[..digits]
            ));
        }
    }
    for (known, _) in KNOWN_BUGS {
        if !yamls.contains(*known) {
            layout.push(format!("KNOWN_BUGS names {known}, which is not a case"));
        }
    }
    let cases = yamls
        .into_iter()
        .map(|name| Case { yaml: format!("{name}.yaml"), stderr: dir.join(format!("{name}.stderr")), name })
        .collect();
    Ok((cases, layout))
}

/// Runs the built `sandboxc` in [`cases_dir`].
fn sandboxc(args: &[&std::ffi::OsStr]) -> Result<Output, String> {
    ctx(
        Command::new(env!("CARGO_BIN_EXE_sandboxc"))
            .args(args)
            .current_dir(cases_dir())
            .env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .output(),
        "cannot run sandboxc",
    )
}

/// Every file and directory under `root`: relative path (directories end in '/') -> bytes.
fn snapshot(root: &Path) -> Result<BTreeMap<String, Vec<u8>>, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), String> {
        for entry in ctx(fs::read_dir(dir), format!("cannot list {}", dir.display()))? {
            let path = ctx(entry, format!("cannot list {}", dir.display()))?.path();
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if path.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                walk(root, &path, out)?;
            } else {
                out.insert(rel, ctx(fs::read(&path), format!("cannot read {}", path.display()))?);
            }
        }
        Ok(())
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out)?;
    Ok(out)
}

/// How `after` differs from `before`, one line per file.
fn snapshot_changes(before: &BTreeMap<String, Vec<u8>>, after: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    let mut changes = Vec::new();
    for (path, bytes) in before {
        match after.get(path) {
            None => changes.push(format!("removed {path}")),
            Some(now) if now != bytes => changes.push(format!("changed {path}")),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        changes.push(format!("added {path}"));
    }
    changes
}

/// A line diff of `expected` and `actual` (longest common subsequence), `-` expected, `+` actual.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push(format!("       {}", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] > lcs[i + 1][j]) {
            out.push(format!("     + {}", b[j]));
            j += 1;
        } else {
            out.push(format!("     - {}", a[i]));
            i += 1;
        }
    }
    if a == b {
        out.push("     (the lines are equal; the texts differ in line endings or the final newline)".to_string());
    }
    out.push(String::new());
    out.join("\n")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Checks standard output, exit code and standard error of one run; returns its problems.
fn check_run(what: &str, output: &Output, expected_stderr: &str, stderr_file: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match output.status.code() {
        Some(1) => {}
        Some(code) => problems.push(format!("{what}: exit code {code}, expected 1")),
        None => problems.push(format!("{what}: killed by a signal ({}), expected exit code 1", output.status)),
    }
    if !output.stdout.is_empty() {
        problems.push(format!("{what}: standard output is not empty:\n{}", indent(&text(&output.stdout))));
    }
    let stderr = text(&output.stderr);
    if stderr != expected_stderr {
        problems.push(format!(
            "{what}: standard error differs from {stderr_file} (- expected, + actual):\n{}",
            diff(expected_stderr, &stderr)
        ));
    }
    problems
}

fn indent(text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(|l| format!("       {l}")).collect();
    lines.push(String::new());
    lines.join("\n")
}

/// Runs one case; returns its problems (empty: it passes).
fn check_case(case: &Case, bless: bool, known_bug: bool) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    let tmp = ctx(tempfile::tempdir(), "cannot create a temporary directory")?;
    let out = tmp.path().join("out");
    for (rel, content) in PREVIOUS_OUTPUT {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            ctx(fs::create_dir_all(parent), format!("cannot create {}", parent.display()))?;
        }
        ctx(fs::write(&path, content), format!("cannot write {}", path.display()))?;
    }
    let before = snapshot(&out)?;
    let stderr_file = format!("{}.stderr", case.name);

    let synth = sandboxc(&["synth".as_ref(), case.yaml.as_ref(), "-o".as_ref(), out.as_os_str()])?;
    let expected = if bless && !known_bug {
        let actual = text(&synth.stderr);
        ctx(fs::write(&case.stderr, &actual), format!("cannot write {}", case.stderr.display()))?;
        actual
    } else {
        match fs::read_to_string(&case.stderr) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!(
                    "cannot read {stderr_file} ({e}); run with {BLESS_VAR}=1 to write it, then review it"
                ));
                String::new()
            }
        }
    };
    problems.extend(check_run(&format!("sandboxc synth {} -o <tmp>/out", case.yaml), &synth, &expected, &stderr_file));

    match snapshot(&out) {
        Ok(after) => {
            let changes = snapshot_changes(&before, &after);
            if !changes.is_empty() {
                problems.push(format!("the previous output in <tmp>/out changed: {}", changes.join(", ")));
            }
        }
        Err(e) => problems.push(format!("the previous output in <tmp>/out is gone or unreadable: {e}")),
    }
    for entry in ctx(fs::read_dir(tmp.path()), "cannot list the temporary directory")? {
        let name = ctx(entry, "cannot list the temporary directory")?.file_name().to_string_lossy().into_owned();
        if name.starts_with(".sandboxc-") {
            problems.push(format!("a staging directory <tmp>/{name} was left behind"));
        } else if name != "out" {
            problems.push(format!("<tmp>/{name} was created beside the output directory"));
        }
    }

    let validate = sandboxc(&["validate".as_ref(), case.yaml.as_ref()])?;
    problems.extend(check_run(&format!("sandboxc validate {}", case.yaml), &validate, &expected, &stderr_file));
    Ok(problems)
}

/// Runs every case; `Err` holds the readable report of every failure.
fn run_all() -> Result<(), String> {
    let bless = blessing();
    let (cases, mut failures) = cases()?;
    let mut known = Vec::new();
    for case in &cases {
        let reason = KNOWN_BUGS.iter().find(|(name, _)| *name == case.name).map(|(_, reason)| *reason);
        let problems = check_case(case, bless, reason.is_some())?;
        match (reason, problems.is_empty()) {
            (None, true) => {}
            (None, false) => failures.push(format!("{}:\n  - {}", case.name, problems.join("\n  - "))),
            (Some(_), true) => {
                failures.push(format!("{}: listed in KNOWN_BUGS but passes now; remove it from KNOWN_BUGS", case.name))
            }
            (Some(reason), false) => known.push(format!("{}: {reason}\n  - {}", case.name, problems.join("\n  - "))),
        }
    }
    if !known.is_empty() {
        eprintln!("{} known bug(s), not failing this test:\n\n{}\n", known.len(), known.join("\n\n"));
    }
    if bless {
        eprintln!(
            "{BLESS_VAR}=1: rewrote the .stderr files of {} case(s) (not those in KNOWN_BUGS); review them with `git diff tests/bad_blueprints`",
            cases.len() - KNOWN_BUGS.len()
        );
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} failure(s) in {} bad-blueprint case(s) (with {BLESS_VAR}=1 the .stderr files are rewritten; review them before committing):\n\n{}\n",
            failures.len(),
            cases.len(),
            failures.join("\n\n")
        ))
    }
}

#[test]
fn bad_blueprints_are_rejected_with_the_expected_errors() {
    if let Err(report) = run_all() {
        panic!("{report}");
    }
}

#[test]
fn there_are_at_least_36_cases() {
    match cases() {
        Ok((cases, _)) => assert!(
            cases.len() >= MIN_CASES,
            "tests/bad_blueprints holds {} cases; the suite needs at least {MIN_CASES}",
            cases.len()
        ),
        Err(e) => panic!("{e}"),
    }
}
