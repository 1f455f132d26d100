//! Prediction records in a local folder (the local target, and `amesops serve --store PATH`).

use std::path::PathBuf;

use futures_util::future::BoxFuture;

use super::{ObjectStore, StoreError};

/// A folder with the same key layout as the S3 bucket.
#[derive(Debug, Clone)]
pub struct LocalObjectStore {
    root: PathBuf,
}

impl LocalObjectStore {
    /// Reads under `root` (keys are relative to it).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

fn sorted_names(dir: PathBuf, want_dirs: bool) -> Result<Vec<String>, StoreError> {
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("list", &dir, e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type()
                .map(|t| t.is_dir() == want_dirs)
                .unwrap_or(false)
        })
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    Ok(names)
}

impl LocalObjectStore {
    /// The file of a key; keys that would leave the folder are refused.
    fn path(&self, key: &str) -> Result<PathBuf, StoreError> {
        if key.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(StoreError::UnsafeKey {
                key: key.to_string(),
            });
        }
        Ok(self.root.join(key))
    }
}

impl ObjectStore for LocalObjectStore {
    fn partitions_of<'a>(
        &'a self,
        prefix: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, StoreError>> {
        let dir = self.root.join(prefix);
        let prefix = prefix.to_string();
        Box::pin(async move {
            let names = tokio::task::spawn_blocking(move || sorted_names(dir, true))
                .await
                .map_err(|e| StoreError::Worker(e.to_string()))??;
            Ok(names
                .into_iter()
                .rev()
                .map(|n| format!("{prefix}{n}/"))
                .collect())
        })
    }

    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        let path = self.path(key);
        Box::pin(async move {
            let path = path?;
            tokio::task::spawn_blocking(move || {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| StoreError::io("create", parent, e))?;
                }
                core_model::files::write_bytes(&path, &body)
                    .map_err(|e| StoreError::io("write", &path, e))
            })
            .await
            .map_err(|e| StoreError::Worker(e.to_string()))?
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let path = self.path(key);
        Box::pin(async move {
            let path = path?;
            match tokio::fs::remove_file(&path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(StoreError::io("remove", &path, e)),
            }
        })
    }

    fn keys_in(&self, partition: &str) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        let dir = self.root.join(partition);
        let partition = partition.to_string();
        Box::pin(async move {
            let names = tokio::task::spawn_blocking(move || sorted_names(dir, false))
                .await
                .map_err(|e| StoreError::Worker(e.to_string()))??;
            Ok(names
                .into_iter()
                .map(|n| format!("{partition}{n}"))
                .collect())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Vec<u8>, StoreError>> {
        let path = self.root.join(key);
        Box::pin(async move {
            tokio::fs::read(&path)
                .await
                .map_err(|e| StoreError::io("read", &path, e))
        })
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}
