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
            let fields = map
                .iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "timestamp" | "level" | "target" | "message")
                })
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                });
            std::iter::once(message.to_string())
                .chain(fields)
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

/// State of the Logs view.
#[derive(Debug)]
pub struct LogsView {
    entries: VecDeque<Entry>,
    capacity: usize,
    /// Lines dropped because the buffer was full.
    pub dropped: u64,
    /// Lines above the bottom of the (filtered) stream; 0 = following.
    scroll: usize,
    /// Keep the newest line in view.
    pub follow: bool,
    min_severity: Severity,
    search: String,
    editing_search: bool,
    pretty: bool,
    wrap: bool,
    timestamps: bool,
    mode: String,
    error: Option<String>,
    started: bool,
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
            pretty: false,
            wrap: false,
            timestamps: true,
            mode: String::new(),
            error: None,
            started: false,
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
        if !self.follow && visible {
            self.scroll += 1; // keep the same lines on screen while paused
        }
    }

    fn visible(&self, entry: &Entry) -> bool {
        entry.severity >= self.min_severity
    }

    fn matches(&self, entry: &Entry) -> bool {
        !self.search.is_empty() && entry.raw.contains(&self.search)
    }

    fn scroll_by(&mut self, n: usize) {
        self.follow = false;
        self.scroll = (self.scroll + n).min(self.entries.len());
    }

    fn scroll_back(&mut self, n: usize) {
        self.scroll = self.scroll.saturating_sub(n);
        if self.scroll == 0 {
            self.follow = true;
        }
    }

    fn render_entry(&self, entry: &Entry, ctx: &DrawContext, out: &mut Vec<Line<'static>>) {
        let theme = &ctx.theme;
        let level_style = match entry.severity {
            Severity::Error => theme.error(),
            Severity::Warn => theme.warn(),
            Severity::Info => theme.ok(),
            Severity::Debug => theme.dim(),
        };
        let level = match entry.severity {
            Severity::Error => "ERROR",
            Severity::Warn => "WARN ",
            Severity::Info => "INFO ",
            Severity::Debug => "DEBUG",
        };
        let mut spans = Vec::new();
        if self.timestamps && !entry.timestamp.is_empty() {
            spans.push(Span::styled(format!("{} ", entry.timestamp), theme.dim()));
        }
        spans.push(Span::styled(format!("{level} "), level_style));
        let body_style = if self.matches(entry) {
            theme.highlight()
        } else {
            ratatui::style::Style::default()
        };
        if self.pretty {
            let pretty = serde_json::from_str::<serde_json::Value>(&entry.raw)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| entry.raw.clone());
            out.push(Line::from(spans));
            out.extend(
                pretty
                    .lines()
                    .map(|l| Line::from(Span::styled(format!("  {l}"), body_style))),
            );
        } else {
            spans.push(Span::styled(entry.summary.clone(), body_style));
            out.push(Line::from(spans));
        }
    }
}

impl View for LogsView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("↑/↓ pgup/pgdn", "scroll (pauses follow)"),
            ("g / G", "top / bottom (G resumes follow)"),
            ("/", "search"),
            ("f", "filter by level"),
            ("j", "pretty-print JSON"),
            ("w", "wrap"),
            ("t", "timestamps"),
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
            return None;
        }
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(1),
            KeyCode::Down => self.scroll_back(1),
            KeyCode::PageUp => self.scroll_by(20),
            KeyCode::PageDown => self.scroll_back(20),
            KeyCode::Char('g') | KeyCode::Home => {
                self.follow = false;
                self.scroll = self.entries.len();
            }
            KeyCode::Char('G') | KeyCode::End => {
                self.follow = true;
                self.scroll = 0;
            }
            KeyCode::Char('/') => {
                self.editing_search = true;
                self.search.clear();
            }
            KeyCode::Char('f') => {
                self.min_severity = match self.min_severity {
                    Severity::Debug => Severity::Info,
                    Severity::Info => Severity::Warn,
                    Severity::Warn => Severity::Error,
                    Severity::Error => Severity::Debug,
                };
                self.scroll = 0;
                self.follow = true;
            }
            KeyCode::Char('j') => self.pretty = !self.pretty,
            KeyCode::Char('w') => self.wrap = !self.wrap,
            KeyCode::Char('t') => self.timestamps = !self.timestamps,
            KeyCode::Char('r') => return self.reload(now).map(Intent::Run),
            _ => {}
        }
        None
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
        let follow = if self.follow {
            Span::styled("● following", theme.ok())
        } else {
            Span::styled(
                format!("‖ paused ({} lines below) · G to follow", self.scroll),
                theme.warn(),
            )
        };
        let mut parts = vec![
            follow,
            Span::styled(format!(" · {} lines", self.entries.len()), theme.dim()),
        ];
        if self.dropped > 0 {
            parts.push(Span::styled(
                format!(" · {} dropped (buffer {})", self.dropped, self.capacity),
                theme.warn(),
            ));
        }
        if self.min_severity > Severity::Debug {
            parts.push(Span::styled(
                format!(" · level ≥ {:?}", self.min_severity),
                theme.warn(),
            ));
        }
        if self.editing_search || !self.search.is_empty() {
            parts.push(Span::styled(
                format!(
                    " · /{}{}",
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

        let block = Block::default().borders(Borders::TOP);
        let inner = block.inner(body);
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
        // Walk back from the newest visible line: cost is proportional to the screen, not the buffer.
        let height = inner.height as usize;
        let mut skipped = 0;
        let mut picked: Vec<&Entry> = Vec::with_capacity(height);
        for entry in self.entries.iter().rev().filter(|e| self.visible(e)) {
            if skipped < self.scroll {
                skipped += 1;
                continue;
            }
            picked.push(entry);
            if picked.len() >= height {
                break;
            }
        }
        let mut lines = Vec::with_capacity(height);
        for entry in picked.iter().rev() {
            self.render_entry(entry, ctx, &mut lines);
        }
        let start = lines.len().saturating_sub(height);
        let mut paragraph = Paragraph::new(lines.split_off(start));
        if self.wrap {
            paragraph = paragraph.wrap(Wrap { trim: false });
        }
        frame.render_widget(paragraph, inner);
    }
}
