//! `sandboxc plan` without `--against*`: the base is the deployed CloudFormation stack.
//!
//! 1. `DescribeStacks`: the stack and its parameters. A stack that does not exist
//!    (ValidationError "Stack with id X does not exist") plans as all-new: everything is
//!    added, and no change set is made (a CREATE change set would only list every resource
//!    as `Add`, and would leave an empty stack in `REVIEW_IN_PROGRESS` behind).
//! 2. `GetTemplate` (`TemplateStage` Original) of the root stack and, through
//!    `ListStackResources` (type `AWS::CloudFormation::Stack`), of each nested stack,
//!    matched to the parts by logical ID; the offline diff engine compares them with the new
//!    output.
//! 3. `CreateChangeSet` (`ChangeSetType` UPDATE, `IncludeNestedStacks`, CAPABILITY_IAM,
//!    CAPABILITY_NAMED_IAM, CAPABILITY_AUTO_EXPAND) with the new root template inline
//!    (compact JSON, at most 51,200 bytes; a larger one needs the assets bucket, which
//!    `apply` uploads to), the `AssetsBucket` parameter from `--assets-bucket` or the deployed
//!    stack, every other deployed parameter with `UsePreviousValue`. `DescribeChangeSet` is
//!    polled until `CREATE_COMPLETE` or `FAILED`, and each nested change set
//!    (`ResourceChange.ChangeSetId`) is described too; their facts refine the plan
//!    ([`crate::plan::refine`]).
//! 4. "No changes" in either wording (a FAILED change set whose `StatusReason` says "didn't
//!    contain changes" or "No updates are to be performed", or the ValidationError
//!    "No updates are to be performed.") is a plan without changes: exit 0.
//! 5. `DeleteChangeSet`, unless `--keep-change-set` (its ARN is then printed and put in the
//!    JSON plan's `change_set`).

use std::collections::BTreeSet;

use super::cfn::{Cfn, CfnError, ChangeSetRequest, Polling};
use super::AwsOptions;
use crate::plan::refine::ChangeSetFacts;
use crate::plan::{Outcome, PlanArgs, PlanError, TemplateSet, Warning};

/// Largest template body CloudFormation accepts inline (`TemplateBody`), in bytes.
pub const MAX_TEMPLATE_BODY: usize = 51_200;

/// The parameter of the root template that names the assets bucket.
pub const ASSETS_BUCKET_PARAMETER: &str = "AssetsBucket";

/// Deepest nesting of change sets followed.
const MAX_NESTING: usize = 5;

/// `sandboxc plan` in deployed mode: loads the AWS configuration (`--profile`, `--region`,
/// else the blueprint's region, else the chain's), runs [`run_with_client`] on a
/// current-thread tokio runtime.
///
/// # Errors
/// Any [`PlanError`]; AWS failures are [`PlanError::Deployed`].
pub fn run(args: &PlanArgs, color: bool) -> Result<Outcome, PlanError> {
    let (new, blueprint_region) = crate::plan::new_output(args)?;
    let options = AwsOptions { profile: args.profile.clone(), region: args.region.clone().or(blueprint_region) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PlanError::Deployed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let config = super::config(&options).await.map_err(|e| {
            PlanError::Deployed(format!("planning against the deployed stack needs AWS access: {e}\n{OFFLINE_HINT}"))
        })?;
        super::check_credentials(&config, &options).await.map_err(|e| {
            PlanError::Deployed(format!("planning against the deployed stack needs AWS access: {e}\n{OFFLINE_HINT}"))
        })?;
        let client = aws_sdk_cloudformation::Client::new(&config);
        let region = client.config().region().map(ToString::to_string);
        let base = plan_deployed(&Cfn::new(client), args, &new, region.as_deref(), Polling::default()).await?;
        into_outcome(args, color, base)
    })
}

/// [`run`] with a given client (tests: scripted SDK responses) and polling schedule.
///
/// # Errors
/// Any [`PlanError`].
pub fn run_with_client(
    args: &PlanArgs,
    color: bool,
    client: aws_sdk_cloudformation::Client,
    polling: Polling,
) -> Result<Outcome, PlanError> {
    let (new, _) = crate::plan::new_output(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| PlanError::Deployed(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let region = client.config().region().map(ToString::to_string);
        let base = plan_deployed(&Cfn::new(client), args, &new, region.as_deref(), polling).await?;
        into_outcome(args, color, base)
    })
}

fn into_outcome(args: &PlanArgs, color: bool, plan: crate::plan::Plan) -> Result<Outcome, PlanError> {
    let kept = plan.change_set.clone();
    let mut outcome = crate::plan::finish(args, color, plan)?;
    if let Some(arn) = kept {
        if args.format != crate::plan::PlanFormat::Json {
            outcome.rendered = format!("{}\n\nchange set kept (inspect it in the CloudFormation console; delete it with `aws cloudformation delete-change-set --change-set-name {arn}`): {arn}\n", outcome.rendered.trim_end());
        }
    }
    Ok(outcome)
}

fn aws_error(stack: &str, e: CfnError) -> PlanError {
    match e {
        CfnError::AccessDenied { .. } => PlanError::Deployed(format!(
            "planning against the deployed stack {stack} needs AWS access: {e} (the plan uses cloudformation:DescribeStacks, GetTemplate, ListStackResources, CreateChangeSet, DescribeChangeSet and DeleteChangeSet; check --profile and the credentials in use)"
        )),
        CfnError::Call { .. } => PlanError::Deployed(format!("planning against the deployed stack {stack} needs AWS access: {e}\n{OFFLINE_HINT}")),
        other => PlanError::Deployed(format!("planning against the deployed stack {stack}: {other}")),
    }
}

const OFFLINE_HINT: &str = "plan offline instead: --against DIR (a previous `sandboxc synth` output) or --against-git REF (the blueprint as it was at a git revision)";

/// The whole deployed-mode plan, from the new output (`new`) and the deployed stack.
///
/// # Errors
/// [`PlanError::Deployed`] for AWS failures, [`PlanError::Read`] for a deployed template
/// that cannot be parsed.
pub async fn plan_deployed(
    cfn: &Cfn,
    args: &PlanArgs,
    new: &TemplateSet,
    region: Option<&str>,
    polling: Polling,
) -> Result<crate::plan::Plan, PlanError> {
    let stack = new.stack_name.clone();
    let where_ = region.map_or_else(String::new, |r| format!(" in {r}"));
    let base = format!("deployed stack {stack}{where_}");
    let info = match cfn.describe_stack(&stack).await {
        Ok(info) => info,
        Err(CfnError::NotFound(_)) => {
            let mut old = TemplateSet::from_deployed(&stack, None, &[])?;
            old.scripts.clone_from(&new.scripts);
            let mut plan = crate::plan::plan(&old, new, &format!("{base} (does not exist)"));
            plan.warnings.push(Warning::StackDoesNotExist { stack: stack.clone(), region: region.map(str::to_string) });
            return Ok(plan);
        }
        Err(e) => return Err(aws_error(&stack, e)),
    };
    if info.status == "REVIEW_IN_PROGRESS" {
        let mut old = TemplateSet::from_deployed(&stack, None, &[])?;
        old.scripts.clone_from(&new.scripts);
        let mut plan = crate::plan::plan(&old, new, &format!("{base} (REVIEW_IN_PROGRESS: never deployed)"));
        plan.warnings.push(Warning::NeverDeployed { stack: stack.clone() });
        return Ok(plan);
    }
    if info.status.ends_with("_IN_PROGRESS") {
        return Err(PlanError::Deployed(format!(
            "the CloudFormation stack {stack} is {}: wait until it finishes, then plan again",
            info.status
        )));
    }
    if info.status == "ROLLBACK_COMPLETE" || info.status == "ROLLBACK_FAILED" {
        return Err(PlanError::Deployed(format!("the CloudFormation stack {stack} is {}: it cannot be updated, only deleted and created again (apply --recreate)", info.status)));
    }

    let old = deployed_templates(cfn, &info.stack_id, &stack, new).await?;

    // The change set.
    let root = new
        .templates
        .get(&new.root_file)
        .ok_or_else(|| PlanError::Synth(format!("the new output has no root template {}", new.root_file)))?;
    let body = serde_json::to_string(root).map_err(|e| PlanError::Synth(e.to_string()))?;
    if body.len() > MAX_TEMPLATE_BODY {
        return Err(PlanError::Deployed(format!(
            "the root template is {} bytes (compact JSON), more than the {MAX_TEMPLATE_BODY} bytes CloudFormation accepts inline (TemplateBody): it must be uploaded to the assets bucket first, which `sandboxc apply` does; plan offline meanwhile (--against DIR or --against-git REF)",
            body.len()
        )));
    }
    let mut parameters = Vec::new();
    let declared: Vec<String> = root.parameters.keys().cloned().collect();
    for key in declared {
        let deployed = info.parameters.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        if key == ASSETS_BUCKET_PARAMETER {
            match (&args.assets_bucket, deployed) {
                (Some(b), _) => parameters.push((key, Some(b.clone()))),
                (None, Some(_)) => parameters.push((key, None)),
                (None, None) => {
                    return Err(PlanError::Deployed(format!(
                        "the deployed stack {stack} has no {ASSETS_BUCKET_PARAMETER} parameter: name the assets bucket with --assets-bucket BUCKET"
                    )))
                }
            }
        } else if deployed.is_some() {
            parameters.push((key, None));
        }
    }
    let request = ChangeSetRequest {
        stack_name: stack.clone(),
        change_set_name: change_set_name(),
        template_body: body,
        parameters,
        create: false,
        tags: Vec::new(),
        description: "sandboxc plan".into(),
    };
    let id = match cfn.create_change_set(&request).await {
        Ok(id) => id,
        Err(CfnError::NoUpdates) => {
            return Ok(no_changes(&old, new, &base, "CreateChangeSet: No updates are to be performed.", None))
        }
        Err(e) => return Err(aws_error(&stack, e)),
    };
    let result = describe_all(cfn, &id, polling).await;
    let kept = args.keep_change_set.then(|| id.clone());
    let cleanup = if args.keep_change_set { Ok(()) } else { cfn.delete_change_set(&id).await };
    let facts = match result {
        Ok(Described::Facts(f)) => f,
        Ok(Described::NoChanges(reason)) => {
            cleanup.map_err(|e| aws_error(&stack, e))?;
            return Ok(no_changes(&old, new, &base, &reason, kept));
        }
        Ok(Described::Failed(reason)) => {
            // Still a useful plan: the deployed templates against the new ones, with the
            // offline prediction of replacements, and the reason CloudFormation gave.
            cleanup.map_err(|e| aws_error(&stack, e))?;
            let mut plan = crate::plan::plan(&old, new, &base);
            plan.warnings.push(Warning::ChangeSetFailed { reason, kept: kept.clone() });
            plan.change_set = kept;
            return Ok(plan);
        }
        Err(e) => return Err(aws_error(&stack, e)),
    };
    cleanup.map_err(|e| aws_error(&stack, e))?;
    let mut plan = crate::plan::plan_refined(&old, new, &base, Some(&facts));
    if !plan.changes && !facts.resources.is_empty() {
        plan.changes = true;
    }
    plan.change_set = kept;
    Ok(plan)
}

/// The deployed templates of a stack (`GetTemplate` of the root and of every nested stack
/// found by `ListStackResources`), with the new output's scripts (scripts are not part of the
/// deployed stack: the launcher is baked into the AppStream image, the notebook script's
/// text is in a template; nothing to compare them with).
///
/// # Errors
/// [`PlanError::Deployed`] or [`PlanError::Read`].
pub async fn deployed_templates(
    cfn: &Cfn,
    stack_id: &str,
    stack: &str,
    new: &TemplateSet,
) -> Result<TemplateSet, PlanError> {
    let fail = |e: CfnError| PlanError::Deployed(format!("reading the deployed templates of stack {stack}: {e}"));
    let root_body = cfn.get_template(stack_id).await.map_err(fail)?;
    let mut nested = Vec::new();
    for n in cfn.nested_stacks(stack_id).await.map_err(fail)? {
        let body = cfn.get_template(&n.stack_id).await.map_err(fail)?;
        nested.push((n.logical_id, body));
    }
    let mut old = TemplateSet::from_deployed(stack, Some(&root_body), &nested)?;
    old.scripts.clone_from(&new.scripts);
    Ok(old)
}

fn no_changes(
    old: &TemplateSet,
    new: &TemplateSet,
    base: &str,
    reason: &str,
    kept: Option<String>,
) -> crate::plan::Plan {
    let mut plan = crate::plan::plan(old, new, base);
    if plan.changes {
        plan.warnings.push(Warning::ChangeSetFoundNoChanges { reason: reason.to_string() });
    }
    plan.changes = false;
    plan.change_set = kept;
    plan
}

/// `ChangeSetName` (`[a-zA-Z][-a-zA-Z0-9]*`): unique per run.
fn change_set_name() -> String {
    let millis =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("sandboxc-plan-{millis}-{}", std::process::id())
}

/// What a change set turned out to be.
#[derive(Debug)]
pub enum Described {
    /// Changes, with the facts of the root and every nested change set.
    Facts(ChangeSetFacts),
    /// Nothing to change (either AWS wording); the reason.
    NoChanges(String),
    /// CloudFormation could not create it; status and reason.
    Failed(String),
}

/// Waits for the root change set, then describes it and every nested change set.
///
/// # Errors
/// [`CfnError`] of `DescribeChangeSet`, or [`CfnError::Timeout`].
pub async fn describe_all(cfn: &Cfn, id: &str, polling: Polling) -> Result<Described, CfnError> {
    let root = cfn.wait_change_set(id, polling).await?;
    if root.is_empty_failure() {
        return Ok(Described::NoChanges(root.reason));
    }
    if root.status != "CREATE_COMPLETE" {
        return Ok(Described::Failed(format!("{} {}", root.status, root.reason).trim().to_string()));
    }
    let mut facts = ChangeSetFacts { described: BTreeSet::from([String::new()]), resources: Vec::new() };
    let mut queue = vec![(String::new(), root, 0usize)];
    while let Some((path, state, depth)) = queue.pop() {
        for (mut fact, nested_id) in state.changes {
            fact.stack_path.clone_from(&path);
            if let (Some(nested_id), true) =
                (nested_id, fact.resource_type == "AWS::CloudFormation::Stack" && depth < MAX_NESTING)
            {
                let child_path =
                    if path.is_empty() { fact.logical_id.clone() } else { format!("{path}/{}", fact.logical_id) };
                let child = cfn.wait_change_set(&nested_id, polling).await?;
                facts.described.insert(child_path.clone());
                queue.push((child_path, child, depth + 1));
            }
            facts.resources.push(fact);
        }
    }
    Ok(Described::Facts(facts))
}
