//! The console's state and its one update path: keys and results in, commands out.
//!
//! Nothing here touches the network or the disk: the runtime executes the returned
//! [`Command`]s in background tasks and feeds their results back as [`Loaded`] values, which
//! keeps every flow testable by calling [`App::on_key`] and [`App::on_loaded`] directly.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};

use super::action::{Command, Loaded, Mutation, ViewId};
use super::theme::Theme;
use super::views::deploy::DeployView;
use super::views::experiments::ExperimentsView;
use super::views::logs::LogsView;
use super::views::monitor::MonitorView;
use super::views::pipeline::{PipelineView, RunEvent};
use super::views::predict::PredictView;
use super::views::predictions::PredictionsView;
use super::views::{DrawContext, Intent, View};
use super::widgets::confirm::{self, Confirm};
use super::widgets::palette::{self, Entry, Palette};
use super::widgets::status::Remote;
use super::widgets::toast::{self, Level, Toast};
use super::widgets::{centered, help};

/// What the header shows about the target.
#[derive(Debug, Clone, Default)]
pub struct Header {
    /// `local` or `aws:<profile>/<region>`.
    pub target: String,
    /// `function:alias`.
    pub endpoint: String,
    /// Model id the live alias names, once known.
    pub model_id: Option<String>,
    /// Model id the endpoint says it serves (`GET /health`, `GET /model`), once known.
    pub served: Option<String>,
}

/// An overlay above the view.
#[derive(Debug, Clone)]
pub enum Overlay {
    /// Key help.
    Help,
    /// Command palette.
    Palette(Palette),
    /// Confirmation of a mutation.
    Confirm(Confirm),
    /// A block of text (full record, stage details), scrollable.
    Detail {
        /// Title.
        title: String,
        /// Text.
        text: String,
        /// First line shown.
        scroll: u16,
        /// A key that closes it and follows a link (a run's detail to its version).
        link: Option<(char, Intent)>,
    },
}

/// The whole console state.
pub struct App {
    /// The visible view.
    pub view: ViewId,
    /// Pipeline view.
    pub pipeline: PipelineView,
    /// Logs view.
    pub logs: LogsView,
    /// Predictions view.
    pub predictions: PredictionsView,
    /// Experiments view.
    pub experiments: ExperimentsView,
    /// Predict view.
    pub predict: PredictView,
    /// Deploy view.
    pub deploy: DeployView,
    /// Monitor view.
    pub monitor: MonitorView,
    /// Open overlay.
    pub overlay: Option<Overlay>,
    /// Notifications.
    pub toasts: Vec<Toast>,
    /// Header facts.
    pub header: Header,
    /// Refuse mutations.
    pub read_only: bool,
    /// Styles.
    pub theme: Theme,
    /// Show ages as 0 (deterministic screenshots).
    pub frozen: bool,
    /// Set when the user quits.
    pub should_quit: bool,
    /// A mutation is running (only one at a time).
    pub busy: Option<Mutation>,
}

impl App {
    /// A fresh console on the Pipeline view.
    pub fn new(header: Header, read_only: bool, theme: Theme) -> Self {
        Self {
            view: ViewId::Pipeline,
            pipeline: PipelineView::default(),
            logs: LogsView::default(),
            predictions: PredictionsView::default(),
            experiments: ExperimentsView::default(),
            predict: PredictView::default(),
            deploy: DeployView::default(),
            monitor: MonitorView::default(),
            overlay: None,
            toasts: Vec::new(),
            header,
            read_only,
            theme,
            frozen: false,
            should_quit: false,
            busy: None,
        }
    }

    /// Commands to run at start: the first view's data (and the log stream, which is cheap).
    pub fn start(&mut self, now: Instant) -> Vec<Command> {
        let mut commands = self.enter(self.view, now);
        commands.extend(self.logs.on_enter(now));
        // The header compares the live alias's model with what the endpoint serves from the
        // start, whichever view is open.
        commands.extend(self.deploy.on_enter(now));
        commands.push(Command::LoadRunLogs);
        commands
    }

    /// The one place that maps a view id to its state: everything else goes through
    /// [`View`].
    fn view_mut(&mut self, id: ViewId) -> &mut dyn View {
        match id {
            ViewId::Pipeline => &mut self.pipeline,
            ViewId::Logs => &mut self.logs,
            ViewId::Predictions => &mut self.predictions,
            ViewId::Experiments => &mut self.experiments,
            ViewId::Predict => &mut self.predict,
            ViewId::Deploy => &mut self.deploy,
            ViewId::Monitor => &mut self.monitor,
        }
    }

    fn view_ref(&self, id: ViewId) -> &dyn View {
        match id {
            ViewId::Pipeline => &self.pipeline,
            ViewId::Logs => &self.logs,
            ViewId::Predictions => &self.predictions,
            ViewId::Experiments => &self.experiments,
            ViewId::Predict => &self.predict,
            ViewId::Deploy => &self.deploy,
            ViewId::Monitor => &self.monitor,
        }
    }

    fn enter(&mut self, view: ViewId, now: Instant) -> Vec<Command> {
        self.view = view;
        self.view_mut(view).on_enter(now).into_iter().collect()
    }

    /// A tick of the clock: the visible view refreshes when its data is due (each view has
    /// a timer suited to its source), and the header's deploy status now and then.
    pub fn on_tick(&mut self, now: Instant) -> Vec<Command> {
        let view = self.view;
        let mut commands = Vec::new();
        if self.view_ref(view).due(now) {
            commands.extend(self.view_mut(view).reload(now));
        }
        if view != ViewId::Deploy && self.deploy.status.due(now, super::views::every::HEADER) {
            commands.extend(self.deploy.reload(now));
        }
        commands
    }

    /// Adds a notification.
    pub fn note(&mut self, message: impl Into<String>, level: Level, now: Instant) {
        self.toasts.push(Toast {
            message: message.into(),
            level,
            at: now,
        });
        if self.toasts.len() > 20 {
            self.toasts.remove(0);
        }
    }

    /// Asks for a mutation: it starts unless read-only refuses it or another one runs; its
    /// operation then asks for confirmation through the dialog.
    pub fn ask(&mut self, mutation: Mutation, now: Instant) -> Vec<Command> {
        // A watched canary runs for minutes: a rollback (`x`, `b`) is how it is stopped, so it
        // may start meanwhile; the watch sees the alias move and ends.
        let stops_canary =
            self.busy == Some(Mutation::Canary) && matches!(mutation, Mutation::Rollback { .. });
        if let Some(busy) = &self.busy
            && !self.read_only
            && !stops_canary
        {
            self.note(
                format!("wait: still working on — {}", self.describe(busy)),
                Level::Error,
                now,
            );
            return Vec::new();
        }
        self.dispatch(mutation, now)
    }

    /// Dispatches a mutation: the one place where read-only is enforced for actions.
    pub fn dispatch(&mut self, mutation: Mutation, now: Instant) -> Vec<Command> {
        if self.read_only {
            self.note(
                format!("read-only: refused — {}", self.describe(&mutation)),
                Level::Error,
                now,
            );
            return Vec::new();
        }
        if mutation.runs_the_pipeline() {
            self.pipeline.begin_run(mutation.title().to_string());
        }
        if self.busy.is_none() {
            self.busy = Some(mutation.clone());
        }
        self.note(
            format!("started: {}", self.describe(&mutation)),
            Level::Info,
            now,
        );
        vec![Command::Mutate(mutation)]
    }

    fn apply(&mut self, intent: Intent, now: Instant) -> Vec<Command> {
        match intent {
            Intent::Run(command) => vec![command],
            Intent::Ask(mutation) => self.ask(mutation, now),
            Intent::Note(message) => {
                self.note(message, Level::Info, now);
                Vec::new()
            }
            Intent::ShowLogs(text) => {
                let mut commands = self.enter(ViewId::Logs, now);
                if let Some(intent) = self.logs.search_for(&text) {
                    commands.extend(self.apply(intent, now));
                }
                commands
            }
            Intent::LoadHouse { input, actual } => {
                let filled = self.predict.load_house(&input, actual);
                let commands = self.enter(ViewId::Predict, now);
                if filled > 0 {
                    self.note(
                        format!("the form holds the house ({filled} fields given): s sends it"),
                        Level::Info,
                        now,
                    );
                }
                commands
            }
            Intent::Detail(title, text) => {
                self.overlay = Some(Overlay::Detail {
                    title,
                    text,
                    scroll: 0,
                    link: None,
                });
                Vec::new()
            }
            Intent::RunDetail(run) => {
                let deployed = self.deployment_of(run.model_id.as_deref());
                let mut text = super::views::experiments::run_detail(&run, &deployed);
                let link = self
                    .deployed_version(run.model_id.as_deref())
                    .map(|version| {
                        text.push_str(&format!(
                            "\n\nv opens version {version} in the Deploy view (6)"
                        ));
                        ('v', Intent::ShowVersion(run.clone()))
                    });
                self.overlay = Some(Overlay::Detail {
                    title: format!("run {}", run.name),
                    text,
                    scroll: 0,
                    link,
                });
                Vec::new()
            }
            Intent::ShowVersion(run) => {
                let Some(model_id) = run.model_id.as_deref() else {
                    self.note(
                        format!(
                            "run {} recorded no model id: nothing to find in the Deploy view",
                            run.name
                        ),
                        Level::Error,
                        now,
                    );
                    return Vec::new();
                };
                match self.deploy.pick_model(model_id) {
                    Some(version) => {
                        let commands = self.enter(ViewId::Deploy, now);
                        self.note(
                            format!("version {version} serves model {model_id} (run {}): b rolls back to it, p shows its predictions", run.name),
                            Level::Info,
                            now,
                        );
                        commands
                    }
                    None => {
                        let why = self.deployment_of(Some(model_id));
                        self.note(
                            format!("model {model_id} (run {}): {why}", run.name),
                            Level::Info,
                            now,
                        );
                        Vec::new()
                    }
                }
            }
            Intent::ShowPredictions(model_id) => {
                let commands = self.enter(ViewId::Predictions, now);
                self.predictions.set_filter(&format!("model={model_id}"));
                self.note(
                    format!("predictions of model {model_id} on this page (/ changes the filter)"),
                    Level::Info,
                    now,
                );
                commands
            }
        }
    }

    /// What a mutation does, naming the models it moves when the deployment is known: the
    /// candidate `d` deploys, the version `b` moves to.
    pub fn describe(&self, mutation: &Mutation) -> String {
        let status = self.deploy.status.data();
        let candidate = status.and_then(|s| s.candidate.as_deref());
        let to_model = match mutation {
            Mutation::Rollback { to: Some(version) } => status
                .and_then(|s| s.versions.iter().find(|v| v.version == *version))
                .map(|v| v.model_id.as_str()),
            _ => None,
        };
        mutation.describe_models(candidate, to_model)
    }

    /// Where a model is deployed, from the Deploy view's status (no I/O: the app holds it).
    pub fn deployment_of(&self, model_id: Option<&str>) -> String {
        let Some(model_id) = model_id else {
            return "unknown: the run recorded no model id".to_string();
        };
        match self.deploy.status.data() {
            Some(status) => status.deployment_of(model_id),
            None if self.deploy.status.is_loading() => {
                "unknown yet: reading the deployment (view 6)…".to_string()
            }
            None => "unknown: no deployment status (r in view 6)".to_string(),
        }
    }

    /// The version that serves a model, when one does.
    fn deployed_version(&self, model_id: Option<&str>) -> Option<String> {
        let status = self.deploy.status.data()?;
        let index = status.version_of(model_id?)?;
        status.versions.get(index).map(|v| v.version.clone())
    }

    /// Whether the view is taking typed text (global keys are then text).
    fn capturing_text(&self) -> bool {
        self.view_ref(self.view).capturing_text()
    }

    /// Handles one key press.
    pub fn on_key(&mut self, key: KeyEvent, now: Instant) -> Vec<Command> {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.should_quit = true;
            return Vec::new();
        }
        if let Some(overlay) = self.overlay.take() {
            return self.on_overlay_key(overlay, key, now);
        }
        if !self.capturing_text() {
            match key.code {
                KeyCode::Char('q') => {
                    self.should_quit = true;
                    return Vec::new();
                }
                KeyCode::Char('?') => {
                    self.overlay = Some(Overlay::Help);
                    return Vec::new();
                }
                KeyCode::Char(':') => {
                    self.overlay = Some(Overlay::Palette(Palette::default()));
                    return Vec::new();
                }
                KeyCode::Char('R') => return self.ask(Mutation::Retrain, now),
                KeyCode::Tab => {
                    let next = (self.view.index() + 1) % ViewId::ALL.len();
                    return self.enter(ViewId::ALL[next], now);
                }
                KeyCode::BackTab => {
                    let previous = (self.view.index() + ViewId::ALL.len() - 1) % ViewId::ALL.len();
                    return self.enter(ViewId::ALL[previous], now);
                }
                KeyCode::Char(c @ '1'..='9') if (c as usize - '1' as usize) < ViewId::ALL.len() => {
                    let index = c as usize - '1' as usize;
                    return self.enter(ViewId::ALL[index], now);
                }
                _ => {}
            }
        }
        let intent = self.view_mut(self.view).handle_key(key, now);
        intent.map(|i| self.apply(i, now)).unwrap_or_default()
    }

    fn on_overlay_key(&mut self, overlay: Overlay, key: KeyEvent, now: Instant) -> Vec<Command> {
        match overlay {
            Overlay::Help => {
                if !matches!(
                    key.code,
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter
                ) {
                    self.overlay = Some(Overlay::Help);
                }
                Vec::new()
            }
            Overlay::Detail {
                title,
                text,
                scroll,
                link,
            } => {
                if let Some((c, intent)) = &link
                    && key.code == KeyCode::Char(*c)
                {
                    return self.apply(intent.clone(), now);
                }
                let scroll = match key.code {
                    KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => return Vec::new(),
                    KeyCode::Down | KeyCode::Char('j') => scroll.saturating_add(1),
                    KeyCode::Up | KeyCode::Char('k') => scroll.saturating_sub(1),
                    KeyCode::PageDown => scroll.saturating_add(20),
                    KeyCode::PageUp => scroll.saturating_sub(20),
                    _ => scroll,
                };
                self.overlay = Some(Overlay::Detail {
                    title,
                    text,
                    scroll,
                    link,
                });
                Vec::new()
            }
            Overlay::Palette(mut palette) => match palette.handle_key(key) {
                palette::Outcome::Open => {
                    self.overlay = Some(Overlay::Palette(palette));
                    Vec::new()
                }
                palette::Outcome::Closed => Vec::new(),
                palette::Outcome::Chosen(entry) => self.on_palette(entry, now),
            },
            Overlay::Confirm(mut dialog) => match dialog.handle_key(key) {
                confirm::Outcome::Open => {
                    self.overlay = Some(Overlay::Confirm(dialog));
                    Vec::new()
                }
                confirm::Outcome::Cancelled => {
                    self.note("cancelled", Level::Info, now);
                    vec![Command::Answer {
                        id: dialog.id,
                        yes: false,
                    }]
                }
                confirm::Outcome::Accepted => vec![Command::Answer {
                    id: dialog.id,
                    yes: true,
                }],
            },
        }
    }

    fn on_palette(&mut self, entry: Entry, now: Instant) -> Vec<Command> {
        match entry {
            Entry::View(i) => self.enter(ViewId::ALL[i.min(ViewId::ALL.len() - 1)], now),
            Entry::Refresh => self.refresh(now),
            Entry::RunPipeline => self.ask(Mutation::RunPipeline { stage: None }, now),
            Entry::Retrain => self.ask(Mutation::Retrain, now),
            Entry::Deploy => self.ask(Mutation::Deploy, now),
            Entry::ForceDeploy => self.ask(Mutation::ForceDeploy, now),
            Entry::Rollback => self.ask(Mutation::Rollback { to: None }, now),
            Entry::Help => {
                self.overlay = Some(Overlay::Help);
                Vec::new()
            }
            Entry::Quit => {
                self.should_quit = true;
                Vec::new()
            }
        }
    }

    /// Reloads the current view's data.
    pub fn refresh(&mut self, now: Instant) -> Vec<Command> {
        self.view_mut(self.view).reload(now).into_iter().collect()
    }

    /// Takes the result of background work.
    pub fn on_loaded(&mut self, loaded: Loaded, now: Instant) -> Vec<Command> {
        match loaded {
            Loaded::Pipeline(result) => self.pipeline.on_loaded(result, now),
            Loaded::PipelineRun(event) => {
                if self.pipeline.on_run(event) {
                    return self.pipeline.reload(now).into_iter().collect();
                }
            }
            Loaded::RunLogs(saved) => self.pipeline.restore(saved),
            Loaded::Logs(event) => self.logs.on_event(event),
            Loaded::Records(result) => self.predictions.on_loaded(result, now),
            Loaded::Record(result) => match result {
                Ok(row) => {
                    let text = serde_json::to_string_pretty(&row.raw).unwrap_or_default();
                    self.overlay = Some(Overlay::Detail {
                        title: row.key,
                        text,
                        scroll: 0,
                        link: None,
                    });
                }
                Err(e) => self.note(e, Level::Error, now),
            },
            Loaded::Runs(result) => self.experiments.on_loaded(result, now),
            Loaded::RunsWaiting(count) => self.experiments.waiting = count,
            Loaded::Schema(result) => {
                if let Ok(schema) = &result
                    && !schema.model_id.is_empty()
                {
                    self.header.served = Some(schema.model_id.clone());
                }
                self.predict.on_schema(result, now);
            }
            Loaded::TestHouse(result) => match result {
                Ok(house) => {
                    let (id, index, total, actual) =
                        (house.id, house.index, house.total, house.actual);
                    let filled = self.predict.on_test_house(house);
                    let commands = self.enter(ViewId::Predict, now);
                    self.note(
                        format!(
                            "test house {}{} of {} (sold for {}){}: s sends it",
                            id.map(|id| format!("Id {id}, ")).unwrap_or_default(),
                            index + 1,
                            total,
                            super::widgets::status::dollars(actual),
                            if filled > 0 {
                                format!(", {filled} fields given")
                            } else {
                                String::new()
                            }
                        ),
                        Level::Info,
                        now,
                    );
                    return commands;
                }
                Err(e) => self.note(e, Level::Error, now),
            },
            Loaded::Prediction(result) => {
                let stored = matches!(&result, Ok(o) if o.remote.as_ref().is_ok_and(|r| r.stored));
                self.predict.on_outcome(result, now);
                // A stored prediction is a new record: the list shows it without a key press.
                if stored && !matches!(self.predictions.page, Remote::Idle) {
                    return self.predictions.reload(now).into_iter().collect();
                }
            }
            Loaded::Deploy(result) => {
                if let Ok(status) = &result {
                    self.header.model_id = Some(status.model_id.clone());
                    if status.served_model.is_some() {
                        self.header.served = status.served_model.clone();
                    }
                }
                self.deploy.status.finish(result, now);
            }
            Loaded::Monitor(result) => self.monitor.report.finish(result, now),
            Loaded::Confirm { id, question } => {
                // The question has the screen: whatever overlay was open gives way.
                self.overlay = Some(Overlay::Confirm(Confirm::new(id, question)));
            }
            Loaded::Retrained(result) => {
                self.busy = None;
                self.pipeline.run_active = false;
                if let Ok(outcome) = &result {
                    // The same report as `amesops retrain`, in the Pipeline view's run pane.
                    for line in outcome.report().lines() {
                        self.pipeline.on_run(RunEvent::Output(line.to_string()));
                    }
                }
                self.close_dialog();
                match result {
                    Err(message) => self.note(message, Level::Error, now),
                    Ok(outcome) if outcome.decision.is_refusal() => {
                        self.note(outcome.summary(), Level::Error, now)
                    }
                    Ok(outcome) => self.note(outcome.summary(), Level::Info, now),
                }
                return self.after_mutation(now);
            }
            Loaded::Mutated(result) => {
                self.busy = None;
                self.pipeline.run_active = false;
                self.close_dialog();
                match result {
                    Ok(message) => self.note(message, Level::Info, now),
                    Err(message) => self.note(message, Level::Error, now),
                }
                return self.after_mutation(now);
            }
        }
        Vec::new()
    }

    /// A dialog whose operation ended without an answer has nothing left to confirm.
    fn close_dialog(&mut self) {
        if matches!(self.overlay, Some(Overlay::Confirm(_))) {
            self.overlay = None;
        }
    }

    /// What a mutation changes shows up in these views.
    fn after_mutation(&mut self, now: Instant) -> Vec<Command> {
        let mut commands: Vec<Command> = [self.pipeline.reload(now), self.deploy.reload(now)]
            .into_iter()
            .flatten()
            .collect();
        self.predict.schema.start(now);
        commands.push(Command::LoadSchema);
        // A retrain adds runs and any deploy moves the ★ of production.
        if !matches!(self.experiments.runs, Remote::Idle) {
            commands.extend(self.experiments.reload(now));
        }
        commands
    }

    fn keys(&self) -> &'static [(&'static str, &'static str)] {
        self.view_ref(self.view).keys()
    }

    /// Draws the whole screen. Any size works; tiny terminals get a notice.
    pub fn draw(&mut self, frame: &mut Frame, now: Instant) {
        let area = frame.area();
        let theme = self.theme;
        if area.width < 40 || area.height < 12 {
            frame.render_widget(
                Paragraph::new("amesops: enlarge the terminal (40×12 at least) · q quits")
                    .wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        let note = toast::live(&self.toasts, now).cloned();
        let note_rows = note.as_ref().map_or(0, |t| toast::height(t, area.width));
        let [header, tabs, body, notes, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(note_rows),
            Constraint::Length(1),
        ])
        .areas(area);
        let mut spans = vec![
            Span::styled(" amesops ", theme.accent()),
            Span::raw(format!("{} · {}", self.header.target, self.header.endpoint)),
            Span::styled(
                format!(
                    " · model {}",
                    self.header.model_id.as_deref().unwrap_or("?")
                ),
                theme.dim(),
            ),
        ];
        // Say what is served: the endpoint's own answer against what the alias names.
        if let (Some(live), Some(served)) = (&self.header.model_id, &self.header.served)
            && live != served
            && live != "–"
        {
            spans.push(Span::styled(
                format!(" · SERVING {served} ≠ live "),
                theme.error(),
            ));
        }
        if let Some(busy) = &self.busy {
            spans.push(Span::styled(
                format!(" · working: {}", busy.title()),
                theme.warn(),
            ));
        }
        if self.read_only {
            spans.push(Span::styled(" READ-ONLY ", theme.error()));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), header);
        // Every tab's number always shows: where the full titles do not fit, the others
        // are cut to four letters.
        let full: usize = ViewId::ALL
            .iter()
            .map(|v| v.title().chars().count() + 5)
            .sum();
        let narrow = full > usize::from(tabs.width);
        let titles: Vec<Line> = ViewId::ALL
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let title: String = if narrow && *v != self.view {
                    v.title().chars().take(4).collect()
                } else {
                    v.title().to_string()
                };
                Line::from(format!("{} {title}", i + 1))
            })
            .collect();
        frame.render_widget(
            Tabs::new(titles)
                .select(self.view.index())
                .highlight_style(theme.accent())
                .divider("│"),
            tabs,
        );
        let ctx = DrawContext {
            theme,
            now,
            frozen: self.frozen,
            read_only: self.read_only,
        };
        let body_block = Block::default().borders(Borders::NONE);
        let inner = body_block.inner(body);
        self.view_mut(self.view).draw(frame, inner, &ctx);
        let refused = self.refused_keys();
        frame.render_widget(
            Paragraph::new(footer_line(self.keys(), refused, footer.width, &theme)),
            footer,
        );
        if let Some(note) = &note {
            toast::draw(frame, notes, note, &theme);
        }
        match &self.overlay {
            Some(Overlay::Help) => help::draw(
                frame,
                area,
                self.view.title(),
                self.keys(),
                refused,
                self.read_only,
                &theme,
            ),
            Some(Overlay::Palette(p)) => p.draw(frame, area, &theme),
            Some(Overlay::Confirm(c)) => c.draw(frame, area, &theme),
            Some(Overlay::Detail {
                title,
                text,
                scroll,
                link,
            }) => draw_detail(
                frame,
                area,
                title,
                text,
                *scroll,
                link.as_ref().map(|(c, _)| *c),
                &theme,
            ),
            None => {}
        }
    }

    /// Keys of the visible view that read-only refuses (none otherwise).
    fn refused_keys(&self) -> &'static [&'static str] {
        if self.read_only {
            self.view_ref(self.view).mutating_keys()
        } else {
            &[]
        }
    }
}

/// The footer: as many of the view's keys as fit (full labels, else their first word),
/// `… ` when some had to go, and `? help` and `q quit` always.
fn footer_line(
    keys: &[(&'static str, &'static str)],
    hidden: &[&str],
    width: u16,
    theme: &Theme,
) -> Line<'static> {
    let shown: Vec<(&str, &str)> = keys
        .iter()
        .filter(|(k, _)| !hidden.contains(k))
        .copied()
        .collect();
    let cost = |items: &[(&str, String)]| -> usize {
        items
            .iter()
            .map(|(k, w)| k.chars().count() + w.chars().count() + 3)
            .sum()
    };
    let tail = [("?", "help".to_string()), ("q", "quit".to_string())];
    let width = usize::from(width);
    let room = width.saturating_sub(cost(&tail));
    let full: Vec<(&str, String)> = shown.iter().map(|(k, w)| (*k, w.to_string())).collect();
    let mut chosen = if cost(&full) <= room {
        full
    } else {
        shown
            .iter()
            .map(|(k, w)| (*k, w.split_whitespace().next().unwrap_or("").to_string()))
            .collect()
    };
    let mut cut = false;
    while !chosen.is_empty() && cost(&chosen) + if cut { 2 } else { 0 } > room {
        chosen.pop();
        cut = true;
    }
    let mut spans: Vec<Span> = Vec::new();
    for (k, what) in chosen.iter().chain(tail.iter()) {
        if cut && *k == "?" {
            spans.push(Span::styled("… ", theme.dim()));
        }
        spans.push(Span::styled(format!(" {k} "), theme.warn()));
        spans.push(Span::raw(format!("{what} ")));
    }
    Line::from(spans)
}

fn draw_detail(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    text: &str,
    scroll: u16,
    link: Option<char>,
    theme: &Theme,
) {
    let rect = centered(
        area,
        area.width.saturating_sub(8),
        area.height.saturating_sub(4),
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text.to_string())
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(Block::default().borders(Borders::ALL).title(Span::styled(
                match link {
                    Some('v') => format!(" {title} · ↑/↓ scroll · v its version · esc close "),
                    Some(c) => format!(" {title} · ↑/↓ scroll · {c} follow · esc close "),
                    None => format!(" {title} · ↑/↓ scroll · esc close "),
                },
                theme.accent(),
            ))),
        rect,
    );
}
