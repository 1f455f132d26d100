//! Training: clean the rows, cross-validate, fit the final model on every kept row.

use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::encode::{FeaturePipeline, PipelineError};
use crate::house::{House, Value};
use crate::metrics::Metrics;
use crate::model::{LinearModel, ModelError};
use crate::params::TrainParams;
use crate::predict::{Interval, Model};
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
    /// Fold `fold` of `folds` is being fitted.
    Fold {
        /// 1-based fold number.
        fold: usize,
        /// Total folds.
        folds: usize,
    },
    /// The final model is being fitted on all rows.
    Final,
}

/// Cross-validation results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvReport {
    /// Metrics of the out-of-fold predictions of all rows together.
    pub overall: Metrics,
    /// Metrics of each fold's held-out rows.
    pub folds: Vec<Metrics>,
    /// Mean of the per-fold RMSE of ln price (what scikit-learn's `cross_val_score` reports).
    pub mean_fold_rmse_log: f64,
    /// Share of held-out prices inside their own interval (measured coverage).
    pub interval_coverage: f64,
}

/// A trained model with the evidence of its quality.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The final model, fitted on every kept row.
    pub model: Model,
    /// Cross-validation of the same procedure.
    pub cv: CvReport,
    /// Metrics of the final model on its own training rows.
    pub train: Metrics,
    /// Rows used for training.
    pub rows: usize,
    /// Ids (or row numbers) of the rows dropped by the outlier rule.
    pub dropped_outliers: Vec<i64>,
    /// Deciles of the training sale prices (reference for drift monitoring).
    pub price_deciles: Vec<f64>,
}

/// Whether a row is one of the partial-sale outliers the parameters exclude from training.
pub fn is_outlier(house: &House, price: f64, params: &TrainParams) -> bool {
    let Some(min_area) = params.outlier_min_living_area else {
        return false;
    };
    matches!(house.get_by_name("GrLivArea"), Some(Value::Number(area)) if area > min_area)
        && price < params.outlier_max_price
}

/// Removes outliers, returning the kept dataset and the ids of the dropped rows.
pub fn clean(dataset: &Dataset, params: &TrainParams) -> (Dataset, Vec<i64>) {
    let mut keep = Vec::with_capacity(dataset.len());
    let mut dropped = Vec::new();
    for (i, (house, price)) in dataset.houses.iter().zip(&dataset.prices).enumerate() {
        if is_outlier(house, *price, params) {
            dropped.push(dataset.ids[i].unwrap_or(i as i64 + 1));
        } else {
            keep.push(i);
        }
    }
    (dataset.select(&keep), dropped)
}

/// Fits pipeline and estimator on the rows as given (no cleaning, no interval).
pub fn fit(
    dataset: &Dataset,
    params: &TrainParams,
) -> Result<(FeaturePipeline, LinearModel), TrainError> {
    let pipeline = FeaturePipeline::fit(&dataset.houses, &params.encode())?;
    let p = pipeline.features.len();
    let mut x = Vec::with_capacity(dataset.len() * p);
    let mut row = Vec::with_capacity(p);
    for house in &dataset.houses {
        pipeline.encode_into(house, &mut row);
        x.extend_from_slice(&row);
    }
    let y: Vec<f64> = dataset.prices.iter().map(|p| p.ln()).collect();
    let estimator = LinearModel::fit(&x, p, &y, &params.model())?;
    Ok((pipeline, estimator))
}

/// Trains the model: outlier rule, k-fold cross-validation, final fit, interval.
pub fn train(
    dataset: &Dataset,
    params: &TrainParams,
    progress: &mut dyn FnMut(Progress),
) -> Result<Trained, TrainError> {
    params.validate().map_err(TrainError::Params)?;
    let (data, dropped_outliers) = clean(dataset, params);
    let folds = split::folds(data.len(), params.cv_folds, params.seed);
    let needed = params.cv_folds * 2;
    if data.len() < needed {
        return Err(TrainError::TooFewRows {
            needed,
            have: data.len(),
            folds: params.cv_folds,
        });
    }

    let mut oof_log = vec![0.0; data.len()];
    let mut fold_metrics = Vec::with_capacity(folds.len());
    for (k, held_out) in folds.iter().enumerate() {
        progress(Progress::Fold {
            fold: k + 1,
            folds: folds.len(),
        });
        let train_rows: Vec<usize> = (0..data.len())
            .filter(|i| held_out.binary_search(i).is_err())
            .collect();
        let (pipeline, estimator) = fit(&data.select(&train_rows), params)?;
        let mut buffer = Vec::new();
        let mut actual = Vec::with_capacity(held_out.len());
        let mut predicted = Vec::with_capacity(held_out.len());
        for &i in held_out {
            pipeline.encode_into(&data.houses[i], &mut buffer);
            oof_log[i] = estimator.predict_log(&buffer);
            actual.push(data.prices[i]);
            predicted.push(oof_log[i].exp());
        }
        fold_metrics.push(Metrics::compute(&actual, &predicted));
    }
    let oof_prices: Vec<f64> = oof_log.iter().map(|l| l.exp()).collect();
    let residuals: Vec<f64> = data
        .prices
        .iter()
        .zip(&oof_log)
        .map(|(p, l)| p.ln() - l)
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
    let cv = CvReport {
        overall: Metrics::compute(&data.prices, &oof_prices),
        mean_fold_rmse_log: fold_metrics.iter().map(|m| m.rmse_log).sum::<f64>()
            / fold_metrics.len() as f64,
        folds: fold_metrics,
        interval_coverage: inside as f64 / residuals.len() as f64,
    };

    progress(Progress::Final);
    let (pipeline, estimator) = fit(&data, params)?;
    let model = Model {
        pipeline,
        estimator,
        interval,
    };
    let fitted: Vec<f64> = data.houses.iter().map(|h| model.predict(h).price).collect();
    let price_deciles = (1..10)
        .filter_map(|d| stats::quantile(&data.prices, d as f64 / 10.0))
        .collect();
    Ok(Trained {
        price_deciles,
        train: Metrics::compute(&data.prices, &fitted),
        rows: data.len(),
        dropped_outliers,
        model,
        cv,
    })
}

/// Scores a model on labelled houses, returning the metrics and each predicted price.
pub fn evaluate(model: &Model, dataset: &Dataset) -> (Metrics, Vec<f64>) {
    let predicted: Vec<f64> = dataset
        .houses
        .iter()
        .map(|h| model.predict(h).price)
        .collect();
    (Metrics::compute(&dataset.prices, &predicted), predicted)
}
