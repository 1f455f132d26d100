//! The Lambda function: create or update its code and configuration, wait for each update to
//! settle, delete it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Environment, FunctionCode, FunctionConfiguration, LastUpdateStatus, LogFormat, LoggingConfig,
    PackageType, Runtime, State,
};

use super::errors::{Call, aws_error};
use super::package::{Candidate, Code, TASK_MODEL_PATH};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::DeployError;

/// Longest wait for a code or configuration update to finish.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(300);
/// Longest wait for a new execution role to become assumable by Lambda.
const ROLE_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(90);

/// Everything a version is defined by, besides its code.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Execution role.
    pub role: String,
    /// Environment variables.
    pub env: HashMap<String, String>,
    /// Memory, MB.
    pub memory_mb: i32,
    /// Timeout, seconds.
    pub timeout_s: i32,
}

impl AwsDeployer {
    pub(super) fn function_call(&self, action: &str, permission: &'static str, arn: &str) -> Call {
        Call::new(
            format!("{action} Lambda function {}", self.settings.function),
            permission,
            arn,
        )
    }

    /// The environment of a version serving `candidate`.
    pub(super) fn environment(
        &self,
        candidate: &Candidate,
        log_level: &str,
    ) -> HashMap<String, String> {
        HashMap::from([
            ("MODEL_PATH".to_string(), TASK_MODEL_PATH.to_string()),
            ("MODEL_SHA256".to_string(), candidate.model_sha256.clone()),
            (
                "PREDICTIONS_BUCKET".to_string(),
                self.settings.bucket.clone(),
            ),
            ("AWS_LAMBDA_LOG_FORMAT".to_string(), "JSON".to_string()),
            ("LOG_LEVEL".to_string(), log_level.to_string()),
            // A stalled S3 write gives up well inside the function's timeout, so the reply
            // (stored: false) and the record's log line still happen.
            (
                "PREDICTIONS_STORE_TIMEOUT_MS".to_string(),
                store_timeout_ms(self.settings.timeout_s).to_string(),
            ),
        ])
    }

    fn logging(&self) -> LoggingConfig {
        LoggingConfig::builder()
            .log_format(LogFormat::Json)
            .log_group(self.settings.log_group())
            .build()
    }

    /// The function's `$LATEST` configuration, or `None` when there is no function.
    pub(super) async fn function(&self) -> Result<Option<FunctionConfiguration>, DeployError> {
        let arn = self.function_resource();
        match self
            .lambda
            .get_function_configuration()
            .function_name(&self.settings.function)
            .send()
            .await
        {
            Ok(found) => Ok(Some(configuration_of(found))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error(
                &self.function_call("read", "lambda:GetFunctionConfiguration", &arn),
                &e,
            )),
        }
    }

    /// Creates the function (unpublished) and waits until it is active.
    pub(super) async fn create_function(
        &self,
        candidate: &Candidate,
        settings: &Settings,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        let arn = self.function_resource();
        progress(format!(
            "creating Lambda function {} ({}, {} MB, {} s)",
            self.settings.function, candidate.arch, settings.memory_mb, settings.timeout_s
        ));
        let started = Instant::now();
        loop {
            let mut create = self
                .lambda
                .create_function()
                .function_name(&self.settings.function)
                .role(&settings.role)
                .architectures(candidate.arch.lambda())
                .memory_size(settings.memory_mb)
                .timeout(settings.timeout_s)
                .environment(environment(&settings.env))
                .logging_config(self.logging())
                .description("Ames house-price predictor (amesops)")
                .tags(super::iam::MANAGED_TAG, "true")
                .publish(false);
            create = match &candidate.code {
                Code::Zip(bytes) => create
                    .package_type(PackageType::Zip)
                    .runtime(Runtime::Providedal2023)
                    .handler("bootstrap")
                    .code(
                        FunctionCode::builder()
                            .zip_file(Blob::new(bytes.clone()))
                            .build(),
                    ),
                Code::Image(uri) => create
                    .package_type(PackageType::Image)
                    .code(FunctionCode::builder().image_uri(uri).build()),
            };
            match create.send().await {
                Ok(_) => break,
                Err(e)
                    if e.as_service_error().is_some_and(|s| {
                        s.is_invalid_parameter_value_exception()
                            && aws_sdk_lambda::error::ProvideErrorMetadata::message(s)
                                .is_some_and(|m| m.contains("cannot be assumed"))
                    }) && started.elapsed() < ROLE_PROPAGATION_TIMEOUT =>
                {
                    progress("waiting for the new execution role to reach Lambda".to_string());
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                Err(e) => {
                    return Err(aws_error(
                        &self.function_call("create", "lambda:CreateFunction", &arn),
                        &e,
                    ));
                }
            }
        }
        self.wait_for_update(progress).await
    }

    /// Uploads new code to `$LATEST` and waits for the update.
    pub(super) async fn update_code(
        &self,
        candidate: &Candidate,
        current: &FunctionConfiguration,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        let arn = self.function_resource();
        let is_image = matches!(candidate.code, Code::Image(_));
        let function_is_image = current.package_type() == Some(&PackageType::Image);
        if is_image != function_is_image {
            return Err(DeployError::Lambda {
                function: self.settings.function.clone(),
                problem: format!(
                    "is a {} function and cannot take a {}: run `amesops destroy` first, or set another aws.function",
                    if function_is_image {
                        "container image"
                    } else {
                        "zip"
                    },
                    if is_image {
                        "container image"
                    } else {
                        "zip package"
                    },
                ),
            });
        }
        if !current.architectures().contains(&candidate.arch.lambda()) {
            progress(format!("switching the architecture to {}", candidate.arch));
        }
        let update = self
            .lambda
            .update_function_code()
            .function_name(&self.settings.function)
            .architectures(candidate.arch.lambda())
            .publish(false);
        let update = match &candidate.code {
            Code::Zip(bytes) => {
                progress(format!(
                    "uploading {} ({:.1} MB)",
                    candidate.origin,
                    bytes.len() as f64 / 1e6
                ));
                update.zip_file(Blob::new(bytes.clone()))
            }
            Code::Image(uri) => {
                progress(format!("pointing the function at image {uri}"));
                update.image_uri(uri)
            }
        };
        update.send().await.map_err(|e| {
            aws_error(
                &self.function_call("update the code of", "lambda:UpdateFunctionCode", &arn),
                &e,
            )
        })?;
        self.wait_for_update(progress).await
    }

    /// Sets role, memory, timeout, environment and logging of `$LATEST`, and waits.
    pub(super) async fn update_configuration(
        &self,
        settings: &Settings,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        let arn = self.function_resource();
        progress(format!(
            "configuring {} MB, {} s, model {}",
            settings.memory_mb,
            settings.timeout_s,
            settings
                .env
                .get("MODEL_SHA256")
                .map(|s| s.get(..12).unwrap_or(s))
                .unwrap_or("?")
        ));
        self.lambda
            .update_function_configuration()
            .function_name(&self.settings.function)
            .role(&settings.role)
            .memory_size(settings.memory_mb)
            .timeout(settings.timeout_s)
            .environment(environment(&settings.env))
            .logging_config(self.logging())
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.function_call("configure", "lambda:UpdateFunctionConfiguration", &arn),
                    &e,
                )
            })?;
        self.wait_for_update(progress).await
    }

    /// Polls until the function is active and its last update succeeded.
    async fn wait_for_update(&self, progress: Progress<'_>) -> Result<(), DeployError> {
        let arn = self.function_resource();
        let started = Instant::now();
        let mut told = false;
        loop {
            let current = self
                .lambda
                .get_function_configuration()
                .function_name(&self.settings.function)
                .send()
                .await
                .map_err(|e| {
                    aws_error(
                        &self.function_call("read", "lambda:GetFunctionConfiguration", &arn),
                        &e,
                    )
                })?;
            let state = current.state().cloned();
            let update = current.last_update_status().cloned();
            if state == Some(State::Failed) || update == Some(LastUpdateStatus::Failed) {
                let reason = current
                    .last_update_status_reason()
                    .or(current.state_reason())
                    .unwrap_or("no reason given");
                return Err(DeployError::Lambda {
                    function: self.settings.function.clone(),
                    problem: format!("failed to update: {reason}"),
                });
            }
            let settled = matches!(state, None | Some(State::Active) | Some(State::Inactive))
                && matches!(update, None | Some(LastUpdateStatus::Successful));
            if settled {
                return Ok(());
            }
            if started.elapsed() > UPDATE_TIMEOUT {
                return Err(DeployError::Lambda {
                    function: self.settings.function.clone(),
                    problem: format!(
                        "is still updating after {} s (state {state:?}, last update {update:?}); run the deploy again later",
                        UPDATE_TIMEOUT.as_secs()
                    ),
                });
            }
            if !told {
                progress("waiting for LastUpdateStatus = Successful".to_string());
                told = true;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    }

    /// Deletes the function with all its versions and aliases.
    pub(super) async fn delete_function(&self, progress: Progress<'_>) -> Result<(), DeployError> {
        let arn = self.function_resource();
        match self
            .lambda
            .delete_function()
            .function_name(&self.settings.function)
            .send()
            .await
        {
            Ok(_) => {
                progress(format!(
                    "deleted Lambda function {} with its versions, alias and invoke permissions",
                    self.settings.function
                ));
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(aws_error(
                &self.function_call("delete", "lambda:DeleteFunction", &arn),
                &e,
            )),
        }
    }
}

/// The output of GetFunctionConfiguration as a `FunctionConfiguration`.
pub(super) fn configuration_of(
    output: aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput,
) -> FunctionConfiguration {
    FunctionConfiguration::builder()
        .set_function_name(output.function_name)
        .set_function_arn(output.function_arn)
        .set_role(output.role)
        .set_description(output.description)
        .set_timeout(output.timeout)
        .set_memory_size(output.memory_size)
        .set_last_modified(output.last_modified)
        .set_code_sha256(output.code_sha256)
        .set_version(output.version)
        .set_environment(output.environment)
        .set_state(output.state)
        .set_state_reason(output.state_reason)
        .set_last_update_status(output.last_update_status)
        .set_last_update_status_reason(output.last_update_status_reason)
        .set_package_type(output.package_type)
        .set_architectures(output.architectures)
        .build()
}

/// The function's environment variables, the same on create and on update.
fn environment(variables: &std::collections::HashMap<String, String>) -> Environment {
    Environment::builder()
        .set_variables(Some(variables.clone()))
        .build()
}

/// The record store's time limit for a function timeout of `timeout_s`: a third of it, at most
/// 3 s (the predictor's default), at least 200 ms.
pub fn store_timeout_ms(timeout_s: i32) -> u64 {
    let third = u64::try_from(timeout_s).unwrap_or(0) * 1000 / 3;
    third.clamp(200, 3000)
}
