//! What a `Ref` (or a `${Name}` in `Fn::Sub`) names: a resource, a parameter, or one of
//! CloudFormation's pseudo parameters. The compiler builds typed targets directly; a parsed
//! template classifies each name with its own [`Scope`].

use std::collections::BTreeSet;
use std::fmt;

use super::LogicalId;

/// CloudFormation's pseudo parameters (CloudFormation user guide, "Pseudo parameters reference").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pseudo {
    /// `AWS::AccountId`: the account of the stack.
    AccountId,
    /// `AWS::NotificationARNs`: the stack's notification topic ARNs (a list).
    NotificationArns,
    /// `AWS::NoValue`: removes the property it is the value of.
    NoValue,
    /// `AWS::Partition`: `aws`, `aws-cn`, `aws-us-gov`...
    Partition,
    /// `AWS::Region`: the Region of the stack.
    Region,
    /// `AWS::StackId`: the stack's ARN.
    StackId,
    /// `AWS::StackName`: the stack's name.
    StackName,
    /// `AWS::URLSuffix`: `amazonaws.com` (or the partition's suffix).
    UrlSuffix,
}

impl Pseudo {
    /// Every pseudo parameter.
    pub const ALL: [Pseudo; 8] = [
        Self::AccountId,
        Self::NotificationArns,
        Self::NoValue,
        Self::Partition,
        Self::Region,
        Self::StackId,
        Self::StackName,
        Self::UrlSuffix,
    ];

    /// The name as written in a template: `AWS::Region`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::AccountId => "AWS::AccountId",
            Self::NotificationArns => "AWS::NotificationARNs",
            Self::NoValue => "AWS::NoValue",
            Self::Partition => "AWS::Partition",
            Self::Region => "AWS::Region",
            Self::StackId => "AWS::StackId",
            Self::StackName => "AWS::StackName",
            Self::UrlSuffix => "AWS::URLSuffix",
        }
    }

    /// The pseudo parameter called `name` (`AWS::Region`), if it is one.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Pseudo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The target of a `Ref`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// A resource of the same template (its physical ID or the type's `Ref` value).
    Resource(LogicalId),
    /// A parameter of the same template.
    Parameter(String),
    /// A pseudo parameter.
    Pseudo(Pseudo),
    /// A name that is none of the above in the template it was read from (or, from the
    /// compiler, a name it did not declare): [`crate::cfn::check`] reports it.
    Unresolved(String),
}

impl Target {
    /// The name as written in a template.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Resource(id) => id.as_str(),
            Self::Parameter(p) | Self::Unresolved(p) => p,
            Self::Pseudo(p) => p.name(),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The names a template declares, which decide what a `Ref` names: a resource first, then a
/// parameter, then a pseudo parameter; anything else is [`Target::Unresolved`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    resources: BTreeSet<String>,
    parameters: BTreeSet<String>,
}

impl Scope {
    /// A scope declaring nothing: only pseudo parameters resolve.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// A scope declaring `resources` and `parameters`.
    pub fn new<R, P>(resources: impl IntoIterator<Item = R>, parameters: impl IntoIterator<Item = P>) -> Self
    where
        R: Into<String>,
        P: Into<String>,
    {
        Self {
            resources: resources.into_iter().map(Into::into).collect(),
            parameters: parameters.into_iter().map(Into::into).collect(),
        }
    }

    /// A scope declaring only the parameters `names` (for a compiler-built `Fn::Sub` that
    /// names a parameter).
    pub fn parameters<P: Into<String>>(names: impl IntoIterator<Item = P>) -> Self {
        Self { resources: BTreeSet::new(), parameters: names.into_iter().map(Into::into).collect() }
    }

    /// Whether `name` is a resource of the scope.
    #[must_use]
    pub fn has_resource(&self, name: &str) -> bool {
        self.resources.contains(name)
    }

    /// What `name` refers to.
    #[must_use]
    pub fn target(&self, name: &str) -> Target {
        if self.resources.contains(name) {
            if let Some(id) = LogicalId::parse(name) {
                return Target::Resource(id);
            }
        }
        if self.parameters.contains(name) {
            return Target::Parameter(name.to_string());
        }
        Pseudo::from_name(name).map_or_else(|| Target::Unresolved(name.to_string()), Target::Pseudo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_classified_resource_parameter_pseudo_then_unresolved() {
        let scope = Scope::new(["Bucket"], ["Env"]);
        assert_eq!(scope.target("Bucket"), Target::Resource(LogicalId::new("Bucket")));
        assert_eq!(scope.target("Env"), Target::Parameter("Env".into()));
        assert_eq!(scope.target("AWS::Region"), Target::Pseudo(Pseudo::Region));
        assert_eq!(scope.target("AWS::URLSuffix"), Target::Pseudo(Pseudo::UrlSuffix));
        assert_eq!(scope.target("AWS::Nope"), Target::Unresolved("AWS::Nope".into()));
        assert_eq!(scope.target("Gone"), Target::Unresolved("Gone".into()));
        for p in Pseudo::ALL {
            assert_eq!(Pseudo::from_name(p.name()), Some(p));
            assert_eq!(Scope::empty().target(p.name()), Target::Pseudo(p));
        }
    }
}
