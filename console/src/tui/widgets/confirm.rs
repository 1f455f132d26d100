//! The one confirmation dialog: what an operation asks (the operation decides that it asks and
//! what; this decides how), Cancel focused, the typed text required when it asks for one.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::operations::Question;
use crate::tui::theme::Theme;

/// Which button has the focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// Do nothing (the default).
    Cancel,
    /// Go ahead.
    Confirm,
}

/// What a key did to the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Still open.
    Open,
    /// Closed without doing anything.
    Cancelled,
    /// Accepted (answered once).
    Accepted,
}

/// An open confirmation dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// Which question (the answer goes back under this id).
    pub id: u64,
    /// What the operation asks.
    pub question: Question,
    /// What has been typed.
    pub typed: String,
    /// The focused button.
    pub focus: Focus,
}

impl Confirm {
    /// Opens a dialog with Cancel focused.
    pub fn new(id: u64, question: Question) -> Self {
        Self {
            id,
            question,
            typed: String::new(),
            focus: Focus::Cancel,
        }
    }

    /// The text that must be typed, if any.
    pub fn require_typed(&self) -> Option<&str> {
        self.question.typed.as_deref()
    }

    fn typed_ok(&self) -> bool {
        self.require_typed().is_none_or(|name| self.typed == name)
    }

    /// Handles one key.
    pub fn handle_key(&mut self, key: KeyEvent) -> Outcome {
        match key.code {
            KeyCode::Esc => Outcome::Cancelled,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right => {
                self.focus = match self.focus {
                    Focus::Cancel => Focus::Confirm,
                    Focus::Confirm => Focus::Cancel,
                };
                Outcome::Open
            }
            KeyCode::Enter => match self.focus {
                Focus::Cancel => Outcome::Cancelled,
                Focus::Confirm if self.typed_ok() => Outcome::Accepted,
                Focus::Confirm => Outcome::Open,
            },
            KeyCode::Backspace if self.require_typed().is_some() => {
                self.typed.pop();
                Outcome::Open
            }
            KeyCode::Char(c) if self.require_typed().is_some() => {
                self.typed.push(c);
                Outcome::Open
            }
            _ => Outcome::Open,
        }
    }

    /// Draws the dialog over `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        // Lines once wrapped to the dialog's inner width.
        let wrapped = |text: &str| -> u16 {
            text.lines()
                .map(|l| l.chars().count() / 74 + 1)
                .sum::<usize>()
                .max(1) as u16
        };
        // Borders, the buttons and one spare line, then the text.
        let height = 4
            + wrapped(&self.question.action)
            + wrapped(&self.question.target)
            + self
                .question
                .warning
                .as_deref()
                .map_or(0, |w| wrapped(w) + 1)
            + u16::from(self.question.typed.is_some()) * 2;
        let rect = super::centered(area, 78, height);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(" Confirm ", theme.warn()));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let mut lines: Vec<Line> = self
            .question
            .action
            .lines()
            .map(|l| Line::from(l.to_string()))
            .collect();
        lines.push(Line::from(vec![
            Span::styled("target: ", theme.dim()),
            Span::raw(self.question.target.clone()),
        ]));
        if let Some(warning) = &self.question.warning {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(warning.clone(), theme.error())));
        }
        if let Some(name) = &self.question.typed {
            lines.push(Line::from(""));
            lines.push(Line::from(vec![
                Span::raw(format!("type {name} to confirm: ")),
                Span::styled(
                    format!("{}▏", self.typed),
                    if self.typed_ok() {
                        theme.ok()
                    } else {
                        theme.warn()
                    },
                ),
            ]));
        }
        let [text, buttons] =
            Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text);
        let button = |label: &str, focused: bool| {
            if focused {
                Span::styled(format!("[ {label} ]"), theme.selected())
            } else {
                Span::raw(format!("  {label}  "))
            }
        };
        let line = Line::from(vec![
            button("Cancel", self.focus == Focus::Cancel),
            Span::raw("   "),
            button("Confirm", self.focus == Focus::Confirm),
            Span::styled("   tab switch · enter choose · esc cancel", theme.dim()),
        ]);
        frame.render_widget(Paragraph::new(line).centered(), buttons);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEventKind, KeyEventState, KeyModifiers};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    fn question(typed: Option<&str>) -> Question {
        Question {
            action: "Deploy model abc.".into(),
            target: "local".into(),
            typed: typed.map(str::to_string),
            warning: None,
            weight: crate::operations::Weight::Production,
        }
    }

    #[test]
    fn enter_right_away_cancels() {
        let mut c = Confirm::new(1, question(None));
        assert_eq!(c.handle_key(key(KeyCode::Enter)), Outcome::Cancelled);
    }

    #[test]
    fn typed_name_is_required_before_confirming() {
        let mut c = Confirm::new(1, question(Some("fn")));
        c.handle_key(key(KeyCode::Tab));
        assert_eq!(c.handle_key(key(KeyCode::Enter)), Outcome::Open);
        c.handle_key(key(KeyCode::Char('f')));
        c.handle_key(key(KeyCode::Char('n')));
        assert_eq!(c.handle_key(key(KeyCode::Enter)), Outcome::Accepted);
    }
}
