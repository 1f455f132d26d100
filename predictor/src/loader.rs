//! Loading the model at start-up: from a file or an `s3://` URI, verified before serving.

use core_model::Artifact;

use crate::state::ServedModel;

/// Why the model could not be loaded (the process must not start serving).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading the bytes failed.
    #[error("cannot read model {source_uri}: {reason}")]
    Read {
        /// Path or URI.
        source_uri: String,
        /// Why.
        reason: String,
    },
    /// The artifact is invalid, of an unknown format, or not the expected one.
    #[error("model {source_uri} rejected: {reason}")]
    Rejected {
        /// Path or URI.
        source_uri: String,
        /// Why.
        reason: String,
    },
}

/// Reads the artifact bytes from a path or `s3://bucket/key`.
pub async fn read_bytes(source: &str) -> Result<Vec<u8>, LoadError> {
    let read_error = |reason: String| LoadError::Read {
        source_uri: source.to_string(),
        reason,
    };
    if let Some(rest) = source.strip_prefix("s3://") {
        #[cfg(feature = "s3")]
        {
            let (bucket, key) = rest
                .split_once('/')
                .ok_or_else(|| read_error("expected s3://bucket/key".to_string()))?;
            let config = crate::aws::sdk_config().await;
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&config)
                    .force_path_style(crate::aws::custom_endpoint())
                    .build(),
            );
            let object = s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .map_err(|e| read_error(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
            let bytes = object
                .body
                .collect()
                .await
                .map_err(|e| read_error(e.to_string()))?;
            return Ok(bytes.into_bytes().to_vec());
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = rest;
            return Err(read_error("this build has no S3 support".to_string()));
        }
    }
    tokio::fs::read(source)
        .await
        .map_err(|e| read_error(e.to_string()))
}

/// Loads and checks a model; `expected` (a model id or sha256 prefix) must match when given.
pub async fn load_model(source: &str, expected: Option<&str>) -> Result<ServedModel, LoadError> {
    let bytes = read_bytes(source).await?;
    let rejected = |reason: String| LoadError::Rejected {
        source_uri: source.to_string(),
        reason,
    };
    let loaded = Artifact::from_bytes(&bytes).map_err(|e| rejected(e.to_string()))?;
    if let Some(expected) = expected.filter(|e| !e.is_empty()) {
        loaded
            .verify(expected)
            .map_err(|e| rejected(e.to_string()))?;
    }
    Ok(ServedModel::from(loaded))
}
