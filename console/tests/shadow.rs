//! `amesops shadow` on a local store with known records: the report's numbers against a hand
//! computation (both models priced here, |Δ| sorted, quantiles interpolated between order
//! statistics), a candidate identical to production moving nothing, records outside the window
//! or not traffic (smoke tests, canary replays) left out; and the gate refusing a candidate
//! that moves real traffic by more than `retrain.max_shadow_p99_change` (exit 3, production
//! unchanged, `--allow-worse` overrides).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use core_model::Artifact;
use core_model::house::house_from_json;
use serde_json::{Value, json};
use support::{BIN, describe, project_root};

struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("amesops.toml"), "").unwrap();
        std::fs::copy(
            project_root().join("params.yaml"),
            dir.path().join("params.yaml"),
        )
        .unwrap();
        Project { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .env("AMESOPS_TARGET", "local")
            .env_remove("MLFLOW_TRACKING_URI")
            .env_remove("AMESOPS_TRACKER")
            .output()
            .unwrap()
    }

    fn succeed(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{}", describe(args, &output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Sets `train.<key>` in params.yaml.
    fn set_train(&self, key: &str, value: &str) {
        let params = std::fs::read_to_string(self.path("params.yaml")).unwrap();
        let line = params
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap()
            .to_string();
        std::fs::write(
            self.path("params.yaml"),
            params.replace(&line, &format!("  {key}: {value}")),
        )
        .unwrap();
    }

    /// Trains `out` with the estimator `model` and the lasso's `alpha`.
    fn train(&self, model: &str, alpha: &str, out: &str) -> PathBuf {
        self.set_train("model", model);
        self.set_train("alpha", alpha);
        let data = project_root().join("datasets/ames.csv");
        self.succeed(&["train", "--data", data.to_str().unwrap(), "--out", out]);
        self.path(out)
    }
}

/// The houses of the bundled data, as a client sends them (with their `Id`).
fn houses(n: usize) -> Vec<Value> {
    let table = core_model::Table::read(
        std::fs::File::open(project_root().join("datasets/ames.csv")).unwrap(),
    )
    .unwrap();
    table
        .records
        .iter()
        .take(n)
        .enumerate()
        .map(|(i, r)| {
            let mut house = r.house.to_json();
            house.insert("Id".to_string(), json!(i as i64 + 1));
            Value::Object(house)
        })
        .collect()
}

fn day(offset: i64) -> String {
    let date = time::OffsetDateTime::now_utc().date() - time::Duration::days(offset);
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Writes one record under `store/predictions/dt=<day>/`; returns its id.
fn write_record(store: &Path, day: &str, n: usize, house: &Value, source: &str) -> String {
    let id = format!("00000000-0000-4000-8000-{n:012}");
    let stamp = format!("{}T10:00:{:02}.{:06}Z", day, n % 60, n);
    let record = json!({
        "id": id, "timestamp": stamp, "model_id": "whatever", "input": house,
        "imputed": [], "price": 100000.0, "latency_us": 10, "source": source
    });
    let folder = store.join(format!("predictions/dt={day}"));
    std::fs::create_dir_all(&folder).unwrap();
    let name = format!("{}-{id}.json", stamp.replace(['-', ':'], ""));
    std::fs::write(folder.join(name), record.to_string()).unwrap();
    id
}

/// Writes a closed sale of the prediction `id`.
fn write_sale(store: &Path, day: &str, id: &str, price: f64) {
    let folder = store.join(format!("sales/dt={day}"));
    std::fs::create_dir_all(&folder).unwrap();
    let sale = json!({
        "prediction_id": id, "sale_price": price, "sold_on": day,
        "joined": {"model_id": "whatever", "predicted_price": 100000.0,
                   "predicted_at": format!("{day}T10:00:00.000000Z"), "source": "api"}
    });
    std::fs::write(folder.join(format!("{id}.json")), sale.to_string()).unwrap();
}

/// numpy's default quantile: linear between order statistics at p·(n − 1).
fn numpy_quantile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let (low, high) = (position.floor() as usize, position.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (position - low as f64)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-12)
}

#[test]
fn the_report_matches_a_hand_computation_and_an_identical_candidate_moves_nothing() {
    let project = Project::new();
    let production = project.train("linear", "0.0005", "production.json");
    let candidate = project.train("linear", "0.004", "candidate.json");
    let store = project.path("store");
    let houses = houses(40);
    // In the window: 30 today, 10 two days ago; out of it: 5 ten days ago; not traffic: a smoke
    // test and a canary replay today.
    let mut in_window = Vec::new();
    for (n, house) in houses.iter().enumerate() {
        let when = if n < 30 { day(0) } else { day(2) };
        in_window.push((write_record(&store, &when, n, house, "api"), house.clone()));
    }
    for (n, house) in houses.iter().take(5).enumerate() {
        write_record(&store, &day(10), 100 + n, house, "api");
    }
    write_record(&store, &day(0), 200, &houses[0], "smoke");
    write_record(&store, &day(0), 201, &houses[1], "replay");
    // Three of them closed as sales.
    let sold = [(0usize, 210_000.0), (5, 150_000.0), (33, 320_000.0)];
    for (i, price) in sold {
        write_sale(&store, &day(0), &in_window[i].0, price);
    }

    let out = project.succeed(&[
        "shadow",
        "--candidate",
        candidate.to_str().unwrap(),
        "--production",
        production.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--since",
        "7d",
        "--json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();

    // By hand.
    let p = Artifact::load(&production).unwrap();
    let c = Artifact::load(&candidate).unwrap();
    let mut changes = Vec::new();
    let mut by_id = Vec::new();
    for (id, house) in &in_window {
        let parsed = house_from_json(house.as_object().unwrap()).unwrap();
        let old = p.artifact.model.predict(&parsed).price;
        let new = c.artifact.model.predict(&parsed).price;
        changes.push(new / old - 1.0);
        by_id.push((id.clone(), old, new));
    }
    let mut absolute: Vec<f64> = changes.iter().map(|c| c.abs()).collect();
    absolute.sort_by(f64::total_cmp);
    assert_eq!(report["records"], 40, "{report}");
    assert_eq!(report["production_model"], json!(p.id));
    assert_eq!(report["candidate_model"], json!(c.id));
    let change = &report["change"];
    for (field, p) in [("median", 0.5), ("p90", 0.9), ("p99", 0.99)] {
        let expected = numpy_quantile(&absolute, p);
        assert!(
            close(change[field].as_f64().unwrap(), expected),
            "{field}: {} vs {expected}",
            change[field]
        );
    }
    assert!(close(
        change["max"].as_f64().unwrap(),
        *absolute.last().unwrap()
    ));
    let mean = changes.iter().sum::<f64>() / changes.len() as f64;
    assert!(close(change["mean"].as_f64().unwrap(), mean));

    // The ten that moved most, largest first, with the fields that drive it.
    let top = report["top"].as_array().unwrap();
    assert_eq!(top.len(), 10);
    let biggest = changes
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .unwrap()
        .0;
    assert_eq!(top[0]["id"], json!(by_id[biggest].0), "{report}");
    assert!(close(top[0]["change"].as_f64().unwrap(), changes[biggest]));
    assert!(close(
        top[0]["production_price"].as_f64().unwrap(),
        by_id[biggest].1
    ));
    assert!(
        !top[0]["drivers"].as_array().unwrap().is_empty(),
        "{report}"
    );
    for pair in top.windows(2) {
        assert!(
            pair[0]["change"].as_f64().unwrap().abs() >= pair[1]["change"].as_f64().unwrap().abs()
        );
    }

    // Realized error on the three sold houses.
    let rmse = |price_of: &dyn Fn(usize) -> f64| {
        (sold
            .iter()
            .map(|(i, sale)| (price_of(*i).ln() - sale.ln()).powi(2))
            .sum::<f64>()
            / sold.len() as f64)
            .sqrt()
    };
    let realized = &report["realized"];
    assert_eq!(realized["sales"], 3, "{report}");
    assert!(close(
        realized["production_rmse_log"].as_f64().unwrap(),
        rmse(&|i| by_id[i].1)
    ));
    assert!(close(
        realized["candidate_rmse_log"].as_f64().unwrap(),
        rmse(&|i| by_id[i].2)
    ));

    // The same model as candidate: nothing moves.
    let out = project.succeed(&[
        "shadow",
        "--candidate",
        production.to_str().unwrap(),
        "--production",
        production.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--json",
    ]);
    let same: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(same["records"], 40);
    for field in ["median", "p90", "p99", "max", "mean"] {
        assert_eq!(same["change"][field].as_f64(), Some(0.0), "{field}: {same}");
    }
    assert_eq!(
        same["realized"]["production_rmse_log"],
        same["realized"]["candidate_rmse_log"]
    );
}

#[test]
fn an_empty_window_says_so() {
    let project = Project::new();
    let production = project.train("linear", "0.0005", "production.json");
    let store = project.path("store");
    write_record(&store, &day(30), 1, &houses(1)[0], "api");
    let out = project.succeed(&[
        "shadow",
        "--candidate",
        production.to_str().unwrap(),
        "--production",
        production.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--json",
    ]);
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["records"], 0);
    assert_eq!(report["change"], Value::Null);
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("no stored traffic"),
        "{report}"
    );
}

fn live_model(project: &Project) -> String {
    let record: Value = serde_json::from_slice(
        &std::fs::read(project.path(".amesops/deployments/deploy.json")).unwrap(),
    )
    .unwrap();
    let live = record["live"].as_u64().unwrap();
    record["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"].as_u64() == Some(live))
        .unwrap()["model_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn the_gate_refuses_a_candidate_that_moves_real_traffic_more_than_max_shadow_p99_change() {
    let project = Project::new();
    project.succeed(&["fetch"]);
    project.succeed(&["split"]);
    // Production: a lasso with a large alpha; the candidate (the blend) is better on the
    // held-out rows, so only the replay can refuse it.
    let first = project.train("linear", "0.004", "models/model.json");
    project.succeed(&["deploy", "--yes"]);
    let first_id = core_model::artifact::model_id(&std::fs::read(&first).unwrap());
    assert_eq!(live_model(&project), first_id);

    let params = std::fs::read_to_string(project.path("params.yaml")).unwrap();
    let limit = params
        .lines()
        .find(|l| l.trim_start().starts_with("max_shadow_p99_change:"))
        .unwrap()
        .to_string();
    std::fs::write(
        project.path("params.yaml"),
        params.replace(&limit, "  max_shadow_p99_change: 0.0001"),
    )
    .unwrap();
    let store = project.path(".amesops");
    for (n, house) in houses(20).iter().enumerate() {
        write_record(&store, &day(1), n, house, "api");
    }
    let second = project.train("linear", "0.0005", "models/model.json");
    let second_id = core_model::artifact::model_id(&std::fs::read(&second).unwrap());

    let refused = project.run(&["deploy", "--yes"]);
    let text = describe(&["deploy", "--yes"], &refused);
    assert_eq!(refused.status.code(), Some(3), "{text}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("max_shadow_p99_change") && stderr.contains("--allow-worse"),
        "{text}"
    );
    assert!(stderr.contains("20 stored requests"), "{text}");
    assert_eq!(live_model(&project), first_id, "production unchanged");

    // The same override as a worse model.
    project.succeed(&["deploy", "--yes", "--allow-worse"]);
    assert_eq!(live_model(&project), second_id);
}

#[test]
fn without_stored_traffic_the_gate_falls_back_to_the_held_out_comparison() {
    let project = Project::new();
    project.succeed(&["fetch"]);
    project.succeed(&["split"]);
    project.train("linear", "0.004", "models/model.json");
    project.succeed(&["deploy", "--yes"]);
    let params = std::fs::read_to_string(project.path("params.yaml")).unwrap();
    let limit = params
        .lines()
        .find(|l| l.trim_start().starts_with("max_shadow_p99_change:"))
        .unwrap()
        .to_string();
    std::fs::write(
        project.path("params.yaml"),
        params.replace(&limit, "  max_shadow_p99_change: 0.0001"),
    )
    .unwrap();
    let second = project.train("linear", "0.0005", "models/model.json");
    let out = project.run(&["deploy", "--yes"]);
    let text = describe(&["deploy", "--yes"], &out);
    assert!(out.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no stored traffic"),
        "{text}"
    );
    assert_eq!(
        live_model(&project),
        core_model::artifact::model_id(&std::fs::read(&second).unwrap())
    );
}
