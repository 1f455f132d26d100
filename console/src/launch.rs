//! Opening the console: pick the backends for the target, make sure a model is served, run the UI.
//!
//! Local target, zero set-up: state lives under `.amesops/`; on first start the pipeline runs and
//! the model is deployed to the predictor router, served in-process on 127.0.0.1.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use predictor::logging::LogSettings;
use predictor::{AppState, loader};
use tokio::sync::mpsc;

use crate::backend::deployer::local::LocalDeployer;
use crate::backend::deployer::{DeployOptions, DeployRequest, Deployer, Production, Source};
use crate::backend::endpoint::Endpoint;
use crate::backend::logs::FileLogSource;
use crate::backend::store::LocalObjectStore;
use crate::config::{Config, Target};
use crate::operations;
use crate::project::Project;
use crate::tui::app::{App, Header};
use crate::tui::runtime::{Backends, Runtime};
use crate::tui::theme::Theme;

/// The model artifact the pipeline writes and `d` deploys.
pub const CANDIDATE: &str = crate::operations::retrain::CANDIDATE;

/// Console options beyond the shared configuration.
#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// Capture the mouse (off by default so terminal selection keeps working).
    pub mouse: bool,
    /// Port of the local predictor (`None`: a free one).
    pub port: Option<u16>,
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
    config: &Config,
    store: Arc<dyn crate::backend::store::ObjectStore>,
    logs: Arc<dyn crate::backend::logs::LogSource>,
    deployer: Arc<dyn Deployer>,
    endpoint: Endpoint,
    project: Project,
) -> Backends {
    let mut operations = operations::Context::new(config, deployer.clone());
    operations.command = "amesops (console)".to_string();
    Backends {
        store,
        logs,
        deployer,
        project: Arc::new(project),
        candidate: config.root_path(CANDIDATE),
        package: config.root_path(operations::retrain::PACKAGE),
        endpoint,
        operations,
    }
}

/// Makes sure something is deployed locally on first start: runs the pipeline up to the
/// package if there is no model yet, then promotes it through the gate like any deploy
/// (starting the console is the confirmation of this local first deploy). Production that
/// cannot be read is not "nothing": the console refuses to start and says how to recover.
async fn bootstrap(config: &Config) -> Result<()> {
    let deployer: Arc<dyn Deployer> = Arc::new(
        LocalDeployer::new(config.state_path("deployments"), None, String::new())
            .with_project_record(config.root_path(crate::backend::deployer::local::RECORD_FILE)),
    );
    match deployer.production().await {
        Ok(Production::Serving(_)) => return Ok(()),
        Ok(Production::Nothing) => {}
        Err(e) => bail!(
            "the local production cannot be read: {e}. Fix it, or deploy again explicitly: amesops deploy --allow-unverified"
        ),
    }
    let mut ctx = operations::Context::new(config, deployer);
    ctx.command = "amesops (console first start)".to_string();
    let events = crate::cli::terminal::printer();
    let candidate = config.root_path(CANDIDATE);
    if !candidate.exists() {
        eprintln!(
            "first start: no model yet — running the pipeline (fetch → split → train → evaluate → package)"
        );
        let lock = ctx.lock(false, &events).await?;
        let run = operations::pipeline::Run {
            stage: operations::pipeline::last_stage_before_deploy(&ctx.root),
            force: false,
            engine: crate::pipeline::runner::Engine::Auto,
        };
        let summary = operations::pipeline::run_held(&ctx, &lock, &run, &events).await?;
        if let Some(failure) = operations::pipeline::failure_line(&summary) {
            bail!(failure);
        }
    }
    eprintln!("deploying {CANDIDATE} to the local predictor");
    let request = DeployRequest {
        source: Source::Model {
            model: candidate,
            package: config.root_path(operations::retrain::PACKAGE),
        },
        options: DeployOptions::default(),
    };
    let promoted = operations::promote::promote(
        &ctx,
        &request,
        operations::Overrides::default(),
        &operations::Yes,
        &events,
    )
    .await?;
    match (&promoted.decision, &promoted.deployed) {
        (operations::promote::Decision::Refused, _) => bail!(promoted.summary()),
        (_, Some(report)) => eprintln!(
            "model {} is live (version {})",
            report.model_id, report.version
        ),
        _ => {}
    }
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
    bootstrap(&config).await?;

    let live = LocalDeployer::new(&deployments, None, String::new())
        .live_model()
        .context("no live model after deployment")?;
    let model = loader::load_model(&live.display().to_string(), None).await?;
    let model_id = model.id.clone();
    let port = options.port.unwrap_or(0);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .with_context(|| match options.port {
            Some(port) => format!(
                "cannot listen on 127.0.0.1:{port} for the predictor (in use? pick another --port, or leave it out for a free one)"
            ),
            None => "cannot open a local port for the predictor".to_string(),
        })?;
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

    let deployer = Arc::new(
        LocalDeployer::new(&deployments, Some(state), url.clone())
            .with_project_record(config.root_path(crate::backend::deployer::local::RECORD_FILE)),
    );
    let backends = backends(
        &config,
        Arc::new(LocalObjectStore::new(&state_dir)),
        Arc::new(FileLogSource::new(log_file)),
        deployer,
        Endpoint::plain()?,
        project,
    );
    let header = Header {
        target: config.target_label(),
        endpoint: format!("local predictor {url}"),
        model_id: Some(model_id.clone()),
        served: Some(model_id),
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
        &config,
        Arc::new(S3ObjectStore::new(s3, config.aws.bucket.clone())),
        Arc::new(CloudWatchLogSource::new(
            &sdk,
            config.aws.log_group(),
            custom_endpoint,
        )),
        deployer,
        aws_endpoint(&config, &sdk)?,
        project,
    );
    let header = Header {
        target: config.target_label(),
        endpoint: format!("{}:{}", config.aws.function, config.aws.alias),
        model_id: None,
        served: None,
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
pub fn aws_endpoint(
    config: &Config,
    sdk: &aws_config::SdkConfig,
) -> Result<Endpoint, crate::backend::endpoint::EndpointError> {
    use crate::backend::endpoint::{EndpointError, Signer};
    match config.aws.api_auth.as_str() {
        "iam" => {
            let signer = Signer::from_sdk(sdk).map_err(|source| EndpointError::Sign {
                what: "the API's IAM-authorized routes".to_string(),
                source,
            })?;
            Endpoint::signed(signer)
        }
        _ => Endpoint::plain(),
    }
}

/// The console's views drawn from fixtures, as SVG (`amesops screenshots`): the CLI reaches the
/// TUI only through this module.
pub fn screenshots() -> Vec<(String, String)> {
    crate::tui::screenshot::screens()
}
