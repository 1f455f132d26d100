//! Finding the `dvc` program, and telling people how to get it.

use std::path::PathBuf;

/// How to install the DVC this project is tested with.
pub const INSTALL: &str = "pip install \"dvc[s3]==3.67.1\"";

/// The `dvc` executable on PATH, if any.
pub fn find_dvc() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(if cfg!(windows) { "dvc.exe" } else { "dvc" }))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &std::path::Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}
