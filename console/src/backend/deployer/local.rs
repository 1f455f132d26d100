//! The local deployer: versions under `.amesops/deployments/`, served by the in-process router.
//!
//! Deploy copies the artifact to a new version folder, smoke-tests it through the same router
//! code the server runs, then swaps the served model; rollback swaps back. `deploy.json` records
//! the versions and which one is live, so a restart serves the same model.

use std::path::{Path, PathBuf};

use core_model::Artifact;
use futures_util::future::BoxFuture;
use predictor::{AppState, ServedModel};
use serde::{Deserialize, Serialize};

use super::{DeployError, DeployInfo, DeployReport, Deployer, Version};

/// `deploy.json` of the local target.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LocalRecord {
    /// Versions in publication order.
    pub versions: Vec<LocalVersion>,
    /// The live version.
    pub live: Option<u32>,
    /// The version live before the current one (rollback target).
    pub previous: Option<u32>,
}

/// One local version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalVersion {
    /// Sequence number from 1.
    pub version: u32,
    /// Model id.
    pub model_id: String,
    /// Publication time.
    pub created: String,
}

/// Deploys to the in-process server.
pub struct LocalDeployer {
    root: PathBuf,
    state: Option<AppState>,
    url: String,
}

impl LocalDeployer {
    /// Versions live under `root` (`.amesops/deployments`); `state` is the running server, if any.
    pub fn new(root: impl Into<PathBuf>, state: Option<AppState>, url: String) -> Self {
        Self {
            root: root.into(),
            state,
            url,
        }
    }

    fn record_path(&self) -> PathBuf {
        self.root.join("deploy.json")
    }

    /// Reads `deploy.json` (empty when absent).
    pub fn record(&self) -> Result<LocalRecord, DeployError> {
        match std::fs::read(self.record_path()) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                DeployError(format!(
                    "{} is corrupt: {e}; remove it to start over",
                    self.record_path().display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LocalRecord::default()),
            Err(e) => Err(DeployError(format!(
                "cannot read {}: {e}",
                self.record_path().display()
            ))),
        }
    }

    fn save(&self, record: &LocalRecord) -> Result<(), DeployError> {
        let bytes = serde_json::to_vec_pretty(record).map_err(|e| DeployError(e.to_string()))?;
        crate::files::write_bytes(&self.record_path(), &bytes)
            .map_err(|e| DeployError(format!("{e:#}")))
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
        let loaded =
            Artifact::load(&self.model_path(version)).map_err(|e| DeployError(e.to_string()))?;
        let id = loaded.id.clone();
        if let Some(state) = &self.state {
            state.swap_model(ServedModel::from(loaded));
        }
        Ok(id)
    }
}

/// Smoke-tests a candidate through the serving router: `GET /health` must name the candidate,
/// and `POST /predict` of the first bundled house must equal core-model's price to the bit.
pub async fn smoke_test(bytes: &[u8], scratch: &Path) -> Result<String, DeployError> {
    use tower::ServiceExt;
    let fail = |what: String| DeployError(format!("smoke test failed: {what}"));
    let loaded = Artifact::from_bytes(bytes)
        .map_err(|e| fail(format!("the artifact does not load: {e}")))?;
    let id = loaded.id.clone();
    let table = core_model::Table::read(crate::cli::bundled_data())
        .map_err(|e| fail(format!("bundled data: {e}")))?;
    let house = table
        .records
        .first()
        .map(|r| r.house.clone())
        .ok_or_else(|| fail("bundled data is empty".to_string()))?;
    let expected = loaded.artifact.model.predict(&house).price;
    let state = AppState::new(
        ServedModel::from(loaded),
        Box::new(predictor::store::LocalStore::new(scratch)),
    );
    let call = |request: axum::http::Request<axum::body::Body>| {
        let router = predictor::router(state.clone());
        async move {
            let response = router
                .oneshot(request)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .map_err(|e| fail(e.to_string()))?;
            let json: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| fail(format!("reply is not JSON: {e}")))?;
            Ok::<_, DeployError>((status, json))
        }
    };
    let health = axum::http::Request::get("/health")
        .body(axum::body::Body::empty())
        .map_err(|e| fail(e.to_string()))?;
    let (status, json) = call(health).await?;
    if status != 200 || json.get("model_id").and_then(|v| v.as_str()) != Some(id.as_str()) {
        return Err(fail(format!(
            "GET /health answered {status} {json}, expected 200 naming model {id}"
        )));
    }
    let body = serde_json::to_vec(&house.to_json()).map_err(|e| fail(e.to_string()))?;
    let predict = axum::http::Request::post("/predict")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .map_err(|e| fail(e.to_string()))?;
    let (status, json) = call(predict).await?;
    let price = json.get("price").and_then(|p| p.as_f64());
    if status != 200 || price.map(f64::to_bits) != Some(expected.to_bits()) {
        return Err(fail(format!(
            "POST /predict answered {status} with price {price:?}, core-model says {expected}"
        )));
    }
    Ok(id)
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Deployer for LocalDeployer {
    fn status(&self) -> BoxFuture<'_, Result<DeployInfo, DeployError>> {
        Box::pin(async move {
            let record = self.record()?;
            let model_id = record
                .live
                .and_then(|v| record.versions.iter().find(|x| x.version == v))
                .map(|x| x.model_id.clone());
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
                model_id,
            })
        })
    }

    fn deploy<'a>(
        &'a self,
        model_path: &'a Path,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move {
            progress(format!("reading {}", model_path.display()));
            let bytes = tokio::fs::read(model_path).await.map_err(|e| {
                DeployError(format!(
                    "cannot read {}: {e}; train a model first (amesops train)",
                    model_path.display()
                ))
            })?;
            progress("smoke-testing the candidate".to_string());
            let model_id = smoke_test(&bytes, &self.root.join("smoke")).await?;
            let mut record = self.record()?;
            if let Some(live) = record
                .live
                .and_then(|v| record.versions.iter().find(|x| x.version == v))
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
            let version = record.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
            progress(format!("publishing version {version}"));
            let path = self.model_path(version);
            crate::files::write_bytes(&path, &bytes).map_err(|e| DeployError(format!("{e:#}")))?;
            record.versions.push(LocalVersion {
                version,
                model_id: model_id.clone(),
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

    fn rollback<'a>(
        &'a self,
        to: Option<&'a str>,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move {
            let mut record = self.record()?;
            let target = match to {
                Some(v) => v
                    .trim_start_matches('v')
                    .parse::<u32>()
                    .map_err(|_| DeployError(format!("{v:?} is not a version number")))?,
                None => {
                    let live = record
                        .live
                        .ok_or_else(|| DeployError("nothing is deployed yet".to_string()))?;
                    record
                        .previous
                        .filter(|p| *p != live)
                        .or_else(|| {
                            record
                                .versions
                                .iter()
                                .map(|v| v.version)
                                .filter(|v| *v < live)
                                .max()
                        })
                        .ok_or_else(|| {
                            DeployError(format!(
                                "version {live} is the first one; there is nothing to roll back to"
                            ))
                        })?
                }
            };
            let entry = record
                .versions
                .iter()
                .find(|v| v.version == target)
                .cloned()
                .ok_or_else(|| DeployError(format!("there is no version {target}")))?;
            progress(format!("moving alias live to version {target}"));
            self.serve(target)?;
            record.previous = record.live;
            record.live = Some(target);
            self.save(&record)?;
            Ok(DeployReport {
                version: target.to_string(),
                model_id: entry.model_id,
                url: self.url.clone(),
                changed: true,
            })
        })
    }

    fn served_artifact(&self) -> BoxFuture<'_, Result<Vec<u8>, DeployError>> {
        Box::pin(async move {
            let path = self
                .live_model()
                .ok_or_else(|| DeployError("nothing is deployed yet".to_string()))?;
            tokio::fs::read(&path)
                .await
                .map_err(|e| DeployError(format!("cannot read {}: {e}", path.display())))
        })
    }

    fn url(&self) -> String {
        self.url.clone()
    }
}
