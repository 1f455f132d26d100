//! What the pipeline's stages run with is what the run says: the parent's `--target` reaches
//! the stage commands (an amesops.toml saying aws does not win over `--target local`), the
//! project root is found from any subfolder (config, state, lock, deploy record), `fetch
//! --source bundled` reads the project's datasets/ames.csv (the declared dependency), and train
//! refuses to run when this binary was built from other core-model sources than the project's.
//!
//! Needs `dvc` and `git` on PATH (scripts/test provides them).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;

use serde_json::Value as Json;
use support::{BIN, Repo};

fn live_version(repo: &Repo) -> Option<u64> {
    let record: Json =
        serde_json::from_slice(&repo.read(".amesops/deployments/deploy.json")).ok()?;
    record["live"].as_u64()
}

#[test]
fn the_target_flag_reaches_the_stage_commands() {
    let repo = Repo::pipeline();
    // The file says aws (a cross-compiled Lambda package, a deploy to AWS); the flag says local.
    repo.write("amesops.toml", "target = \"aws\"\n");
    let run = repo
        .amesops(&["--target", "local", "pipeline", "run", "--yes"])
        .ok();
    assert!(run.stdout.contains("[deploy] finished"), "{}", run.report());
    assert_eq!(
        live_version(&repo),
        Some(1),
        "deployed locally: {}",
        run.report()
    );
    let manifest: Json = serde_json::from_slice(&repo.read("dist/package.json")).unwrap();
    assert_eq!(manifest["target"], "local", "packaged for the local target");
}

#[test]
fn config_state_and_records_are_found_from_a_subfolder() {
    let repo = Repo::pipeline();
    repo.amesops(&["pipeline", "run", "package"]).ok();
    std::fs::create_dir_all(repo.path().join("notebooks/deep")).unwrap();
    let sub = repo.path().join("notebooks/deep");
    let ran = repo.run_with(
        Path::new("/bin/sh"),
        &[
            "-c",
            &format!("cd '{}' && '{BIN}' deploy --yes", sub.display()),
        ],
        &[],
    );
    assert_eq!(ran.code, Some(0), "{}", ran.report());
    assert_eq!(live_version(&repo), Some(1));
    assert!(
        repo.path().join("deploy.json").is_file(),
        "the record is at the root"
    );
    assert!(!sub.join(".amesops").exists(), "no state in the subfolder");
    let status = repo.run_with(
        Path::new("/bin/sh"),
        &[
            "-c",
            &format!("cd '{}' && '{BIN}' status --json", sub.display()),
        ],
        &[],
    );
    let status: Json = serde_json::from_str(status.stdout.trim()).unwrap();
    assert_eq!(status["deployment"]["alias_version"], "1");
    // The configuration at the root applies in the subfolder too.
    repo.write("amesops.toml", "read_only = true\n");
    let refused = repo.run_with(
        Path::new("/bin/sh"),
        &[
            "-c",
            &format!("cd '{}' && '{BIN}' deploy --yes", sub.display()),
        ],
        &[],
    );
    assert_eq!(refused.code, Some(1), "{}", refused.report());
    assert!(refused.stderr.contains("read-only"), "{}", refused.report());
}

#[test]
fn fetch_bundled_reads_the_declared_dataset_file() {
    let repo = Repo::pipeline();
    let text = String::from_utf8(repo.read("datasets/ames.csv")).unwrap();
    let kept: Vec<&str> = text.lines().take(101).collect();
    repo.write("datasets/ames.csv", &(kept.join("\n") + "\n"));
    repo.amesops(&["fetch", "--out", "data/ames.csv"]).ok();
    let fetched = String::from_utf8(repo.read("data/ames.csv")).unwrap();
    assert_eq!(
        fetched.lines().count(),
        101,
        "100 houses of the edited dataset, not the copy built into the binary"
    );
    // A project that declares the dataset and lost it is an error, not the built-in copy.
    repo.remove("datasets/ames.csv");
    let missing = repo.amesops(&["fetch", "--out", "data/ames.csv"]);
    assert_eq!(missing.code, Some(1), "{}", missing.report());
    assert!(
        missing.stderr.contains("datasets/ames.csv"),
        "{}",
        missing.report()
    );
}

#[test]
fn train_refuses_core_model_sources_other_than_the_binarys() {
    let repo = Repo::pipeline();
    repo.amesops(&["pipeline", "run", "split"]).ok();
    repo.append(
        "core-model/src/lib.rs",
        "\n// an edit this binary was not built from\n",
    );
    let refused = repo.amesops(&[
        "train",
        "--data",
        "data/train.csv",
        "--out",
        "models/model.json",
    ]);
    assert_eq!(refused.code, Some(1), "{}", refused.report());
    assert!(
        refused
            .stderr
            .contains("built from other core-model sources"),
        "{}",
        refused.report()
    );
    assert!(
        !repo.path().join("models/model.json").exists(),
        "nothing trained"
    );
    // dvc records nothing for the train stage either.
    let repro = repo.dvc(&["repro", "train"]);
    assert_ne!(repro.code, Some(0), "{}", repro.report());
}
