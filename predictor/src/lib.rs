//! predictor: the house-price model behind an HTTP API.
//!
//! One axum [`api::router`] serves `POST /predict`, `POST /predict/batch`, `GET /health` and
//! `GET /model`. The Lambda binary runs it under `lambda_http`; `amesops serve` and the console
//! run it under `axum::serve`. Every prediction is stored as a record ([`store`]) before the
//! reply, and logged as one JSON line ([`logging`]).

pub mod api;
#[cfg(feature = "s3")]
pub mod aws;
pub mod emf;
pub mod error;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod loader;
pub mod logging;
pub mod page;
pub mod record;
pub mod sales;
pub mod schema_info;
pub mod serve;
pub mod state;
pub mod store;
pub mod wire;

pub use api::router;
pub use state::{AppState, ServedModel};
