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
    // 2: a long history at console speed. Each run's latest value of each metric (MLflow's
    // own `latest_metrics`), stored by key so a filter or sort on one metric reads one
    // contiguous range, and covered by run for loading runs; params and tags indexed by key
    // for the same reason.
    "CREATE TABLE latest_metrics (
         key TEXT NOT NULL,
         run_id TEXT NOT NULL REFERENCES runs(run_id),
         value REAL NOT NULL,
         timestamp INTEGER NOT NULL,
         step INTEGER NOT NULL,
         PRIMARY KEY (key, run_id)
     ) WITHOUT ROWID;
     CREATE INDEX latest_metrics_by_run ON latest_metrics(run_id, key, value, timestamp, step);
     INSERT INTO latest_metrics (key, run_id, value, timestamp, step)
         SELECT key, run_id, value, timestamp, step FROM (
             SELECT key, run_id, value, timestamp, step, ROW_NUMBER() OVER (
                 PARTITION BY run_id, key ORDER BY step DESC, timestamp DESC, value DESC
             ) AS rank FROM metrics
         ) WHERE rank = 1;
     CREATE INDEX params_by_key ON params(key, run_id, value);
     CREATE INDEX tags_by_key ON tags(key, run_id, value);",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_database_gets_the_latest_value_of_each_metric() {
        let mut c = Connection::open_in_memory().expect("in-memory database");
        c.execute_batch(MIGRATIONS[0]).expect("schema 1");
        c.pragma_update(None, "user_version", 1).expect("version");
        c.execute_batch(
            "INSERT INTO experiments VALUES (1, 'e', '/a', 0);
             INSERT INTO runs VALUES ('r', 1, 'n', 'FINISHED', 0, 1, '/a/r');
             INSERT INTO metrics VALUES ('r', 'loss', 0.5, 10, 1), ('r', 'loss', 0.3, 5, 2),
                 ('r', 'loss', 0.9, 1, 0), ('r', 'acc', 0.7, 3, 0), ('r', 'acc', 0.8, 3, 0);",
        )
        .expect("a schema 1 history");
        migrate(&mut c, "memory").expect("migrated");
        let latest: Vec<(String, f64, i64)> = c
            .prepare("SELECT key, value, step FROM latest_metrics ORDER BY key")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .expect("latest metrics");
        assert_eq!(
            latest,
            [("acc".to_string(), 0.8, 0), ("loss".to_string(), 0.3, 2)],
            "highest step, then newest, then largest value"
        );
    }
}
