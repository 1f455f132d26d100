//! File writing that never leaves a half-written output behind: [`core_model::files`] (unique
//! temporary name, fsync of the file and its folder, rename), with `anyhow` errors for the CLI.

use std::io::Write;
use std::path::Path;

use anyhow::Result;

/// Writes a file through a uniquely named, fsynced temporary sibling and a rename, creating
/// parent folders.
pub fn write_atomic(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    // The closure's own error (which may carry context) is kept; I/O errors get the path.
    let mut failure: Option<anyhow::Error> = None;
    let written = core_model::files::write_atomic(path, |w| {
        write(w).map_err(|e| {
            let message = format!("{e:#}");
            failure = Some(e);
            std::io::Error::other(message)
        })
    });
    match (written, failure) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(error)) => Err(error),
        (Err(error), None) => Err(error.into()),
    }
}

/// Writes bytes atomically and durably.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(core_model::files::write_bytes(path, bytes)?)
}
