//! Comparable sales: the training sales most like a house, as an appraiser would pick them.
//!
//! Similarity is the Euclidean distance over [`KEY_FIELDS`], each standardised by its mean and
//! standard deviation over the training sales (areas on a log scale first, so 200 sq ft matter
//! more in a small house than in a large one). Values are taken after filling gaps and before
//! clipping, so a house beyond the training range is far from every sale. When the house's
//! neighbourhood has at least [`MIN_SAME_NEIGHBORHOOD`] sales, the comparables are its nearest
//! sales in that neighbourhood; otherwise the nearest anywhere.
//!
//! Each comparable's price is adjusted to the house by the model: `model price of the house ×
//! sale price / model price of the comparable`, i.e. the comparable's sale price corrected by
//! the model's view of how the two houses differ. The rows live in the artifact (id, sale
//! price, month, neighbourhood, key fields, the final model's price), so serving needs nothing
//! else.

use serde::{Deserialize, Serialize};

use crate::fill::Filled;
use crate::schema;

/// The fields similarity is measured on, and whether each is compared on a log scale.
pub const KEY_FIELDS: [(&str, bool); 10] = [
    ("GrLivArea", true),
    ("TotalBsmtSF", true),
    ("LotArea", true),
    ("OverallQual", false),
    ("OverallCond", false),
    ("YearBuilt", false),
    ("YearRemodAdd", false),
    ("GarageCars", false),
    ("FullBath", false),
    ("BedroomAbvGr", false),
];

/// Number of key fields.
const KEY: usize = KEY_FIELDS.len();

/// Number of comparables returned.
pub const COMPARABLES: usize = 5;

/// Sales a neighbourhood needs for its comparables to come from it alone.
pub const MIN_SAME_NEIGHBORHOOD: usize = 5;

/// Most training sales kept in the artifact (evenly spread over the training rows), so the
/// artifact and the search stay small on large training sets.
pub const MAX_ROWS: usize = 5000;

/// One training sale as stored in the artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparableRow {
    /// The row's `Id` in the training data.
    pub id: i64,
    /// Its recorded sale price.
    pub sale_price: f64,
    /// Month of sale, `YYYY-MM`.
    pub sold: String,
    /// Neighbourhood code.
    pub neighborhood: String,
    /// The key fields, in [`ComparableTable::fields`] order.
    pub values: Vec<f64>,
    /// The final model's price of this sale.
    pub model_price: f64,
}

/// A comparable sale in a reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparable {
    /// The sale's `Id` in the training data.
    pub id: i64,
    /// Its recorded sale price.
    pub sale_price: f64,
    /// Month of sale, `YYYY-MM`.
    pub sold: String,
    /// Neighbourhood code.
    pub neighborhood: String,
    /// Its key fields (`GrLivArea`, `OverallQual`, …).
    #[serde(flatten)]
    pub fields: KeyFields,
    /// Distance to the house over the standardised key fields (0 = identical).
    pub distance: f64,
    /// Its sale price adjusted to the house by the model.
    pub adjusted_price: f64,
}

/// The key fields of a comparable, under their Kaggle names, in [`KEY_FIELDS`] order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[allow(non_snake_case)]
pub struct KeyFields {
    /// Above-grade living area, sq ft.
    pub GrLivArea: f64,
    /// Basement area, sq ft.
    pub TotalBsmtSF: f64,
    /// Lot area, sq ft.
    pub LotArea: f64,
    /// Overall quality, 1–10.
    pub OverallQual: f64,
    /// Overall condition, 1–10.
    pub OverallCond: f64,
    /// Year built.
    pub YearBuilt: f64,
    /// Year of the last remodel.
    pub YearRemodAdd: f64,
    /// Garage size in cars.
    pub GarageCars: f64,
    /// Full bathrooms above grade.
    pub FullBath: f64,
    /// Bedrooms above grade.
    pub BedroomAbvGr: f64,
}

impl KeyFields {
    /// From values in [`KEY_FIELDS`] order (missing ones 0).
    pub fn from_values(v: &[f64]) -> KeyFields {
        let at = |i: usize| v.get(i).copied().unwrap_or(0.0);
        KeyFields {
            GrLivArea: at(0),
            TotalBsmtSF: at(1),
            LotArea: at(2),
            OverallQual: at(3),
            OverallCond: at(4),
            YearBuilt: at(5),
            YearRemodAdd: at(6),
            GarageCars: at(7),
            FullBath: at(8),
            BedroomAbvGr: at(9),
        }
    }
}

/// The training sales and how to compare a house with them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparableTable {
    /// The key fields, in order.
    pub fields: Vec<String>,
    /// Mean of each (log-scaled) key field over the rows.
    pub center: Vec<f64>,
    /// Standard deviation of each (log-scaled) key field over the rows.
    pub scale: Vec<f64>,
    /// The sales.
    pub rows: Vec<ComparableRow>,
    /// Schema index and log flag of each key field.
    #[serde(skip)]
    columns: Vec<(usize, bool)>,
    /// Standardised key fields, row-major.
    #[serde(skip)]
    points: Vec<f64>,
    /// Neighbourhood of each row, as an index into `neighborhoods`.
    #[serde(skip)]
    row_neighborhood: Vec<u16>,
    /// Distinct neighbourhoods with their number of rows.
    #[serde(skip)]
    neighborhoods: Vec<(String, usize)>,
}

/// The nearest rows to a house: overall, and within its neighbourhood.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Neighbours {
    /// The nearest rows anywhere: (distance, row), nearest first.
    pub nearest: Vec<(f64, u32)>,
    /// The nearest rows in the house's neighbourhood.
    pub same: Vec<(f64, u32)>,
    /// Rows in the house's neighbourhood.
    pub same_count: usize,
}

impl Neighbours {
    /// The rows to show: the neighbourhood's when it has enough sales, else the nearest.
    pub fn chosen(&self) -> &[(f64, u32)] {
        if self.same_count >= MIN_SAME_NEIGHBORHOOD {
            &self.same
        } else {
            &self.nearest
        }
    }

    /// Mean distance to the nearest rows anywhere: how unlike the training sales the house is.
    pub fn mean_distance(&self) -> f64 {
        if self.nearest.is_empty() {
            return 0.0;
        }
        self.nearest.iter().map(|(d, _)| d).sum::<f64>() / self.nearest.len() as f64
    }
}

fn transform(x: f64, log: bool) -> f64 {
    if log { x.max(0.0).ln_1p() } else { x }
}

/// Keeps the `k` smallest (distance, row) pairs, nearest first.
fn offer(best: &mut Vec<(f64, u32)>, k: usize, d2: f64, row: u32) {
    if best.len() == k && best.last().is_some_and(|(worst, _)| d2 >= *worst) {
        return;
    }
    let at = best.partition_point(|(d, _)| *d <= d2);
    if best.len() == k {
        best.pop();
    }
    best.insert(at, (d2, row));
}

impl ComparableTable {
    /// A table of these rows, standardised on them.
    pub fn new(rows: Vec<ComparableRow>) -> Result<ComparableTable, String> {
        let k = KEY_FIELDS.len();
        let n = rows.len().max(1) as f64;
        let mut center = vec![0.0; k];
        let mut scale = vec![0.0; k];
        for (j, (_, log)) in KEY_FIELDS.iter().enumerate() {
            let values = || rows.iter().map(|r| transform(r.values[j], *log));
            let mean = values().sum::<f64>() / n;
            let var = values().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            center[j] = mean;
            scale[j] = if var > 0.0 { var.sqrt() } else { 1.0 };
        }
        let mut table = ComparableTable {
            fields: KEY_FIELDS.iter().map(|(f, _)| f.to_string()).collect(),
            center,
            scale,
            rows,
            columns: Vec::new(),
            points: Vec::new(),
            row_neighborhood: Vec::new(),
            neighborhoods: Vec::new(),
        };
        table.prepare()?;
        Ok(table)
    }

    /// Resolves the fields and standardises the rows; call after deserialising.
    pub fn prepare(&mut self) -> Result<(), String> {
        let k = self.fields.len();
        if self
            .fields
            .iter()
            .map(String::as_str)
            .ne(KEY_FIELDS.iter().map(|(f, _)| *f))
        {
            return Err(format!(
                "the comparables' fields {:?} are not this build's key fields",
                self.fields
            ));
        }
        if self.center.len() != k || self.scale.len() != k {
            return Err("the comparables' centre and scale do not match their fields".to_string());
        }
        self.columns = self
            .fields
            .iter()
            .map(|name| {
                let index = schema::column_index(name)
                    .ok_or_else(|| format!("the comparables refer to unknown column {name:?}"))?;
                let log = KEY_FIELDS.iter().any(|(f, log)| f == name && *log);
                Ok((index, log))
            })
            .collect::<Result<_, String>>()?;
        self.points = Vec::with_capacity(self.rows.len() * k);
        self.row_neighborhood = Vec::with_capacity(self.rows.len());
        self.neighborhoods.clear();
        for row in &self.rows {
            if row.values.len() != k {
                return Err(format!(
                    "comparable {} has the wrong number of fields",
                    row.id
                ));
            }
            for (j, &(_, log)) in self.columns.iter().enumerate() {
                self.points
                    .push((transform(row.values[j], log) - self.center[j]) / self.scale[j]);
            }
            let slot = match self
                .neighborhoods
                .iter()
                .position(|(n, _)| *n == row.neighborhood)
            {
                Some(slot) => slot,
                None => {
                    self.neighborhoods.push((row.neighborhood.clone(), 0));
                    self.neighborhoods.len() - 1
                }
            };
            self.neighborhoods[slot].1 += 1;
            self.row_neighborhood.push(slot as u16);
        }
        Ok(())
    }

    /// The standardised key fields of a filled house, into `out`.
    pub fn key_of(&self, filled: &Filled, out: &mut Vec<f64>) {
        out.clear();
        for (j, &(index, log)) in self.columns.iter().enumerate() {
            out.push((transform(filled.numbers[index], log) - self.center[j]) / self.scale[j]);
        }
    }

    /// The nearest rows to a standardised house, leaving out row `exclude` (a training row
    /// measured against the others).
    pub fn search(&self, key: &[f64], neighborhood: &str, exclude: Option<usize>) -> Neighbours {
        let k = self.fields.len();
        let slot = self
            .neighborhoods
            .iter()
            .position(|(n, _)| n == neighborhood);
        let mut nearest = Vec::with_capacity(COMPARABLES + 1);
        let mut same = Vec::with_capacity(COMPARABLES + 1);
        let mut same_count = slot.map_or(0, |s| self.neighborhoods[s].1);
        let mut query = [0.0; KEY];
        for (q, x) in query.iter_mut().zip(key) {
            *q = *x;
        }
        debug_assert_eq!(k, KEY);
        for (r, point) in self.points.chunks_exact(KEY).enumerate() {
            if Some(r) == exclude {
                if slot == Some(self.row_neighborhood[r] as usize) {
                    same_count -= 1;
                }
                continue;
            }
            let d2: f64 = point
                .iter()
                .zip(&query)
                .map(|(a, b)| (a - b) * (a - b))
                .sum();
            offer(&mut nearest, COMPARABLES, d2, r as u32);
            if slot == Some(self.row_neighborhood[r] as usize) {
                offer(&mut same, COMPARABLES, d2, r as u32);
            }
        }
        for list in [&mut nearest, &mut same] {
            for (d, _) in list.iter_mut() {
                *d = d.sqrt();
            }
        }
        Neighbours {
            nearest,
            same,
            same_count,
        }
    }

    /// The comparables to show for a house the model prices at `price`.
    pub fn comparables(&self, neighbours: &Neighbours, price: f64) -> Vec<Comparable> {
        // Sales tied on the key fields are told apart by how close the model prices them to
        // this house: a house identical to a training row then lists that row first.
        let mut chosen = neighbours.chosen().to_vec();
        let gap = |r: u32| (self.rows[r as usize].model_price.ln() - price.ln()).abs();
        chosen.sort_by(|a, b| a.0.total_cmp(&b.0).then(gap(a.1).total_cmp(&gap(b.1))));
        chosen
            .iter()
            .map(|&(distance, r)| {
                let row = &self.rows[r as usize];
                Comparable {
                    id: row.id,
                    sale_price: row.sale_price,
                    sold: row.sold.clone(),
                    neighborhood: row.neighborhood.clone(),
                    fields: KeyFields::from_values(&row.values),
                    distance,
                    adjusted_price: price * row.sale_price / row.model_price,
                }
            })
            .collect()
    }

    /// The key fields of a filled house, unstandardised, in [`ComparableTable::fields`] order.
    pub fn raw_values(filled: &Filled) -> Vec<f64> {
        KEY_FIELDS
            .iter()
            .map(|(name, _)| schema::column_index(name).map_or(0.0, |i| filled.numbers[i]))
            .collect()
    }
}
