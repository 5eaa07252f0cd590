//! `sandboxc package`: builds the Lambda crate's two release binaries for Amazon Linux 2023
//! and writes one reproducible zip per function.
//!
//! - Build: `cargo zigbuild --release --locked -p sandboxc-lambda --bins --target
//!   x86_64-unknown-linux-gnu.2.17` with `cargo-zigbuild` and `ziglang` (both from PyPI) in
//!   the workspace's `.venv` (or `$SANDBOXC_VENV`), into a target directory of its own ([`target_dir`]). Zig links
//!   against glibc 2.17 symbols whatever the host has; `provided.al2023` has glibc 2.34.
//!   Registry source paths are remapped (`--remap-path-prefix`; workspace crates already
//!   build with relative paths) and symbols stripped, so the binaries hold no home directory.
//! - Check: every `GLIBC_x.y` the binaries require ([`elf::required_glibc`]) must be at most
//!   [`MAX_GLIBC`].
//! - Zip: `<out_dir>/<identity>/<function>.zip` holding only `bootstrap`
//!   ([`zipfile::write_bootstrap_zip`]), where `<identity>` is the Lambda asset identity
//!   synth puts into the templates' `S3Key` (`lambda/<identity>/<function>.zip`).

use std::ffi::OsString;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::assets::identity::{identity, lambda_source_files};

pub mod dist;
pub mod elf;
pub mod zipfile;

pub use elf::GlibcVersion;

/// The functions built from `lambda/`: binary name = zip name.
pub const FUNCTIONS: [&str; 2] = ["validator", "provider"];
/// The zigbuild target: x86-64 Linux, glibc symbols no newer than 2.17.
pub const ZIG_TARGET: &str = "x86_64-unknown-linux-gnu.2.17";
/// The directory under the target directory that zigbuild writes to.
pub const TARGET_TRIPLE: &str = "x86_64-unknown-linux-gnu";
/// glibc of Amazon Linux 2023 (`provided.al2023`).
pub const MAX_GLIBC: GlibcVersion = (2, 34);
/// Overrides the build's target directory.
pub const TARGET_DIR_ENV: &str = "SANDBOXC_LAMBDA_TARGET_DIR";
/// The Python virtual environment holding `cargo-zigbuild` and `ziglang`, when not the
/// workspace's `.venv` (the test script keeps one outside the checkout, so that every checkout
/// of a machine links with the same zig wrapper and reuses one release build).
pub const VENV_ENV: &str = "SANDBOXC_VENV";
/// How to install the build tools, shown when they are missing.
pub const INSTALL_HINT: &str = "python3 -m venv .venv && .venv/bin/pip install cargo-zigbuild ziglang";

/// The virtual environment the build tools are taken from: `$SANDBOXC_VENV`, else
/// `<workspace_root>/.venv`.
#[must_use]
pub fn venv_dir(workspace_root: &Path) -> PathBuf {
    match std::env::var_os(VENV_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root.join(".venv"),
    }
}

/// One packaged function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagedFunction {
    /// `validator` or `provider`.
    pub function: String,
    /// `<out_dir>/<identity>/<function>.zip`.
    pub zip_path: PathBuf,
    /// Lowercase hex SHA-256 of the zip.
    pub zip_sha256: String,
    /// Size of the zip, in bytes.
    pub zip_bytes: u64,
    /// The newest `GLIBC_x.y` the binary requires; `None` for a static binary.
    pub max_glibc: Option<GlibcVersion>,
}

/// What `package` wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageReport {
    /// The Lambda asset identity (64 lowercase hex).
    pub identity: String,
    /// One entry per function, in [`FUNCTIONS`] order.
    pub functions: Vec<PackagedFunction>,
}

/// Why packaging failed.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Reading sources, the binaries, or writing the zips.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, with the path.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// `cargo-zigbuild` is not in the virtual environment ([`venv_dir`]).
    #[error("{path} not found: install the Lambda build tools with `{INSTALL_HINT}` (in the workspace root), or point {VENV_ENV} at a virtual environment that has them")]
    ToolMissing {
        /// The path looked at.
        path: PathBuf,
    },
    /// The build command failed.
    #[error("building the Lambda binaries failed ({status}); the command was: {command}")]
    Build {
        /// The exit status.
        status: String,
        /// The command line.
        command: String,
    },
    /// A binary is not a readable ELF file.
    #[error("{function}: {source}")]
    Elf {
        /// The function.
        function: String,
        /// The error.
        source: elf::ElfError,
    },
    /// A binary needs a newer glibc than Amazon Linux 2023 has.
    #[error("{function} requires GLIBC_{}.{}, newer than Amazon Linux 2023's {}.{}", .found.0, .found.1, MAX_GLIBC.0, MAX_GLIBC.1)]
    GlibcTooNew {
        /// The function.
        function: String,
        /// The newest version it requires.
        found: GlibcVersion,
    },
    /// Writing a zip failed.
    #[error("writing {function}.zip: {message}")]
    Zip {
        /// The function.
        function: String,
        /// The zip library's error.
        message: String,
    },
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> PackageError {
    move |source| PackageError::Io { context, source }
}

/// The sandboxc checkout that holds `dir`: the nearest ancestor (or `dir` itself) with
/// `Cargo.lock` and `lambda/Cargo.toml`.
#[must_use]
pub fn find_workspace_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join("Cargo.lock").is_file() && d.join("lambda").join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

/// The build's target directory: `$SANDBOXC_LAMBDA_TARGET_DIR`, else
/// `<workspace_root>/target/lambda-package` (kept apart from normal builds, whose
/// host-target artifacts it would otherwise invalidate).
pub fn target_dir(workspace_root: &Path) -> PathBuf {
    match std::env::var_os(TARGET_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => workspace_root.join("target").join("lambda-package"),
    }
}

/// Builds both binaries with the tools of [`venv_dir`], checks their glibc needs, and writes
/// the zips; see the module docs.
///
/// # Errors
/// See [`PackageError`]; nothing is left half-written in `out_dir` (each zip is written to a
/// temporary name, then renamed).
pub fn package(workspace_root: &Path, out_dir: &Path) -> Result<PackageReport, PackageError> {
    package_with(workspace_root, &venv_dir(workspace_root), out_dir)
}

/// [`package`] with the build tools of the virtual environment `venv`.
///
/// # Errors
/// See [`package`].
pub fn package_with(workspace_root: &Path, venv: &Path, out_dir: &Path) -> Result<PackageReport, PackageError> {
    let files = lambda_source_files(workspace_root)
        .map_err(io(format!("reading the Lambda sources under {}", workspace_root.display())))?;
    let identity = identity(&files);
    let target = target_dir(workspace_root);
    build(workspace_root, venv, &target)?;
    let zip_dir = out_dir.join(&identity);
    std::fs::create_dir_all(&zip_dir).map_err(io(format!("creating {}", zip_dir.display())))?;
    let mut functions = Vec::with_capacity(FUNCTIONS.len());
    for function in FUNCTIONS {
        let binary_path = target.join(TARGET_TRIPLE).join("release").join(function);
        let binary = std::fs::read(&binary_path).map_err(io(format!("reading {}", binary_path.display())))?;
        let max_glibc = check_glibc(function, &binary)?;
        let bytes = zip_bytes(function, &binary)?;
        let zip_path = zip_dir.join(format!("{function}.zip"));
        write_atomically(&zip_path, &bytes)?;
        functions.push(PackagedFunction {
            function: function.to_string(),
            zip_path,
            zip_sha256: Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect(),
            zip_bytes: bytes.len() as u64,
            max_glibc,
        });
    }
    Ok(PackageReport { identity, functions })
}

/// The newest glibc version `binary` requires, or [`PackageError::GlibcTooNew`].
///
/// # Errors
/// Not an ELF-64 binary, or a requirement above [`MAX_GLIBC`].
pub fn check_glibc(function: &str, binary: &[u8]) -> Result<Option<GlibcVersion>, PackageError> {
    let versions =
        elf::required_glibc(binary).map_err(|source| PackageError::Elf { function: function.to_string(), source })?;
    let newest = versions.last().copied();
    match newest {
        Some(found) if found > MAX_GLIBC => Err(PackageError::GlibcTooNew { function: function.to_string(), found }),
        _ => Ok(newest),
    }
}

/// The zip of one binary, in memory.
///
/// # Errors
/// [`PackageError::Zip`] from the zip writer.
pub fn zip_bytes(function: &str, binary: &[u8]) -> Result<Vec<u8>, PackageError> {
    zipfile::write_bootstrap_zip(Cursor::new(Vec::new()), binary)
        .map(Cursor::into_inner)
        .map_err(|e| PackageError::Zip { function: function.to_string(), message: e.to_string() })
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes).map_err(io(format!("writing {}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(io(format!("renaming {} to {}", tmp.display(), path.display())))
}

fn build(workspace_root: &Path, venv: &Path, target: &Path) -> Result<(), PackageError> {
    let venv_bin = venv.join("bin");
    let zigbuild = venv_bin.join("cargo-zigbuild");
    if !zigbuild.is_file() {
        return Err(PackageError::ToolMissing { path: zigbuild });
    }
    // `python3 -m ziglang` (the PyPI zig) is found through the venv's python3 first on PATH.
    let mut path = OsString::from(venv_bin.as_os_str());
    if let Some(rest) = std::env::var_os("PATH") {
        path.push(":");
        path.push(rest);
    }
    let args = ["zigbuild", "--release", "--locked", "-p", "sandboxc-lambda", "--bins", "--target", ZIG_TARGET];
    let status = Command::new(&zigbuild)
        .args(args)
        .current_dir(workspace_root)
        .env("CARGO_TARGET_DIR", target)
        .env("PATH", path)
        .env("CARGO_ENCODED_RUSTFLAGS", rustflags())
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .map_err(io(format!("running {}", zigbuild.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(PackageError::Build {
            status: status.to_string(),
            command: format!("CARGO_TARGET_DIR={} {} {}", target.display(), zigbuild.display(), args.join(" ")),
        })
    }
}

/// `--remap-path-prefix` for Cargo's home (registry sources) and `-C strip=symbols`, separated
/// by 0x1f as `CARGO_ENCODED_RUSTFLAGS` wants. Workspace crates are compiled with paths relative
/// to the workspace root already, so the flags are the same in every checkout and a persistent
/// target directory is reused.
fn rustflags() -> String {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let mut flags = Vec::new();
    if let Some(home) = cargo_home {
        flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    flags.push("-Cstrip=symbols".to_string());
    flags.join("\u{1f}")
}

/// The Lambda asset identity of a checkout's `lambda/`, `contract/` and `Cargo.lock` as they
/// are now (compared with the one baked into the running binary).
///
/// # Errors
/// [`PackageError::Io`] when the sources cannot be read.
pub fn checkout_identity(workspace_root: &Path) -> Result<String, PackageError> {
    let files = lambda_source_files(workspace_root)
        .map_err(io(format!("reading the Lambda sources under {}", workspace_root.display())))?;
    Ok(identity(&files))
}
