//! The Lambda side of the router: who is calling, from the API Gateway (payload 2.0) event.

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;

use crate::api::{Caller, router};
use crate::record::{BASELINE_PRICE_HEADER, CANARY_REPLAY_API_ID, SMOKE_TEST_API_ID, Source};
use crate::state::AppState;

/// Fills [`Caller`] from the Lambda context (request id) and the API Gateway request context
/// (gateway request id as fallback, caller's source IP, and whether it is a deploy's smoke
/// test: [`SMOKE_TEST_API_ID`]).
pub async fn caller_from_lambda(mut request: Request, next: Next) -> Response {
    let extensions = request.extensions();
    let (gateway_id, source_ip, source) = match extensions.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => (
            context.request_id.clone(),
            context.http.source_ip.clone(),
            match context.apiid.as_deref() {
                Some(SMOKE_TEST_API_ID) => Source::Smoke,
                Some(CANARY_REPLAY_API_ID) => Source::Replay,
                _ => Source::Api,
            },
        ),
        _ => (None, None, Source::Api),
    };
    let request_id = extensions
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .filter(|id| !id.is_empty())
        .or(gateway_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    // Only a replay may name a baseline price: API Gateway sets the api id of real requests.
    let baseline_price = (source == Source::Replay)
        .then(|| request.headers().get(BASELINE_PRICE_HEADER))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|p| p.is_finite() && *p > 0.0);
    request.extensions_mut().insert(Caller {
        request_id,
        source_ip,
        source,
        baseline_price,
    });
    next.run(request).await
}

/// The API router as the Lambda function serves it.
pub fn lambda_router(state: AppState) -> Router {
    router(state).layer(middleware::from_fn(caller_from_lambda))
}
