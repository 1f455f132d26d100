//! Why a tracker call failed: which call, what kind of failure, and the store's own message.

/// The kind of failure, so callers can tell "not there" from "refused" from "down".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The tracker could not be reached (connection refused, timeout, DNS).
    Unreachable,
    /// The run, experiment, artifact, model or alias does not exist.
    NotFound,
    /// It exists already.
    AlreadyExists,
    /// The request was refused as invalid (e.g. a parameter changing value, a bad filter).
    InvalidInput,
    /// Credentials were missing or refused.
    Unauthorized,
    /// The store failed on its side (HTTP 5xx, SQLite or file errors).
    Server,
    /// The answer could not be understood.
    Protocol,
}

/// A failed tracker call; the message names the call and carries the store's explanation.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{call} failed: {message}")]
pub struct TrackerError {
    /// The call that failed, e.g. `runs/log-batch` or `sqlite get_run`.
    pub call: String,
    /// What kind of failure.
    pub kind: ErrorKind,
    /// What went wrong, in the store's words where it gave any.
    pub message: String,
}

impl TrackerError {
    /// Builds an error; one constructor keeps every message in the same shape.
    pub fn new(call: impl Into<String>, kind: ErrorKind, message: impl Into<String>) -> Self {
        TrackerError {
            call: call.into(),
            kind,
            message: message.into(),
        }
    }
}

/// Shorthand for tracker results.
pub type TrackerResult<T> = Result<T, TrackerError>;
