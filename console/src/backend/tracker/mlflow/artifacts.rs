//! Run artifacts through the MLflow server's artifact proxy
//! (`/api/2.0/mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>`), so the client
//! needs no S3 credentials of its own, and listings through `artifacts/list`.

use super::super::Tracker;
use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::types::FileInfo;
use super::MlflowTracker;
use super::wire::ListPage;

impl MlflowTracker {
    /// The proxy URL of an artifact path of a run, from the run's `mlflow-artifacts:` URI.
    async fn artifact_url(
        &self,
        call: &str,
        run_id: &str,
        path: &str,
    ) -> TrackerResult<reqwest::Url> {
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
        let Some(rest) = uri.strip_prefix("mlflow-artifacts:") else {
            return Err(TrackerError::new(
                format!("MLflow {call}"),
                ErrorKind::InvalidInput,
                format!(
                    "run {run_id} stores artifacts at {uri}, which the server does not proxy; start `mlflow server` with --serve-artifacts (the default) and --artifacts-destination"
                ),
            ));
        };
        // `mlflow-artifacts:/1/<run>/artifacts` or `mlflow-artifacts://host:port/1/<run>/artifacts`
        let root = match rest.strip_prefix("//") {
            Some(with_host) => with_host
                .split_once('/')
                .map(|(_, p)| p)
                .unwrap_or_default(),
            None => rest,
        };
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
        let url = self.artifact_url(call, run_id, path).await?;
        self.http.put_bytes(call, url, bytes).await
    }

    /// Reads one file; a missing one is `NotFound`.
    pub(super) async fn download(&self, run_id: &str, path: &str) -> TrackerResult<Vec<u8>> {
        let call = "mlflow-artifacts download";
        let url = self.artifact_url(call, run_id, path).await?;
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
