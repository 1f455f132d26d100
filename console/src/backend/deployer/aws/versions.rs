//! Published versions: publishing one, listing them, and finding the version that already holds
//! a package with the same settings (so an unchanged deploy publishes nothing).

use aws_sdk_lambda::types::FunctionConfiguration;

use super::errors::aws_error;
use super::function::{Settings, configuration_of};
use super::package::{Candidate, Code};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// The identity of a package's code as recorded in a version's description.
pub fn code_identity(candidate: &Candidate) -> String {
    match &candidate.code {
        Code::Zip(_) => format!("zip {}", candidate.code_sha256().unwrap_or_default()),
        Code::Image(uri) => format!("image {uri}"),
    }
}

/// The description of a version publishing `candidate`.
pub fn version_description(candidate: &Candidate) -> String {
    let text = format!(
        "amesops model {} code {}",
        candidate.model_id,
        code_identity(candidate)
    );
    text.chars().take(256).collect()
}

/// Whether a published version already is this package with these settings.
pub fn version_matches(
    version: &FunctionConfiguration,
    candidate: &Candidate,
    settings: &Settings,
) -> bool {
    let env = version
        .environment()
        .and_then(|e| e.variables())
        .cloned()
        .unwrap_or_default();
    let code_matches = match &candidate.code {
        Code::Zip(_) => version.code_sha256() == candidate.code_sha256().as_deref(),
        Code::Image(_) => version
            .description()
            .is_some_and(|d| d.ends_with(&code_identity(candidate))),
    };
    code_matches
        && env == settings.env
        && version.memory_size() == Some(settings.memory_mb)
        && version.timeout() == Some(settings.timeout_s)
        && version.role() == Some(settings.role.as_str())
}

/// The model sha256 a version serves (from its environment).
pub fn served_sha256(version: &FunctionConfiguration) -> Option<String> {
    version
        .environment()
        .and_then(|e| e.variables())
        .and_then(|v| v.get("MODEL_SHA256"))
        .cloned()
}

impl AwsDeployer {
    /// Publishes `$LATEST` as a new version; returns its number.
    pub(super) async fn publish(
        &self,
        candidate: &Candidate,
        progress: Progress<'_>,
    ) -> Result<String, DeployError> {
        let arn = self.function_resource();
        let published = self
            .lambda
            .publish_version()
            .function_name(&self.settings.function)
            .set_code_sha256(candidate.code_sha256())
            .description(version_description(candidate))
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.function_call("publish a version of", "lambda:PublishVersion", &arn),
                    &e,
                )
            })?;
        let version = published
            .version()
            .map(str::to_string)
            .ok_or_else(|| DeployError::incomplete("PublishVersion", "version number"))?;
        progress(format!("published version {version}"));
        Ok(version)
    }

    /// Every published version (not `$LATEST`), oldest first.
    pub(super) async fn versions(&self) -> Result<Vec<FunctionConfiguration>, DeployError> {
        let arn = self.function_resource();
        let mut versions = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let page = self
                .lambda
                .list_versions_by_function()
                .function_name(&self.settings.function)
                .set_marker(marker.clone())
                .send()
                .await
                .map_err(|e| {
                    aws_error(
                        &self.function_call(
                            "list the versions of",
                            "lambda:ListVersionsByFunction",
                            &arn,
                        ),
                        &e,
                    )
                })?;
            versions.extend(
                page.versions()
                    .iter()
                    .filter(|v| v.version() != Some("$LATEST"))
                    .cloned(),
            );
            marker = page.next_marker().map(str::to_string);
            if marker.is_none() {
                break;
            }
        }
        versions.sort_by_key(|v| v.version().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0));
        Ok(versions)
    }

    /// One published version's configuration.
    pub(super) async fn version(
        &self,
        version: &str,
    ) -> Result<FunctionConfiguration, DeployError> {
        let arn = self.function_resource();
        self.lambda
            .get_function_configuration()
            .function_name(&self.settings.function)
            .qualifier(version)
            .send()
            .await
            .map(configuration_of)
            .map_err(|e| {
                aws_error(
                    &self.function_call(
                        &format!("read version {version} of"),
                        "lambda:GetFunctionConfiguration",
                        &arn,
                    ),
                    &e,
                )
            })
    }
}
