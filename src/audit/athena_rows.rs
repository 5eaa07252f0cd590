//! The rows of the Athena query ([`super::athena_sql`]) turned into the [`Report`] the local
//! engine makes: session rows go through [`Auditor::add_session`] (the same merging), event rows
//! become the same [`super::join::Event`]s in the same lists, and [`Report::build`] groups,
//! matches decisions and sorts them with the same code, so every renderer prints the same text.
//!
//! What the query does not return is not invented: the counts of records read and set aside by
//! the filters are zero, the files counted are the distinct files rows came from, and a note
//! says so.

use std::collections::HashMap;

use super::athena_sql::{Category, COLUMNS, ITEM_SEPARATOR, PART_SEPARATOR};
use super::join::{Auditor, Class, Event, EventId, Reason, SessionKind};
use super::sessions::Session;
use super::time::Instant;
use super::{AuditError, Filters, Principals, Report};

/// One result row: a value per [`COLUMNS`] entry, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

fn col(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).unwrap_or(usize::MAX)
}

fn text<'r>(row: &'r Row, name: &str) -> Option<&'r str> {
    row.get(col(name)).and_then(Option::as_deref)
}

fn number(row: &Row, name: &str, at: usize) -> Result<Option<i64>, AuditError> {
    match text(row, name) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AuditError::Aws(format!("Athena result row {at}: column {name} is {t:?}, not an integer"))),
    }
}

/// An audit being rebuilt from query rows: call [`AthenaAuditor::rows`] with every row (in any
/// order), then add the decisions to [`AthenaAuditor::auditor`], then [`AthenaAuditor::report`].
#[derive(Debug)]
pub struct AthenaAuditor {
    /// The audit state the rows fill.
    pub auditor: Auditor,
    sessions: Vec<(String, Session)>,
    events: Vec<(usize, Row)>,
    trail_files: std::collections::BTreeSet<String>,
}

impl AthenaAuditor {
    /// A new rebuild with the query's `filters` and `principals`.
    #[must_use]
    pub fn new(filters: Filters, principals: Principals) -> Self {
        Self {
            auditor: Auditor::new(filters).with_principals(principals),
            sessions: Vec::new(),
            events: Vec::new(),
            trail_files: std::collections::BTreeSet::new(),
        }
    }

    /// Takes the result rows (the header row excluded). Sessions are added in a stable order
    /// (by file, then session ID and start), events after all sessions.
    ///
    /// # Errors
    /// [`AuditError::Aws`] for a row that is not of the query's shape.
    pub fn rows(&mut self, rows: impl IntoIterator<Item = Row>) -> Result<(), AuditError> {
        for (i, row) in rows.into_iter().enumerate() {
            let at = i + 1;
            if row.len() != COLUMNS.len() {
                return Err(AuditError::Aws(format!(
                    "Athena result row {at} has {} columns, the query has {}",
                    row.len(),
                    COLUMNS.len()
                )));
            }
            match text(&row, "kind") {
                Some("session") => {
                    let start = number(&row, "start_ms", at)?
                        .ok_or_else(|| AuditError::Aws(format!("Athena result row {at}: a session without start")))?;
                    let s = Session {
                        session_id: text(&row, "session_id").unwrap_or_default().to_string(),
                        user_id: text(&row, "user_id").unwrap_or_default().to_string(),
                        authentication_type: text(&row, "authentication_type").unwrap_or_default().to_string(),
                        fleet: text(&row, "fleet").unwrap_or_default().to_string(),
                        start: Instant(start),
                        end: number(&row, "end_ms", at)?.map(Instant),
                        open_until: number(&row, "open_until_ms", at)?.map(Instant),
                        account: text(&row, "account").filter(|a| !a.is_empty()).map(str::to_string),
                        eni_ip: text(&row, "address").filter(|a| !a.is_empty()).map(str::to_string),
                        origin: text(&row, "origin").unwrap_or_default().to_string(),
                    };
                    self.sessions.push((s.origin.clone(), s));
                }
                Some(kind) if Category::parse(kind).is_some() => self.events.push((at, row)),
                other => {
                    return Err(AuditError::Aws(format!(
                        "Athena result row {at}: unknown kind {:?}",
                        other.unwrap_or("NULL")
                    )))
                }
            }
        }
        Ok(())
    }

    /// Joins the rows into the audit state and builds the report (decisions added to
    /// [`AthenaAuditor::auditor`] before are matched as the local engine matches them).
    ///
    /// # Errors
    /// [`AuditError::Aws`] for an event row that is not of the query's shape, or that names a
    /// session the rows do not have.
    pub fn report(mut self, sources: Vec<String>) -> Result<Report, AuditError> {
        let aud = &mut self.auditor;
        self.sessions.sort_by(|(a, s), (b, t)| {
            a.cmp(b).then_with(|| s.session_id.cmp(&t.session_id)).then_with(|| s.start.cmp(&t.start))
        });
        let report_files: std::collections::BTreeSet<String> = self.sessions.iter().map(|(o, _)| o.clone()).collect();
        for (_, s) in self.sessions {
            aud.add_session(s);
        }
        aud.counts.usage_report_files = report_files.len();
        aud.index();
        let mut versions: HashMap<String, u32> = HashMap::new();
        for (i, s) in aud.sessions.iter().enumerate() {
            let key = format!(
                "{}{PART_SEPARATOR}{}{PART_SEPARATOR}{}{PART_SEPARATOR}{}",
                s.session_id,
                s.user_id,
                s.eni_ip.as_deref().unwrap_or_default(),
                s.start.0
            );
            versions.entry(key).or_insert(u32::try_from(i).unwrap_or(u32::MAX));
        }
        // A stable order for the events (the report sorts them again).
        self.events.sort_by(|(_, a), (_, b)| a.cmp(b));
        for (at, row) in self.events {
            let category = text(&row, "kind").and_then(Category::parse);
            let copy = number(&row, "copy", at)?.unwrap_or(1);
            let records = usize::try_from(number(&row, "records", at)?.unwrap_or(1).max(1)).unwrap_or(1);
            let no_id = text(&row, "event_id").is_none_or(str::is_empty);
            if copy > 1 {
                aud.counts.duplicate_records += records;
                continue;
            }
            // Identical records of one file: without an eventID each is kept, else one is.
            let (times, duplicates) = if no_id { (records, 0) } else { (1, records - 1) };
            aud.counts.duplicate_records += duplicates;
            if let Some(origin) = text(&row, "origin") {
                self.trail_files.insert(origin.to_string());
            }
            let time = number(&row, "start_ms", at)?
                .ok_or_else(|| AuditError::Aws(format!("Athena result row {at}: an event without time")))?;
            let name = text(&row, "event_name").unwrap_or_default();
            let bucket = text(&row, "bucket").unwrap_or_default();
            let error_code = text(&row, "error_code").filter(|c| !c.is_empty());
            let objects: Vec<(&str, &str)> = text(&row, "object_paths")
                .filter(|p| !p.is_empty())
                .map(|p| p.split(ITEM_SEPARATOR).filter_map(|o| o.split_once('/')).collect())
                .unwrap_or_default();
            let request_key = text(&row, "event_key");
            let primary =
                request_key.or_else(|| objects.iter().find(|(b, _)| *b == bucket).map(|(_, k)| *k)).unwrap_or_default();
            let mut more: Vec<&str> =
                objects.iter().filter(|(b, k)| *b == bucket && *k != primary).map(|(_, k)| *k).collect();
            more.sort_unstable();
            more.dedup();
            let claims: Vec<u32> = text(&row, "claims")
                .filter(|c| !c.is_empty())
                .map(|c| {
                    c.split(ITEM_SEPARATOR)
                        .map(|k| {
                            versions.get(k).copied().ok_or_else(|| {
                                AuditError::Aws(format!(
                                    "Athena result row {at}: a claim names a session the rows do not have ({})",
                                    k.replace(PART_SEPARATOR, "/")
                                ))
                            })
                        })
                        .collect::<Result<Vec<u32>, AuditError>>()
                })
                .transpose()?
                .unwrap_or_default();
            let mut claims = claims;
            claims.sort_unstable();
            claims.dedup();
            let (session, kind) = match category {
                Some(Category::Notebook) => {
                    let hash = text(&row, "user_id").unwrap_or_default().to_string();
                    (aud.notebook_user(hash), SessionKind::Notebook)
                }
                Some(Category::Attributed) => (claims.first().copied().unwrap_or(u32::MAX), SessionKind::AppStream),
                Some(Category::Administrative) => (u32::MAX, SessionKind::AppStream),
                _ => (claims.first().copied().unwrap_or(u32::MAX), SessionKind::AppStream),
            };
            let reason = match text(&row, "reason") {
                None | Some("") => Reason::NoSession,
                Some(r) => Reason::parse(r)
                    .ok_or_else(|| AuditError::Aws(format!("Athena result row {at}: unknown reason {r:?}")))?,
            };
            let strings = &mut aud.strings;
            let event = Event {
                time: Instant(time),
                class: Class::of(name, error_code),
                name: strings.id(name),
                bucket: strings.id(bucket),
                source_ip: strings.id(text(&row, "address").unwrap_or_default()),
                error_code: error_code.map_or(0, |c| strings.id(c)),
                principal: text(&row, "principal").map_or(0, |p| strings.id(p)),
                issuer: text(&row, "issuer").map_or(0, |p| strings.id(p)),
                key: strings.key(primary),
                event_id: EventId::new(text(&row, "event_id").unwrap_or_default()),
                session,
                kind,
                account: text(&row, "account").filter(|a| !a.is_empty()).map_or(0, |a| strings.id(a)),
                more_keys: strings.more_keys(&more),
                vpc_endpoint: text(&row, "vpc_endpoint").filter(|v| !v.is_empty()).map_or(0, |v| strings.id(v)),
                reason: if category == Some(Category::Unattributed) { reason } else { Reason::NoSession },
            };
            aud.seen_buckets.insert(bucket.to_string());
            aud.seen_events.insert(name.to_string());
            for _ in 0..times {
                let event = event.clone();
                match category {
                    Some(Category::Attributed | Category::Notebook) => aud.attributed.push(event),
                    Some(Category::Ambiguous) => aud.ambiguous.push((event, claims.clone())),
                    Some(Category::Unattributed) => aud.unattributed.push(event),
                    Some(Category::Administrative) => aud.administrative.push(event),
                    Some(Category::OtherAccount) => {
                        aud.counts.other_account += 1;
                        aud.other_account.push(event);
                    }
                    None => {}
                }
            }
        }
        aud.counts.cloudtrail_files = self.trail_files.len();
        aud.counts.cloudtrail_records = aud.attributed.len()
            + aud.unattributed.len()
            + aud.ambiguous.len()
            + aud.administrative.len()
            + aud.other_account.len()
            + aud.counts.duplicate_records;
        aud.notes.insert(
            "Athena engine: the counts of records read and of records set aside by the filters are not computed (the query returns the kept S3 data events only); files counted are those with kept events or sessions"
                .into(),
        );
        let mut report = Report::build(self.auditor, sources);
        report.no_trail = super::report::NO_TRAIL_ROWS;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query that returned no trail event: the evidence is incomplete (exit 2, as the local
    /// engine's "no CloudTrail file was read"), in Athena's words: it read no file itself.
    #[test]
    fn no_trail_rows_are_said_in_athenas_words() {
        let report = AthenaAuditor::new(Filters::default(), Principals::default()).report(Vec::new());
        let incomplete = report.map(|r| (r.incomplete_evidence(), r.has_findings())).unwrap_or_default();
        assert_eq!(
            incomplete,
            (
                vec!["the Athena query returned no S3 data event of the trail in the window (a quiet window and a trail that delivered nothing look alike to it)".to_string()],
                true
            )
        );
    }
}
