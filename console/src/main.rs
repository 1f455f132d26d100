//! `amesops`: run every stage of the Ames house-price pipeline, and operate the deployed model.

use std::process::ExitCode;

use clap::Parser;
use console::cli;

fn main() -> ExitCode {
    // Pipeline stages call `scripts/amesops`, which runs $AMESOPS_BIN: make that this binary,
    // so stages run exactly the code that launched them.
    if std::env::var_os("AMESOPS_BIN").is_none()
        && let Ok(exe) = std::env::current_exe()
    {
        // SAFETY: first statement of main, before any other thread exists.
        unsafe { std::env::set_var("AMESOPS_BIN", exe) };
    }
    quiet_on_closed_stdout();
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::from(BROKEN_PIPE),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Exit status of a program whose reader went away (128 + SIGPIPE), as shells report it.
const BROKEN_PIPE: u8 = 141;

/// `amesops train | head` must end quietly when `head` stops reading: `println!` panics on a
/// closed pipe, so that one panic exits with the broken-pipe status instead of a backtrace.
fn quiet_on_closed_stdout() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(i32::from(BROKEN_PIPE));
        }
        previous(info);
    }));
}

/// Whether a command failed only because its output's reader went away.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<csv::Error>()
                .is_some_and(|e| matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe))
    })
}
