//! The PUT of a custom-resource response to CloudFormation's pre-signed `ResponseURL`.
//!
//! A plain HTTPS/1.1 client on the hyper + rustls stack the AWS SDK already builds
//! (`hyper-util` legacy client, `hyper-rustls` with rustls' aws-lc-rs provider and the
//! system's root certificates). The
//! body goes with `Content-Type` empty, as CloudFormation's own `cfn-response` helpers send
//! it (the URL is signed without a content type). Source: CloudFormation user guide,
//! "Custom resource response objects".
//!
//! `https` is required, except plain `http` to a loopback address (`127.0.0.1`,
//! `localhost`, `[::1]`), which only a test's local listener can be.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long one PUT may take, in seconds, before it counts as failed.
pub const PUT_TIMEOUT_SECONDS: u64 = 10;
/// How many times the PUT is tried.
pub const PUT_ATTEMPTS: u32 = 3;

/// Why the response could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The URL is not `https` (or `http` to loopback), or does not parse.
    #[error("the ResponseURL is not an https URL: {0}")]
    BadUrl(String),
    /// The system's root certificates could not be loaded.
    #[error("cannot load the root certificates: {0}")]
    Certificates(String),
    /// Every attempt failed; the last error.
    #[error("PUT to the ResponseURL failed after {attempts} attempts: {last}")]
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error (connection, timeout, or a non-2xx status).
        last: String,
    },
}

/// Sends response bodies to `ResponseURL`s. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Responder {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl Responder {
    /// A client trusting the system's root certificates (on `provided.al2023`:
    /// `/etc/pki/tls/certs`).
    pub fn new() -> Result<Responder, SendError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| SendError::Certificates(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Responder { client: Client::builder(TokioExecutor::new()).build(connector) })
    }

    /// PUTs `body` to `url`, up to [`PUT_ATTEMPTS`] times, each within
    /// [`PUT_TIMEOUT_SECONDS`]; a 2xx status is success.
    pub async fn send(&self, url: &str, body: Vec<u8>) -> Result<(), SendError> {
        let uri = checked_uri(url)?;
        let body = Bytes::from(body);
        let mut last = String::new();
        for attempt in 1..=PUT_ATTEMPTS {
            match self.put_once(&uri, body.clone()).await {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            if attempt < PUT_ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        }
        Err(SendError::Failed { attempts: PUT_ATTEMPTS, last })
    }

    async fn put_once(&self, uri: &Uri, body: Bytes) -> Result<(), String> {
        let request = Request::builder()
            .method(Method::PUT)
            .uri(uri.clone())
            .header("content-type", "")
            .header("content-length", body.len())
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        let call = self.client.request(request);
        let response = tokio::time::timeout(Duration::from_secs(PUT_TIMEOUT_SECONDS), call)
            .await
            .map_err(|_| format!("no answer within {PUT_TIMEOUT_SECONDS} s"))?
            .map_err(|e| format!("{e:?}"))?;
        let status = response.status();
        // Drain the (small) body so the connection can be reused; its content is not needed.
        let _ = response.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP status {status}"))
        }
    }
}

/// Parses `url`; `https` anywhere, `http` only to a loopback host.
fn checked_uri(url: &str) -> Result<Uri, SendError> {
    let uri: Uri = url.parse().map_err(|_| SendError::BadUrl(shown(url)))?;
    let loopback = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback => Ok(uri),
        _ => Err(SendError::BadUrl(shown(url))),
    }
}

/// The URL without its query (the signature), at most 200 characters.
fn shown(url: &str) -> String {
    let base = url.split('?').next().unwrap_or_default();
    base.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(checked_uri("https://example.com/a?X-Amz-Signature=1").is_ok());
        assert!(checked_uri("http://127.0.0.1:8080/r").is_ok());
        assert!(checked_uri("http://localhost/r").is_ok());
        assert_eq!(checked_uri("http://example.com/r?secret"), Err(SendError::BadUrl("http://example.com/r".into())));
        assert!(checked_uri("ftp://example.com/").is_err());
        assert!(checked_uri("not a url").is_err());
    }
}
