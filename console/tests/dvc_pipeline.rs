//! The DVC pipeline of dvc.yaml, run by the real `dvc` on a copy of the project.
//!
//! Needs `dvc` and `git` on PATH: scripts/test installs dvc (scripts/requirements.txt) into a
//! venv and puts it there. Without them this test fails; it never passes silently.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;

const BIN: &str = env!("CARGO_BIN_EXE_amesops");

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The full path of a program on PATH; a missing tool fails the test with what to do.
fn require(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{program}` is not on PATH. Run the tests with scripts/test, which installs \
                 dvc (scripts/requirements.txt) into a venv and puts it on PATH \
                 (or activate that venv: ~/.cache/amesops/venv-*/bin)."
            )
        })
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("list {}: {e}", from.display()))
    {
        let entry = entry.expect("directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            copy_file(&entry.path(), &target);
        }
    }
}

/// Copies a file (keeping its permissions, so scripts stay executable).
fn copy_file(from: &Path, to: &Path) {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).expect("create parent folder");
    }
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
}

/// A copy of what the pipeline needs, as its own git repository.
fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("create a temporary folder");
    let root = project_root();
    let d = dir.path();
    for file in [
        "dvc.yaml",
        "params.yaml",
        "scripts/amesops",
        ".dvc/config",
        ".dvc/.gitignore",
    ] {
        copy_file(&root.join(file), &d.join(file));
    }
    for folder in ["datasets", "core-model/src"] {
        copy_tree(&root.join(folder), &d.join(folder));
    }
    // DVC's per-repository state (locks, indexes) stays inside the copy.
    std::fs::write(
        d.join(".dvc/config.local"),
        format!(
            "[core]\n    site_cache_dir = {}\n",
            d.join(".dvc/site-cache").display()
        ),
    )
    .expect("write .dvc/config.local");
    run(d, &require("git"), &["init", "-q"]);
    dir
}

fn describe(program: &Path, args: &[&str], output: &Output) -> String {
    format!(
        "{} {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
        program.display(),
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs a program that must succeed; returns its standard output.
fn run(dir: &Path, program: &Path, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("AMESOPS_BIN", BIN)
        .env("DVC_NO_ANALYTICS", "1")
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "failed:\n{}",
        describe(program, args, &output)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

fn status(dir: &Path, dvc: &Path) -> Json {
    let stdout = run(dir, dvc, &["status", "--json"]);
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("dvc status --json printed no JSON ({e}):\n{stdout}"))
}

#[test]
fn dvc_repro_runs_every_stage_and_tracks_parameters() {
    let dvc = require("dvc");
    let dir = project_copy();
    let d = dir.path();

    run(d, &dvc, &["repro"]);

    let lock: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(d.join("dvc.lock")).expect("dvc.lock"))
            .expect("dvc.lock is YAML");
    for stage in ["fetch", "split", "train", "evaluate"] {
        assert!(
            lock["stages"].get(stage).is_some(),
            "dvc.lock has no stage {stage}:\n{lock:?}"
        );
    }
    assert!(d.join("models/model.json").is_file());
    let metrics: Json =
        serde_json::from_str(&std::fs::read_to_string(d.join("metrics.json")).expect("metrics"))
            .expect("metrics.json is JSON");
    assert!(metrics["rmse_log"].is_f64(), "{metrics}");
    assert_eq!(
        status(d, &dvc),
        serde_json::json!({}),
        "everything is up to date after repro"
    );

    // A new training parameter makes exactly the train stage stale.
    let params_path = d.join("params.yaml");
    let params = std::fs::read_to_string(&params_path).expect("params.yaml");
    let alpha_lines: Vec<&str> = params
        .lines()
        .filter(|line| line.trim_start().starts_with("alpha:"))
        .collect();
    assert_eq!(alpha_lines.len(), 1, "one train.alpha in params.yaml");
    let alpha: f64 = alpha_lines[0]
        .trim_start()
        .trim_start_matches("alpha:")
        .split('#')
        .next()
        .unwrap_or_default()
        .trim()
        .parse()
        .expect("train.alpha is a number");
    let changed = params.replace(alpha_lines[0], &format!("  alpha: {}", alpha * 2.0));
    std::fs::write(&params_path, changed).expect("write params.yaml");

    let stale = status(d, &dvc);
    let stages: Vec<&String> = stale.as_object().expect("a JSON object").keys().collect();
    assert_eq!(stages, ["train"], "{stale}");
    let changes = stale["train"].as_array().expect("a list of changes");
    let changed_params = changes
        .iter()
        .filter_map(|change| change["changed deps"]["params.yaml"].as_object())
        .next()
        .unwrap_or_else(|| panic!("train's params are not reported as changed: {stale}"));
    assert!(
        changed_params
            .iter()
            .any(|(name, how)| name.starts_with("train") && how == "modified"),
        "{stale}"
    );
}
