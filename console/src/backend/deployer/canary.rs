//! What a canary watch needs from the deployer: alarms created for the canary's version, their
//! states, how many requests the version served, a replay of stored requests through it, and
//! the move of all traffic to it. Only a deployer with a real traffic split (AWS) has one.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{DeployError, DeployReport};

/// Limits of the canary's alarms (`[canary]` in amesops.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Alarm when Lambda `Errors` of the version exceed this in a period.
    pub max_errors: f64,
    /// Alarm when Lambda `Throttles` exceed this in a period.
    pub max_throttles: f64,
    /// Alarm when the p99 of Lambda `Duration` exceeds this many milliseconds.
    pub max_p99_duration_ms: f64,
    /// Alarm when the share of predictions not stored (`not_stored`, EMF) exceeds this.
    pub max_not_stored_share: f64,
    /// Alarm when the mean absolute shift of the predicted price against the old version
    /// (`price_shift`, EMF) exceeds this (0.10 = 10 %).
    pub max_price_shift: f64,
    /// Period of each alarm, seconds.
    pub period_s: i32,
    /// Periods that must breach before an alarm fires.
    pub evaluation_periods: i32,
}

/// The canary the alarms are for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmPlan {
    /// The canary's version.
    pub version: String,
    /// Its model id (the EMF dimension).
    pub model_id: String,
    /// The version that keeps the rest of the traffic.
    pub old_version: String,
    /// Its model id.
    pub old_model_id: String,
    /// Limits.
    pub thresholds: Thresholds,
}

/// One alarm as CloudWatch reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmState {
    /// Alarm name.
    pub name: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: String,
    /// CloudWatch's reason for the state.
    pub reason: String,
}

impl AlarmState {
    /// Whether the alarm fires.
    pub fn firing(&self) -> bool {
        self.state == "ALARM"
    }
}

/// What a replay through the canary's version gave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    /// Requests sent.
    pub sent: usize,
    /// Answered with HTTP 200.
    pub ok: usize,
}

/// Where an alias sends traffic: its primary version, and the canary (version, weight) when
/// it splits.
pub type Routing = (String, Option<(String, f64)>);

/// The canary side of a deployer.
pub trait CanaryControl: Send + Sync {
    /// Creates (or updates) the alarms of `plan`; returns their names.
    fn create_alarms<'a>(
        &'a self,
        plan: &'a AlarmPlan,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, DeployError>>;
    /// The states of the alarms `names`, in that order (an alarm that no longer exists is
    /// reported as `ALARM`: a watch cannot vouch for what it cannot see).
    fn alarm_states<'a>(
        &'a self,
        names: &'a [String],
    ) -> BoxFuture<'a, Result<Vec<AlarmState>, DeployError>>;
    /// Requests the version served since `since` (Unix seconds), from Lambda's `Invocations`.
    fn requests<'a>(
        &'a self,
        version: &'a str,
        since: i64,
    ) -> BoxFuture<'a, Result<u64, DeployError>>;
    /// Sends each house of `houses` to `POST /predict` of the version itself (an API Gateway
    /// event invoked on the version), so its alarms have data.
    fn replay<'a>(
        &'a self,
        version: &'a str,
        houses: &'a [serde_json::Value],
    ) -> BoxFuture<'a, Result<Replayed, DeployError>>;
    /// The version the alias serves and its canary (version, weight), when there is one.
    fn routing(&self) -> BoxFuture<'_, Result<Option<Routing>, DeployError>>;
    /// Sends all traffic to the canary `version` (refuses when the alias no longer routes to it).
    fn promote_canary<'a>(
        &'a self,
        version: &'a str,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<DeployReport, DeployError>>;
}
