//! The validator's AWS side: one event in (an EventBridge `Object Created` event from the
//! home-folder bucket, or an S3 notification event of earlier versions, [`event_records`]), per
//! record one [`Verdict`] and at most one `PutObject` of `session_url.txt`.
//!
//! The decision itself is [`RecordCheck`]'s; this module only performs the AWS calls in
//! between, through the [`ValidatorClients`] (real SDK clients; tests script them with
//! `aws-smithy-mocks`):
//!
//! 1. S3 `GetObject` with `Range: bytes=0-16384` (at most 16 KiB + 1 byte, enough to see
//!    that a file is too large);
//! 2. AppStream `DescribeSessions` for the configured stack and fleet, the claimed user and
//!    the folder's authentication type, every page (`NextToken`);
//! 3. SSM `GetParameter` of the proven user's allow-list entry,
//!    `<SANDBOX_ALLOW_LIST_PREFIX><user hash>` (no decryption: the entry is a `String`);
//! 4. SageMaker `DescribeNotebookInstance` of the granted notebook; when it is `Stopped`,
//!    `StartNotebookInstance` (once), an interim answer ([`STARTING_PREFIX`]) into the answer
//!    file, and `DescribeNotebookInstance` every `NOTEBOOK_START_POLL_SECONDS` until it is
//!    `InService` or `NOTEBOOK_START_DEADLINE_SECONDS` have passed (`Stopping`: waited on until
//!    `Stopped`, then started; `Pending` and `Updating`: waited on, never started again;
//!    `Failed`: an `error` with SageMaker's `FailureReason`; too late: an `error`,
//!    `notebook_start_timeout`, with a message saying so);
//! 5. SageMaker `CreatePresignedNotebookInstanceUrl` for that notebook with the configured
//!    session expiration;
//! 6. S3 `PutObject` of the URL, or of the verdict's message, with SSE-S3 (`AES256`) into the
//!    same home folder.
//!
//! Both S3 calls name the bucket's owner ([`home_bucket_owner`]). Every client has the
//! timeouts of [`timeout_config`].
//!
//! An AWS error left after the SDK's own retries is logged as outcome `error`, nothing is
//! written for that record (a later retry of the event may still succeed, and the user must
//! not first see an invalid-session message), and the invocation fails once every record
//! has been tried, so S3's asynchronous retries and the dead-letter queue keep the event.
//! The answers that are not failures of a call (no allow-list entry, a damaged entry, a
//! missing or stopped notebook) are decisions: logged, their message written, and the
//! invocation succeeds (retrying the event would give the same answer).

use std::fmt;

use aws_lambda_events::event::s3::S3Event;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use sandboxc_contract::validator::STARTING_PREFIX;

use crate::allow_list::{EntryAnswer, NotebookState, IN_SERVICE};
use crate::config::ValidatorConfig;
use crate::decision::{DecisionLine, ErrorStage, Grant, KeyEncoding, Outcome, RecordCheck, Verdict};
use crate::session_file::{SessionClaim, MAX_SESSION_FILE_BYTES};
use crate::session_key::SessionKey;
use crate::sessions::{Session, SessionState};

/// The `Range` header of the session-file read: bytes 0..=16384, one more than
/// [`MAX_SESSION_FILE_BYTES`], so a longer object shows up as `too_large`.
pub const SESSION_FILE_RANGE: &str = "bytes=0-16384";

/// Most `DescribeSessions` pages read for one record (50 sessions a page at most); a
/// `NextToken` that never ends is an error, not an endless loop.
pub const MAX_SESSION_PAGES: usize = 1000;

/// `Content-Type` of `session_url.txt`.
pub const URL_FILE_CONTENT_TYPE: &str = "text/plain; charset=utf-8";

/// The account that must own the home-folder bucket: the last `-`-separated part of its
/// name (`appstream2-36fb080bb8-<region>-<account>`, docs/aws-facts.md, "Home folders") when that is 12 digits.
/// Sent as `ExpectedBucketOwner`, so a bucket of that name in another account (S3 names
/// are global) is never read or written.
pub fn home_bucket_owner(bucket: &str) -> Option<&str> {
    bucket.rsplit('-').next().filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// Seconds to open a connection to an AWS endpoint.
pub const CONNECT_TIMEOUT_SECONDS: u64 = 3;
/// Seconds for one attempt of one call.
pub const ATTEMPT_TIMEOUT_SECONDS: u64 = 5;
/// Seconds for one call, the SDK's retries included. A record makes at most six calls (plus
/// further `DescribeSessions` pages), well within the function's timeout for the usual one
/// record per event.
pub const CALL_TIMEOUT_SECONDS: u64 = 10;

/// The timeouts of every validator client: [`CONNECT_TIMEOUT_SECONDS`],
/// [`ATTEMPT_TIMEOUT_SECONDS`], [`CALL_TIMEOUT_SECONDS`]. Without them a stalled connection
/// would hold the invocation until the function's own timeout, and the record would be logged
/// by nobody.
pub fn timeout_config() -> aws_config::timeout::TimeoutConfig {
    use std::time::Duration;
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECONDS))
        .operation_attempt_timeout(Duration::from_secs(ATTEMPT_TIMEOUT_SECONDS))
        .operation_timeout(Duration::from_secs(CALL_TIMEOUT_SECONDS))
        .build()
}

/// The four SDK clients the validator calls. Cheap to clone (each is an `Arc` inside).
#[derive(Debug, Clone)]
pub struct ValidatorClients {
    /// S3: `GetObject` of `session.json`, `PutObject` of `session_url.txt`.
    pub s3: aws_sdk_s3::Client,
    /// AppStream: `DescribeSessions`.
    pub appstream: aws_sdk_appstream::Client,
    /// SSM: `GetParameter` of the allow-list entry.
    pub ssm: aws_sdk_ssm::Client,
    /// SageMaker: `DescribeNotebookInstance`, `CreatePresignedNotebookInstanceUrl`.
    pub sagemaker: aws_sdk_sagemaker::Client,
}

impl ValidatorClients {
    /// The clients of one SDK configuration (in the Lambda: the environment's credentials and
    /// Region, with [`timeout_config`]).
    pub fn from_conf(sdk: &aws_config::SdkConfig) -> ValidatorClients {
        ValidatorClients {
            s3: aws_sdk_s3::Client::new(sdk),
            appstream: aws_sdk_appstream::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            sagemaker: aws_sdk_sagemaker::Client::new(sdk),
        }
    }
}

/// One failed AWS call: which step, and the SDK's error text (code and message, never a
/// URL or file content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsFailure {
    /// The step that failed.
    pub stage: ErrorStage,
    /// The SDK error, e.g. `ThrottlingException: Rate exceeded`.
    pub detail: String,
}

impl fmt::Display for AwsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage.code(), self.detail)
    }
}

/// The invocation's error: every record whose AWS calls failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvocationError {
    /// One entry per failed record, in event order.
    pub failures: Vec<AwsFailure>,
}

impl fmt::Display for InvocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of the event's records failed on AWS calls:", self.failures.len())?;
        for failure in &self.failures {
            write!(f, " {failure};")?;
        }
        Ok(())
    }
}

/// One record's bucket and key as received (`s3.bucket.name` and `s3.object.key` of an S3
/// notification record, `detail.bucket.name` and `detail.object.key` of an EventBridge event);
/// a missing field is the empty string (and is then rejected by the checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// The bucket's name.
    pub bucket: String,
    /// The object key, written as `encoding` says.
    pub key: String,
    /// How the event writes the key.
    pub encoding: KeyEncoding,
}

/// `source` of the S3 events EventBridge delivers (S3 user guide, "EventBridge event message
/// structure").
pub const EVENTBRIDGE_S3_SOURCE: &str = "aws.s3";
/// `detail-type` of an object creation delivered by EventBridge (S3 user guide, "Using
/// EventBridge": `Object Created`).
pub const EVENTBRIDGE_OBJECT_CREATED: &str = "Object Created";

/// The records of an event, or `None` when the payload is neither an S3 notification event
/// (`Records`, as `aws_lambda_events` reads it; the dispatch of earlier versions) nor an
/// EventBridge `Object Created` event from S3 (one record; this version's dispatch). The
/// validator takes both, so that a sandbox moving from the one to the other in one apply loses
/// no session file.
pub fn event_records(payload: &serde_json::Value) -> Option<Vec<EventRecord>> {
    if payload.get("detail-type").is_some() || payload.get("source").is_some() {
        return eventbridge_record(payload).map(|record| vec![record]);
    }
    let event = <S3Event as serde::Deserialize>::deserialize(payload).ok()?;
    Some(
        event
            .records
            .into_iter()
            .map(|r| EventRecord {
                bucket: r.s3.bucket.name.unwrap_or_default(),
                key: r.s3.object.key.unwrap_or_default(),
                encoding: KeyEncoding::FormUrl,
            })
            .collect(),
    )
}

/// The one record of an EventBridge `Object Created` event from S3, or `None` for any other
/// event (another source, another detail type).
fn eventbridge_record(payload: &serde_json::Value) -> Option<EventRecord> {
    if payload.get("source")?.as_str()? != EVENTBRIDGE_S3_SOURCE
        || payload.get("detail-type")?.as_str()? != EVENTBRIDGE_OBJECT_CREATED
    {
        return None;
    }
    let detail = payload.get("detail")?;
    let text =
        |value: Option<&serde_json::Value>| value.and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    Some(EventRecord {
        bucket: text(detail.pointer("/bucket/name")),
        key: text(detail.pointer("/object/key")),
        encoding: KeyEncoding::Raw,
    })
}

/// The log line for a payload that is not an S3 event: rejected, nothing written.
pub fn bad_event_log(request_id: Option<&str>) -> DecisionLine {
    DecisionLine {
        outcome: Outcome::Rejected,
        reason: "bad_event".into(),
        user_hash: None,
        session_id: None,
        notebook: None,
        request_id: request_id.map(str::to_owned),
        bucket: String::new(),
        key: String::new(),
    }
}

/// Handles every record of one event, in order, calling `log` once per record with its
/// decision. Returns the verdicts (for tests), or the AWS failures once every record has
/// been tried.
pub async fn handle_records(
    clients: &ValidatorClients,
    config: &ValidatorConfig,
    records: &[EventRecord],
    request_id: Option<&str>,
    mut log: impl FnMut(&DecisionLine),
) -> Result<Vec<Verdict>, InvocationError> {
    let mut verdicts = Vec::with_capacity(records.len());
    let mut failures = Vec::new();
    for record in records {
        let check =
            RecordCheck { config, bucket: &record.bucket, raw_key: &record.key, encoding: record.encoding, request_id };
        let (verdict, failure) = handle_record(clients, config, &check).await;
        log(&verdict.log);
        failures.extend(failure);
        verdicts.push(verdict);
    }
    if failures.is_empty() {
        Ok(verdicts)
    } else {
        Err(InvocationError { failures })
    }
}

/// One record: the verdict, and the AWS failure if the record ended in a failed call (then
/// the verdict's write has not been made).
async fn handle_record(
    clients: &ValidatorClients,
    config: &ValidatorConfig,
    check: &RecordCheck<'_>,
) -> (Verdict, Option<AwsFailure>) {
    let key = match check.key() {
        Ok(key) => key,
        Err(verdict) => return (verdict, None),
    };
    let fail =
        |verdict: Verdict, stage, detail| (Verdict { write: None, ..verdict }, Some(AwsFailure { stage, detail }));
    let body = match read_session_file(&clients.s3, config, &key).await {
        Ok(body) => body,
        Err(detail) => return fail(check.error(ErrorStage::Read, Some(&key), None), ErrorStage::Read, detail),
    };
    let claim = match check.file(&key, &body) {
        Ok(claim) => claim,
        Err(verdict) => return write_verdict(clients, config, check, verdict, None).await,
    };
    let stage_error = |stage| check.error(stage, Some(&key), Some(&claim));
    let pages = match describe_sessions(&clients.appstream, config, &claim).await {
        Ok(pages) => pages,
        Err(detail) => return fail(stage_error(ErrorStage::DescribeSessions), ErrorStage::DescribeSessions, detail),
    };
    let proven = match check.session(&claim, pages) {
        Ok(proven) => proven,
        Err(verdict) => return write_verdict(clients, config, check, verdict, None).await,
    };
    let answer = match allow_list_entry(&clients.ssm, &config.allow_list_parameter(&key.user_hash.to_hex())).await {
        Ok(answer) => answer,
        Err(detail) => return fail(stage_error(ErrorStage::AllowList), ErrorStage::AllowList, detail),
    };
    let grant = match check.allow_list(&proven, &answer) {
        Ok(grant) => grant,
        Err(verdict) => return write_verdict(clients, config, check, verdict, None).await,
    };
    let granted_error = |stage| check.error_with_grant(stage, &grant);
    let state = match bring_into_service(clients, config, &grant).await {
        Ok(state) => state,
        Err((stage, detail)) => return fail(granted_error(stage), stage, detail),
    };
    if let Err(verdict) = check.notebook(&grant, &state) {
        return write_verdict(clients, config, check, verdict, None).await;
    }
    let url = match presign(&clients.sagemaker, config, &grant).await {
        Ok(url) => url,
        Err(detail) => return fail(granted_error(ErrorStage::Presign), ErrorStage::Presign, detail),
    };
    write_verdict(clients, config, check, check.issued(&grant), Some(url)).await
}

/// The granted notebook's state once it is `InService`, or why it is not: SageMaker
/// `DescribeNotebookInstance`; a `Stopped` notebook is started (`StartNotebookInstance`, once
/// per record; a start SageMaker refuses with `ValidationException` because another invocation
/// started it first counts as started), the user is told in the answer file that it is starting
/// ([`tell_starting`]), and the notebook is described again every
/// [`crate::config::NotebookWaiting::poll`] until it is `InService`, `Failed`, gone, or the
/// deadline ([`crate::config::NotebookWaiting::deadline`]) passed
/// ([`NotebookState::StartTimedOut`]). `Stopping`, `Pending` and `Updating` are waited on.
async fn bring_into_service(
    clients: &ValidatorClients,
    config: &ValidatorConfig,
    grant: &Grant,
) -> Result<NotebookState, (ErrorStage, String)> {
    let waiting = config.waiting;
    let began = tokio::time::Instant::now();
    let (mut started, mut told) = (false, false);
    loop {
        let state = describe_notebook(&clients.sagemaker, grant.notebook())
            .await
            .map_err(|detail| (ErrorStage::DescribeNotebook, detail))?;
        let NotebookState::Status(status) = &state else { return Ok(state) };
        match status.as_str() {
            IN_SERVICE => return Ok(state),
            "Stopped" if !started => {
                start_notebook(&clients.sagemaker, grant.notebook())
                    .await
                    .map_err(|detail| (ErrorStage::StartNotebook, detail))?;
                started = true;
            }
            // Stopping: started once it is Stopped; Pending, Updating: someone started or is
            // changing it; Stopped after our own start: SageMaker has not moved it yet.
            "Stopped" | "Stopping" | "Pending" | "Updating" => {}
            // Deleting, or a status this version does not know: not in service.
            _ => return Ok(state),
        }
        if !told {
            tell_starting(clients, config, grant, status).await;
            told = true;
        }
        let waited = began.elapsed();
        if waited + waiting.poll > waiting.deadline {
            let waited_seconds = u32::try_from(waited.as_secs()).unwrap_or(u32::MAX);
            return Ok(NotebookState::StartTimedOut { status: status.clone(), waited_seconds });
        }
        tokio::time::sleep(waiting.poll).await;
    }
}

/// The interim answer written while the notebook starts: [`STARTING_PREFIX`], what happens and
/// how long it may take. The notebook script shows it and keeps waiting for the final answer,
/// which overwrites it. A failed write is not an error of the record (the final answer follows).
pub fn starting_message(notebook: &str, status: &str, deadline_seconds: u64) -> String {
    let what = if status == "Stopped" {
        format!("your notebook {notebook} was stopped (it stops itself when idle) and is being started now")
    } else {
        format!("your notebook {notebook} is {status}; it is started as soon as it can be")
    };
    format!(
        "{STARTING_PREFIX} {what}. This takes a few minutes (at most about {} minutes); the notebook opens when it is ready.\n",
        deadline_seconds.div_ceil(60)
    )
}

async fn tell_starting(clients: &ValidatorClients, config: &ValidatorConfig, grant: &Grant, status: &str) {
    let message = starting_message(grant.notebook(), status, config.waiting.deadline.as_secs());
    let _ = put_answer(clients, config, &grant.claim().key.url_key(), message).await;
}

/// SageMaker `StartNotebookInstance`; a `ValidationException` (SageMaker refuses to start a
/// notebook that is not `Stopped` or `Failed`: another invocation started it) is not a failure.
async fn start_notebook(sagemaker: &aws_sdk_sagemaker::Client, notebook: &str) -> Result<(), String> {
    match sagemaker.start_notebook_instance().notebook_instance_name(notebook).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ValidationException") => Ok(()),
        Err(e) => Err(sdk_detail(&e)),
    }
}

/// `PutObject` of an answer (SSE-S3, the bucket's owner expected) at `key`.
async fn put_answer(
    clients: &ValidatorClients,
    config: &ValidatorConfig,
    key: &str,
    body: String,
) -> Result<(), String> {
    clients
        .s3
        .put_object()
        .bucket(&config.home_folder_bucket)
        .set_expected_bucket_owner(home_bucket_owner(&config.home_folder_bucket).map(str::to_owned))
        .key(key)
        .content_type(URL_FILE_CONTENT_TYPE)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_detail(&e))
}

/// Makes the verdict's write, if any: the URL for [`crate::decision::WriteBody::PresignedUrl`] (which must
/// then be `Some`), the verdict's message otherwise.
async fn write_verdict(
    clients: &ValidatorClients,
    config: &ValidatorConfig,
    check: &RecordCheck<'_>,
    verdict: Verdict,
    url: Option<String>,
) -> (Verdict, Option<AwsFailure>) {
    let Some(write) = &verdict.write else {
        return (verdict, None);
    };
    let body = match (write.body.message(), url) {
        (Some(message), _) => message,
        (None, Some(url)) => url,
        (None, None) => {
            // Not reachable through `handle_record`; never write a URL file without a URL.
            let failure = AwsFailure { stage: ErrorStage::Presign, detail: "no URL to write".into() };
            let verdict = Verdict { write: None, ..check.error(ErrorStage::Presign, None, None) };
            return (verdict, Some(failure));
        }
    };
    match put_answer(clients, config, &write.key, body).await {
        Ok(()) => (verdict, None),
        Err(detail) => {
            // The line of the decision that could not be delivered, as a failed write.
            let log = DecisionLine { outcome: Outcome::Error, reason: ErrorStage::Write.code().into(), ..verdict.log };
            (Verdict { log, write: None }, Some(AwsFailure { stage: ErrorStage::Write, detail }))
        }
    }
}

/// The first [`MAX_SESSION_FILE_BYTES`] + 1 bytes of the session file (a ranged
/// `GetObject`; the body is also cut there, whatever the server sends). An empty object
/// answers a ranged read with `416 InvalidRange`: that is an empty body.
async fn read_session_file(
    s3: &aws_sdk_s3::Client,
    config: &ValidatorConfig,
    key: &SessionKey,
) -> Result<Vec<u8>, String> {
    let limit = MAX_SESSION_FILE_BYTES + 1;
    let output = s3
        .get_object()
        .bucket(&config.home_folder_bucket)
        .set_expected_bucket_owner(home_bucket_owner(&config.home_folder_bucket).map(str::to_owned))
        .key(key.session_key())
        .range(SESSION_FILE_RANGE)
        .send()
        .await;
    let mut body = match output {
        Ok(output) => output.body,
        Err(e) if e.code() == Some("InvalidRange") => return Ok(Vec::new()),
        Err(e) => return Err(sdk_detail(&e)),
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = body.try_next().await.map_err(|e| format!("reading the object body: {e}"))? {
        let room = limit.saturating_sub(bytes.len());
        bytes.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if bytes.len() >= limit {
            break;
        }
    }
    Ok(bytes)
}

/// Every page of `DescribeSessions` for the claim's user, as [`Session`]s.
async fn describe_sessions(
    appstream: &aws_sdk_appstream::Client,
    config: &ValidatorConfig,
    claim: &SessionClaim,
) -> Result<Vec<Vec<Session>>, String> {
    use aws_sdk_appstream::types::AuthenticationType;
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_SESSION_PAGES {
        let output = appstream
            .describe_sessions()
            .stack_name(&config.stack_name)
            .fleet_name(&config.fleet_name)
            .user_id(&claim.user)
            .authentication_type(AuthenticationType::from(claim.authentication_type()))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| sdk_detail(&e))?;
        pages.push(
            output
                .sessions()
                .iter()
                .map(|s| Session {
                    // A session without these fields can never match a claim.
                    id: s.id().unwrap_or_default().to_owned(),
                    user_id: s.user_id().unwrap_or_default().to_owned(),
                    state: SessionState::from(s.state().map_or("", |st| st.as_str())),
                    authentication_type: s.authentication_type().map(|t| t.as_str().to_owned()),
                })
                .collect(),
        );
        match output.next_token() {
            Some(next) if !next.is_empty() => token = Some(next.to_owned()),
            _ => return Ok(pages),
        }
    }
    Err(format!("DescribeSessions returned more than {MAX_SESSION_PAGES} pages"))
}

/// The proven user's allow-list entry: SSM `GetParameter` of `name`; `ParameterNotFound` is
/// [`EntryAnswer::NotFound`], any other error a failure.
async fn allow_list_entry(ssm: &aws_sdk_ssm::Client, name: &str) -> Result<EntryAnswer, String> {
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    match ssm.get_parameter().name(name).with_decryption(false).send().await {
        Ok(output) => {
            let parameter = output.parameter();
            Ok(EntryAnswer::Found {
                parameter_type: parameter.and_then(|p| p.r#type()).map_or("", |t| t.as_str()).to_owned(),
                value: parameter.and_then(|p| p.value()).unwrap_or_default().to_owned(),
            })
        }
        Err(e) if matches!(e.as_service_error(), Some(GetParameterError::ParameterNotFound(_))) => {
            Ok(EntryAnswer::NotFound)
        }
        Err(e) => Err(sdk_detail(&e)),
    }
}

/// The notebook's state: SageMaker `DescribeNotebookInstance`; its `ValidationException`
/// (SageMaker's answer for a name it does not know, `RecordNotFound`) is
/// [`NotebookState::Missing`], any other error a failure.
async fn describe_notebook(sagemaker: &aws_sdk_sagemaker::Client, notebook: &str) -> Result<NotebookState, String> {
    match sagemaker.describe_notebook_instance().notebook_instance_name(notebook).send().await {
        Ok(output) => {
            let status = output.notebook_instance_status().map_or("", |s| s.as_str()).to_owned();
            if status == "Failed" {
                return Ok(NotebookState::Failed(output.failure_reason().unwrap_or_default().to_owned()));
            }
            Ok(NotebookState::Status(status))
        }
        Err(e) if e.code() == Some("ValidationException") => Ok(NotebookState::Missing),
        Err(e) => Err(sdk_detail(&e)),
    }
}

/// A pre-signed URL for the granted notebook instance.
async fn presign(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &ValidatorConfig,
    grant: &Grant,
) -> Result<String, String> {
    let seconds =
        i32::try_from(config.session_expiration_seconds).map_err(|_| "session expiration out of range".to_owned())?;
    let output = sagemaker
        .create_presigned_notebook_instance_url()
        .notebook_instance_name(grant.notebook())
        .session_expiration_duration_in_seconds(seconds)
        .send()
        .await
        .map_err(|e| sdk_detail(&e))?;
    match output.authorized_url() {
        Some(url) if !url.is_empty() => Ok(url.to_owned()),
        _ => Err("CreatePresignedNotebookInstanceUrl returned no AuthorizedUrl".into()),
    }
}

/// `Code: message` of an SDK error when the service sent one, else the error's own text
/// (timeouts, dispatch failures), with its source chain.
pub fn sdk_detail<E, R>(error: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_owned(),
        _ => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            text
        }
    }
}
