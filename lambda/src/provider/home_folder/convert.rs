//! Between the S3 SDK's notification types and [`crate::notification`]'s model (which
//! follows the API's JSON names). Values round-trip as strings: event names and filter rule
//! names S3 sends (`Prefix`, `Suffix`, future events) are written back exactly as read.

use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput as Output;
use aws_sdk_s3::types as sdk;
use serde_json::Map;

use crate::notification::{
    Filter, FilterRule, KeyFilter, LambdaConfig, NotificationConfiguration, QueueConfig, TopicConfig,
};

/// The model of a `GetBucketNotificationConfiguration` answer.
pub fn from_sdk(output: &Output) -> NotificationConfiguration {
    NotificationConfiguration {
        topic_configurations: output
            .topic_configurations()
            .iter()
            .map(|t| TopicConfig {
                id: t.id().map(str::to_owned),
                topic_arn: t.topic_arn().to_owned(),
                events: events_from(t.events()),
                filter: t.filter().map(filter_from),
                extra: Map::new(),
            })
            .collect(),
        queue_configurations: output
            .queue_configurations()
            .iter()
            .map(|q| QueueConfig {
                id: q.id().map(str::to_owned),
                queue_arn: q.queue_arn().to_owned(),
                events: events_from(q.events()),
                filter: q.filter().map(filter_from),
                extra: Map::new(),
            })
            .collect(),
        lambda_function_configurations: output
            .lambda_function_configurations()
            .iter()
            .map(|l| LambdaConfig {
                id: l.id().map(str::to_owned),
                lambda_function_arn: l.lambda_function_arn().to_owned(),
                events: events_from(l.events()),
                filter: l.filter().map(filter_from),
                extra: Map::new(),
            })
            .collect(),
        event_bridge_configuration: output.event_bridge_configuration().map(|_| Map::new()),
        extra: Map::new(),
    }
}

/// The SDK's `NotificationConfiguration` for `PutBucketNotificationConfiguration`. Fails
/// only if an entry lacks a required field (its ARN or events), which the model does not
/// allow to happen.
pub fn to_sdk(config: &NotificationConfiguration) -> Result<sdk::NotificationConfiguration, String> {
    let err = |e: aws_sdk_s3::error::BuildError| format!("invalid notification entry: {e}");
    let topics = config
        .topic_configurations
        .iter()
        .map(|t| {
            sdk::TopicConfiguration::builder()
                .set_id(t.id.clone())
                .topic_arn(&t.topic_arn)
                .set_events(Some(events_to(&t.events)))
                .set_filter(t.filter.as_ref().map(filter_to))
                .build()
                .map_err(err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let queues = config
        .queue_configurations
        .iter()
        .map(|q| {
            sdk::QueueConfiguration::builder()
                .set_id(q.id.clone())
                .queue_arn(&q.queue_arn)
                .set_events(Some(events_to(&q.events)))
                .set_filter(q.filter.as_ref().map(filter_to))
                .build()
                .map_err(err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let lambdas = config
        .lambda_function_configurations
        .iter()
        .map(|l| {
            sdk::LambdaFunctionConfiguration::builder()
                .set_id(l.id.clone())
                .lambda_function_arn(&l.lambda_function_arn)
                .set_events(Some(events_to(&l.events)))
                .set_filter(l.filter.as_ref().map(filter_to))
                .build()
                .map_err(err)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sdk::NotificationConfiguration::builder()
        .set_topic_configurations(non_empty(topics))
        .set_queue_configurations(non_empty(queues))
        .set_lambda_function_configurations(non_empty(lambdas))
        .set_event_bridge_configuration(
            config.event_bridge_configuration.as_ref().map(|_| sdk::EventBridgeConfiguration::builder().build()),
        )
        .build())
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn events_from(events: &[sdk::Event]) -> Vec<String> {
    events.iter().map(|e| e.as_str().to_owned()).collect()
}

fn events_to(events: &[String]) -> Vec<sdk::Event> {
    events.iter().map(|e| sdk::Event::from(e.as_str())).collect()
}

fn filter_from(filter: &sdk::NotificationConfigurationFilter) -> Filter {
    Filter {
        key: filter.key().map(|key| KeyFilter {
            filter_rules: key
                .filter_rules()
                .iter()
                .map(|r| FilterRule {
                    name: r.name().map(|n| n.as_str().to_owned()).unwrap_or_default(),
                    value: r.value().unwrap_or_default().to_owned(),
                    extra: Map::new(),
                })
                .collect(),
            extra: Map::new(),
        }),
        extra: Map::new(),
    }
}

fn filter_to(filter: &Filter) -> sdk::NotificationConfigurationFilter {
    sdk::NotificationConfigurationFilter::builder()
        .set_key(filter.key.as_ref().map(|key| {
            sdk::S3KeyFilter::builder()
                .set_filter_rules(Some(
                    key.filter_rules
                        .iter()
                        .map(|r| {
                            sdk::FilterRule::builder()
                                .name(sdk::FilterRuleName::from(r.name.as_str()))
                                .value(&r.value)
                                .build()
                        })
                        .collect(),
                ))
                .build()
        }))
        .build()
}
