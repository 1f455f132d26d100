//! The deploy and rollback sequences.

use super::alias::AliasState;
use super::function::Settings;
use super::package::Candidate;
use super::record::{DeployRecord, now};
use super::smoke::expectation;
use super::versions::{served_sha256, version_matches};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::{
    DeployError, DeployOptions, DeployReport, Production, RollbackPlan, Served,
};

impl AwsDeployer {
    /// The refusal of an action that needs the alias, when there is none.
    pub(super) fn no_alias(&self, nothing: &'static str) -> DeployError {
        DeployError::NoAlias {
            function: self.settings.function.clone(),
            alias: self.settings.alias.clone(),
            nothing,
        }
    }

    /// Deploys `candidate`: role, bucket, log group, function, version, smoke test, alias, API.
    pub async fn deploy_candidate(
        &self,
        candidate: &Candidate,
        options: &DeployOptions,
        progress: Progress<'_>,
    ) -> Result<DeployReport, DeployError> {
        if let Some(percent) = options.canary
            && !(percent > 0.0 && percent < 100.0)
        {
            return Err(DeployError::CanaryPercent { percent });
        }
        progress(format!(
            "deploying model {} ({}) to Lambda function {} in {}",
            candidate.model_id, candidate.origin, self.settings.function, self.region
        ));
        let expected = expectation(&candidate.model)?;
        let role = self.ensure_role(progress).await?;
        self.ensure_bucket(progress).await?;
        self.ensure_log_group(progress).await?;
        self.store_model_copy(&candidate.model_sha256, &candidate.model, progress)
            .await?;
        let settings = Settings {
            role,
            env: self.environment(candidate, options.log_level.as_deref().unwrap_or("info")),
            memory_mb: self.settings.memory_mb,
            timeout_s: self.settings.timeout_s,
        };

        let (alias, existing) = match self.function().await? {
            None => {
                self.create_function(candidate, &settings, progress).await?;
                (None, None)
            }
            Some(latest) => {
                progress(format!("Lambda function {} exists", self.settings.function));
                (self.alias().await?, Some(latest))
            }
        };
        let versions = if existing.is_some() {
            self.versions().await?
        } else {
            Vec::new()
        };
        let reusable = versions
            .iter()
            .rev()
            .find(|v| version_matches(v, candidate, &settings))
            .and_then(|v| v.version())
            .map(str::to_string);
        let version = match (reusable, &existing) {
            (Some(version), _) => {
                let serving = alias
                    .as_ref()
                    .is_some_and(|a| a.version == version && a.routing.is_none());
                if serving && options.canary.is_none() {
                    progress(format!(
                        "version {version} already serves model {} from this package: nothing to publish",
                        candidate.model_id
                    ));
                    let Some(alias) = alias else {
                        return Err(DeployError::AliasGone);
                    };
                    return self
                        .finish(candidate, &version, &alias, false, progress)
                        .await;
                }
                progress(format!(
                    "version {version} already holds this package and settings: reusing it"
                ));
                version
            }
            (None, Some(latest)) => {
                let same_code = candidate
                    .code_sha256()
                    .is_some_and(|sha| latest.code_sha256() == Some(sha.as_str()));
                if same_code {
                    progress("the function's code is already this package".to_string());
                } else {
                    self.update_code(candidate, latest, progress).await?;
                }
                self.update_configuration(&settings, progress).await?;
                self.publish(candidate, progress).await?
            }
            (None, None) => self.publish(candidate, progress).await?,
        };

        self.smoke_test(&version, &expected, progress).await?;

        let alias = match (options.canary, alias) {
            (Some(percent), Some(current)) if current.version != version => {
                self.set_canary(&version, percent, &current, progress)
                    .await?;
                let api = self.ensure_api(&current.arn, progress).await?;
                progress(format!(
                    "canary running: {percent}% of {} goes to version {version}; run `amesops deploy` again to send all traffic, or `amesops rollback` to stop it",
                    api.url
                ));
                return Ok(DeployReport {
                    version,
                    model_id: candidate.model_id.clone(),
                    url: api.url,
                    changed: true,
                });
            }
            (Some(_), None) => {
                progress("first deploy: there is no live version to share traffic with, so the alias takes all of it".to_string());
                self.move_alias(&version, None, progress).await?
            }
            (_, current) => {
                self.move_alias(&version, current.as_ref(), progress)
                    .await?
            }
        };
        self.finish(candidate, &version, &alias, true, progress)
            .await
    }

    /// Makes the API point at the alias and writes `deploy.json`.
    async fn finish(
        &self,
        candidate: &Candidate,
        version: &str,
        alias: &AliasState,
        changed: bool,
        progress: Progress<'_>,
    ) -> Result<DeployReport, DeployError> {
        let api = self.ensure_api(&alias.arn, progress).await?;
        let record = DeployRecord {
            target: "aws".to_string(),
            region: Some(self.region.clone()),
            function: self.settings.function.clone(),
            function_arn: Some(self.function_arn().await?),
            version: version.to_string(),
            alias: self.settings.alias.clone(),
            api_id: Some(api.id.clone()),
            url: api.url.clone(),
            model_id: candidate.model_id.clone(),
            model_sha256: Some(candidate.model_sha256.clone()),
            time: now(),
        };
        record.write(&self.record_path())?;
        progress(format!("wrote {}", self.record_path().display()));
        Ok(DeployReport {
            version: version.to_string(),
            model_id: candidate.model_id.clone(),
            url: api.url,
            changed,
        })
    }

    /// Where a rollback to `to` (or to the version before the current one) goes; a running
    /// canary is simply stopped.
    pub(super) async fn plan_roll_back(
        &self,
        to: Option<&str>,
    ) -> Result<RollbackPlan, DeployError> {
        let current = self
            .alias()
            .await?
            .ok_or_else(|| self.no_alias("roll back"))?;
        let canary = current.routing.as_ref().map(|(version, _)| version.clone());
        let target = match to {
            Some(version) => version.trim_start_matches('v').to_string(),
            None if canary.is_some() => current.version.clone(),
            None => match current.previous.clone().filter(|p| *p != current.version) {
                Some(previous) => previous,
                None => {
                    let live: u64 = current.version.parse().unwrap_or(0);
                    self.versions()
                        .await?
                        .iter()
                        .filter_map(|v| v.version().and_then(|n| n.parse::<u64>().ok()))
                        .filter(|n| *n < live)
                        .max()
                        .map(|n| n.to_string())
                        .ok_or_else(|| DeployError::NothingToRollBack {
                            version: live.to_string(),
                        })?
                }
            },
        };
        if target.parse::<u64>().is_err() {
            return Err(DeployError::NotAVersion { value: target });
        }
        let model_of = |config: &aws_sdk_lambda::types::FunctionConfiguration| {
            served_sha256(config)
                .map(|sha| sha.chars().take(12).collect::<String>())
                .unwrap_or_else(|| "?".to_string())
        };
        let stops_canary = canary.is_some() && target == current.version;
        let from_version = match (&canary, stops_canary) {
            (Some(version), true) => version.clone(),
            _ => current.version.clone(),
        };
        let from_model = model_of(&self.version(&from_version).await?);
        let to_model = model_of(&self.version(&target).await?);
        Ok(RollbackPlan {
            from_version,
            from_model,
            to_version: target,
            to_model,
            stops_canary,
        })
    }

    /// Carries out a rollback plan: the alias moves back (all traffic), `deploy.json` follows.
    pub(super) async fn roll_back(
        &self,
        plan: &RollbackPlan,
        progress: Progress<'_>,
    ) -> Result<DeployReport, DeployError> {
        let current = self
            .alias()
            .await?
            .ok_or_else(|| self.no_alias("roll back"))?;
        let serving = current
            .routing
            .as_ref()
            .filter(|_| plan.stops_canary)
            .map(|(version, _)| version.as_str())
            .unwrap_or(current.version.as_str());
        if serving != plan.from_version {
            return Err(DeployError::AliasMoved {
                alias: self.settings.alias.clone(),
                version: plan.from_version.clone(),
            });
        }
        if plan.stops_canary {
            progress(format!(
                "stopping the canary: all traffic back to version {}",
                plan.to_version
            ));
        }
        let target = plan.to_version.clone();
        let config = self.version(&target).await?;
        let sha = served_sha256(&config).unwrap_or_default();
        let model_id = sha.get(..12).unwrap_or(&sha).to_string();
        let alias = self.move_alias(&target, Some(&current), progress).await?;
        let api = self.api_info().await?;
        let url = api.as_ref().map(|a| a.url.clone()).unwrap_or_default();
        let record = DeployRecord {
            target: "aws".to_string(),
            region: Some(self.region.clone()),
            function: self.settings.function.clone(),
            function_arn: Some(self.function_arn().await?),
            version: alias.version.clone(),
            alias: self.settings.alias.clone(),
            api_id: api.map(|a| a.id),
            url: url.clone(),
            model_id: model_id.clone(),
            model_sha256: Some(sha),
            time: now(),
        };
        record.write(&self.record_path())?;
        Ok(DeployReport {
            version: target,
            model_id,
            url,
            changed: true,
        })
    }

    /// What the alias serves, read back and verified: `Nothing` only when AWS answers that the
    /// function or its alias does not exist; anything else that cannot be proven (a failed
    /// call, a version without `MODEL_SHA256`, a missing or different model copy) is an error.
    pub(super) async fn live_production(&self) -> Result<Production, DeployError> {
        let Some(alias) = self.alias().await? else {
            return Ok(Production::Nothing);
        };
        let config = self.version(&alias.version).await?;
        let sha = served_sha256(&config).ok_or_else(|| DeployError::Unverifiable {
            reason: format!(
                "version {} behind alias {} has no MODEL_SHA256: it was not deployed by amesops, so what it serves cannot be verified",
                alias.version, self.settings.alias
            ),
        })?;
        let artifact = self.model_copy(&sha).await?;
        let found = core_model::digest::sha256_hex(&artifact);
        if found != sha {
            return Err(DeployError::Altered {
                what: format!("the model copy of version {}", alias.version),
                found,
                recorded: format!("the version serves {sha}"),
            });
        }
        Ok(Production::Serving(Served {
            version: alias.version,
            model_id: sha.chars().take(12).collect(),
            artifact,
        }))
    }
}
