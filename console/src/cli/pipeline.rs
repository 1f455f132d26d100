//! `amesops pipeline status|run`: the DVC pipeline's state without Python, and runs streamed
//! as progress lines.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::terminal::{self, TerminalConfirm};
use crate::config::{Config, GlobalArgs};
use crate::operations;
use crate::pipeline::Project;
use crate::pipeline::report::{DvcJson, Verbose, reasons};
use crate::pipeline::runner::{Engine, RunSummary};
use crate::pipeline::status::{PipelineStatus, State};

/// Arguments of `amesops pipeline`.
#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// What to do with the pipeline.
    #[command(subcommand)]
    pub command: PipelineCommand,
}

/// The pipeline subcommands.
#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Show each stage of dvc.yaml: up to date, changed (and why), never run, frozen, or stale.
    ///
    /// Computed natively with DVC's own hashing: the same answer as `dvc status`, in
    /// milliseconds and without Python. Stages are listed in run (DAG) order. "stale upstream"
    /// marks a stage that is unchanged itself but will rerun after a changed stage above it
    /// (dvc status lists only the first changed stage of a chain). Paths are relative to the
    /// project root (the folder holding dvc.yaml).
    Status(StatusArgs),
    /// Run the stages that changed: `dvc repro [STAGE]`, streamed as progress lines.
    ///
    /// Without DVC installed (or with --without-dvc) the changed stages' commands run directly
    /// in DAG order and are recorded in dvc.lock and the DVC cache as dvc would. The run holds
    /// the project's lock, and the stages get this command's target, profile, region and
    /// configuration. A run whose `deploy` stage will run changes production: it asks first
    /// (on aws the function name must be typed; --yes for scripts), and the deploy stage goes
    /// through the gate. Exit codes: 0 done, 1 a stage failed (a refused deploy fails its
    /// stage), 4 another run holds the lock, 5 declined.
    Run(RunArgs),
}

/// Arguments of `amesops pipeline status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print exactly what `dvc status --json` prints: `{}` when everything is up to date, else
    /// `{"stage": [{"changed deps": {"path": "modified", "params.yaml": {"key": "modified"}}},
    /// {"changed outs": {"path": "deleted"}}, "always changed", "changed command"]}`.
    #[arg(long)]
    pub json: bool,
    /// With --json: `{"dvc": <the dvc status object above>, "stages": [...]}`, where
    /// `stages` lists every stage in run order with `name`, `status` (up to date, changed,
    /// never run, frozen, always changed, stale upstream), `why`, `frozen`, `never_run`,
    /// `always_changed`, `stale_upstream` (the changed stages right above it), `changes` (its
    /// dvc status list) and `files` (each dependency and output: `path`, `role`, `md5`, `size`,
    /// `nfiles`, and `recorded_md5` from dvc.lock).
    #[arg(long, short, requires = "json")]
    pub verbose: bool,
}

/// Arguments of `amesops pipeline run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run only this stage and the stages it depends on.
    pub stage: Option<String>,
    /// Run the stages even if nothing changed (`dvc repro --force`).
    #[arg(long, short)]
    pub force: bool,
    /// Run the commands directly even when dvc is installed.
    #[arg(long)]
    pub without_dvc: bool,
    /// Do not ask before a run that deploys (the deploy stage's gate still decides).
    #[arg(long)]
    pub yes: bool,
}

/// `amesops pipeline …`.
pub fn run(args: PipelineArgs, global: &GlobalArgs) -> Result<ExitCode> {
    match args.command {
        PipelineCommand::Status(args) => status(args),
        PipelineCommand::Run(args) => {
            refuse_if_read_only(global, "running the pipeline")?;
            run_pipeline(args, &Config::load(global)?)
        }
    }
}

/// Stops a command that changes files or remote data in read-only mode.
pub fn refuse_if_read_only(global: &GlobalArgs, what: &str) -> Result<()> {
    if Config::load(global)?.read_only {
        bail!(
            "read-only mode (--read-only, AMESOPS_READ_ONLY or read_only in amesops.toml): {what} refused"
        );
    }
    Ok(())
}

/// The project root: the nearest folder with a dvc.yaml, from the working directory up.
pub fn project_root() -> Result<std::path::PathBuf> {
    let here = std::env::current_dir().context("cannot read the working directory")?;
    Ok(Project::find_root(&here)?)
}

fn status(args: StatusArgs) -> Result<ExitCode> {
    let root = project_root()?;
    let project = Project::load(&root)?;
    let status = project.status()?;
    if args.json {
        let json = if args.verbose {
            serde_json::to_string(&Verbose::new(&status))
        } else {
            serde_json::to_string(&DvcJson(&status))
        };
        println!("{}", json.context("cannot write the status as JSON")?);
    } else {
        print_table(&status);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(status: &PipelineStatus) {
    let rows: Vec<(&str, &str, String)> = status
        .in_run_order()
        .map(|s| (s.name.as_str(), s.state().as_str(), reasons(s).join("; ")))
        .collect();
    let width = |column: fn(&(&str, &str, String)) -> usize, title: &str| {
        rows.iter()
            .map(column)
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (name_width, state_width) = (
        width(|r| r.0.len(), "stage"),
        width(|r| r.1.len(), "status"),
    );
    println!("{:name_width$}  {:state_width$}  why", "stage", "status");
    for (name, state, why) in &rows {
        let line = format!("{name:name_width$}  {state:state_width$}  {why}");
        println!("{}", line.trim_end());
    }
    let to_run = status.stages.iter().filter(|s| s.will_run()).count();
    let stale = status
        .stages
        .iter()
        .filter(|s| s.state() == State::StaleUpstream)
        .count();
    if to_run == 0 && stale == 0 {
        println!("\nData and pipelines are up to date.");
    } else {
        println!(
            "\n{to_run} stage(s) to run, {stale} more may follow: `amesops pipeline run` (or `dvc repro`)."
        );
    }
}

fn run_pipeline(args: RunArgs, config: &Config) -> Result<ExitCode> {
    let root = config.root.clone();
    // Catch a missing project, a bad stage name or dvc.yaml before anything starts.
    Project::find_root(&root)?;
    let project = Project::load(&root)?;
    if let Some(stage) = &args.stage {
        project.stage_index(stage)?;
    }
    let engine = if args.without_dvc {
        Engine::Native
    } else {
        Engine::Auto
    };
    let run = operations::pipeline::Run {
        stage: args.stage,
        force: args.force,
        engine,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let ctx = super::deploy::context(config).await?;
        let events = terminal::printer();
        let confirm = TerminalConfirm { yes: args.yes };
        let summary = match operations::pipeline::run(&ctx, &run, &confirm, &events).await {
            Ok(Some(summary)) => summary,
            Ok(None) => {
                eprintln!("cancelled: nothing ran");
                return Ok(ExitCode::from(terminal::EXIT_DECLINED));
            }
            Err(error) => return super::deploy::failed(error),
        };
        print_summary(&summary);
        Ok(if summary.succeeded() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
}

fn print_summary(summary: &RunSummary) {
    let total: Duration = summary.ran.iter().map(|(_, d)| *d).sum();
    let ran = summary.ran.len();
    let skipped = summary.skipped.len();
    match &summary.failure {
        Some(failure) => eprintln!(
            "pipeline failed{}: {}",
            failure
                .stage
                .as_deref()
                .map(|s| format!(" in stage {s}"))
                .unwrap_or_default(),
            failure.error
        ),
        None => println!(
            "ran {ran} stage(s) in {:.2} s, {skipped} unchanged",
            total.as_secs_f64()
        ),
    }
}
