//! `sandboxc plan` when the users shard count changes: the users that move between shards are
//! listed (and their notebooks replaced); nobody else's resources change.

use std::collections::BTreeSet;

use sandboxc::blueprint::Source;
use sandboxc::plan::model::{Action, TemplateStatus};
use sandboxc::plan::render::{json, text};
use sandboxc::plan::{TemplateSet, Warning};

use crate::common;

/// A blueprint with `n` users; `shards: Some(k)` writes `notebook.shards`.
fn blueprint(n: usize, shards: Option<u32>) -> String {
    let mut text = String::from("name: team\nregion: eu-west-1\nappstream:\n  image_name: img\n");
    if let Some(k) = shards {
        text.push_str(&format!("notebook:\n  shards: {k}\n"));
    }
    text.push_str("datasets:\n  genomics: {prefix: datasets/genomics/}\nusers:\n");
    for i in 0..n {
        text.push_str(&format!("  - id: user{i:03}@example.org\n    datasets: {{genomics: read}}\n"));
    }
    text
}

fn set(text: &str) -> TemplateSet {
    TemplateSet::from_compiled(&common::compile(&Source { name: "team.yaml".into(), text: text.into() })).unwrap()
}

fn users_moved(plan: &sandboxc::plan::Plan) -> Option<&Warning> {
    plan.warnings.iter().find(|w| matches!(w, Warning::UsersMoved { .. }))
}

#[test]
fn a_new_shard_count_lists_exactly_the_users_that_move_and_their_notebooks_replaced() {
    let n = 40;
    let plan = sandboxc::plan::plan(&set(&blueprint(n, Some(2))), &set(&blueprint(n, Some(3))), "shards: 2");
    let expected: BTreeSet<(String, String, String)> = (0..n)
        .map(|i| format!("user{i:03}@example.org"))
        .filter_map(|u| {
            let (a, b) = (sandboxc::compile::users::shard_of(&u, 2), sandboxc::compile::users::shard_of(&u, 3));
            (a != b).then(|| (u, format!("users{a:02}"), format!("users{b:02}")))
        })
        .collect();
    // A jump hash moves only into the new shard, about a third of the users.
    assert!(!expected.is_empty() && expected.iter().all(|(_, _, to)| to == "users03"), "{expected:?}");
    let Some(Warning::UsersMoved { old, new, chosen, moves }) = users_moved(&plan) else {
        panic!("no users-moved warning: {:?}", plan.warnings)
    };
    assert_eq!((*old, *new, *chosen), (Some(2), Some(3), false));
    let got: BTreeSet<(String, String, String)> =
        moves.iter().map(|m| (m.user.clone(), m.from.clone(), m.to.clone())).collect();
    assert_eq!(got, expected);
    assert!(moves.iter().all(|m| m.notebook));
    // Each move is a removal and an addition of the user's three resources; nothing else in
    // the shards changes.
    for t in &plan.templates {
        if !t.stack.starts_with("users") {
            continue;
        }
        for r in &t.resources {
            assert!(matches!(r.action, Action::Add | Action::Remove), "{}/{}: {:?}", t.stack, r.logical_id, r.action);
        }
    }
    let changed: usize =
        plan.templates.iter().filter(|t| t.stack.starts_with("users")).map(|t| t.resources.len()).sum();
    assert_eq!(
        changed,
        expected.len() * 3 * 2,
        "role, notebook and allow-list entry out of one shard and into another"
    );
    assert_eq!(plan.summary.add, expected.len() * 3 + 1, "the users' resources and the new shard's stack");
    assert_eq!(plan.summary.remove, expected.len() * 3);
    assert_eq!(plan.templates.iter().find(|t| t.stack == "users03").map(|t| t.status), Some(TemplateStatus::Added));
    // Said in every format.
    let words = users_moved(&plan).unwrap().to_string();
    let (first, from, to) = expected.iter().next().unwrap();
    assert!(words.contains(&format!("{first} ({from} -> {to})")), "{words}");
    assert!(words.contains("notebook instances are replaced") || words.contains("notebook instance is replaced"));
    assert!(words.contains("fails on the first moved user"), "{words}");
    assert!(text::render(&plan, false).contains(&format!("{first} ({from} -> {to})")));
    assert!(json::render(&plan).contains(&format!("{first} ({from} -> {to})")));
}

#[test]
fn synth_choosing_a_new_count_for_more_users_says_how_to_keep_the_old_one() {
    // 50 users fit one shard; the 51st makes synth choose 2.
    let plan = sandboxc::plan::plan(&set(&blueprint(50, None)), &set(&blueprint(51, None)), "50 users");
    let Some(w @ Warning::UsersMoved { old, new, chosen, .. }) = users_moved(&plan) else {
        panic!("no users-moved warning: {:?}", plan.warnings)
    };
    assert_eq!((*old, *new, *chosen), (Some(1), Some(2), true));
    assert!(w.to_string().contains("write `shards: 1` under `notebook:`"), "{w}");
    // Written down, the count stays and the 51st user changes one shard only.
    let plan = sandboxc::plan::plan(&set(&blueprint(50, Some(1))), &set(&blueprint(51, Some(1))), "50 users");
    assert!(users_moved(&plan).is_none(), "{:?}", plan.warnings);
    let changed: Vec<&str> =
        plan.templates.iter().filter(|t| t.status != TemplateStatus::Unchanged).map(|t| t.stack.as_str()).collect();
    assert_eq!(changed, ["root", "users01"]);
}

#[test]
fn the_same_count_moves_nobody() {
    let plan = sandboxc::plan::plan(&set(&blueprint(30, Some(4))), &set(&blueprint(31, Some(4))), "30 users");
    assert!(users_moved(&plan).is_none(), "{:?}", plan.warnings);
    let resources: Vec<(&str, Action)> =
        plan.templates.iter().flat_map(|t| t.resources.iter().map(|r| (r.logical_id.as_str(), r.action))).collect();
    // The new user's role, notebook and allow-list entry, and the root's reference to the shard.
    assert_eq!(resources.len(), 4, "{resources:?}");
    assert_eq!(resources.iter().filter(|(_, a)| *a == Action::Add).count(), 3, "{resources:?}");
}
