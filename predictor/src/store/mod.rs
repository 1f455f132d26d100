//! Where prediction records go: a local folder or S3, under the same key layout.

mod local;
#[cfg(feature = "s3")]
mod s3;

use futures_util::future::BoxFuture;

pub use local::LocalStore;
#[cfg(feature = "s3")]
pub use s3::{S3Store, STORE_TIMEOUT};

/// Why a record could not be stored (after the backend's own retries).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

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
                return Err(StoreError(format!("{uri}: no bucket name")));
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
            return Err(StoreError(format!(
                "{uri}: this build has no S3 support (enable the `s3` feature)"
            )));
        }
    }
    Ok(Box::new(LocalStore::new(uri)))
}
