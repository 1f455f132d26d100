//! `amesops data push` then `amesops data pull` against a real moto S3 server: the data and
//! the model come back byte for byte, and the reports say how many files moved.
//!
//! Needs `dvc`, `git` and `moto_server` on PATH (scripts/test provides them); without them the
//! tests fail.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use crate::support::aws::TEST_CREDENTIAL;
use crate::support::servers::{MotoServer, http_request};
use serde_json::json;
use support::Repo;

/// The pipeline outputs DVC caches (metrics and plots are `cache: false`).
const CACHED: [&str; 5] = [
    "data/ames.csv",
    "data/fetch-report.json",
    "data/train.csv",
    "data/test.csv",
    "models/model.json",
];

#[test]
fn pushed_data_and_model_pull_back_byte_identical() {
    let moto = MotoServer::start();
    let address = SocketAddr::from(([127, 0, 0, 1], moto.port()));
    // The remote of .dvc/config is s3://amesops-data/dvc.
    let (code, body) = http_request(
        address,
        "PUT",
        "/amesops-data",
        &[],
        b"",
        Duration::from_secs(10),
    )
    .expect("create the bucket on moto");
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));

    let repo = Repo::pipeline();
    let endpoint = moto.endpoint();
    for (option, value) in [
        ("endpointurl", endpoint.as_str()),
        ("access_key_id", TEST_CREDENTIAL),
        ("secret_access_key", TEST_CREDENTIAL),
    ] {
        repo.dvc(&["remote", "modify", "--local", "storage", option, value])
            .ok();
    }
    repo.dvc(&["repro", "-q"]).ok();
    let originals: Vec<Vec<u8>> = CACHED.iter().map(|path| repo.read(path)).collect();

    let push = repo.amesops(&["data", "push"]).ok();
    assert!(
        push.stdout
            .contains("5 files pushed to storage (s3://amesops-data/dvc)"),
        "{}\nmoto:\n{}",
        push.report(),
        moto.log_tail(2000)
    );
    let again = repo.amesops(&["data", "push", "--remote", "storage"]).ok();
    assert!(
        again.stdout.contains("everything is up to date on storage"),
        "{}",
        again.report()
    );

    for folder in ["data", "models", ".dvc/cache"] {
        repo.remove(folder);
    }
    let pull = repo.amesops(&["data", "pull"]).ok();
    assert!(
        pull.stdout
            .contains("5 files fetched, 5 files added from storage"),
        "{}",
        pull.report()
    );
    assert!(
        pull.stdout.contains("added: data/ames.csv"),
        "{}",
        pull.report()
    );
    for (path, original) in CACHED.iter().zip(&originals) {
        assert!(
            repo.read(path) == *original,
            "{path} differs after the pull"
        );
    }
    assert_eq!(repo.dvc_status(), json!({}));
    assert_eq!(repo.amesops_status(), json!({}));
}

#[test]
fn a_push_to_an_unknown_remote_fails_with_dvc_s_reason() {
    let repo = Repo::dvc_init();
    repo.write("dvc.yaml", "stages: {}\n");
    let run = repo.amesops(&["data", "push", "--remote", "nowhere"]);
    assert_eq!(run.code, Some(1), "{}", run.report());
    assert!(run.stderr.contains("dvc push failed"), "{}", run.report());
    assert!(run.stderr.contains("nowhere"), "{}", run.report());
}

#[test]
fn read_only_mode_refuses_to_move_data() {
    let repo = Repo::dvc_init();
    repo.write("dvc.yaml", "stages: {}\n");
    for direction in ["push", "pull"] {
        let run = repo.amesops(&["--read-only", "data", direction]);
        assert_eq!(run.code, Some(1), "{}", run.report());
        assert!(run.stderr.contains("read-only"), "{}", run.report());
    }
}
