//! Local sources: directories laid out as the buckets are, walked recursively in sorted
//! order (so the report does not depend on the file system's order), one file at a time.

use std::fs::File;
use std::path::{Component, Path, PathBuf};

use super::{AuditError, Evidence, Visitor};

/// Evidence from local directories: `--usage-reports DIR`, `--cloudtrail DIR` (laid out as the
/// buckets), and `--decisions FILE_OR_DIR` (repeatable).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalEvidence {
    /// The usage-report directory.
    pub usage_reports: Option<PathBuf>,
    /// The CloudTrail directory.
    pub cloudtrail: Option<PathBuf>,
    /// The validator decision logs.
    pub decisions: Vec<PathBuf>,
}

impl LocalEvidence {
    /// The local evidence, when there is any.
    ///
    /// # Errors
    /// [`AuditError::Usage`] without any source.
    pub fn new(
        usage_reports: Option<PathBuf>,
        cloudtrail: Option<PathBuf>,
        decisions: Vec<PathBuf>,
    ) -> Result<Self, AuditError> {
        if usage_reports.is_none() && cloudtrail.is_none() && decisions.is_empty() {
            return Err(AuditError::Usage(
                "nothing to audit: give --usage-reports DIR and --cloudtrail DIR (directories laid out as the buckets), and --decisions FILE, or read the buckets with --from-aws".into(),
            ));
        }
        Ok(Self { usage_reports, cloudtrail, decisions })
    }
}

/// Calls `visit` for every file of `dir` (see [`each_file`]), a file that cannot be opened as
/// `cannot open: ...`.
fn visit_dir(dir: &Path, flag: &str, visit: Visitor<'_>) -> Result<(), AuditError> {
    each_file(dir, flag, &mut |rel, file| match file {
        Ok(mut f) => visit(rel, Ok(&mut f)),
        Err(e) => visit(rel, Err(format!("cannot open: {e}"))),
    })
}

/// Calls `visit` for every file of every `--decisions` path, in the order given.
///
/// # Errors
/// [`AuditError::Source`] for a path that cannot be read.
pub fn decision_files(paths: &[PathBuf], visit: Visitor<'_>) -> Result<(), AuditError> {
    for path in paths {
        visit_dir(path, "--decisions", visit)?;
    }
    Ok(())
}

impl Evidence for LocalEvidence {
    fn sources(&self) -> Vec<String> {
        let mut sources = Vec::new();
        if let Some(dir) = &self.usage_reports {
            sources.push(format!("usage reports: {}", dir.display()));
        }
        if let Some(dir) = &self.cloudtrail {
            sources.push(format!("CloudTrail: {}", dir.display()));
        }
        sources.extend(self.decisions.iter().map(|p| format!("validator decisions: {}", p.display())));
        sources
    }

    fn notes(&self) -> Vec<String> {
        if self.usage_reports.is_none() {
            vec!["no --usage-reports: without sessions every S3 data event is unattributed".into()]
        } else {
            Vec::new()
        }
    }

    fn usage_reports(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
        match &self.usage_reports {
            Some(dir) => visit_dir(dir, "--usage-reports", visit),
            None => Ok(()),
        }
    }

    fn cloudtrail(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
        match &self.cloudtrail {
            Some(dir) => visit_dir(dir, "--cloudtrail", visit),
            None => Ok(()),
        }
    }

    fn decisions(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
        decision_files(&self.decisions, visit)
    }
}

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
