//! Everything that can happen in the console, as values: keys become actions, actions update
//! the app, and the app asks for background work with commands.

use super::views::deploy::DeployStatus;
use super::views::experiments::RunRow;
use super::views::pipeline::{PipelineSnapshot, RunEvent};
use super::views::predict::{FormSchema, PredictOutcome, TestHouse};
use super::views::predictions::{RecordPage, RecordRow};
use crate::backend::logs::LogEvent;

/// A view of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewId {
    /// Stages and their status.
    Pipeline,
    /// The predictor's log stream.
    Logs,
    /// Stored prediction records.
    Predictions,
    /// Tracked runs.
    Experiments,
    /// Test predictions by hand.
    Predict,
    /// The deployed function.
    Deploy,
    /// Realized error and drift.
    Monitor,
}

impl ViewId {
    /// Views in tab order.
    pub const ALL: [ViewId; 7] = [
        ViewId::Pipeline,
        ViewId::Logs,
        ViewId::Predictions,
        ViewId::Experiments,
        ViewId::Predict,
        ViewId::Deploy,
        ViewId::Monitor,
    ];

    /// Tab title.
    pub fn title(self) -> &'static str {
        match self {
            ViewId::Pipeline => "Pipeline",
            ViewId::Logs => "Logs",
            ViewId::Predictions => "Predictions",
            ViewId::Experiments => "Experiments",
            ViewId::Predict => "Predict",
            ViewId::Deploy => "Deploy",
            ViewId::Monitor => "Monitor",
        }
    }

    /// Its name in the command palette.
    pub fn command(self) -> &'static str {
        match self {
            ViewId::Pipeline => "pipeline",
            ViewId::Logs => "logs",
            ViewId::Predictions => "predictions",
            ViewId::Experiments => "experiments",
            ViewId::Predict => "predict",
            ViewId::Deploy => "deploy view",
            ViewId::Monitor => "monitor",
        }
    }

    /// Position in [`ViewId::ALL`].
    pub fn index(self) -> usize {
        ViewId::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// Actions that change something outside the console: refused when read-only, one at a time.
/// Each is an operation that asks its own confirmation (the dialog shows what it asks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Deploy the current model through the gate.
    Deploy,
    /// Deploy the current model although the gate refuses it: the explicit override (the
    /// dialog asks for the model id to be typed).
    ForceDeploy,
    /// Move the alias back (to a version, or the previous one).
    Rollback {
        /// Target version; `None` = previous.
        to: Option<String>,
    },
    /// Run the pipeline (`dvc repro`), or one stage.
    RunPipeline {
        /// Stage name; `None` = all.
        stage: Option<String>,
    },
    /// Run the pipeline, compare, deploy if no worse.
    Retrain,
    /// Deploy the current model through the gate as a canary (`[canary] percent` of the
    /// traffic) and watch its alarms for `[canary] watch`: promoted when every alarm stays OK,
    /// rolled back when one fires.
    Canary,
}

impl Mutation {
    /// What is being done, naming the candidate model (`d`, `F`, `C`) and the model of the
    /// version a rollback moves to, when known.
    pub fn describe_models(&self, candidate: Option<&str>, to_model: Option<&str>) -> String {
        let text = self.describe();
        match (self, candidate, to_model) {
            (Mutation::Deploy | Mutation::ForceDeploy | Mutation::Canary, Some(model), _) => {
                text.replacen("the current model", &format!("model {model}"), 1)
            }
            (Mutation::Rollback { to: Some(v) }, _, Some(model)) => {
                format!("Move the alias back to version {v} (model {model}).")
            }
            _ => text,
        }
    }

    /// A short name, for the run pane's titles and the header's "working:".
    pub fn title(&self) -> &'static str {
        match self {
            Mutation::Deploy => "deploy",
            Mutation::ForceDeploy => "deploy (override)",
            Mutation::Rollback { .. } => "rollback",
            Mutation::RunPipeline { .. } => "pipeline run",
            Mutation::Retrain => "retrain",
            Mutation::Canary => "canary deploy",
        }
    }

    /// Whether its output is a run of the pipeline (kept as a run log, on disk too).
    pub fn runs_the_pipeline(&self) -> bool {
        matches!(self, Mutation::RunPipeline { .. } | Mutation::Retrain)
    }

    /// What is being done, in one sentence.
    pub fn describe(&self) -> String {
        match self {
            Mutation::Deploy => "Deploy the current model (models/model.json) through the gate.".to_string(),
            Mutation::ForceDeploy => "Deploy the current model (models/model.json) although the gate refuses it (override).".to_string(),
            Mutation::Rollback { to: Some(v) } => format!("Move the alias back to version {v}."),
            Mutation::Rollback { to: None } => "Move the alias back to the previous version.".to_string(),
            Mutation::RunPipeline { stage: Some(s) } => format!("Run pipeline stage '{s}' (and what it needs)."),
            Mutation::RunPipeline { stage: None } => "Run the pipeline: every stage that changed.".to_string(),
            Mutation::Canary => "Deploy the current model (models/model.json) through the gate as a canary ([canary] percent of the traffic) and watch its alarms for [canary] watch: promoted when all stay OK, rolled back at once when one fires.".to_string(),
            Mutation::Retrain => {
                "Retrain: run the pipeline and compare the new model with production; you confirm the deploy after seeing the metrics.".to_string()
            }
        }
    }
}

/// Background work the app asks the runtime to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Read pipeline status.
    LoadPipeline,
    /// Start following the log stream.
    FollowLogs,
    /// A page of prediction records, newest first, after a cursor.
    LoadRecords {
        /// Cursor from the previous page.
        after: Option<String>,
    },
    /// Runs from the tracker.
    LoadRuns,
    /// The run logs a previous console saved (`.amesops/runs/`), once at start.
    LoadRunLogs,
    /// The model's schema for the form (`GET /model`).
    LoadSchema,
    /// A house of the held-out split (`data/test.csv`) with its sale price: the one at
    /// `index`, counting round.
    LoadTestHouse {
        /// Which one (the next press asks for the next).
        index: usize,
    },
    /// Send a test prediction to the endpoint and to the local core-model.
    SubmitPrediction(serde_json::Value),
    /// Function, versions, alias, API, health.
    LoadDeploy,
    /// Realized performance and drift (`amesops monitor`).
    LoadMonitor,
    /// Start a mutation (its operation asks for confirmation through [`Loaded::Confirm`]).
    Mutate(Mutation),
    /// The answer to the confirmation `id`.
    Answer {
        /// Which question.
        id: u64,
        /// Go ahead.
        yes: bool,
    },
}

/// Results of background work, and other inputs that are not keys.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// Pipeline status.
    Pipeline(Result<PipelineSnapshot, String>),
    /// A pipeline run's progress.
    PipelineRun(RunEvent),
    /// Run logs saved by earlier consoles, oldest first.
    RunLogs(Vec<super::run_logs::SavedRun>),
    /// Log stream events.
    Logs(LogEvent),
    /// A page of records.
    Records(Result<RecordPage, String>),
    /// One full record (for the detail pane).
    Record(Result<RecordRow, String>),
    /// Tracker runs.
    Runs(Result<Vec<RunRow>, String>),
    /// Runs waiting in the tracker's outbox.
    RunsWaiting(usize),
    /// Form schema.
    Schema(Result<FormSchema, String>),
    /// A held-out test house for the form.
    TestHouse(Result<TestHouse, String>),
    /// Result of a test prediction.
    Prediction(Result<PredictOutcome, String>),
    /// Deploy status.
    Deploy(Result<DeployStatus, String>),
    /// The monitoring report.
    Monitor(Result<crate::operations::monitor::Report, String>),
    /// A mutation finished (message for the toast) or failed (or was refused by the gate).
    Mutated(Result<String, String>),
    /// A retrain finished: its report, for the Pipeline view's run pane.
    Retrained(Result<crate::operations::retrain::Outcome, String>),
    /// A running operation asks for confirmation: open the dialog, answer with
    /// [`Command::Answer`].
    Confirm {
        /// Answer with this id.
        id: u64,
        /// What it asks.
        question: crate::operations::Question,
    },
}
