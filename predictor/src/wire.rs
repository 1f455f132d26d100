//! The typed `/predict` reply, shared by the router, the console and the tests.
//!
//! The web page reads the same names: `price`, `interval`, `explanation`, `comparables`.

use core_model::comparables::Comparable;
use core_model::explain::Explanation;
use serde::{Deserialize, Serialize};

use crate::record::OutOfRange;

/// The price range served with a price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalReply {
    /// Lower bound, dollars.
    pub low: f64,
    /// Upper bound, dollars.
    pub high: f64,
    /// Nominal coverage (0.8 = 80 %).
    pub level: f64,
    /// `normalised_conformal` (calibrated, wider for houses unlike the training sales) or
    /// `fixed` (an artifact without a calibrated range).
    #[serde(default)]
    pub method: String,
}

/// The model that answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    /// Model id (first 12 hex digits of the artifact's sha256).
    pub id: String,
    /// When it was trained.
    pub trained_at: String,
}

/// One priced house, as `POST /predict` returns it (and each entry of `/predict/batch`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictReply {
    /// The prediction record's id.
    pub id: String,
    /// Predicted sale price, dollars.
    pub price: f64,
    /// The price range.
    pub interval: IntervalReply,
    /// The model that priced it.
    pub model: ModelRef,
    /// Fields the model filled in.
    pub imputed: Vec<String>,
    /// `Column=level` values the model never saw in training.
    pub unknown_levels: Vec<String>,
    /// Numeric fields outside the training range (clipped before pricing).
    pub out_of_range: Vec<OutOfRange>,
    /// Whether the prediction record was stored.
    pub stored: bool,
    /// Why this price: `base_log + Σ contributions[].log = ln(price)`.
    #[serde(default = "empty_explanation")]
    pub explanation: Explanation,
    /// The most similar training sales, nearest first.
    #[serde(default)]
    pub comparables: Vec<Comparable>,
}

fn empty_explanation() -> Explanation {
    Explanation {
        base_log: 0.0,
        contributions: Vec::new(),
    }
}

/// What `GET /model` says about the reply of `POST /sales` (`sales_reply_fields`).
pub fn sales_reply_fields() -> serde_json::Value {
    serde_json::json!({
        "stored": "sales written under sales/dt=<sold_on>/<prediction_id or house-Id>.json (a repeated sale is rewritten, not doubled)",
        "keys": "the storage key of each sale",
        "unverified_ids": "true: the router's store only writes, so prediction ids and house Ids are not checked against the records; `amesops monitor` joins the sales and reports those it cannot join"
    })
}

/// What `GET /model` says about the reply fields (`reply_fields`).
pub fn reply_fields() -> serde_json::Value {
    serde_json::json!({
        "price": "predicted sale price in dollars",
        "interval": {
            "low": "lower bound of the range, dollars",
            "high": "upper bound of the range, dollars",
            "level": "nominal coverage of the range (0.8 = 80 %)",
            "method": "normalised_conformal: calibrated on out-of-fold residuals of the training rows, wider for houses unlike the training sales (few close comparables, fields beyond the training range) and for houses the linear model and the trees disagree on; fixed: one width for every house"
        },
        "explanation": {
            "base_log": "ln(price) of the average training house",
            "contributions": {
                "feature": "a field (Kaggle name; one-hot columns grouped back to their field) or an engineered feature (TotalSF, HouseAge, ...)",
                "value": "its value for this house after filling gaps (a number or a level code)",
                "log": "its additive contribution to ln(price); base_log + the sum of every log = ln(price)",
                "percent": "the same as a change of the price, (e^log - 1) x 100"
            },
            "method": "exact: linear part w_j (x_j - mean_j) per feature, trees by path-dependent TreeSHAP on the training row counts of each node, blended with the blend weights applied to this house; sorted by absolute effect"
        },
        "comparables": {
            "id": "the sale's Id in the training data",
            "sale_price": "its recorded sale price",
            "sold": "month of sale, YYYY-MM",
            "neighborhood": "its neighbourhood",
            "key fields": core_model::comparables::KEY_FIELDS.iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            "distance": "Euclidean distance over the key fields standardised on the training sales (areas on a log scale); 0 = identical",
            "adjusted_price": "its sale price adjusted to this house by the model: price x sale_price / model price of the sale",
            "selection": format!(
                "the {} nearest training sales in the house's neighbourhood when it has at least {} sales, else the nearest anywhere",
                core_model::comparables::COMPARABLES,
                core_model::comparables::MIN_SAME_NEIGHBORHOOD
            )
        }
    })
}
