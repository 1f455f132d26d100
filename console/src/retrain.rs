//! Retrain and redeploy as one gated step: run the pipeline, compare the new model with
//! production on the same held-out rows, deploy only when it is no worse (or when allowed).

use std::path::Path;
use std::time::Instant;

use core_model::{Artifact, Table};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::backend::deployer::{DeployReport, Deployer};
use crate::project::Project;
use crate::tui::action::Loaded;

/// What the gate decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The pipeline produced the model that is already live.
    NothingChanged,
    /// The new model passes the gate and is about to be deployed.
    WillDeploy,
    /// The new model was deployed.
    Deployed,
    /// The new model is worse than production by more than the tolerance; production kept.
    RefusedWorse,
}

/// The report of one retrain.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// What happened.
    pub decision: Decision,
    /// Production's RMSE(log) on the current test rows (None when nothing was live).
    pub production_rmse_log: Option<f64>,
    /// The new model's RMSE(log) on the same rows.
    pub candidate_rmse_log: f64,
    /// Allowed worsening.
    pub tolerance: f64,
    /// Model ids.
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

impl Outcome {
    /// One line for people.
    pub fn summary(&self) -> String {
        let old = self
            .production_rmse_log
            .map(|v| format!("{v:.4}"))
            .unwrap_or_else(|| "none".to_string());
        match self.decision {
            Decision::NothingChanged => format!(
                "nothing changed: model {} is already live",
                self.candidate_model
            ),
            Decision::WillDeploy => format!(
                "new model {}: RMSE(log) {old} → {:.4} (tolerance {:.4})",
                self.candidate_model, self.candidate_rmse_log, self.tolerance
            ),
            Decision::Deployed => format!(
                "deployed model {} (RMSE(log) {old} → {:.4}){}",
                self.candidate_model,
                self.candidate_rmse_log,
                self.deployed
                    .as_ref()
                    .map(|d| format!(" as version {} · {}", d.version, d.url))
                    .unwrap_or_default()
            ),
            Decision::RefusedWorse => format!(
                "refused: the new model is worse — RMSE(log) {old} → {:.4} (+{:.4} > tolerance {:.4}); production unchanged; override with allow-worse",
                self.candidate_rmse_log,
                self.candidate_rmse_log
                    - self.production_rmse_log.unwrap_or(self.candidate_rmse_log),
                self.tolerance
            ),
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
        let difference = self
            .production_rmse_log
            .map(|p| format!("{:+.4}, ", self.candidate_rmse_log - p))
            .unwrap_or_default();
        let mut time = format!("pipeline {:.1} s", self.pipeline_seconds);
        if let Some(deploy) = self.deploy_seconds {
            time.push_str(&format!(" · deploy {deploy:.1} s"));
        }
        format!(
            "stages    ran: {} · up to date: {}\n\
             RMSE(log) {old} → {:.4} ({difference}tolerance {:.4})\n\
             models    production {} · new {}\n\
             time      {time}\n\
             decision  {}",
            list(&ran),
            list(&skipped),
            self.candidate_rmse_log,
            self.tolerance,
            self.production_model.as_deref().unwrap_or("none"),
            self.candidate_model,
            self.summary()
        )
    }
}

fn rmse_log_on(bytes: &[u8], test: &Path) -> Result<f64, String> {
    let model = Artifact::from_bytes(bytes).map_err(|e| e.to_string())?;
    let data = Table::read_path(test)
        .and_then(Table::into_dataset)
        .map_err(|e| format!("{}: {e}", test.display()))?;
    Ok(core_model::train::evaluate(&model.artifact.model, &data)
        .0
        .rmse_log)
}

/// Runs the pipeline and compares the new model with production: the decision, not yet acted on.
pub async fn prepare(
    project: &Project,
    deployer: &dyn Deployer,
    allow_worse: bool,
    tolerance: f64,
    events: mpsc::UnboundedSender<Loaded>,
) -> Result<Outcome, String> {
    // Up to the last stage before deploying: the gate, not the pipeline, decides what ships.
    let started = Instant::now();
    let summary = project
        .run_pipeline(project.last_stage_before_deploy(), events)
        .await?;
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
    let candidate_path = project.root.join(crate::launch::CANDIDATE);
    let candidate = tokio::fs::read(&candidate_path)
        .await
        .map_err(|e| format!("cannot read {}: {e}", candidate_path.display()))?;
    let candidate_model = core_model::artifact::model_id(&candidate);
    let test = project.root.join("data/test.csv");
    let candidate_rmse_log = rmse_log_on(&candidate, &test)?;
    let production = deployer.served_artifact().await.ok();
    let production_model = production.as_deref().map(core_model::artifact::model_id);
    let production_rmse_log = match &production {
        Some(bytes) => Some(rmse_log_on(bytes, &test)?),
        None => None,
    };
    let decision = if production_model.as_deref() == Some(candidate_model.as_str()) {
        Decision::NothingChanged
    } else if production_rmse_log.is_some_and(|old| candidate_rmse_log > old + tolerance)
        && !allow_worse
    {
        Decision::RefusedWorse
    } else {
        Decision::WillDeploy
    };
    Ok(Outcome {
        decision,
        production_rmse_log,
        candidate_rmse_log,
        tolerance,
        production_model,
        candidate_model,
        deployed: None,
        stages,
        pipeline_seconds,
        deploy_seconds: None,
    })
}

/// Deploys the candidate of a prepared outcome (smoke test and alias move included).
pub async fn deploy(
    project: &Project,
    deployer: &dyn Deployer,
    outcome: &mut Outcome,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<(), String> {
    let candidate_path = project.root.join(crate::launch::CANDIDATE);
    let started = Instant::now();
    let report = deployer
        .deploy(&candidate_path, progress)
        .await
        .map_err(|e| e.to_string())?;
    outcome.deploy_seconds = Some(started.elapsed().as_secs_f64());
    outcome.decision = Decision::Deployed;
    outcome.deployed = Some(report);
    // The tracker records what is in production; a tracker problem does not undo the deploy.
    match tokio::fs::read(&candidate_path).await {
        Ok(bytes) => match project.register_production(&bytes).await {
            Ok(note) | Err(note) => progress(format!("tracker: {note}")),
        },
        Err(e) => progress(format!("tracker: not registered ({e})")),
    }
    Ok(())
}
