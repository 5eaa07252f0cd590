//! The decision logic of sandboxc's two Lambda functions, free of AWS SDK calls.
//!
//! **Validator** (S3 `ObjectCreated` on the AppStream home-folder bucket): for every
//! event record it parses the object key ([`session_key`]), reads `session.json`
//! ([`session_file`]), checks it against the key and its configuration ([`config`]),
//! looks the claimed session up in every `DescribeSessions` page ([`sessions`]), reads the
//! proven user's allow-list entry and their notebook's state ([`allow_list`]), and ends with a
//! [`decision::Verdict`]: one JSON log line and at most one write of `session_url.txt` into
//! the triggering user's own folder (a URL for the one notebook the entry grants, or a
//! message saying why not).
//!
//! **Provider** (CloudFormation custom resources): typed requests and size-limited
//! responses ([`custom_resource`]) and the merge of the home-folder bucket's event
//! notification by `Id` ([`notification`]).
//!
//! The modules above perform no I/O and never panic on input. The AWS side lives in
//! [`validate`] (the validator's `GetObject`, `DescribeSessions`, `GetParameter`,
//! `DescribeNotebookInstance`, pre-signed URL and `PutObject`) and [`provider`] (the three custom-resource types and the response PUT),
//! both on the official AWS SDK clients; the binaries `validator` and `provider`
//! (`src/bin/`) only read the environment and start `lambda_runtime`.

pub mod allow_list;
pub mod config;
pub mod custom_resource;
pub mod decision;
pub mod notification;
pub mod provider;
pub mod session_file;
pub mod session_key;
pub mod sessions;
pub mod validate;
