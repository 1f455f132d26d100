//! `amesops sales import`, `amesops monitor`, `amesops simulate`: closed sales, realized
//! error, drift, and demo traffic.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use core_model::artifact::{Artifact, LoadedArtifact};

use crate::backend::deployer::Production;
use crate::backend::store::{ObjectStore, open_store, store_uri};
use crate::config::{Config, GlobalArgs, Target};
use crate::operations::monitor::{self, Report, dates, sales, simulate, sql};

/// Arguments of `amesops sales`.
#[derive(Debug, Args)]
pub struct SalesArgs {
    /// What to do with sales.
    #[command(subcommand)]
    pub command: SalesCommand,
}

/// `amesops sales` subcommands.
#[derive(Debug, Subcommand)]
pub enum SalesCommand {
    /// Store closed sales beside the records (`sales/dt=YYYY-MM-DD/`), joined to their predictions.
    ///
    /// The CSV has `prediction_id` or `Id` (the house), `SalePrice` and `sold_on`
    /// (YYYY-MM-DD). A sale joins its prediction by id, else the newest prediction of that
    /// house on or before the sale. Every row is checked first (unknown prediction id,
    /// non-positive price, future or malformed date): one bad row and nothing is written.
    /// Importing the same file again changes nothing.
    Import(ImportArgs),
}

/// Arguments of `amesops sales import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The sales CSV.
    pub file: PathBuf,
    /// The store: a folder or s3://bucket[/prefix] (default: the configured target's).
    #[arg(long)]
    pub store: Option<String>,
    /// A model artifact whose interval judges coverage of records without their own (default:
    /// the production model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// SQL dialects `monitor --sql` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Dialect {
    /// Amazon Athena: table DDL with partition projection, then the queries.
    Athena,
    /// DuckDB: `read_json` with `hive_partitioning` over the store folder.
    Duckdb,
}

/// Arguments of `amesops monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The store: a folder or s3://bucket[/prefix] (default: the configured target's).
    #[arg(long)]
    pub store: Option<String>,
    /// The model whose reference sketch drift is measured against (default: production).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The window: days (30d) or weeks (4w) back from today.
    #[arg(long, default_value = "30d", value_parser = dates::parse_since)]
    pub since: u32,
    /// Print JSON (`performance`, `drift`, `cache`, …) instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Print the same figures as SQL for Athena or DuckDB instead of computing them.
    #[arg(long, value_enum)]
    pub sql: Option<Dialect>,
}

/// Arguments of `amesops simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Days of traffic to replay, ending today.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// Remove the simulated records and their sales instead.
    #[arg(long)]
    pub clear: bool,
    /// Houses to replay (default: the held-out split, data/test.csv, else the bundled data).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Seed of the replay.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Runtime::new().context("cannot start the async runtime")
}

/// The model to measure against: `--model`, else production (none when nothing is deployed).
async fn reference_model(
    config: &Config,
    path: Option<&PathBuf>,
) -> Result<(Option<LoadedArtifact>, Option<String>)> {
    let production = match crate::backend::deployer::for_config(config).await {
        Ok(deployer) => match deployer.production().await {
            Ok(Production::Serving(served)) => Artifact::from_bytes(&served.artifact).ok(),
            _ => None,
        },
        Err(_) => None,
    };
    let production_id = production.as_ref().map(|p| p.id.clone());
    let model = match path {
        Some(path) => Some(
            Artifact::load(path)
                .with_context(|| format!("cannot read the model {}", path.display()))?,
        ),
        None => production,
    };
    Ok((model, production_id))
}

async fn store_for(config: &Config, store: Option<&String>) -> Result<Arc<dyn ObjectStore>> {
    let uri = store.cloned().unwrap_or_else(|| store_uri(config));
    open_store(&uri, config).await.map_err(anyhow::Error::msg)
}

/// `amesops sales`.
pub fn sales(args: SalesArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let SalesCommand::Import(args) = args.command;
    let config = Config::load(global)?;
    if config.read_only {
        bail!("read-only: refused to import sales into the store");
    }
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    runtime()?.block_on(async {
        let store = store_for(&config, args.store.as_ref()).await?;
        let (model, _) = reference_model(&config, args.model.as_ref()).await?;
        let mut intervals = sales::Intervals::new();
        if let Some(model) = &model {
            let i = &model.artifact.model.interval;
            intervals.insert(model.id.clone(), [i.low_log, i.high_log]);
        }
        let imported = sales::import(store.as_ref(), &bytes, dates::today(), &intervals).await?;
        if args.json {
            println!("{}", serde_json::to_string_pretty(&imported)?);
        } else if imported.problems.is_empty() {
            println!(
                "{} sales stored in {} ({} already there unchanged)",
                imported.stored,
                store.describe(),
                imported.unchanged
            );
        } else {
            for problem in &imported.problems {
                eprintln!("{}: {problem}", args.file.display());
            }
            eprintln!(
                "{} bad rows: nothing was stored; fix them and import again",
                imported.problems.len()
            );
        }
        Ok(if imported.problems.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        })
    })
}

/// Computes the monitoring report for the configured (or given) store and model.
pub async fn report(
    config: &Config,
    store: Option<&String>,
    model: Option<&PathBuf>,
    since_days: u32,
) -> Result<Report> {
    let store = store_for(config, store).await?;
    let (model, production) = reference_model(config, model).await?;
    let request = monitor::Request {
        since_days,
        today: dates::today(),
        model_id: model.as_ref().map(|m| m.id.clone()),
        sketch: model.and_then(|m| m.artifact.reference),
        production,
    };
    Ok(monitor::monitor(store.as_ref(), &request).await?)
}

/// `amesops monitor`.
pub fn monitor(args: MonitorArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    let rt = runtime()?;
    if let Some(dialect) = args.sql {
        let uri = args.store.clone().unwrap_or_else(|| store_uri(&config));
        let (model, production) = rt.block_on(reference_model(&config, args.model.as_ref()))?;
        let sketch = model.as_ref().and_then(|m| m.artifact.reference.as_ref());
        let from = dates::day_string(monitor::window_start(dates::today(), args.since));
        let text = match dialect {
            Dialect::Duckdb => sql::duckdb(&uri, &from, sketch, production.as_deref()),
            Dialect::Athena => sql::athena(&uri, &from, sketch, production.as_deref()),
        };
        println!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    let report = rt.block_on(report(
        &config,
        args.store.as_ref(),
        args.model.as_ref(),
        args.since,
    ))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text_report(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as text tables.
pub fn text_report(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} · {} → {} · {} records · {} sales · model {}\n",
        report.store,
        report.from,
        report.to,
        report.records,
        report.sales,
        report.model_id.as_deref().unwrap_or("?")
    ));
    out.push_str("\nrealized performance (per ISO week of the sale)\n");
    if report.performance.is_empty() {
        out.push_str("  no sales yet\n");
    } else {
        out.push_str(&format!(
            "  {:<9} {:<14} {:>5} {:>9} {:>10} {:>7} {:>9} {:>10}\n",
            "week", "model", "n", "rmse_log", "mae $", "mape %", "coverage", "bias $"
        ));
        for p in &report.performance {
            out.push_str(&format!(
                "  {:<9} {:<14} {:>5} {:>9.4} {:>10.0} {:>7.2} {:>9} {:>10.0}\n",
                p.week,
                format!("{}{}", p.model_id, if p.production { "*" } else { "" }),
                p.n,
                p.rmse_log,
                p.mae,
                p.mape,
                p.coverage
                    .map(|c| format!("{:.1}%", 100.0 * c))
                    .unwrap_or_else(|| "–".to_string()),
                p.bias
            ));
        }
        out.push_str("  * production model\n");
    }
    out.push_str("\ndrift (PSI against the training rows; flagged above 0.2)\n");
    for d in report.drift.iter().take(15) {
        out.push_str(&format!(
            "  {:<16} psi {:>7.3}  missing {:+.1} pts  n {:>7}{}\n",
            d.field,
            d.psi,
            100.0 * d.missing_rate_change,
            d.n,
            if d.flagged { "  DRIFT" } else { "" }
        ));
    }
    if report.drift.len() > 15 {
        out.push_str(&format!(
            "  … {} more fields below (--json lists all)\n",
            report.drift.len() - 15
        ));
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out.push_str(&format!(
        "read: {} days cached, {} computed, {} records\n",
        report.cache.days_cached, report.cache.days_computed, report.cache.records_read
    ));
    out
}

/// `amesops simulate`.
pub fn simulate(args: SimulateArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    if config.target != Target::Local {
        bail!("simulate writes demo traffic into the local store only; use --target local");
    }
    if config.read_only {
        bail!("read-only: refused to write simulated traffic");
    }
    let rt = runtime()?;
    rt.block_on(async {
        let store = store_for(&config, None).await?;
        if args.clear {
            let cleared = simulate::clear(store.as_ref()).await?;
            println!(
                "removed {} simulated records and {} of their sales from {}",
                cleared.records,
                cleared.sales,
                store.describe()
            );
            return Ok(ExitCode::SUCCESS);
        }
        let (model, _) = reference_model(&config, None).await?;
        let Some(model) = model else {
            bail!("nothing is deployed locally: run `amesops` (or `amesops deploy`) first");
        };
        let data = args.data.clone().unwrap_or_else(|| {
            let test = config.root_path("data/test.csv");
            if test.exists() {
                test
            } else {
                config.root_path("datasets/ames.csv")
            }
        });
        let bytes = std::fs::read(&data)
            .with_context(|| format!("cannot read {}", data.display()))?;
        let table = core_model::Table::read(bytes.as_slice())
            .map_err(|e| anyhow::anyhow!("{}: {e}", data.display()))?;
        let plan = simulate::Plan {
            days: args.days,
            today: dates::today(),
            seed: args.seed,
        };
        let done = simulate::simulate(store.as_ref(), &model, &table, &plan).await?;
        println!(
            "simulated {} predictions and {} closed sales over {} days into {} (source \"simulated\"; `amesops simulate --clear` removes them)",
            done.records,
            done.sales,
            args.days,
            store.describe()
        );
        Ok(ExitCode::SUCCESS)
    })
}
