//! The validator's configuration, read from its Lambda environment variables.
//!
//! | variable | meaning | allowed (source) |
//! |---|---|---|
//! | `SANDBOX_STACK_NAME` | AppStream stack name | `^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$` (`DescribeSessions` `StackName`) |
//! | `SANDBOX_FLEET_NAME` | AppStream fleet name | same pattern (`DescribeSessions` `FleetName`) |
//! | `SANDBOX_NOTEBOOK_NAME` | SageMaker notebook instance | <= 63 chars, `[a-zA-Z0-9](-*[a-zA-Z0-9])*` (`CreatePresignedNotebookInstanceUrl`) |
//! | `SANDBOX_SESSION_EXPIRATION_SECONDS` | pre-signed URL session, seconds | integer 1800..=43200 (`SessionExpirationDurationInSeconds`) |
//! | `SANDBOX_HOME_FOLDER_BUCKET` | AppStream home-folder bucket | S3 bucket name rules: 3..=63 of `[a-z0-9.-]`, starting and ending with a letter or digit |
//!
//! Sources: the AppStream and SageMaker API references, S3 bucket naming rules. The names
//! of the variables and the session bounds are the contract with the compiler, which
//! writes them (`sandboxc_contract::validator`).

use std::fmt;

pub use sandboxc_contract::validator::{
    ENV_FLEET_NAME, ENV_HOME_FOLDER_BUCKET, ENV_NOTEBOOK_NAME, ENV_SESSION_EXPIRATION_SECONDS, ENV_STACK_NAME,
    MAX_SESSION_EXPIRATION_SECONDS, MIN_SESSION_EXPIRATION_SECONDS,
};

/// The validator's settings; every field has been checked against the AWS API's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorConfig {
    /// AppStream stack name (`SANDBOX_STACK_NAME`).
    pub stack_name: String,
    /// AppStream fleet name (`SANDBOX_FLEET_NAME`).
    pub fleet_name: String,
    /// SageMaker notebook instance name (`SANDBOX_NOTEBOOK_NAME`).
    pub notebook_name: String,
    /// Pre-signed URL session length in seconds, 1800..=43200
    /// (`SANDBOX_SESSION_EXPIRATION_SECONDS`).
    pub session_expiration_seconds: u32,
    /// The home-folder bucket; events from any other bucket are rejected
    /// (`SANDBOX_HOME_FOLDER_BUCKET`).
    pub home_folder_bucket: String,
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
const BUCKET_NAME_RULE: &str = "3 to 63 characters of a-z, 0-9, '.', '-', starting and ending with a letter or digit";

impl ValidatorConfig {
    /// Reads and checks the configuration through `lookup` (in the Lambda:
    /// `|name| std::env::var(name).ok()`). Values are taken exactly as given (no
    /// trimming). Every missing or invalid variable is listed in the one error.
    pub fn from_env(lookup: impl Fn(&str) -> Option<String>) -> Result<ValidatorConfig, ConfigError> {
        let mut problems = Vec::new();
        let mut read = |variable: &'static str, valid: fn(&str) -> bool, rule: &str| match lookup(variable) {
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
        };
        let stack_name = read(ENV_STACK_NAME, is_appstream_name, APPSTREAM_NAME_RULE);
        let fleet_name = read(ENV_FLEET_NAME, is_appstream_name, APPSTREAM_NAME_RULE);
        let notebook_name = read(ENV_NOTEBOOK_NAME, is_notebook_name, NOTEBOOK_NAME_RULE);
        let expiration_rule = format!(
            "an integer number of seconds from {MIN_SESSION_EXPIRATION_SECONDS} to {MAX_SESSION_EXPIRATION_SECONDS}"
        );
        let expiration = read(ENV_SESSION_EXPIRATION_SECONDS, |v| parse_expiration(v).is_some(), &expiration_rule)
            .and_then(|v| parse_expiration(&v));
        let bucket = read(ENV_HOME_FOLDER_BUCKET, is_bucket_name, BUCKET_NAME_RULE);

        match (stack_name, fleet_name, notebook_name, expiration, bucket) {
            (Some(stack_name), Some(fleet_name), Some(notebook_name), Some(secs), Some(bucket))
                if problems.is_empty() =>
            {
                Ok(ValidatorConfig {
                    stack_name,
                    fleet_name,
                    notebook_name,
                    session_expiration_seconds: secs,
                    home_folder_bucket: bucket,
                })
            }
            _ => Err(ConfigError { problems }),
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

    const GOOD: [(&str, &str); 5] = [
        (ENV_STACK_NAME, "datasandbox-stack"),
        (ENV_FLEET_NAME, "datasandbox-fleet"),
        (ENV_NOTEBOOK_NAME, "datasandbox-notebook"),
        (ENV_SESSION_EXPIRATION_SECONDS, "1800"),
        (ENV_HOME_FOLDER_BUCKET, "appstream2-36fb080bb8-us-east-1-123456789012"),
    ];

    #[test]
    fn reads_a_good_environment() {
        let config = ValidatorConfig::from_env(env(&GOOD)).expect("valid");
        assert_eq!(config.stack_name, "datasandbox-stack");
        assert_eq!(config.fleet_name, "datasandbox-fleet");
        assert_eq!(config.notebook_name, "datasandbox-notebook");
        assert_eq!(config.session_expiration_seconds, 1800);
        assert_eq!(config.home_folder_bucket, "appstream2-36fb080bb8-us-east-1-123456789012");
    }

    #[test]
    fn lists_every_problem_at_once() {
        let err = ValidatorConfig::from_env(env(&[
            (ENV_STACK_NAME, "-bad"),
            (ENV_NOTEBOOK_NAME, "ends-with-"),
            (ENV_SESSION_EXPIRATION_SECONDS, "60"),
            (ENV_HOME_FOLDER_BUCKET, "Upper"),
        ]))
        .expect_err("invalid");
        let variables: Vec<&str> = err.problems.iter().map(|p| p.variable).collect();
        assert_eq!(
            variables,
            [ENV_STACK_NAME, ENV_FLEET_NAME, ENV_NOTEBOOK_NAME, ENV_SESSION_EXPIRATION_SECONDS, ENV_HOME_FOLDER_BUCKET]
        );
        // The whole environment the compiler writes, in this order.
        assert_eq!(variables, sandboxc_contract::validator::ENVIRONMENT);
        let text = err.to_string();
        assert!(text.contains("SANDBOX_FLEET_NAME: is not set; allowed: 1 to 101"), "{text}");
        assert!(text.contains("SANDBOX_SESSION_EXPIRATION_SECONDS: \"60\" is not allowed"), "{text}");
        assert!(text.contains("from 1800 to 43200"), "{text}");
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
