//! Who may have a notebook URL, once AppStream proved who asks: the allow-list entry of the
//! proven user, and the state of the notebook it names.
//!
//! The compiler writes one SSM parameter per user of the blueprint,
//! `<SANDBOX_ALLOW_LIST_PREFIX><sha256 of the user ID>` (type `String`, tier Standard), whose
//! value is an [`AllowListEntry`] (`{"user_id","authentication","notebook"}`), and
//! CloudFormation deletes it with the user. The validator reads only the entry of the user
//! `DescribeSessions` proved (SSM `GetParameter`), never infers access from anything else
//! (a notebook may outlive its user), and then asks SageMaker `DescribeNotebookInstance`
//! whether the notebook can take a URL. Both answers are judged here, without I/O:
//!
//! - no entry ([`EntryAnswer::NotFound`], SSM `ParameterNotFound`): rejected, `not_listed`;
//! - an entry whose `user_id` is not the proven user, whose authentication is not the one of
//!   the home folder (`api` for `user/custom/`, `saml` for `user/federated/`; no entry allows a
//!   `user/userpool/` folder), or (in `per_user` mode) whose notebook is not the user's own
//!   (`sandboxc_contract::users::is_notebook_of`): rejected, `entry_user_mismatch` /
//!   `entry_authentication_mismatch` / `entry_notebook_mismatch`. So an entry rewritten to
//!   name another user's notebook never yields a URL for it;
//! - a parameter that is not a `String` holding exactly that JSON, or names a notebook SageMaker
//!   would refuse: `error`, `entry_invalid` (the stack's own artifact is damaged);
//! - a notebook SageMaker does not know (`ValidationException`): `error`, `notebook_missing`;
//!   one whose `NotebookInstanceStatus` is not `InService`: `error`,
//!   `notebook_not_in_service`.
//!
//! Sources (docs/aws-facts.md, "SSM Parameter Store" and "SageMaker notebook instances"): SSM
//! API reference, `GetParameter` (errors `ParameterNotFound`,
//! `ParameterVersionNotFound`, `InvalidKeyId`, `InternalServerError`); SageMaker API reference,
//! `DescribeNotebookInstance` (`NotebookInstanceStatus`: `Pending | InService | Stopping |
//! Stopped | Failed | Deleting | Updating`).

use sandboxc_contract::decision::reason;
pub use sandboxc_contract::users::{AllowListEntry, Authentication};

use crate::config::is_notebook_name;
use crate::session_key::Access;

/// The SSM parameter type of an allow-list entry (`AWS::SSM::Parameter` `Type: String`).
pub const ENTRY_PARAMETER_TYPE: &str = "String";

/// The `NotebookInstanceStatus` in which a notebook takes a pre-signed URL.
pub const IN_SERVICE: &str = "InService";

/// What SSM `GetParameter` answered for the proven user's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryAnswer {
    /// `ParameterNotFound`: the user is not on the allow list.
    NotFound,
    /// The parameter: its `Type` (`String`, `StringList`, `SecureString`) and `Value`.
    Found {
        /// `Parameter.Type`.
        parameter_type: String,
        /// `Parameter.Value`.
        value: String,
    },
}

/// Why a listed-or-not user gets no URL. Each variant has a stable reason code
/// ([`sandboxc_contract::decision::reason`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum EntryRefusal {
    /// `not_listed`: no entry for the proven user.
    #[error("the user is not on this sandbox's allow list")]
    NotListed,
    /// `entry_user_mismatch`: the entry under the user's hash names another user ID.
    #[error("the allow-list entry names another user")]
    UserMismatch,
    /// `entry_authentication_mismatch`: the entry's authentication is not the folder's.
    #[error("the allow-list entry's authentication is not the one the session used")]
    AuthenticationMismatch,
    /// `entry_notebook_mismatch`: the entry names a notebook other than the user's own.
    #[error("the allow-list entry names a notebook other than the user's own")]
    NotebookMismatch,
    /// `entry_invalid`: the parameter is not an allow-list entry (type, JSON, notebook name).
    #[error("the allow-list parameter is not an allow-list entry")]
    Invalid,
}

impl EntryRefusal {
    /// The stable snake_case reason code.
    pub fn code(self) -> &'static str {
        match self {
            EntryRefusal::NotListed => reason::NOT_LISTED,
            EntryRefusal::UserMismatch => reason::ENTRY_USER_MISMATCH,
            EntryRefusal::AuthenticationMismatch => reason::ENTRY_AUTHENTICATION_MISMATCH,
            EntryRefusal::NotebookMismatch => reason::ENTRY_NOTEBOOK_MISMATCH,
            EntryRefusal::Invalid => reason::ENTRY_INVALID,
        }
    }
}

/// The authentication an allow-list entry must name for a home folder of `access`, if any
/// may: `custom` folders are `api` users, `federated` folders `saml` users; user-pool users
/// are never on an allow list.
pub fn authentication_of(access: Access) -> Option<Authentication> {
    match access {
        Access::Custom => Some(Authentication::Api),
        Access::Federated => Some(Authentication::Saml),
        Access::Userpool => None,
    }
}

/// The entry of the proven `user`, whose session file came from a home folder of `access`,
/// checked in this order: present, a `String` parameter holding exactly the entry's JSON
/// with a valid notebook name (else [`EntryRefusal::Invalid`]), for this user ID, for this
/// authentication, and, when `per_user_env` is given (`per_user` mode: the environment name),
/// naming one of the user's own notebooks (`sandboxc_contract::users::is_notebook_of`).
pub fn check_entry(
    answer: &EntryAnswer,
    user: &str,
    access: Access,
    per_user_env: Option<&str>,
) -> Result<AllowListEntry, EntryRefusal> {
    let (parameter_type, value) = match answer {
        EntryAnswer::NotFound => return Err(EntryRefusal::NotListed),
        EntryAnswer::Found { parameter_type, value } => (parameter_type, value),
    };
    if parameter_type != ENTRY_PARAMETER_TYPE {
        return Err(EntryRefusal::Invalid);
    }
    let entry: AllowListEntry = serde_json::from_str(value).map_err(|_| EntryRefusal::Invalid)?;
    if !is_notebook_name(&entry.notebook) {
        return Err(EntryRefusal::Invalid);
    }
    if entry.user_id != user {
        return Err(EntryRefusal::UserMismatch);
    }
    if authentication_of(access) != Some(entry.authentication) {
        return Err(EntryRefusal::AuthenticationMismatch);
    }
    if per_user_env.is_some_and(|env| !sandboxc_contract::users::is_notebook_of(env, user, &entry.notebook)) {
        return Err(EntryRefusal::NotebookMismatch);
    }
    Ok(entry)
}

/// What SageMaker `DescribeNotebookInstance` says about the notebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotebookState {
    /// `ValidationException`: no notebook instance of that name (SageMaker answers
    /// `RecordNotFound`).
    Missing,
    /// `NotebookInstanceStatus` as SageMaker spells it (`InService`, `Stopped`, ...; empty when
    /// the answer had none).
    Status(String),
    /// `Failed`, with SageMaker's `FailureReason` (empty when it gave none).
    Failed(String),
    /// The validator started (or waited for) the notebook and it was still not `InService` at
    /// the deadline: the last status seen and the seconds waited.
    StartTimedOut {
        /// The last `NotebookInstanceStatus` seen.
        status: String,
        /// Seconds waited.
        waited_seconds: u32,
    },
}

/// Why the notebook cannot take a URL now.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
pub enum NotebookProblem {
    /// `notebook_missing`.
    #[error("the notebook instance does not exist")]
    Missing,
    /// `notebook_not_in_service`, with the status seen.
    #[error("the notebook instance is {0}, not InService")]
    NotInService(String),
    /// `notebook_failed`, with SageMaker's `FailureReason`.
    #[error("the notebook instance failed: {0}")]
    Failed(String),
    /// `notebook_start_timeout`: not `InService` by the deadline.
    #[error("the notebook instance was not InService within {waited_seconds} seconds (last status {status})")]
    StartTimedOut {
        /// The last status seen.
        status: String,
        /// Seconds waited.
        waited_seconds: u32,
    },
}

impl NotebookProblem {
    /// The stable snake_case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            NotebookProblem::Missing => reason::NOTEBOOK_MISSING,
            NotebookProblem::NotInService(_) => reason::NOTEBOOK_NOT_IN_SERVICE,
            NotebookProblem::Failed(_) => reason::NOTEBOOK_FAILED,
            NotebookProblem::StartTimedOut { .. } => reason::NOTEBOOK_START_TIMEOUT,
        }
    }
}

/// `Ok` when the notebook is `InService`, else why not.
pub fn check_notebook(state: &NotebookState) -> Result<(), NotebookProblem> {
    match state {
        NotebookState::Missing => Err(NotebookProblem::Missing),
        NotebookState::Status(status) if status == IN_SERVICE => Ok(()),
        NotebookState::Status(status) => Err(NotebookProblem::NotInService(status.clone())),
        NotebookState::Failed(why) => Err(NotebookProblem::Failed(why.clone())),
        NotebookState::StartTimedOut { status, waited_seconds } => {
            Err(NotebookProblem::StartTimedOut { status: status.clone(), waited_seconds: *waited_seconds })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(value: &str) -> EntryAnswer {
        EntryAnswer::Found { parameter_type: "String".into(), value: value.into() }
    }

    #[test]
    fn an_entry_must_be_the_proven_users_for_the_folders_authentication() {
        let alice = found(r#"{"user_id":"alice","authentication":"api","notebook":"team-alice-2bd806c9-0a1b"}"#);
        let own = Some("team");
        let entry = check_entry(&alice, "alice", Access::Custom, own);
        assert_eq!(entry.map(|e| e.notebook), Ok("team-alice-2bd806c9-0a1b".to_owned()));
        assert_eq!(check_entry(&alice, "bob", Access::Custom, own), Err(EntryRefusal::UserMismatch));
        assert_eq!(check_entry(&alice, "alice", Access::Federated, own), Err(EntryRefusal::AuthenticationMismatch));
        assert_eq!(check_entry(&alice, "alice", Access::Userpool, own), Err(EntryRefusal::AuthenticationMismatch));
        assert_eq!(check_entry(&EntryAnswer::NotFound, "alice", Access::Custom, own), Err(EntryRefusal::NotListed));
        assert_eq!(
            check_entry(&alice, "alice", Access::Custom, Some("team-bob-81b637d8")),
            Err(EntryRefusal::NotebookMismatch)
        );
        let saml = found(r#"{"user_id":"alice","authentication":"saml","notebook":"nb"}"#);
        assert!(check_entry(&saml, "alice", Access::Federated, None).is_ok(), "shared mode: any valid name");
    }

    #[test]
    fn anything_but_the_entry_json_in_a_string_parameter_is_invalid() {
        for value in [
            "",
            "alice",
            r#"{"user_id":"alice","authentication":"api"}"#,
            r#"{"user_id":"alice","authentication":"api","notebook":"nb","extra":1}"#,
            r#"{"user_id":"alice","authentication":"API","notebook":"nb"}"#,
            r#"{"user_id":"alice","authentication":"api","notebook":"nb_1"}"#,
            r#"{"user_id":"alice","authentication":"api","notebook":""}"#,
        ] {
            assert_eq!(
                check_entry(&found(value), "alice", Access::Custom, None),
                Err(EntryRefusal::Invalid),
                "{value}"
            );
        }
        let secure = EntryAnswer::Found {
            parameter_type: "SecureString".into(),
            value: r#"{"user_id":"alice","authentication":"api","notebook":"nb"}"#.into(),
        };
        assert_eq!(check_entry(&secure, "alice", Access::Custom, None), Err(EntryRefusal::Invalid));
    }

    #[test]
    fn only_an_in_service_notebook_takes_a_url() {
        assert_eq!(check_notebook(&NotebookState::Status("InService".into())), Ok(()));
        assert_eq!(check_notebook(&NotebookState::Missing), Err(NotebookProblem::Missing));
        for status in ["Pending", "Stopping", "Stopped", "Failed", "Deleting", "Updating", "", "inservice"] {
            assert_eq!(
                check_notebook(&NotebookState::Status(status.into())),
                Err(NotebookProblem::NotInService(status.into()))
            );
        }
        assert_eq!(NotebookProblem::Missing.code(), "notebook_missing");
        assert_eq!(NotebookProblem::NotInService("Stopped".into()).code(), "notebook_not_in_service");
    }

    #[test]
    fn refusal_codes_are_the_contracts() {
        let codes: Vec<&str> = [
            EntryRefusal::NotListed,
            EntryRefusal::UserMismatch,
            EntryRefusal::AuthenticationMismatch,
            EntryRefusal::NotebookMismatch,
            EntryRefusal::Invalid,
        ]
        .iter()
        .map(|r| r.code())
        .collect();
        assert_eq!(
            codes,
            [
                "not_listed",
                "entry_user_mismatch",
                "entry_authentication_mismatch",
                "entry_notebook_mismatch",
                "entry_invalid"
            ]
        );
    }
}
