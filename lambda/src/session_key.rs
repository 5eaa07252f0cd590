//! The S3 object key that triggered the validator, parsed into a typed home folder.
//!
//! AppStream 2.0 keeps each user's home folder in the Region's AppStream-owned bucket
//! (`appstream2-36fb080bb8-<region>-<account>`) under
//! `user/<access>/<sha256(user id) as lowercase hex>/` where `<access>` is `custom`
//! (streaming-URL / API users), `federated` (SAML users, NameID hashed exactly as sent)
//! or `userpool` (user-pool users, e-mail hashed). Source: AppStream 2.0 administration
//! guide, "Home folders" (docs/aws-facts.md, "Home folders").
//!
//! The keys the validator acts on are this sandbox's session files,
//! `user/{custom|federated|userpool}/<64 lowercase hex>/.sandboxc/<AppStream stack>/session.json`
//! ([`Layout::Sandbox`], `sandboxc_contract::validator::session_file_path`), and, while a
//! sandbox moves from its S3 notification to EventBridge, the earlier versions' file directly in
//! the home folder, `user/<access>/<hash>/session.json` ([`Layout::Legacy`]). A session file of
//! another sandbox (another stack name in the path) is [`ParsedKey::OtherSandbox`]: the
//! validator skips it without reading or writing. Everything the validator later reads or
//! writes is derived from this parsed key, never from the uploaded JSON.
//!
//! S3 event notifications carry the key form-URL-encoded (`+` is a space, `%XX` escapes),
//! source: S3 user guide, "Event message structure" (`s3.object.key`). [`decode_event_key`]
//! undoes that encoding strictly.

use std::fmt;

use sha2::{Digest, Sha256};

/// The home-folder layout the compiler (IAM statements, notebook script, EventBridge rule)
/// shares: `user/<access>/<hash>/.sandboxc/<stack>/session.json` in, `session_url.txt` next to it
/// out.
pub use sandboxc_contract::validator::{HOME_ROOT, SANDBOX_FOLDER, SESSION_FILE_NAME, URL_FILE_NAME};

/// How the user reached AppStream; the second segment of the home-folder key.
///
/// Source: AppStream 2.0 home folders (`user/custom/`, `user/federated/`,
/// `user/userpool/`) and `DescribeSessions` `AuthenticationType`
/// (`API | SAML | USERPOOL | AWS_AD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// `custom`: streaming-URL (API) users; `AuthenticationType` `API`.
    Custom,
    /// `federated`: SAML 2.0 federated users; `AuthenticationType` `SAML`.
    Federated,
    /// `userpool`: AppStream user-pool users; `AuthenticationType` `USERPOOL`.
    Userpool,
}

impl Access {
    /// Every access type, in a fixed order.
    pub const ALL: [Access; 3] = [Access::Custom, Access::Federated, Access::Userpool];

    /// The folder segment: `"custom"`, `"federated"` or `"userpool"`.
    pub fn folder(self) -> &'static str {
        match self {
            Access::Custom => "custom",
            Access::Federated => "federated",
            Access::Userpool => "userpool",
        }
    }

    /// The `AuthenticationType` to pass to `DescribeSessions` for this folder:
    /// custom -> `"API"`, federated -> `"SAML"`, userpool -> `"USERPOOL"`.
    pub fn authentication_type(self) -> &'static str {
        match self {
            Access::Custom => "API",
            Access::Federated => "SAML",
            Access::Userpool => "USERPOOL",
        }
    }

    /// The access type for a folder segment; exact, case-sensitive match.
    pub fn from_folder(segment: &str) -> Option<Access> {
        Access::ALL.into_iter().find(|a| a.folder() == segment)
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.folder())
    }
}

/// A SHA-256 digest of a user ID: 32 bytes, shown as 64 lowercase hex digits.
///
/// AppStream names each home folder after `sha256(user id)` in lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserHash([u8; 32]);

impl UserHash {
    /// The hash of a user ID exactly as given (UTF-8 bytes, no normalisation).
    pub fn of_user(user: &str) -> UserHash {
        UserHash(Sha256::digest(user.as_bytes()).into())
    }

    /// Parses exactly 64 lowercase hex digits (`[0-9a-f]{64}`); anything else is `None`
    /// (uppercase hex included: AppStream writes lowercase).
    pub fn from_hex(text: &str) -> Option<UserHash> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let (Some(hi), Some(lo)) = (lower_hex_value(pair[0]), lower_hex_value(pair[1])) else {
                return None;
            };
            *slot = (hi << 4) | lo;
        }
        Some(UserHash(out))
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }
}

fn lower_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

impl fmt::Display for UserHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for UserHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserHash({})", self.to_hex())
    }
}

/// Why an event key is not a session file the validator acts on.
///
/// Each variant has a stable snake_case [`code`](KeyRejection::code) used in the decision
/// log. The checks run in the order listed, so a key with several problems always gets
/// the same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum KeyRejection {
    /// `bad_encoding`: a `%` not followed by two hex digits, or the decoded bytes are not
    /// UTF-8.
    #[error("the object key is not valid form-URL-encoded UTF-8")]
    BadEncoding,
    /// `not_home_folder`: the decoded key does not start with the segment `user`.
    #[error("the object key is not under user/")]
    NotHomeFolder,
    /// `bad_path`: an empty segment (`//`, leading or trailing `/`) or a `.`/`..` segment.
    #[error("the object key has an empty, '.' or '..' segment")]
    BadPath,
    /// `not_session_file`: neither `user/<access>/<hash>/.sandboxc/<stack>/session.json` nor
    /// `user/<access>/<hash>/session.json`.
    #[error("the object key is not a home folder's session file")]
    NotSessionFile,
    /// `bad_access_type`: the second segment is not `custom`, `federated` or `userpool`.
    #[error("the object key's access type is not custom, federated or userpool")]
    BadAccessType,
    /// `bad_user_hash`: the third segment is not 64 lowercase hex digits.
    #[error("the object key's user hash is not 64 lowercase hex digits")]
    BadUserHash,
}

impl KeyRejection {
    /// The stable snake_case reason code.
    pub fn code(self) -> &'static str {
        match self {
            KeyRejection::BadEncoding => "bad_encoding",
            KeyRejection::NotHomeFolder => "not_home_folder",
            KeyRejection::BadPath => "bad_path",
            KeyRejection::NotSessionFile => "not_session_file",
            KeyRejection::BadAccessType => "bad_access_type",
            KeyRejection::BadUserHash => "bad_user_hash",
        }
    }
}

/// Decodes an S3 event key (`application/x-www-form-urlencoded` rules): `+` becomes a
/// space, `%XX` (either hex case) becomes the byte `XX`, every other character stays.
/// A `%` without two hex digits after it, or a result that is not UTF-8, is
/// [`KeyRejection::BadEncoding`].
pub fn decode_event_key(raw: &str) -> Result<String, KeyRejection> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|d| any_hex_value(*d));
                let lo = bytes.get(i + 2).and_then(|d| any_hex_value(*d));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(KeyRejection::BadEncoding);
                };
                out.push((hi << 4) | lo);
                i += 3;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| KeyRejection::BadEncoding)
}

fn any_hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// Where in the home folder a session file of this sandbox is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `user/<access>/<hash>/.sandboxc/<stack>/session.json`, `<stack>` the configured AppStream
    /// stack (this version's notebook script).
    Sandbox(String),
    /// `user/<access>/<hash>/session.json`: the notebook script of earlier versions, answered in
    /// the same folder. Only the S3 notification of earlier versions delivers it (this version's
    /// EventBridge rule matches [`Layout::Sandbox`] keys only), so it is served while a sandbox
    /// moves from one dispatch to the other and no session file written meanwhile is lost.
    Legacy,
}

/// A home folder's session-file key of this sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    /// The access type (second key segment).
    pub access: Access,
    /// The folder's user hash (third key segment).
    pub user_hash: UserHash,
    /// Where in the folder the file is.
    pub layout: Layout,
}

/// A parsed session-file key: this sandbox's, or another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ParsedKey {
    /// A session file of this sandbox.
    Ours(SessionKey),
    /// A well-formed session file of another sandbox (another AppStream stack in its path): the
    /// validator skips it, neither reading nor writing anything.
    OtherSandbox {
        /// The home folder's user hash.
        user_hash: UserHash,
    },
}

impl SessionKey {
    /// Parses a key exactly as it appears in an S3 event record (`s3.object.key`,
    /// form-URL-encoded): decodes it with [`decode_event_key`], then applies
    /// [`SessionKey::parse_decoded`].
    pub fn parse_event_key(raw: &str, own_stack: &str) -> Result<ParsedKey, KeyRejection> {
        SessionKey::parse_decoded(&decode_event_key(raw)?, own_stack)
    }

    /// Parses an already decoded object key, for the sandbox whose AppStream stack is
    /// `own_stack`. Accepts only `user/{custom|federated|userpool}/<64 lowercase
    /// hex>/.sandboxc/<stack>/session.json` (another `<stack>` is [`ParsedKey::OtherSandbox`])
    /// and `user/{custom|federated|userpool}/<64 lowercase hex>/session.json`; checks, in order:
    /// under `user/` (`not_home_folder`), no empty/`.`/`..` segment (`bad_path`), one of the two
    /// shapes ending in `session.json` (`not_session_file`), access type (`bad_access_type`),
    /// user hash (`bad_user_hash`).
    pub fn parse_decoded(key: &str, own_stack: &str) -> Result<ParsedKey, KeyRejection> {
        let segments: Vec<&str> = key.split('/').collect();
        if segments.first() != Some(&HOME_ROOT) {
            return Err(KeyRejection::NotHomeFolder);
        }
        if segments.iter().any(|s| s.is_empty() || *s == "." || *s == "..") {
            return Err(KeyRejection::BadPath);
        }
        let (access, hash, stack) = match segments.as_slice() {
            [_, access, hash, file] if *file == SESSION_FILE_NAME => (access, hash, None),
            [_, access, hash, folder, stack, file] if *folder == SANDBOX_FOLDER && *file == SESSION_FILE_NAME => {
                (access, hash, Some(*stack))
            }
            _ => return Err(KeyRejection::NotSessionFile),
        };
        let access = Access::from_folder(access).ok_or(KeyRejection::BadAccessType)?;
        let user_hash = UserHash::from_hex(hash).ok_or(KeyRejection::BadUserHash)?;
        let layout = match stack {
            None => Layout::Legacy,
            Some(stack) if stack == own_stack => Layout::Sandbox(stack.to_owned()),
            Some(_) => return Ok(ParsedKey::OtherSandbox { user_hash }),
        };
        Ok(ParsedKey::Ours(SessionKey { access, user_hash, layout }))
    }

    /// The home folder, with its trailing slash: `user/<access>/<hash>/`.
    pub fn home_folder(&self) -> String {
        format!("{HOME_ROOT}/{}/{}/", self.access.folder(), self.user_hash)
    }

    /// The folder of the session file, with its trailing slash: the home folder, and
    /// `.sandboxc/<stack>/` in it for [`Layout::Sandbox`].
    pub fn file_folder(&self) -> String {
        match &self.layout {
            Layout::Sandbox(stack) => format!("{}{SANDBOX_FOLDER}/{stack}/", self.home_folder()),
            Layout::Legacy => self.home_folder(),
        }
    }

    /// The key of the session file itself.
    pub fn session_key(&self) -> String {
        format!("{}{SESSION_FILE_NAME}", self.file_folder())
    }

    /// The key the validator writes its answer to: `session_url.txt` next to the session file.
    pub fn url_key(&self) -> String {
        format!("{}{URL_FILE_NAME}", self.file_folder())
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // sha256("") — FIPS 180-2 test vector.
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    // sha256("abc") — FIPS 180-2 test vector.
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn user_hash_matches_known_vectors() {
        assert_eq!(UserHash::of_user("").to_hex(), EMPTY_SHA256);
        assert_eq!(UserHash::of_user("abc").to_hex(), ABC_SHA256);
        assert_eq!(UserHash::from_hex(ABC_SHA256), Some(UserHash::of_user("abc")));
    }

    #[test]
    fn user_hash_rejects_non_lowercase_hex() {
        assert_eq!(UserHash::from_hex(&ABC_SHA256.to_uppercase()), None);
        assert_eq!(UserHash::from_hex(&ABC_SHA256[..63]), None);
        assert_eq!(UserHash::from_hex(&format!("{ABC_SHA256}0")), None);
        assert_eq!(UserHash::from_hex(&ABC_SHA256.replace('a', "g")), None);
        assert_eq!(UserHash::from_hex(""), None);
        // 64 bytes but multi-byte characters: never a panic on a char boundary.
        assert_eq!(UserHash::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn access_types_map_to_authentication_types() {
        assert_eq!(Access::Custom.authentication_type(), "API");
        assert_eq!(Access::Federated.authentication_type(), "SAML");
        assert_eq!(Access::Userpool.authentication_type(), "USERPOOL");
        for access in Access::ALL {
            assert_eq!(Access::from_folder(access.folder()), Some(access));
        }
        assert_eq!(Access::from_folder("Custom"), None);
    }

    const STACK: &str = "team-stack";

    fn ours(parsed: Result<ParsedKey, KeyRejection>) -> SessionKey {
        match parsed {
            Ok(ParsedKey::Ours(key)) => key,
            other => panic!("not this sandbox's key: {other:?}"),
        }
    }

    #[test]
    fn parses_a_session_key_and_derives_folder_keys() {
        let raw = format!("user/custom/{ABC_SHA256}/session.json");
        let key = ours(SessionKey::parse_event_key(&raw, STACK));
        assert_eq!(key.access, Access::Custom);
        assert_eq!(key.user_hash, UserHash::of_user("abc"));
        assert_eq!(key.layout, Layout::Legacy);
        assert_eq!(key.home_folder(), format!("user/custom/{ABC_SHA256}/"));
        assert_eq!(key.session_key(), raw);
        assert_eq!(key.url_key(), format!("user/custom/{ABC_SHA256}/session_url.txt"));
    }

    #[test]
    fn a_sandbox_key_is_answered_next_to_it() {
        let raw = format!("user/federated/{ABC_SHA256}/.sandboxc/{STACK}/session.json");
        let key = ours(SessionKey::parse_event_key(&raw, STACK));
        assert_eq!(key.layout, Layout::Sandbox(STACK.into()));
        assert_eq!(key.home_folder(), format!("user/federated/{ABC_SHA256}/"));
        assert_eq!(key.session_key(), raw);
        assert_eq!(key.url_key(), format!("user/federated/{ABC_SHA256}/.sandboxc/{STACK}/session_url.txt"));
    }

    #[test]
    fn another_sandbox_key_is_recognised_as_such() {
        for other in ["other-stack", "xteam-stack", "team-stack2", "Team-stack"] {
            let raw = format!("user/custom/{ABC_SHA256}/.sandboxc/{other}/session.json");
            assert_eq!(
                SessionKey::parse_event_key(&raw, STACK),
                Ok(ParsedKey::OtherSandbox { user_hash: UserHash::of_user("abc") }),
                "{other}"
            );
        }
        // Malformed keys of any sandbox are rejected as before, never skipped.
        let h = ABC_SHA256;
        for (key, expected) in [
            (format!("user/custom/{h}/.sandboxc/session.json"), KeyRejection::NotSessionFile),
            (format!("user/custom/{h}/.sandboxc/other/x/session.json"), KeyRejection::NotSessionFile),
            (format!("user/custom/{h}/sandboxc/other/session.json"), KeyRejection::NotSessionFile),
            (format!("user/custom/{h}/.sandboxc/../session.json"), KeyRejection::BadPath),
            (format!("user/saml/{h}/.sandboxc/other/session.json"), KeyRejection::BadAccessType),
            ("user/custom/abc/.sandboxc/other/session.json".into(), KeyRejection::BadUserHash),
        ] {
            assert_eq!(SessionKey::parse_decoded(&key, STACK), Err(expected), "{key}");
        }
    }

    #[test]
    fn decodes_form_url_encoding() {
        assert_eq!(decode_event_key("a+b%20c%2Fd%2fe").as_deref(), Ok("a b c/d/e"));
        assert_eq!(decode_event_key("%C3%A9").as_deref(), Ok("é"));
        assert_eq!(decode_event_key("").as_deref(), Ok(""));
        assert_eq!(decode_event_key("%"), Err(KeyRejection::BadEncoding));
        assert_eq!(decode_event_key("%2"), Err(KeyRejection::BadEncoding));
        assert_eq!(decode_event_key("%zz"), Err(KeyRejection::BadEncoding));
        assert_eq!(decode_event_key("%C3"), Err(KeyRejection::BadEncoding));
        assert_eq!(decode_event_key("%FF%FE"), Err(KeyRejection::BadEncoding));
    }

    #[test]
    fn encoded_separators_are_real_separators() {
        // S3 encodes the real key; `%2F` in the event is a `/` in the object key.
        let raw = format!("user%2Ffederated%2F{ABC_SHA256}%2Fsession%2Ejson");
        let key = ours(SessionKey::parse_event_key(&raw, STACK));
        assert_eq!(key.access, Access::Federated);
    }

    #[test]
    fn rejection_order_is_stable() {
        let h = ABC_SHA256;
        let cases: Vec<(String, KeyRejection)> = vec![
            (String::new(), KeyRejection::NotHomeFolder),
            ("/user/custom/x/session.json".into(), KeyRejection::NotHomeFolder),
            (format!("users/custom/{h}/session.json"), KeyRejection::NotHomeFolder),
            (format!("user/custom/{h}//session.json"), KeyRejection::BadPath),
            (format!("user/custom/{h}/"), KeyRejection::BadPath),
            (format!("user/custom/./{h}/session.json"), KeyRejection::BadPath),
            (format!("user/custom/{h}/x/session.json"), KeyRejection::NotSessionFile),
            (format!("user/custom/{h}/Session.json"), KeyRejection::NotSessionFile),
            ("user/custom/session.json".into(), KeyRejection::NotSessionFile),
            (format!("user/saml/{h}/session.json"), KeyRejection::BadAccessType),
            ("user/custom/abc/session.json".into(), KeyRejection::BadUserHash),
        ];
        for (key, expected) in cases {
            assert_eq!(SessionKey::parse_decoded(&key, STACK), Err(expected), "{key}");
        }
    }

    #[test]
    fn codes_are_snake_case_and_distinct() {
        let all = [
            KeyRejection::BadEncoding,
            KeyRejection::NotHomeFolder,
            KeyRejection::BadPath,
            KeyRejection::NotSessionFile,
            KeyRejection::BadAccessType,
            KeyRejection::BadUserHash,
        ];
        let mut codes: Vec<&str> = all.iter().map(|r| r.code()).collect();
        assert!(codes.iter().all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
