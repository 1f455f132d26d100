//! One contract for both trackers: the same cases run against the embedded SQLite store and a
//! real MLflow 3.17.2 server (SQLite backend, artifacts in a moto S3 bucket through the
//! server's artifact proxy).
//!
//! Needs `mlflow` and `moto_server` on PATH (scripts/test installs them from
//! scripts/requirements.txt into a venv and puts it there). Without them the MLflow test fails;
//! it never passes silently. The server and moto run in their own process groups and are
//! killed, group and all, when the test ends or fails.

#![allow(clippy::unwrap_used)]

mod support;

use std::future::Future;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Instant;

use console::backend::tracker::{
    self, Batch, ErrorKind, KeyValue, Metric, MlflowTracker, NewRun, RunSearch, RunStatus,
    SqliteTracker, Tracker, TrackerError, now_millis,
};
use core_model::artifact::{Artifact, model_id};
use support::mlflow::MlflowStack;

const BIN: &str = env!("CARGO_BIN_EXE_amesops");

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs one named case and reports how long it took; a failure names the case and store.
async fn case<F: Future<Output = ()>>(store: &str, name: &str, body: F) {
    let started = Instant::now();
    eprintln!("[{store}] {name} ...");
    body.await;
    eprintln!(
        "[{store}] {name} ok in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

/// The whole contract, case by case, against one store.
async fn contract(store: &str, tracker: Arc<dyn Tracker>) {
    let t = tracker.as_ref();
    case(store, "run lifecycle", run_lifecycle(t)).await;
    case(store, "batch over the request limits", batch_limits(t)).await;
    case(store, "a param cannot change value", param_change_rule(t)).await;
    case(store, "search with filter and order", search(t)).await;
    case(store, "model artifact round trip", artifact_round_trip(t)).await;
    case(store, "production alias: set, move, roll back", registry(t)).await;
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

async fn new_run(t: &dyn Tracker, experiment: &str, name: &str) -> String {
    let experiment = t.experiment(experiment).await.unwrap();
    t.create_run(&NewRun {
        experiment_id: experiment.experiment_id,
        run_name: Some(name.into()),
        start_time: now_millis(),
        tags: vec![KeyValue::new("suite", "contract")],
    })
    .await
    .unwrap()
    .run_id
}

fn metric(key: &str, value: f64, step: i64) -> Metric {
    Metric {
        key: key.into(),
        value,
        timestamp: now_millis(),
        step,
    }
}

async fn run_lifecycle(t: &dyn Tracker) {
    let name = unique("lifecycle");
    let first = t.experiment(&name).await.unwrap();
    let again = t.experiment(&name).await.unwrap();
    assert_eq!(
        first.experiment_id, again.experiment_id,
        "get-or-create is idempotent"
    );
    assert_eq!(first.name, name);

    let start = now_millis();
    let info = t
        .create_run(&NewRun {
            experiment_id: first.experiment_id.clone(),
            run_name: Some("lifecycle-run".into()),
            start_time: start,
            tags: vec![KeyValue::new("host", "test-host")],
        })
        .await
        .unwrap();
    assert_eq!(info.status, RunStatus::Running);
    assert_eq!(info.run_name, "lifecycle-run");
    assert_eq!(info.experiment_id, first.experiment_id);
    assert_eq!(
        info.run_id.len(),
        32,
        "run ids are 32 hex digits: {}",
        info.run_id
    );
    assert_eq!(info.end_time, None);

    t.log_param(&info.run_id, "train.alpha", "0.0005")
        .await
        .unwrap();
    t.log_metric(&info.run_id, metric("cv_rmse_log", 0.12, 0))
        .await
        .unwrap();
    t.set_tag(&info.run_id, "stage", "train").await.unwrap();
    t.set_tag(&info.run_id, "stage", "evaluate").await.unwrap();

    let end = now_millis();
    let ended = t
        .update_run(&info.run_id, RunStatus::Finished, Some(end))
        .await
        .unwrap();
    assert_eq!(ended.status, RunStatus::Finished);
    assert_eq!(ended.end_time, Some(end));

    let run = t.get_run(&info.run_id).await.unwrap();
    assert_eq!(run.info.status, RunStatus::Finished);
    assert_eq!(run.info.start_time, start);
    assert_eq!(
        run.params.get("train.alpha").map(String::as_str),
        Some("0.0005")
    );
    assert_eq!(run.metric("cv_rmse_log"), Some(0.12));
    assert_eq!(
        run.tags.get("stage").map(String::as_str),
        Some("evaluate"),
        "tags can change"
    );
    assert_eq!(run.tags.get("host").map(String::as_str), Some("test-host"));
    assert_eq!(
        run.tags.get("mlflow.runName").map(String::as_str),
        Some("lifecycle-run")
    );

    let missing = t
        .get_run("0123456789abcdef0123456789abcdef")
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing}");
}

async fn batch_limits(t: &dyn Tracker) {
    let run_id = new_run(t, &unique("limits"), "limits").await;
    let now = now_millis();
    let batch = Batch {
        metrics: (0..2500)
            .map(|step| Metric {
                key: "loss".into(),
                value: 1.0 / (step as f64 + 1.0),
                timestamp: now + step,
                step,
            })
            .chain((0..150).map(|i| metric(&format!("m{i:03}"), i as f64, 0)))
            .collect(),
        params: (0..150)
            .map(|i| KeyValue::new(format!("p{i:03}"), i))
            .collect(),
        tags: (0..60)
            .map(|i| KeyValue::new(format!("t{i:03}"), i))
            .collect(),
    };
    assert!(batch.metrics.len() > tracker::MAX_METRICS_PER_REQUEST);
    assert!(batch.params.len() + batch.tags.len() > tracker::MAX_PARAMS_TAGS_PER_REQUEST);
    t.log_batch(&run_id, &batch).await.unwrap();

    let history = t.metric_history(&run_id, "loss").await.unwrap();
    assert_eq!(history.len(), 2500, "every value of the history is kept");
    assert!(
        history.iter().enumerate().all(|(i, m)| m.step == i as i64),
        "history is ordered by step"
    );
    let run = t.get_run(&run_id).await.unwrap();
    assert_eq!(
        run.metrics.get("loss").map(|m| m.step),
        Some(2499),
        "latest = highest step"
    );
    assert_eq!(run.metrics.len(), 151);
    assert_eq!(run.params.len(), 150);
    assert_eq!(run.params.get("p149").map(String::as_str), Some("149"));
    assert!(run.tags.keys().filter(|k| k.starts_with('t')).count() >= 60);
}

async fn param_change_rule(t: &dyn Tracker) {
    let run_id = new_run(t, &unique("params"), "params").await;
    t.log_param(&run_id, "train.alpha", "0.0005").await.unwrap();
    t.log_param(&run_id, "train.alpha", "0.0005")
        .await
        .expect("logging the same value again is allowed");
    let error: TrackerError = t
        .log_param(&run_id, "train.alpha", "0.001")
        .await
        .expect_err("changing a param's value is refused");
    assert_eq!(error.kind, ErrorKind::InvalidInput, "{error}");
    let message = error.to_string();
    assert!(
        message.contains("failed"),
        "the message names the call: {message}"
    );
    assert!(
        message.contains("train.alpha"),
        "the message names the param: {message}"
    );
    let run = t.get_run(&run_id).await.unwrap();
    assert_eq!(
        run.params.get("train.alpha").map(String::as_str),
        Some("0.0005")
    );
}

async fn search(t: &dyn Tracker) {
    let experiment_name = unique("search");
    let mut ids = Vec::new();
    for (name, rmse, alpha, team) in [
        ("a", 0.10, "0.0005", "x"),
        ("b", 0.20, "0.001", "y"),
        ("c", 0.15, "0.0005", "y"),
        ("d", 0.30, "0.01", "x"),
    ] {
        let run_id = new_run(t, &experiment_name, name).await;
        t.log_batch(
            &run_id,
            &Batch {
                metrics: vec![metric("rmse_log", rmse, 0)],
                params: vec![KeyValue::new("train.alpha", alpha)],
                tags: vec![KeyValue::new("team", team)],
            },
        )
        .await
        .unwrap();
        ids.push(run_id);
    }
    let no_metric = new_run(t, &experiment_name, "e").await;
    let experiment = t.experiment(&experiment_name).await.unwrap();
    let experiment_id = experiment.experiment_id.clone();
    let names = |filter: &'static str, order: &'static [&'static str], max: usize| {
        run_names(t, experiment_id.clone(), filter, order, max)
    };
    assert_eq!(
        names("metrics.rmse_log < 0.2", &["metrics.rmse_log ASC"], 100).await,
        ["a", "c"]
    );
    assert_eq!(
        names("", &["metrics.rmse_log DESC"], 100).await,
        ["d", "b", "c", "a", "e"],
        "runs without the metric come last"
    );
    assert_eq!(
        names("", &["metrics.rmse_log ASC"], 100).await,
        ["a", "c", "b", "d", "e"]
    );
    assert_eq!(
        names(
            "params.train.alpha = '0.0005' and metrics.rmse_log >= 0.15",
            &[],
            100
        )
        .await,
        ["c"]
    );
    assert_eq!(
        names("tags.team = 'x'", &["metrics.rmse_log ASC"], 100).await,
        ["a", "d"]
    );
    assert_eq!(
        names(
            "params.`train.alpha` != '0.0005'",
            &["metrics.rmse_log ASC"],
            100
        )
        .await,
        ["b", "d"]
    );
    assert_eq!(
        names("", &["metrics.rmse_log ASC"], 2).await,
        ["a", "c"],
        "max_results limits"
    );
    assert_eq!(names("", &[], 100).await.len(), 5);
    assert!(!ids.contains(&no_metric));

    let bad = t
        .search_runs(&RunSearch {
            experiment_ids: vec![experiment.experiment_id.clone()],
            filter: Some("metrics.rmse_log <".into()),
            order_by: vec![],
            max_results: 10,
        })
        .await
        .expect_err("an incomplete filter is refused");
    assert_eq!(bad.kind, ErrorKind::InvalidInput, "{bad}");
}

/// Names of the runs a search returns, in order.
async fn run_names(
    t: &dyn Tracker,
    experiment_id: String,
    filter: &str,
    order: &[&str],
    max_results: usize,
) -> Vec<String> {
    let search = RunSearch {
        experiment_ids: vec![experiment_id],
        filter: Some(filter.to_string()).filter(|f| !f.is_empty()),
        order_by: order.iter().map(|o| o.to_string()).collect(),
        max_results,
    };
    t.search_runs(&search)
        .await
        .unwrap_or_else(|e| panic!("search {filter:?} {order:?}: {e}"))
        .into_iter()
        .map(|r| r.info.run_name)
        .collect()
}

async fn artifact_round_trip(t: &dyn Tracker) {
    let bytes = crate::support::fixtures::trained_model_bytes().to_vec();
    let run_id = new_run(t, &unique("artifacts"), "artifacts").await;
    t.upload_artifact(&run_id, "model/model.json", bytes.clone())
        .await
        .unwrap();
    t.upload_artifact(
        &run_id,
        "plots/predictions.csv",
        b"Id,actual,predicted\n1,2,3\n".to_vec(),
    )
    .await
    .unwrap();
    let back = t
        .download_artifact(&run_id, "model/model.json")
        .await
        .unwrap();
    assert!(
        back == bytes,
        "downloaded model differs ({} vs {} bytes)",
        back.len(),
        bytes.len()
    );
    let loaded = Artifact::from_bytes(&back).expect("the downloaded model loads");
    assert_eq!(loaded.id, model_id(&bytes));

    let root = t.list_artifacts(&run_id, None).await.unwrap();
    let entries: Vec<(&str, bool)> = root.iter().map(|f| (f.path.as_str(), f.is_dir)).collect();
    assert_eq!(entries, [("model", true), ("plots", true)]);
    let model_dir = t.list_artifacts(&run_id, Some("model")).await.unwrap();
    assert_eq!(model_dir.len(), 1);
    assert_eq!(model_dir[0].path, "model/model.json");
    assert_eq!(model_dir[0].file_size, Some(bytes.len() as u64));
    assert!(!model_dir[0].is_dir);

    let missing = t
        .download_artifact(&run_id, "model/absent.json")
        .await
        .expect_err("a missing artifact is an error");
    assert_eq!(missing.kind, ErrorKind::NotFound, "{missing}");
}

async fn registry(t: &dyn Tracker) {
    use tracker::{PRODUCTION_ALIAS, REGISTERED_MODEL, register_production, rollback_production};
    let bytes = crate::support::fixtures::trained_model_bytes().to_vec();
    let id = model_id(&bytes);
    let experiment = unique("registry");
    let mut runs = Vec::new();
    for name in ["first", "second"] {
        let run_id = new_run(t, &experiment, name).await;
        t.upload_artifact(&run_id, "model/model.json", bytes.clone())
            .await
            .unwrap();
        runs.push(run_id);
    }
    let first = register_production(t, &id, &runs[0]).await.unwrap();
    assert_eq!(first.aliases, [PRODUCTION_ALIAS]);
    assert_eq!(first.run_id.as_deref(), Some(runs[0].as_str()));
    assert_eq!(first.source, format!("runs:/{}/model", runs[0]));
    assert_eq!(first.tags.get("amesops.model_id"), Some(&id));
    let production = t
        .get_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
        .await
        .unwrap();
    assert_eq!(production.map(|v| v.version), Some(first.version.clone()));

    let second = register_production(t, &id, &runs[1]).await.unwrap();
    assert_ne!(second.version, first.version);
    let production = t
        .get_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
        .await
        .unwrap();
    assert_eq!(
        production.map(|v| v.version),
        Some(second.version.clone()),
        "alias moved"
    );
    let old = t
        .get_model_version(REGISTERED_MODEL, &first.version)
        .await
        .unwrap();
    assert!(
        old.aliases.is_empty(),
        "the alias left the old version: {:?}",
        old.aliases
    );

    let rolled_back = rollback_production(t).await.unwrap();
    assert_eq!(rolled_back.version, first.version);
    assert_eq!(rolled_back.aliases, [PRODUCTION_ALIAS]);
    let production = t
        .get_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
        .await
        .unwrap();
    assert_eq!(
        production.map(|v| v.version),
        Some(first.version.clone()),
        "rolled back"
    );

    let nothing_earlier = rollback_production(t)
        .await
        .expect_err("no version before the first");
    assert_eq!(
        nothing_earlier.kind,
        ErrorKind::InvalidInput,
        "{nothing_earlier}"
    );

    t.delete_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
        .await
        .unwrap();
    assert_eq!(
        t.get_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
            .await
            .unwrap(),
        None
    );
    let no_alias = rollback_production(t)
        .await
        .expect_err("nothing to roll back");
    assert_eq!(no_alias.kind, ErrorKind::NotFound, "{no_alias}");
    let bad_version = t
        .set_alias(REGISTERED_MODEL, PRODUCTION_ALIAS, "999")
        .await
        .expect_err("an alias needs an existing version");
    assert_ne!(bad_version.kind, ErrorKind::Unreachable, "{bad_version}");
}

#[test]
fn sqlite_store_meets_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".amesops/tracking.db");
    let tracker: Arc<dyn Tracker> = Arc::new(SqliteTracker::open(&path).unwrap());
    runtime().block_on(contract("sqlite", tracker));
    assert!(
        dir.path().join(".amesops/artifacts").is_dir(),
        "artifacts live beside the db"
    );

    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(
        version,
        SqliteTracker::schema_version(),
        "the schema version is recorded"
    );

    // Reopening an existing database keeps its runs (migrations run once).
    let reopened = SqliteTracker::open(&path).unwrap();
    let runs = runtime().block_on(async {
        let experiment = reopened.experiment("contract-reopen").await.unwrap();
        reopened
            .search_runs(&RunSearch {
                experiment_ids: vec![experiment.experiment_id],
                filter: None,
                order_by: vec![],
                max_results: 10,
            })
            .await
            .unwrap()
    });
    assert!(runs.is_empty());
}

#[test]
fn a_database_from_a_newer_amesops_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tracking.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let error = SqliteTracker::open(&path)
        .err()
        .expect("a newer schema is refused");
    assert_eq!(error.kind, ErrorKind::InvalidInput, "{error}");
    assert!(error.message.contains("newer"), "{error}");
}

/// Runs `amesops` in `dir` against the tracker at `uri`.
fn amesops(dir: &Path, uri: &str, args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("MLFLOW_TRACKING_URI", uri)
        .env("MLFLOW_EXPERIMENT_NAME", "cli-contract")
        .stdin(Stdio::null())
        .output()
        .expect("run amesops");
    assert!(
        output.status.success(),
        "amesops {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `amesops train` and `evaluate` against the MLflow server: the run holds the params, the CV
/// history, the model file and the test metrics, and the model names the run.
fn cli_against_mlflow(url: &str, t: &dyn Tracker, runtime: &tokio::runtime::Runtime) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::copy(
        crate::support::fixtures::project_root().join("params.yaml"),
        d.join("params.yaml"),
    )
    .unwrap();
    amesops(d, url, &["fetch"]);
    amesops(d, url, &["split"]);
    let train = amesops(d, url, &["train"]);
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert!(!stderr.contains("warning"), "train warned:\n{stderr}");
    let model = std::fs::read(d.join("models/model.json")).unwrap();
    let run_id = Artifact::from_bytes(&model)
        .unwrap()
        .artifact
        .run_id
        .expect("the model names its run");
    amesops(d, url, &["evaluate"]);
    let listed = amesops(d, url, &["runs", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(runs[0]["info"]["run_id"], run_id.as_str(), "{runs:#}");

    runtime.block_on(async {
        let run = t.get_run(&run_id).await.unwrap();
        assert_eq!(run.info.status, RunStatus::Finished);
        assert_eq!(
            run.params.get("train.alpha").map(String::as_str),
            Some("0.0005")
        );
        assert_eq!(run.params.get("split.seed").map(String::as_str), Some("42"));
        assert!(run.params.contains_key("data.md5"));
        assert!(
            run.metric("cv_rmse_log")
                .is_some_and(|v| v > 0.05 && v < 0.2)
        );
        assert!(run.metric("test_rmse_log").is_some());
        assert!(run.tags.contains_key("host") && run.tags.contains_key("amesops.version"));
        let folds = t.metric_history(&run_id, "cv_fold_rmse_log").await.unwrap();
        assert_eq!(
            folds.iter().map(|m| m.step).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        let uploaded = t
            .download_artifact(&run_id, "model/model.json")
            .await
            .unwrap();
        assert!(uploaded == model, "the tracked model is the saved one");
        let plots = t
            .download_artifact(&run_id, "plots/predictions.csv")
            .await
            .unwrap();
        assert!(plots.starts_with(b"Id,actual,predicted"));
    });
    // A second run with another alpha: `runs compare` and the console's Experiments view.
    let params = std::fs::read_to_string(d.join("params.yaml")).unwrap();
    std::fs::write(
        d.join("params.yaml"),
        params.replacen("alpha: 0.0005", "alpha: 0.001", 1),
    )
    .unwrap();
    amesops(d, url, &["train", "--out", "models/second.json"]);
    let second = Artifact::from_bytes(&std::fs::read(d.join("models/second.json")).unwrap())
        .unwrap()
        .artifact
        .run_id
        .expect("the second model names its run");
    let compared = amesops(d, url, &["runs", "compare", &run_id, &second]);
    let text = String::from_utf8_lossy(&compared.stdout);
    assert!(
        text.contains("train.alpha") && text.contains("0.001"),
        "{text}"
    );
    runtime.block_on(async {
        let project = console::project::Project::at(
            d.to_path_buf(),
            Some(url.to_string()),
            Some("cli-contract".to_string()),
        );
        let rows = project.runs().await.expect("runs for the console");
        assert!(rows.iter().any(|r| r.run_id == run_id) && rows.iter().any(|r| r.run_id == second));
        let now = Instant::now();
        let mut app = console::tui::fixtures::app(false);
        let _ = app.on_key(
            crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('4')),
            now,
        );
        let _ = app.on_loaded(console::tui::action::Loaded::Runs(Ok(rows)), now);
        for _ in 0..2 {
            let _ = app.on_key(
                crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(' ')),
                now,
            );
            let _ = app.on_key(
                crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Down),
                now,
            );
        }
        let _ = app.on_key(
            crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('c')),
            now,
        );
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(140, 40)).unwrap();
        // The comparison lists the metrics first and scrolls: page down to the params.
        let mut screen = String::new();
        for _ in 0..80 {
            terminal.draw(|frame| app.draw(frame, now)).unwrap();
            screen = terminal.backend().to_string();
            if screen.contains("≠ train.alpha") {
                break;
            }
            let _ = app.on_key(
                crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Down),
                now,
            );
        }
        assert!(
            screen.contains("≠ train.alpha"),
            "the comparison marks the differing param:\n{screen}"
        );
        assert!(screen.contains("cv_rmse_log"), "{screen}");
    });
    eprintln!(
        "[mlflow] amesops train/evaluate/runs ok in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn mlflow_server_meets_the_contract() {
    let stack = MlflowStack::start();
    let tracker: Arc<dyn Tracker> =
        Arc::new(MlflowTracker::new(&stack.url, tracker::Auth::None).expect("MLflow client"));
    let runtime = runtime();
    runtime.block_on(contract("mlflow", Arc::clone(&tracker)));
    cli_against_mlflow(&stack.url, tracker.as_ref(), &runtime);
    drop(stack);
}

#[test]
fn an_unreachable_mlflow_server_is_named_in_the_error() {
    let port = crate::support::servers::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let tracker = MlflowTracker::new(&url, tracker::Auth::None).unwrap();
    let error = runtime()
        .block_on(tracker.experiment("anything"))
        .expect_err("nothing listens there");
    assert_eq!(error.kind, ErrorKind::Unreachable, "{error}");
    let message = error.to_string();
    assert!(message.contains("experiments/get-by-name"), "{message}");
    assert!(message.contains(&url), "{message}");
}

/// Accepts one HTTP request on a loopback port, answers `reply` with `status`, and returns the
/// request head (lower-cased) and body.
fn capture_one_request(
    status: u16,
    reply: &'static str,
) -> (String, std::thread::JoinHandle<(String, String)>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            head.push_str(&line.to_ascii_lowercase());
        }
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |n| n.trim().parse().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = reader.into_inner();
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        )
        .unwrap();
        (head, String::from_utf8(body).unwrap())
    });
    (url, handle)
}

#[test]
fn mlflow_posts_are_json_and_carry_the_credentials() {
    let (url, request) = capture_one_request(200, "{}");
    let tracker = MlflowTracker::new(&url, tracker::Auth::Bearer("secret-token".into())).unwrap();
    runtime()
        .block_on(tracker.create_registered_model("ames-price"))
        .unwrap();
    let (head, body) = request.join().unwrap();
    assert!(
        head.starts_with("post /api/2.0/mlflow/registered-models/create "),
        "{head}"
    );
    assert!(head.contains("content-type: application/json"), "{head}");
    assert!(
        head.contains("authorization: bearer secret-token"),
        "{head}"
    );
    assert_eq!(body, r#"{"name":"ames-price"}"#);

    let (url, request) = capture_one_request(200, "{}");
    let basic = tracker::Auth::Basic {
        username: "user".into(),
        password: "pass".into(),
    };
    let tracker = MlflowTracker::new(&url, basic).unwrap();
    runtime()
        .block_on(tracker.set_tag("0123", "k", "v"))
        .unwrap();
    let (head, _) = request.join().unwrap();
    // base64("user:pass")
    assert!(head.contains("authorization: basic dxnlcjpwyxnz"), "{head}");
}

#[test]
fn mlflow_errors_name_the_call_and_carry_the_server_message() {
    let (url, request) = capture_one_request(
        400,
        r#"{"error_code":"INVALID_PARAMETER_VALUE","message":"Changing param values is not allowed."}"#,
    );
    let tracker = MlflowTracker::new(&url, tracker::Auth::None).unwrap();
    let error = runtime()
        .block_on(tracker.log_param("0123", "train.alpha", "1"))
        .unwrap_err();
    request.join().unwrap();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert_eq!(
        error.to_string(),
        "MLflow runs/log-batch failed: HTTP 400 INVALID_PARAMETER_VALUE: Changing param values is not allowed."
    );
}
