//! The real Lambda binary (the `predictor` bin this test run built) behind `cargo lambda watch`,
//! cargo-lambda's emulator of the Lambda control plane (on PATH; scripts/test installs it): a
//! request through the emulator's function-URL front door goes through the Lambda runtime API
//! to the binary, is priced, and its record lands in a moto S3 bucket.
//!
//! The emulator runs with `--only-lambda-apis` and the function is started here with the
//! environment the emulator asks for: this tests the binary cargo already built for this run,
//! instead of having `cargo lambda watch` build it a second time with another feature set.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::aws::{aws_env, create_bucket, get_object, list_keys, s3_client};
use crate::support::fixtures::{project_root, write_model};
use crate::support::servers::{MotoServer, ProcessGroup, find_tool, free_port, http_request};
use predictor::record::PredictionRecord;
use serde_json::{Value, json};

const BUCKET: &str = "lambda-watch-predictions";
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The variables the emulator tells the function to set.
const RUNTIME_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
];

fn house() -> Value {
    json!({"GrLivArea": 1600, "OverallQual": 6, "Neighborhood": "Gilbert", "YearBuilt": 1999})
}

/// Starts the emulator and waits for it to print the function's runtime variables and listen.
fn start_emulator(port: u16) -> (ProcessGroup, Vec<(String, String)>) {
    let mut command = Command::new(find_tool("cargo-lambda"));
    command.current_dir(project_root()).args([
        "lambda",
        "watch",
        "--only-lambda-apis",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
        "--timeout",
        "60",
    ]);
    let mut emulator = ProcessGroup::spawn(command, "cargo-lambda-watch");
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    loop {
        if let Some(status) = emulator.try_wait() {
            panic!(
                "cargo lambda watch exited ({status}):\n{}",
                emulator.log_tail(8000)
            );
        }
        let log = emulator.log_tail(64 * 1024);
        let variables: Vec<(String, String)> = RUNTIME_VARIABLES
            .iter()
            .filter_map(|name| {
                let at = log.find(&format!("{name}="))?;
                let value = log[at + name.len() + 1..].lines().next()?.trim();
                Some((name.to_string(), value.to_string()))
            })
            .collect();
        if variables.len() == RUNTIME_VARIABLES.len()
            && TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
        {
            return (emulator, variables);
        }
        if started.elapsed() > START_TIMEOUT {
            panic!(
                "cargo lambda watch did not print {RUNTIME_VARIABLES:?} and listen on {address} \
                 within {} s:\n{log}",
                START_TIMEOUT.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_lambda_binary_prices_a_house_and_stores_the_record_in_s3() {
    let moto = MotoServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = runtime.block_on(s3_client(&moto.endpoint()));
    runtime.block_on(create_bucket(&client, BUCKET));
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path());

    let port = free_port();
    let (emulator, runtime_variables) = start_emulator(port);
    let function_name = runtime_variables
        .iter()
        .find(|(name, _)| name == "AWS_LAMBDA_FUNCTION_NAME")
        .map(|(_, value)| value.clone())
        .unwrap();

    let mut command = Command::new(env!("CARGO_BIN_EXE_predictor"));
    command
        .envs(runtime_variables)
        .env("MODEL_PATH", &model)
        .env("PREDICTIONS_URI", format!("s3://{BUCKET}"))
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env_remove("AWS_PROFILE")
        .env_remove("PREDICTIONS_BUCKET")
        .env_remove("MODEL_URI")
        .envs(aws_env(&moto.endpoint()));
    let mut function = ProcessGroup::spawn(command, "predictor-lambda");

    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let url = |path: &str| format!("/lambda-url/{function_name}{path}");
    let json_header = [("Content-Type", "application/json")];
    let diagnostics = |function: &ProcessGroup| {
        format!(
            "function output:\n{}\nemulator output:\n{}",
            function.log_tail(8000),
            emulator.log_tail(8000)
        )
    };

    let started = Instant::now();
    let (status, body) = loop {
        if let Some(status) = function.try_wait() {
            panic!("the function exited ({status}); {}", diagnostics(&function));
        }
        match http_request(
            address,
            "POST",
            &url("/predict"),
            &json_header,
            house().to_string().as_bytes(),
            START_TIMEOUT,
        ) {
            Ok(reply) => break reply,
            Err(_) if started.elapsed() < START_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("no answer on {address}: {e}; {}", diagnostics(&function)),
        }
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 200, "{text}\n{}", diagnostics(&function));
    let reply: Value = serde_json::from_str(&text).unwrap();
    let price = reply["price"].as_f64().unwrap();
    assert!(price > 10_000.0 && price < 2_000_000.0, "{reply}");
    assert_eq!(reply["stored"], true, "{reply}\n{}", diagnostics(&function));
    let id = reply["id"].as_str().unwrap();

    let keys = runtime.block_on(list_keys(&client, BUCKET, "predictions/dt="));
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].ends_with(&format!("-{id}.json")), "{keys:?}");
    let record: PredictionRecord =
        serde_json::from_slice(&runtime.block_on(get_object(&client, BUCKET, &keys[0]))).unwrap();
    assert_eq!(record.id, id);
    assert_eq!(record.input, house());
    assert_eq!(json!(record.price), reply["price"]);
    assert_eq!(record.model_id, reply["model"]["id"].as_str().unwrap());
    assert!(record.source_ip.is_some(), "{record:?}");

    // The other routes and an error through the same front door.
    let (status, body) = http_request(
        address,
        "GET",
        &url("/health"),
        &[],
        b"",
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(status, 200);
    let health: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(health["store"], format!("s3://{BUCKET}/"));
    assert_eq!(health["model_id"], reply["model"]["id"]);

    let (status, body) = http_request(
        address,
        "POST",
        &url("/predict"),
        &json_header,
        b"{\"GrLivArea\": ",
        Duration::from_secs(60),
    )
    .unwrap();
    assert_eq!(status, 400);
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(error["error"]["code"], "bad_json");

    // The function logged its cold start and each request as JSON lines.
    let log = function.log_tail(64 * 1024);
    assert!(log.contains(r#""event":"cold_start""#), "{log}");
    assert_eq!(
        log.matches(r#""message":"request served""#).count(),
        2,
        "{log}"
    );
    assert!(log.contains(r#""message":"request rejected""#), "{log}");
    function.kill();
}
