//! `sandboxc connect`: a streaming URL for one user of the deployed sandbox, without SAML
//! (AppStream `CreateStreamingURL`, the console's "Create streaming URL").
//!
//! Everything AWS would refuse is refused here first, before any call ([`request`]): the user
//! ID against the API's rules (2 to 32 characters of `[\w+=,.@-]`), the validity (1 second to
//! 7 days), and, in `per_user` notebook mode, a user the blueprint does not list or lists with
//! SAML authentication (the validator would refuse them a notebook: it issues a URL only to a
//! user on the deployed allow-list, for the session kind the allow-list names). The call goes
//! through the [`StreamingUrls`] trait (implemented over the AWS SDK by `src/aws`, scripted by
//! the tests), and every refusal of AWS becomes a [`ConnectError`] naming the AppStream stack and
//! fleet and what to do.
//!
//! The URL lets whoever holds it start a session as the user until it expires: it lives in a
//! [`StreamingUrl`], whose `Debug` hides it and which has no `Display`, so that only the command
//! line's one deliberate `println` of [`StreamingUrl::expose`] ever shows it. AWS facts:
//! docs/aws-facts.md, "CreateStreamingURL" (AppStream API reference, CreateStreamingURL).

use std::future::Future;

use sandboxc_contract::users::Authentication;
use sandboxc_contract::validator::NotebookMode;

use super::preflight::Place;
use crate::blueprint::duration::Duration;
use crate::blueprint::Blueprint;

/// Shortest `Validity` AppStream accepts, in seconds (AppStream API reference, CreateStreamingURL).
pub const MIN_VALIDITY_SECONDS: u64 = 1;
/// Longest `Validity` AppStream accepts, in seconds: 7 days (AppStream API reference,
/// CreateStreamingURL).
pub const MAX_VALIDITY_SECONDS: u64 = 604_800;
/// `sandboxc connect`'s default validity: 10 minutes (AppStream's own default, 60 seconds,
/// is often over before the URL reaches a browser).
pub const DEFAULT_VALIDITY: &str = "10m";
/// Shortest user ID (`UserId`, AppStream API reference, CreateStreamingURL).
pub const MIN_USER_ID_CHARS: usize = 2;
/// Longest user ID (`UserId`, AppStream API reference, CreateStreamingURL).
pub const MAX_USER_ID_CHARS: usize = 32;
/// The API's rule for a user ID, for messages.
pub const USER_ID_RULE: &str =
    "2 to 32 characters, each a letter, a digit or one of _ + = , . @ - (AppStream CreateStreamingURL UserId, [\\w+=,.@-])";

/// One `CreateStreamingURL` request, checked ([`request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The AppStream stack (`StackName`).
    pub stack_name: String,
    /// The AppStream fleet (`FleetName`).
    pub fleet_name: String,
    /// The user (`UserId`), checked against [`USER_ID_RULE`].
    pub user_id: String,
    /// How long the URL is valid (`Validity`), in seconds, 1..=604800.
    pub validity_seconds: u64,
    /// The application to launch (`ApplicationId`: its name in the image's application catalog,
    /// or `Desktop`), if any.
    pub application_id: Option<String>,
    /// Said on standard error before the call (never the URL): e.g. that a user of a `shared`
    /// sandbox is not listed.
    pub notes: Vec<String>,
}

/// Why `connect` refuses before any AWS call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The user ID breaks the API's rule.
    #[error("--user {id:?}: {problem}; allowed: {USER_ID_RULE}")]
    UserId {
        /// The ID as given.
        id: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The validity is not a duration, or out of range.
    #[error("--validity {text:?}: {problem}; allowed: 1s to 7d (1 to 604800 seconds), written like the blueprint's durations: 90s, 10m, 4h, 2d")]
    Validity {
        /// The value as given.
        text: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An empty `--application`.
    #[error("--application is empty: give the application's name in the image's application catalog (its Name in Image Assistant), or Desktop")]
    Application,
    /// `per_user` mode and the user is not listed.
    #[error("user {user:?} is not in the blueprint's `users` of sandbox {env} (notebook.mode per_user): the validator gives a notebook only to a listed user, so a session would have none; {hint}")]
    NotListed {
        /// The user ID.
        user: String,
        /// The environment (the blueprint's name).
        env: String,
        /// What to do (a listed user differing only in case, or how to add the user).
        hint: String,
    },
    /// `per_user` mode and the user is listed with SAML authentication.
    #[error("user {user:?} is listed with `authentication: saml` in sandbox {env}: they start sessions through the identity provider, and the validator refuses a notebook to their streaming-URL session (it looks for a SAML session); sign them in through the identity provider, or set `authentication: api` for them and apply")]
    SamlUser {
        /// The user ID.
        user: String,
        /// The environment (the blueprint's name).
        env: String,
    },
}

/// How AWS refused a `CreateStreamingURL` call (the error codes of the AppStream API
/// reference, CreateStreamingURL, and the common `AccessDeniedException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlFailureKind {
    /// `ResourceNotFoundException`: no such stack or fleet.
    NotFound,
    /// `ResourceNotAvailableException`: it exists but is not available (a stopped fleet).
    NotAvailable,
    /// `OperationNotPermittedException`.
    NotPermitted,
    /// `InvalidParameterCombinationException` or `ValidationException`.
    InvalidRequest,
    /// `AccessDeniedException` (or any `AccessDenied` code): the credentials may not call it.
    AccessDenied,
    /// The answer had no URL, or one that is not `https://`.
    NoUrl,
    /// Anything else: another code, a timeout, no connection (the message says which).
    Other,
}

/// A failed `CreateStreamingURL` call, as the [`StreamingUrls`] implementation examined it.
/// Its message never holds the answer's body of a successful HTTP status (it may hold a URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCallError {
    /// What kind of refusal.
    pub kind: UrlFailureKind,
    /// The service's `code: message`, or the transport problem with the endpoint.
    pub message: String,
}

/// A streaming URL: a secret until it expires. `Debug` shows only its length; there is no
/// `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct StreamingUrl {
    url: String,
    /// When it expires (`Expires`), seconds since the Unix epoch, if AWS said.
    pub expires_epoch_seconds: Option<i64>,
}

impl StreamingUrl {
    /// A URL as AWS answered it.
    #[must_use]
    pub fn new(url: String, expires_epoch_seconds: Option<i64>) -> Self {
        Self { url, expires_epoch_seconds }
    }

    /// The URL itself: for the one line on standard output, or the browser.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.url
    }
}

impl std::fmt::Debug for StreamingUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingUrl")
            .field("url", &format_args!("<{} characters, hidden>", self.url.len()))
            .field("expires_epoch_seconds", &self.expires_epoch_seconds)
            .finish()
    }
}

/// AppStream `CreateStreamingURL`. Implemented over the AWS SDK by `src/aws` (with the
/// timeouts of every client), scripted by the tests.
pub trait StreamingUrls {
    /// `CreateStreamingURL` with `StackName`, `FleetName`, `UserId`, `Validity` and, when
    /// given, `ApplicationId`.
    ///
    /// # Errors
    /// [`UrlCallError`].
    fn create_streaming_url(
        &self,
        request: &Request,
    ) -> impl Future<Output = Result<StreamingUrl, UrlCallError>> + Send;
}

/// A refused or failed `CreateStreamingURL`, with the stack and fleet it was for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectError {
    /// What kind of refusal.
    pub kind: UrlFailureKind,
    /// The AppStream stack.
    pub stack: String,
    /// The AppStream fleet.
    pub fleet: String,
    /// Where the call went.
    pub place: Place,
    /// What AWS said (or the transport problem).
    pub message: String,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (stack, fleet, said) = (&self.stack, &self.fleet, &self.message);
        let (account, region) = (&self.place.account, &self.place.region);
        match self.kind {
            UrlFailureKind::NotFound => write!(
                f,
                "AppStream has no stack {stack} or no fleet {fleet} in account {account}, {region} ({said}): deploy the sandbox (`sandboxc apply`), or choose the account and Region it is deployed in (--profile, --region); the fleet's name carries the blueprint's `appstream.fleet_type`, so a type changed since the last apply names a fleet that does not exist yet (`sandboxc status` shows the deployed stack)"
            ),
            UrlFailureKind::NotAvailable => write!(
                f,
                "AppStream stack {stack} or fleet {fleet} exists but is not available ({said}): a stopped or starting fleet cannot stream; see its state with `aws appstream describe-fleets --names {fleet} --region {region}`, start it with `aws appstream start-fleet --name {fleet} --region {region}`, and connect again once it is RUNNING"
            ),
            UrlFailureKind::NotPermitted => write!(
                f,
                "AppStream does not permit a streaming URL for stack {stack} and fleet {fleet} ({said}): the fleet must be associated with the stack and running (`aws appstream list-associated-fleets --stack-name {stack} --region {region}`, `aws appstream describe-fleets --names {fleet} --region {region}`)"
            ),
            UrlFailureKind::InvalidRequest => write!(
                f,
                "AppStream refused the request for stack {stack} and fleet {fleet} ({said}): check --user and --application (the application's Name in the image's application catalog, or Desktop)"
            ),
            UrlFailureKind::AccessDenied => write!(
                f,
                "the credentials in use may not create streaming URLs for stack {stack} and fleet {fleet} ({said}): they need appstream:CreateStreamingURL on arn:{p}:appstream:{region}:{account}:stack/{stack} and arn:{p}:appstream:{region}:{account}:fleet/{fleet}",
                p = self.place.partition
            ),
            UrlFailureKind::NoUrl => {
                write!(f, "AppStream answered CreateStreamingURL for stack {stack} and fleet {fleet} without a usable URL ({said})")
            }
            UrlFailureKind::Other => {
                write!(f, "AppStream CreateStreamingURL for stack {stack} and fleet {fleet} failed: {said}")
            }
        }
    }
}

impl std::error::Error for ConnectError {}

/// Checks a user ID against the API's rule ([`USER_ID_RULE`]).
///
/// # Errors
/// [`Refusal::UserId`] saying what is wrong.
pub fn check_user_id(id: &str) -> Result<(), Refusal> {
    let refuse = |problem: String| Err(Refusal::UserId { id: id.to_string(), problem });
    let n = id.chars().count();
    if n < MIN_USER_ID_CHARS {
        return refuse(format!("{n} character{}, too short", if n == 1 { "" } else { "s" }));
    }
    if n > MAX_USER_ID_CHARS {
        return refuse(format!("{n} characters, too long"));
    }
    // `\w` in the API's pattern: ASCII letters, digits and `_`.
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c))) {
        return refuse(format!("the character {c:?} is not allowed"));
    }
    Ok(())
}

/// Parses a validity (`90s`, `10m`, `4h`, `2d`) and checks AppStream's range.
///
/// # Errors
/// [`Refusal::Validity`].
pub fn parse_validity(text: &str) -> Result<u64, Refusal> {
    let refuse = |problem: String| Refusal::Validity { text: text.to_string(), problem };
    let seconds = Duration::parse(text).map_err(|_| refuse("not a duration".into()))?.as_secs();
    if seconds < MIN_VALIDITY_SECONDS {
        return Err(refuse("a URL must be valid for at least 1 second".into()));
    }
    if seconds > MAX_VALIDITY_SECONDS {
        return Err(refuse(format!("{seconds} seconds is longer than AppStream allows")));
    }
    Ok(seconds)
}

/// The checked request for `user` of the sandbox of `blueprint`: the AppStream stack and fleet
/// names the compiler gives (`Names::appstream_stack`, `Names::fleet` of the blueprint's fleet
/// type), the user ID, the validity and the application. In `per_user` notebook mode the user
/// must be listed, with API (streaming-URL) authentication; in `shared` mode an unlisted user is
/// allowed with a note (the session starts, but the validator gives them no notebook).
///
/// # Errors
/// [`Refusal`].
pub fn request(
    blueprint: &Blueprint,
    user: &str,
    validity: &str,
    application: Option<&str>,
) -> Result<Request, Refusal> {
    check_user_id(user)?;
    let validity_seconds = parse_validity(validity)?;
    if application.is_some_and(|a| a.trim().is_empty()) {
        return Err(Refusal::Application);
    }
    let env = blueprint.name.clone();
    let listed = blueprint.users.iter().find(|u| u.id == user);
    let mut notes = Vec::new();
    match (blueprint.notebook.mode, listed) {
        (NotebookMode::PerUser, None) => {
            let near = blueprint.users.iter().find(|u| u.id.eq_ignore_ascii_case(user));
            let hint = match near {
                Some(u) => format!(
                    "the blueprint lists {:?}, which differs only in case (AppStream user IDs are compared exactly)",
                    u.id
                ),
                None => "add them to `users` (with `authentication: api`) and run `sandboxc apply` first".to_string(),
            };
            return Err(Refusal::NotListed { user: user.to_string(), env, hint });
        }
        (NotebookMode::PerUser, Some(u)) if u.authentication == Authentication::Saml => {
            return Err(Refusal::SamlUser { user: user.to_string(), env });
        }
        (NotebookMode::Shared, None) => notes.push(format!(
            "note: user {user:?} is not in the blueprint's `users`: the session starts, but the validator gives them no notebook"
        )),
        (NotebookMode::Shared, Some(u)) if u.authentication == Authentication::Saml => notes.push(format!(
            "note: user {user:?} is listed with `authentication: saml`: the validator gives a notebook only to their SAML sessions"
        )),
        _ => {}
    }
    Ok(Request {
        stack_name: blueprint.names.appstream_stack.clone(),
        fleet_name: blueprint.names.fleet(blueprint.appstream.fleet_type),
        user_id: user.to_string(),
        validity_seconds,
        application_id: application.map(str::to_string),
        notes,
    })
}

/// Creates the streaming URL of a checked request at `place` (where the credentials are).
///
/// # Errors
/// [`ConnectError`] naming the stack and the fleet, and what to do.
pub async fn connect<S: StreamingUrls>(
    urls: &S,
    request: &Request,
    place: &Place,
) -> Result<StreamingUrl, ConnectError> {
    let error = |kind, message| ConnectError {
        kind,
        stack: request.stack_name.clone(),
        fleet: request.fleet_name.clone(),
        place: place.clone(),
        message,
    };
    let url = urls.create_streaming_url(request).await.map_err(|e| error(e.kind, e.message))?;
    if url.expose().is_empty() {
        return Err(error(UrlFailureKind::NoUrl, "the answer has no StreamingURL".into()));
    }
    if !url.expose().starts_with("https://") {
        // Not shown: whatever it is, it may be a working URL.
        return Err(error(UrlFailureKind::NoUrl, "the StreamingURL it answered is not an https:// URL".into()));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_follow_the_api_rule() {
        for ok in ["ab", "alice@example.org", "a_b+c=d,e.f@g-h", &"x".repeat(32)] {
            assert_eq!(check_user_id(ok), Ok(()), "{ok}");
        }
        for (bad, problem) in [
            ("a", "1 character, too short"),
            ("", "0 characters, too short"),
            (&"x".repeat(33), "33 characters, too long"),
            ("alice smith", "the character ' ' is not allowed"),
            ("bob/../x", "the character '/' is not allowed"),
            ("zoë", "the character 'ë' is not allowed"),
        ] {
            let e = check_user_id(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(problem) && e.contains("2 to 32 characters"), "{bad}: {e}");
        }
    }

    #[test]
    fn validity_is_a_duration_from_one_second_to_seven_days() {
        assert_eq!(parse_validity("1s"), Ok(1));
        assert_eq!(parse_validity("10m"), Ok(600));
        assert_eq!(parse_validity("7d"), Ok(604_800));
        assert_eq!(parse_validity("168h"), Ok(604_800));
        for (bad, problem) in [
            ("0", "at least 1 second"),
            ("8d", "longer than AppStream allows"),
            ("604801s", "longer"),
            ("ten", "not a duration"),
            ("10", "not a duration"),
        ] {
            let e = parse_validity(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(problem) && e.contains("1s to 7d"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_url_is_hidden_from_debug() {
        let url = StreamingUrl::new("https://appstream2.example/secret-token".into(), Some(5));
        let shown = format!("{url:?}");
        assert!(!shown.contains("secret-token") && shown.contains("hidden"), "{shown}");
    }
}
