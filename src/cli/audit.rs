//! `sandboxc audit`: the evidence from directories ([`LocalEvidence`]) or, with `--from-aws`,
//! from the buckets ([`S3Evidence`]), joined by the audit engine (`crate::audit`) with the
//! sandbox's [`Principals`] (the environment from `--stack` or the blueprint's name, the admin
//! roles from `--admin-principal`, the S3 gateway endpoint from `--vpc-endpoint` or the stack,
//! the users' notebook role names from `--notebook-role` or the stack); exit status [`ExitStatus::Findings`] when the report has
//! findings.

use super::args::{check_account, AuditArgs, AuditEngine, AuditFormatArg};
use super::build::source;
use super::error::CliError;
use super::{Context, ExitStatus};
use crate::audit::local::LocalEvidence;
use crate::audit::time::Instant;
use crate::audit::{AuditFormat, FilterText, Filters, Principals, Report};
use crate::aws::evidence::{Buckets, S3Evidence};
use crate::blueprint::Blueprint;

/// `sandboxc audit`.
///
/// # Errors
/// [`CliError`]: arguments, an unreadable source, AWS, or the output.
pub fn run(args: &AuditArgs, ctx: &Context) -> Result<ExitStatus, CliError> {
    let athena = args.engine == AuditEngine::Athena;
    if args.print_sql && !athena {
        return Err(CliError::new("--print-sql belongs to --engine athena"));
    }
    if args.prices.is_some() && !athena {
        return Err(CliError::new(
            "--prices belongs to --engine athena (the price of its query); `sandboxc cost --prices` prices the month",
        ));
    }
    if athena {
        if let Some(flag) = [
            (args.from_aws, "--from-aws"),
            (args.usage_reports.is_some(), "--usage-reports"),
            (args.cloudtrail.is_some(), "--cloudtrail"),
            (args.jobs.is_some(), "--jobs"),
            (args.usage_bucket.is_some(), "--usage-bucket"),
            (args.trail_bucket.is_some(), "--trail-bucket"),
        ]
        .iter()
        .find(|(given, _)| *given)
        .map(|(_, f)| *f)
        {
            return Err(CliError::new(format!(
                "{flag} belongs to --engine local; --engine athena reads the sandbox's Glue tables in AWS"
            )));
        }
    }
    if !args.from_aws && !athena {
        let aws_only = [
            (args.usage_bucket.is_some(), "--usage-bucket"),
            (args.trail_bucket.is_some(), "--trail-bucket"),
            (!args.log_group.is_empty(), "--log-group"),
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
    let filters = Filters::from_text(&text, (args.from_aws || athena).then(Instant::now))?;
    let report = if athena {
        match super::audit_athena::run(args, filters, ctx)? {
            Some(report) => report,
            None => return Ok(ExitStatus::Success),
        }
    } else if args.from_aws {
        from_aws(args, filters, ctx)?
    } else {
        let mut evidence =
            LocalEvidence::new(args.usage_reports.clone(), args.cloudtrail.clone(), args.decisions.clone())?;
        // With directories the blueprint is read only when given: it names the environment.
        let blueprint = match &args.blueprint {
            Some(path) => Some(crate::blueprint::load(&source(Some(path))?)?),
            None => None,
        };
        let principals = principals(args, blueprint.as_ref())?;
        crate::audit::collect_with(&mut evidence, filters, principals, jobs(args))?
    };
    let format = match args.format {
        AuditFormatArg::Table => AuditFormat::Table,
        AuditFormatArg::Csv => AuditFormat::Csv,
        AuditFormatArg::Json => AuditFormat::Json,
    };
    // --quiet: no report, but why the exit status is what it is, on stderr (as with CSV, whose
    // rows carry only events): notes, incomplete evidence, the findings count.
    if !ctx.quiet {
        crate::audit::write_report(&report, format, &mut std::io::stdout().lock())?;
    }
    if ctx.quiet || format == AuditFormat::Csv {
        let lines = crate::audit::render::verdict_lines(&report);
        // -q keeps to the verdict; CSV readers get the notes too.
        for line in lines.iter().filter(|l| !(ctx.quiet && l.starts_with("note: "))) {
            ctx.warn(&format!("audit: {line}"));
        }
    }
    Ok(if report.has_findings() { ExitStatus::Findings } else { ExitStatus::Success })
}

/// The sandbox's principals: the environment from `--stack`, else the blueprint's name; the
/// admin roles from `--admin-principal`, each checked to be a role ARN.
pub(super) fn principals(args: &AuditArgs, blueprint: Option<&Blueprint>) -> Result<Principals, CliError> {
    // The blueprint's admin principals and users, and any --admin-principal given besides.
    let mut admin_roles: Vec<String> = blueprint.map(|b| b.storage.admin_principals.clone()).unwrap_or_default();
    for arn in &args.admin_principal {
        if !admin_roles.contains(arn) {
            admin_roles.push(arn.clone());
        }
    }
    let mut principals = Principals {
        environment: args.stack.clone().or_else(|| blueprint.map(|b| b.name.clone())),
        admin_roles,
        users: blueprint.map(|b| b.users.iter().map(|u| u.id.clone()).collect()).unwrap_or_default(),
        vpc_endpoints: args.vpc_endpoint.clone(),
        notebook_roles: None,
    };
    for arn in &args.notebook_role {
        principals.add_notebook_role(arn)?;
    }
    principals.check()?;
    Ok(principals)
}

/// What `--from-aws` and `--engine athena` learn from the deployed stack about the sandbox's
/// principals: the S3 gateway endpoint (the stack output `S3EndpointId`, unless
/// `--vpc-endpoint` is given) and the users' notebook role names (the blueprint's users' roles
/// in the stack, unless `--notebook-role` is given; not without a blueprint). A role list that
/// cannot be read is said on standard error and leaves the path alone to name the user.
pub(super) fn from_stack<C: crate::deploy::cloudformation::CloudFormation>(
    principals: &mut Principals,
    s3_endpoint: Option<String>,
    cfn: &C,
    runtime: &tokio::runtime::Runtime,
    blueprint: Option<&Blueprint>,
    ctx: &Context,
) {
    if principals.vpc_endpoints.is_empty() {
        principals.vpc_endpoints.extend(s3_endpoint.filter(|e| crate::audit::is_vpc_endpoint_id(e)));
    }
    let (Some(blueprint), Some(stack), None) =
        (blueprint, principals.environment.clone(), principals.notebook_roles.as_ref())
    else {
        return;
    };
    if blueprint.notebook.mode != sandboxc_contract::validator::NotebookMode::PerUser {
        return;
    }
    let users: Vec<String> = blueprint.users.iter().map(|u| u.id.clone()).collect();
    match runtime.block_on(crate::aws::evidence::deployed_notebook_roles(cfn, &stack, &users)) {
        Ok(roles) => principals.notebook_roles = Some(roles),
        Err(e) => ctx.warn(&format!(
            "audit: note: the users' notebook roles of stack {stack} could not be read ({e}); notebook events are attributed by the role's path alone"
        )),
    }
}

/// The report from the buckets: the blueprint (unless only `--stack` names the stack) gives
/// the stack name and pins the Region and account.
fn from_aws(args: &AuditArgs, mut filters: Filters, ctx: &Context) -> Result<Report, CliError> {
    let blueprint = if args.blueprint.is_some() || args.stack.is_none() {
        Some(crate::blueprint::load(&source(args.blueprint.as_deref())?)?)
    } else {
        None
    };
    let mut principals = principals(args, blueprint.as_ref())?;
    let stack = principals.environment.clone().unwrap_or_default();
    let settings = ctx.aws(&args.aws, blueprint.as_ref().and_then(|b| b.region.as_deref()))?;
    let given = Buckets {
        stack,
        usage: args.usage_bucket.clone(),
        trail: args.trail_bucket.clone(),
        decisions: args.decisions.clone(),
        log_groups: args.log_group.clone(),
        endpoint_wanted: args.vpc_endpoint.is_empty(),
        reader: "--from-aws",
    };
    let runtime = ctx.runtime()?;
    let (mut evidence, cfn) = runtime.block_on(async {
        let session = crate::aws::connect(&settings).await.map_err(|e| CliError::new(format!("--from-aws: {e}")))?;
        check_account(blueprint.as_ref().and_then(|b| b.account.as_deref()), &session.account)?;
        let cfn = session.cloudformation();
        let evidence =
            S3Evidence::open(&cfn, session.s3(), Some(session.logs()), &runtime, given, &mut filters).await?;
        Ok::<_, CliError>((evidence, cfn))
    })?;
    from_stack(&mut principals, evidence.s3_endpoint.clone(), &cfn, &runtime, blueprint.as_ref(), ctx);
    Ok(crate::audit::collect_with(&mut evidence, filters, principals, jobs(args))?)
}

/// `--jobs`, else every core.
pub(super) fn jobs(args: &AuditArgs) -> usize {
    args.jobs.map_or_else(crate::audit::default_jobs, usize::from)
}
