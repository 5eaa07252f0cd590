//! The one-way rule of docs/ARCHITECTURE.md: a module of `src/` never names a module of a
//! later stage. Every `crate::<module>` path in code (not in comments) is checked against the
//! stage order; a top-level module missing from the order fails the test too, so that a new
//! module is placed deliberately.

use std::path::{Path, PathBuf};

/// The stages, in order: a module may use its own stage and earlier ones.
const STAGES: [&str; 13] = [
    "blueprint",
    "cfn",
    "assets",
    "compile",
    "output",
    "cost",
    "plan",
    "audit",
    "package",
    "deploy",
    "aws",
    "cli",
    "main",
];

fn stage(module: &str) -> Option<usize> {
    STAGES.iter().position(|s| *s == module)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a line: everything before a `//` comment (string contents included; a
/// `crate::` inside a string literal is rare enough to be renamed when it happens).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// Every `crate::<name>` and `crate::{<name>, ...}` in a line of code.
fn crate_paths(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `sandboxc_contract::`, `self_crate::`...
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[test]
fn no_module_imports_from_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 20, "found only {} files under {}", files.len(), src.display());
    let mut problems = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap_or(file);
        let first =
            rel.components().next().map(|c| c.as_os_str().to_string_lossy().trim_end_matches(".rs").to_string());
        let Some(module) = first else { continue };
        if module == "lib" {
            continue;
        }
        let Some(own) = stage(&module) else {
            problems.push(format!(
                "src/{module} is in no stage: add it to STAGES in tests/architecture.rs and to docs/ARCHITECTURE.md"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            for used in crate_paths(code(line)) {
                match stage(&used) {
                    Some(s) if s > own => problems.push(format!(
                        "{}:{}: {module} (stage {own}) uses crate::{used} (stage {s}), a later stage",
                        rel.display(),
                        n + 1
                    )),
                    Some(_) => {}
                    None => problems.push(format!("{}:{}: crate::{used} is in no stage", rel.display(), n + 1)),
                }
            }
        }
    }
    assert!(problems.is_empty(), "the one-way rule is broken:\n{}", problems.join("\n"));
}

#[test]
fn the_path_reader_sees_groups_and_skips_other_crates() {
    assert_eq!(crate_paths("use crate::{blueprint::X, cfn};"), ["blueprint", "cfn"]);
    assert_eq!(crate_paths("let x = crate::plan::plan(a);"), ["plan"]);
    assert_eq!(crate_paths("use sandboxc_contract::stack;"), Vec::<String>::new());
    assert_eq!(code("use crate::cli; // crate::aws"), "use crate::cli; ");
}
