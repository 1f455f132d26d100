//! Checks a batch once for both stores, and splits it into requests MLflow accepts.

use std::collections::BTreeMap;

use super::error::{ErrorKind, TrackerError, TrackerResult};
use super::types::Batch;

/// Most metrics MLflow takes in one `runs/log-batch` request.
pub const MAX_METRICS_PER_REQUEST: usize = 1000;
/// Most params and tags together MLflow takes in one request.
pub const MAX_PARAMS_TAGS_PER_REQUEST: usize = 100;
/// Most entities of any kind MLflow takes in one request.
pub const MAX_ENTITIES_PER_REQUEST: usize = 1000;
/// Longest parameter value MLflow stores.
pub const MAX_PARAM_VALUE_LENGTH: usize = 6000;
/// Longest tag value MLflow stores.
pub const MAX_TAG_VALUE_LENGTH: usize = 8000;

/// Refuses what either store would refuse, so both fail the same way and before any write:
/// non-finite metrics, empty keys, over-long values, and one batch giving a param two values.
/// Repeating a param with the same value is folded into one entry.
pub fn validated(call: &str, batch: &Batch) -> TrackerResult<Batch> {
    let invalid = |message: String| TrackerError::new(call, ErrorKind::InvalidInput, message);
    for metric in &batch.metrics {
        if metric.key.is_empty() {
            return Err(invalid("a metric has an empty key".into()));
        }
        if !metric.value.is_finite() {
            return Err(invalid(format!(
                "metric {:?} has the non-finite value {} (step {})",
                metric.key, metric.value, metric.step
            )));
        }
    }
    let mut params: BTreeMap<&str, &str> = BTreeMap::new();
    let mut unique = Vec::with_capacity(batch.params.len());
    for param in &batch.params {
        if param.key.is_empty() {
            return Err(invalid("a param has an empty key".into()));
        }
        if param.value.chars().count() > MAX_PARAM_VALUE_LENGTH {
            return Err(invalid(format!(
                "param {:?} is longer than {MAX_PARAM_VALUE_LENGTH} characters",
                param.key
            )));
        }
        match params.get(param.key.as_str()) {
            Some(previous) if *previous == param.value => {}
            Some(previous) => {
                return Err(invalid(format!(
                    "param {:?} is given twice with different values ({previous:?} and {:?})",
                    param.key, param.value
                )));
            }
            None => {
                params.insert(&param.key, &param.value);
                unique.push(param.clone());
            }
        }
    }
    for tag in &batch.tags {
        if tag.key.is_empty() {
            return Err(invalid("a tag has an empty key".into()));
        }
        if tag.value.chars().count() > MAX_TAG_VALUE_LENGTH {
            return Err(invalid(format!(
                "tag {:?} is longer than {MAX_TAG_VALUE_LENGTH} characters",
                tag.key
            )));
        }
    }
    Ok(Batch {
        metrics: batch.metrics.clone(),
        params: unique,
        tags: batch.tags.clone(),
    })
}

/// Splits a batch into requests within MLflow's limits: params and tags first (up to 100 per
/// request), then metrics filling each request up to 1,000 entities.
pub fn chunks(batch: &Batch) -> Vec<Batch> {
    let mut requests = Vec::new();
    let mut params = batch.params.iter();
    let mut tags = batch.tags.iter();
    let mut metrics = batch.metrics.iter();
    loop {
        let mut request = Batch::default();
        while request.params.len() + request.tags.len() < MAX_PARAMS_TAGS_PER_REQUEST {
            if let Some(param) = params.next() {
                request.params.push(param.clone());
            } else if let Some(tag) = tags.next() {
                request.tags.push(tag.clone());
            } else {
                break;
            }
        }
        let room = MAX_METRICS_PER_REQUEST
            .min(MAX_ENTITIES_PER_REQUEST - request.params.len() - request.tags.len());
        request.metrics.extend(metrics.by_ref().take(room).cloned());
        if request.is_empty() {
            break;
        }
        requests.push(request);
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::super::types::{KeyValue, Metric};
    use super::*;

    fn metric(step: i64) -> Metric {
        Metric {
            key: "loss".into(),
            value: step as f64,
            timestamp: 1,
            step,
        }
    }

    #[test]
    fn chunks_stay_within_mlflow_limits_and_keep_everything_in_order() {
        let batch = Batch {
            metrics: (0..2500).map(metric).collect(),
            params: (0..150)
                .map(|i| KeyValue::new(format!("p{i}"), i))
                .collect(),
            tags: (0..30).map(|i| KeyValue::new(format!("t{i}"), i)).collect(),
        };
        let requests = chunks(&batch);
        for request in &requests {
            assert!(request.params.len() + request.tags.len() <= MAX_PARAMS_TAGS_PER_REQUEST);
            assert!(request.metrics.len() <= MAX_METRICS_PER_REQUEST);
            assert!(
                request.metrics.len() + request.params.len() + request.tags.len()
                    <= MAX_ENTITIES_PER_REQUEST
            );
        }
        let steps: Vec<i64> = requests
            .iter()
            .flat_map(|r| r.metrics.iter().map(|m| m.step))
            .collect();
        assert_eq!(steps, (0..2500).collect::<Vec<_>>());
        assert_eq!(requests.iter().map(|r| r.params.len()).sum::<usize>(), 150);
        assert_eq!(requests.iter().map(|r| r.tags.len()).sum::<usize>(), 30);
    }

    #[test]
    fn an_empty_batch_needs_no_request() {
        assert!(chunks(&Batch::default()).is_empty());
    }

    #[test]
    fn validation_refuses_nan_and_conflicting_params_but_folds_repeats() {
        let mut batch = Batch::default();
        batch.metrics.push(Metric {
            value: f64::NAN,
            ..metric(0)
        });
        assert_eq!(
            validated("t", &batch).map_err(|e| e.kind),
            Err(ErrorKind::InvalidInput)
        );
        let batch = Batch {
            params: vec![KeyValue::new("a", 1), KeyValue::new("a", 1)],
            ..Batch::default()
        };
        assert_eq!(validated("t", &batch).map(|b| b.params.len()), Ok(1));
        let batch = Batch {
            params: vec![KeyValue::new("a", 1), KeyValue::new("a", 2)],
            ..Batch::default()
        };
        assert!(validated("t", &batch).is_err());
    }
}
