//! The operator console: an event loop merging keys, ticks and background results.
//!
//! Keys and results go through [`app::App`] (pure state); the commands it returns run as tokio
//! tasks in [`runtime::Runtime`]. The loop drains every pending result before drawing, so a
//! burst of log lines costs one frame, and it never waits on the network.

pub mod action;
pub mod app;
pub mod fixtures;
mod operate;
pub mod run_logs;
pub mod runtime;
pub mod screenshot;
pub mod theme;
pub mod views;
pub mod widgets;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use anyhow::Result;
use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use action::Loaded;
use app::App;
use runtime::Runtime;

/// Redraw at least this often (ages, spinners, toasts).
const TICK: Duration = Duration::from_millis(250);
/// Results handled per frame at most, so keys stay responsive under a flood of log lines.
const MAX_RESULTS_PER_FRAME: usize = 4096;

/// Runs the console until the user quits; the terminal is restored on exit and on panic.
pub async fn run(
    mut app: App,
    runtime: Runtime,
    mut results: mpsc::UnboundedReceiver<Loaded>,
    mouse: bool,
) -> Result<()> {
    let mut terminal = ratatui::init();
    if mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    }
    let outcome = event_loop(&mut terminal, &mut app, &runtime, &mut results).await;
    if mouse {
        let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    }
    ratatui::restore();
    outcome
}

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    runtime: &Runtime,
    results: &mut mpsc::UnboundedReceiver<Loaded>,
) -> Result<()> {
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for command in app.start(Instant::now()) {
        runtime.execute(command);
    }
    loop {
        terminal.draw(|frame| app.draw(frame, Instant::now()))?;
        tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    for command in app.on_key(key, Instant::now()) {
                        runtime.execute(command);
                    }
                }
                Some(Ok(_)) => {} // resize and mouse: the next draw adapts
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(()),
            },
            Some(loaded) = results.recv() => {
                let now = Instant::now();
                let mut pending = vec![loaded];
                while pending.len() < MAX_RESULTS_PER_FRAME {
                    match results.try_recv() {
                        Ok(more) => pending.push(more),
                        Err(_) => break,
                    }
                }
                for loaded in pending {
                    for command in app.on_loaded(loaded, now) {
                        runtime.execute(command);
                    }
                }
            }
            _ = tick.tick() => {
                for command in app.on_tick(Instant::now()) {
                    runtime.execute(command);
                }
            }
        }
        if app.should_quit {
            return Ok(());
        }
    }
}
