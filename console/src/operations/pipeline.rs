//! Pipeline runs as an operation: under the run lock, with the parent's configuration in every
//! stage's environment, confirmed as a production change when the `deploy` stage will run.
//!
//! The deploy stage is `amesops deploy --yes`, which goes through the gate like any deploy;
//! `--yes` there only answers the confirmation this run already asked for. It inherits this
//! run's lock through [`super::lock::INHERIT_VAR`].

use std::path::Path;

use super::lock::RunLock;
use super::{Confirm, Context, Error, Event, Question, Sink, Weight};
use crate::pipeline::runner::{self, Engine, RunRequest, RunSummary, SkipReason, Stream};
use crate::pipeline::{self, status::State};

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// One stage and its upstream, or everything.
    pub stage: Option<String>,
    /// Run unchanged stages too.
    pub force: bool,
    /// dvc repro when installed, or the commands directly.
    pub engine: Engine,
}

/// Whether a stage makes things live: the `deploy` stage, or any stage calling
/// `amesops deploy` / `rollback`.
pub fn deploys(stage: &crate::pipeline::dvcyaml::Stage) -> bool {
    stage.name == "deploy"
        || stage.commands().iter().any(|cmd| {
            let words: Vec<&str> = cmd.split_whitespace().collect();
            words.windows(2).any(|w| {
                (w[0].ends_with("amesops") || w[0] == "amesops")
                    && matches!(w[1], "deploy" | "rollback")
            })
        })
}

/// The stages a run of `stage` includes that would change production, given their status.
pub fn deploying_stages(
    root: &Path,
    stage: Option<&str>,
    force: bool,
) -> Result<Vec<String>, Error> {
    let project = pipeline::Project::load(root).map_err(|e| Error::Pipeline(e.to_string()))?;
    let targets = match stage {
        Some(name) => project.dag.with_ancestors(
            project
                .stage_index(name)
                .map_err(|e| Error::Pipeline(e.to_string()))?,
        ),
        None => project.dag.order.clone(),
    };
    let status = project.status().ok();
    Ok(targets
        .into_iter()
        .filter_map(|i| project.stages.get(i))
        .filter(|s| deploys(s))
        .filter(|s| {
            force
                || status.as_ref().is_none_or(|status| {
                    status
                        .stages
                        .iter()
                        .find(|x| x.name == s.name)
                        .is_none_or(|x| x.state() != State::UpToDate)
                })
        })
        .map(|s| s.name.clone())
        .collect())
}

/// The stage a retrain runs up to: `package` (or `evaluate`) when dvc.yaml has it, so the
/// pipeline's own `deploy` stage does not run: the gate decides what ships.
pub fn last_stage_before_deploy(root: &Path) -> Option<String> {
    let project = pipeline::Project::load(root).ok()?;
    ["package", "evaluate"]
        .iter()
        .find(|name| project.stage_index(name).is_ok())
        .map(|s| s.to_string())
}

/// The question a run asks: a production change when it will deploy.
pub fn question(ctx: &Context, run: &Run, deploying: &[String]) -> Question {
    let what = match &run.stage {
        Some(stage) => format!("Run pipeline stage '{stage}' (and what it needs)"),
        None => "Run the pipeline: every stage that changed".to_string(),
    };
    if deploying.is_empty() {
        return Question {
            action: format!("{what}."),
            target: ctx.target_label.clone(),
            typed: None,
            warning: None,
            weight: Weight::Routine,
        };
    }
    Question {
        action: format!(
            "{what}, including '{}': the new model goes through the gate and, if it passes, goes live.",
            deploying.join("', '")
        ),
        target: ctx.target_label.clone(),
        typed: ctx.typed(None),
        warning: Some("this run changes what production serves".to_string()),
        weight: Weight::Production,
    }
}

/// Runs the pipeline under the run lock (refusing when another run holds it).
pub async fn run(
    ctx: &Context,
    run: &Run,
    confirm: &dyn Confirm,
    events: &Sink,
) -> Result<Option<RunSummary>, Error> {
    let lock = ctx.lock(false, events).await?;
    let deploying = deploying_stages(&ctx.root, run.stage.as_deref(), run.force)?;
    if !confirm.confirm(&question(ctx, run, &deploying)).await? {
        return Ok(None);
    }
    run_held(ctx, &lock, run, events).await.map(Some)
}

/// Runs the pipeline for a caller that holds the lock; a failed stage is in the summary.
pub async fn run_held(
    ctx: &Context,
    lock: &RunLock,
    run: &Run,
    events: &Sink,
) -> Result<RunSummary, Error> {
    let mut env = ctx.child_env.clone();
    env.push(lock.inherit());
    let request = RunRequest {
        root: ctx.root.clone(),
        stage: run.stage.clone(),
        force: run.force,
        engine: run.engine,
        env,
    };
    let events = events.clone();
    tokio::task::spawn_blocking(move || {
        let (rx, handle) = runner::spawn(request);
        for event in rx {
            events(convert(event));
        }
        let result = handle
            .join()
            .map_err(|_| Error::Pipeline("the pipeline runner crashed".to_string()))?;
        let summary = result.map_err(|e| Error::Pipeline(e.to_string()))?;
        events(Event::PipelineEnded {
            ok: summary.succeeded(),
        });
        Ok(summary)
    })
    .await
    .map_err(|e| Error::Pipeline(format!("the pipeline task failed: {e}")))?
}

/// The failure of a summary as one line, if it failed.
pub fn failure_line(summary: &RunSummary) -> Option<String> {
    summary.failure.as_ref().map(|failure| {
        format!(
            "pipeline failed{}: {}",
            failure
                .stage
                .as_deref()
                .map(|s| format!(" in stage {s}"))
                .unwrap_or_default(),
            failure.error
        )
    })
}

fn convert(event: runner::Event) -> Event {
    match event {
        runner::Event::StageStarted { stage } => Event::StageStarted(stage),
        runner::Event::StageSkipped { stage, reason } => Event::StageSkipped {
            stage,
            restored: reason == SkipReason::RestoredFromRunCache,
        },
        runner::Event::StageFinished { stage, duration } => Event::StageFinished {
            stage,
            seconds: duration.as_secs_f64(),
        },
        runner::Event::StageFailed {
            stage,
            error,
            duration,
        } => Event::StageFailed {
            stage,
            error,
            seconds: duration.as_secs_f64(),
        },
        runner::Event::Output(line) => Event::Output {
            text: line.text,
            stderr: line.stream == Stream::Stderr,
        },
    }
}
