//! The project as the console sees it: pipeline status, pipeline runs and tracked runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use crate::backend::tracker::{self, Tracker};
use crate::config::Config;
use crate::pipeline::{self, report, tool};

/// Why the project's state could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// The tracker could not be opened or answered with an error.
    #[error(transparent)]
    Tracker(#[from] tracker::TrackerError),
    /// `dvc.yaml`, `dvc.lock`, `params.yaml` or a file they name could not be read.
    #[error(transparent)]
    Pipeline(#[from] pipeline::Error),
    /// The blocking read was cancelled or panicked.
    #[error("reading the pipeline's status stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

// What the console shows of the project, defined here (below the interface) so loading it
// needs nothing from the views that draw it.

/// One run as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Run id.
    pub run_id: String,
    /// Run name.
    pub name: String,
    /// Start time (RFC 3339).
    pub start_time: String,
    /// Parameters.
    pub params: BTreeMap<String, String>,
    /// Latest metric values.
    pub metrics: BTreeMap<String, f64>,
    /// Whether this run produced the production model.
    pub production: bool,
    /// The model it trained (its `amesops.model_id` tag), when it recorded one.
    pub model_id: Option<String>,
}

/// One stage as shown.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    /// Stage name.
    pub name: String,
    /// up to date · changed · never run · running · failed · frozen · stale upstream · always changed.
    pub status: String,
    /// Why it is not up to date.
    pub why: String,
    /// The command.
    pub cmd: String,
    /// Details for `enter`: deps with hashes, outs, params.
    pub details: Vec<String>,
}

/// Status of the whole pipeline.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PipelineSnapshot {
    /// Stages in DAG order.
    pub stages: Vec<StageRow>,
    /// Metrics of the last evaluation (`metrics.json`).
    pub metrics: Vec<(String, f64)>,
    /// Summary of the fetch stage's data-quality report (`data/fetch-report.json`).
    pub data_quality: Option<String>,
    /// Whether DVC is installed (runs use `dvc repro`).
    pub dvc: bool,
}

/// Runs listed in the Experiments view.
const RUNS_SHOWN: usize = 200;

/// The project folder and its tracker.
pub struct Project {
    /// Folder holding dvc.yaml.
    pub root: PathBuf,
    /// Tracker URI from the configuration.
    tracker_uri: Option<String>,
    /// Experiment whose runs are listed (`MLFLOW_EXPERIMENT_NAME`, else `amesops`).
    experiment: String,
}

impl Project {
    /// The project at the configuration's root.
    pub fn open(config: &Config) -> Result<Project> {
        let root = config.root.clone();
        let experiment = std::env::var("MLFLOW_EXPERIMENT_NAME")
            .ok()
            .filter(|e| !e.is_empty());
        Ok(Project::at(root, config.tracker.clone(), experiment))
    }

    /// A project at `root` with an explicit tracker and experiment.
    pub fn at(root: PathBuf, tracker_uri: Option<String>, experiment: Option<String>) -> Project {
        Project {
            root,
            tracker_uri,
            experiment: experiment.unwrap_or_else(|| crate::config::DEFAULT_EXPERIMENT.to_string()),
        }
    }

    /// The tracker, opened on demand (SQLite under `.amesops/` unless an MLflow URI is set).
    pub fn tracker(&self) -> Result<Arc<dyn Tracker>, ProjectError> {
        let uri = tracker::TrackerUri::parse(self.tracker_uri.as_deref())?;
        Ok(tracker::open(&uri)?)
    }

    /// Pipeline status as the Pipeline view shows it.
    pub async fn pipeline_snapshot(&self) -> Result<PipelineSnapshot, ProjectError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || snapshot(root)).await?
    }

    /// Runs from the tracker, newest first, with the production run marked.
    pub async fn runs(&self) -> Result<Vec<RunRow>, ProjectError> {
        let tracker = self.tracker()?;
        let experiment = tracker.experiment(&self.experiment).await?;
        let search = tracker::RunSearch {
            experiment_ids: vec![experiment.experiment_id],
            filter: None,
            order_by: Vec::new(),
            max_results: RUNS_SHOWN,
        };
        let runs = tracker.search_runs(&search).await?;
        let production = tracker
            .get_alias(tracker::REGISTERED_MODEL, tracker::PRODUCTION_ALIAS)
            .await
            .ok()
            .flatten()
            .and_then(|v| v.run_id);
        Ok(runs
            .into_iter()
            .map(|run| RunRow {
                production: production.as_deref() == Some(run.info.run_id.as_str()),
                model_id: run.tags.get(tracker::MODEL_ID_TAG).cloned(),
                start_time: time::OffsetDateTime::from_unix_timestamp(run.info.start_time / 1000)
                    .ok()
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_default(),
                metrics: run
                    .metrics
                    .iter()
                    .map(|(k, m)| (k.clone(), m.value))
                    .collect(),
                params: run.params,
                name: run.info.run_name,
                run_id: run.info.run_id,
            })
            .collect())
    }
}

fn snapshot(root: PathBuf) -> Result<PipelineSnapshot, ProjectError> {
    let project = pipeline::Project::load(&root)?;
    let status = project.status()?;
    let stages = status
        .in_run_order()
        .map(|s| {
            let definition = project.stages.iter().find(|d| d.name == s.name);
            let mut details = Vec::new();
            if let Some(lock) = project.lock.stage(&s.name) {
                for dep in &lock.deps {
                    details.push(format!(
                        "dep  {} {}",
                        dep.path,
                        dep.md5.as_deref().unwrap_or("-")
                    ));
                }
                for out in &lock.outs {
                    details.push(format!(
                        "out  {} {}",
                        out.path,
                        out.md5.as_deref().unwrap_or("-")
                    ));
                }
            }
            StageRow {
                name: s.name.clone(),
                status: s.state().as_str().to_string(),
                why: report::reasons(s).join("; "),
                cmd: definition
                    .map(|d| d.commands().join(" && "))
                    .unwrap_or_default(),
                details,
            }
        })
        .collect();
    let metrics = std::fs::read(root.join("metrics.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|json| {
            ["rmse_log", "rmse", "mae", "r2", "mape"]
                .iter()
                .filter_map(|k| {
                    json.get(*k)
                        .and_then(|v| v.as_f64())
                        .map(|v| (k.to_string(), v))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PipelineSnapshot {
        stages,
        metrics,
        data_quality: crate::data_quality::load(&root).map(|r| r.summary()),
        dvc: tool::find_dvc().is_some(),
    })
}
