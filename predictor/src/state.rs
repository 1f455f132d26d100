//! Shared state of the router: the served model (swappable), the record store, the clock.

use std::sync::{Arc, RwLock};
use std::time::Instant;

use core_model::LoadedArtifact;

use crate::store::PredictionStore;

/// The model being served and its identity.
#[derive(Debug)]
pub struct ServedModel {
    /// First 12 hex digits of the artifact's sha256.
    pub id: String,
    /// Full sha256 of the artifact bytes.
    pub sha256: String,
    /// The artifact, ready to predict.
    pub artifact: core_model::Artifact,
}

impl From<LoadedArtifact> for ServedModel {
    fn from(loaded: LoadedArtifact) -> Self {
        ServedModel {
            id: loaded.id,
            sha256: loaded.sha256,
            artifact: loaded.artifact,
        }
    }
}

/// Cheap-to-clone handle on everything a request needs.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    model: RwLock<Arc<ServedModel>>,
    store: Box<dyn PredictionStore>,
    started: Instant,
}

impl AppState {
    /// State serving `model`, storing records in `store`.
    pub fn new(model: ServedModel, store: Box<dyn PredictionStore>) -> Self {
        Self {
            inner: Arc::new(Inner {
                model: RwLock::new(Arc::new(model)),
                store,
                started: Instant::now(),
            }),
        }
    }

    /// The model to use for this request.
    pub fn model(&self) -> Arc<ServedModel> {
        match self.inner.model.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Serves another model from the next request on (local deploy and rollback).
    pub fn swap_model(&self, model: ServedModel) {
        let model = Arc::new(model);
        match self.inner.model.write() {
            Ok(mut guard) => *guard = model,
            Err(poisoned) => *poisoned.into_inner() = model,
        }
    }

    /// The record store.
    pub fn store(&self) -> &dyn PredictionStore {
        self.inner.store.as_ref()
    }

    /// Seconds since the state was created.
    pub fn uptime_seconds(&self) -> f64 {
        self.inner.started.elapsed().as_secs_f64()
    }
}
