//! The routes, stage and invoke permission of the HTTP API: every route proxies to the alias,
//! the `$default` stage deploys automatically with the configured throttling, and API Gateway may
//! invoke the alias from this API only.

use aws_sdk_apigatewayv2::types::{AuthorizationType, RouteSettings};

use super::errors::{Call, aws_error};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// The stage that serves the API's base URL.
pub const STAGE: &str = "$default";
/// Every route, and whether it prices houses (those get IAM authorization with `api_auth = "iam"`).
/// `POST /sales` writes to the store, so it is guarded like the pricing routes.
pub const ROUTES: [(&str, bool); 7] = [
    ("POST /predict", true),
    ("POST /predict/batch", true),
    ("POST /sales", true),
    ("GET /health", false),
    ("GET /model", false),
    ("GET /", false),
    ("GET /assets/{file}", false),
];

/// The authorization of a route under the configured `api_auth`.
pub fn authorization(api_auth: &str, prices: bool) -> Result<AuthorizationType, DeployError> {
    match (api_auth, prices) {
        ("none", _) | ("iam", false) => Ok(AuthorizationType::None),
        ("iam", true) => Ok(AuthorizationType::AwsIam),
        (other, _) => Err(DeployError::Setting {
            key: "aws.api_auth",
            value: other.to_string(),
            fix: "use \"none\" or \"iam\"",
        }),
    }
}

impl AwsDeployer {
    pub(super) async fn ensure_routes(
        &self,
        api: &str,
        integration: &str,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        let target = format!("integrations/{integration}");
        let existing = self
            .apigw
            .get_routes()
            .api_id(api)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.api_call("list the routes of", "apigateway:GET", Some(api)),
                    &e,
                )
            })?;
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
                        .map_err(|e| {
                            aws_error(
                                &self.api_call(
                                    &format!("create route {key} of"),
                                    "apigateway:POST",
                                    Some(api),
                                ),
                                &e,
                            )
                        })?;
                }
                Some(route)
                    if route.target() != Some(target.as_str())
                        || route.authorization_type() != Some(&auth) =>
                {
                    progress(format!("updating route {key} ({})", auth.as_str()));
                    self.apigw
                        .update_route()
                        .api_id(api)
                        .route_id(route.route_id().unwrap_or_default())
                        .target(&target)
                        .authorization_type(auth)
                        .send()
                        .await
                        .map_err(|e| {
                            aws_error(
                                &self.api_call(
                                    &format!("update route {key} of"),
                                    "apigateway:PATCH",
                                    Some(api),
                                ),
                                &e,
                            )
                        })?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    pub(super) async fn ensure_stage(
        &self,
        api: &str,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
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
            .map_err(|e| {
                aws_error(
                    &self.api_call("list the stages of", "apigateway:GET", Some(api)),
                    &e,
                )
            })?;
        let existing = stages
            .items()
            .iter()
            .find(|s| s.stage_name() == Some(STAGE));
        let current = existing.and_then(|s| s.default_route_settings());
        let up_to_date = current.is_some_and(|c| {
            c.throttling_rate_limit() == Some(self.settings.throttle_rate)
                && c.throttling_burst_limit() == Some(self.settings.throttle_burst)
        }) && existing.and_then(|s| s.auto_deploy()) == Some(true);
        let line = format!(
            "stage {STAGE}: auto-deploy, throttled at {} req/s (burst {})",
            self.settings.throttle_rate, self.settings.throttle_burst
        );
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
                .map_err(|e| {
                    aws_error(
                        &self.api_call("create the stage of", "apigateway:POST", Some(api)),
                        &e,
                    )
                })?;
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
                .map_err(|e| {
                    aws_error(
                        &self.api_call("update the stage of", "apigateway:PATCH", Some(api)),
                        &e,
                    )
                })?;
        }
        Ok(())
    }

    /// Lets API Gateway invoke the alias, from this API only.
    pub(super) async fn allow_api_to_invoke(
        &self,
        api: &str,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        let source = format!(
            "arn:{}:execute-api:{}:{}:{api}/*",
            self.partition(),
            self.region,
            self.account().await?
        );
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
                progress(format!(
                    "permission: apigateway.amazonaws.com may invoke {}:{} from {source}",
                    self.settings.function, self.settings.alias
                ));
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_conflict_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(aws_error(
                &Call::new(
                    format!(
                        "allow API {api} to invoke {}:{}",
                        self.settings.function, self.settings.alias
                    ),
                    "lambda:AddPermission",
                    format!(
                        "function:{}:{}",
                        self.settings.function, self.settings.alias
                    ),
                ),
                &e,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iam_auth_protects_only_the_prediction_routes() {
        assert_eq!(
            authorization("iam", true).expect("valid"),
            AuthorizationType::AwsIam
        );
        assert_eq!(
            authorization("iam", false).expect("valid"),
            AuthorizationType::None
        );
        assert_eq!(
            authorization("none", true).expect("valid"),
            AuthorizationType::None
        );
        assert!(authorization("jwt", true).is_err());
    }
}
