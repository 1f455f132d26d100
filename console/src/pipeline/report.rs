//! Status as others read it: the exact JSON of `dvc status --json`, our richer JSON view, and
//! one-line reasons for people.

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::params::ParamsChange;
use super::status::{DepChange, FileState, PipelineStatus, StageStatus};

/// Serialises as `dvc status --json` does: only the stages dvc lists, in dvc.yaml order.
pub struct DvcJson<'a>(pub &'a PipelineStatus);

impl Serialize for DvcJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let listed: Vec<&StageStatus> = self
            .0
            .stages
            .iter()
            .filter(|s| s.reported_by_dvc())
            .collect();
        let mut map = serializer.serialize_map(Some(listed.len()))?;
        for stage in listed {
            map.serialize_entry(&stage.name, &Entries(stage))?;
        }
        map.end()
    }
}

/// A stage's list: `{"changed deps": …}`, `{"changed outs": …}`, "always changed",
/// "changed command" — dvc's order.
struct Entries<'a>(&'a StageStatus);

impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stage = self.0;
        let mut seq = serializer.serialize_seq(None)?;
        if !stage.changed_deps.is_empty() {
            seq.serialize_element(&Single("changed deps", Deps(&stage.changed_deps)))?;
        }
        if !stage.changed_outs.is_empty() {
            let outs: Vec<(&str, &str)> = stage
                .changed_outs
                .iter()
                .map(|(path, change)| (path.as_str(), change.as_str()))
                .collect();
            seq.serialize_element(&Single("changed outs", Ordered(&outs)))?;
        }
        if stage.always_changed {
            seq.serialize_element("always changed")?;
        }
        if stage.changed_command {
            seq.serialize_element("changed command")?;
        }
        seq.end()
    }
}

/// `{key: value}`.
struct Single<T>(&'static str, T);

impl<T: Serialize> Serialize for Single<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.0, &self.1)?;
        map.end()
    }
}

/// A map that keeps its order.
struct Ordered<'a, V>(&'a [(&'a str, V)]);

impl<V: Serialize> Serialize for Ordered<'_, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// `{"data.csv": "modified", "params.yaml": {"train.alpha": "modified"}}`.
struct Deps<'a>(&'a [(String, DepChange)]);

impl Serialize for Deps<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (path, change) in self.0 {
            match change {
                DepChange::Path(change) | DepChange::Params(ParamsChange::File(change)) => {
                    map.serialize_entry(path, change.as_str())?;
                }
                DepChange::Params(ParamsChange::Keys(keys)) => {
                    let keys: Vec<(&str, &str)> =
                        keys.iter().map(|(k, c)| (k.as_str(), c.as_str())).collect();
                    map.serialize_entry(path, &Ordered(&keys))?;
                }
            }
        }
        map.end()
    }
}

/// `--json --verbose`: dvc's object under `dvc`, and every stage in run order under `stages`
/// (with every file's current and recorded hash).
#[derive(Serialize)]
pub struct Verbose<'a> {
    /// Exactly `dvc status --json`.
    dvc: DvcJson<'a>,
    /// Every stage, in run (DAG) order.
    stages: Vec<StageView<'a>>,
}

#[derive(Serialize)]
struct StageView<'a> {
    name: &'a str,
    status: &'static str,
    why: Vec<String>,
    frozen: bool,
    never_run: bool,
    always_changed: bool,
    stale_upstream: &'a [String],
    changes: Entries<'a>,
    files: Vec<FileView<'a>>,
}

#[derive(Serialize)]
struct FileView<'a> {
    path: &'a str,
    role: &'static str,
    md5: Option<&'a str>,
    size: Option<u64>,
    nfiles: Option<u64>,
    recorded_md5: Option<&'a str>,
}

impl<'a> From<&'a FileState> for FileView<'a> {
    fn from(file: &'a FileState) -> Self {
        FileView {
            path: &file.path,
            role: if file.output { "out" } else { "dep" },
            md5: file.md5.as_deref(),
            size: file.size,
            nfiles: file.nfiles,
            recorded_md5: file.recorded.as_deref(),
        }
    }
}

impl<'a> Verbose<'a> {
    /// The view of a computed status.
    pub fn new(status: &'a PipelineStatus) -> Verbose<'a> {
        Verbose {
            dvc: DvcJson(status),
            stages: status
                .in_run_order()
                .map(|stage| StageView {
                    name: &stage.name,
                    status: stage.state().as_str(),
                    why: reasons(stage),
                    frozen: stage.frozen,
                    never_run: stage.never_run,
                    always_changed: stage.always_changed,
                    stale_upstream: &stage.stale_upstream,
                    changes: Entries(stage),
                    files: stage.files.iter().map(FileView::from).collect(),
                })
                .collect(),
        }
    }
}

/// Why a stage is not up to date, one short phrase per cause.
pub fn reasons(stage: &StageStatus) -> Vec<String> {
    let mut why = Vec::new();
    if stage.never_run {
        why.push("not in dvc.lock".to_string());
    }
    if stage.changed_command {
        why.push("command changed".to_string());
    }
    if !stage.never_run {
        for (path, change) in &stage.changed_deps {
            match change {
                DepChange::Path(change) | DepChange::Params(ParamsChange::File(change)) => {
                    why.push(format!("{path} {}", change.as_str()));
                }
                DepChange::Params(ParamsChange::Keys(keys)) => {
                    for (key, change) in keys {
                        why.push(format!("{path}: {key} {}", change.as_str()));
                    }
                }
            }
        }
    }
    for (path, change) in &stage.changed_outs {
        why.push(format!("output {path} {}", change.as_str()));
    }
    if stage.always_changed {
        why.push("always changed".to_string());
    }
    if !stage.stale_upstream.is_empty() && !stage.frozen {
        why.push(format!(
            "{} will run first",
            stage.stale_upstream.join(", ")
        ));
    }
    why
}
