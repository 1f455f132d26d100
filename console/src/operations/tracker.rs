//! The last step of a promote or rollback: the tracker's registry (`ames-price`, alias
//! `production`) follows what serves traffic. The deploy is what serves, so a tracker that is
//! down or refuses costs a note, never an undone deploy.

use crate::backend::tracker::{self, TrackerUri};

fn open(uri: Option<&str>) -> tracker::TrackerResult<std::sync::Arc<dyn tracker::Tracker>> {
    tracker::open(&TrackerUri::parse(uri)?)
}

/// Registers the deployed model as the production version; returns the line to show.
pub async fn register(uri: Option<&str>, model: &[u8]) -> String {
    let loaded = match core_model::Artifact::from_bytes(model) {
        Ok(loaded) => loaded,
        Err(e) => return format!("tracker: not registered ({e})"),
    };
    let Some(run_id) = loaded.artifact.run_id.clone() else {
        return format!(
            "tracker: model {} has no tracker run (trained without tracking), so it is not registered as production",
            loaded.id
        );
    };
    let result = match open(uri) {
        Ok(tracker) => tracker::register_production(tracker.as_ref(), &loaded.id, &run_id)
            .await
            .map(|version| (tracker.describe(), version)),
        Err(e) => Err(e),
    };
    match result {
        Ok((place, version)) => format!(
            "registered {} version {} as {} in {place}",
            version.name,
            version.version,
            tracker::PRODUCTION_ALIAS
        ),
        Err(e) => format!(
            "warning: deployed, but the tracker did not register the model as production: {e}"
        ),
    }
}

/// Moves the registry's production alias back one version; returns the line to show.
pub async fn roll_back(uri: Option<&str>) -> String {
    let result = match open(uri) {
        Ok(tracker) => tracker::rollback_production(tracker.as_ref()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(version) => format!(
            "tracker: {} is back at version {}",
            tracker::PRODUCTION_ALIAS,
            version.version
        ),
        Err(e) => {
            format!("warning: rolled back, but the tracker's production alias did not move: {e}")
        }
    }
}
