//! The HTTP API in front of the alias: created once, found again by name and tag on every later
//! deploy, so its id and URL never change.

use aws_sdk_apigatewayv2::types::{Api, IntegrationType, ProtocolType};

use super::errors::{Call, aws_error};
use super::iam::MANAGED_TAG;
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// Tag naming the function an API fronts.
pub const FUNCTION_TAG: &str = "amesops:function";
/// The API's identity.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiInfo {
    /// API id.
    pub id: String,
    /// Base URL.
    pub url: String,
}

/// Which of several APIs named alike is ours: the one tagged with our function, else the only one.
pub fn pick_api<'a>(
    apis: &'a [Api],
    name: &str,
    function: &str,
) -> Result<Option<&'a Api>, DeployError> {
    let named: Vec<&Api> = apis.iter().filter(|a| a.name() == Some(name)).collect();
    let tagged: Vec<&Api> = named
        .iter()
        .copied()
        .filter(|a| {
            a.tags()
                .and_then(|t| t.get(FUNCTION_TAG))
                .is_some_and(|f| f == function)
        })
        .collect();
    match (tagged.as_slice(), named.as_slice()) {
        ([one], _) => Ok(Some(one)),
        ([], []) => Ok(None),
        ([], [one]) => Ok(Some(one)),
        _ => Err(DeployError::AmbiguousApi {
            name: name.to_string(),
            count: named.len(),
            tag: FUNCTION_TAG,
            function: function.to_string(),
        }),
    }
}

impl AwsDeployer {
    pub(super) fn api_call(
        &self,
        action: &str,
        permission: &'static str,
        id: Option<&str>,
    ) -> Call {
        let resource = match id {
            Some(id) => format!(
                "arn:{}:apigateway:{}::/apis/{id}",
                self.partition(),
                self.region
            ),
            None => format!("arn:{}:apigateway:{}::/apis", self.partition(), self.region),
        };
        Call::new(
            format!("{action} HTTP API {}", self.settings.api_name),
            permission,
            resource,
        )
    }

    /// The API, if it exists.
    pub(super) async fn find_api(&self) -> Result<Option<Api>, DeployError> {
        let mut apis = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .apigw
                .get_apis()
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    aws_error(
                        &self.api_call("list APIs to find", "apigateway:GET", None),
                        &e,
                    )
                })?;
            apis.extend(page.items().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        pick_api(&apis, &self.settings.api_name, &self.settings.function).map(|a| a.cloned())
    }

    fn url_of(&self, api: &Api) -> String {
        api.api_endpoint().map(str::to_string).unwrap_or_else(|| {
            format!(
                "https://{}.execute-api.{}.amazonaws.com",
                api.api_id().unwrap_or_default(),
                self.region
            )
        })
    }

    /// Creates or repairs the API so that every route reaches `alias_arn`.
    pub(super) async fn ensure_api(
        &self,
        alias_arn: &str,
        progress: Progress<'_>,
    ) -> Result<ApiInfo, DeployError> {
        let api = match self.find_api().await? {
            Some(api) => {
                progress(format!(
                    "HTTP API {} exists ({})",
                    self.settings.api_name,
                    api.api_id().unwrap_or_default()
                ));
                api
            }
            None => {
                progress(format!("creating HTTP API {}", self.settings.api_name));
                let created = self
                    .apigw
                    .create_api()
                    .name(&self.settings.api_name)
                    .protocol_type(ProtocolType::Http)
                    .description(format!(
                        "Ames house-price predictor: Lambda {} alias {}",
                        self.settings.function, self.settings.alias
                    ))
                    .tags(MANAGED_TAG, "true")
                    .tags(FUNCTION_TAG, &self.settings.function)
                    .send()
                    .await
                    .map_err(|e| {
                        aws_error(&self.api_call("create", "apigateway:POST", None), &e)
                    })?;
                Api::builder()
                    .set_api_id(created.api_id)
                    .set_api_endpoint(created.api_endpoint)
                    .set_name(created.name)
                    .build()
            }
        };
        let id = api.api_id().unwrap_or_default().to_string();
        let integration = self.ensure_integration(&id, alias_arn, progress).await?;
        self.ensure_routes(&id, &integration, progress).await?;
        self.ensure_stage(&id, progress).await?;
        self.allow_api_to_invoke(&id, progress).await?;
        Ok(ApiInfo {
            url: self.url_of(&api),
            id,
        })
    }

    async fn ensure_integration(
        &self,
        api: &str,
        alias_arn: &str,
        progress: Progress<'_>,
    ) -> Result<String, DeployError> {
        let existing = self
            .apigw
            .get_integrations()
            .api_id(api)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.api_call("list the integrations of", "apigateway:GET", Some(api)),
                    &e,
                )
            })?;
        if let Some(found) = existing
            .items()
            .iter()
            .find(|i| i.integration_uri() == Some(alias_arn))
        {
            return Ok(found.integration_id().unwrap_or_default().to_string());
        }
        progress(format!(
            "integration: AWS_PROXY (payload 2.0) -> {alias_arn}"
        ));
        let created = self
            .apigw
            .create_integration()
            .api_id(api)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(alias_arn)
            .payload_format_version("2.0")
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.api_call(
                        "create the Lambda integration of",
                        "apigateway:POST",
                        Some(api),
                    ),
                    &e,
                )
            })?;
        created
            .integration_id()
            .map(str::to_string)
            .ok_or_else(|| DeployError::incomplete("CreateIntegration", "id"))
    }

    /// The API's id and URL, if it exists.
    pub(super) async fn api_info(&self) -> Result<Option<ApiInfo>, DeployError> {
        Ok(self.find_api().await?.map(|api| ApiInfo {
            id: api.api_id().unwrap_or_default().to_string(),
            url: self.url_of(&api),
        }))
    }

    /// Deletes the API (its routes, integration and stage go with it).
    pub(super) async fn delete_api(&self, progress: Progress<'_>) -> Result<(), DeployError> {
        let Some(api) = self.find_api().await? else {
            return Ok(());
        };
        let id = api.api_id().unwrap_or_default().to_string();
        progress(format!(
            "deleting HTTP API {} ({id})",
            self.settings.api_name
        ));
        self.apigw
            .delete_api()
            .api_id(&id)
            .send()
            .await
            .map_err(|e| aws_error(&self.api_call("delete", "apigateway:DELETE", Some(&id)), &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(id: &str, name: &str, function: Option<&str>) -> Api {
        let mut builder = Api::builder().api_id(id).name(name);
        if let Some(f) = function {
            builder = builder.tags(FUNCTION_TAG, f);
        }
        builder.build()
    }

    #[test]
    fn the_api_is_found_by_name_and_tag() {
        let apis = [
            api("a", "amesops-api", None),
            api("b", "amesops-api", Some("fn")),
            api("c", "other", Some("fn")),
        ];
        assert_eq!(
            pick_api(&apis, "amesops-api", "fn")
                .expect("found")
                .and_then(|a| a.api_id()),
            Some("b")
        );
        assert_eq!(
            pick_api(&apis[..1], "amesops-api", "fn")
                .expect("found")
                .and_then(|a| a.api_id()),
            Some("a")
        );
        assert!(
            pick_api(&apis, "missing", "fn")
                .expect("no error")
                .is_none()
        );
        let twins = [api("a", "amesops-api", None), api("b", "amesops-api", None)];
        assert!(pick_api(&twins, "amesops-api", "fn").is_err());
    }
}
