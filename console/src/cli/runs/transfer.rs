//! `amesops runs push`, `runs pull` and `runs sync`: the local history into an MLflow server
//! (and back), and the outbox into the tracker it waits for.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;

use super::super::tracking::{self, TrackerArgs};
use crate::backend::tracker::outbox::{Outbox, ReplayEvent};
use crate::backend::tracker::transfer::{
    self, Progress, RunOutcome, TransferOptions, TransferReport, VersionOutcome,
};
use crate::backend::tracker::{self as store, TrackerUri};

/// Above this many runs, progress is a counter line now and then instead of a line per run.
const RUN_LINES_UP_TO: usize = 200;

/// Arguments of `amesops runs push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The MLflow server to copy the runs to, e.g. http://127.0.0.1:5000.
    #[arg(long, value_name = "URI")]
    pub to: String,
    /// The store the runs come from: the embedded one (.amesops/tracking.db) unless given.
    #[arg(long, value_name = "URI", default_value = "sqlite")]
    pub from: String,
    #[command(flatten)]
    pub copy: CopyArgs,
}

/// Arguments of `amesops runs pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The MLflow server to copy the runs from.
    #[arg(long, value_name = "URI")]
    pub from: String,
    /// The store the runs go to: the embedded one (.amesops/tracking.db) unless given.
    #[arg(long, value_name = "URI", default_value = "sqlite")]
    pub to: String,
    #[command(flatten)]
    pub copy: CopyArgs,
}

/// What push and pull share.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The experiment's name in the destination (default: the same as --experiment, the one
    /// copied; when the source has no experiment of that name but only one with runs, that
    /// one is copied into it).
    #[arg(long, value_name = "NAME")]
    pub to_experiment: Option<String>,
    /// Runs copied at the same time.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub jobs: usize,
    /// Only say what would be copied.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the report as JSON (every run: source and destination ids, outcome, counts;
    /// versions; the production alias).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `amesops runs sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Also send runs queued for other trackers (e.g. a server that moved) to this one.
    #[arg(long)]
    pub all: bool,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `amesops runs push`.
pub fn push(args: &PushArgs, tracking: &TrackerArgs) -> Result<ExitCode> {
    copy("push", &args.from, &args.to, &args.copy, tracking)
}

/// `amesops runs pull`.
pub fn pull(args: &PullArgs, tracking: &TrackerArgs) -> Result<ExitCode> {
    copy("pull", &args.from, &args.to, &args.copy, tracking)
}

fn copy(
    verb: &str,
    from: &str,
    to: &str,
    args: &CopyArgs,
    tracking: &TrackerArgs,
) -> Result<ExitCode> {
    let from = TrackerUri::parse(Some(from))?;
    let to = TrackerUri::parse(Some(to))?;
    if from == to {
        bail!("{verb}: --from and --to are the same store ({from}); nothing to copy");
    }
    let runtime = tracking::runtime()?;
    let source = store::open(&from).with_context(|| format!("cannot open {from}"))?;
    let destination = store::open(&to).with_context(|| format!("cannot open {to}"))?;
    let requested = tracking.experiment.clone();
    let experiment = runtime.block_on(source_experiment(source.as_ref(), &requested))?;
    let options = TransferOptions {
        destination_experiment: args.to_experiment.clone().unwrap_or(requested),
        experiment,
        jobs: args.jobs.max(1),
        dry_run: args.dry_run,
    };
    let renamed = if options.destination_experiment == options.experiment {
        String::new()
    } else {
        format!(" (as {:?})", options.destination_experiment)
    };
    eprintln!(
        "{}{verb}ing experiment {:?}: {} → {}{renamed}",
        if args.dry_run { "dry run: " } else { "" },
        options.experiment,
        source.describe(),
        destination.describe()
    );
    let started = Instant::now();
    let mut printer = ProgressPrinter::default();
    let report = runtime
        .block_on(transfer::transfer(
            source.as_ref(),
            destination.as_ref(),
            &options,
            &mut |event| printer.print(event),
        ))
        .with_context(|| format!("{verb} failed"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("{}", summary(&report, started.elapsed().as_secs_f64()));
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The experiment to copy: the one named, or, when the source has none of that name but only
/// one experiment with runs, that one (said in a line), so `--experiment NAME` can also
/// name where an embedded store's single history goes.
async fn source_experiment(source: &dyn store::Tracker, requested: &str) -> Result<String> {
    if source.find_experiment(requested).await?.is_some() {
        return Ok(requested.to_string());
    }
    let with_runs = transfer::experiments_with_runs(source).await?;
    match with_runs.as_slice() {
        [only] => {
            eprintln!(
                "{} has no experiment {requested:?}; copying its only experiment with runs, {only:?}, into {requested:?}",
                source.describe()
            );
            Ok(only.clone())
        }
        [] => Ok(requested.to_string()),
        several => bail!(
            "{} has no experiment {requested:?}; it has {}: choose one with --experiment (and --to-experiment NAME for another name in the destination)",
            source.describe(),
            several
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn summary(report: &TransferReport, seconds: f64) -> String {
    let total = report.runs.len();
    let would = if report.dry_run { "would be " } else { "" };
    let mut text = format!(
        "{total} run{}: {} {would}copied, {} {would}updated, {} up to date, {} failed",
        if total == 1 { "" } else { "s" },
        report.copied,
        report.updated,
        report.up_to_date,
        report.failed
    );
    let versions = report
        .versions
        .iter()
        .filter(|v| v.outcome == VersionOutcome::Copied)
        .count();
    if !report.versions.is_empty() {
        text.push_str(&format!("; {versions} model version(s) {would}copied"));
    }
    if let Some(alias) = &report.production {
        match (&alias.destination_version, alias.moved) {
            (Some(v), true) => text.push_str(&format!(", production {would}→ version {v}")),
            (Some(v), false) => text.push_str(&format!(", production at version {v}")),
            (None, _) => text.push_str(", production not copied (its version was not)"),
        }
    }
    text.push_str(&format!(" ({seconds:.1} s)"));
    text
}

/// Prints progress on stderr: a line per run for small histories, a counter for large ones.
#[derive(Default)]
struct ProgressPrinter {
    total: usize,
    every: usize,
    copied: usize,
    updated: usize,
    up_to_date: usize,
    failed: usize,
}

impl ProgressPrinter {
    fn print(&mut self, event: Progress<'_>) {
        match event {
            Progress::Planned { runs, present } => {
                self.total = runs;
                self.every = (runs / 20).max(1);
                eprintln!(
                    "{runs} runs in the source, {present} of them already in the destination"
                );
            }
            Progress::Run {
                done,
                total,
                report,
            } => {
                match report.outcome {
                    RunOutcome::Copied => self.copied += 1,
                    RunOutcome::Updated => self.updated += 1,
                    RunOutcome::UpToDate => self.up_to_date += 1,
                    RunOutcome::Failed => self.failed += 1,
                }
                let width = total.to_string().len();
                let detailed = total <= RUN_LINES_UP_TO || report.outcome == RunOutcome::Failed;
                if detailed {
                    let what = match report.outcome {
                        RunOutcome::Copied => "copied    ",
                        RunOutcome::Updated => "updated   ",
                        RunOutcome::UpToDate => "up to date",
                        RunOutcome::Failed => "FAILED    ",
                    };
                    let mut line = format!(
                        "[{done:>width$}/{total}] {what} {} {}",
                        short(&report.source_run_id),
                        report.run_name
                    );
                    if let Some(copy) = &report.destination_run_id
                        && copy != &report.source_run_id
                        && report.outcome != RunOutcome::UpToDate
                    {
                        line.push_str(&format!(" → {}", short(copy)));
                    }
                    if matches!(report.outcome, RunOutcome::Copied | RunOutcome::Updated)
                        && (report.metrics + report.params + report.artifacts) > 0
                    {
                        line.push_str(&format!(
                            "  ({}, {}, {}, {})",
                            plural(report.metrics, "metric value"),
                            plural(report.params, "param"),
                            plural(report.artifacts, "file"),
                            size(report.artifact_bytes)
                        ));
                    }
                    if let Some(error) = &report.error {
                        line.push_str(&format!(": {error}"));
                    }
                    eprintln!("{line}");
                } else if done % self.every == 0 || done == total {
                    eprintln!(
                        "[{done:>width$}/{total}] {} copied, {} updated, {} up to date, {} failed",
                        self.copied, self.updated, self.up_to_date, self.failed
                    );
                }
            }
            Progress::Version(version) => {
                let target = version.destination_version.as_deref().unwrap_or("-");
                let what = match version.outcome {
                    VersionOutcome::Copied => "copied",
                    VersionOutcome::UpToDate => "up to date",
                    VersionOutcome::Skipped => "skipped",
                    VersionOutcome::Failed => "FAILED",
                };
                let note = version
                    .note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default();
                eprintln!(
                    "model {} version {} → {target}: {what}{note}",
                    version.name, version.source_version
                );
            }
            Progress::Alias(alias) => eprintln!(
                "alias {}: version {} → {}{}",
                alias.alias,
                alias.source_version,
                alias
                    .destination_version
                    .as_deref()
                    .unwrap_or("(not copied)"),
                if alias.moved {
                    " (moved)"
                } else {
                    " (already there)"
                }
            ),
        }
    }
}

fn plural(count: usize, what: &str) -> String {
    format!("{count} {what}{}", if count == 1 { "" } else { "s" })
}

fn short(run_id: &str) -> &str {
    run_id.get(..8).unwrap_or(run_id)
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1 << 20))
    } else {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    }
}

/// `amesops runs sync`.
pub fn sync(args: &SyncArgs, tracking: &TrackerArgs) -> Result<ExitCode> {
    let uri = TrackerUri::parse(tracking.tracker.as_deref())?;
    let outbox = Outbox::local();
    let runtime = tracking::runtime()?;
    let tracker =
        store::open_store(&uri).with_context(|| format!("cannot open the tracker {uri}"))?;
    let waiting = if args.all {
        outbox.waiting()
    } else {
        outbox.waiting_for(&uri.to_string())
    };
    if waiting > 0 {
        eprintln!(
            "sending {waiting} queued run{} from {} to {}",
            if waiting == 1 { "" } else { "s" },
            outbox.dir().display(),
            tracker.describe()
        );
    }
    let report = runtime.block_on(outbox.replay(
        tracker.as_ref(),
        &uri.to_string(),
        args.all,
        true,
        &mut |event| match event {
            ReplayEvent::Sent {
                entry,
                tracker_run_id,
            } => {
                let started = entry
                    .create
                    .as_ref()
                    .map(|c| format!(", started {}", super::when(c.start_time)))
                    .unwrap_or_default();
                eprintln!("sent run {}{started} → {tracker_run_id}", entry.run_id);
            }
            ReplayEvent::Kept { entry, error } => {
                eprintln!("kept run {}: {error}", entry.run_id);
            }
        },
    ))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.sent == 0 && report.kept == 0 {
        println!(
            "nothing waits in {} for {}",
            outbox.dir().display(),
            tracker.describe()
        );
    } else {
        println!(
            "{} run{} sent, {} still waiting{}",
            report.sent,
            if report.sent == 1 { "" } else { "s" },
            report.kept,
            report
                .unreachable
                .as_deref()
                .map(
                    |_| " (the tracker is still out of reach; run `amesops runs sync` again later)"
                )
                .unwrap_or_default()
        );
    }
    for (other, count) in &report.other_trackers {
        eprintln!(
            "{count} run{} wait{} for another tracker, {other}: `amesops runs sync --tracker {other}` (or --all to send {} here)",
            if *count == 1 { "" } else { "s" },
            if *count == 1 { "s" } else { "" },
            if *count == 1 { "it" } else { "them" },
        );
    }
    Ok(if report.kept == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
