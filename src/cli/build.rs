//! The stages run in order for a command: blueprint -> compile -> output, and the releases
//! the deploy commands receive (deploy never builds templates).

use std::path::{Path, PathBuf};

use crate::assets::LambdaAsset;
use crate::blueprint::diagnostics::Diagnostics;
use crate::blueprint::{Blueprint, Source, Warnings};
use crate::cfn::render::Format;
use crate::compile::{CompileError, Compiled};
use crate::deploy::{AssetsRelease, Release};
use crate::output::{Manifest, OutputError};
use crate::plan::TemplateSet;
use sandboxc_contract::assets::ASSETS_STACK_NAME;

/// Anything that stops `synth`, `validate`, or the build of a release.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The blueprint is invalid: every problem, with positions.
    #[error("{0}")]
    Blueprint(#[from] Diagnostics),
    /// A bug in the compiler.
    #[error("{0}")]
    Compile(#[from] CompileError),
    /// The output could not be written (nothing was changed), or a CloudFormation limit is
    /// exceeded.
    #[error("{0}")]
    Output(#[from] OutputError),
}

/// The file a command reads when no BLUEPRINT is given and it exists in the current directory
/// (the file `sandboxc init` writes).
pub const LOCAL_BLUEPRINT: &str = "sandbox.yaml";

/// The blueprint file a command reads: `path` when given, else [`LOCAL_BLUEPRINT`] when the
/// current directory has one, else `None` (the embedded default).
#[must_use]
pub fn blueprint_path(path: Option<&Path>) -> Option<PathBuf> {
    match path {
        Some(p) => Some(p.to_path_buf()),
        None => Path::new(LOCAL_BLUEPRINT).is_file().then(|| PathBuf::from(LOCAL_BLUEPRINT)),
    }
}

/// The blueprint at `path` (`-` reads standard input); without one, `./sandbox.yaml` when it
/// exists, else the embedded default ([`blueprint_path`]).
///
/// # Errors
/// [`Diagnostics`] when the file cannot be read.
pub fn source(path: Option<&Path>) -> Result<Source, Diagnostics> {
    match blueprint_path(path) {
        Some(p) => Source::read(&p),
        None => Ok(Source::embedded()),
    }
}

/// Loads and validates a blueprint, and prints its warnings ([`crate::blueprint::advice`]) on
/// standard error, also with `-q`: they are about the sandbox, not about the command's progress.
///
/// # Errors
/// [`Diagnostics`] of an invalid blueprint.
pub fn load(source: &Source) -> Result<Blueprint, Diagnostics> {
    let blueprint = crate::blueprint::load(source)?;
    let warnings = crate::blueprint::advice::warnings(source, &blueprint);
    if !warnings.is_empty() {
        eprintln!("{warnings}");
    }
    Ok(blueprint)
}

/// Loads, validates and compiles a blueprint, without writing anything (and without printing
/// its warnings: the commands that own the blueprint print them, through [`load`]).
///
/// # Errors
/// [`BuildError::Blueprint`] or [`BuildError::Compile`].
pub fn build(source: &Source, format: Format) -> Result<Compiled, BuildError> {
    let blueprint = crate::blueprint::load(source)?;
    compile(&blueprint, format)
}

/// Compiles a validated blueprint with the built-in Lambda asset, without writing anything.
///
/// # Errors
/// [`BuildError::Compile`].
pub fn compile(blueprint: &Blueprint, format: Format) -> Result<Compiled, BuildError> {
    Ok(crate::compile::compile(blueprint, &LambdaAsset::built_in(), format)?)
}

/// `sandboxc validate`: loads and validates a blueprint, then compiles its templates in memory
/// and applies the CloudFormation limits synth applies (nothing is written). Its warnings are
/// returned, not printed.
///
/// # Errors
/// [`BuildError::Blueprint`], [`BuildError::Compile`], or [`BuildError::Output`] for a limit
/// exceeded, exactly as `synth` would report them.
pub fn validate(source: &Source) -> Result<(Blueprint, Warnings), BuildError> {
    let blueprint = crate::blueprint::load(source)?;
    let warnings = crate::blueprint::advice::warnings(source, &blueprint);
    let compiled = compile(&blueprint, Format::Json)?;
    crate::output::files(&compiled)?;
    Ok((blueprint, warnings))
}

/// `sandboxc synth`: compiles a blueprint (printing its warnings) and writes templates, scripts and manifest to `out`.
///
/// # Errors
/// Any [`BuildError`]; `out` is unchanged unless the call succeeds.
pub fn synth(source: &Source, out: &Path, format: Format) -> Result<Manifest, BuildError> {
    let blueprint = load(source)?;
    let compiled = compile(&blueprint, format)?;
    Ok(crate::output::write(out, &compiled)?)
}

/// Loads, validates and compiles a blueprint for `apply`, `status` and `destroy`; checks every
/// CloudFormation limit (body sizes, resources, parameters, outputs) without any AWS call.
/// Returns the validated blueprint too (its pinned `account` and `region`).
///
/// # Errors
/// [`BuildError::Blueprint`], [`BuildError::Compile`], or [`BuildError::Output`] for a limit
/// exceeded.
pub fn release(source: &Source) -> Result<(Blueprint, Release), BuildError> {
    let blueprint = load(source)?;
    let compiled = compile(&blueprint, Format::Json)?;
    let (files, manifest) = crate::output::files(&compiled)?;
    let templates = TemplateSet::from_compiled(&compiled).map_err(|e| CompileError::Internal(e.to_string()))?;
    let root = files
        .iter()
        .find(|(f, _)| *f == manifest.root_template)
        .map(|(_, text)| text.as_str())
        .ok_or_else(|| CompileError::Internal(format!("{} is missing from the output", manifest.root_template)))?;
    let root_template_key = crate::compile::template_key(root.as_bytes(), Format::Json);
    let release = Release {
        tags: blueprint.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        files,
        manifest,
        templates,
        root_template_key,
        stack_policy: crate::compile::bootstrap::stack_policy(),
        lifted_policy: crate::compile::bootstrap::stack_policy_lifted(),
    };
    Ok((blueprint, release))
}

/// Compiles the assets stack of `sandboxc bootstrap`.
///
/// # Errors
/// [`BuildError::Compile`] on a compiler bug.
pub fn assets_release() -> Result<AssetsRelease, BuildError> {
    let template = crate::compile::bootstrap::template()?;
    let body = Format::Json.render(&template.to_value()).map_err(CompileError::Internal)?;
    Ok(AssetsRelease {
        stack_name: ASSETS_STACK_NAME.to_string(),
        templates: TemplateSet::single(ASSETS_STACK_NAME, template),
        body,
        stack_policy: crate::compile::bootstrap::stack_policy(),
        lifted_policy: crate::compile::bootstrap::stack_policy_lifted(),
    })
}
