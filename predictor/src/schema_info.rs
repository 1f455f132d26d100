//! `GET /model`: the model's metadata and the feature schema a client needs to build a form.

use core_model::fill::Fill;
use core_model::schema::{COLUMNS, Column};
use serde::Serialize;

use crate::state::ServedModel;
use crate::wire::{FieldReply, LevelReply, ModelReply};

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

impl From<FieldInfo<'_>> for FieldReply {
    fn from(field: FieldInfo<'_>) -> FieldReply {
        let column = field.column;
        FieldReply {
            name: column.name.to_string(),
            decock: column.decock.to_string(),
            kind: column.kind,
            description: column.description.to_string(),
            unit: column.unit.map(str::to_string),
            levels: column
                .levels
                .iter()
                .map(|l| LevelReply {
                    code: l.code.to_string(),
                    label: l.label.to_string(),
                })
                .collect(),
            na_means_none: column.na_means_none,
            min: column.min,
            max: column.max,
            required: field.required,
            default: field.default,
            importance: field.importance,
        }
    }
}

/// The whole `/model` document.
pub fn document(model: &ServedModel) -> ModelReply {
    let artifact = &model.artifact;
    ModelReply {
        id: model.id.clone(),
        sha256: model.sha256.clone(),
        format_version: artifact.format_version,
        crate_version: artifact.crate_version.clone(),
        trained_at: artifact.trained_at.clone(),
        data_md5: artifact.data_md5.clone(),
        run_id: artifact.run_id.clone(),
        params: artifact.params.clone(),
        metrics: artifact.metrics.clone(),
        interval_level: artifact.model.interval.level,
        features: artifact.feature_names.len(),
        fields: fields(model).into_iter().map(FieldReply::from).collect(),
        reply_fields: crate::wire::reply_fields(),
        sales_reply_fields: crate::wire::sales_reply_fields(),
        interval_method: if artifact.model.reference.range.is_some() {
            core_model::interval::METHOD
        } else {
            "fixed"
        }
        .to_string(),
    }
}
