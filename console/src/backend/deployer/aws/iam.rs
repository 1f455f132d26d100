//! The function's execution role: trusted by Lambda only, allowed to write prediction records
//! to the bucket and log lines to its log group, and nothing else.

use serde_json::{Value, json};

use super::errors::{Call, aws_error};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// Tag marking resources this tool created (destroy only removes those).
pub const MANAGED_TAG: &str = "amesops:managed";
/// The inline policy's name.
pub const POLICY_NAME: &str = "amesops-predictor";

/// The permissions boundary's policy name (`<function>-boundary`).
pub fn boundary_name(function: &str) -> String {
    let name = format!("{function}-boundary");
    name.chars().take(128).collect()
}

/// The role a deploy creates when `aws.role_arn` is not set.
pub fn role_name(function: &str) -> String {
    let name = format!("{function}-role");
    name.chars().take(64).collect()
}

/// Who may assume the role: the Lambda service.
pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "lambda.amazonaws.com" },
            "Action": "sts:AssumeRole"
        }]
    })
}

/// What the function may do: put prediction records, write its logs.
pub fn role_policy(
    partition: &str,
    region: &str,
    account: &str,
    bucket: &str,
    log_group: &str,
) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StorePredictionRecords",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [format!("arn:{partition}:s3:::{bucket}/predictions/*")]
            },
            {
                "Sid": "WriteLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [format!("arn:{partition}:logs:{region}:{account}:log-group:{log_group}:*")]
            }
        ]
    })
}

impl AwsDeployer {
    /// The execution role's ARN: the configured one, or the managed role (created or updated).
    pub(super) async fn ensure_role(&self, progress: Progress<'_>) -> Result<String, DeployError> {
        if let Some(arn) = self.settings.role_arn.as_ref().filter(|a| !a.is_empty()) {
            progress(format!("execution role: {arn} (aws.role_arn)"));
            return Ok(arn.clone());
        }
        let name = role_name(&self.settings.function);
        let account = self.account().await?.to_string();
        let role_arn = format!("arn:{}:iam::{account}:role/{name}", self.partition());
        let boundary = self
            .settings
            .role_boundary_arn
            .clone()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "arn:{}:iam::{account}:policy/{}",
                    self.partition(),
                    boundary_name(&self.settings.function)
                )
            });
        let policy = role_policy(
            self.partition(),
            &self.region,
            &account,
            &self.settings.bucket,
            &self.settings.log_group(),
        );
        let arn = match self.iam.get_role().role_name(&name).send().await {
            Ok(found) => {
                // The deployer may only change a role that is held by the boundary.
                let bounded = found
                    .role()
                    .and_then(|r| r.permissions_boundary())
                    .and_then(|b| b.permissions_boundary_arn());
                if bounded != Some(boundary.as_str()) {
                    return Err(DeployError::RoleBoundary {
                        role: name.clone(),
                        found: bounded.map(str::to_string),
                        boundary: boundary.clone(),
                    });
                }
                progress(format!(
                    "execution role {name} exists (boundary {boundary})"
                ));
                found
                    .role()
                    .map(|r| r.arn().to_string())
                    .unwrap_or(role_arn.clone())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                progress(format!(
                    "creating execution role {name} (trusted by lambda.amazonaws.com, permissions boundary {boundary})"
                ));
                let tag = aws_sdk_iam::types::Tag::builder()
                    .key(MANAGED_TAG)
                    .value("true")
                    .build()
                    .map_err(|e| DeployError::Build {
                        what: "role tag",
                        reason: e.to_string(),
                    })?;
                let created = self
                    .iam
                    .create_role()
                    .role_name(&name)
                    .assume_role_policy_document(trust_policy().to_string())
                    .permissions_boundary(&boundary)
                    .description(format!(
                        "Execution role of the Lambda function {} (amesops)",
                        self.settings.function
                    ))
                    .tags(tag)
                    .send()
                    .await
                    .map_err(|e| {
                        aws_error(
                            &Call::new(
                                format!("create IAM role {name}"),
                                "iam:CreateRole",
                                &role_arn,
                            ),
                            &e,
                        )
                    })?;
                created
                    .role()
                    .map(|r| r.arn().to_string())
                    .unwrap_or(role_arn.clone())
            }
            Err(e) => {
                return Err(aws_error(
                    &Call::new(format!("read IAM role {name}"), "iam:GetRole", &role_arn),
                    &e,
                ));
            }
        };
        progress(format!(
            "role policy {POLICY_NAME}: s3:PutObject on {}/predictions/*, logs on {}",
            self.settings.bucket,
            self.settings.log_group()
        ));
        self.iam
            .put_role_policy()
            .role_name(&name)
            .policy_name(POLICY_NAME)
            .policy_document(policy.to_string())
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &Call::new(
                        format!("set the inline policy of IAM role {name}"),
                        "iam:PutRolePolicy",
                        &role_arn,
                    ),
                    &e,
                )
            })?;
        Ok(arn)
    }

    /// Deletes the managed role (its inline policies first) if this tool created it.
    pub(super) async fn delete_managed_role(
        &self,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        if self
            .settings
            .role_arn
            .as_ref()
            .is_some_and(|a| !a.is_empty())
        {
            progress("keeping the configured execution role (aws.role_arn)".to_string());
            return Ok(());
        }
        let name = role_name(&self.settings.function);
        let call = |action: &str, permission: &'static str| {
            Call::new(
                format!("{action} IAM role {name}"),
                permission,
                format!("role/{name}"),
            )
        };
        let role = match self.iam.get_role().role_name(&name).send().await {
            Ok(found) => found.role,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                return Ok(());
            }
            Err(e) => return Err(aws_error(&call("read", "iam:GetRole"), &e)),
        };
        let managed = role
            .as_ref()
            .is_some_and(|r| r.tags().iter().any(|t| t.key() == MANAGED_TAG));
        if !managed {
            let tags = self
                .iam
                .list_role_tags()
                .role_name(&name)
                .send()
                .await
                .map_err(|e| aws_error(&call("list the tags of", "iam:ListRoleTags"), &e))?;
            if !tags.tags().iter().any(|t| t.key() == MANAGED_TAG) {
                progress(format!(
                    "keeping IAM role {name}: it was not created by amesops"
                ));
                return Ok(());
            }
        }
        let policies = self
            .iam
            .list_role_policies()
            .role_name(&name)
            .send()
            .await
            .map_err(|e| aws_error(&call("list the policies of", "iam:ListRolePolicies"), &e))?;
        for policy in policies.policy_names() {
            self.iam
                .delete_role_policy()
                .role_name(&name)
                .policy_name(policy)
                .send()
                .await
                .map_err(|e| {
                    aws_error(
                        &call("delete an inline policy of", "iam:DeleteRolePolicy"),
                        &e,
                    )
                })?;
        }
        progress(format!("deleting IAM role {name}"));
        self.iam
            .delete_role()
            .role_name(&name)
            .send()
            .await
            .map_err(|e| aws_error(&call("delete", "iam:DeleteRole"), &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(text: &str) -> Value {
        serde_json::from_str(text).expect("the policy document is JSON")
    }

    #[test]
    fn the_published_trust_policy_is_the_one_deploy_uses() {
        assert_eq!(
            document(include_str!("../../../../../deploy/lambda-role-trust.json")),
            trust_policy()
        );
    }

    #[test]
    fn the_published_role_policy_is_the_one_deploy_uses() {
        let text = include_str!("../../../../../deploy/lambda-role-policy.json")
            .replace("${Partition}", "aws")
            .replace("${Region}", "eu-west-1")
            .replace("${Account}", "123456789012")
            .replace("${Bucket}", "b")
            .replace("${LogGroup}", "/aws/lambda/f");
        assert_eq!(
            document(&text),
            role_policy("aws", "eu-west-1", "123456789012", "b", "/aws/lambda/f")
        );
    }

    #[test]
    fn the_published_boundary_allows_no_more_than_the_role_policy() {
        let fill = |text: &str| {
            text.replace("${Partition}", "aws")
                .replace("${Region}", "eu-west-1")
                .replace("${Account}", "123456789012")
                .replace("${Bucket}", "b")
                .replace("${LogGroup}", "/aws/lambda/f")
        };
        let boundary = document(&fill(include_str!(
            "../../../../../deploy/lambda-role-boundary.json"
        )));
        assert_eq!(
            boundary["Statement"],
            role_policy("aws", "eu-west-1", "123456789012", "b", "/aws/lambda/f")["Statement"]
        );
        assert_eq!(
            boundary_name("amesops-predictor"),
            "amesops-predictor-boundary"
        );
    }

    #[test]
    fn the_role_grants_only_record_writes_and_logs() {
        let policy = role_policy("aws", "us-east-1", "1", "bucket", "/aws/lambda/f");
        let actions: Vec<&str> = policy["Statement"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s["Action"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            actions,
            ["s3:PutObject", "logs:CreateLogStream", "logs:PutLogEvents"]
        );
        assert_eq!(
            policy["Statement"][0]["Resource"][0],
            "arn:aws:s3:::bucket/predictions/*"
        );
        assert!(role_name(&"f".repeat(100)).len() <= 64);
    }
}
