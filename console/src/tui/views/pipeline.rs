//! Pipeline view: stages in DAG order with status and why, live output of runs, last metrics.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use super::{DrawContext, Intent, View};
use crate::tui::action::{Command, Mutation};
use crate::tui::widgets::status::{Remote, metric, status_line};

pub use crate::project::{PipelineSnapshot, StageRow};

/// Progress of a pipeline run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A stage started.
    Started(String),
    /// A stage was up to date.
    Skipped(String),
    /// A stage finished.
    Finished(String, f64),
    /// A stage failed.
    Failed(String, String),
    /// A line of output.
    Output(String),
    /// The run ended.
    Done(bool),
}

/// The line the run pane shows for an event, if any (the saved run log holds the same).
pub fn log_line(event: &RunEvent) -> Option<String> {
    match event {
        RunEvent::Started(stage) => Some(format!("▶ {stage}")),
        RunEvent::Skipped(_) => None,
        RunEvent::Finished(stage, seconds) => Some(format!("✓ {stage} ({seconds:.1} s)")),
        RunEvent::Failed(stage, message) => Some(format!("✗ {stage}: {message}")),
        RunEvent::Output(line) => Some(line.clone()),
        RunEvent::Done(true) => Some("run finished".to_string()),
        RunEvent::Done(false) => Some("run FAILED".to_string()),
    }
}

/// Output lines kept per run.
pub const OUTPUT_LINES: usize = 2_000;
/// Runs whose logs are kept.
pub const RUNS_KEPT: usize = 10;

/// The log of one run (pipeline run or retrain).
#[derive(Debug, Default, Clone)]
struct RunLog {
    title: String,
    lines: VecDeque<String>,
}

/// State of the Pipeline view.
#[derive(Debug, Default)]
pub struct PipelineView {
    /// Status.
    pub snapshot: Remote<PipelineSnapshot>,
    table: TableState,
    /// Live run state per stage (shown instead of the status while a run is in progress).
    running: Vec<(String, String)>,
    /// What the last finished run did per stage: history, shown apart from the status.
    last_run: Vec<(String, String)>,
    /// Logs of the last runs, oldest first.
    runs: VecDeque<RunLog>,
    /// Whether a run is in progress.
    pub run_active: bool,
}

impl PipelineView {
    /// Takes a status snapshot.
    pub fn on_loaded(&mut self, result: Result<PipelineSnapshot, String>, now: std::time::Instant) {
        self.snapshot.finish(result, now);
        if self.table.selected().is_none() {
            self.table.select(Some(0));
        }
    }

    /// A run starts: its output goes to a new log.
    pub fn begin_run(&mut self, title: String) {
        self.run_active = true;
        self.running.clear();
        self.runs.push_back(RunLog {
            title,
            lines: VecDeque::new(),
        });
        while self.runs.len() > RUNS_KEPT {
            self.runs.pop_front();
        }
    }

    /// Puts the runs an earlier console saved before this console's own (oldest first).
    pub fn restore(&mut self, saved: Vec<crate::tui::run_logs::SavedRun>) {
        let own = std::mem::take(&mut self.runs);
        self.runs = saved
            .into_iter()
            .map(|run| RunLog {
                title: run.title,
                lines: run.lines.into(),
            })
            .chain(own)
            .collect();
        while self.runs.len() > RUNS_KEPT {
            self.runs.pop_front();
        }
    }

    /// The last run's lines, oldest first.
    pub fn run_output(&self) -> impl Iterator<Item = &str> {
        self.runs
            .back()
            .into_iter()
            .flat_map(|r| r.lines.iter().map(String::as_str))
    }

    fn push_output(&mut self, line: String) {
        if self.runs.is_empty() {
            self.runs.push_back(RunLog {
                title: "run".to_string(),
                lines: VecDeque::new(),
            });
        }
        if let Some(run) = self.runs.back_mut() {
            run.lines.push_back(line);
            while run.lines.len() > OUTPUT_LINES {
                run.lines.pop_front();
            }
        }
    }

    /// Every kept run's log, newest first, for the scrollable detail.
    pub fn run_logs(&self) -> String {
        let mut text = Vec::new();
        for (i, run) in self.runs.iter().rev().enumerate() {
            text.push(format!(
                "── {}{} ──",
                run.title,
                if i == 0 { " (latest)" } else { "" }
            ));
            text.extend(run.lines.iter().cloned());
            text.push(String::new());
        }
        if text.is_empty() {
            text.push("no run yet: p runs the pipeline, s the selected stage".to_string());
        }
        text.join("\n")
    }

    /// Takes a run event; returns true when the run ended (status should be reloaded).
    pub fn on_run(&mut self, event: RunEvent) -> bool {
        if let Some(line) = log_line(&event) {
            self.push_output(line);
        }
        let mut set =
            |stage: String, state: String| match self.running.iter_mut().find(|(s, _)| *s == stage)
            {
                Some(slot) => slot.1 = state,
                None => self.running.push((stage, state)),
            };
        match event {
            RunEvent::Started(stage) => {
                self.run_active = true;
                set(stage, "running".to_string());
            }
            RunEvent::Skipped(stage) => set(stage, "skipped (up to date)".to_string()),
            RunEvent::Finished(stage, seconds) => set(stage, format!("ran in {seconds:.1} s")),
            RunEvent::Failed(stage, _) => set(stage, "failed".to_string()),
            RunEvent::Output(_) => {}
            RunEvent::Done(_) => {
                self.run_active = false;
                // What the run did is history now; the status comes from the next snapshot.
                self.last_run = std::mem::take(&mut self.running);
                return true;
            }
        }
        false
    }
}

impl View for PipelineView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑/↓", "select stage"),
            ("enter", "details"),
            ("p", "pipeline run (what changed)"),
            ("s", "stage run (the selected one)"),
            ("l", "logs of the runs (scroll)"),
            ("r", "refresh status"),
        ]
    }

    fn mutating_keys(&self) -> &'static [&'static str] {
        &["p", "s"]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.snapshot, Remote::Idle) || self.due(now) {
            self.reload(now)
        } else {
            None
        }
    }

    fn due(&self, now: std::time::Instant) -> bool {
        self.snapshot.due(now, super::every::PIPELINE)
    }

    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        self.snapshot.start(now);
        Some(Command::LoadPipeline)
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        let stages = self
            .snapshot
            .data()
            .map(|s| s.stages.clone())
            .unwrap_or_default();
        let selected = self.table.selected().unwrap_or(0);
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => self
                .table
                .select(Some((selected + 1).min(stages.len().saturating_sub(1)))),
            KeyCode::Up | KeyCode::Char('k') => self.table.select(Some(selected.saturating_sub(1))),
            KeyCode::Char('r') => return self.reload(now).map(Intent::Run),
            KeyCode::Char('p') if self.run_active => {
                return Some(Intent::Note("a run is already in progress".to_string()));
            }
            KeyCode::Char('p') => return Some(Intent::Ask(Mutation::RunPipeline { stage: None })),
            KeyCode::Char('l') => {
                return Some(Intent::Detail("run logs".to_string(), self.run_logs()));
            }
            KeyCode::Char('s') => {
                if let Some(stage) = stages.get(selected) {
                    return Some(Intent::Ask(Mutation::RunPipeline {
                        stage: Some(stage.name.clone()),
                    }));
                }
            }
            KeyCode::Enter => {
                if let Some(stage) = stages.get(selected) {
                    let mut text = vec![
                        format!("cmd: {}", stage.cmd),
                        format!("status: {} {}", stage.status, stage.why),
                    ];
                    text.extend(stage.details.iter().cloned());
                    return Some(Intent::Detail(
                        format!("stage {}", stage.name),
                        text.join("\n"),
                    ));
                }
            }
            _ => {}
        }
        None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, table_area, bottom] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(5),
            Constraint::Length(10),
        ])
        .areas(area);
        let mut line = status_line(&self.snapshot, ctx.now, ctx.frozen, theme, "r");
        if let Some(s) = self.snapshot.data() {
            line.spans.push(Span::styled(
                if s.dvc { " · runs use dvc repro" } else { " · DVC not installed: runs execute the stage commands (pip install \"dvc[s3]==3.67.1\")" },
                theme.dim(),
            ));
        }
        frame.render_widget(Paragraph::new(line), status);
        let Some(snapshot) = self.snapshot.data() else {
            let message = if self.snapshot.is_loading() {
                "reading dvc.yaml and dvc.lock…"
            } else {
                "no pipeline status: r to retry"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                table_area,
            );
            return;
        };
        if snapshot.stages.is_empty() {
            frame.render_widget(
                Paragraph::new(Span::styled("dvc.yaml has no stages", theme.dim())).centered(),
                table_area,
            );
        }
        // At 80 columns the command gives way to why a stage will run.
        let wide = table_area.width >= 110;
        let rows: Vec<Row> = snapshot
            .stages
            .iter()
            .map(|s| {
                // While a run is in progress its live state is the truth; otherwise the
                // snapshot's status is, and what the last run did is history beside it.
                let live = self
                    .run_active
                    .then(|| self.running.iter().find(|(n, _)| *n == s.name))
                    .flatten()
                    .map(|(_, st)| st.clone());
                let status = live.unwrap_or_else(|| s.status.clone());
                let style = if status.starts_with("up to date")
                    || status.starts_with("ran")
                    || status.starts_with("skipped")
                {
                    theme.ok()
                } else if status == "failed" {
                    theme.error()
                } else {
                    theme.warn()
                };
                let last = self
                    .last_run
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map(|(_, st)| st.clone())
                    .unwrap_or_default();
                let mut cells = vec![
                    Line::from(s.name.clone()),
                    Line::from(Span::styled(status, style)),
                    Line::from(Span::styled(last, theme.dim())),
                    Line::from(s.why.clone()),
                ];
                if wide {
                    cells.push(Line::from(Span::styled(s.cmd.clone(), theme.dim())));
                }
                Row::new(cells)
            })
            .collect();
        let mut widths = vec![
            Constraint::Length(10),
            Constraint::Length(16),
            Constraint::Length(if self.last_run.is_empty() { 8 } else { 20 }),
            Constraint::Min(16),
        ];
        let mut header = vec!["stage", "status", "last run", "why"];
        if wide {
            widths.push(Constraint::Percentage(35));
            header.push("command");
        }
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .row_highlight_style(theme.selected())
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(" stages (DAG order) "),
            );
        frame.render_stateful_widget(table, table_area, &mut self.table);
        let [output, metrics] =
            Layout::horizontal([Constraint::Percentage(65), Constraint::Percentage(35)])
                .areas(bottom);
        let height = output.height.saturating_sub(2) as usize;
        let lines: Vec<Line<'static>> = self
            .run_output()
            .map(|l| Line::from(l.to_string()))
            .collect();
        let lines = crate::tui::widgets::tail_rows(lines, output.width.saturating_sub(2), height);
        let run_title = if self.run_active {
            " run output · running · l full log "
        } else {
            " run output · l full log "
        };
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(ratatui::widgets::Wrap { trim: false })
                .block(Block::default().borders(Borders::ALL).title(run_title)),
            output,
        );
        // The fetch report's summary, one part per line (`2,930 rows`, `1 value imputed…`).
        let mut metric_lines: Vec<Line> = match &snapshot.data_quality {
            Some(summary) => summary
                .split(" · ")
                .enumerate()
                .map(|(i, part)| {
                    let label = if i == 0 { "data" } else { "" };
                    let style = if part.contains("imputed") || part.contains("skipped") {
                        theme.warn()
                    } else {
                        theme.ok()
                    };
                    Line::from(vec![
                        Span::styled(format!("{label:<11}"), theme.dim()),
                        Span::styled(part.to_string(), style),
                    ])
                })
                .collect(),
            None => vec![Line::from(Span::styled(
                "no data/fetch-report.json yet",
                theme.dim(),
            ))],
        };
        if snapshot.metrics.is_empty() {
            metric_lines.push(Line::from(Span::styled("no metrics.json yet", theme.dim())));
        } else {
            metric_lines.extend(
                snapshot
                    .metrics
                    .iter()
                    .map(|(k, v)| Line::from(format!("{k:<10} {}", metric(k, *v)))),
            );
        }
        frame.render_widget(
            Paragraph::new(metric_lines).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" data · last evaluation "),
            ),
            metrics,
        );
    }
}
