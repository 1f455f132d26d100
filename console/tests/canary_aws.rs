//! `amesops deploy --canary PCT --watch D` against a real moto server: the canary's alarms are
//! created with the right metrics and dimensions; a watch whose alarms stay OK promotes the
//! canary (after replaying stored requests through it, since moto's Lambda publishes no
//! `Invocations`); an alarm set to ALARM mid-watch (moto's `SetAlarmState`) rolls the alias
//! back and exits 6 naming the alarm; an interrupted watch leaves the alias as `status`
//! reports it (rolled back, or resumable and resumed with `deploy --resume`).
//!
//! Short watches and a fast poll; nothing is asserted about time.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod deploy_support;
mod support;

use crate::support::aws::{aws_env, aws_loader};
use crate::support::fixtures::project_root;
use crate::support::servers::MotoServer;
use deploy_support::{
    lambda_client, live_version, moto_without_docker, queue_smoke_replies, smoke_replies,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_amesops");
const FUNCTION: &str = "amesops-predictor";
const BUCKET: &str = "amesops-predictions";

struct Project {
    dir: tempfile::TempDir,
    moto: MotoServer,
}

impl Project {
    fn new(canary: &str) -> Project {
        let moto = moto_without_docker();
        let dir = tempfile::tempdir().unwrap();
        // The gate's shadow replay has its own tests (shadow.rs): here it must not stand
        // between the canary and its watch.
        let params = std::fs::read_to_string(project_root().join("params.yaml")).unwrap();
        let limit = params
            .lines()
            .find(|l| l.trim_start().starts_with("max_shadow_p99_change:"))
            .unwrap()
            .to_string();
        std::fs::write(
            dir.path().join("params.yaml"),
            params.replace(&limit, "  max_shadow_p99_change: 100.0"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("amesops.toml"),
            format!("[canary]\npoll = \"200ms\"\nmin_requests = 3\nreplay = 4\n{canary}"),
        )
        .unwrap();
        let project = Project { dir, moto };
        project.succeed(&["fetch"]);
        project.succeed(&["split"]);
        project
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .env("AMESOPS_TARGET", "aws")
            .env_remove("AWS_PROFILE")
            .env_remove("MLFLOW_TRACKING_URI")
            .env_remove("AMESOPS_TRACKER")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for (name, value) in aws_env(&self.moto.endpoint()) {
            command.env(name, value);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn succeed(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{}", self.describe(args, &output));
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr)
    }

    fn describe(&self, args: &[&str], output: &Output) -> String {
        format!(
            "amesops {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}\nmoto:\n{}",
            args.join(" "),
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.moto.log_tail(2000)
        )
    }

    /// Trains `models/model.json` (estimator `model`, lasso `alpha`), packages it with a
    /// stand-in bootstrap and queues the smoke test's replies for it.
    async fn candidate(&self, model: &str, alpha: f64) -> String {
        let mut params = std::fs::read_to_string(self.path("params.yaml")).unwrap();
        for (key, value) in [("model", model.to_string()), ("alpha", alpha.to_string())] {
            let line = params
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{key}:")))
                .unwrap()
                .to_string();
            params = params.replace(&line, &format!("  {key}: {value}"));
        }
        std::fs::write(self.path("params.yaml"), params).unwrap();
        let data = project_root().join("datasets/ames.csv");
        self.succeed(&[
            "train",
            "--data",
            data.to_str().unwrap(),
            "--out",
            "models/model.json",
        ]);
        let mut args = vec!["package", "--bootstrap", "/bin/true"];
        if cfg!(target_arch = "aarch64") {
            args.push("--arm64");
        }
        self.succeed(&args);
        let bytes = std::fs::read(self.path("models/model.json")).unwrap();
        queue_smoke_replies(&self.moto, smoke_replies(&bytes).await);
        core_model::artifact::model_id(&bytes)
    }

    async fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&aws_loader(&self.moto.endpoint()).load().await)
    }

    /// Stored production requests in the bucket, as the function writes them.
    async fn store_requests(&self, n: usize) {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&aws_loader(&self.moto.endpoint()).load().await)
                .force_path_style(true)
                .build(),
        );
        let table = core_model::Table::read(
            std::fs::File::open(project_root().join("datasets/ames.csv")).unwrap(),
        )
        .unwrap();
        let now = time::OffsetDateTime::now_utc();
        for (i, row) in table.records.iter().take(n).enumerate() {
            let id = format!("00000000-0000-4000-8000-{i:012}");
            let record = predictor::record::PredictionRecord {
                id: id.clone(),
                timestamp: predictor::record::rfc3339_micros(now),
                model_id: "old".to_string(),
                input: Value::Object(row.house.to_json()),
                imputed: Vec::new(),
                unknown_levels: Vec::new(),
                out_of_range: Vec::new(),
                price: 180_000.0,
                interval: None,
                latency_us: 100,
                source_ip: None,
                source: predictor::record::Source::Api,
            };
            s3.put_object()
                .bucket(BUCKET)
                .key(predictor::record::record_key(
                    now + time::Duration::microseconds(i as i64),
                    &id,
                ))
                .body(serde_json::to_vec(&record).unwrap().into())
                .send()
                .await
                .unwrap();
        }
    }

    async fn alias(&self) -> (String, Option<(String, f64)>) {
        let alias = lambda_client(&self.moto)
            .await
            .get_alias()
            .function_name(FUNCTION)
            .name("live")
            .send()
            .await
            .unwrap();
        let routing = alias
            .routing_config()
            .and_then(|r| r.additional_version_weights())
            .and_then(|w| w.iter().next().map(|(v, w)| (v.clone(), *w)));
        (alias.function_version().unwrap().to_string(), routing)
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.succeed_stdout(&["status", "--json"])).unwrap()
    }

    fn succeed_stdout(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(output.status.success(), "{}", self.describe(args, &output));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the watch of `version` has created its alarms (it polls them from then on).
    async fn wait_for_alarms(&self, version: &str, child: &mut Child) {
        let cloudwatch = self.cloudwatch().await;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let found = cloudwatch
                .describe_alarms()
                .alarm_name_prefix(format!("{FUNCTION}-canary-v{version}-"))
                .send()
                .await
                .unwrap();
            if found.metric_alarms().len() == 5
                && std::fs::read(self.path(".amesops/canary.json")).is_ok()
            {
                return;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the watch ended before its alarms existed: {status}");
            }
            assert!(Instant::now() < deadline, "no alarms for version {version}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Waits for a child with a generous bound (so a broken watch fails instead of hanging).
fn finish(child: Child) -> Output {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(300))
        .expect("the watch did not end")
        .unwrap()
}

fn dimensions(alarm: &aws_sdk_cloudwatch::types::MetricAlarm) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = alarm
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_string(),
                d.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    found.sort();
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_are_created_for_the_canary_and_a_watch_with_every_alarm_ok_promotes_it() {
    let project = Project::new("");
    project.candidate("linear", 0.002).await;
    project.succeed(&["deploy", "--yes"]);
    project.store_requests(6).await;
    let second = project.candidate("blend", 0.0005).await;

    let out = project.succeed(&["deploy", "--canary", "10", "--watch", "2s", "--yes"]);
    assert!(out.contains("canary promoted"), "{out}");
    assert!(out.contains("replaying 4 recent stored requests"), "{out}");
    assert_eq!(project.alias().await, ("2".to_string(), None));
    assert_eq!(live_version(&project.moto, FUNCTION).await, "2");

    let alarms = project
        .cloudwatch()
        .await
        .describe_alarms()
        .alarm_name_prefix(format!("{FUNCTION}-canary-v2-"))
        .send()
        .await
        .unwrap();
    let alarm = |suffix: &str| {
        alarms
            .metric_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(&format!("{FUNCTION}-canary-v2-{suffix}")))
            .unwrap_or_else(|| panic!("no {suffix} alarm: {alarms:?}"))
            .clone()
    };
    let lambda = vec![
        ("ExecutedVersion".to_string(), "2".to_string()),
        ("FunctionName".to_string(), FUNCTION.to_string()),
        ("Resource".to_string(), format!("{FUNCTION}:live")),
    ];
    for (suffix, metric) in [("errors", "Errors"), ("throttles", "Throttles")] {
        let a = alarm(suffix);
        assert_eq!(a.namespace(), Some("AWS/Lambda"));
        assert_eq!(a.metric_name(), Some(metric));
        assert_eq!(a.statistic().map(|s| s.as_str()), Some("Sum"));
        assert_eq!(dimensions(&a), lambda, "{suffix}");
        assert_eq!(a.treat_missing_data(), Some("notBreaching"));
    }
    let duration = alarm("duration-p99");
    assert_eq!(duration.metric_name(), Some("Duration"));
    assert_eq!(duration.extended_statistic(), Some("p99"));
    assert_eq!(dimensions(&duration), lambda);
    assert_eq!(duration.threshold(), Some(1000.0));
    let model = vec![("model_id".to_string(), second.clone())];
    for (suffix, metric, threshold) in [
        ("not-stored", "not_stored", 0.01),
        ("price-shift", "price_shift", 0.10),
    ] {
        let a = alarm(suffix);
        assert_eq!(a.namespace(), Some("amesops"), "{suffix}");
        assert_eq!(a.metric_name(), Some(metric));
        assert_eq!(a.statistic().map(|s| s.as_str()), Some("Average"));
        assert_eq!(dimensions(&a), model, "{suffix}");
        assert_eq!(a.threshold(), Some(threshold));
    }

    let status = project.status();
    assert_eq!(status["canary"]["state"], "promoted", "{status}");
    assert_eq!(status["canary"]["version"], "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_in_alarm_mid_watch_rolls_the_alias_back_and_exits_naming_it() {
    let project = Project::new("");
    project.candidate("linear", 0.002).await;
    project.succeed(&["deploy", "--yes"]);
    project.candidate("blend", 0.0005).await;

    let mut child = project.spawn(&["deploy", "--canary", "20", "--watch", "10m", "--yes"]);
    project.wait_for_alarms("2", &mut child).await;
    assert_eq!(
        project.alias().await,
        ("1".to_string(), Some(("2".to_string(), 0.2)))
    );
    let name = format!("{FUNCTION}-canary-v2-errors");
    project
        .cloudwatch()
        .await
        .set_alarm_state()
        .alarm_name(&name)
        .state_value(aws_sdk_cloudwatch::types::StateValue::Alarm)
        .state_reason("Threshold Crossed: 3 datapoints were greater than the threshold (0.0)")
        .send()
        .await
        .unwrap();
    let output = finish(child);
    let text = project.describe(&["deploy", "--canary", "20", "--watch", "10m"], &output);
    assert_eq!(output.status.code(), Some(6), "{text}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&name), "{text}");
    assert!(stderr.contains("Threshold Crossed: 3 datapoints"), "{text}");
    assert_eq!(project.alias().await, ("1".to_string(), None));

    let status = project.status();
    assert_eq!(status["canary"]["state"], "rolled_back", "{status}");
    assert_eq!(status["canary"]["reason"], json!(format!("alarm {name}")));
    assert_eq!(status["deployment"]["alias_version"], "1", "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_watch_leaves_the_alias_as_status_reports_it() {
    // Default: an interrupted watch stops the canary.
    let project = Project::new("");
    project.candidate("linear", 0.002).await;
    project.succeed(&["deploy", "--yes"]);
    project.candidate("blend", 0.0005).await;
    let mut child = project.spawn(&["deploy", "--canary", "10", "--watch", "10m", "--yes"]);
    project.wait_for_alarms("2", &mut child).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = finish(child);
    assert_eq!(
        output.status.code(),
        Some(6),
        "{}",
        project.describe(&["deploy"], &output)
    );
    assert_eq!(project.alias().await, ("1".to_string(), None));
    let status = project.status();
    assert_eq!(status["canary"]["state"], "rolled_back", "{status}");
    assert_eq!(status["canary"]["alias_routes_canary"], false);
    let resumed = project.run(&["deploy", "--resume"]);
    assert!(!resumed.status.success());
    assert!(
        String::from_utf8_lossy(&resumed.stderr).contains("nothing to resume"),
        "{}",
        project.describe(&["deploy", "--resume"], &resumed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_on_interrupt_resume_the_canary_keeps_its_share_and_deploy_resume_finishes_it() {
    let project = Project::new("on_interrupt = \"resume\"\n");
    project.candidate("linear", 0.002).await;
    project.succeed(&["deploy", "--yes"]);
    project.store_requests(4).await;
    project.candidate("blend", 0.0005).await;
    let mut child = project.spawn(&["deploy", "--canary", "10", "--watch", "4s", "--yes"]);
    project.wait_for_alarms("2", &mut child).await;
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = finish(child);
    assert_eq!(
        output.status.code(),
        Some(6),
        "{}",
        project.describe(&["deploy"], &output)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("deploy --resume"),
        "{}",
        project.describe(&["deploy"], &output)
    );
    assert_eq!(
        project.alias().await,
        ("1".to_string(), Some(("2".to_string(), 0.1)))
    );
    let status = project.status();
    assert_eq!(status["canary"]["state"], "resumable", "{status}");
    assert_eq!(status["canary"]["alias_routes_canary"], true);
    assert_eq!(status["deployment"]["routing"], json!(["2", 0.1]));

    let out = project.succeed(&["deploy", "--resume"]);
    assert!(out.contains("canary promoted"), "{out}");
    assert_eq!(project.alias().await, ("2".to_string(), None));
    assert_eq!(project.status()["canary"]["state"], "promoted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_with_too_few_requests_and_nothing_to_replay_is_not_promoted_without_promote_anyway()
 {
    let project = Project::new("");
    project.candidate("linear", 0.002).await;
    project.succeed(&["deploy", "--yes"]);
    project.candidate("blend", 0.0005).await;
    let args = ["deploy", "--canary", "10", "--watch", "1s", "--yes"];
    let output = project.run(&args);
    let text = project.describe(&args, &output);
    assert_eq!(output.status.code(), Some(6), "{text}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--promote-anyway"),
        "{text}"
    );
    assert_eq!(project.alias().await, ("1".to_string(), None));
    assert_eq!(project.status()["canary"]["state"], "rolled_back");

    // The same version again, promoted on the operator's word.
    queue_smoke_replies(
        &project.moto,
        smoke_replies(&std::fs::read(project.path("models/model.json")).unwrap()).await,
    );
    let out = project.succeed(&[
        "deploy",
        "--canary",
        "10",
        "--watch",
        "1s",
        "--promote-anyway",
        "--yes",
    ]);
    assert!(out.contains("canary promoted"), "{out}");
    assert_eq!(project.alias().await, ("2".to_string(), None));
}
