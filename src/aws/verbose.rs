//! `-v`: every AWS request and its duration on standard error, one line per attempt (so that a
//! retry shows), through an interceptor every client of a verbose [`super::Session`] carries:
//! `aws: CloudFormation DescribeStacks -> HTTP 200 in 84 ms`.

use std::io::Write;
use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The interceptor of `-v`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing;

/// When the current attempt started.
#[derive(Debug, Clone)]
struct AttemptStart(Instant);

impl Storable for AttemptStart {
    type Storer = StoreReplace<Self>;
}

/// One line: the service and operation, the HTTP status (or `no answer` and why, such as
/// `Connection refused`), the duration in milliseconds.
#[must_use]
pub fn line(service: &str, operation: &str, status: Option<u16>, why: Option<&str>, millis: u128) -> String {
    let answer = match (status, why) {
        (Some(s), _) => format!("HTTP {s}"),
        (None, Some(why)) => format!("no answer ({why})"),
        (None, None) => "no answer".to_string(),
    };
    format!("aws: {service} {operation} -> {answer} after {millis} ms")
}

/// The innermost cause of an attempt's error: the operating system's words for a refused or
/// reset connection, a DNS failure or a timeout, rather than the SDK's "dispatch failure".
fn innermost(error: &dyn std::error::Error) -> String {
    let mut e = error;
    while let Some(next) = e.source() {
        e = next;
    }
    e.to_string()
}

impl Intercept for Timing {
    fn name(&self) -> &'static str {
        "sandboxc-verbose"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(AttemptStart(Instant::now()));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let millis = cfg.load::<AttemptStart>().map_or(0, |s| s.0.elapsed().as_millis());
        let (service, operation) = cfg.load::<Metadata>().map_or(("AWS", "request"), |m| (m.service(), m.name()));
        let status = context.response().map(|r| r.status().as_u16());
        let why = match context.output_or_error() {
            Some(Err(e)) if status.is_none() => Some(innermost(e)),
            _ => None,
        };
        let _ = writeln!(std::io::stderr().lock(), "{}", line(service, operation, status, why.as_deref(), millis));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_names_the_call_the_answer_and_the_time() {
        assert_eq!(
            super::line("CloudFormation", "DescribeStacks", Some(200), None, 84),
            "aws: CloudFormation DescribeStacks -> HTTP 200 after 84 ms"
        );
        assert_eq!(
            super::line("S3", "HeadBucket", None, None, 10_000),
            "aws: S3 HeadBucket -> no answer after 10000 ms"
        );
        assert_eq!(
            super::line("S3", "HeadBucket", None, Some("Connection refused (os error 111)"), 1),
            "aws: S3 HeadBucket -> no answer (Connection refused (os error 111)) after 1 ms"
        );
    }
}
