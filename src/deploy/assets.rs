//! Publishing assets: nested templates, a root template too large to send inline, and the
//! Lambda zips, each under its content-addressed key in the assets bucket. An object already
//! there with the same size (`HeadObject`) is not uploaded again: the key names its content.
//!
//! The bucket is reached through the [`AssetStore`] trait (S3 `HeadObject`, `PutObject`,
//! `HeadBucket`), implemented over the AWS SDK by `src/aws` and in memory by the tests.

use std::future::Future;

/// What the stack lifecycle needs from S3.
pub trait AssetStore {
    /// `HeadObject`: the object's size when it exists, `None` when S3 answers 404 (NotFound).
    ///
    /// # Errors
    /// [`StoreError`] for any other answer (AccessDenied, NoSuchBucket...).
    fn object_size(&self, bucket: &str, key: &str) -> impl Future<Output = Result<Option<u64>, StoreError>> + Send;

    /// `PutObject` of `body` with `Content-Type` `content_type`.
    ///
    /// # Errors
    /// [`StoreError`].
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// `HeadBucket`: whether the bucket exists (`false` on 404).
    ///
    /// # Errors
    /// [`StoreError`] for any other answer (403 when it belongs to someone else...).
    fn bucket_exists(&self, bucket: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What S3 answered instead of success: its error code (`NoSuchBucket`, `AccessDenied`...)
/// when there is one, and the message (or, without a code, the whole problem: a timeout
/// naming the endpoint, a refused connection...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", match code { Some(c) => format!("{c}: {message}"), None => message.clone() })]
pub struct StoreError {
    /// S3's error code, if any.
    pub code: Option<String>,
    /// S3's error message, or the problem.
    pub message: String,
}

/// One object to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Key in the assets bucket, such as `templates/<sha256>.json` or
    /// `lambda/<identity>/validator.zip`.
    pub key: String,
    /// What it is, for messages (`nested template Network`, `Lambda zip validator`...).
    pub what: String,
    /// The bytes, exactly as synth or package wrote them.
    pub body: Vec<u8>,
    /// `Content-Type`.
    pub content_type: &'static str,
}

/// What publishing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// Keys uploaded now.
    pub uploaded: Vec<String>,
    /// Keys already in the bucket.
    pub present: Vec<String>,
}

/// Why an asset could not be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot publish {what} to s3://{bucket}/{key} ({api}): {}; no change set was created", describe(.error))]
pub struct AssetError {
    /// The asset.
    pub what: String,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// `HeadObject` or `PutObject`.
    pub api: &'static str,
    /// What S3 answered.
    pub error: StoreError,
}

/// An S3 error for people, with what to do about the common ones.
fn describe(e: &StoreError) -> String {
    match e.code.as_deref() {
        Some("NoSuchBucket") => {
            "the bucket does not exist: run `sandboxc bootstrap`, or name an existing bucket with --assets-bucket".into()
        }
        Some(code @ ("AccessDenied" | "Forbidden")) => format!(
            "{code}: the credentials need s3:GetObject and s3:PutObject on the assets bucket, and kms:GenerateDataKey and kms:Decrypt on its key"
        ),
        _ => e.to_string(),
    }
}

/// The S3 URL CloudFormation reads a template from (`TemplateURL`), in the form the root
/// template uses for nested stacks: `https://BUCKET.s3.URLSUFFIX/KEY`, where the URL suffix
/// is `amazonaws.com.cn` in the China Regions (`cn-*`) and `amazonaws.com` elsewhere (the
/// `AWS::URLSuffix` pseudo parameter).
#[must_use]
pub fn template_url(bucket: &str, region: &str, key: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://{bucket}.s3.{suffix}/{key}")
}

/// Publishes `assets` to `bucket` one after another; the first failure stops the rest.
///
/// # Errors
/// [`AssetError`] naming the asset, the call and the reason.
pub async fn publish<S: AssetStore>(store: &S, bucket: &str, assets: &[Asset]) -> Result<Published, AssetError> {
    let mut published = Published::default();
    for a in assets {
        let err = |api: &'static str, error: StoreError| AssetError {
            what: a.what.clone(),
            bucket: bucket.into(),
            key: a.key.clone(),
            api,
            error,
        };
        match store.object_size(bucket, &a.key).await {
            Ok(Some(size)) if usize::try_from(size).is_ok_and(|s| s == a.body.len()) => {
                published.present.push(a.key.clone());
                continue;
            }
            Ok(_) => {}
            Err(e) => return Err(err("HeadObject", e)),
        }
        store.put_object(bucket, &a.key, a.body.clone(), a.content_type).await.map_err(|e| err("PutObject", e))?;
        published.uploaded.push(a.key.clone());
    }
    Ok(published)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_urls_follow_the_partition() {
        assert_eq!(template_url("b", "us-east-1", "k.json"), "https://b.s3.amazonaws.com/k.json");
        assert_eq!(template_url("b", "cn-north-1", "k.json"), "https://b.s3.amazonaws.com.cn/k.json");
    }

    #[test]
    fn common_s3_errors_say_what_to_do() {
        let e = AssetError {
            what: "Lambda zip validator".into(),
            bucket: "b".into(),
            key: "k".into(),
            api: "PutObject",
            error: StoreError {
                code: Some("NoSuchBucket".into()),
                message: "The specified bucket does not exist".into(),
            },
        };
        let text = e.to_string();
        assert!(text.contains("s3://b/k (PutObject)") && text.contains("sandboxc bootstrap"), "{text}");
        assert!(text.ends_with("; no change set was created"), "{text}");
    }
}
