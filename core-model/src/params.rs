//! Training parameters: the `train` section of `params.yaml`.

use serde::{Deserialize, Serialize};

use crate::encode::EncodeParams;
use crate::gbm::GbmParams;
use crate::model::ModelParams;
use crate::predict::ModelKind;

/// Which estimators the outlier rule keeps its rows from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutlierScope {
    /// The linear model and the feature pipeline (imputation, ranges, scaling); the trees are
    /// fitted on every row. A least-squares fit is levered by a few huge, cheap partial sales;
    /// a tree only isolates them in a leaf of their own.
    #[default]
    Linear,
    /// Every estimator.
    All,
}

/// Every knob of training, flat so `params.yaml` reads naturally and typos are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainParams {
    /// Which estimator prices houses: `linear`, `gbm` or `blend` (both, weighted).
    pub model: ModelKind,
    /// Weight of the trees in the blend; null = chosen on the out-of-fold predictions.
    pub blend_gbm_weight: Option<f64>,
    /// Gated blend: the trees' weight for a house larger or smaller than every house the linear
    /// part was fitted on (its `GrLivArea` or `TotalSF` clipped). The linear part's size terms
    /// stop at the edge of its range there, while the trees were fitted on every row (see
    /// `outlier_scope`), the largest houses included. null = the blend weight for every house.
    pub blend_gbm_weight_beyond: Option<f64>,
    /// Overall elastic-net penalty (scikit-learn's `alpha`).
    pub alpha: f64,
    /// Share of the penalty that is L1 (1 = lasso).
    pub l1_ratio: f64,
    /// Coordinate-descent sweeps at most.
    pub max_iterations: u32,
    /// Convergence tolerance.
    pub tolerance: f64,
    /// Skewness above which a feature is Box-Cox transformed.
    pub skew_threshold: f64,
    /// The Box-Cox lambda.
    pub boxcox_lambda: f64,
    /// Training rows a level needs for its own one-hot column.
    pub min_level_count: usize,
    /// Drop the partial sales De Cock warns about: `GrLivArea` above this with a low price.
    pub outlier_min_living_area: Option<f64>,
    /// …and `SalePrice` below this.
    pub outlier_max_price: f64,
    /// Which estimators the outlier rule keeps the rows from: `linear` (the trees see every
    /// row) or `all`. Cross-validation scores every row either way.
    pub outlier_scope: OutlierScope,
    /// Trees of the boosted ensemble.
    pub gbm_trees: usize,
    /// Shrinkage of every tree.
    pub gbm_learning_rate: f64,
    /// Depth of each tree.
    pub gbm_max_depth: usize,
    /// Fewest training rows in a leaf.
    pub gbm_min_leaf: usize,
    /// Share of rows each tree is fitted on.
    pub gbm_subsample: f64,
    /// Most rows one tree is fitted on (caps `gbm_subsample` on large data).
    pub gbm_max_rows_per_tree: usize,
    /// Share of inputs each tree may split on.
    pub gbm_colsample: f64,
    /// L2 penalty on leaf values.
    pub gbm_l2: f64,
    /// Most histogram bins per input (2–256).
    pub gbm_max_bins: usize,
    /// Folds of the cross-validation that measures the model, chooses the blend weight and
    /// sizes the interval.
    pub cv_folds: usize,
    /// Times the cross-validation is repeated with another fold assignment (seeds `seed`,
    /// `seed + 1`, …), for a mean and standard deviation.
    pub cv_repeats: usize,
    /// Above this many rows the cross-validation runs once: one fold assignment of that many
    /// rows already measures to a few ten-thousandths, and every repetition costs k fits.
    pub cv_repeats_max_rows: usize,
    /// Seed of the fold assignment (and of the trees' subsampling).
    pub seed: u64,
    /// Time holdout: fit on sales before this month (`YYYY-MM`), score the later ones.
    /// null = no time holdout.
    pub holdout_from: Option<String>,
    /// Coverage of the prediction interval (0.8 = 80 %).
    pub interval_level: f64,
}

impl Default for TrainParams {
    fn default() -> Self {
        let model = ModelParams::default();
        let encode = EncodeParams::default();
        Self {
            model: ModelKind::Blend,
            blend_gbm_weight: None,
            blend_gbm_weight_beyond: Some(1.0),
            alpha: model.alpha,
            l1_ratio: model.l1_ratio,
            max_iterations: model.max_iterations,
            tolerance: model.tolerance,
            skew_threshold: encode.skew_threshold,
            boxcox_lambda: encode.boxcox_lambda,
            min_level_count: encode.min_level_count,
            outlier_min_living_area: Some(4000.0),
            outlier_max_price: 300_000.0,
            outlier_scope: OutlierScope::Linear,
            gbm_trees: 1000,
            gbm_learning_rate: 0.05,
            gbm_max_depth: 4,
            gbm_min_leaf: 5,
            gbm_subsample: 0.5,
            gbm_max_rows_per_tree: 15_000,
            gbm_colsample: 0.5,
            gbm_l2: 1.0,
            gbm_max_bins: 255,
            cv_folds: 5,
            cv_repeats: 3,
            cv_repeats_max_rows: 20_000,
            seed: 42,
            holdout_from: Some("2009-07".to_string()),
            interval_level: 0.8,
        }
    }
}

/// A training parameter out of its accepted range; the message names the parameter, the
/// accepted values and (for the holdout month) the value given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    /// A range rule broken, e.g. "cv_folds must be at least 2".
    #[error("invalid train parameter: {rule}")]
    OutOfRange {
        /// The parameter and what it accepts.
        rule: &'static str,
    },
    /// `holdout_from` is not a month.
    #[error("invalid train parameter: holdout_from must be a month like 2009-07, got {value:?}")]
    HoldoutMonth {
        /// The value given.
        value: String,
    },
}

impl TrainParams {
    /// The estimator's share of the parameters.
    pub fn model(&self) -> ModelParams {
        ModelParams {
            alpha: self.alpha,
            l1_ratio: self.l1_ratio,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
        }
    }

    /// The trees' share of the parameters.
    pub fn gbm(&self) -> GbmParams {
        GbmParams {
            trees: self.gbm_trees,
            learning_rate: self.gbm_learning_rate,
            max_depth: self.gbm_max_depth,
            min_leaf: self.gbm_min_leaf,
            subsample: self.gbm_subsample,
            max_rows_per_tree: self.gbm_max_rows_per_tree,
            colsample: self.gbm_colsample,
            l2: self.gbm_l2,
            max_bins: self.gbm_max_bins,
            seed: self.seed,
        }
    }

    /// The time holdout's first month as (year, month), when there is one.
    pub fn holdout_month(&self) -> Result<Option<(u32, u32)>, ParamsError> {
        let Some(text) = self.holdout_from.as_deref() else {
            return Ok(None);
        };
        let parsed = text.split_once('-').and_then(|(y, m)| {
            let (y, m) = (y.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
            ((1800..=2200).contains(&y) && (1..=12).contains(&m)).then_some((y, m))
        });
        parsed.map(Some).ok_or_else(|| ParamsError::HoldoutMonth {
            value: text.to_string(),
        })
    }

    /// The pipeline's share of the parameters.
    pub fn encode(&self) -> EncodeParams {
        EncodeParams {
            skew_threshold: self.skew_threshold,
            boxcox_lambda: self.boxcox_lambda,
            min_level_count: self.min_level_count,
        }
    }

    /// Checks ranges, naming the parameter and the accepted values.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let checks = [
            (
                self.alpha >= 0.0 && self.alpha.is_finite(),
                "alpha must be a finite number >= 0",
            ),
            (
                (0.0..=1.0).contains(&self.l1_ratio),
                "l1_ratio must be between 0 and 1",
            ),
            (self.max_iterations > 0, "max_iterations must be at least 1"),
            (self.tolerance > 0.0, "tolerance must be > 0"),
            (self.skew_threshold >= 0.0, "skew_threshold must be >= 0"),
            (self.cv_folds >= 2, "cv_folds must be at least 2"),
            (self.cv_repeats >= 1, "cv_repeats must be at least 1"),
            (self.gbm_trees >= 1, "gbm_trees must be at least 1"),
            (
                self.gbm_learning_rate > 0.0 && self.gbm_learning_rate <= 1.0,
                "gbm_learning_rate must be above 0 and at most 1",
            ),
            (
                (1..=16).contains(&self.gbm_max_depth),
                "gbm_max_depth must be between 1 and 16",
            ),
            (self.gbm_min_leaf >= 1, "gbm_min_leaf must be at least 1"),
            (
                self.gbm_max_rows_per_tree >= 1,
                "gbm_max_rows_per_tree must be at least 1",
            ),
            (
                self.gbm_subsample > 0.0 && self.gbm_subsample <= 1.0,
                "gbm_subsample must be above 0 and at most 1",
            ),
            (
                self.gbm_colsample > 0.0 && self.gbm_colsample <= 1.0,
                "gbm_colsample must be above 0 and at most 1",
            ),
            (
                self.gbm_l2 >= 0.0 && self.gbm_l2.is_finite(),
                "gbm_l2 must be a finite number >= 0",
            ),
            (
                (2..=256).contains(&self.gbm_max_bins),
                "gbm_max_bins must be between 2 and 256",
            ),
            (
                self.blend_gbm_weight
                    .is_none_or(|w| (0.0..=1.0).contains(&w)),
                "blend_gbm_weight must be between 0 and 1, or null to choose it by cross-validation",
            ),
            (
                self.blend_gbm_weight_beyond
                    .is_none_or(|w| (0.0..=1.0).contains(&w)),
                "blend_gbm_weight_beyond must be between 0 and 1, or null for no gate",
            ),
            (
                self.interval_level > 0.0 && self.interval_level < 1.0,
                "interval_level must be between 0 and 1 (exclusive)",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, rule)) => Err(ParamsError::OutOfRange { rule }),
            None => self.holdout_month().map(|_| ()),
        }
    }
}
