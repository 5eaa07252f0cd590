//! `Custom::UsageReportSubscription`: AppStream's daily usage reports for this Region.
//!
//! `CreateUsageReportSubscription` (no parameters, one subscription per account and Region)
//! answers with the reports bucket (`appstream-logs-<region>-<account>-<random>`), returned
//! as the attribute [`USAGE_REPORT_BUCKET_ATTRIBUTE`] (read by the template with `Fn::GetAtt`). If creating fails but
//! `DescribeUsageReportSubscriptions` shows an existing subscription, that one is used.
//! `Delete` leaves the subscription in place: the audit trail outlives the sandbox.
//! Source: AppStream 2.0 API reference, `CreateUsageReportSubscription`.

pub use sandboxc_contract::custom_resource::USAGE_REPORT_BUCKET_ATTRIBUTE;
use serde_json::{Map, Value};

use super::Outcome;
use crate::custom_resource::Request;

/// Handles one request; see the module docs.
pub async fn handle(appstream: &aws_sdk_appstream::Client, request: &Request) -> Outcome {
    if matches!(request, Request::Delete(_)) {
        return Ok(None);
    }
    let bucket = match appstream.create_usage_report_subscription().send().await {
        Ok(output) => output.s3_bucket_name().map(str::to_owned),
        Err(create_error) => {
            let existing = existing_bucket(appstream).await;
            match existing {
                Some(bucket) => Some(bucket),
                None => {
                    return Err(format!(
                        "CreateUsageReportSubscription failed: {}",
                        crate::validate::sdk_detail(&create_error)
                    ))
                }
            }
        }
    };
    let bucket = match bucket {
        Some(bucket) if !bucket.is_empty() => bucket,
        _ => existing_bucket(appstream).await.ok_or_else(|| {
            "CreateUsageReportSubscription returned no S3BucketName and \
             DescribeUsageReportSubscriptions shows no subscription"
                .to_owned()
        })?,
    };
    let mut data = Map::new();
    data.insert(USAGE_REPORT_BUCKET_ATTRIBUTE.to_owned(), Value::String(bucket));
    Ok(Some(data))
}

/// The bucket of the first existing subscription, if any (errors count as none).
async fn existing_bucket(appstream: &aws_sdk_appstream::Client) -> Option<String> {
    let output = appstream.describe_usage_report_subscriptions().send().await.ok()?;
    output
        .usage_report_subscriptions()
        .iter()
        .find_map(|s| s.s3_bucket_name().filter(|b| !b.is_empty()).map(str::to_owned))
}
