//! A house as the model sees it: one optional, validated value per schema column.
//!
//! Every entry point (CSV rows, JSON requests, form fields) goes through [`HouseBuilder`], so a
//! value accepted at training time is accepted, and typed, identically at serving time.

use serde::Serialize;

use crate::schema::{self, COLUMNS, Column, Kind};

/// A validated value of one column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// A number of an integer or real column, or an integer-valued grade.
    Number(f64),
    /// A documented level of a categorical column (its canonical code).
    Level(&'static str),
    /// The documented "NA" level meaning the house has none (no pool, no garage…).
    NoneLevel,
}

/// One house: a value or a gap per column, in [`COLUMNS`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct House {
    values: [Option<Value>; 79],
}

impl Default for House {
    fn default() -> Self {
        Self { values: [None; 79] }
    }
}

impl House {
    /// The value of a column by index, `None` when the field was not given.
    pub fn get(&self, index: usize) -> Option<Value> {
        self.values.get(index).copied().flatten()
    }

    /// The value of a column by any accepted name.
    pub fn get_by_name(&self, name: &str) -> Option<Value> {
        schema::column_index(name).and_then(|i| self.get(i))
    }

    /// Sets a column that has already been validated.
    pub fn set(&mut self, index: usize, value: Option<Value>) {
        if let Some(slot) = self.values.get_mut(index) {
            *slot = value;
        }
    }

    /// Names of the columns without a value, which the pipeline will impute.
    pub fn missing(&self) -> Vec<&'static str> {
        COLUMNS
            .iter()
            .zip(self.values.iter())
            .filter(|(_, v)| v.is_none())
            .map(|(c, _)| c.name)
            .collect()
    }

    /// The value of a column written as the normalised CSV cell (`NA` for none or missing).
    pub fn cell(&self, index: usize) -> String {
        match self.get(index) {
            Some(Value::Number(x)) => format_number(x),
            Some(Value::Level(code)) => code.to_string(),
            Some(Value::NoneLevel) | None => "NA".to_string(),
        }
    }

    /// The house as a JSON object of the fields that have values (Kaggle names).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        for (column, value) in COLUMNS.iter().zip(self.values.iter()) {
            let json = match value {
                Some(Value::Number(x)) => serde_json::Number::from_f64(*x)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null),
                Some(Value::Level(code)) => serde_json::Value::String((*code).to_string()),
                Some(Value::NoneLevel) => serde_json::Value::String("NA".to_string()),
                None => continue,
            };
            map.insert(column.name.to_string(), json);
        }
        map
    }
}

/// Formats a number the way the data files write it: integers without a decimal point.
pub fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// One problem with one field of an input, named so a person can fix it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The field name as given by the caller.
    pub field: String,
    /// The offending value, as text.
    pub value: String,
    /// What rule the value breaks and what would be accepted.
    pub problem: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.value.is_empty() {
            write!(f, "{}: {}", self.field, self.problem)
        } else {
            write!(f, "{} = {:?}: {}", self.field, self.value, self.problem)
        }
    }
}

/// A raw value before validation, from any input format.
#[derive(Debug, Clone, Copy)]
pub enum Raw<'a> {
    /// Text, as in a CSV cell or a JSON string.
    Text(&'a str),
    /// A JSON number.
    Number(f64),
    /// An explicit missing value: JSON `null`, CSV `NA` or an empty cell.
    Missing,
    /// Something that can never be a value (a JSON object, array or boolean).
    Invalid(&'static str),
}

/// Collects fields of one house and every problem with them, so all are reported at once.
#[derive(Debug, Default)]
pub struct HouseBuilder {
    house: House,
    errors: Vec<FieldError>,
}

impl HouseBuilder {
    /// Starts an empty house.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one field by any accepted name; an unknown name is recorded as an error.
    pub fn field(&mut self, name: &str, raw: Raw<'_>) {
        match schema::column_index(name) {
            Some(index) => self.column(index, name, raw),
            None => {
                let close = schema::close_matches(name);
                let problem = if close.is_empty() {
                    "unknown column".to_string()
                } else {
                    format!("unknown column; did you mean {}?", close.join(", "))
                };
                self.errors.push(FieldError {
                    field: name.to_string(),
                    value: String::new(),
                    problem,
                });
            }
        }
    }

    /// Adds one field by column index; `given` is the name the caller used.
    pub fn column(&mut self, index: usize, given: &str, raw: Raw<'_>) {
        let Some(column) = COLUMNS.get(index) else {
            return;
        };
        match parse_value(column, raw) {
            Ok(value) => self.house.set(index, value),
            Err(problem) => self.errors.push(FieldError {
                field: given.to_string(),
                value: raw_text(raw),
                problem,
            }),
        }
    }

    /// The house with every invalid field left missing (the pipeline imputes it), and the
    /// problems of those fields.
    pub fn finish_imputing(self) -> (House, Vec<FieldError>) {
        (self.house, self.errors)
    }

    /// The house, or every problem found in its fields.
    pub fn finish(self) -> Result<House, Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(self.house)
        } else {
            Err(self.errors)
        }
    }
}

/// Builds a house from a JSON object; `Id` and `SalePrice` are ignored.
pub fn house_from_json(
    object: &serde_json::Map<String, serde_json::Value>,
) -> Result<House, Vec<FieldError>> {
    let mut builder = HouseBuilder::new();
    for (name, value) in object {
        if name == schema::ID_COLUMN || name == schema::TARGET_COLUMN {
            continue;
        }
        let raw = match value {
            serde_json::Value::Null => Raw::Missing,
            serde_json::Value::String(s) => Raw::Text(s),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(x) => Raw::Number(x),
                None => Raw::Invalid("a number too large to represent"),
            },
            serde_json::Value::Bool(_) => Raw::Invalid("a boolean"),
            serde_json::Value::Array(_) => Raw::Invalid("an array"),
            serde_json::Value::Object(_) => Raw::Invalid("an object"),
        };
        builder.field(name, raw);
    }
    builder.finish()
}

fn raw_text(raw: Raw<'_>) -> String {
    match raw {
        Raw::Text(s) => s.chars().take(80).collect(),
        Raw::Number(x) => format_number(x),
        Raw::Missing => "NA".to_string(),
        Raw::Invalid(what) => format!("<{what}>"),
    }
}

fn is_missing_text(text: &str) -> bool {
    text.is_empty() || text == "NA"
}

/// Types and checks one raw value against its column's rules.
fn parse_value(column: &Column, raw: Raw<'_>) -> Result<Option<Value>, String> {
    let raw = match raw {
        Raw::Text(text) if is_missing_text(text.trim()) => Raw::Missing,
        other => other,
    };
    match (column.kind, raw) {
        (_, Raw::Invalid(what)) => Err(format!(
            "expected {}, got {what}",
            expected_description(column)
        )),
        (_, Raw::Missing) => Ok(column.na_means_none.then_some(Value::NoneLevel)),
        (Kind::Integer | Kind::Real, Raw::Text(text)) => match text.trim().parse::<f64>() {
            Ok(x) => check_number(column, x).map(|x| Some(Value::Number(x))),
            Err(_) => Err(format!("expected {}", expected_description(column))),
        },
        (Kind::Integer | Kind::Real, Raw::Number(x)) => {
            check_number(column, x).map(|x| Some(Value::Number(x)))
        }
        (Kind::Ordinal | Kind::Nominal, Raw::Text(text)) => level(column, text.trim()),
        (Kind::Ordinal | Kind::Nominal, Raw::Number(x)) => level(column, &format_number(x)),
    }
}

fn level(column: &Column, text: &str) -> Result<Option<Value>, String> {
    match column.canonical_level(text) {
        Some(code) => Ok(Some(Value::Level(code))),
        None => Err(format!(
            "not a documented level; expected one of {}",
            level_list(column)
        )),
    }
}

fn level_list(column: &Column) -> String {
    let mut codes: Vec<&str> = column.levels.iter().map(|l| l.code).collect();
    if column.na_means_none {
        codes.push("NA");
    }
    codes.join(", ")
}

fn expected_description(column: &Column) -> String {
    match column.kind {
        Kind::Integer => "a whole number".to_string(),
        Kind::Real => "a number".to_string(),
        Kind::Ordinal | Kind::Nominal => format!("one of {}", level_list(column)),
    }
}

fn check_number(column: &Column, x: f64) -> Result<f64, String> {
    if !x.is_finite() {
        return Err("must be a finite number".to_string());
    }
    if column.kind == Kind::Integer && x.fract() != 0.0 {
        return Err("must be a whole number".to_string());
    }
    let unit = column.unit.map(|u| format!(" {u}")).unwrap_or_default();
    if let Some(min) = column.min
        && x < min
    {
        return Err(if min == 0.0 {
            "must not be negative".to_string()
        } else {
            format!("must be at least {}{unit}", format_number(min))
        });
    }
    if let Some(max) = column.max
        && x > max
    {
        return Err(format!("must be at most {}{unit}", format_number(max)));
    }
    Ok(x)
}
