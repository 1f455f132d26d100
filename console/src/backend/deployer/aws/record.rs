//! `deploy.json` at the project root: what the last deploy put in service, and where.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::deployer::DeployError;

/// The file name, at the project root.
pub const RECORD_FILE: &str = "deploy.json";

/// The deployment as the last deploy or rollback left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployRecord {
    /// `aws` or `local`.
    pub target: String,
    /// AWS region (aws only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Function name.
    pub function: String,
    /// Function ARN (aws only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_arn: Option<String>,
    /// Version the alias points to.
    pub version: String,
    /// Alias name.
    pub alias: String,
    /// HTTP API id (aws only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_id: Option<String>,
    /// Base URL of the API.
    pub url: String,
    /// Model id served.
    pub model_id: String,
    /// Model sha256 served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_sha256: Option<String>,
    /// When this record was written (RFC 3339).
    pub time: String,
}

impl DeployRecord {
    /// Reads the record; `None` when there is none.
    pub fn read(path: &Path) -> Result<Option<DeployRecord>, DeployError> {
        match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| DeployError::Record {
                        path: path.to_path_buf(),
                        kind: "a deploy record",
                        reason: e.to_string(),
                        fix: "remove it, the next deploy writes it again",
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DeployError::file("read", path, e)),
        }
    }

    /// Writes the record (atomically).
    pub fn write(&self, path: &Path) -> Result<(), DeployError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|error| DeployError::Encode {
            what: "the deploy record",
            error,
        })?;
        bytes.push(b'\n');
        core_model::files::write_bytes(path, &bytes)
            .map_err(|e| DeployError::file("write", path, e))
    }
}

/// Now, RFC 3339.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
