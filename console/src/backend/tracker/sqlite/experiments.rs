//! Experiments in SQLite: get-or-create by name, look up without creating, list.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::now_millis;
use super::super::types::Experiment;
use super::db_error;

fn experiment_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Experiment> {
    Ok(Experiment {
        experiment_id: row.get::<_, i64>(0)?.to_string(),
        name: row.get(1)?,
        artifact_location: row.get(2)?,
    })
}

/// The experiment with this name, if there is one.
pub fn find_experiment(c: &Connection, name: &str) -> TrackerResult<Option<Experiment>> {
    c.query_row(
        "SELECT experiment_id, name, artifact_location FROM experiments WHERE name = ?1",
        [name],
        experiment_row,
    )
    .optional()
    .map_err(db_error("find_experiment"))
}

/// Every experiment, oldest first.
pub fn experiments(c: &Connection) -> TrackerResult<Vec<Experiment>> {
    let call = "experiments";
    let mut statement = c
        .prepare(
            "SELECT experiment_id, name, artifact_location FROM experiments ORDER BY experiment_id",
        )
        .map_err(db_error(call))?;
    let rows = statement
        .query_map([], experiment_row)
        .map_err(db_error(call))?;
    rows.collect::<Result<_, _>>().map_err(db_error(call))
}

/// The experiment with this name, created when missing.
pub fn experiment(c: &mut Connection, root: &Path, name: &str) -> TrackerResult<Experiment> {
    let call = "experiment";
    if name.trim().is_empty() {
        return Err(TrackerError::new(
            format!("sqlite {call}"),
            ErrorKind::InvalidInput,
            "an experiment needs a non-empty name",
        ));
    }
    if let Some(found) = find_experiment(c, name)? {
        return Ok(found);
    }
    c.execute(
        "INSERT OR IGNORE INTO experiments (name, artifact_location, creation_time) VALUES (?1, ?2, ?3)",
        params![name, root.display().to_string(), now_millis()],
    )
    .map_err(db_error(call))?;
    find_experiment(c, name)?.ok_or_else(|| {
        TrackerError::new(
            format!("sqlite {call}"),
            ErrorKind::Server,
            "experiment vanished after creation",
        )
    })
}
