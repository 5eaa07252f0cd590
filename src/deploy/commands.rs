//! Entry points of the deploy commands for the CLI: each builds the AWS clients from the
//! standard chain (with `--profile`, `--region`, else the blueprint's `region`), a terminal
//! console, runs on a current-thread tokio runtime, and returns the exit code.

use super::apply::{apply, block_on, bootstrap, deployer, ApplyArgs, BootstrapArgs};
use super::console::Terminal;
use super::deployment::DeployError;
use super::manage::{destroy, status, DestroyArgs, StatusArgs};
use super::AwsOptions;
use crate::Release;

fn options(profile: Option<&String>, region: Option<&String>, release: Option<&Release>) -> AwsOptions {
    AwsOptions { profile: profile.cloned(), region: region.cloned().or_else(|| release.and_then(|r| r.blueprint.region.clone())) }
}

/// `sandboxc apply`.
///
/// # Errors
/// [`DeployError`].
pub fn run_apply(args: &ApplyArgs, release: &Release, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), Some(release));
    block_on(async {
        let d = deployer(&opts).await?;
        apply(&d, release, args, &mut Terminal::new(quiet)).await
    })
}

/// `sandboxc bootstrap`.
///
/// # Errors
/// [`DeployError`].
pub fn run_bootstrap(args: &BootstrapArgs, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), None);
    block_on(async {
        let d = deployer(&opts).await?;
        bootstrap(&d, args, &mut Terminal::new(quiet)).await
    })
}

/// `sandboxc destroy`.
///
/// # Errors
/// [`DeployError`].
pub fn run_destroy(args: &DestroyArgs, release: &Release, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), Some(release));
    block_on(async {
        let d = deployer(&opts).await?;
        destroy(&d, &release.manifest.stack_name, args.yes, &mut Terminal::new(quiet)).await
    })
}

/// `sandboxc status`.
///
/// # Errors
/// [`DeployError`].
pub fn run_status(args: &StatusArgs, release: &Release, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), Some(release));
    block_on(async {
        let d = deployer(&opts).await?;
        status(&d, &release.manifest.stack_name, args.drift, &mut Terminal::new(quiet)).await
    })
}
