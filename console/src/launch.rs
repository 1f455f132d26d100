//! Opening the console: pick the backends for the target, make sure a model is served, run the UI.
//!
//! Local target, zero set-up: state lives under `.amesops/`; on first start the pipeline runs and
//! the model is deployed to the predictor router, served in-process on 127.0.0.1.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use predictor::logging::LogSettings;
use predictor::{AppState, loader};
use tokio::sync::mpsc;

use crate::backend::deployer::Deployer;
use crate::backend::deployer::local::LocalDeployer;
use crate::backend::endpoint::Endpoint;
use crate::backend::logs::FileLogSource;
use crate::backend::store::LocalObjectStore;
use crate::config::{Config, Target};
use crate::project::Project;
use crate::tui::app::{App, Header};
use crate::tui::runtime::{Backends, Runtime};
use crate::tui::theme::Theme;

/// The model artifact the pipeline writes and `d` deploys.
pub const CANDIDATE: &str = "models/model.json";

/// Console options beyond the shared configuration.
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// Capture the mouse (off by default so terminal selection keeps working).
    pub mouse: bool,
}

/// Opens the console for the configured target.
pub fn open(config: Config, options: ConsoleOptions) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match config.target {
        Target::Local => runtime.block_on(open_local(config, options)),
        #[cfg(feature = "aws")]
        Target::Aws => runtime.block_on(open_aws(config, options)),
        #[cfg(not(feature = "aws"))]
        Target::Aws => anyhow::bail!(
            "the console's aws target needs a build with AWS support: cargo run --release -p console --features aws -- --target aws"
        ),
    }
}

/// The backends of either target: the parts that differ are passed in.
fn backends(
    store: Arc<dyn crate::backend::store::ObjectStore>,
    logs: Arc<dyn crate::backend::logs::LogSource>,
    deployer: Arc<dyn Deployer>,
    endpoint: Endpoint,
    project: Project,
) -> Result<Backends> {
    Ok(Backends {
        store,
        logs,
        deployer,
        tolerance: crate::params::Params::load(&project.root.join("params.yaml"), false)
            .map(|p| p.retrain.tolerance)
            .unwrap_or(0.002),
        project: Arc::new(project),
        candidate: PathBuf::from(CANDIDATE),
        endpoint,
    })
}

/// Makes sure something is deployed locally: runs the pipeline if there is no model yet, then
/// deploys it. Progress goes to the terminal before the console opens.
async fn bootstrap(deployer: &LocalDeployer, project: &Project) -> Result<()> {
    if deployer.live_model().is_some() {
        return Ok(());
    }
    let candidate = PathBuf::from(CANDIDATE);
    if !candidate.exists() {
        eprintln!(
            "first start: no model yet — running the pipeline (fetch → split → train → evaluate)"
        );
        project.run_pipeline_blocking_print(None).await?;
    }
    eprintln!("deploying {CANDIDATE} to the local predictor");
    let progress = |line: String| eprintln!("  {line}");
    let report = deployer
        .deploy(&candidate, &progress)
        .await
        .map_err(anyhow::Error::msg)?;
    eprintln!(
        "model {} is live (version {})",
        report.model_id, report.version
    );
    Ok(())
}

async fn open_local(config: Config, options: ConsoleOptions) -> Result<()> {
    let state_dir = config.state_dir.clone();
    std::fs::create_dir_all(&state_dir)
        .with_context(|| format!("cannot create {}", state_dir.display()))?;
    let log_file = config.state_path("logs/predictor.jsonl");
    LogSettings {
        file: Some(log_file.clone()),
        ..LogSettings::default()
    }
    .init()
    .map_err(anyhow::Error::msg)?;
    let project = Project::open(&config)?;
    let deployments = config.state_path("deployments");
    bootstrap(
        &LocalDeployer::new(&deployments, None, String::new()),
        &project,
    )
    .await?;

    let live = LocalDeployer::new(&deployments, None, String::new())
        .live_model()
        .context("no live model after deployment")?;
    let model = loader::load_model(&live.display().to_string(), None).await?;
    let model_id = model.id.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot open a local port for the predictor")?;
    let url = format!("http://{}", listener.local_addr()?);
    let state = AppState::new(
        model,
        Box::new(predictor::store::LocalStore::new(&state_dir)),
    );
    let server_state = state.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        predictor::serve::serve(listener, server_state, async {
            let _ = stop_rx.await;
        })
        .await
    });

    let deployer = Arc::new(LocalDeployer::new(&deployments, Some(state), url.clone()));
    let backends = backends(
        Arc::new(LocalObjectStore::new(&state_dir)),
        Arc::new(FileLogSource::new(log_file)),
        deployer,
        Endpoint::plain().map_err(anyhow::Error::msg)?,
        project,
    )?;
    let header = Header {
        target: config.target_label(),
        endpoint: format!("local predictor {url}"),
        model_id: Some(model_id),
        production_name: None,
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let app = App::new(
        header,
        config.read_only,
        Theme {
            color: !config.no_color,
        },
    );
    let result = crate::tui::run(app, Runtime::new(backends, tx), rx, options.mouse).await;
    let _ = stop_tx.send(());
    let _ = server.await;
    result
}

/// The console on AWS: records from S3, logs from CloudWatch, deploys to Lambda + API Gateway.
#[cfg(feature = "aws")]
async fn open_aws(config: Config, options: ConsoleOptions) -> Result<()> {
    use crate::backend::logs::CloudWatchLogSource;
    use crate::backend::store::S3ObjectStore;
    let sdk = predictor::aws::sdk_config_with(
        config.aws.profile.as_deref(),
        config.aws.region.as_deref(),
    )
    .await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(predictor::aws::custom_endpoint())
            .build(),
    );
    let custom_endpoint = std::env::var_os("AWS_ENDPOINT_URL").is_some()
        || std::env::var_os("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS").is_some();
    let deployer = crate::backend::deployer::for_config(&config).await?;
    let project = Project::open(&config)?;
    let backends = backends(
        Arc::new(S3ObjectStore::new(s3, config.aws.bucket.clone())),
        Arc::new(CloudWatchLogSource::new(
            &sdk,
            config.aws.log_group(),
            custom_endpoint,
        )),
        deployer,
        aws_endpoint(&config, &sdk).map_err(anyhow::Error::msg)?,
        project,
    )?;
    let header = Header {
        target: config.target_label(),
        endpoint: format!("{}:{}", config.aws.function, config.aws.alias),
        model_id: None,
        production_name: Some(config.aws.function.clone()),
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let app = App::new(
        header,
        config.read_only,
        Theme {
            color: !config.no_color,
        },
    );
    crate::tui::run(app, Runtime::new(backends, tx), rx, options.mouse).await
}

/// The endpoint client for the aws target: SigV4-signed when the API requires IAM auth.
#[cfg(feature = "aws")]
pub fn aws_endpoint(config: &Config, sdk: &aws_config::SdkConfig) -> Result<Endpoint, String> {
    match config.aws.api_auth.as_str() {
        "iam" => Endpoint::signed(crate::backend::endpoint::Signer::from_sdk(sdk)?),
        _ => Endpoint::plain(),
    }
}
