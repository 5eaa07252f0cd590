//! [`ExprMap`]: the mappings of a template (properties, conditions, tags...), kept as one
//! sorted vector. Template mappings are small (a `Ref`'s sibling keys, a statement's
//! condition, two tag keys), where a B-tree's node of eleven slots costs many times its
//! entries; lookups are binary searches, so the few large mappings stay fast too.

use std::fmt;
use std::ops::Index;

use super::Expr;

/// A mapping from keys to template values, in sorted key order (byte order of the keys, as a
/// `ExprMap` orders them), without duplicate keys: a key inserted again
/// replaces its value, and when collected from pairs the last value of a key wins.
#[derive(Clone, Default, PartialEq)]
pub struct ExprMap {
    entries: Vec<(String, Expr)>,
}

/// The entries of an [`ExprMap`] by reference, in key order.
pub type Iter<'a> =
    std::iter::Map<std::slice::Iter<'a, (String, Expr)>, fn(&'a (String, Expr)) -> (&'a String, &'a Expr)>;

/// The entries of an [`ExprMap`] with mutable values, in key order.
pub type IterMut<'a> =
    std::iter::Map<std::slice::IterMut<'a, (String, Expr)>, fn(&'a mut (String, Expr)) -> (&'a String, &'a mut Expr)>;

impl ExprMap {
    /// An empty mapping.
    #[must_use]
    pub const fn new() -> Self {
        Self { entries: Vec::new() }
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the mapping has no entry.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Expr> {
        self.position(key).ok().map(|i| &self.entries[i].1)
    }

    /// The value of `key`, to change it.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Expr> {
        self.position(key).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether `key` has a value.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_ok()
    }

    /// Sets `key` to `value`; returns the value it replaces.
    pub fn insert(&mut self, key: String, value: Expr) -> Option<Expr> {
        match self.position(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Expr> {
        self.position(key).ok().map(|i| self.entries.remove(i).1)
    }

    /// The value of `key`, set to `make()` first when it has none.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> Expr) -> &mut Expr {
        let i = match self.position(key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key.to_string(), make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Expr> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in key order, mutable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Expr> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }
}

impl FromIterator<(String, Expr)> for ExprMap {
    /// Sorts the pairs by key (stable), and keeps the last value of a key given twice.
    fn from_iter<I: IntoIterator<Item = (String, Expr)>>(pairs: I) -> Self {
        let mut entries: Vec<(String, Expr)> = pairs.into_iter().collect();
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            // `later` follows `kept`: move its value into the kept slot, then drop it.
            entries.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(later, kept);
                }
                same
            });
        }
        Self { entries }
    }
}

impl Extend<(String, Expr)> for ExprMap {
    /// Inserts every pair in turn (a key given again replaces the value).
    fn extend<I: IntoIterator<Item = (String, Expr)>>(&mut self, pairs: I) {
        for (k, v) in pairs {
            self.insert(k, v);
        }
    }
}

impl<const N: usize> From<[(String, Expr); N]> for ExprMap {
    fn from(pairs: [(String, Expr); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl IntoIterator for ExprMap {
    type Item = (String, Expr);
    type IntoIter = std::vec::IntoIter<(String, Expr)>;

    /// The entries in key order.
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a> IntoIterator for &'a ExprMap {
    type Item = (&'a String, &'a Expr);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut ExprMap {
    type Item = (&'a String, &'a mut Expr);
    type IntoIter = IterMut<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl Index<&str> for ExprMap {
    type Output = Expr;

    /// The value of `key`.
    ///
    /// # Panics
    /// When `key` has no value, as `BTreeMap` indexing does (tests and known keys only).
    fn index(&self, key: &str) -> &Expr {
        match self.get(key) {
            Some(v) => v,
            None => panic!("no key {key:?} in the mapping"),
        }
    }
}

impl fmt::Debug for ExprMap {
    /// As a `BTreeMap` prints: `{"key": value, ...}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn key() -> impl Strategy<Value = String> {
        prop_oneof!["[a-cA-C:]{0,3}", Just("Ref".to_string()), Just("é".to_string())]
    }

    /// An operation on both maps.
    #[derive(Debug, Clone)]
    enum Op {
        Insert(String, i64),
        Remove(String),
        GetOrInsert(String, i64),
        Extend(Vec<(String, i64)>),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (key(), any::<i64>()).prop_map(|(k, v)| Op::Insert(k, v)),
            key().prop_map(Op::Remove),
            (key(), any::<i64>()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
            prop::collection::vec((key(), any::<i64>()), 0..4).prop_map(Op::Extend),
        ]
    }

    fn same(m: &ExprMap, b: &BTreeMap<String, Expr>) -> bool {
        m.len() == b.len() && m.iter().eq(b.iter()) && b.keys().all(|k| m.get(k) == b.get(k))
    }

    proptest! {
        /// Collected from any pairs, the map has a `BTreeMap`'s entries in its order (the last
        /// value of a repeated key), and every operation keeps it so.
        #[test]
        fn behaves_as_a_btree_map(pairs in prop::collection::vec((key(), any::<i64>()), 0..12), ops in prop::collection::vec(op(), 0..12)) {
            let pairs: Vec<(String, Expr)> = pairs.into_iter().map(|(k, v)| (k, Expr::Int(v))).collect();
            let mut m: ExprMap = pairs.iter().cloned().collect();
            let mut b: BTreeMap<String, Expr> = pairs.into_iter().collect();
            prop_assert!(same(&m, &b), "{:?} vs {:?}", m, b);
            for op in ops {
                match op {
                    Op::Insert(k, v) => prop_assert_eq!(m.insert(k.clone(), Expr::Int(v)), b.insert(k, Expr::Int(v))),
                    Op::Remove(k) => prop_assert_eq!(m.remove(&k), b.remove(&k)),
                    Op::GetOrInsert(k, v) => {
                        let x = m.get_or_insert_with(&k, || Expr::Int(v)).clone();
                        prop_assert_eq!(&x, b.entry(k).or_insert_with(|| Expr::Int(v)));
                    }
                    Op::Extend(more) => {
                        let more: Vec<(String, Expr)> = more.into_iter().map(|(k, v)| (k, Expr::Int(v))).collect();
                        m.extend(more.clone());
                        b.extend(more);
                    }
                }
                prop_assert!(same(&m, &b), "{:?} vs {:?}", m, b);
                prop_assert_eq!(format!("{m:?}"), format!("{b:?}"));
            }
            let owned: Vec<(String, Expr)> = m.into_iter().collect();
            prop_assert_eq!(owned, b.into_iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn keys_sort_by_bytes_and_repeats_keep_the_last_value() {
        let m: ExprMap = [("b", 1), ("a", 2), ("B", 3), ("b", 4), ("Ref", 5)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Expr::Int(v)))
            .collect();
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        assert_eq!(keys, ["B", "Ref", "a", "b"]);
        assert_eq!(m["b"], Expr::Int(4));
        assert_eq!(m.get("c"), None);
    }
}
