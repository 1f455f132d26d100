//! The linear estimator: an elastic net on log sale price, fitted by coordinate descent on the
//! Gram matrix of the encoded features.
//!
//! The design matrix is never stored: each encoded row is added to a [`Gram`] (sums of `x`,
//! `x xᵀ`, `x y`), which costs one pass over the rows and `p × p` memory whatever the number of
//! rows. Most features are one-hot indicators, so a row has few non-zero entries and its outer
//! product is accumulated sparsely. The solver then works on the `p × p` covariance only
//! (scikit-learn's "precompute" mode), with the same objective and the same duality-gap stopping
//! rule as scikit-learn's `ElasticNet`.

use serde::{Deserialize, Serialize};

/// Hyper-parameters of the elastic net, from `params.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelParams {
    /// Overall penalty (scikit-learn's `alpha`).
    pub alpha: f64,
    /// Share of the penalty that is L1 (1 = lasso, 0 = ridge).
    pub l1_ratio: f64,
    /// Coordinate-descent sweeps at most.
    pub max_iterations: u32,
    /// Convergence tolerance (duality gap relative to the variance of the target).
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
    /// Nothing to fit.
    #[error("cannot fit the linear model on {rows} rows of {features} features")]
    Empty {
        /// Rows added.
        rows: usize,
        /// Features per row.
        features: usize,
    },
    /// A row of the wrong length was added.
    #[error("a row has {found} features, the Gram matrix {expected}")]
    Shape {
        /// Features the Gram matrix was made for.
        expected: usize,
        /// Features in the row.
        found: usize,
    },
}

/// Sufficient statistics of a least-squares problem: `n`, `Σx`, `Σxxᵀ`, `Σxy`, `Σy`, `Σy²`.
#[derive(Debug, Clone)]
pub struct Gram {
    p: usize,
    n: f64,
    sum_x: Vec<f64>,
    /// Upper triangle (`a <= b`) of `Σ x xᵀ`, row-major `p × p`.
    xx: Vec<f64>,
    xy: Vec<f64>,
    sum_y: f64,
    yy: f64,
    nonzero: Vec<usize>,
}

impl Gram {
    /// Empty statistics for rows of `p` features.
    pub fn new(p: usize) -> Gram {
        Gram {
            p,
            n: 0.0,
            sum_x: vec![0.0; p],
            xx: vec![0.0; p * p],
            xy: vec![0.0; p],
            sum_y: 0.0,
            yy: 0.0,
            nonzero: Vec::with_capacity(p),
        }
    }

    /// Adds one row with its target.
    pub fn add(&mut self, x: &[f64], y: f64) -> Result<(), ModelError> {
        if x.len() != self.p {
            return Err(ModelError::Shape {
                expected: self.p,
                found: x.len(),
            });
        }
        self.n += 1.0;
        self.sum_y += y;
        self.yy += y * y;
        self.nonzero.clear();
        self.nonzero.extend(
            x.iter()
                .enumerate()
                .filter(|(_, v)| **v != 0.0)
                .map(|(i, _)| i),
        );
        let p = self.p;
        for (k, &a) in self.nonzero.iter().enumerate() {
            let xa = x[a];
            self.sum_x[a] += xa;
            self.xy[a] += xa * y;
            let row = &mut self.xx[a * p..(a + 1) * p];
            for &b in &self.nonzero[k..] {
                row[b] += xa * x[b];
            }
        }
        Ok(())
    }

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.n as usize
    }
}

impl LinearModel {
    /// Fits the elastic net (with an unpenalised intercept) on the statistics of the rows.
    pub fn fit(gram: &Gram, params: &ModelParams) -> Result<LinearModel, ModelError> {
        let (p, n) = (gram.p, gram.n);
        if p == 0 || n < 1.0 {
            return Err(ModelError::Empty {
                rows: gram.rows(),
                features: p,
            });
        }
        // Centred, 1/n-normalised covariance C and correlation c.
        let means: Vec<f64> = gram.sum_x.iter().map(|s| s / n).collect();
        let y_mean = gram.sum_y / n;
        let mut cov = vec![0.0; p * p];
        for a in 0..p {
            for b in a..p {
                let value = gram.xx[a * p + b] / n - means[a] * means[b];
                cov[a * p + b] = value;
                cov[b * p + a] = value;
            }
        }
        let corr: Vec<f64> = (0..p).map(|a| gram.xy[a] / n - means[a] * y_mean).collect();
        let y_var = (gram.yy / n - y_mean * y_mean).max(0.0);
        let weights = coordinate_descent(&cov, &corr, y_var, p, params);
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

/// Minimises `½wᵀCw − cᵀw + α·l1·‖w‖₁ + ½α(1−l1)‖w‖²` by cyclic coordinate descent.
///
/// Stops when the largest update of a sweep is small relative to the largest weight and the
/// duality gap is below `tolerance × var(y)`, as scikit-learn's Gram solver does.
fn coordinate_descent(
    cov: &[f64],
    corr: &[f64],
    y_var: f64,
    p: usize,
    params: &ModelParams,
) -> Vec<f64> {
    let l1 = params.alpha * params.l1_ratio;
    let l2 = params.alpha * (1.0 - params.l1_ratio);
    let tolerance = params.tolerance * y_var;
    let mut w = vec![0.0; p];
    // q = C w, kept up to date after every coordinate move.
    let mut q = vec![0.0; p];
    for _ in 0..params.max_iterations {
        let mut max_delta: f64 = 0.0;
        let mut max_w: f64 = 0.0;
        for j in 0..p {
            let diagonal = cov[j * p + j];
            if diagonal <= 0.0 {
                continue; // a constant column in these rows
            }
            let old = w[j];
            let rho = corr[j] - q[j] + diagonal * old;
            let new = soft_threshold(rho, l1) / (diagonal + l2);
            if new != old {
                let delta = new - old;
                let column = &cov[j * p..(j + 1) * p];
                for (qk, ck) in q.iter_mut().zip(column) {
                    *qk += delta * ck;
                }
                w[j] = new;
                max_delta = max_delta.max(delta.abs());
            }
            max_w = max_w.max(new.abs());
        }
        if (max_w == 0.0 || max_delta / max_w < params.tolerance)
            && duality_gap(&w, &q, corr, y_var, l1, l2) < tolerance
        {
            break;
        }
    }
    w
}

fn soft_threshold(x: f64, threshold: f64) -> f64 {
    if x > threshold {
        x - threshold
    } else if x < -threshold {
        x + threshold
    } else {
        0.0
    }
}

/// Duality gap of the elastic net at `w` (scikit-learn's formula, divided by n).
fn duality_gap(w: &[f64], q: &[f64], corr: &[f64], y_var: f64, l1: f64, l2: f64) -> f64 {
    let w_q: f64 = w.iter().zip(q).map(|(a, b)| a * b).sum();
    let w_c: f64 = w.iter().zip(corr).map(|(a, b)| a * b).sum();
    let w_norm2: f64 = w.iter().map(|a| a * a).sum();
    let l1_norm: f64 = w.iter().map(|a| a.abs()).sum();
    let residual2 = (y_var + w_q - 2.0 * w_c).max(0.0);
    let dual_norm = corr
        .iter()
        .zip(q)
        .zip(w)
        .map(|((c, q), w)| (c - q - l2 * w).abs())
        .fold(0.0, f64::max);
    let (scale, mut gap) = if dual_norm > l1 {
        let scale = l1 / dual_norm;
        (scale, 0.5 * residual2 * (1.0 + scale * scale))
    } else {
        (1.0, residual2)
    };
    gap += l1 * l1_norm - scale * (y_var - w_c) + 0.5 * l2 * (1.0 + scale * scale) * w_norm2;
    gap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gram_of(rows: &[(Vec<f64>, f64)]) -> Gram {
        let mut gram = Gram::new(rows[0].0.len());
        for (x, y) in rows {
            gram.add(x, *y).expect("row fits");
        }
        gram
    }

    #[test]
    fn without_penalty_the_solver_recovers_an_exact_linear_relation() {
        let rows: Vec<(Vec<f64>, f64)> = (0..50)
            .map(|i| {
                let a = (i as f64 * 0.37).sin();
                let b = if i % 3 == 0 { 1.0 } else { 0.0 };
                (vec![a, b], 2.0 + 3.0 * a - 1.5 * b)
            })
            .collect();
        let params = ModelParams {
            alpha: 0.0,
            tolerance: 1e-12,
            max_iterations: 10_000,
            ..ModelParams::default()
        };
        let model = LinearModel::fit(&gram_of(&rows), &params).expect("fits");
        assert!((model.weights[0] - 3.0).abs() < 1e-6, "{model:?}");
        assert!((model.weights[1] + 1.5).abs() < 1e-6, "{model:?}");
        assert!((model.intercept - 2.0).abs() < 1e-6, "{model:?}");
    }

    #[test]
    fn a_large_l1_penalty_zeroes_every_weight_and_predicts_the_mean() {
        let rows: Vec<(Vec<f64>, f64)> = (0..20)
            .map(|i| (vec![i as f64, (i % 2) as f64], i as f64))
            .collect();
        let params = ModelParams {
            alpha: 1e6,
            ..ModelParams::default()
        };
        let model = LinearModel::fit(&gram_of(&rows), &params).expect("fits");
        assert_eq!(model.active_features(), 0);
        assert!((model.intercept - 9.5).abs() < 1e-12);
    }

    #[test]
    fn a_row_of_the_wrong_width_is_refused() {
        let mut gram = Gram::new(3);
        assert!(matches!(
            gram.add(&[1.0, 2.0], 1.0),
            Err(ModelError::Shape {
                expected: 3,
                found: 2
            })
        ));
    }
}
