//! Training: clean the rows, measure the procedure honestly, fit the final model on every kept row.
//!
//! The measurement is repeated k-fold cross-validation (`cv_repeats` fold assignments) of both
//! estimators, plus a time holdout (fit on the sales before `holdout_from`, score the later
//! ones). The out-of-fold predictions choose the blend weight and size the prediction interval;
//! nothing is chosen on rows a model is then scored on (the blend weight used on a fold is the
//! one the other folds of its repetition choose). Every fit is independent, so they run on all
//! cores; each is deterministic, so the result does not depend on their order.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::encode::{EncodeReport, FeaturePipeline, PipelineError};
use crate::gbm::{self, Gbm, InputBuilder};
use crate::house::{House, Value};
use crate::interval::IntervalReport;
use crate::metrics::Metrics;
use crate::model::{Gram, LinearModel, ModelError};
use crate::params::TrainParams;
use crate::predict::{Buffers, Estimator, Interval, Model, ModelKind};
use crate::{split, stats};

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The parameters are out of range.
    #[error("{0}")]
    Params(String),
    /// Too few rows to train or cross-validate.
    #[error("need at least {needed} rows to train with {folds}-fold cross-validation, have {have}")]
    TooFewRows {
        /// Rows required.
        needed: usize,
        /// Rows available after cleaning.
        have: usize,
        /// Folds requested.
        folds: usize,
    },
    /// The pipeline could not be fitted.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The estimator could not be fitted.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// Progress of a training run, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Progress {
    /// `fold` of `folds` cross-validation fits are done (over all repetitions).
    Fold {
        /// Fits done so far (1-based).
        fold: usize,
        /// Fits in all.
        folds: usize,
    },
    /// The time-holdout fit is done.
    Holdout,
    /// The final model is fitted on all rows.
    Final,
}

/// Cross-validation results of the chosen model, on the first fold assignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// Metrics of the out-of-fold predictions of all rows together.
    pub overall: Metrics,
    /// Metrics of each fold's held-out rows.
    pub folds: Vec<Metrics>,
    /// Mean of the per-fold RMSE of ln price (what scikit-learn's `cross_val_score` reports).
    pub mean_fold_rmse_log: f64,
    /// Share of held-out prices inside their own interval (measured coverage, all repetitions).
    pub interval_coverage: f64,
}

/// How well one estimator did: repeated cross-validation and the time holdout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelQuality {
    /// Mean over repetitions of the pooled out-of-fold RMSE of ln(price).
    pub cv_rmse_log_mean: f64,
    /// Standard deviation of it over repetitions (0 with one repetition).
    pub cv_rmse_log_sd: f64,
    /// The pooled out-of-fold RMSE of ln(price) of each repetition (seed `seed + r`).
    pub cv_rmse_log: Vec<f64>,
    /// Metrics on the later sales of the time holdout, when there is one.
    pub holdout: Option<Metrics>,
}

/// The quality of all three estimators, whichever one is served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Folds of each repetition.
    pub folds: usize,
    /// Repetitions of the cross-validation.
    pub repeats: usize,
    /// First month of the time holdout's scored sales (`YYYY-MM`), when there is one.
    pub holdout_from: Option<String>,
    /// Rows the time-holdout model was fitted on (earlier sales).
    pub holdout_train_rows: usize,
    /// Rows it was scored on (later sales).
    pub holdout_test_rows: usize,
    /// The weight of the trees in the blend, chosen on all out-of-fold predictions (or fixed
    /// by `blend_gbm_weight`).
    pub blend_gbm_weight: f64,
    /// The elastic net alone.
    pub linear: ModelQuality,
    /// The trees alone.
    pub gbm: ModelQuality,
    /// The blend.
    pub blend: ModelQuality,
}

impl Quality {
    /// The quality of one estimator.
    pub fn of(&self, kind: ModelKind) -> &ModelQuality {
        match kind {
            ModelKind::Linear => &self.linear,
            ModelKind::Gbm => &self.gbm,
            ModelKind::Blend => &self.blend,
        }
    }
}

/// A trained model with the evidence of its quality.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The final model, fitted on every kept row.
    pub model: Model,
    /// Cross-validation of the served estimator (first fold assignment).
    pub cv: CvReport,
    /// Repeated cross-validation and time holdout of all three estimators.
    pub quality: Quality,
    /// Metrics of the final model on its own training rows.
    pub train: Metrics,
    /// Rows used for training.
    pub rows: usize,
    /// Ids (or row numbers) of the rows dropped by the outlier rule.
    pub dropped_outliers: Vec<i64>,
    /// Deciles of the training sale prices (reference for drift monitoring).
    pub price_deciles: Vec<f64>,
    /// Every kept row's out-of-fold prediction by the served estimator (mean over repetitions).
    pub out_of_fold: Vec<OutOfFold>,
    /// Coverage and width of the calibrated range on held-out folds and the time holdout.
    pub interval: IntervalReport,
}

/// One training row's out-of-fold prediction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutOfFold {
    /// The row's `Id` (or 1-based row number).
    pub id: i64,
    /// Its sale price.
    pub price: f64,
    /// The price predicted by models that did not see it (geometric mean over repetitions).
    pub predicted: f64,
}

/// Whether a row is one of the partial-sale outliers the parameters exclude from training.
pub fn is_outlier(house: &House, price: f64, params: &TrainParams) -> bool {
    let Some(min_area) = params.outlier_min_living_area else {
        return false;
    };
    matches!(house.get_by_name("GrLivArea"), Some(Value::Number(area)) if area > min_area)
        && price < params.outlier_max_price
}

/// The rows the outlier rule keeps, and the ids of those it drops.
pub fn kept_rows(dataset: &Dataset, params: &TrainParams) -> (Vec<usize>, Vec<i64>) {
    let mut keep = Vec::with_capacity(dataset.len());
    let mut dropped = Vec::new();
    for (i, (house, price)) in dataset.houses.iter().zip(&dataset.prices).enumerate() {
        if is_outlier(house, *price, params) {
            dropped.push(dataset.ids[i].unwrap_or(i as i64 + 1));
        } else {
            keep.push(i);
        }
    }
    (keep, dropped)
}

/// Removes outliers, returning the kept dataset and the ids of the dropped rows.
pub fn clean(dataset: &Dataset, params: &TrainParams) -> (Dataset, Vec<i64>) {
    let (keep, dropped) = kept_rows(dataset, params);
    (dataset.select(&keep), dropped)
}

/// The parts fitted on some rows: pipeline, and the estimators asked for.
struct Fitted {
    pipeline: FeaturePipeline,
    linear: Option<LinearModel>,
    gbm: Option<Gbm>,
}

impl Fitted {
    /// Each part's ln price for the houses at `rows`.
    fn predict_parts(&self, dataset: &Dataset, rows: &[usize]) -> (Vec<f64>, Vec<f64>) {
        let model = Model {
            pipeline: self.pipeline.clone(),
            estimator: Estimator {
                kind: ModelKind::Blend,
                linear_weight: 0.5,
                gbm_weight: 0.5,
                linear: self.linear.clone(),
                gbm: self.gbm.clone(),
            },
            interval: Interval {
                level: 0.0,
                low_log: 0.0,
                high_log: 0.0,
            },
            reference: Default::default(),
        };
        let mut buffers = Buffers::default();
        let mut linear = Vec::with_capacity(rows.len());
        let mut gbm = Vec::with_capacity(rows.len());
        for &i in rows {
            let (parts, _) = model.predict_parts(&dataset.houses[i], &mut buffers);
            linear.push(parts.linear.unwrap_or(f64::NAN));
            gbm.push(parts.gbm.unwrap_or(f64::NAN));
        }
        (linear, gbm)
    }
}

/// Fits the pipeline and the estimators asked for on the rows at `rows`, in one pass over them.
fn fit_parts(
    dataset: &Dataset,
    rows: &[usize],
    params: &TrainParams,
    linear: bool,
    trees: bool,
) -> Result<Fitted, TrainError> {
    let pipeline = FeaturePipeline::fit_rows(&dataset.houses, rows, &params.encode())?;
    let p = pipeline.features.len();
    let mut gram = linear.then(|| Gram::new(p));
    let mut inputs = trees.then(|| InputBuilder::new(rows.len()));
    let mut features = Vec::with_capacity(p);
    let mut report = EncodeReport::default();
    for &i in rows {
        report.imputed.clear();
        report.out_of_range.clear();
        report.unknown_levels.clear();
        let filled = pipeline.fill(&dataset.houses[i], &mut report.imputed);
        let y = dataset.prices[i].ln();
        if let Some(gram) = &mut gram {
            pipeline.encode_filled(&filled, &mut features, &mut report);
            gram.add(&features, y)?;
        }
        if let Some(inputs) = &mut inputs {
            inputs.add(&filled, y);
        }
    }
    let linear = match gram {
        Some(gram) => Some(LinearModel::fit(&gram, &params.model())?),
        None => None,
    };
    let gbm = inputs.map(|builder| {
        let (inputs, x, y) = builder.finish();
        gbm::fit(inputs, &x, &y, &params.gbm())
    });
    Ok(Fitted {
        pipeline,
        linear,
        gbm,
    })
}

/// Fits the chosen estimator on every row as given (no cleaning, no measurement, no interval);
/// a blend takes `blend_gbm_weight`, or equal weights.
pub fn fit(dataset: &Dataset, params: &TrainParams) -> Result<Model, TrainError> {
    let rows: Vec<usize> = (0..dataset.len()).collect();
    let fitted = fit_parts(
        dataset,
        &rows,
        params,
        params.model != ModelKind::Gbm,
        params.model != ModelKind::Linear,
    )?;
    Ok(assemble(
        fitted,
        params.model,
        params.blend_gbm_weight.unwrap_or(0.5),
        Interval {
            level: params.interval_level,
            low_log: 0.0,
            high_log: 0.0,
        },
    ))
}

fn assemble(fitted: Fitted, kind: ModelKind, gbm_weight: f64, interval: Interval) -> Model {
    let (linear_weight, gbm_weight) = match kind {
        ModelKind::Linear => (1.0, 0.0),
        ModelKind::Gbm => (0.0, 1.0),
        ModelKind::Blend => (1.0 - gbm_weight, gbm_weight),
    };
    Model {
        pipeline: fitted.pipeline,
        estimator: Estimator {
            kind,
            linear_weight,
            gbm_weight,
            linear: fitted.linear,
            gbm: fitted.gbm,
        },
        interval,
        reference: Default::default(),
    }
}

/// The weight `w` in `[0, 1]` minimising the squared error of `(1 − w)·a + w·b`, to 0.01.
pub fn best_weight(y: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for ((y, a), b) in y.iter().zip(a).zip(b) {
        num += (y - a) * (b - a);
        den += (b - a) * (b - a);
    }
    let w = if den > 0.0 { num / den } else { 0.5 };
    (w.clamp(0.0, 1.0) * 100.0).round() / 100.0
}

fn rmse(y: &[f64], p: &[f64]) -> f64 {
    let n = y.len().max(1) as f64;
    (y.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum::<f64>() / n).sqrt()
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let sd = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    (mean, sd)
}

/// Whether a house was sold in or after `(year, month)`; `None` when its date is missing.
fn sold_from(house: &House, (year, month): (u32, u32)) -> Option<bool> {
    let number = |name| match house.get_by_name(name) {
        Some(Value::Number(x)) => Some(x),
        _ => None,
    };
    let (y, m) = (number("YrSold")?, number("MoSold")?);
    Some((y, m) >= (f64::from(year), f64::from(month)))
}

/// One independent fit of a training run.
#[derive(Debug, Clone, Copy)]
enum Task {
    /// Fold `fold` of repetition `repeat`.
    Cv { repeat: usize, fold: usize },
    /// Fit on the earlier sales.
    Holdout,
    /// The final model on every row.
    Final,
}

enum Outcome {
    /// Linear and tree ln prices of the scored rows.
    Scores(Vec<f64>, Vec<f64>),
    Final(Box<Fitted>),
}

/// Runs `work` on every task over the available cores; `done` sees each task as it finishes.
fn run_all<T: Send>(
    tasks: usize,
    work: impl Fn(usize) -> T + Sync,
    mut done: impl FnMut(usize, &T),
) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(tasks)
        .max(1);
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<T>> = (0..tasks).map(|_| None).collect();
    std::thread::scope(|scope| {
        let (sender, receiver) = mpsc::channel();
        for _ in 0..threads {
            let sender = sender.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || {
                loop {
                    let task = next.fetch_add(1, Ordering::Relaxed);
                    if task >= tasks {
                        break;
                    }
                    if sender.send((task, work(task))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (task, result) in receiver {
            done(task, &result);
            results[task] = Some(result);
        }
    });
    results.into_iter().flatten().collect()
}

/// Trains the model: outlier rule, repeated cross-validation and time holdout of the linear
/// model, the trees and their blend, final fit, interval.
pub fn train(
    dataset: &Dataset,
    params: &TrainParams,
    progress: &mut dyn FnMut(Progress),
) -> Result<Trained, TrainError> {
    params.validate().map_err(TrainError::Params)?;
    let holdout_month = params.holdout_month().map_err(TrainError::Params)?;
    let (rows, dropped_outliers) = kept_rows(dataset, params);
    let needed = params.cv_folds * 2;
    if rows.len() < needed {
        return Err(TrainError::TooFewRows {
            needed,
            have: rows.len(),
            folds: params.cv_folds,
        });
    }
    let n = rows.len();
    let y: Vec<f64> = rows.iter().map(|&i| dataset.prices[i].ln()).collect();

    // Fold assignments: positions into `rows`.
    let repeat_count = if n > params.cv_repeats_max_rows {
        1
    } else {
        params.cv_repeats
    };
    let repeats: Vec<Vec<Vec<usize>>> = (0..repeat_count)
        .map(|r| split::folds(n, params.cv_folds, params.seed.wrapping_add(r as u64)))
        .collect();
    // Time holdout: positions of the earlier and later sales (undated rows train).
    let (early, late): (Vec<usize>, Vec<usize>) = match holdout_month {
        Some(month) => {
            (0..n).partition(|&k| sold_from(&dataset.houses[rows[k]], month) != Some(true))
        }
        None => ((0..n).collect(), Vec::new()),
    };
    let holdout = late.len() >= params.cv_folds && early.len() >= needed;

    // The largest fit first, so no core waits for it at the end.
    let mut tasks: Vec<Task> = vec![Task::Final];
    if holdout {
        tasks.push(Task::Holdout);
    }
    for (repeat, folds) in repeats.iter().enumerate() {
        tasks.extend((0..folds.len()).map(|fold| Task::Cv { repeat, fold }));
    }
    let cv_fits = tasks.len() - 1 - usize::from(holdout);

    let to_rows =
        |positions: &[usize]| -> Vec<usize> { positions.iter().map(|&k| rows[k]).collect() };
    let mut cv_done = 0;
    let outcomes = run_all(
        tasks.len(),
        |t| -> Result<Outcome, TrainError> {
            match tasks[t] {
                Task::Cv { repeat, fold } => {
                    let held_out = &repeats[repeat][fold];
                    let train_positions: Vec<usize> = (0..n)
                        .filter(|k| held_out.binary_search(k).is_err())
                        .collect();
                    let fitted =
                        fit_parts(dataset, &to_rows(&train_positions), params, true, true)?;
                    let (l, g) = fitted.predict_parts(dataset, &to_rows(held_out));
                    Ok(Outcome::Scores(l, g))
                }
                Task::Holdout => {
                    let fitted = fit_parts(dataset, &to_rows(&early), params, true, true)?;
                    let (l, g) = fitted.predict_parts(dataset, &to_rows(&late));
                    Ok(Outcome::Scores(l, g))
                }
                Task::Final => Ok(Outcome::Final(Box::new(fit_parts(
                    dataset,
                    &rows,
                    params,
                    params.model != ModelKind::Gbm,
                    params.model != ModelKind::Linear,
                )?))),
            }
        },
        |t, _| match tasks[t] {
            Task::Cv { .. } => {
                cv_done += 1;
                progress(Progress::Fold {
                    fold: cv_done,
                    folds: cv_fits,
                });
            }
            Task::Holdout => progress(Progress::Holdout),
            Task::Final => {}
        },
    );
    let mut oof_linear = vec![vec![0.0; n]; repeats.len()];
    let mut oof_gbm = vec![vec![0.0; n]; repeats.len()];
    let mut holdout_scores = None;
    let mut final_fit = None;
    for (task, outcome) in tasks.iter().zip(outcomes) {
        match (task, outcome?) {
            (Task::Cv { repeat, fold }, Outcome::Scores(l, g)) => {
                for ((&k, l), g) in repeats[*repeat][*fold].iter().zip(l).zip(g) {
                    oof_linear[*repeat][k] = l;
                    oof_gbm[*repeat][k] = g;
                }
            }
            (Task::Holdout, Outcome::Scores(l, g)) => holdout_scores = Some((l, g)),
            (_, Outcome::Final(fitted)) => final_fit = Some(fitted),
            _ => {}
        }
    }
    progress(Progress::Final);

    // The blend weight: on all out-of-fold predictions for the final model; for each fold's
    // own scores, on the other folds of its repetition only.
    let pooled = |parts: &[Vec<f64>]| -> Vec<f64> { parts.concat() };
    let y_pooled: Vec<f64> = (0..repeats.len()).flat_map(|_| y.iter().copied()).collect();
    let gbm_weight = params
        .blend_gbm_weight
        .unwrap_or_else(|| best_weight(&y_pooled, &pooled(&oof_linear), &pooled(&oof_gbm)));
    let mut oof_blend = vec![vec![0.0; n]; repeats.len()];
    for (r, folds) in repeats.iter().enumerate() {
        for (k, held_out) in folds.iter().enumerate() {
            let w = params.blend_gbm_weight.unwrap_or_else(|| {
                let others: Vec<usize> = folds
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .flat_map(|(_, f)| f.iter().copied())
                    .collect();
                let pick = |v: &[f64]| -> Vec<f64> { others.iter().map(|&i| v[i]).collect() };
                best_weight(&pick(&y), &pick(&oof_linear[r]), &pick(&oof_gbm[r]))
            });
            for &i in held_out {
                oof_blend[r][i] = (1.0 - w) * oof_linear[r][i] + w * oof_gbm[r][i];
            }
        }
    }

    let late_rows = to_rows(&late);
    let late_prices: Vec<f64> = late_rows.iter().map(|&i| dataset.prices[i]).collect();
    let quality_of = |oof: &[Vec<f64>], holdout_log: Option<Vec<f64>>| {
        let per_repeat: Vec<f64> = oof.iter().map(|p| rmse(&y, p)).collect();
        let (mean, sd) = mean_sd(&per_repeat);
        ModelQuality {
            cv_rmse_log_mean: mean,
            cv_rmse_log_sd: sd,
            cv_rmse_log: per_repeat,
            holdout: holdout_log.map(|logs| {
                let prices: Vec<f64> = logs.iter().map(|l| l.exp()).collect();
                Metrics::compute(&late_prices, &prices)
            }),
        }
    };
    let (holdout_linear, holdout_gbm, holdout_blend) = match holdout_scores {
        Some((l, g)) => {
            let b: Vec<f64> = l
                .iter()
                .zip(&g)
                .map(|(l, g)| (1.0 - gbm_weight) * l + gbm_weight * g)
                .collect();
            (Some(l), Some(g), Some(b))
        }
        None => (None, None, None),
    };
    let holdout_parts = match (&holdout_linear, &holdout_gbm, &holdout_blend) {
        (Some(l), Some(g), Some(b)) => Some((l.clone(), g.clone(), b.clone())),
        _ => None,
    };
    let quality = Quality {
        folds: params.cv_folds,
        repeats: repeats.len(),
        holdout_from: params.holdout_from.clone().filter(|_| holdout),
        holdout_train_rows: if holdout { early.len() } else { 0 },
        holdout_test_rows: late_rows.len() * usize::from(holdout),
        blend_gbm_weight: gbm_weight,
        linear: quality_of(&oof_linear, holdout_linear),
        gbm: quality_of(&oof_gbm, holdout_gbm),
        blend: quality_of(&oof_blend, holdout_blend),
    };

    // The served estimator's out-of-fold predictions: metrics of the first assignment, and
    // the interval from the residuals of all.
    let oof = match params.model {
        ModelKind::Linear => &oof_linear,
        ModelKind::Gbm => &oof_gbm,
        ModelKind::Blend => &oof_blend,
    };
    let prices: Vec<f64> = rows.iter().map(|&i| dataset.prices[i]).collect();
    let fold_metrics: Vec<Metrics> = repeats[0]
        .iter()
        .map(|held_out| {
            let actual: Vec<f64> = held_out.iter().map(|&k| prices[k]).collect();
            let predicted: Vec<f64> = held_out.iter().map(|&k| oof[0][k].exp()).collect();
            Metrics::compute(&actual, &predicted)
        })
        .collect();
    let residuals: Vec<f64> = oof
        .iter()
        .flat_map(|p| y.iter().zip(p).map(|(y, p)| y - p))
        .collect();
    let tail = (1.0 - params.interval_level) / 2.0;
    let interval = Interval {
        level: params.interval_level,
        low_log: stats::quantile(&residuals, tail).unwrap_or(0.0),
        high_log: stats::quantile(&residuals, 1.0 - tail).unwrap_or(0.0),
    };
    let inside = residuals
        .iter()
        .filter(|r| **r >= interval.low_log && **r <= interval.high_log)
        .count();
    let first_prices: Vec<f64> = oof[0].iter().map(|l| l.exp()).collect();
    let cv = CvReport {
        overall: Metrics::compute(&prices, &first_prices),
        mean_fold_rmse_log: fold_metrics.iter().map(|m| m.rmse_log).sum::<f64>()
            / fold_metrics.len() as f64,
        folds: fold_metrics,
        interval_coverage: inside as f64 / residuals.len() as f64,
    };

    let Some(fitted) = final_fit else {
        return Err(TrainError::Params("the final fit did not run".to_string()));
    };
    let mut model = assemble(*fitted, params.model, gbm_weight, interval);
    // Explanation baseline, comparables and the calibrated range, from the training rows only.
    let calibration = crate::appraisal::Calibration {
        y: &y,
        oof,
        oof_linear: &oof_linear,
        oof_gbm: &oof_gbm,
        folds: &repeats[0],
        early: &early,
        late: &late,
        holdout: holdout_parts.map(|(l, g, b)| {
            let served = match params.model {
                ModelKind::Linear => l.clone(),
                ModelKind::Gbm => g.clone(),
                ModelKind::Blend => b,
            };
            (served, l, g)
        }),
        level: params.interval_level,
    };
    let (reference, interval_report) =
        crate::appraisal::build_reference(&model, dataset, &rows, &calibration)
            .map_err(TrainError::Params)?;
    model.reference = reference;
    let mut cv = cv;
    cv.interval_coverage = interval_report.folds.coverage;
    let mut buffers = Buffers::default();
    let fitted_prices: Vec<f64> = rows
        .iter()
        .map(|&i| model.predict_with(&dataset.houses[i], &mut buffers).price)
        .collect();
    let price_deciles = (1..10)
        .filter_map(|d| stats::quantile(&prices, d as f64 / 10.0))
        .collect();
    let out_of_fold = rows
        .iter()
        .enumerate()
        .map(|(k, &i)| OutOfFold {
            id: dataset.ids[i].unwrap_or(i as i64 + 1),
            price: prices[k],
            predicted: (oof.iter().map(|p| p[k]).sum::<f64>() / oof.len() as f64).exp(),
        })
        .collect();
    Ok(Trained {
        interval: interval_report,
        out_of_fold,
        price_deciles,
        train: Metrics::compute(&prices, &fitted_prices),
        rows: n,
        dropped_outliers,
        model,
        cv,
        quality,
    })
}

/// Scores a model on labelled houses, returning the metrics and each predicted price.
pub fn evaluate(model: &Model, dataset: &Dataset) -> (Metrics, Vec<f64>) {
    let mut buffers = Buffers::default();
    let predicted: Vec<f64> = dataset
        .houses
        .iter()
        .map(|h| model.predict_with(h, &mut buffers).price)
        .collect();
    (Metrics::compute(&dataset.prices, &predicted), predicted)
}
