//! Experiments view: tracked runs, sortable by metric, marked and compared side by side.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, Borders, Paragraph, Row, Table, TableState,
};

use super::{DrawContext, Intent, View};
use crate::tui::action::Command;
use crate::tui::widgets::status::{Remote, metric, status_line};

pub use crate::project::RunRow;

/// Metrics the table shows, in order.
const SHOWN_METRICS: &[&str] = &["cv_rmse_log", "test_rmse_log", "cv_mae", "test_r2"];

/// State of the Experiments view.
#[derive(Debug, Default)]
pub struct ExperimentsView {
    /// Runs.
    pub runs: Remote<Vec<RunRow>>,
    table: TableState,
    sort: usize,
    marked: BTreeSet<String>,
    /// Open comparison (run ids).
    pub comparing: Option<Vec<String>>,
    /// Runs waiting in the outbox for the tracker to be reachable again.
    pub waiting: usize,
}

impl ExperimentsView {
    /// Takes runs.
    pub fn on_loaded(&mut self, result: Result<Vec<RunRow>, String>, now: std::time::Instant) {
        self.runs.finish(result, now);
        self.sort_runs();
        if self.table.selected().is_none() {
            self.table.select(Some(0));
        }
    }

    fn sort_key(&self) -> &'static str {
        SHOWN_METRICS[self.sort % SHOWN_METRICS.len()]
    }

    fn sort_runs(&mut self) {
        let key = self.sort_key();
        let descending = key.ends_with("r2");
        if let Some(runs) = self.runs.data_mut() {
            runs.sort_by(|a, b| {
                let x = a.metrics.get(key).copied().unwrap_or(f64::INFINITY);
                let y = b.metrics.get(key).copied().unwrap_or(f64::INFINITY);
                if descending {
                    y.total_cmp(&x)
                } else {
                    x.total_cmp(&y)
                }
            });
        }
    }
}

impl View for ExperimentsView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑/↓", "select run"),
            ("space", "mark"),
            ("c", "compare marked"),
            ("o", "sort by next metric"),
            ("esc", "close comparison"),
            ("r", "refresh"),
        ]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.runs, Remote::Idle) {
            self.reload(now)
        } else {
            None
        }
    }

    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        self.runs.start(now);
        Some(Command::LoadRuns)
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        let runs = self.runs.data().cloned().unwrap_or_default();
        let selected = self.table.selected().unwrap_or(0);
        match key.code {
            KeyCode::Esc if self.comparing.is_some() => self.comparing = None,
            KeyCode::Down | KeyCode::Char('j') => self
                .table
                .select(Some((selected + 1).min(runs.len().saturating_sub(1)))),
            KeyCode::Up | KeyCode::Char('k') => self.table.select(Some(selected.saturating_sub(1))),
            KeyCode::Char(' ') => {
                if let Some(run) = runs.get(selected)
                    && !self.marked.remove(&run.run_id)
                {
                    self.marked.insert(run.run_id.clone());
                }
            }
            KeyCode::Char('c') => {
                if self.marked.len() < 2 {
                    return Some(Intent::Note(
                        "mark two or more runs with space, then c".to_string(),
                    ));
                }
                self.comparing = Some(
                    runs.iter()
                        .filter(|r| self.marked.contains(&r.run_id))
                        .map(|r| r.run_id.clone())
                        .collect(),
                );
            }
            KeyCode::Char('o') => {
                self.sort += 1;
                self.sort_runs();
            }
            KeyCode::Char('r') => return self.reload(now).map(Intent::Run),
            _ => {}
        }
        None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
        let mut line = status_line(&self.runs, ctx.now, ctx.frozen, theme, "r");
        line.spans.push(Span::styled(
            format!(
                " · sorted by {} · {} marked",
                self.sort_key(),
                self.marked.len()
            ),
            theme.dim(),
        ));
        if self.waiting > 0 {
            line.spans.push(Span::styled(
                format!(
                    " · {} run{} waiting to sync (amesops runs sync)",
                    self.waiting,
                    if self.waiting == 1 { "" } else { "s" }
                ),
                theme.warn(),
            ));
        }
        frame.render_widget(Paragraph::new(line), status);
        let Some(runs) = self.runs.data() else {
            let message = if self.runs.is_loading() {
                "loading runs from the tracker…"
            } else {
                "no runs: r to retry"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                body,
            );
            return;
        };
        if runs.is_empty() {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    "no runs tracked yet — train a model (R, or amesops train)",
                    theme.dim(),
                ))
                .centered(),
                body,
            );
            return;
        }
        if let Some(ids) = &self.comparing {
            let chosen: Vec<&RunRow> = ids
                .iter()
                .filter_map(|id| runs.iter().find(|r| &r.run_id == id))
                .collect();
            draw_comparison(frame, body, &chosen, ctx);
            return;
        }
        let mut header = vec!["", "run", "name", "started"];
        header.extend(SHOWN_METRICS.iter().copied());
        let rows: Vec<Row> = runs
            .iter()
            .map(|r| {
                let mark = format!(
                    "{}{}",
                    if self.marked.contains(&r.run_id) {
                        "●"
                    } else {
                        " "
                    },
                    if r.production { "★" } else { " " }
                );
                let mut cells = vec![
                    mark,
                    r.run_id.chars().take(8).collect(),
                    r.name.clone(),
                    r.start_time
                        .get(..16)
                        .unwrap_or(&r.start_time)
                        .replace('T', " "),
                ];
                cells.extend(SHOWN_METRICS.iter().map(|m| {
                    r.metrics
                        .get(*m)
                        .map(|v| metric(*v))
                        .unwrap_or_else(|| "–".to_string())
                }));
                Row::new(cells)
            })
            .collect();
        let mut widths = vec![
            Constraint::Length(2),
            Constraint::Length(9),
            Constraint::Length(18),
            Constraint::Length(17),
        ];
        widths.extend(SHOWN_METRICS.iter().map(|_| Constraint::Length(14)));
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .row_highlight_style(theme.selected())
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(" runs · ★ production · ● marked "),
            );
        frame.render_stateful_widget(table, body, &mut self.table);
    }
}

fn draw_comparison(frame: &mut Frame, area: Rect, runs: &[&RunRow], ctx: &DrawContext) {
    let theme = &ctx.theme;
    let [table_area, chart_area] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(8)]).areas(area);
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    let metric_keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.metrics.keys()).collect();
    let mut rows = Vec::new();
    for key in &keys {
        let values: Vec<String> = runs
            .iter()
            .map(|r| {
                r.params
                    .get(*key)
                    .cloned()
                    .unwrap_or_else(|| "–".to_string())
            })
            .collect();
        let differs = values.windows(2).any(|w| w[0] != w[1]);
        let mut cells = vec![Line::from(Span::styled(
            format!("{}{key}", if differs { "≠ " } else { "  " }),
            if differs { theme.warn() } else { theme.dim() },
        ))];
        cells.extend(values.into_iter().map(Line::from));
        rows.push(Row::new(cells));
    }
    for key in &metric_keys {
        let base = runs.first().and_then(|r| r.metrics.get(*key)).copied();
        let mut cells = vec![Line::from(Span::styled(format!("  {key}"), theme.accent()))];
        cells.extend(
            runs.iter()
                .enumerate()
                .map(|(i, r)| match (r.metrics.get(*key), base) {
                    (Some(v), Some(b)) if i > 0 => Line::from(format!("{v:.4} ({:+.4})", v - b)),
                    (Some(v), _) => Line::from(format!("{v:.4}")),
                    (None, _) => Line::from("–"),
                }),
        );
        rows.push(Row::new(cells));
    }
    let mut header = vec![Line::from("param / metric")];
    header.extend(runs.iter().map(|r| {
        Line::from(format!(
            "{}{}",
            r.run_id.chars().take(8).collect::<String>(),
            if r.production { " ★" } else { "" }
        ))
    }));
    let mut widths = vec![Constraint::Length(26)];
    widths.extend(runs.iter().map(|_| Constraint::Length(20)));
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(" compare · ≠ differs · deltas vs first · esc back "),
            ),
        table_area,
    );
    let metric = "cv_rmse_log";
    let bars: Vec<Bar> = runs
        .iter()
        .filter_map(|r| {
            r.metrics.get(metric).map(|v| {
                Bar::default()
                    .value((v * 10_000.0) as u64)
                    .text_value(format!("{v:.4}"))
                    .label(Line::from(r.run_id.chars().take(8).collect::<String>()))
            })
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(10)
            .bar_gap(2)
            .bar_style(theme.accent())
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(format!(" {metric} (lower is better) ")),
            ),
        chart_area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::Theme;

    fn screen(view: &mut ExperimentsView) -> String {
        let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 8))
            .unwrap_or_else(|e| match e {});
        let ctx = DrawContext {
            theme: Theme { color: false },
            now: std::time::Instant::now(),
            frozen: true,
        };
        terminal
            .draw(|frame| view.draw(frame, frame.area(), &ctx))
            .unwrap_or_else(|e| match e {});
        terminal.backend().to_string()
    }

    #[test]
    fn runs_waiting_in_the_outbox_are_counted_in_the_status_line() {
        let mut view = ExperimentsView::default();
        view.on_loaded(
            Err("MLflow at http://t:5000 is out of reach".into()),
            std::time::Instant::now(),
        );
        assert!(!screen(&mut view).contains("waiting to sync"));
        view.waiting = 2;
        let text = screen(&mut view);
        assert!(text.contains("2 runs waiting to sync"), "{text}");
    }
}
