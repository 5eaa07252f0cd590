//! `session.json`, the file the notebook script writes into the user's home folder, and
//! the checks that tie it to the folder it was written in.
//!
//! Shape (one JSON object, UTF-8, at most [`MAX_SESSION_FILE_BYTES`]):
//!
//! ```json
//! {"user": "alice", "sessionId": "3f0c...", "stackName": "datasandbox-stack",
//!  "fleetName": "datasandbox-fleet"}
//! ```
//!
//! The script fills them from the streaming instance's environment variables
//! `AppStream_UserName`, `AppStream_Session_ID`, `AppStream_Stack_Name` and
//! `AppStream_Resource_Name` (AppStream 2.0 administration guide, "Instance metadata").
//! `bucketName` and `prefixName` (written by the reference app) are accepted but never
//! used for routing: if present they must name the configured bucket and the key's home
//! folder. Any other field is a rejection.

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ValidatorConfig;
use crate::session_key::{SessionKey, UserHash};

/// Largest accepted `session.json`, in bytes (16 KiB). A real file is about 200 bytes.
pub const MAX_SESSION_FILE_BYTES: usize = 16 * 1024;
/// Shortest AppStream user ID, in characters (`DescribeSessions` `UserId`: 2..=128).
pub const MIN_USER_CHARS: usize = 2;
/// Longest AppStream user ID, in characters (`DescribeSessions` `UserId`: 2..=128).
pub const MAX_USER_CHARS: usize = 128;
/// Longest accepted session ID, in characters. AppStream session IDs are UUIDs
/// (36 characters); the API model only says "String", so this is a sanity bound.
pub const MAX_SESSION_ID_CHARS: usize = 128;

// The four fields the notebook script writes (rendered by sandboxc from the same names).
use sandboxc_contract::validator::session_file::{
    FLEET_NAME as FIELD_FLEET_NAME, SESSION_ID as FIELD_SESSION_ID, STACK_NAME as FIELD_STACK_NAME, USER as FIELD_USER,
};
// Legacy fields of the reference app, accepted and checked, never written by sandboxc.
const FIELD_BUCKET_NAME: &str = "bucketName";
const FIELD_PREFIX_NAME: &str = "prefixName";

/// Longest field name quoted back in a rejection (the name comes from the upload).
const MAX_SHOWN_FIELD_CHARS: usize = 64;

/// The parsed `session.json`: every field a string, exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFile {
    /// `user`: the AppStream user ID (`AppStream_UserName`).
    pub user: String,
    /// `sessionId`: the AppStream session ID (`AppStream_Session_ID`).
    pub session_id: String,
    /// `stackName`: the AppStream stack (`AppStream_Stack_Name`).
    pub stack_name: String,
    /// `fleetName`: the AppStream fleet (`AppStream_Resource_Name`).
    pub fleet_name: String,
    /// `bucketName` (optional, legacy): must equal the configured home-folder bucket.
    pub bucket_name: Option<String>,
    /// `prefixName` (optional, legacy): must equal the key's home folder.
    pub prefix_name: Option<String>,
}

/// Why the bytes are not a well-formed `session.json`. Checked in the order listed;
/// field problems are reported for the first offending field in document order, then
/// missing fields in the order `user`, `sessionId`, `stackName`, `fleetName`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRejection {
    /// `too_large`: more than [`MAX_SESSION_FILE_BYTES`] bytes.
    #[error("session.json is {bytes} bytes, more than {MAX_SESSION_FILE_BYTES}")]
    TooLarge {
        /// The file's size in bytes.
        bytes: usize,
    },
    /// `not_utf8`: not valid UTF-8 (a UTF-16 file, for example).
    #[error("session.json is not UTF-8")]
    NotUtf8,
    /// `not_json`: not one JSON value (syntax error, trailing data, empty file).
    #[error("session.json is not JSON")]
    NotJson,
    /// `not_object`: valid JSON but not an object.
    #[error("session.json is not a JSON object")]
    NotObject,
    /// `duplicate_field`: a field appears twice.
    #[error("session.json has the field {0:?} twice")]
    DuplicateField(String),
    /// `unknown_field`: a field other than the six known ones (name shortened to 64
    /// characters).
    #[error("session.json has the unknown field {0:?}")]
    UnknownField(String),
    /// `wrong_type`: a known field whose value is not a string (`null` included).
    #[error("session.json field {0:?} is not a string")]
    WrongType(&'static str),
    /// `missing_field`: a required field is absent.
    #[error("session.json has no field {0:?}")]
    MissingField(&'static str),
}

impl FileRejection {
    /// The stable snake_case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            FileRejection::TooLarge { .. } => "too_large",
            FileRejection::NotUtf8 => "not_utf8",
            FileRejection::NotJson => "not_json",
            FileRejection::NotObject => "not_object",
            FileRejection::DuplicateField(_) => "duplicate_field",
            FileRejection::UnknownField(_) => "unknown_field",
            FileRejection::WrongType(_) => "wrong_type",
            FileRejection::MissingField(_) => "missing_field",
        }
    }
}

/// The members of a JSON object in document order, duplicates kept (serde_json's own
/// map would silently keep only the last one).
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Members, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    members.push((key, value));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

impl SessionFile {
    /// Parses the raw object bytes. A leading UTF-8 byte-order mark is skipped (Windows
    /// PowerShell 5.1 writes one with `-Encoding UTF8`); everything else is strict JSON
    /// (no comments, no trailing data, no duplicate fields).
    pub fn parse(bytes: &[u8]) -> Result<SessionFile, FileRejection> {
        if bytes.len() > MAX_SESSION_FILE_BYTES {
            return Err(FileRejection::TooLarge { bytes: bytes.len() });
        }
        let text = std::str::from_utf8(bytes).map_err(|_| FileRejection::NotUtf8)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        // First pass: syntax and top-level type; second pass: members in order.
        let value: Value = serde_json::from_str(text).map_err(|_| FileRejection::NotJson)?;
        if !value.is_object() {
            return Err(FileRejection::NotObject);
        }
        let Members(members) = serde_json::from_str(text).map_err(|_| FileRejection::NotJson)?;

        let mut seen: HashSet<&str> = HashSet::new();
        let mut user = None;
        let mut session_id = None;
        let mut stack_name = None;
        let mut fleet_name = None;
        let mut bucket_name = None;
        let mut prefix_name = None;
        for (name, value) in &members {
            if !seen.insert(name.as_str()) {
                return Err(FileRejection::DuplicateField(shorten(name)));
            }
            let (field, slot) = match name.as_str() {
                FIELD_USER => (FIELD_USER, &mut user),
                FIELD_SESSION_ID => (FIELD_SESSION_ID, &mut session_id),
                FIELD_STACK_NAME => (FIELD_STACK_NAME, &mut stack_name),
                FIELD_FLEET_NAME => (FIELD_FLEET_NAME, &mut fleet_name),
                FIELD_BUCKET_NAME => (FIELD_BUCKET_NAME, &mut bucket_name),
                FIELD_PREFIX_NAME => (FIELD_PREFIX_NAME, &mut prefix_name),
                _ => return Err(FileRejection::UnknownField(shorten(name))),
            };
            let Value::String(text) = value else {
                return Err(FileRejection::WrongType(field));
            };
            *slot = Some(text.clone());
        }
        Ok(SessionFile {
            user: user.ok_or(FileRejection::MissingField(FIELD_USER))?,
            session_id: session_id.ok_or(FileRejection::MissingField(FIELD_SESSION_ID))?,
            stack_name: stack_name.ok_or(FileRejection::MissingField(FIELD_STACK_NAME))?,
            fleet_name: fleet_name.ok_or(FileRejection::MissingField(FIELD_FLEET_NAME))?,
            bucket_name,
            prefix_name,
        })
    }
}

fn shorten(name: &str) -> String {
    name.chars().take(MAX_SHOWN_FIELD_CHARS).collect()
}

/// Why a well-formed `session.json` does not match its folder or this sandbox. Checked
/// in the order listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CheckRejection {
    /// `bad_user`: `user` is not 2..=128 characters, or contains a control character.
    #[error("the user ID is not 2 to 128 characters without control characters")]
    BadUser,
    /// `bad_session_id`: `sessionId` is not 1..=128 printable ASCII characters without
    /// spaces.
    #[error("the session ID is not 1 to 128 printable ASCII characters")]
    BadSessionId,
    /// `user_mismatch`: `sha256(user)` is not the folder's hash.
    #[error("sha256(user) is not the home folder's hash")]
    UserMismatch,
    /// `stack_mismatch`: `stackName` is not the configured AppStream stack.
    #[error("stackName is not this sandbox's AppStream stack")]
    StackMismatch,
    /// `fleet_mismatch`: `fleetName` is not the configured fleet.
    #[error("fleetName is not this sandbox's fleet")]
    FleetMismatch,
    /// `bucket_mismatch`: `bucketName` is present and is not the home-folder bucket.
    #[error("bucketName is not the home-folder bucket")]
    BucketMismatch,
    /// `prefix_mismatch`: `prefixName` is present and is not the key's home folder
    /// (with or without its trailing `/`).
    #[error("prefixName is not the home folder of the uploaded key")]
    PrefixMismatch,
}

impl CheckRejection {
    /// The stable snake_case reason code.
    pub fn code(self) -> &'static str {
        match self {
            CheckRejection::BadUser => "bad_user",
            CheckRejection::BadSessionId => "bad_session_id",
            CheckRejection::UserMismatch => "user_mismatch",
            CheckRejection::StackMismatch => "stack_mismatch",
            CheckRejection::FleetMismatch => "fleet_mismatch",
            CheckRejection::BucketMismatch => "bucket_mismatch",
            CheckRejection::PrefixMismatch => "prefix_mismatch",
        }
    }
}

/// A session file that belongs to the folder it was found in and to this sandbox: what
/// the validator then asks AppStream about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaim {
    /// The home folder (from the object key, never from the JSON).
    pub key: SessionKey,
    /// The user ID; `sha256(user)` is `key.user_hash`.
    pub user: String,
    /// The claimed AppStream session ID.
    pub session_id: String,
}

impl SessionClaim {
    /// The `AuthenticationType` for `DescribeSessions` (`API`, `SAML` or `USERPOOL`).
    pub fn authentication_type(&self) -> &'static str {
        self.key.access.authentication_type()
    }
}

/// Ties a parsed file to its key and the configuration; see [`CheckRejection`] for the
/// order of the checks.
pub fn check(file: &SessionFile, key: &SessionKey, config: &ValidatorConfig) -> Result<SessionClaim, CheckRejection> {
    let user_chars = file.user.chars().count();
    if !(MIN_USER_CHARS..=MAX_USER_CHARS).contains(&user_chars) || file.user.chars().any(char::is_control) {
        return Err(CheckRejection::BadUser);
    }
    let id = file.session_id.as_bytes();
    if id.is_empty() || id.len() > MAX_SESSION_ID_CHARS || !id.iter().all(u8::is_ascii_graphic) {
        return Err(CheckRejection::BadSessionId);
    }
    if UserHash::of_user(&file.user) != key.user_hash {
        return Err(CheckRejection::UserMismatch);
    }
    if file.stack_name != config.stack_name {
        return Err(CheckRejection::StackMismatch);
    }
    if file.fleet_name != config.fleet_name {
        return Err(CheckRejection::FleetMismatch);
    }
    if file.bucket_name.as_ref().is_some_and(|b| *b != config.home_folder_bucket) {
        return Err(CheckRejection::BucketMismatch);
    }
    if let Some(prefix) = &file.prefix_name {
        let folder = key.home_folder();
        let bare = folder.trim_end_matches('/');
        if prefix != &folder && prefix != bare {
            return Err(CheckRejection::PrefixMismatch);
        }
    }
    Ok(SessionClaim { key: key.clone(), user: file.user.clone(), session_id: file.session_id.clone() })
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use crate::session_key::Access;

    fn config() -> ValidatorConfig {
        ValidatorConfig {
            stack_name: "st".into(),
            fleet_name: "fl".into(),
            notebooks: crate::config::Notebooks::PerUser,
            environment: "team".into(),
            session_expiration_seconds: 1800,
            home_folder_bucket: "home-bucket".into(),
            waiting: crate::config::NotebookWaiting::default(),
        }
    }

    fn key_for(user: &str) -> SessionKey {
        SessionKey {
            access: Access::Custom,
            user_hash: UserHash::of_user(user),
            layout: crate::session_key::Layout::Legacy,
        }
    }

    fn file(user: &str) -> SessionFile {
        SessionFile {
            user: user.into(),
            session_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            stack_name: "st".into(),
            fleet_name: "fl".into(),
            bucket_name: None,
            prefix_name: None,
        }
    }

    fn parse(text: &str) -> Result<SessionFile, FileRejection> {
        SessionFile::parse(text.as_bytes())
    }

    #[test]
    fn parses_the_four_fields() {
        let parsed = parse(r#"{"user":"alice","sessionId":"s-1","stackName":"st","fleetName":"fl"}"#).expect("valid");
        assert_eq!(parsed.user, "alice");
        assert_eq!(parsed.session_id, "s-1");
        assert_eq!(parsed.stack_name, "st");
        assert_eq!(parsed.fleet_name, "fl");
        assert_eq!(parsed.bucket_name, None);
    }

    #[test]
    fn accepts_a_byte_order_mark() {
        let text = "\u{feff}{\"user\":\"al\",\"sessionId\":\"s\",\"stackName\":\"st\",\"fleetName\":\"fl\"}";
        assert!(parse(text).is_ok());
    }

    #[test]
    fn structural_rejections() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "not_json"),
            (b"{", "not_json"),
            (b"{} {}", "not_json"),
            (b"{/*c*/}", "not_json"),
            (b"[]", "not_object"),
            (b"\"user\"", "not_object"),
            (b"\xff\xfe{\x00}\x00", "not_utf8"),
            (br#"{"user":"a","user":"b"}"#, "duplicate_field"),
            (br#"{"user":1}"#, "wrong_type"),
        ];
        for (bytes, code) in cases {
            let got = SessionFile::parse(bytes).map(|_| ()).map_err(|e| e.code());
            assert_eq!(got, Err(code), "{:?}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn first_problem_in_document_order_wins() {
        assert_eq!(parse(r#"{"extra":1,"user":2}"#), Err(FileRejection::UnknownField("extra".into())));
        assert_eq!(parse(r#"{"user":null,"extra":1}"#), Err(FileRejection::WrongType("user")));
        assert_eq!(parse(r#"{"stackName":"s"}"#), Err(FileRejection::MissingField("user")));
        assert_eq!(
            parse(r#"{"user":"u","sessionId":"s","stackName":"st"}"#),
            Err(FileRejection::MissingField("fleetName"))
        );
    }

    #[test]
    fn size_limit_is_inclusive() {
        let body = format!(
            r#"{{"user":"alice","sessionId":"s","stackName":"st","fleetName":"fl"}}{}"#,
            " ".repeat(MAX_SESSION_FILE_BYTES)
        );
        let exact = &body.as_bytes()[..MAX_SESSION_FILE_BYTES];
        assert!(SessionFile::parse(exact).is_ok());
        assert_eq!(
            SessionFile::parse(&body.as_bytes()[..=MAX_SESSION_FILE_BYTES]),
            Err(FileRejection::TooLarge { bytes: MAX_SESSION_FILE_BYTES + 1 })
        );
    }

    #[test]
    fn deep_nesting_is_a_rejection_not_a_crash() {
        let deep = format!("{{\"user\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(parse(&deep).map_err(|e| e.code()), Err("not_json"));
    }

    #[test]
    fn unknown_field_names_are_shortened() {
        let name = "x".repeat(1000);
        let got = parse(&format!("{{\"{name}\":1}}"));
        assert_eq!(got, Err(FileRejection::UnknownField("x".repeat(64))));
    }

    #[test]
    fn check_accepts_a_matching_file() {
        let claim = check(&file("alice"), &key_for("alice"), &config()).expect("valid");
        assert_eq!(claim.user, "alice");
        assert_eq!(claim.authentication_type(), "API");
        assert_eq!(claim.key, key_for("alice"));
    }

    #[test]
    fn check_rejections() {
        let key = key_for("alice");
        let mut cases: Vec<(SessionFile, SessionKey, CheckRejection)> = Vec::new();
        cases.push((file("a"), key_for("a"), CheckRejection::BadUser));
        cases.push((file(&"u".repeat(129)), key_for(&"u".repeat(129)), CheckRejection::BadUser));
        cases.push((file("al\nice"), key_for("al\nice"), CheckRejection::BadUser));
        let mut f = file("alice");
        f.session_id = String::new();
        cases.push((f, key.clone(), CheckRejection::BadSessionId));
        let mut f = file("alice");
        f.session_id = "a b".into();
        cases.push((f, key.clone(), CheckRejection::BadSessionId));
        let mut f = file("alice");
        f.session_id = "s".repeat(129);
        cases.push((f, key.clone(), CheckRejection::BadSessionId));
        cases.push((file("mallory"), key.clone(), CheckRejection::UserMismatch));
        cases.push((file("Alice"), key.clone(), CheckRejection::UserMismatch));
        let mut f = file("alice");
        f.stack_name = "other".into();
        cases.push((f, key.clone(), CheckRejection::StackMismatch));
        let mut f = file("alice");
        f.fleet_name = "other".into();
        cases.push((f, key.clone(), CheckRejection::FleetMismatch));
        let mut f = file("alice");
        f.bucket_name = Some("attacker-bucket".into());
        cases.push((f, key.clone(), CheckRejection::BucketMismatch));
        let mut f = file("alice");
        f.prefix_name = Some(key_for("mallory").home_folder());
        cases.push((f, key.clone(), CheckRejection::PrefixMismatch));
        for (f, k, expected) in cases {
            assert_eq!(check(&f, &k, &config()), Err(expected), "{f:?}");
        }
    }

    #[test]
    fn legacy_fields_that_match_are_ignored() {
        let key = key_for("alice");
        let mut f = file("alice");
        f.bucket_name = Some("home-bucket".into());
        f.prefix_name = Some(key.home_folder());
        assert!(check(&f, &key, &config()).is_ok());
        f.prefix_name = Some(key.home_folder().trim_end_matches('/').to_owned());
        assert!(check(&f, &key, &config()).is_ok());
    }
}
