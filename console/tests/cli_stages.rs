//! The pipeline stages through the real `amesops` binary: fetch, split, train, evaluate and
//! predict in a scratch folder, the errors a user meets, downloads, parameters and help.

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{BIN, describe, project_root};
use tempfile::TempDir;

fn bundled_csv() -> PathBuf {
    project_root().join("datasets/ames.csv")
}

fn decock_fixture() -> PathBuf {
    project_root().join("core-model/tests/fixtures/decock-sample.tsv")
}

/// A scratch project folder holding a copy of the project's params.yaml.
fn scratch() -> TempDir {
    let dir = tempfile::tempdir().expect("create a temporary folder");
    std::fs::copy(
        project_root().join("params.yaml"),
        dir.path().join("params.yaml"),
    )
    .expect("copy params.yaml");
    dir
}

/// Runs `amesops ARGS` in `dir`, with no proxy between it and the local test server.
fn amesops(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .output()
        .expect("run the amesops binary")
}

/// Runs a command that must succeed; returns its standard output.
fn succeed(dir: &Path, args: &[&str]) -> String {
    let output = amesops(dir, args);
    assert!(
        output.status.success(),
        "expected success:\n{}",
        describe(args, &output)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// Runs a command that must fail cleanly (an error message, not a crash); returns its stderr.
fn fail(dir: &Path, args: &[&str]) -> String {
    let output = amesops(dir, args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !output.status.success(),
        "expected failure:\n{}",
        describe(args, &output)
    );
    assert!(
        output.status.code().is_some() && output.status.code() != Some(101),
        "crashed instead of failing cleanly:\n{}",
        describe(args, &output)
    );
    assert!(
        !stderr.contains("panicked"),
        "panicked:\n{}",
        describe(args, &output)
    );
    stderr
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Header and rows of a CSV file.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).expect("open CSV");
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| r.expect("CSV row").iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn write_csv(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut writer = csv::Writer::from_path(path).expect("create CSV");
    writer.write_record(header).expect("write header");
    for row in rows {
        writer.write_record(row).expect("write row");
    }
    writer.flush().expect("flush CSV");
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

fn first_line(path: &Path) -> String {
    read(path).lines().next().unwrap_or_default().to_string()
}

/// fetch (bundled) and split with the default paths.
fn fetch_and_split(dir: &Path) {
    succeed(dir, &["fetch"]);
    succeed(dir, &["split"]);
}

#[test]
fn fetch_bundled_writes_the_kaggle_table() {
    let dir = scratch();
    succeed(dir.path(), &["fetch"]);
    let out = dir.path().join("data/ames.csv");
    let (header, rows) = read_csv(&out);
    assert_eq!(rows.len(), 1460);
    assert_eq!(
        first_line(&out),
        first_line(&bundled_csv()),
        "Kaggle header"
    );
    assert_eq!(header.len(), 81);
    assert_eq!(header[..3], ["Id", "MSSubClass", "MSZoning"]);
    assert_eq!(header.last().map(String::as_str), Some("SalePrice"));
    let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().expect("Id")).collect();
    assert_eq!(ids, (1..=1460).collect::<Vec<_>>());
}

#[test]
fn fetch_normalises_de_cock_names_and_values() {
    let dir = scratch();
    let fixture = decock_fixture();
    succeed(
        dir.path(),
        &[
            "fetch",
            "--source",
            fixture.to_str().expect("UTF-8 path"),
            "--out",
            "decock.csv",
        ],
    );
    let out = dir.path().join("decock.csv");
    assert!(
        first_line(&out).starts_with("Id,MSSubClass,MSZoning,"),
        "{}",
        first_line(&out)
    );
    let (header, rows) = read_csv(&out);
    assert_eq!(rows.len(), 60);
    assert_eq!(header.len(), 81);
    let subclass = column(&header, "MSSubClass");
    for row in &rows {
        let value = &row[subclass];
        let number: u32 = value
            .parse()
            .unwrap_or_else(|_| panic!("MSSubClass {value:?} is not a number"));
        assert_eq!(value, &number.to_string(), "MSSubClass is zero padded");
    }
    // The fixture's first row is Order 1, MS SubClass "020".
    assert_eq!(rows[0][0], "1");
    assert_eq!(rows[0][subclass], "20");
}

#[test]
fn split_is_seeded_and_reproducible() {
    let dir = scratch();
    let d = dir.path();
    succeed(d, &["fetch"]);
    for name in ["a", "b"] {
        succeed(
            d,
            &[
                "split",
                "--train",
                &format!("{name}-train.csv"),
                "--test",
                &format!("{name}-test.csv"),
            ],
        );
    }
    succeed(
        d,
        &[
            "split",
            "--seed",
            "7",
            "--train",
            "c-train.csv",
            "--test",
            "c-test.csv",
        ],
    );
    assert_eq!(read(&d.join("a-train.csv")), read(&d.join("b-train.csv")));
    assert_eq!(read(&d.join("a-test.csv")), read(&d.join("b-test.csv")));
    assert_ne!(
        read(&d.join("a-test.csv")),
        read(&d.join("c-test.csv")),
        "another seed, another split"
    );
    let (_, train) = read_csv(&d.join("a-train.csv"));
    let (_, test) = read_csv(&d.join("a-test.csv"));
    assert_eq!((train.len(), test.len()), (1168, 292));
    let mut ids: Vec<i64> = train
        .iter()
        .chain(&test)
        .map(|r| r[0].parse().expect("Id"))
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        (1..=1460).collect::<Vec<_>>(),
        "a partition of the rows"
    );
}

#[test]
fn split_reads_its_parameters_from_params_yaml() {
    let dir = scratch();
    let d = dir.path();
    let params = read(&d.join("params.yaml"));
    assert!(params.contains("test_fraction: 0.2"), "{params}");
    std::fs::write(
        d.join("params.yaml"),
        params.replace("test_fraction: 0.2", "test_fraction: 0.5"),
    )
    .expect("write params.yaml");
    fetch_and_split(d);
    let (_, train) = read_csv(&d.join("data/train.csv"));
    let (_, test) = read_csv(&d.join("data/test.csv"));
    assert_eq!((train.len(), test.len()), (730, 730));
}

#[test]
fn train_evaluate_and_predict() {
    let dir = scratch();
    let d = dir.path();
    fetch_and_split(d);

    let stdout = succeed(d, &["train"]);
    assert!(d.join("models/model.json").is_file());

    succeed(d, &["evaluate"]);
    let metrics: serde_json::Value =
        serde_json::from_str(&read(&d.join("metrics.json"))).expect("metrics.json is JSON");
    for key in ["rmse_log", "rmse", "mae", "r2", "mape"] {
        let value = metrics[key]
            .as_f64()
            .unwrap_or_else(|| panic!("metrics.json has no number {key}: {metrics}"));
        assert!(value.is_finite(), "{key} = {value}");
    }
    assert!(metrics["r2"].as_f64().unwrap() > 0.8, "{metrics}");
    let model_id = metrics["model_id"]
        .as_str()
        .expect("metrics name the model");
    assert!(
        stdout.contains(model_id),
        "train output does not mention model {model_id}:\n{stdout}"
    );
    let (plot_header, plot_rows) = read_csv(&d.join("plots/predictions.csv"));
    assert_eq!(plot_header, ["Id", "actual", "predicted"]);
    assert_eq!(plot_rows.len(), 292);

    // Houses to price: the test set without its prices.
    let (header, rows) = read_csv(&d.join("data/test.csv"));
    let price = column(&header, "SalePrice");
    let drop_price = |row: &Vec<String>| -> Vec<String> {
        row.iter()
            .enumerate()
            .filter(|(i, _)| *i != price)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let houses_header = drop_price(&header);
    let houses: Vec<Vec<String>> = rows.iter().map(drop_price).collect();
    write_csv(&d.join("houses.csv"), &houses_header, &houses);

    succeed(
        d,
        &["predict", "--input", "houses.csv", "--output", "priced.csv"],
    );
    let (priced_header, priced) = read_csv(&d.join("priced.csv"));
    assert_eq!(priced_header, ["Id", "SalePrice"]);
    assert_eq!(priced.len(), houses.len());
    for (row, house) in priced.iter().zip(&houses) {
        assert_eq!(row[0], house[0], "ids in input order");
        let value: f64 = row[1].parse().expect("a price");
        assert!(value.is_finite() && value > 10_000.0, "price {value}");
    }

    // One invalid cell: reported with its line and field, or skipped on request.
    let living_area = column(&houses_header, "GrLivArea");
    let mut broken = houses.clone();
    broken[4][living_area] = "-5".to_string();
    write_csv(&d.join("broken.csv"), &houses_header, &broken);
    let stderr = fail(
        d,
        &["predict", "--input", "broken.csv", "--output", "out.csv"],
    );
    // Header on line 1, so the fifth house is on line 6.
    assert!(stderr.contains("line 6"), "{stderr}");
    assert!(stderr.contains("GrLivArea"), "{stderr}");
    assert!(!d.join("out.csv").exists(), "no output on failure");
    succeed(
        d,
        &[
            "predict",
            "--input",
            "broken.csv",
            "--output",
            "out.csv",
            "--skip-invalid",
        ],
    );
    let (_, kept) = read_csv(&d.join("out.csv"));
    assert_eq!(kept.len(), houses.len() - 1);
    assert!(kept.iter().all(|row| row[0] != broken[4][0]));
}

/// Runs `amesops ARGS` with a reader that goes away at once (`amesops … | head -0`).
fn with_closed_stdout(dir: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the amesops binary");
    drop(child.stdout.take());
    child.wait_with_output().expect("amesops ends")
}

#[test]
fn a_reader_that_goes_away_ends_the_command_quietly() {
    let dir = scratch();
    let d = dir.path();
    let data = bundled_csv();
    let data = data.to_str().unwrap();
    for args in [
        &["train", "--data", data, "--out", "model.json"][..],
        &[
            "predict",
            "--model",
            "model.json",
            "--input",
            data,
            "--output",
            "-",
        ][..],
    ] {
        let output = with_closed_stdout(d, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(141),
            "{}",
            describe(args, &output)
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.contains("error"), "{stderr}");
    }
}

#[test]
fn a_missing_file_is_named() {
    let dir = scratch();
    let d = dir.path();
    let stderr = fail(d, &["fetch", "--source", "no-such-file.csv"]);
    assert!(stderr.contains("no-such-file.csv"), "{stderr}");
    let stderr = fail(d, &["split", "--data", "missing/ames.csv"]);
    assert!(stderr.contains("missing/ames.csv"), "{stderr}");
    let stderr = fail(
        d,
        &[
            "predict",
            "--model",
            "missing-model.json",
            "--input",
            "x.csv",
        ],
    );
    assert!(stderr.contains("missing-model.json"), "{stderr}");
}

#[test]
fn a_malformed_csv_names_the_line() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("short.csv"),
        "Id,MSSubClass,LotArea,SalePrice\n1,20,8450,208500\n2,20,9600\n3,60,11250,223500\n",
    )
    .expect("write CSV");
    let stderr = fail(
        d,
        &[
            "fetch",
            "--source",
            "short.csv",
            "--out",
            "x.csv",
            "--on-invalid",
            "fail",
        ],
    );
    assert!(stderr.contains("short.csv"), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("found 3"), "{stderr}");
    assert!(!d.join("x.csv").exists());
    // The pipeline's default leaves the shifted row out and says so.
    let stderr = succeed_stderr(d, &["fetch", "--source", "short.csv", "--out", "x.csv"]);
    assert!(stderr.contains("line 3"), "{stderr}");
    assert_eq!(read_csv(&d.join("x.csv")).1.len(), 2);
}

#[test]
fn an_unknown_column_is_named_with_a_close_match() {
    let dir = scratch();
    let d = dir.path();
    std::fs::write(
        d.join("typo.csv"),
        "Id,MSSubClass,GrLivAera,SalePrice\n1,20,1710,208500\n",
    )
    .expect("write CSV");
    let stderr = fail(d, &["fetch", "--source", "typo.csv", "--out", "x.csv"]);
    assert!(stderr.contains("GrLivAera"), "{stderr}");
    assert!(
        stderr.contains("GrLivArea"),
        "no close match suggested: {stderr}"
    );
}

/// Serves `body` at /ames.csv (anything else is 404) on a local port; returns the base URL.
fn serve(body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let address = listener.local_addr().expect("local address");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // A broken connection only fails the request it belongs to.
            let _ = respond(stream, &body);
        }
    });
    format!("http://{address}")
}

fn respond(mut stream: TcpStream, body: &[u8]) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or_default();
    let (status, body) = if path == "/ames.csv" {
        ("200 OK", body)
    } else {
        ("404 Not Found", &b"not found\n"[..])
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    stream.flush()
}

#[test]
fn fetch_downloads_over_http_and_checks_the_md5() {
    let bytes = std::fs::read(bundled_csv()).expect("read the bundled CSV");
    let md5 = core_model::digest::md5_hex(&bytes);
    let base = serve(bytes);
    let url = format!("{base}/ames.csv");
    let dir = scratch();
    let d = dir.path();

    succeed(d, &["fetch", "--out", "bundled.csv"]);
    succeed(d, &["fetch", "--source", &url, "--out", "plain.csv"]);
    assert_eq!(read(&d.join("plain.csv")), read(&d.join("bundled.csv")));

    let wrong = "0".repeat(32);
    let stderr = fail(
        d,
        &[
            "fetch",
            "--source",
            &url,
            "--md5",
            &wrong,
            "--out",
            "wrong.csv",
        ],
    );
    assert!(stderr.contains("md5"), "{stderr}");
    assert!(
        stderr.contains(&md5),
        "the actual md5 is reported: {stderr}"
    );
    assert!(!d.join("wrong.csv").exists(), "a mismatch writes nothing");

    succeed(
        d,
        &[
            "fetch",
            "--source",
            &url,
            "--md5",
            &md5,
            "--out",
            "right.csv",
        ],
    );
    assert_eq!(read(&d.join("right.csv")), read(&d.join("bundled.csv")));

    let stderr = fail(
        d,
        &[
            "fetch",
            "--source",
            &format!("{base}/gone.csv"),
            "--out",
            "gone.csv",
        ],
    );
    assert!(stderr.contains("404"), "{stderr}");
}

#[test]
fn an_unknown_parameter_is_named() {
    let dir = scratch();
    let d = dir.path();
    let params = read(&d.join("params.yaml"));
    let bad = params.replace("train:\n", "train:\n  alpah: 0.1\n");
    assert_ne!(bad, params, "params.yaml has a train section");
    std::fs::write(d.join("bad-params.yaml"), &bad).expect("write params");
    fetch_and_split(d);

    let stderr = fail(d, &["train", "--params", "bad-params.yaml"]);
    assert!(stderr.contains("alpah"), "{stderr}");
    assert!(stderr.contains("bad-params.yaml"), "{stderr}");

    // The default params.yaml is read as strictly.
    std::fs::write(d.join("params.yaml"), &bad).expect("write params");
    let stderr = fail(d, &["train"]);
    assert!(stderr.contains("alpah"), "{stderr}");
    assert!(!d.join("models/model.json").exists());
}

#[test]
fn every_subcommand_explains_its_options() {
    let dir = scratch();
    let cases: [(&str, &[&str]); 5] = [
        (
            "fetch",
            &[
                "--source",
                "--out",
                "--md5",
                "--params",
                "--on-invalid",
                "--report",
            ],
        ),
        (
            "split",
            &[
                "--data",
                "--train",
                "--test",
                "--test-fraction",
                "--seed",
                "--params",
            ],
        ),
        ("train", &["--data", "--out", "--params"]),
        ("evaluate", &["--model", "--data", "--metrics", "--plots"]),
        (
            "predict",
            &[
                "--model",
                "--input",
                "--output",
                "--on-invalid",
                "--report",
                "--explain",
            ],
        ),
    ];
    for (command, options) in cases {
        let help = succeed(dir.path(), &[command, "--help"]);
        for option in options {
            assert!(
                help.contains(option),
                "`amesops {command} --help` does not mention {option}:\n{help}"
            );
        }
    }
    let help = succeed(dir.path(), &["--help"]);
    for (command, _) in cases {
        assert!(help.contains(command), "{help}");
    }
}

/// A small, quick model: few trees, one repetition (the same code paths as the defaults).
fn quick_model(dir: &Path) {
    let params = read(&dir.join("params.yaml"))
        .replace("gbm_trees: 1000", "gbm_trees: 100")
        .replace("cv_repeats: 3", "cv_repeats: 1");
    std::fs::write(dir.join("quick.yaml"), params).expect("write params");
    let data = bundled_csv();
    succeed(
        dir,
        &[
            "train",
            "--params",
            "quick.yaml",
            "--data",
            data.to_str().unwrap(),
            "--out",
            "model.json",
            "--tracker",
            "none",
        ],
    );
}

#[test]
fn predict_fails_skips_or_imputes_invalid_values_and_reports_each() {
    let dir = scratch();
    let d = dir.path();
    quick_model(d);
    let (header, rows) = read_csv(&bundled_csv());
    let price = column(&header, "SalePrice");
    let drop_price = |row: &Vec<String>| -> Vec<String> {
        row.iter()
            .enumerate()
            .filter(|(i, _)| *i != price)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let houses_header = drop_price(&header);
    let mut houses: Vec<Vec<String>> = rows.iter().take(30).map(drop_price).collect();
    let garage_year = column(&houses_header, "GarageYrBlt");
    let lot_area = column(&houses_header, "LotArea");
    // Kaggle's own typo (Id 2593 in test.csv), a non-number, and an Id nothing can repair.
    houses[2][garage_year] = "2207".to_string();
    houses[6][lot_area] = "abc".to_string();
    houses[9][0] = "x".to_string();
    write_csv(&d.join("dirty.csv"), &houses_header, &houses);
    // The same rows with the invalid values left blank: what impute must price them as.
    let mut blanked = houses.clone();
    blanked[2][garage_year] = String::new();
    blanked[6][lot_area] = String::new();
    write_csv(&d.join("blanked.csv"), &houses_header, &blanked);

    let predict = |policy: &str, output: &str, report: &str| -> Vec<String> {
        vec![
            "predict".into(),
            "--model".into(),
            "model.json".into(),
            "--input".into(),
            "dirty.csv".into(),
            "--output".into(),
            output.into(),
            "--on-invalid".into(),
            policy.into(),
            "--report".into(),
            report.into(),
        ]
    };
    let expected_report = vec![
        vec!["3", "GarageYrBlt", "2207", "must be at most 2100 year"],
        vec!["7", "LotArea", "abc", "expected a number"],
        vec!["", "Id", "x", "expected a whole number"],
    ];
    let check_report = |path: &str| {
        let (report_header, report) = read_csv(&d.join(path));
        assert_eq!(report_header, ["Id", "field", "value", "problem"]);
        assert_eq!(report, expected_report, "{path}");
    };

    // fail (the default): no prices, every problem named, the report still written.
    let stderr = fail(d, &args(&predict("fail", "failed.csv", "fail-report.csv")));
    for needle in [
        "line 4",
        "GarageYrBlt",
        "line 8",
        "LotArea",
        "line 11",
        "impute",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert!(!d.join("failed.csv").exists());
    check_report("fail-report.csv");

    // skip: the 27 valid rows.
    let stderr = succeed_stderr(d, &args(&predict("skip", "skipped.csv", "skip-report.csv")));
    let (_, skipped) = read_csv(&d.join("skipped.csv"));
    assert_eq!(skipped.len(), 27, "{stderr}");
    assert!(!skipped.iter().any(|r| r[0] == "3" || r[0] == "7"));
    check_report("skip-report.csv");

    // impute: 29 rows (the bad Id cannot be imputed), priced as if the values were missing.
    let stderr = succeed_stderr(
        d,
        &args(&predict("impute", "imputed.csv", "impute-report.csv")),
    );
    assert!(
        stderr.contains("imputed 2 invalid value(s) in 2 of 30 rows"),
        "{stderr}"
    );
    assert!(stderr.contains("GarageYrBlt"), "{stderr}");
    check_report("impute-report.csv");
    let (priced_header, imputed) = read_csv(&d.join("imputed.csv"));
    assert_eq!(priced_header, ["Id", "SalePrice"]);
    assert_eq!(imputed.len(), 29);
    succeed(
        d,
        &[
            "predict",
            "--model",
            "model.json",
            "--input",
            "blanked.csv",
            "--output",
            "blanked-priced.csv",
            "--on-invalid",
            "skip",
        ],
    );
    let (_, blank_priced) = read_csv(&d.join("blanked-priced.csv"));
    assert_eq!(
        imputed, blank_priced,
        "impute prices an invalid value as a missing one"
    );

    // --skip-invalid still means skip.
    succeed(
        d,
        &[
            "predict",
            "--model",
            "model.json",
            "--input",
            "dirty.csv",
            "--output",
            "old.csv",
            "--skip-invalid",
        ],
    );
    assert_eq!(read_csv(&d.join("old.csv")).1, skipped);
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_one_invalid_row_not_a_bad_file() {
    let dir = scratch();
    let d = dir.path();
    quick_model(d);
    let (header, rows) = read_csv(&bundled_csv());
    let houses: Vec<Vec<String>> = rows.iter().take(4).cloned().collect();
    write_csv(&d.join("short.csv"), &header, &houses);
    // Line 3 (the second house) loses all but its first three fields.
    let text = read(&d.join("short.csv"));
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[2] = lines[2].split(',').take(3).collect::<Vec<_>>().join(",");
    std::fs::write(d.join("short.csv"), lines.join("\n") + "\n").expect("write CSV");
    let predict = |policy: &str, output: &str| {
        vec![
            "predict",
            "--model",
            "model.json",
            "--input",
            "short.csv",
            "--output",
            output,
            "--on-invalid",
            policy,
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>()
    };
    let stderr = fail(d, &args(&predict("fail", "failed.csv")));
    assert!(stderr.contains("line 3"), "{stderr}");
    assert!(stderr.contains("found 3"), "{stderr}");
    for (policy, output) in [("skip", "skipped.csv"), ("impute", "imputed.csv")] {
        let stderr = succeed_stderr(d, &args(&predict(policy, output)));
        let (_, priced) = read_csv(&d.join(output));
        assert_eq!(priced.len(), 3, "{policy}: {stderr}");
        assert!(!priced.iter().any(|r| r[0] == houses[1][0]), "{policy}");
        assert!(stderr.contains("found 3"), "{policy}: {stderr}");
    }
}

#[test]
fn predict_explain_lists_values_outside_the_training_range() {
    let dir = scratch();
    let d = dir.path();
    quick_model(d);
    let (header, rows) = read_csv(&bundled_csv());
    let area = column(&header, "GrLivArea");
    let mut houses: Vec<Vec<String>> = rows.iter().take(3).cloned().collect();
    houses[1][area] = "50000".to_string();
    write_csv(&d.join("big.csv"), &header, &houses);
    let output = amesops(
        d,
        &[
            "predict",
            "--model",
            "model.json",
            "--input",
            "big.csv",
            "--output",
            "-",
            "--explain",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        describe(&["predict"], &output)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["Id"], 2);
    let out_of_range = lines[1]["out_of_range"].as_array().expect("a list");
    let living = out_of_range
        .iter()
        .find(|o| o["field"] == "GrLivArea")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(living["value"], 50000.0);
    let range = living["range"].as_array().unwrap();
    assert!(range[1].as_f64().unwrap() < 6000.0, "{living}");
    assert!(lines[0]["out_of_range"].as_array().unwrap().is_empty());
    let price = lines[1]["price"].as_f64().unwrap();
    assert!(price.is_finite() && price < 1_600_000.0, "{price}");
    // Every line explains its price and names its comparable sales.
    for line in &lines {
        let explanation = &line["explanation"];
        let total = explanation["base_log"].as_f64().unwrap()
            + explanation["contributions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["log"].as_f64().unwrap())
                .sum::<f64>();
        assert!(
            (total - line["price"].as_f64().unwrap().ln()).abs() < 1e-9,
            "{line}"
        );
        assert_eq!(line["comparables"].as_array().unwrap().len(), 5, "{line}");
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("outside the training range"), "{stderr}");
}

#[test]
fn fetch_imputes_invalid_values_and_writes_the_data_quality_report() {
    let dir = scratch();
    let d = dir.path();
    let (header, mut rows) = read_csv(&bundled_csv());
    let garage_year = column(&header, "GarageYrBlt");
    let price = column(&header, "SalePrice");
    rows[4][garage_year] = "2207".to_string();
    rows[8][price] = "free".to_string();
    write_csv(&d.join("dirty.csv"), &header, &rows);

    // params.yaml says impute: the typo is imputed, the unpriced row cannot be and is left out.
    let stderr = succeed_stderr(d, &["fetch", "--source", "dirty.csv"]);
    assert!(stderr.contains("GarageYrBlt"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_str(&read(&d.join("data/fetch-report.json"))).expect("JSON report");
    assert_eq!(report["on_invalid"], "impute");
    assert_eq!(report["rows_read"], 1460);
    assert_eq!(report["rows_written"], 1459);
    assert_eq!(report["rows_with_replaced_values"], 1);
    assert_eq!(report["values_replaced"], 1);
    assert_eq!(report["rows_skipped"], 1);
    let replacement = &report["replacements"][0];
    assert_eq!(replacement["line"], 6);
    assert_eq!(replacement["id"], 5);
    assert_eq!(replacement["field"], "GarageYrBlt");
    assert_eq!(replacement["value"], "2207");
    assert_eq!(report["skipped"][0]["field"], "SalePrice");
    let (_, written) = read_csv(&d.join("data/ames.csv"));
    assert_eq!(written.len(), 1459);
    assert_eq!(
        written[4][garage_year], "NA",
        "the typo is written as missing"
    );

    // --on-invalid fail refuses the file and names the problems.
    let stderr = fail(
        d,
        &[
            "fetch",
            "--source",
            "dirty.csv",
            "--out",
            "strict/ames.csv",
            "--on-invalid",
            "fail",
        ],
    );
    assert!(
        stderr.contains("line 6") && stderr.contains("GarageYrBlt"),
        "{stderr}"
    );
    assert!(!d.join("strict/ames.csv").exists());
    let report: serde_json::Value =
        serde_json::from_str(&read(&d.join("strict/fetch-report.json"))).expect("JSON report");
    assert_eq!(report["rows_written"], 0);
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Runs a command that must succeed; returns its standard error.
fn succeed_stderr(dir: &Path, args: &[&str]) -> String {
    let output = amesops(dir, args);
    assert!(
        output.status.success(),
        "expected success:\n{}",
        describe(args, &output)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}
