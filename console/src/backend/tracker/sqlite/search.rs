//! Searching runs in SQLite with a long history (10,000 runs and more) at console speed.
//!
//! Loading every run whole to filter and sort them costs four queries and a few dozen rows per
//! run. Instead:
//! - with no filter and the default order (newest first), SQL returns the newest runs
//!   directly (`ORDER BY start_time DESC LIMIT n` on the experiment's index);
//! - otherwise the search reads each run's info — narrowed in SQL by the clauses on run
//!   attributes (id, name, status, times) — then only the columns the filter and the order
//!   name, one contiguous index range each (e.g. the latest `cv_rmse_log` of every run),
//!   decides with the same `filter::matches` and `filter::compare` as always, and loads the
//!   params, tags and latest metrics of the runs kept (three queries in all).

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;

use super::super::error::TrackerResult;
use super::super::filter::{self, Clause, Field, Literal, Op};
use super::super::types::{Metric, Run, RunSearch};
use super::db_error;
use super::runs::{INFO_COLUMNS, info_row, metric_row};

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
    // Newest first straight from SQL when every clause is exact there (a LIKE is a superset,
    // which a LIMIT must not see).
    let newest_only = order.is_empty()
        && clauses
            .iter()
            .all(|c| c.op != Op::Like && sql_condition(c).is_some());
    let limit = newest_only.then_some(search.max_results);
    let mut runs = Vec::new();
    for experiment in experiments {
        runs.extend(skeletons(c, experiment, &clauses, limit)?);
    }
    let mut needed: Vec<&Field> = Vec::new();
    for field in clauses
        .iter()
        .map(|c| &c.field)
        .chain(order.iter().map(|o| &o.field))
    {
        if !needed.contains(&field) && !matches!(field, Field::Attribute(_)) {
            needed.push(field);
        }
    }
    if !needed.is_empty() && !runs.is_empty() {
        let ids: Vec<String> = runs.iter().map(|r| r.info.run_id.clone()).collect();
        let position: HashMap<&str, usize> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        for field in needed {
            fill_column(c, field, &position, &mut runs)?;
        }
    }
    runs.retain(|run| filter::matches(run, &clauses));
    runs.sort_by(|a, b| filter::compare(a, b, &order));
    runs.truncate(search.max_results);
    load_data(c, &mut runs)?;
    Ok(runs)
}

/// A clause on a run attribute as SQL that keeps at least the runs it matches (SQLite's LIKE
/// ignores ASCII case, so a LIKE keeps a superset; `filter::matches` decides after).
fn sql_condition(clause: &Clause) -> Option<(String, SqlValue)> {
    let Field::Attribute(name) = &clause.field else {
        return None;
    };
    let column = match name.as_str() {
        "status" | "run_name" | "run_id" | "start_time" | "end_time" => name.as_str(),
        _ => return None,
    };
    let op = match clause.op {
        Op::Eq => "=",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
        Op::Like => "LIKE",
        Op::ILike => return None,
    };
    let value = match &clause.literal {
        Literal::Number(n) => SqlValue::Real(*n),
        Literal::Text(t) => SqlValue::Text(t.clone()),
    };
    Some((format!("{column} {op} ?"), value))
}

/// The runs of one experiment with their info and no data, narrowed by the attribute clauses;
/// with `limit`, only the newest that many.
fn skeletons(
    c: &Connection,
    experiment: i64,
    clauses: &[Clause],
    limit: Option<usize>,
) -> TrackerResult<Vec<Run>> {
    let mut sql = format!("SELECT {INFO_COLUMNS} FROM runs WHERE experiment_id = ?");
    let mut values = vec![SqlValue::Integer(experiment)];
    for (condition, value) in clauses.iter().filter_map(sql_condition) {
        sql.push_str(" AND ");
        sql.push_str(&condition);
        values.push(value);
    }
    if let Some(limit) = limit {
        sql.push_str(" ORDER BY start_time DESC, run_id ASC LIMIT ?");
        values.push(SqlValue::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    }
    let mut statement = c.prepare_cached(&sql).map_err(db_error(CALL))?;
    let rows = statement
        .query_map(rusqlite::params_from_iter(values), |row| {
            info_row(row, CALL)
        })
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

/// Reads one metric, param or tag of every run (one index range) into the skeletons.
fn fill_column(
    c: &Connection,
    field: &Field,
    position: &HashMap<&str, usize>,
    runs: &mut [Run],
) -> TrackerResult<()> {
    match field {
        Field::Metric(key) => {
            let mut statement = c
                .prepare_cached(
                    "SELECT run_id, key, value, timestamp, step FROM latest_metrics WHERE key = ?1",
                )
                .map_err(db_error(CALL))?;
            let mut rows = statement.query([key]).map_err(db_error(CALL))?;
            while let Some(row) = rows.next().map_err(db_error(CALL))? {
                if let Some(&i) = position.get(run_id_of(row)?) {
                    let metric = metric_at(row, 1).map_err(db_error(CALL))?;
                    runs[i].metrics.insert(key.clone(), metric);
                }
            }
        }
        Field::Param(key) | Field::Tag(key) => {
            let param = matches!(field, Field::Param(_));
            let sql = if param {
                "SELECT run_id, value FROM params WHERE key = ?1"
            } else {
                "SELECT run_id, value FROM tags WHERE key = ?1"
            };
            let mut statement = c.prepare_cached(sql).map_err(db_error(CALL))?;
            let mut rows = statement.query([key]).map_err(db_error(CALL))?;
            while let Some(row) = rows.next().map_err(db_error(CALL))? {
                if let Some(&i) = position.get(run_id_of(row)?) {
                    let value: String = row.get(1).map_err(db_error(CALL))?;
                    let run = &mut runs[i];
                    let map = if param {
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

/// The run id in a row's first column, borrowed (a column read for 10,000 runs allocates
/// nothing it does not keep).
fn run_id_of<'r>(row: &'r rusqlite::Row<'_>) -> TrackerResult<&'r str> {
    row.get_ref(0)
        .and_then(|v| v.as_str().map_err(rusqlite::Error::from))
        .map_err(db_error(CALL))
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
    let ids: Vec<String> = runs.iter().map(|r| r.info.run_id.clone()).collect();
    // The ids travel as one JSON array parameter, unpacked by `json_each`.
    let list = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
    let position: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
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
        let mut rows = statement.query([&list]).map_err(db_error(CALL))?;
        while let Some(row) = rows.next().map_err(db_error(CALL))? {
            if let Some(&i) = position.get(run_id_of(row)?) {
                let key: String = row.get(1).map_err(db_error(CALL))?;
                let value: String = row.get(2).map_err(db_error(CALL))?;
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
            "SELECT run_id, key, value, timestamp, step FROM latest_metrics WHERE {scope}"
        ))
        .map_err(db_error(CALL))?;
    let mut rows = statement.query([&list]).map_err(db_error(CALL))?;
    while let Some(row) = rows.next().map_err(db_error(CALL))? {
        if let Some(&i) = position.get(run_id_of(row)?) {
            let metric = metric_at(row, 1).map_err(db_error(CALL))?;
            runs[i].metrics.insert(metric.key.clone(), metric);
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
