//! The validator Lambda (`provided.al2023`, handler `bootstrap`): S3 `ObjectCreated`
//! events from the AppStream home-folder bucket. See `sandboxc_lambda::validate`.
//!
//! Configuration comes only from the environment (`SANDBOX_*`, see
//! `sandboxc_lambda::config`); when it is missing or invalid the function logs one line
//! and exits before taking any event.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use sandboxc_lambda::config::ValidatorConfig;
use sandboxc_lambda::decision::{DecisionLine, LogLine};
use sandboxc_lambda::validate::{bad_event_log, event_records, handle_records, timeout_config, ValidatorClients};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let config = match ValidatorConfig::from_env(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(e) => {
            let line =
                serde_json::json!({"outcome": "error", "reason": "invalid_configuration", "message": e.to_string()});
            println!("{line}");
            return Err(Box::new(e) as Error);
        }
    };
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(timeout_config()).load().await;
    let clients = ValidatorClients::from_conf(&sdk);
    let (clients, config) = (&clients, &config);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let request_id = Some(event.context.request_id.as_str());
        let print = |log: &DecisionLine| println!("{}", log.to_json_line());
        match event_records(&event.payload) {
            Some(records) => {
                handle_records(clients, config, &records, request_id, print).await?;
            }
            None => print(&bad_event_log(request_id)),
        }
        Ok::<(), Error>(())
    }))
    .await
}
