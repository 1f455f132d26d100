//! The estimators: determinism, bit-exact round trip of a blend, bounded extrapolation, and the
//! `model` parameter choosing linear, trees or blend.

use std::sync::OnceLock;

use core_model::house::{Value, house_from_json};
use core_model::schema;
use core_model::{Artifact, Dataset, House, ModelKind, Table, TrainParams, digest, train};

const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");

fn snapshot() -> &'static (Vec<u8>, Dataset) {
    static DATA: OnceLock<(Vec<u8>, Dataset)> = OnceLock::new();
    DATA.get_or_init(|| {
        let bytes = std::fs::read(AMES_CSV).expect("snapshot exists");
        let dataset = Table::read(bytes.as_slice())
            .expect("snapshot reads")
            .into_dataset()
            .expect("snapshot is a valid dataset");
        (bytes, dataset)
    })
}

/// Quick parameters: fewer folds, one repetition, fewer trees (same code paths).
fn quick(kind: ModelKind) -> TrainParams {
    TrainParams {
        model: kind,
        cv_folds: 3,
        cv_repeats: 2,
        gbm_trees: 150,
        gbm_learning_rate: 0.1,
        ..TrainParams::default()
    }
}

fn artifact_bytes(rows: usize, params: &TrainParams) -> Vec<u8> {
    let (bytes, dataset) = snapshot();
    let first: Vec<usize> = (0..rows).collect();
    let trained =
        train::train(&dataset.select(&first), params, &mut |_| {}).expect("training works");
    Artifact::from_trained(
        trained,
        params.clone(),
        "2024-01-01T00:00:00Z".to_string(),
        digest::md5_hex(bytes),
    )
    .to_bytes()
    .expect("artifact serialises")
}

/// A blend trained with quick parameters on the first 700 rows, as stored bytes.
fn blend_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| artifact_bytes(700, &quick(ModelKind::Blend)))
}

#[test]
fn the_same_seed_gives_identical_artifact_bytes_and_another_seed_other_bytes() {
    let params = quick(ModelKind::Blend);
    let again = artifact_bytes(700, &params);
    assert!(
        blend_bytes() == again.as_slice(),
        "retraining changed bytes"
    );
    let other = artifact_bytes(700, &TrainParams { seed: 43, ..params });
    assert!(
        blend_bytes() != other.as_slice(),
        "another seed, same bytes"
    );
}

#[test]
fn a_blend_round_trips_to_the_bit() {
    let bytes = blend_bytes();
    let loaded = Artifact::from_bytes(bytes).expect("artifact loads");
    let estimator = &loaded.artifact.model.estimator;
    assert_eq!(estimator.kind, ModelKind::Blend);
    assert!(estimator.linear.is_some() && estimator.gbm.is_some());
    assert!((estimator.linear_weight + estimator.gbm_weight - 1.0).abs() < 1e-12);
    assert_eq!(
        estimator.gbm_weight,
        loaded.artifact.metrics.quality.blend_gbm_weight
    );
    // Written again, the loaded artifact gives the same bytes, so the same model id.
    let rewritten = loaded.artifact.to_bytes().expect("artifact serialises");
    assert!(rewritten == bytes, "re-serialised bytes differ");

    // And every house is priced bit-identically before and after the round trip.
    let (_, dataset) = snapshot();
    let (_, original) = {
        let first: Vec<usize> = (0..700).collect();
        let params = quick(ModelKind::Blend);
        let trained =
            train::train(&dataset.select(&first), &params, &mut |_| {}).expect("training works");
        ((), trained.model)
    };
    let after = &loaded.artifact.model;
    assert_eq!(&original, after);
    for (row, house) in dataset.houses.iter().enumerate() {
        let (b, a) = (original.predict(house), after.predict(house));
        assert_eq!(b.price.to_bits(), a.price.to_bits(), "row {row}");
        assert_eq!(b.low.to_bits(), a.low.to_bits(), "row {row}");
        assert_eq!(b.high.to_bits(), a.high.to_bits(), "row {row}");
    }
}

#[test]
fn the_artifact_is_readable_and_compact() {
    let text = std::str::from_utf8(blend_bytes()).expect("artifact is UTF-8");
    // Indented at the top: one key per line.
    assert!(
        text.starts_with("{\n  \"format_version\": 3,\n"),
        "{}",
        &text[..80]
    );
    // Each tree is one line, not one line per number.
    let loaded = Artifact::from_bytes(blend_bytes()).expect("artifact loads");
    let trees = loaded
        .artifact
        .model
        .estimator
        .gbm
        .as_ref()
        .map_or(0, |g| g.trees.len());
    assert_eq!(trees, 150);
    // One line per comparable sale and per feature mean too.
    let reference = &loaded.artifact.model.reference;
    let per_row =
        reference.comparables.as_ref().map_or(0, |t| t.rows.len()) + reference.feature_means.len();
    assert!(
        text.lines().count() < 3000 + per_row,
        "{} lines for {trees} trees",
        text.lines().count()
    );
}

/// A typical training house with one field changed.
fn with_field(name: &str, value: serde_json::Value) -> House {
    let (_, dataset) = snapshot();
    let mut object = dataset.houses[0].to_json();
    object.insert(name.to_string(), value);
    house_from_json(&object).expect("a valid house")
}

#[test]
fn a_house_far_outside_the_training_range_gets_a_bounded_price_and_the_field_is_listed() {
    let (_, dataset) = snapshot();
    let low = dataset.prices.iter().copied().fold(f64::INFINITY, f64::min);
    let high = dataset.prices.iter().copied().fold(0.0, f64::max);
    let huge = with_field("GrLivArea", serde_json::json!(50_000));
    let max_area = dataset
        .houses
        .iter()
        .filter_map(|h| match h.get_by_name("GrLivArea") {
            Some(Value::Number(x)) => Some(x),
            _ => None,
        })
        .fold(0.0, f64::max);
    for kind in ModelKind::ALL {
        let loaded = Artifact::from_bytes(&artifact_bytes(700, &quick(kind))).expect("loads");
        let model = &loaded.artifact.model;
        let prediction = model.predict(&huge);
        assert!(
            prediction.price.is_finite()
                && prediction.price >= low / 2.0
                && prediction.price <= high * 2.0,
            "{}: {prediction:?} outside [{}, {}]",
            kind.name(),
            low / 2.0,
            high * 2.0
        );
        assert!(prediction.low.is_finite() && prediction.high.is_finite());
        let listed = prediction
            .report
            .out_of_range
            .iter()
            .find(|o| o.field == "GrLivArea")
            .unwrap_or_else(|| panic!("{}: {:?}", kind.name(), prediction.report));
        assert_eq!(listed.value, 50_000.0);
        assert!(listed.range[0] < listed.range[1] && listed.range[1] <= max_area);
        // Clipped: a still larger house gets exactly the same price (no extrapolation).
        let larger = model.predict(&with_field("GrLivArea", serde_json::json!(90_000)));
        assert_eq!(
            larger.price.to_bits(),
            prediction.price.to_bits(),
            "{}",
            kind.name()
        );
        // A house inside every range lists nothing.
        let typical = model.predict(&dataset.houses[0]);
        assert!(
            typical.report.out_of_range.is_empty(),
            "{:?}",
            typical.report
        );
    }
}

#[test]
fn out_of_range_names_the_column_and_the_engineered_features_it_drives() {
    let loaded = Artifact::from_bytes(blend_bytes()).expect("loads");
    let prediction = loaded
        .artifact
        .model
        .predict(&with_field("TotalBsmtSF", serde_json::json!(40_000)));
    let fields: Vec<&str> = prediction
        .report
        .out_of_range
        .iter()
        .map(|o| o.field)
        .collect();
    assert!(fields.contains(&"TotalBsmtSF"), "{fields:?}");
    assert!(fields.contains(&"TotalSF"), "{fields:?}");
    for o in &prediction.report.out_of_range {
        assert!(
            schema::column(o.field).is_some() || o.field == "TotalSF",
            "{o:?}"
        );
    }
}

#[test]
fn the_model_parameter_chooses_the_served_estimator() {
    for kind in ModelKind::ALL {
        let loaded = Artifact::from_bytes(&artifact_bytes(400, &quick(kind))).expect("loads");
        let estimator = &loaded.artifact.model.estimator;
        assert_eq!(estimator.kind, kind);
        assert_eq!(estimator.linear.is_some(), kind != ModelKind::Gbm);
        assert_eq!(estimator.gbm.is_some(), kind != ModelKind::Linear);
        let quality = &loaded.artifact.metrics.quality;
        // All three are measured whichever is served.
        for measured in ModelKind::ALL {
            let q = quality.of(measured);
            assert_eq!(q.cv_rmse_log.len(), 2);
            assert!(
                q.cv_rmse_log_mean > 0.05 && q.cv_rmse_log_mean < 0.3,
                "{q:?}"
            );
        }
    }
}

#[test]
fn a_fixed_blend_weight_is_used_as_given() {
    let params = TrainParams {
        blend_gbm_weight: Some(0.25),
        ..quick(ModelKind::Blend)
    };
    let loaded = Artifact::from_bytes(&artifact_bytes(400, &params)).expect("loads");
    let estimator = &loaded.artifact.model.estimator;
    assert_eq!(
        (estimator.linear_weight, estimator.gbm_weight),
        (0.75, 0.25)
    );
}

#[test]
fn an_artifact_whose_parts_do_not_match_its_kind_is_refused() {
    let mut json: serde_json::Value =
        serde_json::from_slice(blend_bytes()).expect("artifact is JSON");
    json["model"]["estimator"]["kind"] = serde_json::json!("linear");
    let bytes = serde_json::to_vec(&json).expect("serialises");
    let error = Artifact::from_bytes(&bytes).expect_err("refused");
    assert!(error.to_string().contains("linear"), "{error}");

    let mut json: serde_json::Value =
        serde_json::from_slice(blend_bytes()).expect("artifact is JSON");
    json["model"]["estimator"]["gbm"]["trees"][0]["left"][0] = serde_json::json!(100_000);
    let bytes = serde_json::to_vec(&json).expect("serialises");
    let error = Artifact::from_bytes(&bytes).expect_err("refused");
    assert!(error.to_string().contains("tree"), "{error}");
}
