//! `amesops deploy`, `rollback`, `status` and `destroy` on the aws target, against a real moto
//! server (AWS APIs on 127.0.0.1; `moto_server` on PATH, which scripts/test provides).
//!
//! moto does not run Lambda code: with `use_docker` off, an invocation answers with the next
//! queued reply. The smoke test's replies are produced here by the predictor's real Lambda
//! handler (lambda_http + the router) from the same model artifact, so a passing deploy means
//! the deployer accepted exactly what the real function would answer. The zip's bootstrap is a
//! stand-in executable (moto never starts it); building the real one is `image_push.rs`'s job.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

mod deploy_support;

use crate::support::aws::{aws_env, aws_loader};
use crate::support::fixtures::project_root;
use crate::support::servers::MotoServer;
use deploy_support::{
    Registry, lambda_client, live_version, moto_without_docker, published_versions,
    queue_smoke_replies, smoke_replies,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_amesops");
const FUNCTION: &str = "amesops-predictor";
const ROLE: &str = "amesops-predictor-role";
const BUCKET: &str = "amesops-predictions";
const API: &str = "amesops-api";

/// A project folder with its own moto server.
struct Project {
    dir: tempfile::TempDir,
    moto: MotoServer,
}

impl Project {
    fn new() -> Project {
        let moto = moto_without_docker();
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            project_root().join("params.yaml"),
            dir.path().join("params.yaml"),
        )
        .unwrap();
        let project = Project { dir, moto };
        // The gate scores each candidate against production on the held-out rows.
        project.succeed(&["fetch"]);
        project.succeed(&["split"]);
        project
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn command(&self, args: &[&str]) -> Output {
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
        command.output().unwrap()
    }

    fn succeed(&self, args: &[&str]) -> String {
        let output = self.command(args);
        assert!(
            output.status.success(),
            "{}",
            describe(args, &output, &self.moto)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr)
    }

    fn stdout(&self, args: &[&str]) -> String {
        let output = self.command(args);
        assert!(
            output.status.success(),
            "{}",
            describe(args, &output, &self.moto)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn fail(&self, args: &[&str]) -> String {
        let output = self.command(args);
        assert!(
            !output.status.success(),
            "expected a failure:\n{}",
            describe(args, &output, &self.moto)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// Trains `models/model.json` with the estimator `model` and the lasso's `alpha`; returns
    /// the artifact. A linear model with a larger alpha is clearly worse than the default
    /// blend, which keeps the gate's verdicts predictable.
    fn train(&self, model: &str, alpha: f64) -> Vec<u8> {
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
        std::fs::read(self.path("models/model.json")).unwrap()
    }

    /// `amesops package` with a stand-in bootstrap.
    fn package(&self) {
        let mut args = vec!["package", "--bootstrap", "/bin/true"];
        if cfg!(target_arch = "aarch64") {
            args.push("--arm64");
        }
        self.succeed(&args);
    }

    /// Queues the replies the function gives to the smoke test's two invocations.
    fn queue_replies(&self, replies: [String; 2]) {
        queue_smoke_replies(&self.moto, replies);
    }

    fn record(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.path("deploy.json")).unwrap()).unwrap()
    }

    async fn lambda(&self) -> aws_sdk_lambda::Client {
        lambda_client(&self.moto).await
    }

    async fn alias_version(&self) -> String {
        live_version(&self.moto, FUNCTION).await
    }

    async fn versions(&self) -> Vec<String> {
        published_versions(&self.moto, FUNCTION).await
    }

    async fn apis(&self) -> Vec<aws_sdk_apigatewayv2::types::Api> {
        let client =
            aws_sdk_apigatewayv2::Client::new(&aws_loader(&self.moto.endpoint()).load().await);
        client.get_apis().send().await.unwrap().items().to_vec()
    }
}

fn describe(args: &[&str], output: &Output, moto: &MotoServer) -> String {
    format!(
        "amesops {}\nexit: {:?}\nstdout:\n{}\nstderr:\n{}\nmoto:\n{}",
        args.join(" "),
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        moto.log_tail(3000)
    )
}

#[tokio::test]
async fn deploys_redeploys_rolls_back_and_destroys() {
    let project = Project::new();
    let first = project.train("linear", 0.002);
    project.package();

    // Without --yes and without a terminal, nothing happens.
    let refused = project.fail(&["deploy"]);
    assert!(refused.contains("--yes"), "{refused}");

    project.queue_replies(smoke_replies(&first).await);
    let out = project.succeed(&["deploy", "--yes"]);
    for step in [
        "creating execution role",
        "creating bucket",
        "creating Lambda function",
        "published version 1",
        "smoke test passed",
        "creating alias live",
        "creating HTTP API",
        "registered ames-price version 1 as production",
    ] {
        assert!(out.contains(step), "no step {step:?} in:\n{out}");
    }
    let record = project.record();
    assert_eq!(record["version"], "1");
    assert_eq!(record["alias"], "live");
    let api_id = record["api_id"].as_str().unwrap().to_string();
    let url = record["url"].as_str().unwrap().to_string();
    assert!(out.contains(&url), "the URL is printed:\n{out}");
    assert_eq!(
        record["model_id"].as_str().unwrap(),
        &core_model::digest::sha256_hex(&first)[..12]
    );

    let config = aws_loader(&project.moto.endpoint()).load().await;
    let iam = aws_sdk_iam::Client::new(&config);
    let role = iam.get_role().role_name(ROLE).send().await.unwrap();
    assert!(
        role.role()
            .unwrap()
            .assume_role_policy_document()
            .unwrap()
            .contains("lambda.amazonaws.com")
    );
    let policy = iam
        .get_role_policy()
        .role_name(ROLE)
        .policy_name("amesops-predictor")
        .send()
        .await
        .unwrap();
    let policy = urlencoding_decode(policy.policy_document());
    assert!(
        policy.contains(&format!("arn:aws:s3:::{BUCKET}/predictions/*")),
        "{policy}"
    );
    assert!(
        !policy.contains("s3:GetObject") && !policy.contains("\"*\""),
        "{policy}"
    );
    let s3 = crate::support::aws::s3_client_from(&config);
    s3.head_bucket().bucket(BUCKET).send().await.unwrap();
    let function = project
        .lambda()
        .await
        .get_function_configuration()
        .function_name(FUNCTION)
        .qualifier("1")
        .send()
        .await
        .unwrap();
    let env = function.environment().unwrap().variables().unwrap();
    assert_eq!(env["MODEL_SHA256"], core_model::digest::sha256_hex(&first));
    assert_eq!(env["MODEL_PATH"], "/var/task/model.json");
    assert_eq!(env["PREDICTIONS_BUCKET"], BUCKET);
    assert_eq!(env["AWS_LAMBDA_LOG_FORMAT"], "JSON");
    assert_eq!(project.alias_version().await, "1");
    let apis = project.apis().await;
    assert_eq!(apis.len(), 1);
    assert_eq!(apis[0].name(), Some(API));
    let apigw = aws_sdk_apigatewayv2::Client::new(&config);
    let routes = apigw.get_routes().api_id(&api_id).send().await.unwrap();
    let mut keys: Vec<&str> = routes
        .items()
        .iter()
        .filter_map(|r| r.route_key())
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "GET /",
            "GET /assets/{file}",
            "GET /health",
            "GET /model",
            "POST /predict",
            "POST /predict/batch",
            "POST /sales"
        ]
    );
    let integrations = apigw
        .get_integrations()
        .api_id(&api_id)
        .send()
        .await
        .unwrap();
    assert!(
        integrations.items()[0]
            .integration_uri()
            .unwrap()
            .ends_with(&format!(":function:{FUNCTION}:live"))
    );
    assert_eq!(
        integrations.items()[0].payload_format_version(),
        Some("2.0")
    );

    // Retrained with another parameter (a better model): version 2 behind the same API.
    let second = project.train("blend", 0.0005);
    assert_ne!(first, second);
    project.package();
    project.queue_replies(smoke_replies(&second).await);
    let out = project.succeed(&["deploy", "--yes"]);
    assert!(out.contains("published version 2"), "{out}");
    assert!(out.contains("moving alias live: version 1 -> 2"), "{out}");
    assert_eq!(project.alias_version().await, "2");
    assert_eq!(project.record()["version"], "2");
    assert_eq!(project.record()["api_id"], api_id.as_str());
    assert_eq!(project.record()["url"], url.as_str());
    assert_eq!(project.apis().await.len(), 1);

    let status: Value = serde_json::from_str(&project.stdout(&["status", "--json"])).unwrap();
    assert_eq!(status["deployment"]["alias_version"], "2", "{status}");
    assert_eq!(
        status["deployment"]["versions"].as_array().unwrap().len(),
        2,
        "{status}"
    );

    // Rollback moves the alias back; the tracker follows.
    let out = project.succeed(&["rollback", "--yes"]);
    assert!(out.contains("version 2 -> 1"), "{out}");
    assert!(
        out.contains("tracker: production is back at version 1"),
        "{out}"
    );
    assert_eq!(project.alias_version().await, "1");
    assert_eq!(project.record()["version"], "1");

    // Destroy leaves nothing behind but the bucket.
    project.succeed(&["destroy", "--yes"]);
    let gone = project
        .lambda()
        .await
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await;
    assert!(gone.is_err(), "the function is gone");
    assert!(project.apis().await.is_empty(), "the API is gone");
    assert!(
        iam.get_role().role_name(ROLE).send().await.is_err(),
        "the role is gone"
    );
    s3.head_bucket().bucket(BUCKET).send().await.unwrap();
    assert!(!project.path("deploy.json").exists());
}

#[tokio::test]
async fn a_second_deploy_of_the_same_package_publishes_nothing() {
    let project = Project::new();
    let model = project.train("blend", 0.0005);
    project.package();
    project.queue_replies(smoke_replies(&model).await);
    project.succeed(&["deploy", "--yes"]);
    let api = project.record()["api_id"].clone();

    project.package();
    let out = project.succeed(&["deploy", "--yes"]);
    assert!(out.contains("nothing to publish"), "{out}");
    assert!(out.contains("unchanged"), "{out}");
    assert_eq!(project.versions().await, ["1"]);
    assert_eq!(project.alias_version().await, "1");
    assert_eq!(project.record()["api_id"], api);
}

#[tokio::test]
async fn a_failed_smoke_test_leaves_the_alias_on_the_old_version() {
    let project = Project::new();
    let first = project.train("linear", 0.004);
    project.package();
    project.queue_replies(smoke_replies(&first).await);
    project.succeed(&["deploy", "--yes"]);

    // The new version answers /health correctly but prices like the old model.
    let second = project.train("blend", 0.0005);
    project.package();
    let [health, _] = smoke_replies(&second).await;
    let [_, old_price] = smoke_replies(&first).await;
    project.queue_replies([health, old_price]);
    let error = project.fail(&["deploy", "--yes"]);
    assert!(error.contains("smoke test of version 2 failed"), "{error}");
    assert!(error.contains("core-model says"), "{error}");
    assert!(error.contains("alias live was not moved"), "{error}");
    assert_eq!(
        error
            .trim()
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count(),
        1,
        "{error}"
    );
    assert_eq!(project.alias_version().await, "1");
    assert_eq!(project.record()["version"], "1");

    // A reply naming another model fails at /health.
    let [other_health, _] = smoke_replies(&first).await;
    project.queue_replies([other_health.clone(), other_health]);
    let error = project.fail(&["deploy", "--yes"]);
    assert!(
        error.contains("GET /health answered 200 naming model"),
        "{error}"
    );
    assert_eq!(project.alias_version().await, "1");
}

#[tokio::test]
async fn an_alias_on_a_version_without_model_sha256_refuses_without_allow_unverified() {
    let project = Project::new();
    let first = project.train("linear", 0.002);
    project.package();
    project.queue_replies(smoke_replies(&first).await);
    project.succeed(&["deploy", "--yes"]);

    // Someone publishes a version by hand (no MODEL_SHA256) and points the alias at it.
    let lambda = project.lambda().await;
    let mut variables = lambda
        .get_function_configuration()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap()
        .environment()
        .unwrap()
        .variables()
        .unwrap()
        .clone();
    variables.remove("MODEL_SHA256");
    lambda
        .update_function_configuration()
        .function_name(FUNCTION)
        .environment(
            aws_sdk_lambda::types::Environment::builder()
                .set_variables(Some(variables))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let published = lambda
        .publish_version()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    let manual = published.version().unwrap().to_string();
    lambda
        .update_alias()
        .function_name(FUNCTION)
        .name("live")
        .function_version(&manual)
        .send()
        .await
        .unwrap();

    // A better model cannot be compared with what is live: refused, the alias stays.
    let second = project.train("blend", 0.0005);
    project.package();
    let output = project.command(&["deploy", "--yes"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}",
        describe(&["deploy", "--yes"], &output, &project.moto)
    );
    assert!(
        stderr.contains("MODEL_SHA256") && stderr.contains("--allow-unverified"),
        "{stderr}"
    );
    assert_eq!(project.alias_version().await, manual);
    assert_eq!(project.versions().await.len(), 2, "nothing published");

    // The explicit override deploys it.
    project.queue_replies(smoke_replies(&second).await);
    let out = project.succeed(&["deploy", "--yes", "--allow-unverified"]);
    assert!(out.contains("overridden"), "{out}");
    assert_ne!(project.alias_version().await, manual);
}

#[tokio::test]
async fn a_canary_takes_a_share_then_all_of_the_traffic() {
    let project = Project::new();
    std::fs::write(project.path("amesops.toml"), "[aws]\napi_auth = \"iam\"\n").unwrap();
    let first = project.train("linear", 0.002);
    project.package();
    project.queue_replies(smoke_replies(&first).await);
    project.succeed(&["deploy", "--yes"]);

    let second = project.train("blend", 0.0005);
    project.package();
    project.queue_replies(smoke_replies(&second).await);
    let out = project.succeed(&["deploy", "--canary", "10", "--yes"]);
    assert!(out.contains("canary running: 10% "), "{out}");
    let alias = project
        .lambda()
        .await
        .get_alias()
        .function_name(FUNCTION)
        .name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(alias.function_version(), Some("1"));
    let weights = alias
        .routing_config()
        .unwrap()
        .additional_version_weights()
        .unwrap();
    assert_eq!(weights.get("2"), Some(&0.1));
    let status: Value = serde_json::from_str(&project.stdout(&["status", "--json"])).unwrap();
    assert_eq!(
        status["deployment"]["routing"],
        json!(["2", 0.1]),
        "{status}"
    );

    // api_auth = "iam": prediction routes need SigV4, health and model stay open.
    let apigw =
        aws_sdk_apigatewayv2::Client::new(&aws_loader(&project.moto.endpoint()).load().await);
    let api = project.record()["api_id"].as_str().unwrap().to_string();
    let routes = apigw.get_routes().api_id(&api).send().await.unwrap();
    for route in routes.items() {
        let key = route.route_key().unwrap();
        let expected = if key.starts_with("POST /predict") || key == "POST /sales" {
            "AWS_IAM"
        } else {
            "NONE"
        };
        assert_eq!(
            route.authorization_type().map(|a| a.as_str()),
            Some(expected),
            "{key}"
        );
    }

    // Promoting reuses the canary's version after smoke-testing it again.
    project.queue_replies(smoke_replies(&second).await);
    let out = project.succeed(&["deploy", "--yes"]);
    assert!(
        out.contains("version 2 already holds this package"),
        "{out}"
    );
    assert_eq!(project.alias_version().await, "2");
    assert_eq!(project.versions().await, ["1", "2"]);
    let alias = project
        .lambda()
        .await
        .get_alias()
        .function_name(FUNCTION)
        .name("live")
        .send()
        .await
        .unwrap();
    let weights = alias
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .map(|w| w.len())
        .unwrap_or(0);
    assert_eq!(weights, 0, "{alias:?}");
}

#[tokio::test]
async fn an_image_pushed_without_docker_deploys_as_a_container_function() {
    let project = Project::new();
    let registry = Registry::start();
    let model = project.train("blend", 0.0005);
    project.package();
    let out = project.succeed(&[
        "image",
        "push",
        "--registry",
        &registry.host(),
        "--base",
        "scratch",
    ]);
    let record: Value =
        serde_json::from_slice(&std::fs::read(project.path("dist/image.json")).unwrap()).unwrap();
    let uri = record["image_uri"].as_str().unwrap().to_string();
    assert!(
        uri.starts_with(&format!("{}/amesops-predictor@sha256:", registry.host())),
        "{uri}\n{out}"
    );

    project.queue_replies(smoke_replies(&model).await);
    project.succeed(&["deploy", "--image", "--yes"]);
    let function = project
        .lambda()
        .await
        .get_function()
        .function_name(FUNCTION)
        .send()
        .await
        .unwrap();
    assert_eq!(
        function
            .configuration()
            .unwrap()
            .package_type()
            .map(|p| p.as_str()),
        Some("Image")
    );
    assert_eq!(function.code().unwrap().image_uri(), Some(uri.as_str()));
    assert_eq!(project.alias_version().await, "1");

    // A zip cannot replace an image function: the error says what to do.
    let error = project.fail(&["deploy", "--yes"]);
    assert!(
        error.contains("container image function") && error.contains("amesops destroy"),
        "{error}"
    );
}

#[test]
fn an_unreachable_endpoint_is_reported_in_one_line_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();
    let port = crate::support::servers::free_port();
    let output = Command::new(BIN)
        .args(["--target", "aws", "status"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains(FUNCTION)
            && lines[0].contains("did not answer")
            && lines[0].contains("AWS_ENDPOINT_URL"),
        "{stderr}"
    );
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        let escaped = (first == b'%')
            .then(|| tail.get(..2))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                rest = &tail[2..];
            }
            None => {
                out.push(if first == b'+' { b' ' } else { first });
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
