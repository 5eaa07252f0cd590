//! Preflight: what would make a deployment fail halfway, found before any change set, read-only.
//!
//! `sandboxc check` runs it on its own; `apply` runs it after the stack state is known and
//! before anything is uploaded. The AWS calls go through the [`Probe`] trait (implemented over
//! the AWS SDK by `src/aws`, in memory by the tests):
//!
//! - the AppStream image the fleet names exists and is `AVAILABLE` (AppStream `DescribeImages`);
//! - the IAM SAML identity provider the blueprint names exists (IAM `GetSAMLProvider`);
//! - the Availability Zones the blueprint names belong to the Region of the credentials, and a
//!   pinned `region` is that Region;
//! - no resource is left, outside any stack, under a fixed name the templates give (the names
//!   are read from the compiled templates, so whatever names the compiler writes are checked):
//!   log groups (CloudWatch Logs `DescribeLogGroups`), a named bucket (S3 `HeadBucket`), notebook
//!   instances (SageMaker `DescribeNotebookInstance`). Such a resource, typically retained by
//!   an earlier `destroy` (`DeletionPolicy: Retain`), makes the creation fail at
//!   `ExecuteChangeSet` with "already exists".
//!
//! Each [`Finding`] says what to do. A retained log group or bucket, when the stack does not
//! exist yet and the template retains the resource, is **adopted** ([`Adoption`]): `apply`
//! imports it with an IMPORT change set before any other change set (see [`super::adopt`]),
//! and a bucket's KMS key (its default encryption, S3 `GetBucketEncryption`) with it, so that
//! its data stays readable. Everything else that blocks gets the exact cleanup commands.
//! Resource types CloudFormation can import: user guide, "Resource type support" (resource
//! import); none of this changes anything in AWS.

use std::collections::BTreeSet;
use std::future::Future;

use crate::cfn::{Expr, Pseudo, SubPart, Target, Template};
use crate::plan::TemplateSet;

use super::cloudformation::NESTED_STACK_TYPE;

/// A read-only AWS call of the preflight failed (after the SDK's retries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{api} failed: {message}")]
pub struct ProbeError {
    /// The IAM action of the call, such as `appstream:DescribeImages`.
    pub api: &'static str,
    /// The service's code and message, or the transport problem.
    pub message: String,
    /// Whether AWS refused the call for want of permission (an `AccessDenied`-like code or
    /// HTTP 403), as opposed to a server error, a timeout or no connection.
    pub denied: bool,
}

/// What a `HeadBucket` says about a bucket name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketState {
    /// 404: nobody has it.
    Absent,
    /// 200: it exists and the credentials may use it (in practice: this account's).
    Owned,
    /// 403: it exists and belongs to someone else (bucket names are global), or the
    /// credentials may not read it.
    Forbidden,
}

/// The read-only calls of the preflight, one method per AWS API call. Implemented over the AWS
/// SDK by `src/aws` (with the timeouts of every client).
pub trait Probe {
    /// AppStream `DescribeImages` with `Names = [name]`: the image's `State` (`AVAILABLE`,
    /// `PENDING`, `FAILED`...), `None` when there is no such image (ResourceNotFoundException).
    ///
    /// # Errors
    /// [`ProbeError`].
    fn image(&self, name: &str) -> impl Future<Output = Result<Option<String>, ProbeError>> + Send;

    /// IAM `GetSAMLProvider` of an ARN: whether it exists (`false` on NoSuchEntity).
    ///
    /// # Errors
    /// [`ProbeError`].
    fn saml_provider(&self, arn: &str) -> impl Future<Output = Result<bool, ProbeError>> + Send;

    /// CloudWatch Logs `DescribeLogGroups` with `logGroupNamePrefix = name`: whether a log
    /// group of exactly that name exists.
    ///
    /// # Errors
    /// [`ProbeError`].
    fn log_group(&self, name: &str) -> impl Future<Output = Result<bool, ProbeError>> + Send;

    /// S3 `HeadBucket`.
    ///
    /// # Errors
    /// [`ProbeError`] for answers other than 200, 403 and 404.
    fn bucket(&self, name: &str) -> impl Future<Output = Result<BucketState, ProbeError>> + Send;

    /// S3 `GetBucketEncryption`: the `KMSMasterKeyID` of the bucket's default encryption
    /// (a key ID or ARN), `None` without a KMS default.
    ///
    /// # Errors
    /// [`ProbeError`].
    fn bucket_key(&self, name: &str) -> impl Future<Output = Result<Option<String>, ProbeError>> + Send;

    /// SageMaker `DescribeNotebookInstance`: the `NotebookInstanceStatus` (`InService`,
    /// `Stopped`...), `None` when there is no such notebook instance.
    ///
    /// # Errors
    /// [`ProbeError`].
    fn notebook(&self, name: &str) -> impl Future<Output = Result<Option<String>, ProbeError>> + Send;
}

/// What the blueprint says that the templates do not: handed over by the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// The blueprint's `identity.saml.idp_name`, when SAML is on.
    pub saml_provider: Option<String>,
    /// Explicit Availability Zone names of `network.availability_zones` (empty for a count).
    pub zones: Vec<String>,
    /// The blueprint's pinned `region`.
    pub region: Option<String>,
}

/// Where the preflight looks: the account and Region of the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Account ID (`sts:GetCallerIdentity`).
    pub account: String,
    /// Region of the credentials.
    pub region: String,
    /// Partition (`aws`, `aws-cn`, `aws-us-gov`), from the Region.
    pub partition: String,
}

impl Place {
    /// The place of `account` in `region`.
    #[must_use]
    pub fn new(account: &str, region: &str) -> Self {
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        Self { account: account.into(), region: region.into(), partition: partition.into() }
    }
}

/// A resource the templates give a fixed physical name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    /// The logical ID of the nested stack in the root template that holds it; `None` in the
    /// root (or single) template.
    pub nested: Option<String>,
    /// Its logical ID.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// The name property (`LogGroupName`, `BucketName`, `NotebookInstanceName`).
    pub property: &'static str,
    /// The name, resolved (`Fn::Sub` of pseudo parameters only).
    pub name: String,
    /// Whether the template says `DeletionPolicy: Retain` (needed to import it).
    pub retained: bool,
    /// For a bucket: the logical ID of the retained KMS key of the same template that its
    /// default encryption names (`Ref` or `Fn::GetAtt ... Arn`).
    pub key: Option<String>,
}

impl Named {
    /// `Storage/DataBucket` (nested stacks by their part), or the logical ID in the root.
    #[must_use]
    pub fn path(&self) -> String {
        match &self.nested {
            Some(n) => format!("{}/{}", super::cloudformation::part_of(n), self.logical_id),
            None => self.logical_id.clone(),
        }
    }
}

/// The resource types whose fixed names the preflight checks: type, name property.
pub const NAMED_TYPES: [(&str, &str); 3] = [
    ("AWS::Logs::LogGroup", "LogGroupName"),
    ("AWS::S3::Bucket", "BucketName"),
    ("AWS::SageMaker::NotebookInstance", "NotebookInstanceName"),
];

/// The types `apply` adopts with an IMPORT change set, with their primary identifier
/// (CloudFormation user guide, "Resource type support"; the identifiers are the types'
/// `primaryIdentifier` in their resource schemas).
pub const IMPORTABLE: [(&str, &str); 3] =
    [("AWS::Logs::LogGroup", "LogGroupName"), ("AWS::S3::Bucket", "BucketName"), ("AWS::KMS::Key", "KeyId")];

/// One resource `apply` imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// The logical ID of the nested stack in the root template it goes into; `None` for the
    /// root (or single) template.
    pub nested: Option<String>,
    /// Its logical ID.
    pub logical_id: String,
    /// Its type.
    pub resource_type: String,
    /// Its primary identifier: property and value.
    pub identifier: (String, String),
}

/// What the preflight found about one thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The fleet's image does not exist.
    ImageMissing {
        /// The image name.
        name: String,
    },
    /// The fleet's image exists but is not `AVAILABLE`.
    ImageNotAvailable {
        /// The image name.
        name: String,
        /// Its `State`.
        state: String,
    },
    /// The SAML provider the blueprint names does not exist.
    SamlProviderMissing {
        /// The provider name.
        name: String,
        /// Its ARN.
        arn: String,
    },
    /// Explicit Availability Zones are not in the Region of the credentials.
    ZonesOutsideRegion {
        /// The zones.
        zones: Vec<String>,
        /// The Region of the credentials.
        region: String,
    },
    /// The blueprint pins another Region than the credentials'.
    RegionContradicts {
        /// The pinned Region.
        pinned: String,
        /// The Region of the credentials.
        actual: String,
    },
    /// A resource outside any stack holds a name the templates give: adopted by `apply`.
    Adopt {
        /// The template's resource.
        resource: Named,
        /// What is imported (the resource, and a bucket's key).
        imports: Vec<Adoption>,
    },
    /// A resource outside any stack holds a name the templates give, and cannot be adopted.
    Leftover {
        /// The template's resource.
        resource: Named,
        /// Why it is not adopted.
        why: String,
        /// The commands that remove it.
        cleanup: Vec<String>,
    },
    /// A bucket name the templates give belongs to someone else (or may not be read).
    BucketTaken {
        /// The template's resource.
        resource: Named,
    },
    /// A check could not be made (the deployment is not stopped for it).
    Unchecked {
        /// What was to be checked.
        what: String,
        /// The call's error.
        error: ProbeError,
    },
}

impl Finding {
    /// Whether the finding stops `apply` before any change set.
    #[must_use]
    pub fn blocks(&self) -> bool {
        !matches!(self, Self::Adopt { .. } | Self::Unchecked { .. })
    }

    /// The finding for people: what is wrong, then what to do (one or more lines).
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        match self {
            Self::ImageMissing { name } => vec![
                format!("AppStream image {name} does not exist in this account and Region (appstream:DescribeImages)"),
                "build it with the launcher from `sandboxc synth` (scripts/launcher.ps1) in AppStream's Image Assistant, or set `appstream.image_name` to an image that exists".into(),
            ],
            Self::ImageNotAvailable { name, state } => vec![
                format!("AppStream image {name} is {state}, not AVAILABLE: the fleet cannot start from it"),
                "wait until it is AVAILABLE (Image Assistant is still creating it), or build it again if it FAILED".into(),
            ],
            Self::SamlProviderMissing { name, arn } => vec![
                format!("the SAML identity provider {name} ({arn}) does not exist (iam:GetSAMLProvider); the role would trust a provider anyone allowed iam:CreateSAMLProvider could create"),
                format!("create it from your IdP's metadata (`aws iam create-saml-provider --name {name} --saml-metadata-document file://metadata.xml`), fix `identity.saml.idp_name`, or set `identity.saml: null`"),
            ],
            Self::ZonesOutsideRegion { zones, region } => vec![
                format!("the Availability Zones {} are not in {region}, the Region of the credentials", zones.join(", ")),
                format!("deploy in their Region (--region, or `region` in the blueprint), or name zones of {region}"),
            ],
            Self::RegionContradicts { pinned, actual } => vec![
                format!("the blueprint pins `region: {pinned}`, but the credentials' Region is {actual}"),
                format!("pass --region {pinned}, or change `region`"),
            ],
            Self::Adopt { resource, imports } => {
                let keys: Vec<String> = imports
                    .iter()
                    .filter(|a| a.logical_id != resource.logical_id)
                    .map(|a| format!("{} {} ({})", a.resource_type, a.identifier.1, a.logical_id))
                    .collect();
                let with = if keys.is_empty() { String::new() } else { format!(", with {}", keys.join(", ")) };
                vec![
                    format!(
                        "{} {}, the {} of {}, exists outside any stack (left by an earlier deployment: DeletionPolicy Retain)",
                        resource.resource_type,
                        resource.name,
                        resource.property,
                        resource.path()
                    ),
                    format!("apply adopts it into the new stack through an IMPORT change set before any other change set{with}, then updates it to the template"),
                ]
            }
            Self::Leftover { resource, why, cleanup } => {
                let mut lines = vec![
                    format!(
                        "{} {}, the {} of {}, exists outside any stack: creating {} would fail with \"already exists\"",
                        resource.resource_type,
                        resource.name,
                        resource.property,
                        resource.path(),
                        resource.logical_id
                    ),
                    format!("{why}; remove it (check that nothing in it is still needed), then apply again:"),
                ];
                lines.extend(cleanup.iter().map(|c| format!("  {c}")));
                lines
            }
            Self::BucketTaken { resource } => vec![
                format!(
                    "bucket {} ({}) exists but the credentials may not use it (HeadBucket: 403): bucket names are global, it probably belongs to another account",
                    resource.name,
                    resource.path()
                ),
                "choose another `storage.bucket_name` (or null, for a generated name)".into(),
            ],
            Self::Unchecked { what, error } if error.denied => vec![
                format!("could not check {what}: {error}"),
                format!("the credentials need {} for this check; the deployment is not stopped for it", error.api),
            ],
            Self::Unchecked { what, error } => vec![
                format!("could not check {what}: {error}"),
                format!("the check did not run ({} failed), so it is unknown; the deployment is not stopped for it: run `sandboxc check` again", error.api),
            ],
        }
    }
}

/// What the preflight found, in the order of its checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every finding.
    pub findings: Vec<Finding>,
    /// What was checked, for people (`AppStream image X: AVAILABLE`...).
    pub checked: Vec<String>,
}

impl Report {
    /// Whether something stops `apply`.
    #[must_use]
    pub fn blocks(&self) -> bool {
        self.findings.iter().any(Finding::blocks)
    }

    /// Everything `apply` imports, in finding order.
    #[must_use]
    pub fn adoptions(&self) -> Vec<Adoption> {
        self.findings
            .iter()
            .flat_map(|f| match f {
                Finding::Adopt { imports, .. } => imports.clone(),
                _ => Vec::new(),
            })
            .collect()
    }
}

/// Every resource with a fixed name of the types in [`NAMED_TYPES`], in the root (or single)
/// template and the nested templates it names (matched by their assets-bucket key in the
/// nested stack's `TemplateURL`). Names that are not a string, or a `Fn::Sub` of
/// `AWS::Region`, `AWS::AccountId`, `AWS::Partition`, `AWS::URLSuffix` (and `AWS::StackName` in
/// the root template), are not fixed: they are skipped.
#[must_use]
pub fn named_resources(templates: &TemplateSet, place: &Place) -> Vec<Named> {
    let mut out = Vec::new();
    let Some(root) = templates.templates.get(&templates.root_file) else { return out };
    collect(root, None, &templates.stack_name, place, &mut out);
    for (id, r) in &root.resources {
        if r.kind != NESTED_STACK_TYPE {
            continue;
        }
        let url = r.properties.get("TemplateURL").map(text_of).unwrap_or_default();
        let file = templates.s3_keys.iter().find(|(key, _)| url.ends_with(key.as_str())).map(|(_, f)| f);
        if let Some(t) = file.and_then(|f| templates.templates.get(f)) {
            collect(t, Some(id.as_str()), "", place, &mut out);
        }
    }
    out
}

/// The literal text parts of an expression, for matching a URL.
fn text_of(e: &Expr) -> String {
    match e {
        Expr::Str(s) => s.clone(),
        Expr::Sub(sub) => sub
            .parts()
            .iter()
            .map(|p| match p {
                SubPart::Text(t) => t.clone(),
                _ => String::new(),
            })
            .collect(),
        _ => String::new(),
    }
}

fn collect(t: &Template, nested: Option<&str>, stack_name: &str, place: &Place, out: &mut Vec<Named>) {
    for (id, r) in &t.resources {
        let Some((_, property)) = NAMED_TYPES.iter().find(|(kind, _)| *kind == r.kind) else { continue };
        let Some(name) = r.properties.get(property).and_then(|e| resolve(e, stack_name, place)) else { continue };
        let key = (r.kind == "AWS::S3::Bucket").then(|| bucket_key_resource(t, r.properties.get("BucketEncryption")));
        out.push(Named {
            nested: nested.map(str::to_string),
            logical_id: id.as_str().to_string(),
            resource_type: r.kind.clone(),
            property,
            name,
            retained: r.deletion_policy.is_some_and(|p| p.retains()),
            key: key.flatten(),
        });
    }
}

/// The retained `AWS::KMS::Key` of `t` a bucket's `BucketEncryption` names.
fn bucket_key_resource(t: &Template, encryption: Option<&Expr>) -> Option<String> {
    let rule = encryption?.get("ServerSideEncryptionConfiguration")?.as_list()?.first()?;
    let id = match rule.get("ServerSideEncryptionByDefault")?.get("KMSMasterKeyID")? {
        Expr::Ref(Target::Resource(id)) => id.clone(),
        Expr::GetAtt(id, attribute) if attribute == "Arn" => id.clone(),
        _ => return None,
    };
    let key = t.resources.get(&id)?;
    (key.kind == "AWS::KMS::Key" && key.deletion_policy.is_some_and(|p| p.retains())).then(|| id.as_str().to_string())
}

/// A fixed name: a string, or a `Fn::Sub` of known pseudo parameters.
fn resolve(e: &Expr, stack_name: &str, place: &Place) -> Option<String> {
    match e {
        Expr::Str(s) => Some(s.clone()),
        Expr::Sub(sub) if sub.vars().is_empty() => {
            let mut s = String::new();
            for p in sub.parts() {
                match p {
                    SubPart::Text(t) => s.push_str(t),
                    SubPart::Ref(Target::Pseudo(Pseudo::Region)) => s.push_str(&place.region),
                    SubPart::Ref(Target::Pseudo(Pseudo::AccountId)) => s.push_str(&place.account),
                    SubPart::Ref(Target::Pseudo(Pseudo::Partition)) => s.push_str(&place.partition),
                    SubPart::Ref(Target::Pseudo(Pseudo::UrlSuffix)) => {
                        s.push_str(if place.partition == "aws-cn" { "amazonaws.com.cn" } else { "amazonaws.com" })
                    }
                    SubPart::Ref(Target::Pseudo(Pseudo::StackName)) if !stack_name.is_empty() => s.push_str(stack_name),
                    _ => return None,
                }
            }
            Some(s)
        }
        _ => None,
    }
}

/// Whether the stack already holds `r`: a physical ID of the deployed stack equals its name,
/// or is an ARN ending in `/name` (notebook instances; SageMaker names are case-insensitive).
fn owned(r: &Named, physical_ids: &BTreeSet<String>) -> bool {
    let suffix = format!("/{}", r.name.to_ascii_lowercase());
    physical_ids.contains(&r.name) || physical_ids.iter().any(|p| p.to_ascii_lowercase().ends_with(&suffix))
}

/// The inputs of one preflight run.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    /// The templates to deploy.
    pub templates: &'a TemplateSet,
    /// What the blueprint says besides.
    pub expectations: &'a Expectations,
    /// Account and Region of the credentials.
    pub place: Place,
    /// Whether the stack exists (then nothing is adopted: leftovers get cleanup commands).
    pub stack_exists: bool,
    /// The physical IDs of every resource of the deployed stack and its nested stacks: names
    /// the stack already holds are not leftovers.
    pub owned: BTreeSet<String>,
}

/// Runs every check; see the module documentation. Never fails: a call that fails becomes a
/// [`Finding::Unchecked`].
pub async fn run<P: Probe>(probe: &P, inputs: &Inputs<'_>) -> Report {
    let mut report = Report::default();
    let place = &inputs.place;
    let ex = inputs.expectations;

    if let Some(pinned) = &ex.region {
        if *pinned != place.region {
            report.findings.push(Finding::RegionContradicts { pinned: pinned.clone(), actual: place.region.clone() });
        }
    }
    let outside: Vec<String> = ex.zones.iter().filter(|z| !in_region(z, &place.region)).cloned().collect();
    if !outside.is_empty() {
        report.findings.push(Finding::ZonesOutsideRegion { zones: outside, region: place.region.clone() });
    }

    for image in images(inputs.templates) {
        match probe.image(&image).await {
            Ok(None) => report.findings.push(Finding::ImageMissing { name: image }),
            Ok(Some(state)) if state == "AVAILABLE" => {
                report.checked.push(format!("AppStream image {image}: AVAILABLE"))
            }
            Ok(Some(state)) => report.findings.push(Finding::ImageNotAvailable { name: image, state }),
            Err(error) => {
                report.findings.push(Finding::Unchecked { what: format!("the AppStream image {image}"), error })
            }
        }
    }

    if let Some(name) = &ex.saml_provider {
        let arn = format!("arn:{}:iam::{}:saml-provider/{name}", place.partition, place.account);
        match probe.saml_provider(&arn).await {
            Ok(true) => report.checked.push(format!("SAML provider {name}: exists")),
            Ok(false) => report.findings.push(Finding::SamlProviderMissing { name: name.clone(), arn }),
            Err(error) => {
                report.findings.push(Finding::Unchecked { what: format!("the SAML provider {name}"), error });
            }
        }
    }

    let mut seen = BTreeSet::new();
    for r in named_resources(inputs.templates, place) {
        if owned(&r, &inputs.owned) || !seen.insert((r.resource_type.clone(), r.name.clone())) {
            continue;
        }
        if let Some(f) = leftover(probe, inputs, r, &mut report.checked).await {
            report.findings.push(f);
        }
    }
    report
}

/// `eu-west-1a` is in `eu-west-1`: the Region followed by the zone's letter.
fn in_region(zone: &str, region: &str) -> bool {
    zone.strip_prefix(region).is_some_and(|rest| rest.len() == 1 && rest.chars().all(|c| c.is_ascii_lowercase()))
}

/// The `ImageName` of every AppStream fleet and image builder of the templates.
fn images(templates: &TemplateSet) -> BTreeSet<String> {
    templates
        .templates
        .values()
        .flat_map(|t| t.resources.values())
        .filter(|r| r.kind == "AWS::AppStream::Fleet" || r.kind == "AWS::AppStream::ImageBuilder")
        .filter_map(|r| r.properties.get("ImageName").and_then(Expr::as_str).map(str::to_string))
        .collect()
}

/// The finding about one named resource, if any.
async fn leftover<P: Probe>(probe: &P, inputs: &Inputs<'_>, r: Named, checked: &mut Vec<String>) -> Option<Finding> {
    let region = &inputs.place.region;
    let what = format!("{} {}", r.resource_type, r.name);
    let unchecked = |error| Some(Finding::Unchecked { what: what.clone(), error });
    match r.resource_type.as_str() {
        "AWS::Logs::LogGroup" => match probe.log_group(&r.name).await {
            Ok(false) => {
                checked.push(format!("log group {}: free", r.name));
                None
            }
            Ok(true) => Some(adopt_or_cleanup(
                inputs,
                vec![Adoption {
                    nested: r.nested.clone(),
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    identifier: ("LogGroupName".into(), r.name.clone()),
                }],
                vec![format!("aws logs delete-log-group --log-group-name {} --region {region}", r.name)],
                r,
            )),
            Err(e) => unchecked(e),
        },
        "AWS::S3::Bucket" => match probe.bucket(&r.name).await {
            Ok(BucketState::Absent) => {
                checked.push(format!("bucket {}: free", r.name));
                None
            }
            Ok(BucketState::Forbidden) => Some(Finding::BucketTaken { resource: r }),
            Ok(BucketState::Owned) => {
                let mut imports = vec![Adoption {
                    nested: r.nested.clone(),
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    identifier: ("BucketName".into(), r.name.clone()),
                }];
                if let Some(key_id) = &r.key {
                    match probe.bucket_key(&r.name).await {
                        Ok(Some(key)) if !key.starts_with("alias/") && !key.contains(":alias/") => {
                            imports.push(Adoption {
                                nested: r.nested.clone(),
                                logical_id: key_id.clone(),
                                resource_type: "AWS::KMS::Key".into(),
                                identifier: ("KeyId".into(), key.rsplit('/').next().unwrap_or(&key).to_string()),
                            });
                        }
                        Ok(_) => {}
                        Err(e) => return unchecked(e),
                    }
                }
                Some(adopt_or_cleanup(
                    inputs,
                    imports,
                    vec![
                        format!("aws s3 rb s3://{} --force --region {region}   # deletes every object in it: copy what you need first (aws s3 sync s3://{} DIR)", r.name, r.name),
                    ],
                    r,
                ))
            }
            Err(e) => unchecked(e),
        },
        "AWS::SageMaker::NotebookInstance" => match probe.notebook(&r.name).await {
            Ok(None) => {
                checked.push(format!("notebook instance {}: free", r.name));
                None
            }
            Ok(Some(status)) => {
                let name = &r.name;
                let mut cleanup = Vec::new();
                if !matches!(status.as_str(), "Stopped" | "Failed") {
                    cleanup.push(format!(
                        "aws sagemaker stop-notebook-instance --notebook-instance-name {name} --region {region}"
                    ));
                    cleanup.push(format!(
                        "aws sagemaker wait notebook-instance-stopped --notebook-instance-name {name} --region {region}"
                    ));
                }
                cleanup.push(format!(
                    "aws sagemaker delete-notebook-instance --notebook-instance-name {name} --region {region}   # its volume goes with it: copy what you need from the notebook first"
                ));
                Some(Finding::Leftover {
                    why: format!(
                        "it is {status}; a notebook instance is not adopted: it belongs to the network and role of the deployment that made it, and the new stack gives it a new subnet, security group and role, which replaces a notebook instance, impossible under the same name"
                    ),
                    resource: r,
                    cleanup,
                })
            }
            Err(e) => unchecked(e),
        },
        _ => None,
    }
}

/// Adopted when the stack is new and the template retains the resource (an import needs a
/// `DeletionPolicy`); else the cleanup commands.
fn adopt_or_cleanup(inputs: &Inputs<'_>, imports: Vec<Adoption>, cleanup: Vec<String>, r: Named) -> Finding {
    if !inputs.stack_exists && r.retained {
        return Finding::Adopt { resource: r, imports };
    }
    let why = if inputs.stack_exists {
        "the stack exists already, and sandboxc adopts retained resources only while it creates a stack".to_string()
    } else {
        "the template does not retain it (no DeletionPolicy Retain), which an import needs".to_string()
    };
    Finding::Leftover { resource: r, why, cleanup }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_belong_to_their_region() {
        assert!(in_region("eu-west-1a", "eu-west-1"));
        assert!(!in_region("eu-west-1a", "eu-west-2"));
        assert!(!in_region("us-east-1-bos-1a", "us-east-1"));
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(Place::new("1", "cn-north-1").partition, "aws-cn");
        assert_eq!(Place::new("1", "us-gov-west-1").partition, "aws-us-gov");
        assert_eq!(Place::new("1", "eu-west-1").partition, "aws");
    }
}
