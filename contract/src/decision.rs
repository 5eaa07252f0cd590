//! The validator's decision-log line: one JSON object per S3 event record.
//!
//! Produced by the validator Lambda (one line on standard output, so one CloudWatch Logs
//! event per decision); consumed by `sandboxc audit --decisions`, which reads the lines
//! themselves or the `aws logs filter-log-events` events holding them.
//!
//! ```json
//! {"outcome":"issued","reason":"session_active","user_hash":"<64 lowercase hex>","session_id":"s1","notebook":"team-alice-2bd806c9-0a1b","request_id":"r1","bucket":"home","key":"user/custom/<hash>/session.json"}
//! ```
//!
//! The fields are written in this order, every one of them, `null` for an absent option; the
//! line holds no time (CloudWatch Logs adds one), no URL and nothing from the file. A
//! reader accepts a line in which any field but `outcome` is missing (a trimmed export, or a
//! line written before `notebook` existed), and ignores fields it does not know.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The reason logged with [`Outcome::Issued`]: the session is active.
pub const ISSUED_REASON: &str = "session_active";

/// The reason codes of the allow list and the notebook, logged by the validator after
/// AppStream `DescribeSessions` proved the user; `sandboxc audit` shows them as they are.
pub mod reason {
    /// `rejected`: the proven user has no allow-list entry (SSM `GetParameter` answered
    /// `ParameterNotFound`): not a user of this sandbox, or removed from it.
    pub const NOT_LISTED: &str = "not_listed";
    /// `rejected`: the allow-list entry found under the user's hash names another user ID.
    pub const ENTRY_USER_MISMATCH: &str = "entry_user_mismatch";
    /// `rejected`: the allow-list entry's authentication (`api`, `saml`) is not the one of the
    /// home folder the session file came from (`custom`, `federated`), or the folder is a
    /// user-pool folder, which no entry allows.
    pub const ENTRY_AUTHENTICATION_MISMATCH: &str = "entry_authentication_mismatch";
    /// `rejected`: in `per_user` mode, the allow-list entry names a notebook other than the
    /// user's own (`crate::users::notebook_name` of the environment and the user ID).
    pub const ENTRY_NOTEBOOK_MISMATCH: &str = "entry_notebook_mismatch";
    /// `error`: the allow-list parameter exists but is not an allow-list entry (not a `String`
    /// parameter, not the entry's JSON, or a notebook name SageMaker would refuse).
    pub const ENTRY_INVALID: &str = "entry_invalid";
    /// `error`: SSM `GetParameter` failed (after the SDK's retries).
    pub const ALLOW_LIST_FAILED: &str = "allow_list_failed";
    /// `error`: SageMaker `DescribeNotebookInstance` does not know the notebook.
    pub const NOTEBOOK_MISSING: &str = "notebook_missing";
    /// `error`: the notebook exists but its status is not `InService` (stopped, starting,
    /// updating, failed, deleting).
    pub const NOTEBOOK_NOT_IN_SERVICE: &str = "notebook_not_in_service";
    /// `error`: SageMaker `DescribeNotebookInstance` failed (after the SDK's retries).
    pub const DESCRIBE_NOTEBOOK_FAILED: &str = "describe_notebook_failed";
    /// `error`: the notebook was stopped (or stopping, or starting) and did not reach `InService`
    /// within `crate::validator::NOTEBOOK_START_DEADLINE_SECONDS`.
    pub const NOTEBOOK_START_TIMEOUT: &str = "notebook_start_timeout";
    /// `error`: the notebook's status is `Failed` (its `FailureReason` is in the answer file).
    pub const NOTEBOOK_FAILED: &str = "notebook_failed";
    /// `error`: SageMaker `StartNotebookInstance` failed (after the SDK's retries).
    pub const START_NOTEBOOK_FAILED: &str = "start_notebook_failed";
    /// `skipped`: the session file is another sandbox's (its path names another AppStream
    /// stack); the validator neither reads nor answers it.
    pub const OTHER_SANDBOX: &str = "other_sandbox";
}

/// How a record ended: `issued`, `rejected`, `error` or `skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// `issued`: the session is real; a pre-signed URL is written.
    Issued,
    /// `rejected`: the input failed a check; nothing but the invalid-session message is
    /// written.
    Rejected,
    /// `error`: an AWS call failed.
    Error,
    /// `skipped`: the session file belongs to another sandbox (its name carries another
    /// AppStream stack, [`crate::validator::session_file_path`]); nothing is read or written.
    Skipped,
}

impl Outcome {
    /// `issued`, `rejected`, `error` or `skipped`, as in the line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issued => "issued",
            Self::Rejected => "rejected",
            Self::Error => "error",
            Self::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One decision line. Serializing it gives the exact bytes the Lambda logs (field order as
/// declared, `null` for `None`); deserializing reads them back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionLine {
    /// `issued`, `rejected`, `error` or `skipped`.
    pub outcome: Outcome,
    /// A stable snake_case reason code: [`ISSUED_REASON`] for an issued URL, else the code of
    /// the check or AWS call that refused it (such as `session_not_active`,
    /// `presign_failed`). Empty when a reader finds none.
    #[serde(default)]
    pub reason: Cow<'static, str>,
    /// The home folder's user hash (SHA-256 of the AppStream user ID, 64 lowercase hex), once
    /// the key has been parsed.
    #[serde(default)]
    pub user_hash: Option<String>,
    /// The AppStream session ID, only once it passed the file checks.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The SageMaker notebook instance the allow list granted (never the URL itself): set with
    /// [`Outcome::Issued`] (the notebook the URL is for), and with every `error` after the grant
    /// ([`reason::NOTEBOOK_MISSING`], [`reason::NOTEBOOK_NOT_IN_SERVICE`],
    /// [`reason::DESCRIBE_NOTEBOOK_FAILED`], `presign_failed`, `write_failed`); `null` before.
    #[serde(default)]
    pub notebook: Option<String>,
    /// The Lambda request ID, when known.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The event record's bucket (`s3.bucket.name`), shortened like `key`.
    #[serde(default)]
    pub bucket: String,
    /// The event record's key as received (`s3.object.key`, still URL-encoded), at most
    /// 3,072 characters followed by `...` when longer.
    #[serde(default)]
    pub key: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn issued() -> DecisionLine {
        DecisionLine {
            outcome: Outcome::Issued,
            reason: Cow::Borrowed(ISSUED_REASON),
            user_hash: Some("ab".repeat(32)),
            session_id: Some("s1".into()),
            notebook: Some("team-alice-2bd806c9-0a1b".into()),
            request_id: Some("r1".into()),
            bucket: "home".into(),
            key: "user/custom/x/session.json".into(),
        }
    }

    #[test]
    fn the_line_keeps_its_field_order_and_nulls() {
        let mut line = issued();
        line.outcome = Outcome::Rejected;
        line.reason = Cow::Borrowed("bad_path");
        line.session_id = None;
        line.notebook = None;
        line.request_id = None;
        assert_eq!(
            serde_json::to_string(&line).unwrap(),
            format!(
                r#"{{"outcome":"rejected","reason":"bad_path","user_hash":"{}","session_id":null,"notebook":null,"request_id":null,"bucket":"home","key":"user/custom/x/session.json"}}"#,
                "ab".repeat(32)
            )
        );
        assert!(serde_json::to_string(&issued())
            .unwrap()
            .contains(r#""session_id":"s1","notebook":"team-alice-2bd806c9-0a1b","request_id":"r1""#));
    }

    #[test]
    fn a_written_line_reads_back_the_same() {
        for outcome in [Outcome::Issued, Outcome::Rejected, Outcome::Error, Outcome::Skipped] {
            let line = DecisionLine { outcome, ..issued() };
            let text = serde_json::to_string(&line).unwrap();
            assert_eq!(serde_json::from_str::<DecisionLine>(&text).unwrap(), line);
            assert_eq!(serde_json::to_value(outcome).unwrap(), outcome.as_str());
        }
    }

    #[test]
    fn a_reader_takes_trimmed_lines_and_refuses_unknown_outcomes() {
        let line: DecisionLine = serde_json::from_str(r#"{"outcome":"error","extra":1}"#).unwrap();
        assert_eq!(line.outcome, Outcome::Error);
        assert_eq!((line.reason.as_ref(), line.user_hash, line.key.as_str()), ("", None, ""));
        assert_eq!(line.notebook, None, "a line written before `notebook` existed");
        assert!(serde_json::from_str::<DecisionLine>(r#"{"outcome":"maybe"}"#).is_err());
        assert!(serde_json::from_str::<DecisionLine>(r#"{"reason":"x"}"#).is_err());
    }
}
