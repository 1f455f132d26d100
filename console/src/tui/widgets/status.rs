//! Loading, loaded, stale and failed: one type for everything fetched in the background.

use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::theme::Theme;

/// Data that arrives from a background task.
#[derive(Debug, Clone, Default)]
pub enum Remote<T> {
    /// Not asked for yet.
    #[default]
    Idle,
    /// Asked for; `previous` is shown meanwhile.
    Loading {
        /// When the request started.
        since: Instant,
        /// What was there before, if anything.
        previous: Option<(T, Instant)>,
    },
    /// Arrived at `at`.
    Ready(T, Instant),
    /// Failed; `previous` is still shown, marked stale.
    Failed {
        /// The error.
        error: String,
        /// When the failure arrived (for the next automatic try).
        at: Instant,
        /// What was there before, if anything.
        previous: Option<(T, Instant)>,
    },
}

impl<T> Remote<T> {
    /// Marks a new request, keeping what is shown.
    pub fn start(&mut self, now: Instant) {
        let previous = match std::mem::take(self) {
            Remote::Ready(data, at) => Some((data, at)),
            Remote::Loading { previous, .. } | Remote::Failed { previous, .. } => previous,
            Remote::Idle => None,
        };
        *self = Remote::Loading {
            since: now,
            previous,
        };
    }

    /// Stores a result.
    pub fn finish(&mut self, result: Result<T, String>, now: Instant) {
        let previous = match std::mem::take(self) {
            Remote::Ready(data, at) => Some((data, at)),
            Remote::Loading { previous, .. } | Remote::Failed { previous, .. } => previous,
            Remote::Idle => None,
        };
        *self = match result {
            Ok(data) => Remote::Ready(data, now),
            Err(error) => Remote::Failed {
                error,
                at: now,
                previous,
            },
        };
    }

    /// The data to show, fresh or stale.
    pub fn data(&self) -> Option<&T> {
        match self {
            Remote::Ready(data, _) => Some(data),
            Remote::Loading { previous, .. } | Remote::Failed { previous, .. } => {
                previous.as_ref().map(|(d, _)| d)
            }
            Remote::Idle => None,
        }
    }

    /// Mutable access to the shown data.
    pub fn data_mut(&mut self) -> Option<&mut T> {
        match self {
            Remote::Ready(data, _) => Some(data),
            Remote::Loading { previous, .. } | Remote::Failed { previous, .. } => {
                previous.as_mut().map(|(d, _)| d)
            }
            Remote::Idle => None,
        }
    }

    /// Whether a request is in flight.
    pub fn is_loading(&self) -> bool {
        matches!(self, Remote::Loading { .. })
    }

    /// Whether data shown since `every` (or a failure that old) should be fetched again:
    /// never while a request is in flight, never before the first request.
    pub fn due(&self, now: Instant, every: Duration) -> bool {
        match self {
            Remote::Ready(_, at) | Remote::Failed { at, .. } => {
                now.saturating_duration_since(*at) >= every
            }
            Remote::Idle | Remote::Loading { .. } => false,
        }
    }
}

/// Human age: `3s`, `4m`, `2h`.
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else {
        format!("{}h", s / 3600)
    }
}

/// One status line: loading (with elapsed), error with the retry key, or the data's age.
pub fn status_line<T>(
    remote: &Remote<T>,
    now: Instant,
    frozen: bool,
    theme: &Theme,
    key: &str,
) -> Line<'static> {
    let fmt = |d: Duration| if frozen { "0s".to_string() } else { age(d) };
    match remote {
        Remote::Idle => Line::from(Span::styled(
            format!("not loaded — press {key} to load"),
            theme.dim(),
        )),
        Remote::Loading { since, .. } => Line::from(Span::styled(
            format!("loading… {}", fmt(now.saturating_duration_since(*since))),
            theme.warn(),
        )),
        Remote::Ready(_, at) => Line::from(Span::styled(
            format!(
                "updated {} ago · {key} refresh",
                fmt(now.saturating_duration_since(*at))
            ),
            theme.dim(),
        )),
        Remote::Failed {
            error, previous, ..
        } => {
            let stale = previous
                .as_ref()
                .map(|(_, at)| {
                    format!(
                        " · showing data from {} ago (stale)",
                        fmt(now.saturating_duration_since(*at))
                    )
                })
                .unwrap_or_default();
            Line::from(vec![
                Span::styled(format!("error: {error}"), theme.error()),
                Span::styled(format!("{stale} · {key} retry"), theme.dim()),
            ])
        }
    }
}

/// A metric formatted by its kind: counts and sizes as integers, dollars with separators,
/// percentages with two decimals, ratios and log errors with four decimals (every
/// view shows a metric the same way).
pub fn metric(key: &str, v: f64) -> String {
    let k = key.to_lowercase();
    if k.ends_with("mape") || k.ends_with("percent") || k.ends_with("_pct") {
        format!("{v:.2} %")
    } else if k.contains("log") || k.contains("r2") || k.contains("ratio") || k.contains("alpha") {
        format!("{v:.4}")
    } else if k.ends_with("mae") || k.ends_with("rmse") || k.contains("price") {
        dollars(v)
    } else if k.contains("rows")
        || k.contains("count")
        || k.ends_with("_n")
        || k.contains("features")
        || k.contains("outliers")
        || (v.fract() == 0.0 && v.abs() >= 1.0 && v.abs() < 1e15)
    {
        dollars(v).replacen('$', "", 1)
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

/// Dollars with thousands separators, no cents: `$208,124`.
pub fn dollars(value: f64) -> String {
    if !value.is_finite() {
        return "$?".to_string();
    }
    let digits = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}", if value < 0.0 { "-" } else { "" })
}

/// Draws a centred message (for empty and loading states).
pub fn draw_message(frame: &mut Frame, area: Rect, message: Line<'static>) {
    frame.render_widget(Paragraph::new(message).centered(), area);
}
