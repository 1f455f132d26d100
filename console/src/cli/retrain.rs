//! `amesops retrain` (once, or on a schedule) and `amesops schedule install`.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use tokio::sync::mpsc;

use super::cadence::Cadence;
use crate::backend::deployer::Deployer;
use crate::config::Config;
use crate::project::Project;
use crate::retrain::{self, Decision, Outcome};
use crate::tui::action::Loaded;
use crate::tui::views::pipeline::RunEvent;

/// Exit code when the gate refuses a worse model.
pub const EXIT_REFUSED_WORSE: u8 = 3;
/// Exit code when another scheduler holds the lock.
pub const EXIT_LOCKED: u8 = 4;
/// Exit code when the user declined the deploy.
pub const EXIT_DECLINED: u8 = 5;

/// Arguments of `amesops retrain`.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// Deploy without asking.
    #[arg(long)]
    pub yes: bool,
    /// Deploy even when the new model is worse than production by more than the tolerance.
    #[arg(long)]
    pub allow_worse: bool,
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

/// A lock file that keeps two schedulers (or retrains) from overlapping.
struct RunLock {
    path: PathBuf,
}

impl RunLock {
    fn acquire(path: &Path) -> Result<Option<RunLock>> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut file) => {
                    writeln!(file, "{}", std::process::id())?;
                    return Ok(Some(RunLock {
                        path: path.to_path_buf(),
                    }));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(path)
                        .ok()
                        .and_then(|t| t.trim().parse::<u32>().ok());
                    let alive =
                        holder.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
                    if alive {
                        return Ok(None);
                    }
                    // The holder died without cleaning up: take the lock over.
                    let _ = std::fs::remove_file(path);
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("cannot create lock {}", path.display()));
                }
            }
        }
        Ok(None)
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn log(event: &str, fields: serde_json::Value) {
    let mut line = serde_json::json!({
        "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "event": event,
    });
    if let (Some(object), serde_json::Value::Object(more)) = (line.as_object_mut(), fields) {
        object.extend(more);
    }
    eprintln!("{line}");
}

fn confirm_on_terminal(outcome: &Outcome) -> bool {
    if !std::io::stdin().is_terminal() {
        eprintln!("not deploying: no terminal to confirm on; pass --yes to deploy unattended");
        return false;
    }
    eprint!("{}\ndeploy it? [y/N] ", outcome.summary());
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// One retrain: pipeline, gate, deploy; returns the exit code.
async fn retrain_once(
    project: &Project,
    deployer: &dyn Deployer,
    args: &RetrainArgs,
    tolerance: f64,
    stop: &AtomicBool,
) -> Result<u8> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(Loaded::PipelineRun(event)) = rx.recv().await {
            match event {
                RunEvent::Started(s) => log("stage_started", serde_json::json!({ "stage": s })),
                RunEvent::Skipped(s) => log("stage_skipped", serde_json::json!({ "stage": s })),
                RunEvent::Finished(s, secs) => log(
                    "stage_finished",
                    serde_json::json!({ "stage": s, "seconds": secs }),
                ),
                RunEvent::Failed(s, e) => log(
                    "stage_failed",
                    serde_json::json!({ "stage": s, "error": e }),
                ),
                RunEvent::Output(_) | RunEvent::Done(_) => {}
            }
        }
    });
    let prepared = retrain::prepare(project, deployer, args.allow_worse, tolerance, tx).await;
    let _ = printer.await;
    let mut outcome = prepared.map_err(anyhow::Error::msg)?;
    let code = match outcome.decision {
        Decision::NothingChanged | Decision::Deployed => 0,
        Decision::RefusedWorse => EXIT_REFUSED_WORSE,
        Decision::WillDeploy if stop.load(Ordering::SeqCst) => {
            log(
                "stopped",
                serde_json::json!({ "reason": "SIGTERM before deploying; production unchanged" }),
            );
            0
        }
        Decision::WillDeploy if !args.yes && !confirm_on_terminal(&outcome) => EXIT_DECLINED,
        Decision::WillDeploy => {
            let progress = |line: String| log("deploy_step", serde_json::json!({ "step": line }));
            retrain::deploy(project, deployer, &mut outcome, &progress)
                .await
                .map_err(anyhow::Error::msg)?;
            0
        }
    };
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
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let project = Project::open(config)?;
        ensure_project(&project.root)?;
        let tolerance = crate::params::Params::load(&project.root.join("params.yaml"), false)?
            .retrain
            .tolerance;
        let deployer: Arc<dyn Deployer> = crate::backend::deployer::for_config(config).await?;
        let lock_path = config.state_path("retrain.lock");
        let Some(_lock) = RunLock::acquire(&lock_path)? else {
            eprintln!(
                "another retrain or scheduler is running (lock {}); not starting",
                lock_path.display()
            );
            return Ok(ExitCode::from(EXIT_LOCKED));
        };
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
            return Ok(ExitCode::from(
                retrain_once(&project, deployer.as_ref(), &args, tolerance, &stop).await?,
            ));
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
            match retrain_once(&project, deployer.as_ref(), &args, tolerance, &stop).await {
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

/// `amesops schedule install`.
pub fn schedule(args: ScheduleArgs) -> Result<ExitCode> {
    let ScheduleCommand::Install { every, write } = args.command;
    let exe = std::env::current_exe().context("cannot find this binary's path")?;
    let dir = std::env::current_dir()?;
    let unit = |kind: &str, exec: &str, extra: &str| {
        format!(
            "[Unit]\nDescription=amesops retrain-and-redeploy\n\n[Service]\nType={kind}\nWorkingDirectory={}\nExecStart={} {exec}\n{extra}",
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
    // (file name, content) of the systemd units, the unit to enable, and the crontab line.
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
                Some(crontab_line(&interval_cron(*every))),
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
            let crontab = five_fields.then(|| crontab_line(expression));
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
            std::fs::write(folder.join(name), content)?;
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
            Some(line) => println!("# or one crontab line (crontab -e):\n{line}"),
            None => {
                println!("# crontab has no seconds field: use the systemd unit, or five fields")
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The crontab schedule closest to an interval.
fn interval_cron(every: Duration) -> String {
    let minutes = (every.as_secs() / 60).max(1);
    if minutes.is_multiple_of(24 * 60) {
        format!("0 3 */{} * *", (minutes / (24 * 60)).max(1))
    } else if minutes.is_multiple_of(60) {
        format!("0 */{} * * *", minutes / 60)
    } else {
        format!("*/{minutes} * * * *")
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
            "no dvc.yaml in {}: run retrain from the project folder",
            root.display()
        );
    }
    Ok(())
}
