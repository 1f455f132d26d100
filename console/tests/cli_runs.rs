//! Experiment tracking through the real `amesops` binary with the local SQLite store: `train`
//! logs a run and stores its id in the model, `evaluate` adds test metrics, `runs` lists and
//! compares, and a tracker outage never costs the model.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;
use support::{BIN, describe, project_root};

/// A scratch project with the project's params.yaml, fetched and split (fast, 2-fold CV).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let params = std::fs::read_to_string(project_root().join("params.yaml")).unwrap();
    std::fs::write(
        dir.path().join("params.yaml"),
        params.replace("cv_folds: 5", "cv_folds: 2"),
    )
    .unwrap();
    succeed(dir.path(), &["fetch"]);
    succeed(dir.path(), &["split"]);
    dir
}

fn amesops(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env_remove("MLFLOW_TRACKING_URI")
        .env_remove("MLFLOW_EXPERIMENT_NAME")
        .stdin(Stdio::null())
        .output()
        .expect("run amesops")
}

fn succeed(dir: &Path, args: &[&str]) -> Output {
    let output = amesops(dir, args);
    assert!(
        output.status.success(),
        "expected success:\n{}",
        describe(args, &output)
    );
    output
}

fn model_run_id(dir: &Path) -> Option<String> {
    let model: Json =
        serde_json::from_slice(&std::fs::read(dir.join("models/model.json")).unwrap()).unwrap();
    model["run_id"].as_str().map(String::from)
}

fn runs_json(dir: &Path, extra: &[&str]) -> Vec<Json> {
    let mut args = vec!["runs", "--json", "--tracker", "sqlite"];
    args.extend_from_slice(extra);
    let output = succeed(dir, &args);
    serde_json::from_slice::<Vec<Json>>(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "runs --json is not a JSON list ({e}):\n{}",
            describe(&args, &output)
        )
    })
}

#[test]
fn train_logs_a_run_that_runs_lists_and_the_model_names() {
    let dir = project();
    let d = dir.path();
    let train = succeed(d, &["train", "--tracker", "sqlite"]);
    assert!(
        !String::from_utf8_lossy(&train.stderr).contains("warning"),
        "{}",
        describe(&["train"], &train)
    );
    assert!(
        d.join(".amesops/tracking.db").is_file(),
        "the default store is .amesops/tracking.db"
    );
    let run_id = model_run_id(d).expect("the model stores its run id");

    let runs = runs_json(d, &[]);
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run["info"]["run_id"], run_id.as_str());
    assert_eq!(run["info"]["status"], "FINISHED");
    assert_eq!(run["params"]["train.alpha"], "0.0005");
    assert_eq!(run["params"]["train.cv_folds"], "2");
    assert_eq!(run["params"]["split.test_fraction"], "0.2");
    assert!(
        run["params"]["data.md5"]
            .as_str()
            .is_some_and(|m| m.len() == 32)
    );
    assert!(
        run["metrics"]["cv_rmse_log"]["value"]
            .as_f64()
            .is_some_and(|v| v > 0.05 && v < 0.2)
    );
    assert_eq!(
        run["metrics"]["cv_fold_rmse_log"]["step"], 2,
        "one step per fold"
    );
    for tag in ["host", "user", "amesops.version", "amesops.model_id"] {
        assert!(run["tags"][tag].is_string(), "tag {tag} missing: {run:#}");
    }
    let model = std::fs::read(d.join("models/model.json")).unwrap();
    let stored = d.join(format!(".amesops/artifacts/{run_id}/model/model.json"));
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        model,
        "the run holds the saved model"
    );

    succeed(d, &["evaluate", "--tracker", "sqlite"]);
    let run = &runs_json(d, &[])[0];
    assert!(
        run["metrics"]["test_rmse_log"]["value"]
            .as_f64()
            .is_some_and(|v| v > 0.05 && v < 0.3)
    );
    assert!(
        d.join(format!(".amesops/artifacts/{run_id}/plots/predictions.csv"))
            .is_file(),
        "the plot data is a run artifact"
    );
}

#[test]
fn runs_sorts_filters_and_compares() {
    let dir = project();
    let d = dir.path();
    succeed(d, &["train"]);
    let first = model_run_id(d).unwrap();
    let params = std::fs::read_to_string(d.join("params.yaml")).unwrap();
    std::fs::write(
        d.join("params.yaml"),
        params.replace("alpha: 0.0005", "alpha: 0.01"),
    )
    .unwrap();
    succeed(d, &["train"]);
    let second = model_run_id(d).unwrap();

    let sorted: Vec<String> = runs_json(d, &["--sort", "cv_rmse_log"])
        .iter()
        .map(|r| {
            r["metrics"]["cv_rmse_log"]["value"]
                .as_f64()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut expected = sorted.clone();
    expected.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse().unwrap()));
    assert_eq!(sorted, expected, "--sort orders by the metric, ascending");

    let filtered = runs_json(d, &["--filter", "params.train.alpha = '0.01'"]);
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0]["info"]["run_id"], second.as_str());
    assert_eq!(runs_json(d, &["--limit", "1"]).len(), 1);

    let table = String::from_utf8(succeed(d, &["runs"]).stdout).unwrap();
    assert!(
        table.contains(&first[..8]) && table.contains(&second[..8]),
        "{table}"
    );
    assert!(table.contains("cv_rmse_log"), "{table}");

    let compared = succeed(d, &["runs", "compare", &first[..8], &second]);
    let text = String::from_utf8(compared.stdout).unwrap();
    let alpha_line = text
        .lines()
        .find(|l| l.starts_with("train.alpha"))
        .unwrap_or_else(|| panic!("no train.alpha row:\n{text}"));
    assert!(
        alpha_line.contains("0.0005") && alpha_line.contains("0.01"),
        "{alpha_line}"
    );
    assert!(
        alpha_line.trim_end().ends_with('*'),
        "a differing param is marked: {alpha_line}"
    );
    let seed_line = text.lines().find(|l| l.starts_with("train.seed")).unwrap();
    assert!(!seed_line.trim_end().ends_with('*'), "{seed_line}");
    let rmse_line = text.lines().find(|l| l.starts_with("cv_rmse_log")).unwrap();
    assert!(
        rmse_line.contains('%'),
        "metric deltas are shown: {rmse_line}"
    );

    let typo = amesops(d, &["runs", "--sort", "bogus"]);
    assert!(!typo.status.success());
    let stderr = String::from_utf8_lossy(&typo.stderr);
    assert!(
        stderr.contains("\"bogus\"") && stderr.contains("cv_rmse_log"),
        "{stderr}"
    );

    let bad = amesops(d, &["runs", "--filter", "metrics.cv_rmse_log <"]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("expected"),
        "{}",
        describe(&["runs", "--filter", "…"], &bad)
    );
}

/// The outbox's entries: (folder name, entry.json).
fn outbox(dir: &Path) -> Vec<(String, Json)> {
    let Ok(listing) = std::fs::read_dir(dir.join(".amesops/outbox")) else {
        return Vec::new();
    };
    let mut entries: Vec<(String, Json)> = listing
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("entry.json").is_file())
        .map(|p| {
            let entry =
                serde_json::from_slice(&std::fs::read(p.join("entry.json")).unwrap()).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), entry)
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

#[test]
fn a_run_whose_tracker_is_out_of_reach_waits_in_the_outbox_and_the_model_is_saved() {
    let dir = project();
    let d = dir.path();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("http://127.0.0.1:{port}");
    let output = succeed(d, &["train", "--tracker", &uri]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("warning")).collect();
    assert_eq!(warnings.len(), 1, "one line says so: {stderr}");
    assert!(
        warnings[0].contains(&uri) && warnings[0].contains(".amesops/outbox"),
        "the line names the tracker and the outbox: {stderr}"
    );
    assert!(d.join("models/model.json").is_file(), "the model is saved");
    let run_id = model_run_id(d).expect("the model names the queued run");
    let entries = outbox(d);
    assert_eq!(entries.len(), 1, "{entries:?}");
    let (name, entry) = &entries[0];
    assert!(name.ends_with(&run_id), "{name}");
    assert_eq!(entry["tracker"], uri.as_str());
    assert_eq!(entry["run_id"], run_id.as_str());
    assert!(
        entry["create"]["start_time"]
            .as_i64()
            .is_some_and(|t| t > 0)
    );
    let ops: Vec<&str> = entry["ops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|op| op["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["log_batch", "upload", "end"]);
    assert_eq!(
        std::fs::read(
            d.join(".amesops/outbox")
                .join(name)
                .join("files/model/model.json")
        )
        .unwrap(),
        std::fs::read(d.join("models/model.json")).unwrap(),
        "the outbox keeps the model file"
    );

    let output = succeed(d, &["evaluate", "--tracker", &uri]);
    assert!(d.join("metrics.json").is_file());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&run_id) && stderr.contains("outbox"),
        "{stderr}"
    );
    let entries = outbox(d);
    assert_eq!(entries.len(), 1, "evaluate joins the run's entry");
    assert_eq!(entries[0].1["ops"].as_array().unwrap().len(), 6);

    // Still down: sync keeps it and says so; another tracker is pointed at.
    let sync = amesops(d, &["runs", "sync", "--tracker", &uri]);
    assert!(
        !sync.status.success(),
        "{}",
        describe(&["runs", "sync"], &sync)
    );
    assert!(String::from_utf8_lossy(&sync.stdout).contains("1 still waiting"));
    assert_eq!(outbox(d).len(), 1);
    let kept = &outbox(d)[0].1;
    assert!(
        kept["attempts"].as_u64().is_some_and(|n| n >= 1),
        "{kept:#}"
    );
    assert!(
        kept["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(&uri)),
        "the entry says why it waits: {kept:#}"
    );
    let local = succeed(d, &["runs", "sync", "--tracker", "sqlite"]);
    assert!(
        String::from_utf8_lossy(&local.stderr).contains(&uri),
        "{}",
        describe(&["runs", "sync"], &local)
    );
    let listed = succeed(d, &["runs", "--tracker", "sqlite"]);
    assert!(
        String::from_utf8_lossy(&listed.stderr).contains("1 run waiting to sync"),
        "{}",
        describe(&["runs"], &listed)
    );

    // --all sends it to the local store, with its original start time.
    succeed(d, &["runs", "sync", "--tracker", "sqlite", "--all"]);
    assert!(outbox(d).is_empty());
    let runs = runs_json(d, &[]);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["tags"]["amesops.origin_run_id"], run_id.as_str());
    assert_eq!(runs[0]["info"]["start_time"], entry["create"]["start_time"]);
    assert_eq!(runs[0]["info"]["status"], "FINISHED");
    assert!(runs[0]["metrics"]["test_rmse_log"]["value"].is_f64());

    let output = succeed(d, &["train", "--tracker", "none"]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("warning"));
}

#[test]
fn push_refuses_to_copy_a_store_onto_itself() {
    let dir = tempfile::tempdir().unwrap();
    let output = amesops(dir.path(), &["runs", "push", "--to", "sqlite"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("same store"),
        "{}",
        describe(&["runs", "push"], &output)
    );
}
