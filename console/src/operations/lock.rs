//! One run at a time: an OS lock (`flock`) on a file at the project root.
//!
//! The kernel holds the lock for the process and drops it when the process dies, so there is
//! no stale lock to clean up and no window where two processes both believe they hold it (the
//! pid file this replaces had both). The file itself stays; while held it names its holder
//! (pid, command, since), which is what a refused run is told. Stage commands started by a
//! holder (the pipeline's `deploy` stage under `amesops pipeline run`) inherit the lock through
//! `AMESOPS_RUN_LOCK`, which carries the holder's token.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The variable that hands a held lock to child processes.
pub const INHERIT_VAR: &str = "AMESOPS_RUN_LOCK";

/// The run lock's file name in the state folder.
pub const RUN_LOCK: &str = "run.lock";
/// The scheduler's lock (one scheduler per project).
pub const SCHEDULER_LOCK: &str = "scheduler.lock";

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// Its command line.
    pub command: String,
    /// When it took the lock (RFC 3339).
    pub since: String,
    /// Handed to its children so they can tell the lock is their parent's.
    token: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} (`{}`) since {}",
            self.pid, self.command, self.since
        )
    }
}

/// Why a lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("another run is in progress: {} holds {}; not starting (try again when it is done)", .holder.as_ref().map_or_else(|| "a process that is just starting".to_string(), Holder::to_string), .path.display())]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, when it could be read.
        holder: Option<Holder>,
    },
    /// The lock file could not be used.
    #[error("cannot use the lock {}: {source}", .path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// How long to wait for a held lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Refuse at once (retrain, scheduler runs, pipeline runs, the console's `R`).
    No,
    /// Wait up to this long (deploys and rollbacks queue behind each other).
    UpTo(Duration),
}

/// A held lock; released (and its holder line cleared) when dropped.
#[derive(Debug)]
pub struct RunLock {
    /// `None` when the lock is the parent's (inherited through [`INHERIT_VAR`]).
    file: Option<File>,
    path: PathBuf,
    token: String,
}

impl RunLock {
    /// Takes the lock at `path` for `command`; `waiting` is told who holds it, once, when the
    /// call has to wait.
    pub fn acquire(
        path: &Path,
        command: &str,
        wait: Wait,
        waiting: &dyn Fn(Option<&Holder>),
    ) -> Result<RunLock, LockError> {
        let io = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let deadline = match wait {
            Wait::No => None,
            Wait::UpTo(limit) => Some(Instant::now() + limit),
        };
        let mut told = false;
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {
                    let token = uuid::Uuid::new_v4().simple().to_string();
                    let holder = Holder {
                        pid: std::process::id(),
                        command: command.to_string(),
                        since: now(),
                        token: token.clone(),
                    };
                    write_holder(&mut file, Some(&holder)).map_err(io)?;
                    return Ok(RunLock {
                        file: Some(file),
                        path: path.to_path_buf(),
                        token,
                    });
                }
                Err(TryLockError::WouldBlock) => {
                    let holder = read_holder_settled(&mut file);
                    if let Some(held) = &holder
                        && inherited_token().as_deref() == Some(held.token.as_str())
                    {
                        return Ok(RunLock {
                            file: None,
                            path: path.to_path_buf(),
                            token: held.token.clone(),
                        });
                    }
                    match deadline {
                        Some(deadline) if Instant::now() < deadline => {
                            if !told {
                                waiting(holder.as_ref());
                                told = true;
                            }
                            std::thread::sleep(Duration::from_millis(50));
                        }
                        _ => {
                            return Err(LockError::Busy {
                                path: path.to_path_buf(),
                                holder,
                            });
                        }
                    }
                }
                Err(TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    }

    /// The variable that hands this lock to a child process.
    pub fn inherit(&self) -> (String, String) {
        (INHERIT_VAR.to_string(), self.token.clone())
    }

    /// Whether this process is running under its parent's lock.
    pub fn is_inherited(&self) -> bool {
        self.file.is_none()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        if let Some(file) = &mut self.file {
            // Clear the holder while still holding the lock, then let it go.
            let _ = write_holder(file, None);
            let _ = file.unlock();
        }
    }
}

/// Who holds the lock at `path` right now, if anyone.
pub fn holder(path: &Path) -> Option<Holder> {
    let mut file = File::open(path).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(_) => read_holder(&mut file),
    }
}

fn inherited_token() -> Option<String> {
    std::env::var(INHERIT_VAR).ok().filter(|t| !t.is_empty())
}

fn write_holder(file: &mut File, holder: Option<&Holder>) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    if let Some(holder) = holder {
        let mut line = serde_json::to_vec(holder).map_err(std::io::Error::other)?;
        line.push(b'\n');
        file.write_all(&line)?;
    }
    file.flush()
}

/// The holder of a lock just found taken: a process that has just taken it writes its line
/// right after, so an empty line is read again for a moment before the refusal says "a
/// process that is just starting" instead of naming it.
fn read_holder_settled(file: &mut File) -> Option<Holder> {
    for _ in 0..20 {
        if let Some(holder) = read_holder(file) {
            return Some(holder);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    read_holder(file)
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim()).ok()
}

fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_and_names_its_holder_then_frees_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(RUN_LOCK);
        let held =
            RunLock::acquire(&path, "amesops retrain --yes", Wait::No, &|_| {}).expect("free lock");
        assert!(!held.is_inherited());
        let seen = holder(&path).expect("a holder");
        assert_eq!(seen.pid, std::process::id());
        assert_eq!(seen.command, "amesops retrain --yes");
        match RunLock::acquire(&path, "amesops pipeline run", Wait::No, &|_| {}) {
            Err(error @ LockError::Busy { .. }) => {
                let message = error.to_string();
                assert!(message.contains("amesops retrain --yes"), "{message}");
                assert!(
                    message.contains(&format!("pid {}", std::process::id())),
                    "{message}"
                );
            }
            other => panic!("expected Busy, got {other:?}"),
        }
        drop(held);
        assert_eq!(holder(&path), None);
        RunLock::acquire(&path, "again", Wait::No, &|_| {}).expect("free again");
    }

    #[test]
    fn a_waiting_acquire_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(RUN_LOCK);
        let held = RunLock::acquire(&path, "first", Wait::No, &|_| {}).expect("free lock");
        let waited = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let second = scope.spawn(|| {
                RunLock::acquire(&path, "second", Wait::UpTo(Duration::from_secs(60)), &|h| {
                    assert_eq!(h.map(|h| h.command.as_str()), Some("first"));
                    waited.store(true, std::sync::atomic::Ordering::SeqCst);
                })
            });
            while !waited.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(held);
            let second = second.join().expect("thread").expect("lock after release");
            assert_eq!(holder(&path).map(|h| h.command), Some("second".to_string()));
            drop(second);
        });
    }
}
