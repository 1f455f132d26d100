//! `amesops status`: what is deployed on the configured target, and whether it answers.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;

use crate::backend::deployer::{DeployInfo, Deployer};
use crate::config::{Config, GlobalArgs, Target};

/// Arguments of `amesops status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The last canary watch as the alias shows it now: `watching`, `resumable` (interrupted with
/// the share left in place, or its watcher died), `promoted` or `rolled_back`. What the alias
/// does wins over the state file: a canary whose share is gone is not resumable.
pub fn canary_status(config: &Config, info: &DeployInfo) -> Option<serde_json::Value> {
    let state = crate::operations::canary::WatchState::load(&config.state_dir)?;
    let routes = info
        .routing
        .as_ref()
        .is_some_and(|(version, _)| *version == state.plan.version);
    let serves = info.alias_version.as_deref() == Some(state.plan.version.as_str());
    let label = match (state.label(), routes, serves) {
        ("watching" | "resumable", true, _) => state.label(),
        (_, _, true) => "promoted",
        (_, false, false) => "rolled_back",
        (label, true, false) => label,
    };
    Some(serde_json::json!({
        "state": label,
        "version": state.plan.version,
        "model_id": state.plan.model_id,
        "old_version": state.plan.old_version,
        "percent": state.percent,
        "alias_routes_canary": routes,
        "seconds_left": state.seconds_left(),
        "ends_at": state.ends_at,
        "alarms": state.states,
        "replayed": state.replayed,
        "reason": state.reason,
        "resume": (label == "resumable").then_some("amesops deploy --resume"),
    }))
}

fn print_canary(canary: &serde_json::Value) {
    let text = |key: &str| canary[key].as_str().unwrap_or("?").to_string();
    let mut line = format!(
        "canary    version {} ({}% of traffic) vs version {}: {}",
        text("version"),
        canary["percent"].as_f64().unwrap_or_default(),
        text("old_version"),
        text("state").replace('_', " ")
    );
    match text("state").as_str() {
        "watching" => line.push_str(&format!(
            ", {} s left",
            canary["seconds_left"].as_i64().unwrap_or_default()
        )),
        "resumable" => line.push_str(
            " — `amesops deploy --resume` continues the watch, `amesops rollback` stops it",
        ),
        _ => {}
    }
    if let Some(reason) = canary["reason"].as_str() {
        line.push_str(&format!(" ({reason})"));
    }
    println!("{line}");
    for alarm in canary["alarms"].as_array().into_iter().flatten() {
        println!(
            "  {:<18} {}",
            alarm["state"].as_str().unwrap_or("?"),
            alarm["name"].as_str().unwrap_or("?")
        );
    }
}

fn print_info(info: &DeployInfo) {
    println!("function  {}", info.function);
    match &info.alias_version {
        Some(version) => {
            let canary = info
                .routing
                .as_ref()
                .map(|(other, weight)| {
                    format!(" (canary: {:.0}% to version {other})", weight * 100.0)
                })
                .unwrap_or_default();
            println!(
                "alias     {} -> version {version}, model {}{canary}",
                info.alias,
                info.model_id.as_deref().unwrap_or("?")
            );
        }
        None => println!("alias     {}: not deployed", info.alias),
    }
    if !info.url.is_empty() {
        println!("url       {}", info.url);
    }
    if !info.versions.is_empty() {
        println!("versions");
        for version in &info.versions {
            println!(
                "  {:>4}  model {}  {}",
                version.version, version.model_id, version.created
            );
        }
    }
}

/// `amesops status`.
pub fn status(args: StatusArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match config.target {
        Target::Local => {
            let deployer = crate::backend::deployer::local::LocalDeployer::new(
                config.state_path("deployments"),
                None,
                String::new(),
            );
            let info = runtime
                .block_on(deployer.status())?;
            let canary = canary_status(&config, &info);
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "target": "local", "deployment": info, "canary": canary })
                    )?
                );
            } else {
                println!(
                    "target    local ({})",
                    config.state_path("deployments").display()
                );
                print_info(&info);
                if let Some(canary) = &canary {
                    print_canary(canary);
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "aws")]
        Target::Aws => runtime.block_on(async {
            let deployer =
                crate::backend::deployer::aws::AwsDeployer::connect(&config.aws, &config.root)
                    .await?;
            let status = deployer.inspect(true).await?;
            let canary = canary_status(&config, &status.info);
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "target": "aws", "deployment": status, "canary": canary })
                    )?
                );
                return Ok(ExitCode::SUCCESS);
            }
            println!("target    aws ({})", status.region);
            if !status.exists {
                println!(
                    "function  {}: does not exist (amesops deploy creates it)",
                    config.aws.function
                );
                return Ok(ExitCode::SUCCESS);
            }
            if let Some(arn) = &status.function_arn {
                println!("arn       {arn}");
            }
            if let Some(api) = &status.api_id {
                println!("api       {api}");
            }
            print_info(&status.info);
            if let Some(canary) = &canary {
                print_canary(canary);
            }
            if let Some(health) = &status.health {
                match (health.ok, &health.detail) {
                    (true, _) => println!(
                        "health    ok (model {})",
                        health.model_id.as_deref().unwrap_or("?")
                    ),
                    (false, Some(detail)) => println!("health    failing: {detail}"),
                    (false, None) => {
                        println!("health    failing: HTTP {}", health.status.unwrap_or(0))
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }),
        #[cfg(not(feature = "aws"))]
        Target::Aws => anyhow::bail!(
            "this build has no AWS support: build with `cargo build --release -p console --features aws`"
        ),
    }
}
