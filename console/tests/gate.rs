//! Nothing reaches production unchecked, on the local target: a worse model offered through
//! every path (CLI deploy, retrain, the real `dvc repro`, `pipeline run`, the console's `R`,
//! `r` and `d`) is refused and `live` is unchanged; production that cannot be read refuses
//! without `--allow-unverified`; a rollback sticks; one run at a time (two retrains and the
//! console's `R` started together: exactly one runs, the others name the holder); parallel
//! deploys queue and get distinct versions.
//!
//! The console is driven through its own App and Runtime (keys in, the operations' questions
//! answered through the dialog). Needs `dvc` and `git` on PATH (scripts/test provides them).

#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::Duration;

use console::backend::deployer::Deployer;
use console::backend::deployer::local::LocalDeployer;
use console::backend::endpoint::Endpoint;
use console::backend::logs::FileLogSource;
use console::backend::store::LocalObjectStore;
use console::operations::Context;
use console::project::Project;
use console::tui::action::{Command, Loaded};
use console::tui::app::{App, Header};
use console::tui::runtime::{Backends, Runtime};
use console::tui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use serde_json::Value as Json;
use support::{BIN, Repo};
use tokio::sync::mpsc;

fn set_alpha(repo: &Repo, alpha: &str) {
    let text = String::from_utf8(repo.read("params.yaml")).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("alpha:"))
        .unwrap()
        .to_string();
    repo.replace("params.yaml", &line, &format!("  alpha: {alpha}"));
}

fn record(repo: &Repo) -> Json {
    serde_json::from_slice(&repo.read(".amesops/deployments/deploy.json")).unwrap()
}

/// (live version, its model id).
fn live(repo: &Repo) -> (u64, String) {
    let record = record(repo);
    let version = record["live"].as_u64().expect("a live version");
    let model = record["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"].as_u64() == Some(version))
        .unwrap()["model_id"]
        .as_str()
        .unwrap()
        .to_string();
    (version, model)
}

fn candidate_id(repo: &Repo) -> String {
    core_model::artifact::model_id(&repo.read("models/model.json"))
}

fn retrain_json(repo: &Repo, extra: &[&str]) -> (Option<i32>, Json, String) {
    let mut args = vec!["retrain", "--yes", "--json"];
    args.extend_from_slice(extra);
    let ran = repo.amesops(&args);
    let json = serde_json::from_str(ran.stdout.trim()).unwrap_or(Json::Null);
    (ran.code, json, ran.report())
}

/// The console on a repository, driven as a user would, with what it showed.
struct Console {
    app: App,
    runtime: Runtime,
    rx: mpsc::UnboundedReceiver<Loaded>,
    /// Questions the operations asked (each opened the dialog).
    asked: Vec<String>,
    /// Lines of the Pipeline view's run pane and the toasts.
    seen: Vec<String>,
}

impl Console {
    fn open(root: &Path) -> Console {
        Console::serving(root, None, String::new())
    }

    /// The console as it runs locally: `state` is its in-process server, at `url`.
    fn serving(root: &Path, state: Option<predictor::AppState>, url: String) -> Console {
        let deployer: Arc<dyn Deployer> = Arc::new(
            LocalDeployer::new(root.join(".amesops/deployments"), state, url)
                .with_project_record(root.join("deploy.json")),
        );
        let mut operations = Context::local(root.to_path_buf(), deployer.clone());
        operations.command = "amesops (console)".to_string();
        operations.child_env = vec![
            ("AMESOPS_BIN".to_string(), BIN.to_string()),
            ("DVC_NO_ANALYTICS".to_string(), "1".to_string()),
        ];
        let backends = Backends {
            store: Arc::new(LocalObjectStore::new(root.join(".amesops"))),
            logs: Arc::new(FileLogSource::new(
                root.join(".amesops/logs/predictor.jsonl"),
            )),
            deployer,
            project: Arc::new(Project::at(
                root.to_path_buf(),
                Some(root.join(".amesops/tracking.db").display().to_string()),
                None,
            )),
            candidate: root.join("models/model.json"),
            package: root.join("dist/predictor.zip"),
            endpoint: Endpoint::plain().unwrap(),
            operations,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let header = Header {
            target: "local".to_string(),
            endpoint: "local predictor".to_string(),
            model_id: None,
            served: None,
        };
        Console {
            app: App::new(header, false, Theme { color: false }),
            runtime: Runtime::new(backends, tx),
            rx,
            asked: Vec::new(),
            seen: Vec::new(),
        }
    }

    fn press(&mut self, code: KeyCode) {
        for command in self
            .app
            .on_key(KeyEvent::from(code), std::time::Instant::now())
        {
            self.runtime.execute(command);
        }
    }

    /// Handles results until a mutation ends (`Mutated` or `Retrained`); every question is
    /// answered with `answer` through the dialog (Tab to Confirm, type what it asks, Enter).
    async fn finish(&mut self, answer: bool) -> Loaded {
        loop {
            let loaded = tokio::time::timeout(Duration::from_secs(900), self.rx.recv())
                .await
                .expect("the console's operation ends within 15 minutes")
                .expect("the runtime keeps going");
            let ended = matches!(loaded, Loaded::Mutated(_) | Loaded::Retrained(_));
            if let Loaded::Confirm { question, .. } = &loaded {
                self.asked.push(question.action.clone());
            }
            if let Loaded::PipelineRun(console::tui::views::pipeline::RunEvent::Output(line)) =
                &loaded
            {
                self.seen.push(line.clone());
            }
            let confirm = matches!(loaded, Loaded::Confirm { .. });
            let typed = match &loaded {
                Loaded::Confirm { question, .. } => question.typed.clone(),
                _ => None,
            };
            let kept = loaded.clone();
            for command in self.app.on_loaded(loaded, std::time::Instant::now()) {
                // Views reload after a mutation; only the mutation's own work matters here.
                if matches!(command, Command::Answer { .. } | Command::Mutate(_)) {
                    self.runtime.execute(command);
                }
            }
            if confirm {
                if answer {
                    self.press(KeyCode::Tab);
                    for c in typed.unwrap_or_default().chars() {
                        self.press(KeyCode::Char(c));
                    }
                }
                self.press(KeyCode::Enter);
            }
            if ended {
                self.seen
                    .extend(self.app.toasts.iter().map(|t| t.message.clone()));
                return kept;
            }
        }
    }
}

fn refused(loaded: &Loaded) -> String {
    match loaded {
        Loaded::Mutated(Err(message)) => message.clone(),
        Loaded::Retrained(Ok(outcome)) if outcome.decision.is_refusal() => outcome.summary(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worse_model_is_refused_on_every_path_to_production() {
    let repo = Repo::pipeline();
    set_alpha(&repo, "0.0005");
    let (code, first, report) = retrain_json(&repo, &[]);
    assert_eq!(
        (code, first["decision"].as_str()),
        (Some(0), Some("deployed")),
        "{report}"
    );
    let production = live(&repo);

    // A much worse model, packaged: models/ and dist/ hold it, ready to ship.
    set_alpha(&repo, "0.05");
    repo.amesops(&["pipeline", "run", "package"]).ok();
    let worse = candidate_id(&repo);
    assert_ne!(worse, production.1);

    let deploy = repo.amesops(&["deploy", "--yes"]);
    assert_eq!(deploy.code, Some(3), "CLI deploy: {}", deploy.report());
    assert!(
        deploy.stderr.contains("refused: the candidate is worse")
            && deploy.stderr.contains("--allow-worse"),
        "{}",
        deploy.report()
    );
    assert_eq!(live(&repo), production, "CLI deploy");

    let (code, json, report) = retrain_json(&repo, &[]);
    assert_eq!(code, Some(3), "retrain: {report}");
    assert_eq!(json["decision"], "refused_worse", "{report}");
    assert_eq!(live(&repo), production, "retrain");

    let repro = repo.dvc(&["repro"]);
    assert_ne!(repro.code, Some(0), "dvc repro: {}", repro.report());
    assert!(
        format!("{}{}", repro.stdout, repro.stderr).contains("refused"),
        "the deploy stage says why: {}",
        repro.report()
    );
    assert_eq!(live(&repo), production, "dvc repro");

    let run = repo.amesops(&["pipeline", "run", "--yes"]);
    assert_eq!(run.code, Some(1), "pipeline run: {}", run.report());
    assert!(
        run.stderr.contains("pipeline failed in stage deploy"),
        "{}",
        run.report()
    );
    assert_eq!(live(&repo), production, "pipeline run");

    // The console: R refuses without asking; p (run the pipeline) asks (it deploys), and its
    // deploy stage refuses; d refuses without asking.
    let mut console = Console::open(repo.path());
    console.press(KeyCode::Char('R'));
    let outcome = console.finish(true).await;
    assert!(refused(&outcome).contains("worse"), "{outcome:?}");
    assert!(console.asked.is_empty(), "R asked {:?}", console.asked);
    assert_eq!(live(&repo), production, "console R");

    console.press(KeyCode::Char('1'));
    console.press(KeyCode::Char('p'));
    let outcome = console.finish(true).await;
    assert!(
        refused(&outcome).contains("pipeline failed in stage deploy"),
        "{outcome:?}"
    );
    assert_eq!(console.asked.len(), 1, "p asks once: {:?}", console.asked);
    assert!(console.asked[0].contains("'deploy'"), "{:?}", console.asked);
    assert!(
        console.seen.iter().any(|l| l.contains("refused")),
        "{:?}",
        console.seen
    );
    assert_eq!(live(&repo), production, "console p");

    console.press(KeyCode::Char('6'));
    console.press(KeyCode::Char('d'));
    let outcome = console.finish(true).await;
    assert!(refused(&outcome).contains("worse"), "{outcome:?}");
    assert_eq!(
        console.asked.len(),
        1,
        "d asked nothing: {:?}",
        console.asked
    );
    assert_eq!(live(&repo), production, "console d");

    // Only the explicit override ships it.
    let forced = repo.amesops(&["deploy", "--yes", "--allow-worse"]).ok();
    assert!(forced.stderr.contains("overridden"), "{}", forced.report());
    assert_eq!(live(&repo).1, worse);
}

#[test]
fn unreadable_production_refuses_without_allow_unverified() {
    let repo = Repo::pipeline();
    let (code, _, report) = retrain_json(&repo, &[]);
    assert_eq!(code, Some(0), "{report}");
    let (version, _) = live(&repo);
    repo.remove(&format!(".amesops/deployments/v{version}/model.json"));

    set_alpha(&repo, "0.0005");
    let (code, json, report) = retrain_json(&repo, &[]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(json["decision"], "refused_unverified", "{report}");
    assert!(
        json["reason"].as_str().unwrap().contains("removed"),
        "{report}"
    );
    let deploy = repo.amesops(&["deploy", "--yes"]);
    assert_eq!(deploy.code, Some(3), "{}", deploy.report());
    assert!(
        deploy.stderr.contains("cannot be read") && deploy.stderr.contains("--allow-unverified"),
        "{}",
        deploy.report()
    );
    assert_eq!(
        record(&repo)["live"].as_u64(),
        Some(version),
        "live unchanged"
    );

    repo.amesops(&["deploy", "--yes", "--allow-unverified"])
        .ok();
    assert_eq!(live(&repo).1, candidate_id(&repo));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rollback_sticks_until_the_pipeline_makes_another_model() {
    let repo = Repo::pipeline();
    set_alpha(&repo, "0.005");
    assert_eq!(retrain_json(&repo, &[]).0, Some(0));
    let first = live(&repo);
    set_alpha(&repo, "0.0005");
    assert_eq!(retrain_json(&repo, &[]).0, Some(0));
    let second = live(&repo);
    assert_ne!(first, second);

    let back = repo.amesops(&["rollback", "--yes"]).ok();
    assert!(back.stdout.contains("rolled back"), "{}", back.report());
    assert!(
        back.stderr
            .contains(&format!("model {} stays out of production", second.1)),
        "{}",
        back.report()
    );
    assert_eq!(live(&repo), first);

    // Nothing changed: the schedule's retrain does not bring the rolled-back model back.
    let (code, json, report) = retrain_json(&repo, &[]);
    assert_eq!(code, Some(3), "{report}");
    assert_eq!(json["decision"], "refused_rolled_back", "{report}");
    assert_eq!(live(&repo), first);
    let repro = repo.dvc(&["repro"]);
    assert_ne!(repro.code, Some(0), "{}", repro.report());
    assert_eq!(live(&repo), first, "dvc repro");
    let mut console = Console::open(repo.path());
    console.press(KeyCode::Char('R'));
    let outcome = console.finish(true).await;
    assert!(refused(&outcome).contains("rolled back"), "{outcome:?}");
    assert_eq!(live(&repo), first, "console R");

    // The parameters change: a new model, which the gate judges as any other.
    set_alpha(&repo, "0.001");
    let (code, json, report) = retrain_json(&repo, &[]);
    assert_eq!(
        (code, json["decision"].as_str()),
        (Some(0), Some("deployed")),
        "{report}"
    );
    assert_eq!(live(&repo).1, candidate_id(&repo));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_retrains_and_the_consoles_retrain_started_together_run_one_at_a_time() {
    let repo = Repo::pipeline();
    let spawn = || {
        Process::new(BIN)
            .args(["retrain", "--yes", "--json"])
            .current_dir(repo.path())
            .env("AMESOPS_BIN", BIN)
            .env("DVC_NO_ANALYTICS", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let children = [spawn(), spawn()];
    let mut console = Console::open(repo.path());
    console.press(KeyCode::Char('R'));
    let from_console = console.finish(true).await;
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();

    let mut ran = 0;
    let mut holders = Vec::new();
    for output in &outputs {
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        match output.status.code() {
            Some(0) => ran += 1,
            Some(4) => holders.push(stderr),
            other => panic!(
                "retrain exited {other:?}:\n{stderr}\n{}",
                String::from_utf8_lossy(&output.stdout)
            ),
        }
    }
    match &from_console {
        Loaded::Retrained(Ok(_)) => ran += 1,
        Loaded::Retrained(Err(message)) => holders.push(message.clone()),
        other => panic!("{other:?}"),
    }
    assert_eq!(ran, 1, "exactly one runs; the others: {holders:#?}");
    assert_eq!(holders.len(), 2);
    for refusal in &holders {
        assert!(
            refusal.contains("another run is in progress: pid ")
                && (refusal.contains("`amesops retrain --yes --json`")
                    || refusal.contains("`amesops (console)`"))
                && refusal.contains(" since "),
            "the refusal names the holder: {refusal}"
        );
    }
    let (_, model) = live(&repo);
    assert_eq!(model, candidate_id(&repo));
}

#[test]
fn ten_parallel_local_deploys_get_ten_distinct_versions() {
    let repo = Repo::pipeline();
    repo.amesops(&["pipeline", "run", "package"]).ok();
    let model: Json = serde_json::from_slice(&repo.read("models/model.json")).unwrap();
    // Ten models that price alike (the gate passes each) but are different artifacts.
    let mut expected = Vec::new();
    for i in 0..10 {
        let mut variant = model.clone();
        variant["trained_at"] = Json::String(format!("2026-01-01T00:00:{i:02}Z"));
        let bytes = serde_json::to_vec_pretty(&variant).unwrap();
        expected.push(core_model::artifact::model_id(&bytes));
        repo.write(
            &format!("variants/m{i}.json"),
            &String::from_utf8(bytes).unwrap(),
        );
    }
    let children: Vec<_> = (0..10)
        .map(|i| {
            Process::new(BIN)
                .args([
                    "deploy",
                    "--yes",
                    "--package",
                    "variants/none/predictor.zip",
                    "--model",
                    &format!("variants/m{i}.json"),
                ])
                .current_dir(repo.path())
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let record = record(&repo);
    let versions = record["versions"].as_array().unwrap();
    let mut numbers: Vec<u64> = versions
        .iter()
        .map(|v| v["version"].as_u64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=10).collect::<Vec<_>>(), "{record}");
    let mut models: Vec<String> = versions
        .iter()
        .map(|v| v["model_id"].as_str().unwrap().to_string())
        .collect();
    models.sort();
    expected.sort();
    assert_eq!(models, expected);
    for n in 1..=10 {
        assert!(
            repo.path()
                .join(format!(".amesops/deployments/v{n}/model.json"))
                .is_file()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_another_process_deploys_the_console_serves_and_shows_the_new_model() {
    let repo = Repo::pipeline();
    set_alpha(&repo, "0.005");
    assert_eq!(retrain_json(&repo, &[]).0, Some(0));
    let (_, first) = live(&repo);

    // The console's in-process predictor, serving the live version.
    let deployments = repo.path().join(".amesops/deployments");
    let live_path = LocalDeployer::new(&deployments, None, String::new())
        .live_model()
        .unwrap();
    let model = predictor::loader::load_model(&live_path.display().to_string(), None)
        .await
        .unwrap();
    let state = predictor::AppState::new(
        model,
        Box::new(predictor::store::LocalStore::new(
            repo.path().join(".amesops"),
        )),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(predictor::serve::serve(
        listener,
        state.clone(),
        std::future::pending(),
    ));
    let mut console = Console::serving(repo.path(), Some(state.clone()), url);

    // The pipeline's deploy stage (another process, as `r` and `dvc repro` run it) publishes a
    // better model.
    set_alpha(&repo, "0.0005");
    repo.amesops(&["pipeline", "run", "--yes"]).ok();
    let (_, second) = live(&repo);
    assert_ne!(first, second);

    // The Deploy view: the alias names the new model and the endpoint serves it.
    console.runtime.execute(Command::LoadDeploy);
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(60), console.rx.recv())
            .await
            .unwrap()
            .unwrap()
        {
            Loaded::Deploy(result) => break result.unwrap(),
            _ => continue,
        }
    };
    assert_eq!(status.model_id, second);
    assert_eq!(
        status.served_model.as_deref(),
        Some(second.as_str()),
        "{status:?}"
    );
    assert!(status.health.is_ok(), "{status:?}");
    assert_eq!(
        state.model().id,
        second,
        "the in-process server follows the alias"
    );
}
