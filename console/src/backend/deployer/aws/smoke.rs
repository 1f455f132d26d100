//! The smoke test of a published version, before any traffic reaches it: the version is invoked
//! directly with the API Gateway (payload 2.0) events a client's requests would become.
//! `GET /health` must answer 200 naming the deployed model, and `POST /predict` of the first
//! house of the bundled snapshot must answer 200 with the price core-model computes here.

use aws_sdk_lambda::primitives::Blob;
use predictor::wire::{HealthReply, PredictReply};
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{Call, aws_error};
use super::{AwsDeployer, Progress};
use crate::backend::deployer::{DeployError, SmokeFailure};

/// Largest relative difference tolerated between the function's price and the local one: the
/// same code on another CPU and libm can differ in the last bits, a different model cannot.
pub const PRICE_TOLERANCE: f64 = 1e-9;

/// What the candidate must answer.
#[derive(Debug, Clone)]
pub struct Expectation {
    /// Model id `/health` must name.
    pub model_id: String,
    /// The house sent to `/predict`.
    pub house: Value,
    /// Its price under the candidate model, computed locally.
    pub price: f64,
}

/// The first house of the bundled snapshot and its price under the model `bytes`.
pub fn expectation(bytes: &[u8]) -> Result<Expectation, DeployError> {
    let fail = |reason: String| DeployError::SmokeSetup { reason };
    let loaded = core_model::Artifact::from_bytes(bytes)
        .map_err(|e| fail(format!("the model does not load: {e}")))?;
    let house = crate::bundled::first_house().map_err(|e| fail(e.to_string()))?;
    let price = loaded.artifact.model.predict(&house).price;
    Ok(Expectation {
        model_id: loaded.id,
        house: Value::Object(house.to_json()),
        price,
    })
}

/// An API Gateway HTTP API (payload 2.0) event for one request.
pub fn gateway_event(method: &str, path: &str, body: Option<&Value>) -> Value {
    let request_id = format!("amesops-smoke-{}", uuid::Uuid::new_v4().simple());
    let now = time::OffsetDateTime::now_utc();
    let mut headers = json!({ "accept": "application/json", "user-agent": "amesops-smoke-test", "host": "smoke-test.amesops" });
    if body.is_some() {
        headers["content-type"] = json!("application/json");
    }
    json!({
        "version": "2.0",
        "routeKey": format!("{method} {path}"),
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": predictor::record::SMOKE_TEST_API_ID,
            "domainName": "smoke-test.amesops",
            "domainPrefix": "smoke-test",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "amesops-smoke-test" },
            "requestId": request_id,
            "routeKey": format!("{method} {path}"),
            "stage": "$default",
            "time": now.format(&time::format_description::well_known::Rfc2822).unwrap_or_default(),
            "timeEpoch": now.unix_timestamp() * 1000
        },
        "body": body.map(Value::to_string),
        "isBase64Encoded": false
    })
}

/// The API Gateway (payload 2.0) response document a Lambda handler returns.
#[derive(Debug, Deserialize)]
struct GatewayResponse {
    #[serde(rename = "statusCode")]
    status_code: u64,
    #[serde(default)]
    body: Option<String>,
    #[serde(rename = "isBase64Encoded", default)]
    is_base64_encoded: bool,
}

/// A function's answer to a gateway event: status and body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u64,
    /// The body, parsed as JSON when it is JSON (else the text as a JSON string).
    pub body: Value,
}

impl Reply {
    /// The body as the predictor's reply type `T`, when it is one.
    pub(super) fn typed<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.body.clone()).ok()
    }

    /// The start of the body, for messages.
    fn shown(&self) -> String {
        self.body.to_string().chars().take(300).collect()
    }
}

/// Reads the API Gateway response document a function returned.
pub fn parse_reply(payload: &[u8]) -> Result<Reply, SmokeFailure> {
    let shown = || {
        String::from_utf8_lossy(payload)
            .chars()
            .take(300)
            .collect::<String>()
    };
    let document: Value =
        serde_json::from_slice(payload).map_err(|_| SmokeFailure::NotJson { shown: shown() })?;
    let response: GatewayResponse = serde_json::from_value(document)
        .map_err(|_| SmokeFailure::NotGateway { shown: shown() })?;
    let text = response.body.unwrap_or_default();
    let text = if response.is_base64_encoded {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&text)
            .map_err(|e| SmokeFailure::NotBase64 {
                reason: e.to_string(),
            })?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        text
    };
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Reply {
        status: response.status_code,
        body,
    })
}

/// `GET /health` must be 200 and name the model.
pub fn check_health(reply: &Reply, model_id: &str) -> Result<(), SmokeFailure> {
    let named = reply.typed::<HealthReply>().map(|h| h.model_id);
    if reply.status != 200 || named.as_deref() != Some(model_id) {
        return Err(SmokeFailure::Health {
            status: reply.status,
            answer: format!("naming model {}", named.as_deref().unwrap_or("none")),
            expected: model_id.to_string(),
        });
    }
    Ok(())
}

/// `POST /predict` must be 200 with the local price.
pub fn check_price(reply: &Reply, expected: f64) -> Result<(), SmokeFailure> {
    let price = reply.typed::<PredictReply>().map(|p| p.price);
    match price {
        Some(price)
            if reply.status == 200
                && (price - expected).abs() <= PRICE_TOLERANCE * expected.abs() =>
        {
            Ok(())
        }
        _ if reply.status != 200 => Err(SmokeFailure::PredictStatus {
            status: reply.status,
            body: reply.shown(),
        }),
        Some(price) => Err(SmokeFailure::Price { price, expected }),
        None => Err(SmokeFailure::NoPrice {
            body: reply.shown(),
        }),
    }
}

impl AwsDeployer {
    async fn invoke(&self, version: &str, event: &Value) -> Result<Reply, DeployError> {
        let output = self
            .lambda
            .invoke()
            .function_name(&self.settings.function)
            .qualifier(version)
            .payload(Blob::new(event.to_string().into_bytes()))
            .send()
            .await
            .map_err(|e| {
                aws_error(
                    &Call::new(
                        format!(
                            "invoke version {version} of Lambda function {}",
                            self.settings.function
                        ),
                        "lambda:InvokeFunction",
                        format!("function:{}:{version}", self.settings.function),
                    ),
                    &e,
                )
            })?;
        let payload = output
            .payload()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default();
        let failed = |failure| DeployError::Smoke {
            version: Some(version.to_string()),
            failure,
        };
        if let Some(error) = output.function_error() {
            return Err(failed(SmokeFailure::Raised {
                error: error.to_string(),
                payload: String::from_utf8_lossy(&payload)
                    .chars()
                    .take(300)
                    .collect(),
            }));
        }
        parse_reply(&payload).map_err(failed)
    }

    /// Invokes `version` with `GET /health` and `POST /predict`; any mismatch is an error.
    pub(super) async fn smoke_test(
        &self,
        version: &str,
        expected: &Expectation,
        progress: Progress<'_>,
    ) -> Result<(), DeployError> {
        let alias = self.settings.alias.as_str();
        let fail = |failure| {
            DeployError::Smoke {
                version: Some(version.to_string()),
                failure,
            }
            .alias_kept(alias)
        };
        progress(format!("smoke test: GET /health on version {version}"));
        let reply = self
            .invoke(version, &gateway_event("GET", "/health", None))
            .await
            .map_err(|e| e.alias_kept(alias))?;
        check_health(&reply, &expected.model_id).map_err(fail)?;
        progress(format!(
            "smoke test: POST /predict (first bundled house, expecting {:.2})",
            expected.price
        ));
        let reply = self
            .invoke(
                version,
                &gateway_event("POST", "/predict", Some(&expected.house)),
            )
            .await
            .map_err(|e| e.alias_kept(alias))?;
        check_price(&reply, expected.price).map_err(fail)?;
        progress("smoke test passed".to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u64, body: Value) -> Vec<u8> {
        json!({ "statusCode": status, "headers": {"content-type": "application/json"}, "body": body.to_string(), "isBase64Encoded": false })
            .to_string()
            .into_bytes()
    }

    fn health(model_id: &str) -> Value {
        serde_json::to_value(HealthReply {
            status: "ok".to_string(),
            model_id: model_id.to_string(),
            trained_at: "2026-11-01T00:00:00Z".to_string(),
            uptime_s: 1.0,
            store: "memory".to_string(),
            version: "0".to_string(),
        })
        .expect("serialises")
    }

    fn priced(price: f64) -> Value {
        serde_json::to_value(PredictReply {
            id: "p1".to_string(),
            price,
            interval: predictor::wire::IntervalReply {
                low: price * 0.9,
                high: price * 1.1,
                level: 0.8,
                method: "fixed".to_string(),
            },
            model: predictor::wire::ModelRef {
                id: "abc".to_string(),
                trained_at: "2026-11-01T00:00:00Z".to_string(),
            },
            imputed: Vec::new(),
            unknown_levels: Vec::new(),
            out_of_range: Vec::new(),
            stored: true,
            explanation: core_model::explain::Explanation {
                base_log: 0.0,
                contributions: Vec::new(),
            },
            comparables: Vec::new(),
        })
        .expect("serialises")
    }

    #[test]
    fn health_must_name_the_candidate() {
        let ok = parse_reply(&reply(200, health("abc"))).expect("parsed");
        assert!(check_health(&ok, "abc").is_ok());
        let other = check_health(&ok, "def")
            .expect_err("another model")
            .to_string();
        assert!(other.contains("abc") && other.contains("def"), "{other}");
        let down = parse_reply(&reply(500, json!({"error": {}}))).expect("parsed");
        assert!(check_health(&down, "abc").is_err());
        // A body that is not the predictor's /health reply names no model.
        let untyped =
            parse_reply(&reply(200, json!({"status": "ok", "model": "abc"}))).expect("parsed");
        assert!(
            check_health(&untyped, "abc")
                .expect_err("not a health reply")
                .to_string()
                .contains("naming model none")
        );
    }

    #[test]
    fn the_price_must_match_the_local_one() {
        let ok = parse_reply(&reply(200, priced(208500.25))).expect("parsed");
        assert!(check_price(&ok, 208500.25).is_ok());
        assert!(check_price(&ok, 208500.25 * (1.0 + 1e-12)).is_ok());
        assert_eq!(
            check_price(&ok, 200000.0).expect_err("different"),
            SmokeFailure::Price {
                price: 208500.25,
                expected: 200000.0
            }
        );
        let bad =
            parse_reply(&reply(400, json!({"error": {"code": "invalid_input"}}))).expect("parsed");
        assert!(
            check_price(&bad, 1.0)
                .expect_err("400")
                .to_string()
                .contains("400")
        );
        let bare = parse_reply(&reply(200, json!({"price": 1.0}))).expect("parsed");
        assert!(matches!(
            check_price(&bare, 1.0),
            Err(SmokeFailure::NoPrice { .. })
        ));
    }

    #[test]
    fn a_non_gateway_answer_is_reported() {
        assert!(parse_reply(b"Simple Lambda happy path OK").is_err());
        assert!(
            parse_reply(b"{\"hello\": 1}")
                .expect_err("no status")
                .to_string()
                .contains("statusCode")
        );
    }

    /// The events go through `lambda_http` and the predictor's Lambda router as on Lambda.
    async fn handle(model: &[u8], event: Value) -> Vec<u8> {
        use lambda_http::tower::ServiceExt;
        let request: lambda_http::request::LambdaRequest =
            serde_json::from_value(event).expect("a valid API Gateway v2 event");
        let loaded = core_model::Artifact::from_bytes(model).expect("model loads");
        let state = predictor::AppState::new(
            predictor::ServedModel::from(loaded),
            Box::new(crate::test_stores::NullStore),
        );
        let response = lambda_http::Adapter::from(predictor::lambda::lambda_router(state))
            .oneshot(lambda_http::LambdaEvent::new(
                request,
                lambda_http::Context::default(),
            ))
            .await
            .expect("the handler answers");
        serde_json::to_vec(&response).expect("the response serialises")
    }

    #[tokio::test]
    async fn the_lambda_handler_passes_the_smoke_test_of_its_own_model() {
        let model = crate::test_fixtures::trained_model_bytes();
        let expected = expectation(model).expect("expectation");
        let health = parse_reply(&handle(model, gateway_event("GET", "/health", None)).await)
            .expect("health reply");
        check_health(&health, &expected.model_id).expect("health names the model");
        let priced = parse_reply(
            &handle(
                model,
                gateway_event("POST", "/predict", Some(&expected.house)),
            )
            .await,
        )
        .expect("predict reply");
        check_price(&priced, expected.price).expect("the same price");
    }

    #[test]
    fn events_carry_method_path_and_json_body() {
        let event = gateway_event("POST", "/predict", Some(&json!({"GrLivArea": 1710})));
        assert_eq!(event["requestContext"]["http"]["method"], "POST");
        assert_eq!(event["rawPath"], "/predict");
        assert_eq!(event["headers"]["content-type"], "application/json");
        assert_eq!(event["body"], "{\"GrLivArea\":1710}");
        assert!(gateway_event("GET", "/health", None)["body"].is_null());
    }
}
