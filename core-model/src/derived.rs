//! Engineered features: combinations of columns that price a house better than its parts.

use serde::{Deserialize, Serialize};

use crate::fill::Filled;
use crate::schema::COLUMNS;

/// One engineered feature, computed from a filled house.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Derived {
    /// Basement plus first and second floor area.
    TotalSf,
    /// Full baths plus half a bath per half bath, above grade and in the basement.
    TotalBaths,
    /// Open, enclosed, three-season and screen porch plus wood deck area.
    TotalPorchSf,
    /// Years from construction to sale.
    HouseAge,
    /// Years from the last remodel to sale.
    RemodAge,
    /// Overall quality times above-grade living area: size is worth more in a better house.
    QualLivArea,
    /// Overall quality times overall condition.
    QualCond,
    /// The house has a second floor.
    HasSecondFloor,
    /// The house has a garage.
    HasGarage,
    /// The house has a basement.
    HasBasement,
    /// The house has a fireplace.
    HasFireplace,
    /// The house has a pool.
    HasPool,
    /// The house was remodelled after it was built.
    Remodeled,
    /// Sold in the year it was built (often a partial sale of a new home).
    NewHouse,
}

impl Derived {
    /// Every engineered feature, in the order the pipeline adds them.
    pub const ALL: [Derived; 14] = [
        Derived::TotalSf,
        Derived::TotalBaths,
        Derived::TotalPorchSf,
        Derived::HouseAge,
        Derived::RemodAge,
        Derived::QualLivArea,
        Derived::QualCond,
        Derived::HasSecondFloor,
        Derived::HasGarage,
        Derived::HasBasement,
        Derived::HasFireplace,
        Derived::HasPool,
        Derived::Remodeled,
        Derived::NewHouse,
    ];

    /// The feature's name in the artifact's feature list.
    pub fn name(self) -> &'static str {
        match self {
            Derived::TotalSf => "TotalSF",
            Derived::TotalBaths => "TotalBaths",
            Derived::TotalPorchSf => "TotalPorchSF",
            Derived::HouseAge => "HouseAge",
            Derived::RemodAge => "RemodAge",
            Derived::QualLivArea => "QualLivArea",
            Derived::QualCond => "QualCond",
            Derived::HasSecondFloor => "Has2ndFloor",
            Derived::HasGarage => "HasGarage",
            Derived::HasBasement => "HasBasement",
            Derived::HasFireplace => "HasFireplace",
            Derived::HasPool => "HasPool",
            Derived::Remodeled => "Remodeled",
            Derived::NewHouse => "NewHouse",
        }
    }

    /// Whether the feature is a 0/1 indicator (never skew-transformed or scaled).
    pub fn is_indicator(self) -> bool {
        matches!(
            self,
            Derived::HasSecondFloor
                | Derived::HasGarage
                | Derived::HasBasement
                | Derived::HasFireplace
                | Derived::HasPool
                | Derived::Remodeled
                | Derived::NewHouse
        )
    }

    /// The feature's value for a filled house.
    pub fn value(self, f: &Filled) -> f64 {
        let n = |i: usize| f.numbers[i];
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        match self {
            Derived::TotalSf => n(c::TOTAL_BSMT_SF) + n(c::FIRST_FLR_SF) + n(c::SECOND_FLR_SF),
            Derived::TotalBaths => {
                n(c::FULL_BATH)
                    + 0.5 * n(c::HALF_BATH)
                    + n(c::BSMT_FULL_BATH)
                    + 0.5 * n(c::BSMT_HALF_BATH)
            }
            Derived::TotalPorchSf => {
                n(c::OPEN_PORCH_SF)
                    + n(c::ENCLOSED_PORCH)
                    + n(c::THREE_SSN_PORCH)
                    + n(c::SCREEN_PORCH)
                    + n(c::WOOD_DECK_SF)
            }
            Derived::HouseAge => (n(c::YR_SOLD) - n(c::YEAR_BUILT)).max(0.0),
            Derived::RemodAge => (n(c::YR_SOLD) - n(c::YEAR_REMOD_ADD)).max(0.0),
            Derived::QualLivArea => n(c::OVERALL_QUAL) * n(c::GR_LIV_AREA),
            Derived::QualCond => n(c::OVERALL_QUAL) * n(c::OVERALL_COND),
            Derived::HasSecondFloor => flag(n(c::SECOND_FLR_SF) > 0.0),
            Derived::HasGarage => flag(n(c::GARAGE_AREA) > 0.0),
            Derived::HasBasement => flag(n(c::TOTAL_BSMT_SF) > 0.0),
            Derived::HasFireplace => flag(n(c::FIREPLACES) > 0.0),
            Derived::HasPool => flag(n(c::POOL_AREA) > 0.0),
            Derived::Remodeled => flag(n(c::YEAR_REMOD_ADD) != n(c::YEAR_BUILT)),
            Derived::NewHouse => flag(n(c::YR_SOLD) == n(c::YEAR_BUILT)),
        }
    }
}

/// Column positions used by the engineered features, checked against the schema by a test.
mod c {
    pub const OVERALL_QUAL: usize = 16;
    pub const OVERALL_COND: usize = 17;
    pub const YEAR_BUILT: usize = 18;
    pub const YEAR_REMOD_ADD: usize = 19;
    pub const TOTAL_BSMT_SF: usize = 37;
    pub const FIRST_FLR_SF: usize = 42;
    pub const SECOND_FLR_SF: usize = 43;
    pub const GR_LIV_AREA: usize = 45;
    pub const BSMT_FULL_BATH: usize = 46;
    pub const BSMT_HALF_BATH: usize = 47;
    pub const FULL_BATH: usize = 48;
    pub const HALF_BATH: usize = 49;
    pub const FIREPLACES: usize = 55;
    pub const GARAGE_AREA: usize = 61;
    pub const WOOD_DECK_SF: usize = 65;
    pub const OPEN_PORCH_SF: usize = 66;
    pub const ENCLOSED_PORCH: usize = 67;
    pub const THREE_SSN_PORCH: usize = 68;
    pub const SCREEN_PORCH: usize = 69;
    pub const POOL_AREA: usize = 70;
    pub const YR_SOLD: usize = 76;
}

/// Checks a position constant against the schema (used by tests).
pub fn column_at(index: usize) -> &'static str {
    COLUMNS.get(index).map_or("", |c| c.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_positions_match_the_schema() {
        let expected = [
            (c::OVERALL_QUAL, "OverallQual"),
            (c::OVERALL_COND, "OverallCond"),
            (c::YEAR_BUILT, "YearBuilt"),
            (c::YEAR_REMOD_ADD, "YearRemodAdd"),
            (c::TOTAL_BSMT_SF, "TotalBsmtSF"),
            (c::FIRST_FLR_SF, "1stFlrSF"),
            (c::SECOND_FLR_SF, "2ndFlrSF"),
            (c::GR_LIV_AREA, "GrLivArea"),
            (c::BSMT_FULL_BATH, "BsmtFullBath"),
            (c::BSMT_HALF_BATH, "BsmtHalfBath"),
            (c::FULL_BATH, "FullBath"),
            (c::HALF_BATH, "HalfBath"),
            (c::FIREPLACES, "Fireplaces"),
            (c::GARAGE_AREA, "GarageArea"),
            (c::WOOD_DECK_SF, "WoodDeckSF"),
            (c::OPEN_PORCH_SF, "OpenPorchSF"),
            (c::ENCLOSED_PORCH, "EnclosedPorch"),
            (c::THREE_SSN_PORCH, "3SsnPorch"),
            (c::SCREEN_PORCH, "ScreenPorch"),
            (c::POOL_AREA, "PoolArea"),
            (c::YR_SOLD, "YrSold"),
        ];
        for (index, name) in expected {
            assert_eq!(column_at(index), name, "position {index}");
        }
    }
}
