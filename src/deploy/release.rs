//! What the deploy commands receive, compiled: deploy never builds templates.

use crate::output::Manifest;
use crate::plan::TemplateSet;

/// What `apply` deploys, `status` and `destroy` look at: the synth output in memory, exactly
/// the bytes `synth` writes (same renderer, same limits check), built by the command line.
#[derive(Debug, Clone)]
pub struct Release {
    /// The blueprint's `tags`: key and value, given to the stack (and so to every resource
    /// that takes tags).
    pub tags: Vec<(String, String)>,
    /// Every output file as `(relative path, text)`.
    pub files: Vec<(String, String)>,
    /// The manifest describing them (stack name, template keys in the assets bucket, Lambda
    /// zip keys).
    pub manifest: Manifest,
    /// The templates parsed, for the plan shown before approval.
    pub templates: TemplateSet,
    /// The assets-bucket key of the root template, used when it is over
    /// [`super::MAX_TEMPLATE_BODY`] bytes and must be deployed by URL.
    pub root_template_key: String,
    /// The stack policy set on the root and nested stacks after each deployment.
    pub stack_policy: String,
    /// The stack policy during an update approved with `--allow-data-loss`.
    pub lifted_policy: String,
}

impl Release {
    /// The CloudFormation stack name.
    #[must_use]
    pub fn stack_name(&self) -> &str {
        &self.manifest.stack_name
    }
}

/// What `bootstrap` deploys: the assets stack's template (compact JSON under 51,200 bytes)
/// and its stack policies.
#[derive(Debug, Clone)]
pub struct AssetsRelease {
    /// The assets stack's name.
    pub stack_name: String,
    /// The template, parsed, for the plan shown before approval.
    pub templates: TemplateSet,
    /// The template as sent (`TemplateBody`).
    pub body: String,
    /// The stack policy set after each deployment.
    pub stack_policy: String,
    /// The stack policy during an update approved with `--allow-data-loss`.
    pub lifted_policy: String,
}
