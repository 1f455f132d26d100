//! The gate: may this candidate replace what production serves?
//!
//! It fails closed. A first deploy passes only when the deployer proves nothing is deployed;
//! production that cannot be read for any reason (an API error, a version without a recorded
//! model, a removed or altered artifact, no test data to compare on) refuses the candidate
//! unless the operator allows an unverified deploy. Otherwise both models are scored on the
//! same held-out rows (`data/test.csv`) and a candidate worse than production by more than the
//! tolerance is refused. A model the operator rolled back from is refused too. Each refusal
//! has its own override; none is implied by `--yes`.

use std::path::Path;

use core_model::{Artifact, Table};
use serde::Serialize;

use super::memory::{Memory, Refusal};
use crate::backend::deployer::{CandidateModel, Deployer, Production};

/// The held-out rows both models are scored on, relative to the project root.
pub const TEST_DATA: &str = "data/test.csv";

/// The operator's explicit overrides, one per kind of refusal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Overrides {
    /// Deploy even when the candidate is worse than production (`--allow-worse`).
    pub allow_worse: bool,
    /// Deploy even when production cannot be read and verified (`--allow-unverified`).
    pub allow_unverified: bool,
    /// Deploy a model the operator rolled back from (`--allow-rolled-back`).
    pub allow_rolled_back: bool,
}

impl Overrides {
    /// Whether any override is given.
    pub fn any(&self) -> bool {
        self.allow_worse || self.allow_unverified || self.allow_rolled_back
    }
}

/// What the gate found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Nothing is deployed (proven by the deployer): the first deploy.
    FirstDeploy,
    /// The candidate is the model production serves.
    AlreadyLive,
    /// The candidate is no worse than production (within the tolerance).
    NoWorse,
    /// The candidate is worse than production by more than the tolerance.
    Worse,
    /// Production (or the comparison) cannot be read and verified.
    Unverified,
    /// The operator rolled back from this model.
    RolledBack,
}

/// The gate's judgement of one candidate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// What it found.
    pub verdict: Verdict,
    /// Whether the candidate may go (after overrides).
    pub passes: bool,
    /// Whether an override let it through.
    pub overridden: bool,
    /// One line for people.
    pub reason: String,
    /// The candidate's model id.
    pub candidate_model: String,
    /// Its RMSE(log) on the test rows (when they could be read).
    pub candidate_rmse_log: Option<f64>,
    /// Production's model id (when it could be read).
    pub production_model: Option<String>,
    /// The version production serves (when it could be read).
    pub production_version: Option<String>,
    /// Production's RMSE(log) on the same rows.
    pub production_rmse_log: Option<f64>,
    /// Allowed worsening of RMSE(log).
    pub tolerance: f64,
    /// The shadow replay of the stored production requests (when production could be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<super::shadow::GateShadow>,
    /// The gate refused this candidate before (when, why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused_before: Option<Refusal>,
}

impl Judgement {
    /// The refusal to remember, when the candidate does not pass.
    pub fn refusal(&self) -> Option<Refusal> {
        (!self.passes).then(|| Refusal {
            model_id: self.candidate_model.clone(),
            reason: self.reason.clone(),
            production_model: self.production_model.clone(),
            at: super::memory::now(),
        })
    }

    /// The override that would let a refused candidate through.
    pub fn override_flag(&self) -> Option<&'static str> {
        match self.verdict {
            Verdict::Worse => Some("--allow-worse"),
            Verdict::Unverified => Some("--allow-unverified"),
            Verdict::RolledBack => Some("--allow-rolled-back"),
            _ => None,
        }
    }
}

/// Why a model could not be scored on the test rows.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// The artifact does not load.
    #[error(transparent)]
    Model(#[from] core_model::artifact::ArtifactError),
    /// The test rows do not read.
    #[error("{}: {source}", path.display())]
    Data {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: core_model::dataset::DataError,
    },
    /// The scoring task was cancelled or panicked.
    #[error("scoring stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// RMSE(log) of the artifact `bytes` on the test rows.
pub fn rmse_log_on(bytes: &[u8], test: &Path) -> Result<f64, ScoreError> {
    let model = Artifact::from_bytes(bytes)?;
    let data = Table::read_path(test)
        .and_then(Table::into_dataset)
        .map_err(|source| ScoreError::Data {
            path: test.to_path_buf(),
            source,
        })?;
    Ok(core_model::train::evaluate(&model.artifact.model, &data)
        .0
        .rmse_log)
}

/// Judges `candidate` against what `deployer` serves, scoring both on `test`.
pub async fn judge(
    deployer: &dyn Deployer,
    candidate: &CandidateModel,
    test: &Path,
    tolerance: f64,
    memory: &Memory,
    overrides: Overrides,
) -> Judgement {
    let production = deployer.production().await;
    let scored_on = test.to_path_buf();
    let bytes = candidate.bytes.clone();
    let candidate_rmse = if test.is_file() {
        tokio::task::spawn_blocking(move || rmse_log_on(&bytes, &scored_on).ok())
            .await
            .ok()
            .flatten()
    } else {
        None
    };
    let mut judgement = Judgement {
        verdict: Verdict::FirstDeploy,
        passes: false,
        overridden: false,
        reason: String::new(),
        candidate_model: candidate.model_id.clone(),
        candidate_rmse_log: candidate_rmse,
        production_model: None,
        production_version: None,
        production_rmse_log: None,
        tolerance,
        shadow: None,
        refused_before: memory.refusal(&candidate.model_id).cloned(),
    };
    let served = match production {
        Err(e) => {
            return decide(
                judgement,
                Verdict::Unverified,
                format!(
                    "production cannot be read, so the candidate cannot be compared with it: {e}"
                ),
                overrides.allow_unverified,
            );
        }
        Ok(Production::Nothing) => None,
        Ok(Production::Serving(served)) => Some(served),
    };
    if let Some(served) = &served {
        judgement.production_model = Some(served.model_id.clone());
        judgement.production_version = Some(served.version.clone());
        if served.model_id == candidate.model_id {
            return decide(
                judgement,
                Verdict::AlreadyLive,
                format!(
                    "model {} is already live (version {})",
                    candidate.model_id, served.version
                ),
                true,
            );
        }
    }
    if let Some(rolled) = memory.rolled_back_from(&candidate.model_id) {
        return decide(
            judgement,
            Verdict::RolledBack,
            format!(
                "model {} was rolled back from (version {} -> {}, {}); it is not redeployed until data, parameters or code change",
                candidate.model_id, rolled.from_version, rolled.to_version, rolled.at
            ),
            overrides.allow_rolled_back,
        );
    }
    let Some(served) = served else {
        return decide(
            judgement,
            Verdict::FirstDeploy,
            "nothing is deployed yet: first deploy".to_string(),
            true,
        );
    };
    let Some(candidate_rmse) = candidate_rmse else {
        return decide(
            judgement,
            Verdict::Unverified,
            format!(
                "cannot score the candidate on {TEST_DATA} (missing or unreadable; run the pipeline's split stage), so it cannot be compared with production"
            ),
            overrides.allow_unverified,
        );
    };
    let artifact = served.artifact.clone();
    let scored_on = test.to_path_buf();
    let production_rmse = tokio::task::spawn_blocking(move || rmse_log_on(&artifact, &scored_on))
        .await
        .map_err(ScoreError::from)
        .and_then(|r| r);
    let production_rmse = match production_rmse {
        Ok(value) => value,
        Err(e) => {
            return decide(
                judgement,
                Verdict::Unverified,
                format!(
                    "production's model {} cannot be scored: {e}",
                    served.model_id
                ),
                overrides.allow_unverified,
            );
        }
    };
    judgement.production_rmse_log = Some(production_rmse);
    let difference = candidate_rmse - production_rmse;
    // NaN scores compare as neither: worse, not better.
    let within = matches!(
        candidate_rmse.partial_cmp(&(production_rmse + tolerance)),
        Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
    );
    if !within {
        return decide(
            judgement,
            Verdict::Worse,
            format!(
                "the candidate is worse: RMSE(log) {production_rmse:.4} -> {candidate_rmse:.4} ({difference:+.4} > tolerance {tolerance:.4})"
            ),
            overrides.allow_worse,
        );
    }
    decide(
        judgement,
        Verdict::NoWorse,
        format!(
            "no worse than production: RMSE(log) {production_rmse:.4} -> {candidate_rmse:.4} ({difference:+.4}, tolerance {tolerance:.4})"
        ),
        true,
    )
}

pub(crate) fn decide(
    mut judgement: Judgement,
    verdict: Verdict,
    reason: String,
    passes: bool,
) -> Judgement {
    let refused_by_default = matches!(
        verdict,
        Verdict::Worse | Verdict::Unverified | Verdict::RolledBack
    );
    judgement.verdict = verdict;
    judgement.passes = passes;
    judgement.overridden = passes && refused_by_default;
    judgement.reason = if judgement.overridden {
        format!("{reason} — overridden by the operator")
    } else {
        reason
    };
    judgement
}
