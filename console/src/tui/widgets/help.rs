//! `?`: the keys of the current view and the global ones.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::action::ViewId;
use crate::tui::theme::Theme;

/// Keys valid everywhere.
/// (The view keys, `1-N / tab`, come first, from [`ViewId::ALL`].)
pub const GLOBAL_KEYS: &[(&str, &str)] = &[
    ("?", "this help"),
    (":", "command palette"),
    ("R", "retrain and redeploy"),
    ("r", "refresh / retry"),
    ("esc", "close / back"),
    ("q / ctrl-c", "quit"),
];

/// Draws the help overlay.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    view: &str,
    keys: &[(&str, &str)],
    refused: &[&str],
    read_only: bool,
    theme: &Theme,
) {
    let mut lines = vec![Line::from(Span::styled(
        format!("{view} view"),
        theme.accent(),
    ))];
    lines.extend(keys.iter().map(|(k, what)| {
        if refused.contains(k) {
            Line::from(Span::styled(
                format!("{k:>12}  {what} (refused: read-only)"),
                theme.dim(),
            ))
        } else {
            Line::from(vec![
                Span::styled(format!("{k:>12}  "), theme.warn()),
                Span::raw(*what),
            ])
        }
    }));
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("everywhere", theme.accent())));
    let views = format!("1-{} / tab", ViewId::ALL.len());
    lines.push(Line::from(vec![
        Span::styled(format!("{views:>12}  "), theme.warn()),
        Span::raw("switch view"),
    ]));
    lines.extend(GLOBAL_KEYS.iter().map(|(k, what)| {
        Line::from(vec![
            Span::styled(format!("{k:>12}  "), theme.warn()),
            Span::raw(*what),
        ])
    }));
    if read_only {
        lines.push(Line::from(""));
        lines.push(Line::from(Span::styled(
            "read-only: deploy, rollback, retrain and pipeline runs are refused",
            theme.error(),
        )));
    }
    let rect = super::centered(area, 64, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" help · esc closes "),
        ),
        rect,
    );
}
