//! The only module that calls AWS, through the official AWS SDK for Rust.
//!
//! [`connect`] loads the standard configuration chain (aws-config: environment, shared config
//! and credentials files with `--profile`, SSO, instance and container roles;
//! `AWS_ENDPOINT_URL` is honoured by the SDK) with a connect timeout and a per-call timeout on
//! every client ([`Timeouts`]), checks the credentials and finds the account
//! (`sts:GetCallerIdentity`). [`cloudformation::Cfn`] implements the stack lifecycle's
//! `CloudFormation` trait, [`s3::S3`] its `AssetStore` trait, [`ec2::Ec2`] its `PrefixLists`
//! trait, [`evidence::S3Evidence`] the
//! audit's `Evidence` trait, [`athena`] the Athena engine's `QueryService` trait, and
//! [`appstream::AppStream`] `sandboxc connect`'s `StreamingUrls` trait. Every status and error is turned into sandboxc's types here
//! ([`error`]): nothing of the SDK leaks out.

pub mod appstream;
pub mod athena;
pub mod cloudformation;
pub mod ec2;
pub mod error;
pub mod evidence;
pub mod logs;
pub mod probe;
pub mod s3;
pub mod verbose;

#[cfg(test)]
mod tests;

use std::time::Duration;

use aws_config::BehaviorVersion;

/// How long a call may take. A silent endpoint (one that accepts the connection and never
/// answers) fails a call after at most [`Timeouts::call`], with a message naming the endpoint
/// and the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Connecting (TCP and TLS), per attempt.
    pub connect: Duration,
    /// One whole call, retries included (the SDK's operation timeout). Each attempt may take
    /// half of it (the operation-attempt timeout), so that a second attempt can follow a
    /// stalled first one.
    pub call: Duration,
}

impl Timeouts {
    /// Default [`Timeouts::connect`], in seconds.
    pub const DEFAULT_CONNECT_SECONDS: u64 = 10;
    /// Default [`Timeouts::call`], in seconds.
    pub const DEFAULT_CALL_SECONDS: u64 = 60;

    /// The SDK's timeout configuration.
    #[must_use]
    pub fn config(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_timeout(self.call)
            .operation_attempt_timeout(self.call / 2)
            .build()
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(Self::DEFAULT_CONNECT_SECONDS),
            call: Duration::from_secs(Self::DEFAULT_CALL_SECONDS),
        }
    }
}

/// Where and as whom to call AWS, resolved once by the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `--profile`: a profile of the shared config and credentials files.
    pub profile: Option<String>,
    /// `--region` or the blueprint's `region`; else the configuration chain's Region.
    pub region: Option<String>,
    /// Timeouts of every call.
    pub timeouts: Timeouts,
    /// `-v`: every request and its duration on standard error ([`verbose::Timing`]).
    pub verbose: bool,
}

/// Why AWS cannot be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// No Region anywhere.
    #[error("no AWS Region: pass --region, set `region` in the blueprint, or configure one (AWS_REGION, or `region` in the profile)")]
    NoRegion,
    /// The credential chain found nothing (or the profile does not resolve).
    #[error("{0}")]
    NoCredentials(String),
    /// `sts:GetCallerIdentity` failed.
    #[error("cannot identify the AWS account (sts:GetCallerIdentity): {0}")]
    Identity(String),
}

/// Where the calls go, as known after [`connect`].
#[derive(Debug, Clone)]
pub struct Session {
    /// The SDK configuration (Region, credentials, timeouts, endpoint override).
    pub config: aws_config::SdkConfig,
    /// The account the credentials belong to (`GetCallerIdentity.Account`).
    pub account: String,
    /// The Region.
    pub region: String,
    /// `-v`: every client times its requests ([`verbose::Timing`]).
    pub verbose: bool,
}

/// A client of the SDK crate `$krate` from a session's configuration, with the `-v`
/// interceptor when the session is verbose.
macro_rules! client {
    ($krate:ident, $config:expr, $verbose:expr) => {{
        let mut builder = $krate::config::Builder::from($config);
        if $verbose {
            builder = builder.interceptor(verbose::Timing);
        }
        $krate::Client::from_conf(builder.build())
    }};
}

/// Loads the AWS configuration from the standard chain, with the timeouts of `settings`.
///
/// # Errors
/// [`AwsError::NoRegion`] when no Region is configured anywhere.
pub async fn load(settings: &Settings) -> Result<aws_config::SdkConfig, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(settings.timeouts.config());
    if let Some(p) = &settings.profile {
        // `--profile` wins over credentials in the environment (as with the AWS CLI): only
        // that profile's credentials (keys, SSO, credential_process, assumed roles) are used,
        // and a profile that does not exist is an error, never a silent fallback.
        loader = loader.profile_name(p).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(p).build(),
        );
    }
    if let Some(r) = &settings.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(AwsError::NoRegion);
    }
    Ok(config)
}

/// Loads the configuration ([`load`]), resolves the credentials once (so that a machine
/// without any fails with one clear message before the first API call), and asks STS whose
/// they are (`GetCallerIdentity`, which needs no permission).
///
/// # Errors
/// [`AwsError`].
pub async fn connect(settings: &Settings) -> Result<Session, AwsError> {
    use aws_sdk_cloudformation::config::ProvideCredentials;
    let config = load(settings).await?;
    let Some(provider) = config.credentials_provider() else {
        return Err(AwsError::NoCredentials("no AWS credentials provider is configured".into()));
    };
    provider.provide_credentials().await.map_err(|e| {
        AwsError::NoCredentials(match &settings.profile {
            Some(p) => format!(
                "no AWS credentials from profile {p} ({}): check `[profile {p}]` in the AWS config file (AWS_CONFIG_FILE, ~/.aws/config), or sign in with `aws sso login --profile {p}`",
                error::chain(&e)
            ),
            None => format!(
                "no AWS credentials ({}): configure a profile (--profile, AWS_PROFILE, aws sso login) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                error::chain(&e)
            ),
        })
    })?;
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let sts = client!(aws_sdk_sts, &config, settings.verbose);
    let endpoint = endpoint(&config, "STS", "sts");
    let who = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsError::Identity(error::examine("STS", "GetCallerIdentity", &endpoint, &e).describe()))?;
    let account = who.account().unwrap_or_default().to_string();
    Ok(Session { config, account, region, verbose: settings.verbose })
}

impl Session {
    /// The CloudFormation adapter.
    #[must_use]
    pub fn cloudformation(&self) -> cloudformation::Cfn {
        cloudformation::Cfn::with_endpoint(
            client!(aws_sdk_cloudformation, &self.config, self.verbose),
            endpoint(&self.config, "CLOUDFORMATION", "cloudformation"),
        )
    }

    /// The EC2 adapter.
    #[must_use]
    pub fn ec2(&self) -> ec2::Ec2 {
        ec2::Ec2::with_endpoint(aws_sdk_ec2::Client::new(&self.config), endpoint(&self.config, "EC2", "ec2"))
    }

    /// The S3 adapter; path-style addressing with an endpoint override (an emulator).
    #[must_use]
    pub fn s3(&self) -> s3::S3 {
        s3::S3::with_endpoint(self.s3_client(), endpoint(&self.config, "S3", "s3"))
    }

    fn s3_client(&self) -> aws_sdk_s3::Client {
        let overridden = self.config.endpoint_url().is_some() || service_endpoint_env("S3").is_some();
        let mut builder = aws_sdk_s3::config::Builder::from(&self.config).force_path_style(overridden);
        if self.verbose {
            builder = builder.interceptor(verbose::Timing);
        }
        aws_sdk_s3::Client::from_conf(builder.build())
    }

    /// The AppStream adapter (`sandboxc connect`: `CreateStreamingURL`).
    #[must_use]
    pub fn appstream(&self) -> appstream::AppStream {
        appstream::AppStream::with_endpoint(
            client!(aws_sdk_appstream, &self.config, self.verbose),
            endpoint(&self.config, "APPSTREAM", "appstream2"),
        )
    }

    /// The CloudWatch Logs adapter (`audit --from-aws`: the validator's decisions).
    #[must_use]
    pub fn logs(&self) -> logs::Logs {
        logs::Logs::with_endpoint(
            client!(aws_sdk_cloudwatchlogs, &self.config, self.verbose),
            endpoint(&self.config, "CLOUDWATCH_LOGS", "logs"),
        )
    }

    /// The Athena adapter (`audit --engine athena`).
    #[must_use]
    pub fn athena(&self) -> athena::Athena {
        athena::Athena::with_endpoint(
            client!(aws_sdk_athena, &self.config, self.verbose),
            endpoint(&self.config, "ATHENA", "athena"),
        )
    }

    /// The preflight's clients (AppStream, IAM, CloudWatch Logs, SageMaker, S3).
    #[must_use]
    pub fn probes(&self) -> probe::Probes {
        let c = &self.config;
        probe::Probes::new(
            client!(aws_sdk_appstream, c, self.verbose),
            client!(aws_sdk_iam, c, self.verbose),
            client!(aws_sdk_cloudwatchlogs, c, self.verbose),
            client!(aws_sdk_sagemaker, c, self.verbose),
            self.s3_client(),
            probe::Endpoints {
                appstream: endpoint(c, "APPSTREAM", "appstream2"),
                iam: endpoint(c, "IAM", "iam"),
                logs: endpoint(c, "CLOUDWATCH_LOGS", "logs"),
                sagemaker: endpoint(c, "SAGEMAKER", "api.sagemaker"),
                s3: endpoint(c, "S3", "s3"),
            },
        )
    }
}

fn service_endpoint_env(service: &str) -> Option<String> {
    std::env::var(format!("AWS_ENDPOINT_URL_{service}")).ok().filter(|v| !v.is_empty())
}

/// The endpoint calls of a service go to, for messages: the service's or the global endpoint
/// override (`AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`), else the public endpoint
/// `https://<host>.<region>.amazonaws.com` (`.com.cn` in the China Regions).
#[must_use]
pub fn endpoint(config: &aws_config::SdkConfig, service: &str, host: &str) -> String {
    if let Some(url) = service_endpoint_env(service) {
        return url;
    }
    if let Some(url) = config.endpoint_url() {
        return url.to_string();
    }
    let region = config.region().map_or_else(|| "us-east-1".to_string(), ToString::to_string);
    default_endpoint(host, &region)
}

/// `https://<host>.<region>.amazonaws.com` (`.com.cn` in the China Regions).
#[must_use]
pub fn default_endpoint(host: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://{host}.{region}.{suffix}")
}
