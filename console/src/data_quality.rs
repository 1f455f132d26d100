//! The data-quality report of `amesops fetch` (`data/fetch-report.json`): what the source held,
//! which values were invalid, and what was done about them. DVC tracks it as a metric of the
//! fetch stage; the Pipeline view shows its summary.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Where the pipeline's fetch stage writes its report, relative to the project root.
pub const REPORT_PATH: &str = "data/fetch-report.json";

/// One invalid value and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replacement {
    /// Line of the source the row starts on (the header is line 1).
    pub line: u64,
    /// The row's `Id` (`Order` in De Cock's file), when readable.
    pub id: Option<i64>,
    /// The field as the source names it.
    pub field: String,
    /// The value found.
    pub value: String,
    /// The rule it breaks.
    pub problem: String,
}

/// The report `fetch` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FetchReport {
    /// The source read (`bundled`, a path or a URL).
    pub source: String,
    /// md5 of the source's bytes.
    pub md5: String,
    /// The policy applied: `fail`, `skip` or `impute`.
    pub on_invalid: String,
    /// Data rows in the source.
    pub rows_read: usize,
    /// Rows written to the normalised CSV.
    pub rows_written: usize,
    /// Rows kept with one or more invalid values replaced by missing ones (imputed by the model).
    pub rows_with_replaced_values: usize,
    /// Invalid values replaced.
    pub values_replaced: usize,
    /// Rows left out (`skip`, or an `Id`/`SalePrice` that `impute` cannot repair).
    pub rows_skipped: usize,
    /// Every replaced value.
    pub replacements: Vec<Replacement>,
    /// Every problem of the rows left out.
    pub skipped: Vec<Replacement>,
    /// Closed sales appended to the data (`fetch.include_sales`); included in `rows_written`.
    #[serde(default)]
    pub sales_appended: usize,
    /// Closed sales left out (no record to take the house from, simulated, or invalid), with why.
    #[serde(default)]
    pub sales_left_out: Vec<String>,
}

impl FetchReport {
    /// One line for a status display, e.g. `2,930 rows · 1 value imputed in 1 row`.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("{} rows", thousands(self.rows_read))];
        if self.values_replaced > 0 {
            parts.push(format!(
                "{} value{} imputed in {} row{}",
                self.values_replaced,
                plural(self.values_replaced),
                self.rows_with_replaced_values,
                plural(self.rows_with_replaced_values)
            ));
        }
        if self.rows_skipped > 0 {
            parts.push(format!(
                "{} row{} skipped",
                self.rows_skipped,
                plural(self.rows_skipped)
            ));
        }
        if self.values_replaced == 0 && self.rows_skipped == 0 {
            parts.push("all valid".to_string());
        }
        parts.join(" · ")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report of the project at `root`, when the fetch stage has written one.
pub fn load(root: &Path) -> Option<FetchReport> {
    let bytes = std::fs::read(root.join(REPORT_PATH)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_counts_what_was_done() {
        let mut report = FetchReport {
            source: "bundled".into(),
            md5: String::new(),
            on_invalid: "impute".into(),
            rows_read: 2930,
            rows_written: 2930,
            rows_with_replaced_values: 0,
            values_replaced: 0,
            rows_skipped: 0,
            replacements: Vec::new(),
            skipped: Vec::new(),
            sales_appended: 0,
            sales_left_out: Vec::new(),
        };
        assert_eq!(report.summary(), "2,930 rows · all valid");
        report.values_replaced = 1;
        report.rows_with_replaced_values = 1;
        assert_eq!(report.summary(), "2,930 rows · 1 value imputed in 1 row");
        report.rows_skipped = 2;
        assert_eq!(
            report.summary(),
            "2,930 rows · 1 value imputed in 1 row · 2 rows skipped"
        );
    }
}
