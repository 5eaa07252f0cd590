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

/// One line: the service and operation, the HTTP status (or `no answer`), the duration.
#[must_use]
pub fn line(service: &str, operation: &str, status: Option<u16>, millis: u128) -> String {
    let answer = status.map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
    format!("aws: {service} {operation} -> {answer} in {millis} ms")
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
        let _ = writeln!(std::io::stderr().lock(), "{}", line(service, operation, status, millis));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_line_names_the_call_the_answer_and_the_time() {
        assert_eq!(
            super::line("CloudFormation", "DescribeStacks", Some(200), 84),
            "aws: CloudFormation DescribeStacks -> HTTP 200 in 84 ms"
        );
        assert_eq!(super::line("S3", "HeadBucket", None, 10_000), "aws: S3 HeadBucket -> no answer in 10000 ms");
    }
}
