//! `amesops data push|pull`: the DVC-tracked data and models to and from the remote storage,
//! with a report of what moved.

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::config::GlobalArgs;
use crate::pipeline::config::DvcConfig;
use crate::pipeline::runner::Stream;
use crate::pipeline::transfer::{self, Direction, TransferReport};

/// Arguments of `amesops data`.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Which way.
    #[command(subcommand)]
    pub command: DataCommand,
}

/// The data subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Upload the cached outputs of the pipeline (data, model) to the remote (`dvc push`).
    Push(TransferArgs),
    /// Download them from the remote and check them out into the workspace (`dvc pull`).
    Pull(TransferArgs),
}

/// Arguments of `amesops data push|pull`.
#[derive(Debug, Args)]
pub struct TransferArgs {
    /// A remote named in .dvc/config. Default: the `core.remote` of .dvc/config.
    #[arg(long, short)]
    pub remote: Option<String>,
}

/// `amesops data …`.
pub fn run(args: DataArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let (direction, args) = match args.command {
        DataCommand::Push(args) => (Direction::Push, args),
        DataCommand::Pull(args) => (Direction::Pull, args),
    };
    super::pipeline::refuse_if_read_only(global, &format!("dvc {}", direction.command()))?;
    let root = super::pipeline::project_root()?;
    let config = DvcConfig::load(&root)?;
    let remote = args
        .remote
        .as_deref()
        .or(config.default_remote())
        .unwrap_or("(no default remote)");
    let place = match config.remote_url(remote) {
        Some(url) => format!("{remote} ({url})"),
        None => remote.to_string(),
    };
    let mut echo = |stream: Stream, line: &str| {
        if stream == Stream::Stderr && !line.trim().is_empty() {
            eprintln!("{line}");
        }
    };
    let report = transfer::transfer(&root, direction, args.remote.as_deref(), &mut echo)?;
    println!("{}", describe(direction, &report, &place));
    Ok(ExitCode::SUCCESS)
}

fn describe(direction: Direction, report: &TransferReport, place: &str) -> String {
    if report.counts.is_empty() {
        let side = match direction {
            Direction::Push => "on",
            Direction::Pull => "from",
        };
        return format!("everything is up to date {side} {place}");
    }
    let counts: Vec<String> = report
        .counts
        .iter()
        .map(|(n, state)| format!("{n} file{} {state}", if *n == 1 { "" } else { "s" }))
        .collect();
    let preposition = match direction {
        Direction::Push => "to",
        Direction::Pull => "from",
    };
    let mut text = format!("{} {preposition} {place}", counts.join(", "));
    for (flag, path) in &report.changes {
        let what = match flag {
            'A' => "added",
            'M' => "modified",
            _ => "deleted",
        };
        text.push_str(&format!("\n  {what}: {path}"));
    }
    text
}
