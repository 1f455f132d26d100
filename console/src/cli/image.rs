//! `amesops image push`: the Lambda container image, built from the package and pushed to ECR
//! without a Docker daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::config::GlobalArgs;

/// Arguments of `amesops image`.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// What to do with the image.
    #[command(subcommand)]
    pub command: ImageCommand,
}

/// `amesops image` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Build the image from the package (bootstrap + model) and push it to the ECR repository.
    #[command(
        long_about = "Build the Lambda container image from the package made by `amesops package` \
(its bootstrap and model: the same image as the Dockerfile) and push it to the ECR repository \
aws.ecr_repository, created when missing. Logs in with ECR GetAuthorizationToken. No Docker needed.\n\n\
Writes image.json beside the package; `amesops deploy --image` deploys it."
    )]
    Push(PushArgs),
}

/// Arguments of `amesops image push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Image tag (default: the model id).
    #[arg(long)]
    pub tag: Option<String>,
    /// The package whose bootstrap and model go into the image.
    #[arg(long, default_value = "dist/predictor.zip")]
    pub package: PathBuf,
    /// Push to this registry (HOST:PORT) instead of the account's ECR registry; plain HTTP for
    /// 127.0.0.1 and localhost.
    #[arg(long, env = "AMESOPS_REGISTRY")]
    pub registry: Option<String>,
    /// Base image: the Lambda base image, or `scratch` for the layer alone (which Lambda cannot
    /// run: the bootstrap needs the base image's glibc).
    #[arg(long, default_value = "public.ecr.aws/lambda/provided:al2023")]
    pub base: String,
}

/// `amesops image …`.
pub fn image(args: ImageArgs, global: &GlobalArgs) -> Result<ExitCode> {
    match args.command {
        ImageCommand::Push(push) => run_push(push, global),
    }
}

#[cfg(not(feature = "aws"))]
fn run_push(_: PushArgs, _: &GlobalArgs) -> Result<ExitCode> {
    anyhow::bail!(
        "this build has no AWS support: build with `cargo build --release -p console --features aws`"
    )
}

#[cfg(feature = "aws")]
fn run_push(args: PushArgs, global: &GlobalArgs) -> Result<ExitCode> {
    use anyhow::Context;
    use oci_client::secrets::RegistryAuth;

    use crate::backend::deployer::aws::package::{self, Arch, Candidate, ImageRecord, zip_entry};
    use crate::backend::deployer::aws::{ecr, image};

    let config = crate::config::Config::load(global)?;
    let candidate = Candidate::from_zip(&args.package)?;
    let package::Code::Zip(zip) = &candidate.code else {
        anyhow::bail!("{} is not a zip package", args.package.display());
    };
    let bootstrap = zip_entry(zip, package::BOOTSTRAP).map_err(anyhow::Error::msg)?;
    let arch: Arch = candidate.arch;
    let layer = image::layer(&bootstrap, &candidate.model)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let progress = |line: String| eprintln!("  {line}");
        let sdk = predictor::aws::sdk_config_with(
            config.aws.profile.as_deref(),
            config.aws.region.as_deref(),
        )
        .await;
        let client = aws_sdk_ecr::Client::new(&sdk);
        let repository = &config.aws.ecr_repository;
        ecr::ensure_repository(&client, repository, &progress).await?;
        let login = ecr::login(&client).await?;
        progress(format!(
            "logged in to ECR as {} (registry {})",
            login.username, login.registry
        ));
        let registry = args
            .registry
            .clone()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| login.registry.clone());
        let tag = args
            .tag
            .clone()
            .unwrap_or_else(|| candidate.model_id.clone());
        let reference = format!("{registry}/{repository}:{tag}");
        let auth = RegistryAuth::Basic(login.username.clone(), login.password.clone());
        let pushed = image::push(&reference, &auth, arch, &args.base, &layer, &progress).await?;
        let record = ImageRecord {
            image_uri: format!("{registry}/{repository}@{}", pushed.digest),
            tagged: pushed.tagged.clone(),
            digest: pushed.digest.clone(),
            arch,
            model_id: candidate.model_id.clone(),
            model_sha256: candidate.model_sha256.clone(),
            pushed: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        let path = package::package_dir(&args.package).join(package::IMAGE_RECORD_FILE);
        let mut bytes = serde_json::to_vec_pretty(&record)?;
        bytes.push(b'\n');
        crate::files::write_bytes(&path, &bytes)?;
        println!(
            "pushed {} ({}, {:.2} MB), model {}; recorded in {}",
            record.image_uri,
            pushed.tagged,
            pushed.size as f64 / 1e6,
            record.model_id,
            path.display()
        );
        Ok(ExitCode::SUCCESS)
    })
}
