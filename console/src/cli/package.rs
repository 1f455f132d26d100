//! `amesops package`: what a deploy ships.
//!
//! On the aws target: the predictor cross-compiled for Amazon Linux 2023 by cargo-lambda (zig,
//! glibc 2.34, the size-optimised `lambda` profile) and zipped with the model as
//! `dist/predictor.zip`. On the local target nothing is compiled: the model is copied to
//! `dist/model.json`, so `dvc repro` stays fast and offline. Both write `dist/package.json`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::config::{Config, GlobalArgs, Target};

/// The manifest written beside the package.
pub const MANIFEST_FILE: &str = "package.json";

/// Arguments of `amesops package`.
#[derive(Debug, Args)]
#[command(long_about = "Package the model for deployment.\n\n\
Target aws: builds the Lambda bootstrap with `cargo lambda build --profile lambda` for \
x86_64-unknown-linux-gnu.2.34 (aarch64 with --arm64; needs cargo-lambda, `pip install cargo-lambda`), \
zips it with the model as --out, and prints its size and sha256.\n\n\
Target local (the default): compiles nothing; copies the model to model.json in the folder of --out, \
so the pipeline stays fast and offline.\n\n\
Both write package.json (model id, sha256, size) beside the output.")]
pub struct PackageArgs {
    /// Build for AWS Graviton (aarch64) instead of x86_64.
    #[arg(long)]
    pub arm64: bool,
    /// The model artifact to ship.
    #[arg(long, default_value = "models/model.json")]
    pub model: PathBuf,
    /// The Lambda zip to write; on the local target, its folder receives model.json.
    #[arg(long, default_value = "dist/predictor.zip")]
    pub out: PathBuf,
    /// Ship this already built bootstrap instead of building one (aws target), e.g. one built
    /// once by CI for many packages.
    #[arg(long, env = "AMESOPS_BOOTSTRAP")]
    pub bootstrap: Option<PathBuf>,
}

/// `amesops package`.
pub fn package(args: PackageArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global)?;
    let model = std::fs::read(&args.model).with_context(|| {
        format!(
            "cannot read the model {}; train one first (amesops train)",
            args.model.display()
        )
    })?;
    let loaded = core_model::Artifact::from_bytes(&model)
        .with_context(|| format!("{} is not a usable model", args.model.display()))?;
    match config.target {
        Target::Local => package_local(&args, &model, &loaded),
        Target::Aws => package_aws(&args, &model, &loaded),
    }
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The folder a package is written to (its manifest and image record live there too).
pub fn package_dir(out: &Path) -> PathBuf {
    out.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn package_local(
    args: &PackageArgs,
    model: &[u8],
    loaded: &core_model::LoadedArtifact,
) -> Result<ExitCode> {
    let dir = package_dir(&args.out);
    let target = dir.join("model.json");
    crate::files::write_bytes(&target, model)?;
    let manifest = serde_json::json!({
        "target": "local",
        "file": "model.json",
        "size": model.len(),
        "sha256": loaded.sha256,
        "model_id": loaded.id,
        "model_sha256": loaded.sha256,
        "created": now(),
    });
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    crate::files::write_bytes(&dir.join(MANIFEST_FILE), &bytes)?;
    println!(
        "{}: model {} ({} bytes); local target, nothing compiled (`--target aws` builds the Lambda zip)",
        target.display(),
        loaded.id,
        model.len()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(not(feature = "aws"))]
fn package_aws(_: &PackageArgs, _: &[u8], _: &core_model::LoadedArtifact) -> Result<ExitCode> {
    bail!(
        "this build has no AWS support: build with `cargo build --release -p console --features aws`"
    )
}

#[cfg(feature = "aws")]
fn package_aws(
    args: &PackageArgs,
    model: &[u8],
    loaded: &core_model::LoadedArtifact,
) -> Result<ExitCode> {
    use crate::backend::deployer::aws::package::{Arch, Manifest, code_sha256, lambda_zip};
    let arch = if args.arm64 {
        Arch::Arm64
    } else {
        Arch::X86_64
    };
    let bootstrap = match &args.bootstrap {
        Some(path) => std::fs::read(path)
            .with_context(|| format!("cannot read the bootstrap {}", path.display()))?,
        None => build_bootstrap(arch)?,
    };
    match Arch::of_elf(&bootstrap) {
        Some(found) if found == arch => {}
        Some(found) => bail!(
            "the bootstrap is built for {found}, not {arch}{}",
            if args.arm64 { "" } else { " (add --arm64?)" }
        ),
        None => bail!("the bootstrap is not a Linux x86_64 or arm64 executable"),
    }
    let zip = lambda_zip(&bootstrap, model).map_err(anyhow::Error::msg)?;
    const DIRECT_UPLOAD_LIMIT: usize = 50 * 1024 * 1024;
    if zip.len() > DIRECT_UPLOAD_LIMIT {
        bail!(
            "the package is {:.1} MB, over Lambda's 50 MB direct upload limit",
            zip.len() as f64 / 1e6
        );
    }
    crate::files::write_bytes(&args.out, &zip)?;
    let file = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let manifest = Manifest {
        target: "aws".to_string(),
        file,
        size: zip.len() as u64,
        sha256: core_model::digest::sha256_hex(&zip),
        code_sha256: Some(code_sha256(&zip)),
        arch: Some(arch),
        model_id: loaded.id.clone(),
        model_sha256: loaded.sha256.clone(),
        created: now(),
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest)?;
    bytes.push(b'\n');
    crate::files::write_bytes(&package_dir(&args.out).join(MANIFEST_FILE), &bytes)?;
    println!(
        "{}: {} bytes ({:.2} MB), sha256 {}, model {}, {arch} (bootstrap {:.2} MB)",
        args.out.display(),
        manifest.size,
        manifest.size as f64 / 1e6,
        manifest.sha256,
        loaded.id,
        bootstrap.len() as f64 / 1e6
    );
    Ok(ExitCode::SUCCESS)
}

/// The workspace holding the predictor crate: the current folder or one above it.
#[cfg(feature = "aws")]
fn workspace_root() -> Result<PathBuf> {
    let start = std::env::current_dir().context("cannot read the current folder")?;
    start
        .ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file() && dir.join("predictor").join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "{} is not inside the amesops source tree (no Cargo.toml with the predictor crate above it): run package from the repository, or pass --bootstrap",
                start.display()
            )
        })
}

/// `cargo lambda build` of the predictor for Amazon Linux 2023; returns the bootstrap's bytes.
#[cfg(feature = "aws")]
fn build_bootstrap(arch: crate::backend::deployer::aws::package::Arch) -> Result<Vec<u8>> {
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .any(|dir| dir.join("cargo-lambda").is_file());
    if !on_path {
        bail!(
            "cargo-lambda is not installed: `pip install cargo-lambda` (it brings zig for the cross-compilation), or build the bootstrap elsewhere and pass --bootstrap (see deploy/README.md)"
        );
    }
    let root = workspace_root()?;
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let lambda_dir = target_dir.join("lambda-package").join(arch.to_string());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = arch.cargo_lambda_target();
    eprintln!(
        "building the Lambda bootstrap: cargo lambda build --profile lambda -p predictor --target {target} (a cold build takes minutes)"
    );
    let status = std::process::Command::new(cargo)
        .current_dir(&root)
        .args([
            "lambda",
            "build",
            "--profile",
            "lambda",
            "--package",
            "predictor",
            "--bin",
            "predictor",
            "--target",
            target,
            "--flatten",
            "predictor",
        ])
        .arg("--lambda-dir")
        .arg(&lambda_dir)
        .stdin(std::process::Stdio::null())
        .status()
        .context("cannot run cargo lambda")?;
    if !status.success() {
        bail!("cargo lambda build failed ({status}); its output is above");
    }
    let bootstrap = lambda_dir.join("bootstrap");
    std::fs::read(&bootstrap)
        .with_context(|| format!("cargo lambda build did not produce {}", bootstrap.display()))
}
