//! How the CLI asks and shows: the terminal prompt behind the operations' confirmation, and
//! their progress events as lines.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;

use crate::operations::{Confirm, Event, NoAnswer, Question, Sink, Weight};

/// Exit code when the gate refuses.
pub const EXIT_REFUSED: u8 = 3;
/// Exit code when another run holds the project's lock.
pub const EXIT_LOCKED: u8 = 4;
/// Exit code when the operator declined.
pub const EXIT_DECLINED: u8 = 5;
/// Exit code of a canary watch that did not promote: an alarm fired (rolled back), too few
/// requests without `--promote-anyway` (stopped), or interrupted.
pub const EXIT_CANARY: u8 = 6;

/// Asks on the terminal (stderr, answer on stdin); `--yes` answers yes without asking; with
/// no terminal and no `--yes` a production change is refused. Routine questions (a pipeline
/// run that deploys nothing) are not asked: the command line is the intent.
#[derive(Debug, Clone, Copy)]
pub struct TerminalConfirm {
    /// `--yes`.
    pub yes: bool,
}

impl Confirm for TerminalConfirm {
    fn confirm<'a>(&'a self, question: &'a Question) -> BoxFuture<'a, Result<bool, NoAnswer>> {
        let yes = self.yes;
        let question = question.clone();
        Box::pin(async move {
            if yes || question.weight == Weight::Routine {
                return Ok(true);
            }
            tokio::task::spawn_blocking(move || ask(&question))
                .await
                .map_err(|e| NoAnswer(format!("the prompt failed: {e}")))?
        })
    }
}

/// Asks `question` on the terminal, blocking (outside an async runtime).
pub fn ask(question: &Question) -> Result<bool, NoAnswer> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(NoAnswer(
            "refusing without confirmation: there is no terminal to ask on; pass --yes to go ahead"
                .to_string(),
        ));
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", question.action);
    if !question.target.is_empty() {
        let _ = writeln!(err, "target: {}", question.target);
    }
    if let Some(warning) = &question.warning {
        let _ = writeln!(err, "{warning}");
    }
    match &question.typed {
        Some(text) => {
            let _ = write!(err, "Type {text} to confirm (anything else cancels): ");
        }
        None => {
            let _ = write!(err, "Go ahead? [y/N] ");
        }
    }
    let _ = err.flush();
    drop(err);
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| NoAnswer(format!("cannot read the answer: {e}")))?;
    let answer = answer.trim();
    Ok(match &question.typed {
        Some(text) => answer == text,
        None => matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes"),
    })
}

/// Progress as lines: stages on stdout (`[train] started`, command output prefixed with its
/// stage), deploy steps and waits on stderr.
pub fn printer() -> Sink {
    let current: Mutex<Option<String>> = Mutex::new(None);
    Arc::new(move |event: Event| {
        let mut current = match current.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        print_event(&event, &mut current);
    })
}

/// One event as a line.
pub fn print_event(event: &Event, current: &mut Option<String>) {
    match event {
        Event::StageStarted(stage) => {
            println!("[{stage}] started");
            *current = Some(stage.clone());
        }
        Event::StageSkipped { stage, restored } => {
            let why = if *restored {
                "restored from the DVC run cache"
            } else {
                "unchanged"
            };
            println!("[{stage}] skipped: {why}");
        }
        Event::StageFinished { stage, seconds } => {
            println!("[{stage}] finished in {seconds:.2} s");
            *current = None;
        }
        Event::StageFailed {
            stage,
            error,
            seconds,
        } => {
            println!("[{stage}] FAILED after {seconds:.2} s: {error}");
            *current = None;
        }
        Event::Output { text, stderr } => {
            let text = match current {
                Some(stage) => format!("[{stage}]   {text}"),
                None => text.clone(),
            };
            if *stderr {
                eprintln!("{text}");
            } else {
                println!("{text}");
            }
        }
        Event::PipelineEnded { .. } => {}
        Event::Step(line) | Event::Waiting(line) => eprintln!("  {line}"),
    }
}

/// Progress as JSON lines on stderr (`retrain`, whose stdout is its report).
pub fn json_logger() -> Sink {
    Arc::new(|event: Event| match event {
        Event::StageStarted(stage) => log("stage_started", serde_json::json!({ "stage": stage })),
        Event::StageSkipped { stage, .. } => {
            log("stage_skipped", serde_json::json!({ "stage": stage }))
        }
        Event::StageFinished { stage, seconds } => log(
            "stage_finished",
            serde_json::json!({ "stage": stage, "seconds": seconds }),
        ),
        Event::StageFailed { stage, error, .. } => log(
            "stage_failed",
            serde_json::json!({ "stage": stage, "error": error }),
        ),
        Event::Step(step) => log("deploy_step", serde_json::json!({ "step": step })),
        Event::Waiting(note) => log("waiting", serde_json::json!({ "note": note })),
        Event::Output { .. } | Event::PipelineEnded { .. } => {}
    })
}

/// One JSON log line on stderr: `{"timestamp", "event", …fields}`.
pub fn log(event: &str, fields: serde_json::Value) {
    let mut line = serde_json::json!({
        "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "event": event,
    });
    if let (Some(object), serde_json::Value::Object(more)) = (line.as_object_mut(), fields) {
        object.extend(more);
    }
    eprintln!("{line}");
}
