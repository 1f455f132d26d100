//! `GET /` and its assets, in process: the page is HTML with a strict CSP, small, self-contained
//! (no other host), and every asset it links to is served.

#![allow(clippy::unwrap_used)]

mod support;

use crate::support::fixtures::app_state;
use crate::support::router::{Reply, call, get, post_json};
use crate::support::stores::NullStore;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use predictor::page::{CONTENT_SECURITY_POLICY, asset_paths, index_html};
use predictor::router;
use predictor::wire::{ErrorReply, PredictReply};

/// Largest page, with its script and style sheet, in bytes.
const PAGE_BUDGET: usize = 50 * 1024;

fn app() -> Router {
    router(app_state(NullStore))
}

fn header(reply: &Reply, name: header::HeaderName) -> &str {
    reply
        .headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Whether the HTML has an attribute like ` onclick=`.
fn has_inline_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(at, _)| {
        let rest = &html[at + 3..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        !name.is_empty() && rest[name.len()..].starts_with('=')
    })
}

fn text(reply: &Reply) -> String {
    String::from_utf8(reply.body.clone()).unwrap()
}

#[tokio::test]
async fn get_root_serves_the_page_as_html_with_a_strict_csp() {
    let reply = call(&app(), get("/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        header(&reply, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    let csp = header(&reply, header::CONTENT_SECURITY_POLICY);
    assert_eq!(csp, CONTENT_SECURITY_POLICY);
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    for directive in csp.split(';').map(str::trim) {
        let sources: Vec<&str> = directive.split_whitespace().skip(1).collect();
        assert!(
            sources.iter().all(|s| ["'self'", "'none'"].contains(s)),
            "CSP directive allows more than this origin: {directive}"
        );
    }
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(csp.contains("object-src 'none'"));
    assert_eq!(header(&reply, header::CACHE_CONTROL), "no-cache");
    assert_eq!(header(&reply, header::X_CONTENT_TYPE_OPTIONS), "nosniff");

    let html = text(&reply);
    assert_eq!(html, index_html());
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("name=\"viewport\""));
    assert!(!html.contains("{{"), "a placeholder was left in the page");
    // Inline code would be refused by the CSP.
    assert!(!html.contains("<style"));
    assert!(!html.contains(" style="));
    assert!(!html.contains("<script>"));
    assert!(!has_inline_handler(&html), "no inline event handlers");
    // The key fields come from the schema.
    assert!(html.contains("data-key-fields=\"Neighborhood,OverallQual,GrLivArea,YearBuilt"));
}

#[tokio::test]
async fn every_asset_is_served_with_its_type_and_long_caching() {
    let app = app();
    let paths = asset_paths();
    assert_eq!(paths.len(), 3);
    let html = index_html();
    for path in &paths {
        assert!(
            html.contains(path.as_str()),
            "the page does not link {path}"
        );
        let reply = call(&app, get(&format!("/{path}"))).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let expected = if path.ends_with(".js") {
            "text/javascript; charset=utf-8"
        } else if path.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "image/svg+xml"
        };
        assert_eq!(header(&reply, header::CONTENT_TYPE), expected, "{path}");
        assert!(header(&reply, header::CACHE_CONTROL).contains("immutable"));
        assert_eq!(header(&reply, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    }
    // Plain names work too, with short caching; anything else is a JSON 404.
    let reply = call(&app, get("/assets/app.js")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(header(&reply, header::CACHE_CONTROL), "public, max-age=300");
    let reply = call(&app, get("/assets/secret.txt")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.json()["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_page_with_its_script_and_style_is_under_50_kb() {
    let app = app();
    let mut total = call(&app, get("/")).await.body.len();
    for path in asset_paths() {
        total += call(&app, get(&format!("/{path}"))).await.body.len();
    }
    assert!(
        total <= PAGE_BUDGET,
        "page weight {total} bytes is over {PAGE_BUDGET}"
    );
}

#[tokio::test]
async fn the_page_refers_to_no_other_host() {
    let app = app();
    let mut sources = vec![("/".to_string(), text(&call(&app, get("/")).await))];
    for path in asset_paths() {
        let body = text(&call(&app, get(&format!("/{path}"))).await);
        sources.push((path, body));
    }
    for (path, body) in &sources {
        for needle in ["http://", "https://", "//cdn", "@import", "url("] {
            // The SVG's XML namespace is a name, not a request.
            let allowed = needle == "http://" && path.ends_with(".svg");
            assert!(
                allowed || !body.contains(needle),
                "{path} contains {needle:?}: the page must work offline"
            );
        }
        assert!(!body.contains("fonts.googleapis"), "{path}");
    }
    // Requests go to this API by relative path, so the page also works under a stage prefix.
    let script = &sources.iter().find(|(p, _)| p.ends_with(".js")).unwrap().1;
    assert!(script.contains("fetch('model'"));
    assert!(script.contains("fetch('predict'"));
}

#[tokio::test]
async fn other_methods_on_the_page_are_405_and_head_works() {
    let app = app();
    let reply = call(
        &app,
        Request::builder()
            .method(Method::POST)
            .uri("/")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.json()["error"]["code"], "method_not_allowed");
    let reply = call(
        &app,
        Request::builder()
            .method(Method::HEAD)
            .uri("/")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.body.is_empty());
}

#[tokio::test]
async fn the_404_message_lists_the_page() {
    let reply = call(&app(), get("/nowhere")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("GET /,"), "{message}");
}

/// The page's contract: the names its script reads are those of the typed replies. The Rust side
/// names each field, so renaming one in `predictor::wire` fails to compile here; the script side
/// is checked by name, so the page cannot keep reading a field that no longer exists.
#[tokio::test]
async fn the_page_reads_the_fields_of_the_typed_replies() {
    let app = app();
    let reply = call(
        &app,
        post_json(
            "/predict",
            r#"{"GrLivArea": 1710, "Neighborhood": "CollgCr"}"#,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let priced: PredictReply = serde_json::from_slice(&reply.body).expect("a typed /predict reply");
    let contribution = priced
        .explanation
        .contributions
        .first()
        .expect("a contribution");
    let comparable = priced.comparables.first().expect("a comparable");
    let read_by_the_page: [(&str, bool); 17] = [
        ("price", priced.price > 0.0),
        ("interval", true),
        ("low", priced.interval.low <= priced.price),
        ("high", priced.interval.high >= priced.price),
        ("level", priced.interval.level > 0.0),
        ("model", !priced.model.id.is_empty()),
        ("trained_at", !priced.model.trained_at.is_empty()),
        ("imputed", !priced.imputed.is_empty()),
        ("unknown_levels", priced.unknown_levels.is_empty()),
        ("stored", priced.stored),
        ("explanation", true),
        ("base_log", priced.explanation.base_log.is_finite()),
        ("contributions", !contribution.feature.is_empty()),
        ("percent", contribution.percent.is_finite()),
        ("comparables", comparable.sale_price > 0.0),
        ("adjusted_price", comparable.adjusted_price > 0.0),
        ("neighborhood", !comparable.neighborhood.is_empty()),
    ];
    let script = predictor::page::asset_paths()
        .into_iter()
        .find(|p| p.ends_with(".js"))
        .expect("the page links a script");
    let script = text(&call(&app, get(&format!("/{script}"))).await);
    for (name, holds) in read_by_the_page {
        assert!(holds, "{name} of the reply");
        assert!(
            script.contains(&format!(".{name}")),
            "the page no longer reads .{name}"
        );
    }

    let refused = call(&app, post_json("/predict", r#"{"GrLivArea": -1}"#)).await;
    let error: ErrorReply = serde_json::from_slice(&refused.body).expect("a typed error reply");
    assert_eq!(error.error.code, "invalid_input");
    assert!(!error.error.fields.is_empty() && !error.error.message.is_empty());
    for name in ["error", "message", "fields"] {
        assert!(
            script.contains(&format!(".{name}")),
            "the page no longer reads .{name}"
        );
    }
}
