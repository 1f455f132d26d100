//! Experiment tracking for the stages: `train` opens a run and logs everything that explains
//! the model; `evaluate` adds the test metrics to the same run.
//!
//! Tracking never costs a model: when the tracker fails, the command still writes its outputs,
//! prints a warning that says what was not tracked, and succeeds. When the tracker is out of
//! reach (an MLflow server that is down), nothing is lost either: the run waits in the outbox
//! (`.amesops/outbox/`) and is sent by the next call to that tracker or by `amesops runs sync`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use core_model::Metrics;
use core_model::artifact::Artifact;

use crate::backend::tracker::outbox::{Outbox, PendingOp, QueuedRun};
use crate::backend::tracker::{
    self, Batch, ErrorKind, KeyValue, MODEL_ARTIFACT_DIR, MODEL_ID_TAG, Metric, NewRun, RunStatus,
    Tracker, TrackerError, TrackerUri, now_millis,
};
use crate::params::Params;

pub use crate::config::DEFAULT_EXPERIMENT;

/// Which tracker and experiment to use (shared by `train`, `evaluate` and `runs`).
#[derive(Debug, Clone, Args)]
pub struct TrackerArgs {
    /// Experiment tracker: http(s)://HOST:PORT for an MLflow server, `sqlite` for the local store
    /// (.amesops/tracking.db, the default), sqlite:///PATH.db, or `none` to not track. When the
    /// tracker fails, train and evaluate still write their outputs, warn, and exit 0; when an
    /// MLflow server is out of reach, the run waits in .amesops/outbox/ and is sent by the next
    /// call to that server (or `amesops runs sync`).
    #[arg(
        long = "tracker",
        env = "MLFLOW_TRACKING_URI",
        value_name = "URI",
        global = true
    )]
    pub tracker: Option<String>,
    /// Experiment the runs belong to.
    #[arg(long, env = "MLFLOW_EXPERIMENT_NAME", value_name = "NAME", default_value = DEFAULT_EXPERIMENT, global = true)]
    pub experiment: String,
}

impl TrackerArgs {
    /// Whether tracking is switched off (`--tracker none`).
    pub fn disabled(&self) -> bool {
        self.tracker
            .as_deref()
            .is_some_and(|t| matches!(t.trim().to_ascii_lowercase().as_str(), "none" | "off"))
    }

    /// Opens the tracker the settings name.
    pub fn open(&self) -> Result<Arc<dyn Tracker>> {
        let uri = TrackerUri::parse(self.tracker.as_deref())?;
        tracker::open(&uri).with_context(|| format!("cannot open the tracker {uri}"))
    }
}

/// A runtime for the tracker's async calls from the synchronous commands.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A run opened by `amesops train`, before the model is saved.
pub struct TrainingRun {
    runtime: tokio::runtime::Runtime,
    tracker: Arc<dyn Tracker>,
    uri: TrackerUri,
    experiment: String,
    run_id: String,
    /// Set when the tracker was out of reach at the start: the run is created on replay,
    /// with this name, start time and tags.
    queued: Option<QueuedRun>,
}

fn warn(what: &str, error: &anyhow::Error) {
    eprintln!("warning: {what}: {error:#}");
}

/// Whether a failure means "the tracker is out of reach" (so the run waits in the outbox).
fn unreachable(error: &TrackerError) -> bool {
    error.kind == ErrorKind::Unreachable
}

/// Opens the configured tracker with its parsed URI.
fn open_tracker(args: &TrackerArgs) -> Result<(TrackerUri, Arc<dyn Tracker>)> {
    let uri = TrackerUri::parse(args.tracker.as_deref())?;
    let tracker = tracker::open(&uri).with_context(|| format!("cannot open the tracker {uri}"))?;
    Ok((uri, tracker))
}

/// Queues calls the tracker could not take, and says so in one line.
fn queue(
    uri: &TrackerUri,
    tracker: &dyn Tracker,
    experiment: &str,
    run_id: &str,
    create: Option<QueuedRun>,
    ops: Vec<PendingOp>,
) {
    let outbox = Outbox::local();
    match outbox.queue(&uri.to_string(), experiment, run_id, create, ops) {
        Ok(_) => {
            let waiting = outbox.waiting_for(&uri.to_string());
            eprintln!(
                "warning: {} is out of reach: run {run_id} waits in {} ({waiting} run{} waiting to sync) and is sent by the next call to that tracker or by `amesops runs sync`",
                tracker.describe(),
                outbox.dir().display(),
                if waiting == 1 { "" } else { "s" }
            );
        }
        Err(error) => warn(
            &format!(
                "{} is out of reach and run {run_id} could not be queued either, so it is not tracked",
                tracker.describe()
            ),
            &error.into(),
        ),
    }
}

/// Makes the calls in order; on the first failure returns it with the calls not yet made.
async fn apply(
    tracker: &dyn Tracker,
    run_id: &str,
    ops: Vec<PendingOp>,
) -> Result<(), (TrackerError, Vec<PendingOp>)> {
    let mut ops = ops.into_iter();
    while let Some(op) = ops.next() {
        let result = match &op {
            PendingOp::LogBatch(batch) => tracker.log_batch(run_id, batch).await,
            PendingOp::Upload { path, bytes } => {
                tracker.upload_artifact(run_id, path, bytes.clone()).await
            }
            PendingOp::End { status, end_time } => tracker
                .update_run(run_id, *status, Some(*end_time))
                .await
                .map(drop),
        };
        if let Err(error) = result {
            return Err((error, std::iter::once(op).chain(ops).collect()));
        }
    }
    Ok(())
}

impl TrainingRun {
    /// Opens a run. When the tracker is out of reach the run is queued in the outbox (it gets
    /// its id now); on any other failure this warns and returns `None`, so training goes on
    /// untracked.
    pub fn start(args: &TrackerArgs) -> Option<TrainingRun> {
        if args.disabled() {
            return None;
        }
        let opened = runtime().and_then(|runtime| Ok((runtime, open_tracker(args)?)));
        let (runtime, (uri, tracker)) = match opened {
            Ok(opened) => opened,
            Err(error) => {
                warn(
                    "experiment tracking failed, so this model is not tracked (it is saved without a run id)",
                    &error,
                );
                return None;
            }
        };
        let start_time = now_millis();
        let run_name = format!("train-{}", started_stamp());
        let tags = provenance_tags();
        let created = runtime.block_on(async {
            let experiment = tracker.experiment(&args.experiment).await?;
            tracker
                .create_run(&NewRun {
                    experiment_id: experiment.experiment_id,
                    run_name: Some(run_name.clone()),
                    start_time,
                    tags: tags.clone(),
                })
                .await
        });
        let (run_id, queued) = match created {
            Ok(run) => (run.run_id, None),
            Err(error) if unreachable(&error) => (
                uuid::Uuid::new_v4().simple().to_string(),
                Some(QueuedRun {
                    run_name,
                    start_time,
                    tags,
                }),
            ),
            Err(error) => {
                warn(
                    "experiment tracking failed, so this model is not tracked (it is saved without a run id)",
                    &error.into(),
                );
                return None;
            }
        };
        Some(TrainingRun {
            runtime,
            tracker,
            uri,
            experiment: args.experiment.clone(),
            run_id,
            queued,
        })
    }

    /// The run id to store in the model.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Logs params, metrics, tags and the saved model, then ends the run. Whatever the tracker
    /// cannot take because it is out of reach waits in the outbox; on any other failure this
    /// warns (and marks the run FAILED when the tracker still answers).
    pub fn finish(self, params: &Params, artifact: &Artifact, model_path: &Path, model_id: &str) {
        let run_id = self.run_id.clone();
        let bytes = match std::fs::read(model_path) {
            Ok(bytes) => bytes,
            Err(e) => {
                warn(
                    &format!("run {run_id} is not complete"),
                    &anyhow::anyhow!("cannot read back {}: {e}", model_path.display()),
                );
                return;
            }
        };
        let mut batch = training_batch(params, artifact);
        batch.tags.push(KeyValue::new(MODEL_ID_TAG, model_id));
        let file = model_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model.json".into());
        let ops = vec![
            PendingOp::LogBatch(batch),
            PendingOp::Upload {
                path: format!("{MODEL_ARTIFACT_DIR}/{file}"),
                bytes,
            },
            PendingOp::End {
                status: RunStatus::Finished,
                end_time: now_millis(),
            },
        ];
        let tracker = self.tracker.as_ref();
        if let Some(create) = self.queued {
            queue(
                &self.uri,
                tracker,
                &self.experiment,
                &run_id,
                Some(create),
                ops,
            );
            return;
        }
        match self.runtime.block_on(apply(tracker, &run_id, ops)) {
            Ok(()) => eprintln!("tracked run {run_id} ({})", tracker.describe()),
            Err((error, rest)) if unreachable(&error) => {
                queue(&self.uri, tracker, &self.experiment, &run_id, None, rest)
            }
            Err((error, _)) => {
                warn(
                    &format!(
                        "tracking run {run_id} failed; the model is saved and names this run, which may be incomplete"
                    ),
                    &error.into(),
                );
                let _ = self.runtime.block_on(tracker.update_run(
                    &run_id,
                    RunStatus::Failed,
                    Some(now_millis()),
                ));
            }
        }
    }
}

/// `YYYYMMDD-HHMMSS` in UTC, for run names that sort by time.
fn started_stamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_default()
}

/// Who, where and from which commit: MLflow's standard tags plus plain ones for filters.
fn provenance_tags() -> Vec<KeyValue> {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into());
    let mut tags = vec![
        KeyValue::new("host", &host),
        KeyValue::new("user", &user),
        KeyValue::new("amesops.version", env!("CARGO_PKG_VERSION")),
        KeyValue::new("mlflow.user", &user),
        KeyValue::new("mlflow.source.name", "amesops train"),
        KeyValue::new("mlflow.source.type", "LOCAL"),
    ];
    if let Some(commit) = git_commit() {
        tags.push(KeyValue::new("git.commit", &commit));
        tags.push(KeyValue::new("mlflow.source.git.commit", &commit));
    }
    tags
}

/// `git rev-parse HEAD` of the current folder, when it is a git checkout.
fn git_commit() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !commit.is_empty()).then_some(commit)
}

/// Flattens a serialisable section into `prefix.key` params.
fn flattened(prefix: &str, section: &impl serde::Serialize) -> Vec<KeyValue> {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(section) else {
        return Vec::new();
    };
    fields
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            KeyValue::new(format!("{prefix}.{key}"), value)
        })
        .collect()
}

/// The five scores of a `Metrics`, as `<prefix>_<name>` metrics at one step.
fn scores(prefix: &str, m: &Metrics, step: i64, timestamp: i64) -> Vec<Metric> {
    [
        ("rmse_log", m.rmse_log),
        ("rmse", m.rmse),
        ("mae", m.mae),
        ("r2", m.r2),
        ("mape", m.mape),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_finite())
    .map(|(name, value)| Metric {
        key: format!("{prefix}_{name}"),
        value,
        timestamp,
        step,
    })
    .collect()
}

/// What `train` logs: params (`train.*`, `split.*`, `data.md5`), cross-validation metrics with
/// one history step per fold (`cv_fold_*`, steps 1…k), and the final fit's metrics.
pub fn training_batch(params: &Params, artifact: &Artifact) -> Batch {
    let now = now_millis();
    let cv = &artifact.metrics.cv;
    let mut params_logged = flattened("train", &artifact.params);
    params_logged.push(KeyValue::new(
        "split.test_fraction",
        params.split.test_fraction,
    ));
    params_logged.push(KeyValue::new("split.seed", params.split.seed));
    // The rule in force, not `auto`: what a reader comparing two runs needs to know.
    params_logged.push(KeyValue::new(
        "split.hold_out",
        params
            .split
            .hold_out
            .resolve(params.fetch.include_sales)
            .name(),
    ));
    params_logged.push(KeyValue::new("data.md5", &artifact.data_md5));
    let mut metrics = scores("cv", &cv.overall, 0, now);
    for (fold, m) in cv.folds.iter().enumerate() {
        metrics.extend(scores("cv_fold", m, fold as i64 + 1, now));
    }
    metrics.extend(scores("train", &artifact.metrics.train, 0, now));
    for (key, value) in [
        ("cv_mean_fold_rmse_log", cv.mean_fold_rmse_log),
        ("cv_interval_coverage", cv.interval_coverage),
        ("train_rows", artifact.metrics.rows as f64),
        (
            "dropped_outliers",
            artifact.metrics.dropped_outliers.len() as f64,
        ),
        ("features", artifact.feature_names.len() as f64),
        (
            "active_features",
            artifact.model.estimator.active_features() as f64,
        ),
    ] {
        if value.is_finite() {
            metrics.push(Metric {
                key: key.into(),
                value,
                timestamp: now,
                step: 0,
            });
        }
    }
    Batch {
        metrics,
        params: params_logged,
        tags: vec![KeyValue::new("amesops.stage", "train")],
    }
}

/// Logs `evaluate`'s test metrics and output files to the model's run (found by its id, or by
/// its origin where the run is a copy). When the tracker is out of reach they wait in the
/// outbox; on any other failure this warns.
pub fn record_evaluation(
    args: &TrackerArgs,
    run_id: Option<&str>,
    metrics: &Metrics,
    files: &[(&str, &Path)],
) {
    if args.disabled() {
        return;
    }
    let Some(run_id) = run_id else {
        eprintln!(
            "note: the model has no tracker run (it was trained untracked), so the test metrics are not tracked"
        );
        return;
    };
    let mut batch = Batch {
        metrics: scores("test", metrics, 0, now_millis()),
        ..Batch::default()
    };
    batch.metrics.push(Metric {
        key: "test_rows".into(),
        value: metrics.n as f64,
        timestamp: now_millis(),
        step: 0,
    });
    let mut ops = vec![PendingOp::LogBatch(batch)];
    for (artifact_path, local) in files {
        match std::fs::read(local) {
            Ok(bytes) => ops.push(PendingOp::Upload {
                path: artifact_path.to_string(),
                bytes,
            }),
            Err(e) => warn(
                &format!("{artifact_path} is not tracked"),
                &anyhow::anyhow!("cannot read back {}: {e}", local.display()),
            ),
        }
    }
    let opened = runtime().and_then(|runtime| Ok((runtime, open_tracker(args)?)));
    let (runtime, (uri, tracker)) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            warn(
                &format!("the test metrics were written but not tracked in run {run_id}"),
                &error,
            );
            return;
        }
    };
    let tracker = tracker.as_ref();
    let found = runtime.block_on(tracker::find_run(tracker, run_id, Some(&args.experiment)));
    let result = match found {
        Ok(Some(run)) => runtime.block_on(apply(tracker, &run.info.run_id, ops)),
        Ok(None) if Outbox::local().find(run_id).ok().flatten().is_some() => {
            // The run itself still waits in the outbox (its replay failed): join it there.
            queue(&uri, tracker, &args.experiment, run_id, None, ops);
            return;
        }
        Ok(None) => {
            warn(
                &format!("the test metrics were written but not tracked in run {run_id}"),
                &anyhow::anyhow!(
                    "the model's run is not in {}; evaluate with the --tracker it was trained with",
                    tracker.describe()
                ),
            );
            return;
        }
        Err(error) => Err((error, ops)),
    };
    match result {
        Ok(()) => eprintln!(
            "tracked test metrics in run {run_id} ({})",
            tracker.describe()
        ),
        Err((error, rest)) if unreachable(&error) => {
            queue(&uri, tracker, &args.experiment, run_id, None, rest)
        }
        Err((error, _)) => warn(
            &format!("the test metrics were written but not tracked in run {run_id}"),
            &error.into(),
        ),
    }
}
