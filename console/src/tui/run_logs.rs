//! The Pipeline view's run logs on disk (`.amesops/runs/`): each run the console starts is
//! written as it goes, so a restarted console still shows what the last runs printed.
//!
//! One file per run, named by its start time (UTC) so names sort by age; the first line is the
//! run's title, the rest are the lines the run pane showed. Only the newest [`KEPT`] stay.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::action::Mutation;
use super::views::pipeline::{OUTPUT_LINES, RUNS_KEPT};

/// The folder under the state folder.
pub const DIR: &str = "runs";
/// Runs kept on disk and restored at start: as many as the view keeps.
pub const KEPT: usize = RUNS_KEPT;
/// Lines restored per run (the newest): as many as the view keeps of a run.
const LINES: usize = OUTPUT_LINES;

/// One saved run, as the Pipeline view restores it.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedRun {
    /// Its title, with its start time.
    pub title: String,
    /// Its lines, oldest first.
    pub lines: Vec<String>,
}

/// A run's log file being written. Writing is best effort: a full disk costs the saved copy,
/// never the run (the pane still shows every line).
#[derive(Debug)]
pub struct RunFile(Mutex<Option<File>>);

impl RunFile {
    /// Starts the log of a run called `title` in `state_dir/runs`, and removes the oldest logs
    /// beyond [`KEPT`].
    pub fn create(state_dir: &Path, title: &str) -> Self {
        let dir = state_dir.join(DIR);
        let now = time::OffsetDateTime::now_utc();
        let stamp = now
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_default();
        let shown = now
            .format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .unwrap_or_default();
        // Two runs may start within a second: the sequence keeps their names apart and in order.
        static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let sequence = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = std::fs::create_dir_all(&dir).ok().and_then(|()| {
            let name = format!("{stamp}-{}-{sequence:06}.log", std::process::id());
            let mut file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(name))
                .ok()?;
            writeln!(file, "{title} · {shown}").ok()?;
            Some(file)
        });
        prune(&dir, KEPT);
        RunFile(Mutex::new(file))
    }

    /// The log of `mutation` when it runs the pipeline (the runs the Pipeline view keeps).
    pub fn for_mutation(state_dir: &Path, mutation: &Mutation) -> Option<Self> {
        mutation
            .runs_the_pipeline()
            .then(|| Self::create(state_dir, mutation.title()))
    }

    /// Appends a line (flushed at once: the console may be killed mid-run).
    pub fn line(&self, text: &str) {
        let mut guard = match self.0.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(file) = guard.as_mut()
            && writeln!(file, "{text}").is_err()
        {
            *guard = None;
        }
    }
}

fn logs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    files.sort();
    files
}

fn prune(dir: &Path, keep: usize) {
    let files = logs(dir);
    let excess = files.len().saturating_sub(keep);
    for old in &files[..excess] {
        let _ = std::fs::remove_file(old);
    }
}

/// The newest saved runs, oldest first (what the view had before the console restarted).
pub fn recent(state_dir: &Path) -> Vec<SavedRun> {
    let files = logs(&state_dir.join(DIR));
    let first = files.len().saturating_sub(KEPT);
    files[first..]
        .iter()
        .filter_map(|path| {
            let file = File::open(path).ok()?;
            let mut lines = BufReader::new(file).lines().map_while(Result::ok);
            let title = lines.next()?;
            let mut kept: std::collections::VecDeque<String> = std::collections::VecDeque::new();
            for line in lines {
                kept.push_back(line);
                if kept.len() > LINES {
                    kept.pop_front();
                }
            }
            Some(SavedRun {
                title,
                lines: kept.into(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_saved_as_they_go_restored_oldest_first_and_pruned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = RunFile::create(dir.path(), "pipeline run");
        first.line("▶ train");
        first.line("✓ train (1.0 s)");
        let saved = recent(dir.path());
        assert_eq!(saved.len(), 1);
        assert!(saved[0].title.starts_with("pipeline run · "), "{saved:?}");
        assert_eq!(saved[0].lines, vec!["▶ train", "✓ train (1.0 s)"]);
        // Names sort by age: older files (earlier stamps) are pruned first.
        let runs = dir.path().join(DIR);
        for i in 0..KEPT + 3 {
            std::fs::write(runs.join(format!("2000010{i:02}T000000Z-1.log")), "old\n")
                .expect("write");
        }
        let newest = RunFile::create(dir.path(), "retrain");
        newest.line("run finished");
        let saved = recent(dir.path());
        assert_eq!(saved.len(), KEPT);
        assert_eq!(logs(&runs).len(), KEPT);
        let last = saved.last().expect("newest");
        assert!(last.title.starts_with("retrain"), "{saved:?}");
        assert_eq!(last.lines, vec!["run finished"]);
    }

    #[test]
    fn no_folder_means_no_saved_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(recent(&dir.path().join("missing")).is_empty());
    }
}
