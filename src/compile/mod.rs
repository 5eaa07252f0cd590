//! The compiler: a validated blueprint -> CloudFormation templates. One module per part of the
//! sandbox (README, "What it is"), and [`assemble`] for the root stack with one nested stack per part
//! (`layout: nested`) or one template (`layout: single`). Never calls AWS.

mod appstream;
mod assemble;
pub mod audit;
pub mod bootstrap;
mod common;
mod context;

mod identity;
mod network;
mod notebook;
pub mod owner;
mod storage;
pub mod users;
mod validator;

pub use assemble::{stack_id, template_key, template_key_of};
pub use context::Ctx;
pub use network::DATA_BUCKET_POLICY;
pub use notebook::user_id_prefix;

use crate::assets::{scripts, LambdaAsset};
use crate::blueprint::Blueprint;
use crate::cfn::render::Format;
use crate::cfn::Template;

/// A failure of the compiler itself: the blueprint was valid, so these are sandboxc bugs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// A dangling reference, duplicate logical ID or similar inconsistency.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::cfn::CfnError> for CompileError {
    /// Building a template failed (a logical ID used twice): a compiler bug.
    fn from(e: crate::cfn::CfnError) -> Self {
        Self::Internal(e.to_string())
    }
}

/// The parts of a sandbox, in the order they are compiled (a part may import from earlier ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// Data bucket, its key, SSM parameters.
    Storage,
    /// Audit key, trail and its bucket, usage reports; the bucket of the exported decisions.
    Audit,
    /// VPC, subnets, endpoints, flow logs.
    Network,
    /// Fleet, stack, fleet role, service roles.
    AppStream,
    /// The notebooks' key and security group (and the shared notebook and its role).
    Notebook,
    /// The per-user resources, in shards: one nested stack per shard that has users
    /// ([`users`]).
    Users,
    /// SAML federation role.
    Identity,
    /// Validator Lambda, its queue, permission and the home-folder notification; the export of
    /// its decisions (subscription filter, Firehose stream).
    Validator,
}

impl Part {
    /// Every part, in compile order.
    pub const ALL: [Part; 8] = [
        Part::Storage,
        Part::Audit,
        Part::Network,
        Part::AppStream,
        Part::Notebook,
        Part::Users,
        Part::Identity,
        Part::Validator,
    ];

    /// `Storage`, `AppStream`...: used in logical IDs and parameter names.
    #[must_use]
    pub fn title(self) -> &'static str {
        match self {
            Self::Storage => "Storage",
            Self::Audit => "Audit",
            Self::Network => "Network",
            Self::AppStream => "AppStream",
            Self::Notebook => "Notebook",
            Self::Users => "Users",
            Self::Identity => "Identity",
            Self::Validator => "Validator",
        }
    }

    /// `storage`, `appstream`...: used in file names.
    #[must_use]
    pub fn slug(self) -> &'static str {
        match self {
            Self::Storage => "storage",
            Self::Audit => "audit",
            Self::Network => "network",
            Self::AppStream => "appstream",
            Self::Notebook => "notebook",
            Self::Users => "users",
            Self::Identity => "identity",
            Self::Validator => "validator",
        }
    }
}

/// One template of the output, with the file name synth writes it under.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTemplate {
    /// File name such as `datasandbox.template.json` or `datasandbox-network.template.json`.
    pub file: String,
    /// The nested stack's part; None for the root (or the single) template.
    pub part: Option<Part>,
    /// The shard of a [`Part::Users`] template (`1..=shards`).
    pub shard: Option<u32>,
    /// The template.
    pub template: Template,
    /// The template's bytes as synth writes them ([`Format::render_template`]), rendered
    /// once, when the compiler finished the template (a change to `template` afterwards is
    /// not reflected: render it again).
    pub text: String,
    /// Lowercase hex SHA-256 of `text`: the manifest's `sha256` and, for a nested template,
    /// its key in the assets bucket ([`template_key_of`]).
    pub sha256: String,
}

impl NamedTemplate {
    /// A finished template, rendered in `format`.
    ///
    /// # Errors
    /// [`CompileError::Internal`] when the template cannot be rendered (not expected).
    pub fn rendered(
        file: String,
        part: Option<Part>,
        shard: Option<u32>,
        template: Template,
        format: Format,
    ) -> Result<Self, CompileError> {
        let text = format.render_template(&template).map_err(CompileError::Internal)?;
        let sha256 = crate::cfn::render::sha256_hex(text.as_bytes());
        Ok(Self { file, part, shard, template, text, sha256 })
    }

    /// The stack label of a nested template, as in `manifest.json` and the nested stack's
    /// logical ID (`network`, `users07`); None for the root (or the single) template.
    #[must_use]
    pub fn slug(&self) -> Option<String> {
        let part = self.part?;
        Some(match self.shard {
            Some(shard) => users::shard_title(shard).to_ascii_lowercase(),
            None => part.slug().to_string(),
        })
    }
}

/// The users shards of a compiled blueprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shards {
    /// The shard count.
    pub count: u32,
    /// Whether synth chose it (`notebook.shards` unset): [`users::auto_shards`].
    pub chosen: bool,
    /// Users in the blueprint.
    pub users: usize,
}

/// Everything a blueprint compiles to.
#[derive(Debug, Clone, PartialEq)]
pub struct Compiled {
    /// The CloudFormation stack name (the environment name).
    pub stack_name: String,
    /// Nested templates first (in part order), the root (or single) template last.
    pub templates: Vec<NamedTemplate>,
    /// The rendered scripts.
    pub scripts: scripts::Scripts,
    /// The Lambda code asset the templates point at.
    pub lambda: LambdaAsset,
    /// The format the templates are rendered in (nested template keys hash those bytes).
    pub format: Format,
    /// What the owners of existing buckets (and their keys) must add for the sandbox's
    /// datasets there ([`owner::owner_policies`]).
    pub owner_policies: Vec<owner::OwnerPolicy>,
    /// The users shards.
    pub shards: Shards,
}

/// Compiles a validated blueprint.
///
/// Nested templates are referenced from the root by the SHA-256 of their serialized JSON,
/// so the root changes exactly when a nested template does.
///
/// # Errors
/// [`CompileError::Internal`] for inconsistencies (dangling references, duplicate logical IDs).
pub fn compile(blueprint: &Blueprint, lambda: &LambdaAsset, format: Format) -> Result<Compiled, CompileError> {
    let scripts = scripts::render(&blueprint.names).map_err(CompileError::Internal)?;
    let mut ctx = Ctx::new(blueprint, lambda, scripts.notebook.clone());
    let mut parts = Vec::new();
    for part in Part::ALL {
        let built = match part {
            Part::Storage => Some(storage::build(&mut ctx)?),
            Part::Audit => Some(audit::build(&mut ctx)?),
            Part::Network => Some(network::build(&mut ctx)?),
            Part::AppStream => Some(appstream::build(&mut ctx)?),
            Part::Notebook => Some(notebook::build(&mut ctx)?),
            Part::Users => {
                parts.extend(users::build(&mut ctx)?);
                None
            }
            Part::Identity => identity::build(&mut ctx)?,
            Part::Validator => Some(validator::build(&mut ctx)?),
        };
        parts.extend(built);
    }
    let templates = assemble::assemble(&ctx, parts, format)?;
    for t in &templates {
        let problems = crate::cfn::check::check(&t.template);
        if !problems.is_empty() {
            return Err(CompileError::Internal(format!(
                "{}: {}",
                t.file,
                crate::cfn::CfnError::Inconsistent(problems)
            )));
        }
    }
    Ok(Compiled {
        stack_name: blueprint.names.env.clone(),
        templates,
        scripts,
        lambda: lambda.clone(),
        format,
        owner_policies: owner::owner_policies(blueprint),
        shards: {
            let (count, chosen) = users::shard_count(blueprint);
            Shards { count, chosen, users: blueprint.users.len() }
        },
    })
}
