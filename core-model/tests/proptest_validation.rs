//! Validation is total: any JSON object or any bytes give a house, a table or named errors,
//! never a panic.

use std::collections::BTreeSet;

use core_model::Table;
use core_model::house::house_from_json;
use core_model::schema::{COLUMNS, ID_COLUMN, TARGET_COLUMN};
use proptest::prelude::*;
use serde_json::{Map, Value as Json};

/// Names a caller might send: schema names in both spellings, Id/SalePrice, and anything else.
fn key() -> impl Strategy<Value = String> {
    let kaggle: Vec<String> = COLUMNS.iter().map(|c| c.name.to_string()).collect();
    let decock: Vec<String> = COLUMNS.iter().map(|c| c.decock.to_string()).collect();
    prop_oneof![
        4 => prop::sample::select(kaggle),
        2 => prop::sample::select(decock),
        1 => prop::sample::select(vec![ID_COLUMN.to_string(), TARGET_COLUMN.to_string()]),
        2 => ".{0,16}",
        1 => "[A-Za-z /_-]{0,16}",
    ]
}

/// Strings that exercise the parsers: level codes, numbers as text, NA, junk.
fn text() -> impl Strategy<Value = String> {
    let codes: Vec<String> = COLUMNS
        .iter()
        .flat_map(|c| c.levels.iter().map(|l| l.code.to_string()))
        .chain(
            [
                "NA", "", " ", "020", "NAmes", "C (all)", "1e400", "-0", "NaN", "inf",
            ]
            .map(String::from),
        )
        .collect();
    prop_oneof![
        3 => prop::sample::select(codes),
        2 => any::<f64>().prop_map(|x| x.to_string()),
        2 => any::<i32>().prop_map(|x| x.to_string()),
        2 => ".{0,24}",
    ]
}

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>().prop_map(|x| serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)),
        (-5000.0..5000.0f64)
            .prop_map(|x| serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number)),
        (0i64..3000).prop_map(Json::from),
        text().prop_map(Json::String),
    ]
}

fn json_value() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::vec((".{0,8}", inner), 0..4)
                .prop_map(|pairs| Json::Object(pairs.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Json>> {
    prop::collection::vec((key(), json_value()), 0..24)
        .prop_map(|pairs| pairs.into_iter().collect())
}

/// A cell of a delimited file, including quotes, separators and line breaks.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => text(),
        1 => "[\",\t\r\n a-z0-9]{0,6}",
    ]
}

/// A header name: mostly schema names, without quotes or separators so it reads back verbatim.
fn header_name() -> impl Strategy<Value = String> {
    let kaggle: Vec<String> = COLUMNS.iter().map(|c| c.name.to_string()).collect();
    let decock: Vec<String> = COLUMNS.iter().map(|c| c.decock.to_string()).collect();
    prop_oneof![
        4 => prop::sample::select(kaggle),
        2 => prop::sample::select(decock),
        1 => prop::sample::select(vec![ID_COLUMN.to_string(), TARGET_COLUMN.to_string(), "Order".to_string()]),
        1 => "[A-Za-z0-9 /_-]{0,16}",
    ]
}

/// A table with a header of (mostly) real column names and rows of arbitrary cells.
fn table_text() -> impl Strategy<Value = String> {
    let names = prop::collection::vec(header_name(), 1..12);
    let delimiter = prop::sample::select(vec![",", "\t"]);
    (names, delimiter, 0usize..6).prop_flat_map(|(names, delimiter, rows)| {
        let width = names.len();
        let row = prop::collection::vec(cell(), width.saturating_sub(1)..=width + 1);
        prop::collection::vec(row, rows).prop_map(move |rows| {
            let mut text = names.join(delimiter);
            for row in rows {
                text.push('\n');
                text.push_str(&row.join(delimiter));
            }
            text
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_json_object_gives_a_house_or_errors_naming_input_fields(object in json_object()) {
        match house_from_json(&object) {
            Ok(house) => {
                prop_assert!(house.missing().len() <= COLUMNS.len());
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                prop_assert!(errors.len() <= object.len());
                for error in &errors {
                    prop_assert!(
                        object.contains_key(&error.field),
                        "error names {:?}, which is not an input field", error.field
                    );
                    prop_assert!(error.field != ID_COLUMN && error.field != TARGET_COLUMN);
                    prop_assert!(!error.problem.is_empty());
                }
                let fields: BTreeSet<&str> = errors.iter().map(|e| e.field.as_str()).collect();
                prop_assert_eq!(fields.len(), errors.len(), "one error per field");
            }
        }
    }

    #[test]
    fn any_bytes_read_as_a_table_without_panicking(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = Table::read(bytes.as_slice());
    }

    #[test]
    fn any_cells_under_a_real_header_read_without_panicking(text in table_text()) {
        if let Ok(table) = Table::read(text.as_bytes()) {
            let header: BTreeSet<&str> = text
                .lines()
                .next()
                .unwrap_or_default()
                .split([',', '\t'])
                .map(str::trim)
                .collect();
            for row in &table.invalid {
                prop_assert!(row.line >= 2, "data rows start on line 2");
                for error in &row.errors {
                    prop_assert!(
                        header.contains(error.field.as_str()) || error.field == ID_COLUMN,
                        "error names {:?}, not a header column", error.field
                    );
                }
            }
            let _ = table.into_dataset();
        }
    }
}
