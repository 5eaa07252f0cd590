//! UTC instants as milliseconds since the Unix epoch, parsed from and written as ISO 8601 /
//! RFC 3339 text, without a date-time crate.
//!
//! Accepted (AppStream usage reports: "ISO 8601 format and as UTC"; CloudTrail `eventTime`:
//! `2026-11-28T23:45:12Z`): `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fraction]]` with `T`, `t`
//! or one space between date and time, then `Z`, `z`, `±HH:MM`, `±HHMM`, `±HH` or nothing
//! (nothing means UTC). Fractions beyond milliseconds are truncated; a leap second (`:60`)
//! counts as `:59.999`. Proleptic Gregorian calendar, years 0000..=9999.

use std::fmt;

/// An instant in UTC, milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i64);

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Why a text is not an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not an ISO 8601 UTC time ({why}); expected e.g. 2026-11-28T23:30:00Z or 2026-11-28")]
pub struct TimeError {
    /// The text, shortened to 40 characters.
    pub text: String,
    /// What is wrong.
    pub why: &'static str,
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
#[must_use]
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
#[must_use]
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (year, u32::try_from(month).unwrap_or(1), u32::try_from(day).unwrap_or(1))
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, n: usize) -> Option<u32> {
        let s = self.b.get(self.at..self.at + n)?;
        let mut v = 0u32;
        for c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        self.at += n;
        Some(v)
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.b.get(self.at) == Some(&c) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }
    fn done(&self) -> bool {
        self.at == self.b.len()
    }
}

impl Instant {
    /// Parses a date or date-time (module docs). A date alone is its midnight (UTC).
    ///
    /// # Errors
    /// [`TimeError`] naming what is wrong.
    pub fn parse(text: &str) -> Result<Self, TimeError> {
        Self::parse_inner(text.trim()).map_err(|why| TimeError { text: text.chars().take(40).collect(), why })
    }

    /// Whether `text` is a date alone (`YYYY-MM-DD`), as `--until` treats it as the whole day.
    #[must_use]
    pub fn is_date_only(text: &str) -> bool {
        text.trim().len() == 10
    }

    fn parse_inner(text: &str) -> Result<Self, &'static str> {
        let mut c = Cursor { b: text.as_bytes(), at: 0 };
        let year = c.digits(4).ok_or("the year must be 4 digits")?;
        if !c.eat(b'-') {
            return Err("a '-' must follow the year");
        }
        let month = c.digits(2).ok_or("the month must be 2 digits")?;
        if !c.eat(b'-') {
            return Err("a '-' must follow the month");
        }
        let day = c.digits(2).ok_or("the day must be 2 digits")?;
        if !(1..=12).contains(&month) {
            return Err("the month must be 01..12");
        }
        if day < 1 || day > days_in_month(i64::from(year), month) {
            return Err("no such day in that month");
        }
        let days = days_from_civil(i64::from(year), month, day);
        if c.done() {
            return Ok(Self(days * DAY_MS));
        }
        if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
            return Err("'T' must separate date and time");
        }
        let hour = c.digits(2).ok_or("the hour must be 2 digits")?;
        if !c.eat(b':') {
            return Err("':' must follow the hour");
        }
        let minute = c.digits(2).ok_or("the minutes must be 2 digits")?;
        let mut second = 0;
        let mut millis = 0u32;
        if c.eat(b':') {
            second = c.digits(2).ok_or("the seconds must be 2 digits")?;
            if c.eat(b'.') || c.eat(b',') {
                let mut n = 0;
                while let Some(d) = c.peek().filter(u8::is_ascii_digit) {
                    if n < 3 {
                        millis = millis * 10 + u32::from(d - b'0');
                    }
                    n += 1;
                    c.at += 1;
                }
                if n == 0 {
                    return Err("a fraction needs digits");
                }
                for _ in n..3 {
                    millis *= 10;
                }
            }
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err("the time of day is out of range");
        }
        if second == 60 {
            second = 59;
            millis = 999;
        }
        let mut offset_min: i64 = 0;
        match c.peek() {
            None => {}
            Some(b'Z' | b'z') => c.at += 1,
            Some(sign @ (b'+' | b'-')) => {
                c.at += 1;
                let h = c.digits(2).ok_or("the offset hours must be 2 digits")?;
                let _ = c.eat(b':');
                let m = if c.done() { 0 } else { c.digits(2).ok_or("the offset minutes must be 2 digits")? };
                if h > 23 || m > 59 {
                    return Err("the offset is out of range");
                }
                offset_min = i64::from(h * 60 + m);
                if sign == b'-' {
                    offset_min = -offset_min;
                }
            }
            Some(_) => return Err("unexpected text after the time"),
        }
        if !c.done() {
            return Err("unexpected text after the time");
        }
        let secs =
            days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second) - offset_min * 60;
        Ok(Self(secs * 1000 + i64::from(millis)))
    }

    /// Milliseconds since the epoch as given by CloudWatch Logs (`timestamp`).
    #[must_use]
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// The day (days since 1970-01-01) this instant falls on.
    #[must_use]
    pub fn day(self) -> i64 {
        self.0.div_euclid(DAY_MS)
    }

    /// The current time from the system clock.
    #[must_use]
    pub fn now() -> Self {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self(ms)
    }
}

impl fmt::Display for Instant {
    /// `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` only when the milliseconds are not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = civil_from_days(self.day());
        let ms_of_day = self.0.rem_euclid(DAY_MS);
        let (h, mi, s, ms) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if ms != 0 {
            write!(f, ".{ms:03}")?;
        }
        f.write_str("Z")
    }
}

impl serde::Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01, and its parts for S3 prefixes.
#[must_use]
pub fn ymd(day: i64) -> (i64, u32, u32) {
    civil_from_days(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> i64 {
        Instant::parse(s).map(|i| i.0).unwrap_or(i64::MIN)
    }

    #[test]
    fn epoch_and_known_instants() {
        assert_eq!(p("1970-01-01T00:00:00Z"), 0);
        assert_eq!(p("1970-01-01"), 0);
        // date -u -d 2026-11-28T23:30:00Z +%s = 1796340600
        assert_eq!(p("2026-11-28T23:30:00Z"), 1_795_908_600_000);
        assert_eq!(p("2026-11-28 23:30:00"), 1_795_908_600_000);
        assert_eq!(p("2026-11-28T23:30:00.5Z"), 1_795_908_600_500);
        assert_eq!(p("2026-11-28T23:30:00.123456Z"), 1_795_908_600_123);
        assert_eq!(p("2026-11-29T01:30:00+02:00"), 1_795_908_600_000);
        assert_eq!(p("2026-11-28T21:30:00-0200"), 1_795_908_600_000);
        assert_eq!(p("2026-11-28T23:30Z"), 1_795_908_600_000);
        assert_eq!(p("2024-02-29T00:00:00Z"), 1_709_164_800_000);
        assert_eq!(p("1969-12-31T23:59:59Z"), -1000);
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-29",
            "2026-11-28T24:00:00Z",
            "2026-11-28T23:30:00Q",
            "2026-11-28T23",
            "2026/11/28",
            "2026-11-28T23:30:00.Z",
            "１９７０-01-01",
        ] {
            assert!(Instant::parse(bad).is_err(), "{bad}");
        }
        let e = Instant::parse("2026-02-30").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("no such day"), "{e}");
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "2026-11-28T23:30:00Z",
            "2026-11-28T23:30:00.123Z",
            "1999-12-31T23:59:59Z",
            "2000-02-29T12:00:00Z",
            "1960-06-01T00:00:00Z",
        ] {
            assert_eq!(Instant::parse(s).map(|i| i.to_string()).unwrap_or_default(), s);
        }
    }

    #[test]
    fn civil_round_trip_over_centuries() {
        for d in (-800_000..800_000).step_by(997) {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Instant::parse(&s);
        }

        #[test]
        fn display_then_parse_is_identity(ms in -62_000_000_000_000i64..253_000_000_000_000i64) {
            let i = Instant(ms);
            proptest::prop_assert_eq!(Instant::parse(&i.to_string()).ok(), Some(i));
        }
    }
}
