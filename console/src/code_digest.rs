//! A digest of a source tree (every file's relative path and bytes, in path order), shared by
//! the build script, which records the digest of the `core-model/src` this binary is built
//! from, and by `amesops train`, which compares it with the project's `core-model/src`.
//! Standard library only, so the build script can include it.

use std::path::Path;

/// FNV-1a, 64 bits: stable across builds and platforms, which is all this needs (it tells
/// whether the sources differ, it does not defend against forgery).
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for byte in bytes {
        *hash ^= u64::from(*byte);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, std::path::PathBuf)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            files(root, &path, out)?;
        } else {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((relative, path));
        }
    }
    Ok(())
}

/// The digest of the tree under `root` (hex), or the error reading it.
pub fn tree_digest(root: &Path) -> std::io::Result<String> {
    let mut list = Vec::new();
    files(root, root, &mut list)?;
    list.sort();
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    for (relative, path) in list {
        let bytes = std::fs::read(&path)?;
        fnv1a(&mut hash, relative.as_bytes());
        fnv1a(&mut hash, &[0]);
        fnv1a(&mut hash, &(bytes.len() as u64).to_le_bytes());
        fnv1a(&mut hash, &bytes);
    }
    Ok(format!("{hash:016x}"))
}
