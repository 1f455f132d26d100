//! Registered models, versions and aliases in SQLite, following MLflow's rules.

use rusqlite::{Connection, OptionalExtension, params};

use super::super::error::{ErrorKind, TrackerError, TrackerResult};
use super::super::now_millis;
use super::super::types::{ModelVersion, NewModelVersion};
use super::db_error;
use super::runs;

fn error(call: &str, kind: ErrorKind, message: String) -> TrackerError {
    TrackerError::new(format!("sqlite {call}"), kind, message)
}

/// Creates a registered model; an existing one is left alone.
pub fn create_registered_model(c: &mut Connection, name: &str) -> TrackerResult<()> {
    let call = "create_registered_model";
    if name.trim().is_empty() {
        return Err(error(
            call,
            ErrorKind::InvalidInput,
            "a registered model needs a name".into(),
        ));
    }
    c.execute(
        "INSERT OR IGNORE INTO registered_models (name, creation_time) VALUES (?1, ?2)",
        params![name, now_millis()],
    )
    .map_err(db_error(call))?;
    Ok(())
}

fn require_model(c: &Connection, name: &str, call: &str) -> TrackerResult<()> {
    let exists: bool = c
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM registered_models WHERE name = ?1)",
            [name],
            |row| row.get(0),
        )
        .map_err(db_error(call))?;
    if exists {
        Ok(())
    } else {
        Err(error(
            call,
            ErrorKind::NotFound,
            format!("registered model {name:?} does not exist"),
        ))
    }
}

/// MLflow accepts a `runs:/<run id>/…` source only together with that same run id.
fn check_source(c: &Connection, version: &NewModelVersion, call: &str) -> TrackerResult<()> {
    if version.source.trim().is_empty() {
        return Err(error(
            call,
            ErrorKind::InvalidInput,
            "a model version needs a source".into(),
        ));
    }
    if let Some(rest) = version.source.strip_prefix("runs:/") {
        let source_run = rest
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        if version.run_id.as_deref() != Some(source_run) {
            return Err(error(
                call,
                ErrorKind::InvalidInput,
                format!(
                    "Invalid model version source: {:?}: its run id must be given as run_id",
                    version.source
                ),
            ));
        }
    }
    if let Some(run_id) = &version.run_id {
        runs::get_info(c, run_id, call)?;
    }
    Ok(())
}

/// Adds the next version of a registered model.
pub fn create_model_version(
    c: &mut Connection,
    version: &NewModelVersion,
) -> TrackerResult<ModelVersion> {
    let call = "create_model_version";
    let transaction = c.transaction().map_err(db_error(call))?;
    require_model(&transaction, &version.name, call)?;
    check_source(&transaction, version, call)?;
    let number: i64 = transaction
        .query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?1",
            [&version.name],
            |row| row.get(0),
        )
        .map_err(db_error(call))?;
    transaction
        .execute(
            "INSERT INTO model_versions (name, version, source, run_id, creation_time) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![version.name, number, version.source, version.run_id, now_millis()],
        )
        .map_err(db_error(call))?;
    for tag in &version.tags {
        transaction
            .execute(
                "INSERT OR REPLACE INTO model_version_tags (name, version, key, value) VALUES (?1, ?2, ?3, ?4)",
                params![version.name, number, tag.key, tag.value],
            )
            .map_err(db_error(call))?;
    }
    transaction.commit().map_err(db_error(call))?;
    load_version(c, &version.name, number, call)
}

fn parse_version(version: &str, call: &str) -> TrackerResult<i64> {
    version.trim().parse().map_err(|_| {
        error(
            call,
            ErrorKind::InvalidInput,
            format!("model version {version:?} is not a number"),
        )
    })
}

fn load_version(
    c: &Connection,
    name: &str,
    version: i64,
    call: &str,
) -> TrackerResult<ModelVersion> {
    let (source, run_id) = c
        .query_row(
            "SELECT source, run_id FROM model_versions WHERE name = ?1 AND version = ?2",
            params![name, version],
            |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?)),
        )
        .optional()
        .map_err(db_error(call))?
        .ok_or_else(|| {
            error(
                call,
                ErrorKind::NotFound,
                format!("version {version} of registered model {name:?} does not exist"),
            )
        })?;
    let mut statement = c
        .prepare_cached(
            "SELECT alias FROM model_aliases WHERE name = ?1 AND version = ?2 ORDER BY alias",
        )
        .map_err(db_error(call))?;
    let aliases = statement
        .query_map(params![name, version], |row| row.get(0))
        .map_err(db_error(call))?
        .collect::<Result<Vec<String>, _>>()
        .map_err(db_error(call))?;
    let mut statement = c
        .prepare_cached(
            "SELECT key, value FROM model_version_tags WHERE name = ?1 AND version = ?2",
        )
        .map_err(db_error(call))?;
    let tags = statement
        .query_map(params![name, version], |row| Ok((row.get(0)?, row.get(1)?)))
        .map_err(db_error(call))?
        .collect::<Result<_, _>>()
        .map_err(db_error(call))?;
    Ok(ModelVersion {
        name: name.to_string(),
        version: version.to_string(),
        source,
        run_id,
        aliases,
        tags,
    })
}

/// Every version of a registered model, oldest first (none when the model does not exist).
pub fn model_versions(c: &mut Connection, name: &str) -> TrackerResult<Vec<ModelVersion>> {
    let call = "model_versions";
    let numbers = c
        .prepare_cached("SELECT version FROM model_versions WHERE name = ?1 ORDER BY version")
        .and_then(|mut statement| {
            statement
                .query_map([name], |row| row.get::<_, i64>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db_error(call))?;
    numbers
        .into_iter()
        .map(|number| load_version(c, name, number, call))
        .collect()
}

/// One version of a registered model.
pub fn get_model_version(
    c: &mut Connection,
    name: &str,
    version: &str,
) -> TrackerResult<ModelVersion> {
    let call = "get_model_version";
    load_version(c, name, parse_version(version, call)?, call)
}

/// Points an alias at an existing version.
pub fn set_alias(c: &mut Connection, name: &str, alias: &str, version: &str) -> TrackerResult<()> {
    let call = "set_alias";
    let number = parse_version(version, call)?;
    if alias.trim().is_empty() {
        return Err(error(
            call,
            ErrorKind::InvalidInput,
            "an alias needs a name".into(),
        ));
    }
    load_version(c, name, number, call)?;
    c.execute(
        "INSERT OR REPLACE INTO model_aliases (name, alias, version) VALUES (?1, ?2, ?3)",
        params![name, alias, number],
    )
    .map_err(db_error(call))?;
    Ok(())
}

/// The version an alias points at; `None` when the alias (or the model) does not exist.
pub fn get_alias(
    c: &mut Connection,
    name: &str,
    alias: &str,
) -> TrackerResult<Option<ModelVersion>> {
    let call = "get_alias";
    let version: Option<i64> = c
        .query_row(
            "SELECT version FROM model_aliases WHERE name = ?1 AND alias = ?2",
            params![name, alias],
            |row| row.get(0),
        )
        .optional()
        .map_err(db_error(call))?;
    version.map(|v| load_version(c, name, v, call)).transpose()
}

/// Removes an alias; removing an unset alias is not an error (as in MLflow).
pub fn delete_alias(c: &mut Connection, name: &str, alias: &str) -> TrackerResult<()> {
    let call = "delete_alias";
    require_model(c, name, call)?;
    c.execute(
        "DELETE FROM model_aliases WHERE name = ?1 AND alias = ?2",
        params![name, alias],
    )
    .map_err(db_error(call))?;
    Ok(())
}
