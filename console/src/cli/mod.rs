//! Command-line interface: one subcommand per pipeline stage and operation.

mod data;
mod model;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Train, evaluate and serve the Ames house-price model.
///
/// The pipeline stages (fetch → split → train → evaluate) are what `dvc.yaml` runs; each can
/// also be run by hand. Parameters come from params.yaml (`--params` to use another file).
#[derive(Debug, Parser)]
#[command(name = "amesops", version, about, long_about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
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
}

/// Default parameters file, at the project root.
pub fn default_params() -> PathBuf {
    PathBuf::from("params.yaml")
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Some(Command::Fetch(args)) => data::fetch(args),
        Some(Command::Split(args)) => data::split(args),
        Some(Command::Train(args)) => model::train(args),
        Some(Command::Evaluate(args)) => model::evaluate(args),
        Some(Command::Predict(args)) => model::predict(args),
        Some(Command::Serve(args)) => serve::serve(args),
        None => model::quickstart(),
    }
}
