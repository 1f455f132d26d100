//! DVC 3 hashing. A file's hash is the md5 of its bytes; a directory's is the md5 of
//! `json.dumps(sorted([{"md5": …, "relpath": …}]), sort_keys=True)` (Python's separators and
//! ASCII escaping) followed by `.dir`. DVC 2 entries (no `hash: md5` in dvc.lock) hash text
//! files with CRLF turned into LF. Every file is hashed at most once per [`Hasher`].

use std::collections::HashMap;
use std::fs::Metadata;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use super::ignore::Ignore;

/// Which hash an entry of dvc.lock was computed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashKind {
    /// DVC 3: md5 of the raw bytes.
    Md5,
    /// DVC 2: md5 after CRLF → LF in text files.
    Md5Dos2Unix,
}

impl HashKind {
    /// The kind named by a dvc.lock entry's `hash` field.
    pub fn from_lock(hash: Option<&str>) -> HashKind {
        match hash {
            Some(_) => HashKind::Md5,
            None => HashKind::Md5Dos2Unix,
        }
    }
}

/// The hash of a file or directory, as dvc.lock records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathHash {
    /// md5 hex; a directory's ends in `.dir`.
    pub md5: String,
    /// Bytes (all files of a directory).
    pub size: u64,
    /// Number of files, for a directory.
    pub nfiles: Option<u64>,
}

/// Identity of a file's content for the memo: a file changed on disk gets a new key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FileKey {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl FileKey {
    fn new(path: &Path, meta: &Metadata) -> FileKey {
        #[cfg(unix)]
        let _ = path;
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        };
        FileKey {
            // On unix the inode identifies the file (hard links and cache copies share it).
            #[cfg(unix)]
            path: PathBuf::new(),
            #[cfg(not(unix))]
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            inode,
        }
    }
}

/// Hashes files and directories, remembering every file it has read.
#[derive(Debug, Default)]
pub struct Hasher {
    memo: HashMap<(FileKey, HashKind), String>,
    ignore: Ignore,
}

impl Hasher {
    /// A hasher that skips what DVC ignores (`.git`, `.dvc`, `.dvcignore` patterns).
    pub fn new(ignore: Ignore) -> Hasher {
        Hasher {
            ignore,
            ..Hasher::default()
        }
    }

    /// The hash of `root/path` (a file or a directory); None when nothing is there.
    pub fn hash(
        &mut self,
        root: &Path,
        path: &str,
        kind: HashKind,
    ) -> io::Result<Option<PathHash>> {
        let full = root.join(path);
        let meta = match std::fs::metadata(&full) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if meta.is_dir() {
            let entries = self.tree(&full, path, kind)?;
            let size = entries.iter().map(|e| e.size).sum();
            let nfiles = entries.len() as u64;
            let listing: Vec<(&str, &str)> = entries
                .iter()
                .map(|e| (e.relpath.as_str(), e.md5.as_str()))
                .collect();
            let md5 = format!("{}.dir", md5_hex(tree_json(&listing).as_bytes()));
            Ok(Some(PathHash {
                md5,
                size,
                nfiles: Some(nfiles),
            }))
        } else {
            Ok(Some(PathHash {
                md5: self.file(&full, &meta, kind)?,
                size: meta.len(),
                nfiles: None,
            }))
        }
    }

    /// The md5 of one file (memoised by identity, size and modification time).
    pub fn file(&mut self, path: &Path, meta: &Metadata, kind: HashKind) -> io::Result<String> {
        let key = (FileKey::new(path, meta), kind);
        if let Some(md5) = self.memo.get(&key) {
            return Ok(md5.clone());
        }
        let md5 = file_md5(path, kind)?;
        self.memo.insert(key, md5.clone());
        Ok(md5)
    }

    /// Every file under a directory, sorted by relative path, with its md5 and size.
    pub fn tree(
        &mut self,
        dir: &Path,
        rel_dir: &str,
        kind: HashKind,
    ) -> io::Result<Vec<TreeEntry>> {
        let mut entries = Vec::new();
        self.walk(dir, rel_dir, "", kind, &mut entries)?;
        entries.sort_by(|a, b| a.relpath.cmp(&b.relpath));
        Ok(entries)
    }

    fn walk(
        &mut self,
        dir: &Path,
        rel_root: &str,
        prefix: &str,
        kind: HashKind,
        out: &mut Vec<TreeEntry>,
    ) -> io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relpath = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            let file_type = entry.file_type()?;
            // Like os.walk: a link to a directory is not followed, a link to a file is.
            let is_dir = file_type.is_dir();
            let from_root = match rel_root {
                "" | "." => relpath.clone(),
                _ => format!("{rel_root}/{relpath}"),
            };
            if self.ignore.is_ignored(&from_root, is_dir) {
                continue;
            }
            if is_dir {
                self.walk(&entry.path(), rel_root, &relpath, kind, out)?;
                continue;
            }
            let meta = match std::fs::metadata(entry.path()) {
                Ok(meta) if meta.is_file() => meta,
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let md5 = self.file(&entry.path(), &meta, kind)?;
            out.push(TreeEntry {
                relpath,
                md5,
                size: meta.len(),
            });
        }
        Ok(())
    }
}

/// One file of a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// `/`-separated path inside the directory.
    pub relpath: String,
    /// md5 hex.
    pub md5: String,
    /// Bytes.
    pub size: u64,
}

/// md5 of raw bytes, as DVC records it (the one definition lives in core-model).
pub use core_model::digest::md5_hex;

const CHUNK: usize = 1 << 20;

fn file_md5(path: &Path, kind: HashKind) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Md5::new();
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let n = read_full(&mut file, &mut buffer)?;
        if n == 0 {
            break;
        }
        let chunk = &buffer[..n];
        if kind == HashKind::Md5Dos2Unix && is_text(&chunk[..n.min(512)]) {
            hasher.update(dos2unix(chunk));
        } else {
            hasher.update(chunk);
        }
        if n < CHUNK {
            break;
        }
    }
    Ok(format!("{:x}", hasher.finalize()))
}

/// Reads until the buffer is full or the file ends (Python's `read(n)` on a file).
fn read_full(file: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// dvc-data's text heuristic: no NUL byte and at most 30% non-text bytes.
fn is_text(block: &[u8]) -> bool {
    if block.is_empty() {
        return true;
    }
    if block.contains(&0) {
        return false;
    }
    let text = |b: &u8| (32..127).contains(b) || b"\n\r\t\x0c\x08".contains(b);
    let nontext = block.iter().filter(|b| !text(b)).count();
    nontext as f64 / block.len() as f64 <= 0.30
}

fn dos2unix(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

/// `json.dumps(sorted([{"md5": m, "relpath": p}, …]), sort_keys=True)` for `(relpath, md5)`
/// pairs already sorted by path.
pub fn tree_json(entries: &[(&str, &str)]) -> String {
    let items: Vec<String> = entries
        .iter()
        .map(|(relpath, md5)| {
            format!(
                "{{\"md5\": {}, \"relpath\": {}}}",
                python_json_string(md5),
                python_json_string(relpath)
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// A JSON string as Python's `json.dumps` writes it (`ensure_ascii=True`).
fn python_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_serialised_like_python_json_dumps() {
        assert_eq!(
            tree_json(&[("a b/é\"x", "00"), ("z", "11")]),
            r#"[{"md5": "00", "relpath": "a b/\u00e9\"x"}, {"md5": "11", "relpath": "z"}]"#
        );
        assert_eq!(python_json_string("🦀\u{7f}"), r#""\ud83e\udd80\u007f""#);
    }

    #[test]
    fn dos2unix_applies_to_text_only() {
        assert_eq!(dos2unix(b"a\r\nb\r"), b"a\nb\r");
        assert!(is_text(b"hello\r\n"));
        assert!(!is_text(b"a\0b"));
        assert!(!is_text(&[200u8; 10]));
    }
}
