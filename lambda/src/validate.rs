//! The validator's AWS side: one S3 event in, per record one [`Verdict`] and at most one
//! `PutObject` of `session_url.txt`.
//!
//! The decision itself is [`RecordCheck`]'s; this module only performs the AWS calls in
//! between, through the [`ValidatorClients`] (real SDK clients; tests script them with
//! `aws-smithy-mocks`):
//!
//! 1. S3 `GetObject` with `Range: bytes=0-16384` (at most 16 KiB + 1 byte, enough to see
//!    that a file is too large);
//! 2. AppStream `DescribeSessions` for the configured stack and fleet, the claimed user and
//!    the folder's authentication type, every page (`NextToken`);
//! 3. SageMaker `CreatePresignedNotebookInstanceUrl` with the configured notebook and
//!    session expiration;
//! 4. S3 `PutObject` of the URL, or of [`INVALID_SESSION_MESSAGE`], with SSE-S3 (`AES256`)
//!    into the same home folder.
//!
//! Both S3 calls name the bucket's owner ([`home_bucket_owner`]).
//!
//! An AWS error left after the SDK's own retries is logged as outcome `error`, nothing is
//! written for that record (a later retry of the event may still succeed, and the user must
//! not first see an invalid-session message), and the invocation fails once every record
//! has been tried, so S3's asynchronous retries and the dead-letter queue keep the event.

use std::fmt;

use aws_lambda_events::event::s3::S3Event;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use crate::config::ValidatorConfig;
use crate::decision::{DecisionLine, ErrorStage, Outcome, RecordCheck, Verdict, WriteBody, INVALID_SESSION_MESSAGE};
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

/// The three SDK clients the validator calls. Cheap to clone (each is an `Arc` inside).
#[derive(Debug, Clone)]
pub struct ValidatorClients {
    /// S3: `GetObject` of `session.json`, `PutObject` of `session_url.txt`.
    pub s3: aws_sdk_s3::Client,
    /// AppStream: `DescribeSessions`.
    pub appstream: aws_sdk_appstream::Client,
    /// SageMaker: `CreatePresignedNotebookInstanceUrl`.
    pub sagemaker: aws_sdk_sagemaker::Client,
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

/// One record's bucket and key as received (`s3.bucket.name`, `s3.object.key`); a missing
/// field is the empty string (and is then rejected by the checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// `s3.bucket.name`.
    pub bucket: String,
    /// `s3.object.key`, still form-URL-encoded.
    pub key: String,
}

/// The records of an S3 event as `aws_lambda_events` reads it, or `None` when the payload
/// is not an S3 event at all.
pub fn event_records(payload: &serde_json::Value) -> Option<Vec<EventRecord>> {
    let event = <S3Event as serde::Deserialize>::deserialize(payload).ok()?;
    Some(
        event
            .records
            .into_iter()
            .map(|r| EventRecord {
                bucket: r.s3.bucket.name.unwrap_or_default(),
                key: r.s3.object.key.unwrap_or_default(),
            })
            .collect(),
    )
}

/// The log line for a payload that is not an S3 event: rejected, nothing written.
pub fn bad_event_log(request_id: Option<&str>) -> DecisionLine {
    DecisionLine {
        outcome: Outcome::Rejected,
        reason: "bad_event".into(),
        user_hash: None,
        session_id: None,
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
        let check = RecordCheck { config, bucket: &record.bucket, raw_key: &record.key, request_id };
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

/// One record: the verdict, and the AWS failure if the record ended in `error` (then the
/// verdict's write has not been made).
async fn handle_record(
    clients: &ValidatorClients,
    config: &ValidatorConfig,
    check: &RecordCheck<'_>,
) -> (Verdict, Option<AwsFailure>) {
    let key = match check.key() {
        Ok(key) => key,
        Err(verdict) => return (verdict, None),
    };
    let fail = |stage, key: Option<&SessionKey>, claim: Option<&SessionClaim>, detail| {
        (error_verdict(check, stage, key, claim), Some(AwsFailure { stage, detail }))
    };
    let body = match read_session_file(&clients.s3, config, &key).await {
        Ok(body) => body,
        Err(detail) => return fail(ErrorStage::Read, Some(&key), None, detail),
    };
    let claim = match check.file(&key, &body) {
        Ok(claim) => claim,
        Err(verdict) => return write_verdict(clients, config, check, verdict, None).await,
    };
    let pages = match describe_sessions(&clients.appstream, config, &claim).await {
        Ok(pages) => pages,
        Err(detail) => return fail(ErrorStage::DescribeSessions, Some(&key), Some(&claim), detail),
    };
    let verdict = check.session(&claim, pages);
    let url = if verdict.outcome() == Outcome::Issued {
        match presign(&clients.sagemaker, config).await {
            Ok(url) => Some(url),
            Err(detail) => {
                return fail(ErrorStage::Presign, Some(&key), Some(&claim), detail);
            }
        }
    } else {
        None
    };
    match write_verdict(clients, config, check, verdict, url).await {
        (verdict, None) => (verdict, None),
        (_, Some(failure)) => (error_verdict(check, ErrorStage::Write, Some(&key), Some(&claim)), Some(failure)),
    }
}

/// The `error` verdict of a failed step, without a write: nothing is written for a record
/// whose AWS calls failed (see the module docs).
fn error_verdict(
    check: &RecordCheck<'_>,
    stage: ErrorStage,
    key: Option<&SessionKey>,
    claim: Option<&SessionClaim>,
) -> Verdict {
    Verdict { write: None, ..check.error(stage, key, claim) }
}

/// Makes the verdict's write, if any: the URL for [`WriteBody::PresignedUrl`] (which must
/// then be `Some`), the invalid-session message otherwise.
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
    let body = match (write.body, url) {
        (WriteBody::PresignedUrl, Some(url)) => url,
        (WriteBody::PresignedUrl, None) => {
            // Not reachable through `handle_record`; never write a URL file without a URL.
            let failure = AwsFailure { stage: ErrorStage::Presign, detail: "no URL to write".into() };
            let verdict = error_verdict(check, ErrorStage::Presign, None, None);
            return (verdict, Some(failure));
        }
        (WriteBody::InvalidSession, _) => INVALID_SESSION_MESSAGE.to_owned(),
    };
    let put = clients
        .s3
        .put_object()
        .bucket(&config.home_folder_bucket)
        .set_expected_bucket_owner(home_bucket_owner(&config.home_folder_bucket).map(str::to_owned))
        .key(&write.key)
        .content_type(URL_FILE_CONTENT_TYPE)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .body(ByteStream::from(body.into_bytes()))
        .send()
        .await;
    match put {
        Ok(_) => (verdict, None),
        Err(e) => (verdict, Some(AwsFailure { stage: ErrorStage::Write, detail: sdk_detail(&e) })),
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

/// A pre-signed URL for the configured notebook instance.
async fn presign(sagemaker: &aws_sdk_sagemaker::Client, config: &ValidatorConfig) -> Result<String, String> {
    let seconds =
        i32::try_from(config.session_expiration_seconds).map_err(|_| "session expiration out of range".to_owned())?;
    let output = sagemaker
        .create_presigned_notebook_instance_url()
        .notebook_instance_name(&config.notebook_name)
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
