//! The input: the blueprint as written ([`document`], which the schema is generated from),
//! loading with source positions, validation, and the validated [`Blueprint`] of parsed values
//! ([`model`]) that the compiler reads.
//!
//! Loading reports every problem in one pass wherever the document parses: YAML syntax (which
//! alone stops it), repeated keys, structure (JSON Schema), and the semantic rules, which also
//! run when the structure is wrong in places, on whatever was written correctly
//! ([`repair`]). Every problem is a [`Diagnostic`] with its position.

pub mod advice;
pub mod diagnostics;
pub mod document;
pub mod duration;
pub mod known;
pub mod model;
pub mod names;
pub mod people;
pub mod repair;
pub mod schema;
pub mod validate;
pub mod yaml;

pub use advice::Warnings;
pub use diagnostics::{Diagnostic, Diagnostics};
pub use document::{
    DatasetDocument, Document, NetworkDocument, PrivateStreamingDocument, UserDocument, UserNotebookDocument,
};
pub use model::*;
pub use names::Names;

/// The default blueprint (`blueprints/data-sandbox.yaml`), embedded in the binary.
pub const DEFAULT_BLUEPRINT: &str = include_str!("../../blueprints/data-sandbox.yaml");

/// Largest blueprint read, in bytes (1 MiB): blueprints are a few kilobytes, and a device such
/// as /dev/zero must not exhaust memory.
pub const MAX_BLUEPRINT_BYTES: u64 = 1024 * 1024;

/// How the embedded default is named in messages.
pub const DEFAULT_BLUEPRINT_NAME: &str = "data-sandbox.yaml (embedded default)";

/// A blueprint's text and the name messages use for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The path as the user gave it, or [`DEFAULT_BLUEPRINT_NAME`].
    pub name: String,
    /// The YAML text.
    pub text: String,
}

impl Source {
    /// The embedded default blueprint.
    #[must_use]
    pub fn embedded() -> Self {
        Self { name: DEFAULT_BLUEPRINT_NAME.into(), text: DEFAULT_BLUEPRINT.into() }
    }

    /// Reads a blueprint file, or standard input when `path` is `-`.
    ///
    /// # Errors
    /// [`Diagnostics`] naming the file when it cannot be read or is not UTF-8.
    pub fn read(path: &std::path::Path) -> Result<Self, Diagnostics> {
        use std::io::Read;
        let name = path.display().to_string();
        let mut bytes = Vec::new();
        let read = if path.as_os_str() == "-" {
            std::io::stdin().lock().take(MAX_BLUEPRINT_BYTES + 1).read_to_end(&mut bytes)
        } else {
            std::fs::File::open(path).and_then(|f| f.take(MAX_BLUEPRINT_BYTES + 1).read_to_end(&mut bytes))
        };
        let name = if path.as_os_str() == "-" { "<stdin>".to_string() } else { name };
        if read.is_ok() && bytes.len() as u64 > MAX_BLUEPRINT_BYTES {
            return Err(Diagnostics::new(
                name,
                vec![Diagnostic::new("", format!("is larger than {MAX_BLUEPRINT_BYTES} bytes"))
                    .allowed("a blueprint of at most 1 MiB")],
            ));
        }
        match read.map(|_| bytes) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Ok(Self { name, text }),
                Err(e) => {
                    let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
                    let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                    let column = String::from_utf8_lossy(valid.rsplit(|b| *b == b'\n').next().unwrap_or_default())
                        .chars()
                        .count()
                        + 1;
                    let mut d = Diagnostic::new("", "is not UTF-8 text: this byte is not valid UTF-8")
                        .allowed("a UTF-8 YAML file");
                    d.at = Some(yaml::Pos { line, column });
                    Err(Diagnostics::new(name, vec![d]))
                }
            },
            Err(e) => Err(Diagnostics::new(
                name,
                vec![Diagnostic::new("", format!("cannot be read: {e}")).allowed("a readable YAML file")],
            )),
        }
    }
}

/// Loads and validates a blueprint: the [`Blueprint`] of parsed values, or every problem.
///
/// # Errors
/// [`Diagnostics`] listing every problem found, each with `line:column`, the blueprint path,
/// what is wrong and what is allowed: the YAML syntax error alone when the text does not
/// parse; otherwise repeated keys, structural and semantic problems together.
pub fn load(source: &Source) -> Result<Blueprint, Diagnostics> {
    let text = source.text.strip_prefix('\u{feff}').unwrap_or(&source.text);
    let positions = yaml::Positions::index(text);
    let fail = |items: Vec<Diagnostic>| {
        let items = items
            .into_iter()
            .map(|mut d| {
                if d.at.is_none() {
                    d.at = if d.on_key { positions.key(&d.path) } else { positions.value(&d.path) };
                }
                d
            })
            .collect();
        Diagnostics::new(source.name.clone(), items)
    };
    let document = match yaml::parse(text) {
        Ok(serde_json::Value::Null) => {
            return Err(fail(vec![Diagnostic::new("", "is empty").allowed("a YAML mapping with at least `name:`")]));
        }
        Ok(v) => v,
        Err(e) => {
            // Valid YAML whose number no JSON number can hold: say so at its key path.
            let mut d = match e.message.strip_suffix(": JSON number out of range") {
                Some(path) => Diagnostic::new(path, "is a number too large to read")
                    .allowed("a number within the field's range; see `sandboxc schema`"),
                None => Diagnostic::new("", format!("is not valid YAML: {}", e.message))
                    .allowed("a YAML mapping; see `sandboxc schema` and blueprints/data-sandbox.yaml"),
            };
            d.at = e.at;
            return Err(fail(vec![d]));
        }
    };
    // JSON values keep only the last of repeated keys: catch repetitions in the YAML itself.
    let mut problems: Vec<Diagnostic> = repeated_key_problems(positions.repeated_keys());
    // A repeated key's value is a guess (the last one): no semantic problem about it.
    let mut broken: Vec<String> = problems.iter().map(|d| d.path.clone()).collect();
    let structural = schema::validate(&document);
    let document = if structural.is_empty() {
        match serde_path_to_error::deserialize::<_, Document>(&document) {
            Ok(d) => Some(d),
            Err(e) => {
                let path = e.path().to_string();
                let path = if path == "." { String::new() } else { path };
                let (message, allowed) = schema::explain_serde(&path, &e.into_inner().to_string());
                problems.push(Diagnostic::new(path, message).allowed(allowed));
                None
            }
        }
    } else {
        problems.extend(structural);
        repair::repair(&document).map(|(d, repaired)| {
            broken.extend(repaired);
            d
        })
    };
    if let Some(document) = document {
        match validate::validate(document) {
            Ok(blueprint) if problems.is_empty() => return Ok(blueprint),
            Ok(_) => {}
            Err(semantic) => problems.extend(repair::unaffected(semantic, &broken)),
        }
    }
    Err(fail(problems))
}

/// One diagnostic per repeated key, at its second occurrence: `is set twice (first on line A)`,
/// or `is set N times (lines A, B, C)` when it repeats more than once. `repeated` lists each
/// repeat with the first occurrence, in document order.
fn repeated_key_problems(repeated: &[(String, yaml::Pos, yaml::Pos)]) -> Vec<Diagnostic> {
    let mut keys: Vec<(&String, yaml::Pos, Vec<yaml::Pos>)> = Vec::new();
    for (path, first, again) in repeated {
        match keys.iter_mut().find(|(p, f, _)| *p == path && f == first) {
            Some((_, _, agains)) => agains.push(*again),
            None => keys.push((path, *first, vec![*again])),
        }
    }
    keys.into_iter()
        .map(|(path, first, agains)| {
            let message = match agains.as_slice() {
                [_] => format!("is set twice (first on line {})", first.line),
                _ => {
                    let lines: Vec<String> = std::iter::once(first.line)
                        .chain(agains.iter().map(|p| p.line))
                        .map(|l| l.to_string())
                        .collect();
                    format!("is set {} times (lines {})", agains.len() + 1, lines.join(", "))
                }
            };
            let mut d = Diagnostic::new(path.clone(), message).allowed("each key once in a mapping").on_key();
            d.at = agains.first().copied();
            d
        })
        .collect()
}
