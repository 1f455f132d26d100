//! `amesops deploy`, `rollback` and `destroy`, on the configured target.
//!
//! Deploy and rollback are the operations' promote and rollback (the gate, the confirmation,
//! the deploy, the tracker); this file only parses the flags, asks on the terminal and prints.
//! Every one of them changes what serves traffic, so each asks first: without `--yes` it asks on
//! the terminal (Cancel is the default; on AWS the function's name must be typed), and with no
//! terminal and no `--yes` it refuses.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use clap::Args;

use super::terminal::{
    self, EXIT_CANARY, EXIT_DECLINED, EXIT_LOCKED, EXIT_REFUSED, TerminalConfirm,
};
use crate::backend::deployer::{DeployOptions, DeployRequest, Source};
use crate::config::{Config, GlobalArgs, Target};
use crate::operations::canary;
use crate::operations::promote::{self, Decision};
use crate::operations::{self, Context, Overrides};

/// The record of the last deploy, at the project root.
pub const RECORD_FILE: &str = "deploy.json";

/// Arguments of `amesops deploy`.
#[derive(Debug, Args)]
#[command(
    long_about = "Deploy the packaged model, through the gate, with zero downtime.\n\n\
The gate first: the candidate is scored against what production serves on the same held-out rows \
(data/test.csv) and refused (exit 3, production unchanged) when it is worse by more than params.yaml \
retrain.tolerance, when it is a model the operator rolled back from, or when production cannot be read \
and verified (any error reading the live version, a version without MODEL_SHA256, a missing or altered \
artifact). Only a deployer that proves nothing is deployed yet lets a first deploy through unscored. \
Each refusal has its own explicit override: --allow-worse, --allow-rolled-back, --allow-unverified \
(an override asks to type the candidate's model id; --yes answers that too).\n\n\
Target aws: makes sure the execution role, bucket and log group exist, creates or updates the Lambda \
function, publishes a version, smoke-tests that version (GET /health, POST /predict of the first \
bundled house, priced as core-model prices it here), then moves the alias `live` to it and makes \
the HTTP API (created once, same URL forever) point at the alias. A failed smoke test leaves the \
alias where it was. Deploying an unchanged package publishes nothing.\n\n\
Target local: smoke-tests the model through the predictor router and makes it the live local \
version under .amesops/deployments.\n\n\
Exit codes: 0 deployed or unchanged, 3 refused by the gate, 4 another run holds the project lock \
(deploys wait up to 15 minutes for it first), 5 declined, 6 a watched canary (--canary PCT --watch D) \
that was not promoted: an alarm fired (rolled back at once), too few requests and nothing to replay, or \
interrupted (rolled back, or resumable with --resume as [canary] on_interrupt says)."
)]
pub struct DeployArgs {
    /// Deploy the container image last pushed by `amesops image push` (image.json beside the
    /// package) instead of the zip.
    #[arg(long)]
    pub image: bool,
    /// The package made by `amesops package` (local target: the model.json beside it).
    /// Default: dist/predictor.zip at the project root.
    #[arg(long)]
    pub package: Option<PathBuf>,
    /// The model the image holds (with --image), or the local fallback when there is no
    /// package. Default: models/model.json at the project root.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Canary: send PCT % of the traffic to the new version, the rest stays on the live one;
    /// deploy again without --canary to send all of it.
    #[arg(long, value_name = "PCT")]
    pub canary: Option<f64>,
    /// With --canary: watch the canary's CloudWatch alarms for this long (`10m`, `3s`), then
    /// promote it to all traffic when every alarm stayed OK, or roll it back at once when one
    /// fires (exit 6, naming the alarm). Settings: `[canary]` in amesops.toml.
    #[arg(long, value_name = "DURATION", requires = "canary", value_parser = crate::config::parse_duration)]
    pub watch: Option<std::time::Duration>,
    /// Continue the last canary watch that was interrupted (its state is in .amesops/canary.json).
    #[arg(long, conflicts_with_all = ["canary", "watch"])]
    pub resume: bool,
    /// Promote a watched canary even when it served fewer than `[canary] min_requests`.
    #[arg(long)]
    pub promote_anyway: bool,
    /// Log level of the function (trace, debug, info, warn, error).
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Do not ask for confirmation (the gate still decides).
    #[arg(long)]
    pub yes: bool,
    /// Override the gate: deploy even when the candidate is worse than production.
    #[arg(long)]
    pub allow_worse: bool,
    /// Override the gate: deploy even when production cannot be read and verified.
    #[arg(long)]
    pub allow_unverified: bool,
    /// Override the gate: deploy a model the operator rolled back from.
    #[arg(long)]
    pub allow_rolled_back: bool,
}

/// Arguments of `amesops rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// Version to go back to (default: the one live before the current one).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
}

/// Arguments of `amesops destroy`.
#[derive(Debug, Args)]
pub struct DestroyArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Also empty and delete the bucket (prediction records, model copies).
    #[arg(long)]
    pub delete_bucket: bool,
    /// Also delete the function's log group.
    #[arg(long)]
    pub delete_logs: bool,
}

/// Asks before a destructive change that is not a deploy (destroy): `expected` must be
/// typed when given, else `y`/`yes`.
fn confirm(question: &str, expected: Option<&str>, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    terminal::ask(&operations::Question {
        action: question.to_string(),
        target: String::new(),
        typed: expected.map(str::to_string),
        warning: None,
        weight: operations::Weight::Production,
    })
    .map_err(anyhow::Error::msg)
}

/// Takes the project's run lock for a command outside the operations (destroy), waiting.
fn lock(config: &Config) -> Result<operations::lock::RunLock> {
    operations::lock::RunLock::acquire(
        &config.state_path(operations::lock::RUN_LOCK),
        &operations::command_line(),
        operations::lock::Wait::UpTo(operations::LOCK_WAIT),
        &|holder| {
            if let Some(holder) = holder {
                eprintln!("  waiting for the run of {holder} to finish");
            }
        },
    )
    .map_err(anyhow::Error::new)
}

fn cancelled() -> Result<ExitCode> {
    eprintln!("cancelled: nothing changed");
    Ok(ExitCode::from(EXIT_DECLINED))
}

fn writable(config: &Config, what: &str) -> Result<()> {
    if config.read_only {
        bail!(
            "read-only mode (--read-only, AMESOPS_READ_ONLY or read_only in amesops.toml): {what} refused"
        );
    }
    Ok(())
}

#[cfg(feature = "aws")]
fn progress_line(line: String) {
    eprintln!("  {line}");
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

/// The operations' context for `config`: its deployer, root and state.
pub async fn context(config: &Config) -> Result<Context> {
    let deployer = crate::backend::deployer::for_config(config).await?;
    let ctx = Context::new(config, deployer);
    if ctx.store.is_some() {
        return Ok(ctx);
    }
    // The gate's shadow replay reads the target's records; without them it says so and the
    // held-out comparison decides alone.
    match crate::backend::store::open_store(&crate::backend::store::store_uri(config), config).await
    {
        Ok(store) => Ok(ctx.with_store(store)),
        Err(_) => Ok(ctx),
    }
}

/// Exit code and message for an operation that did not start or failed.
pub fn failed(error: operations::Error) -> Result<ExitCode> {
    if error.is_busy() {
        eprintln!("{error}");
        return Ok(ExitCode::from(EXIT_LOCKED));
    }
    Err(anyhow::Error::new(error))
}

/// `amesops deploy`.
pub fn deploy(args: DeployArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    writable(&config, "deploy")?;
    #[cfg(not(feature = "aws"))]
    if config.target == Target::Aws {
        return no_aws();
    }
    let package = args
        .package
        .clone()
        .unwrap_or_else(|| config.root_path("dist/predictor.zip"));
    let model = args
        .model
        .clone()
        .unwrap_or_else(|| config.root_path("models/model.json"));
    let source = if args.image {
        Source::Image { package, model }
    } else {
        Source::Package { package, model }
    };
    let request = DeployRequest {
        source,
        options: DeployOptions {
            canary: args.canary,
            log_level: Some(args.log_level.clone()),
        },
    };
    let overrides = Overrides {
        allow_worse: args.allow_worse,
        allow_unverified: args.allow_unverified,
        allow_rolled_back: args.allow_rolled_back,
    };
    if args.resume {
        return runtime()?.block_on(resume(&config, &args));
    }
    runtime()?.block_on(async {
        let ctx = context(&config).await?;
        let events = terminal::printer();
        let confirm = TerminalConfirm { yes: args.yes };
        let lock = match ctx.lock(true, &events).await {
            Ok(lock) => lock,
            Err(error) => return failed(error),
        };
        let promoted = match promote::promote_held(
            &ctx, &lock, &request, overrides, None, &confirm, &events,
        )
        .await
        {
            Ok(promoted) => promoted,
            Err(error) => return failed(error),
        };
        // The watch takes the lock again only to move the alias, so an operator's rollback
        // can stop it meanwhile.
        drop(lock);
        if let (Some(duration), Decision::Deployed, Some(report)) =
            (args.watch, promoted.decision, &promoted.deployed)
        {
            print_report(report, "canary");
            let watch = canary::Watch {
                duration,
                config: config.canary.clone(),
                promote_anyway: args.promote_anyway,
            };
            let stop = interrupt();
            let outcome =
                match canary::watch(&ctx, report, &watch, stop, &events).await {
                    Ok(outcome) => outcome,
                    Err(error) => return failed(error),
                };
            return Ok(watch_ended(&outcome));
        }
        match promoted.decision {
            Decision::Refused => {
                eprintln!("{}", promoted.summary());
                Ok(ExitCode::from(EXIT_REFUSED))
            }
            Decision::Declined => cancelled(),
            Decision::Deployed | Decision::NothingChanged => {
                let Some(report) = &promoted.deployed else {
                    println!("{}", promoted.summary());
                    return Ok(ExitCode::SUCCESS);
                };
                print_report(
                    report,
                    if args.canary.is_some() {
                        "canary"
                    } else {
                        "deployed"
                    },
                );
                if config.target == Target::Local {
                    println!(
                        "live model: {} (the console serves it)",
                        config
                            .state_path("deployments")
                            .join(format!("v{}", report.version))
                            .join("model.json")
                            .display()
                    );
                } else {
                    let body = crate::operations::monitor::dashboard::body(
                        &config.aws.function,
                        &config.aws.alias,
                        &report.model_id,
                        config.aws.region.as_deref().unwrap_or("us-east-1"),
                    );
                    let path = config.root_path("dist/dashboard.json");
                    match core_model::files::write_bytes(
                        &path,
                        serde_json::to_string_pretty(&body)?.as_bytes(),
                    ) {
                        Ok(()) => println!(
                            "dashboard: {} (aws cloudwatch put-dashboard --dashboard-name {} --dashboard-body file://{})",
                            path.display(),
                            config.aws.function,
                            path.display()
                        ),
                        Err(e) => eprintln!("dashboard not written to {}: {e}", path.display()),
                    }
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// A signal (Ctrl-C, SIGTERM, SIGHUP) wakes the returned notifier once.
fn interrupt() -> std::sync::Arc<tokio::sync::Notify> {
    let stop = std::sync::Arc::new(tokio::sync::Notify::new());
    let notify = stop.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            notify.notify_one();
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        notify.notify_one();
    });
    stop
}

/// Prints how a watch ended; its exit code.
fn watch_ended(outcome: &canary::Outcome) -> ExitCode {
    match outcome {
        canary::Outcome::Promoted { report } => {
            println!("{}", outcome.summary());
            print_report(report, "deployed");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{}", outcome.summary());
            ExitCode::from(EXIT_CANARY)
        }
    }
}

/// `amesops deploy --resume`.
async fn resume(config: &Config, args: &DeployArgs) -> Result<ExitCode> {
    let ctx = context(config).await?;
    let events = terminal::printer();
    let watch = canary::Watch {
        duration: std::time::Duration::ZERO,
        config: config.canary.clone(),
        promote_anyway: args.promote_anyway,
    };
    let stop = interrupt();
    match canary::resume(&ctx, &watch, stop, &events).await {
        Ok(outcome) => Ok(watch_ended(&outcome)),
        Err(error) => failed(error),
    }
}

fn print_report(report: &crate::backend::deployer::DeployReport, action: &str) {
    if report.changed {
        println!(
            "{action}: version {} serves model {}",
            report.version, report.model_id
        );
    } else {
        println!(
            "unchanged: version {} already serves model {}",
            report.version, report.model_id
        );
    }
    if !report.url.is_empty() {
        println!("url: {}", report.url);
    }
}

#[cfg(not(feature = "aws"))]
fn no_aws() -> Result<ExitCode> {
    bail!(
        "this build has no AWS support: build with `cargo build --release -p console --features aws`"
    )
}

/// `amesops rollback`.
pub fn rollback(args: RollbackArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    writable(&config, "rollback")?;
    #[cfg(not(feature = "aws"))]
    if config.target == Target::Aws {
        return no_aws();
    }
    runtime()?.block_on(async {
        let ctx = context(&config).await?;
        let events = terminal::printer();
        let confirm = TerminalConfirm { yes: args.yes };
        let outcome =
            match operations::rollback::rollback(&ctx, args.to.as_deref(), &confirm, &events).await
            {
                Ok(outcome) => outcome,
                Err(error) => return failed(error),
            };
        match &outcome.report {
            None => cancelled(),
            Some(report) => {
                print_report(report, "rolled back");
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// `amesops destroy`.
pub fn destroy(args: DestroyArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    writable(&config, "destroy")?;
    let _lock = lock(&config)?;
    match config.target {
        Target::Local => {
            let dir = config.state_path("deployments");
            if !confirm(&format!("Delete every local deployment under {}?", dir.display()), None, args.yes)? {
                return cancelled();
            }
            if dir.exists() {
                std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
            }
            let record = config.root_path(RECORD_FILE);
            let _ = std::fs::remove_file(&record);
            println!("removed {} and {}", dir.display(), record.display());
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "aws")]
        Target::Aws => runtime()?.block_on(async {
            use crate::backend::deployer::aws::DestroyOptions;
            let deployer = crate::backend::deployer::aws::AwsDeployer::connect(&config.aws, &config.root)
                .await?;
            let question = format!(
                "Destroy Lambda function {} (all versions, alias {}), HTTP API {} and the managed role in {}?",
                config.aws.function,
                config.aws.alias,
                config.aws.api_name,
                deployer.region()
            );
            if !confirm(&question, Some(&config.aws.function), args.yes)? {
                return cancelled();
            }
            let options = DestroyOptions { delete_bucket: args.delete_bucket, delete_logs: args.delete_logs };
            deployer.destroy(options, &progress_line).await?;
            println!("destroyed the deployment of {}", config.aws.function);
            Ok(ExitCode::SUCCESS)
        }),
        #[cfg(not(feature = "aws"))]
        Target::Aws => no_aws(),
    }
}
