//! What a deploy ships: the Lambda zip (`bootstrap` + `model.json`) or a container image, and the
//! model inside it.
//!
//! The zip is written deterministically (fixed timestamps, fixed order), so packaging the same
//! binary and model twice gives the same bytes and the same Lambda `CodeSha256`: that is how a
//! deploy of an unchanged package is recognised and skipped.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::backend::deployer::DeployError;

/// The Lambda bootstrap's name inside the zip.
pub const BOOTSTRAP: &str = "bootstrap";
/// The model artifact's name inside the zip and the image.
pub const MODEL_FILE: &str = "model.json";
/// The model path inside the function.
pub const TASK_MODEL_PATH: &str = "/var/task/model.json";
/// The record `amesops image push` writes beside the package.
pub const IMAGE_RECORD_FILE: &str = "image.json";

/// CPU architecture of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// x86_64 (Lambda's default).
    X86_64,
    /// Graviton (aarch64).
    Arm64,
}

impl Arch {
    /// The Lambda architecture value.
    pub fn lambda(self) -> aws_sdk_lambda::types::Architecture {
        match self {
            Arch::X86_64 => aws_sdk_lambda::types::Architecture::X8664,
            Arch::Arm64 => aws_sdk_lambda::types::Architecture::Arm64,
        }
    }

    /// The OCI platform architecture (`amd64`, `arm64`).
    pub fn oci(self) -> &'static str {
        match self {
            Arch::X86_64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The Rust target triple with the glibc version of Amazon Linux 2023.
    pub fn cargo_lambda_target(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu.2.34",
            Arch::Arm64 => "aarch64-unknown-linux-gnu.2.34",
        }
    }

    /// The architecture of an ELF executable, from its header.
    pub fn of_elf(binary: &[u8]) -> Option<Arch> {
        if binary.get(..4) != Some(b"\x7fELF".as_slice()) {
            return None;
        }
        // e_machine: a little-endian u16 at offset 18.
        match binary.get(18..20)? {
            [0x3e, 0x00] => Some(Arch::X86_64),
            [0xb7, 0x00] => Some(Arch::Arm64),
            _ => None,
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        })
    }
}

/// `package.json`: what `amesops package` produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `aws` (a Lambda zip) or `local` (the model only).
    pub target: String,
    /// The file produced, relative to the manifest's folder.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its sha256 (hex).
    pub sha256: String,
    /// Lambda's `CodeSha256` of the zip (base64 sha256), aws only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_sha256: Option<String>,
    /// Architecture of the bootstrap, aws only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// The model id (first 12 hex digits of its sha256).
    pub model_id: String,
    /// The model artifact's sha256.
    pub model_sha256: String,
    /// When it was made (RFC 3339).
    pub created: String,
}

/// `image.json`: the image `amesops image push` pushed last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRecord {
    /// `registry/repository@sha256:…`: what Lambda runs.
    pub image_uri: String,
    /// `registry/repository:tag`.
    pub tagged: String,
    /// Manifest digest.
    pub digest: String,
    /// Architecture.
    pub arch: Arch,
    /// Model id inside.
    pub model_id: String,
    /// Model sha256 inside.
    pub model_sha256: String,
    /// When it was pushed.
    pub pushed: String,
}

/// The code of a deploy.
#[derive(Debug, Clone)]
pub enum Code {
    /// A zip uploaded directly.
    Zip(Vec<u8>),
    /// A container image in ECR.
    Image(String),
}

/// A package ready to deploy, with the model it serves.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// Zip bytes or image URI.
    pub code: Code,
    /// Where it came from, for messages.
    pub origin: String,
    /// Function architecture.
    pub arch: Arch,
    /// The model artifact's bytes (to price the smoke-test house locally).
    pub model: Vec<u8>,
    /// Model id.
    pub model_id: String,
    /// Model sha256.
    pub model_sha256: String,
}

impl Candidate {
    /// Reads a Lambda zip made by `amesops package`.
    pub fn from_zip(path: &Path) -> Result<Candidate, DeployError> {
        let unusable = |problem: String, fix| DeployError::Unusable {
            path: path.to_path_buf(),
            problem,
            fix,
        };
        let zip = std::fs::read(path).map_err(|io| DeployError::File {
            action: "read the package",
            path: path.to_path_buf(),
            io,
            fix: Some("build it with `amesops --target aws package`"),
        })?;
        let bootstrap = zip_entry(&zip, BOOTSTRAP).map_err(|e| unusable(e, None))?;
        let arch = Arch::of_elf(&bootstrap).ok_or_else(|| {
            unusable(
                "its bootstrap is not a Linux x86_64 or arm64 executable".to_string(),
                Some("run amesops package again"),
            )
        })?;
        let model = zip_entry(&zip, MODEL_FILE).map_err(|e| unusable(e, None))?;
        let loaded = core_model::Artifact::from_bytes(&model).map_err(|e| {
            unusable(
                format!("its model.json does not load ({e})"),
                Some("run amesops package again"),
            )
        })?;
        Ok(Candidate {
            code: Code::Zip(zip),
            origin: path.display().to_string(),
            arch,
            model,
            model_id: loaded.id,
            model_sha256: loaded.sha256,
        })
    }

    /// The image of `record`, serving the model at `model_path` (which must be the one inside).
    pub fn from_image(record_path: &Path, model_path: &Path) -> Result<Candidate, DeployError> {
        let bytes = std::fs::read(record_path).map_err(|io| DeployError::File {
            action: "read",
            path: record_path.to_path_buf(),
            io,
            fix: Some("push an image first with `amesops image push`"),
        })?;
        let record: ImageRecord =
            serde_json::from_slice(&bytes).map_err(|e| DeployError::Record {
                path: record_path.to_path_buf(),
                kind: "an image record",
                reason: e.to_string(),
                fix: "run amesops image push again",
            })?;
        let model =
            std::fs::read(model_path).map_err(|e| DeployError::file("read", model_path, e))?;
        let loaded =
            core_model::Artifact::from_bytes(&model).map_err(|e| DeployError::Unusable {
                path: model_path.to_path_buf(),
                problem: e.to_string(),
                fix: None,
            })?;
        if loaded.sha256 != record.model_sha256 {
            return Err(DeployError::Mismatch {
                holder: format!("the image {}", record.tagged),
                holds: record.model_id,
                model: model_path.to_path_buf(),
                is: loaded.id,
                fix: "run `amesops image push` to push the current model",
            });
        }
        Ok(Candidate {
            code: Code::Image(record.image_uri.clone()),
            origin: record.tagged,
            arch: record.arch,
            model,
            model_id: loaded.id,
            model_sha256: loaded.sha256,
        })
    }

    /// Lambda's `CodeSha256` of a zip (base64 of the sha256); `None` for an image.
    pub fn code_sha256(&self) -> Option<String> {
        match &self.code {
            Code::Zip(bytes) => Some(code_sha256(bytes)),
            Code::Image(_) => None,
        }
    }
}

/// Base64 of the raw sha256 of `bytes`: how Lambda reports `CodeSha256`.
pub fn code_sha256(bytes: &[u8]) -> String {
    let hex = core_model::digest::sha256_hex(bytes);
    let raw: Vec<u8> = (0..hex.len())
        .step_by(2)
        .filter_map(|i| {
            hex.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect();
    base64::engine::general_purpose::STANDARD.encode(raw)
}

/// One file of a zip.
pub fn zip_entry(zip: &[u8], name: &str) -> Result<Vec<u8>, String> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip)).map_err(|e| format!("not a zip file ({e})"))?;
    let mut file = archive
        .by_name(name)
        .map_err(|_| format!("the zip has no {name}"))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot unpack {name}: {e}"))?;
    Ok(bytes)
}

/// The Lambda zip: `bootstrap` (mode 0755) and `model.json`, deflated, with fixed timestamps.
pub fn lambda_zip(bootstrap: &[u8], model: &[u8]) -> Result<Vec<u8>, String> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, bytes, mode) in [(BOOTSTRAP, bootstrap, 0o755), (MODEL_FILE, model, 0o644)] {
        writer
            .start_file(name, options.unix_permissions(mode))
            .map_err(|e| format!("zip {name}: {e}"))?;
        writer
            .write_all(bytes)
            .map_err(|e| format!("zip {name}: {e}"))?;
    }
    let cursor = writer.finish().map_err(|e| format!("zip: {e}"))?;
    Ok(cursor.into_inner())
}

/// The folder holding a package file (its manifest and image record live there too).
pub fn package_dir(package: &Path) -> PathBuf {
    package
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zip_is_deterministic_and_keeps_the_bootstrap_executable() {
        let first = lambda_zip(b"\x7fELF-binary", b"{\"model\":1}").expect("zip");
        let second = lambda_zip(b"\x7fELF-binary", b"{\"model\":1}").expect("zip");
        assert_eq!(first, second);
        assert_eq!(
            zip_entry(&first, BOOTSTRAP).expect("bootstrap"),
            b"\x7fELF-binary"
        );
        assert_eq!(
            zip_entry(&first, MODEL_FILE).expect("model"),
            b"{\"model\":1}"
        );
        let mut archive = zip::ZipArchive::new(Cursor::new(first.as_slice())).expect("zip");
        let mode = archive
            .by_name(BOOTSTRAP)
            .expect("bootstrap")
            .unix_mode()
            .expect("mode");
        assert_eq!(mode & 0o777, 0o755);
        assert!(zip_entry(&first, "other").is_err());
    }

    #[test]
    fn code_sha256_is_base64_of_the_digest() {
        // sha256("abc") = ba7816bf…, base64 as Lambda prints it.
        assert_eq!(
            code_sha256(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }

    #[test]
    fn elf_headers_name_the_architecture() {
        let mut header = vec![0u8; 20];
        header[..4].copy_from_slice(b"\x7fELF");
        header[18] = 0x3e;
        assert_eq!(Arch::of_elf(&header), Some(Arch::X86_64));
        header[18] = 0xb7;
        assert_eq!(Arch::of_elf(&header), Some(Arch::Arm64));
        assert_eq!(Arch::of_elf(b"#!/bin/sh"), None);
    }
}
