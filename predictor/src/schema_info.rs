//! `GET /model`: the model's metadata and the feature schema a client needs to build a form.

use core_model::fill::Fill;
use core_model::schema::{COLUMNS, Column};
use serde::Serialize;

use crate::state::ServedModel;

/// One field of the form.
#[derive(Debug, Serialize)]
pub struct FieldInfo<'a> {
    /// Name (Kaggle) and alias (De Cock), type, levels, range, unit, description.
    #[serde(flatten)]
    pub column: &'a Column,
    /// No field is required: a missing one is imputed.
    pub required: bool,
    /// What the model uses when the field is missing.
    pub default: serde_json::Value,
    /// Share of the model's reliance on this field (0–1): the linear part's absolute weights
    /// and the trees' split cover, blended with the blend weights.
    pub importance: f64,
}

/// Fields in form order: the key fields first, then by importance.
pub fn fields(model: &ServedModel) -> Vec<FieldInfo<'static>> {
    let pipeline = &model.artifact.model.pipeline;
    let per_column = model.artifact.model.column_importance();
    let mut fields: Vec<FieldInfo<'static>> = COLUMNS
        .iter()
        .zip(&per_column)
        .map(|(column, weight)| FieldInfo {
            column,
            required: false,
            default: match pipeline.imputer.fills.get(column.name) {
                Some(Fill::Number(x)) => serde_json::json!(x),
                Some(Fill::Level(code)) => serde_json::json!(code),
                None => serde_json::Value::Null,
            },
            importance: *weight,
        })
        .collect();
    // The key fields first, in their order; then the rest by the model's weight on them.
    let rank = |f: &FieldInfo| {
        core_model::schema::KEY_FIELDS
            .iter()
            .position(|k| *k == f.column.name)
            .unwrap_or(usize::MAX)
    };
    fields.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(b.importance.total_cmp(&a.importance))
    });
    fields
}

/// The whole `/model` document.
pub fn document(model: &ServedModel) -> serde_json::Value {
    let artifact = &model.artifact;
    serde_json::json!({
        "id": model.id,
        "sha256": model.sha256,
        "format_version": artifact.format_version,
        "crate_version": artifact.crate_version,
        "trained_at": artifact.trained_at,
        "data_md5": artifact.data_md5,
        "run_id": artifact.run_id,
        "params": artifact.params,
        "metrics": artifact.metrics,
        "interval_level": artifact.model.interval.level,
        "features": artifact.feature_names.len(),
        "fields": fields(model),
        "reply_fields": crate::wire::reply_fields(),
        "sales_reply_fields": crate::wire::sales_reply_fields(),
        "interval_method": if artifact.model.reference.range.is_some() {
            core_model::interval::METHOD
        } else {
            "fixed"
        },
    })
}
