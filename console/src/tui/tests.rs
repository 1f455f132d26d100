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
}

#[test]
fn confirm_then_cancel_dispatches_nothing() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    assert!(app.on_key(key(KeyCode::Char('d')), now).is_empty());
    assert!(matches!(app.overlay, Some(Overlay::Confirm(_))));
    insta::assert_snapshot!("confirm_dialog", screen(&mut app, now));
    let commands = app.on_key(key(KeyCode::Enter), now); // Cancel has the focus
    assert!(mutations(&commands).is_empty());
    assert!(app.overlay.is_none());
    assert!(app.busy.is_none());
}

#[test]
fn confirm_then_accept_dispatches_exactly_once() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    app.on_key(key(KeyCode::Char('b')), now);
    app.on_key(key(KeyCode::Tab), now);
    let commands = app.on_key(key(KeyCode::Enter), now);
    assert_eq!(mutations(&commands), vec![Mutation::Rollback { to: None }]);
    // A second enter does not dispatch again: the dialog is gone and work is in progress.
    assert!(mutations(&app.on_key(key(KeyCode::Enter), now)).is_empty());
    app.on_key(key(KeyCode::Char('b')), now);
    assert!(
        app.overlay.is_none(),
        "no second dialog while the first mutation runs"
    );
}

#[test]
fn production_confirmation_needs_the_typed_function_name() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    app.header.production_name = Some("amesops-predictor".into());
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    app.on_key(key(KeyCode::Char('d')), now);
    app.on_key(key(KeyCode::Tab), now);
    assert!(mutations(&app.on_key(key(KeyCode::Enter), now)).is_empty());
    for c in "amesops-predictor".chars() {
        app.on_key(key(KeyCode::Char(c)), now);
    }
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Enter), now)),
        vec![Mutation::Deploy]
    );
}

#[test]
fn read_only_refuses_every_mutation_at_dispatch() {
    let now = Instant::now();
    let mut app = fixtures::app(true);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    for code in [KeyCode::Char('d'), KeyCode::Char('b'), KeyCode::Char('R')] {
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
fn retrain_key_asks_for_confirmation_from_any_view() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    app.on_key(key(KeyCode::Char('R')), now);
    match &app.overlay {
        Some(Overlay::Confirm(c)) => {
            assert_eq!(c.mutation, Mutation::Retrain { allow_worse: false })
        }
        other => panic!("expected the confirm dialog, got {other:?}"),
    }
}

#[test]
fn a_finished_retrain_shows_its_report_in_the_pipeline_pane() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    let outcome = crate::retrain::Outcome {
        decision: crate::retrain::Decision::NothingChanged,
        production_rmse_log: Some(0.124),
        candidate_rmse_log: 0.124,
        tolerance: 0.002,
        production_model: Some("aae830f23972".to_string()),
        candidate_model: "aae830f23972".to_string(),
        deployed: None,
        stages: vec![crate::retrain::StageRun {
            stage: "fetch".to_string(),
            result: crate::retrain::StageResult::Skipped,
            seconds: None,
        }],
        pipeline_seconds: 0.02,
        deploy_seconds: None,
    };
    app.on_loaded(Loaded::RetrainReady(Ok(outcome)), now);
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
    for c in '1'..='6' {
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
