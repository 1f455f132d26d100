//! `amesops shadow`: replay the stored production requests of a window through a candidate
//! model and the production model, in process, and report how much prices move.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use core_model::Artifact;

use crate::backend::deployer::Production;
use crate::backend::store::{open_store, store_uri};
use crate::config::{Config, GlobalArgs};
use crate::operations::monitor::dates;
use crate::operations::shadow;

/// Arguments of `amesops shadow`.
#[derive(Debug, Args)]
pub struct ShadowArgs {
    /// The candidate model (default: models/model.json at the project root).
    #[arg(long)]
    pub candidate: Option<PathBuf>,
    /// The window: days (7d) or weeks (1w) back from today.
    #[arg(long, default_value = "7d", value_parser = dates::parse_since)]
    pub since: u32,
    /// The store: a folder or s3://bucket[/prefix] (default: the configured target's).
    #[arg(long)]
    pub store: Option<String>,
    /// The production model to compare with (default: what the live alias serves).
    #[arg(long)]
    pub production: Option<PathBuf>,
    /// Print JSON (`records`, `change`, `top`, `realized`, …) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `amesops shadow`.
pub fn shadow(args: ShadowArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    let candidate_path = args
        .candidate
        .clone()
        .unwrap_or_else(|| config.root_path("models/model.json"));
    let candidate = Artifact::load(&candidate_path)
        .with_context(|| format!("cannot read the candidate {}", candidate_path.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let production = match &args.production {
            Some(path) => Artifact::load(path)
                .with_context(|| format!("cannot read the model {}", path.display()))?,
            None => {
                let deployer = crate::backend::deployer::for_config(&config).await?;
                match deployer.production().await? {
                    Production::Serving(served) => Artifact::from_bytes(&served.artifact)
                        .map_err(|e| anyhow::anyhow!("production's model does not load: {e}"))?,
                    Production::Nothing => bail!(
                        "nothing is deployed yet: there is no production model to compare with (deploy first, or pass --production MODEL)"
                    ),
                }
            }
        };
        let uri = args.store.clone().unwrap_or_else(|| store_uri(&config));
        let store = open_store(&uri, &config)
            .await
            .map_err(anyhow::Error::msg)?;
        let request = shadow::Request {
            since_days: args.since,
            today: dates::today(),
            candidate: Arc::new(candidate),
            production: Arc::new(production),
        };
        let report = shadow::shadow(store.as_ref(), &request).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print!("{}", shadow::text(&report));
        }
        Ok(ExitCode::SUCCESS)
    })
}
