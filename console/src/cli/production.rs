//! The deployed model in the tracker's registry (`ames-price`, alias `production`): registered
//! after a deploy, moved back after a rollback. The deploy itself is what serves traffic, so a
//! tracker that is down or refuses only costs a warning.

use crate::backend::tracker::{self, TrackerUri};
use crate::config::Config;

fn open(config: &Config) -> Result<std::sync::Arc<dyn tracker::Tracker>, String> {
    let uri = TrackerUri::parse(config.tracker.as_deref()).map_err(|e| e.to_string())?;
    tracker::open(&uri).map_err(|e| e.to_string())
}

/// Registers the deployed model as the production version.
pub async fn register(config: &Config, model: &[u8], model_id: &str) {
    let run_id = match core_model::Artifact::from_bytes(model) {
        Ok(loaded) => loaded.artifact.run_id,
        Err(e) => {
            eprintln!("warning: the deployed model was not registered in the tracker: {e}");
            return;
        }
    };
    let Some(run_id) = run_id else {
        eprintln!(
            "note: model {model_id} has no tracker run (trained without tracking), so it is not registered as production"
        );
        return;
    };
    let result = match open(config) {
        Ok(tracker) => tracker::register_production(tracker.as_ref(), model_id, &run_id)
            .await
            .map_err(|e| e.to_string())
            .map(|v| (tracker.describe(), v)),
        Err(e) => Err(e),
    };
    match result {
        Ok((place, version)) => eprintln!(
            "  registered {} version {} as {} in {place}",
            version.name,
            version.version,
            tracker::PRODUCTION_ALIAS
        ),
        Err(e) => eprintln!(
            "warning: deployed, but the tracker did not register the model as production: {e}"
        ),
    }
}

/// Moves the registry's production alias back one version.
pub async fn roll_back(config: &Config) {
    let result = match open(config) {
        Ok(tracker) => tracker::rollback_production(tracker.as_ref())
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e),
    };
    match result {
        Ok(version) => eprintln!(
            "  tracker: {} is back at version {}",
            tracker::PRODUCTION_ALIAS,
            version.version
        ),
        Err(e) => {
            eprintln!("warning: rolled back, but the tracker's production alias did not move: {e}")
        }
    }
}
