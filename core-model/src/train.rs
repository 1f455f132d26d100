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
use crate::params::{OutlierScope, TrainParams};
use crate::predict::{Buffers, Estimator, Interval, Model, ModelKind};
use crate::{split, stats};

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The parameters are out of range.
    #[error(transparent)]
    InvalidParams(#[from] crate::params::ParamsError),
    /// The model could not be assembled from its parts (a fit that did not run, a reference
    /// that could not be built).
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

/// Cross-validation results of the served model, on the first fold assignment.
///
/// Every row is scored, the outlier rule's rows included: a model is judged on every house it
/// will meet. `kept` is the same on the rows the rule keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// Metrics of the out-of-fold predictions of all rows together.
    pub overall: Metrics,
    /// Metrics of the out-of-fold predictions of the rows the outlier rule keeps.
    pub kept: Metrics,
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
    /// Mean over repetitions of the pooled out-of-fold RMSE of ln(price), every row scored.
    pub cv_rmse_log_mean: f64,
    /// Standard deviation of it over repetitions (0 with one repetition).
    pub cv_rmse_log_sd: f64,
    /// The pooled out-of-fold RMSE of ln(price) of each repetition (seed `seed + r`).
    pub cv_rmse_log: Vec<f64>,
    /// The same on the rows the outlier rule keeps: mean over repetitions…
    pub cv_kept_rmse_log_mean: f64,
    /// …standard deviation…
    pub cv_kept_rmse_log_sd: f64,
    /// …and each repetition's figure.
    pub cv_kept_rmse_log: Vec<f64>,
    /// Metrics on the later sales of the time holdout (all of them), when there is one.
    pub holdout: Option<Metrics>,
}

/// The quality of all three estimators, whichever one is served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Folds of each repetition.
    pub folds: usize,
    /// Repetitions of the cross-validation.
    pub repeats: usize,
    /// Rows scored by the cross-validation (every row).
    pub rows: usize,
    /// Of them, rows the outlier rule keeps.
    pub kept_rows: usize,
    /// First month of the time holdout's scored sales (`YYYY-MM`), when there is one.
    pub holdout_from: Option<String>,
    /// Rows the time-holdout model was fitted on (earlier sales).
    pub holdout_train_rows: usize,
    /// Rows it was scored on (later sales).
    pub holdout_test_rows: usize,
    /// The weight of the trees in the blend, chosen on all out-of-fold predictions (or fixed
    /// by `blend_gbm_weight`); with the gate, the weight for houses inside the linear part's size
    /// range, chosen on their predictions only.
    pub blend_gbm_weight: f64,
    /// With the gate, the trees' weight for houses larger or smaller than every house the
    /// linear part was fitted on (`blend_gbm_weight_beyond`).
    pub blend_gbm_weight_out_of_range: Option<f64>,
    /// Share of out-of-fold predictions (all repetitions) of such houses.
    pub out_of_range_share: f64,
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
    /// The final model: the linear part on the rows the outlier rule keeps, the trees on every
    /// row (or on the kept ones, per `outlier_scope`).
    pub model: Model,
    /// Cross-validation of the served estimator (first fold assignment).
    pub cv: CvReport,
    /// Repeated cross-validation and time holdout of all three estimators.
    pub quality: Quality,
    /// Metrics of the final model on every training row.
    pub train: Metrics,
    /// Rows the final model's parts were fitted on (together).
    pub rows: usize,
    /// Ids (or row numbers) of the rows the outlier rule keeps from the linear part (and from
    /// the trees with `outlier_scope: all`).
    pub dropped_outliers: Vec<i64>,
    /// Deciles of the training sale prices (reference for drift monitoring).
    pub price_deciles: Vec<f64>,
    /// Every row's out-of-fold prediction by the served estimator (mean over repetitions).
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
    /// Whether the outlier rule keeps the row.
    pub kept: bool,
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

/// Each part's ln price for some houses, and whether a house had a clipped numeric field.
#[derive(Debug, Clone, Default)]
struct Scores {
    linear: Vec<f64>,
    gbm: Vec<f64>,
    clipped: Vec<bool>,
}

impl Fitted {
    /// Each part's ln price for the houses at `rows`.
    fn score(&self, dataset: &Dataset, rows: &[usize]) -> Scores {
        let model = Model {
            pipeline: self.pipeline.clone(),
            estimator: Estimator {
                kind: ModelKind::Blend,
                linear_weight: 0.5,
                gbm_weight: 0.5,
                gbm_weight_out_of_range: None,
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
        let mut scores = Scores::default();
        for &i in rows {
            let (parts, report) = model.predict_parts(&dataset.houses[i], &mut buffers);
            scores.linear.push(parts.linear.unwrap_or(f64::NAN));
            scores.gbm.push(parts.gbm.unwrap_or(f64::NAN));
            scores.clipped.push(report.beyond_the_houses());
        }
        scores
    }
}

/// Fits the pipeline and the linear model on `linear_rows`, the trees on `tree_rows` (each
/// sorted), in one pass over their union; `linear` and `trees` say which estimators to fit (the
/// pipeline is always fitted on `linear_rows`).
fn fit_parts(
    dataset: &Dataset,
    linear_rows: &[usize],
    tree_rows: &[usize],
    params: &TrainParams,
    linear: bool,
    trees: bool,
) -> Result<Fitted, TrainError> {
    let pipeline = FeaturePipeline::fit_rows(&dataset.houses, linear_rows, &params.encode())?;
    let p = pipeline.features.len();
    let tree_rows = if trees { tree_rows } else { &[] };
    let linear_rows = if linear { linear_rows } else { &[] };
    let mut gram = linear.then(|| Gram::new(p));
    let mut inputs = trees.then(|| InputBuilder::new(tree_rows.len()));
    let mut features = Vec::with_capacity(p);
    let mut report = EncodeReport::default();
    let (mut a, mut b) = (0, 0);
    loop {
        let (l, t) = (linear_rows.get(a).copied(), tree_rows.get(b).copied());
        let i = match (l, t) {
            (Some(l), Some(t)) => l.min(t),
            (Some(i), None) | (None, Some(i)) => i,
            (None, None) => break,
        };
        let (in_linear, in_trees) = (l == Some(i), t == Some(i));
        a += usize::from(in_linear);
        b += usize::from(in_trees);
        report.imputed.clear();
        report.out_of_range.clear();
        report.unknown_levels.clear();
        let filled = pipeline.fill(&dataset.houses[i], &mut report.imputed);
        let y = dataset.prices[i].ln();
        if in_linear && let Some(gram) = &mut gram {
            pipeline.encode_filled(&filled, &mut features, &mut report);
            gram.add(&features, y)?;
        }
        if in_trees && let Some(inputs) = &mut inputs {
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
        &rows,
        params,
        params.model != ModelKind::Gbm,
        params.model != ModelKind::Linear,
    )?;
    Ok(assemble(
        fitted,
        params.model,
        Weights {
            gbm: params.blend_gbm_weight.unwrap_or(0.5),
            out_of_range: None,
        },
        Interval {
            level: params.interval_level,
            low_log: 0.0,
            high_log: 0.0,
        },
    ))
}

/// The trees' weight in the blend: for every house, or (gated) for houses inside the training
/// ranges with another for houses with a clipped field.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Weights {
    gbm: f64,
    out_of_range: Option<f64>,
}

impl Weights {
    /// The blended ln price of one house.
    fn blend(&self, linear: f64, gbm: f64, clipped: bool) -> f64 {
        let w = match self.out_of_range {
            Some(w) if clipped => w,
            _ => self.gbm,
        };
        (1.0 - w) * linear + w * gbm
    }
}

/// The blend weights: the trees' weight for houses inside the linear part's size range chosen
/// on the out-of-fold predictions at `rows` of `scores` of such houses (or fixed by
/// `blend_gbm_weight`), and the gate's weight for the others (`blend_gbm_weight_beyond`).
fn choose_weights(params: &TrainParams, y: &[f64], scores: &[&Scores], rows: &[usize]) -> Weights {
    let gate = params.blend_gbm_weight_beyond;
    let gbm = params.blend_gbm_weight.unwrap_or_else(|| {
        let (mut yy, mut l, mut g) = (Vec::new(), Vec::new(), Vec::new());
        for s in scores {
            for &i in rows {
                if gate.is_none() || !s.clipped[i] {
                    yy.push(y[i]);
                    l.push(s.linear[i]);
                    g.push(s.gbm[i]);
                }
            }
        }
        best_weight(&yy, &l, &g)
    });
    Weights {
        gbm,
        out_of_range: gate,
    }
}

fn assemble(fitted: Fitted, kind: ModelKind, weights: Weights, interval: Interval) -> Model {
    let (linear_weight, gbm_weight, gbm_weight_out_of_range) = match kind {
        ModelKind::Linear => (1.0, 0.0, None),
        ModelKind::Gbm => (0.0, 1.0, None),
        ModelKind::Blend => (1.0 - weights.gbm, weights.gbm, weights.out_of_range),
    };
    Model {
        pipeline: fitted.pipeline,
        estimator: Estimator {
            kind,
            linear_weight,
            gbm_weight,
            gbm_weight_out_of_range,
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

/// RMSE of `p` against `y` on the rows where `select` holds.
fn rmse_where(y: &[f64], p: &[f64], select: impl Fn(usize) -> bool) -> f64 {
    let (mut sum, mut count) = (0.0, 0usize);
    for (i, (y, p)) in y.iter().zip(p).enumerate() {
        if select(i) {
            sum += (y - p).powi(2);
            count += 1;
        }
    }
    (sum / count.max(1) as f64).sqrt()
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
    /// The parts' ln prices of the scored rows.
    Scores(Scores),
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

/// Trains the model: repeated cross-validation and time holdout of the linear model, the
/// trees and their blend, every row scored (the outlier rule applies to the fits only), then
/// the final fit and the interval.
pub fn train(
    dataset: &Dataset,
    params: &TrainParams,
    progress: &mut dyn FnMut(Progress),
) -> Result<Trained, TrainError> {
    params.validate()?;
    let holdout_month = params.holdout_month()?;
    let n = dataset.len();
    let (kept, dropped_outliers) = kept_rows(dataset, params);
    let needed = params.cv_folds * 2;
    if kept.len() < needed {
        return Err(TrainError::TooFewRows {
            needed,
            have: kept.len(),
            folds: params.cv_folds,
        });
    }
    let is_kept = {
        let mut mask = vec![false; n];
        for &i in &kept {
            mask[i] = true;
        }
        mask
    };
    let y: Vec<f64> = dataset.prices.iter().map(|p| p.ln()).collect();
    // The rows each part is fitted on, among `candidates` (sorted).
    let linear_rows = |candidates: &[usize]| -> Vec<usize> {
        candidates.iter().copied().filter(|&i| is_kept[i]).collect()
    };
    let tree_rows = |candidates: &[usize]| -> Vec<usize> {
        match params.outlier_scope {
            OutlierScope::Linear => candidates.to_vec(),
            OutlierScope::All => linear_rows(candidates),
        }
    };

    // Fold assignments of every row.
    let repeat_count = if n > params.cv_repeats_max_rows {
        1
    } else {
        params.cv_repeats
    };
    let repeats: Vec<Vec<Vec<usize>>> = (0..repeat_count)
        .map(|r| split::folds(n, params.cv_folds, params.seed.wrapping_add(r as u64)))
        .collect();
    // Time holdout: the earlier and later sales (undated rows train).
    let (early, late): (Vec<usize>, Vec<usize>) = match holdout_month {
        Some(month) => (0..n).partition(|&i| sold_from(&dataset.houses[i], month) != Some(true)),
        None => ((0..n).collect(), Vec::new()),
    };
    let holdout = late.len() >= params.cv_folds && linear_rows(&early).len() >= needed;

    // The largest fit first, so no core waits for it at the end.
    let mut tasks: Vec<Task> = vec![Task::Final];
    if holdout {
        tasks.push(Task::Holdout);
    }
    for (repeat, folds) in repeats.iter().enumerate() {
        tasks.extend((0..folds.len()).map(|fold| Task::Cv { repeat, fold }));
    }
    let cv_fits = tasks.len() - 1 - usize::from(holdout);
    let all_rows: Vec<usize> = (0..n).collect();

    let mut cv_done = 0;
    let outcomes = run_all(
        tasks.len(),
        |t| -> Result<Outcome, TrainError> {
            match tasks[t] {
                Task::Cv { repeat, fold } => {
                    let held_out = &repeats[repeat][fold];
                    let train: Vec<usize> = (0..n)
                        .filter(|i| held_out.binary_search(i).is_err())
                        .collect();
                    let fitted = fit_parts(
                        dataset,
                        &linear_rows(&train),
                        &tree_rows(&train),
                        params,
                        true,
                        true,
                    )?;
                    Ok(Outcome::Scores(fitted.score(dataset, held_out)))
                }
                Task::Holdout => {
                    let fitted = fit_parts(
                        dataset,
                        &linear_rows(&early),
                        &tree_rows(&early),
                        params,
                        true,
                        true,
                    )?;
                    Ok(Outcome::Scores(fitted.score(dataset, &late)))
                }
                Task::Final => Ok(Outcome::Final(Box::new(fit_parts(
                    dataset,
                    &kept,
                    &tree_rows(&all_rows),
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
    // Out-of-fold scores of every row, one set per repetition.
    let blank = Scores {
        linear: vec![0.0; n],
        gbm: vec![0.0; n],
        clipped: vec![false; n],
    };
    let mut oof = vec![blank; repeats.len()];
    let mut holdout_scores = None;
    let mut final_fit = None;
    for (task, outcome) in tasks.iter().zip(outcomes) {
        match (task, outcome?) {
            (Task::Cv { repeat, fold }, Outcome::Scores(s)) => {
                let target = &mut oof[*repeat];
                for (k, &i) in repeats[*repeat][*fold].iter().enumerate() {
                    target.linear[i] = s.linear[k];
                    target.gbm[i] = s.gbm[k];
                    target.clipped[i] = s.clipped[k];
                }
            }
            (Task::Holdout, Outcome::Scores(s)) => holdout_scores = Some(s),
            (_, Outcome::Final(fitted)) => final_fit = Some(fitted),
            _ => {}
        }
    }
    progress(Progress::Final);

    // The blend weights: on all out-of-fold predictions for the final model; for each fold's
    // own scores, on the other folds of its repetition only.
    let weights = choose_weights(params, &y, &oof.iter().collect::<Vec<_>>(), &all_rows);
    let mut oof_blend = vec![vec![0.0; n]; repeats.len()];
    for (r, folds) in repeats.iter().enumerate() {
        for (k, held_out) in folds.iter().enumerate() {
            let others: Vec<usize> = folds
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k)
                .flat_map(|(_, f)| f.iter().copied())
                .collect();
            let w = choose_weights(params, &y, &[&oof[r]], &others);
            for &i in held_out {
                oof_blend[r][i] = w.blend(oof[r].linear[i], oof[r].gbm[i], oof[r].clipped[i]);
            }
        }
    }
    let oof_linear: Vec<Vec<f64>> = oof.iter().map(|s| s.linear.clone()).collect();
    let oof_gbm: Vec<Vec<f64>> = oof.iter().map(|s| s.gbm.clone()).collect();

    let late_prices: Vec<f64> = late.iter().map(|&i| dataset.prices[i]).collect();
    let quality_of = |oof: &[Vec<f64>], holdout_log: Option<Vec<f64>>| {
        let all: Vec<f64> = oof.iter().map(|p| rmse_where(&y, p, |_| true)).collect();
        let kept: Vec<f64> = oof
            .iter()
            .map(|p| rmse_where(&y, p, |i| is_kept[i]))
            .collect();
        let (mean, sd) = mean_sd(&all);
        let (kept_mean, kept_sd) = mean_sd(&kept);
        ModelQuality {
            cv_rmse_log_mean: mean,
            cv_rmse_log_sd: sd,
            cv_rmse_log: all,
            cv_kept_rmse_log_mean: kept_mean,
            cv_kept_rmse_log_sd: kept_sd,
            cv_kept_rmse_log: kept,
            holdout: holdout_log.map(|logs| {
                let prices: Vec<f64> = logs.iter().map(|l| l.exp()).collect();
                Metrics::compute(&late_prices, &prices)
            }),
        }
    };
    let (holdout_linear, holdout_gbm, holdout_blend) = match holdout_scores {
        Some(s) => {
            let b: Vec<f64> = (0..s.linear.len())
                .map(|k| weights.blend(s.linear[k], s.gbm[k], s.clipped[k]))
                .collect();
            (Some(s.linear), Some(s.gbm), Some(b))
        }
        None => (None, None, None),
    };
    let holdout_parts = match (&holdout_linear, &holdout_gbm, &holdout_blend) {
        (Some(l), Some(g), Some(b)) => Some((l.clone(), g.clone(), b.clone())),
        _ => None,
    };
    let clipped_count: usize = oof
        .iter()
        .map(|s| s.clipped.iter().filter(|c| **c).count())
        .sum();
    let quality = Quality {
        folds: params.cv_folds,
        repeats: repeats.len(),
        rows: n,
        kept_rows: kept.len(),
        holdout_from: params.holdout_from.clone().filter(|_| holdout),
        holdout_train_rows: if holdout { early.len() } else { 0 },
        holdout_test_rows: late.len() * usize::from(holdout),
        blend_gbm_weight: weights.gbm,
        blend_gbm_weight_out_of_range: weights.out_of_range,
        out_of_range_share: clipped_count as f64 / (n * repeats.len()).max(1) as f64,
        linear: quality_of(&oof_linear, holdout_linear),
        gbm: quality_of(&oof_gbm, holdout_gbm),
        blend: quality_of(&oof_blend, holdout_blend),
    };

    // The served estimator's out-of-fold predictions: metrics of the first assignment, and
    // the interval from the residuals of all.
    let served = match params.model {
        ModelKind::Linear => &oof_linear,
        ModelKind::Gbm => &oof_gbm,
        ModelKind::Blend => &oof_blend,
    };
    let prices = &dataset.prices;
    let fold_metrics: Vec<Metrics> = repeats[0]
        .iter()
        .map(|held_out| {
            let actual: Vec<f64> = held_out.iter().map(|&i| prices[i]).collect();
            let predicted: Vec<f64> = held_out.iter().map(|&i| served[0][i].exp()).collect();
            Metrics::compute(&actual, &predicted)
        })
        .collect();
    let residuals: Vec<f64> = served
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
    let first_prices: Vec<f64> = served[0].iter().map(|l| l.exp()).collect();
    let kept_metrics = Metrics::compute(
        &kept.iter().map(|&i| prices[i]).collect::<Vec<_>>(),
        &kept.iter().map(|&i| first_prices[i]).collect::<Vec<_>>(),
    );
    let cv = CvReport {
        overall: Metrics::compute(prices, &first_prices),
        kept: kept_metrics,
        mean_fold_rmse_log: fold_metrics.iter().map(|m| m.rmse_log).sum::<f64>()
            / fold_metrics.len() as f64,
        folds: fold_metrics,
        interval_coverage: inside as f64 / residuals.len() as f64,
    };

    let Some(fitted) = final_fit else {
        return Err(TrainError::Params("the final fit did not run".to_string()));
    };
    let mut model = assemble(*fitted, params.model, weights, interval);
    // Explanation baseline, comparables and the calibrated range, from the training rows only
    // (every row: each was scored out of fold).
    let calibration = crate::appraisal::Calibration {
        y: &y,
        oof: served,
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
        crate::appraisal::build_reference(&model, dataset, &all_rows, &calibration)
            .map_err(TrainError::Params)?;
    model.reference = reference;
    let mut cv = cv;
    cv.interval_coverage = interval_report.folds.coverage;
    let mut buffers = Buffers::default();
    let fitted_prices: Vec<f64> = dataset
        .houses
        .iter()
        .map(|house| model.predict_with(house, &mut buffers).price)
        .collect();
    let price_deciles = (1..10)
        .filter_map(|d| stats::quantile(prices, d as f64 / 10.0))
        .collect();
    let out_of_fold = (0..n)
        .map(|i| OutOfFold {
            id: dataset.ids[i].unwrap_or(i as i64 + 1),
            price: prices[i],
            predicted: (served.iter().map(|p| p[i]).sum::<f64>() / served.len() as f64).exp(),
            kept: is_kept[i],
        })
        .collect();
    let fitted_rows = match (params.model, params.outlier_scope) {
        (ModelKind::Linear, _) | (_, OutlierScope::All) => kept.len(),
        _ => n,
    };
    Ok(Trained {
        interval: interval_report,
        out_of_fold,
        price_deciles,
        train: Metrics::compute(prices, &fitted_prices),
        rows: fitted_rows,
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
