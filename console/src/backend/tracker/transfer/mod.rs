//! Copies an experiment's runs from one tracker to another (`amesops runs push` to an MLflow
//! server, `runs pull` back), with their params, metric histories, tags and artifacts, then
//! the registered model's versions and its `production` alias.
//!
//! Idempotent: each copy carries its run's first id (see [`super::origin`]), so a run already
//! in the destination is recognised. One that is the same there (params, tags, latest metrics,
//! status, end time) is left alone — a second push sends nothing; one that has changed since
//! (e.g. `evaluate` added test metrics) gets what it lacks.

mod run;
mod versions;

use std::collections::HashMap;

use futures_util::StreamExt;
use serde::Serialize;

use super::Tracker;
use super::error::TrackerResult;
use super::origin;
use super::types::{Run, RunSearch};

pub use versions::{AliasReport, VersionOutcome, VersionReport};

/// Runs read in one search: every run of an experiment.
const ALL_RUNS: usize = 10_000_000;

/// What to copy and how.
#[derive(Debug, Clone)]
pub struct TransferOptions {
    /// The experiment copied.
    pub experiment: String,
    /// Its name in the destination (usually the same).
    pub destination_experiment: String,
    /// Runs copied at the same time.
    pub jobs: usize,
    /// Only report what would be copied.
    pub dry_run: bool,
}

/// What happened to one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// It was not in the destination and now is.
    Copied,
    /// It was there with less data, and now has everything.
    Updated,
    /// It was there already, the same: nothing sent.
    UpToDate,
    /// It could not be copied (see `error`).
    Failed,
}

/// One run's copy.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Its id in the source.
    pub source_run_id: String,
    /// Its id in the destination (none when it failed before creation, or in a dry run).
    pub destination_run_id: Option<String>,
    /// Its name.
    pub run_name: String,
    /// Its start time (milliseconds since the Unix epoch), the same on both sides.
    pub start_time: i64,
    /// What happened.
    pub outcome: RunOutcome,
    /// Metric values sent (every step of every history).
    pub metrics: usize,
    /// Params sent.
    pub params: usize,
    /// Tags sent.
    pub tags: usize,
    /// Artifact files sent.
    pub artifacts: usize,
    /// Bytes of artifacts sent.
    pub artifact_bytes: u64,
    /// Why it failed.
    pub error: Option<String>,
}

/// What a transfer did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct TransferReport {
    /// Where the runs came from.
    pub source: String,
    /// Where they went.
    pub destination: String,
    /// The experiment copied.
    pub experiment: String,
    /// Its name in the destination.
    pub destination_experiment: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Runs copied.
    pub copied: usize,
    /// Runs updated.
    pub updated: usize,
    /// Runs that were up to date.
    pub up_to_date: usize,
    /// Runs that failed.
    pub failed: usize,
    /// Every run, oldest first.
    pub runs: Vec<RunReport>,
    /// Registered model versions.
    pub versions: Vec<VersionReport>,
    /// The `production` alias.
    pub production: Option<AliasReport>,
}

impl TransferReport {
    /// Whether everything arrived.
    pub fn succeeded(&self) -> bool {
        self.failed == 0
            && self
                .versions
                .iter()
                .all(|v| v.outcome != VersionOutcome::Failed)
    }
}

/// Progress, as the copy goes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Both sides were read: `runs` to consider, `present` of them already in the destination.
    Planned {
        /// Runs in the source experiment.
        runs: usize,
        /// Of those, how many the destination has (maybe out of date).
        present: usize,
    },
    /// One run is done (`done` of `total`).
    Run {
        /// Runs done so far.
        done: usize,
        /// Runs in all.
        total: usize,
        /// This run.
        report: &'a RunReport,
    },
    /// One model version is done.
    Version(&'a VersionReport),
    /// The alias was looked at.
    Alias(&'a AliasReport),
}

/// Copies the experiment's runs and the registry from `source` to `destination`.
pub async fn transfer(
    source: &dyn Tracker,
    destination: &dyn Tracker,
    options: &TransferOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> TrackerResult<TransferReport> {
    let mut report = TransferReport {
        source: source.describe(),
        destination: destination.describe(),
        experiment: options.experiment.clone(),
        destination_experiment: options.destination_experiment.clone(),
        dry_run: options.dry_run,
        copied: 0,
        updated: 0,
        up_to_date: 0,
        failed: 0,
        runs: Vec::new(),
        versions: Vec::new(),
        production: None,
    };
    let Some(experiment) = source.find_experiment(&options.experiment).await? else {
        progress(Progress::Planned {
            runs: 0,
            present: 0,
        });
        return Ok(report);
    };
    let runs = all_runs(source, &experiment.experiment_id).await?;
    let target = if options.dry_run {
        destination
            .find_experiment(&options.destination_experiment)
            .await?
    } else {
        Some(
            destination
                .experiment(&options.destination_experiment)
                .await?,
        )
    };
    let mut present: HashMap<String, Run> = HashMap::new();
    if let Some(target) = &target {
        for run in all_runs(destination, &target.experiment_id).await? {
            present
                .entry(origin::origin(&run).to_string())
                .or_insert(run);
        }
    }
    let total = runs.len();
    progress(Progress::Planned {
        runs: total,
        present: runs
            .iter()
            .filter(|r| present.contains_key(origin::origin(r)))
            .count(),
    });
    let experiment_id = target.map(|t| t.experiment_id).unwrap_or_default();
    let work = runs.into_iter().enumerate().map(|(index, run)| {
        let existing = present.remove(origin::origin(&run));
        let experiment_id = experiment_id.as_str();
        async move {
            let report = run::transfer_run(
                source,
                destination,
                experiment_id,
                run,
                existing,
                options.dry_run,
            )
            .await;
            (index, report)
        }
    });
    let mut done = Vec::with_capacity(total);
    let mut stream = futures_util::stream::iter(work).buffer_unordered(options.jobs.max(1));
    while let Some((index, run)) = stream.next().await {
        match run.outcome {
            RunOutcome::Copied => report.copied += 1,
            RunOutcome::Updated => report.updated += 1,
            RunOutcome::UpToDate => report.up_to_date += 1,
            RunOutcome::Failed => report.failed += 1,
        }
        progress(Progress::Run {
            done: done.len() + 1,
            total,
            report: &run,
        });
        done.push((index, run));
    }
    drop(stream);
    done.sort_by_key(|(index, _)| *index);
    report.runs = done.into_iter().map(|(_, run)| run).collect();
    let copies: HashMap<String, String> = report
        .runs
        .iter()
        .filter_map(|r| {
            r.destination_run_id
                .clone()
                .map(|d| (r.source_run_id.clone(), d))
        })
        .collect();
    let (versions, production) =
        versions::transfer_versions(source, destination, &copies, options.dry_run, progress)
            .await?;
    report.versions = versions;
    report.production = production;
    Ok(report)
}

/// The experiments of a store that hold at least one run.
pub async fn experiments_with_runs(tracker: &dyn Tracker) -> TrackerResult<Vec<String>> {
    let mut names = Vec::new();
    for experiment in tracker.experiments().await? {
        let any = tracker
            .search_runs(&RunSearch {
                experiment_ids: vec![experiment.experiment_id.clone()],
                filter: None,
                order_by: Vec::new(),
                max_results: 1,
            })
            .await?;
        if !any.is_empty() {
            names.push(experiment.name);
        }
    }
    Ok(names)
}

/// Every run of an experiment, oldest first.
async fn all_runs(tracker: &dyn Tracker, experiment_id: &str) -> TrackerResult<Vec<Run>> {
    tracker
        .search_runs(&RunSearch {
            experiment_ids: vec![experiment_id.to_string()],
            filter: None,
            order_by: vec!["attributes.start_time ASC".to_string()],
            max_results: ALL_RUNS,
        })
        .await
}
