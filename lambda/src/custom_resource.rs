//! CloudFormation custom-resource requests and responses, for the provider Lambda.
//!
//! CloudFormation invokes the provider with a request whose `RequestType` is `Create`,
//! `Update` or `Delete`, and waits (up to an hour) for a response body PUT to the
//! pre-signed `ResponseURL`. The provider must always answer, `SUCCESS` or `FAILED`, and
//! the body must not exceed [`MAX_RESPONSE_BYTES`]. Source: CloudFormation user guide,
//! "Custom resources" request and response objects.
//!
//! Physical IDs: `Create` answers with [`derived_physical_id`] (stable for one stack and
//! logical ID, so a retried `Create` gets the same ID); `Update` and `Delete` echo the
//! request's `PhysicalResourceId`, so CloudFormation never sees a replacement it did not
//! ask for.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Largest response body CloudFormation accepts, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 4096;
/// Appended to a `Reason` that was shortened to fit the response.
pub const TRUNCATION_MARK: &str = " [truncated]";
/// How many characters of the logical ID start a derived physical ID.
const PHYSICAL_ID_LOGICAL_CHARS: usize = 40;

fn empty_object() -> Value {
    Value::Object(Map::new())
}

/// The fields every request carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Common {
    /// `ServiceToken`: the provider's ARN.
    pub service_token: String,
    /// `ResponseURL`: the pre-signed S3 URL to PUT the response to.
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    /// `StackId`: the CloudFormation stack's ARN.
    pub stack_id: String,
    /// `RequestId`: unique per request.
    pub request_id: String,
    /// `ResourceType`, e.g. `Custom::HomeFolderNotification`.
    pub resource_type: String,
    /// `LogicalResourceId`: the resource's logical ID in the template.
    pub logical_resource_id: String,
    /// `ResourceProperties`: the template's properties, `ServiceToken` included; every
    /// value arrives as a string, list or object (CloudFormation turns numbers and
    /// booleans into strings). `{}` when absent.
    #[serde(default = "empty_object")]
    pub resource_properties: Value,
}

/// `RequestType: Create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateRequest {
    /// The common fields.
    #[serde(flatten)]
    pub common: Common,
}

/// `RequestType: Update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateRequest {
    /// The common fields.
    #[serde(flatten)]
    pub common: Common,
    /// `PhysicalResourceId`: the ID the provider answered before.
    pub physical_resource_id: String,
    /// `OldResourceProperties`: the properties before this update. `{}` when absent.
    #[serde(default = "empty_object")]
    pub old_resource_properties: Value,
}

/// `RequestType: Delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequest {
    /// The common fields.
    #[serde(flatten)]
    pub common: Common,
    /// `PhysicalResourceId`: the ID the provider answered before.
    pub physical_resource_id: String,
}

/// A custom-resource request, tagged by `RequestType`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "RequestType")]
pub enum Request {
    /// Create the resource.
    Create(CreateRequest),
    /// Update it (same physical ID in, same physical ID out).
    Update(UpdateRequest),
    /// Delete it.
    Delete(DeleteRequest),
}

impl Request {
    /// The fields every request carries.
    pub fn common(&self) -> &Common {
        match self {
            Request::Create(r) => &r.common,
            Request::Update(r) => &r.common,
            Request::Delete(r) => &r.common,
        }
    }

    /// `Create`, `Update` or `Delete`.
    pub fn request_type(&self) -> &'static str {
        match self {
            Request::Create(_) => "Create",
            Request::Update(_) => "Update",
            Request::Delete(_) => "Delete",
        }
    }

    /// The physical ID to answer with: derived on `Create`, echoed on `Update`/`Delete`.
    pub fn physical_resource_id(&self) -> String {
        match self {
            Request::Create(r) => derived_physical_id(&r.common.stack_id, &r.common.logical_resource_id),
            Request::Update(r) => r.physical_resource_id.clone(),
            Request::Delete(r) => r.physical_resource_id.clone(),
        }
    }
}

/// `<logical ID (letters and digits, at most 40)>-<16 hex of sha256(stack ID, "\n",
/// logical ID)>`, e.g. `HomeFolderNotification-3f1c0a9b2d4e5f60`. At most 57 ASCII
/// characters, so it also serves as an S3 notification `Id`. A recreated stack has a new
/// stack ID (it ends in a GUID), so it gets new physical IDs.
pub fn derived_physical_id(stack_id: &str, logical_id: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(stack_id.as_bytes());
    hasher.update(b"\n");
    hasher.update(logical_id.as_bytes());
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(16);
    for byte in digest.iter().take(8) {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    let name: String = logical_id.chars().filter(char::is_ascii_alphanumeric).take(PHYSICAL_ID_LOGICAL_CHARS).collect();
    let name = if name.is_empty() { "Resource" } else { &name };
    format!("{name}-{hex}")
}

/// `Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// `SUCCESS`.
    Success,
    /// `FAILED` (CloudFormation then rolls back; `Reason` is shown in the stack events).
    Failed,
}

/// The response body PUT to `ResponseURL`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    /// `Status`.
    pub status: Status,
    /// `Reason`: required for `FAILED`; shortened to fit [`MAX_RESPONSE_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `PhysicalResourceId`.
    pub physical_resource_id: String,
    /// `StackId`, copied from the request.
    pub stack_id: String,
    /// `RequestId`, copied from the request.
    pub request_id: String,
    /// `LogicalResourceId`, copied from the request.
    pub logical_resource_id: String,
    /// `NoEcho`: hide `Data` from `Fn::GetAtt` output in the console.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_echo: bool,
    /// `Data`: values for `Fn::GetAtt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Map<String, Value>>,
}

impl Response {
    /// `SUCCESS` with optional `Data`, the physical ID by the rule above.
    pub fn success(request: &Request, data: Option<Map<String, Value>>) -> Response {
        Response::new(request.common(), request.physical_resource_id(), Status::Success, None, data)
    }

    /// `FAILED` with `reason`, the physical ID by the rule above.
    pub fn failed(request: &Request, reason: &str) -> Response {
        Response::new(request.common(), request.physical_resource_id(), Status::Failed, Some(reason.to_owned()), None)
    }

    /// A response for `common`, made to fit [`MAX_RESPONSE_BYTES`]: first `Reason` is cut
    /// (on a character boundary, ending in [`TRUNCATION_MARK`]); if `Data` alone is too
    /// large it is dropped and the response becomes `FAILED` saying so.
    pub fn new(
        common: &Common,
        physical_resource_id: String,
        status: Status,
        reason: Option<String>,
        data: Option<Map<String, Value>>,
    ) -> Response {
        Response {
            status,
            reason,
            physical_resource_id,
            stack_id: common.stack_id.clone(),
            request_id: common.request_id.clone(),
            logical_resource_id: common.logical_resource_id.clone(),
            no_echo: false,
            data,
        }
        .fit()
    }

    /// The body to PUT: compact JSON, at most [`MAX_RESPONSE_BYTES`] for any response
    /// built by [`Response::new`] from request fields of normal size.
    pub fn to_body(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_else(|_| {
            // Unreachable: strings, a bool and JSON values only.
            br#"{"Status":"FAILED","Reason":"response serialization failed"}"#.to_vec()
        })
    }

    fn body_len(&self) -> usize {
        serde_json::to_vec(self).map_or(usize::MAX, |b| b.len())
    }

    fn fit(mut self) -> Response {
        if self.body_len() <= MAX_RESPONSE_BYTES {
            return self;
        }
        if let Some(reason) = self.reason.take() {
            if let Some(shorter) = self.longest_fitting_reason(&reason) {
                self.reason = Some(shorter);
                return self;
            }
            self.reason = Some(reason);
        }
        let data_bytes = self.data.take().and_then(|d| serde_json::to_vec(&d).ok()).map_or(0, |b| b.len());
        let reason = format!(
            "response Data ({data_bytes} bytes) does not fit CloudFormation's {MAX_RESPONSE_BYTES}-byte response limit"
        );
        self.status = Status::Failed;
        match self.longest_fitting_reason(&reason) {
            Some(shorter) => self.reason = Some(shorter),
            None => self.reason = Some(String::new()),
        }
        self
    }

    /// The longest `reason` prefix (plus [`TRUNCATION_MARK`] when cut) with which the
    /// body fits, or `None` when not even an empty reason fits. `self.reason` is used as
    /// scratch space and left as `None`.
    fn longest_fitting_reason(&mut self, reason: &str) -> Option<String> {
        let mut fits = |candidate: String| -> Option<String> {
            self.reason = Some(candidate);
            let ok = self.body_len() <= MAX_RESPONSE_BYTES;
            let candidate = self.reason.take().unwrap_or_default();
            ok.then_some(candidate)
        };
        if let Some(whole) = fits(reason.to_owned()) {
            return Some(whole);
        }
        // No more characters than the limit has bytes can ever fit.
        let reason = match reason.char_indices().nth(MAX_RESPONSE_BYTES) {
            Some((end, _)) => reason.get(..end).unwrap_or_default(),
            None => reason,
        };
        let cuts: Vec<usize> = reason.char_indices().map(|(i, _)| i).collect();
        let cut_at = |n: usize| {
            let end = cuts.get(n).copied().unwrap_or(reason.len());
            format!("{}{TRUNCATION_MARK}", reason.get(..end).unwrap_or_default())
        };
        // Largest n in 0..cuts.len() whose prefix fits; prefixes grow with n.
        let (mut lo, mut hi) = (0usize, cuts.len());
        let mut best = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match fits(cut_at(mid)) {
                Some(candidate) => {
                    best = Some(candidate);
                    lo = mid + 1;
                }
                None => hi = mid,
            }
        }
        best
    }
}

/// A `FAILED` response for an event that did not parse as a [`Request`], built from
/// whatever fields it has, so CloudFormation is not left waiting for an hour. Returns
/// the `ResponseURL` and the response, or `None` when the event lacks `ResponseURL`,
/// `StackId`, `RequestId` or `LogicalResourceId` (then nobody can be answered).
pub fn fallback_failure(event: &Value, reason: &str) -> Option<(String, Response)> {
    let field = |name: &str| event.get(name).and_then(Value::as_str).map(str::to_owned);
    let common = Common {
        service_token: field("ServiceToken").unwrap_or_default(),
        response_url: field("ResponseURL")?,
        stack_id: field("StackId")?,
        request_id: field("RequestId")?,
        resource_type: field("ResourceType").unwrap_or_default(),
        logical_resource_id: field("LogicalResourceId")?,
        resource_properties: empty_object(),
    };
    let physical_id = field("PhysicalResourceId")
        .unwrap_or_else(|| derived_physical_id(&common.stack_id, &common.logical_resource_id));
    let response = Response::new(&common, physical_id, Status::Failed, Some(reason.to_owned()), None);
    Some((common.response_url, response))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create() -> Request {
        serde_json::from_value(json!({
            "RequestType": "Create",
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
            "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/sbx/5b2d1e20-0000-11ef-8000-0a1b2c3d4e5f",
            "RequestId": "req-1",
            "ResourceType": "Custom::HomeFolderNotification",
            "LogicalResourceId": "HomeFolderNotification",
            "ResourceProperties": {"ServiceToken": "arn", "BucketName": "b"}
        }))
        .expect("valid create")
    }

    #[test]
    fn create_derives_a_stable_physical_id() {
        let request = create();
        let id = request.physical_resource_id();
        assert_eq!(id, request.physical_resource_id());
        assert!(id.starts_with("HomeFolderNotification-"), "{id}");
        assert_eq!(id.len(), "HomeFolderNotification-".len() + 16);
        let other_stack = derived_physical_id("arn:other", "HomeFolderNotification");
        assert_ne!(id, other_stack);
        let other_logical = derived_physical_id(&request.common().stack_id, "Other");
        assert_ne!(id, other_logical);
        assert!(derived_physical_id("s", "").starts_with("Resource-"));
        assert!(derived_physical_id("s", &"L".repeat(300)).len() <= 57);
    }

    #[test]
    fn update_and_delete_echo_the_physical_id() {
        let mut value = serde_json::to_value(create()).expect("serializes");
        value["RequestType"] = json!("Update");
        value["PhysicalResourceId"] = json!("kept-1");
        value["OldResourceProperties"] = json!({"BucketName": "a"});
        let update: Request = serde_json::from_value(value.clone()).expect("valid update");
        assert_eq!(update.physical_resource_id(), "kept-1");
        assert_eq!(update.request_type(), "Update");
        value["RequestType"] = json!("Delete");
        let delete: Request = serde_json::from_value(value).expect("valid delete");
        assert_eq!(delete.physical_resource_id(), "kept-1");
        assert_eq!(Response::failed(&delete, "x").physical_resource_id, "kept-1");
    }

    #[test]
    fn unknown_request_types_do_not_parse() {
        let mut value = serde_json::to_value(create()).expect("serializes");
        value["RequestType"] = json!("Replace");
        assert!(serde_json::from_value::<Request>(value).is_err());
    }

    #[test]
    fn success_body_shape() {
        let mut data = Map::new();
        data.insert("NotificationId".into(), json!("n-1"));
        let response = Response::success(&create(), Some(data));
        let body: Value = serde_json::from_slice(&response.to_body()).expect("json");
        assert_eq!(
            body,
            json!({
                "Status": "SUCCESS",
                "PhysicalResourceId": create().physical_resource_id(),
                "StackId": create().common().stack_id,
                "RequestId": "req-1",
                "LogicalResourceId": "HomeFolderNotification",
                "Data": {"NotificationId": "n-1"}
            })
        );
    }

    #[test]
    fn long_reasons_are_cut_to_fit() {
        let reason = format!("{}{}", "é".repeat(3000), "tail");
        let response = Response::failed(&create(), &reason);
        let body = response.to_body();
        assert!(body.len() <= MAX_RESPONSE_BYTES, "{}", body.len());
        assert!(body.len() > MAX_RESPONSE_BYTES - 16, "cut no more than needed: {}", body.len());
        let kept = response.reason.expect("a reason");
        assert!(kept.ends_with(TRUNCATION_MARK));
        assert!(reason.starts_with(kept.trim_end_matches(TRUNCATION_MARK)));
    }

    #[test]
    fn control_characters_count_at_their_escaped_size() {
        let reason = "\u{1}".repeat(5000);
        let response = Response::failed(&create(), &reason);
        assert!(response.to_body().len() <= MAX_RESPONSE_BYTES);
    }

    #[test]
    fn short_reasons_are_kept() {
        let response = Response::failed(&create(), "bucket not found");
        assert_eq!(response.reason.as_deref(), Some("bucket not found"));
        assert_eq!(response.status, Status::Failed);
    }

    #[test]
    fn oversized_data_becomes_a_failure() {
        let mut data = Map::new();
        data.insert("Big".into(), json!("x".repeat(10_000)));
        let response = Response::success(&create(), Some(data));
        assert_eq!(response.status, Status::Failed);
        assert_eq!(response.data, None);
        assert!(response.reason.as_deref().is_some_and(|r| r.contains("Data")));
        assert!(response.to_body().len() <= MAX_RESPONSE_BYTES);
    }

    #[test]
    fn fallback_answers_broken_events() {
        let event = json!({
            "RequestType": "Frobnicate",
            "ResponseURL": "https://example.invalid/r",
            "StackId": "arn:stack",
            "RequestId": "r-9",
            "LogicalResourceId": "Thing"
        });
        let (url, response) = fallback_failure(&event, "unknown RequestType").expect("answerable");
        assert_eq!(url, "https://example.invalid/r");
        assert_eq!(response.status, Status::Failed);
        assert_eq!(response.physical_resource_id, derived_physical_id("arn:stack", "Thing"));
        assert_eq!(fallback_failure(&json!({"StackId": "s"}), "x"), None);
        assert_eq!(fallback_failure(&json!([1, 2]), "x"), None);
    }
}
