//! Structured logs: one JSON object per line (CloudWatch on Lambda, a file for the console).

use std::path::PathBuf;

use tracing::Level;
use tracing_subscriber::filter::LevelFilter;

/// Line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line (the default).
    Json,
    /// Human-readable text.
    Text,
}

/// How and where to log.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Line format.
    pub format: LogFormat,
    /// Least severe level written.
    pub level: LevelFilter,
    /// Append to this file instead of standard output.
    pub file: Option<PathBuf>,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            level: LevelFilter::INFO,
            file: None,
        }
    }
}

/// Parses a Lambda log level name (`TRACE` … `FATAL`), case-insensitively.
pub fn parse_level(name: &str) -> Option<LevelFilter> {
    Some(match name.trim().to_ascii_uppercase().as_str() {
        "TRACE" => LevelFilter::from_level(Level::TRACE),
        "DEBUG" => LevelFilter::from_level(Level::DEBUG),
        "INFO" => LevelFilter::from_level(Level::INFO),
        "WARN" | "WARNING" => LevelFilter::from_level(Level::WARN),
        "ERROR" | "FATAL" => LevelFilter::from_level(Level::ERROR),
        "OFF" => LevelFilter::OFF,
        _ => return None,
    })
}

impl LogSettings {
    /// Reads Lambda's `AWS_LAMBDA_LOG_FORMAT` (`JSON`|`Text`) and `AWS_LAMBDA_LOG_LEVEL`,
    /// then `LOG_LEVEL` and `LOG_FILE`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let format = match var("AWS_LAMBDA_LOG_FORMAT")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("text") => LogFormat::Text,
            _ => LogFormat::Json,
        };
        let level = var("AWS_LAMBDA_LOG_LEVEL")
            .or_else(|| var("LOG_LEVEL"))
            .and_then(|l| parse_level(&l))
            .unwrap_or(LevelFilter::INFO);
        Self {
            format,
            level,
            file: var("LOG_FILE").map(PathBuf::from),
        }
    }

    /// Installs the global subscriber; fails if one is already installed or the file can't open.
    pub fn init(&self) -> Result<(), LogError> {
        let builder = tracing_subscriber::fmt()
            .with_max_level(self.level)
            .with_ansi(false);
        let result = match (&self.file, self.format) {
            (Some(path), format) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|source| LogError::Folder {
                        path: parent.to_path_buf(),
                        source,
                    })?;
                }
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| LogError::File {
                        path: path.clone(),
                        source,
                    })?;
                let writer = std::sync::Mutex::new(file);
                match format {
                    LogFormat::Json => builder
                        .json()
                        .flatten_event(true)
                        .with_current_span(false)
                        .with_span_list(false)
                        .with_writer(writer)
                        .try_init(),
                    LogFormat::Text => builder.with_writer(writer).try_init(),
                }
            }
            (None, LogFormat::Json) => builder
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_writer(std::io::stdout)
                .try_init(),
            (None, LogFormat::Text) => builder.with_writer(std::io::stdout).try_init(),
        };
        result.map_err(|e| LogError::Install(e.to_string()))
    }
}

/// Why the logger could not be installed: the folder or file it names, and the system's reason.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The log file's folder could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// The log file could not be opened for appending.
    #[error("cannot open log file {}: {source}", path.display())]
    File {
        /// The file (`LOG_FILE`).
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A logger is already installed in this process.
    #[error("cannot install the logger: {0}")]
    Install(String),
}
