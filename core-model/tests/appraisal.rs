//! Explanations, comparable sales and the calibrated range: the sum rule for every estimator,
//! grouping of one-hot columns, comparables that are real training sales, and a range whose
//! coverage holds on held-out folds and that widens for unusual houses.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use core_model::comparables::MIN_SAME_NEIGHBORHOOD;
use core_model::derived::Derived;
use core_model::encode::Source;
use core_model::house::{Value, house_from_json};
use core_model::predict::Buffers;
use core_model::schema::{self, COLUMNS};
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

/// The served model with the default parameters, on every bundled row, as loaded from bytes.
fn served() -> &'static Artifact {
    static ARTIFACT: OnceLock<Artifact> = OnceLock::new();
    ARTIFACT.get_or_init(|| {
        let (bytes, dataset) = snapshot();
        let params = TrainParams::default();
        let trained = train::train(dataset, &params, &mut |_| {}).expect("training works");
        let artifact = Artifact::from_trained(
            trained,
            params,
            "2024-01-01T00:00:00Z".to_string(),
            digest::md5_hex(bytes),
        );
        let stored = artifact.to_bytes().expect("artifact serialises");
        Artifact::from_bytes(&stored)
            .expect("artifact loads")
            .artifact
    })
}

/// A quick model of each kind on the first 700 rows.
fn quick(kind: ModelKind) -> core_model::Model {
    let (_, dataset) = snapshot();
    let params = TrainParams {
        model: kind,
        cv_folds: 3,
        cv_repeats: 1,
        gbm_trees: 120,
        gbm_learning_rate: 0.1,
        ..TrainParams::default()
    };
    let first: Vec<usize> = (0..700).collect();
    train::train(&dataset.select(&first), &params, &mut |_| {})
        .expect("training works")
        .model
}

fn with_fields(base: &House, fields: &[(&str, serde_json::Value)]) -> House {
    let mut object = base.to_json();
    for (name, value) in fields {
        object.insert(name.to_string(), value.clone());
    }
    house_from_json(&object).expect("a valid house")
}

fn assert_sum_rule(model: &core_model::Model, house: &House, what: &str) {
    let mut buffers = Buffers::default();
    let appraisal = model.appraise(house, &mut buffers);
    let explanation = &appraisal.explanation;
    let total = explanation.base_log + explanation.contributions.iter().map(|c| c.log).sum::<f64>();
    let price = appraisal.prediction.price;
    assert!(
        (total - price.ln()).abs() < 1e-9,
        "{what}: base {} + contributions = {total}, ln(price) = {}",
        explanation.base_log,
        price.ln()
    );
    // The explained price is the price served.
    assert_eq!(
        price.to_bits(),
        model.predict(house).price.to_bits(),
        "{what}"
    );
}

#[test]
fn contributions_sum_to_ln_price_for_linear_trees_and_blend_even_when_clipped() {
    let (_, dataset) = snapshot();
    for kind in ModelKind::ALL {
        let model = quick(kind);
        for (row, house) in dataset.houses.iter().enumerate().step_by(37) {
            assert_sum_rule(&model, house, &format!("{} row {row}", kind.name()));
        }
        let huge = with_fields(
            &dataset.houses[0],
            &[
                ("GrLivArea", serde_json::json!(40000)),
                ("LotArea", serde_json::json!(2_000_000)),
                ("YearBuilt", serde_json::json!(1800)),
            ],
        );
        let clipped = model.predict(&huge);
        assert!(!clipped.report.out_of_range.is_empty());
        assert_sum_rule(&model, &huge, &format!("{} clipped house", kind.name()));
    }
}

#[test]
fn one_hot_columns_are_grouped_back_to_their_field() {
    let model = &served().model;
    let (_, dataset) = snapshot();
    let house = &dataset.houses[10];
    let appraisal = model.appraise(house, &mut Buffers::default());
    let names: Vec<&str> = appraisal
        .explanation
        .contributions
        .iter()
        .map(|c| c.feature.as_str())
        .collect();
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), names.len(), "one entry per field: {names:?}");
    let known: HashSet<&str> = COLUMNS
        .iter()
        .map(|c| c.name)
        .chain(Derived::ALL.iter().map(|d| d.name()))
        .collect();
    for name in &names {
        assert!(known.contains(name), "{name} is not a field");
    }
    assert!(names.contains(&"Neighborhood"), "{names:?}");
    // Sorted by absolute effect, with percent the multiplicative effect.
    for pair in appraisal.explanation.contributions.windows(2) {
        assert!(pair[0].log.abs() >= pair[1].log.abs());
    }
    let neighborhood = appraisal
        .explanation
        .contributions
        .iter()
        .find(|c| c.feature == "Neighborhood")
        .expect("neighbourhood contributes");
    assert_eq!(
        neighborhood.value,
        core_model::explain::FieldValue::Level(match house.get_by_name("Neighborhood") {
            Some(Value::Level(code)) => code.to_string(),
            other => panic!("neighbourhood is {other:?}"),
        })
    );
    assert!((neighborhood.percent - (neighborhood.log.exp() - 1.0) * 100.0).abs() < 1e-9);

    // The linear part of the neighbourhood's share is the sum over its one-hot columns.
    let linear = model
        .estimator
        .linear
        .as_ref()
        .expect("a blend has a linear part");
    let (features, _) = model.pipeline.encode(house);
    let mut by_column: BTreeMap<String, f64> = BTreeMap::new();
    for (j, feature) in model.pipeline.features.iter().enumerate() {
        if let Source::Level { column, .. } = &feature.source {
            *by_column.entry(column.clone()).or_default() +=
                linear.weights[j] * (features[j] - model.reference.feature_means[j]);
        }
    }
    let one_hot = by_column["Neighborhood"];
    let columns = model
        .pipeline
        .features
        .iter()
        .filter(|f| f.name.starts_with("Neighborhood="))
        .count();
    assert!(columns > 10, "{columns} one-hot neighbourhood columns");
    // The blend adds the trees' share; the linear share alone is recovered with the trees'
    // weight at 0 (a linear model).
    let linear_only = quick(ModelKind::Linear);
    let appraisal = linear_only.appraise(&dataset.houses[10], &mut Buffers::default());
    let (features, _) = linear_only.pipeline.encode(&dataset.houses[10]);
    let weights = &linear_only
        .estimator
        .linear
        .as_ref()
        .expect("linear")
        .weights;
    let expected: f64 = linear_only
        .pipeline
        .features
        .iter()
        .enumerate()
        .filter(
            |(_, f)| matches!(&f.source, Source::Level { column, .. } if column == "Neighborhood"),
        )
        .map(|(j, _)| weights[j] * (features[j] - linear_only.reference.feature_means[j]))
        .sum();
    let got = appraisal
        .explanation
        .contributions
        .iter()
        .find(|c| c.feature == "Neighborhood")
        .map_or(0.0, |c| c.log);
    assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    assert!(one_hot.is_finite());
}

/// Sale price of every bundled row by id.
fn recorded_prices() -> BTreeMap<i64, f64> {
    let (_, dataset) = snapshot();
    dataset
        .ids
        .iter()
        .zip(&dataset.prices)
        .filter_map(|(id, price)| id.map(|id| (id, *price)))
        .collect()
}

#[test]
fn comparables_are_real_training_sales_with_their_recorded_prices() {
    let model = &served().model;
    let (_, dataset) = snapshot();
    let prices = recorded_prices();
    let mut buffers = Buffers::default();
    for house in dataset.houses.iter().step_by(53) {
        let appraisal = model.appraise(house, &mut buffers);
        assert_eq!(appraisal.comparables.len(), 5);
        let neighborhood = match house.get_by_name("Neighborhood") {
            Some(Value::Level(code)) => code,
            other => panic!("neighbourhood is {other:?}"),
        };
        let same = dataset
            .houses
            .iter()
            .filter(|h| h.get_by_name("Neighborhood") == Some(Value::Level(neighborhood)))
            .count();
        for pair in appraisal.comparables.windows(2) {
            assert!(pair[0].distance <= pair[1].distance);
        }
        for comp in &appraisal.comparables {
            assert_eq!(
                prices.get(&comp.id),
                Some(&comp.sale_price),
                "comp {}",
                comp.id
            );
            assert!(comp.fields.GrLivArea > 0.0, "{comp:?}");
            assert_eq!(comp.sold.len(), 7, "{}", comp.sold);
            if same >= MIN_SAME_NEIGHBORHOOD {
                assert_eq!(comp.neighborhood, neighborhood);
            }
            assert!(comp.adjusted_price > 0.0 && comp.adjusted_price.is_finite());
        }
    }
}

#[test]
fn a_house_identical_to_a_training_sale_has_it_first_at_distance_zero() {
    let model = &served().model;
    let (_, dataset) = snapshot();
    let mut buffers = Buffers::default();
    let kept: HashSet<i64> = model
        .reference
        .comparables
        .as_ref()
        .expect("comparables")
        .rows
        .iter()
        .map(|r| r.id)
        .collect();
    for (row, house) in dataset.houses.iter().enumerate().step_by(29) {
        let Some(id) = dataset.ids[row] else { continue };
        if !kept.contains(&id) {
            continue; // an outlier the training dropped
        }
        let comps = model.appraise(house, &mut buffers).comparables;
        assert_eq!(comps[0].distance, 0.0, "row {row}: {:?}", comps[0]);
        // Ties at distance 0 (other sales with the same key fields) are told apart by the
        // model's price: the sale itself comes first, and needs no adjustment.
        let first = &comps[0];
        assert_eq!(first.id, id, "row {row}: {comps:?}");
        let price = model.predict(house).price;
        assert!((first.adjusted_price - first.sale_price).abs() < 1e-6 * price);
    }
}

#[test]
fn the_range_covers_held_out_prices_at_its_nominal_level() {
    let artifact = served();
    let report = artifact
        .metrics
        .interval
        .as_ref()
        .expect("an interval report");
    let level = artifact.model.interval.level;
    assert_eq!(report.method, "normalised_conformal");
    assert!(
        (report.folds.coverage - level).abs() <= 0.03,
        "coverage on held-out folds {} vs nominal {level}",
        report.folds.coverage
    );
    let holdout = report.holdout.as_ref().expect("a time holdout");
    assert!(holdout.rows > 50);
    assert!(
        (holdout.coverage - level).abs() <= 0.08,
        "time holdout coverage {}",
        holdout.coverage
    );
    assert!(report.folds.mean_relative_width > 0.1 && report.folds.mean_relative_width < 1.0);
    eprintln!("{report:#?}");
}

#[test]
fn the_range_is_wider_for_a_house_unlike_the_training_sales() {
    let model = &served().model;
    let (_, dataset) = snapshot();
    let mut buffers = Buffers::default();
    let relative = |house: &House, buffers: &mut Buffers| {
        let p = model.appraise(house, buffers).prediction;
        (p.high - p.low) / p.price
    };
    // A typical house: the median relative width over the training rows.
    let mut widths: Vec<f64> = dataset
        .houses
        .iter()
        .step_by(7)
        .map(|h| relative(h, &mut buffers))
        .collect();
    widths.sort_by(f64::total_cmp);
    let typical = widths[widths.len() / 2];
    let outside = with_fields(
        &dataset.houses[0],
        &[
            ("GrLivArea", serde_json::json!(9000)),
            ("TotalBsmtSF", serde_json::json!(7000)),
            ("PoolArea", serde_json::json!(2000)),
        ],
    );
    assert!(!model.predict(&outside).report.out_of_range.is_empty());
    let wide = relative(&outside, &mut buffers);
    assert!(wide > 1.2 * typical, "outside {wide} vs typical {typical}");
    // And the spread actually varies between training houses.
    assert!(
        widths[widths.len() * 9 / 10] > 1.1 * widths[widths.len() / 10],
        "{widths:?}"
    );
}

#[test]
fn a_format_2_artifact_still_loads_and_prices_with_its_fixed_interval() {
    let stored = served().to_bytes().expect("serialises");
    let mut json: serde_json::Value = serde_json::from_slice(&stored).expect("json");
    json["format_version"] = serde_json::json!(2);
    json["model"]
        .as_object_mut()
        .expect("model object")
        .remove("reference");
    json["metrics"]
        .as_object_mut()
        .expect("metrics object")
        .remove("interval");
    let bytes = serde_json::to_vec(&json).expect("json");
    let old = Artifact::from_bytes(&bytes)
        .expect("format 2 loads")
        .artifact;
    let (_, dataset) = snapshot();
    let appraisal = old
        .model
        .appraise(&dataset.houses[3], &mut Buffers::default());
    assert_eq!(appraisal.method, "fixed");
    assert!(appraisal.comparables.is_empty());
    let p = &appraisal.prediction;
    let interval = old.model.interval;
    assert!((p.low.ln() - (p.price.ln() + interval.low_log)).abs() < 1e-9);
    assert_sum_rule(&old.model, &dataset.houses[3], "format 2");
    let _ = schema::column_index("Neighborhood");
}
