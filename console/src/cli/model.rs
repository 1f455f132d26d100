//! `train`, `evaluate` and `predict`: the model stages.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use core_model::artifact::{Artifact, ArtifactMetrics, FORMAT_VERSION, LoadedArtifact};
use core_model::dataset::{OnInvalid, RowError};
use core_model::train::{self as training, Progress};
use core_model::{Metrics, ModelKind, Table, digest, house::format_number};

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
    /// What to do with rows that have invalid values: `fail` (refuse the file, listing every
    /// problem), `skip` (price the other rows), or `impute` (treat each invalid value as
    /// missing, price the row as the model prices a missing field, and list what was replaced).
    #[arg(long, value_enum, default_value_t = InvalidPolicy::Fail)]
    pub on_invalid: InvalidPolicy,
    /// Same as `--on-invalid skip`.
    #[arg(long, hide = true, conflicts_with = "on_invalid")]
    pub skip_invalid: bool,
    /// Write every invalid value found (skipped or imputed) to this CSV: `Id,field,value,problem`.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write JSON Lines instead of `Id,SalePrice`: per house its price, interval, explanation,
    /// comparable sales, and the fields
    /// imputed, unknown (`unknown_levels`) or outside the training range (`out_of_range`, each
    /// `{field, value, range}`: the model priced it at the nearest end of the range).
    #[arg(long)]
    pub explain: bool,
}

/// `--on-invalid`: what a command does with rows that have invalid values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InvalidPolicy {
    /// Refuse the file, listing every problem.
    Fail,
    /// Leave the invalid rows out.
    Skip,
    /// Treat each invalid value as missing (the model imputes it) and keep the row.
    Impute,
}

impl From<InvalidPolicy> for OnInvalid {
    fn from(policy: InvalidPolicy) -> OnInvalid {
        match policy {
            InvalidPolicy::Fail => OnInvalid::Fail,
            InvalidPolicy::Skip => OnInvalid::Skip,
            InvalidPolicy::Impute => OnInvalid::Impute,
        }
    }
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
        Progress::Fold { fold, folds } => eprintln!("  cross-validation fit {fold}/{folds}"),
        Progress::Holdout => eprintln!("  time holdout fitted"),
        Progress::Final => eprintln!("  final model fitted"),
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
            quality: trained.quality.clone(),
            interval: Some(trained.interval.clone()),
        },
        model: trained.model,
        reference: None,
    }
    .with_reference(&dataset);
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
    let estimator = &artifact.model.estimator;
    println!(
        "{} model: features {} (non-zero linear weights {}), trees {}{}",
        estimator.kind.name(),
        artifact.feature_names.len(),
        estimator.active_features(),
        estimator.gbm.as_ref().map_or(0, |g| g.trees.len()),
        if estimator.kind == ModelKind::Blend {
            format!(
                ", blend {:.2} linear + {:.2} trees",
                estimator.linear_weight, estimator.gbm_weight
            )
        } else {
            String::new()
        }
    );
    print_quality(&artifact.metrics.quality, estimator.kind);
    print_metrics(
        &format!("{} {}-fold CV", estimator.kind.name(), cv.folds.len()),
        &cv.overall,
    );
    println!(
        "80% interval coverage on held-out folds: {:.1}%",
        cv.interval_coverage * 100.0
    );
    if let Some(range) = &artifact.metrics.interval {
        let show = |what: &str, s: &core_model::interval::RangeScore| {
            println!(
                "  {what}: coverage {:.1}%, mean width ${:.0} ({:.1}% of the price), {} rows",
                s.coverage * 100.0,
                s.mean_width,
                s.mean_relative_width * 100.0,
                s.rows
            )
        };
        println!("range ({}):", range.method);
        show("held-out folds", &range.folds);
        show("fixed width, same folds", &range.folds_fixed);
        if let Some(h) = &range.holdout {
            show("time holdout", h);
        }
        if let Some(h) = &range.holdout_fixed {
            show("fixed width, time holdout", h);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the repeated cross-validation and time holdout of the three estimators.
fn print_quality(q: &training::Quality, served: ModelKind) {
    println!(
        "RMSE(log) by {}-fold CV × {} (mean ± sd) and on the sales from {} (time holdout):",
        q.folds,
        q.repeats,
        q.holdout_from.as_deref().unwrap_or("-")
    );
    for kind in ModelKind::ALL {
        let m = q.of(kind);
        println!(
            "  {:<6} {:.4} ± {:.4}   holdout {}{}",
            kind.name(),
            m.cv_rmse_log_mean,
            m.cv_rmse_log_sd,
            m.holdout
                .map_or("-".to_string(), |h| format!("{:.4}", h.rmse_log)),
            if kind == served { "   (served)" } else { "" }
        );
    }
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
    let policy = if args.skip_invalid {
        InvalidPolicy::Skip
    } else {
        args.on_invalid
    };
    let table = Table::read_path_with(&args.input, policy.into())
        .map_err(|e| table_error(&args.input, e))?;
    let total = table.records.len() + table.invalid.len();
    if let Some(path) = &args.report {
        write_invalid_report(path, &table)?;
    }
    report_invalid(&args.input, &table, policy, total);
    if policy == InvalidPolicy::Fail && !table.invalid.is_empty() {
        bail!(
            "{} of {total} rows are invalid; fix them, or pass --on-invalid impute to price them with the invalid values imputed (--on-invalid skip leaves them out)",
            table.invalid.len(),
        );
    }
    let model = &loaded.artifact.model;
    let mut buffers = core_model::predict::Buffers::default();
    let mut clipped: Vec<(&'static str, usize)> = Vec::new();
    let mut clipped_houses = 0;
    let explain = args.explain;
    let level = model.interval.level;
    let mut write = |w: &mut dyn Write| -> Result<()> {
        // Ids are integers and prices numbers: no CSV quoting is ever needed.
        let mut out = std::io::BufWriter::new(w);
        if !explain {
            writeln!(out, "Id,SalePrice")?;
        }
        for (position, record) in table.records.iter().enumerate() {
            let appraisal = explain.then(|| model.appraise(&record.house, &mut buffers));
            let prediction = match &appraisal {
                Some(appraisal) => appraisal.prediction.clone(),
                None => model.predict_with(&record.house, &mut buffers),
            };
            let id = record.id.unwrap_or(position as i64 + 1);
            if !prediction.report.out_of_range.is_empty() {
                clipped_houses += 1;
                for o in &prediction.report.out_of_range {
                    match clipped.iter_mut().find(|(f, _)| *f == o.field) {
                        Some((_, count)) => *count += 1,
                        None => clipped.push((o.field, 1)),
                    }
                }
            }
            if let Some(appraisal) = &appraisal {
                let line = serde_json::json!({
                    "Id": id,
                    "price": prediction.price,
                    "interval": { "low": prediction.low, "high": prediction.high, "level": level },
                    "imputed": prediction.report.imputed,
                    "unknown_levels": prediction.report.unknown_levels,
                    "out_of_range": prediction.report.out_of_range,
                    "explanation": appraisal.explanation,
                    "comparables": appraisal.comparables,
                });
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
            } else {
                writeln!(out, "{id},{}", prediction.price)?;
            }
        }
        out.flush()?;
        Ok(())
    };
    if args.output.as_os_str() == "-" {
        write(&mut std::io::stdout().lock())?;
    } else {
        files::write_atomic(&args.output, write)?;
    }
    let skipped = table.invalid.len();
    eprintln!(
        "priced {} of {total} houses with model {} -> {}{}{}",
        table.records.len(),
        loaded.id,
        args.output.display(),
        if table.imputed.is_empty() {
            String::new()
        } else {
            format!(" ({} with invalid values imputed)", table.imputed.len())
        },
        if skipped == 0 {
            String::new()
        } else {
            format!(" ({skipped} invalid rows skipped)")
        }
    );
    if clipped_houses > 0 {
        clipped.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let fields: Vec<String> = clipped.iter().map(|(f, n)| format!("{f} ×{n}")).collect();
        eprintln!(
            "{clipped_houses} houses have values outside the training range, priced at its nearest end: {}{}",
            fields.join(", "),
            if explain {
                ""
            } else {
                " (--explain lists them per house)"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Tells on standard error what was wrong with the input and what was done about it.
fn report_invalid(input: &Path, table: &Table, policy: InvalidPolicy, total: usize) {
    let action = match policy {
        InvalidPolicy::Fail => "invalid",
        InvalidPolicy::Skip => "skipped",
        InvalidPolicy::Impute => "skipped (cannot be imputed)",
    };
    let mut lines: Vec<String> = Vec::new();
    for row in &table.imputed {
        lines.push(format!("imputed: {}: {row}", input.display()));
    }
    for row in &table.invalid {
        lines.push(format!("{action}: {}: {row}", input.display()));
    }
    for line in lines.iter().take(20) {
        eprintln!("{line}");
    }
    if lines.len() > 20 {
        eprintln!("… and {} more rows", lines.len() - 20);
    }
    if !table.imputed.is_empty() {
        let values: usize = table.imputed.iter().map(|r| r.errors.len()).sum();
        eprintln!(
            "imputed {values} invalid value(s) in {} of {total} rows (each treated as missing)",
            table.imputed.len()
        );
    }
}

/// Writes `Id,field,value,problem` for every invalid value: imputed ones and skipped rows'.
fn write_invalid_report(path: &Path, table: &Table) -> Result<()> {
    let mut rows: Vec<&RowError> = table.imputed.iter().chain(&table.invalid).collect();
    rows.sort_by_key(|r| r.line);
    files::write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["Id", "field", "value", "problem"])?;
        for row in rows {
            let id = row.id.map(|id| id.to_string()).unwrap_or_default();
            for error in &row.errors {
                csv.write_record([id.as_str(), &error.field, &error.value, &error.problem])?;
            }
        }
        csv.flush()?;
        Ok(())
    })?;
    eprintln!("invalid values -> {}", path.display());
    Ok(())
}
