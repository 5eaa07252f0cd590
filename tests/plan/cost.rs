//! The cost engine: golden estimates from the offer-file fixtures (tests/fixtures/offers, TEST
//! VALUES, not AWS prices) for the default blueprint, the ALWAYS_ON example and a 1,000-user
//! blueprint; the plan's cost section where an instance type changes; and what the engine
//! does when a price is not there (unknown, never guessed).

use crate::common;

use std::path::PathBuf;

use sandboxc::blueprint::Source;
use sandboxc::cli::args::CostOptions;
use sandboxc::cost::{self, Assumptions, Meter, PriceBook};
use sandboxc::plan::render::{json, markdown, text};
use sandboxc::plan::TemplateSet;

fn fixtures() -> PathBuf {
    common::root().join("tests/fixtures/offers")
}

fn example(name: &str) -> Source {
    let path = common::root().join("examples").join(format!("{name}.yaml"));
    Source { name: format!("examples/{name}.yaml"), text: std::fs::read_to_string(path).unwrap() }
}

/// The default blueprint with `users:` replaced by `n` generated users.
fn many_users(n: usize) -> Source {
    let text = Source::embedded().text;
    let start = text.find("\nusers:\n").unwrap();
    let rest = &text[start + 1..];
    let end = rest.find("\n\n").map_or(text.len(), |e| start + 1 + e);
    let mut users = String::from("\nusers:\n");
    for i in 0..n {
        users.push_str(&format!("  - {{id: user{i:04}@example.org, datasets: {{genomics: read}}}}\n"));
    }
    Source { name: "thousand.yaml".into(), text: format!("{}{}{}", &text[..start], users, &text[end..]) }
}

/// The estimate of a compiled source (every template, labelled by file), priced in us-east-1
/// from the fixtures. Compiled without the output stage, so that a blueprint beyond one
/// template's limits is still priced.
fn estimate(source: &Source, a: &Assumptions) -> cost::Estimate {
    let compiled = common::compile(source);
    let templates: Vec<(&str, &sandboxc::cfn::Template)> =
        compiled.templates.iter().map(|t| (t.file.as_str(), &t.template)).collect();
    let mut book = PriceBook::dir(&fixtures(), Some("us-east-1"));
    let meters = cost::meters(templates.iter().copied(), a);
    book.load(&meters).unwrap();
    let mut e = cost::estimate(templates, a, &book);
    // The fixture directory's absolute path differs between machines.
    e.prices = "offer files in tests/fixtures/offers".into();
    for o in &mut e.offers {
        o.source = o.source.replace(&format!("{}/", common::root().display()), "");
    }
    e
}

fn snap(name: &str, e: &cost::Estimate, stack: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}.txt"), cost::render::table(stack, e));
        insta::assert_snapshot!(format!("{name}.md"), cost::render::markdown(stack, e));
        insta::assert_snapshot!(format!("{name}.json"), cost::render::json(stack, e));
    });
}

fn line<'a>(e: &'a cost::Estimate, meter: &Meter) -> &'a cost::Line {
    e.lines.iter().find(|l| &l.usage.meter == meter).unwrap_or_else(|| panic!("no line {meter:?}"))
}

#[test]
fn cost_golden_of_the_default_blueprint() {
    let e = estimate(&Source::embedded(), &Assumptions::default());
    snap("cost_default", &e, "datasandbox");
    // ON_DEMAND: 2 instances stream 176 h at 0.10 and stand stopped 554 h at 0.02.
    let running = line(&e, &Meter::AppStreamRunning { instance_type: "stream.standard.small".into() });
    assert_eq!(running.usage.quantity, 352.0);
    assert_eq!(running.price.as_ref().unwrap().sku, "FIXTUREASSTREAM.STANDARD.SMALL");
    assert!((running.monthly_usd.unwrap() - 35.2).abs() < 1e-9);
    let stopped = line(&e, &Meter::AppStreamStopped);
    assert_eq!(stopped.usage.quantity, 1108.0);
    // Two users' notebooks, of two types, with the default idle stop (1h): 176 h of use plus 22
    // idle hours before the stops (one per 8 h of use); all month without idle stop.
    let t3 = line(&e, &Meter::NotebookHours { instance_type: "ml.t3.medium".into() });
    assert_eq!(t3.usage.quantity, 198.0);
    assert!(
        t3.usage.basis[0].contains("176 h of use (--notebook-active-hours) + 22 idle stops of 1 h"),
        "{:?}",
        t3.usage.basis
    );
    let off =
        Source { name: "off.yaml".into(), text: Source::embedded().text.replacen("idle_stop: 1h", "idle_stop: 0", 1) };
    let e_off = estimate(&off, &Assumptions::default());
    let t3 = line(&e_off, &Meter::NotebookHours { instance_type: "ml.t3.medium".into() });
    assert_eq!(t3.usage.quantity, 730.0);
    // Interface endpoints: each of 2 AZs, all month; the gateway endpoint is free.
    let endpoints = line(&e, &Meter::InterfaceEndpointHours);
    assert_eq!(endpoints.usage.quantity % 1460.0, 0.0);
    assert!(endpoints.usage.resources.iter().all(|r| !r.ends_with("/S3Endpoint")));
    // S3: the first tier, not the second.
    assert_eq!(line(&e, &Meter::S3Standard).price.as_ref().unwrap().usd, "0.0300000000");
    assert_eq!(e.unknown_lines, 0);
}

#[test]
fn cost_golden_of_the_always_on_example() {
    let e = estimate(&example("always-on-4az"), &Assumptions::default());
    snap("cost_always_on", &e, "genomics");
    // ALWAYS_ON: 6 instances all month, whatever --appstream-hours says; no stopped line.
    let running = line(&e, &Meter::AppStreamRunning { instance_type: "stream.memory.large".into() });
    assert_eq!(running.usage.quantity, 6.0 * 730.0);
    assert!((running.monthly_usd.unwrap() - 2190.0).abs() < 1e-9);
    assert!(e.lines.iter().all(|l| l.usage.meter != Meter::AppStreamStopped));
    let fewer = estimate(&example("always-on-4az"), &Assumptions { appstream_hours: 10.0, ..Assumptions::default() });
    assert_eq!(
        line(&fewer, &Meter::AppStreamRunning { instance_type: "stream.memory.large".into() }).usage.quantity,
        6.0 * 730.0
    );
    // Four AZs per interface endpoint.
    assert_eq!(line(&e, &Meter::InterfaceEndpointHours).usage.quantity % (4.0 * 730.0), 0.0);
}

#[test]
fn cost_golden_of_a_thousand_users() {
    let source = many_users(1000);
    let e = estimate(&source, &Assumptions::default());
    snap("cost_thousand_users", &e, "datasandbox");
    let nb = line(&e, &Meter::NotebookHours { instance_type: "ml.t3.medium".into() });
    assert_eq!(nb.usage.resources.len(), 1000);
    // 1,000 ml.t3.medium notebooks with the default idle stop (1h): 176 h of use plus 22 idle
    // hours each, at the fixture's 0.05 USD an hour (all month, they would cost 36,500 USD).
    assert!((nb.monthly_usd.unwrap() - 9_900.0).abs() < 1e-6);
    // With fewer hours of use, the line scales.
    let idle = estimate(&source, &Assumptions { notebook_active_hours: 80.0, ..Assumptions::default() });
    let nb = line(&idle, &Meter::NotebookHours { instance_type: "ml.t3.medium".into() });
    assert!((nb.monthly_usd.unwrap() - 4_500.0).abs() < 1e-6);
}

fn set(text: &str) -> TemplateSet {
    let compiled = common::compile(&Source { name: "test.yaml".into(), text: text.into() });
    TemplateSet::from_compiled(&compiled).unwrap()
}

#[test]
fn plan_golden_shows_the_monthly_delta_of_an_instance_type_change() {
    let old_text = Source::embedded().text;
    let new_text =
        old_text.replacen("instance_type: stream.standard.small", "instance_type: stream.standard.medium", 1);
    assert_ne!(old_text, new_text);
    let (old, new) = (set(&old_text), set(&new_text));
    let mut plan = sandboxc::plan::plan(&old, &new, "the default blueprint");
    let options = CostOptions { prices: Some(fixtures()), ..CostOptions::default() };
    let mut change = sandboxc::cli::cost::change(&old, &new, Some("us-east-1"), &options).unwrap();
    for e in [&mut change.old, &mut change.new] {
        e.prices = "offer files in tests/fixtures/offers".into();
        for o in &mut e.offers {
            o.source = o.source.replace(&format!("{}/", common::root().display()), "");
        }
    }
    // 352 streaming hours move from 0.10 to 0.20 USD: +35.20 a month; the stopped hours stay.
    assert!((change.delta_usd - 35.2).abs() < 1e-9, "{}", change.delta_usd);
    assert_eq!(change.changes.len(), 2, "{:#?}", change.changes);
    plan.cost = Some(change);
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.bind(|| {
        let txt = text::render(&plan, false);
        assert!(txt.contains("+$35.20"), "{txt}");
        insta::assert_snapshot!("cost_plan_instance_type.txt", txt);
        let md = markdown::render(&plan);
        assert!(md.contains("### Monthly cost") || md.contains("#### Monthly cost"), "{md}");
        insta::assert_snapshot!("cost_plan_instance_type.md", md);
        insta::assert_snapshot!("cost_plan_instance_type.json", json::render(&plan));
    });
}

#[test]
fn a_price_not_in_the_offers_is_unknown_not_guessed() {
    // The shipped snapshot has KMS and CloudTrail prices only.
    let compiled = common::compile(&Source::embedded());
    let templates: Vec<(&str, &sandboxc::cfn::Template)> =
        compiled.templates.iter().map(|t| (t.file.as_str(), &t.template)).collect();
    let book = PriceBook::snapshot(Some("us-east-1")).unwrap();
    let e = cost::estimate(templates.iter().copied(), &Assumptions::default(), &book);
    let kms = line(&e, &Meter::KmsKeys);
    assert!(kms.price.as_ref().unwrap().sku.starts_with("snapshot:awskms:us-east-1"));
    assert_eq!(kms.price.as_ref().unwrap().usd, "1.0000000000");
    let appstream = line(&e, &Meter::AppStreamRunning { instance_type: "stream.standard.small".into() });
    assert!(appstream.monthly_usd.is_none());
    assert!(appstream.price_unknown.as_deref().unwrap().contains("not in the price snapshot"));
    assert_eq!(e.unknown_lines, e.lines.iter().filter(|l| l.price.is_none()).count());
    assert!(e.unknown_lines >= 4);
    // No Region: nothing is priced, and the lines say why.
    let none = cost::estimate(templates.iter().copied(), &Assumptions::default(), &PriceBook::snapshot(None).unwrap());
    assert!(none.lines.iter().all(|l| l.price_unknown.as_deref().unwrap().contains("no Region")));
    // A Region of another partition has no snapshot price.
    let cn = cost::estimate(templates, &Assumptions::default(), &PriceBook::snapshot(Some("cn-north-1")).unwrap());
    assert!(line(&cn, &Meter::KmsKeys).price.is_none());
}

#[test]
fn products_of_other_regions_and_operating_systems_are_not_matched() {
    let e = estimate(&Source::embedded(), &Assumptions::default());
    for l in &e.lines {
        let sku = &l.price.as_ref().unwrap().sku;
        assert!(!sku.contains("EUW1") && !sku.contains("LINUX") && !sku.contains("TRAIN"), "{sku}");
    }
    let mut eu = PriceBook::dir(&fixtures(), Some("eu-west-1"));
    eu.load(&[Meter::InterfaceEndpointHours]).unwrap();
    assert_eq!(eu.price(&Meter::InterfaceEndpointHours).unwrap().sku, "FIXTUREVPCEEUW1");
    assert!(eu.price(&Meter::KmsKeys).is_err());
}

#[test]
fn missing_and_malformed_offer_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut book = PriceBook::dir(dir.path(), Some("us-east-1"));
    let e = book.load(&[Meter::KmsKeys]).unwrap_err().to_string();
    assert!(e.contains(&dir.path().join("awskms.json").display().to_string()), "{e}");
    assert!(e.contains("awskms/index.json") && e.contains("awskms/us-east-1/index.json"), "{e}");
    std::fs::write(
        dir.path().join("awskms.json"),
        "{\"formatVersion\": \"v1.0\", \"offerCode\": \"awskms\",\n \"products\": [}",
    )
    .unwrap();
    let e = book.load(&[Meter::KmsKeys]).unwrap_err().to_string();
    assert!(e.contains(&dir.path().join("awskms.json").display().to_string()), "{e}");
    assert!(e.contains("is not an AWS Price List offer file") && e.contains("line 2"), "{e}");
    std::fs::create_dir(dir.path().join("AmazonS3")).unwrap();
    std::fs::copy(fixtures().join("awskms.json"), dir.path().join("AmazonS3").join("index.json")).unwrap();
    let e = book.load(&[Meter::S3Standard]).unwrap_err().to_string();
    assert!(e.contains("AmazonS3/index.json holds the offer awskms, not AmazonS3"), "{e}");
}
