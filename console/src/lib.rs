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
