//! One module per view; each owns its state, its keys and its drawing.

pub mod deploy;
pub mod experiments;
pub mod logs;
pub mod monitor;
pub mod pipeline;
pub mod predict;
pub mod predictions;

use std::time::{Duration, Instant};

use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

use super::action::{Command, Mutation};
use super::theme::Theme;

/// How often views refresh on their own while visible.
pub mod every {
    use super::Duration;
    /// dvc.yaml, dvc.lock and the files they name: local reads.
    pub const PIPELINE: Duration = Duration::from_secs(5);
    /// One page of the record store.
    pub const PREDICTIONS: Duration = Duration::from_secs(5);
    /// The tracker, over HTTP.
    pub const EXPERIMENTS: Duration = Duration::from_secs(15);
    /// Function, versions, alias and health.
    pub const DEPLOY: Duration = Duration::from_secs(10);
    /// The header's deployed model while another view is visible.
    pub const HEADER: Duration = Duration::from_secs(30);
    /// Records, sales and day summaries of a month.
    pub const MONITOR: Duration = Duration::from_secs(60);
}

/// What a key in a view asks the app to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// Background work.
    Run(Command),
    /// A mutation (its operation asks for confirmation through the dialog).
    Ask(Mutation),
    /// Show a note.
    Note(String),
    /// Show a detail overlay with this text.
    Detail(String, String),
    /// Open the Logs view searching for this text (a link from another view).
    ShowLogs(String),
    /// Open the Predictions view filtered to this model id (a link from a version).
    ShowPredictions(String),
    /// Open the Deploy view with the version serving this run's model picked (a link from a
    /// run).
    ShowVersion(Box<experiments::RunRow>),
    /// Show a run's detail, with where its model is deployed (the app knows the deployment).
    RunDetail(Box<experiments::RunRow>),
    /// Fill the Predict form with a house (a stored record's input, a test house) and open
    /// it; `actual` is its known sale price.
    LoadHouse {
        /// The house's fields.
        input: serde_json::Value,
        /// Its sale price, when known.
        actual: Option<f64>,
    },
}

/// What drawing needs besides the view's state.
#[derive(Debug, Clone, Copy)]
pub struct DrawContext {
    /// Styles.
    pub theme: Theme,
    /// The current time (frozen in snapshots).
    pub now: Instant,
    /// Show ages as 0 for deterministic snapshots.
    pub frozen: bool,
    /// Actions are refused: views leave them out of their titles.
    pub read_only: bool,
}

/// What every view offers the app; [`crate::tui::app::App`] dispatches to the active one
/// through this trait only, so adding a view touches the view list and its own file.
pub trait View {
    /// The view became visible: loads what it has not loaded yet.
    fn on_enter(&mut self, now: Instant) -> Option<Command>;
    /// Asks for fresh data now (`r`, the palette's refresh, after an action that changed it).
    fn reload(&mut self, now: Instant) -> Option<Command>;
    /// Handles a key the app did not take.
    fn handle_key(&mut self, key: KeyEvent, now: Instant) -> Option<Intent>;
    /// Keys for the footer and the help, most useful first.
    fn keys(&self) -> &'static [(&'static str, &'static str)];
    /// Whether its data is old enough to be fetched again (on its own timer, suited to its
    /// source); the app asks on every tick while the view is visible.
    fn due(&self, _now: Instant) -> bool {
        false
    }
    /// Keys (as listed by [`View::keys`]) that change something outside the console:
    /// hidden from the footer and marked in the help when read-only.
    fn mutating_keys(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether the view is taking typed text (global keys are then text).
    fn capturing_text(&self) -> bool {
        false
    }
    /// Draws the view into `area`.
    fn draw(&mut self, frame: &mut Frame, area: Rect, ctx: &DrawContext);
}
