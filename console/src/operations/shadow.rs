//! Shadow replay: the stored production requests of a window (every record's `input`) priced
//! again, in process, by the candidate and by the production model, before the candidate
//! serves anyone. The gate's held-out rows are one split of the training data; these are the
//! houses production actually receives.
//!
//! Reading the records is the cost, so a day's objects are fetched concurrently and priced in
//! chunks on the blocking pool while the next day is read. Only a compact row per record is
//! kept; the inputs of the houses that moved most are read again for their explanations.

use std::collections::HashMap;
use std::sync::Arc;

use core_model::artifact::LoadedArtifact;
use core_model::house::house_from_json;
use core_model::predict::Buffers;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use time::Date;

use super::monitor::dates::day_string;
use super::monitor::{MonitorError, days, sales, window_start};
use crate::backend::store::ObjectStore;
use predictor::record::Source;

/// Default window of `amesops shadow` and of the gate's replay, in days.
pub const DEFAULT_SINCE_DAYS: u32 = 7;

/// Houses listed as having moved most.
const TOP: usize = 10;

/// Fields named per house that moved: the largest differences of contribution.
const DRIVERS: usize = 3;

/// Objects read at once.
const READ_CONCURRENCY: usize = 64;

/// Days in flight at once (one read while the other is priced).
const DAY_CONCURRENCY: usize = 2;

/// Records priced per blocking task.
const CHUNK: usize = 2048;

/// What to replay.
#[derive(Clone)]
pub struct Request {
    /// Days back from today.
    pub since_days: u32,
    /// Today (UTC), passed in so tests can fix it.
    pub today: Date,
    /// The model that would replace production.
    pub candidate: Arc<LoadedArtifact>,
    /// The model production serves.
    pub production: Arc<LoadedArtifact>,
}

/// The distribution of the relative price change `|candidate / production − 1|`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Median of |Δ|.
    pub median: f64,
    /// 90th percentile of |Δ|.
    pub p90: f64,
    /// 99th percentile of |Δ|.
    pub p99: f64,
    /// Largest |Δ|.
    pub max: f64,
    /// Mean of the signed Δ (a candidate that prices everything higher shows here).
    pub mean: f64,
}

/// One field's part in a house's move: its contribution to ln(price) under each model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// Field or engineered feature.
    pub feature: String,
    /// Contribution to ln(price) under production.
    pub production_log: f64,
    /// Contribution under the candidate.
    pub candidate_log: f64,
    /// candidate − production.
    pub delta_log: f64,
}

/// A house whose price moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mover {
    /// Prediction id of the record.
    pub id: String,
    /// Its storage key.
    pub key: String,
    /// When it was asked.
    pub timestamp: String,
    /// The house `Id`, when the request had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_id: Option<i64>,
    /// Production's price, replayed.
    pub production_price: f64,
    /// The candidate's price.
    pub candidate_price: f64,
    /// candidate / production − 1.
    pub change: f64,
    /// The fields whose contributions differ most between the two explanations.
    pub drivers: Vec<Driver>,
}

/// Both models' realized error on the replayed records that closed as sales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Realized {
    /// Replayed records with a closed sale.
    pub sales: usize,
    /// Production's RMSE of ln(price) on them.
    pub production_rmse_log: f64,
    /// The candidate's.
    pub candidate_rmse_log: f64,
}

/// What `amesops shadow` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowReport {
    /// Where the records are.
    pub store: String,
    /// First day of the window.
    pub from: String,
    /// Last day (today).
    pub to: String,
    /// The candidate's model id.
    pub candidate_model: String,
    /// Production's model id.
    pub production_model: String,
    /// Records replayed (smoke tests left out).
    pub records: usize,
    /// Records whose input no longer validates (left out, counted).
    pub skipped: usize,
    /// The distribution of |Δ| (`None` without records).
    pub change: Option<Change>,
    /// The houses that moved most, largest |Δ| first.
    pub top: Vec<Mover>,
    /// Realized error where closed sales exist for the replayed records.
    pub realized: Option<Realized>,
    /// Why a part is empty.
    pub notes: Vec<String>,
}

/// A record as the replay reads it.
#[derive(Deserialize)]
struct Stored {
    id: String,
    timestamp: String,
    #[serde(default)]
    input: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    source: Source,
}

/// The compact row kept per replayed record.
#[derive(Debug, Clone)]
struct Row {
    key: String,
    id: String,
    timestamp: String,
    house_id: Option<i64>,
    production: f64,
    candidate: f64,
}

impl Row {
    fn change(&self) -> f64 {
        self.candidate / self.production - 1.0
    }
}

/// What one chunk of records gave.
#[derive(Default)]
struct Priced {
    rows: Vec<Row>,
    skipped: usize,
    /// Squared log errors on sold houses: (production, candidate).
    sold: Vec<(f64, f64)>,
}

fn house_id(input: &serde_json::Map<String, serde_json::Value>) -> Option<i64> {
    input.get("Id").and_then(|v| {
        v.as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    })
}

fn price_chunk(
    chunk: Vec<(String, Vec<u8>)>,
    request: &Request,
    sold: &HashMap<String, f64>,
) -> Result<Priced, MonitorError> {
    let mut out = Priced::default();
    let mut buffers = Buffers::default();
    let candidate = &request.candidate.artifact.model;
    let production = &request.production.artifact.model;
    for (key, bytes) in chunk {
        let record: Stored = serde_json::from_slice(&bytes)
            .map_err(|e| MonitorError::Store(format!("{key}: not a prediction record: {e}")))?;
        if !record.source.is_traffic() {
            continue;
        }
        let Ok(house) = house_from_json(&record.input) else {
            out.skipped += 1;
            continue;
        };
        let production_price = production.predict_with(&house, &mut buffers).price;
        let candidate_price = candidate.predict_with(&house, &mut buffers).price;
        if let Some(sale) = sold.get(&record.id) {
            let truth = sale.ln();
            out.sold.push((
                (production_price.ln() - truth).powi(2),
                (candidate_price.ln() - truth).powi(2),
            ));
        }
        out.rows.push(Row {
            house_id: house_id(&record.input),
            key,
            id: record.id,
            timestamp: record.timestamp,
            production: production_price,
            candidate: candidate_price,
        });
    }
    Ok(out)
}

/// The `p`-quantile of sorted values, interpolating linearly between order statistics (as
/// numpy's default does): position `p·(n − 1)`.
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let position = p.clamp(0.0, 1.0) * (n - 1) as f64;
            let low = position.floor() as usize;
            let high = position.ceil() as usize;
            sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
        }
    }
}

/// The distribution of |Δ| over `changes` (signed relative changes).
pub fn distribution(changes: &[f64]) -> Option<Change> {
    if changes.is_empty() {
        return None;
    }
    let mut absolute: Vec<f64> = changes.iter().map(|c| c.abs()).collect();
    absolute.sort_by(f64::total_cmp);
    Some(Change {
        median: quantile(&absolute, 0.5),
        p90: quantile(&absolute, 0.9),
        p99: quantile(&absolute, 0.99),
        max: absolute.last().copied().unwrap_or(0.0),
        mean: changes.iter().sum::<f64>() / changes.len() as f64,
    })
}

async fn day_rows(
    store: &dyn ObjectStore,
    day: String,
    request: &Request,
    sold: &Arc<HashMap<String, f64>>,
) -> Result<Priced, MonitorError> {
    let keys = days::day_keys(store, &day).await?;
    let mut bodies = futures_util::stream::iter(keys.keys)
        .map(|key| async move {
            let bytes = store.get(&key).await;
            (key, bytes)
        })
        .buffer_unordered(READ_CONCURRENCY);
    let mut tasks = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let spawn = |chunk: Vec<(String, Vec<u8>)>| {
        let request = request.clone();
        let sold = sold.clone();
        tokio::task::spawn_blocking(move || price_chunk(chunk, &request, &sold))
    };
    while let Some((key, bytes)) = bodies.next().await {
        chunk.push((key, bytes?));
        if chunk.len() == CHUNK {
            tasks.push(spawn(std::mem::take(&mut chunk)));
        }
    }
    if !chunk.is_empty() {
        tasks.push(spawn(chunk));
    }
    let mut day = Priced::default();
    for task in tasks {
        let priced = task
            .await
            .map_err(|e| MonitorError::Store(format!("the pricing task failed: {e}")))??;
        day.rows.extend(priced.rows);
        day.skipped += priced.skipped;
        day.sold.extend(priced.sold);
    }
    Ok(day)
}

/// The fields whose contributions differ most between the two models for one stored house.
async fn drivers(store: &dyn ObjectStore, key: &str, request: &Request) -> Vec<Driver> {
    let Ok(bytes) = store.get(key).await else {
        return Vec::new();
    };
    let Ok(record) = serde_json::from_slice::<Stored>(&bytes) else {
        return Vec::new();
    };
    let Ok(house) = house_from_json(&record.input) else {
        return Vec::new();
    };
    let mut buffers = Buffers::default();
    let production = request
        .production
        .artifact
        .model
        .appraise(&house, &mut buffers)
        .explanation;
    let candidate = request
        .candidate
        .artifact
        .model
        .appraise(&house, &mut buffers)
        .explanation;
    let mut by_feature: HashMap<String, (f64, f64)> = HashMap::new();
    for c in &production.contributions {
        by_feature.entry(c.feature.clone()).or_default().0 += c.log;
    }
    for c in &candidate.contributions {
        by_feature.entry(c.feature.clone()).or_default().1 += c.log;
    }
    let mut drivers: Vec<Driver> = by_feature
        .into_iter()
        .map(|(feature, (production_log, candidate_log))| Driver {
            feature,
            production_log,
            candidate_log,
            delta_log: candidate_log - production_log,
        })
        .filter(|d| d.delta_log != 0.0)
        .collect();
    drivers.sort_by(|a, b| {
        b.delta_log
            .abs()
            .total_cmp(&a.delta_log.abs())
            .then_with(|| a.feature.cmp(&b.feature))
    });
    drivers.truncate(DRIVERS);
    drivers
}

/// Replays the window's stored requests through both models.
pub async fn shadow(
    store: &dyn ObjectStore,
    request: &Request,
) -> Result<ShadowReport, MonitorError> {
    let from = window_start(request.today, request.since_days);
    let (first, last) = (day_string(from), day_string(request.today));
    let days = days::record_days_between(store, &first, &last).await?;
    let stored_sales = sales::sales_since(store, from, request.today).await?;
    let sold: Arc<HashMap<String, f64>> = Arc::new(
        stored_sales
            .sales
            .iter()
            .map(|s| (s.prediction_id.clone(), s.sale_price))
            .collect(),
    );
    let mut results = futures_util::stream::iter(days)
        .map(|day| day_rows(store, day, request, &sold))
        .buffer_unordered(DAY_CONCURRENCY);
    let mut rows = Vec::new();
    let mut skipped = 0;
    let mut squared = Vec::new();
    while let Some(day) = results.next().await {
        let day = day?;
        rows.extend(day.rows);
        skipped += day.skipped;
        squared.extend(day.sold);
    }
    let changes: Vec<f64> = rows.iter().map(Row::change).collect();
    let mut notes = Vec::new();
    if rows.is_empty() {
        notes.push(format!(
            "no stored traffic from {first} to {last}: nothing to replay (the gate falls back to the held-out comparison)"
        ));
    }
    if skipped > 0 {
        notes.push(format!(
            "{skipped} record(s) whose input no longer validates were left out"
        ));
    }
    // Largest |Δ| first; ties by key so the list is the same on every run.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        changes[b]
            .abs()
            .total_cmp(&changes[a].abs())
            .then_with(|| rows[a].key.cmp(&rows[b].key))
    });
    let mut top = Vec::with_capacity(TOP);
    for &i in order.iter().take(TOP) {
        let row = &rows[i];
        top.push(Mover {
            id: row.id.clone(),
            key: row.key.clone(),
            timestamp: row.timestamp.clone(),
            house_id: row.house_id,
            production_price: row.production,
            candidate_price: row.candidate,
            change: changes[i],
            drivers: drivers(store, &row.key, request).await,
        });
    }
    let realized = (!squared.is_empty()).then(|| {
        let n = squared.len() as f64;
        Realized {
            sales: squared.len(),
            production_rmse_log: (squared.iter().map(|s| s.0).sum::<f64>() / n).sqrt(),
            candidate_rmse_log: (squared.iter().map(|s| s.1).sum::<f64>() / n).sqrt(),
        }
    });
    if realized.is_none() && !rows.is_empty() {
        notes.push("no closed sales for the replayed records: no realized error".to_string());
    }
    Ok(ShadowReport {
        store: store.describe(),
        from: first,
        to: last,
        candidate_model: request.candidate.id.clone(),
        production_model: request.production.id.clone(),
        records: rows.len(),
        skipped,
        change: distribution(&changes),
        top,
        realized,
        notes,
    })
}

/// The report as text.
pub fn text(report: &ShadowReport) -> String {
    let mut out = format!(
        "shadow replay · {} · {} → {} · production {} vs candidate {}\n",
        report.store, report.from, report.to, report.production_model, report.candidate_model
    );
    out.push_str(&format!(
        "{} stored requests replayed{}\n",
        report.records,
        if report.skipped > 0 {
            format!(" ({} left out)", report.skipped)
        } else {
            String::new()
        }
    ));
    if let Some(c) = &report.change {
        out.push_str(&format!(
            "|Δ price|: median {:.2}%  p90 {:.2}%  p99 {:.2}%  max {:.2}%  (mean Δ {:+.2}%)\n",
            100.0 * c.median,
            100.0 * c.p90,
            100.0 * c.p99,
            100.0 * c.max,
            100.0 * c.mean
        ));
    }
    if let Some(r) = &report.realized {
        out.push_str(&format!(
            "realized RMSE(log) on {} closed sales: production {:.4} → candidate {:.4} ({:+.4})\n",
            r.sales,
            r.production_rmse_log,
            r.candidate_rmse_log,
            r.candidate_rmse_log - r.production_rmse_log
        ));
    }
    if !report.top.is_empty() {
        out.push_str("moved most:\n");
        for m in &report.top {
            let drivers = m
                .drivers
                .iter()
                .map(|d| format!("{} {:+.3}", d.feature, d.delta_log))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "  {:+7.2}%  ${:>9.0} → ${:>9.0}  {}{}  {}\n",
                100.0 * m.change,
                m.production_price,
                m.candidate_price,
                m.house_id
                    .map(|id| format!("Id {id} · "))
                    .unwrap_or_default(),
                m.id,
                drivers
            ));
        }
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_order_statistics() {
        let sorted = [0.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&sorted, 0.5), 2.0);
        assert!((quantile(&sorted, 0.9) - 3.6).abs() < 1e-12);
        assert!((quantile(&sorted, 0.99) - 3.96).abs() < 1e-12);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn the_distribution_is_of_absolute_changes() {
        let change = distribution(&[-0.2, 0.1, 0.0]).expect("some");
        assert!((change.median - 0.1).abs() < 1e-12);
        assert!((change.max - 0.2).abs() < 1e-12);
        assert!((change.mean - (-0.1 / 3.0)).abs() < 1e-12);
        assert_eq!(distribution(&[]), None);
    }
}

/// The shadow replay as the gate shows it beside the held-out metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateShadow {
    /// Days replayed.
    pub since_days: u32,
    /// Stored requests replayed.
    pub records: usize,
    /// The distribution of |Δ price| (`None` without traffic).
    pub change: Option<Change>,
    /// Realized error where closed sales exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realized: Option<Realized>,
    /// `retrain.max_shadow_p99_change` (None: no limit).
    pub max_p99_change: Option<f64>,
    /// Whether the replay refused the candidate.
    pub refused: bool,
    /// Why the replay did not decide (no traffic, unreadable store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl GateShadow {
    /// One line for people.
    pub fn line(&self) -> String {
        let limit = self
            .max_p99_change
            .map(|m| format!(" (limit {:.1}%)", 100.0 * m))
            .unwrap_or_default();
        match (&self.change, &self.note) {
            (Some(c), _) => {
                let mut line = format!(
                    "shadow    {} stored requests of the last {} days: |Δ price| median {:.2}% · p90 {:.2}% · p99 {:.2}%{limit}",
                    self.records,
                    self.since_days,
                    100.0 * c.median,
                    100.0 * c.p90,
                    100.0 * c.p99
                );
                if let Some(r) = &self.realized {
                    line.push_str(&format!(
                        " · realized RMSE(log) on {} sales {:.4} → {:.4}",
                        r.sales, r.production_rmse_log, r.candidate_rmse_log
                    ));
                }
                line
            }
            (None, Some(note)) => format!("shadow    {note}"),
            (None, None) => "shadow    no stored traffic".to_string(),
        }
    }
}

/// The gate's use of the replay: after the held-out comparison passed, replays the window
/// through `candidate` and `production` and refuses (as a worse model: same exit code, same
/// `--allow-worse`) a candidate whose p99 |Δ price| exceeds `max_p99_change`. Without stored
/// traffic, or with a store that cannot be read, the held-out comparison stands (and the
/// report says so).
pub async fn judge(
    store: Option<&dyn ObjectStore>,
    candidate: &[u8],
    production: &[u8],
    max_p99_change: Option<f64>,
    today: Date,
) -> GateShadow {
    let mut out = GateShadow {
        since_days: DEFAULT_SINCE_DAYS,
        records: 0,
        change: None,
        realized: None,
        max_p99_change,
        refused: false,
        note: None,
    };
    let Some(store) = store else {
        out.note = Some("no record store for this target: held-out comparison only".to_string());
        return out;
    };
    let (Ok(candidate), Ok(production)) = (
        core_model::Artifact::from_bytes(candidate),
        core_model::Artifact::from_bytes(production),
    ) else {
        out.note = Some("a model does not load: held-out comparison only".to_string());
        return out;
    };
    let request = Request {
        since_days: DEFAULT_SINCE_DAYS,
        today,
        candidate: Arc::new(candidate),
        production: Arc::new(production),
    };
    match shadow(store, &request).await {
        Err(e) => {
            out.note = Some(format!(
                "the stored requests cannot be read ({e}): held-out comparison only"
            ));
        }
        Ok(report) if report.records == 0 => {
            out.note = Some(format!(
                "no stored traffic in the last {DEFAULT_SINCE_DAYS} days: held-out comparison only"
            ));
        }
        Ok(report) => {
            out.records = report.records;
            out.change = report.change;
            out.realized = report.realized;
            // NaN compares as neither: refused.
            out.refused = match (max_p99_change, report.change) {
                (Some(max), Some(change)) => !matches!(
                    change.p99.partial_cmp(&max),
                    Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)
                ),
                _ => false,
            };
        }
    }
    out
}
