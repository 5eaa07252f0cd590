//! AppStream streaming sessions as `DescribeSessions` returns them, and the rule that
//! decides whether a claimed session is real.
//!
//! `DescribeSessions` (AppStream 2.0 API): request `StackName`, `FleetName`, `UserId`
//! (2..=128 chars, requires `AuthenticationType` `API | SAML | USERPOOL | AWS_AD`),
//! `Limit` <= 50, paginated with `NextToken`. Each `Session` has `Id`, `UserId`,
//! `StackName`, `FleetName`, `State` (`ACTIVE | PENDING | EXPIRED`) and optionally
//! `AuthenticationType`. The validator reads *every* page (the reference app only looked
//! at `Sessions[0]`).

use serde::{Deserialize, Serialize};

/// `Session.State`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// `ACTIVE`: the user is streaming.
    Active,
    /// `PENDING`: the session is being set up.
    Pending,
    /// `EXPIRED`: the session has ended.
    Expired,
    /// Any value this code does not know, kept verbatim.
    Other(String),
}

impl SessionState {
    /// The API's spelling: `ACTIVE`, `PENDING`, `EXPIRED`, or the unknown value.
    pub fn as_str(&self) -> &str {
        match self {
            SessionState::Active => "ACTIVE",
            SessionState::Pending => "PENDING",
            SessionState::Expired => "EXPIRED",
            SessionState::Other(other) => other,
        }
    }
}

impl From<&str> for SessionState {
    /// Exact, case-sensitive: `"active"` is `Other("active")`.
    fn from(value: &str) -> SessionState {
        match value {
            "ACTIVE" => SessionState::Active,
            "PENDING" => SessionState::Pending,
            "EXPIRED" => SessionState::Expired,
            other => SessionState::Other(other.to_owned()),
        }
    }
}

impl From<String> for SessionState {
    fn from(value: String) -> SessionState {
        SessionState::from(value.as_str())
    }
}

impl From<SessionState> for String {
    fn from(state: SessionState) -> String {
        state.as_str().to_owned()
    }
}

impl Serialize for SessionState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SessionState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<SessionState, D::Error> {
        String::deserialize(deserializer).map(SessionState::from)
    }
}

/// The fields of an AppStream `Session` the validator needs (API JSON names in
/// PascalCase; other fields are ignored when deserializing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Session {
    /// `Id`: the session ID (a UUID in practice).
    pub id: String,
    /// `UserId`: the user ID the session belongs to.
    pub user_id: String,
    /// `State`.
    pub state: SessionState,
    /// `AuthenticationType` (`API | SAML | USERPOOL | AWS_AD`); optional in the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_type: Option<String>,
}

/// Why no active session matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionRejection {
    /// `session_not_found`: no session on any page has that ID for that user (and
    /// authentication type).
    #[error("no session with that ID belongs to that user")]
    NotFound,
    /// `session_not_active`: the user's session exists but is not `ACTIVE`; carries the
    /// last non-active state seen.
    #[error("the session is {} rather than ACTIVE", .0.as_str())]
    NotActive(SessionState),
}

impl SessionRejection {
    /// The stable snake_case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            SessionRejection::NotFound => "session_not_found",
            SessionRejection::NotActive(_) => "session_not_active",
        }
    }
}

/// The outcome of [`find_active`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The session exists, belongs to the user and is `ACTIVE`.
    Active(Session),
    /// It does not.
    Rejected(SessionRejection),
}

/// Looks through every page of `DescribeSessions` for a session with exactly this `Id`,
/// exactly this `UserId` and state `ACTIVE`. A session whose `AuthenticationType` is
/// present and differs from `authentication_type` (e.g. `SAML` for a `custom` folder)
/// does not count. All pages are read: a match on page two counts; a non-active match
/// does not stop the search.
pub fn find_active(
    pages: impl IntoIterator<Item = Vec<Session>>,
    session_id: &str,
    user: &str,
    authentication_type: &str,
) -> Decision {
    let mut inactive = None;
    for page in pages {
        for session in page {
            let same_type = session.authentication_type.as_deref().is_none_or(|t| t == authentication_type);
            if session.id != session_id || session.user_id != user || !same_type {
                continue;
            }
            if session.state == SessionState::Active {
                return Decision::Active(session);
            }
            inactive = Some(session.state);
        }
    }
    Decision::Rejected(match inactive {
        Some(state) => SessionRejection::NotActive(state),
        None => SessionRejection::NotFound,
    })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    fn session(id: &str, user: &str, state: &str) -> Session {
        Session { id: id.into(), user_id: user.into(), state: state.into(), authentication_type: Some("API".into()) }
    }

    #[test]
    fn finds_an_active_session_on_a_later_page() {
        let pages = vec![vec![session("s1", "alice", "EXPIRED")], vec![], vec![session("s2", "alice", "ACTIVE")]];
        let got = find_active(pages, "s2", "alice", "API");
        assert_eq!(got, Decision::Active(session("s2", "alice", "ACTIVE")));
    }

    #[test]
    fn not_found_and_not_active() {
        let pages = || vec![vec![session("s1", "alice", "EXPIRED"), session("s2", "bob", "ACTIVE")]];
        assert_eq!(
            find_active(pages(), "s1", "alice", "API"),
            Decision::Rejected(SessionRejection::NotActive(SessionState::Expired))
        );
        assert_eq!(find_active(pages(), "s2", "alice", "API"), Decision::Rejected(SessionRejection::NotFound));
        assert_eq!(find_active(pages(), "s2", "bob", "SAML"), Decision::Rejected(SessionRejection::NotFound));
        assert_eq!(
            find_active(Vec::<Vec<Session>>::new(), "s", "alice", "API"),
            Decision::Rejected(SessionRejection::NotFound)
        );
    }

    #[test]
    fn missing_authentication_type_is_accepted() {
        let mut s = session("s1", "alice", "ACTIVE");
        s.authentication_type = None;
        let got = find_active(vec![vec![s.clone()]], "s1", "alice", "SAML");
        assert_eq!(got, Decision::Active(s));
    }

    #[test]
    fn unknown_states_are_kept_and_never_active() {
        assert_eq!(SessionState::from("active"), SessionState::Other("active".into()));
        let got = find_active(vec![vec![session("s1", "alice", "STOPPING")]], "s1", "alice", "API");
        assert_eq!(got, Decision::Rejected(SessionRejection::NotActive(SessionState::Other("STOPPING".into()))));
    }

    #[test]
    fn deserializes_the_api_shape() {
        #[derive(Deserialize)]
        #[serde(rename_all = "PascalCase")]
        struct Page {
            sessions: Vec<Session>,
        }
        let json = r#"{"Sessions":[{"Id":"s1","UserId":"alice","StackName":"st","FleetName":"fl",
            "State":"PENDING","ConnectionState":"NOT_CONNECTED","AuthenticationType":"API"}]}"#;
        let page: Page = serde_json::from_str(json).expect("valid");
        assert_eq!(page.sessions, vec![session("s1", "alice", "PENDING")]);
        let back = serde_json::to_value(&page.sessions[0]).expect("serializes");
        assert_eq!(back["State"], "PENDING");
    }
}
