//! The real console in a real terminal (tmux): first start on the local target trains and
//! serves a model, every view opens, a prediction sent from the form shows up in the
//! Predictions and Logs views, a held-out test house loads with its sale price, and quitting
//! restores the terminal.
//!
//! Needs `tmux`, `dvc` and `git` (scripts/test installs them); without them the test fails.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::servers::find_tool;
use support::{BIN, Repo};

struct Tmux {
    tmux: std::path::PathBuf,
    session: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let output = Command::new(&self.tmux)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.session])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", self.session.as_str()];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn wait_for(&self, text: &str, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited {seconds} s for {text:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(&self.tmux)
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}

#[test]
fn the_console_serves_predicts_lists_logs_and_restores_the_terminal() {
    let repo = Repo::pipeline();
    let tmux = Tmux {
        tmux: find_tool("tmux"),
        session: format!("amesops-test-{}", std::process::id()),
    };
    let command = format!(
        "cd '{}' && AMESOPS_BIN='{BIN}' DVC_NO_ANALYTICS=1 '{BIN}'; echo \"EXIT:$?\"; sleep 60",
        repo.path().display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        &tmux.session,
        "-x",
        "130",
        "-y",
        "40",
        &command,
    ]);

    // First start: the pipeline runs, the model is deployed, the console opens on Pipeline.
    tmux.wait_for("1 Pipeline", 240);
    tmux.wait_for("stages (DAG order)", 30);

    // The Predictions view, loaded before anything is sent: it shows what is sent later
    // without a key pressed in it.
    tmux.keys(&["3"]);
    tmux.wait_for("no predictions stored yet", 30);

    tmux.keys(&["5"]);
    tmux.wait_for("house ·", 30);
    // Neighborhood (select) → CollgCr; OverallQual 7; GrLivArea 1710.
    tmux.keys(&["Right", "Right", "Right", "Right", "Right", "Right"]);
    tmux.keys(&[
        "Down", "Enter", "7", "Enter", "Down", "Enter", "1", "7", "1", "0", "Enter", "s",
    ]);
    let screen = tmux.wait_for("agree: identical to the last bit", 30);
    assert!(screen.contains("endpoint"), "{screen}");
    // Two more: three predictions in all, and the change from the last estimate.
    tmux.keys(&["s"]);
    tmux.wait_for("from the last estimate", 30);
    tmux.keys(&["s"]);
    std::thread::sleep(Duration::from_secs(2));

    tmux.keys(&["3"]);
    let list = tmux.wait_for("3 of 3 records", 30);
    assert!(list.contains("1710"), "{list}");

    // A held-out test house from the split stage's data/test.csv, with its sale price; sent,
    // the result shows the error against it.
    tmux.keys(&["5"]);
    tmux.wait_for("house ·", 10);
    tmux.keys(&["t"]);
    tmux.wait_for("sold for", 30);
    tmux.keys(&["s"]);
    let tested = tmux.wait_for("(error ", 30);
    assert!(tested.contains("actual"), "{tested}");

    tmux.keys(&["2"]);
    let logs = tmux.wait_for("path=/predict", 30);
    assert!(logs.contains("request served"), "{logs}");

    tmux.keys(&["4"]);
    tmux.wait_for("4 Experiments", 10);
    tmux.keys(&["6"]);
    tmux.wait_for("deployment", 30);
    tmux.keys(&["1"]);
    tmux.wait_for("stages (DAG order)", 10);

    tmux.keys(&["q"]);
    let after = tmux.wait_for("EXIT:0", 20);
    assert!(
        !after.contains("1 Pipeline"),
        "the console's screen is gone after quitting:\n{after}"
    );
    let alternate = tmux.run(&[
        "display-message",
        "-p",
        "-t",
        &tmux.session,
        "#{alternate_on}",
    ]);
    assert_eq!(
        alternate.trim(),
        "0",
        "the terminal left the alternate screen"
    );
}
