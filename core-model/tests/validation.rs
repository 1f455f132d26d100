//! Validation rules of one house (`house_from_json`, `HouseBuilder`) and of whole tables
//! (`Table::read`, `write_csv`).

use core_model::dataset::{self, DataError};
use core_model::house::{FieldError, HouseBuilder, Raw, Value, house_from_json};
use core_model::schema::{self, COLUMNS};
use core_model::{House, Table};
use serde_json::{Map, Value as Json, json};

const AMES_CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/ames.csv");
const DECOCK_TSV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/decock-sample.tsv"
);

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        other => panic!("test input must be a JSON object, got {other}"),
    }
}

fn accept(value: Json) -> House {
    match house_from_json(&object(value.clone())) {
        Ok(house) => house,
        Err(errors) => panic!("{value} should be accepted, got {errors:?}"),
    }
}

fn reject(value: Json) -> Vec<FieldError> {
    match house_from_json(&object(value.clone())) {
        Ok(house) => panic!("{value} should be rejected, got {house:?}"),
        Err(errors) => errors,
    }
}

/// The single error of an input that breaks exactly one rule.
fn single_error(value: Json) -> FieldError {
    let mut errors = reject(value);
    assert_eq!(errors.len(), 1, "expected exactly one error: {errors:?}");
    errors.remove(0)
}

// ---------------------------------------------------------------- single house, one rule each

#[test]
fn unknown_column_is_rejected_and_suggests_close_names() {
    let error = single_error(json!({"GrLivArae": 1500}));
    assert_eq!(error.field, "GrLivArae");
    assert!(error.problem.contains("unknown column"), "{error}");
    assert!(error.problem.contains("GrLivArea"), "{error}");
}

#[test]
fn unknown_column_without_a_close_name_suggests_nothing() {
    let error = single_error(json!({"Zqxwvutsrpon": 1}));
    assert_eq!(error.field, "Zqxwvutsrpon");
    assert_eq!(error.problem, "unknown column");
}

#[test]
fn string_for_a_number_column_is_rejected() {
    let error = single_error(json!({"GrLivArea": "large"}));
    assert_eq!(
        (error.field.as_str(), error.value.as_str()),
        ("GrLivArea", "large")
    );
    assert!(error.problem.contains("expected a number"), "{error}");
}

#[test]
fn numeric_string_for_a_number_column_is_accepted() {
    let house = accept(json!({"GrLivArea": " 1500 "}));
    assert_eq!(house.get_by_name("GrLivArea"), Some(Value::Number(1500.0)));
}

#[test]
fn boolean_value_is_rejected() {
    let error = single_error(json!({"GrLivArea": true}));
    assert_eq!(error.field, "GrLivArea");
    assert!(error.value.contains("boolean"), "{error}");
    assert!(error.problem.contains("a boolean"), "{error}");
}

#[test]
fn array_value_is_rejected() {
    let error = single_error(json!({"Neighborhood": ["CollgCr"]}));
    assert_eq!(error.field, "Neighborhood");
    assert!(error.problem.contains("an array"), "{error}");
}

#[test]
fn object_value_is_rejected() {
    let error = single_error(json!({"LotArea": {"value": 8450}}));
    assert_eq!(error.field, "LotArea");
    assert!(error.problem.contains("an object"), "{error}");
}

#[test]
fn fractional_number_in_an_integer_column_is_rejected() {
    let error = single_error(json!({"FullBath": 1.5}));
    assert_eq!(
        (error.field.as_str(), error.value.as_str()),
        ("FullBath", "1.5")
    );
    assert!(error.problem.contains("whole number"), "{error}");
}

#[test]
fn fractional_number_in_a_real_column_is_accepted() {
    let house = accept(json!({"LotFrontage": 65.5}));
    assert_eq!(house.get_by_name("LotFrontage"), Some(Value::Number(65.5)));
}

#[test]
fn negative_area_is_rejected() {
    let error = single_error(json!({"GrLivArea": -10}));
    assert_eq!(
        (error.field.as_str(), error.value.as_str()),
        ("GrLivArea", "-10")
    );
    assert!(error.problem.contains("must not be negative"), "{error}");
}

#[test]
fn absurd_sizes_and_counts_are_rejected_with_the_limit() {
    let error = single_error(json!({"GrLivArea": 2e20}));
    assert_eq!(error.field, "GrLivArea");
    assert!(error.problem.contains("at most 100000 sq ft"), "{error}");
    let error = single_error(json!({"FullBath": 400}));
    assert!(error.problem.contains("at most 50"), "{error}");
    // Every numeric column has an upper bound, so no valid input can overflow a price.
    for column in COLUMNS
        .iter()
        .filter(|c| matches!(c.kind, schema::Kind::Integer | schema::Kind::Real))
    {
        assert!(column.max.is_some(), "{} has no maximum", column.name);
    }
}

#[test]
fn year_before_the_plausible_range_is_rejected() {
    let error = single_error(json!({"YearBuilt": 1700}));
    assert_eq!(
        (error.field.as_str(), error.value.as_str()),
        ("YearBuilt", "1700")
    );
    assert!(error.problem.contains("at least 1800"), "{error}");
}

#[test]
fn year_after_the_plausible_range_is_rejected() {
    let error = single_error(json!({"YearBuilt": 2500}));
    assert_eq!(
        (error.field.as_str(), error.value.as_str()),
        ("YearBuilt", "2500")
    );
    assert!(error.problem.contains("at most 2100"), "{error}");
}

#[test]
fn years_at_the_range_limits_are_accepted() {
    let house = accept(json!({"YearBuilt": 1800, "YearRemodAdd": 2100}));
    assert_eq!(house.get_by_name("YearBuilt"), Some(Value::Number(1800.0)));
    assert_eq!(
        house.get_by_name("YearRemodAdd"),
        Some(Value::Number(2100.0))
    );
}

#[test]
fn month_thirteen_is_rejected() {
    let error = single_error(json!({"MoSold": 13}));
    assert_eq!(
        (error.field.as_str(), error.value.as_str()),
        ("MoSold", "13")
    );
    assert!(error.problem.contains("at most 12"), "{error}");
}

#[test]
fn month_zero_is_rejected() {
    let error = single_error(json!({"MoSold": 0}));
    assert!(error.problem.contains("at least 1"), "{error}");
}

#[test]
fn undocumented_level_is_rejected_listing_the_documented_ones() {
    let error = single_error(json!({"KitchenQual": "Excellent"}));
    assert_eq!(
        (error.field.as_str(), error.value.as_str()),
        ("KitchenQual", "Excellent")
    );
    assert!(error.problem.contains("not a documented level"), "{error}");
    for code in ["Po", "Fa", "TA", "Gd", "Ex"] {
        assert!(error.problem.contains(code), "{code} missing from {error}");
    }
}

#[test]
fn documented_level_code_is_accepted_case_insensitively() {
    let house = accept(json!({"KitchenQual": "ex"}));
    assert_eq!(house.get_by_name("KitchenQual"), Some(Value::Level("Ex")));
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = reject(json!({
        "GrLivArea": -1,
        "FullBath": 1.5,
        "YearBuilt": 1700,
        "MoSold": 13,
        "KitchenQual": "Excellent",
        "GrLivArae": 5,
        "CentralAir": false,
        "LotArea": 8450,
        "Neighborhood": "NAmes",
    }));
    let mut found: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.field.as_str(), e.value.as_str()))
        .collect();
    found.sort_unstable();
    assert_eq!(
        found,
        vec![
            ("CentralAir", "<a boolean>"),
            ("FullBath", "1.5"),
            ("GrLivArae", ""),
            ("GrLivArea", "-1"),
            ("KitchenQual", "Excellent"),
            ("MoSold", "13"),
            ("YearBuilt", "1700"),
        ]
    );
    for error in &errors {
        assert!(!error.problem.is_empty(), "no problem text: {error:?}");
        let shown = error.to_string();
        assert!(shown.contains(&error.field), "{shown}");
        assert!(shown.contains(&error.value), "{shown}");
        assert!(shown.contains(&error.problem), "{shown}");
    }
}

#[test]
fn decock_column_names_are_accepted() {
    let house = accept(json!({
        "Gr Liv Area": 1500,
        "Year Remod/Add": 2001,
        "1st Flr SF": 800,
        "Kitchen Qual": "Gd",
    }));
    assert_eq!(house.get_by_name("GrLivArea"), Some(Value::Number(1500.0)));
    assert_eq!(
        house.get_by_name("YearRemodAdd"),
        Some(Value::Number(2001.0))
    );
    assert_eq!(house.get_by_name("1stFlrSF"), Some(Value::Number(800.0)));
    assert_eq!(house.get_by_name("KitchenQual"), Some(Value::Level("Gd")));
}

#[test]
fn zero_padded_subclass_is_accepted_as_its_documented_code() {
    let padded = accept(json!({"MSSubClass": "020"}));
    assert_eq!(padded.get_by_name("MSSubClass"), Some(Value::Level("20")));
    let number = accept(json!({"MSSubClass": 20}));
    assert_eq!(number.get_by_name("MSSubClass"), Some(Value::Level("20")));
}

#[test]
fn undocumented_subclass_number_is_rejected() {
    let error = single_error(json!({"MSSubClass": 25}));
    assert_eq!(error.field, "MSSubClass");
    assert!(error.problem.contains("not a documented level"), "{error}");
}

#[test]
fn null_and_na_mean_none_where_documented() {
    for raw in [Json::Null, json!("NA"), json!("")] {
        let house = accept(json!({"PoolQC": raw.clone(), "Alley": raw.clone()}));
        assert_eq!(house.get_by_name("PoolQC"), Some(Value::NoneLevel), "{raw}");
        assert_eq!(house.get_by_name("Alley"), Some(Value::NoneLevel), "{raw}");
        assert!(!house.missing().contains(&"PoolQC"), "{raw}");
    }
}

#[test]
fn null_and_na_mean_missing_where_none_is_not_a_level() {
    for raw in [Json::Null, json!("NA"), json!("")] {
        let house = accept(json!({"LotFrontage": raw.clone(), "KitchenQual": raw.clone()}));
        assert_eq!(house.get_by_name("LotFrontage"), None, "{raw}");
        assert_eq!(house.get_by_name("KitchenQual"), None, "{raw}");
        assert!(house.missing().contains(&"LotFrontage"), "{raw}");
        assert!(house.missing().contains(&"KitchenQual"), "{raw}");
    }
}

#[test]
fn kaggle_data_spellings_are_accepted() {
    let house = accept(json!({
        "Neighborhood": "NAmes",
        "MSZoning": "C (all)",
    }));
    assert_eq!(
        house.get_by_name("Neighborhood"),
        Some(Value::Level("Names"))
    );
    assert_eq!(house.get_by_name("MSZoning"), Some(Value::Level("C")));
}

#[test]
fn id_and_sale_price_are_ignored() {
    let house = accept(json!({"Id": "not a number", "SalePrice": [1], "LotArea": 8450}));
    assert_eq!(house.missing().len(), COLUMNS.len() - 1);
}

#[test]
fn empty_object_is_an_all_missing_house() {
    let house = accept(json!({}));
    assert_eq!(house, House::default());
    assert_eq!(house.missing().len(), 79);
}

#[test]
fn builder_types_csv_text_like_json() {
    let mut builder = HouseBuilder::new();
    builder.field("GrLivArea", Raw::Text("1710"));
    builder.field("Neighborhood", Raw::Text("NAmes"));
    builder.field("PoolQC", Raw::Text("NA"));
    builder.field("LotFrontage", Raw::Missing);
    let house = builder.finish().expect("valid CSV-like fields");
    let from_json = accept(json!({
        "GrLivArea": 1710,
        "Neighborhood": "NAmes",
        "PoolQC": null,
        "LotFrontage": null,
    }));
    assert_eq!(house, from_json);
}

#[test]
fn builder_by_index_reports_the_name_the_caller_used() {
    let index = schema::column_index("GrLivArea").expect("GrLivArea is a column");
    let mut builder = HouseBuilder::new();
    builder.column(index, "Gr Liv Area", Raw::Number(-3.0));
    let errors = builder.finish().expect_err("negative area");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field, "Gr Liv Area");
}

// ---------------------------------------------------------------- tables

fn read(text: &str) -> Result<Table, DataError> {
    Table::read(text.as_bytes())
}

#[test]
fn row_with_wrong_field_count_is_malformed_at_its_line() {
    let text = "Id,GrLivArea,LotArea\n1,1500,8450\n2,1600\n";
    match read(text) {
        Err(DataError::Malformed { line, message }) => {
            assert_eq!(line, 3, "{message}");
            assert!(message.contains("expected 3 fields"), "{message}");
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn line_numbers_are_right_with_windows_line_breaks_and_quoted_newlines() {
    let lf = "Id,GrLivArea,SalePrice\n1,1500,200000\n2,1600,150000\n3,-3,100000\n4,1600\n";
    let crlf = lf.replace('\n', "\r\n");
    for text in [lf, crlf.as_str()] {
        match read(text) {
            Err(DataError::Malformed { line, message }) => assert_eq!(line, 5, "{message}"),
            other => panic!("expected Malformed, got {other:?}"),
        }
        let table = read(
            text.trim_end()
                .rsplit_once(['\r', '\n'])
                .map_or(text, |(head, _)| head),
        )
        .expect("well-formed without its last row");
        assert_eq!(table.invalid[0].line, 4, "{:?}", table.invalid);
        assert_eq!(table.records.last().map(|r| r.line), Some(3));
    }
    // A quoted cell spanning two lines: the next row starts one line later.
    let quoted = "Id,GrLivArea,Neighborhood\r\n1,1500,\"NAmes\r\n\"\r\n2,-3,NAmes\r\n";
    let table = read(quoted).expect("well-formed");
    assert_eq!(
        table.invalid.first().map(|r| r.line),
        Some(4),
        "{:?}",
        table.invalid
    );
}

#[test]
fn unknown_header_column_is_named_with_suggestions() {
    match read("Id,GrLivArae,LotArea,Colourful Roof\n1,1500,8450,red\n") {
        Err(DataError::UnknownColumns(names)) => {
            assert_eq!(names.len(), 2, "{names:?}");
            assert!(names[0].contains("GrLivArae"), "{names:?}");
            assert!(names[0].contains("did you mean GrLivArea"), "{names:?}");
            assert!(names[1].contains("Colourful Roof"), "{names:?}");
        }
        other => panic!("expected UnknownColumns, got {other:?}"),
    }
}

#[test]
fn duplicate_header_column_is_rejected() {
    match read("Id,GrLivArea,Gr Liv Area\n1,1500,1500\n") {
        Err(DataError::DuplicateColumn(name)) => assert_eq!(name, "Gr Liv Area"),
        other => panic!("expected DuplicateColumn, got {other:?}"),
    }
}

#[test]
fn invalid_cells_are_reported_with_line_id_and_field() {
    let text =
        "Id,GrLivArea,FullBath,SalePrice\n1,1500,2,200000\n2,-3,1.5,150000\n3,1200,1,100000\n";
    let table = read(text).expect("well-formed table");
    assert_eq!(table.records.len(), 2);
    assert_eq!(table.invalid.len(), 1);
    let row = &table.invalid[0];
    assert_eq!((row.line, row.id), (3, Some(2)));
    let fields: Vec<(&str, &str)> = row
        .errors
        .iter()
        .map(|e| (e.field.as_str(), e.value.as_str()))
        .collect();
    assert_eq!(fields, vec![("GrLivArea", "-3"), ("FullBath", "1.5")]);
    assert!(row.to_string().starts_with("line 3 (Id 2)"), "{row}");
    assert!(matches!(
        table.into_dataset(),
        Err(DataError::InvalidRows(rows)) if rows.len() == 1
    ));
}

#[test]
fn invalid_sale_price_is_a_row_error() {
    let table = read("Id,GrLivArea,SalePrice\n1,1500,-5\n").expect("well-formed");
    assert_eq!(table.invalid.len(), 1);
    assert_eq!(table.invalid[0].errors[0].field, "SalePrice");
}

#[test]
fn decock_tsv_fixture_reads_without_invalid_rows_using_order_as_id() {
    let text = std::fs::read_to_string(DECOCK_TSV).expect("fixture exists");
    let table = Table::read_path(std::path::Path::new(DECOCK_TSV)).expect("fixture reads");
    assert!(table.invalid.is_empty(), "{:?}", table.invalid.first());
    assert_eq!(table.records.len(), 60);
    assert!(table.has_price);
    let orders: Vec<Option<i64>> = text
        .lines()
        .skip(1)
        .map(|line| line.split('\t').next().and_then(|o| o.parse().ok()))
        .collect();
    let ids: Vec<Option<i64>> = table.records.iter().map(|r| r.id).collect();
    assert_eq!(ids, orders);
    assert!(ids.iter().all(Option::is_some));
    let dataset = table.into_dataset().expect("every row is priced");
    assert_eq!(dataset.len(), 60);
}

fn round_trip(table: Table) {
    let ids: Vec<Option<i64>> = table.records.iter().map(|r| r.id).collect();
    let houses: Vec<House> = table.records.iter().map(|r| r.house.clone()).collect();
    let prices: Vec<f64> = table
        .records
        .iter()
        .map(|r| r.price.expect("priced row"))
        .collect();
    let mut bytes = Vec::new();
    dataset::write_csv(&mut bytes, &ids, &houses, Some(&prices)).expect("write to memory");
    let back = Table::read(bytes.as_slice()).expect("written table reads back");
    assert!(back.invalid.is_empty(), "{:?}", back.invalid.first());
    assert_eq!(back.records.len(), houses.len());
    for (record, (house, (id, price))) in back
        .records
        .iter()
        .zip(houses.iter().zip(ids.iter().zip(&prices)))
    {
        assert_eq!(&record.house, house, "row {id:?}");
        assert_eq!(record.id, *id);
        assert_eq!(record.price, Some(*price));
    }
}

#[test]
fn written_csv_reads_back_to_equal_houses() {
    let table = Table::read_path(std::path::Path::new(AMES_CSV)).expect("snapshot reads");
    assert_eq!(table.records.len(), 1460);
    round_trip(table);
}

#[test]
fn decock_tsv_written_as_kaggle_csv_reads_back_to_equal_houses() {
    let table = Table::read_path(std::path::Path::new(DECOCK_TSV)).expect("fixture reads");
    round_trip(table);
}

#[test]
fn unknown_price_is_written_as_na_and_reads_back_as_unpriced() {
    let houses = vec![House::default(), House::default()];
    let mut bytes = Vec::new();
    dataset::write_csv(
        &mut bytes,
        &[Some(7), Some(8)],
        &houses,
        Some(&[f64::NAN, 123_456.0]),
    )
    .expect("write to memory");
    let table = Table::read(bytes.as_slice()).expect("written table reads back");
    assert!(table.invalid.is_empty(), "{:?}", table.invalid.first());
    let prices: Vec<Option<f64>> = table.records.iter().map(|r| r.price).collect();
    assert_eq!(prices, vec![None, Some(123_456.0)]);
}
