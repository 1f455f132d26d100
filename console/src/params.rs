//! `params.yaml`: the pipeline's parameters, one section per stage.

use std::path::Path;

use anyhow::{Context, Result};
use core_model::TrainParams;
use serde::Deserialize;

/// The whole parameters file; absent sections take their defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Params {
    /// `fetch` stage.
    pub fetch: FetchParams,
    /// `split` stage.
    pub split: SplitParams,
    /// `train` stage.
    pub train: TrainParams,
    /// Retrain-and-redeploy gate.
    pub retrain: RetrainParams,
}

/// The gate of retrain-and-redeploy.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainParams {
    /// A new model may be worse than production by at most this much RMSE(log).
    pub tolerance: f64,
    /// A new model may move the p99 of |relative price change| over the stored production
    /// requests of the last week (the shadow replay) by at most this much (0.25 = 25 %);
    /// absent: no limit.
    pub max_shadow_p99_change: Option<f64>,
}

impl Default for RetrainParams {
    fn default() -> Self {
        Self {
            tolerance: 0.002,
            max_shadow_p99_change: None,
        }
    }
}

/// Where the raw data comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchParams {
    /// `bundled`, a file path, or an http(s) URL.
    pub source: String,
    /// Expected md5 of a downloaded source; a mismatch is refused.
    pub md5: Option<String>,
    /// Rows with invalid values: `fail`, `skip`, or `impute` (treat each invalid value as
    /// missing and keep the row; the pipeline's default, as public data has typos).
    pub on_invalid: core_model::dataset::OnInvalid,
    /// Append the closed sales of the target's store (with the house features of the
    /// predictions they close) to the fetched data.
    pub include_sales: bool,
}

impl Default for FetchParams {
    fn default() -> Self {
        Self {
            source: "bundled".to_string(),
            md5: None,
            on_invalid: core_model::dataset::OnInvalid::Impute,
            include_sales: false,
        }
    }
}

/// How the data is split into training and test rows.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SplitParams {
    /// Share of rows held out for the test set.
    pub test_fraction: f64,
    /// Seed of the shuffle.
    pub seed: u64,
    /// Which rows are held out.
    pub hold_out: HoldOut,
}

impl Default for SplitParams {
    fn default() -> Self {
        Self {
            test_fraction: 0.2,
            seed: 42,
            hold_out: HoldOut::Auto,
        }
    }
}

/// Which rows the split holds out for the test set (and so for the gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HoldOut {
    /// A seeded random share of the rows.
    Random,
    /// The share sold most recently (YrSold, MoSold), so the gate judges both models on the
    /// newest sales.
    Newest,
    /// `newest` when the fetch stage appends closed sales (`fetch.include_sales`), else `random`.
    Auto,
}

impl HoldOut {
    /// The rule in force: `auto` resolved against whether sales are appended.
    pub fn resolve(self, include_sales: bool) -> HoldOut {
        match self {
            HoldOut::Auto if include_sales => HoldOut::Newest,
            HoldOut::Auto => HoldOut::Random,
            rule => rule,
        }
    }

    /// The name params.yaml uses.
    pub fn name(self) -> &'static str {
        match self {
            HoldOut::Random => "random",
            HoldOut::Newest => "newest",
            HoldOut::Auto => "auto",
        }
    }
}

impl Params {
    /// Reads a parameters file; a missing default file means all defaults.
    pub fn load(path: &Path, required: bool) -> Result<Params> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_yaml::from_str(&text)
                .with_context(|| format!("invalid parameters in {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
                Ok(Params::default())
            }
            Err(e) => {
                Err(e).with_context(|| format!("cannot read parameters file {}", path.display()))
            }
        }
    }
}
