//! The 79 explanatory columns of an Ames house, as data: names, kinds, descriptions, units,
//! documented levels, aliases and plausible ranges, transcribed from De Cock's documentation
//! (`datasets/DataDocumentation.txt`). The types and the lookup are in the parent module.

use super::{Column, Kind, Level};

/// Shorthand for the level tables below.
const fn level(code: &'static str, label: &'static str) -> Level {
    Level { code, label }
}

const CONDITION_LEVELS: &[Level] = &[
    level("Artery", "Adjacent to arterial street"),
    level("Feedr", "Adjacent to feeder street"),
    level("Norm", "Normal"),
    level("RRNn", "Within 200' of North-South Railroad"),
    level("RRAn", "Adjacent to North-South Railroad"),
    level(
        "PosN",
        "Near positive off-site feature--park, greenbelt, etc.",
    ),
    level("PosA", "Adjacent to positive off-site feature"),
    level("RRNe", "Within 200' of East-West Railroad"),
    level("RRAe", "Adjacent to East-West Railroad"),
];

const EXTERIOR_LEVELS: &[Level] = &[
    level("AsbShng", "Asbestos Shingles"),
    level("AsphShn", "Asphalt Shingles"),
    level("BrkComm", "Brick Common"),
    level("BrkFace", "Brick Face"),
    level("CBlock", "Cinder Block"),
    level("CemntBd", "Cement Board"),
    level("HdBoard", "Hard Board"),
    level("ImStucc", "Imitation Stucco"),
    level("MetalSd", "Metal Siding"),
    level("Other", "Other"),
    level("Plywood", "Plywood"),
    level("PreCast", "PreCast"),
    level("Stone", "Stone"),
    level("Stucco", "Stucco"),
    level("VinylSd", "Vinyl Siding"),
    level("Wd Sdng", "Wood Siding"),
    level("WdShing", "Wood Shingles"),
];

const QUALITY_AVERAGE_TYPICAL: &[Level] = &[
    level("Po", "Poor"),
    level("Fa", "Fair"),
    level("TA", "Average/Typical"),
    level("Gd", "Good"),
    level("Ex", "Excellent"),
];

const BSMT_FIN_TYPE_LEVELS: &[Level] = &[
    level("Unf", "Unfinished"),
    level("LwQ", "Low Quality"),
    level("Rec", "Average Rec Room"),
    level("BLQ", "Below Average Living Quarters"),
    level("ALQ", "Average Living Quarters"),
    level("GLQ", "Good Living Quarters"),
];

const QUALITY_TYPICAL_AVERAGE: &[Level] = &[
    level("Po", "Poor"),
    level("Fa", "Fair"),
    level("TA", "Typical/Average"),
    level("Gd", "Good"),
    level("Ex", "Excellent"),
];

const EXTERIOR_ALIASES: &[(&str, &str)] = &[
    ("Wd Shng", "WdShing"),
    ("CmentBd", "CemntBd"),
    ("Brk Cmn", "BrkComm"),
];

/// All 79 explanatory columns, in the Kaggle CSV order.
pub static COLUMNS: [Column; 79] = [
    Column {
        name: "MSSubClass",
        decock: "MS SubClass",
        kind: Kind::Nominal,
        description: "Identifies the type of dwelling involved in the sale.",
        unit: None,
        levels: &[
            level("20", "1-STORY 1946 & NEWER ALL STYLES"),
            level("30", "1-STORY 1945 & OLDER"),
            level("40", "1-STORY W/FINISHED ATTIC ALL AGES"),
            level("45", "1-1/2 STORY - UNFINISHED ALL AGES"),
            level("50", "1-1/2 STORY FINISHED ALL AGES"),
            level("60", "2-STORY 1946 & NEWER"),
            level("70", "2-STORY 1945 & OLDER"),
            level("75", "2-1/2 STORY ALL AGES"),
            level("80", "SPLIT OR MULTI-LEVEL"),
            level("85", "SPLIT FOYER"),
            level("90", "DUPLEX - ALL STYLES AND AGES"),
            level(
                "120",
                "1-STORY PUD (Planned Unit Development) - 1946 & NEWER",
            ),
            level("150", "1-1/2 STORY PUD - ALL AGES"),
            level("160", "2-STORY PUD - 1946 & NEWER"),
            level("180", "PUD - MULTILEVEL - INCL SPLIT LEV/FOYER"),
            level("190", "2 FAMILY CONVERSION - ALL STYLES AND AGES"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "MSZoning",
        decock: "MS Zoning",
        kind: Kind::Nominal,
        description: "Identifies the general zoning classification of the sale.",
        unit: None,
        levels: &[
            level("A", "Agriculture"),
            level("C", "Commercial"),
            level("FV", "Floating Village Residential"),
            level("I", "Industrial"),
            level("RH", "Residential High Density"),
            level("RL", "Residential Low Density"),
            level("RP", "Residential Low Density Park"),
            level("RM", "Residential Medium Density"),
        ],
        aliases: &[("C (all)", "C"), ("A (agr)", "A"), ("I (all)", "I")],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "LotFrontage",
        decock: "Lot Frontage",
        kind: Kind::Real,
        description: "Linear feet of street connected to property",
        unit: Some("ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(5_000.0),
    },
    Column {
        name: "LotArea",
        decock: "Lot Area",
        kind: Kind::Real,
        description: "Lot size in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(5_000_000.0),
    },
    Column {
        name: "Street",
        decock: "Street",
        kind: Kind::Nominal,
        description: "Type of road access to property",
        unit: None,
        levels: &[level("Grvl", "Gravel"), level("Pave", "Paved")],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Alley",
        decock: "Alley",
        kind: Kind::Nominal,
        description: "Type of alley access to property",
        unit: None,
        levels: &[level("Grvl", "Gravel"), level("Pave", "Paved")],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "LotShape",
        decock: "Lot Shape",
        kind: Kind::Ordinal,
        description: "General shape of property",
        unit: None,
        levels: &[
            level("IR3", "Irregular"),
            level("IR2", "Moderately Irregular"),
            level("IR1", "Slightly irregular"),
            level("Reg", "Regular"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "LandContour",
        decock: "Land Contour",
        kind: Kind::Nominal,
        description: "Flatness of the property",
        unit: None,
        levels: &[
            level("Lvl", "Near Flat/Level"),
            level(
                "Bnk",
                "Banked - Quick and significant rise from street grade to building",
            ),
            level("HLS", "Hillside - Significant slope from side to side"),
            level("Low", "Depression"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Utilities",
        decock: "Utilities",
        kind: Kind::Ordinal,
        description: "Type of utilities available",
        unit: None,
        levels: &[
            level("ELO", "Electricity only"),
            level("NoSeWa", "Electricity and Gas Only"),
            level("NoSewr", "Electricity, Gas, and Water (Septic Tank)"),
            level("AllPub", "All public Utilities (E,G,W,& S)"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "LotConfig",
        decock: "Lot Config",
        kind: Kind::Nominal,
        description: "Lot configuration",
        unit: None,
        levels: &[
            level("Inside", "Inside lot"),
            level("Corner", "Corner lot"),
            level("CulDSac", "Cul-de-sac"),
            level("FR2", "Frontage on 2 sides of property"),
            level("FR3", "Frontage on 3 sides of property"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "LandSlope",
        decock: "Land Slope",
        kind: Kind::Ordinal,
        description: "Slope of property",
        unit: None,
        levels: &[
            level("Sev", "Severe Slope"),
            level("Mod", "Moderate Slope"),
            level("Gtl", "Gentle slope"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Neighborhood",
        decock: "Neighborhood",
        kind: Kind::Nominal,
        description: "Physical locations within Ames city limits (map available)",
        unit: None,
        levels: &[
            level("Blmngtn", "Bloomington Heights"),
            level("Blueste", "Bluestem"),
            level("BrDale", "Briardale"),
            level("BrkSide", "Brookside"),
            level("ClearCr", "Clear Creek"),
            level("CollgCr", "College Creek"),
            level("Crawfor", "Crawford"),
            level("Edwards", "Edwards"),
            level("Gilbert", "Gilbert"),
            level("Greens", "Greens"),
            level("GrnHill", "Green Hills"),
            level("IDOTRR", "Iowa DOT and Rail Road"),
            level("Landmrk", "Landmark"),
            level("MeadowV", "Meadow Village"),
            level("Mitchel", "Mitchell"),
            level("Names", "North Ames"),
            level("NoRidge", "Northridge"),
            level("NPkVill", "Northpark Villa"),
            level("NridgHt", "Northridge Heights"),
            level("NWAmes", "Northwest Ames"),
            level("OldTown", "Old Town"),
            level("SWISU", "South & West of Iowa State University"),
            level("Sawyer", "Sawyer"),
            level("SawyerW", "Sawyer West"),
            level("Somerst", "Somerset"),
            level("StoneBr", "Stone Brook"),
            level("Timber", "Timberland"),
            level("Veenker", "Veenker"),
        ],
        aliases: &[("NAmes", "Names")],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Condition1",
        decock: "Condition 1",
        kind: Kind::Nominal,
        description: "Proximity to various conditions",
        unit: None,
        levels: CONDITION_LEVELS,
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Condition2",
        decock: "Condition 2",
        kind: Kind::Nominal,
        description: "Proximity to various conditions (if more than one is present)",
        unit: None,
        levels: CONDITION_LEVELS,
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "BldgType",
        decock: "Bldg Type",
        kind: Kind::Nominal,
        description: "Type of dwelling",
        unit: None,
        levels: &[
            level("1Fam", "Single-family Detached"),
            level(
                "2FmCon",
                "Two-family Conversion; originally built as one-family dwelling",
            ),
            level("Duplx", "Duplex"),
            level("TwnhsE", "Townhouse End Unit"),
            level("TwnhsI", "Townhouse Inside Unit"),
        ],
        aliases: &[
            ("2fmCon", "2FmCon"),
            ("Duplex", "Duplx"),
            ("Twnhs", "TwnhsI"),
        ],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "HouseStyle",
        decock: "House Style",
        kind: Kind::Nominal,
        description: "Style of dwelling",
        unit: None,
        levels: &[
            level("1Story", "One story"),
            level("1.5Fin", "One and one-half story: 2nd level finished"),
            level("1.5Unf", "One and one-half story: 2nd level unfinished"),
            level("2Story", "Two story"),
            level("2.5Fin", "Two and one-half story: 2nd level finished"),
            level("2.5Unf", "Two and one-half story: 2nd level unfinished"),
            level("SFoyer", "Split Foyer"),
            level("SLvl", "Split Level"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "OverallQual",
        decock: "Overall Qual",
        kind: Kind::Integer,
        description: "Rates the overall material and finish of the house",
        unit: None,
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(1.0),
        max: Some(10.0),
    },
    Column {
        name: "OverallCond",
        decock: "Overall Cond",
        kind: Kind::Integer,
        description: "Rates the overall condition of the house",
        unit: None,
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(1.0),
        max: Some(10.0),
    },
    Column {
        name: "YearBuilt",
        decock: "Year Built",
        kind: Kind::Integer,
        description: "Original construction date",
        unit: Some("year"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(1800.0),
        max: Some(2100.0),
    },
    Column {
        name: "YearRemodAdd",
        decock: "Year Remod/Add",
        kind: Kind::Integer,
        description: "Remodel date (same as construction date if no remodeling or additions)",
        unit: Some("year"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(1800.0),
        max: Some(2100.0),
    },
    Column {
        name: "RoofStyle",
        decock: "Roof Style",
        kind: Kind::Nominal,
        description: "Type of roof",
        unit: None,
        levels: &[
            level("Flat", "Flat"),
            level("Gable", "Gable"),
            level("Gambrel", "Gambrel (Barn)"),
            level("Hip", "Hip"),
            level("Mansard", "Mansard"),
            level("Shed", "Shed"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "RoofMatl",
        decock: "Roof Matl",
        kind: Kind::Nominal,
        description: "Roof material",
        unit: None,
        levels: &[
            level("ClyTile", "Clay or Tile"),
            level("CompShg", "Standard (Composite) Shingle"),
            level("Membran", "Membrane"),
            level("Metal", "Metal"),
            level("Roll", "Roll"),
            level("Tar&Grv", "Gravel & Tar"),
            level("WdShake", "Wood Shakes"),
            level("WdShngl", "Wood Shingles"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Exterior1st",
        decock: "Exterior 1st",
        kind: Kind::Nominal,
        description: "Exterior covering on house",
        unit: None,
        levels: EXTERIOR_LEVELS,
        aliases: EXTERIOR_ALIASES,
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Exterior2nd",
        decock: "Exterior 2nd",
        kind: Kind::Nominal,
        description: "Exterior covering on house (if more than one material)",
        unit: None,
        levels: EXTERIOR_LEVELS,
        aliases: EXTERIOR_ALIASES,
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "MasVnrType",
        decock: "Mas Vnr Type",
        kind: Kind::Nominal,
        description: "Masonry veneer type",
        unit: None,
        levels: &[
            level("BrkCmn", "Brick Common"),
            level("BrkFace", "Brick Face"),
            level("CBlock", "Cinder Block"),
            level("None", "None"),
            level("Stone", "Stone"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "MasVnrArea",
        decock: "Mas Vnr Area",
        kind: Kind::Real,
        description: "Masonry veneer area in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "ExterQual",
        decock: "Exter Qual",
        kind: Kind::Ordinal,
        description: "Evaluates the quality of the material on the exterior",
        unit: None,
        levels: QUALITY_AVERAGE_TYPICAL,
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "ExterCond",
        decock: "Exter Cond",
        kind: Kind::Ordinal,
        description: "Evaluates the present condition of the material on the exterior",
        unit: None,
        levels: QUALITY_AVERAGE_TYPICAL,
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Foundation",
        decock: "Foundation",
        kind: Kind::Nominal,
        description: "Type of foundation",
        unit: None,
        levels: &[
            level("BrkTil", "Brick & Tile"),
            level("CBlock", "Cinder Block"),
            level("PConc", "Poured Concrete"),
            level("Slab", "Slab"),
            level("Stone", "Stone"),
            level("Wood", "Wood"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "BsmtQual",
        decock: "Bsmt Qual",
        kind: Kind::Ordinal,
        description: "Evaluates the height of the basement",
        unit: None,
        levels: &[
            level("Po", "Poor (<70 inches)"),
            level("Fa", "Fair (70-79 inches)"),
            level("TA", "Typical (80-89 inches)"),
            level("Gd", "Good (90-99 inches)"),
            level("Ex", "Excellent (100+ inches)"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "BsmtCond",
        decock: "Bsmt Cond",
        kind: Kind::Ordinal,
        description: "Evaluates the general condition of the basement",
        unit: None,
        levels: &[
            level("Po", "Poor - Severe cracking, settling, or wetness"),
            level("Fa", "Fair - dampness or some cracking or settling"),
            level("TA", "Typical - slight dampness allowed"),
            level("Gd", "Good"),
            level("Ex", "Excellent"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "BsmtExposure",
        decock: "Bsmt Exposure",
        kind: Kind::Ordinal,
        description: "Refers to walkout or garden level walls",
        unit: None,
        levels: &[
            level("No", "No Exposure"),
            level("Mn", "Minimum Exposure"),
            level(
                "Av",
                "Average Exposure (split levels or foyers typically score average or above)",
            ),
            level("Gd", "Good Exposure"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "BsmtFinType1",
        decock: "BsmtFin Type 1",
        kind: Kind::Ordinal,
        description: "Rating of basement finished area",
        unit: None,
        levels: BSMT_FIN_TYPE_LEVELS,
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "BsmtFinSF1",
        decock: "BsmtFin SF 1",
        kind: Kind::Real,
        description: "Type 1 finished square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "BsmtFinType2",
        decock: "BsmtFin Type 2",
        kind: Kind::Ordinal,
        description: "Rating of basement finished area (if multiple types)",
        unit: None,
        levels: BSMT_FIN_TYPE_LEVELS,
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "BsmtFinSF2",
        decock: "BsmtFin SF 2",
        kind: Kind::Real,
        description: "Type 2 finished square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "BsmtUnfSF",
        decock: "Bsmt Unf SF",
        kind: Kind::Real,
        description: "Unfinished square feet of basement area",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "TotalBsmtSF",
        decock: "Total Bsmt SF",
        kind: Kind::Real,
        description: "Total square feet of basement area",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "Heating",
        decock: "Heating",
        kind: Kind::Nominal,
        description: "Type of heating",
        unit: None,
        levels: &[
            level("Floor", "Floor Furnace"),
            level("GasA", "Gas forced warm air furnace"),
            level("GasW", "Gas hot water or steam heat"),
            level("Grav", "Gravity furnace"),
            level("OthW", "Hot water or steam heat other than gas"),
            level("Wall", "Wall furnace"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "HeatingQC",
        decock: "Heating QC",
        kind: Kind::Ordinal,
        description: "Heating quality and condition",
        unit: None,
        levels: QUALITY_AVERAGE_TYPICAL,
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "CentralAir",
        decock: "Central Air",
        kind: Kind::Nominal,
        description: "Central air conditioning",
        unit: None,
        levels: &[level("N", "No"), level("Y", "Yes")],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Electrical",
        decock: "Electrical",
        kind: Kind::Ordinal,
        description: "Electrical system",
        unit: None,
        levels: &[
            level("Mix", "Mixed"),
            level(
                "FuseP",
                "60 AMP Fuse Box and mostly knob & tube wiring (poor)",
            ),
            level("FuseF", "60 AMP Fuse Box and mostly Romex wiring (Fair)"),
            level(
                "FuseA",
                "Fuse Box over 60 AMP and all Romex wiring (Average)",
            ),
            level("SBrkr", "Standard Circuit Breakers & Romex"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "1stFlrSF",
        decock: "1st Flr SF",
        kind: Kind::Real,
        description: "First Floor square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "2ndFlrSF",
        decock: "2nd Flr SF",
        kind: Kind::Real,
        description: "Second floor square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "LowQualFinSF",
        decock: "Low Qual Fin SF",
        kind: Kind::Real,
        description: "Low quality finished square feet (all floors)",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "GrLivArea",
        decock: "Gr Liv Area",
        kind: Kind::Real,
        description: "Above grade (ground) living area square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "BsmtFullBath",
        decock: "Bsmt Full Bath",
        kind: Kind::Integer,
        description: "Basement full bathrooms",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "BsmtHalfBath",
        decock: "Bsmt Half Bath",
        kind: Kind::Integer,
        description: "Basement half bathrooms",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "FullBath",
        decock: "Full Bath",
        kind: Kind::Integer,
        description: "Full bathrooms above grade",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "HalfBath",
        decock: "Half Bath",
        kind: Kind::Integer,
        description: "Half baths above grade",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "BedroomAbvGr",
        decock: "Bedroom AbvGr",
        kind: Kind::Integer,
        description: "Bedrooms above grade (does NOT include basement bedrooms)",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "KitchenAbvGr",
        decock: "Kitchen AbvGr",
        kind: Kind::Integer,
        description: "Kitchens above grade",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "KitchenQual",
        decock: "Kitchen Qual",
        kind: Kind::Ordinal,
        description: "Kitchen quality",
        unit: None,
        levels: QUALITY_TYPICAL_AVERAGE,
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "TotRmsAbvGrd",
        decock: "TotRms AbvGrd",
        kind: Kind::Integer,
        description: "Total rooms above grade (does not include bathrooms)",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "Functional",
        decock: "Functional",
        kind: Kind::Ordinal,
        description: "Home functionality (Assume typical unless deductions are warranted)",
        unit: None,
        levels: &[
            level("Sal", "Salvage only"),
            level("Sev", "Severely Damaged"),
            level("Maj2", "Major Deductions 2"),
            level("Maj1", "Major Deductions 1"),
            level("Mod", "Moderate Deductions"),
            level("Min2", "Minor Deductions 2"),
            level("Min1", "Minor Deductions 1"),
            level("Typ", "Typical Functionality"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "Fireplaces",
        decock: "Fireplaces",
        kind: Kind::Integer,
        description: "Number of fireplaces",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "FireplaceQu",
        decock: "Fireplace Qu",
        kind: Kind::Ordinal,
        description: "Fireplace quality",
        unit: None,
        levels: &[
            level("Po", "Poor - Ben Franklin Stove"),
            level("Fa", "Fair - Prefabricated Fireplace in basement"),
            level(
                "TA",
                "Average - Prefabricated Fireplace in main living area or Masonry Fireplace in basement",
            ),
            level("Gd", "Good - Masonry Fireplace in main level"),
            level("Ex", "Excellent - Exceptional Masonry Fireplace"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "GarageType",
        decock: "Garage Type",
        kind: Kind::Nominal,
        description: "Garage location",
        unit: None,
        levels: &[
            level("2Types", "More than one type of garage"),
            level("Attchd", "Attached to home"),
            level("Basment", "Basement Garage"),
            level(
                "BuiltIn",
                "Built-In (Garage part of house - typically has room above garage)",
            ),
            level("CarPort", "Car Port"),
            level("Detchd", "Detached from home"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "GarageYrBlt",
        decock: "Garage Yr Blt",
        kind: Kind::Integer,
        description: "Year garage was built",
        unit: Some("year"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(1800.0),
        max: Some(2100.0),
    },
    Column {
        name: "GarageFinish",
        decock: "Garage Finish",
        kind: Kind::Ordinal,
        description: "Interior finish of the garage",
        unit: None,
        levels: &[
            level("Unf", "Unfinished"),
            level("RFn", "Rough Finished"),
            level("Fin", "Finished"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "GarageCars",
        decock: "Garage Cars",
        kind: Kind::Integer,
        description: "Size of garage in car capacity",
        unit: Some("count"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(50.0),
    },
    Column {
        name: "GarageArea",
        decock: "Garage Area",
        kind: Kind::Real,
        description: "Size of garage in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "GarageQual",
        decock: "Garage Qual",
        kind: Kind::Ordinal,
        description: "Garage quality",
        unit: None,
        levels: QUALITY_TYPICAL_AVERAGE,
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "GarageCond",
        decock: "Garage Cond",
        kind: Kind::Ordinal,
        description: "Garage condition",
        unit: None,
        levels: QUALITY_TYPICAL_AVERAGE,
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "PavedDrive",
        decock: "Paved Drive",
        kind: Kind::Ordinal,
        description: "Paved driveway",
        unit: None,
        levels: &[
            level("N", "Dirt/Gravel"),
            level("P", "Partial Pavement"),
            level("Y", "Paved"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "WoodDeckSF",
        decock: "Wood Deck SF",
        kind: Kind::Real,
        description: "Wood deck area in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "OpenPorchSF",
        decock: "Open Porch SF",
        kind: Kind::Real,
        description: "Open porch area in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "EnclosedPorch",
        decock: "Enclosed Porch",
        kind: Kind::Real,
        description: "Enclosed porch area in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "3SsnPorch",
        decock: "3Ssn Porch",
        kind: Kind::Real,
        description: "Three season porch area in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "ScreenPorch",
        decock: "Screen Porch",
        kind: Kind::Real,
        description: "Screen porch area in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "PoolArea",
        decock: "Pool Area",
        kind: Kind::Real,
        description: "Pool area in square feet",
        unit: Some("sq ft"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(100_000.0),
    },
    Column {
        name: "PoolQC",
        decock: "Pool QC",
        kind: Kind::Ordinal,
        description: "Pool quality",
        unit: None,
        levels: &[
            level("Fa", "Fair"),
            level("TA", "Average/Typical"),
            level("Gd", "Good"),
            level("Ex", "Excellent"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "Fence",
        decock: "Fence",
        kind: Kind::Ordinal,
        description: "Fence quality",
        unit: None,
        levels: &[
            level("MnWw", "Minimum Wood/Wire"),
            level("GdWo", "Good Wood"),
            level("MnPrv", "Minimum Privacy"),
            level("GdPrv", "Good Privacy"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "MiscFeature",
        decock: "Misc Feature",
        kind: Kind::Nominal,
        description: "Miscellaneous feature not covered in other categories",
        unit: None,
        levels: &[
            level("Elev", "Elevator"),
            level("Gar2", "2nd Garage (if not described in garage section)"),
            level("Othr", "Other"),
            level("Shed", "Shed (over 100 SF)"),
            level("TenC", "Tennis Court"),
        ],
        aliases: &[],
        na_means_none: true,
        min: None,
        max: None,
    },
    Column {
        name: "MiscVal",
        decock: "Misc Val",
        kind: Kind::Real,
        description: "Value of miscellaneous feature",
        unit: Some("$"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(0.0),
        max: Some(10_000_000.0),
    },
    Column {
        name: "MoSold",
        decock: "Mo Sold",
        kind: Kind::Integer,
        description: "Month Sold (MM)",
        unit: Some("month"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(1.0),
        max: Some(12.0),
    },
    Column {
        name: "YrSold",
        decock: "Yr Sold",
        kind: Kind::Integer,
        description: "Year Sold (YYYY)",
        unit: Some("year"),
        levels: &[],
        aliases: &[],
        na_means_none: false,
        min: Some(2000.0),
        max: Some(2100.0),
    },
    Column {
        name: "SaleType",
        decock: "Sale Type",
        kind: Kind::Nominal,
        description: "Type of sale",
        unit: None,
        levels: &[
            level("WD", "Warranty Deed - Conventional"),
            level("CWD", "Warranty Deed - Cash"),
            level("VWD", "Warranty Deed - VA Loan"),
            level("New", "Home just constructed and sold"),
            level("COD", "Court Officer Deed/Estate"),
            level("Con", "Contract 15% Down payment regular terms"),
            level("ConLw", "Contract Low Down payment and low interest"),
            level("ConLI", "Contract Low Interest"),
            level("ConLD", "Contract Low Down"),
            level("Oth", "Other"),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
    Column {
        name: "SaleCondition",
        decock: "Sale Condition",
        kind: Kind::Nominal,
        description: "Condition of sale",
        unit: None,
        levels: &[
            level("Normal", "Normal Sale"),
            level("Abnorml", "Abnormal Sale -  trade, foreclosure, short sale"),
            level("AdjLand", "Adjoining Land Purchase"),
            level(
                "Alloca",
                "Allocation - two linked properties with separate deeds, typically condo with a garage unit",
            ),
            level("Family", "Sale between family members"),
            level(
                "Partial",
                "Home was not completed when last assessed (associated with New Homes)",
            ),
        ],
        aliases: &[],
        na_means_none: false,
        min: None,
        max: None,
    },
];

#[cfg(test)]
mod tests {
    use super::super::names::is_separator;
    use super::super::*;
    use std::collections::HashSet;

    const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");
    const DECOCK_TSV: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/decock-sample.tsv"
    );

    /// Header and rows of a delimited file without quoted fields.
    fn read_table(path: &str, sep: char) -> (Vec<String>, Vec<Vec<String>>) {
        let text = std::fs::read_to_string(path).expect("data file is readable");
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = lines
            .next()
            .expect("file has a header")
            .split(sep)
            .map(|h| h.trim().to_string())
            .collect::<Vec<_>>();
        let rows = lines
            .map(|l| l.split(sep).map(str::to_string).collect::<Vec<_>>())
            .collect::<Vec<_>>();
        for row in &rows {
            assert_eq!(row.len(), header.len(), "ragged row in {path}");
        }
        (header, rows)
    }

    fn is_missing(value: &str) -> bool {
        let value = value.trim();
        value.is_empty() || value == "NA"
    }

    /// Checks every value of every explanatory column; returns how many were checked.
    fn check_values(path: &str, header: &[String], rows: &[Vec<String>]) -> usize {
        let mut checked = 0;
        for (j, name) in header.iter().enumerate() {
            let Some(col) = column(name) else { continue };
            for (r, row) in rows.iter().enumerate() {
                let raw = &row[j];
                if is_missing(raw) {
                    continue;
                }
                checked += 1;
                if col.is_categorical() {
                    assert!(
                        col.canonical_level(raw).is_some(),
                        "{path} row {r}: {name}={raw:?} is not a documented level"
                    );
                } else {
                    let value: f64 = raw.trim().parse().unwrap_or_else(|_| {
                        panic!("{path} row {r}: {name}={raw:?} is not a number")
                    });
                    assert!(value.is_finite());
                    if col.kind == Kind::Integer {
                        assert_eq!(value.fract(), 0.0, "{path} row {r}: {name}={raw:?}");
                    }
                    let min = col.min.unwrap_or(f64::NEG_INFINITY);
                    let max = col.max.unwrap_or(f64::INFINITY);
                    assert!(
                        (min..=max).contains(&value),
                        "{path} row {r}: {name}={value} outside [{min}, {max}]"
                    );
                }
            }
        }
        checked
    }

    #[test]
    fn has_79_uniquely_named_columns() {
        assert_eq!(COLUMNS.len(), 79);
        let mut keys = HashSet::new();
        for c in &COLUMNS {
            assert!(keys.insert(c.name.to_ascii_lowercase()), "{}", c.name);
            let squashed = |s: &str| {
                s.bytes()
                    .filter(|&b| !is_separator(b))
                    .map(|b| b.to_ascii_lowercase())
                    .collect::<Vec<u8>>()
            };
            if !c.decock.eq_ignore_ascii_case(c.name) {
                assert!(keys.insert(c.decock.to_ascii_lowercase()), "{}", c.decock);
            }
            let others = COLUMNS.iter().filter(|o| o.name != c.name);
            for o in others {
                for a in [c.name, c.decock] {
                    for b in [o.name, o.decock] {
                        assert_ne!(squashed(a), squashed(b), "{a} vs {b}");
                    }
                }
            }
        }
        assert!(
            COLUMNS
                .iter()
                .all(|c| c.name != ID_COLUMN && c.name != TARGET_COLUMN)
        );
    }

    #[test]
    fn kinds_match_documentation_counts() {
        let count = |k: Kind| COLUMNS.iter().filter(|c| c.kind == k).count();
        // 23 nominal, 23 ordinal, 14 discrete, 20 continuous documented, minus
        // PID/Order/SalePrice, with Overall Qual/Cond read as integers.
        assert_eq!(count(Kind::Nominal), 23);
        assert_eq!(count(Kind::Ordinal), 21);
        assert_eq!(count(Kind::Integer), 16);
        assert_eq!(count(Kind::Real), 19);
    }

    #[test]
    fn columns_are_internally_consistent() {
        for c in &COLUMNS {
            assert!(!c.description.is_empty() && !c.description.contains('\n'));
            if c.is_categorical() {
                assert!(!c.levels.is_empty(), "{}", c.name);
                assert!(c.unit.is_none() && c.min.is_none() && c.max.is_none());
                for (i, l) in c.levels.iter().enumerate() {
                    assert!(!l.label.is_empty() && l.code.trim() == l.code);
                    assert_ne!(l.code, "NA", "{}", c.name);
                    assert!(
                        c.levels[..i]
                            .iter()
                            .all(|p| !p.code.eq_ignore_ascii_case(l.code)),
                        "{}: duplicate {}",
                        c.name,
                        l.code
                    );
                }
                for &(seen, code) in c.aliases {
                    assert!(c.levels.iter().any(|l| l.code == code), "{seen}->{code}");
                    assert!(c.levels.iter().all(|l| l.code != seen), "{seen}");
                    assert_eq!(c.canonical_level(seen), Some(code));
                }
            } else {
                assert!(c.levels.is_empty() && c.aliases.is_empty() && !c.na_means_none);
                assert!(c.min.is_some(), "{}", c.name);
                if let (Some(min), Some(max)) = (c.min, c.max) {
                    assert!(min < max);
                }
            }
        }
        let none: Vec<&str> = COLUMNS
            .iter()
            .filter(|c| c.na_means_none)
            .map(|c| c.name)
            .collect();
        assert_eq!(
            none,
            [
                "Alley",
                "BsmtQual",
                "BsmtCond",
                "BsmtExposure",
                "BsmtFinType1",
                "BsmtFinType2",
                "FireplaceQu",
                "GarageType",
                "GarageFinish",
                "GarageQual",
                "GarageCond",
                "PoolQC",
                "Fence",
                "MiscFeature"
            ]
        );
    }

    #[test]
    fn kaggle_header_resolves_in_order() {
        let (header, rows) = read_table(AMES_CSV, ',');
        assert_eq!(rows.len(), 1460);
        assert_eq!(header.first().map(String::as_str), Some(ID_COLUMN));
        assert_eq!(header.last().map(String::as_str), Some(TARGET_COLUMN));
        let explanatory = &header[1..header.len() - 1];
        assert_eq!(explanatory.len(), COLUMNS.len());
        for (i, name) in explanatory.iter().enumerate() {
            assert_eq!(COLUMNS[i].name, name);
            assert_eq!(column_index(name), Some(i), "{name}");
        }
    }

    #[test]
    fn decock_header_resolves_in_order() {
        let (header, _) = read_table(DECOCK_TSV, '\t');
        let explanatory: Vec<&String> = header
            .iter()
            .filter(|h| !DECOCK_ID_COLUMNS.contains(&h.as_str()) && h.as_str() != TARGET_COLUMN)
            .collect();
        assert_eq!(explanatory.len(), COLUMNS.len());
        for (i, name) in explanatory.iter().enumerate() {
            assert_eq!(COLUMNS[i].decock, name.as_str());
            assert_eq!(column_index(name), Some(i), "{name}");
        }
    }

    #[test]
    fn every_kaggle_value_is_accepted() {
        let (header, rows) = read_table(AMES_CSV, ',');
        assert!(check_values(AMES_CSV, &header, &rows) > 1460 * 60);
    }

    #[test]
    fn every_decock_value_is_accepted() {
        let (header, rows) = read_table(DECOCK_TSV, '\t');
        assert!(!rows.is_empty());
        assert!(check_values(DECOCK_TSV, &header, &rows) > rows.len() * 60);
    }
}
