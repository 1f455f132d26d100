//! Shared by the deploy and image tests: a real OCI registry (Debian's `docker-registry`), and
//! moto's control API.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::aws::aws_loader;
use crate::support::fixtures::project_root;
use crate::support::servers::{MotoServer, ProcessGroup, find_tool, free_port, http_request};
use crate::support::stores::NullStore;
use lambda_http::tower::ServiceExt;
use serde_json::{Value, json};

/// `docker-registry serve` on a free loopback port, storage in a temporary folder, no auth.
pub struct Registry {
    process: ProcessGroup,
    port: u16,
    _storage: tempfile::TempDir,
}

impl Registry {
    /// Starts the registry and waits until `GET /v2/` answers 200.
    pub fn start() -> Registry {
        let exe = find_tool("docker-registry");
        let storage = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = storage.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                storage.path().join("data").display()
            ),
        )
        .unwrap();
        let mut command = Command::new(exe);
        command.arg("serve").arg(&config);
        let mut process = ProcessGroup::spawn(command, "docker-registry");
        let deadline = Instant::now() + Duration::from_secs(30);
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        loop {
            if let Some(status) = process.try_wait() {
                panic!(
                    "docker-registry exited ({status}):\n{}",
                    process.log_tail(4000)
                );
            }
            if let Ok((200, _)) =
                http_request(address, "GET", "/v2/", &[], b"", Duration::from_secs(2))
            {
                return Registry {
                    process,
                    port,
                    _storage: storage,
                };
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on {address}:\n{}",
                process.log_tail(4000)
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's output.
    pub fn log_tail(&self) -> String {
        self.process.log_tail(4000)
    }
}

/// Starts moto with Lambda invocations answered from the queue instead of Docker (this must be
/// set before any function is created: it resets Lambda).
pub fn moto_without_docker() -> MotoServer {
    let moto = MotoServer::start();
    moto_post(
        &moto,
        "/moto-api/config",
        &serde_json::json!({"lambda": {"use_docker": false}}),
    );
    moto
}

/// A POST to moto's control API.
pub fn moto_post(moto: &MotoServer, path: &str, body: &Value) {
    let address = SocketAddr::from(([127, 0, 0, 1], moto.port()));
    let (status, reply) = http_request(
        address,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
        Duration::from_secs(10),
    )
    .unwrap();
    assert!(
        status < 300,
        "POST {path}: {status} {}",
        String::from_utf8_lossy(&reply)
    );
}

/// Queues the replies the function gives to the smoke test's two invocations (moto answers
/// invocations from this queue when it does not run Lambda code).
pub fn queue_smoke_replies(moto: &MotoServer, replies: [String; 2]) {
    moto_post(
        moto,
        "/moto-api/static/lambda-simple/response",
        &json!({"results": replies, "region": "us-east-1"}),
    );
}

/// Pulls `reference` from a loopback registry: the image's layers and config.
pub async fn pull(reference: &str) -> oci_client::client::ImageData {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let parsed: oci_client::Reference = reference.parse().unwrap();
    let client = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::HttpsExcept(vec![
            parsed.resolve_registry().to_string(),
        ]),
        ..Default::default()
    });
    client
        .pull(
            &parsed,
            &oci_client::secrets::RegistryAuth::Anonymous,
            vec![oci_client::manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE],
        )
        .await
        .unwrap_or_else(|e| panic!("pull {reference}: {e}"))
}

/// The files of a `tar.gz` layer: path, mode, bytes.
pub fn layer_files(gzip: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gzip));
    let mut files = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let path = entry.path().unwrap().display().to_string();
        let mode = entry.header().mode().unwrap();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        files.push((path, mode, bytes));
    }
    files
}

/// The first house of the bundled data, as the smoke test sends it.
pub fn first_house() -> Value {
    let table = core_model::Table::read(
        std::fs::File::open(project_root().join("datasets/ames.csv")).unwrap(),
    )
    .unwrap();
    Value::Object(table.records[0].house.to_json())
}

/// The real Lambda handler's answer (API Gateway response document) to one request.
pub async fn handler_reply(model: &[u8], method: &str, path: &str, body: Option<&Value>) -> String {
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"accept": "application/json"},
        "requestContext": {
            "accountId": "123456789012", "apiId": "test", "domainName": "test", "domainPrefix": "test",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "test", "routeKey": format!("{method} {path}"), "stage": "$default",
            "time": "27/Nov/2026:10:15:03 +0000", "timeEpoch": 1795774503123_i64
        },
        "isBase64Encoded": false
    });
    if let Some(body) = body {
        event["headers"]["content-type"] = json!("application/json");
        event["body"] = json!(body.to_string());
    }
    let request: lambda_http::request::LambdaRequest = serde_json::from_value(event).unwrap();
    let loaded = core_model::Artifact::from_bytes(model).unwrap();
    let state = predictor::AppState::new(predictor::ServedModel::from(loaded), Box::new(NullStore));
    let response = lambda_http::Adapter::from(predictor::lambda::lambda_router(state))
        .oneshot(lambda_http::LambdaEvent::new(
            request,
            lambda_http::Context::default(),
        ))
        .await
        .unwrap();
    serde_json::to_string(&response).unwrap()
}

/// What the function serving `model` answers to `GET /health` and `POST /predict`.
pub async fn smoke_replies(model: &[u8]) -> [String; 2] {
    [
        handler_reply(model, "GET", "/health", None).await,
        handler_reply(model, "POST", "/predict", Some(&first_house())).await,
    ]
}

/// A Lambda client on moto.
pub async fn lambda_client(moto: &MotoServer) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&aws_loader(&moto.endpoint()).load().await)
}

/// The version the alias `live` of `function` points at.
pub async fn live_version(moto: &MotoServer, function: &str) -> String {
    let alias = lambda_client(moto)
        .await
        .get_alias()
        .function_name(function)
        .name("live")
        .send()
        .await
        .unwrap();
    alias.function_version().unwrap().to_string()
}

/// The published versions of `function` (without `$LATEST`).
pub async fn published_versions(moto: &MotoServer, function: &str) -> Vec<String> {
    let listed = lambda_client(moto)
        .await
        .list_versions_by_function()
        .function_name(function)
        .send()
        .await
        .unwrap();
    listed
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .filter(|v| *v != "$LATEST")
        .map(str::to_string)
        .collect()
}
