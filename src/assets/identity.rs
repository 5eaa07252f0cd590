//! Asset identity of the Lambda crate: SHA-256 over its source files, the sources of the
//! contract crate it is built from (`contract/`), and the workspace `Cargo.lock`. Shared
//! verbatim with `build.rs` (included with `#[path]`), so the identity baked into the binary
//! and the one `sandboxc package` names its zips with cannot disagree.

use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Files the Lambda binaries are built from, which make up their identity, as `(path relative
/// to the workspace root with '/' separators, contents)`, sorted by path: `lambda/Cargo.toml`,
/// `lambda/build.rs` if present, everything under `lambda/src/`; `contract/Cargo.toml` and
/// everything under `contract/src/` (the names and shapes shared with sandboxc); and
/// `Cargo.lock`.
///
/// # Errors
/// Any I/O error reading the files.
pub fn lambda_source_files(workspace_root: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for rel in ["Cargo.lock", "lambda/Cargo.toml", "lambda/build.rs", "contract/Cargo.toml"] {
        let p = workspace_root.join(rel);
        if p.is_file() {
            files.push((rel.to_string(), std::fs::read(&p)?));
        }
    }
    for crate_dir in ["lambda", "contract"] {
        collect(workspace_root, &workspace_root.join(crate_dir).join("src"), &mut files)?;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(root, &path, out)?;
        } else if path.is_file() {
            let rel = path.strip_prefix(root).map_err(|e| io::Error::other(e.to_string()))?;
            let rel: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            out.push((rel.join("/"), std::fs::read(&path)?));
        }
    }
    Ok(())
}

/// Lowercase hex SHA-256 over each file's relative path, byte length and contents, in path
/// order. No timestamps, permissions or absolute paths enter the hash.
#[must_use]
pub fn identity(files: &[(String, Vec<u8>)]) -> String {
    let mut h = Sha256::new();
    for (path, contents) in files {
        h.update(path.as_bytes());
        h.update([0u8]);
        h.update((contents.len() as u64).to_be_bytes());
        h.update(contents);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
