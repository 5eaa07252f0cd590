//! Every problem in one pass: when the structure is wrong in places, the semantic rules still
//! run on whatever is right.
//!
//! [`repair`] takes the parsed document and the places the structural stage refused, and
//! builds a document the serde types accept: a refused value is dropped (its key then takes
//! its default), a refused required value (`name`, `appstream.image_name`) gets a placeholder,
//! unknown keys go. The semantic rules run on that document; [`unaffected`] then keeps only the
//! semantic problems whose inputs were all written correctly, so that no message is about a
//! default or a placeholder the user never wrote.

use serde_json::{Map, Value};

use super::diagnostics::Diagnostic;
use super::document::Document;

/// Placeholders for required values, used only to run the semantic rules (their problems are
/// then dropped by [`unaffected`]).
fn placeholder(path: &str) -> Option<Value> {
    match path {
        "name" => Some(Value::from("sandbox")),
        "appstream" => Some(serde_json::json!({"image_name": "image"})),
        "appstream.image_name" => Some(Value::from("image")),
        _ => None,
    }
}

/// One step of a blueprint path: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The steps of a blueprint path (`network.availability_zones[1]`). Keys may hold dots (tag
/// keys such as `tags.app.tier`): the document decides, a longer key that exists wins.
fn steps(path: &str, document: &Value) -> Vec<Step> {
    let mut out = Vec::new();
    let mut node = Some(document);
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let (index, tail) = after.split_once(']').unwrap_or((after, ""));
            let i = index.parse().unwrap_or(usize::MAX);
            node = node.and_then(|n| n.get(i));
            out.push(Step::Index(i));
            rest = tail.strip_prefix('.').unwrap_or(tail);
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        // The longest prefix of `rest` that is a key of the current mapping, else up to the
        // next separator.
        let key = node
            .and_then(Value::as_object)
            .and_then(|m| {
                m.keys()
                    .filter(|k| {
                        rest.starts_with(k.as_str()) && matches!(rest[k.len()..].chars().next(), None | Some('.' | '['))
                    })
                    .max_by_key(|k| k.len())
                    .cloned()
            })
            .unwrap_or_else(|| rest[..end].to_string());
        node = node.and_then(|n| n.get(&key));
        rest = &rest[key.len()..];
        rest = rest.strip_prefix('.').unwrap_or(rest);
        out.push(Step::Key(key));
    }
    out
}

/// The path of the mapping key that holds `path`: `network.availability_zones[1]` ->
/// `network.availability_zones` (a list element is repaired by dropping its whole list).
fn owning_key(path: &str, document: &Value) -> Vec<Step> {
    let mut s = steps(path, document);
    while matches!(s.last(), Some(Step::Index(_))) {
        s.pop();
    }
    s
}

fn dotted(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Drops (or replaces by its placeholder) the value at `steps`; false when nothing could be
/// done (the document itself, or a path that is not there).
fn drop_at(document: &mut Value, steps: &[Step]) -> bool {
    let Some((Step::Key(last), parent)) = steps.split_last() else { return false };
    let mut node = document;
    for s in parent {
        let next = match s {
            Step::Key(k) => node.get_mut(k.as_str()),
            Step::Index(i) => node.get_mut(*i),
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    let Some(m) = node.as_object_mut() else { return false };
    match placeholder(&dotted(steps)) {
        Some(p) => {
            m.insert(last.clone(), p);
            true
        }
        None => m.remove(last).is_some(),
    }
}

/// A document the serde types accept, built from `document` by dropping what the schema
/// refused, and the blueprint paths that were dropped or replaced. `None` when no such
/// document can be built (the document is not a mapping, or a repair does not converge).
#[must_use]
pub fn repair(document: &Value) -> Option<(Document, Vec<String>)> {
    if !document.is_object() {
        return None;
    }
    let mut doc = document.clone();
    let mut broken = Vec::new();
    for (path, kind) in super::schema::refusals(document) {
        match kind {
            Refusal::Missing(key) => {
                let at = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let p = steps(&at, &doc);
                match placeholder(&at) {
                    Some(value) => {
                        if let Some((Step::Key(k), parent)) = p.split_last() {
                            if let Some(m) = object_at(&mut doc, parent) {
                                m.insert(k.clone(), value);
                            }
                        }
                    }
                    // A section that misses a required key of its own is dropped whole.
                    None => {
                        let owner = owning_key(&path, &doc);
                        if !owner.is_empty() {
                            drop_at(&mut doc, &owner);
                        }
                    }
                }
                broken.push(if placeholder(&at).is_some() { at } else { path });
            }
            Refusal::Unknown(keys) => {
                let p = steps(&path, &doc);
                if let Some(m) = object_at(&mut doc, &p) {
                    for k in &keys {
                        m.remove(k);
                    }
                }
                broken.extend(keys.iter().map(|k| if path.is_empty() { k.clone() } else { format!("{path}.{k}") }));
            }
            Refusal::Value => {
                let owner = owning_key(&path, &doc);
                if owner.is_empty() {
                    return None;
                }
                drop_at(&mut doc, &owner);
                broken.push(dotted(&owner));
            }
        }
    }
    // Values the schema lets through but serde refuses (fractions, overflows): drop them too.
    for _ in 0..32 {
        match serde_path_to_error::deserialize::<_, Document>(&doc) {
            Ok(d) => return Some((d, broken)),
            Err(e) => {
                let path = e.path().to_string();
                let owner = owning_key(if path == "." { "" } else { &path }, &doc);
                if owner.is_empty() || !drop_at(&mut doc, &owner) {
                    return None;
                }
                broken.push(dotted(&owner));
            }
        }
    }
    None
}

fn object_at<'v>(document: &'v mut Value, steps: &[Step]) -> Option<&'v mut Map<String, Value>> {
    let mut node = document;
    for s in steps {
        node = match s {
            Step::Key(k) => node.get_mut(k.as_str())?,
            Step::Index(i) => node.get_mut(*i)?,
        };
    }
    node.as_object_mut()
}

/// What the structural stage refused at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The mapping at the path lacks this required key.
    Missing(String),
    /// The mapping at the path has these keys the schema does not know.
    Unknown(Vec<String>),
    /// The value at the path itself.
    Value,
}

/// The inputs a semantic rule reporting at `path` reads beyond `path` itself: a problem is
/// kept only when none of them was repaired.
fn inputs(path: &str) -> &'static [&'static str] {
    match path {
        p if p.starts_with("network.cidr") => &["network.availability_zones"],
        p if p.starts_with("network.availability_zones") => &["region"],
        "appstream.fleet_type" | "appstream.desired_instances" | "appstream.max_concurrent_sessions" => {
            &["appstream.fleet_type", "appstream.desired_instances", "appstream.max_concurrent_sessions"]
        }
        "name" => &["audit.cloudtrail"],
        _ => &[],
    }
}

/// Whether blueprint paths `a` and `b` overlap: equal, or one inside the other.
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |x: &str, y: &str| x.strip_prefix(y).is_some_and(|r| r.starts_with(['.', '[']));
    a == b || a.is_empty() || b.is_empty() || inside(a, b) || inside(b, a)
}

/// The semantic problems whose inputs were all written correctly (none overlaps a `broken`
/// path).
#[must_use]
pub fn unaffected(problems: Vec<Diagnostic>, broken: &[String]) -> Vec<Diagnostic> {
    problems
        .into_iter()
        .filter(|d| {
            let mut read = vec![d.path.as_str()];
            read.extend(inputs(&d.path));
            !read.iter().any(|r| broken.iter().any(|b| overlaps(r, b)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refused_values_take_their_defaults_and_required_ones_a_placeholder() {
        let doc = json!({
            "name": "Demo",
            "layout": "flat",
            "network": {"flow_logs": "maybe", "cidr": "10.0.0.1/16", "availabilty_zones": 2},
            "appstream": {"instance_type": "stream.standard.mediun"},
            "tags": {"app.tier": "x"}
        });
        let (d, broken) = repair(&doc).unwrap_or_else(|| panic!("repairable"));
        assert_eq!(d.name, "sandbox");
        assert_eq!(d.appstream.image_name, "image");
        assert_eq!(d.appstream.instance_type, "stream.standard.mediun");
        assert_eq!(d.network.cidr, "10.0.0.1/16");
        assert!(d.network.flow_logs);
        let mut broken = broken;
        broken.sort();
        assert_eq!(
            broken,
            ["appstream.image_name", "layout", "name", "network.availabilty_zones", "network.flow_logs"]
        );
        assert!(repair(&json!(["not", "a", "mapping"])).is_none());
    }

    #[test]
    fn problems_that_read_a_repaired_value_are_dropped() {
        let problems = vec![
            Diagnostic::new("network.cidr", "host bits"),
            Diagnostic::new("appstream.max_concurrent_sessions", "only for ELASTIC"),
            Diagnostic::new("appstream.max_session_duration", "too long"),
            Diagnostic::new("tags.a", "reserved"),
        ];
        let kept = unaffected(problems, &["appstream.fleet_type".into(), "network.availability_zones".into()]);
        let paths: Vec<&str> = kept.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["appstream.max_session_duration", "tags.a"]);
        assert!(
            overlaps("network", "network.cidr") && overlaps("x[1]", "x") && !overlaps("network.cidr", "network.cidr2")
        );
    }

    #[test]
    fn paths_with_dotted_keys_and_indexes_are_found() {
        let doc = json!({"tags": {"app.tier": "x"}, "network": {"availability_zones": ["a", "b"]}});
        assert_eq!(steps("tags.app.tier", &doc), [Step::Key("tags".into()), Step::Key("app.tier".into())]);
        assert_eq!(dotted(&owning_key("network.availability_zones[1]", &doc)), "network.availability_zones");
    }
}
