//! `train`, `evaluate` and `predict`: the model stages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use core_model::artifact::{Artifact, ArtifactMetrics, FORMAT_VERSION, LoadedArtifact};
use core_model::train::{self as training, Progress};
use core_model::{Metrics, Table, digest, house::format_number};

use super::data::table_error;
use super::tracking::{self, TrackerArgs, TrainingRun};
use crate::files;
use crate::params::Params;

/// Arguments of `amesops train`.
///
/// The run (params, cross-validation metrics, provenance tags and the model file) is logged to
/// the experiment tracker and its id stored in the model. If the tracker fails or cannot be
/// reached, the model is still written, a warning says what was not tracked, and the command
/// exits 0: a tracking outage never costs a trained model.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training rows (normalised CSV with SalePrice).
    #[arg(long, default_value = "data/train.csv")]
    pub data: PathBuf,
    /// Where to write the model artifact.
    #[arg(long, default_value = "models/model.json")]
    pub out: PathBuf,
    /// Parameters file (its `train` section is used).
    #[arg(long, default_value_os_t = super::default_params())]
    pub params: PathBuf,
    /// Experiment tracking.
    #[command(flatten)]
    pub tracking: TrackerArgs,
}

/// Arguments of `amesops evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model artifact.
    #[arg(long, default_value = "models/model.json")]
    pub model: PathBuf,
    /// Labelled held-out rows.
    #[arg(long, default_value = "data/test.csv")]
    pub data: PathBuf,
    /// Where to write the metrics (JSON, for `dvc metrics`).
    #[arg(long, default_value = "metrics.json")]
    pub metrics: PathBuf,
    /// Where to write predicted-vs-actual rows (CSV, for `dvc plots`).
    #[arg(long, default_value = "plots/predictions.csv")]
    pub plots: PathBuf,
    /// Experiment tracking: test metrics and plot data go to the model's run (a tracker
    /// failure only warns).
    #[command(flatten)]
    pub tracking: TrackerArgs,
}

/// Arguments of `amesops predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model artifact.
    #[arg(long, default_value = "models/model.json")]
    pub model: PathBuf,
    /// Houses to price (CSV or TSV, Kaggle or De Cock names; SalePrice not needed).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write `Id,SalePrice` (Kaggle submission format); `-` for standard output.
    #[arg(long, default_value = "predictions.csv")]
    pub output: PathBuf,
    /// Price the valid rows and report the invalid ones instead of failing.
    #[arg(long)]
    pub skip_invalid: bool,
}

/// Loads a model artifact with a message that says what to do when it is missing.
pub fn load_model(path: &Path) -> Result<LoadedArtifact> {
    if !path.exists() {
        bail!(
            "model {} does not exist; train one first: amesops train --out {}",
            path.display(),
            path.display()
        );
    }
    Ok(Artifact::load(path)?)
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// `amesops train`.
pub fn train(args: TrainArgs) -> Result<ExitCode> {
    let params = Params::load(&args.params, args.params != super::default_params())?;
    let bytes = std::fs::read(&args.data).with_context(|| {
        format!(
            "cannot read training data {}; run `amesops split` first",
            args.data.display()
        )
    })?;
    let dataset = Table::read(bytes.as_slice())
        .and_then(Table::into_dataset)
        .map_err(|e| table_error(&args.data, e))?;
    let started = Instant::now();
    eprintln!(
        "training on {} houses ({}-fold cross-validation)",
        dataset.len(),
        params.train.cv_folds
    );
    let trained = training::train(&dataset, &params.train, &mut |p| match p {
        Progress::Fold { fold, folds } => eprintln!("  cross-validation fold {fold}/{folds}"),
        Progress::Final => eprintln!("  fitting the final model"),
    })?;
    let mut artifact = Artifact {
        format_version: FORMAT_VERSION,
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        trained_at: now_rfc3339(),
        data_md5: digest::md5_hex(&bytes),
        run_id: None,
        params: params.train.clone(),
        feature_names: trained.model.pipeline.feature_names(),
        metrics: ArtifactMetrics {
            cv: trained.cv.clone(),
            train: trained.train,
            rows: trained.rows,
            dropped_outliers: trained.dropped_outliers.clone(),
            price_deciles: trained.price_deciles.clone(),
        },
        model: trained.model,
    };
    let run = TrainingRun::start(&args.tracking);
    artifact.run_id = run.as_ref().map(|r| r.run_id().to_string());
    let id = artifact.save(&args.out)?;
    if let Some(run) = run {
        run.finish(&params, &artifact, &args.out, &id);
    }
    let cv = &artifact.metrics.cv;
    eprintln!("trained in {:.2} s", started.elapsed().as_secs_f64());
    if !artifact.metrics.dropped_outliers.is_empty() {
        eprintln!(
            "dropped outlier rows (GrLivArea > {} sq ft sold below ${}): {:?}",
            params.train.outlier_min_living_area.unwrap_or_default(),
            params.train.outlier_max_price,
            artifact.metrics.dropped_outliers
        );
    }
    println!("model {id} -> {}", args.out.display());
    println!(
        "features {} (non-zero weights {})",
        artifact.feature_names.len(),
        artifact.model.estimator.active_features()
    );
    print_metrics(&format!("{}-fold CV", cv.folds.len()), &cv.overall);
    println!(
        "80% interval coverage on held-out folds: {:.1}%",
        cv.interval_coverage * 100.0
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints one metrics line.
pub fn print_metrics(label: &str, m: &Metrics) {
    println!(
        "{label}: RMSE(log) {:.4}  RMSE ${:.0}  MAE ${:.0}  R² {:.4}  MAPE {:.2}%  (n = {})",
        m.rmse_log, m.rmse, m.mae, m.r2, m.mape, m.n
    );
}

/// `amesops evaluate`.
pub fn evaluate(args: EvaluateArgs) -> Result<ExitCode> {
    let loaded = load_model(&args.model)?;
    let dataset = Table::read_path(&args.data)
        .and_then(Table::into_dataset)
        .map_err(|e| table_error(&args.data, e))?;
    let (metrics, predicted) = training::evaluate(&loaded.artifact.model, &dataset);
    let mut json = serde_json::to_value(metrics)?;
    if let Some(object) = json.as_object_mut() {
        object.insert("model_id".into(), loaded.id.clone().into());
    }
    files::write_bytes(&args.metrics, &serde_json::to_vec_pretty(&json)?)?;
    files::write_atomic(&args.plots, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["Id", "actual", "predicted"])?;
        for (i, (actual, predicted)) in dataset.prices.iter().zip(&predicted).enumerate() {
            let id = dataset.ids[i].unwrap_or(i as i64 + 1);
            csv.write_record([
                id.to_string(),
                format_number(*actual),
                format!("{predicted:.0}"),
            ])?;
        }
        csv.flush()?;
        Ok(())
    })?;
    print_metrics(&format!("test set ({})", args.data.display()), &metrics);
    eprintln!(
        "metrics -> {}, plot data -> {}",
        args.metrics.display(),
        args.plots.display()
    );
    tracking::record_evaluation(
        &args.tracking,
        loaded.artifact.run_id.as_deref(),
        &metrics,
        &[
            ("plots/predictions.csv", &args.plots),
            ("metrics/metrics.json", &args.metrics),
        ],
    );
    Ok(ExitCode::SUCCESS)
}

/// `amesops predict`.
pub fn predict(args: PredictArgs) -> Result<ExitCode> {
    let loaded = load_model(&args.model)?;
    let table = Table::read_path(&args.input).map_err(|e| table_error(&args.input, e))?;
    if !table.invalid.is_empty() {
        for row in table.invalid.iter().take(20) {
            eprintln!("invalid: {}: {row}", args.input.display());
        }
        if table.invalid.len() > 20 {
            eprintln!("invalid: … and {} more rows", table.invalid.len() - 20);
        }
        if !args.skip_invalid {
            bail!(
                "{} of {} rows are invalid; fix them or pass --skip-invalid to price the rest",
                table.invalid.len(),
                table.invalid.len() + table.records.len()
            );
        }
    }
    let model = &loaded.artifact.model;
    let mut buffer = Vec::with_capacity(model.pipeline.features.len());
    let mut write = |w: &mut dyn Write| -> Result<()> {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["Id", "SalePrice"])?;
        for (position, record) in table.records.iter().enumerate() {
            let (log_price, _) = model.predict_log_into(&record.house, &mut buffer);
            let id = record.id.unwrap_or(position as i64 + 1);
            csv.write_record([id.to_string(), log_price.exp().to_string()])?;
        }
        csv.flush()?;
        Ok(())
    };
    if args.output.as_os_str() == "-" {
        write(&mut std::io::stdout().lock())?;
    } else {
        files::write_atomic(&args.output, write)?;
    }
    eprintln!(
        "priced {} houses with model {} -> {}{}",
        table.records.len(),
        loaded.id,
        args.output.display(),
        if table.invalid.is_empty() {
            String::new()
        } else {
            format!(" ({} invalid rows skipped)", table.invalid.len())
        }
    );
    Ok(ExitCode::SUCCESS)
}
