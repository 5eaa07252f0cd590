//! Publishing assets: nested templates, a root template too large to send inline, and the
//! Lambda zips, each under its content-addressed key in the assets bucket. An object already
//! there (`HeadObject` answers) is not uploaded again: the key names its content.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use super::cfn::chain;

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
#[error("cannot publish {what} to s3://{bucket}/{key} ({api}): {message}")]
pub struct AssetError {
    /// The asset.
    pub what: String,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// `HeadObject` or `PutObject`.
    pub api: &'static str,
    /// The error, with a hint for the common ones.
    pub message: String,
}

fn describe<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &aws_sdk_s3::error::SdkError<E>) -> String {
    match e.code() {
        Some("NoSuchBucket") => "the bucket does not exist: run `sandboxc bootstrap`, or name an existing bucket with --assets-bucket".into(),
        Some(code @ ("AccessDenied" | "Forbidden")) => format!("{code}: the credentials need s3:GetObject and s3:PutObject on the assets bucket, and kms:GenerateDataKey and kms:Decrypt on its key"),
        Some(code) => format!("{code}: {}", e.message().unwrap_or_default()),
        None => chain(e),
    }
}

/// The S3 URL CloudFormation reads a template from (`TemplateURL`), in the form the root
/// template uses for nested stacks: `https://BUCKET.s3.URLSUFFIX/KEY`, where the URL suffix
/// is `amazonaws.com.cn` in the China Regions (`cn-*`) and `amazonaws.com` elsewhere (the
/// `AWS::URLSuffix` pseudo parameter). moto resolves this form too (AWS-FACTS.md).
#[must_use]
pub fn template_url(bucket: &str, region: &str, key: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("https://{bucket}.s3.{suffix}/{key}")
}

/// Publishes `assets` to `bucket` one after another; the first failure stops the rest.
///
/// # Errors
/// [`AssetError`] naming the asset, the call and the reason.
pub async fn publish(s3: &aws_sdk_s3::Client, bucket: &str, assets: &[Asset]) -> Result<Published, AssetError> {
    let mut published = Published::default();
    for a in assets {
        let err = |api: &'static str, message: String| AssetError {
            what: a.what.clone(),
            bucket: bucket.into(),
            key: a.key.clone(),
            api,
            message,
        };
        match s3.head_object().bucket(bucket).key(&a.key).send().await {
            Ok(head) if head.content_length() == Some(i64::try_from(a.body.len()).unwrap_or(i64::MAX)) => {
                published.present.push(a.key.clone());
                continue;
            }
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found) => {}
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {}
            Err(e) => return Err(err("HeadObject", describe(&e))),
        }
        s3.put_object()
            .bucket(bucket)
            .key(&a.key)
            .content_type(a.content_type)
            .body(ByteStream::from(a.body.clone()))
            .send()
            .await
            .map_err(|e| err("PutObject", describe(&e)))?;
        published.uploaded.push(a.key.clone());
    }
    Ok(published)
}
