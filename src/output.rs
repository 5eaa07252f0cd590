//! Writing synth output: templates, scripts and `manifest.json`, replaced atomically.
//!
//! Everything is written into a fresh temporary directory beside the target, then swapped in
//! with renames, so an error at any point leaves the previous output exactly as it was.

use std::borrow::Cow;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::assets::LAMBDA_FUNCTIONS;
use crate::cfn::limits;
use crate::cfn::render::sha256_hex;
use crate::compile::{template_key_of, Compiled};

/// The version of `manifest.json`'s format.
pub const MANIFEST_VERSION: u32 = 1;

/// `manifest.json`: what synth wrote, for `plan` and `apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub manifest_version: u32,
    /// CloudFormation stack name.
    pub stack_name: String,
    /// `nested` or `single`.
    pub layout: String,
    /// File name of the root (or single) template.
    pub root_template: String,
    /// Every template.
    pub templates: Vec<TemplateEntry>,
    /// The Lambda zips the templates point at.
    pub assets: Vec<AssetEntry>,
    /// The rendered scripts.
    pub scripts: Vec<FileEntry>,
    /// Statements for the owners of existing buckets and keys the sandbox's datasets live in
    /// (absent when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owner_policies: Vec<OwnerPolicyEntry>,
    /// The users shards: their count, and whether synth chose it (`notebook.shards` unset).
    pub users_shards: ShardsEntry,
}

/// `users_shards` in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardsEntry {
    /// The shard count the users were placed by.
    pub count: u32,
    /// Whether synth chose it for the user count (`notebook.shards` unset).
    pub chosen: bool,
    /// Users in the blueprint.
    pub users: usize,
}

/// One owner policy file in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnerPolicyEntry {
    /// Path relative to the output directory (`bucket-policies/<bucket>.json`).
    pub file: String,
    /// `bucket-policy` or `key-policy`.
    pub kind: String,
    /// The bucket or key ARN whose owner adds the statements.
    pub resource: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// One template in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateEntry {
    /// File name in the output directory.
    pub file: String,
    /// The part (nested stack) it holds, or `root` / `single`.
    pub stack: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: usize,
    /// Key in the assets bucket the root stack reads it from (nested templates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_key: Option<String>,
    /// Whether it exceeds the 51,200-byte inline limit and must be deployed from S3.
    pub deploy_by_url: bool,
}

/// One Lambda zip in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssetEntry {
    /// `validator` or `provider`.
    pub function: String,
    /// Key in the assets bucket.
    pub s3_key: String,
    /// Asset identity: SHA-256 of the sources (not of the zip).
    pub identity: String,
    /// What the identity covers.
    pub source: String,
}

/// A rendered file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileEntry {
    /// Path relative to the output directory.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

/// Why the output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A CloudFormation quota is exceeded.
    #[error("{0}")]
    Limits(String),
    /// The target exists and is not a directory.
    #[error("{0} exists and is not a directory; choose another -o DIR")]
    NotADirectory(PathBuf),
    /// The target exists but does not look like synth output.
    #[error("{0} exists and is not a sandboxc output directory (it has files but no manifest.json); choose another -o DIR or remove it")]
    NotOurs(PathBuf),
    /// The target holds synth output plus files synth did not write: replacing it would lose them.
    #[error("{dir} holds files sandboxc did not write ({}); replacing the directory would delete them: move them out or choose another -o DIR", .files.join(", "))]
    ForeignFiles {
        /// The output directory.
        dir: PathBuf,
        /// Its files that the previous manifest does not list (at most a few named).
        files: Vec<String>,
    },
    /// The target is the current directory or contains it.
    #[error("{0} contains the current directory; choose an output directory below it, such as out")]
    ContainsWorkingDirectory(PathBuf),
    /// A file-system error.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |source| OutputError::Io { what, path: path.to_path_buf(), source }
}

/// What to change when template `t` exceeds a quota: more users shards (a users shard), the
/// nested layout (the single template), or nothing the blueprint can say (another part).
fn limits_hint(compiled: &Compiled, t: &crate::compile::NamedTemplate) -> Option<String> {
    use crate::compile::users::{MAX_SHARDS, USERS_PER_SHARD};
    let shards = compiled.shards;
    if t.part == Some(crate::compile::Part::Users) {
        let raise = if shards.count < MAX_SHARDS {
            format!("raise notebook.shards (now {}, at most {MAX_SHARDS}; synth's choice puts about {USERS_PER_SHARD} users in a shard)", shards.count)
        } else {
            format!("notebook.shards is already at its most ({MAX_SHARDS}): give the users fewer datasets each, or split the sandbox")
        };
        return Some(format!(
            "{}: a users shard holds too many users or too many grants; {raise}. A new count moves users between shards (sandboxc plan lists the moves, which replace their notebooks)",
            t.file
        ));
    }
    (t.part.is_none() && compiled.templates.len() == 1 && shards.users > 0).then(|| {
        format!(
            "{}: the single layout puts every user's resources in one template; use `layout: nested`, which places them in users shards",
            t.file
        )
    })
}

/// Every file of the output as `(relative path, bytes)`, and the manifest describing them.
///
/// # Errors
/// [`OutputError::Limits`] when a template exceeds a CloudFormation quota.
pub fn files(compiled: &Compiled) -> Result<(Vec<(String, String)>, Manifest), OutputError> {
    let (files, manifest) = borrowed_files(compiled)?;
    Ok((files.into_iter().map(|(f, text)| (f, text.into_owned())).collect(), manifest))
}

/// The manifest of the output ([`files`] without the files).
///
/// # Errors
/// [`OutputError::Limits`] when a template exceeds a CloudFormation quota.
pub fn manifest(compiled: &Compiled) -> Result<Manifest, OutputError> {
    borrowed_files(compiled).map(|(_, manifest)| manifest)
}

/// Files of the output as `(relative path, bytes)`, the bytes borrowed where the compile has them.
type Files<'c> = Vec<(String, Cow<'c, str>)>;

/// [`files`], the templates' and scripts' bytes borrowed from the compile.
fn borrowed_files(compiled: &Compiled) -> Result<(Files<'_>, Manifest), OutputError> {
    let mut files = Vec::new();
    let mut templates = Vec::new();
    let mut problems = Vec::new();
    let mut root_template = String::new();
    for t in &compiled.templates {
        let text = &t.text;
        let violations = limits::violations(&t.file, &t.template, text);
        if !violations.is_empty() {
            problems.extend(violations);
            problems.extend(limits_hint(compiled, t));
        }
        problems.extend(limits::role_policy_violations(&t.file, &t.template));
        let s3_key = t.part.map(|_| template_key_of(&t.sha256, compiled.format));
        if t.part.is_none() {
            root_template = t.file.clone();
        }
        templates.push(TemplateEntry {
            file: t.file.clone(),
            stack: t.slug().unwrap_or_else(
                || {
                    if compiled.templates.len() == 1 {
                        "single".into()
                    } else {
                        "root".into()
                    }
                },
            ),
            sha256: t.sha256.clone(),
            bytes: text.len(),
            s3_key,
            deploy_by_url: text.len() > limits::MAX_INLINE_BODY_BYTES,
        });
        files.push((t.file.clone(), Cow::Borrowed(text.as_str())));
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.push(format!("{n} quota{} exceeded; nothing was written", if n == 1 { "" } else { "s" }));
        return Err(OutputError::Limits(problems.join("\n")));
    }
    let mut scripts = Vec::new();
    for (name, text) in
        [("scripts/launcher.ps1", &compiled.scripts.launcher), ("scripts/notebook.ps1", &compiled.scripts.notebook)]
    {
        scripts.push(FileEntry { file: name.into(), sha256: sha256_hex(text.as_bytes()) });
        files.push((name.into(), Cow::Borrowed(text.as_str())));
    }
    let mut owner_policies = Vec::new();
    for o in &compiled.owner_policies {
        let mut text = serde_json::to_string_pretty(&o.document).map_err(|e| OutputError::Limits(e.to_string()))?;
        text.push('\n');
        owner_policies.push(OwnerPolicyEntry {
            file: o.file.clone(),
            kind: match o.kind {
                crate::compile::owner::OwnerPolicyKind::Bucket => "bucket-policy".into(),
                crate::compile::owner::OwnerPolicyKind::Key => "key-policy".into(),
            },
            resource: o.resource.clone(),
            sha256: sha256_hex(text.as_bytes()),
        });
        files.push((o.file.clone(), Cow::Owned(text)));
    }
    let assets = LAMBDA_FUNCTIONS
        .iter()
        .map(|f| AssetEntry {
            function: (*f).into(),
            s3_key: compiled.lambda.key(f),
            identity: compiled.lambda.identity.clone(),
            source: "lambda/Cargo.toml, lambda/src/**, Cargo.lock (built by sandboxc package)".into(),
        })
        .collect();
    let manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        stack_name: compiled.stack_name.clone(),
        layout: if compiled.templates.len() == 1 { "single".into() } else { "nested".into() },
        root_template,
        templates,
        assets,
        scripts,
        owner_policies,
        users_shards: ShardsEntry {
            count: compiled.shards.count,
            chosen: compiled.shards.chosen,
            users: compiled.shards.users,
        },
    };
    let mut text = serde_json::to_string_pretty(&manifest).map_err(|e| OutputError::Limits(e.to_string()))?;
    text.push('\n');
    files.push(("manifest.json".into(), Cow::Owned(text)));
    Ok((files, manifest))
}

/// Refuses to replace `dir` unless it is empty or holds exactly a previous synth output: a
/// `manifest.json` of sandboxc's format listing every file in it. Also refuses the current
/// directory and its ancestors.
fn check_replaceable(dir: &Path) -> Result<(), OutputError> {
    if !dir.is_dir() {
        return Err(OutputError::NotADirectory(dir.to_path_buf()));
    }
    let canonical = dir.canonicalize().map_err(io("cannot resolve", dir))?;
    if std::env::current_dir().is_ok_and(|cwd| cwd.starts_with(&canonical)) {
        return Err(OutputError::ContainsWorkingDirectory(dir.to_path_buf()));
    }
    let mut present = Vec::new();
    list_files(dir, dir, &mut present)?;
    if present.is_empty() {
        return Ok(());
    }
    let manifest =
        fs::read(dir.join("manifest.json")).ok().and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    let Some(manifest) = manifest.filter(|m| m["manifest_version"].is_u64() && m["stack_name"].is_string()) else {
        return Err(OutputError::NotOurs(dir.to_path_buf()));
    };
    let mut listed: Vec<String> = vec!["manifest.json".into()];
    for key in ["templates", "scripts", "owner_policies"] {
        for entry in manifest[key].as_array().into_iter().flatten() {
            if let Some(f) = entry["file"].as_str() {
                listed.push(f.to_string());
            }
        }
    }
    let foreign: Vec<String> = present.into_iter().filter(|f| !listed.contains(f)).collect();
    if !foreign.is_empty() {
        let mut files: Vec<String> = foreign.iter().take(5).cloned().collect();
        if foreign.len() > 5 {
            files.push(format!("and {} more", foreign.len() - 5));
        }
        return Err(OutputError::ForeignFiles { dir: dir.to_path_buf(), files });
    }
    Ok(())
}

/// Every file below `dir` (symbolic links count as files), as `/`-separated relative paths.
fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), OutputError> {
    for entry in fs::read_dir(dir).map_err(io("cannot read", dir))? {
        let entry = entry.map_err(io("cannot read", dir))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(io("cannot read", &path))?;
        if kind.is_dir() {
            list_files(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(
                rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"),
            );
        }
    }
    Ok(())
}

/// Writes the output into `dir`, replacing a previous synth output there as a whole.
///
/// # Errors
/// [`OutputError`] when a quota is exceeded, `dir` holds something else, or a write fails;
/// in every case `dir` is left as it was.
pub fn write(dir: &Path, compiled: &Compiled) -> Result<Manifest, OutputError> {
    let (files, manifest) = borrowed_files(compiled)?;
    if dir.exists() {
        check_replaceable(dir)?;
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io("cannot create", &parent))?;
    let staging = tempfile::Builder::new()
        .prefix(".sandboxc-synth-")
        .tempdir_in(&parent)
        .map_err(io("cannot create a staging directory in", &parent))?;
    for (rel, text) in &files {
        let path = staging.path().join(rel);
        if let Some(d) = path.parent() {
            fs::create_dir_all(d).map_err(io("cannot create", d))?;
        }
        fs::write(&path, text.as_bytes()).map_err(io("cannot write", &path))?;
    }
    if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".sandboxc-old-")
            .tempdir_in(&parent)
            .map_err(io("cannot create a staging directory in", &parent))?;
        let backup = old.path().join("previous");
        fs::rename(dir, &backup).map_err(io("cannot move aside", dir))?;
        if let Err(e) = fs::rename(staging.path(), dir) {
            // Put the previous output back before reporting.
            let _ = fs::rename(&backup, dir);
            return Err(OutputError::Io { what: "cannot move into place", path: dir.to_path_buf(), source: e });
        }
        let _ = staging.keep();
        drop(old);
    } else {
        fs::rename(staging.path(), dir).map_err(io("cannot move into place", dir))?;
        let _ = staging.keep();
    }
    Ok(manifest)
}
