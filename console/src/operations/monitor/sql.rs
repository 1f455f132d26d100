//! The monitor's figures as SQL over the Hive-partitioned store, for users who outgrow one
//! machine: DuckDB (`read_json` with `hive_partitioning` over a folder) or Athena (external
//! tables with partition projection over S3). The queries use the same definitions as
//! [`super::performance`] and [`core_model::sketch`]: bins from the model's reference sketch,
//! half a count added to every bin, smoke tests left out.

use core_model::schema::{self, Kind};
use core_model::sketch::{Bins, ReferenceSketch};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Duckdb,
    Athena,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x:?}")
    } else {
        "NULL".to_string()
    }
}

fn raw(dialect: Dialect, field: &str) -> String {
    match dialect {
        Dialect::Duckdb => format!(
            "json_extract_string(input, {})",
            quote(&format!("$.\"{field}\""))
        ),
        Dialect::Athena => format!(
            "json_extract_scalar(input, {})",
            quote(&format!("$[\"{field}\"]"))
        ),
    }
}

/// The bin of one field's value (NULL = missing), as the sketch bins it.
fn bin_expression(dialect: Dialect, field: &str, bins: &Bins) -> String {
    let text = format!("trim({})", raw(dialect, field));
    match bins {
        Bins::Numeric { edges } => {
            let value = format!("TRY_CAST({text} AS DOUBLE)");
            let sum: Vec<String> = edges
                .iter()
                .map(|e| format!("CAST({value} > {} AS INTEGER)", number(*e)))
                .collect();
            let sum = if sum.is_empty() {
                "0".to_string()
            } else {
                sum.join(" + ")
            };
            format!("CASE WHEN {value} IS NULL THEN NULL ELSE {sum} END")
        }
        Bins::Levels { levels } => {
            let whens: Vec<String> = levels
                .iter()
                .enumerate()
                .map(|(i, l)| format!("WHEN {} THEN {i}", quote(&l.to_ascii_lowercase())))
                .collect();
            format!(
                "CASE WHEN {text} IS NULL OR {text} IN ('', 'NA') THEN NULL ELSE CASE lower({text}) {} ELSE {} END END",
                whens.join(" "),
                levels.len()
            )
        }
    }
}

fn performance(dialect: Dialect, production: Option<&str>) -> String {
    let week = match dialect {
        Dialect::Duckdb => "strftime(CAST(sold_on AS DATE), '%G-W%V')",
        Dialect::Athena => "date_format(CAST(sold_on AS DATE), '%x-W%v')",
    };
    let (low, high) = match dialect {
        Dialect::Duckdb => ("\"interval\"[1]", "\"interval\"[2]"),
        Dialect::Athena => ("element_at(\"interval\", 1)", "element_at(\"interval\", 2)"),
    };
    format!(
        "SELECT model_id, {week} AS week, count(*) AS n,
  sqrt(avg(power(ln(predicted_price) - ln(sale_price), 2))) AS rmse_log,
  avg(abs(predicted_price - sale_price)) AS mae,
  100 * avg(abs(predicted_price - sale_price) / sale_price) AS mape,
  avg(CASE WHEN \"interval\" IS NULL THEN NULL WHEN sale_price >= {low} AND sale_price <= {high} THEN 1.0 ELSE 0.0 END) AS coverage,
  avg(predicted_price - sale_price) AS bias,
  model_id = {} AS production
FROM sales
GROUP BY 1, 2
ORDER BY week, model_id;",
        quote(production.unwrap_or(""))
    )
}

fn drift(dialect: Dialect, records: &str, sketch: &ReferenceSketch) -> String {
    let mut observed = Vec::new();
    let mut reference = Vec::new();
    for field in sketch.fields.iter().chain(std::iter::once(&sketch.price)) {
        let bin = if field.field == core_model::sketch::PRICE_FIELD {
            let sum: Vec<String> = match &field.bins {
                Bins::Numeric { edges } => edges
                    .iter()
                    .map(|e| format!("CAST(price > {} AS INTEGER)", number(*e)))
                    .collect(),
                Bins::Levels { .. } => Vec::new(),
            };
            if sum.is_empty() {
                "0".to_string()
            } else {
                sum.join(" + ")
            }
        } else {
            let kind = schema::column(&field.field).map(|c| c.kind);
            match (kind, &field.bins) {
                (Some(Kind::Integer | Kind::Real), bins @ Bins::Numeric { .. })
                | (Some(Kind::Ordinal | Kind::Nominal), bins @ Bins::Levels { .. }) => {
                    bin_expression(dialect, &field.field, bins)
                }
                _ => "NULL".to_string(),
            }
        };
        observed.push(format!(
            "  SELECT {} AS field, {bin} AS bin FROM {records}",
            quote(&field.field)
        ));
        let k = field.bins.len();
        for (i, c) in field.counts.bins.iter().enumerate() {
            reference.push(format!(
                "({}, {i}, {c}, {k}, {}, {})",
                quote(&field.field),
                field.counts.present(),
                number(field.missing_rate())
            ));
        }
    }
    format!(
        "WITH observed AS (
{}
),
reference(field, bin, expected, k, ref_n, ref_missing_rate) AS (VALUES
  {}
),
counts AS (SELECT field, bin, count(*) AS c FROM observed WHERE bin IS NOT NULL GROUP BY field, bin),
totals AS (SELECT field, count(bin) AS n, count(*) AS total FROM observed GROUP BY field),
shares AS (
  SELECT r.field, r.ref_missing_rate, coalesce(t.n, 0) AS n, coalesce(t.total, 0) AS total,
    (CAST(coalesce(c.c, 0) AS DOUBLE) + 0.5) / (coalesce(t.n, 0) + 0.5 * r.k) AS a,
    (CAST(r.expected AS DOUBLE) + 0.5) / (r.ref_n + 0.5 * r.k) AS e,
    r.ref_n
  FROM reference r
  LEFT JOIN counts c ON c.field = r.field AND c.bin = r.bin
  LEFT JOIN totals t ON t.field = r.field
)
SELECT field,
  CASE WHEN max(n) = 0 OR max(ref_n) = 0 THEN 0.0 ELSE sum((a - e) * ln(a / e)) END AS psi,
  CASE WHEN max(total) = 0 THEN 0.0 ELSE CAST(max(total) - max(n) AS DOUBLE) / max(total) - max(ref_missing_rate) END AS missing_rate_change,
  CASE WHEN max(n) = 0 OR max(ref_n) = 0 THEN false ELSE sum((a - e) * ln(a / e)) > 0.2 END AS flagged
FROM shares
GROUP BY field
ORDER BY psi DESC, field;",
        observed.join("\n  UNION ALL\n"),
        reference.join(",\n  ")
    )
}

/// DuckDB: views over the folder (`root`), then the performance and drift queries.
pub fn duckdb(
    root: &str,
    from: &str,
    sketch: Option<&ReferenceSketch>,
    production: Option<&str>,
) -> String {
    let root = root.trim_end_matches('/');
    let mut out = format!(
        "-- amesops monitor --sql duckdb: the same figures as `amesops monitor --json`, from {from}.
CREATE OR REPLACE TEMP TABLE records AS
SELECT * FROM read_json({}, hive_partitioning = true, format = 'auto',
  columns = {{id: 'VARCHAR', timestamp: 'VARCHAR', model_id: 'VARCHAR', input: 'JSON', price: 'DOUBLE', source: 'VARCHAR'}})
WHERE coalesce(source, 'api') <> 'smoke' AND CAST(dt AS VARCHAR) >= {};
CREATE OR REPLACE TEMP TABLE sales AS
SELECT * FROM read_json({}, hive_partitioning = true, format = 'auto',
  columns = {{prediction_id: 'VARCHAR', sale_price: 'DOUBLE', sold_on: 'VARCHAR', model_id: 'VARCHAR', predicted_price: 'DOUBLE', \"interval\": 'DOUBLE[]', source: 'VARCHAR'}})
WHERE CAST(dt AS VARCHAR) >= {};
-- performance
{}
",
        quote(&format!("{root}/predictions/*/*.json")),
        quote(from),
        quote(&format!("{root}/sales/*/*.json")),
        quote(from),
        performance(Dialect::Duckdb, production)
    );
    match sketch {
        Some(sketch) => {
            out.push_str("-- drift\n");
            out.push_str(&drift(Dialect::Duckdb, "records", sketch));
            out.push('\n');
        }
        None => out.push_str("-- drift: the model has no reference sketch\n"),
    }
    out
}

/// Athena: external tables with partition projection over `s3://bucket[/prefix]`, then the
/// queries.
pub fn athena(
    uri: &str,
    from: &str,
    sketch: Option<&ReferenceSketch>,
    production: Option<&str>,
) -> String {
    let base = uri.trim_end_matches('/');
    let table = |name: &str, columns: &str| {
        format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS amesops_{name} (
{columns}
)
PARTITIONED BY (dt string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
LOCATION '{base}/{name}/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.dt.type' = 'date',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.range' = '2020-01-01,NOW',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'storage.location.template' = '{base}/{name}/dt=${{dt}}/'
);"
        )
    };
    let mut out = format!(
        "-- amesops monitor --sql athena: the same figures as `amesops monitor --json`, from {from}.
{}
{}
-- performance
WITH sales AS (SELECT * FROM amesops_sales WHERE dt >= {})
{}
",
        table(
            "predictions",
            "  id string,\n  `timestamp` string,\n  model_id string,\n  input string,\n  price double,\n  source string"
        ),
        table(
            "sales",
            "  prediction_id string,\n  sale_price double,\n  sold_on string,\n  model_id string,\n  predicted_price double,\n  `interval` array<double>,\n  source string"
        ),
        quote(from),
        performance(Dialect::Athena, production)
    );
    if let Some(sketch) = sketch {
        let records = format!(
            "(SELECT * FROM amesops_predictions WHERE dt >= {} AND coalesce(source, 'api') <> 'smoke')",
            quote(from)
        );
        out.push_str("-- drift\n");
        out.push_str(&drift(Dialect::Athena, &records, sketch));
        out.push('\n');
    }
    out
}
