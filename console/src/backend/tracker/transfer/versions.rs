//! The registry's half of a copy: versions of `ames-price` whose runs were copied, then the
//! `production` alias on the same version.
//!
//! Version numbers are the destination's own (MLflow numbers them), so each copied version
//! carries its source's identity as a tag, and `amesops.previous_production` (which rollback
//! follows) is translated to the destination's numbers.

use std::collections::HashMap;

use serde::Serialize;

use super::super::Tracker;
use super::super::error::{ErrorKind, TrackerResult};
use super::super::registry::{PREVIOUS_PRODUCTION_TAG, PRODUCTION_ALIAS, REGISTERED_MODEL};
use super::super::types::{KeyValue, ModelVersion, NewModelVersion};
use super::Progress;

/// Version tag: which version this one is a copy of (`<run's first id>#<source version>`).
pub const VERSION_ORIGIN_TAG: &str = "amesops.origin_version";

/// What happened to one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionOutcome {
    /// Created in the destination.
    Copied,
    /// It was there already.
    UpToDate,
    /// Its run is not among the copied runs (another experiment, or a failed copy).
    Skipped,
    /// It could not be created.
    Failed,
}

/// One version's copy.
#[derive(Debug, Clone, Serialize)]
pub struct VersionReport {
    /// The registered model.
    pub name: String,
    /// Its number in the source.
    pub source_version: String,
    /// Its number in the destination.
    pub destination_version: Option<String>,
    /// What happened.
    pub outcome: VersionOutcome,
    /// Why it was skipped or failed.
    pub note: Option<String>,
}

/// Where `production` points on both sides.
#[derive(Debug, Clone, Serialize)]
pub struct AliasReport {
    /// The alias.
    pub alias: String,
    /// The version it points at in the source.
    pub source_version: String,
    /// The same version in the destination (none when it was not copied).
    pub destination_version: Option<String>,
    /// Whether the destination's alias was moved (or, in a dry run, would be).
    pub moved: bool,
}

/// A version's identity across trackers.
fn version_key(version: &ModelVersion) -> String {
    version
        .tags
        .get(VERSION_ORIGIN_TAG)
        .cloned()
        .unwrap_or_else(|| {
            format!(
                "{}#{}",
                version.run_id.as_deref().unwrap_or_default(),
                version.version
            )
        })
}

/// `runs:/<source run>/model` → `runs:/<copy>/model`; other sources are kept as they are.
fn translated_source(source: &str, copy_id: &str) -> String {
    match source.strip_prefix("runs:/") {
        Some(rest) => {
            let path = rest
                .trim_start_matches('/')
                .split_once('/')
                .map(|(_, p)| p)
                .unwrap_or_default();
            format!("runs:/{copy_id}/{path}")
        }
        None => source.to_string(),
    }
}

/// Copies the versions of `ames-price` whose runs are in `copies` (source run id → copy id),
/// then points the destination's `production` where the source's points.
pub async fn transfer_versions(
    source: &dyn Tracker,
    destination: &dyn Tracker,
    copies: &HashMap<String, String>,
    dry_run: bool,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> TrackerResult<(Vec<VersionReport>, Option<AliasReport>)> {
    let name = REGISTERED_MODEL;
    let versions = source.model_versions(name).await?;
    if versions.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut numbers: HashMap<String, String> = HashMap::new();
    let mut present: HashMap<String, String> = HashMap::new();
    for version in destination.model_versions(name).await? {
        present.insert(version_key(&version), version.version);
    }
    let mut reports = Vec::new();
    let mut created_model = false;
    for version in &versions {
        let key = version_key(version);
        let mut report = VersionReport {
            name: name.to_string(),
            source_version: version.version.clone(),
            destination_version: None,
            outcome: VersionOutcome::UpToDate,
            note: None,
        };
        if let Some(number) = present.get(&key) {
            report.destination_version = Some(number.clone());
            numbers.insert(version.version.clone(), number.clone());
        } else if let Some(copy_id) = version.run_id.as_ref().and_then(|r| copies.get(r)) {
            if dry_run {
                report.outcome = VersionOutcome::Copied;
            } else {
                let mut tags: Vec<KeyValue> = version
                    .tags
                    .iter()
                    .filter(|(k, _)| *k != PREVIOUS_PRODUCTION_TAG && *k != VERSION_ORIGIN_TAG)
                    .map(|(k, v)| KeyValue::new(k, v))
                    .collect();
                if let Some(previous) = version
                    .tags
                    .get(PREVIOUS_PRODUCTION_TAG)
                    .and_then(|p| numbers.get(p))
                {
                    tags.push(KeyValue::new(PREVIOUS_PRODUCTION_TAG, previous));
                }
                tags.push(KeyValue::new(VERSION_ORIGIN_TAG, &key));
                let created = async {
                    if !created_model {
                        destination.create_registered_model(name).await?;
                    }
                    destination
                        .create_model_version(&NewModelVersion {
                            name: name.to_string(),
                            source: translated_source(&version.source, copy_id),
                            run_id: Some(copy_id.clone()),
                            tags,
                        })
                        .await
                }
                .await;
                match created {
                    Ok(copy) => {
                        created_model = true;
                        report.outcome = VersionOutcome::Copied;
                        numbers.insert(version.version.clone(), copy.version.clone());
                        report.destination_version = Some(copy.version);
                    }
                    Err(error) => {
                        report.outcome = VersionOutcome::Failed;
                        report.note = Some(error.to_string());
                    }
                }
            }
        } else {
            report.outcome = VersionOutcome::Skipped;
            report.note = Some(format!(
                "its run {} was not copied (another experiment, or its copy failed)",
                version.run_id.as_deref().unwrap_or("(none)")
            ));
        }
        progress(Progress::Version(&report));
        reports.push(report);
    }
    let alias = match source.get_alias(name, PRODUCTION_ALIAS).await? {
        Some(current) => {
            let target = numbers.get(&current.version).cloned();
            let mut moved = false;
            if let Some(target) = &target {
                let theirs = match destination.get_alias(name, PRODUCTION_ALIAS).await {
                    Ok(v) => v.map(|v| v.version),
                    Err(e) if e.kind == ErrorKind::NotFound => None,
                    Err(e) => return Err(e),
                };
                if theirs.as_deref() != Some(target.as_str()) {
                    if !dry_run {
                        destination
                            .set_alias(name, PRODUCTION_ALIAS, target)
                            .await?;
                    }
                    moved = true;
                }
            }
            let report = AliasReport {
                alias: PRODUCTION_ALIAS.to_string(),
                source_version: current.version,
                destination_version: target,
                moved,
            };
            progress(Progress::Alias(&report));
            Some(report)
        }
        None => None,
    };
    Ok((reports, alias))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runs_source_points_at_the_copy() {
        assert_eq!(
            translated_source("runs:/abc/model", "def"),
            "runs:/def/model"
        );
        assert_eq!(translated_source("s3://b/m", "def"), "s3://b/m");
    }
}
