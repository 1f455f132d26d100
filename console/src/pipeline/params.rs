//! Parameter dependencies: the values a stage reads from params.yaml (or another YAML/JSON
//! file), compared key by key with dvc.lock the way `dvc status` does.

use std::collections::HashMap;
use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::dvcyaml::ParamsDep;
use super::pyvalue::py_eq;
use super::status::Change;
use super::{Error, read_yaml};

/// How a parameters dependency changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamsChange {
    /// The file as a whole: `deleted` (no file) or `new` (never recorded in dvc.lock).
    File(Change),
    /// Per key (`train.alpha`: modified), in the order dvc.yaml lists them.
    Keys(Vec<(String, Change)>),
}

/// Parameters files, each read at most once.
#[derive(Debug, Default)]
pub struct ParamsFiles {
    loaded: HashMap<String, Option<Value>>,
}

impl ParamsFiles {
    /// The parsed content of a file relative to the root; None when it does not exist.
    pub fn get(&mut self, root: &Path, path: &str) -> Result<Option<&Value>, Error> {
        if !self.loaded.contains_key(path) {
            let full = root.join(path);
            let value = if full.is_file() {
                let extension = full.extension().and_then(|e| e.to_str()).unwrap_or("");
                if !matches!(extension, "yaml" | "yml" | "json") {
                    return Err(Error::Invalid {
                        file: path.to_string(),
                        message: "only YAML and JSON parameters files are supported".to_string(),
                    });
                }
                Some(read_yaml(&full)?)
            } else {
                None
            };
            self.loaded.insert(path.to_string(), value);
        }
        Ok(self.loaded.get(path).and_then(Option::as_ref))
    }
}

/// The values a dependency reads now: the whole file, or each listed key that exists.
pub fn current_values(dep: &ParamsDep, file: &Value) -> Mapping {
    let top = match file {
        Value::Mapping(map) => map.clone(),
        _ => Mapping::new(),
    };
    if dep.keys.is_empty() {
        return top;
    }
    let mut values = Mapping::new();
    for key in &dep.keys {
        if let Some(value) = lookup(file, key) {
            values.insert(Value::String(key.clone()), value.clone());
        }
    }
    values
}

/// `dpath.get(config, "a.b.0", separator=".")`.
fn lookup<'a>(mut value: &'a Value, key: &str) -> Option<&'a Value> {
    for part in key.split('.') {
        value = match value {
            Value::Mapping(map) => map.get(part)?,
            Value::Sequence(items) => items.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// `ParamsDependency.workspace_status`: None when nothing changed.
pub fn status(
    dep: &ParamsDep,
    file: Option<&Value>,
    locked: Option<&Value>,
) -> Option<ParamsChange> {
    let Some(file) = file else {
        return Some(ParamsChange::File(Change::Deleted));
    };
    let Some(locked) = locked else {
        return Some(ParamsChange::File(Change::New));
    };
    let info = match locked {
        Value::Mapping(map) => map.clone(),
        _ => Mapping::new(),
    };
    let actual = current_values(dep, file);
    let keys: Vec<Value> = if dep.keys.is_empty() {
        let mut keys: Vec<Value> = actual.keys().cloned().collect();
        for key in info.keys() {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        keys
    } else {
        dep.keys.iter().map(|k| Value::String(k.clone())).collect()
    };
    let mut changes = Vec::new();
    for key in keys {
        let change = match (actual.get(&key), info.get(&key)) {
            (None, _) => Change::Deleted,
            (Some(_), None) => Change::New,
            (Some(now), Some(then)) if !py_eq(now, then) => Change::Modified,
            _ => continue,
        };
        let name = super::pyvalue::scalar_str(&key).unwrap_or_default();
        changes.push((name, change));
    }
    (!changes.is_empty()).then_some(ParamsChange::Keys(changes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).expect("YAML")
    }

    fn dep(keys: &[&str]) -> ParamsDep {
        ParamsDep {
            def_path: "params.yaml".to_string(),
            path: "params.yaml".to_string(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    #[test]
    fn keys_are_compared_like_dvc() {
        let file = yaml("train: {alpha: 0.001, seed: 42}\nsplit: {seed: 1}");
        let locked = yaml("train.alpha: 0.0005\ntrain.gone: 1\nsplit: {seed: 1.0}");
        assert_eq!(
            status(
                &dep(&["train.alpha", "split", "train.gone", "train.seed"]),
                Some(&file),
                Some(&locked)
            ),
            Some(ParamsChange::Keys(vec![
                ("train.alpha".to_string(), Change::Modified),
                ("train.gone".to_string(), Change::Deleted),
                ("train.seed".to_string(), Change::New),
            ]))
        );
        assert_eq!(status(&dep(&["split"]), Some(&file), Some(&locked)), None);
        assert_eq!(
            status(&dep(&["split"]), Some(&file), None),
            Some(ParamsChange::File(Change::New))
        );
        assert_eq!(
            status(&dep(&["split"]), None, Some(&locked)),
            Some(ParamsChange::File(Change::Deleted))
        );
    }

    #[test]
    fn a_whole_file_compares_its_top_level_keys() {
        let file = yaml("a: 1\nb: 2");
        let locked = yaml("b: 3\nc: 4");
        assert_eq!(
            status(&dep(&[]), Some(&file), Some(&locked)),
            Some(ParamsChange::Keys(vec![
                ("a".to_string(), Change::New),
                ("b".to_string(), Change::Modified),
                ("c".to_string(), Change::Deleted),
            ]))
        );
    }
}
