//! `amesops serve`: the predictor router on a local socket.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use predictor::logging::{LogFormat, LogSettings, parse_level};
use predictor::{AppState, loader, store};

use crate::backend::deployer::local::LocalDeployer;
use crate::config::Config;
use crate::config::GlobalArgs;

/// Log line format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One JSON object per line (what CloudWatch receives from Lambda).
    Json,
    /// Human-readable.
    Text,
}

/// Arguments of `amesops serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// The model artifact: a path or s3://bucket/key. Default: the live local version (what
    /// `amesops deploy` made live under `.amesops/deployments/`), else `models/model.json`.
    #[arg(long)]
    pub model: Option<String>,
    /// Where prediction records go: a folder or s3://bucket[/prefix].
    #[arg(long, default_value = ".amesops")]
    pub store: String,
    /// Append logs to this file instead of standard output.
    #[arg(long)]
    pub log_file: Option<PathBuf>,
    /// Log line format.
    #[arg(long, value_enum, default_value = "json")]
    pub log_format: Format,
    /// Least severe log level (trace, debug, info, warn, error).
    #[arg(long, default_value = "info")]
    pub log_level: String,
}

/// `amesops serve`.
pub fn serve(args: ServeArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let model = match &args.model {
        Some(model) => model.clone(),
        None => default_model(global)?,
    };
    let level = parse_level(&args.log_level).with_context(|| {
        format!(
            "unknown log level {:?}; use trace, debug, info, warn or error",
            args.log_level
        )
    })?;
    LogSettings {
        format: match args.log_format {
            Format::Json => LogFormat::Json,
            Format::Text => LogFormat::Text,
        },
        level,
        file: args.log_file.clone(),
    }
    .init()
    .map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let model = loader::load_model(&model, None).await?;
        let store = store::open_store(&args.store).await?;
        let listener = tokio::net::TcpListener::bind(&args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        eprintln!(
            "serving model {} on http://{local} (records -> {})",
            model.id,
            store.describe()
        );
        let state = AppState::new(model, store);
        predictor::serve::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server failed")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// What `serve` loads without `--model`: the live local version, so a local server answers with
/// what production answers; the freshly trained model only when nothing is deployed.
fn default_model(global: &GlobalArgs) -> Result<String> {
    let config = Config::load(global)?;
    let deployer = LocalDeployer::new(config.state_path("deployments"), None, String::new());
    if let Some(live) = deployer.live_model().filter(|p| p.exists()) {
        eprintln!("serving the live local version: {}", live.display());
        return Ok(live.display().to_string());
    }
    Ok(config.root.join("models/model.json").display().to_string())
}
