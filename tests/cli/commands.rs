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
        "synthesized stack datasandbox (layout nested) into out: 7 templates, 2 scripts, manifest.json\n"
    );
    let files: Vec<String> = read_tree(&tmp.path().join("out")).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        files,
        [
            "datasandbox-appstream.template.json",
            "datasandbox-audit.template.json",
            "datasandbox-network.template.json",
            "datasandbox-notebook.template.json",
            "datasandbox-storage.template.json",
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
fn endpoint(answer: Option<&'static str>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{Read, Write};
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
            // One request: the head, then Content-Length bytes of body.
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&data).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string())
                        })
                        .and_then(|v| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    if data.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            seen.lock().unwrap().push(String::from_utf8_lossy(&data).to_string());
            let _ = conn.write_all(answer.as_bytes());
        }
    });
    (url, requests)
}

/// STS's answer to GetCallerIdentity: account 123456789012.
const CALLER_IDENTITY: &str = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 348\r\nConnection: close\r\n\r\n<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDATESTUSERID000000</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

/// sandboxc with fake keys against `endpoint`, no profile files, no instance metadata.
fn sandboxc_at(dir: &Path, args: &[&str], endpoint: &str) -> Output {
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
