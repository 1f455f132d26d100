//! Stage status, computed the way `dvc status` does: every dependency and output hashed and
//! compared with dvc.lock, parameters compared key by key, outputs checked in the cache, the
//! command compared. On top of dvc's answer: which stages never ran, are frozen, or will rerun
//! because something upstream changed (dvc lists only the first stale stage of a chain).

use std::path::Path;

use super::dvcyaml::Stage;
use super::hash::{HashKind, Hasher};
use super::lock::{LockEntry, LockStage};
use super::params::{self, ParamsChange, ParamsFiles};
use super::pyvalue::py_eq;
use super::{Error, Project};

/// How a path changed, in dvc's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Its hash differs from dvc.lock (or dvc.lock has none).
    Modified,
    /// It does not exist.
    Deleted,
    /// It is not recorded yet.
    New,
    /// Its recorded content is missing from (or damaged in) the cache.
    NotInCache,
}

impl Change {
    /// The word dvc prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Modified => "modified",
            Change::Deleted => "deleted",
            Change::New => "new",
            Change::NotInCache => "not in cache",
        }
    }
}

/// How one dependency changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepChange {
    /// A file or directory.
    Path(Change),
    /// A parameters file.
    Params(ParamsChange),
}

/// The status of one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStatus {
    /// Stage name.
    pub name: String,
    /// Changed dependencies (path → how), in dvc.yaml order; empty for a frozen stage.
    pub changed_deps: Vec<(String, DepChange)>,
    /// Changed outputs (path → how).
    pub changed_outs: Vec<(String, Change)>,
    /// `always_changed: true` (dvc reports "always changed").
    pub always_changed: bool,
    /// The command differs from the one in dvc.lock.
    pub changed_command: bool,
    /// `frozen: true`.
    pub frozen: bool,
    /// No entry in dvc.lock.
    pub never_run: bool,
    /// Direct upstream stages that will run first (this one may then change).
    pub stale_upstream: Vec<String>,
    /// Every dependency and output hashed, with its recorded hash (for details views).
    pub files: Vec<FileState>,
}

/// A dependency or output with its current and recorded hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// Relative to the project root.
    pub path: String,
    /// An output (else a dependency).
    pub output: bool,
    /// Its hash now (md5, `.dir` for a directory); None when it does not exist.
    pub md5: Option<String>,
    /// Its size now (all files of a directory).
    pub size: Option<u64>,
    /// Files in it now, for a directory.
    pub nfiles: Option<u64>,
    /// The hash in dvc.lock.
    pub recorded: Option<String>,
}

/// The one-word state of a stage, for tables and the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Nothing to do.
    UpToDate,
    /// Something it depends on, or produced, changed.
    Changed,
    /// Not in dvc.lock.
    NeverRun,
    /// Never rerun by dvc.
    Frozen,
    /// Reruns every time.
    AlwaysChanged,
    /// Unchanged itself, but an upstream stage will rerun.
    StaleUpstream,
}

impl State {
    /// How the state reads.
    pub fn as_str(self) -> &'static str {
        match self {
            State::UpToDate => "up to date",
            State::Changed => "changed",
            State::NeverRun => "never run",
            State::Frozen => "frozen",
            State::AlwaysChanged => "always changed",
            State::StaleUpstream => "stale upstream",
        }
    }
}

impl StageStatus {
    /// Whether `dvc status` lists the stage.
    pub fn reported_by_dvc(&self) -> bool {
        !self.changed_deps.is_empty()
            || !self.changed_outs.is_empty()
            || self.always_changed
            || self.changed_command
    }

    /// Whether `dvc repro` would run it (a frozen stage only for its outputs or command).
    pub fn will_run(&self) -> bool {
        if self.frozen {
            !self.changed_outs.is_empty() || self.changed_command
        } else {
            self.reported_by_dvc()
        }
    }

    /// The headline state.
    pub fn state(&self) -> State {
        if self.frozen {
            State::Frozen
        } else if self.never_run {
            State::NeverRun
        } else if self.always_changed {
            State::AlwaysChanged
        } else if self.reported_by_dvc() {
            State::Changed
        } else if !self.stale_upstream.is_empty() {
            State::StaleUpstream
        } else {
            State::UpToDate
        }
    }
}

/// The status of every stage.
#[derive(Debug, Clone)]
pub struct PipelineStatus {
    /// In dvc.yaml order (dvc's own order).
    pub stages: Vec<StageStatus>,
    /// Indices into `stages` in run (DAG) order.
    pub order: Vec<usize>,
}

impl PipelineStatus {
    /// Stages in run order.
    pub fn in_run_order(&self) -> impl Iterator<Item = &StageStatus> {
        self.order.iter().map(|&i| &self.stages[i])
    }
}

/// Everything read while computing status, shared so no file is read or hashed twice.
#[derive(Debug)]
pub struct Inputs {
    hasher: Hasher,
    params: ParamsFiles,
}

impl Inputs {
    /// Fresh state for one status computation.
    pub fn new(project: &Project) -> Inputs {
        Inputs {
            hasher: Hasher::new(project.ignore.clone()),
            params: ParamsFiles::default(),
        }
    }

    /// The hasher, with every file it read remembered.
    pub fn hasher(&mut self) -> &mut Hasher {
        &mut self.hasher
    }
}

/// The status of every stage of a project.
pub fn compute(project: &Project) -> Result<PipelineStatus, Error> {
    let mut inputs = Inputs::new(project);
    let mut stages = project
        .stages
        .iter()
        .map(|stage| stage_status(project, stage, &mut inputs))
        .collect::<Result<Vec<_>, _>>()?;
    let mut runs = vec![false; stages.len()];
    for &i in &project.dag.order {
        let upstream: Vec<String> = project.dag.parents[i]
            .iter()
            .filter(|&&p| runs[p])
            .map(|&p| stages[p].name.clone())
            .collect();
        runs[i] = stages[i].will_run() || (!stages[i].frozen && !upstream.is_empty());
        stages[i].stale_upstream = upstream;
    }
    Ok(PipelineStatus {
        stages,
        order: project.dag.order.clone(),
    })
}

/// The status of one stage, as `Stage.status()` in dvc computes it.
pub fn stage_status(
    project: &Project,
    stage: &Stage,
    inputs: &mut Inputs,
) -> Result<StageStatus, Error> {
    let locked = project.lock.stage(&stage.name);
    let root = project.root.as_path();
    let mut changed_deps = Vec::new();
    let mut files = Vec::new();
    if !stage.frozen {
        for dep in &stage.deps {
            let entry = locked.and_then(|l| l.dep(&dep.def_path));
            let (change, file) = path_change(root, &dep.path, entry, false, &mut inputs.hasher)?;
            files.push(file);
            if let Some(change) = change {
                changed_deps.push((dep.path.clone(), DepChange::Path(change)));
            }
        }
        for dep in &stage.params {
            let file = inputs.params.get(root, &dep.path)?;
            let recorded = locked.and_then(|l| l.params.get(&dep.def_path));
            if let Some(change) = params::status(dep, file, recorded) {
                changed_deps.push((dep.path.clone(), DepChange::Params(change)));
            }
        }
    }
    let mut changed_outs = Vec::new();
    for out in &stage.outs {
        let entry = locked.and_then(|l| l.out(&out.def_path));
        let in_cache = match entry.and_then(|e| e.md5.as_deref()) {
            Some(md5) if out.cache => {
                let kind = HashKind::from_lock(entry.and_then(|e| e.hash.as_deref()));
                project
                    .cache
                    .contains(&mut inputs.hasher, kind, md5)
                    .map_err(|source| io_error(&project.cache.object_path(kind, md5), source))?
            }
            _ => true,
        };
        let (change, file) = path_change(root, &out.path, entry, true, &mut inputs.hasher)?;
        files.push(file);
        let change = if in_cache {
            change
        } else {
            Some(Change::NotInCache)
        };
        if let Some(change) = change {
            changed_outs.push((out.path.clone(), change));
        }
    }
    Ok(StageStatus {
        name: stage.name.clone(),
        changed_deps,
        changed_outs,
        always_changed: stage.always_changed,
        changed_command: command_changed(stage, locked),
        frozen: stage.frozen,
        never_run: locked.is_none(),
        stale_upstream: Vec::new(),
        files,
    })
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `Output.workspace_status`: deleted, modified (hash differs, or none recorded), or nothing;
/// with the hashes compared.
fn path_change(
    root: &Path,
    path: &str,
    entry: Option<&LockEntry>,
    output: bool,
    hasher: &mut Hasher,
) -> Result<(Option<Change>, FileState), Error> {
    let kind = HashKind::from_lock(entry.map_or(Some("md5"), |e| e.hash.as_deref()));
    let actual = hasher
        .hash(root, path, kind)
        .map_err(|source| io_error(&root.join(path), source))?;
    let recorded = entry.and_then(|e| e.md5.clone());
    let change = match &actual {
        None => Some(Change::Deleted),
        Some(actual) if recorded.as_deref() != Some(actual.md5.as_str()) => Some(Change::Modified),
        Some(_) => None,
    };
    let file = FileState {
        path: path.to_string(),
        output,
        size: actual.as_ref().map(|a| a.size),
        nfiles: actual.as_ref().and_then(|a| a.nfiles),
        md5: actual.map(|a| a.md5),
        recorded,
    };
    Ok((change, file))
}

/// dvc compares the command only when the stage has a dvc.lock entry.
fn command_changed(stage: &Stage, locked: Option<&LockStage>) -> bool {
    match locked {
        None => false,
        Some(lock) => !lock.cmd.as_ref().is_some_and(|cmd| py_eq(cmd, &stage.cmd)),
    }
}
