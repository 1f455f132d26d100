//! Servers run as processes for the tests: a child in its own process group (killed, group and
//! all, when dropped), tools looked up on `PATH`, free loopback ports, a moto S3 server started
//! and waited for, and a minimal HTTP client to ask such servers whether they are ready.
//!
//! External tools (`moto_server`, `mlflow`, `docker-registry`, `cargo-lambda`) are looked up on
//! `PATH`; `scripts/test` puts the venv holding them there. A missing tool fails the test with a
//! message saying so.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long [`MotoServer::start`] waits for the server to answer.
pub const MOTO_START_TIMEOUT: Duration = Duration::from_secs(30);

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

pub fn parse_http_reply(reply: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
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
