//! dvc.lock (schema 2.0): what each stage looked like when `dvc repro` last ran it: its command,
//! the hash of every dependency and output, and the values of its parameters.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_yaml::Value;

use super::Error;

/// The lock file; empty when the pipeline never ran.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Lock {
    /// `'2.0'`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Per stage name.
    #[serde(default)]
    pub stages: BTreeMap<String, LockStage>,
}

/// One stage as it last ran.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LockStage {
    /// The command that ran (string or list).
    #[serde(default)]
    pub cmd: Option<Value>,
    /// Dependencies with their hashes.
    #[serde(default)]
    pub deps: Vec<LockEntry>,
    /// Per parameters file (as written in dvc.yaml): the values read.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Outputs with their hashes.
    #[serde(default)]
    pub outs: Vec<LockEntry>,
}

/// A hashed path.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct LockEntry {
    /// As written in dvc.yaml.
    pub path: String,
    /// `md5` (DVC 3); absent for DVC 2 entries, which hash text with CRLF turned into LF.
    #[serde(default)]
    pub hash: Option<String>,
    /// The hash; a directory's ends in `.dir`.
    #[serde(default)]
    pub md5: Option<String>,
    /// Bytes (a directory's: of all its files).
    #[serde(default)]
    pub size: Option<u64>,
    /// Files in a directory.
    #[serde(default)]
    pub nfiles: Option<u64>,
}

impl Lock {
    /// Reads `<root>/dvc.lock`; a missing file is an empty lock.
    pub fn load(root: &Path) -> Result<Lock, Error> {
        let path = root.join("dvc.lock");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lock::default()),
            Err(source) => return Err(Error::Io { path, source }),
        };
        if text.trim().is_empty() {
            return Ok(Lock::default());
        }
        let lock: Lock =
            serde_yaml::from_str(&text).map_err(|source| Error::Yaml { path, source })?;
        match lock.schema.as_deref() {
            Some("2.0") => Ok(lock),
            other => Err(Error::Invalid {
                file: "dvc.lock".to_string(),
                message: format!(
                    "schema {} is not supported (DVC 2 and 3 write '2.0'); run `dvc repro` to rewrite it",
                    other.unwrap_or("1")
                ),
            }),
        }
    }

    /// The entry of a stage, if it ever ran.
    pub fn stage(&self, name: &str) -> Option<&LockStage> {
        self.stages.get(name)
    }
}

impl LockStage {
    /// The dependency entry recorded for a path as written in dvc.yaml.
    pub fn dep(&self, def_path: &str) -> Option<&LockEntry> {
        self.deps.iter().find(|e| e.path == def_path)
    }

    /// The output entry recorded for a path as written in dvc.yaml.
    pub fn out(&self, def_path: &str) -> Option<&LockEntry> {
        self.outs.iter().find(|e| e.path == def_path)
    }
}
