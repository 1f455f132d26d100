//! Every endpoint and every error code of the router, in process (tower `oneshot`), with records
//! written to a local folder and a store that always fails.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;

use crate::support::fixtures::app_state;
use crate::support::logs::LogCapture;
use crate::support::router::{Reply, call, get, post_json};
use crate::support::stores::{FailingStore, NullStore, stored_records};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use futures_util::stream;
use predictor::api::{Caller, MAX_BATCH, MAX_BODY_BYTES};
use predictor::record::{PredictionRecord, record_key};
use predictor::router;
use predictor::store::LocalStore;
use serde_json::{Value, json};
use tempfile::TempDir;

fn house_a() -> Value {
    json!({"GrLivArea": 1710, "OverallQual": 7, "Neighborhood": "CollgCr", "YearBuilt": 2003})
}

fn house_b() -> Value {
    json!({"GrLivArea": 2400, "OverallQual": 9, "Neighborhood": "NridgHt", "YearBuilt": 2008,
           "GarageCars": 3, "KitchenQual": "Ex"})
}

/// A router storing records in a fresh temporary folder.
fn local_app() -> (TempDir, Router) {
    let dir = tempfile::tempdir().unwrap();
    let app = router(app_state(LocalStore::new(dir.path())));
    (dir, app)
}

fn null_app() -> Router {
    router(app_state(NullStore))
}

/// Checks the JSON error shape and returns the `error` object.
fn assert_error(reply: &Reply, status: StatusCode, code: &str) -> Value {
    assert_eq!(
        reply.status,
        status,
        "body: {}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(
        reply.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    let body = reply.json();
    let error = body["error"].clone();
    assert_eq!(error["code"], code, "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(error["fields"].is_array(), "{body}");
    error
}

fn assert_priced(reply: &Value) -> f64 {
    let price = reply["price"].as_f64().unwrap_or_else(|| panic!("{reply}"));
    assert!(
        price.is_finite() && price > 10_000.0 && price < 2_000_000.0,
        "{reply}"
    );
    let low = reply["interval"]["low"].as_f64().unwrap();
    let high = reply["interval"]["high"].as_f64().unwrap();
    assert!(low < price && price < high, "{reply}");
    price
}

/// The key layout `predictions/dt=YYYY-MM-DD/YYYYMMDDTHHMMSS.ffffffZ-<id>.json`, consistent with
/// the record's own timestamp and id.
fn assert_key_layout(key: &str, record: &PredictionRecord) {
    let rest = key
        .strip_prefix("predictions/dt=")
        .unwrap_or_else(|| panic!("{key}"));
    let (day, file) = rest.split_once('/').unwrap();
    assert_eq!(day.len(), 10, "{key}");
    assert_eq!(&record.timestamp[..10], day, "{key}");
    let (stamp, id_json) = file.split_at(23);
    assert!(
        stamp.as_bytes()[8] == b'T' && stamp.as_bytes()[15] == b'.' && stamp.ends_with('Z'),
        "{key}"
    );
    assert_eq!(stamp[..8], day.replace('-', ""), "{key}");
    assert_eq!(id_json, format!("-{}.json", record.id), "{key}");
    let at = time::OffsetDateTime::parse(
        &record.timestamp,
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(record_key(at, &record.id), key);
}

#[tokio::test]
async fn health_reports_the_model_and_the_store() {
    let (dir, app) = local_app();
    let reply = call(&app, get("/health")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["model_id"].as_str().unwrap().len(), 12);
    assert_eq!(body["store"], dir.path().display().to_string());
    assert!(body["uptime_s"].as_f64().unwrap() >= 0.0);
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(body["trained_at"].is_string());
}

#[tokio::test]
async fn model_describes_every_field_key_fields_first_then_by_importance() {
    let app = null_app();
    let health = call(&app, get("/health")).await.json();
    let reply = call(&app, get("/model")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["id"], health["model_id"]);
    assert!(
        body["sha256"]
            .as_str()
            .unwrap()
            .starts_with(health["model_id"].as_str().unwrap())
    );
    assert_eq!(body["format_version"], core_model::artifact::FORMAT_VERSION);
    assert!(body["features"].as_u64().unwrap() > 79);
    let fields = body["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 79);
    let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    let keys = core_model::schema::KEY_FIELDS;
    assert_eq!(&names[..keys.len()], keys);
    let importance: Vec<f64> = fields
        .iter()
        .map(|f| f["importance"].as_f64().unwrap())
        .collect();
    assert!(
        importance[keys.len()..].windows(2).all(|w| w[0] >= w[1]),
        "{importance:?}"
    );
    assert!((importance.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(fields.iter().all(|f| f["required"] == false));
}

#[tokio::test]
async fn predict_prices_a_house_and_stores_the_record_under_the_key_layout() {
    let (dir, app) = local_app();
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    let reply = call(&app, post_json("/predict", house_a().to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers.get(header::CONTENT_TYPE).unwrap(),
        "application/json"
    );
    let body = reply.json();
    let price = assert_priced(&body);
    assert_eq!(body["stored"], true);
    assert_eq!(body["interval"]["level"], 0.8);
    assert!(!body["imputed"].as_array().unwrap().is_empty());
    assert_eq!(body["unknown_levels"], json!([]));
    assert_eq!(body["out_of_range"], json!([]));

    let records = stored_records(dir.path());
    assert_eq!(records.len(), 1, "{records:?}");
    let (key, value) = &records[0];
    let keys: BTreeSet<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "source",
            "timestamp",
            "model_id",
            "input",
            "imputed",
            "unknown_levels",
            "out_of_range",
            "price",
            "latency_us"
        ]),
        "no source_ip without a known caller"
    );
    let record: PredictionRecord = serde_json::from_value(value.clone()).unwrap();
    assert_key_layout(key, &record);
    assert_eq!(record.id, body["id"].as_str().unwrap());
    assert_eq!(record.model_id, body["model"]["id"].as_str().unwrap());
    assert_eq!(record.input, house_a());
    assert_eq!(record.price.to_bits(), price.to_bits());
    assert_eq!(json!(record.imputed), body["imputed"]);
    assert!(record.latency_us < 10_000_000);
    assert!(!record.imputed.contains(&"GrLivArea".to_string()));

    let lines = logs.lines();
    let served = lines
        .iter()
        .find(|l| l["message"] == "request served")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(served["path"], "/predict");
    assert_eq!(served["status"], 200);
    assert_eq!(served["price"].as_f64().unwrap().to_bits(), price.to_bits());
    assert_eq!(served["model_id"], body["model"]["id"]);
    assert_eq!(
        served["prediction_id"],
        record.id.as_str(),
        "the line names its record"
    );
}

#[tokio::test]
async fn the_callers_address_lands_in_the_record() {
    let (dir, app) = local_app();
    let mut request = post_json("/predict", house_a().to_string());
    request.extensions_mut().insert(Caller {
        request_id: "req-1".to_string(),
        source_ip: Some("203.0.113.9".to_string()),
        source: predictor::record::Source::Api,
        baseline_price: None,
    });
    let reply = call(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    let records = stored_records(dir.path());
    assert_eq!(records[0].1["source_ip"], "203.0.113.9");
    assert_eq!(
        records[0].1["source"], "api",
        "a client's request is a real one"
    );
}

#[tokio::test]
async fn json_content_type_parameters_and_case_are_accepted() {
    let app = null_app();
    for content_type in ["application/json; charset=utf-8", "Application/JSON"] {
        let request = Request::post("/predict")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(house_a().to_string()))
            .unwrap();
        let reply = call(&app, request).await;
        assert_eq!(reply.status, StatusCode::OK, "{content_type}");
    }
}

#[tokio::test]
async fn the_same_house_gets_the_same_price() {
    let app = null_app();
    let first = call(&app, post_json("/predict", house_b().to_string()))
        .await
        .json();
    let second = call(&app, post_json("/predict", house_b().to_string()))
        .await
        .json();
    assert_eq!(first["price"], second["price"]);
    assert_ne!(first["id"], second["id"]);
}

#[tokio::test]
async fn invalid_fields_are_all_reported_with_their_values_and_nothing_is_stored() {
    let (dir, app) = local_app();
    let body = json!({"GrLivArea": -5, "Neighborhood": "Atlantis", "OverallQual": 7});
    let reply = call(&app, post_json("/predict", body.to_string())).await;
    let error = assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
    let fields = error["fields"].as_array().unwrap();
    let names: BTreeSet<&str> = fields
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["GrLivArea", "Neighborhood"]));
    let neighborhood = fields
        .iter()
        .find(|f| f["field"] == "Neighborhood")
        .unwrap();
    let problem = neighborhood["problem"].as_str().unwrap();
    assert!(
        problem.contains("CollgCr") && problem.contains("Atlantis"),
        "{problem}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("2 invalid field(s)")
    );
    assert!(stored_records(dir.path()).is_empty());
}

#[tokio::test]
async fn an_absurd_size_is_a_field_error_not_a_price() {
    let (dir, app) = local_app();
    let reply = call(
        &app,
        post_json("/predict", r#"{"GrLivArea": 1e20, "LotArea": 8450}"#),
    )
    .await;
    let error = assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["field"], "GrLivArea");
    let problem = error["fields"][0]["problem"].as_str().unwrap();
    assert!(problem.contains("at most 100000 sq ft"), "{problem}");
    assert!(stored_records(dir.path()).is_empty());
}

#[tokio::test]
async fn a_house_outside_the_training_range_is_priced_within_it_and_the_field_is_listed() {
    let (dir, app) = local_app();
    let mut huge = house_a();
    huge["GrLivArea"] = json!(50_000);
    let reply = call(&app, post_json("/predict", huge.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.json());
    let body = reply.json();
    let price = assert_priced(&body);
    // Bounded: within twice the training price range (the bundled prices run $34,900–$755,000).
    assert!((17_450.0..=1_510_000.0).contains(&price), "{price}");
    let listed = body["out_of_range"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["field"] == "GrLivArea")
        .unwrap_or_else(|| panic!("{body}"))
        .clone();
    assert_eq!(listed["value"], 50_000.0);
    let range = listed["range"].as_array().unwrap();
    assert_eq!(range.len(), 2);
    assert!(range[0].as_f64().unwrap() < range[1].as_f64().unwrap());
    assert!(range[1].as_f64().unwrap() < 6_000.0, "{listed}");
    // No extrapolation: a still larger house gets the same price.
    huge["GrLivArea"] = json!(90_000);
    let larger = call(&app, post_json("/predict", huge.to_string()))
        .await
        .json();
    assert_eq!(larger["price"], body["price"]);
    let records = stored_records(dir.path());
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .any(|(_, r)| r["out_of_range"][0]["field"] == listed["field"]
                || r["out_of_range"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|o| o["field"] == "GrLivArea"))),
        "{records:?}"
    );
}

#[tokio::test]
async fn an_unknown_field_gets_the_close_match() {
    let app = null_app();
    let reply = call(&app, post_json("/predict", r#"{"GrLivArae": 1710}"#)).await;
    let error = assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["field"], "GrLivArae");
    let problem = error["fields"][0]["problem"].as_str().unwrap();
    assert!(problem.contains("did you mean GrLivArea"), "{problem}");

    let reply = call(&app, post_json("/predict", r#"{"Zzzzzzzzzz": 1}"#)).await;
    let error = assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
    assert_eq!(error["fields"][0]["problem"], "unknown column");
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_invalid_input() {
    let app = null_app();
    for body in [
        "[]",
        "[{\"GrLivArea\": 1}]",
        "42",
        "\"house\"",
        "null",
        "true",
    ] {
        let reply = call(&app, post_json("/predict", body)).await;
        let error = assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
        assert!(
            error["message"].as_str().unwrap().contains("JSON object"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_bad_json() {
    let app = null_app();
    for body in [
        "{\"GrLivArea\": ",
        "",
        "{'GrLivArea': 1}",
        "{} trailing",
        "\u{feff}{}",
    ] {
        for path in ["/predict", "/predict/batch"] {
            let reply = call(&app, post_json(path, body)).await;
            let error = assert_error(&reply, StatusCode::BAD_REQUEST, "bad_json");
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("not valid JSON"),
                "{path} {body:?}"
            );
        }
    }
}

/// `{"Id": "xxx…"}` padded to exactly `len` bytes (`Id` is ignored, so it prices like `{}`).
fn padded_body(len: usize) -> String {
    let frame = r#"{"Id": ""}"#.len();
    format!(r#"{{"Id": "{}"}}"#, "x".repeat(len - frame))
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_payload_too_large() {
    let app = null_app();
    let at_limit = padded_body(MAX_BODY_BYTES);
    assert_eq!(at_limit.len(), MAX_BODY_BYTES);
    let reply = call(&app, post_json("/predict", at_limit)).await;
    assert_eq!(reply.status, StatusCode::OK, "exactly 1 MiB is accepted");

    let over = padded_body(MAX_BODY_BYTES + 1);
    for path in ["/predict", "/predict/batch"] {
        // With a Content-Length header…
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, over.len())
            .body(Body::from(over.clone()))
            .unwrap();
        let reply = call(&app, request).await;
        let error = assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
        assert!(error["message"].as_str().unwrap().contains("1048576"));
        // …and streamed without one.
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> = over
            .as_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok(c.to_vec()))
            .collect();
        let request = post_json(path, Body::from_stream(stream::iter(chunks)));
        assert!(request.headers().get(header::CONTENT_LENGTH).is_none());
        let reply = call(&app, request).await;
        assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
}

#[tokio::test]
async fn a_content_length_over_the_limit_is_refused_before_reading() {
    let app = null_app();
    let request = Request::post("/predict")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, "99999999999")
        .body(Body::from("{}"))
        .unwrap();
    let reply = call(&app, request).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn a_body_that_is_not_json_typed_is_unsupported_media_type() {
    let app = null_app();
    for path in ["/predict", "/predict/batch"] {
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("application/jsonp"),
            None,
        ] {
            let mut request = Request::post(path);
            if let Some(content_type) = content_type {
                request = request.header(header::CONTENT_TYPE, content_type);
            }
            let reply = call(&app, request.body(Body::from("{}")).unwrap()).await;
            let error = assert_error(
                &reply,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            );
            assert!(
                error["message"]
                    .as_str()
                    .unwrap()
                    .contains("Content-Type: application/json"),
                "{path} {content_type:?}"
            );
        }
    }
}

#[tokio::test]
async fn an_unknown_route_is_not_found_and_lists_the_routes() {
    let app = null_app();
    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/index.html"),
        (Method::POST, "/predict/"),
        (Method::POST, "/predictions"),
        (Method::GET, "/health/x"),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .body(Body::empty())
            .unwrap();
        let reply = call(&app, request).await;
        let error = assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(path) && message.contains("POST /predict"),
            "{method} {path}: {message}"
        );
    }
}

#[tokio::test]
async fn a_wrong_method_is_method_not_allowed() {
    let app = null_app();
    for (method, path) in [
        (Method::GET, "/predict"),
        (Method::PUT, "/predict"),
        (Method::GET, "/predict/batch"),
        (Method::POST, "/health"),
        (Method::DELETE, "/model"),
        (Method::POST, "/model"),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let reply = call(&app, request).await;
        let error = assert_error(&reply, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(method.as_str()) && message.contains(path),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_batch_prices_the_valid_houses_in_order_and_reports_the_invalid_one() {
    let (dir, app) = local_app();
    let single_a = call(&app, post_json("/predict", house_a().to_string()))
        .await
        .json();
    let single_b = call(&app, post_json("/predict", house_b().to_string()))
        .await
        .json();
    assert_ne!(single_a["price"], single_b["price"]);
    let before = stored_records(dir.path()).len();

    let batch = json!({"houses": [house_a(), {"GrLivArea": "big"}, house_b(), house_a()]});
    let reply = call(&app, post_json("/predict/batch", batch.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["model"]["id"], single_a["model"]["id"]);
    let predictions = body["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 4);
    assert_eq!(predictions[0]["price"], single_a["price"]);
    assert_eq!(predictions[0]["stored"], true);
    assert_eq!(predictions[1]["error"]["code"], "invalid_input");
    assert_eq!(predictions[1]["error"]["fields"][0]["field"], "GrLivArea");
    assert!(predictions[1].get("price").is_none());
    assert_eq!(predictions[2]["price"], single_b["price"]);
    assert_eq!(predictions[3]["price"], single_a["price"]);
    let ids: BTreeSet<&str> = [0, 2, 3]
        .iter()
        .map(|&i| predictions[i]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "each priced house gets its own id");

    let records = stored_records(dir.path());
    assert_eq!(records.len(), before + 3);
    for i in [0, 2, 3] {
        let id = predictions[i]["id"].as_str().unwrap();
        let (key, record) = records
            .iter()
            .find(|(_, r)| r["id"] == id)
            .unwrap_or_else(|| panic!("no record for {id}"));
        let record: PredictionRecord = serde_json::from_value(record.clone()).unwrap();
        assert_key_layout(key, &record);
        assert_eq!(record.input, batch["houses"][i]);
        assert_eq!(json!(record.price), predictions[i]["price"]);
    }
}

#[tokio::test]
async fn a_batch_of_at_most_one_thousand_houses_is_accepted() {
    let app = null_app();
    let empty = call(&app, post_json("/predict/batch", r#"{"houses": []}"#)).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.json()["predictions"], json!([]));

    let houses = vec![house_a(); MAX_BATCH];
    let full = json!({ "houses": houses });
    let reply = call(&app, post_json("/predict/batch", full.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.json()["predictions"].as_array().unwrap().len(),
        MAX_BATCH
    );
}

#[tokio::test]
async fn a_batch_over_one_thousand_houses_is_payload_too_large() {
    let (dir, app) = local_app();
    let houses = vec![json!({}); MAX_BATCH + 1];
    let body = json!({ "houses": houses });
    let reply = call(&app, post_json("/predict/batch", body.to_string())).await;
    let error = assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("1000") && message.contains("1001"),
        "{message}"
    );
    assert!(stored_records(dir.path()).is_empty());
}

#[tokio::test]
async fn a_batch_of_the_wrong_shape_is_invalid_input() {
    let app = null_app();
    for (body, field) in [
        (r#"{"houses": {}}"#, Some("houses")),
        (r#"{"houses": null}"#, Some("houses")),
        (r#"{"house": []}"#, Some("houses")),
        (r#"[{"GrLivArea": 1}]"#, None),
        ("42", None),
    ] {
        let reply = call(&app, post_json("/predict/batch", body)).await;
        let error = assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_input");
        match field {
            Some(field) => assert_eq!(error["fields"][0]["field"], field, "{body}"),
            None => assert_eq!(error["fields"], json!([]), "{body}"),
        }
    }
}

#[tokio::test]
async fn a_failing_store_still_answers_and_logs_the_whole_record() {
    let app = router(app_state(FailingStore {
        message: "disk on fire".to_string(),
    }));
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    let reply = call(&app, post_json("/predict", house_b().to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_priced(&body);
    assert_eq!(body["stored"], false);

    let text = logs.text();
    assert!(text.contains(r#""event":"prediction_record""#), "{text}");
    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|l| l["event"] == "prediction_record")
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(line["level"], "ERROR");
    assert_eq!(line["error"], "disk on fire");
    assert_eq!(line["store"], "failing (test)");
    let record: PredictionRecord = serde_json::from_str(line["record"].as_str().unwrap()).unwrap();
    assert_eq!(record.id, body["id"].as_str().unwrap());
    assert_eq!(record.input, house_b());
    assert_eq!(json!(record.price), body["price"]);
    assert_eq!(json!(record.imputed), body["imputed"]);
    assert_eq!(record.model_id, body["model"]["id"].as_str().unwrap());
    assert!(
        line["key"]
            .as_str()
            .unwrap()
            .ends_with(&format!("-{}.json", record.id))
    );
    assert_key_layout(line["key"].as_str().unwrap(), &record);

    let batch = json!({"houses": [house_a(), house_b()]});
    let reply = call(&app, post_json("/predict/batch", batch.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let predictions = reply.json()["predictions"].clone();
    assert_eq!(predictions[0]["stored"], false);
    assert_eq!(predictions[1]["stored"], false);
    let logged = logs
        .lines()
        .iter()
        .filter(|l| l["event"] == "prediction_record")
        .count();
    assert_eq!(logged, 3);
}

#[tokio::test]
async fn rejected_requests_are_logged_with_their_code() {
    let app = null_app();
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    call(&app, post_json("/predict", "{")).await;
    let lines = logs.lines();
    let line = lines
        .iter()
        .find(|l| l["message"] == "request rejected")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(line["level"], "WARN");
    assert_eq!(line["code"], "bad_json");
    assert_eq!(line["status"], 400);
    assert!(line["request_id"].as_str().is_some_and(|id| !id.is_empty()));
}
