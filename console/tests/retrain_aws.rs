//! `amesops retrain` on the aws target, against a real moto server: the same gate as on the
//! local target decides, and the Lambda alias `live` moves only when the gate passes.
//!
//! The pipeline runs through `dvc repro` up to `package`; the package stage ships a stand-in
//! bootstrap (`AMESOPS_BOOTSTRAP=/bin/true`: moto never runs it) zipped with the real model.
//! moto answers the deploy's smoke test from a queue; the replies are the predictor's real
//! Lambda handler's answers for the model the pipeline just trained.
//! Needs `dvc`, `git` and `moto_server` on PATH (scripts/test provides them).

#![cfg(all(feature = "aws", target_arch = "x86_64"))]
#![allow(clippy::unwrap_used)]

mod deploy_support;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::aws::aws_env;
use crate::support::servers::{MotoServer, find_tool};
use deploy_support::{
    lambda_client, live_version, moto_without_docker, published_versions, queue_smoke_replies,
    smoke_replies,
};
use serde_json::Value as Json;
use support::{BIN, Repo};

const FUNCTION: &str = "amesops-predictor";

struct AwsProject {
    repo: Repo,
    moto: MotoServer,
}

/// One finished command: exit code, stdout, and everything for a failure message.
struct Ran {
    code: Option<i32>,
    stdout: String,
    report: String,
}

impl AwsProject {
    fn new() -> AwsProject {
        let moto = moto_without_docker();
        AwsProject {
            repo: Repo::pipeline(),
            moto,
        }
    }

    /// Runs `program` in the project with the aws target pointed at moto.
    fn run(&self, program: &Path, args: &[&str]) -> Ran {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.repo.path())
            .stdin(Stdio::null())
            .env("AMESOPS_BIN", BIN)
            .env("AMESOPS_TARGET", "aws")
            .env("AMESOPS_BOOTSTRAP", "/bin/true")
            .env("DVC_NO_ANALYTICS", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("MLFLOW_TRACKING_URI")
            .env_remove("AMESOPS_TRACKER");
        for (name, value) in aws_env(&self.moto.endpoint()) {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let report = format!(
            "{} {}\nexit: {:?}\nstdout:\n{stdout}\nstderr:\n{}\nmoto:\n{}",
            program.display(),
            args.join(" "),
            output.status.code(),
            String::from_utf8_lossy(&output.stderr),
            self.moto.log_tail(2000)
        );
        Ran {
            code: output.status.code(),
            stdout,
            report,
        }
    }

    fn set_alpha(&self, alpha: &str) {
        let text = String::from_utf8(self.repo.read("params.yaml")).unwrap();
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("alpha:"))
            .unwrap()
            .to_string();
        self.repo
            .replace("params.yaml", &line, &format!("  alpha: {alpha}"));
    }

    /// Runs the pipeline up to `package` (what retrain will find up to date) and queues the
    /// smoke-test replies of the model it trained; returns the model.
    async fn train_and_queue_replies(&self) -> Vec<u8> {
        let ran = self.run(&find_tool("dvc"), &["repro", "package"]);
        assert_eq!(ran.code, Some(0), "{}", ran.report);
        let model = self.repo.read("models/model.json");
        queue_smoke_replies(&self.moto, smoke_replies(&model).await);
        model
    }

    fn retrain(&self, extra: &[&str]) -> (Option<i32>, Json, String) {
        let mut args = vec!["retrain", "--yes", "--json"];
        args.extend_from_slice(extra);
        let ran = self.run(Path::new(BIN), &args);
        let json = serde_json::from_str(ran.stdout.trim())
            .unwrap_or_else(|e| panic!("report is not JSON ({e}):\n{}", ran.report));
        (ran.code, json, ran.report)
    }

    /// The version alias `live` points at.
    async fn live_version(&self) -> String {
        live_version(&self.moto, FUNCTION).await
    }

    /// The model id the live version was deployed with (its MODEL_SHA256, shortened).
    async fn live_model(&self) -> String {
        let function = lambda_client(&self.moto)
            .await
            .get_function_configuration()
            .function_name(FUNCTION)
            .qualifier("live")
            .send()
            .await
            .unwrap();
        let env = function.environment().unwrap().variables().unwrap();
        env["MODEL_SHA256"][..12].to_string()
    }

    async fn published_versions(&self) -> usize {
        published_versions(&self.moto, FUNCTION).await.len()
    }
}

#[tokio::test]
async fn on_aws_the_alias_moves_only_when_the_gate_passes() {
    let project = AwsProject::new();

    // Nothing in production yet: the first model passes and is deployed as version 1.
    project.set_alpha("0.005");
    let first = project.train_and_queue_replies().await;
    let (code, report, text) = project.retrain(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["decision"], "deployed", "{text}");
    assert_eq!(report["deployed"]["version"], "1", "{text}");
    assert_eq!(project.live_version().await, "1");
    assert_eq!(
        project.live_model().await,
        core_model::artifact::model_id(&first)
    );

    // A better model passes: version 2, the alias follows.
    project.set_alpha("0.0005");
    let better = project.train_and_queue_replies().await;
    let (code, report, text) = project.retrain(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["decision"], "deployed", "{text}");
    assert!(
        report["candidate_rmse_log"].as_f64().unwrap()
            <= report["production_rmse_log"].as_f64().unwrap() + 0.002,
        "{text}"
    );
    assert_eq!(project.live_version().await, "2");
    let production = core_model::artifact::model_id(&better);
    assert_eq!(project.live_model().await, production);

    // A worse model is refused (exit 3): nothing published, the alias stays.
    project.set_alpha("0.05");
    let ran = project.run(find_tool("dvc").as_path(), &["repro", "package"]);
    assert_eq!(ran.code, Some(0), "{}", ran.report);
    let (code, report, text) = project.retrain(&[]);
    assert_eq!(code, Some(3), "a worse model exits with code 3:\n{text}");
    assert_eq!(report["decision"], "refused_worse", "{text}");
    assert_eq!(report["production_model"], production.as_str(), "{text}");
    assert_eq!(project.published_versions().await, 2, "nothing published");
    assert_eq!(project.live_version().await, "2");
    assert_eq!(project.live_model().await, production);

    // Overridden, it goes out as version 3.
    let worse = project.repo.read("models/model.json");
    queue_smoke_replies(&project.moto, smoke_replies(&worse).await);
    let (code, report, text) = project.retrain(&["--allow-worse"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["decision"], "deployed", "{text}");
    assert_eq!(project.live_version().await, "3");
    assert_eq!(
        project.live_model().await,
        core_model::artifact::model_id(&worse)
    );

    // Unchanged: nothing retrained, nothing published.
    let (code, report, text) = project.retrain(&[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(report["decision"], "nothing_changed", "{text}");
    assert_eq!(project.published_versions().await, 3);
}
