//! The validator end to end on scripted SDK responses (`aws-smithy-mocks`): every case
//! states the exact `PutObject`s (bucket, key, body kind, SSE) or that there is none, the
//! log lines (outcome, reason), the AWS calls made, and whether the invocation fails.
//!
//! Hashes: `printf alice | sha256sum` etc.; AppStream names home folders after the
//! lowercase hex SHA-256 of the user ID (docs/aws-facts.md, "Home folders"). The allow list
//! holds alice and bob (streaming-URL users, each with their own notebook) unless a case says
//! otherwise; carol has sessions but no entry.

#![allow(clippy::expect_used)]

use crate::support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_appstream::operation::describe_sessions::DescribeSessionsOutput;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::error::NoSuchKey;
use aws_sdk_sagemaker::operation::create_presigned_notebook_instance_url::CreatePresignedNotebookInstanceUrlOutput;
use aws_sdk_sagemaker::operation::describe_notebook_instance::DescribeNotebookInstanceOutput;
use aws_sdk_sagemaker::operation::start_notebook_instance::StartNotebookInstanceOutput;
use aws_sdk_sagemaker::types::NotebookInstanceStatus;
use aws_sdk_ssm::operation::get_parameter::GetParameterOutput;
use aws_sdk_ssm::types::{Parameter, ParameterType};
use aws_smithy_mocks::{mock, MockResponse, Rule};
use sandboxc_lambda::config::{NotebookWaiting, Notebooks, ValidatorConfig};
use sandboxc_lambda::decision::{KeyEncoding, LogLine, INVALID_SESSION_MESSAGE};
use sandboxc_lambda::validate::{event_records, handle_records, EventRecord, ValidatorClients, SESSION_FILE_RANGE};
use std::time::Duration;
use support::{appstream_error, http, json_error, xml_error};

const BUCKET: &str = "appstream2-36fb080bb8-us-east-1-123456789012";
const STACK: &str = "datasandbox-stack";
const FLEET: &str = "datasandbox-fleet";
const ENV: &str = "datasandbox";
const PREFIX: &str = "/sandboxc/datasandbox/users/";
/// The shared notebook of `shared` mode.
const SHARED: &str = "datasandbox-notebook";
/// `sandboxc_contract::users::notebook_name("datasandbox", "alice", "0a1b")` and bob's.
const ALICE_NB: &str = "datasandbox-alice-2bd806c9-0a1b";
const BOB_NB: &str = "datasandbox-bob-81b637d8-0a1b";
const ALICE: &str = "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90";
const BOB: &str = "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9";
const CAROL: &str = "4c26d9074c27d89ede59270c0ac14b71e071b15239519f75474b2f3ba63481f5";
const MALLORY: &str = "c0a497761b175379ed63397cc980546559faa84ca9cbeede773117c31508b6ac";
const A_S: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const B_S: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const C_S: &str = "3d5a2f10-6c4b-4e8f-9d1a-2b3c4d5e6f70";

/// The pre-signed URL SageMaker answers for `notebook` (the token must never be logged).
fn url(notebook: &str) -> String {
    format!("https://{notebook}.notebook.us-east-1.sagemaker.aws?authToken=SECRET")
}

fn config() -> ValidatorConfig {
    ValidatorConfig {
        stack_name: STACK.into(),
        fleet_name: FLEET.into(),
        notebooks: Notebooks::PerUser,
        environment: ENV.into(),
        session_expiration_seconds: 1800,
        home_folder_bucket: BUCKET.into(),
        // Starting notebooks: polled every millisecond, for at most 200 ms.
        waiting: NotebookWaiting { deadline: Duration::from_millis(200), poll: Duration::from_millis(1) },
    }
}

fn session_key(access: &str, hash: &str) -> String {
    format!("user/{access}/{hash}/session.json")
}

fn url_key(access: &str, hash: &str) -> String {
    format!("user/{access}/{hash}/session_url.txt")
}

/// The session file of this version's notebook script for the sandbox of AppStream stack `stack`.
fn sandbox_session_key(access: &str, hash: &str, stack: &str) -> String {
    format!("user/{access}/{hash}/.sandboxc/{stack}/session.json")
}

fn sandbox_url_key(access: &str, hash: &str, stack: &str) -> String {
    format!("user/{access}/{hash}/.sandboxc/{stack}/session_url.txt")
}

fn body(user: &str, session: &str) -> Vec<u8> {
    serde_json::json!({"user": user, "sessionId": session, "stackName": STACK, "fleetName": FLEET})
        .to_string()
        .into_bytes()
}

/// A session as DescribeSessions lists it: (id, user, state, authentication type).
type S = (&'static str, &'static str, &'static str, &'static str);

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// The pre-signed URL of this notebook.
    Url(&'static str),
    /// The invalid-session message.
    Invalid,
    /// The not-authorised message.
    NotAuthorised,
    /// The notebook-unavailable message.
    Unavailable,
    /// The interim answer while the notebook starts (`STARTING: ...`).
    Starting,
}

/// What AppStream does.
#[derive(Clone)]
enum Describe {
    /// Answers these pages (`NextToken` `page-<n>` between them).
    Pages(Vec<Vec<S>>),
    /// Throttles this many times, then answers the pages.
    ThrottledThen(usize, Vec<Vec<S>>),
    /// Always denies access.
    Denied,
}

/// An allow-list parameter as SSM holds it.
#[derive(Clone, Debug)]
enum Param {
    /// A `String` parameter holding the entry (user ID, authentication, notebook).
    Entry(&'static str, &'static str, &'static str),
    /// Any type and value.
    Raw(&'static str, &'static str),
    /// `GetParameter` of it is denied.
    Denied,
}

struct Case {
    name: &'static str,
    /// (bucket, raw key) per record.
    records: Vec<(&'static str, String)>,
    /// Objects by decoded key.
    objects: Vec<(String, Vec<u8>)>,
    describe: Describe,
    /// Allow-list parameters by user hash.
    entries: Vec<(&'static str, Param)>,
    /// Notebook instances and their status; `None`: DescribeNotebookInstance fails. A status
    /// `A>B>C` answers A, then B, then C to successive calls (the last one repeats); `Failed`
    /// comes with a FailureReason.
    notebooks: Vec<(&'static str, Option<&'static str>)>,
    /// StartNotebookInstance calls expected.
    starts: usize,
    /// StartNotebookInstance is denied.
    start_denied: bool,
    shared: bool,
    presign_fails: bool,
    /// (key, kind) of each PutObject, in order.
    puts: Vec<(String, Kind)>,
    /// (outcome, reason) of each log line, in order.
    logs: Vec<(&'static str, &'static str)>,
    fails: bool,
}

fn active_alice() -> Describe {
    Describe::Pages(vec![vec![(A_S, "alice", "ACTIVE", "API")]])
}

/// One record for `key` in the home-folder bucket, with `object` stored under the decoded
/// `stored` key.
fn one(name: &'static str, key: String, stored: String, object: Vec<u8>) -> Case {
    Case {
        name,
        records: vec![(BUCKET, key)],
        objects: vec![(stored, object)],
        describe: active_alice(),
        entries: vec![(ALICE, Param::Entry("alice", "api", ALICE_NB)), (BOB, Param::Entry("bob", "api", BOB_NB))],
        notebooks: vec![(ALICE_NB, Some("InService")), (BOB_NB, Some("InService")), (SHARED, Some("InService"))],
        starts: 0,
        start_denied: false,
        shared: false,
        presign_fails: false,
        puts: vec![],
        logs: vec![],
        fails: false,
    }
}

impl Case {
    fn describe(mut self, describe: Describe) -> Case {
        self.describe = describe;
        self
    }
    fn puts(mut self, puts: Vec<(String, Kind)>) -> Case {
        self.puts = puts;
        self
    }
    fn logs(mut self, logs: Vec<(&'static str, &'static str)>) -> Case {
        self.logs = logs;
        self
    }
    fn fails(mut self) -> Case {
        self.fails = true;
        self
    }
    fn presign_fails(mut self) -> Case {
        self.presign_fails = true;
        self
    }
    /// Sets (or replaces) the parameter under `hash`.
    fn entry(mut self, hash: &'static str, param: Param) -> Case {
        self.entries.retain(|(h, _)| *h != hash);
        self.entries.push((hash, param));
        self
    }
    /// Removes the parameter under `hash` (the user is not, or no longer, listed).
    fn unlisted(mut self, hash: &'static str) -> Case {
        self.entries.retain(|(h, _)| *h != hash);
        self
    }
    /// Sets the notebook's status (`None`: DescribeNotebookInstance fails; absent: missing).
    fn notebook(mut self, name: &'static str, status: Option<&'static str>) -> Case {
        self.notebooks.retain(|(n, _)| *n != name);
        self.notebooks.push((name, status));
        self
    }
    fn missing_notebook(mut self, name: &'static str) -> Case {
        self.notebooks.retain(|(n, _)| *n != name);
        self
    }
    fn shared(mut self) -> Case {
        self.shared = true;
        self
    }
    fn starts(mut self, n: usize) -> Case {
        self.starts = n;
        self
    }
    fn start_denied(mut self) -> Case {
        self.start_denied = true;
        self
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Put {
    bucket: String,
    key: String,
    body: String,
    sse: Option<String>,
    owner: Option<String>,
}

#[derive(Default)]
struct Calls {
    gets: Vec<(String, Option<String>, Option<String>)>,
    describes: Vec<(String, String, String, String, Option<String>)>,
    /// (name, WithDecryption) of each GetParameter.
    parameters: Vec<(String, Option<bool>)>,
    /// NotebookInstanceName of each DescribeNotebookInstance.
    notebook_describes: Vec<String>,
    /// NotebookInstanceName of each StartNotebookInstance.
    starts: Vec<String>,
    presigns: Vec<(String, Option<i32>)>,
    puts: Vec<Put>,
}

fn sdk_session(s: &S) -> aws_sdk_appstream::types::Session {
    aws_sdk_appstream::types::Session::builder()
        .id(s.0)
        .user_id(s.1)
        .stack_name(STACK)
        .fleet_name(FLEET)
        .state(aws_sdk_appstream::types::SessionState::from(s.2))
        .authentication_type(aws_sdk_appstream::types::AuthenticationType::from(s.3))
        .build()
}

/// The scripted clients, and the DescribeSessions rule (for its call count).
fn clients(case: &Case, calls: &Arc<Mutex<Calls>>) -> (ValidatorClients, Rule) {
    let objects: HashMap<String, Vec<u8>> = case.objects.iter().cloned().collect();
    let c = calls.clone();
    let get = mock!(aws_sdk_s3::Client::get_object).then_compute_response(move |req| {
        let key = req.key().unwrap_or_default().to_owned();
        c.lock().expect("lock").gets.push((
            key.clone(),
            req.range().map(str::to_owned),
            req.expected_bucket_owner().map(str::to_owned),
        ));
        match objects.get(&key) {
            // S3 answers a ranged GET of an empty object with 416 InvalidRange.
            Some(b) if b.is_empty() => {
                MockResponse::Http(http(416, xml_error("InvalidRange", "range not satisfiable")))
            }
            // The whole object, whatever the range: the reader must cut it itself.
            Some(b) => MockResponse::Output(GetObjectOutput::builder().body(ByteStream::from(b.clone())).build()),
            None => MockResponse::Error(GetObjectError::NoSuchKey(NoSuchKey::builder().build())),
        }
    });
    let c = calls.clone();
    let put = mock!(aws_sdk_s3::Client::put_object).then_compute_response(move |req| {
        c.lock().expect("lock").puts.push(Put {
            bucket: req.bucket().unwrap_or_default().to_owned(),
            key: req.key().unwrap_or_default().to_owned(),
            body: String::from_utf8_lossy(req.body().bytes().unwrap_or_default()).into_owned(),
            sse: req.server_side_encryption().map(|s| s.as_str().to_owned()),
            owner: req.expected_bucket_owner().map(str::to_owned),
        });
        MockResponse::Output(PutObjectOutput::builder().build())
    });
    let c = calls.clone();
    let describe = case.describe.clone();
    let sessions = match &describe {
        // On a retry the SDK mock has no typed input for a computed answer, so throttling
        // is a fixed sequence: `n` throttling errors (as AppStream sends them), then the page.
        Describe::ThrottledThen(n, pages) => {
            let page: Vec<S> = pages.first().cloned().unwrap_or_default();
            mock!(aws_sdk_appstream::Client::describe_sessions)
                .sequence()
                .http_response(|| appstream_error(400, "ThrottlingException", "Rate exceeded"))
                .times(*n)
                .output(move || {
                    DescribeSessionsOutput::builder().set_sessions(Some(page.iter().map(sdk_session).collect())).build()
                })
                .repeatedly()
                .build()
        }
        _ => mock!(aws_sdk_appstream::Client::describe_sessions).then_compute_response(move |req| {
            c.lock().expect("lock").describes.push((
                req.stack_name().unwrap_or_default().to_owned(),
                req.fleet_name().unwrap_or_default().to_owned(),
                req.user_id().unwrap_or_default().to_owned(),
                req.authentication_type().map(|a| a.as_str().to_owned()).unwrap_or_default(),
                req.next_token().map(str::to_owned),
            ));
            let pages = match &describe {
                Describe::Pages(pages) => pages,
                _ => return MockResponse::Http(appstream_error(400, "AccessDeniedException", "not authorized")),
            };
            let index: usize =
                req.next_token().and_then(|t| t.strip_prefix("page-")).and_then(|n| n.parse().ok()).unwrap_or(0);
            let page = pages.get(index).cloned().unwrap_or_default();
            let next = (index + 1 < pages.len()).then(|| format!("page-{}", index + 1));
            MockResponse::Output(
                DescribeSessionsOutput::builder()
                    .set_sessions(Some(page.iter().map(sdk_session).collect()))
                    .set_next_token(next)
                    .build(),
            )
        }),
    };
    let c = calls.clone();
    let entries: HashMap<String, Param> =
        case.entries.iter().map(|(hash, p)| (format!("{PREFIX}{hash}"), p.clone())).collect();
    let parameter = mock!(aws_sdk_ssm::Client::get_parameter).then_compute_response(move |req| {
        let name = req.name().unwrap_or_default().to_owned();
        c.lock().expect("lock").parameters.push((name.clone(), req.with_decryption()));
        let (kind, value) = match entries.get(&name) {
            None => return MockResponse::Http(http(400, json_error("ParameterNotFound", ""))),
            Some(Param::Denied) => {
                return MockResponse::Http(http(400, json_error("AccessDeniedException", "not authorized")))
            }
            Some(Param::Entry(user, auth, notebook)) => (
                "String",
                serde_json::json!({"user_id": user, "authentication": auth, "notebook": notebook}).to_string(),
            ),
            Some(Param::Raw(kind, value)) => (*kind, (*value).to_owned()),
        };
        let parameter = Parameter::builder().name(name).r#type(ParameterType::from(kind)).value(value).build();
        MockResponse::Output(GetParameterOutput::builder().parameter(parameter).build())
    });
    let c = calls.clone();
    let notebooks: HashMap<&str, Option<&str>> = case.notebooks.iter().copied().collect();
    let describe_notebook =
        mock!(aws_sdk_sagemaker::Client::describe_notebook_instance).then_compute_response(move |req| {
            let name = req.notebook_instance_name().unwrap_or_default().to_owned();
            let mut calls = c.lock().expect("lock");
            let seen = calls.notebook_describes.iter().filter(|n| **n == name).count();
            calls.notebook_describes.push(name.clone());
            match notebooks.get(name.as_str()) {
                // SageMaker's answer for a name it does not know.
                None => MockResponse::Http(http(400, json_error("ValidationException", "RecordNotFound"))),
                Some(None) => MockResponse::Http(http(400, json_error("AccessDeniedException", "not authorized"))),
                Some(Some(statuses)) => {
                    let steps: Vec<&str> = statuses.split('>').collect();
                    let status = steps.get(seen).or(steps.last()).copied().unwrap_or_default();
                    let failure = (status == "Failed").then_some("ResourceLimitExceeded: no ml.t3.medium capacity");
                    MockResponse::Output(
                        DescribeNotebookInstanceOutput::builder()
                            .notebook_instance_name(name)
                            .notebook_instance_status(NotebookInstanceStatus::from(status))
                            .set_failure_reason(failure.map(str::to_owned))
                            .build(),
                    )
                }
            }
        });
    let c = calls.clone();
    let start_denied = case.start_denied;
    let start = mock!(aws_sdk_sagemaker::Client::start_notebook_instance).then_compute_response(move |req| {
        c.lock().expect("lock").starts.push(req.notebook_instance_name().unwrap_or_default().to_owned());
        if start_denied {
            MockResponse::Http(http(400, json_error("AccessDeniedException", "not authorized")))
        } else {
            MockResponse::Output(StartNotebookInstanceOutput::builder().build())
        }
    });
    let c = calls.clone();
    let presign_fails = case.presign_fails;
    let presign =
        mock!(aws_sdk_sagemaker::Client::create_presigned_notebook_instance_url).then_compute_response(move |req| {
            let notebook = req.notebook_instance_name().unwrap_or_default().to_owned();
            c.lock().expect("lock").presigns.push((notebook.clone(), req.session_expiration_duration_in_seconds()));
            if presign_fails {
                MockResponse::Http(http(400, json_error("ValidationException", "notebook is stopped")))
            } else {
                MockResponse::Output(
                    CreatePresignedNotebookInstanceUrlOutput::builder().authorized_url(url(&notebook)).build(),
                )
            }
        });
    let clients = ValidatorClients {
        s3: scripted_client!(aws_sdk_s3, [&get, &put]),
        appstream: scripted_client!(aws_sdk_appstream, [&sessions]),
        ssm: scripted_client!(aws_sdk_ssm, [&parameter]),
        sagemaker: scripted_client!(aws_sdk_sagemaker, [&describe_notebook, &start, &presign]),
    };
    (clients, sessions)
}

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Kind::{Invalid, NotAuthorised, Starting, Unavailable, Url};
    let a = || session_key("custom", ALICE);
    let one_mb = { let mut b = body("alice", A_S); b.resize(1024 * 1024, b' '); b };
    let padded_16k = { let mut b = body("alice", A_S); b.resize(16 * 1024, b' '); b };
    let spaced = "user/custom/a b/session.json".to_owned();
    vec![
        one("valid custom user, active session", a(), a(), body("alice", A_S))
            .puts(vec![(url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("the right session only on the second page", a(), a(), body("alice", A_S))
            .describe(Describe::Pages(vec![
                vec![("s-other", "alice", "EXPIRED", "API")],
                vec![(A_S, "alice", "ACTIVE", "API")],
            ]))
            .puts(vec![(url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("DescribeSessions throttled, then successful", a(), a(), body("alice", A_S))
            .describe(Describe::ThrottledThen(2, vec![vec![(A_S, "alice", "ACTIVE", "API")]]))
            .puts(vec![(url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("DescribeSessions throttled past the SDK's retries", a(), a(), body("alice", A_S))
            .describe(Describe::ThrottledThen(3, vec![vec![(A_S, "alice", "ACTIVE", "API")]]))
            .logs(vec![("error", "describe_sessions_failed")]).fails(),
        one("DescribeSessions denied", a(), a(), body("alice", A_S))
            .describe(Describe::Denied).logs(vec![("error", "describe_sessions_failed")]).fails(),
        one("SageMaker error: invocation error, no URL written", a(), a(), body("alice", A_S))
            .presign_fails().logs(vec![("error", "presign_failed")]).fails(),
        one("the object vanished before the read", a(), "elsewhere".into(), vec![])
            .logs(vec![("error", "read_failed")]).fails(),
        one("another user's session ID", a(), a(), body("alice", B_S))
            .describe(Describe::Pages(vec![vec![(A_S, "alice", "ACTIVE", "API"), (B_S, "bob", "ACTIVE", "API")]]))
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "session_not_found")]),
        one("an EXPIRED session", a(), a(), body("alice", A_S))
            .describe(Describe::Pages(vec![vec![(A_S, "alice", "EXPIRED", "API")]]))
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "session_not_active")]),
        one("a PENDING session", a(), a(), body("alice", A_S))
            .describe(Describe::Pages(vec![vec![(A_S, "alice", "PENDING", "API")]]))
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "session_not_active")]),
        one("the session under a SAML login for a custom folder", a(), a(), body("alice", A_S))
            .describe(Describe::Pages(vec![vec![(A_S, "alice", "ACTIVE", "SAML")]]))
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "session_not_found")]),
        // A folder that does not match the user gets no write at all (issue 3).
        one("alice's file in bob's folder", session_key("custom", BOB), session_key("custom", BOB), body("alice", A_S))
            .logs(vec![("rejected", "user_mismatch")]),
        one("a key outside user/", "public/session.json".into(), "public/session.json".into(), body("alice", A_S))
            .logs(vec![("rejected", "not_home_folder")]),
        one("a non-session key in the folder", format!("user/custom/{ALICE}/notes.json"), format!("user/custom/{ALICE}/notes.json"), body("alice", A_S))
            .logs(vec![("rejected", "not_session_file")]),
        one("a traversal key", format!("user/custom/{ALICE}/../{BOB}/session.json"), String::new(), vec![])
            .logs(vec![("rejected", "bad_path")]),
        one("a key with a space ('+')", "user/custom/a+b/session.json".into(), spaced.clone(), body("alice", A_S))
            .logs(vec![("rejected", "bad_user_hash")]),
        one("a key with a percent-escaped space", "user/custom/a%20b/session.json".into(), spaced, body("alice", A_S))
            .logs(vec![("rejected", "bad_user_hash")]),
        one("a key with percent-escaped separators", format!("user%2Fcustom%2F{ALICE}%2Fsession.json"), a(), body("alice", A_S))
            .puts(vec![(url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("a broken percent-escape", "user/custom/%zz/session.json".into(), String::new(), vec![])
            .logs(vec![("rejected", "bad_encoding")]),
        one("stack not ours", a(), a(), serde_json::json!({"user": "alice", "sessionId": A_S, "stackName": "other", "fleetName": FLEET}).to_string().into_bytes())
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "stack_mismatch")]),
        one("fleet not ours", a(), a(), serde_json::json!({"user": "alice", "sessionId": A_S, "stackName": STACK, "fleetName": "other"}).to_string().into_bytes())
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "fleet_mismatch")]),
        one("a missing field", a(), a(), serde_json::json!({"user": "alice", "stackName": STACK, "fleetName": FLEET}).to_string().into_bytes())
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "missing_field")]),
        one("an extra field", a(), a(), serde_json::json!({"user": "alice", "sessionId": A_S, "stackName": STACK, "fleetName": FLEET, "url": "x"}).to_string().into_bytes())
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "unknown_field")]),
        one("bucketName pointing elsewhere", a(), a(), serde_json::json!({"user": "alice", "sessionId": A_S, "stackName": STACK, "fleetName": FLEET, "bucketName": "attacker-bucket"}).to_string().into_bytes())
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "bucket_mismatch")]),
        one("a 1 MB file", a(), a(), one_mb)
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "too_large")]),
        one("exactly 16 KiB is still read whole", a(), a(), padded_16k)
            .puts(vec![(url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("an empty file (416 on the ranged read)", a(), a(), vec![])
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "not_json")]),
        one("invalid UTF-8", a(), a(), b"{\"user\":\"\xff\xfe\"}".to_vec())
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "not_utf8")]),
        one("not JSON", a(), a(), b"user=alice".to_vec())
            .puts(vec![(url_key("custom", ALICE), Invalid)]).logs(vec![("rejected", "not_json")]),
        one("a federated (SAML) folder", session_key("federated", ALICE), session_key("federated", ALICE), body("alice", A_S))
            .entry(ALICE, Param::Entry("alice", "saml", ALICE_NB))
            .describe(Describe::Pages(vec![vec![(A_S, "alice", "ACTIVE", "SAML")]]))
            .puts(vec![(url_key("federated", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        Case {
            records: vec![("attacker-bucket", a())],
            ..one("an event from another bucket", a(), a(), body("alice", A_S)).logs(vec![("rejected", "wrong_bucket")])
        },
        Case {
            records: vec![(BUCKET, a()), (BUCKET, "user/custom/x/session.json".into()), (BUCKET, session_key("custom", BOB))],
            objects: vec![(a(), body("alice", A_S)), (session_key("custom", BOB), body("bob", B_S))],
            ..one("several records: alice, a stranger's key, bob's expired session", a(), a(), vec![])
                .describe(Describe::Pages(vec![vec![(A_S, "alice", "ACTIVE", "API"), (B_S, "bob", "EXPIRED", "API")]]))
                .puts(vec![(url_key("custom", ALICE), Url(ALICE_NB)), (url_key("custom", BOB), Invalid)])
                .logs(vec![("issued", "session_active"), ("rejected", "bad_user_hash"), ("rejected", "session_not_active")])
        },
        Case {
            records: vec![(BUCKET, a()), (BUCKET, session_key("custom", BOB))],
            objects: vec![(session_key("custom", BOB), body("bob", B_S))],
            ..one("several records, one failing: the others are still served, then the invocation fails", a(), a(), vec![])
                .describe(Describe::Pages(vec![vec![(B_S, "bob", "ACTIVE", "API")]]))
                .puts(vec![(url_key("custom", BOB), Url(BOB_NB))])
                .logs(vec![("error", "read_failed"), ("issued", "session_active")])
                .fails()
        },
        Case {
            records: vec![(BUCKET, a()), (BUCKET, session_key("custom", BOB)), (BUCKET, session_key("custom", CAROL))],
            objects: vec![(a(), body("alice", A_S)), (session_key("custom", BOB), body("bob", B_S)), (session_key("custom", CAROL), body("carol", C_S))],
            ..one("alice, bob and carol at once: each listed user gets their own notebook, carol none", a(), a(), vec![])
                .describe(Describe::Pages(vec![vec![(A_S, "alice", "ACTIVE", "API"), (B_S, "bob", "ACTIVE", "API"), (C_S, "carol", "ACTIVE", "API")]]))
                .puts(vec![(url_key("custom", ALICE), Url(ALICE_NB)), (url_key("custom", BOB), Url(BOB_NB)), (url_key("custom", CAROL), NotAuthorised)])
                .logs(vec![("issued", "session_active"), ("issued", "session_active"), ("rejected", "not_listed")])
        },

        // --- the allow list ---
        one("bob gets his own notebook's URL", session_key("custom", BOB), session_key("custom", BOB), body("bob", B_S))
            .describe(Describe::Pages(vec![vec![(B_S, "bob", "ACTIVE", "API")]]))
            .puts(vec![(url_key("custom", BOB), Url(BOB_NB))]).logs(vec![("issued", "session_active")]),
        one("an unlisted user with a real session: not authorised", session_key("custom", CAROL), session_key("custom", CAROL), body("carol", C_S))
            .describe(Describe::Pages(vec![vec![(C_S, "carol", "ACTIVE", "API")]]))
            .puts(vec![(url_key("custom", CAROL), NotAuthorised)]).logs(vec![("rejected", "not_listed")]),
        one("a removed user (entry deleted, notebook retained): not authorised", session_key("custom", BOB), session_key("custom", BOB), body("bob", B_S))
            .unlisted(BOB)
            .describe(Describe::Pages(vec![vec![(B_S, "bob", "ACTIVE", "API")]]))
            .puts(vec![(url_key("custom", BOB), NotAuthorised)]).logs(vec![("rejected", "not_listed")]),
        one("mallory (listed) claims alice's session from her own folder", session_key("custom", MALLORY), session_key("custom", MALLORY), body("mallory", A_S))
            .entry(MALLORY, Param::Entry("mallory", "api", "datasandbox-mallory-c0a49776"))
            .puts(vec![(url_key("custom", MALLORY), Invalid)]).logs(vec![("rejected", "session_not_found")]),
        one("mallory writes alice's session file into her own folder", session_key("custom", MALLORY), session_key("custom", MALLORY), body("alice", A_S))
            .logs(vec![("rejected", "user_mismatch")]),
        one("alice's entry rewritten to name bob's notebook", a(), a(), body("alice", A_S))
            .entry(ALICE, Param::Entry("alice", "api", BOB_NB))
            .puts(vec![(url_key("custom", ALICE), NotAuthorised)]).logs(vec![("rejected", "entry_notebook_mismatch")]),
        one("an entry under alice's hash for another user ID", a(), a(), body("alice", A_S))
            .entry(ALICE, Param::Entry("mallory", "api", ALICE_NB))
            .puts(vec![(url_key("custom", ALICE), NotAuthorised)]).logs(vec![("rejected", "entry_user_mismatch")]),
        one("a SAML entry for a streaming-URL session", a(), a(), body("alice", A_S))
            .entry(ALICE, Param::Entry("alice", "saml", ALICE_NB))
            .puts(vec![(url_key("custom", ALICE), NotAuthorised)]).logs(vec![("rejected", "entry_authentication_mismatch")]),
        one("an entry that is not JSON", a(), a(), body("alice", A_S))
            .entry(ALICE, Param::Raw("String", "alice"))
            .puts(vec![(url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "entry_invalid")]),
        one("an entry in a SecureString parameter", a(), a(), body("alice", A_S))
            .entry(ALICE, Param::Raw("SecureString", "AQICAHh..."))
            .puts(vec![(url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "entry_invalid")]),
        one("GetParameter denied: invocation error, nothing written", a(), a(), body("alice", A_S))
            .entry(ALICE, Param::Denied)
            .logs(vec![("error", "allow_list_failed")]).fails(),

        // --- the notebook ---
        one("alice's stopped notebook is started once, then the URL is issued", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Stopped>Stopped>Pending>InService")).starts(1)
            .puts(vec![(url_key("custom", ALICE), Starting), (url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("alice's stopped notebook does not come up in time: an error, said in the answer", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Stopped>Pending")).starts(1)
            .puts(vec![(url_key("custom", ALICE), Starting), (url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "notebook_start_timeout")]),
        one("alice's notebook stays Stopped after the start: started once, never twice", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Stopped")).starts(1)
            .puts(vec![(url_key("custom", ALICE), Starting), (url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "notebook_start_timeout")]),
        one("alice's notebook is already starting: waited on, not started", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Pending>Pending>InService"))
            .puts(vec![(url_key("custom", ALICE), Starting), (url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("alice's notebook stays Pending: a timeout, never a start", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Pending"))
            .puts(vec![(url_key("custom", ALICE), Starting), (url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "notebook_start_timeout")]),
        one("alice's notebook is stopping: waited on until Stopped, then started", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Stopping>Stopping>Stopped>Pending>InService")).starts(1)
            .puts(vec![(url_key("custom", ALICE), Starting), (url_key("custom", ALICE), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("alice's notebook has failed: an error with SageMaker's reason", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Failed"))
            .puts(vec![(url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "notebook_failed")]),
        one("alice's notebook is being deleted: not in service, as before", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Deleting"))
            .puts(vec![(url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "notebook_not_in_service")]),
        one("StartNotebookInstance denied: invocation error, nothing written", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, Some("Stopped")).start_denied().starts(1)
            .logs(vec![("error", "start_notebook_failed")]).fails(),
        one("alice's notebook does not exist", a(), a(), body("alice", A_S))
            .missing_notebook(ALICE_NB)
            .puts(vec![(url_key("custom", ALICE), Unavailable)]).logs(vec![("error", "notebook_missing")]),
        one("DescribeNotebookInstance denied: invocation error, nothing written", a(), a(), body("alice", A_S))
            .notebook(ALICE_NB, None)
            .logs(vec![("error", "describe_notebook_failed")]).fails(),

        // --- shared mode: the shared notebook, for listed users only ---
        one("shared mode: alice gets the shared notebook", a(), a(), body("alice", A_S))
            .shared()
            .puts(vec![(url_key("custom", ALICE), Url(SHARED))]).logs(vec![("issued", "session_active")]),
        one("shared mode: an entry's own notebook does not matter", a(), a(), body("alice", A_S))
            .shared().entry(ALICE, Param::Entry("alice", "api", BOB_NB))
            .puts(vec![(url_key("custom", ALICE), Url(SHARED))]).logs(vec![("issued", "session_active")]),
        one("shared mode: an unlisted user gets nothing", session_key("custom", CAROL), session_key("custom", CAROL), body("carol", C_S))
            .shared()
            .describe(Describe::Pages(vec![vec![(C_S, "carol", "ACTIVE", "API")]]))
            .puts(vec![(url_key("custom", CAROL), NotAuthorised)]).logs(vec![("rejected", "not_listed")]),
        one("this sandbox's file is answered next to it", sandbox_session_key("custom", ALICE, STACK), sandbox_session_key("custom", ALICE, STACK), body("alice", A_S))
            .puts(vec![(sandbox_url_key("custom", ALICE, STACK), Url(ALICE_NB))]).logs(vec![("issued", "session_active")]),
        one("another sandbox's file is skipped: nothing read, nothing written", sandbox_session_key("custom", ALICE, "other-stack"), sandbox_session_key("custom", ALICE, "other-stack"), body("alice", A_S))
            .puts(vec![]).logs(vec![("skipped", "other_sandbox")]),
        one("this sandbox's file in another user's folder gets no write", sandbox_session_key("custom", ALICE, STACK), sandbox_session_key("custom", ALICE, STACK), body("mallory", A_S))
            .puts(vec![]).logs(vec![("rejected", "user_mismatch")]),
        one("shared mode: the stopped shared notebook is started, then the URL is issued", a(), a(), body("alice", A_S))
            .shared().notebook(SHARED, Some("Stopped>Pending>InService")).starts(1)
            .puts(vec![(url_key("custom", ALICE), Starting), (url_key("custom", ALICE), Url(SHARED))]).logs(vec![("issued", "session_active")]),
    ]
}

#[tokio::test]
async fn every_case_writes_exactly_what_it_should() {
    let all = cases();
    assert!(all.len() >= 25, "{} cases", all.len());
    for case in &all {
        let config = if case.shared {
            ValidatorConfig { notebooks: Notebooks::Shared(SHARED.into()), ..config() }
        } else {
            config()
        };
        let calls = Arc::new(Mutex::new(Calls::default()));
        let (clients, _) = clients(case, &calls);
        let records: Vec<EventRecord> = case
            .records
            .iter()
            .map(|(bucket, key)| EventRecord {
                bucket: (*bucket).into(),
                key: key.clone(),
                encoding: KeyEncoding::FormUrl,
            })
            .collect();
        let mut lines = Vec::new();
        let result = handle_records(&clients, &config, &records, Some("req-1"), |log| {
            lines.push(log.to_json_line());
        })
        .await;
        let name = case.name;
        assert_eq!(result.is_err(), case.fails, "{name}: {result:?}");
        let calls = calls.lock().expect("lock");

        let puts: Vec<(String, Kind)> = calls
            .puts
            .iter()
            .map(|p| {
                assert_eq!(p.bucket, BUCKET, "{name}");
                assert_eq!(p.sse.as_deref(), Some("AES256"), "{name}");
                assert_eq!(p.owner.as_deref(), Some("123456789012"), "{name}");
                let kind = if let Some(nb) = [ALICE_NB, BOB_NB, SHARED].into_iter().find(|nb| p.body == url(nb)) {
                    Kind::Url(nb)
                } else if p.body.starts_with("NOT AUTHORISED: ") {
                    assert!(p.body.contains("not authorised for this sandbox"), "{name}: {}", p.body);
                    assert!(p.body.contains("Ask the sandbox's administrator to add you"), "{name}: {}", p.body);
                    Kind::NotAuthorised
                } else if p.body.starts_with("STARTING: ") {
                    assert!(p.body.contains("the notebook opens when it is ready"), "{name}: {}", p.body);
                    Kind::Starting
                } else if p.body.starts_with("NOTEBOOK UNAVAILABLE: ") {
                    if p.body.contains("has failed") {
                        assert!(
                            p.body.contains("ResourceLimitExceeded: no ml.t3.medium capacity"),
                            "{name}: {}",
                            p.body
                        );
                    }
                    assert!(
                        p.body.contains("Ask the sandbox's administrator") || p.body.contains("Wait a few minutes"),
                        "{name}: {}",
                        p.body
                    );
                    Kind::Unavailable
                } else {
                    assert_eq!(p.body, INVALID_SESSION_MESSAGE, "{name}");
                    Kind::Invalid
                };
                (p.key.clone(), kind)
            })
            .collect();
        assert_eq!(puts, case.puts, "{name}: PutObject calls");

        let issued_notebooks: Vec<&str> =
            case.puts.iter().filter_map(|(_, k)| if let Kind::Url(nb) = k { Some(*nb) } else { None }).collect();
        let logs: Vec<(String, String)> = lines
            .iter()
            .map(|line| {
                assert!(!line.contains("SECRET") && !line.contains("authToken"), "{name}: {line}");
                let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
                assert_eq!(v["request_id"], "req-1", "{name}");
                // An issued line names the notebook of the URL written, never the URL.
                if v["outcome"] == "issued" {
                    let nb = v["notebook"].as_str().unwrap_or_default();
                    assert!(issued_notebooks.contains(&nb), "{name}: {line}");
                }
                (
                    v["outcome"].as_str().unwrap_or_default().to_owned(),
                    v["reason"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let want: Vec<(String, String)> = case.logs.iter().map(|(o, r)| ((*o).into(), (*r).into())).collect();
        assert_eq!(logs, want, "{name}: log lines");

        for (key, range, owner) in &calls.gets {
            assert!(key.starts_with("user/"), "{name}: read {key}");
            assert_eq!(range.as_deref(), Some(SESSION_FILE_RANGE), "{name}");
            assert_eq!(owner.as_deref(), Some("123456789012"), "{name}");
        }
        for (stack, fleet, _, _, _) in &calls.describes {
            assert_eq!((stack.as_str(), fleet.as_str()), (STACK, FLEET), "{name}");
        }
        let presigned: Vec<&str> = calls
            .presigns
            .iter()
            .map(|(notebook, secs)| {
                assert_eq!(*secs, Some(1800), "{name}");
                notebook.as_str()
            })
            .collect();
        let issued = case.logs.iter().filter(|(o, _)| *o == "issued").count();
        let presign_expected = issued + usize::from(case.presign_fails);
        assert_eq!(calls.presigns.len(), presign_expected, "{name}: presign calls");
        if !case.presign_fails {
            assert_eq!(presigned, issued_notebooks, "{name}: only the granted notebooks are presigned");
        }
        // The allow list is read only for proven users, under the configured prefix, without
        // decryption; a notebook is described only once it was granted.
        for (parameter, decrypt) in &calls.parameters {
            let hash = parameter.strip_prefix(PREFIX).unwrap_or_default();
            assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{name}: {parameter}");
            assert_ne!(*decrypt, Some(true), "{name}");
        }
        let proven = case
            .logs
            .iter()
            .filter(|(_, r)| {
                matches!(
                    *r,
                    "session_active"
                        | "not_listed"
                        | "allow_list_failed"
                        | "describe_notebook_failed"
                        | "start_notebook_failed"
                        | "presign_failed"
                ) || r.starts_with("entry_")
                    || r.starts_with("notebook_")
            })
            .count();
        assert_eq!(calls.parameters.len(), proven, "{name}: {:?}", calls.parameters);
        assert_eq!(calls.starts.len(), case.starts, "{name}: StartNotebookInstance calls {:?}", calls.starts);
        let rejected_by_entry = case.logs.iter().any(|(_, r)| r.starts_with("not_listed") || r.starts_with("entry_"));
        if rejected_by_entry && case.records.len() == 1 {
            assert!(calls.notebook_describes.is_empty() && calls.presigns.is_empty(), "{name}");
        }
    }
}

#[tokio::test]
async fn describe_sessions_asks_for_the_user_and_type_on_every_page() {
    let case = one("paging", session_key("federated", ALICE), session_key("federated", ALICE), body("alice", A_S))
        .entry(ALICE, Param::Entry("alice", "saml", ALICE_NB))
        .describe(Describe::Pages(vec![
            vec![],
            vec![("x", "alice", "ACTIVE", "SAML")],
            vec![(A_S, "alice", "ACTIVE", "SAML")],
        ]));
    let calls = Arc::new(Mutex::new(Calls::default()));
    let (clients, _) = clients(&case, &calls);
    let records =
        [EventRecord { bucket: BUCKET.into(), key: case.records[0].1.clone(), encoding: KeyEncoding::FormUrl }];
    let verdicts = handle_records(&clients, &config(), &records, None, |_| {}).await.expect("served");
    assert_eq!(verdicts[0].reason(), "session_active");
    let calls = calls.lock().expect("lock");
    let tokens: Vec<Option<&str>> = calls.describes.iter().map(|d| d.4.as_deref()).collect();
    assert_eq!(tokens, [None, Some("page-1"), Some("page-2")]);
    for d in &calls.describes {
        assert_eq!((d.2.as_str(), d.3.as_str()), ("alice", "SAML"));
    }
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk() {
    let case = one("throttled", session_key("custom", ALICE), session_key("custom", ALICE), body("alice", A_S))
        .describe(Describe::ThrottledThen(2, vec![vec![(A_S, "alice", "ACTIVE", "API")]]));
    let calls = Arc::new(Mutex::new(Calls::default()));
    let (clients, describe) = clients(&case, &calls);
    let records =
        [EventRecord { bucket: BUCKET.into(), key: case.records[0].1.clone(), encoding: KeyEncoding::FormUrl }];
    let verdicts = handle_records(&clients, &config(), &records, None, |_| {}).await.expect("served");
    assert_eq!(verdicts[0].reason(), "session_active");
    assert_eq!(describe.num_calls(), 3, "2 throttled + 1 answered");
}

#[test]
fn the_bucket_owner_comes_from_the_bucket_name() {
    assert_eq!(sandboxc_lambda::validate::home_bucket_owner(BUCKET), Some("123456789012"));
    assert_eq!(sandboxc_lambda::validate::home_bucket_owner("my-bucket"), None);
    assert_eq!(sandboxc_lambda::validate::home_bucket_owner("x-12345678901a"), None);
}

#[test]
fn s3_events_parse_into_records() {
    let event = serde_json::json!({"Records": [
        {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
         "eventTime": "2026-01-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
         "userIdentity": {"principalId": "AWS:X"}, "requestParameters": {"sourceIPAddress": "10.0.0.1"},
         "responseElements": {}, "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
            "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "X"}, "arn": "arn:aws:s3:::b"},
            "object": {"key": "user/custom/a+b/session.json", "size": 10, "eTag": "e", "sequencer": "1"}}}
    ]});
    let records = event_records(&event).expect("an S3 event");
    assert_eq!(
        records,
        [EventRecord {
            bucket: BUCKET.into(),
            key: "user/custom/a+b/session.json".into(),
            encoding: KeyEncoding::FormUrl
        }]
    );
    assert_eq!(event_records(&serde_json::json!([1, 2])), None);
}

#[test]
fn eventbridge_events_parse_into_one_record_with_the_key_as_given() {
    let key = sandbox_session_key("custom", ALICE, STACK);
    let event = serde_json::json!({
        "version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
        "source": "aws.s3", "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
        "resources": [format!("arn:aws:s3:::{BUCKET}")],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
            "object": {"key": key, "size": 120, "etag": "e", "sequencer": "1"},
            "request-id": "R", "requester": "123456789012", "reason": "PutObject"}
    });
    let records = event_records(&event).expect("an EventBridge event");
    assert_eq!(records, [EventRecord { bucket: BUCKET.into(), key, encoding: KeyEncoding::Raw }]);
    let mut deleted = event.clone();
    deleted["detail-type"] = "Object Deleted".into();
    assert_eq!(event_records(&deleted), None);
    let mut other_source = event;
    other_source["source"] = "aws.ec2".into();
    assert_eq!(event_records(&other_source), None);
}

#[tokio::test]
async fn another_sandbox_file_from_eventbridge_makes_no_aws_call_at_all() {
    let key = sandbox_session_key("federated", ALICE, "other-stack");
    let case = one("other sandbox", key.clone(), key.clone(), body("alice", A_S));
    let calls = Arc::new(Mutex::new(Calls::default()));
    let (clients, describe) = clients(&case, &calls);
    let records = [EventRecord { bucket: BUCKET.into(), key, encoding: KeyEncoding::Raw }];
    let mut lines = Vec::new();
    let verdicts =
        handle_records(&clients, &config(), &records, None, |log| lines.push(log.to_json_line())).await.expect("ok");
    assert_eq!((verdicts[0].reason(), verdicts[0].write.is_none()), ("other_sandbox", true));
    assert_eq!(describe.num_calls(), 0);
    let calls = calls.lock().expect("lock");
    assert!(calls.gets.is_empty() && calls.puts.is_empty() && calls.parameters.is_empty(), "no read, no write");
    assert_eq!(lines.len(), 1);
    assert!(lines[0].starts_with(r#"{"outcome":"skipped","reason":"other_sandbox","user_hash":""#), "{}", lines[0]);
}

#[tokio::test]
async fn throttling_past_the_retries_fails_the_invocation_with_the_aws_error() {
    let case = one("throttled", session_key("custom", ALICE), session_key("custom", ALICE), body("alice", A_S))
        .describe(Describe::ThrottledThen(3, vec![vec![(A_S, "alice", "ACTIVE", "API")]]));
    let calls = Arc::new(Mutex::new(Calls::default()));
    let (clients, describe) = clients(&case, &calls);
    let records =
        [EventRecord { bucket: BUCKET.into(), key: case.records[0].1.clone(), encoding: KeyEncoding::FormUrl }];
    let error = handle_records(&clients, &config(), &records, None, |_| {}).await.expect_err("fails");
    assert_eq!(describe.num_calls(), 3, "the SDK's 3 attempts");
    assert_eq!(error.failures.len(), 1);
    assert_eq!(error.failures[0].detail, "ThrottlingException: Rate exceeded");
    assert!(calls.lock().expect("lock").puts.is_empty());
}

#[test]
fn every_client_has_timeouts() {
    use std::time::Duration;
    let timeouts = sandboxc_lambda::validate::timeout_config();
    assert_eq!(timeouts.connect_timeout(), Some(Duration::from_secs(3)));
    assert_eq!(timeouts.operation_attempt_timeout(), Some(Duration::from_secs(5)));
    assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(10)));
}
