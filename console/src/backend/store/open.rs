//! Opening a store by URI: a folder path or `s3://bucket[/prefix]`.

use std::sync::Arc;

use super::{LocalObjectStore, ObjectStore, StoreError};
use crate::config::{Config, Target};

/// The store URI of the configured target: the local state folder, or `s3://<bucket>`.
pub fn store_uri(config: &Config) -> String {
    match config.target {
        Target::Local => config.state_dir.display().to_string(),
        Target::Aws => format!("s3://{}", config.aws.bucket),
    }
}

/// Opens the store at `uri` (profile and region from `config` for S3).
pub async fn open_store(uri: &str, config: &Config) -> Result<Arc<dyn ObjectStore>, StoreError> {
    if let Some(rest) = uri.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(StoreError::NoBucket {
                uri: uri.to_string(),
            });
        }
        #[cfg(feature = "aws")]
        {
            let sdk = predictor::aws::sdk_config_with(
                config.aws.profile.as_deref(),
                config.aws.region.as_deref(),
            )
            .await;
            let client = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    .force_path_style(predictor::aws::custom_endpoint())
                    .build(),
            );
            return Ok(Arc::new(
                super::S3ObjectStore::new(client, bucket).with_prefix(prefix),
            ));
        }
        #[cfg(not(feature = "aws"))]
        {
            let _ = (prefix, config);
            return Err(StoreError::NoS3Support {
                uri: uri.to_string(),
            });
        }
    }
    let _ = config;
    Ok(Arc::new(LocalObjectStore::new(uri)))
}
