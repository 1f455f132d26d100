//! The ready-to-serve model: pipeline + estimator + interval, and one prediction call.

use serde::{Deserialize, Serialize};

use crate::encode::{EncodeReport, FeaturePipeline};
use crate::house::House;
use crate::model::LinearModel;

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

/// Everything needed to price a house.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Imputation, encoding and scaling.
    pub pipeline: FeaturePipeline,
    /// The fitted estimator.
    pub estimator: LinearModel,
    /// The prediction interval.
    pub interval: Interval,
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
    /// What the encoder filled in or did not recognise.
    #[serde(flatten)]
    pub report: EncodeReport,
}

impl Model {
    /// Predicted ln(price), reusing `buffer` for the features.
    pub fn predict_log_into(&self, house: &House, buffer: &mut Vec<f64>) -> (f64, EncodeReport) {
        let report = self.pipeline.encode_into(house, buffer);
        (self.estimator.predict_log(buffer), report)
    }

    /// Prices one house.
    pub fn predict(&self, house: &House) -> Prediction {
        let mut buffer = Vec::with_capacity(self.pipeline.features.len());
        let (log_price, report) = self.predict_log_into(house, &mut buffer);
        Prediction {
            price: log_price.exp(),
            low: (log_price + self.interval.low_log).exp(),
            high: (log_price + self.interval.high_log).exp(),
            report,
        }
    }
}
