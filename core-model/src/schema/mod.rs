//! The typed schema of an Ames house.
//!
//! Training, serving, the input forms and validation all need to agree on
//! what a house is: which 79 explanatory columns exist, how each one is
//! typed, which categorical levels are documented (and in which order for
//! ordinal scales), what `NA` means, and which numeric ranges are plausible.
//! This module is that single definition, transcribed from Dean De Cock's
//! documentation of the Ames Housing data (`datasets/DataDocumentation.txt`).
//!
//! Every column carries both spellings of its name: the Kaggle one used by
//! `ames.csv` (`GrLivArea`) and De Cock's original one (`Gr Liv Area`).
//! Values that the real data spells differently from the documentation
//! (`NAmes` for `Names`, `C (all)` for `C`, ...) are mapped back to the
//! documented code through per-column aliases.
//!
//! The module is split by responsibility: this file holds the types, the lookup by name and
//! the level matching; `names` the loose and fuzzy name matching; `columns` the table of
//! the 79 columns, which is data only.

mod columns;
mod names;

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

pub use columns::COLUMNS;
pub use names::close_matches;

use names::loose_eq;

/// How a column's values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Whole numbers: counts, years, months, 1–10 ratings.
    Integer,
    /// Continuous measurements: areas, lengths, money.
    Real,
    /// Categorical with a documented worst-to-best order.
    Ordinal,
    /// Categorical without an order.
    Nominal,
}

/// One documented level of a categorical column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Level {
    /// Code as written in the documentation, e.g. `"TA"`.
    pub code: &'static str,
    /// Human-readable meaning, e.g. `"Average/Typical"`.
    pub label: &'static str,
}

/// One explanatory column.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Column {
    /// Kaggle name, e.g. `"GrLivArea"`, `"1stFlrSF"`, `"Exterior1st"`.
    pub name: &'static str,
    /// De Cock name exactly as in his tab-separated header, e.g. `"Gr Liv Area"`.
    pub decock: &'static str,
    /// How values are typed.
    pub kind: Kind,
    /// One-line description from the documentation.
    pub description: &'static str,
    /// Unit of a numeric column: `"sq ft"`, `"ft"`, `"year"`, `"month"`, `"$"`, `"count"`.
    pub unit: Option<&'static str>,
    /// Ordinal: worst first, best last, without the "none" level.
    /// Nominal: every documented level, without the "none" level.
    /// Empty for numeric columns.
    pub levels: &'static [Level],
    /// `(spelling seen in real data, documented code)` pairs.
    #[serde(skip)]
    pub aliases: &'static [(&'static str, &'static str)],
    /// Whether `NA` is documented as a real "none" level (no basement,
    /// no garage, ...) rather than an unknown value.
    pub na_means_none: bool,
    /// Smallest plausible value of a numeric column.
    pub min: Option<f64>,
    /// Largest plausible value of a numeric column.
    pub max: Option<f64>,
}

/// The fields that matter most to a price, in the order a form should ask for them.
pub const KEY_FIELDS: &[&str] = &[
    "Neighborhood",
    "OverallQual",
    "GrLivArea",
    "YearBuilt",
    "TotalBsmtSF",
    "GarageCars",
    "FullBath",
    "LotArea",
    "KitchenQual",
    "OverallCond",
    "YearRemodAdd",
    "BedroomAbvGr",
    "Fireplaces",
    "CentralAir",
];

/// Names the identifier column that is not explanatory.
pub const ID_COLUMN: &str = "Id";
/// Names the target column that is not explanatory.
pub const TARGET_COLUMN: &str = "SalePrice";
/// De Cock-only identifier columns dropped on input.
pub const DECOCK_ID_COLUMNS: &[&str] = &["Order", "PID"];

impl Column {
    /// Maps a raw categorical value (trimmed) to its documented code: exact
    /// code, then an alias, then ASCII-case-insensitive code match. Numeric
    /// codes also match by value (`"020"`, `"20.0"` → `"20"`). `None` when
    /// the value is not a documented level (including `NA` and empty).
    pub fn canonical_level(&self, raw: &str) -> Option<&'static str> {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        if let Some(level) = self.levels.iter().find(|l| l.code == raw) {
            return Some(level.code);
        }
        if let Some(&(_, code)) = self.aliases.iter().find(|(seen, _)| *seen == raw) {
            return Some(code);
        }
        if let Some(level) = self
            .levels
            .iter()
            .find(|l| l.code.eq_ignore_ascii_case(raw))
        {
            return Some(level.code);
        }
        if let Some(&(_, code)) = self
            .aliases
            .iter()
            .find(|(seen, _)| seen.eq_ignore_ascii_case(raw))
        {
            return Some(code);
        }
        numeric_level(self.levels, raw)
    }

    /// Position of an ordinal level in `levels` (0 = worst). Accepts
    /// anything [`Column::canonical_level`] accepts; `None` for
    /// non-ordinal columns and unknown levels.
    pub fn level_rank(&self, code: &str) -> Option<usize> {
        if self.kind != Kind::Ordinal {
            return None;
        }
        let code = self.canonical_level(code)?;
        self.levels.iter().position(|l| l.code == code)
    }

    /// Whether the column is categorical (Ordinal or Nominal).
    pub fn is_categorical(&self) -> bool {
        matches!(self.kind, Kind::Ordinal | Kind::Nominal)
    }
}

/// Matches a number written any way (`"020"`, `"20.0"`) against numeric codes.
fn numeric_level(levels: &'static [Level], raw: &str) -> Option<&'static str> {
    let value: f64 = raw.parse().ok()?;
    if !value.is_finite() || value.fract() != 0.0 {
        return None;
    }
    levels
        .iter()
        .find(|l| l.code.parse::<f64>().is_ok_and(|code| code == value))
        .map(|l| l.code)
}

/// Finds a column by Kaggle name or De Cock name (exact, then
/// ASCII-case-insensitive, then ignoring spaces and '/').
pub fn column(name: &str) -> Option<&'static Column> {
    column_index(name).map(|i| &COLUMNS[i])
}

/// Index of a column in [`COLUMNS`] (same lookup rules as [`column()`]).
/// Surrounding whitespace is ignored; the loosest rule also ignores `_`
/// and `-` (`"3-Ssn Porch"`, `"gr_liv_area"`).
pub fn column_index(name: &str) -> Option<usize> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    exact_names()
        .get(name)
        .copied()
        .or_else(|| {
            COLUMNS.iter().position(|c| {
                c.name.eq_ignore_ascii_case(name) || c.decock.eq_ignore_ascii_case(name)
            })
        })
        .or_else(|| {
            COLUMNS
                .iter()
                .position(|c| loose_eq(c.name, name) || loose_eq(c.decock, name))
        })
}

/// Every exact name (Kaggle and De Cock) → its column; the first column wins, as in a scan.
/// A request names up to 79 columns, so this lookup is on the serving hot path.
fn exact_names() -> &'static HashMap<&'static str, usize> {
    static NAMES: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = HashMap::with_capacity(2 * COLUMNS.len());
        for (i, c) in COLUMNS.iter().enumerate() {
            names.entry(c.name).or_insert(i);
            names.entry(c.decock).or_insert(i);
        }
        names
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_rules() {
        let i = column_index("GrLivArea");
        assert!(i.is_some());
        assert_eq!(column_index("Gr Liv Area"), i);
        assert_eq!(column_index("grlivarea"), i);
        assert_eq!(column_index("GR LIV AREA"), i);
        assert_eq!(column_index(" gr_liv_area "), i);
        assert_eq!(column_index("Year Remod/Add"), column_index("YearRemodAdd"));
        assert_eq!(column_index("yearremod add"), column_index("YearRemodAdd"));
        assert_eq!(column_index("3-Ssn Porch"), column_index("3SsnPorch"));
        assert_eq!(column("Exterior 1st").map(|c| c.name), Some("Exterior1st"));
        assert_eq!(column("BsmtFin SF 1").map(|c| c.name), Some("BsmtFinSF1"));
        for unknown in ["", "/", "Id", "SalePrice", "PID", "Order", "GrLivAreaX"] {
            assert!(column(unknown).is_none(), "{unknown}");
        }
    }

    #[test]
    fn canonical_levels() {
        let sub = column("MSSubClass").expect("MSSubClass");
        for raw in ["020", "20", "20.0", " 20 ", "2e1"] {
            assert_eq!(sub.canonical_level(raw), Some("20"), "{raw}");
        }
        assert_eq!(sub.canonical_level("190"), Some("190"));
        assert_eq!(sub.canonical_level("21"), None);
        assert_eq!(sub.canonical_level("20.5"), None);
        let hood = column("Neighborhood").expect("Neighborhood");
        assert_eq!(hood.canonical_level("NAmes"), Some("Names"));
        assert_eq!(hood.canonical_level("names"), Some("Names"));
        assert_eq!(hood.canonical_level("Nowhere"), None);
        let zoning = column("MSZoning").expect("MSZoning");
        assert_eq!(zoning.canonical_level("C (all)"), Some("C"));
        let sale = column("SaleType").expect("SaleType");
        assert_eq!(sale.canonical_level("WD "), Some("WD"));
        let exposure = column("BsmtExposure").expect("BsmtExposure");
        assert_eq!(exposure.canonical_level("No"), Some("No"));
        assert_eq!(exposure.canonical_level("NA"), None);
        assert_eq!(column("Alley").and_then(|c| c.canonical_level("NA")), None);
        assert_eq!(column("LotArea").and_then(|c| c.canonical_level("1")), None);
        let mas = column("MasVnrType").expect("MasVnrType");
        assert!(!mas.na_means_none);
        assert_eq!(mas.canonical_level("None"), Some("None"));
    }

    #[test]
    fn ordinal_ranks() {
        let kitchen = column("KitchenQual").expect("KitchenQual");
        let po = kitchen.level_rank("Po").expect("Po");
        let ex = kitchen.level_rank("Ex").expect("Ex");
        assert!(po < ex);
        assert_eq!(po, 0);
        assert_eq!(ex, kitchen.levels.len() - 1);
        let order = |name: &str| -> Vec<&str> {
            column(name)
                .map(|c| c.levels.iter().map(|l| l.code).collect())
                .unwrap_or_default()
        };
        assert_eq!(order("Fence"), ["MnWw", "GdWo", "MnPrv", "GdPrv"]);
        assert_eq!(
            order("Electrical"),
            ["Mix", "FuseP", "FuseF", "FuseA", "SBrkr"]
        );
        assert_eq!(
            order("Functional"),
            ["Sal", "Sev", "Maj2", "Maj1", "Mod", "Min2", "Min1", "Typ"]
        );
        assert_eq!(order("Utilities"), ["ELO", "NoSeWa", "NoSewr", "AllPub"]);
        assert_eq!(order("LotShape"), ["IR3", "IR2", "IR1", "Reg"]);
        assert_eq!(order("LandSlope"), ["Sev", "Mod", "Gtl"]);
        assert_eq!(order("PavedDrive"), ["N", "P", "Y"]);
        assert_eq!(order("GarageFinish"), ["Unf", "RFn", "Fin"]);
        assert_eq!(order("BsmtExposure"), ["No", "Mn", "Av", "Gd"]);
        assert_eq!(
            order("BsmtFinType1"),
            ["Unf", "LwQ", "Rec", "BLQ", "ALQ", "GLQ"]
        );
        assert_eq!(order("BsmtQual"), ["Po", "Fa", "TA", "Gd", "Ex"]);
        assert_eq!(
            column("Neighborhood").and_then(|c| c.level_rank("Names")),
            None
        );
        assert_eq!(column("FireplaceQu").and_then(|c| c.level_rank("NA")), None);
        let overall = column("OverallQual").expect("OverallQual");
        assert_eq!(
            (overall.kind, overall.min, overall.max),
            (Kind::Integer, Some(1.0), Some(10.0))
        );
    }

    #[test]
    fn types_are_serializable() {
        fn assert_serialize<T: Serialize + ?Sized>(_: &T) {}
        assert_serialize(&COLUMNS[..]);
        assert_serialize(&Kind::Ordinal);
    }
}
