//! A stack deployed for the first time, summarised as what it creates: resource counts per
//! template (part) and per type, instead of every resource and every statement as an addition.
//! The grants that deserve a look are flagged apart ([`super::security::risky_grants`]).

use std::collections::BTreeMap;

use serde::Serialize;

use super::diff::Compared;
use super::model::Action;

/// What a new stack creates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewStack {
    /// Resources created, in every template.
    pub resources: usize,
    /// Per resource type, over every template.
    pub types: BTreeMap<String, usize>,
    /// Per template, root first, nested stacks in output order.
    pub stacks: Vec<StackCounts>,
}

/// What one template of a new stack creates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StackCounts {
    /// Stack label: `root`, `single` or the part (`network`...).
    pub stack: String,
    /// Resources created in it.
    pub resources: usize,
    /// Per resource type.
    pub types: BTreeMap<String, usize>,
}

/// The counts of the resources the compared templates add.
#[must_use]
pub fn summarize(compared: &[Compared<'_>]) -> NewStack {
    let mut total = NewStack::default();
    for c in compared {
        let mut stack = StackCounts { stack: c.diff.stack.clone(), ..StackCounts::default() };
        for r in c.diff.resources.iter().filter(|r| r.action == Action::Add) {
            stack.resources += 1;
            *stack.types.entry(r.resource_type.clone()).or_default() += 1;
            *total.types.entry(r.resource_type.clone()).or_default() += 1;
        }
        total.resources += stack.resources;
        if stack.resources > 0 {
            total.stacks.push(stack);
        }
    }
    total
}

/// `3 AWS::EC2::Subnet, 1 AWS::EC2::VPC`: counts of a type map, the most frequent first.
#[must_use]
pub fn counts_text(types: &BTreeMap<String, usize>) -> String {
    let mut list: Vec<(&String, &usize)> = types.iter().collect();
    list.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    list.into_iter().map(|(t, n)| format!("{n} {t}")).collect::<Vec<_>>().join(", ")
}
