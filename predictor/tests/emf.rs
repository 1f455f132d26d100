//! The predictor's metric lines follow the CloudWatch Embedded Metric Format specification:
//! `_aws.Timestamp` (Unix ms), `_aws.CloudWatchMetrics[]` of `{Namespace, Dimensions (arrays of
//! member names), Metrics[{Name, Unit}]}`, and every dimension and metric value as a top-level
//! member of the same object (numbers for metrics, strings for dimensions).

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use crate::support::fixtures::app_state;
use crate::support::router::{call, post_json};
use crate::support::stores::FailingStore;
use predictor::router;
use predictor::store::LocalStore;
use serde_json::{Value, json};

/// The units the specification allows.
const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Checks one line against the specification's structure; returns its metric names.
fn validate(line: &Value) -> Vec<String> {
    let root = line.as_object().expect("an EMF line is a JSON object");
    let aws = root["_aws"].as_object().expect("_aws is an object");
    let timestamp = aws["Timestamp"]
        .as_i64()
        .expect("_aws.Timestamp is an integer");
    assert!(
        timestamp > 1_600_000_000_000,
        "Timestamp is in Unix milliseconds: {timestamp}"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array");
    assert!(!directives.is_empty());
    let mut names = Vec::new();
    for directive in directives {
        let namespace = directive["Namespace"]
            .as_str()
            .expect("Namespace is a string");
        assert!(!namespace.is_empty() && namespace.len() <= 1024);
        let dimensions = directive["Dimensions"]
            .as_array()
            .expect("Dimensions is an array");
        for set in dimensions {
            let set = set
                .as_array()
                .expect("a dimension set is an array of names");
            assert!(set.len() <= 30);
            for name in set {
                let name = name.as_str().expect("dimension names are strings");
                assert!(
                    root.get(name).is_some_and(Value::is_string),
                    "dimension {name} is a top-level string member"
                );
            }
        }
        let metrics = directive["Metrics"]
            .as_array()
            .expect("Metrics is an array");
        assert!(!metrics.is_empty() && metrics.len() <= 100);
        for metric in metrics {
            let name = metric["Name"].as_str().expect("Metric Name is a string");
            if let Some(unit) = metric.get("Unit") {
                let unit = unit.as_str().expect("Unit is a string");
                assert!(UNITS.contains(&unit), "{unit} is not an EMF unit");
            }
            assert!(
                root.get(name).is_some_and(Value::is_number),
                "metric {name} is a top-level number member: {line}"
            );
            names.push(name.to_string());
        }
    }
    names
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().expect("buffer").clone();
        String::from_utf8(bytes)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect()
    }
}

#[tokio::test]
async fn every_prediction_writes_one_emf_line_with_its_metrics() {
    let buffer = Buffer::default();
    predictor::emf::set_sink(buffer.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let app = router(app_state(LocalStore::new(dir.path())));
    let reply = call(
        &app,
        post_json(
            "/predict",
            json!({"GrLivArea": 1710, "OverallQual": 7, "Neighborhood": "CollgCr", "LotArea": 900000})
                .to_string(),
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    let failing = router(app_state(FailingStore::default()));
    let second = call(
        &failing,
        post_json("/predict", json!({"GrLivArea": 1000}).to_string()),
    )
    .await;
    assert_eq!(second.status, 200);

    let lines = buffer.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    for line in &lines {
        let names = validate(line);
        assert_eq!(
            names,
            [
                "predicted_price",
                "latency_ms",
                "imputed_fields",
                "out_of_range_fields",
                "not_stored"
            ]
        );
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "amesops");
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["model_id"]])
        );
    }
    let first = &lines[0];
    assert_eq!(first["model_id"], body["model"]["id"]);
    assert_eq!(first["predicted_price"], body["price"]);
    assert_eq!(first["prediction_id"], body["id"]);
    assert_eq!(
        first["imputed_fields"].as_u64(),
        body["imputed"].as_array().map(|a| a.len() as u64)
    );
    assert_eq!(
        first["out_of_range_fields"].as_u64(),
        body["out_of_range"].as_array().map(|a| a.len() as u64)
    );
    assert!(
        first["out_of_range_fields"].as_u64() >= Some(1),
        "LotArea 900000 is out of range"
    );
    assert_eq!(first["not_stored"], 0);
    assert_eq!(
        lines[1]["not_stored"], 1,
        "the failing store: stored=false is counted"
    );
}
