//! Which store a tracking URI means: http(s) is an MLflow server, anything else the embedded
//! SQLite store, so one setting (`MLFLOW_TRACKING_URI` or `--tracker`) chooses for every command.

use std::path::PathBuf;
use std::sync::Arc;

use super::Tracker;
use super::error::{ErrorKind, TrackerError, TrackerResult};
use super::mlflow::{Auth, MlflowTracker};
use super::outbox::Outbox;
use super::replaying::Replaying;
use super::sqlite::SqliteTracker;

/// The local store used when no tracking URI is set.
pub const DEFAULT_SQLITE_PATH: &str = ".amesops/tracking.db";

/// A parsed tracking URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackerUri {
    /// An MLflow tracking server's base URL.
    Mlflow(String),
    /// An SQLite database file (artifacts go to `artifacts/` beside it).
    Sqlite(PathBuf),
}

impl TrackerUri {
    /// Reads a URI: none, empty or `sqlite` means the default local store; `sqlite:///rel.db`
    /// and `sqlite:////abs.db` follow SQLAlchemy (as MLflow does); a path ending in `.db` is a
    /// database file; `http(s)://` is an MLflow server.
    pub fn parse(uri: Option<&str>) -> TrackerResult<TrackerUri> {
        let uri = uri.map(str::trim).unwrap_or_default();
        if uri.is_empty() || uri.eq_ignore_ascii_case("sqlite") {
            return Ok(TrackerUri::Sqlite(PathBuf::from(DEFAULT_SQLITE_PATH)));
        }
        let lower = uri.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(TrackerUri::Mlflow(uri.trim_end_matches('/').to_string()));
        }
        if let Some(rest) = uri.strip_prefix("sqlite:///") {
            if rest.is_empty() {
                return Err(unsupported(uri, "it names no database file"));
            }
            return Ok(TrackerUri::Sqlite(PathBuf::from(rest)));
        }
        if !uri.contains("://") && !uri.contains(':') && uri.ends_with(".db") {
            return Ok(TrackerUri::Sqlite(PathBuf::from(uri)));
        }
        Err(unsupported(
            uri,
            "use http(s)://HOST:PORT for an MLflow server, or sqlite, sqlite:///PATH.db or PATH.db for the local store",
        ))
    }
}

fn unsupported(uri: &str, why: &str) -> TrackerError {
    TrackerError::new(
        "open tracker",
        ErrorKind::InvalidInput,
        format!("unsupported tracking URI {uri:?}: {why}"),
    )
}

impl std::fmt::Display for TrackerUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrackerUri::Mlflow(url) => write!(f, "{url}"),
            TrackerUri::Sqlite(path) => write!(f, "sqlite:///{}", path.display()),
        }
    }
}

/// Opens the store a URI names. MLflow credentials come from `MLFLOW_TRACKING_TOKEN` or
/// `MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD`. Opening SQLite creates or migrates
/// the database file (a short blocking call). An MLflow tracker's first call first sends
/// the runs the outbox (`.amesops/outbox`) holds for it.
pub fn open(uri: &TrackerUri) -> TrackerResult<Arc<dyn Tracker>> {
    let store = open_store(uri)?;
    Ok(match uri {
        TrackerUri::Mlflow(url) => Arc::new(Replaying::new(store, url, Outbox::local())),
        TrackerUri::Sqlite(_) => store,
    })
}

/// Opens the store a URI names, without replaying the outbox (for `runs sync`, which replays
/// it itself and reports what it sent).
pub fn open_store(uri: &TrackerUri) -> TrackerResult<Arc<dyn Tracker>> {
    Ok(match uri {
        TrackerUri::Mlflow(url) => Arc::new(MlflowTracker::new(url, Auth::from_env())?),
        TrackerUri::Sqlite(path) => Arc::new(SqliteTracker::open(path)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_the_store_from_the_uri() {
        let sqlite = |p: &str| Ok(TrackerUri::Sqlite(PathBuf::from(p)));
        assert_eq!(TrackerUri::parse(None), sqlite(DEFAULT_SQLITE_PATH));
        assert_eq!(
            TrackerUri::parse(Some("sqlite")),
            sqlite(DEFAULT_SQLITE_PATH)
        );
        assert_eq!(TrackerUri::parse(Some("sqlite:///t.db")), sqlite("t.db"));
        assert_eq!(
            TrackerUri::parse(Some("sqlite:////tmp/t.db")),
            sqlite("/tmp/t.db")
        );
        assert_eq!(
            TrackerUri::parse(Some("http://127.0.0.1:5000/")),
            Ok(TrackerUri::Mlflow("http://127.0.0.1:5000".into()))
        );
        assert!(TrackerUri::parse(Some("file:///tmp/mlruns")).is_err());
        assert!(TrackerUri::parse(Some("databricks")).is_err());
    }
}
