//! Scripted AWS SDK clients for the flow tests: the real SDK with `aws-smithy-mocks`
//! rules in place of the network, fake credentials, region us-east-1, and the standard
//! retry policy (3 attempts) with a 1 ms initial backoff so retried throttling is fast.

#![allow(dead_code)]

/// An SDK client of `$krate` answering from `$rules` (any matching rule, repeatedly).
#[macro_export]
macro_rules! scripted_client {
    ($krate:ident, $rules:expr) => {{
        let mut interceptor =
            aws_smithy_mocks::MockResponseInterceptor::new().rule_mode(aws_smithy_mocks::RuleMode::MatchAny);
        for rule in $rules {
            interceptor = interceptor.with_rule(rule);
        }
        let config = $krate::Config::builder()
            .behavior_version($krate::config::BehaviorVersion::latest())
            .region($krate::config::Region::new("us-east-1"))
            .credentials_provider($krate::config::Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(aws_smithy_mocks::create_mock_http_client())
            .interceptor(interceptor)
            .retry_config(
                $krate::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(std::time::Duration::from_millis(1)),
            )
            .build();
        $krate::Client::from_conf(config)
    }};
}

/// An HTTP answer with `status` and `body` (for errors the SDK must parse itself, e.g.
/// AppStream's `ThrottlingException`, which is not a modelled error).
pub fn http(status: u16, body: impl Into<Vec<u8>>) -> aws_sdk_s3::config::http::HttpResponse {
    let body = aws_sdk_s3::primitives::ByteStream::from(body.into()).into_inner();
    match status.try_into() {
        Ok(code) => aws_sdk_s3::config::http::HttpResponse::new(code, body),
        Err(_) => panic!("bad status {status}"),
    }
}

/// An AppStream error: AppStream speaks Smithy RPC v2 CBOR, so the error is a CBOR map
/// `{"__type": code, "message": message}` with the `smithy-protocol: rpc-v2-cbor` header.
pub fn appstream_error(status: u16, code: &str, message: &str) -> aws_sdk_s3::config::http::HttpResponse {
    let mut body = vec![0xa2];
    for text in ["__type", code, "message", message] {
        cbor_text(&mut body, text);
    }
    let mut response = http(status, body);
    response.headers_mut().insert("smithy-protocol", "rpc-v2-cbor");
    response.headers_mut().insert("content-type", "application/cbor");
    response
}

/// A CBOR text string (major type 3) of fewer than 256 bytes.
fn cbor_text(out: &mut Vec<u8>, text: &str) {
    let len = text.len();
    match u8::try_from(len) {
        Ok(small) if small < 24 => out.push(0x60 | small),
        Ok(byte) => out.extend([0x78, byte]),
        Err(_) => panic!("text too long for this encoder"),
    }
    out.extend_from_slice(text.as_bytes());
}

/// The awsJson 1.1 error body SageMaker sends.
pub fn json_error(code: &str, message: &str) -> String {
    serde_json::json!({"__type": code, "message": message}).to_string()
}

/// The restXml error body S3 sends.
pub fn xml_error(code: &str, message: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>R1</RequestId></Error>")
}

/// One request a [`Listener`] received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `PUT`, `GET`, ...
    pub method: String,
    /// The request target, e.g. `/response?sig=1`.
    pub target: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body (by `Content-Length`).
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name` (lowercase), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 server on 127.0.0.1 (an ephemeral port) standing in for
/// CloudFormation's pre-signed response URL: it answers every request with `status` and
/// reports what it received. It stops when dropped (its task is aborted).
pub struct Listener {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    received: tokio::sync::mpsc::UnboundedReceiver<Received>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Starts the listener, answering with `status`.
    pub async fn start(status: u16) -> Listener {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let socket = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(socket) => socket,
            Err(e) => panic!("cannot listen on 127.0.0.1: {e}"),
        };
        let base = match socket.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(e) => panic!("no local address: {e}"),
        };
        let (tx, received) = tokio::sync::mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = socket.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut reader = BufReader::new(stream);
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let mut parts = line.split_whitespace();
                        let method = parts.next().unwrap_or_default().to_owned();
                        let target = parts.next().unwrap_or_default().to_owned();
                        let mut headers = Vec::new();
                        loop {
                            let mut header = String::new();
                            if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                                return;
                            }
                            let header = header.trim_end();
                            if header.is_empty() {
                                break;
                            }
                            if let Some((name, value)) = header.split_once(':') {
                                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                            }
                        }
                        let length: usize = headers
                            .iter()
                            .find(|(n, _)| n == "content-length")
                            .and_then(|(_, v)| v.parse().ok())
                            .unwrap_or(0);
                        let mut body = vec![0; length.min(1 << 20)];
                        if reader.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let _ = tx.send(Received { method, target, headers, body });
                        let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                        if reader.get_mut().write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Listener { base, received, task }
    }

    /// The next received request, waiting at most 5 s.
    pub async fn next(&mut self) -> Option<Received> {
        tokio::time::timeout(std::time::Duration::from_secs(5), self.received.recv()).await.ok().flatten()
    }

    /// Every request received so far, without waiting.
    pub fn drain(&mut self) -> Vec<Received> {
        let mut all = Vec::new();
        while let Ok(r) = self.received.try_recv() {
            all.push(r);
        }
        all
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}
