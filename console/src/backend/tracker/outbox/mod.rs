//! The outbox: runs that could not reach their tracker wait here (`.amesops/outbox/`) instead
//! of being lost, and are sent, oldest first, by the next call to that tracker or by
//! `amesops runs sync`.
//!
//! One folder per run, named `<queued at, ms, 13 digits>-<run id>` so a listing is in order:
//!
//! ```text
//! .amesops/outbox/1764331200123-3f2a…/entry.json      what to send (format below)
//! .amesops/outbox/1764331200123-3f2a…/files/model/model.json   artifacts, by their run path
//! ```
//!
//! `entry.json` holds the tracker it is meant for, the experiment, the run id the model knows,
//! the run to create (name, original start time, tags) when the tracker never saw it, and the
//! calls still to make, in order: `log_batch` (params, metrics with their steps and times,
//! tags), `upload` (an artifact file) and `end` (status and the original end time). Each call
//! is removed from the file once the tracker has it, so an interrupted replay resumes where
//! it stopped; a run created on replay carries the queued id as `amesops.origin_run_id`, which
//! is also how a replay that stopped right after creating it finds it again.

mod replay;

use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::types::{Batch, KeyValue, RunStatus};

pub use replay::{ReplayEvent, ReplayReport};

/// Where the outbox is, beside the local tracking database.
pub const DEFAULT_OUTBOX_DIR: &str = ".amesops/outbox";
/// The entry format this build writes and reads.
const FORMAT: u32 = 1;
const ENTRY_FILE: &str = "entry.json";
const FILES_DIR: &str = "files";
const LOCK_FILE: &str = ".lock";

/// Why the outbox could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// A file or folder could not be read or written.
    #[error("outbox {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// An entry is not in a format this build reads.
    #[error("outbox entry {path} cannot be read: {message}")]
    Format {
        /// The entry file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutboxError + '_ {
    move |source| OutboxError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The run a queued entry creates when the tracker never saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedRun {
    /// Its name.
    pub run_name: String,
    /// When it started (milliseconds since the Unix epoch): kept, not replaced by the time
    /// of the replay.
    pub start_time: i64,
    /// Tags it starts with.
    pub tags: Vec<KeyValue>,
}

/// One call still to make, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum QueuedOp {
    /// `log_batch` with these params, metrics and tags.
    LogBatch {
        /// What to log.
        batch: Batch,
    },
    /// `upload_artifact` of the file kept under `files/<path>`.
    Upload {
        /// The artifact path in the run.
        path: String,
    },
    /// `update_run`: the run ended.
    End {
        /// How it ended.
        status: RunStatus,
        /// When (milliseconds since the Unix epoch).
        end_time: i64,
    },
}

/// A call to queue; uploads carry their bytes until they are written under `files/`.
#[derive(Debug, Clone, PartialEq)]
pub enum PendingOp {
    /// Log a batch.
    LogBatch(Batch),
    /// Upload an artifact.
    Upload {
        /// The artifact path in the run.
        path: String,
        /// Its contents.
        bytes: Vec<u8>,
    },
    /// End the run.
    End {
        /// How it ended.
        status: RunStatus,
        /// When.
        end_time: i64,
    },
}

/// `entry.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Entry format version.
    pub format: u32,
    /// The tracking URI it is meant for.
    pub tracker: String,
    /// The experiment the run belongs to.
    pub experiment: String,
    /// The run id the model and the user know.
    pub run_id: String,
    /// The run's id in the tracker, once known (set by a replay that got that far).
    #[serde(default)]
    pub tracker_run_id: Option<String>,
    /// The run to create, when the tracker has not seen it yet.
    #[serde(default)]
    pub create: Option<QueuedRun>,
    /// Calls still to make, in order.
    #[serde(default)]
    pub ops: Vec<QueuedOp>,
    /// When it was queued.
    pub queued_at: i64,
    /// Replays tried so far.
    #[serde(default)]
    pub attempts: u32,
    /// Why the last replay stopped.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// An entry and its folder.
#[derive(Debug, Clone)]
pub struct Queued {
    /// The entry's folder.
    pub dir: PathBuf,
    /// What it holds.
    pub entry: Entry,
}

/// The outbox folder.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

/// Two tracking URIs name the same tracker (case and trailing slashes aside).
pub fn same_tracker(a: &str, b: &str) -> bool {
    a.trim()
        .trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim().trim_end_matches('/'))
}

impl Outbox {
    /// The outbox in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Outbox {
        Outbox { dir: dir.into() }
    }

    /// The project's outbox, `.amesops/outbox` (beside `.amesops/tracking.db`).
    pub fn local() -> Outbox {
        Outbox::at(DEFAULT_OUTBOX_DIR)
    }

    /// Its folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Holds the outbox's lock until dropped: waits for it, or with `wait` false gives up
    /// (`None`) when another process holds it.
    fn lock(&self, wait: bool) -> Result<Option<File>, OutboxError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        if wait {
            file.lock().map_err(io(&path))?;
            return Ok(Some(file));
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }

    /// Every entry, oldest first. A missing outbox is empty.
    pub fn entries(&self) -> Result<Vec<Queued>, OutboxError> {
        let listing = match std::fs::read_dir(&self.dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        let mut dirs = Vec::new();
        for item in listing {
            let item = item.map_err(io(&self.dir))?;
            let path = item.path();
            if path.join(ENTRY_FILE).is_file() {
                dirs.push(path);
            }
        }
        dirs.sort();
        dirs.into_iter()
            .map(|dir| {
                let entry = read_entry(&dir)?;
                Ok(Queued { dir, entry })
            })
            .collect()
    }

    /// How many runs wait (for any tracker); an unreadable outbox counts as empty.
    pub fn waiting(&self) -> usize {
        self.entries().map(|e| e.len()).unwrap_or(0)
    }

    /// How many runs wait for this tracker.
    pub fn waiting_for(&self, tracker: &str) -> usize {
        self.entries()
            .map(|e| {
                e.iter()
                    .filter(|q| same_tracker(&q.entry.tracker, tracker))
                    .count()
            })
            .unwrap_or(0)
    }

    /// The entry of a run, if it waits here.
    pub fn find(&self, run_id: &str) -> Result<Option<Queued>, OutboxError> {
        Ok(self
            .entries()?
            .into_iter()
            .find(|q| q.entry.run_id == run_id))
    }

    /// Queues calls for a run: appended to the run's entry when it already waits (so its
    /// calls stay in order), else a new entry (`create` when the tracker has never seen it).
    pub fn queue(
        &self,
        tracker: &str,
        experiment: &str,
        run_id: &str,
        create: Option<QueuedRun>,
        ops: Vec<PendingOp>,
    ) -> Result<Queued, OutboxError> {
        let _lock = self.lock(true)?;
        let mut queued = match self.find(run_id)? {
            Some(queued) => queued,
            None => {
                let queued_at = super::now_millis();
                let dir = self.dir.join(format!("{queued_at:013}-{run_id}"));
                Queued {
                    dir,
                    entry: Entry {
                        format: FORMAT,
                        tracker: tracker.to_string(),
                        experiment: experiment.to_string(),
                        run_id: run_id.to_string(),
                        tracker_run_id: None,
                        create,
                        ops: Vec::new(),
                        queued_at,
                        attempts: 0,
                        last_error: None,
                    },
                }
            }
        };
        std::fs::create_dir_all(&queued.dir).map_err(io(&queued.dir))?;
        for op in ops {
            queued.entry.ops.push(match op {
                PendingOp::LogBatch(batch) => QueuedOp::LogBatch { batch },
                PendingOp::Upload { path, bytes } => {
                    let file =
                        file_path(&queued.dir, &path).ok_or_else(|| OutboxError::Format {
                            path: queued.dir.clone(),
                            message: format!("artifact path {path:?} is not a relative path"),
                        })?;
                    if let Some(parent) = file.parent() {
                        std::fs::create_dir_all(parent).map_err(io(parent))?;
                    }
                    write_atomic(&file, &bytes)?;
                    QueuedOp::Upload { path }
                }
                PendingOp::End { status, end_time } => QueuedOp::End { status, end_time },
            });
        }
        write_entry(&queued.dir, &queued.entry)?;
        Ok(queued)
    }
}

/// Where an upload's bytes are kept: `files/<path>`, refusing paths that leave the entry.
fn file_path(dir: &Path, path: &str) -> Option<PathBuf> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || parts.iter().any(|p| *p == "." || *p == "..")
    {
        return None;
    }
    Some(
        parts
            .iter()
            .fold(dir.join(FILES_DIR), |file, part| file.join(part)),
    )
}

/// Writes through a temporary sibling and a rename, so a crash never leaves half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutboxError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&temporary, bytes).map_err(io(&temporary))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io(path)(e)
    })
}

fn read_entry(dir: &Path) -> Result<Entry, OutboxError> {
    let path = dir.join(ENTRY_FILE);
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| OutboxError::Format {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if entry.format != FORMAT {
        return Err(OutboxError::Format {
            path,
            message: format!(
                "format {} (this amesops reads format {FORMAT}); sync it with the amesops that wrote it",
                entry.format
            ),
        });
    }
    Ok(entry)
}

fn write_entry(dir: &Path, entry: &Entry) -> Result<(), OutboxError> {
    let path = dir.join(ENTRY_FILE);
    let bytes = serde_json::to_vec_pretty(entry).map_err(|e| OutboxError::Format {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_atomic(&path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_for_one_run_join_its_entry_and_entries_list_in_order() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let outbox = Outbox::at(dir.path().join("outbox"));
        assert_eq!(outbox.waiting(), 0, "a missing outbox is empty");
        let create = QueuedRun {
            run_name: "train-1".into(),
            start_time: 1_700_000_000_000,
            tags: vec![KeyValue::new("host", "h")],
        };
        outbox
            .queue(
                "http://t:5000",
                "amesops",
                "aaa",
                Some(create.clone()),
                vec![PendingOp::LogBatch(Batch::default())],
            )
            .expect("queued");
        std::thread::sleep(std::time::Duration::from_millis(2));
        outbox
            .queue("http://t:5000/", "amesops", "bbb", None, vec![])
            .expect("queued");
        outbox
            .queue(
                "http://t:5000",
                "amesops",
                "aaa",
                None,
                vec![
                    PendingOp::Upload {
                        path: "model/model.json".into(),
                        bytes: b"{}".to_vec(),
                    },
                    PendingOp::End {
                        status: RunStatus::Finished,
                        end_time: 1_700_000_001_000,
                    },
                ],
            )
            .expect("appended");
        let entries = outbox.entries().expect("listed");
        assert_eq!(
            entries
                .iter()
                .map(|q| q.entry.run_id.as_str())
                .collect::<Vec<_>>(),
            ["aaa", "bbb"]
        );
        let first = &entries[0];
        assert_eq!(first.entry.create, Some(create));
        assert_eq!(first.entry.ops.len(), 3);
        assert_eq!(
            std::fs::read(first.dir.join("files/model/model.json")).expect("kept"),
            b"{}"
        );
        assert_eq!(outbox.waiting_for("HTTP://t:5000/"), 2);
        assert_eq!(outbox.waiting_for("http://other:5000"), 0);
        assert!(
            outbox
                .queue(
                    "http://t:5000",
                    "amesops",
                    "ccc",
                    None,
                    vec![PendingOp::Upload {
                        path: "../escape".into(),
                        bytes: Vec::new(),
                    }]
                )
                .is_err()
        );
    }
}
