//! Hostile and broken inputs for the validator, end to end through the pure steps:
//! event key -> `session.json` bytes -> `DescribeSessions` pages -> allow-list entry ->
//! notebook state -> verdict. Every case states the exact outcome, reason code and write.
//! The allow list holds alice and bob (streaming-URL users) and alice@example.com; every
//! notebook is in service.

use sandboxc_lambda::allow_list::{EntryAnswer, NotebookState};
use sandboxc_lambda::config::{Notebooks, ValidatorConfig};
use sandboxc_lambda::decision::{KeyEncoding, LogLine, Outcome, RecordCheck, Verdict, WriteBody};
use sandboxc_lambda::sessions::{Session, SessionState};

const BUCKET: &str = "appstream2-36fb080bb8-us-east-1-123456789012";
const STACK: &str = "datasandbox-stack";
const FLEET: &str = "datasandbox-fleet";
// `printf alice | sha256sum` and `printf bob | sha256sum`: AppStream names the home
// folder after sha256 of the user ID's bytes, in lowercase hex.
const ALICE: &str = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90";
const BOB: &str = "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9";
// `printf alice@example.com | sha256sum` (a user-pool user is named by e-mail).
const ALICE_MAIL: &str = "ff8d9819fc0e12bf0d24892e45987e249a28dce836a85cad60e28eaaa8c6d976";
// `printf carol | sha256sum`: a user with sessions but no allow-list entry.
const CAROL: &str = "4c26d9074c27d89ede59270c0ac14b71e071b15239519f75474b2f3ba63481f5";
const CAROL_SESSION: &str = "3d5a2f10-6c4b-4e8f-9d1a-2b3c4d5e6f70";
const ALICE_SESSION: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const BOB_SESSION: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

fn config() -> ValidatorConfig {
    ValidatorConfig {
        stack_name: STACK.into(),
        fleet_name: FLEET.into(),
        notebooks: Notebooks::PerUser,
        environment: "datasandbox".into(),
        session_expiration_seconds: 1800,
        home_folder_bucket: BUCKET.into(),
        waiting: sandboxc_lambda::config::NotebookWaiting::default(),
    }
}

fn body(user: &str, session_id: &str) -> Vec<u8> {
    serde_json::json!({"user": user, "sessionId": session_id, "stackName": STACK, "fleetName": FLEET})
        .to_string()
        .into_bytes()
}

fn with_field(field: &str, value: serde_json::Value) -> Vec<u8> {
    let mut v = serde_json::json!({
        "user": "alice", "sessionId": ALICE_SESSION, "stackName": STACK, "fleetName": FLEET
    });
    v[field] = value;
    v.to_string().into_bytes()
}

fn without_field(field: &str) -> Vec<u8> {
    let mut v = serde_json::json!({
        "user": "alice", "sessionId": ALICE_SESSION, "stackName": STACK, "fleetName": FLEET
    });
    if let Some(map) = v.as_object_mut() {
        map.remove(field);
    }
    v.to_string().into_bytes()
}

fn session(id: &str, user: &str, state: SessionState, auth: &str) -> Session {
    Session { id: id.into(), user_id: user.into(), state, authentication_type: Some(auth.into()) }
}

fn alice_active() -> Vec<Vec<Session>> {
    vec![vec![session(ALICE_SESSION, "alice", SessionState::Active, "API")]]
}

fn key(access: &str, hash: &str) -> String {
    format!("user/{access}/{hash}/session.json")
}

/// What a case must end with.
#[derive(Debug, PartialEq)]
enum Expect<'a> {
    /// Issued; the URL goes to this folder's session_url.txt.
    Issued(&'static str, &'static str),
    /// Rejected with this code; the invalid-session message goes to this folder.
    RejectedWrite(&'a str, &'static str, &'static str),
    /// Rejected with this code after AppStream proved the user; the not-authorised message
    /// goes to this folder.
    NotAuthorised(&'a str, &'static str, &'static str),
    /// Rejected with this code; nothing is written anywhere.
    RejectedSilent(&'a str),
}

struct Case {
    name: &'static str,
    bucket: &'static str,
    key: String,
    body: Vec<u8>,
    pages: Vec<Vec<Session>>,
    /// The allow-list entry of the proven user, instead of [`allow_list`]'s.
    entry: Option<EntryAnswer>,
    expect: Expect<'static>,
}

fn case(name: &'static str, key: String, body: Vec<u8>, pages: Vec<Vec<Session>>, expect: Expect<'static>) -> Case {
    Case { name, bucket: BUCKET, key, body, pages, entry: None, expect }
}

fn entry(user: &str, authentication: &str) -> EntryAnswer {
    let notebook = sandboxc_contract::users::notebook_name("datasandbox", user, "0a1b");
    EntryAnswer::Found {
        parameter_type: "String".into(),
        value: serde_json::json!({"user_id": user, "authentication": authentication, "notebook": notebook}).to_string(),
    }
}

/// The deployed allow list: what SSM answers for a proven user.
fn allow_list(user: &str) -> EntryAnswer {
    match user {
        "alice" | "bob" | "alice@example.com" => entry(user, "api"),
        _ => EntryAnswer::NotFound,
    }
}

fn run(config: &ValidatorConfig, case: &Case) -> Verdict {
    let record = RecordCheck {
        config,
        bucket: case.bucket,
        raw_key: &case.key,
        encoding: KeyEncoding::FormUrl,
        request_id: Some("11111111-2222-3333-4444-555555555555"),
    };
    let key = match record.key() {
        Ok(key) => key,
        Err(verdict) => return verdict,
    };
    let claim = match record.file(&key, &case.body) {
        Ok(claim) => claim,
        Err(verdict) => return verdict,
    };
    let proven = match record.session(&claim, case.pages.clone()) {
        Ok(proven) => proven,
        Err(verdict) => return verdict,
    };
    let answer = case.entry.clone().unwrap_or_else(|| allow_list(&proven.claim().user));
    let grant = match record.allow_list(&proven, &answer) {
        Ok(grant) => grant,
        Err(verdict) => return verdict,
    };
    if let Err(verdict) = record.notebook(&grant, &NotebookState::Status("InService".into())) {
        return verdict;
    }
    record.issued(&grant)
}

#[rustfmt::skip] // a table: one case per entry reads better than rustfmt's layout
fn cases() -> Vec<Case> {
    use Expect::{Issued, NotAuthorised, RejectedSilent, RejectedWrite};
    let one_mb = {
        let mut b = body("alice", ALICE_SESSION);
        b.resize(1024 * 1024, b' ');
        b
    };
    vec![
        // --- the good paths, as controls ---
        case("valid custom user", key("custom", ALICE), body("alice", ALICE_SESSION), alice_active(),
            Issued("custom", ALICE)),
        Case { entry: Some(entry("alice", "saml")), ..case("valid federated user (SAML)", key("federated", ALICE),
            body("alice", ALICE_SESSION), vec![vec![session(ALICE_SESSION, "alice", SessionState::Active, "SAML")]],
            Issued("federated", ALICE)) },
        // A user-pool session is real, but no allow-list entry names the user-pool authentication.
        case("a proven user-pool user is never on the allow list", key("userpool", ALICE_MAIL),
            body("alice@example.com", ALICE_SESSION),
            vec![vec![session(ALICE_SESSION, "alice@example.com", SessionState::Active, "USERPOOL")]],
            NotAuthorised("entry_authentication_mismatch", "userpool", ALICE_MAIL)),
        case("right session only on the second page", key("custom", ALICE), body("alice", ALICE_SESSION),
            vec![
                vec![session("00000000-0000-0000-0000-000000000001", "alice", SessionState::Expired, "API")],
                vec![session(ALICE_SESSION, "alice", SessionState::Active, "API")],
            ],
            Issued("custom", ALICE)),
        case("fully percent-encoded key", format!("user%2Fcustom%2F{ALICE}%2Fsession%2Ejson"),
            body("alice", ALICE_SESSION), alice_active(), Issued("custom", ALICE)),
        case("UTF-8 byte-order mark before the JSON", key("custom", ALICE),
            [b"\xef\xbb\xbf".as_slice(), &body("alice", ALICE_SESSION)].concat(), alice_active(),
            Issued("custom", ALICE)),

        // --- whose folder, whose session ---
        case("file in another user's folder", key("custom", BOB), body("alice", ALICE_SESSION), alice_active(),
            RejectedSilent("user_mismatch")),
        case("hash mismatch by letter case of the user", key("custom", ALICE), body("Alice", ALICE_SESSION),
            alice_active(), RejectedSilent("user_mismatch")),
        case("another user's session ID", key("custom", ALICE), body("alice", BOB_SESSION),
            vec![vec![session(BOB_SESSION, "bob", SessionState::Active, "API")]],
            RejectedWrite("session_not_found", "custom", ALICE)),
        case("claims bob in bob's folder with alice's session", key("custom", BOB), body("bob", ALICE_SESSION),
            vec![vec![session(BOB_SESSION, "bob", SessionState::Active, "API")]],
            RejectedWrite("session_not_found", "custom", BOB)),
        case("EXPIRED session", key("custom", ALICE), body("alice", ALICE_SESSION),
            vec![vec![session(ALICE_SESSION, "alice", SessionState::Expired, "API")]],
            RejectedWrite("session_not_active", "custom", ALICE)),
        case("PENDING session", key("custom", ALICE), body("alice", ALICE_SESSION),
            vec![vec![session(ALICE_SESSION, "alice", SessionState::Pending, "API")]],
            RejectedWrite("session_not_active", "custom", ALICE)),
        case("no sessions at all", key("custom", ALICE), body("alice", ALICE_SESSION), vec![vec![], vec![]],
            RejectedWrite("session_not_found", "custom", ALICE)),
        case("federated folder but the session is a streaming-URL one", key("federated", ALICE),
            body("alice", ALICE_SESSION), alice_active(), RejectedWrite("session_not_found", "federated", ALICE)),

        // --- the allow list, once AppStream proved the user ---
        case("a proven user who is not listed", key("custom", CAROL), body("carol", CAROL_SESSION),
            vec![vec![session(CAROL_SESSION, "carol", SessionState::Active, "API")]],
            NotAuthorised("not_listed", "custom", CAROL)),
        Case { entry: Some(entry("bob", "api")), ..case("alice's hash holds bob's entry", key("custom", ALICE),
            body("alice", ALICE_SESSION), alice_active(), NotAuthorised("entry_user_mismatch", "custom", ALICE)) },
        Case { entry: Some(EntryAnswer::Found { parameter_type: "String".into(),
                value: r#"{"user_id":"alice","authentication":"api","notebook":"datasandbox-bob-81b637d8-0a1b"}"#.into() }),
            ..case("alice's entry names bob's notebook", key("custom", ALICE), body("alice", ALICE_SESSION),
                alice_active(), NotAuthorised("entry_notebook_mismatch", "custom", ALICE)) },
        Case { entry: Some(entry("alice", "saml")), ..case("a SAML entry for a streaming-URL folder", key("custom", ALICE),
            body("alice", ALICE_SESSION), alice_active(), NotAuthorised("entry_authentication_mismatch", "custom", ALICE)) },

        // --- not this sandbox ---
        case("stack not ours", key("custom", ALICE), with_field("stackName", "other-stack".into()), alice_active(),
            RejectedWrite("stack_mismatch", "custom", ALICE)),
        case("fleet not ours", key("custom", ALICE), with_field("fleetName", "other-fleet".into()), alice_active(),
            RejectedWrite("fleet_mismatch", "custom", ALICE)),
        case("bucketName points elsewhere", key("custom", ALICE), with_field("bucketName", "attacker-bucket".into()),
            alice_active(), RejectedWrite("bucket_mismatch", "custom", ALICE)),
        case("prefixName points at another folder", key("custom", ALICE),
            with_field("prefixName", format!("user/custom/{BOB}/").into()), alice_active(),
            RejectedWrite("prefix_mismatch", "custom", ALICE)),
        Case { bucket: "some-other-bucket", ..case("event from another bucket", key("custom", ALICE),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("wrong_bucket")) },

        // --- broken files ---
        case("missing sessionId", key("custom", ALICE), without_field("sessionId"), alice_active(),
            RejectedWrite("missing_field", "custom", ALICE)),
        case("missing user", key("custom", ALICE), without_field("user"), alice_active(),
            RejectedWrite("missing_field", "custom", ALICE)),
        case("extra field", key("custom", ALICE), with_field("url", "https://evil.example".into()), alice_active(),
            RejectedWrite("unknown_field", "custom", ALICE)),
        case("duplicate user field", key("custom", ALICE),
            format!(r#"{{"user":"alice","user":"bob","sessionId":"{ALICE_SESSION}","stackName":"{STACK}","fleetName":"{FLEET}"}}"#).into_bytes(),
            alice_active(), RejectedWrite("duplicate_field", "custom", ALICE)),
        case("user is a number", key("custom", ALICE), with_field("user", 42.into()), alice_active(),
            RejectedWrite("wrong_type", "custom", ALICE)),
        case("sessionId is null", key("custom", ALICE), with_field("sessionId", serde_json::Value::Null),
            alice_active(), RejectedWrite("wrong_type", "custom", ALICE)),
        case("1 MB file", key("custom", ALICE), one_mb, alice_active(), RejectedWrite("too_large", "custom", ALICE)),
        case("invalid UTF-8", key("custom", ALICE), b"{\"user\":\"al\xffice\"}".to_vec(), alice_active(),
            RejectedWrite("not_utf8", "custom", ALICE)),
        case("UTF-16 file (PowerShell's default)", key("custom", ALICE),
            [b"\xff\xfe".as_slice(), &body("alice", ALICE_SESSION).iter().flat_map(|b| [*b, 0]).collect::<Vec<u8>>()].concat(),
            alice_active(), RejectedWrite("not_utf8", "custom", ALICE)),
        case("not JSON", key("custom", ALICE), b"user=alice&sessionId=x".to_vec(), alice_active(),
            RejectedWrite("not_json", "custom", ALICE)),
        case("empty file", key("custom", ALICE), Vec::new(), alice_active(), RejectedWrite("not_json", "custom", ALICE)),
        case("JSON array", key("custom", ALICE), b"[\"alice\"]".to_vec(), alice_active(),
            RejectedWrite("not_object", "custom", ALICE)),
        case("session ID with a newline (log injection)", key("custom", ALICE),
            with_field("sessionId", "x\n{\"outcome\":\"issued\"}".into()), alice_active(),
            RejectedWrite("bad_session_id", "custom", ALICE)),

        // --- keys ---
        case("key outside user/", format!("data/custom/{ALICE}/session.json"), body("alice", ALICE_SESSION),
            alice_active(), RejectedSilent("not_home_folder")),
        case("non-session key in the folder", format!("user/custom/{ALICE}/notes.json"), body("alice", ALICE_SESSION),
            alice_active(), RejectedSilent("not_session_file")),
        case("the validator's own output file", format!("user/custom/{ALICE}/session_url.txt"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("not_session_file")),
        case("session.json in a subfolder", format!("user/custom/{ALICE}/sub/session.json"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("not_session_file")),
        case("space from '+' in the key", format!("user/custom/{ALICE}/session+.json"), body("alice", ALICE_SESSION),
            alice_active(), RejectedSilent("not_session_file")),
        case("literal '+' (%2B) in the key", format!("user/custom/{ALICE}/session%2B.json"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("not_session_file")),
        case("trailing encoded space", format!("user/custom/{ALICE}/session.json%20"), body("alice", ALICE_SESSION),
            alice_active(), RejectedSilent("not_session_file")),
        case("encoded NUL after the name", format!("user/custom/{ALICE}/session.json%00"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("not_session_file")),
        case("bad percent escape", format!("user/custom/{ALICE}/session%zz.json"), body("alice", ALICE_SESSION),
            alice_active(), RejectedSilent("bad_encoding")),
        case("overlong UTF-8 slash (%C0%AF)", format!("user/custom/{ALICE}%C0%AF..%C0%AFsession.json"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("bad_encoding")),
        case("uppercase hex", key("custom", &ALICE.to_uppercase()), body("alice", ALICE_SESSION), alice_active(),
            RejectedSilent("bad_user_hash")),
        case("63-digit hash", key("custom", &ALICE[..63]), body("alice", ALICE_SESSION), alice_active(),
            RejectedSilent("bad_user_hash")),
        case("unknown access type", key("saml", ALICE), body("alice", ALICE_SESSION), alice_active(),
            RejectedSilent("bad_access_type")),
        case("path traversal with ..", format!("user/custom/{BOB}/../{ALICE}/session.json"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("bad_path")),
        case("encoded path traversal", format!("user/custom/%2E%2E/custom/{ALICE}/session.json"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("bad_path")),
        case("double slash", format!("user//custom/{ALICE}/session.json"), body("alice", ALICE_SESSION),
            alice_active(), RejectedSilent("bad_path")),
        case("double slash before the file", format!("user/custom/{ALICE}//session.json"),
            body("alice", ALICE_SESSION), alice_active(), RejectedSilent("bad_path")),
        case("leading slash", format!("/user/custom/{ALICE}/session.json"), body("alice", ALICE_SESSION),
            alice_active(), RejectedSilent("not_home_folder")),
    ]
}

fn summarize(verdict: &Verdict) -> Expect<'_> {
    let folder_of = |key: &str| -> (&'static str, &'static str) {
        // Map a written key back to the constant names used in the table.
        let access = ["custom", "federated", "userpool"]
            .into_iter()
            .find(|a| key.starts_with(&format!("user/{a}/")))
            .unwrap_or("?");
        let hash = [ALICE, BOB, ALICE_MAIL, CAROL]
            .into_iter()
            .find(|h| key == format!("user/{access}/{h}/session_url.txt"))
            .unwrap_or("?");
        (access, hash)
    };
    match (verdict.outcome(), &verdict.write) {
        (Outcome::Issued, Some(w)) if w.body == WriteBody::PresignedUrl => {
            let (a, h) = folder_of(&w.key);
            Expect::Issued(a, h)
        }
        (Outcome::Rejected, Some(w)) if w.body == WriteBody::InvalidSession => {
            let (a, h) = folder_of(&w.key);
            Expect::RejectedWrite(verdict.reason(), a, h)
        }
        (Outcome::Rejected, Some(w)) if matches!(w.body, WriteBody::NotAuthorised { .. }) => {
            let (a, h) = folder_of(&w.key);
            Expect::NotAuthorised(verdict.reason(), a, h)
        }
        (Outcome::Rejected, None) => Expect::RejectedSilent(verdict.reason()),
        _ => Expect::RejectedSilent("<unexpected verdict shape>"),
    }
}

#[test]
fn every_hostile_input_gets_its_exact_verdict() {
    let config = config();
    let cases = cases();
    assert!(cases.len() >= 25, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let verdict = run(&config, case);
        let got = summarize(&verdict);
        if got != case.expect {
            failures.push(format!("{}: expected {:?}, got {:?}", case.name, case.expect, got));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_log_line_is_one_json_object_without_secrets() {
    let config = config();
    for case in cases() {
        let verdict = run(&config, &case);
        let line = verdict.log.to_json_line();
        assert!(!line.contains('\n'), "{}: {line}", case.name);
        let value: serde_json::Value = match serde_json::from_str(&line) {
            Ok(v) => v,
            Err(e) => panic!("{}: not JSON ({e}): {line}", case.name),
        };
        assert_eq!(value["reason"], verdict.reason(), "{}", case.name);
        assert_eq!(value["bucket"], case.bucket, "{}", case.name);
        assert!(!line.contains("evil.example"), "{}: file content leaked: {line}", case.name);
        assert!(!line.contains("\"user\""), "{}: user name field leaked: {line}", case.name);
        // The session ID is logged only once the file checks passed.
        let checked = matches!(case.expect, Expect::Issued(..) | Expect::NotAuthorised(..))
            || matches!(case.expect, Expect::RejectedWrite(code, ..) if code.starts_with("session_"));
        // The notebook is named only once granted, and only a granted one.
        let notebook = value["notebook"].as_str();
        match case.expect {
            Expect::Issued(..) => {
                assert!(notebook.is_some_and(|n| n.starts_with("datasandbox-")), "{}: {line}", case.name)
            }
            _ => assert_eq!(notebook, None, "{}: {line}", case.name),
        }
        assert_eq!(value["session_id"].is_string(), checked, "{}: {line}", case.name);
    }
}
