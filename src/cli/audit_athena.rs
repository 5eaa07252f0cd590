//! `sandboxc audit --engine athena`: the audit's join as one SQL query in the sandbox's Athena
//! workgroup (`crate::audit::athena_sql`), run with bounded polling (`crate::audit::athena`),
//! its rows rebuilt into the local engine's report (`crate::audit::athena_rows`), the
//! validator's decisions read as `--from-aws` reads them. The query ID, bytes scanned and the
//! cost go to standard error, so that the report on standard output is the local engine's.
//! The cost is priced by the cost engine (`crate::cost::query`) from `--prices DIR` (the
//! `AmazonAthena` offer file, read before the query starts) or the shipped snapshot, which has
//! no Athena price.

use std::path::Path;

use super::args::AuditArgs;
use super::build::source;
use super::error::CliError;
use super::Context;
use crate::audit::athena::{bytes_in_words, grouped, run as run_query, Polling, Progress};
use crate::audit::athena_rows::AthenaAuditor;
use crate::audit::athena_sql::{query, QuerySpec, Tables};
use crate::audit::{Evidence, Filters, Problem, Report};
use crate::aws::evidence::{Buckets, S3Evidence};
use crate::blueprint::names::{AUDIT_SESSIONS_TABLE, AUDIT_TRAIL_TABLE};
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
    let given = Buckets {
        stack,
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
        let evidence =
            S3Evidence::open(&cfn, session.s3(), Some(session.logs()), &runtime, given, &mut filters).await?;
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
        let price = price.unwrap_or_else(|| Err("not read".into()));
        eprintln!("{}", cost_line(&outcome.query_id, outcome.bytes_scanned, &price));
    }
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
        use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionOutput;
        use aws_sdk_athena::operation::get_query_results::GetQueryResultsOutput;
        use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionOutput;
        use aws_sdk_athena::types::{
            Datum, QueryExecution, QueryExecutionState, QueryExecutionStatistics, QueryExecutionStatus, ResultSet, Row,
        };
        use aws_smithy_mocks::mock;

        let start = mock!(aws_sdk_athena::Client::start_query_execution)
            .then_output(|| StartQueryExecutionOutput::builder().query_execution_id("q-7").build());
        let done = mock!(aws_sdk_athena::Client::get_query_execution).then_output(|| {
            GetQueryExecutionOutput::builder()
                .query_execution(
                    QueryExecution::builder()
                        .query_execution_id("q-7")
                        .status(QueryExecutionStatus::builder().state(QueryExecutionState::Succeeded).build())
                        .statistics(QueryExecutionStatistics::builder().data_scanned_in_bytes(52_428_800).build())
                        .build(),
                )
                .build()
        });
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
        let outcome =
            runtime.block_on(run_query(&athena, "SELECT 1", "sandboxc-e-audit", polling, None, &mut |_| {})).unwrap();
        assert_eq!(
            cost_line(&outcome.query_id, outcome.bytes_scanned, &price),
            "Athena query q-7 scanned 52,428,800 bytes (50.0 MiB); cost: 0.000095 USD (52,428,800 bytes = 0.000047683716 TB x 2.0000000000 USD per TB, offer AmazonAthena SKU FIXTUREATHENASQL, version FIXTURE1 published 2026-12-05T00:00:00Z)"
        );
        assert!([&start, &done, &page].iter().all(|r| r.num_calls() == 1));
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
