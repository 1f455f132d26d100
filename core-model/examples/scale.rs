//! Training at 100× the bundled rows: time and peak memory.
//!
//! `cargo run --release -p core-model --example scale [-- --copies 100] [--write PATH]`
//!
//! Each bundled house is repeated `copies` times (146,000 rows for 100), every area and the
//! price jittered by up to ±5 % so no two rows are equal. With `--write`, the rows are written
//! as a CSV (for timing `amesops train` end to end) instead of being trained on here.

use std::time::Instant;

use core_model::dataset::write_csv;
use core_model::house::Value;
use core_model::schema::{COLUMNS, Kind};
use core_model::split::SplitMix64;
use core_model::{Dataset, Table, TrainParams, train};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut copies = 100usize;
    let mut write = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--copies" => copies = args.next().ok_or("--copies N")?.parse()?,
            "--write" => write = Some(args.next().ok_or("--write PATH")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");
    let base = Table::read_path(std::path::Path::new(path))?.into_dataset()?;
    let dataset = generate(&base, copies);
    if let Some(out) = write {
        let file = std::io::BufWriter::new(std::fs::File::create(&out)?);
        write_csv(file, &dataset.ids, &dataset.houses, Some(&dataset.prices))?;
        println!("wrote {} rows to {out}", dataset.len());
        return Ok(());
    }
    drop(base);
    let params = TrainParams::default();
    let started = Instant::now();
    let trained = train::train(&dataset, &params, &mut |p| eprintln!("  {p:?}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let q = &trained.quality;
    println!(
        "{} rows: train + {}×{}-fold CV + holdout in {seconds:.1} s; peak RSS {} MiB",
        trained.rows,
        q.repeats,
        q.folds,
        peak_rss_kib() / 1024
    );
    for kind in core_model::ModelKind::ALL {
        let m = q.of(kind);
        println!(
            "  {:<6} CV {:.4} ± {:.4}",
            kind.name(),
            m.cv_rmse_log_mean,
            m.cv_rmse_log_sd
        );
    }
    Ok(())
}

fn generate(base: &Dataset, copies: usize) -> Dataset {
    let mut rng = SplitMix64::new(2024);
    let mut jitter = move || 0.95 + 0.1 * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut out = Dataset::default();
    for copy in 0..copies {
        for (i, house) in base.houses.iter().enumerate() {
            let mut house = house.clone();
            for (index, column) in COLUMNS.iter().enumerate() {
                if column.kind == Kind::Real
                    && let Some(Value::Number(x)) = house.get(index)
                {
                    let max = column.max.unwrap_or(f64::MAX);
                    house.set(index, Some(Value::Number((x * jitter()).round().min(max))));
                }
            }
            out.ids.push(Some((copy * base.len() + i + 1) as i64));
            out.houses.push(house);
            out.prices.push((base.prices[i] * jitter()).round());
        }
    }
    out
}

/// Peak resident set size of this process (VmHWM), in KiB.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}
