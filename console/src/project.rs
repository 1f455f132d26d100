//! The project as the console sees it: pipeline status, pipeline runs and tracked runs.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use tokio::sync::mpsc;

use crate::backend::tracker::{self, Tracker};
use crate::config::Config;
use crate::pipeline::runner::{self, Engine, Event, RunRequest, RunSummary};
use crate::pipeline::{self, report, tool};
use crate::tui::action::Loaded;
use crate::tui::views::experiments::RunRow;
use crate::tui::views::pipeline::{PipelineSnapshot, RunEvent, StageRow};

/// Runs listed in the Experiments view.
const RUNS_SHOWN: usize = 200;

/// The project folder and its tracker.
pub struct Project {
    /// Folder holding dvc.yaml.
    pub root: PathBuf,
    /// Tracker URI from the configuration.
    tracker_uri: Option<String>,
    /// Experiment whose runs are listed (`MLFLOW_EXPERIMENT_NAME`, else `amesops`).
    experiment: String,
}

impl Project {
    /// The project at or above the current folder (or the current folder itself).
    pub fn open(config: &Config) -> Result<Project> {
        let cwd = std::env::current_dir()?;
        let root = pipeline::Project::find_root(&cwd).unwrap_or(cwd);
        let experiment = std::env::var("MLFLOW_EXPERIMENT_NAME")
            .ok()
            .filter(|e| !e.is_empty());
        Ok(Project::at(root, config.tracker.clone(), experiment))
    }

    /// A project at `root` with an explicit tracker and experiment.
    pub fn at(root: PathBuf, tracker_uri: Option<String>, experiment: Option<String>) -> Project {
        Project {
            root,
            tracker_uri,
            experiment: experiment.unwrap_or_else(|| crate::cli::DEFAULT_EXPERIMENT.to_string()),
        }
    }

    /// The tracker, opened on demand (SQLite under `.amesops/` unless an MLflow URI is set).
    pub fn tracker(&self) -> Result<Arc<dyn Tracker>, String> {
        let uri =
            tracker::TrackerUri::parse(self.tracker_uri.as_deref()).map_err(|e| e.to_string())?;
        tracker::open(&uri).map_err(|e| e.to_string())
    }

    /// The stage retrain runs up to: `package` (or `evaluate`) when dvc.yaml has it, so the
    /// pipeline's own `deploy` stage does not bypass the gate; `None` (everything) otherwise.
    pub fn last_stage_before_deploy(&self) -> Option<String> {
        let project = pipeline::Project::load(&self.root).ok()?;
        ["package", "evaluate"]
            .iter()
            .find(|name| project.stage_index(name).is_ok())
            .map(|s| s.to_string())
    }

    /// Records a deployed model as the `production` version of `ames-price` in the tracker.
    pub async fn register_production(&self, model: &[u8]) -> Result<String, String> {
        let loaded = core_model::Artifact::from_bytes(model).map_err(|e| e.to_string())?;
        let run_id = loaded.artifact.run_id.ok_or_else(|| {
            format!(
                "model {} has no tracker run, so it is not registered",
                loaded.id
            )
        })?;
        let tracker = self.tracker()?;
        let version = tracker::register_production(tracker.as_ref(), &loaded.id, &run_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "registered as {} version {} ({})",
            version.name,
            version.version,
            tracker::PRODUCTION_ALIAS
        ))
    }

    /// Moves the tracker's `production` alias back one version.
    pub async fn rollback_production(&self) -> Result<String, String> {
        let tracker = self.tracker()?;
        let version = tracker::rollback_production(tracker.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        Ok(format!(
            "{} is {} version {}",
            tracker::PRODUCTION_ALIAS,
            version.name,
            version.version
        ))
    }

    /// Pipeline status as the Pipeline view shows it.
    pub async fn pipeline_snapshot(&self) -> Result<PipelineSnapshot, String> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || snapshot(root))
            .await
            .map_err(|e| e.to_string())?
    }

    /// Runs the pipeline (or one stage), forwarding progress as console events.
    pub async fn run_pipeline(
        &self,
        stage: Option<String>,
        events: mpsc::UnboundedSender<Loaded>,
    ) -> Result<RunSummary, String> {
        let request = RunRequest {
            root: self.root.clone(),
            stage,
            force: false,
            engine: Engine::Auto,
        };
        let summary = tokio::task::spawn_blocking(move || {
            let (rx, handle) = runner::spawn(request);
            for event in rx {
                let _ = events.send(Loaded::PipelineRun(convert(event)));
            }
            let result = handle
                .join()
                .map_err(|_| "the pipeline runner crashed".to_string())?;
            let ok = matches!(&result, Ok(s) if s.succeeded());
            let _ = events.send(Loaded::PipelineRun(RunEvent::Done(ok)));
            result.map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())??;
        match summary.failure {
            Some(failure) => Err(format!(
                "pipeline failed{}: {}",
                failure
                    .stage
                    .map(|s| format!(" in stage {s}"))
                    .unwrap_or_default(),
                failure.error
            )),
            None => Ok(summary),
        }
    }

    /// Runs the pipeline printing progress lines (before the console opens).
    pub async fn run_pipeline_blocking_print(&self, stage: Option<String>) -> Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let printer = tokio::spawn(async move {
            while let Some(Loaded::PipelineRun(event)) = rx.recv().await {
                match event {
                    RunEvent::Started(s) => eprintln!("  ▶ {s}"),
                    RunEvent::Finished(s, secs) => eprintln!("  ✓ {s} ({secs:.1} s)"),
                    RunEvent::Skipped(s) => eprintln!("  · {s} up to date"),
                    RunEvent::Failed(s, e) => eprintln!("  ✗ {s}: {e}"),
                    RunEvent::Output(_) | RunEvent::Done(_) => {}
                }
            }
        });
        let result = self.run_pipeline(stage, tx).await;
        let _ = printer.await;
        result.map(|_| ()).map_err(anyhow::Error::msg)
    }

    /// Runs from the tracker, newest first, with the production run marked.
    pub async fn runs(&self) -> Result<Vec<RunRow>, String> {
        let tracker = self.tracker()?;
        let experiment = tracker
            .experiment(&self.experiment)
            .await
            .map_err(|e| e.to_string())?;
        let search = tracker::RunSearch {
            experiment_ids: vec![experiment.experiment_id],
            filter: None,
            order_by: Vec::new(),
            max_results: RUNS_SHOWN,
        };
        let runs = tracker
            .search_runs(&search)
            .await
            .map_err(|e| e.to_string())?;
        let production = tracker
            .get_alias(tracker::REGISTERED_MODEL, tracker::PRODUCTION_ALIAS)
            .await
            .ok()
            .flatten()
            .and_then(|v| v.run_id);
        Ok(runs
            .into_iter()
            .map(|run| RunRow {
                production: production.as_deref() == Some(run.info.run_id.as_str()),
                start_time: time::OffsetDateTime::from_unix_timestamp(run.info.start_time / 1000)
                    .ok()
                    .and_then(|t| {
                        t.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_default(),
                metrics: run
                    .metrics
                    .iter()
                    .map(|(k, m)| (k.clone(), m.value))
                    .collect(),
                params: run.params,
                name: run.info.run_name,
                run_id: run.info.run_id,
            })
            .collect())
    }
}

fn convert(event: Event) -> RunEvent {
    match event {
        Event::StageStarted { stage } => RunEvent::Started(stage),
        Event::StageSkipped { stage, .. } => RunEvent::Skipped(stage),
        Event::StageFinished { stage, duration } => {
            RunEvent::Finished(stage, duration.as_secs_f64())
        }
        Event::StageFailed { stage, error, .. } => RunEvent::Failed(stage, error),
        Event::Output(line) => RunEvent::Output(line.text),
    }
}

fn snapshot(root: PathBuf) -> Result<PipelineSnapshot, String> {
    let project = pipeline::Project::load(&root).map_err(|e| e.to_string())?;
    let status = project.status().map_err(|e| e.to_string())?;
    let stages = status
        .in_run_order()
        .map(|s| {
            let definition = project.stages.iter().find(|d| d.name == s.name);
            let mut details = Vec::new();
            if let Some(lock) = project.lock.stage(&s.name) {
                for dep in &lock.deps {
                    details.push(format!(
                        "dep  {} {}",
                        dep.path,
                        dep.md5.as_deref().unwrap_or("-")
                    ));
                }
                for out in &lock.outs {
                    details.push(format!(
                        "out  {} {}",
                        out.path,
                        out.md5.as_deref().unwrap_or("-")
                    ));
                }
            }
            StageRow {
                name: s.name.clone(),
                status: s.state().as_str().to_string(),
                why: report::reasons(s).join("; "),
                cmd: definition
                    .map(|d| d.commands().join(" && "))
                    .unwrap_or_default(),
                details,
            }
        })
        .collect();
    let metrics = std::fs::read(root.join("metrics.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .map(|json| {
            ["rmse_log", "rmse", "mae", "r2", "mape"]
                .iter()
                .filter_map(|k| {
                    json.get(*k)
                        .and_then(|v| v.as_f64())
                        .map(|v| (k.to_string(), v))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(PipelineSnapshot {
        stages,
        metrics,
        data_quality: crate::data_quality::load(&root).map(|r| r.summary()),
        dvc: tool::find_dvc().is_some(),
    })
}
