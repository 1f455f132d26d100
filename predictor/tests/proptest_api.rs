//! Whatever is POSTed to `/predict` and `/predict/batch` (arbitrary JSON values, house-like
//! objects with hostile values, arbitrary bytes), the API answers with a JSON body and a status
//! below 500, and never panics.

#![allow(clippy::unwrap_used)]

mod support;

use crate::support::fixtures::app_state;
use crate::support::router::{call, post_json};
use crate::support::stores::NullStore;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use core_model::schema::COLUMNS;
use predictor::router;
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Number, Value, json};

const CASES: u32 = 256;

fn config() -> Config {
    Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn app() -> Router {
    router(app_state(NullStore))
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter_map("finite", |x| Number::from_f64(x).map(Value::Number)),
        (-10_000.0..100_000.0f64)
            .prop_filter_map("finite", |x| Number::from_f64(x).map(Value::Number)),
        (0i64..3000).prop_map(|n| json!(n)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        ".{0,24}".prop_map(Value::String),
        Just(json!("NA")),
        Just(json!("")),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A field name: a real column (Kaggle or De Cock spelling), a near miss, or anything.
fn field_name() -> impl Strategy<Value = String> {
    let names: Vec<String> = COLUMNS
        .iter()
        .flat_map(|c| [c.name.to_string(), c.decock.to_string()])
        .chain(["Id".to_string(), "SalePrice".to_string()])
        .collect();
    prop_oneof![
        4 => prop::sample::select(names.clone()),
        1 => prop::sample::select(names).prop_map(|n| format!("{n}x")),
        1 => "[A-Za-z0-9 ]{0,16}",
    ]
}

/// A value for a house field: a documented level of some column, a number, or anything.
fn field_value() -> impl Strategy<Value = Value> {
    let levels: Vec<String> = COLUMNS
        .iter()
        .flat_map(|c| c.levels.iter().map(|l| l.code.to_string()))
        .collect();
    prop_oneof![
        2 => prop::sample::select(levels).prop_map(Value::String),
        3 => number(),
        1 => number().prop_map(|n| Value::String(n.to_string())),
        2 => leaf(),
        1 => any_json(),
    ]
}

fn house_like() -> impl Strategy<Value = Value> {
    prop::collection::vec((field_name(), field_value()), 0..40).prop_map(|fields| {
        let mut map = Map::new();
        for (name, value) in fields {
            map.insert(name, value);
        }
        Value::Object(map)
    })
}

fn batch_like() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::collection::vec(prop_oneof![3 => house_like(), 1 => any_json()], 0..12)
            .prop_map(|houses| json!({ "houses": houses })),
        1 => any_json().prop_map(|houses| json!({ "houses": houses })),
        1 => any_json(),
    ]
}

/// Text that is almost JSON, to reach the parser's corners (huge numbers, escapes, nesting).
fn json_ish_text() -> impl Strategy<Value = String> {
    prop_oneof![
        r#"[\[\]{}:,"0-9eE+\-. a-zA-Z\\u]{0,120}"#,
        "[0-9]{1,400}".prop_map(|digits| format!(r#"{{"GrLivArea": {digits}}}"#)),
        "[0-9]{1,5}".prop_map(|e| format!(r#"{{"GrLivArea": 1e{e}, "LotArea": -1e{e}}}"#)),
        (1usize..300).prop_map(|depth| format!("{}{}", "[".repeat(depth), "]".repeat(depth))),
    ]
}

fn check(runtime: &tokio::runtime::Runtime, app: &Router, request: Request<Body>) {
    let path = request.uri().path().to_string();
    let reply = runtime.block_on(call(app, request));
    assert!(
        reply.status.as_u16() < 500,
        "{path} answered {}: {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    let body: Value = serde_json::from_slice(&reply.body).unwrap_or_else(|e| {
        panic!(
            "{path} answered a non-JSON body ({e}): {}",
            String::from_utf8_lossy(&reply.body)
        )
    });
    if reply.status.is_success() {
        assert!(body.is_object());
    } else {
        assert!(body["error"]["code"].is_string(), "{body}");
    }
}

fn post_bytes(path: &str, bytes: Vec<u8>) -> Request<Body> {
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(bytes))
        .unwrap()
}

#[test]
fn arbitrary_json_values() {
    let (runtime, app) = (runtime(), app());
    proptest!(config(), |(value in any_json())| {
        for path in ["/predict", "/predict/batch"] {
            check(&runtime, &app, post_json(path, value.to_string()));
        }
    });
}

#[test]
fn house_like_objects_with_hostile_values() {
    let (runtime, app) = (runtime(), app());
    proptest!(config(), |(house in house_like())| {
        check(&runtime, &app, post_json("/predict", house.to_string()));
    });
}

#[test]
fn batch_like_documents() {
    let (runtime, app) = (runtime(), app());
    proptest!(config(), |(batch in batch_like())| {
        check(&runtime, &app, post_json("/predict/batch", batch.to_string()));
    });
}

#[test]
fn arbitrary_bytes() {
    let (runtime, app) = (runtime(), app());
    proptest!(config(), |(bytes in prop::collection::vec(any::<u8>(), 0..512))| {
        for path in ["/predict", "/predict/batch"] {
            check(&runtime, &app, post_bytes(path, bytes.clone()));
        }
    });
}

#[test]
fn almost_json_text() {
    let (runtime, app) = (runtime(), app());
    proptest!(config(), |(text in json_ish_text())| {
        for path in ["/predict", "/predict/batch"] {
            check(&runtime, &app, post_json(path, text.clone()));
        }
    });
}
