//! The AWS Lambda entry point: API Gateway HTTP API (payload 2.0) → the predictor router.
//!
//! Environment: `MODEL_PATH` (default `model.json` beside the binary) or `MODEL_URI=s3://…`,
//! `MODEL_SHA256` (optional, verified), `PREDICTIONS_URI` (`s3://bucket[/prefix]` or a folder;
//! default `s3://$PREDICTIONS_BUCKET`), `AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`.

use predictor::lambda::lambda_router;
use predictor::logging::LogSettings;
use predictor::{AppState, loader, store};

fn model_source() -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    var("MODEL_URI")
        .or_else(|| var("MODEL_PATH"))
        .unwrap_or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.parent().map(|dir| dir.join("model.json")))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "model.json".to_string())
        })
}

fn store_uri() -> Option<String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    var("PREDICTIONS_URI").or_else(|| var("PREDICTIONS_BUCKET").map(|b| format!("s3://{b}")))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    if let Err(e) = LogSettings::from_env().init() {
        eprintln!("{e}");
    }
    let source = model_source();
    let expected = std::env::var("MODEL_SHA256").ok();
    let model = match loader::load_model(&source, expected.as_deref()).await {
        Ok(model) => model,
        Err(e) => {
            tracing::error!(event = "model_load_failed", error = %e, "refusing to start: {e}");
            return Err(e.into());
        }
    };
    let Some(uri) = store_uri() else {
        let message = "set PREDICTIONS_URI (s3://bucket/prefix) or PREDICTIONS_BUCKET: predictions must be stored";
        tracing::error!(event = "config_invalid", "{message}");
        return Err(message.into());
    };
    let store = store::open_store(&uri).await?;
    tracing::info!(event = "cold_start", model_id = %model.id, model = %source, store = %store.describe(), "predictor ready");
    let state = AppState::new(model, store);
    lambda_http::run(lambda_router(state)).await
}
