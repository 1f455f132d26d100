//! Test support shared by the predictor's tests, its benchmark and the console's tests (which
//! include these files by path): one module per concern.
//!
//! - [`servers`]: processes in their own group, tools on `PATH`, free ports, moto S3, a
//!   blocking HTTP client for readiness checks.
//! - [`aws`]: SDK clients for moto and the S3 calls the tests check with.
//! - [`fixtures`]: the bundled data and a model trained on it once per process.
//! - [`stores`]: record stores that accept or refuse everything; what a folder store holds.
//! - [`logs`]: the JSON log lines of the code under test.
//! - [`router`]: one request through the router, the reply parsed as JSON.

#![allow(dead_code)]

pub mod aws;
pub mod fixtures;
pub mod logs;
pub mod router;
pub mod servers;
pub mod stores;
