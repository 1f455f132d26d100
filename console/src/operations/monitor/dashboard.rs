//! The CloudWatch dashboard of a deployment: the predictor's own metrics (from its EMF log
//! lines, namespace `amesops`, dimension `model_id`) beside Lambda's. `amesops deploy` on the
//! aws target writes its body to `dist/dashboard.json`, ready for `aws cloudwatch
//! put-dashboard`.

use serde_json::{Value, json};

fn widget(x: u32, y: u32, title: &str, metrics: Value, stat: &str, region: &str) -> Value {
    json!({
        "type": "metric",
        "x": x, "y": y, "width": 12, "height": 6,
        "properties": {
            "title": title,
            "metrics": metrics,
            "stat": stat,
            "period": 300,
            "view": "timeSeries",
            "region": region,
        }
    })
}

/// The dashboard body for `function` (alias `alias`) serving `model_id` in `region`.
pub fn body(function: &str, alias: &str, model_id: &str, region: &str) -> Value {
    let ours = |name: &str| json!([predictor::emf::NAMESPACE, name, "model_id", model_id]);
    let lambda = |name: &str| {
        json!([
            "AWS/Lambda",
            name,
            "FunctionName",
            function,
            "Resource",
            format!("{function}:{alias}")
        ])
    };
    json!({
        "widgets": [
            widget(0, 0, "Predicted price (mean)", json!([ours("predicted_price")]), "Average", region),
            widget(12, 0, "Prediction latency, ms (p50, p99)", json!([
                ours("latency_ms"),
                [predictor::emf::NAMESPACE, "latency_ms", "model_id", model_id, {"stat": "p99"}],
            ]), "p50", region),
            widget(0, 6, "Imputed and out-of-range fields (sum)", json!([
                ours("imputed_fields"), ours("out_of_range_fields"),
            ]), "Sum", region),
            widget(12, 6, "Records not stored (sum)", json!([ours("not_stored")]), "Sum", region),
            widget(0, 12, "Lambda invocations, errors, throttles", json!([
                lambda("Invocations"), lambda("Errors"), lambda("Throttles"),
            ]), "Sum", region),
            widget(12, 12, "Lambda duration, ms (p99)", json!([lambda("Duration")]), "p99", region),
        ]
    })
}
