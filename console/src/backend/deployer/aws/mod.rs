//! The AWS deployer: the predictor on Lambda behind an API Gateway HTTP API.
//!
//! A deploy is a sequence of idempotent steps, each printed as it runs: execution role, bucket,
//! log group, function code and configuration, a published version, a smoke test of that
//! version, then the alias `live` moves (optionally through a canary weight) and the HTTP API is
//! made to point at the alias. Traffic only ever reaches a version that passed the smoke test,
//! the API's URL never changes, and a rollback is just moving the alias back.

mod alias;
mod api;
mod bucket;
pub mod canary;
mod deploy;
pub mod ecr;
pub mod errors;
mod function;
mod iam;
pub mod image;
mod logs;
pub mod package;
mod record;
mod routes;
mod smoke;
mod status;
mod teardown;
mod versions;

use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;

pub use record::DeployRecord;
pub use teardown::DestroyOptions;

use super::{
    CandidateModel, DeployError, DeployInfo, DeployReport, DeployRequest, Deployer, Production,
    RollbackPlan, Source,
};
use crate::config::AwsConfig;
use errors::Call;
use package::Candidate;

/// SDK clients and settings of one AWS account and region.
pub struct AwsDeployer {
    settings: AwsConfig,
    region: String,
    root: PathBuf,
    lambda: aws_sdk_lambda::Client,
    apigw: aws_sdk_apigatewayv2::Client,
    iam: aws_sdk_iam::Client,
    s3: aws_sdk_s3::Client,
    sts: aws_sdk_sts::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    account: tokio::sync::OnceCell<String>,
}

/// A progress line sink.
pub type Progress<'a> = &'a (dyn Fn(String) + Send + Sync);

impl AwsDeployer {
    /// Loads credentials and region (profile and region from `settings`, else the standard AWS
    /// chain and `AWS_ENDPOINT_URL*`). `root` (the project root) holds `deploy.json`.
    pub async fn connect(settings: &AwsConfig, root: &Path) -> Result<AwsDeployer, DeployError> {
        let config = predictor::aws::sdk_config_with(
            settings.profile.as_deref(),
            settings.region.as_deref(),
        )
        .await;
        AwsDeployer::from_sdk(settings, root, &config)
    }

    /// A deployer with the clients of an SDK configuration already loaded.
    pub fn from_sdk(
        settings: &AwsConfig,
        root: &Path,
        config: &aws_config::SdkConfig,
    ) -> Result<AwsDeployer, DeployError> {
        let region = config
            .region()
            .map(|r| r.to_string())
            .ok_or(DeployError::NoRegion)?;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(config)
                .force_path_style(
                    predictor::aws::custom_endpoint() || config.endpoint_url().is_some(),
                )
                .build(),
        );
        Ok(AwsDeployer {
            settings: settings.clone(),
            region,
            root: root.to_path_buf(),
            lambda: aws_sdk_lambda::Client::new(config),
            apigw: aws_sdk_apigatewayv2::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            s3,
            sts: aws_sdk_sts::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            account: tokio::sync::OnceCell::new(),
        })
    }

    /// The region in use.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The account id of the credentials (asked once).
    async fn account(&self) -> Result<&str, DeployError> {
        self.account
            .get_or_try_init(|| async {
                let identity = self.sts.get_caller_identity().send().await.map_err(|e| {
                    errors::aws_error(
                        &Call::new(
                            "identify the AWS account (sts get-caller-identity)",
                            "sts:GetCallerIdentity",
                            "*",
                        ),
                        &e,
                    )
                })?;
                identity
                    .account()
                    .map(str::to_string)
                    .ok_or_else(|| DeployError::incomplete("sts get-caller-identity", "account id"))
            })
            .await
            .map(String::as_str)
    }

    /// `aws`, `aws-cn` or `aws-us-gov`, from the region.
    fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// The function's ARN, from names alone.
    async fn function_arn(&self) -> Result<String, DeployError> {
        Ok(format!(
            "arn:{}:lambda:{}:{}:function:{}",
            self.partition(),
            self.region,
            self.account().await?,
            self.settings.function
        ))
    }

    /// The function's ARN for messages, without asking AWS (`*` for an account not known yet).
    fn function_resource(&self) -> String {
        let account = self.account.get().map(String::as_str).unwrap_or("*");
        format!(
            "arn:{}:lambda:{}:{account}:function:{}",
            self.partition(),
            self.region,
            self.settings.function
        )
    }

    /// `deploy.json` at the project root.
    pub fn record_path(&self) -> PathBuf {
        self.root.join(record::RECORD_FILE)
    }

    /// What a request ships: the zip, the zip holding exactly a model file, or an image.
    pub fn candidate_of(&self, request: &DeployRequest) -> Result<Candidate, DeployError> {
        match &request.source {
            Source::Package { package, .. } => Candidate::from_zip(package),
            Source::Image { package, model } => Candidate::from_image(
                &package::package_dir(package).join(package::IMAGE_RECORD_FILE),
                model,
            ),
            Source::Model { model, package } => {
                let candidate = Candidate::from_zip(package)?;
                let bytes =
                    std::fs::read(model).map_err(|e| DeployError::file("read", model, e))?;
                let sha = core_model::digest::sha256_hex(&bytes);
                if sha != candidate.model_sha256 {
                    return Err(DeployError::Mismatch {
                        holder: package.display().to_string(),
                        holds: candidate.model_id,
                        model: model.clone(),
                        is: sha.get(..12).unwrap_or(&sha).to_string(),
                        fix: "run `amesops --target aws package` (or dvc repro) to package it",
                    });
                }
                Ok(candidate)
            }
        }
    }
}

impl Deployer for AwsDeployer {
    fn status(&self) -> BoxFuture<'_, Result<DeployInfo, DeployError>> {
        Box::pin(async move { Ok(self.inspect(false).await?.info) })
    }

    fn production(&self) -> BoxFuture<'_, Result<Production, DeployError>> {
        Box::pin(async move { self.live_production().await })
    }

    fn candidate<'a>(
        &'a self,
        request: &'a DeployRequest,
    ) -> BoxFuture<'a, Result<CandidateModel, DeployError>> {
        Box::pin(async move {
            let candidate = self.candidate_of(request)?;
            Ok(CandidateModel {
                model_id: candidate.model_id.clone(),
                sha256: candidate.model_sha256.clone(),
                origin: candidate.origin.clone(),
                bytes: candidate.model,
            })
        })
    }

    fn deploy<'a>(
        &'a self,
        request: &'a DeployRequest,
        expected_sha256: &'a str,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move {
            let candidate = self.candidate_of(request)?;
            if candidate.model_sha256 != expected_sha256 {
                return Err(DeployError::CandidateChanged {
                    origin: candidate.origin,
                    model_id: candidate.model_id,
                });
            }
            self.deploy_candidate(&candidate, &request.options, progress)
                .await
        })
    }

    fn plan_rollback<'a>(
        &'a self,
        to: Option<&'a str>,
    ) -> BoxFuture<'a, Result<RollbackPlan, DeployError>> {
        Box::pin(async move { self.plan_roll_back(to).await })
    }

    fn rollback<'a>(
        &'a self,
        plan: &'a RollbackPlan,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move { self.roll_back(plan, progress).await })
    }

    fn canary(&self) -> Option<&dyn crate::backend::deployer::canary::CanaryControl> {
        Some(self)
    }

    fn url(&self) -> String {
        DeployRecord::read(&self.record_path())
            .ok()
            .flatten()
            .map(|r| r.url)
            .unwrap_or_default()
    }
}
