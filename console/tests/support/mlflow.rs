//! A real MLflow 3.17.2 server for tests: SQLite backend, artifacts in a moto S3 bucket
//! through the server's artifact proxy. It can be stopped and started again on the same port
//! and database (a tracker outage), and it stops, process group and all, when dropped.
//!
//! Needs `mlflow` and `moto_server` on PATH (scripts/test puts its venv there); without them
//! the test fails saying so, it never passes silently.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use super::servers::{self, MotoServer, ProcessGroup};

/// The first start of an MLflow server creates its database: allow for a slow machine.
const MLFLOW_START_TIMEOUT: Duration = Duration::from_secs(240);
const BUCKET: &str = "mlflow-artifacts";

/// moto S3 plus an MLflow server storing artifacts in it; both stop when dropped (mlflow
/// first, so it does not log errors about a vanished S3).
pub struct MlflowStack {
    mlflow: Option<ProcessGroup>,
    moto: MotoServer,
    port: u16,
    /// The server's base URL.
    pub url: String,
    dir: tempfile::TempDir,
}

impl MlflowStack {
    /// Starts moto, creates the artifact bucket, starts MLflow and waits until it answers.
    pub fn start() -> MlflowStack {
        let moto = MotoServer::start();
        let moto_address = SocketAddr::from(([127, 0, 0, 1], moto.port()));
        let (status, body) = servers::http_request(
            moto_address,
            "PUT",
            &format!("/{BUCKET}"),
            &[],
            b"",
            Duration::from_secs(10),
        )
        .expect("create the artifact bucket on moto");
        assert_eq!(
            status,
            200,
            "PUT /{BUCKET}: {}",
            String::from_utf8_lossy(&body)
        );
        let port = servers::free_port();
        let mut stack = MlflowStack {
            mlflow: None,
            moto,
            port,
            url: format!("http://127.0.0.1:{port}"),
            dir: tempfile::tempdir().expect("temporary folder"),
        };
        stack.up();
        stack
    }

    /// The `python` of the venv MLflow is installed in (it can import `mlflow`).
    pub fn python() -> PathBuf {
        let mlflow = servers::find_tool("mlflow");
        mlflow.with_file_name("python")
    }

    /// Starts the server (again), on the same port and database, and waits until it answers.
    pub fn up(&mut self) {
        assert!(
            self.mlflow.is_none(),
            "the mlflow server is running already"
        );
        let mut command = Command::new(servers::find_tool("mlflow"));
        command
            .args([
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
            ])
            .args(["--workers", "1"])
            .arg("--backend-store-uri")
            .arg(format!(
                "sqlite:///{}",
                self.dir.path().join("mlflow.db").display()
            ))
            .args(["--artifacts-destination", &format!("s3://{BUCKET}/root")])
            .env("MLFLOW_S3_ENDPOINT_URL", self.moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("MLFLOW_TRACKING_URI")
            .current_dir(self.dir.path());
        let started = Instant::now();
        let mut mlflow = ProcessGroup::spawn(command, "mlflow-server");
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        loop {
            if let Some(status) = mlflow.try_wait() {
                panic!(
                    "mlflow server exited ({status}) before it was ready:\n{}",
                    mlflow.log_tail(6000)
                );
            }
            if let Ok((200, _)) =
                servers::http_request(address, "GET", "/health", &[], b"", Duration::from_secs(2))
            {
                break;
            }
            assert!(
                started.elapsed() < MLFLOW_START_TIMEOUT,
                "mlflow server not ready on port {} after {} s:\n{}",
                self.port,
                MLFLOW_START_TIMEOUT.as_secs(),
                mlflow.log_tail(6000)
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        eprintln!(
            "mlflow server ready in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        self.mlflow = Some(mlflow);
    }

    /// Stops the server (the whole process group): its port refuses connections until
    /// [`MlflowStack::up`].
    pub fn down(&mut self) {
        if let Some(mut mlflow) = self.mlflow.take() {
            mlflow.kill();
        }
    }
}

impl Drop for MlflowStack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(mlflow) = &self.mlflow {
                eprintln!("mlflow server output:\n{}", mlflow.log_tail(6000));
            }
            eprintln!("moto output:\n{}", self.moto.log_tail(2000));
        }
        self.down();
    }
}
