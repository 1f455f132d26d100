//! A run's origin: the id it was first given, wherever it lives now.
//!
//! A run copied to another tracker (`runs push`, `runs pull`) or sent later from the outbox
//! gets a new id there, and carries the id it was born with as the tag
//! `amesops.origin_run_id`. A model names its run by that first id, so `evaluate`, `deploy` and
//! `runs compare` find the run in any tracker it was copied to, and a second copy recognises
//! the run instead of duplicating it.

use super::Tracker;
use super::error::{ErrorKind, TrackerResult};
use super::types::{Run, RunSearch};

/// Tag holding the id a run was first given (absent on a run that was never copied).
pub const ORIGIN_TAG: &str = "amesops.origin_run_id";

/// The id a run was first given.
pub fn origin(run: &Run) -> &str {
    run.tags
        .get(ORIGIN_TAG)
        .map(String::as_str)
        .filter(|o| !o.is_empty())
        .unwrap_or(&run.info.run_id)
}

/// The filter that finds the copies of a run by its first id.
pub fn origin_filter(run_id: &str) -> String {
    format!("tags.`{ORIGIN_TAG}` = '{}'", run_id.replace('\'', ""))
}

/// The run a model or an outbox entry names: the run with this id, else the run that carries
/// it as its origin (searched in `experiment` first, then in every experiment). `None` when
/// neither exists.
pub async fn find_run(
    tracker: &dyn Tracker,
    run_id: &str,
    experiment: Option<&str>,
) -> TrackerResult<Option<Run>> {
    match tracker.get_run(run_id).await {
        Ok(run) => return Ok(Some(run)),
        // MLflow answers a malformed id with 400, a missing one with 404.
        Err(e) if e.kind == ErrorKind::NotFound || e.kind == ErrorKind::InvalidInput => {}
        Err(e) => return Err(e),
    }
    let mut experiment_ids = Vec::new();
    if let Some(name) = experiment
        && let Some(found) = tracker.find_experiment(name).await?
    {
        experiment_ids.push(found.experiment_id);
    }
    let search = |ids: Vec<String>| RunSearch {
        experiment_ids: ids,
        filter: Some(origin_filter(run_id)),
        order_by: Vec::new(),
        max_results: 1,
    };
    if !experiment_ids.is_empty()
        && let Some(run) = tracker
            .search_runs(&search(experiment_ids.clone()))
            .await?
            .into_iter()
            .next()
    {
        return Ok(Some(run));
    }
    let others: Vec<String> = tracker
        .experiments()
        .await?
        .into_iter()
        .map(|e| e.experiment_id)
        .filter(|id| !experiment_ids.contains(id))
        .collect();
    if others.is_empty() {
        return Ok(None);
    }
    Ok(tracker
        .search_runs(&search(others))
        .await?
        .into_iter()
        .next())
}
