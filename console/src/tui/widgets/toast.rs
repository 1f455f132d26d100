//! Short-lived notifications in the corner.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::theme::Theme;

/// How long a toast stays.
pub const TOAST_LIFETIME: Duration = Duration::from_secs(6);

/// Severity of a toast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// It worked.
    Info,
    /// It did not.
    Error,
}

/// One notification.
#[derive(Debug, Clone)]
pub struct Toast {
    /// Text.
    pub message: String,
    /// Severity.
    pub level: Level,
    /// When it appeared.
    pub at: Instant,
}

/// The newest toast still alive.
pub fn live(toasts: &[Toast], now: Instant) -> Option<&Toast> {
    toasts
        .iter()
        .rev()
        .find(|t| now.saturating_duration_since(t.at) < TOAST_LIFETIME)
}

/// Rows the note needs at `width` (at most 3): the layout gives them to it above the
/// footer, so a note never covers the view.
pub fn height(toast: &Toast, width: u16) -> u16 {
    let chars = toast.message.chars().count() + PREFIX.chars().count();
    (chars.div_ceil(usize::from(width.max(1))) as u16).clamp(1, 3)
}

const PREFIX: &str = " note · ";

/// Draws the note in its own rows.
pub fn draw(frame: &mut Frame, area: Rect, toast: &Toast, theme: &Theme) {
    let style = match toast.level {
        Level::Info => theme.ok(),
        Level::Error => theme.error(),
    };
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(PREFIX, style),
            Span::styled(toast.message.clone(), style),
        ]))
        .wrap(Wrap { trim: true }),
        area,
    );
}
