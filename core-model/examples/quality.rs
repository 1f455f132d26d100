//! Prints the cross-validated and time-holdout quality of the linear model, the trees and
//! their blend on the bundled snapshot (or another file).
//!
//! `cargo run --release -p core-model --example quality [-- PATH] [key=value ...]`
//!
//! Keys are `train` parameters of `params.yaml` (`alpha=0.0005 gbm_trees=2000 model=gbm …`);
//! `outliers=off` keeps every row. `errors=N` lists the N houses with the largest out-of-fold
//! error of the served model. `test=PATH` prices an unlabelled file (invalid values imputed)
//! with the final model and lists its most extreme prices and the houses where the linear part
//! and the trees disagree most (`id=N` prints one house's price and parts).

use std::path::PathBuf;
use std::time::Instant;

use core_model::{Table, TrainParams, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv"));
    let mut params = serde_json::to_value(TrainParams::default())?;
    let mut errors = 0;
    let mut test: Option<PathBuf> = None;
    let mut ids: Vec<i64> = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.split_once('=') {
            Some(("outliers", "off")) => {
                params["outlier_min_living_area"] = serde_json::Value::Null
            }
            Some(("errors", v)) => errors = v.parse()?,
            Some(("test", v)) => test = Some(PathBuf::from(v)),
            Some(("id", v)) => ids.push(v.parse()?),
            Some((key, value)) => {
                if params.get(key).is_none() {
                    return Err(format!("unknown train parameter {key:?}").into());
                }
                params[key] = serde_yaml_like(value);
            }
            None => path = PathBuf::from(arg),
        }
    }
    let params: TrainParams = serde_json::from_value(params)?;
    let dataset = Table::read_path(&path)?.into_dataset()?;
    let started = Instant::now();
    let trained = train::train(&dataset, &params, &mut |_| {})?;
    let elapsed = started.elapsed();
    let q = &trained.quality;
    println!(
        "rows {} scored by CV, {} kept by the outlier rule (dropped from the {}: {:?}); served model: {}",
        q.rows,
        q.kept_rows,
        match params.outlier_scope {
            core_model::params::OutlierScope::Linear => "linear part",
            core_model::params::OutlierScope::All => "linear part and the trees",
        },
        trained.dropped_outliers,
        params.model.name()
    );
    println!(
        "features {} (linear non-zero {}), trees {} ({} nodes)",
        trained.model.pipeline.features.len(),
        trained.model.estimator.active_features(),
        trained
            .model
            .estimator
            .gbm
            .as_ref()
            .map_or(0, |g| g.trees.len()),
        trained
            .model
            .estimator
            .gbm
            .as_ref()
            .map_or(0, |g| g.nodes()),
    );
    println!(
        "{}-fold CV × {} repeats (seeds {}..), time holdout from {} ({} earlier sales fit, {} later scored)",
        q.folds,
        q.repeats,
        params.seed,
        q.holdout_from.as_deref().unwrap_or("-"),
        q.holdout_train_rows,
        q.holdout_test_rows
    );
    match q.blend_gbm_weight_out_of_range {
        Some(w) => println!(
            "blend weight of the trees: {:.2}, chosen on houses inside the linear part's size range; {w:.2} for houses beyond it ({:.1}% of out-of-fold predictions)",
            q.blend_gbm_weight,
            100.0 * q.out_of_range_share
        ),
        None => println!(
            "blend weight of the trees: {:.2} ({:.1}% of out-of-fold predictions are of houses beyond the linear part's size range)",
            q.blend_gbm_weight,
            100.0 * q.out_of_range_share
        ),
    }
    println!(
        "{:<7} {:>17} {:>17} {:>8}   per repeat (all rows)",
        "model", "CV all rows", "CV kept rows", "holdout"
    );
    for kind in core_model::ModelKind::ALL {
        let m = q.of(kind);
        let repeats: Vec<String> = m.cv_rmse_log.iter().map(|r| format!("{r:.4}")).collect();
        println!(
            "{:<7} {:.4} ± {:.4}   {:.4} ± {:.4}   {:>7}   {}",
            kind.name(),
            m.cv_rmse_log_mean,
            m.cv_rmse_log_sd,
            m.cv_kept_rmse_log_mean,
            m.cv_kept_rmse_log_sd,
            m.holdout
                .map_or("-".to_string(), |h| format!("{:.4}", h.rmse_log)),
            repeats.join(" ")
        );
    }
    let cv = &trained.cv;
    println!(
        "served model, first assignment: pooled {:.4}, mean of folds {:.4}, RMSE ${:.0}, MAE ${:.0}, R² {:.4}, MAPE {:.2}%",
        cv.overall.rmse_log,
        cv.mean_fold_rmse_log,
        cv.overall.rmse,
        cv.overall.mae,
        cv.overall.r2,
        cv.overall.mape
    );
    println!(
        "{:.0}% interval coverage (out of fold) {:.3}",
        params.interval_level * 100.0,
        cv.interval_coverage
    );
    println!(
        "served model, first assignment, kept rows: pooled {:.4}",
        cv.kept.rmse_log
    );
    for o in trained.out_of_fold.iter().filter(|o| !o.kept) {
        println!(
            "  outlier Id {}: sold ${:.0}, out of fold ${:.0}",
            o.id, o.price, o.predicted
        );
    }
    println!("train rmse_log {:.4}", trained.train.rmse_log);
    println!("train + CV + holdout time {:.2} s", elapsed.as_secs_f64());
    if errors > 0 {
        let mut worst = trained.out_of_fold.clone();
        worst.sort_by(|a, b| {
            let e = |o: &train::OutOfFold| (o.predicted / o.price).ln().abs();
            e(b).total_cmp(&e(a))
        });
        let total: f64 = trained
            .out_of_fold
            .iter()
            .map(|o| (o.predicted / o.price).ln().powi(2))
            .sum();
        println!(
            "largest out-of-fold errors of the {} model (mean over repeats):",
            params.model.name()
        );
        for o in worst.iter().take(errors) {
            let e = (o.predicted / o.price).ln();
            println!(
                "  Id {:>5}: sold ${:>7.0}, predicted ${:>7.0}, ln error {e:+.3} ({:.1}% of the squared error)",
                o.id,
                o.price,
                o.predicted,
                100.0 * e * e / total
            );
        }
    }
    if let Some(test) = test {
        price_unlabelled(&trained.model, &test, &ids)?;
    }
    Ok(())
}

/// Prices an unlabelled file and prints its extremes and the parts' largest disagreements.
fn price_unlabelled(
    model: &core_model::Model,
    path: &std::path::Path,
    ids: &[i64],
) -> Result<(), Box<dyn std::error::Error>> {
    use core_model::dataset::OnInvalid;
    use core_model::predict::Buffers;
    let table = Table::read_path_with(path, OnInvalid::Impute)?;
    let mut buffers = Buffers::default();
    // (id, price, linear ln price, trees' ln price, clipped fields)
    let mut priced = Vec::new();
    let mut gated = 0;
    for record in &table.records {
        let (parts, report) = model.predict_parts(&record.house, &mut buffers);
        gated += usize::from(report.beyond_the_houses());
        let log = model.estimator.combine(parts, &report);
        let clipped: Vec<&str> = report.out_of_range.iter().map(|o| o.field).collect();
        priced.push((
            record.id.unwrap_or(-1),
            log.exp(),
            parts.linear,
            parts.gbm,
            clipped.join(","),
        ));
    }
    let show = |p: &(i64, f64, Option<f64>, Option<f64>, String)| {
        let part = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("${:.0}", v.exp()));
        println!(
            "  Id {:>5}: ${:>7.0} (linear {}, trees {}) clipped [{}]",
            p.0,
            p.1,
            part(p.2),
            part(p.3),
            p.4
        );
    };
    println!(
        "{}: {} houses priced ({} with imputed invalid values, {gated} larger or smaller than every training house)",
        path.display(),
        priced.len(),
        table.imputed.len()
    );
    for id in ids {
        if let Some(p) = priced.iter().find(|p| p.0 == *id) {
            show(p);
        }
    }
    let mut by_price = priced.clone();
    by_price.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("most expensive:");
    by_price.iter().take(5).for_each(show);
    println!("cheapest:");
    by_price.iter().rev().take(5).for_each(show);
    let mut by_gap: Vec<_> = priced
        .iter()
        .filter(|p| p.2.is_some() && p.3.is_some())
        .collect();
    by_gap.sort_by(|a, b| {
        let gap = |p: &&(i64, f64, Option<f64>, Option<f64>, String)| {
            (p.2.unwrap_or(0.0) - p.3.unwrap_or(0.0)).abs()
        };
        gap(b).total_cmp(&gap(a))
    });
    if !by_gap.is_empty() {
        println!("largest |ln linear - ln trees|:");
        by_gap.iter().take(10).for_each(|p| show(p));
    }
    Ok(())
}

/// A command-line value as JSON: a number, true/false/null, or a string.
fn serde_yaml_like(value: &str) -> serde_json::Value {
    serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_string()))
}
