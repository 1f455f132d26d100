//! amesops: the operator console and command-line tool of the Ames house-price model.
//!
//! The binary (`src/main.rs`) only parses the command line; everything lives here so that
//! benchmarks and tests can reach it.

pub mod backend;
pub mod bundled;
pub mod cli;
pub mod code_digest;
pub mod config;
pub mod data_quality;
pub mod files;
pub mod launch;
pub mod operations;
pub mod params;
pub mod pipeline;
pub mod project;
pub mod provenance;
pub mod tui;

// The predictor's test support, shared by path with the predictor's and the console's
// integration tests: the unit tests need a trained model and a store that keeps nothing.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../predictor/tests/support/fixtures.rs"]
mod test_fixtures;
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../predictor/tests/support/stores.rs"]
mod test_stores;
