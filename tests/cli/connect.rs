//! `sandboxc connect`: refusals before any AWS call (user ID, validity, users of a `per_user`
//! sandbox), and, against a loopback endpoint that answers STS `GetCallerIdentity` (query XML)
//! and AppStream `CreateStreamingURL` (RPC v2 CBOR, the protocol the AppStream SDK speaks), that
//! the URL goes to standard output and nowhere else (not with `-v`, not in errors). `--open` is
//! never used here: no browser is started by the tests.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const URL: &str =
    "https://appstream2.us-east-1.aws.amazon.com/authenticate?parameters=c2VjcmV0LXRva2Vu&signature=SECRETSIG";

/// A blueprint of two users: `ann` (api) and `sam` (saml), in `mode`.
fn blueprint(dir: &Path, mode: &str) {
    std::fs::write(
        dir.join("bp.yaml"),
        format!(
            "name: team\nappstream: {{image_name: img}}\nidentity:\n  saml: {{idp_name: corp}}\nnotebook: {{mode: {mode}}}\nusers:\n  - id: ann@example.org\n    authentication: api\n  - id: sam@example.org\n    authentication: saml\n"
        ),
    )
    .unwrap();
}

/// sandboxc against `endpoint` with fake keys and no browser (the CLI tests' one way).
fn sandboxc(dir: &Path, args: &[&str], endpoint: &str) -> Output {
    super::commands::sandboxc_at(dir, args, endpoint)
}

// ---- a loopback AWS: STS in query XML, AppStream in RPC v2 CBOR ---------------------------------

/// A CBOR text string (RFC 8949, major type 3).
fn cbor_text(out: &mut Vec<u8>, s: &str) {
    let n = s.len();
    if n < 24 {
        out.push(0x60 + u8::try_from(n).unwrap());
    } else if n < 256 {
        out.extend([0x78, u8::try_from(n).unwrap()]);
    } else {
        out.push(0x79);
        out.extend(u16::try_from(n).unwrap().to_be_bytes());
    }
    out.extend(s.as_bytes());
}

/// The CBOR answer of `CreateStreamingURL`: `{"StreamingURL": URL, "Expires": 1796000000}` (a
/// timestamp is tag 1, epoch seconds).
fn streaming_url_body() -> Vec<u8> {
    let mut b = vec![0xA2];
    cbor_text(&mut b, "StreamingURL");
    cbor_text(&mut b, URL);
    cbor_text(&mut b, "Expires");
    b.extend([0xC1, 0x1A]);
    b.extend(1_796_000_000u32.to_be_bytes());
    b
}

/// The CBOR error answer `{"__type": "com.amazonaws.appstream#<code>", "message": ...}`.
fn error_body(code: &str, message: &str) -> Vec<u8> {
    let mut b = vec![0xA2];
    cbor_text(&mut b, "__type");
    cbor_text(&mut b, &format!("com.amazonaws.appstream#{code}"));
    cbor_text(&mut b, "message");
    cbor_text(&mut b, message);
    b
}

fn http(status: &str, content_type: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend(body);
    out
}

const CALLER_IDENTITY: &str = "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/test</Arn><UserId>AIDATESTUSERID000000</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata></GetCallerIdentityResponse>";

/// The head and body of every request a loopback endpoint read.
type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A loopback endpoint answering STS and AppStream (`appstream`: status line and CBOR body).
/// Returns its URL and the head and body of every request it read.
fn endpoint(appstream: (&'static str, Vec<u8>)) -> (String, Requests) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let (data, head_end) = crate::common::read_http_request(&mut conn);
            let end = head_end.unwrap_or(data.len());
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let body = data.get(end + 4..).unwrap_or_default().to_vec();
            let answer = if head.contains("CreateStreamingURL") {
                http(appstream.0, "application/cbor", "smithy-protocol: rpc-v2-cbor\r\n", &appstream.1)
            } else {
                http("200 OK", "text/xml", "", CALLER_IDENTITY.as_bytes())
            };
            seen.lock().unwrap().push((head, body));
            let _ = conn.write_all(&answer);
        }
    });
    (url, requests)
}

/// An endpoint that must not be called.
fn no_calls() -> (String, Requests) {
    endpoint(("500 Internal Server Error", Vec::new()))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

// ---- refusals before any call -------------------------------------------------------------------

#[test]
fn bad_user_ids_are_refused_before_any_call() {
    let tmp = tempfile::tempdir().unwrap();
    blueprint(tmp.path(), "shared");
    let (url, requests) = no_calls();
    let long = "x".repeat(33);
    for (user, problem) in [
        ("a", "1 character, too short"),
        (long.as_str(), "33 characters, too long"),
        ("ann smith", "the character ' ' is not allowed"),
        ("ann/../x", "the character '/' is not allowed"),
    ] {
        let o = sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", user], &url);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{user}: {err}");
        assert!(o.stdout.is_empty(), "{user}: nothing on stdout");
        assert_eq!(
            err,
            format!("error: --user {user:?}: {problem}; allowed: 2 to 32 characters, each a letter, a digit or one of _ + = , . @ - (AppStream CreateStreamingURL UserId, [\\w+=,.@-])\n"),
            "{user}"
        );
    }
    assert!(requests.lock().unwrap().is_empty(), "no AWS call");
}

#[test]
fn bad_validity_is_refused_before_any_call() {
    let tmp = tempfile::tempdir().unwrap();
    blueprint(tmp.path(), "per_user");
    let (url, requests) = no_calls();
    for (validity, problem) in [
        ("0", "a URL must be valid for at least 1 second"),
        ("8d", "604800"),
        ("604801s", "604801 seconds is longer than AppStream allows"),
        ("10", "not a duration"),
        ("1w", "not a duration"),
    ] {
        let o =
            sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", "ann@example.org", "--validity", validity], &url);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{validity}: {err}");
        assert!(o.stdout.is_empty());
        assert!(
            err.starts_with(&format!("error: --validity {validity:?}: "))
                && err.contains(problem)
                && err.contains("allowed: 1s to 7d (1 to 604800 seconds)"),
            "{validity}: {err}"
        );
    }
    let o = sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", "ann@example.org", "--application", " "], &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("--application is empty"), "{}", text(&o.stderr));
    assert!(requests.lock().unwrap().is_empty(), "no AWS call");
}

#[test]
fn a_user_the_per_user_blueprint_does_not_list_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    blueprint(tmp.path(), "per_user");
    let (url, requests) = no_calls();
    let o = sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", "eve@example.org"], &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    assert_eq!(
        text(&o.stderr),
        "error: user \"eve@example.org\" is not in the blueprint's `users` of sandbox team (notebook.mode per_user): the validator gives a notebook only to a listed user, so a session would have none; add them to `users` (with `authentication: api`) and run `sandboxc apply` first\n"
    );
    // A listed user in another case: named.
    let o = sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", "Ann@example.org"], &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("the blueprint lists \"ann@example.org\", which differs only in case"),
        "{}",
        text(&o.stderr)
    );
    // A SAML user: their streaming-URL session would be refused a notebook.
    let o = sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", "sam@example.org"], &url);
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(
        err.starts_with("error: user \"sam@example.org\" is listed with `authentication: saml` in sandbox team")
            && err.contains("set `authentication: api`"),
        "{err}"
    );
    assert!(requests.lock().unwrap().is_empty(), "no AWS call");
}

// ---- the URL goes to stdout only ----------------------------------------------------------------

#[test]
fn only_the_url_goes_to_stdout_and_never_to_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    blueprint(tmp.path(), "per_user");
    let (url, requests) = endpoint(("200 OK", streaming_url_body()));
    let o = sandboxc(tmp.path(), &["-v", "connect", "bp.yaml", "--user", "ann@example.org", "--validity", "1h"], &url);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(out, format!("{URL}\n"), "stdout is the URL and nothing else");
    assert!(!err.contains("SECRETSIG") && !err.contains("c2VjcmV0LXRva2Vu") && !err.contains("authenticate"), "{err}");
    // -v logs every request, without its answer.
    assert!(
        err.contains("aws: STS GetCallerIdentity -> HTTP 200 after ")
            && err.contains("aws: AppStream CreateStreamingURL -> HTTP 200 after "),
        "{err}"
    );
    assert!(
        err.contains("streaming URL for user ann@example.org of AppStream stack team-stack (fleet team-on-demand) in account 123456789012, us-east-1: valid until 2026-11-30T00:53:20Z"),
        "{err}"
    );
    // The request: the compiler's stack and fleet names, the user, the validity in seconds.
    let requests = requests.lock().unwrap();
    let (head, body) = requests.iter().find(|(h, _)| h.contains("CreateStreamingURL")).expect("the call");
    assert!(head.contains("/service/PhotonAdminProxyService/operation/CreateStreamingURL"), "{head}");
    let body = text(body);
    for field in ["StackName", "team-stack", "FleetName", "team-on-demand", "UserId", "ann@example.org", "Validity"] {
        assert!(body.contains(field), "{field} missing from the request: {body:?}");
    }
    drop(requests);

    // -q: the URL alone.
    let o = sandboxc(tmp.path(), &["-q", "connect", "bp.yaml", "--user", "ann@example.org"], &url);
    assert_eq!((o.status.code(), text(&o.stdout), text(&o.stderr)), (Some(0), format!("{URL}\n"), String::new()));
}

#[test]
fn aws_refusals_name_the_stack_and_fleet_and_print_nothing_on_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    blueprint(tmp.path(), "per_user");
    let (url, _) = endpoint((
        "400 Bad Request",
        error_body("ResourceNotAvailableException", "The fleet team-on-demand is not running"),
    ));
    let o = sandboxc(tmp.path(), &["-v", "connect", "bp.yaml", "--user", "ann@example.org"], &url);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(o.stdout.is_empty());
    assert!(
        err.contains("error: AppStream stack team-stack or fleet team-on-demand exists but is not available (ResourceNotAvailableException: The fleet team-on-demand is not running)")
            && err.contains("aws appstream start-fleet --name team-on-demand --region us-east-1"),
        "{err}"
    );
    let (url, _) = endpoint(("400 Bad Request", error_body("ResourceNotFoundException", "Stack team-stack not found")));
    let o = sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", "ann@example.org"], &url);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("error: AppStream has no stack team-stack or no fleet team-on-demand"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_shared_sandbox_connects_an_unlisted_user_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    blueprint(tmp.path(), "shared");
    let (url, _) = endpoint(("200 OK", streaming_url_body()));
    let o = sandboxc(tmp.path(), &["connect", "bp.yaml", "--user", "guest"], &url);
    let err = text(&o.stderr);
    assert_eq!((o.status.code(), text(&o.stdout)), (Some(0), format!("{URL}\n")), "{err}");
    assert!(err.contains("note: user \"guest\" is not in the blueprint's `users`: the session starts, but the validator gives them no notebook"), "{err}");
}

#[test]
fn help_teaches_with_examples() {
    let o = Command::new(env!("CARGO_BIN_EXE_sandboxc")).args(["connect", "--help"]).output().unwrap();
    let help = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    for needle in [
        "--user <ID>",
        "--validity <DURATION>",
        "[default: 10m]",
        "--application <ID>",
        "--open",
        "sandboxc connect team.yaml --user alice@example.org --validity 1h --open",
        "standard output only",
        "appstream:CreateStreamingURL",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_sandboxc")).arg("--help").output().unwrap();
    assert!(text(&o.stdout).contains("sandboxc connect team.yaml --user alice"), "{}", text(&o.stdout));
}
