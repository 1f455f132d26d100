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

pub use deploy::DeployOptions;
pub use record::DeployRecord;
pub use teardown::DestroyOptions;

use super::{DeployError, DeployInfo, DeployReport, Deployer};
use crate::config::AwsConfig;
use errors::Call;
use package::Candidate;

/// SDK clients and settings of one AWS account and region.
pub struct AwsDeployer {
    settings: AwsConfig,
    region: String,
    root: PathBuf,
    package: PathBuf,
    lambda: aws_sdk_lambda::Client,
    apigw: aws_sdk_apigatewayv2::Client,
    iam: aws_sdk_iam::Client,
    s3: aws_sdk_s3::Client,
    sts: aws_sdk_sts::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    account: tokio::sync::OnceCell<String>,
}

/// A progress line sink.
pub type Progress<'a> = &'a (dyn Fn(String) + Send + Sync);

impl AwsDeployer {
    /// Loads credentials and region (profile and region from `settings`, else the standard AWS
    /// chain and `AWS_ENDPOINT_URL*`). `root` holds `deploy.json`; `package` is the zip the
    /// trait's `deploy` ships when it is given a model file.
    pub async fn connect(
        settings: &AwsConfig,
        root: &Path,
        package: &Path,
    ) -> Result<AwsDeployer, DeployError> {
        let config = predictor::aws::sdk_config_with(
            settings.profile.as_deref(),
            settings.region.as_deref(),
        )
        .await;
        let region = config.region().map(|r| r.to_string()).ok_or_else(|| {
            DeployError("no AWS region is set: set aws.region in amesops.toml, AWS_REGION, or pass --region".to_string())
        })?;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(predictor::aws::custom_endpoint())
                .build(),
        );
        Ok(AwsDeployer {
            settings: settings.clone(),
            region,
            root: root.to_path_buf(),
            package: package.to_path_buf(),
            lambda: aws_sdk_lambda::Client::new(&config),
            apigw: aws_sdk_apigatewayv2::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            s3,
            sts: aws_sdk_sts::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
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
                identity.account().map(str::to_string).ok_or_else(|| {
                    DeployError("sts get-caller-identity returned no account id".to_string())
                })
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

    /// The candidate for the trait's `deploy(path)`: a zip as is; a model file must be the
    /// model inside the configured package.
    fn candidate_for(&self, path: &Path) -> Result<Candidate, DeployError> {
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        {
            return Candidate::from_zip(path);
        }
        let candidate = Candidate::from_zip(&self.package)?;
        let bytes = std::fs::read(path)
            .map_err(|e| DeployError(format!("cannot read {}: {e}", path.display())))?;
        let sha = core_model::digest::sha256_hex(&bytes);
        if sha != candidate.model_sha256 {
            return Err(DeployError(format!(
                "{} holds model {}, but {} is model {}: run `amesops --target aws package` (or dvc repro) to package it",
                self.package.display(),
                candidate.model_id,
                path.display(),
                sha.get(..12).unwrap_or(&sha)
            )));
        }
        Ok(candidate)
    }
}

impl Deployer for AwsDeployer {
    fn status(&self) -> BoxFuture<'_, Result<DeployInfo, DeployError>> {
        Box::pin(async move { Ok(self.inspect(false).await?.info) })
    }

    fn deploy<'a>(
        &'a self,
        model_path: &'a Path,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move {
            let candidate = self.candidate_for(model_path)?;
            self.deploy_candidate(&candidate, &DeployOptions::default(), progress)
                .await
        })
    }

    fn rollback<'a>(
        &'a self,
        to: Option<&'a str>,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(async move { self.roll_back(to, progress).await })
    }

    fn served_artifact(&self) -> BoxFuture<'_, Result<Vec<u8>, DeployError>> {
        Box::pin(async move { self.live_artifact().await })
    }

    fn url(&self) -> String {
        DeployRecord::read(&self.record_path())
            .ok()
            .flatten()
            .map(|r| r.url)
            .unwrap_or_default()
    }
}
