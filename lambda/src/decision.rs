//! The validator's decision for one S3 event record: what to log and what to write.
//!
//! The validator's I/O happens between the steps of a [`RecordCheck`]:
//!
//! 1. [`RecordCheck::key`] — bucket and object key from the event record (no I/O);
//! 2. `GetObject` of the file (a ranged read of at most
//!    [`MAX_SESSION_FILE_BYTES`](crate::session_file::MAX_SESSION_FILE_BYTES) + 1 bytes
//!    is enough to detect `too_large`), then [`RecordCheck::file`];
//! 3. every page of `DescribeSessions` for the claim's user and authentication type, then
//!    [`RecordCheck::session`];
//! 4. on [`Outcome::Issued`], `CreatePresignedNotebookInstanceUrl` and a `PutObject` of the
//!    URL to [`Write::key`]; otherwise [`INVALID_SESSION_MESSAGE`] to that key, if any.
//!
//! Each step either continues or ends with a [`Verdict`]: one [`DecisionLine`] and at most
//! one [`Write`], always inside the folder named by the parsed key. A key that is not a
//! session file gets no write at all: there is no folder the validator may trust.
//!
//! The line's shape is the contract with `sandboxc audit`, which reads it back
//! ([`sandboxc_contract::decision`]).

use std::borrow::Cow;

pub use sandboxc_contract::decision::{DecisionLine, Outcome, ISSUED_REASON};

use crate::config::ValidatorConfig;
use crate::session_file::{check, CheckRejection, FileRejection, SessionClaim, SessionFile};
use crate::session_key::{KeyRejection, SessionKey};
use crate::sessions::{find_active, Decision, Session, SessionRejection};

/// What the validator writes to `session_url.txt` when it issues no URL. The first line
/// can never be mistaken for a URL.
pub const INVALID_SESSION_MESSAGE: &str =
    "INVALID SESSION: this streaming session could not be verified, so no notebook link was issued.\n\
Close this session and start a new one. If this keeps happening, contact your sandbox administrator.\n";

/// Longest object key copied into a log line, in characters (S3 keys are at most 1,024
/// bytes; an encoded key may be up to three times longer).
pub const MAX_LOGGED_KEY_CHARS: usize = 3 * 1024;

/// Any reason to reject a record, from every check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// `wrong_bucket`: the event came from a bucket other than the home-folder bucket.
    #[error("the event is not from the home-folder bucket")]
    WrongBucket,
    /// The object key (see [`KeyRejection`]).
    #[error(transparent)]
    Key(#[from] KeyRejection),
    /// The file's format (see [`FileRejection`]).
    #[error(transparent)]
    File(#[from] FileRejection),
    /// The file against key and configuration (see [`CheckRejection`]).
    #[error(transparent)]
    Check(#[from] CheckRejection),
    /// The session against AppStream (see [`SessionRejection`]).
    #[error(transparent)]
    Session(#[from] SessionRejection),
}

impl Rejection {
    /// The stable snake_case reason code of the underlying check.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::WrongBucket => "wrong_bucket",
            Rejection::Key(r) => r.code(),
            Rejection::File(r) => r.code(),
            Rejection::Check(r) => r.code(),
            Rejection::Session(r) => r.code(),
        }
    }
}

/// The AWS call that failed, for [`Outcome::Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorStage {
    /// `read_failed`: `GetObject` of `session.json`.
    Read,
    /// `describe_sessions_failed`: AppStream `DescribeSessions`.
    DescribeSessions,
    /// `presign_failed`: SageMaker `CreatePresignedNotebookInstanceUrl`.
    Presign,
    /// `write_failed`: `PutObject` of `session_url.txt`.
    Write,
}

impl ErrorStage {
    /// The stable snake_case reason code.
    pub fn code(self) -> &'static str {
        match self {
            ErrorStage::Read => "read_failed",
            ErrorStage::DescribeSessions => "describe_sessions_failed",
            ErrorStage::Presign => "presign_failed",
            ErrorStage::Write => "write_failed",
        }
    }
}

/// The log line of a [`DecisionLine`].
pub trait LogLine {
    /// The log line: one JSON object, no newline inside (serde_json escapes control
    /// characters), no trailing newline. It holds no URL and no file content: only codes, the
    /// folder hash, a checked session ID, and where the event came from.
    fn to_json_line(&self) -> String;
}

impl LogLine for DecisionLine {
    fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            // Unreachable for this struct (strings and options only); keep a line anyway.
            String::from(r#"{"outcome":"error","reason":"log_serialization_failed"}"#)
        })
    }
}

/// What to write after a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteBody {
    /// The pre-signed notebook URL the caller obtains from SageMaker.
    PresignedUrl,
    /// [`INVALID_SESSION_MESSAGE`].
    InvalidSession,
}

/// A write into the triggering user's own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// Always `user/<access>/<hash>/session_url.txt` for the parsed key.
    pub key: String,
    /// What to put there.
    pub body: WriteBody,
}

/// The end of one record: a log line and at most one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The decision log line.
    pub log: DecisionLine,
    /// The write to make, if any.
    pub write: Option<Write>,
}

impl Verdict {
    /// The outcome, for convenience.
    pub fn outcome(&self) -> Outcome {
        self.log.outcome
    }

    /// The reason code, for convenience.
    pub fn reason(&self) -> &str {
        &self.log.reason
    }
}

/// The checks for one S3 event record (`s3.bucket.name`, `s3.object.key`).
#[derive(Debug, Clone, Copy)]
pub struct RecordCheck<'a> {
    /// The validator's configuration.
    pub config: &'a ValidatorConfig,
    /// `s3.bucket.name` of the record.
    pub bucket: &'a str,
    /// `s3.object.key` of the record, as received (form-URL-encoded).
    pub raw_key: &'a str,
    /// The Lambda request ID, copied into every log line.
    pub request_id: Option<&'a str>,
}

// A `Verdict` is ~180 bytes and is returned once per S3 record: boxing it would only make
// the callers noisier.
#[allow(clippy::result_large_err)]
impl RecordCheck<'_> {
    /// Step 1: the bucket must be the home-folder bucket (`wrong_bucket`) and the key a
    /// session file ([`KeyRejection`]). A rejection here writes nothing.
    pub fn key(&self) -> Result<SessionKey, Verdict> {
        if self.bucket != self.config.home_folder_bucket {
            return Err(self.rejected(&Rejection::WrongBucket, None, None));
        }
        SessionKey::parse_event_key(self.raw_key).map_err(|r| self.rejected(&Rejection::from(r), None, None))
    }

    /// Step 2: the object's bytes must be a valid `session.json` ([`FileRejection`])
    /// matching the key and configuration ([`CheckRejection`]).
    pub fn file(&self, key: &SessionKey, body: &[u8]) -> Result<SessionClaim, Verdict> {
        let file = SessionFile::parse(body).map_err(|r| self.rejected(&Rejection::from(r), Some(key), None))?;
        check(&file, key, self.config).map_err(|r| {
            // A folder that does not belong to the claimed user gets no write at all: the
            // writer of this file is not that folder's owner (the folder's owner alone may receive a URL or a message).
            let folder = if matches!(r, CheckRejection::UserMismatch) { None } else { Some(key) };
            let mut verdict = self.rejected(&Rejection::from(r), folder, None);
            if folder.is_none() {
                verdict.log.user_hash = Some(key.user_hash.to_hex());
            }
            verdict
        })
    }

    /// Step 3: the claimed session must be on one of the `DescribeSessions` pages,
    /// for that user, `ACTIVE` ([`SessionRejection`]). Ends every record that gets here:
    /// [`Outcome::Issued`] with a [`WriteBody::PresignedUrl`] write, or a rejection.
    pub fn session(&self, claim: &SessionClaim, pages: impl IntoIterator<Item = Vec<Session>>) -> Verdict {
        match find_active(pages, &claim.session_id, &claim.user, claim.authentication_type()) {
            Decision::Active(_) => Verdict {
                log: self.log(Outcome::Issued, ISSUED_REASON, Some(&claim.key), Some(claim)),
                write: Some(Write { key: claim.key.url_key(), body: WriteBody::PresignedUrl }),
            },
            Decision::Rejected(r) => self.rejected(&Rejection::from(r), Some(&claim.key), Some(claim)),
        }
    }

    /// The verdict for a failed AWS call: logged as [`Outcome::Error`]; when the folder
    /// is known, the invalid-session message is written there (the URL write itself may
    /// be what failed, in which case the caller may try once).
    pub fn error(&self, stage: ErrorStage, key: Option<&SessionKey>, claim: Option<&SessionClaim>) -> Verdict {
        self.refused(Outcome::Error, stage.code(), key, claim)
    }

    fn rejected(&self, rejection: &Rejection, key: Option<&SessionKey>, claim: Option<&SessionClaim>) -> Verdict {
        self.refused(Outcome::Rejected, rejection.code(), key, claim)
    }

    /// A verdict without a URL: logged, and the invalid-session message written into the
    /// folder when there is one.
    fn refused(
        &self,
        outcome: Outcome,
        reason: &'static str,
        key: Option<&SessionKey>,
        claim: Option<&SessionClaim>,
    ) -> Verdict {
        Verdict { log: self.log(outcome, reason, key, claim), write: key.map(invalid_session_write) }
    }

    fn log(
        &self,
        outcome: Outcome,
        reason: &'static str,
        key: Option<&SessionKey>,
        claim: Option<&SessionClaim>,
    ) -> DecisionLine {
        DecisionLine {
            outcome,
            reason: Cow::Borrowed(reason),
            user_hash: key.map(|k| k.user_hash.to_hex()),
            session_id: claim.map(|c| c.session_id.clone()),
            request_id: self.request_id.map(str::to_owned),
            bucket: shorten(self.bucket),
            key: shorten(self.raw_key),
        }
    }
}

fn invalid_session_write(key: &SessionKey) -> Write {
    Write { key: key.url_key(), body: WriteBody::InvalidSession }
}

fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_LOGGED_KEY_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::session_key::UserHash;
    use crate::sessions::SessionState;

    fn config() -> ValidatorConfig {
        ValidatorConfig {
            stack_name: "st".into(),
            fleet_name: "fl".into(),
            notebook_name: "nb".into(),
            session_expiration_seconds: 3600,
            home_folder_bucket: "home".into(),
        }
    }

    #[test]
    fn invalid_message_is_not_a_url() {
        let first = INVALID_SESSION_MESSAGE.lines().next().expect("a first line");
        assert!(first.starts_with("INVALID SESSION: "));
        assert!(!INVALID_SESSION_MESSAGE.contains("://"));
    }

    #[test]
    fn an_issued_decision_logs_one_line_without_the_url() {
        let config = config();
        let hash = UserHash::of_user("alice").to_hex();
        let raw_key = format!("user/custom/{hash}/session.json");
        let record = RecordCheck { config: &config, bucket: "home", raw_key: &raw_key, request_id: Some("req-1") };
        let key = record.key().expect("key");
        let body = br#"{"user":"alice","sessionId":"s1","stackName":"st","fleetName":"fl"}"#;
        let claim = record.file(&key, body).expect("claim");
        let pages = vec![vec![Session {
            id: "s1".into(),
            user_id: "alice".into(),
            state: SessionState::Active,
            authentication_type: Some("API".into()),
        }]];
        let verdict = record.session(&claim, pages);
        assert_eq!(verdict.outcome(), Outcome::Issued);
        assert_eq!(
            verdict.write,
            Some(Write { key: format!("user/custom/{hash}/session_url.txt"), body: WriteBody::PresignedUrl })
        );
        let line = verdict.log.to_json_line();
        assert!(!line.contains('\n'));
        let value: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert_eq!(
            value,
            serde_json::json!({
                "outcome": "issued", "reason": "session_active", "user_hash": hash,
                "session_id": "s1", "request_id": "req-1", "bucket": "home", "key": raw_key
            })
        );
    }

    #[test]
    fn rejections_before_the_key_write_nothing() {
        let config = config();
        let record =
            RecordCheck { config: &config, bucket: "other", raw_key: "user/custom/x/session.json", request_id: None };
        let verdict = record.key().expect_err("wrong bucket");
        assert_eq!(verdict.reason(), "wrong_bucket");
        assert_eq!(verdict.write, None);
        assert_eq!(verdict.log.user_hash, None);
    }

    #[test]
    fn errors_write_the_invalid_message_when_the_folder_is_known() {
        let config = config();
        let record = RecordCheck { config: &config, bucket: "home", raw_key: "k", request_id: None };
        let key = SessionKey { access: crate::session_key::Access::Federated, user_hash: UserHash::of_user("bob") };
        let verdict = record.error(ErrorStage::Presign, Some(&key), None);
        assert_eq!(verdict.outcome(), Outcome::Error);
        assert_eq!(verdict.reason(), "presign_failed");
        assert_eq!(verdict.write.map(|w| w.body), Some(WriteBody::InvalidSession));
        assert_eq!(record.error(ErrorStage::Read, None, None).write, None);
    }

    #[test]
    fn file_content_never_reaches_the_log() {
        let config = config();
        let hash = UserHash::of_user("alice").to_hex();
        let raw_key = format!("user/custom/{hash}/session.json");
        let record = RecordCheck { config: &config, bucket: "home", raw_key: &raw_key, request_id: None };
        let key = record.key().expect("key");
        let body = br#"{"https://evil.example/secret":"x"}"#;
        let verdict = record.file(&key, body).expect_err("unknown field");
        assert_eq!(verdict.reason(), "unknown_field");
        let line = verdict.log.to_json_line();
        assert!(!line.contains("evil"), "{line}");
    }

    /// The lines `sandboxc audit` reads back in its own test of the same file
    /// (`src/audit/decisions.rs`): one of each shape the validator logs.
    const DECISION_LINES: &str = include_str!("../../contract/fixtures/decision-lines.jsonl");

    #[test]
    fn the_logged_lines_are_the_contract_fixture_byte_for_byte() {
        let config = config();
        let alice = UserHash::of_user("alice").to_hex();
        let raw_key = format!("user/custom/{alice}/session.json");
        let record = RecordCheck { config: &config, bucket: "home", raw_key: &raw_key, request_id: Some("req-1") };
        let key = record.key().expect("key");
        let body = br#"{"user":"alice","sessionId":"s1","stackName":"st","fleetName":"fl"}"#;
        let claim = record.file(&key, body).expect("claim");
        let session = |state| Session { id: "s1".into(), user_id: "alice".into(), state, authentication_type: None };
        let issued = record.session(&claim, vec![vec![session(SessionState::Active)]]);
        let not_active = record.session(&claim, vec![vec![session(SessionState::Expired)]]);
        let presign_failed = record.error(ErrorStage::Presign, Some(&key), Some(&claim));
        let mallory = br#"{"user":"mallory","sessionId":"s2","stackName":"st","fleetName":"fl"}"#;
        let user_mismatch = record.file(&key, mallory).expect_err("not alice's folder");
        let other = RecordCheck { config: &config, bucket: "other", raw_key: "k", request_id: None };
        let wrong_bucket = other.key().expect_err("wrong bucket");
        let bad_event = crate::validate::bad_event_log(Some("req-2"));
        let lines: Vec<String> =
            [issued.log, not_active.log, presign_failed.log, user_mismatch.log, wrong_bucket.log, bad_event]
                .iter()
                .map(LogLine::to_json_line)
                .collect();
        assert_eq!(lines.join("\n") + "\n", DECISION_LINES);
    }

    #[test]
    fn long_keys_are_shortened() {
        let long = "é".repeat(MAX_LOGGED_KEY_CHARS + 10);
        let shortened = shorten(&long);
        assert_eq!(shortened.chars().count(), MAX_LOGGED_KEY_CHARS + 3);
        assert!(shortened.ends_with("..."));
        assert_eq!(shorten("short"), "short");
    }
}
