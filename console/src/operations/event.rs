//! Progress of an operation, as values: the CLI prints them, the console draws them.

use std::sync::Arc;

/// Something that happened during an operation, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A pipeline stage began.
    StageStarted(String),
    /// A stage did not need to run (`restored`: dvc restored it from its run cache).
    StageSkipped {
        /// Stage name.
        stage: String,
        /// Restored from dvc's run cache rather than unchanged.
        restored: bool,
    },
    /// A stage ran to completion.
    StageFinished {
        /// Stage name.
        stage: String,
        /// How long it ran.
        seconds: f64,
    },
    /// A stage failed; nothing after it runs.
    StageFailed {
        /// Stage name.
        stage: String,
        /// Why.
        error: String,
        /// How long it ran before failing.
        seconds: f64,
    },
    /// A line printed by dvc or a stage's command.
    Output {
        /// The line.
        text: String,
        /// Whether it came from standard error.
        stderr: bool,
    },
    /// The pipeline run ended.
    PipelineEnded {
        /// Whether every stage that had to run succeeded.
        ok: bool,
    },
    /// One step of a promote or rollback (gate, deploy, smoke test, alias, tracker).
    Step(String),
    /// Waiting for the run lock, held by someone else.
    Waiting(String),
}

/// Where an operation reports its events (cheap to clone; called from any thread).
pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

/// A sink that drops every event.
pub fn ignore() -> Sink {
    Arc::new(|_| {})
}
