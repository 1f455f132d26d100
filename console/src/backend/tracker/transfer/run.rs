//! One run's copy: create it whole, bring an older copy up to date, or leave it alone.

use std::collections::{BTreeMap, HashMap};

use super::super::Tracker;
use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::origin::{self, ORIGIN_TAG};
use super::super::types::{Batch, FileInfo, KeyValue, Metric, NewRun, Run, RunStatus};
use super::{RunOutcome, RunReport};

/// Copies `run` from `source` into the destination experiment, or updates `existing`.
pub async fn transfer_run(
    source: &dyn Tracker,
    destination: &dyn Tracker,
    experiment_id: &str,
    run: Run,
    existing: Option<Run>,
    dry_run: bool,
) -> RunReport {
    let mut report = RunReport {
        source_run_id: run.info.run_id.clone(),
        destination_run_id: existing.as_ref().map(|e| e.info.run_id.clone()),
        run_name: run.info.run_name.clone(),
        start_time: run.info.start_time,
        outcome: RunOutcome::UpToDate,
        metrics: 0,
        params: 0,
        tags: 0,
        artifacts: 0,
        artifact_bytes: 0,
        error: None,
    };
    let result = match &existing {
        Some(copy) if up_to_date(&run, copy) => Ok(RunOutcome::UpToDate),
        Some(_) if dry_run => Ok(RunOutcome::Updated),
        None if dry_run => Ok(RunOutcome::Copied),
        Some(copy) => update(source, destination, &run, copy, &mut report)
            .await
            .map(|()| RunOutcome::Updated),
        None => create(source, destination, experiment_id, &run, &mut report)
            .await
            .map(|()| RunOutcome::Copied),
    };
    match result {
        Ok(outcome) => report.outcome = outcome,
        Err(error) => {
            report.outcome = RunOutcome::Failed;
            report.error = Some(error.to_string());
        }
    }
    report
}

/// Tags a copy must have the same as its source (the origin tag is the copy's own).
fn copied_tags(run: &Run) -> impl Iterator<Item = (&String, &String)> {
    run.tags.iter().filter(|(k, _)| k.as_str() != ORIGIN_TAG)
}

/// Whether the copy has everything the source has: params, tags, the latest value of every
/// metric, status and end time (artifacts are compared only when something else differs,
/// since listing them costs requests and they change together with the metrics).
fn up_to_date(run: &Run, copy: &Run) -> bool {
    run.info.status == copy.info.status
        && run.info.end_time == copy.info.end_time
        && run
            .params
            .iter()
            .all(|(k, v)| copy.params.get(k) == Some(v))
        && copied_tags(run).all(|(k, v)| copy.tags.get(k) == Some(v))
        && run.metrics.iter().all(|(k, m)| {
            copy.metrics.get(k).is_some_and(|c| {
                c.value.to_bits() == m.value.to_bits()
                    && c.step == m.step
                    && c.timestamp == m.timestamp
            })
        })
}

async fn create(
    source: &dyn Tracker,
    destination: &dyn Tracker,
    experiment_id: &str,
    run: &Run,
    report: &mut RunReport,
) -> TrackerResult<()> {
    let mut tags: Vec<KeyValue> = copied_tags(run).map(|(k, v)| KeyValue::new(k, v)).collect();
    tags.push(KeyValue::new(ORIGIN_TAG, origin::origin(run)));
    report.tags = tags.len();
    let created = destination
        .create_run(&NewRun {
            experiment_id: experiment_id.to_string(),
            run_name: Some(run.info.run_name.clone()),
            start_time: run.info.start_time,
            tags,
        })
        .await?;
    let copy_id = created.run_id;
    report.destination_run_id = Some(copy_id.clone());
    let metrics = source.metric_histories(&run.info.run_id).await?;
    let batch = Batch {
        metrics,
        params: run
            .params
            .iter()
            .map(|(k, v)| KeyValue::new(k, v))
            .collect(),
        tags: Vec::new(),
    };
    report.metrics = batch.metrics.len();
    report.params = batch.params.len();
    if !batch.is_empty() {
        destination.log_batch(&copy_id, &batch).await?;
    }
    copy_artifacts(source, destination, &run.info.run_id, &copy_id, &[], report).await?;
    finish(destination, run, &copy_id).await
}

/// Ends the copy as the source ended (last, so an interrupted copy is not mistaken for a
/// complete one: the next push sees a different status and finishes it).
async fn finish(destination: &dyn Tracker, run: &Run, copy_id: &str) -> TrackerResult<()> {
    if run.info.status != RunStatus::Running || run.info.end_time.is_some() {
        destination
            .update_run(copy_id, run.info.status, run.info.end_time)
            .await?;
    }
    Ok(())
}

async fn update(
    source: &dyn Tracker,
    destination: &dyn Tracker,
    run: &Run,
    copy: &Run,
    report: &mut RunReport,
) -> TrackerResult<()> {
    let copy_id = copy.info.run_id.as_str();
    let mut batch = Batch::default();
    for (key, value) in &run.params {
        match copy.params.get(key) {
            Some(theirs) if theirs != value => {
                return Err(TrackerError::new(
                    "copy run",
                    ErrorKind::InvalidInput,
                    format!(
                        "param {key:?} is {value:?} in the source run {} but {theirs:?} in its copy {copy_id}; a param cannot change, so the copy is left as it is",
                        run.info.run_id
                    ),
                ));
            }
            Some(_) => {}
            None => batch.params.push(KeyValue::new(key, value)),
        }
    }
    batch.tags = copied_tags(run)
        .filter(|(k, v)| copy.tags.get(*k) != Some(v))
        .map(|(k, v)| KeyValue::new(k, v))
        .collect();
    let changed: Vec<&String> = run
        .metrics
        .iter()
        .filter(|(k, m)| copy.metrics.get(*k) != Some(m))
        .map(|(k, _)| k)
        .collect();
    if !changed.is_empty() {
        let mut history: HashMap<String, Vec<Metric>> = HashMap::new();
        for metric in source.metric_histories(&run.info.run_id).await? {
            history.entry(metric.key.clone()).or_default().push(metric);
        }
        for key in changed {
            let theirs = if copy.metrics.contains_key(key) {
                destination.metric_history(copy_id, key).await?
            } else {
                Vec::new()
            };
            let missing = history
                .remove(key)
                .unwrap_or_default()
                .into_iter()
                .filter(|m| !theirs.contains(m));
            batch.metrics.extend(missing);
        }
    }
    report.metrics = batch.metrics.len();
    report.params = batch.params.len();
    report.tags = batch.tags.len();
    if !batch.is_empty() {
        destination.log_batch(copy_id, &batch).await?;
    }
    let present = artifact_files(destination, copy_id).await?;
    copy_artifacts(
        source,
        destination,
        &run.info.run_id,
        copy_id,
        &present,
        report,
    )
    .await?;
    if run.info.status != copy.info.status || run.info.end_time != copy.info.end_time {
        finish(destination, run, copy_id).await?;
    }
    Ok(())
}

/// Every file under a run's artifact root, recursively, sorted by path.
pub async fn artifact_files(tracker: &dyn Tracker, run_id: &str) -> TrackerResult<Vec<FileInfo>> {
    let mut files = Vec::new();
    let mut folders: Vec<Option<String>> = vec![None];
    while let Some(folder) = folders.pop() {
        for entry in tracker.list_artifacts(run_id, folder.as_deref()).await? {
            if entry.is_dir {
                folders.push(Some(entry.path));
            } else {
                files.push(entry);
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Copies the source run's files that the copy lacks (or has with another size).
async fn copy_artifacts(
    source: &dyn Tracker,
    destination: &dyn Tracker,
    run_id: &str,
    copy_id: &str,
    present: &[FileInfo],
    report: &mut RunReport,
) -> TrackerResult<()> {
    let present: BTreeMap<&str, Option<u64>> = present
        .iter()
        .map(|f| (f.path.as_str(), f.file_size))
        .collect();
    for file in artifact_files(source, run_id).await? {
        if present
            .get(file.path.as_str())
            .is_some_and(|size| *size == file.file_size)
        {
            continue;
        }
        let bytes = source.download_artifact(run_id, &file.path).await?;
        report.artifact_bytes += bytes.len() as u64;
        destination
            .upload_artifact(copy_id, &file.path, bytes)
            .await?;
        report.artifacts += 1;
    }
    Ok(())
}
