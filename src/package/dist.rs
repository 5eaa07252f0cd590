//! `sandboxc package --dist DIR`: the release archive, the layout an installed `sandboxc`
//! finds its Lambda zips in.
//!
//! `DIR/sandboxc-<version>-<target>.zip` holds, under `sandboxc-<version>/`:
//! `bin/sandboxc` (this binary, mode 0755), `share/sandboxc/lambda/<identity>/<function>.zip`
//! (the zips its templates name), `README.md` and `LICENSE` when the checkout has them.
//! Unpacked anywhere, `bin/sandboxc apply` reads its zips from `../share/sandboxc/lambda`
//! ([`installed_lambda_dirs`]). Entries are written in that order with the zip format's
//! earliest timestamp, so the same inputs give the same bytes.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipWriter};

use super::PackageError;

/// The directories, relative to the directory of the `sandboxc` executable, where `apply`
/// looks for `<identity>/<function>.zip` when `--lambda-dir` is not given (after
/// `dist/lambda` of the current directory): `../share/sandboxc/lambda` (the release
/// archive's layout, and a `/usr/local` install) and `lambda` (the zips beside the binary).
#[must_use]
pub fn installed_lambda_dirs(exe_dir: &Path) -> Vec<PathBuf> {
    // `<exe dir>/..` written as the parent itself, so messages show /usr/local/share/..., not
    // /usr/local/bin/../share/... (the same place unless bin is a symbolic link).
    let prefix = exe_dir.parent().map_or_else(|| exe_dir.join(".."), Path::to_path_buf);
    vec![prefix.join("share").join("sandboxc").join("lambda"), exe_dir.join("lambda")]
}

/// The archive's file name: `sandboxc-<version>-<target>.zip`.
#[must_use]
pub fn archive_name(version: &str, target: &str) -> String {
    format!("sandboxc-{version}-{target}.zip")
}

/// One file of the archive: path under the top directory, bytes, Unix mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path under `sandboxc-<version>/`, `/`-separated.
    pub path: String,
    /// The bytes.
    pub bytes: Vec<u8>,
    /// Unix permissions.
    pub mode: u32,
}

/// The entries of the release archive: the binary, the zips, the documents.
#[must_use]
pub fn entries(
    binary: Vec<u8>,
    identity: &str,
    zips: Vec<(String, Vec<u8>)>,
    docs: Vec<(String, Vec<u8>)>,
) -> Vec<Entry> {
    let mut out = vec![Entry { path: "bin/sandboxc".into(), bytes: binary, mode: 0o755 }];
    for (function, bytes) in zips {
        out.push(Entry { path: format!("share/sandboxc/lambda/{identity}/{function}.zip"), bytes, mode: 0o644 });
    }
    for (name, bytes) in docs {
        out.push(Entry { path: name, bytes, mode: 0o644 });
    }
    out
}

/// The archive's bytes: `entries` under `top/`.
///
/// # Errors
/// [`PackageError::Zip`].
pub fn archive(top: &str, entries: &[Entry]) -> Result<Vec<u8>, PackageError> {
    let err = |e: &dyn std::fmt::Display| PackageError::Zip {
        function: "the release archive".into(),
        message: e.to_string(),
    };
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for e in entries {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(e.mode)
            .system(System::Unix)
            .large_file(e.bytes.len() >= u32::MAX as usize);
        zip.start_file(format!("{top}/{}", e.path), options).map_err(|e| err(&e))?;
        zip.write_all(&e.bytes).map_err(|e| err(&e))?;
    }
    Ok(zip.finish().map_err(|e| err(&e))?.into_inner())
}

/// Writes the release archive into `dist` (created when missing) and returns its path;
/// written to a temporary name, then renamed.
///
/// # Errors
/// [`PackageError`].
pub fn write(dist: &Path, version: &str, target: &str, entries: &[Entry]) -> Result<PathBuf, PackageError> {
    let io = |context: String| move |source| PackageError::Io { context, source };
    std::fs::create_dir_all(dist).map_err(io(format!("creating {}", dist.display())))?;
    let bytes = archive(&format!("sandboxc-{version}"), entries)?;
    let path = dist.join(archive_name(version, target));
    let tmp = dist.join(format!(".{}.tmp", archive_name(version, target)));
    std::fs::write(&tmp, bytes).map_err(io(format!("writing {}", tmp.display())))?;
    std::fs::rename(&tmp, &path).map_err(io(format!("renaming {} to {}", tmp.display(), path.display())))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_holds_the_binary_the_zips_and_the_layout_apply_reads() {
        let e = entries(
            b"ELF".to_vec(),
            "abc",
            vec![("validator".into(), b"PK1".to_vec())],
            vec![("README.md".into(), b"# r".to_vec())],
        );
        let bytes = archive("sandboxc-0.1.0", &e).unwrap_or_default();
        assert_eq!(bytes, archive("sandboxc-0.1.0", &e).unwrap_or_default(), "deterministic");
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).ok();
        let names: Vec<String> = zip
            .as_mut()
            .map(|z| z.file_names().filter_map(|n| n.ok().map(|n| n.to_string())).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 3, "{names:?}");
        for n in [
            "sandboxc-0.1.0/bin/sandboxc",
            "sandboxc-0.1.0/share/sandboxc/lambda/abc/validator.zip",
            "sandboxc-0.1.0/README.md",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
        }
        let mode = zip.as_mut().and_then(|z| z.by_name("sandboxc-0.1.0/bin/sandboxc").ok().and_then(|f| f.unix_mode()));
        assert_eq!(mode.map(|m| m & 0o777), Some(0o755));
        // Unpacked, bin/sandboxc finds the zips in ../share/sandboxc/lambda.
        let dirs = installed_lambda_dirs(Path::new("/opt/sandboxc-0.1.0/bin"));
        assert_eq!(
            dirs[0].join("abc/validator.zip"),
            Path::new("/opt/sandboxc-0.1.0/share/sandboxc/lambda/abc/validator.zip")
        );
    }
}
