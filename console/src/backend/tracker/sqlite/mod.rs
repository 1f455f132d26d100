//! The embedded tracker: one SQLite file (default `.amesops/tracking.db`) and artifact files
//! beside it under `artifacts/<run id>/`, with MLflow's semantics so either store can be used.
//!
//! rusqlite is blocking, so every call runs on tokio's blocking pool; one connection behind a
//! mutex serialises them, and SQLite's busy timeout covers other processes (CLI and console).

mod experiments;
mod registry;
mod runs;
mod schema;
mod search;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;

use super::error::{ErrorKind, TrackerError, TrackerResult};
use super::folder as artifacts;
use super::types::{
    Batch, Experiment, FileInfo, Metric, ModelVersion, NewModelVersion, NewRun, Run, RunInfo,
    RunSearch, RunStatus,
};
use super::{Tracker, TrackerFuture};

/// What the blocking calls share.
struct Store {
    connection: Mutex<Connection>,
    /// Shown in messages.
    db_path: PathBuf,
    /// `artifacts/` beside the database.
    artifact_root: PathBuf,
}

/// The SQLite tracker.
#[derive(Clone)]
pub struct SqliteTracker {
    store: Arc<Store>,
}

/// Turns a rusqlite error into a tracker error naming the call.
pub(super) fn db_error(call: &str) -> impl Fn(rusqlite::Error) -> TrackerError + '_ {
    move |e| TrackerError::new(format!("sqlite {call}"), ErrorKind::Server, e.to_string())
}

impl SqliteTracker {
    /// Opens (creating and migrating when needed) the database at `path`.
    pub fn open(path: &Path) -> TrackerResult<SqliteTracker> {
        let call = "sqlite open";
        let shown = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                TrackerError::new(
                    call,
                    ErrorKind::Server,
                    format!("cannot create {}: {e}", parent.display()),
                )
            })?;
        }
        let failed = |e: rusqlite::Error| {
            TrackerError::new(call, ErrorKind::Server, format!("{shown}: {e}"))
        };
        let mut connection = Connection::open(path).map_err(failed)?;
        connection
            .busy_timeout(Duration::from_secs(10))
            .map_err(failed)?;
        connection
            .pragma_update(None, "foreign_keys", true)
            .map_err(failed)?;
        // WAL lets the console read while a `train` in another process writes.
        connection
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(failed)?;
        // With WAL, NORMAL still never corrupts the file; a power cut may lose the last
        // commits. It saves an fsync per call (a 10,000-run pull or benchmark: minutes).
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        schema::migrate(&mut connection, &shown)?;
        let artifact_root = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join("artifacts");
        Ok(SqliteTracker {
            store: Arc::new(Store {
                connection: Mutex::new(connection),
                db_path: path.to_path_buf(),
                artifact_root,
            }),
        })
    }

    /// The schema version of databases this build writes.
    pub fn schema_version() -> i64 {
        schema::current_version()
    }

    /// Runs `work` with the connection on the blocking pool.
    fn blocking<T, F>(&self, call: &'static str, work: F) -> TrackerFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Path) -> TrackerResult<T> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let mut connection = store
                    .connection
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                work(&mut connection, &store.artifact_root)
            })
            .await
            .map_err(|e| {
                TrackerError::new(format!("sqlite {call}"), ErrorKind::Server, e.to_string())
            })?
        })
    }
}

impl Tracker for SqliteTracker {
    fn describe(&self) -> String {
        format!("SQLite at {}", self.store.db_path.display())
    }

    fn experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Experiment> {
        let name = name.to_string();
        self.blocking("experiment", move |c, root| {
            experiments::experiment(c, root, &name)
        })
    }

    fn find_experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Option<Experiment>> {
        let name = name.to_string();
        self.blocking("find_experiment", move |c, _| {
            experiments::find_experiment(c, &name)
        })
    }

    fn experiments(&self) -> TrackerFuture<'_, Vec<Experiment>> {
        self.blocking("experiments", |c, _| experiments::experiments(c))
    }

    fn create_run<'a>(&'a self, run: &'a NewRun) -> TrackerFuture<'a, RunInfo> {
        let run = run.clone();
        self.blocking("create_run", move |c, root| runs::create_run(c, root, &run))
    }

    fn update_run<'a>(
        &'a self,
        run_id: &'a str,
        status: RunStatus,
        end_time: Option<i64>,
    ) -> TrackerFuture<'a, RunInfo> {
        let run_id = run_id.to_string();
        self.blocking("update_run", move |c, _| {
            runs::update_run(c, &run_id, status, end_time)
        })
    }

    fn log_batch<'a>(&'a self, run_id: &'a str, batch: &'a Batch) -> TrackerFuture<'a, ()> {
        let run_id = run_id.to_string();
        let batch = batch.clone();
        self.blocking("log_batch", move |c, _| runs::log_batch(c, &run_id, &batch))
    }

    fn metric_history<'a>(
        &'a self,
        run_id: &'a str,
        key: &'a str,
    ) -> TrackerFuture<'a, Vec<Metric>> {
        let (run_id, key) = (run_id.to_string(), key.to_string());
        self.blocking("metric_history", move |c, _| {
            runs::metric_history(c, &run_id, &key)
        })
    }

    fn metric_histories<'a>(&'a self, run_id: &'a str) -> TrackerFuture<'a, Vec<Metric>> {
        let run_id = run_id.to_string();
        self.blocking("metric_histories", move |c, _| {
            search::metric_histories(c, &run_id)
        })
    }

    fn get_run<'a>(&'a self, run_id: &'a str) -> TrackerFuture<'a, Run> {
        let run_id = run_id.to_string();
        self.blocking("get_run", move |c, _| runs::get_run(c, &run_id))
    }

    fn search_runs<'a>(&'a self, search: &'a RunSearch) -> TrackerFuture<'a, Vec<Run>> {
        let search = search.clone();
        self.blocking("search_runs", move |c, _| search::search_runs(c, &search))
    }

    fn upload_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
        bytes: Vec<u8>,
    ) -> TrackerFuture<'a, ()> {
        let (run_id, path) = (run_id.to_string(), path.to_string());
        self.blocking("upload_artifact", move |c, root| {
            runs::get_info(c, &run_id, "upload_artifact")?;
            artifacts::upload(&root.join(&run_id), &path, &bytes)
        })
    }

    fn download_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
    ) -> TrackerFuture<'a, Vec<u8>> {
        let (run_id, path) = (run_id.to_string(), path.to_string());
        self.blocking("download_artifact", move |c, root| {
            runs::get_info(c, &run_id, "download_artifact")?;
            artifacts::download(&root.join(&run_id), &path)
        })
    }

    fn list_artifacts<'a>(
        &'a self,
        run_id: &'a str,
        path: Option<&'a str>,
    ) -> TrackerFuture<'a, Vec<FileInfo>> {
        let (run_id, path) = (run_id.to_string(), path.map(str::to_string));
        self.blocking("list_artifacts", move |c, root| {
            runs::get_info(c, &run_id, "list_artifacts")?;
            artifacts::list(&root.join(&run_id), path.as_deref())
        })
    }

    fn create_registered_model<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, ()> {
        let name = name.to_string();
        self.blocking("create_registered_model", move |c, _| {
            registry::create_registered_model(c, &name)
        })
    }

    fn create_model_version<'a>(
        &'a self,
        version: &'a NewModelVersion,
    ) -> TrackerFuture<'a, ModelVersion> {
        let version = version.clone();
        self.blocking("create_model_version", move |c, _| {
            registry::create_model_version(c, &version)
        })
    }

    fn model_versions<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Vec<ModelVersion>> {
        let name = name.to_string();
        self.blocking("model_versions", move |c, _| {
            registry::model_versions(c, &name)
        })
    }

    fn get_model_version<'a>(
        &'a self,
        name: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ModelVersion> {
        let (name, version) = (name.to_string(), version.to_string());
        self.blocking("get_model_version", move |c, _| {
            registry::get_model_version(c, &name, &version)
        })
    }

    fn set_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ()> {
        let (name, alias, version) = (name.to_string(), alias.to_string(), version.to_string());
        self.blocking("set_alias", move |c, _| {
            registry::set_alias(c, &name, &alias, &version)
        })
    }

    fn get_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
    ) -> TrackerFuture<'a, Option<ModelVersion>> {
        let (name, alias) = (name.to_string(), alias.to_string());
        self.blocking("get_alias", move |c, _| {
            registry::get_alias(c, &name, &alias)
        })
    }

    fn delete_alias<'a>(&'a self, name: &'a str, alias: &'a str) -> TrackerFuture<'a, ()> {
        let (name, alias) = (name.to_string(), alias.to_string());
        self.blocking("delete_alias", move |c, _| {
            registry::delete_alias(c, &name, &alias)
        })
    }
}
