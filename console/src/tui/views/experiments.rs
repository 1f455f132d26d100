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

/// Parameters whose values differ between runs.
pub fn varying_params(runs: &[RunRow]) -> Vec<String> {
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    keys.into_iter()
        .filter(|k| {
            let values: BTreeSet<Option<&String>> = runs.iter().map(|r| r.params.get(*k)).collect();
            values.len() > 1
        })
        .cloned()
        .collect()
}

/// A difference formatted like its metric, with its sign.
fn delta_of(key: &str, d: f64) -> String {
    let sign = if d < 0.0 { "-" } else { "+" };
    format!("{sign}{}", metric(key, d.abs()))
}

/// The metric the deploy gate compares, else the cross-validated one.
fn gate_metric(runs: &[&RunRow]) -> &'static str {
    if runs.iter().any(|r| r.metrics.contains_key("test_rmse_log")) {
        "test_rmse_log"
    } else {
        "cv_rmse_log"
    }
}

/// A run as a reader wants it; `deployed` says whether and where its model is deployed (the
/// Deploy view's status, which the app holds).
pub fn run_detail(run: &RunRow, deployed: &str) -> String {
    let mut lines = vec![
        format!("run        {}", run.run_id),
        format!("name       {}", run.name),
        format!("started    {}", run.start_time.replace('T', " ")),
        format!(
            "model      {}",
            run.model_id
                .as_deref()
                .unwrap_or("– (the run recorded no model id)")
        ),
        format!("deployed   {deployed}"),
        format!(
            "production {}",
            if run.production {
                "yes: its model is the registry's production version"
            } else {
                "no"
            }
        ),
        String::new(),
        format!("params ({})", run.params.len()),
    ];
    lines.extend(run.params.iter().map(|(k, v)| format!("  {k:<28} {v}")));
    lines.push(String::new());
    lines.push(format!("metrics ({})", run.metrics.len()));
    lines.extend(
        run.metrics
            .iter()
            .map(|(k, v)| format!("  {k:<28} {}", metric(k, *v))),
    );
    lines.join("\n")
}

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
    /// First row of the comparison shown.
    compare_scroll: u16,
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
            ("enter", "run detail (model, where deployed)"),
            ("v", "version deployed (view 6: picked, b rolls back to it)"),
            ("space", "mark"),
            ("c", "compare marked"),
            ("o", "sort by next metric"),
            ("esc", "close comparison"),
            ("r", "refresh"),
        ]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.runs, Remote::Idle) || self.due(now) {
            self.reload(now)
        } else {
            None
        }
    }

    fn due(&self, now: std::time::Instant) -> bool {
        self.runs.due(now, super::every::EXPERIMENTS)
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
            KeyCode::Down | KeyCode::Char('j') if self.comparing.is_some() => {
                self.compare_scroll = self.compare_scroll.saturating_add(1);
            }
            KeyCode::Up | KeyCode::Char('k') if self.comparing.is_some() => {
                self.compare_scroll = self.compare_scroll.saturating_sub(1);
            }
            KeyCode::Enter => {
                if let Some(run) = runs.get(selected) {
                    return Some(Intent::RunDetail(Box::new(run.clone())));
                }
            }
            KeyCode::Char('v') => {
                if let Some(run) = runs.get(selected) {
                    return Some(Intent::ShowVersion(Box::new(run.clone())));
                }
            }
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
                self.compare_scroll = 0;
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
            draw_comparison(frame, body, &chosen, self.compare_scroll, ctx);
            return;
        }
        // The name column fits the longest name; parameters that differ between runs get
        // columns next (the one thing changed is what a reader looks for); the start time
        // only where there is room.
        let name_width = runs
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 40);
        let metric_width = |m: &str| m.chars().count().max(8) + 1;
        let metrics_width: usize = SHOWN_METRICS.iter().map(|m| metric_width(m)).sum();
        // Every column is followed by one space of the table's spacing.
        let mut room = usize::from(body.width)
            .saturating_sub(3 + 9 + name_width + 1 + metrics_width + SHOWN_METRICS.len());
        let mut params: Vec<(String, usize)> = Vec::new();
        for key in varying_params(runs) {
            let short = key.rsplit('.').next().unwrap_or(&key).to_string();
            let width = runs
                .iter()
                .filter_map(|r| r.params.get(&key))
                .map(|v| v.chars().count())
                .chain(std::iter::once(short.chars().count()))
                .max()
                .unwrap_or(4)
                .min(14);
            if width + 1 > room {
                break;
            }
            room -= width + 1;
            params.push((key, width));
        }
        let started = room >= 17;
        if started {
            room -= 17;
        }
        // The model each run trained, where there is room too (enter says where it is
        // deployed).
        let model = room >= 13 && runs.iter().any(|r| r.model_id.is_some());
        let mut header: Vec<String> = vec![String::new(), "run".into(), "name".into()];
        header.extend(
            params
                .iter()
                .map(|(k, _)| k.rsplit('.').next().unwrap_or(k).to_string()),
        );
        if started {
            header.push("started".into());
        }
        if model {
            header.push("model".into());
        }
        header.extend(SHOWN_METRICS.iter().map(|m| m.to_string()));
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
                let mut cells = vec![mark, r.run_id.chars().take(8).collect(), r.name.clone()];
                cells.extend(
                    params
                        .iter()
                        .map(|(k, _)| r.params.get(k).cloned().unwrap_or_else(|| "–".to_string())),
                );
                if started {
                    cells.push(
                        r.start_time
                            .get(..16)
                            .unwrap_or(&r.start_time)
                            .replace('T', " "),
                    );
                }
                if model {
                    cells.push(r.model_id.clone().unwrap_or_else(|| "–".to_string()));
                }
                cells.extend(SHOWN_METRICS.iter().map(|m| {
                    r.metrics
                        .get(*m)
                        .map(|v| metric(m, *v))
                        .unwrap_or_else(|| "–".to_string())
                }));
                Row::new(cells)
            })
            .collect();
        let mut widths = vec![
            Constraint::Length(2),
            Constraint::Length(8),
            Constraint::Length(name_width as u16),
        ];
        widths.extend(params.iter().map(|(_, w)| Constraint::Length(*w as u16)));
        if started {
            widths.push(Constraint::Length(16));
        }
        if model {
            widths.push(Constraint::Length(12));
        }
        widths.extend(
            SHOWN_METRICS
                .iter()
                .map(|m| Constraint::Length(metric_width(m) as u16)),
        );
        let table = Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .row_highlight_style(theme.selected())
            .block(
                Block::default()
                    .borders(Borders::TOP)
                    .title(" runs · ★ production · ● marked · enter detail "),
            );
        frame.render_stateful_widget(table, body, &mut self.table);
    }
}

fn draw_comparison(
    frame: &mut Frame,
    area: Rect,
    runs: &[&RunRow],
    scroll: u16,
    ctx: &DrawContext,
) {
    let theme = &ctx.theme;
    let [table_area, chart_area] =
        Layout::vertical([Constraint::Min(5), Constraint::Length(8)]).areas(area);
    let keys: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    let gate = gate_metric(runs);
    // The gate's metric first: it decides deploys.
    let mut metric_keys: Vec<&String> = runs
        .iter()
        .flat_map(|r| r.metrics.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    metric_keys.sort_by_key(|k| k.as_str() != gate);
    let mut rows = Vec::new();
    for key in &metric_keys {
        let base = runs.first().and_then(|r| r.metrics.get(*key)).copied();
        let mut cells = vec![Line::from(Span::styled(
            format!(
                "  {key}{}",
                if key.as_str() == gate { " (gate)" } else { "" }
            ),
            theme.accent(),
        ))];
        cells.extend(
            runs.iter()
                .enumerate()
                .map(|(i, r)| match (r.metrics.get(*key), base) {
                    (Some(v), Some(b)) if i > 0 => {
                        Line::from(format!("{} ({})", metric(key, *v), delta_of(key, v - b)))
                    }
                    (Some(v), _) => Line::from(metric(key, *v)),
                    (None, _) => Line::from("–"),
                }),
        );
        rows.push(Row::new(cells));
    }
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
    let total = rows.len();
    let visible = usize::from(table_area.height.saturating_sub(2)).max(1);
    let first = usize::from(scroll).min(total.saturating_sub(visible));
    let rows: Vec<Row> = rows.into_iter().skip(first).collect();
    let mut header = vec![Line::from("metric / param")];
    header.extend(runs.iter().map(|r| {
        Line::from(format!(
            "{}{}",
            r.name,
            if r.production { " ★" } else { "" }
        ))
    }));
    let label_width = metric_keys
        .iter()
        .chain(keys.iter())
        .map(|k| k.chars().count() + 9)
        .max()
        .unwrap_or(20)
        .min(34) as u16;
    let mut widths = vec![Constraint::Length(label_width)];
    widths.extend(runs.iter().map(|_| Constraint::Min(22)));
    frame.render_widget(
        Table::new(rows, widths)
            .header(Row::new(header).style(theme.accent()))
            .block(Block::default().borders(Borders::TOP).title(format!(
                " compare · rows {}–{} of {total} · ↑/↓ scroll · ≠ differs · deltas vs first · esc back ",
                first + 1,
                (first + visible).min(total)
            ))),
        table_area,
    );
    // Bars scaled to the metric's range across the runs, so 0.1094 and 0.1082 differ.
    let values: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.metrics.get(gate))
        .copied()
        .collect();
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let bars: Vec<Bar> = runs
        .iter()
        .filter_map(|r| {
            r.metrics.get(gate).map(|v| {
                let scaled = if hi > lo {
                    10.0 + 90.0 * (v - lo) / (hi - lo)
                } else {
                    50.0
                };
                Bar::default()
                    .value(scaled as u64)
                    .text_value(format!("{v:.4}"))
                    .label(Line::from(r.name.chars().take(12).collect::<String>()))
            })
        })
        .collect();
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(12)
            .bar_gap(2)
            .max(100)
            .bar_style(theme.accent())
            .block(Block::default().borders(Borders::TOP).title(format!(
                " {gate} (lower is better; bars span {} to {}) ",
                metric(gate, lo),
                metric(gate, hi)
            ))),
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
            read_only: false,
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
