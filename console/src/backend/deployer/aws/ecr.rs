//! The ECR side of an image push: the repository (created when missing) and a registry login
//! from `GetAuthorizationToken` (base64 of `AWS:<password>`, valid 12 hours).

use base64::Engine;

use super::errors::{Call, aws_error};
use crate::backend::deployer::DeployError;

/// Registry credentials.
#[derive(Clone)]
pub struct Login {
    /// Registry host (`<account>.dkr.ecr.<region>.amazonaws.com`).
    pub registry: String,
    /// User name (`AWS`).
    pub username: String,
    /// Password.
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Why an ECR authorization token could not be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not base64.
    #[error("the ECR token is not base64 ({0})")]
    NotBase64(String),
    /// Decodes to bytes that are not UTF-8.
    #[error("the ECR token is not text")]
    NotText,
    /// No `:` between user name and password.
    #[error("the ECR token is not USER:PASSWORD")]
    NoSeparator,
    /// One side of the `:` is empty.
    #[error("the ECR token has an empty user or password")]
    Empty,
}

/// Splits an ECR authorization token into user name and password.
pub fn decode_token(token: &str) -> Result<(String, String), TokenError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|e| TokenError::NotBase64(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| TokenError::NotText)?;
    let (user, password) = text.split_once(':').ok_or(TokenError::NoSeparator)?;
    if user.is_empty() || password.is_empty() {
        return Err(TokenError::Empty);
    }
    Ok((user.to_string(), password.to_string()))
}

/// The host part of a proxy endpoint (`https://host` → `host`).
pub fn registry_host(endpoint: &str) -> String {
    endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string()
}

/// Creates the repository when missing (scan on push); returns its URI.
pub async fn ensure_repository(
    ecr: &aws_sdk_ecr::Client,
    name: &str,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<String, DeployError> {
    let call = |action: &str, permission: &'static str| {
        Call::new(
            format!("{action} ECR repository {name}"),
            permission,
            format!("repository/{name}"),
        )
    };
    match ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await
    {
        Ok(found) => {
            if let Some(uri) = found
                .repositories()
                .first()
                .and_then(|r| r.repository_uri())
            {
                progress(format!("ECR repository {name} exists"));
                return Ok(uri.to_string());
            }
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_repository_not_found_exception()) => {}
        Err(e) => return Err(aws_error(&call("read", "ecr:DescribeRepositories"), &e)),
    }
    progress(format!("creating ECR repository {name}"));
    let created = ecr
        .create_repository()
        .repository_name(name)
        .image_scanning_configuration(
            aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .send()
        .await
        .map_err(|e| aws_error(&call("create", "ecr:CreateRepository"), &e))?;
    created
        .repository()
        .and_then(|r| r.repository_uri())
        .map(str::to_string)
        .ok_or_else(|| DeployError::incomplete("CreateRepository", &format!("URI for {name}")))
}

/// Logs in to the account's registry.
pub async fn login(ecr: &aws_sdk_ecr::Client) -> Result<Login, DeployError> {
    let call = Call::new(
        "log in to ECR (get-authorization-token)",
        "ecr:GetAuthorizationToken",
        "*",
    );
    let output = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|e| aws_error(&call, &e))?;
    let data = output
        .authorization_data()
        .first()
        .ok_or_else(|| DeployError::incomplete("ECR", "authorization data"))?;
    let token = data
        .authorization_token()
        .ok_or_else(|| DeployError::incomplete("ECR", "authorization token"))?;
    let (username, password) = decode_token(token).map_err(|e| DeployError::Aws {
        action: call.action.clone(),
        permission: call.permission,
        resource: call.resource.clone(),
        code: None,
        explanation: format!("cannot log in to ECR: {e}"),
    })?;
    let registry = data
        .proxy_endpoint()
        .map(registry_host)
        .ok_or_else(|| DeployError::incomplete("ECR", "registry endpoint"))?;
    Ok(Login {
        registry,
        username,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decode_to_user_and_password() {
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:secret:with:colons");
        assert_eq!(
            decode_token(&token).expect("valid"),
            ("AWS".to_string(), "secret:with:colons".to_string())
        );
        assert!(decode_token("not base64!").is_err());
        assert_eq!(
            decode_token(&base64::engine::general_purpose::STANDARD.encode("no-colon")),
            Err(TokenError::NoSeparator)
        );
    }

    #[test]
    fn the_registry_host_drops_the_scheme() {
        assert_eq!(
            registry_host("https://123.dkr.ecr.eu-west-1.amazonaws.com"),
            "123.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
    }
}
