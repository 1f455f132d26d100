//! Monitoring in production: realized error from closed sales and per-field drift over every
//! record of a window, at a cost that grows with days, not records.
//!
//! - [`sales`]: import closed sales, joined to their predictions, beside the records;
//! - [`performance`]: RMSE(log), MAE, MAPE, coverage and bias per model and week;
//! - [`days`]: per-day sketch counts, cached in the store for closed days;
//! - [`simulate`]: demo traffic and sales on the local target.
//!
//! [`monitor`] puts them together: the figures `amesops monitor` prints and the Monitor view
//! draws.

pub mod dashboard;
pub mod dates;
pub mod days;
pub mod performance;
pub mod sales;
pub mod simulate;
pub mod sql;

use core_model::sketch::{FieldDrift, ReferenceSketch};
use futures_util::StreamExt;
use serde::Serialize;
use time::Date;

use crate::backend::store::{ObjectStore, StoreError};
use dates::day_string;
use days::Origin;
use performance::WeekPerformance;

/// Why monitoring could not run.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The store could not be read or written.
    #[error("{0}")]
    Store(String),
    /// The input (a sales file, a flag) is not usable.
    #[error("{0}")]
    Input(String),
}

impl From<StoreError> for MonitorError {
    fn from(e: StoreError) -> Self {
        MonitorError::Store(e.to_string())
    }
}

/// Days summarised at once.
const DAY_CONCURRENCY: usize = 2;

/// What to monitor.
#[derive(Debug, Clone)]
pub struct Request {
    /// Days back from today (the window is `today − since … today`).
    pub since_days: u32,
    /// Today (UTC), passed in so tests can fix it.
    pub today: Date,
    /// The reference model: its id and sketch (None: no drift).
    pub model_id: Option<String>,
    /// Its reference sketch.
    pub sketch: Option<ReferenceSketch>,
    /// The production model, marked in the performance rows.
    pub production: Option<String>,
}

/// How much was read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheStats {
    /// Days whose summary came from the store.
    pub days_cached: usize,
    /// Days computed from their records (closed days among them were cached for next time).
    pub days_computed: usize,
    /// Records read.
    pub records_read: usize,
}

/// Everything `amesops monitor` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Where the records are.
    pub store: String,
    /// First day of the window.
    pub from: String,
    /// Last day (today, UTC).
    pub to: String,
    /// The model drift is measured against.
    pub model_id: Option<String>,
    /// The model in production.
    pub production_model_id: Option<String>,
    /// Records in the window (smoke tests left out).
    pub records: u64,
    /// Sales in the window.
    pub sales: usize,
    /// Per model and week.
    pub performance: Vec<WeekPerformance>,
    /// Per field (and `predicted_price`), highest PSI first.
    pub drift: Vec<FieldDrift>,
    /// Fields with PSI above 0.2.
    pub flagged: Vec<String>,
    /// What was read.
    pub cache: CacheStats,
    /// Why a part is empty (no sales, no reference sketch).
    pub notes: Vec<String>,
}

/// First day of a window of `since_days` ending today.
pub fn window_start(today: Date, since_days: u32) -> Date {
    today - time::Duration::days(i64::from(since_days))
}

/// Computes the report over `store`.
pub async fn monitor(store: &dyn ObjectStore, request: &Request) -> Result<Report, MonitorError> {
    let from = window_start(request.today, request.since_days);
    let (first, last) = (day_string(from), day_string(request.today));
    let days = days::record_days_between(store, &first, &last).await?;
    let sketch = request.sketch.as_ref();
    let today = last.as_str();
    let mut results = futures_util::stream::iter(days)
        .map(|day| async move {
            let keys = days::day_keys(store, &day).await?;
            days::summary(store, &keys, sketch, day.as_str() < today).await
        })
        .buffer_unordered(DAY_CONCURRENCY);
    let mut cache = CacheStats::default();
    let mut counts = sketch.map(|s| s.empty_counts()).unwrap_or_default();
    let mut records = 0;
    while let Some(day) = results.next().await {
        let day = day?;
        match day.origin {
            Origin::Cached => cache.days_cached += 1,
            Origin::Computed => cache.days_computed += 1,
        }
        cache.records_read += day.records_read;
        records += day.summary.records;
        for (total, c) in counts.iter_mut().zip(&day.summary.counts) {
            total.add(c);
        }
    }
    let mut notes = Vec::new();
    let drift = match sketch {
        Some(sketch) => sketch.drift(&counts),
        None => {
            notes.push(
                "the model has no reference sketch (trained before drift monitoring): retrain it to measure drift"
                    .to_string(),
            );
            Vec::new()
        }
    };
    let stored = sales::sales_since(store, from, request.today).await?;
    let sales = stored.sales;
    if !stored.unjoined.is_empty() {
        notes.push(format!(
            "{} posted sale(s) name no prediction in the store (unknown prediction id or house Id), left out: {}",
            stored.unjoined.len(),
            stored.unjoined.join(", ")
        ));
    }
    if sales.is_empty() {
        notes.push(
            "no sales yet: import closed sales with `amesops sales import FILE.csv`".to_string(),
        );
    }
    if records == 0 {
        notes.push(format!("no prediction records from {first} to {last}"));
    }
    Ok(Report {
        store: store.describe(),
        from: first,
        to: last.clone(),
        model_id: request.model_id.clone(),
        production_model_id: request.production.clone(),
        records,
        sales: sales.len(),
        performance: performance::per_week(&sales, request.production.as_deref()),
        flagged: drift
            .iter()
            .filter(|d| d.flagged)
            .map(|d| d.field.clone())
            .collect(),
        drift,
        cache,
        notes,
    })
}
