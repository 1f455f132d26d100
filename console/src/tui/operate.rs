//! How the console runs operations: their questions become the dialog (and its answer goes
//! back), their events become the Pipeline view's run pane, and each mutation is one call of
//! the operations layer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::{mpsc, oneshot};

use super::action::{Loaded, Mutation};
use super::run_logs::RunFile;
use super::runtime::Backends;
use super::views::pipeline::{RunEvent, log_line};
use crate::backend::deployer::{DeployOptions, DeployRequest, Source};
use crate::operations::{self, Confirm, Event, NoAnswer, Overrides, Question, Sink, promote};

/// Questions of running operations waiting for the dialog's answer.
pub(super) type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<bool>>>>;

/// The console's way of asking: the question goes to the app as [`Loaded::Confirm`], the
/// dialog's answer comes back through [`Command::Answer`].
pub(super) struct DialogConfirm {
    pub(super) tx: mpsc::UnboundedSender<Loaded>,
    pub(super) pending: Pending,
    pub(super) next: Arc<AtomicU64>,
}

impl Confirm for DialogConfirm {
    fn confirm<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<bool, NoAnswer>> {
        Box::pin(async move {
            let id = self.next.fetch_add(1, Ordering::Relaxed);
            let (answer, answered) = oneshot::channel();
            match self.pending.lock() {
                Ok(mut pending) => pending.insert(id, answer),
                Err(poisoned) => poisoned.into_inner().insert(id, answer),
            };
            self.tx
                .send(Loaded::Confirm {
                    id,
                    question: question.clone(),
                })
                .map_err(|_| NoAnswer("the console closed".to_string()))?;
            // A dialog closed without an answer (the console quit) is a no.
            Ok(answered.await.unwrap_or(false))
        })
    }
}

/// Operation events as the Pipeline view's run events; a pipeline run's lines also go to its
/// log file, so a restarted console shows them.
pub(super) fn sink(tx: &mpsc::UnboundedSender<Loaded>, file: Option<RunFile>) -> Sink {
    let tx = tx.clone();
    Arc::new(move |event: Event| {
        let run = match event {
            Event::StageStarted(stage) => RunEvent::Started(stage),
            Event::StageSkipped { stage, .. } => RunEvent::Skipped(stage),
            Event::StageFinished { stage, seconds } => RunEvent::Finished(stage, seconds),
            Event::StageFailed { stage, error, .. } => RunEvent::Failed(stage, error),
            Event::Output { text, .. } | Event::Step(text) | Event::Waiting(text) => {
                RunEvent::Output(text)
            }
            Event::PipelineEnded { ok } => RunEvent::Done(ok),
        };
        if let (Some(file), Some(line)) = (&file, log_line(&run)) {
            file.line(&line);
        }
        let _ = tx.send(Loaded::PipelineRun(run));
    })
}

pub(super) async fn mutate(
    b: &Backends,
    mutation: Mutation,
    events: &Sink,
    dialog: &DialogConfirm,
) -> Result<String, String> {
    let ctx = &b.operations;
    let deploy = |overrides: Overrides| {
        let request = DeployRequest {
            source: Source::Model {
                model: b.candidate.clone(),
                package: b.package.clone(),
            },
            options: DeployOptions::default(),
        };
        async move {
            let promoted = promote::promote(ctx, &request, overrides, dialog, events)
                .await
                .map_err(|e| e.to_string())?;
            match promoted.decision {
                promote::Decision::Refused => Err(promoted.summary()),
                _ => Ok(promoted.summary()),
            }
        }
    };
    match mutation {
        Mutation::Deploy => deploy(Overrides::default()).await,
        Mutation::ForceDeploy => {
            deploy(Overrides {
                allow_worse: true,
                allow_unverified: true,
                allow_rolled_back: true,
            })
            .await
        }
        Mutation::Rollback { to } => {
            let outcome = operations::rollback::rollback(ctx, to.as_deref(), dialog, events)
                .await
                .map_err(|e| e.to_string())?;
            Ok(match outcome.report {
                Some(report) => format!(
                    "rolled back: version {} (model {}) is live",
                    report.version, report.model_id
                ),
                None => "cancelled: nothing changed".to_string(),
            })
        }
        Mutation::RunPipeline { stage } => {
            let run = operations::pipeline::Run {
                stage,
                force: false,
                engine: crate::pipeline::runner::Engine::Auto,
            };
            match operations::pipeline::run(ctx, &run, dialog, events).await {
                Ok(Some(summary)) => match operations::pipeline::failure_line(&summary) {
                    Some(failure) => Err(failure),
                    None => Ok(format!(
                        "pipeline run finished: {} ran, {} up to date",
                        summary.ran.len(),
                        summary.skipped.len()
                    )),
                },
                Ok(None) => Ok("cancelled: nothing ran".to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        Mutation::Canary => canary(b, dialog, events).await,
        Mutation::Retrain => Err("retrain runs through its own command".to_string()),
    }
}

/// `C`: the CLI's `deploy --canary PCT --watch D` with `[canary]`'s share and watch; the same
/// promote path (gate, confirmation, smoke test), then the same watch.
async fn canary(b: &Backends, dialog: &DialogConfirm, events: &Sink) -> Result<String, String> {
    let ctx = &b.operations;
    let settings = &ctx.canary;
    let duration = crate::config::parse_duration(&settings.watch)
        .map_err(|e| format!("[canary] watch: {e}"))?;
    let request = DeployRequest {
        source: Source::Model {
            model: b.candidate.clone(),
            package: b.package.clone(),
        },
        options: DeployOptions {
            canary: Some(settings.percent),
            ..DeployOptions::default()
        },
    };
    let promoted = promote::promote(ctx, &request, Overrides::default(), dialog, events)
        .await
        .map_err(|e| e.to_string())?;
    let (promote::Decision::Deployed, Some(report)) = (promoted.decision, &promoted.deployed)
    else {
        return match promoted.decision {
            promote::Decision::Refused => Err(promoted.summary()),
            _ => Ok(promoted.summary()),
        };
    };
    let watch = operations::canary::Watch {
        duration,
        config: settings.clone(),
        promote_anyway: false,
    };
    // Stopping is `x` (a rollback): the watch sees the alias move and ends.
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let outcome = operations::canary::watch(ctx, report, &watch, stop, events)
        .await
        .map_err(|e| e.to_string())?;
    if outcome.promoted() {
        Ok(outcome.summary())
    } else {
        Err(outcome.summary())
    }
}
