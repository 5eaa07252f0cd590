//! Values AWS offers that a schema cannot know and a typo must not pass: AppStream `stream.*`
//! instance types ([`appstream`]), SageMaker notebook `ml.*` instance types ([`notebook`]) and
//! Regions ([`regions`]). Each list lives in its own module with its source and the date it
//! was last compared with it; [`check`] refuses a value not listed, suggests the closest known
//! ones ("did you mean"), and says which file to update when AWS added the value since.

pub mod appstream;
pub mod notebook;
pub mod regions;

/// One list of known values, for messages.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// What a value is, in words: "AppStream instance type".
    pub what: &'static str,
    /// The values, sorted.
    pub values: &'static [&'static str],
    /// The module file holding them (named in messages).
    pub file: &'static str,
    /// When the list was last compared with its source (`YYYY-MM-DD`).
    pub as_of: &'static str,
}

/// AppStream fleet instance types.
pub const APPSTREAM_INSTANCE_TYPES: Known = Known {
    what: "AppStream instance type",
    values: &appstream::INSTANCE_TYPES,
    file: appstream::FILE,
    as_of: appstream::AS_OF,
};

/// SageMaker notebook instance types.
pub const NOTEBOOK_INSTANCE_TYPES: Known = Known {
    what: "SageMaker notebook instance type",
    values: &notebook::INSTANCE_TYPES,
    file: notebook::FILE,
    as_of: notebook::AS_OF,
};

/// AWS Regions.
pub const REGIONS: Known =
    Known { what: "AWS Region", values: &regions::REGIONS, file: regions::FILE, as_of: regions::AS_OF };

/// Why a value is refused: `(what is wrong, what is allowed)` for a diagnostic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// `"stream.standard.mediun" is not a known AppStream instance type`.
    pub message: String,
    /// The suggestion and what to do if AWS added the value since the list was written.
    pub allowed: String,
}

impl Known {
    /// Whether `value` is listed.
    #[must_use]
    pub fn contains(&self, value: &str) -> bool {
        self.values.binary_search(&value).is_ok()
    }

    /// `None` when `value` is listed; otherwise the message and the allowed text, with up to
    /// three closest known values (edit distance) as "did you mean" and, without a close one,
    /// `example`.
    #[must_use]
    pub fn check(&self, value: &str, example: &str) -> Option<Unknown> {
        if self.contains(value) {
            return None;
        }
        // A value in another case (`US-EAST-1`) is that value; else the closest spellings.
        let lower = value.to_ascii_lowercase();
        let close = match self.values.iter().find(|v| v.to_ascii_lowercase() == lower) {
            Some(same) => vec![*same],
            None => suggestions(value, self.values),
        };
        let first = if close.is_empty() {
            format!("a known {} such as {example}.", self.what)
        } else {
            format!("did you mean {}?", or_list(&close))
        };
        Some(Unknown {
            message: format!("{value:?} is not a known {}", self.what),
            allowed: format!("{first} {}", self.if_added(value)),
        })
    }

    /// What to do when AWS added `value` after the list was written: `The list is
    /// sandboxc's, as of DATE: if AWS added VALUE since, add it to FILE and rebuild sandboxc`.
    #[must_use]
    pub fn if_added(&self, value: &str) -> String {
        format!(
            "The list is sandboxc's, as of {}: if AWS added {value} since, add it to {} and rebuild sandboxc",
            self.as_of, self.file
        )
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The known values closest to `value`: those at the smallest edit distance, if that distance
/// is small for the length of `value` (at most a third of it, and at most 4), at most three,
/// in list order.
#[must_use]
pub fn suggestions<'k>(value: &str, known: &[&'k str]) -> Vec<&'k str> {
    let limit = (value.chars().count() / 3).clamp(1, 4);
    let scored: Vec<(usize, &str)> = known.iter().map(|k| (distance(value, k), *k)).collect();
    let Some(best) = scored.iter().map(|(d, _)| *d).min() else { return Vec::new() };
    if best > limit {
        return Vec::new();
    }
    scored.into_iter().filter(|(d, _)| *d == best).map(|(_, k)| k).take(3).collect()
}

/// Levenshtein distance between `a` and `b`, in characters.
#[must_use]
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb { diagonal } else { 1 + diagonal.min(above).min(row[j]) };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_is_sorted_without_duplicates_so_lookups_find_everything() {
        for k in [APPSTREAM_INSTANCE_TYPES, NOTEBOOK_INSTANCE_TYPES, REGIONS] {
            assert!(k.values.windows(2).all(|w| w[0] < w[1]), "{} is not sorted", k.file);
            assert!(k.values.iter().all(|v| k.contains(v)));
        }
        assert!(APPSTREAM_INSTANCE_TYPES.values.iter().all(|t| t.starts_with("stream.")));
        assert!(NOTEBOOK_INSTANCE_TYPES.values.iter().all(|t| t.starts_with("ml.")));
        for default in ["stream.standard.small", "ml.t3.medium", "us-east-1", "eu-west-1"] {
            assert!([APPSTREAM_INSTANCE_TYPES, NOTEBOOK_INSTANCE_TYPES, REGIONS].iter().any(|k| k.contains(default)));
        }
    }

    #[test]
    fn typos_get_the_closest_known_values() {
        assert_eq!(suggestions("stream.standard.mediun", &appstream::INSTANCE_TYPES), ["stream.standard.medium"]);
        assert_eq!(suggestions("ml.t3.larg", &notebook::INSTANCE_TYPES), ["ml.t3.large"]);
        assert_eq!(suggestions("us-east-9", &regions::REGIONS), ["us-east-1", "us-east-2"]);
        assert!(suggestions("nothing-like-it", &regions::REGIONS).is_empty());
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn a_refusal_says_what_to_do_when_aws_added_the_value() {
        let u = REGIONS.check("us-east-9", "eu-west-1").unwrap_or_else(|| panic!("us-east-9 is not a Region"));
        assert_eq!(u.message, "\"us-east-9\" is not a known AWS Region");
        assert!(u.allowed.starts_with("did you mean us-east-1 or us-east-2?"), "{}", u.allowed);
        assert!(u.allowed.contains("add it to src/blueprint/known/regions.rs"), "{}", u.allowed);
        let far = REGIONS.check("moon-1", "eu-west-1").map(|u| u.allowed).unwrap_or_default();
        assert!(far.starts_with("a known AWS Region such as eu-west-1"), "{far}");
        assert_eq!(REGIONS.check("eu-west-1", "eu-west-1"), None);
    }
}
