//! Imputation: every gap in a house is filled from statistics of the training rows only.
//!
//! The fitted [`Imputer`] is part of the model artifact; serving fills a request's missing
//! fields with exactly the values training used, and reports which fields it filled.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::house::{House, Value};
use crate::schema::{COLUMNS, Kind};
use crate::stats;

/// The code a "has none" value takes among a column's levels.
pub const NONE_CODE: &str = "NA";

/// Fitted fill values: one per column, plus lot frontage by neighbourhood.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Imputer {
    /// Fill value per column, keyed by Kaggle name.
    pub fills: BTreeMap<String, Fill>,
    /// Median `LotFrontage` per `Neighborhood`, the usual best guess for a missing frontage.
    pub lot_frontage_by_neighborhood: BTreeMap<String, f64>,
    #[serde(skip)]
    by_index: Vec<Fill>,
}

/// The value a gap in one column is filled with.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// A number (numeric columns: the training median).
    Number(f64),
    /// A level code (categorical columns: the training mode, `NA` for "none").
    Level(String),
}

/// A house with every gap filled: numbers for numeric and ordinal columns, codes for nominal ones.
#[derive(Debug, Clone)]
pub struct Filled<'a> {
    /// Numeric value, or the ordinal rank (0 = none, 1 = worst documented level …).
    pub numbers: [f64; 79],
    /// Level code of categorical columns (`NA` for none); empty for numeric ones.
    pub levels: [&'a str; 79],
}

/// Numeric columns that are 0 when the house lacks the part they measure.
const ZERO_WHEN_ABSENT: &[(&str, &str)] = &[
    ("BsmtFinSF1", "BsmtQual"),
    ("BsmtFinSF2", "BsmtQual"),
    ("BsmtUnfSF", "BsmtQual"),
    ("TotalBsmtSF", "BsmtQual"),
    ("BsmtFullBath", "BsmtQual"),
    ("BsmtHalfBath", "BsmtQual"),
    ("GarageCars", "GarageType"),
    ("GarageArea", "GarageType"),
    ("PoolArea", "PoolQC"),
    ("Fireplaces", "FireplaceQu"),
];

/// Ordinal rank of a level code: 0 for none, 1 for the worst documented level, and so on.
pub fn ordinal_rank(column_index: usize, code: &str) -> f64 {
    COLUMNS
        .get(column_index)
        .and_then(|c| c.level_rank(code))
        .map_or(0.0, |rank| rank as f64 + 1.0)
}

fn level_code(value: Value) -> Option<&'static str> {
    match value {
        Value::Level(code) => Some(code),
        Value::NoneLevel => Some(NONE_CODE),
        Value::Number(_) => None,
    }
}

fn index_of(name: &str) -> usize {
    COLUMNS.iter().position(|c| c.name == name).unwrap_or(0)
}

impl Imputer {
    /// Learns fill values from training houses.
    pub fn fit(houses: &[House]) -> Imputer {
        let rows: Vec<usize> = (0..houses.len()).collect();
        Imputer::fit_rows(houses, &rows)
    }

    /// Learns fill values from the training houses at `rows`.
    pub fn fit_rows(all: &[House], rows: &[usize]) -> Imputer {
        let houses = || rows.iter().map(|&i| &all[i]);
        let mut fills = BTreeMap::new();
        for (index, column) in COLUMNS.iter().enumerate() {
            let fill = match column.kind {
                Kind::Integer | Kind::Real => {
                    let values: Vec<f64> = houses()
                        .filter_map(|h| match h.get(index) {
                            Some(Value::Number(x)) => Some(x),
                            _ => None,
                        })
                        .collect();
                    let median = stats::median(&values).unwrap_or(0.0);
                    let median = if column.kind == Kind::Integer {
                        median.round()
                    } else {
                        median
                    };
                    Fill::Number(median)
                }
                Kind::Ordinal | Kind::Nominal => {
                    let codes = houses().filter_map(|h| h.get(index).and_then(level_code));
                    let fallback = column.levels.first().map_or(NONE_CODE, |l| l.code);
                    Fill::Level(stats::mode(codes).unwrap_or(fallback).to_string())
                }
            };
            fills.insert(column.name.to_string(), fill);
        }
        let neighborhood = index_of("Neighborhood");
        let frontage = index_of("LotFrontage");
        let mut by_neighborhood: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for house in houses() {
            if let (Some(Value::Level(n)), Some(Value::Number(f))) =
                (house.get(neighborhood), house.get(frontage))
            {
                by_neighborhood.entry(n.to_string()).or_default().push(f);
            }
        }
        let lot_frontage_by_neighborhood = by_neighborhood
            .into_iter()
            .filter_map(|(n, v)| stats::median(&v).map(|m| (n, m)))
            .collect();
        let mut imputer = Imputer {
            fills,
            lot_frontage_by_neighborhood,
            by_index: Vec::new(),
        };
        imputer.index();
        imputer
    }

    /// Rebuilds the per-index lookup after deserialising; fails on a column it does not know.
    pub fn index(&mut self) -> bool {
        let mut by_index = Vec::with_capacity(COLUMNS.len());
        for column in COLUMNS.iter() {
            match self.fills.get(column.name) {
                Some(fill) => by_index.push(fill.clone()),
                None => return false,
            }
        }
        self.by_index = by_index;
        true
    }

    /// Fills a house's gaps; `imputed` receives the names of the columns that were filled.
    pub fn fill<'a>(&'a self, house: &House, imputed: &mut Vec<&'static str>) -> Filled<'a> {
        let mut filled = Filled {
            numbers: [0.0; 79],
            levels: [""; 79],
        };
        // Categorical columns first: the numeric rules below look at them.
        for (index, column) in COLUMNS.iter().enumerate() {
            if !column.is_categorical() {
                continue;
            }
            let code: &'a str = match house.get(index).and_then(level_code) {
                Some(code) => code,
                None => {
                    imputed.push(column.name);
                    match self.by_index.get(index) {
                        Some(Fill::Level(code)) => code.as_str(),
                        _ => NONE_CODE,
                    }
                }
            };
            filled.levels[index] = code;
            if column.kind == Kind::Ordinal {
                filled.numbers[index] = ordinal_rank(index, code);
            }
        }
        for (index, column) in COLUMNS.iter().enumerate() {
            if column.is_categorical() {
                continue;
            }
            filled.numbers[index] = match house.get(index) {
                Some(Value::Number(x)) => x,
                _ => {
                    imputed.push(column.name);
                    self.numeric_fill(index, column.name, house, &filled)
                }
            };
        }
        filled
    }

    fn numeric_fill(&self, index: usize, name: &str, house: &House, filled: &Filled) -> f64 {
        if let Some((_, part)) = ZERO_WHEN_ABSENT.iter().find(|(n, _)| *n == name)
            && filled.levels[index_of(part)] == NONE_CODE
        {
            return 0.0;
        }
        if name == "MasVnrArea" && filled.levels[index_of("MasVnrType")] == "None" {
            return 0.0;
        }
        if name == "GarageYrBlt"
            && let Some(Value::Number(built)) = house.get(index_of("YearBuilt"))
        {
            return built;
        }
        if name == "LotFrontage"
            && let Some(median) = self
                .lot_frontage_by_neighborhood
                .get(filled.levels[index_of("Neighborhood")])
        {
            return *median;
        }
        match self.by_index.get(index) {
            Some(Fill::Number(x)) => *x,
            _ => 0.0,
        }
    }
}
