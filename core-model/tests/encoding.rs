//! The feature pipeline: fitted on training rows only, and total on any valid house.

use std::sync::OnceLock;

use core_model::encode::{EncodeParams, FeaturePipeline, Source};
use core_model::fill::Fill;
use core_model::house::house_from_json;
use core_model::schema::COLUMNS;
use core_model::{House, Model, Table, TrainParams, train};
use serde_json::{Value as Json, json};

const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");

fn house(value: Json) -> House {
    match &value {
        Json::Object(map) => match house_from_json(map) {
            Ok(house) => house,
            Err(errors) => panic!("{value} should be valid: {errors:?}"),
        },
        other => panic!("test input must be a JSON object, got {other}"),
    }
}

/// Training rows: two neighbourhoods, modest houses, mostly typical kitchens.
fn set_a() -> Vec<House> {
    vec![
        house(
            json!({"Neighborhood": "CollgCr", "GrLivArea": 1000, "LotFrontage": 60,
                     "KitchenQual": "TA", "OverallQual": 5, "YrSold": 2008}),
        ),
        house(
            json!({"Neighborhood": "CollgCr", "GrLivArea": 1200, "LotFrontage": 70,
                     "KitchenQual": "TA", "OverallQual": 6, "YrSold": 2009}),
        ),
        house(
            json!({"Neighborhood": "CollgCr", "GrLivArea": 1400, "LotFrontage": 80,
                     "KitchenQual": "Gd", "OverallQual": 7, "YrSold": 2008}),
        ),
        house(
            json!({"Neighborhood": "OldTown", "GrLivArea": 1100, "LotFrontage": 40,
                     "KitchenQual": "TA", "OverallQual": 4, "YrSold": 2007}),
        ),
        house(
            json!({"Neighborhood": "OldTown", "GrLivArea": 1300, "LotFrontage": 50,
                     "KitchenQual": "Fa", "OverallQual": 5, "YrSold": 2009}),
        ),
    ]
}

/// Held-out rows: an unseen neighbourhood, large houses, excellent kitchens.
fn set_b() -> Vec<House> {
    (0..8)
        .map(|i| {
            house(
                json!({"Neighborhood": "NoRidge", "GrLivArea": 3000, "LotFrontage": 100 + i,
                         "KitchenQual": "Ex", "OverallQual": 10, "YrSold": 2010}),
            )
        })
        .collect()
}

fn fit(houses: &[House]) -> FeaturePipeline {
    FeaturePipeline::fit(houses, &EncodeParams::default()).expect("pipeline fits")
}

fn feature_index(pipeline: &FeaturePipeline, name: &str) -> usize {
    pipeline
        .features
        .iter()
        .position(|f| f.name == name)
        .unwrap_or_else(|| panic!("no feature {name} in {:?}", pipeline.feature_names()))
}

/// A model trained on the first 400 rows of the snapshot, shared by the tests that predict.
fn small_model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dataset = Table::read_path(std::path::Path::new(AMES_CSV))
            .expect("snapshot reads")
            .into_dataset()
            .expect("snapshot is a valid dataset");
        let first: Vec<usize> = (0..400).collect();
        let params = TrainParams {
            cv_folds: 3,
            ..TrainParams::default()
        };
        train::train(&dataset.select(&first), &params, &mut |_| {})
            .expect("training succeeds")
            .model
    })
}

#[test]
fn level_unseen_in_training_rows_is_reported_as_unknown() {
    let pipeline = fit(&set_a());
    let (_, report) = pipeline.encode(&set_b()[0]);
    assert!(
        report
            .unknown_levels
            .contains(&"Neighborhood=NoRidge".to_string()),
        "{:?}",
        report.unknown_levels
    );
    let (_, seen) = pipeline.encode(&set_a()[3]);
    assert!(
        !seen
            .unknown_levels
            .iter()
            .any(|l| l.starts_with("Neighborhood=")),
        "{:?}",
        seen.unknown_levels
    );
}

#[test]
fn encoding_other_rows_does_not_change_the_fitted_state() {
    let pipeline = fit(&set_a());
    let before = serde_json::to_string(&pipeline).expect("pipeline serialises");
    let copy = pipeline.clone();
    let mut buffer = Vec::new();
    for row in set_b().iter().chain(&[House::default()]) {
        pipeline.encode_into(row, &mut buffer);
    }
    assert_eq!(
        serde_json::to_string(&pipeline).expect("pipeline serialises"),
        before
    );
    assert_eq!(pipeline, copy);
}

#[test]
fn fill_values_are_statistics_of_the_training_rows_only() {
    let a = set_a();
    let union: Vec<House> = a.iter().cloned().chain(set_b()).collect();
    let fitted_on_a = fit(&a);
    let fitted_on_union = fit(&union);
    let fills = &fitted_on_a.imputer.fills;
    // Median and mode of A: 1200 sq ft, a typical kitchen, 70 ft of frontage.
    assert_eq!(fills["GrLivArea"], Fill::Number(1200.0));
    assert_eq!(fills["KitchenQual"], Fill::Level("TA".to_string()));
    assert_eq!(fills["LotFrontage"], Fill::Number(60.0));
    assert_eq!(fills["Neighborhood"], Fill::Level("CollgCr".to_string()));
    // A ∪ B would give other values, so the test tells them apart.
    let union_fills = &fitted_on_union.imputer.fills;
    assert_eq!(union_fills["GrLivArea"], Fill::Number(3000.0));
    assert_eq!(union_fills["KitchenQual"], Fill::Level("Ex".to_string()));
    assert_eq!(
        union_fills["Neighborhood"],
        Fill::Level("NoRidge".to_string())
    );
}

#[test]
fn scaling_centres_are_medians_of_the_training_rows_only() {
    let pipeline = fit(&set_a());
    let feature = &pipeline.features[feature_index(&pipeline, "OverallQual")];
    let expected = feature.transform.apply(5.0);
    assert_eq!(feature.center, expected);
}

#[test]
fn missing_number_encodes_like_the_training_median() {
    let pipeline = fit(&set_a());
    let given = house(json!({"Neighborhood": "CollgCr", "GrLivArea": 1200, "LotFrontage": 60}));
    let gap = house(json!({"Neighborhood": "CollgCr", "LotFrontage": 60}));
    let (given_features, given_report) = pipeline.encode(&given);
    let (gap_features, gap_report) = pipeline.encode(&gap);
    assert_eq!(given_features, gap_features);
    assert!(gap_report.imputed.contains(&"GrLivArea"));
    assert!(!given_report.imputed.contains(&"GrLivArea"));
}

#[test]
fn unseen_level_encodes_as_all_zero_one_hot_for_its_column() {
    let pipeline = fit(&set_a());
    let neighbourhood_features: Vec<usize> = pipeline
        .features
        .iter()
        .enumerate()
        .filter(
            |(_, f)| matches!(&f.source, Source::Level { column, .. } if column == "Neighborhood"),
        )
        .map(|(i, _)| i)
        .collect();
    assert_eq!(neighbourhood_features.len(), 2, "CollgCr and OldTown");

    let (unseen, _) = pipeline.encode(&set_b()[0]);
    for &i in &neighbourhood_features {
        assert_eq!(unseen[i], 0.0, "{}", pipeline.features[i].name);
    }
    let (known, _) = pipeline.encode(&set_a()[3]);
    let ones: Vec<&str> = neighbourhood_features
        .iter()
        .filter(|&&i| known[i] == 1.0)
        .map(|&i| pipeline.features[i].name.as_str())
        .collect();
    assert_eq!(ones, vec!["Neighborhood=OldTown"]);
}

#[test]
fn all_missing_house_encodes_to_finite_features_with_every_column_imputed() {
    let model = small_model();
    let (features, report) = model.pipeline.encode(&House::default());
    assert_eq!(features.len(), model.pipeline.features.len());
    assert!(features.iter().all(|x| x.is_finite()), "{features:?}");
    assert_eq!(report.imputed.len(), 79);
    let mut imputed = report.imputed.clone();
    imputed.sort_unstable();
    let mut all: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    all.sort_unstable();
    assert_eq!(imputed, all);
    assert!(
        report.unknown_levels.is_empty(),
        "{:?}",
        report.unknown_levels
    );
}

#[test]
fn all_missing_house_gets_a_finite_positive_price() {
    let prediction = small_model().predict(&House::default());
    assert!(
        prediction.price.is_finite() && prediction.price > 0.0,
        "{prediction:?}"
    );
    assert!(prediction.low.is_finite() && prediction.low > 0.0);
    assert!(prediction.high.is_finite() && prediction.high > prediction.low);
    assert!(prediction.low <= prediction.price && prediction.price <= prediction.high);
}

#[test]
fn feature_vector_length_equals_feature_names_length() {
    let model = small_model();
    let names = model.pipeline.feature_names();
    assert_eq!(names.len(), model.pipeline.features.len());
    let linear = model
        .estimator
        .linear
        .as_ref()
        .expect("the blend has a linear part");
    assert_eq!(names.len(), linear.weights.len());
    let mut buffer = vec![f64::NAN; 3];
    for row in set_a().iter().chain(&set_b()).chain(&[House::default()]) {
        model.pipeline.encode_into(row, &mut buffer);
        assert_eq!(buffer.len(), names.len());
    }
    let small = fit(&set_a());
    let (features, _) = small.encode(&set_b()[0]);
    assert_eq!(features.len(), small.feature_names().len());
}

#[test]
fn lot_frontage_is_imputed_by_neighbourhood_median() {
    let pipeline = fit(&set_a());
    let medians = &pipeline.imputer.lot_frontage_by_neighborhood;
    assert_eq!(medians.get("CollgCr"), Some(&70.0));
    assert_eq!(medians.get("OldTown"), Some(&45.0));

    let encode_pair = |neighborhood: &str, frontage: f64| {
        let gap = house(json!({"Neighborhood": neighborhood}));
        let given = house(json!({"Neighborhood": neighborhood, "LotFrontage": frontage}));
        let (gap_features, gap_report) = pipeline.encode(&gap);
        assert!(gap_report.imputed.contains(&"LotFrontage"));
        (gap_features, pipeline.encode(&given).0)
    };
    let (gap, given) = encode_pair("OldTown", 45.0);
    assert_eq!(gap, given, "OldTown gap filled with its own median");
    let (gap, given) = encode_pair("CollgCr", 70.0);
    assert_eq!(gap, given, "CollgCr gap filled with its own median");
    // A neighbourhood without training frontages falls back to the overall median.
    let (gap, given) = encode_pair("NoRidge", 60.0);
    assert_eq!(gap, given, "unknown neighbourhood uses the overall median");
}
