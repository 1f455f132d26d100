//! The DVC object cache (`.dvc/cache/files/md5/ab/cdef…`): an output whose recorded hash has
//! no intact object there is "not in cache" (dvc would be unable to check it out).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::hash::{HashKind, Hasher, md5_hex};

/// The object cache of a repository.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

/// An entry of a directory object (`<md5>.dir`).
#[derive(Debug, Deserialize)]
struct DirEntry {
    md5: String,
}

impl Cache {
    /// The cache rooted at `dir` (`cache.dir`, by default `.dvc/cache`).
    pub fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// Where the object of a hash lives: `files/md5/` for DVC 3, the top level for DVC 2.
    pub fn object_path(&self, kind: HashKind, oid: &str) -> PathBuf {
        let (head, tail) = oid.split_at(oid.len().min(2));
        match kind {
            HashKind::Md5 => self.dir.join("files").join("md5").join(head).join(tail),
            HashKind::Md5Dos2Unix => self.dir.join(head).join(tail),
        }
    }

    /// Whether the object of `oid` (and for a directory, of each file in it) is present and
    /// its content still has that hash, as `dvc status` verifies.
    pub fn contains(&self, hasher: &mut Hasher, kind: HashKind, oid: &str) -> io::Result<bool> {
        let Some(tree_oid) = oid.strip_suffix(".dir") else {
            return self.object_intact(hasher, kind, oid);
        };
        let listing = match std::fs::read(self.object_path(kind, oid)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        if md5_hex(&listing) != tree_oid {
            return Ok(false);
        }
        let Ok(entries) = serde_json::from_slice::<Vec<DirEntry>>(&listing) else {
            return Ok(false);
        };
        for entry in entries {
            if !self.object_intact(hasher, kind, &entry.md5)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Puts a copy of `source` in the cache as the object `oid` (DVC 3 layout), read-only like
    /// dvc's own objects; an object already there is kept.
    pub fn store_file(&self, source: &Path, oid: &str) -> io::Result<()> {
        self.store(oid, |w| {
            io::copy(&mut std::fs::File::open(source)?, w)?;
            Ok(())
        })
    }

    /// Puts `bytes` in the cache as the object `oid` (a directory's `.dir` listing).
    pub fn store_bytes(&self, bytes: &[u8], oid: &str) -> io::Result<()> {
        self.store(oid, |w| Ok(w.write_all(bytes)?))
    }

    fn store(
        &self,
        oid: &str,
        write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
    ) -> io::Result<()> {
        let path = self.object_path(HashKind::Md5, oid);
        if path.is_file() {
            return Ok(());
        }
        crate::files::write_atomic(&path, write).map_err(|e| io::Error::other(format!("{e:#}")))?;
        let mut permissions = std::fs::metadata(&path)?.permissions();
        permissions.set_readonly(true);
        std::fs::set_permissions(&path, permissions)
    }

    fn object_intact(&self, hasher: &mut Hasher, kind: HashKind, oid: &str) -> io::Result<bool> {
        let path = self.object_path(kind, oid);
        let meta = match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => meta,
            Ok(_) => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        Ok(hasher.file(&path, &meta, kind)? == oid)
    }
}
