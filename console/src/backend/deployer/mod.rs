//! `Deployer`: putting a model artifact into service and taking it back, locally or on AWS.

#[cfg(feature = "aws")]
pub mod aws;
pub mod local;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;

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

/// Why a deployment action failed; the message names the resource and the fix.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct DeployError(pub String);

/// Deploys and rolls back the predictor.
pub trait Deployer: Send + Sync {
    /// Current state.
    fn status(&self) -> BoxFuture<'_, Result<DeployInfo, DeployError>>;
    /// Publishes the artifact at `model_path` as a new version, smoke-tests it, moves the alias.
    fn deploy<'a>(
        &'a self,
        model_path: &'a std::path::Path,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>>;
    /// Moves the alias back to `to`, or to the version before the current one.
    fn rollback<'a>(
        &'a self,
        to: Option<&'a str>,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>>;
    /// The artifact bytes of the model behind the alias (to price locally and compare).
    fn served_artifact(&self) -> BoxFuture<'_, Result<Vec<u8>, DeployError>>;
    /// Where predictions are sent.
    fn url(&self) -> String;
}

/// The deployer of the configured target.
pub async fn for_config(config: &crate::config::Config) -> anyhow::Result<Arc<dyn Deployer>> {
    match config.target {
        crate::config::Target::Local => Ok(Arc::new(local::LocalDeployer::new(
            config.state_path("deployments"),
            None,
            "local predictor (served by `amesops` and `amesops serve`)".to_string(),
        ))),
        #[cfg(feature = "aws")]
        crate::config::Target::Aws => Ok(Arc::new(
            aws::AwsDeployer::connect(
                &config.aws,
                std::path::Path::new("."),
                std::path::Path::new("dist/predictor.zip"),
            )
            .await
            .map_err(anyhow::Error::msg)?,
        )),
        #[cfg(not(feature = "aws"))]
        crate::config::Target::Aws => anyhow::bail!(
            "the aws target needs a build with AWS support: cargo build --release -p console --features aws"
        ),
    }
}
