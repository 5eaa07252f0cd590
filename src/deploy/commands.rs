//! Entry points of the deploy commands for the CLI: each catches Ctrl-C, builds the AWS
//! clients from the standard chain (with `--profile`, `--region`, else the blueprint's
//! `region`), a terminal console, runs on a current-thread tokio runtime, and returns the exit
//! code.

use super::apply::{apply, block_on, bootstrap, deployer, ApplyArgs, BootstrapArgs};
use super::console::{install_ctrl_c, Terminal};
use super::deployment::DeployError;
use super::manage::{destroy, status, DestroyArgs, StatusArgs};
use super::AwsOptions;
use crate::{AssetsRelease, Release};

/// The AWS options of a command: `--profile`, and `--region` or the blueprint's `region`.
///
/// # Errors
/// [`DeployError`] when `--region` contradicts the blueprint's pinned `region`.
pub fn options(
    profile: Option<&String>,
    region: Option<&String>,
    release: Option<&Release>,
) -> Result<AwsOptions, DeployError> {
    let pinned = release.and_then(|r| r.blueprint.region.clone());
    if let (Some(flag), Some(pinned)) = (region, &pinned) {
        if flag != pinned {
            return Err(DeployError(format!(
                "--region {flag} contradicts the blueprint's `region: {pinned}`: the sandbox belongs in {pinned}; drop --region, or change `region` in the blueprint"
            )));
        }
    }
    Ok(AwsOptions { profile: profile.cloned(), region: region.cloned().or(pinned) })
}

/// `sandboxc apply`.
///
/// # Errors
/// [`DeployError`].
pub fn run_apply(args: &ApplyArgs, release: &Release, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), Some(release))?;
    let interrupted = install_ctrl_c();
    block_on(async {
        let d = deployer(&opts).await?;
        apply(&d, release, args, &mut Terminal::new(quiet, interrupted)).await
    })
}

/// `sandboxc bootstrap`.
///
/// # Errors
/// [`DeployError`].
pub fn run_bootstrap(args: &BootstrapArgs, assets: &AssetsRelease, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), None)?;
    let interrupted = install_ctrl_c();
    block_on(async {
        let d = deployer(&opts).await?;
        bootstrap(&d, assets, args, &mut Terminal::new(quiet, interrupted)).await
    })
}

/// `sandboxc destroy`.
///
/// # Errors
/// [`DeployError`].
pub fn run_destroy(args: &DestroyArgs, release: &Release, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), Some(release))?;
    let interrupted = install_ctrl_c();
    block_on(async {
        let d = deployer(&opts).await?;
        destroy(&d, release, args.yes, &mut Terminal::new(quiet, interrupted)).await
    })
}

/// `sandboxc status`.
///
/// # Errors
/// [`DeployError`].
pub fn run_status(args: &StatusArgs, release: &Release, quiet: bool) -> Result<u8, DeployError> {
    let opts = options(args.profile.as_ref(), args.region.as_ref(), Some(release))?;
    let interrupted = install_ctrl_c();
    block_on(async {
        let d = deployer(&opts).await?;
        status(&d, release, args.drift, &mut Terminal::new(quiet, interrupted)).await
    })
}
