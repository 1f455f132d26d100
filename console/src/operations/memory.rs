//! What the gate remembers between runs (`.amesops/gate.json`): candidates it refused, and
//! models the operator rolled back from.
//!
//! A rolled-back model stays out of production until the pipeline produces another model
//! (data, parameters or code changed) or the operator forces it back with its own flag; so a
//! schedule cannot bring back what a person just took out. A refused candidate is named when it
//! is offered again and must pass the gate afresh each time. The file is read under the run
//! lock and written durably; an unreadable file refuses every deploy (its rollbacks are unknown).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name in the state folder.
pub const FILE: &str = "gate.json";
/// Entries kept per list (oldest dropped first).
const KEPT: usize = 100;

/// A candidate the gate refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// The candidate's model id.
    pub model_id: String,
    /// Why (one line).
    pub reason: String,
    /// The production model it was compared with, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_model: Option<String>,
    /// When (RFC 3339).
    pub at: String,
}

/// A model the operator rolled back from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolledBack {
    /// Its model id.
    pub model_id: String,
    /// The version it was served from.
    pub from_version: String,
    /// The version the alias went back to.
    pub to_version: String,
    /// When (RFC 3339).
    pub at: String,
}

/// The gate's memory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    /// Refused candidates, oldest first.
    #[serde(default)]
    pub refused: Vec<Refusal>,
    /// Rolled-back models, oldest first.
    #[serde(default)]
    pub rolled_back: Vec<RolledBack>,
}

/// The memory file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the gate's memory {} cannot be used: {message}; every deploy is refused until it is fixed (move it aside to start afresh, forgetting rollbacks)", .path.display())]
pub struct MemoryError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

impl Memory {
    /// The file in `state_dir`.
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join(FILE)
    }

    /// Reads the memory (empty when there is no file).
    pub fn load(state_dir: &Path) -> Result<Memory, MemoryError> {
        let path = Memory::path(state_dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| MemoryError {
                path,
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Memory::default()),
            Err(e) => Err(MemoryError {
                path,
                message: e.to_string(),
            }),
        }
    }

    /// Writes the memory durably.
    pub fn save(&self, state_dir: &Path) -> Result<(), MemoryError> {
        let path = Memory::path(state_dir);
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| MemoryError {
            path: path.clone(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        core_model::files::write_bytes(&path, &bytes).map_err(|e| MemoryError {
            path,
            message: e.to_string(),
        })
    }

    /// The last refusal of `model_id`, if any.
    pub fn refusal(&self, model_id: &str) -> Option<&Refusal> {
        self.refused.iter().rev().find(|r| r.model_id == model_id)
    }

    /// Remembers a refusal (replacing an older one of the same model).
    pub fn refuse(&mut self, refusal: Refusal) {
        self.refused.retain(|r| r.model_id != refusal.model_id);
        self.refused.push(refusal);
        trim(&mut self.refused);
    }

    /// Forgets refusals of `model_id` (it passed the gate, or was overridden).
    pub fn forget_refusal(&mut self, model_id: &str) {
        self.refused.retain(|r| r.model_id != model_id);
    }

    /// The rollback away from `model_id`, if the operator made one.
    pub fn rolled_back_from(&self, model_id: &str) -> Option<&RolledBack> {
        self.rolled_back
            .iter()
            .rev()
            .find(|r| r.model_id == model_id)
    }

    /// Remembers a rollback away from a model.
    pub fn roll_back(&mut self, entry: RolledBack) {
        self.rolled_back.retain(|r| r.model_id != entry.model_id);
        self.rolled_back.push(entry);
        trim(&mut self.rolled_back);
    }

    /// Forgets the rollback away from `model_id` (the operator forced it back).
    pub fn forget_rollback(&mut self, model_id: &str) {
        self.rolled_back.retain(|r| r.model_id != model_id);
    }
}

fn trim<T>(list: &mut Vec<T>) {
    if list.len() > KEPT {
        let excess = list.len() - KEPT;
        list.drain(..excess);
    }
}

/// Now, RFC 3339.
pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_round_trips_and_a_corrupt_file_is_an_error_not_an_empty_memory() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            Memory::load(dir.path()).expect("no file"),
            Memory::default()
        );
        let mut memory = Memory::default();
        memory.roll_back(RolledBack {
            model_id: "b".into(),
            from_version: "2".into(),
            to_version: "1".into(),
            at: now(),
        });
        memory.refuse(Refusal {
            model_id: "c".into(),
            reason: "worse".into(),
            production_model: Some("a".into()),
            at: now(),
        });
        memory.save(dir.path()).expect("saved");
        let read = Memory::load(dir.path()).expect("read");
        assert_eq!(read, memory);
        assert!(read.rolled_back_from("b").is_some() && read.refusal("c").is_some());
        std::fs::write(Memory::path(dir.path()), b"{not json").expect("corrupt");
        assert!(Memory::load(dir.path()).is_err());
    }
}
