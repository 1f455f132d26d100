//! The wire contract: every request and reply body of the router, the error body, and the
//! stored prediction record, as typed structs (`Serialize + Deserialize`). The router and the
//! Lambda handler build their replies from them, the console, the smoke tests and the web
//! page's contract test read them back with them: a field renamed here fails to compile on
//! both sides instead of showing "?".
//!
//! The web page reads the same names: `price`, `interval`, `explanation`, `comparables`.
//! The storage layout of the records (their keys) is in [`crate::record`].

use core_model::TrainParams;
use core_model::artifact::ArtifactMetrics;
use core_model::comparables::Comparable;
use core_model::explain::Explanation;
use core_model::schema::Kind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

/// `POST /predict/batch`: `{"houses": [ {...}, ... ]}`, each house as `POST /predict` takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRequest {
    /// The houses, each a JSON object of fields.
    pub houses: Vec<Value>,
}

/// The reply of `POST /predict/batch`: one entry per house, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchReply {
    /// The model that priced them.
    pub model: ModelRef,
    /// A price or an error per house.
    pub predictions: Vec<BatchEntry>,
}

/// One house of a batch: priced, or the error it got alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchEntry {
    /// Priced (boxed: a reply is much larger than an error).
    Priced(Box<PredictReply>),
    /// Refused, as `POST /predict` would have refused it.
    Failed(ErrorReply),
}

/// One closed sale as `POST /sales` takes it: a prediction id or a house `Id` to join it to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostedSale {
    /// The prediction the sale closes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_id: Option<String>,
    /// The house `Id` of the request, when the prediction id is unknown.
    #[serde(rename = "Id", default, skip_serializing_if = "Option::is_none")]
    pub house_id: Option<i64>,
    /// The price it sold for, dollars.
    pub sale_price: f64,
    /// `YYYY-MM-DD`, not in the future.
    pub sold_on: String,
}

/// `POST /sales`: `{"sales": [ ... ]}`. The router checks every row by hand (to name each bad
/// field), so it reads the rows as JSON; clients build them as [`PostedSale`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesRequest<Row = PostedSale> {
    /// The sales.
    pub sales: Vec<Row>,
}

/// The reply of `POST /sales`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SalesReply {
    /// How many sales were written.
    pub stored: usize,
    /// The storage key of each.
    pub keys: Vec<String>,
    /// Always true: the router's store only writes, so ids are not checked against records.
    pub unverified_ids: bool,
}

/// The reply of `GET /health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReply {
    /// `ok`.
    pub status: String,
    /// The model served.
    pub model_id: String,
    /// When it was trained.
    pub trained_at: String,
    /// Seconds since the server (or the Lambda instance) started.
    pub uptime_s: f64,
    /// Where records go.
    pub store: String,
    /// The predictor's version.
    pub version: String,
}

/// The reply of `GET /model`: the model's metadata and the form's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReply {
    /// Model id (first 12 hex digits of the sha256).
    pub id: String,
    /// sha256 of the artifact.
    pub sha256: String,
    /// The artifact's format version.
    pub format_version: u32,
    /// The core-model version that wrote it.
    pub crate_version: String,
    /// When it was trained.
    pub trained_at: String,
    /// md5 of the training data.
    pub data_md5: String,
    /// The tracker's run, when known.
    pub run_id: Option<String>,
    /// Training parameters.
    pub params: TrainParams,
    /// Measured quality.
    pub metrics: ArtifactMetrics,
    /// Nominal coverage of the interval.
    pub interval_level: f64,
    /// Number of encoded features.
    pub features: usize,
    /// The form's fields, key fields first.
    pub fields: Vec<FieldReply>,
    /// What each `/predict` reply field means.
    pub reply_fields: Value,
    /// What each `/sales` reply field means.
    pub sales_reply_fields: Value,
    /// How intervals are made (`normalised_conformal` or `fixed`).
    pub interval_method: String,
}

/// One documented level of a categorical field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelReply {
    /// Code, e.g. `TA`.
    pub code: String,
    /// Meaning, e.g. `Average/Typical`.
    pub label: String,
}

/// One field of `GET /model` (the schema's column and what the model does with it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldReply {
    /// Kaggle name.
    pub name: String,
    /// De Cock name.
    pub decock: String,
    /// How values are typed.
    pub kind: Kind,
    /// One-line description.
    pub description: String,
    /// Unit of a numeric field.
    pub unit: Option<String>,
    /// Levels of a categorical field (worst first for ordinal ones).
    pub levels: Vec<LevelReply>,
    /// Whether `NA` means "none" (no basement, …) rather than unknown.
    pub na_means_none: bool,
    /// Smallest plausible value.
    pub min: Option<f64>,
    /// Largest plausible value.
    pub max: Option<f64>,
    /// No field is required: a missing one is imputed.
    pub required: bool,
    /// What the model uses when the field is missing (a number, a level code or null).
    pub default: Value,
    /// Share of the model's reliance on this field (0–1).
    pub importance: f64,
}

/// Every error reply: `{"error": {...}}` (also an entry of a batch reply).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReply {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The body of an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Machine-readable code (`invalid_input`, `not_found`, `store_unavailable`, …).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Field problems (empty unless `invalid_input`).
    #[serde(default)]
    pub fields: Vec<FieldProblem>,
}

/// One field and its problem, as the API reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldProblem {
    /// Field name as sent (`sales[2].sold_on` for a row of a list).
    pub field: String,
    /// What is wrong, including the offending value.
    pub problem: String,
}

/// One stored prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    /// Unique id (UUID v4), also returned to the caller.
    pub id: String,
    /// When the prediction was made (RFC 3339, UTC, microseconds).
    pub timestamp: String,
    /// The model that priced it.
    pub model_id: String,
    /// The house exactly as sent.
    pub input: serde_json::Value,
    /// Fields the pipeline filled in.
    pub imputed: Vec<String>,
    /// Category levels the model did not know.
    #[serde(default)]
    pub unknown_levels: Vec<String>,
    /// Numeric fields outside the training range, clipped to it before pricing.
    #[serde(default)]
    pub out_of_range: Vec<OutOfRange>,
    /// Predicted price in dollars.
    pub price: f64,
    /// The price range served with it, when the record carries one (monitoring then judges
    /// coverage on it instead of the model's interval around the price).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<IntervalReply>,
    /// Time spent validating and predicting, in microseconds.
    pub latency_us: u64,
    /// The caller's address, when known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source_ip: Option<String>,
    /// Who asked: a real request (`api`) or a deploy's smoke test (`smoke`), which monitoring
    /// leaves out of counts, histograms and drift.
    #[serde(default)]
    pub source: Source,
}

/// Where a prediction request came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A client of the API.
    #[default]
    Api,
    /// The smoke test of a deploy, invoking a version directly before it gets traffic.
    Smoke,
    /// Demo traffic written by `amesops simulate` (local target only); monitoring counts it
    /// like real traffic and `amesops simulate --clear` removes exactly these.
    Simulated,
    /// A canary watch replaying stored requests through the canary's version so its alarms
    /// have data: metrics (EMF) like traffic, left out of monitoring and the shadow replay.
    Replay,
}

impl Source {
    /// Whether monitoring counts it as traffic (smoke tests and canary replays are not).
    pub fn is_traffic(self) -> bool {
        matches!(self, Source::Api | Source::Simulated)
    }
}

/// A numeric field outside the range of the training rows: the model priced the house as if
/// the value were at the nearest end of `range`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutOfRange {
    /// The column (or engineered feature, e.g. `TotalSF`).
    pub field: String,
    /// The value given (or computed).
    pub value: f64,
    /// `[smallest, largest]` value in the training rows.
    pub range: [f64; 2],
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
