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
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
