//! Shared by the pipeline tests: temporary git + DVC repositories, and running `amesops`,
//! `dvc` and `git` in them. The tools come from PATH (scripts/test puts its venv there); a
//! missing tool fails the test with what to do, never skips it.

#![allow(dead_code)]

pub mod mlflow;

// The predictor's test support, shared file by file (the console's own servers are in
// `mlflow` here and in `deploy_support`).
#[path = "../../../predictor/tests/support/aws.rs"]
pub mod aws;
#[path = "../../../predictor/tests/support/fixtures.rs"]
pub mod fixtures;
#[path = "../../../predictor/tests/support/router.rs"]
pub mod router;
#[path = "../../../predictor/tests/support/servers.rs"]
pub mod servers;
#[path = "../../../predictor/tests/support/stores.rs"]
pub mod stores;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value as Json;
use servers::find_tool;

/// The `amesops` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_amesops");

/// The workspace root.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `amesops ARGS`, its exit code and its output, for assertion messages.
pub fn describe(args: &[&str], output: &Output) -> String {
    format!(
        "amesops {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A temporary folder that is a git repository (and, after [`Repo::dvc_init`], a DVC one).
pub struct Repo {
    dir: tempfile::TempDir,
}

/// What a command printed and how it ended.
pub struct Ran {
    /// The command, for messages.
    pub describe: String,
    /// Exit code.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Ran {
    fn from(describe: String, output: Output) -> Ran {
        Ran {
            describe,
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Everything, for assertion messages.
    pub fn report(&self) -> String {
        format!(
            "$ {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.describe, self.code, self.stdout, self.stderr
        )
    }

    /// Panics unless the command succeeded.
    pub fn ok(self) -> Ran {
        assert_eq!(self.code, Some(0), "command failed:\n{}", self.report());
        self
    }

    /// Standard output parsed as JSON.
    pub fn json(&self) -> Json {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.report()))
    }
}

impl Repo {
    /// An empty git repository.
    pub fn git() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("a temporary folder"),
        };
        repo.run(&find_tool("git"), &["init", "-q"]).ok();
        repo
    }

    /// A git repository with `dvc init` done, DVC's site cache kept inside it.
    pub fn dvc_init() -> Repo {
        let repo = Repo::git();
        repo.dvc(&["init", "-q"]).ok();
        repo.keep_dvc_state_inside();
        repo
    }

    /// DVC's per-repository state (locks, indexes) stays inside the repository.
    pub fn keep_dvc_state_inside(&self) {
        let site = self.path().join(".dvc/site-cache");
        self.append(
            ".dvc/config.local",
            &format!("[core]\n    site_cache_dir = {}\n", site.display()),
        );
    }

    /// The repository folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file (creating folders).
    pub fn write(&self, path: &str, content: &str) {
        let full = self.path().join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create a folder");
        }
        std::fs::write(&full, content).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }

    /// Appends to a file (creating it).
    pub fn append(&self, path: &str, content: &str) {
        let full = self.path().join(path);
        let old = std::fs::read_to_string(&full).unwrap_or_default();
        self.write(path, &format!("{old}{content}"));
    }

    /// Reads a file.
    pub fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.path().join(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
    }

    /// Replaces text in a file, which must contain it.
    pub fn replace(&self, path: &str, from: &str, to: &str) {
        let text = String::from_utf8(self.read(path)).expect("UTF-8");
        assert!(text.contains(from), "{path} has no {from:?}:\n{text}");
        self.write(path, &text.replacen(from, to, 1));
    }

    /// Removes a file or folder.
    pub fn remove(&self, path: &str) {
        let full = self.path().join(path);
        let result = if full.is_dir() {
            std::fs::remove_dir_all(&full)
        } else {
            std::fs::remove_file(&full)
        };
        result.unwrap_or_else(|e| panic!("remove {path}: {e}"));
    }

    /// A git repository holding this project's pipeline (dvc.yaml, params, data, the stage
    /// script, the DVC remote config), with DVC's state kept inside it.
    pub fn pipeline() -> Repo {
        let repo = Repo::git();
        repo.copy_from_project(&[
            "dvc.yaml",
            "params.yaml",
            "datasets",
            "core-model/src",
            "scripts/amesops",
            ".dvc/config",
        ]);
        repo.keep_dvc_state_inside();
        repo
    }

    /// Copies files and folders of the workspace into the repository.
    pub fn copy_from_project(&self, items: &[&str]) {
        for item in items {
            copy(&project_root().join(item), &self.path().join(item));
        }
    }

    /// Runs a program in the repository.
    pub fn run(&self, program: &Path, args: &[&str]) -> Ran {
        self.run_with(program, args, &[])
    }

    /// Runs a program in the repository with extra environment variables.
    pub fn run_with(&self, program: &Path, args: &[&str], env: &[(&str, &str)]) -> Ran {
        let output = Command::new(program)
            .args(args)
            .current_dir(self.path())
            .stdin(Stdio::null())
            .env("AMESOPS_BIN", BIN)
            .env("DVC_NO_ANALYTICS", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
        Ran::from(format!("{} {}", program.display(), args.join(" ")), output)
    }

    /// `dvc ARGS`.
    pub fn dvc(&self, args: &[&str]) -> Ran {
        self.run(&find_tool("dvc"), args)
    }

    /// `amesops ARGS`.
    pub fn amesops(&self, args: &[&str]) -> Ran {
        self.run(Path::new(BIN), args)
    }

    /// `dvc status --json`, parsed.
    pub fn dvc_status(&self) -> Json {
        self.dvc(&["status", "--json"]).ok().json()
    }

    /// `amesops pipeline status --json`, parsed.
    pub fn amesops_status(&self) -> Json {
        self.amesops(&["pipeline", "status", "--json"]).ok().json()
    }

    /// `amesops pipeline status --json --verbose`, parsed.
    pub fn amesops_verbose(&self) -> Json {
        self.amesops(&["pipeline", "status", "--json", "--verbose"])
            .ok()
            .json()
    }

    /// Asserts that both tools give the same status, and returns it.
    pub fn assert_same_status(&self) -> Json {
        let dvc = self.dvc_status();
        let ours = self.amesops_status();
        assert_eq!(
            ours, dvc,
            "amesops pipeline status --json (left) differs from dvc status --json (right)"
        );
        dvc
    }
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("create a folder");
        for entry in std::fs::read_dir(from).expect("list a folder") {
            let entry = entry.expect("folder entry");
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).expect("create a folder");
        }
        std::fs::copy(from, to)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    }
}
