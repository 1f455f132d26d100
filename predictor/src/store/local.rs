//! Records as files in a local folder: the local default and the test double of S3.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures_util::future::BoxFuture;

use super::{PredictionStore, StoreError};

/// A folder that mirrors the S3 key layout.
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    created: Mutex<HashSet<PathBuf>>,
}

impl LocalStore {
    /// Stores under `root` (created on first write).
    pub fn new(root: impl AsRef<Path>) -> Self {
        Self {
            root: root.as_ref().to_path_buf(),
            created: Mutex::new(HashSet::new()),
        }
    }

    fn write(&self, key: &str, body: &[u8]) -> Result<(), StoreError> {
        if key.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(StoreError::UnsafeKey {
                key: key.to_string(),
            });
        }
        let path = self.root.join(key);
        let parent = path.parent().unwrap_or(&self.root).to_path_buf();
        let known = self
            .created
            .lock()
            .map(|set| set.contains(&parent))
            .unwrap_or(false);
        if !known {
            std::fs::create_dir_all(&parent).map_err(|source| StoreError::Io {
                action: "create",
                path: parent.clone(),
                source,
            })?;
            if let Ok(mut set) = self.created.lock() {
                set.insert(parent.clone());
            }
        }
        // Durable and whole: a reader never sees half a record, and a crash after the reply
        // said `stored: true` does not lose it. Keys hold a fresh UUID, so none is reused.
        core_model::files::write_bytes(&path, body).map_err(|source| {
            // The folder may have been removed under us: forget it so the next write recreates it.
            if let Ok(mut set) = self.created.lock() {
                set.remove(&parent);
            }
            StoreError::Io {
                action: "write",
                path: path.clone(),
                source,
            }
        })
    }
}

impl PredictionStore for LocalStore {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        // fsync takes milliseconds: off the async workers. A current-thread runtime (tests,
        // `block_on`) has no blocking pool to spare, so it writes in place.
        Box::pin(async move {
            if tokio::runtime::Handle::current().runtime_flavor()
                == tokio::runtime::RuntimeFlavor::MultiThread
            {
                tokio::task::block_in_place(|| self.write(key, &body))
            } else {
                self.write(key, &body)
            }
        })
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_under_the_key_and_refuses_escaping_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path());
        store
            .put("predictions/dt=2026-01-01/a.json", b"{}".to_vec())
            .await
            .expect("stored");
        let written = std::fs::read(dir.path().join("predictions/dt=2026-01-01/a.json"))
            .expect("file exists");
        assert_eq!(written, b"{}");
        assert!(store.put("../evil.json", Vec::new()).await.is_err());
    }
}
