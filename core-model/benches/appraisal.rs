//! What explaining a price costs per house: the comparables (key fields, search, reply rows),
//! the calibrated range, and the whole appraisal with TreeSHAP over every tree.

use std::hint::black_box;
use std::time::Duration;

use core_model::predict::Buffers;
use core_model::{Table, TrainParams, train};
use criterion::{Criterion, criterion_group, criterion_main};

const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");

fn appraisal(c: &mut Criterion) {
    let dataset = Table::read_path(std::path::Path::new(AMES_CSV))
        .expect("snapshot reads")
        .into_dataset()
        .expect("snapshot is a valid dataset");
    let model = train::train(&dataset, &TrainParams::default(), &mut |_| {})
        .expect("training succeeds")
        .model;
    let table = model
        .reference
        .comparables
        .as_ref()
        .expect("a trained model keeps its comparables");
    let house = &dataset.houses[0];
    let mut imputed = Vec::new();
    let filled = model.pipeline.fill(house, &mut imputed);
    let neighborhood = filled.levels[core_model::schema::column_index("Neighborhood").unwrap_or(0)];
    let mut key = Vec::new();
    let mut group = c.benchmark_group("appraise_one_house");
    group.bench_function("comparables", |b| {
        b.iter(|| {
            table.key_of(black_box(&filled), &mut key);
            let neighbours = table.search(&key, neighborhood, None);
            table.comparables(&neighbours, 200_000.0)
        })
    });
    let mut buffers = Buffers::default();
    group.bench_function("price_and_range", |b| {
        b.iter(|| model.predict_with(black_box(house), &mut buffers))
    });
    group.bench_function("price_only", |b| {
        b.iter(|| model.predict_log_with(black_box(house), &mut buffers).0)
    });
    group.bench_function("full_appraisal_with_tree_shap", |b| {
        b.iter(|| model.appraise(black_box(house), &mut buffers))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = appraisal
}
criterion_main!(benches);
