//! Monitoring: sales import (validation, idempotency), the join, realized metrics against a
//! hand-computed fixture, day summaries cached in the store and invalidated by late records.

mod support;

use console::backend::store::{LocalObjectStore, ObjectStore};
use console::operations::monitor::dates::parse_day;
use console::operations::monitor::performance::per_week;
use console::operations::monitor::sales::{self, Intervals, Predictions, Sale, SaleRow};
use console::operations::monitor::{self, Request};
use core_model::Artifact;
use predictor::record::Source;
use serde_json::json;
use time::Date;

fn today() -> Date {
    parse_day("2026-11-27").expect("date")
}

fn store(dir: &tempfile::TempDir) -> LocalObjectStore {
    LocalObjectStore::new(dir.path())
}

/// Writes one record the way the predictor stores it.
async fn put_record(
    store: &dyn ObjectStore,
    id: &str,
    at: &str,
    input: serde_json::Value,
    price: f64,
    source: &str,
) -> String {
    let day = &at[..10];
    let stamp: String = at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let key = format!("predictions/dt={day}/{stamp}-{id}.json");
    let record = json!({
        "id": id, "timestamp": at, "model_id": "m1", "input": input, "imputed": [],
        "price": price, "latency_us": 10, "source": source,
    });
    store
        .put(&key, serde_json::to_vec(&record).expect("json"))
        .await
        .expect("put record");
    key
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out.sort();
    out
}

async fn fixture_store(dir: &tempfile::TempDir) -> LocalObjectStore {
    let s = store(dir);
    put_record(
        &s,
        "p-1",
        "2026-11-20T10:00:00.000000Z",
        json!({"Id": 7, "GrLivArea": 1500}),
        200_000.0,
        "api",
    )
    .await;
    put_record(
        &s,
        "p-2",
        "2026-11-21T10:00:00.000000Z",
        json!({"Id": 7, "GrLivArea": 1500}),
        210_000.0,
        "api",
    )
    .await;
    put_record(
        &s,
        "p-3",
        "2026-11-25T10:00:00.000000Z",
        json!({"Id": 7, "GrLivArea": 1500}),
        230_000.0,
        "api",
    )
    .await;
    put_record(
        &s,
        "p-4",
        "2026-11-21T11:00:00.000000Z",
        json!({"Id": 8}),
        150_000.0,
        "api",
    )
    .await;
    s
}

#[tokio::test]
async fn a_good_file_is_stored_beside_the_records_joined_to_its_predictions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = fixture_store(&dir).await;
    let csv = "prediction_id,Id,SalePrice,sold_on\np-1,,205000,2026-11-24\n,8,140000,2026-11-26\n";
    let mut intervals = Intervals::new();
    intervals.insert("m1".to_string(), [-0.1, 0.1]);
    let imported = sales::import(&s, csv.as_bytes(), today(), &intervals)
        .await
        .expect("import");
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    assert_eq!(imported.stored, 2);
    let stored = std::fs::read(dir.path().join("sales/dt=2026-11-24/p-1.json")).expect("sale file");
    let sale: Sale = serde_json::from_slice(&stored).expect("a sale");
    assert_eq!(sale.prediction_id, "p-1");
    assert_eq!(sale.sale_price, 205_000.0);
    assert_eq!(sale.predicted_price, 200_000.0);
    assert_eq!(sale.model_id, "m1");
    assert_eq!(sale.house_id, Some(7));
    let [low, high] = sale.interval.expect("interval from the model");
    assert!((low - 200_000.0 * (-0.1f64).exp()).abs() < 1e-6);
    assert!((high - 200_000.0 * 0.1f64.exp()).abs() < 1e-6);
    let by_house: Sale = serde_json::from_slice(
        &std::fs::read(dir.path().join("sales/dt=2026-11-26/p-4.json")).expect("joined by Id"),
    )
    .expect("a sale");
    assert_eq!(by_house.predicted_price, 150_000.0);
}

#[tokio::test]
async fn every_kind_of_bad_row_is_reported_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = fixture_store(&dir).await;
    let csv = "prediction_id,Id,SalePrice,sold_on
p-1,,205000,2026-11-24
nope,,205000,2026-11-24
p-2,,0,2026-11-24
p-2,,-5,2026-11-24
p-2,,cheap,2026-11-24
p-2,,205000,2026-12-24
p-2,,205000,24/11/2026
,,205000,2026-11-24
,999,205000,2026-11-24
p-3,,,2026-11-26
";
    let imported = sales::import(&s, csv.as_bytes(), today(), &Intervals::new())
        .await
        .expect("import runs");
    let lines: Vec<(u64, &str)> = imported
        .problems
        .iter()
        .map(|p| (p.line, p.field.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            (3, "prediction_id"),
            (4, "SalePrice"),
            (5, "SalePrice"),
            (6, "SalePrice"),
            (7, "sold_on"),
            (8, "sold_on"),
            (9, "prediction_id"),
            (10, "Id"),
            (11, "SalePrice"),
        ],
        "{:#?}",
        imported.problems
    );
    assert!(
        imported.problems[0]
            .problem
            .contains("unknown prediction id")
    );
    assert!(imported.problems[1].problem.contains("positive"));
    assert!(imported.problems[4].problem.contains("future"));
    assert_eq!(imported.stored, 0);
    assert!(
        files_under(&dir.path().join("sales")).is_empty(),
        "nothing half-written"
    );
}

#[tokio::test]
async fn importing_the_same_file_again_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = fixture_store(&dir).await;
    let csv = "prediction_id,SalePrice,sold_on\np-1,205000,2026-11-24\np-4,140000,2026-11-26\n";
    let first = sales::import(&s, csv.as_bytes(), today(), &Intervals::new())
        .await
        .expect("import");
    assert_eq!((first.stored, first.unchanged), (2, 0));
    let files = files_under(&dir.path().join("sales"));
    let bytes: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    let again = sales::import(&s, csv.as_bytes(), today(), &Intervals::new())
        .await
        .expect("import again");
    assert_eq!((again.stored, again.unchanged), (2, 2));
    assert_eq!(files_under(&dir.path().join("sales")), files);
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("read"))
        .collect();
    assert_eq!(after, bytes);
}

#[tokio::test]
async fn sales_join_by_prediction_id_else_the_newest_prediction_of_the_house_before_the_sale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = fixture_store(&dir).await;
    let mut predictions = Predictions::list(&s, today()).await.expect("list");
    let row = |prediction_id: Option<&str>, house_id: Option<i64>, sold_on: &str| SaleRow {
        line: 2,
        prediction_id: prediction_id.map(str::to_string),
        house_id,
        sale_price: 1.0,
        sold_on: parse_day(sold_on).expect("day"),
    };
    // The id wins over the house: p-1 although house 7 has newer predictions.
    let joined = sales::join(&row(Some("p-1"), Some(7), "2026-11-26"), &mut predictions)
        .await
        .expect("joined");
    assert_eq!(joined.id, "p-1");
    // By house: the newest prediction on or before the sale (p-2, not the later p-3).
    let joined = sales::join(&row(None, Some(7), "2026-11-23"), &mut predictions)
        .await
        .expect("joined");
    assert_eq!(joined.id, "p-2");
    let joined = sales::join(&row(None, Some(7), "2026-11-26"), &mut predictions)
        .await
        .expect("joined");
    assert_eq!(joined.id, "p-3");
    // Sold before any prediction of it (entered late, priced afterwards): the first one after.
    let joined = sales::join(&row(None, Some(7), "2026-11-19"), &mut predictions)
        .await
        .expect("joined");
    assert_eq!(joined.id, "p-1");
    // A house never priced: nothing to join.
    assert!(
        sales::join(&row(None, Some(999), "2026-11-26"), &mut predictions)
            .await
            .is_err()
    );
}

fn sale(
    model: &str,
    sold_on: &str,
    actual: f64,
    predicted: f64,
    interval: Option<[f64; 2]>,
) -> Sale {
    Sale {
        prediction_id: format!("{model}-{sold_on}-{actual}"),
        house_id: None,
        sale_price: actual,
        sold_on: sold_on.to_string(),
        model_id: model.to_string(),
        predicted_price: predicted,
        interval,
        predicted_at: "2026-11-01T00:00:00Z".to_string(),
        source: Source::Api,
    }
}

#[test]
fn realized_metrics_match_a_hand_computed_fixture() {
    // Week 2026-W48 (Mon 23 – Sun 29 Nov), model a: two sales.
    //   actual 100 000, predicted 110 000, interval [90 000, 120 000] → inside
    //   actual 200 000, predicted 180 000, interval [150 000, 190 000] → outside
    // errors p − a: +10 000, −20 000
    //   mae = 15 000; bias = −5 000; mape = 100 · (0.1 + 0.1) / 2 = 10
    //   rmse_log = √((ln 1.1² + ln 0.9²) / 2) = √((0.0090840 + 0.0111008) / 2) = 0.1004610
    //   coverage = 1 / 2
    let sales = vec![
        sale(
            "a",
            "2026-11-23",
            100_000.0,
            110_000.0,
            Some([90_000.0, 120_000.0]),
        ),
        sale(
            "a",
            "2026-11-29",
            200_000.0,
            180_000.0,
            Some([150_000.0, 190_000.0]),
        ),
        // Next week (W49), model a, no interval: coverage unknown.
        sale("a", "2026-11-30", 100_000.0, 100_000.0, None),
        // Same week, another model.
        sale(
            "b",
            "2026-11-24",
            100_000.0,
            90_000.0,
            Some([80_000.0, 95_000.0]),
        ),
    ];
    let rows = per_week(&sales, Some("a"));
    let keys: Vec<(&str, &str, usize, bool)> = rows
        .iter()
        .map(|r| (r.week.as_str(), r.model_id.as_str(), r.n, r.production))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("2026-W48", "a", 2, true),
            ("2026-W48", "b", 1, false),
            ("2026-W49", "a", 1, true)
        ]
    );
    let a = &rows[0];
    assert_eq!(a.week_start, "2026-11-23");
    assert!((a.mae - 15_000.0).abs() < 1e-9);
    assert!((a.bias + 5_000.0).abs() < 1e-9);
    assert!((a.mape - 10.0).abs() < 1e-9);
    assert!((a.rmse_log - 0.100_461_0).abs() < 1e-6, "{}", a.rmse_log);
    assert_eq!(a.coverage, Some(0.5));
    assert_eq!(rows[2].coverage, None);
    assert_eq!(rows[2].rmse_log, 0.0);
    assert_eq!(
        rows[1].coverage,
        Some(0.0),
        "100 000 is above [80 000, 95 000]"
    );
}

fn model() -> core_model::LoadedArtifact {
    Artifact::from_bytes(crate::support::fixtures::trained_model_bytes()).expect("model")
}

fn request(model: &core_model::LoadedArtifact) -> Request {
    Request {
        since_days: 30,
        today: today(),
        model_id: Some(model.id.clone()),
        sketch: model.artifact.reference.clone(),
        production: Some(model.id.clone()),
    }
}

fn drift_of<'a>(report: &'a monitor::Report, field: &str) -> &'a core_model::sketch::FieldDrift {
    report
        .drift
        .iter()
        .find(|d| d.field == field)
        .unwrap_or_else(|| panic!("no drift row for {field}"))
}

#[tokio::test]
async fn a_closed_day_is_summarised_once_and_a_late_record_invalidates_it() {
    let model = model();
    assert!(
        model.artifact.reference.is_some(),
        "training stores a reference sketch"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let s = store(&dir);
    // Two closed days and today; a smoke test that must not count.
    put_record(
        &s,
        "a1",
        "2026-11-25T10:00:00.000000Z",
        json!({"GrLivArea": 1000, "Neighborhood": "NAmes"}),
        1.5e5,
        "api",
    )
    .await;
    put_record(
        &s,
        "a2",
        "2026-11-25T11:00:00.000000Z",
        json!({"GrLivArea": 1100, "Neighborhood": "NAmes"}),
        1.6e5,
        "api",
    )
    .await;
    put_record(
        &s,
        "a3",
        "2026-11-25T12:00:00.000000Z",
        json!({"GrLivArea": 1200}),
        1.6e5,
        "smoke",
    )
    .await;
    let modified = put_record(
        &s,
        "b1",
        "2026-11-26T10:00:00.000000Z",
        json!({"GrLivArea": 1300}),
        1.7e5,
        "api",
    )
    .await;
    put_record(
        &s,
        "c1",
        "2026-11-27T10:00:00.000000Z",
        json!({"GrLivArea": 1400}),
        1.8e5,
        "simulated",
    )
    .await;

    let first = monitor::monitor(&s, &request(&model))
        .await
        .expect("monitor");
    assert_eq!(first.records, 4);
    assert_eq!((first.cache.days_cached, first.cache.days_computed), (0, 3));
    assert_eq!(first.cache.records_read, 5);
    assert!(dir.path().join("summaries/dt=2026-11-25").is_dir());
    assert!(
        !dir.path().join("summaries/dt=2026-11-27").exists(),
        "today is never cached"
    );
    assert_eq!(drift_of(&first, "GrLivArea").n, 4);

    // The closed days come from their summaries: rewriting a record's content (same key) is
    // not seen, because the record is not read again.
    std::fs::write(
        dir.path().join(&modified),
        serde_json::to_vec(&json!({
            "id": "b1", "timestamp": "2026-11-26T10:00:00.000000Z", "model_id": "m1",
            "input": {}, "imputed": [], "price": 1.7e5, "latency_us": 1,
        }))
        .expect("json"),
    )
    .expect("rewrite");
    let second = monitor::monitor(&s, &request(&model))
        .await
        .expect("monitor");
    assert_eq!(
        (second.cache.days_cached, second.cache.days_computed),
        (2, 1)
    );
    assert_eq!(second.cache.records_read, 1, "only today's record is read");
    assert_eq!(drift_of(&second, "GrLivArea").n, 4);
    assert_eq!(second.drift, first.drift);

    // A late record for 26 Nov changes that day's listing: its summary is recomputed (and
    // now sees the rewritten record too).
    put_record(
        &s,
        "b2",
        "2026-11-26T09:00:00.000000Z",
        json!({"GrLivArea": 5000}),
        4e5,
        "api",
    )
    .await;
    let third = monitor::monitor(&s, &request(&model))
        .await
        .expect("monitor");
    assert_eq!((third.cache.days_cached, third.cache.days_computed), (1, 2));
    assert_eq!(third.cache.records_read, 3);
    assert_eq!(third.records, 5);
    let living = drift_of(&third, "GrLivArea");
    assert_eq!(living.n, 4, "b1 now has no GrLivArea, b2 does");
    assert!((living.missing_rate - 0.2).abs() < 1e-12);
}

#[tokio::test]
async fn no_sales_yet_is_said() {
    let dir = tempfile::tempdir().expect("tempdir");
    let s = fixture_store(&dir).await;
    let model = model();
    let report = monitor::monitor(&s, &request(&model))
        .await
        .expect("monitor");
    assert!(report.performance.is_empty());
    assert!(report.notes.iter().any(|n| n.contains("no sales yet")));
}

#[tokio::test]
async fn sales_posted_to_the_router_are_joined_by_monitor_and_unknown_ids_are_noted() {
    use crate::support::fixtures::app_state;
    use crate::support::router::{call, post_json};
    let dir = tempfile::tempdir().expect("tempdir");
    let s = fixture_store(&dir).await;
    let app = predictor::router(app_state(predictor::store::LocalStore::new(dir.path())));
    let body = json!({"sales": [
        {"prediction_id": "p-1", "sale_price": 205000, "sold_on": "2026-11-24"},
        {"Id": 8, "sale_price": 140000, "sold_on": "2026-11-26"},
        {"prediction_id": "no-such-id", "sale_price": 99000, "sold_on": "2026-11-25"},
    ]});
    let reply = call(&app, post_json("/sales", body.to_string())).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.json());
    assert_eq!(reply.json()["unverified_ids"], true);
    let model = model();
    let report = monitor::monitor(&s, &request(&model))
        .await
        .expect("monitor");
    assert_eq!(report.sales, 2, "{:?}", report.notes);
    let n: usize = report.performance.iter().map(|w| w.n).sum();
    assert_eq!(n, 2);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("1 posted sale(s)") && n.contains("no-such-id")),
        "{:?}",
        report.notes
    );
    // The same objects `sales import` writes for the joined ones, once imported from a file.
    let posted: predictor::sales::StoredSale = serde_json::from_slice(
        &std::fs::read(dir.path().join("sales/dt=2026-11-24/p-1.json")).expect("posted sale"),
    )
    .expect("a stored sale");
    assert!(posted.joined.is_none());
}
