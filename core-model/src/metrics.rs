//! Model quality metrics, with RMSE of log price as the headline (Kaggle's RMSLE).

use serde::{Deserialize, Serialize};

/// Regression metrics of predicted against actual prices.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Root mean squared error of ln(price): the headline metric.
    pub rmse_log: f64,
    /// Root mean squared error in dollars.
    pub rmse: f64,
    /// Mean absolute error in dollars.
    pub mae: f64,
    /// Coefficient of determination on prices.
    pub r2: f64,
    /// Mean absolute percentage error, in percent.
    pub mape: f64,
    /// Number of houses scored.
    pub n: usize,
}

impl Metrics {
    /// Scores predicted prices against actual ones (both in dollars, same order).
    pub fn compute(actual: &[f64], predicted: &[f64]) -> Metrics {
        let n = actual.len().min(predicted.len());
        if n == 0 {
            return Metrics {
                rmse_log: f64::NAN,
                rmse: f64::NAN,
                mae: f64::NAN,
                r2: f64::NAN,
                mape: f64::NAN,
                n: 0,
            };
        }
        let pairs = || actual.iter().zip(predicted).take(n);
        let nf = n as f64;
        let rmse_log = (pairs().map(|(a, p)| (a.ln() - p.ln()).powi(2)).sum::<f64>() / nf).sqrt();
        let rmse = (pairs().map(|(a, p)| (a - p).powi(2)).sum::<f64>() / nf).sqrt();
        let mae = pairs().map(|(a, p)| (a - p).abs()).sum::<f64>() / nf;
        let mape = 100.0 * pairs().map(|(a, p)| ((a - p) / a).abs()).sum::<f64>() / nf;
        let mean = pairs().map(|(a, _)| a).sum::<f64>() / nf;
        let total = pairs().map(|(a, _)| (a - mean).powi(2)).sum::<f64>();
        let residual = pairs().map(|(a, p)| (a - p).powi(2)).sum::<f64>();
        let r2 = if total > 0.0 {
            1.0 - residual / total
        } else {
            f64::NAN
        };
        Metrics {
            rmse_log,
            rmse,
            mae,
            r2,
            mape,
            n,
        }
    }

    /// The metrics as `(name, value)` pairs, for trackers and reports.
    pub fn pairs(&self) -> [(&'static str, f64); 5] {
        [
            ("rmse_log", self.rmse_log),
            ("rmse", self.rmse),
            ("mae", self.mae),
            ("r2", self.r2),
            ("mape", self.mape),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_predictions_score_zero_error_and_r2_one() {
        let m = Metrics::compute(&[100.0, 200.0, 300.0], &[100.0, 200.0, 300.0]);
        assert_eq!(
            (m.rmse_log, m.rmse, m.mae, m.mape, m.r2, m.n),
            (0.0, 0.0, 0.0, 0.0, 1.0, 3)
        );
    }

    #[test]
    fn metrics_match_hand_computed_values() {
        let m = Metrics::compute(&[100.0, 200.0], &[110.0, 180.0]);
        assert!((m.rmse - (250.0f64).sqrt()).abs() < 1e-12);
        assert!((m.mae - 15.0).abs() < 1e-12);
        assert!((m.mape - 10.0).abs() < 1e-12);
        let expected_log =
            (((100f64.ln() - 110f64.ln()).powi(2) + (200f64.ln() - 180f64.ln()).powi(2)) / 2.0)
                .sqrt();
        assert!((m.rmse_log - expected_log).abs() < 1e-15);
        assert!((m.r2 - (1.0 - 500.0 / 5000.0)).abs() < 1e-12);
    }
}
