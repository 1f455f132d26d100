//! The API and the batch CLI price every house of the bundled data identically, to the last bit:
//! `amesops train` writes a model in a scratch folder, `amesops predict` prices
//! `datasets/ames.csv` with it, and the predictor router (in process) prices each row sent as a
//! JSON object (numbers as JSON numbers, `NA` as null), one by one and in batches.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::router::{call, post_json};
use crate::support::stores::NullStore;
use predictor::{AppState, loader, router};
use serde_json::{Map, Number, Value, json};
use support::{BIN, describe, project_root};

fn amesops(dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run the amesops binary");
    assert!(output.status.success(), "{}", describe(args, &output));
    output
}

/// One CSV cell as a client would send it: `NA` → null, a number → a JSON number, else text.
fn cell_json(cell: &str) -> Value {
    if cell == "NA" {
        return Value::Null;
    }
    if let Ok(n) = cell.parse::<i64>() {
        return json!(n);
    }
    match cell.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(cell.to_string()),
    }
}

/// `(Id, house as a JSON object)` for every row of the CSV.
fn rows_as_json(csv_path: &Path) -> Vec<(i64, Value)> {
    let mut reader = csv::Reader::from_path(csv_path).unwrap();
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            let object: Map<String, Value> = header
                .iter()
                .zip(row.iter())
                .map(|(name, cell)| (name.to_string(), cell_json(cell)))
                .collect();
            let id = object["Id"].as_i64().unwrap();
            (id, Value::Object(object))
        })
        .collect()
}

/// `Id → SalePrice` as written by `amesops predict`.
fn cli_prices(path: &Path) -> HashMap<i64, f64> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    assert_eq!(reader.headers().unwrap(), vec!["Id", "SalePrice"]);
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            (row[0].parse().unwrap(), row[1].parse().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn api_and_cli_prices_agree_to_the_last_bit_on_every_row() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        project_root().join("params.yaml"),
        dir.path().join("params.yaml"),
    )
    .unwrap();
    let data = project_root().join("datasets/ames.csv");
    let data = data.to_str().unwrap();
    amesops(
        dir.path(),
        &["train", "--data", data, "--out", "model.json"],
    );
    amesops(
        dir.path(),
        &[
            "predict",
            "--model",
            "model.json",
            "--input",
            data,
            "--output",
            "predictions.csv",
        ],
    );
    let cli = cli_prices(&dir.path().join("predictions.csv"));
    let rows = rows_as_json(Path::new(data));
    assert_eq!(rows.len(), 1460);
    assert_eq!(cli.len(), rows.len());

    let model_path = dir.path().join("model.json");
    let model = loader::load_model(model_path.to_str().unwrap(), None)
        .await
        .unwrap();
    let app = router(AppState::new(model, Box::new(NullStore)));

    let mut mismatches = Vec::new();
    for (id, house) in &rows {
        let reply = call(&app, post_json("/predict", house.to_string())).await;
        assert_eq!(
            reply.status.as_u16(),
            200,
            "Id {id}: {}",
            String::from_utf8_lossy(&reply.body)
        );
        let api = reply.json()["price"].as_f64().unwrap();
        let expected = cli[id];
        if api.to_bits() != expected.to_bits() {
            mismatches.push(format!("Id {id}: API {api:?} vs CLI {expected:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} rows differ, e.g.:\n{}",
        mismatches.len(),
        rows.len(),
        mismatches[..mismatches.len().min(10)].join("\n")
    );

    // The batch endpoint prices them identically too, in order (500 full rows stay under the
    // 1 MiB body limit).
    for chunk in rows.chunks(500) {
        let houses: Vec<&Value> = chunk.iter().map(|(_, house)| house).collect();
        let body = json!({ "houses": houses }).to_string();
        let reply = call(&app, post_json("/predict/batch", body)).await;
        assert_eq!(reply.status.as_u16(), 200);
        let predictions = reply.json()["predictions"].as_array().unwrap().clone();
        assert_eq!(predictions.len(), chunk.len());
        for ((id, _), prediction) in chunk.iter().zip(&predictions) {
            let api = prediction["price"].as_f64().unwrap();
            assert_eq!(api.to_bits(), cli[id].to_bits(), "batch, Id {id}");
        }
    }
}
