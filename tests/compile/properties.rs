//! Property tests: any valid blueprint compiles into consistent templates.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

use ipnet::Ipv4Net;
use proptest::prelude::*;
use sandboxc::blueprint::Source;

fn blueprint() -> impl Strategy<Value = String> {
    (
        (0u8..=255, 16u8..=24),
        prop_oneof![(2u32..=6).prop_map(|n| n.to_string()), (2usize..=6).prop_map(|n| format!("[{}]", (0..n).map(|i| format!("eu-west-1{}", (b'a' + i as u8) as char)).collect::<Vec<_>>().join(", ")))],
        any::<[bool; 6]>(),
        prop_oneof![Just("ON_DEMAND"), Just("ALWAYS_ON"), Just("ELASTIC")],
        "[a-z][a-z0-9]{1,12}",
    )
        .prop_map(|((octet, prefix), zones, flags, fleet, name)| {
            let cidr = Ipv4Net::new(std::net::Ipv4Addr::new(10, octet, 0, 0), prefix).unwrap().trunc();
            let capacity = if fleet == "ELASTIC" { "max_concurrent_sessions: 5" } else { "desired_instances: 3" };
            format!(
                "name: {name}\nregion: eu-west-1\nlayout: {}\nnetwork:\n  cidr: {cidr}\n  availability_zones: {zones}\n  flow_logs: {}\n  private_streaming: {}\nappstream:\n  image_name: img\n  fleet_type: {fleet}\n  {capacity}\nidentity:\n  saml: {}\naudit:\n  cloudtrail: {}\n  usage_reports: {}\n",
                if flags[0] { "single" } else { "nested" },
                flags[1],
                if flags[2] { "{client_cidrs: [192.0.2.0/24]}" } else { "null" },
                if flags[3] { "{idp_name: idp}" } else { "null" },
                flags[4],
                flags[5],
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn valid_blueprints_compile_into_consistent_templates(text in blueprint()) {
        let source = Source { name: "generated.yaml".into(), text };
        let compiled = sandboxc::cli::build::build(&source, sandboxc::cfn::render::Format::Json);
        let compiled = compiled.map_err(|e| TestCaseError::fail(format!("{e}\n{}", source.text)))?;
        let (files, _) = sandboxc::output::files(&compiled).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (file, text) in &files {
            if !file.ends_with(".template.json") {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            // Parsed back, the template is the one the compiler built.
            let parsed = sandboxc::cfn::Template::parse(&value).map_err(|e| TestCaseError::fail(format!("{file}: {e}")))?;
            let built = compiled.templates.iter().find(|t| &t.file == file).map(|t| &t.template);
            prop_assert_eq!(Some(&parsed), built);
            // No dangling Ref, GetAtt or ${...}.
            prop_assert!(sandboxc::cfn::check::check(&parsed).is_empty());
            // Emit -> parse -> emit is stable (keys sorted, nothing lost).
            let again = sandboxc::cfn::render::Format::Json.render(&value).unwrap();
            prop_assert_eq!(&again, text);
        }
        // The subnets lie inside the VPC, never overlap, and one exists per zone.
        let all: Vec<serde_json::Value> = files.iter().filter(|(f, _)| f.ends_with(".template.json")).map(|(_, t)| serde_json::from_str(t).unwrap()).collect();
        let vpc: Ipv4Net = all.iter().find_map(|t| t["Resources"]["Vpc"]["Properties"]["CidrBlock"].as_str()).unwrap().parse().unwrap();
        let subnets: Vec<Ipv4Net> = all
            .iter()
            .flat_map(|t| t["Resources"].as_object().unwrap().values().cloned().collect::<Vec<_>>())
            .filter(|r| r["Type"] == "AWS::EC2::Subnet")
            .map(|r| r["Properties"]["CidrBlock"].as_str().unwrap().parse().unwrap())
            .collect();
        let zones = if source.text.contains("availability_zones: [") { source.text.matches("eu-west-1").count() - 1 } else {
            source.text.split("availability_zones: ").nth(1).unwrap().lines().next().unwrap().parse().unwrap()
        };
        prop_assert_eq!(subnets.len(), zones);
        for (i, a) in subnets.iter().enumerate() {
            prop_assert!(vpc.contains(a));
            prop_assert!(a.prefix_len() <= 28);
            for b in &subnets[i + 1..] {
                prop_assert!(!a.contains(&b.network()) && !b.contains(&a.network()));
            }
        }
    }

    /// Parse, don't validate: a CIDR and zone count that validation accepts always compile
    /// (no internal error), into exactly the subnets the validated blueprint carries.
    #[test]
    fn every_accepted_cidr_and_zone_count_compiles(
        address in prop_oneof![
            any::<u32>().prop_map(std::net::Ipv4Addr::from),
            any::<[u8; 3]>().prop_map(|[b, c, d]| std::net::Ipv4Addr::new(10, b, c, d)),
            (16u8..32, any::<[u8; 2]>()).prop_map(|(b, [c, d])| std::net::Ipv4Addr::new(172, b, c, d)),
            any::<[u8; 2]>().prop_map(|[c, d]| std::net::Ipv4Addr::new(192, 168, c, d)),
        ],
        prefix in prop_oneof![0u8..=32, 16u8..=24],
        truncate in prop::bool::weighted(0.8),
        zones in 1usize..=7,
        named in any::<bool>(),
        single in any::<bool>(),
    ) {
        let cidr = Ipv4Net::new(address, prefix).unwrap();
        let cidr = if truncate { cidr.trunc() } else { cidr };
        let zones = if named {
            format!("[{}]", (0..zones).map(|i| format!("eu-west-1{}", (b'a' + i as u8) as char)).collect::<Vec<_>>().join(", "))
        } else {
            zones.to_string()
        };
        let layout = if single { "single" } else { "nested" };
        let text = format!("name: gen\nlayout: {layout}\nnetwork:\n  cidr: {cidr}\n  availability_zones: {zones}\nappstream:\n  image_name: img\n");
        let source = Source { name: "generated.yaml".into(), text };
        let blueprint = match sandboxc::blueprint::load(&source) {
            Ok(b) => b,
            Err(d) => {
                prop_assert!(!d.items.is_empty());
                return Ok(());
            }
        };
        prop_assert_eq!(blueprint.network.cidr, cidr);
        prop_assert_eq!(blueprint.network.subnets.len(), blueprint.network.availability_zones.count());
        let asset = sandboxc::assets::LambdaAsset { identity: common::TEST_IDENTITY.into() };
        let compiled = sandboxc::compile::compile(&blueprint, &asset, sandboxc::cfn::render::Format::Json);
        let compiled = compiled.map_err(|e| TestCaseError::fail(format!("{e}\n{}", source.text)))?;
        let subnets: Vec<String> = compiled
            .templates
            .iter()
            .map(|t| t.template.to_value())
            .flat_map(|t| t["Resources"].as_object().cloned().unwrap_or_default().into_values())
            .filter(|r| r["Type"] == "AWS::EC2::Subnet")
            .map(|r| r["Properties"]["CidrBlock"].as_str().unwrap_or_default().to_string())
            .collect();
        let carved: Vec<String> = blueprint.network.subnets.iter().map(ToString::to_string).collect();
        prop_assert_eq!(subnets, carved);
    }

    #[test]
    fn any_text_is_rejected_or_accepted_without_panicking(text in "\\PC{0,200}") {
        let source = Source { name: "fuzz.yaml".into(), text };
        let _ = sandboxc::cli::build::build(&source, sandboxc::cfn::render::Format::Json);
    }

    #[test]
    fn mutated_default_blueprints_never_panic(cut in 0usize..1800, insert in "[ a-z0-9:\\[\\]{},\\n-]{0,8}") {
        let mut text = sandboxc::blueprint::DEFAULT_BLUEPRINT.to_string();
        let at = text.char_indices().map(|(i, _)| i).nth(cut % text.chars().count()).unwrap_or(0);
        text.insert_str(at, &insert);
        let source = Source { name: "mutated.yaml".into(), text };
        match sandboxc::cli::build::build(&source, sandboxc::cfn::render::Format::Json) {
            Ok(_) => {}
            Err(sandboxc::cli::build::BuildError::Blueprint(d)) => prop_assert!(!d.items.is_empty()),
            Err(other) => prop_assert!(false, "not a blueprint error: {}", other),
        }
    }
}
