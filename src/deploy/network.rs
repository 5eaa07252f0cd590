//! What `apply` asks EC2: the ID of the Region's AWS-managed prefix list of S3, which the
//! root template's `S3PrefixListId` parameter carries to the security groups (HTTPS to the S3
//! gateway endpoint's destinations). CloudFormation cannot look it up, so `apply` does, through
//! the [`PrefixLists`] trait (implemented over the AWS SDK by `src/aws` and in memory by the
//! tests).

use std::future::Future;

/// What the stack lifecycle needs from EC2.
pub trait PrefixLists {
    /// `DescribePrefixLists` filtered on `prefix-list-name` = `name`: the list's ID
    /// (`pl-...`), `None` when the Region has no list of that name.
    ///
    /// # Errors
    /// [`Ec2Error`] for any answer but success (AccessDenied, a timeout...).
    fn prefix_list_id(&self, name: &str) -> impl Future<Output = Result<Option<String>, Ec2Error>> + Send;
}

/// What EC2 answered instead of success: its error code (`UnauthorizedOperation`...) when
/// there is one, and the message (or, without a code, the whole problem: a timeout naming the
/// endpoint, a refused connection...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", match code { Some(c) => format!("{c}: {message}"), None => message.clone() })]
pub struct Ec2Error {
    /// EC2's error code, if any.
    pub code: Option<String>,
    /// EC2's error message, or the problem.
    pub message: String,
}

/// The name of the AWS-managed prefix list of S3 in `region`: `com.amazonaws.<region>.s3`
/// (VPC user guide, "AWS-managed prefix lists"; the service name of the S3 gateway endpoint).
#[must_use]
pub fn s3_prefix_list_name(region: &str) -> String {
    format!("com.amazonaws.{region}.s3")
}

/// The ID of the Region's S3 prefix list, which the root template's `S3PrefixListId` takes:
/// `apply` sets it, and the plan against the deployed stack passes it to its change set.
///
/// # Errors
/// [`super::DeployError::S3PrefixList`] naming the list: none of that name, or EC2's error.
pub async fn s3_prefix_list<P: PrefixLists>(prefix_lists: &P, region: &str) -> Result<String, super::DeployError> {
    let name = s3_prefix_list_name(region);
    match prefix_lists.prefix_list_id(&name).await {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(super::DeployError::S3PrefixList {
            problem: format!("the Region {region} has no prefix list of that name"),
            name,
        }),
        Err(e) => Err(super::DeployError::S3PrefixList { name, problem: e.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_s3_list_is_named_after_the_region() {
        assert_eq!(super::s3_prefix_list_name("eu-west-1"), "com.amazonaws.eu-west-1.s3");
    }
}
