//! dvc.yaml: its stages with `foreach`/`matrix` expanded and every `${…}` resolved, so each
//! stage has the name, command and paths `dvc` itself would compute.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::config::ParsingConfig;
use super::interpolate::{Context, InterpolationError};
use super::pyvalue::scalar_str;
use super::{Error, paths, read_yaml};

/// One stage of the pipeline, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Name as dvc reports it (`train`, `each@x`, `grid@1-0.1`).
    pub name: String,
    /// The command as written (a string or a list), compared with dvc.lock.
    pub cmd: Value,
    /// Working directory relative to the root; empty for the root.
    pub wdir: String,
    /// File and directory dependencies.
    pub deps: Vec<PathDep>,
    /// Parameter dependencies, one per parameters file.
    pub params: Vec<ParamsDep>,
    /// Outputs, metrics and plots.
    pub outs: Vec<Out>,
    /// `frozen: true`: dvc neither checks its dependencies nor reruns it.
    pub frozen: bool,
    /// `always_changed: true`: dvc reruns it every time.
    pub always_changed: bool,
}

/// A file or directory the stage reads.
#[derive(Debug, Clone, PartialEq)]
pub struct PathDep {
    /// As written in dvc.yaml (the key of its dvc.lock entry).
    pub def_path: String,
    /// Relative to the project root (how dvc status names it).
    pub path: String,
}

/// The parameters a stage reads from one file; no keys means the whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamsDep {
    /// As written (the key under `params:` in dvc.lock).
    pub def_path: String,
    /// Relative to the project root.
    pub path: String,
    /// Dotted keys (`train.alpha`, or a whole section `train`).
    pub keys: Vec<String>,
}

/// A file or directory the stage writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    /// As written in dvc.yaml.
    pub def_path: String,
    /// Relative to the project root.
    pub path: String,
    /// Kept in the DVC cache (false for `cache: false` metrics and plots).
    pub cache: bool,
    /// `persist: true`: not deleted before the stage runs.
    pub persist: bool,
}

impl Stage {
    /// The shell commands to run, in order.
    pub fn commands(&self) -> Vec<String> {
        match &self.cmd {
            Value::Sequence(items) => items.iter().filter_map(scalar_str).collect(),
            other => scalar_str(other)
                .map(|s| s.lines().map(str::to_string).collect())
                .unwrap_or_default(),
        }
    }

    /// Every path the stage reads, parameters files included (its in-edges in the DAG).
    pub fn input_paths(&self) -> impl Iterator<Item = &str> {
        let deps = self.deps.iter().map(|d| d.path.as_str());
        deps.chain(self.params.iter().map(|p| p.path.as_str()))
    }
}

/// Reads and resolves `<root>/dvc.yaml`.
pub fn load(root: &Path, parsing: &ParsingConfig) -> Result<Vec<Stage>, Error> {
    let file = root.join("dvc.yaml");
    let Value::Mapping(doc) = read_yaml(&file)? else {
        return Err(invalid("the file is not a mapping"));
    };
    let context = Context::for_project(root, doc.get("vars"))?;
    let mut stages = Vec::new();
    let Some(defined) = doc.get("stages") else {
        return Ok(stages);
    };
    let Value::Mapping(defined) = defined else {
        return Err(invalid("`stages` is not a mapping"));
    };
    for (name, definition) in defined {
        let name = scalar_str(name).ok_or_else(|| invalid("a stage name is not text"))?;
        let Value::Mapping(definition) = definition else {
            return Err(invalid(&format!("stage '{name}' is not a mapping")));
        };
        for (generated, member_context, template) in members(&name, definition, &context, parsing)?
        {
            stages.push(resolve_stage(
                root,
                generated,
                &template,
                &member_context,
                parsing,
            )?);
        }
    }
    Ok(stages)
}

fn invalid(message: &str) -> Error {
    Error::Invalid {
        file: "dvc.yaml".to_string(),
        message: message.to_string(),
    }
}

/// The error of a `${…}` in `stage`'s `field`.
fn unresolved(stage: &str, field: &str) -> impl Fn(InterpolationError) -> Error {
    move |reason| Error::Template {
        stage: stage.to_string(),
        field: field.to_string(),
        reason,
    }
}

fn interpolation(location: &str, message: String) -> Error {
    Error::Interpolation {
        location: location.to_string(),
        message,
    }
}

/// The stages one definition generates: itself, or one per foreach item / matrix combination.
fn members(
    name: &str,
    definition: &Mapping,
    context: &Context,
    parsing: &ParsingConfig,
) -> Result<Vec<(String, Context, Mapping)>, Error> {
    if let Some(matrix) = definition.get("matrix") {
        let location = format!("stages.{name}.matrix");
        let mut template = definition.clone();
        template.remove("matrix");
        let Value::Mapping(matrix) = context
            .resolve(matrix, None, parsing)
            .map_err(unresolved(name, "matrix"))?
        else {
            return Err(interpolation(&location, "expected a mapping".to_string()));
        };
        let mut combinations: Vec<(Vec<String>, Mapping)> = vec![(Vec::new(), Mapping::new())];
        for (axis, values) in &matrix {
            let Value::Sequence(values) = values else {
                return Err(interpolation(&location, "expected lists".to_string()));
            };
            let axis_name = scalar_str(axis).unwrap_or_default();
            let mut next = Vec::new();
            for (fragments, item) in &combinations {
                for (i, value) in values.iter().enumerate() {
                    // A list or mapping member is named by its axis and position (`n0`).
                    let fragment = scalar_str(value).unwrap_or_else(|| format!("{axis_name}{i}"));
                    let mut fragments = fragments.clone();
                    fragments.push(fragment);
                    let mut item = item.clone();
                    item.insert(axis.clone(), value.clone());
                    next.push((fragments, item));
                }
            }
            combinations = next;
        }
        return Ok(combinations
            .into_iter()
            .map(|(fragments, item)| {
                let key = fragments.join("-");
                let member = context
                    .with("key", Value::String(key.clone()))
                    .with("item", Value::Mapping(item));
                (format!("{name}@{key}"), member, template.clone())
            })
            .collect());
    }
    if let Some(foreach) = definition.get("foreach") {
        let location = format!("stages.{name}.foreach");
        let Some(Value::Mapping(template)) = definition.get("do") else {
            return Err(interpolation(&location, "`do` is missing".to_string()));
        };
        let iterable = context
            .resolve(foreach, None, parsing)
            .map_err(unresolved(name, "foreach"))?;
        let keyed: Vec<(String, Value, bool)> = match iterable {
            Value::Mapping(map) => map
                .into_iter()
                .map(|(k, v)| (scalar_str(&k).unwrap_or_default(), v, true))
                .collect(),
            Value::Sequence(items) => {
                let composite = items.iter().any(|v| v.is_sequence() || v.is_mapping());
                items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let key = if composite {
                            i.to_string()
                        } else {
                            scalar_str(&v).unwrap_or_default()
                        };
                        (key, v, false)
                    })
                    .collect()
            }
            _ => {
                return Err(interpolation(
                    &location,
                    "expected a list or mapping".to_string(),
                ));
            }
        };
        return Ok(keyed
            .into_iter()
            .map(|(key, item, has_key)| {
                let mut member = context.with("item", item);
                if has_key {
                    member = member.with("key", Value::String(key.clone()));
                }
                (format!("{name}@{key}"), member, template.clone())
            })
            .collect());
    }
    Ok(vec![(
        name.to_string(),
        context.clone(),
        definition.clone(),
    )])
}

fn resolve_stage(
    root: &Path,
    name: String,
    template: &Mapping,
    context: &Context,
    parsing: &ParsingConfig,
) -> Result<Stage, Error> {
    let field = |key: &str| format!("stages.{name}.{key}");
    let text = |value: Value, key: &str| -> Result<String, Error> {
        scalar_str(&value).ok_or_else(|| interpolation(&field(key), "expected text".to_string()))
    };
    // dvc checks URLs (s3://, https://, remote://) with their own metadata; we cannot.
    let local = |path: String, key: &str| -> Result<String, Error> {
        if path.contains("://") {
            return Err(Error::Invalid {
                file: "dvc.yaml".to_string(),
                message: format!(
                    "{}: external path {path} is not supported; use `dvc status`",
                    field(key)
                ),
            });
        }
        Ok(path)
    };
    let wdir = match template.get("wdir") {
        Some(wdir) => {
            let resolved = context
                .resolve(wdir, Some("wdir"), parsing)
                .map_err(unresolved(&name, "wdir"))?;
            let wdir = paths::normalize(&text(resolved, "wdir")?);
            if wdir == "." { String::new() } else { wdir }
        }
        None => String::new(),
    };
    let mut stage_context;
    let mut context = context;
    if let Some(vars) = template.get("vars") {
        stage_context = context.clone();
        stage_context.merge_vars(root, &wdir, Some(vars), &field("vars"))?;
        context = &stage_context;
    }
    let resolve = |key: &str| -> Result<Option<Value>, Error> {
        template
            .get(key)
            .map(|value| context.resolve(value, Some(key), parsing))
            .transpose()
            .map_err(unresolved(&name, key))
    };
    let cmd = resolve("cmd")?.ok_or_else(|| interpolation(&field("cmd"), "missing".to_string()))?;
    let mut deps = Vec::new();
    for dep in list(resolve("deps")?, &field("deps"))? {
        let def_path = local(text(dep, "deps")?, "deps")?;
        let path = paths::join(&wdir, &def_path);
        deps.push(PathDep { def_path, path });
    }
    let params = params_deps(
        &wdir,
        list(resolve("params")?, &field("params"))?,
        &field("params"),
    )?;
    let mut declared: Vec<(String, Mapping)> = Vec::new();
    for key in ["outs", "metrics", "plots"] {
        for entry in list(resolve(key)?, &field(key))? {
            let entries = match entry {
                Value::Mapping(map) => map.into_iter().collect(),
                other => vec![(other, Value::Null)],
            };
            for (path, flags) in entries {
                let def_path = local(text(path, key)?, key)?;
                let flags = match flags {
                    Value::Mapping(flags) => flags,
                    _ => Mapping::new(),
                };
                match declared.iter_mut().find(|(p, _)| *p == def_path) {
                    Some((_, existing)) => existing.extend(flags),
                    None => declared.push((def_path, flags)),
                }
            }
        }
    }
    let outs = declared
        .into_iter()
        .map(|(def_path, flags)| {
            let flag = |name: &str, default: bool| {
                flags.get(name).and_then(Value::as_bool).unwrap_or(default)
            };
            Out {
                path: paths::join(&wdir, &def_path),
                cache: flag("cache", true),
                persist: flag("persist", false),
                def_path,
            }
        })
        .collect();
    let flag = |key: &str| -> Result<bool, Error> {
        Ok(resolve(key)?.and_then(|v| v.as_bool()).unwrap_or(false))
    };
    Ok(Stage {
        frozen: flag("frozen")?,
        always_changed: flag("always_changed")?,
        name,
        cmd,
        wdir,
        deps,
        params,
        outs,
    })
}

fn list(value: Option<Value>, location: &str) -> Result<Vec<Value>, Error> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(items)) => Ok(items),
        Some(_) => Err(interpolation(location, "expected a list".to_string())),
    }
}

/// DVC's grouping of `params`: bare keys belong to params.yaml, `{file: [keys]}` to that file,
/// and `{file: }` (no keys) tracks the whole file and overrides any keys listed for it.
fn params_deps(wdir: &str, entries: Vec<Value>, location: &str) -> Result<Vec<ParamsDep>, Error> {
    let mut whole: Vec<String> = Vec::new();
    for entry in &entries {
        if let Value::Mapping(map) = entry {
            for (file, keys) in map {
                let empty = match keys {
                    Value::Null => true,
                    Value::Sequence(k) => k.is_empty(),
                    _ => false,
                };
                if empty {
                    whole.extend(scalar_str(file));
                }
            }
        }
    }
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    let mut add =
        |file: String, keys: Vec<String>| match grouped.iter_mut().find(|(f, _)| *f == file) {
            Some((_, existing)) => existing.extend(keys),
            None => grouped.push((file, keys)),
        };
    for entry in entries {
        match entry {
            Value::Mapping(map) => {
                for (file, keys) in map {
                    let file = scalar_str(&file).unwrap_or_default();
                    let keys = match keys {
                        _ if whole.contains(&file) => Vec::new(),
                        Value::Sequence(keys) => keys.iter().filter_map(scalar_str).collect(),
                        _ => {
                            return Err(interpolation(
                                location,
                                format!("expected a list of keys for '{file}'"),
                            ));
                        }
                    };
                    add(file, keys);
                }
            }
            other => {
                let key = scalar_str(&other).ok_or_else(|| {
                    interpolation(location, "expected keys or {file: [keys]}".to_string())
                })?;
                if whole.iter().any(|f| f == "params.yaml") {
                    add("params.yaml".to_string(), Vec::new());
                } else {
                    add("params.yaml".to_string(), vec![key]);
                }
            }
        }
    }
    Ok(grouped
        .into_iter()
        .map(|(def_path, mut keys)| {
            let mut seen = Vec::new();
            keys.retain(|k| {
                let fresh = !seen.contains(k);
                seen.push(k.clone());
                fresh
            });
            ParamsDep {
                path: paths::join(wdir, &def_path),
                def_path,
                keys,
            }
        })
        .collect())
}
