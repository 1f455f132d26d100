//! Fixtures: the workspace's paths, the bundled data, and a model trained on it once per
//! process (as bytes, as a file, ready to serve, behind a router state).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use core_model::artifact::Artifact;
use core_model::{Table, TrainParams, digest};
use predictor::state::{AppState, ServedModel};
use predictor::store::PredictionStore;

/// The workspace root (the folder holding `datasets/`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The bundled Kaggle training data, `datasets/ames.csv`.
pub fn bundled_csv() -> PathBuf {
    project_root().join("datasets").join("ames.csv")
}

/// The artifact bytes of a model trained with default parameters on `datasets/ames.csv`;
/// trained once per process.
pub fn trained_model_bytes() -> &'static [u8] {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(train_bundled)
}

fn train_bundled() -> Vec<u8> {
    let path = bundled_csv();
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let dataset = Table::read(data.as_slice())
        .and_then(Table::into_dataset)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let params = TrainParams::default();
    let trained = core_model::train::train(&dataset, &params, &mut |_| {})
        .unwrap_or_else(|e| panic!("training on {} failed: {e}", path.display()));
    let artifact = Artifact::from_trained(
        trained,
        params,
        predictor::record::rfc3339_micros(time::OffsetDateTime::now_utc()),
        digest::md5_hex(&data),
    )
    .with_reference(&dataset);
    artifact.to_bytes().expect("serialise the trained model")
}

/// The trained model, ready to serve.
pub fn served_model() -> ServedModel {
    ServedModel::from(
        Artifact::from_bytes(trained_model_bytes()).expect("the trained model loads back"),
    )
}

/// Writes the trained model to `dir/model.json` and returns the path.
pub fn write_model(dir: &Path) -> PathBuf {
    let path = dir.join("model.json");
    std::fs::write(&path, trained_model_bytes())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// Router state serving the trained model into `store`.
pub fn app_state(store: impl PredictionStore + 'static) -> AppState {
    AppState::new(served_model(), Box::new(store))
}
