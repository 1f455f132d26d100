//! Where prediction records go: a local folder or S3, under the same key layout.

mod local;
#[cfg(feature = "s3")]
mod s3;

use futures_util::future::BoxFuture;

pub use local::LocalStore;
#[cfg(feature = "s3")]
pub use s3::{S3Store, STORE_TIMEOUT};

/// Why a record could not be stored (after the backend's own retries): the resource, what went
/// wrong, and for a configuration mistake the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An `s3://` URI without a bucket.
    #[error("{uri}: no bucket name (write s3://bucket[/prefix])")]
    NoBucket {
        /// The URI given.
        uri: String,
    },
    /// An `s3://` URI in a build without S3.
    #[error("{uri}: this build has no S3 support (enable the `s3` feature)")]
    NoS3Support {
        /// The URI given.
        uri: String,
    },
    /// A key that would leave the store's folder or name a folder.
    #[error("refusing unsafe key {key:?}")]
    UnsafeKey {
        /// The key given.
        key: String,
    },
    /// A local folder or file could not be created or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `create` (a folder) or `write` (a record).
        action: &'static str,
        /// The folder or file.
        path: std::path::PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// S3 refused or failed the write.
    #[error("{url}: {reason}")]
    S3 {
        /// `s3://bucket/key`.
        url: String,
        /// The SDK's explanation, with its causes.
        reason: String,
    },
    /// S3 did not answer in time.
    #[error("{url}: no answer within {seconds:.1} s (S3 stalled)")]
    Timeout {
        /// `s3://bucket/key`.
        url: String,
        /// The time allowed.
        seconds: f64,
    },
    /// Another store (a test store, a wrapper) refused the record.
    #[error("{0}")]
    Refused(String),
}

/// Writes prediction records; implementations must be safe to call concurrently.
pub trait PredictionStore: Send + Sync {
    /// Stores `body` under `key` (e.g. `predictions/dt=…/….json`).
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Where records go, for logs and `/health`.
    fn describe(&self) -> String;
}

/// Opens the store named by a URI: `s3://bucket[/prefix]` or a local folder path.
pub async fn open_store(uri: &str) -> Result<Box<dyn PredictionStore>, StoreError> {
    if let Some(rest) = uri.strip_prefix("s3://") {
        #[cfg(feature = "s3")]
        {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(StoreError::NoBucket {
                    uri: uri.to_string(),
                });
            }
            let config = crate::aws::sdk_config().await;
            let mut store = S3Store::new(&config, bucket, prefix);
            // PREDICTIONS_STORE_TIMEOUT_MS: the deploy sets it to a third of the function's
            // timeout at most, so a stalled write still leaves time to reply and log.
            if let Some(ms) = std::env::var("PREDICTIONS_STORE_TIMEOUT_MS")
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|ms| *ms > 0)
            {
                store = store.with_timeout(std::time::Duration::from_millis(ms));
            }
            return Ok(Box::new(store));
        }
        #[cfg(not(feature = "s3"))]
        {
            let _ = rest;
            return Err(StoreError::NoS3Support {
                uri: uri.to_string(),
            });
        }
    }
    Ok(Box::new(LocalStore::new(uri)))
}
