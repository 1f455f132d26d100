//! The Lambda container image, built and pushed without a Docker daemon.
//!
//! Our layer holds `/var/runtime/bootstrap` (0755) and `/var/task/model.json`, as the
//! Dockerfile's final stage does. On top of the Lambda base image (`provided:al2023`, pulled from
//! its registry) the image is the Dockerfile's; on `scratch` it is the layer alone, which a
//! registry stores and serves the same way (what tests push), but Lambda cannot run: the
//! bootstrap needs the base image's glibc.

use std::collections::BTreeMap;
use std::io::Write;

use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{self, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use serde_json::{Value, json};

use super::package::{Arch, MODEL_FILE, TASK_MODEL_PATH};
use crate::backend::deployer::{DeployError, ImageStep};

/// Build on nothing: the layer alone.
pub const SCRATCH: &str = "scratch";
/// Where the provided runtime looks for the bootstrap.
pub const BOOTSTRAP_PATH: &str = "var/runtime/bootstrap";

/// A built layer: gzip bytes and the digest of the uncompressed tar.
#[derive(Debug, Clone)]
pub struct Layer {
    /// `tar.gz` bytes.
    pub gzip: Vec<u8>,
    /// `sha256:` of the uncompressed tar (the config's diff id).
    pub diff_id: String,
}

fn image_error(image: &str, step: ImageStep, reason: impl std::fmt::Display) -> DeployError {
    DeployError::Image {
        image: image.to_string(),
        step,
        reason: reason.to_string(),
    }
}

/// The layer with the bootstrap and the model, byte-for-byte reproducible.
pub fn layer(bootstrap: &[u8], model: &[u8]) -> Result<Layer, DeployError> {
    let fail = |reason: String| DeployError::Build {
        what: "the image layer",
        reason,
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    let directory = |path: &str| -> Result<tar::Header, DeployError> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header
            .set_path(path)
            .map_err(|e| fail(format!("tar {path}: {e}")))?;
        header.set_mode(0o755);
        header.set_size(0);
        header.set_mtime(0);
        header.set_cksum();
        Ok(header)
    };
    for path in ["var/", "var/runtime/", "var/task/"] {
        builder
            .append(&directory(path)?, std::io::empty())
            .map_err(|e| fail(format!("tar {path}: {e}")))?;
    }
    let model_path = TASK_MODEL_PATH.trim_start_matches('/').to_string();
    for (path, bytes, mode) in [
        (BOOTSTRAP_PATH, bootstrap, 0o755),
        (model_path.as_str(), model, 0o644),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header
            .set_path(path)
            .map_err(|e| fail(format!("tar {path}: {e}")))?;
        header.set_mode(mode);
        header.set_size(bytes.len() as u64);
        header.set_mtime(0);
        header.set_cksum();
        builder
            .append(&header, bytes)
            .map_err(|e| fail(format!("tar {path}: {e}")))?;
    }
    let tar = builder
        .into_inner()
        .map_err(|e| fail(format!("tar: {e}")))?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder
        .write_all(&tar)
        .map_err(|e| fail(format!("gzip: {e}")))?;
    let gzip = encoder.finish().map_err(|e| fail(format!("gzip: {e}")))?;
    Ok(Layer {
        gzip,
        diff_id: format!("sha256:{}", core_model::digest::sha256_hex(&tar)),
    })
}

/// The image config: the base's (or an empty one) with our layer on top, the model path in the
/// environment, and the provided runtime's start command.
pub fn image_config(arch: Arch, base: Option<&Value>, layer: &Layer) -> Value {
    let mut config = base.cloned().unwrap_or_else(|| {
        json!({
            "architecture": arch.oci(),
            "os": "linux",
            "config": {
                "Env": [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LAMBDA_TASK_ROOT=/var/task",
                    "LAMBDA_RUNTIME_DIR=/var/runtime"
                ],
                "Entrypoint": ["/var/runtime/bootstrap"],
                "WorkingDir": "/var/task"
            },
            "rootfs": { "type": "layers", "diff_ids": [] },
            "history": []
        })
    });
    if base.is_some() {
        // The base's entrypoint (/lambda-entrypoint.sh) runs /var/runtime/bootstrap; it wants
        // the handler name as its one argument.
        config["config"]["Cmd"] = json!(["bootstrap"]);
    }
    let env = format!("MODEL_PATH={TASK_MODEL_PATH}");
    match config["config"]["Env"].as_array_mut() {
        Some(list) => list.push(json!(env)),
        None => config["config"]["Env"] = json!([env]),
    }
    match config["rootfs"]["diff_ids"].as_array_mut() {
        Some(list) => list.push(json!(layer.diff_id)),
        None => config["rootfs"] = json!({ "type": "layers", "diff_ids": [layer.diff_id] }),
    }
    let step = json!({ "created": "1970-01-01T00:00:00Z", "created_by": format!("amesops image push: /{BOOTSTRAP_PATH} and {TASK_MODEL_PATH} ({MODEL_FILE})") });
    match config["history"].as_array_mut() {
        Some(list) => list.push(step),
        None => config["history"] = json!([step]),
    }
    config
}

/// An OCI client for `registry`, over plain HTTP for a loopback registry.
pub fn client(registry: &str, arch: Arch) -> Client {
    // reqwest is built without a default crypto provider: use ring, like the AWS SDK.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let host = registry.split(':').next().unwrap_or(registry);
    let protocol = if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        ClientProtocol::HttpsExcept(vec![registry.to_string()])
    } else {
        ClientProtocol::Https
    };
    let platform = arch.oci();
    Client::new(ClientConfig {
        protocol,
        platform_resolver: Some(Box::new(
            move |entries: &[oci_client::manifest::ImageIndexEntry]| {
                entries
                    .iter()
                    .find(|e| {
                        e.platform.as_ref().is_some_and(|p| {
                            p.os.to_string() == "linux" && p.architecture.to_string() == platform
                        })
                    })
                    .map(|e| e.digest.clone())
            },
        )),
        ..ClientConfig::default()
    })
}

/// What was pushed.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `registry/repository:tag`.
    pub tagged: String,
    /// Manifest digest.
    pub digest: String,
    /// Total bytes of the layers.
    pub size: u64,
}

/// Builds the image on `base` and pushes it as `registry/repository:tag`.
pub async fn push(
    reference: &str,
    auth: &RegistryAuth,
    arch: Arch,
    base: &str,
    layer: &Layer,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Pushed, DeployError> {
    let target: Reference = reference
        .parse()
        .map_err(|e| image_error(reference, ImageStep::Reference, e))?;
    let registry = target.resolve_registry().to_string();
    let client = client(&registry, arch);
    let (mut layers, base_config) = if base == SCRATCH {
        (Vec::new(), None)
    } else {
        progress(format!("pulling the base image {base} ({})", arch.oci()));
        let base_ref: Reference = base
            .parse()
            .map_err(|e| image_error(base, ImageStep::Reference, e))?;
        let base_client = self::client(base_ref.resolve_registry(), arch);
        let pulled = base_client
            .pull(
                &base_ref,
                &RegistryAuth::Anonymous,
                vec![
                    manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE,
                    manifest::IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE,
                    manifest::IMAGE_LAYER_MEDIA_TYPE,
                ],
            )
            .await
            .map_err(|e| image_error(base, ImageStep::Pull, e))?;
        let config: Value = serde_json::from_slice(&pulled.config.data)
            .map_err(|e| image_error(base, ImageStep::BaseConfig, e))?;
        (pulled.layers, Some(config))
    };
    layers.push(ImageLayer::new(
        layer.gzip.clone(),
        manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE.to_string(),
        None,
    ));
    let config = image_config(arch, base_config.as_ref(), layer);
    let config = Config::new(
        serde_json::to_vec(&config).map_err(|error| DeployError::Encode {
            what: "the image config",
            error,
        })?,
        manifest::IMAGE_CONFIG_MEDIA_TYPE.to_string(),
        None,
    );
    let annotations = BTreeMap::from([(
        "org.opencontainers.image.title".to_string(),
        "amesops predictor".to_string(),
    )]);
    let image_manifest = OciImageManifest::build(&layers, &config, Some(annotations));
    let size: u64 = layers.iter().map(|l| l.data.len() as u64).sum();
    progress(format!(
        "pushing {reference} ({} layer(s), {:.1} MB)",
        layers.len(),
        size as f64 / 1e6
    ));
    client
        .push(&target, &layers, config, auth, Some(image_manifest))
        .await
        .map_err(|e| image_error(reference, ImageStep::Push, e))?;
    let digest = client
        .fetch_manifest_digest(&target, auth)
        .await
        .map_err(|e| image_error(reference, ImageStep::Digest, e))?;
    Ok(Pushed {
        tagged: reference.to_string(),
        digest,
        size,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(gzip: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gzip));
        let mut out = Vec::new();
        for entry in archive.entries().expect("tar entries") {
            let mut entry = entry.expect("entry");
            let path = entry.path().expect("path").display().to_string();
            let mode = entry.header().mode().expect("mode");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).expect("read");
            out.push((path, mode, bytes));
        }
        out
    }

    #[test]
    fn the_layer_holds_an_executable_bootstrap_and_the_model() {
        let built = layer(b"ELF", b"{}").expect("layer");
        let files = entries(&built.gzip);
        assert!(
            files.contains(&("var/runtime/bootstrap".to_string(), 0o755, b"ELF".to_vec())),
            "{files:?}"
        );
        assert!(
            files.contains(&("var/task/model.json".to_string(), 0o644, b"{}".to_vec())),
            "{files:?}"
        );
        assert_eq!(
            layer(b"ELF", b"{}").expect("layer").gzip,
            built.gzip,
            "reproducible"
        );
    }

    #[test]
    fn the_config_starts_the_bootstrap_and_lists_the_layer() {
        let built = layer(b"ELF", b"{}").expect("layer");
        let scratch = image_config(Arch::Arm64, None, &built);
        assert_eq!(scratch["architecture"], "arm64");
        assert_eq!(scratch["config"]["Entrypoint"][0], "/var/runtime/bootstrap");
        assert_eq!(scratch["rootfs"]["diff_ids"], json!([built.diff_id]));
        let base = json!({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/lambda-entrypoint.sh"], "Env": ["A=1"]}, "rootfs": {"type": "layers", "diff_ids": ["sha256:base"]}});
        let on_base = image_config(Arch::X86_64, Some(&base), &built);
        assert_eq!(on_base["config"]["Entrypoint"][0], "/lambda-entrypoint.sh");
        assert_eq!(on_base["config"]["Cmd"], json!(["bootstrap"]));
        assert_eq!(
            on_base["rootfs"]["diff_ids"],
            json!(["sha256:base", built.diff_id])
        );
        assert!(
            on_base["config"]["Env"]
                .as_array()
                .expect("env")
                .contains(&json!("MODEL_PATH=/var/task/model.json"))
        );
    }
}
