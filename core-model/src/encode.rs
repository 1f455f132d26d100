//! The feature pipeline: house → numeric feature vector, fitted on training rows only.
//!
//! Training builds its design matrix by calling [`FeaturePipeline::encode`] on every row, and
//! serving calls the very same function, so a house is encoded identically in both places.

use serde::{Deserialize, Serialize};

use crate::derived::Derived;
use crate::fill::{Imputer, NONE_CODE};
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

impl FeaturePipeline {
    /// Fits imputation, transforms and scaling on training houses only.
    pub fn fit(houses: &[House], params: &EncodeParams) -> Result<FeaturePipeline, PipelineError> {
        if houses.is_empty() {
            return Err(PipelineError::NoRows);
        }
        let imputer = Imputer::fit(houses);
        let mut scratch = Vec::new();
        let filled: Vec<_> = houses
            .iter()
            .map(|h| imputer.fill(h, &mut scratch))
            .collect();
        let mut sources = Vec::new();
        for (index, column) in COLUMNS.iter().enumerate() {
            match column.kind {
                Kind::Integer | Kind::Real | Kind::Ordinal => sources.push(Source::Value {
                    column: column.name.to_string(),
                }),
                Kind::Nominal => {
                    let mut codes: Vec<&str> = column.levels.iter().map(|l| l.code).collect();
                    codes.push(NONE_CODE);
                    for code in codes {
                        let count = filled.iter().filter(|f| f.levels[index] == code).count();
                        if count >= params.min_level_count.max(1) {
                            sources.push(Source::Level {
                                column: column.name.to_string(),
                                level: code.to_string(),
                            });
                        }
                    }
                }
            }
            if CATEGORICAL_NUMBERS.contains(&column.name) {
                let mut values: Vec<f64> = filled.iter().map(|f| f.numbers[index]).collect();
                values.sort_by(f64::total_cmp);
                values.dedup();
                for value in values {
                    let count = filled.iter().filter(|f| f.numbers[index] == value).count();
                    if count >= params.min_level_count.max(1) {
                        sources.push(Source::Equals {
                            column: column.name.to_string(),
                            value,
                        });
                    }
                }
            }
        }
        sources.extend(
            Derived::ALL
                .iter()
                .map(|&derived| Source::Derived { derived }),
        );

        let mut features = Vec::with_capacity(sources.len());
        for source in sources {
            let compiled = compile(&source)?;
            let raw: Vec<f64> = filled.iter().map(|f| raw_value(&compiled, f)).collect();
            let (min, max) = raw
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                    (lo.min(x), hi.max(x))
                });
            if min == max {
                continue; // constant in training: carries no information
            }
            let indicator = is_indicator(&source);
            let transform = if !indicator
                && min >= 0.0
                && stats::skewness(&raw).abs() > params.skew_threshold
            {
                Transform::BoxCox1p {
                    lambda: params.boxcox_lambda,
                }
            } else {
                Transform::Identity
            };
            let (center, scale) = if indicator {
                (0.0, 1.0)
            } else {
                let transformed: Vec<f64> = raw.iter().map(|&x| transform.apply(x)).collect();
                robust_center_scale(&transformed)
            };
            features.push(Feature {
                name: feature_name(&source),
                source,
                transform,
                center,
                scale,
            });
        }
        let mut pipeline = FeaturePipeline {
            imputer,
            features,
            compiled: Vec::new(),
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

    /// Encodes one house into `out` (cleared first), reporting imputed fields and unseen levels.
    pub fn encode_into(&self, house: &House, out: &mut Vec<f64>) -> EncodeReport {
        let mut report = EncodeReport::default();
        let filled = self.imputer.fill(house, &mut report.imputed);
        out.clear();
        out.extend(self.features.iter().zip(&self.compiled).map(|(f, c)| {
            let x = f.transform.apply(raw_value(c, &filled));
            (x - f.center) / f.scale
        }));
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
        report
    }

    /// Encodes one house into a new vector.
    pub fn encode(&self, house: &House) -> (Vec<f64>, EncodeReport) {
        let mut out = Vec::with_capacity(self.features.len());
        let report = self.encode_into(house, &mut out);
        (out, report)
    }
}

fn raw_value(compiled: &Compiled, filled: &crate::fill::Filled) -> f64 {
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

/// Median and interquartile range, falling back to the standard deviation, then 1.
fn robust_center_scale(values: &[f64]) -> (f64, f64) {
    let center = stats::median(values).unwrap_or(0.0);
    let iqr =
        stats::quantile(values, 0.75).unwrap_or(0.0) - stats::quantile(values, 0.25).unwrap_or(0.0);
    let scale = if iqr > f64::EPSILON {
        iqr
    } else {
        match stats::std_dev(values) {
            Some(s) if s > f64::EPSILON => s,
            _ => 1.0,
        }
    };
    (center, scale)
}
