//! Operations: every multi-step act that can change what production serves, in one place.
//!
//! The CLI and the console call these functions and render their [`Event`]s; neither
//! re-implements a step. Each operation is a library `run`-style function that takes a
//! [`Context`] (project root, state folder, deployer, target), a [`Confirm`] capability (how to
//! ask: terminal, dialog or `--yes`; the operation decides that it asks and what) and a
//! [`Sink`] for progress:
//!
//! - [`promote::promote`]: gate → confirm → deploy → smoke test → alias → tracker;
//! - [`retrain::retrain`]: pipeline up to the package, then the same promote steps;
//! - [`rollback::rollback`]: confirm (naming both versions) → alias back → tracker, and the
//!   gate remembers the model rolled back from;
//! - [`pipeline::run`]: a pipeline run under the lock, confirmed as a production change when
//!   its `deploy` stage will run (that stage is itself `amesops deploy`, so it is gated too).
//!
//! All of them hold the project's run lock ([`lock`]) while they work.

pub mod canary;
pub mod confirm;
pub mod event;
pub mod gate;
pub mod lock;
pub mod memory;
pub mod monitor;
pub mod pipeline;
pub mod promote;
pub mod retrain;
pub mod rollback;
pub mod shadow;
pub(crate) mod tracker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use confirm::{Confirm, NoAnswer, Question, Weight, Yes};
pub use event::{Event, Sink};
pub use gate::{Judgement, Overrides, Verdict};

use crate::backend::deployer::{DeployError, Deployer};
use crate::backend::store::{LocalObjectStore, ObjectStore};
use crate::config::{Config, Target};
use lock::{RunLock, Wait};

/// How long a deploy or rollback waits for another run to finish before giving up.
pub const LOCK_WAIT: Duration = Duration::from_secs(15 * 60);

/// Why an operation stopped without doing what it was asked (a refusal by the gate is not an
/// error: it is an outcome).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another run holds the lock.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
    /// The gate's memory is unreadable.
    #[error(transparent)]
    Memory(#[from] memory::MemoryError),
    /// The deployer failed (nothing was moved unless the message says so).
    #[error(transparent)]
    Deploy(#[from] DeployError),
    /// No confirmation could be asked for.
    #[error(transparent)]
    NoAnswer(#[from] NoAnswer),
    /// The pipeline failed or could not be read.
    #[error("{0}")]
    Pipeline(String),
    /// params.yaml could not be read.
    #[error("{0}")]
    Params(String),
}

impl Error {
    /// Whether the operation did not start because another run holds the lock.
    pub fn is_busy(&self) -> bool {
        matches!(self, Error::Lock(lock::LockError::Busy { .. }))
    }
}

/// What every operation works on.
#[derive(Clone)]
pub struct Context {
    /// The project root.
    pub root: PathBuf,
    /// The state folder (`.amesops`): the lock and the gate's memory.
    pub state_dir: PathBuf,
    /// Where models go live.
    pub deployer: Arc<dyn Deployer>,
    /// Local or aws.
    pub target: Target,
    /// `local · local predictor` or `aws:<profile>/<region> · <function>:<alias>`.
    pub target_label: String,
    /// On aws, the function name a production change asks to be typed.
    pub function: Option<String>,
    /// Tracker URI (the local SQLite tracker at the root unless configured).
    pub tracker: Option<String>,
    /// Environment for the pipeline's stage commands (target, profile, region, config).
    pub child_env: Vec<(String, String)>,
    /// Who is running, as the lock shows it to others.
    pub command: String,
    /// Where the target's prediction records are (the gate's shadow replay reads them).
    pub store: Option<Arc<dyn ObjectStore>>,
    /// `[canary]`: the share and watch of the console's canary deploy, and the alarms' limits.
    pub canary: crate::config::CanaryConfig,
}

impl Context {
    /// The context of `config` with `deployer`.
    pub fn new(config: &Config, deployer: Arc<dyn Deployer>) -> Context {
        let (target_label, function) = match config.target {
            Target::Local => ("local · local predictor".to_string(), None),
            Target::Aws => (
                format!(
                    "{} · {}:{}",
                    config.target_label(),
                    config.aws.function,
                    config.aws.alias
                ),
                Some(config.aws.function.clone()),
            ),
        };
        Context {
            root: config.root.clone(),
            state_dir: config.state_dir.clone(),
            deployer,
            target: config.target,
            target_label,
            function,
            tracker: Some(
                config
                    .tracker
                    .clone()
                    .unwrap_or_else(|| default_tracker(&config.root)),
            ),
            child_env: config.child_env(),
            command: command_line(),
            // The aws store needs an SDK client: the caller opens it ([`Context::with_store`]).
            store: match config.target {
                Target::Local => Some(Arc::new(LocalObjectStore::new(config.state_dir.clone()))),
                Target::Aws => None,
            },
            canary: config.canary.clone(),
        }
    }

    /// A local-target context for the project at `root` (state in `root/.amesops`), as the
    /// configuration would give it without an amesops.toml.
    pub fn local(root: PathBuf, deployer: Arc<dyn Deployer>) -> Context {
        let root_for_tracker = root.clone();
        Context {
            state_dir: root.join(".amesops"),
            root,
            deployer,
            target: Target::Local,
            target_label: "local · local predictor".to_string(),
            function: None,
            tracker: Some(default_tracker(&root_for_tracker)),
            child_env: Vec::new(),
            command: command_line(),
            store: Some(Arc::new(LocalObjectStore::new(
                root_for_tracker.join(".amesops"),
            ))),
            canary: crate::config::CanaryConfig::default(),
        }
    }

    /// The context with the record store `store`.
    pub fn with_store(mut self, store: Arc<dyn ObjectStore>) -> Context {
        self.store = Some(store);
        self
    }

    /// Takes the project's run lock (refusing at once, or waiting for [`LOCK_WAIT`]).
    pub async fn lock(&self, wait: bool, events: &Sink) -> Result<RunLock, Error> {
        let path = self.state_dir.join(lock::RUN_LOCK);
        let command = self.command.clone();
        let events = events.clone();
        let wait = if wait {
            Wait::UpTo(LOCK_WAIT)
        } else {
            Wait::No
        };
        let acquired = tokio::task::spawn_blocking(move || {
            RunLock::acquire(&path, &command, wait, &|holder| {
                events(Event::Waiting(match holder {
                    Some(holder) => format!("waiting for the run of {holder} to finish"),
                    None => "waiting for another run to finish".to_string(),
                }))
            })
        })
        .await
        .map_err(|e| Error::Pipeline(format!("the lock task failed: {e}")))?;
        Ok(acquired?)
    }

    /// The tolerance of the gate (params.yaml `retrain.tolerance`).
    pub fn tolerance(&self) -> Result<f64, Error> {
        self.retrain_params().map(|p| p.tolerance)
    }

    /// The gate's parameters (params.yaml `retrain`).
    pub fn retrain_params(&self) -> Result<crate::params::RetrainParams, Error> {
        crate::params::Params::load(&self.root.join("params.yaml"), false)
            .map(|p| p.retrain)
            .map_err(|e| Error::Params(format!("{e:#}")))
    }

    /// The held-out rows the gate scores on.
    pub fn test_data(&self) -> PathBuf {
        self.root.join(gate::TEST_DATA)
    }

    /// The text a production change asks to be typed: the function name on aws; for an
    /// override of the gate also the candidate's model id (on every target).
    fn typed(&self, override_model: Option<&str>) -> Option<String> {
        match (&self.function, override_model) {
            (Some(function), Some(model)) => Some(format!("{function} {model}")),
            (Some(function), None) => Some(function.clone()),
            (None, Some(model)) => Some(model.to_string()),
            (None, None) => None,
        }
    }
}

/// The local tracker of the project at `root` (what the train stage writes to, from the root).
fn default_tracker(root: &std::path::Path) -> String {
    root.join(crate::backend::tracker::DEFAULT_SQLITE_PATH)
        .display()
        .to_string()
}

/// This process's command line, as another run is told it.
pub fn command_line() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or(p)
        })
        .unwrap_or_else(|| "amesops".to_string());
    std::iter::once(program)
        .chain(args)
        .collect::<Vec<_>>()
        .join(" ")
}
