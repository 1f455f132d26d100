//! API errors: one enum, one JSON shape, the right status for each.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use core_model::house::FieldError;

pub use crate::wire::FieldProblem;
use crate::wire::{ErrorDetail, ErrorReply};

/// Everything a request can fail with; client mistakes are 4xx, our faults 5xx.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The house (or batch) broke validation rules.
    InvalidInput {
        /// Summary.
        message: String,
        /// Each field and what is wrong with it.
        fields: Vec<FieldProblem>,
    },
    /// The body is not valid JSON.
    BadJson(String),
    /// Body above 1 MiB, or batch above 1,000 houses.
    PayloadTooLarge(String),
    /// Not `application/json`.
    UnsupportedMediaType(String),
    /// No such route.
    NotFound(String),
    /// Route exists, method does not.
    MethodNotAllowed(String),
    /// A backend (the store) failed; the request may be sent again.
    Unavailable(String),
    /// Our fault.
    Internal(String),
}

impl From<&FieldError> for FieldProblem {
    fn from(e: &FieldError) -> Self {
        let problem = if e.value.is_empty() {
            e.problem.clone()
        } else {
            format!("{} (got {:?})", e.problem, e.value)
        };
        FieldProblem {
            field: e.field.clone(),
            problem,
        }
    }
}

impl ApiError {
    /// Builds the invalid-input error from validation problems.
    pub fn invalid(errors: &[FieldError]) -> ApiError {
        let fields: Vec<FieldProblem> = errors.iter().map(FieldProblem::from).collect();
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        ApiError::InvalidInput {
            message: format!("{} invalid field(s): {}", fields.len(), names.join(", ")),
            fields,
        }
    }

    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::InvalidInput { .. } | ApiError::BadJson(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::InvalidInput { .. } => "invalid_input",
            ApiError::BadJson(_) => "bad_json",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Unavailable(_) => "store_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn message(&self) -> &str {
        match self {
            ApiError::InvalidInput { message, .. }
            | ApiError::BadJson(message)
            | ApiError::PayloadTooLarge(message)
            | ApiError::UnsupportedMediaType(message)
            | ApiError::NotFound(message)
            | ApiError::MethodNotAllowed(message)
            | ApiError::Unavailable(message)
            | ApiError::Internal(message) => message,
        }
    }

    fn fields(&self) -> &[FieldProblem] {
        match self {
            ApiError::InvalidInput { fields, .. } => fields,
            _ => &[],
        }
    }

    /// The `{"error": {...}}` reply, also an entry of a batch reply.
    pub fn to_reply(&self) -> ErrorReply {
        ErrorReply {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.message().to_string(),
                fields: self.fields().to_vec(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.to_reply())).into_response();
        response.extensions_mut().insert(LoggedError(self.code()));
        response
    }
}

/// Marks a response as an error for the request log.
#[derive(Debug, Clone, Copy)]
pub struct LoggedError(pub &'static str);
