//! The tracking database's tables, versioned with `PRAGMA user_version` so an older file is
//! migrated in place and a newer one is refused instead of misread.

use rusqlite::Connection;

use super::super::error::{ErrorKind, TrackerError, TrackerResult};

/// Migration `n` (1-based) turns schema `n - 1` into schema `n`. Only ever append.
const MIGRATIONS: &[&str] = &[
    // 1: experiments, runs with params, tags and metric history, and the model registry.
    "CREATE TABLE experiments (
         experiment_id INTEGER PRIMARY KEY AUTOINCREMENT,
         name TEXT NOT NULL UNIQUE,
         artifact_location TEXT NOT NULL,
         creation_time INTEGER NOT NULL
     );
     CREATE TABLE runs (
         run_id TEXT PRIMARY KEY,
         experiment_id INTEGER NOT NULL REFERENCES experiments(experiment_id),
         run_name TEXT NOT NULL,
         status TEXT NOT NULL,
         start_time INTEGER NOT NULL,
         end_time INTEGER,
         artifact_uri TEXT NOT NULL
     );
     CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
     CREATE TABLE params (
         run_id TEXT NOT NULL REFERENCES runs(run_id),
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (run_id, key)
     );
     CREATE TABLE tags (
         run_id TEXT NOT NULL REFERENCES runs(run_id),
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (run_id, key)
     );
     CREATE TABLE metrics (
         run_id TEXT NOT NULL REFERENCES runs(run_id),
         key TEXT NOT NULL,
         value REAL NOT NULL,
         timestamp INTEGER NOT NULL,
         step INTEGER NOT NULL,
         PRIMARY KEY (run_id, key, step, timestamp, value)
     );
     CREATE TABLE registered_models (
         name TEXT PRIMARY KEY,
         creation_time INTEGER NOT NULL
     );
     CREATE TABLE model_versions (
         name TEXT NOT NULL REFERENCES registered_models(name),
         version INTEGER NOT NULL,
         source TEXT NOT NULL,
         run_id TEXT,
         creation_time INTEGER NOT NULL,
         PRIMARY KEY (name, version)
     );
     CREATE TABLE model_version_tags (
         name TEXT NOT NULL,
         version INTEGER NOT NULL,
         key TEXT NOT NULL,
         value TEXT NOT NULL,
         PRIMARY KEY (name, version, key),
         FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
     );
     CREATE TABLE model_aliases (
         name TEXT NOT NULL,
         alias TEXT NOT NULL,
         version INTEGER NOT NULL,
         PRIMARY KEY (name, alias),
         FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
     );",
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database to the current schema, each step in its own transaction.
pub fn migrate(connection: &mut Connection, path: &str) -> TrackerResult<()> {
    let call = "sqlite migrate";
    let failed =
        |e: rusqlite::Error| TrackerError::new(call, ErrorKind::Server, format!("{path}: {e}"));
    let found: i64 = connection
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(failed)?;
    if found > current_version() {
        return Err(TrackerError::new(
            call,
            ErrorKind::InvalidInput,
            format!(
                "{path} has schema version {found}, newer than the {} this amesops knows; upgrade amesops or use another --tracker",
                current_version()
            ),
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let transaction = connection.transaction().map_err(failed)?;
        transaction.execute_batch(sql).map_err(failed)?;
        transaction
            .pragma_update(None, "user_version", index as i64 + 1)
            .map_err(failed)?;
        transaction.commit().map_err(failed)?;
    }
    Ok(())
}
