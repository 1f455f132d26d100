//! The feature pipeline: house → numeric feature vector, fitted on training rows only.
//!
//! Training builds its design matrix by calling [`FeaturePipeline::encode`] on every row, and
//! serving calls the very same function, so a house is encoded identically in both places.

use serde::{Deserialize, Serialize};

use crate::derived::Derived;
use crate::fill::{Filled, Imputer, NONE_CODE};
use crate::house::House;
use crate::schema::{self, COLUMNS, Kind};
use crate::stats;

/// Where a feature's raw value comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Source {
    /// A numeric column, or an ordinal column's rank.
    Value {
        /// Kaggle column name.
        column: String,
    },
    /// 1 when a categorical column has this level, else 0 (one-hot).
    Level {
        /// Kaggle column name.
        column: String,
        /// Level code (`NA` for none).
        level: String,
    },
    /// 1 when a numeric column equals this value (month and year of sale as categories).
    Equals {
        /// Kaggle column name.
        column: String,
        /// The value.
        value: f64,
    },
    /// An engineered feature.
    Derived {
        /// Which one.
        derived: Derived,
    },
}

/// A monotone transform applied to skewed features before scaling.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Transform {
    /// Leave as is.
    Identity,
    /// Box-Cox of `1 + x` with a fixed lambda (lambda 0 is `ln(1 + x)`).
    BoxCox1p {
        /// The Box-Cox exponent.
        lambda: f64,
    },
}

impl Transform {
    /// Applies the transform.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::BoxCox1p { lambda: 0.0 } => x.ln_1p(),
            Transform::BoxCox1p { lambda } => ((1.0 + x).powf(lambda) - 1.0) / lambda,
        }
    }
}

/// One column of the design matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feature {
    /// Feature name, e.g. `GrLivArea` or `Neighborhood=NoRidge`.
    pub name: String,
    /// Where its raw value comes from.
    pub source: Source,
    /// Skew transform.
    pub transform: Transform,
    /// Subtracted after the transform (robust centre: the training median).
    pub center: f64,
    /// Divided by after centring (robust scale: the training interquartile range).
    pub scale: f64,
    /// Smallest and largest raw value in the training rows (numeric features only): a value
    /// outside is clipped to it before the transform, so the model never extrapolates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<[f64; 2]>,
}

/// Settings that shape the pipeline, from `params.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncodeParams {
    /// Features whose absolute skewness exceeds this are Box-Cox transformed.
    pub skew_threshold: f64,
    /// The Box-Cox lambda for skewed features.
    pub boxcox_lambda: f64,
    /// A level needs this many training rows to get its own one-hot column.
    pub min_level_count: usize,
}

impl Default for EncodeParams {
    fn default() -> Self {
        Self {
            skew_threshold: 0.75,
            boxcox_lambda: 0.15,
            min_level_count: 1,
        }
    }
}

/// The fitted pipeline: imputation plus the ordered list of features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeaturePipeline {
    /// Fill values for gaps.
    pub imputer: Imputer,
    /// The design matrix columns, in order.
    pub features: Vec<Feature>,
    #[serde(skip)]
    compiled: Vec<Compiled>,
    /// The name each feature's out-of-range values are reported under, if any.
    #[serde(skip)]
    reported: Vec<Option<&'static str>>,
    /// Levels with a one-hot column, per schema column (empty for non-nominal ones).
    #[serde(skip)]
    known_levels: Vec<Vec<String>>,
}

/// A feature's source with the column resolved to its index, for fast encoding.
#[derive(Debug, Clone, PartialEq)]
enum Compiled {
    Value(usize),
    Level(usize, String),
    Equals(usize, f64),
    Derived(Derived),
}

/// What encoding one house found beyond its features.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EncodeReport {
    /// Columns that were missing and filled by the imputer.
    pub imputed: Vec<&'static str>,
    /// `Column=level` values the model never saw in training (encoded as none of the known levels).
    pub unknown_levels: Vec<String>,
    /// Numeric values outside the training range, clipped to it before pricing.
    pub out_of_range: Vec<OutOfRange>,
}

/// A numeric value outside the range of the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OutOfRange {
    /// The column (or engineered feature, e.g. `TotalSF`).
    pub field: &'static str,
    /// The value given (or imputed, or computed for an engineered feature).
    pub value: f64,
    /// Smallest and largest value in the training rows; the value was clipped to this.
    pub range: [f64; 2],
}

/// The house's size: living area above ground and total floor area. A house larger or smaller
/// than every training house is where a clipped linear model is least trustworthy (its size
/// terms stop at the range) and the trees, fitted on every row, have seen the nearest houses.
/// Other clipped fields (a porch, a pool, a second kitchen, a date) say little about that.
const SIZE_FIELDS: &[&str] = &["GrLivArea", "TotalSF"];

impl OutOfRange {
    /// Whether the field is the house's size (see [`SIZE_FIELDS`]): the house itself lies
    /// beyond the training houses.
    pub fn is_beyond_the_houses(&self) -> bool {
        SIZE_FIELDS.contains(&self.field)
    }
}

impl EncodeReport {
    /// Whether the house's size was clipped (see [`OutOfRange::is_beyond_the_houses`]).
    pub fn beyond_the_houses(&self) -> bool {
        self.out_of_range
            .iter()
            .any(OutOfRange::is_beyond_the_houses)
    }
}

/// A pipeline that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The artifact names a column the schema does not have.
    #[error("the pipeline refers to unknown column {0:?}")]
    UnknownColumn(String),
    /// The artifact's imputer lacks a column.
    #[error("the pipeline's imputer does not cover every schema column")]
    IncompleteImputer,
    /// No training rows.
    #[error("cannot fit the pipeline on zero rows")]
    NoRows,
}

fn compile(source: &Source) -> Result<Compiled, PipelineError> {
    let index = |column: &str| {
        schema::column_index(column).ok_or_else(|| PipelineError::UnknownColumn(column.to_string()))
    };
    Ok(match source {
        Source::Value { column } => Compiled::Value(index(column)?),
        Source::Level { column, level } => Compiled::Level(index(column)?, level.clone()),
        Source::Equals { column, value } => Compiled::Equals(index(column)?, *value),
        Source::Derived { derived } => Compiled::Derived(*derived),
    })
}

/// Numeric columns also one-hot encoded by value: their effect on price is not linear.
const CATEGORICAL_NUMBERS: &[&str] = &["MoSold", "YrSold"];

/// The name an out-of-range value is reported under: numeric columns and engineered features
/// (ordinal ranks are clipped too, but a grade is not a number a person typed).
fn reported_name(source: &Source) -> Option<&'static str> {
    match source {
        Source::Value { column } => schema::column_index(column)
            .map(|i| &COLUMNS[i])
            .filter(|c| matches!(c.kind, Kind::Integer | Kind::Real))
            .map(|c| c.name),
        Source::Derived { derived } if !derived.is_indicator() => Some(derived.name()),
        _ => None,
    }
}

impl FeaturePipeline {
    /// Fits imputation, transforms and scaling on training houses only.
    pub fn fit(houses: &[House], params: &EncodeParams) -> Result<FeaturePipeline, PipelineError> {
        let rows: Vec<usize> = (0..houses.len()).collect();
        FeaturePipeline::fit_rows(houses, &rows, params)
    }

    /// Fits the pipeline on the houses at `rows` (one pass over them, whatever their number).
    pub fn fit_rows(
        houses: &[House],
        rows: &[usize],
        params: &EncodeParams,
    ) -> Result<FeaturePipeline, PipelineError> {
        if rows.is_empty() {
            return Err(PipelineError::NoRows);
        }
        let n = rows.len();
        let imputer = Imputer::fit_rows(houses, rows);
        // One pass: the numeric value of every numeric or ordinal column and engineered
        // feature (column-major), and the row count of every level.
        let numeric: Vec<usize> = (0..COLUMNS.len())
            .filter(|&i| COLUMNS[i].kind != Kind::Nominal)
            .collect();
        let mut slot = vec![usize::MAX; COLUMNS.len()];
        for (k, &i) in numeric.iter().enumerate() {
            slot[i] = k;
        }
        let width = numeric.len() + Derived::ALL.len();
        let mut values = vec![0.0; width * n];
        let mut level_counts: Vec<Vec<usize>> = COLUMNS
            .iter()
            .map(|c| vec![0; c.levels.len() + 1])
            .collect();
        let mut scratch = Vec::new();
        for (r, &row) in rows.iter().enumerate() {
            scratch.clear();
            let filled = imputer.fill(&houses[row], &mut scratch);
            for (k, &i) in numeric.iter().enumerate() {
                values[k * n + r] = filled.numbers[i];
            }
            for (k, d) in Derived::ALL.iter().enumerate() {
                values[(numeric.len() + k) * n + r] = d.value(&filled);
            }
            for (i, column) in COLUMNS.iter().enumerate() {
                if column.kind == Kind::Nominal {
                    let level = filled.levels[i];
                    let position = column
                        .levels
                        .iter()
                        .position(|l| l.code == level)
                        .unwrap_or(column.levels.len());
                    level_counts[i][position] += 1;
                }
            }
        }
        let column_values = |k: usize| &values[k * n..(k + 1) * n];

        let mut sources = Vec::new();
        for (index, column) in COLUMNS.iter().enumerate() {
            match column.kind {
                Kind::Integer | Kind::Real | Kind::Ordinal => sources.push(Source::Value {
                    column: column.name.to_string(),
                }),
                Kind::Nominal => {
                    let mut codes: Vec<&str> = column.levels.iter().map(|l| l.code).collect();
                    codes.push(NONE_CODE);
                    for (position, code) in codes.into_iter().enumerate() {
                        if level_counts[index][position] >= params.min_level_count.max(1) {
                            sources.push(Source::Level {
                                column: column.name.to_string(),
                                level: code.to_string(),
                            });
                        }
                    }
                }
            }
            if CATEGORICAL_NUMBERS.contains(&column.name) {
                let mut sorted = column_values(slot[index]).to_vec();
                sorted.sort_by(f64::total_cmp);
                let mut start = 0;
                while start < sorted.len() {
                    let value = sorted[start];
                    let end = start + sorted[start..].partition_point(|v| *v == value);
                    if end - start >= params.min_level_count.max(1) {
                        sources.push(Source::Equals {
                            column: column.name.to_string(),
                            value,
                        });
                    }
                    start = end;
                }
            }
        }
        sources.extend(
            Derived::ALL
                .iter()
                .map(|&derived| Source::Derived { derived }),
        );

        let mut features = Vec::with_capacity(sources.len());
        let mut indicator_raw = Vec::new();
        for source in sources {
            let raw: &[f64] = match &source {
                Source::Value { column } => {
                    column_values(slot[schema::column_index(column).unwrap_or(0)])
                }
                Source::Derived { derived } => {
                    let k = Derived::ALL.iter().position(|d| d == derived).unwrap_or(0);
                    column_values(numeric.len() + k)
                }
                Source::Level { column, level } => {
                    let index = schema::column_index(column).unwrap_or(0);
                    let column = &COLUMNS[index];
                    let position = column
                        .levels
                        .iter()
                        .position(|l| l.code == level)
                        .unwrap_or(column.levels.len());
                    let count = level_counts[index][position];
                    if count == n {
                        continue; // every training row has it: carries no information
                    }
                    features.push(indicator_feature(source));
                    continue;
                }
                Source::Equals { column, value } => {
                    let index = schema::column_index(column).unwrap_or(0);
                    let all = column_values(slot[index]);
                    indicator_raw.clear();
                    indicator_raw.extend(all.iter().map(|v| f64::from(u8::from(v == value))));
                    &indicator_raw
                }
            };
            let (min, max) = raw
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            if min == max {
                continue; // constant in training: carries no information
            }
            if is_indicator(&source) {
                features.push(indicator_feature(source));
                continue;
            }
            let transform = if min >= 0.0 && stats::skewness(raw).abs() > params.skew_threshold {
                Transform::BoxCox1p {
                    lambda: params.boxcox_lambda,
                }
            } else {
                Transform::Identity
            };
            let transformed: Vec<f64> = raw.iter().map(|&x| transform.apply(x)).collect();
            let (center, scale) = robust_center_scale(&transformed);
            features.push(Feature {
                name: feature_name(&source),
                source,
                transform,
                center,
                scale,
                range: Some([min, max]),
            });
        }
        let mut pipeline = FeaturePipeline {
            imputer,
            features,
            compiled: Vec::new(),
            reported: Vec::new(),
            known_levels: Vec::new(),
        };
        pipeline.prepare()?;
        Ok(pipeline)
    }

    /// Resolves column names to indices; call after deserialising.
    pub fn prepare(&mut self) -> Result<(), PipelineError> {
        if !self.imputer.index() {
            return Err(PipelineError::IncompleteImputer);
        }
        self.compiled = self
            .features
            .iter()
            .map(|f| compile(&f.source))
            .collect::<Result<_, _>>()?;
        self.reported = self
            .features
            .iter()
            .map(|f| reported_name(&f.source))
            .collect();
        let mut known_levels = vec![Vec::new(); COLUMNS.len()];
        for compiled in &self.compiled {
            if let Compiled::Level(index, level) = compiled {
                known_levels[*index].push(level.clone());
            }
        }
        self.known_levels = known_levels;
        Ok(())
    }

    /// Feature names in design-matrix order.
    pub fn feature_names(&self) -> Vec<String> {
        self.features.iter().map(|f| f.name.clone()).collect()
    }

    /// Fills a house's gaps with the training statistics, naming the filled columns.
    pub fn fill<'a>(&'a self, house: &House, imputed: &mut Vec<&'static str>) -> Filled<'a> {
        self.imputer.fill(house, imputed)
    }

    /// Encodes a filled house into `out` (cleared first), adding out-of-range values and
    /// unseen levels to `report`.
    pub fn encode_filled(&self, filled: &Filled, out: &mut Vec<f64>, report: &mut EncodeReport) {
        out.clear();
        for ((f, c), reported) in self.features.iter().zip(&self.compiled).zip(&self.reported) {
            let mut x = raw_value(c, filled);
            if let Some([lo, hi]) = f.range
                && !(lo..=hi).contains(&x)
            {
                if let Some(field) = reported {
                    report.out_of_range.push(OutOfRange {
                        field,
                        value: x,
                        range: [lo, hi],
                    });
                }
                x = x.clamp(lo, hi);
            }
            out.push((f.transform.apply(x) - f.center) / f.scale);
        }
        for (index, column) in COLUMNS.iter().enumerate() {
            if column.kind != Kind::Nominal {
                continue;
            }
            let level = filled.levels[index];
            if !self.known_levels[index].iter().any(|l| l == level) {
                report
                    .unknown_levels
                    .push(format!("{}={level}", column.name));
            }
        }
    }

    /// Encodes one house into `out` (cleared first), reporting imputed fields, out-of-range
    /// values and unseen levels.
    pub fn encode_into(&self, house: &House, out: &mut Vec<f64>) -> EncodeReport {
        let mut report = EncodeReport::default();
        let filled = self.imputer.fill(house, &mut report.imputed);
        self.encode_filled(&filled, out, &mut report);
        report
    }

    /// Encodes one house into a new vector.
    pub fn encode(&self, house: &House) -> (Vec<f64>, EncodeReport) {
        let mut out = Vec::with_capacity(self.features.len());
        let report = self.encode_into(house, &mut out);
        (out, report)
    }
}

fn indicator_feature(source: Source) -> Feature {
    Feature {
        name: feature_name(&source),
        source,
        transform: Transform::Identity,
        center: 0.0,
        scale: 1.0,
        range: None,
    }
}

fn raw_value(compiled: &Compiled, filled: &Filled) -> f64 {
    match compiled {
        Compiled::Value(i) => filled.numbers[*i],
        Compiled::Level(i, level) => f64::from(u8::from(filled.levels[*i] == level)),
        Compiled::Equals(i, value) => f64::from(u8::from(filled.numbers[*i] == *value)),
        Compiled::Derived(d) => d.value(filled),
    }
}

fn is_indicator(source: &Source) -> bool {
    match source {
        Source::Level { .. } | Source::Equals { .. } => true,
        Source::Derived { derived } => derived.is_indicator(),
        Source::Value { .. } => false,
    }
}

fn feature_name(source: &Source) -> String {
    match source {
        Source::Value { column } => column.clone(),
        Source::Level { column, level } => format!("{column}={level}"),
        Source::Equals { column, value } => format!("{column}={value}"),
        Source::Derived { derived } => derived.name().to_string(),
    }
}

/// Median and interquartile range; for a mostly constant feature (interquartile range 0, e.g.
/// pool area, zero for all but a few houses) the full range instead, so its rare values land
/// within one unit like an indicator's. Its standard deviation would put them tens of units out
/// and let the lasso price a handful of houses by a large contrast of two such features (a pool
/// of 650 sq ft once cost a held-out house 99% of its price).
fn robust_center_scale(values: &[f64]) -> (f64, f64) {
    let center = stats::median(values).unwrap_or(0.0);
    let iqr =
        stats::quantile(values, 0.75).unwrap_or(0.0) - stats::quantile(values, 0.25).unwrap_or(0.0);
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        });
    let scale = if iqr > f64::EPSILON {
        iqr
    } else if max - min > f64::EPSILON {
        max - min
    } else {
        1.0
    };
    (center, scale)
}
