//! `sandboxc audit --from-aws`: the audit's [`Evidence`] read from the usage-report and trail
//! buckets in S3.
//!
//! Buckets come from `--usage-bucket`/`--trail-bucket`, else from the root CloudFormation
//! stack's outputs `UsageReportBucket` and `TrailBucketName` (`DescribeStacks`). The data
//! bucket, the default `--bucket`, is the output `DataBucketName`; when the stack cannot be
//! read and both buckets were given, every bucket the trail logs is audited and the report
//! says so. The sandbox's S3 gateway endpoint is the output `S3EndpointId` (the stack is read
//! for it unless `--vpc-endpoint` is given), and the users' notebook role names are the
//! physical IDs of their roles in the stack ([`deployed_notebook_roles`]).
//!
//! Listing is bounded by the window: usage reports under
//! `sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/` from the day before `--since` to the
//! day after `--until` (a day's report arrives within 24 hours; a session crossing midnight
//! may be in either day's report), and CloudTrail files under
//! `AWSLogs/[<organization>/]<account>/CloudTrail/<region>/YYYY/MM/DD/` for each account and
//! Region found in the bucket, from `--since`'s day to the day after `--until` (files are
//! foldered by delivery time). Objects are fetched one at a time and each is read whole into
//! memory (CloudTrail files are a few MB at most) before it is streamed through the audit.
//!
//! The validator's decisions come from `--decisions` files when given, else from its
//! CloudWatch Logs group(s) (`--log-group`, else every group named
//! `/sandboxc/<stack>/.../lambda/validator`, which also finds the groups a former deployment
//! retained): `FilterLogEvents` over every page, bounded by the window ([`super::logs`]).
//!
//! The audit engine is synchronous: the calls run on the command line's runtime
//! ([`tokio::runtime::Runtime::block_on`], which drives its I/O even on a current-thread
//! runtime), one at a time.

use std::path::PathBuf;

use super::cloudformation::Cfn;
use super::logs::{Logs, PagedEvents, VALIDATOR_GROUP_SUFFIX};
use super::s3::S3;
use crate::audit::time::{ymd, Instant};
use crate::audit::{local, AuditError, Evidence, Filters, Visitor};
use crate::deploy::cloudformation::CloudFormation;

/// Most days one `--from-aws` or `--engine athena` run reads (`--since..--until`, UTC days).
pub const MAX_DAYS: i64 = 366;

/// Root stack output naming the data bucket.
pub use sandboxc_contract::stack::outputs::DATA_BUCKET_NAME as DATA_BUCKET_OUTPUT;
/// Root stack output naming the sandbox's S3 gateway endpoint.
pub use sandboxc_contract::stack::outputs::S3_ENDPOINT_ID as S3_ENDPOINT_OUTPUT;
/// Root stack output naming the trail bucket.
pub use sandboxc_contract::stack::outputs::TRAIL_BUCKET_NAME as TRAIL_BUCKET_OUTPUT;
/// Root stack output naming the usage-report bucket.
pub use sandboxc_contract::stack::outputs::USAGE_REPORT_BUCKET as USAGE_REPORT_OUTPUT;

/// Where `--from-aws` reads, as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Buckets {
    /// The root stack whose outputs name the buckets.
    pub stack: String,
    /// `--usage-bucket`.
    pub usage: Option<String>,
    /// `--trail-bucket`.
    pub trail: Option<String>,
    /// `--decisions`: local files, read as with directories (then no log group is read).
    pub decisions: Vec<PathBuf>,
    /// `--log-group`: the validator's CloudWatch Logs groups (default: found by name).
    pub log_groups: Vec<String>,
    /// Whether the sandbox's S3 gateway endpoint ID is wanted from the stack's output
    /// `S3EndpointId` (no `--vpc-endpoint` given): the stack is then described even when every
    /// bucket is given.
    pub endpoint_wanted: bool,
    /// The option that reads the stack, named in errors: `--from-aws`, or `--engine athena`
    /// (which takes no bucket flags: its Glue tables name the buckets).
    pub reader: &'static str,
}

/// The evidence in S3, read on `runtime`.
#[derive(Debug)]
pub struct S3Evidence<'r> {
    s3: S3,
    runtime: &'r tokio::runtime::Runtime,
    usage: String,
    trail: String,
    decisions: Vec<PathBuf>,
    logs: Option<Logs>,
    log_groups: Vec<String>,
    /// The window in milliseconds, both ends inclusive.
    window_ms: (i64, i64),
    days: (i64, i64),
    notes: Vec<String>,
    /// The stack's output `S3EndpointId`, when the stack was described and has it.
    pub s3_endpoint: Option<String>,
}

impl<'r> S3Evidence<'r> {
    /// Finds the buckets (flags, else the stack's outputs) and sets the default `--bucket`
    /// (the stack's data bucket) in `filters`, whose window must be set.
    ///
    /// # Errors
    /// [`AuditError::Aws`] when the buckets cannot be found, [`AuditError::Usage`] for a
    /// window longer than [`MAX_DAYS`] or without a start.
    pub async fn open(
        cfn: &Cfn,
        s3: S3,
        logs: Option<Logs>,
        runtime: &'r tokio::runtime::Runtime,
        given: Buckets,
        filters: &mut Filters,
    ) -> Result<Self, AuditError> {
        let stack = given.stack.as_str();
        let mut notes = Vec::new();
        let (mut usage, mut trail) = (given.usage, given.trail);
        let mut s3_endpoint = None;
        if usage.is_none() || trail.is_none() || filters.buckets.is_empty() || given.endpoint_wanted {
            match cfn.describe_stack(stack).await {
                Ok(info) => {
                    let get = |name: &str| {
                        info.outputs.iter().find(|o| o.key == name && !o.value.is_empty()).map(|o| o.value.clone())
                    };
                    let missing = |name: &str, flag: &str| {
                        AuditError::Aws(format!("the CloudFormation stack {stack} has no output {name} (is that part off in the blueprint?): pass {flag}"))
                    };
                    if usage.is_none() {
                        usage = Some(
                            get(USAGE_REPORT_OUTPUT).ok_or_else(|| missing(USAGE_REPORT_OUTPUT, "--usage-bucket"))?,
                        );
                    }
                    if trail.is_none() {
                        trail = Some(
                            get(TRAIL_BUCKET_OUTPUT).ok_or_else(|| missing(TRAIL_BUCKET_OUTPUT, "--trail-bucket"))?,
                        );
                    }
                    s3_endpoint = get(S3_ENDPOINT_OUTPUT);
                    if filters.buckets.is_empty() {
                        match get(DATA_BUCKET_OUTPUT) {
                            Some(b) => filters.buckets.push(b),
                            None => notes.push(format!("the stack {stack} has no output {DATA_BUCKET_OUTPUT}: every bucket the trail logs is audited (pass --bucket)")),
                        }
                    }
                }
                Err(_) if usage.is_some() && trail.is_some() && !filters.buckets.is_empty() => {}
                Err(e) if usage.is_some() && trail.is_some() => {
                    notes.push(format!("the data bucket is unknown (CloudFormation DescribeStacks: {e}): every bucket the trail logs is audited; pass --bucket to audit only the data bucket"));
                }
                Err(e) => {
                    let or =
                        if given.reader == "--from-aws" { "; or pass --usage-bucket and --trail-bucket" } else { "" };
                    return Err(AuditError::Aws(format!(
                        "{} needs the sandbox's stack {stack}: CloudFormation DescribeStacks: {e}{or}",
                        given.reader
                    )));
                }
            }
        }
        let (Some(usage), Some(trail)) = (usage, trail) else {
            return Err(AuditError::Usage(
                "--from-aws needs --usage-bucket and --trail-bucket or a deployed stack".into(),
            ));
        };
        let (Some(since), Some(until)) = (filters.since, filters.until) else {
            return Err(AuditError::Usage("--from-aws needs a window (--since)".into()));
        };
        let (first, last) = (since.day(), Instant(until.0 - 1).day());
        if last - first + 1 > MAX_DAYS {
            return Err(AuditError::Usage(format!(
                "{} reads at most {MAX_DAYS} days per run, the window has {}: narrow --since/--until",
                given.reader,
                last - first + 1
            )));
        }
        let mut log_groups = given.log_groups;
        let logs = if given.decisions.is_empty() { logs } else { None };
        if let Some(logs) = &logs {
            if log_groups.is_empty() {
                let prefix = format!("/sandboxc/{stack}/");
                match logs.groups(&prefix, VALIDATOR_GROUP_SUFFIX).await {
                    Ok(found) if found.is_empty() => notes.push(format!("no CloudWatch Logs group {prefix}...{VALIDATOR_GROUP_SUFFIX}: no validator decisions read (pass --log-group or --decisions)")),
                    Ok(found) => log_groups = found,
                    Err(e) => notes.push(format!("the validator's log group is unknown ({e}): no validator decisions read (pass --log-group or --decisions)")),
                }
            }
        }
        Ok(Self {
            s3,
            runtime,
            usage,
            trail,
            decisions: given.decisions,
            logs,
            log_groups,
            window_ms: (since.0, until.0 - 1),
            days: (first, last),
            notes,
            s3_endpoint,
        })
    }

    /// Visits every object under each prefix, fetched one at a time.
    fn visit_prefixes(&self, bucket: &str, prefixes: &[String], visit: Visitor<'_>) -> Result<(), AuditError> {
        for prefix in prefixes {
            let keys = self.runtime.block_on(self.s3.list(bucket, prefix, None)).map_err(AuditError::Aws)?.0;
            for key in keys {
                let location = format!("s3://{bucket}/{key}");
                match self.runtime.block_on(self.s3.get(bucket, &key)) {
                    Ok(bytes) => visit(&location, Ok(&mut bytes.as_slice())),
                    Err(e) => visit(&location, Err(e)),
                }
            }
        }
        Ok(())
    }

    /// `AWSLogs/<account>/CloudTrail/<region>/` prefixes (and the organization-trail layout
    /// `AWSLogs/<o-id>/<account>/CloudTrail/<region>/`).
    async fn trail_regions(&self) -> Result<Vec<String>, AuditError> {
        let bucket = self.trail.as_str();
        let list =
            |prefix: String| async move { self.s3.list(bucket, &prefix, Some("/")).await.map_err(AuditError::Aws) };
        let mut accounts = Vec::new();
        for p in list("AWSLogs/".into()).await?.1 {
            if p.trim_end_matches('/').rsplit('/').next().is_some_and(|s| s.starts_with("o-")) {
                accounts.extend(list(p).await?.1);
            } else {
                accounts.push(p);
            }
        }
        let mut out = Vec::new();
        for a in accounts {
            out.extend(list(format!("{a}CloudTrail/")).await?.1);
        }
        Ok(out)
    }
}

/// The users' notebook role names of the deployed stack `stack`: for each user ID of `users`,
/// the physical ID (the role name) of its `AWS::IAM::Role` resource, whose logical ID the
/// compiler derives from the user ID (`crate::compile::users::user_role_logical_id`), in the
/// root stack (`layout: single`) or in its users nested stacks (`Users01NestedStack`...), read
/// with `ListStackResources`. Keyed by user hash; a user without a deployed role is absent.
///
/// # Errors
/// The CloudFormation error, as text.
pub async fn deployed_notebook_roles<C: CloudFormation>(
    cfn: &C,
    stack: &str,
    users: &[String],
) -> Result<crate::audit::NotebookRoles, String> {
    let wanted: std::collections::HashMap<String, &String> =
        users.iter().map(|u| (crate::compile::users::user_role_logical_id(u), u)).collect();
    let mut out = crate::audit::NotebookRoles::new();
    let mut stacks = vec![stack.to_string()];
    let mut i = 0;
    while let Some(current) = stacks.get(i).cloned() {
        i += 1;
        let resources = cfn.list_resources(&current).await.map_err(|e| format!("ListStackResources {current}: {e}"))?;
        for r in resources {
            if r.physical_id.is_empty() {
                continue;
            }
            if r.resource_type == "AWS::CloudFormation::Stack" && current == stack && r.logical_id.starts_with("Users")
            {
                stacks.push(r.physical_id);
            } else if r.resource_type == "AWS::IAM::Role" {
                if let Some(user) = wanted.get(&r.logical_id) {
                    out.entry(crate::audit::join::user_hash(user)).or_default().insert(r.physical_id);
                }
            }
        }
    }
    Ok(out)
}

impl Evidence for S3Evidence<'_> {
    fn sources(&self) -> Vec<String> {
        let mut sources =
            vec![format!("usage reports: s3://{}", self.usage), format!("CloudTrail: s3://{}", self.trail)];
        sources.extend(self.decisions.iter().map(|p| format!("validator decisions: {}", p.display())));
        if self.logs.is_some() {
            sources.extend(self.log_groups.iter().map(|g| format!("validator decisions: CloudWatch Logs {g}")));
        }
        sources
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn usage_reports(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
        let (first, last) = self.days;
        let prefixes: Vec<String> = (first - 1..=last + 1)
            .map(|day| {
                let (y, m, d) = ymd(day);
                format!("sessions/schedule=DAILY/year={y:04}/month={m:02}/day={d:02}/")
            })
            .collect();
        self.visit_prefixes(&self.usage, &prefixes, visit)
    }

    fn cloudtrail(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
        let (first, last) = self.days;
        let regions = self.runtime.block_on(self.trail_regions())?;
        let mut prefixes = Vec::new();
        for region_prefix in regions {
            for day in first..=last + 1 {
                let (y, m, d) = ymd(day);
                prefixes.push(format!("{region_prefix}{y:04}/{m:02}/{d:02}/"));
            }
        }
        self.visit_prefixes(&self.trail, &prefixes, visit)
    }

    fn decisions(&mut self, visit: Visitor<'_>) -> Result<(), AuditError> {
        let Some(logs) = &self.logs else { return local::decision_files(&self.decisions, visit) };
        for group in &self.log_groups {
            let mut events = PagedEvents::new(logs, self.runtime, group, self.window_ms.0, self.window_ms.1);
            visit(&format!("cloudwatch-logs:{group}"), Ok(&mut events));
        }
        Ok(())
    }
}
