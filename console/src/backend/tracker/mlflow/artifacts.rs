//! Run artifacts through the MLflow server's artifact proxy
//! (`/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>`), so the client
//! needs no S3 credentials of its own, and listings through `artifacts/list`. A server started
//! without the proxy (`--no-serve-artifacts`, or `--default-artifact-root /a/path`) gives runs
//! a local artifact root: those files are read and written in place, as MLflow's own client
//! does on the same machine.

use std::path::PathBuf;

use super::super::Tracker;
use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::folder;
use super::super::types::FileInfo;
use super::MlflowTracker;
use super::wire::ListPage;

/// Where a run's artifacts live.
enum Location {
    /// Behind the server's proxy: the root path under `mlflow-artifacts/artifacts/`.
    Proxy(String),
    /// A folder on this machine.
    Local(PathBuf),
}

impl MlflowTracker {
    /// The run's artifact root, from its (cached) `artifact_uri`.
    async fn location(&self, call: &str, run_id: &str) -> TrackerResult<Location> {
        let cached = self
            .artifact_uris
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(run_id)
            .cloned();
        let uri = match cached {
            Some(uri) => uri,
            None => {
                let info = self.get_run(run_id).await?.info;
                self.artifact_uris
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(run_id.to_string(), info.artifact_uri.clone());
                info.artifact_uri
            }
        };
        if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
            // `mlflow-artifacts:/1/<run>/artifacts` or `mlflow-artifacts://host:port/1/<run>/artifacts`
            let root = match rest.strip_prefix("//") {
                Some(with_host) => with_host
                    .split_once('/')
                    .map(|(_, p)| p)
                    .unwrap_or_default(),
                None => rest,
            };
            return Ok(Location::Proxy(root.to_string()));
        }
        if let Some(path) = uri.strip_prefix("file://") {
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if uri.starts_with('/') {
            return Ok(Location::Local(PathBuf::from(uri)));
        }
        Err(TrackerError::new(
            format!("MLflow {call}"),
            ErrorKind::InvalidInput,
            format!(
                "run {run_id} stores artifacts at {uri}, which the server does not proxy; start `mlflow server` with --serve-artifacts (the default) and --artifacts-destination"
            ),
        ))
    }

    /// The proxy URL of an artifact path under a proxied root.
    fn proxy_url(&self, call: &str, root: &str, path: &str) -> TrackerResult<reqwest::Url> {
        let segments: Vec<&str> = root
            .split('/')
            .chain(path.split('/'))
            .filter(|s| !s.is_empty())
            .collect();
        if segments.iter().any(|s| *s == "." || *s == "..") {
            return Err(TrackerError::new(
                format!("MLflow {call}"),
                ErrorKind::InvalidInput,
                format!("artifact path {path:?} must not contain . or .."),
            ));
        }
        let mut url = self.http.url("mlflow-artifacts", &["artifacts"])?;
        url.path_segments_mut()
            .map_err(|()| {
                TrackerError::new(
                    format!("MLflow {call}"),
                    ErrorKind::InvalidInput,
                    "bad base URL",
                )
            })?
            .extend(segments);
        Ok(url)
    }

    /// Stores one file.
    pub(super) async fn upload(
        &self,
        run_id: &str,
        path: &str,
        bytes: Vec<u8>,
    ) -> TrackerResult<()> {
        let call = "mlflow-artifacts upload";
        match self.location(call, run_id).await? {
            Location::Proxy(root) => {
                let url = self.proxy_url(call, &root, path)?;
                self.http.put_bytes(call, url, bytes).await
            }
            Location::Local(folder) => folder::upload(&folder, path, &bytes),
        }
    }

    /// Reads one file; a missing one is `NotFound`.
    pub(super) async fn download(&self, run_id: &str, path: &str) -> TrackerResult<Vec<u8>> {
        let call = "mlflow-artifacts download";
        let url = match self.location(call, run_id).await? {
            Location::Proxy(root) => self.proxy_url(call, &root, path)?,
            Location::Local(folder) => return folder::download(&folder, path),
        };
        match self.http.get_bytes(call, url).await {
            Ok(bytes) => Ok(bytes),
            // The proxy answers 500 for a missing file: tell "not there" apart by listing.
            Err(error) if error.kind == ErrorKind::Server => {
                let parent = path.rsplit_once('/').map(|(dir, _)| dir);
                let listed = self.list(run_id, parent).await?;
                if listed.iter().any(|f| f.path == path.trim_matches('/')) {
                    Err(error)
                } else {
                    Err(TrackerError::new(
                        error.call,
                        ErrorKind::NotFound,
                        format!("run {run_id} has no artifact {path:?} ({})", error.message),
                    ))
                }
            }
            Err(error) => Err(error),
        }
    }

    /// The entries directly under `path`, sorted by path.
    pub(super) async fn list(
        &self,
        run_id: &str,
        path: Option<&str>,
    ) -> TrackerResult<Vec<FileInfo>> {
        if let Location::Local(folder) = self.location("artifacts/list", run_id).await? {
            return folder::list(&folder, path);
        }
        let mut files = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("run_id", run_id)];
            if let Some(p) = path.filter(|p| !p.is_empty()) {
                query.push(("path", p));
            }
            if let Some(t) = token.as_deref() {
                query.push(("page_token", t));
            }
            let page: ListPage = self.http.get("artifacts/list", &query).await?;
            files.extend(page.files.into_iter().map(FileInfo::from));
            token = page.next_page_token.filter(|t| !t.is_empty());
            if token.is_none() {
                break;
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }
}
