//! Least privilege, proven: every AWS call that deploy, status, rollback, image push and
//! destroy make (as the deployer) and that every console view makes (as the operator), recorded
//! by moto's request recorder, is allowed by `deploy/deployer-policy.json` or
//! `deploy/operator-policy.json` respectively; removing any one Allow statement of either file
//! makes a recorded call fail, with one line naming the action it no longer allows. The
//! deployer cannot escalate (a role only under the boundary, PassRole only of that role to
//! Lambda, the boundary itself untouchable), and the operator cannot change anything.
//!
//! Needs `moto_server` and `docker-registry` on PATH (scripts/test provides them).

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod deploy_support;
mod iam_support;

mod support;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use crate::support::aws::{TEST_REGION, aws_env, aws_loader, s3_client_from};
use crate::support::fixtures::project_root;
use crate::support::servers::{MotoServer, http_request};
use console::backend::deployer::Deployer;
use console::backend::deployer::aws::AwsDeployer;
use console::backend::endpoint::Endpoint;
use console::backend::logs::CloudWatchLogSource;
use console::backend::store::S3ObjectStore;
use console::config::AwsConfig;
use console::operations::Context;
use console::project::Project;
use console::tui::action::{Command as ConsoleCommand, Loaded};
use console::tui::runtime::{Backends, Runtime};
use deploy_support::{Registry, moto_post, queue_smoke_replies, smoke_replies};
use iam_support::{Call, Decision, Names, Policy, calls_from_recording, check, evaluate};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_amesops");
const FUNCTION: &str = "amesops-predictor";
const BUCKET: &str = "amesops-predictions";
const LOG_GROUP: &str = "/aws/lambda/amesops-predictor";
const ACCOUNT: &str = "123456789012";

fn names() -> Names {
    Names {
        partition: "aws".to_string(),
        region: TEST_REGION.to_string(),
        account: ACCOUNT.to_string(),
        function: FUNCTION.to_string(),
        alias: "live".to_string(),
        bucket: BUCKET.to_string(),
        log_group: LOG_GROUP.to_string(),
        ecr_repository: "amesops-predictor".to_string(),
    }
}

fn policy(file: &str) -> Policy {
    Policy::read(&project_root().join("deploy").join(file), &names())
}

/// moto with its recorder writing to a file of this test, and a project folder.
struct Stack {
    moto: MotoServer,
    dir: tempfile::TempDir,
    _recording: tempfile::TempDir,
}

impl Stack {
    fn start() -> Stack {
        let recording = tempfile::tempdir().unwrap();
        let file = recording.path().join("recording.jsonl");
        let moto = MotoServer::start_with(&[("MOTO_RECORDER_FILEPATH", file.to_str().unwrap())]);
        moto_post(
            &moto,
            "/moto-api/config",
            &json!({"lambda": {"use_docker": false}}),
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            project_root().join("params.yaml"),
            dir.path().join("params.yaml"),
        )
        .unwrap();
        let stack = Stack {
            moto,
            dir,
            _recording: recording,
        };
        stack.run(&["fetch"]);
        stack.run(&["split"]);
        stack
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn output(&self, args: &[&str]) -> Output {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .env("AMESOPS_TARGET", "aws")
            .env("AMESOPS_BOOTSTRAP", "/bin/true")
            .env_remove("AWS_PROFILE")
            .env_remove("MLFLOW_TRACKING_URI")
            .env_remove("AMESOPS_TRACKER")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for (name, value) in aws_env(&self.moto.endpoint()) {
            command.env(name, value);
        }
        command.output().unwrap()
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self.output(args);
        assert!(
            output.status.success(),
            "amesops {}\nexit {:?}\nstdout:\n{}\nstderr:\n{}\nmoto:\n{}",
            args.join(" "),
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            self.moto.log_tail(2000)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr)
    }

    fn train_and_package(&self, alpha: f64) -> Vec<u8> {
        let params = std::fs::read_to_string(self.path("params.yaml")).unwrap();
        let line = params
            .lines()
            .find(|l| l.trim_start().starts_with("alpha:"))
            .unwrap()
            .to_string();
        std::fs::write(
            self.path("params.yaml"),
            params.replace(&line, &format!("  alpha: {alpha}")),
        )
        .unwrap();
        self.run(&[
            "train",
            "--data",
            "data/train.csv",
            "--out",
            "models/model.json",
        ]);
        let mut package = vec!["package", "--bootstrap", "/bin/true"];
        if cfg!(target_arch = "aarch64") {
            package.push("--arm64");
        }
        self.run(&package);
        std::fs::read(self.path("models/model.json")).unwrap()
    }

    fn recorder(&self, what: &str) -> String {
        let address = SocketAddr::from(([127, 0, 0, 1], self.moto.port()));
        let method = if what == "download-recording" {
            "GET"
        } else {
            "POST"
        };
        let (status, body) = http_request(
            address,
            method,
            &format!("/moto-api/recorder/{what}"),
            &[],
            b"",
            Duration::from_secs(30),
        )
        .unwrap();
        assert!(status < 300, "{what}: {status}");
        String::from_utf8_lossy(&body).into_owned()
    }

    /// Records what `work` makes moto do (one request per line).
    async fn record<F: std::future::Future<Output = ()>>(&self, work: F) -> String {
        self.recorder("reset-recording");
        self.recorder("start-recording");
        work.await;
        self.recorder("stop-recording");
        self.recorder("download-recording")
    }
}

/// The console's views on the aws target, in this process: what an operator's console does.
async fn console_views(stack: &Stack) {
    let sdk = aws_loader(&stack.moto.endpoint()).load().await;
    let settings = AwsConfig::default();
    let deployer: Arc<dyn Deployer> =
        Arc::new(AwsDeployer::from_sdk(&settings, stack.dir.path(), &sdk).unwrap());
    let root = stack.dir.path().to_path_buf();
    let backends = Backends {
        store: Arc::new(S3ObjectStore::new(s3_client_from(&sdk), BUCKET)),
        logs: Arc::new(CloudWatchLogSource::new(&sdk, LOG_GROUP, true)),
        operations: Context::local(root.clone(), deployer.clone()),
        deployer,
        project: Arc::new(Project::at(
            root.clone(),
            Some(root.join(".amesops/tracking.db").display().to_string()),
            None,
        )),
        candidate: root.join("models/model.json"),
        package: root.join("dist/predictor.zip"),
        endpoint: Endpoint::plain().unwrap(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let runtime = Runtime::new(backends, tx);
    for command in [
        ConsoleCommand::LoadPipeline,
        ConsoleCommand::LoadDeploy,
        ConsoleCommand::LoadRecords { after: None },
        ConsoleCommand::LoadRuns,
        ConsoleCommand::LoadSchema,
        ConsoleCommand::SubmitPrediction(deploy_support::first_house()),
        ConsoleCommand::FollowLogs,
    ] {
        runtime.execute(command);
    }
    let mut seen: HashMap<&'static str, bool> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while seen.len() < 5 {
        let Ok(Some(loaded)) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            panic!("the views did not all answer: {seen:?}");
        };
        let view = match &loaded {
            Loaded::Deploy(result) => {
                let status = result
                    .as_ref()
                    .unwrap_or_else(|e| panic!("deploy view: {e}"));
                assert_eq!(status.alias_version, "1", "{status:?}");
                "deploy"
            }
            Loaded::Records(result) => {
                let page = result
                    .as_ref()
                    .unwrap_or_else(|e| panic!("predictions: {e}"));
                assert_eq!(page.rows.len(), 1, "{page:?}");
                assert!(
                    !page.reference_deciles.is_empty(),
                    "the served model was read"
                );
                "predictions"
            }
            Loaded::Logs(_) => "logs",
            Loaded::Prediction(result) => {
                let outcome = result.as_ref().unwrap_or_else(|e| panic!("predict: {e}"));
                assert!(outcome.local_price.is_ok(), "{outcome:?}");
                "predict"
            }
            Loaded::Runs(_) => "experiments",
            _ => continue,
        };
        seen.insert(view, true);
    }
    // Let the log follower make its calls (live tail, then polling).
    tokio::time::sleep(Duration::from_secs(3)).await;
}

/// The API URL is not routed by moto: the views' HTTP calls (not AWS calls) go to a closed
/// local port instead of the internet.
fn point_the_api_url_at_a_closed_port(stack: &Stack) {
    let record_path = stack.path("deploy.json");
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
    record["url"] = json!(format!(
        "http://127.0.0.1:{}",
        crate::support::servers::free_port()
    ));
    std::fs::write(&record_path, record.to_string()).unwrap();
}

fn calls(recording: &str) -> Vec<Call> {
    calls_from_recording(recording, &names()).unwrap_or_else(|e| panic!("{e}"))
}

fn assert_each_allow_statement_is_needed(policy: &Policy, calls: &[Call]) {
    check(policy, calls).unwrap_or_else(|e| panic!("{e}"));
    for (index, statement) in policy.statements.iter().enumerate() {
        if statement["Effect"] != "Allow" {
            continue;
        }
        let sid = policy.sid(index);
        let message = match check(&policy.without(index), calls) {
            Ok(()) => panic!(
                "{}: nothing the recorded runs do needs statement {sid}; remove it (least privilege) or exercise it",
                policy.file
            ),
            Err(message) => message,
        };
        assert!(!message.contains('\n'), "one line: {message}");
        let actions: Vec<String> = match &statement["Action"] {
            serde_json::Value::String(a) => vec![a.clone()],
            other => other
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect(),
        };
        assert!(
            actions.iter().any(|a| message.contains(a.as_str())),
            "without {sid}, the failure names one of its actions {actions:?}: {message}"
        );
        eprintln!("without {sid}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recorded_call_is_allowed_and_every_statement_is_needed() {
    let stack = Stack::start();
    let registry = Registry::start();

    // The deployer: two deploys, then (with a stored prediction to look at) status, rollback,
    // an image push and the console's views: the deployer runs the console too.
    let mut deployer_recording = stack
        .record(async {
            let first = stack.train_and_package(0.002);
            queue_smoke_replies(&stack.moto, smoke_replies(&first).await);
            stack.run(&["deploy", "--yes"]);
            let second = stack.train_and_package(0.0005);
            queue_smoke_replies(&stack.moto, smoke_replies(&second).await);
            stack.run(&["deploy", "--yes"]);
        })
        .await;
    let created = calls(&deployer_recording);
    assert!(
        created.iter().any(|c| c.action == "iam:CreateRole"
            && c.context.get("iam:PermissionsBoundary").map(String::as_str)
                == Some(&*format!(
                    "arn:aws:iam::{ACCOUNT}:policy/{FUNCTION}-boundary"
                ))),
        "the role is created under the boundary: {created:#?}"
    );
    let sdk = aws_loader(&stack.moto.endpoint()).load().await;
    s3_client_from(&sdk)
        .put_object()
        .bucket(BUCKET)
        .key("predictions/dt=2026-11-27/20261127T101503.000000Z-1.json")
        .body(
            json!({"id": "1", "price": 181000.0, "model_id": "m", "source": "api", "input": {"GrLivArea": 1710}})
                .to_string()
                .into_bytes()
                .into(),
        )
        .send()
        .await
        .unwrap();
    deployer_recording.push_str(
        &stack
            .record(async {
                stack.run(&["status"]);
                stack.run(&["rollback", "--yes"]);
                stack.run(&[
                    "image",
                    "push",
                    "--registry",
                    &registry.host(),
                    "--base",
                    "scratch",
                ]);
                point_the_api_url_at_a_closed_port(&stack);
                console_views(&stack).await;
            })
            .await,
    );
    let operator_calls = calls(
        &stack
            .record(async {
                point_the_api_url_at_a_closed_port(&stack);
                console_views(&stack).await;
                stack.run(&["status"]);
            })
            .await,
    );

    // The deployer again: destroy, last (one recording: the role's boundary is known).
    deployer_recording.push_str(
        &stack
            .record(async {
                stack.run(&["destroy", "--yes", "--delete-bucket", "--delete-logs"]);
            })
            .await,
    );
    let deployer_calls = calls(&deployer_recording);

    let deployer = policy("deployer-policy.json");
    let operator = policy("operator-policy.json");
    assert_each_allow_statement_is_needed(&deployer, &deployer_calls);
    assert_each_allow_statement_is_needed(&operator, &operator_calls);

    // The operator changes nothing: every change the deployer made is denied to it.
    for call in &deployer_calls {
        let verb = call.action.split(':').nth(1).unwrap_or_default();
        let read = ["Get", "List", "Describe", "Head", "Filter", "StartLiveTail"]
            .iter()
            .any(|p| verb.starts_with(p))
            || call.action == "apigateway:GET"
            || (call.action == "lambda:InvokeFunction" && call.resource.ends_with(":live"));
        if !read {
            assert_ne!(
                evaluate(&operator, call),
                Decision::Allowed,
                "the operator policy allows a change: {call:?}"
            );
        }
    }
}

fn synthetic(action: &str, resource: &str, context: &[(&str, &str)]) -> Call {
    Call {
        action: action.to_string(),
        resource: resource.to_string(),
        context: context
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        request: "synthetic".to_string(),
    }
}

#[test]
fn the_deployer_cannot_escalate() {
    let deployer = policy("deployer-policy.json");
    let role = format!("arn:aws:iam::{ACCOUNT}:role/{FUNCTION}-role");
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/{FUNCTION}-boundary");
    let allowed = [
        synthetic(
            "iam:CreateRole",
            &role,
            &[("iam:PermissionsBoundary", &boundary)],
        ),
        synthetic(
            "iam:PutRolePolicy",
            &role,
            &[("iam:PermissionsBoundary", &boundary)],
        ),
        synthetic(
            "iam:PassRole",
            &role,
            &[("iam:PassedToService", "lambda.amazonaws.com")],
        ),
    ];
    for call in &allowed {
        assert_eq!(evaluate(&deployer, call), Decision::Allowed, "{call:?}");
    }
    let other_boundary = format!("arn:aws:iam::{ACCOUNT}:policy/anything");
    let admin = format!("arn:aws:iam::{ACCOUNT}:role/admin");
    let escalations = [
        // A role with no boundary, or another boundary, or another name.
        synthetic("iam:CreateRole", &role, &[]),
        synthetic(
            "iam:CreateRole",
            &role,
            &[("iam:PermissionsBoundary", &other_boundary)],
        ),
        synthetic(
            "iam:CreateRole",
            &admin,
            &[("iam:PermissionsBoundary", &boundary)],
        ),
        // Widening a role that is not held by the boundary.
        synthetic("iam:PutRolePolicy", &role, &[]),
        synthetic(
            "iam:AttachRolePolicy",
            &admin,
            &[("iam:PermissionsBoundary", &boundary)],
        ),
        // Passing another role, or passing it to another service.
        synthetic(
            "iam:PassRole",
            &admin,
            &[("iam:PassedToService", "lambda.amazonaws.com")],
        ),
        synthetic(
            "iam:PassRole",
            &role,
            &[("iam:PassedToService", "ec2.amazonaws.com")],
        ),
        // Moving or rewriting the boundary.
        synthetic("iam:DeleteRolePermissionsBoundary", &role, &[]),
        synthetic(
            "iam:PutRolePermissionsBoundary",
            &role,
            &[("iam:PermissionsBoundary", &other_boundary)],
        ),
        synthetic("iam:CreatePolicyVersion", &boundary, &[]),
        synthetic("iam:SetDefaultPolicyVersion", &boundary, &[]),
        synthetic("iam:CreatePolicy", &other_boundary, &[]),
        // Anything on users.
        synthetic(
            "iam:AttachUserPolicy",
            &format!("arn:aws:iam::{ACCOUNT}:user/deployer"),
            &[],
        ),
    ];
    for call in &escalations {
        assert_ne!(
            evaluate(&deployer, call),
            Decision::Allowed,
            "escalation allowed: {call:?}"
        );
    }
    // The boundary stays put even if another policy allowed everything: an explicit Deny.
    let mut widened = deployer.clone();
    widened
        .statements
        .push(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
    assert_eq!(
        evaluate(
            &widened,
            &synthetic("iam:CreatePolicyVersion", &boundary, &[])
        ),
        Decision::ExplicitDeny
    );
}

#[test]
fn the_evaluator_matches_wildcards_conditions_and_lets_deny_win() {
    assert!(iam_support::wildcard(
        "lambda:Get*",
        "lambda:getalias",
        true
    ));
    assert!(iam_support::wildcard(
        "arn:aws:s3:::b/predictions/*",
        "arn:aws:s3:::b/predictions/dt=1/x.json",
        false
    ));
    assert!(!iam_support::wildcard(
        "arn:aws:s3:::b/models/*",
        "arn:aws:s3:::b/predictions/x",
        false
    ));
    assert!(
        iam_support::wildcard("a?c", "abc", false) && !iam_support::wildcard("a?c", "ac", false)
    );
    let policy = Policy::from_value(
        "unit.json",
        json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
             "Condition": {"StringLike": {"s3:prefix": ["predictions/*"]}}},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
        ]}),
    );
    let list = |prefix: Option<&str>| {
        synthetic(
            "s3:ListBucket",
            "arn:aws:s3:::b",
            &prefix.map(|p| vec![("s3:prefix", p)]).unwrap_or_default(),
        )
    };
    assert_eq!(
        evaluate(&policy, &list(Some("predictions/dt=1/"))),
        Decision::Allowed
    );
    assert_eq!(
        evaluate(&policy, &list(Some("models/"))),
        Decision::ImplicitDeny
    );
    assert_eq!(
        evaluate(&policy, &list(None)),
        Decision::ImplicitDeny,
        "no key, no match"
    );
    assert_eq!(
        evaluate(&policy, &synthetic("s3:GetObject", "arn:aws:s3:::b/x", &[])),
        Decision::Allowed
    );
    assert_eq!(
        evaluate(
            &policy,
            &synthetic("s3:DeleteObject", "arn:aws:s3:::b/x", &[])
        ),
        Decision::ExplicitDeny
    );
    let error = check(&policy, &[list(Some("models/"))]).unwrap_err();
    assert!(
        error.contains("s3:ListBucket") && !error.contains('\n'),
        "{error}"
    );
    // A recorded request becomes its action, resource and condition keys.
    let recording = json!({
        "method": "GET",
        "url": "http://127.0.0.1:5000/b?list-type=2&prefix=predictions%2F&delimiter=%2F",
        "headers": {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=x"},
        "body": "", "body_encoded": false
    })
    .to_string();
    let calls = calls_from_recording(&recording, &names()).unwrap();
    assert_eq!(calls[0].action, "s3:ListBucket");
    assert_eq!(
        calls[0].context.get("s3:prefix").map(String::as_str),
        Some("predictions/")
    );
}
