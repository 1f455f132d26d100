//! Training parameters: the `train` section of `params.yaml`.

use serde::{Deserialize, Serialize};

use crate::encode::EncodeParams;
use crate::model::ModelParams;

/// Every knob of training, flat so `params.yaml` reads naturally and typos are rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainParams {
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
    /// Folds of the cross-validation that measures the model and sizes its interval.
    pub cv_folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Coverage of the prediction interval (0.8 = 80 %).
    pub interval_level: f64,
}

impl Default for TrainParams {
    fn default() -> Self {
        let model = ModelParams::default();
        let encode = EncodeParams::default();
        Self {
            alpha: model.alpha,
            l1_ratio: model.l1_ratio,
            max_iterations: model.max_iterations,
            tolerance: model.tolerance,
            skew_threshold: encode.skew_threshold,
            boxcox_lambda: encode.boxcox_lambda,
            min_level_count: encode.min_level_count,
            outlier_min_living_area: Some(4000.0),
            outlier_max_price: 300_000.0,
            cv_folds: 5,
            seed: 42,
            interval_level: 0.8,
        }
    }
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

    /// The pipeline's share of the parameters.
    pub fn encode(&self) -> EncodeParams {
        EncodeParams {
            skew_threshold: self.skew_threshold,
            boxcox_lambda: self.boxcox_lambda,
            min_level_count: self.min_level_count,
        }
    }

    /// Checks ranges, naming the parameter and the accepted values.
    pub fn validate(&self) -> Result<(), String> {
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
            (
                self.interval_level > 0.0 && self.interval_level < 1.0,
                "interval_level must be between 0 and 1 (exclusive)",
            ),
        ];
        match checks.iter().find(|(ok, _)| !ok) {
            Some((_, message)) => Err(format!("invalid train parameter: {message}")),
            None => Ok(()),
        }
    }
}
