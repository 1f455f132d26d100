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
use crate::tui::widgets::filter::Filter;
use crate::tui::widgets::status::{Remote, dollars, status_line};

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

/// Columns always shown before the inputs that vary.
const FIXED_COLUMNS: [&str; 3] = ["time (UTC)", "price", "model"];

/// A record's field as the list shows it, by lower-case name: `price`, `model`, `time`, or
/// an input field.
fn field_of(row: &RecordRow, key: &str) -> Option<String> {
    match key {
        "price" => Some(format!("{:.0}", row.price)),
        "model" | "model_id" => Some(row.model_id.clone()),
        "time" | "timestamp" => Some(row.timestamp.clone()),
        _ => row
            .raw
            .get("input")?
            .as_object()?
            .iter()
            .find_map(|(k, v)| {
                k.eq_ignore_ascii_case(key).then(|| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }),
    }
}

/// Input fields whose values differ between `rows`, most often given first.
pub fn varying_fields(rows: &[&RecordRow]) -> Vec<String> {
    let mut seen: std::collections::BTreeMap<String, (usize, std::collections::BTreeSet<String>)> =
        std::collections::BTreeMap::new();
    for row in rows {
        if let Some(input) = row.raw.get("input").and_then(|i| i.as_object()) {
            for (k, v) in input {
                let entry = seen.entry(k.clone()).or_default();
                entry.0 += 1;
                entry.1.insert(v.to_string());
            }
        }
    }
    let seen_all: Vec<(String, usize, usize)> = seen
        .iter()
        .map(|(k, (n, values))| (k.clone(), *n, values.len()))
        .collect();
    let mut fields: Vec<(String, usize, usize)> = seen
        .into_iter()
        .map(|(k, (n, values))| (k, n, values.len()))
        .filter(|(_, n, distinct)| *distinct > 1 || *n < rows.len())
        .collect();
    // Rows that all give the same fields the same values still show what they gave.
    if fields.is_empty() {
        fields = seen_all;
    }
    fields.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    fields.into_iter().map(|(k, _, _)| k).collect()
}

fn short_time(timestamp: &str) -> String {
    timestamp.get(..19).unwrap_or(timestamp).replace('T', " ")
}

/// The record as a reader wants it: price first, then what was given, then what was imputed.
pub fn detail_text(row: &RecordRow) -> String {
    let raw = &row.raw;
    let text = |k: &str| {
        raw.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("–")
            .to_string()
    };
    let mut lines = vec![
        format!("price      {}", dollars(row.price)),
        format!("model      {}", row.model_id),
        format!("time       {} UTC", short_time(&row.timestamp)),
        format!("id         {}", text("id")),
    ];
    if let Some(us) = raw.get("latency_us").and_then(|v| v.as_f64()) {
        lines.push(format!("latency    {:.1} ms", us / 1000.0));
    }
    lines.push(String::new());
    let input = raw.get("input").and_then(|i| i.as_object());
    lines.push(format!("given ({} fields)", input.map_or(0, |m| m.len())));
    for (k, v) in input.into_iter().flatten() {
        let v = match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        lines.push(format!("  {k:<16} {v}"));
    }
    let list = |k: &str| -> Vec<String> {
        raw.get(k)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (title, key) in [
        ("unknown levels", "unknown_levels"),
        ("out of range (clipped)", "out_of_range"),
        ("imputed", "imputed"),
    ] {
        let values = list(key);
        if values.is_empty() {
            continue;
        }
        lines.push(String::new());
        lines.push(format!("{title} ({})", values.len()));
        for chunk in values.chunks(6) {
            lines.push(format!("  {}", chunk.join(", ")));
        }
    }
    lines.join("\n")
}

/// The filter term that chooses the list's columns: `cols:GrLivArea,YearBuilt`.
pub const COLUMNS_TERM: &str = "cols:";

/// Splits a filter into its `cols:` choice (input fields, in order) and the filter proper.
pub fn split_columns(filter: &str) -> (Vec<String>, String) {
    let mut columns = Vec::new();
    let mut rest = Vec::new();
    for word in filter.split_whitespace() {
        match word
            .get(..COLUMNS_TERM.len())
            .filter(|p| p.eq_ignore_ascii_case(COLUMNS_TERM))
        {
            Some(_) => columns.extend(
                word[COLUMNS_TERM.len()..]
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .filter(|c| {
                        // The fixed columns always show.
                        !["price", "model", "model_id", "time", "timestamp"]
                            .iter()
                            .any(|f| f.eq_ignore_ascii_case(c))
                    })
                    .map(str::to_string),
            ),
            None => rest.push(word),
        }
    }
    (columns, rest.join(" "))
}

impl PredictionsView {
    /// Sets the filter (a link from another view: `model=<id>`), keeping chosen columns.
    pub fn set_filter(&mut self, filter: &str) {
        let (columns, _) = split_columns(&self.filter);
        self.filter = if columns.is_empty() {
            filter.to_string()
        } else {
            format!("{filter} {COLUMNS_TERM}{}", columns.join(","))
        };
        self.editing_filter = false;
        self.table.select(Some(0));
    }

    /// The columns after the fixed ones: those chosen with `cols:`, else the input fields
    /// that vary across the page. A chosen field is named as the records name it.
    pub fn columns(&self, real: &[&RecordRow]) -> Vec<String> {
        let (chosen, _) = split_columns(&self.filter);
        if chosen.is_empty() {
            return varying_fields(real);
        }
        chosen
            .into_iter()
            .map(|c| {
                real.iter()
                    .filter_map(|r| r.raw.get("input")?.as_object())
                    .flat_map(|input| input.keys())
                    .find(|k| k.eq_ignore_ascii_case(&c))
                    .cloned()
                    .unwrap_or(c)
            })
            .collect()
    }

    /// Whether the filter box is taking keys.
    pub fn filtering(&self) -> bool {
        self.editing_filter
    }

    fn load(&mut self, after: Option<String>, now: std::time::Instant) -> Command {
        self.page.start(now);
        if self.current_cursor != after {
            self.table.select(None);
        }
        self.current_cursor = after.clone();
        Command::LoadRecords { after }
    }

    /// Takes a loaded page.
    pub fn on_loaded(&mut self, result: Result<RecordPage, String>, now: std::time::Instant) {
        self.page.finish(result, now);
        // A refresh keeps the selected row (clamped); a new page starts at its top.
        let count = self.visible().len();
        let selected = self.table.selected().unwrap_or(0);
        self.table
            .select((count > 0).then(|| selected.min(count - 1)));
    }

    fn parsed_filter(&self) -> Result<Filter, String> {
        Filter::parse(&split_columns(&self.filter).1)
    }

    fn row_text(row: &RecordRow, columns: &[String]) -> String {
        let mut text = format!(
            "{} {} {}",
            short_time(&row.timestamp),
            dollars(row.price),
            row.model_id
        );
        for c in columns {
            text.push(' ');
            text.push_str(&field_of(row, &c.to_lowercase()).unwrap_or_default());
        }
        text
    }

    /// The page's real records (smoke tests left out).
    fn real(&self) -> Vec<&RecordRow> {
        self.page
            .data()
            .map(|p| p.rows.iter().filter(|r| !r.smoke).collect())
            .unwrap_or_default()
    }

    fn visible(&self) -> Vec<&RecordRow> {
        let real = self.real();
        let columns = self.columns(&real);
        // An unfinished or wrong filter shows everything (and says why in the status line).
        let Ok(filter) = self.parsed_filter() else {
            return real;
        };
        real.into_iter()
            .filter(|r| filter.matches(&|k: &str| field_of(r, k), &Self::row_text(r, &columns)))
            .collect()
    }
}

impl View for PredictionsView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑/↓", "select"),
            ("enter", "record"),
            (
                "/",
                "filter (price>300k Neighborhood=NridgHt; cols:GrLivArea,YearBuilt picks the columns)",
            ),
            ("n/p", "next / previous page"),
            ("e", "edit in the Predict form"),
            ("l", "log lines of this prediction"),
            ("r", "refresh"),
        ]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.page, Remote::Idle) {
            Some(self.load(None, now))
        } else if self.due(now) {
            self.reload(now)
        } else {
            None
        }
    }

    fn due(&self, now: std::time::Instant) -> bool {
        self.page.due(now, super::every::PREDICTIONS)
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
                    return Some(Intent::Detail(row.key.clone(), detail_text(row)));
                }
            }
            KeyCode::Char('l') => {
                let rows = self.visible();
                if let Some(row) = self.table.selected().and_then(|i| rows.get(i)) {
                    // The log line of a prediction names its record's id.
                    let id = row
                        .raw
                        .get("id")
                        .and_then(|id| id.as_str())
                        .unwrap_or_default();
                    return Some(Intent::ShowLogs(format!("prediction_id={id}")));
                }
            }
            KeyCode::Char('e') => {
                let rows = self.visible();
                if let Some(row) = self.table.selected().and_then(|i| rows.get(i)) {
                    return Some(Intent::LoadHouse {
                        input: row.raw.get("input").cloned().unwrap_or_default(),
                        actual: None,
                    });
                }
            }
            _ => {}
        }
        None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let chart_rows = if area.height >= 24 { 9 } else { 6 };
        let [status, body, chart] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(4),
            Constraint::Length(chart_rows),
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
            if let Err(e) = self.parsed_filter() {
                status_spans.push(Span::styled(format!(" ✗ {e}"), theme.error()));
            }
            // A chosen column no record on the page gives is named, not silently empty.
            let real = self.real();
            let unknown: Vec<String> = split_columns(&self.filter)
                .0
                .into_iter()
                .filter(|c| {
                    real.iter()
                        .all(|r| field_of(r, &c.to_lowercase()).is_none())
                })
                .collect();
            if !unknown.is_empty() && !real.is_empty() {
                status_spans.push(Span::styled(
                    format!(" ✗ no record here gives {}", unknown.join(", ")),
                    theme.error(),
                ));
            }
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
        let real: Vec<&RecordRow> = page.rows.iter().filter(|r| !r.smoke).collect();
        if rows.is_empty() {
            let message = if real.is_empty() {
                "no predictions stored yet — send one from the Predict view (5)".to_string()
            } else {
                format!(
                    "no record matches the filter (0 of {} on this page) · / to change it",
                    real.len()
                )
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                body,
            );
        } else {
            // The chosen columns (`cols:`), else the inputs that vary across the page, get
            // the room, as many as fit.
            let mut room = usize::from(body.width).saturating_sub(19 + 10 + 13 + 3);
            let mut columns: Vec<(String, u16)> = Vec::new();
            for name in self.columns(&real) {
                let lower = name.to_lowercase();
                let width = rows
                    .iter()
                    .filter_map(|r| field_of(r, &lower))
                    .map(|v| v.chars().count())
                    .chain(std::iter::once(name.chars().count()))
                    .max()
                    .unwrap_or(4)
                    .min(16);
                if width + 1 > room {
                    break;
                }
                room -= width + 1;
                columns.push((name, width as u16));
            }
            let table_rows: Vec<Row> = rows
                .iter()
                .map(|r| {
                    let mut cells = vec![
                        short_time(&r.timestamp),
                        format!("{:>9}", dollars(r.price)),
                        r.model_id.clone(),
                    ];
                    cells.extend(columns.iter().map(|(c, _)| {
                        field_of(r, &c.to_lowercase()).unwrap_or_else(|| "·".to_string())
                    }));
                    Row::new(cells)
                })
                .collect();
            let smoke = page.rows.len() - real.len();
            let page_note = format!(
                " page {} · {} of {} records{}{}{}{} ",
                self.history.len() + 1,
                rows.len(),
                real.len(),
                if rows.len() < real.len() {
                    " (filtered)"
                } else {
                    ""
                },
                if smoke > 0 {
                    format!(" · {smoke} smoke-test records left out")
                } else {
                    String::new()
                },
                if page.next.is_some() {
                    " · n next page"
                } else {
                    " · last page"
                },
                if self.history.is_empty() {
                    ""
                } else {
                    " · p previous"
                }
            );
            let mut widths = vec![
                Constraint::Length(19),
                Constraint::Length(10),
                Constraint::Length(12),
            ];
            widths.extend(columns.iter().map(|(_, w)| Constraint::Length(*w)));
            let mut header: Vec<String> = FIXED_COLUMNS.iter().map(|s| s.to_string()).collect();
            header.extend(columns.iter().map(|(c, _)| c.clone()));
            let table = Table::new(table_rows, widths)
                .header(Row::new(header).style(theme.accent()))
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
        None if deciles.len() == 9 => Span::styled(
            format!("drift: needs 20+ predictions ({} shown)", prices.len()),
            theme.dim(),
        ),
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
    // Few or identical prices get as many bins as they have values (one bar for one
    // price), never ten bars under the same label.
    let mut distinct: Vec<i64> = prices.iter().map(|p| p.round() as i64).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let bins = distinct.len().clamp(1, 10);
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
