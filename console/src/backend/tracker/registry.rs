//! The production model in the registry: registered model `ames-price`, alias `production`.
//!
//! Each new version remembers which version was production before it (a version tag), so a
//! rollback moves the alias back one step, and repeated rollbacks walk further back.

use super::Tracker;
use super::error::{ErrorKind, TrackerError, TrackerResult};
use super::types::{KeyValue, ModelVersion, NewModelVersion};

/// The registered model every amesops model version belongs to.
pub const REGISTERED_MODEL: &str = "ames-price";
/// The alias that marks the version serving in production.
pub const PRODUCTION_ALIAS: &str = "production";
/// The run artifact folder holding `model.json`.
pub const MODEL_ARTIFACT_DIR: &str = "model";
/// Version tag: the model id (first 12 hex digits of the artifact's sha256).
pub const MODEL_ID_TAG: &str = "amesops.model_id";
/// Version tag: the version that was production when this one was promoted.
pub const PREVIOUS_PRODUCTION_TAG: &str = "amesops.previous_production";

/// Registers the run's model as a new version of `ames-price` and moves `production` to it.
pub async fn register_production(
    tracker: &dyn Tracker,
    model_id: &str,
    run_id: &str,
) -> TrackerResult<ModelVersion> {
    // The model names the run it was trained in; where that run is a copy (pushed, or sent
    // from the outbox) it has another id, found through its origin tag.
    let run_id = match super::origin::find_run(tracker, run_id, None).await? {
        Some(run) => run.info.run_id,
        None => run_id.to_string(),
    };
    let run_id = run_id.as_str();
    tracker.create_registered_model(REGISTERED_MODEL).await?;
    let previous = tracker
        .get_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
        .await?;
    let mut tags = vec![KeyValue::new(MODEL_ID_TAG, model_id)];
    if let Some(previous) = &previous {
        tags.push(KeyValue::new(PREVIOUS_PRODUCTION_TAG, &previous.version));
    }
    let created = tracker
        .create_model_version(&NewModelVersion {
            name: REGISTERED_MODEL.to_string(),
            source: format!("runs:/{run_id}/{MODEL_ARTIFACT_DIR}"),
            run_id: Some(run_id.to_string()),
            tags,
        })
        .await?;
    tracker
        .set_alias(REGISTERED_MODEL, PRODUCTION_ALIAS, &created.version)
        .await?;
    tracker
        .get_model_version(REGISTERED_MODEL, &created.version)
        .await
}

/// Moves `production` back to the version that was production before the current one.
pub async fn rollback_production(tracker: &dyn Tracker) -> TrackerResult<ModelVersion> {
    let call = "rollback production";
    let current = tracker
        .get_alias(REGISTERED_MODEL, PRODUCTION_ALIAS)
        .await?
        .ok_or_else(|| {
            TrackerError::new(
                call,
                ErrorKind::NotFound,
                format!(
                    "alias {PRODUCTION_ALIAS:?} of {REGISTERED_MODEL:?} is not set: nothing to roll back"
                ),
            )
        })?;
    let previous = current
        .tags
        .get(PREVIOUS_PRODUCTION_TAG)
        .ok_or_else(|| {
            TrackerError::new(
                call,
                ErrorKind::InvalidInput,
                format!(
                    "version {} of {REGISTERED_MODEL:?} was the first production version: there is no earlier one to roll back to",
                    current.version
                ),
            )
        })?
        .clone();
    tracker
        .set_alias(REGISTERED_MODEL, PRODUCTION_ALIAS, &previous)
        .await?;
    tracker.get_model_version(REGISTERED_MODEL, &previous).await
}
