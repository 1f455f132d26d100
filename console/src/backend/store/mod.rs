//! `ObjectStore`: where prediction records are read from (a local folder or S3).

mod local;
mod open;
#[cfg(feature = "aws")]
mod s3;

use futures_util::future::BoxFuture;
use serde::Serialize;

pub use local::LocalObjectStore;
pub use open::{open_store, store_uri};
#[cfg(feature = "aws")]
pub use s3::S3ObjectStore;

/// Prefix of every prediction record key (the predictor's layout, defined once there).
pub const PREDICTIONS_PREFIX: &str = predictor::record::PREFIX;

/// Why the store could not be read or written: the resource (URI, key, file, bucket) and the
/// reason, and for a configuration mistake the fix.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// An `s3://` URI without a bucket.
    #[error("{uri}: no bucket name")]
    NoBucket {
        /// The URI given.
        uri: String,
    },
    /// An `s3://` URI in a build without the aws target.
    #[error("{uri}: this build has no S3 support; build with --features aws")]
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
    /// A local folder or file could not be listed, created, written, removed or read.
    #[error("cannot {action} {}: {reason}", path.display())]
    Io {
        /// `list`, `create`, `write`, `remove` or `read`.
        action: &'static str,
        /// The folder or file.
        path: std::path::PathBuf,
        /// The system's reason (text: the error is cloned into messages).
        reason: String,
    },
    /// An S3 call failed.
    #[error("S3 {call} on bucket {bucket}: {reason}")]
    S3 {
        /// The call, e.g. `list of predictions/`.
        call: String,
        /// The bucket.
        bucket: String,
        /// The SDK's explanation, with its causes.
        reason: String,
    },
    /// An object's body could not be read to the end.
    #[error("reading {url}: {reason}")]
    Body {
        /// `s3://bucket/key`.
        url: String,
        /// Why.
        reason: String,
    },
    /// The worker thread of a local operation ended without an answer (a panic).
    #[error("the store's worker stopped: {0}")]
    Worker(String),
}

impl StoreError {
    /// A local file system error on `path`.
    pub fn io(action: &'static str, path: &std::path::Path, e: std::io::Error) -> StoreError {
        StoreError::Io {
            action,
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
}

/// One page of keys, newest first, and where the next page starts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KeyPage {
    /// Keys, newest first.
    pub keys: Vec<String>,
    /// Pass back to get the next page; `None` at the end.
    pub next: Option<String>,
}

/// Read access to the prediction records.
pub trait ObjectStore: Send + Sync {
    /// Day partitions under `predictions/` (e.g. `predictions/dt=2026-11-27/`), newest first.
    fn partitions(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.partitions_of(PREDICTIONS_PREFIX)
    }
    /// Partitions (sub-folders) under any prefix ending in `/` (`sales/`, `summaries/`),
    /// newest first.
    fn partitions_of<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;
    /// Writes one object whole (sales, day summaries, simulated records).
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Removes one object (nothing when it does not exist).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Every key in one partition, oldest first (the backend's natural order).
    fn keys_in(&self, partition: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// One object's bytes.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, StoreError>>;
    /// Where it reads from.
    fn describe(&self) -> String;
}

/// Lists up to `limit` record keys, newest first, starting after the cursor `after` (a key).
pub async fn newest_keys(
    store: &dyn ObjectStore,
    after: Option<&str>,
    limit: usize,
) -> Result<KeyPage, StoreError> {
    let mut keys = Vec::with_capacity(limit);
    for partition in store.partitions().await? {
        if let Some(cursor) = after
            && partition.as_str() > cursor
            && !cursor.starts_with(&partition)
        {
            continue; // partition entirely newer than the cursor
        }
        let mut in_partition = store.keys_in(&partition).await?;
        in_partition.reverse();
        for key in in_partition {
            if after.is_some_and(|cursor| key.as_str() >= cursor) {
                continue;
            }
            if keys.len() == limit {
                let next = keys.last().cloned();
                return Ok(KeyPage { keys, next });
            }
            keys.push(key);
        }
    }
    Ok(KeyPage { keys, next: None })
}
