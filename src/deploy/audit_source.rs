//! `sandboxc audit --from-aws`: the usage-report and trail buckets read from S3.
//!
//! Buckets come from `--usage-bucket`/`--trail-bucket`, else from the root CloudFormation
//! stack's outputs `UsageReportBucket` and `TrailBucketName` (`DescribeStacks`; the stack is
//! `--stack`, else the blueprint's `name`). The data bucket, the default `--bucket`, is the
//! output `DataBucketName`; when the stack cannot be read and both buckets were given, every
//! bucket the trail logs is audited and the report says so.
//!
//! Listing is bounded by the window: usage reports under
//! `sessions/schedule=DAILY/year=YYYY/month=MM/day=DD/` from the day before `--since` to the
//! day after `--until` (a day's report arrives within 24 hours; a session crossing midnight
//! may be in either day's report), and CloudTrail files under
//! `AWSLogs/[<organization>/]<account>/CloudTrail/<region>/YYYY/MM/DD/` for each account and
//! Region found in the bucket, from `--since`'s day to the day after `--until` (files are
//! foldered by delivery time). Objects are fetched one at a time and each is read whole into
//! memory (CloudTrail files are a few MB at most) before it is streamed through the audit.
//! With an endpoint override (`AWS_ENDPOINT_URL`, as for the local emulator), S3 is addressed
//! path-style.

use aws_sdk_s3::error::ProvideErrorMetadata;

use super::AwsOptions;
use crate::audit::time::{ymd, Instant};
use crate::audit::{AuditArgs, AuditError, Auditor, Filters, Problem, Report};

/// Most days one `--from-aws` run lists.
pub const MAX_DAYS: i64 = 366;

/// Root stack outputs naming the buckets (`src/compile/appstream.rs`, `audit.rs`, `storage.rs`).
pub const USAGE_REPORT_OUTPUT: &str = "UsageReportBucket";
/// See [`USAGE_REPORT_OUTPUT`].
pub const TRAIL_BUCKET_OUTPUT: &str = "TrailBucketName";
/// See [`USAGE_REPORT_OUTPUT`].
pub const DATA_BUCKET_OUTPUT: &str = "DataBucketName";

/// Reads both buckets and the `--decisions` files and builds the report.
///
/// # Errors
/// [`AuditError::Aws`] when the configuration, the stack or a bucket cannot be read;
/// [`AuditError::Usage`] for a window too long or an invalid blueprint.
pub fn collect(args: &AuditArgs, filters: Filters) -> Result<Report, AuditError> {
    let blueprint = if args.blueprint.is_some() || args.stack.is_none() {
        let source = match &args.blueprint {
            Some(p) => crate::blueprint::Source::read(p).map_err(|d| AuditError::Usage(d.to_string()))?,
            None => crate::blueprint::Source::embedded(),
        };
        Some(crate::blueprint::load(&source).map_err(|d| AuditError::Usage(d.to_string()))?)
    } else {
        None
    };
    let stack = args.stack.clone().or_else(|| blueprint.as_ref().map(|b| b.name.clone())).unwrap_or_default();
    let options = AwsOptions {
        profile: args.profile.clone(),
        region: args.region.clone().or_else(|| blueprint.as_ref().and_then(|b| b.region.clone())),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AuditError::Aws(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let config = super::config(&options).await.map_err(|e| AuditError::Aws(format!("--from-aws: {e}")))?;
        super::check_credentials(&config, &options).await.map_err(|e| AuditError::Aws(format!("--from-aws: {e}")))?;
        let path_style = config.endpoint_url().is_some();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style).build(),
        );
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        collect_with(&s3, &cfn, &stack, args, filters).await
    })
}

/// [`collect`] with given clients and stack name.
///
/// # Errors
/// See [`collect`].
pub async fn collect_with(
    s3: &aws_sdk_s3::Client,
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    args: &AuditArgs,
    mut filters: Filters,
) -> Result<Report, AuditError> {
    let mut notes = Vec::new();
    let (mut usage, mut trail) = (args.usage_bucket.clone(), args.trail_bucket.clone());
    if usage.is_none() || trail.is_none() || filters.buckets.is_empty() {
        match stack_outputs(cfn, stack).await {
            Ok(outputs) => {
                let get = |name: &str| outputs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                let missing = |name: &str, flag: &str| {
                    AuditError::Aws(format!("the CloudFormation stack {stack} has no output {name} (is that part off in the blueprint?): pass {flag}"))
                };
                if usage.is_none() {
                    usage =
                        Some(get(USAGE_REPORT_OUTPUT).ok_or_else(|| missing(USAGE_REPORT_OUTPUT, "--usage-bucket"))?);
                }
                if trail.is_none() {
                    trail =
                        Some(get(TRAIL_BUCKET_OUTPUT).ok_or_else(|| missing(TRAIL_BUCKET_OUTPUT, "--trail-bucket"))?);
                }
                if filters.buckets.is_empty() {
                    match get(DATA_BUCKET_OUTPUT) {
                        Some(b) => filters.buckets.push(b),
                        None => notes.push(format!("the stack {stack} has no output {DATA_BUCKET_OUTPUT}: every bucket the trail logs is audited (pass --bucket)")),
                    }
                }
            }
            Err(e) if usage.is_some() && trail.is_some() => {
                notes.push(format!("the data bucket is unknown ({e}): every bucket the trail logs is audited; pass --bucket to audit only the data bucket"));
            }
            Err(e) => {
                return Err(AuditError::Aws(format!(
                    "--from-aws needs the bucket names: {e}; or pass --usage-bucket and --trail-bucket"
                )))
            }
        }
    }
    let (Some(usage), Some(trail)) = (usage, trail) else {
        return Err(AuditError::Usage("--from-aws needs --usage-bucket and --trail-bucket or a deployed stack".into()));
    };
    let (Some(since), Some(until)) = (filters.since, filters.until) else {
        return Err(AuditError::Usage("--from-aws needs a window (--since)".into()));
    };
    let (first, last) = (since.day(), Instant(until.0 - 1).day());
    if last - first + 1 > MAX_DAYS {
        return Err(AuditError::Usage(format!(
            "--from-aws reads at most {MAX_DAYS} days per run: narrow --since/--until"
        )));
    }
    let mut aud = Auditor::new(filters);
    for n in notes {
        aud.notes.insert(n);
    }
    for day in first - 1..=last + 1 {
        let (y, m, d) = ymd(day);
        let prefix = format!("sessions/schedule=DAILY/year={y:04}/month={m:02}/day={d:02}/");
        for key in list(s3, &usage, &prefix, None).await?.0 {
            let location = format!("s3://{usage}/{key}");
            match get(s3, &usage, &key).await {
                Ok(bytes) => aud.read_usage_report(&location, bytes.as_slice()),
                Err(e) => aud.bad_file(Problem::file(&location, e)),
            }
        }
    }
    aud.index();
    for region_prefix in trail_regions(s3, &trail).await? {
        for day in first..=last + 1 {
            let (y, m, d) = ymd(day);
            let prefix = format!("{region_prefix}{y:04}/{m:02}/{d:02}/");
            for key in list(s3, &trail, &prefix, None).await?.0 {
                let location = format!("s3://{trail}/{key}");
                match get(s3, &trail, &key).await {
                    Ok(bytes) => aud.read_cloudtrail(&location, bytes.as_slice()),
                    Err(e) => aud.bad_file(Problem::file(&location, e)),
                }
            }
        }
    }
    for path in &args.decisions {
        crate::audit::local::each_file(path, "--decisions", &mut |rel, file| match file {
            Ok(f) => aud.read_decisions(rel, f),
            Err(e) => aud.bad_file(Problem::file(rel, format!("cannot open: {e}"))),
        })?;
    }
    let mut sources = vec![format!("usage reports: s3://{usage}"), format!("CloudTrail: s3://{trail}")];
    sources.extend(args.decisions.iter().map(|p| format!("validator decisions: {}", p.display())));
    Ok(Report::build(aud, sources))
}

/// `AWSLogs/<account>/CloudTrail/<region>/` prefixes (and the organization-trail layout
/// `AWSLogs/<o-id>/<account>/CloudTrail/<region>/`).
async fn trail_regions(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Vec<String>, AuditError> {
    let mut out = Vec::new();
    let mut accounts = Vec::new();
    for p in list(s3, bucket, "AWSLogs/", Some("/")).await?.1 {
        if p.trim_end_matches('/').rsplit('/').next().is_some_and(|s| s.starts_with("o-")) {
            accounts.extend(list(s3, bucket, &p, Some("/")).await?.1);
        } else {
            accounts.push(p);
        }
    }
    for a in accounts {
        out.extend(list(s3, bucket, &format!("{a}CloudTrail/"), Some("/")).await?.1);
    }
    Ok(out)
}

fn s3_error<E: ProvideErrorMetadata + std::error::Error + 'static>(
    api: &str,
    bucket: &str,
    e: &aws_sdk_s3::error::SdkError<E>,
) -> String {
    let code = e.code().unwrap_or_default();
    let message = e.message().unwrap_or_default();
    let what = if code.is_empty() { super::cfn::chain(e) } else { format!("{code}: {message}") };
    let hint = match code {
        "AccessDenied" | "AllAccessDisabled" => format!(
            " (the credentials need s3:{}; and kms:Decrypt when the objects are KMS-encrypted)",
            if api == "ListObjectsV2" { "ListBucket" } else { "GetObject" }
        ),
        "NoSuchBucket" => " (check --usage-bucket/--trail-bucket or the stack's outputs)".to_string(),
        _ => String::new(),
    };
    format!("S3 {api} on bucket {bucket} failed: {what}{hint}")
}

/// All keys (and common prefixes, with a delimiter) under `prefix`, in S3's order.
async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
) -> Result<(Vec<String>, Vec<String>), AuditError> {
    let mut keys = Vec::new();
    let mut prefixes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_delimiter(delimiter.map(str::to_string))
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| AuditError::Aws(s3_error("ListObjectsV2", bucket, &e)))?;
        keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
        prefixes.extend(page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_string)));
        match page.next_continuation_token() {
            Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok((keys, prefixes))
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.map_err(|e| s3_error("GetObject", bucket, &e))?;
    let body =
        out.body.collect().await.map_err(|e| {
            format!("S3 GetObject on bucket {bucket}: reading the body failed: {}", super::cfn::chain(&e))
        })?;
    Ok(body.to_vec())
}

/// The root stack's outputs (`DescribeStacks`).
async fn stack_outputs(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> Result<Vec<(String, String)>, String> {
    let out = cfn.describe_stacks().stack_name(stack).send().await.map_err(|e| {
        let code = aws_sdk_cloudformation::error::ProvideErrorMetadata::code(&e).unwrap_or_default().to_string();
        let message = aws_sdk_cloudformation::error::ProvideErrorMetadata::message(&e).unwrap_or_default().to_string();
        if code.is_empty() {
            format!("CloudFormation DescribeStacks {stack} failed: {}", super::cfn::chain(&e))
        } else {
            format!("CloudFormation DescribeStacks {stack} failed: {code}: {message}")
        }
    })?;
    let Some(s) = out.stacks().first() else { return Err(format!("the CloudFormation stack {stack} does not exist")) };
    Ok(s.outputs().iter().filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string()))).collect())
}
