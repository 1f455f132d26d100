//! Executes the app's commands in background tasks and reports back through a channel.
//!
//! The UI thread only ever calls [`Runtime::execute`], which spawns and returns at once.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use core_model::Artifact;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use super::action::{Command, Loaded, Mutation};
use super::operate::{DialogConfirm, Pending, mutate, sink};
use super::run_logs::{self, RunFile};
use super::views::deploy::{DeployStatus, VersionRow};
use super::views::predict::{FormField, FormSchema, PredictOutcome, RemoteReply};
use super::views::predictions::{RecordPage, RecordRow};
use crate::backend::deployer::Deployer;
use crate::backend::logs::{LogEvent, LogSource};
use crate::backend::store::{ObjectStore, newest_keys};
use crate::operations;

/// Records per page in the Predictions view.
pub const PAGE_SIZE: usize = 50;

/// Everything the console talks to, behind traits; the same for both targets.
pub struct Backends {
    /// Prediction records.
    pub store: Arc<dyn ObjectStore>,
    /// The predictor's logs.
    pub logs: Arc<dyn LogSource>,
    /// Deployments.
    pub deployer: Arc<dyn Deployer>,
    /// Pipeline and tracker (always the local project folder).
    pub project: Arc<crate::project::Project>,
    /// The model `d` deploys.
    pub candidate: PathBuf,
    /// The package that ships it (aws).
    pub package: PathBuf,
    /// HTTP client for the endpoint (signs its requests when the API requires IAM auth).
    pub endpoint: crate::backend::endpoint::Endpoint,
    /// What the operations (deploy, rollback, retrain, pipeline runs) work on.
    pub operations: operations::Context,
}

/// Spawns commands and forwards their results.
#[derive(Clone)]
pub struct Runtime {
    backends: Arc<Backends>,
    tx: mpsc::UnboundedSender<Loaded>,
    pending: Pending,
    next_question: Arc<AtomicU64>,
}

impl Runtime {
    /// A runtime reporting to `tx`.
    pub fn new(backends: Backends, tx: mpsc::UnboundedSender<Loaded>) -> Self {
        Self {
            backends: Arc::new(backends),
            tx,
            pending: Arc::new(Mutex::new(HashMap::new())),
            next_question: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Starts a command in the background.
    pub fn execute(&self, command: Command) {
        if let Command::Answer { id, yes } = command {
            let waiting = match self.pending.lock() {
                Ok(mut pending) => pending.remove(&id),
                Err(poisoned) => poisoned.into_inner().remove(&id),
            };
            if let Some(answer) = waiting {
                let _ = answer.send(yes);
            }
            return;
        }
        let backends = self.backends.clone();
        let tx = self.tx.clone();
        let dialog = DialogConfirm {
            tx: tx.clone(),
            pending: self.pending.clone(),
            next: self.next_question.clone(),
        };
        tokio::spawn(async move {
            let loaded = run(&backends, command, tx.clone(), &dialog).await;
            if let Some(loaded) = loaded {
                let _ = tx.send(loaded);
            }
        });
    }
}

async fn run(
    b: &Backends,
    command: Command,
    tx: mpsc::UnboundedSender<Loaded>,
    dialog: &DialogConfirm,
) -> Option<Loaded> {
    Some(match command {
        Command::LoadPipeline => Loaded::Pipeline(
            b.project
                .pipeline_snapshot()
                .await
                .map_err(|e| e.to_string()),
        ),
        Command::FollowLogs => {
            let (log_tx, mut log_rx) = mpsc::channel::<LogEvent>(256);
            let follower = b.logs.follow(log_tx);
            tokio::spawn(follower);
            while let Some(event) = log_rx.recv().await {
                if tx.send(Loaded::Logs(event)).is_err() {
                    break;
                }
            }
            return None;
        }
        Command::LoadRecords { after } => Loaded::Records(load_records(b, after).await),
        Command::LoadRuns => {
            let runs = b.project.runs().await.map_err(|e| e.to_string());
            let waiting = crate::backend::tracker::outbox::Outbox::local().waiting();
            let _ = tx.send(Loaded::RunsWaiting(waiting));
            Loaded::Runs(runs)
        }
        Command::LoadSchema => Loaded::Schema(load_schema(b).await),
        Command::LoadTestHouse { index } => {
            Loaded::TestHouse(load_test_house(b.project.root.clone(), index).await)
        }
        Command::SubmitPrediction(body) => Loaded::Prediction(submit(b, body).await),
        Command::LoadDeploy => Loaded::Deploy(load_deploy(b).await),
        Command::LoadMonitor => Loaded::Monitor(load_monitor(b).await),
        Command::LoadRunLogs => {
            let state_dir = b.operations.state_dir.clone();
            let saved = tokio::task::spawn_blocking(move || run_logs::recent(&state_dir))
                .await
                .unwrap_or_default();
            Loaded::RunLogs(saved)
        }
        Command::Mutate(Mutation::Retrain) => {
            let file = RunFile::for_mutation(&b.operations.state_dir, &Mutation::Retrain);
            let events = sink(&tx, file);
            Loaded::Retrained(
                operations::retrain::retrain(
                    &b.operations,
                    operations::retrain::Retrain::default(),
                    dialog,
                    &events,
                    None,
                )
                .await
                .map_err(|e| e.to_string()),
            )
        }
        Command::Mutate(mutation) => {
            let file = RunFile::for_mutation(&b.operations.state_dir, &mutation);
            Loaded::Mutated(mutate(b, mutation, &sink(&tx, file), dialog).await)
        }
        // Answered in `Runtime::execute`.
        Command::Answer { .. } => return None,
    })
}

async fn load_records(b: &Backends, after: Option<String>) -> Result<RecordPage, String> {
    let page = newest_keys(b.store.as_ref(), after.as_deref(), PAGE_SIZE)
        .await
        .map_err(|e| e.to_string())?;
    let store = b.store.clone();
    let fetched: Vec<Option<RecordRow>> = futures_util::stream::iter(page.keys.clone())
        .map(|key| {
            let store = store.clone();
            async move {
                let bytes = store.get(&key).await.ok()?;
                let json = serde_json::from_slice(&bytes).ok()?;
                Some(RecordRow::from_json(key, json))
            }
        })
        .buffered(16)
        .collect()
        .await;
    let unreadable = fetched.iter().filter(|r| r.is_none()).count();
    let reference_deciles = match b.deployer.served_artifact().await {
        Ok(bytes) => Artifact::from_bytes(&bytes)
            .map(|a| a.artifact.metrics.price_deciles.clone())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    Ok(RecordPage {
        rows: fetched.into_iter().flatten().collect(),
        next: page.next,
        reference_deciles,
        unreadable,
    })
}

/// The held-out house at `index` from the split stage's `data/test.csv`, read through
/// core-model's own table reading (fields typed as the model takes them).
pub async fn load_test_house(
    root: PathBuf,
    index: usize,
) -> Result<super::views::predict::TestHouse, String> {
    use super::views::predict::{TEST_HOUSES, test_house};
    tokio::task::spawn_blocking(move || {
        let path = root.join(TEST_HOUSES);
        if !path.exists() {
            return Err(format!(
                "no held-out test houses: {TEST_HOUSES} is missing — run the pipeline first (p in view 1)"
            ));
        }
        let table = core_model::dataset::Table::read_path_with(
            &path,
            core_model::dataset::OnInvalid::Skip,
        )
        .map_err(|e| format!("{TEST_HOUSES}: {e}"))?;
        test_house(&table, index)
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn get_json(b: &Backends, path: &str) -> Result<serde_json::Value, String> {
    let url = format!("{}{path}", b.deployer.url());
    let response = b
        .endpoint
        .send(b.endpoint.request(reqwest::Method::GET, &url))
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let json: serde_json::Value = response
        .json()
        .await
        .map_err(|e| format!("GET {url}: reply is not JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!("GET {url}: {status} {json}"));
    }
    Ok(json)
}

/// `GET path`, read as its wire type: a field the predictor renames fails to compile here.
async fn get_reply<T: serde::de::DeserializeOwned>(b: &Backends, path: &str) -> Result<T, String> {
    let json = get_json(b, path).await?;
    serde_json::from_value(json).map_err(|e| format!("GET {path}: unexpected reply: {e}"))
}

async fn load_schema(b: &Backends) -> Result<FormSchema, String> {
    Ok(form_schema(get_reply(b, "/model").await?))
}

/// The form of the Predict view, from the `/model` reply.
fn form_schema(doc: predictor::wire::ModelReply) -> FormSchema {
    use core_model::schema::Kind;
    FormSchema {
        model_id: doc.id,
        fields: doc
            .fields
            .into_iter()
            .map(|f| FormField {
                kind: match f.kind {
                    Kind::Integer => "integer",
                    Kind::Real => "real",
                    Kind::Ordinal => "ordinal",
                    Kind::Nominal => "nominal",
                }
                .to_string(),
                levels: f.levels.into_iter().map(|l| (l.code, l.label)).collect(),
                default: match f.default {
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::Number(n) => match n.as_f64() {
                        Some(x) => core_model::house::format_number(x),
                        None => n.to_string(),
                    },
                    other => other.to_string(),
                },
                name: f.name,
                description: f.description,
                unit: f.unit,
                min: f.min,
                max: f.max,
            })
            .collect(),
    }
}

async fn submit(b: &Backends, body: serde_json::Value) -> Result<PredictOutcome, String> {
    let url = format!("{}/predict", b.deployer.url());
    let started = Instant::now();
    let remote = async {
        let response = b
            .endpoint
            .send(b.endpoint.request(reqwest::Method::POST, &url).json(&body))
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let json: serde_json::Value = response
            .json()
            .await
            .map_err(|e| format!("reply is not JSON: {e}"))?;
        let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
        if !status.is_success() {
            let Ok(reply) = serde_json::from_value::<predictor::wire::ErrorReply>(json.clone())
            else {
                return Err(format!("{status}: {json}"));
            };
            let fields: Vec<String> = reply
                .error
                .fields
                .iter()
                .map(|f| format!("{}: {}", f.field, f.problem))
                .collect();
            return Err(format!(
                "{status}: {} {}",
                reply.error.message,
                fields.join("; ")
            ));
        }
        let reply: predictor::wire::PredictReply =
            serde_json::from_value(json).map_err(|e| format!("reply is not a prediction: {e}"))?;
        Ok(RemoteReply::from_wire(reply, latency_ms))
    }
    .await;
    let local_price = async {
        let bytes = b
            .deployer
            .served_artifact()
            .await
            .map_err(|e| e.to_string())?;
        let loaded = Artifact::from_bytes(&bytes).map_err(|e| e.to_string())?;
        let object = body.as_object().ok_or("the form body is not an object")?;
        let house = core_model::house::house_from_json(object).map_err(|errors| {
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        Ok::<f64, String>(loaded.artifact.model.predict(&house).price)
    }
    .await;
    Ok(PredictOutcome {
        remote,
        local_price,
    })
}

/// The `amesops monitor` report over the console's store, against the production model.
async fn load_monitor(b: &Backends) -> Result<crate::operations::monitor::Report, String> {
    use crate::operations::monitor;
    let production = match b.deployer.production().await {
        Ok(crate::backend::deployer::Production::Serving(served)) => {
            core_model::Artifact::from_bytes(&served.artifact).ok()
        }
        _ => None,
    };
    let request = monitor::Request {
        since_days: 30,
        today: monitor::dates::today(),
        model_id: production.as_ref().map(|m| m.id.clone()),
        production: production.as_ref().map(|m| m.id.clone()),
        sketch: production.and_then(|m| m.artifact.reference),
    };
    monitor::monitor(b.store.as_ref(), &request)
        .await
        .map_err(|e| e.to_string())
}

/// The watched canary, while the alias routes a share to its version.
fn canary_panel(
    state_dir: &std::path::Path,
    routing: Option<&(String, f64)>,
) -> Option<super::views::deploy::CanaryPanel> {
    let state = crate::operations::canary::WatchState::load(state_dir)?;
    let (version, weight) = routing?;
    (*version == state.plan.version).then(|| super::views::deploy::CanaryPanel {
        version: version.clone(),
        percent: weight * 100.0,
        state: state.label().to_string(),
        seconds_left: state.seconds_left(),
        alarms: state
            .states
            .iter()
            .map(|a| (a.state.clone(), a.name.clone()))
            .collect(),
    })
}

async fn load_deploy(b: &Backends) -> Result<DeployStatus, String> {
    let info = b.deployer.status().await.map_err(|e| e.to_string())?;
    // What the endpoint says it serves, against what the alias names: a mismatch (a deploy
    // that moved the alias while the server still serves the old model) is never "healthy".
    let (health, served_model) = match get_reply::<predictor::wire::HealthReply>(b, "/health").await
    {
        Ok(reply) => {
            let served = reply.model_id;
            let canary = info
                .routing
                .as_ref()
                .and_then(|(version, _)| info.versions.iter().find(|v| &v.version == version))
                .is_some_and(|v| v.model_id == served);
            let health = match &info.model_id {
                Some(live) if *live != served && !canary => Err(format!(
                    "the endpoint serves model {served}, but alias {} (version {}) names model {live}",
                    info.alias,
                    info.alias_version.as_deref().unwrap_or("–")
                )),
                _ => Ok(format!("model {served} · up {:.0} s", reply.uptime_s)),
            };
            (health, Some(served))
        }
        Err(e) => (Err(e), None),
    };
    let metrics = match b
        .deployer
        .served_artifact()
        .await
        .ok()
        .and_then(|bytes| Artifact::from_bytes(&bytes).ok())
    {
        Some(a) => {
            let m = a.artifact.metrics.cv.overall;
            vec![
                ("cv rmse_log".to_string(), m.rmse_log),
                ("cv rmse $".to_string(), m.rmse),
                ("cv r2".to_string(), m.r2),
            ]
        }
        None => Vec::new(),
    };
    let candidate = tokio::fs::read(&b.candidate)
        .await
        .ok()
        .map(|bytes| core_model::artifact::model_id(&bytes));
    let canary = canary_panel(&b.operations.state_dir, info.routing.as_ref());
    Ok(DeployStatus {
        canary,
        function: info.function,
        alias: info.alias,
        alias_version: info.alias_version.unwrap_or_else(|| "–".to_string()),
        routing: info.routing,
        versions: info
            .versions
            .into_iter()
            .map(|v| VersionRow {
                version: v.version,
                model_id: v.model_id,
                created: v.created,
            })
            .collect(),
        url: info.url,
        model_id: info.model_id.unwrap_or_else(|| "–".to_string()),
        metrics,
        health,
        served_model,
        candidate,
    })
}
