//! "Make this model live", the one path every deploy takes: read the candidate, judge it
//! (the gate), ask (the caller's confirmation), deploy it (publish, smoke test, alias), then
//! record it (tracker, the gate's memory). `amesops deploy` (and so the pipeline's `deploy`
//! stage and `dvc repro`), retrain, the scheduler and the console's keys all come here.

use std::time::Instant;

use serde::Serialize;

use super::gate::{self, Judgement, Overrides, Verdict};
use super::lock::RunLock;
use super::memory::Memory;
use super::{Confirm, Context, Error, Event, Question, Sink, Weight, tracker};
use crate::backend::deployer::{CandidateModel, DeployReport, DeployRequest};

/// What a promote did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The candidate went live.
    Deployed,
    /// The candidate already serves; nothing changed.
    NothingChanged,
    /// The gate refused it; production unchanged.
    Refused,
    /// The operator said no; production unchanged.
    Declined,
}

/// The report of one promote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Promotion {
    /// What happened.
    pub decision: Decision,
    /// The gate's judgement.
    pub gate: Judgement,
    /// The deployment, when one happened.
    pub deployed: Option<DeployReport>,
    /// Seconds the deploy took (smoke test and alias move included).
    pub deploy_seconds: Option<f64>,
    /// Where the candidate came from.
    pub origin: String,
}

impl Promotion {
    /// One line for people.
    pub fn summary(&self) -> String {
        match self.decision {
            Decision::Deployed => match &self.deployed {
                Some(d) => format!(
                    "deployed model {} as version {}{}",
                    d.model_id,
                    d.version,
                    if d.url.is_empty() {
                        String::new()
                    } else {
                        format!(" · {}", d.url)
                    }
                ),
                None => format!("deployed model {}", self.gate.candidate_model),
            },
            Decision::NothingChanged => match &self.deployed {
                Some(d) => format!(
                    "unchanged: version {} already serves model {}",
                    d.version, d.model_id
                ),
                None => format!("nothing changed: {}", self.gate.reason),
            },
            Decision::Refused => refusal_line(&self.gate),
            Decision::Declined => "cancelled: nothing changed".to_string(),
        }
    }
}

/// The one line of a refusal: why, that production is unchanged, and the explicit override.
pub fn refusal_line(gate: &Judgement) -> String {
    let mut line = format!(
        "refused: {}; production unchanged",
        gate.reason.trim_end_matches('.')
    );
    if let Some(flag) = gate.override_flag() {
        line.push_str(&format!(
            " (to deploy it anyway, override explicitly with {flag})"
        ));
    }
    if let Some(before) = &gate.refused_before {
        line.push_str(&format!("; refused before at {}", before.at));
    }
    line
}

/// Promotes the candidate of `request` under the run lock (waiting for another run to end).
pub async fn promote(
    ctx: &Context,
    request: &DeployRequest,
    overrides: Overrides,
    confirm: &dyn Confirm,
    events: &Sink,
) -> Result<Promotion, Error> {
    let lock = ctx.lock(true, events).await?;
    promote_held(ctx, &lock, request, overrides, None, confirm, events).await
}

/// [`promote`] for a caller that holds the lock already; `context` is shown in the question
/// (e.g. the retrain's metrics).
pub async fn promote_held(
    ctx: &Context,
    _lock: &RunLock,
    request: &DeployRequest,
    overrides: Overrides,
    context: Option<&str>,
    confirm: &dyn Confirm,
    events: &Sink,
) -> Result<Promotion, Error> {
    let candidate = ctx.deployer.candidate(request).await?;
    let judgement = judge(ctx, &candidate, overrides).await?;
    events(Event::Step(format!("gate: {}", judgement.reason)));
    if let Some(shadow) = &judgement.shadow {
        events(Event::Step(shadow.line()));
    }
    let origin = candidate.origin.clone();
    if !judgement.passes {
        return refuse(ctx, judgement, origin);
    }
    // Locally the live model is all there is to a deploy: nothing to ask, nothing to do. (On
    // aws the same model may still go out with other settings, e.g. a log level.)
    if judgement.verdict == Verdict::AlreadyLive && ctx.target == crate::config::Target::Local {
        return Ok(Promotion {
            decision: Decision::NothingChanged,
            gate: judgement,
            deployed: None,
            deploy_seconds: None,
            origin,
        });
    }
    let question = question(ctx, request, &candidate, &judgement, context);
    if !confirm.confirm(&question).await? {
        return Ok(Promotion {
            decision: Decision::Declined,
            gate: judgement,
            deployed: None,
            deploy_seconds: None,
            origin,
        });
    }
    deploy_judged(ctx, request, &candidate, judgement, events).await
}

/// Judges `candidate` with the gate's memory.
pub async fn judge(
    ctx: &Context,
    candidate: &CandidateModel,
    overrides: Overrides,
) -> Result<Judgement, Error> {
    let memory = Memory::load(&ctx.state_dir)?;
    let params = ctx.retrain_params()?;
    let judgement = gate::judge(
        ctx.deployer.as_ref(),
        candidate,
        &ctx.test_data(),
        params.tolerance,
        &memory,
        overrides,
    )
    .await;
    Ok(judge_shadow(
        ctx,
        candidate,
        judgement,
        params.max_shadow_p99_change,
        overrides,
    )
    .await)
}

/// The shadow replay after the held-out comparison: shown beside it, and a refusal (as a worse
/// model) when the candidate moves real traffic by more than `max_p99_change`.
async fn judge_shadow(
    ctx: &Context,
    candidate: &CandidateModel,
    judgement: Judgement,
    max_p99_change: Option<f64>,
    overrides: Overrides,
) -> Judgement {
    if judgement.verdict != Verdict::NoWorse {
        return judgement;
    }
    let Ok(crate::backend::deployer::Production::Serving(served)) = ctx.deployer.production().await
    else {
        return judgement;
    };
    let shadow = super::shadow::judge(
        ctx.store.as_deref(),
        &candidate.bytes,
        &served.artifact,
        max_p99_change,
        super::monitor::dates::today(),
    )
    .await;
    let mut judgement = judgement;
    if shadow.refused {
        let p99 = shadow.change.map(|c| c.p99).unwrap_or(f64::NAN);
        let reason = format!(
            "the candidate moves real traffic too much: p99 |Δ price| {:.2}% over {} stored requests of the last {} days > retrain.max_shadow_p99_change {:.2}%",
            100.0 * p99,
            shadow.records,
            shadow.since_days,
            100.0 * max_p99_change.unwrap_or_default()
        );
        judgement.shadow = Some(shadow);
        return gate::decide(judgement, Verdict::Worse, reason, overrides.allow_worse);
    }
    judgement.shadow = Some(shadow);
    judgement
}

/// Remembers a refusal and reports it.
pub fn refuse(ctx: &Context, judgement: Judgement, origin: String) -> Result<Promotion, Error> {
    if let Some(refusal) = judgement.refusal() {
        let mut memory = Memory::load(&ctx.state_dir)?;
        memory.refuse(refusal);
        memory.save(&ctx.state_dir)?;
    }
    Ok(Promotion {
        decision: Decision::Refused,
        gate: judgement,
        deployed: None,
        deploy_seconds: None,
        origin,
    })
}

/// The confirmation a judged candidate needs: what goes where, and, for an override, the
/// candidate's model id typed back.
pub fn question(
    ctx: &Context,
    request: &DeployRequest,
    candidate: &CandidateModel,
    judgement: &Judgement,
    context: Option<&str>,
) -> Question {
    let canary = request
        .options
        .canary
        .map(|p| format!(" as a {p}% canary"))
        .unwrap_or_default();
    let from = match (&judgement.production_model, &judgement.production_version) {
        (Some(model), Some(version)) => format!(", replacing model {model} (version {version})"),
        _ => " (first deploy)".to_string(),
    };
    let mut action = format!(
        "Deploy model {} ({}){canary}{from}: smoke-test it, then move the alias.",
        candidate.model_id, candidate.origin
    );
    if let Some(context) = context {
        action = format!("{context}\n{action}");
    }
    if let Some(shadow) = &judgement.shadow {
        action.push_str(&format!("\n{}", shadow.line()));
    }
    let warning = if judgement.overridden {
        Some(format!("OVERRIDE of the gate: {}", judgement.reason))
    } else {
        Some(format!("gate: {}", judgement.reason))
    };
    Question {
        action,
        target: ctx.target_label.clone(),
        typed: ctx.typed(judgement.overridden.then_some(candidate.model_id.as_str())),
        warning,
        weight: Weight::Production,
    }
}

/// Deploys a candidate the gate passed and the operator confirmed, then records it.
pub async fn deploy_judged(
    ctx: &Context,
    request: &DeployRequest,
    candidate: &CandidateModel,
    judgement: Judgement,
    events: &Sink,
) -> Result<Promotion, Error> {
    let started = Instant::now();
    let step = {
        let events = events.clone();
        move |line: String| events(Event::Step(line))
    };
    let report = ctx
        .deployer
        .deploy(request, &candidate.sha256, &step)
        .await?;
    let deploy_seconds = started.elapsed().as_secs_f64();
    let mut memory = Memory::load(&ctx.state_dir)?;
    memory.forget_refusal(&candidate.model_id);
    if judgement.verdict == Verdict::RolledBack {
        memory.forget_rollback(&candidate.model_id);
    }
    memory.save(&ctx.state_dir)?;
    if report.changed && request.options.canary.is_none() {
        step(tracker::register(ctx.tracker.as_deref(), &candidate.bytes).await);
    }
    Ok(Promotion {
        decision: if report.changed {
            Decision::Deployed
        } else {
            Decision::NothingChanged
        },
        gate: judgement,
        deployed: Some(report),
        deploy_seconds: Some(deploy_seconds),
        origin: candidate.origin.clone(),
    })
}
