//! Following a local log file, the way `tail -F` does (truncation and re-creation included).

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::{LogEvent, LogLine, LogSource};

/// How often the file is checked for new bytes.
const POLL: Duration = Duration::from_millis(200);
/// Most bytes read from the end of an existing file at start.
const BACKLOG_BYTES: u64 = 4 * 1024 * 1024;

/// A JSON-lines log file written by the local predictor.
#[derive(Debug, Clone)]
pub struct FileLogSource {
    path: PathBuf,
}

impl FileLogSource {
    /// Follows `path` (which may not exist yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

/// Reads whatever was appended since `offset`, returning complete lines and the new offset.
fn read_new(
    path: &PathBuf,
    offset: u64,
    partial: &mut String,
) -> std::io::Result<(Vec<LogLine>, u64)> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let start = if len < offset { 0 } else { offset }; // truncated: start over
    if len == start {
        return Ok((Vec::new(), start));
    }
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity((len - start) as usize);
    file.take(len - start).read_to_end(&mut bytes)?;
    partial.push_str(&String::from_utf8_lossy(&bytes));
    let mut lines = Vec::new();
    while let Some(end) = partial.find('\n') {
        let line: String = partial.drain(..=end).collect();
        let line = line.trim_end_matches(['\n', '\r']);
        if !line.is_empty() {
            lines.push(LogLine {
                timestamp_ms: None,
                text: line.to_string(),
            });
        }
    }
    Ok((lines, len))
}

impl LogSource for FileLogSource {
    fn follow(&self, tx: mpsc::Sender<LogEvent>) -> BoxFuture<'static, ()> {
        let path = self.path.clone();
        Box::pin(async move {
            let _ = tx
                .send(LogEvent::Mode(format!("following {}", path.display())))
                .await;
            let mut offset = std::fs::metadata(&path)
                .map(|m| m.len().saturating_sub(BACKLOG_BYTES))
                .unwrap_or(0);
            let mut partial = String::new();
            // Starting mid-file, the first line read is cut: drop it.
            let mut skip_first = offset > 0;
            let mut reported_missing = false;
            loop {
                let path_clone = path.clone();
                let mut carry = std::mem::take(&mut partial);
                let result = tokio::task::spawn_blocking(move || {
                    let r = read_new(&path_clone, offset, &mut carry);
                    (r, carry)
                })
                .await;
                match result {
                    Ok((Ok((mut lines, new_offset)), carry)) => {
                        partial = carry;
                        offset = new_offset;
                        reported_missing = false;
                        if skip_first && !lines.is_empty() {
                            lines.remove(0);
                            skip_first = false;
                        }
                        if !lines.is_empty() && tx.send(LogEvent::Lines(lines)).await.is_err() {
                            return;
                        }
                    }
                    Ok((Err(e), carry)) => {
                        partial = carry;
                        if e.kind() != std::io::ErrorKind::NotFound || !reported_missing {
                            reported_missing = true;
                            let message = if e.kind() == std::io::ErrorKind::NotFound {
                                format!(
                                    "{} does not exist yet; waiting for the first request",
                                    path.display()
                                )
                            } else {
                                format!("cannot read {}: {e}", path.display())
                            };
                            if tx.send(LogEvent::Error(message)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(_) => return,
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn follows_appended_lines_and_survives_truncation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log.jsonl");
        std::fs::write(&path, "one\ntwo\n").expect("write");
        let (tx, mut rx) = mpsc::channel(16);
        let task = tokio::spawn(FileLogSource::new(&path).follow(tx));
        let mut seen = Vec::new();
        while seen.len() < 2 {
            if let Some(LogEvent::Lines(lines)) = rx.recv().await {
                seen.extend(lines.into_iter().map(|l| l.text));
            }
        }
        assert_eq!(seen, ["one", "two"]);
        std::fs::write(&path, "three\n").expect("truncate and write");
        loop {
            if let Some(LogEvent::Lines(lines)) = rx.recv().await {
                assert_eq!(lines[0].text, "three");
                break;
            }
        }
        drop(rx);
        task.abort();
    }
}
