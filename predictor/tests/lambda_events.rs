//! The Lambda handler as `lambda_http` runs it: real API Gateway HTTP API (payload 2.0) events
//! from `tests/fixtures/` are deserialised, converted to HTTP requests, served by the router with
//! the Lambda caller layer, and turned back into the API Gateway response document.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};

use crate::support::fixtures::app_state;
use crate::support::logs::LogCapture;
use crate::support::stores::stored_records;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use predictor::lambda::lambda_router;
use predictor::record::PredictionRecord;
use predictor::store::LocalStore;
use serde_json::{Value, json};
use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The API Gateway response of the handler to one event fixture.
struct Invocation {
    response: Value,
    event: Value,
}

impl Invocation {
    fn status(&self) -> u64 {
        self.response["statusCode"].as_u64().unwrap()
    }

    fn body(&self) -> Value {
        assert_eq!(self.response["isBase64Encoded"], false, "{}", self.response);
        let text = self.response["body"].as_str().unwrap();
        serde_json::from_str(text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
    }
}

/// Runs the fixture through `lambda_http`'s adapter, as `lambda_http::run` does, with a Lambda
/// context carrying `lambda_request_id`.
async fn invoke(store_dir: &Path, name: &str, lambda_request_id: &str) -> Invocation {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let event: Value = serde_json::from_str(&text).unwrap();
    let request: LambdaRequest = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway v2 event: {e}"));
    let mut context = Context::default();
    context.request_id = lambda_request_id.to_string();
    let app = lambda_router(app_state(LocalStore::new(store_dir)));
    let response = Adapter::from(app)
        .oneshot(LambdaEvent::new(request, context))
        .await
        .unwrap();
    let response = serde_json::to_value(&response).unwrap();
    assert!(
        response["headers"]["content-type"]
            .as_str()
            .is_some_and(|t| t.starts_with("application/json")),
        "{response}"
    );
    Invocation { response, event }
}

fn records(dir: &TempDir) -> Vec<PredictionRecord> {
    stored_records(&dir.path().join("predictions"))
        .into_iter()
        .map(|(_, json)| serde_json::from_value(json).unwrap())
        .collect()
}

fn fixture_house(invocation: &Invocation) -> Value {
    let body = invocation.event["body"].as_str().unwrap();
    if invocation.event["isBase64Encoded"] == true {
        // Same house as the plain fixture.
        serde_json::from_str(
            &std::fs::read_to_string(fixture("apigw-v2-post-predict.json")).unwrap(),
        )
        .map(|e: Value| serde_json::from_str(e["body"].as_str().unwrap()).unwrap())
        .unwrap()
    } else {
        serde_json::from_str(body).unwrap()
    }
}

#[tokio::test]
async fn get_health_event() {
    let dir = tempfile::tempdir().unwrap();
    let invocation = invoke(dir.path(), "apigw-v2-get-health.json", "lambda-health-1").await;
    assert_eq!(invocation.status(), 200);
    let body = invocation.body();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"], dir.path().display().to_string());
    assert!(records(&dir).is_empty());
}

#[tokio::test]
async fn post_predict_event_with_a_json_body() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    let invocation = invoke(dir.path(), "apigw-v2-post-predict.json", "lambda-predict-1").await;
    assert_eq!(invocation.status(), 200, "{}", invocation.response);
    let body = invocation.body();
    assert!(body["price"].as_f64().unwrap() > 0.0);
    assert_eq!(body["stored"], true);

    let stored = records(&dir);
    assert_eq!(stored.len(), 1);
    let record = &stored[0];
    assert_eq!(record.id, body["id"].as_str().unwrap());
    assert_eq!(record.input, fixture_house(&invocation));
    assert_eq!(
        record.source_ip.as_deref(),
        invocation.event["requestContext"]["http"]["sourceIp"].as_str()
    );
    assert_eq!(record.source_ip.as_deref(), Some("198.51.100.23"));

    // The request log carries the Lambda request id.
    let lines = logs.lines();
    let served = lines
        .iter()
        .find(|l| l["message"] == "request served")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(served["request_id"], "lambda-predict-1");
    assert_eq!(served["path"], "/predict");
    assert_eq!(served["method"], "POST");
}

#[tokio::test]
async fn post_predict_event_with_a_base64_body() {
    let dir = tempfile::tempdir().unwrap();
    let plain = invoke(dir.path(), "apigw-v2-post-predict.json", "lambda-plain").await;
    let encoded = invoke(
        dir.path(),
        "apigw-v2-post-predict-base64.json",
        "lambda-b64",
    )
    .await;
    assert_eq!(encoded.event["isBase64Encoded"], true);
    assert_eq!(encoded.status(), 200, "{}", encoded.response);
    let body = encoded.body();
    assert_eq!(body["price"], plain.body()["price"]);
    assert_eq!(body["stored"], true);
    let stored = records(&dir);
    let record = stored
        .iter()
        .find(|r| r.id == body["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(record.source_ip.as_deref(), Some("203.0.113.44"));
    assert_eq!(record.input, fixture_house(&encoded));
}

#[tokio::test]
async fn post_predict_event_with_bad_json() {
    let dir = tempfile::tempdir().unwrap();
    let invocation = invoke(
        dir.path(),
        "apigw-v2-post-predict-bad-json.json",
        "lambda-bad",
    )
    .await;
    assert_eq!(invocation.status(), 400);
    let body = invocation.body();
    assert_eq!(body["error"]["code"], "bad_json");
    assert_eq!(body["error"]["fields"], json!([]));
    assert!(records(&dir).is_empty());
}

#[tokio::test]
async fn without_a_lambda_request_id_the_gateway_request_id_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    let invocation = invoke(dir.path(), "apigw-v2-get-health.json", "").await;
    assert_eq!(invocation.status(), 200);
    let lines = logs.lines();
    let served = lines
        .iter()
        .find(|l| l["message"] == "request served")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(served["request_id"], "Ab1HeaLthRq0=");
}

#[tokio::test]
async fn the_smoke_tests_events_are_marked_and_real_requests_are_not() {
    let text = std::fs::read_to_string(fixture("apigw-v2-post-predict.json")).unwrap();
    let real: Value = serde_json::from_str(&text).unwrap();
    let mut smoke = real.clone();
    smoke["requestContext"]["apiId"] = json!(predictor::record::SMOKE_TEST_API_ID);
    // A client cannot pass for the smoke test with a header: only API Gateway writes apiId.
    let mut pretending = real.clone();
    pretending["headers"]["user-agent"] = json!("amesops-smoke-test");
    for (event, expected) in [(real, "api"), (smoke, "smoke"), (pretending, "api")] {
        let dir = tempfile::tempdir().unwrap();
        let request: LambdaRequest = serde_json::from_value(event).unwrap();
        let app = lambda_router(app_state(LocalStore::new(dir.path())));
        let response = Adapter::from(app)
            .oneshot(LambdaEvent::new(request, Context::default()))
            .await
            .unwrap();
        assert_eq!(serde_json::to_value(&response).unwrap()["statusCode"], 200);
        let stored = stored_records(&dir.path().join("predictions"));
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].1["source"], expected, "{}", stored[0].1);
    }
}
