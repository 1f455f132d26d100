//! Predictions view: stored records newest first, paged; histogram and drift against training.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Bar, BarChart, BarGroup, Block, Borders, Paragraph, Row, Table, TableState,
};

use super::{DrawContext, Intent, View};
use crate::tui::action::Command;
use crate::tui::widgets::status::{Remote, status_line};

/// One record as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    /// Storage key.
    pub key: String,
    /// When it was predicted.
    pub timestamp: String,
    /// Predicted price.
    pub price: f64,
    /// Model that priced it.
    pub model_id: String,
    /// A few inputs worth seeing in the list.
    pub summary: String,
    /// A deploy's smoke test made it (`"source": "smoke"`): not a real request, so it is
    /// left out of the list, the counts, the histogram and drift.
    pub smoke: bool,
    /// The whole record.
    pub raw: serde_json::Value,
}

impl RecordRow {
    /// Builds a row from a stored record's JSON.
    pub fn from_json(key: String, raw: serde_json::Value) -> RecordRow {
        let s = |v: &serde_json::Value, k: &str| {
            v.get(k).map(|x| match x {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        let input = raw.get("input").cloned().unwrap_or_default();
        let summary = ["Neighborhood", "OverallQual", "GrLivArea", "YearBuilt"]
            .iter()
            .map(|k| format!("{k}={}", s(&input, k).unwrap_or_else(|| "–".to_string())))
            .collect::<Vec<_>>()
            .join(" ");
        RecordRow {
            key,
            timestamp: s(&raw, "timestamp").unwrap_or_default(),
            price: raw
                .get("price")
                .and_then(|p| p.as_f64())
                .unwrap_or(f64::NAN),
            model_id: s(&raw, "model_id").unwrap_or_default(),
            summary,
            smoke: raw.get("source").and_then(|v| v.as_str()) == Some("smoke"),
            raw,
        }
    }
}

/// A page of records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordPage {
    /// Records, newest first.
    pub rows: Vec<RecordRow>,
    /// Cursor for the next page.
    pub next: Option<String>,
    /// Deciles of training sale prices (9 cut points), for drift.
    pub reference_deciles: Vec<f64>,
    /// Records that could not be read.
    pub unreadable: usize,
}

/// Population stability index of prices against the training deciles (bins of 10 % each).
pub fn psi(prices: &[f64], deciles: &[f64]) -> Option<f64> {
    if deciles.len() != 9 || prices.len() < 20 {
        return None;
    }
    let mut counts = [0usize; 10];
    for p in prices {
        counts[deciles.iter().filter(|d| p > d).count()] += 1;
    }
    let n = prices.len() as f64;
    Some(
        counts
            .iter()
            .map(|&c| {
                let actual = (c as f64 / n).max(1e-4);
                (actual - 0.1) * (actual / 0.1).ln()
            })
            .sum(),
    )
}

/// State of the Predictions view.
#[derive(Debug, Default)]
pub struct PredictionsView {
    /// Current page.
    pub page: Remote<RecordPage>,
    /// Cursors of the pages before this one (for going back).
    history: Vec<Option<String>>,
    current_cursor: Option<String>,
    table: TableState,
    filter: String,
    editing_filter: bool,
}

impl PredictionsView {
    /// Whether the filter box is taking keys.
    pub fn filtering(&self) -> bool {
        self.editing_filter
    }

    fn load(&mut self, after: Option<String>, now: std::time::Instant) -> Command {
        self.page.start(now);
        self.current_cursor = after.clone();
        Command::LoadRecords { after }
    }

    /// Takes a loaded page.
    pub fn on_loaded(&mut self, result: Result<RecordPage, String>, now: std::time::Instant) {
        self.page.finish(result, now);
        self.table
            .select(self.page.data().filter(|p| !p.rows.is_empty()).map(|_| 0));
    }

    fn visible(&self) -> Vec<&RecordRow> {
        self.page
            .data()
            .map(|p| {
                p.rows
                    .iter()
                    .filter(|r| !r.smoke)
                    .filter(|r| self.filter.is_empty() || r.raw.to_string().contains(&self.filter))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl View for PredictionsView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑/↓", "select"),
            ("enter", "full record"),
            ("n / p", "next / previous page"),
            ("/", "filter"),
            ("r", "refresh"),
        ]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        matches!(self.page, Remote::Idle).then(|| self.load(None, now))
    }

    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        Some(self.load(self.current_cursor.clone(), now))
    }

    fn capturing_text(&self) -> bool {
        self.editing_filter
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        if self.editing_filter {
            match key.code {
                KeyCode::Enter | KeyCode::Esc => self.editing_filter = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            self.table.select(Some(0));
            return None;
        }
        let count = self.visible().len();
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => self.table.select(Some(
                (self.table.selected().unwrap_or(0) + 1).min(count.saturating_sub(1)),
            )),
            KeyCode::Up | KeyCode::Char('k') => self
                .table
                .select(Some(self.table.selected().unwrap_or(0).saturating_sub(1))),
            KeyCode::Char('/') => {
                self.editing_filter = true;
                self.filter.clear();
            }
            KeyCode::Char('r') => return self.reload(now).map(Intent::Run),
            KeyCode::Char('n') => {
                let next = self.page.data().and_then(|p| p.next.clone());
                if let Some(next) = next {
                    self.history.push(self.current_cursor.clone());
                    return Some(Intent::Run(self.load(Some(next), now)));
                }
                return Some(Intent::Note("this is the last page".to_string()));
            }
            KeyCode::Char('p') => {
                if let Some(previous) = self.history.pop() {
                    return Some(Intent::Run(self.load(previous, now)));
                }
            }
            KeyCode::Enter => {
                let rows = self.visible();
                if let Some(row) = self.table.selected().and_then(|i| rows.get(i)) {
                    let text = serde_json::to_string_pretty(&row.raw).unwrap_or_default();
                    return Some(Intent::Detail(row.key.clone(), text));
                }
            }
            _ => {}
        }
        None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, body, chart] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(4),
            Constraint::Length(9),
        ])
        .areas(area);
        let mut status_spans = status_line(&self.page, ctx.now, ctx.frozen, theme, "r").spans;
        if !self.filter.is_empty() || self.editing_filter {
            status_spans.push(Span::styled(
                format!(
                    " · filter /{}{}",
                    self.filter,
                    if self.editing_filter { "▏" } else { "" }
                ),
                theme.accent(),
            ));
        }
        frame.render_widget(Paragraph::new(Line::from(status_spans)), status);
        let rows: Vec<RecordRow> = self.visible().into_iter().cloned().collect();
        let Some(page) = self.page.data() else {
            let message = if self.page.is_loading() {
                "loading prediction records…"
            } else {
                "no data"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                body,
            );
            return;
        };
        if rows.is_empty() {
            let message = if page.rows.iter().all(|r| r.smoke) {
                "no predictions stored yet — send one from the Predict view (5)"
            } else {
                "no record matches the filter"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                body,
            );
        } else {
            let table_rows: Vec<Row> = rows
                .iter()
                .map(|r| {
                    Row::new(vec![
                        r.timestamp
                            .get(..19)
                            .unwrap_or(&r.timestamp)
                            .replace('T', " "),
                        format!("${:>9.0}", r.price),
                        r.model_id.clone(),
                        r.summary.clone(),
                    ])
                })
                .collect();
            let smoke = page.rows.iter().filter(|r| r.smoke).count();
            let page_note = format!(
                " {} records{}{}{} ",
                rows.len(),
                if smoke > 0 {
                    format!(" · {smoke} smoke-test records left out")
                } else {
                    String::new()
                },
                if page.next.is_some() {
                    " · n next page"
                } else {
                    ""
                },
                if self.history.is_empty() {
                    ""
                } else {
                    " · p previous"
                }
            );
            let table = Table::new(
                table_rows,
                [
                    Constraint::Length(19),
                    Constraint::Length(10),
                    Constraint::Length(12),
                    Constraint::Min(20),
                ],
            )
            .header(Row::new(vec!["time (UTC)", "price", "model", "inputs"]).style(theme.accent()))
            .row_highlight_style(theme.selected())
            .block(Block::default().borders(Borders::TOP).title(page_note));
            frame.render_stateful_widget(table, body, &mut self.table);
        }
        let prices: Vec<f64> = rows
            .iter()
            .map(|r| r.price)
            .filter(|p| p.is_finite())
            .collect();
        draw_histogram(frame, chart, &prices, &page.reference_deciles, ctx);
    }
}

fn draw_histogram(
    frame: &mut Frame,
    area: Rect,
    prices: &[f64],
    deciles: &[f64],
    ctx: &DrawContext,
) {
    let theme = &ctx.theme;
    let drift = match psi(prices, deciles) {
        Some(v) if v < 0.1 => Span::styled(format!("drift PSI {v:.3}: stable"), theme.ok()),
        Some(v) if v < 0.25 => Span::styled(
            format!("drift PSI {v:.3}: moderate shift from training prices"),
            theme.warn(),
        ),
        Some(v) => Span::styled(
            format!("drift PSI {v:.3}: significant shift from training prices"),
            theme.error(),
        ),
        None if deciles.len() == 9 => {
            Span::styled("drift: needs 20+ predictions on the page", theme.dim())
        }
        None => Span::styled(
            "drift: the model has no training price reference",
            theme.dim(),
        ),
    };
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Line::from(vec![
            Span::raw(" predicted prices · "),
            drift,
            Span::raw(" "),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if prices.is_empty() {
        return;
    }
    let (lo, hi) = prices
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &p| {
            (a.min(p), b.max(p))
        });
    let bins = 10usize;
    let width = ((hi - lo) / bins as f64).max(1.0);
    let mut counts = vec![0u64; bins];
    for p in prices {
        counts[(((p - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let bars: Vec<Bar> = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            Bar::default().value(c).label(Line::from(format!(
                "{:.0}k",
                (lo + width * i as f64) / 1000.0
            )))
        })
        .collect();
    let bar_width = (inner.width / bins as u16).saturating_sub(1).max(1);
    frame.render_widget(
        BarChart::default()
            .data(BarGroup::default().bars(&bars))
            .bar_width(bar_width)
            .bar_gap(1)
            .bar_style(theme.accent()),
        inner,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psi_is_zero_for_prices_spread_like_training_and_large_when_shifted() {
        let deciles: Vec<f64> = (1..10).map(|d| d as f64 * 10.0).collect();
        let even: Vec<f64> = (0..100).map(|i| i as f64 + 0.5).collect();
        assert!(psi(&even, &deciles).is_some_and(|v| v.abs() < 1e-9));
        let shifted: Vec<f64> = (0..100).map(|i| 90.0 + i as f64).collect();
        assert!(psi(&shifted, &deciles).is_some_and(|v| v > 0.25));
    }
}
