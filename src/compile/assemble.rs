//! Assembly of the parts into templates: one template (`single`), or a root stack with one
//! nested stack per part whose outputs flow to later parts as parameters (`nested`).

use sandboxc_contract::stack::{nested_stack_id, parameters};

use crate::blueprint::Layout;
use crate::cfn::render::{sha256_hex, Format};
use crate::cfn::resources::NestedStack;
use crate::cfn::{Expr, LogicalId, Output, Resource, Scope, Template};

use super::context::{assets_bucket_parameter, PartBuilder};
use super::{CompileError, Ctx, NamedTemplate, Part};

/// S3 key of a nested template in the assets bucket: `templates/<sha256 of its bytes>.<ext>`.
#[must_use]
pub fn template_key(bytes: &[u8], format: Format) -> String {
    template_key_of(&sha256_hex(bytes), format)
}

/// [`template_key`] of bytes whose lowercase hex SHA-256 is `sha256`.
#[must_use]
pub fn template_key_of(sha256: &str, format: Format) -> String {
    format!("templates/{sha256}.{}", format.extension())
}

/// Logical ID of a part's nested stack in the root template, such as `NetworkNestedStack`.
#[must_use]
pub fn stack_id(part: Part) -> LogicalId {
    LogicalId::new(nested_stack_id(part.title()))
}

pub(super) fn assemble(
    ctx: &Ctx<'_>,
    parts: Vec<PartBuilder>,
    format: Format,
) -> Result<Vec<NamedTemplate>, CompileError> {
    let env = &ctx.names.env;
    match ctx.layout() {
        Layout::Single => {
            let mut t =
                Template::new(format!("sandboxc data sandbox {env}: every part in one template (layout single)"));
            for p in parts {
                for (id, r) in p.template.resources {
                    t.add(&id, r)?;
                }
                t.parameters.extend(p.template.parameters);
                t.conditions.extend(p.template.conditions);
                t.outputs.extend(p.user_outputs);
            }
            let file = format!("{env}.template.{}", format.extension());
            Ok(vec![NamedTemplate::rendered(file, None, None, t, format)?])
        }
        Layout::Nested => {
            let mut out = Vec::new();
            let mut root = Template::new(format!(
                "sandboxc data sandbox {env}: root stack with one nested stack per part (layout nested)"
            ));
            root.parameters.insert(parameters::ASSETS_BUCKET.into(), assets_bucket_parameter());
            for mut p in parts {
                let stack = LogicalId::new(nested_stack_id(&p.stack_title()));
                for (name, export) in PartBuilder::exports_of(ctx, p.part) {
                    let value = match export.value {
                        Expr::List(items) if export.list => Expr::join(",", items),
                        other => other,
                    };
                    p.template.outputs.insert(name, Output::new(export.description, value));
                }
                for (name, o) in &p.user_outputs {
                    p.template.outputs.insert(name.clone(), o.clone());
                    root.outputs.insert(
                        name.clone(),
                        Output::new(o.description.clone(), Expr::get_att(&stack, &format!("Outputs.{name}"))),
                    );
                }
                let file = format!("{env}-{}.template.{}", p.stack_title().to_ascii_lowercase(), format.extension());
                let named = NamedTemplate::rendered(file, Some(p.part), p.shard, p.template, format)?;
                let key = template_key_of(&named.sha256, format);
                let mut params: Vec<(String, Expr)> = p
                    .imports
                    .iter()
                    .map(|(param, (from, name))| {
                        (param.clone(), Expr::get_att(&stack_id(*from), &format!("Outputs.{name}")))
                    })
                    .collect();
                for (name, parameter) in &p.root_parameters {
                    root.parameters.insert(name.clone(), parameter.clone());
                    params.push((name.clone(), Expr::parameter(name)));
                }
                let nested = NestedStack {
                    template_url: Some(Expr::sub_in(
                        format!("https://${{{}}}.s3.${{AWS::URLSuffix}}/{key}", parameters::ASSETS_BUCKET),
                        &Scope::parameters([parameters::ASSETS_BUCKET]),
                    )),
                    parameters: if params.is_empty() { None } else { Some(Expr::map(params)) },
                    tags: Some(ctx.tags()),
                };
                root.add(&stack, Resource::new(&nested).delete())?;
                out.push(named);
            }
            let file = format!("{env}.template.{}", format.extension());
            out.push(NamedTemplate::rendered(file, None, None, root, format)?);
            Ok(out)
        }
    }
}
