//! Shared widgets: confirmation dialog, help overlay, command palette, toasts, loading states.

pub mod confirm;
pub mod filter;
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

/// The last of `lines` that fit in `height` rows when wrapped at `width`: a wrapped pane
/// that follows keeps its newest line on screen.
pub fn tail_rows(
    mut lines: Vec<ratatui::text::Line<'static>>,
    width: u16,
    height: usize,
) -> Vec<ratatui::text::Line<'static>> {
    let width = usize::from(width.max(1));
    let mut rows = 0;
    let mut keep = 0;
    for line in lines.iter().rev() {
        let needed = line.width().div_ceil(width).max(1);
        if rows + needed > height {
            break;
        }
        rows += needed;
        keep += 1;
    }
    lines.split_off(lines.len() - keep)
}
