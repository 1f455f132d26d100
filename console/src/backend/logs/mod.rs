//! `LogSource`: the predictor's log stream (a local JSONL file, or CloudWatch Logs).

#[cfg(feature = "aws")]
mod cloudwatch;
mod file;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

#[cfg(feature = "aws")]
pub use cloudwatch::CloudWatchLogSource;
pub use file::FileLogSource;

/// One log line as written by the predictor (usually a JSON object).
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// When the platform received it (ms since the epoch), when known.
    pub timestamp_ms: Option<i64>,
    /// The line itself.
    pub text: String,
}

/// What a follower reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LogEvent {
    /// New lines, oldest first.
    Lines(Vec<LogLine>),
    /// How the source is being followed (e.g. "live tail", "polling every 2 s").
    Mode(String),
    /// A failure; the follower keeps trying unless it says otherwise.
    Error(String),
}

/// A stream of log lines that can be followed.
pub trait LogSource: Send + Sync {
    /// Sends existing recent lines, then new ones as they arrive, until `tx` is closed.
    fn follow(&self, tx: mpsc::Sender<LogEvent>) -> BoxFuture<'static, ()>;
    /// What it reads from.
    fn describe(&self) -> String;
}
