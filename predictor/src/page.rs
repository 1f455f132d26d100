//! `GET /`: the web page an agent prices a house with, and its script, style sheet and icon.
//!
//! Everything is embedded in the binary at compile time: no CDN, no external fonts, so the page
//! works offline and on Lambda. The page builds its form from `GET /model` and posts to
//! `POST /predict`, both by relative URL (it also works under an API Gateway stage prefix).
//! Assets are served under content-hashed names (`/assets/app.<hash>.js`) that can be cached
//! forever; the page itself is revalidated on every load.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Only this origin's own script, style, images and API: no inline code, no other hosts.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The page: revalidated each time, so a new deployment is picked up at once.
const PAGE_CACHE_CONTROL: &str = "no-cache";
/// Assets under their hashed name never change.
const HASHED_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// Assets under their plain name may change with the next deployment.
const PLAIN_CACHE_CONTROL: &str = "public, max-age=300";

const INDEX_HTML: &str = include_str!("../assets/index.html");

/// One embedded file served under `/assets/`.
struct Asset {
    /// Plain name, e.g. `app.js`; the page refers to it as `{{app.js}}`.
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../assets/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../assets/app.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("../assets/icon.svg"),
    },
];

/// The page with its asset links and key fields filled in, and each asset's hashed name.
struct Rendered {
    index: String,
    hashed: Vec<String>,
}

static RENDERED: LazyLock<Rendered> = LazyLock::new(|| {
    let hashed: Vec<String> = ASSETS.iter().map(hashed_name).collect();
    let mut index = INDEX_HTML.replace("{{key-fields}}", &core_model::schema::KEY_FIELDS.join(","));
    for (asset, name) in ASSETS.iter().zip(&hashed) {
        // Relative, so the page works under a path prefix too.
        index = index.replace(
            &format!("{{{{{}}}}}", asset.name),
            &format!("assets/{name}"),
        );
    }
    Rendered { index, hashed }
});

/// `app.js` → `app.1a2b3c4d5e6f.js`, from a 64-bit FNV-1a hash of the content.
fn hashed_name(asset: &Asset) -> String {
    let hash = asset
        .body
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
    let short = format!("{hash:016x}");
    let short = short.get(..12).unwrap_or(&short);
    match asset.name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{short}.{extension}"),
        None => format!("{}.{short}", asset.name),
    }
}

/// The page's HTML, as served (asset links resolved).
pub fn index_html() -> &'static str {
    &RENDERED.index
}

/// Paths of the assets the page links to, relative to the page (`assets/app.<hash>.js`, …).
pub fn asset_paths() -> Vec<String> {
    RENDERED
        .hashed
        .iter()
        .map(|name| format!("assets/{name}"))
        .collect()
}

fn with_headers(
    body: &'static str,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `GET /`: the page.
pub async fn index() -> Response {
    with_headers(index_html(), "text/html; charset=utf-8", PAGE_CACHE_CONTROL)
}

/// `GET /assets/{file}`: the page's script, style sheet and icon, by hashed or plain name.
pub async fn asset(Path(file): Path<String>) -> Result<Response, ApiError> {
    for (asset, hashed) in ASSETS.iter().zip(&RENDERED.hashed) {
        if file == *hashed {
            return Ok(with_headers(
                asset.body,
                asset.content_type,
                HASHED_CACHE_CONTROL,
            ));
        }
        if file == asset.name {
            return Ok(with_headers(
                asset.body,
                asset.content_type,
                PLAIN_CACHE_CONTROL,
            ));
        }
    }
    let names: Vec<&str> = ASSETS.iter().map(|a| a.name).collect();
    Err(ApiError::NotFound(format!(
        "no asset {file:?}; assets: {}",
        names.join(", ")
    )))
}
