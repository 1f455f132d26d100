//! `aws.api_auth = "iam"`: the console SigV4-signs its own requests to the prediction routes.
//!
//! A gateway stand-in on 127.0.0.1 checks every request the way API Gateway's AWS_IAM
//! authorization does (recompute the signature over the signed headers, compare, 403 otherwise)
//! and forwards good ones to the real predictor router. The console's Predict view, through its
//! runtime, must get a price from it; unsigned or wrongly signed requests must not.

#![cfg(feature = "aws")]
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::support::fixtures::{served_model, write_model};
use crate::support::stores::stored_records;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4::SigningParams;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use console::backend::deployer::local::LocalDeployer;
use console::backend::deployer::{DeployRequest, Deployer, Source};
use console::backend::endpoint::{Endpoint, Signer};
use console::backend::logs::FileLogSource;
use console::backend::store::LocalObjectStore;
use console::operations::Context;
use console::project::Project;
use console::tui::action::{Command, Loaded};
use console::tui::runtime::{Backends, Runtime};
use predictor::store::LocalStore;
use serde_json::json;

const KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const REGION: &str = "eu-west-1";

fn credentials(secret: &str) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(KEY, secret, None, None, "test"))
}

/// `20261127T134500Z` → the instant it names.
fn amz_date(text: &str) -> Option<SystemTime> {
    let digits = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(
        i32::try_from(digits(0..4)?).ok()?,
        month,
        u8::try_from(digits(6..8)?).ok()?,
    )
    .ok()?;
    let clock = time::Time::from_hms(
        u8::try_from(digits(9..11)?).ok()?,
        u8::try_from(digits(11..13)?).ok()?,
        u8::try_from(digits(13..15)?).ok()?,
    )
    .ok()?;
    Some(
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .into(),
    )
}

/// Why the gateway refuses `request`, or `None` when its signature is good.
fn check_signature(request: &Request<Body>, body: &[u8]) -> Option<String> {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let authorization = header("authorization")?;
    let Some(fields) = authorization.strip_prefix("AWS4-HMAC-SHA256 ") else {
        return Some(format!("not SigV4: {authorization}"));
    };
    let field = |name: &str| {
        fields
            .split(", ")
            .find_map(|f| f.strip_prefix(name).map(str::to_string))
            .unwrap_or_default()
    };
    let scope = field("Credential=");
    let expected_scope = format!("{KEY}/");
    if !scope.starts_with(&expected_scope)
        || !scope.ends_with(&format!("/{REGION}/execute-api/aws4_request"))
    {
        return Some(format!("wrong credential scope {scope}"));
    }
    let signed_headers = field("SignedHeaders=");
    for needed in ["host", "x-amz-date"] {
        if !signed_headers.split(';').any(|h| h == needed) {
            return Some(format!("{needed} is not signed ({signed_headers})"));
        }
    }
    let time = amz_date(&header("x-amz-date").unwrap_or_default())?;
    let values: Vec<(String, String)> = signed_headers
        .split(';')
        .map(|name| (name.to_string(), header(name).unwrap_or_default()))
        .collect();
    let uri = format!(
        "http://{}{}",
        header("host").unwrap_or_default(),
        request.uri()
    );
    let identity = Credentials::new(KEY, SECRET, None, None, "gateway").into();
    let params = SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("execute-api")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        request.method().as_str(),
        uri,
        values.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (_, expected) = sign(signable, &params).unwrap().into_parts();
    let given = field("Signature=");
    (given != expected).then(|| format!("signature mismatch: {given} != {expected}"))
}

/// API Gateway's AWS_IAM check in front of the predictor router.
async fn iam_gateway(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    let refusal = match request.headers().contains_key("authorization") {
        false => Some("Missing Authentication Token".to_string()),
        true => check_signature(&request, &bytes),
    };
    match refusal {
        Some(message) => (
            StatusCode::FORBIDDEN,
            axum::Json(json!({ "message": message })),
        )
            .into_response(),
        None => next.run(request).await,
    }
}

struct Gateway {
    url: String,
    state: predictor::AppState,
    records: tempfile::TempDir,
}

async fn start_gateway() -> Gateway {
    let records = tempfile::tempdir().unwrap();
    let state = predictor::AppState::new(served_model(), Box::new(LocalStore::new(records.path())));
    let app = predictor::api::router(state.clone()).layer(axum::middleware::from_fn(iam_gateway));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Gateway {
        url,
        state,
        records,
    }
}

fn house() -> serde_json::Value {
    json!({"GrLivArea": 1710, "OverallQual": 7, "Neighborhood": "CollgCr", "YearBuilt": 2003})
}

async fn post_predict(endpoint: &Endpoint, url: &str) -> (u16, serde_json::Value) {
    let request = endpoint
        .request(reqwest::Method::POST, &format!("{url}/predict"))
        .json(&house());
    let response = endpoint.send(request).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_gateway_refuses_unsigned_and_wrongly_signed_requests() {
    let gateway = start_gateway().await;
    let (status, body) = post_predict(&Endpoint::plain().unwrap(), &gateway.url).await;
    assert_eq!(status, 403, "{body}");
    let wrong = Endpoint::signed(Signer::new(credentials("not-the-secret"), REGION)).unwrap();
    let (status, body) = post_predict(&wrong, &gateway.url).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("signature mismatch"),
        "{body}"
    );
    let other_region = Endpoint::signed(Signer::new(credentials(SECRET), "us-east-1")).unwrap();
    let (status, _) = post_predict(&other_region, &gateway.url).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn signed_requests_get_a_price() {
    let gateway = start_gateway().await;
    let signed = Endpoint::signed(Signer::new(credentials(SECRET), REGION)).unwrap();
    let (status, body) = post_predict(&signed, &gateway.url).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["price"].as_f64().unwrap() > 10_000.0, "{body}");
    // GETs are signed too (harmless on routes without authorization).
    let response = signed
        .send(signed.request(reqwest::Method::GET, &format!("{}/model", gateway.url)))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn the_predict_view_signs_its_requests_with_iam_auth() {
    let gateway = start_gateway().await;
    let dir = tempfile::tempdir().unwrap();
    let model = write_model(dir.path());
    let deployer = LocalDeployer::new(
        dir.path().join("deployments"),
        Some(gateway.state.clone()),
        gateway.url.clone(),
    );
    let request = DeployRequest {
        source: Source::Model {
            model: model.clone(),
            package: dir.path().join("dist/predictor.zip"),
        },
        options: Default::default(),
    };
    let candidate = deployer.candidate(&request).await.unwrap();
    deployer
        .deploy(&request, &candidate.sha256, &|_| {})
        .await
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let backends = |endpoint: Endpoint| {
        let deployer: Arc<dyn Deployer> = Arc::new(LocalDeployer::new(
            dir.path().join("deployments"),
            None,
            gateway.url.clone(),
        ));
        Backends {
            store: Arc::new(LocalObjectStore::new(dir.path())),
            logs: Arc::new(FileLogSource::new(dir.path().join("predictor.jsonl"))),
            operations: Context::local(dir.path().to_path_buf(), deployer.clone()),
            deployer,
            project: Arc::new(Project::at(dir.path().to_path_buf(), None, None)),
            candidate: model.clone(),
            package: dir.path().join("dist/predictor.zip"),
            endpoint,
        }
    };

    let signed = Endpoint::signed(Signer::new(credentials(SECRET), REGION)).unwrap();
    Runtime::new(backends(signed), tx.clone()).execute(Command::SubmitPrediction(house()));
    let outcome = next_prediction(&mut rx).await;
    let reply = outcome.remote.unwrap();
    assert_eq!(
        reply.price,
        outcome.local_price.unwrap(),
        "endpoint and core-model agree"
    );
    assert!(reply.stored);
    let stored = stored_records(gateway.records.path());
    assert_eq!(stored.len(), 1, "one record behind the gateway: {stored:?}");

    Runtime::new(backends(Endpoint::plain().unwrap()), tx)
        .execute(Command::SubmitPrediction(house()));
    let refused = next_prediction(&mut rx).await.remote.unwrap_err();
    assert!(refused.starts_with("403"), "{refused}");
}

async fn next_prediction(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Loaded>,
) -> console::tui::views::predict::PredictOutcome {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(Loaded::Prediction(outcome))) => return outcome.unwrap(),
            Ok(Some(_)) => continue,
            other => panic!("no prediction result: {}", other.is_ok()),
        }
    }
}
