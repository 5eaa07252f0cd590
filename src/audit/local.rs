//! Local sources: directories laid out as the buckets are, walked recursively in sorted
//! order (so the report does not depend on the file system's order), one file at a time.

use std::fs::File;
use std::path::{Component, Path, PathBuf};

use super::AuditError;

/// Calls `visit` with each file under `path` (or `path` itself when it is a file): its
/// location (the path relative to `path` with `/` separators, or the file's name) and the
/// opened file or the error opening it. Symbolic links to directories are not followed (they
/// might loop): each is passed to `visit` as an error, so the report lists it as not read.
///
/// # Errors
/// [`AuditError::Source`] when `path` does not exist or a directory cannot be listed.
pub fn each_file(
    path: &Path,
    flag: &str,
    visit: &mut dyn FnMut(&str, std::io::Result<File>),
) -> Result<(), AuditError> {
    let meta = std::fs::metadata(path).map_err(|e| AuditError::Source(format!("{flag} {}: {e}", path.display())))?;
    if meta.is_file() {
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        visit(&name, File::open(path));
        return Ok(());
    }
    let mut files = Vec::new();
    walk(path, path, flag, &mut files)?;
    files.sort();
    for (rel, full) in files {
        if full.is_dir() {
            visit(
                &rel,
                Err(std::io::Error::other(
                    "a symbolic link to a directory, not followed: give its target as its own source",
                )),
            );
        } else {
            visit(&rel, File::open(&full));
        }
    }
    Ok(())
}

fn walk(root: &Path, dir: &Path, flag: &str, out: &mut Vec<(String, PathBuf)>) -> Result<(), AuditError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| AuditError::Source(format!("{flag} {}: cannot list {}: {e}", root.display(), dir.display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| {
            AuditError::Source(format!("{flag} {}: cannot list {}: {e}", root.display(), dir.display()))
        })?;
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| AuditError::Source(format!("{flag} {}: {}: {e}", root.display(), path.display())))?;
        if kind.is_dir() {
            walk(root, &path, flag, out)?;
        } else if kind.is_file() || kind.is_symlink() {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .filter_map(
                    |c| if let Component::Normal(s) = c { Some(s.to_string_lossy().into_owned()) } else { None },
                )
                .collect();
            out.push((rel.join("/"), path));
        }
    }
    Ok(())
}

/// CloudTrail digest and Insights files (`CloudTrail-Digest/`, `CloudTrail-Insight/`),
/// which hold no records, are skipped by name.
#[must_use]
pub fn is_digest(location: &str) -> bool {
    location.split('/').any(|c| c == "CloudTrail-Digest" || c == "CloudTrail-Insight")
}

/// AppStream applications reports (`applications/schedule=DAILY/...`) share the bucket with
/// the sessions reports and are skipped by name.
#[must_use]
pub fn is_applications_report(location: &str) -> bool {
    location.split('/').any(|c| c == "applications")
        || location.rsplit('/').next().is_some_and(|n| n.starts_with("daily-app-report"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_skipped() {
        assert!(is_digest("AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/28/x.json.gz"));
        assert!(!is_digest("AWSLogs/1/CloudTrail/us-east-1/2026/11/28/x.json.gz"));
        assert!(is_applications_report(
            "applications/schedule=DAILY/year=2026/month=11/day=28/daily-app-report-2026-11-28.csv"
        ));
        assert!(!is_applications_report(
            "sessions/schedule=DAILY/year=2026/month=11/day=28/daily-session-report-2026-11-28.csv"
        ));
    }
}
