//! `fetch.include_sales: true`: the fetch stage appends the closed sales of the target's store to
//! the data, each with the house of the prediction it closes, `SalePrice` = the sale price and
//! `YrSold`/`MoSold` from `sold_on`; the report counts them; simulated sales and sales naming no
//! record are left out, each with why.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use console::backend::store::{LocalObjectStore, ObjectStore};
use console::operations::monitor::dates::parse_day;
use console::operations::monitor::sales::{self, Intervals};
use predictor::sales::StoredSale;
use serde_json::json;
use support::{BIN, describe, project_root};

async fn put_record(
    store: &dyn ObjectStore,
    id: &str,
    at: &str,
    input: serde_json::Value,
    source: &str,
) {
    let stamp: String = at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    let key = format!("predictions/dt={}/{stamp}-{id}.json", &at[..10]);
    let record = json!({
        "id": id, "timestamp": at, "model_id": "m1", "input": input, "imputed": [],
        "price": 180000.0, "latency_us": 10, "source": source,
    });
    store
        .put(&key, serde_json::to_vec(&record).expect("json"))
        .await
        .expect("put record");
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("open csv");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn fetch_with_include_sales_appends_the_sales_with_their_houses_and_prices() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let params = std::fs::read_to_string(project_root().join("params.yaml")).expect("params");
    assert!(
        params.contains("include_sales: false"),
        "the default is off"
    );
    std::fs::write(
        d.join("params.yaml"),
        params.replace("include_sales: false", "include_sales: true"),
    )
    .expect("write params");
    let state = d.join(".amesops");
    let store = LocalObjectStore::new(&state);
    put_record(
        &store,
        "p-1",
        "2026-11-20T10:00:00.000000Z",
        json!({"Id": 9001, "GrLivArea": 1710, "OverallQual": 7, "Neighborhood": "CollgCr", "YearBuilt": 2003}),
        "api",
    )
    .await;
    put_record(
        &store,
        "p-2",
        "2026-11-21T10:00:00.000000Z",
        json!({"Id": 9002, "GrLivArea": 2400, "OverallQual": 9, "Neighborhood": "NridgHt", "YearBuilt": 2008}),
        "api",
    )
    .await;
    put_record(
        &store,
        "p-3",
        "2026-11-21T11:00:00.000000Z",
        json!({"Id": 9003, "GrLivArea": 1000}),
        "simulated",
    )
    .await;
    // Two sales imported from a file (joined), one posted to the router (stored unjoined), one
    // posted naming no record.
    let csv = "prediction_id,SalePrice,sold_on\np-1,187500,2026-11-24\np-3,120000,2026-11-25\n";
    let today = parse_day("2026-11-27").expect("day");
    let imported = sales::import(&store, csv.as_bytes(), today, &Intervals::new())
        .await
        .expect("import");
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    for (id, price, sold_on) in [
        ("p-2", 312_000.0, "2026-10-05"),
        ("ghost", 99_000.0, "2026-11-01"),
    ] {
        let sale = StoredSale {
            prediction_id: Some(id.to_string()),
            house_id: None,
            sale_price: price,
            sold_on: sold_on.to_string(),
            joined: None,
        };
        store
            .put(&sale.key(), serde_json::to_vec_pretty(&sale).expect("json"))
            .await
            .expect("put sale");
    }

    let args = ["fetch", "--out", "data/ames.csv"];
    let output = Command::new(BIN)
        .args(args)
        .current_dir(d)
        .stdin(Stdio::null())
        .env("AMESOPS_TARGET", "local")
        .env("AMESOPS_STATE_DIR", &state)
        .output()
        .expect("run amesops");
    assert!(output.status.success(), "{}", describe(&args, &output));

    let (header, rows) = read_csv(&d.join("data/ames.csv"));
    let col = |name: &str| header.iter().position(|h| h == name).expect(name);
    assert_eq!(rows.len(), 1460 + 2, "the bundled rows and two real sales");
    let row_of = |id: &str| {
        rows.iter()
            .find(|r| r[col("Id")] == id)
            .unwrap_or_else(|| panic!("no row with Id {id}"))
    };
    let first = row_of("9001");
    assert_eq!(
        first[col("SalePrice")].parse::<f64>().expect("price"),
        187_500.0
    );
    assert_eq!(first[col("GrLivArea")], "1710");
    assert_eq!(first[col("Neighborhood")], "CollgCr");
    assert_eq!(first[col("YrSold")], "2026");
    assert_eq!(first[col("MoSold")], "11");
    let second = row_of("9002");
    assert_eq!(
        second[col("SalePrice")].parse::<f64>().expect("price"),
        312_000.0
    );
    assert_eq!(second[col("MoSold")], "10");
    assert!(
        rows.iter().all(|r| r[col("Id")] != "9003"),
        "simulated sales are left out"
    );

    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("data/fetch-report.json")).expect("report"))
            .expect("json");
    assert_eq!(report["sales_appended"], 2, "{report}");
    assert_eq!(report["rows_written"], 1462, "{report}");
    let left_out: Vec<&str> = report["sales_left_out"]
        .as_array()
        .expect("left out")
        .iter()
        .map(|v| v.as_str().expect("text"))
        .collect();
    assert_eq!(left_out.len(), 2, "{left_out:?}");
    assert!(left_out.iter().any(|l| l.contains("ghost")), "{left_out:?}");
    assert!(
        left_out.iter().any(|l| l.contains("simulated")),
        "{left_out:?}"
    );

    // With sales appended, `split.hold_out: auto` holds out the newest sales: the gate scores
    // both models on the houses that sold last, these two among them.
    let args = ["split"];
    let output = Command::new(BIN)
        .args(args)
        .current_dir(d)
        .stdin(Stdio::null())
        .output()
        .expect("run amesops");
    assert!(output.status.success(), "{}", describe(&args, &output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("newest sales held out"),
        "{}",
        describe(&args, &output)
    );
    let month = |r: &Vec<String>| {
        r[col("YrSold")].parse::<i64>().expect("year") * 12
            + r[col("MoSold")].parse::<i64>().expect("month")
    };
    let (_, test) = read_csv(&d.join("data/test.csv"));
    let (_, train) = read_csv(&d.join("data/train.csv"));
    assert_eq!(test.len(), 292, "a fifth of 1,462 rows");
    assert_eq!(train.len(), 1462 - 292);
    for id in ["9001", "9002"] {
        assert!(
            test.iter().any(|r| r[col("Id")] == id),
            "sale {id} held out"
        );
    }
    let newest_trained = train.iter().map(month).max().expect("train rows");
    let oldest_held_out = test.iter().map(month).min().expect("test rows");
    assert!(
        newest_trained <= oldest_held_out,
        "every held-out sale is at least as new as every training sale"
    );
}
