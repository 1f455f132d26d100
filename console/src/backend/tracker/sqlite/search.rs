//! Searching runs in SQLite with a long history (10,000 runs and more) at console speed.
//!
//! Loading every run whole to filter and sort them costs four queries and a few dozen rows per
//! run. Instead:
//! - with no filter and the default order (newest first), SQL returns the newest runs
//!   directly (`ORDER BY start_time DESC LIMIT n` on the experiment's index);
//! - otherwise the search reads the info of the runs the clauses keep — SQL decides clauses on
//!   attributes, metrics, params and tags through their indexes — then only the columns the
//!   order (and any clause SQL cannot decide exactly) names, one index range each (e.g. the
//!   latest `cv_rmse_log` of every run), sorts with the same `filter::compare` (and checks
//!   with `filter::matches`) as always, and loads the params, tags and latest metrics of the
//!   runs kept (three queries in all).

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
    let conditions: Vec<Option<Condition>> = clauses.iter().map(condition).collect();
    // What SQL cannot decide exactly is decided here, on the columns it needs.
    let rest: Vec<Clause> = clauses
        .iter()
        .zip(&conditions)
        .filter(|(_, c)| !c.as_ref().is_some_and(|c| c.exact))
        .map(|(clause, _)| clause.clone())
        .collect();
    // Newest first straight from SQL when SQL decides every clause.
    let limit = (order.is_empty() && rest.is_empty()).then_some(search.max_results);
    let conditions: Vec<Condition> = conditions.into_iter().flatten().collect();
    let mut runs = Vec::new();
    for experiment in experiments {
        runs.extend(skeletons(c, experiment, &conditions, limit)?);
    }
    let mut needed: Vec<&Field> = Vec::new();
    for field in rest
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
    runs.retain(|run| filter::matches(run, &rest));
    runs.sort_by(|a, b| filter::compare(a, b, &order));
    runs.truncate(search.max_results);
    load_data(c, &mut runs)?;
    Ok(runs)
}

/// A clause as an SQL condition on `runs`.
struct Condition {
    sql: String,
    values: Vec<SqlValue>,
    /// Whether SQL decides the clause exactly; otherwise it keeps a superset (SQLite's LIKE
    /// ignores ASCII case) and `filter::matches` decides after.
    exact: bool,
}

/// The SQL for a clause, where there is one: attributes compare the run's columns; metrics
/// (`= != < <= > >=` on the latest value), params and tags (`= !=`, `LIKE` as a superset) look
/// the key up by its index. `ILIKE` is left to `filter::matches` (SQLite folds only ASCII).
fn condition(clause: &Clause) -> Option<Condition> {
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
    let literal = match &clause.literal {
        Literal::Number(n) => SqlValue::Real(*n),
        Literal::Text(t) => SqlValue::Text(t.clone()),
    };
    let exact = clause.op != Op::Like;
    let lookup = |table: &str, key: &str| Condition {
        sql: format!("run_id IN (SELECT run_id FROM {table} WHERE key = ? AND value {op} ?)"),
        values: vec![SqlValue::Text(key.to_string()), literal.clone()],
        exact,
    };
    Some(match &clause.field {
        Field::Attribute(name) => match name.as_str() {
            "status" | "run_name" | "run_id" | "start_time" | "end_time" => Condition {
                sql: format!("{name} {op} ?"),
                values: vec![literal],
                exact,
            },
            _ => return None,
        },
        Field::Metric(key) => lookup("latest_metrics", key),
        Field::Param(key) => lookup("params", key),
        Field::Tag(key) => lookup("tags", key),
    })
}

/// The runs of one experiment with their info and no data, narrowed by the conditions; with
/// `limit`, only the newest that many.
fn skeletons(
    c: &Connection,
    experiment: i64,
    conditions: &[Condition],
    limit: Option<usize>,
) -> TrackerResult<Vec<Run>> {
    let mut sql = format!("SELECT {INFO_COLUMNS} FROM runs WHERE experiment_id = ?");
    let mut values = vec![SqlValue::Integer(experiment)];
    for condition in conditions {
        sql.push_str(" AND ");
        sql.push_str(&condition.sql);
        values.extend(condition.values.iter().cloned());
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::super::types::{Batch, KeyValue, NewRun};
    use super::super::{experiments, runs, schema};
    use super::*;

    /// Twelve runs that differ in every field a filter can look at, some missing values.
    fn store() -> (Connection, String) {
        let mut c = Connection::open_in_memory().expect("in-memory database");
        schema::migrate(&mut c, "memory").expect("schema");
        let root = Path::new("/nowhere");
        let experiment = experiments::experiment(&mut c, root, "e").expect("experiment");
        for i in 0..12_i64 {
            let info = runs::create_run(
                &mut c,
                root,
                &NewRun {
                    experiment_id: experiment.experiment_id.clone(),
                    run_name: Some(format!("{}-{i}", if i % 2 == 0 { "Train" } else { "eval" })),
                    start_time: 1000 + (i % 5) * 10,
                    tags: vec![KeyValue::new("host", ["a", "b", "É"][i as usize % 3])],
                },
            )
            .expect("run");
            let mut batch = Batch::default();
            if i % 4 != 0 {
                batch
                    .params
                    .push(KeyValue::new("alpha", ["0.1", "0.2"][i as usize % 2]));
            }
            for step in 0..(i % 3) {
                batch.metrics.push(Metric {
                    key: "rmse".into(),
                    value: (i * 7 % 5) as f64 / 10.0 + step as f64,
                    timestamp: 5 + step,
                    step,
                });
            }
            runs::log_batch(&mut c, &info.run_id, &batch).expect("logged");
            if i % 3 == 0 {
                runs::update_run(
                    &mut c,
                    &info.run_id,
                    super::super::super::RunStatus::Finished,
                    Some(2000 + i),
                )
                .expect("ended");
            }
        }
        (c, experiment.experiment_id)
    }

    #[test]
    fn sql_narrowing_finds_what_filtering_whole_runs_finds() {
        let (mut c, experiment) = store();
        let all = search_runs(
            &mut c,
            &RunSearch {
                experiment_ids: vec![experiment.clone()],
                filter: None,
                order_by: Vec::new(),
                max_results: 1000,
            },
        )
        .expect("every run");
        assert_eq!(all.len(), 12);
        let filters = [
            "",
            "metrics.rmse < 0.35",
            "metrics.rmse >= 1",
            "metrics.rmse != 0.2",
            "params.alpha = '0.1'",
            "params.alpha != '0.1'",
            "tags.host LIKE 'é'",
            "tags.host ILIKE 'é'",
            "attributes.run_name LIKE 'train%'",
            "attributes.run_name ILIKE 'TRAIN%'",
            "attributes.status = 'FINISHED' and metrics.rmse > 0",
            "attributes.end_time > 2003",
            "attributes.start_time <= 1020 and params.alpha = '0.2'",
        ];
        let orders: [&[&str]; 3] = [
            &[],
            &["metrics.rmse DESC"],
            &["params.alpha", "attributes.run_name DESC"],
        ];
        for text in filters {
            for order in orders {
                for max in [3, 1000] {
                    let clauses = filter::parse_filter(text).expect(text);
                    let keys: Vec<_> = order
                        .iter()
                        .map(|o| filter::parse_order(o).expect("order"))
                        .collect();
                    let mut expected: Vec<&Run> = all
                        .iter()
                        .filter(|r| filter::matches(r, &clauses))
                        .collect();
                    expected.sort_by(|a, b| filter::compare(a, b, &keys));
                    expected.truncate(max);
                    let found = search_runs(
                        &mut c,
                        &RunSearch {
                            experiment_ids: vec![experiment.clone()],
                            filter: Some(text.to_string()),
                            order_by: order.iter().map(|o| o.to_string()).collect(),
                            max_results: max,
                        },
                    )
                    .expect(text);
                    assert_eq!(
                        found.iter().collect::<Vec<_>>(),
                        expected,
                        "filter {text:?}, order {order:?}, at most {max}"
                    );
                }
            }
        }
    }
}
