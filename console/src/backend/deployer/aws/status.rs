//! What is deployed: function, versions, alias routing, API URL, served model, and its health.

use serde::Serialize;

use super::smoke::{gateway_event, parse_reply};
use super::versions::served_sha256;
use super::{AwsDeployer, record};
use crate::backend::deployer::{DeployError, DeployInfo, Version};

/// The function's answer to `GET /health` through the alias.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    /// 200 and a model id.
    pub ok: bool,
    /// HTTP status, when the function answered.
    pub status: Option<u64>,
    /// Model id it names.
    pub model_id: Option<String>,
    /// What went wrong, if anything.
    pub detail: Option<String>,
}

/// `amesops status` on AWS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AwsStatus {
    /// Region.
    pub region: String,
    /// Whether the function exists.
    pub exists: bool,
    /// Function ARN.
    pub function_arn: Option<String>,
    /// HTTP API id.
    pub api_id: Option<String>,
    /// Alias, versions, URL, model.
    #[serde(flatten)]
    pub info: DeployInfo,
    /// Health through the alias (when asked for).
    pub health: Option<Health>,
}

impl AwsDeployer {
    /// The deployment as it stands; `health` also invokes the alias with `GET /health`.
    pub async fn inspect(&self, health: bool) -> Result<AwsStatus, DeployError> {
        let latest = self.function().await?;
        let mut status = AwsStatus {
            region: self.region.clone(),
            exists: latest.is_some(),
            function_arn: latest
                .as_ref()
                .and_then(|f| f.function_arn())
                .map(str::to_string),
            api_id: None,
            info: DeployInfo {
                function: self.settings.function.clone(),
                alias: self.settings.alias.clone(),
                alias_version: None,
                routing: None,
                versions: Vec::new(),
                url: String::new(),
                model_id: None,
            },
            health: None,
        };
        if latest.is_none() {
            return Ok(status);
        }
        let versions = self.versions().await?;
        status.info.versions = versions
            .iter()
            .rev()
            .map(|v| Version {
                version: v.version().unwrap_or_default().to_string(),
                model_id: served_sha256(v)
                    .map(|s| s.chars().take(12).collect())
                    .unwrap_or_else(|| "?".to_string()),
                created: v.last_modified().unwrap_or_default().to_string(),
            })
            .collect();
        if let Some(alias) = self.alias().await? {
            status.info.model_id = status
                .info
                .versions
                .iter()
                .find(|v| v.version == alias.version)
                .map(|v| v.model_id.clone());
            status.info.alias_version = Some(alias.version.clone());
            status.info.routing = alias.routing.clone();
            if health {
                status.health = Some(self.health().await);
            }
        }
        if let Some(api) = self.api_info().await? {
            status.api_id = Some(api.id);
            status.info.url = api.url;
        } else if let Ok(Some(saved)) = record::DeployRecord::read(&self.record_path()) {
            status.info.url = saved.url;
        }
        Ok(status)
    }

    async fn health(&self) -> Health {
        let output = self
            .lambda
            .invoke()
            .function_name(&self.settings.function)
            .qualifier(&self.settings.alias)
            .payload(aws_sdk_lambda::primitives::Blob::new(
                gateway_event("GET", "/health", None)
                    .to_string()
                    .into_bytes(),
            ))
            .send()
            .await;
        let unhealthy = |detail: String| Health {
            ok: false,
            status: None,
            model_id: None,
            detail: Some(detail),
        };
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                return unhealthy(super::errors::explain(
                    &super::errors::Call::new(
                        format!("invoke alias {}", self.settings.alias),
                        "lambda:InvokeFunction",
                        &self.settings.function,
                    ),
                    &super::errors::Failure::from_sdk(&e),
                ));
            }
        };
        let payload = output
            .payload()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default();
        if let Some(error) = output.function_error() {
            return unhealthy(format!("the function raised {error}"));
        }
        match parse_reply(&payload) {
            Ok(reply) => {
                let model_id = reply
                    .typed::<predictor::wire::HealthReply>()
                    .map(|h| h.model_id);
                Health {
                    ok: reply.status == 200 && model_id.is_some(),
                    status: Some(reply.status),
                    model_id,
                    detail: None,
                }
            }
            Err(e) => unhealthy(e.to_string()),
        }
    }
}
