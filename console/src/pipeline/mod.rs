//! The DVC pipeline without Python: dvc.yaml, dvc.lock and params.yaml read natively, stage
//! status computed with DVC's own hashing (the same answer as `dvc status`), and runs through
//! `dvc repro` (or, without DVC, the stage commands themselves) streamed as events.

pub mod cache;
pub mod config;
pub mod dag;
pub mod dvcyaml;
pub mod hash;
pub mod ignore;
pub mod interpolate;
pub mod lock;
pub mod params;
pub mod paths;
pub mod pyvalue;
pub mod record;
pub mod report;
pub mod runner;
pub mod status;
pub mod tool;
pub mod transfer;

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use self::cache::Cache;
use self::config::DvcConfig;
use self::dag::Dag;
use self::dvcyaml::Stage;
use self::ignore::Ignore;
use self::lock::Lock;
use self::status::PipelineStatus;

/// What can go wrong reading or running the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid YAML.
    #[error("{} is not valid YAML: {source}", path.display())]
    Yaml {
        /// The file.
        path: PathBuf,
        /// Where and why.
        source: serde_yaml::Error,
    },
    /// A file is valid YAML but not what DVC expects.
    #[error("{file}: {message}")]
    Invalid {
        /// dvc.yaml, dvc.lock or a parameters file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A `${…}` template, `vars`, `foreach` or `matrix` does not resolve.
    #[error("dvc.yaml: cannot resolve '{location}': {message}")]
    Interpolation {
        /// `stages.<name>.<field>`.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A `${…}` expression in a stage's field does not resolve.
    #[error("dvc.yaml: cannot resolve 'stages.{stage}.{field}': {reason}")]
    Template {
        /// The stage (a generated name such as `train@a` for a foreach or matrix member).
        stage: String,
        /// The field (`cmd`, `deps`, `foreach`, …).
        field: String,
        /// The expression and why it does not resolve.
        reason: interpolate::InterpolationError,
    },
    /// No dvc.yaml above the working directory.
    #[error("no dvc.yaml in {} or any folder above it; run amesops from the project", start.display())]
    NoProject {
        /// Where the search started.
        start: PathBuf,
    },
    /// A stage name that dvc.yaml does not define.
    #[error("dvc.yaml has no stage '{name}' (stages: {known})")]
    UnknownStage {
        /// The name asked for.
        name: String,
        /// The names that exist.
        known: String,
    },
    /// Stages that depend on each other in a circle.
    #[error("the pipeline has a cycle among stages: {0}")]
    Cycle(String),
    /// `dvc` is needed and not on PATH.
    #[error("`dvc` is not on PATH; install it with: {}", tool::INSTALL)]
    DvcMissing,
    /// A dvc command failed.
    #[error("{command} failed: {message}")]
    Dvc {
        /// The command line.
        command: String,
        /// dvc's error.
        message: String,
    },
    /// A program could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
}

/// A DVC project: its stages, lock, configuration and graph.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding dvc.yaml (and .dvc/).
    pub root: PathBuf,
    /// Stages in dvc.yaml order.
    pub stages: Vec<Stage>,
    /// dvc.lock.
    pub lock: Lock,
    /// The stage graph.
    pub dag: Dag,
    /// What directory hashes leave out.
    pub ignore: Ignore,
    /// The object cache.
    pub cache: Cache,
}

impl Project {
    /// The nearest folder at or above `start` with a dvc.yaml.
    pub fn find_root(start: &Path) -> Result<PathBuf, Error> {
        start
            .ancestors()
            .find(|dir| dir.join("dvc.yaml").is_file())
            .map(Path::to_path_buf)
            .ok_or_else(|| Error::NoProject {
                start: start.to_path_buf(),
            })
    }

    /// Reads the project rooted at `root`.
    pub fn load(root: &Path) -> Result<Project, Error> {
        let config = DvcConfig::load(root)?;
        let stages = dvcyaml::load(root, &config.parsing())?;
        let dag = Dag::build(&stages)?;
        Ok(Project {
            root: root.to_path_buf(),
            lock: Lock::load(root)?,
            ignore: Ignore::load(root)?,
            cache: Cache::new(config.cache_dir(root)),
            stages,
            dag,
        })
    }

    /// The index of a stage by name.
    pub fn stage_index(&self, name: &str) -> Result<usize, Error> {
        self.stages
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| Error::UnknownStage {
                name: name.to_string(),
                known: self
                    .stages
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The status of every stage.
    pub fn status(&self) -> Result<PipelineStatus, Error> {
        status::compute(self)
    }
}

/// Reads a YAML (or JSON) file.
pub(crate) fn read_yaml(path: &Path) -> Result<Value, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_yaml::from_str(&text).map_err(|source| Error::Yaml {
        path: path.to_path_buf(),
        source,
    })
}
