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
    if let Some(at) = too_deep(text) {
        return Err(SyntaxError {
            at: Some(at),
            message: format!("collections are nested more than {MAX_DEPTH} levels deep here (no blueprint needs that)"),
        });
    }
    backend::from_str::<serde_json::Value>(text).map_err(|e| {
        let raw = e.to_string();
        if raw.contains("more than one document") {
            return SyntaxError {
                at: second_document(text),
                message: "a second YAML document starts here; a blueprint is one document (remove the `---` line and what follows, or split the file)".into(),
            };
        }
        reader_error(&raw, text).unwrap_or_else(|| {
            let at = e.location().map(|l| Pos { line: l.line(), column: l.column() });
            SyntaxError { at, message: explain(&raw, at, text) }
        })
    })
}

/// Where the second document of a multi-document text starts (its `---`, else its first node).
fn second_document(text: &str) -> Option<Pos> {
    let mut documents = 0;
    for item in Parser::new_from_str(text) {
        let Ok((event, span)) = item else { return None };
        if matches!(event, Event::DocumentStart(..)) {
            documents += 1;
            if documents == 2 {
                return Some(Pos { line: span.start.line(), column: span.start.col() + 1 });
            }
        }
    }
    None
}

/// An error of the parser's reader, which names a byte offset (`... at position N`) instead
/// of a line and column (a control character such as NUL, invalid UTF-16): the offset becomes
/// the line and column (the parser itself reports 1:1), and the character is named (not the
/// offset: it counts from after a byte-order mark). `None`
/// for any other error.
fn reader_error(raw: &str, text: &str) -> Option<SyntaxError> {
    let (message, offset) = raw.rsplit_once(" at position ")?;
    let offset = offset.trim().parse::<usize>().ok()?;
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let message = match text.get(offset..).and_then(|t| t.chars().next()) {
        Some(c) if message.starts_with("control characters are not allowed") => {
            format!("the control character U+{:04X} is not allowed in YAML", u32::from(c))
        }
        _ => format!("{message} (byte {offset})"),
    };
    Some(SyntaxError { at: Some(Pos { line, column }), message })
}

/// Where flow collections (`[`, `{`) first open deeper than [`MAX_DEPTH`], if they do. The
/// YAML scanner under serde_yaml spends time proportional to the open flow levels on every
/// token, so a deep `[[[[...` of a few hundred kilobytes would keep it busy for minutes:
/// such text is refused before it is parsed. Quoted scalars and comments are skipped; a quote
/// counts only where a scalar can start.
fn too_deep(text: &str) -> Option<Pos> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut previous = '\n';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        column += 1;
        if c == '\n' {
            (line, column, comment) = (line + 1, 0, false);
        } else if comment {
        } else if let Some(q) = quote {
            if c == q && !(q == '\'' && chars.peek() == Some(&'\'')) {
                quote = None;
            } else if (q == '\'' && c == '\'') || (q == '"' && c == '\\') {
                chars.next();
                column += 1;
            }
        } else {
            let scalar_start = previous.is_whitespace() || matches!(previous, ':' | ',' | '[' | '{' | '-');
            match c {
                '#' if previous.is_whitespace() => comment = true,
                '\'' | '"' if scalar_start => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(Pos { line, column });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = c;
    }
    None
}

/// The parser's message in plain words, without the position of the error itself (shown
/// separately) but with any context it names (`while parsing a flow sequence at line 5 column 23`).
fn explain(raw: &str, at: Option<Pos>, text: &str) -> String {
    let message = drop_first_location(raw);
    let char_at = at.and_then(|p| {
        text.lines().nth(p.line.saturating_sub(1)).and_then(|l| l.chars().nth(p.column.saturating_sub(1)))
    });
    if message.contains("found character that cannot start any token") && char_at == Some('\t') {
        return "a tab is used for indentation; YAML indents with spaces only".into();
    }
    if message.starts_with("did not find expected key") {
        return format!("{message}: check the indentation of this line against the lines above");
    }
    if message.contains("invalid type: enum") {
        return "YAML tags such as !Ref are not supported in blueprints; write plain values".into();
    }
    message
}

/// Removes the first ` at line L column C` from a serde_yaml message.
fn drop_first_location(raw: &str) -> String {
    let Some(start) = raw.find(" at line ") else { return raw.to_string() };
    let rest = &raw[start + " at line ".len()..];
    let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let line_len = digits(rest);
    let after_line = &rest[line_len..];
    let Some(after_col) = after_line.strip_prefix(" column ") else { return raw.to_string() };
    let col_len = digits(after_col);
    format!("{}{}", &raw[..start], &after_col[col_len..])
}

/// Parses YAML that is not a blueprint (a template read back by `plan`) into any
/// deserializable value.
///
/// # Errors
/// The parser's own message, with its position, when `text` is not YAML or not a `T`.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    backend::from_str(text).map_err(|e| e.to_string())
}

/// Parses YAML that may carry tags (a CloudFormation template in YAML, whose short forms
/// are `!Ref X`, `!Sub ...`) into JSON: a tagged node `!Name value` becomes the one-entry
/// mapping `{"!Name": value}`, for the caller to interpret. Mapping keys that are booleans or
/// numbers become their text.
///
/// # Errors
/// The parser's own message, with its position; a key that is a sequence or mapping; a
/// number with no JSON form.
pub fn parse_tagged(text: &str) -> Result<serde_json::Value, String> {
    let value: backend::Value = backend::from_str(text).map_err(|e| e.to_string())?;
    tagged_to_json(value)
}

fn tagged_to_json(v: backend::Value) -> Result<serde_json::Value, String> {
    use backend::Value as Y;
    use serde_json::Value;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    .ok_or_else(|| format!("the number {n} has no JSON form"))?
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(tagged_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Bool(b) => b.to_string(),
                    Y::Number(n) => n.to_string(),
                    other => return Err(format!("a mapping key must be a string, not {other:?}")),
                };
                out.insert(key, tagged_to_json(v)?);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => {
            let name = t.tag.to_string();
            let name = format!("!{}", name.trim_start_matches('!'));
            let mut out = serde_json::Map::new();
            out.insert(name, tagged_to_json(t.value)?);
            Value::Object(out)
        }
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
    repeated: Vec<(String, Pos, Pos)>,
}

/// Collections nested deeper than this are not indexed: serde_yaml refuses documents nested
/// deeper than 128 levels ("recursion limit exceeded"), and a path per level would make
/// indexing quadratic in the depth (a 200 KB file of `[[[[...` took minutes).
const MAX_DEPTH: usize = 128;

impl Positions {
    /// Indexes `text`. A document that fails to parse gives the positions seen up to the error;
    /// indexing stops at collections nested deeper than [`MAX_DEPTH`].
    #[must_use]
    pub fn index(text: &str) -> Self {
        let mut out = Self::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut repeated = std::collections::BTreeSet::new();
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
                    let full = join(path, &name);
                    match out.keys.get(&full) {
                        // Inside a repeated key, every key repeats too: name only the outer one.
                        Some(first) if !inside_repeated(&repeated, &full) => {
                            repeated.insert(full.clone());
                            out.repeated.push((full, *first, pos));
                        }
                        Some(_) => {}
                        None => {
                            out.keys.insert(full, pos);
                        }
                    }
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
            // An empty value (`name:`) has no text of its own: point at its key.
            let pos = match &event {
                Event::Scalar(v, ..) if v.is_empty() => out.keys.get(&path).copied().unwrap_or(pos),
                _ => pos,
            };
            out.values.entry(path.clone()).or_insert(pos);
            if stack.len() >= MAX_DEPTH && matches!(event, Event::MappingStart(..) | Event::SequenceStart(..)) {
                break;
            }
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

    /// Keys set twice in one mapping: `(path, first position, repeated position)`.
    #[must_use]
    pub fn repeated_keys(&self) -> &[(String, Pos, Pos)] {
        &self.repeated
    }

    /// Position of the key of the mapping entry at `path`, else of its value.
    #[must_use]
    pub fn key(&self, path: &str) -> Option<Pos> {
        self.keys.get(path).copied().or_else(|| self.value(path))
    }
}

/// Whether an enclosing path of `path` is one of the `repeated` keys.
fn inside_repeated(repeated: &std::collections::BTreeSet<String>, path: &str) -> bool {
    let mut up = parent(path);
    while let Some(p) = up {
        if repeated.contains(&p) {
            return true;
        }
        up = parent(&p);
    }
    false
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
        let text =
            "name: demo\nnetwork:\n  cidr: 10.0.0.0/8\n  availability_zones:\n    - eu-west-1a\n    - eu-west-1b\n";
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
    fn syntax_errors_carry_positions_and_keep_their_context() {
        let Err(err) = parse("name: x\nzones: [a, b\nother: 1\n") else { panic!("parsed") };
        assert!(err.at.is_some());
        assert!(err.message.contains("while parsing a flow sequence at line 2 column 8"), "{}", err.message);
    }

    #[test]
    fn repeated_keys_are_found() {
        let p = Positions::index("name: a\nnetwork:\n  cidr: x\n  cidr: y\nname: b\n");
        let found: Vec<_> = p.repeated_keys().iter().map(|(k, a, b)| (k.as_str(), a.line, b.line)).collect();
        assert_eq!(found, vec![("network.cidr", 3, 4), ("name", 1, 5)]);
        // The keys inside a repeated key are not named again (the repeat is the error to fix).
        let text = "datasets:\n  a:\n    prefix: x\n  a:\n    prefix: y\n    prefix: z\n  b: {p: 1, p: 2}\n";
        let p = Positions::index(text);
        let found: Vec<_> = p.repeated_keys().iter().map(|(k, a, b)| (k.as_str(), a.line, b.line)).collect();
        assert_eq!(found, vec![("datasets.a", 2, 4), ("datasets.b.p", 7, 7)]);
    }

    /// A deeply nested document is refused at once, not indexed level by level.
    #[test]
    fn deep_nesting_stops_indexing() {
        let deep = format!("name: team-a\ntags: {}{}\n", "[".repeat(20_000), "]".repeat(20_000));
        let positions = Positions::index(&deep);
        assert!(positions.values.len() <= MAX_DEPTH + 2, "{}", positions.values.len());
        let error = parse(&deep).err().map(|e| (e.at, e.message));
        assert_eq!(
            error,
            Some((
                Some(Pos { line: 2, column: 7 + MAX_DEPTH }),
                format!("collections are nested more than {MAX_DEPTH} levels deep here (no blueprint needs that)")
            ))
        );
        // Brackets in quotes and comments do not count; a document just within the limit parses.
        let quoted = format!("a: \"{}\"\nb: '{}'\n# {}\n", "[".repeat(500), "{".repeat(500), "[".repeat(500));
        assert!(too_deep(&quoted).is_none());
        let within = format!("a: {}{}\n", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(too_deep(&within).is_none());
    }

    /// Two documents: the second one's start is named.
    #[test]
    fn a_second_document_is_located() {
        let Err(e) = parse("name: a\nregion: b\n---\nname: c\n") else { panic!("two documents parsed") };
        assert_eq!(e.at, Some(Pos { line: 3, column: 1 }));
        assert!(e.message.starts_with("a second YAML document starts here; a blueprint is one document"), "{e:?}");
        // One document between markers is one document.
        assert!(parse("---\nname: a\n...\n").is_ok());
    }

    /// A NUL byte: the reader names a byte offset, which becomes a line and column.
    #[test]
    fn control_characters_get_a_line_and_column() {
        let Err(e) = parse("name: ab\nregion: us-east-1\n  x\u{0}y: 1\n") else { panic!("NUL parsed") };
        assert_eq!(e.at, Some(Pos { line: 3, column: 4 }));
        assert_eq!(e.message, "the control character U+0000 is not allowed in YAML");
        let Err(e) = parse("name: \u{e9}\u{7}") else { panic!("BEL parsed") };
        assert_eq!(e.at, Some(Pos { line: 1, column: 8 }));
        assert_eq!(e.message, "the control character U+0007 is not allowed in YAML");
    }

    #[test]
    fn drops_only_the_first_location() {
        assert_eq!(
            drop_first_location("bad at line 3 column 4, while x at line 1 column 2"),
            "bad, while x at line 1 column 2"
        );
        assert_eq!(drop_first_location("no position"), "no position");
    }
}
