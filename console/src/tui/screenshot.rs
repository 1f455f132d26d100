//! Screens as SVG: the fixture views drawn on a test backend, for the README's screenshots.

use std::fmt::Write as _;
use std::time::Instant;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::action::ViewId;
use super::fixtures::{self, State};
use super::theme::Theme;

const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
const BACKGROUND: &str = "#1e1e2e";
const FOREGROUND: &str = "#d9e0ee";

fn hex(color: Color, fallback: &'static str) -> String {
    match color {
        Color::Reset => fallback.to_string(),
        Color::Black => "#1e1e2e".into(),
        Color::Red => "#f38ba8".into(),
        Color::Green => "#a6e3a1".into(),
        Color::Yellow => "#f9e2af".into(),
        Color::Blue => "#89b4fa".into(),
        Color::Magenta => "#cba6f7".into(),
        Color::Cyan => "#89dceb".into(),
        Color::Gray => "#bac2de".into(),
        Color::DarkGray => "#6c7086".into(),
        Color::White => "#ffffff".into(),
        Color::Rgb(r, g, b) => format!("#{r:02x}{g:02x}{b:02x}"),
        _ => fallback.to_string(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Renders a buffer as an SVG document with a monospace grid.
pub fn buffer_to_svg(buffer: &Buffer) -> String {
    let area = buffer.area;
    let (width, height) = (
        f64::from(area.width) * CELL_W + 16.0,
        f64::from(area.height) * CELL_H + 16.0,
    );
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n<rect width=\"100%\" height=\"100%\" fill=\"{BACKGROUND}\"/>\n<g font-family=\"DejaVu Sans Mono, monospace\" font-size=\"14\" xml:space=\"preserve\">\n"
    );
    for y in 0..area.height {
        let mut x = 0;
        while x < area.width {
            let Some(cell) = buffer.cell((x, y)) else {
                break;
            };
            let style = (cell.fg, cell.bg, cell.modifier);
            let start = x;
            let mut text = String::new();
            while x < area.width {
                match buffer.cell((x, y)) {
                    Some(c) if (c.fg, c.bg, c.modifier) == style => text.push_str(c.symbol()),
                    _ => break,
                }
                x += 1;
            }
            let reversed = style.2.contains(Modifier::REVERSED);
            let (mut fg, mut bg) = (hex(style.0, FOREGROUND), hex(style.1, BACKGROUND));
            if reversed {
                std::mem::swap(&mut fg, &mut bg);
            }
            let px = 8.0 + f64::from(start) * CELL_W;
            let py = 8.0 + f64::from(y) * CELL_H;
            if bg != BACKGROUND {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{px:.1}\" y=\"{py:.1}\" width=\"{:.1}\" height=\"{CELL_H}\" fill=\"{bg}\"/>",
                    f64::from(x - start) * CELL_W
                );
            }
            if text.trim().is_empty() {
                continue;
            }
            let weight = if style.2.contains(Modifier::BOLD) {
                " font-weight=\"bold\""
            } else {
                ""
            };
            let _ = writeln!(
                svg,
                "<text x=\"{px:.1}\" y=\"{:.1}\" fill=\"{fg}\"{weight} textLength=\"{:.1}\" lengthAdjust=\"spacingAndGlyphs\">{}</text>",
                py + 14.0,
                f64::from(x - start) * CELL_W,
                escape(&text)
            );
        }
    }
    svg.push_str("</g>\n</svg>\n");
    svg
}

/// Each view with fixture data, as `(file stem, svg)`.
pub fn screens() -> Vec<(String, String)> {
    let now = Instant::now();
    let mut out = Vec::new();
    // The usual size, the smallest terminal every view is made for, and a large one.
    for (width, height, suffix) in [(120, 34, ""), (80, 24, "-80x24"), (160, 45, "-160x45")] {
        for (i, view) in ViewId::ALL.iter().enumerate() {
            let mut app = fixtures::app(false);
            app.theme = Theme { color: true };
            fixtures::show(&mut app, *view, State::Data, now);
            let mut terminal =
                Terminal::new(TestBackend::new(width, height)).unwrap_or_else(|e| match e {});
            if terminal.draw(|frame| app.draw(frame, now)).is_ok() {
                out.push((
                    format!("{}-{}{suffix}", i + 1, view.title().to_lowercase()),
                    buffer_to_svg(terminal.backend().buffer()),
                ));
            }
        }
    }
    // The Deploy view during a watched canary (README's release flow).
    let mut app = fixtures::app(false);
    app.theme = Theme { color: true };
    fixtures::show(&mut app, ViewId::Deploy, State::Data, now);
    let _ = app.on_loaded(
        crate::tui::action::Loaded::Deploy(Ok(fixtures::deploy_canary())),
        now,
    );
    let mut terminal = Terminal::new(TestBackend::new(120, 34)).unwrap_or_else(|e| match e {});
    if terminal.draw(|frame| app.draw(frame, now)).is_ok() {
        out.push((
            "6-deploy-canary".to_string(),
            buffer_to_svg(terminal.backend().buffer()),
        ));
    }
    out
}
