//! CloudWatch Embedded Metric Format: one JSON line per prediction that CloudWatch Logs turns
//! into metrics (namespace `amesops`, dimension `model_id`), so dashboards and alarms need no
//! code. The metric values are top-level members named in `_aws.CloudWatchMetrics[].Metrics`.
//!
//! Lines are written on Lambda (`AWS_LAMBDA_FUNCTION_NAME` set) or when `AMESOPS_EMF=1`, to
//! standard output, where the Lambda runtime sends them to CloudWatch Logs; locally the console
//! keeps its own log file and has no CloudWatch to feed.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

use crate::record::{PredictionRecord, Source};

/// The metrics namespace.
pub const NAMESPACE: &str = "amesops";

/// The metrics of one line: name, unit (as CloudWatch spells it).
pub const METRICS: [(&str, &str); 5] = [
    ("predicted_price", "None"),
    ("latency_ms", "Milliseconds"),
    ("imputed_fields", "Count"),
    ("out_of_range_fields", "Count"),
    ("not_stored", "Count"),
];

type Sink = Box<dyn Write + Send>;

fn sink() -> &'static Mutex<Option<Sink>> {
    static SINK: OnceLock<Mutex<Option<Sink>>> = OnceLock::new();
    SINK.get_or_init(|| {
        let on = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some_and(|v| !v.is_empty())
            || std::env::var("AMESOPS_EMF").is_ok_and(|v| v == "1" || v == "true");
        Mutex::new(on.then(|| Box::new(std::io::stdout()) as Sink))
    })
}

/// Sends the lines to `writer` instead (tests, or another log destination).
pub fn set_sink(writer: impl Write + Send + 'static) {
    if let Ok(mut sink) = sink().lock() {
        *sink = Some(Box::new(writer));
    }
}

/// The metric of a replayed request that names the old version's price: `|price / baseline − 1|`,
/// whose average is the mean absolute shift of the predicted price against the old version.
pub const PRICE_SHIFT: &str = "price_shift";

/// The EMF line of one prediction, stamped `timestamp_ms` (Unix milliseconds).
pub fn line(record: &PredictionRecord, stored: bool, timestamp_ms: i64) -> Value {
    line_against(record, stored, None, timestamp_ms)
}

/// [`line`], with `price_shift` when the request named the old version's price.
pub fn line_against(
    record: &PredictionRecord,
    stored: bool,
    baseline_price: Option<f64>,
    timestamp_ms: i64,
) -> Value {
    let shift = baseline_price.map(|b| (record.price / b - 1.0).abs());
    let mut metrics: Vec<Value> = METRICS
        .iter()
        .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    if shift.is_some() {
        metrics.push(json!({"Name": PRICE_SHIFT, "Unit": "None"}));
    }
    let mut line = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["model_id"]],
                "Metrics": metrics,
            }],
        },
        "model_id": record.model_id,
        "predicted_price": record.price,
        "latency_ms": record.latency_us as f64 / 1000.0,
        "imputed_fields": record.imputed.len(),
        "out_of_range_fields": record.out_of_range.len(),
        "not_stored": if stored { 0 } else { 1 },
        "prediction_id": record.id,
        "event": "prediction_metrics",
    });
    if let Some(shift) = shift {
        line[PRICE_SHIFT] = json!(shift);
    }
    line
}

/// Writes the line of one prediction, when EMF is on. Smoke tests are not traffic: no metrics.
pub fn prediction(record: &PredictionRecord, stored: bool) {
    prediction_against(record, stored, None);
}

/// [`prediction`], with `price_shift` against the old version's price when it is known.
pub fn prediction_against(record: &PredictionRecord, stored: bool, baseline_price: Option<f64>) {
    if record.source == Source::Smoke {
        return;
    }
    let Ok(mut guard) = sink().lock() else {
        return;
    };
    let Some(writer) = guard.as_mut() else {
        return;
    };
    let now = time::OffsetDateTime::now_utc();
    let ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    let mut text = line_against(record, stored, baseline_price, ms).to_string();
    text.push('\n');
    // One write per line: lines from concurrent requests never interleave.
    let _ = writer.write_all(text.as_bytes());
    let _ = writer.flush();
}
