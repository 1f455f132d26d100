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

/// Output lines kept for the run pane.
const OUTPUT_LINES: usize = 200;

/// State of the Pipeline view.
#[derive(Debug, Default)]
pub struct PipelineView {
    /// Status.
    pub snapshot: Remote<PipelineSnapshot>,
    table: TableState,
    /// Live run state per stage (overrides status while running).
    running: Vec<(String, String)>,
    output: VecDeque<String>,
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

    /// The run pane's lines, oldest first.
    pub fn run_output(&self) -> impl Iterator<Item = &str> {
        self.output.iter().map(String::as_str)
    }

    /// Takes a run event; returns true when the run ended (status should be reloaded).
    pub fn on_run(&mut self, event: RunEvent) -> bool {
        let mut set =
            |stage: String, state: String| match self.running.iter_mut().find(|(s, _)| *s == stage)
            {
                Some(slot) => slot.1 = state,
                None => self.running.push((stage, state)),
            };
        match event {
            RunEvent::Started(stage) => {
                self.run_active = true;
                set(stage.clone(), "running".to_string());
                self.output.push_back(format!("▶ {stage}"));
            }
            RunEvent::Skipped(stage) => set(stage, "up to date (skipped)".to_string()),
            RunEvent::Finished(stage, seconds) => {
                self.output.push_back(format!("✓ {stage} ({seconds:.1} s)"));
                set(stage, format!("done in {seconds:.1} s"));
            }
            RunEvent::Failed(stage, message) => {
                self.output.push_back(format!("✗ {stage}: {message}"));
                set(stage, "failed".to_string());
            }
            RunEvent::Output(line) => self.output.push_back(line),
            RunEvent::Done(ok) => {
                self.run_active = false;
                self.output.push_back(if ok {
                    "run finished".to_string()
                } else {
                    "run FAILED".to_string()
                });
                while self.output.len() > OUTPUT_LINES {
                    self.output.pop_front();
                }
                return true;
            }
        }
        while self.output.len() > OUTPUT_LINES {
            self.output.pop_front();
        }
        false
    }
}

impl View for PipelineView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑/↓", "select stage"),
            ("enter", "details"),
            ("r", "run the pipeline"),
            ("s", "run the selected stage"),
            ("u", "update status"),
        ]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.snapshot, Remote::Idle) {
            self.reload(now)
        } else {
            None
        }
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
            KeyCode::Char('u') => return self.reload(now).map(Intent::Run),
            KeyCode::Char('r') if self.run_active => {
                return Some(Intent::Note("a run is already in progress".to_string()));
            }
            KeyCode::Char('r') => return Some(Intent::Ask(Mutation::RunPipeline { stage: None })),
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
        let mut line = status_line(&self.snapshot, ctx.now, ctx.frozen, theme, "u");
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
                "no pipeline status: u to retry"
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
        let rows: Vec<Row> = snapshot
            .stages
            .iter()
            .map(|s| {
                let live = self
                    .running
                    .iter()
                    .find(|(n, _)| *n == s.name)
                    .map(|(_, st)| st.clone());
                let status = live.unwrap_or_else(|| s.status.clone());
                let style = if status.starts_with("up to date") || status.starts_with("done") {
                    theme.ok()
                } else if status == "failed" {
                    theme.error()
                } else {
                    theme.warn()
                };
                Row::new(vec![
                    Line::from(s.name.clone()),
                    Line::from(Span::styled(status, style)),
                    Line::from(s.why.clone()),
                    Line::from(Span::styled(s.cmd.clone(), theme.dim())),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(12),
                Constraint::Length(22),
                Constraint::Percentage(40),
                Constraint::Min(10),
            ],
        )
        .header(Row::new(vec!["stage", "status", "why", "command"]).style(theme.accent()))
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
        let lines: Vec<Line> = self
            .output
            .iter()
            .skip(self.output.len().saturating_sub(height))
            .map(|l| Line::from(l.clone()))
            .collect();
        let run_title = if self.run_active {
            " run output · running "
        } else {
            " run output "
        };
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(run_title)),
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
                    .map(|(k, v)| Line::from(format!("{k:<10} {}", metric(*v)))),
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
