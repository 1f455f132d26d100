//! A tracker that first sends what the outbox holds for it: the first call of a process to an
//! MLflow server replays the runs queued while it was out of reach, so they arrive before
//! anything newer (and the console, `runs`, `evaluate` or the next `train` all do it).
//!
//! The replay is quiet (its outcome stays in the outbox entries, and `amesops runs sync`
//! reports it), is tried once per process, and never waits for a replay another process runs.

use std::sync::Arc;

use tokio::sync::OnceCell;

use super::outbox::Outbox;
use super::types::{
    Batch, Experiment, FileInfo, Metric, ModelVersion, NewModelVersion, NewRun, Run, RunInfo,
    RunSearch, RunStatus,
};
use super::{Tracker, TrackerFuture};

/// Wraps a tracker so its first call replays the outbox.
pub struct Replaying {
    inner: Arc<dyn Tracker>,
    uri: String,
    outbox: Outbox,
    replayed: OnceCell<()>,
}

impl Replaying {
    /// `inner`, reached at `uri`, replaying `outbox` before its first call.
    pub fn new(inner: Arc<dyn Tracker>, uri: &str, outbox: Outbox) -> Replaying {
        Replaying {
            inner,
            uri: uri.to_string(),
            outbox,
            replayed: OnceCell::new(),
        }
    }

    async fn ready(&self) {
        self.replayed
            .get_or_init(|| async {
                let _ = self
                    .outbox
                    .replay(self.inner.as_ref(), &self.uri, false, false, &mut |_| {})
                    .await;
            })
            .await;
    }
}

impl Tracker for Replaying {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Experiment> {
        Box::pin(async move {
            self.ready().await;
            self.inner.experiment(name).await
        })
    }

    fn find_experiment<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Option<Experiment>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.find_experiment(name).await
        })
    }

    fn experiments(&self) -> TrackerFuture<'_, Vec<Experiment>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.experiments().await
        })
    }

    fn create_run<'a>(&'a self, run: &'a NewRun) -> TrackerFuture<'a, RunInfo> {
        Box::pin(async move {
            self.ready().await;
            self.inner.create_run(run).await
        })
    }

    fn update_run<'a>(
        &'a self,
        run_id: &'a str,
        status: RunStatus,
        end_time: Option<i64>,
    ) -> TrackerFuture<'a, RunInfo> {
        Box::pin(async move {
            self.ready().await;
            self.inner.update_run(run_id, status, end_time).await
        })
    }

    fn log_batch<'a>(&'a self, run_id: &'a str, batch: &'a Batch) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            self.ready().await;
            self.inner.log_batch(run_id, batch).await
        })
    }

    fn metric_history<'a>(
        &'a self,
        run_id: &'a str,
        key: &'a str,
    ) -> TrackerFuture<'a, Vec<Metric>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.metric_history(run_id, key).await
        })
    }

    fn metric_histories<'a>(&'a self, run_id: &'a str) -> TrackerFuture<'a, Vec<Metric>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.metric_histories(run_id).await
        })
    }

    fn get_run<'a>(&'a self, run_id: &'a str) -> TrackerFuture<'a, Run> {
        Box::pin(async move {
            self.ready().await;
            self.inner.get_run(run_id).await
        })
    }

    fn search_runs<'a>(&'a self, search: &'a RunSearch) -> TrackerFuture<'a, Vec<Run>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.search_runs(search).await
        })
    }

    fn upload_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
        bytes: Vec<u8>,
    ) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            self.ready().await;
            self.inner.upload_artifact(run_id, path, bytes).await
        })
    }

    fn download_artifact<'a>(
        &'a self,
        run_id: &'a str,
        path: &'a str,
    ) -> TrackerFuture<'a, Vec<u8>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.download_artifact(run_id, path).await
        })
    }

    fn list_artifacts<'a>(
        &'a self,
        run_id: &'a str,
        path: Option<&'a str>,
    ) -> TrackerFuture<'a, Vec<FileInfo>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.list_artifacts(run_id, path).await
        })
    }

    fn create_registered_model<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            self.ready().await;
            self.inner.create_registered_model(name).await
        })
    }

    fn create_model_version<'a>(
        &'a self,
        version: &'a NewModelVersion,
    ) -> TrackerFuture<'a, ModelVersion> {
        Box::pin(async move {
            self.ready().await;
            self.inner.create_model_version(version).await
        })
    }

    fn model_versions<'a>(&'a self, name: &'a str) -> TrackerFuture<'a, Vec<ModelVersion>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.model_versions(name).await
        })
    }

    fn get_model_version<'a>(
        &'a self,
        name: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ModelVersion> {
        Box::pin(async move {
            self.ready().await;
            self.inner.get_model_version(name, version).await
        })
    }

    fn set_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
        version: &'a str,
    ) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            self.ready().await;
            self.inner.set_alias(name, alias, version).await
        })
    }

    fn get_alias<'a>(
        &'a self,
        name: &'a str,
        alias: &'a str,
    ) -> TrackerFuture<'a, Option<ModelVersion>> {
        Box::pin(async move {
            self.ready().await;
            self.inner.get_alias(name, alias).await
        })
    }

    fn delete_alias<'a>(&'a self, name: &'a str, alias: &'a str) -> TrackerFuture<'a, ()> {
        Box::pin(async move {
            self.ready().await;
            self.inner.delete_alias(name, alias).await
        })
    }
}
