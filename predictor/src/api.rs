//! The HTTP API: one axum router, served by Lambda and by the local server alike.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use core_model::house::house_from_json;
use serde_json::Value;

use crate::error::{ApiError, LoggedError};
use crate::record::{OutOfRange, PredictionRecord, Source, record_key, rfc3339_micros};
use crate::schema_info;
use crate::state::{AppState, ServedModel};
use crate::wire::{
    BatchEntry, BatchReply, BatchRequest, HealthReply, IntervalReply, ModelRef, PredictReply,
    SalesReply, SalesRequest,
};

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// How much of an over-limit body is read (and dropped) before the 413 reply: clients that
/// write the whole body before reading (Python's `http.client`, `requests`) get the reply
/// instead of a reset connection. Beyond this the connection is closed.
pub const DRAIN_BYTES: usize = 16 * 1024 * 1024;
/// How long draining an over-limit body may take.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(10);
/// Most houses in one batch.
pub const MAX_BATCH: usize = 1000;
/// Stored records written at once by a batch.
const STORE_CONCURRENCY: usize = 16;

/// Who is calling, filled by the runtime (Lambda request context or the socket).
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The platform's request id (API Gateway / Lambda), or one we made.
    pub request_id: String,
    /// Caller's IP address.
    pub source_ip: Option<String>,
    /// A real client, or a deploy's smoke test (set only by the runtime adapters, from what a
    /// client cannot forge).
    pub source: Source,
    /// The price the old version gave the same house (canary replays only): the EMF line
    /// then carries `price_shift`.
    pub baseline_price: Option<f64>,
}

/// The predicted price and the id of its record, for the request log: the id links a log
/// line to its stored prediction (the console's Predictions → Logs).
#[derive(Debug, Clone)]
struct LoggedPrice(f64, String);

/// Builds the router with all routes, JSON 404/405, and the request log.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/predict", post(predict).fallback(method_not_allowed))
        .route(
            "/predict/batch",
            post(predict_batch).fallback(method_not_allowed),
        )
        .route("/sales", post(post_sales).fallback(method_not_allowed))
        .route("/health", get(health).fallback(method_not_allowed))
        .route("/model", get(model_info).fallback(method_not_allowed))
        .route("/", get(crate::page::index).fallback(method_not_allowed))
        .route(
            "/assets/{file}",
            get(crate::page::asset).fallback(method_not_allowed),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), log_request))
        .with_state(state)
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route for {method} {}; routes: GET /, POST /predict, POST /predict/batch, POST /sales, GET /health, GET /model",
        uri.path()
    ))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}

/// Logs one JSON line per request: id, route, status, latency, model, price.
async fn log_request(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(|| Caller {
            request_id: uuid::Uuid::new_v4().to_string(),
            source_ip: None,
            source: Source::Api,
            baseline_price: None,
        });
    request.extensions_mut().insert(caller.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let latency_us = started.elapsed().as_micros() as u64;
    let status = response.status().as_u16();
    let model_id = state.model().id.clone();
    let logged = response.extensions().get::<LoggedPrice>();
    let price = logged.map(|p| p.0);
    let prediction_id = logged.map(|p| p.1.as_str());
    match response.extensions().get::<LoggedError>() {
        Some(LoggedError(code)) if status >= 500 => tracing::error!(
            request_id = %caller.request_id, method = %method, path = %path, status, latency_us,
            model_id = %model_id, code, "request failed"
        ),
        Some(LoggedError(code)) => tracing::warn!(
            request_id = %caller.request_id, method = %method, path = %path, status, latency_us,
            model_id = %model_id, code, "request rejected"
        ),
        None => tracing::info!(
            request_id = %caller.request_id, method = %method, path = %path, status, latency_us,
            model_id = %model_id, price, prediction_id, "request served"
        ),
    }
    response
}

/// Reads a JSON body within the size limit, checking the media type.
async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType(format!(
            "send the house as JSON with Content-Type: application/json (got {:?})",
            if content_type.is_empty() {
                "none"
            } else {
                content_type
            }
        )));
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        ApiError::PayloadTooLarge(format!(
            "request body is larger than {MAX_BODY_BYTES} bytes"
        ))
    };
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        drain(body.into_data_stream(), 0).await;
        return Err(too_large());
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk.map_err(|e| ApiError::BadJson(format!("cannot read the body: {e}")))?;
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            drain(stream, bytes.len() + chunk.len()).await;
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadJson(format!("request body is not valid JSON: {e}")))
}

/// Reads and drops the rest of an over-limit body (up to [`DRAIN_BYTES`] and [`DRAIN_TIME`]),
/// so that the client, still writing, reads the 413 reply instead of a reset connection.
async fn drain(mut stream: axum::body::BodyDataStream, mut read: usize) {
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while read <= DRAIN_BYTES {
            match futures_util::StreamExt::next(&mut stream).await {
                Some(Ok(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
    })
    .await;
}

/// One successful prediction, ready to store and return.
struct Priced {
    record: PredictionRecord,
    /// Storage key, from the prediction's time.
    key: String,
    low: f64,
    high: f64,
    unknown_levels: Vec<String>,
    method: &'static str,
    explanation: core_model::explain::Explanation,
    comparables: Vec<core_model::comparables::Comparable>,
}

/// A field outside the training range, as the reply and the record show it.
fn out_of_range_json(report: &core_model::encode::EncodeReport) -> Vec<OutOfRange> {
    report
        .out_of_range
        .iter()
        .map(|o| OutOfRange {
            field: o.field.to_string(),
            value: o.value,
            range: o.range,
        })
        .collect()
}

fn price_house(
    model: &ServedModel,
    input: Value,
    caller: &Caller,
    started: Instant,
) -> Result<Priced, ApiError> {
    let Value::Object(object) = &input else {
        return Err(ApiError::InvalidInput {
            message: "expected a JSON object of house fields, e.g. {\"GrLivArea\": 1710}"
                .to_string(),
            fields: Vec::new(),
        });
    };
    let house = house_from_json(object).map_err(|errors| ApiError::invalid(&errors))?;
    let appraisal = model
        .artifact
        .model
        .appraise(&house, &mut core_model::predict::Buffers::default());
    let prediction = appraisal.prediction;
    // Numeric features are clipped to the training range, so a valid house always gets a
    // finite price; should a model still produce none, the input is the cause: a 400.
    if ![prediction.price, prediction.low, prediction.high]
        .iter()
        .all(|x| x.is_finite())
    {
        return Err(ApiError::InvalidInput {
            message: "the model cannot price this house: its values are so far outside the \
                      houses it was trained on that the price overflows"
                .to_string(),
            fields: Vec::new(),
        });
    }
    let now = time::OffsetDateTime::now_utc();
    let id = uuid::Uuid::new_v4().to_string();
    Ok(Priced {
        key: record_key(now, &id),
        low: prediction.low,
        high: prediction.high,
        unknown_levels: prediction.report.unknown_levels.clone(),
        method: appraisal.method,
        explanation: appraisal.explanation,
        comparables: appraisal.comparables,
        record: PredictionRecord {
            id,
            timestamp: rfc3339_micros(now),
            model_id: model.id.clone(),
            imputed: prediction
                .report
                .imputed
                .iter()
                .map(|s| s.to_string())
                .collect(),
            out_of_range: out_of_range_json(&prediction.report),
            unknown_levels: prediction.report.unknown_levels,
            price: prediction.price,
            interval: None,
            latency_us: started.elapsed().as_micros() as u64,
            source_ip: caller.source_ip.clone(),
            source: caller.source,
            input,
        },
    })
}

/// Stores the record; on failure logs the whole record at error level and returns false.
///
/// The store runs as its own task: a client that disconnects cancels the handler, never the
/// write (the record is stored, or logged, either way).
async fn store_record(
    state: &AppState,
    key: &str,
    record: &PredictionRecord,
    baseline_price: Option<f64>,
) -> bool {
    let task = {
        let state = state.clone();
        let key = key.to_string();
        let record = record.clone();
        tokio::spawn(async move { store_now(&state, &key, &record).await })
    };
    let stored = match task.await {
        Ok(stored) => stored,
        Err(e) => {
            let full = serde_json::to_string(record).unwrap_or_default();
            tracing::error!(
                event = "prediction_record", key = %key, store = %state.store().describe(),
                error = %e, record = %full, "prediction record could not be stored; it is logged here instead"
            );
            false
        }
    };
    crate::emf::prediction_against(record, stored, baseline_price);
    stored
}

async fn store_now(state: &AppState, key: &str, record: &PredictionRecord) -> bool {
    let body = match serde_json::to_vec(record) {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(event = "prediction_record", error = %e, id = %record.id, "record not serialisable");
            return false;
        }
    };
    match state.store().put(key, body).await {
        Ok(()) => true,
        Err(e) => {
            let full = serde_json::to_string(record).unwrap_or_default();
            tracing::error!(
                event = "prediction_record", key = %key, store = %state.store().describe(),
                error = %e, record = %full, "prediction record could not be stored; it is logged here instead"
            );
            false
        }
    }
}

fn reply(model: &ServedModel, priced: Priced, stored: bool) -> PredictReply {
    PredictReply {
        id: priced.record.id,
        price: priced.record.price,
        interval: IntervalReply {
            low: priced.low,
            high: priced.high,
            level: model.artifact.model.interval.level,
            method: priced.method.to_string(),
        },
        model: model_ref(model),
        imputed: priced.record.imputed,
        unknown_levels: priced.unknown_levels,
        out_of_range: priced.record.out_of_range,
        stored,
        explanation: priced.explanation,
        comparables: priced.comparables,
    }
}

fn model_ref(model: &ServedModel) -> ModelRef {
    ModelRef {
        id: model.id.clone(),
        trained_at: model.artifact.trained_at.clone(),
    }
}

async fn predict(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let started = Instant::now();
    let input = read_json(&headers, body).await?;
    let model = state.model();
    let priced = price_house(&model, input, &caller, started)?;
    let stored = store_record(&state, &priced.key, &priced.record, caller.baseline_price).await;
    let logged = LoggedPrice(priced.record.price, priced.record.id.clone());
    let mut response = Json(reply(&model, priced, stored)).into_response();
    response.extensions_mut().insert(logged);
    Ok(response)
}

async fn predict_batch(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    use futures_util::stream::{self, StreamExt};
    let started = Instant::now();
    let input = read_json(&headers, body).await?;
    let expected = |fields| ApiError::InvalidInput {
        message: "expected {\"houses\": [ {...}, ... ]}".to_string(),
        fields,
    };
    let houses = match input {
        Value::Object(_) => match serde_json::from_value::<BatchRequest>(input) {
            Ok(request) => request.houses,
            Err(_) => {
                return Err(expected(vec![crate::error::FieldProblem {
                    field: "houses".to_string(),
                    problem: "must be an array of house objects".to_string(),
                }]));
            }
        },
        _ => return Err(expected(Vec::new())),
    };
    if houses.len() > MAX_BATCH {
        return Err(ApiError::PayloadTooLarge(format!(
            "a batch holds at most {MAX_BATCH} houses, got {}; split it",
            houses.len()
        )));
    }
    let model = state.model();
    let results: Vec<Result<Priced, ApiError>> = houses
        .into_iter()
        .map(|house| price_house(&model, house, &caller, started))
        .collect();
    let replies: Vec<BatchEntry> = stream::iter(results)
        .map(|result| {
            let state = state.clone();
            let model = model.clone();
            async move {
                match result {
                    Ok(priced) => {
                        let stored = store_record(&state, &priced.key, &priced.record, None).await;
                        BatchEntry::Priced(Box::new(reply(&model, priced, stored)))
                    }
                    Err(error) => BatchEntry::Failed(error.to_reply()),
                }
            }
        })
        .buffered(STORE_CONCURRENCY)
        .collect()
        .await;
    Ok(Json(BatchReply {
        model: model_ref(&model),
        predictions: replies,
    })
    .into_response())
}

/// `POST /sales`: `{"sales": [{"prediction_id" or "Id", "sale_price", "sold_on"}, ...]}`.
///
/// Every row is checked before anything is written (a 400 names each bad row and field). The
/// router's store only writes, so prediction ids are not checked here: the reply says
/// `unverified_ids: true` and `amesops monitor` reports the sales it cannot join.
async fn post_sales(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    use futures_util::stream::{self, StreamExt};
    let input = read_json(&headers, body).await?;
    let expected = || {
        ApiError::InvalidInput {
        message: "expected {\"sales\": [{\"prediction_id\" or \"Id\", \"sale_price\", \"sold_on\"}, ...]}".to_string(),
        fields: vec![crate::error::FieldProblem {
            field: "sales".to_string(),
            problem: "must be an array of sale objects".to_string(),
        }],
    }
    };
    // The rows stay JSON here: each is checked field by field below, to name every problem.
    let rows = match serde_json::from_value::<SalesRequest<Value>>(input) {
        Ok(request) => request.sales,
        Err(_) => return Err(expected()),
    };
    if rows.len() > MAX_BATCH {
        return Err(ApiError::PayloadTooLarge(format!(
            "a request holds at most {MAX_BATCH} sales, got {}; split it",
            rows.len()
        )));
    }
    let today = time::OffsetDateTime::now_utc().date();
    let mut problems = Vec::new();
    let mut sales: std::collections::BTreeMap<String, (usize, crate::sales::StoredSale)> =
        std::collections::BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        match crate::sales::check_posted(index, row, today) {
            Ok(sale) => {
                let key = sale.key();
                match sales.get(&key) {
                    Some((first, known)) if known.sale_price != sale.sale_price => {
                        problems.push(crate::error::FieldProblem {
                            field: format!("sales[{index}].sale_price"),
                            problem: format!(
                                "the same sale as sales[{first}] with another price ({} ≠ {})",
                                sale.sale_price, known.sale_price
                            ),
                        });
                    }
                    Some(_) => {}
                    None => {
                        sales.insert(key, (index, sale));
                    }
                }
            }
            Err(mut row_problems) => problems.append(&mut row_problems),
        }
    }
    if rows.is_empty() {
        return Err(expected());
    }
    if !problems.is_empty() {
        let rows_at_fault: std::collections::BTreeSet<&str> = problems
            .iter()
            .filter_map(|p| p.field.split('.').next())
            .collect();
        return Err(ApiError::InvalidInput {
            message: format!(
                "{} bad sale(s), nothing stored: {}",
                rows_at_fault.len(),
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.problem))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            fields: problems,
        });
    }
    let mut bodies = Vec::with_capacity(sales.len());
    for (key, (_, sale)) in sales {
        let body = serde_json::to_vec_pretty(&sale)
            .map_err(|e| ApiError::Internal(format!("sale not serialisable: {e}")))?;
        bodies.push((key, body));
    }
    let results: Vec<(String, Result<(), crate::store::StoreError>)> = stream::iter(bodies)
        .map(|(key, body)| {
            let state = state.clone();
            async move {
                let result = state.store().put(&key, body).await;
                (key, result)
            }
        })
        .buffered(STORE_CONCURRENCY)
        .collect()
        .await;
    let failed: Vec<&String> = results
        .iter()
        .filter_map(|(key, r)| r.as_ref().err().map(|_| key))
        .collect();
    for (key, result) in &results {
        if let Err(e) = result {
            tracing::error!(event = "sale", key = %key, store = %state.store().describe(), error = %e, "sale could not be stored");
        }
    }
    if !failed.is_empty() {
        return Err(ApiError::Unavailable(format!(
            "{} of {} sale(s) could not be stored in {}; send the request again (it is idempotent)",
            failed.len(),
            results.len(),
            state.store().describe()
        )));
    }
    Ok(Json(SalesReply {
        stored: results.len(),
        keys: results.into_iter().map(|(k, _)| k).collect(),
        unverified_ids: true,
    })
    .into_response())
}

async fn health(State(state): State<AppState>) -> Response {
    let model = state.model();
    (
        StatusCode::OK,
        Json(HealthReply {
            status: "ok".to_string(),
            model_id: model.id.clone(),
            trained_at: model.artifact.trained_at.clone(),
            uptime_s: state.uptime_seconds(),
            store: state.store().describe(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }),
    )
        .into_response()
}

async fn model_info(State(state): State<AppState>) -> Response {
    Json(schema_info::document(&state.model())).into_response()
}
