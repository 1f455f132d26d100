//! Short-lived notifications in the corner.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

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

/// Draws the newest live toast at the bottom right.
pub fn draw(frame: &mut Frame, area: Rect, toasts: &[Toast], now: Instant, theme: &Theme) {
    let Some(toast) = toasts
        .iter()
        .rev()
        .find(|t| now.saturating_duration_since(t.at) < TOAST_LIFETIME)
    else {
        return;
    };
    let width =
        (toast.message.chars().count() as u16 + 4).clamp(20, area.width.saturating_sub(2).max(1));
    let height = 3 + (toast.message.chars().count() as u16 / width.saturating_sub(4).max(1)).min(4);
    let rect = Rect {
        x: area.x + area.width.saturating_sub(width + 1),
        y: area.y + area.height.saturating_sub(height + 1),
        width: width.min(area.width),
        height: height.min(area.height),
    };
    let style = match toast.level {
        Level::Info => theme.ok(),
        Level::Error => theme.error(),
    };
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(toast.message.clone())
            .wrap(Wrap { trim: true })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Span::styled(" note ", style)),
            ),
        rect,
    );
}
