//! An in-memory CloudFormation, assets bucket and preflight probe for the stack lifecycle's
//! tests: each
//! implements the trait `src/aws` implements over the AWS SDK, answers from a script, and
//! records every call it was asked.
//!
//! Scripts follow CloudFormation's API (the facts are in tests/apply_scripted.rs):
//! `DescribeStacks` answers per stack name or ARN, in order, the last answer repeatedly;
//! `DescribeStackEvents` answers a whole history (newest first, one page), in order, the last
//! repeatedly; `DescribeChangeSet` per change set ARN likewise.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use sandboxc::deploy::assets::{AssetStore, StoreError};
use sandboxc::deploy::cloudformation::{
    CfnError, ChangeSetKind, ChangeSetRequest, ChangeSetState, CloudFormation, DriftDetection, EventsPage,
    ResourceDrift, StackEvent, StackInfo, StackResource,
};
use sandboxc::deploy::network::{Ec2Error, PrefixLists};
use sandboxc::deploy::preflight::{BucketState, Probe, ProbeError};

/// One call to the fake CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `DescribeStacks` of a name or ARN.
    DescribeStacks(String),
    /// `GetTemplate`.
    GetTemplate(String),
    /// `ListStackResources`.
    ListResources(String),
    /// `DescribeStackEvents`.
    Events(String),
    /// `CreateChangeSet`.
    CreateChangeSet(Box<ChangeSetRequest>),
    /// `DescribeChangeSet`.
    DescribeChangeSet(String),
    /// `ExecuteChangeSet`.
    ExecuteChangeSet(String),
    /// `DeleteChangeSet`.
    DeleteChangeSet(String),
    /// `DeleteStack`.
    DeleteStack(String),
    /// `UpdateTerminationProtection`.
    TerminationProtection(String, bool),
    /// `SetStackPolicy` with its body.
    StackPolicy(String, String),
    /// `DetectStackDrift`.
    DetectDrift(String),
    /// `DescribeStackDriftDetectionStatus`.
    DriftDetection(String),
    /// `DescribeStackResourceDrifts`.
    ResourceDrifts(String),
}

impl Call {
    /// The calls that change something, as one line each: `CreateChangeSet CREATE` (`UPDATE`,
    /// `IMPORT STACK (N resources)`),
    /// `ExecuteChangeSet ARN`, `DeleteChangeSet ARN`, `DeleteStack NAME`,
    /// `UpdateTerminationProtection NAME true`, `SetStackPolicy NAME protecting|lifted`.
    pub fn change(&self) -> Option<String> {
        Some(match self {
            Self::CreateChangeSet(r) => match &r.kind {
                ChangeSetKind::Create => "CreateChangeSet CREATE".to_string(),
                ChangeSetKind::Update => "CreateChangeSet UPDATE".to_string(),
                ChangeSetKind::Import(items) => {
                    format!("CreateChangeSet IMPORT {} ({} resources)", r.stack_name, items.len())
                }
            },
            Self::ExecuteChangeSet(id) => format!("ExecuteChangeSet {id}"),
            Self::DeleteChangeSet(id) => format!("DeleteChangeSet {id}"),
            Self::DeleteStack(s) => format!("DeleteStack {s}"),
            Self::TerminationProtection(s, on) => format!("UpdateTerminationProtection {s} {on}"),
            Self::StackPolicy(s, body) => {
                format!("SetStackPolicy {s} {}", if body.contains("Deny") { "protecting" } else { "lifted" })
            }
            _ => return None,
        })
    }
}

/// A scripted answer sequence: in order, the last one repeatedly.
#[derive(Debug, Clone)]
struct Script<T>(VecDeque<T>);

impl<T: Clone> Script<T> {
    fn next(&mut self) -> Option<T> {
        if self.0.len() > 1 {
            self.0.pop_front()
        } else {
            self.0.front().cloned()
        }
    }
}

/// The key answering for any stack name without its own script.
pub const ANY: &str = "*";

#[derive(Debug, Default)]
struct State {
    stacks: HashMap<String, Script<Option<StackInfo>>>,
    events: HashMap<String, Script<Vec<StackEvent>>>,
    templates: HashMap<String, String>,
    resources: HashMap<String, Vec<StackResource>>,
    change_sets: HashMap<String, Script<ChangeSetState>>,
    create: Option<Script<Result<String, CfnError>>>,
    execute: Option<Result<(), CfnError>>,
    drift_id: String,
    detections: Option<Script<DriftDetection>>,
    drifts: HashMap<String, Vec<ResourceDrift>>,
    policy_errors: HashMap<String, CfnError>,
    calls: Vec<Call>,
}

/// The fake CloudFormation; clones share one state.
#[derive(Debug, Clone, Default)]
pub struct FakeCfn {
    state: Arc<Mutex<State>>,
}

impl FakeCfn {
    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }

    /// `DescribeStacks` of `name` (a name, an ARN, or [`ANY`]) answers `answers` in order,
    /// the last repeatedly; `None` is "does not exist".
    pub fn stack(&self, name: &str, answers: Vec<Option<StackInfo>>) -> &Self {
        self.with(|s| s.stacks.insert(name.to_string(), Script(answers.into())));
        self
    }

    /// `DescribeStackEvents` of `stack_id` answers each history (given oldest first) in
    /// order, the last repeatedly.
    pub fn events(&self, stack_id: &str, histories: Vec<Vec<StackEvent>>) -> &Self {
        let newest_first = histories
            .into_iter()
            .map(|mut h| {
                h.reverse();
                h
            })
            .collect();
        self.with(|s| s.events.insert(stack_id.to_string(), Script(newest_first)));
        self
    }

    /// `GetTemplate` of `stack` (name or ARN, or [`ANY`]).
    pub fn template(&self, stack: &str, body: &str) -> &Self {
        self.with(|s| s.templates.insert(stack.to_string(), body.to_string()));
        self
    }

    /// `ListStackResources` of `stack` (or [`ANY`]); default: none.
    pub fn resources(&self, stack: &str, resources: Vec<StackResource>) -> &Self {
        self.with(|s| s.resources.insert(stack.to_string(), resources));
        self
    }

    /// `DescribeChangeSet` of `id` answers `states` in order, the last repeatedly.
    pub fn change_set(&self, id: &str, states: Vec<ChangeSetState>) -> &Self {
        self.with(|s| s.change_sets.insert(id.to_string(), Script(states.into())));
        self
    }

    /// `CreateChangeSet` answers `answers` in order, the last repeatedly (default: the ARN
    /// `change_set`, set by the tests).
    pub fn create(&self, answers: Vec<Result<String, CfnError>>) -> &Self {
        self.with(|s| s.create = Some(Script(answers.into())));
        self
    }

    /// `ExecuteChangeSet` answers `answer` (default: success).
    pub fn execute(&self, answer: Result<(), CfnError>) -> &Self {
        self.with(|s| s.execute = Some(answer));
        self
    }

    /// Drift detection: `DetectStackDrift` answers `id`, `DescribeStackDriftDetectionStatus`
    /// answers `detections` in order, `DescribeStackResourceDrifts` of each stack its drifts.
    pub fn drift(&self, id: &str, detections: Vec<DriftDetection>, drifts: Vec<(&str, Vec<ResourceDrift>)>) -> &Self {
        self.with(|s| {
            s.drift_id = id.to_string();
            s.detections = Some(Script(detections.into()));
            s.drifts = drifts.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        });
        self
    }

    /// `SetStackPolicy` on `stack` (name or ARN) answers `error`.
    pub fn refuse_policy(&self, stack: &str, error: CfnError) -> &Self {
        self.with(|s| s.policy_errors.insert(stack.to_string(), error));
        self
    }

    /// Every call, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.with(|s| s.calls.clone())
    }

    /// The calls that change something, one line each ([`Call::change`]).
    pub fn log(&self) -> Vec<String> {
        self.calls().iter().filter_map(Call::change).collect()
    }

    /// How many calls match.
    pub fn count(&self, matches: impl Fn(&Call) -> bool) -> usize {
        self.calls().iter().filter(|c| matches(c)).count()
    }

    /// How many logged changes start with `prefix`.
    pub fn changes(&self, prefix: &str) -> usize {
        self.log().iter().filter(|l| l.starts_with(prefix)).count()
    }

    /// Position of the first logged change starting with `prefix`.
    pub fn pos(&self, prefix: &str) -> usize {
        let log = self.log();
        log.iter().position(|e| e.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in {log:#?}"))
    }

    /// The `CreateChangeSet` requests.
    pub fn created(&self) -> Vec<ChangeSetRequest> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::CreateChangeSet(r) => Some(*r),
                _ => None,
            })
            .collect()
    }

    fn call(&self, call: Call) {
        self.with(|s| s.calls.push(call));
    }
}

fn missing(api: &'static str, what: &str) -> CfnError {
    CfnError::Call { api, message: format!("the fake has no answer for {what}") }
}

impl CloudFormation for FakeCfn {
    async fn describe_stack(&self, stack: &str) -> Result<StackInfo, CfnError> {
        self.call(Call::DescribeStacks(stack.to_string()));
        let answer = self.with(|s| {
            if s.stacks.contains_key(stack) {
                s.stacks.get_mut(stack).and_then(Script::next)
            } else {
                s.stacks.get_mut(ANY).and_then(Script::next)
            }
        });
        answer.flatten().ok_or_else(|| CfnError::NotFound { stack: stack.to_string() })
    }

    async fn get_template(&self, stack: &str) -> Result<String, CfnError> {
        self.call(Call::GetTemplate(stack.to_string()));
        self.with(|s| s.templates.get(stack).or_else(|| s.templates.get(ANY)).cloned())
            .ok_or_else(|| missing("GetTemplate", stack))
    }

    async fn list_resources(&self, stack: &str) -> Result<Vec<StackResource>, CfnError> {
        self.call(Call::ListResources(stack.to_string()));
        Ok(self.with(|s| s.resources.get(stack).or_else(|| s.resources.get(ANY)).cloned().unwrap_or_default()))
    }

    async fn events_page(&self, stack: &str, _next_token: Option<String>) -> Result<EventsPage, CfnError> {
        self.call(Call::Events(stack.to_string()));
        let events = self.with(|s| s.events.get_mut(stack).and_then(Script::next)).unwrap_or_default();
        Ok(EventsPage { events, next_token: None })
    }

    async fn create_change_set(&self, request: &ChangeSetRequest) -> Result<String, CfnError> {
        self.call(Call::CreateChangeSet(Box::new(request.clone())));
        self.with(|s| s.create.as_mut().and_then(Script::next)).unwrap_or_else(|| Err(missing("CreateChangeSet", "it")))
    }

    async fn describe_change_set(&self, id: &str) -> Result<ChangeSetState, CfnError> {
        self.call(Call::DescribeChangeSet(id.to_string()));
        self.with(|s| s.change_sets.get_mut(id).and_then(Script::next)).ok_or_else(|| missing("DescribeChangeSet", id))
    }

    async fn execute_change_set(&self, id: &str) -> Result<(), CfnError> {
        self.call(Call::ExecuteChangeSet(id.to_string()));
        self.with(|s| s.execute.clone()).unwrap_or(Ok(()))
    }

    async fn delete_change_set(&self, id: &str) -> Result<(), CfnError> {
        self.call(Call::DeleteChangeSet(id.to_string()));
        Ok(())
    }

    async fn delete_stack(&self, stack: &str) -> Result<(), CfnError> {
        self.call(Call::DeleteStack(stack.to_string()));
        Ok(())
    }

    async fn set_termination_protection(&self, stack: &str, on: bool) -> Result<(), CfnError> {
        self.call(Call::TerminationProtection(stack.to_string(), on));
        Ok(())
    }

    async fn set_stack_policy(&self, stack: &str, body: &str) -> Result<(), CfnError> {
        self.call(Call::StackPolicy(stack.to_string(), body.to_string()));
        self.with(|s| s.policy_errors.get(stack).cloned()).map_or(Ok(()), Err)
    }

    async fn detect_drift(&self, stack: &str) -> Result<String, CfnError> {
        self.call(Call::DetectDrift(stack.to_string()));
        Ok(self.with(|s| s.drift_id.clone()))
    }

    async fn drift_detection(&self, id: &str) -> Result<DriftDetection, CfnError> {
        self.call(Call::DriftDetection(id.to_string()));
        self.with(|s| s.detections.as_mut().and_then(Script::next))
            .ok_or_else(|| missing("DescribeStackDriftDetectionStatus", id))
    }

    async fn resource_drifts(&self, stack: &str) -> Result<Vec<ResourceDrift>, CfnError> {
        self.call(Call::ResourceDrifts(stack.to_string()));
        Ok(self.with(|s| s.drifts.get(stack).cloned().unwrap_or_default()))
    }
}

#[derive(Debug, Default)]
struct Bucket {
    present: Vec<String>,
    put_error: Option<StoreError>,
    bucket_missing: bool,
    puts: Vec<String>,
    heads: usize,
}

/// The fake assets bucket (and AppStream's home-folder bucket): keys under `lambda/` exist,
/// every other key is missing until put; `PutObject` succeeds unless told otherwise; every
/// bucket exists unless told otherwise.
#[derive(Debug, Clone, Default)]
pub struct FakeStore {
    state: Arc<Mutex<Bucket>>,
}

impl FakeStore {
    /// `PutObject` answers `error`.
    pub fn refuse_puts(&self, error: StoreError) -> &Self {
        self.state.lock().unwrap().put_error = Some(error);
        self
    }

    /// `HeadBucket` answers 404.
    pub fn without_buckets(&self) -> &Self {
        self.state.lock().unwrap().bucket_missing = true;
        self
    }

    /// The keys `PutObject` was asked for, in order.
    pub fn puts(&self) -> Vec<String> {
        self.state.lock().unwrap().puts.clone()
    }
}

impl AssetStore for FakeStore {
    async fn object_size(&self, _bucket: &str, key: &str) -> Result<Option<u64>, StoreError> {
        let mut s = self.state.lock().unwrap();
        s.heads += 1;
        Ok((key.starts_with("lambda/") || s.present.iter().any(|k| k == key)).then_some(1))
    }

    async fn put_object(
        &self,
        _bucket: &str,
        key: &str,
        _body: Vec<u8>,
        _content_type: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.state.lock().unwrap();
        s.puts.push(key.to_string());
        match &s.put_error {
            Some(e) => Err(e.clone()),
            None => {
                s.present.push(key.to_string());
                Ok(())
            }
        }
    }

    async fn bucket_exists(&self, _bucket: &str) -> Result<bool, StoreError> {
        Ok(!self.state.lock().unwrap().bucket_missing)
    }
}

/// The fake EC2 of `apply`'s S3 prefix-list lookup: answers `pl-0123456789abcdef0` for
/// `com.amazonaws.<region>.s3` unless told otherwise, and records every name asked for.
#[derive(Debug, Clone, Default)]
pub struct FakePrefixLists {
    state: Arc<Mutex<Lists>>,
}

/// The scripted answer (`None`: the default) and the names asked for.
#[derive(Debug, Default)]
struct Lists {
    answer: Option<Result<Option<String>, Ec2Error>>,
    asked: Vec<String>,
}

/// The prefix-list ID [`FakePrefixLists`] answers by default.
pub const S3_PREFIX_LIST: &str = "pl-0123456789abcdef0";

impl FakePrefixLists {
    /// `DescribePrefixLists` answers `answer` (`Ok(None)`: no list of that name).
    pub fn answer(&self, answer: Result<Option<String>, Ec2Error>) -> &Self {
        self.state.lock().unwrap().answer = Some(answer);
        self
    }

    /// The names asked for, in order.
    pub fn asked(&self) -> Vec<String> {
        self.state.lock().unwrap().asked.clone()
    }
}

impl PrefixLists for FakePrefixLists {
    async fn prefix_list_id(&self, name: &str) -> Result<Option<String>, Ec2Error> {
        let mut s = self.state.lock().unwrap();
        s.asked.push(name.to_string());
        s.answer.clone().unwrap_or_else(|| Ok(name.ends_with(".s3").then(|| S3_PREFIX_LIST.to_string())))
    }
}

/// The fake preflight probe: answers from its fields; records every call.
#[derive(Debug, Clone, Default)]
pub struct FakeProbe {
    state: Arc<Mutex<ProbeState>>,
}

#[derive(Debug, Default)]
struct ProbeState {
    /// Image name -> state; missing: no such image.
    images: HashMap<String, String>,
    /// Existing SAML provider ARNs.
    saml: Vec<String>,
    /// Existing log group names.
    log_groups: Vec<String>,
    /// Bucket name -> state (missing: absent).
    buckets: HashMap<String, BucketState>,
    /// Bucket name -> default-encryption KMS key.
    bucket_keys: HashMap<String, String>,
    /// Notebook name -> status.
    notebooks: HashMap<String, String>,
    /// API -> error.
    errors: HashMap<&'static str, ProbeError>,
    calls: Vec<String>,
}

impl FakeProbe {
    /// A probe where the image `image` is AVAILABLE and nothing else exists.
    pub fn with_image(image: &str) -> Self {
        let p = Self::default();
        p.image(image, "AVAILABLE");
        p
    }

    /// `DescribeImages` of `name` answers `state`.
    pub fn image(&self, name: &str, state: &str) -> &Self {
        self.state.lock().unwrap().images.insert(name.into(), state.into());
        self
    }

    /// `DescribeImages` finds nothing.
    pub fn no_images(&self) -> &Self {
        self.state.lock().unwrap().images.clear();
        self
    }

    /// The SAML provider `arn` exists.
    pub fn saml(&self, arn: &str) -> &Self {
        self.state.lock().unwrap().saml.push(arn.into());
        self
    }

    /// The log group `name` exists.
    pub fn log_group(&self, name: &str) -> &Self {
        self.state.lock().unwrap().log_groups.push(name.into());
        self
    }

    /// `HeadBucket` of `name` answers `state`; `key`: its default-encryption KMS key.
    pub fn bucket(&self, name: &str, state: BucketState, key: Option<&str>) -> &Self {
        let mut s = self.state.lock().unwrap();
        s.buckets.insert(name.into(), state);
        if let Some(k) = key {
            s.bucket_keys.insert(name.into(), k.into());
        }
        drop(s);
        self
    }

    /// The notebook instance `name` exists in `status`.
    pub fn notebook(&self, name: &str, status: &str) -> &Self {
        self.state.lock().unwrap().notebooks.insert(name.into(), status.into());
        self
    }

    /// Calls of `api` (`appstream:DescribeImages`...) fail; `message` starting with
    /// `AccessDenied` is a refusal for want of permission, anything else another failure.
    pub fn fail(&self, api: &'static str, message: &str) -> &Self {
        let denied = message.starts_with("AccessDenied");
        self.state.lock().unwrap().errors.insert(api, ProbeError { api, message: message.into(), denied });
        self
    }

    /// Every call: `api name`.
    pub fn calls(&self) -> Vec<String> {
        self.state.lock().unwrap().calls.clone()
    }

    fn call(&self, api: &'static str, name: &str) -> Result<(), ProbeError> {
        let mut s = self.state.lock().unwrap();
        s.calls.push(format!("{api} {name}"));
        s.errors.get(api).cloned().map_or(Ok(()), Err)
    }
}

impl Probe for FakeProbe {
    async fn image(&self, name: &str) -> Result<Option<String>, ProbeError> {
        self.call("appstream:DescribeImages", name)?;
        Ok(self.state.lock().unwrap().images.get(name).cloned())
    }

    async fn saml_provider(&self, arn: &str) -> Result<bool, ProbeError> {
        self.call("iam:GetSAMLProvider", arn)?;
        Ok(self.state.lock().unwrap().saml.iter().any(|a| a == arn))
    }

    async fn log_group(&self, name: &str) -> Result<bool, ProbeError> {
        self.call("logs:DescribeLogGroups", name)?;
        Ok(self.state.lock().unwrap().log_groups.iter().any(|g| g == name))
    }

    async fn bucket(&self, name: &str) -> Result<BucketState, ProbeError> {
        self.call("s3:ListBucket", name)?;
        Ok(self.state.lock().unwrap().buckets.get(name).copied().unwrap_or(BucketState::Absent))
    }

    async fn bucket_key(&self, name: &str) -> Result<Option<String>, ProbeError> {
        self.call("s3:GetEncryptionConfiguration", name)?;
        Ok(self.state.lock().unwrap().bucket_keys.get(name).cloned())
    }

    async fn notebook(&self, name: &str) -> Result<Option<String>, ProbeError> {
        self.call("sagemaker:DescribeNotebookInstance", name)?;
        Ok(self.state.lock().unwrap().notebooks.get(name).cloned())
    }
}
