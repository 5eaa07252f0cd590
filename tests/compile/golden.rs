//! Golden templates: every file synth writes for the default blueprint and each example,
//! as insta snapshots reviewed like code. Review changes with `cargo insta review`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use crate::common;

#[test]
fn every_output_file_of_every_blueprint() {
    for (name, source) in common::all_blueprints() {
        let dir = if name == "default" { "snapshots" } else { "../../examples/snapshots" };
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path(dir);
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.bind(|| {
            for (file, text) in common::files(&source) {
                insta::assert_snapshot!(format!("{name}__{}", file.replace('/', "__")), text);
            }
        });
    }
}

/// The CloudFormation model reads back exactly what the compiler built: for every template of
/// every blueprint, parsing the bytes synth writes (JSON, and the same template as YAML) gives
/// the compiled template, and rendering it again gives the same bytes.
#[test]
fn every_template_parses_back_to_the_compiled_model() {
    use sandboxc::cfn::render::Format;
    use sandboxc::cfn::Template;
    for (name, source) in common::all_blueprints() {
        let compiled = common::compile(&source);
        let files: std::collections::BTreeMap<String, String> = common::files(&source).into_iter().collect();
        for t in &compiled.templates {
            let at = format!("{name}: {}", t.file);
            let text = files.get(&t.file).unwrap_or_else(|| panic!("{at}: not written"));
            let parsed = Template::from_text(text, Format::Json).unwrap_or_else(|e| panic!("{at}: {e}"));
            assert_eq!(parsed, t.template, "{at}");
            assert_eq!(&Format::Json.render(&parsed.to_value()).unwrap(), text, "{at}");
            assert_eq!(Template::parse(&t.template.to_value()).as_ref(), Ok(&t.template), "{at}");
            let yaml = Format::Yaml.render(&t.template.to_value()).unwrap();
            assert_eq!(Template::from_text(&yaml, Format::Yaml).as_ref(), Ok(&t.template), "{at} (YAML)");
            assert!(sandboxc::cfn::check::check(&parsed).is_empty(), "{at}");
        }
    }
}
