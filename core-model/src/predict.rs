//! The ready-to-serve model: pipeline + estimator + interval, and one prediction call.

use serde::{Deserialize, Serialize};

use crate::encode::{EncodeReport, FeaturePipeline};
use crate::fill::Filled;
use crate::gbm::Gbm;
use crate::house::House;
use crate::model::LinearModel;

pub use crate::appraisal::Reference;

/// A prediction interval in ln-price space, from cross-validated residuals.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Nominal coverage (0.8 = 80 %).
    pub level: f64,
    /// Added to the predicted ln price for the lower bound (negative).
    pub low_log: f64,
    /// Added to the predicted ln price for the upper bound.
    pub high_log: f64,
}

/// Which estimator prices houses: `params.yaml` `train.model`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// The elastic net on the encoded features.
    Linear,
    /// Gradient-boosted trees on the label-encoded house.
    Gbm,
    /// A weighted average of the two in ln-price space.
    #[default]
    Blend,
}

impl ModelKind {
    /// Every kind, in report order.
    pub const ALL: [ModelKind; 3] = [ModelKind::Linear, ModelKind::Gbm, ModelKind::Blend];

    /// The name used in `params.yaml` and reports.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Linear => "linear",
            ModelKind::Gbm => "gbm",
            ModelKind::Blend => "blend",
        }
    }
}

/// The fitted estimator: the linear model, the trees, or both with their blend weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimator {
    /// Which of them prices houses.
    pub kind: ModelKind,
    /// Weight of the linear model's ln price (0 when absent).
    pub linear_weight: f64,
    /// Weight of the trees' ln price (0 when absent); the two weights sum to 1.
    pub gbm_weight: f64,
    /// Gated blend: the trees' weight for a house larger or smaller than every house the linear
    /// part was fitted on (its `GrLivArea` or `TotalSF` clipped; the linear part's weight is 1
    /// minus it). The linear part's size terms stop at its range; the trees saw every row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gbm_weight_out_of_range: Option<f64>,
    /// The elastic net, when `kind` is linear or blend.
    pub linear: Option<LinearModel>,
    /// The trees, when `kind` is gbm or blend.
    pub gbm: Option<Gbm>,
}

impl Estimator {
    /// The served ln price from the parts' ln prices (the gate reads the encoding report).
    pub fn combine(&self, parts: Parts, report: &EncodeReport) -> f64 {
        let (linear_weight, gbm_weight) = self.weights(report);
        parts.linear.map_or(0.0, |l| linear_weight * l) + parts.gbm.map_or(0.0, |g| gbm_weight * g)
    }

    /// The (linear, trees) weights for a house with this encoding report: the gate's weights
    /// when the house is beyond the linear part's sizes, else the blend's.
    pub fn weights(&self, report: &EncodeReport) -> (f64, f64) {
        match self.gbm_weight_out_of_range {
            Some(w) if report.beyond_the_houses() => (1.0 - w, w),
            _ => (self.linear_weight, self.gbm_weight),
        }
    }

    /// Number of non-zero linear weights (0 without a linear model).
    pub fn active_features(&self) -> usize {
        self.linear.as_ref().map_or(0, LinearModel::active_features)
    }

    /// Checks that the parts match the kind and the weights, and prepares the trees.
    pub fn prepare(&mut self, features: usize) -> Result<(), String> {
        let needs_linear = self.kind != ModelKind::Gbm;
        let needs_gbm = self.kind != ModelKind::Linear;
        if needs_linear != self.linear.is_some() || needs_gbm != self.gbm.is_some() {
            return Err(format!(
                "a {} model must have {}",
                self.kind.name(),
                match self.kind {
                    ModelKind::Linear => "a linear part and no trees",
                    ModelKind::Gbm => "trees and no linear part",
                    ModelKind::Blend => "both a linear part and trees",
                }
            ));
        }
        let weights_ok = self.linear_weight.is_finite()
            && self.gbm_weight.is_finite()
            && (self.linear_weight + self.gbm_weight - 1.0).abs() < 1e-9
            && (needs_linear || self.linear_weight == 0.0)
            && (needs_gbm || self.gbm_weight == 0.0);
        let gate_ok = self.gbm_weight_out_of_range.is_none_or(|w| {
            self.kind == ModelKind::Blend && w.is_finite() && (0.0..=1.0).contains(&w)
        });
        if !weights_ok || !gate_ok {
            return Err(format!(
                "blend weights {} (linear) and {} (gbm) must be finite, sum to 1 and be 0 for a missing part; an out-of-range tree weight ({:?}) needs a blend and must lie in [0, 1]",
                self.linear_weight, self.gbm_weight, self.gbm_weight_out_of_range
            ));
        }
        if let Some(linear) = &self.linear
            && linear.weights.len() != features
        {
            return Err(format!(
                "{} weights for {features} features",
                linear.weights.len()
            ));
        }
        if let Some(gbm) = &mut self.gbm {
            gbm.prepare()?;
        }
        Ok(())
    }
}

/// Everything needed to price a house.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Imputation, encoding, clipping and scaling.
    pub pipeline: FeaturePipeline,
    /// The fitted estimator.
    pub estimator: Estimator,
    /// The fixed-width prediction interval (used when [`Reference::range`] is absent).
    pub interval: Interval,
    /// Training reference for explanations, comparables and the calibrated range.
    #[serde(default)]
    pub reference: Reference,
}

/// One priced house.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    /// Predicted sale price in dollars.
    pub price: f64,
    /// Lower bound of the interval.
    pub low: f64,
    /// Upper bound of the interval.
    pub high: f64,
    /// What the encoder filled in, clipped or did not recognise.
    #[serde(flatten)]
    pub report: EncodeReport,
}

/// Reusable buffers for pricing many houses without allocating.
#[derive(Debug, Default)]
pub struct Buffers {
    pub(crate) features: Vec<f64>,
    pub(crate) inputs: Vec<f64>,
    pub(crate) key: Vec<f64>,
}

/// The ln prices of one house from each part of the estimator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parts {
    /// The linear model's ln price, when it has one.
    pub linear: Option<f64>,
    /// The trees' ln price, when it has them.
    pub gbm: Option<f64>,
}

impl Model {
    /// Each part's ln price for one house, with the encoding report.
    pub fn predict_parts(&self, house: &House, buffers: &mut Buffers) -> (Parts, EncodeReport) {
        let mut report = EncodeReport::default();
        let filled = self.pipeline.fill(house, &mut report.imputed);
        let parts = self.parts_of_filled(&filled, buffers, &mut report);
        (parts, report)
    }

    /// Each part's ln price for a filled house; leaves the encoded features and the tree
    /// inputs in `buffers`.
    pub fn parts_of_filled(
        &self,
        filled: &Filled,
        buffers: &mut Buffers,
        report: &mut EncodeReport,
    ) -> Parts {
        self.pipeline
            .encode_filled(filled, &mut buffers.features, report);
        let linear = self
            .estimator
            .linear
            .as_ref()
            .map(|m| m.predict_log(&buffers.features));
        let gbm = self.estimator.gbm.as_ref().map(|g| {
            g.inputs_into(filled, &mut buffers.inputs);
            g.predict_log(&buffers.inputs)
        });
        Parts { linear, gbm }
    }

    /// The blend weights (linear, trees) applied to this house. Every price and every
    /// explanation of it takes its weights from here.
    pub fn blend_weights(&self, report: &EncodeReport) -> (f64, f64) {
        self.estimator.weights(report)
    }

    /// The ln price of a house from its parts, with the weights [`Model::blend_weights`] gives.
    pub fn blend_log(&self, parts: Parts, report: &EncodeReport) -> f64 {
        self.estimator.combine(parts, report)
    }

    /// Predicted ln(price), reusing `buffers`.
    pub fn predict_log_with(&self, house: &House, buffers: &mut Buffers) -> (f64, EncodeReport) {
        let (parts, report) = self.predict_parts(house, buffers);
        (self.blend_log(parts, &report), report)
    }

    /// Prices one house.
    pub fn predict(&self, house: &House) -> Prediction {
        let mut buffers = Buffers::default();
        self.predict_with(house, &mut buffers)
    }

    /// Prices one house, reusing `buffers`.
    pub fn predict_with(&self, house: &House, buffers: &mut Buffers) -> Prediction {
        let mut report = EncodeReport::default();
        let filled = self.pipeline.fill(house, &mut report.imputed);
        let parts = self.parts_of_filled(&filled, buffers, &mut report);
        let log_price = self.blend_log(parts, &report);
        let neighbours = self.neighbours(&filled, buffers);
        let (low_log, high_log) = self.range_offsets(neighbours.as_ref(), parts, &report);
        Prediction {
            price: log_price.exp(),
            low: (log_price + low_log).exp(),
            high: (log_price + high_log).exp(),
            report,
        }
    }
}

impl Model {
    /// Each schema column's share of the model's reliance on it (in [`crate::schema::COLUMNS`]
    /// order, summing to 1): the linear part by the absolute weights of the column's features,
    /// the trees by the training rows their splits on the column route; blended with the blend
    /// weights. Engineered features are not attributed to a column.
    pub fn column_importance(&self) -> Vec<f64> {
        use crate::encode::Source;
        use crate::gbm::TreeInput;
        use crate::schema::{COLUMNS, column_index};
        let normalised = |mut v: Vec<f64>| {
            let total: f64 = v.iter().sum();
            if total > 0.0 {
                v.iter_mut().for_each(|x| *x /= total);
            }
            v
        };
        let mut importance = vec![0.0; COLUMNS.len()];
        if let Some(linear) = &self.estimator.linear {
            let mut per_column = vec![0.0; COLUMNS.len()];
            for (feature, weight) in self.pipeline.features.iter().zip(&linear.weights) {
                let column = match &feature.source {
                    Source::Value { column }
                    | Source::Level { column, .. }
                    | Source::Equals { column, .. } => column,
                    Source::Derived { .. } => continue,
                };
                if let Some(index) = column_index(column) {
                    per_column[index] += weight.abs();
                }
            }
            for (total, share) in importance.iter_mut().zip(normalised(per_column)) {
                *total += self.estimator.linear_weight * share;
            }
        }
        if let Some(gbm) = &self.estimator.gbm {
            let columns: Vec<Option<usize>> = gbm
                .inputs
                .iter()
                .map(|input| match input {
                    TreeInput::Value { column } | TreeInput::Level { column, .. } => {
                        column_index(column)
                    }
                    TreeInput::Derived { .. } => None,
                })
                .collect();
            let mut per_column = vec![0.0; COLUMNS.len()];
            for tree in &gbm.trees {
                for node in 0..tree.len() {
                    if tree.left[node] != 0
                        && let Some(Some(index)) = columns.get(tree.feature[node] as usize)
                    {
                        per_column[*index] += tree.cover[node];
                    }
                }
            }
            for (total, share) in importance.iter_mut().zip(normalised(per_column)) {
                *total += self.estimator.gbm_weight * share;
            }
        }
        normalised(importance)
    }
}
