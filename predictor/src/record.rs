//! The prediction record: what was asked, what was answered, stored for every prediction.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;

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

/// The API id a deploy's smoke test puts in the API Gateway request context of the events it
/// invokes a version with. API Gateway writes that field itself for real requests, so a client
/// cannot pass for the smoke test.
pub const SMOKE_TEST_API_ID: &str = "smoke-test";

/// The API id a canary watch puts in the events it replays through the canary's version (as
/// [`SMOKE_TEST_API_ID`], a client cannot pass for it).
pub const CANARY_REPLAY_API_ID: &str = "canary-replay";

/// The header of a replayed request that carries the price the old version gave the same
/// house; the function reports `price_shift` against it (replays only).
pub const BASELINE_PRICE_HEADER: &str = "x-amesops-baseline-price";

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

/// Prefix under which all records are stored.
pub const PREFIX: &str = "predictions/";

/// RFC 3339 with microseconds, UTC.
pub fn rfc3339_micros(t: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    t.format(&format).unwrap_or_default()
}

/// The storage key: `predictions/dt=YYYY-MM-DD/<YYYYMMDDTHHMMSS.ffffffZ>-<id>.json` (Hive-style,
/// lexicographic order is time order).
pub fn record_key(t: OffsetDateTime, id: &str) -> String {
    let day = format_description!("[year]-[month]-[day]");
    let stamp =
        format_description!("[year][month][day]T[hour][minute][second].[subsecond digits:6]Z");
    format!(
        "{PREFIX}dt={}/{}-{id}.json",
        t.format(&day).unwrap_or_default(),
        t.format(&stamp).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_hive_partitioned_by_day_and_sorts_by_time() {
        let t = time::macros::datetime!(2026-11-27 09:05:03.000042 UTC);
        assert_eq!(
            record_key(t, "abc"),
            "predictions/dt=2026-11-27/20261127T090503.000042Z-abc.json"
        );
        assert_eq!(rfc3339_micros(t), "2026-11-27T09:05:03.000042Z");
        let later = time::macros::datetime!(2026-11-27 10:00:00 UTC);
        assert!(record_key(later, "a") > record_key(t, "z"));
    }
}
