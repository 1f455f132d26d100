//! Closed sales as they are stored (`sales/dt=<sold_on>/<key>.json`), written by `POST /sales`
//! and by `amesops sales import` alike, and the checks of `POST /sales`.
//!
//! The predictor's store only writes, so a sale posted to the router cannot be joined to its
//! prediction there: it is stored without the `joined` fields, and `amesops monitor` joins it
//! when it reads it (and reports the ids it cannot find).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, Month};

use crate::wire::{FieldProblem, Source};

/// Prefix of the stored sales.
pub const SALES_PREFIX: &str = "sales/";

/// A stored closed sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSale {
    /// The prediction this sale closes (absent when only the house `Id` was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_id: Option<String>,
    /// The house `Id`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub house_id: Option<i64>,
    /// The price it sold for, in dollars.
    pub sale_price: f64,
    /// `YYYY-MM-DD`.
    pub sold_on: String,
    /// The prediction it closes, when the writer could read the store (`sales import`).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub joined: Option<Joined>,
}

/// What a sale learns from the prediction it closes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Joined {
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
    pub source: Source,
}

impl StoredSale {
    /// The storage key: `sales/dt=<sold_on>/<prediction_id>.json`, or `house-<Id>.json` for a
    /// sale known by its house only.
    pub fn key(&self) -> String {
        let name = match (&self.prediction_id, self.house_id) {
            (Some(id), _) => id.clone(),
            (None, Some(house)) => format!("house-{house}"),
            (None, None) => "unknown".to_string(),
        };
        format!(
            "{}{name}.json",
            crate::record::partition(SALES_PREFIX, &self.sold_on)
        )
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_day(text: &str) -> Option<Date> {
    let mut parts = text.trim().splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// `YYYY-MM-DD`.
pub fn day_string(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Checks one posted sale (`{"prediction_id", "Id", "sale_price", "sold_on"}`), row `index`
/// of the request; every problem names `sales[index].<field>`.
pub fn check_posted(
    index: usize,
    row: &Value,
    today: Date,
) -> Result<StoredSale, Vec<FieldProblem>> {
    let mut problems: Vec<FieldProblem> = Vec::new();
    let push = |problems: &mut Vec<FieldProblem>, name: &str, problem: String| {
        let field = if name.is_empty() {
            format!("sales[{index}]")
        } else {
            format!("sales[{index}].{name}")
        };
        problems.push(FieldProblem { field, problem })
    };
    let Value::Object(object) = row else {
        push(&mut problems, "", format!("must be an object, got {row}"));
        return Err(problems);
    };
    let prediction_id = match object.get("prediction_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s))
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            Some(s.trim().to_string())
        }
        Some(other) => {
            push(
                &mut problems,
                "prediction_id",
                format!("must be a prediction id (letters, digits, '-'), got {other}"),
            );
            None
        }
    };
    let house_id = match object.get("Id") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(id) => Some(id),
            None => {
                push(
                    &mut problems,
                    "Id",
                    format!("must be a whole number, got {v}"),
                );
                None
            }
        },
    };
    if prediction_id.is_none() && house_id.is_none() && problems.is_empty() {
        push(
            &mut problems,
            "prediction_id",
            "no prediction_id and no Id: nothing to join the sale to".to_string(),
        );
    }
    let sale_price = match object.get("sale_price") {
        None | Some(Value::Null) => {
            push(&mut problems, "sale_price", "missing".to_string());
            None
        }
        Some(v) => match v.as_f64() {
            Some(p) if p.is_finite() && p > 0.0 => Some(p),
            Some(p) => {
                push(
                    &mut problems,
                    "sale_price",
                    format!("must be a positive amount, got {p}"),
                );
                None
            }
            None => {
                push(
                    &mut problems,
                    "sale_price",
                    format!("must be a number, got {v}"),
                );
                None
            }
        },
    };
    let sold_on = match object.get("sold_on") {
        None | Some(Value::Null) => {
            push(&mut problems, "sold_on", "missing".to_string());
            None
        }
        Some(Value::String(text)) => match parse_day(text) {
            Some(day) if day > today => {
                push(
                    &mut problems,
                    "sold_on",
                    format!(
                        "{} is in the future (today is {})",
                        day_string(day),
                        day_string(today)
                    ),
                );
                None
            }
            Some(day) => Some(day_string(day)),
            None => {
                push(
                    &mut problems,
                    "sold_on",
                    format!("{text:?} is not a date (YYYY-MM-DD)"),
                );
                None
            }
        },
        Some(other) => {
            push(
                &mut problems,
                "sold_on",
                format!("must be a date string YYYY-MM-DD, got {other}"),
            );
            None
        }
    };
    match (sale_price, sold_on) {
        (Some(sale_price), Some(sold_on)) if problems.is_empty() => Ok(StoredSale {
            prediction_id,
            house_id,
            sale_price,
            sold_on,
            joined: None,
        }),
        _ => Err(problems),
    }
}
