//! Monitor view: realized error per week from closed sales (a sparkline per metric, the
//! production model marked) and per-field drift of the window's records, highest PSI first.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

use super::{DrawContext, Intent, View};
use crate::operations::monitor::Report;
use crate::operations::monitor::performance::WeekPerformance;
use crate::tui::action::Command;
use crate::tui::widgets::status::{Remote, status_line};

/// State of the Monitor view.
#[derive(Debug, Default)]
pub struct MonitorView {
    /// The report.
    pub report: Remote<Report>,
}

/// Weeks a sparkline shows.
const SPARK_WEEKS: usize = 12;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline of `values` (oldest first), scaled between their smallest and largest.
pub fn sparkline(values: &[f64]) -> String {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    values
        .iter()
        .map(|v| {
            if !v.is_finite() {
                ' '
            } else if hi > lo {
                let i = (((v - lo) / (hi - lo)) * 7.0).round() as usize;
                BARS[i.min(7)]
            } else {
                BARS[3]
            }
        })
        .collect()
}

impl View for MonitorView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[("r", "refresh")]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.report, Remote::Idle) || self.due(now) {
            self.reload(now)
        } else {
            None
        }
    }

    fn due(&self, now: std::time::Instant) -> bool {
        self.report.due(now, super::every::MONITOR)
    }

    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        self.report.start(now);
        Some(Command::LoadMonitor)
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        match key.code {
            KeyCode::Char('r') => self.reload(now).map(Intent::Run),
            _ => None,
        }
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
        frame.render_widget(
            Paragraph::new(status_line(&self.report, ctx.now, ctx.frozen, theme, "r")),
            status,
        );
        let Some(report) = self.report.data() else {
            let message = if self.report.is_loading() {
                "reading records, sales and day summaries…"
            } else {
                "no monitoring report: r to retry"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                body,
            );
            return;
        };
        let [summary, performance, drift] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Percentage(55),
            Constraint::Min(4),
        ])
        .areas(body);
        frame.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(format!(" {} → {} ", report.from, report.to), theme.accent()),
                Span::raw(format!(
                    "· {} records · {} sales · reference model {} · {} days from summaries, {} read",
                    report.records,
                    report.sales,
                    report.model_id.as_deref().unwrap_or("?"),
                    report.cache.days_cached,
                    report.cache.days_computed
                )),
            ])),
            summary,
        );
        self.draw_performance(frame, performance, report, ctx);
        self.draw_drift(frame, drift, report, ctx);
    }
}

impl MonitorView {
    fn draw_performance(&self, frame: &mut Frame, area: Rect, report: &Report, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .title(" realized performance · per ISO week of the sale · * production ");
        if report.performance.is_empty() {
            frame.render_widget(
                Paragraph::new(vec![
                    Line::from(Span::styled("no sales yet", theme.warn())),
                    Line::from(Span::styled(
                        "import closed sales: amesops sales import FILE.csv (prediction_id or Id, SalePrice, sold_on) — or amesops simulate --days 90 for a demo",
                        theme.dim(),
                    )),
                ])
                .centered()
                .wrap(ratatui::widgets::Wrap { trim: true })
                .block(block),
                area,
            );
            return;
        }
        // At 80 columns the table keeps the width; the sparklines need a wider screen.
        let spark_width = if area.width >= 110 { 36 } else { 0 };
        let [table, sparks] =
            Layout::horizontal([Constraint::Min(60), Constraint::Length(spark_width)]).areas(area);
        let rows: Vec<Row> = report
            .performance
            .iter()
            .rev()
            .map(|p| {
                let style = if p.production {
                    theme.accent()
                } else {
                    theme.dim()
                };
                Row::new(vec![
                    p.week.clone(),
                    format!("{}{}", p.model_id, if p.production { "*" } else { "" }),
                    p.n.to_string(),
                    format!("{:.4}", p.rmse_log),
                    format!("{:.0}", p.mae),
                    format!("{:.2}", p.mape),
                    p.coverage
                        .map(|c| format!("{:.0}%", 100.0 * c))
                        .unwrap_or_else(|| "–".into()),
                    format!("{:+.0}", p.bias),
                ])
                .style(style)
            })
            .collect();
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(9),
                    Constraint::Length(14),
                    Constraint::Length(5),
                    Constraint::Length(9),
                    Constraint::Length(8),
                    Constraint::Length(7),
                    Constraint::Length(8),
                    Constraint::Length(8),
                ],
            )
            .header(
                Row::new(vec![
                    "week", "model", "n", "rmse_log", "mae $", "mape %", "coverage", "bias $",
                ])
                .style(theme.accent()),
            )
            .block(block),
            table,
        );
        // The sparklines follow the production model (else the model with the most sales).
        let model = report
            .production_model_id
            .clone()
            .filter(|m| report.performance.iter().any(|p| &p.model_id == m))
            .or_else(|| {
                report
                    .performance
                    .iter()
                    .max_by_key(|p| p.n)
                    .map(|p| p.model_id.clone())
            })
            .unwrap_or_default();
        let weeks: Vec<&WeekPerformance> = report
            .performance
            .iter()
            .filter(|p| p.model_id == model)
            .collect();
        let series = |f: &dyn Fn(&WeekPerformance) -> f64| -> String {
            let values: Vec<f64> = weeks.iter().map(|p| f(p)).collect();
            sparkline(&values[values.len().saturating_sub(SPARK_WEEKS)..])
        };
        let last = weeks.last();
        let line = |name: &str, spark: String, value: String| {
            Line::from(vec![
                Span::raw(format!("{name:<9}")),
                Span::styled(format!("{spark:<w$}", w = SPARK_WEEKS), theme.ok()),
                Span::raw(format!(" {value}")),
            ])
        };
        let lines = vec![
            line(
                "rmse_log",
                series(&|p| p.rmse_log),
                last.map(|p| format!("{:.3}", p.rmse_log))
                    .unwrap_or_default(),
            ),
            line(
                "mae",
                series(&|p| p.mae),
                last.map(|p| format!("{:.0}", p.mae)).unwrap_or_default(),
            ),
            line(
                "mape",
                series(&|p| p.mape),
                last.map(|p| format!("{:.1}%", p.mape)).unwrap_or_default(),
            ),
            line(
                "coverage",
                series(&|p| p.coverage.unwrap_or(f64::NAN)),
                last.and_then(|p| p.coverage)
                    .map(|c| format!("{:.0}%", 100.0 * c))
                    .unwrap_or_default(),
            ),
            line(
                "bias",
                series(&|p| p.bias),
                last.map(|p| format!("{:+.0}", p.bias)).unwrap_or_default(),
            ),
        ];
        frame.render_widget(
            Paragraph::new(lines).block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" {model} by week ")),
            ),
            sparks,
        );
    }

    fn draw_drift(&self, frame: &mut Frame, area: Rect, report: &Report, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let title = format!(
            " drift · PSI of every field against the training rows · {} flagged (> 0.2) ",
            report.flagged.len()
        );
        let block = Block::default().borders(Borders::ALL).title(title);
        if report.drift.is_empty() {
            let note = report
                .notes
                .iter()
                .find(|n| n.contains("sketch") || n.contains("no prediction records"))
                .cloned()
                .unwrap_or_else(|| "no records in the window".into());
            frame.render_widget(
                Paragraph::new(Span::styled(note, theme.dim()))
                    .centered()
                    .block(block),
                area,
            );
            return;
        }
        let height = area.height.saturating_sub(3) as usize;
        let rows: Vec<Row> = report
            .drift
            .iter()
            .take(height.max(1))
            .map(|d| {
                let bar = "█".repeat(((d.psi / 0.05).round() as usize).min(20));
                let style = if d.flagged {
                    theme.error()
                } else {
                    theme.dim()
                };
                Row::new(vec![
                    d.field.clone(),
                    format!("{:.3}", d.psi),
                    bar,
                    format!("{:+.1} pts", 100.0 * d.missing_rate_change),
                    d.n.to_string(),
                    if d.flagged {
                        "DRIFT".into()
                    } else {
                        String::new()
                    },
                ])
                .style(style)
            })
            .collect();
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(16),
                    Constraint::Length(7),
                    Constraint::Length(21),
                    Constraint::Length(12),
                    Constraint::Length(8),
                    Constraint::Length(6),
                ],
            )
            .header(Row::new(vec!["field", "psi", "", "missing", "n", ""]).style(theme.accent()))
            .block(block),
            area,
        );
    }
}
