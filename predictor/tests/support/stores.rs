//! Record stores for the router under test: one that keeps nothing, one that refuses everything,
//! and what a folder store holds.

use std::path::Path;

use futures_util::future::BoxFuture;
use predictor::store::{PredictionStore, StoreError};
use serde_json::Value;

/// Every record a folder store holds under `root`: (key with `/` separators, parsed JSON),
/// sorted by key; nothing when the folder does not exist.
pub fn stored_records(root: &Path) -> Vec<(String, Value)> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Value)>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("list the records folder").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let key = path
                    .strip_prefix(root)
                    .expect("a path under the root")
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {key}: {e}"));
                let value = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("{key} is not JSON: {e}"));
                out.push((key, value));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Accepts every record and keeps none.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullStore;

impl PredictionStore for NullStore {
    fn put<'a>(&'a self, _key: &'a str, _body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn describe(&self) -> String {
        "nowhere (test)".to_string()
    }
}

/// Refuses every record with the same error.
#[derive(Debug, Clone)]
pub struct FailingStore {
    /// The error every `put` returns.
    pub message: String,
}

impl Default for FailingStore {
    fn default() -> Self {
        Self {
            message: "the test store refuses every record".to_string(),
        }
    }
}

impl PredictionStore for FailingStore {
    fn put<'a>(&'a self, _key: &'a str, _body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        let error = StoreError::Refused(self.message.clone());
        Box::pin(async move { Err(error) })
    }

    fn describe(&self) -> String {
        "failing (test)".to_string()
    }
}
