//! `.amesops/deployments/deploy.json`: the local versions and which one is live.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::deployer::DeployError;

/// `deploy.json` of the local target.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LocalRecord {
    /// Versions in publication order.
    pub versions: Vec<LocalVersion>,
    /// The live version.
    pub live: Option<u32>,
    /// The version live before the current one (rollback target).
    pub previous: Option<u32>,
}

/// One local version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LocalVersion {
    /// Sequence number from 1.
    pub version: u32,
    /// Model id.
    pub model_id: String,
    /// sha256 of the artifact (checked whenever production is read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Publication time.
    pub created: String,
}

impl LocalRecord {
    /// Reads `path`: `Ok(None)` when there is no file.
    pub fn read(path: &Path) -> Result<Option<LocalRecord>, DeployError> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| DeployError::Record {
                    path: path.to_path_buf(),
                    kind: "a deploy record",
                    reason: e.to_string(),
                    fix: "production cannot be read (restore it, or remove the deployments folder to start over)",
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DeployError::file("read", path, e)),
        }
    }

    /// Writes the record durably.
    pub fn save(&self, path: &Path) -> Result<(), DeployError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|error| DeployError::Encode {
            what: "the deploy record",
            error,
        })?;
        bytes.push(b'\n');
        core_model::files::write_bytes(path, &bytes)
            .map_err(|e| DeployError::file("write", path, e))
    }

    /// The live version's entry.
    pub fn live_version(&self) -> Option<&LocalVersion> {
        self.live
            .and_then(|live| self.versions.iter().find(|v| v.version == live))
    }
}

/// Version folders (`v1`, `v2`, …) under `root`, whether or not the record lists them.
pub fn version_folders(root: &Path) -> Vec<u32> {
    std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix('v'))
                .and_then(|n| n.parse().ok())
        })
        .collect()
}

/// Creates the folder of the next free version (above every recorded one and every folder):
/// `create_dir` fails when the folder exists, so two writers never get the same number.
pub fn allocate_version(root: &Path, record: &LocalRecord) -> Result<(u32, PathBuf), DeployError> {
    std::fs::create_dir_all(root).map_err(|e| DeployError::file("create", root, e))?;
    let mut next = record
        .versions
        .iter()
        .map(|v| v.version)
        .chain(version_folders(root))
        .max()
        .unwrap_or(0)
        + 1;
    loop {
        let folder = root.join(format!("v{next}"));
        match std::fs::create_dir(&folder) {
            Ok(()) => return Ok((next, folder)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => next += 1,
            Err(e) => {
                return Err(DeployError::file("create", folder, e));
            }
        }
    }
}
