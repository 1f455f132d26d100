//! The tracker with a long history: 10,000 generated runs (15 params, 26 metrics with a
//! five-step history for each fold metric, 10 tags each) in the embedded SQLite store —
//! listing (`amesops runs`, the console's 200), filtering and sorting with MLflow's syntax,
//! and comparing 5 runs — and, when `AMESOPS_BENCH_MLFLOW` names an MLflow server
//! (scripts/bench-tracker starts one), the same against it after pushing the 10,000 runs
//! there with `runs push`'s code (its time is printed).
//!
//! `AMESOPS_BENCH_RUNS` changes the number of runs. The generated store is kept in the
//! temporary folder and reused by later runs of the bench.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use console::backend::tracker::transfer::{self, TransferOptions};
use console::backend::tracker::{
    Batch, KeyValue, Metric, MlflowTracker, NewRun, RunSearch, RunStatus, SqliteTracker, Tracker,
};
use criterion::{Criterion, criterion_group, criterion_main};

const EXPERIMENT: &str = "bench";
const ALPHAS: [&str; 8] = [
    "0.0001", "0.0002", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.02",
];

fn runs_wanted() -> usize {
    std::env::var("AMESOPS_BENCH_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
}

/// A plausible training run, varied by `i` (a cheap deterministic hash).
fn run_content(i: usize) -> (Vec<KeyValue>, Vec<Metric>) {
    let noise = |salt: usize| ((i.wrapping_mul(2_654_435_761) ^ salt) % 10_000) as f64 / 10_000.0;
    let alpha = ALPHAS[i % ALPHAS.len()];
    let params = vec![
        KeyValue::new("train.alpha", alpha),
        KeyValue::new("train.l1_ratio", [1.0, 0.9, 0.5][i % 3]),
        KeyValue::new("train.cv_folds", 5),
        KeyValue::new("train.seed", 42 + i % 7),
        KeyValue::new("train.max_iterations", 10_000),
        KeyValue::new("train.tolerance", 0.0001),
        KeyValue::new("train.outlier_min_living_area", 4000),
        KeyValue::new("train.outlier_max_price", 300_000),
        KeyValue::new("train.interval", 0.8),
        KeyValue::new("train.skew_threshold", 0.75),
        KeyValue::new("train.scaling", "robust"),
        KeyValue::new("train.target", "log_price"),
        KeyValue::new("split.test_fraction", 0.2),
        KeyValue::new("split.seed", 42),
        KeyValue::new("data.md5", format!("{:032x}", i / 50)),
    ];
    let t = 1_700_000_000_000 + i as i64 * 3_000_000;
    let metric = |key: &str, value: f64, step: i64| Metric {
        key: key.to_string(),
        value,
        timestamp: t + step,
        step,
    };
    let rmse_log = 0.105 + 0.03 * noise(1);
    let mut metrics = Vec::new();
    for (prefix, offset) in [("cv", 0.0), ("train", -0.02), ("test", 0.01)] {
        let r = rmse_log + offset;
        metrics.extend([
            metric(&format!("{prefix}_rmse_log"), r, 0),
            metric(&format!("{prefix}_rmse"), 190_000.0 * r, 0),
            metric(&format!("{prefix}_mae"), 120_000.0 * r, 0),
            metric(&format!("{prefix}_r2"), 1.0 - 6.0 * r * r, 0),
            metric(&format!("{prefix}_mape"), 70.0 * r, 0),
        ]);
    }
    for fold in 1..=5 {
        let r = rmse_log + 0.02 * (noise(fold) - 0.5);
        metrics.extend([
            metric("cv_fold_rmse_log", r, fold as i64),
            metric("cv_fold_rmse", 190_000.0 * r, fold as i64),
            metric("cv_fold_mae", 120_000.0 * r, fold as i64),
            metric("cv_fold_r2", 1.0 - 6.0 * r * r, fold as i64),
            metric("cv_fold_mape", 70.0 * r, fold as i64),
        ]);
    }
    metrics.extend([
        metric("cv_mean_fold_rmse_log", rmse_log + 0.001, 0),
        metric("cv_interval_coverage", 0.78 + 0.04 * noise(9), 0),
        metric("train_rows", 1166.0, 0),
        metric("dropped_outliers", 2.0, 0),
        metric("features", 261.0, 0),
        metric("active_features", 60.0 + (noise(3) * 40.0).round(), 0),
    ]);
    (params, metrics)
}

fn tags(i: usize) -> Vec<KeyValue> {
    vec![
        KeyValue::new("host", "bench-host"),
        KeyValue::new("user", "bench"),
        KeyValue::new("amesops.version", "0.1.0"),
        KeyValue::new("mlflow.user", "bench"),
        KeyValue::new("mlflow.source.name", "amesops train"),
        KeyValue::new("mlflow.source.type", "LOCAL"),
        KeyValue::new("git.commit", format!("{:040x}", i / 20)),
        KeyValue::new("amesops.stage", "train"),
        KeyValue::new("amesops.model_id", format!("{:012x}", i)),
    ]
}

/// The store with `n` generated runs, built once and kept in the temporary folder.
fn generated_store(rt: &tokio::runtime::Runtime, n: usize) -> (SqliteTracker, PathBuf) {
    let dir = std::env::temp_dir().join(format!("amesops-bench-tracker-{n}"));
    let path = dir.join("tracking.db");
    let store = SqliteTracker::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let present = rt.block_on(async {
        let experiment = store.experiment(EXPERIMENT).await?;
        store
            .search_runs(&RunSearch {
                experiment_ids: vec![experiment.experiment_id],
                filter: None,
                order_by: Vec::new(),
                max_results: usize::MAX,
            })
            .await
            .map(|r| r.len())
    });
    let present = present.unwrap_or_else(|e| panic!("{e}"));
    if present >= n {
        eprintln!("reusing {n} generated runs in {}", path.display());
        return (store, path);
    }
    let started = Instant::now();
    rt.block_on(async {
        let experiment = store.experiment(EXPERIMENT).await?;
        for i in present..n {
            let (params, metrics) = run_content(i);
            let start_time = 1_700_000_000_000 + i as i64 * 3_000_000;
            let run = store
                .create_run(&NewRun {
                    experiment_id: experiment.experiment_id.clone(),
                    run_name: Some(format!("train-{i:05}")),
                    start_time,
                    tags: tags(i),
                })
                .await?;
            store
                .log_batch(
                    &run.run_id,
                    &Batch {
                        metrics,
                        params,
                        tags: Vec::new(),
                    },
                )
                .await?;
            store
                .update_run(&run.run_id, RunStatus::Finished, Some(start_time + 2_000))
                .await?;
        }
        console::backend::tracker::TrackerResult::Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "generated {} runs in {:.1} s ({})",
        n - present,
        started.elapsed().as_secs_f64(),
        path.display()
    );
    (store, path)
}

fn search(experiment_id: &str, filter: Option<&str>, order: &[&str], max: usize) -> RunSearch {
    RunSearch {
        experiment_ids: vec![experiment_id.to_string()],
        filter: filter.map(str::to_string),
        order_by: order.iter().map(|o| o.to_string()).collect(),
        max_results: max,
    }
}

/// The same questions the CLI and the console ask, against one store.
fn questions(c: &mut Criterion, label: &str, rt: &tokio::runtime::Runtime, tracker: &dyn Tracker) {
    let experiment = rt
        .block_on(tracker.experiment(EXPERIMENT))
        .unwrap_or_else(|e| panic!("{e}"));
    let id = experiment.experiment_id.as_str();
    let newest = search(id, None, &[], 20);
    let console = search(id, None, &[], 200);
    let filtered = search(
        id,
        Some("metrics.cv_rmse_log < 0.108 and params.train.alpha = '0.0005'"),
        &["metrics.cv_rmse_log ASC"],
        20,
    );
    let filtered_all = search(id, Some("metrics.cv_rmse_log < 0.108"), &[], 100_000);
    let n = rt
        .block_on(tracker.search_runs(&search(id, None, &[], usize::MAX)))
        .map(|r| r.len())
        .unwrap_or_default();
    let matching = rt
        .block_on(tracker.search_runs(&filtered_all))
        .map(|r| r.len())
        .unwrap_or_default();
    eprintln!("{label}: {n} runs, {matching} with metrics.cv_rmse_log < 0.108");
    let five: Vec<String> = rt
        .block_on(tracker.search_runs(&search(id, None, &[], 5)))
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|r| r.info.run_id)
        .collect();
    let mut group = c.benchmark_group(label);
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(8));
    group.bench_function("list: 20 newest (amesops runs)", |b| {
        b.iter(|| rt.block_on(tracker.search_runs(&newest)))
    });
    group.bench_function("list: 200 newest (console Experiments view)", |b| {
        b.iter(|| rt.block_on(tracker.search_runs(&console)))
    });
    group.bench_function(
        "filter: metric and param clauses, sorted by metric, top 20",
        |b| b.iter(|| rt.block_on(tracker.search_runs(&filtered))),
    );
    group.bench_function(
        format!("filter: metrics.cv_rmse_log < 0.108, all {matching} matches"),
        |b| b.iter(|| rt.block_on(tracker.search_runs(&filtered_all))),
    );
    group.bench_function("compare: 5 runs by id (runs compare)", |b| {
        b.iter(|| {
            rt.block_on(async {
                for run_id in &five {
                    tracker.get_run(run_id).await?;
                }
                console::backend::tracker::TrackerResult::Ok(())
            })
        })
    });
    group.bench_function("compare: 5 runs by 8-digit prefix", |b| {
        b.iter(|| {
            rt.block_on(async {
                for run_id in &five {
                    let prefix = format!("attributes.run_id LIKE '{}%'", &run_id[..8]);
                    tracker
                        .search_runs(&search(id, Some(&prefix), &[], 2))
                        .await?;
                }
                console::backend::tracker::TrackerResult::Ok(())
            })
        })
    });
    group.finish();
}

fn sqlite(c: &mut Criterion) {
    let rt = runtime();
    let (store, _) = generated_store(&rt, runs_wanted());
    questions(c, "sqlite", &rt, &store);
}

fn mlflow(c: &mut Criterion) {
    let Some(url) = std::env::var("AMESOPS_BENCH_MLFLOW")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!(
            "AMESOPS_BENCH_MLFLOW is not set: the MLflow half is skipped (scripts/bench-tracker runs it)"
        );
        return;
    };
    let rt = runtime();
    let n = runs_wanted();
    let (store, _) = generated_store(&rt, n);
    let server = MlflowTracker::new(&url, console::backend::tracker::Auth::None)
        .unwrap_or_else(|e| panic!("{e}"));
    let options = TransferOptions {
        experiment: EXPERIMENT.to_string(),
        destination_experiment: EXPERIMENT.to_string(),
        jobs: 8,
        dry_run: false,
    };
    let started = Instant::now();
    let mut last = Instant::now();
    let report = rt
        .block_on(transfer::transfer(
            &store,
            &server,
            &options,
            &mut |event| {
                if let transfer::Progress::Run { done, total, .. } = event
                    && (last.elapsed() > Duration::from_secs(30) || done == total)
                {
                    last = Instant::now();
                    eprintln!("  pushed {done}/{total}");
                }
            },
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "push to MLflow: {} copied, {} up to date, {} failed in {seconds:.1} s ({:.0} runs/s)",
        report.copied,
        report.up_to_date,
        report.failed,
        (report.copied.max(1)) as f64 / seconds
    );
    let started = Instant::now();
    let again = rt
        .block_on(transfer::transfer(&store, &server, &options, &mut |_| {}))
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "push again (nothing to send): {} up to date in {:.1} s",
        again.up_to_date,
        started.elapsed().as_secs_f64()
    );
    questions(c, "mlflow", &rt, &server);
}

criterion_group!(benches, sqlite, mlflow);
criterion_main!(benches);
