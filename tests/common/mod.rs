//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use sandboxc::assets::LambdaAsset;
use sandboxc::blueprint::{self, Source};
use sandboxc::cfn::render::Format;
use sandboxc::compile::{self, Compiled};

/// A fixed Lambda asset identity, so golden templates do not change with every edit of the
/// Lambda sources (the real identity is tested separately).
pub const TEST_IDENTITY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every example blueprint: `(name without .yaml, path)`, sorted.
pub fn examples() -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    out.sort();
    out
}

/// The default blueprint and every example: `(name, source)`.
pub fn all_blueprints() -> Vec<(String, Source)> {
    let mut out = vec![("default".to_string(), Source::embedded())];
    for (name, path) in examples() {
        let text = std::fs::read_to_string(&path).expect("example");
        out.push((name, Source { name: format!("examples/{}", path.file_name().unwrap().to_string_lossy()), text }));
    }
    out
}

/// Compiles a source with [`TEST_IDENTITY`].
pub fn compile(source: &Source) -> Compiled {
    let b = blueprint::load(source).unwrap_or_else(|d| panic!("{d}"));
    compile::compile(&b, &LambdaAsset { identity: TEST_IDENTITY.into() }, Format::Json).expect("compiles")
}

/// Rendered output files `(relative path, text)` of a source with [`TEST_IDENTITY`].
pub fn files(source: &Source) -> Vec<(String, String)> {
    sandboxc::output::files(&compile(source)).expect("renders").0
}

/// Every template of a source as JSON values: `(file, value)`.
pub fn templates(source: &Source) -> Vec<(String, serde_json::Value)> {
    files(source)
        .into_iter()
        .filter(|(f, _)| f.ends_with(".template.json"))
        .map(|(f, t)| (f, serde_json::from_str(&t).expect("template JSON")))
        .collect()
}

/// Every resource of every template: `(file, logical ID, resource)`.
pub fn resources(source: &Source) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (file, t) in templates(source) {
        for (id, r) in t["Resources"].as_object().expect("Resources") {
            out.push((file.clone(), id.clone(), r.clone()));
        }
    }
    out
}

/// Writes `files` into a fresh directory under `dir` and returns it.
pub fn write_files(dir: &Path, files: &[(String, String)]) -> PathBuf {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir.to_path_buf()
}

/// The venv that README's test command installs (cfn-lint, checkov).
pub fn venv_tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("SANDBOXC_VENV").map_or_else(|| root().join(".venv"), PathBuf::from);
    let tool = dir.join("bin").join(name);
    assert!(tool.is_file(), "{} is missing: run scripts/test.sh, which installs the pinned cfn-lint and checkov into .venv", tool.display());
    tool
}
