//! The alias that serves traffic (`live`): where it points, its canary weight, and the version
//! it pointed to before (kept in its description, so a rollback works from any machine).

use aws_sdk_lambda::types::{AliasConfiguration, AliasRoutingConfiguration};

use super::errors::{Call, aws_error};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// The alias as it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasState {
    /// Alias ARN.
    pub arn: String,
    /// Primary version.
    pub version: String,
    /// Canary: another version and the share of traffic it gets (0..1).
    pub routing: Option<(String, f64)>,
    /// The version that was primary before the last move.
    pub previous: Option<String>,
}

/// How a move is recorded in the alias description.
pub fn describe_previous(previous: Option<&str>) -> String {
    match previous {
        Some(version) => format!("amesops live alias; previous={version}"),
        None => "amesops live alias".to_string(),
    }
}

/// The previous version recorded in an alias description.
pub fn parse_previous(description: &str) -> Option<String> {
    description
        .split(';')
        .filter_map(|part| part.trim().strip_prefix("previous="))
        .map(str::to_string)
        .find(|v| !v.is_empty())
}

fn state_of(alias: &AliasConfiguration) -> AliasState {
    AliasState {
        arn: alias.alias_arn().unwrap_or_default().to_string(),
        version: alias.function_version().unwrap_or_default().to_string(),
        routing: alias
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .and_then(|weights| weights.iter().next().map(|(v, w)| (v.clone(), *w)))
            .filter(|(_, weight)| *weight > 0.0),
        previous: alias.description().and_then(parse_previous),
    }
}

impl AwsDeployer {
    fn alias_call(&self, action: &str, permission: &'static str) -> Call {
        Call::new(
            format!(
                "{action} alias {} of Lambda function {}",
                self.settings.alias, self.settings.function
            ),
            permission,
            format!(
                "function:{}:{}",
                self.settings.function, self.settings.alias
            ),
        )
    }

    /// The alias, or `None` when it does not exist yet.
    pub(super) async fn alias(&self) -> Result<Option<AliasState>, DeployError> {
        match self
            .lambda
            .get_alias()
            .function_name(&self.settings.function)
            .name(&self.settings.alias)
            .send()
            .await
        {
            Ok(found) => Ok(Some(state_of(
                &AliasConfiguration::builder()
                    .set_alias_arn(found.alias_arn)
                    .set_function_version(found.function_version)
                    .set_description(found.description)
                    .set_routing_config(found.routing_config)
                    .build(),
            ))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error(&self.alias_call("read", "lambda:GetAlias"), &e)),
        }
    }

    /// Points the alias at `version` (all traffic), remembering where it pointed before.
    pub(super) async fn move_alias(
        &self,
        version: &str,
        current: Option<&AliasState>,
        progress: Progress<'_>,
    ) -> Result<AliasState, DeployError> {
        let alias = &self.settings.alias;
        match current {
            None => {
                progress(format!("creating alias {alias} -> version {version}"));
                let created = self
                    .lambda
                    .create_alias()
                    .function_name(&self.settings.function)
                    .name(alias)
                    .function_version(version)
                    .description(describe_previous(None))
                    .send()
                    .await
                    .map_err(|e| aws_error(&self.alias_call("create", "lambda:CreateAlias"), &e))?;
                Ok(AliasState {
                    arn: created.alias_arn().unwrap_or_default().to_string(),
                    version: version.to_string(),
                    routing: None,
                    previous: None,
                })
            }
            Some(current) => {
                let previous = if current.version == version {
                    current.previous.clone()
                } else {
                    Some(current.version.clone())
                };
                progress(format!(
                    "moving alias {alias}: version {} -> {version}",
                    current.version
                ));
                let updated = self
                    .lambda
                    .update_alias()
                    .function_name(&self.settings.function)
                    .name(alias)
                    .function_version(version)
                    .description(describe_previous(previous.as_deref()))
                    .routing_config(AliasRoutingConfiguration::builder().build())
                    .send()
                    .await
                    .map_err(|e| aws_error(&self.alias_call("move", "lambda:UpdateAlias"), &e))?;
                Ok(state_of(
                    &AliasConfiguration::builder()
                        .set_alias_arn(updated.alias_arn)
                        .set_function_version(updated.function_version)
                        .set_description(updated.description)
                        .set_routing_config(updated.routing_config)
                        .build(),
                ))
            }
        }
    }

    /// Sends `percent` % of the alias's traffic to `version`, the rest stays where it is.
    pub(super) async fn set_canary(
        &self,
        version: &str,
        percent: f64,
        current: &AliasState,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        progress(format!(
            "canary: alias {} sends {percent}% to version {version}, {}% stays on version {}",
            self.settings.alias,
            100.0 - percent,
            current.version
        ));
        self.lambda
            .update_alias()
            .function_name(&self.settings.function)
            .name(&self.settings.alias)
            .function_version(&current.version)
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .additional_version_weights(version, percent / 100.0)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.alias_call("set the canary weight of", "lambda:UpdateAlias"),
                    &e,
                )
            })?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_previous_version_round_trips_through_the_description() {
        assert_eq!(
            parse_previous(&describe_previous(Some("7"))),
            Some("7".to_string())
        );
        assert_eq!(parse_previous(&describe_previous(None)), None);
        assert_eq!(parse_previous("hand-made alias"), None);
    }
}
