//! The home-folder bucket's event notification configuration, changed entry by entry (for the
//! provider's `Custom::HomeFolderNotification`).
//!
//! S3 `PutBucketNotificationConfiguration` replaces the bucket's whole configuration, and
//! the home-folder bucket belongs to AppStream, not to this stack. So the provider reads
//! the configuration (`GetBucketNotificationConfiguration`), turns EventBridge delivery on with
//! [`enable_eventbridge`], removes the S3 -> Lambda entry of earlier versions with [`remove`],
//! and writes the result back. ([`upsert`] and [`conflicts`] are the earlier versions' merge
//! of that entry, kept for the tests that pin their behaviour.) (The reference app wrote a configuration holding only its own entry,
//! wiping every other one, and an empty one on update and delete.)
//!
//! The model follows the S3 API's JSON names (`TopicConfigurations`,
//! `QueueConfigurations`, `LambdaFunctionConfigurations`, `EventBridgeConfiguration`;
//! each entry `Id`, `<Kind>Arn`, `Events`, `Filter.Key.FilterRules[{Name, Value}]`).
//! Fields this model does not name are kept in `extra` and written back unchanged.
//!
//! S3 refuses a configuration in which two entries share an event type and have
//! overlapping prefix and suffix filters, or share an `Id`; [`conflicts`] finds those
//! before the write so the provider can fail with a clear reason. Source: S3 user guide,
//! "Configuring event notifications using object key name filtering".

use sandboxc_contract::custom_resource::HOME_FOLDER_NOTIFICATION;
use sandboxc_contract::validator::{HOME_ROOT, SESSION_FILE_NAME};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Our entry's event types.
pub const OUR_EVENTS: [&str; 1] = ["s3:ObjectCreated:*"];

/// `FilterRule`: `Name` is `prefix` or `suffix` (S3 answers `Prefix`/`Suffix` on read;
/// compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterRule {
    /// `prefix` or `suffix`.
    pub name: String,
    /// The key prefix or suffix.
    pub value: String,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `Filter.Key` (`S3KeyFilter`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyFilter {
    /// `FilterRules`.
    #[serde(default)]
    pub filter_rules: Vec<FilterRule>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `Filter` (`NotificationConfigurationFilter`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    /// `Key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeyFilter>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Filter {
    /// A filter with one `prefix` and one `suffix` rule.
    pub fn prefix_suffix(prefix: &str, suffix: &str) -> Filter {
        let rule =
            |name: &str, value: &str| FilterRule { name: name.to_owned(), value: value.to_owned(), extra: Map::new() };
        Filter {
            key: Some(KeyFilter {
                filter_rules: vec![rule("prefix", prefix), rule("suffix", suffix)],
                extra: Map::new(),
            }),
            extra: Map::new(),
        }
    }

    /// The value of the last rule named `name` (case-insensitive), or `""` (no filter).
    fn rule(filter: Option<&Filter>, name: &str) -> String {
        filter
            .and_then(|f| f.key.as_ref())
            .and_then(|k| k.filter_rules.iter().rev().find(|r| r.name.eq_ignore_ascii_case(name)))
            .map(|r| r.value.clone())
            .unwrap_or_default()
    }
}

macro_rules! notification_entry {
    ($(#[$doc:meta])* $name:ident, $arn:ident, $arn_json:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            /// `Id`: optional in the API (S3 assigns one when missing).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub id: Option<String>,
            /// The destination's ARN.
            #[serde(rename = $arn_json)]
            pub $arn: String,
            /// `Events`, e.g. `s3:ObjectCreated:*`.
            #[serde(default)]
            pub events: Vec<String>,
            /// `Filter`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub filter: Option<Filter>,
            /// Fields not modelled here, kept as read.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }

        impl Entry for $name {
            fn id(&self) -> Option<&str> {
                self.id.as_deref()
            }
            fn events(&self) -> &[String] {
                &self.events
            }
            fn filter(&self) -> Option<&Filter> {
                self.filter.as_ref()
            }
        }
    };
}

trait Entry {
    fn id(&self) -> Option<&str>;
    fn events(&self) -> &[String];
    fn filter(&self) -> Option<&Filter>;
}

notification_entry!(
    /// `TopicConfiguration`: an SNS destination (`TopicArn`).
    TopicConfig, topic_arn, "TopicArn"
);
notification_entry!(
    /// `QueueConfiguration`: an SQS destination (`QueueArn`).
    QueueConfig, queue_arn, "QueueArn"
);
notification_entry!(
    /// `LambdaFunctionConfiguration`: a Lambda destination (`LambdaFunctionArn`).
    LambdaConfig, lambda_function_arn, "LambdaFunctionArn"
);

impl LambdaConfig {
    /// The validator's entry: `Id` = `id`, `s3:ObjectCreated:*` on keys starting with
    /// `user/` (every home folder) and ending with `session.json` (the session file).
    pub fn ours(id: &str, function_arn: &str) -> LambdaConfig {
        LambdaConfig {
            id: Some(id.to_owned()),
            lambda_function_arn: function_arn.to_owned(),
            events: OUR_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
            filter: Some(Filter::prefix_suffix(&format!("{HOME_ROOT}/"), SESSION_FILE_NAME)),
            extra: Map::new(),
        }
    }
}

/// A bucket's `NotificationConfiguration`. Empty lists are omitted when written, as S3
/// omits them when read. `EventBridgeConfiguration` is present (`{}`) when EventBridge
/// delivery is on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NotificationConfiguration {
    /// `TopicConfigurations` (SNS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topic_configurations: Vec<TopicConfig>,
    /// `QueueConfigurations` (SQS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queue_configurations: Vec<QueueConfig>,
    /// `LambdaFunctionConfigurations`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lambda_function_configurations: Vec<LambdaConfig>,
    /// `EventBridgeConfiguration`: `Some` (normally `{}`) when on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_bridge_configuration: Option<Map<String, Value>>,
    /// Fields not modelled here, kept as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Puts `ours` into the configuration: the first Lambda entry whose `Id` is `ours.id` or
/// `previous_id` is replaced in place, later ones with either `Id` are dropped, and when
/// there is none `ours` is appended. Every other entry of every kind, and its order, is
/// kept.
pub fn upsert(
    mut config: NotificationConfiguration,
    ours: LambdaConfig,
    previous_id: Option<&str>,
) -> NotificationConfiguration {
    let our_id = ours.id.clone();
    let is_ours = |entry: &LambdaConfig| {
        entry.id.is_some() && (entry.id.as_deref() == our_id.as_deref() || entry.id.as_deref() == previous_id)
    };
    let mut ours = Some(ours);
    let mut merged = Vec::with_capacity(config.lambda_function_configurations.len() + 1);
    for entry in config.lambda_function_configurations {
        if is_ours(&entry) {
            if let Some(ours) = ours.take() {
                merged.push(ours);
            }
        } else {
            merged.push(entry);
        }
    }
    merged.extend(ours);
    config.lambda_function_configurations = merged;
    config
}

/// Turns EventBridge delivery on (`EventBridgeConfiguration: {}`; S3 user guide, "Enabling
/// Amazon EventBridge"): a configuration that has one keeps it as read; nothing else changes.
pub fn enable_eventbridge(mut config: NotificationConfiguration) -> NotificationConfiguration {
    if config.event_bridge_configuration.is_none() {
        config.event_bridge_configuration = Some(Map::new());
    }
    config
}

/// Removes every Lambda entry whose `Id` is `id`; nothing else changes.
pub fn remove(mut config: NotificationConfiguration, id: &str) -> NotificationConfiguration {
    config.lambda_function_configurations.retain(|entry| entry.id.as_deref() != Some(id));
    config
}

/// The kind of a notification entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// `TopicConfigurations`.
    Topic,
    /// `QueueConfigurations`.
    Queue,
    /// `LambdaFunctionConfigurations`.
    Lambda,
}

/// Why S3 would refuse the configuration because of another entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConflictReason {
    /// The other entry has our `Id`.
    SameId,
    /// The other entry shares an event type and its prefix and suffix filters overlap
    /// ours.
    Overlap,
}

/// Another entry that stands in the way of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Where it is.
    pub kind: EntryKind,
    /// Its `Id`, if it has one.
    pub id: Option<String>,
    /// Why it conflicts.
    pub reason: ConflictReason,
}

/// The entries other than `ours` (the first Lambda entry whose `Id` is `ours.id`) that S3
/// would reject together with `ours`. Empty means the write can go ahead.
pub fn conflicts(config: &NotificationConfiguration, ours: &LambdaConfig) -> Vec<Conflict> {
    let mut skipped_ours = false;
    let mut found = Vec::new();
    let mut visit = |kind: EntryKind, entry: &dyn Entry| {
        if kind == EntryKind::Lambda && !skipped_ours && entry.id().is_some() && entry.id() == ours.id() {
            skipped_ours = true;
            return;
        }
        let reason = if entry.id().is_some() && entry.id() == ours.id() {
            ConflictReason::SameId
        } else if overlaps(entry, ours) {
            ConflictReason::Overlap
        } else {
            return;
        };
        found.push(Conflict { kind, id: entry.id().map(str::to_owned), reason });
    };
    for entry in &config.topic_configurations {
        visit(EntryKind::Topic, entry);
    }
    for entry in &config.queue_configurations {
        visit(EntryKind::Queue, entry);
    }
    for entry in &config.lambda_function_configurations {
        visit(EntryKind::Lambda, entry);
    }
    found
}

fn overlaps(a: &dyn Entry, b: &dyn Entry) -> bool {
    let events = a.events().iter().any(|x| b.events().iter().any(|y| events_overlap(x, y)));
    let (pa, pb) = (Filter::rule(a.filter(), "prefix"), Filter::rule(b.filter(), "prefix"));
    let (sa, sb) = (Filter::rule(a.filter(), "suffix"), Filter::rule(b.filter(), "suffix"));
    events && (pa.starts_with(&pb) || pb.starts_with(&pa)) && (sa.ends_with(&sb) || sb.ends_with(&sa))
}

/// `s3:ObjectCreated:*` covers `s3:ObjectCreated:Put`; equal names overlap.
fn events_overlap(a: &str, b: &str) -> bool {
    let covers = |wild: &str, other: &str| wild.strip_suffix('*').is_some_and(|stem| other.starts_with(stem));
    a == b || covers(a, b) || covers(b, a)
}

pub use sandboxc_contract::custom_resource::HomeFolderNotificationProperties;

/// Reads the properties of `Custom::HomeFolderNotification` (the shape the compiler writes,
/// [`HomeFolderNotificationProperties`]) from a request's `ResourceProperties` (or
/// `OldResourceProperties`). The notification `Id` is the custom resource's physical ID, so a
/// replaced resource's clean-up `Delete` never removes its successor's entry.
///
/// # Errors
/// A message naming the problem (a missing or unknown property), for a FAILED response.
pub fn home_folder_properties(value: &Value) -> Result<HomeFolderNotificationProperties, String> {
    HomeFolderNotificationProperties::deserialize(value)
        .map_err(|e| format!("invalid {HOME_FOLDER_NOTIFICATION} properties: {e}"))
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;
    use serde_json::json;

    const FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:validator";

    fn existing() -> NotificationConfiguration {
        serde_json::from_value(json!({
            "TopicConfigurations": [{
                "Id": "topic-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                "Events": ["s3:ObjectRemoved:*"]
            }],
            "QueueConfigurations": [{
                "Id": "queue-1", "QueueArn": "arn:aws:sqs:us-east-1:123456789012:q",
                "Events": ["s3:ObjectCreated:Put"],
                "Filter": {"Key": {"FilterRules": [{"Name": "Prefix", "Value": "logs/"}]}}
            }],
            "LambdaFunctionConfigurations": [
                {"Id": "other-a", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:a",
                 "Events": ["s3:ObjectCreated:*"],
                 "Filter": {"Key": {"FilterRules": [{"Name": "Suffix", "Value": ".csv"}]}}},
                {"Id": "ours-old", "LambdaFunctionArn": "arn:old", "Events": ["s3:ObjectCreated:*"]},
                {"Id": "other-b", "LambdaFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:b",
                 "Events": ["s3:ObjectTagging:*"]}
            ],
            "EventBridgeConfiguration": {}
        }))
        .expect("valid configuration")
    }

    fn ids(config: &NotificationConfiguration) -> Vec<&str> {
        config.lambda_function_configurations.iter().map(|e| e.id.as_deref().unwrap_or("-")).collect()
    }

    #[test]
    fn round_trips_the_api_shape_with_unknown_fields() {
        let value = json!({
            "LambdaFunctionConfigurations": [{
                "Id": "x", "LambdaFunctionArn": "arn", "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "a/", "Future": 1}],
                                   "KeyFuture": true}, "FilterFuture": "y"},
                "EntryFuture": [1, 2]
            }],
            "EventBridgeConfiguration": {},
            "TopLevelFuture": {"a": 1}
        });
        let config: NotificationConfiguration = serde_json::from_value(value.clone()).expect("valid");
        assert_eq!(serde_json::to_value(&config).expect("serializes"), value);
    }

    #[test]
    fn upsert_appends_and_keeps_every_other_kind() {
        let before = existing();
        let after = upsert(before.clone(), LambdaConfig::ours("ours-new", FN), None);
        assert_eq!(ids(&after), ["other-a", "ours-old", "other-b", "ours-new"]);
        assert_eq!(after.topic_configurations, before.topic_configurations);
        assert_eq!(after.queue_configurations, before.queue_configurations);
        assert_eq!(after.event_bridge_configuration, before.event_bridge_configuration);
        assert_eq!(after.lambda_function_configurations[..3], before.lambda_function_configurations[..]);
    }

    #[test]
    fn a_changed_id_replaces_only_ours_in_place() {
        let before = existing();
        let after = upsert(before.clone(), LambdaConfig::ours("ours-new", FN), Some("ours-old"));
        assert_eq!(ids(&after), ["other-a", "ours-new", "other-b"]);
        assert_eq!(after.lambda_function_configurations[1], LambdaConfig::ours("ours-new", FN));
        assert_eq!(after.lambda_function_configurations[0], before.lambda_function_configurations[0]);
        assert_eq!(after.lambda_function_configurations[2], before.lambda_function_configurations[2]);
        assert_eq!(after.topic_configurations, before.topic_configurations);
        assert_eq!(after.queue_configurations, before.queue_configurations);
    }

    #[test]
    fn upsert_is_idempotent_and_drops_duplicates_of_ours() {
        let mut config = existing();
        config.lambda_function_configurations.push(LambdaConfig::ours("ours-old", "arn:dup"));
        let once = upsert(config, LambdaConfig::ours("ours-old", FN), None);
        assert_eq!(ids(&once), ["other-a", "ours-old", "other-b"]);
        let twice = upsert(once.clone(), LambdaConfig::ours("ours-old", FN), None);
        assert_eq!(once, twice);
    }

    #[test]
    fn entries_without_id_are_never_ours() {
        let mut config = NotificationConfiguration::default();
        let mut anonymous = LambdaConfig::ours("x", "arn:anon");
        anonymous.id = None;
        config.lambda_function_configurations.push(anonymous.clone());
        let mut ours = LambdaConfig::ours("x", FN);
        ours.id = None;
        let after = upsert(config, ours.clone(), None);
        assert_eq!(after.lambda_function_configurations, vec![anonymous, ours]);
    }

    #[test]
    fn remove_takes_only_our_entry() {
        let before = existing();
        let after = remove(before.clone(), "ours-old");
        assert_eq!(ids(&after), ["other-a", "other-b"]);
        assert_eq!(after.topic_configurations, before.topic_configurations);
        assert_eq!(after.queue_configurations, before.queue_configurations);
        assert_eq!(after.event_bridge_configuration, before.event_bridge_configuration);
        assert_eq!(remove(after.clone(), "ours-old"), after);
        assert_eq!(remove(after.clone(), "topic-1"), after);
    }

    #[test]
    fn an_empty_configuration_serializes_empty() {
        let config = remove(upsert(NotificationConfiguration::default(), LambdaConfig::ours("a", FN), None), "a");
        assert_eq!(serde_json::to_value(&config).expect("serializes"), json!({}));
    }

    #[test]
    fn ours_has_the_documented_shape() {
        let value = serde_json::to_value(LambdaConfig::ours("id-1", FN)).expect("serializes");
        assert_eq!(
            value,
            json!({
                "Id": "id-1", "LambdaFunctionArn": FN, "Events": ["s3:ObjectCreated:*"],
                "Filter": {"Key": {"FilterRules": [
                    {"Name": "prefix", "Value": "user/"}, {"Name": "suffix", "Value": "session.json"}
                ]}}
            })
        );
    }

    #[test]
    fn conflicts_find_overlaps_and_shared_ids() {
        let ours = LambdaConfig::ours("ours", FN);
        let config = upsert(existing(), ours.clone(), Some("ours-old"));
        // other-a: ObjectCreated:*, suffix .csv -> suffixes do not overlap.
        // queue-1: ObjectCreated:Put, prefix logs/ -> prefixes do not overlap.
        assert_eq!(conflicts(&config, &ours), vec![]);

        let legacy: LambdaConfig = serde_json::from_value(json!({
            "Id": "string", "LambdaFunctionArn": "arn:legacy", "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".json"}]}}
        }))
        .expect("valid");
        let mut with_legacy = config.clone();
        with_legacy.lambda_function_configurations.insert(0, legacy);
        let mut clash = existing().queue_configurations[0].clone();
        clash.id = Some("ours".into());
        with_legacy.queue_configurations.push(clash);
        assert_eq!(
            conflicts(&with_legacy, &ours),
            vec![
                Conflict { kind: EntryKind::Queue, id: Some("ours".into()), reason: ConflictReason::SameId },
                Conflict { kind: EntryKind::Lambda, id: Some("string".into()), reason: ConflictReason::Overlap },
            ]
        );
        // Replacing the legacy entry by its Id clears the conflict.
        let migrated = upsert(config, ours.clone(), Some("string"));
        assert_eq!(conflicts(&migrated, &ours), vec![]);
    }

    #[test]
    fn event_overlap_rules() {
        assert!(events_overlap("s3:ObjectCreated:*", "s3:ObjectCreated:Put"));
        assert!(events_overlap("s3:ObjectCreated:Put", "s3:ObjectCreated:*"));
        assert!(events_overlap("s3:ObjectCreated:Put", "s3:ObjectCreated:Put"));
        assert!(!events_overlap("s3:ObjectCreated:*", "s3:ObjectRemoved:*"));
        assert!(!events_overlap("s3:ObjectCreated:Put", "s3:ObjectCreated:Copy"));
    }

    #[test]
    fn properties_parse_strictly() {
        let props = home_folder_properties(&json!({
            "ServiceToken": "arn:provider", "BucketName": "b", "FunctionArn": FN
        }))
        .expect("valid");
        assert_eq!(props.bucket_name, "b");
        let err = home_folder_properties(&json!({
            "ServiceToken": "arn:provider", "BucketName": "b", "FunctionArn": FN, "Prefix": "x"
        }))
        .expect_err("unknown field");
        assert!(err.contains("Prefix"), "{err}");
        // This version's properties: no FunctionArn.
        assert_eq!(home_folder_properties(&json!({"BucketName": "b"})).map(|p| p.function_arn), Ok(None));
        assert!(home_folder_properties(&json!({"FunctionArn": FN})).is_err());
    }
}
