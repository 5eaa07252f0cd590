//! Durations written as `90s`, `15m`, `4h`, `2d` (or `0`).

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A whole number of seconds, written in a blueprint as `<n>s`, `<n>m`, `<n>h`, `<n>d`, or `0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(u64);

/// The JSON Schema pattern of a duration string.
pub const DURATION_PATTERN: &str = r"^(0|[0-9]{1,9}[smhd])$";

impl Duration {
    /// A duration of `secs` seconds.
    #[must_use]
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// The length in seconds.
    #[must_use]
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Parses `90s`, `15m`, `4h`, `2d` or `0`.
    ///
    /// # Errors
    /// A message naming the accepted forms when `text` is anything else.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text == "0" {
            return Ok(Self(0));
        }
        let bad = || {
            format!("{text:?} is not a duration (allowed: a whole number followed by s, m, h or d, such as 90s, 15m, 4h, 2d; or 0)")
        };
        let unit = text.chars().last().ok_or_else(bad)?;
        let digits = &text[..text.len() - unit.len_utf8()];
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u64 = digits.parse().map_err(|_| bad())?;
        let factor = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        Ok(Self(n * factor))
    }
}

impl fmt::Display for Duration {
    /// The shortest exact form: `4h` rather than `240m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s == 0 {
            f.write_str("0")
        } else if s % 86_400 == 0 {
            write!(f, "{}d", s / 86_400)
        } else if s % 3600 == 0 {
            write!(f, "{}h", s / 3600)
        } else if s % 60 == 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 90s, 15m, 4h, 2d, or 0")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                if v == 0 {
                    Ok(Duration(0))
                } else {
                    Err(E::custom(format!("{v} has no unit (allowed: 90s, 15m, 4h, 2d, or 0)")))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                u64::try_from(v).map_err(|_| E::custom("a duration cannot be negative")).and_then(|v| self.visit_u64(v))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl JsonSchema for Duration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: a whole number followed by s, m, h or d (90s, 15m, 4h, 2d), or 0.",
            "anyOf": [
                { "type": "string", "pattern": DURATION_PATTERN },
                { "type": "integer", "const": 0 }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(Duration::parse("90s"), Ok(Duration(90)));
        assert_eq!(Duration::parse("15m"), Ok(Duration(900)));
        assert_eq!(Duration::parse("4h"), Ok(Duration(14_400)));
        assert_eq!(Duration::parse("2d"), Ok(Duration(172_800)));
        assert_eq!(Duration::parse("0"), Ok(Duration(0)));
    }

    #[test]
    fn rejects_other_forms() {
        for bad in ["", "m", "15", "1.5h", "-1m", "15 m", "15M", "1w", "٣m", "9999999999s"] {
            assert!(Duration::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn displays_shortest_form() {
        assert_eq!(Duration(345_600).to_string(), "4d");
        assert_eq!(Duration(14_400).to_string(), "4h");
        assert_eq!(Duration(900).to_string(), "15m");
        assert_eq!(Duration(61).to_string(), "61s");
    }

    proptest::proptest! {
        #[test]
        fn display_then_parse_round_trips(secs in 0u64..100_000_000) {
            let d = Duration(secs);
            proptest::prop_assert_eq!(Duration::parse(&d.to_string()), Ok(d));
        }
    }
}
