//! The local deployer: versions under `.amesops/deployments/`, served by the in-process router.
//!
//! Deploy copies the artifact to a new version folder, smoke-tests it through the same router
//! code the server runs, then swaps the served model; rollback swaps back. The record
//! (`.amesops/deployments/deploy.json`) lists the versions and which one is live, so a restart
//! serves the same model, and a server started with a state follows it when another process
//! (the pipeline's deploy stage) moves the live version.

mod record;
mod smoke;

use std::path::{Path, PathBuf};

use core_model::Artifact;
use futures_util::future::BoxFuture;
use predictor::{AppState, ServedModel};

pub use record::{LocalRecord, LocalVersion};
pub use smoke::smoke_test;

use super::{
    CandidateModel, DeployError, DeployInfo, DeployReport, DeployRequest, Deployer, Production,
    RollbackPlan, Served, Source, Version,
};

/// The record of the last deploy at the project root (the pipeline's `deploy` output).
pub const RECORD_FILE: &str = "deploy.json";

/// Deploys to the in-process server.
pub struct LocalDeployer {
    root: PathBuf,
    state: Option<AppState>,
    url: String,
    project_record: Option<PathBuf>,
}

impl LocalDeployer {
    /// Versions live under `root` (`.amesops/deployments`); `state` is the running server, if any.
    pub fn new(root: impl Into<PathBuf>, state: Option<AppState>, url: String) -> Self {
        Self {
            root: root.into(),
            state,
            url,
            project_record: None,
        }
    }

    /// Also writes the summary `deploy.json` at `path` (the project root) after each change.
    pub fn with_project_record(mut self, path: PathBuf) -> Self {
        self.project_record = Some(path);
        self
    }

    fn record_path(&self) -> PathBuf {
        self.root.join("deploy.json")
    }

    /// Reads the record (empty when absent).
    pub fn record(&self) -> Result<LocalRecord, DeployError> {
        Ok(LocalRecord::read(&self.record_path())?.unwrap_or_default())
    }

    fn save(&self, record: &LocalRecord) -> Result<(), DeployError> {
        record.save(&self.record_path())?;
        if let (Some(path), Some(live)) = (&self.project_record, record.live_version()) {
            let summary = serde_json::json!({
                "target": "local",
                "function": "local predictor",
                "version": live.version.to_string(),
                "alias": "live",
                "url": self.url,
                "model_id": live.model_id,
                "model_sha256": live.sha256,
                "time": now(),
            });
            let mut bytes =
                serde_json::to_vec_pretty(&summary).map_err(|error| DeployError::Encode {
                    what: "the deploy record",
                    error,
                })?;
            bytes.push(b'\n');
            core_model::files::write_bytes(path, &bytes)
                .map_err(|e| DeployError::file("write", path, e))?;
        }
        Ok(())
    }

    /// Path of a version's artifact.
    pub fn model_path(&self, version: u32) -> PathBuf {
        self.root.join(format!("v{version}")).join("model.json")
    }

    /// The live version's artifact, if any (what the server should load at start).
    pub fn live_model(&self) -> Option<PathBuf> {
        self.record().ok()?.live.map(|v| self.model_path(v))
    }

    fn serve(&self, version: u32) -> Result<String, DeployError> {
        let loaded = Artifact::load(&self.model_path(version)).map_err(DeployError::Model)?;
        let id = loaded.id.clone();
        if let Some(state) = &self.state {
            state.swap_model(ServedModel::from(loaded));
        }
        Ok(id)
    }

    /// Makes the in-process server serve what the record says is live (another process, such
    /// as the pipeline's deploy stage, may have moved it). Returns the model id now served.
    pub fn follow_record(&self) -> Result<Option<String>, DeployError> {
        let Some(state) = &self.state else {
            return Ok(None);
        };
        let record = self.record()?;
        let Some(live) = record.live_version() else {
            return Ok(Some(state.model().id.clone()));
        };
        if state.model().id != live.model_id {
            self.serve(live.version)?;
        }
        Ok(Some(state.model().id.clone()))
    }

    /// The verified live version, as [`Deployer::production`] reports it.
    fn read_production(&self) -> Result<Production, DeployError> {
        let path = self.record_path();
        let Some(record) = LocalRecord::read(&path)? else {
            // No record is proof of "nothing deployed" only when there are no versions either.
            let folders = record::version_folders(&self.root);
            // Nor when the project's deploy.json says a version went live (`destroy` removes
            // both): the versions were lost, not never made.
            let recorded = self
                .project_record
                .as_ref()
                .and_then(|p| std::fs::read(p).ok())
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .filter(|r| r["target"] == "local" && r["model_id"].is_string());
            if let Some(recorded) = recorded {
                return Err(DeployError::Unverifiable {
                    reason: format!(
                        "{} is missing, but the project's deploy.json records model {} as live: what is live cannot be told",
                        path.display(),
                        recorded["model_id"].as_str().unwrap_or("?")
                    ),
                });
            }
            if folders.is_empty() {
                return Ok(Production::Nothing);
            }
            return Err(DeployError::Unverifiable {
                reason: format!(
                    "{} is missing but {} version folder(s) exist under {}: what is live cannot be told",
                    path.display(),
                    folders.len(),
                    self.root.display()
                ),
            });
        };
        let Some(live) = record.live else {
            return Ok(Production::Nothing);
        };
        let entry = record
            .live_version()
            .ok_or_else(|| DeployError::Unverifiable {
                reason: format!(
                    "{} names version {live} as live but does not list it",
                    path.display()
                ),
            })?;
        let artifact_path = self.model_path(live);
        let artifact = std::fs::read(&artifact_path).map_err(|io| DeployError::File {
            action: "read the live version's artifact",
            path: artifact_path.clone(),
            io,
            fix: Some("was it removed?"),
        })?;
        let sha256 = core_model::digest::sha256_hex(&artifact);
        let recorded = entry.sha256.as_deref().unwrap_or(&entry.model_id);
        if !sha256.starts_with(recorded) || recorded.is_empty() {
            return Err(DeployError::Altered {
                what: format!(
                    "the live version {live}'s artifact {}",
                    artifact_path.display()
                ),
                found: sha256,
                recorded: format!("{} records model {recorded}", path.display()),
            });
        }
        Ok(Production::Serving(Served {
            version: live.to_string(),
            model_id: entry.model_id.clone(),
            artifact,
        }))
    }

    /// The model a request ships: the packaged `model.json` (else the fallback), or the file.
    fn read_candidate(&self, request: &DeployRequest) -> Result<CandidateModel, DeployError> {
        let path = match &request.source {
            Source::Package { package, model } => {
                let packaged = package_dir(package).join("model.json");
                if packaged.is_file() {
                    packaged
                } else {
                    model.clone()
                }
            }
            Source::Model { model, .. } => model.clone(),
            Source::Image { .. } => {
                return Err(DeployError::ImageNeedsAws);
            }
        };
        if request.options.canary.is_some() {
            return Err(DeployError::CanaryNeedsAws);
        }
        let bytes = std::fs::read(&path).map_err(|io| DeployError::File {
            action: "read",
            path: path.clone(),
            io,
            fix: Some("run amesops package (or train) first"),
        })?;
        Ok(CandidateModel::from_bytes(
            bytes,
            path.display().to_string(),
        ))
    }

    fn plan(&self, to: Option<&str>) -> Result<RollbackPlan, DeployError> {
        let record = self.record()?;
        let live = record.live_version().ok_or(DeployError::NothingDeployed)?;
        let target =
            match to {
                Some(v) => v.trim_start_matches('v').parse::<u32>().map_err(|_| {
                    DeployError::NotAVersion {
                        value: v.to_string(),
                    }
                })?,
                None => record
                    .previous
                    .filter(|p| *p != live.version)
                    .or_else(|| {
                        record
                            .versions
                            .iter()
                            .map(|v| v.version)
                            .filter(|v| *v < live.version)
                            .max()
                    })
                    .ok_or_else(|| DeployError::NothingToRollBack {
                        version: live.version.to_string(),
                    })?,
            };
        let entry = record
            .versions
            .iter()
            .find(|v| v.version == target)
            .ok_or_else(|| DeployError::NoSuchVersion {
                version: target.to_string(),
            })?;
        Ok(RollbackPlan {
            from_version: live.version.to_string(),
            from_model: live.model_id.clone(),
            to_version: target.to_string(),
            to_model: entry.model_id.clone(),
            stops_canary: false,
        })
    }
}

/// The folder a package is written to (`dist/` for `dist/predictor.zip`).
pub fn package_dir(package: &Path) -> PathBuf {
    package
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Deployer for LocalDeployer {
    fn status(&self) -> BoxFuture<'_, Result<DeployInfo, DeployError>> {
        Box::pin(async move {
            // The in-process server follows the record, as a Lambda alias is followed.
            self.follow_record()?;
            let record = self.record()?;
            Ok(DeployInfo {
                function: "local predictor (in-process)".to_string(),
                alias: "live".to_string(),
                alias_version: record.live.map(|v| v.to_string()),
                routing: None,
                versions: record
                    .versions
                    .iter()
                    .rev()
                    .map(|v| Version {
                        version: v.version.to_string(),
                        model_id: v.model_id.clone(),
                        created: v.created.clone(),
                    })
                    .collect(),
                url: self.url.clone(),
                model_id: record.live_version().map(|x| x.model_id.clone()),
            })
        })
    }

    fn production(&self) -> BoxFuture<'_, Result<Production, DeployError>> {
        Box::pin(async move { self.read_production() })
    }

    fn candidate<'a>(
        &'a self,
        request: &'a DeployRequest,
    ) -> BoxFuture<'a, Result<CandidateModel, DeployError>> {
        Box::pin(async move { self.read_candidate(request) })
    }

    fn deploy<'a>(
        &'a self,
        request: &'a DeployRequest,
        expected_sha256: &'a str,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move {
            let candidate = self.read_candidate(request)?;
            progress(format!("read {}", candidate.origin));
            if candidate.sha256 != expected_sha256 {
                return Err(DeployError::CandidateChanged {
                    origin: candidate.origin,
                    model_id: candidate.model_id,
                });
            }
            progress("smoke-testing the candidate".to_string());
            let model_id = smoke_test(&candidate.bytes, &self.root.join("smoke")).await?;
            let mut record = self.record()?;
            if let Some(live) = record.live_version()
                && live.model_id == model_id
            {
                progress(format!(
                    "model {model_id} is already live as version {}; nothing to do",
                    live.version
                ));
                return Ok(DeployReport {
                    version: live.version.to_string(),
                    model_id,
                    url: self.url.clone(),
                    changed: false,
                });
            }
            let (version, _) = record::allocate_version(&self.root, &record)?;
            progress(format!("publishing version {version}"));
            let model_path = self.model_path(version);
            core_model::files::write_bytes(&model_path, &candidate.bytes)
                .map_err(|e| DeployError::file("write", model_path, e))?;
            record.versions.push(LocalVersion {
                version,
                model_id: model_id.clone(),
                sha256: Some(candidate.sha256.clone()),
                created: now(),
            });
            progress(format!("moving alias live to version {version}"));
            self.serve(version)?;
            record.previous = record.live;
            record.live = Some(version);
            self.save(&record)?;
            Ok(DeployReport {
                version: version.to_string(),
                model_id,
                url: self.url.clone(),
                changed: true,
            })
        })
    }

    fn plan_rollback<'a>(
        &'a self,
        to: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RollbackPlan, DeployError>> {
        Box::pin(async move { self.plan(to) })
    }

    fn rollback<'a>(
        &'a self,
        plan: &'a RollbackPlan,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move {
            let mut record = self.record()?;
            if record.live.map(|v| v.to_string()).as_deref() != Some(plan.from_version.as_str()) {
                return Err(DeployError::AliasMoved {
                    alias: "live".to_string(),
                    version: plan.from_version.clone(),
                });
            }
            let target: u32 = plan
                .to_version
                .parse()
                .map_err(|_| DeployError::NotAVersion {
                    value: plan.to_version.clone(),
                })?;
            progress(format!(
                "moving alias live: version {} -> {target}",
                plan.from_version
            ));
            let model_id = self.serve(target)?;
            record.previous = record.live;
            record.live = Some(target);
            self.save(&record)?;
            Ok(DeployReport {
                version: target.to_string(),
                model_id,
                url: self.url.clone(),
                changed: true,
            })
        })
    }

    fn url(&self) -> String {
        self.url.clone()
    }
}

#[cfg(test)]
mod tests;
