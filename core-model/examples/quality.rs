//! Prints the model's cross-validated quality on the bundled snapshot.
//!
//! `cargo run --release -p core-model --example quality [-- PATH] [alpha=0.0005 ...]`

use std::path::PathBuf;
use std::time::Instant;

use core_model::{Table, TrainParams, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv"));
    let mut params = TrainParams::default();
    for arg in std::env::args().skip(1) {
        match arg.split_once('=') {
            Some(("alpha", v)) => params.alpha = v.parse()?,
            Some(("l1_ratio", v)) => params.l1_ratio = v.parse()?,
            Some(("lambda", v)) => params.boxcox_lambda = v.parse()?,
            Some(("skew", v)) => params.skew_threshold = v.parse()?,
            Some(("min_level_count", v)) => params.min_level_count = v.parse()?,
            Some(("seed", v)) => params.seed = v.parse()?,
            Some(("outliers", "off")) => params.outlier_min_living_area = None,
            _ => path = PathBuf::from(arg),
        }
    }
    let dataset = Table::read_path(&path)?.into_dataset()?;
    let started = Instant::now();
    let trained = train::train(&dataset, &params, &mut |_| {})?;
    let elapsed = started.elapsed();
    let cv = &trained.cv;
    println!(
        "rows {} (dropped outliers: {:?})",
        trained.rows, trained.dropped_outliers
    );
    println!(
        "features {} (active {})",
        trained.model.pipeline.features.len(),
        trained.model.estimator.active_features()
    );
    println!(
        "{}-fold CV RMSE(log) pooled {:.4}, mean of folds {:.4}",
        cv.folds.len(),
        cv.overall.rmse_log,
        cv.mean_fold_rmse_log
    );
    for (k, m) in cv.folds.iter().enumerate() {
        println!(
            "  fold {}: rmse_log {:.4} rmse {:.0} mae {:.0} r2 {:.4} mape {:.2}%",
            k + 1,
            m.rmse_log,
            m.rmse,
            m.mae,
            m.r2,
            m.mape
        );
    }
    println!(
        "CV rmse {:.0} mae {:.0} r2 {:.4} mape {:.2}%",
        cv.overall.rmse, cv.overall.mae, cv.overall.r2, cv.overall.mape
    );
    println!("80% interval coverage (OOF) {:.3}", cv.interval_coverage);
    println!("train rmse_log {:.4}", trained.train.rmse_log);
    println!("train + CV time {:.3} s", elapsed.as_secs_f64());
    Ok(())
}
