//! `sandboxc apply` and `sandboxc bootstrap`.
//!
//! apply: the assets bucket (`--assets-bucket`, else the `sandboxc-assets` stack's output),
//! the stack state ([`deployment::prepare`]), the assets (nested templates, a root template
//! over 51,200 bytes, Lambda zips) published under their content-hash keys, then the change
//! set path ([`deployment::change_and_execute`]). A failed upload stops before any change set.
//! The limits were checked when the release was built, and the credentials, account and
//! Region by the command line, all before this runs.
//!
//! bootstrap: the same change set path for the assets stack ([`AssetsRelease`]).
//!
//! [`deployment::prepare`]: super::deployment::prepare
//! [`deployment::change_and_execute`]: super::deployment::change_and_execute

use std::collections::BTreeSet;

use super::adopt::{adopt, Adopted};
use super::assets::{publish, template_url, Asset, AssetStore};
use super::cloudformation::{CfnError, CloudFormation, TemplateSource};
use super::console::Console;
use super::deployment::{change_and_execute, prepare, Choices, Deployer, Deployment, Mode, Prepared};
use super::network::{s3_prefix_list, PrefixLists};
use super::outcome::{DeployError, Outcome, Refusal};
use super::preflight::{self, Expectations, Finding, Inputs, Place, Probe};
use super::release::{AssetsRelease, Release};
use sandboxc_contract::assets::{ASSETS_BUCKET_OUTPUT, ASSETS_STACK_NAME, ASSETS_STACK_TAG};
use sandboxc_contract::stack::parameters::HOME_FOLDER_BUCKET_EXISTS as HOME_FOLDER_BUCKET_PARAMETER;
use sandboxc_contract::stack::parameters::S3_PREFIX_LIST_ID as S3_PREFIX_LIST_PARAMETER;
use sandboxc_contract::validator::home_folder_bucket;

use super::{ASSETS_BUCKET_PARAMETER, ASSETS_BUCKET_RESOURCE, MAX_TEMPLATE_BODY};
use crate::output::AssetEntry;

/// What `apply` is asked beyond the release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// `--yes`, `--allow-data-loss`, `--recreate`.
    pub choices: Choices,
    /// `--assets-bucket`; default: the bucket of the `sandboxc-assets` stack.
    pub assets_bucket: Option<String>,
    /// What the blueprint says that the preflight checks besides the templates.
    pub expectations: Expectations,
}

/// Where the Lambda zips that are not in the assets bucket yet come from: the command line
/// reads them from the directory `sandboxc package` writes (building them first when needed).
pub trait LambdaZips {
    /// The bytes of the zip `asset` names (`<identity>/<function>.zip`).
    ///
    /// # Errors
    /// What is missing and how to build it (the caller adds that no change set was created).
    fn zip(&mut self, asset: &AssetEntry, bucket: &str, console: &mut dyn Console) -> Result<Vec<u8>, String>;
}

/// `sandboxc apply`: see the module documentation. `prefix_lists` finds the Region's S3 prefix
/// list when the root template declares `S3PrefixListId`.
///
/// # Errors
/// [`DeployError`] for AWS failures and assets that cannot be published.
pub async fn apply<C: CloudFormation, S: AssetStore, P: Probe, L: PrefixLists>(
    d: &Deployer<C, S>,
    release: &Release,
    options: &ApplyOptions,
    zips: &mut dyn LambdaZips,
    probe: &P,
    prefix_lists: &L,
    console: &mut dyn Console,
) -> Result<Outcome, DeployError> {
    let stack = release.stack_name().to_string();
    console.line(&format!("account {}, region {}, stack {stack}", d.account, d.region));
    let bucket = match &options.assets_bucket {
        Some(b) => b.clone(),
        None => match assets_bucket_of_bootstrap(&d.cfn).await? {
            Ok(bucket) => bucket,
            Err(refusal) => return Ok(Outcome::Refused(refusal)),
        },
    };
    let mut mode = match prepare(d, &stack, options.choices, console).await? {
        Prepared::Ready(mode) => mode,
        Prepared::Stop(outcome) => return Ok(outcome),
    };

    // Preflight, before anything is uploaded or changed.
    let report = preflight(d, release, &options.expectations, &mode, probe).await?;
    for f in &report.findings {
        if !f.blocks() {
            let lines = f.lines();
            match f {
                Finding::Unchecked { .. } => console.problem(&format!("warning: {}", lines.join("; "))),
                _ => console.line(&format!("preflight: {}", lines.join("; "))),
            }
        }
    }
    if report.blocks() {
        return Ok(Outcome::Refused(Refusal::Preflight {
            stack: stack.clone(),
            findings: report.findings.into_iter().filter(Finding::blocks).collect(),
        }));
    }
    let adoptions = report.adoptions();

    // Assets, before any change set.
    let (mut assets, template) = template_assets(release, &bucket, &d.region)?;
    let (zips, zips_present) = lambda_assets(d, release, &bucket, zips, console).await?;
    assets.extend(zips);
    let published = publish(&d.store, &bucket, &assets).await?;
    console.line(&format!(
        "assets in s3://{bucket}: {} uploaded, {} already there",
        published.uploaded.len(),
        published.present.len() + zips_present
    ));

    // Retained resources adopted, before any other change set.
    if !adoptions.is_empty() {
        match adopt(d, release, &adoptions, &bucket, options.choices, console).await? {
            Adopted::Stack(info) => mode = Mode::Update(info),
            Adopted::Stop(outcome) => return Ok(outcome),
        }
    }

    let mut parameters = vec![(ASSETS_BUCKET_PARAMETER.to_string(), bucket)];
    if declares(release, HOME_FOLDER_BUCKET_PARAMETER) {
        let exists = home_folder_bucket_exists(d, console).await?;
        parameters.push((HOME_FOLDER_BUCKET_PARAMETER.to_string(), exists.to_string()));
    }
    if declares(release, S3_PREFIX_LIST_PARAMETER) {
        parameters.push((S3_PREFIX_LIST_PARAMETER.to_string(), s3_prefix_list(prefix_lists, &d.region).await?));
    }
    let dep = Deployment {
        stack_name: stack,
        template,
        parameters,
        tags: release.tags.clone(),
        new: &release.templates,
        stack_policy: release.stack_policy.clone(),
        lifted_policy: release.lifted_policy.clone(),
        command: "apply",
    };
    change_and_execute(d, &dep, &mode, options.choices, console).await
}

/// The preflight of `apply`: for an existing stack, the names it already holds are not
/// leftovers (`ListStackResources` of the root and nested stacks).
///
/// # Errors
/// [`DeployError`] when the stack's resources cannot be listed.
pub async fn preflight<C: CloudFormation, S: AssetStore, P: Probe>(
    d: &Deployer<C, S>,
    release: &Release,
    expectations: &Expectations,
    mode: &Mode,
    probe: &P,
) -> Result<preflight::Report, DeployError> {
    let owned: BTreeSet<String> = match mode {
        Mode::Create => BTreeSet::new(),
        Mode::Update(info) => super::manage::tree(&d.cfn, &info.stack_id)
            .await
            .map_err(|e| DeployError::cfn(release.stack_name(), e))?
            .into_iter()
            .map(|r| r.physical_id)
            .filter(|p| !p.is_empty())
            .collect(),
    };
    let inputs = Inputs {
        templates: &release.templates,
        expectations,
        place: Place::new(&d.account, &d.region),
        stack_exists: matches!(mode, Mode::Update(_)),
        owned,
    };
    Ok(preflight::run(probe, &inputs).await)
}

/// `sandboxc check`: the stack's state (`DescribeStacks`; a stack in any state counts as
/// existing), then the preflight. Read-only.
///
/// # Errors
/// [`DeployError`] when a CloudFormation call fails.
pub async fn check<C: CloudFormation, S: AssetStore, P: Probe>(
    d: &Deployer<C, S>,
    release: &Release,
    expectations: &Expectations,
    probe: &P,
) -> Result<preflight::Report, DeployError> {
    let stack = release.stack_name();
    let mode = match d.cfn.describe_stack(stack).await {
        Ok(info) if info.status == super::status::StackStatus::DeleteComplete => Mode::Create,
        Ok(info) => Mode::Update(info),
        Err(CfnError::NotFound { .. }) => Mode::Create,
        Err(e) => return Err(DeployError::cfn(stack, e)),
    };
    preflight(d, release, expectations, &mode, probe).await
}

/// Whether the root template declares a parameter.
fn declares(release: &Release, name: &str) -> bool {
    release.templates.templates.get(&release.templates.root_file).is_some_and(|t| t.parameters.contains_key(name))
}

/// Whether AppStream's home-folder bucket of this account and Region exists (`HeadBucket`
/// on `appstream2-36fb080bb8-<region>-<account>`, the name AppStream gives it: AppStream 2.0
/// administration guide, "Home Folders"). Until it does, the validator's bucket notification
/// is left out of the deployment.
async fn home_folder_bucket_exists<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    console: &mut dyn Console,
) -> Result<bool, DeployError> {
    let bucket = home_folder_bucket(&d.region, &d.account);
    match d.store.bucket_exists(&bucket).await {
        Ok(true) => Ok(true),
        Ok(false) => {
            console.line(&format!(
                "note: AppStream's home-folder bucket {bucket} does not exist yet (AppStream creates it at the first streaming session with home folders): the validator's bucket notification is left out. After the first session, run `sandboxc apply` again to connect the validator"
            ));
            Ok(false)
        }
        Err(source) => Err(DeployError::HomeFolderBucket { bucket, source }),
    }
}

/// The bucket named by the assets stack's output, or why there is none.
async fn assets_bucket_of_bootstrap<C: CloudFormation>(cfn: &C) -> Result<Result<String, Refusal>, DeployError> {
    let no_bucket = |status| Refusal::NoAssetsBucket { stack: ASSETS_STACK_NAME.to_string(), status };
    let info = match cfn.describe_stack(ASSETS_STACK_NAME).await {
        Ok(info) => info,
        Err(CfnError::NotFound { .. }) => return Ok(Err(no_bucket(None))),
        Err(e) => return Err(DeployError::cfn(ASSETS_STACK_NAME, e)),
    };
    if let Some(o) = info.outputs.iter().find(|o| o.key == ASSETS_BUCKET_OUTPUT && !o.value.is_empty()) {
        return Ok(Ok(o.value.clone()));
    }
    // Outputs are missing while the stack is still being created (and on emulators): the
    // bucket resource's physical ID is its name.
    let resources = cfn.list_resources(&info.stack_id).await.map_err(|e| DeployError::cfn(ASSETS_STACK_NAME, e))?;
    Ok(resources
        .into_iter()
        .find(|r| r.logical_id == ASSETS_BUCKET_RESOURCE && !r.physical_id.is_empty())
        .map(|r| r.physical_id)
        .ok_or_else(|| no_bucket(Some(info.status))))
}

/// The nested templates (and the root one when over [`MAX_TEMPLATE_BODY`] bytes) as assets,
/// and what `CreateChangeSet` gets for the root: its body, or its URL.
fn template_assets(release: &Release, bucket: &str, region: &str) -> Result<(Vec<Asset>, TemplateSource), DeployError> {
    let text_of = |file: &str| {
        release
            .files
            .iter()
            .find(|(f, _)| f == file)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| DeployError::Internal(format!("{file} is missing from the release")))
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
        let key = release.root_template_key.clone();
        let url = template_url(bucket, region, &key);
        assets.push(Asset {
            key,
            what: format!("root template ({} bytes, over the {MAX_TEMPLATE_BODY}-byte TemplateBody limit)", root.len()),
            body: root.into_bytes(),
            content_type: "application/json",
        });
        TemplateSource::Url(url)
    } else {
        TemplateSource::Body(root)
    };
    Ok((assets, template))
}

/// The Lambda zips not yet in the bucket (`HeadObject`), from `zips`, and how many are in the
/// bucket already.
async fn lambda_assets<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    release: &Release,
    bucket: &str,
    zips: &mut dyn LambdaZips,
    console: &mut dyn Console,
) -> Result<(Vec<Asset>, usize), DeployError> {
    let mut out = Vec::new();
    let mut present = 0;
    for a in &release.manifest.assets {
        if matches!(d.store.object_size(bucket, &a.s3_key).await, Ok(Some(_))) {
            present += 1;
            continue;
        }
        let body = zips.zip(a, bucket, console).map_err(DeployError::LambdaZip)?;
        out.push(Asset {
            key: a.s3_key.clone(),
            what: format!("Lambda zip {}", a.function),
            body,
            content_type: "application/zip",
        });
    }
    Ok((out, present))
}

/// `sandboxc bootstrap`: the assets stack through the change set path (`--allow-data-loss`
/// is never given).
///
/// # Errors
/// [`DeployError`].
pub async fn bootstrap<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    assets: &AssetsRelease,
    choices: Choices,
    console: &mut dyn Console,
) -> Result<Outcome, DeployError> {
    if assets.body.len() > MAX_TEMPLATE_BODY {
        return Err(DeployError::Internal(format!(
            "the assets template is {} bytes, over {MAX_TEMPLATE_BODY}",
            assets.body.len()
        )));
    }
    let stack = assets.stack_name.as_str();
    console.line(&format!("account {}, region {}, stack {stack}", d.account, d.region));
    let choices = Choices { allow_data_loss: false, ..choices };
    let mode = match prepare(d, stack, choices, console).await? {
        Prepared::Ready(mode) => mode,
        Prepared::Stop(outcome) => return Ok(outcome),
    };
    let dep = Deployment {
        stack_name: stack.to_string(),
        template: TemplateSource::Body(assets.body.clone()),
        parameters: Vec::new(),
        tags: vec![(ASSETS_STACK_TAG.into(), stack.to_string())],
        new: &assets.templates,
        stack_policy: assets.stack_policy.clone(),
        lifted_policy: assets.lifted_policy.clone(),
        command: "bootstrap",
    };
    change_and_execute(d, &dep, &mode, choices, console).await
}
