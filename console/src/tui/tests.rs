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
    assert_eq!(
        mutations(&commands),
        vec![Mutation::Rollback {
            to: Some("2".into())
        }],
        "b names the version it moves to"
    );
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
fn c_starts_a_watched_canary_and_a_rollback_may_stop_it_while_it_runs() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('C')), now)),
        vec![Mutation::Canary]
    );
    // Another deploy waits for the watch; a rollback (the way to stop it) does not.
    assert!(app.ask(Mutation::Deploy, now).is_empty());
    assert_eq!(
        mutations(&app.ask(Mutation::Rollback { to: None }, now)),
        vec![Mutation::Rollback { to: None }]
    );
    assert_eq!(app.busy, Some(Mutation::Canary));
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
        KeyCode::Char('C'),
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

fn screen_at(app: &mut App, now: Instant, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| app.draw(frame, now)).unwrap();
    terminal.backend().to_string()
}

/// One snapshot test per view in the data state, at the given terminal size; `?` (help)
/// must stay reachable at every size.
macro_rules! screen_snapshots {
    ($width:literal x $height:literal { $($name:ident: $view:expr;)* }) => {
        $(
            #[test]
            fn $name() {
                let now = Instant::now();
                let mut app = fixtures::app(false);
                fixtures::show(&mut app, $view, State::Data, now);
                let shown = screen_at(&mut app, now, $width, $height);
                assert!(shown.contains(" ? help"), "{shown}");
                insta::assert_snapshot!(shown);
            }
        )*
    };
}

screen_snapshots! { 80 x 24 {
    pipeline_80x24: ViewId::Pipeline;
    logs_80x24: ViewId::Logs;
    predictions_80x24: ViewId::Predictions;
    experiments_80x24: ViewId::Experiments;
    predict_80x24: ViewId::Predict;
    deploy_80x24: ViewId::Deploy;
    monitor_80x24: ViewId::Monitor;
}}

fn type_text(app: &mut App, text: &str, now: Instant) {
    for c in text.chars() {
        app.on_key(key(KeyCode::Char(c)), now);
    }
}

#[test]
fn every_visible_view_refreshes_on_its_timer_and_r_refreshes_now() {
    let start = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predictions, State::Data, start);
    assert!(
        app.on_tick(start).is_empty(),
        "fresh data is not fetched again"
    );
    let later = start + std::time::Duration::from_secs(6);
    assert!(
        app.on_tick(later)
            .contains(&Command::LoadRecords { after: None }),
        "the list refreshes on its own"
    );
    assert!(
        app.on_tick(later).is_empty(),
        "never twice while a request is in flight"
    );
    fixtures::show(&mut app, ViewId::Pipeline, State::Data, start);
    assert_eq!(
        app.on_key(key(KeyCode::Char('r')), start),
        vec![Command::LoadPipeline],
        "r refreshes the Pipeline view too"
    );
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('p')), start)),
        vec![Mutation::RunPipeline { stage: None }],
        "p runs the pipeline"
    );
}

#[test]
fn a_stored_prediction_reloads_the_predictions_list_at_once() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predictions, State::Empty, now);
    fixtures::show(&mut app, ViewId::Predict, State::Loading, now);
    let _ = app.on_loaded(Loaded::Schema(Ok(fixtures::schema())), now);
    let commands = app.on_loaded(Loaded::Prediction(Ok(fixtures::outcome())), now);
    assert_eq!(commands, vec![Command::LoadRecords { after: None }]);
}

#[test]
fn the_form_edits_in_place_replaces_on_first_key_and_escape_discards() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predict, State::Data, now);
    app.on_key(key(KeyCode::Down), now); // OverallQual = 7
    app.on_key(key(KeyCode::Enter), now);
    type_text(&mut app, "8", now);
    app.on_key(key(KeyCode::Enter), now);
    let body = app.predict.body();
    assert_eq!(body["OverallQual"], 8, "the first key replaced 7: {body}");
    // A typed error shows beside the field and enter keeps editing.
    app.on_key(key(KeyCode::Enter), now);
    type_text(&mut app, "12", now);
    assert_eq!(
        app.predict.edit_error().as_deref(),
        Some("between 1 and 10 grade")
    );
    assert!(screen(&mut app, now).contains("✗ between 1 and 10 grade"));
    app.on_key(key(KeyCode::Enter), now);
    assert!(app.predict.editing, "an invalid value is not taken");
    app.on_key(key(KeyCode::Esc), now);
    assert!(!app.predict.editing);
    assert_eq!(
        app.predict.body()["OverallQual"],
        8,
        "esc discarded the edit"
    );
    // ↓ while editing takes the value and edits the next field.
    app.on_key(key(KeyCode::Enter), now);
    type_text(&mut app, "9", now);
    app.on_key(key(KeyCode::Down), now);
    assert!(app.predict.editing);
    type_text(&mut app, "2000", now);
    app.on_key(key(KeyCode::Tab), now);
    let body = app.predict.body();
    assert_eq!(
        (body["OverallQual"].clone(), body["GrLivArea"].clone()),
        (serde_json::json!(9), serde_json::json!(2000))
    );
    app.on_key(key(KeyCode::Esc), now);
    // Letters are refused beside a number, not dropped silently.
    app.on_key(key(KeyCode::Enter), now);
    type_text(&mut app, "abc", now);
    assert_eq!(app.predict.edit_error().as_deref(), Some("not a number"));
    app.on_key(key(KeyCode::Esc), now);
}

#[test]
fn levels_are_found_by_name_and_whole_numbers_step_with_arrows() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predict, State::Data, now);
    app.on_key(key(KeyCode::Enter), now); // Neighborhood
    type_text(&mut app, "old", now);
    assert!(screen(&mut app, now).contains("→ Old Town (OldTown)"));
    app.on_key(key(KeyCode::Enter), now);
    assert_eq!(app.predict.body()["Neighborhood"], "OldTown");
    assert!(screen(&mut app, now).contains("‹ Old Town ›"));
    app.on_key(key(KeyCode::Down), now);
    app.on_key(key(KeyCode::Right), now);
    assert_eq!(app.predict.body()["OverallQual"], 8);
}

#[test]
fn the_result_shows_separators_the_change_and_more_imputed_fields() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predict, State::Data, now);
    let mut second = fixtures::outcome();
    if let Ok(reply) = &mut second.remote {
        reply.price = 211_000.4;
        reply.imputed = (0..20).map(|i| format!("F{i}")).collect();
    }
    app.on_loaded(Loaded::Prediction(Ok(second)), now);
    let shown = screen_at(&mut app, now, 160, 45);
    assert!(shown.contains("$211,000"), "{shown}");
    assert!(shown.contains("+$2,877 from the last estimate"), "{shown}");
    assert!(shown.contains("+8 more"), "{shown}");
}

#[test]
fn log_search_marks_only_what_is_shown_and_n_moves_between_matches() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    let hidden = LogLine {
        timestamp_ms: None,
        text: r#"{"level":"INFO","message":"started","target":"predictor::api"}"#.into(),
    };
    app.on_loaded(Loaded::Logs(LogEvent::Lines(vec![hidden])), now);
    app.on_key(key(KeyCode::Char('/')), now);
    type_text(&mut app, "REJECTED", now);
    app.on_key(key(KeyCode::Enter), now);
    assert_eq!(app.logs.match_status(), Some((None, 6)), "case-insensitive");
    app.on_key(key(KeyCode::Char('/')), now);
    type_text(&mut app, "predictor::api", now);
    app.on_key(key(KeyCode::Enter), now);
    assert_eq!(
        app.logs.match_status(),
        Some((None, 0)),
        "the hidden target field is not searched"
    );
    app.on_key(key(KeyCode::Char('/')), now);
    type_text(&mut app, "rejected", now);
    app.on_key(key(KeyCode::Enter), now);
    app.on_key(key(KeyCode::Char('n')), now);
    assert_eq!(app.logs.match_status(), Some((Some(1), 6)));
    app.on_key(key(KeyCode::Char('n')), now);
    assert_eq!(app.logs.match_status(), Some((Some(2), 6)));
    app.on_key(key(KeyCode::Char('N')), now);
    assert_eq!(app.logs.match_status(), Some((Some(1), 6)));
    assert!(screen(&mut app, now).contains("match 1 of 6"));
}

#[test]
fn log_follow_keeps_the_newest_line_visible_with_wrap_and_after_g() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    app.on_key(key(KeyCode::Char('w')), now);
    let shown = screen_at(&mut app, now, 80, 24);
    assert!(
        shown.contains("req-039"),
        "the newest line is on screen:\n{shown}"
    );
    // g with every line fitting shows them all, never an empty pane.
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    app.on_key(key(KeyCode::Char('g')), now);
    let shown = screen_at(&mut app, now, 160, 60);
    assert!(
        shown.contains("req-000") && shown.contains("req-039"),
        "{shown}"
    );
    assert!(shown.contains("paused (0 lines below)"), "{shown}");
}

#[test]
fn log_lines_keep_path_status_price_and_latency_at_80_columns() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Data, now);
    let shown = screen_at(&mut app, now, 80, 24);
    let line = shown
        .lines()
        .find(|l| l.contains("10:00:39"))
        .unwrap_or_default();
    for part in ["path=/predict", "status=200", "price=247500", "latency_us="] {
        assert!(line.contains(part), "{part} in {line:?}");
    }
    // The predictor logs the price with every digit of an f64: shown to the dollar, so the
    // latency still fits.
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Empty, now);
    let served = LogLine {
        timestamp_ms: None,
        text: r#"{"timestamp":"2026-12-02T15:20:46.125Z","level":"INFO","message":"request served","target":"predictor::api","method":"POST","path":"/predict","status":200,"price":154357.66752391538,"latency_us":4210}"#.to_string(),
    };
    app.on_loaded(Loaded::Logs(LogEvent::Lines(vec![served])), now);
    let shown = screen_at(&mut app, now, 80, 24);
    let line = shown
        .lines()
        .find(|l| l.contains("15:20:46"))
        .unwrap_or_default();
    for part in [
        "path=/predict",
        "status=200",
        "price=154358 ",
        "latency_us=4210",
    ] {
        assert!(line.contains(part), "{part} in {line:?}");
    }
    // The level filter says how much it hides, also when it hides everything.
    let lines: Vec<LogLine> = (0..5)
        .map(|i| LogLine {
            timestamp_ms: None,
            text: format!(r#"{{"level":"INFO","message":"m{i}"}}"#),
        })
        .collect();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Logs, State::Empty, now);
    app.on_loaded(Loaded::Logs(LogEvent::Lines(lines)), now);
    for _ in 0..3 {
        app.on_key(key(KeyCode::Char('f')), now);
    }
    let shown = screen(&mut app, now);
    assert!(shown.contains("0 of 5 lines shown"), "{shown}");
    assert!(
        shown.contains("0 of 5 shown · f changes the level"),
        "{shown}"
    );
}

#[test]
fn the_pipeline_shows_the_current_status_and_the_last_run_apart() {
    use super::views::pipeline::RunEvent;
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Pipeline, State::Data, now);
    app.on_key(key(KeyCode::Char('p')), now);
    for event in [
        RunEvent::Started("train".into()),
        RunEvent::Output(format!("a long line {}", "x".repeat(200))),
        RunEvent::Skipped("fetch".into()),
        RunEvent::Done(true),
    ] {
        app.on_loaded(Loaded::PipelineRun(event), now);
    }
    app.on_loaded(Loaded::Mutated(Ok("pipeline run finished".into())), now);
    app.on_loaded(Loaded::Pipeline(Ok(fixtures::pipeline())), now);
    let shown = screen_at(&mut app, now, 160, 45);
    let train = shown
        .lines()
        .find(|l| l.contains(" train "))
        .unwrap_or_default();
    assert!(
        train.contains("changed"),
        "the current status wins: {train}"
    );
    assert!(
        train.contains("running") || train.contains("last"),
        "{train}"
    );
    app.on_key(key(KeyCode::Char('l')), now);
    match &app.overlay {
        Some(Overlay::Detail { text, .. }) => {
            assert!(text.contains(&"x".repeat(200)), "full lines")
        }
        other => panic!("expected the run log, got {other:?}"),
    }
}

#[test]
fn run_logs_saved_by_an_earlier_console_come_back_before_this_ones_runs() {
    use super::run_logs::SavedRun;
    use super::views::pipeline::RunEvent;
    let now = Instant::now();
    let mut app = fixtures::app(false);
    assert!(
        app.start(now).contains(&Command::LoadRunLogs),
        "the saved logs are asked for at start"
    );
    fixtures::show(&mut app, ViewId::Pipeline, State::Data, now);
    app.on_key(key(KeyCode::Char('p')), now);
    app.on_loaded(
        Loaded::PipelineRun(RunEvent::Output("this console's line".into())),
        now,
    );
    app.on_loaded(
        Loaded::RunLogs(vec![SavedRun {
            title: "retrain · 2026-12-01 09:00 UTC".into(),
            lines: vec!["✓ train (9.8 s)".into(), "run finished".into()],
        }]),
        now,
    );
    app.on_key(key(KeyCode::Char('l')), now);
    let Some(Overlay::Detail { text, .. }) = &app.overlay else {
        panic!("expected the run log, got {:?}", app.overlay);
    };
    let saved = text
        .find("retrain · 2026-12-01 09:00 UTC")
        .expect("saved run");
    let own = text.find("this console's line").expect("own run");
    assert!(own < saved, "newest first: {text}");
    assert!(text.contains("✓ train (9.8 s)"), "{text}");
}

#[test]
fn read_only_hides_refused_keys_from_the_footer_and_marks_them_in_help() {
    let now = Instant::now();
    let mut app = fixtures::app(true);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    let shown = screen_at(&mut app, now, 80, 24);
    let footer = shown.lines().last().unwrap_or_default();
    assert!(!footer.contains(" d "), "{footer}");
    assert!(footer.contains(" ? help"), "{footer}");
    app.on_key(key(KeyCode::Char('?')), now);
    assert!(screen(&mut app, now).contains("(refused: read-only)"));
}

#[test]
fn rollback_names_the_version_and_refuses_at_the_first() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    assert!(screen(&mut app, now).contains("b back to 2"));
    let mut first = fixtures::deploy();
    first.alias_version = "1".into();
    app.on_loaded(Loaded::Deploy(Ok(first)), now);
    assert!(mutations(&app.on_key(key(KeyCode::Char('b')), now)).is_empty());
    let note = app
        .toasts
        .last()
        .map(|t| t.message.clone())
        .unwrap_or_default();
    assert!(note.contains("nothing to roll back to"), "{note}");
    // A version picked in the list is where b goes.
    app.on_loaded(Loaded::Deploy(Ok(fixtures::deploy())), now);
    app.on_key(key(KeyCode::Down), now);
    app.on_key(key(KeyCode::Down), now);
    app.on_key(key(KeyCode::Down), now);
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('b')), now)),
        vec![Mutation::Rollback {
            to: Some("1".into())
        }]
    );
}

#[test]
fn the_predictions_filter_matches_what_is_shown_and_e_fills_the_form() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predictions, State::Data, now);
    app.on_key(key(KeyCode::Char('/')), now);
    type_text(&mut app, "neighborhood=nridght price>200k", now);
    app.on_key(key(KeyCode::Enter), now);
    let shown = screen_at(&mut app, now, 160, 45);
    assert!(
        shown.contains("page 1 · 2 of 30 records (filtered)"),
        "{shown}"
    );
    assert!(
        shown.contains("NridgHt") && !shown.contains("CollgCr"),
        "{shown}"
    );
    app.on_key(key(KeyCode::Enter), now);
    match &app.overlay {
        Some(Overlay::Detail { text, .. }) => {
            assert!(text.starts_with("price      $"), "{text}");
            assert!(
                text.find("given").unwrap() < text.find("imputed").unwrap(),
                "{text}"
            );
        }
        other => panic!("expected the record, got {other:?}"),
    }
    app.on_key(key(KeyCode::Esc), now);
    // l links the record to its log line, by the record's id the line names.
    app.on_loaded(Loaded::Logs(LogEvent::Lines(fixtures::log_lines())), now);
    let served: Vec<LogLine> = (0..60)
        .map(|i| LogLine {
            timestamp_ms: None,
            text: format!(
                r#"{{"level":"INFO","message":"request served","path":"/predict","status":200,"prediction_id":"00000000-0000-4000-8000-{i:012}"}}"#
            ),
        })
        .collect();
    app.on_loaded(Loaded::Logs(LogEvent::Lines(served)), now);
    app.on_key(key(KeyCode::Char('l')), now);
    assert_eq!(app.view, ViewId::Logs);
    assert_eq!(
        app.logs.match_status().map(|(_, n)| n),
        Some(1),
        "exactly the record's own line"
    );
    app.on_key(key(KeyCode::Char('3')), now);
    app.on_key(key(KeyCode::Char('e')), now);
    assert_eq!(app.view, ViewId::Predict);
    let _ = app.on_loaded(Loaded::Schema(Ok(fixtures::schema())), now);
    assert_eq!(app.predict.body()["Neighborhood"], "NridgHt");
}

#[test]
fn experiments_show_the_parameter_that_differs_and_a_run_detail() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Experiments, State::Data, now);
    let shown = screen_at(&mut app, now, 80, 24);
    assert!(
        shown.contains("alpha") && shown.contains("0.0005"),
        "{shown}"
    );
    assert!(shown.contains("alpha-0.0005"), "full names: {shown}");
    app.on_key(key(KeyCode::Enter), now);
    assert!(matches!(app.overlay, Some(Overlay::Detail { .. })));
}

screen_snapshots! { 160 x 45 {
    pipeline_160x45: ViewId::Pipeline;
    logs_160x45: ViewId::Logs;
    predictions_160x45: ViewId::Predictions;
    experiments_160x45: ViewId::Experiments;
    predict_160x45: ViewId::Predict;
    deploy_160x45: ViewId::Deploy;
    monitor_160x45: ViewId::Monitor;
}}

/// A project folder whose `data/test.csv` holds the first `rows` houses of the bundled data.
fn project_with_test_houses(rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let bundled = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../datasets/ames.csv"),
    )
    .unwrap();
    let head: Vec<&str> = bundled.lines().take(rows + 1).collect();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/test.csv"), head.join("\n") + "\n").unwrap();
    dir
}

#[tokio::test]
async fn t_loads_the_next_held_out_test_house_with_its_price_and_the_result_shows_the_error() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predict, State::Data, now);
    let project = project_with_test_houses(2);
    // t asks the runtime for the first test house; the app reads nothing itself.
    let commands = app.on_key(key(KeyCode::Char('t')), now);
    assert_eq!(commands, vec![Command::LoadTestHouse { index: 0 }]);
    let house = super::runtime::load_test_house(project.path().to_path_buf(), 0).await;
    let first = house.clone().unwrap();
    assert_eq!((first.index, first.total, first.id), (0, 2, Some(1)));
    assert!(
        first.input.get("SalePrice").is_none() && first.input.get("Id").is_none(),
        "price and id are not form fields: {}",
        first.input
    );
    app.on_loaded(Loaded::TestHouse(house), now);
    assert_eq!(app.view, ViewId::Predict);
    assert!(
        app.predict.outcome.data().is_none(),
        "the last estimate was of another house"
    );
    let shown = screen_at(&mut app, now, 160, 45);
    assert!(shown.contains("test house Id 1 · 1 of 2"), "{shown}");
    assert!(
        shown.contains(&format!(
            "sold for {}",
            super::widgets::status::dollars(first.actual)
        )),
        "{shown}"
    );
    // The form holds the house's typed fields: numbers as numbers, levels as codes.
    let body = match app.on_key(key(KeyCode::Char('s')), now).as_slice() {
        [Command::SubmitPrediction(body)] => body.clone(),
        other => panic!("expected one submission, got {other:?}"),
    };
    assert_eq!(body["Neighborhood"], first.input["Neighborhood"]);
    assert_eq!(
        body["GrLivArea"].as_f64(),
        first.input["GrLivArea"].as_f64()
    );
    assert!(body["GrLivArea"].is_number(), "{body}");
    app.on_loaded(Loaded::Prediction(Ok(fixtures::outcome())), now);
    let shown = screen_at(&mut app, now, 160, 45);
    let error = 100.0 * (208_123.5 - first.actual) / first.actual;
    assert!(
        shown.contains(&format!(
            "actual     {} (error {error:+.1} %)",
            super::widgets::status::dollars(first.actual)
        )),
        "{shown}"
    );
    // The next press asks for the next house, and the last one wraps round.
    assert_eq!(
        app.on_key(key(KeyCode::Char('t')), now),
        vec![Command::LoadTestHouse { index: 1 }]
    );
    let second = super::runtime::load_test_house(project.path().to_path_buf(), 1).await;
    assert_eq!(second.as_ref().map(|h| h.id), Ok(Some(2)));
    app.on_loaded(Loaded::TestHouse(second), now);
    assert_eq!(
        app.on_key(key(KeyCode::Char('t')), now),
        vec![Command::LoadTestHouse { index: 2 }]
    );
    let wrapped = super::runtime::load_test_house(project.path().to_path_buf(), 2).await;
    assert_eq!(wrapped.map(|h| h.index), Ok(0));
}

#[tokio::test]
async fn t_without_a_held_out_split_says_to_run_the_pipeline() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predict, State::Data, now);
    let empty = tempfile::tempdir().unwrap();
    let missing = super::runtime::load_test_house(empty.path().to_path_buf(), 0).await;
    app.on_loaded(Loaded::TestHouse(missing), now);
    let toast = app.toasts.last().unwrap();
    assert_eq!(toast.level, crate::tui::widgets::toast::Level::Error);
    assert!(
        toast.message.contains("data/test.csv is missing")
            && toast
                .message
                .contains("run the pipeline first (p in view 1)"),
        "{}",
        toast.message
    );
    assert!(app.predict.actual.is_none(), "the form is unchanged");
}

#[test]
fn a_run_detail_names_its_model_and_where_it_is_deployed_and_links_to_the_version() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    fixtures::show(&mut app, ViewId::Experiments, State::Data, now);
    // The production run: its model is live.
    app.on_key(key(KeyCode::Enter), now);
    match &app.overlay {
        Some(Overlay::Detail { text, .. }) => {
            assert!(text.contains("model      3f9a1c2b7d10"), "{text}");
            assert!(
                text.contains("deployed   live: version 3 (alias live → version 3)"),
                "{text}"
            );
        }
        other => panic!("expected the run detail, got {other:?}"),
    }
    app.on_key(key(KeyCode::Esc), now);
    // The next run (sorted by cv_rmse_log) trained version 1's model, which is not live;
    // v in the detail opens that version.
    app.on_key(key(KeyCode::Down), now);
    app.on_key(key(KeyCode::Enter), now);
    let shown = screen(&mut app, now);
    assert!(
        shown.contains("published as version 1") && shown.contains("not live"),
        "{shown}"
    );
    assert!(shown.contains("v its version"), "{shown}");
    app.on_key(key(KeyCode::Char('v')), now);
    assert!(app.overlay.is_none());
    assert_eq!(app.view, ViewId::Deploy);
    assert_eq!(
        app.deploy.picked_version().map(|v| v.version.as_str()),
        Some("1")
    );
    // b rolls back to the version picked, through the same confirmation path.
    assert_eq!(
        mutations(&app.on_key(key(KeyCode::Char('b')), now)),
        vec![Mutation::Rollback {
            to: Some("1".into())
        }]
    );
    let started = app.toasts.last().unwrap().message.clone();
    assert_eq!(
        started,
        "started: Move the alias back to version 1 (model 1f9a1c2b7d10)."
    );
    app.on_loaded(Loaded::Mutated(Ok("rolled back".into())), now);
    // A run whose model no version serves says so, in the detail and on v.
    fixtures::show(&mut app, ViewId::Experiments, State::Data, now);
    for _ in 0..3 {
        app.on_key(key(KeyCode::Down), now);
    }
    app.on_key(key(KeyCode::Enter), now);
    match &app.overlay {
        Some(Overlay::Detail { text, link, .. }) => {
            assert!(text.contains("model      4b1c2d3e4f50"), "{text}");
            assert!(text.contains("deployed   not deployed"), "{text}");
            assert!(link.is_none(), "nothing to link to");
        }
        other => panic!("expected the run detail, got {other:?}"),
    }
    app.on_key(key(KeyCode::Esc), now);
    app.on_key(key(KeyCode::Char('v')), now);
    assert_eq!(app.view, ViewId::Experiments);
    let note = app.toasts.last().unwrap().message.clone();
    assert!(note.contains("not deployed"), "{note}");
}

#[test]
fn p_in_the_deploy_view_lists_the_predictions_of_the_picked_versions_model() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predictions, State::Data, now);
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    // Nothing picked: the live version's model.
    app.on_key(key(KeyCode::Char('p')), now);
    assert_eq!(app.view, ViewId::Predictions);
    let shown = screen(&mut app, now);
    assert!(shown.contains("filter /model=3f9a1c2b7d10"), "{shown}");
    assert!(shown.contains("30 of 30 records"), "{shown}");
    // Version 1: its model priced nothing on this page.
    app.on_key(key(KeyCode::Char('6')), now);
    for _ in 0..3 {
        app.on_key(key(KeyCode::Down), now);
    }
    app.on_key(key(KeyCode::Char('p')), now);
    let shown = screen(&mut app, now);
    assert!(shown.contains("filter /model=1f9a1c2b7d10"), "{shown}");
    assert!(shown.contains("no record matches the filter"), "{shown}");
}

#[test]
fn deploy_names_the_model_it_deploys_and_b_the_version_and_model_it_moves_to() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    let mut status = fixtures::deploy();
    status.candidate = Some("4b1c2d3e4f50".into());
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    app.on_loaded(Loaded::Deploy(Ok(status)), now);
    app.on_key(key(KeyCode::Char('d')), now);
    assert_eq!(
        app.toasts.last().unwrap().message,
        "started: Deploy model 4b1c2d3e4f50 (models/model.json) through the gate."
    );
    // The operation's own question names the model and its file, and the dialog shows it.
    app.on_loaded(
        Loaded::Confirm {
            id: 3,
            question: question(None),
        },
        now,
    );
    let shown = screen_at(&mut app, now, 160, 45);
    assert!(
        shown.contains("Deploy model 4b1c2d3e4f50 (models/model.json)"),
        "{shown}"
    );
    app.on_key(key(KeyCode::Esc), now);
    app.on_loaded(Loaded::Mutated(Ok("cancelled".into())), now);
    app.on_key(key(KeyCode::Char('b')), now);
    assert_eq!(
        app.toasts.last().unwrap().message,
        "started: Move the alias back to version 2 (model 2f9a1c2b7d10)."
    );
}

#[test]
fn cols_in_the_predictions_filter_chooses_the_columns() {
    let now = Instant::now();
    let mut app = fixtures::app(false);
    fixtures::show(&mut app, ViewId::Predictions, State::Data, now);
    let header = |shown: &str| {
        shown
            .lines()
            .find(|l| l.contains("time (UTC)"))
            .unwrap_or_default()
            .to_string()
    };
    let automatic = header(&screen_at(&mut app, now, 160, 45));
    assert!(
        automatic.contains("Neighborhood") && automatic.contains("YearBuilt"),
        "{automatic}"
    );
    app.on_key(key(KeyCode::Char('/')), now);
    type_text(&mut app, "cols:yearbuilt,GrLivArea price>200k", now);
    app.on_key(key(KeyCode::Enter), now);
    let shown = screen_at(&mut app, now, 160, 45);
    let chosen = header(&shown);
    // Named as the records name them, in the order given, and nothing else.
    let year = chosen.find("YearBuilt").unwrap_or(usize::MAX);
    let area = chosen.find("GrLivArea").unwrap_or(0);
    assert!(year < area, "{chosen}");
    assert!(!chosen.contains("Neighborhood"), "{chosen}");
    // The rest of the filter still filters.
    assert!(shown.contains("(filtered)"), "{shown}");
    // A field no record gives is named.
    app.on_key(key(KeyCode::Char('/')), now);
    type_text(&mut app, "cols:PoolQC", now);
    app.on_key(key(KeyCode::Enter), now);
    let shown = screen_at(&mut app, now, 160, 45);
    assert!(shown.contains("no record here gives PoolQC"), "{shown}");
    // A link from the Deploy view keeps the chosen columns.
    app.predictions.set_filter("model=3f9a1c2b7d10");
    let shown = screen_at(&mut app, now, 160, 45);
    assert!(
        shown.contains("filter /model=3f9a1c2b7d10 cols:PoolQC"),
        "{shown}"
    );
}
