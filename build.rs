//! Bakes the Lambda asset identity into the binary, so `sandboxc synth` never reads or
//! compiles the Lambda crate: `SANDBOXC_LAMBDA_ASSET_ID` is the SHA-256 of the lambda/ and
//! contract/ sources and Cargo.lock (see src/assets/identity.rs, shared with this script).
//! Also bakes `SANDBOXC_GIT_COMMIT` (`git rev-parse HEAD`, or the variable of that name when
//! set, "unknown" outside a git checkout: never a failed build) and `SANDBOXC_TARGET` (the
//! target triple, for the release archive's name).

#[path = "src/assets/identity.rs"]
mod identity;

fn main() {
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    println!("cargo:rerun-if-changed=lambda");
    println!("cargo:rerun-if-changed=contract");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=src/assets/identity.rs");
    println!("cargo:rerun-if-env-changed=SANDBOXC_GIT_COMMIT");
    let commit =
        std::env::var("SANDBOXC_GIT_COMMIT").ok().filter(|c| !c.is_empty()).unwrap_or_else(|| git_commit(&root));
    println!("cargo:rustc-env=SANDBOXC_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=SANDBOXC_TARGET={}", std::env::var("TARGET").unwrap_or_else(|_| "unknown".into()));
    match identity::lambda_source_files(&root) {
        Ok(files) => println!("cargo:rustc-env=SANDBOXC_LAMBDA_ASSET_ID={}", identity::identity(&files)),
        Err(e) => {
            println!("cargo:warning=cannot read the Lambda sources for the asset identity: {e}");
            std::process::exit(1);
        }
    }
}

/// `git rev-parse HEAD` in `root`, or "unknown" (no git, not a checkout, any failure). Asks
/// cargo to run this script again when HEAD or the branch it names moves.
fn git_commit(root: &std::path::Path) -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let Some(commit) =
        git(&["rev-parse", "HEAD"]).filter(|c| c.len() == 40 && c.chars().all(|c| c.is_ascii_hexdigit()))
    else {
        return "unknown".into();
    };
    let dir = |args: &[&str]| git(args).map(|d| root.join(d));
    let (git_dir, common) = (dir(&["rev-parse", "--git-dir"]), dir(&["rev-parse", "--git-common-dir"]));
    let head = git_dir.as_ref().map(|d| d.join("HEAD"));
    let branch = git(&["symbolic-ref", "-q", "HEAD"]).and_then(|r| common.as_ref().map(|c| c.join(r)));
    let packed = common.as_ref().map(|c| c.join("packed-refs"));
    for p in [head, branch, packed].into_iter().flatten() {
        if p.is_file() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    }
    commit
}
