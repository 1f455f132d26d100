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
                .block_on(deployer.status())
                .map_err(anyhow::Error::msg)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "target": "local", "deployment": info })
                    )?
                );
            } else {
                println!(
                    "target    local ({})",
                    config.state_path("deployments").display()
                );
                print_info(&info);
            }
            Ok(ExitCode::SUCCESS)
        }
        #[cfg(feature = "aws")]
        Target::Aws => runtime.block_on(async {
            let deployer =
                crate::backend::deployer::aws::AwsDeployer::connect(&config.aws, &config.root)
                    .await
                    .map_err(anyhow::Error::msg)?;
            let status = deployer.inspect(true).await.map_err(anyhow::Error::msg)?;
            if args.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({ "target": "aws", "deployment": status })
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
