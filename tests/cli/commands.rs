//! The command line as users run it: exit codes, output, determinism, atomic writes.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

fn sandboxc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandboxc")).current_dir(dir).args(args).output().expect("sandboxc runs")
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn synth_without_arguments_writes_the_default_into_out() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sandboxc(tmp.path(), &["synth"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "synthesized stack datasandbox (layout nested) into out: 8 templates, 2 scripts, manifest.json\n"
    );
    // The shard count synth chose is said on stderr (and written in the manifest).
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("notebook.shards is not set: synth placed the 2 users in 1 users shard"), "{err}");
    assert!(err.contains("write `shards: 1` under `notebook:`"), "{err}");
    let files: Vec<String> = read_tree(&tmp.path().join("out")).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        files,
        [
            "datasandbox-appstream.template.json",
            "datasandbox-audit.template.json",
            "datasandbox-network.template.json",
            "datasandbox-notebook.template.json",
            "datasandbox-storage.template.json",
            "datasandbox-users01.template.json",
            "datasandbox-validator.template.json",
            "datasandbox.template.json",
            "manifest.json",
            "scripts/launcher.ps1",
            "scripts/notebook.ps1",
        ]
    );
}

#[test]
fn two_synths_from_different_directories_are_byte_identical_and_hold_no_machine_path() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(b.path().join("deep/er")).unwrap();
    let blueprint = common::root().join("examples/private-streaming.yaml");
    let bp = blueprint.to_str().unwrap();
    assert!(sandboxc(a.path(), &["synth", bp, "-o", "first"]).status.success());
    assert!(sandboxc(&b.path().join("deep/er"), &["synth", bp, "--out", "../second/x"]).status.success());
    let first = read_tree(&a.path().join("first"));
    let second = read_tree(&b.path().join("deep/second/x"));
    assert_eq!(first, second);
    let home = std::env::var("HOME").unwrap_or_default();
    for (file, bytes) in &first {
        let text = String::from_utf8_lossy(bytes);
        for machine in [
            a.path().to_str().unwrap(),
            b.path().to_str().unwrap(),
            common::root().to_str().unwrap(),
            "/tmp/",
            home.as_str(),
        ] {
            assert!(machine.is_empty() || !text.contains(machine), "{file} contains {machine}");
        }
    }
}

#[test]
fn yaml_format_holds_the_same_templates() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(sandboxc(tmp.path(), &["synth", "--format", "yaml", "-o", "y", "-q"]).status.success());
    assert!(sandboxc(tmp.path(), &["synth", "-o", "j", "-q"]).status.success());
    let y: serde_json::Value =
        serde_yaml::from_str(&std::fs::read_to_string(tmp.path().join("y/datasandbox-network.template.yaml")).unwrap())
            .unwrap();
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("j/datasandbox-network.template.json")).unwrap())
            .unwrap();
    assert_eq!(y, j);
}

#[test]
fn synth_replaces_its_previous_output_but_refuses_a_foreign_directory() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(sandboxc(tmp.path(), &["synth", "-q"]).status.success());
    // A previous output of another blueprint (different files) is replaced as a whole.
    let single = common::root().join("examples/single-layout.yaml");
    assert!(sandboxc(tmp.path(), &["synth", "-q", single.to_str().unwrap()]).status.success());
    assert!(!tmp.path().join("out/datasandbox.template.json").exists(), "the previous output is replaced as a whole");
    assert!(tmp.path().join("out/single-sandbox.template.json").exists());

    // A file synth did not write is never deleted: not a note, not the blueprint itself.
    std::fs::write(tmp.path().join("out/notes.md"), "mine").unwrap();
    let o = sandboxc(tmp.path(), &["synth", "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: out holds files sandboxc did not write (notes.md); replacing the directory would delete them: move them out or choose another -o DIR\n"
    );
    assert_eq!(std::fs::read_to_string(tmp.path().join("out/notes.md")).unwrap(), "mine");

    // Somebody else's manifest.json does not make a directory ours.
    std::fs::create_dir(tmp.path().join("webext")).unwrap();
    std::fs::write(tmp.path().join("webext/manifest.json"), "{\"name\": \"an extension\"}").unwrap();
    let o = sandboxc(tmp.path(), &["synth", "-o", "webext"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).starts_with("error: webext exists and is not a sandboxc output directory")
    );

    // Never the current directory or one containing it.
    let o = sandboxc(&tmp.path().join("webext"), &["synth", "-o", "."]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: . contains the current directory; choose an output directory below it, such as out\n"
    );

    std::fs::create_dir(tmp.path().join("mine")).unwrap();
    std::fs::write(tmp.path().join("mine/notes.txt"), "keep me").unwrap();
    let o = sandboxc(tmp.path(), &["synth", "-o", "mine"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: mine exists and is not a sandboxc output directory (it has files but no manifest.json); choose another -o DIR or remove it\n"
    );
    assert_eq!(std::fs::read_to_string(tmp.path().join("mine/notes.txt")).unwrap(), "keep me");
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    let o = sandboxc(tmp.path(), &["synth", "-o", "file"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: file exists and is not a directory; choose another -o DIR\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".sandboxc"))
        .collect();
    assert!(leftovers.is_empty(), "staging directories left: {leftovers:?}");
}

#[test]
fn oversized_input_is_refused_before_it_is_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from("name: big\nappstream: {image_name: img}\nstorage:\n  bucket_name: ");
    text.push_str(&"a".repeat(1_100_000));
    std::fs::write(tmp.path().join("big.yaml"), text).unwrap();
    let o = sandboxc(tmp.path(), &["validate", "big.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "big.yaml: error: is larger than 1048576 bytes (allowed: a blueprint of at most 1 MiB)\nbig.yaml has 1 error; nothing was written\n"
    );
    let o = sandboxc(tmp.path(), &["validate", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(1));
}

/// `validate` applies the CloudFormation limits synth applies: a blueprint whose template would
/// exceed 1 MB is refused by both, with the same message, and nothing is written.
#[test]
fn validate_applies_the_template_limits_of_synth() {
    let tmp = tempfile::tempdir().unwrap();
    let tags: Vec<String> = (0..48).map(|i| format!("  k{i:03}{}: {}", "x".repeat(124), "v".repeat(256))).collect();
    let text = format!(
        "name: big\nlayout: single\nnetwork:\n  availability_zones: 6\nappstream:\n  image_name: img\ntags:\n{}\n",
        tags.join("\n")
    );
    std::fs::write(tmp.path().join("big.yaml"), text).unwrap();
    let validate = sandboxc(tmp.path(), &["validate", "big.yaml"]);
    let synth = sandboxc(tmp.path(), &["synth", "big.yaml", "-o", "out"]);
    let err = String::from_utf8_lossy(&validate.stderr);
    assert_eq!(validate.status.code(), Some(1), "{err}");
    assert!(
        err.contains("big.template.json has ") && err.contains("bytes; CloudFormation allows at most 1000000"),
        "{err}"
    );
    assert_eq!(synth.status.code(), Some(1));
    assert_eq!(validate.stderr, synth.stderr);
    assert!(validate.stdout.is_empty());
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn warnings_name_the_place_and_never_stop_a_command() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "name: demo\nappstream: {image_name: img}\ndatasets:\n  a: {prefix: a/}\n  b: {prefix: b/}\nusers:\n  - id: alice\n    authentication: saml\n    datasets: {a: read}\n";
    std::fs::write(tmp.path().join("b.yaml"), text).unwrap();
    let expected = "b.yaml:5:3: warning: datasets.b: is granted to no user: no notebook role may read it (to do: grant it under a user's `datasets:`, or remove it)\n\
        b.yaml:8:21: warning: users[0].authentication: user \"alice\" signs in with SAML, but identity.saml is not set: sandboxc creates no SAML role, and the validator refuses a saml user's sessions started with a streaming URL (to do: set identity.saml.idp_name, or `authentication: api` for streaming URLs (`sandboxc connect`))\n";
    for args in [&["validate", "b.yaml"][..], &["-q", "validate", "b.yaml"], &["-q", "synth", "b.yaml"]] {
        let o = sandboxc(tmp.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&o.stderr), expected, "{args:?}");
    }
    assert!(tmp.path().join("out/manifest.json").is_file());
    // The plan of the same blueprint carries them in its warnings (for the pull request's
    // reviewer), in every format, not on stderr; the default blueprint has none.
    let o = sandboxc(tmp.path(), &["plan", "b.yaml", "--against", "out"]);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(err, "");
    assert_eq!(out.matches("blueprint b.yaml:5:3: datasets.b: is granted to no user").count(), 1, "{out}");
    assert_eq!(
        out.matches("blueprint b.yaml:8:21: users[0].authentication: user \"alice\" signs in with SAML").count(),
        1
    );
    let o = sandboxc(tmp.path(), &["plan", "b.yaml", "--against", "out", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["warnings"][0].as_str().map(|w| w.starts_with("blueprint b.yaml:5:3: datasets.b: ")),
        Some(true),
        "{v}"
    );
    let o = sandboxc(tmp.path(), &["synth", "--out", "default"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("warning"));
}

#[test]
fn validate_json_reports_errors_and_warnings_as_data_with_the_same_exit_code() {
    let tmp = tempfile::tempdir().unwrap();
    let json = |args: &[&str]| {
        let o = sandboxc(tmp.path(), args);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object on stdout");
        (o.status.code(), v, String::from_utf8_lossy(&o.stderr).into_owned())
    };
    std::fs::write(
        tmp.path().join("warn.yaml"),
        "name: demo\nappstream: {image_name: img}\ndatasets:\n  a: {prefix: a/}\n",
    )
    .unwrap();
    let (code, v, err) = json(&["validate", "warn.yaml", "--format", "json"]);
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert_eq!(
        v,
        serde_json::json!({"file": "warn.yaml", "valid": true, "environment": "demo", "errors": [],
            "warnings": [{"path": "datasets.a", "line": 4, "column": 3,
                "message": "is granted to no user: no notebook role may read it",
                "allowed": "grant it under a user's `datasets:`, or remove it"}]})
    );
    std::fs::write(tmp.path().join("bad.yaml"), "name: Bad_Name\nappstream: {image_name: img}\n").unwrap();
    let (code, v, err) = json(&["validate", "bad.yaml", "--format", "json"]);
    assert_eq!((code, err.as_str()), (Some(1), ""));
    assert_eq!((v["valid"].clone(), v["environment"].clone()), (serde_json::json!(false), serde_json::Value::Null));
    assert_eq!(v["errors"][0]["path"], "name");
    assert_eq!((v["errors"][0]["line"].clone(), v["errors"][0]["column"].clone()), (1.into(), 7.into()));
    assert!(v["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    let (code, v, _) = json(&["validate", "missing.yaml", "--format", "json"]);
    assert_eq!(code, Some(1));
    assert_eq!((v["file"].clone(), v["valid"].clone()), ("missing.yaml".into(), false.into()));
    assert!(v["errors"][0]["message"].as_str().is_some_and(|m| m.starts_with("cannot be read")), "{v}");
    let (code, v, _) = json(&["-q", "validate", "--format", "json"]);
    assert_eq!((code, v["valid"].clone(), v["warnings"].clone()), (Some(0), true.into(), serde_json::json!([])));
}

#[test]
fn validate_reads_standard_input_for_a_dash() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .args(["validate", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"name: piped\nappstream: {image_name: img}\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "<stdin>: valid blueprint for environment piped\n");
}

#[test]
fn validate_reports_the_embedded_default_as_valid() {
    let o = sandboxc(Path::new("."), &["validate"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "data-sandbox.yaml (embedded default): valid blueprint for environment datasandbox\n"
    );
    for (name, path) in common::examples() {
        let o = sandboxc(Path::new("."), &["validate", "-q", path.to_str().unwrap()]);
        assert!(o.status.success() && o.stdout.is_empty(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn the_checked_in_schema_is_the_generated_one() {
    let o = sandboxc(Path::new("."), &["schema"]);
    assert!(o.status.success());
    let checked_in = std::fs::read_to_string(common::root().join("blueprints/blueprint.schema.json")).unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout) == checked_in,
        "blueprints/blueprint.schema.json is stale: run sandboxc schema > blueprints/blueprint.schema.json"
    );
    let schema: serde_json::Value = serde_json::from_str(&checked_in).unwrap();
    assert_eq!(schema["required"], serde_json::json!(["name", "appstream"]));
    assert_eq!(schema["$defs"]["AppStream"]["required"], serde_json::json!(["image_name"]));
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn the_default_blueprint_points_editors_at_the_schema_and_is_embedded() {
    let text = std::fs::read_to_string(common::root().join("blueprints/data-sandbox.yaml")).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=./blueprint.schema.json\n"));
    assert_eq!(text, sandboxc::blueprint::DEFAULT_BLUEPRINT);
    // Every key of the blueprint is written out with its default: it compiles to exactly what
    // `name: datasandbox` and the (required) image name alone compile to, with the example datasets and users (which have no
    // defaults: an empty list) that the default blueprint shows.
    let people = &text[text.find("\ndatasets:").expect("the default blueprint shows datasets") + 1..];
    assert!(people.contains("\nusers:\n"), "the default blueprint shows users");
    let minimal = sandboxc::blueprint::Source {
        name: "minimal.yaml".into(),
        text: format!("name: datasandbox\nappstream:\n  image_name: datasandbox-image\n{people}"),
    };
    assert_eq!(common::files(&sandboxc::blueprint::Source::embedded()), common::files(&minimal));
}

#[test]
fn help_teaches_the_commands() {
    let o = sandboxc(Path::new("."), &["--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for word in
        ["synth", "validate", "schema", "plan", "Exit codes: 0 success (plan: no changes); 1 error", "Examples:"]
    {
        assert!(help.contains(word), "--help lacks {word}:\n{help}");
    }
    let o = sandboxc(Path::new("."), &["synth", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("manifest.json") && help.contains("--format"), "{help}");
    let o = sandboxc(Path::new("."), &["frobnicate"]);
    assert_eq!(o.status.code(), Some(1), "usage errors are errors; 2 means a plan has changes");
    let o = sandboxc(Path::new("."), &["plan", "--bogus"]);
    assert_eq!(o.status.code(), Some(1));
    let o = sandboxc(Path::new("."), &["--version"]);
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn the_built_in_lambda_identity_is_the_hash_of_the_lambda_sources() {
    let files = sandboxc::assets::identity::lambda_source_files(&common::root()).unwrap();
    assert!(files.iter().any(|(p, _)| p == "Cargo.lock"));
    assert!(files.iter().any(|(p, _)| p.starts_with("lambda/src/")));
    // The Lambda binaries are built from the contract crate too.
    assert!(files.iter().any(|(p, _)| p == "contract/Cargo.toml"));
    assert!(files.iter().any(|(p, _)| p == "contract/src/decision.rs"));
    assert_eq!(sandboxc::assets::LambdaAsset::built_in().identity, sandboxc::assets::identity::identity(&files));
}

#[test]
fn the_lambda_identity_changes_exactly_when_a_source_does() {
    let base =
        vec![("lambda/src/lib.rs".to_string(), b"fn a() {}".to_vec()), ("Cargo.lock".to_string(), b"lock".to_vec())];
    let id = sandboxc::assets::identity::identity(&base);
    assert_eq!(id, sandboxc::assets::identity::identity(&base.clone()));
    let mut edited = base.clone();
    edited[0].1 = b"fn b() {}".to_vec();
    assert_ne!(id, sandboxc::assets::identity::identity(&edited));
    let mut moved = base;
    moved[0].0 = "lambda/src/main.rs".into();
    assert_ne!(id, sandboxc::assets::identity::identity(&moved));
}

/// Runs sandboxc with an AWS environment that can only reach loopback: no profile files,
/// no instance metadata, the endpoint a closed loopback port.
fn sandboxc_offline(dir: &Path, args: &[&str], credentials: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sandboxc"));
    c.current_dir(dir)
        .args(args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    if credentials {
        c.env("AWS_ACCESS_KEY_ID", "testing").env("AWS_SECRET_ACCESS_KEY", "testing");
    }
    c.output().expect("sandboxc runs")
}

#[test]
fn deploy_commands_teach_their_flags() {
    for (command, words) in [
        (
            "apply",
            &["--yes", "--allow-data-loss", "--recreate", "--assets-bucket", "--lambda-dir", "Ctrl-C", "Exit codes"][..],
        ),
        ("bootstrap", &["--yes", "--print-template", "sandboxc-assets"][..]),
        ("status", &["--drift", "exit code 2"][..]),
        ("destroy", &["--yes", "retained"][..]),
    ] {
        let o = sandboxc(Path::new("."), &[command, "--help"]);
        assert!(o.status.success(), "{command} --help");
        let help = String::from_utf8_lossy(&o.stdout);
        for w in words {
            assert!(help.contains(w), "{command} --help lacks {w}:\n{help}");
        }
    }
}

#[test]
fn bootstrap_prints_its_template_without_aws() {
    let dir = tempfile::tempdir().unwrap();
    let o = sandboxc_offline(dir.path(), &["bootstrap", "--print-template"], false);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let t: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(t["Resources"]["AssetsBucket"]["Type"], "AWS::S3::Bucket");
    assert_eq!(t["Outputs"]["AssetsBucketName"]["Value"]["Ref"], "AssetsBucket");
}

#[test]
fn apply_without_credentials_says_how_to_get_them_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["apply", "--yes"][..], &["status"][..], &["destroy", "--yes"][..], &["bootstrap", "--yes"][..]] {
        let o = sandboxc_offline(dir.path(), args, false);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.starts_with("error: no AWS credentials") && err.contains("--profile"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = sandboxc_offline(dir.path(), &["apply", "--yes"], true);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("sts:GetCallerIdentity"), "{err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "apply writes no files");
}

#[test]
fn apply_checks_the_blueprint_before_any_aws_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), "name: Bad_Name\nappstream: {image_name: img}\n").unwrap();
    let o = sandboxc_offline(dir.path(), &["apply", "bad.yaml", "--yes"], false);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("bad.yaml:1:7") && !err.contains("credentials"), "the blueprint is checked first: {err}");
}

#[test]
fn profile_wins_over_environment_credentials_and_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let o = sandboxc_offline(dir.path(), &["status", "--profile", "nosuch"], true);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no AWS credentials") && err.contains("nosuch"),
        "a missing profile is an error, not a fallback to the environment's keys: {err}"
    );
}

/// A loopback endpoint: answers every request with `answer` (an HTTP response), or, without
/// one, accepts connections and never answers. Returns its URL and the requests it read.
pub(crate) fn endpoint(answer: Option<&'static str>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let Some(answer) = answer else {
                held.push(conn);
                continue;
            };
            let (data, _) = crate::common::read_http_request(&mut conn);
            seen.lock().unwrap().push(String::from_utf8_lossy(&data).to_string());
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    (url, requests)
}

/// STS's answer to GetCallerIdentity: account 123456789012.
pub(crate) const CALLER_IDENTITY: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 348\r\nConnection: close\r\n\r\n<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDATESTUSERID000000</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

/// sandboxc with fake keys against `endpoint`, no profile files, no instance metadata, no
/// browser (`BROWSER` unset: `connect --open` never starts one from a test).
pub(crate) fn sandboxc_at(dir: &Path, args: &[&str], endpoint: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .current_dir(dir)
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", dir.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("no-credentials"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("BROWSER")
        .output()
        .expect("sandboxc runs")
}

/// Every command that calls AWS, on `bp.yaml`.
const AWS_COMMANDS: [&[&str]; 5] = [
    &["apply", "bp.yaml", "--yes"],
    &["status", "bp.yaml"],
    &["destroy", "bp.yaml", "--yes"],
    &["plan", "bp.yaml"],
    &["audit", "bp.yaml", "--from-aws"],
];

#[test]
fn region_flag_cannot_contradict_the_blueprint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bp.yaml"), "name: pinned\nregion: us-east-1\nappstream: {image_name: img}\n")
        .unwrap();
    let (url, requests) = endpoint(Some(CALLER_IDENTITY));
    for command in AWS_COMMANDS {
        let mut args = command.to_vec();
        args.extend(["--region", "eu-west-1"]);
        let o = sandboxc_at(dir.path(), &args, &url);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{command:?}: {err}");
        assert_eq!(
            err,
            "error: --region eu-west-1 contradicts the blueprint's `region: us-east-1`: the sandbox belongs in us-east-1; drop --region, or change `region` in the blueprint\n",
            "{command:?}"
        );
    }
    assert!(requests.lock().unwrap().is_empty(), "refused before any AWS call: {:?}", requests.lock().unwrap());
}

#[test]
fn a_blueprint_pinned_to_another_account_is_refused_after_get_caller_identity() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bp.yaml"),
        "name: pinned\naccount: \"999999999999\"\nappstream: {image_name: img}\n",
    )
    .unwrap();
    let (url, requests) = endpoint(Some(CALLER_IDENTITY));
    for command in AWS_COMMANDS {
        let before = requests.lock().unwrap().len();
        let o = sandboxc_at(dir.path(), command, &url);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{command:?}: {err}");
        assert_eq!(
            err,
            "error: the blueprint pins account 999999999999 (`account`), but the credentials in use belong to account 123456789012: choose the right profile (--profile) or change `account`\n",
            "{command:?}"
        );
        let asked: Vec<String> = requests.lock().unwrap()[before..].to_vec();
        assert!(
            asked.len() == 1 && asked[0].contains("Action=GetCallerIdentity"),
            "{command:?}: only sts:GetCallerIdentity is asked: {asked:?}"
        );
    }
}

#[test]
fn a_silent_endpoint_fails_with_the_endpoint_and_the_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bp.yaml"), "name: quiet\nappstream: {image_name: img}\n").unwrap();
    let (url, _) = endpoint(None);
    for command in [&["status", "bp.yaml"][..], &["plan", "bp.yaml"][..]] {
        let mut args = command.to_vec();
        args.extend(["--connect-timeout", "1", "--call-timeout", "2"]);
        let o = sandboxc_at(dir.path(), &args, &url);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{command:?}: {err}");
        assert!(err.starts_with("error: "), "{command:?}: {err}");
        assert!(
            err.contains(&format!("no answer from {url} to STS GetCallerIdentity in time"))
                && err.contains("sts:GetCallerIdentity"),
            "{command:?}: {err}"
        );
    }
    let o = sandboxc(Path::new("."), &["status", "--help"]);
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("--call-timeout <SECONDS>") && help.contains("--connect-timeout <SECONDS>"), "{help}");
}

#[test]
fn every_error_starts_with_error_and_lists_its_causes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    std::fs::write(dir.path().join("bp.yaml"), "name: fine\nappstream: {image_name: img}\n").unwrap();
    let cases: [&[&str]; 8] = [
        &["plan", "bp.yaml", "--against", "empty"],
        &["plan", "bp.yaml", "--against", "empty", "--against-git", "HEAD"],
        &["plan", "bp.yaml"],
        &["audit"],
        &["audit", "--cloudtrail", "empty", "--region", "us-east-1"],
        &["apply", "bp.yaml", "--yes"],
        &["package"],
        &["-q", "status", "bp.yaml"],
    ];
    for args in cases {
        let o = sandboxc_offline(dir.path(), args, false);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        let mut lines = err.lines();
        assert!(lines.next().is_some_and(|l| l.starts_with("error: ")), "{args:?}: {err}");
        assert!(lines.all(|l| l.starts_with("  ")), "causes are indented under the error: {args:?}: {err}");
        for debug in ["panicked", "Error {", "Some(", "ErrorMetadata", "DispatchFailure"] {
            assert!(!err.contains(debug), "{args:?}: {err}");
        }
    }
    // An invalid blueprint: its diagnostics, each `file:line:column: error: ...`.
    std::fs::write(dir.path().join("bad.yaml"), "name: Bad_Name\nappstream: {image_name: img}\n").unwrap();
    let o = sandboxc(dir.path(), &["-q", "apply", "bad.yaml", "--yes"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("bad.yaml:1:7: error: name: "), "{err}");
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .arg("schema")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A dataset in an existing bucket: synth writes the statements its owner must add, lists them
/// in the manifest, prints them, and replaces them on the next synth like any other output file.
#[test]
fn synth_writes_and_prints_the_statements_for_the_owners_of_existing_buckets() {
    let tmp = tempfile::tempdir().unwrap();
    let example = common::root().join("examples/always-on-4az.yaml");
    for _ in 0..2 {
        let o = sandboxc(tmp.path(), &["synth", example.to_str().unwrap(), "-o", "out"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(
            stdout.contains("the owner of the bucket arn:aws:s3:::corp-genomics-reference must add these statements to its bucket policy")
                && stdout.contains("\"Sid\": \"SandboxGenomicsReadReference\"")
                && stdout.contains("the owner of the KMS key arn:aws:kms:us-east-1:123456789012:key/"),
            "{stdout}"
        );
    }
    // With -q: one line per owner on stderr, naming the file; nothing on stdout.
    let o = sandboxc(tmp.path(), &["synth", example.to_str().unwrap(), "-o", "out", "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("the owner of the bucket arn:aws:s3:::corp-genomics-reference must add the statements of ")
            && stderr.contains("bucket-policies/corp-genomics-reference.json to its bucket policy")
            && stderr.lines().count() == 2,
        "{stderr}"
    );
    let out = tmp.path().join("out");
    let policy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("bucket-policies/corp-genomics-reference.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(policy["Version"], "2012-10-17");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let files: Vec<&str> =
        manifest["owner_policies"].as_array().unwrap().iter().map(|e| e["file"].as_str().unwrap()).collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files.contains(&"bucket-policies/corp-genomics-reference.json"), "{files:?}");
}

// ---- issue 12: version, stale identity, init, completions, JSON outputs -----------------------

#[test]
fn version_names_the_commit_and_the_lambda_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sandboxc(tmp.path(), &["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("sandboxc {}", env!("CARGO_PKG_VERSION")), "{out}");
    let commit = lines[1].strip_prefix("commit ").unwrap_or_else(|| panic!("{out}"));
    assert!(commit == "unknown" || (commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())), "{out}");
    assert_eq!(lines[2], format!("lambda asset {}", sandboxc::assets::LambdaAsset::built_in().identity), "{out}");
}

#[test]
fn a_checkout_with_other_lambda_sources_refuses_synth_plan_and_apply() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for (file, text) in [
        ("Cargo.lock", "# not this binary's\n"),
        ("lambda/Cargo.toml", "[package]\nname = \"x\"\n"),
        ("lambda/src/main.rs", "fn main() {}\n"),
        ("contract/src/lib.rs", "\n"),
    ] {
        std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
        std::fs::write(root.join(file), text).unwrap();
    }
    std::fs::create_dir_all(root.join("deep")).unwrap();
    for args in [&["synth", "-o", "o"][..], &["plan", "--against", "o"][..], &["apply", "--yes"][..]] {
        let o = sandboxc(&root.join("deep"), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.starts_with("error: this sandboxc binary is stale"), "{args:?}: {err}");
        assert!(err.contains("rebuild it from this checkout (`cargo build --release`"), "{err}");
    }
    assert!(!root.join("deep/o").exists(), "nothing written");
    // validate does not compile Lambda code into anything: not refused.
    assert_eq!(sandboxc(&root.join("deep"), &["validate"]).status.code(), Some(0));
}

#[test]
fn the_identity_s_inputs_keep_their_line_endings_in_git() {
    let attributes = std::fs::read_to_string(common::root().join(".gitattributes")).unwrap();
    for rule in ["Cargo.lock -text", "lambda/** -text", "contract/** -text"] {
        assert!(attributes.lines().any(|l| l.trim() == rule), "{rule} missing from .gitattributes");
    }
    // What the rules do: a clone with core.autocrlf=true checks such files out byte for byte.
    let git = |dir: &Path, args: &[&str]| {
        Command::new("git").current_dir(dir).args(args).output().map(|o| o.status.success()).unwrap_or(false)
    };
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(repo.join("lambda/src")).unwrap();
    if !git(&repo, &["init", "-q"]) {
        println!("note: no git; the checkout half of this test is skipped");
        return;
    }
    std::fs::write(repo.join(".gitattributes"), &attributes).unwrap();
    std::fs::write(repo.join("lambda/src/main.rs"), "fn main() {}\nfn x() {}\n").unwrap();
    std::fs::write(repo.join("Cargo.lock"), "a\nb\n").unwrap();
    assert!(git(&repo, &["add", "-A"]));
    assert!(git(&repo, &["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"]));
    let clone = tmp.path().join("clone");
    assert!(git(tmp.path(), &["clone", "-q", "--config", "core.autocrlf=true", "repo", "clone"]));
    assert_eq!(std::fs::read(clone.join("lambda/src/main.rs")).unwrap(), b"fn main() {}\nfn x() {}\n");
    assert_eq!(std::fs::read(clone.join("Cargo.lock")).unwrap(), b"a\nb\n");
}

#[test]
fn init_writes_a_blueprint_that_validates_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sandboxc(tmp.path(), &["init", "team-a"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let file = tmp.path().join("team-a/sandbox.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("name: team-a") && text.contains("image_name: team-a-image"), "{text}");
    assert!(text.lines().filter(|l| l.trim_start().starts_with('#')).count() >= 5, "commented:\n{text}");
    let o = sandboxc(tmp.path(), &["validate", "team-a/sandbox.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout), "team-a/sandbox.yaml: valid blueprint for environment team-a\n");
    // A second init refuses, and the file is unchanged.
    std::fs::write(&file, "name: mine\n").unwrap();
    let o = sandboxc(tmp.path(), &["init", "team-a"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error: team-a/sandbox.yaml exists already"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "name: mine\n");
}

#[test]
fn init_names_the_environment_and_leaves_nothing_behind_when_it_refuses() {
    let tmp = tempfile::tempdir().unwrap();
    // A refused --name: no directory, no file.
    let o = sandboxc(tmp.path(), &["init", "new-dir", "--name", "Team_A"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.starts_with("error: environment name \"Team_A\" is not one sandboxc accepts: "), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!tmp.path().join("new-dir").exists(), "the directory is not left behind");
    // --name wins over the directory's name.
    let o = sandboxc(tmp.path(), &["init", "new-dir", "--name", "research-eu"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(tmp.path().join("new-dir/sandbox.yaml")).unwrap();
    assert!(text.contains("name: research-eu") && text.contains("image_name: research-eu-image"), "{text}");
    // A directory whose name is not an environment name: "sandbox", and init says why.
    let o = sandboxc(tmp.path(), &["init", "9lives"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("(environment sandbox, as the directory's name is not one: change name: in the file, or init again with --name)"), "{said}");
    assert!(std::fs::read_to_string(tmp.path().join("9lives/sandbox.yaml")).unwrap().contains("name: sandbox "));
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let tmp = tempfile::tempdir().unwrap();
    for (shell, marker) in [("bash", "_sandboxc()"), ("zsh", "#compdef sandboxc"), ("fish", "complete -c sandboxc")] {
        let o = sandboxc(tmp.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(marker), "{shell}: {}", &out[..out.len().min(200)]);
        for command in ["check", "apply", "init", "completions"] {
            assert!(out.contains(command), "{shell} completes {command}");
        }
    }
    assert_eq!(sandboxc(tmp.path(), &["completions", "powershell"]).status.code(), Some(1));
}

#[test]
fn status_json_has_a_versioned_documented_shape() {
    use sandboxc::deploy::cloudformation::{PropertyDifference, ResourceDrift, StackEvent, StackInfo, StackOutput};
    use sandboxc::deploy::manage::StatusReport;
    use sandboxc::deploy::status::{ResourceDriftStatus, ResourceStatus, StackStatus};
    let event = |status: &str, ms: i64| StackEvent {
        id: format!("e{ms}"),
        stack_id: "arn:s".into(),
        stack_name: "tiny".into(),
        logical_id: "tiny".into(),
        physical_id: "arn:s".into(),
        resource_type: "AWS::CloudFormation::Stack".into(),
        timestamp_ms: ms,
        status: ResourceStatus::parse(status),
        reason: String::new(),
    };
    let report = StatusReport {
        stack: "tiny".into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        info: StackInfo {
            stack_id: "arn:s".into(),
            status: StackStatus::UpdateComplete,
            reason: String::new(),
            parameters: Vec::new(),
            outputs: vec![
                StackOutput { key: "NotebookName".into(), value: "tiny-notebook".into(), description: "n".into() },
                StackOutput { key: "DataBucketName".into(), value: "tiny-data".into(), description: String::new() },
            ],
            termination_protection: true,
        },
        events: vec![event("UPDATE_COMPLETE", 1_796_400_060_000), event("UPDATE_IN_PROGRESS", 1_796_400_000_000)],
        drift: Some(vec![(
            "Storage".into(),
            ResourceDrift {
                logical_id: "DataBucket".into(),
                physical_id: "tiny-data".into(),
                resource_type: "AWS::S3::Bucket".into(),
                status: ResourceDriftStatus::Modified,
                differences: vec![PropertyDifference {
                    path: "/VersioningConfiguration/Status".into(),
                    expected: "Enabled".into(),
                    actual: "Suspended".into(),
                    kind: "NOT_EQUAL".into(),
                }],
            },
        )]),
    };
    let v = sandboxc::cli::deploy::status_json(&report);
    assert_eq!(v["schema_version"], 1);
    assert_eq!((v["stack"].as_str(), v["status"].as_str()), (Some("tiny"), Some("UPDATE_COMPLETE")));
    assert_eq!(v["termination_protection"], true);
    assert_eq!(v["outputs"][0]["key"], "DataBucketName", "sorted by key");
    assert_eq!(v["events"][0]["status"], "UPDATE_IN_PROGRESS", "oldest first");
    assert_eq!(v["events"][0]["time"], "2026-12-04T16:00:00Z");
    assert_eq!(v["drift"]["drifted"], 1);
    assert_eq!(v["drift"]["resources"][0]["differences"][0]["actual"], "Suspended");
    // Every key the documentation names is there.
    let doc = std::fs::read_to_string(common::root().join("docs/status-json.md")).unwrap();
    for key in v.as_object().unwrap().keys() {
        assert!(doc.contains(&format!("`{key}`")), "docs/status-json.md does not document `{key}`");
    }
    // Without credentials: an error on stderr, nothing on stdout.
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_sandboxc"))
        .current_dir(tmp.path())
        .args(["status", "--format", "json", "--connect-timeout", "1", "--call-timeout", "2"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", tmp.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", tmp.path().join("none"))
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).starts_with("error: "));
}

#[test]
fn the_outputs_file_is_json_written_atomically() {
    use sandboxc::deploy::cloudformation::StackOutput;
    let tmp = tempfile::tempdir().unwrap();
    let outputs =
        vec![StackOutput { key: "DataBucketName".into(), value: "tiny-data".into(), description: "d".into() }];
    let v = sandboxc::cli::deploy::outputs_json("tiny", "123456789012", "us-east-1", &outputs);
    let file = tmp.path().join("outputs.json");
    std::fs::write(&file, "old").unwrap();
    sandboxc::cli::deploy::write_json_atomically(&file, &v).unwrap();
    let back: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(back["schema_version"], 1);
    assert_eq!(back["outputs"]["DataBucketName"], "tiny-data");
    assert_eq!(back["stack"], "tiny");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");
    // A file in a directory that does not exist is refused before anything is deployed.
    let o = sandboxc(tmp.path(), &["apply", "--yes", "--outputs-file", "nowhere/outputs.json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "error: --outputs-file nowhere/outputs.json: the directory nowhere does not exist; nothing was deployed\n"
    );
}

#[test]
fn a_user_role_whose_inline_policies_cannot_fit_in_iam_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 80;
    let datasets: String =
        (0..n).map(|i| format!("  ds{i:03}: {{prefix: datasets/project-{i:03}-genomics/}}\n")).collect();
    let grants: Vec<String> = (0..n).map(|i| format!("ds{i:03}: read-write")).collect();
    let blueprint = format!(
        "name: many\nappstream: {{image_name: img}}\ndatasets:\n{datasets}users:\n  - {{id: alice, datasets: {{{}}}}}\n",
        grants.join(", ")
    );
    std::fs::write(tmp.path().join("many.yaml"), blueprint).unwrap();
    for args in [&["synth", "many.yaml", "-o", "out"][..], &["validate", "many.yaml"][..]] {
        let o = sandboxc(tmp.path(), args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(
                "many-users01.template.json: the inline policies of role UserAlice2bd806c9Role (user \"alice\") come to at least "
            ) && err.contains("IAM allows at most 10240 per role")
                && err.contains("1 quota exceeded; nothing was written"),
            "{args:?}: {err}"
        );
    }
    assert!(!tmp.path().join("out").exists(), "nothing written");
}

#[test]
fn without_a_blueprint_argument_the_local_sandbox_yaml_is_read_before_the_embedded_default() {
    let tmp = tempfile::tempdir().unwrap();
    let o = sandboxc(tmp.path(), &["init", "team"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = tmp.path().join("team");
    let o = sandboxc(&dir, &["validate"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), "sandbox.yaml: valid blueprint for environment team\n");
    let o = sandboxc(&dir, &["synth", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(dir.join("out/team.template.json").is_file(), "the local blueprint's stack, not datasandbox");
    // Elsewhere: the embedded default.
    let o = sandboxc(tmp.path(), &["validate"]);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "data-sandbox.yaml (embedded default): valid blueprint for environment datasandbox\n"
    );
}
