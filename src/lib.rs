//! sandboxc compiles one YAML blueprint of an isolated AWS data sandbox into CloudFormation.
//!
//! Data flows one way: [`blueprint`] (YAML -> validated model) -> [`compile`] (model ->
//! [`cfn`] templates) -> [`output`] (deterministic files). Nothing here calls AWS.

pub mod assets;
pub mod audit;
pub mod blueprint;
pub mod cfn;
pub mod compile;
pub mod deploy;
pub mod diagnostics;
pub mod output;
pub mod plan;

use std::path::Path;

use blueprint::Source;
use cfn::render::Format;

/// Anything that stops `synth` or `validate`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The blueprint is invalid: every problem, with positions.
    #[error("{0}")]
    Blueprint(#[from] diagnostics::Diagnostics),
    /// A bug in the compiler.
    #[error("{0}")]
    Compile(#[from] compile::CompileError),
    /// The output could not be written (nothing was changed).
    #[error("{0}")]
    Output(#[from] output::OutputError),
    /// `sandboxc package` failed.
    #[error("{0}")]
    Package(#[from] assets::package::PackageError),
}

/// Loads, validates and compiles a blueprint, without writing anything.
///
/// # Errors
/// [`Error::Blueprint`] or [`Error::Compile`].
pub fn build(source: &Source, format: Format) -> Result<compile::Compiled, Error> {
    let blueprint = blueprint::load(source)?;
    Ok(compile::compile(&blueprint, &assets::LambdaAsset::built_in(), format)?)
}

/// What `apply` deploys: the blueprint and its synth output in memory, exactly the bytes
/// `synth` writes (same renderer, same limits check).
#[derive(Debug, Clone)]
pub struct Release {
    /// The validated blueprint (stack name, pinned account and Region, tags).
    pub blueprint: blueprint::Blueprint,
    /// Every output file as `(relative path, text)`.
    pub files: Vec<(String, String)>,
    /// The manifest describing them (template keys in the assets bucket, Lambda zip keys).
    pub manifest: output::Manifest,
    /// The templates parsed, for the plan shown before approval.
    pub templates: plan::TemplateSet,
    /// The stack policy set on the root and nested stacks after each deployment.
    pub stack_policy: String,
    /// The stack policy during an update approved with `--allow-data-loss`.
    pub lifted_policy: String,
}

/// What `bootstrap` deploys: the assets stack's template (compact JSON under 51,200 bytes)
/// and its stack policies.
#[derive(Debug, Clone)]
pub struct AssetsRelease {
    /// The template.
    pub template: cfn::Template,
    /// The template as sent (`TemplateBody`).
    pub body: String,
    /// The stack policy set after each deployment.
    pub stack_policy: String,
    /// The stack policy during an update approved with `--allow-data-loss`.
    pub lifted_policy: String,
}

/// Compiles the assets stack of `sandboxc bootstrap`.
///
/// # Errors
/// [`Error::Compile`] on a compiler bug.
pub fn assets_release() -> Result<AssetsRelease, Error> {
    let template = compile::bootstrap::template()?;
    let body = Format::Json.render(&template.to_value()).map_err(compile::CompileError::Internal)?;
    Ok(AssetsRelease {
        template,
        body,
        stack_policy: compile::bootstrap::stack_policy(),
        lifted_policy: compile::bootstrap::stack_policy_lifted(),
    })
}

/// Loads, validates and compiles a blueprint for `apply`; checks every CloudFormation limit
/// (body sizes, resources, parameters, outputs) without any AWS call.
///
/// # Errors
/// [`Error::Blueprint`], [`Error::Compile`], or [`Error::Output`] for a limit exceeded.
pub fn release(source: &Source) -> Result<Release, Error> {
    let blueprint = blueprint::load(source)?;
    let compiled = compile::compile(&blueprint, &assets::LambdaAsset::built_in(), Format::Json)?;
    let (files, manifest) = output::files(&compiled)?;
    let templates =
        plan::TemplateSet::from_compiled(&compiled).map_err(|e| compile::CompileError::Internal(e.to_string()))?;
    Ok(Release {
        blueprint,
        files,
        manifest,
        templates,
        stack_policy: compile::bootstrap::stack_policy(),
        lifted_policy: compile::bootstrap::stack_policy_lifted(),
    })
}

/// `sandboxc synth`: compiles a blueprint and writes templates, scripts and manifest to `out`.
///
/// # Errors
/// Any [`Error`]; `out` is unchanged unless the call succeeds.
pub fn synth(source: &Source, out: &Path, format: Format) -> Result<output::Manifest, Error> {
    let compiled = build(source, format)?;
    Ok(output::write(out, &compiled)?)
}
