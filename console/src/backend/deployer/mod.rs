//! `Deployer`: putting a model artifact into service and taking it back, locally or on AWS.

#[cfg(feature = "aws")]
pub mod aws;
pub mod canary;
mod error;
pub mod local;

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;

pub use error::{CanaryStep, DeployError, ImageStep, SmokeFailure};

/// One published version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    /// Version label (Lambda version number, or local sequence number).
    pub version: String,
    /// Model id it serves.
    pub model_id: String,
    /// When it was published.
    pub created: String,
}

/// The deployment as it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployInfo {
    /// Function or local server name.
    pub function: String,
    /// Alias serving traffic.
    pub alias: String,
    /// Version the alias points to (`None` before the first deploy).
    pub alias_version: Option<String>,
    /// Canary routing: other version and weight.
    pub routing: Option<(String, f64)>,
    /// Versions, newest first.
    pub versions: Vec<Version>,
    /// Endpoint base URL.
    pub url: String,
    /// Model id behind the alias.
    pub model_id: Option<String>,
}

/// What a deploy or rollback did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeployReport {
    /// Version now behind the alias.
    pub version: String,
    /// Model id now served.
    pub model_id: String,
    /// Endpoint URL.
    pub url: String,
    /// Whether anything changed (a deploy of the model already served does nothing).
    pub changed: bool,
}

/// What a deploy ships.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// What `amesops package` made: on the local target the `model.json` beside `package` (or
    /// `model` when there is none), on aws the zip `package` itself.
    Package {
        /// The package (`dist/predictor.zip`).
        package: PathBuf,
        /// The local fallback when nothing is packaged.
        model: PathBuf,
    },
    /// Exactly this model file (the console's `d`): on aws, `package` must hold this model.
    Model {
        /// The model artifact (`models/model.json`).
        model: PathBuf,
        /// The package that ships it (aws).
        package: PathBuf,
    },
    /// The container image `amesops image push` pushed (`image.json` beside `package`), which
    /// holds `model` (aws only).
    Image {
        /// The package whose folder holds `image.json`.
        package: PathBuf,
        /// The model inside the image.
        model: PathBuf,
    },
}

/// Choices of one deploy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployOptions {
    /// Send this percentage of traffic to the new version and keep the rest on the live one.
    pub canary: Option<f64>,
    /// Log level of the function (default `info`).
    pub log_level: Option<String>,
}

/// One deploy: what, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployRequest {
    /// What ships.
    pub source: Source,
    /// How.
    pub options: DeployOptions,
}

/// The model a deploy would ship, read before anything changes (the gate judges these bytes,
/// and the deploy refuses to ship any others).
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateModel {
    /// The artifact.
    pub bytes: Vec<u8>,
    /// Model id (first 12 hex digits of the sha256).
    pub model_id: String,
    /// sha256 of the artifact.
    pub sha256: String,
    /// Where it comes from, for messages (`dist/model.json`, `dist/predictor.zip`, an image).
    pub origin: String,
}

impl CandidateModel {
    /// A candidate from artifact bytes.
    pub fn from_bytes(bytes: Vec<u8>, origin: String) -> CandidateModel {
        let sha256 = core_model::digest::sha256_hex(&bytes);
        CandidateModel {
            model_id: sha256.chars().take(12).collect(),
            sha256,
            bytes,
            origin,
        }
    }
}

/// What production serves, as the deployer can prove it.
#[derive(Debug, Clone, PartialEq)]
pub enum Production {
    /// Nothing is deployed yet, and the deployer knows it (local: no live version recorded;
    /// aws: the function or its alias does not exist).
    Nothing,
    /// The alias serves this version, whose artifact was read back and verified.
    Serving(Served),
}

/// The live version and its verified artifact.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// Version behind the alias.
    pub version: String,
    /// Model id.
    pub model_id: String,
    /// The artifact (its sha256 checked against what the deploy recorded).
    pub artifact: Vec<u8>,
}

/// A rollback, decided before it happens (so the confirmation can name both versions).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RollbackPlan {
    /// The version that serves now (with a canary: the canary's version).
    pub from_version: String,
    /// Its model id.
    pub from_model: String,
    /// The version the alias goes back to.
    pub to_version: String,
    /// Its model id.
    pub to_model: String,
    /// Whether this only stops a running canary (all traffic back to the primary version).
    pub stops_canary: bool,
}

/// Deploys and rolls back the predictor.
pub trait Deployer: Send + Sync {
    /// Current state.
    fn status(&self) -> BoxFuture<'_, Result<DeployInfo, DeployError>>;
    /// What production serves. `Ok(Production::Nothing)` only when the deployer can tell that
    /// nothing is deployed; any doubt (an error, a version without a recorded model, a missing
    /// or altered artifact) is an error: production is then unreadable.
    fn production(&self) -> BoxFuture<'_, Result<Production, DeployError>>;
    /// Reads the model a deploy of `request` would ship.
    fn candidate<'a>(
        &'a self,
        request: &'a DeployRequest,
    ) -> BoxFuture<'a, Result<CandidateModel, DeployError>>;
    /// Publishes the candidate of `request` as a new version, smoke-tests it, moves the alias.
    /// Refuses when the candidate is no longer the model with `expected_sha256` (the one the
    /// gate judged).
    fn deploy<'a>(
        &'a self,
        request: &'a DeployRequest,
        expected_sha256: &'a str,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>>;
    /// Which version a rollback to `to` (or to the previous version) would go from and to.
    fn plan_rollback<'a>(
        &'a self,
        to: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RollbackPlan, DeployError>>;
    /// Carries out `plan`; refuses when the alias moved since it was made.
    fn rollback<'a>(
        &'a self,
        plan: &'a RollbackPlan,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>>;
    /// The artifact bytes of the model behind the alias (to price locally and compare).
    fn served_artifact(&self) -> BoxFuture<'_, Result<Vec<u8>, DeployError>> {
        Box::pin(async move {
            match self.production().await? {
                Production::Serving(served) => Ok(served.artifact),
                Production::Nothing => Err(DeployError::NothingDeployed),
            }
        })
    }
    /// Where predictions are sent.
    fn url(&self) -> String;
    /// The canary controls, for a deployer that splits traffic (aws).
    fn canary(&self) -> Option<&dyn canary::CanaryControl> {
        None
    }
}

/// The deployer of the configured target (`package`: the zip aws deploys by default).
pub async fn for_config(config: &crate::config::Config) -> anyhow::Result<Arc<dyn Deployer>> {
    match config.target {
        crate::config::Target::Local => Ok(Arc::new(
            local::LocalDeployer::new(
                config.state_path("deployments"),
                None,
                "local predictor (served by `amesops` and `amesops serve`)".to_string(),
            )
            .with_project_record(config.root_path(local::RECORD_FILE)),
        )),
        #[cfg(feature = "aws")]
        crate::config::Target::Aws => Ok(Arc::new(
            aws::AwsDeployer::connect(&config.aws, &config.root).await?,
        )),
        #[cfg(not(feature = "aws"))]
        crate::config::Target::Aws => anyhow::bail!(
            "the aws target needs a build with AWS support: cargo build --release -p console --features aws"
        ),
    }
}
