//! The tracker's vocabulary: experiments, runs, metrics, artifacts and model versions, shaped
//! like MLflow's entities so both stores answer with the same values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Lifecycle state of a run, named as MLflow names it so filters and JSON agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// Started and not ended.
    Running,
    /// Created to be started later.
    Scheduled,
    /// Ended normally.
    Finished,
    /// Ended by an error.
    Failed,
    /// Stopped from outside.
    Killed,
}

impl RunStatus {
    /// MLflow's spelling, as stored and as filtered on.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "RUNNING",
            RunStatus::Scheduled => "SCHEDULED",
            RunStatus::Finished => "FINISHED",
            RunStatus::Failed => "FAILED",
            RunStatus::Killed => "KILLED",
        }
    }

    /// Reads MLflow's spelling (any case), so stored and remote statuses share one type.
    pub fn parse(text: &str) -> Option<RunStatus> {
        [
            RunStatus::Running,
            RunStatus::Scheduled,
            RunStatus::Finished,
            RunStatus::Failed,
            RunStatus::Killed,
        ]
        .into_iter()
        .find(|status| status.as_str().eq_ignore_ascii_case(text))
    }
}

/// A named group of runs: every `amesops train` of one project lands in the same one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Experiment {
    /// The tracker's id (a number in MLflow, kept as text).
    pub experiment_id: String,
    /// The unique name.
    pub name: String,
    /// Where its runs' artifacts go by default.
    pub artifact_location: String,
}

/// One value of a metric; a metric's history is a list of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Metric name, e.g. `cv_rmse_log`.
    pub key: String,
    /// The value (finite: MLflow's JSON cannot carry NaN reliably).
    pub value: f64,
    /// When it was measured, in milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// Position in the history (a fold, an epoch); 0 for a single value.
    pub step: i64,
}

/// A key and a value: a parameter or a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value.
    pub value: String,
}

impl KeyValue {
    /// Builds a pair from anything printable, so callers log numbers without formatting noise.
    pub fn new(key: impl Into<String>, value: impl ToString) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: value.to_string(),
        }
    }
}

/// Everything logged to a run in one call; stores split it to respect MLflow's batch limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Batch {
    /// Metric values.
    pub metrics: Vec<Metric>,
    /// Parameters (a parameter's value can never change within a run).
    pub params: Vec<KeyValue>,
    /// Tags (a tag's value can be overwritten).
    pub tags: Vec<KeyValue>,
}

impl Batch {
    /// Whether there is nothing to log, so callers can skip a round trip.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty() && self.params.is_empty() && self.tags.is_empty()
    }
}

/// What a new run starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// The experiment it belongs to.
    pub experiment_id: String,
    /// A human-readable name.
    pub run_name: Option<String>,
    /// Start time in milliseconds since the Unix epoch.
    pub start_time: i64,
    /// Tags set at creation.
    pub tags: Vec<KeyValue>,
}

/// A run's identity and lifecycle, without its data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunInfo {
    /// The run id (32 hex digits in both stores).
    pub run_id: String,
    /// The experiment it belongs to.
    pub experiment_id: String,
    /// Human-readable name.
    pub run_name: String,
    /// Lifecycle state.
    pub status: RunStatus,
    /// Start time in milliseconds since the Unix epoch.
    pub start_time: i64,
    /// End time in milliseconds since the Unix epoch, once ended.
    pub end_time: Option<i64>,
    /// Where its artifacts are stored.
    pub artifact_uri: String,
}

/// A run with its latest metric values, parameters and tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// Identity and lifecycle.
    pub info: RunInfo,
    /// Latest value of each metric (highest step, then newest).
    pub metrics: BTreeMap<String, Metric>,
    /// Parameters.
    pub params: BTreeMap<String, String>,
    /// Tags, including MLflow's system tags such as `mlflow.runName`.
    pub tags: BTreeMap<String, String>,
}

impl Run {
    /// The latest value of a metric, for tables and comparisons.
    pub fn metric(&self, key: &str) -> Option<f64> {
        self.metrics.get(key).map(|m| m.value)
    }
}

/// A search over runs: MLflow's filter and order syntax, so users type one language everywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSearch {
    /// Experiments to search.
    pub experiment_ids: Vec<String>,
    /// e.g. `metrics.cv_rmse_log < 0.13 and params.train.alpha = '0.0005'`.
    pub filter: Option<String>,
    /// e.g. `["metrics.cv_rmse_log ASC"]`; newest first when empty.
    pub order_by: Vec<String>,
    /// At most this many runs.
    pub max_results: usize,
}

/// One entry of an artifact listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    /// Path relative to the run's artifact root, `/`-separated.
    pub path: String,
    /// Whether it is a folder.
    pub is_dir: bool,
    /// Size in bytes of a file.
    pub file_size: Option<u64>,
}

/// What a new registered model version points at.
#[derive(Debug, Clone, PartialEq)]
pub struct NewModelVersion {
    /// The registered model, e.g. `ames-price`.
    pub name: String,
    /// Where the model is, e.g. `runs:/<run id>/model`.
    pub source: String,
    /// The run that produced it.
    pub run_id: Option<String>,
    /// Tags of the version (e.g. the model id).
    pub tags: Vec<KeyValue>,
}

/// A version of a registered model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelVersion {
    /// The registered model.
    pub name: String,
    /// The version number (MLflow sends it as text).
    pub version: String,
    /// Where the model is.
    pub source: String,
    /// The run that produced it.
    pub run_id: Option<String>,
    /// Aliases pointing at it (e.g. `production`).
    pub aliases: Vec<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
}
