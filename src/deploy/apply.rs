//! `sandboxc apply` and `sandboxc bootstrap`.
//!
//! apply: preflight (limits were checked when the release was built, before any AWS call;
//! then credentials, account and Region, the blueprint's pinned account), the assets bucket
//! (`--assets-bucket`, else the `sandboxc-assets` stack's output), the stack state
//! ([`deployment::prepare`]), the assets (nested templates, a root template over 51,200
//! bytes, Lambda zips) published under their content-hash keys, then the change set path
//! ([`deployment::change_and_execute`]). A failed upload stops before any change set.
//!
//! bootstrap: the same change set path for the assets stack ([`crate::AssetsRelease`]).

use std::path::{Path, PathBuf};

use super::assets::{publish, template_url, Asset};
use super::cfn::{Cfn, CfnError};
use super::console::Console;
use super::deployment::{
    change_and_execute, check_account, prepare, Choices, DeployError, Deployer, Deployment, Prepared,
};
use super::plan::{ASSETS_BUCKET_PARAMETER, MAX_TEMPLATE_BODY};
use super::AwsOptions;
use crate::compile::bootstrap::{ASSETS_BUCKET_OUTPUT, ASSETS_STACK_NAME};
use crate::compile::HOME_FOLDER_BUCKET_PARAMETER;
use crate::plan::TemplateSet;
use crate::{AssetsRelease, Release};

/// Arguments of `sandboxc apply`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ApplyArgs {
    /// Blueprint file (YAML); default: the embedded data-sandbox.yaml.
    pub blueprint: Option<PathBuf>,
    /// Apply without asking (for CI); data-loss changes still need --allow-data-loss.
    #[arg(long)]
    pub yes: bool,
    /// Allow changes that replace or remove resources holding data (buckets, KMS keys, the
    /// notebook, log groups, the trail); the stack policy is lifted for this one update.
    #[arg(long)]
    pub allow_data_loss: bool,
    /// Delete and create again a stack that cannot be updated (ROLLBACK_COMPLETE after a
    /// failed first creation, or REVIEW_IN_PROGRESS without resources).
    #[arg(long)]
    pub recreate: bool,
    /// Assets bucket for nested templates and Lambda zips; default: the bucket of the
    /// sandboxc-assets stack (`sandboxc bootstrap`).
    #[arg(long, value_name = "BUCKET")]
    pub assets_bucket: Option<String>,
    /// Directory of the Lambda zips (`sandboxc package -o DIR`): DIR/<identity>/<function>.zip.
    /// Zips already in the assets bucket are not needed; missing ones are built with
    /// `sandboxc package` when run inside a sandboxc checkout.
    #[arg(long, value_name = "DIR", default_value = "dist/lambda")]
    pub lambda_dir: PathBuf,
    /// AWS profile of the shared config and credentials files (else the standard chain:
    /// environment, AWS_PROFILE, SSO, instance roles).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS Region (else the blueprint's `region`, else the AWS configuration's).
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
}

/// Arguments of `sandboxc bootstrap`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BootstrapArgs {
    /// Deploy without asking.
    #[arg(long)]
    pub yes: bool,
    /// Delete and create again an assets stack whose first creation failed (ROLLBACK_COMPLETE).
    #[arg(long)]
    pub recreate: bool,
    /// Print the assets stack's template (JSON) and exit; no AWS call.
    #[arg(long)]
    pub print_template: bool,
    /// AWS profile.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS Region (else the AWS configuration's).
    #[arg(long, value_name = "NAME")]
    pub region: Option<String>,
}

/// Builds the clients from the standard chain, checks the credentials and finds the account
/// (`sts:GetCallerIdentity`).
///
/// # Errors
/// [`DeployError`] naming what is missing.
pub async fn deployer(options: &AwsOptions) -> Result<Deployer, DeployError> {
    let config = super::config(options).await.map_err(DeployError)?;
    super::check_credentials(&config, options).await.map_err(DeployError)?;
    let sts = aws_sdk_sts::Client::new(&config);
    let who = sts.get_caller_identity().send().await.map_err(|e| {
        DeployError(format!("cannot identify the AWS account (sts:GetCallerIdentity): {}", super::cfn::chain(&e)))
    })?;
    let account = who.account().unwrap_or_default().to_string();
    let region = config.region().map(ToString::to_string).unwrap_or_default();
    let s3_config = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(
            std::env::var_os("AWS_ENDPOINT_URL").is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some(),
        )
        .build();
    Ok(Deployer {
        cfn: Cfn::new(aws_sdk_cloudformation::Client::new(&config)),
        s3: aws_sdk_s3::Client::from_conf(s3_config),
        account,
        region,
        polling: super::cfn::Polling::default(),
        follow: super::events::FollowPolling::default(),
    })
}

/// Runs `f` on a current-thread tokio runtime.
///
/// # Errors
/// [`DeployError`] when the runtime cannot start, or `f`'s.
pub fn block_on<F: std::future::Future<Output = Result<u8, DeployError>>>(f: F) -> Result<u8, DeployError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DeployError(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(f)
}

/// `sandboxc apply` with a deployer (tests: scripted SDK clients). Returns the exit code.
///
/// # Errors
/// [`DeployError`].
pub async fn apply(
    d: &Deployer,
    release: &Release,
    args: &ApplyArgs,
    console: &mut dyn Console,
) -> Result<u8, DeployError> {
    let stack = release.manifest.stack_name.clone();
    check_account(d, release)?;
    console.line(&format!("account {}, region {}, stack {stack}", d.account, d.region));
    let bucket = match &args.assets_bucket {
        Some(b) => b.clone(),
        None => assets_bucket_of_bootstrap(&d.cfn).await?,
    };
    let choices = Choices { yes: args.yes, allow_data_loss: args.allow_data_loss, recreate: args.recreate };
    let mode = match prepare(d, &stack, choices, console).await? {
        Prepared::Ready(mode) => mode,
        Prepared::Stop(code) => return Ok(code),
    };

    // Assets, before any change set.
    let (mut assets, template) = template_assets(release, &bucket, &d.region)?;
    let (zips, zips_present) = lambda_assets(d, release, &bucket, &args.lambda_dir, console).await?;
    assets.extend(zips);
    let published =
        publish(&d.s3, &bucket, &assets).await.map_err(|e| DeployError(format!("{e}; no change set was created")))?;
    console.line(&format!(
        "assets in s3://{bucket}: {} uploaded, {} already there",
        published.uploaded.len(),
        published.present.len() + zips_present
    ));

    let tags: Vec<(String, String)> = release.blueprint.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut parameters = vec![(ASSETS_BUCKET_PARAMETER.to_string(), bucket)];
    if declares(release, HOME_FOLDER_BUCKET_PARAMETER) {
        let exists = home_folder_bucket_exists(d, console).await?;
        parameters.push((HOME_FOLDER_BUCKET_PARAMETER.to_string(), exists.to_string()));
    }
    let dep = Deployment {
        stack_name: stack,
        template,
        parameters,
        tags,
        new: &release.templates,
        stack_policy: release.stack_policy.clone(),
        lifted_policy: release.lifted_policy.clone(),
        command: "apply",
    };
    change_and_execute(d, &dep, &mode, choices, console).await
}

/// Whether the root template declares a parameter.
fn declares(release: &Release, name: &str) -> bool {
    release.templates.templates.get(&release.templates.root_file).is_some_and(|t| t.parameters.contains_key(name))
}

/// Whether AppStream's home-folder bucket of this account and Region exists (`HeadBucket`
/// on `appstream2-36fb080bb8-<region>-<account>`, the name AppStream gives it: AWS-FACTS.md).
/// Until it does, the validator's bucket notification is left out of the deployment.
async fn home_folder_bucket_exists(d: &Deployer, console: &mut dyn Console) -> Result<bool, DeployError> {
    let bucket = format!("appstream2-36fb080bb8-{}-{}", d.region, d.account);
    match d.s3.head_bucket().bucket(&bucket).send().await {
        Ok(_) => Ok(true),
        Err(e)
            if e.raw_response().is_some_and(|r| r.status().as_u16() == 404)
                || e.as_service_error()
                    .is_some_and(aws_sdk_s3::operation::head_bucket::HeadBucketError::is_not_found) =>
        {
            console.line(&format!(
                "note: AppStream's home-folder bucket {bucket} does not exist yet (AppStream creates it at the first streaming session with home folders): the validator's bucket notification is left out. After the first session, run `sandboxc apply` again to connect the validator"
            ));
            Ok(false)
        }
        Err(e) => Err(DeployError(format!(
            "cannot check AppStream's home-folder bucket {bucket} (s3:HeadBucket / s3:ListBucket): {}",
            super::cfn::chain(&e)
        ))),
    }
}

/// The bucket named by the assets stack's output.
async fn assets_bucket_of_bootstrap(cfn: &Cfn) -> Result<String, DeployError> {
    let info = match cfn.describe_stack(ASSETS_STACK_NAME).await {
        Ok(info) => info,
        Err(CfnError::NotFound(_)) => {
            return Err(DeployError(format!(
                "no assets bucket: the {ASSETS_STACK_NAME} stack does not exist in this account and Region. Run `sandboxc bootstrap` once, or name a bucket with --assets-bucket"
            )))
        }
        Err(e) => return Err(DeployError::aws(ASSETS_STACK_NAME, &e)),
    };
    if let Some((_, v, _)) = info.outputs.iter().find(|(k, v, _)| k == ASSETS_BUCKET_OUTPUT && !v.is_empty()) {
        return Ok(v.clone());
    }
    // Outputs are missing while the stack is still being created (and on emulators): the
    // bucket resource's physical ID is its name.
    let resources = cfn.resources(&info.stack_id).await.map_err(|e| DeployError::aws(ASSETS_STACK_NAME, &e))?;
    resources.into_iter().find(|r| r.logical_id == "AssetsBucket" && !r.physical_id.is_empty()).map(|r| r.physical_id).ok_or_else(|| {
        DeployError(format!("the {ASSETS_STACK_NAME} stack ({}) has no assets bucket yet: run `sandboxc bootstrap`, or pass --assets-bucket", info.status))
    })
}

/// The nested templates (and the root one when over [`MAX_TEMPLATE_BODY`] bytes) as assets,
/// and what `CreateChangeSet` gets for the root: its body, or its URL.
fn template_assets(release: &Release, bucket: &str, region: &str) -> Result<(Vec<Asset>, String), DeployError> {
    let text_of = |file: &str| {
        release
            .files
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| DeployError(format!("internal: {file} is missing from the release")))
    };
    let mut assets = Vec::new();
    for t in &release.manifest.templates {
        if let Some(key) = &t.s3_key {
            assets.push(Asset {
                key: key.clone(),
                what: format!("nested template {}", t.stack),
                body: text_of(&t.file)?.into_bytes(),
                content_type: "application/json",
            });
        }
    }
    let root = text_of(&release.manifest.root_template)?;
    let template = if root.len() > MAX_TEMPLATE_BODY {
        let key = crate::compile::template_key(root.as_bytes(), crate::cfn::render::Format::Json);
        let url = template_url(bucket, region, &key);
        assets.push(Asset {
            key,
            what: format!("root template ({} bytes, over the {MAX_TEMPLATE_BODY}-byte TemplateBody limit)", root.len()),
            body: root.into_bytes(),
            content_type: "application/json",
        });
        url
    } else {
        root
    };
    Ok((assets, template))
}

/// The Lambda zips not yet in the bucket, read from `dir` (built by `sandboxc package` first
/// when missing and this is a sandboxc checkout), and how many are in the bucket already.
async fn lambda_assets(
    d: &Deployer,
    release: &Release,
    bucket: &str,
    dir: &Path,
    console: &mut dyn Console,
) -> Result<(Vec<Asset>, usize), DeployError> {
    let mut out = Vec::new();
    let mut present = 0;
    let mut built = false;
    for a in &release.manifest.assets {
        if d.s3.head_object().bucket(bucket).key(&a.s3_key).send().await.is_ok() {
            present += 1;
            continue;
        }
        let path = dir.join(&a.identity).join(format!("{}.zip", a.function));
        if !path.is_file() && !built {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            let Some(root) = crate::assets::package::find_workspace_root(&cwd) else {
                return Err(DeployError(format!(
                    "the Lambda zip {} is neither in s3://{bucket}/{} nor at {}: build the zips with `sandboxc package -o {}` in a sandboxc checkout of this version (or point --lambda-dir at the directory holding <identity>/{}.zip); no change set was created",
                    a.function,
                    a.s3_key,
                    path.display(),
                    dir.display(),
                    a.function
                )));
            };
            console.line(&format!(
                "building the Lambda zips (sandboxc package -o {}); the first build takes several minutes",
                dir.display()
            ));
            let report = crate::assets::package::package(&root, dir)
                .map_err(|e| DeployError(format!("sandboxc package failed: {e}; no change set was created")))?;
            if report.identity != a.identity {
                return Err(DeployError(format!(
                    "the checkout's Lambda sources ({}) are not the ones this sandboxc binary's templates name ({}): rebuild sandboxc from this checkout; no change set was created",
                    report.identity, a.identity
                )));
            }
            built = true;
        }
        let body = std::fs::read(&path).map_err(|e| {
            DeployError(format!("cannot read the Lambda zip {}: {e}; no change set was created", path.display()))
        })?;
        out.push(Asset {
            key: a.s3_key.clone(),
            what: format!("Lambda zip {}", a.function),
            body,
            content_type: "application/zip",
        });
    }
    Ok((out, present))
}

/// `sandboxc bootstrap` with a deployer: the assets stack through the change set path.
///
/// # Errors
/// [`DeployError`].
pub async fn bootstrap(
    d: &Deployer,
    assets: &AssetsRelease,
    args: &BootstrapArgs,
    console: &mut dyn Console,
) -> Result<u8, DeployError> {
    if assets.body.len() > MAX_TEMPLATE_BODY {
        return Err(DeployError(format!(
            "internal: the assets template is {} bytes, over {MAX_TEMPLATE_BODY}",
            assets.body.len()
        )));
    }
    console.line(&format!("account {}, region {}, stack {ASSETS_STACK_NAME}", d.account, d.region));
    let new = TemplateSet::single(ASSETS_STACK_NAME, assets.template.clone());
    let choices = Choices { yes: args.yes, allow_data_loss: false, recreate: args.recreate };
    let mode = match prepare(d, ASSETS_STACK_NAME, choices, console).await {
        Ok(Prepared::Ready(mode)) => mode,
        Ok(Prepared::Stop(code)) => return Ok(code),
        Err(e) => return Err(e),
    };
    let dep = Deployment {
        stack_name: ASSETS_STACK_NAME.into(),
        template: assets.body.clone(),
        parameters: Vec::new(),
        tags: vec![("sandboxc:stack".into(), ASSETS_STACK_NAME.into())],
        new: &new,
        stack_policy: assets.stack_policy.clone(),
        lifted_policy: assets.lifted_policy.clone(),
        command: "bootstrap",
    };
    change_and_execute(d, &dep, &mode, choices, console).await
}
