//! Records as S3 objects.
//!
//! Every write is bounded in time, well inside the Lambda timeout: a stalled S3 (a connection
//! that is accepted and never answered) must not outlive the function, or the record would be
//! neither stored nor logged. When the bound is hit the put fails like any other, the reply says
//! `stored: false`, and the full record goes to the log.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use futures_util::future::BoxFuture;

use super::{PredictionStore, StoreError};

/// How long one record's write may take by default (retries included).
pub const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// An S3 bucket (and optional key prefix).
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    timeout: Duration,
}

impl S3Store {
    /// Stores into `bucket`, keys prefixed with `prefix` (may be empty).
    pub fn new(config: &aws_config::SdkConfig, bucket: &str, prefix: &str) -> Self {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(crate::aws::custom_endpoint())
            .timeout_config(
                aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_attempt_timeout(STORE_TIMEOUT / 2)
                    .operation_timeout(STORE_TIMEOUT)
                    .build(),
            )
            .build();
        Self::from_client(aws_sdk_s3::Client::from_conf(s3_config), bucket, prefix)
    }

    /// Stores through an already configured client (e.g. one pointed at a test endpoint).
    pub fn from_client(client: aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Self {
        let prefix = prefix.trim_matches('/');
        Self {
            client,
            bucket: bucket.to_string(),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}/")
            },
            timeout: STORE_TIMEOUT,
        }
    }

    /// Bounds each write to `timeout` (whatever the client's own settings).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl PredictionStore for S3Store {
    fn put<'a>(&'a self, key: &'a str, body: Vec<u8>) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let key = format!("{}{key}", self.prefix);
            let put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&key)
                .content_type("application/json")
                .body(ByteStream::from(body))
                .send();
            match tokio::time::timeout(self.timeout, put).await {
                Ok(result) => result.map(|_| ()).map_err(|e| StoreError::S3 {
                    url: format!("s3://{}/{key}", self.bucket),
                    reason: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
                }),
                Err(_) => Err(StoreError::Timeout {
                    url: format!("s3://{}/{key}", self.bucket),
                    seconds: self.timeout.as_secs_f64(),
                }),
            }
        })
    }

    fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}
