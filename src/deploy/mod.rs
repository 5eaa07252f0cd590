//! The AWS side of sandboxc: the only module that talks to AWS (DESIGN.md §2).
//!
//! [`config`] loads the standard AWS configuration chain (aws-config: environment, shared
//! config and credentials files with `--profile`, SSO, instance and container roles;
//! `AWS_ENDPOINT_URL` is honoured by the SDK), [`cfn`] is a small typed wrapper over the
//! CloudFormation API calls sandboxc makes, and [`plan`] is the deployed mode of
//! `sandboxc plan`. This module never builds templates: it receives them from
//! [`crate::plan`], which compiles the blueprint.

pub mod apply;
pub mod assets;
pub mod audit_source;
pub mod cfn;
pub mod commands;
pub mod console;
pub mod deployment;
pub mod events;
pub mod manage;
pub mod plan;
pub mod stack;
pub mod status;

use aws_config::BehaviorVersion;

/// Where and as whom to call AWS.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// `--profile`: a profile of the shared config and credentials files.
    pub profile: Option<String>,
    /// `--region` (or the blueprint's `region`); else the configuration chain's Region.
    pub region: Option<String>,
}

/// Loads the AWS configuration from the standard chain.
///
/// # Errors
/// A message when no Region is configured anywhere.
pub async fn config(options: &AwsOptions) -> Result<aws_config::SdkConfig, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(p) = &options.profile {
        // `--profile` wins over credentials in the environment (as with the AWS CLI): only
        // that profile's credentials (keys, SSO, credential_process, assumed roles) are used,
        // and a profile that does not exist is an error, never a silent fallback.
        loader = loader.profile_name(p).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(p).build(),
        );
    }
    if let Some(r) = &options.region {
        loader = loader.region(aws_config::Region::new(r.clone()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err("no AWS Region: pass --region, set `region` in the blueprint, or configure one (AWS_REGION, or `region` in the profile)".into());
    }
    Ok(config)
}

/// Resolves credentials once, so that a machine without any fails with one clear message
/// before the first API call.
///
/// # Errors
/// A message naming the credential chain's failure.
pub async fn check_credentials(config: &aws_config::SdkConfig, options: &AwsOptions) -> Result<(), String> {
    use aws_sdk_cloudformation::config::ProvideCredentials;
    let Some(provider) = config.credentials_provider() else {
        return Err("no AWS credentials provider is configured".into());
    };
    provider.provide_credentials().await.map(|_| ()).map_err(|e| match &options.profile {
        Some(p) => format!(
            "no AWS credentials from profile {p} ({}): check `[profile {p}]` in the AWS config file (AWS_CONFIG_FILE, ~/.aws/config), or sign in with `aws sso login --profile {p}`",
            cfn::chain(&e)
        ),
        None => format!("no AWS credentials ({}): configure a profile (--profile, AWS_PROFILE, aws sso login) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", cfn::chain(&e)),
    })
}

/// A CloudFormation client from the standard chain.
///
/// # Errors
/// See [`config`].
pub async fn cloudformation(options: &AwsOptions) -> Result<aws_sdk_cloudformation::Client, String> {
    let config = config(options).await?;
    Ok(aws_sdk_cloudformation::Client::new(&config))
}
