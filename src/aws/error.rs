//! What a failed AWS call says, for every service sandboxc calls: the error code and message
//! the service answered (read from the raw answer when the SDK could not parse it), or the
//! transport problem (a timeout, a refused connection) with the endpoint it concerns.

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};

/// Characters of an unreadable answer's body quoted in a message.
const BODY_EXCERPT: usize = 300;

/// One failed call, examined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFailure {
    /// The service's error code (`ValidationError`, `NoSuchBucket`...), if it answered one.
    pub code: Option<String>,
    /// The service's message; without a code, the whole problem for people.
    pub message: String,
    /// How the call failed.
    pub kind: FailureKind,
    /// The HTTP status of the answer, when there was one.
    pub http_status: Option<u16>,
}

/// How a call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The service answered with an error (its code is in [`CallFailure::code`] when known).
    Service,
    /// The answer could not be understood: neither the SDK nor sandboxc found an error code in
    /// it (an emulator or proxy that does not implement the call).
    Unreadable,
    /// No answer within the call timeout.
    Timeout,
    /// No connection (refused, DNS, TLS, or not within the connect timeout).
    Connection,
    /// The request could not be built or sent for another reason.
    Other,
}

/// Examines a failed call of `service` `api` to `endpoint` (named in transport problems).
pub fn examine<E>(service: &str, api: &str, endpoint: &str, e: &SdkError<E>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let failure = |kind, message| CallFailure { code: None, message, kind, http_status: None };
    match e {
        SdkError::TimeoutError(_) => {
            return failure(
                FailureKind::Timeout,
                format!(
                    "no answer from {endpoint} to {service} {api} in time ({}); the endpoint accepts connections but does not answer: check AWS_ENDPOINT_URL and proxies, or raise --call-timeout on a slow network",
                    chain(e)
                ),
            )
        }
        SdkError::DispatchFailure(d) => {
            let hint = if d.is_timeout() {
                "; raise --connect-timeout on a slow network"
            } else {
                "; check the network, AWS_ENDPOINT_URL and proxies"
            };
            return failure(
                FailureKind::Connection,
                format!("cannot reach {endpoint} for {service} {api} ({}){hint}", chain(e)),
            );
        }
        SdkError::ConstructionFailure(_) => return failure(FailureKind::Other, chain(e)),
        _ => {}
    }
    let http_status = e.raw_response().map(|r| r.status().as_u16());
    if let Some(code) = e.code().filter(|c| !c.is_empty()) {
        return CallFailure {
            code: Some(code.to_string()),
            message: e.message().unwrap_or_default().to_string(),
            kind: FailureKind::Service,
            http_status,
        };
    }
    let Some(raw) = e.raw_response() else { return failure(FailureKind::Other, chain(e)) };
    let body = raw.body().bytes().map(String::from_utf8_lossy).unwrap_or_default();
    let header = |name: &str| raw.headers().get(name).map(str::to_string);
    // The SDK could not parse the error answer: read its code and message ourselves.
    let from_header =
        header("x-amzn-query-error").or_else(|| header("x-amzn-ErrorType")).map(|c| clean_code(&c).to_string());
    match raw_error(&body).map(|(c, m)| (Some(c), m)).or_else(|| from_header.map(|c| (Some(c), String::new()))) {
        Some((code, message)) => CallFailure { code, message, kind: FailureKind::Service, http_status },
        None => {
            let status = raw.status().as_u16();
            let excerpt: String = body.chars().take(BODY_EXCERPT).collect();
            let quoted = if excerpt.trim().is_empty() {
                "an empty body".to_string()
            } else {
                format!("the body {:?}", excerpt.trim())
            };
            failure(
                FailureKind::Unreadable,
                format!("{endpoint} answered {service} {api} with HTTP {status} and {quoted}, which is not an AWS error answer ({})", chain(e)),
            )
            .with_status(status)
        }
    }
}

impl CallFailure {
    fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// `code: message`, or the message alone without a code.
    #[must_use]
    pub fn describe(&self) -> String {
        match &self.code {
            Some(code) if self.message.is_empty() => code.clone(),
            Some(code) => format!("{code}: {}", self.message),
            None => self.message.clone(),
        }
    }

    /// Whether the service answered 404 (or one of S3's not-found codes).
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        self.http_status == Some(404) || matches!(self.code.as_deref(), Some("NotFound" | "NoSuchKey" | "404"))
    }
}

/// `x-amzn-query-error: Code;Sender` and `x-amzn-ErrorType: Code:http://...` hold the code
/// before the first `;` or `:`.
fn clean_code(header: &str) -> &str {
    header.split([';', ':']).next().unwrap_or(header).trim()
}

/// The error code and message of an AWS error answer the SDK could not parse: XML
/// (`<Error><Code>...</Code><Message>...</Message></Error>`, wrapped in `ErrorResponse` or
/// not) or JSON (`{"__type": "...", "message": "..."}`, also `code`/`Code`/`Message`).
#[must_use]
pub fn raw_error(body: &str) -> Option<(String, String)> {
    let body = body.trim();
    if body.starts_with('{') {
        let v: serde_json::Value = serde_json::from_str(body).ok()?;
        let text = |keys: &[&str]| keys.iter().find_map(|k| v.get(*k).and_then(serde_json::Value::as_str));
        let code = text(&["__type", "code", "Code"])?;
        // `__type` may be `namespace#Code`.
        let code = code.rsplit('#').next().unwrap_or(code);
        let message = text(&["message", "Message", "errorMessage"]).unwrap_or_default();
        return (!code.is_empty()).then(|| (code.to_string(), message.to_string()));
    }
    let code = xml_element(body, "Code")?;
    let message = xml_element(body, "Message").unwrap_or_default();
    (!code.is_empty()).then_some((code, message))
}

/// The text of the first `<name>...</name>` element, unescaped.
fn xml_element(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = body.find(&open)? + open.len();
    let end = start + body[start..].find(&close)?;
    Some(
        body[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// An error and its sources, one after another, joined by `: ` (no debug representation).
#[must_use]
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut at = e.source();
    while let Some(s) = at {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        at = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_error_answers_are_read() {
        let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>AlreadyExistsException</Code><Message>Stack [a] already exists &amp; more</Message></Error></ErrorResponse>";
        assert_eq!(raw_error(xml), Some(("AlreadyExistsException".into(), "Stack [a] already exists & more".into())));
        let json = r#"{"__type":"com.amazonaws.cloudformation#ResourceAlreadyExistsException","message":"exists"}"#;
        assert_eq!(raw_error(json), Some(("ResourceAlreadyExistsException".into(), "exists".into())));
        assert_eq!(raw_error(""), None);
        assert_eq!(raw_error("<html>Bad Gateway</html>"), None);
        assert_eq!(clean_code("ThrottlingException;Sender"), "ThrottlingException");
        assert_eq!(clean_code("ResourceNotFoundException:http://internal.amazon.com/"), "ResourceNotFoundException");
    }
}
