//! One module per view; each owns its state, its keys and its drawing.

pub mod deploy;
pub mod experiments;
pub mod logs;
pub mod monitor;
pub mod pipeline;
pub mod predict;
pub mod predictions;

use std::time::Instant;

use super::action::{Command, Mutation};
use super::theme::Theme;

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
}
