//! A price an agent can defend: the price with why ([`crate::explain`]), compared with what
//! ([`crate::comparables`]) and how sure ([`crate::interval`]), from one pass over the house.

use serde::{Deserialize, Serialize};

use crate::comparables::{self, Comparable, ComparableRow, ComparableTable, Neighbours};
use crate::dataset::Dataset;
use crate::encode::EncodeReport;
use crate::explain::{self, Explanation};
use crate::fill::Filled;
use crate::house::House;
use crate::interval::{self, IntervalReport, LocalRange, RangeScore};
use crate::predict::Model;
use crate::predict::{Buffers, ModelKind, Parts, Prediction};

/// What the model keeps from its training rows to explain, compare and bound a price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Reference {
    /// Mean of each encoded feature over the training rows: the linear explanation's baseline.
    #[serde(default)]
    pub feature_means: Vec<f64>,
    /// The training sales comparables are drawn from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparables: Option<ComparableTable>,
    /// The calibrated range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<LocalRange>,
}

impl Reference {
    /// Prepares the comparables after deserialising and checks the means' length.
    pub fn prepare(&mut self, features: usize) -> Result<(), String> {
        if !self.feature_means.is_empty() && self.feature_means.len() != features {
            return Err(format!(
                "{} feature means for {features} features",
                self.feature_means.len()
            ));
        }
        if let Some(table) = &mut self.comparables {
            table.prepare()?;
        }
        Ok(())
    }
}

/// One appraised house.
#[derive(Debug, Clone, PartialEq)]
pub struct Appraisal {
    /// Price, range and encoding report.
    pub prediction: Prediction,
    /// Why this price.
    pub explanation: Explanation,
    /// The most similar training sales (empty when the artifact has none).
    pub comparables: Vec<Comparable>,
    /// How the range was made: [`interval::METHOD`], or `fixed` without a calibrated range.
    pub method: &'static str,
}

fn neighborhood_of<'a>(filled: &Filled<'a>) -> &'a str {
    crate::schema::column_index("Neighborhood").map_or("", |i| filled.levels[i])
}

impl Model {
    /// The nearest training sales to a filled house, when the model keeps them.
    pub fn neighbours(&self, filled: &Filled, buffers: &mut Buffers) -> Option<Neighbours> {
        let table = self.reference.comparables.as_ref()?;
        table.key_of(filled, &mut buffers.key);
        Some(table.search(&buffers.key, neighborhood_of(filled), None))
    }

    /// Offsets of the range's bounds from the predicted ln price: the calibrated range when
    /// the model has one, else the fixed-width interval.
    pub fn range_offsets(
        &self,
        neighbours: Option<&Neighbours>,
        parts: Parts,
        report: &EncodeReport,
    ) -> (f64, f64) {
        match (&self.reference.range, neighbours) {
            (Some(range), Some(neighbours)) => {
                let d = interval::difficulty(neighbours.mean_distance(), report);
                range.bounds(d, disagreement(self.estimator.kind, parts))
            }
            _ => (self.interval.low_log, self.interval.high_log),
        }
    }

    /// Prices a house and explains the price, with its comparables and range.
    pub fn appraise(&self, house: &House, buffers: &mut Buffers) -> Appraisal {
        let mut report = EncodeReport::default();
        let filled = self.pipeline.fill(house, &mut report.imputed);
        let parts = self.parts_of_filled(&filled, buffers, &mut report);
        let (linear_weight, gbm_weight) = self.blend_weights(&report);
        let log_price = self.blend_log(parts, &report);
        let mut explained = Vec::with_capacity(2);
        if let Some(linear) = &self.estimator.linear {
            explained.push((
                linear_weight,
                explain::linear(
                    linear,
                    self.pipeline.features.iter().map(|f| &f.source),
                    &buffers.features,
                    &self.reference.feature_means,
                ),
            ));
        }
        if let Some(gbm) = &self.estimator.gbm {
            explained.push((gbm_weight, explain::trees(gbm, &buffers.inputs)));
        }
        let explanation = explain::combine(&explained, &filled);
        let neighbours = self.neighbours(&filled, buffers);
        let (low_log, high_log) = self.range_offsets(neighbours.as_ref(), parts, &report);
        let price = log_price.exp();
        let comparables = match (&self.reference.comparables, &neighbours) {
            (Some(table), Some(neighbours)) => table.comparables(neighbours, price),
            _ => Vec::new(),
        };
        let method = if self.reference.range.is_some() && neighbours.is_some() {
            interval::METHOD
        } else {
            "fixed"
        };
        Appraisal {
            prediction: Prediction {
                price,
                low: (log_price + low_log).exp(),
                high: (log_price + high_log).exp(),
                report,
            },
            explanation,
            comparables,
            method,
        }
    }
}

/// How much the linear model and the trees disagree (0 unless both price the house).
fn disagreement(kind: ModelKind, parts: Parts) -> f64 {
    match (kind, parts.linear, parts.gbm) {
        (ModelKind::Blend, Some(l), Some(g)) => (l - g).abs(),
        _ => 0.0,
    }
}

/// Out-of-fold evidence the range is calibrated on (positions index the training rows).
pub struct Calibration<'a> {
    /// ln sale price of each training row.
    pub y: &'a [f64],
    /// The served estimator's out-of-fold ln prices, per repetition.
    pub oof: &'a [Vec<f64>],
    /// The linear model's, per repetition.
    pub oof_linear: &'a [Vec<f64>],
    /// The trees', per repetition.
    pub oof_gbm: &'a [Vec<f64>],
    /// The held-out positions of each fold of the first repetition.
    pub folds: &'a [Vec<usize>],
    /// Positions the time-holdout model was fitted on, and those it scored.
    pub early: &'a [usize],
    /// Positions it scored.
    pub late: &'a [usize],
    /// Its (served, linear, trees) ln prices of the `late` rows, when there is a holdout.
    pub holdout: Option<(Vec<f64>, Vec<f64>, Vec<f64>)>,
    /// Nominal coverage.
    pub level: f64,
}

/// Builds the reference of a final model from its training rows (`rows` into `dataset`) and
/// calibrates the range on the out-of-fold evidence; returns it with the range's measured
/// coverage.
pub fn build_reference(
    model: &Model,
    dataset: &Dataset,
    rows: &[usize],
    calibration: &Calibration,
) -> Result<(Reference, IntervalReport), String> {
    let n = rows.len();
    let p = model.pipeline.features.len();
    let mut means = vec![0.0; p];
    let mut buffers = Buffers::default();
    // Every kept row goes into the means; an even spread of at most MAX_ROWS into the table.
    let step = n.div_ceil(comparables::MAX_ROWS).max(1);
    let mut table_rows = Vec::with_capacity(n / step + 1);
    let mut table_of_position = vec![None; n];
    let year = crate::schema::column_index("YrSold");
    let month = crate::schema::column_index("MoSold");
    for (k, &i) in rows.iter().enumerate() {
        let house = &dataset.houses[i];
        let mut report = EncodeReport::default();
        let filled = model.pipeline.fill(house, &mut report.imputed);
        let in_table = k % step == 0;
        let parts = if in_table {
            Some(model.parts_of_filled(&filled, &mut buffers, &mut report))
        } else {
            model
                .pipeline
                .encode_filled(&filled, &mut buffers.features, &mut report);
            None
        };
        for (m, x) in means.iter_mut().zip(&buffers.features) {
            *m += x;
        }
        if let Some(parts) = parts {
            let number = |c: Option<usize>| c.map_or(0.0, |c| filled.numbers[c]);
            table_of_position[k] = Some(table_rows.len());
            table_rows.push(ComparableRow {
                id: dataset.ids[i].unwrap_or(i as i64 + 1),
                sale_price: dataset.prices[i],
                sold: format!("{:04}-{:02}", number(year) as i64, number(month) as i64),
                neighborhood: neighborhood_of(&filled).to_string(),
                values: ComparableTable::raw_values(&filled),
                model_price: model.blend_log(parts, &report).exp(),
            });
        }
    }
    means.iter_mut().for_each(|m| *m /= n.max(1) as f64);
    let table = ComparableTable::new(table_rows)?;

    // Difficulty of each training row: its distance to the other sales (leave-one-out).
    let mut d = vec![0.0; n];
    let mut key = Vec::new();
    let calibrated: Vec<usize> = (0..n).step_by(step).collect();
    let mut measured = vec![false; n];
    for &k in &calibrated {
        let mut report = EncodeReport::default();
        let filled = model
            .pipeline
            .fill(&dataset.houses[rows[k]], &mut report.imputed);
        table.key_of(&filled, &mut key);
        let neighbours = table.search(&key, neighborhood_of(&filled), table_of_position[k]);
        d[k] = neighbours.mean_distance();
        measured[k] = true;
    }
    let kind = model.estimator.kind;
    let g_of = |r: usize, k: usize| match kind {
        ModelKind::Blend => (c_l(calibration, r, k) - c_g(calibration, r, k)).abs(),
        _ => 0.0,
    };
    // Residuals of (repetition, position) pairs for the positions `use_position` accepts.
    let collect = |accept: &dyn Fn(usize) -> bool| {
        let (mut r, mut dd, mut gg) = (Vec::new(), Vec::new(), Vec::new());
        for (rep, oof) in calibration.oof.iter().enumerate() {
            for &k in &calibrated {
                if accept(k) {
                    r.push(calibration.y[k] - oof[k]);
                    dd.push(d[k]);
                    gg.push(g_of(rep, k));
                }
            }
        }
        (r, dd, gg)
    };
    let level = calibration.level;
    let (r, dd, gg) = collect(&|_| true);
    let range = LocalRange::calibrate(level, &r, &dd, &gg);

    // Cross-conformal on the first repetition's folds.
    let (mut fy, mut fp, mut local, mut fixed) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for held_out in calibration.folds {
        let mut in_fold = vec![false; n];
        held_out.iter().for_each(|&k| in_fold[k] = true);
        let (r, dd, gg) = collect(&|k| !in_fold[k]);
        let fold_range = LocalRange::calibrate(level, &r, &dd, &gg);
        let fold_fixed = interval::fixed(level, &r);
        for &k in held_out.iter().filter(|&&k| measured[k]) {
            fy.push(calibration.y[k]);
            fp.push(calibration.oof[0][k]);
            local.push(fold_range.bounds(d[k], g_of(0, k)));
            fixed.push(fold_fixed);
        }
    }
    let folds = RangeScore::of(&fy, &fp, &local);
    let folds_fixed = RangeScore::of(&fy, &fp, &fixed);

    // Time holdout: fitted on the earlier sales' residuals, scored on the holdout model's.
    let (holdout, holdout_fixed) = match &calibration.holdout {
        Some((served, linear, gbm)) if !calibration.late.is_empty() => {
            let mut early = vec![false; n];
            calibration.early.iter().for_each(|&k| early[k] = true);
            let (r, dd, gg) = collect(&|k| early[k]);
            let early_range = LocalRange::calibrate(level, &r, &dd, &gg);
            let early_fixed = interval::fixed(level, &r);
            let (mut hy, mut hp, mut hl, mut hf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (j, &k) in calibration.late.iter().enumerate() {
                let d_k = if measured[k] {
                    d[k]
                } else {
                    let mut report = EncodeReport::default();
                    let filled = model
                        .pipeline
                        .fill(&dataset.houses[rows[k]], &mut report.imputed);
                    table.key_of(&filled, &mut key);
                    table
                        .search(&key, neighborhood_of(&filled), table_of_position[k])
                        .mean_distance()
                };
                let g = match kind {
                    ModelKind::Blend => (linear[j] - gbm[j]).abs(),
                    _ => 0.0,
                };
                hy.push(calibration.y[k]);
                hp.push(served[j]);
                hl.push(early_range.bounds(d_k, g));
                hf.push(early_fixed);
            }
            (
                Some(RangeScore::of(&hy, &hp, &hl)),
                Some(RangeScore::of(&hy, &hp, &hf)),
            )
        }
        _ => (None, None),
    };
    let report = IntervalReport {
        method: interval::METHOD.to_string(),
        level,
        folds,
        folds_fixed,
        holdout,
        holdout_fixed,
    };
    Ok((
        Reference {
            feature_means: means,
            comparables: Some(table),
            range: Some(range),
        },
        report,
    ))
}

fn c_l(c: &Calibration, rep: usize, k: usize) -> f64 {
    c.oof_linear[rep][k]
}

fn c_g(c: &Calibration, rep: usize, k: usize) -> f64 {
    c.oof_gbm[rep][k]
}
