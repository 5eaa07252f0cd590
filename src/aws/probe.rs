//! The preflight's read-only calls over the AWS SDK: the [`Probe`] trait of
//! `crate::deploy::preflight`. Every client is built from the session's configuration, so
//! every call has the connect and call timeouts of every other call.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use super::error::{examine, CallFailure};
use crate::deploy::preflight::{BucketState, Probe, ProbeError};

/// Pages of `DescribeLogGroups` read at most for one name (50 groups a page).
const MAX_LOG_GROUP_PAGES: usize = 20;

/// The preflight's clients.
#[derive(Debug, Clone)]
pub struct Probes {
    appstream: aws_sdk_appstream::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    sagemaker: aws_sdk_sagemaker::Client,
    s3: aws_sdk_s3::Client,
    endpoints: Endpoints,
}

/// The endpoint of each service, named in transport errors.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// AppStream.
    pub appstream: String,
    /// IAM.
    pub iam: String,
    /// CloudWatch Logs.
    pub logs: String,
    /// SageMaker.
    pub sagemaker: String,
    /// S3.
    pub s3: String,
}

impl Probes {
    /// The clients of a session (`s3` already configured for the endpoint, as
    /// [`super::Session::s3`] does).
    #[must_use]
    pub fn new(
        appstream: aws_sdk_appstream::Client,
        iam: aws_sdk_iam::Client,
        logs: aws_sdk_cloudwatchlogs::Client,
        sagemaker: aws_sdk_sagemaker::Client,
        s3: aws_sdk_s3::Client,
        endpoints: Endpoints,
    ) -> Self {
        Self { appstream, iam, logs, sagemaker, s3, endpoints }
    }
}

fn probe_error(api: &'static str, f: &CallFailure) -> ProbeError {
    let code = f.code.as_deref().unwrap_or_default();
    let denied = f.http_status == Some(403) || code.contains("AccessDenied") || code.contains("Unauthorized");
    ProbeError { api, message: f.describe(), denied }
}

fn failure<E>(service: &str, api: &str, endpoint: &str, e: &SdkError<E>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    examine(service, api, endpoint, e)
}

impl Probe for Probes {
    async fn image(&self, name: &str) -> Result<Option<String>, ProbeError> {
        match self.appstream.describe_images().names(name).send().await {
            Ok(out) => Ok(out
                .images()
                .iter()
                .find(|i| i.name() == Some(name))
                .map(|i| i.state().map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string()))),
            Err(e) => {
                let f = failure("AppStream", "DescribeImages", &self.endpoints.appstream, &e);
                if f.code.as_deref() == Some("ResourceNotFoundException") {
                    Ok(None)
                } else {
                    Err(probe_error("appstream:DescribeImages", &f))
                }
            }
        }
    }

    async fn saml_provider(&self, arn: &str) -> Result<bool, ProbeError> {
        match self.iam.get_saml_provider().saml_provider_arn(arn).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let f = failure("IAM", "GetSAMLProvider", &self.endpoints.iam, &e);
                if f.code.as_deref() == Some("NoSuchEntity") || f.http_status == Some(404) {
                    Ok(false)
                } else {
                    Err(probe_error("iam:GetSAMLProvider", &f))
                }
            }
        }
    }

    async fn log_group(&self, name: &str) -> Result<bool, ProbeError> {
        let mut token: Option<String> = None;
        for _ in 0..MAX_LOG_GROUP_PAGES {
            let page = self
                .logs
                .describe_log_groups()
                .log_group_name_prefix(name)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    probe_error(
                        "logs:DescribeLogGroups",
                        &failure("CloudWatch Logs", "DescribeLogGroups", &self.endpoints.logs, &e),
                    )
                })?;
            if page.log_groups().iter().any(|g| g.log_group_name() == Some(name)) {
                return Ok(true);
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        Ok(false)
    }

    async fn bucket(&self, name: &str) -> Result<BucketState, ProbeError> {
        match self.s3.head_bucket().bucket(name).send().await {
            Ok(_) => Ok(BucketState::Owned),
            Err(e) => {
                let f = failure("S3", "HeadBucket", &self.endpoints.s3, &e);
                match f.http_status {
                    Some(404) => Ok(BucketState::Absent),
                    // 403: someone else's; 301: in another Region. Either way the name is taken
                    // and cannot be adopted here.
                    Some(403 | 301) => Ok(BucketState::Forbidden),
                    _ if f.is_not_found() => Ok(BucketState::Absent),
                    _ => Err(probe_error("s3:ListBucket", &f)),
                }
            }
        }
    }

    async fn bucket_key(&self, name: &str) -> Result<Option<String>, ProbeError> {
        match self.s3.get_bucket_encryption().bucket(name).send().await {
            Ok(out) => Ok(out
                .server_side_encryption_configuration()
                .and_then(|c| c.rules().first())
                .and_then(|r| r.apply_server_side_encryption_by_default())
                .and_then(|d| d.kms_master_key_id())
                .map(str::to_string)),
            Err(e) => {
                let f = failure("S3", "GetBucketEncryption", &self.endpoints.s3, &e);
                if f.code.as_deref() == Some("ServerSideEncryptionConfigurationNotFoundError") {
                    Ok(None)
                } else {
                    Err(probe_error("s3:GetEncryptionConfiguration", &f))
                }
            }
        }
    }

    async fn notebook(&self, name: &str) -> Result<Option<String>, ProbeError> {
        match self.sagemaker.describe_notebook_instance().notebook_instance_name(name).send().await {
            Ok(out) => Ok(Some(
                out.notebook_instance_status().map_or_else(|| "Unknown".to_string(), |s| s.as_str().to_string()),
            )),
            Err(e) => {
                let f = failure("SageMaker", "DescribeNotebookInstance", &self.endpoints.sagemaker, &e);
                // A missing notebook instance is the ValidationException "RecordNotFound".
                if f.message.contains("RecordNotFound") || f.code.as_deref() == Some("ResourceNotFound") {
                    Ok(None)
                } else {
                    Err(probe_error("sagemaker:DescribeNotebookInstance", &f))
                }
            }
        }
    }
}
