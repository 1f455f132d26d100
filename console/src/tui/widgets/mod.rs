//! Shared widgets: confirmation dialog, help overlay, command palette, toasts, loading states.

pub mod confirm;
pub mod help;
pub mod palette;
pub mod status;
pub mod toast;

use ratatui::layout::{Constraint, Flex, Layout, Rect};

/// A rectangle of at most `width` × `height` centred in `area` (never larger than `area`).
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}
