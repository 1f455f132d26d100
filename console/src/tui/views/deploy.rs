//! Deploy view: the function, its versions, alias routing, URL, deployed model, health.

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
}

/// State of the Deploy view.
#[derive(Debug, Default)]
pub struct DeployView {
    /// Status.
    pub status: Remote<DeployStatus>,
}

impl View for DeployView {
    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("d", "deploy (gated)"),
            ("b", "roll back"),
            ("r", "refresh"),
            ("F", "force past the gate (typed)"),
        ]
    }

    fn on_enter(&mut self, now: std::time::Instant) -> Option<Command> {
        if matches!(self.status, Remote::Idle) {
            self.reload(now)
        } else {
            None
        }
    }

    fn reload(&mut self, now: std::time::Instant) -> Option<Command> {
        self.status.start(now);
        Some(Command::LoadDeploy)
    }

    fn handle_key(&mut self, key: KeyEvent, now: std::time::Instant) -> Option<Intent> {
        match key.code {
            KeyCode::Char('d') => Some(Intent::Ask(Mutation::Deploy)),
            KeyCode::Char('b') => Some(Intent::Ask(Mutation::Rollback { to: None })),
            KeyCode::Char('F') => Some(Intent::Ask(Mutation::ForceDeploy)),
            KeyCode::Char('r') => self.reload(now).map(Intent::Run),
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
                .map(|(k, v)| Line::from(format!("{k:<14} {}", metric(*v)))),
        );
        lines.push(Line::from(""));
        lines.push(match &s.candidate {
            Some(c) if *c == s.model_id => Line::from(Span::styled(
                "models/model.json is what is deployed",
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
            .map(|v| {
                let style = if v.version == s.alias_version {
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
                    .title(" versions · d deploy · b rollback "),
            ),
            versions,
        );
    }
}
