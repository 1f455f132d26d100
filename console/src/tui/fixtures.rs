//! Deterministic data for every view, used by the snapshot tests and the screenshots command.

use std::collections::BTreeMap;
use std::time::Instant;

use super::action::{Loaded, ViewId};
use super::app::{App, Header};
use super::theme::Theme;
use super::views::deploy::{DeployStatus, VersionRow};
use super::views::experiments::RunRow;
use super::views::pipeline::{PipelineSnapshot, StageRow};
use super::views::predict::{FormField, FormSchema, PredictOutcome, RemoteReply};
use super::views::predictions::{RecordPage, RecordRow};
use crate::backend::logs::{LogEvent, LogLine};

/// Which state a view is shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Request in flight, nothing yet.
    Loading,
    /// Data arrived.
    Data,
    /// Data arrived, but there is none.
    Empty,
    /// The request failed.
    Error,
}

/// An app with frozen clocks and no colours, as the snapshots see it.
pub fn app(read_only: bool) -> App {
    let header = Header {
        target: "local".to_string(),
        endpoint: "local predictor http://127.0.0.1:8080".to_string(),
        model_id: Some("3f9a1c2b7d10".to_string()),
        served: None,
    };
    let mut app = App::new(header, read_only, Theme { color: false });
    app.frozen = true;
    app
}

fn stage(name: &str, status: &str, why: &str, cmd: &str) -> StageRow {
    StageRow {
        name: name.into(),
        status: status.into(),
        why: why.into(),
        cmd: cmd.into(),
        details: vec![format!("deps of {name}")],
    }
}

/// Pipeline status with one changed stage and one stale downstream.
pub fn pipeline() -> PipelineSnapshot {
    PipelineSnapshot {
        stages: vec![
            stage(
                "fetch",
                "up to date",
                "",
                "scripts/amesops fetch --out data/ames.csv",
            ),
            stage(
                "split",
                "up to date",
                "",
                "scripts/amesops split --data data/ames.csv …",
            ),
            stage(
                "train",
                "changed",
                "params.yaml: train.alpha modified",
                "scripts/amesops train --data data/train.csv …",
            ),
            stage(
                "evaluate",
                "stale upstream",
                "train will change its inputs",
                "scripts/amesops evaluate --model models/model.json …",
            ),
        ],
        metrics: vec![
            ("rmse_log".into(), 0.1240),
            ("rmse".into(), 21948.3),
            ("r2".into(), 0.9260),
        ],
        data_quality: Some("2,930 rows · 1 value imputed in 1 row".into()),
        dvc: true,
    }
}

/// Log lines of a few requests.
pub fn log_lines() -> Vec<LogLine> {
    (0..40)
        .map(|i| {
            let (level, message, status) = match i % 7 {
                3 => ("WARN", "request rejected", 400),
                6 => ("ERROR", "prediction record could not be stored; it is logged here instead", 200),
                _ => ("INFO", "request served", 200),
            };
            LogLine {
                timestamp_ms: None,
                text: format!(
                    r#"{{"timestamp":"2026-11-27T10:{:02}:{:02}.000000Z","level":"{level}","message":"{message}","request_id":"req-{i:03}","method":"POST","path":"/predict","status":{status},"latency_us":{},"model_id":"3f9a1c2b7d10","price":{}}}"#,
                    i / 60,
                    i % 60,
                    180 + i * 7,
                    150_000 + i * 2_500
                ),
            }
        })
        .collect()
}

/// A page of prediction records.
pub fn records() -> RecordPage {
    let neighborhoods = [
        "NAmes", "CollgCr", "OldTown", "Edwards", "Somerst", "NridgHt",
    ];
    let rows = (0..30)
        .map(|i| {
            let price = 120_000.0 + (i as f64 * 7_919.0) % 180_000.0;
            let raw = serde_json::json!({
                "id": format!("00000000-0000-4000-8000-{i:012}"),
                "timestamp": format!("2026-11-27T09:{:02}:00.000000Z", 59 - i),
                "model_id": "3f9a1c2b7d10",
                "input": {"Neighborhood": neighborhoods[i % 6], "OverallQual": 5 + i % 4, "GrLivArea": 1000 + i * 37, "YearBuilt": 1960 + i},
                "imputed": ["LotFrontage"],
                "price": price,
                "latency_us": 41,
            });
            RecordRow::from_json(format!("predictions/dt=2026-11-27/20261127T09{:02}00.000000Z-{i}.json", 59 - i), raw)
        })
        .collect();
    RecordPage {
        rows,
        next: Some("predictions/dt=2026-11-27/x".into()),
        reference_deciles: vec![
            106_475.0, 124_000.0, 135_500.0, 147_000.0, 163_000.0, 179_280.0, 198_620.0, 230_000.0,
            278_000.0,
        ],
        unreadable: 0,
    }
}

/// Four tracked runs, one in production.
pub fn runs() -> Vec<RunRow> {
    let run = |id: &str, name: &str, alpha: &str, cv: f64, test: f64, production: bool| RunRow {
        // The first three trained the models of the three published versions (`deploy`).
        model_id: Some(
            match id {
                "a1b2c3d4e5f6" => "3f9a1c2b7d10",
                "b2c3d4e5f6a1" => "2f9a1c2b7d10",
                "c3d4e5f6a1b2" => "1f9a1c2b7d10",
                _ => "4b1c2d3e4f50",
            }
            .into(),
        ),
        run_id: id.into(),
        name: name.into(),
        start_time: "2026-11-27T08:00:00Z".into(),
        params: BTreeMap::from([
            ("train.alpha".into(), alpha.into()),
            ("train.l1_ratio".into(), "1.0".into()),
            ("split.seed".into(), "42".into()),
        ]),
        metrics: BTreeMap::from([
            ("cv_rmse_log".into(), cv),
            ("test_rmse_log".into(), test),
            ("cv_mae".into(), 13_700.0 + cv * 1000.0),
            ("test_r2".into(), 0.93 - cv / 10.0),
        ]),
        production,
    };
    vec![
        run(
            "a1b2c3d4e5f6",
            "alpha-0.0005",
            "0.0005",
            0.1082,
            0.1240,
            true,
        ),
        run(
            "b2c3d4e5f6a1",
            "alpha-0.001",
            "0.001",
            0.1094,
            0.1251,
            false,
        ),
        run(
            "c3d4e5f6a1b2",
            "alpha-0.0003",
            "0.0003",
            0.1089,
            0.1262,
            false,
        ),
        run("d4e5f6a1b2c3", "ridge-0.05", "0.05", 0.1170, 0.1302, false),
    ]
}

/// A small form schema.
pub fn schema() -> FormSchema {
    let select = |name: &str, levels: &[(&str, &str)], default: &str| FormField {
        name: name.into(),
        description: format!("{name} (documented levels)"),
        kind: "nominal".into(),
        levels: levels
            .iter()
            .map(|(c, l)| (c.to_string(), l.to_string()))
            .collect(),
        unit: None,
        default: default.into(),
        min: None,
        max: None,
    };
    let number = |name: &str, unit: &str, default: &str| FormField {
        name: name.into(),
        description: format!("{name} of the house"),
        kind: if unit == "grade" || unit == "count" || unit == "year" {
            "integer".into()
        } else {
            "real".into()
        },
        levels: Vec::new(),
        unit: Some(unit.into()),
        default: default.into(),
        min: Some(match unit {
            "grade" => 1.0,
            "year" => 1872.0,
            _ => 0.0,
        }),
        max: Some(match unit {
            "grade" => 10.0,
            "year" => 2010.0,
            "count" => 5.0,
            _ => 6_000.0,
        }),
    };
    FormSchema {
        model_id: "3f9a1c2b7d10".into(),
        fields: vec![
            select(
                "Neighborhood",
                &[
                    ("CollgCr", "College Creek"),
                    ("NAmes", "North Ames"),
                    ("OldTown", "Old Town"),
                ],
                "NAmes",
            ),
            number("OverallQual", "grade", "6"),
            number("GrLivArea", "sq ft", "1464"),
            number("YearBuilt", "year", "1973"),
            number("TotalBsmtSF", "sq ft", "991.5"),
            number("GarageCars", "count", "2"),
            select(
                "KitchenQual",
                &[
                    ("Po", "Poor"),
                    ("Fa", "Fair"),
                    ("TA", "Typical/Average"),
                    ("Gd", "Good"),
                    ("Ex", "Excellent"),
                ],
                "TA",
            ),
        ],
    }
}

/// A prediction that agrees with core-model.
pub fn outcome() -> PredictOutcome {
    PredictOutcome {
        remote: Ok(RemoteReply {
            price: 208_123.5,
            low: 187_000.0,
            high: 231_500.0,
            model_id: "3f9a1c2b7d10".into(),
            latency_ms: 1.2,
            imputed: vec!["LotFrontage".into(), "MasVnrArea".into()],
            unknown_levels: Vec::new(),
            stored: true,
            level: 0.8,
            method: "normalised_conformal".into(),
            explanation: explanation(),
            comparables: comparables(),
        }),
        local_price: Ok(208_123.5),
    }
}

fn explanation() -> core_model::explain::Explanation {
    use core_model::explain::{Contribution, FieldValue};
    let c = |feature: &str, value: FieldValue, log: f64| Contribution {
        feature: feature.into(),
        value,
        log,
        percent: (f64::exp(log) - 1.0) * 100.0,
    };
    core_model::explain::Explanation {
        base_log: 12.02,
        contributions: vec![
            c("GrLivArea", FieldValue::Number(1710.0), 0.131),
            c("OverallQual", FieldValue::Number(7.0), 0.094),
            c("Neighborhood", FieldValue::Level("CollgCr".into()), 0.041),
            c("HouseAge", FieldValue::Number(5.0), 0.038),
            c("TotalSF", FieldValue::Number(2566.0), 0.027),
            c("LotFrontage", FieldValue::Number(65.0), -0.012),
            c("KitchenQual", FieldValue::Level("Gd".into()), 0.009),
        ],
    }
}

fn comparables() -> Vec<core_model::comparables::Comparable> {
    [
        (1, 208_500.0, "2008-02", 1710.0),
        (599, 217_500.0, "2006-03", 1742.0),
    ]
    .into_iter()
    .map(
        |(id, sale_price, sold, area)| core_model::comparables::Comparable {
            id,
            sale_price,
            sold: sold.into(),
            neighborhood: "CollgCr".into(),
            fields: core_model::comparables::KeyFields {
                GrLivArea: area,
                OverallQual: 7.0,
                YearBuilt: 2003.0,
                ..Default::default()
            },
            distance: 0.0,
            adjusted_price: sale_price * 1.01,
        },
    )
    .collect()
}

/// A deployment with three versions.
pub fn deploy() -> DeployStatus {
    DeployStatus {
        function: "local predictor (in-process)".into(),
        alias: "live".into(),
        alias_version: "3".into(),
        routing: None,
        versions: (1..=3)
            .rev()
            .map(|v| VersionRow {
                version: v.to_string(),
                model_id: format!("{v}f9a1c2b7d10"),
                created: format!("2026-11-2{v}T08:00:00Z"),
            })
            .collect(),
        url: "http://127.0.0.1:8080".into(),
        model_id: "3f9a1c2b7d10".into(),
        metrics: vec![
            ("cv rmse_log".into(), 0.1082),
            ("cv rmse $".into(), 21038.0),
            ("cv r2".into(), 0.9294),
        ],
        health: Ok("model 3f9a1c2b7d10 · up 42 s".into()),
        served_model: Some("3f9a1c2b7d10".into()),
        candidate: Some("3f9a1c2b7d10".into()),
        canary: None,
    }
}

/// The deployment during a watched canary: 10 % to version 4, alarms OK.
pub fn deploy_canary() -> DeployStatus {
    let mut status = deploy();
    status.function = "amesops-predictor (eu-west-1)".into();
    status.url = "https://k3v9x2a1b0.execute-api.eu-west-1.amazonaws.com".into();
    status.routing = Some(("4".into(), 0.1));
    status.versions.insert(
        0,
        VersionRow {
            version: "4".into(),
            model_id: "4c0ffee51a2b".into(),
            created: "2026-12-02T05:10:00Z".into(),
        },
    );
    status.candidate = Some("4c0ffee51a2b".into());
    status.canary = Some(crate::tui::views::deploy::CanaryPanel {
        version: "4".into(),
        percent: 10.0,
        state: "watching".into(),
        seconds_left: 372,
        alarms: [
            "errors",
            "throttles",
            "duration-p99",
            "not-stored",
            "price-shift",
        ]
        .iter()
        .map(|a| ("OK".to_string(), format!("amesops-predictor-canary-v4-{a}")))
        .collect(),
    });
    status
}

/// A monitoring report: eight weeks of sales for the production model, one week of a
/// candidate, and drift with two fields flagged.
pub fn monitor() -> crate::operations::monitor::Report {
    use crate::operations::monitor::performance::WeekPerformance;
    use core_model::sketch::FieldDrift;
    let mut performance: Vec<WeekPerformance> = (0..8)
        .map(|i| WeekPerformance {
            model_id: "3f9a1c2b7d10".into(),
            week: format!("2026-W{:02}", 41 + i),
            week_start: String::new(),
            n: 20 + 3 * i,
            rmse_log: 0.11 + 0.004 * i as f64,
            mae: 14_500.0 + 400.0 * i as f64,
            mape: 8.1 + 0.3 * i as f64,
            coverage: Some(0.82 - 0.01 * i as f64),
            bias: -1_200.0 + 350.0 * i as f64,
            production: true,
        })
        .collect();
    performance.push(WeekPerformance {
        model_id: "4b1c2d3e4f50".into(),
        week: "2026-W48".into(),
        week_start: String::new(),
        n: 6,
        rmse_log: 0.097,
        mae: 12_900.0,
        mape: 7.4,
        coverage: None,
        bias: 800.0,
        production: false,
    });
    let field = |name: &str, psi: f64, change: f64| FieldDrift {
        field: name.into(),
        psi,
        missing_rate: change.max(0.0),
        reference_missing_rate: 0.0,
        missing_rate_change: change,
        n: 1_840,
        flagged: psi > 0.2,
    };
    crate::operations::monitor::Report {
        store: ".amesops".into(),
        from: "2026-10-28".into(),
        to: "2026-11-27".into(),
        model_id: Some("3f9a1c2b7d10".into()),
        production_model_id: Some("3f9a1c2b7d10".into()),
        records: 1_840,
        sales: 198,
        performance,
        drift: vec![
            field("GrLivArea", 0.412, 0.0),
            field("Neighborhood", 0.268, 0.0),
            field("predicted_price", 0.171, 0.0),
            field("YearBuilt", 0.064, 0.0),
            field("LotFrontage", 0.021, 0.12),
            field("OverallQual", 0.018, 0.0),
            field("GarageCars", 0.009, 0.0),
        ],
        flagged: vec!["GrLivArea".into(), "Neighborhood".into()],
        cache: crate::operations::monitor::CacheStats {
            days_cached: 30,
            days_computed: 1,
            records_read: 61,
        },
        notes: Vec::new(),
    }
}

/// Puts `view` into `state` with fixture data.
pub fn show(app: &mut App, view: ViewId, state: State, now: Instant) {
    let error = || "connection refused (127.0.0.1:8080)".to_string();
    let _ = app.on_key(
        crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char(char::from(
            b'1' + view.index() as u8,
        ))),
        now,
    );
    let loaded = match (view, state) {
        (_, State::Loading) => return,
        (ViewId::Pipeline, State::Data) => Loaded::Pipeline(Ok(pipeline())),
        (ViewId::Pipeline, State::Empty) => Loaded::Pipeline(Ok(PipelineSnapshot::default())),
        (ViewId::Pipeline, State::Error) => Loaded::Pipeline(Err(error())),
        (ViewId::Logs, State::Data) => Loaded::Logs(LogEvent::Lines(log_lines())),
        (ViewId::Logs, State::Empty) => Loaded::Logs(LogEvent::Mode(
            "following .amesops/logs/predictor.jsonl".into(),
        )),
        (ViewId::Logs, State::Error) => Loaded::Logs(LogEvent::Error(error())),
        (ViewId::Predictions, State::Data) => Loaded::Records(Ok(records())),
        (ViewId::Predictions, State::Empty) => Loaded::Records(Ok(RecordPage::default())),
        (ViewId::Predictions, State::Error) => Loaded::Records(Err(error())),
        (ViewId::Experiments, State::Data) => Loaded::Runs(Ok(runs())),
        (ViewId::Experiments, State::Empty) => Loaded::Runs(Ok(Vec::new())),
        (ViewId::Experiments, State::Error) => Loaded::Runs(Err(error())),
        (ViewId::Predict, State::Data) => {
            let _ = app.on_loaded(Loaded::Schema(Ok(schema())), now);
            app.predict.set_value("Neighborhood", "CollgCr");
            app.predict.set_value("GrLivArea", "1710");
            app.predict.set_value("OverallQual", "7");
            Loaded::Prediction(Ok(outcome()))
        }
        (ViewId::Predict, State::Empty) => Loaded::Schema(Ok(FormSchema::default())),
        (ViewId::Predict, State::Error) => Loaded::Schema(Err(error())),
        (ViewId::Deploy, State::Data) => Loaded::Deploy(Ok(deploy())),
        (ViewId::Deploy, State::Empty) => Loaded::Deploy(Ok(DeployStatus {
            versions: Vec::new(),
            alias_version: "–".into(),
            model_id: "–".into(),
            metrics: Vec::new(),
            candidate: None,
            ..deploy()
        })),
        (ViewId::Deploy, State::Error) => Loaded::Deploy(Err(error())),
        (ViewId::Monitor, State::Data) => Loaded::Monitor(Ok(monitor())),
        (ViewId::Monitor, State::Empty) => {
            Loaded::Monitor(Ok(crate::operations::monitor::Report {
                sales: 0,
                performance: Vec::new(),
                notes: vec!["no sales yet".into()],
                ..monitor()
            }))
        }
        (ViewId::Monitor, State::Error) => Loaded::Monitor(Err(error())),
    };
    let _ = app.on_loaded(loaded, now);
}
