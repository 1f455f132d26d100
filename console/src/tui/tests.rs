//! Screens and flows of the console, driven without a terminal: keys in, commands and frames out.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::action::{Command, Loaded, Mutation, ViewId};
use super::app::{App, Overlay};
use super::fixtures::{self, State};
use crate::backend::logs::{LogEvent, LogLine};

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn screen(app: &mut App, now: Instant) -> String {
    let mut terminal = Terminal::new(TestBackend::new(110, 32)).unwrap();
    terminal.draw(|frame| app.draw(frame, now)).unwrap();
    terminal.backend().to_string()
}

fn mutations(commands: &[Command]) -> Vec<Mutation> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Mutate(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

macro_rules! view_snapshots {
    ($($name:ident: $view:expr, $state:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let now = Instant::now();
                let mut app = fixtures::app(false);
                fixtures::show(&mut app, $view, $state, now);
                insta::assert_snapshot!(screen(&mut app, now));
            }
        )*
    };
}

view_snapshots! {
    pipeline_loading: ViewId::Pipeline, State::Loading;
    pipeline_data: ViewId::Pipeline, State::Data;
    pipeline_empty: ViewId::Pipeline, State::Empty;
    pipeline_error: ViewId::Pipeline, State::Error;
    logs_loading: ViewId::Logs, State::Loading;
    logs_data: ViewId::Logs, State::Data;
    logs_empty: ViewId::Logs, State::Empty;
    logs_error: ViewId::Logs, State::Error;
    predictions_loading: ViewId::Predictions, State::Loading;
    predictions_data: ViewId::Predictions, State::Data;
    predictions_empty: ViewId::Predictions, State::Empty;
    predictions_error: ViewId::Predictions, State::Error;
    experiments_loading: ViewId::Experiments, State::Loading;
    experiments_data: ViewId::Experiments, State::Data;
    experiments_empty: ViewId::Experiments, State::Empty;
    experiments_error: ViewId::Experiments, State::Error;
    predict_loading: ViewId::Predict, State::Loading;
    predict_data: ViewId::Predict, State::Data;
    predict_empty: ViewId::Predict, State::Empty;
    predict_error: ViewId::Predict, State::Error;
    deploy_loading: ViewId::Deploy, State::Loading;
    deploy_data: ViewId::Deploy, State::Data;
    deploy_empty: ViewId::Deploy, State::Empty;
    deploy_error: ViewId::Deploy, State::Error;
    monitor_loading: ViewId::Monitor, State::Loading;
    monitor_data: ViewId::Monitor, State::Data;
    monitor_empty: ViewId::Monitor, State::Empty;
    monitor_error: ViewId::Monitor, State::Error;
}

fn question(typed: Option<&str>) -> crate::operations::Question {
    crate::operations::Question {
        action: "Deploy model 4b1c2d3e4f50 (models/model.json), replacing model 3f9a1c2b7d10 (version 3): smoke-test it, then move the alias.".into(),
        target: "local · local predictor".into(),
        typed: typed.map(str::to_string),
        warning: Some("gate: no worse than production: RMSE(log) 0.1240 -> 0.1220 (-0.0020, tolerance 0.0020)".into()),
        weight: crate::operations::Weight::Production,
    }
}

fn answers(commands: &[Command]) -> Vec<(u64, bool)> {
    commands
        .iter()
        .filter_map(|c| match c {
            Command::Answer { id, yes } => Some((*id, *yes)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_mutation_starts_its_operation_whose_question_opens_the_dialog_and_cancel_answers_no() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('d')), now)),
        vec![Mutation::Deploy]
    );
    assert!(app.overlay.is_none(), "the operation decides what to ask");
    app.on_loaded(
        Loaded::Confirm {
            id: 7,
            question: question(None),
        },
        now,
    );
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    insta::assert_snapshot!("confirm_dialog", screen(&mut app, now));
    let commands = app.on_key(key(KeyCode::Enter), now); // Cancel has the focus
    assert_eq!(answers(&commands), vec![(7, false)]);
    assert!(app.overlay.is_none());
}

#[test]
fn confirm_then_accept_answers_exactly_once_and_nothing_else_starts_meanwhile() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    let commands = app.on_key(key(KeyCode::Char('b')), now);
    assert_eq!(mutations(&commands), vec![Mutation::Rollback { to: None }]);
    app.on_loaded(
        Loaded::Confirm {
            id: 1,
            question: question(None),
        },
        now,
    );
    app.on_key(key(KeyCode::Tab), now);
    assert_eq!(
        answers(&app.on_key(key(KeyCode::Enter), now)),
        vec![(1, true)]
    );
    // A second enter answers nothing: the dialog is gone and work is in progress.
    assert!(answers(&app.on_key(key(KeyCode::Enter), now)).is_empty());
    assert!(
        mutations(&app.on_key(key(KeyCode::Char('b')), now)).is_empty(),
        "no second mutation while the first runs"
    );
    app.on_loaded(Loaded::Mutated(Ok("rolled back".into())), now);
    assert!(app.busy.is_none());
}

#[test]
fn production_confirmation_needs_the_typed_text_the_operation_asks_for() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    app.on_key(key(KeyCode::Char('d')), now);
    app.on_loaded(
        Loaded::Confirm {
            id: 2,
            question: question(Some("amesops-predictor")),
        },
        now,
    );
    app.on_key(key(KeyCode::Tab), now);
    assert!(answers(&app.on_key(key(KeyCode::Enter), now)).is_empty());
    for c in "amesops-predictor".chars() {
        app.on_key(key(KeyCode::Char(c)), now);
    }
    assert_eq!(
        answers(&app.on_key(key(KeyCode::Enter), now)),
        vec![(2, true)]
    );
}

#[test]
fn the_override_of_the_gate_is_its_own_key_never_d() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('F')), now)),
        vec![Mutation::ForceDeploy]
    );
    app.on_loaded(Loaded::Mutated(Err("refused".into())), now);
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('d')), now)),
        vec![Mutation::Deploy]
    );
}

#[test]
fn read_only_refuses_every_mutation_at_dispatch() {
    let now = Instant::now();
    let mut app = fixtures::app(true);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    for code in [
        KeyCode::Char('d'),
        KeyCode::Char('b'),
        KeyCode::Char('R'),
        KeyCode::Char('F'),
    ] {
        assert!(mutations(&app.on_key(key(code), now)).is_empty());
        assert!(app.overlay.is_none());
    }
    // Even a dispatch that bypasses the keys is refused.
    assert!(app.dispatch(Mutation::Deploy, now).is_empty());
    assert!(
        app.toasts
            .iter()
            .all(|t| t.message.starts_with("read-only"))
    );
    insta::assert_snapshot!("read_only_refusal", screen(&mut app, now));
}

#[test]
fn retrain_key_starts_the_retrain_from_any_view() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('R')), now)),
        vec![Mutation::Retrain]
    );
}

fn outcome(decision: crate::operations::retrain::Decision) -> crate::operations::retrain::Outcome {
    crate::operations::retrain::Outcome {
        decision,
        reason: "model aae830f23972 is already live (version 1)".to_string(),
        overridden: false,
        production_rmse_log: Some(0.124),
        candidate_rmse_log: Some(0.124),
        tolerance: 0.002,
        production_model: Some("aae830f23972".to_string()),
        candidate_model: "aae830f23972".to_string(),
        deployed: None,
        stages: vec![crate::operations::retrain::StageRun {
            stage: "fetch".to_string(),
            result: crate::operations::retrain::StageResult::Skipped,
            seconds: None,
        }],
        pipeline_seconds: 0.02,
        deploy_seconds: None,
        shadow: None,
    }
}

#[test]
fn a_finished_retrain_shows_its_report_in_the_pipeline_pane() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    app.on_loaded(
        Loaded::Retrained(Ok(outcome(
            crate::operations::retrain::Decision::NothingChanged,
        ))),
        now,
    );
    let pane: Vec<&str> = app.pipeline.run_output().collect();
    assert!(
        pane.contains(&"stages    ran: none · up to date: fetch"),
        "{pane:?}"
    );
    assert!(
        pane.iter()
            .any(|l| l.starts_with("decision  nothing changed")),
        "{pane:?}"
    );
}

#[test]
fn a_refused_retrain_opens_no_dialog_and_says_why() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    app.on_key(key(KeyCode::Char('R')), now);
    let mut refused = outcome(crate::operations::retrain::Decision::RefusedWorse);
    refused.candidate_rmse_log = Some(0.2);
    refused.candidate_model = "bbbbbbbbbbbb".to_string();
    app.on_loaded(Loaded::Retrained(Ok(refused)), now);
    assert!(app.overlay.is_none(), "nothing to confirm after a refusal");
    assert!(app.busy.is_none());
    let toast = app.toasts.last().expect("a toast");
    assert_eq!(toast.level, crate::tui::widgets::toast::Level::Error);
    assert!(toast.message.starts_with("refused"), "{}", toast.message);
}

#[test]
fn the_header_shows_red_when_the_endpoint_serves_another_model_than_the_alias() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    assert!(!screen(&mut app, now).contains("SERVING"));
    let mut status = fixtures::deploy();
    status.model_id = "4b1c2d3e4f50".into();
    status.served_model = Some("3f9a1c2b7d10".into());
    status.health = Err(
        "the endpoint serves model 3f9a1c2b7d10, but alias live (version 4) names model 4b1c2d3e4f50"
            .into(),
    );
    app.on_loaded(Loaded::Deploy(Ok(status)), now);
    let shown = screen(&mut app, now);
    assert!(shown.contains("SERVING 3f9a1c2b7d10 ≠ live"), "{shown}");
    assert!(shown.contains("unhealthy"), "{shown}");
    assert!(!shown.contains(" healthy ·"), "{shown}");
}

#[test]
fn views_switch_by_number_and_tab_and_load_once() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    let commands = app.on_key(key(KeyCode::Char('3')), now);
    assert_eq!(app.view, ViewId::Predictions);
    assert_eq!(commands, vec![Command::LoadRecords { after: None }]);
    app.on_key(key(KeyCode::Tab), now);
    assert_eq!(app.view, ViewId::Experiments);
    app.on_key(key(KeyCode::BackTab), now);
    assert!(
        app.on_key(key(KeyCode::Char('3')), now).is_empty(),
        "already loading: no second request"
    );
}

#[test]
fn help_and_palette_open_and_close() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    app.on_key(key(KeyCode::Char('?')), now);
    assert!(matches!(app.overlay, Some(Overlay::Help)));
    insta::assert_snapshot!("help_overlay", screen(&mut app, now));
    app.on_key(key(KeyCode::Esc), now);
    assert!(app.overlay.is_none());
    app.on_key(key(KeyCode::Char(':')), now);
    for c in "logs".chars() {
        app.on_key(key(KeyCode::Char(c)), now);
    }
    app.on_key(key(KeyCode::Enter), now);
    assert_eq!(app.view, ViewId::Logs);
}

#[test]
fn a_palette_query_that_matches_nothing_says_so_and_stays_open() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    app.on_key(key(KeyCode::Char(':')), now);
    for c in "zzz".chars() {
        app.on_key(key(KeyCode::Char(c)), now);
    }
    app.on_key(key(KeyCode::Enter), now);
    assert!(matches!(app.overlay, Some(Overlay::Palette(_))));
    let shown = screen(&mut app, now);
    assert!(shown.contains("no command matches \"zzz\""), "{shown}");
}

#[test]
fn quit_keys_quit_but_not_while_typing_a_search() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    app.on_key(key(KeyCode::Char('/')), now);
    app.on_key(key(KeyCode::Char('q')), now);
    assert!(!app.should_quit, "q is text inside the search box");
    app.on_key(key(KeyCode::Enter), now);
    app.on_key(key(KeyCode::Char('q')), now);
    assert!(app.should_quit);
    let mut app = fixtures::app(false);
    app.on_key(
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        now,
    );
    assert!(app.should_quit);
}

#[test]
fn log_follow_pauses_on_scroll_and_says_so() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    assert!(app.logs.follow);
    app.on_key(key(KeyCode::Up), now);
    assert!(!app.logs.follow);
    let line = LogLine {
        timestamp_ms: None,
        text: "{\"level\":\"INFO\",\"message\":\"new\"}".into(),
    };
    app.on_loaded(Loaded::Logs(LogEvent::Lines(vec![line])), now);
    let shown = screen(&mut app, now);
    assert!(shown.contains("paused (2 lines below)"), "{shown}");
    app.on_key(key(KeyCode::Char('G')), now);
    assert!(app.logs.follow);
    assert!(screen(&mut app, now).contains("following"));
}

#[test]
fn log_buffer_is_bounded_and_counts_what_it_dropped() {
    let mut logs = super::views::logs::LogsView::with_capacity(100);
    let lines: Vec<LogLine> = (0..250)
        .map(|i| LogLine {
            timestamp_ms: None,
            text: format!("line {i}"),
        })
        .collect();
    logs.on_event(LogEvent::Lines(lines));
    assert_eq!(logs.len(), 100);
    assert_eq!(logs.dropped, 150);
}

#[test]
fn tiny_and_huge_terminals_draw_without_panicking() {
    let now = Instant::now();
    for (w, h) in [(1, 1), (10, 5), (39, 11), (40, 12), (300, 120)] {
        for view in ViewId::ALL {
            let mut app = fixtures::app(false);
            fixtures::show(&mut app, view, State::Data, now);
            let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
            terminal.draw(|frame| app.draw(frame, now)).unwrap();
        }
    }
}

#[test]
fn keys_keep_working_while_a_request_never_answers() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    // Every view asks for data; none of it ever arrives.
    for c in '1'..='7' {
        app.on_key(key(KeyCode::Char(c)), now);
    }
    assert!(app.deploy.status.is_loading());
    app.on_key(key(KeyCode::Char('1')), now);
    assert_eq!(app.view, ViewId::Pipeline);
    assert!(screen(&mut app, now).contains("reading dvc.yaml"));
}

#[test]
fn a_prediction_form_sends_the_filled_fields_as_json() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predict, State::Data, now);
    let commands = app.on_key(key(KeyCode::Char('s')), now);
    match commands.as_slice() {
        [Command::SubmitPrediction(body)] => {
            assert_eq!(body["Neighborhood"], "CollgCr");
            assert_eq!(body["GrLivArea"], 1710.0);
            assert!(
                body.get("YearBuilt").is_none(),
                "empty fields are left to imputation"
            );
        }
        other => panic!("expected one submission, got {other:?}"),
    }
}

#[test]
fn smoke_test_records_are_left_out_of_the_list_the_counts_and_drift() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predictions, State::Data, now);
    let mut page = fixtures::records();
    let real = page.rows.len();
    page.rows.insert(
        0,
        super::views::predictions::RecordRow::from_json(
            "predictions/dt=2026-11-27/20261127T235959.000000Z-smoke.json".into(),
            serde_json::json!({
                "timestamp": "2026-11-27T23:59:59.000000Z", "price": 987654321.0,
                "model_id": "5m0k3t35t000", "source": "smoke", "input": {"GrLivArea": 1710}
            }),
        ),
    );
    app.on_loaded(Loaded::Records(Ok(page)), now);
    let shown = screen(&mut app, now);
    assert!(
        shown.contains(&format!("{real} records · 1 smoke-test records left out")),
        "{shown}"
    );
    assert!(!shown.contains("5m0k3t35t000"), "{shown}");
}
