//! The local history in a real MLflow 3.17.2 server: `amesops runs push` copies it (params,
//! metric histories, artifacts, the registry and its `production` alias) so MLflow's REST API
//! and MLflow's own Python client read it back as MLflow runs; pushing twice duplicates
//! nothing; `runs pull` brings it back. And a server that is down during `train` costs
//! nothing: the run waits in the outbox and arrives once, with its original start time.
//!
//! Needs `mlflow` and `moto_server` on PATH (scripts/test puts its venv there).

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use console::backend::tracker::{self, SqliteTracker, Tracker};
use serde_json::{Value as Json, json};
use support::mlflow::MlflowStack;
use support::{BIN, describe, project_root};

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

fn stdout_json(output: &Output) -> Json {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// A scratch project, fetched and split (5-fold CV: a five-step history per fold metric).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        project_root().join("params.yaml"),
        dir.path().join("params.yaml"),
    )
    .unwrap();
    succeed(dir.path(), &["fetch"]);
    succeed(dir.path(), &["split"]);
    dir
}

fn model_run_id(path: &Path) -> String {
    let model: Json = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    model["run_id"].as_str().unwrap().to_string()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// MLflow's REST API, read directly.
struct Rest {
    client: reqwest::blocking::Client,
    base: String,
}

impl Rest {
    fn new(url: &str) -> Rest {
        Rest {
            client: reqwest::blocking::Client::new(),
            base: format!("{url}/api/2.0/mlflow"),
        }
    }

    fn get(&self, endpoint: &str, query: &[(&str, &str)]) -> Json {
        let response = self
            .client
            .get(format!("{}/{endpoint}", self.base))
            .query(query)
            .send()
            .unwrap();
        let status = response.status();
        let body: Json = response.json().unwrap();
        assert!(
            status.is_success(),
            "GET {endpoint} {query:?}: {status} {body}"
        );
        body
    }

    fn post(&self, endpoint: &str, body: &Json) -> Json {
        let response = self
            .client
            .post(format!("{}/{endpoint}", self.base))
            .json(body)
            .send()
            .unwrap();
        let status = response.status();
        let answer: Json = response.json().unwrap();
        assert!(
            status.is_success(),
            "POST {endpoint} {body}: {status} {answer}"
        );
        answer
    }

    fn runs(&self, experiment: &str) -> Vec<Json> {
        let id = self.get(
            "experiments/get-by-name",
            &[("experiment_name", experiment)],
        )["experiment"]["experiment_id"]
            .clone();
        let answer = self.post(
            "runs/search",
            &json!({"experiment_ids": [id], "max_results": 1000, "order_by": ["attributes.start_time ASC"]}),
        );
        answer["runs"].as_array().cloned().unwrap_or_default()
    }
}

fn tag<'a>(run: &'a Json, key: &str) -> Option<&'a str> {
    run["data"]["tags"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key)?["value"]
        .as_str()
}

fn param<'a>(run: &'a Json, key: &str) -> Option<&'a str> {
    run["data"]["params"]
        .as_array()?
        .iter()
        .find(|t| t["key"] == key)?["value"]
        .as_str()
}

fn start_time(run: &Json) -> i64 {
    let value = &run["info"]["start_time"];
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .unwrap()
}

/// Reads the experiment back with MLflow's own client, as MLflow users do.
const PYTHON_READER: &str = r#"
import json, sys
from mlflow.tracking import MlflowClient

client = MlflowClient(sys.argv[1])
experiment = client.get_experiment_by_name(sys.argv[2])
def files(run_id, path=None):
    out = []
    for f in client.list_artifacts(run_id, path):
        out.extend(files(run_id, f.path) if f.is_dir else [[f.path, f.file_size]])
    return out
runs = []
for run in client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"]):
    runs.append({
        "run_id": run.info.run_id,
        "run_name": run.info.run_name,
        "status": run.info.status,
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        "params": run.data.params,
        "metrics": run.data.metrics,
        "tags": run.data.tags,
        "folds": [[m.step, m.value] for m in client.get_metric_history(run.info.run_id, "cv_fold_rmse_log")],
        "files": files(run.info.run_id),
    })
version = client.get_model_version_by_alias("ames-price", "production")
print(json.dumps({"runs": runs, "production": {
    "version": version.version, "run_id": version.run_id, "source": version.source,
    "tags": version.tags, "aliases": list(version.aliases)}}))
"#;

fn python_read(url: &str, experiment: &str) -> Json {
    let output = Command::new(MlflowStack::python())
        .args(["-c", PYTHON_READER, url, experiment])
        .env_remove("MLFLOW_TRACKING_URI")
        .stdin(Stdio::null())
        .output()
        .expect("run MLflow's Python client");
    assert!(
        output.status.success(),
        "MLflow's client failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout_json(&output)
}

#[test]
fn a_pushed_history_reads_back_through_mlflows_rest_api_and_python_client() {
    let stack = MlflowStack::start();
    let url = stack.url.as_str();
    let dir = project();
    let d = dir.path();
    succeed(d, &["train"]);
    succeed(d, &["evaluate"]);
    let first = model_run_id(&d.join("models/model.json"));
    let params = std::fs::read_to_string(d.join("params.yaml")).unwrap();
    std::fs::write(
        d.join("params.yaml"),
        params.replacen("alpha: 0.0005", "alpha: 0.001", 1),
    )
    .unwrap();
    succeed(d, &["train", "--out", "models/second.json"]);
    let second = model_run_id(&d.join("models/second.json"));
    // Both models were production in turn: versions 1 and 2, production → 2.
    let local = SqliteTracker::open(&d.join(".amesops/tracking.db")).unwrap();
    let rt = runtime();
    rt.block_on(async {
        tracker::register_production(&local, "model-one", &first)
            .await
            .unwrap();
        tracker::register_production(&local, "model-two", &second)
            .await
            .unwrap();
    });
    let local_runs: Vec<_> = [&first, &second]
        .iter()
        .map(|id| rt.block_on(local.get_run(id)).unwrap())
        .collect();
    let local_folds = rt
        .block_on(local.metric_history(&first, "cv_fold_rmse_log"))
        .unwrap();

    let push = succeed(d, &["runs", "push", "--to", url, "--json"]);
    let report = stdout_json(&push);
    assert_eq!(report["copied"], 2, "{report:#}");
    assert_eq!(report["failed"], 0, "{report:#}");
    let progress = String::from_utf8_lossy(&push.stderr);
    assert!(
        progress.contains("[1/2]") && progress.contains("[2/2]"),
        "push shows progress:\n{progress}"
    );

    // MLflow's REST API.
    let rest = Rest::new(url);
    let runs = rest.runs("amesops");
    assert_eq!(runs.len(), 2, "{runs:#?}");
    for (copy, local) in runs.iter().zip(&local_runs) {
        assert_eq!(
            tag(copy, tracker::ORIGIN_TAG),
            Some(local.info.run_id.as_str())
        );
        assert_eq!(copy["info"]["run_name"], local.info.run_name.as_str());
        assert_eq!(copy["info"]["status"], "FINISHED");
        assert_eq!(start_time(copy), local.info.start_time);
        for (key, value) in &local.params {
            assert_eq!(param(copy, key), Some(value.as_str()), "param {key}");
        }
    }
    let copy_of_first = runs[0]["info"]["run_id"].as_str().unwrap().to_string();
    let copy_of_second = runs[1]["info"]["run_id"].as_str().unwrap().to_string();
    let history = rest.get(
        "metrics/get-history",
        &[
            ("run_id", &copy_of_first),
            ("metric_key", "cv_fold_rmse_log"),
        ],
    );
    let mut steps: Vec<(i64, f64)> = history["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["step"].as_i64().unwrap(), m["value"].as_f64().unwrap()))
        .collect();
    steps.sort_by_key(|s| s.0);
    assert_eq!(
        steps,
        local_folds
            .iter()
            .map(|m| (m.step, m.value))
            .collect::<Vec<_>>(),
        "the whole fold history arrived"
    );
    let listed = rest.get("artifacts/list", &[("run_id", &copy_of_first)]);
    let top: Vec<&str> = listed["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(top, ["metrics", "model", "plots"], "{listed}");
    let model_dir = rest.get(
        "artifacts/list",
        &[("run_id", &copy_of_first), ("path", "model")],
    );
    let model_bytes = std::fs::read(d.join("models/model.json")).unwrap();
    assert_eq!(model_dir["files"][0]["path"], "model/model.json");
    assert_eq!(
        model_dir["files"][0]["file_size"].as_u64(),
        Some(model_bytes.len() as u64)
    );
    let production = rest.get(
        "registered-models/alias",
        &[("name", "ames-price"), ("alias", "production")],
    );
    assert_eq!(
        production["model_version"]["run_id"],
        copy_of_second.as_str()
    );
    assert_eq!(
        production["model_version"]["source"],
        format!("runs:/{copy_of_second}/model")
    );

    // MLflow's own Python client.
    let read = python_read(url, "amesops");
    let py_runs = read["runs"].as_array().unwrap();
    assert_eq!(py_runs.len(), 2, "{read:#}");
    for (py, local) in py_runs.iter().zip(&local_runs) {
        assert_eq!(py["run_name"], local.info.run_name.as_str());
        assert_eq!(py["status"], "FINISHED");
        assert_eq!(py["start_time"].as_i64(), Some(local.info.start_time));
        assert_eq!(py["end_time"].as_i64(), local.info.end_time);
        assert_eq!(
            py["params"]["train.alpha"],
            local.params["train.alpha"].as_str()
        );
        assert_eq!(
            py["metrics"]["cv_rmse_log"].as_f64(),
            local.metric("cv_rmse_log")
        );
    }
    assert_eq!(py_runs[0]["folds"].as_array().unwrap().len(), 5);
    let files: Vec<&str> = py_runs[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f[0].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "metrics/metrics.json",
            "model/model.json",
            "plots/predictions.csv"
        ]
    );
    assert_eq!(read["production"]["run_id"], copy_of_second.as_str());
    assert_eq!(read["production"]["aliases"], json!(["production"]));
    assert_eq!(read["production"]["tags"]["amesops.model_id"], "model-two");
    let first_version = read["production"]["tags"]["amesops.previous_production"]
        .as_str()
        .expect("rollback still knows the previous version");
    let previous = rest.get(
        "model-versions/get",
        &[("name", "ames-price"), ("version", first_version)],
    );
    assert_eq!(previous["model_version"]["run_id"], copy_of_first.as_str());

    // Twice: nothing is duplicated, nothing is sent.
    let again = stdout_json(&succeed(d, &["runs", "push", "--to", url, "--json"]));
    assert_eq!(again["copied"], 0, "{again:#}");
    assert_eq!(again["updated"], 0, "{again:#}");
    assert_eq!(again["up_to_date"], 2, "{again:#}");
    assert_eq!(rest.runs("amesops").len(), 2);
    let versions = rest.get(
        "model-versions/search",
        &[("filter", "name = 'ames-price'")],
    );
    assert_eq!(versions["model_versions"].as_array().unwrap().len(), 2);

    // What changed locally since (evaluate of the second model) follows on the next push.
    succeed(d, &["evaluate", "--model", "models/second.json"]);
    let update = stdout_json(&succeed(d, &["runs", "push", "--to", url, "--json"]));
    assert_eq!(update["updated"], 1, "{update:#}");
    assert_eq!(update["up_to_date"], 1, "{update:#}");
    let runs = rest.runs("amesops");
    assert_eq!(runs.len(), 2);
    assert!(
        runs[1]["data"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["key"] == "test_rmse_log")
    );

    // And back: a fresh local store pulls the same history, once.
    let other = tempfile::tempdir().unwrap();
    let pulled = stdout_json(&succeed(
        other.path(),
        &["runs", "pull", "--from", url, "--json"],
    ));
    assert_eq!(pulled["copied"], 2, "{pulled:#}");
    assert_eq!(pulled["production"]["moved"], true, "{pulled:#}");
    let listed = stdout_json(&succeed(other.path(), &["runs", "--json"]));
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["tags"][tracker::ORIGIN_TAG].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&first.as_str()) && ids.contains(&second.as_str()),
        "{listed:#}"
    );
    let again = stdout_json(&succeed(
        other.path(),
        &["runs", "pull", "--from", url, "--json"],
    ));
    assert_eq!(again["up_to_date"], 2, "{again:#}");
    // The origin store recognises its own runs coming back.
    let home = stdout_json(&succeed(d, &["runs", "pull", "--from", url, "--json"]));
    assert_eq!(home["up_to_date"], 2, "{home:#}");
}

/// Forwards HTTP to the MLflow server one request per connection; told to, it stops
/// listening right after relaying a `runs/create` (the server is gone mid-train), and
/// listens again on the same port when brought back.
struct CutProxy {
    port: u16,
    state: Arc<(Mutex<ProxyMode>, Condvar)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProxyMode {
    Forward,
    CutAfterCreate,
    Down,
}

impl CutProxy {
    fn start(upstream: String) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new((Mutex::new(ProxyMode::Forward), Condvar::new()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            loop {
                let Some(open) = &listener else {
                    let (lock, wake) = &*shared;
                    let mut mode = lock.lock().unwrap();
                    while *mode == ProxyMode::Down {
                        mode = wake.wait(mode).unwrap();
                    }
                    listener = Some(TcpListener::bind(("127.0.0.1", port)).unwrap());
                    continue;
                };
                let Ok((client, _)) = open.accept() else {
                    continue;
                };
                let created = relay(client, &upstream);
                let mut mode = shared.0.lock().unwrap();
                if created && *mode == ProxyMode::CutAfterCreate {
                    *mode = ProxyMode::Down;
                }
                if *mode == ProxyMode::Down {
                    listener = None;
                }
            }
        });
        CutProxy { port, state }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set(&self, mode: ProxyMode) {
        *self.state.0.lock().unwrap() = mode;
        self.state.1.notify_all();
    }
}

/// Relays one request and its answer (with `Connection: close`); true for a `runs/create`.
fn relay(client: TcpStream, upstream: &str) -> bool {
    let mut reader = BufReader::new(client);
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut first = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return false;
        }
        if first.is_empty() {
            first = line.clone();
        }
        if line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(n) = lower.strip_prefix("content-length:") {
            length = n.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            head.push(line);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return false;
    }
    let mut server = TcpStream::connect(upstream).unwrap();
    server
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut request = head.concat();
    request.push_str("Connection: close\r\n\r\n");
    server.write_all(request.as_bytes()).unwrap();
    server.write_all(&body).unwrap();
    let mut answer = Vec::new();
    let _ = server.read_to_end(&mut answer);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let head_text = String::from_utf8_lossy(&answer[..split]).into_owned();
    let mut reply: String = head_text
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    reply.push_str("Connection: close\r\n");
    let mut client = reader.into_inner();
    let _ = client.write_all(reply.as_bytes());
    // The blank line that ends the head, then the body.
    let _ = client.write_all(answer.get(split + 2..).unwrap_or_default());
    let _ = client.flush();
    first.contains("/runs/create ")
}

fn outbox_entries(dir: &Path) -> Vec<Json> {
    let Ok(listing) = std::fs::read_dir(dir.join(".amesops/outbox")) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = listing
        .map(|e| e.unwrap().path().join("entry.json"))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
        .collect()
}

#[test]
fn a_run_trained_while_mlflow_is_down_waits_in_the_outbox_and_arrives_once() {
    let mut stack = MlflowStack::start();
    let url = stack.url.clone();
    let rest = Rest::new(&url);
    let dir = project();
    let d = dir.path();

    // The server is down for the whole of `train` and `evaluate`.
    stack.down();
    let train = succeed(d, &["train", "--tracker", &url]);
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.contains("outbox")).count(),
        1,
        "train says so in one line:\n{stderr}"
    );
    let run_id = model_run_id(&d.join("models/model.json"));
    succeed(d, &["evaluate", "--tracker", &url]);
    let entries = outbox_entries(d);
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let queued_start = entries[0]["create"]["start_time"].as_i64().unwrap();

    stack.up();
    let sync = succeed(d, &["runs", "sync", "--tracker", &url]);
    assert!(
        String::from_utf8_lossy(&sync.stdout).contains("1 run sent"),
        "{}",
        describe(&["runs", "sync"], &sync)
    );
    assert!(outbox_entries(d).is_empty());
    let runs = rest.runs("amesops");
    assert_eq!(runs.len(), 1, "present exactly once: {runs:#?}");
    let run = &runs[0];
    assert_eq!(start_time(run), queued_start, "its original start time");
    assert_eq!(run["info"]["status"], "FINISHED");
    assert_eq!(tag(run, tracker::ORIGIN_TAG), Some(run_id.as_str()));
    let keys: Vec<&str> = run["data"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["key"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"cv_rmse_log") && keys.contains(&"test_rmse_log"));
    let copy = run["info"]["run_id"].as_str().unwrap().to_string();
    let model = rest.get("artifacts/list", &[("run_id", &copy), ("path", "model")]);
    assert_eq!(model["files"][0]["path"], "model/model.json");

    let again = succeed(d, &["runs", "sync", "--tracker", &url]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing waits"));
    // The model names the queued id: evaluate finds the run through its origin tag.
    let evaluate = succeed(d, &["evaluate", "--tracker", &url]);
    assert!(
        String::from_utf8_lossy(&evaluate.stderr).contains("tracked test metrics"),
        "{}",
        describe(&["evaluate"], &evaluate)
    );
    assert_eq!(rest.runs("amesops").len(), 1, "still once");

    // The server goes away in the middle of `train`, after the run was created: the rest
    // waits in the outbox, and the next call to the tracker (here `runs`) sends it.
    let proxy = CutProxy::start(format!("127.0.0.1:{}", url.rsplit(':').next().unwrap()));
    proxy.set(ProxyMode::CutAfterCreate);
    let train = succeed(
        d,
        &[
            "train",
            "--tracker",
            &proxy.url(),
            "--out",
            "models/cut.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&train.stderr);
    assert!(stderr.contains("outbox"), "{stderr}");
    let cut = model_run_id(&d.join("models/cut.json"));
    let created = rest.get("runs/get", &[("run_id", &cut)]);
    assert_eq!(created["run"]["info"]["status"], "RUNNING");
    let entries = outbox_entries(d);
    assert_eq!(entries.len(), 1);
    assert!(entries[0]["create"].is_null(), "the run exists already");
    proxy.set(ProxyMode::Forward);
    let listed = stdout_json(&succeed(d, &["runs", "--tracker", &proxy.url(), "--json"]));
    assert!(outbox_entries(d).is_empty(), "the next call replayed it");
    let shown = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["info"]["run_id"] == cut.as_str())
        .expect("listed");
    assert_eq!(shown["info"]["status"], "FINISHED");
    assert!(shown["metrics"]["cv_rmse_log"].is_object());
    let runs = rest.runs("amesops");
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let model = rest.get("artifacts/list", &[("run_id", &cut), ("path", "model")]);
    assert_eq!(model["files"][0]["path"], "model/cut.json");
}
