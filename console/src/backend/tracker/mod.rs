//! `Tracker`: experiments, runs, metrics, artifacts and the model registry, over MLflow's REST
//! API or an embedded SQLite store with the same semantics.
//!
//! The trait is object-safe (every call returns a boxed future), so views and commands hold an
//! `Arc<dyn Tracker>` and never know which store answers.

mod batch;
mod error;
mod filter;
mod folder;
mod mlflow;
mod origin;
pub mod outbox;
mod registry;
mod replaying;
mod sqlite;
pub mod transfer;
mod types;
mod uri;

use futures_util::future::BoxFuture;

pub use batch::{MAX_METRICS_PER_REQUEST, MAX_PARAMS_TAGS_PER_REQUEST};
pub use error::{ErrorKind, TrackerError, TrackerResult};
pub use mlflow::{Auth, MlflowTracker};
pub use origin::{ORIGIN_TAG, find_run, origin, origin_filter};
pub use registry::{
    MODEL_ARTIFACT_DIR, MODEL_ID_TAG, PREVIOUS_PRODUCTION_TAG, PRODUCTION_ALIAS, REGISTERED_MODEL,
    register_production, rollback_production,
};
pub use sqlite::SqliteTracker;
pub use types::{
    Batch, Experiment, FileInfo, KeyValue, Metric, ModelVersion, NewModelVersion, NewRun, Run,
    RunInfo, RunSearch, RunStatus,
};
pub use uri::{DEFAULT_SQLITE_PATH, TrackerUri, open, open_store};

/// The future every tracker call returns.
pub type TrackerFuture<'a, T> = BoxFuture<'a, TrackerResult<T>>;

/// Milliseconds since the Unix epoch: the tracker's unit of time.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An experiment tracker: where runs, their metrics and artifacts, and model versions live.
pub trait Tracker: Send + Sync {
    /// Where it stores things, for messages (`MLflow at http://…`, `SQLite at .amesops/…`).
    fn describe(&self) -> String;

    /// The experiment with this name, created when missing.
    fn experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Experiment>;

    /// The experiment with this name, `None` when there is none (nothing is created, so
    /// reading a remote store never changes it).
    fn find_experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Option<Experiment>>;

    /// Every active experiment.
    fn experiments(&self) -> TrackerFuture<'_, Vec<Experiment>>;

    /// Starts a run (status `RUNNING`).
    fn create_run<'a>(&'a self, run: &'a NewRun) -> TrackerFuture<'a, RunInfo>;

    /// Sets a run's status and end time.
    fn update_run<'a>(
        &'a self,
        run_id: &'a str,
        status: RunStatus,
        end_time: Option<i64>,
    ) -> TrackerFuture<'a, RunInfo>;

    /// Logs metrics, params and tags, in as many requests as the store's limits need.
    /// A param that already has another value in the run is refused (`InvalidInput`).
    fn log_batch<'a>(&'a self, run_id: &'a str, batch: &'a Batch) -> TrackerFuture<'a, ()>;

    /// Every value ever logged for one metric of a run, by step then time.
    fn metric_history<'a>(
        &'a self,
        run_id: &'a str,
        key: &'a str,
    ) -> TrackerFuture<'a, Vec<Metric>>;

    /// The whole history of every metric of a run, by key, step and time. Stores that can
    /// answer in one request override this; the default asks once per metric.
    fn metric_histories<'a>(&'a self, run_id: &'a str) -> TrackerFuture<'a, Vec<Metric>> {
        Box::pin(async move {
            let run = self.get_run(run_id).await?;
            let mut values = Vec::new();
            for key in run.metrics.keys() {
                values.extend(self.metric_history(run_id, key).await?);
            }
            Ok(values)
        })
    }

    /// One run with its data; `NotFound` when there is no such run.
    fn get_run<'a>(&'a self, run_id: &'a str) -> TrackerFuture<'a, Run>;

    /// Runs matching a filter, in the requested order.
    fn search_runs<'a>(&'a self, search: &'a RunSearch) -> TrackerFuture<'a, Vec<Run>>;

    /// Stores a file under the run's artifacts at `path` (`/`-separated, relative).
    fn upload_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
        bytes: Vec<u8>,
    ) -> TrackerFuture<'a, ()>;

    /// Reads back one artifact file.
    fn download_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
    ) -> TrackerFuture<'a, Vec<u8>>;

    /// The entries directly under `path` (the root when `None`), sorted by path.
    fn list_artifacts<'a>(
        &'a self,
        run_id: &'a str,
        path: Option<&'a str>,
    ) -> TrackerFuture<'a, Vec<FileInfo>>;

    /// Creates a registered model; an existing one is left as it is.
    fn create_registered_model<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, ()>;

    /// Adds a version to a registered model (numbered 1, 2, …).
    fn create_model_version<'a>(
        &'a self,
        version: &'a NewModelVersion,
    ) -> TrackerFuture<'a, ModelVersion>;

    /// Every version of a registered model, oldest first; empty when there is no such model.
    fn model_versions<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Vec<ModelVersion>>;

    /// One version of a registered model.
    fn get_model_version<'a>(
        &'a self,
        name: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ModelVersion>;

    /// Points an alias (e.g. `production`) at a version, moving it if it pointed elsewhere.
    fn set_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ()>;

    /// The version an alias points at, `None` when the alias is not set.
    fn get_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
    ) -> TrackerFuture<'a, Option<ModelVersion>>;

    /// Removes an alias.
    fn delete_alias<'a>(&'a self, name: &'a str, alias: &'a str) -> TrackerFuture<'a, ()>;

    /// Logs one parameter (see [`Tracker::log_batch`] for the no-change rule).
    fn log_param<'a>(
        &'a self,
        run_id: &'a str,
        key: &'a str,
        value: &'a str,
    ) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            let batch = Batch {
                params: vec![KeyValue::new(key, value)],
                ..Batch::default()
            };
            self.log_batch(run_id, &batch).await
        })
    }

    /// Logs one metric value at a step.
    fn log_metric<'a>(&'a self, run_id: &'a str, metric: Metric) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            let batch = Batch {
                metrics: vec![metric],
                ..Batch::default()
            };
            self.log_batch(run_id, &batch).await
        })
    }

    /// Sets one tag.
    fn set_tag<'a>(
        &'a self,
        run_id: &'a str,
        key: &'a str,
        value: &'a str,
    ) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            let batch = Batch {
                tags: vec![KeyValue::new(key, value)],
                ..Batch::default()
            };
            self.log_batch(run_id, &batch).await
        })
    }
}
