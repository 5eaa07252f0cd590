//! `Custom::HomeFolderNotification`: the home-folder bucket's EventBridge delivery, turned on
//! for this sandbox's EventBridge rule (see [`crate::notification`]).
//!
//! Properties: `BucketName` (the AppStream home-folder bucket); earlier versions also wrote
//! `FunctionArn`, the target of their S3 -> Lambda entry, whose `Id` was (and is) the resource's
//! physical ID. Each request reads the configuration (`GetBucketNotificationConfiguration`),
//! changes only what is ours, and writes the result (`PutBucketNotificationConfiguration`) only
//! when it changed; both calls carry `ExpectedBucketOwner` (the stack's account), so a bucket of
//! the same name in another account is never touched. Every topic, queue and Lambda entry of
//! anyone else is written back as read.
//!
//! - `Create`: turn EventBridge delivery on; remove an entry with our `Id` if there is one.
//! - `Update`: the same, in place. An update from an earlier version (old properties with
//!   `FunctionArn`) thereby moves the sandbox from its S3 -> Lambda entry to EventBridge in one
//!   write: CloudFormation sends it after the rule and its permission exist, so every session
//!   file is delivered by one or the other. When `BucketName` changed, our entry is first removed
//!   from the old bucket.
//! - `Delete`: remove our entry if there is one; a bucket that is gone has nothing to remove.
//!
//! **EventBridge delivery is never turned off.** It is one switch per bucket, shared by every
//! sandbox of the account and Region (each has its own rule on the default bus) and by anyone
//! else's rules on the bucket's events; nothing in the bucket's configuration says who relies on
//! it, so a delete cannot know that no one does, and turning it off would silently stop every
//! other sandbox's validator. Left on, it costs nothing (S3 sends its events to the default bus
//! free of charge; a rule that matches nothing does nothing) and changes nothing for the other
//! entries (S3 user guide, "Using EventBridge": EventBridge delivery is in addition to the
//! bucket's other destinations). So a later delete leaves it on, whether or not another sandbox
//! still uses it.
//!
//! The bucket belongs to AppStream, which creates it when the first session with home
//! folders starts; before that the request fails with [`missing_bucket_reason`].

use aws_sdk_s3::error::ProvideErrorMetadata;

use super::Outcome;
use crate::custom_resource::Request;
use crate::notification::{enable_eventbridge, home_folder_properties, remove, NotificationConfiguration};

mod convert;

pub use convert::{from_sdk, to_sdk};

/// The `FAILED` reason when the home-folder bucket does not exist yet.
pub fn missing_bucket_reason(bucket: &str) -> String {
    format!(
        "The AppStream home-folder bucket {bucket} does not exist yet. AppStream creates it \
         when the first streaming session with home folders starts in this Region: start one \
         session on this sandbox's AppStream stack, wait until the bucket exists, then deploy \
         again (sandboxc apply)."
    )
}

/// Handles one request; see the module docs.
pub async fn handle(s3: &aws_sdk_s3::Client, request: &Request) -> Outcome {
    let id = request.physical_resource_id();
    let owner = account_of(&request.common().stack_id);
    match request {
        Request::Create(r) => {
            let new = home_folder_properties(&r.common.resource_properties)?;
            turn_on(s3, &new.bucket_name, &id, owner).await
        }
        Request::Update(r) => {
            let new = home_folder_properties(&r.common.resource_properties)?;
            if let Ok(old) = home_folder_properties(&r.old_resource_properties) {
                if old.bucket_name != new.bucket_name {
                    remove_ours(s3, &old.bucket_name, &id, owner).await?;
                }
            }
            turn_on(s3, &new.bucket_name, &id, owner).await
        }
        Request::Delete(r) => {
            // Properties that never parsed never produced an entry: nothing to remove.
            match home_folder_properties(&r.common.resource_properties) {
                Ok(props) => remove_ours(s3, &props.bucket_name, &id, owner).await,
                Err(_) => Ok(None),
            }
        }
    }
}

/// The 12-digit account of an ARN (its fifth field), if it has one.
fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
}

/// EventBridge delivery on, and the S3 -> Lambda entry with our `Id` (earlier versions) gone.
async fn turn_on(s3: &aws_sdk_s3::Client, bucket: &str, id: &str, owner: Option<&str>) -> Outcome {
    let before = read(s3, bucket, owner).await?.ok_or_else(|| missing_bucket_reason(bucket))?;
    let after = enable_eventbridge(remove(before.clone(), id));
    if after != before {
        write(s3, bucket, owner, &after).await?;
    }
    Ok(None)
}

async fn remove_ours(s3: &aws_sdk_s3::Client, bucket: &str, id: &str, owner: Option<&str>) -> Outcome {
    let Some(before) = read(s3, bucket, owner).await? else {
        return Ok(None);
    };
    let after = remove(before.clone(), id);
    if after != before {
        write(s3, bucket, owner, &after).await?;
    }
    Ok(None)
}

/// The bucket's configuration, or `None` when the bucket does not exist.
async fn read(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    owner: Option<&str>,
) -> Result<Option<NotificationConfiguration>, String> {
    let result = s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .set_expected_bucket_owner(owner.map(str::to_owned))
        .send()
        .await;
    match result {
        Ok(output) => Ok(Some(from_sdk(&output))),
        Err(e) if e.code() == Some("NoSuchBucket") => Ok(None),
        Err(e) => {
            Err(format!("GetBucketNotificationConfiguration on {bucket} failed: {}", crate::validate::sdk_detail(&e)))
        }
    }
}

async fn write(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    owner: Option<&str>,
    config: &NotificationConfiguration,
) -> Result<(), String> {
    let sdk = to_sdk(config)?;
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .set_expected_bucket_owner(owner.map(str::to_owned))
        .notification_configuration(sdk)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            if e.code() == Some("NoSuchBucket") {
                missing_bucket_reason(bucket)
            } else {
                format!("PutBucketNotificationConfiguration on {bucket} failed: {}", crate::validate::sdk_detail(&e))
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_come_from_the_stack_arn() {
        assert_eq!(account_of("arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"), Some("123456789012"));
        assert_eq!(account_of("arn:aws:cloudformation:us-east-1::stack"), None);
        assert_eq!(account_of(""), None);
        assert!(missing_bucket_reason("b").contains("start one session"));
    }
}
