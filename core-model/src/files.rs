//! Durable file writes: a reader sees the old file or the whole new one, never a half-written
//! file, and a power cut after the call returns does not lose the new one.
//!
//! The bytes go to a temporary sibling with a name no other writer uses (process id, a
//! per-process counter, `create_new`), the file is fsynced, renamed over the target, and the
//! folder is fsynced so the rename itself is on disk. Every artifact the system relies on
//! (models, deploy records, dvc.lock, cache objects, local prediction records) is written here.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Writes `path` through a uniquely named, fsynced temporary sibling and a rename, creating
/// parent folders. On error nothing is left behind and the old file (if any) is untouched.
pub fn write_atomic<F>(path: &Path, write: F) -> io::Result<()>
where
    F: FnOnce(&mut dyn Write) -> io::Result<()>,
{
    let parent = parent_of(path);
    std::fs::create_dir_all(&parent).map_err(|e| context(e, "cannot create folder", &parent))?;
    let (temporary, file) = create_temporary(&parent, path)?;
    let result = (|| {
        let mut writer = BufWriter::new(file);
        write(&mut writer)?;
        let file = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        Ok::<(), io::Error>(())
    })()
    .map_err(|e| context(e, "cannot write", path))
    .and_then(|()| {
        std::fs::rename(&temporary, path).map_err(|e| context(e, "cannot move into place", path))
    });
    match result {
        Ok(()) => sync_folder(&parent),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// Writes `bytes` to `path` with [`write_atomic`].
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic(path, |w| w.write_all(bytes))
}

fn parent_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn create_temporary(parent: &Path, path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temporary = parent.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => return Ok((temporary, file)),
            // A leftover of a crashed process that had the same pid: pick the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(context(e, "cannot create", &temporary)),
        }
    }
}

/// Makes a rename in `folder` durable (a no-op where folders cannot be opened, e.g. Windows).
fn sync_folder(folder: &Path) -> io::Result<()> {
    match File::open(folder) {
        Ok(dir) => match dir.sync_all() {
            Ok(()) => Ok(()),
            // Some file systems refuse fsync on a folder; the rename is done either way.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
            Err(e) => Err(context(e, "cannot sync folder", folder)),
        },
        Err(_) => Ok(()),
    }
}

fn context(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a/model.json");
        write_bytes(&path, b"old").expect("first write");
        let failed = write_atomic(&path, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        let left: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .expect("list")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, [std::ffi::OsString::from("model.json")]);
    }

    #[test]
    fn concurrent_writers_never_share_a_temporary_and_the_last_rename_wins_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("record.json");
        std::thread::scope(|scope| {
            for i in 0..8u8 {
                let path = &path;
                scope.spawn(move || {
                    write_bytes(path, &vec![b'0' + i; 100_000]).expect("write");
                });
            }
        });
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len(), 100_000);
        assert!(
            bytes.iter().all(|b| *b == bytes[0]),
            "one writer's bytes, whole"
        );
    }
}
