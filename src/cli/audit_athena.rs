//! `sandboxc audit --engine athena`: the audit's join as one SQL query in the sandbox's Athena
//! workgroup (`crate::audit::athena_sql`), run with bounded polling (`crate::audit::athena`),
//! its rows rebuilt into the local engine's report (`crate::audit::athena_rows`). The
//! validator's decisions come from a second query over the exported decisions' Glue table
//! (`crate::audit::athena_decisions`) when the blueprint exports them
//! (`audit.athena.export_decisions`, the default) and neither `--decisions` nor `--log-group`
//! is given; else they are read as `--from-aws` reads them (files, or `FilterLogEvents` on the
//! log group). The query IDs, bytes scanned and the cost go to standard error, so that the
//! report on standard output is the local engine's. The cost is priced by the cost engine
//! (`crate::cost::query`) from `--prices DIR` (the `AmazonAthena` offer file, read before the
//! first query starts) or the shipped snapshot, which has no Athena price.

use std::path::Path;

use super::args::AuditArgs;
use super::build::source;
use super::error::CliError;
use super::Context;
use crate::audit::athena::{
    bytes_in_words, grouped, run as run_query, Polling, Progress, QueryError, QueryOutcome, QueryService,
};
use crate::audit::athena_decisions::{decisions_query, read_rows, DECISION_COLUMNS};
use crate::audit::athena_rows::AthenaAuditor;
use crate::audit::athena_sql::{query, QuerySpec, Tables, COLUMNS};
use crate::audit::{Evidence, Filters, Problem, Report};
use crate::aws::evidence::{Buckets, S3Evidence};
use crate::blueprint::names::{AUDIT_DECISIONS_TABLE, AUDIT_SESSIONS_TABLE, AUDIT_TRAIL_TABLE};
use crate::cost::query::{tb_text, ScanPrice};
use crate::cost::Meter;

/// What gives the price when the shipped snapshot is read (it has no Athena price).
pub const PRICE_FROM_OFFER_FILE: &str = "pass --prices DIR with the AmazonAthena offer file (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonAthena/current/index.json saved as DIR/AmazonAthena.json) to get it";

/// The fallback when no offer prices the query: the pricing page.
pub const PRICE_BY_HAND: &str =
    "multiply the bytes above by the Region's price per TB on https://aws.amazon.com/athena/pricing/";

/// The price per TB scanned of the query in `region`, from `--prices DIR` (else the snapshot):
/// `Ok(Err(why))` when the offers have none (the snapshot never has), `why` saying what gives
/// it.
///
/// # Errors
/// [`CliError`] when `prices` is not a directory, or its AmazonAthena offer file is missing or
/// malformed (naming the file): the query must not start then.
pub fn scan_price(prices: Option<&Path>, region: &str) -> Result<Result<ScanPrice, String>, CliError> {
    let book = super::cost::priced(prices, Some(region), &[Meter::AthenaDataScanned])?;
    Ok(ScanPrice::find(&book).map_err(|why| match prices {
        None => format!("{why}; {PRICE_FROM_OFFER_FILE}, or {PRICE_BY_HAND}"),
        Some(_) => format!("{why}; {PRICE_BY_HAND}"),
    }))
}

/// The line printed after the query: `Athena query <id> scanned <bytes>; cost: <USD> USD
/// (<bytes> = <TB> TB x <price> USD per TB, offer AmazonAthena SKU <sku>, version <v>
/// published <date>)`, TB of 2^40 bytes (`crate::cost::query::BYTES_PER_TB`), USD rounded to a
/// millionth; or the reason the price is unknown.
#[must_use]
pub fn cost_line(query_id: &str, bytes: u64, price: &Result<ScanPrice, String>) -> String {
    let cost = match price {
        Ok(p) => {
            let c = p.cost(bytes);
            format!(
                "{:.6} USD ({} bytes = {} TB x {} USD per TB, offer {} SKU {}, version {} published {})",
                c.usd,
                grouped(bytes),
                tb_text(c.terabytes),
                p.price.usd,
                p.offer.offer_code,
                p.price.sku,
                p.offer.version,
                p.offer.publication_date
            )
        }
        Err(why) => format!("price unknown: {why}"),
    };
    format!("Athena query {query_id} scanned {}; cost: {cost}", bytes_in_words(bytes))
}

/// The line printed after the two queries' [`cost_line`]s: `Athena: 2 queries (<id>, <id>)
/// scanned <bytes> in total; cost: <USD> USD in total` (the sum of the two lines' costs), or
/// `price unknown` (the reason is on the lines above).
#[must_use]
pub fn total_line(queries: &[(&str, u64)], price: &Result<ScanPrice, String>) -> String {
    let bytes: u64 = queries.iter().map(|(_, b)| b).sum();
    let ids: Vec<&str> = queries.iter().map(|(id, _)| *id).collect();
    let cost = match price {
        Ok(p) => format!("{:.6} USD in total", queries.iter().map(|(_, b)| p.cost(*b).usd).sum::<f64>()),
        Err(_) => "price unknown (see above)".to_string(),
    };
    format!(
        "Athena: {} queries ({}) scanned {} in total; cost: {cost}",
        queries.len(),
        ids.join(", "),
        bytes_in_words(bytes)
    )
}

/// Which of the engine's queries a progress report or an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The audit's join (`crate::audit::athena_sql`).
    Audit,
    /// The validator's decisions (`crate::audit::athena_decisions`).
    Decisions,
}

/// What the engine's queries gave: the audit's, and the decisions query's when it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcomes {
    /// The audit query's outcome.
    pub audit: QueryOutcome,
    /// The decisions query's outcome, when it ran.
    pub decisions: Option<QueryOutcome>,
}

/// Runs the audit query `sql`, then the decisions query `decisions_sql` when given, one after
/// the other in `workgroup` with the same polling, each result checked against its columns
/// ([`COLUMNS`], [`DECISION_COLUMNS`]); `progress` is told which query it hears of.
///
/// # Errors
/// [`CliError`] with the [`QueryError`] (naming the query ID once there is one); for the
/// decisions query, saying so and that `--log-group` reads the log group instead.
pub async fn run_queries<S: QueryService>(
    service: &S,
    sql: &str,
    decisions_sql: Option<&str>,
    workgroup: &str,
    polling: Polling,
    limit: Option<u64>,
    progress: &mut (dyn FnMut(Which, Progress<'_>) + Send),
) -> Result<Outcomes, CliError> {
    let audit = run_query(service, sql, &COLUMNS, workgroup, polling, limit, &mut |p| progress(Which::Audit, p))
        .await
        .map_err(|e| CliError::new(e.to_string()))?;
    let decisions = match decisions_sql {
        None => None,
        Some(q) => Some(
            run_query(service, q, &DECISION_COLUMNS, workgroup, polling, limit, &mut |p| progress(Which::Decisions, p))
                .await
                .map_err(|e: QueryError| {
                    CliError::new(format!(
                        "the validator decisions query: {e} (it reads the Glue table {AUDIT_DECISIONS_TABLE} of the exported decisions, audit.athena.export_decisions: is the export deployed (sandboxc apply)? To read the decisions from the validator's log group instead, pass --log-group NAME)"
                    ))
                })?,
        ),
    };
    Ok(Outcomes { audit, decisions })
}

/// What `--print-sql` prints: the audit query alone, or both queries each after a `--` comment
/// line saying which it is.
#[must_use]
pub fn printed_sql(sql: &str, decisions: Option<(&str, &str)>) -> String {
    match decisions {
        None => format!("{sql}\n"),
        Some((table, dsql)) => format!(
            "-- sandboxc audit --engine athena: query 1 of 2, the audit's join (sessions and S3 data events)\n{sql}\n-- sandboxc audit --engine athena: query 2 of 2, the validator's decisions from {table}\n{dsql}\n"
        ),
    }
}

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
    super::cost::check_prices_dir(args.prices.as_deref())?;
    let mut principals = super::audit::principals(args, Some(&blueprint))?;
    let names = blueprint.names.clone();
    let stack = principals.environment.clone().unwrap_or_else(|| blueprint.name.clone());
    let settings = ctx.aws(&args.aws, blueprint.region.as_deref())?;
    // The decisions: a query over the exported table, unless files or log groups are named or
    // the blueprint does not export them.
    let export = blueprint.audit.athena.as_ref().is_some_and(|a| a.export_decisions)
        && args.decisions.is_empty()
        && args.log_group.is_empty();
    let given = Buckets {
        stack: stack.clone(),
        usage: None,
        trail: None,
        decisions: args.decisions.clone(),
        log_groups: args.log_group.clone(),
        endpoint_wanted: args.vpc_endpoint.is_empty(),
        reader: "--engine athena",
    };
    let runtime = ctx.runtime()?;
    let (session, price, mut evidence, cfn) = runtime.block_on(async {
        let session =
            crate::aws::connect(&settings).await.map_err(|e| CliError::new(format!("--engine athena: {e}")))?;
        super::args::check_account(blueprint.account.as_deref(), &session.account)?;
        // The price first, in the Region of the Athena client: an offer file that cannot be
        // read stops the command before a paid query runs.
        let price = if args.print_sql { None } else { Some(scan_price(args.prices.as_deref(), &session.region)?) };
        let cfn = session.cloudformation();
        // No CloudWatch Logs client when the decisions come from the query: no log group is
        // looked for or read.
        let logs = if export { None } else { Some(session.logs()) };
        let evidence = S3Evidence::open(&cfn, session.s3(), logs, &runtime, given, &mut filters).await?;
        Ok::<_, CliError>((session, price, evidence, cfn))
    })?;
    super::audit::from_stack(&mut principals, evidence.s3_endpoint.clone(), &cfn, &runtime, Some(&blueprint), ctx);
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
    let decisions_table = format!("{}.{AUDIT_DECISIONS_TABLE}", tables.database);
    let decisions_sql = if export {
        Some(
            decisions_query(&tables.database, AUDIT_DECISIONS_TABLE, &filters, &session.account, &stack)
                .map_err(|e| CliError::new(format!("--engine athena: {e}")))?,
        )
    } else {
        None
    };
    if args.print_sql {
        print!("{}", printed_sql(&sql, decisions_sql.as_deref().map(|d| (decisions_table.as_str(), d))));
        return Ok(None);
    }
    let workgroup = names.audit_workgroup.clone();
    let athena = session.athena();
    // The deployed limit, else the blueprint's (to explain a cancellation).
    let limit = runtime.block_on(athena.bytes_scanned_limit(&workgroup)).ok().flatten().or(Some(limit_configured));
    let quiet = ctx.quiet;
    let mut last_state = "";
    let mut progress = |which: Which, p: Progress<'_>| {
        if quiet {
            return;
        }
        let what = match which {
            Which::Audit => "",
            Which::Decisions => " (validator decisions)",
        };
        match p {
            Progress::Started(id) => eprintln!("Athena query {id}{what} started in workgroup {workgroup}"),
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
    let outcomes = runtime.block_on(run_queries(
        &athena,
        &sql,
        decisions_sql.as_deref(),
        &names.audit_workgroup,
        Polling::default(),
        limit,
        &mut progress,
    ))?;
    // The queries ran and are billed: their cost is said before their rows are read (a
    // result that is refused is paid for too).
    let mut costs = vec![(outcomes.audit.query_id.clone(), outcomes.audit.bytes_scanned)];
    costs.extend(outcomes.decisions.iter().map(|d| (d.query_id.clone(), d.bytes_scanned)));
    if !quiet {
        let price = price.unwrap_or_else(|| Err("not read".into()));
        for (id, bytes) in &costs {
            eprintln!("{}", cost_line(id, *bytes, &price));
        }
        if costs.len() > 1 {
            let queries: Vec<(&str, u64)> = costs.iter().map(|(id, b)| (id.as_str(), *b)).collect();
            eprintln!("{}", total_line(&queries, &price));
        }
    }
    let mut rebuilt = AthenaAuditor::new(filters, principals);
    rebuilt.rows(outcomes.audit.rows)?;
    for n in evidence.notes() {
        rebuilt.auditor.notes.insert(n);
    }
    let mut sources = vec![format!(
        "Athena: query {} in workgroup {} over {}.{} and {}.{}",
        outcomes.audit.query_id, names.audit_workgroup, tables.database, tables.trail, tables.database, tables.sessions
    )];
    match &outcomes.decisions {
        Some(d) => {
            read_rows(&mut rebuilt.auditor, &d.query_id, &d.rows, &session.account, &stack)?;
            sources.push(format!(
                "validator decisions: Athena query {} in workgroup {} over {decisions_table}",
                d.query_id, names.audit_workgroup
            ));
        }
        None => {
            sources.extend(evidence.sources().into_iter().filter(|s| s.starts_with("validator decisions")));
            evidence.decisions(&mut |location, file| match file {
                Ok(f) => rebuilt.auditor.read_decisions(location, f),
                Err(e) => rebuilt.auditor.bad_file(Problem::file(location, e)),
            })?;
        }
    }
    let report = rebuilt.report(sources)?;
    Ok(Some(report))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::PathBuf;

    use super::*;

    /// The offer-file fixtures of the cost tests (TEST VALUES, not AWS prices): AmazonAthena's
    /// SKU FIXTUREATHENASQL costs 2.0000000000 USD per Terabytes in us-east-1.
    fn fixtures() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/offers")
    }

    fn line(prices: Option<&Path>, region: &str, bytes: u64) -> String {
        let price = scan_price(prices, region).unwrap();
        cost_line("q-1", bytes, &price)
    }

    /// With the offer file: the exact line, its arithmetic (50 MiB = 0.000047683716 TB of 2^40
    /// bytes, x 2 USD = 0.000095367... rounded to 0.000095), the SKU and the offer's version.
    #[test]
    fn the_cost_line_from_an_offer_file() {
        let dir = fixtures();
        assert_eq!(
            line(Some(&dir), "us-east-1", 52_428_800),
            "Athena query q-1 scanned 52,428,800 bytes (50.0 MiB); cost: 0.000095 USD (52,428,800 bytes = 0.000047683716 TB x 2.0000000000 USD per TB, offer AmazonAthena SKU FIXTUREATHENASQL, version FIXTURE1 published 2026-12-05T00:00:00Z)"
        );
        // Another Region's product is its own price.
        assert!(line(Some(&dir), "eu-west-1", 1 << 40).contains(
            "cost: 9.000000 USD (1,099,511,627,776 bytes = 1 TB x 9.0000000000 USD per TB, offer AmazonAthena SKU FIXTUREATHENAEU1"
        ));
        // A Region the offer does not price: unknown, with the reason, never another Region's.
        assert_eq!(
            line(Some(&dir), "eu-north-1", 1 << 40),
            "Athena query q-1 scanned 1,099,511,627,776 bytes (1048576.0 MiB); cost: price unknown: not in the offer files (AmazonAthena: no on-demand product in eu-north-1 with usagetype ends with DataScannedInTB); multiply the bytes above by the Region's price per TB on https://aws.amazon.com/athena/pricing/"
        );
    }

    /// The scripted Athena flow (start, SUCCEEDED with `Statistics.DataScannedInBytes`
    /// 52,428,800, one results page), priced from the fixture offer file: the line `run` prints.
    #[test]
    fn the_scripted_query_is_priced() {
        use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
        use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
        use aws_sdk_athena::types::{Datum, QueryExecutionState, ResultSet, Row};
        use aws_smithy_mocks::mock;

        let start = mock!(aws_sdk_athena::Client::start_query_execution)
            .then_output(|| StartQueryExecutionOutput::builder().query_execution_id("q-7").build());
        let done = crate::aws::athena::Athena::state_rule("q-7", QueryExecutionState::Succeeded, None, 52_428_800);
        let header = Row::builder()
            .set_data(Some(
                crate::audit::athena_sql::COLUMNS.iter().map(|c| Datum::builder().var_char_value(*c).build()).collect(),
            ))
            .build();
        let page = mock!(aws_sdk_athena::Client::get_query_results).then_output(move || {
            GetQueryResultsOutput::builder().result_set(ResultSet::builder().rows(header.clone()).build()).build()
        });
        let athena = crate::aws::athena::Athena::scripted(&[&start, &done, &page]);
        // The price is read first, as `run` does.
        let price = scan_price(Some(&fixtures()), "us-east-1").unwrap();
        let polling = Polling { interval: std::time::Duration::from_millis(1), max_polls: 3, max_pages: 3 };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let outcome = runtime
            .block_on(run_query(&athena, "SELECT 1", &COLUMNS, "sandboxc-e-audit", polling, None, &mut |_| {}))
            .unwrap();
        assert_eq!(
            cost_line(&outcome.query_id, outcome.bytes_scanned, &price),
            "Athena query q-7 scanned 52,428,800 bytes (50.0 MiB); cost: 0.000095 USD (52,428,800 bytes = 0.000047683716 TB x 2.0000000000 USD per TB, offer AmazonAthena SKU FIXTUREATHENASQL, version FIXTURE1 published 2026-12-05T00:00:00Z)"
        );
        assert!([&start, &done, &page].iter().all(|r| r.num_calls() == 1));
    }

    /// Scripted Athena answers for the two queries: `StartQueryExecution` of `sql` gives `id`,
    /// then the states, then the pages (`rows` per page, the header row first on the first).
    mod two_queries {
        use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
        use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
        use aws_sdk_athena::types::{Datum, QueryExecutionState, ResultSet, Row};
        use aws_smithy_mocks::{mock, Rule};

        use super::super::*;

        pub(super) fn start(sql_has: &'static str, id: &'static str) -> Rule {
            mock!(aws_sdk_athena::Client::start_query_execution)
                .match_requests(move |r| {
                    r.work_group() == Some("sandboxc-e-audit") && r.query_string().is_some_and(|q| q.contains(sql_has))
                })
                .then_output(move || StartQueryExecutionOutput::builder().query_execution_id(id).build())
        }

        pub(super) fn state(
            id: &'static str,
            s: QueryExecutionState,
            reason: Option<&'static str>,
            bytes: i64,
        ) -> Rule {
            crate::aws::athena::Athena::state_rule(id, s, reason, bytes)
        }

        pub(super) fn row(cells: &[&str]) -> Row {
            Row::builder()
                .set_data(Some(cells.iter().map(|c| Datum::builder().var_char_value(*c).build()).collect()))
                .build()
        }

        pub(super) fn page(
            id: &'static str,
            token_in: Option<&'static str>,
            rows: Vec<Row>,
            next: Option<&'static str>,
        ) -> Rule {
            mock!(aws_sdk_athena::Client::get_query_results)
                .match_requests(move |r| r.query_execution_id() == Some(id) && r.next_token() == token_in)
                .then_output(move || {
                    GetQueryResultsOutput::builder()
                        .result_set(ResultSet::builder().set_rows(Some(rows.clone())).build())
                        .set_next_token(next.map(String::from))
                        .build()
                })
        }

        /// Runs the audit query and, with `decisions`, the decisions query against `rules`.
        pub(super) fn run_both(rules: &[Rule], decisions: bool) -> Result<Outcomes, CliError> {
            let athena = crate::aws::athena::Athena::scripted(&rules.iter().collect::<Vec<_>>());
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(run_queries(
                &athena,
                "SELECT * FROM \"cloudtrail\"",
                decisions.then_some("SELECT * FROM \"validator_decisions\""),
                "sandboxc-e-audit",
                fast(),
                None,
                &mut |_, _| {},
            ))
        }

        pub(super) fn header(columns: &[&str]) -> Row {
            row(columns)
        }

        pub(super) fn fast() -> Polling {
            Polling { interval: std::time::Duration::from_millis(1), max_polls: 5, max_pages: 10 }
        }
    }

    /// The engine's two queries against scripted Athena answers: the audit query, then the
    /// decisions query (RUNNING, then SUCCEEDED; three result pages), each checked against its
    /// columns; the decisions rows are read as log events; progress names the query.
    #[test]
    fn both_queries_run_and_the_decisions_rows_are_read() {
        use aws_sdk_athena::types::QueryExecutionState::{Running, Succeeded};
        use two_queries::{fast, header, page, row, start, state};
        let decision = r#"{"outcome":"issued","reason":"session_active","user_hash":"ab","session_id":"s1"}"#;
        let g = "/sandboxc/e/0a1b2c3d/lambda/validator";
        const ACCOUNT: &str = "123456789012";
        let rules = [
            start("\"cloudtrail\"", "q-audit"),
            state("q-audit", Succeeded, None, 52_428_800),
            page("q-audit", None, vec![header(&COLUMNS)], None),
            start("\"validator_decisions\"", "q-dec"),
            state("q-dec", Running, None, 0),
            state("q-dec", Succeeded, None, 1_048_576),
            page(
                "q-dec",
                None,
                vec![header(&DECISION_COLUMNS), row(&["event", "1795852860000", decision, g, "1", ACCOUNT, ""])],
                Some("p2"),
            ),
            page(
                "q-dec",
                Some("p2"),
                vec![row(&[
                    "event",
                    "1795852860001",
                    "START RequestId: r1 Version: $LATEST
",
                    g,
                    "2",
                    ACCOUNT,
                    "",
                ])],
                Some("p3"),
            ),
            page(
                "q-dec",
                Some("p3"),
                vec![row(&["event", "1795852860002", r#"{"outcome":"maybe"}"#, g, "3", ACCOUNT, ""])],
                None,
            ),
        ];
        let athena = crate::aws::athena::Athena::scripted(&rules.iter().collect::<Vec<_>>());
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let mut seen = Vec::new();
        let outcomes = runtime
            .block_on(run_queries(
                &athena,
                "SELECT * FROM \"db\".\"cloudtrail\"",
                Some("SELECT * FROM \"db\".\"validator_decisions\""),
                "sandboxc-e-audit",
                fast(),
                None,
                &mut |which, p| {
                    if let Progress::Started(id) = p {
                        seen.push(format!("{which:?} {id}"));
                    }
                },
            ))
            .unwrap();
        assert_eq!(seen, vec!["Audit q-audit", "Decisions q-dec"]);
        assert!(outcomes.audit.rows.is_empty());
        let d = outcomes.decisions.unwrap();
        assert_eq!((d.query_id.as_str(), d.bytes_scanned, d.rows.len()), ("q-dec", 1_048_576, 3));
        assert!(rules.iter().all(|r| r.num_calls() == 1), "every answer used once");
        let mut aud = crate::audit::Auditor::new(Filters::default());
        assert_eq!(read_rows(&mut aud, &d.query_id, &d.rows, ACCOUNT, "e").unwrap(), vec![g.to_string()]);
        assert_eq!(aud.decisions.len(), 1);
        assert_eq!(aud.decisions[0].origin, format!("athena:q-dec:{g}:1"));
        assert_eq!((aud.counts.decision_files, aud.counts.other_log_lines, aud.counts.malformed), (1, 1, 1));
        assert_eq!(aud.problems[0].location, format!("athena:q-dec:{g}:3"));
        // The cost of each, and the total that says there were two.
        let price = scan_price(Some(&fixtures()), "us-east-1").unwrap();
        assert_eq!(
            total_line(&[("q-audit", 52_428_800), ("q-dec", 1_048_576)], &price),
            "Athena: 2 queries (q-audit, q-dec) scanned 53,477,376 bytes (51.0 MiB) in total; cost: 0.000097 USD in total"
        );
        assert_eq!(
            total_line(&[("q-audit", 1), ("q-dec", 2)], &Err("x".into())),
            "Athena: 2 queries (q-audit, q-dec) scanned 3 bytes (0.0 MiB) in total; cost: price unknown (see above)"
        );
    }

    /// A failed decisions query is an error naming its query ID, saying which query it was and
    /// how to read the log group instead; without a decisions query only the audit query runs.
    #[test]
    fn a_failed_decisions_query_names_its_id() {
        use aws_sdk_athena::types::QueryExecutionState::{Failed, Succeeded};
        use two_queries::{header, page, run_both, start, state};
        let rules = [
            start("\"cloudtrail\"", "q-audit"),
            state("q-audit", Succeeded, None, 10),
            page("q-audit", None, vec![header(&COLUMNS)], None),
            start("\"validator_decisions\"", "q-dec"),
            state("q-dec", Failed, Some("HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split"), 0),
        ];
        let err = run_both(&rules, true).unwrap_err().to_string();
        assert!(
            err.starts_with("the validator decisions query: Athena query q-dec FAILED: HIVE_CANNOT_OPEN_SPLIT")
                && err.contains("--log-group"),
            "{err}"
        );
        // A decisions result of the audit query's shape is refused, naming the query.
        let rules = [
            start("\"cloudtrail\"", "q-audit"),
            state("q-audit", Succeeded, None, 10),
            page("q-audit", None, vec![header(&COLUMNS)], None),
            start("\"validator_decisions\"", "q-dec"),
            state("q-dec", Succeeded, None, 0),
            page("q-dec", None, vec![header(&COLUMNS)], None),
        ];
        let err = run_both(&rules, true).unwrap_err().to_string();
        assert!(err.contains("Athena query q-dec: the result columns are"), "{err}");
        // No decisions query: one start only.
        let rules = [
            start("\"cloudtrail\"", "q-audit"),
            state("q-audit", Succeeded, None, 10),
            page("q-audit", None, vec![header(&COLUMNS)], None),
            start("", "q-never"),
        ];
        let outcomes = run_both(&rules, false).unwrap();
        assert!(outcomes.decisions.is_none());
        assert_eq!(rules[3].num_calls(), 0, "no second StartQueryExecution");
    }

    /// `--print-sql`: the audit query alone as before, or both, each after a comment naming it.
    #[test]
    fn print_sql_separates_the_two_queries() {
        assert_eq!(printed_sql("SELECT 1\n", None), "SELECT 1\n\n");
        let both = printed_sql("SELECT 1\n", Some(("db.validator_decisions", "SELECT 2\n")));
        assert_eq!(
            both,
            "-- sandboxc audit --engine athena: query 1 of 2, the audit's join (sessions and S3 data events)\nSELECT 1\n\n-- sandboxc audit --engine athena: query 2 of 2, the validator's decisions from db.validator_decisions\nSELECT 2\n\n"
        );
    }

    /// The unit conversion, exactly: 2^40 bytes are 1 TB; 10^12 bytes are 0.909494701773 TB.
    #[test]
    fn the_cost_line_converts_bytes_to_tb_of_2_to_the_40() {
        let dir = fixtures();
        assert!(line(Some(&dir), "us-east-1", 1_099_511_627_776)
            .ends_with("cost: 2.000000 USD (1,099,511,627,776 bytes = 1 TB x 2.0000000000 USD per TB, offer AmazonAthena SKU FIXTUREATHENASQL, version FIXTURE1 published 2026-12-05T00:00:00Z)"));
        assert!(line(Some(&dir), "us-east-1", 1_000_000_000_000)
            .contains("cost: 1.818989 USD (1,000,000,000,000 bytes = 0.909494701773 TB x 2.0000000000 USD per TB"));
        assert!(line(Some(&dir), "us-east-1", 0).contains("cost: 0.000000 USD (0 bytes = 0 TB x"));
    }

    /// The shipped snapshot has no Athena price: unknown, saying what gives it.
    #[test]
    fn the_snapshot_has_no_athena_price() {
        assert_eq!(
            line(None, "us-east-1", 52_428_800),
            "Athena query q-1 scanned 52,428,800 bytes (50.0 MiB); cost: price unknown: not in the price snapshot (AmazonAthena: no on-demand product in us-east-1 with usagetype ends with DataScannedInTB); pass --prices DIR with the AmazonAthena offer file (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonAthena/current/index.json saved as DIR/AmazonAthena.json) to get it, or multiply the bytes above by the Region's price per TB on https://aws.amazon.com/athena/pricing/"
        );
    }

    /// A missing or malformed AmazonAthena file, or one of another offer, is an error naming
    /// the file (the command stops before the query).
    #[test]
    fn unreadable_offer_files_are_errors_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let err = scan_price(Some(tmp.path()), "us-east-1").unwrap_err().to_string();
        let expected = tmp.path().join("AmazonAthena.json").display().to_string();
        assert!(err.starts_with("cannot read the prices: no AmazonAthena offer file: looked for "), "{err}");
        assert!(err.contains(&expected) && err.contains("AmazonAthena/current/index.json"), "{err}");
        std::fs::write(tmp.path().join("AmazonAthena.json"), "{\"formatVersion\": \"v1.0\", \"offerCode\": ").unwrap();
        let err = scan_price(Some(tmp.path()), "us-east-1").unwrap_err().to_string();
        assert!(err.contains(&format!("{expected} is not an AWS Price List offer file")), "{err}");
        std::fs::copy(fixtures().join("awskms.json"), tmp.path().join("AmazonAthena.json")).unwrap();
        let err = scan_price(Some(tmp.path()), "us-east-1").unwrap_err().to_string();
        assert!(err.contains(&format!("{expected} holds the offer awskms, not AmazonAthena")), "{err}");
        let file = tmp.path().join("AmazonAthena.json");
        let err = scan_price(Some(&file), "us-east-1").unwrap_err().to_string();
        assert!(err.contains("not a directory"), "{err}");
    }
}
