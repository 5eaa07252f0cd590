//! Assets: the Lambda code identity, and the rendered PowerShell scripts.

pub mod identity;
pub mod scripts;

/// The git commit this binary was built from (`git rev-parse HEAD` at build time, or the
/// build's `SANDBOXC_GIT_COMMIT`), "unknown" outside a git checkout.
pub const GIT_COMMIT: &str = env!("SANDBOXC_GIT_COMMIT");

/// The target triple this binary was built for.
pub const TARGET: &str = env!("SANDBOXC_TARGET");

/// What `sandboxc --version` prints after the name: the version, the git commit and the
/// Lambda asset identity baked into the binary.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit ",
    env!("SANDBOXC_GIT_COMMIT"),
    "\nlambda asset ",
    env!("SANDBOXC_LAMBDA_ASSET_ID")
);

/// The Lambda functions built from the `lambda/` crate, one zip each.
pub const LAMBDA_FUNCTIONS: [&str; 2] = ["validator", "provider"];

/// The Lambda code as an asset: its identity and where its zips live in the assets bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LambdaAsset {
    /// Lowercase hex SHA-256 of the Lambda sources and Cargo.lock ([`identity::identity`]).
    pub identity: String,
}

impl LambdaAsset {
    /// The identity baked in at build time from this checkout's `lambda/`, `contract/` and
    /// `Cargo.lock`.
    #[must_use]
    pub fn built_in() -> Self {
        Self { identity: env!("SANDBOXC_LAMBDA_ASSET_ID").to_string() }
    }

    /// S3 key of one function's zip in the assets bucket: `lambda/<identity>/<function>.zip`.
    #[must_use]
    pub fn key(&self, function: &str) -> String {
        format!("lambda/{}/{function}.zip", self.identity)
    }
}
