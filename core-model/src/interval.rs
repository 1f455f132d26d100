//! An honest price range: normalised (locally weighted) split-conformal prediction.
//!
//! Every training row has out-of-fold residuals `r = ln(price) − ln(predicted)` from models that
//! never saw it. How hard a house is to price is modelled from two things known at serving time:
//! - `d`: the mean distance to its nearest training sales over the standardised key fields (see
//!   [`crate::comparables`]), plus, for every field beyond the training range, how far beyond in
//!   quarters of the range (`4 · excess / (max − min)`): few close comps or unusual values make it
//!   large;
//! - `g`: how much the linear model and the trees disagree on it (blends only).
//!
//! The spread is `σ(x) = exp(a + b·ln(1 + d) + c·g)`, fitted by least squares on
//! `ln(|r| + δ)` with `b, c ≥ 0`. The bounds are `ln(price) + σ(x)·q_lo` and
//! `ln(price) + σ(x)·q_hi`, where `q_lo`, `q_hi` are the conformal quantiles of the normalised
//! residuals `r / σ` at `(1 ∓ level) / 2`. Typical houses get a narrower range than a
//! fixed-width interval, unusual ones a wider one, and the coverage holds on average.

use serde::{Deserialize, Serialize};

use crate::encode::EncodeReport;
use crate::stats;

/// The method, as the reply and the README name it.
pub const METHOD: &str = "normalised_conformal";

/// The fitted range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalRange {
    /// Nominal coverage (0.8 = 80 %).
    pub level: f64,
    /// `a`, `b`, `c` of `σ(x) = exp(a + b·ln(1 + d) + c·g)`.
    pub coefficients: [f64; 3],
    /// Quantile of `r / σ` for the lower bound (negative).
    pub low: f64,
    /// Quantile of `r / σ` for the upper bound.
    pub high: f64,
}

/// How unlike the training sales a house is: the mean distance to its nearest sales plus the
/// out-of-range excess of its fields, in quarters of their training range.
pub fn difficulty(mean_distance: f64, report: &EncodeReport) -> f64 {
    mean_distance
        + report
            .out_of_range
            .iter()
            .map(|o| {
                let [lo, hi] = o.range;
                let excess = if o.value > hi {
                    o.value - hi
                } else {
                    lo - o.value
                };
                if hi > lo {
                    4.0 * excess.max(0.0) / (hi - lo)
                } else {
                    1.0
                }
            })
            .sum::<f64>()
}

fn features(d: f64, g: f64) -> [f64; 3] {
    [1.0, d.max(0.0).ln_1p(), g.abs()]
}

impl LocalRange {
    /// The spread of a house's residual.
    pub fn sigma(&self, d: f64, g: f64) -> f64 {
        let f = features(d, g);
        let c = self.coefficients;
        (c[0] * f[0] + c[1] * f[1] + c[2] * f[2]).exp()
    }

    /// Offsets of the bounds from the predicted ln(price).
    pub fn bounds(&self, d: f64, g: f64) -> (f64, f64) {
        let s = self.sigma(d, g);
        (s * self.low, s * self.high)
    }

    /// Fits the range on residuals with each one's difficulty `d` and disagreement `g`.
    pub fn calibrate(level: f64, residuals: &[f64], d: &[f64], g: &[f64]) -> LocalRange {
        let abs: Vec<f64> = residuals.iter().map(|r| r.abs()).collect();
        let delta = 0.1 * stats::median(&abs).unwrap_or(0.0).max(1e-6);
        let target: Vec<f64> = abs.iter().map(|a| (a + delta).ln()).collect();
        let x: Vec<[f64; 3]> = d.iter().zip(g).map(|(d, g)| features(*d, *g)).collect();
        let mut coefficients = least_squares(&x, &target, [true, true, true]);
        // Harder houses never get a narrower range: refit without a negative slope.
        let keep = [true, coefficients[1] > 0.0, coefficients[2] > 0.0];
        if !keep[1] || !keep[2] {
            coefficients = least_squares(&x, &target, keep);
        }
        let mut range = LocalRange {
            level,
            coefficients,
            low: 0.0,
            high: 0.0,
        };
        let scores: Vec<f64> = residuals
            .iter()
            .zip(&x)
            .map(|(r, f)| r / range.sigma_of(f))
            .collect();
        // Conformal quantiles: the ⌈(n + 1)(1 − tail)⌉-th of n scores.
        let n = scores.len().max(1) as f64;
        let tail = (1.0 - level) / 2.0;
        let high_q = ((1.0 - tail) * (n + 1.0) / n).min(1.0);
        let low_q = (1.0 - high_q).max(0.0);
        range.low = stats::quantile(&scores, low_q).unwrap_or(0.0);
        range.high = stats::quantile(&scores, high_q).unwrap_or(0.0);
        range
    }

    fn sigma_of(&self, f: &[f64; 3]) -> f64 {
        let c = self.coefficients;
        (c[0] * f[0] + c[1] * f[1] + c[2] * f[2]).exp()
    }
}

/// Least squares over the kept columns of `x` (the others' coefficients are 0).
fn least_squares(x: &[[f64; 3]], y: &[f64], keep: [bool; 3]) -> [f64; 3] {
    let cols: Vec<usize> = (0..3).filter(|&j| keep[j]).collect();
    let k = cols.len();
    let mut a = vec![vec![0.0; k + 1]; k];
    for (row, &target) in x.iter().zip(y) {
        for (p, &i) in cols.iter().enumerate() {
            for (q, &j) in cols.iter().enumerate() {
                a[p][q] += row[i] * row[j];
            }
            a[p][k] += row[i] * target;
        }
    }
    // A small ridge keeps a constant column (every g = 0) solvable.
    for (p, row) in a.iter_mut().enumerate() {
        row[p] += 1e-9 * (1.0 + row[p]);
    }
    // Gaussian elimination with partial pivoting.
    for p in 0..k {
        let pivot = (p..k)
            .max_by(|&i, &j| a[i][p].abs().total_cmp(&a[j][p].abs()))
            .unwrap_or(p);
        a.swap(p, pivot);
        let head = a[p][p];
        if head.abs() < 1e-300 {
            continue;
        }
        let pivot_row = a[p].clone();
        for (i, row) in a.iter_mut().enumerate() {
            if i != p {
                let factor = row[p] / head;
                for (x, y) in row.iter_mut().zip(&pivot_row).skip(p) {
                    *x -= factor * y;
                }
            }
        }
    }
    let mut out = [0.0; 3];
    for (p, &j) in cols.iter().enumerate() {
        out[j] = if a[p][p].abs() < 1e-300 {
            0.0
        } else {
            a[p][k] / a[p][p]
        };
    }
    out
}

/// Coverage and width of a range on rows it was not fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RangeScore {
    /// Rows scored.
    pub rows: usize,
    /// Share of actual prices inside their range.
    pub coverage: f64,
    /// Mean width in dollars.
    pub mean_width: f64,
    /// Mean width relative to the predicted price.
    pub mean_relative_width: f64,
}

impl RangeScore {
    /// Scores ranges `(low_log, high_log)` offsets around predictions `predicted` (ln) for
    /// actual ln prices `y`.
    pub fn of(y: &[f64], predicted: &[f64], offsets: &[(f64, f64)]) -> RangeScore {
        let n = y.len();
        let (mut inside, mut width, mut relative) = (0usize, 0.0, 0.0);
        for ((y, p), (lo, hi)) in y.iter().zip(predicted).zip(offsets) {
            let r = y - p;
            if r >= *lo && r <= *hi {
                inside += 1;
            }
            let w = (p + hi).exp() - (p + lo).exp();
            width += w;
            relative += w / p.exp();
        }
        let n_f = n.max(1) as f64;
        RangeScore {
            rows: n,
            coverage: inside as f64 / n_f,
            mean_width: width / n_f,
            mean_relative_width: relative / n_f,
        }
    }
}

/// How the range was measured: cross-conformal on the folds of the first fold assignment
/// (fitted on the other folds' out-of-fold residuals, scored on the fold's), and on the time
/// holdout (fitted on the earlier sales' out-of-fold residuals, scored on the holdout model's
/// later sales); the fixed-width interval of the same level alongside, for comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalReport {
    /// [`METHOD`].
    pub method: String,
    /// Nominal coverage.
    pub level: f64,
    /// The range on held-out folds.
    pub folds: RangeScore,
    /// A fixed-width interval (quantiles of the residuals) on the same folds.
    pub folds_fixed: RangeScore,
    /// The range on the time holdout, when there is one.
    pub holdout: Option<RangeScore>,
    /// A fixed-width interval on the time holdout.
    pub holdout_fixed: Option<RangeScore>,
}

/// A fixed-width interval: the residual quantiles at `(1 ∓ level) / 2`.
pub fn fixed(level: f64, residuals: &[f64]) -> (f64, f64) {
    let tail = (1.0 - level) / 2.0;
    (
        stats::quantile(residuals, tail).unwrap_or(0.0),
        stats::quantile(residuals, 1.0 - tail).unwrap_or(0.0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::SplitMix64;

    #[test]
    fn the_spread_grows_with_difficulty_and_coverage_is_nominal() {
        // Residuals whose spread doubles as d goes from 0 to 3.
        let mut rng = SplitMix64::new(3);
        let mut uniform = || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let mut d = Vec::new();
        let mut r = Vec::new();
        for _ in 0..4000 {
            let di = 3.0 * uniform();
            let spread = 0.1 * (1.0 + di / 3.0);
            // Laplace-ish noise from two uniforms.
            let e = spread * (uniform().ln() - uniform().ln());
            d.push(di);
            r.push(e);
        }
        let g = vec![0.0; d.len()];
        let range = LocalRange::calibrate(0.8, &r, &d, &g);
        assert!(range.coefficients[1] > 0.0, "{range:?}");
        assert!(
            range.sigma(3.0, 0.0) > 1.5 * range.sigma(0.0, 0.0),
            "{range:?}"
        );
        let offsets: Vec<(f64, f64)> = d.iter().map(|d| range.bounds(*d, 0.0)).collect();
        let zeros = vec![0.0; r.len()];
        let score = RangeScore::of(&r, &zeros, &offsets);
        assert!((score.coverage - 0.8).abs() < 0.01, "{score:?}");
    }
}
