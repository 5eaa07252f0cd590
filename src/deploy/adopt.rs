//! Adopting retained resources: before the first change set of a new stack, the resources an
//! earlier deployment left under the names the templates give ([`Adoption`], found by the
//! preflight) are imported with IMPORT change sets (`ChangeSetType: IMPORT`,
//! `ResourcesToImport`; CloudFormation user guide, "Import AWS resources into a CloudFormation
//! stack"). An import can add nothing else, and each imported resource needs a
//! `DeletionPolicy`, so the import templates hold only the imported resources, `Retain`ed,
//! with their identifier; the normal UPDATE change set that follows brings them to the
//! template and creates everything else.
//!
//! - Resources of the root (or single) template: one IMPORT change set creates the root stack
//!   with them.
//! - Resources of a nested template: CloudFormation imports one level of nesting ("Nesting an
//!   existing stack"): first an IMPORT change set creates a stack `<stack>-<NestedStackId>`
//!   holding them, then the root stack's IMPORT change set adopts that stack as its nested
//!   stack (`AWS::CloudFormation::Stack`, identifier `StackId`), with a `TemplateURL` holding
//!   exactly that stack's template and the same tags, as the import validation requires.
//!
//! The person approves the adoption (or `--yes`) before the first import.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::assets::{publish, template_url, Asset, AssetStore};
use super::cloudformation::{
    wait_change_set, CfnError, ChangeSetKind, ChangeSetRequest, CloudFormation, ResourceToImport, StackInfo,
    TemplateSource, NESTED_STACK_TYPE,
};
use super::console::Console;
use super::deployment::{Choices, Deployer};
use super::events::{baseline, follow, root_cause, FollowEnd};
use super::outcome::{DeployError, Failed, Interrupted, Outcome};
use super::preflight::Adoption;
use super::preview::change_set_name;
use super::release::Release;
use super::status::{ChangeSetStatus, StackStatus};

/// How adopting ended.
// Once per run: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Adopted {
    /// The root stack exists now, holding the adopted resources (`IMPORT_COMPLETE`).
    Stack(StackInfo),
    /// Declined, failed or interrupted: this is how `apply` ends.
    Stop(Outcome),
}

/// The name of the stack that takes the resources of the nested stack `nested` of `stack`.
#[must_use]
pub fn part_stack_name(stack: &str, nested: &str) -> String {
    format!("{stack}-{nested}")
}

/// The template of an IMPORT change set: exactly `resources` (logical ID, definition).
#[must_use]
pub fn import_template(stack: &str, what: &str, resources: Map<String, Value>) -> String {
    let t = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("sandboxc {stack}: {what} adopted by an IMPORT change set; the next sandboxc apply completes the stack"),
        "Resources": resources,
    });
    t.to_string()
}

/// The definition of an imported resource: `Retain`ed, its identifier as its only property
/// (a KMS key's `KeyId` is read-only: no property).
fn definition(a: &Adoption) -> Value {
    let mut properties = Map::new();
    if a.resource_type != "AWS::KMS::Key" {
        properties.insert(a.identifier.0.clone(), Value::String(a.identifier.1.clone()));
    }
    json!({"Type": a.resource_type, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": properties})
}

fn to_import(a: &Adoption) -> ResourceToImport {
    ResourceToImport {
        resource_type: a.resource_type.clone(),
        logical_id: a.logical_id.clone(),
        identifier: a.identifier.clone(),
    }
}

/// Imports `adoptions` into the new stack `release` names; see the module documentation.
/// `bucket`: the assets bucket (nested import templates are read from it).
///
/// # Errors
/// [`DeployError`] when a call fails or an import template cannot be published.
pub async fn adopt<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    release: &Release,
    adoptions: &[Adoption],
    bucket: &str,
    choices: Choices,
    console: &mut dyn Console,
) -> Result<Adopted, DeployError> {
    let stack = release.stack_name();
    console.line(&format!(
        "adopting {} retained resources into the new stack {stack} (IMPORT change sets, before any other change set):",
        adoptions.len()
    ));
    for a in adoptions {
        let place = a.nested.as_deref().map_or(String::new(), |n| format!("{}/", super::cloudformation::part_of(n)));
        console.line(&format!("  {place}{} ({})  {}", a.logical_id, a.resource_type, a.identifier.1));
    }
    let approved = !console.interrupted()
        && (choices.yes
            || console.confirm(&format!(
                "Import these {} resources into stack {stack} in account {} ({})?",
                adoptions.len(),
                d.account,
                d.region
            )));
    if !approved {
        return Ok(Adopted::Stop(Outcome::Declined { command: "apply", cleanup: "nothing was imported" }));
    }

    let mut by_stack: BTreeMap<Option<String>, Vec<&Adoption>> = BTreeMap::new();
    for a in adoptions {
        by_stack.entry(a.nested.clone()).or_default().push(a);
    }
    let root = release.templates.templates.get(&release.templates.root_file);
    let mut root_resources = Map::new();
    let mut root_imports = Vec::new();
    for (nested, items) in &by_stack {
        let Some(nested) = nested else {
            for a in items {
                root_resources.insert(a.logical_id.clone(), definition(a));
                root_imports.push(to_import(a));
            }
            continue;
        };
        let part = part_stack_name(stack, nested);
        let resources: Map<String, Value> = items.iter().map(|a| (a.logical_id.clone(), definition(a))).collect();
        let body = import_template(stack, &format!("the retained resources of {nested}"), resources);
        // The nested stack's tags in the root template: the import validation compares them.
        let nested_tags = root
            .and_then(|t| t.resources.iter().find(|(id, _)| id.as_str() == nested.as_str()))
            .and_then(|(_, r)| r.properties.get("Tags"))
            .map(crate::cfn::Expr::to_value);
        let mut tags = release.tags.clone();
        for t in nested_tags.as_ref().and_then(Value::as_array).into_iter().flatten() {
            if let (Some(k), Some(v)) = (t["Key"].as_str(), t["Value"].as_str()) {
                if !tags.iter().any(|(key, _)| key == k) {
                    tags.push((k.to_string(), v.to_string()));
                }
            }
        }
        // Published first: a failed upload stops before any change set.
        let key = format!("templates/{}.json", crate::cfn::render::sha256_hex(body.as_bytes()));
        let asset = Asset {
            key: key.clone(),
            what: format!("import template of {nested}"),
            body: body.clone().into_bytes(),
            content_type: "application/json",
        };
        publish(&d.store, bucket, &[asset]).await?;
        let imports = items.iter().map(|a| to_import(a)).collect();
        let info = match import(d, &part, TemplateSource::Body(body), imports, tags, console).await? {
            Ok(info) => info,
            Err(stop) => return Ok(Adopted::Stop(stop)),
        };
        let mut properties = Map::new();
        properties.insert("TemplateURL".into(), Value::String(template_url(bucket, &d.region, &key)));
        if let Some(t) = nested_tags {
            properties.insert("Tags".into(), t);
        }
        root_resources.insert(
            nested.clone(),
            json!({"Type": NESTED_STACK_TYPE, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": properties}),
        );
        root_imports.push(ResourceToImport {
            resource_type: NESTED_STACK_TYPE.into(),
            logical_id: nested.clone(),
            identifier: ("StackId".into(), info.stack_id),
        });
    }
    let body = import_template(stack, "the retained resources of an earlier deployment", root_resources);
    let info = match import(d, stack, TemplateSource::Body(body), root_imports, release.tags.clone(), console).await? {
        Ok(info) => info,
        Err(stop) => return Ok(Adopted::Stop(stop)),
    };
    match d.cfn.set_termination_protection(&info.stack_id, true).await {
        Ok(()) => console.line(&format!("termination protection is on for stack {stack}")),
        Err(e) => console.problem(&format!(
            "warning: could not turn on termination protection ({e}); turn it on with `aws cloudformation update-termination-protection --enable-termination-protection --stack-name {stack}`"
        )),
    }
    console.line(&format!("stack {stack}: {} with the adopted resources; the update below completes it", info.status));
    Ok(Adopted::Stack(info))
}

/// One IMPORT change set on `stack` (created by it), executed and followed to its end.
/// `Ok(Err(outcome))` when it fails, is interrupted, or CloudFormation refuses it.
async fn import<C: CloudFormation, S: AssetStore>(
    d: &Deployer<C, S>,
    stack: &str,
    template: TemplateSource,
    items: Vec<ResourceToImport>,
    tags: Vec<(String, String)>,
    console: &mut dyn Console,
) -> Result<Result<StackInfo, Outcome>, DeployError> {
    let aws = |e: CfnError| DeployError::cfn(stack, e);
    let request = ChangeSetRequest {
        stack_name: stack.to_string(),
        change_set_name: change_set_name("import"),
        template,
        tags,
        description: "sandboxc apply: adopt retained resources".into(),
        parameters: Vec::new(),
        kind: ChangeSetKind::Import(items),
    };
    let id = d.cfn.create_change_set(&request).await.map_err(aws)?;
    let state = wait_change_set(&d.cfn, &id, d.polling).await.map_err(aws)?;
    if state.status != ChangeSetStatus::CreateComplete {
        let _ = d.cfn.delete_change_set(&id).await;
        // The IMPORT change set made an empty stack (REVIEW_IN_PROGRESS): leave nothing behind.
        let _ = d.cfn.delete_stack(stack).await;
        return Ok(Err(Outcome::Failed(Failed::ChangeSet {
            stack: stack.to_string(),
            reason: format!("IMPORT change set {}: {}", state.status, state.reason),
        })));
    }
    d.cfn.execute_change_set(&id).await.map_err(aws)?;
    console.line(&format!("executing IMPORT change set {id}"));
    let stack_id = d.cfn.describe_stack(stack).await.map_err(aws)?.stack_id;
    let (since, skip) =
        if state.created_ms > 0 { (state.created_ms, None) } else { baseline(&d.cfn, &stack_id).await.map_err(aws)? };
    let end = follow(&d.cfn, &stack_id, since, skip.as_deref(), d.follow, console)
        .await
        .map_err(|source| DeployError::LostTrack { stack: stack.to_string(), source })?;
    Ok(match end {
        FollowEnd::Settled { stack: info, .. } if info.status == StackStatus::ImportComplete => Ok(info),
        FollowEnd::Settled { stack: info, failures } => Err(Outcome::Failed(Failed::Deployment {
            stack: stack.to_string(),
            info,
            root_cause: root_cause(&failures).cloned(),
        })),
        FollowEnd::Gone { failures } => Err(Outcome::Failed(Failed::Vanished {
            stack: stack.to_string(),
            root_cause: root_cause(&failures).cloned(),
        })),
        FollowEnd::Interrupted | FollowEnd::TimedOut => {
            Err(Outcome::Interrupted(Interrupted::Deployment { stack: stack.to_string(), unprotected: true }))
        }
    })
}
