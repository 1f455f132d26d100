//! `amesops retrain` (once, or on a schedule) and `amesops schedule install`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::cadence::Cadence;
use super::terminal::{self, EXIT_DECLINED, EXIT_LOCKED, EXIT_REFUSED, TerminalConfirm, log};
use crate::config::Config;
use crate::operations::lock::{self, RunLock, Wait};
use crate::operations::retrain::{self, Decision, Retrain};
use crate::operations::{self, Overrides};

/// Arguments of `amesops retrain`.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// Deploy without asking.
    #[arg(long)]
    pub yes: bool,
    /// Override the gate: deploy even when the new model is worse than production by more
    /// than the tolerance.
    #[arg(long)]
    pub allow_worse: bool,
    /// Override the gate: deploy even when production cannot be read and verified.
    #[arg(long)]
    pub allow_unverified: bool,
    /// Override the gate: redeploy a model the operator rolled back from.
    #[arg(long)]
    pub allow_rolled_back: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Run on a schedule in the foreground until SIGTERM/ctrl-c: an interval (30m, 24h, 7d;
    /// the first run starts at once) or a cron expression in local time ("0 3 * * *": minute
    /// hour day-of-month month day-of-week, 0 or 7 = Sunday; the first run waits for it).
    #[arg(long, value_name = "INTERVAL|CRON", value_parser = Cadence::parse)]
    pub every: Option<Cadence>,
    /// Stop after this many scheduled runs (for tests and one-off batches).
    #[arg(long, hide = true)]
    pub max_runs: Option<u32>,
}

/// `amesops schedule …`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ScheduleCommand,
}

/// Schedule subcommands.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Print (or write) a systemd user timer and a crontab line that run `amesops retrain --yes`.
    Install {
        /// How often: an interval (24h) or a cron expression ("0 3 * * 1-5"); with a cron
        /// expression the systemd unit runs the scheduler itself (`retrain --every`).
        #[arg(long, default_value = "24h", value_name = "INTERVAL|CRON", value_parser = Cadence::parse)]
        every: Cadence,
        /// Write the systemd units to ~/.config/systemd/user/ instead of printing them.
        #[arg(long)]
        write: bool,
    },
}

/// One retrain: pipeline, gate, deploy; returns the exit code.
async fn retrain_once(
    ctx: &operations::Context,
    args: &RetrainArgs,
    stop: &AtomicBool,
) -> Result<u8> {
    let events = terminal::json_logger();
    let confirm = TerminalConfirm { yes: args.yes };
    let retrain = Retrain {
        overrides: Overrides {
            allow_worse: args.allow_worse,
            allow_unverified: args.allow_unverified,
            allow_rolled_back: args.allow_rolled_back,
        },
    };
    let outcome = match retrain::retrain(ctx, retrain, &confirm, &events, Some(stop)).await {
        Ok(outcome) => outcome,
        Err(error) if error.is_busy() => {
            eprintln!("{error}");
            log("locked", serde_json::json!({ "reason": error.to_string() }));
            return Ok(EXIT_LOCKED);
        }
        Err(error) => return Err(anyhow::Error::new(error)),
    };
    let code = match outcome.decision {
        Decision::NothingChanged | Decision::Deployed | Decision::Stopped => 0,
        Decision::Declined => EXIT_DECLINED,
        refused if refused.is_refusal() => EXIT_REFUSED,
        _ => 0,
    };
    if outcome.decision == Decision::Stopped {
        log(
            "stopped",
            serde_json::json!({ "reason": "SIGTERM before deploying; production unchanged" }),
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        println!("{}", outcome.report());
    }
    log(
        "retrain_finished",
        serde_json::json!({ "decision": outcome.decision, "exit_code": code }),
    );
    Ok(code)
}

/// `amesops retrain`.
pub fn run(args: RetrainArgs, config: &Config) -> Result<ExitCode> {
    if config.read_only {
        bail!(
            "read-only mode (--read-only, AMESOPS_READ_ONLY or read_only in amesops.toml): retrain refused"
        );
    }
    ensure_project(&config.root)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let ctx = super::deploy::context(config).await?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot listen for SIGTERM")?;
        tokio::spawn(async move {
            tokio::select! {
                _ = sigterm.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            flag.store(true, Ordering::SeqCst);
            log(
                "stop_requested",
                serde_json::json!({ "note": "finishing the current step" }),
            );
        });
        let Some(cadence) = args.every.clone() else {
            return Ok(ExitCode::from(retrain_once(&ctx, &args, &stop).await?));
        };
        // One scheduler per project; each of its runs takes the run lock like any other run.
        let scheduler_lock = config.state_path(lock::SCHEDULER_LOCK);
        let command = ctx.command.clone();
        let _scheduler = match RunLock::acquire(&scheduler_lock, &command, Wait::No, &|_| {}) {
            Ok(held) => held,
            Err(lock::LockError::Busy { path, holder }) => {
                eprintln!(
                    "another scheduler is running for this project: {} ({}); not starting",
                    holder.map_or_else(
                        || "a process that is just starting".to_string(),
                        |h| h.to_string()
                    ),
                    path.display()
                );
                return Ok(ExitCode::from(EXIT_LOCKED));
            }
            Err(error) => return Err(error.into()),
        };
        let mut started = cadence.describe();
        started["pid"] = serde_json::json!(std::process::id());
        log("scheduler_started", started);
        let mut runs = 0u32;
        let mut run_now = cadence.runs_at_start();
        loop {
            if !run_now {
                let wait = cadence
                    .wait_from(chrono::Local::now())
                    .map_err(anyhow::Error::msg)?;
                log(
                    "next_run",
                    serde_json::json!({ "in_s": wait.as_secs_f64().round() }),
                );
                let deadline = tokio::time::Instant::now() + wait;
                while tokio::time::Instant::now() < deadline && !stop.load(Ordering::SeqCst) {
                    let left = deadline - tokio::time::Instant::now();
                    tokio::time::sleep(left.min(Duration::from_millis(200))).await;
                }
                if stop.load(Ordering::SeqCst) {
                    break;
                }
            }
            run_now = false;
            runs += 1;
            log("run_started", serde_json::json!({ "run": runs }));
            match retrain_once(&ctx, &args, &stop).await {
                Ok(code) => log(
                    "run_finished",
                    serde_json::json!({ "run": runs, "exit_code": code }),
                ),
                Err(e) => log(
                    "run_failed",
                    serde_json::json!({ "run": runs, "error": format!("{e:#}") }),
                ),
            }
            if stop.load(Ordering::SeqCst) || args.max_runs.is_some_and(|m| runs >= m) {
                break;
            }
        }
        log("scheduler_stopped", serde_json::json!({ "runs": runs }));
        Ok(ExitCode::SUCCESS)
    })
}

/// How systemd stops the scheduler: SIGTERM to the main process only (a stage command it
/// waits for is not killed), which finishes its current step (a deploy, an alias move) and
/// deploys nothing more; only after TimeoutStopSec does anything get SIGKILL.
const STOP_SETTINGS: &str = "KillMode=mixed\nKillSignal=SIGTERM\nTimeoutStopSec=30min\n";

/// `amesops schedule install`.
pub fn schedule(args: ScheduleArgs, config: &Config) -> Result<ExitCode> {
    let ScheduleCommand::Install { every, write } = args.command;
    let exe = std::env::current_exe().context("cannot find this binary's path")?;
    let dir = config.root.clone();
    let unit = |kind: &str, exec: &str, extra: &str| {
        format!(
            "[Unit]\nDescription=amesops retrain-and-redeploy\n\n[Service]\nType={kind}\nWorkingDirectory={}\nExecStart={} {exec}\n{STOP_SETTINGS}{extra}",
            dir.display(),
            exe.display()
        )
    };
    let crontab_line = |when: &str| {
        format!(
            "{when} cd {} && {} retrain --yes >> .amesops/logs/retrain.jsonl 2>&1",
            dir.display(),
            exe.display()
        )
    };
    // (file name, content) of the systemd units, the unit to enable, and the crontab line or
    // why there is none.
    let (units, enable, crontab) = match &every {
        Cadence::Interval(every) => {
            let timer = format!(
                "[Unit]\nDescription=Run amesops retrain every {}\n\n[Timer]\nOnBootSec=5min\nOnUnitActiveSec={}s\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n",
                humanize(*every),
                every.as_secs()
            );
            let units = vec![
                (
                    "amesops-retrain.service",
                    unit("oneshot", "retrain --yes", ""),
                ),
                ("amesops-retrain.timer", timer),
            ];
            (
                units,
                "amesops-retrain.timer",
                interval_cron(*every).map(|when| crontab_line(&when)),
            )
        }
        Cadence::Cron(cron) => {
            // systemd timers do not read cron syntax: the service runs the scheduler itself.
            let expression = cron.as_str();
            let service = unit(
                "simple",
                &format!("retrain --yes --every \"{expression}\""),
                "Restart=on-failure\n\n[Install]\nWantedBy=default.target\n",
            );
            let five_fields =
                expression.starts_with('@') || expression.split_whitespace().count() == 5;
            let crontab = if five_fields {
                Ok(crontab_line(expression))
            } else {
                Err(format!(
                    "crontab has no seconds field, so {expression:?} cannot be a crontab line: use the systemd unit above, or five fields"
                ))
            };
            (
                vec![("amesops-retrain.service", service)],
                "amesops-retrain.service",
                crontab,
            )
        }
    };
    if write {
        let home = std::env::var_os("HOME").context("HOME is not set")?;
        let folder = PathBuf::from(home).join(".config/systemd/user");
        std::fs::create_dir_all(&folder)?;
        for (name, content) in &units {
            crate::files::write_bytes(&folder.join(name), content.as_bytes())?;
            println!("wrote {}", folder.join(name).display());
        }
        println!(
            "enable with: systemctl --user daemon-reload && systemctl --user enable --now {enable}"
        );
    } else {
        for (name, content) in &units {
            println!("# ~/.config/systemd/user/{name}\n{content}");
        }
        match crontab {
            Ok(line) => println!("# or one crontab line (crontab -e):\n{line}"),
            Err(why) => println!("# no crontab line: {why}"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The crontab schedule that runs exactly every `every`, or why cron cannot: cron counts
/// minutes within the hour, hours within the day and days within the month, so only steps that
/// divide those evenly repeat at a constant interval.
fn interval_cron(every: Duration) -> Result<String, String> {
    let seconds = every.as_secs();
    let shown = humanize(every);
    let refuse = || {
        Err(format!(
            "cron cannot run every {shown} at even intervals (it counts minutes within the hour, hours within the day); use the systemd timer above, or an interval cron can express: 1m–30m dividing 60, 1h–12h dividing 24, 1d or 7d"
        ))
    };
    if seconds == 0 || !seconds.is_multiple_of(60) {
        return refuse();
    }
    let minutes = seconds / 60;
    match minutes {
        m if m < 60 && 60 % m == 0 => Ok(if m == 1 {
            "* * * * *".to_string()
        } else {
            format!("*/{m} * * * *")
        }),
        m if m.is_multiple_of(60) && m < 24 * 60 && (24 * 60) % m == 0 => {
            let hours = m / 60;
            Ok(if hours == 1 {
                "0 * * * *".to_string()
            } else {
                format!("0 */{hours} * * *")
            })
        }
        m if m == 24 * 60 => Ok("0 3 * * *".to_string()),
        m if m == 7 * 24 * 60 => Ok("0 3 * * 0".to_string()),
        _ => refuse(),
    }
}

fn humanize(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Fails early, before the lock is taken, when run outside a project.
fn ensure_project(root: &Path) -> Result<()> {
    if !root.join("dvc.yaml").exists() {
        bail!(
            "no dvc.yaml in {} or any folder above it: run retrain inside the project",
            root.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_intervals_cron_repeats_evenly_get_a_crontab_line() {
        let line = |s: u64| interval_cron(Duration::from_secs(s));
        assert_eq!(line(60).as_deref(), Ok("* * * * *"));
        assert_eq!(line(15 * 60).as_deref(), Ok("*/15 * * * *"));
        assert_eq!(line(6 * 3600).as_deref(), Ok("0 */6 * * *"));
        assert_eq!(line(86_400).as_deref(), Ok("0 3 * * *"));
        assert_eq!(line(7 * 86_400).as_deref(), Ok("0 3 * * 0"));
        for odd in [30, 45 * 60, 90 * 60, 5 * 3600, 36 * 3600, 2 * 86_400] {
            let why = line(odd).expect_err("not expressible");
            assert!(why.contains("systemd"), "{why}");
        }
    }
}
