//! `POST /sales` in process: good sales land under `sales/dt=<sold_on>/` in the layout the
//! console reads, every bad row is named with its index and field and nothing is written, and
//! client mistakes are 4xx (a failing store is a 503), never a 500.

#![allow(clippy::unwrap_used)]

mod support;

use crate::support::fixtures::app_state;
use crate::support::router::{call, get, post_json};
use crate::support::stores::FailingStore;
use axum::http::StatusCode;
use predictor::api::MAX_BATCH;
use predictor::router;
use predictor::sales::{StoredSale, day_string};
use predictor::store::LocalStore;
use serde_json::{Value, json};

fn files_under(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(
                    path.strip_prefix(root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    out.sort();
    out
}

fn today() -> String {
    day_string(time::OffsetDateTime::now_utc().date())
}

#[tokio::test]
async fn good_sales_are_stored_hive_partitioned_and_a_repeat_rewrites_the_same_objects() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(app_state(LocalStore::new(dir.path())));
    let body = json!({"sales": [
        {"prediction_id": "0b7c6a52-1111-4c1e-9d7a-2f0e8a1c9b01", "sale_price": 185000, "sold_on": "2026-01-15"},
        {"Id": 1461, "sale_price": 169500.5, "sold_on": today()},
    ]});
    let reply = call(&app, post_json("/sales", body.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json());
    let json = reply.json();
    assert_eq!(json["stored"], 2, "{json}");
    assert_eq!(json["unverified_ids"], true, "{json}");
    let files = files_under(dir.path());
    assert_eq!(
        files,
        [
            "sales/dt=2026-01-15/0b7c6a52-1111-4c1e-9d7a-2f0e8a1c9b01.json".to_string(),
            format!("sales/dt={}/house-1461.json", today()),
        ]
    );
    let first = std::fs::read(dir.path().join(&files[0])).unwrap();
    let sale: StoredSale = serde_json::from_slice(&first).unwrap();
    assert_eq!(
        sale,
        StoredSale {
            prediction_id: Some("0b7c6a52-1111-4c1e-9d7a-2f0e8a1c9b01".to_string()),
            house_id: None,
            sale_price: 185000.0,
            sold_on: "2026-01-15".to_string(),
            joined: None,
        }
    );
    let value: Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(
        value,
        json!({"prediction_id": "0b7c6a52-1111-4c1e-9d7a-2f0e8a1c9b01", "sale_price": 185000.0, "sold_on": "2026-01-15"})
    );
    // Sending the same request again rewrites the same objects with the same bytes.
    let again = call(&app, post_json("/sales", body.to_string())).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(files_under(dir.path()), files);
    assert_eq!(std::fs::read(dir.path().join(&files[0])).unwrap(), first);
}

#[tokio::test]
async fn every_bad_row_is_named_by_index_and_field_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(app_state(LocalStore::new(dir.path())));
    let future = day_string(time::OffsetDateTime::now_utc().date() + time::Duration::days(3));
    let body = json!({"sales": [
        {"prediction_id": "good-one", "sale_price": 185000, "sold_on": "2026-01-15"},
        {"prediction_id": "a", "sale_price": 0, "sold_on": "2026-01-15"},
        {"prediction_id": "b", "sale_price": -5, "sold_on": "2026-01-15"},
        {"prediction_id": "c", "sale_price": "lots", "sold_on": "2026-01-15"},
        {"prediction_id": "d", "sale_price": 100000, "sold_on": "2026-13-01"},
        {"prediction_id": "e", "sale_price": 100000, "sold_on": future},
        {"sale_price": 100000, "sold_on": "2026-01-15"},
        {"Id": "x12", "sale_price": 100000, "sold_on": "2026-01-15"},
        {"prediction_id": "f", "sale_price": 100000},
        "not an object",
        {"prediction_id": "good-one", "sale_price": 190000, "sold_on": "2026-01-15"},
    ]});
    let reply = call(&app, post_json("/sales", body.to_string())).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json());
    let json = reply.json();
    assert_eq!(json["error"]["code"], "invalid_input", "{json}");
    let fields: Vec<&str> = json["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "sales[1].sale_price",
            "sales[2].sale_price",
            "sales[3].sale_price",
            "sales[4].sold_on",
            "sales[5].sold_on",
            "sales[6].prediction_id",
            "sales[7].Id",
            "sales[8].sold_on",
            "sales[9]",
            "sales[10].sale_price",
        ],
        "{json}"
    );
    let text = json.to_string();
    assert!(
        text.contains("in the future") && text.contains("must be a number"),
        "{text}"
    );
    assert!(files_under(dir.path()).is_empty(), "nothing may be written");
}

#[tokio::test]
async fn client_mistakes_are_4xx_and_a_failing_store_is_503() {
    let dir = tempfile::tempdir().unwrap();
    let app = router(app_state(LocalStore::new(dir.path())));
    for body in [
        json!({}),
        json!({"sales": {}}),
        json!({"sales": []}),
        json!([1]),
    ] {
        let reply = call(&app, post_json("/sales", body.to_string())).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
    }
    let bad_json = call(&app, post_json("/sales", "{nope")).await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST);
    let rows: Vec<Value> = (0..=MAX_BATCH)
        .map(|i| json!({"Id": i, "sale_price": 1, "sold_on": "2026-01-01"}))
        .collect();
    let too_many = call(
        &app,
        post_json("/sales", json!({ "sales": rows }).to_string()),
    )
    .await;
    assert_eq!(too_many.status, StatusCode::PAYLOAD_TOO_LARGE);
    let wrong_method = call(&app, get("/sales")).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(files_under(dir.path()).is_empty());

    let failing = router(app_state(FailingStore::default()));
    let body = json!({"sales": [{"Id": 1, "sale_price": 1000, "sold_on": "2026-01-01"}]});
    let reply = call(&failing, post_json("/sales", body.to_string())).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json()
    );
    assert_eq!(reply.json()["error"]["code"], "store_unavailable");
}

#[tokio::test]
async fn get_model_describes_the_sales_reply() {
    let app = router(app_state(crate::support::stores::NullStore));
    let model = call(&app, get("/model")).await.json();
    assert_eq!(
        model["sales_reply_fields"]["unverified_ids"]
            .as_str()
            .map(|s| s.contains("amesops monitor")),
        Some(true),
        "{model}"
    );
}
