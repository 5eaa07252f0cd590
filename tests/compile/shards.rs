//! Users shards (issue 15): adding or removing one user changes exactly that user's shard
//! template and the root's reference to it; no other template and no other logical ID
//! changes, and every template stays within CloudFormation's limits.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use sandboxc::blueprint::Source;

/// A blueprint with `users` (ids), a fixed shard count, and two datasets.
fn blueprint(users: &BTreeSet<String>, shards: u32, mode: &str) -> String {
    let mut text = format!(
        "name: team\nregion: eu-west-1\nappstream:\n  image_name: img\nnotebook:\n  mode: {mode}\n  shards: {shards}\ndatasets:\n  genomics: {{prefix: datasets/genomics/}}\n  claims: {{prefix: datasets/claims/}}\nusers:\n"
    );
    for u in users {
        let grant = if u.len() % 2 == 0 { "{genomics: read}" } else { "{genomics: read, claims: read-write}" };
        text.push_str(&format!("  - id: {u}\n    datasets: {grant}\n"));
    }
    if users.is_empty() {
        text = text.replace("users:\n", "");
    }
    text
}

/// file -> (template text, logical IDs), after checking every template's limits.
fn compile(text: &str) -> BTreeMap<String, (String, BTreeSet<String>)> {
    let source = Source { name: "shards.yaml".into(), text: text.into() };
    let compiled = sandboxc::cli::build::build(&source, sandboxc::cfn::render::Format::Json)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let (files, _) = sandboxc::output::files(&compiled).unwrap_or_else(|e| panic!("limits: {e}"));
    files
        .into_iter()
        .filter(|(f, _)| f.ends_with(".template.json"))
        .map(|(f, t)| {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            let ids = v["Resources"].as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default();
            (f, (t, ids))
        })
        .collect()
}

/// The files that differ between two outputs (present in one only, or with other bytes).
fn changed(
    a: &BTreeMap<String, (String, BTreeSet<String>)>,
    b: &BTreeMap<String, (String, BTreeSet<String>)>,
) -> BTreeSet<String> {
    a.keys().chain(b.keys()).filter(|f| a.get(*f).map(|x| &x.0) != b.get(*f).map(|x| &x.0)).cloned().collect()
}

fn check_one_user_change(users: &BTreeSet<String>, extra: &str, shards: u32, mode: &str) -> Result<(), TestCaseError> {
    let before = compile(&blueprint(users, shards, mode));
    let mut more = users.clone();
    more.insert(extra.to_string());
    let after = compile(&blueprint(&more, shards, mode));
    let shard = sandboxc::compile::users::shard_of(extra, shards);
    let shard_file = format!("team-users{shard:02}.template.json");
    let root = "team.template.json".to_string();
    let mut diff = changed(&before, &after);
    // Shared mode: the one notebook role reaches the union of every user's grants, so a user
    // who brings a dataset nobody had also changes that role (the weaker posture's price), and
    // nothing else there: the notebook stack keeps its logical IDs.
    let notebook = "team-notebook.template.json".to_string();
    let shared_role_changed = mode == "shared" && diff.contains(&notebook);
    if shared_role_changed {
        let grants = |u: &str| if u.len() % 2 == 0 { 1 } else { 2 };
        let widest = users.iter().map(|u| grants(u)).max().unwrap_or(0);
        prop_assert!(grants(extra) > widest, "the shared role changed although {} brings no new grant", extra);
        prop_assert_eq!(&before[&notebook].1, &after[&notebook].1);
        diff.remove(&notebook);
    }
    let expected: BTreeSet<String> = [shard_file.clone(), root.clone()].into();
    prop_assert_eq!(&diff, &expected, "adding {} (shard {})", extra, shard);
    // The shard gains exactly the user's resources.
    let prefix = sandboxc::compile::user_id_prefix(extra);
    let old_ids = before.get(&shard_file).map(|x| x.1.clone()).unwrap_or_default();
    let new_ids = after.get(&shard_file).map(|x| x.1.clone()).unwrap_or_default();
    let added: BTreeSet<String> = new_ids.difference(&old_ids).cloned().collect();
    prop_assert!(old_ids.is_subset(&new_ids));
    let want: BTreeSet<String> = if mode == "shared" {
        [format!("{prefix}AllowList")].into()
    } else {
        ["Role", "Notebook", "AllowList"].iter().map(|s| format!("{prefix}{s}")).collect()
    };
    prop_assert_eq!(added, want);
    // The root changes only in that shard's nested stack.
    let (r0, r1) = (&before[&root].0, &after[&root].0);
    let (mut v0, mut v1): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(r0).unwrap(), serde_json::from_str(r1).unwrap());
    let id = format!("Users{shard:02}NestedStack");
    v0["Resources"].as_object_mut().unwrap().remove(&id);
    v1["Resources"].as_object_mut().unwrap().remove(&id);
    if shared_role_changed {
        v0["Resources"].as_object_mut().unwrap().remove("NotebookNestedStack");
        v1["Resources"].as_object_mut().unwrap().remove("NotebookNestedStack");
    }
    prop_assert_eq!(v0, v1);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Adding a user (and, read the other way, removing one) to a sandbox that has users changes
    /// one shard and the root (the first user is [`the_first_user_also_turns_notebooks_on`]).
    #[test]
    fn one_user_changes_one_shard(
        users in prop::collection::btree_set("[a-z]{2,8}(@example\\.org)?", 1..60),
        extra in "[a-z]{2,8}[0-9]{1,3}",
        shards in 1u32..=8,
        shared in any::<bool>(),
    ) {
        prop_assume!(!users.contains(&extra));
        check_one_user_change(&users, &extra, shards, if shared { "shared" } else { "per_user" })?;
    }
}

#[test]
fn a_thousand_users_fit_the_limits_and_synth_chooses_thirty_two_shards() {
    let users: BTreeSet<String> = (0..1000).map(|i| format!("user{i:04}@example.org")).collect();
    let text = blueprint(&users, 1, "per_user").replace("  shards: 1\n", "");
    let source = Source { name: "thousand.yaml".into(), text };
    let compiled = sandboxc::cli::build::build(&source, sandboxc::cfn::render::Format::Json).unwrap();
    assert_eq!((compiled.shards.count, compiled.shards.chosen), (32, true));
    let (files, manifest) = sandboxc::output::files(&compiled).unwrap();
    assert_eq!(manifest.users_shards.count, 32);
    let shard_files = files.iter().filter(|(f, _)| f.contains("-users")).count();
    assert_eq!(shard_files, 32);
}

#[test]
fn too_few_shards_are_refused_with_a_message() {
    let users: BTreeSet<String> = (0..400).map(|i| format!("user{i:04}")).collect();
    let source = Source { name: "few.yaml".into(), text: blueprint(&users, 1, "per_user") };
    let err = sandboxc::cli::build::validate(&source).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("team-users01.template.json has 1200 resources; CloudFormation allows at most 500"), "{err}");
    assert!(err.contains("team-users01.template.json: a users shard holds too many users or too many grants; raise notebook.shards (now 1, at most 99"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    /// With the count synth chooses, any number of users up to a few hundred, each with up to
    /// eight datasets, fits CloudFormation's limits in every template (`compile` checks them).
    #[test]
    fn synths_choice_fits_the_limits(n in 0usize..400, datasets in 1usize..=8) {
        let mut text = String::from("name: team\nregion: eu-west-1\nappstream:\n  image_name: img\ndatasets:\n");
        for d in 0..datasets {
            text.push_str(&format!("  set{d}: {{prefix: datasets/set{d}/}}\n"));
        }
        if n > 0 {
            text.push_str("users:\n");
        }
        let grants: Vec<String> = (0..datasets).map(|d| format!("set{d}: read-write")).collect();
        for i in 0..n {
            text.push_str(&format!("  - id: person{i:04}@example.org\n    datasets: {{{}}}\n", grants.join(", ")));
        }
        let files = compile(&text);
        let shards = files.keys().filter(|f| f.contains("-users")).count();
        prop_assert!(shards <= sandboxc::compile::users::auto_shards(n) as usize);
    }
}

#[test]
fn a_shard_count_out_of_range_is_refused() {
    for (shards, why) in [
        (0, "notebook.shards: 0 is too small (allowed: at least 1)"),
        (100, "notebook.shards: 100 is too large (allowed: at most 99)"),
    ] {
        let text = format!("name: team\nappstream:\n  image_name: img\nnotebook:\n  shards: {shards}\n");
        let source = Source { name: "range.yaml".into(), text };
        let err = sandboxc::cli::build::validate(&source).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn the_single_layout_with_too_many_users_is_told_to_use_shards() {
    let users: BTreeSet<String> = (0..200).map(|i| format!("user{i:04}")).collect();
    let text = blueprint(&users, 1, "per_user").replace("region: eu-west-1\n", "region: eu-west-1\nlayout: single\n");
    let source = Source { name: "single.yaml".into(), text };
    let err = sandboxc::cli::build::validate(&source).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("team.template.json has 6"), "{err}");
    assert!(err.contains("use `layout: nested`, which places them in users shards"), "{err}");
}

/// A sandbox without users has no notebook rights (the endpoints deny every SageMaker call, the
/// validator may presign nothing) and its notebook stack exports nothing: the first user turns
/// them on, so that adding the first user (and removing the last) also changes the notebook,
/// network and validator templates (no logical ID there). From the first user on, one user
/// changes one shard.
#[test]
fn the_first_user_also_turns_notebooks_on() {
    let none = compile(&blueprint(&BTreeSet::new(), 2, "per_user"));
    let one = compile(&blueprint(&["ann".to_string()].into(), 2, "per_user"));
    let diff = changed(&none, &one);
    let shard = sandboxc::compile::users::shard_of("ann", 2);
    let expected: BTreeSet<String> = [
        "team.template.json".to_string(),
        "team-network.template.json".into(),
        "team-notebook.template.json".into(),
        "team-validator.template.json".into(),
        format!("team-users{shard:02}.template.json"),
    ]
    .into();
    assert_eq!(diff, expected);
    assert!(none["team-network.template.json"].0.contains("NoNotebookInThisSandbox"));
    assert!(!none["team-notebook.template.json"].0.contains("\"NotebookKeyArn\""));
    assert!(one["team-notebook.template.json"].0.contains("\"NotebookKeyArn\""));
    // The key and the group exist without users; the first notebook brings the idle-stop
    // lifecycle configuration (`notebook.idle_stop`, on by default) that every notebook uses.
    let mut with_first = none["team-notebook.template.json"].1.clone();
    with_first.insert("NotebookIdleStop".to_string());
    assert_eq!(with_first, one["team-notebook.template.json"].1);
    assert!(one["team-notebook.template.json"].0.contains("\"NotebookIdleStopConfigName\""));
}
