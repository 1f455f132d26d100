//! Days of prediction records, read once: a closed day's sketch counts and house index are
//! computed from its records the first time they are needed and kept in the store under
//! `summaries/dt=YYYY-MM-DD/`, with a digest of the day's key listing. A later run lists the
//! day's keys (no reads) and uses the summary while the listing is unchanged; a late record
//! for that day changes the listing and the summary is recomputed. Today is always read.

use std::collections::BTreeMap;

use core_model::sketch::{Counts, ReferenceSketch, house_from_input};
use futures_util::StreamExt;
use predictor::record::{PredictionRecord, Source};
use serde::{Deserialize, Serialize};

use super::MonitorError;
use crate::backend::store::{ObjectStore, PREDICTIONS_PREFIX};

/// Prefix of the cached day summaries.
pub const SUMMARIES_PREFIX: &str = "summaries/";

/// Layout of the summaries this build writes; other versions are recomputed.
const SUMMARY_VERSION: u32 = 1;

/// Objects read at once from the store.
const READ_CONCURRENCY: usize = 32;

/// What a stored prediction is to monitoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brief {
    /// Prediction id.
    pub id: String,
    /// Its storage key.
    pub key: String,
    /// RFC 3339 time of the prediction.
    pub timestamp: String,
    /// The model that priced it.
    pub model_id: String,
    /// The price it gave.
    pub price: f64,
    /// The interval it gave, when the record carries one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// The house `Id` of the request, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_id: Option<i64>,
    /// Who asked.
    pub source: Source,
}

/// A stored record, read as the predictor writes it ([`PredictionRecord`]): a field renamed
/// there fails to compile here.
#[derive(Debug, Clone)]
pub struct StoredRecord(pub PredictionRecord);

impl StoredRecord {
    /// Parses a record's bytes.
    pub fn parse(key: &str, bytes: &[u8]) -> Result<StoredRecord, MonitorError> {
        serde_json::from_slice(bytes)
            .map(StoredRecord)
            .map_err(|e| MonitorError::Store(format!("{key}: not a prediction record: {e}")))
    }

    /// Its brief.
    pub fn brief(&self, key: &str) -> Brief {
        let record = &self.0;
        Brief {
            id: record.id.clone(),
            key: key.to_string(),
            timestamp: record.timestamp.clone(),
            model_id: record.model_id.clone(),
            price: record.price,
            interval: record.interval.as_ref().map(|i| [i.low, i.high]),
            house_id: self.input().get("Id").and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            }),
            source: record.source,
        }
    }

    /// Who asked.
    pub fn source(&self) -> Source {
        self.0.source
    }

    /// The house as sent (empty when the input is not an object).
    fn input(&self) -> &serde_json::Map<String, serde_json::Value> {
        static EMPTY: std::sync::LazyLock<serde_json::Map<String, serde_json::Value>> =
            std::sync::LazyLock::new(serde_json::Map::new);
        self.0.input.as_object().unwrap_or(&EMPTY)
    }
}

/// The day of a partition key (`predictions/dt=2026-11-27/` → `2026-11-27`).
pub fn partition_day(partition: &str) -> Option<&str> {
    partition
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|p| p.strip_prefix("dt="))
}

/// The prediction id in a record key (`…/<stamp>-<id>.json`).
pub fn key_id(key: &str) -> Option<&str> {
    let name = key.rsplit('/').next()?;
    let name = name.strip_suffix(".json")?;
    name.split_once('-').map(|(_, id)| id)
}

/// A day's record keys and the digest that names that listing.
#[derive(Debug, Clone)]
pub struct DayKeys {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Record keys, oldest first.
    pub keys: Vec<String>,
    /// sha256 of the keys, one per line.
    pub digest: String,
}

/// Lists the record keys of one day.
pub async fn day_keys(store: &dyn ObjectStore, day: &str) -> Result<DayKeys, MonitorError> {
    let partition = format!("{PREDICTIONS_PREFIX}dt={day}/");
    let keys: Vec<String> = store
        .keys_in(&partition)
        .await?
        .into_iter()
        .filter(|k| k.ends_with(".json"))
        .collect();
    let digest = core_model::digest::sha256_hex(keys.join("\n").as_bytes());
    Ok(DayKeys {
        day: day.to_string(),
        keys,
        digest,
    })
}

/// The days that have records, newest first.
pub async fn record_days(store: &dyn ObjectStore) -> Result<Vec<String>, MonitorError> {
    Ok(store
        .partitions()
        .await?
        .iter()
        .filter_map(|p| partition_day(p).map(str::to_string))
        .collect())
}

/// The days with records from `first` to `last` (`YYYY-MM-DD`, both included), oldest first
/// as the store lists them: the window every report over records reads.
pub async fn record_days_between(
    store: &dyn ObjectStore,
    first: &str,
    last: &str,
) -> Result<Vec<String>, MonitorError> {
    Ok(record_days(store)
        .await?
        .into_iter()
        .filter(|d| d.as_str() >= first && d.as_str() <= last)
        .collect())
}

/// One day's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DaySummary {
    /// Layout version.
    pub version: u32,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Digest of the key listing it was computed from.
    pub keys_digest: String,
    /// Keys in that listing.
    pub keys: usize,
    /// Records counted (smoke tests left out).
    pub records: u64,
    /// Records per model id.
    pub models: BTreeMap<String, u64>,
    /// Sketch counts per field then the price (empty without a reference sketch).
    pub counts: Vec<Counts>,
}

/// The day's newest prediction per house `Id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HouseIndex {
    /// Layout version.
    pub version: u32,
    /// Digest of the key listing it was computed from.
    pub keys_digest: String,
    /// House `Id` → newest prediction of it that day.
    pub houses: BTreeMap<i64, Brief>,
}

/// Where a day's figures came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The cached summary (no record read).
    Cached,
    /// Computed from the records (and cached, for a closed day).
    Computed,
}

fn drift_key(day: &str, sketch: Option<&ReferenceSketch>) -> String {
    let name = sketch.map_or_else(|| "none".to_string(), ReferenceSketch::digest);
    format!("{SUMMARIES_PREFIX}dt={day}/drift-{name}.json")
}

fn houses_key(day: &str) -> String {
    format!("{SUMMARIES_PREFIX}dt={day}/houses.json")
}

async fn cached<T: for<'de> Deserialize<'de>>(store: &dyn ObjectStore, key: &str) -> Option<T> {
    let bytes = store.get(key).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Reads every record of a day: its summary and house index.
async fn compute(
    store: &dyn ObjectStore,
    day: &DayKeys,
    sketch: Option<&ReferenceSketch>,
) -> Result<(DaySummary, HouseIndex), MonitorError> {
    let mut bodies = futures_util::stream::iter(day.keys.iter().cloned())
        .map(|key| async move {
            let bytes = store.get(&key).await;
            (key, bytes)
        })
        .buffer_unordered(READ_CONCURRENCY);
    let mut fetched = Vec::with_capacity(day.keys.len());
    while let Some((key, bytes)) = bodies.next().await {
        fetched.push((key, bytes?));
    }
    let sketch = sketch.cloned();
    let day = day.clone();
    // Parsing and counting is CPU work: off the async workers.
    tokio::task::spawn_blocking(move || {
        let mut summary = DaySummary {
            version: SUMMARY_VERSION,
            day: day.day.clone(),
            keys_digest: day.digest.clone(),
            keys: day.keys.len(),
            counts: sketch
                .as_ref()
                .map(|s| s.empty_counts())
                .unwrap_or_default(),
            ..DaySummary::default()
        };
        let mut index = HouseIndex {
            version: SUMMARY_VERSION,
            keys_digest: day.digest.clone(),
            houses: BTreeMap::new(),
        };
        for (key, bytes) in fetched {
            let record = StoredRecord::parse(&key, &bytes)?;
            if !record.source().is_traffic() {
                continue;
            }
            summary.records += 1;
            *summary.models.entry(record.0.model_id.clone()).or_default() += 1;
            if let Some(sketch) = &sketch {
                let house = house_from_input(record.input());
                sketch.count(&mut summary.counts, &house, Some(record.0.price));
            }
            let brief = record.brief(&key);
            if let Some(id) = brief.house_id {
                match index.houses.get(&id) {
                    Some(known) if known.timestamp >= brief.timestamp => {}
                    _ => {
                        index.houses.insert(id, brief);
                    }
                }
            }
        }
        Ok((summary, index))
    })
    .await
    .map_err(|e| MonitorError::Store(e.to_string()))?
}

/// Day figures with their origin.
#[derive(Debug, Clone)]
pub struct Day {
    /// The summary.
    pub summary: DaySummary,
    /// Cached or computed.
    pub origin: Origin,
    /// Records read to compute it (0 when cached).
    pub records_read: usize,
}

/// A day's summary: the cached one when its listing is unchanged, else computed from the
/// records (and, for a closed day, cached together with its house index).
pub async fn summary(
    store: &dyn ObjectStore,
    day: &DayKeys,
    sketch: Option<&ReferenceSketch>,
    closed: bool,
) -> Result<Day, MonitorError> {
    let key = drift_key(&day.day, sketch);
    if closed
        && let Some(summary) = cached::<DaySummary>(store, &key).await
        && summary.version == SUMMARY_VERSION
        && summary.keys_digest == day.digest
    {
        return Ok(Day {
            summary,
            origin: Origin::Cached,
            records_read: 0,
        });
    }
    let (summary, index) = compute(store, day, sketch).await?;
    if closed {
        store.put(&key, to_json(&summary)?).await?;
        store.put(&houses_key(&day.day), to_json(&index)?).await?;
    }
    Ok(Day {
        summary,
        origin: Origin::Computed,
        records_read: day.keys.len(),
    })
}

/// A day's newest prediction per house: the cached index when the listing is unchanged.
pub async fn houses(
    store: &dyn ObjectStore,
    day: &DayKeys,
    closed: bool,
) -> Result<HouseIndex, MonitorError> {
    let key = houses_key(&day.day);
    if closed
        && let Some(index) = cached::<HouseIndex>(store, &key).await
        && index.version == SUMMARY_VERSION
        && index.keys_digest == day.digest
    {
        return Ok(index);
    }
    let (_, index) = compute(store, day, None).await?;
    if closed {
        store.put(&key, to_json(&index)?).await?;
    }
    Ok(index)
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, MonitorError> {
    serde_json::to_vec(value).map_err(|e| MonitorError::Store(e.to_string()))
}

/// Removes every cached summary of a day.
pub async fn forget(store: &dyn ObjectStore, day: &str) -> Result<(), MonitorError> {
    let partition = format!("{SUMMARIES_PREFIX}dt={day}/");
    for key in store.keys_in(&partition).await? {
        store.delete(&key).await?;
    }
    Ok(())
}
