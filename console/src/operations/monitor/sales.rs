//! Closed sales: `{prediction_id or house Id, sale_price, sold_on}`, validated, joined to the
//! prediction they close and stored beside the records under `sales/dt=<sold_on>/<id>.json`.
//!
//! A file is checked whole before anything is written: every bad row is reported with its line
//! and nothing is stored. The key is the prediction's id, so importing the same file again
//! rewrites the same objects with the same bytes (idempotent).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::Date;

use super::MonitorError;
use super::dates::{day_string, parse_day};
use super::days::{self, Brief, StoredRecord, key_id};
use crate::backend::store::{ObjectStore, PREDICTIONS_PREFIX};

pub use predictor::sales::SALES_PREFIX;
use predictor::sales::{Joined, StoredSale};

/// A closed sale, joined to the prediction it closes. It is stored as a
/// [`predictor::sales::StoredSale`] (the layout `POST /sales` writes too, without the join).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sale {
    /// The prediction this sale closes.
    pub prediction_id: String,
    /// The house `Id`, when known (from the file or the request).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_id: Option<i64>,
    /// The price it sold for, in dollars.
    pub sale_price: f64,
    /// `YYYY-MM-DD`.
    pub sold_on: String,
    /// The model that priced it.
    pub model_id: String,
    /// The price it gave.
    pub predicted_price: f64,
    /// The interval it gave (or the model's interval around its price), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    /// When it was priced (RFC 3339).
    pub predicted_at: String,
    /// The prediction's source (`api`, `simulated`).
    pub source: predictor::record::Source,
}

impl Sale {
    /// As stored.
    pub fn stored(&self) -> StoredSale {
        StoredSale {
            prediction_id: Some(self.prediction_id.clone()),
            house_id: self.house_id,
            sale_price: self.sale_price,
            sold_on: self.sold_on.clone(),
            joined: Some(Joined {
                model_id: self.model_id.clone(),
                predicted_price: self.predicted_price,
                interval: self.interval,
                predicted_at: self.predicted_at.clone(),
                source: self.source,
            }),
        }
    }

    /// A stored sale that carries its join (written by `sales import` or `simulate`).
    pub fn from_stored(stored: StoredSale) -> Option<Sale> {
        let joined = stored.joined?;
        Some(Sale {
            prediction_id: stored.prediction_id?,
            house_id: stored.house_id,
            sale_price: stored.sale_price,
            sold_on: stored.sold_on,
            model_id: joined.model_id,
            predicted_price: joined.predicted_price,
            interval: joined.interval,
            predicted_at: joined.predicted_at,
            source: joined.source,
        })
    }

    /// The stored bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, MonitorError> {
        serde_json::to_vec_pretty(&self.stored()).map_err(|e| MonitorError::Store(e.to_string()))
    }
}

/// The storage key of a sale.
pub fn sale_key(sold_on: &str, prediction_id: &str) -> String {
    format!("{SALES_PREFIX}dt={sold_on}/{prediction_id}.json")
}

/// One row of a sales file before the join.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleRow {
    /// Line in the file (header = 1).
    pub line: u64,
    /// `prediction_id`, when given.
    pub prediction_id: Option<String>,
    /// `Id`, when given.
    pub house_id: Option<i64>,
    /// `SalePrice`.
    pub sale_price: f64,
    /// `sold_on`.
    pub sold_on: Date,
}

/// A bad row: its line, the column at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowProblem {
    /// Line in the file (header = 1).
    pub line: u64,
    /// The column.
    pub field: String,
    /// What is wrong, in words.
    pub problem: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.problem)
    }
}

/// Parses a sales CSV (`prediction_id` and/or `Id`, `SalePrice`, `sold_on`), checking every
/// row against `today` (no future sales).
pub fn parse(bytes: &[u8], today: Date) -> Result<(Vec<SaleRow>, Vec<RowProblem>), MonitorError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes);
    let header = reader
        .headers()
        .map_err(|e| MonitorError::Input(format!("cannot read the header: {e}")))?
        .clone();
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let prediction = column("prediction_id");
    let house = column("Id");
    let (Some(price), Some(sold)) = (column("SalePrice"), column("sold_on")) else {
        return Err(MonitorError::Input(format!(
            "the header needs SalePrice and sold_on (and prediction_id or Id); it has: {}",
            header.iter().collect::<Vec<_>>().join(", ")
        )));
    };
    if prediction.is_none() && house.is_none() {
        return Err(MonitorError::Input(
            "the header needs a prediction_id or an Id column to join sales to predictions"
                .to_string(),
        ));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                problems.push(RowProblem {
                    line,
                    field: "row".to_string(),
                    problem: e.to_string(),
                });
                continue;
            }
        };
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).filter(|s| !s.is_empty());
        let mut bad = |field: &str, problem: String| {
            problems.push(RowProblem {
                line,
                field: field.to_string(),
                problem,
            })
        };
        let prediction_id = cell(prediction).map(str::to_string);
        let house_id = match cell(house) {
            None => None,
            Some(text) => match text.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    bad("Id", format!("{text:?} is not a whole number"));
                    continue;
                }
            },
        };
        if prediction_id.is_none() && house_id.is_none() {
            bad(
                "prediction_id",
                "no prediction_id and no Id: nothing to join the sale to".to_string(),
            );
            continue;
        }
        let sale_price = match cell(Some(price)).map(|t| (t, t.parse::<f64>())) {
            None => {
                bad("SalePrice", "missing".to_string());
                continue;
            }
            Some((text, Err(_))) => {
                bad("SalePrice", format!("{text:?} is not a number"));
                continue;
            }
            Some((_, Ok(p))) if !p.is_finite() || p <= 0.0 => {
                bad("SalePrice", format!("must be a positive amount, got {p}"));
                continue;
            }
            Some((_, Ok(p))) => p,
        };
        let sold_on = match cell(Some(sold)).map(|t| (t, parse_day(t))) {
            None => {
                bad("sold_on", "missing".to_string());
                continue;
            }
            Some((text, None)) => {
                bad("sold_on", format!("{text:?} is not a date (YYYY-MM-DD)"));
                continue;
            }
            Some((_, Some(d))) if d > today => {
                bad(
                    "sold_on",
                    format!(
                        "{} is in the future (today is {})",
                        day_string(d),
                        day_string(today)
                    ),
                );
                continue;
            }
            Some((_, Some(d))) => d,
        };
        rows.push(SaleRow {
            line,
            prediction_id,
            house_id,
            sale_price,
            sold_on,
        });
    }
    Ok((rows, problems))
}

/// The predictions sales can join: every record key by id, and the house indexes of the days.
pub struct Predictions<'a> {
    store: &'a dyn ObjectStore,
    today: Date,
    by_id: HashMap<String, String>,
    days: Vec<String>,
    houses: BTreeMap<String, BTreeMap<i64, Brief>>,
}

impl<'a> Predictions<'a> {
    /// Lists the store's record keys (no record is read).
    pub async fn list(store: &'a dyn ObjectStore, today: Date) -> Result<Self, MonitorError> {
        let days = days::record_days(store).await?;
        let mut by_id = HashMap::new();
        for day in &days {
            for key in store
                .keys_in(&format!("{PREDICTIONS_PREFIX}dt={day}/"))
                .await?
            {
                if let Some(id) = key_id(&key) {
                    by_id.insert(id.to_string(), key.clone());
                }
            }
        }
        Ok(Self {
            store,
            today,
            by_id,
            days,
            houses: BTreeMap::new(),
        })
    }

    /// The stored record of the prediction with this id, as JSON.
    pub async fn record(&self, id: &str) -> Result<Option<serde_json::Value>, MonitorError> {
        let Some(key) = self.by_id.get(id) else {
            return Ok(None);
        };
        let bytes = self.store.get(key).await?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| MonitorError::Store(format!("{key}: not a record: {e}")))
    }

    /// The prediction with this id.
    pub async fn by_id(&self, id: &str) -> Result<Option<Brief>, MonitorError> {
        let Some(key) = self.by_id.get(id) else {
            return Ok(None);
        };
        let bytes = self.store.get(key).await?;
        Ok(Some(StoredRecord::parse(key, &bytes)?.brief(key)))
    }

    /// The newest prediction of house `id` made on or before `day`; when the house was only
    /// priced after it (a sale entered late, priced for the record), the first prediction
    /// after it.
    pub async fn by_house(&mut self, id: i64, day: Date) -> Result<Option<Brief>, MonitorError> {
        let last = day_string(day);
        let (before, after): (Vec<String>, Vec<String>) =
            self.days.iter().cloned().partition(|d| *d <= last);
        // `days` is newest first: before the sale newest first, after it oldest first.
        for d in before.into_iter().chain(after.into_iter().rev()) {
            if let Some(brief) = self.house_on(&d, id).await? {
                return Ok(Some(brief));
            }
        }
        Ok(None)
    }

    async fn house_on(&mut self, day: &str, id: i64) -> Result<Option<Brief>, MonitorError> {
        if !self.houses.contains_key(day) {
            let today = day_string(self.today);
            let keys = days::day_keys(self.store, day).await?;
            let index = days::houses(self.store, &keys, day < today.as_str()).await?;
            self.houses.insert(day.to_string(), index.houses);
        }
        Ok(self.houses.get(day).and_then(|h| h.get(&id)).cloned())
    }
}

/// Joins one row: by prediction id when given, else by house `Id` (the newest prediction of
/// that house on or before the sale, else the first one after it).
pub async fn join(row: &SaleRow, predictions: &mut Predictions<'_>) -> Result<Brief, RowProblem> {
    let problem = |field: &str, problem: String| RowProblem {
        line: row.line,
        field: field.to_string(),
        problem,
    };
    let store_problem = |e: MonitorError| problem("row", e.to_string());
    if let Some(id) = &row.prediction_id {
        return match predictions.by_id(id).await.map_err(store_problem)? {
            Some(brief) => Ok(brief),
            None => Err(problem(
                "prediction_id",
                format!("unknown prediction id {id:?}: no such record in the store"),
            )),
        };
    }
    let Some(house) = row.house_id else {
        return Err(problem("prediction_id", "no id to join on".to_string()));
    };
    match predictions
        .by_house(house, row.sold_on)
        .await
        .map_err(store_problem)?
    {
        Some(brief) => Ok(brief),
        None => Err(problem(
            "Id",
            format!("no prediction of house Id {house} in the store"),
        )),
    }
}

/// The interval to judge coverage by: the record's own, else the model's interval around the
/// record's price (`interval` = the `[low_log, high_log]` offsets of the model that priced it).
pub fn sale_of(row: &SaleRow, brief: &Brief, interval: Option<[f64; 2]>) -> Sale {
    Sale {
        prediction_id: brief.id.clone(),
        house_id: row.house_id.or(brief.house_id),
        sale_price: row.sale_price,
        sold_on: day_string(row.sold_on),
        model_id: brief.model_id.clone(),
        predicted_price: brief.price,
        interval: brief
            .interval
            .or(interval.map(|[low, high]| [brief.price * low.exp(), brief.price * high.exp()])),
        predicted_at: brief.timestamp.clone(),
        source: brief.source,
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Imported {
    /// Sales stored (or rewritten unchanged).
    pub stored: usize,
    /// Of those, already stored with the same content.
    pub unchanged: usize,
    /// Rows refused (nothing was written when this is not empty).
    pub problems: Vec<RowProblem>,
}

/// Interval offsets per model id (`[low_log, high_log]`), for records that do not carry theirs.
pub type Intervals = HashMap<String, [f64; 2]>;

/// Validates, joins and stores a sales file; writes nothing when any row is bad.
pub async fn import(
    store: &dyn ObjectStore,
    bytes: &[u8],
    today: Date,
    intervals: &Intervals,
) -> Result<Imported, MonitorError> {
    let (rows, mut problems) = parse(bytes, today)?;
    let mut predictions = Predictions::list(store, today).await?;
    let mut sales: BTreeMap<String, (u64, Sale)> = BTreeMap::new();
    for row in &rows {
        match join(row, &mut predictions).await {
            Ok(brief) => {
                let sale = sale_of(row, &brief, intervals.get(&brief.model_id).copied());
                let key = sale_key(&sale.sold_on, &sale.prediction_id);
                match sales.get(&key) {
                    Some((line, known)) if known.sale_price != sale.sale_price => {
                        problems.push(RowProblem {
                            line: row.line,
                            field: "SalePrice".to_string(),
                            problem: format!(
                                "the same sale as line {line} with another price ({} ≠ {})",
                                sale.sale_price, known.sale_price
                            ),
                        })
                    }
                    _ => {
                        sales.insert(key, (row.line, sale));
                    }
                }
            }
            Err(problem) => problems.push(problem),
        }
    }
    problems.sort_by_key(|p| p.line);
    if !problems.is_empty() {
        return Ok(Imported {
            stored: 0,
            unchanged: 0,
            problems,
        });
    }
    let mut imported = Imported::default();
    for (key, (_, sale)) in sales {
        let body = sale.to_bytes()?;
        if store.get(&key).await.ok().as_deref() == Some(body.as_slice()) {
            imported.unchanged += 1;
        } else {
            store.put(&key, body).await?;
        }
        imported.stored += 1;
    }
    Ok(imported)
}

/// The stored sales sold on or after `from`, oldest first, and those that could not be joined.
#[derive(Debug, Default)]
pub struct StoredSales {
    /// Joined sales.
    pub sales: Vec<Sale>,
    /// Sales posted to `POST /sales` (stored without their join) whose prediction id or house
    /// `Id` names no record in the store: their keys.
    pub unjoined: Vec<String>,
}

/// Every stored sale sold on or after `from`, oldest first; sales stored without their join
/// (`POST /sales`) are joined here, by prediction id else by house `Id`.
pub async fn sales_since(
    store: &dyn ObjectStore,
    from: Date,
    today: Date,
) -> Result<StoredSales, MonitorError> {
    let from = day_string(from);
    let mut out = StoredSales::default();
    let mut predictions: Option<Predictions<'_>> = None;
    let mut partitions = store.partitions_of(SALES_PREFIX).await?;
    partitions.reverse();
    for partition in partitions {
        if days::partition_day(&partition).is_none_or(|d| d < from.as_str()) {
            continue;
        }
        for key in store.keys_in(&partition).await? {
            if !key.ends_with(".json") {
                continue;
            }
            let bytes = store.get(&key).await?;
            let stored: StoredSale = serde_json::from_slice(&bytes)
                .map_err(|e| MonitorError::Store(format!("{key}: not a sale: {e}")))?;
            if stored.joined.is_some() {
                if let Some(sale) = Sale::from_stored(stored) {
                    out.sales.push(sale);
                }
                continue;
            }
            let Some(sold_on) = parse_day(&stored.sold_on) else {
                out.unjoined.push(key);
                continue;
            };
            if predictions.is_none() {
                predictions = Some(Predictions::list(store, today).await?);
            }
            let Some(predictions) = predictions.as_mut() else {
                continue;
            };
            let row = SaleRow {
                line: 0,
                prediction_id: stored.prediction_id.clone(),
                house_id: stored.house_id,
                sale_price: stored.sale_price,
                sold_on,
            };
            match join(&row, predictions).await {
                Ok(brief) => out.sales.push(sale_of(&row, &brief, None)),
                Err(_) => out.unjoined.push(key),
            }
        }
    }
    Ok(out)
}

/// Closed sales as training rows (`fetch.include_sales`).
#[derive(Debug, Default)]
pub struct TrainingRows {
    /// One row per sale: the house of the prediction it closes, sold in the sale's year and
    /// month, at the sale's price.
    pub rows: Vec<core_model::dataset::Record>,
    /// Sales left out, each with why.
    pub left_out: Vec<String>,
}

/// Every stored sale as a training row: the house features are the `input` of the record the
/// sale closes, `YrSold`/`MoSold` come from `sold_on` and `SalePrice` is the sale price.
/// Simulated sales are left out (they replay the held-out rows of the data itself).
pub async fn training_rows(
    store: &dyn ObjectStore,
    today: Date,
) -> Result<TrainingRows, MonitorError> {
    let all = sales_since(store, Date::MIN, today).await?;
    let mut out = TrainingRows::default();
    for key in all.unjoined {
        out.left_out
            .push(format!("{key}: names no prediction in the store"));
    }
    let predictions = Predictions::list(store, today).await?;
    for sale in all.sales {
        let key = sale_key(&sale.sold_on, &sale.prediction_id);
        if sale.source == predictor::record::Source::Simulated {
            out.left_out.push(format!(
                "{key}: simulated (a held-out row of the data itself)"
            ));
            continue;
        }
        let Some(record) = predictions.record(&sale.prediction_id).await? else {
            out.left_out.push(format!(
                "{key}: the record of prediction {} is gone",
                sale.prediction_id
            ));
            continue;
        };
        let Some(serde_json::Value::Object(mut input)) = record.get("input").cloned() else {
            out.left_out
                .push(format!("{key}: the record has no house input"));
            continue;
        };
        let Some(sold) = parse_day(&sale.sold_on) else {
            out.left_out.push(format!("{key}: sold_on is not a date"));
            continue;
        };
        let id = sale
            .house_id
            .or_else(|| input.get("Id").and_then(serde_json::Value::as_i64));
        input.remove("Id");
        input.remove("SalePrice");
        input.insert("YrSold".to_string(), sold.year().into());
        input.insert("MoSold".to_string(), u8::from(sold.month()).into());
        match core_model::house::house_from_json(&input) {
            Ok(house) => out.rows.push(core_model::dataset::Record {
                line: 0,
                id,
                house,
                price: Some(sale.sale_price),
            }),
            Err(errors) => out.left_out.push(format!(
                "{key}: the house does not validate: {}",
                errors
                    .iter()
                    .map(|e| e.field.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    Ok(out)
}
