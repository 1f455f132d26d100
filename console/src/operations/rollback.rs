//! Rolling back: the alias moves back to an earlier version, and the model it moves away from
//! is remembered, so neither retrain nor a schedule brings it back until the pipeline makes a
//! new model (data, parameters or code changed) or the operator forces it.

use serde::Serialize;

use super::memory::{Memory, RolledBack, now};
use super::{Confirm, Context, Error, Event, Question, Sink, Weight, tracker};
use crate::backend::deployer::{DeployReport, RollbackPlan};

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackOutcome {
    /// The plan (from which version and model to which).
    pub plan: RollbackPlan,
    /// The result; `None` when the operator declined.
    pub report: Option<DeployReport>,
}

/// The question a rollback asks: both versions and models named.
pub fn question(ctx: &Context, plan: &RollbackPlan) -> Question {
    let action = if plan.stops_canary {
        format!(
            "Stop the canary: all traffic back to version {} (model {}); version {} (model {}) gets none.",
            plan.to_version, plan.to_model, plan.from_version, plan.from_model
        )
    } else {
        format!(
            "Roll back: move the alias from version {} (model {}) to version {} (model {}).",
            plan.from_version, plan.from_model, plan.to_version, plan.to_model
        )
    };
    Question {
        action,
        target: ctx.target_label.clone(),
        typed: ctx.typed(None),
        warning: Some(format!(
            "model {} will not be redeployed by retrain or a schedule until data, parameters or code change (or it is forced with --allow-rolled-back)",
            plan.from_model
        )),
        weight: Weight::Production,
    }
}

/// Rolls back to `to` (or the previous version), under the run lock.
pub async fn rollback(
    ctx: &Context,
    to: Option<&str>,
    confirm: &dyn Confirm,
    events: &Sink,
) -> Result<RollbackOutcome, Error> {
    let _lock = ctx.lock(true, events).await?;
    let plan = ctx.deployer.plan_rollback(to).await?;
    if !confirm.confirm(&question(ctx, &plan)).await? {
        return Ok(RollbackOutcome { plan, report: None });
    }
    let step = {
        let events = events.clone();
        move |line: String| events(Event::Step(line))
    };
    let report = ctx.deployer.rollback(&plan, &step).await?;
    let mut memory = Memory::load(&ctx.state_dir)?;
    if plan.from_model != report.model_id {
        memory.roll_back(RolledBack {
            model_id: plan.from_model.clone(),
            from_version: plan.from_version.clone(),
            to_version: plan.to_version.clone(),
            at: now(),
        });
    }
    // The model now live again is no longer one rolled back from.
    memory.forget_rollback(&report.model_id);
    memory.save(&ctx.state_dir)?;
    events(Event::Step(format!(
        "model {} stays out of production until data, parameters or code change (or --allow-rolled-back)",
        plan.from_model
    )));
    if !plan.stops_canary {
        step(tracker::roll_back(ctx.tracker.as_deref()).await);
    }
    Ok(RollbackOutcome {
        plan,
        report: Some(report),
    })
}
