//! The one confirmation dialog every mutation goes through; Cancel has the focus.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::tui::action::Mutation;
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
    /// Accepted: the mutation is dispatched once.
    Accepted(Mutation),
}

/// An open confirmation dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// What will happen.
    pub mutation: Mutation,
    /// Against which target (e.g. `aws:prod/eu-west-1 · amesops-predictor:live`).
    pub target: String,
    /// On production, the text the user must type (the function name).
    pub require_typed: Option<String>,
    /// What has been typed.
    pub typed: String,
    /// The focused button.
    pub focus: Focus,
    /// Extra warning (e.g. "the new model is worse than production").
    pub warning: Option<String>,
}

impl Confirm {
    /// Opens a dialog with Cancel focused.
    pub fn new(mutation: Mutation, target: String, require_typed: Option<String>) -> Self {
        Self {
            mutation,
            target,
            require_typed,
            typed: String::new(),
            focus: Focus::Cancel,
            warning: None,
        }
    }

    fn typed_ok(&self) -> bool {
        self.require_typed
            .as_ref()
            .is_none_or(|name| &self.typed == name)
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
                Focus::Confirm if self.typed_ok() => Outcome::Accepted(self.mutation.clone()),
                Focus::Confirm => Outcome::Open,
            },
            KeyCode::Backspace if self.require_typed.is_some() => {
                self.typed.pop();
                Outcome::Open
            }
            KeyCode::Char(c) if self.require_typed.is_some() => {
                self.typed.push(c);
                Outcome::Open
            }
            _ => Outcome::Open,
        }
    }

    /// Draws the dialog over `area`.
    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let height =
            9 + u16::from(self.require_typed.is_some()) * 2 + u16::from(self.warning.is_some()) * 2;
        let rect = super::centered(area, 72, height);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(" Confirm ", theme.warn()));
        let inner = block.inner(rect);
        frame.render_widget(block, rect);
        let mut lines = vec![
            Line::from(self.mutation.describe()),
            Line::from(vec![
                Span::styled("target: ", theme.dim()),
                Span::raw(self.target.clone()),
            ]),
        ];
        if let Some(warning) = &self.warning {
            lines.push(Line::from(""));
            lines.push(Line::from(Span::styled(warning.clone(), theme.error())));
        }
        if let Some(name) = &self.require_typed {
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

    #[test]
    fn enter_right_away_cancels() {
        let mut c = Confirm::new(Mutation::Deploy, "local".into(), None);
        assert_eq!(c.handle_key(key(KeyCode::Enter)), Outcome::Cancelled);
    }

    #[test]
    fn typed_name_is_required_before_confirming() {
        let mut c = Confirm::new(Mutation::Deploy, "aws".into(), Some("fn".into()));
        c.handle_key(key(KeyCode::Tab));
        assert_eq!(c.handle_key(key(KeyCode::Enter)), Outcome::Open);
        c.handle_key(key(KeyCode::Char('f')));
        c.handle_key(key(KeyCode::Char('n')));
        assert_eq!(
            c.handle_key(key(KeyCode::Enter)),
            Outcome::Accepted(Mutation::Deploy)
        );
    }
}
