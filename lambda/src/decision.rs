//! The validator's decision for one S3 event record: what to log and what to write.
//!
//! The validator's I/O happens between the steps of a [`RecordCheck`]:
//!
//! 1. [`RecordCheck::key`] — bucket and object key from the event record (no I/O);
//! 2. `GetObject` of the file (a ranged read of at most
//!    [`MAX_SESSION_FILE_BYTES`](crate::session_file::MAX_SESSION_FILE_BYTES) + 1 bytes
//!    is enough to detect `too_large`), then [`RecordCheck::file`];
//! 3. every page of `DescribeSessions` for the claim's user and authentication type, then
//!    [`RecordCheck::session`]: the user is [`Proven`];
//! 4. SSM `GetParameter` of the proven user's allow-list entry, then
//!    [`RecordCheck::allow_list`]: a [`Grant`] of exactly one notebook (the entry's own, or the
//!    shared notebook in `shared` mode);
//! 5. SageMaker `DescribeNotebookInstance` of that notebook, then [`RecordCheck::notebook`];
//! 6. `CreatePresignedNotebookInstanceUrl` for the granted notebook, [`RecordCheck::issued`],
//!    and a `PutObject` of the URL to [`Write::key`].
//!
//! Each step either continues or ends with a [`Verdict`]: one [`DecisionLine`] and at most
//! one [`Write`] of a [`WriteBody`], always inside the folder named by the parsed key. A key
//! that is not a session file gets no write at all: there is no folder the validator may
//! trust. Once a notebook is granted, every line names it (never the URL).
//!
//! The line's shape is the contract with `sandboxc audit`, which reads it back
//! ([`sandboxc_contract::decision`]).

use std::borrow::Cow;

pub use sandboxc_contract::decision::{reason, DecisionLine, Outcome, ISSUED_REASON};

use crate::allow_list::{check_entry, check_notebook, EntryAnswer, EntryRefusal, NotebookProblem, NotebookState};
use crate::config::{Notebooks, ValidatorConfig};
use crate::session_file::{check, CheckRejection, FileRejection, SessionClaim, SessionFile};
use crate::session_key::{KeyRejection, ParsedKey, SessionKey};
use crate::sessions::{find_active, Decision, Session, SessionRejection};

/// What the validator writes to `session_url.txt` when the session itself could not be
/// verified. The first line can never be mistaken for a URL.
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
    /// `allow_list_failed`: SSM `GetParameter` of the allow-list entry.
    AllowList,
    /// `describe_notebook_failed`: SageMaker `DescribeNotebookInstance`.
    DescribeNotebook,
    /// `start_notebook_failed`: SageMaker `StartNotebookInstance` of a stopped notebook.
    StartNotebook,
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
            ErrorStage::AllowList => reason::ALLOW_LIST_FAILED,
            ErrorStage::DescribeNotebook => reason::DESCRIBE_NOTEBOOK_FAILED,
            ErrorStage::StartNotebook => reason::START_NOTEBOOK_FAILED,
            ErrorStage::Presign => "presign_failed",
            ErrorStage::Write => "write_failed",
        }
    }
}

/// The log line of a [`DecisionLine`].
pub trait LogLine {
    /// The log line: one JSON object, no newline inside (serde_json escapes control
    /// characters), no trailing newline. It holds no URL and no file content: only codes, the
    /// folder hash, a checked session ID, the granted notebook, and where the event came from.
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
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WriteBody {
    /// The pre-signed notebook URL the caller obtains from SageMaker.
    PresignedUrl,
    /// [`INVALID_SESSION_MESSAGE`]: the session could not be verified.
    InvalidSession,
    /// The session is real, but its user may not use this sandbox (not on the allow list, or
    /// an entry that is not theirs): [`not_authorised_message`].
    NotAuthorised {
        /// The proven user ID, so that the user can tell the administrator whom to add.
        user: String,
    },
    /// The user may have a notebook, but it cannot take a URL now: [`notebook_message`].
    NotebookUnavailable {
        /// The notebook (empty when the allow-list entry itself could not be read).
        notebook: String,
        /// Why (`None`: the allow-list entry is damaged).
        problem: Option<NotebookProblem>,
    },
}

impl WriteBody {
    /// The text to write, or `None` for [`WriteBody::PresignedUrl`] (the caller has the URL).
    /// No message starts with `https://`, so the notebook script never opens one.
    pub fn message(&self) -> Option<String> {
        match self {
            WriteBody::PresignedUrl => None,
            WriteBody::InvalidSession => Some(INVALID_SESSION_MESSAGE.to_owned()),
            WriteBody::NotAuthorised { user } => Some(not_authorised_message(user)),
            WriteBody::NotebookUnavailable { notebook, problem } => Some(notebook_message(notebook, problem.as_ref())),
        }
    }
}

/// The message for a proven user who is not on the allow list: says so, and what to do
/// (the administrator adds the user ID to the blueprint's `users` and applies it).
pub fn not_authorised_message(user: &str) -> String {
    format!(
        "NOT AUTHORISED: you are not authorised for this sandbox, so no notebook link was issued.\n\
Ask the sandbox's administrator to add you to the sandbox's users (your user ID: {user}).\n\
Once they have applied the change, close this session and start a new one.\n"
    )
}

/// The message for a listed user whose notebook cannot take a URL now (`problem`), or whose
/// allow-list entry cannot be read (`None`).
pub fn notebook_message(notebook: &str, problem: Option<&NotebookProblem>) -> String {
    let (what, todo) = match problem {
        None => (
            "this sandbox's allow-list entry for you cannot be read".to_owned(),
            "Ask the sandbox's administrator to apply the sandbox again (sandboxc apply), then start the notebook again.",
        ),
        Some(NotebookProblem::Missing) => (
            format!("your notebook {notebook} does not exist"),
            "Ask the sandbox's administrator to check the sandbox's deployment (sandboxc status), then start the notebook again.",
        ),
        Some(NotebookProblem::NotInService(status)) => match status.as_str() {
            "Pending" | "Updating" => (
                format!("your notebook {notebook} is starting or being updated (status {status})"),
                "Wait a few minutes, then start the notebook again.",
            ),
            "Stopped" | "Stopping" => (
                format!("your notebook {notebook} is stopped (status {status})"),
                "Ask the sandbox's administrator to start it; once it is InService, start the notebook again.",
            ),
            _ => (
                format!("your notebook {notebook} is not available (status {status})"),
                "Ask the sandbox's administrator to look at it in SageMaker, then start the notebook again.",
            ),
        },
        Some(NotebookProblem::Failed(why)) => (
            if why.is_empty() {
                format!("your notebook {notebook} has failed (SageMaker gave no reason)")
            } else {
                format!("your notebook {notebook} has failed: {why}")
            },
            "Ask the sandbox's administrator to look at it in SageMaker (the reason above), then start the notebook again.",
        ),
        Some(NotebookProblem::StartTimedOut { status, waited_seconds }) => (
            format!(
                "your notebook {notebook} was started but did not come up within {} minutes (last status {status})",
                waited_seconds.div_ceil(60)
            ),
            "Wait a few minutes (it may still be starting), then start the notebook again. If it keeps failing, ask the sandbox's administrator to look at it in SageMaker.",
        ),
    };
    format!("NOTEBOOK UNAVAILABLE: {what}, so no notebook link was issued.\n{todo}\n")
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

/// A claim whose session AppStream `DescribeSessions` proved `ACTIVE` for its user: only
/// [`RecordCheck::session`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven(SessionClaim);

impl Proven {
    /// The proven claim.
    pub fn claim(&self) -> &SessionClaim {
        &self.0
    }
}

/// A proven user's right to a URL for exactly one notebook: only [`RecordCheck::allow_list`]
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    claim: SessionClaim,
    notebook: String,
}

impl Grant {
    /// The proven claim.
    pub fn claim(&self) -> &SessionClaim {
        &self.claim
    }

    /// The notebook instance the URL may be for.
    pub fn notebook(&self) -> &str {
        &self.notebook
    }
}

/// The checks for one S3 event record (`s3.bucket.name`, `s3.object.key`).
#[derive(Debug, Clone, Copy)]
pub struct RecordCheck<'a> {
    /// The validator's configuration.
    pub config: &'a ValidatorConfig,
    /// `s3.bucket.name` of the record.
    pub bucket: &'a str,
    /// The record's object key, as received: `s3.object.key` (form-URL-encoded) of an S3
    /// notification, `detail.object.key` of an EventBridge event (see [`KeyEncoding`]).
    pub raw_key: &'a str,
    /// How [`RecordCheck::raw_key`] is written.
    pub encoding: KeyEncoding,
    /// The Lambda request ID, copied into every log line.
    pub request_id: Option<&'a str>,
}

/// How an event writes the object key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyEncoding {
    /// Form-URL-encoded (`+` a space, `%XX` a byte): `s3.object.key` of an S3 event
    /// notification (S3 user guide, "Event message structure"); decoded before parsing.
    FormUrl,
    /// Taken exactly as given: `detail.object.key` of an EventBridge event (S3 user guide,
    /// "EventBridge event message structure"). A key of the layout the validator accepts holds
    /// only `[a-z0-9/._-]` and a stack name's `[a-zA-Z0-9_.-]`, which no encoding changes, so
    /// a key with `%` or `+` is never one of them and is rejected rather than decoded.
    Raw,
}

/// What a log line says about where the record got: the folder, the checked claim, the
/// granted notebook.
#[derive(Debug, Clone, Copy, Default)]
struct At<'c> {
    key: Option<&'c SessionKey>,
    claim: Option<&'c SessionClaim>,
    notebook: Option<&'c str>,
}

// A `Verdict` is a few hundred bytes and is returned once per S3 record: boxing it would only
// make the callers noisier.
#[allow(clippy::result_large_err)]
impl RecordCheck<'_> {
    /// Step 1: the bucket must be the home-folder bucket (`wrong_bucket`) and the key a
    /// session file of this sandbox ([`KeyRejection`]). A rejection here writes nothing. A
    /// well-formed session file of another sandbox ([`ParsedKey::OtherSandbox`]) ends here as
    /// [`Outcome::Skipped`] ([`reason::OTHER_SANDBOX`]): nothing is read or written, and the
    /// line names the folder's hash.
    pub fn key(&self) -> Result<SessionKey, Verdict> {
        if self.bucket != self.config.home_folder_bucket {
            return Err(self.rejected(Rejection::WrongBucket.code(), At::default(), None));
        }
        let stack = self.config.stack_name.as_str();
        let parsed = match self.encoding {
            KeyEncoding::FormUrl => SessionKey::parse_event_key(self.raw_key, stack),
            KeyEncoding::Raw => SessionKey::parse_decoded(self.raw_key, stack),
        };
        match parsed {
            Ok(ParsedKey::Ours(key)) => Ok(key),
            Ok(ParsedKey::OtherSandbox { user_hash }) => {
                let mut log = self.log(Outcome::Skipped, reason::OTHER_SANDBOX, At::default());
                log.user_hash = Some(user_hash.to_hex());
                Err(Verdict { log, write: None })
            }
            Err(r) => Err(self.rejected(Rejection::from(r).code(), At::default(), None)),
        }
    }

    /// Step 2: the object's bytes must be a valid `session.json` ([`FileRejection`])
    /// matching the key and configuration ([`CheckRejection`]).
    pub fn file(&self, key: &SessionKey, body: &[u8]) -> Result<SessionClaim, Verdict> {
        let at = At { key: Some(key), ..At::default() };
        let file = SessionFile::parse(body)
            .map_err(|r| self.rejected(Rejection::from(r).code(), at, Some(invalid_session_write(key))))?;
        check(&file, key, self.config).map_err(|r| {
            // A folder that does not belong to the claimed user gets no write at all: the
            // writer of this file is not that folder's owner (the folder's owner alone may
            // receive a URL or a message). The log still names the folder's hash.
            let write = (!matches!(r, CheckRejection::UserMismatch)).then(|| invalid_session_write(key));
            self.rejected(Rejection::from(r).code(), at, write)
        })
    }

    /// Step 3: the claimed session must be on one of the `DescribeSessions` pages,
    /// for that user, `ACTIVE` ([`SessionRejection`]); then the user is [`Proven`].
    pub fn session(
        &self,
        claim: &SessionClaim,
        pages: impl IntoIterator<Item = Vec<Session>>,
    ) -> Result<Proven, Verdict> {
        match find_active(pages, &claim.session_id, &claim.user, claim.authentication_type()) {
            Decision::Active(_) => Ok(Proven(claim.clone())),
            Decision::Rejected(r) => {
                let at = At { key: Some(&claim.key), claim: Some(claim), notebook: None };
                Err(self.rejected(Rejection::from(r).code(), at, Some(invalid_session_write(&claim.key))))
            }
        }
    }

    /// Step 4: the proven user's allow-list entry (SSM `GetParameter`'s answer) must exist,
    /// be an entry, name this user, the folder's authentication and (in `per_user` mode) the
    /// user's own notebook ([`crate::allow_list::check_entry`]). Refused: `rejected` with the not-authorised
    /// message, or `error` with the notebook-unavailable message for a damaged entry. Granted:
    /// the entry's notebook, or in `shared` mode the shared notebook.
    pub fn allow_list(&self, proven: &Proven, answer: &EntryAnswer) -> Result<Grant, Verdict> {
        let claim = proven.claim();
        let at = At { key: Some(&claim.key), claim: Some(claim), notebook: None };
        let per_user_env = match &self.config.notebooks {
            Notebooks::PerUser => Some(self.config.environment.as_str()),
            Notebooks::Shared(_) => None,
        };
        match check_entry(answer, &claim.user, claim.key.access, per_user_env) {
            Ok(entry) => {
                let notebook = match &self.config.notebooks {
                    Notebooks::PerUser => entry.notebook,
                    Notebooks::Shared(shared) => shared.clone(),
                };
                Ok(Grant { claim: claim.clone(), notebook })
            }
            Err(EntryRefusal::Invalid) => {
                let body = WriteBody::NotebookUnavailable { notebook: String::new(), problem: None };
                let write = Write { key: claim.key.url_key(), body };
                Err(self.refused(Outcome::Error, EntryRefusal::Invalid.code(), at, Some(write)))
            }
            Err(refusal) => {
                let write =
                    Write { key: claim.key.url_key(), body: WriteBody::NotAuthorised { user: claim.user.clone() } };
                Err(self.rejected(refusal.code(), at, Some(write)))
            }
        }
    }

    /// Step 5: the granted notebook must be `InService` (SageMaker `DescribeNotebookInstance`'s
    /// answer). Missing or not in service: `error` with [`notebook_message`] in the folder
    /// (a retry of the event would not help; the user starts the notebook again later).
    pub fn notebook(&self, grant: &Grant, state: &NotebookState) -> Result<(), Verdict> {
        check_notebook(state).map_err(|problem| {
            let code = problem.code();
            let body = WriteBody::NotebookUnavailable { notebook: grant.notebook.clone(), problem: Some(problem) };
            let write = Write { key: grant.claim.key.url_key(), body };
            self.refused(Outcome::Error, code, self.at_grant(grant), Some(write))
        })
    }

    /// Step 6: [`Outcome::Issued`] for the granted notebook, with a [`WriteBody::PresignedUrl`]
    /// write; the line names the notebook.
    pub fn issued(&self, grant: &Grant) -> Verdict {
        let write = Write { key: grant.claim.key.url_key(), body: WriteBody::PresignedUrl };
        Verdict { log: self.log(Outcome::Issued, ISSUED_REASON, self.at_grant(grant)), write: Some(write) }
    }

    /// The verdict for a failed AWS call: logged as [`Outcome::Error`]; when the folder
    /// is known, the invalid-session message is written there (the URL write itself may
    /// be what failed, in which case the caller may try once).
    pub fn error(&self, stage: ErrorStage, key: Option<&SessionKey>, claim: Option<&SessionClaim>) -> Verdict {
        self.refused(Outcome::Error, stage.code(), At { key, claim, notebook: None }, key.map(invalid_session_write))
    }

    /// [`RecordCheck::error`] after a notebook was granted: the line names the notebook.
    pub fn error_with_grant(&self, stage: ErrorStage, grant: &Grant) -> Verdict {
        let write = Some(invalid_session_write(&grant.claim.key));
        self.refused(Outcome::Error, stage.code(), self.at_grant(grant), write)
    }

    fn at_grant<'c>(&self, grant: &'c Grant) -> At<'c> {
        At { key: Some(&grant.claim.key), claim: Some(&grant.claim), notebook: Some(&grant.notebook) }
    }

    fn rejected(&self, reason: &'static str, at: At<'_>, write: Option<Write>) -> Verdict {
        self.refused(Outcome::Rejected, reason, at, write)
    }

    /// A verdict without a URL: logged, and `write` made when there is one.
    fn refused(&self, outcome: Outcome, reason: &'static str, at: At<'_>, write: Option<Write>) -> Verdict {
        Verdict { log: self.log(outcome, reason, at), write }
    }

    fn log(&self, outcome: Outcome, reason: &'static str, at: At<'_>) -> DecisionLine {
        DecisionLine {
            outcome,
            reason: Cow::Borrowed(reason),
            user_hash: at.key.map(|k| k.user_hash.to_hex()),
            session_id: at.claim.map(|c| c.session_id.clone()),
            notebook: at.notebook.map(str::to_owned),
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
            notebooks: Notebooks::PerUser,
            environment: "team".into(),
            session_expiration_seconds: 3600,
            home_folder_bucket: "home".into(),
            waiting: crate::config::NotebookWaiting::default(),
        }
    }

    fn entry(user: &str, notebook: &str) -> EntryAnswer {
        EntryAnswer::Found {
            parameter_type: "String".into(),
            value: serde_json::json!({"user_id": user, "authentication": "api", "notebook": notebook}).to_string(),
        }
    }

    fn active(user: &str, id: &str) -> Vec<Vec<Session>> {
        vec![vec![Session {
            id: id.into(),
            user_id: user.into(),
            state: SessionState::Active,
            authentication_type: Some("API".into()),
        }]]
    }

    #[test]
    fn a_notebook_that_failed_or_did_not_come_up_in_time_is_said_so() {
        let failed = notebook_message("team-alice", Some(&NotebookProblem::Failed("ResourceLimitExceeded".into())));
        assert!(
            failed.contains("team-alice has failed: ResourceLimitExceeded") && failed.contains("administrator"),
            "{failed}"
        );
        let late = notebook_message(
            "team-alice",
            Some(&NotebookProblem::StartTimedOut { status: "Pending".into(), waited_seconds: 600 }),
        );
        assert!(
            late.contains("was started but did not come up within 10 minutes (last status Pending)")
                && late.contains("Wait a few minutes"),
            "{late}"
        );
        assert_eq!(NotebookProblem::Failed(String::new()).code(), "notebook_failed");
        assert_eq!(
            NotebookProblem::StartTimedOut { status: String::new(), waited_seconds: 0 }.code(),
            "notebook_start_timeout"
        );
        let starting = crate::validate::starting_message("team-alice", "Stopped", 600);
        assert!(starting.starts_with("STARTING: your notebook team-alice was stopped"), "{starting}");
        assert!(starting.contains("at most about 10 minutes"), "{starting}");
    }

    #[test]
    fn no_message_is_a_url() {
        let bodies = [
            WriteBody::InvalidSession,
            WriteBody::NotAuthorised { user: "https://evil.example".into() },
            WriteBody::NotebookUnavailable { notebook: String::new(), problem: None },
            WriteBody::NotebookUnavailable { notebook: "nb".into(), problem: Some(NotebookProblem::Missing) },
            WriteBody::NotebookUnavailable {
                notebook: "nb".into(),
                problem: Some(NotebookProblem::NotInService("Stopped".into())),
            },
            WriteBody::NotebookUnavailable {
                notebook: "nb".into(),
                problem: Some(NotebookProblem::Failed("https://evil.example".into())),
            },
            WriteBody::NotebookUnavailable {
                notebook: "nb".into(),
                problem: Some(NotebookProblem::StartTimedOut { status: "Pending".into(), waited_seconds: 600 }),
            },
        ];
        for body in bodies {
            let text = body.message().expect("a message");
            let first = text.lines().next().expect("a first line");
            assert!(first.chars().next().is_some_and(|c| c.is_ascii_uppercase()), "{text}");
            assert!(!text.starts_with("https://"), "{text}");
            assert!(text.ends_with('\n'));
        }
        assert!(INVALID_SESSION_MESSAGE.starts_with("INVALID SESSION: "));
        assert!(!INVALID_SESSION_MESSAGE.contains("://"));
        assert_eq!(WriteBody::PresignedUrl.message(), None);
        let text = not_authorised_message("alice");
        assert!(text.contains("not authorised for this sandbox"), "{text}");
        assert!(text.contains("Ask the sandbox's administrator to add you") && text.contains("alice"), "{text}");
        let stopped = notebook_message("team-alice", Some(&NotebookProblem::NotInService("Stopped".into())));
        assert!(
            stopped.contains("team-alice is stopped (status Stopped)") && stopped.contains("start it"),
            "{stopped}"
        );
        let missing = notebook_message("team-alice", Some(&NotebookProblem::Missing));
        assert!(missing.contains("team-alice does not exist"), "{missing}");
    }

    #[test]
    fn an_issued_decision_logs_one_line_with_the_notebook_and_without_the_url() {
        let config = config();
        let hash = UserHash::of_user("alice").to_hex();
        let raw_key = format!("user/custom/{hash}/session.json");
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: &raw_key,
            request_id: Some("req-1"),
            encoding: KeyEncoding::FormUrl,
        };
        let key = record.key().expect("key");
        let body = br#"{"user":"alice","sessionId":"s1","stackName":"st","fleetName":"fl"}"#;
        let claim = record.file(&key, body).expect("claim");
        let proven = record.session(&claim, active("alice", "s1")).expect("proven");
        let grant = record.allow_list(&proven, &entry("alice", "team-alice-2bd806c9-0a1b")).expect("listed");
        assert_eq!(grant.notebook(), "team-alice-2bd806c9-0a1b");
        record.notebook(&grant, &NotebookState::Status("InService".into())).expect("in service");
        let verdict = record.issued(&grant);
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
                "session_id": "s1", "notebook": "team-alice-2bd806c9-0a1b", "request_id": "req-1",
                "bucket": "home", "key": raw_key
            })
        );
    }

    #[test]
    fn shared_mode_grants_the_shared_notebook_to_listed_users_only() {
        let config = ValidatorConfig { notebooks: Notebooks::Shared("team-shared".into()), ..config() };
        let hash = UserHash::of_user("alice").to_hex();
        let raw_key = format!("user/custom/{hash}/session.json");
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: &raw_key,
            request_id: None,
            encoding: KeyEncoding::FormUrl,
        };
        let key = record.key().expect("key");
        let claim = record
            .file(&key, br#"{"user":"alice","sessionId":"s1","stackName":"st","fleetName":"fl"}"#)
            .expect("claim");
        let proven = record.session(&claim, active("alice", "s1")).expect("proven");
        let grant = record.allow_list(&proven, &entry("alice", "team-alice-2bd806c9-0a1b")).expect("listed");
        assert_eq!(grant.notebook(), "team-shared");
        let refused = record.allow_list(&proven, &EntryAnswer::NotFound).expect_err("not listed");
        assert_eq!((refused.outcome(), refused.reason()), (Outcome::Rejected, "not_listed"));
        assert_eq!(refused.write.map(|w| w.body), Some(WriteBody::NotAuthorised { user: "alice".into() }));
        assert_eq!(refused.log.notebook, None);
    }

    #[test]
    fn rejections_before_the_key_write_nothing() {
        let config = config();
        let record = RecordCheck {
            config: &config,
            bucket: "other",
            raw_key: "user/custom/x/session.json",
            request_id: None,
            encoding: KeyEncoding::FormUrl,
        };
        let verdict = record.key().expect_err("wrong bucket");
        assert_eq!(verdict.reason(), "wrong_bucket");
        assert_eq!(verdict.write, None);
        assert_eq!(verdict.log.user_hash, None);
    }

    #[test]
    fn errors_write_the_invalid_message_when_the_folder_is_known() {
        let config = config();
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: "k",
            request_id: None,
            encoding: KeyEncoding::FormUrl,
        };
        let key = SessionKey {
            access: crate::session_key::Access::Federated,
            user_hash: UserHash::of_user("bob"),
            layout: crate::session_key::Layout::Legacy,
        };
        let verdict = record.error(ErrorStage::Presign, Some(&key), None);
        assert_eq!(verdict.outcome(), Outcome::Error);
        assert_eq!(verdict.reason(), "presign_failed");
        assert_eq!(verdict.write.map(|w| w.body), Some(WriteBody::InvalidSession));
        assert_eq!(record.error(ErrorStage::Read, None, None).write, None);
        assert_eq!(ErrorStage::AllowList.code(), "allow_list_failed");
        assert_eq!(ErrorStage::DescribeNotebook.code(), "describe_notebook_failed");
    }

    #[test]
    fn another_sandbox_file_is_skipped_before_any_read_or_write() {
        let config = config();
        let hash = UserHash::of_user("alice").to_hex();
        for (encoding, raw_key) in [
            (KeyEncoding::Raw, format!("user/custom/{hash}/.sandboxc/other-stack/session.json")),
            (KeyEncoding::FormUrl, format!("user%2Fcustom%2F{hash}%2F.sandboxc%2Fother-stack%2Fsession.json")),
        ] {
            let record = RecordCheck { config: &config, bucket: "home", raw_key: &raw_key, request_id: None, encoding };
            let verdict = record.key().expect_err("another sandbox's file");
            assert_eq!((verdict.outcome(), verdict.reason()), (Outcome::Skipped, reason::OTHER_SANDBOX));
            assert_eq!(verdict.write, None);
            assert_eq!(verdict.log.user_hash.as_deref(), Some(hash.as_str()));
            assert!(verdict.log.to_json_line().contains(r#""outcome":"skipped","reason":"other_sandbox""#));
        }
        // This sandbox's own file is answered next to it.
        let own = format!("user/custom/{hash}/.sandboxc/st/session.json");
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: &own,
            request_id: None,
            encoding: KeyEncoding::Raw,
        };
        let key = record.key().expect("own key");
        assert_eq!(key.url_key(), format!("user/custom/{hash}/.sandboxc/st/session_url.txt"));
        // An EventBridge key is never decoded: an encoded separator is not a separator there.
        let encoded = format!("user%2Fcustom%2F{hash}%2F.sandboxc%2Fst%2Fsession.json");
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: &encoded,
            request_id: None,
            encoding: KeyEncoding::Raw,
        };
        assert_eq!(record.key().expect_err("not a key").reason(), "not_home_folder");
    }

    #[test]
    fn this_sandbox_file_in_another_users_folder_is_rejected_without_a_write() {
        let config = config();
        let hash = UserHash::of_user("alice").to_hex();
        let raw_key = format!("user/custom/{hash}/.sandboxc/st/session.json");
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: &raw_key,
            request_id: None,
            encoding: KeyEncoding::Raw,
        };
        let key = record.key().expect("key");
        let mallory = br#"{"user":"mallory","sessionId":"s2","stackName":"st","fleetName":"fl"}"#;
        let verdict = record.file(&key, mallory).expect_err("not alice's folder");
        assert_eq!((verdict.outcome(), verdict.reason()), (Outcome::Rejected, "user_mismatch"));
        assert_eq!(verdict.write, None);
    }

    #[test]
    fn file_content_never_reaches_the_log() {
        let config = config();
        let hash = UserHash::of_user("alice").to_hex();
        let raw_key = format!("user/custom/{hash}/session.json");
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: &raw_key,
            request_id: None,
            encoding: KeyEncoding::FormUrl,
        };
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
        let record = RecordCheck {
            config: &config,
            bucket: "home",
            raw_key: &raw_key,
            request_id: Some("req-1"),
            encoding: KeyEncoding::FormUrl,
        };
        let key = record.key().expect("key");
        let body = br#"{"user":"alice","sessionId":"s1","stackName":"st","fleetName":"fl"}"#;
        let claim = record.file(&key, body).expect("claim");
        let session = |state| Session { id: "s1".into(), user_id: "alice".into(), state, authentication_type: None };
        let proven = record.session(&claim, vec![vec![session(SessionState::Active)]]).expect("proven");
        let grant = record.allow_list(&proven, &entry("alice", "team-alice-2bd806c9-0a1b")).expect("listed");
        let issued = record.issued(&grant);
        let not_active = record.session(&claim, vec![vec![session(SessionState::Expired)]]).expect_err("expired");
        let not_listed = record.allow_list(&proven, &EntryAnswer::NotFound).expect_err("not listed");
        let stopped = record.notebook(&grant, &NotebookState::Status("Stopped".into())).expect_err("not in service");
        let missing = record.notebook(&grant, &NotebookState::Missing).expect_err("missing");
        let presign_failed = record.error_with_grant(ErrorStage::Presign, &grant);
        let mallory = br#"{"user":"mallory","sessionId":"s2","stackName":"st","fleetName":"fl"}"#;
        let user_mismatch = record.file(&key, mallory).expect_err("not alice's folder");
        let other = RecordCheck {
            config: &config,
            bucket: "other",
            raw_key: "k",
            request_id: None,
            encoding: KeyEncoding::FormUrl,
        };
        let wrong_bucket = other.key().expect_err("wrong bucket");
        let bad_event = crate::validate::bad_event_log(Some("req-2"));
        let lines: Vec<String> = [
            issued.log,
            not_active.log,
            not_listed.log,
            stopped.log,
            missing.log,
            presign_failed.log,
            user_mismatch.log,
            wrong_bucket.log,
            bad_event,
        ]
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
