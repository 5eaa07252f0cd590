//! CloudFormation quotas checked before any AWS call (CloudFormation user guide, "Quotas").

use super::Template;

/// Largest template body passed inline in an API call, in bytes; larger ones go by S3 URL.
pub const MAX_INLINE_BODY_BYTES: usize = 51_200;
/// Largest template read from S3, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 1_000_000;
/// Most resources in one template.
pub const MAX_RESOURCES: usize = 500;
/// Most parameters in one template.
pub const MAX_PARAMETERS: usize = 200;
/// Most outputs in one template.
pub const MAX_OUTPUTS: usize = 200;

/// Every quota `template` (rendered as `text`) exceeds, as messages naming the quota.
#[must_use]
pub fn violations(file: &str, template: &Template, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let checks = [
        ("bytes", text.len(), MAX_TEMPLATE_BYTES),
        ("resources", template.resources.len(), MAX_RESOURCES),
        ("parameters", template.parameters.len(), MAX_PARAMETERS),
        ("outputs", template.outputs.len(), MAX_OUTPUTS),
    ];
    for (what, n, max) in checks {
        if n > max {
            out.push(format!("{file} has {n} {what}; CloudFormation allows at most {max}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::resources::Queue;
    use crate::cfn::{LogicalId, Resource};

    #[test]
    fn names_every_exceeded_quota() {
        let mut t = Template::new("big");
        for i in 0..=MAX_RESOURCES {
            t.resources.insert(LogicalId::new(format!("Q{i}")), Resource::new(&Queue::default()));
        }
        let text = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert_eq!(
            violations("big.json", &t, &text),
            vec![
                "big.json has 1000001 bytes; CloudFormation allows at most 1000000".to_string(),
                "big.json has 501 resources; CloudFormation allows at most 500".to_string(),
            ]
        );
        assert!(violations("ok.json", &Template::new("ok"), "{}").is_empty());
    }
}
