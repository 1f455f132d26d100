//! Experiments and runs in SQLite: the blocking half of the SQLite tracker.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::super::batch;
use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::types::{Batch, Metric, NewRun, Run, RunInfo, RunStatus};
use super::db_error;

/// MLflow's tag holding the run name; kept so tag filters behave the same in both stores.
const RUN_NAME_TAG: &str = "mlflow.runName";

/// Starts a run.
pub fn create_run(c: &mut Connection, root: &Path, run: &NewRun) -> TrackerResult<RunInfo> {
    let call = "create_run";
    let experiment_id: i64 = run
        .experiment_id
        .parse()
        .map_err(|_| not_found(call, &format!("experiment {:?}", run.experiment_id)))?;
    let exists: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM experiments WHERE experiment_id = ?1)",
            [experiment_id],
            |row| row.get(0),
        )
        .map_err(db_error(call))?;
    if !exists {
        return Err(not_found(call, &format!("experiment {experiment_id}")));
    }
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let run_name = run
        .run_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("run-{}", &run_id[..8]));
    let artifact_uri = root.join(&run_id).display().to_string();
    let transaction = c.transaction().map_err(db_error(call))?;
    transaction
        .execute(
            "INSERT INTO runs (run_id, experiment_id, run_name, status, start_time, end_time, artifact_uri)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6)",
            params![run_id, experiment_id, run_name, RunStatus::Running.as_str(), run.start_time, artifact_uri],
        )
        .map_err(db_error(call))?;
    for tag in run.tags.iter().filter(|t| t.key != RUN_NAME_TAG) {
        transaction
            .execute(
                "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)",
                params![run_id, tag.key, tag.value],
            )
            .map_err(db_error(call))?;
    }
    transaction
        .execute(
            "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)",
            params![run_id, RUN_NAME_TAG, run_name],
        )
        .map_err(db_error(call))?;
    transaction.commit().map_err(db_error(call))?;
    get_info(c, &run_id, call)
}

fn not_found(call: &str, what: &str) -> TrackerError {
    TrackerError::new(
        format!("sqlite {call}"),
        ErrorKind::NotFound,
        format!("{what} does not exist"),
    )
}

/// The columns of `runs` a [`RunInfo`] is read from, in [`info_row`]'s order.
pub(super) const INFO_COLUMNS: &str =
    "run_id, experiment_id, run_name, status, start_time, end_time, artifact_uri";

/// A run's info from a row of [`INFO_COLUMNS`]; an unknown status is a protocol error.
pub(super) fn info_row(
    row: &rusqlite::Row<'_>,
    call: &str,
) -> rusqlite::Result<TrackerResult<RunInfo>> {
    let run_id: String = row.get(0)?;
    let status: String = row.get(3)?;
    let Some(status) = RunStatus::parse(&status) else {
        return Ok(Err(TrackerError::new(
            format!("sqlite {call}"),
            ErrorKind::Protocol,
            format!("run {run_id} has the unknown status {status:?}"),
        )));
    };
    Ok(Ok(RunInfo {
        run_id,
        experiment_id: row.get::<_, i64>(1)?.to_string(),
        run_name: row.get(2)?,
        status,
        start_time: row.get(4)?,
        end_time: row.get(5)?,
        artifact_uri: row.get(6)?,
    }))
}

/// A run's identity and lifecycle; `NotFound` when there is no such run.
pub fn get_info(c: &Connection, run_id: &str, call: &str) -> TrackerResult<RunInfo> {
    c.prepare_cached(&format!(
        "SELECT {INFO_COLUMNS} FROM runs WHERE run_id = ?1"
    ))
    .and_then(|mut statement| {
        statement
            .query_row([run_id], |row| info_row(row, call))
            .optional()
    })
    .map_err(db_error(call))?
    .ok_or_else(|| not_found(call, &format!("run {run_id:?}")))?
}

/// Sets a run's status and end time.
pub fn update_run(
    c: &mut Connection,
    run_id: &str,
    status: RunStatus,
    end_time: Option<i64>,
) -> TrackerResult<RunInfo> {
    let call = "update_run";
    let changed = c
        .execute(
            "UPDATE runs SET status = ?2, end_time = COALESCE(?3, end_time) WHERE run_id = ?1",
            params![run_id, status.as_str(), end_time],
        )
        .map_err(db_error(call))?;
    if changed == 0 {
        return Err(not_found(call, &format!("run {run_id:?}")));
    }
    get_info(c, run_id, call)
}

/// Logs a batch in one transaction; a param changing value aborts it whole.
pub fn log_batch(c: &mut Connection, run_id: &str, batch: &Batch) -> TrackerResult<()> {
    let call = "log_batch";
    let batch = batch::validated(&format!("sqlite {call}"), batch)?;
    let transaction = c.transaction().map_err(db_error(call))?;
    get_info(&transaction, run_id, call)?;
    for param in &batch.params {
        let existing: Option<String> = transaction
            .query_row(
                "SELECT value FROM params WHERE run_id = ?1 AND key = ?2",
                params![run_id, param.key],
                |row| row.get(0),
            )
            .optional()
            .map_err(db_error(call))?;
        match existing {
            Some(old) if old != param.value => {
                return Err(TrackerError::new(
                    format!("sqlite {call}"),
                    ErrorKind::InvalidInput,
                    format!(
                        "Changing param values is not allowed. Param with key={:?} was already logged with value={old:?} for run ID={run_id:?}. Attempted logging new value {:?}.",
                        param.key, param.value
                    ),
                ));
            }
            Some(_) => {}
            None => {
                transaction
                    .execute(
                        "INSERT INTO params (run_id, key, value) VALUES (?1, ?2, ?3)",
                        params![run_id, param.key, param.value],
                    )
                    .map_err(db_error(call))?;
            }
        }
    }
    for tag in &batch.tags {
        transaction
            .execute(
                "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)",
                params![run_id, tag.key, tag.value],
            )
            .map_err(db_error(call))?;
        if tag.key == RUN_NAME_TAG {
            transaction
                .execute(
                    "UPDATE runs SET run_name = ?2 WHERE run_id = ?1",
                    params![run_id, tag.value],
                )
                .map_err(db_error(call))?;
        }
    }
    {
        let mut insert = transaction
            .prepare_cached(
                "INSERT OR IGNORE INTO metrics (run_id, key, value, timestamp, step) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(db_error(call))?;
        // MLflow's "latest": highest step, then newest, then largest value.
        let mut latest = transaction
            .prepare_cached(
                "INSERT INTO latest_metrics (key, run_id, value, timestamp, step) VALUES (?2, ?1, ?3, ?4, ?5)
                 ON CONFLICT (key, run_id) DO UPDATE
                 SET value = excluded.value, timestamp = excluded.timestamp, step = excluded.step
                 WHERE (excluded.step, excluded.timestamp, excluded.value)
                     > (latest_metrics.step, latest_metrics.timestamp, latest_metrics.value)",
            )
            .map_err(db_error(call))?;
        for metric in &batch.metrics {
            let values = params![
                run_id,
                metric.key,
                metric.value,
                metric.timestamp,
                metric.step
            ];
            insert.execute(values).map_err(db_error(call))?;
            latest.execute(values).map_err(db_error(call))?;
        }
    }
    transaction.commit().map_err(db_error(call))
}

/// Every value of one metric, by step then time.
pub fn metric_history(c: &mut Connection, run_id: &str, key: &str) -> TrackerResult<Vec<Metric>> {
    let call = "metric_history";
    get_info(c, run_id, call)?;
    let mut statement = c
        .prepare(
            "SELECT key, value, timestamp, step FROM metrics WHERE run_id = ?1 AND key = ?2
             ORDER BY step, timestamp, value",
        )
        .map_err(db_error(call))?;
    let rows = statement
        .query_map(params![run_id, key], metric_row)
        .map_err(db_error(call))?;
    rows.collect::<Result<_, _>>().map_err(db_error(call))
}

pub(super) fn metric_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Metric> {
    Ok(Metric {
        key: row.get(0)?,
        value: row.get(1)?,
        timestamp: row.get(2)?,
        step: row.get(3)?,
    })
}

fn key_values(
    c: &Connection,
    sql: &str,
    run_id: &str,
    call: &str,
) -> TrackerResult<BTreeMap<String, String>> {
    let mut statement = c.prepare_cached(sql).map_err(db_error(call))?;
    let rows = statement
        .query_map([run_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(db_error(call))?;
    rows.collect::<Result<_, _>>().map_err(db_error(call))
}

/// One run with its params, tags and latest metrics.
pub fn get_run(c: &mut Connection, run_id: &str) -> TrackerResult<Run> {
    load_run(c, run_id, "get_run")
}

fn load_run(c: &Connection, run_id: &str, call: &str) -> TrackerResult<Run> {
    let info = get_info(c, run_id, call)?;
    let params = key_values(
        c,
        "SELECT key, value FROM params WHERE run_id = ?1",
        run_id,
        call,
    )?;
    let tags = key_values(
        c,
        "SELECT key, value FROM tags WHERE run_id = ?1",
        run_id,
        call,
    )?;
    let mut statement = c
        .prepare_cached("SELECT key, value, timestamp, step FROM latest_metrics WHERE run_id = ?1")
        .map_err(db_error(call))?;
    let metrics = statement
        .query_map([run_id], |row| {
            let metric = metric_row(row)?;
            Ok((metric.key.clone(), metric))
        })
        .map_err(db_error(call))?
        .collect::<Result<BTreeMap<String, Metric>, _>>()
        .map_err(db_error(call))?;
    Ok(Run {
        info,
        metrics,
        params,
        tags,
    })
}
