//! What every part's compiler shares: the blueprint, derived names, tags, assets, and the
//! cross-part exports that become nested-stack parameters in the `nested` layout.

use std::collections::BTreeMap;

use sandboxc_contract::stack::parameters;

use crate::assets::LambdaAsset;
use crate::blueprint::{Blueprint, Layout, Names};
use crate::cfn::{Expr, LogicalId, Output, Parameter, Resource, ResourceProperties, Template};

use super::{CompileError, Part};

/// The `AssetsBucket` parameter of the root template and of the parts that read assets.
#[must_use]
pub fn assets_bucket_parameter() -> Parameter {
    Parameter {
        kind: "String".into(),
        description: "S3 bucket holding sandboxc's assets: nested templates and Lambda zips (sandboxc bootstrap)"
            .into(),
        allowed_pattern: Some("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$".into()),
        default: None,
        ..Parameter::default()
    }
}

/// The `HomeFolderBucketExists` parameter ([`parameters::HOME_FOLDER_BUCKET_EXISTS`]): whether
/// AppStream's home-folder bucket exists yet, `true` or `false`.
#[must_use]
pub fn home_folder_bucket_parameter() -> Parameter {
    Parameter {
        kind: "String".into(),
        description: "Whether AppStream's home-folder bucket exists yet (it appears with the first session); the validator's bucket notification is created only when true (sandboxc apply sets it)".into(),
        allowed_pattern: Some("^(true|false)$".into()),
        default: Some("false".into()),
        ..Parameter::default()
    }
}

/// The `S3PrefixListId` parameter ([`parameters::S3_PREFIX_LIST_ID`]): the Region's
/// AWS-managed prefix list of S3 (`com.amazonaws.<region>.s3`), which security groups allow
/// HTTPS to (the S3 gateway endpoint's destinations). `sandboxc apply` looks it up (EC2
/// `DescribePrefixLists`); CloudFormation cannot.
#[must_use]
pub fn s3_prefix_list_parameter() -> Parameter {
    Parameter {
        kind: "String".into(),
        description: "ID of the Region's S3 prefix list (com.amazonaws.<region>.s3): security groups allow HTTPS to it, the S3 gateway endpoint's destinations (sandboxc apply sets it)".into(),
        allowed_pattern: Some("^pl-[0-9a-f]+$".into()),
        default: None,
        ..Parameter::default()
    }
}

/// A value one part makes available to later parts.
#[derive(Debug, Clone)]
pub struct Export {
    /// The value inside the producing part's template.
    pub value: Expr,
    /// A list (subnet IDs...): crosses stacks as a comma-joined string.
    pub list: bool,
    /// What it is.
    pub description: String,
}

/// State shared while compiling every part of one blueprint.
pub struct Ctx<'a> {
    /// The validated blueprint.
    pub blueprint: &'a Blueprint,
    /// Names derived from `name:`.
    pub names: Names,
    /// The Lambda code asset.
    pub lambda: &'a LambdaAsset,
    /// The rendered notebook script (stored in an SSM parameter).
    pub notebook_script: String,
    exports: BTreeMap<(Part, String), Export>,
}

impl<'a> Ctx<'a> {
    /// A context for compiling `blueprint`.
    #[must_use]
    pub fn new(blueprint: &'a Blueprint, lambda: &'a LambdaAsset, notebook_script: String) -> Self {
        Self { blueprint, names: blueprint.names.clone(), lambda, notebook_script, exports: BTreeMap::new() }
    }

    /// Tags for resources taking a list of `{Key, Value}`: the blueprint's plus `sandboxc:environment`.
    #[must_use]
    pub fn tags(&self) -> Expr {
        Expr::List(
            self.tag_pairs().map(|(k, v)| Expr::map([("Key", Expr::from(k)), ("Value", Expr::from(v))])).collect(),
        )
    }

    /// Tags of a user's resources: the blueprint's, `sandboxc:environment`, and
    /// `sandboxc:user` = the user ID ([`sandboxc_contract::users::USER_TAG`]).
    #[must_use]
    pub fn user_tags(&self, user_id: &str) -> Expr {
        let mut pairs: Vec<(&str, &str)> = self.tag_pairs().collect();
        pairs.push((sandboxc_contract::users::USER_TAG, user_id));
        pairs.sort_unstable();
        Expr::List(
            pairs.into_iter().map(|(k, v)| Expr::map([("Key", Expr::from(k)), ("Value", Expr::from(v))])).collect(),
        )
    }

    /// [`Ctx::user_tags`] as a `{key: value}` mapping (SSM parameters).
    #[must_use]
    pub fn user_tag_map(&self, user_id: &str) -> Expr {
        let mut pairs: Vec<(&str, &str)> = self.tag_pairs().collect();
        pairs.push((sandboxc_contract::users::USER_TAG, user_id));
        Expr::map(pairs.into_iter().map(|(k, v)| (k.to_string(), Expr::from(v))))
    }

    /// Tags plus a `Name` tag, for EC2 resources that the console lists by name.
    #[must_use]
    pub fn tags_named(&self, name: &str) -> Expr {
        let mut pairs: Vec<(String, String)> = self.tag_pairs().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        if !self.blueprint.tags.contains_key("Name") {
            pairs.push(("Name".into(), format!("{}-{name}", self.names.env)));
            pairs.sort();
        }
        Expr::List(
            pairs.into_iter().map(|(k, v)| Expr::map([("Key", Expr::from(k)), ("Value", Expr::from(v))])).collect(),
        )
    }

    /// Tags for resources taking a `{key: value}` mapping (SSM parameters).
    #[must_use]
    pub fn tag_map(&self) -> Expr {
        Expr::map(self.tag_pairs().map(|(k, v)| (k.to_string(), Expr::from(v))))
    }

    fn tag_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut pairs: Vec<(&str, &str)> = self.blueprint.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        pairs.push(("sandboxc:environment", self.names.env.as_str()));
        pairs.sort_unstable();
        pairs.into_iter()
    }

    /// The layout being compiled.
    #[must_use]
    pub fn layout(&self) -> Layout {
        self.blueprint.layout
    }
}

/// One part's template under construction.
pub struct PartBuilder {
    /// Which part.
    pub part: Part,
    /// The shard of a [`Part::Users`] part.
    pub shard: Option<u32>,
    /// Its template.
    pub template: Template,
    /// Nested layout: parameter name -> the export it carries.
    pub imports: BTreeMap<String, (Part, String)>,
    /// Root template parameters the part reads (the assets bucket...), passed down by the root
    /// stack in the nested layout.
    pub root_parameters: BTreeMap<String, Parameter>,
    /// Outputs for people (streaming URL command, names...), re-exposed by the root stack.
    pub user_outputs: BTreeMap<String, Output>,
}

impl PartBuilder {
    /// An empty part.
    #[must_use]
    pub fn new(part: Part, description: &str) -> Self {
        Self {
            part,
            shard: None,
            template: Template::new(description),
            imports: BTreeMap::new(),
            root_parameters: BTreeMap::new(),
            user_outputs: BTreeMap::new(),
        }
    }

    /// Adds a resource from typed properties; returns its logical ID.
    ///
    /// # Errors
    /// [`CompileError::Internal`] when the logical ID is taken.
    pub fn add<P: ResourceProperties>(&mut self, id: &str, props: &P) -> Result<LogicalId, CompileError> {
        self.add_resource(id, Resource::new(props))
    }

    /// [`PartBuilder::add`], taking the property struct's values instead of copying them (for
    /// the resources built once per user).
    ///
    /// # Errors
    /// [`CompileError::Internal`] when the logical ID is taken.
    pub fn add_owned<P: ResourceProperties>(&mut self, id: &str, props: P) -> Result<LogicalId, CompileError> {
        self.add_resource(id, Resource::from_properties(props))
    }

    /// Adds a prepared resource (with policies, metadata, dependencies).
    ///
    /// # Errors
    /// [`CompileError::Internal`] when the logical ID is taken.
    pub fn add_resource(&mut self, id: &str, resource: Resource) -> Result<LogicalId, CompileError> {
        let id = LogicalId::new(id);
        self.template.add(&id, resource)?;
        Ok(id)
    }

    /// Makes `value` available to later parts under `name`, which is unique across parts (it
    /// is also the parameter name in the importing nested stacks).
    ///
    /// # Errors
    /// [`CompileError::Internal`] when another export already has that name.
    pub fn export(
        &mut self,
        ctx: &mut Ctx<'_>,
        name: &str,
        value: Expr,
        list: bool,
        description: &str,
    ) -> Result<(), CompileError> {
        if let Some(((other, _), _)) = ctx.exports.iter().find(|((_, n), _)| n == name) {
            return Err(CompileError::Internal(format!(
                "export {name} of part {} is already exported by {}",
                self.part.title(),
                other.title()
            )));
        }
        ctx.exports.insert((self.part, name.to_string()), Export { value, list, description: description.into() });
        Ok(())
    }

    /// A value exported by an earlier part: the value itself in the `single` layout, a
    /// parameter `Ref` in the `nested` layout.
    ///
    /// # Errors
    /// [`CompileError::Internal`] when no earlier part exported `name` (a compiler bug).
    pub fn import(&mut self, ctx: &Ctx<'_>, from: Part, name: &str) -> Result<Expr, CompileError> {
        let export = ctx.exports.get(&(from, name.to_string())).ok_or_else(|| {
            CompileError::Internal(format!(
                "part {} imports {name} from {}, which does not export it",
                self.part.title(),
                from.title()
            ))
        })?;
        match ctx.layout() {
            Layout::Single => Ok(export.value.clone()),
            Layout::Nested => {
                let param = name.to_string();
                self.template.parameters.insert(
                    param.clone(),
                    Parameter {
                        kind: if export.list { "CommaDelimitedList".into() } else { "String".into() },
                        description: format!("{} (from the {} stack)", export.description, from.title()),
                        allowed_pattern: None,
                        default: None,
                        ..Parameter::default()
                    },
                );
                self.imports.insert(param.clone(), (from, name.to_string()));
                Ok(Expr::parameter(param))
            }
        }
    }

    /// `Ref` to the assets bucket parameter.
    pub fn assets_bucket(&mut self) -> Expr {
        self.root_parameter(parameters::ASSETS_BUCKET, assets_bucket_parameter())
    }

    /// `Ref` to a parameter of the root template, declared in this part's template too.
    pub fn root_parameter(&mut self, name: &str, parameter: Parameter) -> Expr {
        self.root_parameters.insert(name.into(), parameter.clone());
        self.template.parameters.insert(name.into(), parameter);
        Expr::parameter(name)
    }

    /// Adds an output for people (`name`: one of [`sandboxc_contract::stack::outputs`]).
    pub fn user_output(&mut self, name: &str, description: &str, value: Expr) {
        self.user_outputs.insert(name.into(), Output::new(description, value));
    }

    /// The title of the part's nested stack: the part's, or the shard's (`Users07`).
    #[must_use]
    pub fn stack_title(&self) -> String {
        match self.shard {
            Some(shard) => super::users::shard_title(shard),
            None => self.part.title().to_string(),
        }
    }

    /// The exports of this part, as template outputs (nested layout).
    pub(super) fn exports_of(ctx: &Ctx<'_>, part: Part) -> Vec<(String, Export)> {
        ctx.exports.iter().filter(|((p, _), _)| *p == part).map(|((_, n), e)| (n.clone(), e.clone())).collect()
    }
}
