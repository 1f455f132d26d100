//! Timings of the hot paths: validating and pricing one house with each estimator, and
//! training with cross-validation.

use std::hint::black_box;
use std::time::Duration;

use core_model::house::house_from_json;
use core_model::predict::Buffers;
use core_model::{Dataset, ModelKind, Table, TrainParams, train};
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
    let (cleaned, _) = train::clean(&dataset, &TrainParams::default());
    let house = &dataset.houses[0];
    let mut group = c.benchmark_group("encode_predict_one_house");
    for kind in ModelKind::ALL {
        let params = TrainParams {
            model: kind,
            ..TrainParams::default()
        };
        let model = train::fit(&cleaned, &params).expect("training succeeds");
        let mut buffers = Buffers::default();
        group.bench_function(kind.name(), |b| {
            b.iter(|| model.predict_log_with(black_box(house), &mut buffers).0)
        });
        if kind == ModelKind::Blend {
            group.bench_function("blend_prediction_with_report", |b| {
                b.iter(|| model.predict(black_box(house)))
            });
        }
    }
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
    for kind in ModelKind::ALL {
        let params = TrainParams {
            model: kind,
            ..TrainParams::default()
        };
        c.bench_function(&format!("fit_{}_1458", kind.name()), |b| {
            b.iter(|| train::fit(black_box(&cleaned), &params).expect("fit succeeds"))
        });
    }
    c.bench_function("train_with_repeated_cv_and_holdout_1460", |b| {
        b.iter(|| train::train(black_box(&dataset), &params, &mut |_| {}).expect("train succeeds"))
    });
}

/// Training takes seconds: ten samples are enough.
fn slow() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
}

criterion_group!(fast, one_house);
criterion_group! {
    name = slow_benches;
    config = slow();
    targets = training
}
criterion_main!(fast, slow_benches);
