//! The HTTP API in front of the alias: created once, found again by name and tag on every later
//! deploy, so its id and URL never change.

use aws_sdk_apigatewayv2::types::{Api, AuthorizationType, IntegrationType, ProtocolType, RouteSettings};

use super::errors::{Call, aws_error};
use super::iam::MANAGED_TAG;
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// Tag naming the function an API fronts.
pub const FUNCTION_TAG: &str = "amesops:function";
/// The stage that serves the API's base URL.
pub const STAGE: &str = "$default";
/// Every route, and whether it prices houses (those get IAM authorization with `api_auth = "iam"`).
pub const ROUTES: [(&str, bool); 5] = [
    ("POST /predict", true),
    ("POST /predict/batch", true),
    ("GET /health", false),
    ("GET /model", false),
    ("GET /", false),
];

/// The API's identity.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiInfo {
    /// API id.
    pub id: String,
    /// Base URL.
    pub url: String,
}

/// Which of several APIs named alike is ours: the one tagged with our function, else the only one.
pub fn pick_api<'a>(apis: &'a [Api], name: &str, function: &str) -> Result<Option<&'a Api>, String> {
    let named: Vec<&Api> = apis.iter().filter(|a| a.name() == Some(name)).collect();
    let tagged: Vec<&Api> = named
        .iter()
        .copied()
        .filter(|a| a.tags().and_then(|t| t.get(FUNCTION_TAG)).is_some_and(|f| f == function))
        .collect();
    match (tagged.as_slice(), named.as_slice()) {
        ([one], _) => Ok(Some(one)),
        ([], []) => Ok(None),
        ([], [one]) => Ok(Some(one)),
        _ => Err(format!(
            "{} HTTP APIs are named {name}; tag the one to use with {FUNCTION_TAG}={function}, or set another aws.api_name",
            named.len()
        )),
    }
}

/// The authorization of a route under the configured `api_auth`.
pub fn authorization(api_auth: &str, prices: bool) -> Result<AuthorizationType, DeployError> {
    match (api_auth, prices) {
        ("none", _) | ("iam", false) => Ok(AuthorizationType::None),
        ("iam", true) => Ok(AuthorizationType::AwsIam),
        (other, _) => Err(DeployError(format!("aws.api_auth = {other:?} in amesops.toml: use \"none\" or \"iam\""))),
    }
}

impl AwsDeployer {
    fn api_call(&self, action: &str, permission: &'static str, id: Option<&str>) -> Call {
        let resource = match id {
            Some(id) => format!("arn:{}:apigateway:{}::/apis/{id}", self.partition(), self.region),
            None => format!("arn:{}:apigateway:{}::/apis", self.partition(), self.region),
        };
        Call::new(format!("{action} HTTP API {}", self.settings.api_name), permission, resource)
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
                .map_err(|e| aws_error(&self.api_call("list APIs to find", "apigateway:GET", None), &e))?;
            apis.extend(page.items().iter().cloned());
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
        pick_api(&apis, &self.settings.api_name, &self.settings.function).map(|a| a.cloned()).map_err(DeployError)
    }

    fn url_of(&self, api: &Api) -> String {
        api.api_endpoint()
            .map(str::to_string)
            .unwrap_or_else(|| format!("https://{}.execute-api.{}.amazonaws.com", api.api_id().unwrap_or_default(), self.region))
    }

    /// Creates or repairs the API so that every route reaches `alias_arn`.
    pub(super) async fn ensure_api(&self, alias_arn: &str, progress: Progress<'_>) -> Result<ApiInfo, DeployError> {
        let api = match self.find_api().await? {
            Some(api) => {
                progress(format!("HTTP API {} exists ({})", self.settings.api_name, api.api_id().unwrap_or_default()));
                api
            }
            None => {
                progress(format!("creating HTTP API {}", self.settings.api_name));
                let created = self
                    .apigw
                    .create_api()
                    .name(&self.settings.api_name)
                    .protocol_type(ProtocolType::Http)
                    .description(format!("Ames house-price predictor: Lambda {} alias {}", self.settings.function, self.settings.alias))
                    .tags(MANAGED_TAG, "true")
                    .tags(FUNCTION_TAG, &self.settings.function)
                    .send()
                    .await
                    .map_err(|e| aws_error(&self.api_call("create", "apigateway:POST", None), &e))?;
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
        Ok(ApiInfo { url: self.url_of(&api), id })
    }

    async fn ensure_integration(&self, api: &str, alias_arn: &str, progress: Progress<'_>) -> Result<String, DeployError> {
        let existing = self
            .apigw
            .get_integrations()
            .api_id(api)
            .send()
            .await
            .map_err(|e| aws_error(&self.api_call("list the integrations of", "apigateway:GET", Some(api)), &e))?;
        if let Some(found) = existing.items().iter().find(|i| i.integration_uri() == Some(alias_arn)) {
            return Ok(found.integration_id().unwrap_or_default().to_string());
        }
        progress(format!("integration: AWS_PROXY (payload 2.0) -> {alias_arn}"));
        let created = self
            .apigw
            .create_integration()
            .api_id(api)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(alias_arn)
            .payload_format_version("2.0")
            .send()
            .await
            .map_err(|e| aws_error(&self.api_call("create the Lambda integration of", "apigateway:POST", Some(api)), &e))?;
        created.integration_id().map(str::to_string).ok_or_else(|| DeployError("CreateIntegration returned no id".to_string()))
    }

    async fn ensure_routes(&self, api: &str, integration: &str, progress: Progress<'_>) -> Result<(), DeployError> {
        let target = format!("integrations/{integration}");
        let existing = self
            .apigw
            .get_routes()
            .api_id(api)
            .send()
            .await
            .map_err(|e| aws_error(&self.api_call("list the routes of", "apigateway:GET", Some(api)), &e))?;
        for (key, prices) in ROUTES {
            let auth = authorization(&self.settings.api_auth, prices)?;
            match existing.items().iter().find(|r| r.route_key() == Some(key)) {
                None => {
                    progress(format!("route {key} ({})", auth.as_str()));
                    self.apigw
                        .create_route()
                        .api_id(api)
                        .route_key(key)
                        .target(&target)
                        .authorization_type(auth)
                        .send()
                        .await
                        .map_err(|e| aws_error(&self.api_call(&format!("create route {key} of"), "apigateway:POST", Some(api)), &e))?;
                }
                Some(route) if route.target() != Some(target.as_str()) || route.authorization_type() != Some(&auth) => {
                    progress(format!("updating route {key} ({})", auth.as_str()));
                    self.apigw
                        .update_route()
                        .api_id(api)
                        .route_id(route.route_id().unwrap_or_default())
                        .target(&target)
                        .authorization_type(auth)
                        .send()
                        .await
                        .map_err(|e| aws_error(&self.api_call(&format!("update route {key} of"), "apigateway:PATCH", Some(api)), &e))?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    async fn ensure_stage(&self, api: &str, progress: Progress<'_>) -> Result<(), DeployError> {
        let throttle = RouteSettings::builder()
            .throttling_rate_limit(self.settings.throttle_rate)
            .throttling_burst_limit(self.settings.throttle_burst)
            .build();
        let stages = self
            .apigw
            .get_stages()
            .api_id(api)
            .send()
            .await
            .map_err(|e| aws_error(&self.api_call("list the stages of", "apigateway:GET", Some(api)), &e))?;
        let existing = stages.items().iter().find(|s| s.stage_name() == Some(STAGE));
        let current = existing.and_then(|s| s.default_route_settings());
        let up_to_date = current.is_some_and(|c| {
            c.throttling_rate_limit() == Some(self.settings.throttle_rate) && c.throttling_burst_limit() == Some(self.settings.throttle_burst)
        }) && existing.and_then(|s| s.auto_deploy()) == Some(true);
        let line = format!("stage {STAGE}: auto-deploy, throttled at {} req/s (burst {})", self.settings.throttle_rate, self.settings.throttle_burst);
        if existing.is_none() {
            progress(line);
            self.apigw
                .create_stage()
                .api_id(api)
                .stage_name(STAGE)
                .auto_deploy(true)
                .default_route_settings(throttle)
                .send()
                .await
                .map_err(|e| aws_error(&self.api_call("create the stage of", "apigateway:POST", Some(api)), &e))?;
        } else if !up_to_date {
            progress(line);
            self.apigw
                .update_stage()
                .api_id(api)
                .stage_name(STAGE)
                .auto_deploy(true)
                .default_route_settings(throttle)
                .send()
                .await
                .map_err(|e| aws_error(&self.api_call("update the stage of", "apigateway:PATCH", Some(api)), &e))?;
        }
        Ok(())
    }

    /// Lets API Gateway invoke the alias, from this API only.
    async fn allow_api_to_invoke(&self, api: &str, progress: Progress<'_>) -> Result<(), DeployError> {
        let source = format!("arn:{}:execute-api:{}:{}:{api}/*", self.partition(), self.region, self.account().await?);
        let result = self
            .lambda
            .add_permission()
            .function_name(&self.settings.function)
            .qualifier(&self.settings.alias)
            .statement_id(format!("amesops-apigateway-{api}"))
            .action("lambda:InvokeFunction")
            .principal("apigateway.amazonaws.com")
            .source_arn(&source)
            .send()
            .await;
        match result {
            Ok(_) => {
                progress(format!("permission: apigateway.amazonaws.com may invoke {}:{} from {source}", self.settings.function, self.settings.alias));
                Ok(())
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_conflict_exception()) => Ok(()),
            Err(e) => Err(aws_error(
                &Call::new(
                    format!("allow API {api} to invoke {}:{}", self.settings.function, self.settings.alias),
                    "lambda:AddPermission",
                    format!("function:{}:{}", self.settings.function, self.settings.alias),
                ),
                &e,
            )),
        }
    }

    /// The API's id and URL, if it exists.
    pub(super) async fn api_info(&self) -> Result<Option<ApiInfo>, DeployError> {
        Ok(self.find_api().await?.map(|api| ApiInfo { id: api.api_id().unwrap_or_default().to_string(), url: self.url_of(&api) }))
    }

    /// Deletes the API (its routes, integration and stage go with it).
    pub(super) async fn delete_api(&self, progress: Progress<'_>) -> Result<(), DeployError> {
        let Some(api) = self.find_api().await? else {
            return Ok(());
        };
        let id = api.api_id().unwrap_or_default().to_string();
        progress(format!("deleting HTTP API {} ({id})", self.settings.api_name));
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
        let apis = [api("a", "amesops-api", None), api("b", "amesops-api", Some("fn")), api("c", "other", Some("fn"))];
        assert_eq!(pick_api(&apis, "amesops-api", "fn").expect("found").and_then(|a| a.api_id()), Some("b"));
        assert_eq!(pick_api(&apis[..1], "amesops-api", "fn").expect("found").and_then(|a| a.api_id()), Some("a"));
        assert!(pick_api(&apis, "missing", "fn").expect("no error").is_none());
        let twins = [api("a", "amesops-api", None), api("b", "amesops-api", None)];
        assert!(pick_api(&twins, "amesops-api", "fn").is_err());
    }

    #[test]
    fn iam_auth_protects_only_the_prediction_routes() {
        assert_eq!(authorization("iam", true).expect("valid"), AuthorizationType::AwsIam);
        assert_eq!(authorization("iam", false).expect("valid"), AuthorizationType::None);
        assert_eq!(authorization("none", true).expect("valid"), AuthorizationType::None);
        assert!(authorization("jwt", true).is_err());
    }
}
