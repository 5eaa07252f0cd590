//! The JSON plan: the [`Plan`] serialized as documented in docs/plan-json.md.

use crate::plan::model::Plan;

/// Pretty-printed JSON with a trailing newline.
#[must_use]
pub fn render(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan).unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    s.push('\n');
    s
}
