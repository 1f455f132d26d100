//! Command-line interface: one subcommand per pipeline stage and operation.

mod cadence;
mod data;
mod deploy;
mod dvc_data;
mod image;
mod model;
pub mod monitor;
mod package;
mod pipeline;
mod retrain;
mod runs;
mod serve;
mod shadow;
mod status;
pub(crate) mod terminal;
mod tracking;
pub use tracking::DEFAULT_EXPERIMENT;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Train, evaluate, serve and operate the Ames house-price model.
///
/// Without a subcommand, opens the operator console (local target by default: everything
/// under .amesops/, the model served in-process). The pipeline stages (fetch → split → train →
/// evaluate) are what `dvc.yaml` runs; each can also be run by hand. Parameters come from
/// params.yaml (`--params` to use another file); settings from amesops.toml, `AMESOPS_*`
/// variables and the flags below.
#[derive(Debug, Parser)]
#[command(name = "amesops", version, about, long_about)]
pub struct Cli {
    /// What to do; nothing opens the console.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub global: crate::config::GlobalArgs,
    /// Capture the mouse in the console (scroll wheel); off keeps terminal text selection.
    #[arg(long)]
    pub mouse: bool,
    /// Port of the console's local predictor on 127.0.0.1 (default: a free one). Pin it to
    /// point a browser or script at the same address every time.
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the raw data (bundled snapshot, file or URL) and write the normalised CSV.
    Fetch(data::FetchArgs),
    /// Split the data into seeded training and test sets.
    Split(data::SplitArgs),
    /// Train the model with cross-validation and write the model artifact.
    Train(model::TrainArgs),
    /// Score a model on labelled houses and write metrics and plot data.
    Evaluate(model::EvaluateArgs),
    /// Price every house of a CSV and write `Id,SalePrice`.
    Predict(model::PredictArgs),
    /// Serve the prediction API locally (the same router as the Lambda function).
    Serve(serve::ServeArgs),
    /// Show the DVC pipeline's status (same answer as `dvc status`, no Python) and run it.
    Pipeline(pipeline::PipelineArgs),
    /// Move DVC-tracked data and models to and from the remote (`dvc push` / `dvc pull`).
    Data(dvc_data::DataArgs),
    /// List tracked training runs (sort, filter, JSON) or compare runs side by side.
    Runs(runs::RunsArgs),
    /// Package the model for deployment (aws: Lambda zip built with cargo-lambda; local: copies the model to dist/).
    Package(package::PackageArgs),
    /// Build the Lambda container image and push it to ECR (no Docker needed).
    Image(image::ImageArgs),
    /// Deploy the package through the gate: new version, smoke test, then the alias `live` moves.
    ///
    /// Exit codes: 0 deployed or unchanged, 3 refused by the gate, 4 another run holds the
    /// project lock, 5 declined, 6 a watched canary was not promoted.
    Deploy(deploy::DeployArgs),
    /// Move the alias `live` back to an earlier version.
    Rollback(deploy::RollbackArgs),
    /// Show what is deployed: function, versions, alias routing, URL, model, health.
    Status(status::StatusArgs),
    /// Remove the deployment (function, versions, alias, API, permission, managed role).
    Destroy(deploy::DestroyArgs),
    /// Retrain and redeploy through the gate: run the pipeline, compare with production, deploy if no worse.
    ///
    /// Exit codes: 0 deployed, nothing changed, or stopped by SIGTERM before deploying; 3
    /// refused by the gate (worse than production by more than params.yaml retrain.tolerance,
    /// a model the operator rolled back from, or production unreadable); 4 another run (or
    /// scheduler) holds the project lock; 5 deploy declined.
    Retrain(retrain::RetrainArgs),
    /// Run retrain on a schedule with systemd or cron.
    Schedule(retrain::ScheduleArgs),
    /// Closed sales: `amesops sales import FILE.csv` stores them beside the records, joined to their predictions.
    Sales(monitor::SalesArgs),
    /// Realized error per model and week from closed sales, and per-field drift (PSI) over every record of a window.
    Monitor(monitor::MonitorArgs),
    /// Replay the stored production requests of a window through a candidate and the production model: how much prices move.
    Shadow(shadow::ShadowArgs),
    /// Replay the held-out houses as traffic and closed sales over simulated days (local target; --clear removes them).
    Simulate(monitor::SimulateArgs),
    /// Write an SVG of every console view, drawn from fixed sample data (scripts/screenshots makes PNGs).
    #[command(hide = true)]
    Screenshots {
        /// Output folder.
        #[arg(long, default_value = "screenshots")]
        out: PathBuf,
    },
}

/// The data snapshot shipped in the binary (smoke tests use its first house).
pub fn bundled_data() -> &'static [u8] {
    data::BUNDLED
}

/// Default parameters file, at the project root.
pub fn default_params() -> PathBuf {
    PathBuf::from("params.yaml")
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Fetch(args)) => data::fetch(args, &cli.global),
        Some(Command::Split(args)) => data::split(args),
        Some(Command::Train(args)) => {
            crate::provenance::check_training_code()?;
            model::train(args)
        }
        Some(Command::Evaluate(args)) => model::evaluate(args),
        Some(Command::Predict(args)) => model::predict(args),
        Some(Command::Serve(args)) => serve::serve(args, &cli.global),
        Some(Command::Pipeline(args)) => pipeline::run(args, &cli.global),
        Some(Command::Data(args)) => dvc_data::run(args, &cli.global),
        Some(Command::Runs(args)) => runs::runs(args),
        Some(Command::Package(args)) => package::package(args, &cli.global),
        Some(Command::Image(args)) => image::image(args, &cli.global),
        Some(Command::Deploy(args)) => deploy::deploy(args, &cli.global),
        Some(Command::Rollback(args)) => deploy::rollback(args, &cli.global),
        Some(Command::Status(args)) => status::status(args, &cli.global),
        Some(Command::Destroy(args)) => deploy::destroy(args, &cli.global),
        Some(Command::Retrain(args)) => {
            retrain::run(args, &crate::config::Config::load(&cli.global)?)
        }
        Some(Command::Schedule(args)) => {
            retrain::schedule(args, &crate::config::Config::load(&cli.global)?)
        }
        Some(Command::Sales(args)) => monitor::sales(args, &cli.global),
        Some(Command::Monitor(args)) => monitor::monitor(args, &cli.global),
        Some(Command::Simulate(args)) => monitor::simulate(args, &cli.global),
        Some(Command::Shadow(args)) => shadow::shadow(args, &cli.global),
        Some(Command::Screenshots { out }) => {
            std::fs::create_dir_all(&out)?;
            for (name, svg) in crate::launch::screenshots() {
                let path = out.join(format!("{name}.svg"));
                std::fs::write(&path, svg)?;
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let config = crate::config::Config::load(&cli.global)?;
            crate::launch::open(
                config,
                crate::launch::ConsoleOptions {
                    mouse: cli.mouse,
                    port: cli.port,
                },
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
