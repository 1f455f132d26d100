//! `${…}` templating of dvc.yaml: the variables context (params.yaml, `vars`, `item`, `key`)
//! and how a template resolves, following DVC's rules so stage names, paths and commands come
//! out exactly as `dvc` computes them (the command is compared with dvc.lock).

use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::config::ParsingConfig;
use super::pyvalue::{scalar_str, shell_quote};
use super::{Error, paths, read_yaml};

/// Why a `${…}` expression does not resolve; every variant names the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// No variable has that name (or the path leads nowhere).
    #[error("could not find '{expression}'")]
    NotFound {
        /// The expression inside `${…}`.
        expression: String,
    },
    /// A list or dictionary where only a scalar may go (outside `cmd` and `foreach`).
    #[error("cannot interpolate a list or dictionary here: ${{{expression}}}")]
    Composite {
        /// The expression inside `${…}`.
        expression: String,
    },
    /// A list inside a longer string.
    #[error("cannot interpolate a list inside a string: ${{{expression}}}")]
    ListInString {
        /// The expression inside `${…}`.
        expression: String,
    },
    /// A dictionary (as `--name value` options) holding a list of lists or maps.
    #[error("cannot interpolate nested list in '{name}': ${{{expression}}}")]
    NestedList {
        /// The expression inside `${…}`.
        expression: String,
        /// The option whose list nests.
        name: String,
    },
}

impl InterpolationError {
    /// The expression inside `${…}`.
    pub fn expression(&self) -> &str {
        match self {
            InterpolationError::NotFound { expression }
            | InterpolationError::Composite { expression }
            | InterpolationError::ListInString { expression }
            | InterpolationError::NestedList { expression, .. } => expression,
        }
    }
}

/// The variables a template can use.
#[derive(Debug, Clone, Default)]
pub struct Context {
    data: Mapping,
    /// Files already merged in (with the keys taken from each, None = whole file).
    imports: Vec<(String, Option<Vec<String>>)>,
}

impl Context {
    /// The context of a dvc.yaml: params.yaml (when present) and the top-level `vars`.
    pub fn for_project(root: &Path, vars: Option<&Value>) -> Result<Context, Error> {
        let mut context = Context::default();
        if root.join("params.yaml").is_file() {
            context.merge_file(root, "", "params.yaml")?;
        }
        context.merge_vars(root, "", vars, "vars")?;
        Ok(context)
    }

    /// Merges a `vars` list: file names (`file.yaml`, `file.yaml:key1,key2`) or inline maps.
    pub fn merge_vars(
        &mut self,
        root: &Path,
        wdir: &str,
        vars: Option<&Value>,
        location: &str,
    ) -> Result<(), Error> {
        let items = match vars {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Sequence(items)) => items,
            Some(_) => return Err(interpolation(location, "expected a list")),
        };
        for item in items {
            match item {
                Value::String(file) => self.merge_file(root, wdir, file)?,
                Value::Mapping(map) => self.merge(map.clone(), location)?,
                _ => return Err(interpolation(location, "expected file names or maps")),
            }
        }
        Ok(())
    }

    fn merge_file(&mut self, root: &Path, wdir: &str, item: &str) -> Result<(), Error> {
        let (file, keys) = match item.split_once(':') {
            Some((file, keys)) => {
                let keys: Vec<String> = keys
                    .split(',')
                    .filter(|k| !k.is_empty())
                    .map(str::to_string)
                    .collect();
                (file, (!keys.is_empty()).then_some(keys))
            }
            None => (item, None),
        };
        let path = paths::join(wdir, file);
        if let Some((_, loaded)) = self.imports.iter().find(|(p, _)| *p == path)
            && keys.is_none()
            && loaded.is_none()
        {
            return Ok(());
        }
        let data = match read_yaml(&root.join(&path))? {
            Value::Mapping(map) => map,
            _ => return Err(interpolation("vars", &format!("{path} is not a mapping"))),
        };
        let data = match &keys {
            None => data,
            Some(keys) => {
                let mut selected = Mapping::new();
                for key in keys {
                    let value = data.get(key.as_str()).ok_or_else(|| {
                        interpolation("vars", &format!("could not find '{key}' in '{path}'"))
                    })?;
                    selected.insert(Value::String(key.clone()), value.clone());
                }
                selected
            }
        };
        self.merge(data, item)?;
        self.imports.push((path, keys));
        Ok(())
    }

    fn merge(&mut self, other: Mapping, source: &str) -> Result<(), Error> {
        merge_into(&mut self.data, other, source)
    }

    /// A copy with `name` set (the `item`/`key` of a foreach or matrix member).
    pub fn with(&self, name: &str, value: Value) -> Context {
        let mut context = self.clone();
        context.data.insert(Value::String(name.to_string()), value);
        context
    }

    /// Resolves every template inside `value` (map keys included). `key` is the stage field
    /// being resolved: only `cmd` may take a whole dictionary (as `--name value` options).
    pub fn resolve(
        &self,
        value: &Value,
        key: Option<&str>,
        config: &ParsingConfig,
    ) -> Result<Value, InterpolationError> {
        Ok(match value {
            Value::String(s) => self.resolve_str(s, key, config)?,
            Value::Sequence(items) => Value::Sequence(
                items
                    .iter()
                    .map(|item| self.resolve(item, key, config))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Mapping(map) => {
                let mut resolved = Mapping::new();
                for (k, v) in map {
                    resolved.insert(self.resolve(k, key, config)?, self.resolve(v, key, config)?);
                }
                Value::Mapping(resolved)
            }
            other => other.clone(),
        })
    }

    fn resolve_str(
        &self,
        template: &str,
        key: Option<&str>,
        config: &ParsingConfig,
    ) -> Result<Value, InterpolationError> {
        let matches = find_templates(template);
        if let [(start, end, expression)] = matches.as_slice()
            && *start == 0
            && *end == template.len()
        {
            let value = self.select(expression)?;
            check_interpolable(value, key, expression)?;
            return Ok(value.clone());
        }
        let mut out = String::new();
        let mut index = 0;
        for (start, end, expression) in matches {
            let value = self.select(&expression)?;
            check_interpolable(value, key, &expression)?;
            out.push_str(&template[index..start]);
            out.push_str(&to_str(value, config, &expression)?);
            index = end;
        }
        out.push_str(&template[index..]);
        Ok(Value::String(out.replace("\\${", "${")))
    }

    /// Looks up `a.b[0].c`.
    fn select(&self, expression: &str) -> Result<&Value, InterpolationError> {
        let not_found = || InterpolationError::NotFound {
            expression: expression.to_string(),
        };
        let normalized = expression.replace('[', ".").replace(']', "");
        let mut current: Option<&Value> = None;
        for part in normalized.split('.').map(str::trim) {
            let next = match current {
                None => self.data.get(part),
                Some(Value::Mapping(map)) => map.get(part),
                Some(Value::Sequence(items)) => {
                    part.parse::<usize>().ok().and_then(|i| items.get(i))
                }
                Some(_) => None,
            };
            current = Some(next.ok_or_else(not_found)?);
        }
        current.ok_or_else(not_found)
    }
}

fn interpolation(location: &str, message: &str) -> Error {
    Error::Interpolation {
        location: location.to_string(),
        message: message.to_string(),
    }
}

/// DVC's merge of variable sources: nested maps merge, any other overlap is an error.
fn merge_into(into: &mut Mapping, other: Mapping, source: &str) -> Result<(), Error> {
    for (key, value) in other {
        match (into.get_mut(&key), value) {
            (Some(Value::Mapping(existing)), Value::Mapping(update)) => {
                merge_into(existing, update, source)?;
            }
            (Some(_), _) => {
                let name = scalar_str(&key).unwrap_or_default();
                return Err(interpolation(
                    "vars",
                    &format!("cannot redefine '{name}' from '{source}'"),
                ));
            }
            (None, value) => {
                into.insert(key, value);
            }
        }
    }
    Ok(())
}

/// `${expression}` occurrences (not escaped as `\${`): (start, end, expression).
fn find_templates(s: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = s[from..].find("${") {
        let start = from + offset;
        let Some(close) = s[start + 2..].find('}') else {
            break;
        };
        let end = start + 2 + close + 1;
        if start > 0 && s.as_bytes()[start - 1] == b'\\' {
            from = start + 2;
            continue;
        }
        found.push((start, end, s[start + 2..end - 1].to_string()));
        from = end;
    }
    found
}

fn check_interpolable(
    value: &Value,
    key: Option<&str>,
    expression: &str,
) -> Result<(), InterpolationError> {
    let composite = matches!(value, Value::Sequence(_) | Value::Mapping(_));
    match key {
        Some(key) if composite && !key.contains("foreach") => {
            if key == "cmd" && matches!(value, Value::Mapping(_)) {
                Ok(())
            } else {
                Err(InterpolationError::Composite {
                    expression: expression.to_string(),
                })
            }
        }
        _ => Ok(()),
    }
}

/// How a value reads inside a string: a dictionary becomes `--key value` options.
fn to_str(
    value: &Value,
    config: &ParsingConfig,
    expression: &str,
) -> Result<String, InterpolationError> {
    if let Some(text) = scalar_str(value) {
        return Ok(text);
    }
    let Value::Mapping(map) = value else {
        return Err(InterpolationError::ListInString {
            expression: expression.to_string(),
        });
    };
    let mut flat = Vec::new();
    flatten("", map, &mut flat);
    let mut out = String::new();
    for (name, value) in flat {
        match value {
            Value::Bool(true) => out.push_str(&format!("--{name} ")),
            Value::Bool(false) if config.boolean_optional => {
                out.push_str(&format!("--no-{name} "));
            }
            Value::Bool(false) => {}
            Value::String(s) => out.push_str(&format!("--{name} {} ", shell_quote(s))),
            Value::Sequence(items) => {
                for (n, item) in items.iter().enumerate() {
                    let text = match item {
                        Value::String(s) => shell_quote(s),
                        other => {
                            scalar_str(other).ok_or_else(|| InterpolationError::NestedList {
                                expression: expression.to_string(),
                                name: name.clone(),
                            })?
                        }
                    };
                    if n == 0 || config.list_append {
                        out.push_str(&format!("--{name} {text} "));
                    } else {
                        out.push_str(&format!("{text} "));
                    }
                }
            }
            other => out.push_str(&format!(
                "--{name} {} ",
                scalar_str(other).unwrap_or_default()
            )),
        }
    }
    Ok(out.trim_end().to_string())
}

fn flatten<'a>(prefix: &str, map: &'a Mapping, out: &mut Vec<(String, &'a Value)>) {
    for (key, value) in map {
        let key = scalar_str(key).unwrap_or_default();
        let name = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Mapping(inner) if !inner.is_empty() => flatten(&name, inner, out),
            other => out.push((name, other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(yaml: &str) -> Context {
        let Value::Mapping(data) = serde_yaml::from_str(yaml).expect("YAML") else {
            panic!("a mapping")
        };
        Context {
            data,
            imports: Vec::new(),
        }
    }

    fn resolve(c: &Context, template: &str, key: &str) -> Result<Value, InterpolationError> {
        c.resolve(
            &Value::String(template.to_string()),
            Some(key),
            &ParsingConfig::default(),
        )
    }

    #[test]
    fn a_whole_template_keeps_its_type_and_a_partial_one_becomes_text() {
        let c = context("train: {alpha: 0.0005, on: true, n: 3}\nnames: [a, b]");
        assert_eq!(
            resolve(&c, "${train.alpha}", "cmd"),
            Ok(Value::from(0.0005))
        );
        assert_eq!(
            resolve(&c, "x ${train.alpha} ${train.on} ${ train.n }", "cmd"),
            Ok(Value::from("x 0.0005 true 3"))
        );
        assert_eq!(
            resolve(&c, "${names[1]}.csv", "outs"),
            Ok(Value::from("b.csv"))
        );
        assert_eq!(
            resolve(&c, "\\${train.n}", "cmd"),
            Ok(Value::from("${train.n}"))
        );
        assert_eq!(
            resolve(&c, "x ${train.missing}", "cmd"),
            Err(InterpolationError::NotFound {
                expression: "train.missing".to_string()
            })
        );
        let composite = resolve(&c, "${names}", "deps").expect_err("a list in deps");
        assert_eq!(composite.expression(), "names");
        assert_eq!(
            composite.to_string(),
            "cannot interpolate a list or dictionary here: ${names}"
        );
        assert_eq!(
            resolve(&c, "x ${names}", "foreach"),
            Err(InterpolationError::ListInString {
                expression: "names".to_string()
            })
        );
    }

    #[test]
    fn a_dictionary_in_a_command_becomes_options() {
        let c = context(
            "opts: {lr: 0.1, name: 'a b', flag: true, off: false, ids: [1, 2], nested: {k: v}}",
        );
        assert_eq!(
            resolve(&c, "python t.py ${opts}", "cmd"),
            Ok(Value::from(
                "python t.py --lr 0.1 --name 'a b' --flag --ids 1 2 --nested.k v"
            ))
        );
    }
}
