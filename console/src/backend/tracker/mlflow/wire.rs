//! MLflow's JSON shapes and their conversion to the tracker's types. Numbers that protobuf
//! calls int64 may arrive as JSON numbers or strings, so both are read.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};

use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::types::{
    Experiment, FileInfo, KeyValue, Metric, ModelVersion, Run, RunInfo, RunStatus,
};

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => s.parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    })
}

/// `experiments/get-by-name`, `experiments/create`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireExperiment {
    experiment_id: String,
    name: String,
    artifact_location: String,
}

impl From<WireExperiment> for Experiment {
    fn from(w: WireExperiment) -> Self {
        Experiment {
            experiment_id: w.experiment_id,
            name: w.name,
            artifact_location: w.artifact_location,
        }
    }
}

/// A key/value pair as MLflow sends it.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct WireKeyValue {
    key: String,
    value: String,
}

/// A metric as MLflow sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireMetric {
    key: String,
    #[serde(deserialize_with = "lenient_f64")]
    value: f64,
    #[serde(deserialize_with = "lenient_i64")]
    timestamp: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    step: Option<i64>,
}

impl From<WireMetric> for Metric {
    fn from(w: WireMetric) -> Self {
        Metric {
            key: w.key,
            value: w.value,
            timestamp: w.timestamp.unwrap_or(0),
            step: w.step.unwrap_or(0),
        }
    }
}

/// `run_info`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireRunInfo {
    run_id: String,
    run_uuid: String,
    experiment_id: String,
    run_name: String,
    status: String,
    #[serde(deserialize_with = "lenient_i64")]
    start_time: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    end_time: Option<i64>,
    artifact_uri: String,
}

impl WireRunInfo {
    /// The run info, refusing an answer without an id or with an unknown status.
    pub fn into_info(self, call: &str) -> TrackerResult<RunInfo> {
        let run_id = if self.run_id.is_empty() {
            self.run_uuid
        } else {
            self.run_id
        };
        let status = RunStatus::parse(&self.status);
        match (run_id.is_empty(), status) {
            (false, Some(status)) => Ok(RunInfo {
                run_id,
                experiment_id: self.experiment_id,
                run_name: self.run_name,
                status,
                start_time: self.start_time.unwrap_or(0),
                end_time: self.end_time,
                artifact_uri: self.artifact_uri,
            }),
            _ => Err(TrackerError::new(
                format!("MLflow {call}"),
                ErrorKind::Protocol,
                format!(
                    "run info without an id or with unknown status {:?}",
                    self.status
                ),
            )),
        }
    }
}

/// `run.data`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireRunData {
    metrics: Vec<WireMetric>,
    params: Vec<WireKeyValue>,
    tags: Vec<WireKeyValue>,
}

/// A run as MLflow sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireRun {
    info: WireRunInfo,
    data: WireRunData,
}

impl WireRun {
    /// The run with its data.
    pub fn into_run(self, call: &str) -> TrackerResult<Run> {
        Ok(Run {
            info: self.info.into_info(call)?,
            metrics: self
                .data
                .metrics
                .into_iter()
                .map(|m| (m.key.clone(), Metric::from(m)))
                .collect(),
            params: self
                .data
                .params
                .into_iter()
                .map(|p| (p.key, p.value))
                .collect(),
            tags: self
                .data
                .tags
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect(),
        })
    }
}

/// A model version as MLflow sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireModelVersion {
    name: String,
    version: Value,
    source: String,
    run_id: String,
    aliases: Vec<String>,
    tags: Vec<WireKeyValue>,
}

impl From<WireModelVersion> for ModelVersion {
    fn from(w: WireModelVersion) -> Self {
        let mut aliases = w.aliases;
        aliases.sort();
        ModelVersion {
            name: w.name,
            version: match w.version {
                Value::String(s) => s,
                other => other.to_string(),
            },
            source: w.source,
            run_id: Some(w.run_id).filter(|r| !r.is_empty()),
            aliases,
            tags: w.tags.into_iter().map(|t| (t.key, t.value)).collect(),
        }
    }
}

/// An artifact listing entry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WireFileInfo {
    path: String,
    is_dir: bool,
    #[serde(deserialize_with = "lenient_i64")]
    file_size: Option<i64>,
}

impl From<WireFileInfo> for FileInfo {
    fn from(w: WireFileInfo) -> Self {
        FileInfo {
            path: w.path,
            is_dir: w.is_dir,
            file_size: if w.is_dir {
                None
            } else {
                w.file_size.and_then(|s| u64::try_from(s).ok())
            },
        }
    }
}

/// Key/value pairs as MLflow's request JSON.
pub fn key_values(pairs: &[KeyValue]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|p| json!({"key": p.key, "value": p.value}))
            .collect(),
    )
}

/// Metrics as MLflow's request JSON.
pub fn metrics(values: &[Metric]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|m| json!({"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}))
            .collect(),
    )
}

/// `{"experiment": …}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExperimentAnswer {
    /// The experiment.
    pub experiment: WireExperiment,
}

/// `{"experiment_id": …}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreatedExperiment {
    /// Its id.
    pub experiment_id: String,
}

/// `{"run": …}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunAnswer {
    /// The run.
    pub run: WireRun,
}

/// `{"run_info": …}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RunInfoAnswer {
    /// The run info.
    pub run_info: WireRunInfo,
}

/// One page of `runs/search`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SearchPage {
    /// Runs on this page.
    pub runs: Vec<WireRun>,
    /// Where the next page starts.
    pub next_page_token: Option<String>,
}

/// One page of `metrics/get-history`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HistoryPage {
    /// Values on this page.
    pub metrics: Vec<WireMetric>,
    /// Where the next page starts.
    pub next_page_token: Option<String>,
}

/// One page of `artifacts/list`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListPage {
    /// Entries on this page.
    pub files: Vec<WireFileInfo>,
    /// Where the next page starts.
    pub next_page_token: Option<String>,
}

/// `{"model_version": …}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModelVersionAnswer {
    /// The version.
    pub model_version: WireModelVersion,
}

/// One page of `experiments/search`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExperimentsPage {
    /// Experiments on this page.
    pub experiments: Vec<WireExperiment>,
    /// Where the next page starts.
    pub next_page_token: Option<String>,
}

/// One page of `model-versions/search`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ModelVersionsPage {
    /// Versions on this page.
    pub model_versions: Vec<WireModelVersion>,
    /// Where the next page starts.
    pub next_page_token: Option<String>,
}
