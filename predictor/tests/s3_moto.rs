//! Prediction records in S3, against a real moto server (`moto_server` on PATH; scripts/test
//! installs it), and what happens when S3 cannot be reached.

#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use crate::support::aws::{
    aws_loader, create_bucket, get_object, list_keys, s3_client, s3_client_from,
};
use crate::support::fixtures::app_state;
use crate::support::logs::LogCapture;
use crate::support::router::{call, get, post_json};
use crate::support::servers::{MotoServer, free_port};
use axum::http::StatusCode;
use predictor::record::{PredictionRecord, record_key};
use predictor::router;
use predictor::store::S3Store;
use serde_json::{Value, json};

const BUCKET: &str = "amesops-predictions";

fn house() -> Value {
    json!({"GrLivArea": 1500, "OverallQual": 6, "Neighborhood": "NAmes", "YearBuilt": 1965,
           "CentralAir": "Y"})
}

fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

fn timestamp_key(record: &PredictionRecord) -> String {
    let at = time::OffsetDateTime::parse(
        &record.timestamp,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    record_key(at, &record.id)
}

#[tokio::test]
async fn a_prediction_is_stored_as_an_object_under_the_key_layout() {
    let moto = MotoServer::start();
    let client = s3_client(&moto.endpoint()).await;
    create_bucket(&client, BUCKET).await;
    let app = router(app_state(S3Store::from_client(client.clone(), BUCKET, "")));

    let health = call(&app, get("/health")).await.json();
    assert_eq!(health["store"], format!("s3://{BUCKET}/"));

    let day_before = today();
    let reply = call(&app, post_json("/predict", house().to_string())).await;
    let day_after = today();
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["stored"], true, "{body}");
    let id = body["id"].as_str().unwrap();

    let keys = list_keys(&client, BUCKET, "predictions/").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let key = &keys[0];
    assert!(
        key.starts_with(&format!("predictions/dt={day_before}/"))
            || key.starts_with(&format!("predictions/dt={day_after}/")),
        "{key}"
    );
    assert!(key.ends_with(&format!("-{id}.json")), "{key}");

    let record: PredictionRecord =
        serde_json::from_slice(&get_object(&client, BUCKET, key).await).unwrap();
    assert_eq!(&timestamp_key(&record), key);
    assert_eq!(record.id, id);
    assert_eq!(record.input, house());
    assert_eq!(json!(record.price), body["price"]);
    assert_eq!(record.model_id, body["model"]["id"].as_str().unwrap());
    assert_eq!(json!(record.imputed), body["imputed"]);

    let head = client
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("application/json"));

    // A batch stores one object per priced house.
    let batch = json!({"houses": [house(), {"GrLivArea": -1}, house()]});
    let reply = call(&app, post_json("/predict/batch", batch.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let predictions = reply.json()["predictions"].clone();
    assert_eq!(predictions[0]["stored"], true);
    assert_eq!(predictions[2]["stored"], true);
    let keys = list_keys(&client, BUCKET, "predictions/").await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    for i in [0, 2] {
        let id = predictions[i]["id"].as_str().unwrap();
        assert!(keys.iter().any(|k| k.ends_with(&format!("-{id}.json"))));
    }
}

#[tokio::test]
async fn a_prefix_goes_in_front_of_the_key() {
    let moto = MotoServer::start();
    let client = s3_client(&moto.endpoint()).await;
    create_bucket(&client, BUCKET).await;
    let app = router(app_state(S3Store::from_client(
        client.clone(),
        BUCKET,
        "/serving/prod/",
    )));
    assert_eq!(
        call(&app, get("/health")).await.json()["store"],
        format!("s3://{BUCKET}/serving/prod/")
    );
    let body = call(&app, post_json("/predict", house().to_string()))
        .await
        .json();
    assert_eq!(body["stored"], true, "{body}");
    let keys = list_keys(&client, BUCKET, "").await;
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].starts_with("serving/prod/predictions/dt="),
        "{keys:?}"
    );
    let record: PredictionRecord =
        serde_json::from_slice(&get_object(&client, BUCKET, &keys[0]).await).unwrap();
    assert_eq!(
        format!("serving/prod/{}", timestamp_key(&record)),
        keys[0].as_str()
    );
}

/// The error log line of the record that could not be stored.
fn logged_record(logs: &LogCapture, id: &str) -> (Value, PredictionRecord) {
    let text = logs.text();
    let line = logs
        .lines()
        .into_iter()
        .find(|l| l["event"] == "prediction_record")
        .unwrap_or_else(|| panic!("no prediction_record line in:\n{text}"));
    assert_eq!(line["level"], "ERROR");
    let record: PredictionRecord = serde_json::from_str(line["record"].as_str().unwrap()).unwrap();
    assert_eq!(record.id, id);
    (line, record)
}

#[tokio::test]
async fn a_missing_bucket_answers_stored_false_and_logs_the_record() {
    let moto = MotoServer::start();
    let client = s3_client(&moto.endpoint()).await;
    let app = router(app_state(S3Store::from_client(
        client,
        "no-such-bucket",
        "",
    )));
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    let reply = call(&app, post_json("/predict", house().to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["stored"], false);
    let (line, record) = logged_record(&logs, body["id"].as_str().unwrap());
    assert!(
        line["error"].as_str().unwrap().contains("NoSuchBucket"),
        "{line}"
    );
    assert_eq!(record.input, house());
    assert_eq!(json!(record.price), body["price"]);
}

#[tokio::test]
async fn an_unreachable_endpoint_answers_stored_false_and_logs_the_record() {
    // Nothing listens on a port that was just free: connections are refused.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let config = aws_loader(&endpoint)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        )
        .load()
        .await;
    let app = router(app_state(S3Store::from_client(
        s3_client_from(&config),
        BUCKET,
        "",
    )));
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    let started = Instant::now();
    let reply = call(&app, post_json("/predict", house().to_string())).await;
    let elapsed = started.elapsed();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    let body = reply.json();
    assert_eq!(body["stored"], false);
    let (line, record) = logged_record(&logs, body["id"].as_str().unwrap());
    assert_eq!(line["store"], format!("s3://{BUCKET}/"));
    assert!(
        line["key"].as_str().unwrap().starts_with("predictions/dt="),
        "{line}"
    );
    assert!(!line["error"].as_str().unwrap().is_empty());
    assert_eq!(record.input, house());
    assert_eq!(json!(record.price), body["price"]);
    assert_eq!(json!(record.imputed), body["imputed"]);
}
