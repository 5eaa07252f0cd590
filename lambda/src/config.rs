//! The validator's configuration, read from its Lambda environment variables.
//!
//! | variable | meaning | allowed (source) |
//! |---|---|---|
//! | `SANDBOX_STACK_NAME` | AppStream stack name | `^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$` (`DescribeSessions` `StackName`) |
//! | `SANDBOX_FLEET_NAME` | AppStream fleet name | same pattern (`DescribeSessions` `FleetName`) |
//! | `SANDBOX_NOTEBOOK_MODE` | how notebooks are given out | `per_user` or `shared` (the blueprint's `notebook.mode`) |
//! | `SANDBOX_NOTEBOOK_NAME` | the shared notebook instance; set in `shared` mode only, and then required | <= 63 chars, `[a-zA-Z0-9](-*[a-zA-Z0-9])*` (`CreatePresignedNotebookInstanceUrl`) |
//! | `SANDBOX_ALLOW_LIST_PREFIX` | SSM path of the allow-list entries | exactly `/sandboxc/<env>/users/` (`sandboxc_contract::users::allow_list_prefix`), `<env>` the blueprint's name: see [`environment_of_prefix`] |
//! | `SANDBOX_SESSION_EXPIRATION_SECONDS` | pre-signed URL session, seconds | integer 1800..=43200 (`SessionExpirationDurationInSeconds`) |
//! | `SANDBOX_HOME_FOLDER_BUCKET` | AppStream home-folder bucket | S3 bucket name rules: 3..=63 of `[a-z0-9.-]`, starting and ending with a letter or digit |
//!
//! In both modes a URL is issued only to a user whose allow-list entry
//! (`<SANDBOX_ALLOW_LIST_PREFIX><sha256 of the user ID>`) exists: in `per_user` mode for the
//! entry's own notebook, which must be one of the user's own notebook names
//! (`sandboxc_contract::users::is_notebook_of` the environment and the user ID, so that an
//! entry rewritten to name another user's notebook is refused), in `shared` mode for
//! `SANDBOX_NOTEBOOK_NAME`. A `shared` sandbox without users therefore gives nobody a URL
//! (the compiler lists every user of the blueprint).
//!
//! Sources: the AppStream, SageMaker and SSM API references, S3 bucket naming rules. The
//! names of the variables and the session bounds are the contract with the compiler, which
//! writes them (`sandboxc_contract::validator`).

use std::fmt;

use sandboxc_contract::users::{allow_list_prefix, is_notebook_of};
pub use sandboxc_contract::validator::{
    environment, NotebookMode, ENV_ALLOW_LIST_PREFIX, ENV_FLEET_NAME, ENV_HOME_FOLDER_BUCKET, ENV_NOTEBOOK_MODE,
    ENV_NOTEBOOK_NAME, ENV_SESSION_EXPIRATION_SECONDS, ENV_STACK_NAME, MAX_SESSION_EXPIRATION_SECONDS,
    MIN_SESSION_EXPIRATION_SECONDS, NOTEBOOK_START_DEADLINE_SECONDS, NOTEBOOK_START_POLL_SECONDS,
};

/// Which notebook a listed user gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notebooks {
    /// `per_user`: the notebook named in the user's own allow-list entry.
    PerUser,
    /// `shared`: this notebook instance (`SANDBOX_NOTEBOOK_NAME`), for every listed user.
    Shared(String),
}

impl Notebooks {
    /// The mode, as the blueprint and the environment write it.
    pub fn mode(&self) -> NotebookMode {
        match self {
            Notebooks::PerUser => NotebookMode::PerUser,
            Notebooks::Shared(_) => NotebookMode::Shared,
        }
    }
}

/// The validator's settings; every field has been checked against the AWS API's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorConfig {
    /// AppStream stack name (`SANDBOX_STACK_NAME`).
    pub stack_name: String,
    /// AppStream fleet name (`SANDBOX_FLEET_NAME`).
    pub fleet_name: String,
    /// Which notebook a listed user gets (`SANDBOX_NOTEBOOK_MODE`, `SANDBOX_NOTEBOOK_NAME`).
    pub notebooks: Notebooks,
    /// The environment (the blueprint's name), read from `SANDBOX_ALLOW_LIST_PREFIX`
    /// (`/sandboxc/<env>/users/`): it names the allow-list entries and the users' notebooks.
    pub environment: String,
    /// Pre-signed URL session length in seconds, 1800..=43200
    /// (`SANDBOX_SESSION_EXPIRATION_SECONDS`).
    pub session_expiration_seconds: u32,
    /// The home-folder bucket; events from any other bucket are rejected
    /// (`SANDBOX_HOME_FOLDER_BUCKET`).
    pub home_folder_bucket: String,
    /// How long the validator waits for a notebook to start (not an environment variable: the
    /// contract's constants; tests shorten it).
    pub waiting: NotebookWaiting,
}

/// How long the validator waits for a stopped, stopping or starting notebook to be `InService`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotebookWaiting {
    /// The longest wait, from the first `DescribeNotebookInstance` of the record.
    pub deadline: std::time::Duration,
    /// The pause between two `DescribeNotebookInstance` calls.
    pub poll: std::time::Duration,
}

impl Default for NotebookWaiting {
    /// [`NOTEBOOK_START_DEADLINE_SECONDS`] and [`NOTEBOOK_START_POLL_SECONDS`].
    fn default() -> Self {
        Self {
            deadline: std::time::Duration::from_secs(u64::from(NOTEBOOK_START_DEADLINE_SECONDS)),
            poll: std::time::Duration::from_secs(u64::from(NOTEBOOK_START_POLL_SECONDS)),
        }
    }
}

impl ValidatorConfig {
    /// The SSM parameter holding the allow-list entry of the user with `user_hash` (64
    /// lowercase hex): `/sandboxc/<env>/users/<user_hash>`, as
    /// `sandboxc_contract::users::allow_list_parameter` names it.
    pub fn allow_list_parameter(&self, user_hash: &str) -> String {
        format!("{}{user_hash}", allow_list_prefix(&self.environment))
    }

    /// Whether `name` is a notebook instance of `user_id` in `per_user` mode
    /// (`sandboxc_contract::users::is_notebook_of`: the user's name prefix and a network
    /// generation).
    pub fn is_own_notebook(&self, user_id: &str, name: &str) -> bool {
        is_notebook_of(&self.environment, user_id, name)
    }
}

/// One problem with one environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The variable's name, e.g. `SANDBOX_FLEET_NAME`.
    pub variable: &'static str,
    /// What is wrong and what is allowed, one sentence.
    pub message: String,
}

/// Every problem found in the environment, all at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in the order of the table in this module's docs.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid validator configuration:")?;
        for problem in &self.problems {
            write!(f, " {}: {};", problem.variable, problem.message)?;
        }
        Ok(())
    }
}

const APPSTREAM_NAME_RULE: &str = "1 to 101 characters matching ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$";
const NOTEBOOK_NAME_RULE: &str =
    "1 to 63 characters matching [a-zA-Z0-9](-*[a-zA-Z0-9])* (letters, digits, inner hyphens)";
const MODE_RULE: &str = "per_user or shared";
const PREFIX_RULE: &str =
    "/sandboxc/<env>/users/ with <env> the blueprint's name: 2 to 31 characters of a-z, 0-9 and '-', starting with a letter";
const BUCKET_NAME_RULE: &str = "3 to 63 characters of a-z, 0-9, '.', '-', starting and ending with a letter or digit";

impl ValidatorConfig {
    /// Reads and checks the configuration through `lookup` (in the Lambda:
    /// `|name| std::env::var(name).ok()`). Values are taken exactly as given (no
    /// trimming). Every missing, invalid or (in `per_user` mode) superfluous variable is
    /// listed in the one error, in the order of
    /// [`sandboxc_contract::validator::environment`].
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<ValidatorConfig, ConfigError> {
        let mut problems = Vec::new();
        let mut read = |variable: &'static str, valid: &dyn Fn(&str) -> bool, rule: &str| {
            checked(&mut problems, variable, lookup(variable), valid, rule)
        };
        let stack_name = read(ENV_STACK_NAME, &is_appstream_name, APPSTREAM_NAME_RULE);
        let fleet_name = read(ENV_FLEET_NAME, &is_appstream_name, APPSTREAM_NAME_RULE);
        let mode = read(ENV_NOTEBOOK_MODE, &|v| NotebookMode::parse(v).is_some(), MODE_RULE)
            .and_then(|v| NotebookMode::parse(&v));
        let notebooks = match mode {
            Some(NotebookMode::Shared) => {
                read(ENV_NOTEBOOK_NAME, &is_notebook_name, NOTEBOOK_NAME_RULE).map(Notebooks::Shared)
            }
            Some(NotebookMode::PerUser) => match lookup(ENV_NOTEBOOK_NAME) {
                None => Some(Notebooks::PerUser),
                Some(_) => {
                    problems.push(ConfigProblem {
                        variable: ENV_NOTEBOOK_NAME,
                        message: format!(
                            "is set, but {ENV_NOTEBOOK_MODE} is per_user: each user's notebook comes from their allow-list entry; set it only with {ENV_NOTEBOOK_MODE}=shared"
                        ),
                    });
                    None
                }
            },
            None => None,
        };
        let mut read = |variable: &'static str, valid: &dyn Fn(&str) -> bool, rule: &str| {
            checked(&mut problems, variable, lookup(variable), valid, rule)
        };
        let environment = read(ENV_ALLOW_LIST_PREFIX, &|v| environment_of_prefix(v).is_some(), PREFIX_RULE)
            .and_then(|v| environment_of_prefix(&v).map(str::to_owned));
        let expiration_rule = format!(
            "an integer number of seconds from {MIN_SESSION_EXPIRATION_SECONDS} to {MAX_SESSION_EXPIRATION_SECONDS}"
        );
        let expiration = read(ENV_SESSION_EXPIRATION_SECONDS, &|v| parse_expiration(v).is_some(), &expiration_rule)
            .and_then(|v| parse_expiration(&v));
        let bucket = read(ENV_HOME_FOLDER_BUCKET, &is_bucket_name, BUCKET_NAME_RULE);

        match (stack_name, fleet_name, notebooks, environment, expiration, bucket) {
            (Some(stack_name), Some(fleet_name), Some(notebooks), Some(environment), Some(secs), Some(bucket))
                if problems.is_empty() =>
            {
                Ok(ValidatorConfig {
                    stack_name,
                    fleet_name,
                    notebooks,
                    environment,
                    session_expiration_seconds: secs,
                    home_folder_bucket: bucket,
                    waiting: NotebookWaiting::default(),
                })
            }
            _ => Err(ConfigError { problems }),
        }
    }
}

/// The value of `variable` when it is set and `valid`; otherwise `None`, and the problem
/// (not set, or not allowed) is recorded with `rule`.
fn checked(
    problems: &mut Vec<ConfigProblem>,
    variable: &'static str,
    value: Option<String>,
    valid: &dyn Fn(&str) -> bool,
    rule: &str,
) -> Option<String> {
    match value {
        None => {
            problems.push(ConfigProblem { variable, message: format!("is not set; allowed: {rule}") });
            None
        }
        Some(value) if valid(&value) => Some(value),
        Some(value) => {
            problems.push(ConfigProblem {
                variable,
                message: format!("{} is not allowed; allowed: {rule}", shown(&value)),
            });
            None
        }
    }
}

/// A value as shown in an error: quoted, escaped, at most 80 characters.
fn shown(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}... ({} characters)", value.chars().count())
    }
}

/// `^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$`: AppStream stack and fleet names
/// (`DescribeSessions` `StackName`/`FleetName`).
pub fn is_appstream_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            first.is_ascii_alphanumeric()
                && rest.len() <= 100
                && rest.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        }
        None => false,
    }
}

/// `NotebookInstanceName`: at most 63 characters, `[a-zA-Z0-9](-*[a-zA-Z0-9])*` (letters
/// and digits, hyphens only between them).
pub fn is_notebook_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// The environment of an allow-list prefix, when the prefix is exactly
/// `sandboxc_contract::users::allow_list_prefix(env)` for an environment name of the blueprint
/// (`[a-z][a-z0-9-]{1,30}`): `/sandboxc/team/users/` -> `team`. The prefix is then a valid SSM
/// parameter path (SSM API reference, `PutParameter` `Name`: `a-zA-Z0-9_.-` and `/`, not under
/// `aws` or `ssm`).
pub fn environment_of_prefix(prefix: &str) -> Option<&str> {
    let env = prefix.strip_prefix("/sandboxc/")?.strip_suffix("/users/")?;
    let bytes = env.as_bytes();
    ((2..=31).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-'))
    .then_some(env)
    .filter(|env| allow_list_prefix(env) == prefix)
}

/// S3 general-purpose bucket naming rules: 3..=63 characters of `a-z0-9.-`, beginning and
/// ending with a letter or digit, no `..`.
pub fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-'))
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && !name.contains("..")
}

/// Decimal digits only (no sign, no spaces), within 1800..=43200.
fn parse_expiration(value: &str) -> Option<u32> {
    if value.is_empty() || value.len() > 5 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u32 = value.parse().ok()?;
    (MIN_SESSION_EXPIRATION_SECONDS..=MAX_SESSION_EXPIRATION_SECONDS).contains(&secs).then_some(secs)
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| map.get(name).cloned()
    }

    const GOOD: [(&str, &str); 6] = [
        (ENV_STACK_NAME, "datasandbox-stack"),
        (ENV_FLEET_NAME, "datasandbox-fleet"),
        (ENV_NOTEBOOK_MODE, "per_user"),
        (ENV_ALLOW_LIST_PREFIX, "/sandboxc/datasandbox/users/"),
        (ENV_SESSION_EXPIRATION_SECONDS, "1800"),
        (ENV_HOME_FOLDER_BUCKET, "appstream2-36fb080bb8-us-east-1-123456789012"),
    ];

    #[test]
    fn reads_a_good_environment() {
        let config = ValidatorConfig::from_env(env(&GOOD)).expect("valid");
        assert_eq!(config.stack_name, "datasandbox-stack");
        assert_eq!(config.fleet_name, "datasandbox-fleet");
        assert_eq!(config.notebooks, Notebooks::PerUser);
        assert_eq!(config.environment, "datasandbox");
        let alice = sandboxc_contract::users::notebook_name("datasandbox", "alice", "0a1b");
        assert!(config.is_own_notebook("alice", &alice));
        assert!(!config.is_own_notebook("bob", &alice));
        assert_eq!(config.session_expiration_seconds, 1800);
        assert_eq!(config.home_folder_bucket, "appstream2-36fb080bb8-us-east-1-123456789012");
        let alice = sandboxc_contract::users::user_hash("alice");
        assert_eq!(
            config.allow_list_parameter(&alice),
            sandboxc_contract::users::allow_list_parameter("datasandbox", "alice")
        );
    }

    #[test]
    fn shared_mode_needs_the_shared_notebook_and_per_user_mode_refuses_it() {
        let mut shared = GOOD.to_vec();
        shared[2] = (ENV_NOTEBOOK_MODE, "shared");
        shared.push((ENV_NOTEBOOK_NAME, "datasandbox-notebook"));
        let config = ValidatorConfig::from_env(env(&shared)).expect("valid");
        assert_eq!(config.notebooks, Notebooks::Shared("datasandbox-notebook".into()));
        assert_eq!(config.notebooks.mode(), NotebookMode::Shared);

        shared.pop();
        let err = ValidatorConfig::from_env(env(&shared)).expect_err("no shared notebook");
        assert_eq!(err.problems.len(), 1);
        assert_eq!(err.problems[0].variable, ENV_NOTEBOOK_NAME);
        assert!(err.problems[0].message.starts_with("is not set; allowed: 1 to 63"), "{err}");

        let mut per_user = GOOD.to_vec();
        per_user.push((ENV_NOTEBOOK_NAME, "datasandbox-notebook"));
        let err = ValidatorConfig::from_env(env(&per_user)).expect_err("superfluous");
        assert_eq!(err.problems.len(), 1);
        assert!(
            err.to_string().contains("SANDBOX_NOTEBOOK_NAME: is set, but SANDBOX_NOTEBOOK_MODE is per_user"),
            "{err}"
        );
    }

    #[test]
    fn lists_every_problem_at_once() {
        let err = ValidatorConfig::from_env(env(&[
            (ENV_STACK_NAME, "-bad"),
            (ENV_NOTEBOOK_MODE, "shared"),
            (ENV_NOTEBOOK_NAME, "ends-with-"),
            (ENV_ALLOW_LIST_PREFIX, "/aws/users/"),
            (ENV_SESSION_EXPIRATION_SECONDS, "60"),
            (ENV_HOME_FOLDER_BUCKET, "Upper"),
        ]))
        .expect_err("invalid");
        let variables: Vec<&str> = err.problems.iter().map(|p| p.variable).collect();
        assert_eq!(
            variables,
            [
                ENV_STACK_NAME,
                ENV_FLEET_NAME,
                ENV_NOTEBOOK_NAME,
                ENV_ALLOW_LIST_PREFIX,
                ENV_SESSION_EXPIRATION_SECONDS,
                ENV_HOME_FOLDER_BUCKET
            ]
        );
        let text = err.to_string();
        assert!(text.contains("SANDBOX_FLEET_NAME: is not set; allowed: 1 to 101"), "{text}");
        assert!(text.contains("SANDBOX_SESSION_EXPIRATION_SECONDS: \"60\" is not allowed"), "{text}");
        assert!(text.contains("from 1800 to 43200"), "{text}");
        assert!(text.contains("SANDBOX_ALLOW_LIST_PREFIX: \"/aws/users/\" is not allowed"), "{text}");

        // Nothing set: every variable of the mode-independent environment, in the contract's order.
        let err = ValidatorConfig::from_env(env(&[])).expect_err("empty");
        let variables: Vec<&str> = err.problems.iter().map(|p| p.variable).collect();
        assert_eq!(variables, sandboxc_contract::validator::ENVIRONMENT);
        // A shared sandbox with nothing else set: the contract's shared environment, in order.
        let err = ValidatorConfig::from_env(env(&[(ENV_NOTEBOOK_MODE, "shared")])).expect_err("shared");
        let mut variables: Vec<&str> = err.problems.iter().map(|p| p.variable).collect();
        variables.insert(2, ENV_NOTEBOOK_MODE);
        assert_eq!(variables, environment(NotebookMode::Shared));
        let err = ValidatorConfig::from_env(env(&[(ENV_NOTEBOOK_MODE, "Shared")])).expect_err("bad mode");
        assert!(
            err.to_string().contains("SANDBOX_NOTEBOOK_MODE: \"Shared\" is not allowed; allowed: per_user or shared"),
            "{err}"
        );
    }

    #[test]
    fn allow_list_prefix_rules() {
        for (path, env) in [
            ("/sandboxc/datasandbox/users/", Some("datasandbox")),
            ("/sandboxc/team-1/users/", Some("team-1")),
            ("/sandboxc/ab/users/", Some("ab")),
            ("/sandboxc/a/users/", None),
            ("/sandboxc/1team/users/", None),
            ("/sandboxc/Team/users/", None),
            ("/sandboxc/team_1/users/", None),
            ("/sandboxc/team/x/users/", None),
            ("/sandboxc/team/users", None),
            ("sandboxc/team/users/", None),
            ("/sandboxc//users/", None),
            ("/other/team/users/", None),
        ] {
            assert_eq!(environment_of_prefix(path), env, "{path}");
        }
        let longest = format!("/sandboxc/{}/users/", "a".repeat(31));
        assert!(environment_of_prefix(&longest).is_some());
        assert!(environment_of_prefix(&format!("/sandboxc/{}/users/", "a".repeat(32))).is_none());
    }

    #[test]
    fn expiration_bounds() {
        for (value, ok) in [
            ("1799", false),
            ("1800", true),
            ("43200", true),
            ("43201", false),
            ("+1800", false),
            (" 1800", false),
            ("1800.0", false),
            ("", false),
            ("99999999999999999999", false),
        ] {
            assert_eq!(parse_expiration(value).is_some(), ok, "{value:?}");
        }
    }

    #[test]
    fn name_rules() {
        assert!(is_appstream_name("a"));
        assert!(is_appstream_name(&format!("a{}", "b".repeat(100))));
        assert!(!is_appstream_name(&format!("a{}", "b".repeat(101))));
        assert!(!is_appstream_name("_a"));
        assert!(!is_appstream_name(""));
        assert!(!is_appstream_name("a b"));
        assert!(is_notebook_name("a--b"));
        assert!(is_notebook_name(&"a".repeat(63)));
        assert!(!is_notebook_name(&"a".repeat(64)));
        assert!(!is_notebook_name("-a"));
        assert!(!is_notebook_name("a_b"));
        assert!(is_bucket_name("abc"));
        assert!(!is_bucket_name("ab"));
        assert!(!is_bucket_name("a..b"));
        assert!(!is_bucket_name("abc-"));
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "x".repeat(500);
        let mut pairs = GOOD.to_vec();
        pairs[0] = (ENV_STACK_NAME, &long);
        let err = ValidatorConfig::from_env(env(&pairs)).expect_err("invalid");
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].message.contains("(500 characters)"));
        assert!(err.to_string().len() < 400);
    }
}
