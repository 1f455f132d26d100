//! Demo traffic for a fresh clone: the held-out houses replayed as predictions over simulated
//! days, most of them closing as sales a few weeks later at their recorded price. Every record
//! is marked `source: "simulated"`, so [`clear`] removes exactly those (and their sales).

use core_model::LoadedArtifact;
use core_model::Table;
use predictor::record::{OutOfRange, PredictionRecord, Source, record_key, rfc3339_micros};
use time::{Date, OffsetDateTime, Time};

use super::MonitorError;
use super::dates::day_string;
use super::days::{self, StoredRecord};
use super::sales::{SALES_PREFIX, Sale, sale_key};
use crate::backend::store::{ObjectStore, PREDICTIONS_PREFIX};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Days of traffic, ending today.
    pub days: u32,
    /// The last day.
    pub today: Date,
    /// Seed of the replay (days, times, which houses sell, when).
    pub seed: u64,
}

/// What was written or removed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// Prediction records.
    pub records: usize,
    /// Sales.
    pub sales: usize,
}

/// Share of replayed houses that close as a sale.
const SOLD_SHARE: f64 = 0.7;

/// A small deterministic generator (splitmix64): the replay is the same for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

fn uuid_from(rng: &mut Rng) -> String {
    let bytes: Vec<u8> = (0..2).flat_map(|_| rng.next().to_le_bytes()).collect();
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// Replays `table`'s houses as predictions of `model` and their closed sales.
pub async fn simulate(
    store: &dyn ObjectStore,
    model: &LoadedArtifact,
    table: &Table,
    plan: &Plan,
) -> Result<Counts, MonitorError> {
    if plan.days == 0 {
        return Err(MonitorError::Input("--days must be at least 1".to_string()));
    }
    let mut rng = Rng(plan.seed ^ 0x5EED);
    let mut counts = Counts::default();
    let interval = &model.artifact.model.interval;
    let first = plan.today - time::Duration::days(i64::from(plan.days) - 1);
    let n = table.records.len().max(1);
    for (i, row) in table.records.iter().enumerate() {
        // Spread evenly over the days, in a shuffled order of time within each day.
        let offset = (i as u64 * u64::from(plan.days)) / n as u64;
        let day = first + time::Duration::days(offset as i64);
        let seconds = rng.below(86_400) as u32;
        let at = OffsetDateTime::new_utc(
            day,
            Time::from_hms(
                (seconds / 3600) as u8,
                ((seconds / 60) % 60) as u8,
                (seconds % 60) as u8,
            )
            .unwrap_or(Time::MIDNIGHT),
        );
        let prediction = model.artifact.model.predict(&row.house);
        let mut input = row.house.to_json();
        if let Some(id) = row.id {
            input.insert("Id".to_string(), serde_json::Value::from(id));
        }
        let id = uuid_from(&mut rng);
        let record = PredictionRecord {
            id: id.clone(),
            timestamp: rfc3339_micros(at),
            model_id: model.id.clone(),
            input: serde_json::Value::Object(input),
            imputed: prediction
                .report
                .imputed
                .iter()
                .map(|s| s.to_string())
                .collect(),
            unknown_levels: prediction.report.unknown_levels.clone(),
            out_of_range: prediction
                .report
                .out_of_range
                .iter()
                .map(|o| OutOfRange {
                    field: o.field.to_string(),
                    value: o.value,
                    range: o.range,
                })
                .collect(),
            price: prediction.price,
            interval: None,
            latency_us: 0,
            source_ip: None,
            source: Source::Simulated,
        };
        let body = serde_json::to_vec(&record).map_err(|e| MonitorError::Store(e.to_string()))?;
        store.put(&record_key(at, &id), body).await?;
        counts.records += 1;
        let sells = rng.unit() < SOLD_SHARE;
        let sold_on = day + time::Duration::days(3 + rng.below(40) as i64);
        if let (true, Some(price)) = (sells && sold_on <= plan.today, row.price) {
            let sale = Sale {
                prediction_id: id.clone(),
                house_id: row.id,
                sale_price: price,
                sold_on: day_string(sold_on),
                model_id: model.id.clone(),
                predicted_price: prediction.price,
                interval: Some([
                    prediction.price * interval.low_log.exp(),
                    prediction.price * interval.high_log.exp(),
                ]),
                predicted_at: record.timestamp.clone(),
                source: Source::Simulated,
            };
            let body = sale.to_bytes()?;
            store.put(&sale_key(&sale.sold_on, &id), body).await?;
            counts.sales += 1;
        }
    }
    Ok(counts)
}

/// Removes every simulated record and every sale of a simulated prediction (and the cached
/// summaries of the days they were in).
pub async fn clear(store: &dyn ObjectStore) -> Result<Counts, MonitorError> {
    let mut counts = Counts::default();
    for day in days::record_days(store).await? {
        let mut touched = false;
        for key in store
            .keys_in(&format!("{PREDICTIONS_PREFIX}dt={day}/"))
            .await?
        {
            let bytes = store.get(&key).await?;
            if StoredRecord::parse(&key, &bytes).is_ok_and(|r| r.source() == Source::Simulated) {
                store.delete(&key).await?;
                counts.records += 1;
                touched = true;
            }
        }
        if touched {
            days::forget(store, &day).await?;
        }
    }
    for partition in store.partitions_of(SALES_PREFIX).await? {
        for key in store.keys_in(&partition).await? {
            let bytes = store.get(&key).await?;
            if serde_json::from_slice::<predictor::sales::StoredSale>(&bytes)
                .is_ok_and(|s| s.joined.is_some_and(|j| j.source == Source::Simulated))
            {
                store.delete(&key).await?;
                counts.sales += 1;
            }
        }
    }
    Ok(counts)
}
