//! Logs view: the predictor's log stream, bounded, searchable, JSON-aware, follow state visible.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{DrawContext, Intent, View};
use crate::backend::logs::{LogEvent, LogLine};
use crate::tui::action::Command;

/// Lines kept in memory; older ones are dropped and counted.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Severity parsed from a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Trace or debug.
    Debug,
    /// Info (and lines without a level).
    Info,
    /// Warnings.
    Warn,
    /// Errors.
    Error,
}

/// A buffered line, parsed once on arrival.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Timestamp from the JSON (or the platform).
    pub timestamp: String,
    /// Parsed level.
    pub severity: Severity,
    /// The raw line.
    pub raw: String,
    /// The line without its timestamp and level, for compact display.
    pub summary: String,
}

/// Fields shown first, in this order: what a request was and how it went, so that path,
/// status, price and latency stay visible at 80 columns.
const FIRST_FIELDS: &[&str] = &["path", "status", "price", "latency_us"];

fn parse(line: LogLine) -> Entry {
    let json = serde_json::from_str::<serde_json::Value>(&line.text).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let severity = match field("level")
        .unwrap_or_default()
        .to_ascii_uppercase()
        .as_str()
    {
        "ERROR" | "FATAL" => Severity::Error,
        "WARN" | "WARNING" => Severity::Warn,
        "DEBUG" | "TRACE" => Severity::Debug,
        _ => Severity::Info,
    };
    let timestamp = field("timestamp").unwrap_or_else(|| {
        line.timestamp_ms
            .map(|ms| ms.to_string())
            .unwrap_or_default()
    });
    let summary = match &json {
        Some(serde_json::Value::Object(map)) => {
            let message = map
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            // A price to the cent of a cent (`154357.66752391538`) would push latency off an
            // 80-column line: whole dollars say all an operator reads there (the raw line,
            // under enter, keeps every digit).
            let show = |k: &str, v: &serde_json::Value| match v {
                serde_json::Value::String(s) => format!("{k}={s}"),
                serde_json::Value::Number(n) if n.is_f64() => match n.as_f64() {
                    Some(x) if k == "price" => format!("{k}={x:.0}"),
                    Some(x) if n.to_string().len() > 8 => format!("{k}={x:.3}"),
                    _ => format!("{k}={n}"),
                },
                other => format!("{k}={other}"),
            };
            let first = FIRST_FIELDS
                .iter()
                .filter_map(|k| map.get(*k).map(|v| show(k, v)));
            let rest = map
                .iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "timestamp" | "level" | "target" | "message")
                        && !FIRST_FIELDS.contains(&k.as_str())
                })
                .map(|(k, v)| show(k, v));
            first
                .chain((!message.is_empty()).then(|| message.to_string()))
                .chain(rest)
                .collect::<Vec<_>>()
                .join(" ")
        }
        _ => line.text.clone(),
    };
    Entry {
        timestamp,
        severity,
        raw: line.text,
        summary,
    }
}

/// The time of day of an RFC 3339 timestamp (`10:00:07.123`); other stamps as they are.
fn short_time(timestamp: &str) -> &str {
    if timestamp.len() >= 23 && timestamp.as_bytes().get(10) == Some(&b'T') {
        timestamp.get(11..23).unwrap_or(timestamp)
    } else {
        timestamp
    }
}

/// Byte ranges of `needle` in `haystack`, ASCII case-insensitive.
pub fn find_all(haystack: &str, needle: &str) -> Vec<(usize, usize)> {
    if needle.is_empty() {
        return Vec::new();
    }
    let hay = haystack.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = hay.get(from..).and_then(|h| h.find(&needle)) {
        let start = from + i;
        found.push((start, start + needle.len()));
        from = start + needle.len();
    }
    found
}

fn level_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "ERROR",
        Severity::Warn => "WARN ",
        Severity::Info => "INFO ",
        Severity::Debug => "DEBUG",
    }
}

/// State of the Logs view.
#[derive(Debug)]
pub struct LogsView {
    entries: VecDeque<Entry>,
    capacity: usize,
    /// Lines dropped because the buffer was full.
    pub dropped: u64,
    /// Shown lines below the bottom of the pane (of the level-filtered stream); 0 = newest.
    scroll: usize,
    /// Keep the newest line in view.
    pub follow: bool,
    min_severity: Severity,
    search: String,
    editing_search: bool,
    /// The match `n`/`N` moved to, as its distance from the newest shown line.
    current: Option<usize>,
    pretty: bool,
    wrap: bool,
    timestamps: bool,
    mode: String,
    error: Option<String>,
    started: bool,
    /// Rows of the pane at the last draw (for `g`, `n` and page keys).
    height: usize,
}

impl Default for LogsView {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl LogsView {
    /// A view keeping at most `capacity` lines.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: VecDeque::with_capacity(capacity.min(16_384)),
            capacity: capacity.max(1),
            dropped: 0,
            scroll: 0,
            follow: true,
            min_severity: Severity::Debug,
            search: String::new(),
            editing_search: false,
            current: None,
            pretty: false,
            wrap: false,
            timestamps: true,
            mode: String::new(),
            error: None,
            started: false,
            height: 20,
        }
    }

    /// Lines buffered now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the search box is taking keys.
    pub fn searching(&self) -> bool {
        self.editing_search
    }

    /// Searches for `text` and moves to its newest match (a link from another view).
    pub fn search_for(&mut self, text: &str) -> Option<Intent> {
        self.search = text.to_string();
        self.editing_search = false;
        self.current = None;
        self.follow = true;
        self.scroll = 0;
        self.jump(true)
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes a log event.
    pub fn on_event(&mut self, event: LogEvent) {
        match event {
            LogEvent::Lines(lines) => {
                self.error = None;
                for line in lines {
                    self.push(parse(line));
                }
            }
            LogEvent::Mode(mode) => self.mode = mode,
            LogEvent::Error(error) => self.error = Some(error),
        }
    }

    fn push(&mut self, entry: Entry) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
            self.dropped += 1;
        }
        let visible = self.visible(&entry);
        self.entries.push_back(entry);
        if visible {
            if !self.follow {
                self.scroll += 1; // keep the same lines on screen while paused
            }
            if let Some(current) = &mut self.current {
                *current += 1;
            }
        }
    }

    fn visible(&self, entry: &Entry) -> bool {
        entry.severity >= self.min_severity
    }

    /// The text a line shows (what search looks at: never the hidden fields).
    fn shown_text(&self, entry: &Entry) -> String {
        let mut text = String::new();
        if self.timestamps && !entry.timestamp.is_empty() {
            text.push_str(short_time(&entry.timestamp));
            text.push(' ');
        }
        text.push_str(level_name(entry.severity));
        text.push(' ');
        text.push_str(&entry.summary);
        text
    }

    fn matches(&self, entry: &Entry) -> bool {
        !self.search.is_empty() && !find_all(&self.shown_text(entry), &self.search).is_empty()
    }

    /// Shown lines (level filter) and how many there are in all.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.entries.iter().filter(|e| self.visible(e)).count(),
            self.entries.len(),
        )
    }

    /// Distances from the newest shown line of the lines matching the search, newest first.
    pub fn match_positions(&self) -> Vec<usize> {
        if self.search.is_empty() {
            return Vec::new();
        }
        self.entries
            .iter()
            .rev()
            .filter(|e| self.visible(e))
            .enumerate()
            .filter(|(_, e)| self.matches(e))
            .map(|(i, _)| i)
            .collect()
    }

    /// Moves to the next older (`older`) or newer match and shows it mid-pane.
    fn jump(&mut self, older: bool) -> Option<Intent> {
        let positions = self.match_positions();
        if positions.is_empty() {
            return Some(Intent::Note(if self.search.is_empty() {
                "no search: / to search".to_string()
            } else {
                format!("no line matches {:?}", self.search)
            }));
        }
        let from = self.current.unwrap_or(self.scroll);
        let next = if older {
            positions
                .iter()
                .find(|p| self.current.map_or(**p >= from, |c| **p > c))
                .or(positions.first())
        } else {
            positions
                .iter()
                .rev()
                .find(|p| **p < from)
                .or(positions.last())
        };
        if let Some(&p) = next {
            self.current = Some(p);
            self.scroll = p.saturating_sub(self.height / 2);
            self.follow = self.scroll == 0 && p < self.height;
        }
        None
    }

    /// Where `n`/`N` stand: `(index of the current match, 1-based, and the count)`.
    pub fn match_status(&self) -> Option<(Option<usize>, usize)> {
        if self.search.is_empty() {
            return None;
        }
        let positions = self.match_positions();
        let at = self
            .current
            .and_then(|c| positions.iter().position(|p| *p == c))
            .map(|i| i + 1);
        Some((at, positions.len()))
    }

    /// Whether the newest shown line is on screen.
    pub fn newest_visible(&self) -> bool {
        self.scroll == 0
    }

    fn scroll_by(&mut self, n: usize) {
        self.follow = false;
        let (shown, _) = self.counts();
        self.scroll = (self.scroll + n).min(shown.saturating_sub(self.height.max(1)));
    }

    fn scroll_back(&mut self, n: usize) {
        self.scroll = self.scroll.saturating_sub(n);
        if self.scroll == 0 {
            self.follow = true;
        }
    }

    fn render_entry(
        &self,
        entry: &Entry,
        current: bool,
        ctx: &DrawContext,
        out: &mut Vec<Line<'static>>,
    ) {
        let theme = &ctx.theme;
        let level_style = match entry.severity {
            Severity::Error => theme.error(),
            Severity::Warn => theme.warn(),
            Severity::Info => theme.ok(),
            Severity::Debug => theme.dim(),
        };
        let mut spans = Vec::new();
        if self.timestamps && !entry.timestamp.is_empty() {
            spans.push(Span::styled(
                format!("{} ", short_time(&entry.timestamp)),
                theme.dim(),
            ));
        }
        spans.push(Span::styled(
            format!("{} ", level_name(entry.severity)),
            level_style,
        ));
        let mark = if current {
            theme.selected()
        } else {
            theme.highlight()
        };
        if self.pretty {
            let pretty = serde_json::from_str::<serde_json::Value>(&entry.raw)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| entry.raw.clone());
            out.push(Line::from(spans));
            out.extend(pretty.lines().map(|l| {
                let mut spans = vec![Span::raw("  ")];
                spans.extend(highlighted(l, &self.search, mark));
                Line::from(spans)
            }));
        } else {
            spans.extend(highlighted(&entry.summary, &self.search, mark));
            out.push(Line::from(spans));
        }
    }
}

/// `text` as spans with every occurrence of `search` (case-insensitive) marked.
fn highlighted(text: &str, search: &str, mark: ratatui::style::Style) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut at = 0;
    for (start, end) in find_all(text, search) {
        if start > at {
            spans.push(Span::raw(text.get(at..start).unwrap_or("").to_string()));
        }
        spans.push(Span::styled(
            text.get(start..end).unwrap_or("").to_string(),
            mark,
        ));
        at = end;
    }
    if at < text.len() {
        spans.push(Span::raw(text.get(at..).unwrap_or("").to_string()));
    }
    spans
}

impl View for LogsView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑/↓", "scroll (pauses follow)"),
            ("G", "follow (newest line)"),
            ("/", "search"),
            ("n/N", "older / newer match"),
            ("f", "level filter"),
            ("w", "wrap"),
            ("t", "timestamps"),
            ("j", "pretty JSON"),
            ("g", "oldest lines"),
            ("pgup/pgdn", "page"),
        ]
    }

    fn on_enter(&mut self, _now: std::time::Instant) -> Option<Command> {
        if self.started {
            None
        } else {
            self.started = true;
            Some(Command::FollowLogs)
        }
    }

    /// The stream is live; after an error this starts following again.
    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        if self.error.is_some() {
            self.started = false;
            self.on_enter(now)
        } else {
            None
        }
    }

    fn capturing_text(&self) -> bool {
        self.editing_search
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        if self.editing_search {
            match key.code {
                KeyCode::Enter | KeyCode::Esc => self.editing_search = false,
                KeyCode::Backspace => {
                    self.search.pop();
                }
                KeyCode::Char(c) => self.search.push(c),
                _ => {}
            }
            self.current = None;
            return None;
        }
        let page = self.height.max(2) - 1;
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(1),
            KeyCode::Down => self.scroll_back(1),
            KeyCode::PageUp => self.scroll_by(page),
            KeyCode::PageDown => self.scroll_back(page),
            KeyCode::Char('g') | KeyCode::Home => self.scroll_by(usize::MAX / 2),
            KeyCode::Char('G') | KeyCode::End => {
                self.follow = true;
                self.scroll = 0;
            }
            KeyCode::Char('/') => {
                self.editing_search = true;
                self.search.clear();
                self.current = None;
            }
            KeyCode::Char('n') => return self.jump(true),
            KeyCode::Char('N') => return self.jump(false),
            KeyCode::Char('f') => {
                self.min_severity = match self.min_severity {
                    Severity::Debug => Severity::Info,
                    Severity::Info => Severity::Warn,
                    Severity::Warn => Severity::Error,
                    Severity::Error => Severity::Debug,
                };
                self.scroll = 0;
                self.follow = true;
                self.current = None;
            }
            KeyCode::Char('j') => self.pretty = !self.pretty,
            KeyCode::Char('w') => self.wrap = !self.wrap,
            KeyCode::Char('t') => self.timestamps = !self.timestamps,
            KeyCode::Char('r') => return self.reload(now).map(Intent::Run),
            _ => {}
        }
        None
    }

    /// Draws the view; only the lines on screen are formatted.
    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        let block = Block::default().borders(Borders::TOP);
        let inner = block.inner(body);
        self.height = usize::from(inner.height).max(1);
        let (shown, total) = self.counts();
        // `g` and scrolling stop where the oldest line reaches the top: never an empty pane.
        self.scroll = self.scroll.min(shown.saturating_sub(self.height));
        let follow = if self.follow {
            Span::styled("● following", theme.ok())
        } else {
            Span::styled(
                format!("‖ paused ({} lines below) · G to follow", self.scroll),
                theme.warn(),
            )
        };
        let mut parts = vec![follow];
        if self.min_severity > Severity::Debug {
            parts.push(Span::styled(
                format!(
                    " · {shown} of {total} lines shown (level ≥ {:?})",
                    self.min_severity
                ),
                theme.warn(),
            ));
        } else {
            parts.push(Span::styled(format!(" · {total} lines"), theme.dim()));
        }
        if self.dropped > 0 {
            parts.push(Span::styled(
                format!(" · {} dropped (buffer {})", self.dropped, self.capacity),
                theme.warn(),
            ));
        }
        if self.editing_search || !self.search.is_empty() {
            let count = match self.match_status() {
                Some((Some(at), n)) => format!(" · match {at} of {n} · n/N"),
                Some((None, n)) => format!(" · {n} matches · n/N"),
                None => String::new(),
            };
            parts.push(Span::styled(
                format!(
                    " · /{}{}{count}",
                    self.search,
                    if self.editing_search { "▏" } else { "" }
                ),
                theme.accent(),
            ));
        }
        if let Some(error) = &self.error {
            parts.push(Span::styled(format!(" · {error}"), theme.error()));
        } else if !self.mode.is_empty() {
            parts.push(Span::styled(format!(" · {}", self.mode), theme.dim()));
        }
        frame.render_widget(Paragraph::new(Line::from(parts)), status);
        frame.render_widget(block, body);
        if self.entries.is_empty() {
            let message = if self.error.is_some() {
                "no log lines yet · r retry"
            } else {
                "waiting for log lines…"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                inner,
            );
            return;
        }
        if shown == 0 {
            frame.render_widget(
                Paragraph::new(Span::styled(
                    format!(
                        "no line at level ≥ {:?}: 0 of {total} shown · f changes the level",
                        self.min_severity
                    ),
                    theme.dim(),
                ))
                .centered(),
                inner,
            );
            return;
        }
        // Walk back from the newest visible line: cost is proportional to the screen, not the buffer.
        let height = self.height;
        let mut picked: Vec<(usize, &Entry)> = Vec::with_capacity(height);
        for (i, entry) in self
            .entries
            .iter()
            .rev()
            .filter(|e| self.visible(e))
            .enumerate()
            .skip(self.scroll)
        {
            picked.push((i, entry));
            if picked.len() >= height {
                break;
            }
        }
        let mut lines = Vec::with_capacity(height);
        for (i, entry) in picked.iter().rev() {
            self.render_entry(entry, self.current == Some(*i), ctx, &mut lines);
        }
        let lines = if self.wrap {
            crate::tui::widgets::tail_rows(lines, inner.width, height)
        } else {
            let start = lines.len().saturating_sub(height);
            lines.split_off(start)
        };
        let mut paragraph = Paragraph::new(lines);
        if self.wrap {
            paragraph = paragraph.wrap(Wrap { trim: false });
        }
        frame.render_widget(paragraph, inner);
    }
}
