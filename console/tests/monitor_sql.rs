//! `monitor --sql duckdb` gives the numbers `monitor --json` reports: the generated SQL run by
//! DuckDB (PyPI `duckdb`, in the test venv) over a local store of simulated traffic, a shifted
//! batch of requests and a smoke test; and `simulate --clear` removes exactly what simulate
//! wrote.

mod support;

use std::process::{Command, Stdio};

use console::backend::store::{LocalObjectStore, ObjectStore};
use console::operations::monitor::dates::{day_string, parse_day};
use console::operations::monitor::simulate::{self, Plan};
use console::operations::monitor::{self, Request, sql, window_start};
use core_model::{Artifact, Table};
use serde_json::{Value, json};

const DUCKDB_RUNNER: &str = r#"
import json, sys, duckdb
con = duckdb.connect()
results = []
for statement in sys.stdin.read().split(";\n"):
    lines = [l for l in statement.splitlines() if not l.strip().startswith("--")]
    text = "\n".join(lines).strip()
    if not text:
        continue
    cursor = con.execute(text)
    if text.startswith("SELECT") or text.startswith("WITH"):
        names = [d[0] for d in cursor.description]
        results.append([dict(zip(names, row)) for row in cursor.fetchall()])
print(json.dumps({"performance": results[0], "drift": results[1] if len(results) > 1 else []}))
"#;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

async fn put(store: &dyn ObjectStore, key: &str, value: Value) {
    store
        .put(key, serde_json::to_vec(&value).expect("json"))
        .await
        .expect("put");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_over_the_store_gives_the_figures_of_monitor_json() {
    let python = crate::support::servers::find_tool("moto_server").with_file_name("python");
    let model =
        Artifact::from_bytes(crate::support::fixtures::trained_model_bytes()).expect("model");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = LocalObjectStore::new(dir.path());
    let today = parse_day("2026-11-27").expect("day");
    let bytes = std::fs::read(crate::support::fixtures::bundled_csv()).expect("data");
    let mut table = Table::read(bytes.as_slice()).expect("table");
    table.records.truncate(300);
    let plan = Plan {
        days: 40,
        today,
        seed: 3,
    };
    let done = simulate::simulate(&store, &model, &table, &plan)
        .await
        .expect("simulate");
    assert_eq!(done.records, 300);
    assert!(done.sales > 50, "{done:?}");
    // Shifted requests today (bigger houses, another neighbourhood, some fields left out), and
    // a smoke test that must not count.
    for i in 0..50 {
        put(
            &store,
            &format!("predictions/dt=2026-11-27/20261127T1200{i:02}.000000Z-shift-{i}.json"),
            json!({"id": format!("shift-{i}"), "timestamp": "2026-11-27T12:00:00.000000Z",
                   "model_id": model.id, "price": 450000.0 + i as f64, "imputed": [], "latency_us": 1,
                   "input": {"GrLivArea": 3500 + i, "Neighborhood": "NoRidge", "OverallQual": 10,
                             "LotFrontage": null, "KitchenQual": "Ex"}}),
        )
        .await;
    }
    put(
        &store,
        "predictions/dt=2026-11-27/20261127T130000.000000Z-smoke.json",
        json!({"id": "smoke", "timestamp": "2026-11-27T13:00:00.000000Z", "model_id": model.id,
               "price": 1.0, "imputed": [], "latency_us": 1, "source": "smoke",
               "input": {"GrLivArea": 100000}}),
    )
    .await;

    let request = Request {
        since_days: 30,
        today,
        model_id: Some(model.id.clone()),
        sketch: model.artifact.reference.clone(),
        production: Some(model.id.clone()),
    };
    let report = monitor::monitor(&store, &request).await.expect("monitor");
    assert!(!report.performance.is_empty());
    assert_eq!(
        report.drift.len(),
        80,
        "79 input fields and the predicted price"
    );
    let flagged: Vec<&str> = report.flagged.iter().map(String::as_str).collect();
    assert!(
        flagged.contains(&"GrLivArea") && flagged.contains(&"Neighborhood"),
        "{flagged:?}"
    );

    let from = day_string(window_start(today, 30));
    let text = sql::duckdb(
        &dir.path().display().to_string(),
        &from,
        model.artifact.reference.as_ref(),
        Some(&model.id),
    );
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(DUCKDB_RUNNER)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(text.as_bytes()).expect("write SQL");
    }
    let output = child.wait_with_output().expect("python runs");
    assert!(
        output.status.success(),
        "duckdb failed (is duckdb from scripts/requirements.txt in the venv?):\n{}\nSQL:\n{}",
        String::from_utf8_lossy(&output.stderr),
        text.chars().take(3000).collect::<String>()
    );
    let got: Value = serde_json::from_slice(&output.stdout).expect("JSON from the runner");

    let performance = got["performance"].as_array().expect("rows");
    assert_eq!(performance.len(), report.performance.len());
    for (row, want) in performance.iter().zip(&report.performance) {
        assert_eq!(row["model_id"], json!(want.model_id));
        assert_eq!(row["week"], json!(want.week));
        assert_eq!(row["n"].as_u64(), Some(want.n as u64));
        for (name, value) in [
            ("rmse_log", want.rmse_log),
            ("mae", want.mae),
            ("mape", want.mape),
            ("bias", want.bias),
            ("coverage", want.coverage.unwrap_or(f64::NAN)),
        ] {
            let sql = row[name].as_f64().unwrap_or(f64::NAN);
            assert!(
                close(sql, value),
                "{name} of {}: duckdb {sql}, monitor {value}",
                want.week
            );
        }
        assert_eq!(row["production"], json!(want.production));
    }
    let drift = got["drift"].as_array().expect("rows");
    assert_eq!(drift.len(), report.drift.len());
    for want in &report.drift {
        let row = drift
            .iter()
            .find(|r| r["field"] == json!(want.field))
            .unwrap_or_else(|| panic!("no SQL row for {}", want.field));
        let psi = row["psi"].as_f64().expect("psi");
        assert!(
            close(psi, want.psi),
            "psi of {}: duckdb {psi}, monitor {}",
            want.field,
            want.psi
        );
        let change = row["missing_rate_change"].as_f64().expect("change");
        assert!(
            close(change, want.missing_rate_change),
            "missing_rate_change of {}: duckdb {change}, monitor {}",
            want.field,
            want.missing_rate_change
        );
        assert_eq!(row["flagged"], json!(want.flagged), "{}", want.field);
    }

    // simulate --clear removes exactly the simulated records and their sales.
    let cleared = simulate::clear(&store).await.expect("clear");
    assert_eq!(cleared.records, 300);
    assert_eq!(cleared.sales, done.sales);
    let after = monitor::monitor(&store, &request).await.expect("monitor");
    assert_eq!(after.records, 50, "the real requests stay");
    assert!(after.performance.is_empty());
}
