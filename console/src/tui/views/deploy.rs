//! Deploy view: the function, its versions, alias routing, URL, deployed model, health, and a
//! watched canary (weight, time left, alarm states; `x` stops it).

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

use super::{DrawContext, Intent, View};
use crate::tui::action::{Command, Mutation};
use crate::tui::widgets::status::{Remote, metric, status_line};

/// One published version.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionRow {
    /// Version number (or local history index).
    pub version: String,
    /// Model it serves.
    pub model_id: String,
    /// When it was published.
    pub created: String,
}

/// A canary being watched (or left resumable), from the watch's state file.
#[derive(Debug, Clone, PartialEq)]
pub struct CanaryPanel {
    /// The canary's version.
    pub version: String,
    /// Its share of the traffic, percent.
    pub percent: f64,
    /// `watching`, `resumable`, `promoted` or `rolled_back`.
    pub state: String,
    /// Seconds left in the watch.
    pub seconds_left: i64,
    /// Each alarm: state (`OK`, `ALARM`, `INSUFFICIENT_DATA`) and name.
    pub alarms: Vec<(String, String)>,
}

/// What is deployed and how it is doing.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployStatus {
    /// Function (or local server) name.
    pub function: String,
    /// Alias name.
    pub alias: String,
    /// Version the alias points to.
    pub alias_version: String,
    /// Canary: other version and its weight.
    pub routing: Option<(String, f64)>,
    /// Versions, newest first.
    pub versions: Vec<VersionRow>,
    /// Endpoint URL.
    pub url: String,
    /// Model id served by the alias.
    pub model_id: String,
    /// Its metrics.
    pub metrics: Vec<(String, f64)>,
    /// Health check result: an error also when the endpoint serves another model than the
    /// alias names.
    pub health: Result<String, String>,
    /// The model the endpoint says it serves (`GET /health`), when it answered.
    pub served_model: Option<String>,
    /// Model id of models/model.json (what `d` would deploy).
    pub candidate: Option<String>,
    /// The canary's watch, while the alias routes a share to it.
    pub canary: Option<CanaryPanel>,
}

impl DeployStatus {
    /// Where a model is deployed, in one line: the version the alias (or its canary share)
    /// routes to, else a published version it could be rolled back to, else "not deployed".
    pub fn deployment_of(&self, model_id: &str) -> String {
        let serving: Vec<&VersionRow> = self
            .versions
            .iter()
            .filter(|v| v.model_id == model_id)
            .collect();
        if let Some(v) = serving.iter().find(|v| v.version == self.alias_version) {
            return format!(
                "live: version {} (alias {} → version {}) at {}",
                v.version, self.alias, self.alias_version, self.url
            );
        }
        if let Some((version, weight)) = &self.routing
            && let Some(v) = serving.iter().find(|v| v.version == *version)
        {
            return format!(
                "canary: version {} gets {:.0}% of alias {}",
                v.version,
                weight * 100.0,
                self.alias
            );
        }
        match serving.first() {
            Some(v) => format!(
                "published as version {} of {}, not live (alias {} → version {}); b in view 6 rolls back to it",
                v.version, self.function, self.alias, self.alias_version
            ),
            None => format!("not deployed (no version of {} serves it)", self.function),
        }
    }

    /// The version showing a model: the routed one when several serve it, else the newest.
    pub fn version_of(&self, model_id: &str) -> Option<usize> {
        let routed = |v: &VersionRow| {
            v.version == self.alias_version
                || self.routing.as_ref().is_some_and(|(r, _)| *r == v.version)
        };
        self.versions
            .iter()
            .position(|v| v.model_id == model_id && routed(v))
            .or_else(|| self.versions.iter().position(|v| v.model_id == model_id))
    }
}

/// State of the Deploy view.
#[derive(Debug, Default)]
pub struct DeployView {
    /// Status.
    pub status: Remote<DeployStatus>,
    /// The version picked in the list (`↑/↓`), what `b` rolls back to.
    picked: Option<usize>,
}

impl DeployView {
    /// Picks the version that serves `model_id` (what a link from a run opens); its version
    /// number, or `None` when no version serves it.
    pub fn pick_model(&mut self, model_id: &str) -> Option<String> {
        let s = self.status.data()?;
        let index = s.version_of(model_id)?;
        let version = s.versions.get(index)?.version.clone();
        self.picked = Some(index);
        Some(version)
    }

    /// The picked version, else the live one.
    pub fn picked_version(&self) -> Option<&VersionRow> {
        let s = self.status.data()?;
        match self.picked {
            Some(i) => s.versions.get(i),
            None => s.versions.iter().find(|v| v.version == s.alias_version),
        }
    }

    /// The version `b` moves the alias to: the picked one, else the one before the live
    /// version; or why there is none.
    pub fn rollback_target(&self) -> Result<String, String> {
        let s = self.status.data().ok_or("no deployment status yet")?;
        let live = s.versions.iter().position(|v| v.version == s.alias_version);
        let target = match self.picked {
            Some(i) if Some(i) != live => s.versions.get(i),
            _ => live.and_then(|i| s.versions.get(i + 1)),
        };
        match target {
            Some(v) => Ok(v.version.clone()),
            None => Err(format!(
                "nothing to roll back to: version {} is the first one published",
                s.alias_version
            )),
        }
    }
}

impl View for DeployView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("d", "deploy (gated)"),
            ("b", "roll back (to the picked or previous version)"),
            ("↑/↓", "pick a version"),
            ("p", "predictions of the picked version's model"),
            ("r", "refresh"),
            ("F", "force past the gate (typed)"),
            ("C", "canary deploy (watched)"),
            ("x", "stop canary"),
        ]
    }

    fn mutating_keys(&self) -> &'static [&'static str] {
        &["d", "b", "F", "C", "x"]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.status, Remote::Idle) || self.due(now) {
            self.reload(now)
        } else {
            None
        }
    }

    fn due(&self, now: std::time::Instant) -> bool {
        self.status.due(now, super::every::DEPLOY)
    }

    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        self.status.start(now);
        Some(Command::LoadDeploy)
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        match key.code {
            KeyCode::Char('d') => Some(Intent::Ask(Mutation::Deploy)),
            KeyCode::Char('b') => Some(match self.rollback_target() {
                Ok(version) => Intent::Ask(Mutation::Rollback { to: Some(version) }),
                Err(why) => Intent::Note(why),
            }),
            KeyCode::Down | KeyCode::Char('j') => {
                let n = self.status.data().map_or(0, |s| s.versions.len());
                self.picked = Some(self.picked.map_or(0, |i| i + 1).min(n.saturating_sub(1)));
                None
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.picked = Some(self.picked.unwrap_or(0).saturating_sub(1));
                None
            }
            KeyCode::Char('p') => Some(match self.picked_version() {
                Some(v) => Intent::ShowPredictions(v.model_id.clone()),
                None => Intent::Note("no version to show the predictions of".to_string()),
            }),
            KeyCode::Char('F') => Some(Intent::Ask(Mutation::ForceDeploy)),
            KeyCode::Char('C') => Some(Intent::Ask(Mutation::Canary)),
            KeyCode::Char('r') => self.reload(now).map(Intent::Run),
            // Stopping a canary is a rollback: the plan stops the share, the dialog confirms.
            KeyCode::Char('x') if self.status.data().is_some_and(|s| s.routing.is_some()) => {
                Some(Intent::Ask(Mutation::Rollback { to: None }))
            }
            _ => None,
        }
    }

    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext) {
        let theme = &ctx.theme;
        let [status, body] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(3)]).areas(area);
        frame.render_widget(
            Paragraph::new(status_line(&self.status, ctx.now, ctx.frozen, theme, "r")),
            status,
        );
        let Some(s) = self.status.data() else {
            let message = if self.status.is_loading() {
                "reading the deployment…"
            } else {
                "no deployment status: r to retry"
            };
            frame.render_widget(
                Paragraph::new(Span::styled(message, theme.dim())).centered(),
                body,
            );
            return;
        };
        let [summary, versions] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                .areas(body);
        let health = match &s.health {
            Ok(h) => Span::styled(format!("healthy · {h}"), theme.ok()),
            Err(e) => Span::styled(format!("unhealthy · {e}"), theme.error()),
        };
        let mut lines = vec![
            Line::from(vec![
                Span::styled("function  ", theme.dim()),
                Span::raw(s.function.clone()),
            ]),
            Line::from(vec![
                Span::styled("alias     ", theme.dim()),
                Span::raw(format!("{} → version {}", s.alias, s.alias_version)),
            ]),
        ];
        if let Some((version, weight)) = &s.routing {
            lines.push(Line::from(vec![
                Span::styled("canary    ", theme.dim()),
                Span::styled(
                    format!("{:.0}% to version {version}", weight * 100.0),
                    theme.warn(),
                ),
            ]));
            if let Some(c) = s.canary.as_ref().filter(|c| c.version == *version) {
                lines.push(Line::from(vec![
                    Span::styled("watch     ", theme.dim()),
                    Span::raw(format!(
                        "{} · {}m {:02}s left · x stop (rolls back)",
                        c.state,
                        c.seconds_left / 60,
                        c.seconds_left % 60
                    )),
                ]));
                for (state, name) in &c.alarms {
                    let style = match state.as_str() {
                        "OK" => theme.ok(),
                        "ALARM" => theme.error(),
                        _ => theme.dim(),
                    };
                    lines.push(Line::from(vec![
                        Span::raw("  "),
                        Span::styled(format!("{state:<5}"), style),
                        Span::raw(format!(" {name}")),
                    ]));
                }
            }
        }
        lines.push(Line::from(vec![
            Span::styled("url       ", theme.dim()),
            Span::raw(s.url.clone()),
        ]));
        lines.push(Line::from(vec![
            Span::styled("model     ", theme.dim()),
            Span::raw(s.model_id.clone()),
        ]));
        lines.push(Line::from(vec![
            Span::styled("health    ", theme.dim()),
            health,
        ]));
        lines.push(Line::from(""));
        lines.extend(
            s.metrics
                .iter()
                .map(|(k, v)| Line::from(format!("{k:<14} {}", metric(k, *v)))),
        );
        lines.push(Line::from(""));
        let canary_model = s.routing.as_ref().and_then(|(version, _)| {
            s.versions
                .iter()
                .find(|v| v.version == *version)
                .map(|v| (version, &v.model_id))
        });
        lines.push(match &s.candidate {
            Some(c) if *c == s.model_id => Line::from(Span::styled(
                "models/model.json is what is deployed",
                theme.dim(),
            )),
            Some(c) if canary_model.is_some_and(|(_, m)| m == c) => Line::from(Span::styled(
                format!(
                    "models/model.json is the canary (version {})",
                    canary_model.map(|(v, _)| v.as_str()).unwrap_or("?")
                ),
                theme.dim(),
            )),
            Some(c) => Line::from(Span::styled(
                format!("models/model.json ({c}) is not deployed yet · d to deploy"),
                theme.warn(),
            )),
            None => Line::from(Span::styled(
                "no models/model.json to deploy (train first)",
                theme.dim(),
            )),
        });
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::default().borders(Borders::ALL).title(" deployment ")),
            summary,
        );
        let rows: Vec<Row> = s
            .versions
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let style = if self.picked == Some(i) {
                    theme.selected()
                } else if v.version == s.alias_version {
                    theme.ok()
                } else {
                    ratatui::style::Style::default()
                };
                Row::new(vec![
                    format!(
                        "{}{}",
                        v.version,
                        if v.version == s.alias_version {
                            " ◀"
                        } else {
                            ""
                        }
                    ),
                    v.model_id.clone(),
                    v.created.get(..19).unwrap_or(&v.created).replace('T', " "),
                ])
                .style(style)
            })
            .collect();
        frame.render_widget(
            Table::new(
                rows,
                [
                    Constraint::Length(8),
                    Constraint::Length(13),
                    Constraint::Min(10),
                ],
            )
            .header(Row::new(vec!["version", "model", "published"]).style(theme.accent()))
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(match self.rollback_target() {
                        _ if ctx.read_only => " versions (read-only) ".to_string(),
                        Ok(v) => format!(" versions · d deploy · b back to {v} "),
                        Err(_) => " versions · d deploy ".to_string(),
                    }),
            ),
            versions,
        );
    }
}
