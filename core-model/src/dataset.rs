//! Reading and writing house tables (CSV or TSV, Kaggle or De Cock naming).
//!
//! Reading validates every row through [`HouseBuilder`], so a file is either fully understood
//! or every bad cell is reported with its line and column.

use std::io::{Read, Write};
use std::path::Path;

use serde::Serialize;
use thiserror::Error;

use crate::house::{FieldError, House, HouseBuilder, Raw, format_number};
use crate::schema::{self, COLUMNS};

/// One valid row of a table.
#[derive(Debug, Clone)]
pub struct Record {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// `Id` (Kaggle) or `Order` (De Cock), when present.
    pub id: Option<i64>,
    /// The validated house.
    pub house: House,
    /// `SalePrice`, when the file has it.
    pub price: Option<f64>,
}

/// Every problem of one invalid row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    /// The line of the file the row starts on.
    pub line: u64,
    /// Its `Id`, when readable.
    pub id: Option<i64>,
    /// Every field that broke a rule.
    pub errors: Vec<FieldError>,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(id) = self.id {
            write!(f, " (Id {id})")?;
        }
        let problems: Vec<String> = self.errors.iter().map(|e| e.to_string()).collect();
        write!(f, ": {}", problems.join("; "))
    }
}

/// A parsed table: its valid rows and its invalid ones, kept apart.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Rows that passed validation (or were repaired by [`OnInvalid::Impute`]), in file order.
    pub records: Vec<Record>,
    /// Rows that did not, in file order.
    pub invalid: Vec<RowError>,
    /// Rows kept in `records` whose invalid values were replaced by missing ones (imputed by
    /// the model's pipeline), with those values' problems; empty unless reading with
    /// [`OnInvalid::Impute`].
    pub imputed: Vec<RowError>,
    /// Whether the header has a `SalePrice` column.
    pub has_price: bool,
}

/// What reading does with a row that has invalid values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// Refuse the file (every problem is still listed).
    #[default]
    Fail,
    /// Leave the row out.
    Skip,
    /// Treat each invalid value as missing, so the pipeline imputes it, and keep the row. A row
    /// whose `Id` or `SalePrice` is invalid cannot be repaired and is left out.
    Impute,
}

impl OnInvalid {
    /// The name used on the command line and in `params.yaml`.
    pub fn name(self) -> &'static str {
        match self {
            OnInvalid::Fail => "fail",
            OnInvalid::Skip => "skip",
            OnInvalid::Impute => "impute",
        }
    }
}

/// Labelled houses, ready for training or evaluation.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Row identifiers, when the file had them.
    pub ids: Vec<Option<i64>>,
    /// The houses.
    pub houses: Vec<House>,
    /// Sale prices in dollars, one per house.
    pub prices: Vec<f64>,
}

impl Dataset {
    /// Number of houses.
    pub fn len(&self) -> usize {
        self.houses.len()
    }

    /// Whether there are no houses.
    pub fn is_empty(&self) -> bool {
        self.houses.is_empty()
    }

    /// The subset at the given row indices, in that order.
    pub fn select(&self, rows: &[usize]) -> Dataset {
        Dataset {
            ids: rows.iter().map(|&i| self.ids[i]).collect(),
            houses: rows.iter().map(|&i| self.houses[i].clone()).collect(),
            prices: rows.iter().map(|&i| self.prices[i]).collect(),
        }
    }
}

/// Why a table could not be read.
#[derive(Debug, Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path that failed.
        path: String,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file is not well-formed CSV/TSV.
    #[error("malformed table at line {line}: {message}")]
    Malformed {
        /// The line where parsing stopped.
        line: u64,
        /// What the parser expected.
        message: String,
    },
    /// The header names columns that are not part of the schema.
    #[error("unknown column(s) in header: {}", .0.join("; "))]
    UnknownColumns(Vec<String>),
    /// The header names the same column twice.
    #[error("column {0} appears twice in the header")]
    DuplicateColumn(String),
    /// The table has no header or no rows.
    #[error("the table is empty")]
    Empty,
    /// Rows failed validation.
    #[error("{} invalid row(s); first: {}", .0.len(), .0.first().map(|r| r.to_string()).unwrap_or_default())]
    InvalidRows(Vec<RowError>),
    /// Training or evaluation needs a `SalePrice` column.
    #[error("the table has no SalePrice column, which training and evaluation need")]
    NoPrice,
}

impl Table {
    /// Reads a table from a file.
    pub fn read_path(path: &Path) -> Result<Table, DataError> {
        Table::read_path_with(path, OnInvalid::Fail)
    }

    /// Reads a table from a file with a policy for invalid values (see [`Table::read_with`]).
    pub fn read_path_with(path: &Path, policy: OnInvalid) -> Result<Table, DataError> {
        let bytes = std::fs::read(path).map_err(|source| DataError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Table::read_with(bytes.as_slice(), policy)
    }

    /// Reads a table, detecting tab or comma separation from the header line.
    pub fn read<R: Read>(reader: R) -> Result<Table, DataError> {
        Table::read_with(reader, OnInvalid::Fail)
    }

    /// Reads a table; with [`OnInvalid::Impute`], invalid explanatory values are replaced by
    /// missing ones and their rows kept (listed in [`Table::imputed`]). Other policies read as
    /// [`Table::read`]: invalid rows are in [`Table::invalid`] for the caller to refuse or skip.
    pub fn read_with<R: Read>(mut reader: R, policy: OnInvalid) -> Result<Table, DataError> {
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .map_err(|source| DataError::Io {
                path: "<input>".to_string(),
                source,
            })?;
        let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let delimiter = if first_line.contains(&b'\t') {
            b'\t'
        } else {
            b','
        };
        let mut csv = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            // Under `skip` and `impute` a row with too few or too many fields is one bad row, not
            // a bad file: it is reported like any other invalid row and left out.
            .flexible(true)
            .from_reader(bytes.as_slice());
        let mut lines = LineCounter::new(&bytes);
        let header = csv.headers().map_err(|e| malformed(e, &mut lines))?.clone();
        if header.is_empty() {
            return Err(DataError::Empty);
        }
        let layout = Layout::from_header(&header)?;
        let mut table = Table {
            has_price: layout.price.is_some(),
            ..Table::default()
        };
        for row in csv.records() {
            let row = row.map_err(|e| malformed(e, &mut lines))?;
            let line = lines.line_at(row.position());
            if row.len() != header.len() {
                let message = format!(
                    "expected {} fields like the header, found {}",
                    header.len(),
                    row.len()
                );
                if policy == OnInvalid::Fail {
                    return Err(DataError::Malformed { line, message });
                }
                let id = layout
                    .id
                    .and_then(|i| row.get(i))
                    .and_then(|v| v.parse::<i64>().ok());
                table.invalid.push(RowError {
                    line,
                    id,
                    errors: vec![FieldError {
                        field: "(row)".to_string(),
                        value: format!("{} fields", row.len()),
                        problem: format!("{message}; a shifted row cannot be repaired"),
                    }],
                });
                continue;
            }
            match layout.parse_row(&row, policy == OnInvalid::Impute) {
                Ok(((id, house, price), replaced)) => {
                    if !replaced.is_empty() {
                        table.imputed.push(RowError {
                            line,
                            id,
                            errors: replaced,
                        });
                    }
                    table.records.push(Record {
                        line,
                        id,
                        house,
                        price,
                    });
                }
                Err((id, errors)) => table.invalid.push(RowError { line, id, errors }),
            }
        }
        Ok(table)
    }

    /// The labelled dataset; fails when any row is invalid or a price is missing.
    pub fn into_dataset(self) -> Result<Dataset, DataError> {
        if !self.invalid.is_empty() {
            return Err(DataError::InvalidRows(self.invalid));
        }
        if !self.has_price {
            return Err(DataError::NoPrice);
        }
        let mut dataset = Dataset::default();
        let mut unpriced = Vec::new();
        for record in self.records {
            match record.price {
                Some(price) => {
                    dataset.ids.push(record.id);
                    dataset.houses.push(record.house);
                    dataset.prices.push(price);
                }
                None => unpriced.push(RowError {
                    line: record.line,
                    id: record.id,
                    errors: vec![FieldError {
                        field: schema::TARGET_COLUMN.to_string(),
                        value: "NA".to_string(),
                        problem: "a sale price is required here".to_string(),
                    }],
                }),
            }
        }
        if !unpriced.is_empty() {
            return Err(DataError::InvalidRows(unpriced));
        }
        if dataset.is_empty() {
            return Err(DataError::Empty);
        }
        Ok(dataset)
    }
}

/// Line numbers from byte offsets: with CRLF line breaks the csv crate's own line count is one
/// short (BurntSushi/rust-csv#395), and Windows-made CSV files are common.
struct LineCounter<'a> {
    bytes: &'a [u8],
    byte: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            byte: 0,
            line: 1,
        }
    }

    /// The 1-based line a position starts on; positions come in increasing order (rows).
    fn line_at(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return 0;
        };
        let mut target = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        // After a CRLF the crate reports the LF's offset; a record never starts with one.
        if self.bytes.get(target) == Some(&b'\n') {
            target += 1;
        }
        if target < self.byte {
            self.byte = 0;
            self.line = 1;
        }
        let newlines = self.bytes[self.byte..target]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += newlines as u64;
        self.byte = target;
        self.line
    }
}

fn malformed(error: csv::Error, lines: &mut LineCounter<'_>) -> DataError {
    let line = lines.line_at(error.position());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("expected {expected_len} fields like the header, found {len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => error.to_string(),
    };
    DataError::Malformed { line, message }
}

/// A valid row: id, house, price.
type ParsedRow = (Option<i64>, House, Option<f64>);

/// A parsed row with the invalid explanatory fields left missing, or the row's id and every
/// problem.
type RowResult = Result<(ParsedRow, Vec<FieldError>), (Option<i64>, Vec<FieldError>)>;

/// Where each schema column sits in a particular file.
struct Layout {
    columns: Vec<(usize, usize, String)>,
    id: Option<usize>,
    order: Option<usize>,
    price: Option<usize>,
}

impl Layout {
    fn from_header(header: &csv::StringRecord) -> Result<Layout, DataError> {
        let mut layout = Layout {
            columns: Vec::new(),
            id: None,
            order: None,
            price: None,
        };
        let mut seen = [false; 79];
        let mut unknown = Vec::new();
        for (position, name) in header.iter().enumerate() {
            if name == schema::ID_COLUMN {
                layout.id = Some(position);
            } else if name == "Order" {
                layout.order = Some(position);
            } else if name == schema::TARGET_COLUMN {
                layout.price = Some(position);
            } else if schema::DECOCK_ID_COLUMNS.contains(&name) {
                continue;
            } else if let Some(index) = schema::column_index(name) {
                if std::mem::replace(&mut seen[index], true) {
                    return Err(DataError::DuplicateColumn(name.to_string()));
                }
                layout.columns.push((position, index, name.to_string()));
            } else {
                let close = schema::close_matches(name);
                unknown.push(if close.is_empty() {
                    format!("{name:?}")
                } else {
                    format!("{name:?} (did you mean {}?)", close.join(", "))
                });
            }
        }
        if unknown.is_empty() {
            Ok(layout)
        } else {
            Err(DataError::UnknownColumns(unknown))
        }
    }

    /// A valid row (with the explanatory fields that were invalid and left missing, when
    /// `impute`), or the row's id and every problem.
    fn parse_row(&self, row: &csv::StringRecord, impute: bool) -> RowResult {
        let mut errors = Vec::new();
        let id = match self.id.or(self.order).map(|p| row.get(p).unwrap_or("")) {
            None | Some("") | Some("NA") => None,
            Some(text) => match text.parse::<i64>() {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError {
                        field: schema::ID_COLUMN.to_string(),
                        value: text.to_string(),
                        problem: "expected a whole number".to_string(),
                    });
                    None
                }
            },
        };
        let price = match self.price.map(|p| row.get(p).unwrap_or("")) {
            None | Some("") | Some("NA") => None,
            Some(text) => match text.parse::<f64>() {
                Ok(p) if p.is_finite() && p > 0.0 => Some(p),
                _ => {
                    errors.push(FieldError {
                        field: schema::TARGET_COLUMN.to_string(),
                        value: text.to_string(),
                        problem: "expected a positive number of dollars".to_string(),
                    });
                    None
                }
            },
        };
        let mut builder = HouseBuilder::new();
        for (position, index, name) in &self.columns {
            builder.column(*index, name, Raw::Text(row.get(*position).unwrap_or("")));
        }
        let (house, mut field_errors) = builder.finish_imputing();
        if errors.is_empty() && (impute || field_errors.is_empty()) {
            Ok(((id, house, price), field_errors))
        } else {
            errors.append(&mut field_errors);
            Err((id, errors))
        }
    }
}

/// Writes houses as a normalised Kaggle-named CSV (`Id`, the 79 columns, `SalePrice` if given).
pub fn write_csv<W: Write>(
    writer: W,
    ids: &[Option<i64>],
    houses: &[House],
    prices: Option<&[f64]>,
) -> Result<(), csv::Error> {
    let mut csv = csv::Writer::from_writer(writer);
    let mut header = vec![schema::ID_COLUMN];
    header.extend(COLUMNS.iter().map(|c| c.name));
    if prices.is_some() {
        header.push(schema::TARGET_COLUMN);
    }
    csv.write_record(&header)?;
    for (row, house) in houses.iter().enumerate() {
        let mut cells = Vec::with_capacity(header.len());
        let id = ids.get(row).copied().flatten().unwrap_or(row as i64 + 1);
        cells.push(id.to_string());
        cells.extend((0..COLUMNS.len()).map(|i| house.cell(i)));
        if let Some(price) = prices.and_then(|p| p.get(row)) {
            // An unknown price (NaN) is written as `NA`, which reads back as unpriced.
            cells.push(if price.is_finite() {
                format_number(*price)
            } else {
                "NA".to_string()
            });
        }
        csv.write_record(&cells)?;
    }
    csv.flush()?;
    Ok(())
}
