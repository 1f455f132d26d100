//! Running the pipeline as a stream of events, for the CLI's progress lines and the console's
//! live pane. With `dvc` on PATH the run is `dvc repro` (results recorded in dvc.lock and the
//! cache); without it the changed stages' commands run directly, in DAG order, and nothing is
//! recorded. Runs block: call [`spawn`] (or [`run`] on a thread of your own) to stay responsive.

mod native;
mod process;
mod repro;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use super::{Error, tool};

pub(crate) use process::spawn as spawn_process;

/// What happened during a run, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A stage began running.
    StageStarted {
        /// Stage name.
        stage: String,
    },
    /// A stage did not need to run.
    StageSkipped {
        /// Stage name.
        stage: String,
        /// Why.
        reason: SkipReason,
    },
    /// A stage ran to completion.
    StageFinished {
        /// Stage name.
        stage: String,
        /// How long it ran.
        duration: Duration,
    },
    /// A stage failed; nothing after it runs.
    StageFailed {
        /// Stage name.
        stage: String,
        /// What went wrong (dvc's message, or the command and its exit status).
        error: String,
        /// How long it ran before failing.
        duration: Duration,
    },
    /// A line printed by dvc or by a stage's command.
    Output(OutputLine),
}

/// Why a stage was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Nothing it depends on changed.
    Unchanged,
    /// dvc found the same run in its run cache and restored the outputs.
    RestoredFromRunCache,
}

/// One line of output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLine {
    /// Which stream it came from.
    pub stream: Stream,
    /// The line, without its line break.
    pub text: String,
}

/// An output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Who runs the stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `dvc repro` when dvc is on PATH, else the commands directly.
    Auto,
    /// The commands directly, even when dvc is installed.
    Native,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// Project root (holds dvc.yaml).
    pub root: PathBuf,
    /// One stage (and what it depends on), or the whole pipeline.
    pub stage: Option<String>,
    /// Run even unchanged stages (`dvc repro --force`).
    pub force: bool,
    /// Who runs the stages.
    pub engine: Engine,
    /// Extra environment of `dvc repro` and every stage command: the parent's target,
    /// profile, region, configuration and run lock reach the stages this way.
    pub env: Vec<(String, String)>,
}

/// How a run ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Stages that ran to completion, with their durations.
    pub ran: Vec<(String, Duration)>,
    /// Stages that did not need to run.
    pub skipped: Vec<String>,
    /// The failure that stopped the run, if any.
    pub failure: Option<Failure>,
}

/// What stopped a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The stage that failed, when the failure belongs to one.
    pub stage: Option<String>,
    /// The message.
    pub error: String,
}

impl RunSummary {
    /// Whether every stage that had to run succeeded.
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
    }
}

/// Runs the pipeline on this thread, sending events as they happen. Sending never blocks, and
/// a receiver that went away does not stop the run.
pub fn run(request: &RunRequest, events: &Sender<Event>) -> Result<RunSummary, Error> {
    match (request.engine, tool::find_dvc()) {
        (Engine::Auto, Some(dvc)) => repro::run(&dvc, request, events),
        _ => native::run(request, events),
    }
}

/// Runs the pipeline on a background thread; events arrive on the receiver until it closes.
pub fn spawn(request: RunRequest) -> (Receiver<Event>, JoinHandle<Result<RunSummary, Error>>) {
    let (sender, receiver) = channel();
    let handle = std::thread::spawn(move || run(&request, &sender));
    (receiver, handle)
}

/// Tracks the stage that is running, to close it with a duration.
struct Tracker<'a> {
    events: &'a Sender<Event>,
    current: Option<(String, std::time::Instant)>,
    summary: RunSummary,
}

impl<'a> Tracker<'a> {
    fn new(events: &'a Sender<Event>) -> Tracker<'a> {
        Tracker {
            events,
            current: None,
            summary: RunSummary::default(),
        }
    }

    fn send(&self, event: Event) {
        // A consumer that stopped listening does not stop the run.
        let _ = self.events.send(event);
    }

    fn output(&self, stream: Stream, text: String) {
        self.send(Event::Output(OutputLine { stream, text }));
    }

    fn start(&mut self, stage: String) {
        self.finish();
        self.send(Event::StageStarted {
            stage: stage.clone(),
        });
        self.current = Some((stage, std::time::Instant::now()));
    }

    fn skip(&mut self, stage: String, reason: SkipReason) {
        self.finish();
        self.send(Event::StageSkipped {
            stage: stage.clone(),
            reason,
        });
        self.summary.skipped.push(stage);
    }

    fn finish(&mut self) {
        if let Some((stage, started)) = self.current.take() {
            let duration = started.elapsed();
            self.send(Event::StageFinished {
                stage: stage.clone(),
                duration,
            });
            self.summary.ran.push((stage, duration));
        }
    }

    fn fail(&mut self, stage: Option<String>, error: String) {
        let running = self.current.take();
        let stage = stage.or_else(|| running.as_ref().map(|(s, _)| s.clone()));
        if let Some(name) = &stage {
            let duration = running
                .filter(|(s, _)| s == name)
                .map(|(_, started)| started.elapsed())
                .unwrap_or_default();
            self.send(Event::StageFailed {
                stage: name.clone(),
                error: error.clone(),
                duration,
            });
        }
        self.summary.failure = Some(Failure { stage, error });
    }
}
