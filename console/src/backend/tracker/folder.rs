//! Run artifacts as plain files in a run's folder, written atomically: the SQLite store's
//! `artifacts/<run id>/`, and an MLflow run whose artifact root is a local path.

use std::path::{Path, PathBuf};

use super::error::{ErrorKind, TrackerError, TrackerResult};
use super::types::FileInfo;

fn io_error(call: &str, path: &Path, e: &std::io::Error) -> TrackerError {
    let kind = if e.kind() == std::io::ErrorKind::NotFound {
        ErrorKind::NotFound
    } else {
        ErrorKind::Server
    };
    TrackerError::new(
        format!("artifacts {call}"),
        kind,
        format!("{}: {e}", path.display()),
    )
}

/// The relative path's segments; refuses absolute paths and `.`/`..` so nothing escapes the run.
fn segments<'a>(call: &str, path: &'a str) -> TrackerResult<Vec<&'a str>> {
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if path.starts_with('/') || path.contains('\\') || parts.iter().any(|s| *s == "." || *s == "..")
    {
        return Err(TrackerError::new(
            format!("artifacts {call}"),
            ErrorKind::InvalidInput,
            format!("artifact path {path:?} must be relative, `/`-separated, without . or .."),
        ));
    }
    Ok(parts)
}

fn resolve(folder: &Path, parts: &[&str]) -> PathBuf {
    parts
        .iter()
        .fold(folder.to_path_buf(), |path, part| path.join(part))
}

/// Writes one artifact file into the run's folder.
pub fn upload(folder: &Path, path: &str, bytes: &[u8]) -> TrackerResult<()> {
    let call = "upload_artifact";
    let parts = segments(call, path)?;
    if parts.is_empty() {
        return Err(TrackerError::new(
            format!("artifacts {call}"),
            ErrorKind::InvalidInput,
            "an artifact needs a file name",
        ));
    }
    let target = resolve(folder, &parts);
    let folder = target.parent().unwrap_or(folder);
    std::fs::create_dir_all(folder).map_err(|e| io_error(call, folder, &e))?;
    let temporary = folder.join(format!(".upload-{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&temporary, bytes).map_err(|e| io_error(call, &temporary, &e))?;
    std::fs::rename(&temporary, &target).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        io_error(call, &target, &e)
    })
}

/// Reads one artifact file.
pub fn download(folder: &Path, path: &str) -> TrackerResult<Vec<u8>> {
    let call = "download_artifact";
    let target = resolve(folder, &segments(call, path)?);
    std::fs::read(&target).map_err(|e| io_error(call, &target, &e))
}

/// The entries directly under `path`, sorted; a missing folder lists as empty (as in MLflow).
pub fn list(run_folder: &Path, path: Option<&str>) -> TrackerResult<Vec<FileInfo>> {
    let call = "list_artifacts";
    let parts = segments(call, path.unwrap_or_default())?;
    let folder = resolve(run_folder, &parts);
    let entries = match std::fs::read_dir(&folder) {
        Ok(entries) => entries,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(Vec::new());
        }
        Err(e) => return Err(io_error(call, &folder, &e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(call, &folder, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(".upload-") {
            continue;
        }
        let metadata = entry
            .metadata()
            .map_err(|e| io_error(call, &entry.path(), &e))?;
        let mut relative: Vec<&str> = parts.clone();
        relative.push(&name);
        files.push(FileInfo {
            path: relative.join("/"),
            is_dir: metadata.is_dir(),
            file_size: metadata.is_file().then_some(metadata.len()),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
