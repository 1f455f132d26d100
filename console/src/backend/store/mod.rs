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

/// Why the store could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct StoreError(pub String);

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
