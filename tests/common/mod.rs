//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use sandboxc::assets::LambdaAsset;
use sandboxc::blueprint::{self, Source};
use sandboxc::cfn::render::Format;
use sandboxc::compile::{self, Compiled};

/// A fixed Lambda asset identity, so golden templates do not change with every edit of the
/// Lambda sources (the real identity is tested separately).
pub const TEST_IDENTITY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every example blueprint: `(name without .yaml, path)`, sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

/// The default blueprint and every example: `(name, source)`.
pub fn all_blueprints() -> Vec<(String, Source)> {
    let mut out = vec![("default".to_string(), Source::embedded())];
    for (name, path) in examples() {
        let text = std::fs::read_to_string(&path).expect("example");
        out.push((name, Source { name: format!("examples/{}", path.file_name().unwrap().to_string_lossy()), text }));
    }
    out
}

/// Compiles a source with [`TEST_IDENTITY`].
pub fn compile(source: &Source) -> Compiled {
    let b = blueprint::load(source).unwrap_or_else(|d| panic!("{d}"));
    compile::compile(&b, &LambdaAsset { identity: TEST_IDENTITY.into() }, Format::Json).expect("compiles")
}

/// Rendered output files `(relative path, text)` of a source with [`TEST_IDENTITY`].
pub fn files(source: &Source) -> Vec<(String, String)> {
    sandboxc::output::files(&compile(source)).expect("renders").0
}

/// Every template of a source as JSON values: `(file, value)`.
pub fn templates(source: &Source) -> Vec<(String, serde_json::Value)> {
    files(source)
        .into_iter()
        .filter(|(f, _)| f.ends_with(".template.json"))
        .map(|(f, t)| (f, serde_json::from_str(&t).expect("template JSON")))
        .collect()
}

/// Every resource of every template: `(file, logical ID, resource)`.
pub fn resources(source: &Source) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (file, t) in templates(source) {
        for (id, r) in t["Resources"].as_object().expect("Resources") {
            out.push((file.clone(), id.clone(), r.clone()));
        }
    }
    out
}

/// Writes `files` into a fresh directory under `dir` and returns it.
pub fn write_files(dir: &Path, files: &[(String, String)]) -> PathBuf {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir.to_path_buf()
}

/// The venv that README's test command installs (cfn-lint, checkov).
pub fn venv_tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("SANDBOXC_VENV").map_or_else(|| root().join(".venv"), PathBuf::from);
    let tool = dir.join("bin").join(name);
    assert!(
        tool.is_file(),
        "{} is missing: run scripts/test.sh, which installs the pinned cfn-lint and checkov into ~/.cache/sandboxc/venv (or $SANDBOXC_VENV)",
        tool.display()
    );
    tool
}

/// The moto endpoint (`SANDBOXC_MOTO_ENDPOINT`, set by scripts/test.sh), or `None` with a note
/// when it is not set outside CI; under `CI` a missing endpoint fails the test.
pub fn moto() -> Option<String> {
    match std::env::var("SANDBOXC_MOTO_ENDPOINT") {
        Ok(e) if !e.is_empty() => {
            assert!(e.starts_with("http://127.0.0.1:"), "SANDBOXC_MOTO_ENDPOINT must be loopback, got {e}");
            Some(e)
        }
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI is set but SANDBOXC_MOTO_ENDPOINT is not: run the tests through scripts/test.sh"
            );
            println!("note: SANDBOXC_MOTO_ENDPOINT is not set; skipping the moto end-to-end test (scripts/test.sh starts moto)");
            None
        }
    }
}

/// Runs the sandboxc binary in `cwd` against the AWS endpoint `endpoint` (loopback), with
/// fake keys, us-east-1, no profile files and no instance metadata: (exit code, stdout, stderr).
pub fn sandboxc_aws(args: &[&str], cwd: &Path, endpoint: &str) -> (i32, String, String) {
    sandboxc_exe(Path::new(env!("CARGO_BIN_EXE_sandboxc")), args, cwd, endpoint)
}

/// [`sandboxc_aws`] with the sandboxc executable at `exe` (an installed copy).
pub fn sandboxc_exe(exe: &Path, args: &[&str], cwd: &Path, endpoint: &str) -> (i32, String, String) {
    let out = std::process::Command::new(exe)
        .args(args)
        .current_dir(cwd)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", cwd.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", cwd.join("no-credentials"))
        .output()
        .expect("runs sandboxc");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A CloudFormation client whose answers come from scripted rules (aws-smithy-mocks, any
/// matching rule answers), in us-east-1 with test keys, retrying 3 times with 1 ms backoff.
pub fn mock_cloudformation(rules: &[&aws_smithy_mocks::Rule]) -> aws_sdk_cloudformation::Client {
    let mut interceptor =
        aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(aws_smithy_mocks::RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_cloudformation::Config::builder()
        .behavior_version(aws_sdk_cloudformation::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudformation::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
            "AKIDTEST", "secret", None, None, "test",
        ))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .retry_config(
            aws_sdk_cloudformation::config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
        .build();
    aws_sdk_cloudformation::Client::from_conf(config)
}

/// Reads one HTTP request from a loopback test endpoint's connection: the head, then
/// `Content-Length` bytes of body (or until the peer closes). Returns the bytes read and where
/// the head ends (the index of its `\r\n\r\n`), if it does.
pub fn read_http_request(conn: &mut impl std::io::Read) -> (Vec<u8>, Option<usize>) {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let mut head_end = None;
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
        if head_end.is_none() {
            head_end = data.windows(4).position(|w| w == b"\r\n\r\n");
        }
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break;
            }
        }
    }
    (data, head_end)
}
