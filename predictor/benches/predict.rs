//! `POST /predict` in process, through the whole router (body read, validation, prediction,
//! record, reply), with records written to a local folder and with a store that keeps nothing;
//! `GET /health` as the router's own overhead. Criterion's median is the p50 latency
//! (`target/criterion/predict/<name>/new/estimates.json`, `median.point_estimate` in ns).

#![allow(clippy::unwrap_used)]

use axum::Router;
use axum::body::Bytes;
use core_model::Table;
use criterion::{Criterion, criterion_group, criterion_main};
use predictor::router;
use predictor::store::LocalStore;
#[path = "../tests/support/mod.rs"]
mod support;

use crate::support::fixtures::{app_state, bundled_csv};
use crate::support::router::{call, get, post_json};
use crate::support::stores::NullStore;

/// The first house of the bundled data, all 79 fields, as a client would send it.
fn typical_house() -> Bytes {
    let table = Table::read_path(&bundled_csv()).unwrap();
    let house = table.records[0].house.to_json();
    Bytes::from(serde_json::to_vec(&house).unwrap())
}

fn predict(runtime: &tokio::runtime::Runtime, app: &Router, body: &Bytes) {
    let reply = runtime.block_on(call(app, post_json("/predict", body.clone())));
    assert!(reply.status.is_success());
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = typical_house();
    // AMESOPS_BENCH_RECORDS keeps the records (scripts/bench-predictor deletes them later).
    let dir = tempfile::tempdir().unwrap();
    let records = std::env::var_os("AMESOPS_BENCH_RECORDS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    let local = router(app_state(LocalStore::new(records)));
    let null = router(app_state(NullStore));

    let mut group = c.benchmark_group("predict");
    group.bench_function("local_store", |b| {
        b.iter(|| predict(&runtime, &local, &body))
    });
    group.bench_function("no_store", |b| b.iter(|| predict(&runtime, &null, &body)));
    group.bench_function("health", |b| {
        b.iter(|| {
            let reply = runtime.block_on(call(&null, get("/health")));
            assert!(reply.status.is_success());
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
