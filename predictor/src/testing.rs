//! Test support (feature `testing`), shared by the predictor's and the console's tests.
//!
//! - [`MotoServer`]: a real moto S3 server on a free loopback port, killed with its whole process
//!   group when dropped; [`aws_loader`] and [`s3_client`] build SDK clients for it explicitly,
//!   without touching the process environment; [`aws_env`] is the same for a child process.
//! - [`trained_model_bytes`]: a model trained once per process on `datasets/ames.csv`.
//! - [`NullStore`] and [`FailingStore`]: record stores that accept or refuse everything;
//!   [`stored_records`]: what a folder store holds.
//! - [`LogCapture`]: the JSON log lines of the code under test, as the production logger writes
//!   them.
//! - [`call`], [`post_json`], [`get`]: one request through the router, the reply parsed as JSON.
//! - [`http_request`]: a minimal blocking HTTP/1.1 client for servers run as processes.
//!
//! External tools (`moto_server`, `cargo-lambda`) are looked up on `PATH`; `scripts/test` puts
//! the venv holding them there. A missing tool fails the test with a message saying so.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_smithy_http_client::tls;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use core_model::artifact::Artifact;
use core_model::{Table, TrainParams, digest};
use futures_util::future::BoxFuture;
use serde_json::Value;

use crate::state::{AppState, ServedModel};
use crate::store::{PredictionStore, StoreError};

/// How long [`MotoServer::start`] waits for the server to answer.
pub const MOTO_START_TIMEOUT: Duration = Duration::from_secs(30);
/// The region of every test client.
pub const TEST_REGION: &str = "us-east-1";
/// The access key id (and secret) moto accepts.
pub const TEST_CREDENTIAL: &str = "testing";

/// The workspace root (the folder holding `datasets/`).
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The bundled Kaggle training data, `datasets/ames.csv`.
pub fn bundled_csv() -> PathBuf {
    project_root().join("datasets").join("ames.csv")
}

/// Finds an executable on `PATH`, or fails the test saying how to get it.
pub fn find_tool(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if is_executable(&candidate) {
            return candidate;
        }
    }
    panic!(
        "`{name}` is not on PATH. Run the tests through scripts/test, which installs the tools of \
         scripts/requirements.txt into a venv ($HOME/.cache/amesops/venv-*) and puts its bin \
         folder on PATH, or put that folder on PATH yourself."
    )
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind a free loopback port")
}

/// A child process in its own process group, its output in a log file; dropping it kills the
/// whole group (the process and everything it started).
#[derive(Debug)]
pub struct ProcessGroup {
    child: Child,
    name: String,
    log: PathBuf,
}

impl ProcessGroup {
    /// Spawns `command` as the leader of a new process group, stdin closed, stdout and stderr
    /// appended to a log file.
    pub fn spawn(mut command: Command, name: &str) -> ProcessGroup {
        let log = std::env::temp_dir().join(format!(
            "amesops-test-{name}-{}-{}.log",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let out = File::create(&log)
            .unwrap_or_else(|e| panic!("cannot create log file {}: {e}", log.display()));
        let err = out.try_clone().expect("duplicate the log file handle");
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({command:?}): {e}"));
        ProcessGroup {
            child,
            name: name.to_string(),
            log,
        }
    }

    /// The process id (also the process group id).
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if the process has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The log file of the process.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `max` bytes of the process's output.
    pub fn log_tail(&self, max: usize) -> String {
        let text = std::fs::read(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(max);
        String::from_utf8_lossy(&text[start..]).into_owned()
    }

    /// Kills the whole process group and reaps the leader.
    pub fn kill(&mut self) {
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: killpg only sends a signal; the group is the one this child leads.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!("{} output kept in {}", self.name, self.log.display());
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// A moto S3 server on `127.0.0.1`, stopped (whole process group) when dropped.
#[derive(Debug)]
pub struct MotoServer {
    process: ProcessGroup,
    port: u16,
}

impl MotoServer {
    /// Starts `moto_server` (from `PATH`) on a free port and waits until `GET /` answers.
    ///
    /// Panics with the server's output when it does not answer within [`MOTO_START_TIMEOUT`].
    pub fn start() -> MotoServer {
        MotoServer::start_with(&[])
    }

    /// Like [`MotoServer::start`], with extra environment for the server (e.g.
    /// `MOTO_RECORDER_FILEPATH` for its request recorder, `INITIAL_NO_AUTH_ACTION_COUNT`).
    pub fn start_with(env: &[(&str, &str)]) -> MotoServer {
        let exe = find_tool("moto_server");
        let mut last_log = String::new();
        // A port picked free can be taken before moto binds it: try a few.
        for _ in 0..3 {
            let port = free_port();
            let mut command = Command::new(&exe);
            command
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .envs(env.iter().copied());
            let mut process = ProcessGroup::spawn(command, "moto_server");
            let deadline = Instant::now() + MOTO_START_TIMEOUT;
            loop {
                if let Some(status) = process.try_wait() {
                    last_log = format!(
                        "moto_server exited ({status}) before answering on port {port}:\n{}",
                        process.log_tail(4000)
                    );
                    break;
                }
                let address = SocketAddr::from(([127, 0, 0, 1], port));
                if http_request(address, "GET", "/", &[], b"", Duration::from_secs(2)).is_ok() {
                    return MotoServer { process, port };
                }
                if Instant::now() > deadline {
                    panic!(
                        "moto_server did not answer GET http://127.0.0.1:{port}/ within {} s; its \
                         output:\n{}",
                        MOTO_START_TIMEOUT.as_secs(),
                        process.log_tail(4000)
                    );
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("could not start moto_server: {last_log}")
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's output so far.
    pub fn log_tail(&self, max: usize) -> String {
        self.process.log_tail(max)
    }
}

/// The environment that points an AWS SDK in a child process at `endpoint` with the test
/// credentials: `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`.
pub fn aws_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.to_string()),
        ("AWS_ACCESS_KEY_ID", TEST_CREDENTIAL.to_string()),
        ("AWS_SECRET_ACCESS_KEY", TEST_CREDENTIAL.to_string()),
        ("AWS_REGION", TEST_REGION.to_string()),
    ]
}

/// An SDK config loader for `endpoint` with the test region and credentials set explicitly (no
/// process environment involved); add retry or timeout settings, then `.load().await`.
pub fn aws_loader(endpoint: &str) -> aws_config::ConfigLoader {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client)
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(TEST_REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            TEST_CREDENTIAL,
            TEST_CREDENTIAL,
            None,
            None,
            "amesops-tests",
        ))
}

/// An S3 client from `config`, with path-style addressing (what moto on an IP address needs).
pub fn s3_client_from(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// An S3 client for `endpoint` (see [`aws_loader`]).
pub async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    s3_client_from(&aws_loader(endpoint).load().await)
}

/// Creates `bucket`, panicking with the SDK's explanation on failure.
pub async fn create_bucket(client: &aws_sdk_s3::Client, bucket: &str) {
    client
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "create bucket {bucket}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
}

/// Every key under `prefix` in `bucket`.
pub async fn list_keys(client: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<String> {
    let listing = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "list s3://{bucket}/{prefix}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
    listing
        .contents()
        .iter()
        .filter_map(|object| object.key().map(str::to_string))
        .collect()
}

/// The body of one object.
pub async fn get_object(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!(
                "get s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        });
    object
        .body
        .collect()
        .await
        .expect("read the object body")
        .into_bytes()
        .to_vec()
}

/// The artifact bytes of a model trained with default parameters on `datasets/ames.csv`;
/// trained once per process.
pub fn trained_model_bytes() -> &'static [u8] {
    static MODEL: OnceLock<Vec<u8>> = OnceLock::new();
    MODEL.get_or_init(train_bundled)
}

fn train_bundled() -> Vec<u8> {
    let path = bundled_csv();
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let dataset = Table::read(data.as_slice())
        .and_then(Table::into_dataset)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let params = TrainParams::default();
    let trained = core_model::train::train(&dataset, &params, &mut |_| {})
        .unwrap_or_else(|e| panic!("training on {} failed: {e}", path.display()));
    let artifact = Artifact::from_trained(
        trained,
        params,
        crate::record::rfc3339_micros(time::OffsetDateTime::now_utc()),
        digest::md5_hex(&data),
    )
    .with_reference(&dataset);
    artifact.to_bytes().expect("serialise the trained model")
}

/// The trained model, ready to serve.
pub fn served_model() -> ServedModel {
    ServedModel::from(
        Artifact::from_bytes(trained_model_bytes()).expect("the trained model loads back"),
    )
}

/// Writes the trained model to `dir/model.json` and returns the path.
pub fn write_model(dir: &Path) -> PathBuf {
    let path = dir.join("model.json");
    std::fs::write(&path, trained_model_bytes())
        .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// Router state serving the trained model into `store`.
pub fn app_state(store: impl PredictionStore + 'static) -> AppState {
    AppState::new(served_model(), Box::new(store))
}

/// Every record a folder store holds under `root`: (key with `/` separators, parsed JSON),
/// sorted by key; nothing when the folder does not exist.
pub fn stored_records(root: &Path) -> Vec<(String, Value)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Value)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("list the records folder").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let key = path
                    .strip_prefix(root)
                    .expect("a path under the root")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {key}: {e}"));
                let value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{key} is not JSON: {e}"));
                out.push((key, value));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Accepts every record and keeps none.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullStore;

impl PredictionStore for NullStore {
    fn put<'a>(&'a self, _key: &'a str, _body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn describe(&self) -> String {
        "nowhere (test)".to_string()
    }
}

/// Refuses every record with the same error.
#[derive(Debug, Clone)]
pub struct FailingStore {
    /// The error every `put` returns.
    pub message: String,
}

impl Default for FailingStore {
    fn default() -> Self {
        Self {
            message: "the test store refuses every record".to_string(),
        }
    }
}

impl PredictionStore for FailingStore {
    fn put<'a>(&'a self, _key: &'a str, _body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        let error = StoreError(self.message.clone());
        Box::pin(async move { Err(error) })
    }

    fn describe(&self) -> String {
        "failing (test)".to_string()
    }
}

/// Log lines written while its guard is alive on this thread, in the production JSON format.
#[derive(Debug, Clone, Default)]
pub struct LogCapture {
    buffer: Arc<Mutex<Vec<u8>>>,
}

thread_local! {
    static CURRENT_CAPTURE: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// Ends a thread's capture when dropped.
#[derive(Debug)]
pub struct CaptureGuard;

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CURRENT_CAPTURE.with(|current| *current.borrow_mut() = None);
    }
}

/// Sends each line to the capture of the thread that logs it (or nowhere).
#[derive(Debug, Clone, Copy)]
struct RoutedWriter;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RoutedWriter {
    type Writer = RoutedLine;

    fn make_writer(&'a self) -> Self::Writer {
        RoutedLine(CURRENT_CAPTURE.with(|current| current.borrow().clone()))
    }
}

/// One line on its way to a thread's capture.
#[derive(Debug)]
struct RoutedLine(Option<Arc<Mutex<Vec<u8>>>>);

impl Write for RoutedLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if let Some(buffer) = &self.0 {
            match buffer.lock() {
                Ok(mut buffer) => buffer.extend_from_slice(bytes),
                Err(poisoned) => poisoned.into_inner().extend_from_slice(bytes),
            }
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One write into a [`LogCapture`].
#[derive(Debug)]
pub struct CaptureWriter {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match self.buffer.lock() {
            Ok(mut buffer) => buffer.extend_from_slice(bytes),
            Err(poisoned) => poisoned.into_inner().extend_from_slice(bytes),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter {
            buffer: self.buffer.clone(),
        }
    }
}

impl LogCapture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Captures this thread's events (INFO and above, JSON lines with the fields at the top
    /// level, like [`crate::logging::LogSettings`]) until the guard is dropped. A
    /// current-thread runtime (`#[tokio::test]`'s default) runs the router on this thread.
    ///
    /// One global subscriber routes each thread's lines to its capture: scoped subscribers
    /// lose events when tests run in parallel (callsite interest is cached process-wide).
    pub fn set_default(&self) -> CaptureGuard {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_ansi(false)
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(RoutedWriter)
                .try_init();
        });
        CURRENT_CAPTURE.with(|current| *current.borrow_mut() = Some(self.buffer.clone()));
        CaptureGuard
    }

    /// Everything captured, as text.
    pub fn text(&self) -> String {
        let bytes = match self.buffer.lock() {
            Ok(buffer) => buffer.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every captured line, parsed (panics on a line that is not JSON).
    pub fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"))
            })
            .collect()
    }
}

/// A `POST path` request with a JSON content type.
pub fn post_json(path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .expect("a valid request")
}

/// A `GET path` request.
pub fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .body(Body::empty())
        .expect("a valid request")
}

/// A reply of the router: status, headers and the raw body.
#[derive(Debug)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body parsed as JSON (panics, showing the body, when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "reply {} is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// Sends one request through a clone of `app` (tower `oneshot`) and collects the reply.
pub async fn call(app: &Router, request: Request<Body>) -> Reply {
    use tower::ServiceExt;
    let response = match app.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .expect("read the reply body");
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: body.to_vec(),
    }
}

/// A minimal blocking HTTP/1.1 request (`Connection: close`) for servers run as processes:
/// returns the status and the body (chunked bodies decoded).
pub fn http_request(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect_timeout(&address, timeout.min(Duration::from_secs(5)))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply)?;
    parse_http_reply(&reply)
}

fn parse_http_reply(reply: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
    let invalid = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{what}: {}", String::from_utf8_lossy(reply)),
        )
    };
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| invalid("no end of headers"))?;
    let head = String::from_utf8_lossy(&reply[..split]);
    let body = &reply[split + 4..];
    let status = head
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| invalid("no status line"))?;
    let chunked = head.lines().skip(1).any(|line| {
        let lower = line.to_ascii_lowercase();
        lower.starts_with("transfer-encoding:") && lower.contains("chunked")
    });
    if !chunked {
        return Ok((status, body.to_vec()));
    }
    let mut decoded = Vec::new();
    let mut rest = body;
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| invalid("truncated chunk"))?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| invalid("bad chunk size"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok((status, decoded));
        }
        if rest.len() < size {
            return Err(invalid("truncated chunk"));
        }
        decoded.extend_from_slice(&rest[..size]);
        rest = rest.get(size + 2..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked_replies() {
        let (status, body) =
            parse_http_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").expect("parsed");
        assert_eq!((status, body.as_slice()), (200, b"{}".as_slice()));
        let (status, body) = parse_http_reply(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .expect("parsed");
        assert_eq!((status, body.as_slice()), (404, b"abcde".as_slice()));
    }
}
