//! Golden templates: every file synth writes for the default blueprint and each example,
//! as insta snapshots reviewed like code. Review changes with `cargo insta review`.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

#[test]
fn every_output_file_of_every_blueprint() {
    for (name, source) in common::all_blueprints() {
        let dir = if name == "default" { "snapshots" } else { "../examples/snapshots" };
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
