//! Sending queued runs: oldest first, each call removed from its entry once the tracker has
//! it, stopping at the first sign that the tracker is still out of reach.

use serde::Serialize;

use super::super::Tracker;
use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::origin::{ORIGIN_TAG, find_run, origin_filter};
use super::super::types::{KeyValue, NewRun, RunSearch};
use super::{Entry, Outbox, OutboxError, QueuedOp, file_path, same_tracker, write_entry};

/// What a replay reports as it goes.
#[derive(Debug)]
pub enum ReplayEvent<'a> {
    /// A run is in the tracker now, with everything that was queued for it.
    Sent {
        /// The entry as it was queued.
        entry: &'a Entry,
        /// The run's id in the tracker.
        tracker_run_id: &'a str,
    },
    /// A run stays in the outbox.
    Kept {
        /// The entry.
        entry: &'a Entry,
        /// Why.
        error: &'a str,
    },
}

/// What a replay did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ReplayReport {
    /// Runs sent.
    pub sent: usize,
    /// Runs for this tracker still waiting.
    pub kept: usize,
    /// Runs waiting for other trackers (tracking URI, count).
    pub other_trackers: Vec<(String, usize)>,
    /// Set when the replay stopped because the tracker is still out of reach.
    pub unreachable: Option<String>,
    /// Another process was replaying: nothing was tried.
    pub busy: bool,
}

fn outbox_error(error: OutboxError) -> TrackerError {
    TrackerError::new("outbox", ErrorKind::Server, error.to_string())
}

impl Outbox {
    /// Sends the runs queued for `uri` (every queued run with `all`) to `tracker`, oldest
    /// first. With `wait` false, a replay already running in another process is left to
    /// finish (`busy`) instead of waited for.
    pub async fn replay(
        &self,
        tracker: &dyn Tracker,
        uri: &str,
        all: bool,
        wait: bool,
        progress: &mut (dyn FnMut(ReplayEvent<'_>) + Send),
    ) -> Result<ReplayReport, OutboxError> {
        let mut report = ReplayReport::default();
        if self.entries()?.is_empty() {
            return Ok(report);
        }
        let Some(_lock) = self.lock(wait)? else {
            report.busy = true;
            return Ok(report);
        };
        for queued in self.entries()? {
            let mine = all || same_tracker(&queued.entry.tracker, uri);
            if !mine {
                match report
                    .other_trackers
                    .iter_mut()
                    .find(|(t, _)| same_tracker(t, &queued.entry.tracker))
                {
                    Some((_, count)) => *count += 1,
                    None => report
                        .other_trackers
                        .push((queued.entry.tracker.clone(), 1)),
                }
                continue;
            }
            if report.unreachable.is_some() {
                report.kept += 1;
                continue;
            }
            let original = queued.entry.clone();
            let mut entry = queued.entry;
            entry.attempts += 1;
            match send(tracker, &queued.dir, &mut entry).await {
                Ok(tracker_run_id) => {
                    std::fs::remove_dir_all(&queued.dir).map_err(|source| OutboxError::Io {
                        path: queued.dir.clone(),
                        source,
                    })?;
                    report.sent += 1;
                    progress(ReplayEvent::Sent {
                        entry: &original,
                        tracker_run_id: &tracker_run_id,
                    });
                }
                Err(error) => {
                    let message = error.to_string();
                    entry.last_error = Some(message.clone());
                    write_entry(&queued.dir, &entry)?;
                    report.kept += 1;
                    if error.kind == ErrorKind::Unreachable {
                        report.unreachable = Some(message.clone());
                    }
                    progress(ReplayEvent::Kept {
                        entry: &entry,
                        error: &message,
                    });
                }
            }
        }
        Ok(report)
    }
}

/// Makes the entry's calls, saving the entry after each so a stop resumes where it was.
async fn send(
    tracker: &dyn Tracker,
    dir: &std::path::Path,
    entry: &mut Entry,
) -> TrackerResult<String> {
    let run_id = match entry.tracker_run_id.clone() {
        Some(id) => id,
        None => {
            let id = match entry.create.clone() {
                Some(create) => {
                    let experiment = tracker.experiment(&entry.experiment).await?;
                    // A replay that stopped right after creating the run finds it again.
                    let found = tracker
                        .search_runs(&RunSearch {
                            experiment_ids: vec![experiment.experiment_id.clone()],
                            filter: Some(origin_filter(&entry.run_id)),
                            order_by: Vec::new(),
                            max_results: 1,
                        })
                        .await?
                        .into_iter()
                        .next();
                    match found {
                        Some(run) => run.info.run_id,
                        None => {
                            let mut tags = create.tags;
                            tags.retain(|t| t.key != ORIGIN_TAG);
                            tags.push(KeyValue::new(ORIGIN_TAG, &entry.run_id));
                            tracker
                                .create_run(&NewRun {
                                    experiment_id: experiment.experiment_id,
                                    run_name: Some(create.run_name),
                                    start_time: create.start_time,
                                    tags,
                                })
                                .await?
                                .run_id
                        }
                    }
                }
                None => find_run(tracker, &entry.run_id, Some(&entry.experiment))
                    .await?
                    .ok_or_else(|| {
                        TrackerError::new(
                            "outbox",
                            ErrorKind::NotFound,
                            format!(
                                "run {} is not in {}; it may have been deleted (remove {} to drop what was queued for it)",
                                entry.run_id,
                                tracker.describe(),
                                dir.display()
                            ),
                        )
                    })?
                    .info
                    .run_id,
            };
            entry.tracker_run_id = Some(id.clone());
            entry.create = None;
            write_entry(dir, entry).map_err(outbox_error)?;
            id
        }
    };
    while let Some(op) = entry.ops.first().cloned() {
        match op {
            QueuedOp::LogBatch { batch } => tracker.log_batch(&run_id, &batch).await?,
            QueuedOp::Upload { path } => {
                let file = file_path(dir, &path).ok_or_else(|| {
                    TrackerError::new(
                        "outbox",
                        ErrorKind::InvalidInput,
                        format!("artifact path {path:?} is not a relative path"),
                    )
                })?;
                let bytes = std::fs::read(&file).map_err(|e| {
                    TrackerError::new(
                        "outbox",
                        ErrorKind::Server,
                        format!("{}: {e}", file.display()),
                    )
                })?;
                tracker.upload_artifact(&run_id, &path, bytes).await?;
            }
            QueuedOp::End { status, end_time } => {
                tracker.update_run(&run_id, status, Some(end_time)).await?;
            }
        }
        entry.ops.remove(0);
        write_entry(dir, entry).map_err(outbox_error)?;
    }
    Ok(run_id)
}
