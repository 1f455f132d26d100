//! The MLflow tracker: the REST API of an MLflow server (checked against 3.17.2), with
//! artifacts through the server's artifact proxy (`mlflow server --artifacts-destination …`).

mod artifacts;
mod http;
mod wire;

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::batch;
use super::error::{ErrorKind, TrackerError, TrackerResult};
use super::types::{
    Batch, Experiment, FileInfo, Metric, ModelVersion, NewModelVersion, NewRun, Run, RunInfo,
    RunSearch, RunStatus,
};
use super::{Tracker, TrackerFuture};

pub use http::Auth;
use http::Http;
use wire::{
    CreatedExperiment, ExperimentAnswer, ExperimentsPage, HistoryPage, ModelVersionAnswer,
    ModelVersionsPage, RunAnswer, RunInfoAnswer, SearchPage,
};

/// Runs per `runs/search` page.
const SEARCH_PAGE: usize = 1000;
/// Experiment tag MLflow's UI reads to choose the experiment's view.
const EXPERIMENT_KIND_TAG: &str = "mlflow.experimentKind";
/// Its value for experiments of training runs.
const MODEL_TRAINING_KIND: &str = "custom_model_development";
/// Experiments per `experiments/search` page.
const EXPERIMENT_PAGE: usize = 1000;
/// Versions per `model-versions/search` page.
const VERSION_PAGE: usize = 1000;

/// A client of one MLflow tracking server.
pub struct MlflowTracker {
    http: Http,
    /// Artifact URIs of runs already looked up (they never change).
    artifact_uris: Mutex<HashMap<String, String>>,
}

impl MlflowTracker {
    /// A client for the server at `base_url`; nothing is sent until the first call.
    pub fn new(base_url: &str, auth: Auth) -> TrackerResult<MlflowTracker> {
        Ok(MlflowTracker {
            http: Http::new(base_url, auth)?,
            artifact_uris: Mutex::new(HashMap::new()),
        })
    }

    async fn experiment_by_name(&self, name: &str) -> TrackerResult<Option<Experiment>> {
        match self
            .http
            .get::<ExperimentAnswer>("experiments/get-by-name", &[("experiment_name", name)])
            .await
        {
            Ok(answer) => Ok(Some(answer.experiment.into())),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Whether an error is MLflow's answer for an alias that is not set.
fn is_missing_alias(error: &TrackerError) -> bool {
    error.kind == ErrorKind::InvalidInput
        && error.message.contains("alias")
        && error.message.contains("not found")
}

impl Tracker for MlflowTracker {
    fn describe(&self) -> String {
        format!("MLflow at {}", self.http.base())
    }

    fn experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Experiment> {
        Box::pin(async move {
            if let Some(found) = self.experiment_by_name(name).await? {
                return Ok(found);
            }
            match self
                .http
                .post::<CreatedExperiment>(
                    "experiments/create",
                    &json!({
                        "name": name,
                        // MLflow 3's UI opens an experiment of this kind on its runs (model
                        // training), not on the GenAI traces overview.
                        "tags": [{ "key": EXPERIMENT_KIND_TAG, "value": MODEL_TRAINING_KIND }],
                    }),
                )
                .await
            {
                Ok(_)
                | Err(TrackerError {
                    kind: ErrorKind::AlreadyExists,
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
            self.experiment_by_name(name).await?.ok_or_else(|| {
                TrackerError::new(
                    "MLflow experiments/get-by-name",
                    ErrorKind::Protocol,
                    format!("experiment {name:?} was created but cannot be found"),
                )
            })
        })
    }

    fn find_experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Option<Experiment>> {
        Box::pin(self.experiment_by_name(name))
    }

    fn experiments(&self) -> TrackerFuture<'_, Vec<Experiment>> {
        Box::pin(async move {
            let mut experiments = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut body =
                    json!({ "max_results": EXPERIMENT_PAGE, "view_type": "ACTIVE_ONLY" });
                if let Some(t) = &token {
                    body["page_token"] = Value::String(t.clone());
                }
                let page: ExperimentsPage = self.http.post("experiments/search", &body).await?;
                experiments.extend(page.experiments.into_iter().map(Experiment::from));
                token = page.next_page_token.filter(|t| !t.is_empty());
                if token.is_none() {
                    return Ok(experiments);
                }
            }
        })
    }

    fn create_run<'a>(&'a self, run: &'a NewRun) -> TrackerFuture<'a, RunInfo> {
        Box::pin(async move {
            let mut body = json!({
                "experiment_id": run.experiment_id,
                "start_time": run.start_time,
                "tags": wire::key_values(&run.tags),
            });
            if let Some(name) = &run.run_name {
                body["run_name"] = Value::String(name.clone());
            }
            // MLflow's own client sends the user as `user_id` too (shown as the run's user).
            if let Some(user) = run.tags.iter().find(|t| t.key == "mlflow.user") {
                body["user_id"] = Value::String(user.value.clone());
            }
            let answer: RunAnswer = self.http.post("runs/create", &body).await?;
            answer.run.into_run("runs/create").map(|r| r.info)
        })
    }

    fn update_run<'a>(
        &'a self,
        run_id: &'a str,
        status: RunStatus,
        end_time: Option<i64>,
    ) -> TrackerFuture<'a, RunInfo> {
        Box::pin(async move {
            let mut body = json!({ "run_id": run_id, "status": status.as_str() });
            if let Some(end) = end_time {
                body["end_time"] = json!(end);
            }
            let answer: RunInfoAnswer = self.http.post("runs/update", &body).await?;
            answer.run_info.into_info("runs/update")
        })
    }

    fn log_batch<'a>(&'a self, run_id: &'a str, batch: &'a Batch) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            let batch = batch::validated("MLflow runs/log-batch", batch)?;
            for request in batch::chunks(&batch) {
                let body = json!({
                    "run_id": run_id,
                    "metrics": wire::metrics(&request.metrics),
                    "params": wire::key_values(&request.params),
                    "tags": wire::key_values(&request.tags),
                });
                self.http.post::<Value>("runs/log-batch", &body).await?;
            }
            Ok(())
        })
    }

    fn metric_history<'a>(
        &'a self,
        run_id: &'a str,
        key: &'a str,
    ) -> TrackerFuture<'a, Vec<Metric>> {
        Box::pin(async move {
            let mut values = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut query = vec![
                    ("run_id", run_id),
                    ("metric_key", key),
                    ("max_results", "25000"),
                ];
                if let Some(t) = token.as_deref() {
                    query.push(("page_token", t));
                }
                let page: HistoryPage = self.http.get("metrics/get-history", &query).await?;
                values.extend(page.metrics.into_iter().map(Metric::from));
                token = page.next_page_token.filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
            values.sort_by(|a, b| {
                (a.step, a.timestamp)
                    .cmp(&(b.step, b.timestamp))
                    .then(a.value.total_cmp(&b.value))
            });
            Ok(values)
        })
    }

    fn get_run<'a>(&'a self, run_id: &'a str) -> TrackerFuture<'a, Run> {
        Box::pin(async move {
            let answer: RunAnswer = self.http.get("runs/get", &[("run_id", run_id)]).await?;
            answer.run.into_run("runs/get")
        })
    }

    fn search_runs<'a>(&'a self, search: &'a RunSearch) -> TrackerFuture<'a, Vec<Run>> {
        Box::pin(async move {
            let wanted = search.max_results;
            let mut runs = Vec::new();
            let mut token: Option<String> = None;
            while runs.len() < wanted {
                let mut body = json!({
                    "experiment_ids": search.experiment_ids,
                    "filter": search.filter.clone().unwrap_or_default(),
                    "order_by": search.order_by,
                    "max_results": (wanted - runs.len()).min(SEARCH_PAGE),
                });
                if let Some(t) = &token {
                    body["page_token"] = Value::String(t.clone());
                }
                let page: SearchPage = self.http.post("runs/search", &body).await?;
                for run in page.runs {
                    runs.push(run.into_run("runs/search")?);
                }
                token = page.next_page_token.filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
            runs.truncate(wanted);
            Ok(runs)
        })
    }

    fn upload_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
        bytes: Vec<u8>,
    ) -> TrackerFuture<'a, ()> {
        Box::pin(self.upload(run_id, path, bytes))
    }

    fn download_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
    ) -> TrackerFuture<'a, Vec<u8>> {
        Box::pin(self.download(run_id, path))
    }

    fn list_artifacts<'a>(
        &'a self,
        run_id: &'a str,
        path: Option<&'a str>,
    ) -> TrackerFuture<'a, Vec<FileInfo>> {
        Box::pin(self.list(run_id, path))
    }

    fn create_registered_model<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            match self
                .http
                .post::<Value>("registered-models/create", &json!({ "name": name }))
                .await
            {
                Ok(_)
                | Err(TrackerError {
                    kind: ErrorKind::AlreadyExists,
                    ..
                }) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }

    fn create_model_version<'a>(
        &'a self,
        version: &'a NewModelVersion,
    ) -> TrackerFuture<'a, ModelVersion> {
        Box::pin(async move {
            let mut body = json!({
                "name": version.name,
                "source": version.source,
                "tags": wire::key_values(&version.tags),
            });
            if let Some(run_id) = &version.run_id {
                body["run_id"] = Value::String(run_id.clone());
            }
            let answer: ModelVersionAnswer = self.http.post("model-versions/create", &body).await?;
            Ok(answer.model_version.into())
        })
    }

    fn model_versions<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Vec<ModelVersion>> {
        Box::pin(async move {
            // The filter is SQL-like: a name is quoted, with its own quotes doubled.
            let filter = format!("name = '{}'", name.replace('\'', "''"));
            let page_size = VERSION_PAGE.to_string();
            let mut versions = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut query = vec![("filter", filter.as_str()), ("max_results", &page_size)];
                if let Some(t) = token.as_deref() {
                    query.push(("page_token", t));
                }
                let page: ModelVersionsPage =
                    match self.http.get("model-versions/search", &query).await {
                        Ok(page) => page,
                        Err(e) if e.kind == ErrorKind::NotFound => return Ok(Vec::new()),
                        Err(e) => return Err(e),
                    };
                versions.extend(page.model_versions.into_iter().map(ModelVersion::from));
                token = page.next_page_token.filter(|t| !t.is_empty());
                if token.is_none() {
                    break;
                }
            }
            versions.sort_by_key(|v| v.version.parse::<u64>().unwrap_or(u64::MAX));
            Ok(versions)
        })
    }

    fn get_model_version<'a>(
        &'a self,
        name: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ModelVersion> {
        Box::pin(async move {
            let answer: ModelVersionAnswer = self
                .http
                .get(
                    "model-versions/get",
                    &[("name", name), ("version", version)],
                )
                .await?;
            Ok(answer.model_version.into())
        })
    }

    fn set_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            let body = json!({ "name": name, "alias": alias, "version": version });
            self.http
                .post::<Value>("registered-models/alias", &body)
                .await
                .map(drop)
        })
    }

    fn get_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
    ) -> TrackerFuture<'a, Option<ModelVersion>> {
        Box::pin(async move {
            match self
                .http
                .get::<ModelVersionAnswer>(
                    "registered-models/alias",
                    &[("name", name), ("alias", alias)],
                )
                .await
            {
                Ok(answer) => Ok(Some(answer.model_version.into())),
                // MLflow answers an unset alias with 400 INVALID_PARAMETER_VALUE
                // "Registered model alias … not found." (a missing model is 404).
                Err(e) if e.kind == ErrorKind::NotFound || is_missing_alias(&e) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn delete_alias<'a>(&'a self, name: &'a str, alias: &'a str) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            let body = json!({ "name": name, "alias": alias });
            self.http
                .delete("registered-models/alias", &body)
                .await
                .map(drop)
        })
    }
}
