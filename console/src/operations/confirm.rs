//! Confirmation as a capability: an operation decides *that* it must ask and *what* (for a
//! production change on aws: the function name typed back); the caller decides *how* — a
//! terminal prompt, the console's dialog, or `--yes`.

use futures_util::future::BoxFuture;

/// How weighty a question is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// Changes what the live alias serves (deploy, rollback, a pipeline run that deploys).
    Production,
    /// Changes local files only (a pipeline run without the deploy stage): the command line
    /// itself is the intent, so the CLI does not ask; the console still asks.
    Routine,
}

/// One question an operation asks before it changes anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// What will happen, in one or two sentences.
    pub action: String,
    /// Against which target (`local · local predictor`, `aws:prod/eu-west-1 · fn:live`).
    pub target: String,
    /// Text that must be typed back to confirm (the function name on aws, the model id for an
    /// override of the gate); `None`: yes/no, Cancel the default.
    pub typed: Option<String>,
    /// Something to read first (the candidate is worse, production cannot be verified).
    pub warning: Option<String>,
    /// Production or routine.
    pub weight: Weight,
}

/// Why no answer could be had.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct NoAnswer(pub String);

/// Asks a question; `Ok(true)` goes ahead, `Ok(false)` cancels.
pub trait Confirm: Send + Sync {
    /// Asks.
    fn confirm<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<bool, NoAnswer>>;
}

/// `--yes`: every question is answered yes (overrides of the gate still need their own flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct Yes;

impl Confirm for Yes {
    fn confirm<'a>(&'a self, _: &'a Question) -> BoxFuture<'a, Result<bool, NoAnswer>> {
        Box::pin(async { Ok(true) })
    }
}
