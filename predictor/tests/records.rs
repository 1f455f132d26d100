//! No record lost, none invented: a stalled S3 (a listener that accepts and never answers)
//! still gets a reply with `stored: false` and the record in the log, well inside the Lambda
//! timeout; a client that disconnects mid-request does not cancel the store; an over-limit body
//! gets its 413 JSON even from clients that write the whole body before reading (raw sockets
//! and Python's `http.client`).

#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::aws::aws_loader;
use crate::support::fixtures::app_state;
use crate::support::logs::LogCapture;
use crate::support::router::{call, post_json};
use crate::support::servers::find_tool;
use crate::support::stores::stored_records;
use futures_util::future::BoxFuture;
use predictor::record::PredictionRecord;
use predictor::store::{LocalStore, PredictionStore, S3Store, StoreError};
use predictor::{AppState, router};
use serde_json::{Value, json};

/// Lambda's default timeout for the function (aws.timeout_s): the reply must come well before.
const LAMBDA_TIMEOUT: Duration = Duration::from_secs(10);

fn house() -> Value {
    json!({"GrLivArea": 1500, "OverallQual": 6, "Neighborhood": "NAmes", "YearBuilt": 1965})
}

/// A TCP listener that accepts every connection and never answers (a stalled S3).
fn blackhole() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // kept open, never read or written
        }
    });
    address
}

#[tokio::test]
async fn a_stalled_s3_answers_stored_false_within_the_timeout_and_logs_the_record() {
    let address = blackhole();
    // The store exactly as the Lambda function builds it (default time limit), pointed at it.
    let config = aws_loader(&format!("http://{address}")).load().await;
    let app = router(app_state(S3Store::new(&config, "amesops-predictions", "")));
    let logs = LogCapture::new();
    let _guard = logs.set_default();
    let started = Instant::now();
    let reply = tokio::time::timeout(
        LAMBDA_TIMEOUT,
        call(&app, post_json("/predict", house().to_string())),
    )
    .await
    .expect("the reply comes before the Lambda timeout, S3 stalled or not");
    let took = started.elapsed();
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["stored"], false, "{body}");
    let line = logs
        .lines()
        .into_iter()
        .find(|l| l["event"] == "prediction_record")
        .unwrap_or_else(|| panic!("no record in the log:\n{}", logs.text()));
    assert_eq!(line["level"], "ERROR");
    let record: PredictionRecord = serde_json::from_str(line["record"].as_str().unwrap()).unwrap();
    assert_eq!(record.id, body["id"].as_str().unwrap());
    assert_eq!(record.input, house());
    assert_eq!(json!(record.price), body["price"]);
    eprintln!("stalled S3: replied after {:.2} s", took.as_secs_f64());
}

/// A local store that takes its time, as S3 does on a bad day.
struct SlowStore {
    inner: LocalStore,
    delay: Duration,
}

impl PredictionStore for SlowStore {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.inner.put(key, body).await
        })
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Serves `state` on a local port (as `amesops serve` does) until the test ends.
async fn serve(state: AppState) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(predictor::serve::serve(
        listener,
        state,
        std::future::pending(),
    ));
    address
}

fn request_head(length: Option<usize>) -> String {
    let length = match length {
        Some(n) => format!("Content-Length: {n}\r\n"),
        None => "Transfer-Encoding: chunked\r\n".to_string(),
    };
    format!(
        "POST /predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n{length}Connection: close\r\n\r\n"
    )
}

fn wait_for_records(dir: &Path, count: usize) -> Vec<(String, Value)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let records = stored_records(dir);
        if records.len() >= count || Instant::now() > deadline {
            return records;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_disconnects_mid_request_still_gets_its_record_stored() {
    let dir = tempfile::tempdir().unwrap();
    let state = app_state(SlowStore {
        inner: LocalStore::new(dir.path()),
        delay: Duration::from_millis(500),
    });
    let address = serve(state).await;
    let body = house().to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(address).unwrap();
        stream
            .write_all(format!("{}{body}", request_head(Some(body.len()))).as_bytes())
            .unwrap();
        // Gone before the reply: the server sees the connection close while it stores.
        std::thread::sleep(Duration::from_millis(100));
        drop(stream);
    })
    .await
    .unwrap();
    let root = dir.path().to_path_buf();
    let records = tokio::task::spawn_blocking(move || wait_for_records(&root, 1))
        .await
        .unwrap();
    assert_eq!(records.len(), 1, "the record is stored: {records:?}");
    assert_eq!(records[0].1["input"], house());
}

/// Sends `body` whole before reading, then reads the reply: (status line, body).
fn send_whole_then_read(address: SocketAddr, head: &str, body: &[u8]) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .write_all(body)
        .expect("the whole body is written: the server reads it before replying");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).unwrap();
    let text = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_over_limit_body_written_whole_before_reading_gets_the_413_json() {
    let dir = tempfile::tempdir().unwrap();
    let address = serve(app_state(LocalStore::new(dir.path()))).await;
    let size = predictor::api::MAX_BODY_BYTES * 3;
    let body = format!("{{\"GrLivArea\": 1500, \"pad\": \"{}\"}}", "x".repeat(size));
    let declared = {
        let body = body.clone();
        tokio::task::spawn_blocking(move || {
            send_whole_then_read(address, &request_head(Some(body.len())), body.as_bytes())
        })
        .await
        .unwrap()
    };
    assert!(declared.0.contains(" 413 "), "{declared:?}");
    let error: Value = serde_json::from_str(&declared.1).unwrap();
    assert_eq!(error["error"]["code"], "payload_too_large", "{error}");

    // Chunked, with no length to refuse up front.
    let chunked = {
        let mut encoded = Vec::new();
        for piece in body.as_bytes().chunks(64 * 1024) {
            encoded.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            encoded.extend_from_slice(piece);
            encoded.extend_from_slice(b"\r\n");
        }
        encoded.extend_from_slice(b"0\r\n\r\n");
        tokio::task::spawn_blocking(move || {
            send_whole_then_read(address, &request_head(None), &encoded)
        })
        .await
        .unwrap()
    };
    assert!(chunked.0.contains(" 413 "), "{chunked:?}");
    assert!(chunked.1.contains("payload_too_large"), "{chunked:?}");

    // Python's http.client writes the whole body before it reads.
    let python = find_tool("python3");
    let script = format!(
        "import http.client, json\n\
         c = http.client.HTTPConnection('{address}', timeout=30)\n\
         c.request('POST', '/predict', body=b'{{\"a\": \"' + b'x' * {size} + b'\"}}', headers={{'Content-Type': 'application/json'}})\n\
         r = c.getresponse()\n\
         print(r.status, json.loads(r.read())['error']['code'])\n"
    );
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .args(["-c", &script])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "413 payload_too_large",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stored_records(dir.path()).is_empty(), "nothing stored");
}
