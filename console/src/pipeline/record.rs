//! Recording a stage that ran without DVC the way `dvc repro` records it: its dvc.lock entry
//! (command, hash of every dependency and output, parameter values) and its cached outputs in
//! the DVC cache. Afterwards `dvc status`, `dvc checkout` and `amesops pipeline status` see the
//! run exactly as if dvc had made it.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::dvcyaml::Stage;
use super::hash::{HashKind, Hasher, PathHash, tree_json};
use super::params::{ParamsFiles, current_values};
use super::{Error, Project};

/// Hashes what the stage read and wrote, caches its outputs and writes its dvc.lock entry.
/// `hasher` is the one that computed the stage's status: dependencies are not read again.
pub fn record_stage(project: &Project, stage: &Stage, hasher: &mut Hasher) -> Result<(), Error> {
    let root = project.root.as_path();
    let mut deps = Vec::new();
    for dep in &stage.deps {
        let hash = hash_of(root, &dep.path, hasher)?;
        deps.push(entry(&dep.def_path, &hash));
    }
    let mut params = Mapping::new();
    let mut files = ParamsFiles::default();
    for dep in &stage.params {
        let file = files.get(root, &dep.path)?.ok_or_else(|| Error::Invalid {
            file: dep.path.clone(),
            message: format!("stage {}: the parameters file does not exist", stage.name),
        })?;
        params.insert(
            Value::from(dep.def_path.as_str()),
            Value::Mapping(current_values(dep, file)),
        );
    }
    let mut outs = Vec::new();
    for out in &stage.outs {
        let hash = hash_of(root, &out.path, hasher)?;
        if out.cache {
            cache_output(project, &out.path, &hash, hasher)?;
        }
        outs.push(entry(&out.def_path, &hash));
    }
    let mut locked = Mapping::new();
    locked.insert("cmd".into(), stage.cmd.clone());
    if !deps.is_empty() {
        locked.insert("deps".into(), Value::Sequence(deps));
    }
    if !params.is_empty() {
        locked.insert("params".into(), Value::Mapping(params));
    }
    if !outs.is_empty() {
        locked.insert("outs".into(), Value::Sequence(outs));
    }
    write_lock_entry(root, &stage.name, Value::Mapping(locked))
}

fn hash_of(root: &Path, path: &str, hasher: &mut Hasher) -> Result<PathHash, Error> {
    let full = root.join(path);
    match hasher.hash(root, path, HashKind::Md5) {
        Ok(Some(hash)) => Ok(hash),
        Ok(None) => Err(Error::Invalid {
            file: path.to_string(),
            message: "does not exist after the stage ran".to_string(),
        }),
        Err(source) => Err(Error::Io { path: full, source }),
    }
}

/// `{path, hash: md5, md5, size[, nfiles]}`, as DVC 3 writes it.
fn entry(def_path: &str, hash: &PathHash) -> Value {
    let mut entry = Mapping::new();
    entry.insert("path".into(), def_path.into());
    entry.insert("hash".into(), "md5".into());
    entry.insert("md5".into(), hash.md5.as_str().into());
    entry.insert("size".into(), hash.size.into());
    if let Some(nfiles) = hash.nfiles {
        entry.insert("nfiles".into(), nfiles.into());
    }
    Value::Mapping(entry)
}

/// Copies an output into the cache: a file as one object, a directory as one object per file
/// plus its `.dir` listing.
fn cache_output(
    project: &Project,
    path: &str,
    hash: &PathHash,
    hasher: &mut Hasher,
) -> Result<(), Error> {
    let full = project.root.join(path);
    let io = |source| Error::Io {
        path: full.clone(),
        source,
    };
    if hash.nfiles.is_none() {
        return project.cache.store_file(&full, &hash.md5).map_err(io);
    }
    let files = hasher.tree(&full, path, HashKind::Md5).map_err(io)?;
    for file in &files {
        project
            .cache
            .store_file(&full.join(&file.relpath), &file.md5)
            .map_err(io)?;
    }
    let listing: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (f.relpath.as_str(), f.md5.as_str()))
        .collect();
    project
        .cache
        .store_bytes(tree_json(&listing).as_bytes(), &hash.md5)
        .map_err(io)
}

/// Replaces one stage's entry in `<root>/dvc.lock`, keeping every other entry as it is.
fn write_lock_entry(root: &Path, name: &str, locked: Value) -> Result<(), Error> {
    let path = root.join("dvc.lock");
    let mut lock = match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            serde_yaml::from_str::<Value>(&text).map_err(|source| Error::Yaml {
                path: path.clone(),
                source,
            })?
        }
        Ok(_) => Value::Null,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Value::Null,
        Err(source) => return Err(Error::Io { path, source }),
    };
    if !lock.is_mapping() {
        let mut fresh = Mapping::new();
        fresh.insert("schema".into(), "2.0".into());
        fresh.insert("stages".into(), Value::Mapping(Mapping::new()));
        lock = Value::Mapping(fresh);
    }
    let invalid = || Error::Invalid {
        file: "dvc.lock".to_string(),
        message: "`stages` is not a mapping; run `dvc repro` to rewrite it".to_string(),
    };
    let stages = lock
        .as_mapping_mut()
        .ok_or_else(invalid)?
        .entry("stages".into())
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    stages
        .as_mapping_mut()
        .ok_or_else(invalid)?
        .insert(name.into(), locked);
    let text = serde_yaml::to_string(&lock).map_err(|source| Error::Yaml {
        path: path.clone(),
        source,
    })?;
    crate::files::write_bytes(&path, text.as_bytes()).map_err(|e| Error::Invalid {
        file: "dvc.lock".to_string(),
        message: format!("{e:#}"),
    })
}
