//! S3 over the AWS SDK: the stack lifecycle's [`AssetStore`] (`HeadObject`, `PutObject`,
//! `HeadBucket`) and the listings and reads of `audit --from-aws` (`ListObjectsV2`,
//! `GetObject`).

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;

use super::error::{chain, examine, CallFailure};
use crate::deploy::assets::{AssetStore, StoreError};

/// S3 over the AWS SDK.
#[derive(Debug, Clone)]
pub struct S3 {
    client: Client,
    endpoint: String,
}

impl S3 {
    /// Wraps a client; errors name the public endpoint of the client's Region.
    #[must_use]
    pub fn new(client: Client) -> Self {
        let region = client.config().region().map_or_else(|| "us-east-1".to_string(), ToString::to_string);
        let endpoint = super::default_endpoint("s3", &region);
        Self { client, endpoint }
    }

    /// Wraps a client whose calls go to `endpoint` (named in errors).
    #[must_use]
    pub fn with_endpoint(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }

    fn examine<E>(&self, api: &str, e: &SdkError<E>) -> CallFailure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        examine("S3", api, &self.endpoint, e)
    }

    /// All keys (and common prefixes, with a delimiter) under `prefix`, in S3's order
    /// (`ListObjectsV2`, every page).
    ///
    /// # Errors
    /// A message naming the call and the bucket, with what to do about AccessDenied and
    /// NoSuchBucket.
    pub async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        let mut keys = Vec::new();
        let mut prefixes = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_string))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| read_error("ListObjectsV2", bucket, &self.examine("ListObjectsV2", &e)))?;
            keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            prefixes.extend(page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_string)));
            match page.next_continuation_token() {
                Some(t) if page.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok((keys, prefixes))
    }

    /// An object's bytes (`GetObject`), read whole.
    ///
    /// # Errors
    /// A message naming the call and the bucket.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| read_error("GetObject", bucket, &self.examine("GetObject", &e)))?;
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| format!("S3 GetObject on bucket {bucket}: reading the body failed: {}", chain(&e)))?;
        Ok(body.to_vec())
    }
}

/// A failed read of `audit --from-aws`, with what to do about the common ones.
fn read_error(api: &str, bucket: &str, f: &CallFailure) -> String {
    let hint = match f.code.as_deref() {
        Some("AccessDenied" | "AllAccessDisabled") => format!(
            " (the credentials need s3:{}; and kms:Decrypt when the objects are KMS-encrypted)",
            if api == "ListObjectsV2" { "ListBucket" } else { "GetObject" }
        ),
        Some("NoSuchBucket") => " (check --usage-bucket/--trail-bucket or the stack's outputs)".to_string(),
        _ => String::new(),
    };
    format!("S3 {api} on bucket {bucket} failed: {}{hint}", f.describe())
}

fn store_error(f: CallFailure) -> StoreError {
    StoreError { code: f.code, message: f.message }
}

impl AssetStore for S3 {
    async fn object_size(&self, bucket: &str, key: &str) -> Result<Option<u64>, StoreError> {
        match self.client.head_object().bucket(bucket).key(key).send().await {
            // Without a Content-Length the size is unknown: 0, which never matches an asset.
            Ok(head) => Ok(Some(head.content_length().and_then(|l| u64::try_from(l).ok()).unwrap_or(0))),
            Err(e) => {
                let f = self.examine("HeadObject", &e);
                if f.is_not_found()
                    || e.as_service_error()
                        .is_some_and(aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found)
                {
                    Ok(None)
                } else {
                    Err(store_error(f))
                }
            }
        }
    }

    async fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| store_error(self.examine("PutObject", &e)))?;
        Ok(())
    }

    async fn bucket_exists(&self, bucket: &str) -> Result<bool, StoreError> {
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let f = self.examine("HeadBucket", &e);
                if f.is_not_found()
                    || e.as_service_error()
                        .is_some_and(aws_sdk_s3::operation::head_bucket::HeadBucketError::is_not_found)
                {
                    Ok(false)
                } else {
                    Err(store_error(f))
                }
            }
        }
    }
}
