//! The model artifact: one JSON document with the fitted model and everything needed to trust it.
//!
//! Its sha256 is the model's identity: the first 12 hex digits are the model id shown
//! everywhere (health endpoint, prediction records, tracker, deploy records).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::digest;
use crate::encode::PipelineError;
use crate::interval::IntervalReport;
use crate::metrics::Metrics;
use crate::params::TrainParams;
use crate::predict::Model;
use crate::train::{CvReport, Quality};

/// The artifact layout this build reads and writes.
///
/// 2: the estimator is linear, trees or a blend of both (`model.estimator.kind`), numeric
/// features carry their training range, metrics carry `quality` (repeated CV, time holdout).
/// 3: the model carries a `reference` (feature means for explanations, comparable sales, the
/// calibrated range) and metrics an `interval` report. Format 2 still loads: its prices come
/// with the fixed-width interval and no comparables.
pub const FORMAT_VERSION: u32 = 3;

/// Layouts this build reads.
pub const READABLE_FORMATS: [u32; 2] = [2, 3];

/// Quality evidence stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactMetrics {
    /// Cross-validation of the training procedure.
    pub cv: CvReport,
    /// The final model on its own training rows.
    pub train: Metrics,
    /// Rows the final model was fitted on.
    pub rows: usize,
    /// Ids of the rows the outlier rule dropped.
    pub dropped_outliers: Vec<i64>,
    /// Deciles (10 %, 20 % … 90 %) of the training sale prices: the reference for drift.
    #[serde(default)]
    pub price_deciles: Vec<f64>,
    /// Repeated cross-validation and time holdout of the linear model, the trees and the blend.
    pub quality: Quality,
    /// Coverage and width of the calibrated range (format 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<IntervalReport>,
}

/// The model artifact as stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Layout version; loading refuses versions it does not know.
    pub format_version: u32,
    /// Version of core-model that wrote it.
    pub crate_version: String,
    /// When training finished (RFC 3339, UTC).
    pub trained_at: String,
    /// md5 of the training data file, as DVC records it.
    pub data_md5: String,
    /// The experiment-tracker run that produced it, when tracked.
    pub run_id: Option<String>,
    /// Training parameters.
    pub params: TrainParams,
    /// Quality evidence.
    pub metrics: ArtifactMetrics,
    /// Names of the encoded features, in order.
    pub feature_names: Vec<String>,
    /// The fitted model.
    pub model: Model,
    /// What every input field and the predicted price looked like in the training rows: the
    /// reference of drift monitoring (absent in artifacts written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<crate::sketch::ReferenceSketch>,
}

/// An artifact read from bytes, with its identity.
#[derive(Debug, Clone)]
pub struct LoadedArtifact {
    /// The first 12 hex digits of the sha256.
    pub id: String,
    /// The full sha256 of the bytes.
    pub sha256: String,
    /// The artifact, ready to predict.
    pub artifact: Artifact,
}

/// Why an artifact could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// File access failed.
    #[error("cannot access model artifact {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The reason.
        source: std::io::Error,
    },
    /// Not JSON, or not the expected shape.
    #[error("model artifact is not valid: {0}")]
    Invalid(String),
    /// Written by a build with another layout.
    #[error(
        "model artifact has format version {found}, but this build reads version {FORMAT_VERSION}; retrain the model with this build (amesops train) or use the matching amesops release"
    )]
    UnknownFormat {
        /// The version in the file.
        found: u64,
    },
    /// The pipeline refers to things this build does not have.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// Bytes do not match the expected model id.
    #[error("model artifact sha256 {actual} does not match the expected {expected}")]
    Mismatch {
        /// Expected digest or id prefix.
        expected: String,
        /// Actual sha256.
        actual: String,
    },
}

/// The model id of artifact bytes.
pub fn model_id(bytes: &[u8]) -> String {
    digest::sha256_hex(bytes)[..12].to_string()
}

impl Artifact {
    /// Packages a training result with its provenance (no tracker run yet).
    pub fn from_trained(
        trained: crate::train::Trained,
        params: TrainParams,
        trained_at: String,
        data_md5: String,
    ) -> Artifact {
        Artifact {
            format_version: FORMAT_VERSION,
            crate_version: env!("CARGO_PKG_VERSION").to_string(),
            trained_at,
            data_md5,
            run_id: None,
            params,
            feature_names: trained.model.pipeline.feature_names(),
            metrics: ArtifactMetrics {
                cv: trained.cv,
                train: trained.train,
                rows: trained.rows,
                dropped_outliers: trained.dropped_outliers,
                price_deciles: trained.price_deciles,
                quality: trained.quality,
                interval: Some(trained.interval),
            },
            model: trained.model,
            reference: None,
        }
    }

    /// Adds the reference sketch of the training rows (`dataset`), priced by this artifact's model.
    pub fn with_reference(mut self, dataset: &crate::Dataset) -> Artifact {
        let prices: Vec<f64> = dataset
            .houses
            .iter()
            .map(|h| self.model.predict(h).price)
            .collect();
        self.reference = Some(crate::sketch::ReferenceSketch::build(
            &dataset.houses,
            &prices,
        ));
        self
    }

    /// Serialises to the stored JSON bytes: indented for reading down to [`INDENT_DEPTH`]
    /// levels, compact below (a thousand trees of node arrays would otherwise take one line per
    /// number).
    pub fn to_bytes(&self) -> Result<Vec<u8>, ArtifactError> {
        let mut bytes = Vec::new();
        let mut serializer =
            serde_json::Serializer::with_formatter(&mut bytes, ShallowPretty::default());
        self.serialize(&mut serializer)
            .map_err(|e| ArtifactError::Invalid(e.to_string()))?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Writes the artifact and returns its model id.
    pub fn save(&self, path: &Path) -> Result<String, ArtifactError> {
        let bytes = self.to_bytes()?;
        // Durably, through a temporary file: a crash never leaves half a model behind.
        crate::files::write_bytes(path, &bytes).map_err(|source| ArtifactError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(model_id(&bytes))
    }

    /// Reads and checks an artifact from bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<LoadedArtifact, ArtifactError> {
        #[derive(Deserialize)]
        struct Header {
            format_version: Option<serde_json::Value>,
        }
        let header: Header =
            serde_json::from_slice(bytes).map_err(|e| ArtifactError::Invalid(e.to_string()))?;
        match header.format_version.as_ref().and_then(|v| v.as_u64()) {
            Some(v) if READABLE_FORMATS.iter().any(|f| u64::from(*f) == v) => {}
            Some(found) => return Err(ArtifactError::UnknownFormat { found }),
            None => {
                return Err(ArtifactError::Invalid(
                    "no numeric format_version field: this is not an amesops model artifact"
                        .to_string(),
                ));
            }
        }
        let mut artifact: Artifact =
            serde_json::from_slice(bytes).map_err(|e| ArtifactError::Invalid(e.to_string()))?;
        artifact.model.pipeline.prepare()?;
        let features = artifact.model.pipeline.features.len();
        artifact
            .model
            .estimator
            .prepare(features)
            .map_err(ArtifactError::Invalid)?;
        artifact
            .model
            .reference
            .prepare(features)
            .map_err(ArtifactError::Invalid)?;
        let sha256 = digest::sha256_hex(bytes);
        Ok(LoadedArtifact {
            id: sha256[..12].to_string(),
            sha256,
            artifact,
        })
    }

    /// Reads and checks an artifact file.
    pub fn load(path: &Path) -> Result<LoadedArtifact, ArtifactError> {
        let bytes = std::fs::read(path).map_err(|source| ArtifactError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Artifact::from_bytes(&bytes)
    }
}

impl LoadedArtifact {
    /// Fails unless the sha256 starts with `expected` (a model id or a full digest).
    pub fn verify(&self, expected: &str) -> Result<(), ArtifactError> {
        if !expected.is_empty() && self.sha256.starts_with(&expected.to_ascii_lowercase()) {
            Ok(())
        } else {
            Err(ArtifactError::Mismatch {
                expected: expected.to_string(),
                actual: self.sha256.clone(),
            })
        }
    }
}

/// Nesting depth down to which the artifact is indented; deeper values are written compactly.
pub const INDENT_DEPTH: usize = 5;

/// serde_json's pretty layout for the first [`INDENT_DEPTH`] levels, compact below.
#[derive(Debug, Default)]
struct ShallowPretty {
    depth: usize,
    has_value: bool,
}

impl ShallowPretty {
    fn indented(&self) -> bool {
        self.depth <= INDENT_DEPTH
    }

    fn newline_indent<W: ?Sized + std::io::Write>(&self, writer: &mut W) -> std::io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.depth {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    fn begin<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        open: &[u8],
    ) -> std::io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        writer.write_all(open)
    }

    fn end<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        close: &[u8],
    ) -> std::io::Result<()> {
        let indented = self.indented();
        self.depth -= 1;
        if self.has_value && indented {
            self.newline_indent(writer)?;
        }
        writer.write_all(close)
    }

    fn separator<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        if self.indented() {
            self.newline_indent(writer)?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for ShallowPretty {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.begin(writer, b"[")
    }

    fn end_array<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.end(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.separator(writer, first)
    }

    fn end_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        _writer: &mut W,
    ) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.begin(writer, b"{")
    }

    fn end_object<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.end(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.separator(writer, first)
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(if self.indented() { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        _writer: &mut W,
    ) -> std::io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}
