//! The repository's `params.yaml` trains with the defaults, so `amesops train` with or without
//! it builds the same model.

use core_model::TrainParams;

const PARAMS_YAML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../params.yaml");

#[test]
fn the_train_section_of_params_yaml_is_the_default() {
    let text = std::fs::read_to_string(PARAMS_YAML).expect("params.yaml reads");
    let document: serde_yaml::Value = serde_yaml::from_str(&text).expect("valid YAML");
    let train = document.get("train").expect("a train section").clone();
    let params: TrainParams = serde_yaml::from_value(train).expect("valid train parameters");
    assert_eq!(params, TrainParams::default());
}
