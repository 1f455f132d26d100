//! The prediction endpoint as the console calls it: plain HTTP locally, SigV4-signed on an API
//! whose prediction routes require AWS_IAM (`aws.api_auth = "iam"`).

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};

/// Why a call to the prediction endpoint did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The HTTP client could not be set up (TLS roots, for example).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// The request could not be built (a bad URL, a body that does not serialize).
    #[error("cannot build the request: {0}")]
    Request(#[source] reqwest::Error),
    /// Signing failed; `what` is the method and URL.
    #[error("{what}: {source}")]
    Sign {
        /// Method and URL.
        what: String,
        /// Why.
        source: SignError,
    },
    /// The request was sent but no answer came (connection refused, timeout, TLS).
    #[error("{what}: {source}")]
    Send {
        /// Method and URL.
        what: String,
        /// Why.
        source: reqwest::Error,
    },
}

/// Why a request could not be signed with SigV4.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The credential chain found nothing.
    #[error(
        "no AWS credentials to sign requests with: set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run `aws configure`"
    )]
    NoCredentials,
    /// No region from `--region`, the environment or the profile.
    #[error("no AWS region to sign requests for: pass --region or set AWS_REGION / aws.region")]
    NoRegion,
    /// The provider failed (an expired SSO session, a failing credential_process).
    #[error("cannot load AWS credentials to sign the request: {0}")]
    Credentials(String),
    /// Streaming bodies cannot be hashed before sending.
    #[error("cannot sign a streaming request body: send the body as bytes")]
    StreamingBody,
    /// The signer refused the request or produced an unusable header.
    #[error("cannot sign the request: {0}")]
    Signing(String),
}

#[cfg(feature = "aws")]
pub use sigv4::Signer;

/// HTTP client for the served model; signs its requests when the API requires it.
#[derive(Clone)]
pub struct Endpoint {
    http: reqwest::Client,
    #[cfg(feature = "aws")]
    signer: Option<Signer>,
}

impl Endpoint {
    /// An unsigned client (local target, or `api_auth = "none"`).
    pub fn plain() -> Result<Self, EndpointError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(EndpointError::Client)?;
        Ok(Self {
            http,
            #[cfg(feature = "aws")]
            signer: None,
        })
    }

    /// A client that signs every request with `signer` (API Gateway with IAM authorization).
    #[cfg(feature = "aws")]
    pub fn signed(signer: Signer) -> Result<Self, EndpointError> {
        let mut endpoint = Self::plain()?;
        endpoint.signer = Some(signer);
        Ok(endpoint)
    }

    /// Starts a request; send it with [`Endpoint::send`] so it gets signed.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// Builds, signs when configured, and sends; errors name the method and URL.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, EndpointError> {
        let request = request.build().map_err(EndpointError::Request)?;
        let what = format!("{} {}", request.method(), request.url());
        #[cfg(feature = "aws")]
        let request = match &self.signer {
            Some(signer) => signer
                .sign(request)
                .await
                .map_err(|source| EndpointError::Sign {
                    what: what.clone(),
                    source,
                })?,
            None => request,
        };
        self.http
            .execute(request)
            .await
            .map_err(|source| EndpointError::Send { what, source })
    }
}

#[cfg(feature = "aws")]
mod sigv4 {
    use std::time::SystemTime;

    use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4::SigningParams;
    use reqwest::header::{HeaderName, HeaderValue};

    use super::SignError;

    /// The service name API Gateway's execute-api endpoints are signed for.
    pub const SERVICE: &str = "execute-api";

    /// Signs requests with SigV4 for `execute-api` in one region.
    #[derive(Clone)]
    pub struct Signer {
        credentials: SharedCredentialsProvider,
        region: String,
    }

    impl Signer {
        /// Signs with credentials from `credentials` (resolved per request, so they refresh).
        pub fn new(credentials: SharedCredentialsProvider, region: impl Into<String>) -> Self {
            Self {
                credentials,
                region: region.into(),
            }
        }

        /// From the SDK configuration (credential chain, `--profile`, `--region`).
        pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Result<Self, SignError> {
            let credentials = sdk.credentials_provider().ok_or(SignError::NoCredentials)?;
            let region = sdk.region().ok_or(SignError::NoRegion)?;
            Ok(Self::new(credentials, region.to_string()))
        }

        /// Adds `Authorization`, `X-Amz-Date` (and the session token) to `request`.
        pub async fn sign(
            &self,
            mut request: reqwest::Request,
        ) -> Result<reqwest::Request, SignError> {
            let signing = |e: &dyn std::fmt::Display| SignError::Signing(e.to_string());
            let credentials = self
                .credentials
                .provide_credentials()
                .await
                .map_err(|e| SignError::Credentials(e.to_string()))?;
            let identity = credentials.into();
            let params = SigningParams::builder()
                .identity(&identity)
                .region(&self.region)
                .name(SERVICE)
                .time(SystemTime::now())
                .settings(SigningSettings::default())
                .build()
                .map_err(|e| signing(&e))?;
            let host = request
                .url()
                .host_str()
                .map(|host| match request.url().port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_string(),
                })
                .unwrap_or_default();
            let mut headers: Vec<(&str, &str)> = request
                .headers()
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
                .collect();
            if !request.headers().contains_key(reqwest::header::HOST) {
                headers.push(("host", host.as_str()));
            }
            let body = match request.body() {
                None => SignableBody::empty(),
                Some(body) => SignableBody::Bytes(body.as_bytes().ok_or(SignError::StreamingBody)?),
            };
            let signable = SignableRequest::new(
                request.method().as_str(),
                request.url().as_str(),
                headers.into_iter(),
                body,
            )
            .map_err(|e| signing(&e))?;
            let (instructions, _signature) = sign(signable, &params.into())
                .map_err(|e| signing(&e))?
                .into_parts();
            let (signed, _query) = instructions.into_parts();
            for header in signed {
                let name =
                    HeaderName::from_bytes(header.name().as_bytes()).map_err(|e| signing(&e))?;
                let value = HeaderValue::from_str(header.value())
                    .map_err(|e| SignError::Signing(format!("header {name}: {e}")))?;
                request.headers_mut().insert(name, value);
            }
            Ok(request)
        }
    }
}
