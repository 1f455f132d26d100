//! Running the stages without DVC: each stage whose status says it would rerun runs its
//! commands the way dvc does (the user's shell without rc files, in the stage's working
//! directory, outputs removed first), in DAG order, and is then recorded the way dvc records
//! it (dvc.lock entry, outputs in the DVC cache), so status shows it up to date.

use std::process::Command;
use std::sync::mpsc::Sender;

use super::{Event, RunRequest, RunSummary, SkipReason, Stream, Tracker, process};
use crate::pipeline::status::{Inputs, stage_status};
use crate::pipeline::{Error, Project, dvcyaml::Stage, record, tool};

/// Runs the changed stages (all with `force`) of the pipeline, or of one stage and its
/// upstream, and streams what happens.
pub fn run(request: &RunRequest, events: &Sender<Event>) -> Result<RunSummary, Error> {
    let project = Project::load(&request.root)?;
    let targets = match &request.stage {
        Some(name) => project.dag.with_ancestors(project.stage_index(name)?),
        None => project.dag.order.clone(),
    };
    let mut tracker = Tracker::new(events);
    tracker.output(
        Stream::Stderr,
        format!(
            "running the stage commands without DVC, recording them in dvc.lock and the DVC \
             cache as dvc repro would (for remotes and experiments, install DVC: {})",
            tool::INSTALL
        ),
    );
    for index in targets {
        let stage = &project.stages[index];
        // Fresh inputs: earlier stages may have rewritten this stage's dependencies.
        let mut inputs = Inputs::new(&project);
        let status = stage_status(&project, stage, &mut inputs)?;
        if !(request.force || status.will_run()) {
            tracker.skip(stage.name.clone(), SkipReason::Unchanged);
            continue;
        }
        tracker.start(stage.name.clone());
        let recorded = run_stage(&project, stage, &request.env, &tracker).and_then(|()| {
            record::record_stage(&project, stage, inputs.hasher()).map_err(StageFailure::Record)
        });
        if let Err(error) = recorded {
            tracker.fail(Some(stage.name.clone()), error.to_string());
            break;
        }
        tracker.finish();
    }
    Ok(tracker.summary)
}

/// Why a stage failed when run without DVC.
#[derive(Debug, thiserror::Error)]
pub enum StageFailure {
    /// A dependency is missing before the stage runs.
    #[error("dependency '{path}' does not exist")]
    MissingDependency {
        /// The dependency (relative to the root).
        path: String,
    },
    /// An output of an earlier run cannot be removed.
    #[error("cannot remove output '{path}': {io}")]
    RemoveOutput {
        /// The output.
        path: String,
        /// The system's reason.
        io: std::io::Error,
    },
    /// The shell could not be started.
    #[error("{0}")]
    Start(Error),
    /// Waiting for a command failed.
    #[error("failed to run: {cmd}: {io}")]
    Wait {
        /// The command.
        cmd: String,
        /// The system's reason.
        io: std::io::Error,
    },
    /// A command exited with a failure.
    #[error("failed to run: {cmd}, exited with {code}")]
    Exit {
        /// The command.
        cmd: String,
        /// Its exit code (or the signal that ended it).
        code: String,
    },
    /// A declared output was not written.
    #[error("output '{path}' does not exist")]
    MissingOutput {
        /// The output.
        path: String,
    },
    /// The stage ran but dvc.lock or the cache could not be written.
    #[error("the stage ran but could not be recorded: {0}")]
    Record(Error),
}

fn run_stage(
    project: &Project,
    stage: &Stage,
    env: &[(String, String)],
    tracker: &Tracker,
) -> Result<(), StageFailure> {
    let root = &project.root;
    if let Some(missing) = stage.deps.iter().find(|d| !root.join(&d.path).exists()) {
        return Err(StageFailure::MissingDependency {
            path: missing.path.clone(),
        });
    }
    for out in stage.outs.iter().filter(|o| !o.persist) {
        let path = root.join(&out.path);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Err(io) if io.kind() != std::io::ErrorKind::NotFound => {
                return Err(StageFailure::RemoveOutput {
                    path: out.path.clone(),
                    io,
                });
            }
            _ => {}
        }
    }
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".to_string());
    for cmd in stage.commands() {
        tracker.output(Stream::Stdout, format!("> {cmd}"));
        let mut command = shell_command(&shell, &cmd);
        command
            .current_dir(root.join(&stage.wdir))
            .env("DVC_ROOT", root)
            .env("DVC_STAGE", &stage.name)
            .envs(env.iter().map(|(k, v)| (k, v)));
        let (mut child, lines) = process::spawn(&mut command).map_err(StageFailure::Start)?;
        for (stream, text) in lines {
            tracker.output(stream, text);
        }
        let status = child.wait().map_err(|io| StageFailure::Wait {
            cmd: cmd.clone(),
            io,
        })?;
        if !status.success() {
            let code = status
                .code()
                .map_or_else(|| status.to_string(), |c| c.to_string());
            return Err(StageFailure::Exit { cmd, code });
        }
    }
    if let Some(missing) = stage.outs.iter().find(|o| !root.join(&o.path).exists()) {
        return Err(StageFailure::MissingOutput {
            path: missing.path.clone(),
        });
    }
    Ok(())
}

/// `SHELL -c cmd`, with the flags dvc adds so rc files cannot change the environment.
fn shell_command(shell: &str, cmd: &str) -> Command {
    let name = std::path::Path::new(shell)
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut command = Command::new(shell);
    match name.as_str() {
        "bash" => {
            command.args(["--noprofile", "--norc"]);
        }
        "zsh" => {
            command.arg("--no-rcs");
        }
        _ => {}
    }
    command.arg("-c").arg(cmd);
    command
}
