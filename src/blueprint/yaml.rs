//! The one place sandboxc reads and writes YAML.
//!
//! `serde_yaml` is deprecated upstream; a maintained fork with the same API replaces it by
//! changing the `use` line below. Source positions come from `saphyr-parser`'s event stream,
//! because serde_yaml does not expose spans.

use std::collections::BTreeMap;

use saphyr_parser::{Event, Parser};
use serde_yaml as backend;

/// A 1-based line and column in the blueprint text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Line, counted from 1.
    pub line: usize,
    /// Column in characters, counted from 1.
    pub column: usize,
}

/// A YAML syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where the parser stopped, when it knows.
    pub at: Option<Pos>,
    /// The parser's message, without position.
    pub message: String,
}

/// Parses YAML text into a JSON value (mapping keys must be strings).
///
/// # Errors
/// [`SyntaxError`] for malformed YAML, duplicate keys, tags, or non-string keys.
pub fn parse(text: &str) -> Result<serde_json::Value, SyntaxError> {
    backend::from_str::<serde_json::Value>(text).map_err(|e| {
        let at = e.location().map(|l| Pos { line: l.line(), column: l.column() });
        let mut message = e.to_string();
        // serde_yaml appends " at line L column C"; the position is shown separately.
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        SyntaxError { at, message }
    })
}

/// Renders a JSON value as YAML (used by `synth --format yaml`).
///
/// # Errors
/// Only if the value cannot be represented, which does not happen for JSON values.
pub fn to_string(value: &serde_json::Value) -> Result<String, String> {
    backend::to_string(value).map_err(|e| e.to_string())
}

/// Where each node of a YAML document starts: value positions and, for mapping entries, key
/// positions. Paths are written as in diagnostics: `network.availability_zones[1]`.
#[derive(Debug, Default, Clone)]
pub struct Positions {
    values: BTreeMap<String, Pos>,
    keys: BTreeMap<String, Pos>,
}

impl Positions {
    /// Indexes `text`. A document that fails to parse gives the positions seen up to the error.
    #[must_use]
    pub fn index(text: &str) -> Self {
        let mut out = Self::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(text) {
            let Ok((event, span)) = item else { break };
            let pos = Pos { line: span.start.line(), column: span.start.col() + 1 };
            match event {
                Event::SequenceEnd | Event::MappingEnd => {
                    stack.pop();
                    if let Some(top) = stack.last_mut() {
                        top.value_done();
                    }
                    continue;
                }
                Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(..) => {}
                _ => continue,
            }
            // A node in key position of a mapping is a key.
            if let Some(Frame::Map { path, key }) = stack.last_mut() {
                if key.is_none() {
                    let name = match &event {
                        Event::Scalar(v, ..) => v.to_string(),
                        _ => String::from("?"),
                    };
                    out.keys.entry(join(path, &name)).or_insert(pos);
                    *key = Some(name);
                    if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..)) {
                        // Complex keys do not occur in blueprints; index their content nowhere useful.
                        stack.push(Frame::Seq { path: String::from("?"), next: 0 });
                    }
                    continue;
                }
            }
            let path = match stack.last() {
                None => String::new(),
                Some(Frame::Map { path, key }) => join(path, key.as_deref().unwrap_or("?")),
                Some(Frame::Seq { path, next }) => format!("{path}[{next}]"),
            };
            out.values.entry(path.clone()).or_insert(pos);
            match event {
                Event::MappingStart(..) => stack.push(Frame::Map { path, key: None }),
                Event::SequenceStart(..) => stack.push(Frame::Seq { path, next: 0 }),
                _ => {
                    if let Some(top) = stack.last_mut() {
                        top.value_done();
                    }
                }
            }
        }
        out
    }

    /// Position of the value at `path`, else of the nearest enclosing value that has one.
    #[must_use]
    pub fn value(&self, path: &str) -> Option<Pos> {
        let mut p = path.to_string();
        loop {
            if let Some(pos) = self.values.get(&p) {
                return Some(*pos);
            }
            p = parent(&p)?;
        }
    }

    /// Position of the key of the mapping entry at `path`, else of its value.
    #[must_use]
    pub fn key(&self, path: &str) -> Option<Pos> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }
}

/// The enclosing path: `a.b[2]` -> `a.b` -> `a` -> `` -> None.
fn parent(path: &str) -> Option<String> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(path[..cut].to_string())
}

/// One open collection while indexing.
enum Frame {
    /// A mapping at `path`; `key` is the key whose value comes next (None: a key comes next).
    Map { path: String, key: Option<String> },
    /// A sequence at `path`; `next` is the index of the next item.
    Seq { path: String, next: usize },
}

impl Frame {
    fn value_done(&mut self) {
        match self {
            Self::Map { key, .. } => *key = None,
            Self::Seq { next, .. } => *next += 1,
        }
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_keys_values_and_items() {
        let text = "name: demo\nnetwork:\n  cidr: 10.0.0.0/8\n  availability_zones:\n    - eu-west-1a\n    - eu-west-1b\n";
        let p = Positions::index(text);
        assert_eq!(p.key("name"), Some(Pos { line: 1, column: 1 }));
        assert_eq!(p.value("name"), Some(Pos { line: 1, column: 7 }));
        assert_eq!(p.value("network.cidr"), Some(Pos { line: 3, column: 9 }));
        assert_eq!(p.key("network.cidr"), Some(Pos { line: 3, column: 3 }));
        assert_eq!(p.value("network.availability_zones[1]"), Some(Pos { line: 6, column: 7 }));
        // Missing paths fall back to the nearest enclosing value.
        assert_eq!(p.value("network.flow_logs"), p.value("network"));
    }

    #[test]
    fn syntax_errors_carry_positions() {
        let err = parse("name: [unclosed\n").unwrap_err();
        assert!(err.at.is_some());
        assert!(!err.message.contains(" at line "));
    }
}
