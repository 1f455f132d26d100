//! `dvc push` / `dvc pull`: moving the cached data and models to and from the remote, and
//! reading dvc's summary (`5 files pushed`, `5 files fetched and 4 files added`) to report
//! what moved.

use std::path::Path;
use std::process::Command;

use super::runner::Stream;
use super::{Error, tool};

/// Which way data moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Cache → remote.
    Push,
    /// Remote → cache → workspace.
    Pull,
}

impl Direction {
    /// The dvc subcommand.
    pub fn command(self) -> &'static str {
        match self {
            Direction::Push => "push",
            Direction::Pull => "pull",
        }
    }
}

/// What a transfer did, from dvc's output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransferReport {
    /// `(5, "pushed")`, `(5, "fetched")`, `(4, "added")`…; empty when everything was up to date.
    pub counts: Vec<(u64, String)>,
    /// Workspace paths a pull changed: `('A', "data/")`, `('M', …)`, `('D', …)`.
    pub changes: Vec<(char, String)>,
}

/// Runs `dvc push|pull [-r REMOTE]` in the project; every output line goes to `on_line`.
pub fn transfer(
    root: &Path,
    direction: Direction,
    remote: Option<&str>,
    on_line: &mut dyn FnMut(Stream, &str),
) -> Result<TransferReport, Error> {
    let dvc = tool::find_dvc().ok_or(Error::DvcMissing)?;
    let mut command = Command::new(&dvc);
    command.arg(direction.command());
    if let Some(remote) = remote {
        command.args(["--remote", remote]);
    }
    command.current_dir(root).env("PYTHONUNBUFFERED", "1");
    let (mut child, lines) = super::runner::spawn_process(&mut command)?;
    let mut report = TransferReport::default();
    let mut errors = Vec::new();
    for (stream, text) in lines {
        on_line(stream, &text);
        if let Some(counts) = parse_summary(&text) {
            report.counts = counts;
        } else if let Some(change) = parse_change(&text) {
            report.changes.push(change);
        } else if let Some(message) = text.strip_prefix("ERROR: ") {
            errors.push(message.to_string());
        }
    }
    let status = child.wait().map_err(|source| Error::Spawn {
        program: dvc.display().to_string(),
        source,
    })?;
    if status.success() {
        Ok(report)
    } else {
        Err(Error::Dvc {
            command: format!("dvc {}", direction.command()),
            message: if errors.is_empty() {
                format!("exited with {status}")
            } else {
                errors.join("; ")
            },
        })
    }
}

/// `5 files fetched, 2 files added and 1 file deleted` → counts; None for any other line.
pub fn parse_summary(line: &str) -> Option<Vec<(u64, String)>> {
    let mut counts = Vec::new();
    let (head, last) = match line.rsplit_once(" and ") {
        Some((head, last)) => (head, Some(last)),
        None => (line, None),
    };
    for part in head.split(", ").chain(last) {
        let mut words = part.splitn(3, ' ');
        let number = words.next()?.parse::<u64>().ok()?;
        let noun = words.next()?;
        if !(noun == "file" || noun == "files") {
            return None;
        }
        let state = words.next()?;
        if state.is_empty() || !state.chars().all(|c| c.is_ascii_lowercase() || c == ' ') {
            return None;
        }
        counts.push((number, state.to_string()));
    }
    Some(counts)
}

/// `A       data/` (dvc separates the flag with a tab, or spaces once rendered) → ('A', "data/").
fn parse_change(line: &str) -> Option<(char, String)> {
    let (flag, path) = line.split_once(char::is_whitespace)?;
    let flag = match flag {
        "A" => 'A',
        "M" => 'M',
        "D" => 'D',
        _ => return None,
    };
    let path = path.trim();
    (!path.is_empty()).then(|| (flag, path.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dvc_summaries_are_parsed() {
        assert_eq!(
            parse_summary("5 files pushed"),
            Some(vec![(5, "pushed".to_string())])
        );
        assert_eq!(
            parse_summary("1 file fetched"),
            Some(vec![(1, "fetched".to_string())])
        );
        assert_eq!(
            parse_summary("5 files fetched and 4 files added"),
            Some(vec![(5, "fetched".to_string()), (4, "added".to_string())])
        );
        assert_eq!(
            parse_summary("3 files fetched, 2 files added and 1 file deleted"),
            Some(vec![
                (3, "fetched".to_string()),
                (2, "added".to_string()),
                (1, "deleted".to_string())
            ])
        );
        assert_eq!(parse_summary("Everything is up to date."), None);
        assert_eq!(parse_summary("2 stages changed"), None);
        assert_eq!(parse_change("A\tdata/"), Some(('A', "data/".to_string())));
        assert_eq!(
            parse_change("M       models/model.json"),
            Some(('M', "models/model.json".to_string()))
        );
        assert_eq!(parse_change("no tab here"), None);
    }
}
