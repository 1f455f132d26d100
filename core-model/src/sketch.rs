//! Reference sketches for drift: what every input field (and the predicted price) looked like in
//! the training rows, small enough to live in the artifact, and the PSI of new values against it.
//!
//! A numeric field keeps its decile cut points (duplicates removed, so a mostly-zero field such
//! as `PoolArea` gets few bins); a categorical field keeps its levels with at least
//! [`MIN_LEVEL_SHARE`] of the present values, the rest pooled in one "other" bin (so a shift into
//! a rare level still shows). Each keeps the training counts per bin and its missing rate. A
//! value is missing when the field was not given or is `NA` — the same test on a training row as
//! on a served record, since both go through [`HouseBuilder`].
//!
//! PSI is computed over the present values, with half a count added to every bin on both sides
//! (so an empty bin does not make it infinite and a small sample is not over-read):
//! `p_i = (c_i + 0.5) / (n + 0.5 k)`, `PSI = Σ (a_i − e_i) ln(a_i / e_i)`. The missing rate is
//! compared on its own (`missing_rate_change`), so a client that omits a field is not mistaken
//! for a shift in its values.

use serde::{Deserialize, Serialize};

use crate::house::{House, HouseBuilder, Raw, Value};
use crate::schema::{self, COLUMNS, Kind};

/// Levels rarer than this share of present training values are pooled in the "other" bin.
pub const MIN_LEVEL_SHARE: f64 = 0.02;

/// The PSI above which a field is flagged as drifted.
pub const PSI_THRESHOLD: f64 = 0.2;

/// The name under which the predicted price is sketched.
pub const PRICE_FIELD: &str = "predicted_price";

/// How values of one field fall into bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Bins {
    /// Bin `i` holds values in `(edges[i-1], edges[i]]`; the last bin values above the last edge.
    Numeric {
        /// Ascending cut points.
        edges: Vec<f64>,
    },
    /// One bin per level, in this order, then one "other" bin.
    Levels {
        /// Level codes.
        levels: Vec<String>,
    },
}

impl Bins {
    /// Number of bins.
    pub fn len(&self) -> usize {
        match self {
            Bins::Numeric { edges } => edges.len() + 1,
            Bins::Levels { levels } => levels.len() + 1,
        }
    }

    /// Whether there are no bins (never: there is always one).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The bin of a number.
    pub fn number_bin(&self, x: f64) -> usize {
        match self {
            Bins::Numeric { edges } => edges.partition_point(|e| *e < x),
            Bins::Levels { levels } => levels.len(),
        }
    }

    /// The bin of a level code.
    pub fn level_bin(&self, code: &str) -> usize {
        match self {
            Bins::Levels { levels } => levels
                .iter()
                .position(|l| l == code)
                .unwrap_or(levels.len()),
            Bins::Numeric { edges } => edges.len(),
        }
    }

    /// The bin of a present value.
    pub fn value_bin(&self, value: Value) -> Option<usize> {
        match value {
            Value::Number(x) => Some(self.number_bin(x)),
            Value::Level(code) => Some(self.level_bin(code)),
            Value::NoneLevel => None,
        }
    }

    /// Human-readable bin labels (for reports and SQL).
    pub fn labels(&self) -> Vec<String> {
        match self {
            Bins::Numeric { edges } => {
                let mut out = Vec::with_capacity(edges.len() + 1);
                for (i, e) in edges.iter().enumerate() {
                    out.push(match i {
                        0 => format!("≤ {e}"),
                        _ => format!("({}, {e}]", edges[i - 1]),
                    });
                }
                out.push(match edges.last() {
                    Some(e) => format!("> {e}"),
                    None => "all".to_string(),
                });
                out
            }
            Bins::Levels { levels } => {
                let mut out = levels.clone();
                out.push("(other)".to_string());
                out
            }
        }
    }
}

/// Counts of one field over a set of houses, in the bins of its sketch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Houses counted (present or missing).
    pub rows: u64,
    /// Houses without a value.
    pub missing: u64,
    /// Present values per bin.
    pub bins: Vec<u64>,
}

impl Counts {
    /// Empty counts for `bins` bins.
    pub fn new(bins: usize) -> Self {
        Self {
            rows: 0,
            missing: 0,
            bins: vec![0; bins],
        }
    }

    /// Present values.
    pub fn present(&self) -> u64 {
        self.bins.iter().sum()
    }

    /// Missing share (0 when nothing was counted).
    pub fn missing_rate(&self) -> f64 {
        if self.rows == 0 {
            0.0
        } else {
            self.missing as f64 / self.rows as f64
        }
    }

    /// Adds another set of counts of the same bins.
    pub fn add(&mut self, other: &Counts) {
        self.rows += other.rows;
        self.missing += other.missing;
        if self.bins.len() < other.bins.len() {
            self.bins.resize(other.bins.len(), 0);
        }
        for (a, b) in self.bins.iter_mut().zip(&other.bins) {
            *a += b;
        }
    }

    /// Counts one value (`None` = missing).
    pub fn push(&mut self, bin: Option<usize>) {
        self.rows += 1;
        match bin {
            Some(i) if i < self.bins.len() => self.bins[i] += 1,
            _ => self.missing += 1,
        }
    }
}

/// The reference of one field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldSketch {
    /// Kaggle column name (or [`PRICE_FIELD`]).
    pub field: String,
    /// The bins.
    pub bins: Bins,
    /// Training counts in those bins.
    pub counts: Counts,
}

impl FieldSketch {
    /// Training missing rate.
    pub fn missing_rate(&self) -> f64 {
        self.counts.missing_rate()
    }
}

/// Every input field and the predicted price, as the training rows had them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceSketch {
    /// Training rows sketched.
    pub rows: u64,
    /// One per schema column, in schema order.
    pub fields: Vec<FieldSketch>,
    /// The model's own prices of the training rows.
    pub price: FieldSketch,
}

/// A field's value as drift sees it: `None` when missing (not given, or `NA`).
pub fn present(house: &House, index: usize) -> Option<Value> {
    match house.get(index) {
        Some(Value::NoneLevel) | None => None,
        value => value,
    }
}

/// A house from a stored request, every valid field kept (invalid ones count as missing).
pub fn house_from_input(object: &serde_json::Map<String, serde_json::Value>) -> House {
    let mut builder = HouseBuilder::new();
    for (name, value) in object {
        if name == schema::ID_COLUMN || name == schema::TARGET_COLUMN {
            continue;
        }
        let Some(index) = schema::column_index(name) else {
            continue;
        };
        let raw = match value {
            serde_json::Value::String(s) => Raw::Text(s),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(x) => Raw::Number(x),
                None => continue,
            },
            _ => Raw::Missing,
        };
        builder.column(index, name, raw);
    }
    builder.finish_imputing().0
}

fn numeric_bins(mut values: Vec<f64>) -> Bins {
    values.retain(|x| x.is_finite());
    values.sort_by(f64::total_cmp);
    let mut edges: Vec<f64> = Vec::new();
    if !values.is_empty() {
        for decile in 1..10 {
            let rank = ((decile as f64 / 10.0) * (values.len() - 1) as f64).round() as usize;
            let e = values[rank.min(values.len() - 1)];
            if edges.last().is_none_or(|last| e > *last) {
                edges.push(e);
            }
        }
        // The largest value gets no edge of its own: values above the last cut share a bin.
        if edges
            .last()
            .is_some_and(|last| *last >= values[values.len() - 1])
            && edges.len() > 1
        {
            edges.pop();
        }
    }
    Bins::Numeric { edges }
}

fn level_bins(codes: &[&str]) -> Bins {
    let mut tally: Vec<(String, usize)> = Vec::new();
    for code in codes {
        match tally.iter_mut().find(|(c, _)| c == code) {
            Some((_, n)) => *n += 1,
            None => tally.push(((*code).to_string(), 1)),
        }
    }
    let total = codes.len().max(1) as f64;
    let mut levels: Vec<String> = tally
        .into_iter()
        .filter(|(_, n)| *n as f64 / total >= MIN_LEVEL_SHARE)
        .map(|(c, _)| c)
        .collect();
    levels.sort();
    Bins::Levels { levels }
}

impl ReferenceSketch {
    /// Sketches `houses` and the model's `prices` of them (same order).
    pub fn build(houses: &[House], prices: &[f64]) -> ReferenceSketch {
        let fields = COLUMNS
            .iter()
            .enumerate()
            .map(|(index, column)| {
                let values: Vec<Value> = houses.iter().filter_map(|h| present(h, index)).collect();
                let bins = match column.kind {
                    Kind::Integer | Kind::Real => numeric_bins(
                        values
                            .iter()
                            .filter_map(|v| match v {
                                Value::Number(x) => Some(*x),
                                _ => None,
                            })
                            .collect(),
                    ),
                    Kind::Ordinal | Kind::Nominal => level_bins(
                        &values
                            .iter()
                            .filter_map(|v| match v {
                                Value::Level(code) => Some(*code),
                                _ => None,
                            })
                            .collect::<Vec<_>>(),
                    ),
                };
                let mut counts = Counts::new(bins.len());
                for house in houses {
                    counts.push(present(house, index).and_then(|v| bins.value_bin(v)));
                }
                FieldSketch {
                    field: column.name.to_string(),
                    bins,
                    counts,
                }
            })
            .collect();
        let bins = numeric_bins(prices.to_vec());
        let mut counts = Counts::new(bins.len());
        for p in prices {
            counts.push(p.is_finite().then(|| bins.number_bin(*p)));
        }
        ReferenceSketch {
            rows: houses.len() as u64,
            fields,
            price: FieldSketch {
                field: PRICE_FIELD.to_string(),
                bins,
                counts,
            },
        }
    }

    /// Empty counts for every field, then the price, in sketch order.
    pub fn empty_counts(&self) -> Vec<Counts> {
        self.fields
            .iter()
            .chain(std::iter::once(&self.price))
            .map(|f| Counts::new(f.bins.len()))
            .collect()
    }

    /// Adds one house and its predicted price to `counts` (from [`Self::empty_counts`]).
    pub fn count(&self, counts: &mut [Counts], house: &House, price: Option<f64>) {
        for (index, (field, c)) in self.fields.iter().zip(counts.iter_mut()).enumerate() {
            let column = schema::column_index(&field.field).unwrap_or(index);
            c.push(present(house, column).and_then(|v| field.bins.value_bin(v)));
        }
        if let Some(c) = counts.get_mut(self.fields.len()) {
            c.push(
                price
                    .filter(|p| p.is_finite())
                    .map(|p| self.price.bins.number_bin(p)),
            );
        }
    }

    /// A short content digest: summaries counted in these bins are kept under it.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        crate::digest::sha256_hex(&bytes)[..12].to_string()
    }

    /// The drift of every field (and the price) in `counts`, highest PSI first.
    pub fn drift(&self, counts: &[Counts]) -> Vec<FieldDrift> {
        let mut out: Vec<FieldDrift> = self
            .fields
            .iter()
            .chain(std::iter::once(&self.price))
            .zip(counts)
            .map(|(field, actual)| {
                let psi = psi(&field.counts.bins, &actual.bins);
                FieldDrift {
                    field: field.field.clone(),
                    psi,
                    missing_rate: actual.missing_rate(),
                    reference_missing_rate: field.missing_rate(),
                    missing_rate_change: if actual.rows == 0 {
                        0.0
                    } else {
                        actual.missing_rate() - field.missing_rate()
                    },
                    n: actual.present(),
                    flagged: psi > PSI_THRESHOLD,
                }
            })
            .collect();
        out.sort_by(|a, b| b.psi.total_cmp(&a.psi).then_with(|| a.field.cmp(&b.field)));
        out
    }
}

/// One field's drift over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDrift {
    /// Column name (or [`PRICE_FIELD`]).
    pub field: String,
    /// Population stability index of the present values against the training rows.
    pub psi: f64,
    /// Share of the window's records without a value.
    pub missing_rate: f64,
    /// The same share in the training rows.
    pub reference_missing_rate: f64,
    /// `missing_rate − reference_missing_rate`.
    pub missing_rate_change: f64,
    /// Present values in the window.
    pub n: u64,
    /// `psi > 0.2`.
    pub flagged: bool,
}

/// PSI of `actual` counts against `expected` counts (same bins), with half a count added to
/// every bin on both sides; 0 when either side has no values.
pub fn psi(expected: &[u64], actual: &[u64]) -> f64 {
    let k = expected.len().max(actual.len());
    let n_e: u64 = expected.iter().sum();
    let n_a: u64 = actual.iter().sum();
    if k == 0 || n_e == 0 || n_a == 0 {
        return 0.0;
    }
    let share = |c: u64, n: u64| (c as f64 + 0.5) / (n as f64 + 0.5 * k as f64);
    (0..k)
        .map(|i| {
            let e = share(expected.get(i).copied().unwrap_or(0), n_e);
            let a = share(actual.get(i).copied().unwrap_or(0), n_a);
            (a - e) * (a / e).ln()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_bins_use_deciles_without_duplicates() {
        let bins = numeric_bins((1..=100).map(f64::from).collect());
        let Bins::Numeric { edges } = &bins else {
            panic!("numeric")
        };
        assert_eq!(edges.len(), 9);
        assert_eq!(bins.number_bin(1.0), 0);
        assert_eq!(bins.number_bin(1000.0), 9);
        let zeros = numeric_bins([0.0; 95].iter().copied().chain([5.0; 5]).collect());
        assert_eq!(zeros, Bins::Numeric { edges: vec![0.0] });
    }

    #[test]
    fn psi_of_identical_counts_is_zero() {
        assert_eq!(psi(&[10, 20, 30], &[10, 20, 30]), 0.0);
        assert_eq!(psi(&[10, 20], &[0, 0]), 0.0);
    }
}
