//! `sandboxc audit --engine athena`: the audit's join as one SQL query in the sandbox's Athena
//! workgroup (`crate::audit::athena_sql`), run with bounded polling (`crate::audit::athena`),
//! its rows rebuilt into the local engine's report (`crate::audit::athena_rows`), the
//! validator's decisions read as `--from-aws` reads them. The query ID, bytes scanned and the
//! cost go to standard error, so that the report on standard output is the local engine's.

use super::args::AuditArgs;
use super::build::source;
use super::error::CliError;
use super::Context;
use crate::audit::athena::{bytes_in_words, run as run_query, Polling, Progress};
use crate::audit::athena_rows::AthenaAuditor;
use crate::audit::athena_sql::{query, QuerySpec, Tables};
use crate::audit::{Evidence, Filters, Problem, Report};
use crate::aws::evidence::{Buckets, S3Evidence};
use crate::blueprint::names::{AUDIT_SESSIONS_TABLE, AUDIT_TRAIL_TABLE};

/// Why no cost is printed: Athena's price is not among the offers sandboxc's cost engine reads.
pub const PRICE_UNKNOWN: &str = "price unknown: Athena's price per TB scanned is not in sandboxc's price snapshot (src/cost); multiply the bytes above by the price of your Region on the Athena pricing page";

/// Runs the audit on Athena; `None` when `--print-sql` printed the query instead.
///
/// # Errors
/// [`CliError`]: the blueprint (without `audit.athena`), AWS, the query (failed, cancelled,
/// the workgroup's limit, polling timeout: each with the query ID), or its rows.
pub fn run(args: &AuditArgs, mut filters: Filters, ctx: &Context) -> Result<Option<Report>, CliError> {
    let blueprint = crate::blueprint::load(&source(args.blueprint.as_deref())?)?;
    let Some(limit_configured) = blueprint.audit.athena.as_ref().map(|a| a.bytes_scanned_limit) else {
        return Err(CliError::new(format!(
            "--engine athena needs the blueprint's audit.athena (the Glue tables and the workgroup); the blueprint {} has none: add `audit: {{athena: {{bytes_scanned_limit: 10000000000}}}}` and run sandboxc apply",
            blueprint.name
        )));
    };
    let mut principals = super::audit::principals(args, Some(&blueprint))?;
    let names = blueprint.names.clone();
    let stack = principals.environment.clone().unwrap_or_else(|| blueprint.name.clone());
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    let given = Buckets {
        stack,
        usage: None,
        trail: None,
        decisions: args.decisions.clone(),
        log_groups: args.log_group.clone(),
        endpoint_wanted: args.vpc_endpoint.is_empty(),
    };
    let runtime = ctx.runtime()?;
    let (session, mut evidence, cfn) = runtime.block_on(async {
        let session =
            crate::aws::connect(&settings).await.map_err(|e| CliError::new(format!("--engine athena: {e}")))?;
        super::args::check_account(blueprint.account.as_deref(), &session.account)?;
        let cfn = session.cloudformation();
        let evidence =
            S3Evidence::open(&cfn, session.s3(), Some(session.logs()), &runtime, given, &mut filters).await?;
        Ok::<_, CliError>((session, evidence, cfn))
    })?;
    super::audit::from_stack(&mut principals, evidence.s3_endpoint.clone(), &cfn, &runtime, Some(&blueprint), ctx);
    if !args.print_sql {
        super::audit::unchecked_notes(&principals, ctx);
    }
    let tables = Tables {
        database: names.audit_database.clone(),
        trail: AUDIT_TRAIL_TABLE.to_string(),
        sessions: AUDIT_SESSIONS_TABLE.to_string(),
    };
    let regions = vec![session.region.clone()];
    let sql = query(&QuerySpec {
        tables: &tables,
        account: &session.account,
        regions: &regions,
        filters: &filters,
        principals: &principals,
    })
    .map_err(|e| CliError::new(format!("--engine athena: {e}")))?;
    if args.print_sql {
        println!("{sql}");
        return Ok(None);
    }
    let workgroup = names.audit_workgroup.clone();
    let athena = session.athena();
    // The deployed limit, else the blueprint's (to explain a cancellation).
    let limit = runtime.block_on(athena.bytes_scanned_limit(&workgroup)).ok().flatten().or(Some(limit_configured));
    let quiet = ctx.quiet;
    let mut last_state = "";
    let mut progress = |p: Progress<'_>| {
        if quiet {
            return;
        }
        match p {
            Progress::Started(id) => eprintln!("Athena query {id} started in workgroup {workgroup}"),
            Progress::Polled(state, secs, bytes) => {
                if state != last_state || secs % 30 == 0 {
                    eprintln!("  {state} after {secs} s, {} scanned", bytes_in_words(bytes));
                    last_state = state;
                }
            }
            Progress::Page(n, rows) if n % 50 == 0 => eprintln!("  {rows} result rows read ({n} pages)"),
            Progress::Page(..) => {}
        }
    };
    let outcome = runtime
        .block_on(run_query(&athena, &sql, &names.audit_workgroup, Polling::default(), limit, &mut progress))
        .map_err(|e| CliError::new(e.to_string()))?;
    let mut rebuilt = AthenaAuditor::new(filters, principals);
    rebuilt.rows(outcome.rows)?;
    for n in evidence.notes() {
        rebuilt.auditor.notes.insert(n);
    }
    let decision_sources: Vec<String> =
        evidence.sources().into_iter().filter(|s| s.starts_with("validator decisions")).collect();
    evidence.decisions(&mut |location, file| match file {
        Ok(f) => rebuilt.auditor.read_decisions(location, f),
        Err(e) => rebuilt.auditor.bad_file(Problem::file(location, e)),
    })?;
    let mut sources = vec![format!(
        "Athena: query {} in workgroup {} over {}.{} and {}.{}",
        outcome.query_id, names.audit_workgroup, tables.database, tables.trail, tables.database, tables.sessions
    )];
    sources.extend(decision_sources);
    let report = rebuilt.report(sources)?;
    if !quiet {
        eprintln!(
            "Athena query {} scanned {}; cost: {PRICE_UNKNOWN}",
            outcome.query_id,
            bytes_in_words(outcome.bytes_scanned)
        );
    }
    Ok(Some(report))
}
