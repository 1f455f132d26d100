//! The model artifact: saved and loaded bit-exactly, identified by its sha256, versioned.

use std::sync::OnceLock;

use core_model::artifact::{ArtifactError, FORMAT_VERSION};
use core_model::{Artifact, Dataset, Table, TrainParams, digest, train};
use serde_json::Value as Json;

const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");

struct Fixture {
    dataset: Dataset,
    artifact: Artifact,
}

/// The snapshot, and an artifact of a model trained on its first 400 rows.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let bytes = std::fs::read(AMES_CSV).expect("snapshot exists");
        let dataset = Table::read(bytes.as_slice())
            .expect("snapshot reads")
            .into_dataset()
            .expect("snapshot is a valid dataset");
        let params = TrainParams {
            cv_folds: 3,
            ..TrainParams::default()
        };
        let first: Vec<usize> = (0..400).collect();
        let trained =
            train::train(&dataset.select(&first), &params, &mut |_| {}).expect("training works");
        let artifact = Artifact::from_trained(
            trained,
            params,
            "2024-01-01T00:00:00Z".to_string(),
            digest::md5_hex(&bytes),
        );
        Fixture { dataset, artifact }
    })
}

/// The artifact's JSON with one edit applied, as bytes.
fn edited(edit: impl FnOnce(&mut serde_json::Map<String, Json>)) -> Vec<u8> {
    let bytes = fixture().artifact.to_bytes().expect("artifact serialises");
    let mut json: Json = serde_json::from_slice(&bytes).expect("artifact is JSON");
    let Json::Object(map) = &mut json else {
        panic!("artifact is not a JSON object");
    };
    edit(map);
    serde_json::to_vec(&json).expect("JSON serialises")
}

#[test]
fn saved_and_loaded_model_predicts_every_row_bit_identically() {
    let fixture = fixture();
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("nested").join("model.json");
    fixture.artifact.save(&path).expect("artifact saves");
    let loaded = Artifact::load(&path).expect("artifact loads");
    assert_eq!(loaded.artifact, fixture.artifact);

    let before = &fixture.artifact.model;
    let after = &loaded.artifact.model;
    assert_eq!(fixture.dataset.len(), 1460);
    for (row, house) in fixture.dataset.houses.iter().enumerate() {
        let (b, a) = (before.predict(house), after.predict(house));
        assert_eq!(b.price.to_bits(), a.price.to_bits(), "row {row}");
        assert_eq!(b.low.to_bits(), a.low.to_bits(), "row {row}");
        assert_eq!(b.high.to_bits(), a.high.to_bits(), "row {row}");
        assert_eq!(b.report, a.report, "row {row}");
    }
}

#[test]
fn model_id_is_the_first_twelve_hex_digits_of_the_file_sha256() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("model.json");
    let id = fixture().artifact.save(&path).expect("artifact saves");
    let sha256 = digest::sha256_hex(&std::fs::read(&path).expect("saved file reads"));
    assert_eq!(id.len(), 12);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(id, sha256[..12]);
    let loaded = Artifact::load(&path).expect("artifact loads");
    assert_eq!(loaded.id, id);
    assert_eq!(loaded.sha256, sha256);
}

#[test]
fn saving_the_same_artifact_twice_gives_the_same_id() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let first = fixture()
        .artifact
        .save(&dir.path().join("a.json"))
        .expect("artifact saves");
    let second = fixture()
        .artifact
        .save(&dir.path().join("b.json"))
        .expect("artifact saves");
    assert_eq!(first, second);
}

#[test]
fn unknown_format_version_is_refused_naming_the_version() {
    let bytes = edited(|map| {
        map.insert("format_version".to_string(), Json::from(99));
    });
    match Artifact::from_bytes(&bytes) {
        Err(error @ ArtifactError::UnknownFormat { found: 99 }) => {
            let message = error.to_string();
            assert!(message.contains("99"), "{message}");
            assert!(message.contains(&FORMAT_VERSION.to_string()), "{message}");
        }
        other => panic!("expected UnknownFormat 99, got {other:?}"),
    }
}

#[test]
fn missing_format_version_is_invalid() {
    let bytes = edited(|map| {
        map.remove("format_version");
    });
    match Artifact::from_bytes(&bytes) {
        Err(ArtifactError::Invalid(message)) => {
            assert!(message.contains("format_version"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn non_json_bytes_are_invalid() {
    assert!(matches!(
        Artifact::from_bytes(b"not json at all"),
        Err(ArtifactError::Invalid(_))
    ));
}

#[test]
fn weights_that_do_not_match_the_features_are_invalid() {
    let bytes = edited(|map| {
        let weights = map
            .get_mut("model")
            .and_then(|m| m.get_mut("estimator"))
            .and_then(|e| e.get_mut("linear"))
            .and_then(|e| e.get_mut("weights"))
            .and_then(Json::as_array_mut)
            .expect("artifact has model.estimator.linear.weights");
        weights.pop();
    });
    match Artifact::from_bytes(&bytes) {
        Err(ArtifactError::Invalid(message)) => assert!(message.contains("weights"), "{message}"),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn missing_file_is_an_io_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("absent.json");
    match Artifact::load(&path) {
        Err(error @ ArtifactError::Io { .. }) => {
            assert!(error.to_string().contains("absent.json"), "{error}");
        }
        other => panic!("expected Io, got {other:?}"),
    }
}

#[test]
fn verify_accepts_the_model_id_and_rejects_another() {
    let bytes = fixture().artifact.to_bytes().expect("artifact serialises");
    let loaded = Artifact::from_bytes(&bytes).expect("artifact loads");
    loaded.verify(&loaded.id).expect("own id verifies");
    loaded.verify(&loaded.sha256).expect("own sha256 verifies");
    loaded
        .verify(&loaded.id.to_ascii_uppercase())
        .expect("id is case-insensitive");

    let other = if loaded.id.starts_with('0') {
        "111111111111"
    } else {
        "000000000000"
    };
    match loaded.verify(other) {
        Err(ArtifactError::Mismatch { expected, actual }) => {
            assert_eq!(expected, other);
            assert_eq!(actual, loaded.sha256);
        }
        other => panic!("expected Mismatch, got {other:?}"),
    }
    assert!(loaded.verify("").is_err(), "an empty id verifies nothing");
}

#[test]
fn artifact_from_other_bytes_has_another_id() {
    let original = fixture().artifact.to_bytes().expect("artifact serialises");
    let changed = edited(|map| {
        map.insert("run_id".to_string(), Json::from("another-run"));
    });
    let a = Artifact::from_bytes(&original).expect("artifact loads");
    let b = Artifact::from_bytes(&changed).expect("edited artifact loads");
    assert_ne!(a.id, b.id);
    assert!(a.verify(&b.id).is_err());
}
