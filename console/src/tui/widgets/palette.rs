//! `:`: a filterable list of every console action, for keyboard users who forget keys.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::action::ViewId;
use crate::tui::theme::Theme;

/// An entry of the palette: a name and what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// Go to a view by index.
    View(usize),
    /// Refresh the current view.
    Refresh,
    /// Run the pipeline.
    RunPipeline,
    /// Retrain and redeploy.
    Retrain,
    /// Deploy the current model.
    Deploy,
    /// Deploy the current model although the gate refuses it (the explicit override).
    ForceDeploy,
    /// Roll back.
    Rollback,
    /// Help.
    Help,
    /// Quit.
    Quit,
}

/// Every entry besides the views (which come from [`ViewId::ALL`]) with its name.
pub const ENTRIES: &[(&str, Entry)] = &[
    ("refresh", Entry::Refresh),
    ("run pipeline", Entry::RunPipeline),
    ("retrain and redeploy", Entry::Retrain),
    ("deploy current model", Entry::Deploy),
    (
        "override the gate: deploy a refused model",
        Entry::ForceDeploy,
    ),
    ("rollback", Entry::Rollback),
    ("help", Entry::Help),
    ("quit", Entry::Quit),
];

/// The open palette.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Palette {
    /// Filter text.
    pub query: String,
    /// Selected match.
    pub selected: usize,
}

/// What a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still open.
    Open,
    /// Closed.
    Closed,
    /// Chosen.
    Chosen(Entry),
}

impl Palette {
    /// Entries matching the query (substring, case-insensitive).
    pub fn matches(&self) -> Vec<(&'static str, Entry)> {
        let q = self.query.to_lowercase();
        ViewId::ALL
            .iter()
            .enumerate()
            .map(|(i, v)| (v.command(), Entry::View(i)))
            .chain(ENTRIES.iter().copied())
            .filter(|(name, _)| name.contains(&q))
            .collect()
    }

    /// Handles a key.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Esc => Outcome::Closed,
            KeyCode::Enter => self
                .matches()
                .get(self.selected)
                .map_or(Outcome::Open, |(_, e)| Outcome::Chosen(*e)),
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(self.matches().len().saturating_sub(1));
                Outcome::Open
            }
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Open
            }
            KeyCode::Backspace => {
                self.query.pop();
                self.selected = 0;
                Outcome::Open
            }
            KeyCode::Char(c) => {
                self.query.push(c);
                self.selected = 0;
                Outcome::Open
            }
            _ => Outcome::Open,
        }
    }

    /// Draws the palette at the top of `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let matches = self.matches();
        let rect = super::centered(area, 50, matches.len().max(1) as u16 + 3);
        frame.render_widget(Clear, rect);
        let mut lines = vec![Line::from(vec![
            Span::styled(":", theme.accent()),
            Span::raw(self.query.clone()),
            Span::raw("▏"),
        ])];
        lines.extend(matches.iter().enumerate().map(|(i, (name, _))| {
            if i == self.selected {
                Line::from(Span::styled(format!(" {name} "), theme.selected()))
            } else {
                Line::from(format!(" {name} "))
            }
        }));
        if matches.is_empty() {
            // Enter then does nothing: say why, instead of leaving a silent, empty box.
            lines.push(Line::from(Span::styled(
                format!(
                    " no command matches {:?} (backspace edits, esc closes)",
                    self.query
                ),
                theme.warn(),
            )));
        }
        frame.render_widget(
            Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(" command ")),
            rect,
        );
    }
}
