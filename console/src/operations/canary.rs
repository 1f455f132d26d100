//! A canary that watches itself: after `deploy --canary PCT` routed PCT % of the traffic to
//! the new version, its CloudWatch alarms are read every poll until the watch ends.
//!
//! - every alarm OK at the end → all traffic to the new version (and the tracker records it);
//! - any alarm in ALARM → the alias goes back to the old version at once, naming the alarm and
//!   CloudWatch's reason;
//! - a canary that served fewer than `[canary] min_requests` by half-time gets a replay of
//!   recent stored requests through its version (so the alarms have data); too few and nothing
//!   to replay → no promotion without `--promote-anyway` (the canary is stopped);
//! - interrupted (Ctrl-C, SIGTERM) → rolled back, or left resumable (`deploy --resume`) as
//!   `[canary] on_interrupt` says.
//!
//! The watch's state is written to `.amesops/canary.json` after every step, so `status` (and
//! the console's Deploy view) can say what the alias is doing, and a watch whose process died
//! (a lost terminal) is seen as resumable. The watch holds the run lock only to move the alias
//! (promote, roll back): while it polls, an operator's rollback (`amesops rollback`, the
//! console's `x`) goes through, and the watch ends at its next poll.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Context, Error, Event, Sink, tracker};
use crate::backend::deployer::canary::{AlarmPlan, AlarmState, CanaryControl, Thresholds};
use crate::backend::deployer::{CanaryStep, DeployError, DeployReport, Production};
use crate::backend::store::{ObjectStore, newest_keys};
use crate::config::{CanaryConfig, OnInterrupt};

/// The watch's state file, in the state folder.
pub const STATE_FILE: &str = "canary.json";

/// Where a watch is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// A process is watching (or died watching: see [`WatchState::resumable`]).
    Watching,
    /// Interrupted, the canary's share left as it was: `deploy --resume` continues.
    Interrupted,
    /// All traffic went to the new version.
    Promoted,
    /// All traffic went back to the old version.
    RolledBack,
}

/// `.amesops/canary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchState {
    /// The alarms' subject: versions, models and limits.
    pub plan: AlarmPlan,
    /// The canary's share, percent.
    pub percent: f64,
    /// When the watch began (Unix seconds).
    pub started_at: i64,
    /// When it ends (Unix seconds).
    pub ends_at: i64,
    /// Poll interval, milliseconds.
    pub poll_ms: u64,
    /// The alarms watched.
    pub alarms: Vec<String>,
    /// Their states at the last poll.
    pub states: Vec<AlarmState>,
    /// Requests replayed through the canary.
    pub replayed: usize,
    /// Where the watch is.
    pub phase: Phase,
    /// Why it ended as it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The watching process.
    pub pid: u32,
    /// Last write (Unix seconds).
    pub updated_at: i64,
}

impl WatchState {
    /// Reads the state of the project's last watch (None: no watch ever ran).
    pub fn load(state_dir: &Path) -> Option<WatchState> {
        let bytes = std::fs::read(state_dir.join(STATE_FILE)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn save(&self, state_dir: &Path) -> Result<(), Error> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|error| DeployError::Encode {
            what: "the canary state",
            error,
        })?;
        let path = state_dir.join(STATE_FILE);
        core_model::files::write_bytes(&path, &bytes)
            .map_err(|e| Error::Deploy(DeployError::file("write", path, e)))
    }

    /// Whether `deploy --resume` can continue it: interrupted on purpose, or its watcher is
    /// gone.
    pub fn resumable(&self) -> bool {
        match self.phase {
            Phase::Interrupted => true,
            Phase::Watching => !process_alive(self.pid),
            Phase::Promoted | Phase::RolledBack => false,
        }
    }

    /// The state in one word, as `status` reports it: `watching`, `resumable`, `promoted`,
    /// `rolled_back`.
    pub fn label(&self) -> &'static str {
        match self.phase {
            Phase::Watching if process_alive(self.pid) => "watching",
            Phase::Watching | Phase::Interrupted => "resumable",
            Phase::Promoted => "promoted",
            Phase::RolledBack => "rolled_back",
        }
    }

    /// Seconds left in the watch.
    pub fn seconds_left(&self) -> i64 {
        (self.ends_at - now()).max(0)
    }
}

fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        PathBuf::from("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        // Without /proc the watcher cannot be checked: assume it went away.
        false
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// How a watch ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum Outcome {
    /// All traffic went to the canary's version.
    Promoted {
        /// The deployment.
        report: DeployReport,
    },
    /// An alarm fired: all traffic back to the old version.
    RolledBack {
        /// The alarm that fired.
        alarm: AlarmState,
        /// The version traffic went back to.
        version: String,
    },
    /// The canary saw too few requests and `--promote-anyway` was not given: stopped.
    Refused {
        /// Why.
        reason: String,
        /// The version traffic went back to.
        version: String,
    },
    /// Someone else moved the alias (a rollback, another deploy) during the watch.
    Stopped {
        /// What the alias does now.
        reason: String,
    },
    /// Ctrl-C / SIGTERM.
    Interrupted {
        /// Whether the alias went back to the old version (else: resumable).
        rolled_back: bool,
    },
}

impl Outcome {
    /// One line for people.
    pub fn summary(&self) -> String {
        match self {
            Outcome::Promoted { report } => format!(
                "canary promoted: version {} serves all traffic (model {})",
                report.version, report.model_id
            ),
            Outcome::RolledBack { alarm, version } => format!(
                "canary rolled back to version {version}: alarm {} is {}: {}",
                alarm.name, alarm.state, alarm.reason
            ),
            Outcome::Refused { reason, version } => {
                format!("canary stopped, traffic back on version {version}: {reason}")
            }
            Outcome::Stopped { reason } => format!("canary watch ended: {reason}"),
            Outcome::Interrupted { rolled_back: true } => {
                "watch interrupted: the canary was rolled back".to_string()
            }
            Outcome::Interrupted { rolled_back: false } => {
                "watch interrupted: the canary keeps its share; `amesops deploy --resume` continues the watch, `amesops rollback` stops it".to_string()
            }
        }
    }

    /// Whether the new version serves all traffic.
    pub fn promoted(&self) -> bool {
        matches!(self, Outcome::Promoted { .. })
    }
}

/// What a watch is asked to do.
#[derive(Debug, Clone)]
pub struct Watch {
    /// How long.
    pub duration: Duration,
    /// Settings (`[canary]`).
    pub config: CanaryConfig,
    /// Promote even when the canary saw too few requests.
    pub promote_anyway: bool,
}

impl Watch {
    fn thresholds(&self) -> Thresholds {
        let c = &self.config;
        Thresholds {
            max_errors: c.max_errors,
            max_throttles: c.max_throttles,
            max_p99_duration_ms: c.max_p99_duration_ms,
            max_not_stored_share: c.max_not_stored_share,
            max_price_shift: c.max_price_shift,
            period_s: c.period_s,
            evaluation_periods: c.evaluation_periods,
        }
    }
}

fn no_canary() -> Error {
    Error::Deploy(DeployError::NoTrafficSplit)
}

/// The model id behind a version, from the deployer's status.
async fn model_of(ctx: &Context, version: &str) -> String {
    ctx.deployer
        .status()
        .await
        .ok()
        .and_then(|info| {
            info.versions
                .into_iter()
                .find(|v| v.version == version)
                .map(|v| v.model_id)
        })
        .unwrap_or_default()
}

/// Watches the canary `deployed` (just routed by a `deploy --canary`).
pub async fn watch(
    ctx: &Context,
    deployed: &DeployReport,
    watch: &Watch,
    stop: Arc<tokio::sync::Notify>,
    events: &Sink,
) -> Result<Outcome, Error> {
    let canary = ctx.deployer.canary().ok_or_else(no_canary)?;
    let Some((old_version, Some((version, weight)))) = canary.routing().await? else {
        return Err(Error::Deploy(DeployError::CanaryRouting {
            version: deployed.version.clone(),
            step: CanaryStep::Watch { routed: None },
        }));
    };
    if version != deployed.version {
        return Err(Error::Deploy(DeployError::CanaryRouting {
            version: deployed.version.clone(),
            step: CanaryStep::Watch {
                routed: Some(version),
            },
        }));
    }
    let plan = AlarmPlan {
        version: version.clone(),
        model_id: deployed.model_id.clone(),
        old_model_id: model_of(ctx, &old_version).await,
        old_version,
        thresholds: watch.thresholds(),
    };
    let step = step_of(events);
    let alarms = match canary.create_alarms(&plan, &step).await {
        Ok(alarms) => alarms,
        Err(e) => {
            // No alarms, no watch: the canary does not keep its share unwatched.
            events(Event::Step(format!(
                "the canary's alarms cannot be created: stopping the canary ({e})"
            )));
            let _lock = ctx.lock(true, events).await?;
            let rollback = ctx.deployer.plan_rollback(None).await?;
            if rollback.stops_canary && rollback.from_version == plan.version {
                ctx.deployer.rollback(&rollback, &step).await?;
            }
            return Err(e.into());
        }
    };
    let poll = watch
        .config
        .poll_interval()
        .map_err(|e| Error::Deploy(DeployError::Other(e)))?;
    let started_at = now();
    let state = WatchState {
        plan,
        percent: weight * 100.0,
        started_at,
        ends_at: started_at + watch.duration.as_secs_f64().ceil() as i64,
        poll_ms: poll.as_millis() as u64,
        alarms,
        states: Vec::new(),
        replayed: 0,
        phase: Phase::Watching,
        reason: None,
        pid: std::process::id(),
        updated_at: started_at,
    };
    state.save(&ctx.state_dir)?;
    events(Event::Step(format!(
        "watching the canary: {}% to version {} for {} s, alarms read every {} ms",
        state.percent,
        state.plan.version,
        state.ends_at - state.started_at,
        state.poll_ms
    )));
    run(ctx, canary, state, watch, stop, events).await
}

/// Continues an interrupted watch (`deploy --resume`).
pub async fn resume(
    ctx: &Context,
    watch: &Watch,
    stop: Arc<tokio::sync::Notify>,
    events: &Sink,
) -> Result<Outcome, Error> {
    let canary = ctx.deployer.canary().ok_or_else(no_canary)?;
    let Some(mut state) = WatchState::load(&ctx.state_dir) else {
        return Err(Error::Deploy(DeployError::NoWatch {
            path: ctx.state_dir.join(STATE_FILE),
        }));
    };
    if !state.resumable() {
        return Err(Error::Deploy(DeployError::WatchOver {
            version: state.plan.version.clone(),
            phase: state.label().replace('_', " "),
            reason: state.reason.clone(),
        }));
    }
    match canary.routing().await? {
        Some((_, Some((version, _)))) if version == state.plan.version => {}
        _ => {
            state.phase = Phase::RolledBack;
            state.reason = Some("the alias no longer routes to the canary".to_string());
            state.updated_at = now();
            state.save(&ctx.state_dir)?;
            return Err(Error::Deploy(DeployError::CanaryRouting {
                version: state.plan.version.clone(),
                step: CanaryStep::Resume,
            }));
        }
    }
    // The alarms may have been removed meanwhile; creating them again is idempotent.
    let step = step_of(events);
    state.alarms = canary.create_alarms(&state.plan, &step).await?;
    state.phase = Phase::Watching;
    state.pid = std::process::id();
    state.reason = None;
    state.updated_at = now();
    state.save(&ctx.state_dir)?;
    events(Event::Step(format!(
        "resuming the watch of version {}: {} s left",
        state.plan.version,
        state.seconds_left()
    )));
    run(ctx, canary, state, watch, stop, events).await
}

fn step_of(events: &Sink) -> impl Fn(String) + Send + Sync + use<> {
    let events = events.clone();
    move |line: String| events(Event::Step(line))
}

async fn run(
    ctx: &Context,
    canary: &dyn CanaryControl,
    mut state: WatchState,
    watch: &Watch,
    stop: Arc<tokio::sync::Notify>,
    events: &Sink,
) -> Result<Outcome, Error> {
    let poll = Duration::from_millis(state.poll_ms.max(1));
    let half_time = state.started_at + (state.ends_at - state.started_at) / 2;
    let mut checked_traffic = state.replayed > 0;
    loop {
        let states = canary.alarm_states(&state.alarms).await?;
        state.states = states.clone();
        state.updated_at = now();
        state.save(&ctx.state_dir)?;
        if let Some(alarm) = states.iter().find(|a| a.firing()) {
            events(Event::Step(format!(
                "alarm {} is ALARM: {}",
                alarm.name, alarm.reason
            )));
            let version =
                roll_back(ctx, &mut state, format!("alarm {}", alarm.name), events).await?;
            return Ok(Outcome::RolledBack {
                alarm: alarm.clone(),
                version,
            });
        }
        match canary.routing().await? {
            Some((_, Some((routed, _)))) if routed == state.plan.version => {}
            other => {
                let reason = match other {
                    Some((primary, _)) => format!(
                        "the alias was moved by someone else during the watch (it serves version {primary} alone)"
                    ),
                    None => "the alias was removed during the watch".to_string(),
                };
                state.phase = Phase::RolledBack;
                state.reason = Some(reason.clone());
                state.updated_at = now();
                state.save(&ctx.state_dir)?;
                return Ok(Outcome::Stopped { reason });
            }
        }
        let left = state.ends_at - now();
        if left <= 0 {
            break;
        }
        if !checked_traffic && now() >= half_time {
            checked_traffic = true;
            replay_if_quiet(ctx, canary, &mut state, watch, events).await?;
        }
        let wait = poll.min(Duration::from_secs(left.max(0) as u64).max(Duration::from_millis(1)));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.notified() => {
                return interrupted(ctx, &mut state, watch, events).await;
            }
        }
    }
    if !checked_traffic {
        replay_if_quiet(ctx, canary, &mut state, watch, events).await?;
        // The replay's requests must reach the alarms before they are judged.
        let states = canary.alarm_states(&state.alarms).await?;
        state.states = states.clone();
        if let Some(alarm) = states.iter().find(|a| a.firing()) {
            let version =
                roll_back(ctx, &mut state, format!("alarm {}", alarm.name), events).await?;
            return Ok(Outcome::RolledBack {
                alarm: alarm.clone(),
                version,
            });
        }
    }
    let served = canary
        .requests(&state.plan.version, state.started_at)
        .await?
        .saturating_add(state.replayed as u64);
    // A replay gave the alarms data to judge by; only a canary that neither served enough
    // nor could be given a replay is refused.
    if served < watch.config.min_requests && state.replayed == 0 && !watch.promote_anyway {
        let reason = format!(
            "the canary served {served} request(s) during the watch, fewer than [canary] min_requests = {} (and no stored requests to replay): not promoted; watch longer, or pass --promote-anyway",
            watch.config.min_requests
        );
        events(Event::Step(reason.clone()));
        let version = roll_back(ctx, &mut state, reason.clone(), events).await?;
        return Ok(Outcome::Refused { reason, version });
    }
    let step = step_of(events);
    let _lock = ctx.lock(true, events).await?;
    let report = canary.promote_canary(&state.plan.version, &step).await?;
    state.phase = Phase::Promoted;
    state.reason = Some(format!(
        "every alarm OK for the whole watch ({served} requests)"
    ));
    state.updated_at = now();
    state.save(&ctx.state_dir)?;
    if let Ok(Production::Serving(served)) = ctx.deployer.production().await {
        step(tracker::register(ctx.tracker.as_deref(), &served.artifact).await);
    }
    Ok(Outcome::Promoted { report })
}

/// Replays recent stored requests through a canary that served too few so far.
async fn replay_if_quiet(
    ctx: &Context,
    canary: &dyn CanaryControl,
    state: &mut WatchState,
    watch: &Watch,
    events: &Sink,
) -> Result<(), Error> {
    let served = canary
        .requests(&state.plan.version, state.started_at)
        .await?;
    if served >= watch.config.min_requests {
        return Ok(());
    }
    let houses = match ctx.store.as_deref() {
        Some(store) => recent_houses(store, watch.config.replay).await,
        None => Vec::new(),
    };
    if houses.is_empty() {
        events(Event::Step(format!(
            "the canary served {served} request(s) so far and there are no stored requests to replay"
        )));
        return Ok(());
    }
    events(Event::Step(format!(
        "the canary served {served} request(s) so far (fewer than {}): replaying {} recent stored requests through version {}",
        watch.config.min_requests,
        houses.len(),
        state.plan.version
    )));
    let replayed = canary.replay(&state.plan.version, &houses).await?;
    state.replayed += replayed.sent;
    state.updated_at = now();
    state.save(&ctx.state_dir)?;
    events(Event::Step(format!(
        "replayed {} requests ({} answered 200)",
        replayed.sent, replayed.ok
    )));
    Ok(())
}

/// The inputs of up to `limit` of the newest stored requests (smoke tests and replays left
/// out).
pub async fn recent_houses(store: &dyn ObjectStore, limit: usize) -> Vec<serde_json::Value> {
    #[derive(Deserialize)]
    struct Input {
        #[serde(default)]
        input: serde_json::Value,
        #[serde(default)]
        source: predictor::record::Source,
    }
    let Ok(page) = newest_keys(store, None, limit.saturating_mul(2)).await else {
        return Vec::new();
    };
    let mut houses = Vec::new();
    for key in page.keys {
        if houses.len() == limit {
            break;
        }
        let Ok(bytes) = store.get(&key).await else {
            continue;
        };
        if let Ok(record) = serde_json::from_slice::<Input>(&bytes)
            && record.source.is_traffic()
            && record.input.is_object()
        {
            houses.push(record.input);
        }
    }
    houses
}

/// Stops the canary (all traffic back to the old version) and records why.
async fn roll_back(
    ctx: &Context,
    state: &mut WatchState,
    reason: String,
    events: &Sink,
) -> Result<String, Error> {
    let step = step_of(events);
    let _lock = ctx.lock(true, events).await?;
    let plan = ctx.deployer.plan_rollback(None).await?;
    if !plan.stops_canary || plan.from_version != state.plan.version {
        state.phase = Phase::RolledBack;
        state.reason = Some(format!("{reason}; the alias had already moved"));
        state.updated_at = now();
        state.save(&ctx.state_dir)?;
        return Err(Error::Deploy(DeployError::CanaryRouting {
            version: state.plan.version.clone(),
            step: CanaryStep::RollBack {
                because: reason.to_string(),
            },
        }));
    }
    let report = ctx.deployer.rollback(&plan, &step).await?;
    // A model an alarm rolled back stays out, as after an operator's rollback.
    if reason.starts_with("alarm ") && plan.from_model != report.model_id {
        let mut memory = super::memory::Memory::load(&ctx.state_dir)?;
        memory.roll_back(super::memory::RolledBack {
            model_id: plan.from_model.clone(),
            from_version: plan.from_version.clone(),
            to_version: plan.to_version.clone(),
            at: super::memory::now(),
        });
        memory.save(&ctx.state_dir)?;
    }
    state.phase = Phase::RolledBack;
    state.reason = Some(reason);
    state.updated_at = now();
    state.save(&ctx.state_dir)?;
    Ok(report.version)
}

async fn interrupted(
    ctx: &Context,
    state: &mut WatchState,
    watch: &Watch,
    events: &Sink,
) -> Result<Outcome, Error> {
    match watch.config.on_interrupt {
        OnInterrupt::Rollback => {
            events(Event::Step(
                "interrupted: stopping the canary ([canary] on_interrupt = \"rollback\")"
                    .to_string(),
            ));
            roll_back(ctx, state, "interrupted".to_string(), events).await?;
            Ok(Outcome::Interrupted { rolled_back: true })
        }
        OnInterrupt::Resume => {
            state.phase = Phase::Interrupted;
            state.reason = Some("interrupted".to_string());
            state.updated_at = now();
            state.save(&ctx.state_dir)?;
            Ok(Outcome::Interrupted { rolled_back: false })
        }
    }
}
