//! The local smoke test: the candidate answers through the serving router before it goes live.

use std::path::Path;

use core_model::Artifact;
use predictor::{AppState, ServedModel};

use crate::backend::deployer::{DeployError, SmokeFailure};

/// Smoke-tests a candidate through the serving router: `GET /health` must name the candidate,
/// and `POST /predict` of the first bundled house must equal core-model's price to the bit.
pub async fn smoke_test(bytes: &[u8], scratch: &Path) -> Result<String, DeployError> {
    use tower::ServiceExt;
    let fail = |failure| DeployError::Smoke {
        version: None,
        failure,
    };
    let harness = |reason: String| fail(SmokeFailure::Harness(reason));
    let loaded =
        Artifact::from_bytes(bytes).map_err(|e| fail(SmokeFailure::Load(e.to_string())))?;
    let id = loaded.id.clone();
    let house = crate::bundled::first_house().map_err(|e| harness(e.to_string()))?;
    let expected = loaded.artifact.model.predict(&house).price;
    let state = AppState::new(
        ServedModel::from(loaded),
        Box::new(predictor::store::LocalStore::new(scratch)),
    );
    let call = |request: axum::http::Request<axum::body::Body>| {
        let router = predictor::router(state.clone());
        async move {
            let response = router
                .oneshot(request)
                .await
                .map_err(|e| harness(e.to_string()))?;
            let status = u64::from(response.status().as_u16());
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .map_err(|e| harness(e.to_string()))?;
            let json: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| harness(format!("reply is not JSON: {e}")))?;
            Ok::<_, DeployError>((status, json))
        }
    };
    // Marked as the smoke test, like the aws smoke test's events: never counted as traffic.
    let smoke = predictor::api::Caller {
        request_id: format!("amesops-smoke-{}", uuid::Uuid::new_v4().simple()),
        source_ip: None,
        source: predictor::record::Source::Smoke,
        baseline_price: None,
    };
    let health = axum::http::Request::get("/health")
        .extension(smoke.clone())
        .body(axum::body::Body::empty())
        .map_err(|e| harness(e.to_string()))?;
    let (status, json) = call(health).await?;
    let named = serde_json::from_value::<predictor::wire::HealthReply>(json.clone())
        .ok()
        .map(|h| h.model_id);
    if status != 200 || named.as_deref() != Some(id.as_str()) {
        return Err(fail(SmokeFailure::Health {
            status,
            answer: json.to_string(),
            expected: id,
        }));
    }
    let body = serde_json::to_vec(&house.to_json()).map_err(|e| harness(e.to_string()))?;
    let predict = axum::http::Request::post("/predict")
        .extension(smoke)
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .map_err(|e| harness(e.to_string()))?;
    let (status, json) = call(predict).await?;
    let price = serde_json::from_value::<predictor::wire::PredictReply>(json.clone())
        .ok()
        .map(|r| r.price);
    let shown = || json.to_string().chars().take(300).collect::<String>();
    match price {
        _ if status != 200 => {
            return Err(fail(SmokeFailure::PredictStatus {
                status,
                body: shown(),
            }));
        }
        None => return Err(fail(SmokeFailure::NoPrice { body: shown() })),
        Some(price) if price.to_bits() != expected.to_bits() => {
            return Err(fail(SmokeFailure::Price { price, expected }));
        }
        Some(_) => {}
    }
    Ok(id)
}
