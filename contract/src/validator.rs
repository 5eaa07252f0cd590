//! The session validator Lambda: its environment, and the home-folder files it reads and
//! writes.
//!
//! The compiler writes the environment into the function's `Environment.Variables`
//! (`AWS::Lambda::Function`), the IAM statements that let it read [`SESSION_FILE_NAME`]
//! and write [`URL_FILE_NAME`], and the EventBridge rule that sends it the sandbox's own session
//! files ([`session_key_pattern`]); the notebook script (rendered by sandboxc) writes
//! [`session_file_path`] with the [`session_file`] fields and waits for [`url_file_path`]; the
//! Lambda crate reads all of them. The provider Lambda has no environment variables.

/// Environment variable: the AppStream stack name (`DescribeSessions` `StackName`).
pub const ENV_STACK_NAME: &str = "SANDBOX_STACK_NAME";
/// Environment variable: the AppStream fleet name (`DescribeSessions` `FleetName`).
pub const ENV_FLEET_NAME: &str = "SANDBOX_FLEET_NAME";
/// Environment variable: the SageMaker notebook instance name
/// (`CreatePresignedNotebookInstanceUrl` `NotebookInstanceName`) of the shared notebook; set
/// only, and then required, in [`NotebookMode::Shared`] (not part of [`ENVIRONMENT`]; see
/// [`environment`]). In [`NotebookMode::PerUser`] each user's notebook comes from their
/// allow-list entry and the Lambda refuses to start when this variable is set.
pub const ENV_NOTEBOOK_NAME: &str = "SANDBOX_NOTEBOOK_NAME";
/// Environment variable: how notebooks are given out, [`NotebookMode`] as written in the
/// blueprint (`per_user` or `shared`).
pub const ENV_NOTEBOOK_MODE: &str = "SANDBOX_NOTEBOOK_MODE";
/// Environment variable: the SSM Parameter Store path under which the allow-list entries live
/// ([`crate::users::allow_list_prefix`], `/sandboxc/<env>/users/`).
pub const ENV_ALLOW_LIST_PREFIX: &str = "SANDBOX_ALLOW_LIST_PREFIX";

/// How notebooks are given out (`notebook.mode` in the blueprint).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotebookMode {
    /// Each user of the allow-list gets a URL to their own notebook instance only.
    #[default]
    PerUser,
    /// The reference app's posture: one notebook for every valid session of a user on the
    /// allow-list. The allow list is enforced in this mode too (the compiler lists every user
    /// of the blueprint): a blueprint in shared mode without users gives nobody a URL.
    Shared,
}

impl NotebookMode {
    /// The value as written in the blueprint and the environment: `per_user` or `shared`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PerUser => "per_user",
            Self::Shared => "shared",
        }
    }

    /// The mode written as [`NotebookMode::as_str`] gives it (exact, case-sensitive), or `None`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::PerUser, Self::Shared].into_iter().find(|m| m.as_str() == text)
    }
}
/// Environment variable: the pre-signed URL's session length, whole seconds in decimal,
/// from [`MIN_SESSION_EXPIRATION_SECONDS`] to [`MAX_SESSION_EXPIRATION_SECONDS`].
pub const ENV_SESSION_EXPIRATION_SECONDS: &str = "SANDBOX_SESSION_EXPIRATION_SECONDS";
/// Environment variable: the AppStream home-folder bucket name; events from any other
/// bucket are rejected.
pub const ENV_HOME_FOLDER_BUCKET: &str = "SANDBOX_HOME_FOLDER_BUCKET";

/// Every environment variable the validator always has, in the order the Lambda reports
/// problems. [`ENV_NOTEBOOK_NAME`] is not among them: the compiler sets it only in
/// [`NotebookMode::Shared`] (the one notebook every listed user gets); in
/// [`NotebookMode::PerUser`] the notebook comes from the proven user's allow-list entry
/// ([`crate::users::AllowListEntry::notebook`]).
pub const ENVIRONMENT: [&str; 6] = [
    ENV_STACK_NAME,
    ENV_FLEET_NAME,
    ENV_NOTEBOOK_MODE,
    ENV_ALLOW_LIST_PREFIX,
    ENV_SESSION_EXPIRATION_SECONDS,
    ENV_HOME_FOLDER_BUCKET,
];

/// The validator's environment variables that only some sandboxes have: [`ENV_NOTEBOOK_NAME`],
/// present exactly in [`NotebookMode::Shared`].
pub const OPTIONAL_ENVIRONMENT: [&str; 1] = [ENV_NOTEBOOK_NAME];

/// Exactly the environment variables of a validator in `mode`, in the order the Lambda reports
/// problems: [`ENVIRONMENT`], with [`ENV_NOTEBOOK_NAME`] after [`ENV_NOTEBOOK_MODE`] in
/// [`NotebookMode::Shared`].
#[must_use]
pub fn environment(mode: NotebookMode) -> Vec<&'static str> {
    let mut names = Vec::with_capacity(ENVIRONMENT.len() + 1);
    for name in ENVIRONMENT {
        names.push(name);
        if name == ENV_NOTEBOOK_MODE && mode == NotebookMode::Shared {
            names.push(ENV_NOTEBOOK_NAME);
        }
    }
    names
}

/// Shortest pre-signed notebook URL session, in seconds (30 minutes): the minimum of
/// `SessionExpirationDurationInSeconds` (SageMaker `CreatePresignedNotebookInstanceUrl`).
/// Blueprint validation accepts `notebook.session_expiration` only within these bounds, and
/// the Lambda refuses to start outside them.
pub const MIN_SESSION_EXPIRATION_SECONDS: u32 = 1800;
/// Longest pre-signed notebook URL session, in seconds (12 hours): the maximum of
/// `SessionExpirationDurationInSeconds`.
pub const MAX_SESSION_EXPIRATION_SECONDS: u32 = 43_200;

/// Seconds the validator waits at most for a stopped (or stopping, or starting) notebook to reach
/// `InService` after it asked SageMaker `StartNotebookInstance` (10 minutes; a notebook instance
/// takes a few minutes to start). The validator's Lambda timeout is
/// [`VALIDATOR_TIMEOUT_SECONDS`], and the notebook script waits [`NOTEBOOK_START_WAIT_SECONDS`]
/// after it learns that the notebook is starting.
pub const NOTEBOOK_START_DEADLINE_SECONDS: u32 = 600;
/// Seconds between two `DescribeNotebookInstance` calls while the validator waits.
pub const NOTEBOOK_START_POLL_SECONDS: u32 = 15;
/// The validator Lambda's timeout, in seconds: the start deadline, plus two minutes for the
/// other calls of a record (each at most 10 seconds, retries included) and the answer's write.
pub const VALIDATOR_TIMEOUT_SECONDS: u32 = NOTEBOOK_START_DEADLINE_SECONDS + 120;
/// Seconds the notebook script waits for the final answer once the validator said that the
/// notebook is starting: the validator's whole timeout plus three minutes for the home folder
/// to bring the answer into the session.
pub const NOTEBOOK_START_WAIT_SECONDS: u32 = VALIDATOR_TIMEOUT_SECONDS + 180;
/// How an interim answer starts: the validator writes it into the answer file when it starts
/// the user's notebook, and overwrites it with the final answer (a URL or a message). The
/// notebook script tells the user that the notebook is starting and keeps waiting.
pub const STARTING_PREFIX: &str = "STARTING:";

/// The start of the name of AppStream's home-folder bucket, `appstream2-36fb080bb8-<region>-<account>`:
/// one bucket per account and Region, created by AppStream (AppStream 2.0 administration guide,
/// "Home folder formats"). The compiler names it in the validator's environment and IAM
/// statements, `sandboxc apply` checks that it exists.
pub const HOME_FOLDER_BUCKET_PREFIX: &str = "appstream2-36fb080bb8-";

/// The home-folder bucket of an account and Region.
#[must_use]
pub fn home_folder_bucket(region: &str, account: &str) -> String {
    format!("{HOME_FOLDER_BUCKET_PREFIX}{region}-{account}")
}

/// The first segment of every home-folder key: `user/<access>/<sha256 of the user>/`
/// (AppStream 2.0 administration guide, home folders).
pub const HOME_ROOT: &str = "user";
/// The base name of the file the notebook script writes; its creation triggers the validator.
/// Written at [`session_file_path`] (this version), or directly in the home folder (earlier
/// versions, still answered while a sandbox moves to EventBridge dispatch).
pub const SESSION_FILE_NAME: &str = "session.json";
/// The base name of the file the validator writes its answer to (a pre-signed URL or a message
/// saying why not), next to the session file it answers.
pub const URL_FILE_NAME: &str = "session_url.txt";

/// The folder, inside a home folder, that holds one subfolder per sandbox: `.sandboxc`.
///
/// AppStream gives a user one home folder per Region, shared by every AppStream stack of the
/// account (`user/custom/<sha256(user)>/`, no stack component; AppStream 2.0 administration
/// guide, "Home folder formats"). A person who uses two sandboxes, or a sandbox and another
/// AppStream stack, therefore sees one folder in both; the files of each sandbox live under
/// `.sandboxc/<AppStream stack name>/` so that no sandbox reads or answers another's.
pub const SANDBOX_FOLDER: &str = ".sandboxc";

/// The session file of the sandbox whose AppStream stack is `appstream_stack`, relative to the
/// home folder: `.sandboxc/<appstream_stack>/session.json`. AppStream stack names are unique in
/// an account and Region (`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$`, never `.` or `..`), so two
/// sandboxes never share it. The notebook script writes it; the validator's EventBridge rule
/// matches it ([`session_key_pattern`]).
#[must_use]
pub fn session_file_path(appstream_stack: &str) -> String {
    format!("{SANDBOX_FOLDER}/{appstream_stack}/{SESSION_FILE_NAME}")
}

/// The answer file of the sandbox whose AppStream stack is `appstream_stack`, relative to the
/// home folder: `.sandboxc/<appstream_stack>/session_url.txt`, next to [`session_file_path`].
#[must_use]
pub fn url_file_path(appstream_stack: &str) -> String {
    format!("{SANDBOX_FOLDER}/{appstream_stack}/{URL_FILE_NAME}")
}

/// The EventBridge `wildcard` pattern (EventBridge user guide, "Content filtering in Amazon
/// EventBridge event patterns": `*` matches any run of characters, `/` included) of every
/// session file of one sandbox in any home folder: `user/*/.sandboxc/<appstream_stack>/session.json`.
/// A stack name holds no `*` or `\`, the pattern's only special characters.
#[must_use]
pub fn session_key_pattern(appstream_stack: &str) -> String {
    format!("{HOME_ROOT}/*/{}", session_file_path(appstream_stack))
}

/// The fields of `session.json`: one JSON object of strings, written by the notebook script
/// from the streaming instance's environment, read by the validator.
pub mod session_file {
    /// The AppStream user ID (`AppStream_UserName`).
    pub const USER: &str = "user";
    /// The AppStream session ID (`AppStream_Session_ID`).
    pub const SESSION_ID: &str = "sessionId";
    /// The AppStream stack (`AppStream_Stack_Name`).
    pub const STACK_NAME: &str = "stackName";
    /// The AppStream fleet (`AppStream_Resource_Name`).
    pub const FLEET_NAME: &str = "fleetName";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_notebook_is_named_only_in_shared_mode() {
        assert_eq!(environment(NotebookMode::PerUser), ENVIRONMENT.to_vec());
        let shared = environment(NotebookMode::Shared);
        assert_eq!(shared.len(), ENVIRONMENT.len() + 1);
        assert_eq!(&shared[2..4], [ENV_NOTEBOOK_MODE, ENV_NOTEBOOK_NAME]);
        assert!(!ENVIRONMENT.contains(&ENV_NOTEBOOK_NAME));
    }

    #[test]
    fn each_sandbox_has_its_own_files() {
        assert_eq!(session_file_path("team-stack"), ".sandboxc/team-stack/session.json");
        assert_eq!(url_file_path("team-stack"), ".sandboxc/team-stack/session_url.txt");
        assert_eq!(session_key_pattern("team-stack"), "user/*/.sandboxc/team-stack/session.json");
        // One stack's name ending with another's never makes the files of one the other's.
        assert!(!session_file_path("xa-stack").ends_with(&format!("/{}", session_file_path("a-stack"))));
    }

    #[test]
    fn modes_parse_as_written() {
        for mode in [NotebookMode::PerUser, NotebookMode::Shared] {
            assert_eq!(NotebookMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(NotebookMode::parse("Shared"), None);
        assert_eq!(NotebookMode::parse("per-user"), None);
    }
}
