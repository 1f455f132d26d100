//! core-model: the one definition of an Ames house and of the model that prices it.
//!
//! Training (the `amesops` stages) and serving (the predictor) both go through this crate:
//! [`schema`] says what a house is, [`house`] validates one, [`encode`] turns it into features
//! with state fitted on training rows only, [`model`] (the elastic net) and [`gbm`] (boosted
//! trees) are the estimators, [`train`] measures and fits them, and
//! [`artifact`] stores the result as one verifiable JSON document.

pub mod appraisal;
pub mod artifact;
pub mod comparables;
pub mod dataset;
pub mod derived;
pub mod digest;
pub mod encode;
pub mod explain;
pub mod files;
pub mod fill;
pub mod gbm;
pub mod house;
pub mod interval;
pub mod metrics;
pub mod model;
pub mod params;
pub mod predict;
pub mod schema;
pub mod sketch;
pub mod split;
pub mod stats;
pub mod train;

pub use appraisal::Appraisal;
pub use artifact::{Artifact, LoadedArtifact};
pub use dataset::{Dataset, Table};
pub use house::House;
pub use metrics::Metrics;
pub use params::TrainParams;
pub use predict::{Model, ModelKind, Prediction};
