//! The provider Lambda (`provided.al2023`, handler `bootstrap`): CloudFormation custom
//! resources `Custom::HomeFolderNotification`, `Custom::AppStreamServiceRoles` and
//! `Custom::UsageReportSubscription`. See `sandboxc_lambda::provider`.
//!
//! Every event is answered on its `ResponseURL`, at the latest 5 s before the function's
//! timeout. The invocation fails only when the answer could not be delivered.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use sandboxc_lambda::provider::{answer, budget_until, dispatch, ProviderClients, Responder};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let responder = Responder::new()?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let clients = ProviderClients {
        s3: aws_sdk_s3::Client::new(&sdk),
        iam: aws_sdk_iam::Client::new(&sdk),
        appstream: aws_sdk_appstream::Client::new(&sdk),
    };
    let (clients, responder) = (&clients, &responder);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
        let budget = budget_until(event.context.deadline, std::time::SystemTime::now());
        let work = |request| {
            let clients = clients.clone();
            async move { dispatch(&clients, &request).await }
        };
        let Some(answered) = answer(event.payload, budget, responder, work).await else {
            println!(r#"{{"outcome":"error","reason":"unanswerable_event"}}"#);
            return Err::<(), Error>("the event has no ResponseURL, StackId, RequestId or LogicalResourceId".into());
        };
        let line = serde_json::json!({
            "status": answered.response.status,
            "reason": answered.response.reason,
            "physical_resource_id": answered.response.physical_resource_id,
            "logical_resource_id": answered.response.logical_resource_id,
            "request_id": answered.response.request_id,
            "delivered": answered.delivered.is_ok(),
        });
        println!("{line}");
        answered.delivered.map_err(|e| Box::new(e) as Error)
    }))
    .await
}
