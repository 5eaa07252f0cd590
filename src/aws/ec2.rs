//! EC2 over the AWS SDK: the stack lifecycle's [`PrefixLists`] (`DescribePrefixLists`), which
//! `apply` asks for the Region's S3 prefix list.

use aws_sdk_ec2::types::Filter;
use aws_sdk_ec2::Client;

use super::error::examine;
use crate::deploy::network::{Ec2Error, PrefixLists};

/// EC2 over the AWS SDK.
#[derive(Debug, Clone)]
pub struct Ec2 {
    client: Client,
    endpoint: String,
}

impl Ec2 {
    /// Wraps a client; errors name the public endpoint of the client's Region.
    #[must_use]
    pub fn new(client: Client) -> Self {
        let region = client.config().region().map_or_else(|| "us-east-1".to_string(), ToString::to_string);
        let endpoint = super::default_endpoint("ec2", &region);
        Self { client, endpoint }
    }

    /// Wraps a client whose calls go to `endpoint` (named in errors).
    #[must_use]
    pub fn with_endpoint(client: Client, endpoint: String) -> Self {
        Self { client, endpoint }
    }
}

impl PrefixLists for Ec2 {
    async fn prefix_list_id(&self, name: &str) -> Result<Option<String>, Ec2Error> {
        // A name filter matches at most one list, on the first page.
        let out = self
            .client
            .describe_prefix_lists()
            .filters(Filter::builder().name("prefix-list-name").values(name).build())
            .send()
            .await
            .map_err(|e| {
                let f = examine("EC2", "DescribePrefixLists", &self.endpoint, &e);
                Ec2Error { code: f.code, message: f.message }
            })?;
        Ok(out
            .prefix_lists()
            .iter()
            .find(|p| p.prefix_list_name() == Some(name))
            .and_then(|p| p.prefix_list_id())
            .map(str::to_string))
    }
}
