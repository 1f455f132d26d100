//! The local deployer's proofs about production and its refusals.

use super::*;

fn request(model: &Path) -> DeployRequest {
    DeployRequest {
        source: Source::Model {
            model: model.to_path_buf(),
            package: PathBuf::from("dist/predictor.zip"),
        },
        options: Default::default(),
    }
}

#[tokio::test]
async fn production_is_nothing_only_when_nothing_was_ever_deployed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deployer = LocalDeployer::new(dir.path().join("deployments"), None, String::new());
    assert_eq!(
        deployer.read_production().expect("readable"),
        Production::Nothing
    );

    let model = crate::test_fixtures::write_model(dir.path());
    let candidate = deployer
        .read_candidate(&request(&model))
        .expect("candidate");
    deployer
        .deploy(&request(&model), &candidate.sha256, &|_| {})
        .await
        .expect("deployed");
    match deployer.read_production().expect("readable") {
        Production::Serving(served) => assert_eq!(served.model_id, candidate.model_id),
        other => panic!("expected the live version, got {other:?}"),
    }

    // The deployed artifact altered: unreadable, never "nothing".
    std::fs::write(deployer.model_path(1), b"{}").expect("alter");
    let error = deployer.read_production().expect_err("altered");
    assert!(matches!(error, DeployError::Altered { .. }), "{error}");
    assert!(error.to_string().contains("altered"), "{error}");
    // Removed: unreadable too.
    std::fs::remove_file(deployer.model_path(1)).expect("remove");
    let error = deployer.read_production().expect_err("removed");
    assert!(
        matches!(&error, DeployError::File { path, .. } if *path == deployer.model_path(1)),
        "{error}"
    );
    assert!(error.to_string().contains("removed"), "{error}");
    // The record removed while versions exist: unreadable.
    std::fs::remove_file(deployer.record_path()).expect("remove the record");
    assert!(deployer.read_production().is_err());
}

#[tokio::test]
async fn a_deploy_refuses_a_candidate_other_than_the_one_judged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let deployer = LocalDeployer::new(dir.path().join("deployments"), None, String::new());
    let model = crate::test_fixtures::write_model(dir.path());
    let error = deployer
        .deploy(&request(&model), "0000", &|_| {})
        .await
        .expect_err("another sha");
    assert!(
        matches!(error, DeployError::CandidateChanged { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("changed since the gate"),
        "{error}"
    );
    assert_eq!(
        deployer.read_production().expect("readable"),
        Production::Nothing
    );
}
