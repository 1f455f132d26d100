//! The estimator: an elastic net on log sale price, fitted with linfa.
//!
//! Only the fitted coefficients are kept, so prediction is one dot product and the artifact
//! does not depend on linfa's internal types.

use linfa::prelude::*;
use linfa_elasticnet::ElasticNet;
use ndarray::{Array1, Array2, ShapeBuilder};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the estimator, from `params.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelParams {
    /// Overall penalty (scikit-learn's `alpha`).
    pub alpha: f64,
    /// Share of the penalty that is L1 (1 = lasso, 0 = ridge).
    pub l1_ratio: f64,
    /// Coordinate-descent sweeps at most.
    pub max_iterations: u32,
    /// Convergence tolerance (relative duality gap).
    pub tolerance: f64,
}

impl Default for ModelParams {
    fn default() -> Self {
        Self {
            alpha: 0.0005,
            l1_ratio: 1.0,
            max_iterations: 2000,
            tolerance: 1e-4,
        }
    }
}

/// A fitted linear model on the encoded features, predicting ln(price).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearModel {
    /// Predicted ln(price) for a house whose features are all zero.
    pub intercept: f64,
    /// One weight per feature, in pipeline order.
    pub weights: Vec<f64>,
}

/// Why fitting failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// linfa refused the data or parameters.
    #[error("elastic net fit failed: {0}")]
    Fit(String),
    /// The inputs do not line up.
    #[error("design matrix has {rows} rows but {targets} targets")]
    Shape {
        /// Rows of the matrix.
        rows: usize,
        /// Target values.
        targets: usize,
    },
}

/// Relative size of the ridge rows appended to keep linfa's variance estimate well-posed.
///
/// linfa computes `(XᵀX)⁻¹` for coefficient variances after every fit and fails when one-hot
/// columns make `XᵀX` singular. Appending `√(ε·n)·I` rows (with the penalty rescaled so the
/// objective is unchanged) adds only `ε/2·‖w‖²` to the loss, which is negligible next to alpha.
const RIDGE_EPSILON: f64 = 1e-6;

impl LinearModel {
    /// Fits the elastic net on row-major features `x` (rows × `n_features`) and ln prices `y`.
    pub fn fit(
        x: &[f64],
        n_features: usize,
        y: &[f64],
        params: &ModelParams,
    ) -> Result<LinearModel, ModelError> {
        let n = y.len();
        if n_features == 0 || x.len() != n * n_features {
            return Err(ModelError::Shape {
                rows: x.len().checked_div(n_features).unwrap_or(0),
                targets: n,
            });
        }
        let p = n_features;
        let mut means = vec![0.0; p];
        for row in x.chunks_exact(p) {
            for (m, v) in means.iter_mut().zip(row) {
                *m += v;
            }
        }
        means.iter_mut().for_each(|m| *m /= n as f64);
        let y_mean = y.iter().sum::<f64>() / n as f64;

        // Column-major, centred, with p ridge rows below the n data rows.
        let rows = n + p;
        let ridge = (RIDGE_EPSILON * n as f64).sqrt();
        let mut data = vec![0.0; rows * p];
        for j in 0..p {
            let column = &mut data[j * rows..(j + 1) * rows];
            for (i, row) in x.chunks_exact(p).enumerate() {
                column[i] = row[j] - means[j];
            }
            column[n + j] = ridge;
        }
        let records = Array2::from_shape_vec((rows, p).f(), data)
            .map_err(|e| ModelError::Fit(e.to_string()))?;
        let mut targets = Array1::zeros(rows);
        for (t, v) in targets.iter_mut().zip(y) {
            *t = v - y_mean;
        }
        let dataset = Dataset::new(records, targets);
        let fitted = ElasticNet::params()
            .penalty(params.alpha * n as f64 / rows as f64)
            .l1_ratio(params.l1_ratio)
            .max_iterations(params.max_iterations)
            .tolerance(params.tolerance)
            .with_intercept(false)
            .fit(&dataset)
            .map_err(|e| ModelError::Fit(e.to_string()))?;
        let weights: Vec<f64> = fitted.hyperplane().to_vec();
        let intercept = y_mean - weights.iter().zip(&means).map(|(w, m)| w * m).sum::<f64>();
        Ok(LinearModel { intercept, weights })
    }

    /// Predicted ln(price) for one encoded house.
    pub fn predict_log(&self, features: &[f64]) -> f64 {
        self.intercept
            + self
                .weights
                .iter()
                .zip(features)
                .map(|(w, x)| w * x)
                .sum::<f64>()
    }

    /// Number of non-zero weights (features the lasso kept).
    pub fn active_features(&self) -> usize {
        self.weights.iter().filter(|w| **w != 0.0).count()
    }
}
