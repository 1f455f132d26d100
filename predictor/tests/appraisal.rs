//! The explanation, the comparables and the calibrated range in `/predict` and
//! `/predict/batch` replies, read through the typed reply the console uses, and their
//! documentation in `GET /model`.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;

use crate::support::fixtures::{app_state, bundled_csv};
use crate::support::router::{call, get, post_json};
use crate::support::stores::NullStore;
use axum::http::StatusCode;
use predictor::router;
use predictor::wire::PredictReply;
use serde_json::{Value, json};

/// Sale price of every bundled row by id.
fn recorded_prices() -> BTreeMap<i64, f64> {
    let dataset = core_model::Table::read_path(&bundled_csv())
        .unwrap()
        .into_dataset()
        .unwrap();
    dataset
        .ids
        .iter()
        .zip(&dataset.prices)
        .filter_map(|(id, price)| id.map(|id| (id, *price)))
        .collect()
}

fn check(reply: &PredictReply, prices: &BTreeMap<i64, f64>) {
    let e = &reply.explanation;
    let total = e.base_log + e.contributions.iter().map(|c| c.log).sum::<f64>();
    assert!(
        (total - reply.price.ln()).abs() < 1e-9,
        "{total} vs {}",
        reply.price.ln()
    );
    assert!(e.contributions.iter().all(|c| !c.feature.contains('=')));
    assert_eq!(reply.comparables.len(), 5);
    for comp in &reply.comparables {
        assert_eq!(prices.get(&comp.id), Some(&comp.sale_price), "{comp:?}");
    }
    assert_eq!(reply.interval.method, "normalised_conformal");
    assert!(reply.interval.low < reply.price && reply.price < reply.interval.high);
}

#[tokio::test]
async fn predict_and_batch_replies_explain_compare_and_bound_the_price() {
    let app = router(app_state(NullStore));
    let prices = recorded_prices();
    let house =
        json!({"GrLivArea": 1710, "OverallQual": 7, "Neighborhood": "CollgCr", "YearBuilt": 2003});
    let reply = call(&app, post_json("/predict", house.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    let single: PredictReply = serde_json::from_value(body.clone()).unwrap();
    check(&single, &prices);
    // Comparables in the house's own neighbourhood (CollgCr has many sales), with their key
    // fields under the names the form uses.
    for comp in &body["comparables"].as_array().unwrap()[..] {
        assert_eq!(comp["neighborhood"], "CollgCr");
        assert!(
            comp["GrLivArea"].is_number() && comp["sold"].is_string(),
            "{comp}"
        );
    }

    let unusual = json!({"GrLivArea": 9000, "TotalBsmtSF": 7000, "OverallQual": 7, "Neighborhood": "CollgCr"});
    let batch = json!({"houses": [house, unusual, {"GrLivArea": "big"}]});
    let reply = call(&app, post_json("/predict/batch", batch.to_string())).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    let predictions = body["predictions"].as_array().unwrap();
    let first: PredictReply = serde_json::from_value(predictions[0].clone()).unwrap();
    check(&first, &prices);
    assert_eq!(first.price, single.price);
    assert_eq!(first.explanation, single.explanation);
    let second: PredictReply = serde_json::from_value(predictions[1].clone()).unwrap();
    check(&second, &prices);
    let relative = |r: &PredictReply| (r.interval.high - r.interval.low) / r.price;
    assert!(
        relative(&second) > relative(&first),
        "an unusual house gets a wider range"
    );
    assert!(predictions[2].get("error").is_some());
}

#[tokio::test]
async fn the_model_document_describes_the_reply_fields() {
    let app = router(app_state(NullStore));
    let body: Value = call(&app, get("/model")).await.json();
    let fields = &body["reply_fields"];
    for path in [
        "/explanation/base_log",
        "/explanation/contributions/feature",
        "/explanation/contributions/value",
        "/explanation/contributions/log",
        "/explanation/contributions/percent",
        "/comparables/id",
        "/comparables/sale_price",
        "/comparables/sold",
        "/comparables/neighborhood",
        "/comparables/distance",
        "/comparables/adjusted_price",
        "/interval/method",
    ] {
        assert!(
            fields.pointer(path).is_some_and(Value::is_string),
            "{path}: {fields}"
        );
    }
    assert_eq!(body["interval_method"], "normalised_conformal");
    assert!(body["metrics"]["interval"]["folds"]["coverage"].is_number());
}
