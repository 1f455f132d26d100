//! The reference sketch and PSI against hand-computed figures.

use core_model::sketch::{Bins, PSI_THRESHOLD, ReferenceSketch, house_from_input, psi};
use serde_json::json;

#[test]
fn psi_matches_a_hand_computed_fixture() {
    // Training counts 50/30/20, window counts 10/30/60, k = 3 bins, half a count added:
    //   e = (50.5, 30.5, 20.5) / 101.5 = 0.497537, 0.300493, 0.201970
    //   a = (10.5, 30.5, 60.5) / 101.5 = 0.103448, 0.300493, 0.596059
    //   PSI = (0.103448 − 0.497537)·ln(0.103448 / 0.497537)
    //       + 0
    //       + (0.596059 − 0.201970)·ln(0.596059 / 0.201970)
    //       = 0.618955 + 0.426498 = 1.045453
    let value = psi(&[50, 30, 20], &[10, 30, 60]);
    assert!((value - 1.045_445).abs() < 1e-5, "{value}");
    // Same shares, different sizes: only the half counts make it non-zero, and barely.
    assert!(psi(&[50, 30, 20], &[5, 3, 2]) < 0.01);
    // No values in the window: nothing to compare.
    assert_eq!(psi(&[50, 30, 20], &[0, 0, 0]), 0.0);
}

fn house(area: Option<i64>, neighborhood: Option<&str>) -> core_model::House {
    let mut object = serde_json::Map::new();
    if let Some(a) = area {
        object.insert("GrLivArea".to_string(), json!(a));
    }
    if let Some(n) = neighborhood {
        object.insert("Neighborhood".to_string(), json!(n));
    }
    house_from_input(&object)
}

#[test]
fn the_sketch_bins_training_values_and_ranks_shifted_fields_first() {
    // 10 training houses: GrLivArea 1000, 1100, … 1900; Neighborhood 6 × NAmes, 4 × OldTown;
    // one house without a Neighborhood.
    let houses: Vec<_> = (0..10)
        .map(|i| {
            let n = match i {
                0..=5 => Some("NAmes"),
                6..=8 => Some("OldTown"),
                _ => None,
            };
            house(Some(1000 + 100 * i), n)
        })
        .collect();
    let prices: Vec<f64> = (0..10).map(|i| 100_000.0 + 10_000.0 * i as f64).collect();
    let sketch = ReferenceSketch::build(&houses, &prices);
    assert_eq!(sketch.rows, 10);
    assert_eq!(sketch.fields.len(), 79, "every input field");
    let area = sketch
        .fields
        .iter()
        .find(|f| f.field == "GrLivArea")
        .expect("GrLivArea");
    // Deciles at ranks round(0.1·9) … round(0.9·9) = 1, 2, 3, 4, 5, 5, 6, 7, 8 (deduplicated).
    assert_eq!(
        area.bins,
        Bins::Numeric {
            edges: vec![
                1100.0, 1200.0, 1300.0, 1400.0, 1500.0, 1600.0, 1700.0, 1800.0
            ]
        }
    );
    assert_eq!(area.counts.bins, vec![2, 1, 1, 1, 1, 1, 1, 1, 1]);
    let hood = sketch
        .fields
        .iter()
        .find(|f| f.field == "Neighborhood")
        .expect("Neighborhood");
    assert_eq!(
        hood.bins,
        Bins::Levels {
            levels: vec!["Names".to_string(), "OldTown".to_string()]
        }
    );
    assert_eq!(hood.counts.bins, vec![6, 3, 0]);
    assert!((hood.missing_rate() - 0.1).abs() < 1e-12);

    // The window: the same neighbourhoods, every house above 1800 sq ft.
    let window: Vec<_> = (0..10)
        .map(|i| {
            house(
                Some(2500 + i),
                Some(if i < 6 { "NAmes" } else { "OldTown" }),
            )
        })
        .collect();
    let mut counts = sketch.empty_counts();
    for h in &window {
        sketch.count(&mut counts, h, Some(150_000.0));
    }
    let drift = sketch.drift(&counts);
    assert_eq!(drift[0].field, "GrLivArea");
    assert!(drift[0].flagged && drift[0].psi > PSI_THRESHOLD);
    let hood = drift
        .iter()
        .find(|d| d.field == "Neighborhood")
        .expect("row");
    assert!(!hood.flagged, "{hood:?}");
    assert!((hood.missing_rate_change + 0.1).abs() < 1e-12);
    // A field nobody sends: no values, no PSI, all of it missing.
    let pool = drift
        .iter()
        .find(|d| d.field == "LotFrontage")
        .expect("row");
    assert_eq!(pool.psi, 0.0);
    assert_eq!(pool.n, 0);
    let sorted = drift.windows(2).all(|w| w[0].psi >= w[1].psi);
    assert!(sorted, "highest PSI first");
}

#[test]
fn training_stores_the_sketch_and_an_artifact_without_one_still_loads() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv"))
        .expect("snapshot exists");
    let dataset = core_model::Table::read(bytes.as_slice())
        .and_then(core_model::Table::into_dataset)
        .expect("snapshot reads");
    let rows: Vec<usize> = (0..300).collect();
    let dataset = dataset.select(&rows);
    let params = core_model::TrainParams {
        cv_folds: 3,
        ..core_model::TrainParams::default()
    };
    let trained = core_model::train::train(&dataset, &params, &mut |_| {}).expect("trains");
    let artifact = core_model::Artifact::from_trained(
        trained,
        params,
        "2026-01-01T00:00:00Z".to_string(),
        "md5".to_string(),
    )
    .with_reference(&dataset);
    let sketch = artifact.reference.clone().expect("sketch");
    assert_eq!(sketch.rows, 300);
    assert_eq!(sketch.price.counts.rows, 300);
    let loaded = core_model::Artifact::from_bytes(&artifact.to_bytes().expect("bytes"))
        .expect("loads with its sketch");
    assert_eq!(loaded.artifact.reference, Some(sketch));
    // Written before the sketch existed: no `reference` key at all.
    let mut json: serde_json::Value =
        serde_json::from_slice(&artifact.to_bytes().expect("bytes")).expect("json");
    json.as_object_mut().expect("object").remove("reference");
    let old = core_model::Artifact::from_bytes(&serde_json::to_vec(&json).expect("bytes"))
        .expect("an older artifact loads");
    assert_eq!(old.artifact.reference, None);
}
