//! Physical names derived from the environment name (`name:`), in one place so that the
//! compiler and the validation use the same ones. Validation derives them once and the
//! validated [`super::Blueprint`] carries them.

/// Every physical name the sandbox gives a resource. All derive from `env`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The environment name; also the CloudFormation (root) stack name.
    pub env: String,
    /// `AWS::AppStream::Fleet` name.
    pub fleet: String,
    /// `AWS::AppStream::Stack` name.
    pub appstream_stack: String,
    /// `AWS::SageMaker::NotebookInstance` name.
    pub notebook: String,
    /// `AWS::CloudTrail::Trail` name.
    pub trail: String,
    /// Validator `AWS::Lambda::Function` name.
    pub validator_function: String,
    /// SAML federation role name.
    pub saml_role: String,
    /// SSM parameter holding the data bucket's name.
    pub data_bucket_parameter: String,
    /// SSM parameter holding the notebook script.
    pub notebook_script_parameter: String,
    /// Prefix of every log group (`/sandboxc/<env>`).
    pub log_prefix: String,
    /// Prefix of every KMS alias (`alias/sandboxc/<env>`).
    pub alias_prefix: String,
}

impl Names {
    /// Derives every name from `env`.
    #[must_use]
    pub fn new(env: &str) -> Self {
        Self {
            env: env.to_string(),
            fleet: format!("{env}-fleet"),
            appstream_stack: format!("{env}-stack"),
            notebook: format!("{env}-notebook"),
            trail: format!("{env}-trail"),
            validator_function: format!("{env}-validator"),
            saml_role: format!("{env}-saml"),
            data_bucket_parameter: format!("/sandboxc/{env}/data-bucket"),
            notebook_script_parameter: format!("/sandboxc/{env}/notebook-script"),
            log_prefix: format!("/sandboxc/{env}"),
            alias_prefix: format!("alias/sandboxc/{env}"),
        }
    }

    /// Name of the provider function serving one kind of custom resource (`<env>-<purpose>`).
    #[must_use]
    pub fn provider_function(&self, purpose: &str) -> String {
        format!("{}-{purpose}", self.env)
    }

    /// Log group of a Lambda function: `/sandboxc/<env>/lambda/<function>`.
    #[must_use]
    pub fn function_log_group(&self, function: &str) -> String {
        format!("{}/lambda/{function}", self.log_prefix)
    }

    /// Names derived from `name:` that AWS restricts beyond the environment-name pattern,
    /// with the rule each must meet: `(what, name, problem)` for every violation. The trail's
    /// name is checked only when the blueprint has a trail (`cloudtrail`).
    #[must_use]
    pub fn violations(&self, cloudtrail: bool) -> Vec<(&'static str, String, String)> {
        let mut out = Vec::new();
        // AppStream fleet and stack names: ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$ (AppStream API reference, CreateFleet/CreateStack).
        for (what, n) in [("AppStream fleet", &self.fleet), ("AppStream stack", &self.appstream_stack)] {
            let ok = n.len() <= 101
                && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
                && n.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok {
                out.push((what, n.clone(), "must match ^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}$".into()));
            }
        }
        // Notebook instance names: at most 63 characters of [a-zA-Z0-9](-*[a-zA-Z0-9])* (SageMaker API reference, CreateNotebookInstance).
        let nb = &self.notebook;
        let nb_ok = nb.len() <= 63
            && nb.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !nb.starts_with('-')
            && !nb.ends_with('-');
        if !nb_ok {
            out.push((
                "notebook instance",
                nb.clone(),
                "must be at most 63 characters matching [a-zA-Z0-9](-*[a-zA-Z0-9])*".into(),
            ));
        }
        // Trail names: 3..128 of [A-Za-z0-9._-], start and end alphanumeric, no adjacent . _ - (CloudTrail CreateTrail).
        if cloudtrail {
            let t = &self.trail;
            let bytes = t.as_bytes();
            let adjacent = bytes.windows(2).any(|w| b"._-".contains(&w[0]) && b"._-".contains(&w[1]));
            let ok = (3..=128).contains(&t.len())
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
                && !adjacent;
            if !ok {
                out.push((
                    "CloudTrail trail",
                    t.clone(),
                    "must not contain adjacent '.', '_' or '-' characters".into(),
                ));
            }
        }
        out
    }
}
