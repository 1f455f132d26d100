//! Searching runs in SQLite with a long history (10,000 runs and more) at console speed.
//!
//! Loading every run whole to filter and sort them costs four queries and a few dozen rows per
//! run. Instead the search reads each run's info (one query), then only the columns the filter
//! and the order name (one query each: e.g. the latest `cv_rmse_log` of every run), decides
//! which runs are kept with the same `filter::matches` and `filter::compare` as always, and
//! loads the params, tags and metrics of those runs only (three queries in all).

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, params};

use super::super::error::TrackerResult;
use super::super::filter::{self, Field};
use super::super::types::{Metric, Run, RunSearch};
use super::db_error;
use super::runs::{INFO_COLUMNS, info_row, keep_latest, metric_row};

const CALL: &str = "search_runs";

/// Runs of the experiments that match the filter, ordered, at most `max_results`.
pub fn search_runs(c: &mut Connection, search: &RunSearch) -> TrackerResult<Vec<Run>> {
    let clauses = filter::parse_filter(search.filter.as_deref().unwrap_or_default())?;
    let order = search
        .order_by
        .iter()
        .map(|o| filter::parse_order(o))
        .collect::<TrackerResult<Vec<_>>>()?;
    let experiments: Vec<i64> = search
        .experiment_ids
        .iter()
        .filter_map(|e| e.parse().ok())
        .collect();
    let experiments = json_list(&experiments);
    let mut runs = skeletons(c, &experiments)?;
    let mut needed: Vec<&Field> = Vec::new();
    for field in clauses
        .iter()
        .map(|c| &c.field)
        .chain(order.iter().map(|o| &o.field))
    {
        if !needed.contains(&field) {
            needed.push(field);
        }
    }
    if !needed.is_empty() {
        let position: HashMap<String, usize> = runs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.info.run_id.clone(), i))
            .collect();
        for field in needed {
            fill_column(c, &experiments, field, &position, &mut runs)?;
        }
    }
    runs.retain(|run| filter::matches(run, &clauses));
    runs.sort_by(|a, b| filter::compare(a, b, &order));
    runs.truncate(search.max_results);
    load_data(c, &mut runs)?;
    Ok(runs)
}

/// `[1,2]` / `["a","b"]`: a list bound as one parameter and read back with `json_each`.
fn json_list<T: serde::Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".into())
}

/// Every run of the experiments, with its info and no data.
fn skeletons(c: &Connection, experiments: &str) -> TrackerResult<Vec<Run>> {
    let mut statement = c
        .prepare_cached(&format!(
            "SELECT {INFO_COLUMNS} FROM runs
             WHERE experiment_id IN (SELECT value FROM json_each(?1))"
        ))
        .map_err(db_error(CALL))?;
    let rows = statement
        .query_map([experiments], |row| info_row(row, CALL))
        .map_err(db_error(CALL))?;
    let mut runs = Vec::new();
    for row in rows {
        runs.push(Run {
            info: row.map_err(db_error(CALL))??,
            metrics: BTreeMap::new(),
            params: BTreeMap::new(),
            tags: BTreeMap::new(),
        });
    }
    Ok(runs)
}

/// Reads one metric, param or tag of every run of the experiments into the skeletons.
fn fill_column(
    c: &Connection,
    experiments: &str,
    field: &Field,
    position: &HashMap<String, usize>,
    runs: &mut [Run],
) -> TrackerResult<()> {
    let scope = "run_id IN (SELECT run_id FROM runs WHERE experiment_id IN (SELECT value FROM json_each(?1)))";
    match field {
        Field::Metric(key) => {
            let mut statement = c
                .prepare_cached(&format!(
                    "SELECT run_id, key, value, timestamp, step FROM metrics WHERE {scope} AND key = ?2"
                ))
                .map_err(db_error(CALL))?;
            let rows = statement
                .query_map(params![experiments, key], |row| {
                    Ok((row.get::<_, String>(0)?, metric_at(row, 1)?))
                })
                .map_err(db_error(CALL))?;
            for row in rows {
                let (run_id, metric) = row.map_err(db_error(CALL))?;
                if let Some(&i) = position.get(&run_id) {
                    keep_latest(&mut runs[i].metrics, metric);
                }
            }
        }
        Field::Param(key) | Field::Tag(key) => {
            let table = if matches!(field, Field::Param(_)) {
                "params"
            } else {
                "tags"
            };
            let mut statement = c
                .prepare_cached(&format!(
                    "SELECT run_id, value FROM {table} WHERE {scope} AND key = ?2"
                ))
                .map_err(db_error(CALL))?;
            let rows = statement
                .query_map(params![experiments, key], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(db_error(CALL))?;
            for row in rows {
                let (run_id, value) = row.map_err(db_error(CALL))?;
                if let Some(&i) = position.get(&run_id) {
                    let run = &mut runs[i];
                    let map = if table == "params" {
                        &mut run.params
                    } else {
                        &mut run.tags
                    };
                    map.insert(key.clone(), value);
                }
            }
        }
        // Attributes are in the skeleton already.
        Field::Attribute(_) => {}
    }
    Ok(())
}

/// A metric from the columns `key, value, timestamp, step` starting at `first`.
fn metric_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Metric> {
    Ok(Metric {
        key: row.get(first)?,
        value: row.get(first + 1)?,
        timestamp: row.get(first + 2)?,
        step: row.get(first + 3)?,
    })
}

/// Replaces the runs' partial data with all their params, tags and latest metrics.
pub fn load_data(c: &Connection, runs: &mut [Run]) -> TrackerResult<()> {
    if runs.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = runs.iter().map(|r| r.info.run_id.as_str()).collect();
    let ids = json_list(&ids);
    let position: HashMap<String, usize> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (r.info.run_id.clone(), i))
        .collect();
    for run in runs.iter_mut() {
        run.metrics.clear();
        run.params.clear();
        run.tags.clear();
    }
    let scope = "run_id IN (SELECT value FROM json_each(?1))";
    for table in ["params", "tags"] {
        let mut statement = c
            .prepare_cached(&format!(
                "SELECT run_id, key, value FROM {table} WHERE {scope}"
            ))
            .map_err(db_error(CALL))?;
        let rows = statement
            .query_map([&ids], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(db_error(CALL))?;
        for row in rows {
            let (run_id, key, value) = row.map_err(db_error(CALL))?;
            if let Some(&i) = position.get(&run_id) {
                let run = &mut runs[i];
                if table == "params" {
                    run.params.insert(key, value);
                } else {
                    run.tags.insert(key, value);
                }
            }
        }
    }
    let mut statement = c
        .prepare_cached(&format!(
            "SELECT run_id, key, value, timestamp, step FROM metrics WHERE {scope}"
        ))
        .map_err(db_error(CALL))?;
    let rows = statement
        .query_map([&ids], |row| {
            Ok((row.get::<_, String>(0)?, metric_at(row, 1)?))
        })
        .map_err(db_error(CALL))?;
    for row in rows {
        let (run_id, metric) = row.map_err(db_error(CALL))?;
        if let Some(&i) = position.get(&run_id) {
            keep_latest(&mut runs[i].metrics, metric);
        }
    }
    Ok(())
}

/// Every value of every metric of a run, by key, step and time.
pub fn metric_histories(c: &Connection, run_id: &str) -> TrackerResult<Vec<Metric>> {
    let call = "metric_histories";
    super::runs::get_info(c, run_id, call)?;
    let mut statement = c
        .prepare_cached(
            "SELECT key, value, timestamp, step FROM metrics WHERE run_id = ?1
             ORDER BY key, step, timestamp, value",
        )
        .map_err(db_error(call))?;
    let rows = statement
        .query_map([run_id], metric_row)
        .map_err(db_error(call))?;
    rows.collect::<Result<_, _>>().map_err(db_error(call))
}
