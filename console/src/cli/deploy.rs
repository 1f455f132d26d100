//! `amesops deploy`, `rollback` and `destroy`, on the configured target.
//!
//! Every one of them changes what serves traffic, so each asks first: without `--yes` it asks on
//! the terminal (Cancel is the default; on AWS the function's name must be typed), and with no
//! terminal and no `--yes` it refuses.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::backend::deployer::local::LocalDeployer;
use crate::backend::deployer::{DeployReport, Deployer};
use crate::config::{Config, GlobalArgs, Target};

/// The record of the last deploy, at the project root.
pub const RECORD_FILE: &str = "deploy.json";

/// Arguments of `amesops deploy`.
#[derive(Debug, Args)]
#[command(long_about = "Deploy the packaged model, with zero downtime.\n\n\
Target aws: makes sure the execution role, bucket and log group exist, creates or updates the Lambda \
function, publishes a version, smoke-tests that version (GET /health, POST /predict of the first \
bundled house, priced as core-model prices it here), then moves the alias `live` to it and makes \
the HTTP API (created once, same URL forever) point at the alias. A failed smoke test leaves the \
alias where it was. Deploying an unchanged package publishes nothing.\n\n\
Target local: smoke-tests the model through the predictor router and makes it the live local \
version under .amesops/deployments.")]
pub struct DeployArgs {
    /// Deploy the container image last pushed by `amesops image push` (image.json beside the
    /// package) instead of the zip.
    #[arg(long)]
    pub image: bool,
    /// The package made by `amesops package` (local target: the model.json beside it).
    #[arg(long, default_value = "dist/predictor.zip")]
    pub package: PathBuf,
    /// The model the image holds (with --image), or the local fallback when there is no package.
    #[arg(long, default_value = "models/model.json")]
    pub model: PathBuf,
    /// Canary: send PCT % of the traffic to the new version, the rest stays on the live one;
    /// deploy again without --canary to send all of it.
    #[arg(long, value_name = "PCT")]
    pub canary: Option<f64>,
    /// Log level of the function (trace, debug, info, warn, error).
    #[arg(long, default_value = "info")]
    pub log_level: String,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
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

/// Asks before a change: `expected` must be typed when given, else `y`/`yes`.
pub fn confirm(question: &str, expected: Option<&str>, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "refusing without confirmation: there is no terminal to ask on; pass --yes to go ahead"
        );
    }
    match expected {
        Some(name) => eprint!("{question}\nType {name} to confirm (anything else cancels): "),
        None => eprint!("{question} [y/N] "),
    }
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .context("cannot read the answer")?;
    let answer = answer.trim();
    Ok(match expected {
        Some(name) => answer == name,
        None => matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"),
    })
}

fn cancelled() -> Result<ExitCode> {
    eprintln!("cancelled: nothing changed");
    Ok(ExitCode::FAILURE)
}

fn writable(config: &Config, what: &str) -> Result<()> {
    if config.read_only {
        bail!(
            "read-only mode (--read-only, AMESOPS_READ_ONLY or read_only in amesops.toml): {what} refused"
        );
    }
    Ok(())
}

fn progress_line(line: String) {
    eprintln!("  {line}");
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

fn local_deployer(config: &Config) -> LocalDeployer {
    LocalDeployer::new(config.state_path("deployments"), None, String::new())
}

fn report(report: &DeployReport, action: &str) {
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

/// `amesops deploy`.
pub fn deploy(args: DeployArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    writable(&config, "deploy")?;
    match config.target {
        Target::Local => deploy_local(&args, &config),
        Target::Aws => deploy_aws(&args, &config),
    }
}

fn deploy_local(args: &DeployArgs, config: &Config) -> Result<ExitCode> {
    let packaged = super::package::package_dir(&args.package).join("model.json");
    let model = if packaged.is_file() {
        packaged
    } else {
        args.model.clone()
    };
    let bytes = std::fs::read(&model).with_context(|| {
        format!(
            "cannot read {}; run amesops package (or train) first",
            model.display()
        )
    })?;
    let loaded = core_model::Artifact::from_bytes(&bytes)
        .with_context(|| format!("{} is not a usable model", model.display()))?;
    if !confirm(
        &format!(
            "Deploy model {} ({}) to the local predictor?",
            loaded.id,
            model.display()
        ),
        None,
        args.yes,
    )? {
        return cancelled();
    }
    let deployer = local_deployer(config);
    let runtime = runtime()?;
    let done = runtime
        .block_on(deployer.deploy(&model, &progress_line))
        .map_err(anyhow::Error::msg)?;
    write_local_record(&done)?;
    if done.changed {
        runtime.block_on(super::production::register(config, &bytes, &done.model_id));
    }
    report(&done, "deployed");
    println!(
        "live model: {} (the console serves it)",
        deployer
            .model_path(done.version.parse().unwrap_or(0))
            .display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `deploy.json` for the local target.
fn write_local_record(report: &DeployReport) -> Result<()> {
    let record = serde_json::json!({
        "target": "local",
        "function": "local predictor",
        "version": report.version,
        "alias": "live",
        "url": report.url,
        "model_id": report.model_id,
        "time": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
    });
    let mut bytes = serde_json::to_vec_pretty(&record)?;
    bytes.push(b'\n');
    crate::files::write_bytes(Path::new(RECORD_FILE), &bytes)
}

#[cfg(not(feature = "aws"))]
fn no_aws() -> Result<ExitCode> {
    bail!(
        "this build has no AWS support: build with `cargo build --release -p console --features aws`"
    )
}

#[cfg(not(feature = "aws"))]
fn deploy_aws(_: &DeployArgs, _: &Config) -> Result<ExitCode> {
    no_aws()
}

#[cfg(feature = "aws")]
async fn connect(
    config: &Config,
    package: &Path,
) -> Result<crate::backend::deployer::aws::AwsDeployer> {
    crate::backend::deployer::aws::AwsDeployer::connect(&config.aws, Path::new("."), package)
        .await
        .map_err(anyhow::Error::msg)
}

#[cfg(feature = "aws")]
fn deploy_aws(args: &DeployArgs, config: &Config) -> Result<ExitCode> {
    use crate::backend::deployer::aws::DeployOptions;
    use crate::backend::deployer::aws::package::{Candidate, IMAGE_RECORD_FILE, package_dir};
    let candidate = if args.image {
        Candidate::from_image(
            &package_dir(&args.package).join(IMAGE_RECORD_FILE),
            &args.model,
        )
    } else {
        Candidate::from_zip(&args.package)
    }
    .map_err(anyhow::Error::msg)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let deployer = connect(config, &args.package).await?;
        let question = format!(
            "Deploy model {} ({}) to Lambda function {} in {}{}?",
            candidate.model_id,
            candidate.origin,
            config.aws.function,
            deployer.region(),
            args.canary
                .map(|p| format!(" as a {p}% canary"))
                .unwrap_or_default()
        );
        if !confirm(&question, Some(&config.aws.function), args.yes)? {
            return cancelled();
        }
        let options = DeployOptions {
            canary: args.canary,
            log_level: Some(args.log_level.clone()),
        };
        let done = deployer
            .deploy_candidate(&candidate, &options, &progress_line)
            .await
            .map_err(anyhow::Error::msg)?;
        if done.changed && args.canary.is_none() {
            super::production::register(config, &candidate.model, &done.model_id).await;
        }
        report(
            &done,
            if args.canary.is_some() {
                "canary"
            } else {
                "deployed"
            },
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `amesops rollback`.
pub fn rollback(args: RollbackArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    writable(&config, "rollback")?;
    let runtime = runtime()?;
    let done = match config.target {
        Target::Local => {
            if !confirm("Roll the local predictor back?", None, args.yes)? {
                return cancelled();
            }
            let done = runtime
                .block_on(local_deployer(&config).rollback(args.to.as_deref(), &progress_line))
                .map_err(anyhow::Error::msg)?;
            write_local_record(&done)?;
            done
        }
        #[cfg(feature = "aws")]
        Target::Aws => runtime.block_on(async {
            let deployer = connect(&config, Path::new("dist/predictor.zip")).await?;
            let question = format!(
                "Roll back alias {} of Lambda function {} in {}{}?",
                config.aws.alias,
                config.aws.function,
                deployer.region(),
                args.to
                    .as_deref()
                    .map(|v| format!(" to version {v}"))
                    .unwrap_or_default()
            );
            if !confirm(&question, Some(&config.aws.function), args.yes)? {
                bail!("cancelled: nothing changed");
            }
            deployer
                .rollback(args.to.as_deref(), &progress_line)
                .await
                .map_err(anyhow::Error::msg)
        })?,
        #[cfg(not(feature = "aws"))]
        Target::Aws => return no_aws(),
    };
    runtime.block_on(super::production::roll_back(&config));
    report(&done, "rolled back");
    Ok(ExitCode::SUCCESS)
}

/// `amesops destroy`.
pub fn destroy(args: DestroyArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    writable(&config, "destroy")?;
    match config.target {
        Target::Local => {
            let dir = config.state_path("deployments");
            if !confirm(&format!("Delete every local deployment under {}?", dir.display()), None, args.yes)? {
                return cancelled();
            }
            if dir.exists() {
                std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
            }
            let _ = std::fs::remove_file(RECORD_FILE);
            println!("removed {} and {RECORD_FILE}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "aws")]
        Target::Aws => runtime()?.block_on(async {
            use crate::backend::deployer::aws::DestroyOptions;
            let deployer = connect(&config, Path::new("dist/predictor.zip")).await?;
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
            deployer.destroy(options, &progress_line).await.map_err(anyhow::Error::msg)?;
            println!("destroyed the deployment of {}", config.aws.function);
            Ok(ExitCode::SUCCESS)
        }),
        #[cfg(not(feature = "aws"))]
        Target::Aws => no_aws(),
    }
}
