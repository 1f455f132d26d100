//! Retrain and redeploy as one gated operation: run the pipeline up to the package, judge the
//! new model against production on the same held-out rows, and promote it only when the gate
//! passes and the operator (or `--yes`) confirms. Used by `amesops retrain`, its scheduler and
//! the console's `R`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::gate::{Overrides, Verdict};
use super::pipeline::{self, Run};
use super::promote::{self, Decision as Promoted};
use super::{Confirm, Context, Error, Sink};
use crate::backend::deployer::{DeployOptions, DeployReport, DeployRequest, Source};
use crate::pipeline::runner::Engine;

/// The model the pipeline writes.
pub const CANDIDATE: &str = "models/model.json";
/// The package the pipeline's `package` stage writes.
pub const PACKAGE: &str = "dist/predictor.zip";

/// What the retrain decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The pipeline produced the model that is already live.
    NothingChanged,
    /// The new model was deployed.
    Deployed,
    /// Worse than production by more than the tolerance; production kept.
    RefusedWorse,
    /// Production could not be read and verified; production kept.
    RefusedUnverified,
    /// The operator rolled back from this model; production kept.
    RefusedRolledBack,
    /// The operator declined the deploy.
    Declined,
    /// Stopped (SIGTERM) before deploying; production unchanged.
    Stopped,
}

impl Decision {
    /// Whether the gate refused.
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            Decision::RefusedWorse | Decision::RefusedUnverified | Decision::RefusedRolledBack
        )
    }
}

/// What happened to one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageResult {
    /// It ran.
    Ran,
    /// It was up to date.
    Skipped,
}

/// One stage of the retrain's pipeline run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageRun {
    /// Stage name.
    pub stage: String,
    /// Whether it ran.
    pub result: StageResult,
    /// How long it ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// The report of one retrain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// What happened.
    pub decision: Decision,
    /// The gate's reason, one line.
    pub reason: String,
    /// Whether an override let the model through.
    pub overridden: bool,
    /// Production's RMSE(log) on the current test rows (None when nothing was live or it
    /// could not be read).
    pub production_rmse_log: Option<f64>,
    /// The new model's RMSE(log) on the same rows.
    pub candidate_rmse_log: Option<f64>,
    /// Allowed worsening.
    pub tolerance: f64,
    /// Production's model id.
    pub production_model: Option<String>,
    /// Model id of the candidate.
    pub candidate_model: String,
    /// The deployment, when one happened.
    pub deployed: Option<DeployReport>,
    /// The pipeline's stages: run (with seconds) or skipped as up to date.
    pub stages: Vec<StageRun>,
    /// Seconds the pipeline took.
    pub pipeline_seconds: f64,
    /// Seconds the deploy took, smoke test and alias move included.
    pub deploy_seconds: Option<f64>,
    /// The shadow replay of the stored production requests, beside the held-out metrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<super::shadow::GateShadow>,
}

impl Outcome {
    /// One line for people.
    pub fn summary(&self) -> String {
        let old = self
            .production_rmse_log
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "none".to_string());
        let new = self
            .candidate_rmse_log
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "?".to_string());
        match self.decision {
            Decision::NothingChanged => format!(
                "nothing changed: model {} is already live",
                self.candidate_model
            ),
            Decision::Deployed => format!(
                "deployed model {} (RMSE(log) {old} → {new}){}{}",
                self.candidate_model,
                self.deployed
                    .as_ref()
                    .map(|d| format!(" as version {} · {}", d.version, d.url))
                    .unwrap_or_default(),
                if self.overridden {
                    " — the gate was overridden"
                } else {
                    ""
                }
            ),
            Decision::RefusedWorse if self.shadow.as_ref().is_some_and(|s| s.refused) => format!(
                "refused: {}; production unchanged; override with --allow-worse",
                self.reason.trim_end_matches('.')
            ),
            Decision::RefusedWorse => format!(
                "refused: the new model is worse — RMSE(log) {old} → {new} (+{:.4} > tolerance {:.4}); production unchanged; override with --allow-worse",
                self.candidate_rmse_log.unwrap_or_default()
                    - self
                        .production_rmse_log
                        .unwrap_or(self.candidate_rmse_log.unwrap_or_default()),
                self.tolerance
            ),
            Decision::RefusedUnverified => format!(
                "refused: {}; production unchanged; override with --allow-unverified",
                self.reason
            ),
            Decision::RefusedRolledBack => format!(
                "refused: {}; production unchanged; override with --allow-rolled-back",
                self.reason
            ),
            Decision::Declined => format!(
                "declined: model {} was not deployed; production unchanged",
                self.candidate_model
            ),
            Decision::Stopped => {
                "stopped before deploying (SIGTERM); production unchanged".to_string()
            }
        }
    }

    /// The report at the end of a retrain: stages, metrics, decision, durations.
    pub fn report(&self) -> String {
        let ran: Vec<String> = self
            .stages
            .iter()
            .filter(|s| s.result == StageResult::Ran)
            .map(|s| format!("{} ({:.1} s)", s.stage, s.seconds.unwrap_or_default()))
            .collect();
        let skipped: Vec<String> = self
            .stages
            .iter()
            .filter(|s| s.result == StageResult::Skipped)
            .map(|s| s.stage.clone())
            .collect();
        let list = |items: &[String]| {
            if items.is_empty() {
                "none".to_string()
            } else {
                items.join(", ")
            }
        };
        let old = self
            .production_rmse_log
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "none in production".to_string());
        let new = self
            .candidate_rmse_log
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "?".to_string());
        let difference = match (self.production_rmse_log, self.candidate_rmse_log) {
            (Some(p), Some(c)) => format!("{:+.4}, ", c - p),
            _ => String::new(),
        };
        let mut time = format!("pipeline {:.1} s", self.pipeline_seconds);
        if let Some(deploy) = self.deploy_seconds {
            time.push_str(&format!(" · deploy {deploy:.1} s"));
        }
        let shadow = self
            .shadow
            .as_ref()
            .map(|s| format!("{}\n", s.line()))
            .unwrap_or_default();
        format!(
            "stages    ran: {} · up to date: {}\n\
             RMSE(log) {old} → {new} ({difference}tolerance {:.4})\n\
             {shadow}models    production {} · new {}\n\
             gate      {}\n\
             time      {time}\n\
             decision  {}",
            list(&ran),
            list(&skipped),
            self.tolerance,
            self.production_model.as_deref().unwrap_or("none"),
            self.candidate_model,
            self.reason,
            self.summary()
        )
    }
}

/// What a retrain is asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct Retrain {
    /// Explicit overrides of the gate.
    pub overrides: Overrides,
}

/// Runs the pipeline, judges the new model and promotes it if the gate passes and the
/// confirmation says yes. Refuses at once when another run holds the lock. `stop`: a
/// shutdown was requested (the run finishes its step and deploys nothing).
pub async fn retrain(
    ctx: &Context,
    retrain: Retrain,
    confirm: &dyn Confirm,
    events: &Sink,
    stop: Option<&AtomicBool>,
) -> Result<Outcome, Error> {
    let lock = ctx.lock(false, events).await?;
    let started = Instant::now();
    let run = Run {
        stage: pipeline::last_stage_before_deploy(&ctx.root),
        force: false,
        engine: Engine::Auto,
    };
    let summary = pipeline::run_held(ctx, &lock, &run, events).await?;
    if let Some(line) = pipeline::failure_line(&summary) {
        return Err(Error::Pipeline(line));
    }
    let pipeline_seconds = started.elapsed().as_secs_f64();
    let stages = summary
        .ran
        .iter()
        .map(|(stage, took)| StageRun {
            stage: stage.clone(),
            result: StageResult::Ran,
            seconds: Some(took.as_secs_f64()),
        })
        .chain(summary.skipped.iter().map(|stage| StageRun {
            stage: stage.clone(),
            result: StageResult::Skipped,
            seconds: None,
        }))
        .collect();
    let request = DeployRequest {
        source: Source::Model {
            model: ctx.root.join(CANDIDATE),
            package: ctx.root.join(PACKAGE),
        },
        options: DeployOptions::default(),
    };
    let candidate = ctx.deployer.candidate(&request).await?;
    let judgement = promote::judge(ctx, &candidate, retrain.overrides).await?;
    let mut outcome = Outcome {
        decision: Decision::NothingChanged,
        reason: judgement.reason.clone(),
        overridden: judgement.overridden,
        production_rmse_log: judgement.production_rmse_log,
        candidate_rmse_log: judgement.candidate_rmse_log,
        tolerance: judgement.tolerance,
        production_model: judgement.production_model.clone(),
        candidate_model: judgement.candidate_model.clone(),
        deployed: None,
        stages,
        pipeline_seconds,
        deploy_seconds: None,
        shadow: judgement.shadow.clone(),
    };
    events(super::Event::Step(format!("gate: {}", judgement.reason)));
    if let Some(shadow) = &judgement.shadow {
        events(super::Event::Step(shadow.line()));
    }
    if judgement.verdict == Verdict::AlreadyLive {
        return Ok(outcome);
    }
    if !judgement.passes {
        outcome.decision = match judgement.verdict {
            Verdict::Unverified => Decision::RefusedUnverified,
            Verdict::RolledBack => Decision::RefusedRolledBack,
            _ => Decision::RefusedWorse,
        };
        promote::refuse(ctx, judgement, candidate.origin.clone())?;
        return Ok(outcome);
    }
    if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
        outcome.decision = Decision::Stopped;
        return Ok(outcome);
    }
    let context = format!(
        "Retrained: RMSE(log) {} → {}.",
        outcome
            .production_rmse_log
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "none".to_string()),
        outcome
            .candidate_rmse_log
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "?".to_string())
    );
    let question = promote::question(ctx, &request, &candidate, &judgement, Some(&context));
    if !confirm.confirm(&question).await? {
        outcome.decision = Decision::Declined;
        return Ok(outcome);
    }
    let promoted = promote::deploy_judged(ctx, &request, &candidate, judgement, events).await?;
    outcome.deploy_seconds = promoted.deploy_seconds;
    outcome.decision = match promoted.decision {
        Promoted::Deployed => Decision::Deployed,
        _ => Decision::NothingChanged,
    };
    outcome.deployed = promoted.deployed;
    Ok(outcome)
}
