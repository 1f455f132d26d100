//! HTTP to an MLflow server: credentials, JSON bodies, and errors that name the call and
//! carry the server's own message.

use std::time::Duration;

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::super::error::{ErrorKind, TrackerError, TrackerResult};

/// How requests authenticate, as the MLflow client reads it from the environment.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>` (`MLFLOW_TRACKING_TOKEN`).
    Bearer(String),
    /// HTTP basic (`MLFLOW_TRACKING_USERNAME` / `MLFLOW_TRACKING_PASSWORD`).
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Bearer(_) => "Auth::Bearer(***)",
            Auth::Basic { .. } => "Auth::Basic(***)",
        })
    }
}

impl Auth {
    /// Reads MLflow's variables; a token wins over a user name and password.
    pub fn from_env() -> Auth {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        if let Some(token) = var("MLFLOW_TRACKING_TOKEN") {
            Auth::Bearer(token)
        } else if let Some(username) = var("MLFLOW_TRACKING_USERNAME") {
            Auth::Basic {
                username,
                password: var("MLFLOW_TRACKING_PASSWORD").unwrap_or_default(),
            }
        } else {
            Auth::None
        }
    }
}

/// A client bound to one server.
pub struct Http {
    client: reqwest::Client,
    base: Url,
    auth: Auth,
}

/// The error chain of a transport failure on one line ("connection refused" is deep inside).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

impl Http {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:5000`, maybe with a path).
    pub fn new(base: &str, auth: Auth) -> TrackerResult<Http> {
        let call = "open MLflow tracker";
        let mut base = Url::parse(base).map_err(|e| {
            TrackerError::new(
                call,
                ErrorKind::InvalidInput,
                format!("invalid URL {base:?}: {e}"),
            )
        })?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|e| TrackerError::new(call, ErrorKind::Server, chain(&e)))?;
        Ok(Http { client, base, auth })
    }

    /// The server's base URL, for messages.
    pub fn base(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `<base>/api/2.0/<area>/<segments…>`, each segment percent-encoded.
    pub fn url(&self, area: &str, segments: &[&str]) -> TrackerResult<Url> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                TrackerError::new(
                    "MLflow",
                    ErrorKind::InvalidInput,
                    format!("{} cannot be a base URL", self.base),
                )
            })?
            .pop_if_empty()
            .extend(["api", "2.0", area])
            .extend(segments);
        Ok(url)
    }

    fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let request = self.client.request(method, url);
        match &self.auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Basic { username, password } => request.basic_auth(username, Some(password)),
        }
    }

    /// Sends a request and turns transport failures and error statuses into tracker errors.
    async fn send(&self, call: &str, request: RequestBuilder) -> TrackerResult<Response> {
        let call = format!("MLflow {call}");
        let response = request.send().await.map_err(|e| {
            // No answer came back (refused, reset, timed out): the server is out of reach,
            // which is what sends a run to the outbox instead of losing it.
            let kind = if e.is_connect() || e.is_timeout() || e.is_request() {
                ErrorKind::Unreachable
            } else {
                ErrorKind::Server
            };
            TrackerError::new(
                &call,
                kind,
                format!("cannot reach {}: {}", self.base(), chain(&e)),
            )
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(server_error(&call, status, &body))
    }

    /// POSTs a JSON body to `/api/2.0/mlflow/<endpoint>` and reads the JSON answer.
    pub async fn post<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        body: &Value,
    ) -> TrackerResult<T> {
        self.json(Method::POST, endpoint, body).await
    }

    /// DELETE with a JSON body (MLflow reads DELETE parameters from the body).
    pub async fn delete(&self, endpoint: &str, body: &Value) -> TrackerResult<Value> {
        self.json(Method::DELETE, endpoint, body).await
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        endpoint: &str,
        body: &Value,
    ) -> TrackerResult<T> {
        let url = self.url("mlflow", &endpoint.split('/').collect::<Vec<_>>())?;
        let bytes = serde_json::to_vec(body).map_err(|e| {
            TrackerError::new(
                format!("MLflow {endpoint}"),
                ErrorKind::InvalidInput,
                e.to_string(),
            )
        })?;
        let request = self
            .request(method, url)
            .header(CONTENT_TYPE, "application/json")
            .body(bytes);
        let response = self.send(endpoint, request).await?;
        read_json(endpoint, response).await
    }

    /// GETs `/api/2.0/mlflow/<endpoint>?query` and reads the JSON answer.
    pub async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        query: &[(&str, &str)],
    ) -> TrackerResult<T> {
        let url = self.url("mlflow", &endpoint.split('/').collect::<Vec<_>>())?;
        let response = self
            .send(endpoint, self.request(Method::GET, url).query(query))
            .await?;
        read_json(endpoint, response).await
    }

    /// PUTs raw bytes (artifact upload through the server's proxy).
    pub async fn put_bytes(&self, call: &str, url: Url, bytes: Vec<u8>) -> TrackerResult<()> {
        let request = self
            .request(Method::PUT, url)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        self.send(call, request).await.map(drop)
    }

    /// GETs raw bytes (artifact download through the server's proxy).
    pub async fn get_bytes(&self, call: &str, url: Url) -> TrackerResult<Vec<u8>> {
        let response = self.send(call, self.request(Method::GET, url)).await?;
        response.bytes().await.map(|b| b.to_vec()).map_err(|e| {
            TrackerError::new(
                format!("MLflow {call}"),
                ErrorKind::Unreachable,
                format!("reading the body: {}", chain(&e)),
            )
        })
    }
}

async fn read_json<T: DeserializeOwned>(endpoint: &str, response: Response) -> TrackerResult<T> {
    let call = format!("MLflow {endpoint}");
    let bytes = response.bytes().await.map_err(|e| {
        TrackerError::new(
            &call,
            ErrorKind::Unreachable,
            format!("reading the answer: {}", chain(&e)),
        )
    })?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        let text = String::from_utf8_lossy(bytes);
        TrackerError::new(
            &call,
            ErrorKind::Protocol,
            format!(
                "unexpected answer ({e}): {}",
                text.chars().take(300).collect::<String>()
            ),
        )
    })
}

/// Reads MLflow's `{"error_code": …, "message": …}` body into an error of the right kind.
fn server_error(call: &str, status: StatusCode, body: &str) -> TrackerError {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let code = field("error_code").unwrap_or_default();
    let message = field("message").unwrap_or_else(|| {
        let text: String = body.trim().chars().take(300).collect();
        if text.is_empty() {
            "(no message)".to_string()
        } else {
            text
        }
    });
    let kind = match code.as_str() {
        "RESOURCE_DOES_NOT_EXIST" => ErrorKind::NotFound,
        "RESOURCE_ALREADY_EXISTS" => ErrorKind::AlreadyExists,
        "INVALID_PARAMETER_VALUE" | "BAD_REQUEST" | "INVALID_STATE" | "MALFORMED_REQUEST" => {
            ErrorKind::InvalidInput
        }
        "UNAUTHENTICATED" | "PERMISSION_DENIED" => ErrorKind::Unauthorized,
        _ => match status {
            // A proxy in front of a server that is down or restarting.
            StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => ErrorKind::Unreachable,
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ErrorKind::Unauthorized,
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            s if s.is_server_error() => ErrorKind::Server,
            _ => ErrorKind::InvalidInput,
        },
    };
    let code = if code.is_empty() {
        String::new()
    } else {
        format!(" {code}")
    };
    TrackerError::new(
        call,
        kind,
        format!("HTTP {}{code}: {message}", status.as_u16()),
    )
}
