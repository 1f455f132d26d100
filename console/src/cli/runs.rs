//! `amesops runs`: list tracked training runs, compare a few side by side, copy the history
//! to and from an MLflow server, and send the runs waiting in the outbox.

mod transfer;

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use super::tracking::{self, TrackerArgs};
use crate::backend::tracker::outbox::Outbox;
use crate::backend::tracker::{Run, RunSearch, Tracker, find_run};

/// Params shown in the run table.
const KEY_PARAMS: &[&str] = &["train.alpha", "train.l1_ratio"];
/// Metrics shown in the run table.
const KEY_METRICS: &[&str] = &["cv_rmse_log", "test_rmse_log"];
/// How many runs a short id is matched against.
const PREFIX_SEARCH_LIMIT: usize = 5000;

/// Arguments of `amesops runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// `compare`, or nothing to list runs.
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    /// Sort by a metric, e.g. `cv_rmse_log` (ascending) or `cv_rmse_log DESC`; also
    /// `params.X`, `tags.X`, `attributes.start_time`. Default: newest first.
    #[arg(long, value_name = "METRIC")]
    pub sort: Option<String>,
    /// MLflow filter, e.g. "metrics.cv_rmse_log < 0.13 and params.train.alpha = '0.0005'".
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Show at most this many runs.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub limit: usize,
    /// Print the runs as JSON (all params, metrics and tags) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Tracker and experiment.
    #[command(flatten)]
    pub tracking: TrackerArgs,
}

/// Subcommands of `amesops runs`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Show the params of runs side by side (differences marked `*`) and metric deltas
    /// against the first run.
    Compare(CompareArgs),
    /// Copy the local history to an MLflow server: every run of the experiment with its params,
    /// metric histories, tags and artifacts (the model too), then the registered model's
    /// versions and its `production` alias.
    ///
    /// Runs keep their names, statuses and start and end times. A run already copied is
    /// recognised by its tag amesops.origin_run_id: pushing again sends nothing, or only what
    /// changed since (e.g. test metrics logged by a later `evaluate`). See it in MLflow's UI:
    /// `mlflow server --port 5000` then `amesops runs push --to http://127.0.0.1:5000`.
    Push(transfer::PushArgs),
    /// Copy an MLflow server's runs of the experiment into the local store (the reverse of
    /// push, equally idempotent).
    Pull(transfer::PullArgs),
    /// Send the runs waiting in .amesops/outbox/ (queued while the tracker was out of reach)
    /// to the tracker (--tracker / MLFLOW_TRACKING_URI), oldest first, with their original
    /// start and end times. Any command that calls that tracker does this first, quietly.
    Sync(transfer::SyncArgs),
}

/// Arguments of `amesops runs compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run ids (a unique prefix is enough); the first is the baseline.
    #[arg(required = true, num_args = 2.., value_name = "RUN")]
    pub runs: Vec<String>,
}

/// `amesops runs`.
pub fn runs(args: RunsArgs) -> Result<ExitCode> {
    match &args.command {
        Some(RunsCommand::Push(push)) => return transfer::push(push, &args.tracking),
        Some(RunsCommand::Pull(pull)) => return transfer::pull(pull, &args.tracking),
        Some(RunsCommand::Sync(sync)) => return transfer::sync(sync, &args.tracking),
        Some(RunsCommand::Compare(_)) | None => {}
    }
    let runtime = tracking::runtime()?;
    let tracker = args.tracking.open()?;
    let output = runtime.block_on(async {
        match &args.command {
            Some(RunsCommand::Compare(compare)) => {
                let mut runs = Vec::new();
                for id in &compare.runs {
                    runs.push(resolve(&tracker, &args.tracking, id).await?);
                }
                Ok(render_comparison(&runs))
            }
            _ => list(&tracker, &args).await,
        }
    })?;
    print!("{output}");
    let waiting = Outbox::local().waiting();
    if waiting > 0 {
        eprintln!(
            "note: {waiting} run{} waiting to sync in {} (`amesops runs sync` sends them)",
            if waiting == 1 { "" } else { "s" },
            Outbox::local().dir().display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `--sort` as an MLflow `order_by` entry: a bare name is a metric, ascending.
fn order_by(sort: &str) -> String {
    let sort = sort.trim();
    let known = ["metrics.", "params.", "tags.", "attributes."];
    if known.iter().any(|p| sort.starts_with(p)) {
        sort.to_string()
    } else {
        format!("metrics.{sort}")
    }
}

/// The metric `--sort` orders by, if it names one.
fn sort_metric(sort: Option<&str>) -> Option<String> {
    let sorted = order_by(sort?);
    let key = sorted.strip_prefix("metrics.")?.split_whitespace().next()?;
    Some(key.to_string())
}

async fn list(tracker: &Arc<dyn Tracker>, args: &RunsArgs) -> Result<String> {
    let experiment = tracker.experiment(&args.tracking.experiment).await?;
    let search = RunSearch {
        experiment_ids: vec![experiment.experiment_id],
        filter: args.filter.clone().filter(|f| !f.trim().is_empty()),
        order_by: args.sort.as_deref().map(order_by).into_iter().collect(),
        max_results: args.limit,
    };
    let runs = tracker.search_runs(&search).await?;
    if let Some(key) = sort_metric(args.sort.as_deref())
        && !runs.is_empty()
        && !runs.iter().any(|run| run.metrics.contains_key(&key))
    {
        // Sorting by a metric no run has orders nothing and adds a column of dashes: a
        // typo, most likely. Say so, with the names that would work.
        let mut known: Vec<&str> = runs
            .iter()
            .flat_map(|run| run.metrics.keys().map(String::as_str))
            .collect();
        known.sort_unstable();
        known.dedup();
        bail!(
            "no run in experiment {:?} has a metric {key:?} to sort by; metrics: {} (or sort by params.X, tags.X, attributes.start_time)",
            args.tracking.experiment,
            known.join(", ")
        );
    }
    if args.json {
        return Ok(format!("{}\n", serde_json::to_string_pretty(&runs)?));
    }
    if runs.is_empty() {
        eprintln!(
            "no runs in experiment {:?} ({}){}",
            args.tracking.experiment,
            tracker.describe(),
            if search.filter.is_some() {
                " match the filter"
            } else {
                ""
            }
        );
        return Ok(String::new());
    }
    let mut metrics: Vec<String> = KEY_METRICS.iter().map(|m| m.to_string()).collect();
    if let Some(key) = sort_metric(args.sort.as_deref())
        && !metrics.contains(&key)
    {
        metrics.push(key);
    }
    Ok(render_table(&runs, &metrics))
}

/// Finds a run by full id (or the id it had before it was copied here), or by a unique prefix
/// among the experiment's runs.
async fn resolve(tracker: &Arc<dyn Tracker>, args: &TrackerArgs, id: &str) -> Result<Run> {
    let hex = !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit());
    if hex
        && id.len() == 32
        && let Some(run) = find_run(tracker.as_ref(), id, Some(&args.experiment)).await?
    {
        return Ok(run);
    }
    let experiment = tracker.experiment(&args.experiment).await?;
    // Both stores filter on the run id, so only the matching runs are read.
    let candidates = tracker
        .search_runs(&RunSearch {
            experiment_ids: vec![experiment.experiment_id],
            filter: hex.then(|| format!("attributes.run_id LIKE '{}%'", id.to_ascii_lowercase())),
            order_by: Vec::new(),
            max_results: PREFIX_SEARCH_LIMIT,
        })
        .await?;
    let mut matching = candidates
        .into_iter()
        .filter(|r| hex && r.info.run_id.starts_with(&id.to_ascii_lowercase()));
    match (matching.next(), matching.next()) {
        (Some(run), None) => Ok(run),
        (Some(_), Some(_)) => bail!("run id prefix {id:?} is ambiguous; give more characters"),
        (None, _) => Err(anyhow::anyhow!(
            "no run {id:?} in experiment {:?} ({})",
            args.experiment,
            tracker.describe()
        ))
        .context("list the runs with `amesops runs`"),
    }
}

fn short(run_id: &str) -> &str {
    run_id.get(..8).unwrap_or(run_id)
}

/// A start time as `YYYY-MM-DD HH:MM` UTC.
pub(super) fn when(millis: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute]"
            ))
            .ok()
        })
        .unwrap_or_else(|| "-".into())
}

/// A metric value with precision that suits its size (log errors vs dollars vs counts).
fn number(value: f64) -> String {
    scaled(value, value)
}

/// `value` printed with the precision that suits `scale` (a delta is printed like its metric).
fn scaled(value: f64, scale: f64) -> String {
    let magnitude = scale.abs();
    if (value.fract() == 0.0 && scale.fract() == 0.0) || magnitude >= 1000.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.4}")
    }
}

/// Lays out rows as left-aligned columns two spaces apart.
fn columns(rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
            .max()
            .unwrap_or(0)
    };
    let count = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..count).map(width).collect();
    let mut text = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn render_table(runs: &[Run], metrics: &[String]) -> String {
    let mut header: Vec<String> = ["RUN", "NAME", "STARTED (UTC)", "STATUS"]
        .iter()
        .map(|h| h.to_string())
        .collect();
    header.extend(KEY_PARAMS.iter().map(|p| p.to_string()));
    header.extend(metrics.iter().cloned());
    let mut rows = vec![header];
    for run in runs {
        let mut row = vec![
            short(&run.info.run_id).to_string(),
            run.info.run_name.clone(),
            when(run.info.start_time),
            run.info.status.as_str().to_string(),
        ];
        row.extend(
            KEY_PARAMS
                .iter()
                .map(|p| run.params.get(*p).cloned().unwrap_or_else(|| "-".into())),
        );
        row.extend(
            metrics
                .iter()
                .map(|m| run.metric(m).map_or_else(|| "-".into(), number)),
        );
        rows.push(row);
    }
    columns(&rows)
}

/// Params side by side with `*` where they differ; metrics with deltas against the first run.
fn render_comparison(runs: &[Run]) -> String {
    let ids: Vec<String> = runs
        .iter()
        .map(|r| short(&r.info.run_id).to_string())
        .collect();
    let mut text = String::new();
    let params: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    let mut rows = vec![[vec!["PARAM".to_string()], ids.clone(), vec![String::new()]].concat()];
    for key in params {
        let values: Vec<String> = runs
            .iter()
            .map(|r| r.params.get(key).cloned().unwrap_or_else(|| "-".into()))
            .collect();
        let differs = values.iter().any(|v| *v != values[0]);
        rows.push(
            [
                vec![key.clone()],
                values,
                vec![if differs { "*".into() } else { String::new() }],
            ]
            .concat(),
        );
    }
    text.push_str(&columns(&rows));
    text.push('\n');
    let metrics: BTreeSet<&String> = runs.iter().flat_map(|r| r.metrics.keys()).collect();
    let mut rows = vec![[vec!["METRIC".to_string()], ids].concat()];
    for key in metrics {
        let base = runs[0].metric(key);
        let mut row = vec![key.clone()];
        for (i, run) in runs.iter().enumerate() {
            row.push(match (run.metric(key), base) {
                (None, _) => "-".into(),
                (Some(v), _) if i == 0 => number(v),
                (Some(v), Some(b)) => {
                    let delta = v - b;
                    let relative = if b != 0.0 {
                        format!(", {:+.1}%", delta / b.abs() * 100.0)
                    } else {
                        String::new()
                    };
                    let sign = if delta >= 0.0 { "+" } else { "" };
                    format!("{} ({sign}{}{relative})", number(v), scaled(delta, b))
                }
                (Some(v), None) => number(v),
            });
        }
        rows.push(row);
    }
    text.push_str(&columns(&rows));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_sort_key_is_an_ascending_metric() {
        assert_eq!(order_by("cv_rmse_log"), "metrics.cv_rmse_log");
        assert_eq!(order_by("cv_rmse_log DESC"), "metrics.cv_rmse_log DESC");
        assert_eq!(order_by("params.train.alpha"), "params.train.alpha");
    }

    #[test]
    fn numbers_keep_the_precision_that_matters() {
        assert_eq!(number(0.123456), "0.1235");
        assert_eq!(number(12.34567), "12.346");
        assert_eq!(number(21234.6), "21235");
        assert_eq!(number(55.0), "55");
        assert_eq!(scaled(-931.18, 14459.2), "-931");
        assert_eq!(scaled(0.00471, 0.1129), "0.0047");
    }
}
