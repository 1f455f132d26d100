//! Timings of the hot paths: validating and pricing one house, and training.

use std::hint::black_box;
use std::time::Duration;

use core_model::house::house_from_json;
use core_model::{Dataset, Table, TrainParams, train};
use criterion::{Criterion, criterion_group, criterion_main};

const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");

fn snapshot() -> Dataset {
    Table::read_path(std::path::Path::new(AMES_CSV))
        .expect("snapshot reads")
        .into_dataset()
        .expect("snapshot is a valid dataset")
}

fn one_house(c: &mut Criterion) {
    let dataset = snapshot();
    let params = TrainParams::default();
    let (cleaned, _) = train::clean(&dataset, &params);
    let (pipeline, estimator) = train::fit(&cleaned, &params).expect("training succeeds");
    let model = core_model::Model {
        pipeline,
        estimator,
        interval: core_model::predict::Interval {
            level: 0.8,
            low_log: -0.1,
            high_log: 0.1,
        },
    };
    let house = &dataset.houses[0];

    let mut group = c.benchmark_group("encode_predict_one_house");
    let mut buffer = Vec::with_capacity(model.pipeline.features.len());
    group.bench_function("predict_log_into", |b| {
        b.iter(|| model.predict_log_into(black_box(house), &mut buffer).0)
    });
    group.bench_function("predict", |b| b.iter(|| model.predict(black_box(house))));
    group.finish();

    let json = serde_json::to_string(&house.to_json()).expect("house serialises");
    c.bench_function("parse_and_validate_one_json_house", |b| {
        b.iter(|| {
            let object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(black_box(&json)).expect("valid JSON");
            house_from_json(&object).expect("valid house")
        })
    });
}

fn training(c: &mut Criterion) {
    let dataset = snapshot();
    let params = TrainParams::default();
    let (cleaned, _) = train::clean(&dataset, &params);

    c.bench_function("train_default_1460", |b| {
        b.iter(|| train::fit(black_box(&cleaned), &params).expect("fit succeeds"))
    });
    c.bench_function("train_with_cv_1460", |b| {
        b.iter(|| train::train(black_box(&dataset), &params, &mut |_| {}).expect("train succeeds"))
    });
}

/// Training takes about a second: ten samples are enough.
fn slow() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(15))
}

criterion_group!(fast, one_house);
criterion_group! {
    name = slow_benches;
    config = slow();
    targets = training
}
criterion_main!(fast, slow_benches);
