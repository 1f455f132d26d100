//! The canary's CloudWatch alarms, its request count, the replay of stored requests through
//! its version, and the move of all traffic to it.
//!
//! Alarms, per canary version (`<function>-canary-v<N>-<what>`), all treating missing data as
//! not breaching (a quiet canary is judged by its request count, not by an alarm):
//! - `errors`, `throttles`: Lambda `Errors` / `Throttles` (Sum) by `FunctionName`,
//!   `Resource` (`function:alias`) and `ExecutedVersion`, the dimensions Lambda publishes for
//!   requests through an alias;
//! - `duration-p99`: Lambda `Duration`, extended statistic `p99`, same dimensions;
//! - `not-stored`: the predictor's EMF `not_stored` (Average = the share of predictions whose
//!   record was not stored) in namespace `amesops` by `model_id`;
//! - `price-shift`: the predictor's EMF `price_shift` (Average = the mean absolute relative
//!   shift of the predicted price against the old version's price for the same house).

use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, StandardUnit, StateValue, Statistic,
};
use aws_sdk_lambda::primitives::Blob;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::errors::{Call, aws_error};
use super::smoke::parse_reply;
use super::{AwsDeployer, Progress};
use crate::backend::deployer::canary::{AlarmPlan, AlarmState, CanaryControl, Replayed, Routing};
use crate::backend::deployer::{CanaryStep, DeployError, DeployReport, RollbackPlan};

/// The Lambda metrics namespace.
const LAMBDA_NAMESPACE: &str = "AWS/Lambda";

/// Replayed requests in flight at once.
const REPLAY_CONCURRENCY: usize = 8;

/// One alarm to create.
struct Spec {
    suffix: &'static str,
    namespace: &'static str,
    metric: &'static str,
    dimensions: Vec<(String, String)>,
    statistic: Option<Statistic>,
    extended: Option<&'static str>,
    threshold: f64,
    unit: Option<StandardUnit>,
}

/// The name of one alarm of the canary `version` of `function`.
pub fn alarm_name(function: &str, version: &str, suffix: &str) -> String {
    format!("{function}-canary-v{version}-{suffix}")
}

/// A replayed `POST /predict`: an API Gateway (payload 2.0) event marked as a canary replay,
/// carrying the old version's price of the same house.
pub fn replay_event(house: &Value, baseline_price: Option<f64>) -> Value {
    let mut event = super::smoke::gateway_event("POST", "/predict", Some(house));
    event["requestContext"]["apiId"] = json!(predictor::record::CANARY_REPLAY_API_ID);
    event["headers"]["user-agent"] = json!("amesops-canary-replay");
    if let Some(price) = baseline_price {
        event["headers"][predictor::record::BASELINE_PRICE_HEADER] = json!(price.to_string());
    }
    event
}

impl AwsDeployer {
    fn specs(&self, plan: &AlarmPlan) -> Vec<Spec> {
        let t = &plan.thresholds;
        let lambda = vec![
            ("FunctionName".to_string(), self.settings.function.clone()),
            (
                "Resource".to_string(),
                format!("{}:{}", self.settings.function, self.settings.alias),
            ),
            ("ExecutedVersion".to_string(), plan.version.clone()),
        ];
        let model = vec![("model_id".to_string(), plan.model_id.clone())];
        vec![
            Spec {
                suffix: "errors",
                namespace: LAMBDA_NAMESPACE,
                metric: "Errors",
                dimensions: lambda.clone(),
                statistic: Some(Statistic::Sum),
                extended: None,
                threshold: t.max_errors,
                unit: None,
            },
            Spec {
                suffix: "throttles",
                namespace: LAMBDA_NAMESPACE,
                metric: "Throttles",
                dimensions: lambda.clone(),
                statistic: Some(Statistic::Sum),
                extended: None,
                threshold: t.max_throttles,
                unit: None,
            },
            Spec {
                suffix: "duration-p99",
                namespace: LAMBDA_NAMESPACE,
                metric: "Duration",
                dimensions: lambda,
                statistic: None,
                extended: Some("p99"),
                threshold: t.max_p99_duration_ms,
                unit: Some(StandardUnit::Milliseconds),
            },
            Spec {
                suffix: "not-stored",
                namespace: predictor::emf::NAMESPACE,
                metric: "not_stored",
                dimensions: model.clone(),
                statistic: Some(Statistic::Average),
                extended: None,
                threshold: t.max_not_stored_share,
                unit: None,
            },
            Spec {
                suffix: "price-shift",
                namespace: predictor::emf::NAMESPACE,
                metric: predictor::emf::PRICE_SHIFT,
                dimensions: model,
                statistic: Some(Statistic::Average),
                extended: None,
                threshold: t.max_price_shift,
                unit: None,
            },
        ]
    }

    fn cloudwatch_call(&self, action: String, permission: &'static str) -> Call {
        Call::new(
            action,
            permission,
            format!(
                "arn:{}:cloudwatch:{}:*:alarm:{}-canary-*",
                self.partition(),
                self.region,
                self.settings.function
            ),
        )
    }

    async fn put_alarms(
        &self,
        plan: &AlarmPlan,
        progress: Progress<'_>,
    ) -> Result<Vec<String>, DeployError> {
        let t = &plan.thresholds;
        let mut names = Vec::new();
        for spec in self.specs(plan) {
            let name = alarm_name(&self.settings.function, &plan.version, spec.suffix);
            let mut request = self
                .cloudwatch
                .put_metric_alarm()
                .alarm_name(&name)
                .alarm_description(format!(
                    "amesops canary: version {} (model {}) of {} against version {} (model {})",
                    plan.version,
                    plan.model_id,
                    self.settings.function,
                    plan.old_version,
                    plan.old_model_id
                ))
                .namespace(spec.namespace)
                .metric_name(spec.metric)
                .period(t.period_s)
                .evaluation_periods(t.evaluation_periods)
                .threshold(spec.threshold)
                .comparison_operator(ComparisonOperator::GreaterThanThreshold)
                .treat_missing_data("notBreaching")
                .set_statistic(spec.statistic)
                .set_extended_statistic(spec.extended.map(str::to_string))
                .set_unit(spec.unit);
            for (dimension, value) in &spec.dimensions {
                request =
                    request.dimensions(Dimension::builder().name(dimension).value(value).build());
            }
            request.send().await.map_err(|e| {
                aws_error(
                    &self.cloudwatch_call(
                        format!("create alarm {name}"),
                        "cloudwatch:PutMetricAlarm",
                    ),
                    &e,
                )
            })?;
            progress(format!(
                "alarm {name}: {} {} > {} ({})",
                spec.namespace,
                spec.metric,
                spec.threshold,
                spec.dimensions
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            names.push(name);
        }
        Ok(names)
    }

    async fn describe_alarms(&self, names: &[String]) -> Result<Vec<AlarmState>, DeployError> {
        let found = self
            .cloudwatch
            .describe_alarms()
            .set_alarm_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &self.cloudwatch_call(
                        "read the canary's alarms".to_string(),
                        "cloudwatch:DescribeAlarms",
                    ),
                    &e,
                )
            })?;
        Ok(names
            .iter()
            .map(|name| {
                match found
                    .metric_alarms()
                    .iter()
                    .find(|a| a.alarm_name() == Some(name.as_str()))
                {
                    Some(alarm) => AlarmState {
                        name: name.clone(),
                        state: alarm
                            .state_value()
                            .map(StateValue::as_str)
                            .unwrap_or("INSUFFICIENT_DATA")
                            .to_string(),
                        reason: alarm.state_reason().unwrap_or_default().to_string(),
                    },
                    None => AlarmState {
                        name: name.clone(),
                        state: "ALARM".to_string(),
                        reason: "the alarm no longer exists".to_string(),
                    },
                }
            })
            .collect())
    }

    async fn invocations(&self, version: &str, since: i64) -> Result<u64, DeployError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // CloudWatch wants a start before the end and whole periods of a minute.
        let start = since.min(now - 60);
        let answer = self
            .cloudwatch
            .get_metric_statistics()
            .namespace(LAMBDA_NAMESPACE)
            .metric_name("Invocations")
            .dimensions(
                Dimension::builder()
                    .name("FunctionName")
                    .value(&self.settings.function)
                    .build(),
            )
            .dimensions(
                Dimension::builder()
                    .name("Resource")
                    .value(format!(
                        "{}:{}",
                        self.settings.function, self.settings.alias
                    ))
                    .build(),
            )
            .dimensions(
                Dimension::builder()
                    .name("ExecutedVersion")
                    .value(version)
                    .build(),
            )
            .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(start))
            .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                now + 60,
            ))
            .period(60)
            .statistics(Statistic::Sum)
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &Call::new(
                        format!("count the requests of version {version}"),
                        "cloudwatch:GetMetricStatistics",
                        "*",
                    ),
                    &e,
                )
            })?;
        Ok(answer
            .datapoints()
            .iter()
            .filter_map(|d| d.sum())
            .sum::<f64>()
            .max(0.0) as u64)
    }

    async fn replay_houses(
        &self,
        version: &str,
        houses: &[Value],
    ) -> Result<Replayed, DeployError> {
        let baseline = self.baseline_model().await;
        let events: Vec<Value> = houses
            .iter()
            .map(|house| {
                let price = baseline.as_ref().and_then(|model| {
                    let object = house.as_object()?;
                    let parsed = core_model::house::house_from_json(object).ok()?;
                    Some(model.artifact.model.predict(&parsed).price)
                });
                replay_event(house, price)
            })
            .collect();
        let mut replies = futures_util::stream::iter(events)
            .map(|event| async move {
                self.lambda
                    .invoke()
                    .function_name(&self.settings.function)
                    .qualifier(version)
                    .payload(Blob::new(event.to_string().into_bytes()))
                    .send()
                    .await
            })
            .buffer_unordered(REPLAY_CONCURRENCY);
        let mut replayed = Replayed::default();
        while let Some(reply) = replies.next().await {
            let output = reply.map_err(|e| {
                aws_error(
                    &Call::new(
                        format!(
                            "replay a stored request through version {version} of {}",
                            self.settings.function
                        ),
                        "lambda:InvokeFunction",
                        format!("function:{}:{version}", self.settings.function),
                    ),
                    &e,
                )
            })?;
            replayed.sent += 1;
            let answered = output.function_error().is_none()
                && output
                    .payload()
                    .and_then(|p| parse_reply(p.as_ref()).ok())
                    .is_some_and(|r| r.status == 200);
            if answered {
                replayed.ok += 1;
            }
        }
        Ok(replayed)
    }

    /// The model of the alias's primary version (the old one during a canary).
    async fn baseline_model(&self) -> Option<core_model::LoadedArtifact> {
        match self.live_production().await {
            Ok(crate::backend::deployer::Production::Serving(served)) => {
                core_model::Artifact::from_bytes(&served.artifact).ok()
            }
            _ => None,
        }
    }

    async fn promote_to(
        &self,
        version: &str,
        progress: Progress<'_>,
    ) -> Result<DeployReport, DeployError> {
        let current = self
            .alias()
            .await?
            .ok_or_else(|| self.no_alias("promote"))?;
        let routed = current.routing.as_ref().map(|(v, _)| v.as_str());
        if routed != Some(version) && current.version != version {
            return Err(DeployError::CanaryRouting {
                version: version.to_string(),
                step: CanaryStep::Promote {
                    alias: self.settings.alias.clone(),
                },
            });
        }
        progress(format!(
            "promoting the canary: all traffic of alias {} to version {version}",
            self.settings.alias
        ));
        let plan = RollbackPlan {
            from_version: current.version.clone(),
            from_model: String::new(),
            to_version: version.to_string(),
            to_model: String::new(),
            stops_canary: false,
        };
        self.roll_back(&plan, progress).await
    }
}

impl CanaryControl for AwsDeployer {
    fn create_alarms<'a>(
        &'a self,
        plan: &'a AlarmPlan,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, DeployError>> {
        Box::pin(self.put_alarms(plan, progress))
    }

    fn alarm_states<'a>(
        &'a self,
        names: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<AlarmState>, DeployError>> {
        Box::pin(self.describe_alarms(names))
    }

    fn requests<'a>(
        &'a self,
        version: &'a str,
        since: i64,
    ) -> BoxFuture<'a, Result<u64, DeployError>> {
        Box::pin(self.invocations(version, since))
    }

    fn replay<'a>(
        &'a self,
        version: &'a str,
        houses: &'a [Value],
    ) -> BoxFuture<'a, Result<Replayed, DeployError>> {
        Box::pin(self.replay_houses(version, houses))
    }

    fn routing(&self) -> BoxFuture<'_, Result<Option<Routing>, DeployError>> {
        Box::pin(async move {
            Ok(self
                .alias()
                .await?
                .map(|alias| (alias.version, alias.routing)))
        })
    }

    fn promote_canary<'a>(
        &'a self,
        version: &'a str,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>> {
        Box::pin(self.promote_to(version, progress))
    }
}
