//! `fetch` and `split`: the data stages.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use core_model::dataset::{DataError, OnInvalid, write_csv};
use core_model::{Table, digest, split as splitting};

use crate::data_quality::{FetchReport, Replacement};
use crate::files;
use crate::params::{HoldOut, Params};

/// The data snapshot shipped inside the binary, so `fetch` works offline and anywhere.
pub const BUNDLED: &[u8] = crate::bundled::DATA;

/// Arguments of `amesops fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// `bundled` (the 1,460-row snapshot), a CSV/TSV path, or an http(s) URL. Default: params.yaml `fetch.source`.
    #[arg(long)]
    pub source: Option<String>,
    /// Where to write the normalised Kaggle-named CSV.
    #[arg(long, default_value = "data/ames.csv")]
    pub out: PathBuf,
    /// Expected md5 of a downloaded source. Default: params.yaml `fetch.md5`.
    #[arg(long)]
    pub md5: Option<String>,
    /// Parameters file.
    #[arg(long, default_value_os_t = super::default_params())]
    pub params: PathBuf,
    /// Rows with invalid values: `fail`, `skip`, or `impute` (each invalid value treated as
    /// missing, the row kept). Default: params.yaml `fetch.on_invalid` (impute).
    #[arg(long, value_enum)]
    pub on_invalid: Option<super::model::InvalidPolicy>,
    /// Where to write the data-quality report (JSON: rows read, rows with replaced values,
    /// each replacement). Default: `fetch-report.json` beside `--out`.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Append the closed sales of this store (a folder or s3://bucket[/prefix]; default: the
    /// configured target's) to the data. Default: params.yaml `fetch.include_sales`.
    #[arg(long, value_name = "STORE")]
    pub include_sales_from: Option<String>,
}

/// Arguments of `amesops split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// The normalised data.
    #[arg(long, default_value = "data/ames.csv")]
    pub data: PathBuf,
    /// Where to write the training rows.
    #[arg(long, default_value = "data/train.csv")]
    pub train: PathBuf,
    /// Where to write the held-out test rows.
    #[arg(long, default_value = "data/test.csv")]
    pub test: PathBuf,
    /// Share of rows held out. Default: params.yaml `split.test_fraction`.
    #[arg(long)]
    pub test_fraction: Option<f64>,
    /// Shuffle seed. Default: params.yaml `split.seed`.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Which rows to hold out: `random` (seeded), `newest` (the latest sales by YrSold and
    /// MoSold), or `auto` (`newest` when fetch.include_sales appends closed sales). Default:
    /// params.yaml `split.hold_out`.
    #[arg(long, value_enum)]
    pub hold_out: Option<crate::params::HoldOut>,
    /// Parameters file.
    #[arg(long, default_value_os_t = super::default_params())]
    pub params: PathBuf,
}

/// Reads the raw bytes of a source, reporting download progress.
fn read_source(source: &str) -> Result<Vec<u8>> {
    if source == "bundled" {
        // The project's datasets/ames.csv: the file dvc.yaml declares as fetch's dependency.
        return crate::provenance::bundled_dataset();
    }
    if source.starts_with("http://") || source.starts_with("https://") {
        return download(source);
    }
    std::fs::read(source).with_context(|| format!("cannot read data source {source}"))
}

fn download(url: &str) -> Result<Vec<u8>> {
    eprintln!("downloading {url}");
    let mut response = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()
        .context("cannot start the HTTP client")?
        .get(url)
        .send()
        .with_context(|| format!("cannot download {url}"))?;
    if !response.status().is_success() {
        bail!("downloading {url} failed: HTTP {}", response.status());
    }
    let total = response.content_length();
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut last_report = 0;
    loop {
        let n = response
            .read(&mut chunk)
            .with_context(|| format!("download of {url} was interrupted"))?;
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if bytes.len() - last_report >= 256 * 1024 {
            last_report = bytes.len();
            match total {
                Some(t) => eprintln!("  {} / {} KiB", bytes.len() / 1024, t / 1024),
                None => eprintln!("  {} KiB", bytes.len() / 1024),
            }
        }
    }
    eprintln!("downloaded {} KiB", bytes.len() / 1024);
    Ok(bytes)
}

/// Turns a table error into a message that names the file.
pub fn table_error(path: &Path, error: DataError) -> anyhow::Error {
    match error {
        DataError::InvalidRows(rows) => {
            let mut message = format!("{}: {} invalid row(s)", path.display(), rows.len());
            for row in rows.iter().take(10) {
                message.push_str(&format!("\n  {row}"));
            }
            if rows.len() > 10 {
                message.push_str(&format!("\n  … and {} more", rows.len() - 10));
            }
            anyhow::anyhow!(message)
        }
        other => anyhow::anyhow!("{}: {other}", path.display()),
    }
}

/// `amesops fetch`.
pub fn fetch(args: FetchArgs, global: &crate::config::GlobalArgs) -> Result<ExitCode> {
    let params = Params::load(&args.params, args.params != super::default_params())?;
    let source = args.source.unwrap_or(params.fetch.source);
    let bytes = read_source(&source)?;
    let md5 = digest::md5_hex(&bytes);
    let is_url = source.starts_with("http://") || source.starts_with("https://");
    if let Some(expected) = args.md5.or(params.fetch.md5).filter(|_| is_url)
        && !expected.eq_ignore_ascii_case(&md5)
    {
        bail!(
            "{source} has md5 {md5}, but {expected} was expected: the source changed; check it and update fetch.md5 in params.yaml"
        );
    }
    let label = Path::new(&source);
    let policy = args
        .on_invalid
        .map_or(params.fetch.on_invalid, OnInvalid::from);
    let table = Table::read_with(bytes.as_slice(), policy).map_err(|e| table_error(label, e))?;
    let report_path = args.report.clone().unwrap_or_else(|| {
        args.out
            .parent()
            .unwrap_or(Path::new(""))
            .join("fetch-report.json")
    });
    let mut report = fetch_report(&source, &md5, policy, &table);
    let mut table = table;
    if (params.fetch.include_sales || args.include_sales_from.is_some())
        && (policy != OnInvalid::Fail || table.invalid.is_empty())
    {
        let config = crate::config::Config::load(global)?;
        let uri = args
            .include_sales_from
            .clone()
            .unwrap_or_else(|| crate::backend::store::store_uri(&config));
        let rows = tokio::runtime::Runtime::new()
            .context("cannot start the async runtime")?
            .block_on(async {
                let store = crate::backend::store::open_store(&uri, &config)
                    .await
                    .map_err(anyhow::Error::msg)?;
                crate::operations::monitor::sales::training_rows(
                    store.as_ref(),
                    crate::operations::monitor::dates::today(),
                )
                .await
                .map_err(anyhow::Error::from)
            })
            .with_context(|| format!("cannot read the sales of {uri} (fetch.include_sales)"))?;
        report.sales_appended = rows.rows.len();
        report.sales_left_out = rows.left_out;
        report.rows_written += rows.rows.len();
        if !table.has_price && !rows.rows.is_empty() {
            bail!(
                "{source} has no SalePrice column: sales can only be appended to priced training data (fetch.include_sales)"
            );
        }
        table.records.extend(rows.rows);
        eprintln!(
            "appended {} closed sale(s) from {uri}{}",
            report.sales_appended,
            if report.sales_left_out.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} left out (see the report)",
                    report.sales_left_out.len()
                )
            }
        );
    }
    files::write_bytes(&report_path, &serde_json::to_vec_pretty(&report)?)?;
    if policy == OnInvalid::Fail && !table.invalid.is_empty() {
        return Err(table_error(label, DataError::InvalidRows(table.invalid)).context(
            "invalid rows refused (on_invalid is fail: --on-invalid, or fetch.on_invalid in params.yaml); `impute` keeps these rows with the invalid values imputed, `skip` leaves them out",
        ));
    }
    for r in report.replacements.iter().take(10) {
        eprintln!(
            "imputed: line {}{}: {} = {:?}: {}",
            r.line,
            r.id.map(|id| format!(" (Id {id})")).unwrap_or_default(),
            r.field,
            r.value,
            r.problem
        );
    }
    for r in report.skipped.iter().take(10) {
        eprintln!(
            "skipped: line {}{}: {} = {:?}: {}",
            r.line,
            r.id.map(|id| format!(" (Id {id})")).unwrap_or_default(),
            r.field,
            r.value,
            r.problem
        );
    }
    let ids: Vec<_> = table.records.iter().map(|r| r.id).collect();
    let houses: Vec<_> = table.records.iter().map(|r| r.house.clone()).collect();
    let prices: Option<Vec<f64>> = table.has_price.then(|| {
        table
            .records
            .iter()
            .map(|r| r.price.unwrap_or(f64::NAN))
            .collect()
    });
    files::write_atomic(&args.out, |w| {
        Ok(write_csv(w, &ids, &houses, prices.as_deref())?)
    })?;
    eprintln!(
        "fetched {} houses from {source} (md5 {md5}) -> {}; {} -> {}",
        houses.len(),
        args.out.display(),
        report.summary(),
        report_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Each house's sale month as `year * 12 + month` (`None` when either is missing), the order
/// the `newest` hold-out sorts by.
fn sale_months(dataset: &core_model::dataset::Dataset) -> Vec<Option<i64>> {
    let number = |house: &core_model::house::House, name| match house.get_by_name(name) {
        Some(core_model::house::Value::Number(x)) if x.is_finite() => Some(x as i64),
        _ => None,
    };
    dataset
        .houses
        .iter()
        .map(|house| Some(number(house, "YrSold")? * 12 + number(house, "MoSold")?))
        .collect()
}

/// The data-quality report of a read source.
fn fetch_report(source: &str, md5: &str, policy: OnInvalid, table: &Table) -> FetchReport {
    let flatten = |rows: &[core_model::dataset::RowError]| -> Vec<Replacement> {
        rows.iter()
            .flat_map(|row| {
                row.errors.iter().map(|e| Replacement {
                    line: row.line,
                    id: row.id,
                    field: e.field.clone(),
                    value: e.value.clone(),
                    problem: e.problem.clone(),
                })
            })
            .collect()
    };
    let replacements = flatten(&table.imputed);
    let written = if policy == OnInvalid::Fail && !table.invalid.is_empty() {
        0
    } else {
        table.records.len()
    };
    FetchReport {
        source: source.to_string(),
        md5: md5.to_string(),
        on_invalid: policy.name().to_string(),
        rows_read: table.records.len() + table.invalid.len(),
        rows_written: written,
        rows_with_replaced_values: table.imputed.len(),
        values_replaced: replacements.len(),
        rows_skipped: if policy == OnInvalid::Fail {
            0
        } else {
            table.invalid.len()
        },
        replacements,
        skipped: flatten(&table.invalid),
        sales_appended: 0,
        sales_left_out: Vec::new(),
    }
}

/// `amesops split`.
pub fn split(args: SplitArgs) -> Result<ExitCode> {
    let params = Params::load(&args.params, args.params != super::default_params())?;
    let fraction = args.test_fraction.unwrap_or(params.split.test_fraction);
    if !(0.0..1.0).contains(&fraction) {
        bail!("test fraction must be at least 0 and below 1, got {fraction}");
    }
    let seed = args.seed.unwrap_or(params.split.seed);
    let dataset = Table::read_path(&args.data)
        .and_then(Table::into_dataset)
        .map_err(|e| table_error(&args.data, e))?;
    let hold_out = args
        .hold_out
        .unwrap_or(params.split.hold_out)
        .resolve(params.fetch.include_sales);
    let (train_rows, test_rows) = match hold_out {
        HoldOut::Newest => splitting::newest(&sale_months(&dataset), fraction),
        _ => splitting::train_test(dataset.len(), fraction, seed),
    };
    for (path, rows) in [(&args.train, &train_rows), (&args.test, &test_rows)] {
        let part = dataset.select(rows);
        files::write_atomic(path, |w| {
            Ok(write_csv(w, &part.ids, &part.houses, Some(&part.prices))?)
        })?;
    }
    let rule = match hold_out {
        HoldOut::Newest => "newest sales held out".to_string(),
        _ => format!("seed {seed}"),
    };
    eprintln!(
        "split {} houses ({rule}): {} train -> {}, {} test -> {}",
        dataset.len(),
        train_rows.len(),
        args.train.display(),
        test_rows.len(),
        args.test.display()
    );
    Ok(ExitCode::SUCCESS)
}
