//! CloudTrail log files, streamed record by record.
//!
//! CloudTrail delivers `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`: one
//! JSON object `{"Records": [...]}` per file (docs/aws-facts.md, "CloudTrail"; CloudTrail record
//! contents in the CloudTrail user guide). The file is never held whole: a
//! [`serde::de::DeserializeSeed`] walks the `Records` array and hands each record to the
//! caller as soon as it is read, keeping only the fields the audit needs ([`Record`]).
//! A record whose fields have unexpected JSON types is still read (the field is treated as
//! missing); a JSON syntax error ends the file: the records before it were already handed
//! over, and the error is returned with its record number, line and column.

use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The fields of one CloudTrail record the audit reads. Each is `None` when missing or not a
/// JSON string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// `eventTime`, ISO 8601 UTC.
    pub event_time: Option<String>,
    /// `eventSource`: `s3.amazonaws.com` for S3.
    pub event_source: Option<String>,
    /// `eventName`: `GetObject`, `PutObject`...
    pub event_name: Option<String>,
    /// `eventCategory`: `Data` or `Management` (absent in older records).
    pub event_category: Option<String>,
    /// `sourceIPAddress`: through a VPC endpoint, the private address of the caller's
    /// network interface.
    pub source_ip: Option<String>,
    /// `requestParameters.bucketName`.
    pub bucket: Option<String>,
    /// `requestParameters.key`.
    pub key: Option<String>,
    /// `errorCode`, e.g. `AccessDenied`, when the request failed.
    pub error_code: Option<String>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `userIdentity.arn`: the principal (for the sandbox, usually the fleet's role session).
    pub principal: Option<String>,
    /// `userIdentity.sessionContext.sessionIssuer.arn`: for an assumed role, the role's ARN
    /// with its path (`arn:aws:iam::<account>:role/<path><name>`), which is what
    /// `aws:PrincipalArn` matches; it names a user's notebook role and the admin principals.
    pub issuer: Option<String>,
    /// `recipientAccountId`: the account whose trail logged the event.
    pub account: Option<String>,
    /// `resources[]` of type `AWS::S3::Object`: `(bucket, key)` from each ARN
    /// `arn:aws:s3:::bucket/key` (DeleteObjects names every deleted object there).
    pub objects: Vec<(String, String)>,
    /// `resources[]` of type `AWS::S3::Bucket`: the bucket from its ARN `arn:aws:s3:::bucket`.
    pub resource_bucket: Option<String>,
    /// `vpcEndpointId`: the VPC endpoint the request came through (`vpce-...`), absent for a
    /// request to the public endpoint (CloudTrail user guide, "CloudTrail record contents").
    pub vpc_endpoint: Option<String>,
}

/// Reads `resources[]` (any shape; what is not an S3 object or bucket ARN is ignored).
fn resources(value: &serde_json::Value, r: &mut Record) {
    let Some(list) = value.as_array() else { return };
    for item in list {
        let kind = item.get("type").and_then(serde_json::Value::as_str);
        let Some(arn) = item.get("ARN").or_else(|| item.get("arn")).and_then(serde_json::Value::as_str) else {
            continue;
        };
        let Some(path) = arn.strip_prefix("arn:aws:s3:::").or_else(|| arn.split_once(":s3:::").map(|(_, p)| p)) else {
            continue;
        };
        match kind {
            Some("AWS::S3::Object") => {
                if let Some((bucket, key)) = path.split_once('/') {
                    r.objects.push((bucket.to_string(), key.to_string()));
                }
            }
            Some("AWS::S3::Bucket") if !path.is_empty() && !path.contains('/') => {
                r.resource_bucket = Some(path.to_string())
            }
            _ => {}
        }
    }
}

/// Records packed for another thread: their text in one buffer and the field lengths in
/// another, so that a batch of records is three allocations (made in the reading thread, freed
/// in the joining one) instead of about fifteen per record. Each record is its 14 optional
/// fields in [`Packed::push`]'s order (a length, or `u64::MAX` when missing), then the number of its
/// `objects`, then each object's bucket and key.
#[derive(Debug, Default)]
pub struct Packed {
    text: String,
    lens: Vec<u64>,
    records: usize,
}

impl Packed {
    /// The length marking a missing field.
    const NONE: u64 = u64::MAX;

    /// An empty batch with room for `records` records.
    #[must_use]
    pub fn with_capacity(records: usize) -> Self {
        Self { text: String::with_capacity(records * 512), lens: Vec::with_capacity(records * 16), records: 0 }
    }

    /// Records held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.records
    }

    /// Whether no record is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Bytes of text held (the lengths add 8 bytes per field).
    #[must_use]
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    fn put(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.text.push_str(s);
                self.lens.push(s.len() as u64);
            }
            None => self.lens.push(Self::NONE),
        }
    }

    /// Appends `r`.
    pub fn push(&mut self, r: &Record) {
        for f in [
            &r.event_time,
            &r.event_source,
            &r.event_name,
            &r.event_category,
            &r.source_ip,
            &r.bucket,
            &r.key,
            &r.error_code,
            &r.event_id,
            &r.principal,
            &r.issuer,
            &r.account,
            &r.resource_bucket,
            &r.vpc_endpoint,
        ] {
            self.put(f.as_deref());
        }
        self.lens.push(r.objects.len() as u64);
        for (bucket, key) in &r.objects {
            self.put(Some(bucket));
            self.put(Some(key));
        }
        self.records += 1;
    }

    /// The records, in the order they were pushed.
    #[must_use]
    pub fn records(&self) -> Unpack<'_> {
        Unpack { packed: self, lens: 0, text: 0 }
    }
}

/// The records of a [`Packed`], rebuilt one at a time.
#[derive(Debug)]
pub struct Unpack<'p> {
    packed: &'p Packed,
    lens: usize,
    text: usize,
}

impl Unpack<'_> {
    fn next_len(&mut self) -> Option<u64> {
        let len = self.packed.lens.get(self.lens).copied();
        self.lens += 1;
        len
    }

    fn field(&mut self) -> Option<String> {
        let len = self.next_len().filter(|&l| l != Packed::NONE)?;
        let end = usize::try_from(len).ok().and_then(|l| self.text.checked_add(l))?;
        let s = self.packed.text.get(self.text..end)?;
        self.text = end;
        Some(s.to_string())
    }
}

impl Iterator for Unpack<'_> {
    type Item = Record;
    fn next(&mut self) -> Option<Record> {
        if self.lens >= self.packed.lens.len() {
            return None;
        }
        let mut r = Record {
            event_time: self.field(),
            event_source: self.field(),
            event_name: self.field(),
            event_category: self.field(),
            source_ip: self.field(),
            bucket: self.field(),
            key: self.field(),
            error_code: self.field(),
            event_id: self.field(),
            principal: self.field(),
            issuer: self.field(),
            account: self.field(),
            resource_bucket: self.field(),
            vpc_endpoint: self.field(),
            objects: Vec::new(),
        };
        let objects = self.next_len().unwrap_or(0);
        for _ in 0..objects {
            let (Some(bucket), Some(key)) = (self.field(), self.field()) else { break };
            r.objects.push((bucket, key));
        }
        Some(r)
    }
}

/// A file is not a CloudTrail log file, or its JSON breaks off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrailFileError {
    /// Valid JSON but not `{"Records": [...]}` (e.g. a digest file), or not JSON at all
    /// before the first record.
    NotCloudTrail(String),
    /// The input could not be read (an I/O or decompression error, e.g. a cut-off gzip file)
    /// before the first record.
    Unreadable(String),
    /// A syntax error after `n` records were read.
    Broken {
        /// Records read before the error.
        records: usize,
        /// The error, with line and column of the (decompressed) file.
        why: String,
    },
}

/// Streams the records of one CloudTrail file (already decompressed) to `on_record`, with
/// their 1-based index in `Records`. Returns the number of records.
///
/// # Errors
/// [`TrailFileError`].
pub fn read(input: impl Read, on_record: &mut dyn FnMut(usize, Record)) -> Result<usize, TrailFileError> {
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(64 * 1024, input));
    let mut state = State { on_record, count: 0, saw_records: false };
    let result = (&mut de).deserialize_any(FileVisitor { state: &mut state });
    let result = result.and_then(|()| de.end());
    match result {
        Ok(()) if state.saw_records => Ok(state.count),
        Ok(()) => Err(TrailFileError::NotCloudTrail("a JSON document without a \"Records\" array".into())),
        Err(e) if !state.saw_records && e.is_io() => Err(TrailFileError::Unreadable(e.to_string())),
        Err(e) if !state.saw_records => Err(TrailFileError::NotCloudTrail(if e.is_data() {
            "a JSON document whose \"Records\" is not an array".into()
        } else {
            format!("not JSON: {e}")
        })),
        Err(e) => Err(TrailFileError::Broken { records: state.count, why: e.to_string() }),
    }
}

struct State<'a> {
    on_record: &'a mut dyn FnMut(usize, Record),
    count: usize,
    saw_records: bool,
}

struct FileVisitor<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> Visitor<'de> for FileVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail log file {\"Records\": [...]}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key_seed(Named(&["Records"]))? {
            if k == Some(0) && !self.state.saw_records {
                map.next_value_seed(RecordsSeed { state: &mut *self.state })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    // Any other top-level value is read and leaves `saw_records` false.
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// A map key looked up in a list of names without allocating: its index, or `None`.
struct Named(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Named {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for Named {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|n| *n == v))
    }
}

/// The record fields read, in the order of the match in [`SlotVisitor::visit_map`].
const RECORD_FIELDS: &[&str] = &[
    "eventTime",
    "eventSource",
    "eventName",
    "eventCategory",
    "sourceIPAddress",
    "errorCode",
    "eventID",
    "requestParameters",
    "userIdentity",
    "recipientAccountId",
    "resources",
    "vpcEndpointId",
];

struct RecordsSeed<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> DeserializeSeed<'de> for RecordsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of CloudTrail records")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.saw_records = true;
        while let Some(slot) = seq.next_element::<Slot>()? {
            self.state.count += 1;
            (self.state.on_record)(self.state.count, slot.0.unwrap_or_default());
        }
        Ok(())
    }
}

/// One element of `Records`: `None` when it is not a JSON object (then every field is
/// missing and the caller rejects it).
struct Slot(Option<Record>);

impl<'de> serde::Deserialize<'de> for Slot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SlotVisitor)
    }
}

struct SlotVisitor;

macro_rules! ignore_scalars {
    ($value:ty, $none:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_unit<E>(self) -> Result<$value, E> {
            Ok($none)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($none)
        }
    };
}

impl<'de> Visitor<'de> for SlotVisitor {
    type Value = Slot;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a CloudTrail record")
    }
    ignore_scalars!(Slot, Slot(None));
    fn visit_str<E>(self, _: &str) -> Result<Slot, E> {
        Ok(Slot(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slot, A::Error> {
        let mut r = Record::default();
        while let Some(k) = map.next_key_seed(Named(RECORD_FIELDS))? {
            let slot = match k {
                Some(0) => &mut r.event_time,
                Some(1) => &mut r.event_source,
                Some(2) => &mut r.event_name,
                Some(3) => &mut r.event_category,
                Some(4) => &mut r.source_ip,
                Some(5) => &mut r.error_code,
                Some(6) => &mut r.event_id,
                Some(9) => &mut r.account,
                Some(11) => &mut r.vpc_endpoint,
                Some(10) => {
                    let v = map.next_value::<serde_json::Value>()?;
                    resources(&v, &mut r);
                    continue;
                }
                Some(7) => {
                    let p = map.next_value::<Picked<2>>()?;
                    let [bucket, key] = p.0;
                    r.bucket = bucket;
                    r.key = key;
                    continue;
                }
                Some(8) => {
                    let identity = map.next_value::<Identity>()?;
                    r.principal = identity.arn;
                    r.issuer = identity.issuer;
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Text>()?.0;
        }
        Ok(Slot(Some(r)))
    }
}

/// A JSON string, or `None` for any other value (which is read and dropped).
struct Text(Option<String>);

impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            ignore_scalars!(Text, Text(None));
            fn visit_str<E>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// `userIdentity`: its `arn`, and `sessionContext.sessionIssuer.arn`; both `None` when the
/// value is not an object.
#[derive(Default)]
struct Identity {
    arn: Option<String>,
    issuer: Option<String>,
}

impl<'de> serde::Deserialize<'de> for Identity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Identity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a userIdentity object")
            }
            ignore_scalars!(Identity, Identity::default());
            fn visit_str<E>(self, _: &str) -> Result<Identity, E> {
                Ok(Identity::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Identity, A::Error> {
                let mut out = Identity::default();
                while let Some(k) = map.next_key_seed(Named(&["arn", "sessionContext"]))? {
                    match k {
                        Some(0) => out.arn = map.next_value::<Text>()?.0,
                        Some(1) => out.issuer = map.next_value::<SessionContext>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

/// `userIdentity.sessionContext`: the `arn` of its `sessionIssuer` (an object), if any.
struct SessionContext(Option<String>);

impl<'de> serde::Deserialize<'de> for SessionContext {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SessionContext;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sessionContext object")
            }
            ignore_scalars!(SessionContext, SessionContext(None));
            fn visit_str<E>(self, _: &str) -> Result<SessionContext, E> {
                Ok(SessionContext(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SessionContext, A::Error> {
                let mut issuer = None;
                while let Some(k) = map.next_key_seed(Named(&["sessionIssuer"]))? {
                    if k == Some(0) {
                        let [arn] = map.next_value::<Picked<1>>()?.0;
                        issuer = arn;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(SessionContext(issuer))
            }
        }
        d.deserialize_any(V)
    }
}

/// String fields picked out of an object: `requestParameters` (`bucketName`, `key`) or
/// `sessionIssuer` (`arn`); all `None` when the value is not an object.
struct Picked<const N: usize>([Option<String>; N]);

impl<'de, const N: usize> serde::Deserialize<'de> for Picked<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const N: usize>;
        impl<'de, const N: usize> Visitor<'de> for V<N> {
            type Value = Picked<N>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            ignore_scalars!(Picked<N>, Picked(std::array::from_fn(|_| None)));
            fn visit_str<E>(self, _: &str) -> Result<Picked<N>, E> {
                Ok(Picked(std::array::from_fn(|_| None)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Picked<N>, A::Error> {
                let names: &'static [&'static str] = if N == 2 { &["bucketName", "key"] } else { &["arn"] };
                let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
                while let Some(k) = map.next_key_seed(Named(names))? {
                    match k {
                        Some(i) if i < N => {
                            let v = map.next_value::<Text>()?.0;
                            if let Some(slot) = out.get_mut(i) {
                                *slot = v;
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Picked(out))
            }
        }
        d.deserialize_any(V::<N>)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> (Result<usize, TrailFileError>, Vec<(usize, Record)>) {
        let mut out = Vec::new();
        let r = read(text.as_bytes(), &mut |i, rec| out.push((i, rec)));
        (r, out)
    }

    #[test]
    fn packed_records_come_back_as_they_were() {
        let full = Record {
            event_time: Some("2026-11-28T23:45:00Z".into()),
            event_source: Some("s3.amazonaws.com".into()),
            event_name: Some("DeleteObjects".into()),
            event_category: Some(String::new()),
            source_ip: Some("10.10.1.25".into()),
            bucket: None,
            key: Some("k\u{e9}y/\u{1f600}".into()),
            error_code: None,
            event_id: Some("e1".into()),
            principal: Some("arn:aws:sts::1:assumed-role/r/s".into()),
            issuer: Some("arn:aws:iam::1:role/r".into()),
            account: Some("123456789012".into()),
            objects: vec![("data".into(), "a.csv".into()), (String::new(), "b".into())],
            resource_bucket: Some("data".into()),
            vpc_endpoint: Some("vpce-0a1b2c3d".into()),
        };
        let records = vec![Record::default(), full.clone(), Record::default(), full];
        let mut packed = Packed::with_capacity(2);
        for r in &records {
            packed.push(r);
        }
        assert_eq!(packed.len(), 4);
        assert_eq!(packed.records().collect::<Vec<_>>(), records);
        assert_eq!(Packed::default().records().count(), 0);
        assert!(Packed::default().is_empty());
    }

    #[test]
    fn picks_the_fields() {
        let text = r#"{"Records":[{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"x":[1,2]}},
            "eventTime":"2026-11-28T23:45:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","sourceIPAddress":"10.10.1.25",
            "requestParameters":{"bucketName":"data","Host":"h","key":"a/b.csv"},"eventCategory":"Data","eventID":"e1","resources":[{"type":"AWS::S3::Object"}]}]}"#;
        let (r, recs) = all(text);
        assert_eq!(r, Ok(1));
        let rec = &recs[0].1;
        assert_eq!(rec.bucket.as_deref(), Some("data"));
        assert_eq!(rec.key.as_deref(), Some("a/b.csv"));
        assert_eq!(rec.principal.as_deref(), Some("arn:aws:sts::1:assumed-role/r/s"));
        assert_eq!(rec.issuer, None, "a sessionContext without sessionIssuer");
        assert_eq!(rec.event_id.as_deref(), Some("e1"));
    }

    #[test]
    fn the_session_issuer_names_the_role() {
        let (_, recs) = all(
            r#"{"Records":[{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/n/SageMaker",
            "sessionContext":{"attributes":{"mfaAuthenticated":"false"},"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::1:role/sandboxc/team/users/h/n","userName":"n"}}}},
            {"userIdentity":{"sessionContext":{"sessionIssuer":7}}},{"userIdentity":{"sessionContext":"x"}}]}"#,
        );
        assert_eq!(recs[0].1.principal.as_deref(), Some("arn:aws:sts::1:assumed-role/n/SageMaker"));
        assert_eq!(recs[0].1.issuer.as_deref(), Some("arn:aws:iam::1:role/sandboxc/team/users/h/n"));
        assert_eq!((recs[1].1.issuer.as_deref(), recs[2].1.issuer.as_deref()), (None, None));
    }

    /// Review finding 9: DeleteObjects keys and a missing bucketName from `resources[]`.
    #[test]
    fn resources_name_objects_and_buckets() {
        let (_, recs) = all(
            r#"{"Records":[{"eventName":"DeleteObjects","requestParameters":{"bucketName":"b","delete":""},
            "resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b/x/1.csv"},{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::b/2.csv"},{"type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b"},{"type":5},7]}]}"#,
        );
        assert_eq!(
            recs[0].1.objects,
            vec![("b".to_string(), "x/1.csv".to_string()), ("b".to_string(), "2.csv".to_string())]
        );
        assert_eq!(recs[0].1.resource_bucket.as_deref(), Some("b"));
    }

    #[test]
    fn odd_types_are_missing_fields_not_errors() {
        let (r, recs) = all(
            r#"{"Records":[5,{"eventTime":7,"requestParameters":null,"userIdentity":"x","eventName":{"a":1}},"s"]}"#,
        );
        assert_eq!(r, Ok(3));
        assert_eq!(recs[0].1, Record::default());
        assert_eq!(recs[1].1, Record::default());
    }

    #[test]
    fn not_cloudtrail_and_broken_files() {
        assert!(matches!(all(r#"{"digestStartTime":"x"}"#).0, Err(TrailFileError::NotCloudTrail(_))));
        assert!(matches!(all("[1,2]").0, Err(TrailFileError::NotCloudTrail(_))));
        assert!(matches!(all("user_session_id,a").0, Err(TrailFileError::NotCloudTrail(_))));
        assert!(matches!(all(r#"{"Records":{}}"#).0, Err(TrailFileError::NotCloudTrail(_))));
        let (r, recs) = all(r#"{"Records":[{"eventName":"GetObject"},{"eventName":"#);
        assert!(matches!(r, Err(TrailFileError::Broken { records: 1, .. })), "{r:?}");
        assert_eq!(recs.len(), 1);
        assert!(matches!(all(r#"{"Records":[]} trailing"#).0, Err(TrailFileError::Broken { .. })));
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = read(bytes.as_slice(), &mut |_, _| {});
        }

        #[test]
        fn random_json_never_panics(s in r#"\{"Records":\[[\{\}\[\]",:a-zA-Z0-9 ]{0,80}"#) {
            let _ = read(s.as_bytes(), &mut |_, _| {});
        }
    }
}
