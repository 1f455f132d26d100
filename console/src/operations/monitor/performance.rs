//! Realized performance: each model's error on the sales that closed its predictions, per ISO
//! week of the sale.
//!
//! `rmse_log` = √mean((ln p − ln a)²); `mae` = mean |p − a| (dollars); `mape` = 100 · mean
//! |p − a| / a (percent, as in training metrics); `coverage` = share of sales inside the
//! prediction's interval (null when no sale of the week has one); `bias` = mean (p − a)
//! (dollars: positive means the model priced too high).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::dates::{day_string, iso_week, parse_day, week_start};
use super::sales::Sale;

/// One model's figures for one week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeekPerformance {
    /// The model that priced the houses.
    pub model_id: String,
    /// ISO week of the sales, `2026-W48`.
    pub week: String,
    /// Its Monday.
    pub week_start: String,
    /// Sales.
    pub n: usize,
    /// RMSE of ln price.
    pub rmse_log: f64,
    /// Mean absolute error, dollars.
    pub mae: f64,
    /// Mean absolute percentage error, percent.
    pub mape: f64,
    /// Share of sale prices inside the interval.
    pub coverage: Option<f64>,
    /// Mean of predicted − actual, dollars.
    pub bias: f64,
    /// Whether this model is the one in production.
    pub production: bool,
}

/// Per model and week, oldest week first, then by model id.
pub fn per_week(sales: &[Sale], production: Option<&str>) -> Vec<WeekPerformance> {
    let mut groups: BTreeMap<(String, String), Vec<&Sale>> = BTreeMap::new();
    for sale in sales {
        let Some(day) = parse_day(&sale.sold_on) else {
            continue;
        };
        groups
            .entry((day_string(week_start(day)), sale.model_id.clone()))
            .or_default()
            .push(sale);
    }
    groups
        .into_iter()
        .map(|((start, model_id), sales)| {
            let n = sales.len();
            let nf = n as f64;
            let mean = |f: &dyn Fn(&Sale) -> f64| sales.iter().map(|s| f(s)).sum::<f64>() / nf;
            let with_interval: Vec<bool> = sales
                .iter()
                .filter_map(|s| {
                    s.interval
                        .map(|[low, high]| s.sale_price >= low && s.sale_price <= high)
                })
                .collect();
            let coverage = (!with_interval.is_empty()).then(|| {
                with_interval.iter().filter(|x| **x).count() as f64 / with_interval.len() as f64
            });
            WeekPerformance {
                week: parse_day(&start).map(iso_week).unwrap_or_default(),
                week_start: start,
                production: production == Some(model_id.as_str()),
                model_id,
                n,
                rmse_log: mean(&|s| (s.predicted_price.ln() - s.sale_price.ln()).powi(2)).sqrt(),
                mae: mean(&|s| (s.predicted_price - s.sale_price).abs()),
                mape: 100.0 * mean(&|s| ((s.predicted_price - s.sale_price) / s.sale_price).abs()),
                coverage,
                bias: mean(&|s| s.predicted_price - s.sale_price),
            }
        })
        .collect()
}
