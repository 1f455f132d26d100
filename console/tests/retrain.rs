//! `amesops retrain` on the local target: the gate deploys better models, refuses worse ones
//! with a distinct exit code (unless overridden), does nothing when nothing changed; the
//! scheduler runs repeatedly, refuses to overlap, and stops cleanly on SIGTERM.
//!
//! Needs `dvc` and `git` on PATH (scripts/test provides them); without them the tests fail.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;
use support::{BIN, Repo};

fn set_alpha(repo: &Repo, alpha: &str) {
    let text = String::from_utf8(repo.read("params.yaml")).expect("UTF-8");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("alpha:"))
        .expect("params.yaml has train.alpha")
        .to_string();
    repo.replace("params.yaml", &line, &format!("  alpha: {alpha}"));
}

fn deployments(repo: &Repo) -> Json {
    serde_json::from_slice(&repo.read(".amesops/deployments/deploy.json"))
        .expect("deploy.json is JSON")
}

fn live_model(repo: &Repo) -> String {
    let record = deployments(repo);
    let live = record["live"].as_u64().expect("a live version");
    record["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["version"].as_u64() == Some(live))
        .expect("live version listed")["model_id"]
        .as_str()
        .expect("model id")
        .to_string()
}

fn retrain(repo: &Repo, extra: &[&str]) -> (Option<i32>, Json, String) {
    let mut args = vec!["retrain", "--yes", "--json"];
    args.extend_from_slice(extra);
    let ran = repo.amesops(&args);
    let json = serde_json::from_str(ran.stdout.trim())
        .unwrap_or_else(|e| panic!("report is not JSON ({e}):\n{}", ran.report()));
    (ran.code, json, ran.report())
}

#[test]
fn the_gate_deploys_better_refuses_worse_honours_the_override_and_skips_unchanged() {
    let repo = Repo::pipeline();
    set_alpha(&repo, "0.005");
    let (code, first, report) = retrain(&repo, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(first["decision"], "deployed", "{report}");
    // The report names every stage up to package, with the time of those that ran.
    let stages = first["stages"].as_array().expect("stages in the report");
    let train = stages
        .iter()
        .find(|s| s["stage"] == "train")
        .expect("train is reported");
    assert_eq!(train["result"], "ran", "{report}");
    assert!(train["seconds"].as_f64().is_some(), "{report}");
    assert!(first["pipeline_seconds"].as_f64().is_some(), "{report}");
    assert!(first["deploy_seconds"].as_f64().is_some(), "{report}");
    assert_eq!(
        deployments(&repo)["versions"].as_array().map(Vec::len),
        Some(1)
    );

    set_alpha(&repo, "0.0005");
    let (code, better, report) = retrain(&repo, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(better["decision"], "deployed", "{report}");
    assert!(
        better["candidate_rmse_log"].as_f64()
            <= better["production_rmse_log"].as_f64().map(|p| p + 0.002),
        "{report}"
    );
    let production = live_model(&repo);
    assert_eq!(
        better["candidate_model"].as_str(),
        Some(production.as_str())
    );

    set_alpha(&repo, "0.05");
    let (code, worse, report) = retrain(&repo, &[]);
    assert_eq!(code, Some(3), "a worse model exits with code 3:\n{report}");
    assert_eq!(worse["decision"], "refused_worse", "{report}");
    assert_eq!(
        live_model(&repo),
        production,
        "production must be unchanged after a refusal"
    );
    let ran = repo.amesops(&["retrain", "--yes"]);
    assert!(
        ran.stdout.contains("tolerance"),
        "the refusal explains the metrics and tolerance:\n{}",
        ran.report()
    );

    let (code, overridden, report) = retrain(&repo, &["--allow-worse"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(overridden["decision"], "deployed", "{report}");
    assert_ne!(live_model(&repo), production);
    let versions = deployments(&repo)["versions"].as_array().map(Vec::len);

    let (code, unchanged, report) = retrain(&repo, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(unchanged["decision"], "nothing_changed", "{report}");
    let stages = unchanged["stages"]
        .as_array()
        .expect("stages in the report");
    assert!(
        !stages.is_empty() && stages.iter().all(|s| s["result"] == "skipped"),
        "nothing is retrained: {report}"
    );
    let text = repo.amesops(&["retrain", "--yes"]);
    for line in [
        "stages    ran: none · up to date: ",
        "RMSE(log)",
        "time      pipeline",
        "decision  nothing changed",
    ] {
        assert!(
            text.stdout.contains(line),
            "no {line:?} in the report:\n{}",
            text.report()
        );
    }
    assert_eq!(
        deployments(&repo)["versions"].as_array().map(Vec::len),
        versions,
        "nothing new is published"
    );
}

fn spawn_scheduler(dir: &Path, every: &str) -> std::process::Child {
    Command::new(BIN)
        .args(["retrain", "--yes", "--every", every])
        .current_dir(dir)
        .env("AMESOPS_BIN", BIN)
        .env("DVC_NO_ANALYTICS", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the scheduler starts")
}

/// Waits until the scheduler holds its lock, and returns the lock file's holder line.
fn wait_for_scheduler(dir: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let holder =
            std::fs::read_to_string(dir.join(".amesops/scheduler.lock")).unwrap_or_default();
        if holder.contains("\"pid\"") {
            return holder;
        }
        assert!(
            Instant::now() < deadline,
            "the scheduler never took its lock"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn terminate(child: &std::process::Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[test]
fn the_scheduler_runs_repeatedly_refuses_a_second_scheduler_and_stops_on_sigterm() {
    let repo = Repo::pipeline();
    let ran = repo
        .amesops(&["retrain", "--yes", "--every", "1s", "--max-runs", "2"])
        .ok();
    assert_eq!(
        ran.stderr.matches("\"event\":\"run_started\"").count(),
        2,
        "{}",
        ran.report()
    );
    assert!(
        ran.stderr.contains("\"event\":\"scheduler_stopped\""),
        "{}",
        ran.report()
    );

    // A cron expression (six fields here: seconds first) waits for its times, then runs.
    let ran = repo
        .amesops(&[
            "retrain",
            "--yes",
            "--every",
            "*/2 * * * * *",
            "--max-runs",
            "2",
        ])
        .ok();
    assert_eq!(
        ran.stderr.matches("\"event\":\"run_started\"").count(),
        2,
        "{}",
        ran.report()
    );
    assert_eq!(
        ran.stderr.matches("\"event\":\"next_run\"").count(),
        2,
        "each run waits for the schedule:\n{}",
        ran.report()
    );
    assert!(
        ran.stderr.contains("\"cron\":\"*/2 * * * * *\""),
        "{}",
        ran.report()
    );

    let mut scheduler = spawn_scheduler(repo.path(), "1h");
    let holder = wait_for_scheduler(repo.path());
    assert!(
        holder.contains(&format!("\"pid\":{}", scheduler.id())),
        "the lock names its holder: {holder}"
    );
    let second = repo.amesops(&["retrain", "--yes", "--every", "1h"]);
    assert_eq!(
        second.code,
        Some(4),
        "a second scheduler must refuse while the first runs:\n{}",
        second.report()
    );
    assert!(
        second.stderr.contains("another scheduler is running")
            && second.stderr.contains(&format!("pid {}", scheduler.id()))
            && second.stderr.contains("retrain --yes --every 1h"),
        "the refusal names the holder (pid, command): {}",
        second.report()
    );

    // SIGTERM while the first run may still be going: it finishes its step and exits cleanly.
    terminate(&scheduler);
    let status = scheduler.wait().expect("the scheduler exits");
    let mut log = String::new();
    scheduler
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .expect("read the log");
    assert!(status.success(), "scheduler exit {status:?}\n{log}");
    assert!(log.contains("\"event\":\"stop_requested\""), "{log}");
    assert!(log.contains("\"event\":\"scheduler_stopped\""), "{log}");
    assert_eq!(
        std::fs::read_to_string(repo.path().join(".amesops/scheduler.lock")).unwrap_or_default(),
        "",
        "the lock is released and names no holder"
    );
    // Whatever was live is complete: the live version's artifact exists and loads.
    let record = deployments(&repo);
    let live = record["live"].as_u64().expect("a live version");
    let artifact = repo.read(&format!(".amesops/deployments/v{live}/model.json"));
    assert!(core_model::Artifact::from_bytes(&artifact).is_ok());
}

#[test]
fn schedule_install_prints_a_systemd_timer_and_a_crontab_line() {
    let repo = Repo::pipeline();
    let ran = repo.amesops(&["schedule", "install", "--every", "6h"]).ok();
    assert!(
        ran.stdout.contains("OnUnitActiveSec=21600s"),
        "{}",
        ran.report()
    );
    assert!(ran.stdout.contains("retrain --yes"), "{}", ran.report());
    assert!(ran.stdout.contains("0 */6 * * *"), "{}", ran.report());
    // systemd stops a run by SIGTERM to the scheduler only, and waits for it to finish.
    for setting in [
        "KillMode=mixed",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=30min",
    ] {
        assert!(ran.stdout.contains(setting), "{setting}: {}", ran.report());
    }

    // cron cannot run every 45 minutes: no crontab line, the reason, the systemd timer.
    let ran = repo
        .amesops(&["schedule", "install", "--every", "45m"])
        .ok();
    assert!(
        ran.stdout.contains("OnUnitActiveSec=2700s"),
        "{}",
        ran.report()
    );
    assert!(
        !ran.stdout.contains(" retrain --yes >>"),
        "{}",
        ran.report()
    );
    assert!(
        ran.stdout
            .contains("# no crontab line: cron cannot run every 45m"),
        "{}",
        ran.report()
    );

    // A cron expression: the service runs the scheduler itself; crontab takes it verbatim.
    let ran = repo
        .amesops(&["schedule", "install", "--every", "0 3 * * 1-5"])
        .ok();
    assert!(
        ran.stdout
            .contains("retrain --yes --every \"0 3 * * 1-5\"\nKillMode=mixed")
            && ran.stdout.contains("Restart=on-failure"),
        "{}",
        ran.report()
    );
    assert!(!ran.stdout.contains("[Timer]"), "{}", ran.report());
    assert!(ran.stdout.contains("\n0 3 * * 1-5 cd "), "{}", ran.report());
}
