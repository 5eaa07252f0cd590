//! `sandboxc audit`: the evidence from directories ([`LocalEvidence`]) or, with `--from-aws`,
//! from the buckets ([`S3Evidence`]), joined by the audit engine (`crate::audit`); exit status
//! [`ExitStatus::Findings`] when the report has findings.

use super::args::{check_account, AuditArgs, AuditFormatArg};
use super::build::source;
use super::error::CliError;
use super::{Context, ExitStatus};
use crate::audit::local::LocalEvidence;
use crate::audit::time::Instant;
use crate::audit::{AuditFormat, FilterText, Filters, Report};
use crate::aws::evidence::{Buckets, S3Evidence};

/// `sandboxc audit`.
///
/// # Errors
/// [`CliError`]: arguments, an unreadable source, AWS, or the output.
pub fn run(args: &AuditArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    if !args.from_aws {
        let aws_only = [
            (args.blueprint.is_some(), "BLUEPRINT"),
            (args.stack.is_some(), "--stack"),
            (args.usage_bucket.is_some(), "--usage-bucket"),
            (args.trail_bucket.is_some(), "--trail-bucket"),
        ];
        let given = aws_only.iter().find(|(given, _)| *given).map(|(_, name)| *name).or_else(|| args.aws.given());
        if let Some(name) = given {
            return Err(CliError::new(format!("{name} belongs to --from-aws (reading the buckets in S3); with directories give --usage-reports and --cloudtrail")));
        }
    }
    let text = FilterText {
        since: args.since.clone(),
        until: args.until.clone(),
        users: args.user.clone(),
        buckets: args.bucket.clone(),
        events: args.event.clone(),
    };
    let filters = Filters::from_text(&text, args.from_aws.then(Instant::now))?;
    let report = if args.from_aws {
        from_aws(args, filters, ctx)?
    } else {
        let mut evidence =
            LocalEvidence::new(args.usage_reports.clone(), args.cloudtrail.clone(), args.decisions.clone())?;
        crate::audit::collect(&mut evidence, filters)?
    };
    let format = match args.format {
        AuditFormatArg::Table => AuditFormat::Table,
        AuditFormatArg::Csv => AuditFormat::Csv,
        AuditFormatArg::Json => AuditFormat::Json,
    };
    // --quiet: only the exit status (and errors), for scheduled jobs.
    if !ctx.quiet {
        crate::audit::write_report(&report, format, &mut std::io::stdout().lock())?;
    }
    Ok(if report.has_findings() { ExitStatus::Findings } else { ExitStatus::Success })
}

/// The report from the buckets: the blueprint (unless only `--stack` names the stack) gives
/// the stack name and pins the Region and account.
fn from_aws(args: &AuditArgs, mut filters: Filters, ctx: &Context) -> Result<Report, CliError> {
    let blueprint = if args.blueprint.is_some() || args.stack.is_none() {
        Some(crate::blueprint::load(&source(args.blueprint.as_deref())?)?)
    } else {
        None
    };
    let stack = args.stack.clone().or_else(|| blueprint.as_ref().map(|b| b.name.clone())).unwrap_or_default();
    let settings = ctx.aws(&args.aws, blueprint.as_ref().and_then(|b| b.region.as_deref()))?;
    let given = Buckets {
        stack,
        usage: args.usage_bucket.clone(),
        trail: args.trail_bucket.clone(),
        decisions: args.decisions.clone(),
    };
    let runtime = ctx.runtime()?;
    let mut evidence = runtime.block_on(async {
        let session = crate::aws::connect(&settings).await.map_err(|e| CliError::new(format!("--from-aws: {e}")))?;
        check_account(blueprint.as_ref().and_then(|b| b.account.as_deref()), &session.account)?;
        let cfn = session.cloudformation();
        Ok::<_, CliError>(S3Evidence::open(&cfn, session.s3(), &runtime, given, &mut filters).await?)
    })?;
    Ok(crate::audit::collect(&mut evidence, filters)?)
}
