//! `dvc repro`, its output turned into events: `Running stage 'x':` starts a stage,
//! `Updating lock file` (or the next stage, or the end) finishes it, `Stage 'x' didn't change,
//! skipping` skips it, `ERROR: failed to reproduce 'x': …` fails it.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc::Sender;

use super::{Event, RunRequest, RunSummary, SkipReason, Tracker, process};
use crate::pipeline::Error;

/// What a line of `dvc repro` output means.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Running(String),
    Skipped(String, SkipReason),
    LockWritten,
    Failed(String, String),
    Error(String),
    Other,
}

fn parse(line: &str) -> Line {
    let quoted = |rest: &str| {
        rest.split_once('\'')
            .map(|(name, tail)| (name.to_string(), tail.to_string()))
    };
    if let Some((stage, tail)) = line.strip_prefix("Running stage '").and_then(quoted)
        && tail == ":"
    {
        return Line::Running(stage);
    }
    if let Some((stage, tail)) = line.strip_prefix("Stage '").and_then(quoted) {
        if tail == " didn't change, skipping" {
            return Line::Skipped(stage, SkipReason::Unchanged);
        }
        if tail.starts_with(" is cached - skipping run") {
            return Line::Skipped(stage, SkipReason::RestoredFromRunCache);
        }
    }
    if line == "Updating lock file 'dvc.lock'" || line == "Generating lock file 'dvc.lock'" {
        return Line::LockWritten;
    }
    if let Some((stage, tail)) = line
        .strip_prefix("ERROR: failed to reproduce '")
        .and_then(quoted)
        && let Some(message) = tail.strip_prefix(": ")
    {
        return Line::Failed(stage, message.to_string());
    }
    if let Some(message) = line.strip_prefix("ERROR: ") {
        return Line::Error(message.to_string());
    }
    Line::Other
}

/// Runs `dvc repro [--force] [STAGE]` in the project and streams what it does.
pub fn run(dvc: &Path, request: &RunRequest, events: &Sender<Event>) -> Result<RunSummary, Error> {
    let mut command = Command::new(dvc);
    command.arg("repro");
    if request.force {
        command.arg("--force");
    }
    command.args(&request.stage);
    // Python buffers a piped stdout; unbuffered, each line arrives when it is printed.
    command
        .current_dir(&request.root)
        .env("PYTHONUNBUFFERED", "1")
        .envs(request.env.iter().map(|(k, v)| (k, v)));
    let (mut child, lines) = process::spawn(&mut command)?;
    let mut tracker = Tracker::new(events);
    let mut last_error = None;
    for (stream, text) in lines {
        match parse(&text) {
            Line::Running(stage) => tracker.start(stage),
            Line::Skipped(stage, reason) => tracker.skip(stage, reason),
            Line::LockWritten => tracker.finish(),
            Line::Failed(stage, error) => tracker.fail(Some(stage), error),
            Line::Error(message) => {
                tracker.output(stream, text);
                last_error = Some(message);
            }
            Line::Other if text.trim().is_empty() => {}
            Line::Other => tracker.output(stream, text),
        }
    }
    let status = child.wait().map_err(|source| Error::Spawn {
        program: dvc.display().to_string(),
        source,
    })?;
    if status.success() {
        tracker.finish();
    } else if tracker.summary.failure.is_none() {
        let error = last_error.unwrap_or_else(|| format!("dvc repro failed ({status})"));
        tracker.fail(None, error);
    }
    Ok(tracker.summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dvc_repro_lines_are_recognised() {
        assert_eq!(
            parse("Running stage 'train':"),
            Line::Running("train".into())
        );
        assert_eq!(
            parse("Stage 'each@x' didn't change, skipping"),
            Line::Skipped("each@x".into(), SkipReason::Unchanged)
        );
        assert_eq!(
            parse("Stage 'copy' is cached - skipping run, checking out outputs"),
            Line::Skipped("copy".into(), SkipReason::RestoredFromRunCache)
        );
        assert_eq!(parse("Updating lock file 'dvc.lock'"), Line::LockWritten);
        assert_eq!(parse("Generating lock file 'dvc.lock'"), Line::LockWritten);
        assert_eq!(
            parse("ERROR: failed to reproduce 'copy': failed to run: exit 3, exited with 3"),
            Line::Failed("copy".into(), "failed to run: exit 3, exited with 3".into())
        );
        assert_eq!(
            parse("ERROR: 'dvc.yaml' is invalid."),
            Line::Error("'dvc.yaml' is invalid.".into())
        );
        assert_eq!(parse("> cp a b"), Line::Other);
        assert_eq!(parse("Running stage 'x' now"), Line::Other);
    }
}
