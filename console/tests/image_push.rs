//! `amesops package` on the aws target (the real cross-compiled bootstrap, built once per run
//! by cargo-lambda and zig) and `amesops image push` of that package to a real OCI registry
//! (Debian's docker-registry), logging in through ECR's GetAuthorizationToken on moto.
//!
//! Needs `cargo-lambda` and `moto_server` (scripts/requirements.txt) and `docker-registry` and
//! `objdump` (Debian packages docker-registry and binutils) on PATH; scripts/test installs them.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod deploy_support;

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use crate::support::aws::{aws_env, aws_loader};
use crate::support::fixtures::{project_root, trained_model_bytes};
use crate::support::servers::{MotoServer, find_tool};
use deploy_support::{Registry, layer_files, pull};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_amesops");
/// Lambda's limit is 50 MB zipped; ours must stay far below it.
const MAX_ZIP_BYTES: u64 = 10 * 1024 * 1024;

/// The package built once for every test of this file.
struct Package {
    zip: PathBuf,
    model: Vec<u8>,
    stdout: String,
}

fn run(dir: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env_remove("AWS_PROFILE");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "amesops {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `amesops --target aws package` of a freshly trained model, from the workspace (where
/// cargo-lambda builds the predictor).
fn package() -> &'static Package {
    static PACKAGE: OnceLock<Package> = OnceLock::new();
    PACKAGE.get_or_init(|| {
        find_tool("cargo-lambda");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("amesops-package-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model_path = dir.join("model.json");
        std::fs::write(&model_path, trained_model_bytes()).unwrap();
        let zip = dir.join("dist").join("predictor.zip");
        let output = run(
            &project_root(),
            &[
                "--target",
                "aws",
                "package",
                "--model",
                model_path.to_str().unwrap(),
                "--out",
                zip.to_str().unwrap(),
            ],
            &[],
        );
        Package {
            zip,
            model: trained_model_bytes().to_vec(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        }
    })
}

fn zip_file(zip: &Path, name: &str) -> (Vec<u8>, Option<u32>) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mode = file.unix_mode();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
    (bytes, mode)
}

/// `GLIBC_x.y` versions the binary's dynamic symbols need, as (x, y).
fn glibc_versions(binary: &Path) -> Vec<(u32, u32)> {
    let output = Command::new(find_tool("objdump"))
        .arg("-T")
        .arg(binary)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "objdump -T failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut versions: Vec<(u32, u32)> = text
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(|word| word.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((
                parts.next()?.parse().ok()?,
                parts.next().unwrap_or("0").parse().ok()?,
            ))
        })
        .collect();
    versions.sort_unstable();
    versions.dedup();
    versions
}

#[test]
fn package_builds_a_lambda_zip_for_amazon_linux_2023_under_10_mb() {
    let package = package();
    let size = std::fs::metadata(&package.zip).unwrap().len();
    assert!(size < MAX_ZIP_BYTES, "the zip is {size} bytes");
    assert!(
        package.stdout.contains(&format!("{size} bytes")),
        "size is printed: {}",
        package.stdout
    );

    let (bootstrap, mode) = zip_file(&package.zip, "bootstrap");
    assert_eq!(mode.map(|m| m & 0o777), Some(0o755));
    assert_eq!(&bootstrap[..4], b"\x7fELF");
    let (model, _) = zip_file(&package.zip, "model.json");
    assert_eq!(model, package.model);

    let scratch = tempfile::tempdir().unwrap();
    let binary = scratch.path().join("bootstrap");
    std::fs::write(&binary, &bootstrap).unwrap();
    let versions = glibc_versions(&binary);
    let newest = versions.last().copied().unwrap_or((0, 0));
    assert!(!versions.is_empty(), "the bootstrap links against glibc");
    assert!(
        newest <= (2, 34),
        "the bootstrap needs GLIBC_{}.{} (Amazon Linux 2023 has 2.34)",
        newest.0,
        newest.1
    );

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(package.zip.with_file_name("package.json")).unwrap())
            .unwrap();
    let bytes = std::fs::read(&package.zip).unwrap();
    let sha = core_model::digest::sha256_hex(&bytes);
    assert_eq!(manifest["sha256"], sha.as_str());
    assert!(
        package.stdout.contains(&sha),
        "sha256 is printed: {}",
        package.stdout
    );
    assert_eq!(manifest["target"], "aws");
    assert_eq!(manifest["arch"], "x86_64");
    assert_eq!(
        manifest["model_sha256"],
        core_model::digest::sha256_hex(&package.model).as_str()
    );
}

#[tokio::test]
async fn image_push_logs_in_through_ecr_and_the_image_pulls_back_with_the_same_bootstrap() {
    let package = package();
    let moto = MotoServer::start();
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let mut env = aws_env(&moto.endpoint());
    env.push(("AMESOPS_TARGET", "aws".to_string()));
    env.push(("AMESOPS_REGISTRY", registry.host()));
    let output = run(
        dir.path(),
        &[
            "image",
            "push",
            "--package",
            package.zip.to_str().unwrap(),
            "--base",
            "scratch",
            "--tag",
            "candidate",
        ],
        &env,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("logged in to ECR as AWS"), "{stderr}");

    // The repository exists in (moto's) ECR.
    let ecr = aws_sdk_ecr::Client::new(&aws_loader(&moto.endpoint()).load().await);
    let repositories = ecr.describe_repositories().send().await.unwrap();
    let names: Vec<&str> = repositories
        .repositories()
        .iter()
        .filter_map(|r| r.repository_name())
        .collect();
    assert_eq!(names, ["amesops-predictor"]);

    let record: Value =
        serde_json::from_slice(&std::fs::read(package.zip.with_file_name("image.json")).unwrap())
            .unwrap();
    let pulled = pull(&format!("{}/amesops-predictor:candidate", registry.host())).await;
    assert_eq!(
        pulled.digest.as_deref(),
        record["digest"].as_str(),
        "{}",
        registry.log_tail()
    );
    assert_eq!(
        record["image_uri"],
        format!(
            "{}/amesops-predictor@{}",
            registry.host(),
            pulled.digest.as_deref().unwrap_or("")
        )
        .as_str()
    );

    let files = layer_files(&pulled.layers[0].data);
    let (bootstrap, _) = zip_file(&package.zip, "bootstrap");
    let pulled_bootstrap = files
        .iter()
        .find(|(path, _, _)| path == "var/runtime/bootstrap")
        .expect("the layer has /var/runtime/bootstrap");
    assert_eq!(pulled_bootstrap.1 & 0o777, 0o755);
    assert!(
        pulled_bootstrap.2 == bootstrap,
        "the pulled bootstrap is the built one"
    );
    let model = files
        .iter()
        .find(|(path, _, _)| path == "var/task/model.json")
        .expect("the layer has /var/task/model.json");
    assert_eq!(model.2, package.model);

    let config: Value = serde_json::from_slice(&pulled.config.data).unwrap();
    assert_eq!(config["config"]["Entrypoint"][0], "/var/runtime/bootstrap");
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(
        config["rootfs"]["diff_ids"].as_array().map(Vec::len),
        Some(1)
    );
}
