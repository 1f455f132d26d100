//! `amesops pipeline run`: through `dvc repro` it streams one started/finished line per stage
//! and leaves nothing to do; without DVC it runs only the changed stages itself and says the
//! run is not recorded; a failing stage stops the run with a non-zero exit.
//!
//! Needs `dvc` and `git` on PATH (scripts/test provides them); without them the tests fail.

mod support;

use std::path::Path;

use serde_json::json;
use support::Repo;

const STAGES: [&str; 6] = ["fetch", "split", "train", "evaluate", "package", "deploy"];

/// Each stage of `stages` started and finished, in this order, in `stdout`.
fn assert_ran_in_order(stdout: &str, stages: &[&str]) {
    let mut from = 0;
    for stage in stages {
        for event in ["started", "finished in"] {
            let line = format!("[{stage}] {event}");
            let at = stdout[from..]
                .find(&line)
                .unwrap_or_else(|| panic!("no `{line}` (in order) in:\n{stdout}"));
            from += at + line.len();
        }
    }
}

#[test]
fn the_project_pipeline_runs_through_dvc_and_leaves_nothing_to_do() {
    let repo = Repo::pipeline();

    // The run would deploy: with no terminal to confirm on it needs --yes, and runs nothing.
    let refused = repo.amesops(&["pipeline", "run"]);
    assert_eq!(refused.code, Some(1), "{}", refused.report());
    assert!(refused.stderr.contains("--yes"), "{}", refused.report());
    assert!(!refused.stdout.contains("started"), "{}", refused.report());

    let run = repo.amesops(&["pipeline", "run", "--yes"]).ok();
    assert_ran_in_order(&run.stdout, &STAGES);
    assert!(run.stdout.contains("ran 6 stage(s)"), "{}", run.report());
    assert!(!run.stderr.contains("not DVC-locked"), "{}", run.report());
    assert_eq!(repo.dvc_status(), json!({}), "dvc status after the run");
    assert_eq!(repo.amesops_status(), json!({}));

    // Nothing left to deploy: no confirmation needed.
    let again = repo.amesops(&["pipeline", "run"]).ok();
    for stage in STAGES {
        assert!(
            again
                .stdout
                .contains(&format!("[{stage}] skipped: unchanged")),
            "{}",
            again.report()
        );
    }
}

/// Two chained file stages and a directory stage, reproduced by dvc.
fn small_pipeline() -> Repo {
    let repo = Repo::dvc_init();
    repo.write("a.txt", "hello\n");
    repo.write("src/x", "x\n");
    repo.write(
        "dvc.yaml",
        "stages:\n  copy:\n    cmd: cp a.txt b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n  \
         dir:\n    cmd: mkdir -p d && cp -r src/* d/\n    deps: [src]\n    outs: [d]\n  \
         after:\n    cmd: cat b.txt d/x > c.txt\n    deps: [b.txt, d]\n    outs: [c.txt]\n",
    );
    repo.dvc(&["repro", "-q"]).ok();
    repo
}

#[test]
fn without_dvc_only_the_changed_stages_run_and_are_recorded_as_dvc_would() {
    let repo = small_pipeline();
    repo.append("a.txt", "more\n");
    let run = repo.amesops(&["pipeline", "run", "--without-dvc"]).ok();
    assert_ran_in_order(&run.stdout, &["copy", "after"]);
    assert!(
        run.stdout.contains("[dir] skipped: unchanged"),
        "{}",
        run.report()
    );
    assert_eq!(repo.read("c.txt"), b"hello\nmore\nx\n");
    assert!(
        run.stderr.contains("pip install \"dvc[s3]==3.67.1\""),
        "{}",
        run.report()
    );
    // Recorded in dvc.lock and the cache: dvc agrees nothing is left to do.
    assert_eq!(repo.assert_same_status(), serde_json::json!({}));

    // A directory output too: its files and its .dir listing go to the cache.
    repo.append("src/x", "y\n");
    let run = repo.amesops(&["pipeline", "run", "--without-dvc"]).ok();
    assert_ran_in_order(&run.stdout, &["dir", "after"]);
    assert_eq!(repo.assert_same_status(), serde_json::json!({}));
    let repro = repo.dvc(&["repro"]).ok();
    assert!(
        !repro.stdout.contains("Running stage"),
        "dvc repro finds nothing to run:\n{}",
        repro.report()
    );

    // dvc restores every cached output from what the native run stored.
    for output in ["b.txt", "c.txt", "d"] {
        repo.remove(output);
    }
    repo.dvc(&["checkout"]).ok();
    assert_eq!(repo.read("b.txt"), b"hello\nmore\n");
    assert_eq!(repo.read("d/x"), b"x\ny\n");
    assert_eq!(repo.read("c.txt"), b"hello\nmore\nx\ny\n");
    assert_eq!(repo.assert_same_status(), serde_json::json!({}));
}

#[test]
fn with_no_dvc_on_path_the_commands_run_directly() {
    let repo = small_pipeline();
    repo.remove("b.txt");
    let path: Vec<_> = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .filter(|dir| !dir.join("dvc").exists())
        .collect();
    let path = std::env::join_paths(path).expect("a PATH");
    let run = repo
        .run_with(
            Path::new(support::BIN),
            &["pipeline", "run", "copy"],
            &[("PATH", path.to_str().expect("UTF-8 PATH"))],
        )
        .ok();
    assert_ran_in_order(&run.stdout, &["copy"]);
    assert!(
        !run.stdout.contains("[after]"),
        "only copy and its upstream: {}",
        run.report()
    );
    assert!(run.stderr.contains("dvc[s3]==3.67.1"), "{}", run.report());
    assert_eq!(repo.read("b.txt"), b"hello\n");
}

#[test]
fn a_failing_stage_stops_the_run_with_a_non_zero_exit() {
    let repo = small_pipeline();
    repo.replace("dvc.yaml", "cp a.txt b.txt", "echo broken >&2; exit 3");
    for args in [
        &["pipeline", "run"][..],
        &["pipeline", "run", "--without-dvc"][..],
    ] {
        let run = repo.amesops(args);
        assert_eq!(run.code, Some(1), "{}", run.report());
        assert!(
            run.stdout.contains("[copy] FAILED after"),
            "{}",
            run.report()
        );
        assert!(run.stderr.contains("broken"), "{}", run.report());
        assert!(
            run.stderr.contains("pipeline failed in stage copy"),
            "{}",
            run.report()
        );
        assert!(!run.stdout.contains("[after] started"), "{}", run.report());
    }
}

#[test]
fn an_unknown_stage_is_refused_with_the_known_names() {
    let repo = small_pipeline();
    let run = repo.amesops(&["pipeline", "run", "nope"]);
    assert_eq!(run.code, Some(1), "{}", run.report());
    assert!(run.stderr.contains("no stage 'nope'"), "{}", run.report());
    assert!(run.stderr.contains("copy, dir, after"), "{}", run.report());
}

#[test]
fn read_only_mode_refuses_runs_but_shows_status() {
    let repo = small_pipeline();
    repo.append("a.txt", "more\n");
    let run = repo.amesops(&["--read-only", "pipeline", "run"]);
    assert_eq!(run.code, Some(1), "{}", run.report());
    assert!(run.stderr.contains("read-only"), "{}", run.report());
    assert_eq!(repo.read("b.txt"), b"hello\n", "nothing ran");
    let status = repo
        .amesops(&["--read-only", "pipeline", "status", "--json"])
        .ok();
    assert!(status.stdout.contains("\"copy\""), "{}", status.report());
}
