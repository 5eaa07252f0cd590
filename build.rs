//! Bakes the Lambda asset identity into the binary, so `sandboxc synth` never reads or
//! compiles the Lambda crate: `SANDBOXC_LAMBDA_ASSET_ID` is the SHA-256 of the lambda/ and
//! contract/ sources and Cargo.lock (see src/assets/identity.rs, shared with this script).

#[path = "src/assets/identity.rs"]
mod identity;

fn main() {
    let root = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    println!("cargo:rerun-if-changed=lambda");
    println!("cargo:rerun-if-changed=contract");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=src/assets/identity.rs");
    match identity::lambda_source_files(&root) {
        Ok(files) => println!("cargo:rustc-env=SANDBOXC_LAMBDA_ASSET_ID={}", identity::identity(&files)),
        Err(e) => {
            println!("cargo:warning=cannot read the Lambda sources for the asset identity: {e}");
            std::process::exit(1);
        }
    }
}
