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
    let templates = plan::TemplateSet::from_compiled(&compiled).map_err(|e| compile::CompileError::Internal(e.to_string()))?;
    Ok(Release { blueprint, files, manifest, templates })
}

/// `sandboxc synth`: compiles a blueprint and writes templates, scripts and manifest to `out`.
///
/// # Errors
/// Any [`Error`]; `out` is unchanged unless the call succeeds.
pub fn synth(source: &Source, out: &Path, format: Format) -> Result<output::Manifest, Error> {
    let compiled = build(source, format)?;
    Ok(output::write(out, &compiled)?)
}
